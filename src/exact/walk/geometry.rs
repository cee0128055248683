//! LP-free geometry for the walk: the facet test on a line (1- and 2-D inputs, where the facet
//! hyperplane is a point or a line and the test is interval arithmetic); a witness stepped off a
//! facet into the region beyond it (any dimension), so that a region found through a facet needs
//! no LP of its own; and two screens that drop candidate hyperplanes before any LP (a box from bound
//! propagation, and separation by a single other constraint).
//!
//! The first two answer with the same tolerance as the LP layer ([`DECIDE`]): a facet meets the domain when
//! some point of its hyperplane has slack above `DECIDE` to every other constraint and to the
//! domain's edge, exactly the condition that the Chebyshev LP of [`crate::lp::meets`] tests.

use crate::domain::{Domain, Halfspace};
use crate::lp::{margin, Decision, Interval};
use crate::tolerance::{DECIDE, LINE_REACH, LINE_WITNESS, SEPARATION};
use crate::vector::dot;

/// Does `{line = 0} ∩ {h > 0 for h in others}` meet the open domain in a relatively open set?
/// For 1- and 2-D frames only (the hyperplane is a point or a line, parametrised by one number).
/// The witness is the middle of the facet's segment (or a point of it, if unbounded). `None` when
/// rounding leaves the witness's margin below [`DECIDE`] (nearly parallel lines far out): the caller
/// then solves the LP.
pub fn facet_on_line(domain: &Domain, others: &[&Halfspace], line: &Halfspace) -> Option<Decision> {
    debug_assert!(domain.dim() <= 2, "facet_on_line is for 1- and 2-D inputs");
    // The line is {base + s·dir}: base is its point nearest the frame origin, dir a unit direction
    // (none in 1-D, where the "line" is a point).
    let base: Vec<f64> = line.normal.iter().map(|a| -a * line.offset).collect();
    let dir: Vec<f64> = match line.normal[..] {
        [a, b] => vec![-b, a],
        _ => vec![0.0; line.normal.len()],
    };
    let mut interval = Interval { lo: -LINE_REACH, hi: LINE_REACH };
    for h in others {
        interval.keep_above(h.eval(&base), dot(&h.normal, &dir), DECIDE);
    }
    for i in 0..domain.dim() {
        interval.keep_above(base[i] - domain.lower()[i], dir[i], DECIDE);
        interval.keep_above(domain.upper()[i] - base[i], -dir[i], DECIDE);
    }
    if interval.is_empty() {
        return Some(Decision::Disjoint);
    }
    if domain.is_round() {
        // |base + s·dir|² = |base|² + s² (base ⟂ dir, |dir| = 1 or dir = 0).
        let near = dot(&base, &base);
        let chord = |radius: f64| {
            let half = radius * radius - near;
            let half = if half > 0.0 { half.sqrt() } else { f64::NEG_INFINITY };
            let mut c = interval;
            c.lo = c.lo.max(-half);
            c.hi = c.hi.min(half);
            c
        };
        let inside = chord(1.0 - DECIDE);
        if inside.is_empty() {
            return Some(if chord(1.0 + DECIDE).is_empty() { Decision::Disjoint } else { Decision::Touching });
        }
        interval = inside;
    }
    let s = interval.middle();
    let witness: Vec<f64> = base.iter().zip(&dir).map(|(b, d)| b + s * d).collect();
    let slack = margin(domain, others, &witness);
    (slack > LINE_WITNESS).then_some(Decision::Meets { witness, slack })
}

/// A point strictly inside the region `{h > 0 for h in constraints}` ∩ domain, found by stepping
/// from `point` (on one of its facets, frame coordinates) along `direction` (into the region):
/// half of the longest step that stays inside, capped at 1. `None` when the point is not on the
/// region's closure or the step's margin does not exceed [`DECIDE`] (the caller then solves an LP).
pub fn witness_beside(
    domain: &Domain,
    constraints: &[&Halfspace],
    point: &[f64],
    direction: &[f64],
) -> Option<(Vec<f64>, f64)> {
    let mut reach = 2.0_f64;
    let mut limit = |value: f64, rate: f64| {
        if rate < 0.0 {
            reach = reach.min(value.max(0.0) / -rate);
        }
    };
    for h in constraints {
        limit(h.eval(point), dot(&h.normal, direction));
    }
    for i in 0..domain.dim() {
        limit(point[i] - domain.lower()[i], direction[i]);
        limit(domain.upper()[i] - point[i], -direction[i]);
    }
    if domain.is_round() {
        // |p + τd|² < 1 for τ below the positive root of |d|²τ² + 2(p·d)τ + |p|² − 1.
        let (a, b, c) = (dot(direction, direction), dot(point, direction), dot(point, point) - 1.0);
        let disc = b * b - a * c;
        if a > 0.0 && disc > 0.0 {
            reach = reach.min(((-b + disc.sqrt()) / a).max(0.0));
        }
    }
    let step = 0.5 * reach;
    let witness: Vec<f64> = point.iter().zip(direction).map(|(p, d)| p + step * d).collect();
    let slack = margin(domain, constraints, &witness);
    (slack > DECIDE).then_some((witness, slack))
}

impl Interval {
    /// A point inside: the middle, or, where the interval runs to the reach, at most one unit in
    /// from its other end (so that witnesses stay near the region's vertices).
    fn middle(&self) -> f64 {
        let middle = 0.5 * (self.lo + self.hi);
        match (self.lo <= -LINE_REACH, self.hi >= LINE_REACH) {
            (true, true) => 0.0,
            (false, true) => middle.min(self.lo + 1.0),
            (true, false) => middle.max(self.hi - 1.0),
            (false, false) => middle,
        }
    }
}

