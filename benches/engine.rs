//! `cargo bench`: the bound ladder on an MNIST-sized network, the region walk on small ones, and
//! the HiGHS Chebyshev LP of an L-inf ball in 784-D with the box as bounds and as rows.
//! Figures and their interpretation are in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion};

use regionwalk::bench::{problem, QUICK};
use regionwalk::bound::{bounds, BoundOptions, Method};
use regionwalk::domain::{Domain, Halfspace, Norm};
use regionwalk::exact::{count, WalkOptions};
use regionwalk::lp::{meets, LpCounters, RegionLp};
use regionwalk::model::Network;

fn bound_ladder(c: &mut Criterion) {
    let net = Network::pytorch_default(&[784, 256, 256, 10], 1).unwrap();
    let center = vec![0.5; 784];
    let ball = Domain::ball(&center, 0.05, Norm::L2).unwrap();
    let options = BoundOptions {
        methods: vec![Method::Global, Method::Paper, Method::Product, Method::LocalSerra],
        samples: 100,
        ..BoundOptions::unbudgeted()
    };
    let mut group = c.benchmark_group("bounds 784-256-256-10");
    group.sample_size(10);
    group.bench_function("all but hybrid, L2 r=0.05", |b| b.iter(|| bounds(&net, &ball, &options).unwrap()));
    group.finish();
}

/// The quick cases of the benchmark suite (`regionwalk bench --suite quick`), one thread.
fn region_walk(c: &mut Criterion) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let mut group = c.benchmark_group("walk, one thread");
    group.sample_size(10);
    for case in QUICK {
        let (net, domain) = problem(case, root).unwrap();
        let n = count(&net, &domain, &WalkOptions::default()).unwrap().count();
        group.bench_function(format!("{} ({n} regions)", case.name), |b| {
            b.iter(|| pool.install(|| count(&net, &domain, &WalkOptions::default()).unwrap()))
        });
    }
    group.finish();
}

/// The walk's HiGHS fallback for an L-inf ball in 784-D: a region of 12 rows through the cube, its
/// Chebyshev LP with the box in the column bounds (as [`meets`] solves it) against the same LP with
/// the box as 1,568 rows.
fn chebyshev_lp(c: &mut Criterion) {
    let n = 784;
    let cube = Domain::ball(&vec![0.0; n], 1.0, Norm::Linf).unwrap();
    let rows: Vec<Halfspace> = (0..12)
        .map(|k| {
            let normal: Vec<f64> = (0..n).map(|i| (((i * 7 + k * 13) % 17) as f64 - 8.0) / 8.0).collect();
            let norm = normal.iter().map(|v| v * v).sum::<f64>().sqrt();
            Halfspace { normal: normal.iter().map(|v| v / norm).collect(), offset: 0.3 + 0.05 * k as f64 }
        })
        .collect();
    let refs: Vec<&Halfspace> = rows.iter().collect();
    let mut group = c.benchmark_group("Chebyshev LP, L-inf ball, 784-D, 12 rows");
    group.sample_size(10);
    group.bench_function("box as column bounds", |b| {
        b.iter(|| meets(&cube, &refs, None, &mut LpCounters::default()).unwrap())
    });
    group.bench_function("box as rows", |b| {
        b.iter(|| {
            let mut lp = RegionLp::load(&cube, &refs).unwrap();
            lp.chebyshev_with_box_rows(&[], None, &mut LpCounters::default()).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bound_ladder, region_walk, chebyshev_lp);
criterion_main!(benches);
