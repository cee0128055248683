//! Saved walks: what [`crate::exact::resume`] needs to finish a walk that a budget or Ctrl-C stopped.
//!
//! A checkpoint holds the visited set as the walk keeps it (exact patterns or fingerprints, end to
//! end), the queued regions with their patterns, the regions whose witness failed, and a JSON
//! header with the rest of the result (and the region list, when the walk keeps one). The file
//! (docs/exact.md, "Checkpoints"):
//!
//! ```text
//! "RWCHECKP"  u32 version  u64 n  <n bytes of JSON header>
//! u64 body words  <body: little-endian u64 words>  u64 checksum
//! body = [K, K key words, Q, Q × (region number, pattern words), U, U region numbers]
//! ```
//!
//! The checksum is SipHash-1-3 (key 0) of every byte before it. It is written to a temporary file
//! renamed over the old one. Because users keep, copy and edit these files, everything read back
//! is checked before it is used: the checksum, the format version, the fingerprint of the
//! network, domain and edge setting, and every index and length. A file that fails a check is
//! refused with a message that says what is wrong, never used to produce a wrong count.

use super::visited::{Identity, Visited};
use super::WalkState;
use crate::domain::Domain;
use crate::error::CheckpointError;
use crate::exact::WalkResult;
use crate::model::{Network, Pattern};
use crate::Result;
use siphasher::sip::SipHasher13;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Format version written into every checkpoint; files of another version are refused. Version 4:
/// a binary body holding the visited set as the walk keeps it (exact patterns or fingerprints),
/// so that a walk of 10⁷ regions is saved in seconds.
pub const CHECKPOINT_VERSION: u32 = 4;

/// The first bytes of every checkpoint file.
const MAGIC: &[u8; 8] = b"RWCHECKP";

/// Time between two checkpoints of a running walk.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(60);

/// What the header of a checkpoint holds (`R` is the result, owned when read, borrowed when written).
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct Header<R> {
    /// Fingerprint of the network, the domain and the edge setting the walk was run with.
    pub(crate) fingerprint: u64,
    /// For one worker's shard of a dataflow walk: `(worker, workers)` (the shard holds the
    /// patterns that hash to that worker).
    pub(crate) shard: Option<(usize, usize)>,
    /// How the visited set identifies regions (resolved), and its fingerprint key.
    pub(crate) identity: Identity,
    pub(crate) key: (u64, u64),
    /// Hidden neurons of the network (the length of every pattern).
    pub(crate) neurons: usize,
    /// Whether `result.regions` lists every region found (in the order numbered).
    pub(crate) kept: bool,
    /// The result so far: counters, edges, start, and the regions when kept.
    pub(crate) result: R,
}

/// A saved walk: everything needed to continue it ([`crate::exact::resume`]).
pub struct Checkpoint {
    pub(crate) header: Header<WalkResult>,
    /// The visited set's keys, end to end, in the order the regions were found.
    pub(crate) keys: Vec<u64>,
    /// Regions still to expand, in order: number and pattern.
    pub(crate) queue: Vec<(usize, Pattern)>,
    /// Regions whose witness failed (counted out).
    pub(crate) unverified: Vec<usize>,
}

