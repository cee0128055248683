//! Long runs and hostile input: checkpoints resume to the same result, memory and interrupt budgets
//! stop cleanly, Ctrl-C prints the partial result, exact certification accepts every region of
//! complete walks and rejects tampered witnesses, and mutated model files never make a parser panic.

mod common;

use common::{patterns, Scratch};

use rand::{Rng, SeedableRng};
use regionwalk::domain::{Domain, Norm};
use regionwalk::exact::certify::certify;
use regionwalk::exact::{count, resume, Checkpoint, StopReason, WalkOptions};
use regionwalk::model::io;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[test]
fn a_checkpointed_walk_resumes_to_the_same_regions_and_edges() {
    let mut tested = 0;
    for seed in 0..200 {
        let case = common::random_case(seed);
        let ball = Domain::ball(&case.center, case.radius, Norm::L2).unwrap();
        for edges in [false, true] {
            let full = count(&case.net, &ball, &WalkOptions { edges, ..Default::default() }).unwrap();
            if full.count() < 80 {
                continue;
            }
            let dir = Scratch::new(&format!("ck-{seed}-{edges}"));
            let path = dir.join("ck.json");
            let options =
                WalkOptions { edges, checkpoint: Some(path.clone()), max_regions: Some(70), ..Default::default() };
            let partial = count(&case.net, &ball, &options).unwrap();
            assert!(!partial.complete() && partial.stopped_by() == Some(StopReason::MaxRegions));
            let ck = Checkpoint::load(&path).unwrap();
            assert_eq!(ck.regions(), partial.count());
            let finished = resume(&case.net, &ball, &WalkOptions { edges, ..Default::default() }, ck).unwrap();
            assert!(finished.complete());
            assert_eq!(patterns(&finished), patterns(&full), "seed {seed}");
            assert_eq!(finished.edges.len(), full.edges.len(), "seed {seed}: edges");
            // A checkpoint only resumes the problem it was written for.
            let other = Domain::ball(&case.center, case.radius * 0.5, Norm::L2).unwrap();
            assert!(resume(
                &case.net,
                &other,
                &WalkOptions { edges, ..Default::default() },
                Checkpoint::load(&path).unwrap()
            )
            .is_err());
            tested += 1;
        }
        if tested >= 6 {
            break;
        }
    }
    assert!(tested >= 6);
}

/// A checkpoint file taken apart (docs/exact.md, "Checkpoints"): version, JSON header, body words.
struct Parts {
    version: u32,
    header: serde_json::Value,
    body: Vec<u64>,
}

impl Parts {
    fn read(bytes: &[u8]) -> Parts {
        assert_eq!(&bytes[..8], b"RWCHECKP");
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
        let header_len = word(12) as usize;
        let header = serde_json::from_slice(&bytes[20..20 + header_len]).unwrap();
        let at = 20 + header_len;
        let body = (0..word(at) as usize).map(|i| word(at + 8 + 8 * i)).collect();
        Parts { version, header, body }
    }

    /// The file, with a valid checksum (so that only the checks behind it can refuse it).
    fn write(&self) -> Vec<u8> {
        use std::hash::Hasher;
        let header = serde_json::to_vec(&self.header).unwrap();
        let mut out = b"RWCHECKP".to_vec();
        out.extend(self.version.to_le_bytes());
        out.extend((header.len() as u64).to_le_bytes());
        out.extend(&header);
        out.extend((self.body.len() as u64).to_le_bytes());
        self.body.iter().for_each(|w| out.extend(w.to_le_bytes()));
        let mut h = siphasher::sip::SipHasher13::new_with_keys(0, 0);
        h.write(&out);
        out.extend(h.finish().to_le_bytes());
        out
    }
}

