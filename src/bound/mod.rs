//! Sound upper bounds on the number of activation regions meeting a domain (theory §3–§5), and a
//! certified lower bound from witness points, so that every report is a bracket
//! `[lower, best upper]` around the exact count.
//!
//! | method | rung | what it assumes / uses |
//! |---|---|---|
//! | `global` | L0 | nothing local: min(Serra et al. 2018, Montúfar 2017) over the whole input space |
//! | `paper` | L1 | Zhu, Lin & Tang 2020 as reconstructed (theory §3): an L2 ball propagated with certified spectral norms, hyperplanes meeting it counted per layer |
//! | `product` | L2 | stability from intersected Lipschitz/IBP/CROWN intervals; proportional neurons merged |
//! | `local-serra` | L3 | the local Serra recursion with stable counts and ranks |
//! | `hybrid` | L5 | exact regions of the first layers by region walking, then `local-serra` per region with region-specific intervals |
//! | `partition` | L6 | boxes and balls of ≤ 8 inputs: the leaves of the box partition's cut tree not proven to miss the domain, no witness checks; cells a budget leaves uncut bounded by their own interval products |
//! | `walk` | L7 | the region walk within its share of the budget: when it finishes, the exact count (an upper bound equal to it); when it does not, only a lower bound |
//!
//! Every value is an exact integer of any size.

mod count;
pub mod hybrid;
pub mod partition;

use crate::analysis::interval::{self, Bounds, Stability, Status};
use crate::analysis::linalg;
use crate::analysis::set::InputSet;
use crate::exact::{count, WalkOptions};
pub use count::{binomial_sum, log10, serra, SerraLayer};
use num_bigint::BigUint;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

use crate::domain::Domain;
use crate::model::Network;
use crate::tolerance::{PROPORTIONAL, ROW_SUPPORT, SAMPLES_PAST_BUDGET};
use crate::Result;

/// A bound method (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// Whole-space bound (L0).
    Global,
    /// The paper's bound, Z20-R (L1).
    Paper,
    /// Stability-aware product (L2).
    Product,
    /// Local Serra recursion (L3).
    LocalSerra,
    /// Exact prefix, bounded suffix (L5).
    Hybrid,
    /// The box partition's cut tree, bounded where a budget stops it (L6).
    Partition,
    /// The exact count, when the budgeted region walk finishes (L7).
    Walk,
}

impl Method {
    /// Every method, cheapest first.
    pub const ALL: [Method; 7] = [
        Method::Global,
        Method::Paper,
        Method::Product,
        Method::LocalSerra,
        Method::Hybrid,
        Method::Partition,
        Method::Walk,
    ];

    /// Whether the method runs within the time budget (after the cheap ones), and may be skipped.
    fn budgeted(self) -> bool {
        matches!(self, Method::Hybrid | Method::Partition | Method::Walk)
    }

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Method::Global => "global",
            Method::Paper => "paper",
            Method::Product => "product",
            Method::LocalSerra => "local-serra",
            Method::Hybrid => "hybrid",
            Method::Partition => "partition",
            Method::Walk => "walk",
        }
    }

    /// Parses a method name.
    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl std::str::FromStr for Method {
    type Err = crate::Error;

    fn from_str(name: &str) -> Result<Self> {
        Method::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
            crate::Error::Settings(format!("unknown method '{name}' (choose from {})", names.join(", ")))
        })
    }
}

/// One method's bound.
#[derive(Clone, Debug)]
pub struct BoundValue {
    /// The method.
    pub method: Method,
    /// The bound, exact.
    pub value: BigUint,
    /// Per hidden layer: what the method counted (JSON objects).
    pub per_layer: Vec<Value>,
    /// What the method assumed here (e.g. the L2 ball enclosing an L-inf ball).
    pub note: Option<String>,
}

