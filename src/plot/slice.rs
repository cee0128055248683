//! Exact 2-D slices: the activation regions of the network restricted to a plane through the
//! centre, clipped to the ball's disk (or the cube's polygon), as convex polygons computed by
//! clipping, not by sampling a raster; and their picture (PNG or SVG, via `plotters`).
//!
//! Restricted to the plane `x = c + s·u + t·v` (orthonormal `u`, `v`), the network is a 2-input ReLU
//! network; its regions are found by layer-wise splitting of convex polygons (theory §6.1 in 2-D).

use crate::domain::Norm;
use crate::model::{difference, Difference, Network, NeuronKind, Pattern};
use crate::tolerance::{CANCEL, PLANE_DEGENERATE, SLICE_AREA};
use crate::{Error, Result};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};

/// Which plane through the centre to slice along.
#[derive(Clone, Debug)]
pub enum Plane {
    /// Coordinate axes `i` and `j` (0-based).
    Axes(usize, usize),
    /// A random plane (seeded).
    Random(u64),
    /// The plane through the centre and two points.
    Points(Vec<f64>, Vec<f64>),
}

impl Plane {
    /// Parses `axes:I,J`, `random[:SEED]` or `points` (the plane through the centre and the two
    /// `through` points).
    pub fn parse(spec: &str, through: Option<(Vec<f64>, Vec<f64>)>) -> Result<Plane> {
        let bad = || Error::Settings(format!("plane {spec}: expected axes:I,J, random[:SEED] or points"));
        let (kind, rest) = spec.split_once(':').unwrap_or((spec, ""));
        Ok(match kind {
            "axes" => {
                let v: Vec<usize> =
                    rest.split(',').map(|t| t.trim().parse()).collect::<Result<_, _>>().map_err(|_| bad())?;
                let [i, j] = v[..] else { return Err(bad()) };
                Plane::Axes(i, j)
            }
            "random" if rest.is_empty() => Plane::Random(0),
            "random" => Plane::Random(rest.parse().map_err(|_| bad())?),
            "points" => {
                let (p, q) =
                    through.ok_or_else(|| Error::Settings("plane points needs two points to pass through".into()))?;
                Plane::Points(p, q)
            }
            _ => return Err(bad()),
        })
    }
}

/// One region of the slice.
#[derive(Clone, Debug)]
pub struct SlicePolygon {
    /// Vertices in plane coordinates `(s, t)`, counter-clockwise, inside the domain's bounding polygon.
    pub vertices: Vec<[f64; 2]>,
    /// The region's activation pattern.
    pub pattern: Pattern,
}

/// The regions of a slice.
#[derive(Clone, Debug)]
pub struct Slice {
    /// Orthonormal directions of the plane.
    pub u: Vec<f64>,
    /// See `u`.
    pub v: Vec<f64>,
    /// Radius of the ball.
    pub radius: f64,
    /// Norm of the ball.
    pub norm: Norm,
    /// The regions meeting the slice of the ball.
    pub polygons: Vec<SlicePolygon>,
}

