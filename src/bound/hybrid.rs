//! L5, "exact prefix, bounded suffix" (theory §5): the regions of the first `m` hidden layers that
//! meet the domain are enumerated exactly by the region walk; on each such region `R` the next
//! layer is affine, so its exact range over `R ∩ domain` comes from two LPs per neuron (over the
//! domain's box, intersected with the ball's range); deeper layers get IBP from there, intersected
//! with the global intervals and with the region's own analysis ([`suffix_intervals`]). The bound is `Σ_R N^{(R)}_{m+1}(rank J_R)` with the L3 recursion.

use super::{serra, serra_layer, BoundOptions, BoundValue, Method};
use crate::analysis::interval::{self, Bounds, Stability};
use crate::analysis::set::InputSet;
use crate::domain::{Domain, Halfspace};
use crate::exact::walk::region_constraints;
use crate::exact::{count, StopReason, WalkOptions};
use crate::lp::{LpCounters, RegionLp};
use crate::model::{Layer, Network, Weight};
use crate::tolerance::{LP_VALUE, ROUNDING};
use crate::{Error, Result};
use ndarray::Array1;
use num_bigint::BigUint;
use serde_json::json;
use std::time::Instant;

/// The hybrid bound, or why it was not computed.
pub enum Outcome {
    /// The bound, and the number of prefix regions (itself a certified lower bound on the count).
    Bound {
        /// The bound.
        bound: BoundValue,
        /// Regions of the first `m` layers meeting the domain.
        prefix_regions: usize,
    },
    /// Not computed (budget exceeded, nothing to do): why, and the prefix regions found (each
    /// meets the domain and holds at least one region: still a certified lower bound).
    Skipped(String, usize),
}

/// Computes the hybrid bound with `options.hybrid_layers` exact layers, or gives up when the
/// `deadline` (the bound computation's time budget) passes.
pub fn hybrid(
    net: &Network,
    domain: &Domain,
    global: &Stability,
    options: &BoundOptions,
    deadline: Option<Instant>,
) -> Result<Outcome> {
    let out_of_time = |done: &str, prefix_regions: usize| {
        let budget = options.budget.map_or(0.0, |b| b.as_secs_f64());
        Outcome::Skipped(format!("the time budget of {budget} s ran out {done} (raise the budget)"), prefix_regions)
    };
    let depth = net.hidden().len();
    let m = options.hybrid_layers.min(depth);
    if m == 0 {
        return Ok(Outcome::Skipped("the network has no hidden layer".into(), 0));
    }
    if deadline.is_some_and(|d| d <= Instant::now()) {
        return Ok(out_of_time("before it started", 0));
    }
    let prefix = prefix_network(net, m)?;
    let width = prefix.layers().last().expect("an output layer").weight.nrows();
    let now = Instant::now();
    let walk_options = WalkOptions {
        max_regions: Some(options.hybrid_max_regions),
        time_limit: deadline.map(|d| d - now),
        ..Default::default()
    };
    let regions = count(&prefix, domain, &walk_options)?;
    if regions.stopped_by() == Some(StopReason::TimeLimit) {
        // Each prefix region found meets the domain and holds at least one region: still a lower bound.
        let found = format!("while enumerating the first {m} layer(s) ({} regions found)", regions.count());
        return Ok(out_of_time(&found, regions.count()));
    }
    if !regions.complete() {
        return Ok(Outcome::Skipped(
            format!(
                "the first {m} layer(s) have more than {} regions in the domain (raise the hybrid budget)",
                options.hybrid_max_regions
            ),
            0,
        ));
    }
    let set = InputSet::new(domain);
    let mut counters = LpCounters::default();
    let mut total = BigUint::from(0u32);
    for (i, region) in regions.regions.iter().enumerate() {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(out_of_time(&format!("after {i} of {} prefix regions", regions.count()), regions.count()));
        }
        let sur = prefix.surrogate(&region.pattern);
        // The dimension of the image the next layer's hyperplanes live in.
        let rank = crate::analysis::linalg::rank_upper(sur.jacobian.view(), &(0..width).collect::<Vec<_>>());
        let constraints =
            region_constraints(&prefix, domain, &region.pattern, &sur).expect("a walked region is consistent");
        let mut ranges = RegionRanges {
            domain,
            set: &set,
            region: constraints.iter().map(|(_, h)| h).collect(),
            lp: None,
            deadline,
        };
        let mut layers_here = Vec::new();
        let mut previous: Option<Bounds> = None;
        // Layer m+1 on the region, as an affine map of the input: its LP ranges and the
        // region's own analysis of the layers below both start from it.
        let next = match (net.hidden().get(m), net.max_windows().is_empty()) {
            (None, _) => None,
            (Some(layer), true) => {
                Some((layer.weight.dot_mat(&sur.jacobian), layer.weight.dot(sur.offset.view()) + &layer.bias))
            }
            // The prefix's output is layer m+1's pre-activation already.
            (Some(_), false) => Some((sur.jacobian.clone(), sur.offset.clone())),
        };
        let suffix = match &next {
            Some((a, beta)) => suffix_intervals(net, m, a, beta, &set)?,
            None => Vec::new(),
        };
        for l in m..depth {
            let mut b = global.combined[l].clone();
            b.intersect(&suffix[l - m]);
            match &previous {
                None => {
                    let (a, beta) = next.as_ref().expect("m < depth inside the loop");
                    for j in 0..a.nrows() {
                        let range = match deadline.is_some_and(|d| Instant::now() >= d) {
                            true => Err(Error::TimeLimit),
                            false => ranges.range(a.row(j), beta[j], &mut counters),
                        };
                        let (lo, hi) = match range {
                            Err(Error::TimeLimit) => {
                                let n = regions.count();
                                return Ok(out_of_time(&format!("in prefix region {} of {n}", i + 1), n));
                            }
                            other => other?,
                        };
                        b.lower[j] = b.lower[j].max(lo);
                        b.upper[j] = b.upper[j].min(hi);
                    }
                }
                Some(prev) => b.intersect(&interval::ibp_after(net, l, prev)),
            }
            layers_here.push(serra_layer(net, l, &b));
            previous = Some(b);
        }
        total += serra(&layers_here, rank);
    }
    let bound = BoundValue {
        method: Method::Hybrid,
        value: total,
        per_layer: vec![
            json!({"exact_layers": m, "prefix_regions": regions.count(), "lp_solves": counters.lp_solves + regions.counters.lp_solves}),
        ],
        note: Some(format!("first {m} hidden layer(s) enumerated exactly")),
    };
    Ok(Outcome::Bound { bound, prefix_regions: regions.count() })
}

