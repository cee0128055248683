//! `--certify`: every counted region's witness point re-checked in exact rational arithmetic
//! (`num-rational`; weights, biases and points are binary fractions, so nothing is rounded): the
//! activation pattern recomputed exactly at the witness must be the region's, the witness must lie
//! strictly inside the domain, and every pre-activation that is exactly zero there must belong to a
//! neuron that is identically zero on the region (in a max window: the chosen candidate must be
//! strictly the largest, or tie with the same function at a higher index). Each certified region is then proven to have an
//! interior point in the domain, so the count is a proven lower bound; regions that fail are listed.

use super::WalkResult;
use crate::domain::Domain;
use crate::model::{Network, Pattern};
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use rayon::prelude::*;

type Q = BigRational;

fn q(v: f64) -> Q {
    Q::from_float(v).expect("finite by construction")
}

/// The outcome of certification.
#[derive(Clone, Debug, Default)]
pub struct Certification {
    /// Regions whose witness passed every exact check.
    pub certified: usize,
    /// `(region index, reason)` for the others.
    pub failures: Vec<(usize, String)>,
}

/// The network's parameters as exact rationals (each row's nonzero weights by column: a CNN's
/// rows read a few inputs each), and its max windows.
struct ExactNetwork {
    layers: Vec<ExactLayer>,
    windows: crate::model::MaxWindows,
}

/// One layer's rows (nonzero weights by column) and biases.
type ExactLayer = (Vec<Vec<(usize, Q)>>, Vec<Q>);

impl ExactNetwork {
    fn new(net: &Network) -> Self {
        let layers = net
            .hidden()
            .iter()
            .map(|l| {
                (
                    (0..l.weight.nrows())
                        .map(|j| l.weight.row(j).filter(|(_, w)| *w != 0.0).map(|(i, w)| (i, q(w))).collect())
                        .collect(),
                    l.bias.iter().map(|&b| q(b)).collect(),
                )
            })
            .collect();
        ExactNetwork { layers, windows: net.max_windows().clone() }
    }

    /// Exact pre-activations of every hidden neuron at `x`, in pattern order.
    fn pre_activations(&self, x: &[f64]) -> Vec<Q> {
        let mut h: Vec<Q> = x.iter().map(|&v| q(v)).collect();
        let mut out = Vec::new();
        for (l, (w, b)) in self.layers.iter().enumerate() {
            let z: Vec<Q> =
                w.iter().zip(b).map(|(row, bj)| row.iter().fold(bj.clone(), |acc, (i, a)| acc + a * &h[*i])).collect();
            h = z.iter().map(|v| if v.is_positive() { v.clone() } else { Q::zero() }).collect();
            for window in self.windows.in_layer(l) {
                let j = crate::model::argmax(|i| z[i].clone(), window.clone());
                window.clone().for_each(|i| h[i] = if i == j { z[i].clone() } else { Q::zero() });
            }
            out.extend(z);
        }
        out
    }

    /// Whether each listed neuron's surrogate on `pattern` is identically zero, and each listed
    /// pair of max-window candidates is the same function there (exactly). Units that read only
    /// units passing zero, with a zero bias, are identically zero without their surrogates (a
    /// max-pooling window of dead ReLUs: in most regions of a CNN with MaxPool).
    fn identically_zero(&self, pattern: &Pattern, neurons: &[usize], pairs: &[(usize, usize)], n0: usize) -> bool {
        let dead = self.reading_only_zeros(pattern);
        let neurons: Vec<usize> = neurons.iter().copied().filter(|&k| !dead[k]).collect();
        let pairs: Vec<(usize, usize)> = pairs.iter().copied().filter(|&(j, i)| !(dead[j] && dead[i])).collect();
        if neurons.is_empty() && pairs.is_empty() {
            return true;
        }
        let surrogates = self.surrogates(pattern, n0);
        neurons.iter().all(|&k| surrogates[k].1.is_zero() && surrogates[k].0.iter().all(Zero::is_zero))
            && pairs.iter().all(|&(j, i)| surrogates[j] == surrogates[i])
    }

