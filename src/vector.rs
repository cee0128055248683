//! Vector arithmetic shared by every layer above it (the domain's halfspaces, the solvers, the
//! walk's geometry): kept at the bottom so that none of them imports another for it.

/// Dot product, over the shorter of the two slices. Four independent partial sums: a single
/// running sum is one chain of dependent additions, which the compiler may not reorder, and the
/// 784-D walk spends a third of its time in these products (the dual solver's violations, every
/// margin); with four it vectorises (MNIST 10x10, L-inf 0.01: see BENCHMARKS.md).
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut lanes = [0.0; 4];
    for (x, y) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        for k in 0..4 {
            lanes[k] += x[k] * y[k];
        }
    }
    let tail: f64 = a[n - n % 4..].iter().zip(&b[n - n % 4..]).map(|(x, y)| x * y).sum();
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail
}

/// The largest share of nonzero entries a [`Compact`] vector is stored sparse with: an entry then
/// takes 12 bytes instead of 8, so past two thirds sparse storage holds more.
const COMPACT_MAX_DENSITY: f64 = 0.5;

/// A vector held by its nonzero entries when few are nonzero: every nonzero entry bit for bit, and
/// every zero as `+0.0` (a normal negated has `-0.0` for its zeros, which no sum or comparison
/// tells from `+0.0`). A CNN region's constraint normals and entry directions are ~5% nonzero in 3,072
/// inputs: held dense, the regions of one chunk of `cifar10_large` held ~0.5 GB of normals and
/// the neighbours they found ~0.4 GB of directions.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Compact {
    /// Every entry.
    Dense(Vec<f64>),
    /// The nonzero entries, by increasing index.
    Sparse {
        /// Entries, zeros included.
        len: usize,
        /// Where the stored entries are.
        indices: Vec<u32>,
        /// Their values.
        values: Vec<f64>,
    },
}

impl Compact {
    /// `v`, stored sparse when at most [`COMPACT_MAX_DENSITY`] of it is nonzero.
    pub fn new(v: Vec<f64>) -> Self {
        let nonzero = v.iter().filter(|x| **x != 0.0).count();
        if nonzero as f64 > COMPACT_MAX_DENSITY * v.len() as f64 || v.len() > u32::MAX as usize {
            return Compact::Dense(v);
        }
        let (indices, values) = v.iter().enumerate().filter(|(_, x)| **x != 0.0).map(|(i, x)| (i as u32, *x)).unzip();
        Compact::Sparse { len: v.len(), indices, values }
    }

    /// The number of entries, zeros included.
    pub fn len(&self) -> usize {
        match self {
            Compact::Dense(v) => v.len(),
            Compact::Sparse { len, .. } => *len,
        }
    }

    /// Whether it has no entries at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether it is held by its nonzero entries.
    pub fn is_sparse(&self) -> bool {
        matches!(self, Compact::Sparse { .. })
    }

    /// The vector with every entry, borrowed when it is held dense.
    pub fn dense(&self) -> std::borrow::Cow<'_, [f64]> {
        match self {
            Compact::Dense(v) => std::borrow::Cow::Borrowed(v),
            Compact::Sparse { len, indices, values } => {
                let mut v = vec![0.0; *len];
                indices.iter().zip(values).for_each(|(&i, &x)| v[i as usize] = x);
                std::borrow::Cow::Owned(v)
            }
        }
    }

    /// The vector with every entry (the dense one itself, moved, when it is held dense).
    pub fn into_dense(self) -> Vec<f64> {
        match self {
            Compact::Dense(v) => v,
            sparse => sparse.dense().into_owned(),
        }
    }

    /// `-self`, held the same way (equal as numbers: an unstored zero stays `+0.0`).
    pub fn negated(&self) -> Self {
        match self {
            Compact::Dense(v) => Compact::Dense(v.iter().map(|x| -x).collect()),
            Compact::Sparse { len, indices, values } => {
                Compact::Sparse { len: *len, indices: indices.clone(), values: values.iter().map(|x| -x).collect() }
            }
        }
    }

    /// Bytes its entries hold.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Compact::Dense(v) => 8 * v.len(),
            Compact::Sparse { indices, values, .. } => 4 * indices.len() + 8 * values.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compact vectors give back every nonzero entry bit for bit and every zero as `+0.0`, sparse
    /// when few are nonzero and dense otherwise, and negate to the dense vector's negation.
    #[test]
    fn compact_vectors_round_trip_bit_for_bit() {
        let cases: [Vec<f64>; 5] = [
            vec![],
            vec![0.0; 7],
            vec![0.0, -0.0, 1.5, 0.0, 0.0, 0.0, f64::MIN_POSITIVE, 0.0, 0.0],
            vec![1.0, 2.0, 0.0, -3.0],
            (0..100).map(|i| if i % 10 == 3 { (i as f64).sin() } else { 0.0 }).collect(),
        ];
        let sparse = [true, true, true, false, true];
        for (v, sparse) in cases.into_iter().zip(sparse) {
            let c = Compact::new(v.clone());
            assert_eq!(c.is_sparse(), sparse, "{v:?}");
            assert_eq!(c.len(), v.len());
            let bits = |v: &[f64]| v.iter().map(|x| (x + 0.0).to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&c.dense()), bits(&v));
            assert_eq!(bits(&c.clone().into_dense()), bits(&v));
            assert!(!sparse || c.dense().iter().all(|x| x.to_bits() != (-0.0f64).to_bits()));
            let negated: Vec<f64> = v.iter().map(|x| -x).collect();
            assert_eq!(c.negated().dense().to_vec(), negated);
            assert!(!sparse || c.heap_bytes() < 8 * v.len() || v.is_empty());
        }
    }
}
