//! Linear regions of the function (theory §2.2, §6.4): facet-adjacent activation regions inside the
//! domain whose output maps `(J, c)` are equal are merged; the count is the number of connected
//! components. Needs a walk run with [`WalkOptions::edges`](super::WalkOptions).

use super::WalkResult;
use crate::model::Network;
use crate::tolerance::MAP_EQUAL;
use ndarray::{Array1, Array2};
use petgraph::unionfind::UnionFind;

/// The output map of every region.
pub fn output_maps(net: &Network, walk: &WalkResult) -> Vec<(Array2<f64>, Array1<f64>)> {
    walk.regions
        .iter()
        .map(|r| {
            let (jacobian, offset, _) = net.output_map(&r.pattern);
            (jacobian, offset)
        })
        .collect()
}

/// Whether two output maps are equal up to [`MAP_EQUAL`].
pub fn same_map(a: &(Array2<f64>, Array1<f64>), b: &(Array2<f64>, Array1<f64>)) -> bool {
    let norm = |m: &(Array2<f64>, Array1<f64>)| m.0.iter().chain(m.1.iter()).map(|v| v * v).sum::<f64>().sqrt();
    let diff = (&a.0 - &b.0).iter().chain((&a.1 - &b.1).iter()).map(|v| v * v).sum::<f64>().sqrt();
    diff <= MAP_EQUAL * (norm(a) + norm(b)) + f64::MIN_POSITIVE
}

/// For every region, the index of its linear region (components numbered from 0), and the count.
pub fn linear_regions(net: &Network, walk: &WalkResult) -> (Vec<usize>, usize) {
    let maps = output_maps(net, walk);
    let mut sets = UnionFind::<usize>::new(walk.regions.len());
    for e in &walk.edges {
        if same_map(&maps[e.a], &maps[e.b]) {
            sets.union(e.a, e.b);
        }
    }
    let labels = sets.into_labeling();
    let mut ids = vec![usize::MAX; labels.len()];
    let mut next = 0;
    let component = labels
        .iter()
        .map(|&root| {
            if ids[root] == usize::MAX {
                ids[root] = next;
                next += 1;
            }
            ids[root]
        })
        .collect();
    (component, next)
}
