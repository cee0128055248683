//! A layer's weight matrix, stored dense or as compressed sparse rows (CSR).
//!
//! A convolution lowered from ONNX has a few nonzeros per row: a 4×4 kernel over 8 channels
//! reads 128 of a CIFAR image's 3,072 inputs, and a 2×2 kernel on MNIST reads 4 of 784. Stored
//! dense, the MNIST CNN fixture's first layer is 146 MB and a CIFAR-size CNN does not fit at all.
//! Every product that the bounds, the forward pass and the walk need is written here once over
//! the stored entries, so that callers never ask which storage they have; dense matrices keep
//! ndarray's blocked products.

use ndarray::{Array1, Array2, ArrayView1, Axis};
use sprs::CsMat;
use std::borrow::Cow;

/// Matrices with fewer entries than this stay dense whatever their density (small layers of an
/// MLP, where the dense products are faster).
const SPARSE_MIN_ENTRIES: usize = 1 << 16;
/// A larger matrix is stored sparse when at most this share of its entries is nonzero.
const SPARSE_MAX_DENSITY: f64 = 0.25;

/// `out × in` weights of one affine layer.
#[derive(Clone, Debug, PartialEq)]
pub enum Weight {
    /// Row-major dense storage.
    Dense(Array2<f64>),
    /// CSR with sorted column indices and no explicit duplicates.
    Sparse(CsMat<f64>),
}

impl From<Array2<f64>> for Weight {
    fn from(w: Array2<f64>) -> Self {
        Weight::Dense(w.as_standard_layout().into_owned())
    }
}

/// The stored entries of one row, `(column, value)`: every column for a dense row.
#[derive(Clone)]
pub enum Row<'a> {
    /// Every column of a dense row.
    Dense(std::iter::Enumerate<ndarray::iter::Iter<'a, f64, ndarray::Ix1>>),
    /// The stored columns of a sparse row.
    Sparse(std::iter::Zip<std::slice::Iter<'a, usize>, std::slice::Iter<'a, f64>>),
}

impl Iterator for Row<'_> {
    type Item = (usize, f64);

    #[inline]
    fn next(&mut self) -> Option<(usize, f64)> {
        match self {
            Row::Dense(it) => it.next().map(|(i, v)| (i, *v)),
            Row::Sparse(it) => it.next().map(|(i, v)| (*i, *v)),
        }
    }
}

/// The rows that read each column of a sparse matrix ([`Weight::readers`]).
#[derive(Clone, Debug)]
pub struct Readers {
    start: Vec<usize>,
    rows: Vec<u32>,
}

impl Readers {
    /// The rows with a stored entry in column `i`, in increasing order.
    pub fn of(&self, i: usize) -> &[u32] {
        &self.rows[self.start[i]..self.start[i + 1]]
    }
}

impl Weight {
    /// A matrix from `(row, column, value)` triplets (duplicates summed), stored sparse or dense
    /// by [`Weight::compact`].
    pub fn from_triplets(rows: usize, cols: usize, entries: impl IntoIterator<Item = (usize, usize, f64)>) -> Self {
        Weight::from_triplets_csr(rows, cols, entries).compact()
    }

    /// The `n × n` identity (sparse when large).
    pub fn identity(n: usize) -> Self {
        Weight::from_triplets(n, n, (0..n).map(|i| (i, i, 1.0)))
    }

    /// The same matrix stored sparse, whatever its size and density (tests check that the
    /// storage never changes an answer).
    pub fn csr(&self) -> Self {
        match self {
            Weight::Dense(d) => Weight::from_triplets_csr(self.nrows(), self.ncols(), dense_entries(d)),
            sparse => sparse.clone(),
        }
    }

    /// The same matrix in the storage that suits it: sparse when it is large and at most a quarter
    /// full, dense otherwise.
    pub fn compact(self) -> Self {
        let (rows, cols) = self.dim();
        let entries = rows * cols;
        let sparse = entries >= SPARSE_MIN_ENTRIES && (self.nnz() as f64) <= SPARSE_MAX_DENSITY * entries as f64;
        match (self, sparse) {
            (dense @ Weight::Dense(_), true) => dense.csr(),
            (Weight::Sparse(s), false) => Weight::Dense(s.to_dense()),
            (w, _) => w,
        }
    }

