//! The region walk (theory §6.2): breadth-first search over the activation-pattern graph, from the
//! region of the domain's centre outward, crossing only facets that meet the domain.
//!
//! Per region, the walk (1) builds the region's constraints from its pattern, (2) certifies the
//! region with a witness point (Chebyshev LP, plus the distance QP for a ball), (3) drops
//! hyperplanes that cannot meet the domain, (4) groups coincident hyperplanes into classes
//! (duplicated, opposite and scaled neurons flip together), and (5) for each class computes the
//! neighbour's pattern *combinatorially* ([`Network::pattern_beyond`]) and, only if that pattern is
//! new, solves the facet LP that decides whether the shared facet meets the domain.
//!
//! Activation regions form a polyhedral complex (across a facet there is exactly one region), and
//! the regions meeting a convex domain are connected through facets inside it, so the walk finds
//! every region. Frontier chunks are expanded in parallel; the chunking does not depend on the
//! number of threads, so counts and LP tallies are reproducible.

use super::geometry::{facet_on_line, propagated_box, separated, witness_beside};
use super::vertices::{corners_on, facet_misses_ball, facet_point, may_bound_facet, vertices, Corners, MAX_DIM};
use crate::bound::interval::{analyse, Status};
use crate::bound::set::InputSet;
use crate::domain::{misses_box, Domain, Halfspace};
use crate::lp::{decide_by_dual, margin, meets, settle, Decision, LpCounters, RegionLp};
use crate::model::{LayerMaps, Network, NeuronKind, Pattern};
use crate::{Error, Result};
use indicatif::ProgressBar;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Regions expanded between two budget checks (and merges of the visited set).
const CHUNK: usize = 64;

/// Regions of a chunk that share layer maps, one after the other (see `run`).
const BLOCK: usize = 8;

/// Most corners the vertex enumeration of one region may reach before the walk falls back to LPs.
const MAX_CORNERS: usize = 4096;

/// Two unit normals (and offsets, frame units) closer than this are the same hyperplane.
const COINCIDENT: f64 = 1e-9;

/// Budgets and reporting for a walk.
#[derive(Clone, Debug, Default)]
pub struct WalkOptions {
    /// Stop once at least this many regions are found.
    pub max_regions: Option<usize>,
    /// Stop after this much wall time.
    pub time_limit: Option<Duration>,
    /// Progress display, updated after every chunk.
    pub progress: Option<ProgressBar>,
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
}

/// Why a walk stopped before finishing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// Every region found, in discovery order. When `complete`, exactly the regions meeting the domain.
    pub regions: Vec<Region>,
    /// Facet adjacencies inside the domain (empty unless [`WalkOptions::edges`]).
    pub edges: Vec<Edge>,
    /// False when a budget stopped the walk: `regions.len()` is then a certified lower bound.
    pub complete: bool,
    /// The budget that stopped the walk, if any.
    pub stopped_by: Option<StopReason>,
    /// Solver work.
    pub counters: LpCounters,
    /// Candidate hyperplanes dropped without a facet LP: they miss the domain, or the bounding box
    /// of region ∩ domain.
    pub screened: u64,
    /// Facet tests skipped because the neighbour's pattern was already known.
    pub known_neighbours: u64,
    /// Regions reached through a facet whose own witness LP failed (numerically thin slivers):
    /// not counted. Non-zero values mean the count is uncertain by at most this much.
    pub unverified: u64,
    /// The point the walk started from (input coordinates), if the domain is not empty.
    pub start: Option<Vec<f64>>,
    /// Wall time.
    pub seconds: f64,
}

impl WalkResult {
    /// Number of regions counted.
    pub fn count(&self) -> usize {
        self.regions.len()
    }
}

/// What expanding one region produced.
struct Expansion {
    witness: Option<(Vec<f64>, f64)>,
    /// Neighbours across facets that meet the domain, with the neurons that flip and the way in.
    neighbours: Vec<(Pattern, Vec<usize>, Entry)>,
    counters: LpCounters,
    screened: u64,
    known: u64,
}

/// How the walk entered a region: a point on the facet it crossed (frame coordinates) and the
/// direction into the region, from which [`witness_beside`] finds the region's witness without an LP.
struct Entry {
    point: Vec<f64>,
    direction: Vec<f64>,
}

