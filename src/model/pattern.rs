//! Activation patterns as compact bitsets: the keys of the region walk's visited set.

/// One bit per hidden neuron, in layer order; 1 means active (`z > 0`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pattern {
    words: Box<[u64]>,
    len: usize,
}

impl Pattern {
    /// All neurons inactive.
    pub fn zeros(len: usize) -> Self {
        Pattern { words: vec![0; len.div_ceil(64)].into_boxed_slice(), len }
    }

    /// Number of neurons.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a network without hidden neurons.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether neuron `k` is active.
    pub fn get(&self, k: usize) -> bool {
        self.words[k / 64] >> (k % 64) & 1 == 1
    }

    /// Sets neuron `k`.
    pub fn set(&mut self, k: usize, active: bool) {
        let bit = 1u64 << (k % 64);
        if active {
            self.words[k / 64] |= bit;
        } else {
            self.words[k / 64] &= !bit;
        }
    }

    /// The bits as 64-bit words (neuron `k` is bit `k % 64` of word `k / 64`; spare bits are 0).
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// The pattern of `len` neurons held in `words` (as [`Pattern::words`] gives them); `None` if
    /// the number of words is wrong or a bit beyond `len` is set.
    pub fn from_words(len: usize, words: &[u64]) -> Option<Self> {
        let spare =
            (words.len() * 64).checked_sub(len).filter(|&spare| spare < 64 && words.len() == len.div_ceil(64))?;
        match words.last() {
            Some(&last) if spare > 0 && last >> (64 - spare) != 0 => None,
            _ => Some(Pattern { words: words.into(), len }),
        }
    }

    /// Whether `self` differs from `other` in some neuron that `mask` selects (all three of one
    /// length).
    pub fn disagrees_on(&self, other: &Pattern, mask: &Pattern) -> bool {
        self.words.iter().zip(&other.words).zip(&mask.words).any(|((a, b), m)| (a ^ b) & m != 0)
    }

    /// The bits split by hidden layer widths, as 0/1 values (the JSON form of the design page).
    pub fn by_layer(&self, widths: &[usize]) -> Vec<Vec<u8>> {
        let mut k = 0;
        widths
            .iter()
            .map(|&w| {
                let layer = (k..k + w).map(|i| self.get(i) as u8).collect();
                k += w;
                layer
            })
            .collect()
    }
}

/// Patterns serialise as a string of 0/1 characters (checkpoints, reports).
impl serde::Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{self:?}"))
    }
}

impl<'de> serde::Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let mut p = Pattern::zeros(text.len());
        for (k, c) in text.chars().enumerate() {
            match c {
                '0' => {}
                '1' => p.set(k, true),
                other => return Err(serde::de::Error::custom(format!("'{other}' in a pattern"))),
            }
        }
        Ok(p)
    }
}

/// Serde for a pattern as its bit words: compact, for the dataflow walk's records between
/// processes (`#[serde(with = "packed")]`); files keep the readable 0/1 string.
pub mod packed {
    use super::Pattern;
    use serde::{Deserialize, Serialize};

    /// Writes `(len, words)`.
    pub fn serialize<S: serde::Serializer>(p: &Pattern, s: S) -> Result<S::Ok, S::Error> {
        (p.len, &*p.words).serialize(s)
    }

    /// Reads `(len, words)`, checking that the words hold exactly `len` bits.
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Pattern, D::Error> {
        let (len, words): (usize, Vec<u64>) = Deserialize::deserialize(d)?;
        Pattern::from_words(len, &words).ok_or_else(|| {
            serde::de::Error::custom(format!("{} words do not hold a pattern of {len} bits", words.len()))
        })
    }
}

impl std::fmt::Debug for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for k in 0..self.len {
            f.write_str(if self.get(k) { "1" } else { "0" })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Wire(#[serde(with = "packed")] Pattern);

    #[test]
    fn packed_patterns_round_trip_and_bad_words_are_refused() {
        for len in [0, 1, 63, 64, 65, 300] {
            let mut p = Pattern::zeros(len);
            (0..len).step_by(3).for_each(|k| p.set(k, true));
            let text = serde_json::to_string(&Wire(p.clone())).unwrap();
            assert_eq!(serde_json::from_str::<Wire>(&text).unwrap().0, p, "{len} bits");
        }
        for bad in ["[3,[]]", "[3,[1,0]]", "[3,[8]]", "[64,[]]", "[0,[0]]"] {
            assert!(serde_json::from_str::<Wire>(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(serde_json::from_str::<Wire>("[3,[5]]").unwrap().0, {
            let mut p = Pattern::zeros(3);
            p.set(0, true);
            p.set(2, true);
            p
        });
    }
}
