//! The region walk (theory §6.2): breadth-first search over the activation-pattern graph, from the
//! region of the domain's centre outward, crossing only facets that meet the domain.
//!
//! This module holds the frontier: budgets, chunks of regions expanded in parallel, the visited
//! set and the result. What happens inside one region is [`super::expand`]; saving and resuming a
//! walk is [`super::checkpoint`].
//!
//! Activation regions form a polyhedral complex (across a facet there is exactly one region), and
//! the regions meeting a convex domain are connected through facets inside it, so the walk finds
//! every region. Frontier chunks are expanded in parallel; the chunking does not depend on the
//! number of threads, so counts and LP tallies are reproducible.

pub use super::checkpoint::Checkpoint;
use super::checkpoint::{fingerprint, Saver, CHECKPOINT_VERSION};
pub use super::expand::region_constraints;
use super::expand::{prepare, Context, Entry, Expansion, Known, Prepared, Refuted};
use super::partition;
use super::reduce::in_row_space;
use crate::domain::Domain;
use crate::lp::{margin, meets, Decision, LpCounters};
use crate::model::{LayerMaps, Network, Pattern};
use crate::tolerance::{DECIDE, MEMORY_HEADROOM_REGIONS, START_POINT_TRIES};
use crate::Result;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Regions expanded between two budget checks (and merges of the visited set).
const CHUNK: usize = 64;

/// Regions of a chunk that share layer maps, one after the other (see `run`).
const BLOCK: usize = 8;

/// Largest layer maps (bytes, one pattern's) that each block position keeps from one chunk to the
/// next; larger ones are recomputed at each block's start, so that the walk's fixed memory stays
/// within `CHUNK / BLOCK` times this.
const CARRIED_MAPS: usize = 16 << 20;

/// Budgets and reporting for a walk.
#[derive(Clone, Debug, Default)]
pub struct WalkOptions {
    /// Stop once at least this many regions are found.
    pub max_regions: Option<usize>,
    /// Stop after this much wall time.
    pub time_limit: Option<Duration>,
    /// Called after every chunk, and once more when the walk returns, with how far it has got
    /// (a progress bar in the CLI; the library draws nothing itself).
    pub progress: Option<ProgressFn>,
    /// Record every facet adjacency inside the domain (for linear regions and the region graph).
    /// Costs a facet LP also for neighbours already known.
    pub edges: bool,
    /// Stop before the walk's estimated memory ([`memory_per_region`] × regions) exceeds this many
    /// bytes.
    pub max_memory: Option<u64>,
    /// Set from outside (e.g. on SIGINT) to stop the walk cleanly with a partial result.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Answer every facet and witness question with HiGHS, skipping the dual least-norm solver:
    /// the reference path for tests and benchmarks (counts are the same either way).
    pub highs_only: bool,
    /// Save the walk's state here when it stops early, and every minute while it runs, so that
    /// [`resume`] can finish it.
    pub checkpoint: Option<PathBuf>,
    /// Which exact method counts (the count is the same; the box partition is faster where it
    /// applies).
    pub engine: Engine,
}

/// The exact method behind [`walk`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// The box partition where it applies ([`partition::applies`]: a box in at most 8
    /// dimensions, without region graph or checkpoint), the walk otherwise.
    #[default]
    Auto,
    /// The region walk: every domain, edges, checkpoints.
    Walk,
    /// The box partition ([`super::partition`]); an error where it does not apply.
    Partition,
}

/// How far a running walk has got ([`WalkOptions::progress`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Regions found so far.
    pub regions: usize,
    /// Regions found but not yet expanded.
    pub frontier: usize,
    /// LPs solved so far.
    pub lp_solves: u64,
    /// True on the last call, when the walk returns (finished or stopped).
    pub finished: bool,
}

/// A progress callback, shared so that [`WalkOptions`] stays `Clone`.
#[derive(Clone)]
pub struct ProgressFn(pub Arc<dyn Fn(Progress) + Send + Sync>);

impl std::fmt::Debug for ProgressFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressFn")
    }
}

