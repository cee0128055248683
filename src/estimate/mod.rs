//! An unbiased estimate of the number the walk counts, for neighbourhoods too large to count
//! (theory §10; docs/estimate.md). A statistical answer: it is always reported beside the
//! certified bracket, never in place of it.
//!
//! **The cut tree.** A node at depth k is the domain intersected with the sides chosen for the
//! first k neurons, in topological order (layer by layer). Its children are the sides of neuron
//! k + 1 whose part still meets the open domain, decided as the walk decides a region: by a
//! certified witness with more than [`DECIDE`](crate::tolerance::DECIDE) of room, or a certified
//! refutation. A neuron proved stable over the domain, or constant on the node, has one child. A
//! max window (theory §11) is decided at once, with one child per candidate that can be its
//! argmax on the node (`z_c − z_i > 0` for the others, ties between the same function to the
//! lowest index, as the walk decides them); the box partition's tree has no such cut, so max
//! networks are probed on this tree in boxes too. The leaves are therefore exactly the activation regions that `count` counts.
//!
//! **Knuth's estimator.** A probe walks from a node, choosing one child at random with the
//! probability [`ChildChoice`] gives it, and returns `X = Π 1/q` over its choices (0 if it reaches
//! a node with no child: a sliver the count leaves out too). A leaf ℓ is reached with probability
//! `Π q(ℓ)`, so `E[X]` is the number of leaves below the node, whatever the probabilities (as long
//! as every feasible child has `q > 0`). A probe of width w > 1 carries up to w nodes down at once
//! and thins them without bias (Chen's heuristic sampling; `tree::Tree::probe`). In boxes of up to
//! 8 inputs the probes run on the box partition's cut tree instead, whose cuts need no solver
//! (`estimate_on_box`). The probes run below the strata of an exactly enumerated
//! prefix ([`estimate_with`]), steered by a sample of the domain ([`RegionShare`]); the interval
//! comes from a stratified bootstrap (heavy tails: see [`Estimate::reliable`]), and every leaf a
//! probe reaches whose witness a forward pass confirms adds a region to a certified lower bound.

mod tree;
mod volume;

use crate::analysis::interval::{analyse, Screen};
use crate::analysis::set::InputSet;
use crate::domain::Domain;
use crate::exact::oracle::sample::{interior_patterns_of_sample, interior_sample};
use crate::exact::partition::{self, Descent};
use crate::exact::result::Budget;
use crate::exact::WalkOptions;
use crate::lp::LpCounters;
use crate::model::{Network, Pattern};
use crate::tolerance::{
    ESTIMATE_BOOTSTRAP, ESTIMATE_MAX_SHARE, ESTIMATE_MAX_STRATA, ESTIMATE_MIN_EFFECTIVE, ESTIMATE_PROBES_PER_STRATUM,
    ESTIMATE_SAMPLE_POINTS, ESTIMATE_UNIFORM_SHARE,
};
use crate::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tree::{Expansion, Node, Probe, Tree};

/// What a probe knows of one feasible child (a ReLU's side, or a max window's argmax) when it
/// chooses.
#[derive(Clone, Copy, Debug)]
pub struct Child {
    /// Distinct patterns among the node's sample points (the domain's, or drawn inside the node)
    /// that lie in the child: regions of the child that they hit.
    pub patterns: usize,
}

/// How a probe picks among a node's feasible children: each gets a probability `q`, meant to be
/// its share of the node's leaves. A probe divides each weight by the probability it actually
/// kept the child with (the `q` normalised, for one node at a time), so the estimate is unbiased
/// for any rule that gives every feasible child `q > 0`; a rule closer to the subtree sizes has a
/// smaller variance. A child given `q = 0` is never explored: its leaves are lost.
pub trait ChildChoice: Sync {
    /// The probabilities of a node's `feasible` children.
    fn probabilities(&self, feasible: &[Child]) -> Vec<f64>;
}

/// Every feasible child equally likely: Knuth's original estimator.
pub struct Uniform;

