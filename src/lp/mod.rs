//! The solver layer. It answers one question: does an open polyhedron (optionally restricted to a
//! hyperplane) meet the open domain? Three ways, each certified:
//!
//! * [`decide_by_dual`] (the walk's first try): the least-norm point by a dual active-set method
//!   over the polyhedron's few rows ([`dual`]), with a checked witness or a checked dual bound; it
//!   answers only when a certificate holds, and agrees with [`meets`] wherever it answers.
//! * [`meets`] (the walk's fallback): a Chebyshev LP over the domain's polyhedral part, then, for a
//!   round domain whose LP centre is not already inside the ball, the exact distance QP from the
//!   centre to the polyhedron's closure (theory §2.1(c)).
//! * [`meets_by_cuts`] (used by the reference splitter): Kelley's tangent cutting planes on the
//!   sphere (theory §6.3), LPs only.
//!
//! [`backend`] is the only code that talks to HiGHS. Every "meets" carries a witness point strictly
//! inside polyhedron ∩ domain; every "disjoint" is certified by an LP or QP optimum up to
//! [`DECIDE`], or by a dual bound; contact with the sphere within [`DECIDE`] is reported as [`Decision::Touching`], which counts as not meeting (a tangent region has no interior
//! in the open ball) and is tallied so that users can see how close the call was.

use crate::domain::{Domain, Halfspace};
use crate::tolerance::{DECIDE, KELLEY_ROUNDS, ON_HYPERPLANE};
use crate::vector::dot;
use crate::Result;

mod backend;
pub mod dual;
mod fast;

use backend::nearest_point;
pub use backend::{minimise, RegionLp};
pub use fast::{decide_by_dual, refutes, Refutation};

/// The outcome of a ball/box test.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// The open polyhedron meets the open domain; `witness` (frame coordinates) lies strictly
    /// inside both, with at least `slack` frame units to every constraint and to the domain's edge.
    Meets {
        /// A point of polyhedron ∩ domain.
        witness: Vec<f64>,
        /// Its certified margin.
        slack: f64,
    },
    /// Certified: no interior point in common.
    Disjoint,
    /// The closure touches the domain's sphere within tolerance: not counted, but tallied.
    Touching,
}

/// Counters of solver work, summed over a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LpCounters {
    /// LP solves.
    pub lp_solves: u64,
    /// Of which re-solves of a loaded model from the previous basis ([`RegionLp`]).
    #[serde(default)]
    pub warm_solves: u64,
    /// QP solves (exact distances).
    pub qp_solves: u64,
    /// Questions put to the dual least-norm solver ([`decide_by_dual`]).
    #[serde(default)]
    pub dual_solves: u64,
    /// Of which it could not certify (then HiGHS answered).
    #[serde(default)]
    pub dual_fallbacks: u64,
    /// Facets refuted by a neighbouring region's dual multipliers, checked, without a solve
    /// ([`refutes`]).
    #[serde(default)]
    pub reused_refutations: u64,
    /// Decisions reported as touching the sphere.
    pub touching: u64,
}

impl LpCounters {
    /// Adds another set of counters.
    pub fn add(&mut self, other: &LpCounters) {
        self.lp_solves += other.lp_solves;
        self.warm_solves += other.warm_solves;
        self.qp_solves += other.qp_solves;
        self.dual_solves += other.dual_solves;
        self.dual_fallbacks += other.dual_fallbacks;
        self.reused_refutations += other.reused_refutations;
        self.touching += other.touching;
    }
}

/// Does `{y : h(y) > 0 for h in inequalities} ∩ {equality = 0}` meet the open domain?
/// Chebyshev LP, then the distance QP when the domain is a ball (falling back to cutting planes
/// in the rare cases where HiGHS's QP solver reports a solve error).
pub fn meets(
    domain: &Domain,
    inequalities: &[&Halfspace],
    equality: Option<&Halfspace>,
    counters: &mut LpCounters,
) -> Result<Decision> {
    let (mut lp, on) = load(domain, inequalities, equality)?;
    decide_in(&mut lp, domain, inequalities, equality, &[], on, counters)
}

/// A model of `inequalities` followed by `equality`, and the equality's row.
fn load(
    domain: &Domain,
    inequalities: &[&Halfspace],
    equality: Option<&Halfspace>,
) -> Result<(RegionLp, Option<usize>)> {
    let rows: Vec<&Halfspace> = inequalities.iter().copied().chain(equality).collect();
    Ok((RegionLp::load(domain, &rows)?, equality.map(|_| inequalities.len())))
}

