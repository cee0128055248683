//! Linear regions of the function (theory §2.2, §6.4): facet-adjacent activation regions inside the
//! domain whose output maps `(J, c)` are equal are merged; the count is the number of connected
//! components. Needs a walk run with [`WalkOptions::edges`](super::WalkOptions).

use super::WalkResult;
use crate::model::{Network, Pattern};
use crate::tolerance::MAP_EQUAL;
use crate::Result;
use ndarray::{Array1, Array2};
use petgraph::unionfind::UnionFind;
use rand::{Rng, SeedableRng};
use std::collections::VecDeque;

/// The output map of every region (all held at once: a reference for tests; [`linear_regions`]
/// computes them as it goes).
pub fn output_maps(net: &Network, walk: &WalkResult) -> Vec<Map> {
    walk.regions.iter().map(|r| output_map(net, &r.pattern)).collect()
}

/// Whether two output maps are equal up to [`MAP_EQUAL`].
pub fn same_map(a: &Map, b: &Map) -> bool {
    let norm = |m: &Map| m.0.iter().chain(m.1.iter()).map(|v| v * v).sum::<f64>().sqrt();
    let diff = (&a.0 - &b.0).iter().chain((&a.1 - &b.1).iter()).map(|v| v * v).sum::<f64>().sqrt();
    diff <= MAP_EQUAL * (norm(a) + norm(b)) + f64::MIN_POSITIVE
}

/// For every region, the index of its linear region (components numbered from 0), and the count.
pub fn linear_regions(net: &Network, walk: &WalkResult) -> (Vec<usize>, usize) {
    let map = |i: usize| Ok(output_map(net, &walk.regions[i].pattern));
    let adjacent = walk.edges.iter().map(|e| Ok((e.a, e.b)));
    // Neither the maps nor the adjacencies come from a file here: nothing can fail.
    let (_, linear) = labels(walk.regions.len(), map, adjacent).expect("maps computed in memory do not fail");
    let count = linear.iter().max().map_or(0, |&c| c + 1);
    (linear, count)
}

/// A region's output map `(J, c)`.
pub type Map = (Array2<f64>, Array1<f64>);

/// The output map of the region of `pattern`.
pub fn output_map(net: &Network, pattern: &Pattern) -> Map {
    let (jacobian, offset, _) = net.output_map(pattern);
    (jacobian, offset)
}

/// Each region's map id and linear region, for `n` regions whose output maps `map` gives (asked
/// for about twice per region, and again for the two ends of an adjacency whose map ids are
/// equal, so that a streamed graph need not hold them) and whose facet adjacencies are
/// `adjacent`. A linear region is a component of the adjacencies between equal maps (theory
/// §2.2); two maps of different ids are never equal, so only adjacencies within one map id are
/// compared.
pub fn labels(
    n: usize,
    mut map: impl FnMut(usize) -> Result<Map>,
    adjacent: impl Iterator<Item = Result<(usize, usize)>>,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let ids = map_ids(n, &mut map)?;
    let mut sets = UnionFind::<usize>::new(n);
    for pair in adjacent {
        let (a, b) = pair?;
        if ids[a] == ids[b] && same_map(&map(a)?, &map(b)?) {
            sets.union(a, b);
        }
    }
    Ok((ids, numbered(sets)))
}

/// Map ids numbered by first appearance: the connected components of [`same_map`] over all pairs
/// of regions. Only pairs that could be equal are compared: with `p` a fixed unit projection of
/// the maps, `|p(a) − p(b)| ≤ ‖a − b‖`, which `same_map` bounds by `MAP_EQUAL·(‖a‖ + ‖b‖)`, so
/// after sorting by `p` each map is compared with the maps within that distance before it (held
/// in a window as the sorted order passes).
fn map_ids(n: usize, map: &mut impl FnMut(usize) -> Result<Map>) -> Result<Vec<usize>> {
    let entries = |m: &Map| m.0.iter().chain(m.1.iter()).copied().collect::<Vec<f64>>();
    let mut weights: Option<Vec<f64>> = None;
    let mut projection = Vec::with_capacity(n);
    let mut largest = 0.0_f64;
    for i in 0..n {
        let flat = entries(&map(i)?);
        let w = weights.get_or_insert_with(|| unit_projection(flat.len()));
        projection.push(flat.iter().zip(w.iter()).map(|(x, w)| x * w).sum::<f64>());
        largest = largest.max(flat.iter().map(|x| x * x).sum::<f64>().sqrt());
    }
    // Twice the bound, for the rounding of the projections themselves.
    let reach = 2.0 * (crate::tolerance::MAP_EQUAL * 2.0 * largest + f64::MIN_POSITIVE)
        + crate::tolerance::PROJECTION * largest;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| projection[a].total_cmp(&projection[b]));
    let mut sets = UnionFind::<usize>::new(n);
    let mut window: VecDeque<(usize, Map)> = VecDeque::new();
    for &i in &order {
        while window.front().is_some_and(|(j, _)| projection[i] - projection[*j] > reach) {
            window.pop_front();
        }
        let m = map(i)?;
        for (j, other) in &window {
            if same_map(&m, other) {
                sets.union(i, *j);
            }
        }
        window.push_back((i, m));
    }
    Ok(numbered(sets))
}

/// A fixed random unit vector of `dim` entries.
fn unit_projection(dim: usize) -> Vec<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x6d61_7073);
    let mut weights: Vec<f64> = (0..dim).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let length = weights.iter().map(|w| w * w).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
    weights.iter_mut().for_each(|w| *w /= length);
    weights
}

/// Each element's component, numbered by first appearance.
fn numbered(sets: UnionFind<usize>) -> Vec<usize> {
    let n = sets.len();
    let mut numbers = vec![usize::MAX; n];
    let mut next = 0;
    (0..n)
        .map(|i| {
            let root = sets.find(i);
            if numbers[root] == usize::MAX {
                (numbers[root], next) = (next, next + 1);
            }
            numbers[root]
        })
        .collect()
}
