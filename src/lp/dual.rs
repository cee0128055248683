//! Least-norm points of polyhedra with few rows in many dimensions, by a dual active-set method.
//!
//! The walk's questions in 784-D involve a handful of live hyperplanes and hundreds of coordinates.
//! A general LP/QP solver pays for the coordinates (HiGHS's QP takes ~0.4 s in 784-D); the dual of
//! the least-norm problem has one variable per *row*, so its cost scales with the rows:
//!
//! ```text
//! P:  min ½‖y‖²  s.t.  a_e·y = b_e (at most one equality),  a_j·y ≥ b_j,  lo ≤ y ≤ hi
//! D:  max g(λ) = b·λ + Σ_k (½ y_k² − s_k y_k),  s = Σ_j λ_j a_j,  y = clip(s, lo, hi),  λ_j ≥ 0 (j ≠ e)
//! ```
//!
//! `g` is concave and piecewise quadratic; its gradient is the vector of violations `b − A·y(λ)`.
//! The method starts at `λ = 0` (the box point nearest the origin) and, like Goldfarb–Idnani, adds
//! the most violated row to the working set, takes a Newton step on the working set (Hessian
//! `A_W diag(free coordinates) A_Wᵀ`, |W|×|W|), and drops rows whose multiplier reaches zero.
//!
//! Nothing here is trusted: the caller ([`super::fast`]) checks every answer. By weak duality any
//! `λ` (with `λ_j ≥ 0`) gives `g(λ) ≤ ½‖y‖²` for every feasible `y` — a lower bound on the distance
//! that holds whatever the iteration did — and the primal point is re-checked against every row.
//! [`Solution::lower_bound`] subtracts a rounding margin so that the bound also holds for the
//! floating-point evaluation.
//!
//! On a CNN's rows (~5% nonzero in 3,072 inputs) the rows a dual point combines share a few hundred
//! coordinates; off them `s`, the point and every term of `g` are zero. The passes over the
//! coordinates (the point, `g`, the violations, the Newton step's Gram matrix) then run over
//! those coordinates only ([`Coordinates`]), listed as rows enter the working set. Where a dense
//! row puts a problem on every coordinate, the violations still read sparse rows at their
//! nonzeros ([`Supports`]). The Newton matrix is updated from one iteration to the next rather
//! than built again ([`Gram`]): a CNN estimate probe's solves reach 30–100 working rows.

use crate::domain::Halfspace;
use crate::tolerance::{
    DUAL_GRAM_UPDATE_MAX_CHANGED, DUAL_GRAM_UPDATE_MIN_ROWS, DUAL_LISTED_MAX_SHARE, DUAL_OPTIMAL, ROUNDING,
};
use crate::vector::dot;

/// One row of `P`: `normal · y ≥ bound` (or `=` for the equality).
#[derive(Clone, Copy)]
pub struct Row<'a> {
    /// Unit normal.
    pub normal: &'a [f64],
    /// Right-hand side.
    pub bound: f64,
}

impl<'a> Row<'a> {
    /// The row `h(y) ≥ shift` of a halfspace `h(y) = normal·y + offset`.
    pub fn shifted(h: &'a Halfspace, shift: f64) -> Self {
        Row { normal: &h.normal, bound: shift - h.offset }
    }
}

/// The least-norm problem `P`.
pub struct Problem<'a> {
    /// Held at equality, with a free multiplier (the facet's hyperplane).
    pub equality: Option<Row<'a>>,
    /// Held as `≥`.
    pub inequalities: Vec<Row<'a>>,
    /// Box bounds (may be infinite).
    pub lower: Vec<f64>,
    /// Box bounds (may be infinite).
    pub upper: Vec<f64>,
}

/// Where the iteration ended: a dual point, its primal point and what they certify.
#[derive(Debug)]
pub struct Solution {
    /// The primal point `clip(Aᵀλ, lo, hi)`: the least-norm point when the method converged.
    pub point: Vec<f64>,
    /// A lower bound on `½‖y‖²` over the feasible set of `P` (`+∞` when a Farkas certificate
    /// proves `P` infeasible), valid whatever the iteration did, rounding included.
    pub lower_bound: f64,
    /// The dual point `λ` that certified `lower_bound`, one multiplier per row (the equality
    /// first): by weak duality it bounds any problem with the same shape, so a later question can
    /// try it before solving ([`Problem::bound_at`]).
    pub multipliers: Vec<f64>,
}

/// Iterations before the method gives up (the caller then falls back to HiGHS).
const MAX_ITERATIONS: usize = 200;

