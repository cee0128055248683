//! Expanding one region of the walk (docs/exact.md, "The walk").
//!
//! Per region: (1) build the region's constraints from its pattern (neurons proved stable over the
//! domain left out), (2) certify the region with a witness point (stepped in from the facet it was
//! entered through, else the dual solver, else a Chebyshev LP plus the distance QP for a ball),
//! (3) drop hyperplanes that cannot bound a facet inside the domain (the domain, the propagated
//! box, the corners of region ∩ box), (4) group coincident hyperplanes into classes (duplicated,
//! opposite and scaled neurons flip together), and (5) for each class compute the neighbour's
//! pattern *combinatorially* and, only if that pattern is new, decide whether the shared facet
//! meets the domain by the cheapest exact test.

use super::geometry::{facet_on_line, propagated_box, separated, separation_applies, witness_beside};
use super::vertices::{corners_on, facet_misses_ball, facet_point, may_bound_facet, vertices, Corners, MAX_DIM};
use crate::analysis::interval::{analyse, window_fates, Bounds, Status};
use crate::analysis::set::InputSet;
use crate::domain::{misses_box, Domain, Halfspace};
use crate::lp::{decide_by_dual, decide_in, refutes, Decision, LpCounters, Refutation, RegionLp};
use crate::model::{chosen, difference, Difference, LayerMaps, MaxWindows, Network, NeuronKind, Pattern, Surrogate};
use crate::tolerance::{BOX_SLACK, COINCIDENT};
use crate::vector::Compact;
use crate::Result;
use rustc_hash::{FxHashMap, FxHashSet};
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Most corners the vertex enumeration of one region may reach before the walk falls back to the
/// dual solver. Each cut pairs every corner kept with every corner dropped, so large corner sets
/// cost more than the few solves they save: with 4,096, the 8-64-64 L2 suite case spent 85% of
/// its time enumerating and ran at 92 regions/s; with 256 (the 8-D box's own corner count) it
/// runs at 1,870 regions/s with 2.3 solves per region. Up to 5 inputs (ACAS Xu) the cap is never
/// reached in the suite.
const MAX_CORNERS: usize = 256;

/// What expanding one region produced.
#[derive(Default)]
pub(crate) struct Expansion {
    pub(crate) witness: Option<(Vec<f64>, f64)>,
    /// Neighbours across facets that meet the domain, with the neurons that flip and the way in.
    pub(crate) neighbours: Vec<(Pattern, Vec<usize>, Entry)>,
    pub(crate) counters: LpCounters,
    pub(crate) screened: u64,
    pub(crate) known: u64,
    /// The facets it refuted with multipliers.
    pub(crate) refuted: Arc<Refuted>,
}

/// How the walk entered a region: a point on the facet it crossed (frame coordinates) and the
/// direction into the region, from which [`witness_beside`] finds the region's witness without an LP.
/// The dataflow walk sends it with the pattern to the pattern's owner, so the witness is not
/// solved again there.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Entry {
    point: Vec<f64>,
    direction: Compact,
    /// The facets the region entered from proved absent, with their certificates (only a hint:
    /// not sent between processes).
    #[serde(skip)]
    refuted: Arc<Refuted>,
    /// Bytes `refuted` holds (shared with the region's siblings; counted for each, so that the
    /// frontier's memory budget is never an underestimate).
    #[serde(skip)]
    hint_bytes: usize,
}

impl Entry {
    /// Bytes it occupies on the wire (the point and the direction).
    pub(crate) fn wire_bytes(&self) -> usize {
        8 * self.point.len() + self.direction.heap_bytes() + 16
    }

    /// Bytes it holds in memory: the point, the direction and the refutation hints.
    pub(crate) fn held_bytes(&self) -> usize {
        self.wire_bytes() + self.hint_bytes
    }

    /// The entry as the walk's frontier writes it to disk: with its refutation hints, which
    /// halve the dual solves of a 784-input walk (they are shared by siblings in memory, and
    /// copied per region on disk).
    pub(crate) fn spilled(&self) -> SpilledEntry {
        SpilledEntry { point: self.point.clone(), direction: self.direction.clone(), refuted: (*self.refuted).clone() }
    }
}

/// An [`Entry`] as a spilled frontier segment holds it.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct SpilledEntry {
    point: Vec<f64>,
    direction: Compact,
    refuted: Refuted,
}

