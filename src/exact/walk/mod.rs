//! The region walk (theory §6.2): breadth-first search over the activation-pattern graph, from the
//! region of the domain's centre outward, crossing only facets that meet the domain.
//!
//! This module holds the frontier: budgets, chunks of regions expanded in parallel, the visited
//! set and the result ([`WalkState`], which the dataflow walk of `crate::cluster` shares). What
//! happens inside one region is [`expand`] (with [`geometry`] and the double description of
//! [`vertices`]); saving and resuming a walk is [`checkpoint`]; L2 balls are walked in the first
//! layer's row space when it is smaller ([`reduce`]).
//!
//! Activation regions form a polyhedral complex (across a facet there is exactly one region), and
//! the regions meeting a convex domain are connected through facets inside it, so the walk finds
//! every region. Frontier chunks are expanded in parallel; the chunking does not depend on the
//! number of threads, so counts and LP tallies are reproducible.

pub mod checkpoint;
pub(crate) mod expand;
pub(crate) mod frontier;
pub mod geometry;
pub(crate) mod reduce;
pub mod vertices;
pub mod visited;

use super::result::{
    memory_per_region, Budget, Completeness, Edge, Engine, Progress, ProgressFn, Region, WalkOptions, WalkResult,
};
use crate::domain::Domain;
use crate::lp::{margin, meets, Decision, LpCounters};
use crate::model::{LayerMaps, Network, Pattern};
use crate::tolerance::{DECIDE, FRONTIER_MEMORY, MEMORY_HEADROOM_REGIONS, START_POINT_TRIES};
use crate::Result;
pub use checkpoint::Checkpoint;
use checkpoint::{fingerprint, Saver};
pub use expand::region_constraints;
use expand::{prepare, Context, Entry, Expansion, Known, Prepared, Refuted};
use frontier::{Frontier, Item, CHUNK};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use reduce::in_row_space;
use rustc_hash::{FxHashMap, FxHashSet};
use std::time::{Duration, Instant};
use visited::Visited;

/// Regions of a chunk that share layer maps, one after the other (see `run`).
const BLOCK: usize = 8;

/// Largest layer maps (bytes, one pattern's) that each block position keeps from one chunk to the
/// next; larger ones are recomputed at each block's start, so that the walk's fixed memory stays
/// within `CHUNK / BLOCK` times this.
const CARRIED_MAPS: usize = 16 << 20;

/// Counts the activation regions of `net` that meet `domain` by walking them, whatever
/// `options.engine` says (`crate::exact::count` chooses the engine); an unclipped L2 ball is walked
/// in the first layer's row space when that has fewer dimensions than the input ([`reduce`]).
pub fn walk(net: &Network, domain: &Domain, options: &WalkOptions) -> Result<WalkResult> {
    refuse_streamed_edges_with_checkpoint(options, false)?;
    in_row_space(net, domain, options, walk_as_given, |r| Some(r))
}

fn walk_as_given(net: &Network, domain: &Domain, options: &WalkOptions) -> Result<WalkResult> {
    let started = Instant::now();
    // The first start is cheap (a forward pass). Only if its region is a sliver that the walk
    // drops, so that it found nothing, is a start certified by its margin sought (on a CIFAR CNN,
    // certifying costs the 450 MB of a dense surrogate).
    let first = walk_from(net, domain, options, started, false)?;
    if first.count() == 0 && first.unverified > 0 && first.stopped_by().is_none() {
        let mut second = walk_from(net, domain, options, started, true)?;
        second.counters.add(&first.counters);
        return Ok(second);
    }
    Ok(first)
}

/// The walk from [`start_point`] (`certified`: see there).
fn walk_from(
    net: &Network,
    domain: &Domain,
    options: &WalkOptions,
    started: Instant,
    certified: bool,
) -> Result<WalkResult> {
    let mut counters = LpCounters::default();
    let Some(start) = start_point(net, domain, &mut counters, certified)? else {
        let result =
            WalkResult { counters, seconds: started.elapsed().as_secs_f64(), ..WalkResult::empty(Engine::Walk) };
        report_progress(options, result.count(), 0, 0, true);
        return Ok(result);
    };
    let first = net.interior_pattern(&start).expect("start point is interior");
    let visited = Visited::new(options.identity, net.neurons(), Visited::random_key());
    let mut state = WalkState::new(net, options, visited, keeps_regions(options), Vec::new());
    state.result.counters = counters;
    state.result.start = Some(start);
    state.add(first, None)?;
    run(net, domain, options, state, started)
}