    fn from_triplets_csr(rows: usize, cols: usize, entries: impl IntoIterator<Item = (usize, usize, f64)>) -> Self {
        let mut by_row = vec![Vec::new(); rows];
        for (r, c, v) in entries {
            by_row[r].push((c, v));
        }
        Weight::from_rows(cols, by_row)
    }

    /// A CSR matrix from each row's `(column, value)` entries, in any order (duplicates summed):
    /// sorting each row on its own is what makes loading a CIFAR CNN's convolutions cheap.
    pub fn from_rows(cols: usize, rows: Vec<Vec<(usize, f64)>>) -> Self {
        let nnz = rows.iter().map(Vec::len).sum();
        let (mut indptr, mut indices, mut data) =
            (Vec::with_capacity(rows.len() + 1), Vec::with_capacity(nnz), Vec::with_capacity(nnz));
        indptr.push(0);
        let n = rows.len();
        for mut row in rows {
            row.sort_unstable_by_key(|&(c, _)| c);
            for (c, v) in row {
                assert!(c < cols, "column {c} of a matrix with {cols} columns");
                if indices.len() > *indptr.last().unwrap() && *indices.last().unwrap() == c {
                    *data.last_mut().unwrap() += v;
                } else {
                    indices.push(c);
                    data.push(v);
                }
            }
            indptr.push(indices.len());
        }
        Weight::Sparse(CsMat::new((n, cols), indptr, indices, data))
    }

    /// `(rows, columns)`.
    pub fn dim(&self) -> (usize, usize) {
        match self {
            Weight::Dense(d) => d.dim(),
            Weight::Sparse(s) => s.shape(),
        }
    }

    /// Number of rows (the layer's outputs).
    pub fn nrows(&self) -> usize {
        self.dim().0
    }

    /// Number of columns (the layer's inputs).
    pub fn ncols(&self) -> usize {
        self.dim().1
    }

    /// Number of nonzero entries.
    pub fn nnz(&self) -> usize {
        match self {
            Weight::Dense(d) => d.iter().filter(|v| **v != 0.0).count(),
            Weight::Sparse(s) => s.data().iter().filter(|v| **v != 0.0).count(),
        }
    }

    /// Whether the matrix is stored sparse.
    pub fn is_sparse(&self) -> bool {
        matches!(self, Weight::Sparse(_))
    }

