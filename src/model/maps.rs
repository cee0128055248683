//! The per-layer affine maps of a pattern, and their update to a nearby pattern by low-rank
//! corrections instead of a recomputation from the input.
//!
//! On the region of pattern `s`, hidden layer `l` computes `z_l = Z_l x + ζ_l` with
//! `Z_l = W_l J_{l−1}`, where `J_{l−1} = diag(m_{l−1}) Z_{l−1}` keeps the rows of the neurons that
//! pass their linear part on (`m_k`: active and varying). Recomputing `Z_l` costs
//! `width_l · width_{l−1} · n0` per layer. For another pattern `s'`, let `C_l` be the neurons whose
//! `m` differs. Then
//!
//! ```text
//! J'_l − J_l = diag(m' − m)_{C_l} Z'_l + diag(m) (Z'_l − Z_l),
//! Z'_{l+1} − Z_{l+1} = W_{l+1} (J'_l − J_l) = U_{l+1} V_{l+1},
//! U_{l+1} = [ W_{l+1}[:, C_l] diag(m' − m) | W_{l+1} diag(m) U_l ],   V_{l+1} = [ Z'_l[C_l, :] ; V_l ]
//! ```
//!
//! a correction of rank `Σ |C|`: one per flipped neuron (a facet crossing flips one class). The
//! update costs `width · (width + n0) · rank` per layer. Offsets `ζ` are recomputed (cheap). It
//! needs only the *new* rows `Z'_l`, so the maps are updated in place (in 784-D a layer's map is
//! megabytes: copying them was 15% of a deep network's walk).

use super::weight::Readers;
use super::{Network, NeuronKind, Pattern, Surrogate, Weight};
use crate::tolerance::{CANCEL, NEAR_CANCEL};
use ndarray::{s, Array1, Array2, ArrayView1, Axis};
use std::borrow::Cow;

/// The maps of one pattern, layer by layer: what [`Network::surrogate_near`] keeps between calls.
#[derive(Clone, Debug)]
pub struct LayerMaps {
    pattern: Pattern,
    /// `Z_l` per hidden layer (`width_l × n0`), before snapping cancellations: dense through
    /// dense layers, sparse through convolutions (a row reads its receptive field only), as
    /// [`Weight::compose`] stores the product. Dense, the first map of a CIFAR CNN alone holds
    /// 400 MB (16,384 neurons × 3,072 inputs).
    z: Vec<Weight>,
    /// Neuron kinds on the region (all layers).
    kind: Vec<NeuronKind>,
    /// Per hidden layer, whether each neuron passes its linear part on (active and varying).
    pass: Vec<Vec<bool>>,
    /// Pre-activation offsets `ζ` (all layers; zero for neurons identically zero).
    zeta: Array1<f64>,
    /// Per hidden layer, `W_l o_{l−1} + b_l` as computed (before zero neurons are snapped to 0):
    /// a nearby region's are recomputed from these where its inputs differ.
    raw_offsets: Vec<Array1<f64>>,
    /// Per hidden layer, the norms of `Z_l`'s rows (as used to classify the neurons): a sparse map
    /// updated row by row recomputes only those of the rows it recomputed.
    row_norms: Vec<Vec<f64>>,
    /// Offset of the last hidden layer's output.
    last_offset: Array1<f64>,
}

/// Which layer maps [`Network::layer_maps`] keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Keep {
    /// Every layer's (the walk reads each neuron's hyperplane; updates start from them).
    Every,
    /// The last hidden layer's only (the output map).
    Last,
}

impl LayerMaps {
    /// Each neuron's kind on the region (all layers, in pattern order).
    pub fn kind(&self) -> &[NeuronKind] {
        &self.kind
    }

    /// The bytes the layer maps' entries hold (sparse ones with their column indices).
    pub fn bytes(&self) -> usize {
        let stored = |z: &Weight| match z {
            Weight::Dense(d) => d.len() * 8,
            Weight::Sparse(s) => s.nnz() * 16 + s.rows() * 8,
        };
        self.z.iter().map(stored).sum()
    }
}