/// Why a walk stopped before finishing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// `max_regions` was reached.
    MaxRegions,
    /// `time_limit` was reached.
    TimeLimit,
    /// `max_memory` would have been exceeded.
    MaxMemory,
    /// The interrupt flag was raised (SIGINT).
    Interrupted,
}

/// Whether a walk found every region, or which budget stopped it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Completeness {
    /// Every region meeting the domain was found: the count is exact.
    Complete,
    /// A budget stopped the walk with regions left to expand: the count is a certified lower bound.
    Stopped(StopReason),
}

/// One region found by the walk.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Region {
    /// Its activation pattern.
    pub pattern: Pattern,
    /// A point strictly inside region ∩ domain (input coordinates), once the region is expanded.
    pub witness: Option<Vec<f64>>,
    /// Radius (input units) of a ball around `witness` inside region ∩ domain.
    pub inradius: Option<f64>,
}

/// Two regions sharing a facet that meets the domain (recorded with [`WalkOptions::edges`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Edge {
    /// Index of one region in [`WalkResult::regions`].
    pub a: usize,
    /// Index of the other.
    pub b: usize,
    /// The neurons whose activation differs between the two (they vanish on the facet).
    pub flipped: Vec<usize>,
}

/// What a walk found and what it cost.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct WalkResult {
    /// Every region found, in discovery order. When complete, exactly the regions meeting the domain.
    pub regions: Vec<Region>,
    /// Facet adjacencies inside the domain (empty unless [`WalkOptions::edges`]).
    pub edges: Vec<Edge>,
    /// Whether every region was found, or which budget stopped the walk.
    pub completeness: Completeness,
    /// Solver work.
    pub counters: LpCounters,
    /// Candidate hyperplanes dropped without a facet LP: they miss the domain, or the bounding box
    /// of region ∩ domain.
    pub screened: u64,
    /// Facet tests skipped because the neighbour's pattern was already known.
    pub known_neighbours: u64,
    /// Regions reached through a facet whose own witness LP failed (numerically thin slivers):
    /// not counted, and the walk did not go on through them. Non-zero values make the count a
    /// certified lower bound, never exact ([`WalkResult::complete`] is false).
    pub unverified: u64,
    /// The point the walk started from (input coordinates), if the domain is not empty.
    pub start: Option<Vec<f64>>,
    /// Wall time.
    pub seconds: f64,
    /// The method that counted ([`Engine::Walk`] or [`Engine::Partition`]).
    #[serde(default = "walked")]
    pub engine: Engine,
}

fn walked() -> Engine {
    Engine::Walk
}

impl WalkResult {
    /// A complete result with no region and no work: where a walk starts.
    pub fn empty(engine: Engine) -> Self {
        WalkResult {
            regions: Vec::new(),
            edges: Vec::new(),
            completeness: Completeness::Complete,
            counters: LpCounters::default(),
            screened: 0,
            known_neighbours: 0,
            unverified: 0,
            start: None,
            seconds: 0.0,
            engine,
        }
    }

    /// Number of regions counted.
    pub fn count(&self) -> usize {
        self.regions.len()
    }

    /// Whether the count is exact: no budget stopped the walk, and no region was dropped for
    /// lack of a certifiable interior point (a dropped region's neighbours may be missing too,
    /// so such a count is only a certified lower bound).
    pub fn complete(&self) -> bool {
        self.completeness == Completeness::Complete && self.unverified == 0
    }

    /// The budget that stopped the walk, if one did.
    pub fn stopped_by(&self) -> Option<StopReason> {
        match self.completeness {
            Completeness::Complete => None,
            Completeness::Stopped(reason) => Some(reason),
        }
    }
}

/// Estimated bytes the walk holds per region found: the pattern (twice: region list and visited
/// map), the witness, bookkeeping, and hash-map overhead. Edges add about 64 bytes each.
pub fn memory_per_region(net: &Network) -> u64 {
    let pattern = 8 * net.neurons().div_ceil(64) as u64 + 32;
    let witness = 8 * net.input_dim() as u64 + 24;
    2 * pattern + witness + 96
}

