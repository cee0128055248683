//! Vertex enumeration of a region clipped to a box, by the double description method, for the
//! walk's LP-free facet screen in low dimensions (3 to [`MAX_DIM`] inputs).
//!
//! The polytope starts as the box (its 2ⁿ corners) and is cut by one constraint at a time: corners
//! beyond the constraint are dropped, and every edge from a kept corner to a dropped one yields a
//! new corner where the edge crosses the constraint. Two corners span an edge when the constraints
//! tight at both have rank n − 1 (exact on the constraints' normals, which are data, not computed).
//! Which constraints are tight at a corner is combinatorial (inherited along edges), except that a
//! corner within [`CORNER_ON`] of a new constraint is counted as lying on it.
//!
//! A hyperplane bounds a facet of the polytope only if the corners on it span n − 1 dimensions, so
//! candidates whose hyperplane stays clear of every corner, or touches only a lower-dimensional
//! face, need no facet LP.

use crate::domain::{Domain, Halfspace};
use crate::lp::{dot, margin};
use crate::tolerance::{CORNER_ON, DECIDE, RANK_PIVOT};

/// Largest input dimension the walk enumerates vertices for (a box has 2ⁿ corners).
pub const MAX_DIM: usize = 8;

/// The corners of a polytope, stored flat (`n` coordinates per corner).
#[derive(Clone, Debug)]
pub struct Corners {
    n: usize,
    coords: Vec<f64>,
}

impl Corners {
    /// Number of corners.
    pub fn len(&self) -> usize {
        self.coords.len() / self.n
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.coords.is_empty()
    }

    /// The corners, one slice each.
    pub fn iter(&self) -> std::slice::ChunksExact<'_, f64> {
        self.coords.chunks_exact(self.n)
    }
}

/// The corners of `{y : h(y) ≥ 0 for h in constraints} ∩ [lower, upper]`, or `None` when there are
/// more than `cap` of them at some step (the caller falls back to LPs) or the set is empty.
///
/// Constraints are inserted nearest-first from `inside` (a point of the region): the nearest cut
/// the box down early, which keeps the intermediate corner sets small. Corners and their tight
/// sets live in flat buffers, not one allocation per corner: this runs once per region of the walk.
pub fn vertices(
    lower: &[f64],
    upper: &[f64],
    constraints: &[&Halfspace],
    inside: &[f64],
    cap: usize,
) -> Option<Corners> {
    let n = lower.len();
    if n > MAX_DIM || lower.iter().chain(upper).any(|v| !v.is_finite()) {
        return None;
    }
    // Facet normals, flat: box faces first (index 2i: y_i ≥ lower_i, 2i + 1: y_i ≤ upper_i), then
    // the constraints.
    let bits = 2 * n + constraints.len();
    let mut normals = vec![0.0; bits * n];
    for i in 0..n {
        normals[2 * i * n + i] = 1.0;
        normals[(2 * i + 1) * n + i] = -1.0;
    }
    for (c, h) in constraints.iter().enumerate() {
        normals[(2 * n + c) * n..(2 * n + c + 1) * n].copy_from_slice(&h.normal);
    }
    let words = bits.div_ceil(64);
    let mut set = Tight { words, bits: Vec::with_capacity(words << n) };
    let mut points: Vec<f64> = Vec::with_capacity(n << n);
    for corner in 0..1usize << n {
        set.push_empty();
        for i in 0..n {
            let up = corner >> i & 1 == 1;
            set.insert_last(2 * i + usize::from(up));
            points.push(if up { upper[i] } else { lower[i] });
        }
    }
    let mut next = Tight { words, bits: Vec::new() };
    let (mut next_points, mut values, mut minus) = (Vec::new(), Vec::new(), Vec::new());
    let (mut common, mut scratch) = (vec![0u64; words], Vec::new());
    let mut order: Vec<usize> = (0..constraints.len()).collect();
    order.sort_by(|&a, &b| constraints[a].eval(inside).total_cmp(&constraints[b].eval(inside)));
    for c in order {
        let h = constraints[c];
        let c = 2 * n + c;
        values.clear();
        values.extend(points.chunks_exact(n).map(|p| h.eval(p)));
        if values.iter().all(|&v| v >= -CORNER_ON) {
            for (u, &v) in values.iter().enumerate() {
                if v <= CORNER_ON {
                    set.insert(u, c);
                }
            }
            continue;
        }
        next_points.clear();
        next.bits.clear();
        minus.clear();
        minus.extend((0..values.len()).filter(|&w| values[w] < -CORNER_ON));
        for u in (0..values.len()).filter(|&u| values[u] > CORNER_ON) {
            for &w in &minus {
                let shared = set.common(u, w, &mut common);
                // Corners with exactly n tight constraints have independent ones (a box corner, or
                // an edge's n − 1 crossed transversally), so n − 1 of them shared span n − 1.
                let simple = shared + 1 == n && (set.count(u) == n || set.count(w) == n);
                if shared + 1 < n || !simple && rank(&normals, &common, n, &mut scratch) + 1 != n {
                    continue;
                }
                let t = values[u] / (values[u] - values[w]);
                let (pu, pw) = (&points[u * n..(u + 1) * n], &points[w * n..(w + 1) * n]);
                next_points.extend(pu.iter().zip(pw).map(|(a, b)| a + t * (b - a)));
                next.bits.extend_from_slice(&common);
                next.insert_last(c);
            }
        }
        for (u, &v) in values.iter().enumerate() {
            if v >= -CORNER_ON {
                next_points.extend_from_slice(&points[u * n..(u + 1) * n]);
                next.bits.extend_from_slice(set.of(u));
                if v <= CORNER_ON {
                    next.insert_last(c);
                }
            }
        }
        let count = next_points.len() / n;
        if count == 0 || count > cap {
            return None;
        }
        std::mem::swap(&mut points, &mut next_points);
        std::mem::swap(&mut set, &mut next);
    }
    Some(Corners { n, coords: points })
}

