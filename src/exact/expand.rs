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

use super::geometry::{facet_on_line, propagated_box, separated, witness_beside};
use super::vertices::{corners_on, facet_misses_ball, facet_point, may_bound_facet, vertices, Corners, MAX_DIM};
use crate::analysis::interval::{analyse, Status};
use crate::analysis::set::InputSet;
use crate::domain::{misses_box, Domain, Halfspace};
use crate::lp::{decide_by_dual, settle, Decision, LpCounters, RegionLp};
use crate::model::{LayerMaps, Network, NeuronKind, Pattern};
use crate::tolerance::{BOX_SLACK, COINCIDENT};
use crate::Result;
use rustc_hash::{FxHashMap, FxHashSet};

/// Most corners the vertex enumeration of one region may reach before the walk falls back to LPs.
const MAX_CORNERS: usize = 4096;

/// What expanding one region produced.
pub(super) struct Expansion {
    pub(super) witness: Option<(Vec<f64>, f64)>,
    /// Neighbours across facets that meet the domain, with the neurons that flip and the way in.
    pub(super) neighbours: Vec<(Pattern, Vec<usize>, Entry)>,
    pub(super) counters: LpCounters,
    pub(super) screened: u64,
    pub(super) known: u64,
}

/// How the walk entered a region: a point on the facet it crossed (frame coordinates) and the
/// direction into the region, from which [`witness_beside`] finds the region's witness without an LP.
pub(super) struct Entry {
    point: Vec<f64>,
    direction: Vec<f64>,
}

/// What every expansion shares: the problem and the neurons proved stable over the domain.
pub(super) struct Context<'a> {
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
    pub(super) fn new(net: &'a Network, domain: &'a Domain, dual: bool) -> Self {
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
    constraints_where(domain, pattern, kind, |k| (a.row(k), beta[k]), |_| true)
}

/// [`region_constraints`] for the varying neurons that `wanted` selects (the walk leaves out
/// neurons proved stable over the domain: their hyperplanes bound nothing inside it), with each
/// neuron's surrogate `(a_k, β_k)` read through `surrogate` (the walk reads the layer maps in
/// place instead of copying them into one matrix).
fn constraints_where<'a>(
    domain: &Domain,
    pattern: &Pattern,
    kind: &[NeuronKind],
    surrogate: impl Fn(usize) -> (ndarray::ArrayView1<'a, f64>, f64),
    wanted: impl Fn(usize) -> bool,
) -> Option<Vec<(usize, Halfspace)>> {
    let mut out = Vec::with_capacity(kind.len());
    for (k, kind) in kind.iter().enumerate() {
        let sign = if pattern.get(k) { 1.0 } else { -1.0 };
        match kind {
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
    Some(out)
}

/// What the walk knew when a chunk started: found regions and, when edges are recorded, the
/// adjacencies already confirmed.
pub(super) struct Known<'a> {
    pub(super) visited: &'a FxHashMap<Pattern, usize>,
    pub(super) edges: Option<&'a FxHashSet<(usize, usize)>>,
    pub(super) index: usize,
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

pub(super) fn expand(
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
    let maps = net.maps_near(pattern, near);
    let kind = maps.kind();
    // Hyperplanes of neurons proved stable are never built (a stable neuron cannot share a
    // hyperplane with one whose facet meets the domain, so coincidence classes lose nothing).
    let stable = (0..kind.len()).filter(|&k| ctx.stable[k].is_some() && kind[k] == NeuronKind::Varying).count();
    let unstable = |k: usize| ctx.stable[k].is_none();
    let surrogate = |k: usize| net.surrogate_of(maps, k);
    let Some(all) = constraints_where(domain, pattern, kind, surrogate, unstable) else { return Ok(e) };
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
            let mut scratch = Vec::new();
            candidates.retain(|&c| may_bound_facet(corners, &kept[c].1, &mut scratch));
        }
        bounds = Some((lo, hi));
    }
    e.screened += (kept.len() - candidates.len()) as u64;
    let zero: Vec<usize> = (0..kind.len()).filter(|&k| kind[k] == NeuronKind::Zero).collect();
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
