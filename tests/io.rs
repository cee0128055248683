//! Real networks in: ONNX and .nnet files load as their exporters meant (outputs match
//! onnxruntime's, recorded by scripts/onnx_reference.py), vnnlib boxes and point files are read,
//! and malformed files are refused with one clear message.
#![allow(clippy::approx_constant)] // header values of the .nnet file, not approximations of π

mod common;

use regionwalk::domain::Domain;
use regionwalk::exact::{count, WalkOptions};
use regionwalk::model::io::{input_box_from_vnnlib, load_network, load_network_with, network_to_json, LoadOptions};
use regionwalk::model::Network;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-5 + 1e-4 * b.abs()
}

#[test]
fn onnx_outputs_match_onnxruntime() {
    let text = std::fs::read_to_string(fixture("fixtures/onnx_reference.json")).unwrap();
    let records: serde_json::Value = serde_json::from_str(&text).unwrap();
    let records = records.as_object().unwrap();
    assert!(records.len() >= 10, "every ONNX fixture is recorded");
    for (rel, cases) in records {
        let net = load_network(&fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        for case in cases.as_array().unwrap() {
            let x: Vec<f64> = serde_json::from_value(case["input"].clone()).unwrap();
            let y: Vec<f64> = serde_json::from_value(case["output"].clone()).unwrap();
            let got = net.output(&x);
            assert_eq!(got.len(), y.len(), "{rel}: output size");
            for (g, e) in got.iter().zip(&y) {
                assert!(close(*g, *e), "{rel}: got {g}, onnxruntime {e}");
            }
        }
    }
}

fn random_points(n0: usize, count: usize, seed: u64) -> Vec<Vec<f64>> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..count).map(|_| (0..n0).map(|_| rng.gen_range(-0.5..0.5)).collect()).collect()
}

fn same_function(a: &Network, b: &Network, what: &str) {
    assert_eq!(a.input_dim(), b.input_dim(), "{what}");
    for x in random_points(a.input_dim(), 100, 1) {
        for (p, q) in a.output(&x).iter().zip(b.output(&x).iter()) {
            assert!(close(*p, *q), "{what}: {p} vs {q} at {x:?}");
        }
    }
}

#[test]
fn nnet_and_onnx_copies_of_the_same_network_agree() {
    for net in ["1_1", "1_9"] {
        let nnet = load_network(&fixture(&format!("fixtures/acasxu/nnet/ACASXU_run2a_{net}_batch_2000.nnet"))).unwrap();
        let onnx = load_network(&fixture(&format!("fixtures/acasxu/onnx/ACASXU_run2a_{net}_batch_2000.onnx"))).unwrap();
        same_function(&nnet, &onnx, net);
        assert_eq!(nnet.hidden_widths(), vec![50; 6]);
    }
    let eran = load_network(&fixture("fixtures/acasxu/onnx-eran-variant/ACASXU_run2a_1_1_batch_2000.onnx")).unwrap();
    let matlab = load_network(&fixture("fixtures/acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx")).unwrap();
    same_function(&eran, &matlab, "ERAN vs MATLAB export");
    let a = load_network(&fixture("fixtures/small/marabou/fc_2-2-3.nnet")).unwrap();
    let b = load_network(&fixture("fixtures/small/marabou/fc_2-2-3.onnx")).unwrap();
    same_function(&a, &b, "Marabou fc_2-2-3");
}