impl From<SpilledEntry> for Entry {
    fn from(s: SpilledEntry) -> Entry {
        let hint_bytes = s.refuted.heap_bytes();
        Entry { point: s.point, direction: s.direction, refuted: Arc::new(s.refuted), hint_bytes }
    }
}

/// Facets a region proved absent with dual multipliers, keyed by the facet's neuron. A neighbour's
/// constraints are mostly the region's own (a flip in layer ℓ changes nothing before ℓ), so the
/// same multipliers, applied to the neighbour's rows and checked there ([`refutes`]), often
/// refute the same facet without a solve.
#[derive(Default, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Refuted(FxHashMap<usize, Vec<Certificate>>);

/// Certificates the walk keeps per neuron (the latest ones) to try on regions that did not inherit
/// one that works. Each try costs a pass over the coordinates and most facets that no certificate
/// refutes try them all: on MNIST 10x10 (L-inf 0.01) 32 made 1.5 M tries for 172 k refutations,
/// 4 makes 0.4 M for 159 k and the walk 1.15× faster; the L2 suite cases do not change.
const KEPT_PER_NEURON: usize = 4;

impl Refuted {
    /// Bytes its certificates hold on the heap (estimated: map slots, vectors and rows).
    pub(crate) fn heap_bytes(&self) -> usize {
        let certificate = |c: &Certificate| 40 + 24 * c.rows.len();
        self.0.values().map(|cs| 48 + cs.iter().map(certificate).sum::<usize>()).sum()
    }

    /// Adds `other`'s certificates before the ones held for the same neuron, keeping the latest
    /// [`KEPT_PER_NEURON`].
    pub(crate) fn update(&mut self, other: &Refuted) {
        for (k, certificates) in &other.0 {
            let held = self.0.entry(*k).or_default();
            held.splice(0..0, certificates.iter().cloned());
            held.truncate(KEPT_PER_NEURON);
        }
    }
}

/// A refutation's multipliers by neuron: `(neuron, its sign in the region, multiplier)`, sorted
/// by neuron, plus the facet's own (the equality's) multiplier.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Certificate {
    equality: f64,
    rows: Vec<(usize, bool, f64)>,
}

impl Certificate {
    /// Keys the multipliers of `refutation` (one per row of `ids`, in ascending neuron order) by
    /// neuron, keeping the nonzero ones.
    fn keyed(refutation: Refutation, ids: &[usize], pattern: &Pattern) -> Self {
        let rows = ids
            .iter()
            .zip(refutation.inequalities)
            .filter(|(_, l)| *l > 0.0)
            .map(|(&k, l)| (k, pattern.get(k), l))
            .collect();
        Certificate { equality: refutation.equality, rows }
    }

    /// The multipliers for another region's rows `ids` (ascending): a neuron's multiplier where
    /// it has the same sign there, zero elsewhere (any nonnegative multipliers are valid; these
    /// are the ones likely to still prove something).
    fn for_rows(&self, ids: &[usize], pattern: &Pattern) -> Refutation {
        let inequalities = ids
            .iter()
            .map(|&k| match self.rows.binary_search_by_key(&k, |r| r.0) {
                Ok(i) if self.rows[i].1 == pattern.get(k) => self.rows[i].2,
                _ => 0.0,
            })
            .collect();
        Refutation { equality: self.equality, inequalities }
    }
}

