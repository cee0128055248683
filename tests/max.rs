//! Max units (theory §11): networks whose hidden layers group units into max windows. Their
//! forward pass against a direct computation of the maxima, and the walk's regions against the
//! layer-wise splitter (which branches on each window's candidates), dense sampling and the exact
//! rational re-check, on hundreds of random and degenerate networks: dead candidates (ties
//! everywhere), duplicated candidates, windows of one unit, and max layers before and after ReLUs;
//! the dataflow walk against the single walk; every bound against the count; every command.

mod common;

use common::{exact_patterns, unbiased, z_scores};
use num_bigint::BigUint;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use regionwalk::bound::partition::upper_bound;
use regionwalk::bound::{bounds, BoundOptions};
use regionwalk::cluster::{walk_dataflow, Cluster};
use regionwalk::domain::{Domain, Norm};
use regionwalk::estimate::{estimate_with, Child, ChildChoice, EstimateOptions, RegionShare};
use regionwalk::exact::certify::certify;
use regionwalk::exact::oracle::{sample::sample_patterns, split::split_patterns};
use regionwalk::exact::{count, Engine, WalkOptions};
use regionwalk::model::{Network, Pattern};
use regionwalk::plot::slice::{slice, Plane};
use std::ops::Range;

/// One hidden layer of a test network: weight rows and biases, and its max windows.
struct Hidden {
    rows: Vec<Vec<f64>>,
    bias: Vec<f64>,
    windows: Vec<Range<usize>>,
}

/// A random network of `n0` inputs: each hidden layer is a ReLU layer or a max layer, and the
/// layer after a max layer reads each window's candidates with the same weights. `degenerate`
/// adds dead ReLUs, duplicated candidates and windows of one unit.
fn random_net(rng: &mut ChaCha8Rng, n0: usize, degenerate: bool) -> (Network, Vec<Hidden>, Vec<Vec<f64>>, Vec<f64>) {
    let depth = rng.gen_range(1..=3);
    let mut hidden: Vec<Hidden> = Vec::new();
    let mut width_in = n0;
    // Columns the next layer reads: one per unit, or one per window (repeated for its candidates).
    let mut reads: Vec<usize> = (0..n0).collect();
    let mut read_width = n0;
    for l in 0..depth {
        let max_layer = l % 2 == 1 || rng.gen_bool(0.4) || depth == 1;
        let random_row = |rng: &mut ChaCha8Rng, reads: &[usize], read_width: usize| {
            let per_read: Vec<f64> = (0..read_width).map(|_| rng.gen_range(-1.0..1.0)).collect();
            reads.iter().map(|&r| per_read[r]).collect::<Vec<f64>>()
        };
        let (mut rows, mut bias, mut windows): (Vec<Vec<f64>>, Vec<f64>, Vec<Range<usize>>) =
            (Vec::new(), Vec::new(), Vec::new());
        if max_layer {
            for _ in 0..rng.gen_range(1..=3) {
                let start = rows.len();
                let size = if degenerate && rng.gen_bool(0.2) { 1 } else { rng.gen_range(2..=4) };
                for c in 0..size {
                    if degenerate && c > 0 && rng.gen_bool(0.3) {
                        // A duplicated candidate: the same function as the one before.
                        rows.push(rows[rows.len() - 1].clone());
                        bias.push(bias[bias.len() - 1]);
                        continue;
                    }
                    if l > 0 && rng.gen_bool(0.5) {
                        // MaxPool over ReLU outputs: a candidate that is one unit of the layer
                        // before, so that windows of inactive units tie everywhere.
                        let pick = rng.gen_range(0..read_width);
                        rows.push(reads.iter().map(|&r| if r == pick { 1.0 } else { 0.0 }).collect());
                        bias.push(0.0);
                        continue;
                    }
                    rows.push(random_row(rng, &reads, read_width));
                    bias.push(rng.gen_range(-0.5..0.5));
                }
                windows.push(start..rows.len());
            }
            let mut next_reads = vec![0; rows.len()];
            for (w, range) in windows.iter().enumerate() {
                range.clone().for_each(|i| next_reads[i] = w);
            }
            read_width = windows.len();
            reads = next_reads;
        } else {
            let width = rng.gen_range(2..=5);
            for _ in 0..width {
                if degenerate && rng.gen_bool(0.3) {
                    // A dead ReLU: identically zero, so max windows reading it tie everywhere.
                    rows.push(vec![0.0; width_in]);
                    bias.push(-1.0);
                    continue;
                }
                rows.push(random_row(rng, &reads, read_width));
                bias.push(rng.gen_range(-0.5..0.5));
            }
            reads = (0..width).collect();
            read_width = width;
        }
        width_in = rows.len();
        hidden.push(Hidden { rows, bias, windows });
    }
    let output: Vec<Vec<f64>> = (0..2)
        .map(|_| {
            let per_read: Vec<f64> = (0..read_width).map(|_| rng.gen_range(-1.0..1.0)).collect();
            reads.iter().map(|&r| per_read[r]).collect()
        })
        .collect();
    let out_bias = vec![0.1, -0.2];
    let mut layers: Vec<(Vec<Vec<f64>>, Vec<f64>)> = hidden.iter().map(|h| (h.rows.clone(), h.bias.clone())).collect();
    layers.push((output.clone(), out_bias.clone()));
    let net = Network::from_rows(&layers)
        .unwrap()
        .with_max_windows(hidden.iter().map(|h| h.windows.clone()).collect())
        .unwrap();
    (net, hidden, output, out_bias)
}

