//! The walk's first try at a ball/box question: the dual least-norm solver ([`super::dual`]), with
//! certificates checked here. It answers only what it can prove, with the same thresholds as the
//! HiGHS path ([`super::meets`]), so the decision never depends on which path gave it:
//!
//! * **Meets**: the least-norm point of the polyhedron with every row (and the box) shifted in by
//!   [`WITNESS_SHIFT`] (then, failing that, by `4·DECIDE`), projected onto the equality, whose
//!   margin — recomputed from the constraints — exceeds [`DECIDE`] to every row, the box and the
//!   ball. Then the Chebyshev LP's optimum is
//!   above `DECIDE` too and the nearest point of the closure lies inside the ball by more than
//!   `DECIDE`: the HiGHS path says "meets".
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
use super::{margin, Decision};
use crate::domain::{Domain, Halfspace};
use crate::tolerance::{DECIDE, WITNESS_SHIFT};

/// Does `{h > 0 for h in inequalities} ∩ {equality = 0}` meet the open domain? `None` when no
/// certificate settles it.
pub fn decide_by_dual(domain: &Domain, inequalities: &[&Halfspace], equality: Option<&Halfspace>) -> Option<Decision> {
    // A deep witness first (it seeds the next region's witness); then one barely inside, for
    // facets thinner than WITNESS_SHIFT.
    for shift in [WITNESS_SHIFT, 4.0 * DECIDE] {
        // A box narrower than twice the shift has no shifted witness; try the smaller shift.
        let Some(shifted) = least_norm(domain, inequalities, equality, shift) else { continue };
        if let Some(decision) = witness(domain, inequalities, equality, shifted.point) {
            return Some(decision);
        }
    }
    if domain.is_round() {
        let closure = least_norm(domain, inequalities, equality, 0.0)?;
        let far = 0.5 * (1.0 + DECIDE) * (1.0 + DECIDE);
        (closure.lower_bound >= far).then_some(Decision::Disjoint)
    } else {
        let thin = least_norm(domain, inequalities, equality, DECIDE)?;
        let largest: f64 = domain
            .lower()
            .iter()
            .zip(domain.upper())
            .map(|(l, u)| 0.5 * (l + DECIDE).powi(2).max((u - DECIDE).powi(2)))
            .sum();
        (thin.lower_bound > largest).then_some(Decision::Disjoint)
    }
}

/// The least-norm problem with every row shifted to `h ≥ shift` and the box shrunk by `shift`.
/// `None` if the shrunk box is empty.
fn least_norm(
    domain: &Domain,
    inequalities: &[&Halfspace],
    equality: Option<&Halfspace>,
    shift: f64,
) -> Option<super::dual::Solution> {
    let lower: Vec<f64> = domain.lower().iter().map(|l| l + shift).collect();
    let upper: Vec<f64> = domain.upper().iter().map(|u| u - shift).collect();
    if lower.iter().zip(&upper).any(|(l, u)| l >= u) {
        return None;
    }
    let problem = Problem {
        equality: equality.map(|h| Row::shifted(h, 0.0)),
        inequalities: inequalities.iter().map(|h| Row::shifted(h, shift)).collect(),
        lower,
        upper,
    };
    Some(problem.solve())
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
    if let Some(e) = equality {
        let off = e.eval(&point);
        for (p, a) in point.iter_mut().zip(&e.normal) {
            *p -= off * a;
        }
        if e.eval(&point).abs() > DECIDE * 1e-3 {
            return None;
        }
    }
    let slack = margin(domain, inequalities, &point);
    (slack > DECIDE).then_some(Decision::Meets { witness: point, slack })
}