impl ChildChoice for Uniform {
    fn probabilities(&self, feasible: &[Child]) -> Vec<f64> {
        vec![1.0 / feasible.len() as f64; feasible.len()]
    }
}

/// Children chosen by the regions the node's sample points hit in each (distinct patterns),
/// mixed with a uniform share of [`ESTIMATE_UNIFORM_SHARE`]. A child's subtree holds its regions,
/// and the distinct patterns of random points in it grow with them, so this follows the subtree
/// sizes far better than a coin: a hyperplane that cuts a thin, plain corner off the node no
/// longer sends half the probes into it with weight 2. The uniform part keeps every feasible
/// child's probability at least `ESTIMATE_UNIFORM_SHARE / 2`, so a child the points missed (a
/// sliver, or a node the points have left) costs at most a factor `2 / ESTIMATE_UNIFORM_SHARE`
/// of weight.
pub struct RegionShare;

impl ChildChoice for RegionShare {
    fn probabilities(&self, feasible: &[Child]) -> Vec<f64> {
        let total: usize = feasible.iter().map(|c| c.patterns).sum();
        let uniform = 1.0 / feasible.len() as f64;
        if total == 0 {
            return vec![uniform; feasible.len()];
        }
        let mix = ESTIMATE_UNIFORM_SHARE;
        feasible.iter().map(|c| (1.0 - mix) * c.patterns as f64 / total as f64 + mix * uniform).collect()
    }
}

/// Options of [`estimate`].
#[derive(Clone, Debug)]
pub struct EstimateOptions {
    /// Probes to run (at most: the time limit may stop earlier).
    pub probes: usize,
    /// Strata at most: the exactly enumerated top of the cut tree stops before its frontier
    /// passes this many nodes (or `probes / ESTIMATE_PROBES_PER_STRATUM`). 1: plain Knuth probes
    /// from the root.
    pub strata: usize,
    /// Nodes a probe carries down the tree at once (`tree::Tree::probe`): 1 is Knuth's probe, more
    /// pool the weights of many paths into one lower-variance probe that costs about `width`
    /// of Knuth's.
    pub width: usize,
    /// Seed of the probes and the bootstrap: the same seed gives the same estimate on any number
    /// of threads.
    pub seed: u64,
    /// Coverage of the interval (e.g. 0.95).
    pub confidence: f64,
    /// Stop starting probes after this long (at least one probe runs).
    pub time_limit: Option<Duration>,
    /// Set from outside (Ctrl-C) to stop starting probes.
    pub interrupt: Option<Arc<AtomicBool>>,
}

impl EstimateOptions {
    /// Probes by default.
    pub const DEFAULT_PROBES: usize = 1000;
    /// Coverage by default.
    pub const DEFAULT_CONFIDENCE: f64 = 0.95;
    /// Probe width by default.
    pub const DEFAULT_WIDTH: usize = 1;
    /// Strata at most, by default.
    pub const DEFAULT_STRATA: usize = ESTIMATE_MAX_STRATA;

    /// Checks the options as every front end gives them: at least one probe and one stratum, a
    /// coverage strictly between 0 and 1.
    pub fn check(&self) -> Result<()> {
        if self.probes == 0 {
            return Err(crate::Error::Settings("an estimate needs at least one probe".into()));
        }
        if self.width == 0 {
            return Err(crate::Error::Settings("an estimate's probes need a width of at least one node".into()));
        }
        if self.strata == 0 {
            return Err(crate::Error::Settings("an estimate needs at least one stratum (1: plain probes)".into()));
        }
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(crate::Error::Settings(format!(
                "the confidence must be between 0 and 1, got {}",
                self.confidence
            )));
        }
        Ok(())
    }
}

impl Default for EstimateOptions {
    fn default() -> Self {
        EstimateOptions {
            probes: Self::DEFAULT_PROBES,
            strata: Self::DEFAULT_STRATA,
            width: Self::DEFAULT_WIDTH,
            seed: 0,
            confidence: Self::DEFAULT_CONFIDENCE,
            time_limit: None,
            interrupt: None,
        }
    }
}

