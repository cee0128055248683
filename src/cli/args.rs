//! The command line as clap parses it: every subcommand's arguments, built of the shared flag
//! groups of [`super::flags`]. Nothing here loads a model or runs anything.

use super::flags::*;
use clap::{Args, Parser, Subcommand, ValueEnum};
use regionwalk::audit::AuditOptions;
use regionwalk::bound::{BoundOptions, Method};
use regionwalk::domain::Norm;
use regionwalk::exact::Engine;
use std::path::PathBuf;

/// Count exactly the activation regions of a ReLU network that meet a ball around an input.
#[derive(Parser, Debug)]
#[command(name = "regionwalk", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub(super) command: Command,
    /// Worker threads (default: all cores). The count never depends on it.
    #[arg(long, global = true)]
    pub(super) threads: Option<usize>,
}

#[derive(Subcommand, Debug)]
pub(super) enum Command {
    /// Count exactly the activation regions whose interior meets the domain: by walking the region
    /// graph with certified facet tests, or (boxes of up to 8 inputs) by partitioning the box.
    Count(CountArgs),
    /// Sound upper bounds on that number (the paper's and tighter ones) and a certified lower
    /// bound from witness points.
    ///
    /// Methods: global (Serra 2018 / Montúfar 2017, whole space), paper (Zhu, Lin & Tang 2020 as
    /// reconstructed: L2 ball propagated with certified spectral norms; for an L-inf ball or a box,
    /// the smallest L2 ball containing it), product (stability from intersected Lipschitz, IBP and
    /// CROWN intervals; proportional neurons merged), local-serra (local Serra recursion with ranks),
    /// hybrid (first layers counted exactly by region walking, then local-serra per region),
    /// partition (up to 8 inputs: the cut tree's cells not proven outside the domain), walk (the
    /// budgeted region walk: the exact count when it finishes).
    Bound(BoundArgs),
    /// Exact count, every bound, and how tight each bound is (bound / exact).
    Validate(ValidateArgs),
    /// A statistical estimate of the count, with its confidence interval, for domains too large to
    /// count (Knuth probes on the neuron-by-neuron cut tree: unbiased), beside the certified
    /// bracket lower ≤ regions ≤ upper, which it never replaces.
    Estimate(EstimateArgs),
    /// Audit the neighbourhoods of many points: per point and radius, the exact count, the bounds and
    /// the distance to the nearest region boundary, written incrementally (JSON Lines or CSV).
    Audit(AuditArgs),
    /// Compare two audit reports: per radius, count and boundary-distance distributions and a
    /// Mann–Whitney U test.
    AuditCompare(CompareArgs),
    /// A picture of the exact regions in a 2-D slice of the ball through the centre (for 2-input
    /// networks, the input plane itself), with the region counts of the slice and of the ball.
    Plot(PlotArgs),
    /// The region adjacency graph: one node per region (pattern, witness, inradius, output map id),
    /// one edge per facet shared inside the domain.
    Graph(GraphArgs),
    /// Forward pass at one point: output, activation pattern and the shape of the local affine map,
    /// to check that regionwalk computes what your framework computes.
    Eval(EvalArgs),
    /// The walk's benchmark suite: fixed seeded networks and domains (dimensions 2–16 and MNIST),
    /// with regions/s, LP solves, screened candidates per region and peak memory.
    Bench(BenchArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(super) enum SuiteArg {
    /// A few seconds: four small cases.
    Quick,
    /// The whole suite (several minutes).
    Full,
}

#[derive(Args, Debug)]
pub(super) struct BenchArgs {
    /// Which cases.
    #[arg(long, value_enum, default_value = "quick")]
    pub(super) suite: SuiteArg,
    /// Only cases whose name contains this text.
    #[arg(long)]
    pub(super) only: Option<String>,
    /// Thread counts to run every case with, comma-separated (e.g. 1,2 for the speed-up).
    #[arg(long, default_value = "1", value_delimiter = ',')]
    pub(super) thread_counts: Vec<usize>,
    /// The repository root, where the MNIST fixture lives.
    #[arg(long, default_value = env!("CARGO_MANIFEST_DIR"))]
    pub(super) root: PathBuf,
    /// One JSON object per case and thread count instead of a table.
    #[arg(long)]
    pub(super) json: bool,
    /// Exact method, as for `count` (`auto` partitions the boxes of up to 8 inputs).
    #[arg(long, value_parser = parsed::<Engine>, default_value = "auto")]
    pub(super) engine: Engine,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(super) enum LabelColumnArg {
    First,
    Last,
}

#[derive(Args, Debug)]
pub(super) struct AuditArgs {
    #[command(flatten)]
    pub(super) model: ModelArgs,
    /// Points: .npy (one row per point), .csv (optionally with a label column) or .json.
    #[arg(long)]
    pub(super) points: PathBuf,
    /// Labels, one per line, in the order of the points.
    #[arg(long, conflicts_with = "label_column")]
    pub(super) labels: Option<PathBuf>,
    /// Which column of a .csv points file holds the label.
    #[arg(long, value_enum)]
    pub(super) label_column: Option<LabelColumnArg>,
    /// Radii, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub(super) radius: Vec<f64>,
    /// Norm of the balls.
    #[arg(long, value_parser = parsed::<Norm>, default_value = "l2")]
    pub(super) norm: Norm,
    /// Exact counts only (no bounds).
    #[arg(long, conflicts_with = "bounds_only")]
    pub(super) exact: bool,
    /// Bounds only (no region walk).
    #[arg(long)]
    pub(super) bounds_only: bool,
    /// Bound methods (repeatable; default global, paper, product, local-serra).
    #[arg(long = "method", value_parser = parsed::<Method>)]
    pub(super) methods: Vec<Method>,
    /// Region budget of each walk; beyond it the record says `complete: false`.
    #[arg(long, default_value_t = AuditOptions::DEFAULT_MAX_REGIONS)]
    pub(super) max_regions: usize,
    /// Seconds for each record's bounds: an expensive method (hybrid) that overruns it is left
    /// out (`inf`: no limit).
    #[arg(long, default_value_t = BoundOptions::DEFAULT_BUDGET_SECONDS, value_parser = parse_budget)]
    pub(super) budget: f64,
    /// The report: .jsonl (JSON Lines) or .csv.
    #[arg(long)]
    pub(super) out: PathBuf,
    /// Keep the records already in --out and compute only the missing ones.
    #[arg(long)]
    pub(super) resume: bool,
    /// Only shard I of N (1-based): points whose index is I-1 modulo N.
    #[arg(long, value_parser = parse_shard)]
    pub(super) shard: Option<(usize, usize)>,
    /// Add a statistical estimate (columns estimate, estimate_low, estimate_high) to every record
    /// whose walk did not finish, within --budget seconds per record.
    #[arg(long)]
    pub(super) estimate: bool,
    #[command(flatten)]
    pub(super) estimate_settings: EstimateSettings,
    /// No progress bar.
    #[arg(long, short)]
    pub(super) quiet: bool,
}

pub(super) fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let (i, n) = text.split_once('/').ok_or("expected I/N, e.g. 2/4")?;
    let (i, n): (usize, usize) = (i.trim().parse().map_err(|_| "bad I")?, n.trim().parse().map_err(|_| "bad N")?);
    if n == 0 || i == 0 || i > n {
        return Err(format!("shard {i}/{n}: need 1 ≤ I ≤ N"));
    }
    Ok((i - 1, n))
}

#[derive(Args, Debug)]
pub(super) struct CompareArgs {
    /// First report (group A).
    pub(super) a: PathBuf,
    /// Second report (group B).
    pub(super) b: PathBuf,
    /// The same points in both reports (two epochs, an example and its source, two networks on
    /// the same inputs): pair them by point index, with the Wilcoxon signed-rank test and paired
    /// effect sizes. Without it, the groups are independent samples (Mann–Whitney U).
    #[arg(long)]
    pub(super) paired: bool,
    /// Bootstrap resamples behind each effect size's interval.
    #[arg(long, default_value_t = regionwalk::tolerance::COMPARE_BOOTSTRAP)]
    pub(super) resamples: usize,
    /// Coverage of the effect sizes' intervals, in (0, 1).
    #[arg(long, default_value_t = 0.95)]
    pub(super) confidence: f64,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub(super) seed: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub(super) json: bool,
}

#[derive(Args, Debug)]
pub(super) struct PlotArgs {
    #[command(flatten)]
    pub(super) model: ModelArgs,
    /// Centre of the ball (as for `count`; not a .vnnlib file).
    #[arg(long, alias = "centre")]
    pub(super) center: String,
    /// Radius of the ball (> 0).
    #[arg(long)]
    pub(super) radius: f64,
    /// Norm of the ball.
    #[arg(long, value_parser = parsed::<Norm>, default_value = "l2")]
    pub(super) norm: Norm,
    /// The plane through the centre: `axes:I,J` (0-based input axes; default `axes:0,1`),
    /// `random` or `random:SEED`, or `points` (with two --through points).
    #[arg(long, default_value = "axes:0,1")]
    pub(super) plane: String,
    /// A point the plane passes through (give it twice with `--plane points`).
    #[arg(long)]
    pub(super) through: Vec<String>,
    /// Output picture: .png or .svg.
    #[arg(long)]
    pub(super) out: PathBuf,
    /// Skip the exact count of the whole ball shown in the legend.
    #[arg(long)]
    pub(super) no_ball_count: bool,
    #[command(flatten)]
    pub(super) budget: Budget,
    /// No progress bar.
    #[arg(long, short)]
    pub(super) quiet: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(super) enum GraphFormat {
    Dot,
    Graphml,
    Json,
    /// JSON Lines, written as the walk goes: the JSON format's nodes then edges, one per line,
    /// without holding the graph in memory (for large walks; not with a checkpoint).
    Jsonl,
}

#[derive(Args, Debug)]
pub(super) struct GraphArgs {
    #[command(flatten)]
    pub(super) model: ModelArgs,
    #[command(flatten)]
    pub(super) domain: DomainArgs,
    /// Output format.
    #[arg(long, value_enum)]
    pub(super) format: GraphFormat,
    /// Output file.
    #[arg(long)]
    pub(super) out: PathBuf,
    #[command(flatten)]
    pub(super) budget: Budget,
    /// No progress bar.
    #[arg(long, short)]
    pub(super) quiet: bool,
}

#[derive(Args, Debug)]
pub(super) struct EvalArgs {
    #[command(flatten)]
    pub(super) model: ModelArgs,
    /// The point: comma-separated numbers or a .json/.csv/.npy file.
    #[arg(long)]
    pub(super) point: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub(super) json: bool,
}

#[derive(Args, Debug)]
pub(super) struct BoundArgs {
    #[command(flatten)]
    pub(super) model: ModelArgs,
    #[command(flatten)]
    pub(super) domain: DomainArgs,
    #[command(flatten)]
    pub(super) settings: BoundSettings,
    #[command(flatten)]
    pub(super) estimate: EstimateBeside,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub(super) json: bool,
}

#[derive(Args, Debug)]
pub(super) struct EstimateArgs {
    #[command(flatten)]
    pub(super) model: ModelArgs,
    #[command(flatten)]
    pub(super) domain: DomainArgs,
    #[command(flatten)]
    pub(super) estimate: EstimateSettings,
    /// Stop starting probes after this many seconds (the estimate then has fewer probes).
    #[arg(long, value_parser = parse_time_limit, allow_hyphen_values = true)]
    pub(super) time_limit: Option<std::time::Duration>,
    /// The certified bracket's bounds (as for `bound`).
    #[command(flatten)]
    pub(super) settings: BoundSettings,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub(super) json: bool,
}

#[derive(Args, Debug)]
pub(super) struct ValidateArgs {
    #[command(flatten)]
    pub(super) model: ModelArgs,
    #[command(flatten)]
    pub(super) domain: DomainArgs,
    #[command(flatten)]
    pub(super) settings: BoundSettings,
    #[command(flatten)]
    pub(super) estimate: EstimateBeside,
    #[command(flatten)]
    pub(super) budget: Budget,
    /// Also count the linear regions of the function (facet-adjacent regions with the same output
    /// map merged, theory §2.2); records every facet adjacency, so it costs more LPs.
    #[arg(long)]
    pub(super) linear: bool,
    #[command(flatten)]
    pub(super) print: Printing,
}

#[derive(Args, Debug)]
pub(super) struct CountArgs {
    #[command(flatten)]
    pub(super) model: ModelArgs,
    #[command(flatten)]
    pub(super) domain: DomainArgs,
    #[command(flatten)]
    pub(super) budget: Budget,
    /// Also count the linear regions of the function (facet-adjacent regions with the same output
    /// map merged, theory §2.2); records every facet adjacency, so it costs more LPs.
    #[arg(long)]
    pub(super) linear: bool,
    /// Re-check every counted region's witness in exact rational arithmetic (pattern, interior,
    /// inside the domain) and list any region that cannot be certified.
    #[arg(long)]
    pub(super) certify: bool,
    /// Write every region counted to this file as it is found: JSON Lines, one
    /// `{"pattern", "witness", "inradius"}` per line (read it with `regionwalk.read_regions` in
    /// Python). The walk streams it, so the regions are never all held in memory.
    #[arg(long, value_name = "FILE")]
    pub(super) save_regions: Option<PathBuf>,
    #[command(flatten)]
    pub(super) cluster: ClusterArgs,
    #[command(flatten)]
    pub(super) print: Printing,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_one_based_and_in_range() {
        assert_eq!(parse_shard("2/4"), Ok((1, 4)));
        assert_eq!(parse_shard(" 1 / 1 "), Ok((0, 1)));
        for bad in ["0/4", "5/4", "1/0", "2", "a/4", "2/b", "-1/4"] {
            assert!(parse_shard(bad).is_err(), "{bad} accepted");
        }
    }
}
