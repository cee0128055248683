//! Exact counting on a box in low dimension by partitioning it along the network's hyperplanes,
//! neuron by neuron, with every cell kept as its corners (docs/exact.md, "The box partition").
//!
//! The walk rebuilds each region's polytope from its constraints (a double description of ≈ 36
//! constraints per region on ACAS Xu) and tests every facet. Here a cell is cut by one hyperplane
//! at a time and each child inherits its parent's corners: the layer-`l` hyperplanes are fixed on a
//! cell whose layers `< l` are decided, every cut costs one step of the double description, and a
//! hyperplane that does not cross a cell is dismissed from the cell's corners. No visited set is
//! needed: the leaves of the cut tree are disjoint and each has its own pattern.
//!
//! A leaf counts only with a checked witness, as in the walk: a point with more than [`DECIDE`]
//! (frame units) to every constraint and the box edge (the corners' centroid, else the leaf's
//! Chebyshev LP), at which a forward pass gives every varying neuron the leaf's sign. A leaf
//! without a point with the margin is a sliver: not counted, tallied as borderline (`touching`),
//! as the walk does; a point whose forward pass disagrees is tallied as `unverified`. A
//! hyperplane that only touches a cell within [`CORNER_ON`] does not cut it, so a sliver thinner
//! than that is never formed; the walk leaves the same slivers out.
//!
//! The same cut tree, without the witness checks, gives the bound method `partition`
//! (`crate::bound::partition`, docs/bounds.md): every leaf not proven to miss the domain counts once
//! (an L2 ball is cut within its bounding cube), and where a budget stops the tree, each uncut
//! cell is bounded by what [`UncutCells`] says of its ranges ([`bound_tree`]).

use super::layer_step::Step;
use super::result::{memory_per_region, Budget, Completeness, Engine, Progress, ProgressFn, Region, StopReason};
use super::walk::keeps_regions;
use super::walk::vertices::{facet_misses_ball, Cut, Polytope, MAX_DIM};
use super::{WalkOptions, WalkResult};
use crate::domain::{Domain, Halfspace};
use crate::lp::{margin, meets, Decision, LpCounters};
use crate::model::{chosen, difference, Difference, Network, NeuronKind, Pattern};
use crate::tolerance::{BALL_MISS, BOX_SIDE, CORNER_ON, DECIDE};
use crate::Result;
use ndarray::Array1;
use num_bigint::BigUint;
use rayon::prelude::*;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Cuts above which the two sides of a cut are explored in parallel (rayon `join`): deep enough
/// that every thread has work, shallow enough that copying a [`Path`] per branch stays rare.
const PARALLEL_DEPTH: usize = 12;

/// Leaves between two progress reports.
const PROGRESS_EVERY: usize = 4096;

/// Whether the partition can count `domain` for `net` with `options`: a bounded box (or L-inf
/// ball) of at most [`MAX_DIM`] inputs, no region graph, no checkpoint and not the HiGHS-only
/// reference path (the walk provides those).
pub fn applies(net: &Network, domain: &Domain, options: &WalkOptions) -> bool {
    within_reach(net, domain)
        && !domain.is_round()
        && !options.edges
        && options.checkpoint.is_none()
        && !options.highs_only
}

/// Whether the cut tree can cover `domain`: 1–[`MAX_DIM`] inputs (a box has 2ⁿ corners) and a
/// bounded domain (a box, or a ball cut within its bounding cube).
fn within_reach(net: &Network, domain: &Domain) -> bool {
    let n = domain.dim();
    (1..=MAX_DIM).contains(&n) && net.input_dim() == n && domain.is_bounded()
}

/// Counts the activation regions of `net` in the box `domain` by partitioning it ([`applies`]
/// must hold). Regions come in the order of the cut tree, each with its witness.
pub fn partition(net: &Network, domain: &Domain, options: &WalkOptions) -> Result<WalkResult> {
    let started = Instant::now();
    let (out, reason) = run(net, domain, options, Mode::Count, started)?;
    // Leaves come from parallel branches: the sink gets them in the cut tree's order at the end.
    if let Some(sink) = &options.sink {
        out.regions.iter().enumerate().try_for_each(|(i, r)| (sink.0)(i, r))?;
    }
    let result = WalkResult {
        start: out.first,
        regions: if keeps_regions(options) { out.regions } else { Vec::new() },
        counted: out.counted,
        completeness: reason.map_or(Completeness::Complete, Completeness::Stopped),
        counters: out.counters,
        unverified: out.unverified,
        seconds: started.elapsed().as_secs_f64(),
        ..WalkResult::empty(Engine::Partition)
    };
    report(options, result.count(), result.counters.lp_solves, true);
    Ok(result)
}

/// What the cut tree leaves to a bound on the regions of a cell a budget left uncut: the cell's
/// exact pre-activation ranges in its current layer (the bound method supplies the rest,
/// `crate::bound::partition`).
pub trait UncutCells: Sync {
    /// A bound on the regions of a cell whose layer-`layer` pre-activations lie in `ranges`.
    fn bound(&self, layer: usize, ranges: LayerRanges) -> BigUint;
}

