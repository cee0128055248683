//! What the walk counted, made visible: exact 2-D slices drawn as pictures, and the region adjacency
//! graph (Graphviz, GraphML, JSON).

pub mod graph;
pub mod render;
pub mod slice;