impl Network {
    /// The surrogate of `s` ([`Network::surrogate`]), computed by a low-rank update of `near`'s
    /// maps when `near` holds a pattern that differs in few neurons (and from scratch otherwise);
    /// `near` is replaced by the maps of `s`. Equal to the scratch computation up to rounding
    /// (tested to 1e-12 relative).
    pub fn surrogate_near(&self, s: &Pattern, near: &mut Option<LayerMaps>) -> Surrogate {
        self.assemble(self.maps_near(s, near))
    }

    /// The maps of `s`, kept in `near` (updated in place from `near`'s previous maps when that is
    /// cheaper): what the walk reads each region's hyperplanes from ([`Network::surrogate_of`]).
    pub fn maps_near<'a>(&self, s: &Pattern, near: &'a mut Option<LayerMaps>) -> &'a LayerMaps {
        let base = near.take().filter(|base| self.worth_updating(base, s));
        near.insert(self.layer_maps(s, base, Keep::Every))
    }

    /// Neuron `k`'s surrogate `(a_k, β_k)` on the region of `maps`, `a_k` as its `n0` dense
    /// coefficients (as computed: meaningful for a varying neuron, see [`LayerMaps::kind`]):
    /// borrowed from a dense map, spread out from a sparse one.
    pub fn surrogate_of<'a>(&self, maps: &'a LayerMaps, k: usize) -> (Cow<'a, [f64]>, f64) {
        let (l, j) = self.neuron_position(k);
        let row = match &maps.z[l] {
            Weight::Dense(d) => d.row(j).to_slice().map_or_else(|| Cow::Owned(d.row(j).to_vec()), Cow::Borrowed),
            sparse => {
                let mut row = vec![0.0; sparse.ncols()];
                sparse.add_row_scaled(j, 1.0, &mut row);
                Cow::Owned(row)
            }
        };
        (row, maps.zeta[k])
    }

    /// The output map `(J, c)` of pattern `s` (`f(x) = J x + c` on its region), and each neuron's
    /// kind there: the surrogate's (bit for bit) without the hidden neurons' hyperplanes, each
    /// layer's map dropped once the next is computed. What `eval`, the linear regions and the
    /// region graph need: on the 18k-ReLU CIFAR CNN the whole surrogate holds ~0.9 GB.
    pub fn output_map(&self, s: &Pattern) -> (Array2<f64>, Array1<f64>, Vec<NeuronKind>) {
        let maps = self.layer_maps(s, None, Keep::Last);
        let (jacobian, offset) = self.output_of(&maps);
        (jacobian, offset, maps.kind)
    }

    /// The maps of `s`, each `Z_l` computed as `W_l J_{l−1}` (`base = None`) or as `base`'s plus
    /// the low-rank correction, in place. One function for both paths, so that both classify
    /// neurons by the same rule. With [`Keep::Last`] (no `base`), each `Z_l` is emptied once
    /// `Z_{l+1}` is computed.
    pub(super) fn layer_maps(&self, s: &Pattern, mut base: Option<LayerMaps>, keep: Keep) -> LayerMaps {
        debug_assert!(keep == Keep::Every || base.is_none(), "an update needs every layer's map");
        let n0 = self.input_dim();
        let hidden = self.hidden();
        let mut z: Vec<Weight> = Vec::with_capacity(hidden.len());
        let mut kind = vec![NeuronKind::Varying; self.neurons()];
        let mut pass: Vec<Vec<bool>> = Vec::with_capacity(hidden.len());
        let mut zeta = Array1::zeros(self.neurons());
        let mut raw_offsets = Vec::with_capacity(hidden.len());
        let mut kept_norms = Vec::with_capacity(hidden.len());
        // Offset and row norms of the previous layer's output map (the input: 0 and ones).
        let mut off: Array1<f64> = Array1::zeros(n0);
        let mut norms: Array1<f64> = Array1::ones(n0);
        // The low-rank correction of Z_l relative to `base` (update path only).
        let mut correction: Option<(Array2<f64>, Array2<f64>)> = None;
        // Which rows of the previous layer's map differ from `base`'s, when known row by row (its
        // map was `base`'s own or updated row by row): the next sparse map is then updated there.
        let mut changed: Option<Vec<bool>> = None;
        for (l, layer) in hidden.iter().enumerate() {
            // Magnitudes of the terms of each neuron's surrogate row and offset.
            let row_terms = Terms::new(&layer.weight, &self.row_abs_sums[l], norms.view(), None);
            let abs_off = off.mapv(f64::abs);
            let offset_terms = Terms::new(&layer.weight, &self.row_abs_sums[l], abs_off.view(), Some(&layer.bias));
            let mut corrected = false;
            let mut now_changed = None;
            let mut zl = match (base.as_mut(), l) {
                (Some(b), 0) => {
                    now_changed = Some(vec![false; layer.weight.nrows()]);
                    std::mem::replace(&mut b.z[0], empty(n0))
                }
                (None, 0) => layer.weight.clone(),
                (None, _) => scratch(&layer.weight, &z[l - 1], &pass[l - 1]),
                // A sparse map is recomputed from its stored entries (cheaper than a dense
                // correction); the correction's factors still pass through it to later layers.
                (Some(b), _) => match std::mem::replace(&mut b.z[l], empty(n0)) {
                    Weight::Dense(mut dense) => {
                        if let Some((u, v)) = &correction {
                            ndarray::linalg::general_mat_mul(1.0, u, v, 1.0, &mut dense);
                            corrected = true;
                        }
                        Weight::Dense(dense)
                    }
                    // A sparse map follows a sparse `W`, which has reader rows.
                    Weight::Sparse(old) => match (&changed, &self.readers[l]) {
                        (Some(prev_changed), Some(readers)) => {
                            let dirty: Vec<bool> = (0..prev_changed.len())
                                .map(|i| pass[l - 1][i] != b.pass[l - 1][i] || pass[l - 1][i] && prev_changed[i])
                                .collect();
                            let (map, rows) = update_rows(&layer.weight, readers, old, &z[l - 1], &pass[l - 1], &dirty);
                            now_changed = Some(rows);
                            map
                        }
                        _ => scratch(&layer.weight, &z[l - 1], &pass[l - 1]),
                    },
                },
            };
            // Row norms, once: they classify the neurons and scale the next layer's terms. A sparse
            // map updated row by row keeps `base`'s norms of the rows it kept (the same entries).
            let mut row_norms: Vec<f64> = match (&zl, &now_changed, &base) {
                (Weight::Dense(d), ..) => d.rows().into_iter().map(|r| r.dot(&r).sqrt()).collect(),
                (sparse, Some(again), Some(b)) => {
                    (0..again.len()).map(|j| if again[j] { sparse.row_norm(j) } else { b.row_norms[l][j] }).collect()
                }
                (sparse, ..) => sparse.row_norms().to_vec(),
            };
            if let (true, Weight::Dense(dense)) = (corrected, &mut zl) {
                recompute_cancelled_rows(dense, &mut row_norms, &layer.weight, &z[l - 1], &pass[l - 1], &row_terms);
            }
            let zo = match (&base, &self.readers[l]) {
                (Some(b), Some(readers)) => self.offsets_near(l, b, readers, &off),
                _ => layer.weight.dot(off.view()) + &layer.bias,
            };
            let mut layer_pass = vec![false; layer.weight.nrows()];
            let mut next_off = Array1::zeros(layer.weight.nrows());
            let first = self.offsets[l];
            classify(&row_terms, &offset_terms, &row_norms, &zo, &mut kind[first..first + zo.len()]);
            for j in 0..layer.weight.nrows() {
                let k = first + j;
                zeta[k] = if kind[k] == NeuronKind::Zero { 0.0 } else { zo[j] };
                if s.get(k) {
                    layer_pass[j] = kind[k] == NeuronKind::Varying;
                    next_off[j] = zeta[k];
                }
            }
            norms = row_norms.iter().zip(&layer_pass).map(|(r, p)| if *p { *r } else { 0.0 }).collect();
            if let (Some(b), Some(next)) = (&base, hidden.get(l + 1)) {
                correction = next_correction(&next.weight, &zl, &b.pass[l], &layer_pass, correction);
            }
            changed = now_changed;
            off = next_off;
            raw_offsets.push(zo);
            kept_norms.push(row_norms);
            z.push(zl);
            pass.push(layer_pass);
            if keep == Keep::Last && l > 0 {
                z[l - 1] = empty(n0);
            }
        }
        LayerMaps { pattern: s.clone(), z, kind, pass, zeta, raw_offsets, row_norms: kept_norms, last_offset: off }
    }

    /// Layer `l`'s `W_l off + b_l` (sparse `W_l`) from `base`'s: only the rows reading an input
    /// that differs from `base`'s input (bit for bit) are summed again, each as
    /// [`Weight::dot`] sums it, so the result is the whole product's bit for bit.
    fn offsets_near(&self, l: usize, base: &LayerMaps, readers: &Readers, off: &Array1<f64>) -> Array1<f64> {
        let layer = &self.hidden()[l];
        // `base`'s input offsets, as `layer_maps` formed them: none for the first layer.
        let base_input = |i: usize| match l {
            0 => 0.0,
            _ => {
                let k = self.offsets[l - 1] + i;
                if base.pattern.get(k) {
                    base.zeta[k]
                } else {
                    0.0
                }
            }
        };
        let mut zo = base.raw_offsets[l].clone();
        let mut done = vec![false; zo.len()];
        for i in (0..off.len()).filter(|&i| off[i].to_bits() != base_input(i).to_bits()) {
            for &j in readers.of(i) {
                let j = j as usize;
                if !std::mem::replace(&mut done[j], true) {
                    zo[j] = layer.weight.row_dot(j, off.view()) + layer.bias[j];
                }
            }
        }
        zo
    }

    /// Whether updating `near`'s maps to `s` is cheaper than a recomputation: not when the
    /// correction's rank passes a quarter of the smaller of `n0` and the widest layer (and 4).
    fn worth_updating(&self, near: &LayerMaps, s: &Pattern) -> bool {
        let widest = self.hidden_widths().into_iter().max().unwrap_or(0);
        let cap = (self.input_dim().min(widest) / 4).max(4);
        (0..s.len()).filter(|&k| s.get(k) != near.pattern.get(k)).count() <= cap
    }

    /// The surrogate from the maps: `a_k` is `Z`'s row for a varying neuron (0 otherwise).
    pub(super) fn assemble(&self, maps: &LayerMaps) -> Surrogate {
        let (a, beta, kind) = self.hyperplanes(maps);
        let (jacobian, offset) = self.output_of(maps);
        Surrogate { a, beta, kind, jacobian, offset }
    }

    /// The output map from the maps (the last hidden layer's is all it reads).
    fn output_of(&self, maps: &LayerMaps) -> (Array2<f64>, Array1<f64>) {
        let output = self.layers().last().expect("a network has an output layer");
        let (Some(last), Some(pass)) = (maps.z.last(), maps.pass.last()) else {
            return (output.weight.to_dense().into_owned(), output.bias.clone());
        };
        let jacobian = match last {
            Weight::Dense(last) => output.weight.masked_product(last, pass),
            sparse => output.weight.compose(&sparse.mask_rows(pass)).to_dense().into_owned(),
        };
        (jacobian, output.weight.dot(maps.last_offset.view()) + &output.bias)
    }

    /// The hidden neurons' surrogates from the maps, as one matrix: `a_k` is `Z`'s row for a
    /// varying neuron (0 otherwise), with the offsets and kinds.
    fn hyperplanes(&self, maps: &LayerMaps) -> (Array2<f64>, Array1<f64>, Vec<NeuronKind>) {
        let mut a = Array2::zeros((self.neurons(), self.input_dim()));
        for (l, zl) in maps.z.iter().enumerate() {
            let first = self.offsets[l];
            match zl {
                Weight::Dense(d) => a.slice_mut(s![first..first + zl.nrows(), ..]).assign(d),
                sparse => sparse.entries().for_each(|(j, i, v)| a[[first + j, i]] = v),
            }
            for j in 0..zl.nrows() {
                if maps.kind[first + j] != NeuronKind::Varying {
                    a.row_mut(first + j).fill(0.0);
                }
            }
        }
        (a, maps.zeta.clone(), maps.kind.clone())
    }
}

