//! The estimate (theory §10) against exact counts: unbiased on random and degenerate networks,
//! with plain probes and with an exact prefix as strata (and a deliberately biased variant is
//! caught by the same test), intervals that cover on 200+ cases, a certified lower bound that
//! holds, reported estimates inside the certified bracket, and the same answer for any thread
//! count.

mod common;

use common::{unbiased, z_scores};
use regionwalk::domain::{Domain, Norm};
use regionwalk::estimate::{estimate, estimate_with, Child, ChildChoice, Estimate, EstimateOptions, BOX_TREE};
use regionwalk::exact::{count, WalkOptions};
use regionwalk::model::Network;
use regionwalk::problem::Problem;

/// The cases: small random and degenerate networks, both norms, with their exact counts (at
/// least 2 regions, at most 600: enough for the trees to branch, few enough to count).
fn cases() -> Vec<(String, Network, Domain, usize)> {
    let mut out = Vec::new();
    for seed in 0..300u64 {
        let case = common::random_case_up_to(seed, 4);
        let norm = if seed % 2 == 0 { Norm::L2 } else { Norm::Linf };
        let domain = Domain::ball(&case.center, case.radius, norm).unwrap();
        let exact = count(&case.net, &domain, &WalkOptions::default()).unwrap();
        assert!(exact.complete());
        if (2..=600).contains(&exact.count()) {
            out.push((format!("seed {seed} {norm:?} ({})", case.description), case.net, domain, exact.count()));
        }
    }
    out
}

/// 400 probes below at most `strata` strata.
fn options(seed: u64, strata: usize) -> EstimateOptions {
    EstimateOptions { probes: 400, strata, seed, ..Default::default() }
}

/// 100 probes of width 4 (about the work of 400 of width 1) below at most `strata` strata.
fn wide(seed: u64, strata: usize) -> EstimateOptions {
    EstimateOptions { probes: 100, width: 4, ..options(seed, strata) }
}

/// Estimates every case with the options `with(seed)`; checks the certified lower bound on the way.
fn estimate_all(
    cases: &[(String, Network, Domain, usize)],
    with: impl Fn(u64) -> EstimateOptions,
) -> Vec<(String, Estimate, usize)> {
    cases
        .iter()
        .enumerate()
        .map(|(i, (what, net, domain, exact))| {
            let options = with(i as u64);
            let strata = options.strata;
            let e = estimate(net, domain, &options).unwrap();
            assert!(e.certified_regions <= *exact, "{what}: {} certified of {exact}", e.certified_regions);
            assert!(e.certified_regions >= 1 && e.strata <= strata, "{what}");
            (what.clone(), e, *exact)
        })
        .collect()
}

/// Unbiased, and the intervals cover the count in at least 90% of 200+ cases.
fn unbiased_and_covering(estimates: &[(String, Estimate, usize)]) {
    assert!(estimates.len() >= 200, "{} cases", estimates.len());
    let (z, covered) = z_scores(estimates);
    unbiased(&z).unwrap();
    let coverage = covered as f64 / estimates.len() as f64;
    assert!(coverage >= 0.9, "the 95% intervals cover {covered} of {} counts", estimates.len());
}

#[test]
fn plain_probes_are_unbiased_and_their_intervals_cover() {
    let estimates = estimate_all(&cases(), |seed| options(seed, 1));
    assert!(estimates.iter().all(|(_, e, _)| e.strata == 1 && e.probes == 400));
    // L-inf balls are boxes: the partition's cut tree; L2 balls: the LP one.
    let on_boxes = estimates.iter().filter(|(_, e, _)| e.tree == BOX_TREE).count();
    assert!(on_boxes >= 80 && estimates.len() - on_boxes >= 80, "{on_boxes} of {} on boxes", estimates.len());
    unbiased_and_covering(&estimates);
}