impl Checkpoint {
    /// Reads a checkpoint file (checked against the problem by [`Checkpoint::validate`] on resume).
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = crate::model::io::read_bytes(path, u64::MAX)?;
        let damaged =
            |why: &str| CheckpointError::Damaged { path: path.to_owned(), why: why.to_string(), source: None };
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            // A JSON checkpoint of an earlier version is named as such.
            #[derive(serde::Deserialize)]
            struct Versioned {
                version: u32,
            }
            if let Ok(v) = serde_json::from_slice::<Versioned>(&bytes) {
                return Err(version_error(path, v.version));
            }
            return Err(damaged("it does not start as one").into());
        }
        let mut reader = Reader { bytes: &bytes, at: MAGIC.len() };
        let short = || damaged("it is truncated");
        let version = reader.u32().ok_or_else(short)?;
        if version != CHECKPOINT_VERSION {
            return Err(version_error(path, version));
        }
        let (body, checksum) = bytes.split_at(bytes.len().checked_sub(8).ok_or_else(short)?);
        if checksum != sum(body).to_le_bytes() {
            return Err(damaged("its checksum does not match (truncated or edited)").into());
        }
        let header_len = reader.u64().ok_or_else(short)? as usize;
        let header_bytes = reader.take(header_len).ok_or_else(short)?;
        let header: Header<WalkResult> = serde_json::from_slice(header_bytes).map_err(|e| {
            CheckpointError::Damaged { path: path.to_owned(), why: format!("its header: {e}"), source: Some(e) }
        })?;
        let words = reader.u64().ok_or_else(short)? as usize;
        let body: Vec<u64> = reader
            .take(words.checked_mul(8).ok_or_else(short)?)
            .ok_or_else(short)?
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
            .collect();
        if reader.at + 8 != bytes.len() {
            return Err(damaged("it has bytes after its body").into());
        }
        Self::decode(header, &body).ok_or_else(|| damaged("its body does not fit its header").into())
    }

    /// The checkpoint whose header is `header` and whose body is `body` (`None` if the body's
    /// lengths do not fit it).
    fn decode(header: Header<WalkResult>, body: &[u64]) -> Option<Self> {
        let mut words = body.iter().copied();
        let mut take = |n: u64| -> Option<Vec<u64>> { (0..n).map(|_| words.next()).collect() };
        let k = take(1)?[0];
        let keys = take(k)?;
        let width = header.neurons.div_ceil(64) as u64;
        let q = take(1)?[0];
        let mut queue = Vec::new();
        for _ in 0..q {
            let index = take(1)?[0] as usize;
            queue.push((index, Pattern::from_words(header.neurons, &take(width)?)?));
        }
        let u = take(1)?[0];
        let unverified = take(u)?.into_iter().map(|i| i as usize).collect();
        take(1).is_none().then_some(Checkpoint { header, keys, queue, unverified })
    }

    /// Regions counted when it was written: the keys it holds, less those of regions entered but
    /// not certified (`unverified`, kept so that the walk does not enter them again).
    pub fn regions(&self) -> usize {
        (self.keys.len() / self.header.identity.key_words(self.header.neurons)).saturating_sub(self.unverified.len())
    }

    /// Checks that this checkpoint was written by this version for this network, domain and edge
    /// setting, and that every index and length in it is consistent, so that resuming cannot
    /// index out of range or count a region twice.
    pub fn validate(&self, net: &Network, domain: &Domain, edges: bool) -> Result<()> {
        self.validate_shard(net, domain, edges, None).map(drop)
    }

    /// [`Checkpoint::validate`] for the shard `shard` (`(worker, workers)`) of a dataflow walk, or
    /// for a whole walk (`None`); returns its visited set. A dataflow shard may hold no region.
    pub(crate) fn validate_shard(
        &self,
        net: &Network,
        domain: &Domain,
        edges: bool,
        shard: Option<(usize, usize)>,
    ) -> Result<Visited> {
        let bad = |what: String| Err(CheckpointError::Mismatch(what).into());
        let h = &self.header;
        if h.shard != shard {
            let name = |s: Option<(usize, usize)>| match s {
                Some((w, n)) => format!("worker {w} of {n} of a dataflow walk"),
                None => "a single-process walk".to_string(),
            };
            return bad(format!("it holds {}, and is resumed as {}", name(h.shard), name(shard)));
        }
        if h.fingerprint != fingerprint(net, domain, edges) {
            return bad("it was written for another network, domain or edge-recording (linear regions) setting".into());
        }
        let neurons = net.neurons();
        if h.neurons != neurons || h.identity == Identity::Auto {
            return bad(format!("patterns of {} neurons ({:?}), the network has {neurons}", h.neurons, h.identity));
        }
        let mut visited = Visited::new(h.identity, neurons, h.key);
        if !self.keys.len().is_multiple_of(visited.width()) {
            return bad(format!("{} key words are not whole keys of {} words", self.keys.len(), visited.width()));
        }
        for key in self.keys.chunks(visited.width()) {
            if visited.insert_key(key).is_none() {
                return bad("a pattern appears twice".into());
            }
        }
        let regions = visited.len();
        if regions == 0 && shard.is_none() {
            return bad("it holds no region".into());
        }
        let list = &h.result.regions;
        if h.kept {
            if list.len() != regions {
                return bad(format!("{} regions listed for {regions} found", list.len()));
            }
            let n0 = net.input_dim();
            for (i, r) in list.iter().enumerate() {
                if r.pattern.len() != neurons {
                    return bad(format!(
                        "region {i} has a pattern of {} neurons, the network {neurons}",
                        r.pattern.len()
                    ));
                }
                if visited.get(&r.pattern) != Some(i) {
                    return bad(format!("region {i}'s pattern is not the one numbered {i}"));
                }
                if let Some(w) = &r.witness {
                    if w.len() != n0 || w.iter().any(|v| !v.is_finite()) {
                        return bad(format!(
                            "region {i} has a witness of {} finite coordinates? ({n0} inputs)",
                            w.len()
                        ));
                    }
                }
            }
        } else if !list.is_empty() {
            return bad("it lists regions but says it keeps none".into());
        }
        let mut queued = vec![false; regions];
        for (i, pattern) in &self.queue {
            if *i >= regions || std::mem::replace(&mut queued[*i], true) {
                return bad(format!("queue entry {i} is out of range or repeated ({regions} regions)"));
            }
            if visited.get(pattern) != Some(*i) {
                return bad(format!("queue entry {i}'s pattern is not the one numbered {i}"));
            }
        }
        if let Some(i) = self.unverified.iter().find(|&&i| i >= regions || queued[i]) {
            return bad(format!("uncertified region {i} is out of range or still queued"));
        }
        if self.unverified.windows(2).any(|w| w[0] >= w[1]) {
            return bad("the uncertified regions are not in increasing order".into());
        }
        if let Some(e) = h.result.edges.iter().find(|e| e.a >= regions || e.b >= regions || e.a == e.b) {
            return bad(format!("edge ({}, {}) does not join two of the {regions} regions", e.a, e.b));
        }
        Ok(visited)
    }
}

