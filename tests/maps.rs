//! Layer maps updated along a walk by low-rank corrections equal the maps recomputed from the
//! input, on random and degenerate networks.

mod common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use regionwalk::model::{Layer, Network, Pattern, Surrogate, Weight};

fn relative_gap(a: &Surrogate, b: &Surrogate) -> f64 {
    let scale = a.a.iter().chain(&a.beta).chain(&a.jacobian).chain(&a.offset).fold(1.0_f64, |m, v| m.max(v.abs()));
    let gap = |x: &[f64], y: &[f64]| x.iter().zip(y).fold(0.0_f64, |m, (p, q)| m.max((p - q).abs()));
    let pairs = [
        (a.a.as_slice().unwrap(), b.a.as_slice().unwrap()),
        (a.beta.as_slice().unwrap(), b.beta.as_slice().unwrap()),
        (a.jacobian.as_slice().unwrap(), b.jacobian.as_slice().unwrap()),
        (a.offset.as_slice().unwrap(), b.offset.as_slice().unwrap()),
    ];
    pairs.iter().map(|(x, y)| gap(x, y)).fold(0.0, f64::max) / scale
}

/// A random walk over patterns (1–3 flips per step, sometimes a jump) with the maps carried along.
fn walk_and_compare(net: &Network, seed: u64, steps: usize) -> usize {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = net.neurons();
    let mut pattern = Pattern::zeros(n);
    (0..n).for_each(|k| pattern.set(k, rng.gen_bool(0.5)));
    let mut near = None;
    let mut updates = 0;
    for step in 0..steps {
        let flips = if rng.gen_bool(0.05) { n } else { rng.gen_range(1..=3) };
        for _ in 0..flips {
            let k = rng.gen_range(0..n);
            pattern.set(k, !pattern.get(k));
        }
        let incremental = net.surrogate_near(&pattern, &mut near);
        let scratch = net.surrogate(&pattern);
        assert_eq!(incremental.kind, scratch.kind, "seed {seed} step {step}: neuron kinds differ");
        let gap = relative_gap(&incremental, &scratch);
        assert!(gap <= 1e-12, "seed {seed} step {step}: incremental maps off by {gap:e} (relative)");
        updates += usize::from(flips <= 3);
    }
    updates
}

#[test]
fn incremental_maps_equal_recomputed_maps_along_random_walks() {
    let mut updates = 0;
    // Shallow and wide, MNIST-sized, and deep and narrow (ACAS Xu's 5-50x6-5, 8-30x7-2).
    let shapes = [
        &[12, 16, 16, 16, 3][..],
        &[40, 32, 32, 2],
        &[784, 64, 64, 64, 10],
        &[5, 50, 50, 50, 50, 50, 50, 5],
        &[8, 30, 30, 30, 30, 30, 30, 30, 2],
    ];
    for (seed, widths) in shapes.iter().enumerate() {
        let net = Network::pytorch_default(widths, seed as u64).unwrap();
        updates += walk_and_compare(&net, seed as u64, 150);
    }
    // The real ACAS Xu network 1_1.
    let acas =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx");
    updates += walk_and_compare(&regionwalk::model::io::load_network(&acas).unwrap(), 99, 150);
    // Degenerate networks: duplicated, opposite, scaled, zero and constant neurons, dead layers.
    for seed in 0..60 {
        let case = common::random_case_up_to(seed, 8);
        updates += walk_and_compare(&case.net, seed, 40);
    }
    assert!(updates > 1000, "only {updates} incremental steps");
}

/// A network of banded layers, as a convolution's (each neuron reads `reach` neighbours), stored
/// sparse, then a dense layer: its layer maps stay sparse for two layers (recomputed from their
/// stored entries) while the correction's factors pass through them to the dense ones.
fn banded(n0: usize, reach: usize, seed: u64) -> Network {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut layers = Vec::new();
    for _ in 0..2 {
        let entries: Vec<(usize, usize, f64)> = (0..n0)
            .flat_map(|j| (j.saturating_sub(reach)..(j + reach + 1).min(n0)).map(move |i| (j, i)))
            .map(|(j, i)| (j, i, rng.gen_range(-1.0..1.0)))
            .collect();
        let bias = (0..n0).map(|_| rng.gen_range(-0.3..0.3)).collect();
        layers.push(Layer { weight: Weight::from_triplets(n0, n0, entries), bias });
    }
    let w = ndarray::Array2::from_shape_fn((24, n0), |_| rng.gen_range(-0.1..0.1));
    layers.push(Layer { weight: Weight::from(w), bias: ndarray::Array1::zeros(24) });
    let w = ndarray::Array2::from_shape_fn((2, 24), |_| rng.gen_range(-1.0..1.0));
    layers.push(Layer { weight: Weight::from(w), bias: ndarray::Array1::zeros(2) });
    Network::new(layers, None).unwrap()
}

#[test]
fn incremental_maps_through_sparse_layers_equal_recomputed_maps() {
    let mut updates = 0;
    for seed in 0..3 {
        let net = banded(300, 2, seed);
        assert!(net.hidden()[0].weight.is_sparse() && net.hidden()[1].weight.is_sparse());
        updates += walk_and_compare(&net, seed, 60);
    }
    assert!(updates > 100, "only {updates} incremental steps");
}

/// The output map alone (`Network::output_map`, which drops each layer's map once the next is
/// computed) is the surrogate's output map and kinds, bit for bit: on random and degenerate
/// networks, ACAS Xu, a CNN and a ResNet (with carrying units), at random points' patterns.
#[test]
fn the_output_map_alone_is_the_surrogates() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut nets: Vec<Network> = (0..80).map(|seed| common::random_case_up_to(seed, 8).net).collect();
    for fixture in ["fixtures/acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx", "fixtures/cnn/cifar_base_kw.onnx"] {
        nets.push(regionwalk::model::io::load_network(&root.join(fixture)).unwrap());
    }
    nets.push(regionwalk::model::io::load_network(&root.join("fixtures/resnet/resnet_2b.onnx")).unwrap());
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut varying_outputs = 0;
    for (i, net) in nets.iter().enumerate() {
        for _ in 0..3 {
            let x: Vec<f64> = (0..net.input_dim()).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let pattern = net.pattern(&x);
            let (jacobian, offset, kind) = net.output_map(&pattern);
            let surrogate = net.surrogate(&pattern);
            assert_eq!(
                (&jacobian, &offset, &kind),
                (&surrogate.jacobian, &surrogate.offset, &surrogate.kind),
                "net {i}"
            );
            varying_outputs += usize::from(jacobian.iter().any(|v| *v != 0.0));
        }
    }
    assert!(varying_outputs > 100, "only {varying_outputs} nonzero output maps");
}