/// Options of [`bounds`].
#[derive(Clone, Debug)]
pub struct BoundOptions {
    /// Methods to compute.
    pub methods: Vec<Method>,
    /// Random points sampled for the lower bound.
    pub samples: usize,
    /// Hybrid: number of leading hidden layers counted exactly.
    pub hybrid_layers: usize,
    /// Hybrid: the prefix walk's region budget; beyond it the hybrid bound is skipped.
    pub hybrid_max_regions: usize,
    /// Wall time for the whole computation (`None`: no limit). The cheap methods always run; an
    /// expensive one (`walk`, `partition`, `hybrid`) runs in what is left and is skipped, and
    /// reported as skipped, when the budget runs out first. `walk` runs only with a budget.
    pub budget: Option<Duration>,
}

impl BoundOptions {
    /// Random points sampled for the lower bound, by default.
    pub const DEFAULT_SAMPLES: usize = 2000;
    /// Hidden layers the hybrid bound counts exactly, by default.
    pub const DEFAULT_HYBRID_LAYERS: usize = 1;
    /// The hybrid prefix walk's region budget, by default.
    pub const DEFAULT_HYBRID_MAX_REGIONS: usize = 2000;
    /// The time budget of `bound`, `validate` and `audit` (seconds), by default: under a second
    /// on 784-input networks with every cheap method, the expensive ones in what is left.
    pub const DEFAULT_BUDGET_SECONDS: f64 = 0.5;

    /// What `bound` computes by default (the CLI, Python and the Ray audit): every method, within
    /// [`Self::DEFAULT_BUDGET_SECONDS`].
    pub fn budgeted() -> Self {
        BoundOptions { budget: Some(Duration::from_secs_f64(Self::DEFAULT_BUDGET_SECONDS)), ..Self::unbudgeted() }
    }

    /// Every method with no time budget: the expensive ones run to the end (`walk`, which needs a
    /// budget to stop at, does not run).
    pub fn unbudgeted() -> Self {
        BoundOptions {
            methods: Method::ALL.to_vec(),
            samples: Self::DEFAULT_SAMPLES,
            hybrid_layers: Self::DEFAULT_HYBRID_LAYERS,
            hybrid_max_regions: Self::DEFAULT_HYBRID_MAX_REGIONS,
            budget: None,
        }
    }

    /// A time budget given in seconds: a positive number, or infinity for none.
    pub fn budget_from_seconds(seconds: f64) -> Result<Option<Duration>> {
        if seconds.is_nan() || seconds <= 0.0 {
            return Err(crate::Error::Settings(format!(
                "the budget must be a positive number of seconds (or infinite for none), got {seconds}"
            )));
        }
        Ok(seconds.is_finite().then(|| Duration::from_secs_f64(seconds)))
    }

    /// These options without the `walk` method, for callers that walk exactly anyway (`validate`
    /// in the CLI and in Python): a budgeted walk would only repeat theirs.
    pub fn without_walk(mut self) -> Self {
        self.methods.retain(|m| *m != Method::Walk);
        self
    }
}

/// The front ends' defaults ([`BoundOptions::budgeted`]).
impl Default for BoundOptions {
    fn default() -> Self {
        BoundOptions::budgeted()
    }
}

/// Every requested bound, the best (smallest) one, a certified lower bound and the stability
/// analysis behind them.
#[derive(Clone, Debug)]
pub struct BoundReport {
    /// One entry per method computed.
    pub bounds: Vec<BoundValue>,
    /// Methods that could not be computed here, with the reason.
    pub skipped: Vec<(Method, String)>,
    /// Certified lower bound: distinct regions with a witness point (sampled, or found by the
    /// `walk` method or hybrid's prefix walk).
    pub lower: usize,
    /// Where the lower bound comes from.
    pub lower_source: &'static str,
    /// Points sampled for the lower bound (fewer than asked when the budget ran out first).
    pub samples: usize,
    /// The exact count, when the budgeted region walk behind the lower bound finished.
    pub exact: Option<usize>,
    /// Per layer `(active, inactive, unstable)` per interval method.
    pub stability: Vec<Value>,
    /// Every neuron's status and window candidate's fate under the intersected intervals: what an
    /// estimate over the same domain starts its cut tree from, so that it need not analyse again.
    pub screen: interval::Screen,
    /// How long the interval analysis took: when it alone outlasts the budget (a CIFAR ResNet),
    /// neither the budgeted methods nor an estimate beside the bounds are started.
    pub analysis: Duration,
}