/// A cell's pre-activation ranges in one layer, neurons already decided clamped to their side.
pub struct LayerRanges {
    /// Lower ends.
    pub lower: Vec<f64>,
    /// Upper ends.
    pub upper: Vec<f64>,
    /// Neurons that may change sign on the cell.
    pub unstable: usize,
    /// Neurons active on all of it.
    pub active: usize,
    /// Input dimensions.
    pub dim: usize,
    /// The cell's bounding box in input coordinates (widened by [`CORNER_ON`]): what a bound that
    /// does not follow the layers' ranges (max units) starts from.
    pub input_lower: Vec<f64>,
    /// Its upper corner.
    pub input_upper: Vec<f64>,
}

/// What [`bound_tree`] found: leaves not proven to miss the domain, and the bounds of the cells a
/// budget left uncut.
#[derive(Clone, Debug)]
pub struct TreeBound {
    /// Leaves of the cut tree not proven to miss the domain (each holds at most one region).
    pub leaves: u64,
    /// The sum of the uncut cells' bounds.
    pub pending: BigUint,
    /// Cells a budget left uncut.
    pub cut_short: u64,
}

/// The cut tree of `net` over `domain` (a box or a ball, L2 or L-inf, of 1–[`MAX_DIM`] inputs;
/// `None` otherwise) without the witness checks of the count: its leaves not proven to miss the
/// domain (an L2 ball is cut within its bounding cube). When `max_leaves` or `deadline` stops the
/// tree, every cell left uncut is bounded by `uncut` from its current layer's exact ranges (from
/// its corners, widened by [`CORNER_ON`]). Sound because a region deeper than [`DECIDE`] is never
/// lost by the cut tree (it only declines to cut within [`CORNER_ON`]).
pub fn bound_tree(
    net: &Network,
    domain: &Domain,
    uncut: &dyn UncutCells,
    max_leaves: Option<usize>,
    deadline: Option<Instant>,
) -> Result<Option<TreeBound>> {
    if !within_reach(net, domain) {
        return Ok(None);
    }
    let options = WalkOptions {
        max_regions: max_leaves,
        time_limit: deadline.map(|d| d.saturating_duration_since(Instant::now())),
        ..Default::default()
    };
    let (out, _) = run(net, domain, &options, Mode::Bound(uncut), Instant::now())?;
    Ok(Some(TreeBound { leaves: out.leaves, pending: out.pending, cut_short: out.cut_short }))
}

/// Runs the cut tree over the domain (an L2 ball within its bounding cube).
fn run(
    net: &Network,
    domain: &Domain,
    options: &WalkOptions,
    mode: Mode<'_>,
    started: Instant,
) -> Result<(Leaves, Option<StopReason>)> {
    let search = Search::new(net, domain, options, mode, started);
    let (mut path, cell) = search.root();
    let mut out = Leaves::default();
    if !net.hidden().is_empty() {
        let first = search.first_step(&cell);
        search.explore(&mut path, cell, 0, 0, &first, 0, &mut out)?;
    } else {
        search.leaf(&path, cell, &mut out)?;
    }
    let reason = *search.reason.lock().expect("no thread panicked holding it");
    Ok((out, reason))
}

/// What the cut tree does with its leaves.
#[derive(Clone, Copy)]
enum Mode<'a> {
    /// Count those with a checked witness (the exact count).
    Count,
    /// Count those not proven to miss the domain, and bound the cells a budget leaves uncut.
    Bound(&'a dyn UncutCells),
}

/// What deciding one neuron leaves of a cell (decided in place).
enum Decided {
    /// The cell, its pattern now fixing the neuron's side (or the neuron does not vary; or one
    /// part of a cut, the other missing an L2 ball in bound mode).
    Kept,
    /// The hyperplane crosses the cell: the cell is now its active part, and this its inactive one.
    Two(Cell),
    /// Both parts miss the domain (an L2 ball, bound mode).
    Gone,
}

/// What one branch of the cut tree found: its counted leaves in order, the solver work of their
/// witnesses, and the leaves without one.
#[derive(Default)]
struct Leaves {
    /// The counted leaves, when listed (the region list, or a sink).
    regions: Vec<Region>,
    /// Leaves counted.
    counted: usize,
    /// The first counted leaf's witness (the count's start point).
    first: Option<Vec<f64>>,
    counters: LpCounters,
    unverified: u64,
    /// Bound mode: leaves not proven to miss the domain.
    leaves: u64,
    /// Bound mode: the bounds of the cells a budget left uncut, and how many.
    pending: BigUint,
    cut_short: u64,
}

impl Leaves {
    fn append(&mut self, mut other: Leaves) {
        self.regions.append(&mut other.regions);
        self.counted += other.counted;
        if self.first.is_none() {
            self.first = other.first;
        }
        self.counters.add(&other.counters);
        self.unverified += other.unverified;
        self.leaves += other.leaves;
        self.pending += other.pending;
        self.cut_short += other.cut_short;
    }
}

