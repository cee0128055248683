//! The network: a ReLU network of affine layers (dense or sparse weights), its activation patterns and the affine map of any pattern
//! (theory §1). Everything downstream (walk, splitter, bounds) shares these definitions.

pub mod io;
mod maps;
mod pattern;
mod weight;
mod windows;

use crate::tolerance::CANCEL;
use crate::{Error, Result};
pub use maps::LayerMaps;
use ndarray::{Array1, Array2, Axis};
pub(crate) use pattern::packed;
pub use pattern::Pattern;
pub use weight::{Readers, Row, Weight};
pub use windows::MaxWindows;
pub(crate) use windows::{argmax, chosen, difference, Difference};

/// One affine layer `z = W h + b`. ReLU follows every layer of a [`Network`] but the last.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// `out × in`: dense, or sparse for a lowered convolution.
    pub weight: Weight,
    /// Length `out`.
    pub bias: Array1<f64>,
}

/// Per-coordinate bounds of the inputs the network was trained on (e.g. from a `.nnet` header).
#[derive(Clone, Debug, PartialEq)]
pub struct InputBox {
    /// Lower bounds, one per input.
    pub lower: Vec<f64>,
    /// Upper bounds, one per input.
    pub upper: Vec<f64>,
}

/// A ReLU network: hidden layers `h_l = ReLU(W_l h_{l-1} + b_l)`, then an affine output layer; some
/// hidden units may instead be grouped into max windows ([`MaxWindows`]).
#[derive(Clone, Debug)]
pub struct Network {
    layers: Vec<Layer>,
    input_box: Option<InputBox>,
    /// `offsets[l]` is the index of the first neuron of hidden layer `l` in a [`Pattern`].
    offsets: Vec<usize>,
    /// `Σ_i |W_l[j, i]|` per hidden layer and neuron: bounds the magnitudes that cancellations
    /// are measured against (`maps::Terms`), so that the walk rarely computes them exactly.
    row_abs_sums: Vec<Array1<f64>>,
    /// Per hidden layer stored sparse, the rows reading each input: a region's offsets are
    /// recomputed only where its inputs differ from a nearby region's (`maps`).
    readers: Vec<Option<weight::Readers>>,
    /// Which hidden units are the model's own ReLUs (the rest carry skipped values).
    graph_units: GraphUnits,
    /// Hidden units whose activation is a window's maximum instead of a ReLU (none by default).
    windows: MaxWindows,
}

/// Which hidden units of a [`Network`] are the model's own ReLUs. A network lowered from a graph
/// with skip connections (docs/dag.md) also has *carrying* units, at the end of each hidden
/// layer: their signs are functions of their sources' signs, so they split no region, and every
/// pattern a user reads (eval, saved regions, graphs, Python arrays) leaves them out. A chain has
/// none, and its patterns are shown whole.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphUnits {
    /// Units per hidden layer.
    layer_widths: Vec<usize>,
    /// Own ReLUs per hidden layer: the first `own_widths[l]` units of layer `l`.
    own_widths: Vec<usize>,
}

impl GraphUnits {
    /// The model's own ReLUs per hidden layer (the layer of a graph's ReLU is its depth).
    pub fn widths(&self) -> &[usize] {
        &self.own_widths
    }

    /// Carrying units at the end of each hidden layer.
    pub fn carrying(&self) -> Vec<usize> {
        self.layer_widths.iter().zip(&self.own_widths).map(|(w, o)| w - o).collect()
    }

    /// Whether some units carry skipped values.
    pub fn has_carrying(&self) -> bool {
        self.own_widths != self.layer_widths
    }

    /// `s` without its carrying units' bits: the pattern of the model's own ReLUs.
    pub fn pattern(&self, s: &Pattern) -> Pattern {
        if !self.has_carrying() {
            return s.clone();
        }
        let mut own = Pattern::zeros(self.own_widths.iter().sum());
        let (mut from, mut to) = (0, 0);
        for (&width, &own_width) in self.layer_widths.iter().zip(&self.own_widths) {
            for j in 0..own_width {
                own.set(to + j, s.get(from + j));
            }
            from += width;
            to += own_width;
        }
        own
    }

