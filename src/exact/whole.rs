//! Whole-space counts of one-hidden-layer networks without an LP (docs/exact.md, "The whole
//! space of one hidden layer").
//!
//! The walk of the whole space decides each facet with an LP, having no box to take corners in
//! (~600 regions/s in 8 inputs). With one hidden layer the regions are the cells of an affine
//! hyperplane arrangement, and the classical deletion–restriction recursion lists them: adding a
//! hyperplane `H` to an arrangement `A` cuts exactly the cells of `A` that `H` meets, and those
//! correspond one to one to the cells of `A` restricted to `H`, an arrangement one dimension
//! lower. So the cells of `A ∪ {H}` are
//!
//! - every cell of `A`, with `H`'s sign at its witness, when `H` does not cut it, and
//! - both sides of every cell that `H` cuts, with witnesses stepped off `H` from the witness of
//!   the matching cell of the restriction (matched by their signs on `A`'s hyperplanes),
//!
//! recursively down to points. Each step checks itself: every cell of the restriction must match
//! a distinct cell of `A`. Deciding how a hyperplane meets a flat is the one place where rounding
//! could change the arrangement: a restricted normal shorter than [`RESTRICTED_NORMAL`] is
//! decided in exact rational arithmetic on the network's own numbers (parallel and disjoint, the
//! same hyperplane, or truly meeting). Elsewhere rounding may at worst put a witness on the wrong
//! side of a hyperplane it nearly touches, and that is checked after the fact: every cell's
//! witness must be certified by a forward pass agreeing with the cell's signs (else the cell's
//! Chebyshev LP must find one), and no two cells may share signs. Anything inconsistent hands the
//! count to the walk, so the answer is the walk's, never that of a doubtful arrangement.

use super::result::{Budget, Completeness, Progress, ProgressFn, Region, StopReason};
use super::walk::keeps_regions;
use super::walk::reduce::in_row_space;
use super::walk::walk;
use super::{Engine, WalkOptions, WalkResult};
use crate::domain::{Domain, Halfspace, Shape};
use crate::lp::{meets, Decision, LpCounters};
use crate::model::{Network, Pattern};
use crate::tolerance::{ARRANGEMENT_SIDE, DECIDE, RESTRICTED_NORMAL, WHOLE_SPACE_SLACK_CAP};
use crate::vector::dot;
use crate::{Error, Result};
use ndarray::Array2;
use num_rational::BigRational;
use num_traits::Zero;
use rustc_hash::FxHashMap;
use std::time::Instant;

/// Hyperplanes the recursion tells apart: one bit each in a 128-bit sign vector.
const MAX_PLANES: usize = 128;

/// Regions certified per batch of forward passes.
const CERTIFY_BATCH: usize = 4096;

/// Whether [`count`] takes `domain`: the unclipped whole space of a network with one hidden layer
/// of ReLUs (no max units), for a count without region graph or checkpoint, and not on the
/// HiGHS-only reference path.
pub fn applies(net: &Network, domain: &Domain, options: &WalkOptions) -> bool {
    matches!(domain.shape(), Shape::Whole)
        && domain.clip().is_none()
        && net.hidden().len() == 1
        && net.max_windows().is_empty()
        && !options.edges
        && options.checkpoint.is_none()
        && !options.highs_only
        && matches!(options.engine, Engine::Auto | Engine::Arrangement)
}

/// Counts the regions of the whole space ([`applies`] must hold) by deletion–restriction in the
/// first layer's row space. Where the arrangement is out of its reach (more than [`MAX_PLANES`]
/// distinct hyperplanes, or a decision the floats cannot settle) the walk counts instead, unless
/// [`Engine::Arrangement`] was asked for, which then fails saying why.
pub fn count(net: &Network, domain: &Domain, options: &WalkOptions) -> Result<WalkResult> {
    let (original, started) = (net, Instant::now());
    let counted = |net: &Network, domain: &Domain, options: &WalkOptions| match arrangement(net, original, options) {
        Ok(mut result) => {
            if let Some(sink) = &options.sink {
                result.regions.iter().enumerate().try_for_each(|(i, r)| (sink.0)(i, r))?;
            }
            if !keeps_regions(options) {
                result.regions = Vec::new();
            }
            Ok(result)
        }
        Err(why) if options.engine == Engine::Arrangement => {
            Err(Error::Settings(format!("the arrangement engine cannot count this network: {why}; use the walk")))
        }
        // The walk gets what is left of the time limit.
        Err(_) => {
            let time_limit = options.time_limit.map(|t| t.saturating_sub(started.elapsed()));
            walk(net, domain, &WalkOptions { time_limit, ..options.clone() })
        }
    };
    in_row_space(net, domain, options, counted, |r| Some(r))
}

