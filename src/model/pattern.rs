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

impl std::fmt::Debug for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for k in 0..self.len {
            f.write_str(if self.get(k) { "1" } else { "0" })?;
        }
        Ok(())
    }
}