impl Network {
    /// Layer `l`'s surrogate rows `Z_l = W_l J_{l−1}`, their norms, the offsets on a region and
    /// its neurons' kinds, from the previous layer's output map `J_{l−1} = prev_z` (rows of
    /// neurons that do not pass their linear part on already zero; the identity for `l = 0`),
    /// with its rows' norms and offsets. What [`Network::layer_maps`] computes per layer, for
    /// callers that hold one pattern prefix per region (the box partition).
    pub(crate) fn layer_map<'a>(
        &'a self,
        l: usize,
        prev_z: &Weight,
        prev_norms: ArrayView1<'a, f64>,
        prev_off: ArrayView1<f64>,
    ) -> (Weight, Vec<f64>, Array1<f64>, Vec<NeuronKind>) {
        let layer = &self.hidden()[l];
        // Stored as the layer is: dense rows through dense layers (as the walk's maps), sparse
        // ones through convolutions (`crate::exact::layer_step`).
        let z = match (l, prev_z) {
            (0, _) => layer.weight.clone(),
            (_, Weight::Dense(prev)) => Weight::Dense(layer.weight.dot_mat(prev)),
            (_, sparse) => layer.weight.compose(sparse),
        };
        let zo = layer.weight.dot(prev_off) + &layer.bias;
        let row_norms: Vec<f64> = match &z {
            Weight::Dense(d) => d.rows().into_iter().map(|r| r.dot(&r).sqrt()).collect(),
            sparse => sparse.row_norms().to_vec(),
        };
        let row_terms = Terms::new(&layer.weight, &self.row_abs_sums[l], prev_norms, None);
        let abs_off = prev_off.mapv(f64::abs);
        let offset_terms = Terms::new(&layer.weight, &self.row_abs_sums[l], abs_off.view(), Some(&layer.bias));
        let mut kind = vec![NeuronKind::Varying; zo.len()];
        classify(&row_terms, &offset_terms, &row_norms, &zo, &mut kind);
        (z, row_norms, zo, kind)
    }
}