/// What a leaf's witness search found.
enum Witness {
    /// A frame point and its margin.
    Found(Vec<f64>, f64),
    /// No point with the margin: a sliver below the decision margin (tallied as borderline, like
    /// the walk's).
    Sliver,
    /// A point with the margin whose forward pass disagrees with the leaf's pattern: the cut
    /// tree's arithmetic failed there (tallied as unverified, with a warning).
    Inconsistent,
}

/// A cell of the partition: its corners (frame coordinates), their bounding box, and the pattern
/// decided so far.
#[derive(Clone)]
struct Cell {
    corners: Polytope,
    lower: Vec<f64>,
    upper: Vec<f64>,
    pattern: Pattern,
}

impl Cell {
    fn new(corners: Polytope, pattern: Pattern) -> Cell {
        let (lower, upper) = corners.bounding_box();
        Cell { corners, lower, upper, pattern }
    }

    /// The side of the hyperplane `normal · y + offset = 0` that holds the whole cell, judged
    /// from its bounding box alone: `Some(true)` when the box is above `2·CORNER_ON` (so no corner
    /// lies on the hyperplane), `Some(false)` when below `-2·CORNER_ON`, `None` when undecided
    /// (the corners then decide). Most hyperplanes of a deep layer miss a small cell this way.
    fn side_by_box(&self, normal: &[f64], offset: f64) -> Option<bool> {
        let (mut centre, mut reach) = (offset, 0.0);
        for ((a, lo), hi) in normal.iter().zip(&self.lower).zip(&self.upper) {
            centre += a * 0.5 * (lo + hi);
            reach += a.abs() * 0.5 * (hi - lo);
        }
        if centre - reach > BOX_SIDE {
            Some(true)
        } else if centre + reach < -BOX_SIDE {
            Some(false)
        } else {
            None
        }
    }
}

/// The hyperplanes of the current branch, by neuron: a cell's tight sets refer to them (bit
/// `2n + k` is neuron `k`'s, after the box faces), and a leaf's witness is checked against them.
/// Along a branch neurons are decided in order, so entries of decided neurons stay valid when the
/// search backtracks to a sibling.
#[derive(Clone)]
struct Path {
    /// Unit normals (frame), `n` per row: the box faces, then one row per neuron.
    normals: Vec<f64>,
    /// Offsets of the neurons' hyperplanes (frame units).
    offsets: Vec<f64>,
    /// `1 / (‖a_k‖ · scale)` per neuron: turns a pre-activation into a distance in frame units.
    to_distance: Vec<f64>,
    /// Whether each neuron varies on the branch (only those bound a region).
    varying: Vec<bool>,
}

/// The cut tree's shared state: the problem, the mode, and the budgets and tallies every branch
/// (and thread) sees.
struct Search<'a> {
    net: &'a Network,
    domain: &'a Domain,
    n: usize,
    options: &'a WalkOptions,
    mode: Mode<'a>,
    budget: Budget<'a>,
    /// Whether counted leaves are listed (for the region list or the sink).
    listing: bool,
    /// Leaves counted so far, over all threads.
    found: AtomicUsize,
    lp_solves: AtomicUsize,
    /// Raised when a budget stops the search; every branch then returns.
    stop: AtomicBool,
    reason: Mutex<Option<StopReason>>,
}

/// Where a descent of the partition's cut tree ended ([`descend`]), for the estimate
/// (`crate::estimate`).
pub enum Descent {
    /// At a leaf.
    Leaf {
        /// `Π 1/q` over the random choices on the way when the leaf has a checked witness (a
        /// region the count counts), else 0.
        weight: f64,
        /// The leaf's pattern when its witness checks.
        leaf: Option<Pattern>,
    },
    /// At the first cell cut in two past the route, when no choice rule was given.
    Split {
        /// Distinct sample patterns in its inactive part.
        minus: usize,
        /// Distinct sample patterns in its active part.
        plus: usize,
    },
    /// Both parts of a cut missed the domain.
    Empty,
}

