//! Argument definitions and the drivers of each subcommand.

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use regionwalk::bound::{bounds, BoundOptions, BoundReport, Method};
use regionwalk::domain::Norm;
use regionwalk::exact::walk::{Checkpoint, Progress, ProgressFn, WalkOptions, WalkResult};
use regionwalk::model::{io, Network};
use regionwalk::plot::slice::Plane;
use regionwalk::problem::Problem;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Count exactly the activation regions of a ReLU network that meet a ball around an input.
#[derive(Parser, Debug)]
#[command(name = "regionwalk", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Worker threads (default: all cores). The count never depends on it.
    #[arg(long, global = true)]
    threads: Option<usize>,
}

#[derive(Subcommand, Debug)]
enum Command {
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
enum SuiteArg {
    /// A few seconds: four small cases.
    Quick,
    /// The whole suite (several minutes).
    Full,
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// Which cases.
    #[arg(long, value_enum, default_value = "quick")]
    suite: SuiteArg,
    /// Only cases whose name contains this text.
    #[arg(long)]
    only: Option<String>,
    /// Thread counts to run every case with, comma-separated (e.g. 1,2 for the speed-up).
    #[arg(long, default_value = "1", value_delimiter = ',')]
    thread_counts: Vec<usize>,
    /// The repository root, where the MNIST fixture lives.
    #[arg(long, default_value = env!("CARGO_MANIFEST_DIR"))]
    root: PathBuf,
    /// One JSON object per case and thread count instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum LabelColumnArg {
    First,
    Last,
}

#[derive(Args, Debug)]
struct AuditArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Points: .npy (one row per point), .csv (optionally with a label column) or .json.
    #[arg(long)]
    points: PathBuf,
    /// Labels, one per line, in the order of the points.
    #[arg(long, conflicts_with = "label_column")]
    labels: Option<PathBuf>,
    /// Which column of a .csv points file holds the label.
    #[arg(long, value_enum)]
    label_column: Option<LabelColumnArg>,
    /// Radii, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    radius: Vec<f64>,
    /// Norm of the balls.
    #[arg(long, value_enum, default_value = "l2")]
    norm: NormArg,
    /// Exact counts only (no bounds).
    #[arg(long, conflicts_with = "bounds_only")]
    exact: bool,
    /// Bounds only (no region walk).
    #[arg(long)]
    bounds_only: bool,
    /// Bound methods (repeatable; default global, paper, product, local-serra).
    #[arg(long = "method", value_parser = parse_method)]
    methods: Vec<Method>,
    /// Region budget of each walk; beyond it the record says `complete: false`.
    #[arg(long, default_value_t = 100_000)]
    max_regions: usize,
    /// The report: .jsonl (JSON Lines) or .csv.
    #[arg(long)]
    out: PathBuf,
    /// Keep the records already in --out and compute only the missing ones.
    #[arg(long)]
    resume: bool,
    /// Only shard I of N (1-based): points whose index is I-1 modulo N.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(usize, usize)>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let (i, n) = text.split_once('/').ok_or("expected I/N, e.g. 2/4")?;
    let (i, n): (usize, usize) = (i.trim().parse().map_err(|_| "bad I")?, n.trim().parse().map_err(|_| "bad N")?);
    if n == 0 || i == 0 || i > n {
        return Err(format!("shard {i}/{n}: need 1 ≤ I ≤ N"));
    }
    Ok((i - 1, n))
}

