//! Comparing two groups of audit records: summary statistics and the two-sided Mann–Whitney U test
//! (normal approximation with tie correction and continuity correction).

use super::Record;
use serde::Serialize;
use serde_json::{json, Value};

/// Summary of a sample.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Sample size.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// First quartile.
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q3: f64,
}

/// Summary statistics (quartiles by linear interpolation); `None` for an empty sample.
pub fn summary(values: &[f64]) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let pos = p * (v.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
    };
    Some(Summary { n: v.len(), mean: v.iter().sum::<f64>() / v.len() as f64, q1: q(0.25), median: q(0.5), q3: q(0.75) })
}

/// Mann–Whitney U of sample `a` against `b` and the two-sided p-value.
pub fn mann_whitney(a: &[f64], b: &[f64]) -> Option<(f64, f64)> {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let mut all: Vec<(f64, bool)> = a.iter().map(|&x| (x, true)).chain(b.iter().map(|&x| (x, false))).collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    // Average ranks over ties, and the tie correction term Σ(t³ - t).
    let mut rank_sum_a = 0.0;
    let mut ties = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        rank_sum_a += all[i..=j].iter().filter(|x| x.1).count() as f64 * rank;
        i = j + 1;
    }
    let u = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let n = n1 + n2;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if variance <= 0.0 {
        return Some((u, 1.0));
    }
    let z = ((u - n1 * n2 / 2.0).abs() - 0.5).max(0.0) / variance.sqrt();
    Some((u, (2.0 * normal_upper_tail(z)).min(1.0)))
}

/// `P(Z > z)` for a standard normal, via the complementary error function (Numerical Recipes'
/// Chebyshev fit, relative error < 1.2e-7).
fn normal_upper_tail(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let poly = -x * x - 1.26551223
        + t * (1.00002368
            + t * (0.37409196
                + t * (0.09678418
                    + t * (-0.18628806
                        + t * (0.27886807
                            + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    let erfc = t * poly.exp();
    0.5 * if x >= 0.0 { erfc } else { 2.0 - erfc }
}

/// Two audit reports side by side: per radius, the distributions of exact counts (records whose
/// walk finished) with a Mann–Whitney U test, and the same for the distance to the nearest region
/// boundary (one value per point: it does not depend on the radius). JSON: `boundary_distance`
/// and `per_radius` (`radius`, `regions`), each holding `a`, `b` (summaries), `u` and `p_value`.
pub fn compare_reports(a: &[Record], b: &[Record]) -> Value {
    let mut radii: Vec<f64> = a.iter().chain(b).map(|r| r.radius).collect();
    radii.sort_by(f64::total_cmp);
    radii.dedup();
    let counts = |rs: &[Record], r: f64| -> Vec<f64> {
        rs.iter()
            .filter(|x| x.radius == r && x.complete == Some(true))
            .filter_map(|x| x.regions.map(|n| n as f64))
            .collect()
    };
    let distances = |rs: &[Record]| -> Vec<f64> {
        let mut seen = rustc_hash::FxHashSet::default();
        rs.iter().filter(|x| seen.insert(x.point)).map(|x| x.boundary_distance).collect()
    };
    let compare = |x: &[f64], y: &[f64]| {
        let test = mann_whitney(x, y);
        json!({"a": summary(x), "b": summary(y), "u": test.map(|t| t.0), "p_value": test.map(|t| t.1)})
    };
    let per_radius: Vec<Value> =
        radii.iter().map(|&r| json!({"radius": r, "regions": compare(&counts(a, r), &counts(b, r))})).collect();
    json!({"boundary_distance": compare(&distances(a), &distances(b)), "per_radius": per_radius})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_and_median() {
        let s = summary(&[4.0, 1.0, 3.0, 2.0, 5.0]).unwrap();
        assert_eq!((s.q1, s.median, s.q3, s.mean), (2.0, 3.0, 4.0, 3.0));
    }

    #[test]
    fn mann_whitney_matches_reference_values() {
        // scipy.stats.mannwhitneyu(a, b, method="asymptotic") (scipy 1.x): U = 0, p = 0.0121857804;
        // with ties, U = 9, p = 0.3063414378.
        let (u, p) = mann_whitney(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0]).unwrap();
        assert_eq!(u, 0.0);
        assert!((p - 0.0121857804).abs() < 1e-6, "{p}");
        let (u, p) = mann_whitney(&[1.0, 2.0, 2.0, 3.0, 7.0, 7.0], &[2.0, 5.0, 6.0, 7.0, 8.0]).unwrap();
        assert_eq!(u, 9.0);
        assert!((p - 0.3063414378).abs() < 1e-6, "{p}");
        // Identical samples: no evidence of a difference.
        let (_, p) = mann_whitney(&[1.0, 2.0, 2.0, 3.0], &[1.0, 2.0, 2.0, 3.0]).unwrap();
        assert!(p > 0.9);
        assert!((normal_upper_tail(1.959964) - 0.025).abs() < 1e-6);
    }
}
