//! Text reports: counts, bounds and linear regions as a person reads them.

use regionwalk::bound::BoundReport;
use regionwalk::domain::Norm;
use regionwalk::exact::WalkResult;
use regionwalk::problem::Problem;

pub(super) fn print_count(problem: &Problem, r: &WalkResult) {
    print_counted(problem, r, r.count());
}

/// [`print_count`] for a result whose regions were not gathered (the dataflow walk's): `count`
/// regions.
pub(super) fn print_counted(problem: &Problem, r: &WalkResult, count: usize) {
    let what = problem.describe();
    if r.complete() {
        println!("{} activation regions meet the {what} (exact)", count);
    } else if r.stopped_by().is_none() {
        println!(
            "at least {count} activation regions meet the {what} (a certified lower bound: {} regions reached \
             through certified facets had no certifiable interior point and were dropped)",
            r.unverified
        );
    } else {
        use regionwalk::exact::StopReason;
        let why = match r.stopped_by() {
            Some(StopReason::MaxRegions) => "--max-regions",
            Some(StopReason::MaxMemory) => "--max-memory",
            Some(StopReason::Interrupted) => "Ctrl-C",
            _ => "--time-limit",
        };
        println!("at least {} activation regions meet the {what} (stopped by {why}; a certified lower bound)", count);
    }
    let engine = match r.engine {
        regionwalk::exact::Engine::Partition => "box partition",
        regionwalk::exact::Engine::Arrangement => "hyperplane arrangement",
        _ => "region walk",
    };
    println!(
        "{engine}: {} LP, {} QP and {} dual solves ({} passed on to HiGHS), {} hyperplanes screened out, {:.3} s",
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
    if let Some(bound) = r.collision_bound {
        println!(
            "regions told apart by 128-bit fingerprints: the chance that one was not counted is at most {bound:.1e} \
             (--visited patterns for exact patterns)"
        );
    }
    if r.spilled_regions > 0 {
        println!(
            "the frontier spilled {} queued regions ({:.1} MB) to disk to keep memory flat",
            r.spilled_regions,
            r.spilled_bytes as f64 / 1e6
        );
    }
}

pub(super) fn print_linear(linear: Option<Option<usize>>) {
    match linear {
        Some(Some(n)) => println!("{n} linear regions of the function (regions with equal maps merged across facets)"),
        Some(None) => println!("linear regions: not reported for a partial walk"),
        None => {}
    }
}

pub(super) fn print_bounds(report: &BoundReport, exact: Option<usize>) {
    println!(
        "{:<12} {:>24} {:>9}{}",
        "method",
        "upper bound",
        "log10",
        if exact.is_some() { "  bound/exact" } else { "" }
    );
    for b in &report.bounds {
        let shown = short_integer(&b.value.to_string());
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
            short_integer(&best.value.to_string()),
            match report.lower_source {
                "sampling" => format!("sampling, {} points", report.samples),
                other => other.to_string(),
            },
            best.method.name()
        );
    }
    if let Some(n) = report.exact {
        println!("exactly {n} regions: the region walk finished within the budget");
    }
}

pub(super) fn describe_norm(n: Norm) -> &'static str {
    match n {
        Norm::L2 => "L2",
        Norm::Linf => "L-inf",
    }
}

pub(super) fn print_estimate(problem: &Problem, r: &regionwalk::report::EstimateReport) {
    println!(
        "about {:.4e} activation regions meet the {} (a statistical estimate, not a certified count)",
        r.estimate,
        problem.describe()
    );
    println!(
        "  {:.0}% interval [{:.4e}, {:.4e}], standard error {:.3e}, from {} probes below {} strata of the {} cut \
         tree ({:.0} effective)",
        100.0 * r.confidence,
        r.estimate_low,
        r.estimate_high,
        r.standard_error,
        r.probes,
        r.strata,
        r.tree,
        r.effective_probes,
    );
    println!("  method: {}", r.method);
    if !r.reliable {
        println!(
            "  warning: the interval is unreliable: {:.0} effective probes, one probe carries {:.0}% of the sum \
             (more probes, or --seed to check)",
            r.effective_probes,
            100.0 * r.max_share
        );
    }
    match (&r.upper, &r.upper_method) {
        (Some(upper), Some(method)) => {
            println!("certified: {} ≤ regions ≤ {} (upper: {method})", r.lower, short_integer(upper))
        }
        _ => println!("certified: {} ≤ regions (no upper bound: every method asked for was skipped)", r.lower),
    }
}

/// The estimate beside a bound or validate table, when one was made; when one was `wanted` (asked
/// for, beside an open bracket) but none finished within the budget, says so.
pub(super) fn print_estimate_columns(e: &regionwalk::estimate::EstimateColumns, confidence: f64, wanted: bool) {
    if let (Some(estimate), Some(low), Some(high)) = (e.estimate, e.estimate_low, e.estimate_high) {
        println!(
            "statistical estimate (not certified; `regionwalk estimate` for its diagnostics): about {estimate:.4e} \
             regions, {:.0}% interval [{low:.4e}, {high:.4e}]{}",
            100.0 * confidence,
            if e.estimate_reliable == Some(false) { " (flagged unreliable: heavy tails)" } else { "" }
        );
    } else if wanted {
        println!(
            "statistical estimate: none within the time budget (the bounds and the estimate share twice \
             --budget, and none is tried once the analysis alone used it up; `regionwalk estimate` takes its own \
             --time-limit)"
        );
    }
}

/// A decimal integer as printed in tables: whole up to 24 digits, else its first 8 digits and
/// its exponent (a bound of 10³⁰⁰⁰ would fill the screen; `--json` keeps every digit).
fn short_integer(digits: &str) -> String {
    match digits.len() > 24 {
        true => format!("{}…e{}", &digits[..8], digits.len() - 1),
        false => digits.to_string(),
    }
}