#[derive(Args, Debug)]
struct CompareArgs {
    /// First report (group A).
    a: PathBuf,
    /// Second report (group B).
    b: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct PlotArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Centre of the ball (as for `count`; not a .vnnlib file).
    #[arg(long, alias = "centre")]
    center: String,
    /// Radius of the ball (> 0).
    #[arg(long)]
    radius: f64,
    /// Norm of the ball.
    #[arg(long, value_enum, default_value = "l2")]
    norm: NormArg,
    /// The plane through the centre: `axes:I,J` (0-based input axes; default `axes:0,1`),
    /// `random` or `random:SEED`, or `points` (with two --through points).
    #[arg(long, default_value = "axes:0,1")]
    plane: String,
    /// A point the plane passes through (give it twice with `--plane points`).
    #[arg(long)]
    through: Vec<String>,
    /// Output picture: .png or .svg.
    #[arg(long)]
    out: PathBuf,
    /// Skip the exact count of the whole ball shown in the legend.
    #[arg(long)]
    no_ball_count: bool,
    #[command(flatten)]
    budget: Budget,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum GraphFormat {
    Dot,
    Graphml,
    Json,
}

#[derive(Args, Debug)]
struct GraphArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    domain: DomainArgs,
    /// Output format.
    #[arg(long, value_enum)]
    format: GraphFormat,
    /// Output file.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    budget: Budget,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct EvalArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// The point: comma-separated numbers or a .json/.csv/.npy file.
    #[arg(long)]
    point: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct BoundSettings {
    /// Bound methods to compute (repeatable; default: all).
    #[arg(long = "method", value_parser = parse_method)]
    methods: Vec<Method>,
    /// Random points sampled for the certified lower bound.
    #[arg(long, default_value_t = 2000)]
    samples: usize,
    /// Hybrid: hidden layers enumerated exactly.
    #[arg(long, default_value_t = 1)]
    hybrid_layers: usize,
    /// Hybrid: region budget of the exact prefix; the hybrid bound is skipped beyond it.
    #[arg(long, default_value_t = 2000)]
    hybrid_max_regions: usize,
}

impl BoundSettings {
    fn options(&self) -> BoundOptions {
        BoundOptions {
            methods: if self.methods.is_empty() { Method::ALL.to_vec() } else { self.methods.clone() },
            samples: self.samples,
            hybrid_layers: self.hybrid_layers,
            hybrid_max_regions: self.hybrid_max_regions,
        }
    }
}

fn parse_method(name: &str) -> Result<Method, String> {
    Method::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
        format!("unknown method '{name}' (choose from {})", names.join(", "))
    })
}

#[derive(Args, Debug)]
struct BoundArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    domain: DomainArgs,
    #[command(flatten)]
    settings: BoundSettings,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct ValidateArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    domain: DomainArgs,
    #[command(flatten)]
    settings: BoundSettings,
    #[command(flatten)]
    budget: Budget,
    /// Also count the linear regions of the function (facet-adjacent regions with the same output
    /// map merged, theory §2.2); records every facet adjacency, so it costs more LPs.
    #[arg(long)]
    linear: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct Budget {
    /// Stop once this many regions are found (exit code 2; the count is then a lower bound).
    #[arg(long)]
    max_regions: Option<usize>,
    /// Stop after this many seconds (exit code 2; the count is then a lower bound).
    #[arg(long)]
    time_limit: Option<f64>,
    /// Stop cleanly before the walk's estimated memory exceeds this (e.g. 500M, 4G; exit code 2).
    #[arg(long, value_parser = parse_bytes)]
    max_memory: Option<u64>,
    /// Save the walk's state to this file when it stops early (budget or Ctrl-C) and every minute.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Answer every solver question with HiGHS (no dual least-norm solver): the reference path,
    /// for comparisons; counts are the same.
    #[arg(long, hide = true)]
    highs_only: bool,
    /// Continue the walk saved in this checkpoint file (same model, domain and options).
    #[arg(long)]
    resume: Option<PathBuf>,
}

fn parse_bytes(text: &str) -> Result<u64, String> {
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

/// Set by Ctrl-C: walks stop cleanly and print what they found.
fn interrupt_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let handler_flag = flag.clone();
        // If a handler cannot be installed, Ctrl-C keeps its default meaning.
        let _ = ctrlc::set_handler(move || handler_flag.store(true, Ordering::Relaxed));
        flag
    })
    .clone()
}

impl Budget {
    /// The checkpoint `--resume` names, read and parsed (checked against the problem on resume).
    fn checkpoint_to_resume(&self) -> anyhow::Result<Option<Checkpoint>> {
        Ok(self.resume.as_deref().map(Checkpoint::load).transpose()?)
    }

    fn walk_options(&self, quiet: bool) -> anyhow::Result<WalkOptions> {
        let time_limit = match self.time_limit {
            Some(t) if !(t.is_finite() && t > 0.0) => {
                bail!("--time-limit must be a positive number of seconds, got {t}")
            }
            Some(t) => Some(Duration::from_secs_f64(t)),
            None => None,
        };
        if self.max_regions == Some(0) {
            bail!("--max-regions must be at least 1");
        }
        Ok(WalkOptions {
            max_regions: self.max_regions,
            time_limit,
            progress: progress_bar(quiet),
            edges: false,
            max_memory: self.max_memory,
            interrupt: Some(interrupt_flag()),
            checkpoint: self.checkpoint.clone(),
            highs_only: self.highs_only,
        })
    }
}

