//! Dense sampling: the distinct patterns of random points that lie strictly inside their region.
//! Each such point certifies its region (theory §5, lower bounds), so the number of patterns is a
//! certified lower bound on the exact count, and every sampled pattern must be one the walk found.

use crate::domain::Domain;
use crate::model::{Network, Pattern};
use ndarray::Array2;
use rand::SeedableRng;
use rustc_hash::FxHashSet;

/// Patterns of `samples` seeded random points of the domain (points on a boundary are skipped).
pub fn sample_patterns(net: &Network, domain: &Domain, samples: usize, seed: u64) -> FxHashSet<Pattern> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut found = FxHashSet::default();
    let n0 = domain.dim();
    // Batches keep the matrix products large and the memory small.
    let mut left = samples;
    while left > 0 {
        let batch = left.min(BATCH);
        left -= batch;
        let mut points = Vec::with_capacity(batch * n0);
        for _ in 0..batch {
            let Some(y) = domain.sample_frame(&mut rng) else { break };
            points.extend(domain.from_frame(&y));
        }
        let rows = points.len() / n0.max(1);
        let points = Array2::from_shape_vec((rows, n0), points).expect("rows of n0 coordinates");
        found.extend(net.interior_patterns(&points).into_iter().flatten());
        if rows < batch {
            break; // the domain could not be sampled
        }
    }
    found
}

/// Points per batch of [`sample_patterns`].
const BATCH: usize = 512;