/// Computes the exact regions of `net` in the plane through `center` inside the ball.
pub fn slice(net: &Network, center: &[f64], radius: f64, norm: Norm, plane: &Plane) -> Result<Slice> {
    let n0 = net.input_dim();
    if n0 < 2 {
        return Err(Error::Settings("a 2-D slice needs a network with at least 2 inputs".into()));
    }
    let (u, v) = plane_basis(n0, center, plane)?;
    // The square [-r, r]², cut down to the cube's slice for L-inf.
    let mut start = vec![[-radius, -radius], [radius, -radius], [radius, radius], [-radius, radius]];
    if norm == Norm::Linf {
        for i in 0..n0 {
            start = clip(&start, [-u[i], -v[i], radius]);
            start = clip(&start, [u[i], v[i], radius]);
        }
    }
    // Cells: polygon, affine map of the previous layer's output in (s, t), pattern.
    let mut cells = vec![(
        start,
        Array2::from_shape_fn((n0, 2), |(i, k)| if k == 0 { u[i] } else { v[i] }),
        Array1::from(center.to_vec()),
        Pattern::zeros(net.neurons()),
    )];
    // A piece is kept if it has area and meets the disc (a square's pieces all meet the square).
    let kept = |piece: &[[f64; 2]]| {
        area(piece) > SLICE_AREA * radius * radius && (norm == Norm::Linf || distance_to_origin(piece) < radius)
    };
    for (l, layer) in net.hidden().iter().enumerate() {
        // Unit `j`'s pre-activation on a cell, `a·(s, t) + c`, with the magnitudes of its terms.
        let unit = |j: usize, jac: &Array2<f64>, off: &Array1<f64>| {
            let (mut a, mut c) = (Array1::zeros(2), layer.bias[j]);
            let (mut mag_a, mut mag_c) = (0.0, layer.bias[j].abs());
            for (i, wi) in layer.weight.row(j) {
                let r = jac.row(i);
                a.scaled_add(wi, &r);
                c += wi * off[i];
                mag_a += wi.abs() * r.dot(&r).sqrt();
                mag_c += (wi * off[i]).abs();
            }
            (a, c, mag_a, mag_c)
        };
        for j in 0..layer.weight.nrows() {
            let k = net.neuron_index(l, j);
            if let Some(window) = net.max_windows().of(k) {
                // A window splits a cell once, at its first candidate: one piece per candidate.
                if k == window.start {
                    cells = cells
                        .into_iter()
                        .flat_map(|(poly, jac, off, pattern)| {
                            split_window(&poly, window.clone(), |k| unit(k - net.neuron_index(l, 0), &jac, &off))
                                .into_iter()
                                .filter(|(piece, _)| kept(piece))
                                .map(|(piece, chosen)| {
                                    let mut p = pattern.clone();
                                    window.clone().for_each(|i| p.set(i, i == chosen));
                                    (piece, jac.clone(), off.clone(), p)
                                })
                                .collect::<Vec<_>>()
                        })
                        .collect();
                }
                continue;
            }
            let mut next = Vec::with_capacity(cells.len());
            for (poly, jac, off, pattern) in cells {
                let (a, c, mag_a, mag_c) = unit(j, &jac, &off);
                if (a[0] * a[0] + a[1] * a[1]).sqrt() <= CANCEL * mag_a {
                    let mut p = pattern;
                    p.set(k, c > CANCEL * mag_c);
                    next.push((poly, jac, off, p));
                    continue;
                }
                for (sign, active) in [(1.0, true), (-1.0, false)] {
                    let piece = clip(&poly, [sign * a[0], sign * a[1], sign * c]);
                    if kept(&piece) {
                        let mut p = pattern.clone();
                        p.set(k, active);
                        next.push((piece, jac.clone(), off.clone(), p));
                    }
                }
            }
            cells = next;
        }
        cells = cells
            .into_iter()
            .map(|(poly, jac, off, pattern)| {
                let mut j2 = layer.weight.dot_mat(&jac);
                let mut o2 = layer.weight.dot(off.view()) + &layer.bias;
                for j in 0..layer.weight.nrows() {
                    if !pattern.get(net.neuron_index(l, j)) {
                        j2.row_mut(j).fill(0.0);
                        o2[j] = 0.0;
                    }
                }
                (poly, j2, o2, pattern)
            })
            .collect();
    }
    let polygons = cells.into_iter().map(|(vertices, _, _, pattern)| SlicePolygon { vertices, pattern }).collect();
    Ok(Slice { u, v, radius, norm, polygons })
}

/// The pieces of `poly` where each candidate of a max window (pattern indices `window`; `unit`
/// gives a candidate's `(a, c, |terms of a|, |terms of c|)`) is the argmax: `z_c − z_i ≥ 0` for
/// every other candidate, ties between the same function to the lowest index (theory §11).
fn split_window(
    poly: &[[f64; 2]],
    window: std::ops::Range<usize>,
    unit: impl Fn(usize) -> (Array1<f64>, f64, f64, f64),
) -> Vec<(Vec<[f64; 2]>, usize)> {
    let units: Vec<(Vec<f64>, f64, NeuronKind)> = window
        .clone()
        .map(|k| {
            let (a, c, mag_a, mag_c) = unit(k);
            (a.to_vec(), c, NeuronKind::of(a.dot(&a).sqrt(), mag_a, c, mag_c))
        })
        .collect();
    let at = |i: usize| (units[i].0.as_slice(), units[i].1, units[i].2);
    let mut pieces = Vec::new();
    'candidates: for chosen in 0..units.len() {
        let mut piece = poly.to_vec();
        for other in (0..units.len()).filter(|&o| o != chosen) {
            match difference(at(chosen), at(other)) {
                Difference::Varying(a, c) => piece = clip(&piece, [a[0], a[1], c]),
                Difference::Constant(d) if d < 0.0 => continue 'candidates,
                Difference::Identical if other < chosen => continue 'candidates,
                _ => {}
            }
        }
        pieces.push((piece, window.start + chosen));
    }
    pieces
}