/// A statistical estimate of the regions meeting the domain, with how it was obtained.
#[derive(Clone, Debug)]
pub struct Estimate {
    /// The mean of the probes: an unbiased estimate of the count.
    pub estimate: f64,
    /// The bootstrap percentile interval of the mean, at `confidence`.
    pub low: f64,
    /// Its upper end.
    pub high: f64,
    /// Its coverage.
    pub confidence: f64,
    /// The probes' standard error of the mean.
    pub standard_error: f64,
    /// Probes run.
    pub probes: usize,
    /// Nodes each probe carried down at once (1: Knuth's probes).
    pub width: usize,
    /// The cut tree probed: [`BOX_TREE`] in boxes of up to 8 inputs (with width 1), else
    /// [`LP_TREE`].
    pub tree: &'static str,
    /// Strata probed: the frontier of the exactly enumerated top of the cut tree (0 when the whole
    /// tree was enumerated and the estimate is the exact count of its leaves).
    pub strata: usize,
    /// `(Σ X)² / Σ X²`: how many probes carry the mean. Far below `probes` means heavy tails.
    pub effective_probes: f64,
    /// The largest share of the sum that one probe carries.
    pub max_share: f64,
    /// Whether the diagnostics trust the interval: at least `ESTIMATE_MIN_EFFECTIVE` effective
    /// probes, no probe above `ESTIMATE_MAX_SHARE` of the sum and two probes in every stratum (or
    /// a tree enumerated whole). When false, the interval is likely too narrow.
    pub reliable: bool,
    /// Distinct leaves reached whose witness a forward pass confirms: a certified lower bound.
    pub certified_regions: usize,
    /// Solver work.
    pub counters: LpCounters,
    /// Wall time.
    pub seconds: f64,
}

/// Estimates the activation regions of `net` meeting `domain`, children chosen by their
/// [`RegionShare`].
pub fn estimate(net: &Network, domain: &Domain, options: &EstimateOptions) -> Result<Estimate> {
    estimate_with(net, domain, options, &RegionShare)
}

/// [`estimate`] with the children chosen by `choice`. Fails with [`crate::Error::TimeLimit`] when
/// the probes it has started do not finish within twice `options.time_limit` (one probe through a
/// large CNN can take minutes).
///
/// First the top of the cut tree is enumerated exactly, breadth first, until its frontier would
/// pass `probes / ESTIMATE_PROBES_PER_STRATUM` nodes and `options.strata` (under a time limit, the
/// probes a timed pilot says will fit take the place of `probes`): the leaves met on the way are
/// counted exactly, and each frontier node is a stratum, probed independently, with probes
/// allocated by [`allocation`]. The estimate is the exact leaves plus the sum of the strata's
/// probe means: unbiased, since each stratum's mean is, and the strata cover every leaf not yet
/// met. Stratifying removes the variance of the top of the tree, where one wrong coin would halve
/// or double a whole probe. A tree that is enumerated before the frontier fills gives the exact
/// count of its leaves (no probes, zero spread).
pub fn estimate_with(
    net: &Network,
    domain: &Domain,
    options: &EstimateOptions,
    choice: &dyn ChildChoice,
) -> Result<Estimate> {
    options.check()?;
    let started = Instant::now();
    let screen = Screen::of(net, &analyse(net, &InputSet::new(domain)).combined);
    estimate_from(net, domain, options, choice, screen, started)
}