/// Bytes the frontier may hold in memory before it spills: as asked, else [`FRONTIER_MEMORY`] or
/// a quarter of the memory budget when that is less.
pub(crate) fn frontier_budget(options: &WalkOptions) -> u64 {
    let default = options.max_memory.map_or(FRONTIER_MEMORY, |m| FRONTIER_MEMORY.min(m / 4));
    options.frontier_memory.unwrap_or(default)
}

/// Whether a walk with `options` keeps its region list: when asked, for a region graph held in
/// memory, and when it streams regions to a sink and writes checkpoints (a resumed walk writes the
/// regions found before the checkpoint from the list).
pub(crate) fn keeps_regions(options: &WalkOptions) -> bool {
    !options.count_only
        || (options.edges && options.edge_sink.is_none())
        || (options.sink.is_some() && options.checkpoint.is_some())
}

/// A streamed region graph cannot be resumed: the adjacencies streamed before a checkpoint are
/// not in it.
fn refuse_streamed_edges_with_checkpoint(options: &WalkOptions, resuming: bool) -> Result<()> {
    if options.edges && options.edge_sink.is_some() && (resuming || options.checkpoint.is_some()) {
        return Err(crate::Error::Settings(
            "a streamed region graph (graph --format jsonl) cannot be checkpointed or resumed: its adjacencies are \
             written as they are found, not kept in the checkpoint"
                .into(),
        ));
    }
    Ok(())
}

/// Continues a walk saved in a checkpoint; the result is the one the uninterrupted walk would give.
/// The checkpoint of a reduced walk holds the reduced problem's fingerprint and points.
pub fn resume(net: &Network, domain: &Domain, options: &WalkOptions, checkpoint: Checkpoint) -> Result<WalkResult> {
    refuse_streamed_edges_with_checkpoint(options, true)?;
    let resumed = |net: &Network, domain: &Domain, options: &WalkOptions| {
        let state = WalkState::resumed(net, domain, options, checkpoint, None)?;
        // The regions certified before the checkpoint go to the sink first.
        if let Some(sink) = &options.sink {
            let found = state.result.regions.iter().enumerate();
            found.filter(|(_, r)| r.witness.is_some()).try_for_each(|(i, r)| (sink.0)(i, r))?;
        }
        let started = Instant::now() - Duration::from_secs_f64(state.result.seconds);
        run(net, domain, options, state, started)
    };
    in_row_space(net, domain, options, resumed, |r| Some(r))
}

fn run(
    net: &Network,
    domain: &Domain,
    options: &WalkOptions,
    mut state: WalkState,
    started: Instant,
) -> Result<WalkResult> {
    let deadline = options.time_limit.map(|t| Instant::now() + t);
    let context = Context::new(net, domain, !options.highs_only, deadline, options.interrupt.clone());
    let mut stopped = None;
    let mut known_edges: FxHashSet<(usize, usize)> = state.result.edges.iter().map(|e| (e.a, e.b)).collect();
    let mut settled_floor = 0;
    let budget = Budget::new(options, deadline, memory_per_region(net, options), MEMORY_HEADROOM_REGIONS)
        .holding(state.frontier.budget());
    let mut saver = Saver::new(options.checkpoint.clone(), fingerprint(net, domain, options.edges), None);

    while !state.frontier.is_empty() {
        if let Some(stop) = budget.spent(state.visited.len()) {
            stopped = Some(stop);
            break;
        }
        let recorded = options.edges.then_some(&known_edges);
        let found = state.expand_chunk(&context, domain, recorded)?;
        let expanded_through = found.iter().map(|n| n.0).max();
        for (i, p, flipped, entry) in found {
            let j = match state.visited.get(&p) {
                Some(j) => j,
                None => state.add(p, Some(entry))?,
            };
            if options.edges && known_edges.insert((i.min(j), i.max(j))) {
                let edge = Edge { a: i.min(j), b: i.max(j), flipped };
                match &options.edge_sink {
                    Some(sink) => (sink.0)(&edge)?,
                    None => state.result.edges.push(edge),
                }
            }
        }
        // A chunk the budget cut short leaves regions queued below `through`.
        if let (Some(through), Some(_), false) = (expanded_through, &options.edge_sink, context.out_of_budget()) {
            forget_settled_edges(&mut known_edges, through, &mut settled_floor);
        }
        report_progress(options, state.visited.len(), state.frontier.len(), state.result.counters.lp_solves, false);
        if saver.due() {
            state.result.seconds = started.elapsed().as_secs_f64();
            saver.save(&state)?;
        }
    }
    state.result.seconds = started.elapsed().as_secs_f64();
    if let (Some(reason), false) = (stopped, state.frontier.is_empty()) {
        state.result.completeness = Completeness::Stopped(reason);
        saver.save(&state)?;
    }
    report_progress(options, state.visited.len(), state.frontier.len(), state.result.counters.lp_solves, true);
    state.finish()
}

