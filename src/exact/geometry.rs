//! LP-free geometry for the walk: the facet test on a line (1- and 2-D inputs, where the facet
//! hyperplane is a point or a line and the test is interval arithmetic), and a witness stepped off
//! a facet into the region beyond it (any dimension), so that a region found through a facet needs
//! no LP of its own.
//!
//! Both answer with the same tolerance as the LP layer ([`DECIDE`]): a facet meets the domain when
//! some point of its hyperplane has slack above `DECIDE` to every other constraint and to the
//! domain's edge, exactly the condition that the Chebyshev LP of [`super::lp::meets`] tests.

use super::lp::{margin, Decision};
use crate::domain::{Domain, Halfspace};
use crate::tolerance::DECIDE;

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
    let mut interval = Interval::whole();
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
    (slack > 0.5 * DECIDE).then_some(Decision::Meets { witness, slack })
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

/// An open interval of the line parameter.
#[derive(Clone, Copy)]
struct Interval {
    lo: f64,
    hi: f64,
}

impl Interval {
    fn whole() -> Self {
        Interval { lo: f64::NEG_INFINITY, hi: f64::INFINITY }
    }

    /// Keeps the parameters `s` with `value + rate·s > floor`.
    fn keep_above(&mut self, value: f64, rate: f64, floor: f64) {
        let excess = value - floor;
        if rate == 0.0 {
            if excess <= 0.0 {
                self.hi = f64::NEG_INFINITY;
            }
        } else if rate > 0.0 {
            self.lo = self.lo.max(-excess / rate);
        } else {
            self.hi = self.hi.min(-excess / rate);
        }
    }

    fn is_empty(&self) -> bool {
        !(self.lo < self.hi)
    }

    /// A point inside: the middle, or one unit in from the finite end.
    fn middle(&self) -> f64 {
        match (self.lo.is_finite(), self.hi.is_finite()) {
            (true, true) => 0.5 * (self.lo + self.hi),
            (true, false) => self.lo + 1.0,
            (false, true) => self.hi - 1.0,
            (false, false) => 0.0,
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