impl Problem<'_> {
    fn rows(&self) -> impl Iterator<Item = &Row<'_>> + '_ {
        self.equality.iter().chain(&self.inequalities)
    }

    fn row(&self, j: usize) -> &Row<'_> {
        match (&self.equality, j) {
            (Some(e), 0) => e,
            (Some(_), j) => &self.inequalities[j - 1],
            (None, j) => &self.inequalities[j],
        }
    }

    fn free(&self, j: usize) -> bool {
        self.equality.is_some() && j == 0
    }

    /// Solves `D` as far as it gets in [`MAX_ITERATIONS`].
    pub fn solve(&self) -> Solution {
        self.solve_listing(self.listing_limit())
    }

    /// The most coordinates [`Coordinates`] lists before it takes all of them.
    fn listing_limit(&self) -> usize {
        (DUAL_LISTED_MAX_SHARE * self.lower.len() as f64) as usize
    }

    /// [`Problem::solve`], listing up to `limit` coordinates.
    fn solve_listing(&self, limit: usize) -> Solution {
        let m = self.rows().count();
        let mut lambda = vec![0.0; m];
        let mut coordinates = Coordinates::Open;
        let mut supports = Supports::default();
        let mut state = State::new(self, &lambda, &coordinates).with_violations(self, &coordinates, &mut supports);
        // The working set: rows with a nonzero multiplier, plus the one just added.
        let mut working: Vec<usize> = Vec::new();
        let mut best = state.certified(self, &lambda);
        let mut best_lambda = lambda.clone();
        let mut gram = Gram::default();
        for _ in 0..MAX_ITERATIONS {
            if best == f64::INFINITY {
                break;
            }
            // The most violated row outside the working set (the equality counts both ways).
            let mut entering = None;
            let mut worst = DUAL_OPTIMAL;
            for j in 0..m {
                let v = if self.free(j) { state.violation[j].abs() } else { state.violation[j] };
                if v > worst && !working.contains(&j) {
                    (worst, entering) = (v, Some(j));
                }
            }
            let stationary = working.iter().all(|&j| state.violation[j].abs() <= DUAL_OPTIMAL);
            match entering {
                Some(j) => {
                    working.push(j);
                    coordinates.add(self, self.row(j).normal, limit, Some(&mut state));
                }
                None if stationary => break,
                None => {}
            }
            // A step from an updated matrix that cannot be factored or does not improve `g` is
            // tried again from the matrix built afresh, so that the update's rounding never ends
            // a solve early.
            let mut improved = false;
            for rebuild in [false, true] {
                if rebuild && !gram.updated {
                    break;
                }
                let Some(step) = newton_step(self, &working, &state, &coordinates, &mut gram, rebuild) else {
                    continue;
                };
                let found = self.line_search(&lambda, &state, &working, &step, &coordinates, &mut supports);
                if let Some((trial, next)) = found {
                    (lambda, state, improved) = (trial, next, true);
                    break;
                }
            }
            if !improved {
                break;
            }
            working.retain(|&j| self.free(j) || lambda[j] > 0.0);
            let certified = state.certified(self, &lambda);
            if certified > best {
                (best, best_lambda) = (certified, lambda.clone());
            }
        }
        Solution {
            point: coordinates.dense(state.point, self.lower.len()),
            lower_bound: best,
            multipliers: best_lambda,
        }
    }

    /// Backtracking on `g` along `step` (the working rows' multipliers), projecting multipliers
    /// onto `λ ≥ 0`: the first trial point that raises `g`, with its state, if any does.
    fn line_search(
        &self,
        lambda: &[f64],
        state: &State,
        working: &[usize],
        step: &[f64],
        coordinates: &Coordinates,
        supports: &mut Supports,
    ) -> Option<(Vec<f64>, State)> {
        let mut alpha = 1.0;
        for _ in 0..40 {
            let trial: Vec<f64> = (0..lambda.len())
                .map(|j| {
                    let moved = match working.iter().position(|&w| w == j) {
                        Some(p) => lambda[j] + alpha * step[p],
                        None => lambda[j],
                    };
                    if self.free(j) {
                        moved
                    } else {
                        moved.max(0.0)
                    }
                })
                .collect();
            let next = State::new(self, &trial, coordinates);
            if next.value > state.value {
                return Some((trial, next.with_violations(self, coordinates, supports)));
            }
            alpha *= 0.5;
        }
        None
    }

    /// The lower bound on `½‖y‖²` that a given dual point certifies (rounding included): valid for
    /// any `λ` with `λ_j ≥ 0` off the equality, whatever problem it was found for. Multipliers of
    /// the wrong sign are clipped to zero, which keeps the bound valid.
    pub fn bound_at(&self, lambda: &[f64]) -> f64 {
        assert_eq!(lambda.len(), self.rows().count(), "one multiplier per row");
        let lambda: Vec<f64> =
            lambda.iter().enumerate().map(|(j, &l)| if self.free(j) { l } else { l.max(0.0) }).collect();
        // With `b·λ ≤ 0` and the origin in the box, `g(λ) ≤ b·λ ≤ 0` and `λ` is no Farkas ray
        // (the box point 0 satisfies the combined row): it proves no more than `½‖y‖² ≥ 0`, which
        // needs no pass over the coordinates. 18% of the certificates the walk tries on MNIST
        // 10x10 (L-inf 0.01) are such.
        let combined: f64 = self.rows().zip(&lambda).map(|(r, l)| r.bound * l).sum();
        if combined <= 0.0 && self.lower.iter().zip(&self.upper).all(|(l, u)| *l <= 0.0 && 0.0 <= *u) {
            return 0.0;
        }
        let limit = self.listing_limit();
        let mut coordinates = Coordinates::Open;
        for (j, _) in lambda.iter().enumerate().filter(|(_, l)| **l != 0.0) {
            coordinates.add(self, self.row(j).normal, limit, None);
        }
        State::new(self, &lambda, &coordinates).certified(self, &lambda)
    }
}

