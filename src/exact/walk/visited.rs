//! The walk's visited set: every region found, identified by its exact pattern or by a 128-bit
//! fingerprint of it, and numbered in the order found.
//!
//! Keys sit end to end in one array (no allocation per region) and a hash table holds only their
//! numbers, so a region costs its key plus about 12 bytes of table: an exact pattern of `n`
//! neurons `n / 8` bytes, a fingerprint 16 bytes whatever the network.
//!
//! **Fingerprints and dropped regions** (docs/exact.md, "Memory"). A fingerprint is SipHash-1-3
//! (128-bit output) of the pattern's words under a key drawn at random when the walk starts. Two
//! distinct patterns share a fingerprint only by a collision of the keyed hash; for a set of `N`
//! patterns the chance that any two collide is at most `N(N−1)/2 · 2⁻¹²⁸` over the key, treating
//! SipHash as a pseudo-random function (its design goal). A collision is the only way a region can
//! be dropped (its neighbour would look visited), so the walk reports this bound
//! ([`Visited::collision_bound`]) with every count it makes with fingerprints: 1.5·10⁻²⁵ at 10⁷
//! regions. Exact patterns ([`Identity::Patterns`]) drop nothing.

use crate::model::Pattern;
use crate::tolerance::FINGERPRINT_ABOVE_NEURONS;
use hashbrown::HashTable;
use siphasher::sip128::{Hasher128, SipHasher13};
use std::hash::Hasher;

/// How the visited set tells regions apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Identity {
    /// Exact patterns up to [`FINGERPRINT_ABOVE_NEURONS`] neurons (where a pattern is no larger
    /// than 128 bytes), fingerprints above.
    #[default]
    Auto,
    /// Exact patterns: no region can be dropped.
    Patterns,
    /// 128-bit keyed fingerprints: 16 bytes per region, with the collision bound in the report.
    Fingerprints,
}

impl Identity {
    /// What [`Identity::Auto`] means for a network of `neurons` hidden neurons.
    pub fn resolve(self, neurons: usize) -> Identity {
        match self {
            Identity::Auto if neurons > FINGERPRINT_ABOVE_NEURONS => Identity::Fingerprints,
            Identity::Auto => Identity::Patterns,
            chosen => chosen,
        }
    }

    /// Words of a visited-set key for a network of `neurons` neurons: the pattern's, or a
    /// fingerprint's two.
    pub fn key_words(self, neurons: usize) -> usize {
        match self.resolve(neurons) {
            Identity::Fingerprints => 2,
            // A network without hidden neurons has one region, keyed by one zero word.
            _ => neurons.div_ceil(64).max(1),
        }
    }
}

impl std::str::FromStr for Identity {
    type Err = crate::Error;

    fn from_str(name: &str) -> crate::Result<Self> {
        match name {
            "auto" => Ok(Identity::Auto),
            "patterns" => Ok(Identity::Patterns),
            "fingerprints" => Ok(Identity::Fingerprints),
            _ => Err(crate::Error::Settings(format!(
                "unknown visited-set identity '{name}' (choose from auto, patterns, fingerprints)"
            ))),
        }
    }
}

/// Every region found so far, numbered in the order found.
pub(crate) struct Visited {
    identity: Identity,
    /// SipHash key of the fingerprints (unused with exact patterns).
    key: (u64, u64),
    /// Words per key: the pattern's words, or 2 for a fingerprint.
    width: usize,
    /// Key of region `i` at `keys[i * width..(i + 1) * width]`.
    keys: Vec<u64>,
    /// Region numbers, hashed by their keys.
    table: HashTable<usize>,
}

impl Visited {
    /// An empty set for patterns of `neurons` neurons (`identity` resolved, never `Auto`),
    /// fingerprinted under `key`.
    pub(crate) fn new(identity: Identity, neurons: usize, key: (u64, u64)) -> Self {
        let (identity, width) = (identity.resolve(neurons), identity.key_words(neurons));
        Visited { identity, key, width, keys: Vec::new(), table: HashTable::new() }
    }

    /// A fresh random fingerprint key (from the operating system's generator).
    pub(crate) fn random_key() -> (u64, u64) {
        rand::random()
    }

    /// The set's identity (resolved) and fingerprint key, as a checkpoint keeps them.
    pub(crate) fn identity(&self) -> (Identity, (u64, u64)) {
        (self.identity, self.key)
    }