/// [`estimate_with`] from the interval analysis's screen of the domain, its time limit counted
/// from `started`.
fn estimate_from(
    net: &Network,
    domain: &Domain,
    options: &EstimateOptions,
    choice: &dyn ChildChoice,
    screen: Screen,
    started: Instant,
) -> Result<Estimate> {
    // The box partition's descents have no k-way cut for a max window: max networks take the LP tree.
    if options.width == 1 && net.max_windows().is_empty() && partition::applies(net, domain, &WalkOptions::default()) {
        return estimate_on_box(net, domain, options, choice, started);
    }
    // The children's measure: seeded random points of the domain with their patterns (none when
    // the domain cannot be sampled, e.g. the whole space; the choice is then uniform).
    let sample_deadline = options.time_limit.map(|t| started + t / 4);
    let (_, sample) = interior_patterns_of_sample(net, domain, ESTIMATE_SAMPLE_POINTS, options.seed, sample_deadline);
    // Probes that have started are finished (dropping the slow ones would bias the estimate), up
    // to twice the time limit; past that the estimate is abandoned with `Error::TimeLimit`.
    let hard_deadline = options.time_limit.map(|t| started + 2 * t);
    // The pilot gets half the time limit: a round of pilot probes (one per thread) that outlasts
    // it leaves time for fewer than three probes per thread until twice the limit, too few for a
    // reliable interval (ESTIMATE_MIN_EFFECTIVE) on up to ten threads, so the estimate is
    // abandoned then (on a CIFAR ResNet a probe takes seconds: `bound` would wait for nothing).
    let mut tree =
        Tree::new(net, domain, screen, choice, sample, options.seed, options.time_limit.map(|t| started + t / 2));
    let walk_options =
        WalkOptions { time_limit: options.time_limit, interrupt: options.interrupt.clone(), ..WalkOptions::default() };
    let budget = Budget::new(&walk_options, options.time_limit.map(|t| started + t), 0, 0);
    let prefix_budget = Budget::new(&walk_options, options.time_limit.map(|t| started + t / 2), 0, 0);
    let mut counters = LpCounters::default();

    let threads = rayon::current_num_threads();
    let (affordable, batch) = match options.time_limit {
        Some(limit) => {
            let (affordable, seconds_per_probe) =
                affordable_probes(&tree, started + limit, options.width, options.seed, &mut counters)?;
            tree.set_deadline(hard_deadline);
            // Batches of about half a second, so that the time limit is checked often.
            (affordable, ((0.5 / seconds_per_probe) as usize * threads).clamp(threads, 64))
        }
        None => (options.probes, 64),
    };
    let cap = (options.probes.min(affordable) / ESTIMATE_PROBES_PER_STRATUM).clamp(1, options.strata);
    let (exact_leaves, strata) = enumerate_prefix(&tree, cap, &prefix_budget, &mut counters)?;

    // Under a time limit, plan up to 16 times what the pilot says fits (it is a rough guide).
    let planned = options.probes.min(affordable.saturating_mul(16).max(2 * strata.len()));
    let hits: Vec<usize> = strata.iter().map(|node| tree.distinct_patterns(node)).collect();
    let order = allocation(&hits, planned);
    // Each probe has its own seed, so the result is the same for any thread count.
    let probes: Vec<Probe> = run_probes(&order, strata.len(), batch, &budget, |i| {
        tree.probe(&strata[order[i]], options.width, options.seed, i as u64)
    })?;
    let mut by_stratum: Vec<Vec<f64>> = vec![Vec::new(); strata.len()];
    probes.iter().zip(&order).for_each(|(p, &s)| by_stratum[s].push(p.weight));
    probes.iter().for_each(|p| counters.add(&p.counters));
    let mut leaves: Vec<&Pattern> =
        exact_leaves.iter().flatten().chain(probes.iter().flat_map(|p| &p.leaves)).collect();
    leaves.sort();
    leaves.dedup();
    let mut estimate = summarise(exact_leaves.len() as f64, &by_stratum, options);
    estimate.certified_regions = leaves.len();
    estimate.counters = counters;
    estimate.seconds = started.elapsed().as_secs_f64();
    Ok(estimate)
}

