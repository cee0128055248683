//! The neuron cut tree of a network over a domain, as the estimate descends it: nodes, their
//! children decided by certified questions, and one random probe from a node to a leaf.

use super::volume::hit_and_run;
use super::{Child, ChildChoice};
use crate::analysis::interval::{Screen, Status};
use crate::domain::{Domain, Halfspace};
use crate::exact::layer_step::Step;
use crate::lp::{decide_by_dual, margin, meets, Decision, LpCounters};
use crate::model::{difference, Difference, Network, NeuronKind, Pattern};
use crate::tolerance::{DECIDE, ESTIMATE_REFRESH_BELOW, ESTIMATE_REFRESH_MAX_INPUTS};
use crate::{Error, Result};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashSet;
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

/// The cut tree of a network over a domain.
pub(super) struct Tree<'a> {
    net: &'a Network,
    domain: &'a Domain,
    /// Each neuron's stability over the whole domain.
    status: Vec<Status>,
    /// Each max-window candidate's fate over the whole domain (`analysis::interval::window_fates`;
    /// empty without max units): stable losers and stable argmaxes need no question.
    fates: Vec<Option<bool>>,
    choice: &'a dyn ChildChoice,
    /// The patterns of random points of the domain: they measure how a node's regions split
    /// between its children.
    sample: Vec<Pattern>,
    /// Seeds the hit-and-run points of each node (a function of the node, so that the tree and
    /// the estimate do not depend on the thread count).
    seed: u64,
    /// Past this, every expansion fails with [`Error::TimeLimit`]: the estimate is abandoned
    /// rather than biased by dropping the slow probes.
    deadline: Option<Instant>,
}

/// A node of the cut tree: the sides chosen for the neurons before `next`, with a witness inside
/// it and the room around the witness.
#[derive(Clone)]
pub(super) struct Node {
    /// The next neuron to decide (pattern order).
    next: usize,
    /// The layer of `next`, and that layer's maps on the node (shared by siblings: a layer's
    /// maps depend on earlier layers only).
    layer: usize,
    step: Arc<Step>,
    pattern: Pattern,
    /// The node's constraints, one per cut (frame).
    rows: Vec<Halfspace>,
    /// A point of the node, and the radius of a ball around it inside the node (frame units).
    witness: Vec<f64>,
    room: f64,
    /// The points measuring the node's volume: indices into `local` when the node has drawn its
    /// own (hit-and-run), into the tree's domain sample otherwise.
    inside: Vec<u32>,
    local: Option<Arc<Vec<Pattern>>>,
}

/// What lies below a node, down to the next neuron with two feasible sides.
pub(super) enum Expansion {
    /// Every neuron is decided: a region the count counts.
    Leaf(Node),
    /// The next neuron with two feasible sides, and the two children.
    Split(Vec<(Child, Node)>),
    /// A sliver thinner than the decision margin: no region the count counts.
    Empty,
}

/// One feasible part of a node at its next question: a ReLU's side, or a max window's argmax.
struct Part {
    /// The units the question decides (pattern indices): one ReLU, or a window's candidates.
    units: Range<usize>,
    /// The unit among them whose bit is set (the active ReLU, the window's argmax), if any.
    set: Option<usize>,
    /// The part's constraints beyond the node's (frame).
    rows: Vec<Halfspace>,
    /// A witness inside the part, and the room around it.
    witness: (Vec<f64>, f64),
}

impl Part {
    /// Whether `pattern` (a sample point's) lies in the part.
    fn holds(&self, pattern: &Pattern) -> bool {
        self.units.clone().all(|i| pattern.get(i) == (Some(i) == self.set))
    }

    /// Moves `node` into the part: its pattern, constraints and witness, and its next question.
    fn enter(self, node: &mut Node) {
        self.units.clone().for_each(|i| node.pattern.set(i, Some(i) == self.set));
        node.rows.extend(self.rows);
        (node.witness, node.room) = self.witness;
        node.next = self.units.end;
    }
}

/// What one probe found: its weight `X`, and the leaves it reached that a forward pass confirms.
pub(super) struct Probe {
    pub(super) weight: f64,
    pub(super) leaves: Vec<Pattern>,
    pub(super) counters: LpCounters,
}

