//! An unbiased estimate of the number the walk counts, for neighbourhoods too large to count
//! (theory §10; docs/estimate.md). A statistical answer: it is always reported beside the
//! certified bracket, never in place of it.
//!
//! **The cut tree.** A node at depth k is the domain intersected with the sides chosen for the
//! first k neurons, in topological order (layer by layer). Its children are the sides of neuron
//! k + 1 whose part still meets the open domain, decided as the walk decides a region: by a
//! certified witness with more than [`DECIDE`] of room, or a certified refutation. A neuron proved
//! stable over the domain, or constant on the node, has one child. The leaves are therefore
//! exactly the activation regions that `count` counts.
//!
//! **Knuth's estimator.** A probe walks from the root, choosing one child at random with the
//! probability [`ChildChoice`] gives it, and returns `X = Π 1/q` over its choices (0 if it reaches
//! a node with no child: a sliver the count leaves out too). A leaf ℓ is reached with probability
//! `Π q(ℓ)`, so `E[X] = Σ_ℓ 1 = N`, whatever the probabilities (as long as every feasible child
//! has `q > 0`). Probes are independent: the mean of many is unbiased, its interval comes from a
//! bootstrap of the probes (heavy tails: see [`Estimate::reliable`]), and every probe that ends in
//! a leaf whose witness a forward pass confirms adds a region to a certified lower bound.

use crate::analysis::interval::{analyse, Status};
use crate::analysis::set::InputSet;
use crate::domain::{Domain, Halfspace};
use crate::exact::result::Budget;
use crate::exact::WalkOptions;
use crate::lp::{decide_by_dual, margin, meets, Decision, LpCounters};
use crate::model::{Network, NeuronKind, Pattern};
use crate::tolerance::{DECIDE, ESTIMATE_BOOTSTRAP, ESTIMATE_MAX_SHARE, ESTIMATE_MIN_EFFECTIVE};
use crate::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a probe picks among a node's feasible children: each gets a probability, all positive and
/// summing to 1. The estimate is unbiased for any such rule; a rule closer to the subtree sizes
/// has a smaller variance.
pub trait ChildChoice: Sync {
    /// The probabilities of the `feasible` children of neuron `k` (each `(side, room)`: the side
    /// and the radius, frame units, of a ball in the child around its witness).
    fn probabilities(&self, k: usize, feasible: &[(bool, f64)]) -> Vec<f64>;
}

/// Every feasible child equally likely: Knuth's original estimator.
pub struct Uniform;

impl ChildChoice for Uniform {
    fn probabilities(&self, _k: usize, feasible: &[(bool, f64)]) -> Vec<f64> {
        vec![1.0 / feasible.len() as f64; feasible.len()]
    }
}

/// Options of [`estimate`].
#[derive(Clone, Debug)]
pub struct EstimateOptions {
    /// Probes to run (at most: the time limit may stop earlier).
    pub probes: usize,
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

