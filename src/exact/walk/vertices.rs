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
use crate::lp::margin;
use crate::tolerance::{CORNER_ON, DECIDE, RANK_PIVOT, RANK_SCALE_FLOOR};
use crate::vector::dot;

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
    // Facet normals, flat: box faces first (`Polytope::boxed`), then the constraints.
    let mut normals = Polytope::box_normals(n);
    for h in constraints {
        normals.extend_from_slice(&h.normal);
    }
    let mut polytope = Polytope::boxed(lower, upper, 2 * n + constraints.len());
    let (mut values, mut cut) = (Vec::new(), Cut::default());
    let mut order: Vec<usize> = (0..constraints.len()).collect();
    order.sort_by(|&a, &b| constraints[a].eval(inside).total_cmp(&constraints[b].eval(inside)));
    for c in order {
        let h = constraints[c];
        polytope.values(&h.normal, h.offset, &mut values);
        let bit = 2 * n + c;
        if values.iter().all(|&v| v >= -CORNER_ON) {
            polytope.mark_on(&values, bit);
            continue;
        }
        polytope.crossings(&values, bit, &normals, &mut cut);
        polytope = polytope.side(&values, bit, true, &cut);
        if polytope.is_empty() || polytope.len() > cap {
            return None;
        }
    }
    Some(Corners { n, coords: polytope.points })
}

/// A polytope as its corners and, per corner, the set of facets tight at it (bits indexing a
/// table of unit normals, `n` numbers per row, that the caller keeps): the state of the double
/// description, cut by one hyperplane at a time.
#[derive(Clone, Debug)]
pub(crate) struct Polytope {
    n: usize,
    /// Corner coordinates, `n` per corner.
    points: Vec<f64>,
    tight: Tight,
}

/// The corners where a hyperplane crosses a polytope's edges ([`Polytope::crossings`]), kept
/// between calls so that cutting allocates only the two sides.
#[derive(Default)]
pub(crate) struct Cut {
    points: Vec<f64>,
    bits: Vec<u64>,
    common: Vec<u64>,
    scratch: Vec<f64>,
}

impl Polytope {
    /// Unit normals of the box faces, bit `2i` for `y_i ≥ lower_i` and `2i + 1` for `y_i ≤ upper_i`:
    /// the first `2n` rows of every normal table.
    pub(crate) fn box_normals(n: usize) -> Vec<f64> {
        let mut normals = vec![0.0; 2 * n * n];
        for i in 0..n {
            normals[2 * i * n + i] = 1.0;
            normals[(2 * i + 1) * n + i] = -1.0;
        }
        normals
    }

    /// The box's 2ⁿ corners, with tight sets of `bits` bits (box faces as in [`Self::box_normals`]).
    pub(crate) fn boxed(lower: &[f64], upper: &[f64], bits: usize) -> Self {
        let n = lower.len();
        let mut tight = Tight { words: bits.div_ceil(64), bits: Vec::new() };
        let mut points = Vec::with_capacity(n << n);
        for corner in 0..1usize << n {
            tight.push_empty();
            for i in 0..n {
                let up = corner >> i & 1 == 1;
                tight.insert_last(2 * i + usize::from(up));
                points.push(if up { upper[i] } else { lower[i] });
            }
        }
        Polytope { n, points, tight }
    }

    /// Number of corners.
    pub(crate) fn len(&self) -> usize {
        self.points.len() / self.n
    }

