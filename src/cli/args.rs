//! The command line as clap parses it: every subcommand's arguments and the parsers of single
//! values. Nothing here loads a model or runs anything.

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
    /// Count exactly the activation regions whose interior meets the domain, by walking the
    /// region graph with LP checks.
    Count(CountArgs),
    /// Sound upper bounds on that number (the paper's and tighter ones) and a certified lower
    /// bound from witness points.
    ///
    /// Methods: global (Serra 2018 / Montúfar 2017, whole space), paper (Zhu, Lin & Tang 2020 as
    /// reconstructed: L2 ball propagated with certified spectral norms; for an L-inf ball or a box,
    /// the smallest L2 ball containing it), product (stability from intersected Lipschitz, IBP and
    /// CROWN intervals; proportional neurons merged), local-serra (local Serra recursion with ranks),
    /// hybrid (first layers counted exactly by region walking, then local-serra per region).
    Bound(BoundArgs),
    /// Exact count, every bound, and how tight each bound is (bound / exact).
    Validate(ValidateArgs),
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
pub(super) struct BoundSettings {
    /// Bound methods to compute (repeatable; default: all).
    #[arg(long = "method", value_parser = parsed::<Method>)]
    pub(super) methods: Vec<Method>,
    /// Random points sampled for the certified lower bound.
    #[arg(long, default_value_t = BoundOptions::DEFAULT_SAMPLES)]
    pub(super) samples: usize,
    /// Hybrid: hidden layers enumerated exactly.
    #[arg(long, default_value_t = BoundOptions::DEFAULT_HYBRID_LAYERS)]
    pub(super) hybrid_layers: usize,
    /// Hybrid: region budget of the exact prefix; the hybrid bound is skipped beyond it.
    #[arg(long, default_value_t = BoundOptions::DEFAULT_HYBRID_MAX_REGIONS)]
    pub(super) hybrid_max_regions: usize,
    /// Seconds for the whole bound computation: the cheap methods always run, an expensive one
    /// (hybrid) only in what is left, and is reported as skipped if the budget runs out (`inf`:
    /// no limit).
    #[arg(long, default_value_t = BoundOptions::DEFAULT_BUDGET_SECONDS, value_parser = parse_budget)]
    pub(super) budget: f64,
}

/// A budget in seconds, checked as the library checks it (`inf` for none).
fn parse_budget(text: &str) -> Result<f64, String> {
    let seconds = text.trim().parse::<f64>().map_err(|_| format!("'{text}' is not a number of seconds (or inf)"))?;
    BoundOptions::budget_from_seconds(seconds).map(|_| seconds).map_err(|e| e.to_string())
}

/// A value of a type the library parses (norms, engines, methods), with the library's message.
pub(super) fn parsed<T: std::str::FromStr<Err = regionwalk::Error>>(text: &str) -> Result<T, String> {
    text.parse().map_err(|e: regionwalk::Error| e.to_string())
}

#[derive(Args, Debug)]
pub(super) struct BoundArgs {
    #[command(flatten)]
    pub(super) model: ModelArgs,
    #[command(flatten)]
    pub(super) domain: DomainArgs,
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
    pub(super) budget: Budget,
    /// Also count the linear regions of the function (facet-adjacent regions with the same output
    /// map merged, theory §2.2); records every facet adjacency, so it costs more LPs.
    #[arg(long)]
    pub(super) linear: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub(super) json: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub(super) quiet: bool,
}

#[derive(Args, Debug)]
pub(super) struct Budget {
    /// Stop once this many regions are found (exit code 2; the count is then a lower bound).
    #[arg(long)]
    pub(super) max_regions: Option<usize>,
    /// Stop after this many seconds (exit code 2; the count is then a lower bound).
    #[arg(long)]
    pub(super) time_limit: Option<f64>,
    /// Stop cleanly before the walk's estimated memory exceeds this (e.g. 500M, 4G; exit code 2).
    #[arg(long, value_parser = parse_bytes)]
    pub(super) max_memory: Option<u64>,
    /// Save the walk's state to this file when it stops early (budget or Ctrl-C) and every minute.
    #[arg(long)]
    pub(super) checkpoint: Option<PathBuf>,
    /// Answer every solver question with HiGHS (no dual least-norm solver): the reference path,
    /// for comparisons; counts are the same.
    #[arg(long, hide = true)]
    pub(super) highs_only: bool,
    /// Continue the walk saved in this checkpoint file (same model, domain and options).
    #[arg(long)]
    pub(super) resume: Option<PathBuf>,
    /// Exact method: `auto` partitions boxes of up to 8 inputs and walks otherwise; `walk` and
    /// `partition` force one (the count is the same).
    #[arg(long, value_parser = parsed::<Engine>, default_value = "auto")]
    pub(super) engine: Engine,
}