/// [`estimate_from`] on a box of at most 8 inputs: Knuth probes down the box partition's cut tree
/// (`partition::descend`), whose leaves with a checked witness are exactly the regions the count
/// counts. A cut there is one step of the double description on the cell's corners, not a dual
/// solve: a probe costs ~130 µs on ACAS Xu against ~2.5 ms on the LP tree. Strata, allocation
/// and interval as on the LP tree; children chosen by `choice` from the distinct patterns of the
/// domain sample's points in each part.
fn estimate_on_box(
    net: &Network,
    domain: &Domain,
    options: &EstimateOptions,
    choice: &dyn ChildChoice,
    started: Instant,
) -> Result<Estimate> {
    let sample_deadline = options.time_limit.map(|t| started + t / 4);
    let (_, sample) = interior_sample(net, domain, ESTIMATE_SAMPLE_POINTS, options.seed, sample_deadline, true);
    // Points in one flat array, patterns as small ids: a part's distinct patterns are then
    // counted without hashing.
    let mut numbered: FxHashMap<Pattern, u32> = FxHashMap::default();
    let (mut points, mut ids) = (Vec::with_capacity(sample.len() * domain.dim()), Vec::with_capacity(sample.len()));
    for (y, p) in sample {
        points.extend(y);
        let next = numbered.len() as u32;
        ids.push(*numbered.entry(p).or_insert(next));
    }
    let choose = |minus: usize, plus: usize| {
        let q = choice.probabilities(&[Child { patterns: minus }, Child { patterns: plus }]);
        q[0] / (q[0] + q[1])
    };
    let walk_options =
        WalkOptions { time_limit: options.time_limit, interrupt: options.interrupt.clone(), ..WalkOptions::default() };
    let budget = Budget::new(&walk_options, options.time_limit.map(|t| started + t), 0, 0);
    let prefix_budget = Budget::new(&walk_options, options.time_limit.map(|t| started + t / 2), 0, 0);
    let mut counters = LpCounters::default();
    let descend = |route: &[bool], choose: Option<&dyn Fn(usize, usize) -> f64>, stream: u64| {
        let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
        rng.set_stream(stream);
        partition::descend(net, domain, &points, &ids, route, choose, &mut rng)
    };
    // The strata: the top of the cut tree enumerated breadth first (each node by its route from
    // the root) while the frontier stays within the cap, as on the LP tree.
    let cap = (options.probes / ESTIMATE_PROBES_PER_STRATUM).clamp(1, options.strata);
    let mut exact_leaves: Vec<Pattern> = Vec::new();
    let mut frontier: Vec<(Vec<bool>, usize)> = vec![(Vec::new(), 0)];
    while !frontier.is_empty() && 2 * frontier.len() <= cap && prefix_budget.late_or_interrupted().is_none() {
        let expanded: Vec<(Descent, LpCounters)> =
            frontier.par_iter().map(|(route, _)| descend(route, None, 0)).collect::<Result<_>>()?;
        let mut next = Vec::with_capacity(2 * frontier.len());
        for ((route, _), (descent, spent)) in frontier.into_iter().zip(expanded) {
            counters.add(&spent);
            match descent {
                Descent::Leaf { leaf, .. } => exact_leaves.extend(leaf),
                Descent::Split { minus, plus } => {
                    for (side, hits) in [(false, minus), (true, plus)] {
                        let mut child = route.clone();
                        child.push(side);
                        next.push((child, hits));
                    }
                }
                Descent::Empty => {}
            }
        }
        frontier = next;
    }
    // Before any expansion the root is the one stratum (its hits are not needed).
    let strata: Vec<&[bool]> = frontier.iter().map(|(route, _)| route.as_slice()).collect();
    let hits: Vec<usize> = frontier.iter().map(|(_, hits)| *hits).collect();
    let order = if strata.is_empty() { Vec::new() } else { allocation(&hits, options.probes) };
    let found = run_probes(&order, strata.len(), BOX_PROBE_BATCH, &budget, |i| {
        descend(strata[order[i]], Some(&choose), i as u64)
    })?;
    let mut by_stratum: Vec<Vec<f64>> = vec![Vec::new(); strata.len()];
    let exact = exact_leaves.len();
    let mut leaves: Vec<Pattern> = exact_leaves;
    for (&s, (descent, spent)) in order.iter().zip(found) {
        counters.add(&spent);
        let weight = match descent {
            Descent::Leaf { weight, leaf } => {
                leaves.extend(leaf);
                weight
            }
            Descent::Empty | Descent::Split { .. } => 0.0,
        };
        by_stratum[s].push(weight);
    }
    leaves.sort();
    leaves.dedup();
    let mut estimate = summarise(exact as f64, &by_stratum, options);
    estimate.tree = BOX_TREE;
    estimate.certified_regions = leaves.len();
    estimate.counters = counters;
    estimate.seconds = started.elapsed().as_secs_f64();
    Ok(estimate)
}