/// What every expansion shares: the problem and the neurons proved stable over the domain.
pub(crate) struct Context<'a> {
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
    /// When the walk's time runs out.
    deadline: Option<Instant>,
    /// Set by Ctrl-C (or the caller) to stop the walk.
    interrupt: Option<Arc<AtomicBool>>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(
        net: &'a Network,
        domain: &'a Domain,
        dual: bool,
        deadline: Option<Instant>,
        interrupt: Option<Arc<AtomicBool>>,
    ) -> Self {
        let bounds = analyse(net, &InputSet::new(domain)).combined;
        Self::with_bounds(net, domain, &bounds, dual, deadline, interrupt)
    }

    /// As [`Context::new`], with the domain's interval analysis already done (`bounds`: the
    /// combined intervals per layer), so that workers of the dataflow walk analyse once.
    pub(crate) fn with_bounds(
        net: &'a Network,
        domain: &'a Domain,
        bounds: &[Bounds],
        dual: bool,
        deadline: Option<Instant>,
        interrupt: Option<Arc<AtomicBool>>,
    ) -> Self {
        let mut stable = bounds
            .iter()
            .flat_map(|b| {
                (0..b.lower.len()).map(move |j| match b.status(j) {
                    Status::Active if b.lower[j] > 0.0 => Some(true),
                    Status::Inactive if b.upper[j] < 0.0 => Some(false),
                    _ => None,
                })
            })
            .collect::<Vec<Option<bool>>>();
        // A max-window candidate is stably a loser where some candidate is always larger, and
        // stably the argmax where it is always larger than every other one.
        for (k, fate) in window_fates(net, bounds).into_iter().enumerate() {
            if net.max_windows().of(k).is_some() {
                stable[k] = fate;
            }
        }
        let (mut stable_mask, mut stable_signs) = (Pattern::zeros(stable.len()), Pattern::zeros(stable.len()));
        for (k, s) in stable.iter().enumerate() {
            if let Some(active) = s {
                stable_mask.set(k, true);
                stable_signs.set(k, *active);
            }
        }
        Context { net, domain, stable, stable_mask, stable_signs, dual, deadline, interrupt }
    }

    /// Whether the time limit has passed or the walk was interrupted: checked before each region
    /// and between the facet tests of one (a region of a wide CNN can hold thousands of them).
    pub(crate) fn out_of_budget(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
            || self.interrupt.as_ref().is_some_and(|f| f.load(Ordering::Relaxed))
    }

    /// The dual solver's certified answer, if enabled and if it has one ([`decide_by_dual`]),
    /// with the multipliers of a "disjoint".
    fn dual(
        &self,
        inequalities: &[&Halfspace],
        equality: Option<&Halfspace>,
        counters: &mut LpCounters,
    ) -> Option<(Decision, Option<Refutation>)> {
        if !self.dual {
            return None;
        }
        counters.dual_solves += 1;
        let answer = decide_by_dual(self.domain, inequalities, equality);
        counters.dual_fallbacks += u64::from(answer.is_none());
        answer
    }

    /// Whether `pattern` contradicts a neuron's proved sign (then it has no point in the domain).
    fn contradicts(&self, pattern: &Pattern) -> bool {
        pattern.disagrees_on(&self.stable_signs, &self.stable_mask)
    }
}

/// The region's constraints in frame coordinates: `(neuron, halfspace)` for every varying neuron,
/// oriented so that the region is the positive side, and for every max-window candidate that is
/// not its window's argmax `j`, the constraint `z_j − z_k > 0` keyed by the candidate `k`. `None`
/// if the pattern contradicts a constant neuron or difference (an empty region).
pub fn region_constraints(
    net: &Network,
    domain: &Domain,
    pattern: &Pattern,
    sur: &Surrogate,
) -> Option<Vec<(usize, Halfspace)>> {
    let row = |k: usize| sur.a.row(k).to_slice().map_or_else(|| sur.a.row(k).to_vec().into(), Into::into);
    let windows = net.max_windows();
    constraints_where(domain, pattern, &sur.kind, windows, |k| (row(k), sur.beta[k]), |_| true).map(|(c, _)| c)
}

/// A region's constraints `(unit, halfspace)` in unit order, and the max-window candidates tied
/// with their window's argmax ([`constraints_where`]).
type Constraints = (Vec<(usize, Halfspace)>, Vec<usize>);