/// A checkpoint that is truncated, altered, of another version, written for another problem, or
/// whose indices and lengths do not fit is refused with a message, by the library and by the CLI
/// (exit code 1), never resumed into a wrong count.
#[test]
fn damaged_checkpoints_are_refused_with_a_message() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/examples/mlp_2x16x16.json");
    let net = io::load_network(&model).unwrap();
    let ball = Domain::ball(&[0.1, -0.2], 0.5, Norm::L2).unwrap();
    let dir = Scratch::new("damaged");
    let path = dir.join("damaged.ck");
    let options = WalkOptions { checkpoint: Some(path.clone()), max_regions: Some(10), ..Default::default() };
    assert!(!count(&net, &ball, &options).unwrap().complete());
    let bytes = std::fs::read(&path).unwrap();
    let good = Parts::read(&bytes);
    // 32 neurons: one word per pattern. Body: [K, keys, Q, (index, pattern) × Q, U, uncertified].
    let regions = good.body[0] as usize;
    let queue_at = 1 + regions;
    assert!(good.body[queue_at] >= 2, "the partial walk left a queue");
    let (first_queued, second_queued) = (queue_at + 1, queue_at + 3);
    let edit = |f: &dyn Fn(&mut Parts)| {
        let mut p = Parts { version: good.version, header: good.header.clone(), body: good.body.clone() };
        f(&mut p);
        p.write()
    };
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 1;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated", bytes[..200].to_vec(), "not a regionwalk checkpoint"),
        ("not a checkpoint", b"hello".to_vec(), "not a regionwalk checkpoint"),
        ("one bit flipped", flipped, "checksum"),
        ("version", edit(&|p| p.version = 99), "format version 99"),
        ("an earlier JSON version", br#"{"version": 3, "result": {}}"#.to_vec(), "format version 3"),
        ("fingerprint", edit(&|p| p.header["fingerprint"] = 12345.into()), "another network"),
        ("queue out of range", edit(&|p| p.body[first_queued] = regions as u64 + 5), "out of range or repeated"),
        ("queue repeated", edit(&|p| p.body[second_queued] = p.body[first_queued]), "out of range or repeated"),
        ("queued pattern", edit(&|p| p.body[first_queued + 1] ^= 1), "is not the one numbered"),
        ("pattern bits", edit(&|p| p.body[first_queued + 1] |= 1 << 40), "does not fit its header"),
        ("body length", edit(&|p| p.body.push(0)), "does not fit its header"),
        (
            "uncertified",
            edit(&|p| {
                let last = p.body.len() - 1;
                assert_eq!(p.body[last], 0, "no uncertified region in the good file");
                p.body[last] = 1;
                p.body.push(regions as u64 + 1);
            }),
            "uncertified region",
        ),
        ("listed", edit(&|p| p.header["result"]["regions"].as_array_mut().unwrap().truncate(1)), "regions listed"),
        ("witness", edit(&|p| p.header["result"]["regions"][0]["witness"] = serde_json::json!([0.0])), "witness"),
        ("duplicate", edit(&|p| p.body[2] = p.body[1]), "appears twice"),
        (
            "edge",
            edit(&|p| p.header["result"]["edges"] = serde_json::json!([{"a": 0, "b": regions + 1, "flipped": [0]}])),
            "edge",
        ),
    ];
    for (what, bytes, message) in cases {
        let file = dir.join(format!("damaged-{}.ck", what.replace(' ', "-")));
        std::fs::write(&file, &bytes).unwrap();
        let error = Checkpoint::load(&file)
            .and_then(|ck| resume(&net, &ball, &WalkOptions::default(), ck))
            .err()
            .unwrap_or_else(|| panic!("{what}: a damaged checkpoint was resumed"));
        assert!(error.to_string().contains(message), "{what}: message {error}");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_regionwalk"))
            .args(["count", model.to_str().unwrap(), "--center=0.1,-0.2", "--radius", "0.5", "--resume"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{what}: exit code");
        assert!(String::from_utf8_lossy(&out.stderr).contains(message), "{what}: CLI message");
    }
    // The undamaged file, and the same re-encoded by this test's writer (so that each refusal
    // above is the edit's), still resume to the full count.
    let full = count(&net, &ball, &WalkOptions::default()).unwrap();
    let rewritten = dir.join("rewritten.ck");
    std::fs::write(&rewritten, good.write()).unwrap();
    for file in [&path, &rewritten] {
        let resumed = resume(&net, &ball, &WalkOptions::default(), Checkpoint::load(file).unwrap()).unwrap();
        assert_eq!(patterns(&resumed), patterns(&full));
    }
}

#[test]
fn memory_and_interrupt_budgets_stop_cleanly() {
    let case = (0..).map(common::random_case).find(|c| {
        count(&c.net, &Domain::ball(&c.center, c.radius, Norm::L2).unwrap(), &WalkOptions::default()).unwrap().count()
            > 1000
    });
    let case = case.unwrap();
    let ball = Domain::ball(&case.center, case.radius, Norm::L2).unwrap();
    // Room for 150 regions beyond the walk's headroom: the walk must expand well past its start
    // region, and stop before the case's full count, with what it holds within the budget.
    let full = count(&case.net, &ball, &WalkOptions::default()).unwrap().count() as u64;
    let per_region = regionwalk::exact::result::memory_per_region(&case.net, &WalkOptions::default());
    let headroom = regionwalk::tolerance::MEMORY_HEADROOM_REGIONS;
    // The frontier holds a quarter of the budget (and spills past it).
    let budget = (headroom + 150) * per_region * 4 / 3;
    let r = count(&case.net, &ball, &WalkOptions { max_memory: Some(budget), ..Default::default() }).unwrap();
    assert_eq!(r.stopped_by(), Some(StopReason::MaxMemory));
    let held = r.count() as u64;
    assert!(!r.complete() && held > 150 && held < full, "{held} of {full} regions held under the budget");
    assert!(held * per_region <= budget, "{held} regions of {per_region} bytes exceed the budget {budget}");
    let flag = Arc::new(AtomicBool::new(true));
    let r = count(&case.net, &ball, &WalkOptions { interrupt: Some(flag), ..Default::default() }).unwrap();
    assert_eq!(r.stopped_by(), Some(StopReason::Interrupted));
    assert!(!r.complete());
}

#[test]
fn ctrl_c_prints_the_partial_result() {
    // Both engines, each on a count that is still running after a second: the walk on ACAS Xu's
    // property-3 box (tens of thousands of regions), the box partition on its whole input box.
    let runs: [&[&str]; 2] = [
        &[
            "fixtures/acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx",
            "--center",
            "fixtures/acasxu/vnnlib/prop_3.vnnlib",
            "--engine",
            "walk",
        ],
        &["fixtures/acasxu/nnet/ACASXU_run2a_1_1_batch_2000.nnet", "--input-box", "--engine", "partition"],
    ];
    for args in runs {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_regionwalk"))
            .arg("count")
            .args(args)
            .arg("--json")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let start = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            assert!(start.elapsed().as_secs() < 60, "{args:?}: the count did not stop after SIGINT");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["stopped_by"], "interrupted");
        assert_eq!(v["complete"], false);
        assert_eq!(v["engine"], args[args.len() - 1]);
        assert!(v["regions"].as_u64().unwrap() >= 1);
    }
}