/// A node of a probe's population, with its weight and its guide: the product of the choice
/// rule's probabilities `q` on its path from the probe's start, which the rule means to be its
/// share of the start's leaves.
struct Particle {
    node: Node,
    weight: f64,
    guide: f64,
}

/// Which nodes of a population to keep so that at most `width` remain, without bias: node i,
/// which the choice rule expects to add `expected[i]` (its weight times its guide) to the probe, is
/// kept with probability `p_i = min(1, c · expected[i])`, `c` such that `Σ p_i = width`; returns the
/// kept nodes with their `p_i`, by which their weights are divided, so that `E[kept weight_i] =
/// weight_i` for each. The nodes expected to matter most are kept for certain and the others come
/// out with equal expected shares. They are drawn by systematic sampling (one uniform `u`, the
/// points `u + j` over the cumulated `p`), which keeps exactly `width` of them (up to rounding)
/// with exactly those probabilities. With one node to keep among one node's children, this
/// chooses child i with probability `q_i / Σ q`.
fn thin(expected: &[f64], width: usize, u: f64) -> Vec<(usize, f64)> {
    if expected.len() <= width {
        return expected.iter().enumerate().map(|(i, _)| (i, 1.0)).collect();
    }
    let mut sorted = expected.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    // Water-filling: the largest are kept for certain while `c` would give them p ≥ 1. Fewer than
    // `width` can be (the rest would need c = 0), so `c` stays positive.
    let mut rest: f64 = sorted.iter().sum();
    let mut certain = 0;
    let mut c = width as f64 / rest;
    while certain + 1 < width && sorted[certain] * c >= 1.0 {
        rest -= sorted[certain];
        certain += 1;
        c = (width - certain) as f64 / rest;
    }
    let mut cumulated = 0.0;
    let mut kept = Vec::with_capacity(width + 1);
    for (i, e) in expected.iter().enumerate() {
        let p = (c * e).min(1.0);
        let (before, after) = (cumulated, cumulated + p);
        cumulated = after;
        // One of the points u + j lies in [before, after) with probability p (p ≤ 1: at most one).
        if (after - u).ceil() > (before - u).ceil() {
            kept.push((i, p));
        }
    }
    kept
}

impl<'a> Tree<'a> {
    pub(super) fn new(
        net: &'a Network,
        domain: &'a Domain,
        screen: Screen,
        choice: &'a dyn ChildChoice,
        sample: Vec<Pattern>,
        seed: u64,
        deadline: Option<Instant>,
    ) -> Self {
        let Screen { statuses: status, fates } = screen;
        Tree { net, domain, status, fates, choice, sample, seed, deadline }
    }

    /// Moves the deadline past which every expansion fails.
    pub(super) fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// [`Error::TimeLimit`] once past the deadline.
    fn in_time(&self) -> Result<()> {
        match self.deadline.is_some_and(|d| Instant::now() >= d) {
            true => Err(Error::TimeLimit),
            false => Ok(()),
        }
    }

    /// The root: the whole domain with a witness inside it, or `None` if the domain is empty
    /// to within the decision margin.
    pub(super) fn root(&self, counters: &mut LpCounters) -> Result<Option<Node>> {
        let (net, domain) = (self.net, self.domain);
        let centre = vec![0.0; domain.dim()];
        let (witness, room) = match domain.contains_frame(&centre) {
            true => (centre.clone(), margin(domain, &[], &centre).min(1.0)),
            false => match meets(domain, &[], None, counters)? {
                Decision::Meets { witness, slack } => (witness, slack),
                _ => return Ok(None),
            },
        };
        let pattern = Pattern::zeros(net.neurons());
        let step = Arc::new(match net.hidden().is_empty() {
            true => Step::input(net.input_dim()),
            false => Step::next(net, 0, &pattern, &Step::input(net.input_dim())),
        });
        let inside = (0..self.sample.len() as u32).collect();
        Ok(Some(Node { next: 0, layer: 0, step, pattern, rows: Vec::new(), witness, room, inside, local: None }))
    }