pub(super) fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = t.find(|c: char| c.is_ascii_alphabetic()).map_or((t, ""), |i| t.split_at(i));
    let factor: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" => 1 << 10,
        "M" | "MB" => 1 << 20,
        "G" | "GB" => 1 << 30,
        other => return Err(format!("unknown unit '{other}' (use K, M or G)")),
    };
    let value: f64 = digits.trim().parse().map_err(|_| format!("'{text}' is not a size"))?;
    if !(value > 0.0 && value.is_finite()) {
        return Err(format!("'{text}' must be positive"));
    }
    Ok((value * factor as f64) as u64)
}

#[derive(Args, Debug)]
pub(super) struct ModelArgs {
    /// Model file: .json, .onnx or .nnet.
    pub(super) model: PathBuf,
    /// .nnet only: fold the header's normalisation into layer 1, so that points and the input box are
    /// in raw input units (default: normalised units, as the weights and VNN-COMP boxes are written).
    #[arg(long)]
    pub(super) raw_units: bool,
}

#[derive(Args, Debug)]
pub(super) struct DomainArgs {
    /// Centre of the ball: comma-separated numbers (use `--center=-1,2` for a leading minus), a
    /// .json/.csv/.npy file holding one point, or a .vnnlib file: its input box is the domain (or,
    /// with --radius, the ball is centred at the box's midpoint).
    #[arg(long, alias = "centre")]
    pub(super) center: Option<String>,
    /// Radius of the ball (> 0).
    #[arg(long)]
    pub(super) radius: Option<f64>,
    /// Norm of the ball: l2 (Euclidean, default) or linf (a cube).
    #[arg(long, value_parser = parsed::<Norm>, default_value = "l2")]
    pub(super) norm: Norm,
    /// Box domain instead of a ball: `--box LO,HI` once for every coordinate, or once for all.
    #[arg(long = "box", value_name = "LO,HI", allow_hyphen_values = true)]
    pub(super) boxes: Vec<String>,
    /// Use the model's own input box as the domain.
    #[arg(long, conflicts_with_all = ["boxes", "whole"])]
    pub(super) input_box: bool,
    /// Count every region of the whole input space (small networks only).
    #[arg(long, conflicts_with_all = ["boxes", "center", "radius"])]
    pub(super) whole: bool,
    /// Intersect the ball with the model's input box.
    #[arg(long)]
    pub(super) clip_to_input_box: bool,
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
    /// Write every region counted (pattern and witness) to this JSON file.
    #[arg(long, value_name = "FILE")]
    pub(super) save_regions: Option<PathBuf>,
    #[command(flatten)]
    pub(super) cluster: ClusterArgs,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub(super) json: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub(super) quiet: bool,
}

/// The dataflow walk (timely): worker threads and processes.
#[derive(Args, Debug)]
pub(super) struct ClusterArgs {
    /// Walk on timely dataflow with this many worker threads (in each process with --hostfile);
    /// patterns are sharded by hash over all workers. The count is the same as the single walk's.
    #[arg(long, value_name = "W")]
    pub(super) workers: Option<usize>,
    /// Walk over several processes: a file listing `host:port`, one line per process, process 0
    /// first. Start every process with the same arguments and its own --process; process 0
    /// prints the result. With --checkpoint/--resume FILE each worker keeps FILE.w<worker>.
    #[arg(long, value_name = "FILE", requires = "process")]
    pub(super) hostfile: Option<PathBuf>,
    /// This process's index (0-based line) in --hostfile.
    #[arg(long, value_name = "I", requires = "hostfile")]
    pub(super) process: Option<usize>,
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

    #[test]
    fn sizes_take_units_and_refuse_nonsense() {
        assert_eq!(parse_bytes("512"), Ok(512));
        assert_eq!(parse_bytes("2K"), Ok(2048));
        assert_eq!(parse_bytes("1.5M"), Ok(3 << 19));
        assert_eq!(parse_bytes("4gb"), Ok(4 << 30));
        for bad in ["", "0", "-1G", "2T", "G", "nanM", "infK"] {
            assert!(parse_bytes(bad).is_err(), "{bad:?} accepted");
        }
    }
}
