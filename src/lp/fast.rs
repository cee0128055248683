//! The walk's first try at a ball/box question: the dual least-norm solver ([`super::dual`]), with
//! certificates checked here. It answers only what it can prove, with the same thresholds as the
//! HiGHS path ([`super::meets`]), so the decision never depends on which path gave it:
//!
//! * **Meets**: the least-norm point of the polyhedron with every row (and the box) shifted in by
//!   [`WITNESS_SHIFT`] (then, failing that and the refutation below, by `4·DECIDE`), projected
//!   onto the equality, whose margin — recomputed from the constraints — exceeds [`DECIDE`] to
//!   every row, the box and the ball. Then the Chebyshev LP's optimum is above `DECIDE` too and
//!   the nearest point of the closure lies inside the ball by more than `DECIDE`: the HiGHS path
//!   says "meets".
//! * **Disjoint**, ball: a dual bound `min ½‖y‖² ≥ ½(1 + DECIDE)²` over the closure ∩ box. Then
//!   the distance QP of the HiGHS path finds at least `1 + DECIDE` (or its Chebyshev LP finds no
//!   interior): "disjoint".
//! * **Disjoint**, box: the polyhedron shifted in by `DECIDE` (rows and box) is empty, by a dual
//!   bound above the largest `½‖y‖²` of the shifted box or a Farkas ray. Then no point has slack
//!   `DECIDE` to everything, so the Chebyshev LP's optimum is at most `DECIDE`: "disjoint".
//!
//! Anything else (a sliver thinner than the shift, contact with the sphere, an iteration that
//! stalls) returns `None` and the caller asks HiGHS.

use super::dual::{Problem, Row};
use super::{margin, onto_hyperplane, Decision};
use crate::domain::{Domain, Halfspace};
use crate::tolerance::{DECIDE, THIN_WITNESS_SHIFT, WITNESS_SHIFT};

/// Multipliers that certified a "disjoint" answer: one per inequality, in the order asked, and one
/// for the equality. By weak duality they bound *any* question of the same shape, so the walk hands
/// them from a region to its neighbours, whose constraints mostly coincide with the region's, and
/// checks them there ([`refutes`]) before solving.
#[derive(Clone, Debug)]
pub struct Refutation {
    /// The equality's multiplier (free in sign; ignored without an equality).
    pub equality: f64,
    /// One nonnegative multiplier per inequality.
    pub inequalities: Vec<f64>,
}

/// Does `{h > 0 for h in inequalities} ∩ {equality = 0}` meet the open domain? `None` when no
/// certificate settles it; with "disjoint", the multipliers that prove it.
pub fn decide_by_dual(
    domain: &Domain,
    inequalities: &[&Halfspace],
    equality: Option<&Halfspace>,
) -> Option<(Decision, Option<Refutation>)> {
    // A deep witness first (it seeds the next region's witness); then the refutation; then a
    // witness barely inside, for facets thinner than WITNESS_SHIFT. "Meets" and "disjoint" exclude
    // each other (a witness has slack above DECIDE; a refutation proves no point has it), so the
    // order changes the work, not the answer: most facet candidates in many dimensions are absent,
    // and refuting before the thin witness saves them a solve.
    let deep = |shift: f64| {
        // A box narrower than twice the shift has no shifted witness.
        let solution = shifted_problem(domain, inequalities, equality, shift)?.solve();
        let found = witness(domain, inequalities, equality, solution.point);
        Some((found, solution.multipliers))
    };
    let tried = deep(WITNESS_SHIFT);
    if let Some((Some(decision), _)) = tried {
        return Some((decision, None));
    }
    if let Some((problem, threshold)) = refutation_problem(domain, inequalities, equality) {
        // The witness solve's multipliers first: its problem differs from this one only by the
        // shift, so when the polyhedron is absent they nearly always prove it (MNIST 10x10,
        // L-inf 0.01: 42,300 of 42,474 refutations), and checking them costs one evaluation
        // instead of a solve.
        let proved = |lambda: Vec<f64>| {
            beats(domain, problem.bound_at(&lambda), threshold).then(|| refutation(&problem, lambda))
        };
        if let Some(found) = tried.and_then(|(_, lambda)| proved(lambda)) {
            return Some((Decision::Disjoint, Some(found)));
        }
        let solution = problem.solve();
        if beats(domain, solution.lower_bound, threshold) {
            return Some((Decision::Disjoint, Some(refutation(&problem, solution.multipliers))));
        }
    }
    deep(THIN_WITNESS_SHIFT).and_then(|(found, _)| found).map(|decision| (decision, None))
}