    /// `(layer, index among the layer's own ReLUs)` of unit `k` of a full pattern; `None` for a
    /// carrying unit.
    pub fn position(&self, k: usize) -> Option<(usize, usize)> {
        let mut start = 0;
        for (l, (&width, &own_width)) in self.layer_widths.iter().zip(&self.own_widths).enumerate() {
            if k < start + width {
                return (k - start < own_width).then_some((l, k - start));
            }
            start += width;
        }
        None
    }
}

/// How a pre-activation behaves on one activation region (its surrogate `a·x + β`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NeuronKind {
    /// `a ≠ 0`: the neuron's zero set is a hyperplane that may bound the region.
    Varying,
    /// `a = 0, β ≠ 0`: the neuron keeps one sign on the whole region.
    Constant,
    /// `a = 0, β = 0`: the neuron is identically zero on the region (inactive by convention).
    Zero,
}

impl NeuronKind {
    /// The kind of a surrogate `a·x + β` from `‖a‖`, `β` and the magnitudes of the terms that
    /// formed each: a part within [`CANCEL`] of its terms is an exact cancellation.
    pub(crate) fn of(norm_a: f64, terms_a: f64, beta: f64, terms_beta: f64) -> Self {
        if norm_a > CANCEL * terms_a {
            NeuronKind::Varying
        } else if beta.abs() > CANCEL * terms_beta {
            NeuronKind::Constant
        } else {
            NeuronKind::Zero
        }
    }
}

/// The affine surrogates of every hidden neuron for one pattern `s` (theory §1): on the region of
/// `s`, neuron `k` computes exactly `a_k · x + β_k`. Exact cancellations are snapped to zero.
#[derive(Clone, Debug)]
pub struct Surrogate {
    /// `N × n0`: row `k` is `a_k`.
    pub a: Array2<f64>,
    /// `β_k`.
    pub beta: Array1<f64>,
    /// Classification of each neuron on this region.
    pub kind: Vec<NeuronKind>,
    /// Output map `f(x) = jacobian · x + offset` on this region.
    pub jacobian: Array2<f64>,
    /// See `jacobian`.
    pub offset: Array1<f64>,
}