    /// Per hidden unit, whether its bias is zero and it reads only units that pass zero on the
    /// region of `pattern` (inactive, not their window's argmax, or themselves such units).
    fn reading_only_zeros(&self, pattern: &Pattern) -> Vec<bool> {
        let mut all = Vec::new();
        let mut passes_zero: Vec<bool> = Vec::new();
        for (l, (w, b)) in self.layers.iter().enumerate() {
            let first = all.len();
            for (row, bj) in w.iter().zip(b) {
                let reads_zeros = row.iter().all(|(i, _)| l > 0 && passes_zero[*i]);
                all.push(bj.is_zero() && reads_zeros);
            }
            passes_zero = (first..all.len()).map(|k| all[k] || !pattern.get(k)).collect();
        }
        all
    }

    /// Every hidden unit's surrogate `(coefficients, offset)` on `pattern`, exactly.
    fn surrogates(&self, pattern: &Pattern, n0: usize) -> Vec<(Vec<Q>, Q)> {
        let mut all = Vec::new();
        // Affine map of h_{l-1}: rows of (coefficients, offset).
        let mut map: Vec<(Vec<Q>, Q)> = (0..n0)
            .map(|i| ((0..n0).map(|k| if k == i { Q::from_integer(1.into()) } else { Q::zero() }).collect(), Q::zero()))
            .collect();
        let mut k = 0;
        for (w, b) in &self.layers {
            let mut next = Vec::with_capacity(w.len());
            for (row, bj) in w.iter().zip(b) {
                let mut coef = vec![Q::zero(); n0];
                let mut off = bj.clone();
                for (i, wi) in row {
                    let (c, o) = &map[*i];
                    coef.iter_mut().zip(c).for_each(|(a, ci)| *a += wi * ci);
                    off += wi * o;
                }
                all.push((coef.clone(), off.clone()));
                if pattern.get(k) {
                    next.push((coef, off));
                } else {
                    next.push((vec![Q::zero(); n0], Q::zero()));
                }
                k += 1;
            }
            map = next;
        }
        all
    }
}

/// Certifies every region of `walk` (see the module documentation): the regions it lists, so a
/// walk to certify keeps its list (not `WalkOptions::count_only`) and tells regions apart by exact
/// patterns (`Identity::Patterns`), as `count --certify` does.
pub fn certify(net: &Network, domain: &Domain, walk: &WalkResult) -> Certification {
    let exact = ExactNetwork::new(net);
    let outcomes: Vec<Result<(), String>> = walk
        .regions
        .par_iter()
        .map(|region| {
            let w = region.witness.as_ref().ok_or("no witness (the region was found but not expanded)")?;
            if !domain.contains_exactly(w) {
                return Err("the witness is not strictly inside the domain".into());
            }
            let z = exact.pre_activations(w);
            let (mut zeros, mut ties) = (Vec::new(), Vec::new());
            for (k, v) in z.iter().enumerate() {
                if let Some(window) = exact.windows.of(k) {
                    // The chosen candidate is strictly the largest, or ties with the same function
                    // at a higher index.
                    let j = crate::model::chosen(|i| region.pattern.get(i), window)
                        .ok_or_else(|| format!("the pattern chooses no single argmax in the window of unit {k}"))?;
                    if k != j && (*v > z[j] || (*v == z[j] && k < j)) {
                        return Err(format!("the exact argmax differs at unit {k}"));
                    }
                    if k != j && *v == z[j] {
                        ties.push((j, k));
                    }
                    continue;
                }
                if v.is_positive() != region.pattern.get(k) {
                    return Err(format!("the exact pattern differs at neuron {k}"));
                }
                if v.is_zero() {
                    zeros.push(k);
                }
            }
            let on_boundary = !zeros.is_empty() || !ties.is_empty();
            if on_boundary && !exact.identically_zero(&region.pattern, &zeros, &ties, net.input_dim()) {
                return Err("the witness lies on a region boundary".into());
            }
            Ok(())
        })
        .collect();
    let mut c = Certification::default();
    for (i, o) in outcomes.into_iter().enumerate() {
        match o {
            Ok(()) => c.certified += 1,
            Err(why) => c.failures.push((i, why)),
        }
    }
    c
}
