//! Shared helpers for the integration tests: the hand-checkable networks of theory §7 and a seeded
//! generator of random and deliberately degenerate networks.
#![allow(dead_code)]

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use regionwalk::model::io::{load_points, LabelColumn};
use regionwalk::model::Network;

/// Builds a network from `(weight rows, bias)` pairs, hidden layers first, output layer last.
pub fn net(layers: &[(Vec<Vec<f64>>, Vec<f64>)]) -> Network {
    Network::from_rows(layers).expect("valid test network")
}

fn l(rows: &[&[f64]], bias: &[f64]) -> (Vec<Vec<f64>>, Vec<f64>) {
    (rows.iter().map(|r| r.to_vec()).collect(), bias.to_vec())
}

/// Theory fixture A: the lines x1 = 0, x2 = 0, x1 + x2 = 1; output h1 + h2 + h3.
pub fn fixture_a() -> Network {
    net(&[l(&[&[1., 0.], &[0., 1.], &[1., 1.]], &[0., 0., -1.]), l(&[&[1., 1., 1.]], &[0.])])
}

/// A fixture: name, network, centre, radius and the exact activation-region count (theory §7, L2).
pub struct Fixture {
    pub name: &'static str,
    pub net: Network,
    pub center: Vec<f64>,
    pub radius: f64,
    pub regions: usize,
}

fn fx(name: &'static str, net: Network, center: &[f64], radius: f64, regions: usize) -> Fixture {
    Fixture { name, net, center: center.to_vec(), radius, regions }
}

/// Every fixture of theory §7 that states an exact activation-region count.
pub fn theory_fixtures() -> Vec<Fixture> {
    let f4 = || net(&[l(&[&[1., 0.], &[0., 1.], &[1., -1.]], &[0., 0., 0.]), l(&[&[1., 2., 4.]], &[0.])]);
    let f5 = || net(&[l(&[&[1., 0.], &[2., 0.], &[-1., 0.], &[0., 1.]], &[0.; 4]), l(&[&[1., 1., 1., 1.]], &[0.])]);
    let f1 = || net(&[l(&[&[1.], &[1.], &[1.], &[1.]], &[1., 0., -0.5, -2.]), l(&[&[1., 2., 4., 8.]], &[0.])]);
    let f6 = || {
        net(&[
            l(&[&[1., 0., 0.], &[0., 1., 0.], &[0., 0., 1.], &[1., 1., 1.]], &[0., 0., 0., -1.]),
            l(&[&[1., 2., 4., 8.]], &[0.]),
        ])
    };
    let f7 = || net(&[l(&[&[1., 0.], &[0., 1.]], &[0., 0.]), l(&[&[1., 1.]], &[-1.]), l(&[&[1.]], &[0.])]);
    let f8 = || {
        net(&[
            l(&[&[1., 0.], &[0., 1.]], &[0., 0.]),
            l(&[&[1., 1.], &[1., 0.], &[0., 1.]], &[-1., 0., 0.]),
            l(&[&[1., 2., 4.]], &[0.]),
        ])
    };
    let f9 = || net(&[l(&[&[10., 0.], &[0., 1.]], &[0., 0.]), l(&[&[0., 1.]], &[-0.5]), l(&[&[1.]], &[0.])]);
    let f10 = || {
        net(&[
            l(&[&[1., 0.], &[0., 1.]], &[0., -10.]),
            l(&[&[1., 0.], &[1., 0.], &[1., 0.]], &[-0.1, -0.2, -0.3]),
            l(&[&[1., 2., 4.]], &[0.]),
        ])
    };
    let f11 = || {
        net(&[
            l(&[&[1., 1.], &[1., -1.], &[0., 10.]], &[0., 0., 100.]),
            l(&[&[1., 1., 0.]], &[-7.5]),
            l(&[&[1.]], &[0.]),
        ])
    };
    let f13 = || {
        net(&[
            l(&[&[1., 0.], &[0., 1.]], &[10., 10.]),
            l(&[&[1., 0.], &[0., 1.]], &[-10., -10.]),
            l(&[&[1., 2.]], &[0.]),
        ])
    };
    let f14 = || {
        net(&[
            l(&[&[1., 0.], &[-1., 0.], &[0., 1.]], &[0., 0., 10.]),
            l(&[&[-2., -2., -1.]], &[11.5]),
            l(&[&[1.]], &[0.]),
        ])
    };
    vec![
        fx("F2a", fixture_a(), &[0., 0.], 0.5, 4),
        fx("F2b", fixture_a(), &[0., 0.], 1.0, 5),
        fx("F2c", fixture_a(), &[0., 0.], 2.0, 7),
        fx("F2d", fixture_a(), &[2., 2.], 1.0, 1),
        fx("F2e", fixture_a(), &[0.5, 0.5], 0.25, 2),
        fx("F2f", fixture_a(), &[0.5, 0.5], 0.5, 2),
        fx("F4", f4(), &[0., 0.], 1.0, 6),
        fx("F5", f5(), &[0., 0.], 1.0, 4),
        fx("F1", f1(), &[0.], 1.0, 3),
        fx("F6 r=1", f6(), &[0., 0., 0.], 1.0, 12),
        fx("F6 r=2", f6(), &[0., 0., 0.], 2.0, 15),
        fx("F7a", f7(), &[0., 0.], 0.5, 4),
        fx("F7b", f7(), &[0., 0.], 1.0, 5),
        fx("F7c", f7(), &[0., 0.], 2.0, 7),
        fx("F8 r=1/2", f8(), &[0., 0.], 0.5, 4),
        fx("F8 r=1", f8(), &[0., 0.], 1.0, 5),
        fx("F8 r=2", f8(), &[0., 0.], 2.0, 7),
        fx("F9", f9(), &[0., 0.], 0.3, 4),
        fx("F10", f10(), &[0., 0.], 1.0, 5),
        fx("F11", f11(), &[5., 0.], 1.0, 1),
        fx("F13", f13(), &[0., 0.], 1.0, 4),
        fx("F14 r=1/2", f14(), &[0., 0.], 0.5, 2),
        fx("F14 r=1", f14(), &[0., 0.], 1.0, 4),
        fx("F14 r=3/2", f14(), &[0., 0.], 1.5, 4),
        fx("F14 r=2", f14(), &[0., 0.], 2.0, 4),
    ]
}