    /// The stored entries of row `j`.
    #[inline]
    pub fn row(&self, j: usize) -> Row<'_> {
        match self {
            Weight::Dense(d) => Row::Dense(d.row(j).into_iter().enumerate()),
            Weight::Sparse(s) => {
                let range = s.indptr().outer_inds_sz(j);
                Row::Sparse(s.indices()[range.clone()].iter().zip(s.data()[range].iter()))
            }
        }
    }

    /// `target += scale · W[i, :]` (`target` of length `ncols`), without an iterator per entry:
    /// the inner loop of CROWN's back-substitution.
    #[inline]
    pub fn add_row_scaled(&self, i: usize, scale: f64, target: &mut [f64]) {
        match self {
            Weight::Dense(d) => {
                let row = d.row(i);
                let row = row.as_slice().expect("dense weights are row-major");
                target.iter_mut().zip(row).for_each(|(t, w)| *t += scale * w);
            }
            Weight::Sparse(s) => {
                let range = s.indptr().outer_inds_sz(i);
                for (&c, &w) in s.indices()[range.clone()].iter().zip(&s.data()[range]) {
                    target[c] += scale * w;
                }
            }
        }
    }

    /// Every stored entry `(row, column, value)`, row by row.
    pub fn entries(&self) -> Box<dyn Iterator<Item = (usize, usize, f64)> + '_> {
        match self {
            Weight::Dense(d) => Box::new(dense_entries(d)),
            Weight::Sparse(s) => Box::new(s.iter().map(|(v, (r, c))| (r, c, *v))),
        }
    }

    /// Column `i` as a dense vector.
    pub fn column(&self, i: usize) -> Array1<f64> {
        match self {
            Weight::Dense(d) => d.column(i).to_owned(),
            Weight::Sparse(s) => {
                let mut out = Array1::zeros(s.rows());
                for (j, row) in s.outer_iterator().enumerate() {
                    out[j] = row.get(i).copied().unwrap_or(0.0);
                }
                out
            }
        }
    }

    /// The dense matrix (borrowed when stored dense). Only for small networks or where a dense
    /// result is needed anyway (the walk's first-layer map).
    pub fn to_dense(&self) -> Cow<'_, Array2<f64>> {
        match self {
            Weight::Dense(d) => Cow::Borrowed(d),
            Weight::Sparse(s) => Cow::Owned(s.to_dense()),
        }
    }

    /// `W v`.
    pub fn dot(&self, v: ArrayView1<f64>) -> Array1<f64> {
        match self {
            Weight::Dense(d) => d.dot(&v),
            Weight::Sparse(_) => (0..self.nrows()).map(|j| self.row_dot(j, v)).collect(),
        }
    }

    /// Row `j` of `W v` for a sparse `W`, summed as [`Weight::dot`] sums it (bit for bit).
    #[inline]
    pub fn row_dot(&self, j: usize, v: ArrayView1<f64>) -> f64 {
        self.row(j).map(|(i, w)| w * v[i]).sum()
    }

    /// For a sparse matrix, the rows that read each column (its transpose's pattern): the rows of
    /// `W v` that change when a few entries of `v` do.
    pub fn readers(&self) -> Option<Readers> {
        let Weight::Sparse(s) = self else { return None };
        let mut start = vec![0usize; s.cols() + 1];
        s.indices().iter().for_each(|&i| start[i + 1] += 1);
        (0..s.cols()).for_each(|i| start[i + 1] += start[i]);
        let mut next = start.clone();
        let mut rows = vec![0u32; s.indices().len()];
        for (j, row) in s.outer_iterator().enumerate() {
            for &i in row.indices() {
                rows[next[i]] = j as u32;
                next[i] += 1;
            }
        }
        Some(Readers { start, rows })
    }

    /// `|W| v`: the magnitudes of the terms of `W h` when `v = |h|`.
    pub fn abs_dot(&self, v: ArrayView1<f64>) -> Array1<f64> {
        match self {
            // Rows as plain slices: this runs for every witness a walk or partition checks.
            Weight::Dense(d) => match (d.as_slice(), v.as_slice()) {
                (Some(flat), Some(v)) if !v.is_empty() => {
                    flat.chunks_exact(v.len()).map(|row| abs_dot_row(row, v)).collect()
                }
                _ => d.rows().into_iter().map(|r| r.iter().zip(&v).map(|(w, x)| w.abs() * x).sum()).collect(),
            },
            Weight::Sparse(_) => self.map_rows(|row| row.map(|(i, w)| w.abs() * v[i]).sum()),
        }
    }

    /// One value per row, from that row's stored entries.
    pub fn map_rows(&self, f: impl Fn(Row<'_>) -> f64) -> Array1<f64> {
        (0..self.nrows()).map(|j| f(self.row(j))).collect()
    }

    /// `Σ_i |W[j, i]|` per row.
    pub fn row_abs_sums(&self) -> Array1<f64> {
        self.map_rows(|row| row.map(|(_, w)| w.abs()).sum())
    }

    /// `‖W[j, :]‖₂` per row.
    pub fn row_norms(&self) -> Array1<f64> {
        (0..self.nrows()).map(|j| self.row_norm(j)).collect()
    }

    /// `‖W[j, :]‖₂`, summed as [`Weight::row_norms`] sums it (bit for bit).
    #[inline]
    pub fn row_norm(&self, j: usize) -> f64 {
        self.row(j).map(|(_, w)| w * w).sum::<f64>().sqrt()
    }

    /// `W M` for a dense `M` (`ncols × k`).
    pub fn dot_mat(&self, m: &Array2<f64>) -> Array2<f64> {
        match self {
            Weight::Dense(d) => d.dot(m),
            Weight::Sparse(s) => sparse_product(s, m, |_| true),
        }
    }

    /// `W diag(keep) Z`: the product over the kept inner indices only.
    pub fn masked_product(&self, z: &Array2<f64>, keep: &[bool]) -> Array2<f64> {
        match self {
            Weight::Dense(d) => {
                let rows: Vec<usize> = (0..keep.len()).filter(|&i| keep[i]).collect();
                d.select(Axis(1), &rows).dot(&z.select(Axis(0), &rows))
            }
            Weight::Sparse(s) => sparse_product(s, z, |i| keep[i]),
        }
    }

    /// `Λ W` for a dense `Λ` (`k × nrows`): a dense op composed after a sparse one ([`Weight::compose`]).
    pub fn left_mul(&self, lambda: &Array2<f64>) -> Array2<f64> {
        match self {
            Weight::Dense(d) => lambda.dot(d),
            Weight::Sparse(s) => {
                let mut out = Array2::zeros((lambda.nrows(), s.cols()));
                for (mut target, coeffs) in out.outer_iter_mut().zip(lambda.outer_iter()) {
                    for (j, &c) in coeffs.iter().enumerate() {
                        if c != 0.0 {
                            for (i, &w) in s.outer_view(j).expect("row in range").iter() {
                                target[i] += c * w;
                            }
                        }
                    }
                }
                out
            }
        }
    }

    /// `self · inner`, in the storage that suits the product ([`Weight::compact`]): how the ONNX
    /// loader folds a chain of linear ops into one layer.
    pub fn compose(&self, inner: &Weight) -> Weight {
        assert_eq!(self.ncols(), inner.nrows(), "inner dimensions of a product");
        let product = match (self, inner) {
            (Weight::Sparse(a), Weight::Sparse(b)) => Weight::Sparse(a * b),
            (Weight::Sparse(_), Weight::Dense(b)) => Weight::Dense(self.dot_mat(b)),
            (Weight::Dense(a), Weight::Sparse(_)) => Weight::Dense(inner.left_mul(a)),
            (Weight::Dense(a), Weight::Dense(b)) => Weight::Dense(a.dot(b)),
        };
        product.compact()
    }

    /// The same matrix with the rows not in `keep` zeroed, in the same storage.
    pub fn mask_rows(&self, keep: &[bool]) -> Weight {
        match self {
            Weight::Dense(d) => {
                let mut masked = d.clone();
                for (mut row, _) in masked.rows_mut().into_iter().zip(keep).filter(|(_, k)| !**k) {
                    row.fill(0.0);
                }
                Weight::Dense(masked)
            }
            Weight::Sparse(_) => Weight::from_rows(
                self.ncols(),
                (0..self.nrows()).map(|j| if keep[j] { self.row(j).collect() } else { Vec::new() }).collect(),
            ),
        }
    }

    /// The rows `rows`, in that order, in the same storage.
    pub fn select_rows(&self, rows: &[usize]) -> Weight {
        match self {
            Weight::Dense(d) => Weight::Dense(d.select(Axis(0), rows)),
            Weight::Sparse(_) => Weight::from_triplets_csr(
                rows.len(),
                self.ncols(),
                rows.iter().enumerate().flat_map(|(r, &j)| self.row(j).map(move |(i, v)| (r, i, v))),
            ),
        }
    }

    /// The columns `cols`, in that order, in the same storage.
    pub fn select_columns(&self, cols: &[usize]) -> Weight {
        match self {
            Weight::Dense(d) => Weight::Dense(d.select(Axis(1), cols)),
            Weight::Sparse(_) => {
                let mut position = vec![None; self.ncols()];
                for (c, &i) in cols.iter().enumerate() {
                    position[i] = Some(c);
                }
                Weight::from_triplets_csr(
                    self.nrows(),
                    cols.len(),
                    self.entries().filter_map(|(r, i, v)| position[i].map(|c| (r, c, v))),
                )
            }
        }
    }

    /// `|W|`, in the same storage.
    pub fn abs(&self) -> Weight {
        let mut out = self.clone();
        out.map_by_column(|_, w| w.abs());
        out
    }

    /// Every stored entry `W[j, i]` replaced by `f(i, W[j, i])` (e.g. a scaling per input).
    pub fn map_by_column(&mut self, f: impl Fn(usize, f64) -> f64) {
        match self {
            Weight::Dense(d) => {
                for mut row in d.outer_iter_mut() {
                    for (i, v) in row.iter_mut().enumerate() {
                        *v = f(i, *v);
                    }
                }
            }
            Weight::Sparse(s) => {
                for mut row in s.outer_iterator_mut() {
                    for (i, v) in row.iter_mut() {
                        *v = f(i, *v);
                    }
                }
            }
        }
    }
}

