//! Whole-space counts: the arrangement engine (deletion–restriction over one hidden layer's
//! hyperplanes, `exact::whole`) against Zaslavsky's count of generic arrangements and against the
//! walk and the layer-wise splitter on random and degenerate networks; and the whole space walked
//! in the first layer's row space.

mod common;

use common::patterns;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use regionwalk::domain::Domain;
use regionwalk::exact::oracle::split::split_patterns;
use regionwalk::exact::{count, Engine, StopReason, WalkOptions, WalkResult};
use regionwalk::model::Network;

fn whole(net: &Network, engine: Engine) -> regionwalk::Result<WalkResult> {
    count(net, &Domain::whole(net.input_dim()), &WalkOptions { engine, ..WalkOptions::default() })
}

fn binomial(n: usize, k: usize) -> usize {
    (0..k).fold(1, |acc, i| acc * (n - i) / (i + 1))
}

/// Every region has a witness inside it, and no pattern is listed twice.
fn assert_certified(r: &WalkResult, net: &Network, what: &str) {
    for region in &r.regions {
        let w = region.witness.as_ref().expect("a witness");
        assert_eq!(net.interior_pattern(w).as_ref(), Some(&region.pattern), "{what}: witness outside its region");
    }
    let mut found = patterns(r);
    found.dedup();
    assert_eq!(found.len(), r.regions.len(), "{what}: a region listed twice");
}

/// A one-hidden-layer network with the given first layer.
fn one_layer(rows: Vec<Vec<f64>>, bias: Vec<f64>) -> Network {
    let width = rows.len();
    common::net(&[(rows, bias), (vec![vec![1.0; width]], vec![0.0])])
}

#[test]
fn generic_arrangements_have_zaslavskys_count_up_to_eight_inputs() {
    let mut rng = ChaCha8Rng::seed_from_u64(33);
    for case in 0..150 {
        let n0 = rng.gen_range(1..=8usize);
        let n1 = rng.gen_range(1..=if n0 <= 4 { 24 } else { 15 });
        let rows = (0..n1).map(|_| (0..n0).map(|_| rng.gen_range(-1.0..1.0)).collect()).collect();
        let bias = (0..n1).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let net = one_layer(rows, bias);
        let r = whole(&net, Engine::Arrangement).unwrap_or_else(|e| panic!("case {case}: {e}"));
        let expected: usize = (0..=n0.min(n1)).map(|i| binomial(n1, i)).sum();
        assert!(r.complete() && r.engine == Engine::Arrangement, "case {case}");
        assert_eq!(r.count(), expected, "case {case}: n0={n0} n1={n1}");
        assert_certified(&r, &net, &format!("case {case}"));
        // Counting only lists nothing and counts the same.
        let options = WalkOptions { engine: Engine::Arrangement, count_only: true, ..WalkOptions::default() };
        let counted = count(&net, &Domain::whole(n0), &options).unwrap();
        assert_eq!((counted.count(), counted.regions.len()), (expected, 0), "case {case}: count only");
        assert_eq!(counted.start.as_ref(), r.regions[0].witness.as_ref(), "case {case}: start");
    }
}

