//! The region adjacency graph of a walk: one node per activation region meeting the domain, one edge
//! per facet shared inside the domain, built with `petgraph` and exported for Graphviz (DOT),
//! NetworkX/yEd (GraphML) and scripts (JSON).

use crate::exact::merge::{linear_regions, output_maps};
use crate::exact::walk::WalkResult;
use crate::model::Network;
use petgraph::graph::{Graph, NodeIndex};
use petgraph::Undirected;
use rustc_hash::FxHashMap;
use serde_json::{json, Value};

/// A node: one activation region.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RegionNode {
    /// Activation pattern per hidden layer.
    pub pattern: Vec<Vec<u8>>,
    /// A point strictly inside region ∩ domain.
    pub witness: Vec<f64>,
    /// Radius of a ball around the witness inside region ∩ domain.
    pub inradius: f64,
    /// Identifier of the region's output affine map (equal maps to 8 significant digits share it).
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
    let mut ids: FxHashMap<Vec<i64>, usize> = FxHashMap::default();
    let widths = net.hidden_widths();
    let mut g = RegionGraph::with_capacity(walk.regions.len(), walk.edges.len());
    for (i, r) in walk.regions.iter().enumerate() {
        let (j, c) = &maps[i];
        let norm = j.iter().chain(c.iter()).fold(0.0_f64, |m, v| m.max(v.abs())).max(f64::MIN_POSITIVE);
        let key: Vec<i64> = j.iter().chain(c.iter()).map(|v| (v / norm * 1e8).round() as i64).collect();
        let next = ids.len();
        let map_id = *ids.entry(key).or_insert(next);
        g.add_node(RegionNode {
            pattern: r.pattern.by_layer(&widths),
            witness: r.witness.clone().unwrap_or_default(),
            inradius: r.inradius.unwrap_or(0.0),
            map_id,
            linear_region: linear[i],
        });
    }
    for e in &walk.edges {
        let flipped = e
            .flipped
            .iter()
            .map(|&k| {
                let (l, j) = net.neuron_position(k);
                (l + 1, j)
            })
            .collect();
        g.add_edge(NodeIndex::new(e.a), NodeIndex::new(e.b), FacetEdge { flipped });
    }
    g
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
