//! Property tests that can fail: the exact count does not change when neurons of a layer are
//! permuted, when a hidden neuron is rescaled by c > 0 (its outgoing weights by 1/c), or when the
//! input is translated together with the centre (theory P3); the thread count is checked in
//! tests/exact.rs.

mod common;

use rand::{seq::SliceRandom, Rng, SeedableRng};
use regionwalk::domain::{Domain, Norm};
use regionwalk::exact::WalkOptions;
use regionwalk::model::{Layer, Network};

fn count(net: &Network, center: &[f64], radius: f64, norm: Norm) -> usize {
    regionwalk::exact::count(net, &Domain::ball(center, radius, norm).unwrap(), &WalkOptions::default())
        .unwrap()
        .count()
}

fn rebuild(layers: Vec<Layer>) -> Network {
    Network::new(layers, None).unwrap()
}

#[test]
fn permuting_the_neurons_of_a_layer_keeps_the_count() {
    for seed in 0..60 {
        let case = common::random_case(seed);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut layers = case.net.layers().to_vec();
        let l = rng.gen_range(0..layers.len() - 1);
        let mut perm: Vec<usize> = (0..layers[l].weight.nrows()).collect();
        perm.shuffle(&mut rng);
        // The permuted layers are stored sparse: the count must not depend on the storage either.
        layers[l].weight = layers[l].weight.select_rows(&perm).csr();
        layers[l].bias = layers[l].bias.select(ndarray::Axis(0), &perm);
        layers[l + 1].weight = layers[l + 1].weight.select_columns(&perm).csr();
        let permuted = rebuild(layers);
        for norm in [Norm::L2, Norm::Linf] {
            assert_eq!(
                count(&case.net, &case.center, case.radius, norm),
                count(&permuted, &case.center, case.radius, norm),
                "seed {seed} ({})",
                case.description
            );
        }
    }
}

#[test]
fn rescaling_a_hidden_neuron_keeps_the_count() {
    for seed in 100..160 {
        let case = common::random_case(seed);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut layers = case.net.layers().to_vec();
        let l = rng.gen_range(0..layers.len() - 1);
        let j = rng.gen_range(0..layers[l].weight.nrows());
        // Powers of two keep the arithmetic exact, so degenerate cases stay degenerate.
        let c = [0.25, 0.5, 2.0, 8.0][rng.gen_range(0..4)];
        let (mut w, mut next) =
            (layers[l].weight.to_dense().into_owned(), layers[l + 1].weight.to_dense().into_owned());
        w.row_mut(j).mapv_inplace(|w| w * c);
        layers[l].bias[j] *= c;
        next.column_mut(j).mapv_inplace(|w| w / c);
        (layers[l].weight, layers[l + 1].weight) = (w.into(), next.into());
        let scaled = rebuild(layers);
        for norm in [Norm::L2, Norm::Linf] {
            assert_eq!(
                count(&case.net, &case.center, case.radius, norm),
                count(&scaled, &case.center, case.radius, norm),
                "seed {seed} ({})",
                case.description
            );
        }
    }
}

#[test]
fn translating_input_and_centre_together_keeps_the_count() {
    for seed in 200..260 {
        let case = common::random_case(seed);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let n0 = case.net.input_dim();
        // Dyadic shifts keep first-layer biases exactly representable.
        let shift: Vec<f64> = (0..n0).map(|_| rng.gen_range(-8..=8) as f64 / 4.0).collect();
        let mut layers = case.net.layers().to_vec();
        // f(x) = g(x - shift): b1 ← b1 - W1·shift, centre ← centre + shift.
        let w_shift = layers[0].weight.dot(ndarray::Array1::from(shift.clone()).view());
        layers[0].bias = &layers[0].bias - &w_shift;
        let moved = rebuild(layers);
        let center: Vec<f64> = case.center.iter().zip(&shift).map(|(c, s)| c + s).collect();
        for norm in [Norm::L2, Norm::Linf] {
            assert_eq!(
                count(&case.net, &case.center, case.radius, norm),
                count(&moved, &center, case.radius, norm),
                "seed {seed} ({})",
                case.description
            );
        }
    }
}
