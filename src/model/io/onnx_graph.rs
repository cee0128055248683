//! The values of an ONNX graph as affine functions of its ReLU outputs, and their lowering to the
//! layers of a [`crate::model::Network`].
//!
//! Every value of a graph of affine ops and ReLUs is, on the whole input space, an affine function
//! of the input and of the outputs of the `Relu` nodes computed before it: affine ops compose,
//! and the sum or concatenation of two affine functions is affine. A [`Value`] holds that function
//! as one matrix per source ([`Sources`]: the input, then each `Relu` node in graph order) and a
//! bias. A `Relu` node makes a new source whose *depth* is one more than the deepest source its
//! argument reads.
//!
//! The network's hidden layer `l` holds the `Relu` nodes of depth `l`. A residual connection reads
//! a source from an earlier layer than the one before: that source's values are **carried**
//! through the layers in between by one ReLU unit each, whose pre-activation is the carried value.
//! A carried value is a ReLU output (`≥ 0`), so the unit passes it on unchanged, and its sign is a
//! function of the source neuron's sign (active with a positive value, identically zero where the
//! source is inactive): the carrying units split no region, and the network has exactly the
//! activation regions of the graph (docs/dag.md). A chain needs no carrying and lowers to the same
//! layers as before. The input and a `MaxPool`'s candidates may be negative: they are carried by
//! *identity units* instead, max windows of one candidate, which pass any value on and whose
//! argmax never changes.

use super::onnx_image::{Image, Lowered};
use crate::model::{Layer, Weight};
use ndarray::Array1;
use std::ops::Range;

/// The linear part of one term: the identity until the first op, then one matrix, kept sparse while
/// it is mostly zeros (a convolution's rows have a few nonzeros; a dense padding step on a large
/// image would not fit in memory).
#[derive(Clone, Debug)]
enum Map {
    Identity(usize),
    Matrix(Weight),
}

impl Map {
    fn rows(&self) -> usize {
        match self {
            Map::Identity(n) => *n,
            Map::Matrix(w) => w.nrows(),
        }
    }

    fn cols(&self) -> usize {
        match self {
            Map::Identity(n) => *n,
            Map::Matrix(w) => w.ncols(),
        }
    }

    /// `m · self`.
    fn then(self, m: Weight) -> Map {
        match self {
            Map::Identity(_) => Map::Matrix(m.compact()),
            Map::Matrix(a) => Map::Matrix(m.compose(&a)),
        }
    }

    fn into_weight(self) -> Weight {
        match self {
            Map::Identity(n) => Weight::identity(n),
            Map::Matrix(w) => w,
        }
    }

    /// The stored entries `(row, column, value)`.
    fn entries(&self) -> Box<dyn Iterator<Item = (usize, usize, f64)> + '_> {
        match self {
            Map::Identity(n) => Box::new((0..*n).map(|i| (i, i, 1.0))),
            Map::Matrix(w) => w.entries(),
        }
    }

    /// Row `r`'s stored entries `(column, value)`.
    fn row(&self, r: usize) -> Vec<(usize, f64)> {
        match self {
            Map::Identity(_) => vec![(r, 1.0)],
            Map::Matrix(w) => w.row(r).filter(|&(_, v)| v != 0.0).collect(),
        }
    }
}

/// A value of the graph: `Σ_s maps[s] · source_s + bias`, with its NCHW shape when known.
#[derive(Clone, Debug)]
pub struct Value {
    /// `(source, map)`, one term per source read, in order of first use.
    terms: Vec<(usize, Map)>,
    pub bias: Array1<f64>,
    /// The value's NCHW shape, when known (needed by the image ops).
    pub image: Option<Image>,
}

impl Value {
    /// The outputs of source `source` (of `width` values) themselves.
    pub fn source(source: usize, width: usize, image: Option<Image>) -> Value {
        Value { terms: vec![(source, Map::Identity(width))], bias: Array1::zeros(width), image }
    }

    /// Number of values.
    pub fn width(&self) -> usize {
        self.bias.len()
    }

    /// Self ← w · self.
    pub fn compose(&mut self, w: Weight) -> Result<(), String> {
        if w.ncols() != self.width() {
            return Err(format!("weight of shape {}×{} applied to {} values", w.nrows(), w.ncols(), self.width()));
        }
        self.bias = w.dot(self.bias.view());
        let terms = std::mem::take(&mut self.terms);
        let last = terms.len().saturating_sub(1);
        let mut w = Some(w);
        for (i, (source, map)) in terms.into_iter().enumerate() {
            let m = if i == last { w.take().expect("taken once") } else { w.clone().expect("not yet taken") };
            self.terms.push((source, map.then(m)));
        }
        Ok(())
    }

