//! Saved walks: what [`crate::exact::resume`] needs to finish a walk that a budget or Ctrl-C stopped.
//!
//! A checkpoint is JSON written atomically (a temporary file renamed over the old one). Because
//! users keep, copy and edit these files, everything read back is checked before it is used: the
//! format version, the fingerprint of the network, domain and edge setting, and every index and
//! length (patterns, witnesses, edges, the queue). A file that fails a check is refused with a
//! message that says what is wrong, never used to produce a wrong count.

use crate::domain::Domain;
use crate::error::CheckpointError;
use crate::exact::WalkResult;
use crate::model::Network;
use crate::Result;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Format version written into every checkpoint; files of another version are refused. Version 3:
/// an L2 ball whose first layer spans fewer dimensions than the input is walked, and saved, in
/// the row space (`exact::walk::reduce`).
pub const CHECKPOINT_VERSION: u32 = 3;

/// Time between two checkpoints of a running walk.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(60);

/// A saved walk: everything needed to continue it ([`crate::exact::resume`]).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    /// Format version ([`CHECKPOINT_VERSION`]).
    pub(crate) version: u32,
    /// Fingerprint of the network, the domain and the edge setting the walk was run with.
    pub(crate) fingerprint: u64,
    /// Regions found so far (uncertified ones included, flagged in `verified`).
    pub(crate) result: WalkResult,
    /// Per region: whether its certificate held (false: counted out at the end).
    pub(crate) verified: Vec<bool>,
    /// Regions still to expand (indices into `result.regions`).
    pub(crate) queue: Vec<usize>,
    /// For one worker's shard of a dataflow walk: `(worker, workers)` (the shard holds the
    /// patterns that hash to that worker).
    #[serde(default)]
    pub(crate) shard: Option<(usize, usize)>,
}

impl Checkpoint {
    /// Reads a checkpoint file (checked against the problem by [`Checkpoint::validate`] on resume).
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::model::io::read_text_file(path)?;
        let damaged = |source| CheckpointError::Damaged { path: path.to_owned(), source };
        // The version first, so that another version's file is named as such rather than as damaged.
        #[derive(serde::Deserialize)]
        struct Header {
            version: u32,
        }
        let version = serde_json::from_str::<Header>(&text).map_err(damaged)?.version;
        if version != CHECKPOINT_VERSION {
            let found =
                CheckpointError::Version { path: path.to_owned(), found: version, expected: CHECKPOINT_VERSION };
            return Err(found.into());
        }
        Ok(serde_json::from_str(&text).map_err(damaged)?)
    }

    /// Regions found when it was written.
    pub fn regions(&self) -> usize {
        self.result.regions.len()
    }

    /// Checks that this checkpoint was written by this version for this network, domain and edge
    /// setting, and that every index and length in it is consistent, so that resuming cannot
    /// index out of range or count a region twice.
    pub fn validate(&self, net: &Network, domain: &Domain, edges: bool) -> Result<()> {
        self.validate_shard(net, domain, edges, None)
    }

    /// [`Checkpoint::validate`] for the shard `shard` (`(worker, workers)`) of a dataflow walk, or
    /// for a whole walk (`None`). A dataflow shard may hold no region.
    pub(crate) fn validate_shard(
        &self,
        net: &Network,
        domain: &Domain,
        edges: bool,
        shard: Option<(usize, usize)>,
    ) -> Result<()> {
        let bad = |what: String| Err(CheckpointError::Mismatch(what).into());
        if self.shard != shard {
            let name = |s: Option<(usize, usize)>| match s {
                Some((w, n)) => format!("worker {w} of {n} of a dataflow walk"),
                None => "a single-process walk".to_string(),
            };
            return bad(format!("it holds {}, and is resumed as {}", name(self.shard), name(shard)));
        }
        if self.version != CHECKPOINT_VERSION {
            return bad(format!("format version {} (this build reads version {CHECKPOINT_VERSION})", self.version));
        }
        if self.fingerprint != fingerprint(net, domain, edges) {
            return bad("it was written for another network, domain or edge-recording (linear regions) setting".into());
        }
        let regions = self.result.regions.len();
        if regions == 0 && shard.is_none() {
            return bad("it holds no region".into());
        }
        if self.verified.len() != regions {
            return bad(format!("{} certificate flags for {regions} regions", self.verified.len()));
        }
        let (neurons, n0) = (net.neurons(), net.input_dim());
        for (i, r) in self.result.regions.iter().enumerate() {
            if r.pattern.len() != neurons {
                return bad(format!("region {i} has a pattern of {} neurons, the network {neurons}", r.pattern.len()));
            }
            if let Some(w) = &r.witness {
                if w.len() != n0 || w.iter().any(|v| !v.is_finite()) {
                    return bad(format!("region {i} has a witness of {} finite coordinates? ({n0} inputs)", w.len()));
                }
            }
        }
        let mut queued = vec![false; regions];
        for &i in &self.queue {
            if i >= regions || std::mem::replace(&mut queued[i], true) {
                return bad(format!("queue entry {i} is out of range or repeated ({regions} regions)"));
            }
        }
        if let Some(e) = self.result.edges.iter().find(|e| e.a >= regions || e.b >= regions || e.a == e.b) {
            return bad(format!("edge ({}, {}) does not join two of the {regions} regions", e.a, e.b));
        }
        let mut patterns: Vec<_> = self.result.regions.iter().map(|r| &r.pattern).collect();
        patterns.sort();
        if patterns.windows(2).any(|w| w[0] == w[1]) {
            return bad("a pattern appears twice".into());
        }
        Ok(())
    }
}