/// Why the arrangement engine handed a count on.
type Refusal = String;

/// The count by deletion–restriction for `net` (the model's network, or `original` in its first
/// layer's row space), with every region listed, or why it cannot be trusted.
fn arrangement(net: &Network, original: &Network, options: &WalkOptions) -> std::result::Result<WalkResult, Refusal> {
    let started = Instant::now();
    let arrangement = Arrangement::of(net, original)?;
    let m = net.input_dim();
    // Cells held: this stage's and the next one's, and the map of the largest restriction (the
    // last stage is streamed, but a budget's stop applies it).
    let per_cell = 2 * (16 + 8 * m as u64) + 48;
    let budget = Budget::new(options, options.time_limit.map(|t| started + t), per_cell, 0);
    let search = Search { arrangement: &arrangement, budget: &budget, progress: options.progress.as_ref() };
    let top: Vec<Plane> = (0..arrangement.rows.len())
        .map(|id| {
            let (w, b) = &arrangement.rows[id];
            let norm = dot(w, w).sqrt();
            Plane { id, normal: w.iter().map(|x| x / norm).collect(), offset: b / norm }
        })
        .collect();
    let (stage, decided, stopped) = match search.cells(&top, &mut Vec::new(), m, true) {
        Ok(stage) => (stage, top.len(), None),
        Err(Failure::Stopped(reason, Some((cells, decided)))) => (Stage::settled(&top, cells), decided, Some(reason)),
        Err(Failure::Stopped(_, None)) => unreachable!("the top level keeps its cells"),
        Err(Failure::Unsettled(why)) => return Err(why),
    };
    // The cells before the last hyperplane have distinct signs exactly when the cells after it do
    // (a cut cell's two sides differ in its bit; ties are functions of the other bits).
    let mut signs = stage.cells.signs.clone();
    signs.sort_unstable();
    if signs.windows(2).any(|w| w[0] == w[1]) {
        return Err("two cells with the same signs".into());
    }
    drop(signs);
    // The region list only where it is wanted: on 10⁶ regions it is most of the memory.
    let listing = keeps_regions(options) || options.sink.is_some();
    let Certified { regions, counted, start, counters, unverified } =
        certify(net, &arrangement, &top[..decided], stage, listing)?;
    if unverified > 0 && options.engine != Engine::Arrangement {
        return Err(format!("{unverified} cells without a certified witness"));
    }
    let result = WalkResult {
        start,
        counted,
        regions,
        completeness: stopped.map_or(Completeness::Complete, Completeness::Stopped),
        counters,
        unverified,
        seconds: started.elapsed().as_secs_f64(),
        ..WalkResult::empty(Engine::Arrangement)
    };
    report(options.progress.as_ref(), result.counted, true);
    Ok(result)
}

/// The first layer's hyperplanes (non-zero rows; zero rows are constant neurons) and what is known
/// exactly about them.
struct Arrangement {
    /// Normal and offset of each hyperplane in the row space the recursion runs in.
    rows: Vec<(Vec<f64>, f64)>,
    /// The same hyperplanes as the model has them, for exact decisions: the row space's floats
    /// are rounded images, in which exactly parallel hyperplanes need not stay parallel.
    exact: Vec<(Vec<f64>, f64)>,
    /// The neuron of each hyperplane.
    neuron: Vec<usize>,
    /// For each hyperplane, the first one whose normal is an exact multiple of its own.
    normal_class: Vec<usize>,
    /// For each hyperplane, the first one whose normal and offset are an exact multiple of its own.
    plane_class: Vec<usize>,
}

