//! The LP layer (with [`super::warm`], which keeps the walk's HiGHS instances between solves). It
//! answers one question, in two independent ways: does an open polyhedron (optionally restricted
//! to a hyperplane) meet the open domain?
//!
//! * [`meets`] (used by the walk): a Chebyshev LP over the domain's polyhedral part, then, for a
//!   round domain whose LP centre is not already inside the ball, the exact distance QP from the
//!   centre to the polyhedron's closure (theory §2.1(c)).
//! * [`meets_by_cuts`] (used by the reference splitter): Kelley's tangent cutting planes on the
//!   sphere (theory §6.3), LPs only.
//!
//! Every "meets" carries a witness point strictly inside polyhedron ∩ domain; every "disjoint" is
//! certified by an LP or QP optimum up to [`DECIDE`]; contact with the sphere within [`DECIDE`] is
//! reported as [`Decision::Touching`], which counts as not meeting (a tangent region has no interior
//! in the open ball) and is tallied so that users can see how close the call was.

use crate::domain::{Domain, Halfspace};
use crate::tolerance::{DECIDE, KELLEY_ROUNDS, SOLVER_FEASIBILITY, WHOLE_SPACE_SLACK_CAP};
use crate::{Error, Result};
use highs::{Col, HighsModelStatus, Model, RowProblem, Sense};

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
    /// Of which re-solves of a loaded model from the previous basis ([`super::warm::RegionLp`]).
    #[serde(default)]
    pub warm_solves: u64,
    /// QP solves (exact distances).
    pub qp_solves: u64,
    /// Decisions reported as touching the sphere.
    pub touching: u64,
}

