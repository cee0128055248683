//! The box partition (`exact::partition`) against the walk and the reference splitter: the same
//! regions on hundreds of random and degenerate networks (integer weights on integer boxes put
//! hyperplanes through the box's corners; a tenth re-checked in exact rational arithmetic), on
//! deep narrow networks and on ACAS Xu; the same
//! result on one and two threads; budgets that stop it with a certified lower bound.

mod common;

use common::{patterns, random_case_up_to};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use regionwalk::domain::{Domain, Norm};
use regionwalk::exact::certify::certify;
use regionwalk::exact::oracle::split::split_patterns;
use regionwalk::exact::{count, Completeness, Engine, StopReason, WalkOptions, WalkResult};
use regionwalk::model::io::load_network;
use regionwalk::model::Network;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

fn run(net: &Network, domain: &Domain, engine: Engine) -> WalkResult {
    let result = count(net, domain, &WalkOptions { engine, ..Default::default() }).unwrap();
    assert!(result.complete());
    result
}

/// Every witness lies strictly inside the domain and shows its region's pattern.
fn check_witnesses(net: &Network, domain: &Domain, r: &WalkResult, what: &str) {
    for region in &r.regions {
        let x = region.witness.as_ref().expect("every counted leaf has a witness");
        let y: Vec<f64> = x.iter().zip(domain.origin()).map(|(x, o)| (x - o) / domain.scale()).collect();
        assert!(domain.contains_frame(&y), "{what}: witness outside the domain");
        assert_eq!(net.interior_pattern(x).as_ref(), Some(&region.pattern), "{what}: witness shows another pattern");
    }
}

#[test]
fn partition_equals_walk_on_random_and_degenerate_networks() {
    let (mut cases, mut regions, mut split_checked, mut certified) = (0, 0, 0, 0);
    for seed in 0..300u64 {
        let case = random_case_up_to(seed, 8);
        let mut domains = vec![Domain::ball(&case.center, case.radius, Norm::Linf).unwrap()];
        if case.description.contains("integer") {
            // Integer corners: integer hyperplanes pass exactly through some of them.
            let lower: Vec<f64> = case.center.iter().map(|c| c.round() - 1.0).collect();
            let upper: Vec<f64> = case.center.iter().map(|c| c.round() + 1.0).collect();
            domains.push(Domain::boxed(&lower, &upper).unwrap());
        }
        for domain in domains {
            let what = format!("seed {seed} ({})", case.description);
            let parted = run(&case.net, &domain, Engine::Partition);
            let walked = run(&case.net, &domain, Engine::Walk);
            assert_eq!(parted.engine, Engine::Partition);
            assert_eq!(walked.engine, Engine::Walk);
            assert_eq!(parted.unverified, 0, "{what}");
            assert_eq!(patterns(&parted), patterns(&walked), "{what}: partition and walk differ");
            check_witnesses(&case.net, &domain, &parted, &what);
            if seed % 10 == 0 {
                // Every witness re-checked in exact rational arithmetic.
                let c = certify(&case.net, &domain, &parted);
                assert!(c.failures.is_empty() && c.certified == parted.count(), "{what}: {:?}", c.failures);
                certified += c.certified;
            }
            if seed % 4 == 0 && parted.count() <= 400 {
                let (split, _) = split_patterns(&case.net, &domain).unwrap();
                assert_eq!(patterns(&parted), split, "{what}: partition and splitter differ");
                split_checked += 1;
            }
            cases += 1;
            regions += parted.count();
        }
    }
    assert!(
        cases >= 330 && regions >= 5_000 && split_checked >= 60 && certified >= 400,
        "{cases} cases, {regions} regions, {split_checked} against the splitter, {certified} certified"
    );
}

#[test]
fn partition_equals_walk_on_deep_narrow_networks() {
    let mut regions = 0;
    for seed in 0..12u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(500 + seed);
        let n0 = rng.gen_range(3..=8);
        let depth = rng.gen_range(5..=8);
        let width = rng.gen_range(10..=30);
        let widths: Vec<usize> = std::iter::once(n0).chain(std::iter::repeat_n(width, depth)).chain([2]).collect();
        let net = Network::pytorch_default(&widths, seed).unwrap();
        let h = 0.5 / n0 as f64;
        let domain = Domain::boxed(&vec![-h; n0], &vec![h; n0]).unwrap();
        let parted = run(&net, &domain, Engine::Partition);
        let walked = run(&net, &domain, Engine::Walk);
        assert_eq!(patterns(&parted), patterns(&walked), "seed {seed} ({widths:?})");
        regions += parted.count();
    }
    assert!(regions >= 2_000, "only {regions} regions compared");
}