impl Arrangement {
    /// The hyperplanes of `net`, the network `original` in its first layer's row space (or
    /// `original` itself).
    fn of(net: &Network, original: &Network) -> std::result::Result<Self, Refusal> {
        let row = |net: &Network, j: usize| {
            let first = &net.layers()[0];
            let mut w = vec![0.0; net.input_dim()];
            first.weight.row(j).for_each(|(i, x)| w[i] = x);
            (w, first.bias[j])
        };
        let mut rows = Vec::new();
        let mut exact = Vec::new();
        let mut neuron = Vec::new();
        for j in 0..original.layers()[0].weight.nrows() {
            let (model, reduced) = (row(original, j), row(net, j));
            match (model.0.iter().any(|&x| x != 0.0), reduced.0.iter().any(|&x| x != 0.0)) {
                (true, true) => {
                    rows.push(reduced);
                    exact.push(model);
                    neuron.push(j);
                }
                (false, false) => {}
                _ => return Err("a neuron whose row vanishes in the row space".into()),
            }
        }
        if rows.len() > MAX_PLANES {
            return Err(format!("{} hyperplanes, above the {MAX_PLANES} it tells apart", rows.len()));
        }
        let normals: Vec<Vec<f64>> = exact.iter().map(|(w, _)| w.clone()).collect();
        let planes: Vec<Vec<f64>> = exact.iter().map(|(w, b)| w.iter().copied().chain([*b]).collect()).collect();
        Ok(Arrangement {
            normal_class: proportional_classes(&normals),
            plane_class: proportional_classes(&planes),
            rows,
            exact,
            neuron,
        })
    }

    /// How hyperplane `p` meets the flat where the hyperplanes `on` (linearly independent normals)
    /// all vanish, decided exactly.
    fn relation(&self, on: &[usize], p: usize) -> Relation {
        // Parallel to one of them: disjoint from it, or the same hyperplane.
        if let Some(&q) = on.iter().find(|&&q| self.normal_class[q] == self.normal_class[p]) {
            return if self.plane_class[q] == self.plane_class[p] { Relation::Contains } else { Relation::Misses };
        }
        let q = |v: f64| BigRational::from_float(v).expect("network weights are finite");
        let normal = |j: usize| self.exact[j].0.iter().map(|&v| q(v)).collect::<Vec<_>>();
        let full = |j: usize| normal(j).into_iter().chain([q(self.exact[j].1)]).collect::<Vec<_>>();
        let on_normals: Vec<Vec<BigRational>> = on.iter().map(|&j| normal(j)).collect();
        if rank(on_normals.into_iter().chain([normal(p)]).collect()) > on.len() {
            return Relation::Meets;
        }
        if rank(on.iter().map(|&j| full(j)).chain([full(p)]).collect()) > on.len() {
            Relation::Misses
        } else {
            Relation::Contains
        }
    }
}

/// How a hyperplane meets a flat of the arrangement.
#[derive(Debug, PartialEq)]
enum Relation {
    /// In a hyperplane of the flat.
    Meets,
    /// Not at all: it keeps one sign on the flat.
    Misses,
    /// It holds the whole flat.
    Contains,
}

/// A hyperplane `normal·z + offset = 0` of a flat, in the flat's coordinates (unit normal), with
/// the arrangement's index.
#[derive(Clone, Debug)]
struct Plane {
    id: usize,
    normal: Vec<f64>,
    offset: f64,
}

/// Cells of an arrangement: for each, its signs on the flat's hyperplanes (bit `i` set: positive
/// side of hyperplane `i`) and a witness point.
struct Cells {
    dim: usize,
    signs: Vec<u128>,
    points: Vec<f64>,
}

impl Cells {
    fn one(dim: usize) -> Self {
        Cells { dim, signs: vec![0], points: vec![0.0; dim] }
    }

    fn with_capacity(dim: usize, n: usize) -> Self {
        Cells { dim, signs: Vec::with_capacity(n), points: Vec::with_capacity(n * dim) }
    }

    fn len(&self) -> usize {
        self.signs.len()
    }

    fn point(&self, c: usize) -> &[f64] {
        &self.points[c * self.dim..(c + 1) * self.dim]
    }

    fn push(&mut self, signs: u128, point: impl IntoIterator<Item = f64>) {
        self.signs.push(signs);
        self.points.extend(point);
    }

    /// Gives each tied hyperplane its sign ([`tied`]).
    fn tie(&mut self, ties: &[(usize, usize, bool)]) {
        self.signs.iter_mut().for_each(|signs| *signs = tied(*signs, ties));
    }
}

/// `signs` with each tied hyperplane `k` given the sign of the one it is tied to (`i`), or the
/// opposite.
fn tied(mut signs: u128, ties: &[(usize, usize, bool)]) -> u128 {
    for &(k, i, same) in ties {
        let bit = ((signs >> i) & 1 == 1) == same;
        signs |= u128::from(bit) << k;
    }
    signs
}