/// What every expansion shares: the problem and the neurons proved stable over the domain.
struct Context<'a> {
    net: &'a Network,
    domain: &'a Domain,
    /// `Some(active)` for a neuron whose sign is the same on the whole domain (theory §4.8
    /// intervals, strictly away from zero): its hyperplane bounds no facet inside the domain, and
    /// a pattern that disagrees with it has no point in the domain.
    stable: Vec<Option<bool>>,
    /// `stable` as bitsets (which neurons are stable, and their signs), for [`Context::contradicts`].
    stable_mask: Pattern,
    stable_signs: Pattern,
    /// Whether questions go to the dual least-norm solver before HiGHS.
    dual: bool,
}

impl<'a> Context<'a> {
    fn new(net: &'a Network, domain: &'a Domain, dual: bool) -> Self {
        let bounds = analyse(net, &InputSet::new(domain)).combined;
        let stable = bounds
            .iter()
            .flat_map(|b| {
                (0..b.lower.len()).map(move |j| match b.status(j) {
                    Status::Active if b.lower[j] > 0.0 => Some(true),
                    Status::Inactive if b.upper[j] < 0.0 => Some(false),
                    _ => None,
                })
            })
            .collect::<Vec<Option<bool>>>();
        let (mut stable_mask, mut stable_signs) = (Pattern::zeros(stable.len()), Pattern::zeros(stable.len()));
        for (k, s) in stable.iter().enumerate() {
            if let Some(active) = s {
                stable_mask.set(k, true);
                stable_signs.set(k, *active);
            }
        }
        Context { net, domain, stable, stable_mask, stable_signs, dual }
    }

    /// The dual solver's certified answer, if enabled and if it has one ([`decide_by_dual`]).
    fn dual(
        &self,
        inequalities: &[&Halfspace],
        equality: Option<&Halfspace>,
        counters: &mut LpCounters,
    ) -> Option<Decision> {
        if !self.dual {
            return None;
        }
        counters.dual_solves += 1;
        let decision = decide_by_dual(self.domain, inequalities, equality);
        counters.dual_fallbacks += u64::from(decision.is_none());
        decision
    }

    /// Whether `pattern` contradicts a neuron's proved sign (then it has no point in the domain).
    fn contradicts(&self, pattern: &Pattern) -> bool {
        pattern.disagrees_on(&self.stable_signs, &self.stable_mask)
    }
}

/// Seconds between two checkpoints of a running walk.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(60);

/// A saved walk: everything needed to continue it ([`resume`]).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    /// Format version.
    version: u32,
    /// Fingerprint of the network, the domain and the edge setting the walk was run with.
    fingerprint: u64,
    /// Regions found so far (uncertified ones included, flagged in `verified`).
    result: WalkResult,
    verified: Vec<bool>,
    /// Regions still to expand.
    queue: Vec<usize>,
}

impl Checkpoint {
    /// Reads a checkpoint file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::model::io::read_text_file(path)?;
        serde_json::from_str(&text).map_err(|e| Error::ModelFile {
            path: path.to_owned(),
            message: format!("not a regionwalk checkpoint: {e}"),
        })
    }

    /// Regions found when it was written.
    pub fn regions(&self) -> usize {
        self.result.regions.len()
    }
}

/// Fingerprint of what a walk computes, so that a checkpoint is only resumed on the same problem.
fn fingerprint(net: &Network, domain: &Domain, edges: bool) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    for layer in net.layers() {
        layer.weight.shape().hash(&mut h);
        layer.weight.iter().chain(layer.bias.iter()).for_each(|v| v.to_bits().hash(&mut h));
    }
    format!("{:?}{:?}{edges}", domain.shape(), domain.clip()).hash(&mut h);
    h.finish()
}

/// Estimated bytes the walk holds per region found: the pattern (twice: region list and visited
/// map), the witness, bookkeeping, and hash-map overhead. Edges add about 64 bytes each.
pub fn memory_per_region(net: &Network) -> u64 {
    let pattern = 8 * net.neurons().div_ceil(64) as u64 + 32;
    let witness = 8 * net.input_dim() as u64 + 24;
    2 * pattern + witness + 96
}