/// Drops from `known` the adjacencies whose two regions are both expanded (numbers up to
/// `through`: the frontier is first in, first out, in the order regions are numbered), which no
/// later facet test can ask about, once the set has doubled since it was last pruned to
/// `floor` entries: a streamed region graph then holds only the adjacencies of regions queued.
fn forget_settled_edges(known: &mut FxHashSet<(usize, usize)>, through: usize, floor: &mut usize) {
    if known.len() > 2 * *floor + CHUNK {
        known.retain(|&(_, b)| b > through);
        *floor = known.len();
    }
}

/// A neighbour found by expanding a region: (that region's index, the neighbour's pattern, the
/// neurons flipped across the facet, the way in).
pub(crate) type Neighbour = (usize, Pattern, Vec<usize>, Entry);

/// What a walk holds while it runs: the visited set (every region found, numbered in order), the
/// frontier, the regions whose witness failed, the result so far (with the region list when it
/// is kept) and what expanding carries from chunk to chunk. The single walk and each worker of
/// the dataflow walk (`crate::cluster`) hold one; [`WalkState::expand_chunk`] is the one step both
/// repeat.
pub(crate) struct WalkState {
    /// The counters and the result's other fields; `regions` lists every region found (in
    /// order) when `keep` is set, and is empty otherwise.
    pub(crate) result: WalkResult,
    /// Every region found.
    pub(crate) visited: Visited,
    /// Regions found but not yet expanded.
    pub(crate) frontier: Frontier,
    /// Regions whose witness failed (counted out at the end), in increasing order.
    pub(crate) unverified: Vec<usize>,
    /// Whether `result.regions` is kept.
    pub(crate) keep: bool,
    /// Hidden neurons (the length of every pattern).
    pub(crate) neurons: usize,
    /// Where expanded regions are written as they are certified (`WalkOptions::sink`).
    sink: Option<super::result::RegionSink>,
    expander: Expander,
}

impl WalkState {
    /// A walk holding the regions of `visited` (none yet for a fresh walk) and queueing `queue`.
    pub(crate) fn new(
        net: &Network,
        options: &WalkOptions,
        visited: Visited,
        keep: bool,
        queue: Vec<(usize, Pattern)>,
    ) -> Self {
        let budget = frontier_budget(options);
        WalkState {
            result: WalkResult::empty(Engine::Walk),
            visited,
            frontier: Frontier::new(queue.into_iter().map(|(i, p)| (i, p, None)).collect(), budget),
            unverified: Vec::new(),
            keep,
            neurons: net.neurons(),
            sink: options.sink.clone(),
            expander: Expander::new(),
        }
    }

    /// The walk saved in `saved`, checked against the problem (`shard`: see
    /// [`Checkpoint::validate_shard`]).
    pub(crate) fn resumed(
        net: &Network,
        domain: &Domain,
        options: &WalkOptions,
        saved: Checkpoint,
        shard: Option<(usize, usize)>,
    ) -> Result<Self> {
        let visited = saved.validate_shard(net, domain, options.edges, shard)?;
        let (identity, _) = visited.identity();
        let asked = options.identity.resolve(net.neurons());
        let mismatch = |what: String| Err(crate::error::CheckpointError::Mismatch(what).into());
        if options.identity != visited::Identity::Auto && asked != identity {
            return mismatch(format!("it identifies regions by {identity:?}, and {asked:?} were asked for"));
        }
        let keep = keeps_regions(options) || (options.sink.is_some() && saved.header.kept);
        if (keep || options.sink.is_some()) && !saved.header.kept {
            return mismatch(
                "it was written by a count that kept no region list, so the regions found before it cannot be \
                 listed or saved; resume it as a count only (without --save-regions, --linear or --certify), or \
                 start again with them"
                    .into(),
            );
        }
        let mut state = WalkState::new(net, options, visited, keep, saved.queue);
        state.result = saved.header.result;
        state.result.completeness = Completeness::Complete;
        if !keep {
            state.result.regions = Vec::new();
        }
        state.unverified = saved.unverified;
        Ok(state)
    }