/// Layer `w`'s map from the previous layer's, `W diag(pass) Z_prev`: dense through a dense
/// previous map, and sparse through a sparse one while at most [`SPARSE_MAP_DENSITY`] of it is
/// nonzero.
fn scratch(w: &Weight, prev: &Weight, pass: &[bool]) -> Weight {
    match prev {
        Weight::Dense(prev) => Weight::Dense(w.masked_product(prev, pass)),
        sparse => match w.compose(&sparse.mask_rows(pass)) {
            product @ Weight::Sparse(_)
                if product.nnz() as f64 > SPARSE_MAP_DENSITY * (product.nrows() * product.ncols()) as f64 =>
            {
                Weight::Dense(product.to_dense().into_owned())
            }
            product => product,
        },
    }
}

/// `old` (the sparse map `W diag(pass_old) Z_prev_old` of a nearby pattern) made the map
/// `W diag(pass) Z_prev` by recomputing only the rows that read a `dirty` neuron of the previous
/// layer (one whose pass-through or map row changed; found through `readers`, `W`'s transposed
/// pattern, where `W` is sparse); the others are kept. A flipped neuron of a convolution is read
/// by a few dozen rows of the next one, so this costs a small part of the whole product. Where
/// every recomputed row keeps its number of entries, they are written over the old ones in place
/// (the map is megabytes on a CIFAR CNN, and copying it was most of the update). Returns the map
/// and which of its rows were recomputed. Each recomputed row sums its terms in the order the
/// whole product does.
fn update_rows(
    w: &Weight,
    readers: &Readers,
    old: sprs::CsMat<f64>,
    prev: &Weight,
    pass: &[bool],
    dirty: &[bool],
) -> (Weight, Vec<bool>) {
    let (rows, n0) = (old.rows(), old.cols());
    let mut recomputed = vec![false; rows];
    (0..dirty.len())
        .filter(|&i| dirty[i])
        .for_each(|i| readers.of(i).iter().for_each(|&j| recomputed[j as usize] = true));
    // The recomputed rows' entries, one after the other, and where each ends.
    let (mut indices, mut data, mut ends) = (Vec::new(), Vec::new(), Vec::new());
    let (mut sums, mut touched, mut seen) = (vec![0.0; n0], Vec::new(), vec![false; n0]);
    for j in (0..rows).filter(|&j| recomputed[j]) {
        for (i, wi) in w.row(j).filter(|&(i, _)| pass[i]) {
            prev.row(i).for_each(|(c, v)| {
                if !std::mem::replace(&mut seen[c], true) {
                    touched.push(c);
                }
                sums[c] += wi * v;
            });
        }
        touched.sort_unstable();
        for &c in &touched {
            indices.push(c);
            data.push(std::mem::take(&mut sums[c]));
            seen[c] = false;
        }
        touched.clear();
        ends.push(indices.len());
    }
    let mut begin = 0;
    let same_lengths = (0..rows).filter(|&j| recomputed[j]).zip(&ends).all(|(j, &end)| {
        let same = old.indptr().outer_inds_sz(j).len() == end - begin;
        begin = end;
        same
    });
    let map = if same_lengths {
        let (indptr, mut old_indices, mut old_data) = old.into_raw_storage();
        let mut begin = 0;
        for (j, &end) in (0..rows).filter(|&j| recomputed[j]).zip(&ends) {
            let at = indptr[j];
            old_indices[at..at + end - begin].copy_from_slice(&indices[begin..end]);
            old_data[at..at + end - begin].copy_from_slice(&data[begin..end]);
            begin = end;
        }
        // SAFETY: the structure is `old`'s, valid, with some rows' column indices replaced by as
        // many others, each row's sorted, distinct (`seen`) and below `n0` (`prev`'s columns);
        // `CsMat::new` would check all of it again, ~6% of a CIFAR CNN walk.
        let map = unsafe {
            sprs::CsMat::new_unchecked(sprs::CompressedStorage::CSR, (rows, n0), indptr, old_indices, old_data)
        };
        debug_assert!(map.check_compressed_structure().is_ok());
        map
    } else {
        let (mut all_indptr, mut all_indices, mut all_data) =
            (Vec::with_capacity(rows + 1), Vec::with_capacity(old.nnz()), Vec::with_capacity(old.nnz()));
        all_indptr.push(0);
        let mut recomputed_rows = (0..rows).filter(|&j| recomputed[j]).zip(&ends);
        let mut begin = 0;
        for (j, row) in old.outer_iterator().enumerate() {
            if recomputed[j] {
                let (_, &end) = recomputed_rows.next().expect("one range per recomputed row");
                all_indices.extend_from_slice(&indices[begin..end]);
                all_data.extend_from_slice(&data[begin..end]);
                begin = end;
            } else {
                all_indices.extend_from_slice(row.indices());
                all_data.extend_from_slice(row.data());
            }
            all_indptr.push(all_indices.len());
        }
        sprs::CsMat::new((rows, n0), all_indptr, all_indices, all_data)
    };
    (Weight::Sparse(map), recomputed)
}

