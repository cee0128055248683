//! Soundness and tightness of the bound ladder: every bound is at least the exact count (from the
//! walk) on the theory fixtures and on hundreds of random and degenerate networks, the lower bound
//! is at most the count, and the fixture values of theory §7 are reproduced.

mod common;

use num_bigint::BigUint;
use regionwalk::analysis::interval::analyse;
use regionwalk::analysis::set::InputSet;
use regionwalk::bound::partition::upper_bound;
use regionwalk::bound::{bounds, BoundOptions, BoundReport, Method};
use regionwalk::domain::{Domain, Norm};
use regionwalk::exact::{count, WalkOptions};
use regionwalk::model::Network;

fn report(net: &Network, domain: &Domain) -> BoundReport {
    bounds(net, domain, &BoundOptions::unbudgeted()).expect("bounds succeed")
}

fn value(r: &BoundReport, m: Method) -> u64 {
    r.get(m).unwrap_or_else(|| panic!("{} missing", m.name())).value.to_string().parse().unwrap()
}

#[test]
fn theory_fixture_values_are_reproduced() {
    // (fixture, radius, paper, product, local-serra, hybrid with one exact layer) from theory §7.
    let fixtures = common::theory_fixtures();
    let find = |name: &str| fixtures.iter().find(|f| f.name == name).unwrap();
    let expect = [
        ("F2a", 4, None, None, None),
        ("F2b", 7, None, None, None),
        ("F2c", 7, None, None, None),
        ("F2d", 1, None, None, None),
        ("F2e", 2, None, None, None),
        ("F2f", 2, None, None, None),
        ("F4", 7, None, None, None),
        ("F5", 11, Some(4), Some(4), None),
        ("F1", 3, None, None, None),
        ("F6 r=1", 15, None, None, None),
        ("F7a", 4, Some(4), Some(4), Some(4)),
        ("F7b", 8, Some(8), Some(7), Some(5)),
        ("F7c", 8, Some(8), Some(7), Some(7)),
        ("F8 r=1/2", 16, Some(4), Some(4), None),
        ("F8 r=1", 28, Some(8), Some(7), None),
        ("F8 r=2", 28, Some(8), Some(7), None),
        ("F9", 8, Some(4), Some(4), None),
        // Theory's table lists L2 = 14 for F10, but its own L2 definition caps layer 2's dimension
        // at a1 + u1 = 1 (neuron 2 is stably inactive): 2 · (1 + 3) = 8, still ≥ the exact 5.
        ("F10", 14, Some(8), Some(5), None),
        ("F11", 2, None, Some(1), None),
        ("F13", 4, None, Some(4), None),
        // F14: theory lists L3 = 8 at r = 1 and 2 without merging the opposite pair of neurons 1 and 2; with
        // the merge (one bent hyperplane, theory §5 "With deduplication") L3 reaches the exact count.
        ("F14 r=1/2", 8, None, Some(4), Some(2)),
        ("F14 r=1", 8, None, Some(4), Some(4)),
        ("F14 r=2", 8, None, Some(4), Some(4)),
    ];
    for (name, paper, product, serra, hybrid) in expect {
        let f = find(name);
        let r = report(&f.net, &Domain::ball(&f.center, f.radius, Norm::L2).unwrap());
        assert_eq!(value(&r, Method::Paper), paper, "{name}: paper");
        if let Some(v) = product {
            assert_eq!(value(&r, Method::Product), v, "{name}: product");
        }
        if let Some(v) = serra {
            assert_eq!(value(&r, Method::LocalSerra), v, "{name}: local-serra");
        }
        if let Some(v) = hybrid {
            assert_eq!(value(&r, Method::Hybrid), v, "{name}: hybrid");
        }
    }
}

#[test]
fn global_bounds_match_serra_and_montufar() {
    let fixtures = common::theory_fixtures();
    let find = |name: &str| fixtures.iter().find(|f| f.name == name).unwrap();
    // Theory §7: F7 global Montúfar 8 / Serra 7; F8 28 / 16; F13 16 / 11; fixture A 7.
    for (name, global) in [("F7b", 7), ("F8 r=1", 16), ("F13", 11), ("F2b", 7), ("F11", 14), ("F14 r=1", 14)] {
        let f = find(name);
        let r = report(&f.net, &Domain::ball(&f.center, f.radius, Norm::L2).unwrap());
        assert_eq!(value(&r, Method::Global), global, "{name}");
    }
}