/// Counts the activation regions of `net` that meet `domain` (an unclipped L2 ball in the first
/// layer's row space when that has fewer dimensions than the input: `exact::reduce`).
pub fn walk(net: &Network, domain: &Domain, options: &WalkOptions) -> Result<WalkResult> {
    in_row_space(net, domain, |net, domain| walk_as_given(net, domain, options), |r| Some(r))
}

fn walk_as_given(net: &Network, domain: &Domain, options: &WalkOptions) -> Result<WalkResult> {
    let partitioned = partition::applies(net, domain, options);
    match options.engine {
        Engine::Auto | Engine::Partition if partitioned => return partition::partition(net, domain, options),
        Engine::Partition => {
            return Err(crate::Error::Domain(
                "the box partition counts bounded boxes (and L-inf balls) of at most 8 inputs, without \
                 edges, checkpoints or --highs-only; use the walk for this domain"
                    .into(),
            ))
        }
        Engine::Auto | Engine::Walk => {}
    }
    let started = Instant::now();
    let mut result = WalkResult::empty(Engine::Walk);
    let Some(start) = start_point(net, domain, &mut result.counters)? else {
        report_progress(options, &result, 0, true);
        result.seconds = started.elapsed().as_secs_f64();
        return Ok(result);
    };
    let first = net.interior_pattern(&start).expect("start point is interior");
    result.start = Some(start);
    result.regions.push(Region { pattern: first, witness: None, inradius: None });
    let checkpoint = Checkpoint {
        version: CHECKPOINT_VERSION,
        fingerprint: fingerprint(net, domain, options.edges),
        result,
        verified: vec![true],
        queue: vec![0],
        shard: None,
    };
    run(net, domain, options, checkpoint, started)
}

/// Continues a walk saved in a checkpoint; the result is the one the uninterrupted walk would give.
/// The checkpoint of a reduced walk holds the reduced problem's fingerprint and points.
pub fn resume(net: &Network, domain: &Domain, options: &WalkOptions, checkpoint: Checkpoint) -> Result<WalkResult> {
    let resumed = |net: &Network, domain: &Domain| {
        checkpoint.validate(net, domain, options.edges)?;
        let started = Instant::now() - Duration::from_secs_f64(checkpoint.result.seconds);
        run(net, domain, options, checkpoint, started)
    };
    in_row_space(net, domain, resumed, |r| Some(r))
}

fn run(
    net: &Network,
    domain: &Domain,
    options: &WalkOptions,
    state: Checkpoint,
    started: Instant,
) -> Result<WalkResult> {
    let deadline = options.time_limit.map(|t| Instant::now() + t);
    let context = Context::new(net, domain, !options.highs_only, deadline, options.interrupt.clone());
    let fingerprint = state.fingerprint;
    let (mut result, mut verified) = (state.result, state.verified);
    let mut frontier = Frontier::new(state.queue);
    result.completeness = Completeness::Complete;
    let mut stopped = None;
    // Pattern → index into `result.regions`.
    let mut visited: FxHashMap<Pattern, usize> =
        result.regions.iter().enumerate().map(|(i, r)| (r.pattern.clone(), i)).collect();
    let mut known_edges: FxHashSet<(usize, usize)> = result.edges.iter().map(|e| (e.a, e.b)).collect();
    let per_region = memory_per_region(net) + if options.edges { 64 } else { 0 };
    let mut saver = Saver::new(options.checkpoint.clone(), fingerprint, None);
    let mut expander = Expander::new(net);

    while !frontier.is_empty() {
        let stop = budget_spent(options, result.regions.len(), per_region, deadline, &context);
        if stop.is_some() {
            stopped = stop;
            break;
        }
        let chunk = frontier.take_chunk();
        let recorded = options.edges.then_some(&known_edges);
        let expansions = expander.expand(&context, &result.regions, &visited, recorded, &chunk)?;
        let mut put_back = Vec::new();
        for ((i, entry), expansion) in chunk.into_iter().zip(expansions) {
            let Some(e) = expansion else {
                // Interrupted by a budget: put it back so the result says incomplete.
                put_back.push((i, entry));
                continue;
            };
            record(&mut result, &mut verified, domain, i, &e);
            for (p, flipped, entry) in e.neighbours {
                let j = *visited.entry(p.clone()).or_insert_with(|| {
                    frontier.push(result.regions.len(), Some(entry));
                    result.regions.push(Region { pattern: p, witness: None, inradius: None });
                    verified.push(true);
                    result.regions.len() - 1
                });
                if options.edges && known_edges.insert((i.min(j), i.max(j))) {
                    result.edges.push(Edge { a: i.min(j), b: i.max(j), flipped });
                }
            }
        }
        frontier.put_back(put_back);
        report_progress(options, &result, frontier.len(), false);
        if saver.due() {
            result.seconds = started.elapsed().as_secs_f64();
            saver.save(&result, &verified, frontier.indices())?;
        }
    }
    result.seconds = started.elapsed().as_secs_f64();
    report_progress(options, &result, frontier.len(), true);
    if let (Some(reason), false) = (stopped, frontier.is_empty()) {
        result.completeness = Completeness::Stopped(reason);
        saver.save(&result, &verified, frontier.indices())?;
    }
    if result.unverified > 0 {
        // Drop the uncertified regions and renumber the edges.
        let mut new_index = vec![usize::MAX; verified.len()];
        let mut next = 0;
        for (i, ok) in verified.iter().enumerate() {
            if *ok {
                new_index[i] = next;
                next += 1;
            }
        }
        let mut keep = verified.into_iter();
        result.regions.retain(|_| keep.next().unwrap());
        result.edges.retain_mut(|e| {
            (e.a, e.b) = (new_index[e.a], new_index[e.b]);
            e.a != usize::MAX && e.b != usize::MAX
        });
    }
    Ok(result)
}