    /// Self ← matrix · self + bias, for an image op; the value takes the op's output shape.
    pub fn compose_lowered(&mut self, lowered: Lowered) -> Result<(), String> {
        if lowered.matrix.columns != self.width() {
            return Err(format!("an image of {} values applied to {} values", lowered.matrix.columns, self.width()));
        }
        self.compose(lowered.matrix.into_weight())?;
        self.bias += &lowered.bias;
        self.image = Some(lowered.output);
        Ok(())
    }

    /// Self ← diag(factor) · self.
    pub fn scale_rows(&mut self, factor: &Array1<f64>) {
        let n = factor.len();
        self.compose(Weight::from_triplets(n, n, factor.iter().enumerate().map(|(i, &f)| (i, i, f))))
            .expect("one factor per value");
    }

    /// Self ← self + sign · other: the sum of two computed tensors of the same shape (a residual
    /// connection). Broadcasting between computed tensors is refused.
    pub fn add(&mut self, other: Value, sign: f64) -> Result<(), String> {
        if other.width() != self.width() {
            return Err(format!(
                "adds tensors of {} and {} values (broadcasting between two computed tensors is not supported)",
                self.width(),
                other.width()
            ));
        }
        if let (Some(a), Some(b)) = (self.image, other.image) {
            if a != b {
                return Err(format!("adds images of shapes {a:?} and {b:?}"));
            }
        }
        self.image = self.image.or(other.image);
        self.bias.scaled_add(sign, &other.bias);
        // Sources whose terms cancel exactly (`h + g − g`) are no longer read: they must not
        // deepen the ReLUs that read this value.
        let mut cancelled = Vec::new();
        for (source, map) in other.terms {
            let (rows, cols) = (map.rows(), map.cols());
            match self.terms.iter_mut().find(|(s, _)| *s == source) {
                Some((_, mine)) => {
                    let entries = mine.entries().chain(map.entries().map(|(r, c, v)| (r, c, sign * v)));
                    let sum = Weight::from_triplets(rows, cols, entries.collect::<Vec<_>>());
                    if sum.entries().all(|(_, _, v)| v == 0.0) {
                        cancelled.push(source);
                    }
                    *mine = Map::Matrix(sum);
                }
                None if sign == 1.0 => self.terms.push((source, map)),
                None => {
                    let negated = map.entries().map(|(r, c, v)| (r, c, -v)).collect::<Vec<_>>();
                    self.terms.push((source, Map::Matrix(Weight::from_triplets(rows, cols, negated))));
                }
            }
        }
        self.terms.retain(|(s, _)| !cancelled.contains(s));
        Ok(())
    }

    /// The value whose row `r` is row `picks[r].1` of `parts[picks[r].0]`: what Concat, Slice and
    /// Split compute, each a selection of rows. The result has no image shape; the caller sets it.
    pub fn gather(parts: &[&Value], picks: &[(usize, usize)]) -> Value {
        // Per source read: (source, its width, the result's entries `(row, column, value)`).
        type Entries = Vec<(usize, usize, f64)>;
        let mut terms: Vec<(usize, usize, Entries)> = Vec::new();
        let mut bias = Array1::zeros(picks.len());
        for (r, &(part, row)) in picks.iter().enumerate() {
            bias[r] = parts[part].bias[row];
            for (source, map) in &parts[part].terms {
                let at = match terms.iter().position(|(s, _, _)| s == source) {
                    Some(at) => at,
                    None => {
                        terms.push((*source, map.cols(), Vec::new()));
                        terms.len() - 1
                    }
                };
                terms[at].2.extend(map.row(row).into_iter().map(|(c, v)| (r, c, v)));
            }
        }
        let terms = terms
            .into_iter()
            .map(|(source, cols, entries)| (source, Map::Matrix(Weight::from_triplets(picks.len(), cols, entries))))
            .collect();
        Value { terms, bias, image: None }
    }
}

/// One source of the graph's values: the input (source 0), a `Relu` node or a `MaxPool` node.
#[derive(Debug)]
struct Source {
    /// 0 for the input; for a `Relu` or `MaxPool`, one more than the deepest source its argument
    /// reads.
    depth: usize,
    width: usize,
    /// The `Relu`'s argument, or the `MaxPool`'s candidates (none for the input).
    pre_activation: Option<Value>,
    /// A `MaxPool`'s windows, as ranges of its candidates (its units).
    windows: Vec<Range<usize>>,
}

/// The sources of a graph being read, in graph order.
#[derive(Debug)]
pub struct Sources {
    sources: Vec<Source>,
}

