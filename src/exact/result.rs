//! What every exact engine shares: its options and budgets, the one budget check, and its result
//! (the regions found, whether the count is exact, the work it took).

pub use super::walk::visited::Identity;
use crate::lp::LpCounters;
use crate::model::{Network, Pattern};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    /// Stop before the walk's estimated memory ([`memory_per_region`] × regions, plus the
    /// frontier's in-memory share) exceeds this many bytes. The frontier spills to disk past a
    /// quarter of it (or 16 MiB), so what stops the walk is the visited set (and the region list).
    pub max_memory: Option<u64>,
    /// Set from outside (e.g. on SIGINT) to stop the walk cleanly with a partial result.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Answer every facet and witness question with HiGHS, skipping the dual least-norm solver:
    /// the reference path for tests and benchmarks (counts are the same either way).
    pub highs_only: bool,
    /// Save the walk's state here when it stops early, and every minute while it runs, so that
    /// [`super::resume`] can finish it.
    pub checkpoint: Option<PathBuf>,
    /// Which exact method counts (the count is the same; the box partition is faster where it
    /// applies).
    pub engine: Engine,
    /// Keep only the count, not the region list: the walk then holds each region's identity
    /// (pattern or fingerprint) and nothing else once it is expanded, and [`WalkResult::regions`]
    /// stays empty. Regions can still be streamed to [`WalkOptions::sink`]. Ignored with `edges`
    /// unless they are streamed to [`WalkOptions::edge_sink`] (a region graph held in memory needs
    /// the list).
    pub count_only: bool,
    /// How the visited set tells regions apart: exact patterns, or 128-bit fingerprints (16
    /// bytes per region, with the collision bound in the result).
    pub identity: Identity,
    /// Bytes the walk's frontier may hold in memory before its newest part is written to disk
    /// (default: [`crate::tolerance::FRONTIER_MEMORY`], or a quarter of `max_memory` when that is
    /// less). Spilling changes neither the count nor the work, only where the queue is kept.
    pub frontier_memory: Option<u64>,
    /// Called with each region and its number (the order in which the count found it), once its
    /// witness is certified (and, when a budget stops the walk, with those still queued, without
    /// witness): `--save-regions` streams them to disk this way. A region whose witness failed
    /// never comes, so numbers can be missing.
    pub sink: Option<RegionSink>,
    /// With `edges`, called with each facet adjacency once (between region numbers as the sink
    /// gets them; one may be the number of a region whose witness failed), instead of keeping it
    /// in [`WalkResult::edges`]: `graph --format jsonl` streams the region graph this way. The walk
    /// then holds only the adjacencies of regions not yet expanded. Not with a checkpoint.
    pub edge_sink: Option<EdgeSink>,
}

/// Where the regions of a count go as they are found ([`WalkOptions::sink`]); an error stops the
/// count with that error.
#[derive(Clone)]
pub struct RegionSink(pub Arc<RegionFn>);

/// What a [`RegionSink`] calls with each region's number and the region.
pub type RegionFn = dyn Fn(usize, &Region) -> crate::Result<()> + Send + Sync;

impl RegionSink {
    /// The same sink, with every witness first passed through `lift` (a walk in reduced or
    /// sliced coordinates puts the model's own coordinates back this way).
    pub fn mapped(&self, lift: impl Fn(&mut Vec<f64>) + Send + Sync + 'static) -> RegionSink {
        let inner = self.0.clone();
        RegionSink(Arc::new(move |number: usize, region: &Region| {
            let mut region = region.clone();
            region.witness.iter_mut().for_each(&lift);
            inner(number, &region)
        }))
    }
}

impl std::fmt::Debug for RegionSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RegionSink")
    }
}

/// Where the facet adjacencies of a walk go as they are found ([`WalkOptions::edge_sink`]); an
/// error stops the walk with that error.
#[derive(Clone)]
pub struct EdgeSink(pub Arc<EdgeFn>);

/// What an [`EdgeSink`] calls with each adjacency.
pub type EdgeFn = dyn Fn(&Edge) -> crate::Result<()> + Send + Sync;

impl std::fmt::Debug for EdgeSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EdgeSink")
    }
}

impl WalkOptions {
    /// A region budget as a user gives it, checked: at least one region.
    pub fn region_budget(regions: usize) -> crate::Result<usize> {
        match regions {
            0 => Err(crate::Error::Settings("the region budget must be at least 1".into())),
            n => Ok(n),
        }
    }

    /// A time limit given in seconds, checked: a positive finite number.
    pub fn time_limit_from_seconds(seconds: f64) -> crate::Result<Duration> {
        if !(seconds.is_finite() && seconds > 0.0) {
            return Err(crate::Error::Settings(format!(
                "the time limit must be a positive number of seconds, got {seconds}"
            )));
        }
        Ok(Duration::from_secs_f64(seconds))
    }
}

