//! Sound intervals `[ℓ, u] ⊇ z_{l,j}(domain)` for every hidden neuron (theory §4.8), by three
//! methods, intersected per neuron (no method dominates: fixtures F8, F9, F11):
//!
//! * **Lipschitz** (ball propagation, theory §3): the centre's forward pass ± `‖w‖ρ`, with
//!   `ρ_l = ρ_{l-1}·‖W_l‖₂` (certified norm). The paper's chain uses the full `W_l`; the projected
//!   chain drops rows that are stably inactive, which is sound because they are constantly 0.
//! * **IBP**: interval arithmetic, layer by layer, from the intersected intervals.
//! * **CROWN**: linear relaxation with back-substitution (adaptive lower slope), evaluated exactly
//!   over the ball and the box.
//!
//! Every bound is widened for rounding ([`ROUNDING`]), so a computed "stable" is a proved one.

use super::linalg::spectral_norm_upper;
use super::set::InputSet;
use crate::model::Network;
use crate::tolerance::ROUNDING;
use ndarray::{Array1, Array2, Axis};

/// Lower and upper bounds of one layer's pre-activations.
#[derive(Clone, Debug)]
pub struct Bounds {
    /// Lower bounds.
    pub lower: Array1<f64>,
    /// Upper bounds.
    pub upper: Array1<f64>,
}

impl Bounds {
    fn unbounded(n: usize) -> Self {
        Bounds { lower: Array1::from_elem(n, f64::NEG_INFINITY), upper: Array1::from_elem(n, f64::INFINITY) }
    }

    pub(crate) fn intersect(&mut self, other: &Bounds) {
        self.lower.zip_mut_with(&other.lower, |a, &b| *a = a.max(b));
        self.upper.zip_mut_with(&other.upper, |a, &b| *a = a.min(b));
    }

    /// How a neuron behaves over the whole domain.
    pub fn status(&self, j: usize) -> Status {
        if self.upper[j] <= 0.0 {
            Status::Inactive
        } else if self.lower[j] >= 0.0 {
            Status::Active
        } else {
            Status::Unstable
        }
    }

    /// `(stably active, stably inactive, unstable)` counts.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for j in 0..self.lower.len() {
            match self.status(j) {
                Status::Active => c.0 += 1,
                Status::Inactive => c.1 += 1,
                Status::Unstable => c.2 += 1,
            }
        }
        c
    }
}

/// Stability of a neuron over the domain. A neuron with `ℓ ≥ 0` (even `= 0`) or `u ≤ 0` never splits
/// a region (theory Lemma 4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// `ℓ ≥ 0`.
    Active,
    /// `u ≤ 0`.
    Inactive,
    /// `ℓ < 0 < u`.
    Unstable,
}

/// The intervals of every hidden layer, per method and intersected.
#[derive(Clone, Debug)]
pub struct Stability {
    /// The paper's chain: unprojected Lipschitz ball (theory §3).
    pub paper: Vec<Bounds>,
    /// Projected Lipschitz chain.
    pub lipschitz: Vec<Bounds>,
    /// Interval bound propagation.
    pub ibp: Vec<Bounds>,
    /// Linear relaxation with back-substitution.
    pub crown: Vec<Bounds>,
    /// Intersection of all of the above.
    pub combined: Vec<Bounds>,
}

