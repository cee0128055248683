//! One hidden layer's affine map on the cells of one pattern prefix: what a cut tree (the box
//! partition, the estimate's probes) computes layer by layer as it descends, instead of the whole
//! network's maps per node.

use crate::domain::Domain;
use crate::model::{Network, NeuronKind, Pattern};
use ndarray::{Array1, Array2};

/// One hidden layer's affine map on the cells of one pattern prefix.
pub(crate) struct Step {
    /// Surrogate rows `Z_l` (input coordinates).
    pub(crate) z: Array2<f64>,
    /// Offsets (zero for neurons identically zero).
    pub(crate) zeta: Array1<f64>,
    pub(crate) kind: Vec<NeuronKind>,
    /// Norms of the rows of `z`.
    pub(crate) norms: Vec<f64>,
    /// Per neuron, the frame hyperplane: unit normal then offset (`n + 1` numbers; varying only);
    /// empty unless asked for ([`Step::with_planes`]): on a CNN layer they are hundreds of MB.
    pub(crate) planes: Vec<f64>,
}

impl Step {
    /// The input as a "layer" for the first hidden layer's map: identity rows, zero offsets.
    pub(crate) fn input(n: usize) -> Step {
        Step {
            z: Array2::eye(n),
            zeta: Array1::zeros(n),
            kind: vec![NeuronKind::Varying; n],
            norms: vec![1.0; n],
            planes: Vec::new(),
        }
    }

    /// Layer `l`'s map on the cells of `pattern`'s prefix (layers `< l`), from layer `l − 1`'s.
    pub(crate) fn next(net: &Network, l: usize, pattern: &Pattern, prev: &Step) -> Step {
        let first_prev = if l == 0 { None } else { Some(net.neuron_index(l - 1, 0)) };
        let active = |j: usize| first_prev.is_none_or(|f| pattern.get(f + j));
        let pass = |j: usize| active(j) && prev.kind[j] == NeuronKind::Varying;
        let mut prev_z = prev.z.clone();
        let mut prev_norms = Array1::zeros(prev.norms.len());
        let mut prev_off = Array1::zeros(prev.norms.len());
        for j in 0..prev.norms.len() {
            if pass(j) {
                prev_norms[j] = prev.norms[j];
            } else {
                prev_z.row_mut(j).fill(0.0);
            }
            if active(j) {
                prev_off[j] = prev.zeta[j];
            }
        }
        let (z, norms, zo, kind) = net.layer_map(l, &prev_z, prev_norms.view(), prev_off.view());
        let zeta = Array1::from_iter(zo.iter().zip(&kind).map(|(v, k)| if *k == NeuronKind::Zero { 0.0 } else { *v }));
        Step { z, zeta, kind, norms, planes: Vec::new() }
    }

    /// The step with every varying neuron's frame hyperplane in `planes`: for callers that test
    /// most of a layer's hyperplanes (the box partition); others ask [`Domain::halfspace`] for
    /// the few they need.
    pub(crate) fn with_planes(mut self, domain: &Domain) -> Step {
        let n = self.z.ncols();
        let mut planes = vec![0.0; self.kind.len() * (n + 1)];
        for (j, plane) in planes.chunks_exact_mut(n + 1).enumerate() {
            if self.kind[j] != NeuronKind::Varying {
                continue;
            }
            plane[..n].iter_mut().zip(self.z.row(j)).for_each(|(p, a)| *p = *a);
            plane[n] = self.zeta[j];
            let nonzero = domain.to_frame_plane(plane);
            debug_assert!(nonzero, "a varying neuron has a nonzero row");
        }
        self.planes = planes;
        self
    }
}