/// A box containing region ∩ domain (frame coordinates), by bound propagation: each constraint
/// `n·y + o ≥ 0` gives every coordinate a bound from the others' current ranges, repeated for a
/// few rounds. Weaker than the LP bounding box but free; widened by `slack` for rounding.
pub fn propagated_box(domain: &Domain, constraints: &[&Halfspace], slack: f64) -> (Vec<f64>, Vec<f64>) {
    let (mut lo, mut hi) = (domain.lower().to_vec(), domain.upper().to_vec());
    let mut share = vec![0.0; lo.len()];
    for _ in 0..PROPAGATION_ROUNDS {
        let mut moved = false;
        for g in constraints {
            // Largest value of g over the box, and each coordinate's share of it.
            for (i, s) in share.iter_mut().enumerate() {
                *s = (g.normal[i] * lo[i]).max(g.normal[i] * hi[i]);
            }
            let top: f64 = g.offset + share.iter().sum::<f64>();
            if !top.is_finite() {
                continue;
            }
            for i in 0..lo.len() {
                let a = g.normal[i];
                if a == 0.0 {
                    continue;
                }
                // a·y_i ≥ −(top − share_i).
                let limit = -(top - share[i]) / a;
                if a > 0.0 && limit > lo[i] + slack {
                    (lo[i], moved) = (limit, true);
                } else if a < 0.0 && limit < hi[i] - slack {
                    (hi[i], moved) = (limit, true);
                }
            }
        }
        if !moved {
            break;
        }
    }
    for (l, h) in lo.iter_mut().zip(hi.iter_mut()) {
        (*l, *h) = (*l - slack, *h + slack);
    }
    (lo, hi)
}

/// Rounds of [`propagated_box`].
const PROPAGATION_ROUNDS: usize = 8;

/// Inputs up to which [`separated`] also tests the box: it costs O(n log n) per pair.
const SEPARATION_BOX_MAX_DIM: usize = 64;

/// Whether [`separated`] can prove anything: in a ball always, in a box up to
/// [`SEPARATION_BOX_MAX_DIM`] inputs (beyond, it would only spend O(n) per pair to say no).
pub fn separation_applies(round: bool, dim: usize) -> bool {
    round || dim <= SEPARATION_BOX_MAX_DIM
}

/// True if constraint `g` alone keeps hyperplane `h` away from `{g ≥ 0}` inside the ball (if
/// `round`) and the box `[lower, upper]`: then `h` bounds no facet of a region that lies in
/// `g > 0`. An LP-free screen before the facet tests: exact for the ball (the largest value of `g`
/// on the hyperplane's disc) and for the box (Lagrangian duality with one equality). `kinks` is
/// scratch space.
pub fn separated(
    round: bool,
    lower: &[f64],
    upper: &[f64],
    g: &Halfspace,
    h: &Halfspace,
    kinks: &mut Vec<(f64, f64)>,
) -> bool {
    let margin = SEPARATION * (1.0 + g.offset.abs() + h.offset.abs());
    let cos = dot(&g.normal, &h.normal);
    if round && h.offset.abs() < 1.0 {
        // On {h = 0} ∩ ball: centre −o_h·n_h, radius √(1 − o_h²); g rises at most |n_g − cos·n_h|.
        let centre_value = g.offset - h.offset * cos;
        let reach = (1.0 - h.offset * h.offset).sqrt() * (1.0 - cos * cos).max(0.0).sqrt();
        if centre_value + reach < -margin {
            return true;
        }
    }
    let boxed = lower.len() <= SEPARATION_BOX_MAX_DIM && lower.iter().chain(upper).all(|v| v.is_finite());
    boxed && box_dual_bound(lower, upper, g, h, kinks) < -margin
}

/// `min over λ of f(λ) = o_g − λ·o_h + Σ_i max over y_i ∈ [lower_i, upper_i] of (n_g,i − λ n_h,i) y_i`,
/// an upper bound on `g` over `{h = 0}` ∩ box for every λ (and equal to its maximum, by LP
/// duality). `f` is convex and piecewise linear with a kink at each breakpoint `n_g,i / n_h,i`,
/// where its slope rises by `|n_h,i|·(upper_i − lower_i)`; the minimum is at the breakpoint where
/// the slope turns nonnegative (or at the last one), found by sorting: O(n log n) instead of
/// evaluating `f` at every breakpoint, O(n²). `λ = 0` is evaluated too, as a floor for rounding.
fn box_dual_bound(lower: &[f64], upper: &[f64], g: &Halfspace, h: &Halfspace, kinks: &mut Vec<(f64, f64)>) -> f64 {
    let f = |lambda: f64| {
        let mut v = g.offset - lambda * h.offset;
        for i in 0..lower.len() {
            let c = g.normal[i] - lambda * h.normal[i];
            v += (c * lower[i]).max(c * upper[i]);
        }
        v
    };
    kinks.clear();
    // The slope far left, where each c_i has the sign of n_h,i.
    let mut slope = -h.offset;
    for i in 0..lower.len() {
        let a = h.normal[i];
        if a != 0.0 {
            kinks.push((g.normal[i] / a, a.abs() * (upper[i] - lower[i])));
            slope -= (a * lower[i]).max(a * upper[i]);
        }
    }
    kinks.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut best = kinks.last().map(|k| k.0);
    for &(at, rise) in kinks.iter() {
        slope += rise;
        if slope >= 0.0 {
            best = Some(at);
            break;
        }
    }
    best.map_or(f(0.0), |at| f(0.0).min(f(at)))
}