/// Checks the soundness properties of one bound report against the exact count.
fn check(net: &Network, domain: &Domain, what: &str) {
    let exact = count(net, domain, &WalkOptions::default()).unwrap();
    assert!(exact.complete());
    let n = BigUint::from(exact.count());
    let r = report(net, domain);
    for b in &r.bounds {
        assert!(b.value >= n, "{what}: {} = {} is below the exact count {n}", b.method.name(), b.value);
    }
    assert!(r.lower <= exact.count(), "{what}: lower bound {} above the exact count {n}", r.lower);
    assert!(r.lower >= 1, "{what}: the centre's region is always witnessed");
    let get = |m| &r.get(m).unwrap().value;
    // The best bound is the least of all the bounds computed, and names a method that gave it.
    let least = r.bounds.iter().map(|b| &b.value).min().unwrap();
    let best = r.best().unwrap();
    assert_eq!(&best.value, least, "{what}: best is not the least bound");
    assert_eq!(get(best.method), least, "{what}: best names {} whose bound differs", best.method.name());
    assert!(get(Method::Product) <= get(Method::Paper), "{what}: product > paper");
    assert!(get(Method::LocalSerra) <= get(Method::Product), "{what}: local-serra > product");
}

#[test]
fn bounds_are_sound_on_the_theory_fixtures_for_both_norms() {
    for f in common::theory_fixtures() {
        for norm in [Norm::L2, Norm::Linf] {
            check(&f.net, &Domain::ball(&f.center, f.radius, norm).unwrap(), &format!("{} {norm:?}", f.name));
        }
    }
}

fn random_range(seeds: std::ops::Range<u64>) {
    for seed in seeds {
        let case = common::random_case_up_to(seed, 8);
        for norm in [Norm::L2, Norm::Linf] {
            let domain = Domain::ball(&case.center, case.radius, norm).unwrap();
            check(&case.net, &domain, &format!("seed {seed} {norm:?} ({})", case.description));
        }
    }
}

// 520 random and degenerate networks (input dimension 1–8, 1–4 hidden layers), in four parallel tests.
#[test]
fn bounds_are_sound_on_random_networks_0() {
    random_range(2000..2130);
}
#[test]
fn bounds_are_sound_on_random_networks_1() {
    random_range(2130..2260);
}
#[test]
fn bounds_are_sound_on_random_networks_2() {
    random_range(2260..2390);
}
#[test]
fn bounds_are_sound_on_random_networks_3() {
    random_range(2390..2520);
}

#[test]
fn the_paper_bound_is_monotone_in_the_radius() {
    for seed in 0..40 {
        let case = common::random_case_up_to(seed, 8);
        let mut previous = BigUint::from(0u32);
        for radius in [0.01, 0.1, 0.3, 1.0, 3.0, 10.0] {
            let r = report(&case.net, &Domain::ball(&case.center, radius, Norm::L2).unwrap());
            let paper = r.get(Method::Paper).unwrap().value.clone();
            assert!(paper >= previous, "seed {seed}: paper bound shrank at r = {radius}");
            previous = paper;
        }
    }
}

#[test]
fn whole_space_bounds_equal_the_global_bound() {
    let f = common::theory_fixtures().into_iter().find(|f| f.name == "F8 r=1").unwrap();
    let r = report(&f.net, &Domain::whole(2));
    let global = value(&r, Method::Global);
    assert!(value(&r, Method::Paper) >= global);
    assert!(value(&r, Method::LocalSerra) >= 7, "every region of F8 is counted");
}

#[test]
fn a_spent_time_budget_skips_hybrid_and_leaves_every_bound_sound() {
    let options = BoundOptions { budget: Some(std::time::Duration::from_nanos(1)), ..BoundOptions::unbudgeted() };
    for seed in 0..40 {
        let case = common::random_case(seed);
        let domain = &Domain::ball(&case.center, case.radius, Norm::L2).unwrap();
        let exact = count(&case.net, domain, &WalkOptions::default()).unwrap();
        let r = bounds(&case.net, domain, &options).unwrap();
        for method in [Method::Hybrid, Method::Partition, Method::Walk] {
            assert!(r.get(method).is_none(), "seed {seed}: {} ran past its budget", method.name());
            assert!(r.skipped.iter().any(|(m, why)| *m == method && why.contains("time budget")));
        }
        for b in &r.bounds {
            assert!(b.value >= BigUint::from(exact.count()), "seed {seed}: {} below the count", b.method.name());
        }
        assert!(r.lower <= exact.count() && r.lower >= 1, "seed {seed}: lower bound {}", r.lower);
    }
}