/// The network's output at `x`, computed directly: ReLU units, and each window's maximum read
/// once through the first candidate's column.
fn direct_output(hidden: &[Hidden], output: &[Vec<f64>], out_bias: &[f64], x: &[f64]) -> Vec<f64> {
    let affine = |rows: &[Vec<f64>], bias: &[f64], h: &[f64]| -> Vec<f64> {
        rows.iter().zip(bias).map(|(r, b)| r.iter().zip(h).map(|(w, v)| w * v).sum::<f64>() + b).collect()
    };
    let mut h = x.to_vec();
    for layer in hidden {
        let z = affine(&layer.rows, &layer.bias, &h);
        h = z.iter().map(|v| v.max(0.0)).collect();
        for w in &layer.windows {
            let max = w.clone().map(|i| z[i]).fold(f64::NEG_INFINITY, f64::max);
            w.clone().for_each(|i| h[i] = 0.0);
            h[w.start] = max;
        }
    }
    affine(output, out_bias, &h)
}

fn domain(rng: &mut ChaCha8Rng, n0: usize) -> Domain {
    let center: Vec<f64> = (0..n0).map(|_| rng.gen_range(-0.5..0.5)).collect();
    let radius = rng.gen_range(0.3..1.5);
    match rng.gen_range(0..3) {
        0 => Domain::ball(&center, radius, Norm::L2).unwrap(),
        1 => Domain::ball(&center, radius, Norm::Linf).unwrap(),
        _ => {
            let lower: Vec<f64> = center.iter().map(|c| c - radius).collect();
            let upper: Vec<f64> = center.iter().map(|c| c + 0.5 * radius).collect();
            Domain::boxed(&lower, &upper).unwrap()
        }
    }
}

/// Every window of `p` chooses exactly one candidate.
fn one_argmax_per_window(net: &Network, p: &Pattern) -> bool {
    let mut first = 0;
    net.max_windows().per_layer().iter().zip(net.hidden_widths()).all(|(windows, width)| {
        let ok = windows.iter().all(|w| w.clone().filter(|&i| p.get(first + i)).count() == 1);
        first += width;
        ok
    })
}