    /// Adds a region entered by `entry` (reached through a certified facet) to the state and the
    /// frontier; returns its number.
    pub(crate) fn add(&mut self, pattern: Pattern, entry: Option<Entry>) -> Result<usize> {
        let i = self.visited.insert(&pattern);
        if self.keep {
            self.result.regions.push(Region { pattern: pattern.clone(), witness: None, inradius: None });
        }
        self.frontier.push((i, pattern, entry))?;
        Ok(i)
    }

    /// Expands the next chunk of the frontier, records each expansion (witness, counters), puts
    /// back the regions a budget interrupted, and returns every neighbour found as (the region it
    /// was found from, its pattern, the neurons flipped, the way in). With `known_edges`, facet
    /// tests also run towards known neighbours (each is an edge).
    pub(crate) fn expand_chunk(
        &mut self,
        context: &Context,
        domain: &Domain,
        known_edges: Option<&FxHashSet<(usize, usize)>>,
    ) -> Result<Vec<Neighbour>> {
        let chunk = self.frontier.take_chunk()?;
        let expansions = self.expander.expand(context, &self.visited, known_edges, &chunk)?;
        let mut put_back = Vec::new();
        let mut found = Vec::new();
        for (item, expansion) in chunk.into_iter().zip(expansions) {
            let Some(e) = expansion else {
                // Interrupted by a budget: put it back so the result says incomplete.
                put_back.push(item);
                continue;
            };
            let (i, pattern, _) = item;
            self.record(domain, i, pattern, &e)?;
            found.extend(e.neighbours.into_iter().map(|(p, flipped, entry)| (i, p, flipped, entry)));
        }
        self.frontier.put_back(put_back);
        Ok(found)
    }

    /// Takes an expansion's witness and tallies into the result, for region `i`; a region whose
    /// witness failed is flagged unverified (counted out at the end), a certified one is written
    /// to the sink.
    fn record(&mut self, domain: &Domain, i: usize, pattern: Pattern, e: &Expansion) -> Result<()> {
        let result = &mut self.result;
        result.counters.add(&e.counters);
        result.screened += e.screened;
        result.known_neighbours += e.known;
        let Some((w, t)) = &e.witness else {
            let at = self.unverified.partition_point(|&j| j < i);
            self.unverified.insert(at, i);
            result.unverified += 1;
            return Ok(());
        };
        if self.sink.is_none() && !self.keep {
            return Ok(());
        }
        let region = Region { pattern, witness: Some(domain.from_frame(w)), inradius: Some(t * domain.scale()) };
        if let Some(sink) = &self.sink {
            (sink.0)(i, &region)?;
        }
        if self.keep {
            result.regions[i] = region;
        }
        Ok(())
    }

    /// The result when the walk has ended: the regions left in the frontier written to the sink
    /// (without witness), the uncertified ones dropped from the list (edges renumbered), the count
    /// and what it rests on (the fingerprints' collision bound, the spilled frontier).
    pub(crate) fn finish(&mut self) -> Result<WalkResult> {
        if let Some(sink) = &self.sink {
            for (i, pattern) in self.frontier.queued()? {
                (sink.0)(i, &Region { pattern, witness: None, inradius: None })?;
            }
        }
        let mut result = std::mem::replace(&mut self.result, WalkResult::empty(Engine::Walk));
        if self.keep && !self.unverified.is_empty() {
            // Drop the uncertified regions and renumber the edges.
            let mut new_index = vec![usize::MAX; result.regions.len()];
            let mut dropped = self.unverified.iter().peekable();
            let mut next = 0;
            for (i, slot) in new_index.iter_mut().enumerate() {
                if dropped.next_if_eq(&&i).is_none() {
                    *slot = next;
                    next += 1;
                }
            }
            let mut i = 0;
            result.regions.retain(|_| {
                i += 1;
                new_index[i - 1] != usize::MAX
            });
            result.edges.retain_mut(|e| {
                (e.a, e.b) = (new_index[e.a], new_index[e.b]);
                e.a != usize::MAX && e.b != usize::MAX
            });
        }
        result.counted = self.visited.len() - self.unverified.len();
        result.collision_bound = self.visited.collision_bound();
        let spilled = self.frontier.spilled();
        (result.spilled_regions, result.spilled_bytes) = (spilled.regions, spilled.bytes);
        Ok(result)
    }
}

/// What expanding a chunk carries to the next one: the latest refutations and each block
/// position's layer maps.
struct Expander {
    /// The latest multipliers refuting each facet neuron, updated between chunks (in chunk order,
    /// so the work does not depend on the thread count).
    refuted: Refuted,
    /// Each block position's layer maps, carried from chunk to chunk: the next chunk's block starts
    /// from a region near the last one (in 784-D a whole walk varies few neurons), so it updates
    /// the maps by a low-rank correction instead of computing them from scratch. Maps of more
    /// than `CARRIED_MAPS` bytes are dropped at the block's end instead.
    block_maps: Vec<Option<LayerMaps>>,
}

