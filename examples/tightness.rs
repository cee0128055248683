//! Bound tightness over fixed benchmark sets: the exact count and every bound, and a markdown table
//! of the median and maximum of bound/exact per method, for
//! 1. seeded random networks (PyTorch default initialisation) at several radii;
//! 2. the fixtures' real networks (ACAS Xu, MNIST 256x2 and 10x10 at small radii, the control
//!    policy, the Marabou and VNN-COMP test nets) and degenerate networks (duplicated, opposite,
//!    proportional, dead and constant neurons).
//!
//! `scripts/tightness.sh` runs it; its tables go into BENCHMARKS.md.

use rand::{Rng, SeedableRng};
use regionwalk::bound::{bounds, log10, BoundOptions, Method};
use regionwalk::domain::{Domain, Norm};
use regionwalk::exact::{count, WalkOptions};
use regionwalk::model::{io, Layer, Network};
use std::path::Path;
use std::time::Duration;

fn main() {
    random_networks();
    real_and_degenerate_networks();
}

/// One (network, domain) case: bound / exact per computed method, and the methods skipped.
fn ratios_of(net: &Network, domain: &Domain, options: &BoundOptions) -> Option<(Vec<(Method, f64)>, usize)> {
    let exact = count(net, domain, &WalkOptions { max_regions: Some(20_000), ..Default::default() }).unwrap();
    if !exact.complete() {
        return None;
    }
    let report = bounds(net, domain, options).unwrap();
    let ratios = report
        .bounds
        .iter()
        .map(|b| (b.method, 10f64.powf(log10(&b.value) - (exact.count() as f64).log10())))
        .collect();
    Some((ratios, report.skipped.len()))
}

fn print_table(ratios: &[(Method, Norm, f64)], by_norm: bool) {
    println!("| method | {}median bound/exact | max bound/exact | cases |", if by_norm { "norm | " } else { "" });
    println!("|---|{}---|---|---|", if by_norm { "---|" } else { "" });
    for m in Method::ALL {
        for norm in if by_norm { vec![Some(Norm::L2), Some(Norm::Linf)] } else { vec![None] } {
            let mut v: Vec<f64> =
                ratios.iter().filter(|r| r.0 == m && norm.is_none_or(|n| r.1 == n)).map(|r| r.2).collect();
            if v.is_empty() {
                continue;
            }
            v.sort_by(f64::total_cmp);
            let norm = norm.map(|n| format!("{n:?} | ")).unwrap_or_default();
            println!("| {} | {norm}{:.3e} | {:.3e} | {} |", m.name(), v[v.len() / 2], v[v.len() - 1], v.len());
        }
    }
}

/// Networks with the degeneracies real ones have: neuron 1 duplicates neuron 0, neuron 2 is its
/// opposite, neuron 3 a scaled copy, neuron 4 dead (zero row, negative bias), neuron 5 constant.
fn degenerate(widths: &[usize], seed: u64) -> Network {
    let base = Network::pytorch_default(widths, seed).unwrap();
    let layers: Vec<Layer> = base
        .layers()
        .iter()
        .enumerate()
        .map(|(l, layer)| {
            let mut layer = layer.clone();
            if l + 1 < base.layers().len() && layer.weight.nrows() >= 6 {
                let mut w = layer.weight.to_dense().into_owned();
                let (w0, b0) = (w.row(0).to_owned(), layer.bias[0]);
                w.row_mut(1).assign(&w0);
                layer.bias[1] = b0;
                w.row_mut(2).assign(&(-&w0));
                layer.bias[2] = -b0;
                w.row_mut(3).assign(&(&w0 * 2.5));
                layer.bias[3] = 2.5 * b0;
                w.row_mut(4).fill(0.0);
                layer.bias[4] = -1.0;
                w.row_mut(5).fill(0.0);
                layer.bias[5] = 0.3;
                layer.weight = w.into();
            }
            layer
        })
        .collect();
    Network::new(layers, None).unwrap()
}

/// A network of the second table: (name, network, centres, L2 radii, L-inf radii).
type RealCase = (String, Network, Vec<Vec<f64>>, Vec<f64>, Vec<f64>);