#[derive(Args, Debug)]
struct ModelArgs {
    /// Model file: .json, .onnx or .nnet.
    model: PathBuf,
    /// .nnet only: fold the header's normalisation into layer 1, so that points and the input box are
    /// in raw input units (default: normalised units, as the weights and VNN-COMP boxes are written).
    #[arg(long)]
    raw_units: bool,
}

impl ModelArgs {
    fn load(&self) -> anyhow::Result<Network> {
        Ok(io::load_network_with(&self.model, io::LoadOptions { raw_units: self.raw_units })?)
    }

    /// For `.nnet` models, which units points are in.
    fn units(&self) -> Option<&'static str> {
        let nnet = self.model.extension().is_some_and(|e| e.eq_ignore_ascii_case("nnet"));
        nnet.then_some(if self.raw_units { "raw" } else { "normalised" })
    }
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum NormArg {
    L2,
    Linf,
}

#[derive(Args, Debug)]
struct DomainArgs {
    /// Centre of the ball: comma-separated numbers (use `--center=-1,2` for a leading minus), a
    /// .json/.csv/.npy file holding one point, or a .vnnlib file: its input box is the domain (or,
    /// with --radius, the ball is centred at the box's midpoint).
    #[arg(long, alias = "centre")]
    center: Option<String>,
    /// Radius of the ball (> 0).
    #[arg(long)]
    radius: Option<f64>,
    /// Norm of the ball: l2 (Euclidean, default) or linf (a cube).
    #[arg(long, value_enum, default_value = "l2")]
    norm: NormArg,
    /// Box domain instead of a ball: `--box LO,HI` once for every coordinate, or once for all.
    #[arg(long = "box", value_name = "LO,HI", allow_hyphen_values = true)]
    boxes: Vec<String>,
    /// Use the model's own input box as the domain.
    #[arg(long, conflicts_with_all = ["boxes", "whole"])]
    input_box: bool,
    /// Count every region of the whole input space (small networks only).
    #[arg(long, conflicts_with_all = ["boxes", "center", "radius"])]
    whole: bool,
    /// Intersect the ball with the model's input box.
    #[arg(long)]
    clip_to_input_box: bool,
}

#[derive(Args, Debug)]
struct CountArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    domain: DomainArgs,
    #[command(flatten)]
    budget: Budget,
    /// Also count the linear regions of the function (facet-adjacent regions with the same output
    /// map merged, theory §2.2); records every facet adjacency, so it costs more LPs.
    #[arg(long)]
    linear: bool,
    /// Re-check every counted region's witness in exact rational arithmetic (pattern, interior,
    /// inside the domain) and list any region that cannot be certified.
    #[arg(long)]
    certify: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// Runs the parsed command; returns the exit code for successful and budget-stopped runs.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Some(n) = cli.threads {
        if n == 0 {
            bail!("--threads must be at least 1");
        }
        rayon::ThreadPoolBuilder::new().num_threads(n).build_global().context("cannot start the thread pool")?;
    }
    match cli.command {
        Command::Count(args) => count(args),
        Command::Bound(args) => bound(args),
        Command::Validate(args) => validate(args),
        Command::Eval(args) => eval(args),
        Command::Graph(args) => graph(args),
        Command::Plot(args) => plot(args),
        Command::Audit(args) => audit(args),
        Command::AuditCompare(args) => audit_compare(args),
        Command::Bench(args) => bench(args),
    }
}

