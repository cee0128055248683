//! `cargo bench`: the bound ladder on an MNIST-sized network and the region walk on small ones.
//! Figures and their interpretation are in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion};

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

fn region_walk(c: &mut Criterion) {
    let mut group = c.benchmark_group("walk");
    group.sample_size(10);
    for (widths, radius) in [(&[2usize, 16, 16, 2][..], 0.5), (&[4, 16, 16, 2][..], 0.3), (&[8, 16, 16, 2][..], 0.1)] {
        let net = Network::pytorch_default(widths, 7).unwrap();
        for norm in [Norm::L2, Norm::Linf] {
            let domain = Domain::ball(&vec![0.1; widths[0]], radius, norm).unwrap();
            let n = walk(&net, &domain, &WalkOptions::default()).unwrap().count();
            let name = format!("{widths:?} r={radius} {norm:?} ({n} regions)");
            group.bench_function(name, |b| b.iter(|| walk(&net, &domain, &WalkOptions::default()).unwrap()));
        }
    }
    group.finish();
}

criterion_group!(benches, bound_ladder, region_walk);
criterion_main!(benches);
