//! Reference counter by layer-wise splitting (theory §6.1): the simplest correct method, used by
//! tests as an oracle for the walk. It shares no adjacency logic with the walk and decides every
//! ball test with Kelley's cutting planes ([`meets_by_cuts`]) instead of the distance QP.
//!
//! Cells are convex pieces with a pattern prefix; each neuron either keeps one sign on a cell or
//! splits it in two, and a piece survives only if its interior meets the domain. Slow (a test per
//! cell and neuron), so it is for small networks only.

use crate::domain::{Domain, Halfspace};
use crate::lp::{meets_by_cuts, Decision, LpCounters};
use crate::model::{Network, Pattern};
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