/// The problem the domain flags describe, on the loaded network.
fn build_problem(net: Network, args: &DomainArgs) -> anyhow::Result<Problem> {
    let problem = if args.whole {
        Problem::whole(net)
    } else if args.input_box {
        Problem::input_box(net)?
    } else if !args.boxes.is_empty() {
        if args.center.is_some() || args.radius.is_some() {
            bail!("give either a ball (--center and --radius) or a box (--box), not both");
        }
        let (lower, upper) = parse_box(&args.boxes, net.input_dim())?;
        Problem::boxed(net, &lower, &upper)?
    } else if let Some((vnnlib, which)) = args.center.as_deref().and_then(vnnlib_spec) {
        let text = std::fs::read_to_string(vnnlib).with_context(|| format!("cannot read {vnnlib}"))?;
        let (lower, upper) = match which {
            None => io::input_box_from_vnnlib(&text),
            Some(k) => io::input_boxes_from_vnnlib(&text).and_then(|mut boxes| {
                let n = boxes.len();
                (k < n).then(|| boxes.swap_remove(k)).ok_or_else(|| format!("box {k} requested but the file has {n}"))
            }),
        }
        .map_err(|e| anyhow::anyhow!("{vnnlib}: {e}"))?;
        let n0 = net.input_dim();
        if lower.len() != n0 {
            bail!("{vnnlib} declares {} inputs but the network has {n0}", lower.len());
        }
        match args.radius {
            Some(r) => {
                let mid: Vec<f64> = lower.iter().zip(&upper).map(|(l, u)| 0.5 * (l + u)).collect();
                Problem::ball(net, &mid, r, norm_of(args.norm))?
            }
            None => Problem::boxed(net, &lower, &upper)?,
        }
    } else {
        let (Some(c), Some(r)) = (&args.center, args.radius) else {
            bail!("choose a domain: --center C --radius R (a ball), --box LO,HI, --input-box or --whole");
        };
        Problem::ball(net, &io::parse_point(c)?, r, norm_of(args.norm))?
    };
    Ok(if args.clip_to_input_box { problem.clipped_to_input_box()? } else { problem })
}

/// `FILE.vnnlib` or `FILE.vnnlib#K` (box K of a union).
fn vnnlib_spec(spec: &str) -> Option<(&str, Option<usize>)> {
    let (file, which) = match spec.rsplit_once('#') {
        Some((f, k)) => (f, Some(k.parse().ok()?)),
        None => (spec, None),
    };
    file.to_ascii_lowercase().ends_with(".vnnlib").then_some((file, which))
}

fn norm_of(n: NormArg) -> Norm {
    match n {
        NormArg::L2 => Norm::L2,
        NormArg::Linf => Norm::Linf,
    }
}

fn parse_box(specs: &[String], n0: usize) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let mut pairs = Vec::new();
    for spec in specs {
        let v: Vec<f64> = spec
            .split(',')
            .map(|s| s.trim().parse::<f64>().with_context(|| format!("--box {spec}: '{s}' is not a number")))
            .collect::<anyhow::Result<_>>()?;
        if v.len() != 2 {
            bail!("--box {spec}: expected LO,HI (two numbers)");
        }
        pairs.push((v[0], v[1]));
    }
    if pairs.len() == 1 {
        pairs = vec![pairs[0]; n0];
    }
    if pairs.len() != n0 {
        bail!("--box was given {} times; give it once (for every coordinate) or {n0} times", pairs.len());
    }
    Ok(pairs.into_iter().unzip())
}

/// A spinner on stderr fed by the walk's progress callback (none when quiet or not a terminal),
/// cleared when the walk returns.
fn progress_bar(quiet: bool) -> Option<ProgressFn> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} regions, {per_sec}, {elapsed} ({msg})").expect("valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(ProgressFn(std::sync::Arc::new(move |p: Progress| {
        if p.finished {
            bar.finish_and_clear();
        } else {
            bar.set_position(p.regions as u64);
            bar.set_message(format!("frontier {}, {} LPs", p.frontier, p.lp_solves));
        }
    })))
}

/// What `count` and `validate` share: the problem, the exact walk and, on request, the number of
/// linear regions.
type Walked = (Problem, WalkResult, Option<Option<usize>>);

fn load_and_walk(
    model: &ModelArgs,
    domain: &DomainArgs,
    budget: &Budget,
    quiet: bool,
    linear: bool,
) -> anyhow::Result<Walked> {
    let problem = build_problem(model.load()?, domain)?;
    let mut options = budget.walk_options(quiet)?;
    options.edges = linear;
    let result = problem.walk(&options, budget.checkpoint_to_resume()?)?;
    let linear = linear.then(|| linear_count(&problem.net, &result));
    Ok((problem, result, linear))
}