/// The cells of an arrangement with its last hyperplane added but not applied: the cells before
/// it, and that hyperplane's restriction matched to the cells it cuts. The top level's last stage
/// is never applied: its cells go one by one to `certify` (each cell before it gives one or two),
/// so that they are never all held (~80 bytes a cell in 8 inputs).
struct Stage<'p> {
    planes: &'p [Plane],
    cells: Cells,
    last: Option<Added>,
    active: Vec<bool>,
    /// Hyperplanes that are an earlier one on this flat: (this one, that one, whether they face
    /// the same way); their signs are given at the end, so that the signs matched meanwhile hold
    /// the active hyperplanes only.
    ties: Vec<(usize, usize, bool)>,
}

/// What a cell becomes when a hyperplane is applied ([`Stage::becomes`]).
enum Becomes {
    Kept(u128),
    /// The positive side, then the negative one.
    Cut([(u128, Vec<f64>); 2]),
}

/// Hyperplane `k` of a stage, with its flat's coordinates (`flip`, `foot`) and the cells of its
/// restriction (`sub`), each matched to the stage's cell it cuts (`cut`: signs to `sub`'s index).
struct Added {
    k: usize,
    flip: Householder,
    foot: Vec<f64>,
    sub: Cells,
    cut: FxHashMap<u128, usize>,
}

impl Added {
    /// Every cell of the restriction must have matched a cell it cuts.
    fn all_matched(&self) -> std::result::Result<(), Failure> {
        match self.cut.is_empty() {
            true => Ok(()),
            false => Err(unsettled("a cell of a restriction that matches no cell")),
        }
    }
}

impl<'p> Stage<'p> {
    /// A stage of `cells` with nothing left to apply.
    fn settled(planes: &'p [Plane], cells: Cells) -> Self {
        Stage { planes, cells, last: None, active: Vec::new(), ties: Vec::new() }
    }

    /// Each cell of the stage with its last hyperplane applied to `emit` (signs without the ties,
    /// and a witness), in order, the two sides of a cut cell one after the other.
    fn for_each(
        mut self,
        mut emit: impl FnMut(u128, &[f64]) -> std::result::Result<(), Failure>,
    ) -> std::result::Result<(), Failure> {
        let Some(mut added) = self.last.take() else {
            return (0..self.cells.len()).try_for_each(|c| emit(self.cells.signs[c], self.cells.point(c)));
        };
        for c in 0..self.cells.len() {
            match self.becomes(&mut added, c) {
                Becomes::Kept(signs) => emit(signs, self.cells.point(c))?,
                Becomes::Cut(sides) => sides.iter().try_for_each(|(signs, z)| emit(*signs, z))?,
            }
        }
        added.all_matched()
    }

    /// The stage with its last hyperplane applied, as a new set of cells (growing the old set in
    /// place held ~10% less but ran 10–20% slower, in fresh pages the kernel zeroes for each
    /// larger copy).
    fn applied(self) -> std::result::Result<Self, Failure> {
        let Some(added) = &self.last else { return Ok(self) };
        let mut next = Cells::with_capacity(self.cells.dim, self.cells.len() + added.sub.len());
        let (planes, active, ties) = (self.planes, self.active.clone(), self.ties.clone());
        self.for_each(|signs, z| {
            next.push(signs, z.iter().copied());
            Ok(())
        })?;
        Ok(Stage { planes, cells: next, last: None, active, ties })
    }

    /// What cell `c` becomes when `added` is applied: itself, with the new hyperplane's sign at
    /// its witness, or, when the hyperplane cuts it, its two sides (consuming the match).
    fn becomes(&self, added: &mut Added, c: usize) -> Becomes {
        let (planes, cells, k) = (self.planes, &self.cells, added.k);
        let (h, bit, signs) = (&planes[k], 1u128 << k, cells.signs[c]);
        let Some(s) = added.cut.remove(&signs) else {
            let value = dot(&h.normal, cells.point(c)) + h.offset;
            // A witness within rounding of H may be given the wrong side: `certify` checks every
            // cell's signs.
            return Becomes::Kept(if value > 0.0 { signs | bit } else { signs });
        };
        let on_h: Vec<f64> = added.flip.lift(added.sub.point(s)).iter().zip(&added.foot).map(|(u, f)| u + f).collect();
        // Half the distance to the nearest other hyperplane. Where that is rounding, the step may
        // land in the wrong cell: `certify` then finds out.
        let room = planes[..k]
            .iter()
            .zip(&self.active)
            .filter(|(_, &a)| a)
            .map(|(p, _)| 0.5 * (dot(&p.normal, &on_h) + p.offset).abs())
            .fold(WHOLE_SPACE_SLACK_CAP, f64::min);
        let side = |step: f64| {
            let mut z: Vec<f64> = on_h.iter().zip(&h.normal).map(|(y, a)| y + step * a).collect();
            toward_origin(&planes[..=k], &self.active, &mut z);
            z
        };
        Becomes::Cut([(signs | bit, side(room)), (signs, side(-room))])
    }