    /// Decides the node's units in order while each has one feasible side (a max window: one
    /// feasible argmax), and stops at the first with more (or at a leaf, or at a sliver).
    pub(super) fn expand(&self, mut node: Node) -> Result<(Expansion, LpCounters)> {
        let net = self.net;
        let mut counters = LpCounters::default();
        while node.next < net.neurons() {
            let k = node.next;
            let (l, j) = net.neuron_position(k);
            if l != node.layer {
                self.in_time()?;
                node.step = Arc::new(Step::next(net, l, &node.pattern, &node.step));
                node.layer = l;
            }
            let mut parts = match net.max_windows().of(k) {
                Some(window) => self.window_parts(&node, j, window, &mut counters)?,
                None => match self.settled(&node, k, j) {
                    Some(side) => {
                        node.pattern.set(k, side);
                        node.next += 1;
                        continue;
                    }
                    None => self.relu_parts(&node, k, j, &mut counters)?,
                },
            };
            match parts.len() {
                0 => return Ok((Expansion::Empty, counters)),
                1 => parts.pop().expect("one part").enter(&mut node),
                _ => {
                    if node.inside.len() < ESTIMATE_REFRESH_BELOW {
                        self.refresh(&mut node, k);
                    }
                    let children = parts
                        .into_iter()
                        .map(|part| {
                            let mut child = node.clone();
                            child.inside.retain(|&i| part.holds(self.point(&node, i)));
                            part.enter(&mut child);
                            let patterns = self.distinct_patterns(&child);
                            (Child { patterns }, child)
                        })
                        .collect();
                    return Ok((Expansion::Split(children), counters));
                }
            }
        }
        Ok((Expansion::Leaf(node), counters))
    }

    /// The side of ReLU `k` (number `j` of its layer) on `node` when it needs no question: proved
    /// stable over the domain, or not varying on the node.
    fn settled(&self, node: &Node, k: usize, j: usize) -> Option<bool> {
        match (self.status[k], node.step.kind[j]) {
            (Status::Active, _) => Some(true),
            (Status::Inactive, _) | (_, NeuronKind::Zero) => Some(false),
            (_, NeuronKind::Constant) => Some(node.step.zeta[j] > 0.0),
            (Status::Unstable, NeuronKind::Varying) => None,
        }
    }

    /// The feasible sides of ReLU `k` (number `j` of its layer), varying on `node`.
    fn relu_parts(&self, node: &Node, k: usize, j: usize, counters: &mut LpCounters) -> Result<Vec<Part>> {
        let step = &node.step;
        let Some(active) = self.domain.halfspace(step.dense_row(j), step.zeta[j]) else {
            unreachable!("a varying neuron has a nonzero row")
        };
        // A hyperplane that misses the whole domain leaves the node on the witness's side: no
        // question to ask.
        let misses = self.domain.misses(&active);
        let mut parts = Vec::with_capacity(2);
        for (side, h) in [(false, active.negated()), (true, active)] {
            if misses && h.eval(&node.witness) <= 0.0 {
                continue;
            }
            if let Some(part) = self.part(node, k..k + 1, side.then_some(k), vec![h], counters)? {
                parts.push(part);
            }
        }
        Ok(parts)
    }

