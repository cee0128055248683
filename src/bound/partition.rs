//! The bound method `partition` (docs/bounds.md): the box partition's cut tree without the
//! witness checks ([`crate::exact::partition::bound_tree`]). Every leaf not proven to miss the
//! domain counts once; where the budget stops the tree, each uncut cell is bounded by a product
//! from its own intervals ([`IntervalProduct`]; on a network with max units, the `product` bound
//! of its bounding box).

use super::binomial_sum;
use crate::analysis::interval::{analyse, ibp_layer, Bounds};
use crate::analysis::set::InputSet;
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
        if !self.net.max_windows().is_empty() {
            return self.with_max_units(&ranges);
        }
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

impl IntervalProduct<'_> {
    /// An uncut cell of a network with max units: its regions all meet its bounding box, so the
    /// `product` bound of the box (theory §11: ReLUs and windows' pairwise differences whose
    /// intervals over the box hold 0) bounds them. Looser than following the cell's own ranges
    /// down its layers, which are derived for ReLU layers only.
    fn with_max_units(&self, ranges: &LayerRanges) -> BigUint {
        let domain = Domain::boxed(&ranges.input_lower, &ranges.input_upper)
            .expect("a cell's box widened by CORNER_ON is a finite box with lower < upper");
        let stability = analyse(self.net, &InputSet::new(&domain));
        super::with_max_units(self.net, super::Method::Product, Some(&stability.combined), false).value
    }
}
