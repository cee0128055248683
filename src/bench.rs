//! The walk's benchmark suite (issue 8): fixed seeded networks (PyTorch's default initialisation)
//! and domains, run in-process and reported as regions/s, LP solves, screened candidates and known
//! neighbours per region, and peak memory. `regionwalk bench` prints it; `cargo bench` times the
//! quick cases with criterion; BENCHMARKS.md records a full run.

use crate::domain::{Domain, Norm};
use crate::exact::result::memory_per_region;
use crate::exact::{count, Engine, WalkOptions};
use crate::model::io::{load_network, load_points, LabelColumn};
use crate::model::Network;
use crate::{Error, Result};
use std::path::Path;

/// The domain of a case, around a centre drawn from the case's seed (uniform in [−0.5, 0.5]^d),
/// or around a data point for the MNIST case.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// The whole input space.
    Whole,
    /// A box of this half-width.
    Box(f64),
    /// An L2 ball of this radius.
    L2(f64),
    /// An L-inf ball of this radius.
    Linf(f64),
}

/// Where a case's network comes from.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    /// `Network::pytorch_default(widths, seed)`.
    Random(&'static [usize]),
    /// The MNIST fixture (784-256-256-10), centred on the first test image.
    Mnist,
    /// `Network::pytorch_default(widths, seed)` with 784 inputs, centred on the first MNIST test
    /// image: deeper MNIST-sized networks than the fixture (issue 19).
    DeepMnist(&'static [usize]),
}

/// One benchmark case.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// Short name.
    pub name: &'static str,
    /// The network.
    pub source: Source,
    /// Seed of the weights and the centre.
    pub seed: u64,
    /// The domain.
    pub shape: Shape,
    /// Stop after this many regions (a prefix of the walk: for the time-per-region series).
    pub limit: Option<usize>,
}

const fn case(name: &'static str, widths: &'static [usize], seed: u64, shape: Shape) -> Case {
    Case { name, source: Source::Random(widths), seed, shape, limit: None }
}

const fn prefix(name: &'static str, limit: usize) -> Case {
    Case { name, source: Source::Random(&[4, 64, 64, 1]), seed: 18, shape: Shape::Box(0.5), limit: Some(limit) }
}

const fn mnist(name: &'static str, shape: Shape) -> Case {
    Case { name, source: Source::Mnist, seed: 0, shape, limit: None }
}

const fn deep_mnist(name: &'static str, widths: &'static [usize], seed: u64, shape: Shape) -> Case {
    Case { name, source: Source::DeepMnist(widths), seed, shape, limit: None }
}

/// 784-256×4-10 and 784-256×6-10.
const MNIST_256X4: &[usize] = &[784, 256, 256, 256, 256, 10];
const MNIST_256X6: &[usize] = &[784, 256, 256, 256, 256, 256, 256, 10];

/// Small cases (a few seconds in all): the criterion benches and a smoke run.
pub const QUICK: &[Case] = &[
    case("2-16-16 whole", &[2, 16, 16, 1], 0, Shape::Whole),
    case("4-16-16 box 0.25", &[4, 16, 16, 1], 3, Shape::Box(0.25)),
    case("4-16-16 L2 0.3", &[4, 16, 16, 1], 3, Shape::L2(0.3)),
    case("8-16-16 Linf 0.1", &[8, 16, 16, 1], 6, Shape::Linf(0.1)),
];