/// The estimate's cut tree in boxes of up to 8 inputs: the box partition's, cut on the cells'
/// corners.
pub const BOX_TREE: &str = "box partition";
/// The estimate's cut tree elsewhere: cut by certified feasibility questions (dual path, HiGHS).
pub const LP_TREE: &str = "certified LP";

/// Probes run between two checks of the time limit on a box (each takes tens of microseconds).
const BOX_PROBE_BATCH: usize = 256;

/// Runs probe `i` (`probe(i)`) for the `i` of `order` in parallel batches of `batch`, until all
/// have run or, once every stratum has two probes (the first `2 · strata` of `order`), the
/// budget says stop; returns them in order.
fn run_probes<T: Send>(
    order: &[usize],
    strata: usize,
    batch: usize,
    budget: &Budget,
    probe: impl Fn(usize) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let must = order.len().min(2 * strata);
    let mut probes: Vec<T> = Vec::with_capacity(order.len().min(1 << 16));
    while probes.len() < order.len() {
        if probes.len() >= must && budget.late_or_interrupted().is_some() {
            break;
        }
        let range = probes.len()..(probes.len() + batch).min(order.len());
        let found: Vec<T> = range.into_par_iter().map(&probe).collect::<Result<_>>()?;
        probes.extend(found);
    }
    Ok(probes)
}

/// The stratum of each probe, in the order they run: two rounds of one probe per stratum (every
/// stratum has a variance before a time limit may stop the probes), then the rest dealt in
/// proportion to each stratum's `hits` + 1 (distinct patterns of the sample points in it, a
/// measure of its regions known before any probe), interleaved so that a cut anywhere keeps the
/// proportions. Allocating by what the sample says, not by the probes, keeps each stratum's mean
/// unbiased; giving the large strata more probes is what stratification gains by.
fn allocation(hits: &[usize], probes: usize) -> Vec<usize> {
    let strata = hits.len();
    let mut order: Vec<usize> = (0..strata).chain(0..strata).take(probes).collect();
    let rest = probes.saturating_sub(order.len());
    let total: f64 = hits.iter().map(|h| (h + 1) as f64).sum();
    let mut dealt: Vec<(f64, usize)> = Vec::with_capacity(rest);
    for (s, h) in hits.iter().enumerate() {
        let share = ((h + 1) as f64 / total * rest as f64).round() as usize;
        dealt.extend((0..share).map(|j| ((j as f64 + 0.5) / share as f64, s)));
    }
    dealt.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    order.extend(dealt.into_iter().map(|(_, s)| s));
    order
}

/// The top of the cut tree enumerated breadth first while the frontier stays within `cap` nodes
/// (and the budget lasts): the leaves met on the way (with their certified patterns) and the
/// frontier, whose nodes are the strata.
fn enumerate_prefix(
    tree: &Tree,
    cap: usize,
    budget: &Budget,
    counters: &mut LpCounters,
) -> Result<(Vec<Option<Pattern>>, Vec<Node>)> {
    let mut leaves = Vec::new();
    let mut frontier: Vec<Node> = tree.root(counters)?.into_iter().collect();
    while !frontier.is_empty() && 2 * frontier.len() <= cap && budget.late_or_interrupted().is_none() {
        let expanded: Vec<(Expansion, LpCounters)> =
            frontier.into_par_iter().map(|node| tree.expand(node)).collect::<Result<_>>()?;
        frontier = Vec::new();
        for (expansion, spent) in expanded {
            counters.add(&spent);
            match expansion {
                Expansion::Leaf(leaf) => leaves.push(tree.certified(&leaf)),
                Expansion::Split(children) => frontier.extend(children.into_iter().map(|(_, node)| node)),
                Expansion::Empty => {}
            }
        }
    }
    Ok((leaves, frontier))
}

