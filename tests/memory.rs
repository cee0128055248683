//! Memory at scale (docs/exact.md, "Memory"): a count that keeps only its visited set, told apart
//! by exact patterns or by fingerprints, gives the count of the walk that keeps every region; a
//! frontier spilled to disk changes neither the count nor the work; regions streamed to a file are
//! the region list; a large count-only walk resumes from its checkpoint to the same count.

mod common;

use common::{exact_patterns, random_case, theory_fixtures, Scratch};
use regionwalk::domain::{Domain, Norm};
use regionwalk::exact::regions_file::{read_regions, RegionWriter};
use regionwalk::exact::{count, resume, Checkpoint, Engine, Identity, WalkOptions, WalkResult};
use regionwalk::model::io;
use regionwalk::model::Network;
use regionwalk::problem::Problem;
use std::path::Path;

fn count_only(identity: Identity) -> WalkOptions {
    WalkOptions { count_only: true, identity, ..Default::default() }
}

/// The work a walk did, which spilling must not change.
fn work(r: &WalkResult) -> (usize, bool, u64, u64, u64, u64, u64) {
    let c = &r.counters;
    (r.count(), r.complete(), c.lp_solves, c.qp_solves, c.dual_solves, r.screened, r.known_neighbours)
}

#[test]
fn fingerprints_and_exact_patterns_count_the_same_on_hundreds_of_networks() {
    let mut multi = 0;
    for seed in 0..300 {
        let case = random_case(seed);
        for norm in [Norm::L2, Norm::Linf] {
            let ball = Domain::ball(&case.center, case.radius, norm).unwrap();
            let listed = count(&case.net, &ball, &WalkOptions::default()).unwrap();
            let expected = exact_patterns(&listed).len();
            multi += (expected > 1) as usize;
            for identity in [Identity::Patterns, Identity::Fingerprints] {
                let r = count(&case.net, &ball, &count_only(identity)).unwrap();
                let what = format!("seed {seed} {norm:?} {identity:?} ({})", case.description);
                assert_eq!((r.count(), r.complete()), (expected, true), "{what}");
                assert!(r.regions.is_empty(), "{what}: a count-only walk kept its regions");
                match (identity, r.engine) {
                    (Identity::Fingerprints, Engine::Walk) => {
                        let bound = r.collision_bound.expect("fingerprints report their collision bound");
                        assert!(bound < 1e-30 && (bound > 0.0) == (expected > 1), "{what}: {bound}");
                    }
                    _ => assert_eq!(r.collision_bound, None, "{what}"),
                }
            }
        }
    }
    assert!(multi > 400, "only {multi} of 600 domains hold several regions");
}

#[test]
fn a_spilling_frontier_changes_neither_the_count_nor_the_work() {
    let acas = io::load_network(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/acasxu/nnet/ACASXU_run2a_1_1_batch_2000.nnet").as_path(),
    )
    .unwrap();
    let mut cases: Vec<(String, Network, Domain)> = (0..80)
        .map(|seed| {
            let c = random_case(seed);
            (
                format!("seed {seed} ({})", c.description),
                c.net.clone(),
                Domain::ball(&c.center, c.radius, Norm::L2).unwrap(),
            )
        })
        .collect();
    for f in theory_fixtures() {
        cases.push((f.name.to_string(), f.net.clone(), Domain::ball(&f.center, f.radius, Norm::L2).unwrap()));
    }
    cases.push(("ACAS Xu 1_1 L2 0.1".into(), acas, Domain::ball(&[0.1; 5], 0.1, Norm::L2).unwrap()));
    let mut spilled = 0;
    for (what, net, ball) in &cases {
        for identity in [Identity::Patterns, Identity::Fingerprints] {
            let memory = count(net, ball, &count_only(identity)).unwrap();
            let options = WalkOptions { frontier_memory: Some(0), ..count_only(identity) };
            let disk = count(net, ball, &options).unwrap();
            assert_eq!(work(&disk), work(&memory), "{what} {identity:?}");
            assert!(memory.complete() && memory.spilled_regions == 0, "{what}");
            // At a budget of 0 bytes every region the walk finds goes to disk once (the partition,
            // which counts 1-D balls, has no frontier).
            let found = (memory.count() as u64) + memory.unverified;
            let expected = if memory.engine == Engine::Walk { found } else { 0 };
            assert_eq!(disk.spilled_regions, expected, "{what}");
            spilled += (disk.spilled_regions > 0) as usize;
        }
    }
    assert!(spilled > 100, "only {spilled} walks spilled");
    // A budget stops a spilling walk where it stops one in memory.
    let (what, net, ball) = cases.last().unwrap();
    let limit = WalkOptions { max_regions: Some(700), ..count_only(Identity::Auto) };
    let memory = count(net, ball, &limit).unwrap();
    let disk = count(net, ball, &WalkOptions { frontier_memory: Some(10_000), ..limit }).unwrap();
    assert!(!memory.complete() && disk.spilled_regions > 0, "{what}");
    assert_eq!(work(&disk), work(&memory), "{what}");
}

