//! What the walk counted, made visible: the region adjacency graph (Graphviz, GraphML, JSON).

pub mod graph;
