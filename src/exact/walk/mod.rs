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
pub mod geometry;
pub(crate) mod reduce;
pub mod vertices;

use super::result::{
    memory_per_region, Budget, Completeness, Edge, Engine, Progress, ProgressFn, Region, WalkOptions, WalkResult,
};
use crate::domain::Domain;
use crate::lp::{margin, meets, Decision, LpCounters};
use crate::model::{LayerMaps, Network, Pattern};
use crate::tolerance::{DECIDE, MEMORY_HEADROOM_REGIONS, START_POINT_TRIES};
use crate::Result;
pub use checkpoint::Checkpoint;
use checkpoint::{fingerprint, Saver, CHECKPOINT_VERSION};
pub use expand::region_constraints;
use expand::{prepare, Context, Entry, Expansion, Known, Prepared, Refuted};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use reduce::in_row_space;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Regions expanded between two budget checks (and merges of the visited set).
const CHUNK: usize = 64;

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
    in_row_space(net, domain, |net, domain| walk_as_given(net, domain, options), |r| Some(r))
}

fn walk_as_given(net: &Network, domain: &Domain, options: &WalkOptions) -> Result<WalkResult> {
    let started = Instant::now();
    // The first start is cheap (a forward pass). Only if its region is a sliver that the walk
    // drops, so that it found nothing, is a start certified by its margin sought (on a CIFAR CNN,
    // certifying costs the 450 MB of a dense surrogate).
    let first = walk_from(net, domain, options, started, false)?;
    if first.regions.is_empty() && first.unverified > 0 && first.stopped_by().is_none() {
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
    let mut result = WalkResult::empty(Engine::Walk);
    let Some(start) = start_point(net, domain, &mut result.counters, certified)? else {
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
    saved: Checkpoint,
    started: Instant,
) -> Result<WalkResult> {
    let deadline = options.time_limit.map(|t| Instant::now() + t);
    let context = Context::new(net, domain, !options.highs_only, deadline, options.interrupt.clone());
    let fingerprint = saved.fingerprint;
    let mut state = WalkState::new(net, saved);
    let mut stopped = None;
    let mut known_edges: FxHashSet<(usize, usize)> = state.result.edges.iter().map(|e| (e.a, e.b)).collect();
    let per_region = memory_per_region(net) + if options.edges { 64 } else { 0 };
    let budget = Budget::new(options, deadline, per_region, MEMORY_HEADROOM_REGIONS);
    let mut saver = Saver::new(options.checkpoint.clone(), fingerprint, None);

    while !state.frontier.is_empty() {
        if let Some(stop) = budget.spent(state.result.regions.len()) {
            stopped = Some(stop);
            break;
        }
        let recorded = options.edges.then_some(&known_edges);
        for (i, p, flipped, entry) in state.expand_chunk(&context, domain, recorded)? {
            let j = match state.visited.get(&p) {
                Some(&j) => j,
                None => state.add(p, Some(entry)),
            };
            if options.edges && known_edges.insert((i.min(j), i.max(j))) {
                state.result.edges.push(Edge { a: i.min(j), b: i.max(j), flipped });
            }
        }
        report_progress(options, &state.result, state.frontier.len(), false);
        if saver.due() {
            state.result.seconds = started.elapsed().as_secs_f64();
            saver.save(&state.result, &state.verified, state.frontier.indices())?;
        }
    }
    let WalkState { mut result, verified, mut frontier, .. } = state;
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

/// A neighbour found by expanding a region: (that region's index, the neighbour's pattern, the
/// neurons flipped across the facet, the way in).
pub(crate) type Neighbour = (usize, Pattern, Vec<usize>, Entry);

/// What a walk holds while it runs: the regions found (with whether each was certified), the
/// visited set, the frontier and what expanding carries from chunk to chunk. The single walk and
/// each worker of the dataflow walk (`crate::cluster`) hold one; [`WalkState::expand_chunk`] is
/// the one step both repeat.
pub(crate) struct WalkState {
    /// Regions found so far (in discovery order), the counters and the result's other fields.
    pub(crate) result: WalkResult,
    /// Per region: whether its witness held (false: counted out at the end).
    pub(crate) verified: Vec<bool>,
    /// Pattern → index into `result.regions`.
    pub(crate) visited: FxHashMap<Pattern, usize>,
    /// Regions found but not yet expanded.
    pub(crate) frontier: Frontier,
    expander: Expander,
}

impl WalkState {
    /// The state saved in `saved` (a fresh walk's holds its start region).
    pub(crate) fn new(net: &Network, saved: Checkpoint) -> Self {
        let mut result = saved.result;
        result.completeness = Completeness::Complete;
        let visited = result.regions.iter().enumerate().map(|(i, r)| (r.pattern.clone(), i)).collect();
        WalkState {
            result,
            verified: saved.verified,
            visited,
            frontier: Frontier::new(saved.queue),
            expander: Expander::new(net),
        }
    }

    /// Adds a region entered by `entry` (reached through a certified facet) to the state and the
    /// frontier; returns its index.
    pub(crate) fn add(&mut self, pattern: Pattern, entry: Option<Entry>) -> usize {
        let i = self.result.regions.len();
        self.visited.insert(pattern.clone(), i);
        self.result.regions.push(Region { pattern, witness: None, inradius: None });
        self.verified.push(true);
        self.frontier.push(i, entry);
        i
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
        let chunk = self.frontier.take_chunk();
        let expansions = self.expander.expand(context, &self.result.regions, &self.visited, known_edges, &chunk)?;
        let mut put_back = Vec::new();
        let mut found = Vec::new();
        for ((i, entry), expansion) in chunk.into_iter().zip(expansions) {
            let Some(e) = expansion else {
                // Interrupted by a budget: put it back so the result says incomplete.
                put_back.push((i, entry));
                continue;
            };
            record(&mut self.result, &mut self.verified, domain, i, &e);
            found.extend(e.neighbours.into_iter().map(|(p, flipped, entry)| (i, p, flipped, entry)));
        }
        self.frontier.put_back(put_back);
        Ok(found)
    }
}

/// Regions found but not yet expanded, in order, with the way into each when known (ways are
/// not kept in checkpoints: a resumed region solves its witness LP).
pub(crate) struct Frontier {
    queue: VecDeque<usize>,
    entries: FxHashMap<usize, Entry>,
}

impl Frontier {
    /// The regions `queue` (indices into the walk's regions), ways unknown.
    pub(crate) fn new(queue: Vec<usize>) -> Self {
        Frontier { queue: queue.into(), entries: FxHashMap::default() }
    }

    /// Queues region `i`, entered by `entry`.
    pub(crate) fn push(&mut self, i: usize, entry: Option<Entry>) {
        self.queue.push_back(i);
        if let Some(entry) = entry {
            self.entries.insert(i, entry);
        }
    }

    /// The next chunk to expand (at most [`CHUNK`] regions), taken off the front.
    pub(crate) fn take_chunk(&mut self) -> Vec<(usize, Option<Entry>)> {
        let n = CHUNK.min(self.queue.len());
        self.queue.drain(..n).map(|i| (i, self.entries.remove(&i))).collect()
    }

    /// Puts regions a budget interrupted back at the front, in their order.
    pub(crate) fn put_back(&mut self, regions: Vec<(usize, Option<Entry>)>) {
        for (i, entry) in regions.into_iter().rev() {
            self.queue.push_front(i);
            if let Some(entry) = entry {
                self.entries.insert(i, entry);
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The queued regions in order (what a checkpoint keeps).
    pub(crate) fn indices(&mut self) -> &[usize] {
        self.queue.make_contiguous()
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
    /// the maps by a low-rank correction instead of computing them from scratch.
    block_maps: Vec<Option<LayerMaps>>,
    carry: bool,
}

impl Expander {
    fn new(net: &Network) -> Self {
        Expander {
            refuted: Refuted::default(),
            block_maps: (0..CHUNK / BLOCK).map(|_| None).collect(),
            carry: net.hidden_widths().iter().sum::<usize>() * net.input_dim() * 8 <= CARRIED_MAPS,
        }
    }

    /// Expands the regions of `chunk` (indices into `regions`, each with the way it was entered,
    /// if known), skipping facet tests towards patterns in `visited` (and, with `known_edges`,
    /// recording every adjacency). `None` for a region the budget interrupted.
    fn expand(
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
fn record(result: &mut WalkResult, verified: &mut [bool], domain: &Domain, i: usize, e: &Expansion) {
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
    let Some(constraints) = region_constraints(domain, &pattern, &sur.kind, &sur.a, &sur.beta) else {
        return Ok(None);
    };
    let rows: Vec<&crate::domain::Halfspace> = constraints.iter().map(|(_, h)| h).collect();
    let certified =
        margin(domain, &rows, y) > DECIDE || matches!(meets(domain, &rows, None, counters)?, Decision::Meets { .. });
    Ok(certified.then_some(x))
}