/// Counts the activation regions of `net` that meet `domain`.
pub fn walk(net: &Network, domain: &Domain, options: &WalkOptions) -> Result<WalkResult> {
    let started = Instant::now();
    let mut result = WalkResult {
        regions: Vec::new(),
        edges: Vec::new(),
        complete: true,
        stopped_by: None,
        counters: LpCounters::default(),
        screened: 0,
        known_neighbours: 0,
        unverified: 0,
        start: None,
        seconds: 0.0,
    };
    let Some(start) = start_point(net, domain, &mut result.counters)? else {
        result.seconds = started.elapsed().as_secs_f64();
        return Ok(result);
    };
    let first = net.interior_pattern(&start).expect("start point is interior");
    result.start = Some(start);
    result.regions.push(Region { pattern: first, witness: None, inradius: None });
    let checkpoint = Checkpoint {
        version: 1,
        fingerprint: fingerprint(net, domain, options.edges),
        result,
        verified: vec![true],
        queue: vec![0],
    };
    run(net, domain, options, checkpoint, started)
}

/// Continues a walk saved in a checkpoint; the result is the one the uninterrupted walk would give.
pub fn resume(net: &Network, domain: &Domain, options: &WalkOptions, checkpoint: Checkpoint) -> Result<WalkResult> {
    if checkpoint.fingerprint != fingerprint(net, domain, options.edges) {
        return Err(Error::Domain("the checkpoint was written for another network, domain or --linear setting".into()));
    }
    let started = Instant::now() - Duration::from_secs_f64(checkpoint.result.seconds);
    run(net, domain, options, checkpoint, started)
}

