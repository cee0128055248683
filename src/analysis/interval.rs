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
use crate::model::{Network, Weight};
use crate::tolerance::ROUNDING;
use ndarray::Array1;
use rayon::prelude::*;

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

/// Every neuron's status under `layers` (one [`Bounds`] per hidden layer), in pattern order.
pub fn statuses(layers: &[Bounds]) -> Vec<Status> {
    layers.iter().flat_map(|b| (0..b.lower.len()).map(|j| b.status(j))).collect()
}

/// What the estimate's cut tree reads of an interval analysis over its domain, in pattern order:
/// each neuron's [`Status`] and each max-window candidate's fate ([`window_fates`]), so that a
/// caller that has analysed the domain (`bound`) need not analyse it again.
#[derive(Clone, Debug, Default)]
pub struct Screen {
    /// Every neuron's status.
    pub statuses: Vec<Status>,
    /// Every max-window candidate's fate (empty for a network without max units).
    pub fates: Vec<Option<bool>>,
}

impl Screen {
    /// The screen of `net` under its layers' intervals `layers`.
    pub fn of(net: &Network, layers: &[Bounds]) -> Self {
        Screen { statuses: statuses(layers), fates: window_fates(net, layers) }
    }
}

/// Each max-window candidate's fate over the domain under `layers` (pattern order; `None` for a
/// ReLU and for a candidate that may or may not win): `Some(false)` for a stable loser, always
/// below some other candidate (`u_i < max_c ℓ_c`), and `Some(true)` for a stable argmax, always
/// above every other (`ℓ_i > max_{c≠i} u_c`). A stable loser is never the argmax, and its
/// difference to the argmax never bounds a region (the argmax is at least the candidate that
/// beats it), so the walk and the estimate's cut tree leave both out. Empty for a network
/// without max units.
pub fn window_fates(net: &Network, layers: &[Bounds]) -> Vec<Option<bool>> {
    if net.max_windows().is_empty() {
        return Vec::new();
    }
    (0..layers.len()).flat_map(|l| layer_fates(net, l, &layers[l])).collect()
}

/// [`window_fates`] of hidden layer `l` under its intervals `b`, in unit order.
fn layer_fates(net: &Network, l: usize, b: &Bounds) -> Vec<Option<bool>> {
    let mut fates = vec![None; b.lower.len()];
    for w in net.max_windows().in_layer(l) {
        let best_lower = w.clone().map(|i| b.lower[i]).fold(f64::NEG_INFINITY, f64::max);
        for i in w.clone() {
            let others_upper = w.clone().filter(|&o| o != i).map(|o| b.upper[o]).fold(f64::NEG_INFINITY, f64::max);
            fates[i] = if b.upper[i] < best_lower {
                Some(false)
            } else if b.lower[i] > others_upper {
                Some(true)
            } else {
                None
            };
        }
    }
    fates
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
    if !net.max_windows().is_empty() {
        return analyse_with_max(net, set);
    }
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
    let layers = net.hidden();
    for (l, layer) in layers.iter().enumerate() {
        let (z_c, mag_c) = &centre_pre[l];
        // Layer l's CROWN bounds, and beside them (the spectral norms are serial and CROWN's
        // blocks do not always fill the threads) the norms of layer l − 1 that the Lipschitz
        // chains take to layer l.
        let (ibp_crown, norms) = rayon::join(
            || match l {
                0 => None,
                _ => {
                    let ibp = ibp_layer(&layer.weight, &layer.bias, &st.combined[l - 1]);
                    let crown = crown_layer(net, set, &st.combined, l, &ibp);
                    Some((ibp, crown))
                }
            },
            || {
                let before = l.checked_sub(1)?;
                let live: Vec<usize> =
                    (0..widths[before]).filter(|&j| st.combined[before].status(j) != Status::Inactive).collect();
                let w = &layers[before].weight;
                Some((spectral_norm_upper(w), spectral_norm_upper(&w.select_rows(&live))))
            },
        );
        if let Some((paper_norm, projected_norm)) = norms {
            rho_paper *= paper_norm;
            rho_projected *= projected_norm;
        }
        let row_norms = layer.weight.row_norms();
        let lipschitz_with = |rho: f64| {
            let reach = &row_norms * rho;
            let margin = (mag_c + &reach) * ROUNDING;
            Bounds { lower: z_c - &reach - &margin, upper: z_c + &reach + &margin }
        };
        // On layer 1 the Lipschitz ball is the (enclosing) ball itself: use its exact range.
        let (paper, lipschitz) = if l == 0 {
            let exact =
                first_layer(&layer.weight, &layer.bias, |a, b| super::set::ball_range(&set.center, radius, a, b));
            (exact.clone(), exact)
        } else {
            (lipschitz_with(rho_paper), lipschitz_with(rho_projected))
        };
        let (ibp, crown) = ibp_crown.unwrap_or_else(|| {
            let exact = first_layer(&layer.weight, &layer.bias, |a, b| set.affine_range(a, b));
            (exact.clone(), exact)
        });
        let mut combined = paper.clone();
        for b in [&lipschitz, &ibp, &crown] {
            combined.intersect(b);
        }
        st.paper.push(paper);
        st.lipschitz.push(lipschitz);
        st.ibp.push(ibp);
        st.crown.push(crown);
        st.combined.push(combined);
    }
    st
}

