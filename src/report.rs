//! The reports of every question, typed once: the CLI prints them as JSON (`--json`), the Python
//! package receives the same JSON and builds its dataclasses from it, and `docs/reports.schema.json`
//! (generated from these types, checked by `tests/reports.rs`) documents every field.
//!
//! [`crate::problem::Problem`] builds them; front ends only fill the optional parts they were asked
//! for (`linear_regions`, `certified`) and print.

use crate::bound::{log10, ratio, BoundReport};
use crate::domain::Norm;
use crate::estimate::EstimateColumns;
use crate::exact::{Engine, StopReason};
use num_bigint::BigUint;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// What kind of domain was counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DomainKind {
    /// A ball (`norm`, `center`, `radius`).
    Ball,
    /// A box (`lower`, `upper`; zero-width coordinates are `fixed`).
    Box,
    /// The whole input space.
    Whole,
}

/// `count --json` (and Python's `count`, `count_box`, `count_whole`).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct CountReport {
    /// Activation regions counted: exact when `complete`, else a certified lower bound.
    pub regions: usize,
    /// Whether `regions` is exact: no budget stopped the count and no region was dropped.
    pub complete: bool,
    /// The budget that stopped the count, if one did.
    pub stopped_by: Option<StopReason>,
    /// The domain's kind.
    pub domain: DomainKind,
    /// Inputs held constant (zero-width box coordinates), as indices among the model's inputs.
    pub fixed: Vec<usize>,
    /// The ball's norm (balls only).
    pub norm: Option<Norm>,
    /// The ball's centre (balls only).
    pub center: Option<Vec<f64>>,
    /// The ball's radius (balls only).
    pub radius: Option<f64>,
    /// HiGHS LPs solved.
    pub lp_solves: u64,
    /// HiGHS distance QPs solved (L2 balls).
    pub qp_solves: u64,
    /// Questions answered by the dual least-norm solver.
    pub dual_solves: u64,
    /// Dual questions passed on to HiGHS.
    pub dual_fallbacks: u64,
    /// Facets refuted by a certificate kept from an earlier region.
    pub reused_refutations: u64,
    /// Borderline decisions (contacts with the domain's boundary, slivers thinner than the
    /// decision margin), not counted.
    pub touching: u64,
    /// Regions reached through a certified facet that had no certifiable interior point: dropped,
    /// and the count is then not exact.
    pub unverified: u64,
    /// Candidate hyperplanes screened out without a solver call.
    pub screened: u64,
    /// Facet tests skipped because the neighbour was already known.
    pub known_neighbours: u64,
    /// When regions were told apart by 128-bit fingerprints (`--visited`): an upper bound on the
    /// chance that two shared one, so that one was not counted. Null with exact patterns.
    pub collision_bound: Option<f64>,
    /// Regions of the walk's frontier written to disk to keep memory flat (the count does not
    /// depend on it).
    pub spilled_regions: u64,
    /// The point the count started from (model inputs), if the domain is not empty.
    pub start: Option<Vec<f64>>,
    /// Wall time, seconds.
    pub seconds: f64,
    /// The exact method that counted.
    pub engine: Engine,
    /// `.nnet` models: the units points are in (`normalised` or `raw`); null otherwise.
    pub units: Option<&'static str>,
    /// With `--linear`: linear regions of the function (null for a partial count, where it bounds
    /// nothing); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linear_regions: Option<Option<usize>>,
    /// With `--certify`: regions whose witness checks in exact rational arithmetic; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certified: Option<usize>,
    /// With `--certify`: the regions that failed the exact check, with the reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncertified: Option<Vec<Uncertified>>,
}

/// A region whose witness failed the exact rational check.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Uncertified {
    /// Index of the region in the count's region list.
    pub region: usize,
    /// Why the check failed.
    pub reason: String,
}

/// `count --json` of the dataflow walk (`--workers`, `--hostfile`): the count report and the
/// cluster's shape and traffic.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct DataflowCountReport {
    /// The count, summed over every worker.
    #[serde(flatten)]
    pub count: CountReport,
    /// Processes in the cluster.
    pub processes: usize,
    /// Worker threads per process.
    pub workers: usize,
    /// Regions held by each worker (global worker order).
    pub shards: Vec<usize>,
    /// Records sent from one process to another.
    pub remote_records: u64,
    /// Their payload, bytes.
    pub remote_bytes: u64,
    /// `remote_bytes` per region counted.
    pub remote_bytes_per_region: f64,
}