/// The tight sets of the corners: `words` 64-bit words per corner, corner after corner.
struct Tight {
    words: usize,
    bits: Vec<u64>,
}

impl Tight {
    fn of(&self, u: usize) -> &[u64] {
        &self.bits[u * self.words..(u + 1) * self.words]
    }

    fn push_empty(&mut self) {
        self.bits.extend(std::iter::repeat_n(0, self.words));
    }

    fn insert(&mut self, u: usize, bit: usize) {
        self.bits[u * self.words + bit / 64] |= 1 << (bit % 64);
    }

    /// Inserts `bit` into the last corner's set.
    fn insert_last(&mut self, bit: usize) {
        let last = self.bits.len() / self.words - 1;
        self.insert(last, bit);
    }

    /// Size of the set of `u`.
    fn count(&self, u: usize) -> usize {
        self.of(u).iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Writes the intersection of the sets of `u` and `w` into `out` and returns its size.
    fn common(&self, u: usize, w: usize, out: &mut [u64]) -> usize {
        let mut count = 0;
        for ((o, a), b) in out.iter_mut().zip(self.of(u)).zip(self.of(w)) {
            *o = a & b;
            count += o.count_ones() as usize;
        }
        count
    }
}

/// The corners within [`CORNER_ON`] of hyperplane `h`: the corners of the face it cuts from the polytope
/// (what [`may_bound_facet`], [`facet_point`] and [`facet_misses_ball`] look at).
pub fn corners_on<'a>(corners: &'a Corners, h: &Halfspace) -> Vec<&'a [f64]> {
    corners.iter().filter(|p| h.eval(p).abs() <= CORNER_ON).collect()
}

/// Whether hyperplane `h` can bound a facet of the polytope with these corners: the corners on it
/// ([`corners_on`]) span n − 1 dimensions (a facet's corners do; a hyperplane that misses the
/// polytope or touches it in a lower-dimensional face does not). Fewer than n corners on it never
/// span n − 1 dimensions. `scratch` is reused between calls (this runs for every candidate).
pub fn may_bound_facet(corners: &Corners, h: &Halfspace, scratch: &mut Vec<f64>) -> bool {
    let n = corners.n;
    let mut on = corners.iter().filter(|p| h.eval(p).abs() <= CORNER_ON);
    let Some(first) = on.next() else { return false };
    scratch.clear();
    for p in on {
        scratch.extend(p.iter().zip(first).map(|(a, b)| a - b));
    }
    scratch.len() + n >= n * n && rank_of(scratch, n) + 1 >= n
}

/// Rank of the normals (flat, `n` per row) whose indices are the bits of `set` (`scratch` is
/// reused between calls).
fn rank(normals: &[f64], set: &[u64], n: usize, scratch: &mut Vec<f64>) -> usize {
    scratch.clear();
    for (w, &word) in set.iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            let i = 64 * w + bits.trailing_zeros() as usize;
            scratch.extend_from_slice(&normals[i * n..(i + 1) * n]);
            bits &= bits - 1;
        }
    }
    rank_of(scratch, n)
}

