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