/// How many probes from the root fit before `deadline`, judged by a pilot: one probe per thread
/// from the root, timed. The pilot's probes are discarded: the design chosen from them (how many
/// strata) is then independent of the probes the estimate averages, which keeps it unbiased.
/// Returns the probes that fit and the seconds one probe takes on one thread.
fn affordable_probes(
    tree: &Tree,
    deadline: Instant,
    width: usize,
    seed: u64,
    counters: &mut LpCounters,
) -> Result<(usize, f64)> {
    let Some(root) = tree.root(counters)? else { return Ok((0, 0.0)) };
    let threads = rayon::current_num_threads();
    let started = Instant::now();
    // Streams from the top of the range, apart from the probes' own (0, 1, 2, ...).
    let pilot: Vec<Probe> = (0..threads as u64)
        .into_par_iter()
        .map(|i| tree.probe(&root, width, seed, u64::MAX - i))
        .collect::<Result<_>>()?;
    pilot.iter().for_each(|p| counters.add(&p.counters));
    let per_round = started.elapsed().max(Duration::from_micros(1)).as_secs_f64();
    // Half of what is left goes to the probes (the enumeration takes some of the rest).
    let left = deadline.saturating_duration_since(Instant::now()).as_secs_f64() / 2.0;
    Ok(((left / per_round * threads as f64) as usize, per_round))
}

/// The estimate, its interval and diagnostics: `exact` leaves plus the sum of the strata's
/// probe means.
fn summarise(exact: f64, strata: &[Vec<f64>], options: &EstimateOptions) -> Estimate {
    let mean = |w: &[f64]| w.iter().sum::<f64>() / w.len() as f64;
    let estimate = exact + strata.iter().map(|w| mean(w)).sum::<f64>();
    let variance: f64 = strata
        .iter()
        .filter(|w| w.len() > 1)
        .map(|w| {
            let m = mean(w);
            w.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (w.len() - 1) as f64 / w.len() as f64
        })
        .sum();
    // Each probe's contribution to the estimate: its weight over its stratum's probe count.
    let contributions: Vec<f64> = strata.iter().flat_map(|w| w.iter().map(|x| x / w.len() as f64)).collect();
    let sum: f64 = contributions.iter().sum();
    let squares: f64 = contributions.iter().map(|c| c * c).sum();
    let probes = contributions.len();
    let effective = if squares > 0.0 { sum * sum / squares } else { probes as f64 };
    let max_share = if sum > 0.0 { contributions.iter().fold(0.0_f64, |m, c| m.max(*c)) / sum } else { 0.0 };
    let (low, high) = bootstrap(exact, strata, options.confidence, options.seed);
    let enumerated = strata.is_empty();
    Estimate {
        estimate,
        low,
        high,
        confidence: options.confidence,
        standard_error: variance.sqrt().abs(), // an empty sum of f64 is −0
        probes,
        width: options.width,
        tree: LP_TREE,
        strata: strata.len(),
        effective_probes: effective,
        max_share,
        reliable: enumerated
            || (effective >= ESTIMATE_MIN_EFFECTIVE
                && max_share <= ESTIMATE_MAX_SHARE
                && strata.iter().all(|w| w.len() > 1)),
        certified_regions: 0,
        counters: LpCounters::default(),
        seconds: 0.0,
    }
}