#[test]
fn max_networks_compute_the_maxima() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for case in 0..100 {
        let n0 = rng.gen_range(1..=4);
        let (net, hidden, output, out_bias) = random_net(&mut rng, n0, case % 2 == 1);
        for _ in 0..20 {
            let x: Vec<f64> = (0..n0).map(|_| rng.gen_range(-2.0..2.0)).collect();
            let want = direct_output(&hidden, &output, &out_bias, &x);
            let got = net.output(&x);
            // The region's affine map at x gives the same output.
            let (jacobian, offset, _) = net.output_map(&net.pattern(&x));
            let local = jacobian.dot(&ndarray::Array1::from(x.clone())) + offset;
            for o in 0..want.len() {
                assert!((got[o] - want[o]).abs() < 1e-12, "case {case}: output {o} at {x:?}");
                assert!((local[o] - want[o]).abs() < 1e-9, "case {case}: local map {o} at {x:?}");
            }
            assert!(one_argmax_per_window(&net, &net.pattern(&x)), "case {case}");
        }
    }
}

/// Interval analysis of max networks, IBP intersected with CROWN (which relaxes a window by one
/// candidate below and by its largest upper bound above), holds the pre-activations of every
/// sampled point of the domain, on random and degenerate max networks; and CROWN is tighter than
/// IBP on some of them, so the test reads its intervals.
#[test]
fn intervals_of_max_networks_hold_every_sampled_pre_activation() {
    use regionwalk::analysis::{interval::analyse, set::InputSet};
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let mut tighter = 0;
    for case in 0..300 {
        let n0 = rng.gen_range(1..=4);
        let (net, _, _, _) = random_net(&mut rng, n0, case % 2 == 1);
        let domain = domain(&mut rng, n0);
        let st = analyse(&net, &InputSet::new(&domain));
        for (crown, ibp) in st.crown.iter().zip(&st.ibp).skip(1) {
            let below = |a: f64, b: f64| a < b - 1e-9 * (1.0 + b.abs());
            if (0..crown.lower.len())
                .any(|j| below(ibp.lower[j], crown.lower[j]) || below(crown.upper[j], ibp.upper[j]))
            {
                tighter += 1;
                break;
            }
        }
        for _ in 0..300 {
            let x = domain.from_frame(&domain.sample_frame(&mut rng).expect("a bounded domain"));
            for (l, (z, _)) in net.pre_activations(&x).iter().enumerate() {
                let b = &st.combined[l];
                for j in 0..z.len() {
                    assert!(
                        b.lower[j] <= z[j] && z[j] <= b.upper[j],
                        "case {case}: layer {l} unit {j} is {} at {x:?}, outside [{}, {}]",
                        z[j],
                        b.lower[j],
                        b.upper[j]
                    );
                }
            }
        }
    }
    assert!(tighter >= 30, "CROWN tighter than IBP on {tighter} networks");
}

#[test]
fn walks_of_max_networks_find_the_splitters_regions() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (mut regions, mut ties) = (0, 0);
    for case in 0..240 {
        let n0 = rng.gen_range(1..=3);
        let degenerate = case % 3 == 2;
        let (net, ..) = random_net(&mut rng, n0, degenerate);
        let domain = domain(&mut rng, n0);
        let walk = count(&net, &domain, &WalkOptions { engine: Engine::Walk, ..Default::default() }).unwrap();
        let found = exact_patterns(&walk);
        let (split, _) = split_patterns(&net, &domain).unwrap();
        assert_eq!(found, split, "case {case}: the walk and the splitter found different regions");
        assert!(found.windows(2).all(|p| p[0] != p[1]), "case {case}: a region counted twice");
        assert!(found.iter().all(|p| one_argmax_per_window(&net, p)), "case {case}");
        let sampled = sample_patterns(&net, &domain, 400, case, None);
        assert!(sampled.patterns.iter().all(|p| found.contains(p)), "case {case}: a sampled region was missed");
        let certified = certify(&net, &domain, &walk);
        assert!(certified.failures.is_empty(), "case {case}: {:?}", certified.failures);
        // Every upper bound holds the count; the certified lower bound is below it.
        let report = bounds(&net, &domain, &BoundOptions::unbudgeted()).unwrap();
        assert!(report.lower <= found.len(), "case {case}: lower bound {} > {}", report.lower, found.len());
        // `partition` where its cut tree reaches (bounded domains of ≤ 8 inputs).
        let methods: Vec<&str> = report.bounds.iter().map(|b| b.method.name()).collect();
        assert_eq!(methods, ["global", "paper", "product", "local-serra", "hybrid", "partition"], "case {case}");
        // Stopped after a few leaves, the cut tree bounds each uncut cell by its box's product.
        let short = upper_bound(&net, &domain, None, Some(3), None).unwrap().unwrap();
        assert!(short.value >= BigUint::from(found.len()), "case {case}: cut short {} < {}", short.value, found.len());
        assert!(short.cut_short > 0 || short.leaves as usize >= found.len(), "case {case}");
        for b in &report.bounds {
            assert!(
                b.value >= BigUint::from(found.len()),
                "case {case}: {:?} = {} < {}",
                b.method,
                b.value,
                found.len()
            );
        }
        regions += found.len();
        ties += usize::from(degenerate && found.len() > 1);
    }
    // The cases are not all trivial.
    assert!(regions > 1000 && ties > 20, "{regions} regions, {ties} degenerate cases with several");
}