/// The full suite: dimensions 2, 4, 8, 16 and MNIST; widths 16–64; depths 2–6; boxes, L2 and
/// L-inf balls; 10² to 10⁵ regions. The `first N` cases are prefixes of one walk of 10⁵+
/// regions, to show that the time per region stays flat as the visited set grows.
pub const FULL: &[Case] = &[
    case("2-16-16 whole", &[2, 16, 16, 1], 0, Shape::Whole),
    case("2-32-32 whole", &[2, 32, 32, 1], 1, Shape::Whole),
    case("2-20x3 whole", &[2, 20, 20, 20, 1], 2, Shape::Whole),
    case("8-20 whole", &[8, 20, 1], 20, Shape::Whole),
    case("2-16x6 L2 1", &[2, 16, 16, 16, 16, 16, 16, 1], 8, Shape::L2(1.0)),
    case("2-64x4 box 0.8", &[2, 64, 64, 64, 64, 1], 9, Shape::Box(0.8)),
    case("4-16-16 box 0.5", &[4, 16, 16, 1], 4, Shape::Box(0.5)),
    case("4-32-32 box 0.5", &[4, 32, 32, 1], 10, Shape::Box(0.5)),
    case("4-32-32 L2 0.5", &[4, 32, 32, 1], 10, Shape::L2(0.5)),
    case("4-32-32 Linf 0.3", &[4, 32, 32, 1], 10, Shape::Linf(0.3)),
    case("4-16x6 L2 0.5", &[4, 16, 16, 16, 16, 16, 16, 1], 11, Shape::L2(0.5)),
    prefix("4-64-64 box 0.5, first 10^3", 1_000),
    prefix("4-64-64 box 0.5, first 10^4", 10_000),
    prefix("4-64-64 box 0.5, first 10^5", 100_000),
    case("8-16-16 box 0.1", &[8, 16, 16, 1], 6, Shape::Box(0.1)),
    case("8-32-32 box 0.1", &[8, 32, 32, 1], 12, Shape::Box(0.1)),
    case("8-64-64 L2 0.1", &[8, 64, 64, 1], 13, Shape::L2(0.1)),
    case("8-32x4 Linf 0.1", &[8, 32, 32, 32, 32, 1], 14, Shape::Linf(0.1)),
    case("16-32-32 L2 0.2", &[16, 32, 32, 1], 15, Shape::L2(0.2)),
    case("16-64-64 Linf 0.03", &[16, 64, 64, 1], 16, Shape::Linf(0.03)),
    case("16-32-32 box 0.05", &[16, 32, 32, 1], 17, Shape::Box(0.05)),
    mnist("MNIST 784-256-256 L2 0.05", Shape::L2(0.05)),
    mnist("MNIST 784-256-256 Linf 0.004", Shape::Linf(0.004)),
    mnist("MNIST 784-256-256 L2 0.1", Shape::L2(0.1)),
    mnist("MNIST 784-256-256 L2 0.15", Shape::L2(0.15)),
    mnist("MNIST 784-256-256 Linf 0.008", Shape::Linf(0.008)),
    case("32-64-64 L2 0.05", &[32, 64, 64, 1], 21, Shape::L2(0.05)),
    case("32-64-64 Linf 0.01", &[32, 64, 64, 1], 21, Shape::Linf(0.01)),
    case("64-64-64 L2 0.05", &[64, 64, 64, 1], 22, Shape::L2(0.05)),
    case("64-64-64 Linf 0.005", &[64, 64, 64, 1], 22, Shape::Linf(0.005)),
    deep_mnist("784-256x4 L2 0.01", MNIST_256X4, 40, Shape::L2(0.01)),
    deep_mnist("784-256x4 Linf 0.0005", MNIST_256X4, 40, Shape::Linf(0.0005)),
    deep_mnist("784-256x6 L2 0.012", MNIST_256X6, 40, Shape::L2(0.012)),
    deep_mnist("784-256x6 Linf 0.0005", MNIST_256X6, 40, Shape::Linf(0.0005)),
];

/// What one case measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Record {
    /// Case name.
    pub name: String,
    /// Input dimension.
    pub dim: usize,
    /// Hidden neurons.
    pub neurons: usize,
    /// Threads used.
    pub threads: usize,
    /// Regions counted (a prefix of the walk when the case has a limit).
    pub regions: usize,
    /// Whether the walk finished (false for prefix cases).
    pub complete: bool,
    /// Walk time (s).
    pub seconds: f64,
    /// Regions per second.
    pub regions_per_second: f64,
    /// LP solves per region (all of them, warm re-solves included).
    pub lps_per_region: f64,
    /// Of which warm re-solves, per region.
    pub warm_per_region: f64,
    /// QP solves per region.
    pub qps_per_region: f64,
    /// Questions put to the dual least-norm solver, per region.
    pub dual_per_region: f64,
    /// Solver calls of any kind (LP, QP, dual) per region.
    pub solver_calls_per_region: f64,
    /// Facets refuted by a neighbour's multipliers without a solve, per region.
    pub reused_per_region: f64,
    /// Candidate hyperplanes screened without an LP, per region.
    pub screened_per_region: f64,
    /// Facet tests skipped because the neighbour was known, per region.
    pub known_per_region: f64,
    /// Peak resident memory of the process during the case (MiB), where the OS reports it.
    pub peak_mib: Option<f64>,
    /// The walk's own estimate of its memory per region (bytes).
    pub bytes_per_region: u64,
}