impl Network {
    /// Builds a network after checking that adjacent layers agree and every number is finite.
    /// Dense weights are stored row-major whatever layout they arrive in (e.g. Fortran order from
    /// NumPy).
    pub fn new(layers: Vec<Layer>, input_box: Option<InputBox>) -> Result<Self> {
        let layers: Vec<Layer> = layers
            .into_iter()
            .map(|l| match l.weight {
                Weight::Dense(d) => Layer { weight: Weight::from(d), bias: l.bias },
                sparse => Layer { weight: sparse, bias: l.bias },
            })
            .collect();
        if layers.is_empty() {
            return Err(Error::network("a network needs at least one layer"));
        }
        for (l, layer) in layers.iter().enumerate() {
            let (rows, cols) = layer.weight.dim();
            if rows == 0 || cols == 0 {
                return Err(Error::network(format!("layer {l} has an empty weight matrix ({rows}×{cols})")));
            }
            if layer.bias.len() != rows {
                return Err(Error::network(format!(
                    "layer {l}: weight has {rows} rows but bias has {} entries",
                    layer.bias.len()
                )));
            }
            if l > 0 && layers[l - 1].weight.nrows() != cols {
                return Err(Error::network(format!(
                    "layer {l} expects {cols} inputs but layer {} has {} outputs",
                    l - 1,
                    layers[l - 1].weight.nrows()
                )));
            }
            if let Some((i, j, v)) = layer.weight.entries().find(|(_, _, v)| !v.is_finite()) {
                return Err(Error::network(format!("layer {l}: weight[{i}][{j}] is {v}")));
            }
            if let Some((i, v)) = layer.bias.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(Error::network(format!("layer {l}: bias[{i}] is {v}")));
            }
        }
        let n0 = layers[0].weight.ncols();
        if let Some(b) = &input_box {
            if b.lower.len() != n0 || b.upper.len() != n0 {
                return Err(Error::network(format!(
                    "input box has {}/{} bounds but the network has {n0} inputs",
                    b.lower.len(),
                    b.upper.len()
                )));
            }
            for i in 0..n0 {
                let (lo, hi) = (b.lower[i], b.upper[i]);
                if lo.is_nan() || hi.is_nan() || lo >= hi {
                    return Err(Error::network(format!("input box coordinate {i}: [{lo}, {hi}] is empty")));
                }
            }
        }
        let mut offsets = vec![0];
        for layer in &layers[..layers.len() - 1] {
            offsets.push(offsets.last().unwrap() + layer.weight.nrows());
        }
        let row_abs_sums = layers[..layers.len() - 1].iter().map(|l| l.weight.row_abs_sums()).collect();
        let readers = layers[..layers.len() - 1].iter().map(|l| l.weight.readers()).collect();
        let widths: Vec<usize> = layers[..layers.len() - 1].iter().map(|l| l.weight.nrows()).collect();
        let graph_units = GraphUnits { own_widths: widths.clone(), layer_widths: widths };
        Ok(Network { layers, input_box, offsets, row_abs_sums, readers, graph_units, windows: MaxWindows::default() })
    }

    /// Convenience constructor from nested rows: `(weight rows, bias)` per layer, no input box.
    pub fn from_rows(layers: &[(Vec<Vec<f64>>, Vec<f64>)]) -> Result<Self> {
        let mut built = Vec::with_capacity(layers.len());
        for (l, (rows, bias)) in layers.iter().enumerate() {
            let cols = rows.first().map_or(0, Vec::len);
            if let Some(i) = rows.iter().position(|r| r.len() != cols) {
                return Err(Error::network(format!(
                    "layer {l}: weight row {i} has {} entries, row 0 has {cols}",
                    rows[i].len()
                )));
            }
            let flat: Vec<f64> = rows.iter().flatten().copied().collect();
            let weight = Array2::from_shape_vec((rows.len(), cols), flat)
                .map_err(|e| Error::network(format!("layer {l}: {e}")))?;
            built.push(Layer { weight: weight.into(), bias: Array1::from(bias.clone()) });
        }
        Network::new(built, None)
    }

    /// A random network with PyTorch's default initialisation (weights and biases uniform in
    /// `±1/sqrt(fan_in)`), seeded: the networks of the benchmarks and examples. `widths` lists the
    /// input, hidden and output sizes.
    pub fn pytorch_default(widths: &[usize], seed: u64) -> Result<Self> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let layers: Vec<(Vec<Vec<f64>>, Vec<f64>)> = widths
            .windows(2)
            .map(|w| {
                let k = 1.0 / (w[0] as f64).sqrt();
                let rows = (0..w[1]).map(|_| (0..w[0]).map(|_| rng.gen_range(-k..k)).collect()).collect();
                (rows, (0..w[1]).map(|_| rng.gen_range(-k..k)).collect())
            })
            .collect();
        Network::from_rows(&layers)
    }

    /// All layers, the last one affine.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The hidden (ReLU) layers.
    pub fn hidden(&self) -> &[Layer] {
        &self.layers[..self.layers.len() - 1]
    }

    /// Input dimension `n0`.
    pub fn input_dim(&self) -> usize {
        self.layers[0].weight.ncols()
    }

    /// The network on the slice where the inputs `fixed` (index, value) are held constant: their
    /// columns of the first layer are folded into its bias, so the result takes the other inputs,
    /// in order. Its activation regions are the regions of `self` that meet the slice (relatively
    /// open there), and its patterns are the same bits. Errors if an index is out of range or
    /// repeated, a value is not finite, or no input is left free.
    pub fn with_fixed_inputs(&self, fixed: &[(usize, f64)]) -> Result<Network> {
        let n0 = self.input_dim();
        let mut is_fixed = vec![false; n0];
        for &(i, v) in fixed {
            if i >= n0 || is_fixed[i] {
                return Err(Error::network(format!("fixed input {i}: out of range or repeated ({n0} inputs)")));
            }
            if !v.is_finite() {
                return Err(Error::network(format!("fixed input {i}: value {v} is not finite")));
            }
            is_fixed[i] = true;
        }
        let free: Vec<usize> = (0..n0).filter(|&i| !is_fixed[i]).collect();
        if free.is_empty() {
            return Err(Error::network("every input is fixed: the domain is a single point (use eval)"));
        }
        let mut bias = self.layers[0].bias.clone();
        for &(i, v) in fixed {
            bias.scaled_add(v, &self.layers[0].weight.column(i));
        }
        let first = Layer { weight: self.layers[0].weight.select_columns(&free), bias };
        let input_box = self.input_box.as_ref().map(|b| InputBox {
            lower: free.iter().map(|&i| b.lower[i]).collect(),
            upper: free.iter().map(|&i| b.upper[i]).collect(),
        });
        self.with_first_layer(first, input_box)
    }

    /// The same network (its hidden units, carrying units and max windows) on other inputs: the
    /// first layer replaced by `first`, which has the same rows.
    pub(crate) fn with_first_layer(&self, first: Layer, input_box: Option<InputBox>) -> Result<Network> {
        let mut layers = self.layers.clone();
        layers[0] = first;
        Ok(Network {
            graph_units: self.graph_units.clone(),
            windows: self.windows.clone(),
            ..Network::new(layers, input_box)?
        })
    }

    /// The same network, with the last `carrying[l]` units of each hidden layer `l` marked as
    /// carrying units ([`GraphUnits`]).
    pub(crate) fn with_carrying(mut self, carrying: &[usize]) -> Self {
        let widths = self.hidden_widths();
        assert!(carrying.len() == widths.len() && carrying.iter().zip(&widths).all(|(c, w)| c <= w));
        let own_widths = widths.iter().zip(carrying).map(|(w, c)| w - c).collect();
        self.graph_units = GraphUnits { own_widths, layer_widths: widths };
        self
    }

    /// Which hidden units are the model's own ReLUs.
    pub fn graph_units(&self) -> &GraphUnits {
        &self.graph_units
    }

    /// The same network with max units: `per_layer[l]` lists windows of hidden layer `l` as
    /// ranges of its units (theory §11); the other units stay ReLUs. Errors unless the windows are
    /// non-empty, disjoint, in order and inside their layer, and the next layer reads every
    /// candidate of a window with the same weights (so that it reads the window's maximum).
    pub fn with_max_windows(self, per_layer: Vec<Vec<std::ops::Range<usize>>>) -> Result<Self> {
        let widths = self.hidden_widths();
        if per_layer.len() > widths.len() {
            return Err(Error::network(format!(
                "max windows for {} hidden layers, but the network has {}",
                per_layer.len(),
                widths.len()
            )));
        }
        for (l, windows) in per_layer.iter().enumerate() {
            let mut end = 0;
            for w in windows {
                if w.start < end || w.start >= w.end || w.end > widths[l] {
                    return Err(Error::network(format!(
                        "hidden layer {l}: max window {}..{} is empty, overlaps the one before or leaves the \
                         layer's {} units",
                        w.start, w.end, widths[l]
                    )));
                }
                end = w.end;
            }
            if windows.is_empty() {
                continue;
            }
            let mut columns: Vec<Vec<(usize, f64)>> = vec![Vec::new(); widths[l]];
            for (r, c, v) in self.layers[l + 1].weight.entries().filter(|e| e.2 != 0.0) {
                columns[c].push((r, v));
            }
            columns.iter_mut().for_each(|c| c.sort_by_key(|e| e.0));
            if let Some(w) = windows.iter().find(|w| (w.start..w.end).any(|i| columns[i] != columns[w.start])) {
                return Err(Error::network(format!(
                    "layer {} reads the candidates {}..{} of a max window of hidden layer {l} with different weights",
                    l + 1,
                    w.start,
                    w.end
                )));
            }
        }
        let mut per_layer = per_layer;
        per_layer.resize(widths.len(), Vec::new());
        let windows = MaxWindows::new(per_layer, &self.offsets, self.neurons());
        Ok(Network { windows, ..self })
    }

    /// The hidden units whose activation is a window's maximum.
    pub fn max_windows(&self) -> &MaxWindows {
        &self.windows
    }

    /// An error naming `what` if the network has max units, for the engines that count ReLU
    /// networks only.
    pub fn require_relu_only(&self, what: &str) -> Result<()> {
        if self.windows.is_empty() {
            return Ok(());
        }
        Err(Error::Settings(format!("{what} does not support max units (MaxPool) yet; the region walk (`count`) does")))
    }

    /// The outputs of hidden layer `l` for its pre-activations `z`: the ReLU of each unit, and in
    /// each max window the maximum at its argmax (the lowest index among equal values), zero at
    /// the other candidates.
    fn activate(&self, l: usize, z: &Array1<f64>) -> Array1<f64> {
        let mut h = z.mapv(|v| v.max(0.0));
        for w in self.windows.in_layer(l) {
            let j = argmax(|i| z[i], w.clone());
            for i in w.clone() {
                h[i] = if i == j { z[i] } else { 0.0 };
            }
        }
        h
    }

    /// Widths of the hidden layers.
    pub fn hidden_widths(&self) -> Vec<usize> {
        self.hidden().iter().map(|l| l.weight.nrows()).collect()
    }

    /// Total number of hidden neurons `N` (the length of a [`Pattern`]).
    pub fn neurons(&self) -> usize {
        *self.offsets.last().unwrap()
    }

    /// Index in a [`Pattern`] of neuron `j` of hidden layer `l`.
    pub fn neuron_index(&self, l: usize, j: usize) -> usize {
        self.offsets[l] + j
    }

    /// `(layer, index within layer)` of pattern index `k`.
    pub fn neuron_position(&self, k: usize) -> (usize, usize) {
        let l = self.offsets.partition_point(|&o| o <= k) - 1;
        (l, k - self.offsets[l])
    }

    /// The model's valid input box, if it declares one.
    pub fn input_box(&self) -> Option<&InputBox> {
        self.input_box.as_ref()
    }

    /// Checks that a point has the input dimension and finite coordinates.
    pub fn check_point(&self, x: &[f64], what: &str) -> Result<()> {
        if x.len() != self.input_dim() {
            return Err(Error::point(format!(
                "{what} has {} coordinates but the network has {} inputs",
                x.len(),
                self.input_dim()
            )));
        }
        if let Some((i, v)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::point(format!("{what}: coordinate {i} is {v}")));
        }
        Ok(())
    }

    /// Pre-activations of every hidden layer at `x`, each with the magnitude of the terms that formed
    /// it (`|W| |h| + |b|`), so that callers can tell a true zero from rounding.
    pub fn pre_activations(&self, x: &[f64]) -> Vec<(Array1<f64>, Array1<f64>)> {
        let mut h = Array1::from(x.to_vec());
        let mut out = Vec::with_capacity(self.hidden().len());
        for (l, layer) in self.hidden().iter().enumerate() {
            let z = layer.weight.dot(h.view()) + &layer.bias;
            let mag = layer.weight.abs_dot(h.mapv(f64::abs).view()) + layer.bias.mapv(f64::abs);
            h = self.activate(l, &z);
            out.push((z, mag));
        }
        out
    }

    /// The network's output at `x`.
    pub fn output(&self, x: &[f64]) -> Array1<f64> {
        let mut h = Array1::from(x.to_vec());
        for (l, layer) in self.layers.iter().enumerate() {
            h = layer.weight.dot(h.view()) + &layer.bias;
            if l + 1 < self.layers.len() {
                h = self.activate(l, &h);
            }
        }
        h
    }

    /// The activation pattern at `x` (a neuron is active iff its pre-activation is `> 0`; a max
    /// window sets the bit of its argmax, the lowest index among equal values).
    pub fn pattern(&self, x: &[f64]) -> Pattern {
        let mut p = Pattern::zeros(self.neurons());
        for (l, (z, _)) in self.pre_activations(x).iter().enumerate() {
            for (j, &v) in z.iter().enumerate() {
                p.set(self.offsets[l] + j, v > 0.0);
            }
            for w in self.windows.in_layer(l) {
                let j = argmax(|i| z[i], w.clone());
                w.clone().for_each(|i| p.set(self.offsets[l] + i, i == j));
            }
        }
        p
    }

    /// The pattern at `x` if `x` certifies it: every pre-activation is clearly non-zero
    /// (`|z| > WITNESS·magnitude`) or belongs to a neuron that is identically zero on the whole
    /// region (a dead or cancelled neuron, which never bounds a region). `None` on a boundary.
    pub fn interior_pattern(&self, x: &[f64]) -> Option<Pattern> {
        let mut p = Pattern::zeros(self.neurons());
        let mut near_zero = Vec::new();
        // Neurons identically zero on the region, found without its maps: a zero bias and inputs
        // that are all outputs of clearly inactive or identically zero neurons (a dead channel of a
        // CNN, a carried copy of an inactive unit, docs/dag.md). Only other near-zero neurons need
        // the region's maps, which for a CNN are hundreds of MB.
        let mut dead_before: Vec<bool> = Vec::new();
        // Max-window candidates too close to their window's argmax to tell apart at `x`: certified
        // only if the two are the same function on the region (theory §11).
        let mut near_ties = Vec::new();
        for (l, (z, mag)) in self.pre_activations(x).iter().enumerate() {
            let mut dead = vec![false; z.len()];
            for w in self.windows.in_layer(l) {
                let zero: Vec<bool> = w.clone().map(|i| self.identically_zero(l, i, |c| dead_before[c])).collect();
                let j = argmax(|i| z[i], w.clone());
                for i in w.clone() {
                    let both_zero = zero[i - w.start] && zero[j - w.start];
                    if i != j && !both_zero && z[j] - z[i] <= crate::tolerance::WITNESS * (mag[j] + mag[i]) {
                        near_ties.push((self.offsets[l] + j, self.offsets[l] + i));
                    }
                    p.set(self.offsets[l] + i, i == j);
                    dead[i] = i != j || zero[j - w.start];
                }
            }
            for j in 0..z.len() {
                let k = self.offsets[l] + j;
                if self.windows.of(k).is_some() {
                    continue;
                }
                if z[j].abs() > crate::tolerance::WITNESS * mag[j] {
                    p.set(k, z[j] > 0.0);
                    dead[j] = z[j] < 0.0;
                } else if self.identically_zero(l, j, |i| dead_before[i]) {
                    dead[j] = true;
                } else {
                    near_zero.push(k);
                }
            }
            dead_before = dead;
        }
        if !near_ties.is_empty() {
            let sur = self.surrogate(&p);
            let unit = |k: usize| (sur.a.row(k).to_slice().expect("standard layout"), sur.beta[k], sur.kind[k]);
            if near_ties.iter().any(|&(j, i)| i < j || difference(unit(j), unit(i)) != Difference::Identical)
                || near_zero.iter().any(|&k| sur.kind[k] != NeuronKind::Zero)
            {
                return None;
            }
        } else if !near_zero.is_empty() {
            let (_, _, kind) = self.output_map(&p);
            if near_zero.iter().any(|&k| kind[k] != NeuronKind::Zero) {
                return None;
            }
        }
        Some(p)
    }

    /// [`Network::interior_pattern`] for many points (one per row) at once: the pre-activations and
    /// their magnitudes come from matrix products; a point with any pre-activation near zero is
    /// decided by `interior_pattern` itself, so the answers are the same.
    pub fn interior_patterns(&self, points: &Array2<f64>) -> Vec<Option<Pattern>> {
        if !self.windows.is_empty() {
            return points.rows().into_iter().map(|x| self.interior_pattern(&x.to_vec())).collect();
        }
        let mut h = points.t().as_standard_layout().into_owned();
        let mut patterns = vec![Pattern::zeros(self.neurons()); points.nrows()];
        let mut clear = vec![true; points.nrows()];
        // As in `interior_pattern`: per neuron and point, identically zero on the point's region.
        let mut dead_before: Array2<bool> = Array2::from_elem((0, points.nrows()), false);
        for (l, layer) in self.hidden().iter().enumerate() {
            let z = layer.weight.dot_mat(&h) + layer.bias.view().insert_axis(Axis(1));
            let mag = layer.weight.abs().dot_mat(&h.mapv(f64::abs)) + &layer.bias.mapv(f64::abs).insert_axis(Axis(1));
            let mut dead = Array2::from_elem(z.dim(), false);
            for ((j, i), &v) in z.indexed_iter() {
                if v.abs() > crate::tolerance::WITNESS * mag[[j, i]] {
                    patterns[i].set(self.offsets[l] + j, v > 0.0);
                    dead[[j, i]] = v < 0.0;
                } else if self.identically_zero(l, j, |c| dead_before[[c, i]]) {
                    dead[[j, i]] = true;
                } else {
                    clear[i] = false;
                }
            }
            h = z.mapv(|v| v.max(0.0));
            dead_before = dead;
        }
        patterns
            .into_iter()
            .zip(clear)
            .enumerate()
            .map(|(i, (p, clear))| if clear { Some(p) } else { self.interior_pattern(&points.row(i).to_vec()) })
            .collect()
    }

    /// Whether neuron `j` of hidden layer `l` is identically zero wherever the neurons of layer
    /// `l − 1` for which `dead_input` holds are: its bias is 0 and it reads only those.
    fn identically_zero(&self, l: usize, j: usize, dead_input: impl Fn(usize) -> bool) -> bool {
        let layer = &self.layers[l];
        layer.bias[j] == 0.0 && layer.weight.row(j).all(|(i, w)| w == 0.0 || (l > 0 && dead_input(i)))
    }

    /// The affine surrogates of pattern `s` (theory §1).
    pub fn surrogate(&self, s: &Pattern) -> Surrogate {
        self.assemble(&self.layer_maps(s, None, maps::Keep::Every))
    }

    /// The pattern on the far side of a facet of region `s`, found without any LP.
    ///
    /// `on_facet[k]` marks the neurons whose surrogate vanishes on the facet's hyperplane (its
    /// coincidence class and the neurons identically zero on `s`); every other neuron keeps its sign
    /// across the facet by continuity. An on-facet neuron's far-side surrogate vanishes on the same
    /// hyperplane, so its sign just beyond the facet is the sign of its far-side derivative along
    /// `direction` (which points out of `s`); a zero derivative means it is identically zero there.
    ///
    /// Only that derivative is propagated, layer by layer through the far side's pattern (a
    /// vector, not the `neurons × inputs` Jacobian: on a CIFAR ResNet this is the difference
    /// between a few sparse products and dense maps of hundreds of MB). A derivative within
    /// [`CANCEL`] of the magnitudes of the terms that make it is an exact cancellation.
    pub fn pattern_beyond(&self, s: &Pattern, on_facet: &[bool], direction: &[f64]) -> Pattern {
        let mut far = s.clone();
        let mut slope = Array1::from(direction.to_vec());
        let mut magnitude = slope.mapv(f64::abs);
        for (l, layer) in self.hidden().iter().enumerate() {
            let (mut next, mut next_magnitude) =
                (layer.weight.dot(slope.view()), layer.weight.abs_dot(magnitude.view()));
            let first = self.offsets[l];
            for j in 0..next.len() {
                if on_facet[first + j] && self.windows.of(first + j).is_none() {
                    far.set(first + j, next[j] > CANCEL * next_magnitude[j]);
                }
            }
            // In a window with candidates on the facet, those and the argmax are equal on the
            // facet: beyond it the one that grows fastest is the argmax (lowest index if equal).
            for w in self.windows.in_layer(l) {
                if !w.clone().any(|i| on_facet[first + i]) {
                    continue;
                }
                let Some(mut best) = chosen(|i| far.get(first + i), w.clone()) else { continue };
                let contenders: Vec<usize> = w.clone().filter(|&i| on_facet[first + i] && i != best).collect();
                for i in contenders {
                    let margin = CANCEL * (next_magnitude[i] + next_magnitude[best]);
                    if next[i] - next[best] > margin || (i < best && (next[i] - next[best]).abs() <= margin) {
                        best = i;
                    }
                }
                w.clone().for_each(|i| far.set(first + i, i == best));
            }
            for j in 0..next.len() {
                let k = first + j;
                if !far.get(k) {
                    next[j] = 0.0;
                    next_magnitude[j] = 0.0;
                }
            }
            (slope, magnitude) = (next, next_magnitude);
        }
        far
    }
}