/// `S diag(keep) M` for a CSR `S` and a dense `M`, one scaled row of `M` per kept entry.
fn sparse_product(s: &CsMat<f64>, m: &Array2<f64>, keep: impl Fn(usize) -> bool) -> Array2<f64> {
    let mut out = Array2::zeros((s.rows(), m.ncols()));
    for (mut target, row) in out.outer_iter_mut().zip(s.outer_iterator()) {
        for (i, &w) in row.iter().filter(|(i, _)| keep(*i)) {
            target.scaled_add(w, &m.row(i));
        }
    }
    out
}

fn dense_entries(d: &Array2<f64>) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
    d.indexed_iter().filter(|(_, v)| **v != 0.0).map(|((r, c), v)| (r, c, *v))
}

/// `Σ |w_i| v_i` with four running sums, so that the additions pipeline (a single running sum
/// waits for each addition in turn).
fn abs_dot_row(w: &[f64], v: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (w4, v4) = (w.chunks_exact(4), v.chunks_exact(4));
    let tail: f64 = w4.remainder().iter().zip(v4.remainder()).map(|(a, b)| a.abs() * b).sum();
    for (a, b) in w4.zip(v4) {
        for i in 0..4 {
            acc[i] += a[i].abs() * b[i];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Column `i`'s readers are exactly the rows with a stored entry in column `i`, and a row of
    /// `W v` summed alone is the whole product's bit for bit.
    #[test]
    fn readers_are_the_transposed_pattern_and_rows_sum_as_the_product() {
        for seed in 0..20 {
            let (dense, sparse) = both(30, 17, 0.2, seed);
            assert!(dense.readers().is_none());
            let readers = sparse.readers().unwrap();
            let d = dense.to_dense();
            for i in 0..17 {
                let expected: Vec<u32> = (0..30).filter(|&j| d[[j, i]] != 0.0).map(|j| j as u32).collect();
                assert_eq!(readers.of(i), &expected[..], "seed {seed}, column {i}");
            }
            let v = Array1::from_shape_fn(17, |i| (i as f64 * 0.37).sin());
            let whole = sparse.dot(v.view());
            for j in 0..30 {
                assert_eq!(sparse.row_dot(j, v.view()).to_bits(), whole[j].to_bits());
                assert_eq!(sparse.row_norm(j).to_bits(), sparse.row_norms()[j].to_bits());
            }
        }
    }

    /// A random matrix with about `density` of its entries nonzero, in both storages.
    fn both(rows: usize, cols: usize, density: f64, seed: u64) -> (Weight, Weight) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let d =
            Array2::from_shape_fn((rows, cols), |_| if rng.gen_bool(density) { rng.gen_range(-1.0..1.0) } else { 0.0 });
        let d = Weight::Dense(d);
        let s = d.csr();
        (d, s)
    }

    fn close(a: &Array2<f64>, b: &Array2<f64>) {
        assert_eq!(a.dim(), b.dim());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-12 * (1.0 + x.abs()), "{x} vs {y}");
        }
    }

    #[test]
    fn sparse_and_dense_storage_give_the_same_products() {
        for (seed, (rows, cols, density)) in
            [(7, 5, 0.5), (30, 40, 0.1), (1, 9, 0.0), (12, 1, 1.0)].into_iter().enumerate()
        {
            let (d, s) = both(rows, cols, density, seed as u64);
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(100 + seed as u64);
            let v = Array1::from_shape_fn(cols, |_| rng.gen_range(-2.0..2.0));
            let m = Array2::from_shape_fn((cols, 3), |_| rng.gen_range(-2.0..2.0));
            let lambda = Array2::from_shape_fn((4, rows), |_| rng.gen_range(-2.0..2.0));
            let keep: Vec<bool> = (0..cols).map(|i| i % 3 != 1).collect();
            let col = |a: Array1<f64>| a.insert_axis(Axis(1));
            close(&col(d.dot(v.view())), &col(s.dot(v.view())));
            close(&col(d.abs_dot(v.view())), &col(s.abs_dot(v.view())));
            close(&col(d.row_norms()), &col(s.row_norms()));
            close(&col(d.row_abs_sums()), &col(s.row_abs_sums()));
            close(&d.dot_mat(&m), &s.dot_mat(&m));
            close(&d.masked_product(&m, &keep), &s.masked_product(&m, &keep));
            close(&d.left_mul(&lambda), &s.left_mul(&lambda));
            close(&d.to_dense(), &s.to_dense());
            close(&col(d.column(cols - 1)), &col(s.column(cols - 1)));
            let picked: Vec<usize> = (0..rows).rev().step_by(2).collect();
            close(&d.select_rows(&picked).to_dense(), &s.select_rows(&picked).to_dense());
            let picked: Vec<usize> = (0..cols).step_by(2).collect();
            close(&d.select_columns(&picked).to_dense(), &s.select_columns(&picked).to_dense());
            let (mut d2, mut s2) = (d.clone(), s.clone());
            d2.map_by_column(|i, w| w * (i as f64 + 0.5));
            s2.map_by_column(|i, w| w * (i as f64 + 0.5));
            close(&d2.to_dense(), &s2.to_dense());
            assert_eq!(d.nnz(), s.nnz());
            let (inner_d, inner_s) = both(cols, 6, 0.3, 50 + seed as u64);
            let reference = d.to_dense().dot(&*inner_d.to_dense());
            for (a, b) in [(&d, &inner_d), (&d, &inner_s), (&s, &inner_d), (&s, &inner_s)] {
                close(&a.compose(b).to_dense(), &reference);
            }
            let row: Vec<(usize, f64)> = s.row(rows - 1).collect();
            let expected: Vec<(usize, f64)> = d.row(rows - 1).filter(|(_, v)| *v != 0.0).collect();
            assert_eq!(row, expected);
            let (mut from_dense, mut from_sparse) = (vec![1.0; cols], vec![1.0; cols]);
            d.add_row_scaled(0, -2.5, &mut from_dense);
            s.add_row_scaled(0, -2.5, &mut from_sparse);
            assert_eq!(from_dense, from_sparse);
        }
    }

    #[test]
    fn storage_follows_size_and_density() {
        let (d, _) = both(300, 300, 0.05, 1);
        assert!(d.compact().is_sparse(), "a large, 5% full matrix is stored sparse");
        let (d, _) = both(300, 300, 0.6, 2);
        assert!(!d.compact().is_sparse(), "a 60% full matrix stays dense");
        let (_, s) = both(10, 10, 0.05, 3);
        assert!(!s.compact().is_sparse(), "a small matrix is dense whatever its density");
        let summed = Weight::from_triplets(2, 2, [(0, 1, 1.0), (0, 1, 2.0), (1, 0, -1.0)]);
        assert_eq!(summed.to_dense().into_owned(), ndarray::array![[0.0, 3.0], [-1.0, 0.0]]);
    }
}