fn run(
    net: &Network,
    domain: &Domain,
    options: &WalkOptions,
    state: Checkpoint,
    started: Instant,
) -> Result<WalkResult> {
    let deadline = options.time_limit.map(|t| Instant::now() + t);
    let fingerprint = state.fingerprint;
    let (mut result, mut verified) = (state.result, state.verified);
    let mut queue: VecDeque<usize> = state.queue.into();
    let context = Context::new(net, domain, !options.highs_only);
    // Ways into queued regions (dropped from checkpoints: a resumed region solves its witness LP).
    let mut entries: FxHashMap<usize, Entry> = FxHashMap::default();
    result.stopped_by = None;
    result.complete = true;
    // Pattern → index into `result.regions`.
    let mut visited: FxHashMap<Pattern, usize> =
        result.regions.iter().enumerate().map(|(i, r)| (r.pattern.clone(), i)).collect();
    let mut known_edges: FxHashSet<(usize, usize)> = result.edges.iter().map(|e| (e.a, e.b)).collect();
    let per_region = memory_per_region(net) + if options.edges { 64 } else { 0 };
    let interrupted = || options.interrupt.as_ref().is_some_and(|f| f.load(Ordering::Relaxed));
    let mut last_save = Instant::now();
    let save = |result: &WalkResult, verified: &[bool], queue: &VecDeque<usize>| -> Result<()> {
        let Some(path) = &options.checkpoint else { return Ok(()) };
        let state = Checkpoint {
            version: 1,
            fingerprint,
            result: result.clone(),
            verified: verified.to_vec(),
            queue: queue.iter().copied().collect(),
        };
        let text =
            serde_json::to_string(&state).map_err(|e| Error::Solver(format!("cannot encode the checkpoint: {e}")))?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| Error::ModelFile { path: path.clone(), message: format!("cannot write the checkpoint: {e}") })
    };

    while !queue.is_empty() {
        let stop = if options.max_regions.is_some_and(|max| result.regions.len() >= max) {
            Some(StopReason::MaxRegions)
        } else if options
            .max_memory
            .is_some_and(|max| (result.regions.len() as u64 + CHUNK as u64 * 32) * per_region > max)
        {
            Some(StopReason::MaxMemory)
        } else if deadline.is_some_and(|d| Instant::now() >= d) {
            Some(StopReason::TimeLimit)
        } else if interrupted() {
            Some(StopReason::Interrupted)
        } else {
            None
        };
        if stop.is_some() {
            result.stopped_by = stop;
            break;
        }
        let chunk: Vec<(usize, Option<Entry>)> = (0..CHUNK.min(queue.len()))
            .map(|_| {
                let i = queue.pop_front().unwrap();
                (i, entries.remove(&i))
            })
            .collect();
        // Blocks of consecutive regions (often siblings) share layer maps: each region's maps are
        // a low-rank update of the previous one's. Blocks, not threads, fix what is updated from
        // what, so the work does not depend on the thread count.
        let expansions: Vec<Option<Expansion>> = chunk
            .par_chunks(BLOCK)
            .map(|block| {
                let mut near = None;
                block
                    .iter()
                    .map(|(i, entry)| {
                        if deadline.is_some_and(|d| Instant::now() >= d) || interrupted() {
                            return Ok(None);
                        }
                        let known =
                            Known { visited: &visited, edges: options.edges.then_some(&known_edges), index: *i };
                        expand(&context, &result.regions[*i].pattern, entry.as_ref(), &known, &mut near).map(Some)
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .flatten()
            .collect();
        let mut put_back = Vec::new();
        for ((i, entry), expansion) in chunk.into_iter().zip(expansions) {
            let Some(e) = expansion else {
                // Interrupted by a budget: put it back so the result says incomplete.
                put_back.push(i);
                if let Some(entry) = entry {
                    entries.insert(i, entry);
                }
                continue;
            };
            result.counters.add(&e.counters);
            result.screened += e.screened;
            result.known_neighbours += e.known;
            if e.witness.is_none() {
                verified[i] = false;
                result.unverified += 1;
            }
            if let Some((w, t)) = e.witness {
                result.regions[i].witness = Some(domain.from_frame(&w));
                result.regions[i].inradius = Some(t * domain.scale());
            }
            for (p, flipped, entry) in e.neighbours {
                let j = *visited.entry(p.clone()).or_insert_with(|| {
                    entries.insert(result.regions.len(), entry);
                    queue.push_back(result.regions.len());
                    result.regions.push(Region { pattern: p, witness: None, inradius: None });
                    verified.push(true);
                    result.regions.len() - 1
                });
                if options.edges && known_edges.insert((i.min(j), i.max(j))) {
                    result.edges.push(Edge { a: i.min(j), b: i.max(j), flipped });
                }
            }
        }
        for i in put_back.into_iter().rev() {
            queue.push_front(i);
        }
        if let Some(bar) = &options.progress {
            bar.set_position(result.regions.len() as u64);
            bar.set_message(format!("frontier {}, {} LPs", queue.len(), result.counters.lp_solves));
        }
        if last_save.elapsed() >= CHECKPOINT_EVERY {
            result.seconds = started.elapsed().as_secs_f64();
            save(&result, &verified, &queue)?;
            last_save = Instant::now();
        }
    }
    result.seconds = started.elapsed().as_secs_f64();
    if result.stopped_by.is_some() && !queue.is_empty() {
        result.complete = false;
        save(&result, &verified, &queue)?;
    } else {
        result.stopped_by = None;
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

/// A point strictly inside the domain and strictly inside an activation region: the domain's
/// centre if it is such a point, otherwise a random point near it (the centre may lie on region
/// boundaries, theory §6.2 "Start"). `None` if the domain is empty.
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
    let x = domain.from_frame(&anchor);
    if net.interior_pattern(&x).is_some() {
        return Ok(Some(x));
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x5eed);
    for _ in 0..10_000 {
        let step = 0.5 * room * rng.gen::<f64>();
        let dir: Vec<f64> = (0..domain.dim()).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let norm = dir.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 {
            continue;
        }
        let y: Vec<f64> = anchor.iter().zip(&dir).map(|(a, d)| a + step * d / norm).collect();
        let x = domain.from_frame(&y);
        if domain.contains_frame(&y) && net.interior_pattern(&x).is_some() {
            return Ok(Some(x));
        }
    }
    Err(crate::Error::Solver("could not find a start point off the region boundaries near the centre".into()))
}

/// The region's constraints in frame coordinates: `(neuron, halfspace)` for every varying neuron,
/// oriented so that the region is the positive side. `None` if the pattern contradicts a constant
/// neuron (an empty region).
pub fn region_constraints(
    domain: &Domain,
    pattern: &Pattern,
    kind: &[NeuronKind],
    a: &ndarray::Array2<f64>,
    beta: &ndarray::Array1<f64>,
) -> Option<Vec<(usize, Halfspace)>> {
    constraints_where(domain, pattern, kind, a, beta, |_| true)
}

/// [`region_constraints`] for the varying neurons that `wanted` selects (the walk leaves out
/// neurons proved stable over the domain: their hyperplanes bound nothing inside it).
fn constraints_where(
    domain: &Domain,
    pattern: &Pattern,
    kind: &[NeuronKind],
    a: &ndarray::Array2<f64>,
    beta: &ndarray::Array1<f64>,
    wanted: impl Fn(usize) -> bool,
) -> Option<Vec<(usize, Halfspace)>> {
    let mut out = Vec::new();
    for (k, kind) in kind.iter().enumerate() {
        let sign = if pattern.get(k) { 1.0 } else { -1.0 };
        match kind {
            NeuronKind::Varying if !wanted(k) => {}
            NeuronKind::Varying => {
                let h = domain.halfspace(a.row(k).iter().map(|v| sign * v), sign * beta[k])?;
                out.push((k, h));
            }
            NeuronKind::Constant if (beta[k] > 0.0) != pattern.get(k) => return None,
            NeuronKind::Zero if pattern.get(k) => return None,
            _ => {}
        }
    }
    Some(out)
}

/// What the walk knew when a chunk started: found regions and, when edges are recorded, the
/// adjacencies already confirmed.
struct Known<'a> {
    visited: &'a FxHashMap<Pattern, usize>,
    edges: Option<&'a FxHashSet<(usize, usize)>>,
    index: usize,
}

impl Known<'_> {
    /// Whether the facet test towards `far` can be skipped.
    fn settled(&self, far: &Pattern) -> bool {
        match (self.visited.get(far), self.edges) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(&j), Some(edges)) => edges.contains(&(self.index.min(j), self.index.max(j))),
        }
    }
}

