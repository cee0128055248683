//! The exact counter against hand-checked values (theory §7) and against independent methods:
//! the layer-wise splitter (a different algorithm with a different ball test) and dense sampling.

mod common;

use common::{patterns, random_case, theory_fixtures};
use regionwalk::domain::{Domain, Norm};
use regionwalk::exact::oracle::{sample::sample_patterns, split::split_patterns};
use regionwalk::exact::{WalkOptions, WalkResult};
use regionwalk::model::Network;

fn count(net: &Network, domain: &Domain) -> WalkResult {
    regionwalk::exact::count(net, domain, &WalkOptions::default()).expect("count succeeds")
}

#[test]
fn theory_fixtures_give_their_exact_counts() {
    for f in theory_fixtures() {
        let ball = Domain::ball(&f.center, f.radius, Norm::L2).unwrap();
        let r = count(&f.net, &ball);
        assert!(r.complete());
        assert_eq!(r.count(), f.regions, "{}: walk", f.name);
        let (split, _) = split_patterns(&f.net, &ball).unwrap();
        assert_eq!(split.len(), f.regions, "{}: splitter", f.name);
        assert_eq!(patterns(&r), split, "{}: the two methods found different regions", f.name);
    }
}

#[test]
fn every_region_has_a_certified_witness() {
    for f in theory_fixtures() {
        let ball = Domain::ball(&f.center, f.radius, Norm::L2).unwrap();
        for region in count(&f.net, &ball).regions {
            let w = region.witness.expect("an expanded region has a witness");
            let dist: f64 = w.iter().zip(&f.center).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt();
            assert!(dist < f.radius, "{}: witness outside the ball", f.name);
            assert_eq!(
                f.net.interior_pattern(&w),
                Some(region.pattern.clone()),
                "{}: witness is not inside its region",
                f.name
            );
        }
    }
}

#[test]
fn fixture_f2b_lists_the_documented_regions() {
    let f = theory_fixtures().into_iter().find(|f| f.name == "F2b").unwrap();
    let r = count(&f.net, &Domain::ball(&f.center, 1.0, Norm::L2).unwrap());
    let mut got: Vec<String> = r.regions.iter().map(|g| format!("{:?}", g.pattern)).collect();
    got.sort();
    assert_eq!(got, ["000", "010", "100", "110", "111"]);
}

#[test]
fn a_facet_tangent_to_the_sphere_is_not_crossed_but_tallied() {
    // Line 3 of fixture A (x1 + x2 = 1) touches the ball of radius 1/sqrt(2) at (1/2, 1/2).
    let net = common::fixture_a();
    let ball = Domain::ball(&[0.0, 0.0], std::f64::consts::FRAC_1_SQRT_2, Norm::L2).unwrap();
    let r = count(&net, &ball);
    assert_eq!(r.count(), 4);
    assert!(r.counters.touching >= 1, "the tangent contact is reported");
}

/// Checks the walk against the splitter (same set of patterns) and sampling (a subset) on one domain.
fn cross_check(case: &common::Case, domain: &Domain, what: &str, seed: u64) {
    let r = count(&case.net, domain);
    assert!(r.complete());
    assert_eq!(r.unverified, 0, "seed {seed} ({what}, {}): unverified regions", case.description);
    let walked = patterns(&r);
    let (split, _) = split_patterns(&case.net, domain).unwrap();
    assert_eq!(
        walked.len(),
        split.len(),
        "seed {seed} ({what}, {}): walk {} vs splitter {} regions",
        case.description,
        walked.len(),
        split.len()
    );
    assert_eq!(walked, split, "seed {seed} ({what}, {}): different regions", case.description);
    for p in sample_patterns(&case.net, domain, 400, seed, None).patterns {
        assert!(walked.binary_search(&p).is_ok(), "seed {seed} ({what}): sampled region {p:?} was not walked");
    }
}

fn random_range(seeds: std::ops::Range<u64>) {
    for seed in seeds {
        let case = random_case(seed);
        cross_check(&case, &Domain::ball(&case.center, case.radius, Norm::L2).unwrap(), "L2", seed);
        cross_check(&case, &Domain::ball(&case.center, case.radius, Norm::Linf).unwrap(), "L-inf", seed);
    }
}

// 320 random and degenerate networks, split over four tests so that they run in parallel.
#[test]
fn random_networks_agree_with_splitter_and_sampling_0() {
    random_range(0..80);
}
#[test]
fn random_networks_agree_with_splitter_and_sampling_1() {
    random_range(80..160);
}
#[test]
fn random_networks_agree_with_splitter_and_sampling_2() {
    random_range(160..240);
}
#[test]
fn random_networks_agree_with_splitter_and_sampling_3() {
    random_range(240..320);
}

