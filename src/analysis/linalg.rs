//! Certified linear algebra for sound bounds: an upper bound on the spectral norm that never
//! under-estimates (power iteration can, theory §3.3) and a rank that never under-estimates.

use crate::model::Weight;
use crate::tolerance::NORM_ROUNDING;
use ndarray::{Array2, ArrayView2};

/// Squarings in the trace-power bound: it over-estimates `‖W‖₂` by at most `rank^(1/2^(m+1))`
/// (1.044 for rank 256 with m = 6).
const TRACE_POWER_SQUARINGS: u32 = 6;

/// The trace-power bound squares a `k × k` Gram matrix (`k` the smaller side) six times, `6k³`
/// operations: above this side (a convolution over a CIFAR image, `k` in the thousands) it is
/// left out and the other two bounds stand.
const TRACE_POWER_MAX_SIDE: usize = 512;

/// A certified upper bound on the spectral norm `‖W‖₂`: the smallest of the Frobenius norm,
/// `sqrt(‖W‖₁ ‖W‖∞)` and (for a smaller side up to [`TRACE_POWER_MAX_SIDE`]) the trace-power
/// bound `tr((WᵀW)^(2^m))^(1/2^(m+1))`, rounded outward.
pub fn spectral_norm_upper(w: &Weight) -> f64 {
    let (rows, cols) = w.dim();
    if rows == 0 || cols == 0 {
        return 0.0;
    }
    let (mut squares, mut col_sums, mut row_sums) = (0.0, vec![0.0; cols], vec![0.0; rows]);
    for (r, c, v) in w.entries() {
        squares += v * v;
        col_sums[c] += v.abs();
        row_sums[r] += v.abs();
    }
    let frobenius = squares.sqrt();
    if frobenius == 0.0 {
        return 0.0;
    }
    let max = |v: Vec<f64>| v.into_iter().fold(0.0_f64, f64::max);
    let holder = (max(col_sums) * max(row_sums)).sqrt();
    let trace = if rows.min(cols) <= TRACE_POWER_MAX_SIDE { trace_power(gram(w)) } else { f64::INFINITY };
    frobenius.min(holder).min(trace) * (1.0 + NORM_ROUNDING)
}

/// The smaller of the Gram matrices `WWᵀ` and `WᵀW`.
fn gram(w: &Weight) -> Array2<f64> {
    match w {
        Weight::Dense(d) if d.nrows() <= d.ncols() => d.dot(&d.t()),
        Weight::Dense(d) => d.t().dot(d),
        Weight::Sparse(s) => {
            // Σ over the lines of the longer side of the outer products of their entries.
            let lines = if s.rows() <= s.cols() { s.transpose_view().to_csr() } else { s.clone() };
            let k = lines.cols();
            let mut g = Array2::zeros((k, k));
            for line in lines.outer_iterator() {
                for (i, &a) in line.iter() {
                    for (j, &b) in line.iter() {
                        g[[i, j]] += a * b;
                    }
                }
            }
            g
        }
    }
}

/// `λmax(G) ≤ tr(G^(2^m))^(1/2^m)` for the Gram matrix `G`, returned as a bound on `‖W‖₂`,
/// computed with renormalisation after every squaring so that nothing under- or overflows.
fn trace_power(gram: Array2<f64>) -> f64 {
    let scale = gram.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut h: Array2<f64> = gram / scale;
    // log tr(H0^(2^m)) = Σ_k 2^(m-1-k) log c_k with c_k = tr(H_k²), H_{k+1} = H_k² / c_k.
    let mut log_trace = 0.0;
    for k in 0..TRACE_POWER_SQUARINGS {
        let sq = h.dot(&h);
        let c = sq.diag().sum();
        if !(c > 0.0 && c.is_finite()) {
            return f64::INFINITY;
        }
        log_trace += 2f64.powi((TRACE_POWER_SQUARINGS - 1 - k) as i32) * c.ln();
        h = sq / c;
    }
    let lambda_max = scale * (log_trace / 2f64.powi(TRACE_POWER_SQUARINGS as i32)).exp();
    lambda_max.sqrt()
}

