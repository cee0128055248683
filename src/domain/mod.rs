//! The neighbourhood in which regions are counted: an L2 ball, an L-inf ball, a box, their
//! intersection with the model's input box, or the whole input space.
//!
//! A domain carries a *frame*: an origin (the ball's centre, the box's midpoint, or 0) and a scale
//! (the radius, the largest half-width, or 1). The LP layer works in frame coordinates
//! `y = (x - origin) / scale`, so that its tolerances are fractions of the domain's size.

use crate::{Error, Result};
use rand::Rng;

/// Which norm a ball is taken in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// Euclidean ball `‖x - c‖₂ < r` (the default, and the paper's "sphere").
    L2,
    /// Cube `‖x - c‖∞ < r`.
    Linf,
}

impl std::str::FromStr for Norm {
    type Err = Error;

    /// `l2`, or `linf` (also `l-inf`, `inf`), in any case.
    fn from_str(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "l2" => Ok(Norm::L2),
            "linf" | "l-inf" | "inf" => Ok(Norm::Linf),
            _ => Err(Error::Settings(format!("unknown norm '{name}' (use 'l2' or 'linf')"))),
        }
    }
}

/// The domain exactly as the user gave it (before any rounding into the frame), for exact checks.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// `‖x - center‖ < radius` in the given norm.
    Ball {
        /// Centre.
        center: Vec<f64>,
        /// Radius.
        radius: f64,
        /// Norm.
        norm: Norm,
    },
    /// `lower < x < upper`.
    Box {
        /// Lower bounds.
        lower: Vec<f64>,
        /// Upper bounds.
        upper: Vec<f64>,
    },
    /// The whole input space.
    Whole,
}

/// An open convex domain: optional box bounds intersected with an optional Euclidean ball.
#[derive(Clone, Debug)]
pub struct Domain {
    /// The user's description, and the clip box if any.
    shape: Shape,
    clip: Option<(Vec<f64>, Vec<f64>)>,
    origin: Vec<f64>,
    scale: f64,
    /// Box bounds in frame coordinates (infinite where unbounded).
    lower: Vec<f64>,
    upper: Vec<f64>,
    /// Whether the open unit ball of the frame is part of the domain.
    round: bool,
}

/// A constraint `normal · y + offset > 0` in frame coordinates with a unit normal.
#[derive(Clone, Debug, PartialEq)]
pub struct Halfspace {
    /// Unit normal.
    pub normal: Vec<f64>,
    /// Offset.
    pub offset: f64,
}

impl Halfspace {
    /// Value of `normal · y + offset`: the signed distance of `y` to the hyperplane.
    pub fn eval(&self, y: &[f64]) -> f64 {
        crate::vector::dot(&self.normal, y) + self.offset
    }

    /// The other side of the same hyperplane.
    pub fn negated(&self) -> Halfspace {
        Halfspace { normal: self.normal.iter().map(|v| -v).collect(), offset: -self.offset }
    }
}

impl Domain {
    /// The open ball `B(center, radius)` in the given norm.
    pub fn ball(center: &[f64], radius: f64, norm: Norm) -> Result<Self> {
        check_finite(center, "centre")?;
        if !(radius.is_finite() && radius > 0.0) {
            return Err(Error::Domain(format!("the radius must be a positive finite number, got {radius}")));
        }
        let d = center.len();
        Ok(Domain {
            shape: Shape::Ball { center: center.to_vec(), radius, norm },
            clip: None,
            origin: center.to_vec(),
            scale: radius,
            lower: vec![-1.0; d],
            upper: vec![1.0; d],
            round: norm == Norm::L2 && d > 1,
        })
    }

    /// The open box `lower < x < upper` (coordinates may be unbounded on one side, not both).
    pub fn boxed(lower: &[f64], upper: &[f64]) -> Result<Self> {
        if lower.len() != upper.len() || lower.is_empty() {
            return Err(Error::Domain(format!(
                "box bounds have {} lower and {} upper values",
                lower.len(),
                upper.len()
            )));
        }
        for i in 0..lower.len() {
            if !(lower[i].is_finite() && upper[i].is_finite()) || lower[i] >= upper[i] {
                return Err(Error::Domain(format!(
                    "box coordinate {i}: [{}, {}] is not a finite non-empty interval",
                    lower[i], upper[i]
                )));
            }
        }
        let origin: Vec<f64> = lower.iter().zip(upper).map(|(l, u)| 0.5 * (l + u)).collect();
        let scale = lower.iter().zip(upper).map(|(l, u)| 0.5 * (u - l)).fold(0.0, f64::max);
        let frame = |v: &[f64]| v.iter().zip(&origin).map(|(x, o)| (x - o) / scale).collect();
        Ok(Domain {
            shape: Shape::Box { lower: lower.to_vec(), upper: upper.to_vec() },
            clip: None,
            lower: frame(lower),
            upper: frame(upper),
            origin,
            scale,
            round: false,
        })
    }