impl Sources {
    /// The graph input, of `width` values, as source 0.
    pub fn new(width: usize) -> Self {
        Sources { sources: vec![Source { depth: 0, width, pre_activation: None, windows: Vec::new() }] }
    }

    /// A `Relu` node applied to `argument`: a new source; returns its output.
    pub fn relu(&mut self, argument: Value) -> Value {
        let depth = self.depth_after(&argument);
        let (width, image) = (argument.width(), argument.image);
        self.sources.push(Source { depth, width, pre_activation: Some(argument), windows: Vec::new() });
        Value::source(self.sources.len() - 1, width, image)
    }

    /// A `MaxPool` node: a new source of max units whose units are `candidates` (one row per
    /// candidate, each window's candidates consecutive, `windows`); returns its output, each
    /// window's maximum, read as the sum of the window's units (all but the argmax pass zero).
    pub fn max(&mut self, candidates: Value, windows: Vec<Range<usize>>, image: Option<Image>) -> Value {
        let depth = self.depth_after(&candidates);
        let width = candidates.width();
        let sum = windows.iter().enumerate().flat_map(|(w, range)| range.clone().map(move |i| (w, i, 1.0)));
        let read = Weight::from_triplets(windows.len(), width, sum);
        self.sources.push(Source { depth, width, pre_activation: Some(candidates), windows });
        let source = self.sources.len() - 1;
        Value { terms: vec![(source, Map::Matrix(read.clone()))], bias: Array1::zeros(read.nrows()), image }
    }

    /// The depth of a source whose argument is `value`: one more than the deepest source it reads.
    fn depth_after(&self, value: &Value) -> usize {
        1 + value.terms.iter().map(|(s, _)| self.sources[*s].depth).max().unwrap_or(0)
    }

    /// The layers of the network that computes `output`: hidden layer `l` holds the `Relu` and
    /// `MaxPool` nodes of depth `l` (in graph order), then the units that carry earlier sources to
    /// later layers (in source order). Returns the layers, the number of carrying units at the end
    /// of each hidden layer, and each hidden layer's max windows (ranges of its units), among them
    /// the one-candidate windows of the identity units that carry the input and `MaxPool`
    /// candidates (their values may be negative, which a carrying ReLU would clip).
    pub fn into_layers(self, output: Value) -> Lowering {
        let depth = self.sources.iter().map(|s| s.depth).max().unwrap_or(0);
        // The deepest layer that reads each source (the output is layer depth + 1).
        let mut last_read = vec![0; self.sources.len()];
        let reads = self.sources.iter().filter_map(|s| s.pre_activation.as_ref().map(|v| (s.depth, v)));
        for (at, value) in reads.chain([(depth + 1, &output)]) {
            for (s, _) in &value.terms {
                last_read[*s] = last_read[*s].max(at);
            }
        }
        let by_identity = |s: usize| s == 0 || !self.sources[s].windows.is_empty();
        // Which sources each layer's outputs hold, in order.
        let held = |l: usize| -> Vec<usize> {
            let own = (0..self.sources.len()).filter(|&s| self.sources[s].depth == l);
            let carried = (0..self.sources.len()).filter(|&s| self.sources[s].depth < l && last_read[s] > l);
            if l == 0 {
                vec![0]
            } else {
                own.chain(carried).collect()
            }
        };
        // How layer `l` holds source `s`: its own units at its depth; after it, one carried value
        // per unit, or per window of a `MaxPool` (the window's maximum).
        let layout = |s: usize, l: usize| -> Layout {
            let source = &self.sources[s];
            match source.windows.is_empty() || source.depth == l {
                true => Layout::Units(source.width),
                false => Layout::Windows(&source.windows),
            }
        };
        let carrying: Vec<usize> = (1..=depth)
            .map(|l| held(l).iter().filter(|&&s| self.sources[s].depth < l).map(|&s| layout(s, l).width()).sum())
            .collect();
        let mut layers = Vec::with_capacity(depth + 1);
        let mut windows = Vec::with_capacity(depth);
        let mut previous = held(0);
        for l in 1..=depth + 1 {
            // Where each held source starts among the previous layer's outputs, and how it is held.
            let columns: Vec<(usize, usize, Layout)> = previous
                .iter()
                .scan(0, |start, &s| {
                    let at = *start;
                    *start += layout(s, l - 1).width();
                    Some((s, at, layout(s, l - 1)))
                })
                .collect();
            let cols: usize = previous.iter().map(|&s| layout(s, l - 1).width()).sum();
            let column_of = |s: usize| {
                let held = columns.iter().find(|(t, _, _)| *t == s).expect("read sources are held");
                (held.1, held.2.clone())
            };
            let current = if l <= depth { held(l) } else { Vec::new() };
            let rows: Vec<Row> = if l <= depth {
                current
                    .iter()
                    .map(|&s| match (&self.sources[s].pre_activation, self.sources[s].depth == l) {
                        (Some(v), true) => Row::Value(v),
                        _ => Row::Carry(s, &self.sources[s].windows),
                    })
                    .collect()
            } else {
                vec![Row::Value(&output)]
            };
            layers.push(assemble(&rows, cols, &column_of));
            if l <= depth {
                let mut at = 0;
                let mut layer_windows = Vec::new();
                for &s in &current {
                    let width = layout(s, l).width();
                    if self.sources[s].depth == l {
                        layer_windows.extend(self.sources[s].windows.iter().map(|w| at + w.start..at + w.end));
                    } else if by_identity(s) {
                        layer_windows.extend((at..at + width).map(|i| i..i + 1));
                    }
                    at += width;
                }
                windows.push(layer_windows);
            }
            previous = current;
        }
        (layers, carrying, windows)
    }
}

