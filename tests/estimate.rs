//! The estimate (theory §10) against exact counts: unbiased on random and degenerate networks
//! (and a deliberately biased variant is caught by the same test), intervals that cover, a
//! certified lower bound that holds, and the same answer for any thread count.

mod common;

use regionwalk::domain::{Domain, Norm};
use regionwalk::estimate::{estimate, estimate_with, ChildChoice, Estimate, EstimateOptions};
use regionwalk::exact::{count, WalkOptions};
use regionwalk::model::Network;

/// The cases: small random and degenerate networks, both norms, with their exact counts.
fn cases() -> Vec<(String, Network, Domain, usize)> {
    let mut out = Vec::new();
    for seed in 0..120u64 {
        let case = common::random_case_up_to(seed, 4);
        let norm = if seed % 2 == 0 { Norm::L2 } else { Norm::Linf };
        let domain = Domain::ball(&case.center, case.radius, norm).unwrap();
        let exact = count(&case.net, &domain, &WalkOptions::default()).unwrap();
        assert!(exact.complete());
        if exact.count() >= 2 {
            out.push((format!("seed {seed} {norm:?} ({})", case.description), case.net, domain, exact.count()));
        }
    }
    out
}

fn options(seed: u64) -> EstimateOptions {
    EstimateOptions { probes: 400, seed, ..Default::default() }
}

/// The z-scores of the estimates against the exact counts, and how many intervals cover them.
fn check(estimates: &[(String, Estimate, usize)]) -> (Vec<f64>, usize) {
    let mut z = Vec::new();
    let mut covered = 0;
    for (_, e, exact) in estimates {
        let n = *exact as f64;
        covered += usize::from(e.low <= n && n <= e.high);
        if e.standard_error > 0.0 {
            z.push((e.estimate - n) / e.standard_error);
        } else {
            z.push(if e.estimate == n { 0.0 } else { f64::INFINITY });
        }
    }
    (z, covered)
}

/// Unbiased: the mean z-score over the cases is near 0 (each is approximately standard normal),
/// and no case is far off.
fn unbiased(z: &[f64]) -> Result<(), String> {
    let mean = z.iter().sum::<f64>() / z.len() as f64;
    let worst = z.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    // The mean of k standard normals has standard deviation 1/sqrt(k); allow 4 of them.
    let allowed = 4.0 / (z.len() as f64).sqrt();
    if mean.abs() > allowed || worst > 6.0 {
        return Err(format!("mean z {mean:.3} (allowed ±{allowed:.3}), worst |z| {worst:.2}"));
    }
    Ok(())
}

#[test]
fn the_estimate_is_unbiased_and_its_intervals_cover() {
    let cases = cases();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let estimates: Vec<(String, Estimate, usize)> = cases
        .iter()
        .enumerate()
        .map(|(i, (what, net, domain, exact))| {
            let e = estimate(net, domain, &options(i as u64)).unwrap();
            assert!(e.certified_regions <= *exact, "{what}: {} certified of {exact}", e.certified_regions);
            assert!(e.certified_regions >= 1 && e.probes == 400, "{what}");
            (what.clone(), e, *exact)
        })
        .collect();
    let (z, covered) = check(&estimates);
    unbiased(&z).unwrap();
    let coverage = covered as f64 / estimates.len() as f64;
    assert!(coverage >= 0.9, "the 95% intervals cover {covered} of {} counts", estimates.len());
}

/// Reports every feasible child with probability 0.6 whatever their number: the probes then
/// weigh a two-way choice 1/0.6 instead of 2, the mistake of dropping part of a child's weight.
struct Biased;

impl ChildChoice for Biased {
    fn probabilities(&self, _k: usize, feasible: &[(bool, f64)]) -> Vec<f64> {
        vec![if feasible.len() == 1 { 1.0 } else { 0.6 }; feasible.len()]
    }
}

#[test]
fn a_biased_estimator_fails_the_same_test() {
    let cases = cases();
    let estimates: Vec<(String, Estimate, usize)> = cases
        .iter()
        .take(40)
        .enumerate()
        .map(|(i, (what, net, domain, exact))| {
            (what.clone(), estimate_with(net, domain, &options(i as u64), &Biased).unwrap(), *exact)
        })
        .collect();
    let (z, _) = check(&estimates);
    assert!(unbiased(&z).is_err(), "the biased variant passed: {z:?}");
}

#[test]
fn the_same_seed_gives_the_same_estimate_on_any_thread_count() {
    let case = common::random_case_up_to(7, 4);
    let domain = Domain::ball(&case.center, case.radius, Norm::L2).unwrap();
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| estimate(&case.net, &domain, &options(11)).unwrap())
    };
    let (one, two) = (on(1), on(2));
    assert_eq!(
        (one.estimate, one.low, one.high, one.certified_regions),
        (two.estimate, two.low, two.high, two.certified_regions)
    );
    assert_ne!(estimate(&case.net, &domain, &options(12)).unwrap().estimate, one.estimate);
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