/// The box partition cuts a cell at a window into one part per candidate: its leaves are the
/// walk's regions on boxes of random and degenerate max networks of up to 8 inputs, each witness
/// re-checked in exact arithmetic.
#[test]
fn the_box_partition_finds_the_walks_regions_on_max_networks() {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let mut regions = 0;
    for case in 0..200 {
        let n0 = rng.gen_range(1..=if case % 4 == 0 { 8 } else { 3 });
        let (net, ..) = random_net(&mut rng, n0, case % 3 == 2);
        let center: Vec<f64> = (0..n0).map(|_| rng.gen_range(-0.5..0.5)).collect();
        let domain = match case % 2 {
            0 => Domain::ball(&center, rng.gen_range(0.3..1.5), Norm::Linf).unwrap(),
            _ => Domain::boxed(
                &center.iter().map(|c| c - 1.0).collect::<Vec<_>>(),
                &center.iter().map(|c| c + 0.5).collect::<Vec<_>>(),
            )
            .unwrap(),
        };
        let engine = |engine| count(&net, &domain, &WalkOptions { engine, ..Default::default() }).unwrap();
        let (walk, partition) = (engine(Engine::Walk), engine(Engine::Partition));
        assert_eq!(partition.engine, Engine::Partition);
        assert_eq!(exact_patterns(&partition), exact_patterns(&walk), "case {case}");
        assert_eq!(partition.unverified, 0, "case {case}");
        let certified = certify(&net, &domain, &partition);
        assert!(certified.failures.is_empty(), "case {case}: {:?}", certified.failures);
        regions += partition.count();
    }
    assert!(regions > 1000, "{regions} regions");
}

#[test]
fn slice_polygons_of_two_input_max_networks_are_the_walked_regions() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let mut regions = 0;
    for case in 0..80 {
        let (net, ..) = random_net(&mut rng, 2, case % 3 == 2);
        let center = [rng.gen_range(-0.5..0.5), rng.gen_range(-0.5..0.5)];
        let radius = rng.gen_range(0.3..1.5);
        for norm in [Norm::L2, Norm::Linf] {
            let s = slice(&net, &center, radius, norm, &Plane::Axes(0, 1)).unwrap();
            let walk = count(&net, &Domain::ball(&center, radius, norm).unwrap(), &WalkOptions::default()).unwrap();
            let mut drawn: Vec<Pattern> = s.polygons.iter().map(|p| p.pattern.clone()).collect();
            drawn.sort();
            assert_eq!(drawn, exact_patterns(&walk), "case {case} {norm:?}");
            regions += drawn.len();
        }
    }
    assert!(regions > 300, "{regions} regions");
}

/// Random and degenerate max networks with their exact counts (2–400 regions: enough for the
/// cut tree to branch at windows, few enough to count).
fn counted_max_cases(seed: u64, cases: usize) -> Vec<(String, Network, Domain, usize)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    for case in 0..cases {
        let n0 = rng.gen_range(1..=3);
        let (net, ..) = random_net(&mut rng, n0, case % 3 == 2);
        let domain = domain(&mut rng, n0);
        let exact = count(&net, &domain, &WalkOptions::default()).unwrap();
        if (2..=400).contains(&exact.count()) {
            out.push((format!("case {case}"), net, domain, exact.count()));
        }
    }
    out
}