#[test]
fn counts_are_monotone_in_the_radius_and_reach_the_box_count() {
    for seed in 1000..1030 {
        let case = random_case(seed);
        let n0 = case.net.input_dim();
        let (lo, hi) = (vec![-1.0; n0], vec![1.0; n0]);
        let boxed = Domain::boxed(&lo, &hi).unwrap();
        let box_count = count(&case.net, &boxed).count();
        let mut previous = 0;
        for radius in [0.05, 0.2, 0.5, 1.0, 2.0, 4.0] {
            let ball = Domain::ball(&vec![0.0; n0], radius, Norm::L2).unwrap();
            let n = count(&case.net, &ball).count();
            assert!(n >= previous, "seed {seed}: {n} regions at r={radius} < {previous} at a smaller radius");
            previous = n;
            let clipped = ball.clipped(&lo, &hi).unwrap();
            let clipped_count = count(&case.net, &clipped).count();
            assert!(
                clipped_count <= n && clipped_count <= box_count,
                "seed {seed}: clipped ball counts more than its parts"
            );
        }
        // A ball of radius 4 > sqrt(n0) (n0 ≤ 6 → √6 < 2.45) contains the box [-1,1]^n0.
        let big = Domain::ball(&vec![0.0; n0], 4.0, Norm::L2).unwrap().clipped(&lo, &hi).unwrap();
        assert_eq!(count(&case.net, &big).count(), box_count, "seed {seed}: large clipped ball vs box");
    }
}

#[test]
fn whole_space_of_one_generic_hidden_layer_is_the_zaslavsky_count() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for _ in 0..20 {
        let n0 = rng.gen_range(1..=3usize);
        let n1 = rng.gen_range(1..=7usize);
        let rows: Vec<Vec<f64>> = (0..n1).map(|_| (0..n0).map(|_| rng.gen_range(-1.0..1.0)).collect()).collect();
        let bias: Vec<f64> = (0..n1).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let net = common::net(&[(rows, bias), (vec![vec![1.0; n1]], vec![0.0])]);
        let expected: usize = (0..=n0.min(n1)).map(|j| binomial(n1, j)).sum();
        let r = count(&net, &Domain::whole(n0));
        assert!(r.complete());
        assert_eq!(r.count(), expected, "n0={n0} n1={n1}");
        let (split, _) = split_patterns(&net, &Domain::whole(n0)).unwrap();
        assert_eq!(split.len(), expected, "splitter, n0={n0} n1={n1}");
    }
}

fn binomial(n: usize, k: usize) -> usize {
    (0..k).fold(1, |acc, i| acc * (n - i) / (i + 1))
}

#[test]
fn small_balls_at_generic_points_hold_one_region_and_at_vertices_two_to_the_k() {
    // Fixture A at a generic point, on one line, and at the vertex of two lines.
    let net = common::fixture_a();
    let tiny = 1e-3;
    for (center, expected) in [(vec![-0.3, -0.4], 1), (vec![0.0, -0.4], 2), (vec![0.0, 0.0], 4), (vec![1.0, 0.0], 4)] {
        let ball = Domain::ball(&center, tiny, Norm::L2).unwrap();
        assert_eq!(count(&net, &ball).count(), expected, "centre {center:?}");
    }
}

#[test]
fn the_count_does_not_depend_on_the_thread_count() {
    for seed in [3u64, 17, 42, 99] {
        let case = random_case(seed);
        let ball = Domain::ball(&case.center, case.radius, Norm::L2).unwrap();
        let run = |threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| count(&case.net, &ball))
        };
        let (one, two) = (run(1), run(2));
        assert_eq!(patterns(&one), patterns(&two), "seed {seed}");
        assert_eq!(one.counters, two.counters, "seed {seed}: the work done is reproducible too");
    }
}

#[test]
fn budgets_stop_the_walk_with_a_certified_lower_bound() {
    let case = (0..).map(random_case).find(|c| {
        let ball = Domain::ball(&c.center, c.radius, Norm::L2).unwrap();
        count(&c.net, &ball).count() > 20
    });
    let case = case.unwrap();
    let ball = Domain::ball(&case.center, case.radius, Norm::L2).unwrap();
    let full = patterns(&count(&case.net, &ball));
    let options = WalkOptions { max_regions: Some(5), ..Default::default() };
    let partial = regionwalk::exact::count(&case.net, &ball, &options).unwrap();
    assert!(!partial.complete());
    assert!(partial.count() >= 5 && partial.count() < full.len());
    for region in &partial.regions {
        assert!(full.binary_search(&region.pattern).is_ok(), "a partial walk only reports real regions");
    }
}

#[test]
fn a_time_limit_stops_the_walk_and_says_so() {
    let case = random_case(5);
    let ball = Domain::ball(&case.center, case.radius, Norm::L2).unwrap();
    let options = WalkOptions { time_limit: Some(std::time::Duration::ZERO), ..Default::default() };
    let r = regionwalk::exact::count(&case.net, &ball, &options).unwrap();
    assert!(!r.complete());
    assert_eq!(r.stopped_by(), Some(regionwalk::exact::StopReason::TimeLimit));
    assert_eq!(r.count(), 1, "only the start region is known");
}

