//! regionwalk: count exactly, and bound soundly, the activation regions of a ReLU network that meet
//! a ball (or a box) around an input.
//!
//! Data flows one way: [`model`] (the network, its patterns and per-pattern affine maps) →
//! [`domain`] (ball, box or whole space, in a normalised frame) → [`analysis`] (intervals, stable
//! neurons) → [`lp`] (the solver layer) → [`exact`] (the count: region walk or box partition) and
//! [`bound`] (the sound upper bounds) → [`problem`], which builds the [`report`]s. [`cluster`] runs
//! the walk on timely dataflow. The mathematics is specified in `docs/theory.md`.
//!
//! ```
//! use regionwalk::{model::Network, domain::{Domain, Norm}, exact::{count, WalkOptions}};
//! // Two inputs, one hidden layer with the lines x1 = 0, x2 = 0 and x1 + x2 = 1 (theory fixture A).
//! let net = Network::from_rows(&[
//!     (vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![1.0, 1.0]], vec![0.0, 0.0, -1.0]),
//!     (vec![vec![1.0, 1.0, 1.0]], vec![0.0]),
//! ]).unwrap();
//! let ball = Domain::ball(&[0.0, 0.0], 1.0, Norm::L2).unwrap();
//! let result = count(&net, &ball, &WalkOptions::default()).unwrap();
//! assert_eq!(result.regions.len(), 5); // fixture F2b: the vertices on the sphere do not count
//! ```
#![deny(missing_docs)]

pub mod analysis;
pub mod audit;
pub mod bench;
pub mod bound;
pub mod cluster;
pub mod domain;
pub mod error;
pub mod estimate;
pub mod exact;
pub mod lp;
pub mod model;
pub mod plot;
pub mod problem;
pub mod report;
pub mod tolerance;
pub mod vector;

pub use error::{Error, Result};