/// [`meets`] in a loaded model (the walk keeps one per region): `lp` holds the rows of
/// `inequalities` and those in `relaxed`, which are dropped, and the row `on`, which is
/// `equality`.
pub fn decide_in(
    lp: &mut RegionLp,
    domain: &Domain,
    inequalities: &[&Halfspace],
    equality: Option<&Halfspace>,
    relaxed: &[usize],
    on: Option<usize>,
    counters: &mut LpCounters,
) -> Result<Decision> {
    let Some((centre, t)) = chebyshev(lp, domain, inequalities, equality, relaxed, on, counters)? else {
        return Ok(Decision::Disjoint);
    };
    if let Some(decision) = decide_without_ball(domain, &centre, t, counters) {
        return Ok(decision);
    }
    counters.qp_solves += 1;
    let Some(nearest) = nearest_point(domain, inequalities, equality)? else {
        // A model of its own: the cuts must not stay in the caller's.
        let (mut lp, on) = load(domain, inequalities, equality)?;
        return cut_until_decided(&mut lp, on, domain, inequalities, equality, centre, counters);
    };
    let distance = norm2(&nearest);
    if distance >= 1.0 + DECIDE {
        return Ok(Decision::Disjoint);
    }
    if distance > 1.0 - DECIDE {
        counters.touching += 1;
        return Ok(Decision::Touching);
    }
    // Points of the segment from the nearest point (in the ball) to the LP centre (deep inside the
    // polyhedron) lie in the relative interior; take one that is still inside the ball.
    let gap = norm2(&sub(&centre, &nearest));
    let lambda = if gap == 0.0 { 1.0 } else { (0.5 * (1.0 - distance) / gap).min(1.0) };
    let witness: Vec<f64> = nearest.iter().zip(&centre).map(|(q, c)| q + lambda * (c - q)).collect();
    let slack = margin(domain, inequalities, &witness);
    if slack > 0.0 {
        Ok(Decision::Meets { witness, slack })
    } else {
        counters.touching += 1;
        Ok(Decision::Touching)
    }
}

/// The Chebyshev LP's optimum `(y, t)`: `t` the least slack of `y` to the rows and the box, `None`
/// if no point has slack above −1. The model keeps the box in its column bounds
/// ([`RegionLp::chebyshev`]), so its point has slack above `DECIDE` to the rows but may sit on the
/// shrunk box; [`deepened`] steps it inwards and recomputes `t` from the constraints. Only where
/// that fails (the hyperplane of `equality` touching the shrunk box without entering it, or
/// rounding at the threshold) is the LP with box rows solved, and its optimum returned as it is.
fn chebyshev(
    lp: &mut RegionLp,
    domain: &Domain,
    inequalities: &[&Halfspace],
    equality: Option<&Halfspace>,
    relaxed: &[usize],
    on: Option<usize>,
    counters: &mut LpCounters,
) -> Result<Option<(Vec<f64>, f64)>> {
    let Some((y, t)) = lp.chebyshev(relaxed, on, counters)? else { return Ok(None) };
    if t <= DECIDE {
        return Ok(Some((y, t)));
    }
    if let Some(deeper) = deepened(domain, inequalities, equality, &y) {
        return Ok(Some(deeper));
    }
    lp.chebyshev_with_box_rows(relaxed, on, counters)
}

/// A point with slack above [`DECIDE`] to every row of `inequalities` and to the box, and on the
/// hyperplane of `equality`, from `y`, which has such slack to the rows and at least `DECIDE` (up
/// to the solver's tolerance) to the box: the middle of the steps towards the box's middle
/// (projected onto the hyperplane) that keep every slack above `DECIDE`. The point and its
/// recomputed slack, or `None` when no step does.
fn deepened(
    domain: &Domain,
    inequalities: &[&Halfspace],
    equality: Option<&Halfspace>,
    y: &[f64],
) -> Option<(Vec<f64>, f64)> {
    let (lower, upper) = (domain.lower(), domain.upper());
    let mut target: Vec<f64> = (0..y.len())
        .map(|i| match (lower[i].is_finite(), upper[i].is_finite()) {
            (true, true) => 0.5 * (lower[i] + upper[i]),
            (true, false) => y[i].max(lower[i] + 1.0),
            (false, true) => y[i].min(upper[i] - 1.0),
            (false, false) => y[i],
        })
        .collect();
    if let Some(e) = equality {
        onto_hyperplane(&mut target, e);
    }
    let step = sub(&target, y);
    // The step lengths θ that keep `value + θ·rate` above DECIDE for every slack.
    let mut steps = Interval { lo: 0.0, hi: 1.0 };
    for h in inequalities {
        steps.keep_above(h.eval(y), dot(&h.normal, &step), DECIDE);
    }
    for i in 0..y.len() {
        steps.keep_above(y[i] - lower[i], step[i], DECIDE);
        steps.keep_above(upper[i] - y[i], -step[i], DECIDE);
    }
    if steps.is_empty() {
        return None;
    }
    let theta = 0.5 * (steps.lo + steps.hi);
    let mut point: Vec<f64> = y.iter().zip(&step).map(|(p, d)| p + theta * d).collect();
    if equality.is_some_and(|e| !onto_hyperplane(&mut point, e)) {
        return None;
    }
    let slack = polyhedral_margin(domain, inequalities, &point);
    (slack > DECIDE).then_some((point, slack))
}