/// The largest share of nonzeros a layer map is kept sparse with. A sparse map is recomputed
/// for each region from its stored entries, a dense one updated by a low-rank correction; past
/// a few percent (a ResNet's third convolution reads 7×7 pixels of 32×32) the sparse product
/// costs more than the correction: at 25% `resnet_2b`'s walk found 285 regions in 20 s, against
/// 384 with dense maps throughout.
const SPARSE_MAP_DENSITY: f64 = 0.05;

/// An empty map of `n0` columns (what a map moved out or dropped leaves behind).
fn empty(n0: usize) -> Weight {
    Weight::Dense(Array2::zeros((0, n0)))
}

/// Each neuron's kind from the norm of its surrogate row and its offset: varying unless the row
/// cancels ([`CANCEL`] times its terms), then constant unless the offset cancels too.
fn classify(row_terms: &Terms, offset_terms: &Terms, row_norms: &[f64], zo: &Array1<f64>, kind: &mut [NeuronKind]) {
    for (j, kind) in kind.iter_mut().enumerate() {
        *kind = if row_terms.exceeded(j, row_norms[j], CANCEL) {
            NeuronKind::Varying
        } else if offset_terms.exceeded(j, zo[j].abs(), CANCEL) {
            NeuronKind::Constant
        } else {
            NeuronKind::Zero
        };
    }
}