/// Computes every method's intervals over `set`, layer by layer, each layer's methods fed by the
/// intersected intervals of the earlier layers.
pub fn analyse(net: &Network, set: &InputSet) -> Stability {
    let widths = net.hidden_widths();
    let mut st = Stability { paper: vec![], lipschitz: vec![], ibp: vec![], crown: vec![], combined: vec![] };
    let radius = if set.is_bounded() { set.enclosing_radius() } else { None };
    let Some(radius) = radius else {
        for &n in &widths {
            for v in [&mut st.paper, &mut st.lipschitz, &mut st.ibp, &mut st.crown, &mut st.combined] {
                v.push(Bounds::unbounded(n));
            }
        }
        return st;
    };
    let centre_pre = net.pre_activations(set.center.as_slice().expect("contiguous"));
    let (mut rho_paper, mut rho_projected) = (radius, radius);
    for (l, layer) in net.hidden().iter().enumerate() {
        let (z_c, mag_c) = &centre_pre[l];
        let row_norms = layer.weight.map_axis(Axis(1), |r| r.dot(&r).sqrt());
        let lipschitz_with = |rho: f64| {
            let reach = &row_norms * rho;
            let margin = (mag_c + &reach) * ROUNDING;
            Bounds { lower: z_c - &reach - &margin, upper: z_c + &reach + &margin }
        };
        // On layer 1 the Lipschitz ball is the (enclosing) ball itself: use its exact range.
        let (paper, lipschitz) = if l == 0 {
            let exact = ball_layer(layer.weight.view(), &layer.bias, &set.center, radius);
            (exact.clone(), exact)
        } else {
            (lipschitz_with(rho_paper), lipschitz_with(rho_projected))
        };
        let (ibp, crown) = if l == 0 {
            let exact = first_layer(layer.weight.view(), &layer.bias, set);
            (exact.clone(), exact)
        } else {
            (ibp_layer(&layer.weight, &layer.bias, &st.combined[l - 1]), crown_layer(net, set, &st.combined, l))
        };
        let mut combined = paper.clone();
        for b in [&lipschitz, &ibp, &crown] {
            combined.intersect(b);
        }
        rho_paper *= spectral_norm_upper(layer.weight.view());
        let live: Vec<usize> = (0..widths[l]).filter(|&j| combined.status(j) != Status::Inactive).collect();
        rho_projected *= spectral_norm_upper(layer.weight.select(Axis(0), &live).view());
        st.paper.push(paper);
        st.lipschitz.push(lipschitz);
        st.ibp.push(ibp);
        st.crown.push(crown);
        st.combined.push(combined);
    }
    st
}

/// The range of layer 1 over the ball `B(center, radius)`.
fn ball_layer(w: ndarray::ArrayView2<f64>, b: &Array1<f64>, center: &Array1<f64>, radius: f64) -> Bounds {
    let (lower, upper): (Vec<f64>, Vec<f64>) =
        w.outer_iter().zip(b).map(|(row, &bj)| super::set::ball_range(center, radius, row, bj)).unzip();
    Bounds { lower: Array1::from(lower), upper: Array1::from(upper) }
}

/// Layer 1 is affine in the input: its exact range over the ball and the box.
fn first_layer(w: ndarray::ArrayView2<f64>, b: &Array1<f64>, set: &InputSet) -> Bounds {
    let (lower, upper): (Vec<f64>, Vec<f64>) =
        w.outer_iter().zip(b).map(|(row, &bj)| set.affine_range(row, bj)).unzip();
    Bounds { lower: Array1::from(lower), upper: Array1::from(upper) }
}

/// IBP in lower/upper form, `ℓ = W⁺ ReLU(ℓ_prev) + W⁻ ReLU(u_prev) + b`, so that exact zeros stay exact.
pub(crate) fn ibp_layer(w: &Array2<f64>, b: &Array1<f64>, prev: &Bounds) -> Bounds {
    let h_lo = prev.lower.mapv(|v| v.max(0.0));
    let h_hi = prev.upper.mapv(|v| v.max(0.0));
    let pos = w.mapv(|v| v.max(0.0));
    let neg = w.mapv(|v| v.min(0.0));
    let lower_terms = (pos.dot(&h_lo), neg.dot(&h_hi));
    let upper_terms = (pos.dot(&h_hi), neg.dot(&h_lo));
    let mag_lo = pos.dot(&h_lo) - neg.dot(&h_hi) + b.mapv(f64::abs);
    let mag_hi = pos.dot(&h_hi) - neg.dot(&h_lo) + b.mapv(f64::abs);
    Bounds {
        lower: lower_terms.0 + lower_terms.1 + b - mag_lo * ROUNDING,
        upper: upper_terms.0 + upper_terms.1 + b + mag_hi * ROUNDING,
    }
}