    /// Checks the options as every front end gives them: at least one probe, a coverage strictly
    /// between 0 and 1.
    pub fn check(&self) -> Result<()> {
        if self.probes == 0 {
            return Err(crate::Error::Settings("an estimate needs at least one probe".into()));
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
    /// `(Σ X)² / Σ X²`: how many probes carry the mean. Far below `probes` means heavy tails.
    pub effective_probes: f64,
    /// The largest share of the sum that one probe carries.
    pub max_share: f64,
    /// Whether the diagnostics trust the interval: at least `ESTIMATE_MIN_EFFECTIVE` effective
    /// probes and no probe above `ESTIMATE_MAX_SHARE` of the sum. When false, the interval is
    /// likely too narrow.
    pub reliable: bool,
    /// Distinct leaves reached whose witness a forward pass confirms: a certified lower bound.
    pub certified_regions: usize,
    /// Solver work.
    pub counters: LpCounters,
    /// Wall time.
    pub seconds: f64,
}

/// What one probe found: its weight `X`, and the leaf it reached when a forward pass confirms it.
struct Probe {
    weight: f64,
    leaf: Option<Pattern>,
    counters: LpCounters,
}

/// Estimates the activation regions of `net` meeting `domain` with uniform probes.
pub fn estimate(net: &Network, domain: &Domain, options: &EstimateOptions) -> Result<Estimate> {
    estimate_with(net, domain, options, &Uniform)
}

/// [`estimate`] with the children chosen by `choice`.
pub fn estimate_with(
    net: &Network,
    domain: &Domain,
    options: &EstimateOptions,
    choice: &dyn ChildChoice,
) -> Result<Estimate> {
    options.check()?;
    let started = Instant::now();
    let stability = analyse(net, &InputSet::new(domain)).combined;
    let status: Vec<Status> =
        stability.iter().flat_map(|layer| (0..layer.lower.len()).map(|j| layer.status(j))).collect();
    let tree = Tree { net, domain, status, choice };
    let walk_options =
        WalkOptions { time_limit: options.time_limit, interrupt: options.interrupt.clone(), ..WalkOptions::default() };
    let budget = Budget::new(&walk_options, options.time_limit.map(|t| started + t), 0, 0);
    // Probes in fixed batches so that the time limit is checked between them while the result
    // stays the same for any thread count (each probe has its own seed).
    let mut probes: Vec<Probe> = Vec::new();
    let batch = 64;
    while probes.len() < options.probes {
        if !probes.is_empty() && budget.late_or_interrupted().is_some() {
            break;
        }
        let range = probes.len()..(probes.len() + batch).min(options.probes);
        let found: Vec<Probe> =
            range.into_par_iter().map(|i| tree.probe(options.seed, i as u64)).collect::<Result<_>>()?;
        probes.extend(found);
    }
    Ok(summarise(&probes, options, started))
}

/// The estimate, its interval and diagnostics from the probes.
fn summarise(probes: &[Probe], options: &EstimateOptions, started: Instant) -> Estimate {
    let weights: Vec<f64> = probes.iter().map(|p| p.weight).collect();
    let n = weights.len() as f64;
    let sum: f64 = weights.iter().sum();
    let mean = sum / n;
    let variance = weights.iter().map(|w| (w - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let squares: f64 = weights.iter().map(|w| w * w).sum();
    let effective = if squares > 0.0 { sum * sum / squares } else { n };
    let max_share = if sum > 0.0 { weights.iter().fold(0.0_f64, |m, w| m.max(*w)) / sum } else { 0.0 };
    let (low, high) = bootstrap(&weights, options.confidence, options.seed);
    let mut counters = LpCounters::default();
    probes.iter().for_each(|p| counters.add(&p.counters));
    let mut leaves: Vec<&Pattern> = probes.iter().filter_map(|p| p.leaf.as_ref()).collect();
    leaves.sort();
    leaves.dedup();
    Estimate {
        estimate: mean,
        low,
        high,
        confidence: options.confidence,
        standard_error: (variance / n).sqrt(),
        probes: probes.len(),
        effective_probes: effective,
        max_share,
        reliable: effective >= ESTIMATE_MIN_EFFECTIVE && max_share <= ESTIMATE_MAX_SHARE,
        certified_regions: leaves.len(),
        counters,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// The percentile bootstrap interval of the mean of `weights` (seeded).
fn bootstrap(weights: &[f64], confidence: f64, seed: u64) -> (f64, f64) {
    let n = weights.len();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xb007_57a9);
    let mut means: Vec<f64> =
        (0..ESTIMATE_BOOTSTRAP).map(|_| (0..n).map(|_| weights[rng.gen_range(0..n)]).sum::<f64>() / n as f64).collect();
    means.sort_by(f64::total_cmp);
    let tail = (1.0 - confidence) / 2.0;
    let at = |q: f64| means[((q * (means.len() - 1) as f64).round() as usize).min(means.len() - 1)];
    (at(tail), at(1.0 - tail))
}

/// The cut tree of a network over a domain.
struct Tree<'a> {
    net: &'a Network,
    domain: &'a Domain,
    /// Each neuron's stability over the whole domain.
    status: Vec<Status>,
    choice: &'a dyn ChildChoice,
}

impl Tree<'_> {
    /// One probe from the root, with the random choices of probe `index` of `seed`.
    fn probe(&self, seed: u64, index: u64) -> Result<Probe> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(index);
        let mut counters = LpCounters::default();
        let (net, domain) = (self.net, self.domain);
        let mut pattern = Pattern::zeros(net.neurons());
        let mut rows: Vec<Halfspace> = Vec::new();
        // A point of the current node and the radius of a ball around it inside the node.
        let centre = vec![0.0; domain.dim()];
        let (mut y, mut room) = match domain.contains_frame(&centre) {
            true => (centre.clone(), margin(domain, &[], &centre).min(1.0)),
            false => match meets(domain, &[], None, &mut counters)? {
                Decision::Meets { witness, slack } => (witness, slack),
                _ => return Ok(Probe { weight: 0.0, leaf: None, counters }),
            },
        };
        let mut weight = 1.0;
        for (l, width) in net.hidden_widths().into_iter().enumerate() {
            // Layer l's neurons are affine on the node: their maps depend on earlier layers only.
            let sur = net.surrogate(&pattern);
            for j in 0..width {
                let k = net.neuron_index(l, j);
                let side = match (self.status[k], sur.kind[k]) {
                    (Status::Active, _) => true,
                    (Status::Inactive, _) | (_, NeuronKind::Zero) => false,
                    (_, NeuronKind::Constant) => sur.beta[k] > 0.0,
                    (Status::Unstable, NeuronKind::Varying) => {
                        let Some(active) = domain.halfspace(sur.a.row(k).iter().copied(), sur.beta[k]) else {
                            // Constant after all in the frame (a zero normal): its offset decides.
                            pattern.set(k, sur.beta[k] > 0.0);
                            continue;
                        };
                        let sides = [active.negated(), active];
                        let mut feasible = Vec::with_capacity(2);
                        for (s, h) in sides.into_iter().enumerate() {
                            let distance = h.eval(&y);
                            let found = if distance > 0.0 && room.min(distance) > DECIDE {
                                Some((y.clone(), room.min(distance)))
                            } else {
                                self.meets(&rows, &h, &mut counters)?
                            };
                            if let Some((witness, slack)) = found {
                                feasible.push((s == 1, slack, witness, h));
                            }
                        }
                        if feasible.is_empty() {
                            // A sliver thinner than the decision margin: no leaf the count counts.
                            return Ok(Probe { weight: 0.0, leaf: None, counters });
                        }
                        let rooms: Vec<(bool, f64)> = feasible.iter().map(|f| (f.0, f.1)).collect();
                        let q = self.choice.probabilities(k, &rooms);
                        let mut u = rng.gen::<f64>();
                        let mut pick = feasible.len() - 1;
                        for (i, qi) in q.iter().enumerate() {
                            if u < *qi {
                                pick = i;
                                break;
                            }
                            u -= qi;
                        }
                        weight /= q[pick];
                        let (side, slack, witness, h) = feasible.swap_remove(pick);
                        (y, room) = (witness, slack);
                        rows.push(h);
                        side
                    }
                };
                pattern.set(k, side);
            }
        }
        // The leaf counts toward the certified lower bound only if a forward pass at its witness
        // gives its pattern (the same certificate as the walk's).
        let x = domain.from_frame(&y);
        let leaf = (net.interior_pattern(&x).as_ref() == Some(&pattern)).then_some(pattern);
        Ok(Probe { weight, leaf, counters })
    }

    /// A witness of the node `rows` on side `h`, with its room, if that part meets the domain by
    /// more than the decision margin: the dual path's certified answer, else HiGHS.
    fn meets(&self, rows: &[Halfspace], h: &Halfspace, counters: &mut LpCounters) -> Result<Option<(Vec<f64>, f64)>> {
        let all: Vec<&Halfspace> = rows.iter().chain([h]).collect();
        let decision = match decide_by_dual(self.domain, &all, None) {
            Some((decision, _)) => {
                counters.dual_solves += 1;
                decision
            }
            None => meets(self.domain, &all, None, counters)?,
        };
        Ok(match decision {
            Decision::Meets { witness, slack } => Some((witness, slack)),
            _ => None,
        })
    }
}