/// [`region_constraints`] for the varying neurons that `wanted` selects (the walk leaves out
/// neurons proved stable over the domain: their hyperplanes bound nothing inside it), with each
/// neuron's surrogate `(a_k, β_k)` read through `surrogate` (the walk reads the layer maps in
/// place instead of copying them into one matrix); also the candidates that are the same function
/// as their window's argmax (ties that split nothing, but may beyond a facet).
fn constraints_where<'a>(
    domain: &Domain,
    pattern: &Pattern,
    kind: &[NeuronKind],
    windows: &MaxWindows,
    surrogate: impl Fn(usize) -> (std::borrow::Cow<'a, [f64]>, f64),
    wanted: impl Fn(usize) -> bool,
) -> Option<Constraints> {
    let mut out = Vec::with_capacity(kind.len());
    let mut ties = Vec::new();
    // The current window's start, its argmax and the argmax's surrogate, read once per window.
    let mut argmax: Option<(usize, usize, std::borrow::Cow<'a, [f64]>, f64)> = None;
    for (k, kind_k) in kind.iter().enumerate() {
        if let Some(window) = windows.of(k) {
            if argmax.as_ref().is_none_or(|(start, ..)| *start != window.start) {
                let j = chosen(|i| pattern.get(i), window.clone())?;
                let (a, beta) = surrogate(j);
                argmax = Some((window.start, j, a, beta));
            }
            let (_, j, aj, beta_j) = argmax.as_ref().expect("just read");
            let j = *j;
            if k == j || !wanted(k) {
                continue;
            }
            let (ak, beta_k) = surrogate(k);
            match difference((aj, *beta_j, kind[j]), (&ak, beta_k, *kind_k)) {
                Difference::Varying(a, beta) => out.push((k, domain.halfspace(a, beta)?)),
                Difference::Constant(c) if c < 0.0 => return None,
                Difference::Identical if k < j => return None,
                Difference::Identical => ties.push(k),
                Difference::Constant(_) => {}
            }
            continue;
        }
        let sign = if pattern.get(k) { 1.0 } else { -1.0 };
        match kind_k {
            NeuronKind::Varying if !wanted(k) => {}
            NeuronKind::Varying => {
                let (a, beta) = surrogate(k);
                let h = domain.halfspace(a.iter().map(|v| sign * v), sign * beta)?;
                out.push((k, h));
            }
            NeuronKind::Constant if (surrogate(k).1 > 0.0) != pattern.get(k) => return None,
            NeuronKind::Zero if pattern.get(k) => return None,
            _ => {}
        }
    }
    Some((out, ties))
}

/// What the walk knew when a chunk started: found regions and, when edges are recorded, the
/// adjacencies already confirmed.
pub(crate) struct Known<'a> {
    pub(crate) visited: &'a super::visited::Visited,
    pub(crate) edges: Option<&'a FxHashSet<(usize, usize)>>,
    pub(crate) index: usize,
}

impl Known<'_> {
    /// Whether the facet test towards `far` can be skipped.
    fn settled(&self, far: &Pattern) -> bool {
        match (self.visited.get(far), self.edges) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(j), Some(edges)) => edges.contains(&(self.index.min(j), self.index.max(j))),
        }
    }
}

/// A region after the cheap part of its expansion: its witness, its constraints and the facet
/// tests still to do. The walk collects the neighbours every region of a chunk proposes before any
/// test runs, so that a neighbour proposed by several regions is tested from the first of them
/// only, and from the others only if that test fails ([`Prepared::decide`]).
pub(crate) struct Prepared {
    pattern: Pattern,
    /// The constraints that meet the domain.
    kept: Kept,
    corners: Option<Corners>,
    pending: Vec<Pending>,
    /// The refutations of the region it was entered from.
    inherited: Option<Arc<Refuted>>,
    /// Facets found: (index into `kept`, neighbour pattern, point on the facet).
    found: Vec<(usize, Pattern, Vec<f64>)>,
    refuted: Refuted,
    expansion: Expansion,
    /// The budget ran out during its facet tests: the region is put back, unexpanded.
    interrupted: bool,
}

/// A prepared region's constraints that meet the domain, `(neuron, halfspace)` in neuron order,
/// held compact between its facet tests where their normals are mostly zeros (the convolutions
/// of a CNN: the 64 regions of one chunk of `cifar10_large` held ~0.5 GB of dense normals, ~5%
/// of them nonzero). Each facet-test pass makes them dense again, one region per thread at a
/// time.
enum Kept {
    Dense(Vec<(usize, Halfspace)>),
    Compact(Vec<(usize, Compact, f64)>),
}

impl Kept {
    /// `kept`, compact if any of its normals is mostly zeros.
    fn new(kept: Vec<(usize, Halfspace)>) -> Self {
        let compact: Vec<(usize, Compact, f64)> =
            kept.into_iter().map(|(k, h)| (k, Compact::new(h.normal), h.offset)).collect();
        if compact.iter().any(|(_, normal, _)| normal.is_sparse()) {
            return Kept::Compact(compact);
        }
        Kept::Dense(
            compact
                .into_iter()
                .map(|(k, normal, offset)| (k, Halfspace { normal: normal.into_dense(), offset }))
                .collect(),
        )
    }