/// The coordinates on which `s` and the primal point can be nonzero: all of them, or a list of
/// those where a row combined so far is nonzero or the box excludes 0 (off the list `s_k = 0` and
/// `y_k = clip(0, lo_k, hi_k) = 0`, so every term of `g` and of `A·y` there is zero). Rows add
/// their coordinates as they enter; past the limit the list gives way to all coordinates, so that
/// dense rows (an MLP's) run the contiguous passes they always did.
enum Coordinates {
    /// No row yet: every coordinate, until the first row chooses.
    Open,
    All,
    Listed {
        /// The coordinates, in the order they were added.
        index: Vec<usize>,
        /// The box bounds at those coordinates.
        lower: Vec<f64>,
        upper: Vec<f64>,
        /// Whether each coordinate is listed.
        listed: Vec<bool>,
    },
}

impl Coordinates {
    /// Lists the coordinates where `normal` is nonzero, widening `state` (if any) to match: its
    /// new coordinates are zeros, as `s` and the point are there. The first row chooses: when its
    /// nonzeros and the coordinates where the box excludes 0 pass `limit`, all coordinates.
    fn add(&mut self, p: &Problem, normal: &[f64], limit: usize, state: Option<&mut State>) {
        let support = normal.iter().enumerate().filter(|(_, a)| **a != 0.0).map(|(k, _)| k);
        match self {
            Coordinates::All => {}
            Coordinates::Listed { .. } => self.extend(p, support, limit, state),
            Coordinates::Open => {
                let n = p.lower.len();
                *self = Coordinates::Listed {
                    index: Vec::new(),
                    lower: Vec::new(),
                    upper: Vec::new(),
                    listed: vec![false; n],
                };
                // The row first: a dense one ends the list before the box is read.
                let excluded = (0..n).filter(|&k| !(p.lower[k] <= 0.0 && 0.0 <= p.upper[k]));
                self.extend(p, support.chain(excluded), limit, None);
                // The state was over every coordinate (no row yet: `s = 0`, the point 0 off the
                // excluded coordinates).
                if let (Some(state), Coordinates::Listed { index, .. }) = (state, &*self) {
                    state.s = index.iter().map(|&k| state.s[k]).collect();
                    state.point = index.iter().map(|&k| state.point[k]).collect();
                }
            }
        }
    }

    /// Lists `new`; past `limit` coordinates, takes all of them at once (a dense row is not read
    /// to its end).
    fn extend(&mut self, p: &Problem, new: impl Iterator<Item = usize>, limit: usize, state: Option<&mut State>) {
        let Coordinates::Listed { index, lower, upper, listed } = self else { return };
        for k in new {
            if listed[k] {
                continue;
            }
            if index.len() == limit {
                if let Some(state) = state {
                    let n = p.lower.len();
                    state.s = scatter(index, &state.s, n);
                    state.point = scatter(index, &state.point, n);
                }
                *self = Coordinates::All;
                return;
            }
            listed[k] = true;
            index.push(k);
            lower.push(p.lower[k]);
            upper.push(p.upper[k]);
        }
        if let Some(state) = state {
            state.s.resize(index.len(), 0.0);
            state.point.resize(index.len(), 0.0);
        }
    }

    /// The box bounds over the coordinates.
    fn bounds<'a>(&'a self, p: &'a Problem) -> (&'a [f64], &'a [f64]) {
        match self {
            Coordinates::Open | Coordinates::All => (&p.lower, &p.upper),
            Coordinates::Listed { lower, upper, .. } => (lower, upper),
        }
    }

    /// `row · v` for `v` over the coordinates.
    fn dot(&self, row: &[f64], v: &[f64]) -> f64 {
        match self {
            Coordinates::Open | Coordinates::All => dot(row, v),
            Coordinates::Listed { index, .. } => index.iter().zip(v).map(|(&k, x)| row[k] * x).sum(),
        }
    }

    /// The coordinate at position `i`.
    fn at(&self, i: usize) -> usize {
        match self {
            Coordinates::Open | Coordinates::All => i,
            Coordinates::Listed { index, .. } => index[i],
        }
    }

    /// `v` over the coordinates as a vector of all `n`.
    fn dense(&self, v: Vec<f64>, n: usize) -> Vec<f64> {
        match self {
            Coordinates::Open | Coordinates::All => v,
            Coordinates::Listed { index, .. } => scatter(index, &v, n),
        }
    }
}

/// The vector of length `n` with `values[i]` at `index[i]` and zeros elsewhere.
fn scatter(index: &[usize], values: &[f64], n: usize) -> Vec<f64> {
    let mut dense = vec![0.0; n];
    for (&k, v) in index.iter().zip(values) {
        dense[k] = *v;
    }
    dense
}

