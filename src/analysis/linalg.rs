//! Certified linear algebra for sound bounds: an upper bound on the spectral norm that never
//! under-estimates (power iteration can, theory §3.3) and a rank that never under-estimates.

use crate::tolerance::NORM_ROUNDING;
use ndarray::{Array2, ArrayView2, Axis};

/// Squarings in the trace-power bound: it over-estimates `‖W‖₂` by at most `rank^(1/2^(m+1))`
/// (1.044 for rank 256 with m = 6).
const TRACE_POWER_SQUARINGS: u32 = 6;

/// A certified upper bound on the spectral norm `‖W‖₂`: the smallest of the Frobenius norm,
/// `sqrt(‖W‖₁ ‖W‖∞)` and the trace-power bound `tr((WᵀW)^(2^m))^(1/2^(m+1))`, rounded outward.
pub fn spectral_norm_upper(w: ArrayView2<f64>) -> f64 {
    if w.is_empty() {
        return 0.0;
    }
    let frobenius = w.iter().map(|v| v * v).sum::<f64>().sqrt();
    if frobenius == 0.0 {
        return 0.0;
    }
    let max_col = w.map_axis(Axis(0), |c| c.iter().map(|v| v.abs()).sum::<f64>()).fold(0.0_f64, |a, &b| a.max(b));
    let max_row = w.map_axis(Axis(1), |r| r.iter().map(|v| v.abs()).sum::<f64>()).fold(0.0_f64, |a, &b| a.max(b));
    let holder = (max_col * max_row).sqrt();
    frobenius.min(holder).min(trace_power(w)) * (1.0 + NORM_ROUNDING)
}

/// `λmax(G) ≤ tr(G^(2^m))^(1/2^m)` for the Gram matrix `G` (the smaller of `WWᵀ`, `WᵀW`), computed
/// with renormalisation after every squaring so that nothing under- or overflows.
fn trace_power(w: ArrayView2<f64>) -> f64 {
    let gram = if w.nrows() <= w.ncols() { w.dot(&w.t()) } else { w.t().dot(&w) };
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
        let b = spectral_norm_upper(d.view());
        assert!((3.0..3.0 * 1.05).contains(&b), "{b}");
        let r1 = array![[1.0, 2.0, 2.0], [2.0, 4.0, 4.0]];
        let b = spectral_norm_upper(r1.view());
        let exact = 5f64.sqrt() * 3.0;
        assert!((exact..exact * 1.000001).contains(&b), "{b}");
        // The case where power iteration from a bad start reports 0 (theory §3.3).
        let row = array![[0.0, 1.0]];
        assert!(spectral_norm_upper(row.view()) >= 1.0);
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