fn version_error(path: &Path, found: u32) -> crate::Error {
    CheckpointError::Version { path: path.to_owned(), found, expected: CHECKPOINT_VERSION }.into()
}

/// The checksum of a checkpoint's bytes.
fn sum(bytes: &[u8]) -> u64 {
    let mut h = SipHasher13::new_with_keys(0, 0);
    h.write(bytes);
    h.finish()
}

/// Reads a checkpoint's fields in order.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let out = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(out)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

/// A writer that sums what passes through it.
struct Summed<W> {
    inner: W,
    hasher: SipHasher13,
}

impl<W: Write> Summed<W> {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.hasher.write(bytes);
        self.inner.write_all(bytes)
    }

    fn words(&mut self, words: &[u64]) -> std::io::Result<()> {
        let mut buffer = Vec::with_capacity(8 * words.len().min(1 << 16));
        for chunk in words.chunks(1 << 16) {
            buffer.clear();
            chunk.iter().for_each(|w| buffer.extend_from_slice(&w.to_le_bytes()));
            self.put(&buffer)?;
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

    /// Saves `state` now if a checkpoint file was asked for.
    pub(crate) fn save(&mut self, state: &WalkState) -> Result<()> {
        self.last = Instant::now();
        let Some(path) = &self.path else { return Ok(()) };
        // Appended, not replacing the extension: the shards `walk.w0`, `walk.w1` of a dataflow
        // walk are written at the same time and must not share a temporary file.
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let write_error = |source| CheckpointError::Write { path: path.to_owned(), source };
        let (identity, key) = state.visited.identity();
        let header = Header {
            fingerprint: self.fingerprint,
            shard: self.shard,
            identity,
            key,
            neurons: state.neurons,
            kept: state.keep,
            result: &state.result,
        };
        let header = serde_json::to_vec(&header).map_err(CheckpointError::Encode)?;
        let queue = state.frontier.queued()?;
        let width = state.neurons.div_ceil(64);
        let keys = state.visited.keys();
        let body_words = 3 + keys.len() + queue.len() * (1 + width) + state.unverified.len();
        let file = std::fs::File::create(&tmp).map_err(write_error)?;
        let mut out = Summed { inner: std::io::BufWriter::new(file), hasher: SipHasher13::new_with_keys(0, 0) };
        let mut write = || -> std::io::Result<()> {
            out.put(MAGIC)?;
            out.put(&CHECKPOINT_VERSION.to_le_bytes())?;
            out.put(&(header.len() as u64).to_le_bytes())?;
            out.put(&header)?;
            out.put(&(body_words as u64).to_le_bytes())?;
            out.words(&[keys.len() as u64])?;
            out.words(keys)?;
            out.words(&[queue.len() as u64])?;
            for (i, pattern) in &queue {
                out.words(&[*i as u64])?;
                out.words(pattern.words())?;
            }
            out.words(&[state.unverified.len() as u64])?;
            let unverified: Vec<u64> = state.unverified.iter().map(|&i| i as u64).collect();
            out.words(&unverified)?;
            let checksum = out.hasher.finish();
            out.inner.write_all(&checksum.to_le_bytes())?;
            out.inner.flush()
        };
        write().and_then(|_| std::fs::rename(&tmp, path)).map_err(|source| write_error(source).into())
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

/// A hash of every weight and bias, bit for bit, and of the max windows.
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
    // A chain's hash is unchanged by max units it does not have.
    if !net.max_windows().is_empty() {
        net.max_windows().per_layer().hash(h);
    }
}