/// Moves `y` onto the hyperplane of `e` (a unit normal) along the normal; false if rounding leaves
/// it more than [`ON_HYPERPLANE`] off (then it is no witness on that hyperplane).
fn onto_hyperplane(y: &mut [f64], e: &Halfspace) -> bool {
    let off = e.eval(y);
    for (p, a) in y.iter_mut().zip(&e.normal) {
        *p -= off * a;
    }
    e.eval(y).abs() <= ON_HYPERPLANE
}

/// An interval of a line parameter (open; the solver layer's and the walk's line searches).
#[derive(Clone, Copy)]
pub(crate) struct Interval {
    pub(crate) lo: f64,
    pub(crate) hi: f64,
}

impl Interval {
    /// Keeps the parameters `s` with `value + rate·s > floor`.
    pub(crate) fn keep_above(&mut self, value: f64, rate: f64, floor: f64) {
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

    pub(crate) fn is_empty(&self) -> bool {
        self.lo.partial_cmp(&self.hi) != Some(std::cmp::Ordering::Less)
    }
}

/// The same question answered with LPs only, by Kelley's cutting planes on the sphere: an
/// independent path for cross-checking [`meets`].
pub fn meets_by_cuts(
    domain: &Domain,
    inequalities: &[&Halfspace],
    equality: Option<&Halfspace>,
    counters: &mut LpCounters,
) -> Result<Decision> {
    let (mut lp, on) = load(domain, inequalities, equality)?;
    let Some((point, t)) = chebyshev(&mut lp, domain, inequalities, equality, &[], on, counters)? else {
        return Ok(Decision::Disjoint);
    };
    match decide_without_ball(domain, &point, t, counters) {
        Some(decision) => Ok(decision),
        None => cut_until_decided(&mut lp, on, domain, inequalities, equality, point, counters),
    }
}

/// The decision when the Chebyshev LP alone settles it: no interior (`t ≤ DECIDE`), a polyhedral
/// domain, or an LP centre already inside the ball. `None` when the sphere must be looked at. An
/// inscribed radius in `(0, DECIDE]` is a sliver thinner than the decision margin: not counted,
/// but tallied as touching, so that reports show it.
fn decide_without_ball(domain: &Domain, centre: &[f64], t: f64, counters: &mut LpCounters) -> Option<Decision> {
    if t <= DECIDE {
        if t > 0.0 {
            counters.touching += 1;
            return Some(Decision::Touching);
        }
        return Some(Decision::Disjoint);
    }
    if !domain.is_round() {
        return Some(Decision::Meets { witness: centre.to_vec(), slack: t });
    }
    let norm = norm2(centre);
    (1.0 - norm > DECIDE).then(|| Decision::Meets { witness: centre.to_vec(), slack: t.min(1.0 - norm) })
}

/// Kelley's method (theory §6.3): add the sphere's tangent plane in the direction of the LP point
/// `point`, `u·y + t ≤ 1` (the constraint `1 − u·y > 0` with the others), and re-solve, until the
/// slack drops to zero or the point enters the ball. `lp` is [`load`]'s model, `on` its equality
/// row.
fn cut_until_decided(
    lp: &mut RegionLp,
    on: Option<usize>,
    domain: &Domain,
    inequalities: &[&Halfspace],
    equality: Option<&Halfspace>,
    mut point: Vec<f64>,
    counters: &mut LpCounters,
) -> Result<Decision> {
    let mut cuts: Vec<Halfspace> = Vec::new();
    for _ in 0..KELLEY_ROUNDS {
        let norm = norm2(&point);
        let cut = Halfspace { normal: point.iter().map(|p| -p / norm).collect(), offset: 1.0 };
        lp.add_constraint(&cut)?;
        cuts.push(cut);
        let rows: Vec<&Halfspace> = inequalities.iter().copied().chain(&cuts).collect();
        let Some((next, slack)) = chebyshev(lp, domain, &rows, equality, &[], on, counters)? else {
            return Ok(Decision::Disjoint);
        };
        if slack <= DECIDE {
            return Ok(Decision::Disjoint);
        }
        let norm = norm2(&next);
        if 1.0 - norm > DECIDE {
            return Ok(Decision::Meets { slack: slack.min(1.0 - norm), witness: next });
        }
        point = next;
    }
    counters.touching += 1;
    Ok(Decision::Touching)
}

/// Smallest margin of frame point `y` to the constraints and to the domain's edge.
pub fn margin(domain: &Domain, inequalities: &[&Halfspace], y: &[f64]) -> f64 {
    let m = polyhedral_margin(domain, inequalities, y);
    if domain.is_round() {
        m.min(1.0 - norm2(y))
    } else {
        m
    }
}

/// Smallest margin of frame point `y` to the constraints and to the domain's box.
fn polyhedral_margin(domain: &Domain, inequalities: &[&Halfspace], y: &[f64]) -> f64 {
    let mut m = f64::INFINITY;
    for h in inequalities {
        m = m.min(h.eval(y));
    }
    for ((yi, lo), hi) in y.iter().zip(domain.lower()).zip(domain.upper()) {
        m = m.min(yi - lo).min(hi - yi);
    }
    m
}

fn norm2(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn sub(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}