impl BoundReport {
    /// The smallest bound.
    pub fn best(&self) -> Option<&BoundValue> {
        self.bounds.iter().min_by(|a, b| a.value.cmp(&b.value))
    }

    /// Whether the bracket from `lower` (at least the report's own lower bound) to the best bound
    /// holds more than one count: where an estimate has something to say.
    pub fn is_open(&self, lower: usize) -> bool {
        self.best().is_none_or(|b| b.value > BigUint::from(lower.max(self.lower)))
    }

    /// Takes `count` certified regions from `source` as the lower bound if it is larger.
    fn raise_lower(&mut self, count: usize, source: &'static str) {
        if count > self.lower {
            self.lower = count;
            self.lower_source = source;
        }
    }

    /// A method's bound, if computed.
    pub fn get(&self, method: Method) -> Option<&BoundValue> {
        self.bounds.iter().find(|b| b.method == method)
    }
}

/// `bound / exact` as a float (huge bounds go to infinity rather than failing; NaN when nothing
/// was found).
pub fn ratio(bound: &BigUint, exact: usize) -> f64 {
    if exact == 0 {
        return f64::NAN;
    }
    10f64.powf(log10(bound) - (exact as f64).log10())
}

/// Leaves of the cut tree after which the partition bound stops and bounds the cells left.
const PARTITION_MAX_LEAVES: usize = 200_000;

