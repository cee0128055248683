//! Bound tightness over a fixed benchmark set: for seeded random networks (PyTorch default
//! initialisation) and several radii, the exact count and every bound; prints a markdown table of
//! the median and maximum of bound/exact per method. `scripts/tightness.sh` writes it into
//! BENCHMARKS.md.

use rand::{Rng, SeedableRng};
use regionwalk::bound::{bounds, log10, BoundOptions, Method};
use regionwalk::domain::{Domain, Norm};
use regionwalk::exact::walk::{walk, WalkOptions};
use regionwalk::model::Network;

fn main() {
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
                    let domain = Domain::ball(&center, radius, norm).unwrap();
                    let exact =
                        walk(&net, &domain, &WalkOptions { max_regions: Some(20_000), ..Default::default() }).unwrap();
                    if !exact.complete() {
                        continue;
                    }
                    cases += 1;
                    let options = BoundOptions { hybrid_max_regions: 5000, ..Default::default() };
                    let report = bounds(&net, &domain, &options).unwrap();
                    for b in &report.bounds {
                        ratios.push((b.method, norm, 10f64.powf(log10(&b.value) - (exact.count() as f64).log10())));
                    }
                }
            }
        }
    }
    println!("{cases} (network, centre, radius, norm) cases: architectures 2-16-16-2, 2-32-32-2, 2-20-20-20-2, 4-16-16-2, 8-16-16-2 (4 seeds each), radii 0.05/0.2/0.5, L2 and L-inf.\n");
    println!("| method | norm | median bound/exact | max bound/exact |");
    println!("|---|---|---|---|");
    for m in Method::ALL {
        for norm in [Norm::L2, Norm::Linf] {
            let mut v: Vec<f64> = ratios.iter().filter(|r| r.0 == m && r.1 == norm).map(|r| r.2).collect();
            if v.is_empty() {
                continue;
            }
            v.sort_by(f64::total_cmp);
            println!("| {} | {norm:?} | {:.3e} | {:.3e} |", m.name(), v[v.len() / 2], v[v.len() - 1]);
        }
    }
}