#[test]
fn the_budgeted_walk_gives_the_exact_count_as_the_lower_bound_and_the_walk_bound() {
    let options = BoundOptions { budget: Some(std::time::Duration::from_secs(60)), ..BoundOptions::unbudgeted() };
    for seed in 0..40 {
        let case = common::random_case(seed);
        for norm in [Norm::L2, Norm::Linf] {
            let domain = &Domain::ball(&case.center, case.radius, norm).unwrap();
            let exact = count(&case.net, domain, &WalkOptions::default()).unwrap();
            let r = bounds(&case.net, domain, &options).unwrap();
            assert_eq!(r.exact, Some(exact.count()), "seed {seed} {norm:?}: {}", case.description);
            assert_eq!(r.lower, exact.count(), "seed {seed} {norm:?}");
            assert_eq!(r.get(Method::Walk).unwrap().value, BigUint::from(exact.count()), "seed {seed} {norm:?}");
            assert_eq!(r.best().unwrap().value, BigUint::from(exact.count()), "seed {seed} {norm:?}");
            assert!(r.bounds.iter().all(|b| b.value >= BigUint::from(exact.count())), "seed {seed} {norm:?}");
        }
    }
    // Without a budget (the library's default) there is no walk: the lower bound is sampled.
    let case = common::random_case(1);
    let r = bounds(&case.net, &Domain::ball(&case.center, case.radius, Norm::L2).unwrap(), &BoundOptions::unbudgeted());
    let r = r.unwrap();
    assert_eq!(r.exact, None);
    assert!(r.skipped.iter().any(|(m, why)| *m == Method::Walk && why.contains("only within a time budget")));
}

#[test]
fn a_walk_that_does_not_finish_is_skipped_and_leaves_a_lower_bound() {
    // ACAS Xu 1_1, L2 radius 0.17 about 0.1·1: 159,897 regions, tens of seconds to walk.
    let net = regionwalk::model::io::load_network(std::path::Path::new(
        "fixtures/acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx",
    ))
    .unwrap();
    let domain = Domain::ball(&[0.1; 5], 0.17, Norm::L2).unwrap();
    // No sampling, so that the lower bound is the walk's however loaded the machine is.
    let options = BoundOptions {
        methods: vec![Method::Product, Method::Walk],
        samples: 0,
        budget: Some(std::time::Duration::from_secs(2)),
        ..BoundOptions::unbudgeted()
    };
    let r = bounds(&net, &domain, &options).unwrap();
    assert!(r.get(Method::Walk).is_none() && r.exact.is_none());
    let (_, why) = r.skipped.iter().find(|(m, _)| *m == Method::Walk).expect("the walk is reported as skipped");
    assert!(why.contains("did not finish"), "{why}");
    assert!(r.lower >= 1 && r.lower < 159_897, "lower bound {}", r.lower);
    assert_eq!(r.lower_source, "partial region walk");
    assert!(r.best().unwrap().value >= BigUint::from(159_897u32));
}

#[test]
fn the_partition_bound_is_sound_complete_or_cut_short() {
    let (mut cut_short, mut tight) = (0, 0);
    for seed in 0..150 {
        let case = common::random_case_up_to(seed, 8);
        for norm in [Norm::L2, Norm::Linf] {
            let domain = Domain::ball(&case.center, case.radius, norm).unwrap();
            let what = format!("seed {seed} {norm:?} ({})", case.description);
            let exact = count(&case.net, &domain, &WalkOptions::default()).unwrap();
            let count = BigUint::from(exact.count());
            let global = analyse(&case.net, &InputSet::new(&domain)).combined;
            let complete = upper_bound(&case.net, &domain, None, None, None).unwrap().expect("at most 8 inputs");
            assert_eq!(complete.cut_short, 0);
            assert!(complete.value >= count, "{what}: complete partition bound {} below {count}", complete.value);
            if norm == Norm::Linf {
                // Every leaf of a box is a region, or a sliver the count tallies as touching.
                let slivers = BigUint::from(exact.counters.touching + exact.unverified);
                assert!(complete.value <= &count + slivers, "{what}: {} leaves for {count} regions", complete.value);
                tight += 1;
            }
            for max_leaves in [1, 4, 20] {
                // With and without the domain's own intervals to intersect with.
                for global in [None, Some(global.as_slice())] {
                    let b = upper_bound(&case.net, &domain, global, Some(max_leaves), None).unwrap().unwrap();
                    assert!(b.value >= count, "{what}: cut short after {max_leaves} leaves: {} below {count}", b.value);
                    if b.cut_short > 0 {
                        cut_short += 1;
                    }
                }
            }
        }
    }
    assert!(cut_short >= 400 && tight >= 150, "{cut_short} cut-short bounds, {tight} box counts checked");
}