    /// The whole input space `R^dim`.
    pub fn whole(dim: usize) -> Self {
        Domain {
            shape: Shape::Whole,
            clip: None,
            origin: vec![0.0; dim],
            scale: 1.0,
            lower: vec![f64::NEG_INFINITY; dim],
            upper: vec![f64::INFINITY; dim],
            round: false,
        }
    }

    /// This domain intersected with the box `lower ≤ x ≤ upper` (e.g. the model's input box).
    pub fn clipped(mut self, lower: &[f64], upper: &[f64]) -> Result<Self> {
        if lower.len() != self.dim() || upper.len() != self.dim() {
            return Err(Error::Domain(format!(
                "clip box has {} bounds, the domain has dimension {}",
                lower.len(),
                self.dim()
            )));
        }
        for i in 0..self.dim() {
            self.lower[i] = self.lower[i].max((lower[i] - self.origin[i]) / self.scale);
            self.upper[i] = self.upper[i].min((upper[i] - self.origin[i]) / self.scale);
            if self.lower[i] >= self.upper[i] {
                return Err(Error::Domain(format!("the clip box does not meet the domain in coordinate {i}")));
            }
        }
        self.clip = Some((lower.to_vec(), upper.to_vec()));
        Ok(self)
    }

    /// The domain as the user described it.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The clip box (e.g. the model's input box), if any.
    pub fn clip(&self) -> Option<&(Vec<f64>, Vec<f64>)> {
        self.clip.as_ref()
    }

    /// Whether `x` lies strictly inside the domain, decided in exact rational arithmetic on the
    /// user's own numbers (no frame rounding).
    pub fn contains_exactly(&self, x: &[f64]) -> bool {
        use num_rational::BigRational;
        use num_traits::{Signed, Zero};
        let q = |v: f64| BigRational::from_float(v).expect("finite");
        let in_box = |lo: &[f64], hi: &[f64]| x.iter().zip(lo.iter().zip(hi)).all(|(v, (l, h))| l < v && v < h);
        let shape_ok = match &self.shape {
            Shape::Whole => true,
            Shape::Box { lower, upper } => in_box(lower, upper),
            Shape::Ball { center, radius, norm: Norm::Linf } => {
                x.iter().zip(center).all(|(v, c)| (q(*v) - q(*c)).abs() < q(*radius))
            }
            Shape::Ball { center, radius, norm: Norm::L2 } => {
                let d2 = x.iter().zip(center).fold(BigRational::zero(), |acc, (v, c)| {
                    let d = q(*v) - q(*c);
                    acc + &d * &d
                });
                d2 < q(*radius) * q(*radius)
            }
        };
        shape_ok && self.clip.as_ref().is_none_or(|(lo, hi)| in_box(lo, hi))
    }

    /// Input dimension.
    pub fn dim(&self) -> usize {
        self.origin.len()
    }

    /// The frame origin (ball centre, box midpoint, or 0).
    pub fn origin(&self) -> &[f64] {
        &self.origin
    }

    /// The frame scale (radius, largest box half-width, or 1).
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Whether the domain includes a Euclidean ball constraint (the unit ball of the frame).
    pub fn is_round(&self) -> bool {
        self.round
    }

    /// Lower box bounds, frame coordinates.
    pub fn lower(&self) -> &[f64] {
        &self.lower
    }

    /// Upper box bounds, frame coordinates.
    pub fn upper(&self) -> &[f64] {
        &self.upper
    }

    /// Whether every coordinate is bounded (false only for the whole space or half-open boxes).
    pub fn is_bounded(&self) -> bool {
        self.round || self.lower.iter().chain(&self.upper).all(|v| v.is_finite())
    }

