//! Exact counting: the region walk (the product), linear-region merging, the
//! layer-wise splitter and dense sampling (independent references that tests compare the walk with).

pub mod certify;
pub mod checkpoint;
pub mod dataflow;
mod expand;
pub mod geometry;
pub mod merge;
pub mod partition;
mod reduce;
pub mod sample;
pub mod split;
pub mod vertices;
pub mod walk;
