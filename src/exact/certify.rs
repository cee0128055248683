//! `--certify`: every counted region's witness point re-checked in exact rational arithmetic
//! (`num-rational`; weights, biases and points are binary fractions, so nothing is rounded): the
//! activation pattern recomputed exactly at the witness must be the region's, the witness must lie
//! strictly inside the domain, and every pre-activation that is exactly zero there must belong to a
//! neuron that is identically zero on the region. Each certified region is then proven to have an
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

/// The network's parameters as exact rationals.
struct ExactNetwork {
    layers: Vec<(Vec<Vec<Q>>, Vec<Q>)>,
}

impl ExactNetwork {
    fn new(net: &Network) -> Self {
        let layers = net
            .hidden()
            .iter()
            .map(|l| {
                (
                    l.weight.to_dense().outer_iter().map(|r| r.iter().map(|&w| q(w)).collect()).collect(),
                    l.bias.iter().map(|&b| q(b)).collect(),
                )
            })
            .collect();
        ExactNetwork { layers }
    }

    /// Exact pre-activations of every hidden neuron at `x`, in pattern order.
    fn pre_activations(&self, x: &[f64]) -> Vec<Q> {
        let mut h: Vec<Q> = x.iter().map(|&v| q(v)).collect();
        let mut out = Vec::new();
        for (w, b) in &self.layers {
            let z: Vec<Q> = w
                .iter()
                .zip(b)
                .map(|(row, bj)| row.iter().zip(&h).fold(bj.clone(), |acc, (a, v)| acc + a * v))
                .collect();
            h = z.iter().map(|v| if v.is_positive() { v.clone() } else { Q::zero() }).collect();
            out.extend(z);
        }
        out
    }

    /// Whether each listed neuron's surrogate on `pattern` is identically zero (exactly).
    fn identically_zero(&self, pattern: &Pattern, neurons: &[usize], n0: usize) -> bool {
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
                for (wi, (c, o)) in row.iter().zip(&map) {
                    if wi.is_zero() {
                        continue;
                    }
                    coef.iter_mut().zip(c).for_each(|(a, ci)| *a += wi * ci);
                    off += wi * o;
                }
                if neurons.contains(&k) && (!off.is_zero() || coef.iter().any(|a| !a.is_zero())) {
                    return false;
                }
                if pattern.get(k) {
                    next.push((coef, off));
                } else {
                    next.push((vec![Q::zero(); n0], Q::zero()));
                }
                k += 1;
            }
            map = next;
        }
        true
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
            let mut zeros = Vec::new();
            for (k, v) in z.iter().enumerate() {
                if v.is_positive() != region.pattern.get(k) {
                    return Err(format!("the exact pattern differs at neuron {k}"));
                }
                if v.is_zero() {
                    zeros.push(k);
                }
            }
            if !zeros.is_empty() && !exact.identically_zero(&region.pattern, &zeros, net.input_dim()) {
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