    /// Every cell, with the ties given.
    fn into_cells(self) -> std::result::Result<Cells, Failure> {
        let mut stage = self.applied()?;
        stage.cells.tie(&stage.ties);
        Ok(stage.cells)
    }
}

/// Why a recursion stopped.
enum Failure {
    /// A budget, with (at the top) the cells of the last finished stage and the hyperplanes it
    /// decided.
    Stopped(StopReason, Option<(Cells, usize)>),
    /// A decision the floats cannot settle.
    Unsettled(Refusal),
}

struct Search<'a> {
    arrangement: &'a Arrangement,
    budget: &'a Budget<'a>,
    progress: Option<&'a ProgressFn>,
}

impl Search<'_> {
    /// The cells of the arrangement of `planes` in a flat of dimension `m`, which is where the
    /// hyperplanes `on` vanish, with the last hyperplane not yet applied (`top`: the whole row
    /// space, whose stages are reported and kept when a budget stops).
    fn cells<'p>(
        &self,
        planes: &'p [Plane],
        on: &mut Vec<usize>,
        m: usize,
        top: bool,
    ) -> std::result::Result<Stage<'p>, Failure> {
        let mut stage =
            Stage { planes, cells: Cells::one(m), last: None, active: vec![false; planes.len()], ties: Vec::new() };
        for (k, h) in planes.iter().enumerate() {
            let stop = if top { self.budget.spent(stage.cells.len()) } else { self.budget.late_or_interrupted() };
            if let Some(reason) = stop {
                return Err(Failure::Stopped(reason, top.then(|| stage.into_cells().map(|c| (c, k))).transpose()?));
            }
            if top {
                report(self.progress, stage.cells.len(), false);
            }
            // The earlier hyperplanes on H, in the coordinates of H's flat.
            let flip = Householder::new(&h.normal);
            let foot: Vec<f64> = h.normal.iter().map(|a| -h.offset * a).collect();
            let mut restricted = Vec::new();
            let mut index = Vec::new();
            let mut constant = 0u128;
            let mut redundant = None;
            for (i, p) in planes[..k].iter().enumerate().filter(|&(i, _)| stage.active[i]) {
                let value = dot(&p.normal, &foot) + p.offset;
                let normal = flip.project(&p.normal);
                let norm = dot(&normal, &normal).sqrt();
                let relation = if norm >= RESTRICTED_NORMAL {
                    Relation::Meets
                } else if m == 1 && value.abs() > ARRANGEMENT_SIDE * (1.0 + max_abs(&foot)) {
                    // On a point every hyperplane holds it or misses it; a value clear of rounding
                    // says which.
                    Relation::Misses
                } else {
                    on.push(h.id);
                    let relation = self.arrangement.relation(on, p.id);
                    on.pop();
                    relation
                };
                match relation {
                    // A restricted normal this short is mostly rounding (its direction unknown).
                    Relation::Meets if norm >= RESTRICTED_NORMAL * RESTRICTED_NORMAL => {
                        restricted.push(Plane {
                            id: p.id,
                            normal: normal.iter().map(|a| a / norm).collect(),
                            offset: value / norm,
                        });
                        index.push(i);
                    }
                    Relation::Meets => return Err(unsettled("hyperplanes meeting at an angle below rounding")),
                    Relation::Contains => {
                        redundant = Some((i, dot(&p.normal, &h.normal) > 0.0));
                        break;
                    }
                    // A sign within rounding may be wrong: the restriction's cells then match none.
                    Relation::Misses => constant |= u128::from(value > 0.0) << i,
                }
            }
            if let Some((i, same)) = redundant {
                // The same hyperplane as an earlier one on this flat: it cuts nothing new.
                stage.ties.push((k, i, same));
                continue;
            }
            stage = stage.applied()?;
            stage.active[k] = true;
            on.push(h.id);
            let sub = self.cells(&restricted, on, m - 1, false).and_then(Stage::into_cells);
            on.pop();
            let sub = match sub {
                Ok(sub) => sub,
                Err(Failure::Stopped(reason, _)) => {
                    return Err(Failure::Stopped(reason, top.then(|| stage.into_cells().map(|c| (c, k))).transpose()?));
                }
                Err(unsettled) => return Err(unsettled),
            };
            let mut cut: FxHashMap<u128, usize> = FxHashMap::default();
            cut.reserve(sub.len());
            for s in 0..sub.len() {
                let signs =
                    index.iter().enumerate().fold(constant, |acc, (b, &i)| acc | ((sub.signs[s] >> b) & 1) << i);
                if cut.insert(signs, s).is_some() {
                    return Err(unsettled("two cells of a restriction with the same signs"));
                }
            }
            stage.last = Some(Added { k, flip, foot, sub, cut });
        }
        Ok(stage)
    }
}