/// [`analyse`] for a network with max units (theory §11): exact ranges on layer 1, then IBP, whose
/// interval of a window's output is `[max ℓ_i, max u_i]`, intersected with CROWN, which relaxes a
/// window by one of its candidates below and its largest upper bound above ([`relaxation`]). The
/// Lipschitz chains relax ReLUs only: their intervals (and the paper's) are IBP's.
fn analyse_with_max(net: &Network, set: &InputSet) -> Stability {
    let (mut ibps, mut crowns, mut combined): (Vec<Bounds>, Vec<Bounds>, Vec<Bounds>) = (vec![], vec![], vec![]);
    for (l, layer) in net.hidden().iter().enumerate() {
        let (ibp, crown) = match combined.last() {
            _ if !set.is_bounded() => {
                (Bounds::unbounded(layer.weight.nrows()), Bounds::unbounded(layer.weight.nrows()))
            }
            None => {
                let exact = first_layer(&layer.weight, &layer.bias, |a, b| set.affine_range(a, b));
                (exact.clone(), exact)
            }
            Some(prev) => {
                let ibp = ibp_after(net, l, prev);
                let crown = crown_layer(net, set, &combined, l, &ibp);
                (ibp, crown)
            }
        };
        let mut both = ibp.clone();
        both.intersect(&crown);
        ibps.push(ibp);
        crowns.push(crown);
        combined.push(both);
    }
    Stability { paper: ibps.clone(), lipschitz: ibps.clone(), ibp: ibps, crown: crowns, combined }
}

/// IBP of hidden layer `l` of `net` from layer `l − 1`'s pre-activation intervals `prev`, ReLUs
/// and max windows applied: a window's output interval is `[max ℓ_i, max u_i]` (theory §11).
pub(crate) fn ibp_after(net: &Network, l: usize, prev: &Bounds) -> Bounds {
    let (h_lo, h_hi) = output_intervals(net, l - 1, prev);
    ibp_from(&net.layers()[l].weight, &net.layers()[l].bias, &h_lo, &h_hi)
}

/// The output intervals of hidden layer `l` of `net` from its pre-activation intervals `b`: each
/// ReLU's `[max(ℓ, 0), max(u, 0)]`; a window's `[max ℓ_i, max u_i]` at its first candidate and
/// zero at the others, which the next layer, reading every candidate with the same weights, sums
/// to the same terms.
fn output_intervals(net: &Network, l: usize, b: &Bounds) -> (Array1<f64>, Array1<f64>) {
    let (mut h_lo, mut h_hi) = (b.lower.mapv(|v| v.max(0.0)), b.upper.mapv(|v| v.max(0.0)));
    for w in net.max_windows().in_layer(l) {
        let max = |v: &Array1<f64>| w.clone().map(|i| v[i]).fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = (max(&b.lower), max(&b.upper));
        w.clone().for_each(|i| (h_lo[i], h_hi[i]) = (0.0, 0.0));
        (h_lo[w.start], h_hi[w.start]) = (lo, hi);
    }
    (h_lo, h_hi)
}