    /// The key of `pattern`: its words, or its fingerprint.
    fn key_of<'a>(&self, pattern: &'a Pattern) -> KeyWords<'a> {
        match self.identity {
            Identity::Fingerprints => {
                let mut h = SipHasher13::new_with_keys(self.key.0, self.key.1);
                for w in pattern.words() {
                    h.write_u64(*w);
                }
                h.write_usize(pattern.len());
                let f = h.finish128();
                KeyWords::Fingerprint([f.h1, f.h2])
            }
            _ if pattern.is_empty() => KeyWords::Pattern(&[0]),
            _ => KeyWords::Pattern(pattern.words()),
        }
    }

    fn slot(&self, i: usize) -> &[u64] {
        &self.keys[i * self.width..(i + 1) * self.width]
    }

    /// The number of `pattern`'s region, if it was found.
    pub(crate) fn get(&self, pattern: &Pattern) -> Option<usize> {
        let key = self.key_of(pattern);
        self.find(key.words())
    }

    fn find(&self, key: &[u64]) -> Option<usize> {
        self.table.find(table_hash(key), |&i| self.slot(i) == key).copied()
    }

    /// Whether `pattern`'s region was found.
    pub(crate) fn contains(&self, pattern: &Pattern) -> bool {
        self.get(pattern).is_some()
    }

    /// Adds `pattern`, which must not be in the set yet; returns its number.
    pub(crate) fn insert(&mut self, pattern: &Pattern) -> usize {
        let key = self.key_of(pattern);
        self.insert_key(key.words()).expect("a new pattern")
    }

    /// Adds a key as read back from a checkpoint; `None` if it is already in the set.
    pub(crate) fn insert_key(&mut self, key: &[u64]) -> Option<usize> {
        debug_assert_eq!(key.len(), self.width);
        if self.find(key).is_some() {
            return None;
        }
        let i = self.len();
        self.keys.extend_from_slice(key);
        let (keys, width) = (&self.keys, self.width);
        self.table.insert_unique(table_hash(key), i, |&j| table_hash(&keys[j * width..(j + 1) * width]));
        Some(i)
    }

    /// Regions in the set.
    pub(crate) fn len(&self) -> usize {
        self.keys.len() / self.width
    }

    /// Every key, end to end (what a checkpoint writes).
    pub(crate) fn keys(&self) -> &[u64] {
        &self.keys
    }

    /// Words per key.
    pub(crate) fn width(&self) -> usize {
        self.width
    }

    /// An upper bound on the chance that two of the regions found share a fingerprint (`None`
    /// with exact patterns): `N(N−1)/2 · 2⁻¹²⁸`.
    pub(crate) fn collision_bound(&self) -> Option<f64> {
        (self.identity == Identity::Fingerprints).then(|| collision_bound(self.len() as u64))
    }
}

/// `N(N−1)/2 · 2⁻¹²⁸`: the chance, over the fingerprint key, that two of `n` distinct patterns
/// share a fingerprint (a union bound over pairs).
pub fn collision_bound(n: u64) -> f64 {
    let n = n as f64;
    (n * (n - 1.0) / 2.0 * 2f64.powi(-128)).max(0.0)
}

/// A key: a pattern's words (exact patterns) or its two fingerprint words.
enum KeyWords<'a> {
    Pattern(&'a [u64]),
    Fingerprint([u64; 2]),
}

impl KeyWords<'_> {
    fn words(&self) -> &[u64] {
        match self {
            KeyWords::Pattern(w) => w,
            KeyWords::Fingerprint(f) => f,
        }
    }
}

/// The table's hash of a key (fingerprints are random already; FxHash mixes pattern words).
fn table_hash(key: &[u64]) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    for w in key {
        h.write_u64(*w);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(bits: &[usize], len: usize) -> Pattern {
        let mut p = Pattern::zeros(len);
        bits.iter().for_each(|&k| p.set(k, true));
        p
    }

    #[test]
    fn both_identities_number_patterns_in_order_and_find_them() {
        for identity in [Identity::Patterns, Identity::Fingerprints] {
            let mut v = Visited::new(identity, 130, Visited::random_key());
            let ps: Vec<Pattern> = (0..500).map(|i| pattern(&[i % 130, (i * 7) % 130, i / 130], 130)).collect();
            let mut distinct = Vec::new();
            for p in &ps {
                if !v.contains(p) {
                    assert_eq!(v.insert(p), distinct.len());
                    distinct.push(p.clone());
                }
            }
            for (i, p) in distinct.iter().enumerate() {
                assert_eq!(v.get(p), Some(i), "{identity:?}");
            }
            assert_eq!(v.len(), distinct.len());
            assert!(v.get(&pattern(&[0, 1, 2, 3, 4], 130)).is_none());
            assert_eq!(v.collision_bound().is_some(), identity == Identity::Fingerprints);
        }
    }

    #[test]
    fn auto_keeps_exact_patterns_up_to_the_threshold() {
        assert_eq!(Identity::Auto.resolve(FINGERPRINT_ABOVE_NEURONS), Identity::Patterns);
        assert_eq!(Identity::Auto.resolve(FINGERPRINT_ABOVE_NEURONS + 1), Identity::Fingerprints);
        assert_eq!(Identity::Patterns.resolve(1 << 20), Identity::Patterns);
    }

    #[test]
    fn the_collision_bound_is_the_pair_count_over_two_to_the_128() {
        assert_eq!(collision_bound(1), 0.0);
        let b = collision_bound(10_000_000);
        assert!((b / (5e13 * 2f64.powi(-128)) - 1.0).abs() < 1e-6, "{b}");
    }
}