/// The multipliers of `problem` (the equality's first, when it has one) as a [`Refutation`].
fn refutation(problem: &Problem, mut multipliers: Vec<f64>) -> Refutation {
    let equality = if problem.equality.is_some() { multipliers.remove(0) } else { 0.0 };
    Refutation { equality, inequalities: multipliers }
}

/// The position of the first of `refutations` whose multipliers prove this question "disjoint",
/// by the test [`decide_by_dual`] applies to its own: the decision is the same whichever found the
/// multipliers.
pub fn refutes(
    domain: &Domain,
    inequalities: &[&Halfspace],
    equality: Option<&Halfspace>,
    refutations: impl IntoIterator<Item = Refutation>,
) -> Option<usize> {
    let (problem, threshold) = refutation_problem(domain, inequalities, equality)?;
    refutations.into_iter().position(|refutation| {
        assert_eq!(refutation.inequalities.len(), inequalities.len(), "one multiplier per inequality");
        let lambda: Vec<f64> =
            equality.map(|_| refutation.equality).into_iter().chain(refutation.inequalities).collect();
        beats(domain, problem.bound_at(&lambda), threshold)
    })
}

/// The least-norm problem whose dual bound proves "disjoint", and the bound to beat: for a ball,
/// the closure (its least norm at least `½(1 + DECIDE)²`: the HiGHS path's distance QP finds
/// `1 + DECIDE` or more); for a box, the polyhedron shifted in by `DECIDE` (a least norm above the
/// largest `½‖y‖²` of the shrunk box: it is empty, so the Chebyshev LP's optimum is at most
/// `DECIDE`). `None` when the shrunk box is empty.
fn refutation_problem<'a>(
    domain: &Domain,
    inequalities: &[&'a Halfspace],
    equality: Option<&'a Halfspace>,
) -> Option<(Problem<'a>, f64)> {
    if domain.is_round() {
        let far = 0.5 * (1.0 + DECIDE) * (1.0 + DECIDE);
        Some((shifted_problem(domain, inequalities, equality, 0.0)?, far))
    } else {
        let largest: f64 = domain
            .lower()
            .iter()
            .zip(domain.upper())
            .map(|(l, u)| 0.5 * (l + DECIDE).powi(2).max((u - DECIDE).powi(2)))
            .sum();
        Some((shifted_problem(domain, inequalities, equality, DECIDE)?, largest))
    }
}

/// Whether a certified lower bound beats [`refutation_problem`]'s threshold.
fn beats(domain: &Domain, lower_bound: f64, threshold: f64) -> bool {
    if domain.is_round() {
        lower_bound >= threshold
    } else {
        lower_bound > threshold
    }
}

/// The least-norm problem with every row shifted to `h ≥ shift` and the box shrunk by `shift`.
/// `None` if the shrunk box is empty.
fn shifted_problem<'a>(
    domain: &Domain,
    inequalities: &[&'a Halfspace],
    equality: Option<&'a Halfspace>,
    shift: f64,
) -> Option<Problem<'a>> {
    let lower: Vec<f64> = domain.lower().iter().map(|l| l + shift).collect();
    let upper: Vec<f64> = domain.upper().iter().map(|u| u - shift).collect();
    if lower.iter().zip(&upper).any(|(l, u)| l >= u) {
        return None;
    }
    Some(Problem {
        equality: equality.map(|h| Row::shifted(h, 0.0)),
        inequalities: inequalities.iter().map(|h| Row::shifted(h, shift)).collect(),
        lower,
        upper,
    })
}

/// `Meets` if `point`, projected onto the equality's hyperplane, has margin above [`DECIDE`].
fn witness(
    domain: &Domain,
    inequalities: &[&Halfspace],
    equality: Option<&Halfspace>,
    mut point: Vec<f64>,
) -> Option<Decision> {
    if point.iter().any(|v| !v.is_finite()) {
        return None;
    }
    if equality.is_some_and(|e| !onto_hyperplane(&mut point, e)) {
        return None;
    }
    let slack = margin(domain, inequalities, &point);
    (slack > DECIDE).then_some(Decision::Meets { witness: point, slack })
}