/// A descent of the cut tree of `net` over the box `domain` ([`applies`] must hold) from the
/// whole box: at the first `route.len()` cells cut in two it takes the part `route` says (true:
/// active); past them, with a rule `choose`, it takes the inactive part with probability
/// `choose(m, p)` (strictly between 0 and 1), `m` and `p` the distinct patterns among the sample
/// points inside each part (`points`: frame coordinates, `n` per point; `ids`: their patterns as
/// small numbers), or [`later_cells`] of each part when no point is left in either, and divides
/// its weight by the probability of the part taken; without a rule it stops there
/// ([`Descent::Split`]). The leaves with a checked witness are exactly the regions
/// [`partition`] counts, each reached from the route's node with the product of the
/// probabilities on its path, so `E[weight]` is the count below that node (Knuth's estimator).
/// Also returns the solver work (a leaf whose corners' centroid lacks the margin needs an LP).
pub fn descend(
    net: &Network,
    domain: &Domain,
    points: &[f64],
    ids: &[u32],
    route: &[bool],
    choose: Option<&dyn Fn(usize, usize) -> f64>,
    rng: &mut dyn rand::RngCore,
) -> Result<(Descent, LpCounters)> {
    use rand::Rng;
    // A descent takes one side per cut: it has no k-way cut for a window.
    net.require_relu_only("the box partition's descents")?;
    let options = WalkOptions::default();
    let search = Search::new(net, domain, &options, Mode::Count, Instant::now());
    let (n, hidden) = (domain.dim(), net.hidden().len());
    let (mut path, mut cell) = search.root();
    let mut counters = LpCounters::default();
    let (mut weight, mut taken) = (1.0, 0);
    let (mut values, mut cut) = (Vec::new(), Cut::default());
    let mut inside: Vec<u32> = (0..ids.len() as u32).collect();
    let mut seen = vec![false; ids.iter().map(|&id| id as usize + 1).max().unwrap_or(0)];
    let mut distinct = |part: &[u32]| {
        let count = part.iter().filter(|&&i| !std::mem::replace(&mut seen[ids[i as usize] as usize], true)).count();
        part.iter().for_each(|&i| seen[ids[i as usize] as usize] = false);
        count
    };
    let mut step = (hidden > 0).then(|| search.first_step(&cell));
    for l in 0..hidden {
        let layer = step.as_ref().expect("a step per hidden layer");
        let first = net.neuron_index(l, 0);
        for j in 0..layer.kind.len() {
            let minus = match search.decide(&mut path, &mut cell, first + j, j, layer, &mut values, &mut cut) {
                Decided::Kept => continue,
                Decided::Gone => return Ok((Descent::Empty, counters)),
                Decided::Two(minus) => minus,
            };
            let plane = &layer.planes[j * (n + 1)..(j + 1) * (n + 1)];
            let above = |i: u32| {
                let y = &points[i as usize * n..(i as usize + 1) * n];
                plane[..n].iter().zip(y).map(|(a, v)| a * v).sum::<f64>() + plane[n] > 0.0
            };
            // In place: the points of the inactive part first, then the active part's.
            let (mut i, mut end) = (0, inside.len());
            while i < end {
                if above(inside[i]) {
                    end -= 1;
                    inside.swap(i, end);
                } else {
                    i += 1;
                }
            }
            let active = match (route.get(taken), choose) {
                (Some(&active), _) => {
                    taken += 1;
                    active
                }
                (None, None) => {
                    let split = Descent::Split { minus: distinct(&inside[..end]), plus: distinct(&inside[end..]) };
                    return Ok((split, counters));
                }
                (None, Some(choose)) => {
                    let (mut m, mut p) = (distinct(&inside[..end]), distinct(&inside[end..]));
                    if m + p == 0 {
                        // The sample has run out: the layer's hyperplanes still to come measure
                        // the parts instead.
                        (m, p) = (later_cells(&minus, layer, j, n), later_cells(&cell, layer, j, n));
                    }
                    let q = choose(m, p);
                    let active = rng.gen::<f64>() >= q;
                    weight /= if active { 1.0 - q } else { q };
                    active
                }
            };
            if active {
                inside.drain(..end);
            } else {
                inside.truncate(end);
                cell = minus;
            }
        }
        if l + 1 < hidden {
            step = Some(Step::next(net, l + 1, &cell.pattern, layer).with_planes(domain));
        }
    }
    let leaf = match search.witness(&path, &cell, &mut counters)? {
        Witness::Found(..) => Some(cell.pattern),
        Witness::Sliver | Witness::Inconsistent => None,
    };
    Ok((Descent::Leaf { weight: if leaf.is_some() { weight } else { 0.0 }, leaf }, counters))
}

/// A measure of a cell's regions from the varying neurons of `layer` after number `j` whose
/// hyperplanes cross its bounding box: `m` of them cut the cell into at most `Σ_{i≤n} C(m, i)`
/// pieces (the count of an arrangement in general position; capped at 2⁵⁰). What the estimate's
/// probes steer by below the depth its domain sample reaches: measured on ACAS Xu boxes at 1 s
/// it cut the standard error from 12.2% to 10.7% (892k regions) and from 8.7% to 7.2% (275k),
/// at no cost in probes.
fn later_cells(cell: &Cell, layer: &Step, j: usize, n: usize) -> usize {
    let crossing = (j + 1..layer.kind.len())
        .filter(|&i| layer.kind[i] == NeuronKind::Varying)
        .filter(|&i| {
            let plane = &layer.planes[i * (n + 1)..(i + 1) * (n + 1)];
            cell.side_by_box(&plane[..n], plane[n]).is_none()
        })
        .count();
    let (mut term, mut cells) = (1.0_f64, 1.0_f64);
    for i in 0..n.min(crossing) {
        term *= (crossing - i) as f64 / (i + 1) as f64;
        cells += term;
    }
    cells.min((1u64 << 50) as f64) as usize
}

