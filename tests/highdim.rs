//! High-dimensional walks (16–784 inputs): the walk with the dual least-norm solver finds exactly
//! the regions that the HiGHS-only walk finds (same patterns), and both agree with the reference
//! splitter where it is fast enough.

mod common;

use common::exact_patterns;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use regionwalk::domain::{Domain, Norm};
use regionwalk::exact::oracle::split::split_patterns;
use regionwalk::exact::{count, WalkOptions};
use regionwalk::lp::LpCounters;
use regionwalk::model::io::load_network;
use regionwalk::model::{Network, Pattern};
use std::path::Path;

/// The dual-path walk (with refutations reused across regions) and the HiGHS-only walk: same
/// patterns. Returns them and the fast walk's tally.
fn both_paths(net: &Network, domain: &Domain, what: &str) -> (Vec<Pattern>, LpCounters) {
    let fast = count(net, domain, &WalkOptions::default()).unwrap();
    let reference = count(net, domain, &WalkOptions { highs_only: true, ..Default::default() }).unwrap();
    assert_eq!(reference.counters.dual_solves + reference.counters.reused_refutations, 0);
    let p = exact_patterns(&fast);
    assert_eq!(p, exact_patterns(&reference), "{what}: the dual path and HiGHS found different regions");
    (p, fast.counters)
}

/// A random network with `n0` inputs and hidden `widths`, with a duplicated and an opposite neuron
/// in the first layer (degenerate rows for the solver).
fn random_net(n0: usize, widths: &[usize], seed: u64) -> Network {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut layers = Vec::new();
    let mut fan_in = n0;
    for (l, &w) in widths.iter().chain([&1]).enumerate() {
        let scale = 1.0 / (fan_in as f64).sqrt();
        let mut rows: Vec<Vec<f64>> =
            (0..w).map(|_| (0..fan_in).map(|_| rng.gen_range(-scale..scale)).collect()).collect();
        let mut bias: Vec<f64> = (0..w).map(|_| rng.gen_range(-scale..scale)).collect();
        if l == 0 && w >= 3 {
            rows[1] = rows[0].clone();
            bias[1] = bias[0];
            rows[2] = rows[0].iter().map(|v| -v).collect();
            bias[2] = -bias[0];
        }
        layers.push((rows, bias));
        fan_in = w;
    }
    Network::from_rows(&layers).unwrap()
}

#[test]
fn dual_walks_equal_highs_walks_and_the_splitter_from_16_to_64_inputs() {
    let mut regions = 0;
    let mut tally = LpCounters::default();
    for (seed, &(n0, widths, radius)) in
        [(16, &[8, 8][..], 0.6), (16, &[10][..], 0.8), (32, &[8, 6][..], 0.5), (64, &[8, 6][..], 0.5)]
            .iter()
            .enumerate()
    {
        let net = random_net(n0, widths, seed as u64);
        let mut rng = ChaCha8Rng::seed_from_u64(100 + seed as u64);
        let centre: Vec<f64> = (0..n0).map(|_| rng.gen_range(-0.3..0.3)).collect();
        for norm in [Norm::L2, Norm::Linf] {
            let r = if norm == Norm::Linf { radius / (n0 as f64).sqrt() * 2.0 } else { radius };
            let domain = Domain::ball(&centre, r, norm).unwrap();
            let what = format!("{n0}-D {widths:?} {norm:?} r = {r}");
            let (p, counters) = both_paths(&net, &domain, &what);
            assert!(p.len() > 1, "{what}: a trivial case");
            if n0 == 16 {
                let (split, _) = split_patterns(&net, &domain).unwrap();
                assert_eq!(p, split, "{what}: walk and splitter differ");
            }
            regions += p.len();
            tally.add(&counters);
        }
    }
    assert!(regions >= 50, "the cases hold {regions} regions in all");
    let (solves, fallbacks) = (tally.dual_solves, tally.dual_fallbacks);
    assert!(fallbacks * 10 <= solves, "{fallbacks} of {solves} dual solves fell back to HiGHS");
    assert!(tally.reused_refutations > 0, "no refutation was reused: the comparison did not cover reuse");
}

#[test]
fn dual_walks_equal_highs_walks_on_mnist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let net = load_network(&root.join("fixtures/mnist_fc/onnx/mnist-net_256x2.onnx")).unwrap();
    let image = common::mnist_image(0);
    for (norm, radius) in [(Norm::L2, 0.04), (Norm::Linf, 0.003)] {
        let domain = Domain::ball(&image, radius, norm).unwrap();
        let (p, counters) = both_paths(&net, &domain, &format!("MNIST {norm:?} {radius}"));
        assert!(p.len() > 3, "MNIST {norm:?} {radius}: only {} regions", p.len());
        let (solves, fallbacks) = (counters.dual_solves, counters.dual_fallbacks);
        assert_eq!(fallbacks, 0, "MNIST {norm:?}: {fallbacks} of {solves} dual solves fell back");
        if norm == Norm::Linf {
            assert!(counters.reused_refutations > 0, "MNIST L-inf: no refutation was reused");
            // Which certificates are held, which proposals are tested and which maps are updated
            // from which are fixed by the chunking, not by the threads: the work is reproducible.
            let run = |threads| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                pool.install(|| count(&net, &domain, &WalkOptions::default()).unwrap())
            };
            let (one, two) = (run(1), run(2));
            assert_eq!(exact_patterns(&one), exact_patterns(&two));
            assert_eq!(one.counters, two.counters, "MNIST L-inf: the tally depends on the thread count");
        }
    }
}