/// Orthonormal `(u, v)` spanning the plane.
fn plane_basis(n0: usize, center: &[f64], plane: &Plane) -> Result<(Vec<f64>, Vec<f64>)> {
    let unit = |i: usize| -> Vec<f64> { (0..n0).map(|k| if k == i { 1.0 } else { 0.0 }).collect() };
    let (a, b) = match plane {
        Plane::Axes(i, j) => {
            if *i >= n0 || *j >= n0 || i == j {
                return Err(Error::Settings(format!("plane axes {i},{j}: need two different axes below {n0}")));
            }
            (unit(*i), unit(*j))
        }
        Plane::Random(seed) => {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(*seed);
            let mut draw = || (0..n0).map(|_| rng.gen_range(-1.0..1.0)).collect::<Vec<f64>>();
            (draw(), draw())
        }
        Plane::Points(p, q) => {
            for (name, x) in [("first", p), ("second", q)] {
                if x.len() != n0 {
                    return Err(Error::point(format!(
                        "the {name} plane point has {} coordinates, the network {n0} inputs",
                        x.len()
                    )));
                }
            }
            (p.iter().zip(center).map(|(x, c)| x - c).collect(), q.iter().zip(center).map(|(x, c)| x - c).collect())
        }
    };
    // Gram–Schmidt.
    let norm = |x: &[f64]| x.iter().map(|v| v * v).sum::<f64>().sqrt();
    let na = norm(&a);
    if na < PLANE_DEGENERATE {
        return Err(Error::Settings("the plane's first direction is zero".into()));
    }
    let u: Vec<f64> = a.iter().map(|x| x / na).collect();
    let proj: f64 = b.iter().zip(&u).map(|(x, y)| x * y).sum();
    let w: Vec<f64> = b.iter().zip(&u).map(|(x, y)| x - proj * y).collect();
    let nw = norm(&w);
    if nw < PLANE_DEGENERATE * norm(&b).max(1.0) {
        return Err(Error::Settings("the plane's two directions are parallel".into()));
    }
    Ok((u, w.iter().map(|x| x / nw).collect()))
}

/// The part of a convex polygon where `h[0]·s + h[1]·t + h[2] ≥ 0` (Sutherland–Hodgman, one edge).
fn clip(poly: &[[f64; 2]], h: [f64; 3]) -> Vec<[f64; 2]> {
    let value = |p: &[f64; 2]| h[0] * p[0] + h[1] * p[1] + h[2];
    let mut out = Vec::with_capacity(poly.len() + 1);
    for i in 0..poly.len() {
        let (p, q) = (poly[i], poly[(i + 1) % poly.len()]);
        let (vp, vq) = (value(&p), value(&q));
        if vp >= 0.0 {
            out.push(p);
        }
        if (vp >= 0.0) != (vq >= 0.0) {
            let t = vp / (vp - vq);
            out.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
        }
    }
    out
}

/// Shoelace area (positive for counter-clockwise polygons).
pub fn area(poly: &[[f64; 2]]) -> f64 {
    if poly.len() < 3 {
        return 0.0;
    }
    0.5 * (0..poly.len())
        .map(|i| {
            let (p, q) = (poly[i], poly[(i + 1) % poly.len()]);
            p[0] * q[1] - q[0] * p[1]
        })
        .sum::<f64>()
}

/// Euclidean distance from the origin to a convex counter-clockwise polygon (0 inside).
fn distance_to_origin(poly: &[[f64; 2]]) -> f64 {
    let n = poly.len();
    let inside = (0..n).all(|i| {
        let (p, q) = (poly[i], poly[(i + 1) % n]);
        (q[0] - p[0]) * (-p[1]) - (q[1] - p[1]) * (-p[0]) >= 0.0
    });
    if inside {
        return 0.0;
    }
    (0..n)
        .map(|i| {
            let (p, q) = (poly[i], poly[(i + 1) % n]);
            let d = [q[0] - p[0], q[1] - p[1]];
            let len2 = d[0] * d[0] + d[1] * d[1];
            let t = if len2 == 0.0 { 0.0 } else { (-(p[0] * d[0] + p[1] * d[1]) / len2).clamp(0.0, 1.0) };
            let x = [p[0] + t * d[0], p[1] + t * d[1]];
            (x[0] * x[0] + x[1] * x[1]).sqrt()
        })
        .fold(f64::INFINITY, f64::min)
}

/// The polygon intersected with the open disk, approximated by an inscribed 720-gon (for drawing).
pub fn clip_to_disk(poly: &[[f64; 2]], radius: f64) -> Vec<[f64; 2]> {
    const SIDES: usize = 720;
    let mut out = poly.to_vec();
    for k in 0..SIDES {
        let angle = std::f64::consts::TAU * (k as f64 + 0.5) / SIDES as f64;
        let apothem = radius * (std::f64::consts::PI / SIDES as f64).cos();
        out = clip(&out, [-angle.cos(), -angle.sin(), apothem]);
        if out.is_empty() {
            break;
        }
    }
    out
}
