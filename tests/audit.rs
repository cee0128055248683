//! Audits: boundary distances agree with an independent check by forward passes, a resumed audit
//! equals an uninterrupted one, and shards together equal the unsharded audit.

mod common;

use rand::{Rng, SeedableRng};
use regionwalk::audit::{audit, boundary_distance, read_report, AuditOptions, Record};
use regionwalk::bound::Method;
use regionwalk::domain::Norm;
use regionwalk::estimate::EstimateOptions;

#[test]
fn boundary_distances_agree_with_forward_passes() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut checked = 0;
    for seed in 0..150 {
        let case = common::random_case(seed);
        let n0 = case.net.input_dim();
        let x: Vec<f64> = (0..n0).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let Some(pattern) = case.net.interior_pattern(&x) else { continue };
        let (d, owner) = boundary_distance(&case.net, &x, Norm::L2);
        if !d.is_finite() {
            continue;
        }
        let (layer, j) = owner.unwrap();
        // No pattern change strictly inside the distance, in any direction.
        for _ in 0..50 {
            let dir: Vec<f64> = (0..n0).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let norm = dir.iter().map(|v| v * v).sum::<f64>().sqrt();
            let y: Vec<f64> = x.iter().zip(&dir).map(|(a, b)| a + 0.999 * d * b / norm).collect();
            assert_eq!(case.net.pattern(&y), pattern, "seed {seed}: the pattern changed inside the distance");
        }
        // Just beyond it, towards the owning neuron's hyperplane, the pattern changes.
        let sur = case.net.surrogate(&pattern);
        let k = case.net.neuron_index(layer - 1, j);
        let a = sur.a.row(k);
        let z: f64 = a.iter().zip(&x).map(|(p, q)| p * q).sum::<f64>() + sur.beta[k];
        let an = a.dot(&a).sqrt();
        let y: Vec<f64> = x.iter().zip(a.iter()).map(|(xi, ai)| xi - z.signum() * 1.001 * d * ai / an).collect();
        assert_ne!(case.net.pattern(&y), pattern, "seed {seed}: no pattern change just beyond the distance");
        checked += 1;
    }
    assert!(checked > 100, "{checked}");
}

fn options() -> AuditOptions {
    AuditOptions {
        radii: vec![0.1, 1.5],
        norm: Norm::L2,
        exact: true,
        methods: vec![Method::Paper, Method::Product],
        max_regions: 2,
        shard: (0, 1),
        bound_budget: None,
        estimate: Some(EstimateOptions { probes: 60, ..Default::default() }),
        interrupt: None,
    }
}

fn without_time(mut v: Vec<Record>) -> Vec<Record> {
    v.iter_mut().for_each(|r| r.seconds = 0.0);
    v.sort_by_key(|r| (r.point, r.radius.to_bits()));
    v
}

fn points(n0: usize, count: usize) -> Vec<Vec<f64>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    (0..count).map(|_| (0..n0).map(|_| rng.gen_range(-1.0..1.0)).collect()).collect()
}

#[test]
fn a_resumed_audit_equals_an_uninterrupted_one_and_shards_add_up() {
    let case = common::random_case(3);
    let pts = points(case.net.input_dim(), 12);
    let dir = common::Scratch::new("audit");
    for ext in ["jsonl", "csv"] {
        let full_path = dir.join(format!("full.{ext}"));
        let full = audit(&case.net, &pts, None, &options(), Some(&full_path), false, &|_, _| {}).unwrap();
        assert_eq!(full.len(), 24);
        // An estimate exactly where the walk stopped at its budget, inside the certified bracket.
        let estimated = full.iter().filter(|r| r.estimate.estimate.is_some()).count();
        assert!(estimated > 0 && estimated < full.len(), "{estimated} of {} records estimated", full.len());
        for r in &full {
            let (regions, complete) = (r.regions.unwrap(), r.complete.unwrap());
            assert_eq!(r.estimate.estimate.is_some(), !complete, "{r:?}");
            if let (Some(e), Some(low), Some(high)) =
                (r.estimate.estimate, r.estimate.estimate_low, r.estimate.estimate_high)
            {
                let best: f64 = r.best.as_deref().unwrap().parse().unwrap();
                assert!(regions as f64 <= low && low <= e && e <= high && high <= best, "{r:?}");
            }
        }
        assert_eq!(
            without_time(read_report(&full_path).unwrap()),
            without_time(full.clone()),
            "{ext}: the file holds the records"
        );
        // Kill midway: keep the first 9 lines and half of the tenth.
        let text = std::fs::read_to_string(&full_path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let cut = lines[..10].join("\n") + "\n" + &lines[10][..lines[10].len() / 2];
        let resumed_path = dir.join(format!("resumed.{ext}"));
        std::fs::write(&resumed_path, cut).unwrap();
        let resumed = audit(&case.net, &pts, None, &options(), Some(&resumed_path), true, &|_, _| {}).unwrap();
        assert_eq!(without_time(resumed), without_time(full.clone()), "{ext}: resumed audit");
        assert_eq!(without_time(read_report(&resumed_path).unwrap()), without_time(full.clone()));
        // Shards 1/3, 2/3, 3/3.
        let mut union = Vec::new();
        for i in 0..3 {
            let path = dir.join(format!("shard{i}.{ext}"));
            let opts = AuditOptions { shard: (i, 3), ..options() };
            union.extend(audit(&case.net, &pts, None, &opts, Some(&path), false, &|_, _| {}).unwrap());
        }
        assert_eq!(without_time(union), without_time(full), "{ext}: shards");
    }
}

#[test]
fn audit_cli_writes_a_report_and_compare_tests_the_difference() {
    let dir = common::Scratch::new("audit-cli");
    let write = |name: &str, pts: &[Vec<f64>]| {
        let rows: Vec<String> = pts.iter().enumerate().map(|(i, p)| format!("{},{},{}", i % 3, p[0], p[1])).collect();
        let path = dir.join(name);
        std::fs::write(&path, format!("label,x,y\n{}\n", rows.join("\n"))).unwrap();
        path
    };
    let near = write("near.csv", &points(2, 15).iter().map(|p| vec![p[0] * 0.1, p[1] * 0.1]).collect::<Vec<_>>());
    let far = write("far.csv", &points(2, 15));
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_regionwalk"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let model = "fixtures/examples/mlp_2x16x16.json";
    let (a, b) = (dir.join("a.jsonl"), dir.join("b.jsonl"));
    for (pts, out) in [(&near, &a), (&far, &b)] {
        run(&[
            "audit",
            model,
            "--points",
            pts.to_str().unwrap(),
            "--label-column",
            "first",
            "--radius",
            "0.05,0.2",
            "--out",
            out.to_str().unwrap(),
        ]);
    }
    let records = read_report(&a).unwrap();
    assert_eq!(records.len(), 30);
    assert_eq!(records[0].label.as_deref(), Some("0"));
    let v: serde_json::Value =
        serde_json::from_str(&run(&["audit-compare", a.to_str().unwrap(), b.to_str().unwrap(), "--json"])).unwrap();
    assert_eq!(v["per_radius"].as_array().unwrap().len(), 2);
    let p = v["boundary_distance"]["p_value"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&p));
    assert_eq!(v["boundary_distance"]["a"]["n"], 15);
}