    /// Input coordinates of frame point `y`.
    pub fn from_frame(&self, y: &[f64]) -> Vec<f64> {
        y.iter().zip(&self.origin).map(|(y, o)| o + self.scale * y).collect()
    }

    /// The constraint `a·x + β > 0` in frame coordinates, or `None` if `a = 0`.
    pub fn halfspace(&self, a: impl IntoIterator<Item = f64>, beta: f64) -> Option<Halfspace> {
        let mut normal: Vec<f64> = a.into_iter().chain([beta]).collect();
        if !self.to_frame_plane(&mut normal) {
            return None;
        }
        let offset = normal.pop().expect("the offset was pushed");
        Some(Halfspace { normal, offset })
    }

    /// Rewrites `plane`, the coefficients `a` of `a·x + β` followed by `β`, as the same constraint
    /// in frame coordinates: unit normal, then offset (frame units). False, and `plane` unchanged,
    /// if `a = 0`. The frame's one convention for constraints, shared by [`Domain::halfspace`] and
    /// callers that keep hyperplanes in flat buffers (the box partition).
    pub fn to_frame_plane(&self, plane: &mut [f64]) -> bool {
        let (a, beta) = plane.split_at_mut(self.dim());
        let norm = a.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 {
            return false;
        }
        let value_at_origin: f64 = a.iter().zip(&self.origin).map(|(a, o)| a * o).sum::<f64>() + beta[0];
        a.iter_mut().for_each(|v| *v /= norm);
        beta[0] = value_at_origin / (norm * self.scale);
        true
    }

    /// True if the hyperplane of `h` certainly misses the open domain (a rounding margin is kept),
    /// so that no facet on it can meet the domain and no LP is needed (theory §6.2, step 1).
    pub fn misses(&self, h: &Halfspace) -> bool {
        if self.round && h.offset.abs() >= 1.0 + crate::tolerance::SCREEN {
            return true;
        }
        misses_box(h, &self.lower, &self.upper)
    }

    /// Whether frame point `y` lies strictly inside the domain.
    pub fn contains_frame(&self, y: &[f64]) -> bool {
        let inside_box = (0..self.dim()).all(|i| self.lower[i] < y[i] && y[i] < self.upper[i]);
        inside_box && (!self.round || y.iter().map(|v| v * v).sum::<f64>() < 1.0)
    }

    /// A random frame point of the domain: uniform for bounded domains (rejection against the box
    /// for a clipped ball), standard normal for the whole space. `None` if rejection keeps failing.
    pub fn sample_frame(&self, rng: &mut impl Rng) -> Option<Vec<f64>> {
        let d = self.dim();
        for _ in 0..1000 {
            let y: Vec<f64> = if self.round {
                let g: Vec<f64> = (0..d).map(|_| gaussian(rng)).collect();
                let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
                let radius = rng.gen::<f64>().powf(1.0 / d as f64);
                g.iter().map(|v| v / norm * radius).collect()
            } else {
                (0..d)
                    .map(|i| match (self.lower[i].is_finite(), self.upper[i].is_finite()) {
                        (true, true) => rng.gen_range(self.lower[i]..self.upper[i]),
                        (true, false) => self.lower[i] + gaussian(rng).abs(),
                        (false, true) => self.upper[i] - gaussian(rng).abs(),
                        (false, false) => gaussian(rng),
                    })
                    .collect()
            };
            if self.contains_frame(&y) {
                return Some(y);
            }
        }
        None
    }
}

/// True if the hyperplane of `h` certainly misses the box `[lower, upper]` (frame coordinates;
/// infinite bounds allowed), with a rounding margin.
pub fn misses_box(h: &Halfspace, lower: &[f64], upper: &[f64]) -> bool {
    // Four lanes of sums and a select for zero coefficients (whose product with an infinite bound
    // is no term), so that it vectorises: the 784-D walk screens every constraint of every region.
    let (mut lo, mut hi) = ([0.0; 4], [0.0; 4]);
    for ((a, l), u) in h.normal.chunks(4).zip(lower.chunks(4)).zip(upper.chunks(4)) {
        for k in 0..a.len().min(l.len()).min(u.len()) {
            let (p, q) = if a[k] == 0.0 { (0.0, 0.0) } else { (a[k] * l[k], a[k] * u[k]) };
            lo[k] += p.min(q);
            hi[k] += p.max(q);
        }
    }
    let lo = h.offset + (lo[0] + lo[1]) + (lo[2] + lo[3]);
    let hi = h.offset + (hi[0] + hi[1]) + (hi[2] + hi[3]);
    let margin = crate::tolerance::SCREEN * (1.0 + h.offset.abs());
    lo > margin || hi < -margin
}

