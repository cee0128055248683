//! Comparing two groups of audit records: summaries, a rank test and effect sizes with bootstrap
//! intervals.
//!
//! - **Unpaired** (two samples of different points): the two-sided Mann–Whitney U test (normal
//!   approximation with tie and continuity corrections, as `scipy.stats.mannwhitneyu(...,
//!   method="asymptotic")`), Cliff's δ `= P(a > b) − P(a < b)` and the Hodges–Lehmann shift
//!   (the median of all differences `a_i − b_j`).
//! - **Paired** (the same points measured twice: two epochs, an adversarial example and its
//!   source, two networks on the same inputs): records are matched by point index; the two-sided
//!   Wilcoxon signed-rank test on the differences (zero differences dropped, normal approximation
//!   with the tie correction and no continuity correction, as `scipy.stats.wilcoxon(...,
//!   method="approx")`), the paired δ `= P(d > 0) − P(d < 0)` and the Hodges–Lehmann shift
//!   (the median of the Walsh averages `(d_i + d_j)/2`, `i ≤ j`).
//!
//! Both give the ratio of the medians, and every effect size a percentile bootstrap interval
//! (points resampled within each group, or pairs resampled; seeded, so reproducible).

use super::Record;
use crate::tolerance::COMPARE_BOOTSTRAP;
use crate::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use schemars::JsonSchema;
use serde::Serialize;

/// Summary of a sample.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
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

/// Summary statistics (quartiles by linear interpolation, as NumPy's default); `None` for an
/// empty sample.
pub fn summary(values: &[f64]) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let q = |p: f64| quantile(&v, p);
    Some(Summary { n: v.len(), mean: v.iter().sum::<f64>() / v.len() as f64, q1: q(0.25), median: q(0.5), q3: q(0.75) })
}

/// Quantile `p` of sorted, non-empty `v` by linear interpolation.
fn quantile(v: &[f64], p: f64) -> f64 {
    let pos = p * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// The median of non-empty `v` (reordered in place).
fn median(v: &mut [f64]) -> f64 {
    let n = v.len();
    let (_, &mut upper, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return upper;
    }
    let lower = v[..n / 2].iter().copied().max_by(f64::total_cmp).expect("n ≥ 2");
    (lower + upper) / 2.0
}

/// Average ranks (1-based, ties sharing their mean rank) of `v` in its own order, and the tie
/// term `Σ (t³ − t)` over groups of `t` equal values.
fn ranks(v: &[f64]) -> (Vec<f64>, f64) {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
    let mut ranks = vec![0.0; v.len()];
    let mut ties = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        for &k in &order[i..=j] {
            ranks[k] = (i + j) as f64 / 2.0 + 1.0;
        }
        i = j + 1;
    }
    (ranks, ties)
}

/// Mann–Whitney U of sample `a` against `b` and the two-sided p-value.
pub fn mann_whitney(a: &[f64], b: &[f64]) -> Option<(f64, f64)> {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let all: Vec<f64> = a.iter().chain(b).copied().collect();
    let (ranks, ties) = ranks(&all);
    let u = ranks[..a.len()].iter().sum::<f64>() - n1 * (n1 + 1.0) / 2.0;
    let n = n1 + n2;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if variance <= 0.0 {
        return Some((u, 1.0));
    }
    let z = ((u - n1 * n2 / 2.0).abs() - 0.5).max(0.0) / variance.sqrt();
    Some((u, (2.0 * normal_upper_tail(z)).min(1.0)))
}