/// Gives a window's last feasible argmax probability 0 when it has more than two: the mistake of
/// dropping a child's weight at a k-way cut (a binary cut is left alone, so only the windows'
/// cuts are biased).
struct DropsLastCandidate;

impl ChildChoice for DropsLastCandidate {
    fn probabilities(&self, feasible: &[Child]) -> Vec<f64> {
        match feasible.len() {
            k if k > 2 => (0..k).map(|i| if i + 1 < k { 1.0 / (k - 1) as f64 } else { 0.0 }).collect(),
            k => vec![1.0 / k as f64; k],
        }
    }
}

#[test]
fn estimates_on_max_networks_are_unbiased_and_their_intervals_cover() {
    // The cut tree decides a window at once, one child per feasible argmax.
    let cases = counted_max_cases(21, 330);
    assert!(cases.len() >= 200, "{} cases", cases.len());
    let estimate_case = |i: usize, choice: &dyn ChildChoice| {
        let (what, net, domain, exact) = &cases[i];
        let options = EstimateOptions {
            probes: 300,
            strata: if i.is_multiple_of(2) { 1 } else { 16 },
            seed: i as u64,
            ..Default::default()
        };
        let e = estimate_with(net, domain, &options, choice).unwrap();
        assert!(e.certified_regions >= 1 && e.certified_regions <= *exact, "{what}: {} certified", e.certified_regions);
        (what.clone(), e, *exact)
    };
    let estimates: Vec<_> = (0..cases.len()).map(|i| estimate_case(i, &RegionShare)).collect();
    let (z, covered) = z_scores(&estimates);
    unbiased(&z).unwrap();
    assert!(covered as f64 >= 0.9 * estimates.len() as f64, "the intervals cover {covered} of {}", estimates.len());
    // Windows of three or more feasible argmaxes are common enough that dropping one is caught.
    let biased: Vec<_> = (0..cases.len()).map(|i| estimate_case(i, &DropsLastCandidate)).collect();
    assert!(unbiased(&z_scores(&biased).0).is_err(), "the biased variant passed");
}

#[test]
fn the_dataflow_walk_finds_the_single_walks_regions_on_max_networks() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let mut regions = 0;
    for case in 0..20 {
        let n0 = rng.gen_range(2..=3);
        let (net, ..) = random_net(&mut rng, n0, case % 2 == 1);
        let domain = domain(&mut rng, n0);
        let options = WalkOptions { engine: Engine::Walk, ..Default::default() };
        let single = count(&net, &domain, &options).unwrap();
        let flow = walk_dataflow(&net, &domain, &options, &Cluster::local(2), None, true).unwrap().expect("process 0");
        assert_eq!(exact_patterns(&flow.walk), exact_patterns(&single), "case {case}");
        regions += single.count();
    }
    assert!(regions > 60, "{regions} regions");
}

#[test]
fn a_max_of_two_lines_has_two_regions_and_a_dead_tie_has_one() {
    // max(x, −x) on [−1, 1]: two regions; max(0·x, 0·x): one, the lowest index.
    let net = Network::from_rows(&[
        (vec![vec![1.0], vec![-1.0], vec![0.0], vec![0.0]], vec![0.0; 4]),
        (vec![vec![1.0, 1.0, 1.0, 1.0]], vec![0.0]),
    ])
    .unwrap()
    .with_max_windows(vec![vec![0..2, 2..4]])
    .unwrap();
    let domain = Domain::boxed(&[-1.0], &[1.0]).unwrap();
    let walk = count(&net, &domain, &WalkOptions::default()).unwrap();
    let found: Vec<String> = exact_patterns(&walk).iter().map(|p| format!("{p:?}")).collect();
    assert_eq!(found, ["1010", "0110"]);
}