/// Rows of an updated `Z_l` that (nearly) cancel are recomputed from the previous layer: the
/// update's rounding error is relative to the *old* row, and a row that should be exactly zero
/// (a dead or cancelling neuron) must come out as the scratch computation has it, or the neuron's
/// kind would change ([`classify`] compares with `CANCEL` times the terms' magnitude).
/// `row_norms` holds the rows' norms and is kept in step.
fn recompute_cancelled_rows(
    zl: &mut Array2<f64>,
    row_norms: &mut [f64],
    w: &Weight,
    z_prev: &Weight,
    pass_prev: &[bool],
    terms: &Terms,
) {
    for (j, norm) in row_norms.iter_mut().enumerate() {
        if terms.exceeded(j, *norm, NEAR_CANCEL) {
            continue;
        }
        let mut exact = Array1::zeros(zl.ncols());
        for (i, wi) in w.row(j) {
            if pass_prev[i] && wi != 0.0 {
                match z_prev {
                    Weight::Dense(prev) => exact.scaled_add(wi, &prev.row(i)),
                    sparse => sparse.add_row_scaled(i, wi, exact.as_slice_mut().expect("a new array is contiguous")),
                }
            }
        }
        *norm = exact.dot(&exact).sqrt();
        zl.row_mut(j).assign(&exact);
    }
}

