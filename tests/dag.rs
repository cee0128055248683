//! Networks that are not chains (residual blocks with and without projection, Concat, Slice,
//! Split, a residual branch that cancels, skips from the input and over a max pooling), from the ONNX files of fixtures/dag/ written by
//! scripts/make_dag_fixtures.py: the loaded networks compute what PyTorch computed, the walk finds
//! exactly the regions of the reference splitter and of the box partition, and every pattern of a
//! dense sample, every bound is at
//! least the exact count, and every command runs on them. python/tests/test_dag.py checks the
//! counts against a brute force over the graph's own ReLUs on hundreds of random graphs.

mod common;

use common::exact_patterns;
use num_bigint::BigUint;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use regionwalk::bound::{bounds, BoundOptions};
use regionwalk::cluster::{walk_dataflow, Cluster};
use regionwalk::domain::{Domain, Norm};
use regionwalk::exact::oracle::sample::sample_patterns;
use regionwalk::exact::oracle::split::split_patterns;
use regionwalk::exact::{count, Engine, WalkOptions};
use regionwalk::model::io::load_network;
use regionwalk::model::Network;
use std::path::Path;
use std::process::Command;

const MODELS: [&str; 5] = ["residual_mlp", "concat_split", "tiny_resnet", "input_skip", "pooled_resnet"];

fn model(name: &str) -> Network {
    load_network(&Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/dag/{name}.onnx"))).unwrap()
}

#[test]
fn dag_models_compute_what_pytorch_computed() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dag/reference.json")).unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    for name in MODELS.iter().chain(&["affine_skip"]) {
        let net = model(name);
        let points: Vec<Vec<f64>> = serde_json::from_value(reference[name]["points"].clone()).unwrap();
        let outputs: Vec<Vec<f64>> = serde_json::from_value(reference[name]["outputs"].clone()).unwrap();
        assert!(!points.is_empty());
        for (x, want) in points.iter().zip(&outputs) {
            let got = net.output(x);
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() <= 1e-12 * (1.0 + w.abs()), "{name} at {x:?}: {got} against PyTorch's {want:?}");
            }
        }
    }
}

/// Domains around random centres, each shrunk until the walk finds between 2 and `most` regions:
/// L-inf and L2 balls in low dimension, L-inf balls above 8 inputs (the splitter decides an L2
/// ball by Kelley's cutting planes, which in 36 dimensions stop undecided on regions near the
/// sphere that the walk witnesses).
fn domains(net: &Network, seed: u64, most: usize) -> Vec<(Domain, Norm)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n0 = net.input_dim();
    let mut out = Vec::new();
    for i in 0..6 {
        let center: Vec<f64> = (0..n0).map(|_| rng.gen_range(-0.8..0.8)).collect();
        let norm = if i % 2 == 0 || n0 > 8 { Norm::Linf } else { Norm::L2 };
        let mut radius = 1.0;
        for _ in 0..12 {
            let domain = Domain::ball(&center, radius, norm).unwrap();
            let options = WalkOptions { max_regions: Some(most + 1), ..Default::default() };
            match count(net, &domain, &options).unwrap().count() {
                c if c > most => radius *= 0.5,
                c if c >= 2 => {
                    out.push((domain, norm));
                    break;
                }
                _ => break,
            }
        }
    }
    out
}

#[test]
fn walk_equals_splitter_and_partition_on_dag_models() {
    let (mut cases, mut regions) = (0, 0);
    for (seed, name) in MODELS.iter().enumerate() {
        let net = model(name);
        for (domain, norm) in domains(&net, seed as u64, if net.input_dim() > 8 { 60 } else { 300 }) {
            let walked = count(&net, &domain, &WalkOptions { engine: Engine::Walk, ..Default::default() }).unwrap();
            let (split, _) = split_patterns(&net, &domain).unwrap();
            assert_eq!(exact_patterns(&walked), split, "{name}: walk and splitter differ");
            // Every pattern a dense sample shows is one the walk found.
            let sampled = sample_patterns(&net, &domain, 4000, seed as u64, None);
            assert!(!sampled.patterns.is_empty());
            for p in &sampled.patterns {
                assert!(split.binary_search(p).is_ok(), "{name}: a sampled pattern the walk did not find");
            }
            if net.input_dim() <= 8 && norm == Norm::Linf {
                let options = WalkOptions { engine: Engine::Partition, ..Default::default() };
                let parted = count(&net, &domain, &options).unwrap();
                assert_eq!(parted.engine, Engine::Partition);
                assert_eq!(exact_patterns(&parted), split, "{name}: partition and splitter differ");
            }
            cases += 1;
            regions += walked.count();
        }
    }
    assert!(cases >= 12 && regions >= 300, "only {cases} cases, {regions} regions compared");
}

#[test]
fn every_bound_is_at_least_the_exact_count_on_dag_models() {
    for (seed, name) in MODELS.iter().enumerate() {
        let net = model(name);
        for (domain, _) in domains(&net, 100 + seed as u64, 200) {
            let exact = count(&net, &domain, &WalkOptions::default()).unwrap();
            assert!(exact.complete());
            let report = bounds(&net, &domain, &BoundOptions::unbudgeted()).unwrap();
            let n = BigUint::from(exact.count());
            for b in &report.bounds {
                assert!(b.value >= n, "{name}: {} = {} is below the exact count {n}", b.method.name(), b.value);
            }
            assert!(report.lower <= exact.count() && report.lower >= 1, "{name}: lower bound {}", report.lower);
        }
    }
}

