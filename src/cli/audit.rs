//! `audit` and `audit-compare`: many points, and two reports side by side.

use super::args::*;
use super::interrupt_flag;
use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use regionwalk::bound::Method;
use regionwalk::model::io;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::Ordering;

pub(super) fn audit(args: AuditArgs) -> anyhow::Result<ExitCode> {
    use regionwalk::audit::{audit as run_audit, AuditOptions};
    let methods = if args.exact {
        Vec::new()
    } else if args.methods.is_empty() {
        vec![Method::Global, Method::Paper, Method::Product, Method::LocalSerra]
    } else {
        args.methods.clone()
    };
    let options = AuditOptions {
        radii: args.radius.clone(),
        norm: args.norm,
        exact: !args.bounds_only,
        methods,
        max_regions: args.max_regions,
        shard: args.shard.unwrap_or((0, 1)),
        bound_budget: regionwalk::bound::BoundOptions::budget_from_seconds(args.budget)?,
        estimate: args.estimate.then(|| args.estimate_settings.options(None)).transpose()?,
        interrupt: Some(interrupt_flag()),
    };
    options.check()?;
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
    let net = args.model.load()?;
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

pub(super) fn audit_compare(args: CompareArgs) -> anyhow::Result<ExitCode> {
    use regionwalk::audit::{read_report, stats};
    let (a, b) = (read_report(&args.a)?, read_report(&args.b)?);
    if a.is_empty() || b.is_empty() {
        bail!("both reports need records ({} has {}, {} has {})", args.a.display(), a.len(), args.b.display(), b.len());
    }
    let options = stats::CompareOptions {
        paired: args.paired,
        resamples: args.resamples,
        confidence: args.confidence,
        seed: args.seed,
    };
    let report = stats::compare_reports(&a, &b, &options)?;
    if args.json {
        let mut json = serde_json::to_value(&report)?;
        json["a"] = serde_json::json!(args.a);
        json["b"] = serde_json::json!(args.b);
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("A = {}, B = {}", args.a.display(), args.b.display());
    println!(
        "{}; effect sizes of A against B with {:.0}% bootstrap intervals ({} resamples, seed {})",
        if report.paired { "paired by point: Wilcoxon signed-rank" } else { "independent samples: Mann-Whitney U" },
        100.0 * report.confidence,
        report.resamples,
        report.seed
    );
    let median = |s: &Option<stats::Summary>| {
        s.as_ref().map_or("-".to_string(), |s| format!("{} [{}-{}]", short(s.median), short(s.q1), short(s.q3)))
    };
    let effect = |e: &Option<stats::Interval>| {
        e.as_ref().map_or("-".to_string(), |e| format!("{} [{}, {}]", short(e.estimate), short(e.low), short(e.high)))
    };
    println!(
        "{:<24} {:>5} {:>24} {:>5} {:>24} {:>9} {:>24} {:>28}",
        "quantity", "n(A)", "median A [IQR]", "n(B)", "median B [IQR]", "p", "Cliff's delta", "shift (Hodges-Lehmann)"
    );
    let row = |name: String, c: &stats::Contrast| {
        let n = |s: &Option<stats::Summary>| s.as_ref().map_or(0, |s| s.n);
        println!(
            "{name:<24} {:>5} {:>24} {:>5} {:>24} {:>9} {:>24} {:>28}",
            n(&c.a),
            median(&c.a),
            n(&c.b),
            median(&c.b),
            c.p_value.map_or("-".into(), |p| format!("{p:.3e}")),
            effect(&c.cliffs_delta),
            effect(&c.shift)
        );
    };
    row("boundary distance".into(), &report.boundary_distance);
    for v in &report.per_radius {
        row(format!("regions at r = {}", v.radius), &v.regions);
    }
    Ok(ExitCode::SUCCESS)
}

/// Four significant digits.
fn short(x: f64) -> String {
    format!("{}", format!("{x:.4e}").parse::<f64>().unwrap_or(x))
}