/// `s`, `y`, `g` and the violations at one dual point (the violations, `m·n` work, only for
/// points the line search accepts).
struct State {
    s: Vec<f64>,
    point: Vec<f64>,
    value: f64,
    violation: Vec<f64>,
    /// Magnitude of the terms that formed `value` (for its rounding margin).
    magnitude: f64,
    /// `Σ_k max(lo_k s_k, hi_k s_k)`, the largest `s·y` over the box (for the Farkas test), and
    /// the magnitude of its terms.
    support: f64,
    support_magnitude: f64,
}

impl State {
    /// The state at `λ` (missing multipliers are zero), whose rows with a nonzero multiplier are
    /// zero off `coordinates`.
    fn new(p: &Problem, lambda: &[f64], coordinates: &Coordinates) -> Self {
        let n = p.lower.len();
        let (lower, upper) = coordinates.bounds(p);
        let mut s = vec![0.0; lower.len()];
        let mut value = 0.0;
        let mut magnitude = 0.0;
        for (row, &l) in p.rows().zip(lambda) {
            if l != 0.0 {
                match coordinates {
                    Coordinates::Open | Coordinates::All => {
                        for (si, a) in s.iter_mut().zip(row.normal) {
                            *si += l * a;
                        }
                    }
                    Coordinates::Listed { index, .. } => {
                        for (si, &k) in s.iter_mut().zip(index) {
                            *si += l * row.normal[k];
                        }
                    }
                }
                value += row.bound * l;
                magnitude += (row.bound * l).abs() + l.abs() * (n as f64).sqrt();
            }
        }
        // One pass over the coordinates for the point, g's box terms and the support: the 784-D
        // walk spends a quarter of its time here. Four lanes of sums (as in `dot`) and selects
        // rather than jumps, so that it vectorises; `max`/`min` rather than `clamp`, which checks
        // its bounds every time.
        let mut point = vec![0.0; s.len()];
        let mut sums = [[0.0; 4]; 4];
        for (((y, s), l), u) in point.chunks_mut(4).zip(s.chunks(4)).zip(lower.chunks(4)).zip(upper.chunks(4)) {
            for k in 0..s.len() {
                let (si, yi) = (s[k], s[k].max(l[k]).min(u[k]));
                y[k] = yi;
                // `si · (u or l)`, zero when si is (an infinite bound times zero is no term).
                let term = if si == 0.0 { 0.0 } else { si * if si > 0.0 { u[k] } else { l[k] } };
                sums[0][k] += 0.5 * yi * yi - si * yi;
                sums[1][k] += (si * yi).abs();
                sums[2][k] += term;
                sums[3][k] += term.abs();
            }
        }
        let [box_value, box_magnitude, support, support_magnitude] = sums.map(|lanes| lanes.iter().sum::<f64>());
        value += box_value;
        magnitude += box_magnitude;
        State { s, point, value, violation: Vec::new(), magnitude, support, support_magnitude }
    }

    /// The violations `b − A·y` (the gradient of `g`), which choose the entering row. At the
    /// start (`λ = 0`, a box around 0) the point is 0 and they are the bounds, with no pass over
    /// the rows; over every coordinate, a sparse row (a CNN convolution's, in a problem that a
    /// dense row put on all coordinates) is read at its nonzeros only ([`Supports`]).
    fn with_violations(mut self, p: &Problem, coordinates: &Coordinates, supports: &mut Supports) -> Self {
        self.violation = if self.point.iter().all(|&y| y == 0.0) {
            p.rows().map(|row| row.bound).collect()
        } else if let Coordinates::Listed { .. } = coordinates {
            p.rows().map(|row| row.bound - coordinates.dot(row.normal, &self.point)).collect()
        } else {
            let products = p.rows().zip(supports.of(p)).map(|(row, support)| match support {
                Some(index) => dot_at(row.normal, &self.point, index),
                None => dot(row.normal, &self.point),
            });
            p.rows().zip(products).map(|(row, product)| row.bound - product).collect()
        };
        self
    }

    /// The lower bound this dual point certifies: `g(λ)` less its rounding margin, or `+∞` when
    /// `λ` is a Farkas ray (`b·λ > Σ_k max(lo_k s_k, hi_k s_k)`: no `y` in the box satisfies the
    /// combined row `s·y ≥ b·λ`).
    fn certified(&self, p: &Problem, lambda: &[f64]) -> f64 {
        let margin = ROUNDING * (1.0 + self.magnitude);
        let (support, support_magnitude) = (self.support, self.support_magnitude);
        let combined: f64 = p.rows().zip(lambda).map(|(r, l)| r.bound * l).sum();
        let combined_magnitude: f64 = p.rows().zip(lambda).map(|(r, l)| (r.bound * l).abs()).sum();
        if support.is_finite()
            && combined - support > ROUNDING * (1.0 + support_magnitude + combined_magnitude + self.magnitude)
        {
            return f64::INFINITY;
        }
        self.value - margin
    }
}