impl<'a> Search<'a> {
    fn new(net: &'a Network, domain: &'a Domain, options: &'a WalkOptions, mode: Mode<'a>, started: Instant) -> Self {
        Search {
            net,
            domain,
            n: domain.dim(),
            options,
            mode,
            // The partition checks the budgets at every leaf: no headroom.
            budget: Budget::new(options, options.time_limit.map(|t| started + t), memory_per_region(net, options), 0),
            listing: keeps_regions(options) || options.sink.is_some(),
            found: AtomicUsize::new(0),
            lp_solves: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            reason: Mutex::new(None),
        }
    }

    /// The root of the cut tree: the domain's box (an L2 ball's bounding cube), nothing decided.
    fn root(&self) -> (Path, Cell) {
        let (n, neurons) = (self.n, self.net.neurons());
        let mut path = Path {
            normals: Polytope::box_normals(n),
            offsets: vec![0.0; neurons],
            to_distance: vec![0.0; neurons],
            varying: vec![false; neurons],
        };
        path.normals.resize((2 * n + neurons) * n, 0.0);
        let round = self.domain.is_round();
        let lower: Vec<f64> = self.domain.lower().iter().map(|&v| if round { v.max(-1.0) } else { v }).collect();
        let upper: Vec<f64> = self.domain.upper().iter().map(|&v| if round { v.min(1.0) } else { v }).collect();
        (path, Cell::new(Polytope::boxed(&lower, &upper, 2 * n + neurons), Pattern::zeros(neurons)))
    }

    /// The first hidden layer's step on the root cell.
    fn first_step(&self, root: &Cell) -> Step {
        Step::next(self.net, 0, &root.pattern, &Step::input(self.n)).with_planes(self.domain)
    }
}

