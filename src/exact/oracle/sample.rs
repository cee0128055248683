//! Dense sampling: the distinct patterns of random points that lie strictly inside their region.
//! Each such point certifies its region (theory §5, lower bounds), so the number of patterns is a
//! certified lower bound on the exact count, and every sampled pattern must be one the walk found.

use crate::domain::Domain;
use crate::model::{Network, Pattern};
use ndarray::Array2;
use rand::SeedableRng;
use rayon::prelude::*;
use rustc_hash::FxHashSet;
use std::time::Instant;

/// The distinct interior patterns of seeded random points, and how many points were classified.
#[derive(Clone, Debug, Default)]
pub struct Sampled {
    /// Patterns of the points strictly inside their region.
    pub patterns: FxHashSet<Pattern>,
    /// Points drawn and classified (fewer than asked when the deadline cut the sampling short or
    /// the domain could not be sampled).
    pub points: usize,
}

/// Patterns of up to `samples` seeded random points of the domain (points on a boundary are
/// skipped). The points are drawn in order from one seeded generator and classified in parallel
/// batches, so the set does not depend on the thread count. With a `deadline`, sampling stops
/// between rounds of batches once it has passed (after at least one round): through a CNN of
/// tens of thousands of neurons, 2,000 points take seconds.
pub fn sample_patterns(
    net: &Network,
    domain: &Domain,
    samples: usize,
    seed: u64,
    deadline: Option<Instant>,
) -> Sampled {
    let (points, patterns) = interior_patterns_of_sample(net, domain, samples, seed, deadline);
    Sampled { patterns: patterns.into_iter().collect(), points }
}

/// The number of points drawn (as [`sample_patterns`] draws them), and the pattern of each point
/// strictly inside its region, in drawing order and with repeats: the sample itself, for a
/// measure of how the domain's regions are spread.
pub fn interior_patterns_of_sample(
    net: &Network,
    domain: &Domain,
    samples: usize,
    seed: u64,
    deadline: Option<Instant>,
) -> (usize, Vec<Pattern>) {
    let (drawn, sample) = interior_sample(net, domain, samples, seed, deadline, false);
    (drawn, sample.into_iter().map(|(_, p)| p).collect())
}

/// As [`interior_patterns_of_sample`], each pattern with its point in frame coordinates when
/// `frames` (else an empty vector: in 784 inputs 4,096 points hold 25 MB).
pub fn interior_sample(
    net: &Network,
    domain: &Domain,
    samples: usize,
    seed: u64,
    deadline: Option<Instant>,
    frames: bool,
) -> (usize, Vec<(Vec<f64>, Pattern)>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let n0 = domain.dim();
    // Batches keep the matrix products large and the memory small: a layer's pre-activations
    // for one batch hold at most BATCH_VALUES numbers (a CNN layer has tens of thousands of rows).
    let widest = net.hidden_widths().into_iter().max().unwrap_or(1);
    let batch_size = (BATCH_VALUES / widest).clamp(8, BATCH);
    let (mut drawn, mut patterns) = (0, Vec::new());
    let mut left = samples;
    let mut exhausted = false;
    while left > 0 && !exhausted {
        let mut round = Vec::new();
        while left > 0 && round.len() < rayon::current_num_threads() {
            let batch = left.min(batch_size);
            left -= batch;
            let mut points = Vec::with_capacity(batch * n0);
            let mut ys = Vec::new();
            for _ in 0..batch {
                let Some(y) = domain.sample_frame(&mut rng) else { break };
                points.extend(domain.from_frame(&y));
                if frames {
                    ys.push(y);
                }
            }
            let rows = points.len() / n0.max(1);
            ys.resize(rows, Vec::new());
            round.push((Array2::from_shape_vec((rows, n0), points).expect("rows of n0 coordinates"), ys));
            if rows < batch {
                exhausted = true; // the domain could not be sampled
                break;
            }
        }
        drawn += round.iter().map(|(points, _)| points.nrows()).sum::<usize>();
        let found: Vec<Vec<Option<Pattern>>> =
            round.par_iter().map(|(points, _)| net.interior_patterns(points)).collect();
        for ((_, ys), found) in round.into_iter().zip(found) {
            patterns.extend(ys.into_iter().zip(found).filter_map(|(y, p)| p.map(|p| (y, p))));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
    }
    (drawn, patterns)
}

/// Points per batch of [`sample_patterns`], at most.
const BATCH: usize = 512;
/// Pre-activations per layer and batch, at most (unless that leaves fewer than 8 points).
const BATCH_VALUES: usize = 1 << 18;