/// The Newton step of `g` on the working set: `(A_W D A_Wᵀ + μI) δ = violation_W`, with `D` the
/// coordinates strictly inside the box and `μ` a tiny ridge for dependent rows, from the matrix
/// updated or (`rebuild`) built afresh. `None` if the system cannot be factored.
fn newton_step(
    p: &Problem,
    working: &[usize],
    state: &State,
    coordinates: &Coordinates,
    gram: &mut Gram,
    rebuild: bool,
) -> Option<Vec<f64>> {
    let k = working.len();
    if k == 0 {
        return None;
    }
    match rebuild {
        true => gram.build(p, working, coordinates),
        false => gram.update(p, working, state, coordinates),
    }
    let mut factor = std::mem::take(&mut gram.spare);
    factor.clear();
    factor.extend_from_slice(&gram.h);
    let ridge = crate::tolerance::DUAL_RIDGE * (1.0 + (0..k).map(|a| factor[a * k + a]).fold(0.0, f64::max));
    for a in 0..k {
        factor[a * k + a] += ridge;
    }
    let step = cholesky_solve(&mut factor, k, working.iter().map(|&j| state.violation[j]).collect());
    gram.spare = factor;
    step
}

/// The Newton system's matrix `A_W D A_Wᵀ`, carried from one iteration to the next. Between
/// iterations the working set gains a row and may lose some, and few coordinates enter or leave
/// the box's interior (on a CNN probe's solves, a handful of 3,072 per iteration, with 30–100
/// working rows). Updating it then costs the new row's products and `k²` per changed coordinate,
/// where building it again costs `k²/2` products over every free coordinate: that was 95% of those
/// solves' time. The step it gives is only a search direction (every bound is certified from
/// `λ` itself), so the rounding an update adds cannot change what a solve proves.
#[derive(Default)]
struct Gram {
    /// The working rows, in the working set's order.
    rows: Vec<usize>,
    /// Whether each coordinate position is strictly inside the box.
    free: Vec<bool>,
    /// Whether the positions are a list's (which only grows, so they keep their meaning).
    listed: bool,
    /// The matrix, `k × k` row-major.
    h: Vec<f64>,
    /// Whether `h` was updated rather than built.
    updated: bool,
    /// Buffers reused from one iteration to the next: the positions whose freedom changed, the
    /// free coordinates, the rows' free coordinates packed, and a spare `k × k` matrix.
    changed: Vec<usize>,
    free_index: Vec<usize>,
    packed: Vec<f64>,
    spare: Vec<f64>,
}

impl Gram {
    /// Brings the matrix to `working` at `state`: by updates when it has at least
    /// [`DUAL_GRAM_UPDATE_MIN_ROWS`] rows, the working set kept its earlier rows in order and
    /// few coordinates changed ([`DUAL_GRAM_UPDATE_MAX_CHANGED`]), else built again.
    fn update(&mut self, p: &Problem, working: &[usize], state: &State, coordinates: &Coordinates) {
        let (lower, upper) = coordinates.bounds(p);
        if working.len() < DUAL_GRAM_UPDATE_MIN_ROWS {
            // No freedom is tracked: the first update past the threshold builds.
            self.free.clear();
            self.free_index.clear();
            let free = (0..lower.len()).filter(|&i| lower[i] < state.s[i] && state.s[i] < upper[i]);
            self.free_index.extend(free.map(|i| coordinates.at(i)));
            return self.build_over_free_index(p, working);
        }
        let listed = matches!(coordinates, Coordinates::Listed { .. });
        let comparable = listed == self.listed && lower.len() >= self.free.len();
        if !comparable {
            self.free.clear();
        }
        self.listed = listed;
        self.free.resize(lower.len(), false);
        self.changed.clear();
        for (i, was) in self.free.iter_mut().enumerate() {
            let now = lower[i] < state.s[i] && state.s[i] < upper[i];
            if now != *was {
                self.changed.push(i);
                *was = now;
            }
        }
        // The earlier rows still working, which must open the working set in the same order.
        let mut kept = 0;
        let mut in_order = true;
        for &j in &self.rows {
            if working.contains(&j) {
                in_order &= working.get(kept) == Some(&j);
                kept += 1;
            }
        }
        let few = (self.changed.len() as f64) < DUAL_GRAM_UPDATE_MAX_CHANGED * self.free.len() as f64;
        if !(comparable && in_order && few) {
            return self.build(p, working, coordinates);
        }
        let (k, old) = (working.len(), self.rows.len());
        self.spare.clear();
        self.spare.resize(k * k, 0.0);
        let h = &mut self.spare;
        let positions = (0..old).filter(|&a| working.contains(&self.rows[a]));
        for (a, oa) in positions.clone().enumerate() {
            for (b, ob) in positions.clone().enumerate() {
                h[a * k + b] = self.h[oa * old + ob];
            }
        }
        let normal = |a: usize| p.row(working[a]).normal;
        let mut values = vec![0.0; kept];
        for &i in &self.changed {
            let c = coordinates.at(i);
            values.iter_mut().enumerate().for_each(|(a, v)| *v = normal(a)[c]);
            let sign = if self.free[i] { 1.0 } else { -1.0 };
            for a in (0..kept).filter(|&a| values[a] != 0.0) {
                for b in 0..kept {
                    h[a * k + b] += sign * values[a] * values[b];
                }
            }
        }
        if kept < k {
            self.free_index.clear();
            let free = self.free.iter().enumerate().filter(|(_, &f)| f);
            self.free_index.extend(free.map(|(i, _)| coordinates.at(i)));
            for a in kept..k {
                for b in 0..=a {
                    let v = dot_at(normal(a), normal(b), &self.free_index);
                    h[a * k + b] = v;
                    h[b * k + a] = v;
                }
            }
        }
        std::mem::swap(&mut self.h, &mut self.spare);
        self.rows.clear();
        self.rows.extend_from_slice(working);
        self.updated = true;
    }