#[test]
fn probes_on_the_partitions_cut_tree_are_unbiased_on_acas_xu() {
    // A real network in 5-D: ACAS Xu 1_1's 864 regions in an L-inf ball, 40 estimates of 300
    // plain probes each against the partition's count.
    let acas =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx");
    let net = regionwalk::model::io::load_network(&acas).unwrap();
    let domain = Domain::ball(&[0.1; 5], 0.05, Norm::Linf).unwrap();
    let exact = count(&net, &domain, &WalkOptions::default()).unwrap().count();
    let estimates: Vec<(String, Estimate, usize)> = (0..40)
        .map(|seed| {
            let e = estimate(&net, &domain, &EstimateOptions { probes: 300, ..options(seed, 1) }).unwrap();
            assert_eq!((e.tree, e.probes), (BOX_TREE, 300));
            assert!(e.certified_regions <= exact);
            (format!("seed {seed}"), e, exact)
        })
        .collect();
    let (z, covered) = z_scores(&estimates);
    unbiased(&z).unwrap();
    assert!(covered >= 32, "the 95% intervals cover {covered} of 40");
}

#[test]
fn wide_probes_are_unbiased_and_their_intervals_cover() {
    let cases = cases();
    let estimates = estimate_all(&cases, |seed| wide(seed, 1));
    assert!(estimates.iter().all(|(_, e, _)| e.strata == 1 && e.probes == 100));
    unbiased_and_covering(&estimates);
    // Below a prefix too, where the strata leave trees to probe.
    let probed: Vec<_> =
        estimate_all(&cases, |seed| wide(seed, 8)).into_iter().filter(|(_, e, _)| e.strata > 1).collect();
    assert!(probed.len() >= 120, "only {} cases probed below a prefix", probed.len());
    unbiased(&z_scores(&probed).0).unwrap();
}

#[test]
fn probes_below_an_exact_prefix_are_unbiased_and_their_intervals_cover() {
    // Only the cases the prefix leaves strata in test the probes below it (smaller trees are
    // enumerated whole, and exact: the next test).
    let probed: Vec<_> =
        estimate_all(&cases(), |seed| options(seed, 8)).into_iter().filter(|(_, e, _)| e.strata > 1).collect();
    assert!(probed.len() >= 120, "only {} cases probed below a prefix", probed.len());
    let (z, covered) = z_scores(&probed);
    unbiased(&z).unwrap();
    assert!(covered as f64 >= 0.9 * probed.len() as f64, "the 95% intervals cover {covered} of {}", probed.len());
}

#[test]
fn a_tree_enumerated_before_the_frontier_fills_gives_the_exact_count() {
    // With room for 100 strata, trees of fewer leaves are enumerated whole: no probes, no spread.
    let cases = cases();
    let mut whole = 0;
    for (i, (what, net, domain, exact)) in cases.iter().enumerate().take(80) {
        let e = estimate(net, domain, &options(i as u64, 100)).unwrap();
        if e.strata == 0 {
            whole += 1;
            assert_eq!(
                (e.estimate, e.low, e.high, e.probes),
                (*exact as f64, *exact as f64, *exact as f64, 0),
                "{what}"
            );
        }
    }
    assert!(whole >= 10, "only {whole} trees enumerated whole");
}

#[test]
fn reported_estimates_lie_in_the_certified_bracket() {
    use regionwalk::bound::{bounds, BoundOptions};
    for (i, (what, net, domain, exact)) in cases().into_iter().enumerate().take(60) {
        let problem = Problem { net, domain, fixed: Vec::new(), units: None };
        let report = bounds(&problem.net, &problem.domain, &BoundOptions::default()).unwrap();
        // Few probes and no prefix: estimates far off the count, which the bracket must hold in.
        let options = EstimateOptions { probes: 3, strata: 1, seed: i as u64, ..Default::default() };
        let e = estimate(&problem.net, &problem.domain, &options).unwrap();
        let r = problem.estimate_report(&e, &report, 0);
        let upper: f64 = r.upper.as_deref().unwrap().parse().unwrap();
        assert!(r.lower <= exact && exact as f64 <= upper, "{what}: bracket {} – {upper}, count {exact}", r.lower);
        for v in [r.estimate, r.estimate_low, r.estimate_high] {
            assert!(r.lower as f64 <= v && v <= upper, "{what}: {v} outside {} – {upper}", r.lower);
        }
        // Columns for `bound` and `validate`: the same clamping, and none once the bracket is closed.
        let columns = problem.estimate_if_open(r.lower, &report, &options, std::time::Instant::now()).unwrap();
        match report.best().is_some_and(|b| b.value <= r.lower.into()) {
            true => assert!(columns.estimate.is_none(), "{what}"),
            false => {
                let v = columns.estimate.unwrap();
                assert!(r.lower as f64 <= v && v <= upper, "{what}: {v} outside {} – {upper}", r.lower);
            }
        }
    }
}