/// Layer 1 is affine in the input: its exact range per neuron by `range` (over the ball, or the
/// ball and the box), from each row's stored entries.
fn first_layer(w: &Weight, b: &Array1<f64>, range: impl Fn(crate::model::Row, f64) -> (f64, f64) + Sync) -> Bounds {
    let (lower, upper): (Vec<f64>, Vec<f64>) = (0..w.nrows()).into_par_iter().map(|j| range(w.row(j), b[j])).unzip();
    Bounds { lower: Array1::from(lower), upper: Array1::from(upper) }
}

/// IBP in lower/upper form, `ℓ = W⁺ ReLU(ℓ_prev) + W⁻ ReLU(u_prev) + b`, so that exact zeros stay exact.
pub(crate) fn ibp_layer(w: &Weight, b: &Array1<f64>, prev: &Bounds) -> Bounds {
    ibp_from(w, b, &prev.lower.mapv(|v| v.max(0.0)), &prev.upper.mapv(|v| v.max(0.0)))
}

/// IBP from the previous layer's output intervals `[h_lo, h_hi]`.
fn ibp_from(w: &Weight, b: &Array1<f64>, h_lo: &Array1<f64>, h_hi: &Array1<f64>) -> Bounds {
    let n = w.nrows();
    let mut out = Bounds { lower: Array1::zeros(n), upper: Array1::zeros(n) };
    for j in 0..n {
        // Terms of the lower and upper bound, and their magnitudes (for the rounding margin).
        let (mut lo, mut hi, mut mag_lo, mut mag_hi) = (b[j], b[j], b[j].abs(), b[j].abs());
        for (i, v) in w.row(j) {
            let (at_lo, at_hi) = (v * h_lo[i], v * h_hi[i]);
            let (small, large) = if v >= 0.0 { (at_lo, at_hi) } else { (at_hi, at_lo) };
            lo += small;
            hi += large;
            mag_lo += small.abs();
            mag_hi += large.abs();
        }
        out.lower[j] = lo - mag_lo * ROUNDING;
        out.upper[j] = hi + mag_hi * ROUNDING;
    }
    out
}

/// The relaxation of one layer's units given their intervals: `slope_lo·z ≤ out ≤ slope_hi·z + icpt`
/// per ReLU. A max window's output `y = max_i z_i` is relaxed as a whole, through its candidates
/// (the layer after reads them all with the same weights, so back-substitution gives them the
/// same coefficient, and the window's lines are the sums of its candidates'): below by `z_c`, `c`
/// the candidate with the largest lower bound, above by the largest upper bound `U` (a constant),
/// both at `c` and zero at the others; exactly `y = z_c` when `c` is a stable argmax.
struct Relaxation {
    slope_lo: Array1<f64>,
    slope_hi: Array1<f64>,
    icpt: Array1<f64>,
}

/// The [`Relaxation`] of hidden layer `l` of `net` under its intervals `b`.
fn relaxation(net: &Network, l: usize, b: &Bounds) -> Relaxation {
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
    let windows = net.max_windows().in_layer(l);
    let fates = if windows.is_empty() { Vec::new() } else { layer_fates(net, l, b) };
    for w in windows {
        let c = crate::model::argmax(|i| b.lower[i], w.clone());
        for i in w.clone() {
            (r.slope_lo[i], r.slope_hi[i], r.icpt[i]) = (0.0, 0.0, 0.0);
        }
        r.slope_lo[c] = 1.0;
        if fates[c] == Some(true) {
            r.slope_hi[c] = 1.0;
        } else {
            r.icpt[c] = w.clone().map(|i| b.upper[i]).fold(f64::NEG_INFINITY, f64::max);
        }
    }
    r
}

