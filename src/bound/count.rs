//! Exact combinatorics with arbitrary-size integers: binomial sums, products and the (local) Serra
//! recursion (theory §4.3, §5 L3). Values never overflow and are never rounded.

use num_bigint::BigUint;
use num_traits::{One, ToPrimitive, Zero};

/// `C(n, 0..=min(n, up_to))`: a recursion in `n0` dimensions reads no term past `j = n0`, and a
/// max-pooling layer's `n` (pairwise differences) runs to 10⁵, whose whole row would take
/// gigabytes.
pub fn binomial_row(n: usize, up_to: usize) -> Vec<BigUint> {
    let mut row = Vec::with_capacity(n.min(up_to) + 1);
    let mut c = BigUint::one();
    row.push(c.clone());
    for j in 0..n.min(up_to) {
        c = c * BigUint::from(n - j) / BigUint::from(j + 1);
        row.push(c.clone());
    }
    row
}

/// `Σ_{j=0}^{min(d,k)} C(k, j)`: the number of regions of `k` hyperplanes in general position in
/// dimension `d`, the Zaslavsky bound for any position. Only the terms summed are formed: a CNN's
/// `k` runs to 10⁵ (a max-pooling layer's pairwise differences), where the whole row would take
/// gigabytes.
pub fn binomial_sum(k: usize, d: usize) -> BigUint {
    let mut c = BigUint::one();
    let mut sum = c.clone();
    for j in 0..d.min(k) {
        c = c * BigUint::from(k - j) / BigUint::from(j + 1);
        sum += &c;
    }
    sum
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
///
/// Evaluated bottom-up for every `d ≤ n0` at once. With `m = min(d, β)`, the terms with
/// `j ≤ α + u − m` all read `N_{l+1}(m)`, and the others read `N_{l+1}(α + u − j)`, which does not
/// depend on `d`: a prefix sum of the binomial row and a suffix sum of those products give each
/// `N_l(d)` in a few big-integer operations, so a layer costs `O(u + n0)` products, not
/// `O(u · n0)` (a CIFAR ResNet's global bound: 3,072 units per layer and 3,072 inputs).
pub fn serra(layers: &[SerraLayer], n0: usize) -> BigUint {
    let mut next: Vec<BigUint> = vec![BigUint::one(); n0 + 1];
    for layer in layers.iter().rev() {
        let (u, reach) = (layer.unstable, layer.alpha + layer.unstable);
        // No `N_l(d)` reads a term past `j = min(d, u) ≤ cap`.
        let cap = u.min(n0);
        let row = binomial_row(u, cap);
        // prefix[t] = Σ_{j<t} C(u, j).
        let mut prefix = Vec::with_capacity(u + 2);
        prefix.push(BigUint::zero());
        for c in &row {
            let last = prefix.last().expect("starts with 0").clone();
            prefix.push(last + c);
        }
        // suffix[j - low] = Σ_{i=j}^{cap} C(u, i) N_{l+1}(α + u − i), for the j whose α + u − j ≤ n0.
        let low = reach.saturating_sub(n0).min(cap + 1);
        let mut suffix = vec![BigUint::zero(); cap + 2 - low];
        for j in (low..=cap).rev() {
            suffix[j - low] = &suffix[j + 1 - low] + &row[j] * &next[reach - j];
        }
        let current: Vec<BigUint> = (0..=n0)
            .map(|d| {
                let (top, m) = (d.min(u), d.min(layer.beta));
                // Terms j ≤ split read N_{l+1}(m); terms split < j ≤ top read N_{l+1}(α + u − j).
                let split = reach.checked_sub(m);
                let constant = match split {
                    Some(split) => &prefix[split.min(top) + 1] * &next[m],
                    None => BigUint::zero(),
                };
                let first = split.map_or(0, |s| s + 1);
                let varying =
                    if first <= top { &suffix[first - low] - &suffix[top + 1 - low] } else { BigUint::zero() };
                constant + varying
            })
            .collect();
        next = current;
    }
    next.swap_remove(n0)
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
    use rustc_hash::FxHashMap;

    #[test]
    fn binomial_sums_match_small_cases() {
        assert_eq!(binomial_sum(3, 2), BigUint::from(7u32));
        assert_eq!(binomial_sum(3, 5), BigUint::from(8u32));
        assert_eq!(binomial_sum(0, 2), BigUint::from(1u32));
        for k in 0..40 {
            let row = binomial_row(k, k);
            for d in 0..45 {
                assert_eq!(binomial_sum(k, d), row.iter().take(d.min(k) + 1).sum::<BigUint>(), "k {k}, d {d}");
            }
        }
        assert_eq!(binomial_row(60, 30).len(), 31);
        assert_eq!(binomial_row(60, 60)[30], "118264581564861424".parse::<BigUint>().unwrap());
    }

    /// The recursion as theory §5 states it, memoised: the reference for [`serra`].
    fn serra_by_recursion(
        layers: &[SerraLayer],
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
        let row = binomial_row(layer.unstable, layer.unstable);
        let mut total = BigUint::zero();
        for (j, c) in row.iter().enumerate().take(d.min(layer.unstable) + 1) {
            let next = d.min(layer.alpha + layer.unstable - j).min(layer.beta);
            total += c * serra_by_recursion(layers, l + 1, next, memo);
        }
        memo.insert((l, d), total.clone());
        total
    }

    #[test]
    fn serra_equals_the_recursion_on_random_layers() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..400 {
            let n0 = rng.gen_range(0..12);
            let layers: Vec<SerraLayer> = (0..rng.gen_range(0..5))
                .map(|_| SerraLayer {
                    unstable: rng.gen_range(0..10),
                    alpha: rng.gen_range(0..6),
                    beta: rng.gen_range(0..14),
                })
                .collect();
            let want = serra_by_recursion(&layers, 0, n0, &mut FxHashMap::default());
            assert_eq!(serra(&layers, n0), want, "{layers:?}, n0 = {n0}");
        }
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