/// The estimate beside `bound`'s bracket shares the bounds' budget: it has what is left of two
/// budgets from their start, and is not tried when the analysis alone outlasted one.
#[test]
fn the_estimate_beside_the_bounds_keeps_to_their_budget() {
    use regionwalk::bound::{bounds, BoundOptions, Method};
    use std::time::{Duration, Instant};
    let budget = Duration::from_millis(500);
    let mut tried = 0;
    for (what, net, domain, _) in cases().into_iter().take(20) {
        let problem = Problem { net, domain, fixed: Vec::new(), units: None };
        // `product` alone leaves the bracket open.
        let options = BoundOptions { methods: vec![Method::Product], ..BoundOptions::budgeted() };
        let started = Instant::now();
        let mut report = bounds(&problem.net, &problem.domain, &options).unwrap();
        if report.best().is_some_and(|b| b.value <= report.lower.into()) {
            continue;
        }
        let estimate = EstimateOptions { time_limit: Some(budget), seed: 3, ..Default::default() };
        let columns = problem.estimate_if_open(report.lower, &report, &estimate, started).unwrap();
        assert!(columns.estimate.is_some(), "{what}: no estimate although the analysis took {:?}", report.analysis);
        assert!(started.elapsed() < 2 * budget + Duration::from_millis(250), "{what}: {:?}", started.elapsed());
        report.analysis = budget;
        let columns = problem.estimate_if_open(report.lower, &report, &estimate, started).unwrap();
        assert!(columns.estimate.is_none(), "{what}: an estimate after an analysis that used up the budget");
        // Started two budgets ago: nothing is left.
        report.analysis = Duration::ZERO;
        let columns = problem.estimate_if_open(report.lower, &report, &estimate, Instant::now() - 2 * budget).unwrap();
        assert!(columns.estimate.is_none(), "{what}: an estimate past two budgets");
        tried += 1;
    }
    assert!(tried >= 10, "only {tried} open brackets");
}

/// Treats a child that none of the sample's points reach as empty when its sibling has some:
/// probability 0, the mistake of dropping a child's weight (thin parts of a node hold regions the
/// sample misses).
struct DropsUnsampled;

impl ChildChoice for DropsUnsampled {
    fn probabilities(&self, feasible: &[Child]) -> Vec<f64> {
        let sampled = feasible.iter().filter(|c| c.patterns > 0).count();
        match sampled {
            0 => vec![1.0 / feasible.len() as f64; feasible.len()],
            _ => feasible.iter().map(|c| if c.patterns > 0 { 1.0 / sampled as f64 } else { 0.0 }).collect(),
        }
    }
}

#[test]
fn a_biased_estimator_fails_the_same_test() {
    let cases = cases();
    for with in [options, wide] {
        let estimates: Vec<(String, Estimate, usize)> = cases
            .iter()
            .take(40)
            .enumerate()
            .map(|(i, (what, net, domain, exact))| {
                (what.clone(), estimate_with(net, domain, &with(i as u64, 1), &DropsUnsampled).unwrap(), *exact)
            })
            .collect();
        let (z, _) = z_scores(&estimates);
        assert!(unbiased(&z).is_err(), "the biased variant passed: {z:?}");
    }
}

#[test]
fn the_same_seed_gives_the_same_estimate_on_any_thread_count() {
    let cases = cases();
    let (_, net, domain, _) = cases.iter().find(|c| c.3 >= 100).expect("a case of 100 regions");
    let on = |threads: usize, options: EstimateOptions| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| estimate(net, domain, &options).unwrap())
    };
    let (one, two) = (on(1, options(11, 8)), on(2, options(11, 8)));
    assert_eq!(
        (one.estimate, one.low, one.high, one.certified_regions),
        (two.estimate, two.low, two.high, two.certified_regions)
    );
    let (one_wide, two_wide) = (on(1, wide(11, 8)), on(2, wide(11, 8)));
    assert_eq!((one_wide.estimate, one_wide.low, one_wide.high), (two_wide.estimate, two_wide.low, two_wide.high));
    assert_ne!(one_wide.estimate, one.estimate);
    assert!(one.strata > 1, "the case must be probed below a prefix");
    assert_ne!(estimate(net, domain, &options(12, 8)).unwrap().estimate, one.estimate);
}