fn count(args: CountArgs) -> anyhow::Result<ExitCode> {
    let (problem, result, linear) = load_and_walk(&args.model, &args.domain, &args.budget, args.quiet, args.linear)?;
    let certificate = args.certify.then(|| problem.certify(&result));
    if args.json {
        let mut v = problem.count_json(&result);
        v["units"] = args.model.units().into();
        if let Some(l) = linear {
            v["linear_regions"] = l.into();
        }
        if let Some(c) = &certificate {
            v["certified"] = c.certified.into();
            v["uncertified"] =
                c.failures.iter().map(|(i, why)| serde_json::json!({"region": i, "reason": why})).collect();
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print_count(&problem, &result);
        print_linear(linear);
        if let (false, Some(path)) = (result.complete, &args.budget.checkpoint) {
            println!("state saved to {0}; continue with --resume {0}", path.display());
        }
        if let Some(c) = &certificate {
            println!("{} of {} regions certified in exact arithmetic", c.certified, result.count());
            for (i, why) in &c.failures {
                println!("  region {i} ({:?}): {why}", result.regions[*i].pattern);
            }
        }
    }
    Ok(if result.complete { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

fn bound(args: BoundArgs) -> anyhow::Result<ExitCode> {
    let problem = build_problem(args.model.load()?, &args.domain)?;
    let report = bounds(&problem.net, &problem.domain, &args.settings.options())?;
    if args.json {
        let mut v = report.to_json();
        v["domain"] = problem.domain_json();
        v["units"] = args.model.units().into();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("upper bounds on the activation regions meeting the {}:", problem.describe());
        print_bounds(&report, None);
    }
    Ok(ExitCode::SUCCESS)
}

fn validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let (problem, exact, linear) = load_and_walk(&args.model, &args.domain, &args.budget, args.quiet, args.linear)?;
    let report = bounds(&problem.net, &problem.domain, &args.settings.options())?;
    let (mut v, unsound) = problem.validate_json(&exact, &report);
    if args.json {
        v["units"] = args.model.units().into();
        if let Some(l) = linear {
            v["linear_regions"] = l.into();
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print_count(&problem, &exact);
        print_linear(linear);
        print_bounds(&report, Some(exact.count()));
    }
    if !unsound.is_empty() {
        bail!(
            "internal error: bound(s) {} fall below the exact count {}; please report this",
            unsound.join(", "),
            exact.count()
        );
    }
    Ok(if exact.complete { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

/// Linear regions of the function among the regions found; `None` for a partial walk, where the
/// number is not a bound of anything (linear regions are not monotone, theory P2).
fn linear_count(net: &Network, walk: &WalkResult) -> Option<usize> {
    walk.complete.then(|| regionwalk::exact::merge::linear_regions(net, walk).1)
}

fn print_linear(linear: Option<Option<usize>>) {
    match linear {
        Some(Some(n)) => println!("{n} linear regions of the function (regions with equal maps merged across facets)"),
        Some(None) => println!("linear regions: not reported for a partial walk"),
        None => {}
    }
}

fn parse_plane(spec: &str, through: &[String]) -> anyhow::Result<Plane> {
    let points = match (spec, through) {
        (_, [p, q]) => Some((io::parse_point(p)?, io::parse_point(q)?)),
        ("points", _) | (_, [_, ..]) => bail!("--plane points needs exactly two --through points"),
        _ => None,
    };
    Ok(Plane::parse(spec, points)?)
}

fn plot(args: PlotArgs) -> anyhow::Result<ExitCode> {
    use regionwalk::plot::{render, slice};
    let center = io::parse_point(&args.center)?;
    let norm = norm_of(args.norm);
    let plane = parse_plane(&args.plane, &args.through)?;
    let options = args.budget.walk_options(args.quiet)?;
    let problem = Problem::ball(args.model.load()?, &center, args.radius, norm)?;
    let sl = slice::slice(&problem.net, &center, args.radius, norm, &plane)?;
    let ball = if args.no_ball_count {
        None
    } else {
        let r = problem.walk(&options, args.budget.checkpoint_to_resume()?)?;
        Some((r.count(), r.complete))
    };
    let title = format!(
        "{}, {} ball of radius {}, plane {}",
        args.model.model.display(),
        describe_norm(norm),
        args.radius,
        args.plane
    );
    render::render(&sl, &args.out, &render::Legend { title, ball_regions: ball })?;
    println!(
        "{} regions in the slice{} drawn to {}",
        sl.polygons.len(),
        ball.map(|(n, c)| format!(" ({}{n} in the ball)", if c { "" } else { "at least " })).unwrap_or_default(),
        args.out.display()
    );
    Ok(if ball.is_some_and(|(_, c)| !c) { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

fn audit(args: AuditArgs) -> anyhow::Result<ExitCode> {
    use regionwalk::audit::{audit as run_audit, AuditOptions};
    let net = args.model.load()?;
    let column = args.label_column.map(|c| match c {
        LabelColumnArg::First => io::LabelColumn::First,
        LabelColumnArg::Last => io::LabelColumn::Last,
    });
    let (points, mut labels) = io::load_points(&args.points, column)?;
    if let Some(path) = &args.labels {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let l: Vec<String> = text.lines().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        if l.len() != points.len() {
            bail!("{} has {} labels for {} points", path.display(), l.len(), points.len());
        }
        labels = Some(l);
    }
    for &r in &args.radius {
        if !(r.is_finite() && r > 0.0) {
            bail!("every radius must be a positive finite number, got {r}");
        }
    }
    let methods = if args.exact {
        Vec::new()
    } else if args.methods.is_empty() {
        vec![Method::Global, Method::Paper, Method::Product, Method::LocalSerra]
    } else {
        args.methods.clone()
    };
    let options = AuditOptions {
        radii: args.radius.clone(),
        norm: norm_of(args.norm),
        exact: !args.bounds_only,
        methods,
        max_regions: args.max_regions,
        shard: args.shard.unwrap_or((0, 1)),
        interrupt: Some(interrupt_flag()),
    };
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} records, ETA {eta}").expect("valid template"));
        bar
    });
    let progress = |done: usize, total: usize| {
        if let Some(b) = &bar {
            b.set_length(total as u64);
            b.set_position(done as u64);
        }
    };
    let records = run_audit(&net, &points, labels.as_deref(), &options, Some(&args.out), args.resume, &progress)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let partial = records.iter().filter(|r| r.complete == Some(false)).count();
    println!(
        "{} records written to {}{}",
        records.len(),
        args.out.display(),
        if partial > 0 { format!(" ({partial} stopped by --max-regions: lower bounds)") } else { String::new() }
    );
    if interrupt_flag().load(Ordering::Relaxed) {
        println!("interrupted (Ctrl-C); continue with --resume");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn audit_compare(args: CompareArgs) -> anyhow::Result<ExitCode> {
    use regionwalk::audit::{read_report, stats};
    let (a, b) = (read_report(&args.a)?, read_report(&args.b)?);
    if a.is_empty() || b.is_empty() {
        bail!("both reports need records ({} has {}, {} has {})", args.a.display(), a.len(), args.b.display(), b.len());
    }
    let mut radii: Vec<f64> = a.iter().chain(&b).map(|r| r.radius).collect();
    radii.sort_by(f64::total_cmp);
    radii.dedup();
    let counts = |rs: &[regionwalk::audit::Record], r: f64| -> Vec<f64> {
        rs.iter()
            .filter(|x| x.radius == r && x.complete == Some(true))
            .filter_map(|x| x.regions.map(|n| n as f64))
            .collect()
    };
    // The boundary distance does not depend on the radius: one value per point.
    let distances = |rs: &[regionwalk::audit::Record]| -> Vec<f64> {
        let mut seen = rustc_hash::FxHashSet::default();
        rs.iter().filter(|x| seen.insert(x.point)).map(|x| x.boundary_distance).collect()
    };
    let compare = |x: &[f64], y: &[f64]| {
        let test = stats::mann_whitney(x, y);
        serde_json::json!({"a": stats::summary(x), "b": stats::summary(y), "u": test.map(|t| t.0), "p_value": test.map(|t| t.1)})
    };
    let per_radius: Vec<serde_json::Value> = radii
        .iter()
        .map(|&r| serde_json::json!({"radius": r, "regions": compare(&counts(&a, r), &counts(&b, r))}))
        .collect();
    let distance = compare(&distances(&a), &distances(&b));
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"a": args.a, "b": args.b, "boundary_distance": distance, "per_radius": per_radius})
            )?
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("A = {}, B = {}", args.a.display(), args.b.display());
    let row = |name: String, v: &serde_json::Value| {
        let s = |g: &str, k: &str| v[g][k].as_f64().map_or("-".to_string(), |x| format!("{x:.4}"));
        let n = |g: &str| v[g]["n"].as_u64().map_or("0".to_string(), |x| x.to_string());
        println!(
            "{name:<26} {:>5} {:>10} {:>10} {:>10}   {:>5} {:>10} {:>10} {:>10}   {:>9}",
            n("a"),
            s("a", "mean"),
            s("a", "median"),
            format!("{}-{}", s("a", "q1"), s("a", "q3")),
            n("b"),
            s("b", "mean"),
            s("b", "median"),
            format!("{}-{}", s("b", "q1"), s("b", "q3")),
            v["p_value"].as_f64().map_or("-".into(), |p| format!("{p:.3e}"))
        );
    };
    println!(
        "{:<26} {:>5} {:>10} {:>10} {:>10}   {:>5} {:>10} {:>10} {:>10}   {:>9}",
        "quantity", "n(A)", "mean", "median", "IQR", "n(B)", "mean", "median", "IQR", "p (M-W U)"
    );
    row("boundary distance".into(), &distance);
    for v in &per_radius {
        row(format!("regions at r = {}", v["radius"]), &v["regions"]);
    }
    Ok(ExitCode::SUCCESS)
}

fn describe_norm(n: Norm) -> &'static str {
    match n {
        Norm::L2 => "L2",
        Norm::Linf => "L-inf",
    }
}

fn graph(args: GraphArgs) -> anyhow::Result<ExitCode> {
    use regionwalk::plot::graph::{region_graph, to_dot, to_graphml, to_json};
    let mut options = args.budget.walk_options(args.quiet)?;
    options.edges = true;
    let problem = build_problem(args.model.load()?, &args.domain)?;
    let result = problem.walk(&options, args.budget.checkpoint_to_resume()?)?;
    let g = region_graph(&problem.net, &result);
    let text = match args.format {
        GraphFormat::Dot => to_dot(&g),
        GraphFormat::Graphml => to_graphml(&g),
        GraphFormat::Json => serde_json::to_string_pretty(&to_json(&g))?,
    };
    std::fs::write(&args.out, text).with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "{} regions and {} facet adjacencies{} written to {}",
        g.node_count(),
        g.edge_count(),
        if result.complete { "" } else { " (partial walk: stopped by a budget)" },
        args.out.display()
    );
    Ok(if result.complete { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

fn print_bounds(report: &BoundReport, exact: Option<usize>) {
    println!(
        "{:<12} {:>24} {:>9}{}",
        "method",
        "upper bound",
        "log10",
        if exact.is_some() { "  bound/exact" } else { "" }
    );
    for b in &report.bounds {
        let digits = b.value.to_string();
        let shown = if digits.len() > 24 { format!("{}…e{}", &digits[..8], digits.len() - 1) } else { digits };
        let r = exact.map(|e| format!("  {:>11.3}", regionwalk::bound::ratio(&b.value, e))).unwrap_or_default();
        println!("{:<12} {:>24} {:>9.3}{r}", b.method.name(), shown, regionwalk::bound::log10(&b.value));
        if let Some(note) = &b.note {
            println!("{:<12} ({note})", "");
        }
    }
    for (m, why) in &report.skipped {
        println!("{:<12} skipped: {why}", m.name());
    }
    if let Some(best) = report.best() {
        println!(
            "bracket: {} ≤ regions ≤ {} (lower: {}; upper: {})",
            report.lower,
            best.value,
            report.lower_source,
            best.method.name()
        );
    }
}

fn print_count(problem: &Problem, r: &WalkResult) {
    let what = problem.describe();
    if r.complete {
        println!("{} activation regions meet the {what} (exact)", r.count());
    } else {
        use regionwalk::exact::walk::StopReason;
        let why = match r.stopped_by {
            Some(StopReason::MaxRegions) => "--max-regions",
            Some(StopReason::MaxMemory) => "--max-memory",
            Some(StopReason::Interrupted) => "Ctrl-C",
            _ => "--time-limit",
        };
        println!(
            "at least {} activation regions meet the {what} (stopped by {why}; a certified lower bound)",
            r.count()
        );
    }
    println!(
        "{} LP, {} QP and {} dual solves ({} passed on to HiGHS), {} hyperplanes screened out, {:.3} s",
        r.counters.lp_solves,
        r.counters.qp_solves,
        r.counters.dual_solves,
        r.counters.dual_fallbacks,
        r.screened,
        r.seconds
    );
    if r.counters.touching > 0 {
        println!(
            "{} borderline decisions: facets or regions that only touch the domain, or slivers thinner than \
             the decision margin ({:e} of the domain's scale), were not counted",
            r.counters.touching,
            regionwalk::tolerance::DECIDE
        );
    }
    if r.unverified > 0 {
        println!(
            "warning: {} regions reached through a facet had no certifiable interior point and were not counted",
            r.unverified
        );
    }
}

fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let net = args.model.load()?;
    let x = io::parse_point(&args.point)?;
    net.check_point(&x, "the point")?;
    let output = net.output(&x);
    let pattern = net.pattern(&x);
    let interior = net.interior_pattern(&x).is_some();
    let surrogate = net.surrogate(&pattern);
    let all_rows: Vec<usize> = (0..surrogate.jacobian.nrows()).collect();
    let rank = regionwalk::analysis::linalg::rank_upper(surrogate.jacobian.view(), &all_rows);
    let widths = net.hidden_widths();
    if args.json {
        let v = serde_json::json!({
            "output": output.to_vec(),
            "pattern": pattern.by_layer(&widths),
            "on_boundary": !interior,
            "affine_map": {"rows": surrogate.jacobian.nrows(), "cols": surrogate.jacobian.ncols(), "rank": rank},
            "layers": net.layers().iter().map(|l| [l.weight.nrows(), l.weight.ncols()]).collect::<Vec<_>>(),
            "units": args.model.units(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("output: {:?}", output.to_vec());
        for (l, layer) in pattern.by_layer(&widths).iter().enumerate() {
            let bits: String = layer.iter().map(|b| if *b == 1 { '1' } else { '0' }).collect();
            println!(
                "layer {} pattern: {bits} ({} of {} active)",
                l + 1,
                layer.iter().filter(|b| **b == 1).count(),
                layer.len()
            );
        }
        println!(
            "local affine map: {}×{} of rank {rank}{}",
            surrogate.jacobian.nrows(),
            surrogate.jacobian.ncols(),
            if interior { "" } else { " (the point lies on a region boundary)" }
        );
        if let Some(units) = args.model.units() {
            println!("inputs in {units} units");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    use regionwalk::bench::{run, FULL, QUICK};
    if args.thread_counts.contains(&0) {
        bail!("--thread-counts: every count must be at least 1");
    }
    let suite = match args.suite {
        SuiteArg::Quick => QUICK,
        SuiteArg::Full => FULL,
    };
    let cases: Vec<_> =
        suite.iter().filter(|c| args.only.as_ref().is_none_or(|o| c.name.contains(o.as_str()))).collect();
    if cases.is_empty() {
        bail!("no benchmark case matches --only");
    }
    if !args.json {
        println!(
            "| case | threads | regions | s | regions/s | LPs/region (warm) | QPs/region | screened/region | known/region | peak MiB | B/region |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|");
    }
    for case in cases {
        for &threads in &args.thread_counts {
            let r = run(case, &args.root, threads).with_context(|| format!("benchmark case {}", case.name))?;
            if args.json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                let peak = r.peak_mib.map_or("-".to_string(), |m| format!("{m:.0}"));
                println!(
                    "| {} | {} | {} | {:.3} | {:.0} | {:.2} ({:.2}) | {:.2} | {:.1} | {:.1} | {peak} | {} |",
                    r.name,
                    r.threads,
                    r.regions,
                    r.seconds,
                    r.regions_per_second,
                    r.lps_per_region,
                    r.warm_per_region,
                    r.qps_per_region,
                    r.screened_per_region,
                    r.known_per_region,
                    r.bytes_per_region
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
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

    #[test]
    fn boxes_are_given_once_or_per_coordinate() {
        let specs = |s: &[&str]| s.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_box(&specs(&["-1,2"]), 3).unwrap(), (vec![-1.0; 3], vec![2.0; 3]));
        assert_eq!(parse_box(&specs(&["0,1", "2, 3"]), 2).unwrap(), (vec![0.0, 2.0], vec![1.0, 3.0]));
        let message = |s: &[&str], n| parse_box(&specs(s), n).unwrap_err().to_string();
        assert!(message(&["0,1", "0,1"], 3).contains("given 2 times"));
        assert!(message(&["0,1,2"], 1).contains("two numbers"));
        assert!(message(&["0,x"], 1).contains("'x' is not a number"));
    }

    #[test]
    fn planes_parse_axes_random_and_points() {
        assert!(matches!(parse_plane("axes:0,3", &[]).unwrap(), Plane::Axes(0, 3)));
        assert!(matches!(parse_plane("random", &[]).unwrap(), Plane::Random(0)));
        assert!(matches!(parse_plane("random:7", &[]).unwrap(), Plane::Random(7)));
        let through = vec!["1,0".to_string(), "0,1".to_string()];
        assert!(
            matches!(parse_plane("points", &through).unwrap(), Plane::Points(p, q) if p == [1.0, 0.0] && q == [0.0, 1.0])
        );
        for bad in ["axes:1", "axes:a,b", "random:x", "diagonal"] {
            assert!(parse_plane(bad, &[]).is_err(), "{bad} accepted");
        }
        assert!(parse_plane("points", &through[..1]).is_err());
    }
}