/// Writes the regions of a count of `problem` to a file as they are found and reads them back.
fn streamed(problem: &Problem, options: &WalkOptions, dir: &Path) -> (WalkResult, Vec<regionwalk::exact::Region>) {
    let path = dir.join("regions.jsonl");
    let writer = RegionWriter::create(&path).unwrap();
    let r = problem
        .walk(&WalkOptions { sink: Some(writer.sink(problem.net.graph_units().clone())), ..options.clone() }, None)
        .unwrap();
    assert_eq!(writer.finish().unwrap() as usize, r.count());
    (r, read_regions(&path).unwrap())
}

#[test]
fn streamed_regions_are_the_region_list() {
    let dir = Scratch::new("streamed");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mnist = io::load_network(&root.join("fixtures/mnist_fc/onnx/mnist-net_256x2.onnx")).unwrap();
    let image = common::mnist_image(0);
    let mut problems: Vec<(String, Problem)> = Vec::new();
    for seed in 0..40 {
        let c = random_case(seed);
        problems
            .push((format!("seed {seed} L2"), Problem::ball(c.net.clone(), &c.center, c.radius, Norm::L2).unwrap()));
        problems.push((format!("seed {seed} L-inf"), Problem::ball(c.net, &c.center, c.radius, Norm::Linf).unwrap()));
    }
    // Walked in the first layer's row space (witnesses lifted as they are written).
    problems.push(("MNIST 256x2 L2 0.1 (row space)".into(), Problem::ball(mnist, &image, 0.1, Norm::L2).unwrap()));
    // A fixed coordinate (witnesses get it back as they are written).
    let c = random_case(7);
    let mut lower: Vec<f64> = c.center.iter().map(|v| v - c.radius).collect();
    let mut upper: Vec<f64> = c.center.iter().map(|v| v + c.radius).collect();
    (lower[0], upper[0]) = (c.center[0], c.center[0]);
    problems.push(("a fixed coordinate".into(), Problem::boxed(c.net, &lower, &upper).unwrap()));
    let mut engines = std::collections::BTreeSet::new();
    for (what, problem) in &problems {
        let listed = problem.walk(&WalkOptions::default(), None).unwrap();
        let (r, read) = streamed(problem, &count_only(Identity::Auto), &dir);
        assert_eq!((r.count(), r.engine), (listed.count(), listed.engine), "{what}");
        engines.insert(format!("{:?}", r.engine));
        assert_eq!(read.len(), listed.regions.len(), "{what}");
        for (a, b) in read.iter().zip(&listed.regions) {
            assert_eq!(a.pattern, b.pattern, "{what}: another order");
            assert_eq!(a.witness, b.witness, "{what}: another witness");
            assert_eq!(a.inradius, b.inradius, "{what}");
            let w = a.witness.as_ref().expect("a complete count writes every witness");
            assert_eq!(w.len(), problem.net.input_dim() + problem.fixed_indices().len(), "{what}: witness length");
        }
    }
    assert_eq!(engines.len(), 2, "both engines stream: {engines:?}");
    // A stopped walk writes the regions it certified, then those still queued (without witness):
    // as many as it counts.
    let (what, problem) = &problems[problems.len() - 2];
    let stopped = WalkOptions { max_regions: Some(3), ..count_only(Identity::Auto) };
    let (r, read) = streamed(problem, &stopped, &dir);
    assert!(!r.complete() && read.len() == r.count(), "{what}: {} written, {} counted", read.len(), r.count());
    assert!(read.iter().any(|g| g.witness.is_none()) && read[0].witness.is_some(), "{what}");
}

