//! Typed errors of the library. Every message names the input and the problem, so that the CLI can
//! print it unchanged.

use std::path::PathBuf;

/// Result type of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A model file could not be read or parsed.
    #[error("{path}: {message}")]
    ModelFile {
        /// The file.
        path: PathBuf,
        /// Where in the file and what is wrong.
        message: String,
    },
    /// The network itself is malformed (dimensions, non-finite numbers).
    #[error("invalid network: {0}")]
    Network(String),
    /// A point (centre, box bound) is malformed or has the wrong dimension.
    #[error("invalid point: {0}")]
    Point(String),
    /// The domain is malformed (radius, box bounds).
    #[error("invalid domain: {0}")]
    Domain(String),
    /// A walk checkpoint could not be read, written, or does not fit the problem it is resumed on.
    #[error("checkpoint {0}")]
    Checkpoint(String),
    /// The processes of a dataflow walk could not agree or work together (another job on a
    /// peer, a failed worker).
    #[error("cluster: {0}")]
    Cluster(String),
    /// The LP solver failed in a way that leaves a decision open.
    #[error("LP solver failure: {0}")]
    Solver(String),
    /// A computation's time budget ran out inside a solver call (callers that have a budget
    /// report what they skipped).
    #[error("the time budget ran out")]
    TimeLimit,
    /// A self-check failed: a bug in regionwalk, never a problem with the input.
    #[error("internal error: {0}; please report this")]
    Internal(String),
}