/// Writes a running walk's state every [`CHECKPOINT_EVERY`] and when it stops early.
pub(crate) struct Saver {
    path: Option<PathBuf>,
    fingerprint: u64,
    shard: Option<(usize, usize)>,
    last: Instant,
}

impl Saver {
    /// Saves to `path` (if any) the walk or the dataflow walk's `shard` with this fingerprint.
    pub(crate) fn new(path: Option<PathBuf>, fingerprint: u64, shard: Option<(usize, usize)>) -> Self {
        Saver { path, fingerprint, shard, last: Instant::now() }
    }

    /// Saves now if a checkpoint file was asked for.
    pub(crate) fn save(&mut self, result: &WalkResult, verified: &[bool], queue: &[usize]) -> Result<()> {
        self.last = Instant::now();
        let Some(path) = &self.path else { return Ok(()) };
        let state = Checkpoint {
            version: CHECKPOINT_VERSION,
            fingerprint: self.fingerprint,
            result: result.clone(),
            verified: verified.to_vec(),
            queue: queue.to_vec(),
            shard: self.shard,
        };
        let text = serde_json::to_string(&state).map_err(CheckpointError::Encode)?;
        // Appended, not replacing the extension: the shards `walk.w0`, `walk.w1` of a dataflow
        // walk are written at the same time and must not share a temporary file.
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|source| CheckpointError::Write { path: path.to_owned(), source }.into())
    }

    /// Whether the periodic checkpoint is due.
    pub(crate) fn due(&self) -> bool {
        self.path.is_some() && self.last.elapsed() >= CHECKPOINT_EVERY
    }
}

/// Fingerprint of what a walk computes, so that a checkpoint is only resumed on the same problem.
pub(crate) fn fingerprint(net: &Network, domain: &Domain, edges: bool) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    hash_network(net, &mut h);
    format!("{:?}{:?}{edges}", domain.shape(), domain.clip()).hash(&mut h);
    h.finish()
}

/// A hash of every weight and bias, bit for bit.
pub(crate) fn network_fingerprint(net: &Network) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    hash_network(net, &mut h);
    h.finish()
}

/// A hash of the domain's shape and clip box, bit for bit.
pub(crate) fn domain_fingerprint(domain: &Domain) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    format!("{:?}{:?}", domain.shape(), domain.clip()).hash(&mut h);
    h.finish()
}

fn hash_network(net: &Network, h: &mut impl Hasher) {
    for layer in net.layers() {
        layer.weight.dim().hash(h);
        for (r, c, v) in layer.weight.entries() {
            (r, c, v.to_bits()).hash(h);
        }
        layer.bias.iter().for_each(|v| v.to_bits().hash(h));
    }
}