/// The ReLU relaxation of one layer given its intervals: `slope_lo·z ≤ ReLU(z) ≤ slope_hi·z + icpt`.
struct Relaxation {
    slope_lo: Array1<f64>,
    slope_hi: Array1<f64>,
    icpt: Array1<f64>,
}

fn relaxation(b: &Bounds) -> Relaxation {
    let n = b.lower.len();
    let mut r = Relaxation { slope_lo: Array1::zeros(n), slope_hi: Array1::zeros(n), icpt: Array1::zeros(n) };
    for j in 0..n {
        match b.status(j) {
            Status::Inactive => {}
            Status::Active => {
                r.slope_lo[j] = 1.0;
                r.slope_hi[j] = 1.0;
            }
            Status::Unstable => {
                let (lo, hi) = (b.lower[j], b.upper[j]);
                r.slope_hi[j] = hi / (hi - lo);
                r.icpt[j] = -hi * lo / (hi - lo);
                r.slope_lo[j] = if hi >= -lo { 1.0 } else { 0.0 };
            }
        }
    }
    r
}

/// CROWN bounds of hidden layer `k` by back-substitution through the relaxed layers `k-1, …, 0`.
fn crown_layer(net: &Network, set: &InputSet, combined: &[Bounds], k: usize) -> Bounds {
    let layers = net.hidden();
    let mut lower = BackSubstitution::new(&layers[k].weight, &layers[k].bias);
    let mut upper = lower.clone();
    for m in (0..k).rev() {
        let r = relaxation(&combined[m]);
        lower.step(&r, &layers[m].weight, &layers[m].bias, true);
        upper.step(&r, &layers[m].weight, &layers[m].bias, false);
    }
    let n = layers[k].weight.nrows();
    let mut out = Bounds::unbounded(n);
    for j in 0..n {
        out.lower[j] = set.affine_range(lower.lambda.row(j), lower.constant[j]).0 - ROUNDING * lower.magnitude[j];
        out.upper[j] = set.affine_range(upper.lambda.row(j), upper.constant[j]).1 + ROUNDING * upper.magnitude[j];
    }
    out
}

/// A bound `Λ h + c` on a layer's pre-activations, expressed in ever earlier layers.
#[derive(Clone)]
struct BackSubstitution {
    lambda: Array2<f64>,
    constant: Array1<f64>,
    /// Sum of the magnitudes of the terms accumulated in `constant` (for the rounding margin).
    magnitude: Array1<f64>,
}

impl BackSubstitution {
    fn new(w: &Array2<f64>, b: &Array1<f64>) -> Self {
        BackSubstitution { lambda: w.clone(), constant: b.clone(), magnitude: b.mapv(f64::abs) }
    }

    /// Replaces `h_m` by its relaxation (lower relaxation where the coefficient helps the bound,
    /// upper where it hurts), then `z_m = W_m h_{m-1} + b_m`.
    fn step(&mut self, r: &Relaxation, w: &Array2<f64>, b: &Array1<f64>, is_lower: bool) {
        let mut scaled = self.lambda.clone();
        for (mut row, (c, mag)) in scaled.outer_iter_mut().zip(self.constant.iter_mut().zip(self.magnitude.iter_mut()))
        {
            for (i, lam) in row.iter_mut().enumerate() {
                // For a lower bound, a positive coefficient takes the lower line, a negative the upper.
                let upper_line = (*lam < 0.0) == is_lower;
                if upper_line {
                    *c += *lam * r.icpt[i];
                    *mag += (*lam * r.icpt[i]).abs();
                    *lam *= r.slope_hi[i];
                } else {
                    *lam *= r.slope_lo[i];
                }
            }
        }
        self.constant += &scaled.dot(b);
        self.magnitude += &scaled.mapv(f64::abs).dot(&b.mapv(f64::abs));
        self.lambda = scaled.dot(w);
    }
}
