//! Max units (theory §11): hidden units grouped into *windows* whose output is their maximum.
//!
//! A window is a run of consecutive units of one hidden layer. Its units are the candidates; the
//! pattern sets the bit of the window's argmax and clears the others, so a region's layer maps
//! need nothing new: the argmax passes its linear part on, the others pass nothing, exactly like
//! an active and an inactive ReLU. The next layer reads every candidate of a window with the same
//! weights, so it sees the maximum. What differs is what decides the bit: the argmax `j` of a
//! window is the candidate with `z_j > z_i` for every other candidate `i`, so each loser `i`
//! contributes the constraint `z_j − z_i > 0`, and crossing that facet makes `i` the argmax.
//!
//! Ties are boundaries, except between identical functions: candidates that are the same affine
//! function on a region (two dead ReLUs, both ≡ 0) never split it, and the argmax among them is
//! the lowest index. A pattern that chooses a higher one is not a region.

use super::NeuronKind;
use crate::tolerance::CANCEL;
use std::ops::Range;

/// The max windows of a network's hidden layers. A network without them is a ReLU network.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MaxWindows {
    /// Windows per hidden layer, as ranges of the layer's units.
    per_layer: Vec<Vec<Range<usize>>>,
    /// Per hidden unit (pattern order), its window as a range of pattern indices; empty for a
    /// network without max units.
    of: Vec<Option<Range<usize>>>,
}

impl MaxWindows {
    /// Windows per hidden layer (`offsets[l]`: the layer's first unit in pattern order).
    pub(super) fn new(per_layer: Vec<Vec<Range<usize>>>, offsets: &[usize], neurons: usize) -> Self {
        if per_layer.iter().all(Vec::is_empty) {
            return MaxWindows { per_layer, of: Vec::new() };
        }
        let mut of = vec![None; neurons];
        for (l, windows) in per_layer.iter().enumerate() {
            for w in windows {
                let global = offsets[l] + w.start..offsets[l] + w.end;
                for k in global.clone() {
                    of[k] = Some(global.clone());
                }
            }
        }
        MaxWindows { per_layer, of }
    }

    /// Whether the network has no max units.
    pub fn is_empty(&self) -> bool {
        self.of.is_empty()
    }

    /// The window of hidden unit `k` (pattern order), as pattern indices; `None` for a ReLU.
    pub fn of(&self, k: usize) -> Option<Range<usize>> {
        self.of.get(k).cloned().flatten()
    }

    /// The windows of hidden layer `l`, as ranges of its units.
    pub fn in_layer(&self, l: usize) -> &[Range<usize>] {
        self.per_layer.get(l).map_or(&[], Vec::as_slice)
    }

    /// Windows per hidden layer.
    pub fn per_layer(&self) -> &[Vec<Range<usize>>] {
        &self.per_layer
    }

    /// Number of windows.
    pub fn count(&self) -> usize {
        self.per_layer.iter().map(Vec::len).sum()
    }
}

/// The candidate of `window` with the largest value, the lowest index among equal ones.
pub(crate) fn argmax<T: PartialOrd>(values: impl Fn(usize) -> T, window: Range<usize>) -> usize {
    let mut best = window.start;
    for i in window.skip(1) {
        if values(i) > values(best) {
            best = i;
        }
    }
    best
}

/// The argmax of `window` in a pattern (the one set bit); `None` if the pattern sets no bit or
/// several (it is then no region).
pub(crate) fn chosen(is_set: impl Fn(usize) -> bool, window: Range<usize>) -> Option<usize> {
    let mut set = window.filter(|&i| is_set(i));
    let first = set.next()?;
    set.next().is_none().then_some(first)
}

/// `z_j − z_i` of two candidates on a region, from their surrogates and kinds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Difference {
    /// A hyperplane `a·x + β = 0` in the region's frame.
    Varying(Vec<f64>, f64),
    /// A non-zero constant: the sign of `z_j − z_i` is the same on the whole region.
    Constant(f64),
    /// The same function: never a boundary.
    Identical,
}

/// `z_j − z_i` from the surrogates `(a, β)` and kinds of `j` and `i`. A constant or zero unit's
/// row counts as zero (its computed entries are rounding), and a difference whose norm is within
/// [`CANCEL`] of its terms' is an exact cancellation, as a neuron's own surrogate is snapped.
pub(crate) fn difference(j: (&[f64], f64, NeuronKind), i: (&[f64], f64, NeuronKind)) -> Difference {
    fn row(unit: (&[f64], f64, NeuronKind)) -> Option<&[f64]> {
        (unit.2 == NeuronKind::Varying).then_some(unit.0)
    }
    let offset = |(_, beta, kind): (&[f64], f64, NeuronKind)| if kind == NeuronKind::Zero { 0.0 } else { beta };
    let (beta_j, beta_i) = (offset(j), offset(i));
    let beta = beta_j - beta_i;
    let beta_cancels = beta.abs() <= CANCEL * (beta_j.abs() + beta_i.abs());
    let a: Option<Vec<f64>> = match (row(j), row(i)) {
        (None, None) => None,
        (Some(a), None) => Some(a.to_vec()),
        (None, Some(a)) => Some(a.iter().map(|v| -v).collect()),
        (Some(aj), Some(ai)) => {
            let d: Vec<f64> = aj.iter().zip(ai).map(|(x, y)| x - y).collect();
            let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
            (norm(&d) > CANCEL * (norm(aj) + norm(ai))).then_some(d)
        }
    };
    match a {
        Some(a) => Difference::Varying(a, if beta_cancels { 0.0 } else { beta }),
        None if beta_cancels => Difference::Identical,
        None => Difference::Constant(beta),
    }
}
