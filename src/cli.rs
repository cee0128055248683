//! Argument definitions and the drivers of each subcommand.

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use regionwalk::domain::{Domain, Norm};
use regionwalk::exact::walk::{walk, WalkOptions, WalkResult};
use regionwalk::model::{io, Network};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
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
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum NormArg {
    L2,
    Linf,
}

#[derive(Args, Debug)]
struct DomainArgs {
    /// Centre of the ball: comma-separated numbers (use `--center=-1,2` for a leading minus) or a
    /// .json/.csv file holding one point.
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
    /// Model file (.json).
    model: PathBuf,
    #[command(flatten)]
    domain: DomainArgs,
    /// Stop once this many regions are found (exit code 2; the count is then a lower bound).
    #[arg(long)]
    max_regions: Option<usize>,
    /// Stop after this many seconds (exit code 2; the count is then a lower bound).
    #[arg(long)]
    time_limit: Option<f64>,
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
    }
}

/// The domain as the user described it, plus a description for reports.
struct DomainChoice {
    domain: Domain,
    kind: &'static str,
    norm: Option<Norm>,
    center: Option<Vec<f64>>,
    radius: Option<f64>,
}

fn build_domain(net: &Network, args: &DomainArgs) -> anyhow::Result<DomainChoice> {
    let n0 = net.input_dim();
    let model_box =
        || net.input_box().context("the model declares no input box (--input-box and --clip-to-input-box need one)");
    let mut choice = if args.whole {
        DomainChoice { domain: Domain::whole(n0), kind: "whole", norm: None, center: None, radius: None }
    } else if args.input_box {
        let b = model_box()?;
        DomainChoice { domain: Domain::boxed(&b.lower, &b.upper)?, kind: "box", norm: None, center: None, radius: None }
    } else if !args.boxes.is_empty() {
        if args.center.is_some() || args.radius.is_some() {
            bail!("give either a ball (--center and --radius) or a box (--box), not both");
        }
        let (lower, upper) = parse_box(&args.boxes, n0)?;
        DomainChoice { domain: Domain::boxed(&lower, &upper)?, kind: "box", norm: None, center: None, radius: None }
    } else {
        let (Some(c), Some(r)) = (&args.center, args.radius) else {
            bail!("choose a domain: --center C --radius R (a ball), --box LO,HI, --input-box or --whole");
        };
        let center = io::parse_point(c)?;
        net.check_point(&center, "the centre")?;
        let norm = match args.norm {
            NormArg::L2 => Norm::L2,
            NormArg::Linf => Norm::Linf,
        };
        let domain = Domain::ball(&center, r, norm)?;
        DomainChoice { domain, kind: "ball", norm: Some(norm), center: Some(center), radius: Some(r) }
    };
    if args.clip_to_input_box {
        let b = model_box()?;
        choice.domain = choice.domain.clipped(&b.lower, &b.upper)?;
    }
    Ok(choice)
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

fn progress_bar(quiet: bool) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} regions, {per_sec}, {elapsed} ({msg})").expect("valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

fn count(args: CountArgs) -> anyhow::Result<ExitCode> {
    let net = io::load_network(&args.model)?;
    let choice = build_domain(&net, &args.domain)?;
    let time_limit = match args.time_limit {
        Some(t) if !(t.is_finite() && t > 0.0) => bail!("--time-limit must be a positive number of seconds, got {t}"),
        Some(t) => Some(Duration::from_secs_f64(t)),
        None => None,
    };
    if args.max_regions == Some(0) {
        bail!("--max-regions must be at least 1");
    }
    let progress = progress_bar(args.quiet);
    let options = WalkOptions { max_regions: args.max_regions, time_limit, progress: progress.clone() };
    let result = walk(&net, &choice.domain, &options)?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&count_json(&choice, &result))?);
    } else {
        print_count(&choice, &result);
    }
    Ok(if result.complete { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

fn count_json(choice: &DomainChoice, r: &WalkResult) -> serde_json::Value {
    serde_json::json!({
        "regions": r.count(),
        "complete": r.complete,
        "stopped_by": r.stopped_by,
        "domain": choice.kind,
        "norm": choice.norm,
        "center": choice.center,
        "radius": choice.radius,
        "lp_solves": r.counters.lp_solves,
        "qp_solves": r.counters.qp_solves,
        "touching": r.counters.touching,
        "unverified": r.unverified,
        "screened": r.screened,
        "known_neighbours": r.known_neighbours,
        "start": r.start,
        "seconds": r.seconds,
    })
}

fn print_count(choice: &DomainChoice, r: &WalkResult) {
    let what = match (choice.kind, choice.norm) {
        ("ball", Some(Norm::L2)) => format!("L2 ball of radius {}", choice.radius.unwrap_or_default()),
        ("ball", _) => format!("L-inf ball of radius {}", choice.radius.unwrap_or_default()),
        ("box", _) => "box".to_string(),
        _ => "whole input space".to_string(),
    };
    if r.complete {
        println!("{} activation regions meet the {what} (exact)", r.count());
    } else {
        let why = match r.stopped_by {
            Some(regionwalk::exact::walk::StopReason::MaxRegions) => "--max-regions",
            _ => "--time-limit",
        };
        println!(
            "at least {} activation regions meet the {what} (stopped by {why}; a certified lower bound)",
            r.count()
        );
    }
    println!(
        "{} LP and {} QP solves, {} hyperplanes screened out, {:.3} s",
        r.counters.lp_solves, r.counters.qp_solves, r.screened, r.seconds
    );
    if r.counters.touching > 0 {
        println!(
            "{} facets or regions only touch the sphere (within tolerance) and were not counted",
            r.counters.touching
        );
    }
    if r.unverified > 0 {
        println!(
            "warning: {} regions reached through a facet had no certifiable interior point and were not counted",
            r.unverified
        );
    }
}