/// Computes the requested bounds for `net` over `domain`.
pub fn bounds(net: &Network, domain: &Domain, options: &BoundOptions) -> Result<BoundReport> {
    let deadline = options.budget.map(|b| Instant::now() + b);
    let set = InputSet::new(domain);
    let started = Instant::now();
    let max_units = !net.max_windows().is_empty();
    // `global` reads the widths only: it is counted beside the analysis (its big-integer sums
    // take 0.15 s on a CIFAR ResNet, while CROWN's last blocks leave a thread idle).
    let global_bound = || {
        options.methods.contains(&Method::Global).then(|| match max_units {
            true => with_max_units(net, Method::Global, None, false),
            false => global(net),
        })
    };
    let (stability, global_bound) = rayon::join(|| interval::analyse(net, &set), global_bound);
    let analysis = started.elapsed();
    let mut report = BoundReport {
        bounds: Vec::new(),
        skipped: Vec::new(),
        lower: 0,
        lower_source: "sampling",
        samples: 0,
        exact: None,
        stability: stability_json(&stability),
        screen: interval::Screen::of(net, &stability.combined),
        analysis,
    };
    let layers = layer_facts(net, &stability);
    // The cheap methods first, always; then, within the budget, the region walk (at most half of
    // what is left: it stops early when it finishes), the partition and hybrid.
    report.bounds.extend(global_bound);
    for &method in options.methods.iter().filter(|m| !m.budgeted() && **m != Method::Global) {
        if max_units {
            report.bounds.push(match method {
                Method::Global => unreachable!("counted beside the analysis"),
                Method::Paper => with_max_units(net, method, Some(&stability.paper), true),
                Method::Product => with_max_units(net, method, Some(&stability.combined), false),
                Method::LocalSerra => local_serra_with_max_units(net, &stability),
                Method::Hybrid | Method::Partition | Method::Walk => unreachable!("filtered out"),
            });
            continue;
        }
        report.bounds.push(match method {
            Method::Global => unreachable!("counted beside the analysis"),
            Method::Paper => paper(net, &stability, &set),
            Method::Product => product(net, &layers),
            Method::LocalSerra => local_serra(net, &layers),
            Method::Hybrid | Method::Partition | Method::Walk => unreachable!("filtered out"),
        });
    }
    let samples = match deadline.is_some_and(|d| Instant::now() >= d) {
        true => options.samples.min(SAMPLES_PAST_BUDGET),
        false => options.samples,
    };
    let sampled = crate::exact::oracle::sample::sample_patterns(net, domain, samples, 0x10b0, deadline);
    report.samples = sampled.points;
    report.raise_lower(sampled.patterns.len(), "sampling");
    if options.methods.contains(&Method::Walk) {
        walk_within_budget(net, domain, deadline, analysis, &mut report)?;
    }
    if options.methods.contains(&Method::Partition) {
        if deadline.is_some_and(|d| d <= Instant::now()) {
            report
                .skipped
                .push((Method::Partition, "the time budget ran out before it started (raise the budget)".into()));
        } else {
            // Half of what is left, so that hybrid keeps the other half.
            let now = Instant::now();
            let until = deadline.map(|d| now + d.saturating_duration_since(now) / 2);
            let global = Some(stability.combined.as_slice());
            match partition::upper_bound(net, domain, global, Some(PARTITION_MAX_LEAVES), until)? {
                Some(b) => report.bounds.push(BoundValue {
                    method: Method::Partition,
                    value: b.value,
                    per_layer: Vec::new(),
                    note: Some(if b.cut_short == 0 {
                        format!("every cell of the cut tree: {} leaves", b.leaves)
                    } else {
                        format!(
                            "{} leaves, and {} cells left uncut by the budget bounded by their own intervals",
                            b.leaves, b.cut_short
                        )
                    }),
                }),
                None => {
                    report.skipped.push((Method::Partition, "it needs a bounded domain of at most 8 inputs".into()))
                }
            }
        }
    }
    if options.methods.contains(&Method::Hybrid) {
        match hybrid::hybrid(net, domain, &stability, options, deadline)? {
            hybrid::Outcome::Bound { bound, prefix_regions } => {
                report.raise_lower(prefix_regions, "hybrid prefix walk");
                report.bounds.push(bound);
            }
            hybrid::Outcome::Skipped(why, prefix_regions) => {
                report.raise_lower(prefix_regions, "hybrid prefix walk");
                report.skipped.push((Method::Hybrid, why));
            }
        }
    }
    // In the order of `Method::ALL`, whichever ran first.
    report.bounds.sort_by_key(|b| Method::ALL.iter().position(|m| *m == b.method));
    Ok(report)
}

/// The `walk` method: the region walk in half of what is left of the budget. Finished, it is the
/// exact count, reported as a bound equal to it (and as the lower bound); stopped, its certified
/// regions are a lower bound and the method is skipped.
fn walk_within_budget(
    net: &Network,
    domain: &Domain,
    deadline: Option<Instant>,
    analysis: Duration,
    report: &mut BoundReport,
) -> Result<()> {
    let Some(deadline) = deadline else {
        let why = "it runs only within a time budget (`count` walks without one)".to_string();
        report.skipped.push((Method::Walk, why));
        return Ok(());
    };
    // The walk starts with its own interval analysis: not worth starting when that alone would
    // use up its share of the budget (a CIFAR CNN's analysis takes a large part of a second).
    let left = deadline.saturating_duration_since(Instant::now());
    if left / 2 <= analysis {
        report.skipped.push((Method::Walk, "too little of the time budget was left to start it".into()));
        return Ok(());
    }
    let walked =
        count(net, domain, &WalkOptions { time_limit: Some(left / 2), count_only: true, ..Default::default() })?;
    if walked.complete() {
        report.exact = Some(walked.count());
        report.raise_lower(walked.count(), "region walk (complete: exact)");
        report.bounds.push(BoundValue {
            method: Method::Walk,
            value: BigUint::from(walked.count()),
            per_layer: Vec::new(),
            note: Some(format!("the exact count: the region walk finished in {:.3} s", walked.seconds)),
        });
    } else {
        report.raise_lower(walked.count(), "partial region walk");
        let why = format!(
            "the region walk did not finish in its share of the budget ({:.3} s): its {} regions are a lower bound",
            walked.seconds,
            walked.count()
        );
        report.skipped.push((Method::Walk, why));
    }
    Ok(())
}