fn real_and_degenerate_networks() {
    let fixtures = Path::new("fixtures");
    let load = |p: &str| io::load_network(&fixtures.join(p)).unwrap();
    let images: Vec<Vec<f64>> =
        io::load_points(&fixtures.join("datasets/eran_mnist_test_first100.csv"), Some(io::LabelColumn::First))
            .unwrap()
            .0
            .into_iter()
            .take(2)
            .map(|x| x.iter().map(|v| v / 255.0).collect())
            .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut random_points = |n0: usize, count: usize| -> Vec<Vec<f64>> {
        (0..count).map(|_| (0..n0).map(|_| rng.gen_range(-0.4..0.4)).collect()).collect()
    };
    let mut cases: Vec<RealCase> = Vec::new();
    let acas = load("acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx");
    cases.push(("ACAS Xu 1_1".into(), acas, random_points(5, 2), vec![0.02, 0.05], vec![0.01, 0.02]));
    let mnist = load("mnist_fc/onnx/mnist-net_256x2.onnx");
    cases.push(("MNIST 256x2".into(), mnist, images.clone(), vec![0.02, 0.05], vec![0.001, 0.002]));
    let mnist10 = load("small/marabou/mnist10x10.nnet");
    cases.push(("MNIST 10x10 (.nnet)".into(), mnist10, images.clone(), vec![0.1, 0.3], vec![0.005, 0.01]));
    let cartpole = load("small/vnncomp22_rl/cartpole.onnx");
    cases.push(("cartpole 4-64-64".into(), cartpole, random_points(4, 2), vec![0.1, 0.3], vec![0.05, 0.1]));
    let fc1 = load("small/marabou/fc1.onnx");
    cases.push(("Marabou fc1".into(), fc1, random_points(2, 2), vec![0.2, 0.5], vec![0.2, 0.5]));
    for name in ["test_small", "test_tiny", "test_nano"] {
        let net = load(&format!("small/vnncomp_test/{name}.onnx"));
        cases.push((format!("VNN-COMP {name}"), net, random_points(1, 2), vec![0.5, 2.0], vec![0.5, 2.0]));
    }
    for (i, widths) in [&[2, 16, 16, 2][..], &[3, 12, 12, 12, 1], &[4, 8, 8, 8, 8, 8, 1]].iter().enumerate() {
        let net = degenerate(widths, 900 + i as u64);
        let n0 = widths[0];
        cases.push((format!("degenerate {widths:?}"), net, random_points(n0, 2), vec![0.2, 0.6], vec![0.1, 0.4]));
    }
    // Each case's bounds get 20 s: a walk, partition or hybrid that needs more than its share is
    // skipped (and counted as skipped).
    let options = BoundOptions { budget: Some(Duration::from_secs(20)), ..BoundOptions::unbudgeted() };
    let mut all: Vec<(Method, Norm, f64)> = Vec::new();
    let mut per_network = Vec::new();
    let (mut count, mut skipped) = (0, 0);
    for (name, net, centres, l2, linf) in &cases {
        let (mut best, mut analytic, mut paper) = (Vec::new(), Vec::new(), Vec::new());
        let mut walked = 0;
        for c in centres {
            for (norm, radii) in [(Norm::L2, l2), (Norm::Linf, linf)] {
                for &r in radii.iter() {
                    let Some((ratios, s)) = ratios_of(net, &Domain::ball(c, r, norm).unwrap(), &options) else {
                        continue;
                    };
                    count += 1;
                    skipped += s;
                    best.push(ratios.iter().map(|r| r.1).fold(f64::INFINITY, f64::min));
                    let without_walk = ratios.iter().filter(|r| r.0 != Method::Walk);
                    analytic.push(without_walk.map(|r| r.1).fold(f64::INFINITY, f64::min));
                    walked += ratios.iter().filter(|r| r.0 == Method::Walk).count();
                    paper.extend(ratios.iter().filter(|r| r.0 == Method::Paper).map(|r| r.1));
                    all.extend(ratios.into_iter().map(|(m, v)| (m, norm, v)));
                }
            }
        }
        for v in [&mut best, &mut analytic, &mut paper] {
            v.sort_by(f64::total_cmp);
        }
        if !best.is_empty() {
            let (median, worst) = (|v: &[f64]| v[v.len() / 2], |v: &[f64]| v[v.len() - 1]);
            per_network.push(format!(
                "| {name} | {} | {walked} | {:.3e} | {:.3e} | {:.3e} | {:.3e} | {:.3e} |",
                best.len(),
                median(&best),
                worst(&best),
                median(&analytic),
                worst(&analytic),
                median(&paper)
            ));
        }
    }
    println!("\n{count} real and degenerate cases with exact counts (walks capped at 20,000 regions; {skipped} budgeted methods skipped within the 20 s budget).\n");
    println!("| network | cases | walk finished | median best/exact | worst best/exact | median best analytic/exact | worst best analytic/exact | median paper/exact |");
    println!("|---|---|---|---|---|---|---|---|");
    for row in &per_network {
        println!("{row}");
    }
    println!();
    print_table(&all, false);
}

fn random_networks() {
    let architectures: [&[usize]; 5] =
        [&[2, 16, 16, 2], &[2, 32, 32, 2], &[2, 20, 20, 20, 2], &[4, 16, 16, 2], &[8, 16, 16, 2]];
    let radii = [0.05, 0.2, 0.5];
    let mut ratios: Vec<(Method, Norm, f64)> = Vec::new();
    let mut cases = 0;
    for (a, widths) in architectures.iter().enumerate() {
        for seed in 0..4u64 {
            let net = Network::pytorch_default(widths, 100 * a as u64 + seed).unwrap();
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let center: Vec<f64> = (0..widths[0]).map(|_| rng.gen_range(-0.5..0.5)).collect();
            for &radius in &radii {
                for norm in [Norm::L2, Norm::Linf] {
                    let options = BoundOptions { hybrid_max_regions: 5000, ..BoundOptions::unbudgeted() };
                    let domain = Domain::ball(&center, radius, norm).unwrap();
                    let Some((found, _)) = ratios_of(&net, &domain, &options) else { continue };
                    cases += 1;
                    ratios.extend(found.into_iter().map(|(m, v)| (m, norm, v)));
                }
            }
        }
    }
    println!("{cases} (network, centre, radius, norm) cases: architectures 2-16-16-2, 2-32-32-2, 2-20-20-20-2, 4-16-16-2, 8-16-16-2 (4 seeds each), radii 0.05/0.2/0.5, L2 and L-inf.\n");
    print_table(&ratios, true);
}