/// A standard normal sample (Box–Muller), so that no distribution crate is needed.
pub(crate) fn gaussian(rng: &mut impl Rng) -> f64 {
    let u: f64 = rng.gen_range(f64::MIN_POSITIVE..1.0);
    let v: f64 = rng.gen();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn check_finite(x: &[f64], what: &str) -> Result<()> {
    if x.is_empty() {
        return Err(Error::Domain(format!("the {what} has no coordinates")));
    }
    match x.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(Error::Domain(format!("{what} coordinate {i} is {}", x[i]))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_rational::BigRational;
    use num_traits::Zero;
    use rand::SeedableRng;

    /// [`misses_box`] against the hyperplane's exact range over the box, in rational arithmetic:
    /// it never reports a miss where the hyperplane meets the box, and it reports every miss wider
    /// than its rounding margin. Zero coefficients, infinite bounds and near-tangent offsets.
    #[test]
    fn misses_box_agrees_with_the_exact_range() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let q = |v: f64| BigRational::from_float(v).expect("finite");
        let (mut misses, mut meets) = (0, 0);
        for _ in 0..3000 {
            let n = rng.gen_range(1..50);
            let normal: Vec<f64> =
                (0..n).map(|_| if rng.gen_bool(0.2) { 0.0 } else { rng.gen_range(-1.0..1.0) }).collect();
            let lower: Vec<f64> =
                (0..n).map(|_| if rng.gen_bool(0.05) { f64::NEG_INFINITY } else { rng.gen_range(-1.0..0.0) }).collect();
            let upper: Vec<f64> = (0..n).map(|_| rng.gen_range(0.0..1.0)).collect();
            // The exact range of normal·y over the box; `None` where it is unbounded.
            let (mut lo, mut hi) = (Some(BigRational::zero()), Some(BigRational::zero()));
            for i in 0..n {
                let a = normal[i];
                if a == 0.0 {
                    continue;
                }
                let (at_l, at_u) = (lower[i].is_finite().then(|| q(a) * q(lower[i])), q(a) * q(upper[i]));
                let (small, large) = if a > 0.0 { (at_l, Some(at_u)) } else { (Some(at_u), at_l) };
                lo = lo.zip(small).map(|(s, t)| s + t);
                hi = hi.zip(large).map(|(s, t)| s + t);
            }
            // Offsets near the range's ends, inside and outside.
            let end = if rng.gen_bool(0.5) { lo.clone() } else { hi.clone() };
            let Some(end) = end else { continue };
            let nudge = [0.0, 1e-14, -1e-14, 1e-6, -1e-6, 0.3, -0.3][rng.gen_range(0..7)];
            let offset = -num_traits::ToPrimitive::to_f64(&end).unwrap() + nudge;
            let h = Halfspace { normal, offset };
            let (lo, hi) = (lo.map(|l| l + q(offset)), hi.map(|u| u + q(offset)));
            let exact_lo = lo.as_ref().map(|l| num_traits::ToPrimitive::to_f64(l).unwrap());
            let exact_hi = hi.as_ref().map(|u| num_traits::ToPrimitive::to_f64(u).unwrap());
            let missed = misses_box(&h, &lower, &upper);
            let zero = BigRational::zero();
            if missed {
                misses += 1;
                assert!(
                    lo.as_ref().is_some_and(|l| *l > zero) || hi.as_ref().is_some_and(|u| *u < zero),
                    "reported a miss, but the exact range [{exact_lo:?}, {exact_hi:?}] holds 0"
                );
            } else {
                meets += 1;
                assert!(
                    exact_lo.is_none_or(|l| l <= 1e-9) && exact_hi.is_none_or(|u| u >= -1e-9),
                    "missed a miss: the exact range is [{exact_lo:?}, {exact_hi:?}]"
                );
            }
        }
        assert!(misses > 300 && meets > 300, "{misses} misses and {meets} meets");
    }
}