/// Wilcoxon signed-rank statistic `min(W⁺, W⁻)` of the differences `d` and the two-sided
/// p-value; zero differences are dropped first. `None` for no differences; p = 1 when all are
/// zero.
pub fn wilcoxon(d: &[f64]) -> Option<(f64, f64)> {
    if d.is_empty() {
        return None;
    }
    let nonzero: Vec<f64> = d.iter().copied().filter(|&x| x != 0.0).collect();
    let n = nonzero.len() as f64;
    let (ranks, ties) = ranks(&nonzero.iter().map(|x| x.abs()).collect::<Vec<_>>());
    let plus: f64 = ranks.iter().zip(&nonzero).filter(|(_, &x)| x > 0.0).map(|(r, _)| r).sum();
    let statistic = plus.min(n * (n + 1.0) / 2.0 - plus);
    let variance = n * (n + 1.0) * (2.0 * n + 1.0) / 24.0 - ties / 48.0;
    if variance <= 0.0 {
        return Some((statistic, 1.0));
    }
    let z = (statistic - n * (n + 1.0) / 4.0).abs() / variance.sqrt();
    Some((statistic, (2.0 * normal_upper_tail(z)).min(1.0)))
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

/// How two reports are compared.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CompareOptions {
    /// The same points in both reports, matched by index (Wilcoxon signed-rank and paired effect
    /// sizes); otherwise two independent samples (Mann–Whitney U).
    pub paired: bool,
    /// Bootstrap resamples behind each effect size's interval.
    pub resamples: usize,
    /// The intervals' coverage, in (0, 1).
    pub confidence: f64,
    /// Seed of the resampling: the same seed gives the same intervals on any number of threads.
    pub seed: u64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions { paired: false, resamples: COMPARE_BOOTSTRAP, confidence: 0.95, seed: 0 }
    }
}

impl CompareOptions {
    /// Errors for a confidence outside (0, 1) or no resamples.
    pub fn check(&self) -> Result<()> {
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(Error::Settings(format!("confidence {} is not in (0, 1)", self.confidence)));
        }
        if self.resamples == 0 {
            return Err(Error::Settings("the bootstrap needs at least one resample".into()));
        }
        Ok(())
    }
}

/// An effect size and its percentile bootstrap interval.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Interval {
    /// The effect size on the data.
    pub estimate: f64,
    /// Lower end of the interval.
    pub low: f64,
    /// Upper end of the interval.
    pub high: f64,
}

/// One quantity compared between the groups.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Contrast {
    /// Group A's values (paired: those that have a partner in B).
    pub a: Option<Summary>,
    /// Group B's values (likewise).
    pub b: Option<Summary>,
    /// Pairs compared (paired comparisons only).
    pub pairs: Option<usize>,
    /// Mann–Whitney U of A against B, or the Wilcoxon signed-rank `min(W⁺, W⁻)` of `A − B`.
    pub statistic: Option<f64>,
    /// Two-sided p-value of that test.
    pub p_value: Option<f64>,
    /// Cliff's δ: `P(a > b) − P(a < b)` over all pairs of values (paired: over the pairs), in
    /// [−1, 1]; positive when A tends to be larger.
    pub cliffs_delta: Option<Interval>,
    /// Hodges–Lehmann shift of A against B: the median of all differences `a − b` (paired: the
    /// median of the Walsh averages of the differences), in the quantity's unit.
    pub shift: Option<Interval>,
    /// `median(A) / median(B)`; null unless every value is positive.
    pub median_ratio: Option<Interval>,
}

/// The counts at one radius compared.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct RadiusContrast {
    /// The radius.
    pub radius: f64,
    /// Exact counts (records whose walk finished; paired: both of the pair finished).
    pub regions: Contrast,
}

/// `audit-compare --json`: two audit reports compared, quantity by quantity.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Comparison {
    /// Whether points were paired by index.
    pub paired: bool,
    /// The test behind the p-values: `mann-whitney-u` or `wilcoxon-signed-rank`.
    pub test: &'static str,
    /// Coverage of the effect sizes' intervals.
    pub confidence: f64,
    /// Bootstrap resamples behind them.
    pub resamples: usize,
    /// Seed of the resampling.
    pub seed: u64,
    /// Distance from each point to its nearest region boundary (one value per point: it does not
    /// depend on the radius).
    pub boundary_distance: Contrast,
    /// Region counts, per radius.
    pub per_radius: Vec<RadiusContrast>,
}