#[test]
fn the_dataflow_walk_finds_the_same_regions_on_dag_models() {
    for (seed, name) in MODELS.iter().enumerate() {
        let net = model(name);
        let (domain, _) = domains(&net, 200 + seed as u64, 150).into_iter().next().expect("a domain");
        let single = count(&net, &domain, &WalkOptions { engine: Engine::Walk, ..Default::default() }).unwrap();
        let options = WalkOptions { engine: Engine::Walk, ..Default::default() };
        let flow = walk_dataflow(&net, &domain, &options, &Cluster::local(2), None, true).unwrap().expect("process 0");
        assert_eq!(exact_patterns(&flow.walk), exact_patterns(&single), "{name}");
    }
}

/// Every command runs on a DAG model and agrees with the library's exact count.
#[test]
fn every_command_runs_on_a_dag_model() {
    let dir = common::Scratch::new("dag-commands");
    let model = "fixtures/dag/residual_mlp.onnx";
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_regionwalk"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}{text}", String::from_utf8_lossy(&out.stderr));
        text
    };
    let json = |args: &[&str]| -> serde_json::Value { serde_json::from_str(&run(args)).unwrap() };
    let on_ball = |cmd: &str, extra: &[&str]| -> Vec<String> {
        [cmd, model, "--center=0.1,-0.2", "--radius", "0.6"].iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let run_on_ball =
        |cmd: &str, extra: &[&str]| run(&on_ball(cmd, extra).iter().map(String::as_str).collect::<Vec<_>>());
    let json_on_ball = |cmd: &str, extra: &[&str]| -> serde_json::Value {
        let mut extra = extra.to_vec();
        extra.push("--json");
        serde_json::from_str(&run_on_ball(cmd, &extra)).unwrap()
    };
    let counted = json_on_ball("count", &[]);
    let exact = counted["regions"].as_u64().unwrap();
    let net = load_network(&Path::new(env!("CARGO_MANIFEST_DIR")).join(model)).unwrap();
    let domain = Domain::ball(&[0.1, -0.2], 0.6, Norm::L2).unwrap();
    assert_eq!(exact as usize, count(&net, &domain, &WalkOptions::default()).unwrap().count());
    assert!(exact >= 2);
    let linear = json_on_ball("count", &["--linear"]);
    assert!(linear["linear_regions"].as_u64().unwrap() <= exact, "{linear}");
    let validated = json_on_ball("validate", &[]);
    assert_eq!(validated["regions"].as_u64(), Some(exact), "{validated}");
    let bounded = json_on_ball("bound", &[]);
    assert!(bounded["lower"]["value"].as_u64().unwrap() <= exact, "{bounded}");
    let graph_file = dir.join("g.json");
    run_on_ball("graph", &["--format", "json", "--out", graph_file.to_str().unwrap()]);
    let graph: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&graph_file).unwrap()).unwrap();
    assert_eq!(graph["nodes"].as_array().map(Vec::len), Some(exact as usize));
    let streamed_file = dir.join("g.jsonl");
    run_on_ball("graph", &["--format", "jsonl", "--out", streamed_file.to_str().unwrap()]);
    let streamed: Vec<serde_json::Value> =
        std::fs::read_to_string(&streamed_file).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let in_order = graph["nodes"].as_array().unwrap().iter().chain(graph["edges"].as_array().unwrap());
    assert_eq!(streamed, in_order.cloned().collect::<Vec<_>>(), "a streamed graph is the graph held in memory");
    let picture = dir.join("p.png");
    run_on_ball("plot", &["--out", picture.to_str().unwrap()]);
    assert!(std::fs::metadata(&picture).unwrap().len() > 0);
    let estimate = json_on_ball("estimate", &["--probes", "64", "--seed", "1"]);
    assert!(estimate["lower"].as_u64().unwrap() <= exact, "{estimate}");
    let points = dir.join("points.csv");
    std::fs::write(&points, "0.1,-0.2\n-0.3,0.4\n").unwrap();
    let audit = dir.join("audit.jsonl");
    run(&["audit", model, "--points", points.to_str().unwrap(), "--radius", "0.6", "--out", audit.to_str().unwrap()]);
    let first: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&audit).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(first["regions"].as_u64(), Some(exact), "{first}");
    let eval = json(&["eval", model, "--point=0.1,-0.2", "--json"]);
    let y: Vec<f64> = serde_json::from_value(eval["output"].clone()).unwrap();
    assert_eq!(y, net.output(&[0.1, -0.2]).to_vec());
}

/// The VNN-COMP ResNets of fixtures/resnet load, and `bound` gives them a bracket whose certified
/// lower bound (witnessed regions) is below every upper bound.
#[test]
fn the_vnncomp_resnets_load_and_get_a_consistent_bracket() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/resnet");
    let mut loaded = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "onnx") {
            continue;
        }
        let net = load_network(&path).unwrap();
        assert_eq!(net.input_dim(), 3072, "{path:?}");
        assert!(net.hidden_widths().len() >= 5, "{path:?}: {:?}", net.hidden_widths());
        let center = vec![0.5; 3072];
        assert!(net.output(&center).iter().all(|v| v.is_finite()));
        let domain = Domain::ball(&center, 1e-3, Norm::Linf).unwrap();
        let report = bounds(&net, &domain, &BoundOptions::default()).unwrap();
        assert!(report.lower >= 1, "{path:?}");
        for b in &report.bounds {
            assert!(b.value >= BigUint::from(report.lower), "{path:?}: {} below the lower bound", b.method.name());
        }
        loaded += 1;
    }
    assert_eq!(loaded, 4);
}