/// One hidden layer of a network with max units as the bounds see it (theory §11): its ReLUs,
/// and each window's pairwise differences as virtual neurons.
struct MaxLayer {
    relus: usize,
    /// ReLUs whose interval holds 0 (all of them without intervals).
    unstable_relus: usize,
    /// ReLUs that may be active.
    live_relus: usize,
    windows: usize,
    /// Pairs of candidates of one window whose difference can vanish on the domain (all pairs
    /// without intervals).
    crossing_pairs: usize,
}

/// The layers of a network with max units under `bounds` (per hidden layer; `None`: every unit
/// and pair may split).
fn max_layers(net: &Network, bounds: Option<&[Bounds]>) -> Vec<MaxLayer> {
    (0..net.hidden().len()).map(|l| max_layer(net, l, bounds.map(|b| &b[l]))).collect()
}

/// Hidden layer `l` of a network with max units under its intervals `b` (`None`: every unit and
/// pair may split).
fn max_layer(net: &Network, l: usize, b: Option<&Bounds>) -> MaxLayer {
    let windows = net.max_windows();
    let in_window = in_windows(net, l);
    let relus: Vec<usize> = (0..in_window.len()).filter(|&j| !in_window[j]).collect();
    let status = |j: usize| b.map_or(Status::Unstable, |b| b.status(j));
    // A pair splits a region only where its difference can vanish on the domain.
    let crossing = |i: usize, j: usize| b.is_none_or(|b| b.lower[i] <= b.upper[j] && b.lower[j] <= b.upper[i]);
    let crossing_pairs = windows
        .in_layer(l)
        .iter()
        .map(|w| w.clone().flat_map(|i| (i + 1..w.end).map(move |j| (i, j))).filter(|&(i, j)| crossing(i, j)).count())
        .sum();
    MaxLayer {
        relus: relus.len(),
        unstable_relus: relus.iter().filter(|&&j| status(j) == Status::Unstable).count(),
        live_relus: relus.iter().filter(|&&j| status(j) != Status::Inactive).count(),
        windows: windows.in_layer(l).len(),
        crossing_pairs,
    }
}

/// Which units of hidden layer `l` are max-window candidates.
fn in_windows(net: &Network, l: usize) -> Vec<bool> {
    let mut in_window = vec![false; net.hidden_widths()[l]];
    net.max_windows().in_layer(l).iter().flat_map(|w| w.clone()).for_each(|i| in_window[i] = true);
    in_window
}

/// Hidden layer `l` of `net` as one layer of the L3 recursion under its intervals `b`. A layer
/// with max windows (theory §11) counts its distinct unstable ReLUs plus its crossing pairs as
/// unstable hyperplanes, and its `α` and `β` (what the layer passes on) gain one dimension per
/// window: a piece's image has dimension at most the rank of its active ReLU rows plus the
/// windows, and counting a pair's side toward `α + u − j` only overstates the dimension, which
/// the recursion's non-decreasing `N_{l+1}` turns into a larger bound, so Lemma 5.2 and Theorem
/// 5.4 hold with the pairs as extra neurons.
pub(crate) fn serra_layer(net: &Network, l: usize, b: &Bounds) -> SerraLayer {
    let layer = &net.hidden()[l];
    if net.max_windows().in_layer(l).is_empty() {
        return facts(layer, |j| b.status(j)).serra();
    }
    let in_window = in_windows(net, l);
    // The layer's ReLUs alone: a candidate counts as never active here.
    let relus = facts(layer, |j| if in_window[j] { Status::Inactive } else { b.status(j) }).serra();
    let max = max_layer(net, l, Some(b));
    SerraLayer {
        unstable: relus.unstable + max.crossing_pairs,
        alpha: relus.alpha + max.windows,
        beta: relus.beta + max.windows,
    }
}