fn expand(
    ctx: &Context,
    pattern: &Pattern,
    entry: Option<&Entry>,
    known: &Known,
    near: &mut Option<LayerMaps>,
) -> Result<Expansion> {
    let (net, domain) = (ctx.net, ctx.domain);
    let mut e =
        Expansion { witness: None, neighbours: Vec::new(), counters: LpCounters::default(), screened: 0, known: 0 };
    if ctx.contradicts(pattern) {
        return Ok(e);
    }
    let sur = net.surrogate_near(pattern, near);
    // Hyperplanes of neurons proved stable are never built (a stable neuron cannot share a
    // hyperplane with one whose facet meets the domain, so coincidence classes lose nothing).
    let stable = (0..sur.kind.len()).filter(|&k| ctx.stable[k].is_some() && sur.kind[k] == NeuronKind::Varying).count();
    let unstable = |k: usize| ctx.stable[k].is_none();
    let Some(all) = constraints_where(domain, pattern, &sur.kind, &sur.a, &sur.beta, unstable) else { return Ok(e) };
    let (kept, dropped): (Vec<_>, Vec<_>) = all.iter().partition(|(_, h)| !domain.misses(h));
    e.screened = (dropped.len() + stable) as u64;
    let kept_refs: Vec<&Halfspace> = kept.iter().map(|(_, h)| h).collect();
    // The region's LP, loaded on first use; every later LP of the region is a warm re-solve.
    let mut lp: Option<RegionLp> = None;
    e.witness = match entry.and_then(|en| witness_beside(domain, &kept_refs, &en.point, &en.direction)) {
        Some(found) => Some(found),
        None => {
            let decision = match ctx.dual(&kept_refs, None, &mut e.counters) {
                Some(decision) => decision,
                None => {
                    let chebyshev = loaded(&mut lp, domain, &kept_refs)?.chebyshev(&[], None, &mut e.counters)?;
                    settle(domain, &kept_refs, None, chebyshev, &mut e.counters)?
                }
            };
            match decision {
                Decision::Meets { witness, slack } => Some((witness, slack)),
                _ => return Ok(e),
            }
        }
    };
    // Facet candidates, as indices into `kept`. On a line (1-D and 2-D inputs) a facet test is
    // interval arithmetic and needs no screen. Otherwise drop the hyperplanes that miss the
    // propagated box of region ∩ domain, then, from the corners of region ∩ box (3–8 inputs), those
    // whose corners span less than a facet. Constraints that miss the box hold strictly on all of
    // it, so the corners need only the others.
    let mut candidates: Vec<usize> = (0..kept.len()).collect();
    let mut corners = None;
    let mut bounds = None;
    if domain.dim() > 2 {
        let (lo, hi) = propagated_box(domain, &kept_refs, BOX_SLACK);
        candidates.retain(|&c| !misses_box(&kept[c].1, &lo, &hi));
        if !candidates.is_empty() && domain.dim() <= MAX_DIM {
            let crossing: Vec<&Halfspace> = candidates.iter().map(|&c| &kept[c].1).collect();
            let inside = &e.witness.as_ref().expect("expanded regions have a witness").0;
            corners = vertices(&lo, &hi, &crossing, inside, MAX_CORNERS);
        }
        if let Some(corners) = &corners {
            candidates.retain(|&c| may_bound_facet(&corners_on(corners, &kept[c].1), domain.dim()));
        }
        bounds = Some((lo, hi));
    }
    e.screened += (kept.len() - candidates.len()) as u64;
    let zero: Vec<usize> = (0..sur.kind.len()).filter(|&k| sur.kind[k] == NeuronKind::Zero).collect();
    let mut in_class = vec![false; kept.len()];
    let mut seen: FxHashSet<Pattern> = FxHashSet::default();
    // Facet tests still to do: (representative constraint, on-facet neurons, neighbour pattern).
    let mut pending = Vec::new();
    for c in candidates {
        if in_class[c] {
            continue;
        }
        let rep = &kept[c].1;
        // The coincidence class of this hyperplane, among all varying neurons.
        let class: Vec<usize> = all.iter().filter(|(_, h)| coincident(h, rep)).map(|(k, _)| *k).collect();
        for (m, (k, _)) in kept.iter().enumerate() {
            in_class[m] |= class.contains(k);
        }
        let far = beyond(net, pattern, &class, &zero, &rep.normal);
        if far == *pattern || known.settled(&far) || !seen.insert(far.clone()) {
            e.known += 1;
            continue;
        }
        if ctx.contradicts(&far) {
            e.screened += 1;
            continue;
        }
        let on_facet = on_facet(net.neurons(), &zero, &class);
        pending.push((c, on_facet, far));
    }
    // Without corners: drop the hyperplanes that one other constraint keeps away from the region,
    // and with many tests left, bound region ∩ domain by LPs (2·n0 of them).
    if let (Some((lo, hi)), None) = (&bounds, &corners) {
        let before = pending.len();
        pending.retain(|(c, on_facet, _)| {
            let h = &kept[*c].1;
            !kept.iter().any(|(k, g)| !on_facet[*k] && separated(domain.is_round(), lo, hi, g, h))
        });
        e.screened += (before - pending.len()) as u64;
        if pending.len() > 2 * domain.dim() && domain.is_bounded() {
            if let Some((lo, hi)) = bounding_box(domain.dim(), loaded(&mut lp, domain, &kept_refs)?, &mut e.counters)? {
                let before = pending.len();
                pending.retain(|(c, _, _)| !misses_box(&kept[*c].1, &lo, &hi));
                e.screened += (before - pending.len()) as u64;
            }
        }
    }
    for (c, on_facet, far) in pending {
        let facet = Facet { index: c, on_facet: &on_facet };
        if let Decision::Meets { witness, .. } =
            decide_facet(ctx, &kept, &kept_refs, facet, corners.as_ref(), &mut lp, &mut e.counters)?
        {
            let flipped = (0..far.len()).filter(|&k| far.get(k) != pattern.get(k)).collect();
            let direction = kept[c].1.normal.iter().map(|v| -v).collect();
            e.neighbours.push((far, flipped, Entry { point: witness, direction }));
        }
    }
    Ok(e)
}