/// A point of [`Network::with_fixed_inputs`]'s input space (the free inputs) as a point of the
/// full input space, with the fixed inputs put back in their places.
pub fn lift_point(free: &[f64], fixed: &[(usize, f64)]) -> Vec<f64> {
    let mut fixed = fixed.to_vec();
    fixed.sort_by_key(|&(i, _)| i);
    let (mut fixed, mut free) = (fixed.into_iter().peekable(), free.iter());
    (0..free.len() + fixed.len())
        .map(|i| match fixed.next_if(|&(j, _)| j == i) {
            Some((_, v)) => v,
            None => *free.next().expect("free inputs fill the other places"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_units_leave_out_the_carrying_units_at_each_layers_end() {
        let units = GraphUnits { layer_widths: vec![3, 2, 2], own_widths: vec![2, 2, 1] };
        let mut full = Pattern::zeros(7);
        for k in [0, 2, 3, 5, 6] {
            full.set(k, true);
        }
        // Units 2 and 6 carry; own units 0 1 | 3 4 | 5.
        assert_eq!(format!("{:?}", units.pattern(&full)), "10101");
        assert_eq!(units.widths(), &[2, 2, 1]);
        let positions: Vec<_> = (0..7).map(|k| units.position(k)).collect();
        assert_eq!(positions, [Some((0, 0)), Some((0, 1)), None, Some((1, 0)), Some((1, 1)), Some((2, 0)), None]);
        let chain = GraphUnits { layer_widths: vec![3], own_widths: vec![3] };
        assert!(!chain.has_carrying() && chain.pattern(&Pattern::zeros(3)) == Pattern::zeros(3));
    }

    #[test]
    fn batched_interior_patterns_equal_the_pointwise_ones() {
        // Neurons 0 and 1 vanish on the lines x = 0 and x + y = 0; neuron 2 is identically zero.
        let net = Network::from_rows(&[
            (vec![vec![1.0, 0.0], vec![1.0, 1.0], vec![0.0, 0.0]], vec![0.0, 0.0, 0.0]),
            (vec![vec![1.0, -1.0, 1.0], vec![0.5, 0.5, 0.0]], vec![-0.25, 0.1]),
            (vec![vec![1.0, 1.0]], vec![0.0]),
        ])
        .unwrap();
        let mut points = vec![[0.0, 0.3], [0.2, -0.2], [1e-12, 0.4], [-0.3, 0.7], [0.5, 0.5]];
        for i in 0..200 {
            let t = i as f64 * 0.37;
            points.push([t.sin(), (1.3 * t).cos()]);
        }
        let matrix = Array2::from_shape_vec((points.len(), 2), points.iter().flatten().copied().collect()).unwrap();
        let batched = net.interior_patterns(&matrix);
        for (p, b) in points.iter().zip(&batched) {
            assert_eq!(*b, net.interior_pattern(p), "{p:?}");
        }
        assert!(batched[0].is_none() && batched[1].is_none(), "points on a boundary certify nothing");
    }
}