/// `global` (`bounds` none), `product` (the combined intervals) or `paper` (the paper's, with the
/// dimension capped by each layer's width as the paper caps it: `by_width`) for a network with
/// max units (theory §11). On a region of the layers before `l`, layer `l`'s pattern (its ReLUs'
/// signs and its windows' argmaxes) is decided by the signs of its ReLU pre-activations and of
/// the pairwise differences of each window's candidates: at most `m_l` hyperplanes, those whose
/// interval holds 0 (the others keep one sign on the domain). They are affine in the previous
/// layer's output, which varies in at most `δ_l` dimensions: `n0`, and what each earlier layer
/// passes on (its ReLUs that may be active, or all of them, and one value per window). So each
/// region splits into at most `Σ_{i ≤ δ_l} C(m_l, i)` (an arrangement pulled back), and the
/// product over layers bounds the count.
fn with_max_units(net: &Network, method: Method, bounds: Option<&[Bounds]>, by_width: bool) -> BoundValue {
    let mut value = BigUint::from(1u32);
    let mut per_layer = Vec::new();
    let mut dim = net.input_dim();
    for (l, layer) in max_layers(net, bounds).iter().enumerate() {
        let factor = binomial_sum(layer.unstable_relus + layer.crossing_pairs, dim);
        per_layer.push(factor_json(
            l,
            json!({"relus": layer.relus, "unstable_relus": layer.unstable_relus, "max_windows": layer.windows,
                   "crossing_pairs": layer.crossing_pairs, "dim_cap": dim}),
            &factor,
        ));
        value *= factor;
        dim = dim.min(if by_width { layer.relus } else { layer.live_relus } + layer.windows);
    }
    let note = match bounds {
        None => "max windows counted by all their candidates' pairwise differences (theory §11)",
        Some(_) => "max windows counted by the pairwise differences whose intervals hold 0 (theory §11)",
    };
    BoundValue { method, value, per_layer, note: Some(note.into()) }
}

/// `local-serra` for a network with max units ([`serra_layer`]).
fn local_serra_with_max_units(net: &Network, stability: &Stability) -> BoundValue {
    let layers: Vec<SerraLayer> =
        (0..net.hidden().len()).map(|l| serra_layer(net, l, &stability.combined[l])).collect();
    let per_layer = layers
        .iter()
        .enumerate()
        .map(|(l, s)| json!({"layer": l + 1, "unstable": s.unstable, "max_windows": net.max_windows().in_layer(l).len(), "alpha": s.alpha, "beta": s.beta}))
        .collect();
    BoundValue {
        method: Method::LocalSerra,
        value: serra(&layers, net.input_dim()),
        per_layer,
        note: Some(
            "max windows' crossing pairs as extra unstable neurons, one dimension passed on per window (theory §11)"
                .into(),
        ),
    }
}

/// What the L2/L3 rungs need to know about one hidden layer.
#[derive(Clone, Debug)]
pub(crate) struct LayerFacts {
    neurons: usize,
    active: usize,
    inactive: usize,
    unstable: usize,
    /// Unstable neurons after merging those with proportional `(w, b)` (same bent hyperplane).
    distinct_unstable: usize,
    /// Merged classes holding neurons of both orientations.
    mixed: usize,
    /// Rank of the stably active rows (over-estimated).
    alpha: usize,
    /// Rank of the possibly active rows (over-estimated).
    beta: usize,
}

fn layer_facts(net: &Network, st: &Stability) -> Vec<LayerFacts> {
    net.hidden().iter().zip(&st.combined).map(|(layer, b)| facts(layer, |j| b.status(j))).collect()
}

