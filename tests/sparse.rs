//! Sparse weights (CSR, as the ONNX loader stores a convolution) answer every question as the same
//! network stored dense: the walk finds the same regions and every bound has the same value, on
//! random and degenerate networks with every layer stored sparse, and on the MNIST CNN fixture
//! against its dense copy. The walk's budget also holds inside one region of that CNN.

mod common;

use common::patterns;

use regionwalk::bound::{bounds, BoundOptions, Method};
use regionwalk::domain::{Domain, Norm};
use regionwalk::exact::{count, StopReason, WalkOptions};
use regionwalk::model::{io, Layer, Network, Weight};
use std::path::Path;
use std::time::{Duration, Instant};

/// `net` with every layer stored as `store` makes it.
fn stored(net: &Network, store: impl Fn(&Weight) -> Weight) -> Network {
    let layers = net.layers().iter().map(|l| Layer { weight: store(&l.weight), bias: l.bias.clone() }).collect();
    Network::new(layers, net.input_box().cloned()).unwrap()
}

#[test]
fn sparse_storage_walks_and_bounds_as_dense_storage() {
    let mut regions = 0;
    for seed in 0..150 {
        let case = common::random_case_up_to(seed, 8);
        let sparse = stored(&case.net, Weight::csr);
        assert!(sparse.layers().iter().all(|l| l.weight.is_sparse()));
        for norm in [Norm::L2, Norm::Linf] {
            let what = format!("seed {seed} {norm:?} ({})", case.description);
            let domain = Domain::ball(&case.center, case.radius, norm).unwrap();
            let dense_walk = count(&case.net, &domain, &WalkOptions::default()).unwrap();
            let sparse_walk = count(&sparse, &domain, &WalkOptions::default()).unwrap();
            assert!(dense_walk.complete() && sparse_walk.complete(), "{what}");
            assert_eq!(patterns(&dense_walk), patterns(&sparse_walk), "{what}");
            regions += dense_walk.count();
            let options = BoundOptions::unbudgeted();
            let (d, s) = (bounds(&case.net, &domain, &options).unwrap(), bounds(&sparse, &domain, &options).unwrap());
            assert_eq!(d.bounds.len(), s.bounds.len(), "{what}");
            for (x, y) in d.bounds.iter().zip(&s.bounds) {
                assert_eq!((x.method, &x.value), (y.method, &y.value), "{what}");
            }
            assert_eq!(d.lower, s.lower, "{what}: sampled lower bounds");
        }
    }
    assert!(regions > 3000, "only {regions} regions compared");
}

fn mnist_cnn() -> Network {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cnn/Convnet_avgpool.onnx");
    io::load_network(&path).unwrap()
}

#[test]
fn the_mnist_cnn_is_stored_sparse_and_counts_as_its_dense_copy() {
    let cnn = mnist_cnn();
    let conv = &cnn.layers()[0].weight;
    assert!(conv.is_sparse(), "the 23,328 × 784 convolution is stored sparse");
    assert_eq!(conv.nnz(), 23_328 * 4, "a 2×2 kernel on one channel: four weights per row");
    let dense = stored(&cnn, |w| Weight::Dense(w.to_dense().into_owned()));
    let image = common::mnist_image(0);
    for (x, y) in cnn.output(&image).iter().zip(&dense.output(&image)) {
        assert!((x - y).abs() <= 1e-12 * x.abs().max(1.0), "outputs {x} and {y}");
    }
    // A textured image besides the test image: at the test image the blank patches put hundreds of
    // hyperplanes at one distance, and the count jumps from 2 to tens of thousands between radii.
    let texture: Vec<f64> = (0..784).map(|i| ((37 * i) % 101) as f64 / 100.0).collect();
    for (centre, radius, norm) in [(&image, 1.9e-4, Norm::L2), (&texture, 5e-5, Norm::Linf), (&texture, 1e-4, Norm::L2)]
    {
        let domain = Domain::ball(centre, radius, norm).unwrap();
        let options = WalkOptions { max_regions: Some(1000), ..Default::default() };
        let (a, b) = (count(&cnn, &domain, &options).unwrap(), count(&dense, &domain, &options).unwrap());
        assert!(a.complete() && a.count() > 1, "{norm:?} r={radius}: {} regions", a.count());
        assert_eq!(patterns(&a), patterns(&b), "{norm:?} r={radius}");
        // Hybrid is left out: on a 23,328-neuron layer its per-region work takes minutes.
        let methods = vec![Method::Global, Method::Paper, Method::Product, Method::LocalSerra];
        let report = bounds(&cnn, &domain, &BoundOptions { methods, ..BoundOptions::unbudgeted() }).unwrap();
        assert!(report.bounds.iter().all(|bound| bound.value >= a.count().into()));
        assert!(report.lower <= a.count());
    }
}

#[test]
fn the_time_limit_holds_inside_a_region_with_thousands_of_facets() {
    // At L-inf radius 0.01 the first region of the MNIST CNN has thousands of candidate facets;
    // the walk used to finish that region (minutes) before looking at the clock.
    let cnn = mnist_cnn();
    let domain = Domain::ball(&common::mnist_image(0), 0.01, Norm::Linf).unwrap();
    let started = Instant::now();
    let options = WalkOptions { time_limit: Some(Duration::from_secs(1)), ..Default::default() };
    let r = count(&cnn, &domain, &options).unwrap();
    assert_eq!(r.stopped_by(), Some(StopReason::TimeLimit));
    assert!(started.elapsed() < Duration::from_secs(30), "stopped after {:?}", started.elapsed());
}