/// The first `m` hidden layers of `net` as a network whose regions the walk enumerates. Its
/// output is the last of them (identity rows) for a ReLU network, or, with max units, the
/// network's next layer (layer `m + 1`'s pre-activation, or the output), which reads each window's
/// candidates with equal weights as a max network's layers must; its image's dimension is then
/// that of the space layer `m + 1`'s hyperplanes live in, which is what the recursion starts from.
fn prefix_network(net: &Network, m: usize) -> Result<Network> {
    let windows = net.max_windows();
    let mut layers: Vec<Layer> = net.hidden()[..m].to_vec();
    if windows.is_empty() {
        let width = net.hidden()[m - 1].weight.nrows();
        layers.push(Layer { weight: Weight::identity(width), bias: Array1::zeros(width) });
        return Network::new(layers, None);
    }
    layers.push(net.layers()[m].clone());
    Network::new(layers, None)?.with_max_windows(windows.per_layer()[..m].to_vec())
}

/// Intervals of hidden layers `m..` over a prefix region ∩ the domain, by every method of the
/// analysis (CROWN keeps the dependence on the input that layer-by-layer IBP loses): on the
/// region the first `m` layers are affine, so the network beyond them is a network of the input
/// whose first layer is layer `m+1`'s map on the region, `a·x + β`; its intervals over the whole
/// domain enclose those over region ∩ domain.
fn suffix_intervals(
    net: &Network,
    m: usize,
    a: &ndarray::Array2<f64>,
    beta: &Array1<f64>,
    set: &InputSet,
) -> Result<Vec<Bounds>> {
    let mut layers = vec![Layer { weight: a.clone().into(), bias: beta.clone() }];
    layers.extend(net.layers()[m + 1..].iter().cloned());
    let mut suffix = Network::new(layers, None)?;
    if !net.max_windows().is_empty() {
        suffix = suffix.with_max_windows(net.max_windows().per_layer()[m..].to_vec())?;
    }
    Ok(interval::analyse(&suffix, set).combined)
}

/// The ranges of affine functions over one prefix region ∩ the domain. The region's LP is loaded
/// at the first range that needs it, and each later objective warm-starts from the last.
struct RegionRanges<'a> {
    domain: &'a Domain,
    set: &'a InputSet,
    region: Vec<&'a Halfspace>,
    lp: Option<RegionLp>,
    /// LPs stop here ([`Error::TimeLimit`]).
    deadline: Option<Instant>,
}

impl RegionRanges<'_> {
    /// A sound enclosure of `a·x + β` over region ∩ domain: the ball/box range, tightened by the
    /// LP range over the region's closure within the domain's box (widened by the solver
    /// tolerance).
    fn range(&mut self, a: ndarray::ArrayView1<f64>, beta: f64, counters: &mut LpCounters) -> Result<(f64, f64)> {
        let domain = self.domain;
        let (mut lo, mut hi) = self.set.affine_range(a.iter().copied().enumerate(), beta);
        if !domain.is_bounded() || (lo >= 0.0 || hi <= 0.0) {
            return Ok((lo, hi));
        }
        let at_origin = a.iter().zip(domain.origin()).map(|(x, o)| x * o).sum::<f64>() + beta;
        let scaled: Vec<f64> = a.iter().map(|x| x * domain.scale()).collect();
        let norm1: f64 = scaled.iter().map(|x| x.abs()).sum();
        // Each LP value may be off by the feasibility tolerance times the objective's size.
        let slack = LP_VALUE * norm1 + ROUNDING * (at_origin.abs() + norm1);
        let lp = match &mut self.lp {
            Some(lp) => lp,
            None => {
                let mut lp = RegionLp::load(domain, &self.region)?;
                lp.stop_at(self.deadline);
                self.lp.insert(lp)
            }
        };
        if let Some(min) = lp.minimise(&scaled, counters)? {
            lo = lo.max(at_origin + min - slack);
        }
        let negated: Vec<f64> = scaled.iter().map(|x| -x).collect();
        if let Some(neg_max) = lp.minimise(&negated, counters)? {
            hi = hi.min(at_origin - neg_max + slack);
        }
        Ok((lo, hi))
    }
}
