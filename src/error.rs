//! Typed errors of the library, one kind per layer: model I/O, domain, settings, solver,
//! checkpoint, cluster, output. Every message names the input and the problem (the file, op,
//! node, coordinate or option), so that the CLI can print it unchanged; errors caused by another
//! (an I/O error, a JSON decoding error) keep it as their [`std::error::Error::source`].

use std::path::PathBuf;

/// Result type of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A model, point or property file could not be read, or describes a malformed network or
    /// point.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The domain is malformed (radius, box bounds, clip box).
    #[error("invalid domain: {0}")]
    Domain(String),
    /// An option is out of range, or options do not fit together (audit radii and shards, an
    /// engine that does not apply, a plot plane, a thread count).
    #[error("invalid setting: {0}")]
    Settings(String),
    /// The LP solver failed in a way that leaves a decision open.
    #[error("LP solver failure: {0}")]
    Solver(String),
    /// A walk checkpoint could not be read, written, or does not fit the problem it is resumed on.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The processes of a dataflow walk could not agree or work together.
    #[error("cluster: {}{message}", worker.map(|w| format!("worker {w}: ")).unwrap_or_default())]
    Cluster {
        /// The worker it happened on, when one did.
        worker: Option<usize>,
        /// What happened.
        message: String,
    },
    /// A report, region list or picture could not be written.
    #[error("cannot write {}: {message}", path.display())]
    Output {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
        /// The I/O error behind it, if any.
        #[source]
        source: Option<std::io::Error>,
    },
    /// A computation's time budget ran out inside a solver call (callers that have a budget
    /// report what they skipped).
    #[error("the time budget ran out")]
    TimeLimit,
    /// A self-check failed: a bug in regionwalk, never a problem with the input.
    #[error("internal error: {0}; please report this")]
    Internal(String),
}

impl Error {
    /// A malformed network (dimensions, non-finite numbers).
    pub fn network(message: impl Into<String>) -> Self {
        Error::Model(ModelError::Network(message.into()))
    }

    /// A malformed point (centre, box bound, points file entry) or one of the wrong dimension.
    pub fn point(message: impl Into<String>) -> Self {
        Error::Model(ModelError::Point(message.into()))
    }

    /// A model file that cannot be read or parsed, `message` saying where and why.
    pub fn model_file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Model(ModelError::File { path: path.into(), message: message.into(), source: None })
    }

    /// `path` could not be written.
    pub fn output(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Output { path: path.into(), message: source.to_string(), source: Some(source) }
    }
}

/// Model I/O: files, and the networks and points they describe.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A file could not be read or parsed.
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Where in the file and what is wrong (the op and node of an ONNX graph, the line of a
        /// text format).
        message: String,
        /// The I/O error behind it, if any.
        #[source]
        source: Option<std::io::Error>,
    },
    /// The network itself is malformed (dimensions, non-finite numbers).
    #[error("invalid network: {0}")]
    Network(String),
    /// A point (centre, box bound) is malformed or has the wrong dimension.
    #[error("invalid point: {0}")]
    Point(String),
}

/// Checkpoints: reading, writing and fitting them to the problem resumed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The file is not a checkpoint this build wrote (truncated, edited, another program's).
    #[error("checkpoint {}: not a regionwalk checkpoint: {why}", path.display())]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What does not fit (the checksum, a length, the header's JSON).
        why: String,
        /// The header's JSON decoding error, when that is what failed.
        #[source]
        source: Option<serde_json::Error>,
    },
    /// Written by another format version.
    #[error("checkpoint {}: format version {found} (this build reads version {expected})", path.display())]
    Version {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// A checkpoint of another problem, or with inconsistent contents.
    #[error("checkpoint does not fit: {0}")]
    Mismatch(String),
    /// The state could not be encoded.
    #[error("checkpoint cannot be encoded: {0}")]
    Encode(#[source] serde_json::Error),
    /// The file could not be written.
    #[error("checkpoint {}: cannot be written: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}