#[test]
fn a_large_count_only_walk_resumes_from_its_checkpoint_to_the_same_count() {
    // 2 inputs, one layer of 200 neurons in general position: ~12,000 regions in the ball.
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let rows: Vec<Vec<f64>> = (0..200).map(|_| vec![rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0)]).collect();
    let bias: Vec<f64> = (0..200).map(|_| rng.gen_range(-0.5..0.5)).collect();
    let net = common::net(&[(rows, bias), (vec![vec![1.0; 200]], vec![0.0])]);
    let ball = Domain::ball(&[0.0, 0.0], 1.0, Norm::L2).unwrap();
    let dir = Scratch::new("large");
    let path = dir.join("walk.ck");
    for identity in [Identity::Patterns, Identity::Fingerprints] {
        let full = count(&net, &ball, &count_only(identity)).unwrap();
        assert!(full.complete() && full.count() > 10_000, "{identity:?}: {} regions", full.count());
        let half = WalkOptions {
            max_regions: Some(full.count() / 2),
            checkpoint: Some(path.clone()),
            frontier_memory: Some(8 << 10),
            ..count_only(identity)
        };
        let first = count(&net, &ball, &half).unwrap();
        assert!(!first.complete() && first.spilled_regions > 0, "{identity:?}");
        let saved = Checkpoint::load(&path).unwrap();
        assert_eq!(saved.regions(), first.count(), "{identity:?}");
        let finished = resume(&net, &ball, &count_only(Identity::Auto), saved).unwrap();
        assert_eq!((finished.count(), finished.complete()), (full.count(), true), "{identity:?}");
        // Asking for the other identity than the checkpoint's is refused, not mixed.
        let other = if identity == Identity::Patterns { Identity::Fingerprints } else { Identity::Patterns };
        let refused = resume(&net, &ball, &count_only(other), Checkpoint::load(&path).unwrap());
        assert!(refused.unwrap_err().to_string().contains("identifies regions"), "{identity:?}");
    }
    // A count-only checkpoint cannot give a region list.
    let refused = resume(&net, &ball, &WalkOptions::default(), Checkpoint::load(&path).unwrap());
    assert!(refused.unwrap_err().to_string().contains("kept no region list"));
}

#[test]
fn a_walk_of_a_million_regions_resumes_from_its_checkpoint_to_the_same_count() {
    // 4 inputs, one layer of 86 neurons in general position, the box [-1, 1]⁴: over 10⁶ regions.
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(86);
    let n = 86;
    let rows: Vec<Vec<f64>> = (0..n).map(|_| (0..4).map(|_| rng.gen_range(-1.0..1.0)).collect()).collect();
    let bias: Vec<f64> = (0..n).map(|_| rng.gen_range(-0.5..0.5)).collect();
    let net = common::net(&[(rows, bias), (vec![vec![1.0; n]], vec![0.0])]);
    let domain = Domain::ball(&[0.0; 4], 1.0, Norm::Linf).unwrap();
    let walk = WalkOptions { engine: Engine::Walk, ..count_only(Identity::Auto) };
    let full = count(&net, &domain, &walk).unwrap();
    assert!(full.count() >= 1_000_000, "{} regions", full.count());
    // The partition, an independent engine, agrees.
    let partitioned = count(&net, &domain, &count_only(Identity::Auto)).unwrap();
    assert_eq!((partitioned.engine, partitioned.count()), (Engine::Partition, full.count()));
    let dir = Scratch::new("million");
    let path = dir.join("walk.ck");
    let half = WalkOptions { max_regions: Some(full.count() / 2), checkpoint: Some(path.clone()), ..walk.clone() };
    let first = count(&net, &domain, &half).unwrap();
    assert!(!first.complete() && first.count() >= full.count() / 2);
    let saved = Checkpoint::load(&path).unwrap();
    assert_eq!(saved.regions(), first.count());
    let finished = resume(&net, &domain, &walk, saved).unwrap();
    assert_eq!(
        (finished.count(), finished.complete(), finished.unverified),
        (full.count(), full.complete(), full.unverified)
    );
}