/// The facts of one layer given each neuron's status (also used per region by the hybrid).
pub(crate) fn facts(layer: &crate::model::Layer, status: impl Fn(usize) -> Status) -> LayerFacts {
    let n = layer.weight.nrows();
    let by = |s: Status| (0..n).filter(|&j| status(j) == s).collect::<Vec<_>>();
    let (active, inactive, unstable) = (by(Status::Active), by(Status::Inactive), by(Status::Unstable));
    let (distinct_unstable, mixed) = merge_proportional(layer, &unstable);
    let live: Vec<usize> = active.iter().chain(&unstable).copied().collect();
    LayerFacts {
        neurons: n,
        active: active.len(),
        inactive: inactive.len(),
        unstable: unstable.len(),
        distinct_unstable,
        mixed,
        alpha: linalg::weight_rank_upper(&layer.weight, &active),
        beta: linalg::weight_rank_upper(&layer.weight, &live),
    }
}

/// Groups neurons whose `(w, b)` rows are proportional (scalar of either sign): they share one bent
/// hyperplane. Returns the number of groups and of groups with both orientations.
///
/// Rows are compared only within buckets of the same support (entries above [`ROW_SUPPORT`] after
/// normalising): two rows within `PROPORTIONAL` share it unless an entry sits at the threshold,
/// and a missed merge only counts a hyperplane twice (a looser, still sound bound). The buckets
/// keep a convolution's thousands of rows, each over its own patch, from being compared pairwise.
fn merge_proportional(layer: &crate::model::Layer, neurons: &[usize]) -> (usize, usize) {
    let width = layer.weight.ncols();
    // Per support: (normalised row, seen with a positive lead, seen with a negative lead).
    type Class = (Vec<f64>, bool, bool);
    let mut buckets: rustc_hash::FxHashMap<Vec<usize>, Vec<Class>> = Default::default();
    for &j in neurons {
        let mut v = vec![0.0; width + 1];
        layer.weight.row(j).for_each(|(i, w)| v[i] = w);
        v[width] = layer.bias[j];
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 {
            buckets.entry(Vec::new()).or_default().push((v, true, false));
            continue;
        }
        let lead = v.iter().copied().find(|x| *x != 0.0).unwrap_or(1.0);
        let positive = lead > 0.0;
        let s = if positive { 1.0 } else { -1.0 } / norm;
        v.iter_mut().for_each(|x| *x *= s);
        let support: Vec<usize> = (0..v.len()).filter(|&i| v[i].abs() > ROW_SUPPORT).collect();
        let reps = buckets.entry(support).or_default();
        match reps.iter_mut().find(|(r, _, _)| r.iter().zip(&v).all(|(a, b)| (a - b).abs() <= PROPORTIONAL)) {
            Some(rep) => {
                rep.1 |= positive;
                rep.2 |= !positive;
            }
            None => reps.push((v, positive, !positive)),
        }
    }
    let reps = || buckets.values().flatten();
    (reps().count(), reps().filter(|r| r.1 && r.2).count())
}

fn factor_json(layer: usize, extra: Value, factor: &BigUint) -> Value {
    let mut v = json!({"layer": layer + 1, "factor": factor.to_string()});
    if let (Some(obj), Value::Object(more)) = (v.as_object_mut(), extra) {
        obj.extend(more);
    }
    v
}

/// L0: min(Serra et al. 2018, Montúfar 2017), independent of the domain.
fn global(net: &Network) -> BoundValue {
    let n0 = net.input_dim();
    let widths = net.hidden_widths();
    let serra_layers: Vec<SerraLayer> = widths.iter().map(|&n| SerraLayer { unstable: n, alpha: 0, beta: n }).collect();
    let serra_bound = serra(&serra_layers, n0);
    let mut montufar = BigUint::from(1u32);
    let mut per_layer = Vec::new();
    let mut dim = n0;
    for (l, &n) in widths.iter().enumerate() {
        let f = binomial_sum(n, dim);
        per_layer.push(factor_json(l, json!({"neurons": n, "dim_cap": dim}), &f));
        montufar *= f;
        dim = dim.min(n);
    }
    let (value, note) = if serra_bound <= montufar {
        (serra_bound, "Serra et al. 2018 (per_layer shows the Montúfar 2017 product)")
    } else {
        (montufar, "Montúfar 2017 product")
    };
    BoundValue { method: Method::Global, value, per_layer, note: Some(note.into()) }
}