/// Rank of the n-vectors stored row after row in `rows`, by Gaussian elimination with partial
/// pivoting (in place), stopping at n.
fn rank_of(rows: &mut [f64], n: usize) -> usize {
    let count = rows.len() / n;
    let scale = rows.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let mut rank = 0;
    for col in 0..n {
        let Some(pivot) = (rank..count)
            .max_by(|&a, &b| rows[a * n + col].abs().total_cmp(&rows[b * n + col].abs()))
            .filter(|&r| rows[r * n + col].abs() > RANK_PIVOT * scale.max(1e-300))
        else {
            continue;
        };
        for k in 0..n {
            rows.swap(rank * n + k, pivot * n + k);
        }
        let (done, rest) = rows.split_at_mut((rank + 1) * n);
        let pivot_row = &done[rank * n..];
        for row in rest.chunks_mut(n) {
            let f = row[col] / pivot_row[col];
            if f != 0.0 {
                row[col..].iter_mut().zip(&pivot_row[col..]).for_each(|(v, p)| *v -= f * p);
            }
        }
        rank += 1;
        if rank == n {
            break;
        }
    }
    rank
}

/// A point of the facet on `h` with margin above [`DECIDE`] to `others` and to the domain's edge,
/// found from the corners on it (`on`, [`corners_on`]) without an LP: their centroid (a
/// relative-interior point of the facet of region ∩ box), or, when that lies outside a ball domain,
/// points between it and the corner nearest the ball's centre or the centre of the hyperplane's
/// disc. `None` when these do not have the margin (thin or barely-touching facets): the caller
/// then solves the facet LP.
pub fn facet_point(on: &[&[f64]], h: &Halfspace, domain: &Domain, others: &[&Halfspace]) -> Option<(Vec<f64>, f64)> {
    let n = h.normal.len();
    if on.len() < n {
        return None;
    }
    let mut centroid = vec![0.0; n];
    for p in on {
        centroid.iter_mut().zip(p.iter()).for_each(|(c, v)| *c += v / on.len() as f64);
    }
    let nearest = *on.iter().min_by(|a, b| dot(a, a).total_cmp(&dot(b, b)))?;
    // In a ball, also points between the centroid and the centre of the hyperplane's disc (the
    // foot of the ball's centre on it).
    let foot: Vec<f64> = h.normal.iter().map(|a| -a * h.offset).collect();
    let mut tries: Vec<(&[f64], f64)> = vec![(nearest, 1.0)];
    if domain.is_round() {
        tries.extend([0.5, 0.2, 0.05].map(|lambda| (nearest, lambda)));
        tries.extend([0.0, 0.3, 0.7].map(|lambda| (foot.as_slice(), lambda)));
    }
    tries.into_iter().find_map(|(from, lambda)| {
        // From `from` towards the centroid, then onto the hyperplane exactly.
        let mut y: Vec<f64> = from.iter().zip(&centroid).map(|(v, c)| v + lambda * (c - v)).collect();
        let off = h.eval(&y);
        y.iter_mut().zip(&h.normal).for_each(|(v, a)| *v -= off * a);
        let slack = margin(domain, others, &y);
        (slack > DECIDE).then_some((y, slack))
    })
}

/// True if the facet with corners `on` ([`corners_on`]; the facet is their convex hull) certainly
/// stays out of the open unit ball (frame of a ball domain): a direction `u` with
/// `u·v ≥ 1 + DECIDE` for every corner `v` separates them. `u` comes from Gilbert's iteration
/// towards the hull's point nearest the centre; `false` means undecided (the caller solves the
/// distance QP).
pub fn facet_misses_ball(on: &[&[f64]]) -> bool {
    let Some(first) = on.iter().min_by(|a, b| dot(a, a).total_cmp(&dot(b, b))) else { return false };
    let lowest = |q: &[f64]| on.iter().min_by(|a, b| dot(q, a).total_cmp(&dot(q, b))).expect("non-empty");
    let mut q = first.to_vec();
    for _ in 0..GILBERT_STEPS {
        let norm = dot(&q, &q).sqrt();
        if norm <= 1.0 {
            return false;
        }
        let v = lowest(&q);
        if dot(&q, v) / norm >= 1.0 + DECIDE {
            return true;
        }
        // Step to the point of the segment [q, v] nearest the centre.
        let d: Vec<f64> = v.iter().zip(&q).map(|(a, b)| a - b).collect();
        let len = dot(&d, &d);
        if len == 0.0 {
            return false;
        }
        let t = (-dot(&q, &d) / len).clamp(0.0, 1.0);
        if t == 0.0 {
            return false;
        }
        q.iter_mut().zip(&d).for_each(|(a, b)| *a += t * b);
    }
    false
}

/// Iterations of Gilbert's algorithm in [`facet_misses_ball`].
const GILBERT_STEPS: usize = 32;