/// Integer weights in a small range put many hyperplanes through common points and lines, and
/// make them parallel or the same; duplicated, opposite, scaled, zero and constant neurons and
/// first layers of lower rank come on top.
fn degenerate_layer(rng: &mut ChaCha8Rng) -> (Vec<Vec<f64>>, Vec<f64>, String) {
    let n0 = rng.gen_range(1..=5usize);
    let n1 = rng.gen_range(1..=if n0 <= 2 { 12 } else { 8 });
    let integer = rng.gen_bool(0.6);
    let draw = |rng: &mut ChaCha8Rng| if integer { rng.gen_range(-2..=2) as f64 } else { rng.gen_range(-1.0..1.0) };
    let rank = if rng.gen_bool(0.2) { rng.gen_range(1..=n0) } else { n0 };
    // Rows in the span of `rank` random directions.
    let directions: Vec<Vec<f64>> = (0..rank).map(|_| (0..n0).map(|_| draw(rng)).collect()).collect();
    let mut rows: Vec<Vec<f64>> = (0..n1)
        .map(|_| {
            let c: Vec<f64> = (0..rank).map(|_| draw(rng)).collect();
            (0..n0).map(|i| (0..rank).map(|d| c[d] * directions[d][i]).sum()).collect()
        })
        .collect();
    let mut bias: Vec<f64> = (0..n1).map(|_| draw(rng)).collect();
    let mut tags = vec![format!("n0={n0} n1={n1} rank≤{rank}{}", if integer { " integer" } else { "" })];
    let pick = |rng: &mut ChaCha8Rng| rng.gen_range(0..n1);
    if rng.gen_bool(0.3) {
        let (i, j) = (pick(rng), pick(rng));
        let c = [1.0, -1.0, 2.5, -0.5][rng.gen_range(0..4)];
        rows[j] = rows[i].iter().map(|v| c * v).collect();
        bias[j] = c * bias[i];
        tags.push(format!("neuron {j} = {c}·neuron {i}"));
    }
    if rng.gen_bool(0.2) {
        let (i, j) = (pick(rng), pick(rng));
        rows[j] = rows[i].clone();
        bias[j] = bias[i] + 0.5;
        tags.push(format!("neuron {j} parallel to {i}"));
    }
    if rng.gen_bool(0.15) {
        let j = pick(rng);
        rows[j] = vec![0.0; n0];
        bias[j] = [0.0, 0.7, -0.7][rng.gen_range(0..3)];
        tags.push(format!("neuron {j} constant"));
    }
    (rows, bias, tags.join(", "))
}

#[test]
fn degenerate_one_layer_networks_agree_with_the_walk_and_the_splitter() {
    let mut rng = ChaCha8Rng::seed_from_u64(34);
    let mut handed_on = 0;
    let cases = 300;
    for case in 0..cases {
        let (rows, bias, description) = degenerate_layer(&mut rng);
        let net = one_layer(rows, bias);
        let what = format!("case {case} ({description})");
        let auto = whole(&net, Engine::Auto).unwrap();
        let walked = whole(&net, Engine::Walk).unwrap();
        let (split, _) = split_patterns(&net, &Domain::whole(net.input_dim())).unwrap();
        assert!(auto.complete() && walked.complete(), "{what}");
        assert_eq!(patterns(&auto), split, "{what}: auto ({:?}) against the splitter", auto.engine);
        assert_eq!(patterns(&walked), split, "{what}: walk against the splitter");
        assert_certified(&auto, &net, &what);
        if auto.engine != Engine::Arrangement {
            handed_on += 1;
            // The forced engine says why, or reports the cells it could not certify.
            match whole(&net, Engine::Arrangement) {
                Ok(forced) => assert!(forced.unverified > 0 && !forced.complete(), "{what}"),
                Err(e) => assert!(e.to_string().contains("arrangement engine cannot count"), "{what}: {e}"),
            }
        }
    }
    assert!(handed_on * 20 <= cases, "{handed_on} of {cases} degenerate networks handed on to the walk");
}

#[test]
fn the_random_suites_one_layer_networks_agree_with_the_splitter() {
    // The suite's generator (duplicate, opposite, scaled, zero and constant neurons, integer
    // weights), its one-hidden-layer networks only.
    let mut checked = 0;
    for seed in 0..600 {
        let case = common::random_case_up_to(seed, 6);
        if case.net.hidden().len() != 1 {
            continue;
        }
        let r = whole(&case.net, Engine::Auto).unwrap();
        let (split, _) = split_patterns(&case.net, &Domain::whole(case.net.input_dim())).unwrap();
        assert!(r.complete(), "seed {seed}");
        assert_eq!(patterns(&r), split, "seed {seed} ({}): {:?}", case.description, r.engine);
        checked += 1;
    }
    assert!(checked >= 100, "{checked} one-layer networks");
}