/// L1, the paper's bound (theory §3): hyperplanes meeting the Lipschitz-propagated ball, product
/// of Zaslavsky sums with `δ_l = min(n0, n_1, …, n_{l-1})`.
fn paper(net: &Network, st: &Stability, set: &InputSet) -> BoundValue {
    let mut value = BigUint::from(1u32);
    let mut per_layer = Vec::new();
    let mut dim = net.input_dim();
    for (l, b) in st.paper.iter().enumerate() {
        let meeting = b.counts().2;
        let f = binomial_sum(meeting, dim);
        per_layer.push(factor_json(l, json!({"neurons": b.lower.len(), "meeting": meeting, "dim_cap": dim}), &f));
        value *= f;
        dim = dim.min(b.lower.len());
    }
    let note = match (set.ball, set.enclosing_radius()) {
        (Some(_), _) => None,
        (None, Some(r)) => Some(format!("applied to the smallest L2 ball containing the domain (radius {r})")),
        (None, None) => Some("unbounded domain: every hyperplane counts".into()),
    };
    BoundValue { method: Method::Paper, value, per_layer, note }
}

/// L2: product of Zaslavsky sums over the distinct unstable hyperplanes, with
/// `δ_l = min(n0, a_1+u_1, …, a_{l-1}+u_{l-1})`.
fn product(net: &Network, layers: &[LayerFacts]) -> BoundValue {
    let mut value = BigUint::from(1u32);
    let mut per_layer = Vec::new();
    let mut dim = net.input_dim();
    for (l, f) in layers.iter().enumerate() {
        let factor = binomial_sum(f.distinct_unstable, dim);
        per_layer.push(factor_json(
            l,
            json!({"neurons": f.neurons, "stably_active": f.active, "stably_inactive": f.inactive,
                   "unstable": f.unstable, "distinct_unstable": f.distinct_unstable, "dim_cap": dim}),
            &factor,
        ));
        value *= factor;
        dim = dim.min(f.active + f.unstable);
    }
    BoundValue { method: Method::Product, value, per_layer, note: None }
}

/// The L3 layers of the recursion for `facts`.
pub(crate) fn serra_layers(facts: &[LayerFacts]) -> Vec<SerraLayer> {
    facts.iter().map(LayerFacts::serra).collect()
}

impl LayerFacts {
    /// The layer in the L3 recursion: its distinct unstable hyperplanes, and `α` raised by the
    /// classes holding both orientations (theory §5, deduplication).
    fn serra(&self) -> SerraLayer {
        SerraLayer { unstable: self.distinct_unstable, alpha: self.alpha + self.mixed, beta: self.beta }
    }
}

/// L3: the local Serra recursion (theory §5).
fn local_serra(net: &Network, layers: &[LayerFacts]) -> BoundValue {
    let per_layer = layers
        .iter()
        .enumerate()
        .map(|(l, f)| {
            json!({"layer": l + 1, "neurons": f.neurons, "stably_active": f.active, "stably_inactive": f.inactive,
                   "distinct_unstable": f.distinct_unstable, "alpha": f.alpha + f.mixed, "beta": f.beta})
        })
        .collect();
    BoundValue {
        method: Method::LocalSerra,
        value: serra(&serra_layers(layers), net.input_dim()),
        per_layer,
        note: None,
    }
}

fn stability_json(st: &Stability) -> Vec<Value> {
    (0..st.combined.len())
        .map(|l| {
            let c = |b: &interval::Bounds| {
                let (a, i, u) = b.counts();
                json!({"active": a, "inactive": i, "unstable": u})
            };
            json!({"layer": l + 1, "paper_lipschitz": c(&st.paper[l]), "lipschitz": c(&st.lipschitz[l]),
                   "ibp": c(&st.ibp[l]), "crown": c(&st.crown[l]), "combined": c(&st.combined[l])})
        })
        .collect()
}
