//! Reference counter by layer-wise splitting (theory §6.1): the simplest correct method, used by
//! tests as an oracle for the walk. It shares no adjacency logic with the walk and decides every
//! ball test with Kelley's cutting planes ([`meets_by_cuts`]) instead of the distance QP.
//!
//! Cells are convex pieces with a pattern prefix; each neuron either keeps one sign on a cell or
//! splits it in two (a max window splits it into one piece per candidate), and a piece survives
//! only if its interior meets the domain. Slow (a test per
//! cell and neuron), so it is for small networks only.

use crate::domain::{Domain, Halfspace};
use crate::lp::{meets_by_cuts, Decision, LpCounters};
use crate::model::{difference, Difference, Network, NeuronKind, Pattern};
use crate::tolerance::{CANCEL, DECIDE};
use crate::Result;
use ndarray::{Array1, Array2};

/// One convex piece of the domain with a fixed pattern prefix.
#[derive(Clone)]
struct Cell {
    constraints: Vec<Halfspace>,
    /// Affine map of the previous layer's output on this cell: `h = jac · x + off`.
    jac: Array2<f64>,
    off: Array1<f64>,
    pattern: Pattern,
    /// A frame point strictly inside the cell and the domain.
    witness: Vec<f64>,
}

/// The patterns of all activation regions meeting `domain`, sorted, with the solver work spent.
pub fn split_patterns(net: &Network, domain: &Domain) -> Result<(Vec<Pattern>, LpCounters)> {
    let mut counters = LpCounters::default();
    let n0 = net.input_dim();
    let witness = match meets_by_cuts(domain, &[], None, &mut counters)? {
        Decision::Meets { witness, .. } => witness,
        _ => return Ok((Vec::new(), counters)),
    };
    let mut cells = vec![Cell {
        constraints: Vec::new(),
        jac: Array2::eye(n0),
        off: Array1::zeros(n0),
        pattern: Pattern::zeros(net.neurons()),
        witness,
    }];
    for (l, layer) in net.hidden().iter().enumerate() {
        // The splitter is for small networks: dense rows keep its arithmetic plain.
        let weight = layer.weight.to_dense();
        for j in 0..weight.nrows() {
            let k = net.neuron_index(l, j);
            if let Some(window) = net.max_windows().in_layer(l).iter().find(|w| w.contains(&j)) {
                if j == window.start {
                    cells = split_window(net, domain, &weight, &layer.bias, l, window.clone(), cells, &mut counters)?;
                }
                continue;
            }
            let w = weight.row(j);
            let mut next = Vec::with_capacity(cells.len());
            for mut cell in cells {
                let a = w.dot(&cell.jac);
                let beta = w.dot(&cell.off) + layer.bias[j];
                let mag_a: f64 = w.iter().zip(cell.jac.rows()).map(|(wi, r)| wi.abs() * r.dot(&r).sqrt()).sum();
                let mag_b: f64 =
                    w.iter().zip(&cell.off).map(|(wi, o)| (wi * o).abs()).sum::<f64>() + layer.bias[j].abs();
                if a.dot(&a).sqrt() <= CANCEL * mag_a {
                    cell.pattern.set(k, beta > CANCEL * mag_b);
                    next.push(cell);
                    continue;
                }
                let up = domain.halfspace(a.iter().copied(), beta).expect("non-zero normal");
                if domain.misses(&up) {
                    // One side holds the whole domain: the side of the witness.
                    cell.pattern.set(k, up.eval(&cell.witness) > 0.0);
                    next.push(cell);
                    continue;
                }
                let down = Halfspace { normal: up.normal.iter().map(|v| -v).collect(), offset: -up.offset };
                for (h, active) in [(up, true), (down, false)] {
                    let known = h.eval(&cell.witness) > DECIDE;
                    let mut piece = cell.clone();
                    piece.constraints.push(h);
                    piece.pattern.set(k, active);
                    if !known {
                        let refs: Vec<&Halfspace> = piece.constraints.iter().collect();
                        match meets_by_cuts(domain, &refs, None, &mut counters)? {
                            Decision::Meets { witness, .. } => piece.witness = witness,
                            _ => continue,
                        }
                    }
                    next.push(piece);
                }
            }
            cells = next;
        }
        for cell in &mut cells {
            let mut jac = weight.dot(&cell.jac);
            let mut off = weight.dot(&cell.off) + &layer.bias;
            for j in 0..weight.nrows() {
                if !cell.pattern.get(net.neuron_index(l, j)) {
                    jac.row_mut(j).fill(0.0);
                    off[j] = 0.0;
                }
            }
            cell.jac = jac;
            cell.off = off;
        }
    }
    let mut patterns: Vec<Pattern> = cells.into_iter().map(|c| c.pattern).collect();
    patterns.sort();
    Ok((patterns, counters))
}

/// Splits every cell at a max window of hidden layer `l` (theory §11): one piece per candidate
/// `c`, cut by `z_c − z_i > 0` for every other candidate `i`, kept if it meets the domain. Ties
/// between the same function go to the lowest index.
#[allow(clippy::too_many_arguments)]
fn split_window(
    net: &Network,
    domain: &Domain,
    weight: &Array2<f64>,
    bias: &Array1<f64>,
    l: usize,
    window: std::ops::Range<usize>,
    cells: Vec<Cell>,
    counters: &mut LpCounters,
) -> Result<Vec<Cell>> {
    let mut next = Vec::with_capacity(cells.len());
    for cell in cells {
        // Each candidate's surrogate on the cell, with its kind by the magnitudes of its terms.
        let units: Vec<(Vec<f64>, f64, NeuronKind)> = window
            .clone()
            .map(|j| {
                let w = weight.row(j);
                let a = w.dot(&cell.jac);
                let beta = w.dot(&cell.off) + bias[j];
                let mag_a: f64 = w.iter().zip(cell.jac.rows()).map(|(wi, r)| wi.abs() * r.dot(&r).sqrt()).sum();
                let mag_b: f64 = w.iter().zip(&cell.off).map(|(wi, o)| (wi * o).abs()).sum::<f64>() + bias[j].abs();
                (a.to_vec(), beta, NeuronKind::of(a.dot(&a).sqrt(), mag_a, beta, mag_b))
            })
            .collect();
        let unit = |c: usize| (units[c].0.as_slice(), units[c].1, units[c].2);
        'candidates: for c in 0..units.len() {
            let mut piece = cell.clone();
            for i in (0..units.len()).filter(|&i| i != c) {
                match difference(unit(c), unit(i)) {
                    Difference::Varying(a, beta) => {
                        piece.constraints.push(domain.halfspace(a, beta).expect("non-zero normal"))
                    }
                    Difference::Constant(d) if d < 0.0 => continue 'candidates,
                    Difference::Identical if i < c => continue 'candidates,
                    _ => {}
                }
            }
            for i in 0..units.len() {
                piece.pattern.set(net.neuron_index(l, window.start + i), i == c);
            }
            let refs: Vec<&Halfspace> = piece.constraints.iter().collect();
            if refs.iter().all(|h| h.eval(&piece.witness) > DECIDE) {
                next.push(piece);
                continue;
            }
            if let Decision::Meets { witness, .. } = meets_by_cuts(domain, &refs, None, counters)? {
                piece.witness = witness;
                next.push(piece);
            }
        }
    }
    Ok(next)
}
