//! Dense sampling: the distinct patterns of random points that lie strictly inside their region.
//! Each such point certifies its region (theory §5, lower bounds), so the number of patterns is a
//! certified lower bound on the exact count, and every sampled pattern must be one the walk found.

use crate::domain::Domain;
use crate::model::{Network, Pattern};
use rand::SeedableRng;
use rustc_hash::FxHashSet;

/// Patterns of `samples` seeded random points of the domain (points on a boundary are skipped).
pub fn sample_patterns(net: &Network, domain: &Domain, samples: usize, seed: u64) -> FxHashSet<Pattern> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut found = FxHashSet::default();
    for _ in 0..samples {
        let Some(y) = domain.sample_frame(&mut rng) else { break };
        if let Some(p) = net.interior_pattern(&domain.from_frame(&y)) {
            found.insert(p);
        }
    }
    found
}
