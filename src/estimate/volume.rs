//! Points that measure how a cut-tree node's volume splits between its children: first the
//! domain sample (classified once by a forward pass), then, once a node holds too few of them,
//! fresh points drawn inside the node by hit-and-run. The points only steer the probes' choices
//! (any positive probabilities keep the estimate unbiased), so they need not be exactly uniform.

use crate::domain::{gaussian, Domain, Halfspace};
use crate::tolerance::{ESTIMATE_HIT_AND_RUN_BURN, ESTIMATE_REFRESH_POINTS};
use crate::vector::dot;
use rand::Rng;

/// `ESTIMATE_REFRESH_POINTS` points of the polytope `rows ∩ domain` by hit-and-run from `start`
/// (a point strictly inside it), after `ESTIMATE_HIT_AND_RUN_BURN` steps; `None` when a chord is
/// unbounded (an unbounded domain has no volume to share).
pub(super) fn hit_and_run(
    domain: &Domain,
    rows: &[Halfspace],
    start: &[f64],
    rng: &mut impl Rng,
) -> Option<Vec<Vec<f64>>> {
    let n = start.len();
    let mut y = start.to_vec();
    let mut out = Vec::with_capacity(ESTIMATE_REFRESH_POINTS);
    for step in 0..ESTIMATE_HIT_AND_RUN_BURN + ESTIMATE_REFRESH_POINTS {
        let g: Vec<f64> = (0..n).map(|_| gaussian(rng)).collect();
        let (lo, hi) = chord(domain, rows, &y, &g);
        if !(lo.is_finite() && hi.is_finite()) {
            return None;
        }
        let t = rng.gen_range(lo..=hi);
        y.iter_mut().zip(&g).for_each(|(y, g)| *y += t * g);
        if step >= ESTIMATE_HIT_AND_RUN_BURN {
            out.push(y.clone());
        }
    }
    Some(out)
}

/// The interval of `t` with `y + t·g` inside the rows and the domain (`y` inside).
fn chord(domain: &Domain, rows: &[Halfspace], y: &[f64], g: &[f64]) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
    // `b + t·a > 0` with `b > 0`.
    let mut clip = |b: f64, a: f64| {
        if a > 0.0 {
            lo = lo.max(-b / a);
        } else if a < 0.0 {
            hi = hi.min(-b / a);
        }
    };
    for h in rows {
        clip(h.eval(y), dot(&h.normal, g));
    }
    for i in 0..y.len() {
        clip(y[i] - domain.lower()[i], g[i]);
        clip(domain.upper()[i] - y[i], -g[i]);
    }
    if domain.is_round() {
        // |y + t g|² < 1: between the roots of |g|² t² + 2 (y·g) t + |y|² − 1.
        let (a, b, c) = (dot(g, g), dot(y, g), dot(y, y) - 1.0);
        let root = (b * b - a * c).max(0.0).sqrt();
        lo = lo.max((-b - root) / a);
        hi = hi.min((-b + root) / a);
    }
    (lo, hi.max(lo))
}