impl LpCounters {
    /// Adds another set of counters.
    pub fn add(&mut self, other: &LpCounters) {
        self.lp_solves += other.lp_solves;
        self.warm_solves += other.warm_solves;
        self.qp_solves += other.qp_solves;
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
    let mut lp = SlackLp::build(domain, inequalities, equality);
    counters.lp_solves += 1;
    let chebyshev = lp.solve()?;
    settle(domain, inequalities, equality, chebyshev, counters)
}

/// [`meets`] once its Chebyshev LP is solved (`chebyshev`: the optimum `(y, t)`, `None` if
/// infeasible), however that LP was solved: the walk solves it in a warm model
/// ([`super::warm::RegionLp`]).
pub fn settle(
    domain: &Domain,
    inequalities: &[&Halfspace],
    equality: Option<&Halfspace>,
    chebyshev: Option<(Vec<f64>, f64)>,
    counters: &mut LpCounters,
) -> Result<Decision> {
    let Some((centre, t)) = chebyshev else { return Ok(Decision::Disjoint) };
    if let Some(decision) = decide_without_ball(domain, &centre, t) {
        return Ok(decision);
    }
    counters.qp_solves += 1;
    let Some(nearest) = super::warm::nearest_point(domain, inequalities, equality) else {
        return cut_until_decided(&mut SlackLp::build(domain, inequalities, equality), centre, counters);
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

/// The same question answered with LPs only, by Kelley's cutting planes on the sphere: an
/// independent path for cross-checking [`meets`].
pub fn meets_by_cuts(
    domain: &Domain,
    inequalities: &[&Halfspace],
    equality: Option<&Halfspace>,
    counters: &mut LpCounters,
) -> Result<Decision> {
    let mut lp = SlackLp::build(domain, inequalities, equality);
    counters.lp_solves += 1;
    let Some((point, t)) = lp.solve()? else { return Ok(Decision::Disjoint) };
    match decide_without_ball(domain, &point, t) {
        Some(decision) => Ok(decision),
        None => cut_until_decided(&mut lp, point, counters),
    }
}

/// The decision when the Chebyshev LP alone settles it: no interior (`t ≤ DECIDE`), a polyhedral
/// domain, or an LP centre already inside the ball. `None` when the sphere must be looked at.
fn decide_without_ball(domain: &Domain, centre: &[f64], t: f64) -> Option<Decision> {
    if t <= DECIDE {
        return Some(Decision::Disjoint);
    }
    if !domain.is_round() {
        return Some(Decision::Meets { witness: centre.to_vec(), slack: t });
    }
    let norm = norm2(centre);
    (1.0 - norm > DECIDE).then(|| Decision::Meets { witness: centre.to_vec(), slack: t.min(1.0 - norm) })
}

/// Kelley's method (theory §6.3): add the sphere's tangent plane in the direction of the LP point,
/// `u·y + t ≤ 1`, and re-solve, until the slack drops to zero or the point enters the ball.
fn cut_until_decided(lp: &mut SlackLp, mut point: Vec<f64>, counters: &mut LpCounters) -> Result<Decision> {
    for _ in 0..KELLEY_ROUNDS {
        let norm = norm2(&point);
        let cut: Vec<(Col, f64)> =
            lp.vars.iter().zip(&point).map(|(&c, p)| (c, p / norm)).chain([(lp.slack, 1.0)]).collect();
        lp.add_row(cut, f64::NEG_INFINITY, 1.0);
        counters.lp_solves += 1;
        let Some((next, slack)) = lp.solve()? else { return Ok(Decision::Disjoint) };
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
    let mut m = f64::INFINITY;
    for h in inequalities {
        m = m.min(h.eval(y));
    }
    for ((yi, lo), hi) in y.iter().zip(domain.lower()).zip(domain.upper()) {
        m = m.min(yi - lo).min(hi - yi);
    }
    if domain.is_round() {
        m = m.min(1.0 - norm2(y));
    }
    m
}

/// `max t` subject to `h(y) ≥ t` for every inequality, `y_i - lower_i ≥ t`, `upper_i - y_i ≥ t`,
/// the equality, and `t ≤ cap`: the largest ball inscribed in polyhedron ∩ box (theory §6.3, T1/T2).
struct SlackLp {
    model: Option<Model>,
    vars: Vec<Col>,
    slack: Col,
}

impl SlackLp {
    fn build(domain: &Domain, inequalities: &[&Halfspace], equality: Option<&Halfspace>) -> Self {
        let mut pb = RowProblem::default();
        let vars: Vec<Col> = (0..domain.dim()).map(|_| pb.add_column(0.0, ..=f64::INFINITY)).collect();
        let slack = pb.add_column(1.0, -1.0..=WHOLE_SPACE_SLACK_CAP);
        for h in inequalities {
            let row: Vec<(Col, f64)> =
                vars.iter().zip(&h.normal).map(|(&c, &a)| (c, a)).chain([(slack, -1.0)]).collect();
            pb.add_row(-h.offset.., row);
        }
        if let Some(h) = equality {
            let row: Vec<(Col, f64)> = vars.iter().zip(&h.normal).map(|(&c, &a)| (c, a)).collect();
            pb.add_row(-h.offset..=-h.offset, row);
        }
        for (i, &c) in vars.iter().enumerate() {
            if domain.lower()[i].is_finite() {
                pb.add_row(domain.lower()[i].., [(c, 1.0), (slack, -1.0)]);
            }
            if domain.upper()[i].is_finite() {
                pb.add_row(..=domain.upper()[i], [(c, 1.0), (slack, 1.0)]);
            }
        }
        let mut model = pb.optimise(Sense::Maximise);
        configure(&mut model);
        model.set_option("solver", "simplex");
        SlackLp { model: Some(model), vars, slack }
    }

    fn add_row(&mut self, row: Vec<(Col, f64)>, lower: f64, upper: f64) {
        self.model.as_mut().expect("model present between solves").add_row(lower..=upper, row);
    }

    /// The LP optimum `(y, t)`, or `None` if infeasible (the slack is bounded below by −1, so
    /// infeasibility certifies that no point has slack > −1, let alone > 0).
    fn solve(&mut self) -> Result<Option<(Vec<f64>, f64)>> {
        let solved = self
            .model
            .take()
            .expect("model present between solves")
            .try_solve()
            .map_err(|e| Error::Solver(format!("HiGHS LP run failed: {e:?}")))?;
        let status = solved.status();
        let result = match status {
            HighsModelStatus::Optimal => {
                let sol = solved.get_solution();
                let cols = sol.columns();
                Some((self.vars.iter().map(|c| cols[c.index()]).collect(), cols[self.slack.index()]))
            }
            HighsModelStatus::Infeasible => None,
            other => return Err(Error::Solver(format!("HiGHS LP ended with status {other:?}"))),
        };
        self.model = Some(Model::from(solved));
        Ok(result)
    }
}

fn configure(model: &mut Model) {
    model.make_quiet();
    model.set_option("threads", 1);
    model.set_option("presolve", "off");
    model.set_option("primal_feasibility_tolerance", SOLVER_FEASIBILITY);
    model.set_option("dual_feasibility_tolerance", SOLVER_FEASIBILITY);
}

fn norm2(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn sub(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

/// `min objective·y` over the closure of the polyhedron intersected with the domain's box (frame
/// coordinates); `None` if that set is empty. The value is a primal optimum: callers widen it by
/// the solver tolerance.
pub fn minimise(
    domain: &Domain,
    inequalities: &[&Halfspace],
    objective: &[f64],
    counters: &mut LpCounters,
) -> Result<Option<f64>> {
    let mut pb = RowProblem::default();
    let vars: Vec<Col> =
        objective.iter().enumerate().map(|(i, &c)| pb.add_column(c, domain.lower()[i]..=domain.upper()[i])).collect();
    for h in inequalities {
        pb.add_row(-h.offset.., vars.iter().zip(&h.normal).map(|(&c, &a)| (c, a)));
    }
    let mut model = pb.optimise(Sense::Minimise);
    configure(&mut model);
    counters.lp_solves += 1;
    let solved = model.try_solve().map_err(|e| Error::Solver(format!("HiGHS LP run failed: {e:?}")))?;
    match solved.status() {
        HighsModelStatus::Optimal => Ok(Some(solved.objective_value())),
        HighsModelStatus::Infeasible => Ok(None),
        other => Err(Error::Solver(format!("HiGHS range LP ended with status {other:?}"))),
    }
}
