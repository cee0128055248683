//! The drivers of the subcommands that answer questions about one domain: load, run the library,
//! print (text via `report`, or JSON).

use super::args::*;
use super::flags::*;
use super::job::*;
use super::report::*;
use anyhow::{bail, Context};
use regionwalk::bound::bounds;
use regionwalk::domain::Domain;
use regionwalk::estimate::EstimateColumns;
use regionwalk::exact::regions_file::RegionWriter;
use regionwalk::exact::{Identity, WalkOptions, WalkResult};
use regionwalk::model::io;
use regionwalk::problem::Problem;
use regionwalk::report::CountReport;
use std::process::ExitCode;
use std::time::Instant;

/// What `count` and `validate` share: the problem, the exact walk and, on request, the number of
/// linear regions.
type Walked = (Problem, WalkResult, Option<Option<usize>>);

/// What a count keeps of its regions beyond the count.
#[derive(Default)]
pub(super) struct Keep<'a> {
    /// Re-check every region in exact arithmetic afterwards: the region list is kept, and
    /// regions are told apart by their exact patterns.
    pub(super) certify: bool,
    /// Stream the regions to this file as they are found.
    pub(super) save_regions: Option<&'a std::path::Path>,
}

pub(super) fn load_and_walk(
    model: &ModelArgs,
    domain: &DomainArgs,
    budget: &Budget,
    quiet: bool,
    linear: bool,
    keep: Keep,
) -> anyhow::Result<Walked> {
    let spec = domain.spec()?;
    let mut options = budget.walk_options(quiet)?;
    options.edges = linear;
    options.count_only = !keep.certify;
    if keep.certify {
        if budget.visited == Identity::Fingerprints {
            bail!("--certify re-checks exact patterns: it cannot be used with --visited fingerprints");
        }
        options.identity = Identity::Patterns;
    }
    let writer = keep.save_regions.map(RegionWriter::create).transpose()?;
    let checkpoint = budget.checkpoint_to_resume()?;
    let problem = spec.load(model)?;
    options.sink = writer.as_ref().map(|w| w.sink(problem.net.graph_units().clone()));
    let result = problem.walk(&options, checkpoint)?;
    writer.map(RegionWriter::finish).transpose()?;
    let linear = linear.then(|| problem.linear_regions(&result));
    Ok((problem, result, linear))
}