    /// The constraints with dense normals.
    fn dense(&self) -> Cow<'_, [(usize, Halfspace)]> {
        match self {
            Kept::Dense(kept) => Cow::Borrowed(kept),
            Kept::Compact(kept) => Cow::Owned(
                kept.iter()
                    .map(|(k, normal, offset)| (*k, Halfspace { normal: normal.dense().into_owned(), offset: *offset }))
                    .collect(),
            ),
        }
    }

    /// The way into the neighbour across constraint `c`: against its normal.
    fn direction_out(&self, c: usize) -> Compact {
        match self {
            Kept::Dense(kept) => Compact::Dense(kept[c].1.normal.iter().map(|v| -v).collect()),
            Kept::Compact(kept) => kept[c].1.negated(),
        }
    }
}

/// A facet test still to do: the representative constraint, its coincidence class (sorted) and
/// the neighbour's pattern.
struct Pending {
    index: usize,
    class: Vec<usize>,
    far: Pattern,
}

/// The cheap part of expanding a region: constraints, witness, screens and the neighbour patterns
/// whose facets still need a test.
pub(crate) fn prepare(
    ctx: &Context,
    pattern: &Pattern,
    entry: Option<&Entry>,
    known: &Known,
    near: &mut Option<LayerMaps>,
) -> Result<Prepared> {
    let (net, domain) = (ctx.net, ctx.domain);
    let mut e = Expansion::default();
    let mut prepared = Prepared {
        pattern: pattern.clone(),
        kept: Kept::Dense(Vec::new()),
        corners: None,
        pending: Vec::new(),
        inherited: entry.map(|en| en.refuted.clone()),
        found: Vec::new(),
        refuted: Refuted::default(),
        expansion: Expansion::default(),
        interrupted: false,
    };
    let finished = |mut prepared: Prepared, e: Expansion| {
        prepared.expansion = e;
        Ok(prepared)
    };
    if ctx.contradicts(pattern) {
        return finished(prepared, e);
    }
    let maps = net.maps_near(pattern, near);
    let kind = maps.kind();
    // Hyperplanes of neurons proved stable are never built (a stable neuron cannot share a
    // hyperplane with one whose facet meets the domain, so coincidence classes lose nothing).
    let stable = (0..kind.len()).filter(|&k| ctx.stable[k].is_some() && kind[k] == NeuronKind::Varying).count();
    let unstable = |k: usize| ctx.stable[k].is_none();
    let surrogate = |k: usize| net.surrogate_of(maps, k);
    let windows = net.max_windows();
    let Some((all, ties)) = constraints_where(domain, pattern, kind, windows, surrogate, unstable) else {
        return finished(prepared, e);
    };
    // A region of a wide CNN can have thousands of constraints: the budget is checked between
    // the steps below, and an interrupted region is put back unexpanded.
    let out_of_budget = |mut prepared: Prepared, e: Expansion| {
        prepared.interrupted = true;
        finished(prepared, e)
    };
    let (kept, dropped): (Vec<_>, Vec<_>) = all.into_iter().partition(|(_, h)| !domain.misses(h));
    e.screened = (dropped.len() + stable) as u64;
    let kept_refs: Vec<&Halfspace> = kept.iter().map(|(_, h)| h).collect();
    // The region's LP, loaded on first use; every later LP of the region is a warm re-solve.
    let mut lp: Option<RegionLp> = None;
    e.witness = match entry.and_then(|en| witness_beside(domain, &kept_refs, &en.point, &en.direction.dense())) {
        Some(found) => Some(found),
        None => {
            let decision = match ctx.dual(&kept_refs, None, &mut e.counters) {
                Some((decision, _)) => decision,
                None => decide_in(
                    loaded(&mut lp, domain, &kept_refs)?,
                    domain,
                    &kept_refs,
                    None,
                    &[],
                    None,
                    &mut e.counters,
                )?,
            };
            match decision {
                Decision::Meets { witness, slack } => Some((witness, slack)),
                _ => return finished(prepared, e),
            }
        }
    };
    // Facet candidates, as indices into `kept`. In up to 8 inputs drop the hyperplanes that miss
    // the propagated box of region ∩ domain, then, from the corners of region ∩ box, those whose
    // corners span less than a facet. On a line (1-D and 2-D inputs) a facet test is interval
    // arithmetic over every other constraint, so testing every hyperplane is quadratic in the
    // neurons (400 lines in a disc: 600 regions/s unscreened, 16,000 screened); the whole space
    // has no box to take corners in, and its 1-/2-D walks test every hyperplane. Constraints that miss the box hold strictly on all of it, so
    // the corners need only the others. With more inputs, each constraint bounds a coordinate only
    // through the ranges of all the others, and propagation screens next to nothing (MNIST 10x10
    // in 784-D boxes: 95 of 434,394 screened hyperplanes, 16–64-D suite cases: none) at a tenth of
    // the walk's time: the domain's own box stands in for the separation screen.
    if ctx.out_of_budget() {
        return out_of_budget(prepared, e);
    }
    let mut candidates: Vec<usize> = (0..kept.len()).collect();
    let mut corners = None;
    let mut bounds = None;
    if domain.dim() > 2 || domain.is_bounded() {
        let (lo, hi) = if domain.dim() <= MAX_DIM {
            let (lo, hi) = propagated_box(domain, &kept_refs, BOX_SLACK);
            candidates.retain(|&c| !misses_box(&kept[c].1, &lo, &hi));
            if !candidates.is_empty() {
                let crossing: Vec<&Halfspace> = candidates.iter().map(|&c| &kept[c].1).collect();
                let inside = &e.witness.as_ref().expect("expanded regions have a witness").0;
                corners = vertices(&lo, &hi, &crossing, inside, MAX_CORNERS);
            }
            (lo, hi)
        } else {
            (domain.lower().to_vec(), domain.upper().to_vec())
        };
        if let Some(corners) = &corners {
            let mut scratch = Vec::new();
            candidates.retain(|&c| may_bound_facet(corners, &kept[c].1, &mut scratch));
        }
        bounds = Some((lo, hi));
    }
    e.screened += (kept.len() - candidates.len()) as u64;
    // Units that vanish on every facet: ReLUs identically zero on the region, and max-window
    // candidates identical to their window's argmax.
    let zero: Vec<usize> =
        (0..kind.len()).filter(|&k| kind[k] == NeuronKind::Zero && windows.of(k).is_none()).chain(ties).collect();
    let mut in_class = vec![false; kept.len()];
    let mut seen: FxHashSet<Pattern> = FxHashSet::default();
    let mut pending = Vec::new();
    for c in candidates {
        if ctx.out_of_budget() {
            return out_of_budget(prepared, e);
        }
        if in_class[c] {
            continue;
        }
        let rep = &kept[c].1;
        // The coincidence class of this hyperplane, among all varying neurons.
        let class: Vec<usize> =
            kept.iter().chain(&dropped).filter(|(_, h)| coincident(h, rep)).map(|(k, _)| *k).collect();
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
        let mut class = class;
        class.sort_unstable();
        pending.push(Pending { index: c, class, far });
    }
    // Without corners: drop the hyperplanes that one other constraint keeps away from the region,
    // and, when HiGHS answers the tests, with more tests left than 2·n0, bound region ∩ domain by
    // 2·n0 LPs. The dual solver's tests cost a fraction of an LP each, so with it the box does not
    // pay (MNIST 10x10 walked in its 10-D row space: 35% more regions per second without it).
    if let (Some((lo, hi)), None) = (&bounds, &corners) {
        let before = pending.len();
        let mut kinks = Vec::new();
        let round = domain.is_round();
        if separation_applies(round, domain.dim()) {
            pending.retain(|p| {
                let h = &kept[p.index].1;
                ctx.out_of_budget()
                    || !kept.iter().any(|(k, g)| !on_facet(&p.class, *k) && separated(round, lo, hi, g, h, &mut kinks))
            });
        }
        e.screened += (before - pending.len()) as u64;
        if ctx.out_of_budget() {
            return out_of_budget(prepared, e);
        }
        if !ctx.dual && pending.len() > 2 * domain.dim() && domain.is_bounded() {
            let lp = loaded(&mut lp, domain, &kept_refs)?;
            if let Some((lo, hi)) = bounding_box(domain.dim(), lp, &mut e.counters, || ctx.out_of_budget())? {
                let before = pending.len();
                pending.retain(|p| !misses_box(&kept[p.index].1, &lo, &hi));
                e.screened += (before - pending.len()) as u64;
            }
        }
    }
    drop(kept_refs);
    prepared.kept = Kept::new(kept);
    prepared.corners = corners;
    prepared.pending = pending;
    finished(prepared, e)
}