    /// The feasible argmaxes of the max `window` (pattern indices; its first unit is number `j`
    /// of its layer) on `node`: candidate `c` with `z_c − z_i > 0` for every other candidate `i`,
    /// ties between the same function going to the lowest index (theory §11, as the walk and the
    /// splitter decide them). Stable losers over the domain are neither children nor constraints.
    fn window_parts(
        &self,
        node: &Node,
        j: usize,
        window: Range<usize>,
        counters: &mut LpCounters,
    ) -> Result<Vec<Part>> {
        let step = &node.step;
        let rows: Vec<Vec<f64>> = (j..j + window.len()).map(|u| step.dense_row(u)).collect();
        let unit = |c: usize| (rows[c].as_slice(), step.zeta[j + c], step.kind[j + c]);
        let fate = |c: usize| self.fates[window.start + c];
        if let Some(winner) = (0..window.len()).find(|&c| fate(c) == Some(true)) {
            let part = Part {
                units: window.clone(),
                set: Some(window.start + winner),
                rows: Vec::new(),
                witness: (node.witness.clone(), node.room),
            };
            return Ok(vec![part]);
        }
        let mut parts = Vec::new();
        'candidates: for c in (0..window.len()).filter(|&c| fate(c) != Some(false)) {
            let mut constraints = Vec::with_capacity(window.len() - 1);
            for i in (0..window.len()).filter(|&i| i != c && fate(i) != Some(false)) {
                match difference(unit(c), unit(i)) {
                    Difference::Varying(a, beta) => match self.domain.halfspace(a, beta) {
                        // A difference whose hyperplane misses the domain has one sign on it.
                        Some(h) if self.domain.misses(&h) => match h.eval(&node.witness) > 0.0 {
                            true => {}
                            false => continue 'candidates,
                        },
                        Some(h) => constraints.push(h),
                        None => unreachable!("a varying difference has a nonzero row"),
                    },
                    Difference::Constant(d) if d < 0.0 => continue 'candidates,
                    Difference::Identical if i < c => continue 'candidates,
                    Difference::Constant(_) | Difference::Identical => {}
                }
            }
            let chosen = window.start + c;
            if let Some(part) = self.part(node, window.clone(), Some(chosen), constraints, counters)? {
                parts.push(part);
            }
        }
        Ok(parts)
    }

    /// The part of `node` where `rows` hold, setting the bit of `set` (if any) among `units` and
    /// clearing the others, if it meets the domain by more than the decision margin: the node's
    /// witness when it keeps the margin, else a certified solver witness.
    fn part(
        &self,
        node: &Node,
        units: Range<usize>,
        set: Option<usize>,
        rows: Vec<Halfspace>,
        counters: &mut LpCounters,
    ) -> Result<Option<Part>> {
        let distance = rows.iter().fold(f64::INFINITY, |m, h| m.min(h.eval(&node.witness)));
        let found = if distance > 0.0 && node.room.min(distance) > DECIDE {
            Some((node.witness.clone(), node.room.min(distance)))
        } else {
            self.in_time()?;
            self.meets(&node.rows, &rows, counters)?
        };
        Ok(found.map(|found| Part { units, set, rows, witness: found }))
    }

    /// One probe from `start`, with the random choices of probe `index` of `seed`: a population
    /// of at most `width` nodes descends the tree one split per round (Chen's heuristic sampling,
    /// in the form of stochastic enumeration). Each round every node of the population is
    /// expanded to its next split; its children inherit its weight, and when they are more than
    /// `width`, [`thin`] keeps each with a probability and divides its weight by it. Every step
    /// keeps `E[Σ weight · leaves below]` unchanged, so the weight of the leaves reached, `X`, has
    /// `E[X]` = the leaves below `start`. Width 1 is Knuth's probe: one child, chosen with the
    /// choice rule's probability `q`, weight `Π 1/q`.
    pub(super) fn probe(&self, start: &Node, width: usize, seed: u64, index: u64) -> Result<Probe> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(index);
        let mut counters = LpCounters::default();
        let mut population = vec![Particle { node: start.clone(), weight: 1.0, guide: 1.0 }];
        let (mut weight, mut leaves) = (0.0, Vec::new());
        while !population.is_empty() {
            let mut children = Vec::with_capacity(2 * population.len());
            for particle in population {
                let (expansion, spent) = self.expand(particle.node)?;
                counters.add(&spent);
                match expansion {
                    Expansion::Leaf(leaf) => {
                        weight += particle.weight;
                        leaves.extend(self.certified(&leaf));
                    }
                    Expansion::Empty => {}
                    Expansion::Split(split) => {
                        let described: Vec<Child> = split.iter().map(|(c, _)| *c).collect();
                        let q = self.choice.probabilities(&described);
                        children.extend(split.into_iter().zip(q).map(|((_, node), q)| Particle {
                            node,
                            weight: particle.weight,
                            guide: particle.guide * q,
                        }));
                    }
                }
            }
            // Every node keeps a positive probability (a product that underflowed would drop it).
            let expected: Vec<f64> = children.iter().map(|p| (p.weight * p.guide).max(f64::MIN_POSITIVE)).collect();
            let mut kept = thin(&expected, width, rng.gen()).into_iter().peekable();
            population = Vec::with_capacity(width.min(children.len()));
            for (i, mut particle) in children.into_iter().enumerate() {
                if kept.next_if(|&(k, _)| k == i).is_some_and(|(_, p)| {
                    particle.weight /= p;
                    true
                }) {
                    population.push(particle);
                }
            }
        }
        Ok(Probe { weight, leaves, counters })
    }

    /// A leaf's pattern if a forward pass at its witness gives it (the walk's certificate): then
    /// it is a region, and counts toward the certified lower bound.
    pub(super) fn certified(&self, leaf: &Node) -> Option<Pattern> {
        let x = self.domain.from_frame(&leaf.witness);
        (self.net.interior_pattern(&x).as_ref() == Some(&leaf.pattern)).then(|| leaf.pattern.clone())
    }

    /// The pattern of point `i` of `node`.
    fn point<'b>(&'b self, node: &'b Node, i: u32) -> &'b Pattern {
        match &node.local {
            None => &self.sample[i as usize],
            Some(points) => &points[i as usize],
        }
    }

    /// Distinct patterns among `node`'s points: regions of the node that the points hit.
    pub(super) fn distinct_patterns(&self, node: &Node) -> usize {
        let mut seen: FxHashSet<&Pattern> = FxHashSet::default();
        node.inside.iter().filter(|&&i| seen.insert(self.point(node, i))).count()
    }

    /// Fresh points inside `node` (hit-and-run from its witness, seeded by the node, classified by
    /// a forward pass), when its domain-sample points run low: the measure then reaches down to
    /// the leaves. Skipped above `ESTIMATE_REFRESH_MAX_INPUTS` inputs.
    fn refresh(&self, node: &mut Node, k: usize) {
        if self.domain.dim() > ESTIMATE_REFRESH_MAX_INPUTS {
            return;
        }
        let mut hasher = rustc_hash::FxHasher::default();
        (&node.pattern, k).hash(&mut hasher);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ hasher.finish());
        let Some(points) = hit_and_run(self.domain, &node.rows, &node.witness, &mut rng) else { return };
        let n0 = self.domain.dim();
        let inputs: Vec<f64> = points.iter().flat_map(|y| self.domain.from_frame(y)).collect();
        let inputs = Array2::from_shape_vec((points.len(), n0), inputs).expect("rows of n0 coordinates");
        let classified: Vec<Pattern> = self.net.interior_patterns(&inputs).into_iter().flatten().collect();
        node.inside = (0..classified.len() as u32).collect();
        node.local = Some(Arc::new(classified));
    }

    /// A witness of the node `rows` where `more` holds too, with its room, if that part meets the domain by
    /// more than the decision margin: the dual path's certified answer, else HiGHS.
    fn meets(
        &self,
        rows: &[Halfspace],
        more: &[Halfspace],
        counters: &mut LpCounters,
    ) -> Result<Option<(Vec<f64>, f64)>> {
        let all: Vec<&Halfspace> = rows.iter().chain(more).collect();
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

#[cfg(test)]
mod tests {
    use super::thin;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Over a fine grid of `u`, each node is kept with its probability (so its weight divided by
    /// it is unbiased; a grid of `g` points measures a probability `p` to within `1/g`, a relative
    /// `1/(p g)`), and exactly `width` nodes are kept each time.
    #[test]
    fn thinning_keeps_each_node_with_its_probability_and_width_nodes() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let grid = 20_000;
        for case in 0..200 {
            let n = rng.gen_range(1..40);
            let width = rng.gen_range(1..12);
            // Spread over orders of magnitude, as weights times guides are.
            let expected: Vec<f64> = (0..n).map(|_| 10f64.powf(rng.gen_range(-3.0..3.0))).collect();
            let mut kept_weight = vec![0.0; n];
            let mut probability = vec![None; n];
            for k in 0..grid {
                let kept = thin(&expected, width, (k as f64 + 0.5) / grid as f64);
                assert_eq!(kept.len(), width.min(n), "case {case}");
                for (i, p) in kept {
                    kept_weight[i] += 1.0 / p / grid as f64;
                    probability[i] = Some(p);
                }
            }
            let total: f64 = probability.iter().flatten().sum();
            for (i, p) in probability.iter().enumerate() {
                match p {
                    Some(p) => {
                        let w = kept_weight[i];
                        assert!((w - 1.0).abs() <= 1.0 / (p * grid as f64) + 1e-9, "case {case}: node {i} weight {w}");
                    }
                    // Never kept: its probability was below the grid's resolution.
                    None => {
                        assert!(width < n && expected[i] < expected.iter().sum::<f64>() / grid as f64 * width as f64)
                    }
                }
            }
            assert!(total <= width as f64 + 1e-9, "case {case}: probabilities sum to {total}");
        }
    }
}