/// CROWN bounds of hidden layer `k` by back-substitution through the relaxed layers `k-1, …, 0`,
/// a block of [`CROWN_BLOCK`] neurons (both directions of each) at a time ([`back_substitute`]):
/// no matrix of every neuron's coefficients is formed (for a CIFAR CNN it would hold tens of
/// millions of numbers), and the block's rows share each weight they read.
///
/// Two kinds of neuron take their IBP interval `ibp` instead:
/// - one that reads one neuron of the layer before (a ResNet's carrying unit, docs/dag.md): IBP
///   is exact on the interval of that one input, which CROWN's relaxation of it cannot beat;
/// - one that IBP already proves stable: later layers' CROWN relaxes it exactly (slope 0 or 1)
///   whatever its interval, so CROWN would only tighten the interval later IBP steps read.
///   Measured on the ACAS Xu, MNIST, CNN and ResNet fixtures, every layer's stability and every
///   bound came out the same, and the ResNets' analysis took 0.5–0.85× the time (BENCHMARKS.md).
///
/// Back-substituting either costs as much as any other neuron.
fn crown_layer(net: &Network, set: &InputSet, combined: &[Bounds], k: usize, ibp: &Bounds) -> Bounds {
    let layers = net.hidden();
    let relaxations: Vec<Relaxation> = (0..k).map(|l| relaxation(net, l, &combined[l])).collect();
    let mut out = ibp.clone();
    // A max-window candidate is relaxed unless IBP decides its fate (a stable loser or argmax).
    let windows = net.max_windows().in_layer(k);
    let fates = if windows.is_empty() { Vec::new() } else { layer_fates(net, k, ibp) };
    let mut in_window = vec![false; fates.len()];
    windows.iter().flat_map(|w| w.clone()).for_each(|j| in_window[j] = true);
    let undecided = |j: usize| match in_window.get(j) {
        Some(true) => fates[j].is_none(),
        _ => ibp.status(j) == Status::Unstable,
    };
    let relaxed: Vec<usize> = (0..layers[k].weight.nrows())
        .filter(|&j| undecided(j) && layers[k].weight.row(j).filter(|(_, w)| *w != 0.0).count() > 1)
        .collect();
    let outputs: Vec<(Array1<f64>, Array1<f64>)> = (0..k).map(|l| output_intervals(net, l, &combined[l])).collect();
    let ranges: Vec<(f64, f64)> = relaxed
        .par_chunks(CROWN_BLOCK)
        .map_init(
            || (Vec::new(), Vec::new()),
            |(coefficients, next), block| {
                back_substitute(&layers[..=k], &relaxations, &outputs, block, set, coefficients, next)
            },
        )
        .flatten_iter()
        .collect();
    for (&j, (lower, upper)) in relaxed.iter().zip(ranges) {
        out.lower[j] = lower;
        out.upper[j] = upper;
    }
    out
}

/// Neurons back-substituted together by [`crown_layer`]: their `2·CROWN_BLOCK` rows of
/// coefficients are stored side by side, so that each weight read updates all of them in one
/// vectorised pass (neighbouring neurons of a convolution read overlapping receptive fields).
/// On the CIFAR ResNets' analysis (one thread) 64 measured 1.15 s against 1.22 s for 16, 1.37 s
/// for 4, and 1.4–1.7 s for the one-neuron form.
const CROWN_BLOCK: usize = 64;

