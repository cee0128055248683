//! Walking a Euclidean ball, or the whole space, in the first layer's row space instead of the
//! whole input space.
//!
//! Every hidden neuron is a function of the first layer's pre-activations `W₁x + b₁`, so every
//! region is a cylinder `{x : P(x − c) ∈ R'}` along the directions W₁ ignores, where `P` projects
//! orthogonally onto any subspace `S` that holds W₁'s rows. An L2 ball `B(c, ρ)` projects onto `S`
//! as the ball of radius ρ about 0, and a region meets the ball exactly when its cross-section `R'`
//! meets that projected ball. So the regions meeting the ball correspond one to one, with the
//! same patterns, to the regions of the network restricted to `S` (inputs `t`, first layer
//! `W₁Q`, bias `W₁c + b₁`, for an orthonormal basis `Q` of `S`) that meet the ball of radius ρ in
//! `dim S` dimensions. A witness `t` of the reduced walk gives the witness `c + Qt` (same inradius:
//! the ball about it projects onto the ball about `t`). The whole space projects onto the whole of
//! `S` in the same way (`c = 0`).
//!
//! MNIST 10x10 (784 inputs, a first layer of 10) walks in 10 dimensions instead of 784, where each
//! facet test costs ~1/78 of the arithmetic. A box does not reduce (the projection of a cube is a
//! zonotope, not a box), nor does a ball clipped to a box.

use crate::domain::{Domain, Norm, Shape};
use crate::exact::{WalkOptions, WalkResult};
use crate::model::{Layer, Network, Weight};
use crate::tolerance::ROW_SPACE;
use crate::vector::dot;
use crate::Result;
use ndarray::Array2;
use std::sync::Arc;

/// Runs `walk` on the problem in the first layer's row space when it reduces ([`Reduced::of`]),
/// and lifts the points of the result that `walked` picks out (none on a dataflow walk's other
/// processes); otherwise runs it on the problem as given. The single walk, `resume` and the
/// dataflow walk all reduce here.
pub(crate) fn in_row_space<T>(
    net: &Network,
    domain: &Domain,
    options: &WalkOptions,
    walk: impl FnOnce(&Network, &Domain, &WalkOptions) -> Result<T>,
    walked: impl FnOnce(&mut T) -> Option<&mut WalkResult>,
) -> Result<T> {
    let Some(reduced) = Reduced::of(net, domain)? else { return walk(net, domain, options) };
    let reduced = Arc::new(reduced);
    // Regions streamed out are lifted as they go.
    let lifted = reduced.clone();
    let sink = options.sink.as_ref().map(|s| s.mapped(move |p| *p = lifted.lift_point(p)));
    let mut result = walk(&reduced.net, &reduced.domain, &WalkOptions { sink, ..options.clone() })?;
    if let Some(w) = walked(&mut result) {
        reduced.lift(w);
    }
    Ok(result)
}

/// A network and L2 ball (or the whole space) in the first layer's row space, and the way back to
/// the model's inputs.
struct Reduced {
    /// The network on `t`, the coordinates along [`Reduced::basis`].
    net: Network,
    /// The ball of the same radius about `t = 0`, or the whole row space.
    domain: Domain,
    /// The ball's centre in the model's inputs.
    center: Vec<f64>,
    /// Orthonormal vectors spanning a subspace that holds every row of W₁.
    basis: Vec<Vec<f64>>,
}

impl Reduced {
    /// The reduced problem when `domain` is an unclipped L2 ball or the whole space and W₁'s rows
    /// span fewer dimensions than the input has; `None` otherwise (the walk then runs as given).
    fn of(net: &Network, domain: &Domain) -> Result<Option<Reduced>> {
        let first = &net.layers()[0];
        let d = net.input_dim();
        let (center, radius) = match domain.shape() {
            // A ball's row space is only worth finding when W₁ has fewer rows than inputs.
            Shape::Ball { center, radius, norm: Norm::L2 } if first.weight.nrows() < d => {
                (center.clone(), Some(*radius))
            }
            // The whole space projects onto the whole row space. Its rank matters beyond speed: in
            // the row space every region is a pointed polyhedron (`exact::whole`).
            Shape::Whole => (vec![0.0; d], None),
            _ => return Ok(None),
        };
        if domain.clip().is_some() {
            return Ok(None);
        }
        let Some(basis) = row_space_basis(&first.weight, d) else { return Ok(None) };
        let q = Array2::from_shape_fn((d, basis.len()), |(i, j)| basis[j][i]);
        let first = Layer {
            weight: Weight::from(first.weight.dot_mat(&q)),
            bias: &first.bias + &first.weight.dot(ndarray::ArrayView1::from(center.as_slice())),
        };
        let domain = match radius {
            Some(radius) => Domain::ball(&vec![0.0; basis.len()], radius, Norm::L2)?,
            None => Domain::whole(basis.len()),
        };
        Ok(Some(Reduced { net: net.with_first_layer(first, None)?, domain, center, basis }))
    }