pub(super) fn count(args: CountArgs) -> anyhow::Result<ExitCode> {
    if args.cluster.workers.is_some() || args.cluster.hostfile.is_some() {
        return super::cluster::count_dataflow(args);
    }
    let keep = Keep { certify: args.certify, save_regions: args.save_regions.as_deref() };
    let (problem, result, linear) =
        load_and_walk(&args.model, &args.domain, &args.budget, args.print.quiet, args.linear, keep)?;
    let certificate = args.certify.then(|| problem.certify(&result));
    if args.print.json {
        let mut report = CountReport { linear_regions: linear, ..problem.count_report(&result) };
        if let Some(c) = &certificate {
            report = Problem::certified(report, c);
        }
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_count(&problem, &result);
        print_linear(linear);
        if let (Some(_), Some(path)) = (result.stopped_by(), &args.budget.checkpoint) {
            println!("state saved to {0}; continue with --resume {0}", path.display());
        }
        if let Some(c) = &certificate {
            println!("{} of {} regions certified in exact arithmetic", c.certified, result.count());
            for (i, why) in &c.failures {
                println!("  region {i} ({:?}): {why}", result.regions[*i].pattern);
            }
        }
    }
    Ok(if result.complete() { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

pub(super) fn bound(args: BoundArgs) -> anyhow::Result<ExitCode> {
    let spec = args.domain.spec()?;
    let problem = spec.load(&args.model)?;
    let options = args.settings.options()?;
    let estimate_options = args.estimate.options(options.budget)?;
    let started = Instant::now();
    let report = bounds(&problem.net, &problem.domain, &options)?;
    let estimate = match &estimate_options {
        Some(e) => problem.estimate_if_open(report.lower, &report, e, started)?,
        None => EstimateColumns::default(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&problem.bound_report(&report, estimate))?);
    } else {
        println!("upper bounds on the activation regions meeting the {}:", problem.describe());
        print_bounds(&report, None);
        let wanted = estimate_options.is_some() && report.is_open(report.lower);
        print_estimate_columns(&estimate, args.estimate.settings.confidence, wanted);
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let (problem, exact, linear) =
        load_and_walk(&args.model, &args.domain, &args.budget, args.print.quiet, args.linear, Keep::default())?;
    let options = args.settings.options()?.without_walk();
    let estimate_options = args.estimate.options(options.budget)?;
    let started = Instant::now();
    let report = bounds(&problem.net, &problem.domain, &options)?;
    let estimate = match &estimate_options {
        Some(e) if !exact.complete() => problem.estimate_if_open(exact.count(), &report, e, started)?,
        _ => EstimateColumns::default(),
    };
    let (mut v, sound) = problem.validate_report(&exact, &report, estimate);
    if args.print.json {
        v.count.linear_regions = linear;
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print_count(&problem, &exact);
        print_linear(linear);
        print_bounds(&report, Some(exact.count()));
        let wanted = estimate_options.is_some() && !exact.complete() && report.is_open(exact.count());
        print_estimate_columns(&v.estimate, args.estimate.settings.confidence, wanted);
    }
    sound?;
    Ok(if exact.complete() { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

pub(super) fn estimate(args: EstimateArgs) -> anyhow::Result<ExitCode> {
    use regionwalk::estimate::estimate;
    let options = args.estimate.options(args.time_limit)?;
    let spec = args.domain.spec()?;
    let problem = spec.load(&args.model)?;
    let report = bounds(&problem.net, &problem.domain, &args.settings.options()?)?;
    let e = match estimate(&problem.net, &problem.domain, &options) {
        Err(regionwalk::Error::TimeLimit) => bail!(
            "no estimate: the probes do not finish in time (a probe from the root took longer than half the \
             time limit, or the probes started were not done by twice it; raise --time-limit)"
        ),
        e => e?,
    };
    let r = problem.estimate_report(&e, &report, args.estimate.seed);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print_estimate(&problem, &r);
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn plot(args: PlotArgs) -> anyhow::Result<ExitCode> {
    use regionwalk::plot::{render, slice};
    let center = io::parse_point(&args.center)?;
    let norm = args.norm;
    let plane = parse_plane(&args.plane, &args.through)?;
    let options = WalkOptions { count_only: true, ..args.budget.walk_options(args.quiet)? };
    let checkpoint = args.budget.checkpoint_to_resume()?;
    Domain::ball(&center, args.radius, norm)?; // the radius and centre, checked before loading
    let problem = Problem::ball(args.model.load()?, &center, args.radius, norm)?;
    let sl = slice::slice(&problem.net, &center, args.radius, norm, &plane)?;
    let ball = if args.no_ball_count {
        None
    } else {
        let r = problem.walk(&options, checkpoint)?;
        Some((r.count(), r.complete()))
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

pub(super) fn graph(args: GraphArgs) -> anyhow::Result<ExitCode> {
    use regionwalk::plot::graph::{region_graph, to_dot, to_graphml, to_json, GraphSpool};
    let spec = args.domain.spec()?;
    let mut options = args.budget.walk_options(args.quiet)?;
    options.edges = true;
    let checkpoint = args.budget.checkpoint_to_resume()?;
    let problem = spec.load(&args.model)?;
    let (result, nodes, edges) = if let GraphFormat::Jsonl = args.format {
        // Streamed: the walk keeps neither regions nor adjacencies.
        let spool = GraphSpool::new()?;
        let (sink, edge_sink) = spool.sinks();
        let options = WalkOptions { count_only: true, sink: Some(sink), edge_sink: Some(edge_sink), ..options };
        let result = problem.walk(&options, checkpoint)?;
        let (nodes, edges) = spool.write_jsonl(&problem.net, &args.out)?;
        (result, nodes, edges)
    } else {
        let result = problem.walk(&options, checkpoint)?;
        let g = region_graph(&problem.net, &result)?;
        let text = match args.format {
            GraphFormat::Dot => to_dot(&g),
            GraphFormat::Graphml => to_graphml(&g),
            GraphFormat::Json | GraphFormat::Jsonl => serde_json::to_string_pretty(&to_json(&g))?,
        };
        std::fs::write(&args.out, text).with_context(|| format!("cannot write {}", args.out.display()))?;
        (result, g.node_count(), g.edge_count())
    };
    println!(
        "{} regions and {} facet adjacencies{} written to {}",
        nodes,
        edges,
        if result.complete() { "" } else { " (partial walk: a certified part of the graph)" },
        args.out.display()
    );
    Ok(if result.complete() { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

pub(super) fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let net = args.model.load()?;
    let x = io::parse_point(&args.point)?;
    net.check_point(&x, "the point")?;
    let output = net.output(&x);
    let pattern = net.pattern(&x);
    let interior = net.interior_pattern(&x).is_some();
    let (jacobian, _, _) = net.output_map(&pattern);
    let all_rows: Vec<usize> = (0..jacobian.nrows()).collect();
    let rank = regionwalk::analysis::linalg::rank_upper(jacobian.view(), &all_rows);
    // The model's own ReLUs (without a graph's carrying units), by layer.
    let units = net.graph_units();
    let shown = units.pattern(&pattern).by_layer(units.widths());
    if args.json {
        let v = serde_json::json!({
            "output": output.to_vec(),
            "pattern": shown,
            "on_boundary": !interior,
            "affine_map": {"rows": jacobian.nrows(), "cols": jacobian.ncols(), "rank": rank},
            "layers": net.layers().iter().map(|l| [l.weight.nrows(), l.weight.ncols()]).collect::<Vec<_>>(),
            "units": args.model.units(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("output: {:?}", output.to_vec());
        for (l, layer) in shown.iter().enumerate() {
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
            jacobian.nrows(),
            jacobian.ncols(),
            if interior { "" } else { " (the point lies on a region boundary)" }
        );
        if let Some(units) = args.model.units() {
            println!("inputs in {units} units");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
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
            "| case | threads | regions | s | regions/s | LPs/region (warm) | QPs/region | dual/region | solver calls/region | reused/region | screened/region | known/region | peak MiB | B/region |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    }
    for case in cases {
        for &threads in &args.thread_counts {
            let r =
                run(case, &args.root, threads, args.engine).with_context(|| format!("benchmark case {}", case.name))?;
            if args.json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                let peak = r.peak_mib.map_or("-".to_string(), |m| format!("{m:.0}"));
                println!(
                    "| {} | {} | {} | {:.3} | {:.0} | {:.2} ({:.2}) | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {:.1} | {peak} | {} |",
                    r.name,
                    r.threads,
                    r.regions,
                    r.seconds,
                    r.regions_per_second,
                    r.lps_per_region,
                    r.warm_per_region,
                    r.qps_per_region,
                    r.dual_per_region,
                    r.solver_calls_per_region,
                    r.reused_per_region,
                    r.screened_per_region,
                    r.known_per_region,
                    r.bytes_per_region
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