#[test]
fn partition_equals_walk_on_acas_xu() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx");
    let net = load_network(&model).unwrap();
    // Issue 17's smallest box: the centre of the normalised input box ± 0.03 of each range.
    let domain = Domain::boxed(
        &[0.14546902640181877, -0.03000000330797183, -0.03000000330797183, -0.03, -0.03],
        &[0.20596586515325002, 0.03000000330797183, 0.03000000330797183, 0.03, 0.03],
    )
    .unwrap();
    let parted = run(&net, &domain, Engine::Partition);
    let walked = run(&net, &domain, Engine::Walk);
    assert!(parted.count() > 1_000, "{} regions", parted.count());
    assert_eq!(patterns(&parted), patterns(&walked));
    assert_eq!(parted.count(), 2_087, "the count nnenum finds (BENCHMARKS.md)");
    check_witnesses(&net, &domain, &parted, "ACAS Xu 1_1");
}

#[test]
fn one_and_two_threads_give_the_same_regions_in_the_same_order() {
    let net = Network::pytorch_default(&[4, 24, 24, 24, 2], 7).unwrap();
    let domain = Domain::ball(&[0.1, -0.2, 0.0, 0.3], 0.5, Norm::Linf).unwrap();
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| run(&net, &domain, Engine::Partition))
    };
    let (one, two) = (on(1), on(2));
    assert!(one.count() > 500, "{} regions", one.count());
    assert_eq!(patterns(&one), patterns(&two));
}

#[test]
fn budgets_stop_the_partition_with_a_certified_lower_bound() {
    let net = Network::pytorch_default(&[3, 20, 20, 20, 1], 3).unwrap();
    let domain = Domain::boxed(&[-1.0; 3], &[1.0; 3]).unwrap();
    let full = run(&net, &domain, Engine::Partition);
    let all = patterns(&full);
    assert!(full.count() > 300);
    let partial = |options: WalkOptions, reason: StopReason| {
        let r = count(&net, &domain, &WalkOptions { engine: Engine::Partition, ..options }).unwrap();
        assert_eq!(r.completeness, Completeness::Stopped(reason));
        assert!(r.count() < full.count());
        // What was counted is a subset of the regions: a certified lower bound.
        for p in patterns(&r) {
            assert!(all.binary_search(&p).is_ok(), "a stopped partition counted a region that is not one");
        }
        check_witnesses(&net, &domain, &r, "stopped partition");
        r.count()
    };
    let found = partial(WalkOptions { max_regions: Some(100), ..Default::default() }, StopReason::MaxRegions);
    assert!(found >= 100);
    partial(WalkOptions { time_limit: Some(Duration::from_nanos(1)), ..Default::default() }, StopReason::TimeLimit);
    let raised = Arc::new(AtomicBool::new(true));
    let stopped = partial(WalkOptions { interrupt: Some(raised), ..Default::default() }, StopReason::Interrupted);
    assert_eq!(stopped, 0);
}

#[test]
fn the_partition_refuses_what_it_cannot_count_and_auto_walks_it() {
    let net = Network::pytorch_default(&[3, 8, 8, 1], 1).unwrap();
    let ball = Domain::ball(&[0.0; 3], 0.5, Norm::L2).unwrap();
    let err = count(&net, &ball, &WalkOptions { engine: Engine::Partition, ..Default::default() }).unwrap_err();
    assert!(err.to_string().contains("partition"), "{err}");
    assert_eq!(run(&net, &ball, Engine::Auto).engine, Engine::Walk);
    let cube = Domain::ball(&[0.0; 3], 0.5, Norm::Linf).unwrap();
    assert_eq!(run(&net, &cube, Engine::Auto).engine, Engine::Partition);
    let with_edges = count(&net, &cube, &WalkOptions { edges: true, ..Default::default() }).unwrap();
    assert_eq!(with_edges.engine, Engine::Walk, "the region graph needs the walk");
    assert!(!with_edges.edges.is_empty());
}

#[test]
fn a_cube_clipped_to_the_input_box_is_partitioned_as_walked() {
    // Near the edge of ACAS Xu's normalised input box: coordinates 3 and 4 are clipped at 0.5.
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/acasxu/nnet/ACASXU_run2a_1_1_batch_2000.nnet");
    let net = load_network(&model).unwrap();
    let input = net.input_box().expect("a .nnet declares its input box").clone();
    let domain = Domain::ball(&[0.6, 0.0, 0.0, 0.45, 0.45], 0.06, Norm::Linf)
        .unwrap()
        .clipped(&input.lower, &input.upper)
        .unwrap();
    let parted = run(&net, &domain, Engine::Partition);
    let walked = run(&net, &domain, Engine::Walk);
    assert!(parted.count() > 1_000, "{} regions", parted.count());
    assert_eq!(patterns(&parted), patterns(&walked));
    check_witnesses(&net, &domain, &parted, "clipped cube");
}
