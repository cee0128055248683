//! The region adjacency graph of a walk: one node per activation region meeting the domain, one edge
//! per facet shared inside the domain, built with `petgraph` and exported for Graphviz (DOT),
//! NetworkX/yEd (GraphML) and scripts (JSON), or streamed to disk as the walk finds it and written
//! as JSON Lines ([`GraphSpool`]).

use crate::exact::merge::{labels, output_map};
use crate::exact::{Edge, EdgeSink, Region, RegionSink, WalkResult};
use crate::model::{GraphUnits, Network};
use crate::{Error, Result};
use petgraph::graph::{Graph, NodeIndex};
use petgraph::Undirected;
use serde_json::{json, Value};
use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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
    /// merges linear regions ([`same_map`](crate::exact::merge::same_map)) share it, adjacent or not.
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
pub fn region_graph(net: &Network, walk: &WalkResult) -> Result<RegionGraph> {
    let map = |i: usize| Ok(output_map(net, &walk.regions[i].pattern));
    let adjacent = walk.edges.iter().map(|e| Ok((e.a, e.b)));
    let (ids, linear) = labels(walk.regions.len(), map, adjacent)?;
    // Patterns and flips of the model's own ReLUs (a graph's carrying units left out).
    let units = net.graph_units();
    let mut g = RegionGraph::with_capacity(walk.regions.len(), walk.edges.len());
    for (i, r) in walk.regions.iter().enumerate() {
        g.add_node(node(units, r, ids[i], linear[i]));
    }
    for e in &walk.edges {
        g.add_edge(NodeIndex::new(e.a), NodeIndex::new(e.b), FacetEdge { flipped: flips(units, &e.flipped) });
    }
    Ok(g)
}

fn node(units: &GraphUnits, r: &Region, map_id: usize, linear_region: usize) -> RegionNode {
    RegionNode {
        pattern: units.pattern(&r.pattern).by_layer(units.widths()),
        witness: r.witness.clone().unwrap_or_default(),
        inradius: r.inradius.unwrap_or(0.0),
        map_id,
        linear_region,
    }
}

/// Flipped neurons as `(layer, neuron)` of the model's own ReLUs, 1-based layers.
fn flips(units: &GraphUnits, flipped: &[usize]) -> Vec<(usize, usize)> {
    flipped.iter().filter_map(|&k| units.position(k)).map(|(l, j)| (l + 1, j)).collect()
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

/// A region graph spooled to disk while a walk finds it, then written as JSON Lines
/// (`graph --format jsonl`): the lines of [`to_json`]'s `nodes` (`{"id", "region"}`, in id order)
/// then of its `edges` (`{"source", "target", "flipped"}`), one per line, the same values. The
/// walk hands regions and adjacencies to [`GraphSpool::sinks`] and keeps neither; writing reads
/// them back, so that memory holds ~60 bytes per region (numbers, offsets, projections, labels)
/// instead of every region, edge and output map. `regionwalk.read_graph` reads the file in Python.
pub struct GraphSpool {
    nodes: Arc<Mutex<Spool>>,
    edges: Arc<Mutex<Spool>>,
    /// Holds the spool files; removed when the spool is dropped.
    _dir: tempfile::TempDir,
}

/// One spool file: bincode records, read back in order (edges) or by offset (nodes).
struct Spool {
    path: PathBuf,
    file: BufWriter<File>,
    bytes: u64,
    written: usize,
    /// (region number, offset) of each node record (none for edges).
    records: Vec<(usize, u64)>,
}

impl Spool {
    fn create(path: PathBuf) -> Result<Self> {
        let file = File::create(&path).map_err(|e| Error::output(&path, e))?;
        Ok(Spool { path, file: BufWriter::new(file), bytes: 0, written: 0, records: Vec::new() })
    }

    /// Appends `record`, with its region number when it is a node's.
    fn append(&mut self, number: Option<usize>, record: &impl serde::Serialize) -> Result<()> {
        let data = bincode::serialize(record).map_err(|e| Error::Internal(format!("a graph record: {e}")))?;
        self.file.write_all(&data).map_err(|e| Error::output(&self.path, e))?;
        if let Some(number) = number {
            self.records.push((number, self.bytes));
        }
        self.bytes += data.len() as u64;
        self.written += 1;
        Ok(())
    }

    /// Flushes the file and opens it for reading.
    fn reader(&mut self) -> Result<BufReader<File>> {
        self.file.flush().map_err(|e| Error::output(&self.path, e))?;
        File::open(&self.path).map(BufReader::new).map_err(|e| Error::output(&self.path, e))
    }
}

fn locked(spool: &Mutex<Spool>) -> Result<std::sync::MutexGuard<'_, Spool>> {
    spool.lock().map_err(|_| Error::Internal("a graph spool's lock was poisoned".into()))
}