    /// Builds the matrix for `working` over the free positions of `self.free`.
    fn build(&mut self, p: &Problem, working: &[usize], coordinates: &Coordinates) {
        self.free_index.clear();
        let free = self.free.iter().enumerate().filter(|(_, &f)| f);
        self.free_index.extend(free.map(|(i, _)| coordinates.at(i)));
        self.build_over_free_index(p, working);
    }

    /// Builds the matrix for `working` over the coordinates of `self.free_index`: the rows' free
    /// coordinates copied into one contiguous row each, so that each product is a [`dot`] that
    /// vectorises.
    fn build_over_free_index(&mut self, p: &Problem, working: &[usize]) {
        let (k, f) = (working.len(), self.free_index.len());
        self.packed.clear();
        for &j in working {
            let normal = p.row(j).normal;
            self.packed.extend(self.free_index.iter().map(|&i| normal[i]));
        }
        self.h.clear();
        self.h.resize(k * k, 0.0);
        for a in 0..k {
            let ra = &self.packed[a * f..(a + 1) * f];
            for b in 0..=a {
                let v = dot(ra, &self.packed[b * f..(b + 1) * f]);
                self.h[a * k + b] = v;
                self.h[b * k + a] = v;
            }
        }
        self.rows.clear();
        self.rows.extend_from_slice(working);
        self.updated = false;
    }
}

/// Each row's nonzero coordinates when it has few (at most [`DUAL_LISTED_MAX_SHARE`] of them,
/// where a gathered product beats a contiguous one), found when a problem's violations are
/// first taken over every coordinate.
#[derive(Default)]
struct Supports(Option<Vec<Option<Vec<usize>>>>);

impl Supports {
    fn of(&mut self, p: &Problem) -> &[Option<Vec<usize>>] {
        let limit = (DUAL_LISTED_MAX_SHARE * p.lower.len() as f64) as usize;
        self.0.get_or_insert_with(|| p.rows().map(|row| sparse_support(row.normal, limit)).collect())
    }
}

/// The nonzero coordinates of `normal` if at most `limit`. A dense row (an MLP's) is told by its
/// first `limit` entries, counted in a pass that vectorises, before any index is listed.
fn sparse_support(normal: &[f64], limit: usize) -> Option<Vec<usize>> {
    let head = &normal[..limit.min(normal.len())];
    if head.iter().map(|a| usize::from(*a != 0.0)).sum::<usize>() * 2 > head.len() {
        return None;
    }
    let mut support = Vec::new();
    for (i, a) in normal.iter().enumerate() {
        if *a != 0.0 {
            if support.len() == limit {
                return None;
            }
            support.push(i);
        }
    }
    Some(support)
}

/// `Σ_{i ∈ index} a_i b_i`, in four lanes of sums (as [`dot`]).
fn dot_at(a: &[f64], b: &[f64], index: &[usize]) -> f64 {
    let mut lanes = [0.0; 4];
    let whole = index.chunks_exact(4);
    let tail: f64 = whole.remainder().iter().map(|&i| a[i] * b[i]).sum();
    for i in whole {
        for k in 0..4 {
            lanes[k] += a[i[k]] * b[i[k]];
        }
    }
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail
}