/// The vertex-enumeration screen never drops a facet that the LP finds: random polytopes in 3–8
/// dimensions, a third of them degenerate (integer normals through shared integer points, repeated
/// constraints), each constraint screened and tested by the facet LP.
#[test]
fn the_vertex_screen_never_drops_a_facet_the_lp_finds() {
    use rand::{Rng, SeedableRng};
    use regionwalk::domain::Halfspace;
    use regionwalk::exact::walk::vertices::{may_bound_facet, vertices};
    use regionwalk::lp::{meets, Decision, LpCounters};
    let (mut facets, mut non_facets, mut screened) = (0, 0, 0);
    for seed in 0..300u64 {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let n = rng.gen_range(3..=8);
        let degenerate = seed % 3 == 0;
        let box_ = Domain::boxed(&vec![-1.0; n], &vec![1.0; n]).unwrap();
        let m = rng.gen_range(n..=5 * n);
        let mut constraints: Vec<Halfspace> = Vec::new();
        while constraints.len() < m {
            let a: Vec<f64> = (0..n)
                .map(|_| if degenerate { rng.gen_range(-2..=2) as f64 } else { rng.gen_range(-1.0..1.0) })
                .collect();
            // Through an integer point (degenerate) or at a random offset; every constraint
            // keeps the origin strictly inside so that the polytope is full-dimensional.
            let beta = if degenerate { 0.5 * rng.gen_range(1..=4) as f64 } else { rng.gen_range(0.05..3.0) };
            let Some(h) = box_.halfspace(a, beta) else { continue };
            if degenerate && rng.gen_bool(0.2) {
                constraints.push(h.clone());
            }
            constraints.push(h);
        }
        constraints.truncate(m);
        let refs: Vec<&Halfspace> = constraints.iter().collect();
        let Some(corners) = vertices(box_.lower(), box_.upper(), &refs, &vec![0.0; n], 1 << 16) else {
            panic!("seed {seed}: vertex enumeration failed on a bounded, non-empty polytope")
        };
        for (c, h) in constraints.iter().enumerate() {
            let others: Vec<&Halfspace> =
                constraints.iter().enumerate().filter(|(i, g)| *i != c && **g != *h).map(|(_, g)| g).collect();
            let lp = meets(&box_, &others, Some(h), &mut LpCounters::default()).unwrap();
            let may = may_bound_facet(&corners, h, &mut Vec::new());
            if let Decision::Meets { slack, .. } = lp {
                facets += 1;
                assert!(may, "seed {seed} (n={n}, degenerate {degenerate}): constraint {c} is a facet (slack {slack}) but was screened");
            } else {
                non_facets += 1;
                screened += usize::from(!may);
            }
        }
    }
    // The screen must also do its job: it drops (nearly) every non-facet.
    assert!(facets > 1000 && non_facets > 1000, "{facets} facets, {non_facets} non-facets");
    assert!(screened * 10 >= non_facets * 9, "{screened} of {non_facets} non-facets screened");
}

/// Boxes and the whole space in up to 8 dimensions (the corner screen's range), against the
/// splitter and sampling: 120 random and degenerate networks.
#[test]
fn boxes_and_whole_spaces_up_to_eight_dimensions_agree_with_the_splitter() {
    for seed in 2000..2120 {
        let case = common::random_case_up_to(seed, 8);
        let lower: Vec<f64> = case.center.iter().map(|c| c - case.radius).collect();
        let upper: Vec<f64> = case.center.iter().map(|c| c + case.radius).collect();
        cross_check(&case, &Domain::boxed(&lower, &upper).unwrap(), "box", seed);
        if case.net.input_dim() <= 4 && case.net.neurons() <= 12 {
            cross_check(&case, &Domain::whole(case.net.input_dim()), "whole", seed);
        }
    }
}

#[test]
fn a_start_in_a_rounding_sliver_is_replaced_by_a_certified_one() {
    // This case's centre lies on the hyperplane that two scaled first-layer neurons share; walked
    // in the first layer's row space, the forward pass puts it, by rounding, strictly between the
    // two computed hyperplanes, in a sliver no witness can certify. Started there, the walk
    // dropped that region and found nothing (and called 0 exact); it restarts from a certified
    // point instead.
    let case = common::random_case_up_to(60, 8);
    assert!(case.description.contains("centre on a boundary"), "{}", case.description);
    let ball = Domain::ball(&case.center, case.radius, Norm::L2).unwrap();
    let r = count(&case.net, &ball);
    assert!(r.complete() && r.count() > 0, "{} regions, {} dropped", r.count(), r.unverified);
    let (mut split, _) = split_patterns(&case.net, &ball).unwrap();
    split.sort();
    assert_eq!(patterns(&r), split);
}