/// The percentile interval of the stratified bootstrap: each resample draws every stratum's
/// probes again from that stratum (seeded). A stratum's resampled mean spreads by a factor
/// `√((m − 1)/m)` less than its mean does over fresh probes; with a few probes per stratum that
/// narrows the interval, so each is rescaled by `√(m/(m − 1))` (the rescaling bootstrap).
fn bootstrap(exact: f64, strata: &[Vec<f64>], confidence: f64, seed: u64) -> (f64, f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xb007_57a9);
    // Each stratum's mean and rescaling factor, once for all resamples.
    let scaled: Vec<(f64, f64)> = strata
        .iter()
        .map(|w| {
            let m = w.len() as f64;
            (w.iter().sum::<f64>() / m, (m / (m - 1.0).max(1.0)).sqrt())
        })
        .collect();
    let mut totals: Vec<f64> = (0..ESTIMATE_BOOTSTRAP)
        .map(|_| {
            exact
                + strata
                    .iter()
                    .zip(&scaled)
                    .map(|(w, (mean, factor))| {
                        let resampled =
                            (0..w.len()).map(|_| w[rng.gen_range(0..w.len())]).sum::<f64>() / w.len() as f64;
                        mean + factor * (resampled - mean)
                    })
                    .sum::<f64>()
        })
        .collect();
    totals.sort_by(f64::total_cmp);
    let tail = (1.0 - confidence) / 2.0;
    let at = |q: f64| totals[((q * (totals.len() - 1) as f64).round() as usize).min(totals.len() - 1)];
    (at(tail), at(1.0 - tail))
}

/// The estimate as the bound, validate and audit reports carry it, beside their certified
/// bracket: null when no estimate was made (the walk finished, or none was asked for).
///
/// The numbers are the estimate and its interval **clamped into the certified bracket**
/// `lower ≤ regions ≤ upper`: the count lies in the bracket for certain, so clamping can only
/// bring the estimate closer to it (the unclamped mean, unbiased, is `estimate --json`'s `mean`).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct EstimateColumns {
    /// Statistical estimate of the count (not certified), within the certified bracket.
    pub estimate: Option<f64>,
    /// Lower end of its 95% (or `--confidence`) interval.
    pub estimate_low: Option<f64>,
    /// Upper end of that interval.
    pub estimate_high: Option<f64>,
    /// Whether the estimate's diagnostics trust the interval.
    pub estimate_reliable: Option<bool>,
}

/// The report columns of an estimate of `net`'s regions in `domain` beside the certified bracket
/// `[lower, upper]`: null when no estimate finishes within the time limit (the reports then keep
/// their bracket alone).
pub fn estimate_columns(
    net: &Network,
    domain: &Domain,
    options: &EstimateOptions,
    lower: usize,
    upper: Option<&num_bigint::BigUint>,
    screen: Option<&Screen>,
) -> Result<EstimateColumns> {
    let estimated = match screen {
        Some(s) => {
            options.check()?;
            estimate_from(net, domain, options, &RegionShare, s.clone(), Instant::now())
        }
        None => estimate(net, domain, options),
    };
    match estimated {
        Ok(e) => Ok(e.columns(lower, upper)),
        Err(crate::Error::TimeLimit) => Ok(EstimateColumns::default()),
        Err(e) => Err(e),
    }
}

impl Estimate {
    /// `value` clamped into the certified bracket `[lower, upper]` (`upper`: none known).
    pub fn within(value: f64, lower: usize, upper: Option<&num_bigint::BigUint>) -> f64 {
        use num_traits::ToPrimitive;
        let upper = upper.and_then(|u| u.to_f64()).unwrap_or(f64::INFINITY);
        value.max(lower as f64).min(upper)
    }

    /// The report columns of this estimate beside the certified bracket `[lower, upper]`.
    pub fn columns(&self, lower: usize, upper: Option<&num_bigint::BigUint>) -> EstimateColumns {
        let lower = lower.max(self.certified_regions);
        EstimateColumns {
            estimate: Some(Self::within(self.estimate, lower, upper)),
            estimate_low: Some(Self::within(self.low, lower, upper)),
            estimate_high: Some(Self::within(self.high, lower, upper)),
            estimate_reliable: Some(self.reliable),
        }
    }
}