impl Search<'_> {
    /// Decides neurons `j..` of layer `l` on `cell` (cutting it where a hyperplane crosses it),
    /// then the later layers, and records the leaves into `out`. `depth`: cuts on the branch.
    #[allow(clippy::too_many_arguments)]
    fn explore(
        &self,
        path: &mut Path,
        mut cell: Cell,
        l: usize,
        j: usize,
        step: &Step,
        depth: usize,
        out: &mut Leaves,
    ) -> Result<()> {
        let first = self.net.neuron_index(l, 0);
        let windows = self.net.max_windows().in_layer(l);
        let mut values = Vec::new();
        let mut cut = Cut::default();
        for j in j..step.kind.len() {
            if self.stopped() {
                if let Mode::Bound(uncut) = self.mode {
                    out.pending += uncut.bound(l, self.cell_ranges(&cell, l, j, step));
                    out.cut_short += 1;
                }
                return Ok(());
            }
            if let Some(window) = windows.iter().find(|w| w.start == j) {
                return self.explore_window(path, &cell, l, window.clone(), step, depth, out);
            }
            let minus = match self.decide(path, &mut cell, first + j, j, step, &mut values, &mut cut) {
                Decided::Kept => continue,
                Decided::Gone => return Ok(()),
                Decided::Two(minus) => minus,
            };
            if depth < PARALLEL_DEPTH && rayon::current_num_threads() > 1 {
                let mut other = path.clone();
                let mut right = Leaves::default();
                let (a, b) = rayon::join(
                    || self.explore(path, minus, l, j + 1, step, depth + 1, out),
                    || self.explore(&mut other, cell, l, j + 1, step, depth + 1, &mut right),
                );
                a?;
                b?;
                out.append(right);
                return Ok(());
            }
            self.explore(path, minus, l, j + 1, step, depth + 1, out)?;
        }
        if l + 1 < self.net.hidden().len() {
            let next = Step::next(self.net, l + 1, &cell.pattern, step).with_planes(self.domain);
            self.explore(path, cell, l + 1, 0, &next, depth, out)
        } else {
            self.leaf(path, cell, out)
        }
    }

    /// Decides the max `window` (units of layer `l`) on `cell`: one part per candidate that can
    /// be its argmax there ([`Self::window_part`]), each explored from the unit after the window,
    /// in the candidates' order.
    #[allow(clippy::too_many_arguments)]
    fn explore_window(
        &self,
        path: &mut Path,
        cell: &Cell,
        l: usize,
        window: Range<usize>,
        step: &Step,
        depth: usize,
        out: &mut Leaves,
    ) -> Result<()> {
        // The candidates as `difference` takes them: row (input coordinates, zero where the
        // candidate does not vary), offset, kind.
        let units: Vec<(Vec<f64>, f64, NeuronKind)> =
            window.clone().map(|u| (step.dense_row(u), step.zeta[u], step.kind[u])).collect();
        let first = self.net.neuron_index(l, 0);
        let candidates = first + window.start..first + window.end;
        let explore =
            |c: usize, path: &mut Path, out: &mut Leaves| match self.window_part(path, cell, &candidates, &units, c) {
                Some(part) => self.explore(path, part, l, window.end, step, depth + 1, out),
                None => Ok(()),
            };
        if depth < PARALLEL_DEPTH && rayon::current_num_threads() > 1 {
            let found: Vec<Leaves> = (0..units.len())
                .into_par_iter()
                .map(|c| {
                    let (mut path, mut found) = (path.clone(), Leaves::default());
                    explore(c, &mut path, &mut found).map(|()| found)
                })
                .collect::<Result<_>>()?;
            found.into_iter().for_each(|found| out.append(found));
            return Ok(());
        }
        (0..units.len()).try_for_each(|c| explore(c, path, out))
    }

    /// The part of `cell` where candidate `c` (an index into `units`) is the argmax of the max
    /// window `candidates` (pattern indices; `units`: each candidate's row, offset and kind), if
    /// it is not proven empty: `cell` cut by `z_c − z_i > 0` for every other candidate `i`, whose
    /// hyperplane `path` records as unit `i`'s; ties between the same function go to the lowest
    /// index, as in the walk (theory §11). A difference whose hyperplane only touches the cell
    /// within [`CORNER_ON`] leaves it on the side its corners lean to, as a neuron's does
    /// ([`Self::decide`]), so exactly one of two candidates keeps such a sliver.
    fn window_part(
        &self,
        path: &mut Path,
        cell: &Cell,
        candidates: &Range<usize>,
        units: &[(Vec<f64>, f64, NeuronKind)],
        c: usize,
    ) -> Option<Cell> {
        let n = self.n;
        let unit = |i: usize| (units[i].0.as_slice(), units[i].1, units[i].2);
        let mut part = cell.clone();
        let (mut values, mut cut) = (Vec::new(), Cut::default());
        path.varying[candidates.start + c] = false;
        for i in (0..units.len()).filter(|&i| i != c) {
            let k = candidates.start + i;
            path.varying[k] = false;
            let (a, beta) = match difference(unit(c), unit(i)) {
                Difference::Varying(a, beta) => (a, beta),
                Difference::Constant(d) if d < 0.0 => return None,
                Difference::Identical if i < c => return None,
                Difference::Constant(_) | Difference::Identical => continue,
            };
            let norm = a.iter().map(|v| v * v).sum::<f64>().sqrt();
            let mut plane: Vec<f64> = a.into_iter().chain([beta]).collect();
            let nonzero = self.domain.to_frame_plane(&mut plane);
            debug_assert!(nonzero, "a varying difference has a nonzero row");
            let bit = 2 * n + k;
            path.varying[k] = true;
            path.normals[bit * n..(bit + 1) * n].copy_from_slice(&plane[..n]);
            path.offsets[k] = plane[n];
            path.to_distance[k] = 1.0 / (norm * self.domain.scale());
            match part.side_by_box(&plane[..n], plane[n]) {
                Some(true) => continue,
                Some(false) => return None,
                None => {}
            }
            part.corners.values(&plane[..n], plane[n], &mut values);
            let above = values.iter().any(|&v| v > CORNER_ON);
            let below = values.iter().any(|&v| v < -CORNER_ON);
            if !(above && below) {
                if above || !below && values.iter().sum::<f64>() > 0.0 {
                    part.corners.mark_on(&values, bit);
                    continue;
                }
                return None;
            }
            part.corners.crossings(&values, bit, &path.normals, &mut cut);
            part.corners = part.corners.side(&values, bit, true, &cut);
            (part.lower, part.upper) = part.corners.bounding_box();
        }
        candidates.clone().for_each(|k| part.pattern.set(k, k == candidates.start + c));
        (!self.outside(&part)).then_some(part)
    }

    /// Decides neuron `k` (number `j` of the current layer, `step`) on `cell`: records its
    /// hyperplane in `path` and cuts the cell where the hyperplane crosses it. `values` and `cut`
    /// are scratch space. Inlined into the partition's loop: as a call it measured 2% slower on
    /// ACAS Xu boxes.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn decide(
        &self,
        path: &mut Path,
        cell: &mut Cell,
        k: usize,
        j: usize,
        step: &Step,
        values: &mut Vec<f64>,
        cut: &mut Cut,
    ) -> Decided {
        let n = self.n;
        path.varying[k] = step.kind[j] == NeuronKind::Varying;
        match step.kind[j] {
            NeuronKind::Zero => return Decided::Kept,
            NeuronKind::Constant => {
                cell.pattern.set(k, step.zeta[j] > 0.0);
                return Decided::Kept;
            }
            NeuronKind::Varying => {}
        }
        let plane = &step.planes[j * (n + 1)..(j + 1) * (n + 1)];
        let bit = 2 * n + k;
        path.normals[bit * n..(bit + 1) * n].copy_from_slice(&plane[..n]);
        path.offsets[k] = plane[n];
        path.to_distance[k] = 1.0 / (step.norms[j] * self.domain.scale());
        if let Some(active) = cell.side_by_box(&plane[..n], plane[n]) {
            cell.pattern.set(k, active);
            return Decided::Kept;
        }
        cell.corners.values(&plane[..n], plane[n], values);
        let above = values.iter().any(|&v| v > CORNER_ON);
        let below = values.iter().any(|&v| v < -CORNER_ON);
        if !(above && below) {
            // One side holds the cell (a cell within CORNER_ON of the hyperplane throughout
            // is a sliver its leaf's witness check rejects).
            cell.corners.mark_on(values, bit);
            cell.pattern.set(k, above || !below && values.iter().sum::<f64>() > 0.0);
            return Decided::Kept;
        }
        cell.corners.crossings(values, bit, &path.normals, cut);
        let minus = Cell::new(cell.corners.side(values, bit, false, cut), cell.pattern.clone());
        cell.corners = cell.corners.side(values, bit, true, cut);
        (cell.lower, cell.upper) = cell.corners.bounding_box();
        cell.pattern.set(k, true);
        // In an L2 ball (bound mode), a side beyond the sphere is dropped.
        match (self.outside(&minus), self.outside(cell)) {
            (false, false) => Decided::Two(minus),
            (true, false) => Decided::Kept,
            (false, true) => {
                *cell = minus;
                Decided::Kept
            }
            (true, true) => Decided::Gone,
        }
    }

    /// True if the cell certainly misses an L2 ball domain (so none of its regions meets it):
    /// its bounding box lies outside the ball, or Gilbert's iteration finds a direction that
    /// separates its corners from the ball by [`DECIDE`] (`vertices::facet_misses_ball`).
    fn outside(&self, cell: &Cell) -> bool {
        if !self.domain.is_round() {
            return false;
        }
        let (mut near, mut far) = (0.0, 0.0);
        for (lo, hi) in cell.lower.iter().zip(&cell.upper) {
            let gap = lo.max(-hi).max(0.0);
            near += gap * gap;
            far += lo.abs().max(hi.abs()).powi(2);
        }
        if near > 1.0 + BALL_MISS {
            return true;
        }
        // A box inside the ball cannot miss it; otherwise ask the corners.
        far >= 1.0 && facet_misses_ball(&cell.corners.corners().collect::<Vec<_>>())
    }

    /// The pre-activation ranges of layer `l` on a cell whose neurons before `j` of that layer are
    /// decided: exact on the cell (its map is affine there: extremes at the corners, widened by
    /// [`CORNER_ON`]), decided neurons clamped to their side (ReLU applied to them by a
    /// propagation then gives their outputs).
    fn cell_ranges(&self, cell: &Cell, l: usize, j: usize, step: &Step) -> LayerRanges {
        let (n, first) = (self.n, self.net.neuron_index(l, 0));
        let scale = self.domain.scale();
        let mut values = Vec::new();
        let (mut lower, mut upper) = (Vec::new(), Vec::new());
        let (mut unstable, mut active) = (0, 0);
        for jj in 0..step.kind.len() {
            let (lo, hi) = match step.kind[jj] {
                NeuronKind::Zero => (0.0, 0.0),
                NeuronKind::Constant => (step.zeta[jj], step.zeta[jj]),
                NeuronKind::Varying => {
                    let plane = &step.planes[jj * (n + 1)..(jj + 1) * (n + 1)];
                    cell.corners.values(&plane[..n], plane[n], &mut values);
                    let lo = values.iter().fold(f64::INFINITY, |m, v| m.min(*v)) - CORNER_ON;
                    let hi = values.iter().fold(f64::NEG_INFINITY, |m, v| m.max(*v)) + CORNER_ON;
                    // Frame distances back to pre-activations.
                    let to_value = step.norms[jj] * scale;
                    (lo * to_value, hi * to_value)
                }
            };
            let decided = jj < j && step.kind[jj] == NeuronKind::Varying;
            let (lo, hi) = match decided {
                true if !cell.pattern.get(first + jj) => (0.0, 0.0),
                true => (lo.max(0.0), hi.max(0.0)),
                false => (lo, hi),
            };
            if lo < 0.0 && hi > 0.0 {
                unstable += 1;
            } else if lo > 0.0 || decided && cell.pattern.get(first + jj) {
                active += 1;
            }
            lower.push(lo);
            upper.push(hi);
        }
        let input_lower = self.domain.from_frame(&cell.lower.iter().map(|v| v - CORNER_ON).collect::<Vec<_>>());
        let input_upper = self.domain.from_frame(&cell.upper.iter().map(|v| v + CORNER_ON).collect::<Vec<_>>());
        LayerRanges { lower, upper, unstable, active, dim: n, input_lower, input_upper }
    }

    /// Counts a leaf if it has a checked witness ([`Self::witness`]), and applies the budgets.
    fn leaf(&self, path: &Path, cell: Cell, out: &mut Leaves) -> Result<()> {
        if let Mode::Bound(_) = self.mode {
            out.leaves += 1;
            let found = self.found.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(reason) = self.budget.spent(found) {
                self.halt(reason);
            }
            return Ok(());
        }
        let (y, slack) = match self.witness(path, &cell, &mut out.counters)? {
            Witness::Found(y, slack) => (y, slack),
            Witness::Sliver => {
                out.counters.touching += 1;
                return Ok(());
            }
            Witness::Inconsistent => {
                out.unverified += 1;
                return Ok(());
            }
        };
        let witness = self.domain.from_frame(&y);
        if out.first.is_none() {
            out.first = Some(witness.clone());
        }
        out.counted += 1;
        if self.listing {
            out.regions.push(Region {
                pattern: cell.pattern,
                witness: Some(witness),
                inradius: Some(slack * self.domain.scale()),
            });
        }
        let found = self.found.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(reason) = self.budget.spent(found) {
            self.halt(reason);
        }
        if found.is_multiple_of(PROGRESS_EVERY) {
            report(self.options, found, self.lp_solves.load(Ordering::Relaxed) as u64, false);
        }
        Ok(())
    }

    /// A frame point of the leaf with more than [`DECIDE`] to every constraint and the domain's
    /// edge, and its margin: the corners' centroid when it has the margin, else the Chebyshev LP's
    /// witness. The margin to each neuron's hyperplane is taken from a forward pass of the network
    /// at the point ([`Self::margin_at`]), so the witness is checked against the network itself.
    fn witness(&self, path: &Path, cell: &Cell, counters: &mut LpCounters) -> Result<Witness> {
        let n = self.n;
        let mut centroid = vec![0.0; n];
        let count = cell.corners.len() as f64;
        for p in cell.corners.corners() {
            centroid.iter_mut().zip(p).for_each(|(c, v)| *c += v / count);
        }
        let slack = self.margin_at(&centroid, path, &cell.pattern);
        if slack > DECIDE {
            return Ok(Witness::Found(centroid, slack));
        }
        if slack < -DECIDE {
            // The centroid is inside the cell as its corners have it, yet clearly on the other
            // side of some hyperplane for the network.
            return Ok(Witness::Inconsistent);
        }
        let constraints: Vec<Halfspace> = (0..path.varying.len())
            .filter(|&k| path.varying[k])
            .map(|k| {
                // A window's loser keeps `z_c − z_i > 0` (its recorded hyperplane) on either side.
                let positive = cell.pattern.get(k) || self.net.max_windows().of(k).is_some();
                let sign = if positive { 1.0 } else { -1.0 };
                let bit = 2 * n + k;
                let normal = path.normals[bit * n..(bit + 1) * n].iter().map(|a| sign * a).collect();
                Halfspace { normal, offset: sign * path.offsets[k] }
            })
            .collect();
        let refs: Vec<&Halfspace> = constraints.iter().collect();
        let before = counters.lp_solves;
        let decision = meets(self.domain, &refs, None, counters)?;
        self.lp_solves.fetch_add((counters.lp_solves - before) as usize, Ordering::Relaxed);
        Ok(match decision {
            Decision::Meets { witness, slack } if self.margin_at(&witness, path, &cell.pattern) > 0.0 => {
                Witness::Found(witness, slack)
            }
            Decision::Meets { .. } => Witness::Inconsistent,
            _ => Witness::Sliver,
        })
    }

    /// The smallest signed margin (frame units) of frame point `y` to the domain's edge and to the
    /// hyperplane of every varying neuron of the branch, on the side `pattern` gives it: each
    /// pre-activation from a forward pass of the network, divided by its surrogate row's norm.
    /// Negative when the network puts `y` on the other side of some hyperplane.
    fn margin_at(&self, y: &[f64], path: &Path, pattern: &Pattern) -> f64 {
        let mut slack = margin(self.domain, &[], y);
        let mut h = Array1::from(self.domain.from_frame(y));
        let windows = self.net.max_windows();
        for (l, layer) in self.net.hidden().iter().enumerate() {
            let z = layer.weight.dot(h.view()) + &layer.bias;
            let first = self.net.neuron_index(l, 0);
            for (j, &v) in z.iter().enumerate() {
                let k = first + j;
                if path.varying[k] {
                    // A window's loser is bounded by its gap to the window's argmax.
                    let side = match windows.of(k) {
                        Some(w) => z[chosen(|u| pattern.get(u), w).expect("one argmax per window") - first] - v,
                        None if pattern.get(k) => v,
                        None => -v,
                    };
                    slack = slack.min(side * path.to_distance[k]);
                }
            }
            h = z.mapv(|v| v.max(0.0));
            // A window passes its argmax's value on, the others nothing.
            for w in windows.in_layer(l) {
                w.clone().for_each(|j| h[j] = if pattern.get(first + j) { z[j] } else { 0.0 });
            }
        }
        slack
    }

    /// True once a budget has stopped the search (checking the time limit and the interrupt).
    fn stopped(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return true;
        }
        if let Some(reason) = self.budget.late_or_interrupted() {
            self.halt(reason);
        }
        self.stop.load(Ordering::Relaxed)
    }

    /// Stops every branch, recording the first reason.
    fn halt(&self, reason: StopReason) {
        self.reason.lock().expect("no thread panicked holding it").get_or_insert(reason);
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Calls the progress callback, if any (the partition has no frontier).
fn report(options: &WalkOptions, regions: usize, lp_solves: u64, finished: bool) {
    if let Some(ProgressFn(call)) = &options.progress {
        call(Progress { regions, frontier: 0, lp_solves, finished });
    }
}