/// A facet candidate: its representative's index among the region's kept constraints and the
/// neurons on its hyperplane (its coincidence class, plus neurons identically zero on the region).
#[derive(Clone, Copy)]
struct Facet<'a> {
    index: usize,
    on_facet: &'a [bool],
}

/// Does the candidate's hyperplane bound a facet of region ∩ domain? The cheapest exact test that
/// applies (docs/exact.md): interval arithmetic on a line (1-/2-D), a corner-derived point or a
/// separation of the corners from the ball (3–8-D), else the facet LP in the region's warm model
/// (loaded into `lp` on first use) with the distance QP for a ball.
fn decide_facet(
    ctx: &Context,
    kept: &[&(usize, Halfspace)],
    kept_refs: &[&Halfspace],
    facet: Facet,
    corners: Option<&Corners>,
    lp: &mut Option<RegionLp>,
    counters: &mut LpCounters,
) -> Result<Decision> {
    let domain = ctx.domain;
    let rep = &kept[facet.index].1;
    let others: Vec<&Halfspace> = kept.iter().filter(|(k, _)| !facet.on_facet[*k]).map(|(_, h)| h).collect();
    if domain.dim() <= 2 {
        if let Some(decision) = facet_on_line(domain, &others, rep) {
            counters.touching += u64::from(decision == Decision::Touching);
            return Ok(decision);
        }
    }
    if let Some(corners) = corners {
        let on = corners_on(corners, rep);
        if let Some((witness, slack)) = facet_point(&on, rep, domain, &others) {
            return Ok(Decision::Meets { witness, slack });
        }
        if domain.is_round() && facet_misses_ball(&on) {
            return Ok(Decision::Disjoint);
        }
    }
    if let Some(decision) = ctx.dual(&others, Some(rep), counters) {
        return Ok(decision);
    }
    let relaxed: Vec<usize> = (0..kept.len()).filter(|&m| m != facet.index && facet.on_facet[kept[m].0]).collect();
    let chebyshev = loaded(lp, domain, kept_refs)?.chebyshev(&relaxed, Some(facet.index), counters)?;
    settle(domain, &others, Some(rep), chebyshev, counters)
}