/// The lower and upper bounds of neurons `block` of the last of `layers`: each one's
/// pre-activation `Λ h + c` is carried back through each earlier layer's ReLU relaxation (the
/// lower line where the coefficient helps the bound, the upper line where it hurts) and affine
/// map, down to the input, where the set gives the side's value; widened by [`ROUNDING`] times
/// the magnitude of the terms summed into `c`. Row `2b` is neuron `block[b]`'s lower side, row
/// `2b + 1` its upper; coefficients are stored by layer neuron, the rows side by side. Each row's
/// sums are formed in the order a one-neuron back-substitution forms them (layer neurons in index
/// order; a zero coefficient adds nothing), so the bounds are the same to the bit (tested).
/// `coefficients` and `next` are scratch space, reused between blocks: allocated afresh, their
/// megabytes cost more in page faults than the products.
///
/// A neuron stops early: before each layer after the first, `Λ h + c` is also bounded over that
/// layer's output box (`outputs`: each earlier layer's output intervals, [`output_intervals`];
/// sound, as IBP is), and a neuron whose bounds there prove it stable (`ℓ ≥ 0` or `u ≤ 0`)
/// takes them and leaves the block, whose remaining rows go on. Its interval is looser than the
/// full back-substitution's on the side that decides nothing, which only later IBP reads (CROWN
/// relaxes a stable neuron exactly, whatever its interval); the neurons that reach the input get
/// the same bounds as without.
fn back_substitute(
    layers: &[crate::model::Layer],
    relaxations: &[Relaxation],
    outputs: &[(Array1<f64>, Array1<f64>)],
    block: &[usize],
    set: &InputSet,
    coefficients: &mut Vec<f64>,
    next: &mut Vec<f64>,
) -> Vec<(f64, f64)> {
    let mut rows = 2 * block.len();
    let last = layers.last().expect("at least one layer");
    coefficients.clear();
    coefficients.resize(last.weight.ncols() * rows, 0.0);
    let (mut constant, mut magnitude) = (vec![0.0; rows], vec![0.0; rows]);
    for (b, &j) in block.iter().enumerate() {
        for (i, v) in last.weight.row(j).filter(|(_, v)| *v != 0.0) {
            coefficients[i * rows + 2 * b] = v;
            coefficients[i * rows + 2 * b + 1] = v;
        }
        constant[2 * b..2 * b + 2].fill(last.bias[j]);
        magnitude[2 * b..2 * b + 2].fill(last.bias[j].abs());
    }
    let mut bounds = vec![(f64::NAN, f64::NAN); block.len()];
    // The block positions of the rows still carried back, in row-pair order.
    let mut alive: Vec<usize> = (0..block.len()).collect();
    let mut scaled = vec![0.0; rows];
    for (depth, (l, (layer, r))) in layers.iter().zip(relaxations).enumerate().rev().enumerate() {
        if depth > 0 {
            let concrete = over_box(coefficients, rows, &constant, &magnitude, &outputs[l]);
            let stable: Vec<bool> = concrete.iter().map(|&(lo, hi)| lo >= 0.0 || hi <= 0.0).collect();
            if stable.iter().any(|s| *s) {
                for (b, _) in stable.iter().enumerate().filter(|(_, s)| **s) {
                    bounds[alive[b]] = concrete[b];
                }
                let keep: Vec<usize> = (0..alive.len()).filter(|&b| !stable[b]).collect();
                let kept_rows: Vec<usize> = keep.iter().flat_map(|&b| [2 * b, 2 * b + 1]).collect();
                next.clear();
                for lambdas in coefficients.chunks_exact(rows) {
                    next.extend(kept_rows.iter().map(|&row| lambdas[row]));
                }
                std::mem::swap(coefficients, next);
                constant = kept_rows.iter().map(|&row| constant[row]).collect();
                magnitude = kept_rows.iter().map(|&row| magnitude[row]).collect();
                alive = keep.iter().map(|&b| alive[b]).collect();
                rows = kept_rows.len();
                scaled.truncate(rows);
                if alive.is_empty() {
                    return bounds;
                }
            }
        }
        next.clear();
        next.resize(layer.weight.ncols() * rows, 0.0);
        for (i, lambdas) in coefficients.chunks_exact(rows).enumerate() {
            if lambdas.iter().all(|l| *l == 0.0) {
                continue;
            }
            for (row, (&lambda, s)) in lambdas.iter().zip(scaled.iter_mut()).enumerate() {
                // For a lower bound, a positive coefficient takes the lower line, a negative the upper.
                *s = if lambda == 0.0 {
                    0.0
                } else if (lambda < 0.0) == (row % 2 == 0) {
                    constant[row] += lambda * r.icpt[i];
                    magnitude[row] += (lambda * r.icpt[i]).abs();
                    lambda * r.slope_hi[i]
                } else {
                    lambda * r.slope_lo[i]
                };
                if *s != 0.0 {
                    constant[row] += *s * layer.bias[i];
                    magnitude[row] += (*s * layer.bias[i]).abs();
                }
            }
            if scaled.iter().all(|s| *s == 0.0) {
                continue;
            }
            for (c, w) in layer.weight.row(i) {
                for (t, s) in next[c * rows..(c + 1) * rows].iter_mut().zip(&scaled) {
                    *t += s * w;
                }
            }
        }
        std::mem::swap(coefficients, next);
    }
    for (b, &at) in alive.iter().enumerate() {
        let side = |row: usize| {
            let a =
                coefficients.chunks_exact(rows).enumerate().map(move |(i, c)| (i, c[row])).filter(|(_, v)| *v != 0.0);
            set.affine_range(a, constant[row])
        };
        let lower = side(2 * b).0 - ROUNDING * magnitude[2 * b];
        let upper = side(2 * b + 1).1 + ROUNDING * magnitude[2 * b + 1];
        bounds[at] = (lower, upper);
    }
    bounds
}

