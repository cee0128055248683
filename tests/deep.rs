//! Deep, narrow networks in low dimension (issue 17): the walk finds exactly the regions of the
//! reference splitter on random networks of 5–8 layers, and boxes with fixed (zero-width)
//! coordinates count the regions of the slice, checked against a network folded by hand.

mod common;

use common::exact_patterns;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use regionwalk::domain::Domain;
use regionwalk::exact::oracle::split::split_patterns;
use regionwalk::exact::{count, WalkOptions, WalkResult};
use regionwalk::model::io::load_network;
use regionwalk::model::{lift_point, Network};
use std::path::Path;
use std::process::Command;

/// A centred box small enough that the walk finds between 2 and `most` regions (halving the
/// half-width from `start`), with the walk's result; `None` if no such box is found.
fn modest_box(net: &Network, start: f64, most: usize) -> Option<(Domain, WalkResult)> {
    let n0 = net.input_dim();
    let mut h = start;
    for _ in 0..12 {
        let domain = Domain::boxed(&vec![-h; n0], &vec![h; n0]).unwrap();
        let options = WalkOptions { max_regions: Some(most + 1), ..Default::default() };
        let result = count(net, &domain, &options).unwrap();
        match result.count() {
            c if c > most => h *= 0.5,
            c if c >= 2 => return Some((domain, result)),
            _ => return None,
        }
    }
    None
}

#[test]
fn walk_equals_splitter_on_deep_narrow_networks() {
    let (mut cases, mut regions) = (0, 0);
    for seed in 0..16u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n0 = rng.gen_range(5..=10);
        let depth = rng.gen_range(5..=8);
        let width = rng.gen_range(20..=50);
        let widths: Vec<usize> = std::iter::once(n0).chain(std::iter::repeat_n(width, depth)).chain([2]).collect();
        let net = Network::pytorch_default(&widths, seed).unwrap();
        let Some((domain, result)) = modest_box(&net, 0.2, 120) else { continue };
        let (split, _) = split_patterns(&net, &domain).unwrap();
        assert_eq!(exact_patterns(&result), split, "seed {seed} ({widths:?}): walk and splitter differ");
        cases += 1;
        regions += result.count();
    }
    assert!(cases >= 12 && regions >= 300, "only {cases} cases, {regions} regions compared");
}

/// `net` with input `i` held at `v`, folded by hand: bias += v·W[:, i], column i removed.
fn folded_by_hand(net: &Network, i: usize, v: f64) -> Network {
    let layers: Vec<(Vec<Vec<f64>>, Vec<f64>)> = net
        .layers()
        .iter()
        .enumerate()
        .map(|(l, layer)| {
            let weight = layer.weight.to_dense();
            let rows: Vec<Vec<f64>> = weight
                .rows()
                .into_iter()
                .map(|r| r.iter().enumerate().filter(|&(c, _)| l > 0 || c != i).map(|(_, w)| *w).collect())
                .collect();
            let bias =
                (0..layer.bias.len()).map(|j| layer.bias[j] + if l == 0 { v * weight[[j, i]] } else { 0.0 }).collect();
            (rows, bias)
        })
        .collect();
    Network::from_rows(&layers).unwrap()
}

#[test]
fn fixed_coordinates_count_the_slice() {
    let mut checked = 0;
    for seed in 0..40u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(1000 + seed);
        let n0 = rng.gen_range(2..=6);
        let widths: Vec<usize> = std::iter::once(n0).chain([rng.gen_range(4..=12); 3]).chain([1]).collect();
        let net = Network::pytorch_default(&widths, seed).unwrap();
        let i = rng.gen_range(0..n0);
        let v = rng.gen_range(-0.3..0.3);
        let sliced = net.with_fixed_inputs(&[(i, v)]).unwrap();
        let hand = folded_by_hand(&net, i, v);
        let domain = Domain::boxed(&vec![-0.4; n0 - 1], &vec![0.4; n0 - 1]).unwrap();
        let result = count(&sliced, &domain, &WalkOptions::default()).unwrap();
        let reference = count(&hand, &domain, &WalkOptions::default()).unwrap();
        assert_eq!(
            exact_patterns(&result),
            exact_patterns(&reference),
            "seed {seed}: slice and hand-folded network differ"
        );
        if seed % 4 == 0 {
            let (split, _) = split_patterns(&hand, &domain).unwrap();
            assert_eq!(exact_patterns(&result), split, "seed {seed}: slice walk and splitter differ");
        }
        // Every witness, with the fixed input put back, lies in its region of the full network.
        for r in &result.regions {
            let x = lift_point(r.witness.as_ref().unwrap(), &[(i, v)]);
            assert_eq!(x[i], v);
            assert_eq!(net.interior_pattern(&x).as_ref(), Some(&r.pattern), "seed {seed}: lifted witness");
        }
        checked += result.count();
    }
    assert!(checked > 200, "only {checked} regions checked");
}

#[test]
fn acas_xu_property_4_fixes_x2_and_counts_its_slice() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = root.join("fixtures/acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx");
    let out = Command::new(env!("CARGO_BIN_EXE_regionwalk"))
        .args(["count", model.to_str().unwrap(), "--center"])
        .arg(root.join("fixtures/acasxu/vnnlib/prop_4.vnnlib"))
        .args(["--json", "-q"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["fixed"], serde_json::json!([2]));
    assert_eq!(report["start"].as_array().unwrap().len(), 5, "points are reported in the model's 5 inputs");
    // The same slice by hand: X2 = 0 folded into the first layer, the box of the other four.
    let net = load_network(&model).unwrap();
    let hand = folded_by_hand(&net, 2, 0.0);
    let domain = Domain::boxed(
        &[-0.303531156, -0.009549297, 0.318181818, 0.083333333],
        &[-0.298552812, 0.009549297, 0.5, 0.166666667],
    )
    .unwrap();
    let reference = count(&hand, &domain, &WalkOptions::default()).unwrap();
    assert!(reference.complete() && reference.unverified == 0);
    assert_eq!(report["regions"].as_u64().unwrap() as usize, reference.count());
    assert!(reference.count() > 10_000, "the slice holds {} regions", reference.count());
}