/// Regions found but not yet expanded, in order, with the way into each when known (ways are
/// not kept in checkpoints: a resumed region solves its witness LP).
pub(super) struct Frontier {
    queue: VecDeque<usize>,
    entries: FxHashMap<usize, Entry>,
}

impl Frontier {
    /// The regions `queue` (indices into the walk's regions), ways unknown.
    pub(super) fn new(queue: Vec<usize>) -> Self {
        Frontier { queue: queue.into(), entries: FxHashMap::default() }
    }

    /// Queues region `i`, entered by `entry`.
    pub(super) fn push(&mut self, i: usize, entry: Option<Entry>) {
        self.queue.push_back(i);
        if let Some(entry) = entry {
            self.entries.insert(i, entry);
        }
    }

    /// The next chunk to expand (at most [`CHUNK`] regions), taken off the front.
    pub(super) fn take_chunk(&mut self) -> Vec<(usize, Option<Entry>)> {
        let n = CHUNK.min(self.queue.len());
        self.queue.drain(..n).map(|i| (i, self.entries.remove(&i))).collect()
    }

    /// Puts regions a budget interrupted back at the front, in their order.
    pub(super) fn put_back(&mut self, regions: Vec<(usize, Option<Entry>)>) {
        for (i, entry) in regions.into_iter().rev() {
            self.queue.push_front(i);
            if let Some(entry) = entry {
                self.entries.insert(i, entry);
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The queued regions in order (what a checkpoint keeps).
    pub(super) fn indices(&mut self) -> &[usize] {
        self.queue.make_contiguous()
    }
}

/// The budget that stops a walk holding `regions` regions (of `per_region` bytes each), if any.
pub(super) fn budget_spent(
    options: &WalkOptions,
    regions: usize,
    per_region: u64,
    deadline: Option<Instant>,
    context: &Context,
) -> Option<StopReason> {
    if options.max_regions.is_some_and(|max| regions >= max) {
        Some(StopReason::MaxRegions)
    } else if options.max_memory.is_some_and(|max| (regions as u64 + MEMORY_HEADROOM_REGIONS) * per_region > max) {
        Some(StopReason::MaxMemory)
    } else if deadline.is_some_and(|d| Instant::now() >= d) {
        Some(StopReason::TimeLimit)
    } else if context.out_of_budget() {
        Some(StopReason::Interrupted)
    } else {
        None
    }
}

/// What expanding a chunk carries to the next one: the latest refutations and each block
/// position's layer maps.
pub(super) struct Expander {
    /// The latest multipliers refuting each facet neuron, updated between chunks (in chunk order,
    /// so the work does not depend on the thread count).
    refuted: Refuted,
    /// Each block position's layer maps, carried from chunk to chunk: the next chunk's block starts
    /// from a region near the last one (in 784-D a whole walk varies few neurons), so it updates
    /// the maps by a low-rank correction instead of computing them from scratch.
    block_maps: Vec<Option<LayerMaps>>,
    carry: bool,
}

impl Expander {
    pub(super) fn new(net: &Network) -> Self {
        Expander {
            refuted: Refuted::default(),
            block_maps: (0..CHUNK / BLOCK).map(|_| None).collect(),
            carry: net.hidden_widths().iter().sum::<usize>() * net.input_dim() * 8 <= CARRIED_MAPS,
        }
    }

    /// Expands the regions of `chunk` (indices into `regions`, each with the way it was entered,
    /// if known), skipping facet tests towards patterns in `visited` (and, with `known_edges`,
    /// recording every adjacency). `None` for a region the budget interrupted.
    pub(super) fn expand(
        &mut self,
        context: &Context,
        regions: &[Region],
        visited: &FxHashMap<Pattern, usize>,
        known_edges: Option<&FxHashSet<(usize, usize)>>,
        chunk: &[(usize, Option<Entry>)],
    ) -> Result<Vec<Option<Expansion>>> {
        // Blocks of consecutive regions (often siblings) share layer maps: each region's maps are
        // a low-rank update of the previous one's. Blocks, not threads, fix what is updated from
        // what, so the work does not depend on the thread count.
        let carry = self.carry;
        let prepared: Vec<Option<Prepared>> = chunk
            .par_chunks(BLOCK)
            .zip(self.block_maps.par_iter_mut())
            .map(|(block, near)| {
                let prepared = block
                    .iter()
                    .map(|(i, entry)| {
                        if context.out_of_budget() {
                            return Ok(None);
                        }
                        let known = Known { visited, edges: known_edges, index: *i };
                        prepare(context, &regions[*i].pattern, entry.as_ref(), &known, near).map(Some)
                    })
                    .collect::<Result<Vec<_>>>();
                if !carry {
                    *near = None;
                }
                prepared
            })
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .flatten()
            .collect();
        let expansions = decide_chunk(context, &self.refuted, prepared, known_edges.is_some())?;
        for e in expansions.iter().flatten() {
            self.refuted.update(&e.refuted);
        }
        Ok(expansions)
    }
}

/// Takes an expansion's witness and tallies into the result, for region `i`; a region whose
/// witness failed is flagged unverified (counted out at the end).
pub(super) fn record(result: &mut WalkResult, verified: &mut [bool], domain: &Domain, i: usize, e: &Expansion) {
    result.counters.add(&e.counters);
    result.screened += e.screened;
    result.known_neighbours += e.known;
    match &e.witness {
        None => {
            verified[i] = false;
            result.unverified += 1;
        }
        Some((w, t)) => {
            result.regions[i].witness = Some(domain.from_frame(w));
            result.regions[i].inradius = Some(t * domain.scale());
        }
    }
}

/// The facet tests of a chunk's prepared regions, in two steps: a neighbour proposed by several
/// regions is tested from the first of them (in chunk order), and from the others only if that
/// test fails (with `edges`, every test runs: each is an edge). `latest` holds the walk's latest
/// refutations.
fn decide_chunk(
    context: &Context,
    latest: &Refuted,
    mut prepared: Vec<Option<Prepared>>,
    edges: bool,
) -> Result<Vec<Option<Expansion>>> {
    let firsts: Vec<Vec<bool>> = {
        let mut first: FxHashMap<&Pattern, usize> = FxHashMap::default();
        for (position, p) in prepared.iter().enumerate() {
            for far in p.iter().flat_map(|p| p.proposals()) {
                first.entry(far).or_insert(position);
            }
        }
        let flags = |(position, p): (usize, &Option<Prepared>)| {
            p.iter().flat_map(|p| p.proposals()).map(|far| edges || first[far] == position).collect()
        };
        prepared.iter().enumerate().map(flags).collect()
    };
    prepared.par_iter_mut().zip(firsts).try_for_each(|(p, take)| match p {
        Some(p) => p.decide(context, latest, &take, &[]),
        None => Ok(()),
    })?;
    let found: Vec<Vec<bool>> = {
        let found: FxHashSet<&Pattern> = prepared.iter().flatten().flat_map(|p| p.found()).collect();
        let flags =
            |p: &Option<Prepared>| p.iter().flat_map(|p| p.proposals()).map(|far| found.contains(far)).collect();
        prepared.iter().map(flags).collect()
    };
    prepared.par_iter_mut().zip(found).try_for_each(|(p, found)| match p {
        Some(p) => p.decide(context, latest, &vec![true; found.len()], &found),
        None => Ok(()),
    })?;
    Ok(prepared.into_iter().map(|p| p.and_then(Prepared::finish)).collect())
}

/// Calls the progress callback, if any, with the walk's state.
fn report_progress(options: &WalkOptions, result: &WalkResult, frontier: usize, finished: bool) {
    if let Some(ProgressFn(call)) = &options.progress {
        call(Progress { regions: result.regions.len(), frontier, lp_solves: result.counters.lp_solves, finished });
    }
}

/// A point strictly inside the domain and strictly inside an activation region: the domain's
/// centre if it is such a point, otherwise a random point near it (the centre may lie on region
/// boundaries, theory §6.2 "Start") whose region meets the domain by more than the decision
/// margin: near a boundary through the centre, a random point may fall into a sliver between two
/// nearly coincident hyperplanes, which the walk would drop, and the walk would then count nothing.
/// `None` if the domain is empty.
pub fn start_point(net: &Network, domain: &Domain, counters: &mut LpCounters) -> Result<Option<Vec<f64>>> {
    let centre = vec![0.0; domain.dim()];
    let (anchor, room) = if domain.contains_frame(&centre) {
        (centre.clone(), margin(domain, &[], &centre).min(1.0))
    } else {
        match meets(domain, &[], None, counters)? {
            Decision::Meets { witness, slack } => (witness, slack),
            _ => return Ok(None),
        }
    };
    if let Some(x) = start_at(net, domain, &anchor, counters)? {
        return Ok(Some(x));
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x5eed);
    for _ in 0..START_POINT_TRIES {
        let step = 0.5 * room * rng.gen::<f64>();
        let dir: Vec<f64> = (0..domain.dim()).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let norm = dir.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 {
            continue;
        }
        let y: Vec<f64> = anchor.iter().zip(&dir).map(|(a, d)| a + step * d / norm).collect();
        if let Some(x) = start_at(net, domain, &y, counters)? {
            return Ok(Some(x));
        }
    }
    Err(crate::Error::Solver("could not find a start point off the region boundaries near the centre".into()))
}

/// `y` (frame coordinates) in input coordinates, if it can start the walk: inside the domain,
/// strictly inside its activation region, and that region meets the domain by more than the
/// decision margin: around `y` itself (no solver call), or else somewhere (an LP).
fn start_at(net: &Network, domain: &Domain, y: &[f64], counters: &mut LpCounters) -> Result<Option<Vec<f64>>> {
    let x = domain.from_frame(y);
    let pattern = match domain.contains_frame(y).then(|| net.interior_pattern(&x)).flatten() {
        Some(p) => p,
        None => return Ok(None),
    };
    let sur = net.surrogate(&pattern);
    let Some(constraints) = region_constraints(domain, &pattern, &sur.kind, &sur.a, &sur.beta) else {
        return Ok(None);
    };
    let rows: Vec<&crate::domain::Halfspace> = constraints.iter().map(|(_, h)| h).collect();
    let certified =
        margin(domain, &rows, y) > DECIDE || matches!(meets(domain, &rows, None, counters)?, Decision::Meets { .. });
    Ok(certified.then_some(x))
}