fn read_record<T: serde::de::DeserializeOwned>(file: &mut BufReader<File>, at: u64, path: &Path) -> Result<T> {
    file.seek(SeekFrom::Start(at)).map_err(|e| Error::output(path, e))?;
    bincode::deserialize_from(file).map_err(|e| Error::Internal(format!("cannot read back {}: {e}", path.display())))
}

impl GraphSpool {
    /// Spool files in a new directory under the system's temporary directory.
    pub fn new() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("regionwalk-graph")
            .tempdir()
            .map_err(|e| Error::output(std::env::temp_dir(), e))?;
        Ok(GraphSpool {
            nodes: Arc::new(Mutex::new(Spool::create(dir.path().join("nodes"))?)),
            edges: Arc::new(Mutex::new(Spool::create(dir.path().join("edges"))?)),
            _dir: dir,
        })
    }

    /// The walk's region and adjacency sinks ([`crate::exact::WalkOptions::sink`] and
    /// [`crate::exact::WalkOptions::edge_sink`]).
    pub fn sinks(&self) -> (RegionSink, EdgeSink) {
        let nodes = self.nodes.clone();
        let edges = self.edges.clone();
        (
            RegionSink(Arc::new(move |number, region| locked(&nodes)?.append(Some(number), region))),
            EdgeSink(Arc::new(move |edge| locked(&edges)?.append(None, edge))),
        )
    }

    /// Writes the graph to `out` as JSON Lines; returns the numbers of nodes and edges written.
    /// Adjacencies to a region that never came (its witness failed) are left out, and regions are
    /// numbered from 0 in the order found, as in [`region_graph`].
    pub fn write_jsonl(self, net: &Network, out: &Path) -> Result<(usize, usize)> {
        let (mut nodes, mut edges) = (locked(&self.nodes)?, locked(&self.edges)?);
        let mut node_file = nodes.reader()?;
        let (node_path, edge_path) = (nodes.path.clone(), edges.path.clone());
        let mut found = std::mem::take(&mut nodes.records);
        found.sort_unstable();
        let id = |number: usize| found.binary_search_by_key(&number, |&(n, _)| n).ok();
        let mut region = |i: usize| read_record::<Region>(&mut node_file, found[i].1, &node_path);
        // Adjacencies are read in the order written, once per pass, without seeking; those to a
        // region that never came are skipped.
        let written = edges.written;
        let adjacencies = |mut file: BufReader<File>| {
            let (id, edge_path) = (&id, &edge_path);
            (0..written).filter_map(move |_| match bincode::deserialize_from::<_, Edge>(&mut file) {
                Ok(e) => Some(Ok((id(e.a)?, id(e.b)?, e.flipped))),
                Err(e) => Some(Err(Error::Internal(format!("cannot read back {}: {e}", edge_path.display())))),
            })
        };
        let (ids, linear) = {
            let pairs = adjacencies(edges.reader()?).map(|e| e.map(|(a, b, _)| (a, b)));
            labels(found.len(), |i| Ok(output_map(net, &region(i)?.pattern)), pairs)?
        };
        let file = File::create(out).map_err(|e| Error::output(out, e))?;
        let mut lines = BufWriter::new(file);
        let units = net.graph_units();
        let mut line = |value: Value| -> Result<()> {
            serde_json::to_writer(&mut lines, &value).map_err(|e| Error::output(out, e.into()))?;
            lines.write_all(b"\n").map_err(|e| Error::output(out, e))
        };
        for i in 0..found.len() {
            line(json!({"id": i, "region": node(units, &region(i)?, ids[i], linear[i])}))?;
        }
        let mut kept = 0;
        for e in adjacencies(edges.reader()?) {
            let (a, b, flipped) = e?;
            line(json!({"source": a, "target": b, "flipped": flips(units, &flipped)}))?;
            kept += 1;
        }
        lines.flush().map_err(|e| Error::output(out, e))?;
        Ok((found.len(), kept))
    }
}