/// The region's warm HiGHS model, loaded on first use.
fn loaded<'a>(lp: &'a mut Option<RegionLp>, domain: &Domain, constraints: &[&Halfspace]) -> Result<&'a mut RegionLp> {
    if lp.is_none() {
        *lp = Some(RegionLp::load(domain, constraints)?);
    }
    Ok(lp.as_mut().expect("just loaded"))
}

/// The pattern beyond the facet on hyperplane `normal` (pointing into the region), whose
/// coincidence class is `class`, with `zero` the neurons identically zero on the region. When the
/// class lies in one layer and no neuron is identically zero, the neighbour differs exactly in
/// the class's neurons (each changes sign across its own hyperplane; layers before are unchanged,
/// and every other neuron keeps its sign by continuity); otherwise [`Network::pattern_beyond`]
/// follows the far side's affine maps.
fn beyond(net: &Network, pattern: &Pattern, class: &[usize], zero: &[usize], normal: &[f64]) -> Pattern {
    let layer = |k: usize| net.neuron_position(k).0;
    if zero.is_empty() && class.iter().all(|&k| layer(k) == layer(class[0])) {
        let mut far = pattern.clone();
        for &k in class {
            far.set(k, !pattern.get(k));
        }
        return far;
    }
    let direction: Vec<f64> = normal.iter().map(|v| -v).collect();
    net.pattern_beyond(pattern, &on_facet(net.neurons(), zero, class), &direction)
}

/// The neurons on a facet, as a mask over all neurons: its coincidence class and the neurons
/// identically zero on the region (they vanish on every facet).
fn on_facet(neurons: usize, zero: &[usize], class: &[usize]) -> Vec<bool> {
    let mut mask = vec![false; neurons];
    zero.iter().chain(class).for_each(|&k| mask[k] = true);
    mask
}

/// Tolerance (frame units) added around an LP bounding box, for the solver's feasibility tolerance.
const BOX_SLACK: f64 = 1e-7;

/// The bounding box of the closure of region ∩ domain box (frame coordinates), widened by
/// [`BOX_SLACK`]; `None` if an LP finds the set empty (the caller then keeps every test).
fn bounding_box(dim: usize, lp: &mut RegionLp, counters: &mut LpCounters) -> Result<Option<(Vec<f64>, Vec<f64>)>> {
    let (mut lo, mut hi) = (vec![0.0; dim], vec![0.0; dim]);
    for i in 0..dim {
        let mut e = vec![0.0; dim];
        e[i] = 1.0;
        let Some(min) = lp.minimise(&e, counters)? else { return Ok(None) };
        e[i] = -1.0;
        let Some(neg_max) = lp.minimise(&e, counters)? else { return Ok(None) };
        lo[i] = min - BOX_SLACK;
        hi[i] = -neg_max + BOX_SLACK;
    }
    Ok(Some((lo, hi)))
}

/// Same oriented hyperplane (same unit normal and offset), up to [`COINCIDENT`].
fn coincident(a: &Halfspace, b: &Halfspace) -> bool {
    (a.offset - b.offset).abs() <= COINCIDENT * (1.0 + a.offset.abs())
        && a.normal.iter().zip(&b.normal).all(|(x, y)| (x - y).abs() <= COINCIDENT)
}