/// A graph lowered to a network: its layers, the carrying units at the end of each hidden layer,
/// and each hidden layer's max windows.
pub type Lowering = (Vec<Layer>, Vec<usize>, Vec<Vec<Range<usize>>>);

/// How a layer's outputs hold a source's values.
#[derive(Clone, Debug)]
enum Layout<'a> {
    /// One output per unit: a source at its own depth, or a carried `Relu` or input.
    Units(usize),
    /// One output per window: a carried `MaxPool`, its windows' maxima.
    Windows(&'a [Range<usize>]),
}

impl Layout<'_> {
    fn width(&self) -> usize {
        match self {
            Layout::Units(n) => *n,
            Layout::Windows(w) => w.len(),
        }
    }
}

/// One block of a layer's rows: a `Relu`'s argument (or the output), or the units carrying a
/// source (with its windows if it is a `MaxPool`).
enum Row<'a> {
    Value(&'a Value),
    Carry(usize, &'a [Range<usize>]),
}

/// The layer whose rows are `rows`, reading the previous layer's outputs (`cols` values; source
/// `s` starts at column `column_of(s).0`, held as `column_of(s).1`). A single value reading all of
/// one source's units is stored as its own matrix, so that a chain lowers exactly as it did as a
/// chain.
///
/// A value reads a `MaxPool` through the sum of each window's candidates (every candidate of a
/// window with the same weight): where the pooling is carried, one output per window, the value
/// reads that output with the weight of the window's first candidate. A unit carrying a pooling
/// from its own layer reads each of the window's candidates with weight 1: their sum is the
/// maximum (all but the argmax pass zero).
fn assemble<'a>(rows: &[Row], cols: usize, column_of: &dyn Fn(usize) -> (usize, Layout<'a>)) -> Layer {
    if let [Row::Value(v)] = rows {
        if let [(s, map)] = v.terms.as_slice() {
            if map.cols() == cols && matches!(column_of(*s).1, Layout::Units(_)) {
                return Layer { weight: map.clone().into_weight(), bias: v.bias.clone() };
            }
        }
    }
    let mut entries = Vec::new();
    let mut bias = Vec::new();
    for row in rows {
        let first = bias.len();
        match row {
            Row::Value(v) => {
                for (s, map) in &v.terms {
                    let (at, layout) = column_of(*s);
                    match layout {
                        Layout::Units(_) => entries.extend(map.entries().map(|(r, c, w)| (first + r, at + c, w))),
                        Layout::Windows(windows) => {
                            let mut window_of = vec![None; map.cols()];
                            windows.iter().enumerate().for_each(|(k, w)| window_of[w.start] = Some(k));
                            entries.extend(
                                map.entries().filter_map(|(r, c, w)| window_of[c].map(|k| (first + r, at + k, w))),
                            );
                        }
                    }
                }
                bias.extend(v.bias.iter().copied());
            }
            Row::Carry(s, pooled) => {
                let (at, layout) = column_of(*s);
                let units = match layout {
                    // From the pooling's own layer: unit `k` sums window `k`'s candidates.
                    Layout::Units(_) if !pooled.is_empty() => {
                        let sums = pooled.iter().enumerate().flat_map(|(k, w)| w.clone().map(move |i| (k, i)));
                        entries.extend(sums.map(|(k, i)| (first + k, at + i, 1.0)));
                        pooled.len()
                    }
                    _ => {
                        entries.extend((0..layout.width()).map(|i| (first + i, at + i, 1.0)));
                        layout.width()
                    }
                };
                bias.extend(std::iter::repeat_n(0.0, units));
            }
        }
    }
    Layer { weight: Weight::from_triplets(bias.len(), cols, entries), bias: Array1::from(bias) }
}