/// One method's upper bound.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct BoundEntry {
    /// The method (`global`, `paper`, `product`, `local-serra`, `hybrid`, `partition`, `walk`).
    pub method: String,
    /// The bound, an exact integer as a decimal string.
    pub value: String,
    /// Its base-10 logarithm.
    pub log10: f64,
    /// Per hidden layer: what the method counted there (method-specific objects).
    pub per_layer: Vec<Value>,
    /// What the method assumed here, if anything.
    pub note: Option<String>,
}

/// The least upper bound computed.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct BestBound {
    /// The method that gave it.
    pub method: String,
    /// The bound, an exact integer as a decimal string.
    pub value: String,
    /// Its base-10 logarithm.
    pub log10: f64,
}

/// The certified lower bound.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct LowerBound {
    /// Distinct regions with a witness point.
    pub value: usize,
    /// Where they were found: `sampling`, `hybrid` (its prefix walk) or `walk`.
    pub source: &'static str,
    /// Random points sampled.
    pub samples: usize,
}

/// A method that was asked for but not computed.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Skipped {
    /// The method.
    pub method: String,
    /// Why (the budget ran out, the method does not apply, …).
    pub reason: String,
}

/// What the bound report and the validate report share: every bound, the best, the lower bound,
/// what was skipped and the stability analysis behind them.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct BoundFields {
    /// One entry per method computed.
    pub bounds: Vec<BoundEntry>,
    /// The least of them.
    pub best: Option<BestBound>,
    /// The certified lower bound.
    pub lower: LowerBound,
    /// Methods not computed, with the reason.
    pub skipped: Vec<Skipped>,
    /// Per hidden layer: neurons proved active, inactive or unstable by each interval method.
    pub stability: Vec<Value>,
}

impl BoundFields {
    /// The fields of a computed [`BoundReport`].
    pub fn of(report: &BoundReport) -> Self {
        let entry = |value: &BigUint| (value.to_string(), log10(value));
        BoundFields {
            bounds: report
                .bounds
                .iter()
                .map(|b| {
                    let (value, log10) = entry(&b.value);
                    BoundEntry {
                        method: b.method.name().to_string(),
                        value,
                        log10,
                        per_layer: b.per_layer.clone(),
                        note: b.note.clone(),
                    }
                })
                .collect(),
            best: report.best().map(|b| {
                let (value, log10) = entry(&b.value);
                BestBound { method: b.method.name().to_string(), value, log10 }
            }),
            lower: LowerBound { value: report.lower, source: report.lower_source, samples: report.samples },
            skipped: report
                .skipped
                .iter()
                .map(|(m, why)| Skipped { method: m.name().to_string(), reason: why.clone() })
                .collect(),
            stability: report.stability.clone(),
        }
    }
}

/// The domain, described in full (the bound report's `domain`).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct DomainReport {
    /// The domain's kind.
    pub kind: DomainKind,
    /// The ball's norm (balls only).
    pub norm: Option<Norm>,
    /// The ball's centre (balls only).
    pub center: Option<Vec<f64>>,
    /// The ball's radius (balls only).
    pub radius: Option<f64>,
    /// The box's lower bounds in the model's inputs, fixed coordinates included (boxes only).
    pub lower: Option<Vec<f64>>,
    /// The box's upper bounds (boxes only).
    pub upper: Option<Vec<f64>>,
    /// Inputs held constant, as indices among the model's inputs.
    pub fixed: Vec<usize>,
    /// The input box the domain is clipped to, if any.
    pub clip: Option<ClipBox>,
}

/// A box a ball is clipped to.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ClipBox {
    /// Lower bounds.
    pub lower: Vec<f64>,
    /// Upper bounds.
    pub upper: Vec<f64>,
}

/// `bound --json` (and Python's `bound`).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct BoundsReport {
    /// The bounds.
    #[serde(flatten)]
    pub fields: BoundFields,
    /// A statistical estimate beside the bracket, when the bracket is not closed.
    #[serde(flatten)]
    pub estimate: EstimateColumns,
    /// The exact count, when the budgeted `walk` method finished.
    pub exact: Option<usize>,
    /// The domain.
    pub domain: DomainReport,
    /// `.nnet` models: the units points are in; null otherwise.
    pub units: Option<&'static str>,
}