/// The exact method behind [`super::count`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// The box partition where it applies ([`super::partition::applies`]: a box in at most 8
    /// dimensions, without region graph or checkpoint), the arrangement for the whole space of one
    /// hidden layer ([`super::whole::applies`]), the walk otherwise.
    #[default]
    Auto,
    /// The region walk: every domain, edges, checkpoints.
    Walk,
    /// The box partition ([`super::partition`]); an error where it does not apply.
    Partition,
    /// Deletion–restriction over the first layer's hyperplanes ([`super::whole`]): the whole
    /// space of a network with one hidden layer, without an LP; an error where it does not apply.
    Arrangement,
}

impl std::str::FromStr for Engine {
    type Err = crate::Error;

    fn from_str(name: &str) -> crate::Result<Self> {
        match name {
            "auto" => Ok(Engine::Auto),
            "walk" => Ok(Engine::Walk),
            "partition" => Ok(Engine::Partition),
            "arrangement" => Ok(Engine::Arrangement),
            _ => Err(crate::Error::Settings(format!(
                "unknown engine '{name}' (choose from auto, walk, partition, arrangement)"
            ))),
        }
    }
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
    /// Every region found, in discovery order (empty with [`WalkOptions::count_only`]). When
    /// complete, exactly the regions meeting the domain.
    pub regions: Vec<Region>,
    /// The number of regions counted ([`WalkResult::count`]).
    pub counted: usize,
    /// With fingerprints ([`Identity::Fingerprints`]): an upper bound on the chance that two of
    /// the regions found shared one, so that one was not counted (`N(N−1)/2 · 2⁻¹²⁸`). `None`:
    /// exact patterns, nothing dropped.
    #[serde(default)]
    pub collision_bound: Option<f64>,
    /// Regions of the frontier written to disk to keep memory flat (the count is the same as
    /// without spilling).
    #[serde(default)]
    pub spilled_regions: u64,
    /// Bytes those spilled regions took on disk.
    #[serde(default)]
    pub spilled_bytes: u64,
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
    /// The method that counted ([`Engine::Walk`], [`Engine::Partition`] or [`Engine::Arrangement`]).
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
            counted: 0,
            collision_bound: None,
            spilled_regions: 0,
            spilled_bytes: 0,
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
        self.counted
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

/// Estimated bytes a count with `options` holds per region found (the frontier is held within
/// its own budget): the visited set's key and table slot, and, when the region list is kept, the
/// pattern and witness. Edges add about 64 bytes each.
pub fn memory_per_region(net: &Network, options: &WalkOptions) -> u64 {
    let words = net.neurons().div_ceil(64) as u64;
    let key = 8 * options.identity.key_words(net.neurons()) as u64;
    let listed = if super::walk::keeps_regions(options) { 8 * words + 8 * net.input_dim() as u64 + 96 } else { 0 };
    // Edges held: all of them, or only those of queued regions when they are streamed.
    key + 12 + listed + if options.edges && options.edge_sink.is_none() { 64 } else { 0 }
}

/// The budgets of a count, checked in one place by every engine.
pub(crate) struct Budget<'a> {
    options: &'a WalkOptions,
    deadline: Option<Instant>,
    /// Estimated bytes per region held.
    per_region: u64,
    /// Regions that may still be added between two checks (the walk adds a chunk's neighbours at
    /// once; the partition checks at every leaf and needs none).
    headroom: u64,
    /// Bytes held whatever the count (the walk's frontier, up to its budget).
    held: u64,
}

impl<'a> Budget<'a> {
    /// The budgets of `options`, the time limit running out at `deadline`.
    pub(crate) fn new(options: &'a WalkOptions, deadline: Option<Instant>, per_region: u64, headroom: u64) -> Self {
        Budget { options, deadline, per_region, headroom, held: 0 }
    }

    /// The same budgets, with `bytes` held besides the regions.
    pub(crate) fn holding(self, bytes: u64) -> Self {
        Budget { held: bytes, ..self }
    }

    /// The budget that stops a count holding `regions` regions, if any.
    pub(crate) fn spent(&self, regions: usize) -> Option<StopReason> {
        let o = self.options;
        if o.max_regions.is_some_and(|max| regions >= max) {
            Some(StopReason::MaxRegions)
        } else if o.max_memory.is_some_and(|max| (regions as u64 + self.headroom) * self.per_region + self.held > max) {
            Some(StopReason::MaxMemory)
        } else {
            self.late_or_interrupted()
        }
    }

    /// The time limit or the interrupt, if either has stopped the count.
    pub(crate) fn late_or_interrupted(&self) -> Option<StopReason> {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            Some(StopReason::TimeLimit)
        } else if self.options.interrupt.as_ref().is_some_and(|i| i.load(Ordering::Relaxed)) {
            Some(StopReason::Interrupted)
        } else {
            None
        }
    }
}