    /// The model's input `c + Qt` of a reduced point `t`.
    fn lift_point(&self, t: &[f64]) -> Vec<f64> {
        let mut x = self.center.clone();
        for (q, ti) in self.basis.iter().zip(t) {
            x.iter_mut().zip(q).for_each(|(x, q)| *x += ti * q);
        }
        x
    }

    /// Puts a reduced walk's points (start and witnesses) into the model's inputs.
    fn lift(&self, result: &mut WalkResult) {
        let lift = |p: &mut Vec<f64>| *p = self.lift_point(p);
        result.start.iter_mut().for_each(lift);
        result.regions.iter_mut().filter_map(|r| r.witness.as_mut()).for_each(lift);
    }
}

/// An orthonormal basis of a subspace holding every row of `w`, or `None` when it would span all
/// `d` dimensions, or none (a first layer of zeros: the walk as given finds its one region), or
/// the basis fails its check.
///
/// Gram–Schmidt, each row re-orthogonalised while a pass removes more than half of it (a nearly
/// dependent row's first residual is mostly rounding along the basis). A row whose residual is
/// below [`ROW_SPACE`] of its norm lies in the span up to rounding and adds no direction; any
/// other residual adds one (a larger subspace keeps the reduction exact). The result is checked:
/// orthonormal, and every row within `2·ROW_SPACE` of its norm of the span; the walk's decisions
/// use margins of [`crate::tolerance::DECIDE`], five orders of magnitude above.
fn row_space_basis(w: &Weight, d: usize) -> Option<Vec<Vec<f64>>> {
    let rows: Vec<Vec<f64>> = (0..w.nrows())
        .map(|j| {
            let mut v = vec![0.0; d];
            w.row(j).for_each(|(i, x)| v[i] = x);
            v
        })
        .collect();
    let residual = |basis: &[Vec<f64>], row: &[f64]| {
        let mut v = row.to_vec();
        for q in basis {
            let c = dot(q, &v);
            v.iter_mut().zip(q).for_each(|(v, q)| *v -= c * q);
        }
        v
    };
    let norm = |v: &[f64]| dot(v, v).sqrt();
    let mut basis: Vec<Vec<f64>> = Vec::new();
    for row in &rows {
        let length = norm(row);
        let mut v = row.clone();
        for _ in 0..4 {
            let before = norm(&v);
            v = residual(&basis, &v);
            if norm(&v) > 0.5 * before {
                break;
            }
        }
        let left = norm(&v);
        if left > ROW_SPACE * length {
            v.iter_mut().for_each(|v| *v /= left);
            basis.push(v);
        }
    }
    let orthonormal = basis.iter().enumerate().all(|(a, qa)| {
        basis.iter().enumerate().all(|(b, qb)| (dot(qa, qb) - if a == b { 1.0 } else { 0.0 }).abs() <= ROW_SPACE)
    });
    let spanned = rows.iter().all(|row| norm(&residual(&basis, row)) <= 2.0 * ROW_SPACE * norm(row));
    (orthonormal && spanned && !basis.is_empty() && basis.len() < d).then_some(basis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_basis_is_orthonormal_and_holds_every_row() {
        // Three rows in 6-D, the third twice the first plus the second: two directions.
        let rows = vec![
            vec![1.0, 2.0, 0.0, -1.0, 0.5, 3.0],
            vec![0.0, 1.0, 1.0, 1.0, -2.0, 0.0],
            vec![2.0, 5.0, 1.0, -1.0, -1.0, 6.0],
        ];
        let w = Weight::from(Array2::from_shape_fn((3, 6), |(i, j)| rows[i][j]));
        let basis = row_space_basis(&w, 6).unwrap();
        assert_eq!(basis.len(), 2);
        for (a, qa) in basis.iter().enumerate() {
            for (b, qb) in basis.iter().enumerate() {
                let expected = if a == b { 1.0 } else { 0.0 };
                assert!((dot(qa, qb) - expected).abs() < 1e-12);
            }
        }
        for row in &rows {
            let mut residual = row.clone();
            for q in &basis {
                let c = dot(q, row);
                residual.iter_mut().zip(q).for_each(|(r, q)| *r -= c * q);
            }
            assert!(dot(&residual, &residual).sqrt() < 1e-12);
        }
        // Rows that are multiples of one another up to rounding (a network's opposite and scaled
        // neurons) give one direction: a first residual of pure rounding lies along the basis
        // and must not become a direction.
        let rows = [
            [-0.0, -3.0, -2.0, 1.0, 3.0],
            [0.0, 3.380062735047884, 2.2533751566985893, -1.1266875783492947, -3.380062735047884],
            [-2.0, -3.0, 1.0, 2.0, -2.0],
            [0.0, 3.0, 2.0, -1.0, -3.0],
        ];
        let w = Weight::from(Array2::from_shape_fn((4, 5), |(i, j)| rows[i][j]));
        assert_eq!(row_space_basis(&w, 5).unwrap().len(), 2);
        // Six independent rows in 6-D: nothing to reduce.
        assert!(row_space_basis(&Weight::identity(6), 6).is_none());
    }
}