/// `validate --json` (and Python's `validate`): the count, every bound and each bound's ratio to
/// the count.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ValidateReport {
    /// The exact count.
    #[serde(flatten)]
    pub count: CountReport,
    /// The bounds.
    #[serde(flatten)]
    pub fields: BoundFields,
    /// A statistical estimate beside the bracket, when the walk did not finish.
    #[serde(flatten)]
    pub estimate: EstimateColumns,
    /// Per method: its bound divided by the count (null when nothing was counted, or when the
    /// ratio exceeds a float's range).
    pub ratios: BTreeMap<String, Option<f64>>,
}

impl ValidateReport {
    /// The ratios of `report`'s bounds to `count` regions.
    pub fn ratios(report: &BoundReport, count: usize) -> BTreeMap<String, Option<f64>> {
        // Non-finite ratios (nothing counted; a bound past f64) are null, as JSON has no such numbers.
        let finite = |r: f64| r.is_finite().then_some(r);
        report.bounds.iter().map(|b| (b.method.name().to_string(), finite(ratio(&b.value, count)))).collect()
    }
}

/// The JSON Schema of every report, by name: what `docs/reports.schema.json` holds.
pub fn schemas() -> BTreeMap<&'static str, schemars::Schema> {
    BTreeMap::from([
        ("CountReport", schemars::schema_for!(CountReport)),
        ("DataflowCountReport", schemars::schema_for!(DataflowCountReport)),
        ("BoundsReport", schemars::schema_for!(BoundsReport)),
        ("ValidateReport", schemars::schema_for!(ValidateReport)),
        ("AuditRow", schemars::schema_for!(crate::audit::Record)),
        ("EstimateReport", schemars::schema_for!(EstimateReport)),
        ("AuditComparison", schemars::schema_for!(crate::audit::stats::Comparison)),
    ])
}

/// `estimate --json` (and Python's `estimate`): a statistical estimate of the count, with its
/// interval and how it was obtained, beside the certified bracket it never replaces.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct EstimateReport {
    /// Always `statistical`: this is not a certified count.
    pub kind: &'static str,
    /// How the estimate was obtained.
    pub method: &'static str,
    /// The estimate of the activation regions meeting the domain: `mean` clamped into the
    /// certified bracket `[lower, upper]` (which holds the count for certain).
    pub estimate: f64,
    /// The interval's lower end (clamped likewise).
    pub estimate_low: f64,
    /// The interval's upper end (clamped likewise).
    pub estimate_high: f64,
    /// The unbiased estimate itself: exact leaves of the enumerated prefix plus the strata's
    /// probe means, before clamping.
    pub mean: f64,
    /// The interval's coverage (e.g. 0.95).
    pub confidence: f64,
    /// The standard error of the mean of the probes.
    pub standard_error: f64,
    /// Probes run.
    pub probes: usize,
    /// Nodes each probe carried down the cut tree at once (1: Knuth's random paths; more: a
    /// population thinned without bias, Chen's heuristic sampling).
    pub width: usize,
    /// The cut tree probed: `box partition` (boxes of up to 8 inputs, width 1: cells cut on their
    /// corners) or `certified LP` (cuts decided by the dual path and HiGHS).
    pub tree: &'static str,
    /// Strata probed: the frontier of the exactly enumerated top of the cut tree (0: the whole
    /// tree was enumerated, and `mean` is the exact number of its leaves).
    pub strata: usize,
    /// `(Σ X)² / Σ X²` over the probes' contributions: far below `probes` means heavy tails.
    pub effective_probes: f64,
    /// The largest share of the probes' sum one probe carries.
    pub max_share: f64,
    /// Whether the diagnostics trust the interval (enough effective probes, no dominant probe).
    pub reliable: bool,
    /// The seed (the same seed gives the same estimate on any thread count).
    pub seed: u64,
    /// Certified lower bound on the count: distinct regions with a checked witness (from the
    /// probes' leaves or the bounds' own lower bound, whichever is larger).
    pub lower: usize,
    /// Certified upper bound: the least bound computed (exact integer as a decimal string); null
    /// when no method gave one (every requested method skipped).
    pub upper: Option<String>,
    /// The method that gave `upper`.
    pub upper_method: Option<String>,
    /// The domain.
    pub domain: DomainReport,
    /// `.nnet` models: the units points are in; null otherwise.
    pub units: Option<&'static str>,
    /// Solver work of the probes: HiGHS LPs.
    pub lp_solves: u64,
    /// Solver work of the probes: dual least-norm solves.
    pub dual_solves: u64,
    /// Wall time of the probes, seconds.
    pub seconds: f64,
}
