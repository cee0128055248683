//! The bound method `partition` (docs/bounds.md): the box partition's cut tree without the
//! witness checks ([`crate::exact::partition::bound_tree`]). Every leaf not proven to miss the
//! domain counts once; where the budget stops the tree, each uncut cell is bounded by a product
//! from its own intervals ([`IntervalProduct`]).

use super::binomial_sum;
use crate::analysis::interval::{ibp_layer, Bounds};
use crate::domain::Domain;
use crate::exact::partition::{bound_tree, LayerRanges, UncutCells};
use crate::model::Network;
use crate::Result;
use ndarray::Array1;
use num_bigint::BigUint;
use std::time::Instant;

/// The partition bound and how it was reached.
#[derive(Clone, Debug)]
pub struct UpperBound {
    /// The bound.
    pub value: BigUint,
    /// Leaves of the cut tree not proven to miss the domain (each holds at most one region).
    pub leaves: u64,
    /// Cells a budget left uncut, each bounded by its own interval product.
    pub cut_short: u64,
}

/// An upper bound on the activation regions of `net` meeting `domain` from the cut tree (`None`
/// where the tree does not apply: more than 8 inputs, an unbounded domain). `global` are
/// pre-activation bounds valid over the whole domain, intersected with each uncut cell's own.
pub fn upper_bound(
    net: &Network,
    domain: &Domain,
    global: Option<&[Bounds]>,
    max_leaves: Option<usize>,
    deadline: Option<Instant>,
) -> Result<Option<UpperBound>> {
    let product = IntervalProduct { net, global };
    Ok(bound_tree(net, domain, &product, max_leaves, deadline)?.map(|t| UpperBound {
        value: t.pending + t.leaves,
        leaves: t.leaves,
        cut_short: t.cut_short,
    }))
}

/// The bound of an uncut cell: the product, layer by layer, of `Σ_{i ≤ d} C(u, i)` (`u` neurons
/// that may change sign on the cell, `d` the dimension left, capped by each layer's possibly
/// active neurons). The cell's current layer comes with exact ranges; deeper layers get the
/// analysis's interval propagation ([`ibp_layer`]), intersected with `global` when given.
struct IntervalProduct<'a> {
    net: &'a Network,
    global: Option<&'a [Bounds]>,
}

impl UncutCells for IntervalProduct<'_> {
    fn bound(&self, layer: usize, ranges: LayerRanges) -> BigUint {
        let mut bound = binomial_sum(ranges.unstable, ranges.dim);
        let mut dim = ranges.dim.min(ranges.active + ranges.unstable);
        let mut previous = Bounds { lower: Array1::from(ranges.lower), upper: Array1::from(ranges.upper) };
        for (ll, hidden) in self.net.hidden().iter().enumerate().skip(layer + 1) {
            let mut b = ibp_layer(&hidden.weight, &hidden.bias, &previous);
            if let Some(g) = self.global {
                b.intersect(&g[ll]);
            }
            let unstable = b.lower.iter().zip(&b.upper).filter(|(lo, hi)| **lo < 0.0 && **hi > 0.0).count();
            let active = b.lower.iter().filter(|lo| **lo > 0.0).count();
            bound *= binomial_sum(unstable, dim);
            dim = dim.min(active + unstable);
            previous = b;
        }
        bound
    }
}