    /// True if there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The corners, one slice each.
    pub(crate) fn corners(&self) -> std::slice::ChunksExact<'_, f64> {
        self.points.chunks_exact(self.n)
    }

    /// The smallest box holding the corners: `(lower, upper)`.
    pub(crate) fn bounding_box(&self) -> (Vec<f64>, Vec<f64>) {
        let (mut lo, mut hi) = (vec![f64::INFINITY; self.n], vec![f64::NEG_INFINITY; self.n]);
        for p in self.corners() {
            for i in 0..self.n {
                lo[i] = lo[i].min(p[i]);
                hi[i] = hi[i].max(p[i]);
            }
        }
        (lo, hi)
    }

    /// The value of `normal · y + offset` at every corner, into `values`.
    pub(crate) fn values(&self, normal: &[f64], offset: f64, values: &mut Vec<f64>) {
        values.clear();
        values.resize(self.len(), offset);
        // Coordinate by coordinate over all corners: a loop the compiler vectorises.
        for (i, &a) in normal.iter().enumerate() {
            for (v, p) in values.iter_mut().zip(self.points.chunks_exact(self.n)) {
                *v += a * p[i];
            }
        }
    }

    /// Marks the corners within [`CORNER_ON`] of the hyperplane (`values` from [`Self::values`])
    /// as tight on facet `bit`.
    pub(crate) fn mark_on(&mut self, values: &[f64], bit: usize) {
        for (u, &v) in values.iter().enumerate() {
            if v.abs() <= CORNER_ON {
                self.tight.insert(u, bit);
            }
        }
    }

    /// The new corners where the hyperplane of facet `bit` crosses an edge from a corner above
    /// [`CORNER_ON`] to one below `-CORNER_ON`, into `cut`. Two corners span an edge when the
    /// facets tight at both have rank n − 1 (`normals`: the caller's table).
    pub(crate) fn crossings(&self, values: &[f64], bit: usize, normals: &[f64], cut: &mut Cut) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU has the instruction (checked just above).
            return unsafe { self.crossings_with_popcnt(values, bit, normals, cut) };
        }
        self.crossings_portable(values, bit, normals, cut)
    }

    /// [`Self::crossings`] compiled with the popcount instruction: the pair test counts the bits
    /// of the tight sets' intersection, and this loop is a third of a box partition's time.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt")]
    unsafe fn crossings_with_popcnt(&self, values: &[f64], bit: usize, normals: &[f64], cut: &mut Cut) {
        self.crossings_portable(values, bit, normals, cut)
    }

    #[inline(always)]
    fn crossings_portable(&self, values: &[f64], bit: usize, normals: &[f64], cut: &mut Cut) {
        let (n, words) = (self.n, self.tight.words);
        cut.points.clear();
        cut.bits.clear();
        cut.common.resize(words, 0);
        let minus: Vec<(usize, bool)> =
            (0..values.len()).filter(|&w| values[w] < -CORNER_ON).map(|w| (w, self.tight.count(w) == n)).collect();
        for u in (0..values.len()).filter(|&u| values[u] > CORNER_ON) {
            let u_simple = self.tight.count(u) == n;
            for &(w, w_simple) in &minus {
                let shared = self.tight.common(u, w, &mut cut.common);
                // Corners with exactly n tight facets have independent ones (a box corner, or an
                // edge's n − 1 crossed transversally), so n − 1 of them shared span n − 1.
                let simple = shared + 1 == n && (u_simple || w_simple);
                if shared + 1 < n || !simple && rank(normals, &cut.common, n, &mut cut.scratch) + 1 != n {
                    continue;
                }
                let t = values[u] / (values[u] - values[w]);
                let (pu, pw) = (&self.points[u * n..(u + 1) * n], &self.points[w * n..(w + 1) * n]);
                cut.points.extend(pu.iter().zip(pw).map(|(a, b)| a + t * (b - a)));
                let first = cut.bits.len();
                cut.bits.extend_from_slice(&cut.common);
                cut.bits[first + bit / 64] |= 1 << (bit % 64);
            }
        }
    }

    /// The part on the positive (`positive`) or negative side of the hyperplane of facet `bit`:
    /// the crossings `cut` ([`Self::crossings`] of the same values), then the corners on that side
    /// or within [`CORNER_ON`] of it (those marked tight on `bit`).
    pub(crate) fn side(&self, values: &[f64], bit: usize, positive: bool, cut: &Cut) -> Polytope {
        let n = self.n;
        let mut points = Vec::with_capacity(self.points.len() + cut.points.len());
        let mut tight =
            Tight { words: self.tight.words, bits: Vec::with_capacity(self.tight.bits.len() + cut.bits.len()) };
        points.extend_from_slice(&cut.points);
        tight.bits.extend_from_slice(&cut.bits);
        for (u, &v) in values.iter().enumerate() {
            let v = if positive { v } else { -v };
            if v >= -CORNER_ON {
                points.extend_from_slice(&self.points[u * n..(u + 1) * n]);
                tight.bits.extend_from_slice(self.tight.of(u));
                if v <= CORNER_ON {
                    tight.insert_last(bit);
                }
            }
        }
        Polytope { n, points, tight }
    }
}

/// The tight sets of the corners: `words` 64-bit words per corner, corner after corner.
#[derive(Clone, Debug)]
struct Tight {
    words: usize,
    bits: Vec<u64>,
}

impl Tight {
    #[inline(always)]
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
    #[inline(always)]
    fn count(&self, u: usize) -> usize {
        self.of(u).iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Writes the intersection of the sets of `u` and `w` into `out` and returns its size.
    #[inline(always)]
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
            .filter(|&r| rows[r * n + col].abs() > RANK_PIVOT * scale.max(RANK_SCALE_FLOOR))
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