#[test]
fn certification_accepts_complete_walks_and_rejects_tampered_witnesses() {
    for f in common::theory_fixtures() {
        let ball = Domain::ball(&f.center, f.radius, Norm::L2).unwrap();
        let r = count(&f.net, &ball, &WalkOptions::default()).unwrap();
        let c = certify(&f.net, &ball, &r);
        assert_eq!(c.certified, r.count(), "{}: {:?}", f.name, c.failures);
    }
    for seed in 0..80 {
        let case = common::random_case(seed);
        for norm in [Norm::L2, Norm::Linf] {
            let domain = Domain::ball(&case.center, case.radius, norm).unwrap();
            let mut r = count(&case.net, &domain, &WalkOptions::default()).unwrap();
            let c = certify(&case.net, &domain, &r);
            assert!(c.failures.is_empty(), "seed {seed} {norm:?}: {:?}", c.failures);
            // Move one witness out of the ball: that region must fail.
            let w = r.regions[0].witness.as_mut().unwrap();
            w[0] = case.center[0] + 2.0 * case.radius;
            let c = certify(&case.net, &domain, &r);
            assert_eq!(c.failures.len(), 1, "seed {seed}");
            assert!(c.failures[0].1.contains("not strictly inside the domain"));
        }
    }
}

/// Flips bits, truncates and inserts bytes: the parsers must return errors, never panic.
#[test]
fn mutated_model_files_never_panic_a_parser() {
    let files = [
        "fixtures/examples/mlp_2x16x16.json",
        "fixtures/small/marabou/fc_2-2-3.nnet",
        "fixtures/small/marabou/fc1.onnx",
        "fixtures/small/marabou/fc_2-2-3.onnx",
        "fixtures/small/vnncomp_test/test_small.onnx",
        "fixtures/acasxu/vnnlib/prop_1.vnnlib",
    ];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(99);
    for rel in files {
        let original = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap();
        for _ in 0..400 {
            let mut bytes = original.clone();
            match rng.gen_range(0..4) {
                0 => {
                    for _ in 0..rng.gen_range(1..8) {
                        let i = rng.gen_range(0..bytes.len());
                        bytes[i] ^= 1 << rng.gen_range(0..8);
                    }
                }
                1 => bytes.truncate(rng.gen_range(0..bytes.len())),
                2 => {
                    let i = rng.gen_range(0..=bytes.len());
                    let junk: Vec<u8> = (0..rng.gen_range(1..16)).map(|_| rng.gen()).collect();
                    bytes.splice(i..i, junk);
                }
                _ => {
                    let i = rng.gen_range(0..bytes.len());
                    bytes[i] = [b'9', b'-', b'e', b',', b'[', 0xff][rng.gen_range(0..6)];
                }
            }
            let outcome = std::panic::catch_unwind(|| {
                let text = String::from_utf8_lossy(&bytes);
                match Path::new(rel).extension().and_then(|e| e.to_str()) {
                    Some("json") => drop(io::network_from_json_str(&text)),
                    Some("nnet") => drop(io::network_from_nnet_str(&text, true)),
                    Some("onnx") => drop(io::network_from_onnx_bytes(&bytes)),
                    _ => drop(io::input_boxes_from_vnnlib(&text)),
                }
            });
            assert!(outcome.is_ok(), "{rel}: a mutated file made the parser panic");
        }
    }
}