/// Two audit reports side by side: the distance to the nearest region boundary, and per radius the
/// exact counts. Paired comparisons need both reports to hold the same points.
pub fn compare_reports(a: &[Record], b: &[Record], options: &CompareOptions) -> Result<Comparison> {
    options.check()?;
    let mut radii: Vec<f64> = a.iter().chain(b).map(|r| r.radius).collect();
    radii.sort_by(f64::total_cmp);
    radii.dedup();
    let distances = |rs: &[Record]| -> FxHashMap<usize, f64> {
        let mut by_point = FxHashMap::default();
        for r in rs {
            by_point.entry(r.point).or_insert(r.boundary_distance);
        }
        by_point
    };
    let counts = |rs: &[Record], radius: f64| -> FxHashMap<usize, f64> {
        rs.iter()
            .filter(|x| x.radius == radius && x.complete == Some(true))
            .filter_map(|x| x.regions.map(|n| (x.point, n as f64)))
            .collect()
    };
    let (da, db) = (distances(a), distances(b));
    if options.paired {
        let only_one = da.keys().filter(|p| !db.contains_key(p)).chain(db.keys().filter(|p| !da.contains_key(p)));
        if let Some(p) = only_one.min() {
            return Err(Error::Settings(format!(
                "a paired comparison needs the same points in both reports: point {p} is in only one"
            )));
        }
    }
    let contrast = |x: &FxHashMap<usize, f64>, y: &FxHashMap<usize, f64>| contrast(x, y, options);
    Ok(Comparison {
        paired: options.paired,
        test: if options.paired { "wilcoxon-signed-rank" } else { "mann-whitney-u" },
        confidence: options.confidence,
        resamples: options.resamples,
        seed: options.seed,
        boundary_distance: contrast(&da, &db),
        per_radius: radii
            .iter()
            .map(|&radius| RadiusContrast { radius, regions: contrast(&counts(a, radius), &counts(b, radius)) })
            .collect(),
    })
}

/// One quantity compared: values keyed by point (the key pairs them when `options.paired`).
fn contrast(a: &FxHashMap<usize, f64>, b: &FxHashMap<usize, f64>, options: &CompareOptions) -> Contrast {
    let (x, y): (Vec<f64>, Vec<f64>) = if options.paired {
        let mut points: Vec<usize> = a.keys().filter(|p| b.contains_key(p)).copied().collect();
        points.sort_unstable();
        points.iter().map(|p| (a[p], b[p])).unzip()
    } else {
        let sorted = |m: &FxHashMap<usize, f64>| {
            let mut v: Vec<(usize, f64)> = m.iter().map(|(&p, &v)| (p, v)).collect();
            v.sort_unstable_by_key(|e| e.0);
            v.into_iter().map(|e| e.1).collect::<Vec<f64>>()
        };
        (sorted(a), sorted(b))
    };
    let test = if options.paired {
        wilcoxon(&x.iter().zip(&y).map(|(p, q)| p - q).collect::<Vec<_>>())
    } else {
        mann_whitney(&x, &y)
    };
    let effects = Effects { paired: options.paired };
    let intervals = effects.bootstrap(&x, &y, options);
    Contrast {
        a: summary(&x),
        b: summary(&y),
        pairs: options.paired.then_some(x.len()),
        statistic: test.map(|t| t.0),
        p_value: test.map(|t| t.1),
        cliffs_delta: intervals[0].clone(),
        shift: intervals[1].clone(),
        median_ratio: intervals[2].clone(),
    }
}

/// The three effect sizes of a comparison (Cliff's δ, the Hodges–Lehmann shift, the ratio of
/// medians), unpaired or paired.
struct Effects {
    paired: bool,
}