#[test]
fn an_estimate_without_any_upper_bound_says_so() {
    // `walk` alone without a budget does not run: no method gives an upper bound.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_regionwalk"))
        .args(["estimate", "fixtures/examples/mlp_2x16x16.json", "--center=0.1,-0.2", "--radius", "0.5"])
        .args(["--method", "walk", "--budget", "inf", "--probes", "50", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["upper"].is_null() && report["upper_method"].is_null(), "{report}");
    assert!(report["lower"].as_u64().unwrap() >= 1 && report["estimate"].as_f64().unwrap() > 0.0);
}

/// Every domain the walk takes, on an MLP and a CNN: the estimate runs, its bracket holds the
/// count, and where its tree is enumerated whole (no strata left) it equals the count.
#[test]
fn every_domain_the_walk_takes_is_estimated() {
    let acas = "fixtures/acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx";
    let mlp = "fixtures/examples/mlp_2x16x16.json";
    let cnn = "fixtures/cnn/Convnet_avgpool.onnx";
    let cnn_centre = format!("--center={}", vec!["0.5"; 784].join(","));
    let cases: Vec<Vec<String>> = [
        vec![acas, "--center=0.1,0.1,0.1,0.1,0.1", "--radius", "0.03"],
        vec![acas, "--center=0.1,0.1,0.1,0.1,0.1", "--radius", "0.03", "--norm", "linf"],
        vec![acas, "--box=-0.05,0.05", "--box=0,0", "--box=-0.05,0.05", "--box=0.1,0.1", "--box=-0.05,0.05"],
        vec![mlp, "--center=0.95,-0.95", "--radius", "0.2", "--clip-to-input-box"],
        vec![cnn, cnn_centre.as_str(), "--radius", "0.002", "--norm", "linf"],
    ]
    .iter()
    .map(|c| c.iter().map(|s| s.to_string()).collect())
    .collect();
    let json = |args: &[String]| {
        let out =
            std::process::Command::new(env!("CARGO_BIN_EXE_regionwalk")).args(args).arg("--json").output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    for case in cases {
        let count = json(&[&["count".to_string()], &case[..], &["-q".to_string()]].concat());
        let exact = count["regions"].as_f64().unwrap();
        assert!(count["complete"].as_bool().unwrap(), "{case:?}");
        let flags = ["--probes", "400", "--budget", "1"].map(String::from);
        let e = json(&[&["estimate".to_string()], &case[..], &flags[..]].concat());
        let upper: f64 = e["upper"].as_str().unwrap().parse().unwrap();
        assert!(e["lower"].as_f64().unwrap() <= exact && exact <= upper, "{case:?}: {e}");
        let mean = e["mean"].as_f64().unwrap();
        if e["strata"].as_u64().unwrap() == 0 {
            assert_eq!(mean, exact, "{case:?}: a tree enumerated whole");
        } else {
            let se = e["standard_error"].as_f64().unwrap();
            assert!((mean - exact).abs() <= 6.0 * se.max(1.0), "{case:?}: {mean} ± {se} against {exact}");
        }
    }
}

/// A probe slower than the time limit: `estimate` says so instead of averaging the fast probes
/// only (which would bias it), and `bound` reports its bracket with null estimate columns.
#[test]
fn an_estimate_that_cannot_finish_in_time_is_abandoned_not_biased() {
    let centre = format!("--center={}", vec!["0.5"; 784].join(","));
    let args = ["fixtures/cnn/Convnet_avgpool.onnx", centre.as_str(), "--radius", "0.05", "--norm", "linf"];
    let run =
        |extra: &[&str]| std::process::Command::new(env!("CARGO_BIN_EXE_regionwalk")).args(extra).output().unwrap();
    let out = run(&[&["estimate"], &args[..], &["--time-limit", "0.001", "--json"]].concat());
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("raise --time-limit"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&[&["bound"], &args[..], &["--budget", "0.001", "--method", "product", "--json"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["estimate"].is_null() && report["best"]["method"] == "product", "{report}");
}