#[test]
fn deep_networks_walk_the_whole_space_in_the_first_layers_row_space() {
    // First layers of rank 1–2 in 3–5 inputs: the whole space reduces; the count must not change.
    let mut rng = ChaCha8Rng::seed_from_u64(35);
    for case in 0..146 {
        let n0 = rng.gen_range(3..=5usize);
        let rank = rng.gen_range(1..=2usize);
        let n1 = rng.gen_range(2..=5usize);
        let directions: Vec<Vec<f64>> =
            (0..rank).map(|_| (0..n0).map(|_| rng.gen_range(-1.0..1.0)).collect()).collect();
        let rows: Vec<Vec<f64>> = (0..n1)
            .map(|_| {
                let c: Vec<f64> = (0..rank).map(|_| rng.gen_range(-1.0..1.0)).collect();
                (0..n0).map(|i| (0..rank).map(|d| c[d] * directions[d][i]).sum()).collect()
            })
            .collect();
        let bias = (0..n1).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let second = (0..4).map(|_| (0..n1).map(|_| rng.gen_range(-1.0..1.0)).collect()).collect();
        let net = common::net(&[
            (rows, bias),
            (second, (0..4).map(|_| rng.gen_range(-1.0..1.0)).collect()),
            (vec![vec![1.0; 4]], vec![0.0]),
        ]);
        let r = whole(&net, Engine::Auto).unwrap();
        assert_eq!(r.engine, Engine::Walk);
        let (split, _) = split_patterns(&net, &Domain::whole(n0)).unwrap();
        assert!(r.complete(), "case {case}");
        assert_eq!(patterns(&r), split, "case {case}");
        assert_certified(&r, &net, &format!("case {case}"));
    }
}

#[test]
fn a_stopped_arrangement_is_a_certified_lower_bound() {
    let mut rng = ChaCha8Rng::seed_from_u64(36);
    let rows = (0..14).map(|_| (0..6).map(|_| rng.gen_range(-1.0..1.0)).collect()).collect();
    let bias = (0..14).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let net = one_layer(rows, bias);
    let exact: usize = (0..=6).map(|i| binomial(14, i)).sum();
    let options = WalkOptions { max_regions: Some(500), ..WalkOptions::default() };
    let r = count(&net, &Domain::whole(6), &options).unwrap();
    assert_eq!(r.engine, Engine::Arrangement);
    assert_eq!(r.stopped_by(), Some(StopReason::MaxRegions));
    assert!((500..exact).contains(&r.count()), "{} of {exact}", r.count());
    assert_certified(&r, &net, "stopped");
}

#[test]
fn the_arrangement_engine_refuses_what_it_does_not_count() {
    let deep = common::net(&[
        (vec![vec![1.0, 0.0], vec![0.0, 1.0]], vec![0.0, 0.0]),
        (vec![vec![1.0, 1.0]], vec![-0.5]),
        (vec![vec![1.0]], vec![0.0]),
    ]);
    let e = whole(&deep, Engine::Arrangement).unwrap_err().to_string();
    assert!(e.contains("one hidden layer"), "{e}");
    let flat = one_layer(vec![vec![1.0, 0.0]], vec![0.0]);
    let boxed = Domain::boxed(&[-1.0, -1.0], &[1.0, 1.0]).unwrap();
    let e = count(&flat, &boxed, &WalkOptions { engine: Engine::Arrangement, ..WalkOptions::default() })
        .unwrap_err()
        .to_string();
    assert!(e.contains("whole space"), "{e}");
    // A region graph needs the walk.
    let options = WalkOptions { engine: Engine::Arrangement, edges: true, ..WalkOptions::default() };
    assert!(count(&flat, &Domain::whole(2), &options).is_err());
}