impl Expander {
    fn new() -> Self {
        Expander { refuted: Refuted::default(), block_maps: (0..CHUNK / BLOCK).map(|_| None).collect() }
    }

    /// Expands the regions of `chunk` (indices into `regions`, each with the way it was entered,
    /// if known), skipping facet tests towards patterns in `visited` (and, with `known_edges`,
    /// recording every adjacency). `None` for a region the budget interrupted.
    fn expand(
        &mut self,
        context: &Context,
        visited: &Visited,
        known_edges: Option<&FxHashSet<(usize, usize)>>,
        chunk: &[Item],
    ) -> Result<Vec<Option<Expansion>>> {
        // Blocks of consecutive regions (often siblings) share layer maps: each region's maps are
        // a low-rank update of the previous one's. Blocks, not threads, fix what is updated from
        // what, so the work does not depend on the thread count.
        let prepared: Vec<Option<Prepared>> = chunk
            .par_chunks(BLOCK)
            .zip(self.block_maps.par_iter_mut())
            .map(|(block, near)| {
                let prepared = block
                    .iter()
                    .map(|(i, pattern, entry)| {
                        if context.out_of_budget() {
                            return Ok(None);
                        }
                        let known = Known { visited, edges: known_edges, index: *i };
                        prepare(context, pattern, entry.as_ref(), &known, near).map(Some)
                    })
                    .collect::<Result<Vec<_>>>();
                if near.as_ref().is_some_and(|maps| maps.bytes() > CARRIED_MAPS) {
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
fn report_progress(options: &WalkOptions, regions: usize, frontier: usize, lp_solves: u64, finished: bool) {
    if let Some(ProgressFn(call)) = &options.progress {
        call(Progress { regions, frontier, lp_solves, finished });
    }
}

/// A point strictly inside the domain and strictly inside an activation region: the domain's
/// centre if it is such a point, otherwise a random point near it (the centre may lie on region
/// boundaries, theory §6.2 "Start"). `None` if the domain is empty.
///
/// With `certified`, the point's region must also meet the domain by more than the decision
/// margin: a centre on a hyperplane shared by scaled neurons may lie, by rounding, in a sliver
/// between two nearly coincident hyperplanes, which the walk would drop, and the walk would then
/// count nothing. The check needs the region's constraints (a dense surrogate of every neuron),
/// so the single walk asks for it only when an unchecked start found nothing.
pub fn start_point(
    net: &Network,
    domain: &Domain,
    counters: &mut LpCounters,
    certified: bool,
) -> Result<Option<Vec<f64>>> {
    let centre = vec![0.0; domain.dim()];
    let (anchor, room) = if domain.contains_frame(&centre) {
        (centre.clone(), margin(domain, &[], &centre).min(1.0))
    } else {
        match meets(domain, &[], None, counters)? {
            Decision::Meets { witness, slack } => (witness, slack),
            _ => return Ok(None),
        }
    };
    if let Some(x) = start_at(net, domain, &anchor, counters, certified)? {
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
        if let Some(x) = start_at(net, domain, &y, counters, certified)? {
            return Ok(Some(x));
        }
    }
    Err(crate::Error::Solver("could not find a start point off the region boundaries near the centre".into()))
}

/// `y` (frame coordinates) in input coordinates, if it can start the walk: inside the domain,
/// strictly inside its activation region, and (`certified`) that region meets the domain by more
/// than the decision margin: around `y` itself (no solver call), or else somewhere (an LP).
fn start_at(
    net: &Network,
    domain: &Domain,
    y: &[f64],
    counters: &mut LpCounters,
    certified: bool,
) -> Result<Option<Vec<f64>>> {
    let x = domain.from_frame(y);
    let pattern = match domain.contains_frame(y).then(|| net.interior_pattern(&x)).flatten() {
        Some(p) => p,
        None => return Ok(None),
    };
    if !certified {
        return Ok(Some(x));
    }
    let sur = net.surrogate(&pattern);
    let Some(constraints) = region_constraints(net, domain, &pattern, &sur) else {
        return Ok(None);
    };
    let rows: Vec<&crate::domain::Halfspace> = constraints.iter().map(|(_, h)| h).collect();
    let certified =
        margin(domain, &rows, y) > DECIDE || matches!(meets(domain, &rows, None, counters)?, Decision::Meets { .. });
    Ok(certified.then_some(x))
}