/// Moves `z` halfway to where the segment from `z` to the flat's origin first meets one of the
/// `active` hyperplanes of `planes` (all the way when it meets none), so that it stays in its cell.
///
/// A new cell's witness starts next to the vertex where its recursion began, which may be far out
/// where the cell is thin; the flat's origin is the point of the flat nearest the input origin, and
/// a witness moved toward it has more room, which the forward pass certifying it needs.
fn toward_origin(planes: &[Plane], active: &[bool], z: &mut [f64]) {
    let mut reach = 1.0f64;
    for p in planes.iter().zip(active).filter(|(_, &a)| a).map(|(p, _)| p) {
        let at_z = dot(&p.normal, z) + p.offset;
        // Value at the origin: p.offset; the segment reaches the hyperplane where the value
        // changes sign or vanishes (a hyperplane through the origin).
        if at_z * p.offset <= 0.0 {
            reach = reach.min(0.5 * at_z / (at_z - p.offset));
        }
    }
    z.iter_mut().for_each(|x| *x -= reach * *x);
}

fn max_abs(x: &[f64]) -> f64 {
    x.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

fn unsettled(why: &str) -> Failure {
    Failure::Unsettled(why.to_string())
}

/// What the witnesses of the cells found certify: the regions (listed when asked), and the cells
/// left out as the other engines leave them out (slivers, `touching`; witnesses the network
/// disagrees with, `unverified`).
struct Certified {
    regions: Vec<Region>,
    counted: usize,
    /// The first region's witness.
    start: Option<Vec<f64>>,
    counters: LpCounters,
    unverified: u64,
}

/// Certifies the cells' witnesses, as the stage gives them (in batches of [`CERTIFY_BATCH`]): a
/// cell counts when its witness has more than [`DECIDE`] to every `decided` hyperplane and a
/// forward pass gives it the cell's signs. Otherwise, as in the box partition, the cell's
/// Chebyshev LP looks for a better witness, and a cell without one with that margin is a sliver.
/// Regions are listed when `listing`.
fn certify(
    net: &Network,
    arrangement: &Arrangement,
    decided: &[Plane],
    mut stage: Stage,
    listing: bool,
) -> std::result::Result<Certified, Refusal> {
    let m = stage.cells.dim;
    let mut out =
        Certified { regions: Vec::new(), counted: 0, start: None, counters: LpCounters::default(), unverified: 0 };
    let ties = std::mem::take(&mut stage.ties);
    let mut batch = Cells::with_capacity(m, CERTIFY_BATCH);
    let mut run = |batch: &mut Cells| {
        let done = certify_batch(net, arrangement, decided, batch, listing, &mut out);
        *batch = Cells::with_capacity(m, CERTIFY_BATCH);
        done.map_err(|e| Failure::Unsettled(e.to_string()))
    };
    let streamed = stage.for_each(|signs, z| {
        batch.push(tied(signs, &ties), z.iter().copied());
        if batch.len() == CERTIFY_BATCH {
            run(&mut batch)?;
        }
        Ok(())
    });
    match streamed.and_then(|()| run(&mut batch)) {
        Ok(()) => Ok(out),
        Err(Failure::Unsettled(why)) => Err(why),
        Err(Failure::Stopped(..)) => unreachable!("certifying has no budget"),
    }
}

/// Certifies one batch of cells ([`certify`]), adding to `out`.
fn certify_batch(
    net: &Network,
    arrangement: &Arrangement,
    decided: &[Plane],
    cells: &Cells,
    listing: bool,
    out: &mut Certified,
) -> Result<()> {
    let m = cells.dim;
    let whole = Domain::whole(m);
    let agrees = |pattern: &Pattern, signs: u128| {
        decided.iter().all(|p| pattern.get(arrangement.neuron[p.id]) == ((signs >> p.id) & 1 == 1))
    };
    let room =
        |z: &[f64]| decided.iter().map(|p| (dot(&p.normal, z) + p.offset).abs()).fold(WHOLE_SPACE_SLACK_CAP, f64::min);
    let points = Array2::from_shape_vec((cells.len(), m), cells.points.clone()).expect("m coordinates per cell");
    for (c, pattern) in (0..cells.len()).zip(net.interior_patterns(&points)) {
        let (z, signs) = (cells.point(c), cells.signs[c]);
        let inradius = room(z);
        let (witness, inradius, pattern) = match pattern {
            Some(pattern) if inradius > DECIDE && agrees(&pattern, signs) => (z.to_vec(), inradius, pattern),
            _ => {
                let sides: Vec<Halfspace> = decided
                    .iter()
                    .map(|p| {
                        let sign = if (signs >> p.id) & 1 == 1 { 1.0 } else { -1.0 };
                        Halfspace { normal: p.normal.iter().map(|a| sign * a).collect(), offset: sign * p.offset }
                    })
                    .collect();
                let refs: Vec<&Halfspace> = sides.iter().collect();
                match meets(&whole, &refs, None, &mut out.counters)? {
                    Decision::Meets { witness, slack } => match net.interior_pattern(&witness) {
                        Some(pattern) if agrees(&pattern, signs) => (witness, slack, pattern),
                        _ => {
                            out.unverified += 1;
                            continue;
                        }
                    },
                    // A sliver (tallied as touching by the LP) or, against the recursion, empty.
                    Decision::Touching => continue,
                    _ => {
                        out.unverified += 1;
                        continue;
                    }
                }
            }
        };
        out.counted += 1;
        if out.start.is_none() {
            out.start = Some(witness.clone());
        }
        if listing {
            out.regions.push(Region { pattern, witness: Some(witness), inradius: Some(inradius) });
        }
    }
    Ok(())
}

fn report(progress: Option<&ProgressFn>, regions: usize, finished: bool) {
    if let Some(ProgressFn(call)) = progress {
        call(Progress { regions, frontier: 0, lp_solves: 0, finished });
    }
}

/// The reflection `I − 2vvᵀ/vᵀv` that maps a coordinate axis `e_j` onto `∓a` for a unit vector
/// `a`: its other columns are an orthonormal basis of `a`'s orthogonal complement, which is how a
/// flat's hyperplane gets coordinates of its own.
struct Householder {
    v: Vec<f64>,
    vv: f64,
    j: usize,
}

impl Householder {
    fn new(a: &[f64]) -> Self {
        let j = (0..a.len()).max_by(|&x, &y| a[x].abs().total_cmp(&a[y].abs())).expect("a flat of dimension ≥ 1");
        let mut v = a.to_vec();
        v[j] += a[j].signum();
        let vv = dot(&v, &v);
        Householder { v, vv, j }
    }

    fn reflect(&self, x: &mut [f64]) {
        let f = 2.0 * dot(&self.v, x) / self.vv;
        x.iter_mut().zip(&self.v).for_each(|(x, v)| *x -= f * v);
    }

    /// Coordinates in the complement of `x`'s component across it.
    fn project(&self, x: &[f64]) -> Vec<f64> {
        let mut y = x.to_vec();
        self.reflect(&mut y);
        y.remove(self.j);
        y
    }

    /// The point of the complement with coordinates `u`.
    fn lift(&self, u: &[f64]) -> Vec<f64> {
        let mut x = u.to_vec();
        x.insert(self.j, 0.0);
        self.reflect(&mut x);
        x
    }
}

/// Rank of rational vectors (Gaussian elimination).
fn rank(mut rows: Vec<Vec<BigRational>>) -> usize {
    let columns = rows.first().map_or(0, Vec::len);
    let mut rank = 0;
    for c in 0..columns {
        let Some(p) = (rank..rows.len()).find(|&r| !rows[r][c].is_zero()) else { continue };
        rows.swap(rank, p);
        for r in rank + 1..rows.len() {
            if rows[r][c].is_zero() {
                continue;
            }
            let f = &rows[r][c] / &rows[rank][c];
            let (pivot, below) = rows.split_at_mut(r);
            for (x, p) in below[0][c..].iter_mut().zip(&pivot[rank][c..]) {
                *x -= &f * p;
            }
        }
        rank += 1;
    }
    rank
}

/// For each vector, the index of the first vector that is an exact non-zero multiple of it.
///
/// Decided on exact products: `a·d = b·c` holds for floats exactly when their rounded products and
/// the products' rounding errors (`mul_add`) agree. Below `MIN_POSITIVE / EPSILON` a product's
/// rounding error may itself be rounded (subnormal): such products never match, and the exact
/// relation test decides instead (`Arrangement::relation`).
fn proportional_classes(vectors: &[Vec<f64>]) -> Vec<usize> {
    let exact = |a: f64, b: f64| {
        let p = a * b;
        (p, a.mul_add(b, -p))
    };
    let tiny = |p: f64| p != 0.0 && p.abs() < f64::MIN_POSITIVE / f64::EPSILON;
    let cross_equal = |a: f64, d: f64, b: f64, c: f64| {
        let (x, y) = (exact(a, d), exact(b, c));
        x == y && !tiny(x.0) && !tiny(y.0)
    };
    let proportional = |u: &[f64], v: &[f64]| {
        (0..u.len()).all(|i| (u[i] == 0.0) == (v[i] == 0.0))
            && (0..u.len()).all(|i| (i + 1..u.len()).all(|k| cross_equal(u[i], v[k], u[k], v[i])))
    };
    let mut class: Vec<usize> = Vec::with_capacity(vectors.len());
    for j in 0..vectors.len() {
        let c = (0..j).find(|&i| class[i] == i && proportional(&vectors[i], &vectors[j])).unwrap_or(j);
        class.push(c);
    }
    class
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn householder_gives_orthonormal_coordinates_on_a_hyperplane() {
        let a = [0.6, -0.8, 0.0];
        let h = Householder::new(&a);
        for u in [[1.0, 0.0], [0.0, 1.0], [0.3, -2.0]] {
            let x = h.lift(&u);
            assert!(dot(&x, &a).abs() < 1e-15, "lifted points lie in a's complement");
            assert!((dot(&x, &x) - dot(&u, &u)).abs() < 1e-12, "lengths are kept");
            let back = h.project(&x);
            assert!(back.iter().zip(&u).all(|(p, q)| (p - q).abs() < 1e-15));
        }
        assert!(h.project(&a).iter().all(|x| x.abs() < 1e-15), "a itself projects to 0");
    }

    #[test]
    fn exact_relations_of_a_plane_to_a_flat() {
        // In 3-D: x = 0 and y = 0 meet in the z axis.
        let rows = vec![
            vec![1.0, 0.0, 0.0, 0.0],
            vec![0.0, 1.0, 0.0, 0.0],
            vec![1.0, 1.0, 0.0, 0.0],  // holds the axis
            vec![1.0, 1.0, 0.0, 1.0],  // parallel to the axis, missing it
            vec![0.0, 0.0, 1.0, -1.0], // meets it at z = 1
            vec![2.0, 0.0, 0.0, 0.0],  // x = 0 again
            vec![3.0, 0.0, 0.0, 1.0],  // parallel to x = 0
        ];
        let arrangement = Arrangement {
            rows: rows.iter().map(|r| (r[..3].to_vec(), r[3])).collect(),
            exact: rows.iter().map(|r| (r[..3].to_vec(), r[3])).collect(),
            neuron: (0..rows.len()).collect(),
            normal_class: proportional_classes(&rows.iter().map(|r| r[..3].to_vec()).collect::<Vec<_>>()),
            plane_class: proportional_classes(&rows),
        };
        assert_eq!(arrangement.normal_class, vec![0, 1, 2, 2, 4, 0, 0]);
        assert_eq!(arrangement.plane_class, vec![0, 1, 2, 3, 4, 0, 6]);
        assert_eq!(arrangement.relation(&[0, 1], 2), Relation::Contains);
        assert_eq!(arrangement.relation(&[0, 1], 3), Relation::Misses);
        assert_eq!(arrangement.relation(&[0, 1], 4), Relation::Meets);
        assert_eq!(arrangement.relation(&[0], 5), Relation::Contains);
        assert_eq!(arrangement.relation(&[0], 6), Relation::Misses);
    }
}