#[test]
fn nnet_raw_units_fold_the_normalisation() {
    let path = fixture("fixtures/acasxu/nnet/ACASXU_run2a_1_1_batch_2000.nnet");
    let normalised = load_network(&path).unwrap();
    let raw = load_network_with(&path, LoadOptions { raw_units: true }).unwrap();
    // Header: means 19791.091, 0, 0, 650, 600 (+ output 7.5188840201005975),
    // ranges 60261, 6.28318530718, 6.28318530718, 1100, 1200 (+ output 373.94992).
    let (means, ranges) =
        ([19791.091, 0.0, 0.0, 650.0, 600.0], [60261.0, 6.28318530718, 6.28318530718, 1100.0, 1200.0]);
    let raw_box = raw.input_box().unwrap();
    assert_eq!(raw_box.lower, vec![0.0, -3.141593, -3.141593, 100.0, 0.0]);
    let norm_box = normalised.input_box().unwrap();
    assert!(close(norm_box.lower[0], (0.0 - means[0]) / ranges[0]));
    for x in random_points(5, 20, 3) {
        let raw_x: Vec<f64> = x.iter().enumerate().map(|(i, v)| v * ranges[i] + means[i]).collect();
        for (r, n) in raw.output(&raw_x).iter().zip(normalised.output(&x).iter()) {
            assert!(close(*r, n * 373.94992 + 7.5188840201005975), "{r} vs {n}");
        }
    }
}

