//! The region adjacency graph of a walk: one node per activation region meeting the domain, one edge
//! per facet shared inside the domain, built with `petgraph` and exported for Graphviz (DOT),
//! NetworkX/yEd (GraphML) and scripts (JSON).

use crate::exact::merge::{linear_regions, output_maps, same_map};
use crate::exact::WalkResult;
use crate::model::Network;
use ndarray::{Array1, Array2};
use petgraph::graph::{Graph, NodeIndex};
use petgraph::unionfind::UnionFind;
use petgraph::Undirected;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// A node: one activation region.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RegionNode {
    /// Activation pattern per hidden layer (the model's own ReLUs).
    pub pattern: Vec<Vec<u8>>,
    /// A point strictly inside region ∩ domain.
    pub witness: Vec<f64>,
    /// Radius of a ball around the witness inside region ∩ domain.
    pub inradius: f64,
    /// Identifier of the region's output affine map: regions whose maps are equal by the rule that
    /// merges linear regions ([`same_map`]) share it, adjacent or not.
    pub map_id: usize,
    /// The linear region of the function this region belongs to (theory §2.2).
    pub linear_region: usize,
}

/// An edge: a shared facet inside the domain.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FacetEdge {
    /// Neurons that flip across the facet, as `(layer, neuron)`, 1-based layers.
    pub flipped: Vec<(usize, usize)>,
}

/// The graph type.
pub type RegionGraph = Graph<RegionNode, FacetEdge, Undirected>;

/// Builds the graph of a walk run with edges recorded.
pub fn region_graph(net: &Network, walk: &WalkResult) -> RegionGraph {
    let maps = output_maps(net, walk);
    let (linear, _) = linear_regions(net, walk);
    let ids = map_ids(&maps);
    // Patterns and flips of the model's own ReLUs (a graph's carrying units left out).
    let units = net.graph_units();
    let mut g = RegionGraph::with_capacity(walk.regions.len(), walk.edges.len());
    for (i, r) in walk.regions.iter().enumerate() {
        let map_id = ids[i];
        g.add_node(RegionNode {
            pattern: units.pattern(&r.pattern).by_layer(units.widths()),
            witness: r.witness.clone().unwrap_or_default(),
            inradius: r.inradius.unwrap_or(0.0),
            map_id,
            linear_region: linear[i],
        });
    }
    for e in &walk.edges {
        let flipped = e.flipped.iter().filter_map(|&k| units.position(k)).map(|(l, j)| (l + 1, j)).collect();
        g.add_edge(NodeIndex::new(e.a), NodeIndex::new(e.b), FacetEdge { flipped });
    }
    g
}

/// Map ids numbered by first appearance: the connected components of [`same_map`] over all pairs
/// of regions. Only pairs that could be equal are compared: with `p` a fixed unit projection of
/// the maps, `|p(a) − p(b)| ≤ ‖a − b‖`, which `same_map` bounds by `MAP_EQUAL·(‖a‖ + ‖b‖)`, so
/// after sorting by `p` each map is compared with the maps within that distance before it.
fn map_ids(maps: &[(Array2<f64>, Array1<f64>)]) -> Vec<usize> {
    let entries = |m: &(Array2<f64>, Array1<f64>)| m.0.iter().chain(m.1.iter()).copied().collect::<Vec<f64>>();
    let flat: Vec<Vec<f64>> = maps.iter().map(entries).collect();
    let dim = flat.first().map_or(0, Vec::len);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x6d61_7073);
    let mut weights: Vec<f64> = (0..dim).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let length = weights.iter().map(|w| w * w).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
    weights.iter_mut().for_each(|w| *w /= length);
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let projection: Vec<f64> = flat.iter().map(|v| v.iter().zip(&weights).map(|(x, w)| x * w).sum()).collect();
    let largest = flat.iter().map(|v| norm(v)).fold(0.0_f64, f64::max);
    // Twice the bound, for the rounding of the projections themselves.
    let reach = 2.0 * (crate::tolerance::MAP_EQUAL * 2.0 * largest + f64::MIN_POSITIVE)
        + crate::tolerance::PROJECTION * largest;
    let mut order: Vec<usize> = (0..maps.len()).collect();
    order.sort_by(|&a, &b| projection[a].total_cmp(&projection[b]));
    let mut sets = UnionFind::<usize>::new(maps.len());
    for (position, &i) in order.iter().enumerate() {
        for &j in order[..position].iter().rev().take_while(|&&j| projection[i] - projection[j] <= reach) {
            if same_map(&maps[i], &maps[j]) {
                sets.union(i, j);
            }
        }
    }
    let mut numbers = vec![usize::MAX; maps.len()];
    let mut next = 0;
    (0..maps.len())
        .map(|i| {
            let root = sets.find(i);
            if numbers[root] == usize::MAX {
                (numbers[root], next) = (next, next + 1);
            }
            numbers[root]
        })
        .collect()
}

fn pattern_string(p: &[Vec<u8>]) -> String {
    p.iter()
        .map(|l| l.iter().map(|b| if *b == 1 { '1' } else { '0' }).collect::<String>())
        .collect::<Vec<_>>()
        .join("|")
}

/// Graphviz DOT.
pub fn to_dot(g: &RegionGraph) -> String {
    use petgraph::dot::{Config, Dot};
    let dot = Dot::with_attr_getters(
        g,
        &[Config::EdgeNoLabel, Config::NodeNoLabel],
        &|_, e| {
            format!(
                "label=\"{}\"",
                e.weight().flipped.iter().map(|(l, j)| format!("L{l}:{j}")).collect::<Vec<_>>().join(",")
            )
        },
        &|_, (_, n)| {
            format!("label=\"{}\" map={} linear_region={}", pattern_string(&n.pattern), n.map_id, n.linear_region)
        },
    );
    format!("{dot:?}")
}

/// GraphML with node and edge attributes.
pub fn to_graphml(g: &RegionGraph) -> String {
    use petgraph_graphml::GraphMl;
    GraphMl::new(g)
        .pretty_print(true)
        .export_node_weights(Box::new(|n| {
            vec![
                ("pattern".into(), pattern_string(&n.pattern).into()),
                ("witness".into(), format!("{:?}", n.witness).into()),
                ("inradius".into(), n.inradius.to_string().into()),
                ("map_id".into(), n.map_id.to_string().into()),
                ("linear_region".into(), n.linear_region.to_string().into()),
            ]
        }))
        .export_edge_weights(Box::new(|e| {
            vec![(
                "flipped".into(),
                e.flipped.iter().map(|(l, j)| format!("L{l}:{j}")).collect::<Vec<_>>().join(",").into(),
            )]
        }))
        .to_string()
}

/// `{"nodes": [...], "edges": [...]}` with one node per counted region.
pub fn to_json(g: &RegionGraph) -> Value {
    json!({
        "nodes": g.node_indices().map(|i| json!({"id": i.index(), "region": g[i]})).collect::<Vec<_>>(),
        "edges": g.edge_indices().map(|e| {
            let (a, b) = g.edge_endpoints(e).unwrap();
            json!({"source": a.index(), "target": b.index(), "flipped": g[e].flipped})
        }).collect::<Vec<_>>(),
    })
}