/// The network and domain of a case. `root` is the repository (for the MNIST fixture).
pub fn problem(case: &Case, root: &Path) -> Result<(Network, Domain)> {
    use rand::{Rng, SeedableRng};
    let (net, centre) = match case.source {
        Source::Random(widths) => {
            let net = Network::pytorch_default(widths, case.seed)?;
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(case.seed ^ 0xce17e);
            let centre: Vec<f64> = (0..widths[0]).map(|_| rng.gen_range(-0.5..0.5)).collect();
            (net, centre)
        }
        Source::Mnist => {
            let net = load_network(&root.join("fixtures/mnist_fc/onnx/mnist-net_256x2.onnx"))?;
            (net, first_mnist_image(root)?)
        }
        Source::DeepMnist(widths) => (Network::pytorch_default(widths, case.seed)?, first_mnist_image(root)?),
    };
    let n = centre.len();
    let domain = match case.shape {
        Shape::Whole => Domain::whole(n),
        Shape::Box(h) => Domain::boxed(
            &centre.iter().map(|c| c - h).collect::<Vec<_>>(),
            &centre.iter().map(|c| c + h).collect::<Vec<_>>(),
        )?,
        Shape::L2(r) => Domain::ball(&centre, r, Norm::L2)?,
        Shape::Linf(r) => Domain::ball(&centre, r, Norm::Linf)?,
    };
    Ok((net, domain))
}

/// The first ERAN MNIST test image, scaled to [0, 1].
fn first_mnist_image(root: &Path) -> Result<Vec<f64>> {
    let images = root.join("fixtures/datasets/eran_mnist_test_first100.csv");
    let (points, _) = load_points(&images, Some(LabelColumn::First))?;
    let first = points.into_iter().next().ok_or_else(|| Error::point("no MNIST image"))?;
    Ok(first.iter().map(|v| v / 255.0).collect())
}

/// Runs one case with `threads` threads (a dedicated rayon pool) and the exact method `engine`.
pub fn run(case: &Case, root: &Path, threads: usize, engine: Engine) -> Result<Record> {
    let (net, domain) = problem(case, root)?;
    reset_peak_memory();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Settings(format!("cannot start {threads} threads: {e}")))?;
    // As `regionwalk count` runs: the count only, no region list.
    let options = WalkOptions { max_regions: case.limit, engine, count_only: true, ..Default::default() };
    let result = pool.install(|| count(&net, &domain, &options))?;
    let seconds = result.seconds;
    let regions = result.count();
    let per = |v: u64| v as f64 / regions.max(1) as f64;
    Ok(Record {
        name: case.name.to_string(),
        dim: net.input_dim(),
        neurons: net.neurons(),
        threads,
        regions,
        complete: result.complete(),
        seconds,
        regions_per_second: regions as f64 / seconds,
        lps_per_region: per(result.counters.lp_solves),
        warm_per_region: per(result.counters.warm_solves),
        qps_per_region: per(result.counters.qp_solves),
        dual_per_region: per(result.counters.dual_solves),
        solver_calls_per_region: per(result.counters.lp_solves
            + result.counters.qp_solves
            + result.counters.dual_solves),
        reused_per_region: per(result.counters.reused_refutations),
        screened_per_region: per(result.screened),
        known_per_region: per(result.known_neighbours),
        peak_mib: peak_memory_mib(),
        bytes_per_region: memory_per_region(&net, &options),
    })
}

/// Resets the kernel's peak-RSS mark of this process (Linux; ignored elsewhere).
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory since the last reset (Linux `VmHWM`), in MiB.
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