#[test]
fn malformed_windows_are_refused() {
    let net = || {
        Network::from_rows(&[
            (vec![vec![1.0], vec![-1.0], vec![0.5]], vec![0.0; 3]),
            (vec![vec![1.0, 2.0, 1.0]], vec![0.0]),
        ])
        .unwrap()
    };
    let err = |windows: Vec<Vec<Range<usize>>>| net().with_max_windows(windows).unwrap_err().to_string();
    assert!(err(vec![vec![0..2]]).contains("different weights"));
    assert!(err(vec![vec![1..1]]).contains("empty"));
    assert!(err(vec![vec![2..4]]).contains("leaves the layer"));
    assert!(err(vec![vec![], vec![]]).contains("2 hidden layers"));
    let ok = net().with_max_windows(vec![vec![0..1, 2..3]]).unwrap();
    assert_eq!(ok.max_windows().count(), 2);
}

/// Every command runs on a network with max units (or says it does not support them yet), and
/// agrees with the library's exact count; the JSON model keeps the windows.
#[test]
fn every_command_runs_on_a_max_network() {
    let dir = common::Scratch::new("max-commands");
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let net = loop {
        let (net, ..) = random_net(&mut rng, 2, false);
        let domain = Domain::ball(&[0.1, -0.2], 0.8, Norm::L2).unwrap();
        if count(&net, &domain, &WalkOptions::default()).unwrap().count() >= 4 {
            break net;
        }
    };
    let model = dir.join("max.json");
    std::fs::write(&model, regionwalk::model::io::network_to_json(&net)).unwrap();
    let model = model.to_str().unwrap();
    let loaded = regionwalk::model::io::load_network(std::path::Path::new(model)).unwrap();
    assert_eq!(loaded.max_windows(), net.max_windows());
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_regionwalk")).args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let json = |cmd: &str, extra: &[&str]| -> serde_json::Value {
        let args: Vec<&str> =
            [cmd, model, "--center=0.1,-0.2", "--radius", "0.8", "--json"].iter().chain(extra).copied().collect();
        let (code, out, err) = run(&args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        serde_json::from_str(&out).unwrap()
    };
    let exact = json("count", &["--certify"])["regions"].as_u64().unwrap();
    let domain = Domain::ball(&[0.1, -0.2], 0.8, Norm::L2).unwrap();
    assert_eq!(exact as usize, count(&net, &domain, &WalkOptions::default()).unwrap().count());
    assert!(json("count", &["--linear"])["linear_regions"].as_u64().unwrap() <= exact);
    assert_eq!(json("validate", &[])["regions"].as_u64(), Some(exact));
    let bounded = json("bound", &[]);
    assert!(bounded["lower"]["value"].as_u64().unwrap() <= exact, "{bounded}");
    let graph_file = dir.join("g.json");
    let graph = [
        "graph",
        model,
        "--center=0.1,-0.2",
        "--radius",
        "0.8",
        "--format",
        "json",
        "--out",
        graph_file.to_str().unwrap(),
    ];
    assert_eq!(run(&graph).0, Some(0));
    let graph: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&graph_file).unwrap()).unwrap();
    assert_eq!(graph["nodes"].as_array().map(Vec::len), Some(exact as usize));
    let points = dir.join("points.csv");
    std::fs::write(&points, "0.1,-0.2\n-0.3,0.4\n").unwrap();
    let audit = dir.join("audit.jsonl");
    let (code, _, err) = run(&[
        "audit",
        model,
        "--points",
        points.to_str().unwrap(),
        "--radius",
        "0.8",
        "--out",
        audit.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let first: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&audit).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(first["regions"].as_u64(), Some(exact), "{first}");
    let picture = dir.join("p.png");
    let (code, _, err) =
        run(&["plot", model, "--center=0.1,-0.2", "--radius", "0.8", "--out", picture.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(std::fs::metadata(&picture).unwrap().len() > 0);
    let (code, out, err) = run(&["estimate", model, "--center=0.1,-0.2", "--radius", "0.8", "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let estimate: serde_json::Value = serde_json::from_str(&out).unwrap();
    let lower = estimate["lower"].as_u64().unwrap();
    assert!(lower >= 1 && lower <= exact, "{estimate}");
}
