//! Exact combinatorics with arbitrary-size integers: binomial sums, products and the (local) Serra
//! recursion (theory §4.3, §5 L3). Values never overflow and are never rounded.

use num_bigint::BigUint;
use num_traits::{One, ToPrimitive, Zero};
use rustc_hash::FxHashMap;

/// `C(n, 0..=n)`.
pub fn binomial_row(n: usize) -> Vec<BigUint> {
    let mut row = Vec::with_capacity(n + 1);
    let mut c = BigUint::one();
    row.push(c.clone());
    for j in 0..n {
        c = c * BigUint::from(n - j) / BigUint::from(j + 1);
        row.push(c.clone());
    }
    row
}

/// `Σ_{j=0}^{min(d,k)} C(k, j)`: the number of regions of `k` hyperplanes in general position in
/// dimension `d`, the Zaslavsky bound for any position.
pub fn binomial_sum(k: usize, d: usize) -> BigUint {
    binomial_row(k).into_iter().take(d.min(k) + 1).sum()
}

/// One layer of the Serra-type recursion.
#[derive(Clone, Copy, Debug)]
pub struct SerraLayer {
    /// Number of (distinct) hyperplanes that can split a region.
    pub unstable: usize,
    /// Dimension contributed by the units that are always active (a rank, or a count).
    pub alpha: usize,
    /// Cap on the dimension after the layer (rank of all possibly-active rows).
    pub beta: usize,
}

/// `N_1(n0)` of the recursion `N_{L+1}(d) = 1`,
/// `N_l(d) = Σ_{j=0}^{min(d,u_l)} C(u_l, j) N_{l+1}(min(d, α_l + u_l − j, β_l))` (theory §5 L3).
/// With `α = 0, β = u = n_l` it is Serra et al. 2018, Theorem 1.
pub fn serra(layers: &[SerraLayer], n0: usize) -> BigUint {
    let rows: Vec<Vec<BigUint>> = layers.iter().map(|l| binomial_row(l.unstable)).collect();
    let mut memo: FxHashMap<(usize, usize), BigUint> = FxHashMap::default();
    serra_from(layers, &rows, 0, n0, &mut memo)
}

fn serra_from(
    layers: &[SerraLayer],
    rows: &[Vec<BigUint>],
    l: usize,
    d: usize,
    memo: &mut FxHashMap<(usize, usize), BigUint>,
) -> BigUint {
    if l == layers.len() {
        return BigUint::one();
    }
    if let Some(v) = memo.get(&(l, d)) {
        return v.clone();
    }
    let layer = layers[l];
    let mut total = BigUint::zero();
    for j in 0..=d.min(layer.unstable) {
        let next = d.min(layer.alpha + layer.unstable - j).min(layer.beta);
        total += &rows[l][j] * serra_from(layers, rows, l + 1, next, memo);
    }
    memo.insert((l, d), total.clone());
    total
}

/// `log10` of a big integer (0 for 0), accurate to about 1e-15 relative.
pub fn log10(x: &BigUint) -> f64 {
    if x.is_zero() {
        return 0.0;
    }
    let bits = x.bits();
    if bits <= 1000 {
        return x.to_f64().unwrap_or(f64::INFINITY).log10();
    }
    let shift = bits - 64;
    (x >> shift).to_f64().unwrap_or(f64::INFINITY).log10() + shift as f64 * std::f64::consts::LOG10_2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_sums_match_small_cases() {
        assert_eq!(binomial_sum(3, 2), BigUint::from(7u32));
        assert_eq!(binomial_sum(3, 5), BigUint::from(8u32));
        assert_eq!(binomial_sum(0, 2), BigUint::from(1u32));
        assert_eq!(binomial_row(60)[30], "118264581564861424".parse::<BigUint>().unwrap());
    }

    #[test]
    fn serra_recursion_reproduces_fixture_f7() {
        // F7b (theory §7): layer 1 two unstable units (rank 2), layer 2 one unstable unit: L3 = 7.
        let layers = [SerraLayer { unstable: 2, alpha: 0, beta: 2 }, SerraLayer { unstable: 1, alpha: 0, beta: 1 }];
        assert_eq!(serra(&layers, 2), BigUint::from(7u32));
    }

    #[test]
    fn log10_is_right_for_huge_values() {
        let x = BigUint::from(10u32).pow(5000);
        assert!((log10(&x) - 5000.0).abs() < 1e-9);
        assert!((log10(&BigUint::from(1000u32)) - 3.0).abs() < 1e-12);
    }
}