#[test]
fn a_resumed_walk_streams_every_region_once() {
    // With a sink and a checkpoint the walk keeps its list, and the resumed walk writes the regions
    // certified before the checkpoint first: the two files together are the uninterrupted list.
    let dir = Scratch::new("resumed-stream");
    for seed in 0..30 {
        let c = random_case(seed);
        let problem = Problem::ball(c.net, &c.center, c.radius, Norm::L2).unwrap();
        let listed = problem.walk(&WalkOptions::default(), None).unwrap();
        if listed.count() < 20 {
            continue;
        }
        let path = dir.join("walk.ck");
        let first = WalkOptions {
            max_regions: Some(listed.count() / 2),
            checkpoint: Some(path.clone()),
            ..count_only(Identity::Auto)
        };
        let (stopped, _) = streamed(&problem, &first, &dir);
        assert!(!stopped.complete(), "seed {seed}");
        let writer = RegionWriter::create(&dir.join("rest.jsonl")).unwrap();
        let sink = Some(writer.sink(problem.net.graph_units().clone()));
        let r = problem
            .walk(&WalkOptions { sink, ..count_only(Identity::Auto) }, Some(Checkpoint::load(&path).unwrap()))
            .unwrap();
        writer.finish().unwrap();
        assert_eq!(r.count(), listed.count(), "seed {seed}");
        let mut read: Vec<String> =
            read_regions(&dir.join("rest.jsonl")).unwrap().iter().map(|g| format!("{:?}", g.pattern)).collect();
        let mut expected: Vec<String> = listed.regions.iter().map(|g| format!("{:?}", g.pattern)).collect();
        read.sort();
        expected.sort();
        assert_eq!(read, expected, "seed {seed}");
        // A count-only checkpoint cannot list what it found before.
        let plain = WalkOptions {
            max_regions: Some(listed.count() / 2),
            checkpoint: Some(path.clone()),
            ..count_only(Identity::Auto)
        };
        problem.walk(&plain, None).unwrap();
        let writer = RegionWriter::create(&dir.join("refused.jsonl")).unwrap();
        let refused = problem.walk(
            &WalkOptions { sink: Some(writer.sink(problem.net.graph_units().clone())), ..count_only(Identity::Auto) },
            Some(Checkpoint::load(&path).unwrap()),
        );
        assert!(refused.unwrap_err().to_string().contains("kept no region list"), "seed {seed}");
    }
}

#[test]
fn a_network_without_hidden_neurons_has_one_region_for_every_identity_and_engine() {
    // An affine map (the ONNX fixture `y = W x + b + x` has no ReLU): one region, empty pattern.
    let nets = [
        common::net(&[(vec![vec![1.0, 2.0]], vec![0.5])]),
        io::load_network(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dag/affine_skip.onnx")).unwrap(),
    ];
    let dir = Scratch::new("affine");
    for net in &nets {
        for (norm, engine) in [(Norm::L2, Engine::Walk), (Norm::Linf, Engine::Walk), (Norm::Linf, Engine::Partition)] {
            let ball = Domain::ball(&[0.3, -0.1], 0.7, norm).unwrap();
            for identity in [Identity::Patterns, Identity::Fingerprints] {
                let r = count(net, &ball, &WalkOptions { engine, ..count_only(identity) }).unwrap();
                assert_eq!((r.count(), r.complete()), (1, true), "{norm:?} {engine:?} {identity:?}");
            }
            let listed = count(net, &ball, &WalkOptions { engine, ..Default::default() }).unwrap();
            assert_eq!(listed.regions.len(), 1, "{norm:?} {engine:?}");
            assert!(listed.regions[0].pattern.is_empty());
        }
        // A walk stopped before it expanded its one region checkpoints it, and resumes to it.
        let path = dir.join("affine.ck");
        let ball = Domain::ball(&[0.3, -0.1], 0.7, Norm::L2).unwrap();
        let options =
            WalkOptions { checkpoint: Some(path.clone()), max_regions: Some(1), ..count_only(Identity::Patterns) };
        let stopped = count(net, &ball, &options).unwrap();
        assert_eq!((stopped.count(), stopped.complete()), (1, false));
        let resumed = resume(net, &ball, &count_only(Identity::Auto), Checkpoint::load(&path).unwrap()).unwrap();
        assert_eq!((resumed.count(), resumed.complete()), (1, true));
    }
}
