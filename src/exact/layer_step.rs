//! One hidden layer's affine map on the cells of one pattern prefix: what a cut tree (the box
//! partition, the estimate's probes) computes layer by layer as it descends, instead of the whole
//! network's maps per node.
//!
//! The rows are stored as the layers are ([`Weight`]): dense for an MLP, sparse through
//! convolutions, whose rows read only their receptive field. Dense, the first layer's map of a
//! CIFAR CNN (16,384 neurons × 3,072 inputs) holds 400 MB and the next one's costs a product of
//! 10⁹ terms per node; sparse, they hold a few MB and cost a product of the stored entries.

use crate::domain::Domain;
use crate::model::{Network, NeuronKind, Pattern, Weight};
use ndarray::Array1;

/// One hidden layer's affine map on the cells of one pattern prefix.
pub(crate) struct Step {
    /// Surrogate rows `Z_l` (input coordinates).
    pub(crate) z: Weight,
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
            z: Weight::identity(n),
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
        let pass: Vec<bool> = (0..prev.norms.len()).map(|j| active(j) && prev.kind[j] == NeuronKind::Varying).collect();
        let prev_z = prev.z.mask_rows(&pass);
        let prev_norms = Array1::from_iter((0..pass.len()).map(|j| if pass[j] { prev.norms[j] } else { 0.0 }));
        let prev_off = Array1::from_iter((0..pass.len()).map(|j| if active(j) { prev.zeta[j] } else { 0.0 }));
        let (z, norms, zo, kind) = net.layer_map(l, &prev_z, prev_norms.view(), prev_off.view());
        let zeta = Array1::from_iter(zo.iter().zip(&kind).map(|(v, k)| if *k == NeuronKind::Zero { 0.0 } else { *v }));
        Step { z, zeta, kind, norms, planes: Vec::new() }
    }

    /// Unit `j`'s row as a dense vector (input coordinates), zero where the unit does not vary:
    /// what a max window's pairwise differences are formed from.
    pub(crate) fn dense_row(&self, j: usize) -> Vec<f64> {
        let mut row = vec![0.0; self.z.ncols()];
        if self.kind[j] == NeuronKind::Varying {
            self.z.add_row_scaled(j, 1.0, &mut row);
        }
        row
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
            match &self.z {
                Weight::Dense(z) => plane[..n].iter_mut().zip(z.row(j)).for_each(|(p, a)| *p = *a),
                sparse => sparse.row(j).for_each(|(i, a)| plane[i] = a),
            }
            plane[n] = self.zeta[j];
            let nonzero = domain.to_frame_plane(plane);
            debug_assert!(nonzero, "a varying neuron has a nonzero row");
        }
        self.planes = planes;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::Step;
    use crate::model::{Layer, Network, Pattern, Weight};
    use ndarray::{Array1, Array2};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The same network with every layer stored sparse gives every step the same rows, offsets,
    /// norms and kinds as with dense layers (to rounding: sparse products sum in another order),
    /// down random pattern prefixes, with dead rows and duplicated neurons among the layers.
    #[test]
    fn sparse_layers_give_the_dense_steps() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for case in 0..40 {
            let mut widths = vec![rng.gen_range(1..12)];
            widths.extend((0..rng.gen_range(1..4)).map(|_| rng.gen_range(1..30)));
            widths.push(2);
            let layers: Vec<(Array2<f64>, Array1<f64>)> = widths
                .windows(2)
                .map(|w| {
                    let mut m = Array2::from_shape_fn((w[1], w[0]), |_| match rng.gen_range(0..3) {
                        0 => 0.0,
                        _ => rng.gen_range(-1.0..1.0),
                    });
                    if w[1] > 2 {
                        m.row_mut(0).fill(0.0);
                        let row = m.row(1).to_owned();
                        m.row_mut(w[1] - 1).assign(&row);
                    }
                    (m, Array1::from_shape_fn(w[1], |_| rng.gen_range(-0.5..0.5)))
                })
                .collect();
            let build = |sparse: bool| {
                let layers = layers
                    .iter()
                    .map(|(m, b)| {
                        let w = Weight::from(m.clone());
                        Layer { weight: if sparse { w.csr() } else { w }, bias: b.clone() }
                    })
                    .collect();
                Network::new(layers, None).expect("a valid network")
            };
            let (dense, sparse) = (build(false), build(true));
            let mut pattern = Pattern::zeros(dense.neurons());
            (0..pattern.len()).for_each(|k| pattern.set(k, rng.gen_bool(0.6)));
            let (mut d, mut s) = (Step::input(widths[0]), Step::input(widths[0]));
            for l in 0..dense.hidden().len() {
                d = Step::next(&dense, l, &pattern, &d);
                s = Step::next(&sparse, l, &pattern, &s);
                // The first layer's rows keep the layer's storage; later ones are sparse
                // products, stored as `Weight::compact` says.
                assert!(l > 0 || s.z.is_sparse(), "case {case}");
                assert_eq!(d.kind, s.kind, "case {case}, layer {l}");
                let (dz, sz) = (d.z.to_dense(), s.z.to_dense());
                let scale = 1.0 + dz.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
                for (a, b) in dz.iter().zip(sz.iter()) {
                    assert!((a - b).abs() <= 1e-12 * scale, "case {case}, layer {l}: {a} against {b}");
                }
                for (a, b) in d.zeta.iter().zip(&s.zeta).chain(d.norms.iter().zip(&s.norms)) {
                    assert!((a - b).abs() <= 1e-12 * (1.0 + a.abs()), "case {case}, layer {l}: {a} against {b}");
                }
            }
        }
    }
}