impl Effects {
    /// The effect sizes of `a` against `b` (aligned when paired); `None` where undefined (an
    /// empty group; a ratio with a non-positive value).
    fn of(&self, a: &[f64], b: &[f64]) -> [Option<f64>; 3] {
        if a.is_empty() || b.is_empty() {
            return [None, None, None];
        }
        let ratio = (a.iter().chain(b).all(|&v| v > 0.0)).then(|| median(&mut a.to_vec()) / median(&mut b.to_vec()));
        if self.paired {
            let d: Vec<f64> = a.iter().zip(b).map(|(p, q)| p - q).collect();
            let sign = |s: f64| d.iter().filter(|&&x| x * s > 0.0).count() as f64;
            let delta = (sign(1.0) - sign(-1.0)) / d.len() as f64;
            let mut walsh: Vec<f64> =
                d.iter().enumerate().flat_map(|(i, di)| d[i..].iter().map(move |dj| (di + dj) / 2.0)).collect();
            [Some(delta), Some(median(&mut walsh)), ratio]
        } else {
            let (u, _) = mann_whitney(a, b).expect("both groups are non-empty");
            let delta = 2.0 * u / (a.len() * b.len()) as f64 - 1.0;
            let mut differences: Vec<f64> = a.iter().flat_map(|p| b.iter().map(move |q| p - q)).collect();
            [Some(delta), Some(median(&mut differences)), ratio]
        }
    }

    /// Each effect size with its percentile bootstrap interval. Resample `k` draws from stream `k`
    /// of the seed's generator, so the intervals do not depend on the threads.
    fn bootstrap(&self, a: &[f64], b: &[f64], options: &CompareOptions) -> [Option<Interval>; 3] {
        let estimates = self.of(a, b);
        let draws: Vec<[Option<f64>; 3]> = (0..options.resamples)
            .into_par_iter()
            .map(|k| {
                let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
                rng.set_stream(k as u64);
                let (ra, rb): (Vec<f64>, Vec<f64>) = if self.paired {
                    (0..a.len()).map(|_| rng.gen_range(0..a.len())).map(|i| (a[i], b[i])).unzip()
                } else {
                    let ra = (0..a.len()).map(|_| a[rng.gen_range(0..a.len())]).collect();
                    (ra, (0..b.len()).map(|_| b[rng.gen_range(0..b.len())]).collect())
                };
                self.of(&ra, &rb)
            })
            .collect();
        let tail = (1.0 - options.confidence) / 2.0;
        std::array::from_fn(|e| {
            let estimate = estimates[e]?;
            let mut values: Vec<f64> =
                draws.iter().map(|d| d[e].expect("defined on the data, so on resamples")).collect();
            values.sort_by(f64::total_cmp);
            Some(Interval { estimate, low: quantile(&values, tail), high: quantile(&values, 1.0 - tail) })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_and_median() {
        let s = summary(&[4.0, 1.0, 3.0, 2.0, 5.0]).unwrap();
        assert_eq!((s.q1, s.median, s.q3, s.mean), (2.0, 3.0, 4.0, 3.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
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

    #[test]
    fn wilcoxon_matches_reference_values() {
        // scipy.stats.wilcoxon(d, method="approx") (scipy 1.17): statistic 2.5, p = 0.0297728763
        // (a zero difference dropped, two tied magnitudes).
        let (w, p) = wilcoxon(&[1.0, -2.0, 3.0, 4.0, 5.0, 2.0, 0.0, 6.0, 7.0]).unwrap();
        assert_eq!(w, 2.5);
        assert!((p - 0.0297728763).abs() < 1e-6, "{p}");
        assert_eq!(wilcoxon(&[0.0, 0.0]), Some((0.0, 1.0)));
    }

    #[test]
    fn effect_sizes_by_definition() {
        let unpaired = Effects { paired: false };
        let [delta, shift, ratio] = unpaired.of(&[1.0, 2.0, 3.0], &[2.0, 4.0]);
        // a > b in 1 of 6 pairs, a < b in 4: δ = −3/6; differences −1 −3 0 −2 1 −1: median −1.
        assert_eq!((delta, shift, ratio), (Some(-0.5), Some(-1.0), Some(2.0 / 3.0)));
        let paired = Effects { paired: true };
        let [delta, shift, _] = paired.of(&[3.0, 1.0, 5.0], &[1.0, 1.0, 2.0]);
        // d = 2, 0, 3; Walsh averages 2, 1, 2.5, 0, 1.5, 3: median 1.75.
        assert_eq!((delta, shift), (Some(2.0 / 3.0), Some(1.75)));
        assert_eq!(unpaired.of(&[0.0, 1.0], &[1.0])[2], None);
    }
}
