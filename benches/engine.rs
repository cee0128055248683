//! `cargo bench`: the bound ladder on an MNIST-sized network and the region walk on small ones.
//! Figures and their interpretation are in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion};

use regionwalk::bench::{problem, QUICK};
use regionwalk::bound::{bounds, BoundOptions, Method};
use regionwalk::domain::{Domain, Norm};
use regionwalk::exact::walk::{walk, WalkOptions};
use regionwalk::model::Network;

fn bound_ladder(c: &mut Criterion) {
    let net = Network::pytorch_default(&[784, 256, 256, 10], 1).unwrap();
    let center = vec![0.5; 784];
    let ball = Domain::ball(&center, 0.05, Norm::L2).unwrap();
    let options = BoundOptions {
        methods: vec![Method::Global, Method::Paper, Method::Product, Method::LocalSerra],
        samples: 100,
        ..Default::default()
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
        let n = walk(&net, &domain, &WalkOptions::default()).unwrap().count();
        group.bench_function(format!("{} ({n} regions)", case.name), |b| {
            b.iter(|| pool.install(|| walk(&net, &domain, &WalkOptions::default()).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, bound_ladder, region_walk);
criterion_main!(benches);