/// A random test case: a network, a centre and a radius, with a description of its degeneracies.
pub struct Case {
    pub net: Network,
    pub center: Vec<f64>,
    pub radius: f64,
    pub description: String,
}

/// Random network number `seed`: input dimension 1–6, 1–4 hidden layers of width 2–16 (smaller
/// for higher dimensions, so that the reference splitter stays fast), and, with some probability,
/// each kind of degeneracy the walk must handle.
pub fn random_case(seed: u64) -> Case {
    random_case_up_to(seed, 6)
}

/// As [`random_case`], with input dimension up to `max_dim` (at most 8).
pub fn random_case_up_to(seed: u64, max_dim: usize) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n0 = rng.gen_range(1..=max_dim);
    let depth = rng.gen_range(1..=4usize);
    let max_width = match n0 {
        1 | 2 => 16,
        3 => 10,
        4 => 7,
        5 | 6 => 5,
        _ => 4,
    };
    let max_width = if depth >= 3 { max_width.min(8) } else { max_width };
    let integer = rng.gen_bool(0.25);
    let mut tags = vec![format!("n0={n0} depth={depth}")];
    if integer {
        tags.push("integer weights".into());
    }
    let draw = |rng: &mut ChaCha8Rng| if integer { rng.gen_range(-3..=3) as f64 } else { rng.gen_range(-1.0..1.0) };
    let mut layers: Vec<(Vec<Vec<f64>>, Vec<f64>)> = Vec::new();
    let mut fan_in = n0;
    for layer in 0..depth {
        let width = rng.gen_range(2..=max_width);
        let mut rows: Vec<Vec<f64>> = (0..width).map(|_| (0..fan_in).map(|_| draw(&mut rng)).collect()).collect();
        let mut bias: Vec<f64> = (0..width).map(|_| draw(&mut rng)).collect();
        // Degeneracies, each applied to a random neuron of this layer.
        let pick = |rng: &mut ChaCha8Rng| rng.gen_range(0..width);
        if rng.gen_bool(0.2) {
            let (i, j) = (pick(&mut rng), pick(&mut rng));
            rows[j] = rows[i].clone();
            bias[j] = bias[i];
            tags.push(format!("L{layer}: duplicate"));
        }
        if rng.gen_bool(0.2) {
            let (i, j) = (pick(&mut rng), pick(&mut rng));
            if i != j {
                rows[j] = rows[i].iter().map(|v| -v).collect();
                bias[j] = -bias[i];
                tags.push(format!("L{layer}: opposite"));
            }
        }
        if rng.gen_bool(0.2) {
            let (i, j) = (pick(&mut rng), pick(&mut rng));
            let c = rng.gen_range(0.5..3.0);
            rows[j] = rows[i].iter().map(|v| c * v).collect();
            bias[j] = c * bias[i];
            tags.push(format!("L{layer}: scaled"));
        }
        if rng.gen_bool(0.15) {
            let j = pick(&mut rng);
            rows[j] = vec![0.0; fan_in];
            bias[j] = 0.0;
            tags.push(format!("L{layer}: zero neuron"));
        }
        if rng.gen_bool(0.15) {
            let j = pick(&mut rng);
            rows[j] = vec![0.0; fan_in];
            bias[j] = if rng.gen_bool(0.5) { 0.7 } else { -0.7 };
            tags.push(format!("L{layer}: constant neuron"));
        }
        if layer > 0 && rng.gen_bool(0.08) {
            bias.iter_mut().for_each(|b| *b = -50.0);
            tags.push(format!("L{layer}: dead layer"));
        }
        fan_in = width;
        layers.push((rows, bias));
    }
    layers.push(((0..2).map(|_| (0..fan_in).map(|_| rng.gen_range(-1.0..1.0)).collect()).collect(), vec![0.0, 0.0]));
    let net = net(&layers);
    let mut center: Vec<f64> = (0..n0).map(|_| rng.gen_range(-1.0..1.0)).collect();
    if rng.gen_bool(0.2) {
        // Put the centre on the hyperplane of a first-layer neuron.
        let (rows, bias) = &layers[0];
        let j = rng.gen_range(0..rows.len());
        let w = &rows[j];
        let ww: f64 = w.iter().map(|v| v * v).sum();
        if ww > 0.0 {
            let z: f64 = w.iter().zip(&center).map(|(a, b)| a * b).sum::<f64>() + bias[j];
            center.iter_mut().zip(w).for_each(|(c, a)| *c -= z * a / ww);
            tags.push("centre on a boundary".into());
        }
    }
    let radius = match n0 {
        1 | 2 => rng.gen_range(0.3..2.0),
        3 | 4 => rng.gen_range(0.3..1.2),
        5 | 6 => rng.gen_range(0.2..0.7),
        _ => rng.gen_range(0.2..0.5),
    };
    Case { net, center, radius, description: tags.join(", ") }
}