/// The magnitudes `|b_j| + Σ_i |W[j, i]|·v_i` of the terms that form each neuron's surrogate row
/// (`v`: the previous map's row norms, no `b`) or offset (`v`: the previous offsets' magnitudes,
/// `b`: the bias). A value is a cancellation when it is not above a small multiple of its
/// magnitude (theory: exact cancellations of degenerate networks are snapped to zero).
struct Terms<'a> {
    w: &'a Weight,
    row_abs_sums: &'a Array1<f64>,
    v: ArrayView1<'a, f64>,
    v_max: f64,
    bias: Option<&'a Array1<f64>>,
}

impl<'a> Terms<'a> {
    fn new(
        w: &'a Weight,
        row_abs_sums: &'a Array1<f64>,
        v: ArrayView1<'a, f64>,
        bias: Option<&'a Array1<f64>>,
    ) -> Self {
        let v_max = v.iter().fold(0.0_f64, |m, x| m.max(*x));
        Terms { w, row_abs_sums, v, v_max, bias }
    }

    /// Whether `value > factor · magnitude_j > 0` (a value formed of no nonzero terms is an exact
    /// zero, whatever rounding left in it). The magnitude is at most `|b_j| + (Σ_i |W[j, i]|)·max v`,
    /// so a value above that bound (widened for rounding) needs no exact sum: the answer is the
    /// same, and the exact sum (`width` products) is rare.
    fn exceeded(&self, j: usize, value: f64, factor: f64) -> bool {
        let b = self.bias.map_or(0.0, |b| b[j].abs());
        let bound = b + self.row_abs_sums[j] * self.v_max;
        if bound == 0.0 {
            return false;
        }
        if value > factor * bound * (1.0 + crate::tolerance::MAP_BOUND) {
            return true;
        }
        let magnitude = b + self.w.row(j).map(|(i, w)| w.abs() * self.v[i]).sum::<f64>();
        magnitude > 0.0 && value > factor * magnitude
    }
}

