//! The input set as the bound methods see it: a centre, an optional Euclidean ball and per-coordinate
//! box bounds (any of which may be absent), derived from a [`Domain`].

use crate::domain::Domain;
use crate::tolerance::ROUNDING;
use ndarray::Array1;

/// The domain in input coordinates.
#[derive(Clone, Debug)]
pub struct InputSet {
    /// Frame origin: the ball's centre, the box's midpoint or 0.
    pub center: Array1<f64>,
    /// Radius of the Euclidean ball around `center`, if the domain has one.
    pub ball: Option<f64>,
    /// Box bounds (infinite where unbounded).
    pub lower: Array1<f64>,
    /// See `lower`.
    pub upper: Array1<f64>,
}

impl InputSet {
    /// The set of a domain.
    pub fn new(domain: &Domain) -> Self {
        let s = domain.scale();
        let center = Array1::from(domain.origin().to_vec());
        let lower = Array1::from_iter(domain.lower().iter().zip(&center).map(|(l, c)| c + s * l));
        let upper = Array1::from_iter(domain.upper().iter().zip(&center).map(|(u, c)| c + s * u));
        InputSet { center, ball: domain.is_round().then_some(s), lower, upper }
    }

    /// Whether the set is bounded.
    pub fn is_bounded(&self) -> bool {
        self.ball.is_some() || self.lower.iter().chain(&self.upper).all(|v| v.is_finite())
    }

    /// Radius of a Euclidean ball around `center` that contains the set (the smallest such ball for
    /// a centred box; the ball itself for a ball). `None` if the set is unbounded.
    pub fn enclosing_radius(&self) -> Option<f64> {
        let reach: Vec<f64> =
            self.lower.iter().zip(&self.upper).zip(&self.center).map(|((l, u), c)| (c - l).max(u - c)).collect();
        let corner = reach.iter().all(|v| v.is_finite()).then(|| exact_norm_upper(&reach));
        match (self.ball, corner) {
            (Some(r), Some(c)) => Some(r.min(c)),
            (r, c) => r.or(c),
        }
    }

    /// A sound enclosure `[lo, hi]` of `a·x + beta` over the set: the tighter of the ball's and the
    /// box's exact ranges (their intersection contains the set), each widened for rounding by
    /// [`ROUNDING`] times the magnitude of its own terms (so exact zeros stay exact). `a` is given
    /// by its nonzero entries `(index, value)` (any superset of them), so that a convolution's
    /// sparse row costs its nonzeros, not the input dimension.
    pub fn affine_range(&self, a: impl Iterator<Item = (usize, f64)> + Clone, beta: f64) -> (f64, f64) {
        let (lo, hi) = match self.ball {
            Some(r) => ball_range(&self.center, r, a.clone(), beta),
            None => (f64::NEG_INFINITY, f64::INFINITY),
        };
        let (mut blo, mut bhi, mut mlo, mut mhi) = (beta, beta, beta.abs(), beta.abs());
        for (i, x) in a {
            if x == 0.0 {
                continue;
            }
            let (p, q) = (x * self.lower[i], x * self.upper[i]);
            blo += p.min(q);
            bhi += p.max(q);
            mlo += p.min(q).abs();
            mhi += p.max(q).abs();
        }
        (lo.max(blo - ROUNDING * mlo), hi.min(bhi + ROUNDING * mhi))
    }
}

/// A sound enclosure of `a·x + beta` over the ball `B(center, radius)`: `a·c + β ± r‖a‖`, widened
/// for rounding. When the widening alone makes a bound cross zero, the sign question is settled in
/// exact rational arithmetic (inputs are binary fractions), so that exact tangencies (theory §7,
/// F2f) are classified exactly: `min ≥ 0 ⇔ S ≥ 0 ∧ S² ≥ r²‖a‖²` with `S = a·c + β`. `a` is given
/// by its nonzero entries, as in [`InputSet::affine_range`].
pub fn ball_range(
    center: &Array1<f64>,
    radius: f64,
    a: impl Iterator<Item = (usize, f64)> + Clone,
    beta: f64,
) -> (f64, f64) {
    let at_center = a.clone().map(|(i, x)| x * center[i]).sum::<f64>() + beta;
    let reach = radius * a.clone().map(|(_, x)| x * x).sum::<f64>().sqrt();
    let mag = a.clone().map(|(i, x)| (x * center[i]).abs()).sum::<f64>() + beta.abs() + reach;
    let (mut lo, mut hi) = (at_center - reach - ROUNDING * mag, at_center + reach + ROUNDING * mag);
    let borderline_lo = lo < 0.0 && at_center - reach + ROUNDING * mag >= 0.0;
    let borderline_hi = hi > 0.0 && at_center + reach - ROUNDING * mag <= 0.0;
    if borderline_lo || borderline_hi {
        use num_rational::BigRational;
        use num_traits::Zero;
        let q = |v: f64| BigRational::from_float(v).expect("finite");
        let s = a.clone().fold(q(beta), |acc, (i, x)| acc + q(x) * q(center[i]));
        let t = a.fold(BigRational::zero(), |acc, (_, x)| acc + q(x) * q(x)) * q(radius) * q(radius);
        let clear = &s * &s >= t;
        if borderline_lo && clear && s >= BigRational::zero() {
            lo = 0.0;
        }
        if borderline_hi && clear && s <= BigRational::zero() {
            hi = 0.0;
        }
    }
    (lo, hi)
}

/// The smallest float `R ≥ ‖v‖₂`, checked in exact rational arithmetic (so that a 1-D or axis-aligned
/// radius stays exact instead of being inflated for safety).
fn exact_norm_upper(v: &[f64]) -> f64 {
    use num_rational::BigRational;
    use num_traits::Zero;
    let q = |x: f64| BigRational::from_float(x).expect("finite");
    let square = v.iter().fold(BigRational::zero(), |acc, x| acc + q(*x) * q(*x));
    let mut r = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    while q(r) * q(r) < square {
        r = r.next_up();
    }
    r
}