/// ERAN MNIST test image `i` of the fixture CSV, pixels scaled to [0, 1].
pub fn mnist_image(i: usize) -> Vec<f64> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/datasets/eran_mnist_test_first100.csv");
    let (points, _) = load_points(&path, Some(LabelColumn::First)).unwrap();
    points[i].iter().map(|v| v / 255.0).collect()
}

/// The patterns of a walk's regions, sorted; duplicates stay, so a region counted twice shows.
pub fn patterns(r: &regionwalk::exact::WalkResult) -> Vec<regionwalk::model::Pattern> {
    let mut v: Vec<_> = r.regions.iter().map(|g| g.pattern.clone()).collect();
    v.sort();
    v
}

/// [`patterns`] of a walk that must be exact (complete, no region dropped).
pub fn exact_patterns(r: &regionwalk::exact::WalkResult) -> Vec<regionwalk::model::Pattern> {
    assert!(r.complete(), "walk incomplete ({:?}) or with {} dropped regions", r.stopped_by(), r.unverified);
    patterns(r)
}

/// A scratch directory for one test, removed (with everything in it) when dropped.
pub struct Scratch(std::path::PathBuf);

impl Scratch {
    /// A new empty directory named after the test binary, the process and `name`.
    pub fn new(name: &str) -> Self {
        let binary = std::env::current_exe().ok().and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()));
        let dir = std::env::temp_dir().join(format!(
            "regionwalk-{}-{}-{name}",
            binary.unwrap_or_default(),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The z-scores of the estimates against the exact counts, and how many intervals cover them.
pub fn z_scores(estimates: &[(String, regionwalk::estimate::Estimate, usize)]) -> (Vec<f64>, usize) {
    let mut z = Vec::new();
    let mut covered = 0;
    for (_, e, exact) in estimates {
        let n = *exact as f64;
        covered += usize::from(e.low <= n && n <= e.high);
        if e.standard_error > 0.0 {
            z.push((e.estimate - n) / e.standard_error);
        } else {
            z.push(if e.estimate == n { 0.0 } else { f64::INFINITY });
        }
    }
    (z, covered)
}

/// Unbiased: the mean z-score over the cases is near 0 (each is approximately standard normal),
/// and no case is far off.
pub fn unbiased(z: &[f64]) -> Result<(), String> {
    let mean = z.iter().sum::<f64>() / z.len() as f64;
    let worst = z.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    // The mean of k standard normals has standard deviation 1/sqrt(k); allow 4 of them.
    let allowed = 4.0 / (z.len() as f64).sqrt();
    if mean.abs() > allowed || worst > 6.0 {
        return Err(format!("mean z {mean:.3} (allowed ±{allowed:.3}), worst |z| {worst:.2}"));
    }
    Ok(())
}