#[test]
fn counting_the_onnx_and_its_json_export_agree() {
    let onnx_path = fixture("fixtures/small/marabou/fc1.onnx");
    let net = load_network(&onnx_path).unwrap();
    let dir = common::Scratch::new("fc1");
    let json_path = dir.join("fc1.json");
    std::fs::write(&json_path, network_to_json(&net)).unwrap();
    let count = |model: &Path| -> serde_json::Value {
        let out = Command::new(env!("CARGO_BIN_EXE_regionwalk"))
            .args(["count", model.to_str().unwrap(), "--center=0.1,-0.2", "--radius", "0.4", "--json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let (a, b) = (count(&onnx_path), count(&json_path));
    assert!(a["regions"].as_u64().unwrap() > 1);
    assert_eq!(a["regions"], b["regions"]);
}

#[test]
fn a_graphs_json_export_keeps_its_carrying_units_and_bad_claims_are_refused() {
    for name in ["residual_mlp", "tiny_resnet", "input_skip", "pooled_resnet"] {
        let net = load_network(&fixture(&format!("fixtures/dag/{name}.onnx"))).unwrap();
        assert!(net.graph_units().has_carrying(), "{name}");
        let text = network_to_json(&net);
        let back = regionwalk::model::io::network_from_json_str(&text).unwrap();
        assert_eq!(back.graph_units(), net.graph_units(), "{name}");
        for l in 0..net.hidden().len() {
            assert_eq!(back.max_windows().in_layer(l), net.max_windows().in_layer(l), "{name}: layer {l}");
        }
        same_function(&net, &back, name);
        // Claiming that an own unit carries is refused: it does not pass one ReLU on unchanged.
        let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let l = net.graph_units().carrying().iter().position(|&c| c > 0).expect("a layer that carries");
        let claimed = doc["carrying"][l].as_u64().unwrap();
        doc["carrying"][l] = serde_json::json!(claimed + 1);
        let err = regionwalk::model::io::network_from_json_str(&doc.to_string()).unwrap_err();
        assert!(err.contains("does not pass one ReLU of the layer before on unchanged"), "{name}: {err}");
        doc["carrying"][l] = serde_json::json!(claimed);
        // A pooling's candidate is no carrier either.
        if let Some(pool) = (0..net.hidden().len()).find(|&p| net.max_windows().in_layer(p).iter().any(|w| w.len() > 1))
        {
            doc["carrying"][pool] = serde_json::json!(1);
            let err = regionwalk::model::io::network_from_json_str(&doc.to_string()).unwrap_err();
            assert!(err.contains("is a candidate of a max window"), "{name}: {err}");
            doc["carrying"][pool] = serde_json::json!(0);
        }
        if net.max_windows().is_empty() {
            // The first layer's units read the input, which a ReLU would clip.
            doc["carrying"][0] = serde_json::json!(1);
        } else {
            // Without their windows of one unit, the identity units would be ReLUs reading the
            // input or a pooling's candidates, which may be negative.
            doc["max_windows"] = serde_json::json!(null);
        }
        let err = regionwalk::model::io::network_from_json_str(&doc.to_string()).unwrap_err();
        assert!(err.contains("does not pass one ReLU of the layer before on unchanged"), "{name}: {err}");
        doc["carrying"] = serde_json::json!([0]);
        let err = regionwalk::model::io::network_from_json_str(&doc.to_string()).unwrap_err();
        assert!(err.contains("entries for"), "{name}: {err}");
    }
    // A chain writes no carrying field.
    let chain = load_network(&fixture("fixtures/small/marabou/fc1.onnx")).unwrap();
    assert!(!network_to_json(&chain).contains("carrying"));
}

#[test]
fn vnnlib_boxes_are_read_and_restrict_the_domain() {
    let union = "(declare-const X_0 Real)\n(assert (or (and (<= X_0 1) (>= X_0 0)) (and (<= X_0 3) (>= X_0 2))))";
    let text = std::fs::read_to_string(fixture("fixtures/acasxu/vnnlib/prop_1.vnnlib")).unwrap();
    let (lo, hi) = input_box_from_vnnlib(&text).unwrap();
    assert_eq!(lo, vec![0.6, -0.5, -0.5, 0.45, -0.5]);
    assert_eq!(hi, vec![0.679857769, 0.5, 0.5, 0.5, -0.45]);
    // An input box inside (or (and ...)) mixed with an output constraint.
    let text = std::fs::read_to_string(fixture("fixtures/small/vnncomp_test/test_small.vnnlib")).unwrap();
    assert_eq!(input_box_from_vnnlib(&text).unwrap(), (vec![-1.0], vec![1.0]));
    assert!(input_box_from_vnnlib("(declare-const X_0 Real)\n(assert (<= X_0 1))")
        .unwrap_err()
        .contains("not bounded"));
    assert!(input_box_from_vnnlib(
        "(declare-const X_0 Real)\n(assert (or (and (<= X_0 1) (>= X_0 0)) (and (<= X_0 3) (>= X_0 2))))"
    )
    .unwrap_err()
    .contains("union of 2 input boxes"));
    assert_eq!(
        regionwalk::model::io::input_boxes_from_vnnlib(union).unwrap(),
        vec![(vec![0.0], vec![1.0]), (vec![2.0], vec![3.0])]
    );
    // The CLI: the vnnlib box as the domain; the .nnet box clips a ball.
    let run = |args: &[&str]| -> serde_json::Value {
        let out = Command::new(env!("CARGO_BIN_EXE_regionwalk"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(out.status.code().is_some_and(|c| c == 0 || c == 2), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let v = run(&[
        "count",
        "fixtures/small/vnncomp_test/test_small.onnx",
        "--center",
        "fixtures/small/vnncomp_test/test_small.vnnlib",
        "--json",
    ]);
    assert_eq!(v["domain"], "box");
    let small = load_network(&fixture("fixtures/small/vnncomp_test/test_small.onnx")).unwrap();
    let boxed = count(&small, &Domain::boxed(&[-1.0], &[1.0]).unwrap(), &WalkOptions::default()).unwrap();
    assert_eq!(v["regions"], boxed.count());
    let dir = common::Scratch::new("io-union");
    let union_file = dir.join("u.vnnlib");
    std::fs::write(&union_file, union).unwrap();
    let second = format!("{}#1", union_file.display());
    let v = run(&["count", "fixtures/small/vnncomp_test/test_small.onnx", "--center", &second, "--json"]);
    let boxed = count(&small, &Domain::boxed(&[2.0], &[3.0]).unwrap(), &WalkOptions::default()).unwrap();
    assert_eq!(v["regions"], boxed.count());
    let nnet = "fixtures/small/marabou/fc_2-2-3.nnet";
    let free = run(&["count", nnet, "--center=0,0", "--radius", "3", "--json"]);
    let clipped = run(&["count", nnet, "--center=0,0", "--radius", "3", "--clip-to-input-box", "--json"]);
    assert!(clipped["regions"].as_u64() <= free["regions"].as_u64());
}

#[test]
fn points_can_be_npy_files() {
    let dir = common::Scratch::new("io");
    let p64 = dir.join("p64.npy");
    let p32 = dir.join("p32.npy");
    ndarray_npy::write_npy(&p64, &ndarray::arr1(&[0.25f64, -0.5])).unwrap();
    ndarray_npy::write_npy(&p32, &ndarray::arr2(&[[0.25f32, -0.5]])).unwrap();
    for p in [&p64, &p32] {
        assert_eq!(regionwalk::model::io::parse_point(p.to_str().unwrap()).unwrap(), vec![0.25, -0.5]);
    }
}

#[test]
fn eval_reports_output_and_pattern_like_the_library() {
    let model = "fixtures/small/marabou/fc_2-2-3.onnx";
    let out = Command::new(env!("CARGO_BIN_EXE_regionwalk"))
        .args(["eval", model, "--point=0.5,-0.25", "--json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let net = load_network(&fixture(model)).unwrap();
    let y: Vec<f64> = serde_json::from_value(v["output"].clone()).unwrap();
    assert_eq!(y, net.output(&[0.5, -0.25]).to_vec());
    assert_eq!(v["pattern"], serde_json::json!(net.pattern(&[0.5, -0.25]).by_layer(&net.hidden_widths())));
    assert_eq!(v["affine_map"]["cols"], 2);
}

#[test]
fn malformed_models_get_one_clear_message() {
    let cases = [
        ("fixtures/malformed/unknown_op.onnx", "unsupported op 'Sigmoid'"),
        ("fixtures/malformed/wrong_tensor_size.onnx", "shape [2, 3] needs 6 values but the tensor holds 5"),
        ("fixtures/malformed/size_mismatch.onnx", "weight of shape 2×3 applied to 2 values"),
        ("fixtures/malformed/product.onnx", "node 'gate' (Mul): Mul of two computed tensors is not piecewise linear"),
        ("fixtures/malformed/add_mismatch.onnx", "node 'skip' (Add): adds tensors of 3 and 2 values"),
        ("fixtures/malformed/nan_weight.onnx", "non-finite value"),
        ("fixtures/malformed/truncated.onnx", "not a valid ONNX protobuf"),
        ("fixtures/malformed/empty.onnx", "empty file"),
    ];
    let dir = common::Scratch::new("io-bad");
    let good = std::fs::read_to_string(fixture("fixtures/small/marabou/fc_2-2-3.nnet")).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let write = |name: &str, text: String| -> String {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    };
    let truncated = write("truncated.nnet", lines[..12].join("\n"));
    let lying = write("lying.nnet", good.replacen("2,2,3,3,", "2,2000000,3,3,", 1));
    let nan = write("nan.nnet", good.replacen("2.0,-1.0,", "nan,-1.0,", 1));
    let sizes = write("sizes.nnet", good.replacen("2,2,3,", "2,3,3,", 1));
    let absurd = write(
        "absurd.nnet",
        good.replacen("2,2,3,3,", "2,2,3,1000000000,", 1).replacen("\n2,2,3,\n", "\n2,1000000000,3,\n", 1),
    );
    let random = write("random.nnet", String::from_utf8_lossy(&[0x42, 0x13, 0x99, 0x00]).into_owned());
    let nnet_cases: Vec<(String, &str)> = vec![
        (truncated, "header promises"),
        (lying, "disagree with inputSize"),
        (nan, "holds NaN"),
        (sizes, "disagree with inputSize"),
        (absurd, "1000000000 is not a sensible size"),
        (random, "not a number"),
    ];
    let all: Vec<(String, &str)> = cases.iter().map(|(p, m)| (p.to_string(), *m)).chain(nnet_cases).collect();
    for (path, message) in all {
        let out = Command::new(env!("CARGO_BIN_EXE_regionwalk"))
            .args(["count", &path, "--center=0,0", "--radius", "1"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{path}: {err}");
        assert!(err.contains(message), "{path}: expected '{message}' in {err}");
        assert!(!err.contains("panicked") && err.lines().count() == 1, "{path}: {err}");
    }
}