/// The factors `(U_{l+1}, V_{l+1})` of `Z'_{l+1} − Z_{l+1}` from those of layer `l` and the new
/// `Z'_l` (module doc). `None` if nothing differs.
fn next_correction(
    w_next: &Weight,
    z_new: &Weight,
    pass_base: &[bool],
    pass_new: &[bool],
    correction: Option<(Array2<f64>, Array2<f64>)>,
) -> Option<(Array2<f64>, Array2<f64>)> {
    let changed: Vec<usize> = (0..pass_new.len()).filter(|&j| pass_new[j] != pass_base[j]).collect();
    let carried = correction.as_ref().map_or(0, |(u, _)| u.ncols());
    let rank = changed.len() + carried;
    if rank == 0 {
        return None;
    }
    let (width, n0) = (w_next.nrows(), z_new.ncols());
    let mut u = Array2::zeros((width, rank));
    let mut v = Array2::zeros((rank, n0));
    for (c, &j) in changed.iter().enumerate() {
        let sign = if pass_new[j] { 1.0 } else { -1.0 };
        u.column_mut(c).assign(&(w_next.column(j) * sign));
        match z_new {
            Weight::Dense(z) => v.row_mut(c).assign(&z.row(j)),
            sparse => {
                sparse.add_row_scaled(j, 1.0, v.row_mut(c).into_slice().expect("rows of a new array are contiguous"))
            }
        }
    }
    if let Some((u_old, v_old)) = correction {
        // W_{l+1} diag(m) U_l.
        let mut masked = u_old;
        for (mut row, keep) in masked.axis_iter_mut(Axis(0)).zip(pass_base) {
            if !keep {
                row.fill(0.0);
            }
        }
        u.slice_mut(s![.., changed.len()..]).assign(&w_next.dot_mat(&masked));
        v.slice_mut(s![changed.len().., ..]).assign(&v_old);
    }
    Some((u, v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// A random sparse matrix with about `density` of its entries nonzero.
    fn random_sparse(rng: &mut rand_chacha::ChaCha8Rng, rows: usize, cols: usize, density: f64) -> Weight {
        let d =
            Array2::from_shape_fn((rows, cols), |_| if rng.gen_bool(density) { rng.gen_range(-1.0..1.0) } else { 0.0 });
        Weight::Dense(d).csr()
    }

    /// `W diag(pass) Z_prev` summed row by row in the whole product's order.
    fn product(w: &Weight, prev: &Weight, pass: &[bool]) -> sprs::CsMat<f64> {
        let every_input = vec![true; w.ncols()];
        let empty = sprs::CsMat::zero((w.nrows(), prev.ncols()));
        let readers = w.readers().expect("a sparse W has reader rows");
        let Weight::Sparse(map) = update_rows(w, &readers, empty, prev, pass, &every_input).0 else { unreachable!() };
        map
    }

    /// A map updated after a few neurons of the previous layer flipped or changed their rows is
    /// the product computed afresh, bit for bit, the rows recomputed through the readers are those
    /// a scan of `W` finds, and the recomputed rows fit in place or not (both happen, and the
    /// in-place update keeps the old map's storage).
    #[test]
    fn updated_maps_are_the_product_afresh_in_place_or_not() {
        let (mut in_place, mut rebuilt) = (0, 0);
        for seed in 0..200u64 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let (rows, inner, cols) = (rng.gen_range(1..40), rng.gen_range(1..30), rng.gen_range(1..25));
            let densities = (rng.gen_range(0.05..0.4), rng.gen_range(0.05..0.5));
            let w = random_sparse(&mut rng, rows, inner, densities.0);
            let prev_old = random_sparse(&mut rng, inner, cols, densities.1);
            let pass_old: Vec<bool> = (0..inner).map(|_| rng.gen_bool(0.6)).collect();
            // A few flips; a few rows of the previous map with new values (same or new columns).
            let mut pass = pass_old.clone();
            let mut changed = vec![false; inner];
            for _ in 0..rng.gen_range(0..3) {
                let i = rng.gen_range(0..inner);
                pass[i] = !pass[i];
            }
            let mut prev = prev_old.to_dense().into_owned();
            for _ in 0..rng.gen_range(0..3) {
                let i = rng.gen_range(0..inner);
                changed[i] = true;
                let same_columns = rng.gen_bool(0.5);
                prev.row_mut(i).mapv_inplace(|v| match (same_columns, v != 0.0) {
                    (true, true) => v * 0.5 + 0.25,
                    (true, false) => 0.0,
                    (false, _) => {
                        if rng.gen_bool(0.3) {
                            rng.gen_range(-1.0..1.0)
                        } else {
                            0.0
                        }
                    }
                });
            }
            let prev = Weight::Dense(prev).csr();
            let dirty: Vec<bool> = (0..inner).map(|i| pass[i] != pass_old[i] || pass[i] && changed[i]).collect();
            let afresh = product(&w, &prev, &pass).to_dense();
            let readers = w.readers().expect("a sparse W has reader rows");
            let old = product(&w, &prev_old, &pass_old);
            let old_storage = old.data().as_ptr();
            let (map, recomputed) = update_rows(&w, &readers, old, &prev, &pass, &dirty);
            let Weight::Sparse(map) = map else { panic!("a sparse map stays sparse") };
            assert!(map.check_compressed_structure().is_ok(), "seed {seed}");
            let got = map.to_dense();
            assert!(
                got.iter().zip(&afresh).all(|(a, b)| a.to_bits() == b.to_bits()),
                "seed {seed}: {got} against {afresh}"
            );
            for (j, &again) in recomputed.iter().enumerate() {
                assert_eq!(again, w.row(j).any(|(i, _)| dirty[i]), "seed {seed}, row {j}");
            }
            match map.data().as_ptr() == old_storage {
                true => in_place += 1,
                false => rebuilt += 1,
            }
        }
        assert!(in_place > 50 && rebuilt > 50, "{in_place} in place, {rebuilt} rebuilt");
    }
}