/// Solves `H x = r` for a symmetric positive definite `k×k` matrix (row-major, overwritten by its
/// Cholesky factor). `None` if a pivot is not positive.
fn cholesky_solve(h: &mut [f64], k: usize, mut r: Vec<f64>) -> Option<Vec<f64>> {
    for j in 0..k {
        let mut d = h[j * k + j];
        for c in 0..j {
            d -= h[j * k + c] * h[j * k + c];
        }
        if d.is_nan() || d <= 0.0 {
            return None;
        }
        let d = d.sqrt();
        h[j * k + j] = d;
        for i in j + 1..k {
            let mut v = h[i * k + j];
            for c in 0..j {
                v -= h[i * k + c] * h[j * k + c];
            }
            h[i * k + j] = v / d;
        }
    }
    for i in 0..k {
        for c in 0..i {
            r[i] -= h[i * k + c] * r[c];
        }
        r[i] /= h[i * k + i];
    }
    for i in (0..k).rev() {
        for c in i + 1..k {
            r[i] -= h[c * k + i] * r[c];
        }
        r[i] /= h[i * k + i];
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// [`Problem::bound_at`] skips the evaluation when `b·λ ≤ 0` and the box holds the origin. The
    /// evaluation it skips must never have proved more than 0: neither a positive `g(λ)` nor a
    /// Farkas ray, on random problems in boxes around the origin (some half-unbounded).
    #[test]
    fn multipliers_with_a_nonpositive_combined_bound_prove_nothing() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut skipped = 0;
        for _ in 0..2000 {
            let n = rng.gen_range(1..40);
            let m = rng.gen_range(1..8);
            let normals: Vec<Vec<f64>> = (0..m).map(|_| (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()).collect();
            let lower: Vec<f64> =
                (0..n).map(|_| if rng.gen_bool(0.1) { f64::NEG_INFINITY } else { -rng.gen_range(0.0..2.0) }).collect();
            let upper: Vec<f64> = (0..n).map(|_| rng.gen_range(0.0..2.0)).collect();
            let problem = Problem {
                equality: rng.gen_bool(0.5).then(|| Row { normal: &normals[0], bound: rng.gen_range(-1.0..1.0) }),
                inequalities: normals.iter().map(|a| Row { normal: a, bound: rng.gen_range(-3.0..1.0) }).collect(),
                lower,
                upper,
            };
            let rows = problem.rows().count();
            let lambda: Vec<f64> = (0..rows)
                .map(|j| if problem.free(j) { rng.gen_range(-2.0..2.0) } else { rng.gen_range(0.0..2.0) })
                .collect();
            let combined: f64 = problem.rows().zip(&lambda).map(|(r, l)| r.bound * l).sum();
            if combined <= 0.0 {
                skipped += 1;
                assert_eq!(problem.bound_at(&lambda), 0.0);
                let all = Coordinates::All;
                assert!(State::new(&problem, &lambda, &all).certified(&problem, &lambda) <= 0.0);
            }
        }
        assert!(skipped > 200, "only {skipped} multiplier sets had b·λ ≤ 0");
    }

    /// Listing the coordinates changes the order of the sums and nothing else: on random problems
    /// with sparse rows (boxes around the origin, some half-unbounded, and boxes that exclude it in
    /// a few coordinates), the solve over a list and the solve over every coordinate reach the
    /// same bound and point, and bound the same multipliers alike.
    #[test]
    fn listed_coordinates_solve_as_all_coordinates_do() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let (mut listed, mut compared) = (0, 0);
        for case in 0..600 {
            let n = rng.gen_range(20..400);
            let m = rng.gen_range(1..10);
            let support = rng.gen_range(1..=n / 10);
            let normals: Vec<Vec<f64>> = (0..m)
                .map(|_| {
                    let mut a = vec![0.0; n];
                    for _ in 0..support {
                        a[rng.gen_range(0..n)] = rng.gen_range(-1.0..1.0);
                    }
                    a
                })
                .collect();
            let excludes_origin = case % 3 == 0;
            let lower: Vec<f64> = (0..n)
                .map(|_| match rng.gen_range(0..20) {
                    0 => f64::NEG_INFINITY,
                    1 if excludes_origin => rng.gen_range(0.01..0.5),
                    _ => -rng.gen_range(0.1..2.0),
                })
                .collect();
            let upper: Vec<f64> = lower.iter().map(|l| l.max(0.0) + rng.gen_range(0.1..2.0)).collect();
            let problem = Problem {
                equality: rng.gen_bool(0.3).then(|| Row { normal: &normals[0], bound: rng.gen_range(-0.5..0.5) }),
                inequalities: normals.iter().map(|a| Row { normal: a, bound: rng.gen_range(-1.0..1.5) }).collect(),
                lower,
                upper,
            };
            let mut coordinates = Coordinates::Open;
            for row in problem.rows() {
                coordinates.add(&problem, row.normal, n, None);
            }
            if let Coordinates::Listed { index, .. } = &coordinates {
                if index.len() < n {
                    listed += 1;
                }
            }
            let (by_list, by_all) = (problem.solve_listing(n), problem.solve_listing(0));
            // Problems whose optimum is far out (a near-empty polyhedron) end where rounding led
            // each iteration; the rest converge to the same optimum.
            if by_all.lower_bound.is_finite() && by_all.lower_bound > 1e6 {
                continue;
            }
            compared += 1;
            let close = |a: f64, b: f64| a == b || (a - b).abs() <= 1e-7 * (1.0 + a.abs().max(b.abs()));
            let (a, b) = (by_list.lower_bound, by_all.lower_bound);
            assert!(close(a, b), "case {case}: {a} against {b}");
            let gap = by_list.point.iter().zip(&by_all.point).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            // A Farkas ray ends the iteration wherever it is found.
            assert!(
                b.is_infinite() || by_list.point.iter().zip(&by_all.point).all(|(a, b)| close(*a, *b)),
                "case {case}: points differ by {gap}"
            );
            let again = problem.bound_at(&by_all.multipliers);
            assert!(close(again, b) || (b <= 0.0 && again == 0.0), "case {case}: {again} against {b}");
        }
        assert!(compared > 400, "only {compared} problems converged");
        assert!(listed > 400, "only {listed} problems were solved over a list shorter than all coordinates");
    }

    /// The Newton matrix updated from one working set and free set to the next equals the matrix
    /// summed directly for them, over every coordinate and over a list that grows as rows enter,
    /// on random sequences in which rows enter and leave (working sets of 1–30 rows, across
    /// `DUAL_GRAM_UPDATE_MIN_ROWS`) and a few coordinates enter or leave the box's interior at a
    /// time. Fails if an update misses a changed coordinate, a dropped row or a new row's products.
    #[test]
    fn updated_newton_matrix_equals_the_one_summed_directly() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
        let (mut updates, mut listed_updates) = (0, 0);
        for case in 0..300 {
            let n = rng.gen_range(8..120);
            let m = rng.gen_range(10..40);
            let sparse = case % 2 == 0;
            let normals: Vec<Vec<f64>> = (0..m)
                .map(|_| {
                    (0..n).map(|_| if sparse && rng.gen_bool(0.8) { 0.0 } else { rng.gen_range(-1.0..1.0) }).collect()
                })
                .collect();
            let problem = Problem {
                equality: None,
                inequalities: normals.iter().map(|a| Row { normal: a, bound: 0.0 }).collect(),
                lower: vec![-1.0; n],
                upper: vec![1.0; n],
            };
            let mut coordinates = Coordinates::Open;
            let mut s_all: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.5..1.5)).collect();
            let (mut gram, mut working) = (Gram::default(), Vec::new());
            for _ in 0..16 {
                working.retain(|_| rng.gen_bool(0.9));
                for _ in 0..rng.gen_range(1..=3) {
                    let outside: Vec<usize> = (0..m).filter(|j| !working.contains(j)).collect();
                    if let Some(&j) = outside.get(rng.gen_range(0..outside.len().max(1))) {
                        working.push(j);
                        coordinates.add(&problem, problem.row(j).normal, if sparse { n } else { 0 }, None);
                    }
                }
                for _ in 0..rng.gen_range(0..4) {
                    s_all[rng.gen_range(0..n)] = rng.gen_range(-1.5..1.5);
                }
                let positions = coordinates.bounds(&problem).0.len();
                let s: Vec<f64> = (0..positions).map(|i| s_all[coordinates.at(i)]).collect();
                let free: Vec<usize> =
                    (0..positions).filter(|&i| s[i].abs() < 1.0).map(|i| coordinates.at(i)).collect();
                let state = State {
                    s,
                    point: Vec::new(),
                    value: 0.0,
                    violation: Vec::new(),
                    magnitude: 0.0,
                    support: 0.0,
                    support_magnitude: 0.0,
                };
                gram.update(&problem, &working, &state, &coordinates);
                if gram.updated {
                    updates += 1;
                    listed_updates += usize::from(matches!(coordinates, Coordinates::Listed { .. }));
                }
                assert_eq!(gram.rows, working, "case {case}");
                let k = working.len();
                for a in 0..k {
                    for b in 0..k {
                        let (ra, rb) = (problem.row(working[a]).normal, problem.row(working[b]).normal);
                        let direct: f64 = free.iter().map(|&i| ra[i] * rb[i]).sum();
                        let held = gram.h[a * k + b];
                        assert!((held - direct).abs() <= 1e-12 * n as f64, "case {case}: {held} against {direct}");
                    }
                }
            }
        }
        assert!(updates > 1000 && listed_updates > 300, "{updates} updates, {listed_updates} over a list");
    }

    /// A row's support is listed exactly (its nonzero coordinates, in order) when it has at most
    /// the limit of them, and never listed for a denser row; a listed row's product over its
    /// support equals its dense product. Rows from 1% to fully dense, some with their nonzeros
    /// gathered at the start (read as dense by the first pass: slower, never wrong).
    #[test]
    fn sparse_supports_list_exactly_the_nonzeros_of_sparse_rows() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(23);
        let (mut listed, mut dense) = (0, 0);
        for case in 0..1000 {
            let n = rng.gen_range(8..400);
            let limit = (DUAL_LISTED_MAX_SHARE * n as f64) as usize;
            let density = [0.01, 0.05, 0.1, 0.2, 0.5, 1.0][case % 6];
            let mut row: Vec<f64> =
                (0..n).map(|_| if rng.gen_bool(density) { rng.gen_range(-1.0..1.0) } else { 0.0 }).collect();
            if case % 7 == 0 {
                row.sort_by(|a, b| b.abs().total_cmp(&a.abs()));
            }
            let nonzeros: Vec<usize> = (0..n).filter(|&i| row[i] != 0.0).collect();
            match sparse_support(&row, limit) {
                Some(support) => {
                    listed += 1;
                    assert_eq!(support, nonzeros, "case {case}");
                    let y: Vec<f64> = (0..n).map(|_| rng.gen_range(-2.0..2.0)).collect();
                    let (a, b) = (dot_at(&row, &y, &support), dot(&row, &y));
                    assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "case {case}: {a} against {b}");
                }
                None => {
                    dense += 1;
                    let head = row[..limit].iter().filter(|a| **a != 0.0).count();
                    assert!(nonzeros.len() > limit || 2 * head > limit, "case {case}: a sparse row read as dense");
                }
            }
        }
        assert!(listed > 300 && dense > 300, "{listed} listed, {dense} dense");
    }
}