/// Gaussian elimination on the selected rows costs `rows · cols · min(rows, cols)`; above this a
/// layer's rank is bounded by counting instead ([`weight_rank_upper`]).
const RANK_MAX_WORK: usize = 200_000_000;

/// An upper bound on the rank of a layer's rows `rows`: [`rank_upper`] on them, or, where the
/// elimination would cost more than [`RANK_MAX_WORK`] (a convolution with thousands of rows),
/// the number of rows or of columns they touch, whichever is smaller.
pub fn weight_rank_upper(w: &Weight, rows: &[usize]) -> usize {
    let cols = w.ncols();
    if rows.len().saturating_mul(cols).saturating_mul(rows.len().min(cols)) <= RANK_MAX_WORK {
        return match w {
            Weight::Dense(d) => rank_upper(d.view(), rows),
            Weight::Sparse(_) => {
                rank_upper(w.select_rows(rows).to_dense().view(), &(0..rows.len()).collect::<Vec<_>>())
            }
        };
    }
    let mut touched = vec![false; cols];
    for &j in rows {
        for (i, v) in w.row(j) {
            touched[i] |= v != 0.0;
        }
    }
    rows.len().min(touched.iter().filter(|t| **t).count())
}

/// The rank of the rows of `w` selected by `rows`, by Gaussian elimination with partial pivoting;
/// only an exactly zero pivot counts as dependent, so rounding can only over-estimate the rank
/// (the safe direction for bounds, theory §5 L3).
pub fn rank_upper(w: ArrayView2<f64>, rows: &[usize]) -> usize {
    let mut m: Vec<Vec<f64>> = rows.iter().map(|&i| w.row(i).to_vec()).collect();
    let cols = w.ncols();
    let mut rank = 0;
    for col in 0..cols {
        if rank == m.len() {
            break;
        }
        let Some(pivot) = (rank..m.len()).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs())) else { break };
        if m[pivot][col] == 0.0 {
            continue;
        }
        m.swap(rank, pivot);
        let p = m[rank].clone();
        for row in m.iter_mut().skip(rank + 1) {
            let f = row[col] / p[col];
            if f != 0.0 {
                row.iter_mut().zip(&p).for_each(|(x, y)| *x -= f * y);
                row[col] = 0.0;
            }
        }
        rank += 1;
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn spectral_bound_is_above_the_true_norm_and_close_to_it() {
        // Singular values of diag(3, 1) are 3 and 1; a rank-one matrix u vᵀ has norm |u||v|.
        let d = array![[3.0, 0.0], [0.0, 1.0]];
        let b = spectral_norm_upper(&d.into());
        assert!((3.0..3.0 * 1.05).contains(&b), "{b}");
        let r1 = array![[1.0, 2.0, 2.0], [2.0, 4.0, 4.0]];
        let b = spectral_norm_upper(&r1.into());
        let exact = 5f64.sqrt() * 3.0;
        assert!((exact..exact * 1.000001).contains(&b), "{b}");
        // The case where power iteration from a bad start reports 0 (theory §3.3).
        let row = array![[0.0, 1.0]];
        assert!(spectral_norm_upper(&row.into()) >= 1.0);
    }

    #[test]
    fn rank_counts_duplicates_once_and_never_drops_a_direction() {
        let w = array![[1.0, 2.0], [2.0, 4.0], [0.0, 1.0], [0.0, 0.0]];
        assert_eq!(rank_upper(w.view(), &[0, 1]), 1);
        assert_eq!(rank_upper(w.view(), &[0, 1, 2]), 2);
        assert_eq!(rank_upper(w.view(), &[3]), 0);
        assert_eq!(rank_upper(w.view(), &[]), 0);
    }
}