/// Each row pair's bounds of `Λ h + c` (`coefficients`: `rows` per unit) over the output box
/// `[h_lo, h_hi]` of one layer: the lower side from row `2b`, the upper from row `2b + 1`, widened
/// by [`ROUNDING`] times the magnitude of their terms.
fn over_box(
    coefficients: &[f64],
    rows: usize,
    constant: &[f64],
    magnitude: &[f64],
    (h_lo, h_hi): &(Array1<f64>, Array1<f64>),
) -> Vec<(f64, f64)> {
    let (mut value, mut size) = (constant.to_vec(), magnitude.to_vec());
    for (i, lambdas) in coefficients.chunks_exact(rows).enumerate() {
        for (row, &lambda) in lambdas.iter().enumerate().filter(|(_, l)| **l != 0.0) {
            // The lower side takes the end that lowers the term, the upper side the one that raises it.
            let term = if (lambda > 0.0) == (row % 2 == 0) { lambda * h_lo[i] } else { lambda * h_hi[i] };
            value[row] += term;
            size[row] += term.abs();
        }
    }
    (0..rows / 2)
        .map(|b| (value[2 * b] - ROUNDING * size[2 * b], value[2 * b + 1] + ROUNDING * size[2 * b + 1]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Domain, Norm};
    use crate::model::Layer;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The one-neuron back-substitution the block form replaced: one side of neuron `j`, its
    /// coefficients summed into a dense scratch and drained to their nonzero entries per layer.
    fn one_neuron(layers: &[Layer], relaxations: &[Relaxation], j: usize, is_lower: bool, set: &InputSet) -> f64 {
        let last = layers.last().expect("at least one layer");
        let mut coefficients: Vec<(usize, f64)> = last.weight.row(j).filter(|(_, v)| *v != 0.0).collect();
        let (mut constant, mut magnitude) = (last.bias[j], last.bias[j].abs());
        for (layer, r) in layers.iter().zip(relaxations).rev() {
            let mut scratch = vec![0.0; layer.weight.ncols()];
            for &(i, lambda) in &coefficients {
                let scaled = if (lambda < 0.0) == is_lower {
                    constant += lambda * r.icpt[i];
                    magnitude += (lambda * r.icpt[i]).abs();
                    lambda * r.slope_hi[i]
                } else {
                    lambda * r.slope_lo[i]
                };
                if scaled != 0.0 {
                    constant += scaled * layer.bias[i];
                    magnitude += (scaled * layer.bias[i]).abs();
                    layer.weight.add_row_scaled(i, scaled, &mut scratch);
                }
            }
            coefficients = drain(&mut scratch);
        }
        let (lo, hi) = set.affine_range(coefficients.iter().copied(), constant);
        if is_lower {
            lo - ROUNDING * magnitude
        } else {
            hi + ROUNDING * magnitude
        }
    }

    /// The block back-substitution gives every neuron's bounds to the bit of the one-neuron
    /// form, on random networks with dense and sparse layers (zeros, duplicated rows, blocks of
    /// every size), over balls and boxes; except a neuron stopped early, whose bounds prove it
    /// stable and hold it at sampled points.
    #[test]
    fn blocks_give_the_one_neuron_bounds_to_the_bit() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let (mut compared, mut stopped) = (0, 0);
        for case in 0..60 {
            let n0 = rng.gen_range(1..6);
            let depth = rng.gen_range(2..5);
            let mut widths = vec![n0];
            widths.extend((0..depth).map(|_| rng.gen_range(1..40)));
            let layers: Vec<Layer> = widths
                .windows(2)
                .map(|w| {
                    let mut m = ndarray::Array2::from_shape_fn((w[1], w[0]), |_| match rng.gen_range(0..4) {
                        0 => 0.0,
                        _ => rng.gen_range(-1.0..1.0),
                    });
                    if w[1] > 1 {
                        let row = m.row(0).to_owned();
                        m.row_mut(w[1] - 1).assign(&row);
                    }
                    let bias = Array1::from_shape_fn(w[1], |_| rng.gen_range(-0.5..0.5));
                    let weight = Weight::from(m);
                    Layer { weight: if rng.gen_bool(0.5) { weight.csr() } else { weight }, bias }
                })
                .collect();
            let mut all = layers.clone();
            all.push(Layer {
                weight: Weight::from(ndarray::Array2::ones((1, *widths.last().unwrap()))),
                bias: Array1::zeros(1),
            });
            let net = Network::new(all, None).expect("a valid network");
            let centre: Vec<f64> = (0..n0).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let norm = if case % 2 == 0 { Norm::L2 } else { Norm::Linf };
            let domain = Domain::ball(&centre, rng.gen_range(0.1..2.0), norm).expect("a ball");
            let set = InputSet::new(&domain);
            let st = analyse(&net, &set);
            for k in 1..net.hidden().len() {
                let relaxations: Vec<Relaxation> = (0..k).map(|l| relaxation(&net, l, &st.combined[l])).collect();
                let ibp = ibp_layer(&net.hidden()[k].weight, &net.hidden()[k].bias, &st.combined[k - 1]);
                let crown = crown_layer(&net, &set, &st.combined, k, &ibp);
                let samples: Vec<Vec<f64>> = (0..200)
                    .map(|_| domain.from_frame(&domain.sample_frame(&mut rng).expect("a ball")))
                    .map(|x| net.pre_activations(&x)[k].0.to_vec())
                    .collect();
                for j in 0..net.hidden()[k].weight.nrows() {
                    if ibp.status(j) != Status::Unstable {
                        continue;
                    }
                    let layers = &net.hidden()[..=k];
                    let lower = one_neuron(layers, &relaxations, j, true, &set);
                    let upper = one_neuron(layers, &relaxations, j, false, &set);
                    if layers[k].weight.row(j).filter(|(_, w)| *w != 0.0).count() > 1 {
                        let (lo, hi) = (crown.lower[j], crown.upper[j]);
                        if (lo.to_bits(), hi.to_bits()) != (lower.to_bits(), upper.to_bits()) {
                            // Stopped early: bounds over an earlier layer's outputs that prove
                            // the neuron stable, and hold it at every sampled point.
                            assert!(lo >= 0.0 || hi <= 0.0, "case {case}, layer {k}, neuron {j}: [{lo}, {hi}]");
                            assert!(samples.iter().all(|z| lo <= z[j] && z[j] <= hi), "case {case}, {k}, {j}");
                            stopped += 1;
                        }
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared >= 300 && stopped >= 20, "{compared} neurons compared, {stopped} stopped early");
    }

    /// The nonzero entries of `values` in index order, leaving it zero.
    fn drain(values: &mut [f64]) -> Vec<(usize, f64)> {
        let mut out = Vec::new();
        for (i, v) in values.iter_mut().enumerate() {
            if *v != 0.0 {
                out.push((i, std::mem::take(v)));
            }
        }
        out
    }
}