impl Prepared {
    /// The neighbours whose facet tests are still to do.
    pub(crate) fn proposals(&self) -> impl Iterator<Item = &Pattern> {
        self.pending.iter().map(|p| &p.far)
    }

    /// The neighbours found so far.
    pub(crate) fn found(&self) -> impl Iterator<Item = &Pattern> {
        self.found.iter().map(|(_, far, _)| far)
    }

    /// Runs the pending facet tests that `take` selects (one flag per pending test, in the order
    /// of [`Prepared::proposals`]) and drops those that `skip` selects (neighbours found by other
    /// regions); the others stay pending. `latest` (the walk's latest refutations) is tried after
    /// the entering region's.
    pub(crate) fn decide(&mut self, ctx: &Context, latest: &Refuted, take: &[bool], skip: &[bool]) -> Result<()> {
        let mut now = Vec::new();
        for (i, p) in std::mem::take(&mut self.pending).into_iter().enumerate() {
            match (take.get(i), skip.get(i)) {
                (_, Some(true)) => self.expansion.known += 1,
                (Some(true), _) => now.push(p),
                _ => self.pending.push(p),
            }
        }
        if now.is_empty() || self.interrupted {
            return Ok(());
        }
        let kept = self.kept.dense();
        let kept_refs: Vec<&Halfspace> = kept.iter().map(|(_, h)| h).collect();
        let region = Region {
            pattern: &self.pattern,
            kept: &kept,
            kept_refs: &kept_refs,
            corners: self.corners.as_ref(),
            inherited: [self.inherited.as_deref(), Some(latest)],
        };
        let mut lp = None;
        for p in now {
            if ctx.out_of_budget() {
                self.interrupted = true;
                return Ok(());
            }
            let facet = Facet { index: p.index, class: &p.class };
            match decide_facet(ctx, &region, facet, &mut lp, &mut self.expansion.counters)? {
                (Decision::Meets { witness, .. }, _) => self.found.push((p.index, p.far, witness)),
                (_, Some(certificate)) => {
                    self.refuted.0.insert(kept[p.index].0, vec![certificate]);
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The expansion: witness, neighbours found (each entered with this region's refutations)
    /// and tallies. Tests still pending are not run. `None` if the budget ran out during the tests.
    pub(crate) fn finish(self) -> Option<Expansion> {
        if self.interrupted {
            return None;
        }
        let mut e = self.expansion;
        let hint_bytes = self.refuted.heap_bytes();
        e.refuted = Arc::new(self.refuted);
        for (c, far, witness) in self.found {
            let flipped = (0..far.len()).filter(|&k| far.get(k) != self.pattern.get(k)).collect();
            let direction = self.kept.direction_out(c);
            e.neighbours.push((
                far,
                flipped,
                Entry { point: witness, direction, refuted: e.refuted.clone(), hint_bytes },
            ));
        }
        Some(e)
    }
}

/// A facet candidate: its representative's index among the region's kept constraints and its
/// coincidence class, sorted. Of the region's constraints, exactly the class's lie on the facet:
/// the other units that vanish there (identically zero, or tied to their window's argmax) have
/// no constraint. A mask over every neuron instead took 23 KB per test on a CNN of 23,328 ReLUs,
/// ~1 GB over the tests a chunk of 64 regions holds.
#[derive(Clone, Copy)]
struct Facet<'a> {
    index: usize,
    class: &'a [usize],
}

/// Whether the neuron of constraint `k` lies on the facet of coincidence class `class` (sorted).
fn on_facet(class: &[usize], k: usize) -> bool {
    class.binary_search(&k).is_ok()
}

/// What the facet tests of one region share.
struct Region<'a> {
    pattern: &'a Pattern,
    /// The region's constraints that meet the domain, `(neuron, halfspace)` in neuron order.
    kept: &'a [(usize, Halfspace)],
    kept_refs: &'a [&'a Halfspace],
    corners: Option<&'a Corners>,
    /// Refutations to try, most specific first: the entering region's, the walk's latest.
    inherited: [Option<&'a Refuted>; 2],
}

/// Does the candidate's hyperplane bound a facet of region ∩ domain? The cheapest exact test that
/// applies (docs/exact.md): interval arithmetic on a line (1-/2-D), a corner-derived point or a
/// separation of the corners from the ball (up to 8-D), the entering region's multipliers for the same
/// facet, checked, the dual solver, else the facet LP in the region's warm model (loaded into `lp`
/// on first use) with the distance QP for a ball. With a "disjoint" proved by multipliers, the
/// certificate to hand on to the neighbours.
fn decide_facet(
    ctx: &Context,
    region: &Region,
    facet: Facet,
    lp: &mut Option<RegionLp>,
    counters: &mut LpCounters,
) -> Result<(Decision, Option<Certificate>)> {
    let (domain, kept) = (ctx.domain, region.kept);
    let (neuron, rep) = (kept[facet.index].0, &kept[facet.index].1);
    let (ids, others): (Vec<usize>, Vec<&Halfspace>) =
        kept.iter().filter(|(k, _)| !on_facet(facet.class, *k)).map(|(k, h)| (*k, h)).unzip();
    if domain.dim() <= 2 {
        if let Some(decision) = facet_on_line(domain, &others, rep) {
            counters.touching += u64::from(decision == Decision::Touching);
            return Ok((decision, None));
        }
    }
    if let Some(corners) = region.corners {
        let on = corners_on(corners, rep);
        if let Some((witness, slack)) = facet_point(&on, rep, domain, &others) {
            return Ok((Decision::Meets { witness, slack }, None));
        }
        if domain.is_round() && facet_misses_ball(&on) {
            return Ok((Decision::Disjoint, None));
        }
    }
    let held: Vec<&Certificate> =
        region.inherited.iter().flatten().filter(|_| ctx.dual).filter_map(|r| r.0.get(&neuron)).flatten().collect();
    if !held.is_empty() {
        let refutations = held.iter().map(|c| c.for_rows(&ids, region.pattern));
        if let Some(i) = refutes(domain, &others, Some(rep), refutations) {
            counters.reused_refutations += 1;
            return Ok((Decision::Disjoint, Some(held[i].clone())));
        }
    }
    if let Some((decision, refutation)) = ctx.dual(&others, Some(rep), counters) {
        return Ok((decision, refutation.map(|r| Certificate::keyed(r, &ids, region.pattern))));
    }
    let relaxed: Vec<usize> =
        (0..kept.len()).filter(|&m| m != facet.index && on_facet(facet.class, kept[m].0)).collect();
    let lp = loaded(lp, domain, region.kept_refs)?;
    Ok((decide_in(lp, domain, &others, Some(rep), &relaxed, Some(facet.index), counters)?, None))
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
        // A candidate on the facet becomes its window's argmax, unless the window has several.
        let mut far = pattern.clone();
        let mut windows_crossed = Vec::new();
        for &k in class {
            match net.max_windows().of(k) {
                None => far.set(k, !pattern.get(k)),
                Some(w) => {
                    windows_crossed.push(w.start);
                    w.for_each(|i| far.set(i, i == k));
                }
            }
        }
        windows_crossed.sort_unstable();
        if windows_crossed.windows(2).all(|p| p[0] != p[1]) {
            return far;
        }
    }
    let direction: Vec<f64> = normal.iter().map(|v| -v).collect();
    net.pattern_beyond(pattern, &vanishing(net.neurons(), zero, class), &direction)
}

/// The units that vanish on a facet, as a mask over all neurons: its coincidence class and the
/// units that vanish on every facet (`zero`).
fn vanishing(neurons: usize, zero: &[usize], class: &[usize]) -> Vec<bool> {
    let mut mask = vec![false; neurons];
    zero.iter().chain(class).for_each(|&k| mask[k] = true);
    mask
}

/// The bounding box of the closure of region ∩ domain box (frame coordinates), widened by
/// [`BOX_SLACK`]; `None` if an LP finds the set empty or `stop` says the budget ran out (the caller
/// then keeps every test).
fn bounding_box(
    dim: usize,
    lp: &mut RegionLp,
    counters: &mut LpCounters,
    stop: impl Fn() -> bool,
) -> Result<Option<(Vec<f64>, Vec<f64>)>> {
    let (mut lo, mut hi) = (vec![0.0; dim], vec![0.0; dim]);
    for i in 0..dim {
        if stop() {
            return Ok(None);
        }
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
