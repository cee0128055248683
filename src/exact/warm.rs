//! The walk's LPs for one region in one HiGHS instance per thread, modified between solves.
//!
//! A region's bounding-box LPs and facet tests share every constraint and differ only in the
//! objective, one row's bounds and one coefficient. Building a fresh model per LP costs far more
//! than solving it (HiGHS allocates its whole workspace and reads its options each time), so the
//! walk loads the region once ([`RegionLp::load`]) and each later solve starts from the previous
//! optimal basis (a hot start). This module talks to HiGHS through its C API (`highs-sys`),
//! because the `highs` crate rebuilds the model for every solve.
//!
//! The model is the Chebyshev LP of [`super::lp`]: columns `y` (free) and the slack `t`; rows
//! `h(y) − t ≥ 0` for every constraint and `y_i − t ≥ lower_i`, `y_i + t ≤ upper_i` for the
//! domain's finite box bounds.

use super::lp::LpCounters;
use crate::domain::{Domain, Halfspace};
use crate::tolerance::{SOLVER_FEASIBILITY, WHOLE_SPACE_SLACK_CAP};
use crate::{Error, Result};
use highs_sys::*;
use std::cell::RefCell;
use std::ffi::{c_void, CString};
use std::ptr::null_mut;

/// An owned HiGHS instance with the walk's options set once.
struct Instance(*mut c_void);

impl Instance {
    /// A quiet single-threaded instance without presolve; `simplex` forces the simplex solver (LPs;
    /// QPs use HiGHS's QP solver).
    fn new(simplex: bool) -> Self {
        // SAFETY: Highs_create returns a fresh instance owned by this value (freed in Drop); the
        // option names and values are valid NUL-terminated strings.
        unsafe {
            let h = Highs_create();
            let name = |s: &str| CString::new(s).expect("option names have no NUL");
            Highs_setBoolOptionValue(h, name("output_flag").as_ptr(), 0);
            Highs_setIntOptionValue(h, name("threads").as_ptr(), 1);
            Highs_setStringOptionValue(h, name("presolve").as_ptr(), name("off").as_ptr());
            if simplex {
                Highs_setStringOptionValue(h, name("solver").as_ptr(), name("simplex").as_ptr());
            }
            for option in ["primal_feasibility_tolerance", "dual_feasibility_tolerance"] {
                Highs_setDoubleOptionValue(h, name(option).as_ptr(), SOLVER_FEASIBILITY);
            }
            Instance(h)
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the pointer came from Highs_create and is destroyed once.
            unsafe { Highs_destroy(self.0) }
        }
    }
}

thread_local! {
    static INSTANCE: RefCell<Option<Instance>> = const { RefCell::new(None) };
    static QP_INSTANCE: RefCell<Option<Instance>> = const { RefCell::new(None) };
}

/// One region's Chebyshev LP, loaded into this thread's HiGHS instance.
pub struct RegionLp {
    instance: Instance,
    /// Number of input coordinates (the slack `t` is column `dim`).
    dim: usize,
    /// Offsets of the constraint rows (each row's lower bound is −offset), to restore the rows
    /// after a facet test.
    offsets: Vec<f64>,
    /// Whether a solve has happened since loading (later ones are warm).
    solved: bool,
}

/// The result of one solve.
enum Outcome {
    Optimal,
    Infeasible,
}

impl RegionLp {
    /// Loads `constraints` (in this order, rows `0..len`) and the domain's box into this thread's
    /// instance. Dropping the value returns the instance to the thread.
    pub fn load(domain: &Domain, constraints: &[&Halfspace]) -> Self {
        let instance = INSTANCE.with(|cell| cell.borrow_mut().take()).unwrap_or_else(|| Instance::new(true));
        let dim = domain.dim();
        let t = dim as HighsInt;
        let (mut start, mut index, mut value) = (vec![], vec![], vec![]);
        let (mut lower, mut upper) = (vec![], vec![]);
        for h in constraints {
            start.push(index.len() as HighsInt);
            for (i, a) in h.normal.iter().enumerate() {
                index.push(i as HighsInt);
                value.push(*a);
            }
            index.push(t);
            value.push(-1.0);
            lower.push(-h.offset);
            upper.push(f64::INFINITY);
        }
        for i in 0..dim {
            for (bound, sign) in [(domain.lower()[i], -1.0), (domain.upper()[i], 1.0)] {
                if bound.is_finite() {
                    start.push(index.len() as HighsInt);
                    index.extend([i as HighsInt, t]);
                    value.extend([1.0, sign]);
                    if sign < 0.0 {
                        lower.push(bound);
                        upper.push(f64::INFINITY);
                    } else {
                        lower.push(f64::NEG_INFINITY);
                        upper.push(bound);
                    }
                }
            }
        }
        let cost = vec![0.0; dim + 1];
        let col_lower: Vec<f64> = (0..=dim).map(|i| if i < dim { f64::NEG_INFINITY } else { -1.0 }).collect();
        let col_upper: Vec<f64> =
            (0..=dim).map(|i| if i < dim { f64::INFINITY } else { WHOLE_SPACE_SLACK_CAP }).collect();
        // SAFETY: every array has the length HiGHS reads for the given counts (row-wise matrix:
        // `start` per row, `index`/`value` per nonzero).
        unsafe {
            Highs_passLp(
                instance.0,
                (dim + 1) as HighsInt,
                lower.len() as HighsInt,
                index.len() as HighsInt,
                kHighsMatrixFormatRowwise,
                kHighsObjSenseMaximize,
                0.0,
                cost.as_ptr(),
                col_lower.as_ptr(),
                col_upper.as_ptr(),
                lower.as_ptr(),
                upper.as_ptr(),
                start.as_ptr(),
                index.as_ptr(),
                value.as_ptr(),
            );
        }
        RegionLp { instance, dim, offsets: constraints.iter().map(|h| h.offset).collect(), solved: false }
    }

    /// `max t` with the rows in `relaxed` dropped and, if given, row `on` held at equality without
    /// slack: the Chebyshev LP of the region (or of one of its facets). `None` if infeasible.
    pub fn chebyshev(
        &mut self,
        relaxed: &[usize],
        on: Option<usize>,
        counters: &mut LpCounters,
    ) -> Result<Option<(Vec<f64>, f64)>> {
        let solution = self.solve_on(relaxed, on, None, counters)?;
        Ok(solution.map(|mut cols| {
            let t = cols.pop().expect("the slack column");
            (cols, t)
        }))
    }

    /// `min objective·y` over the closure of the region ∩ the domain's box; `None` if that set is
    /// empty.
    pub fn minimise(&mut self, objective: &[f64], counters: &mut LpCounters) -> Result<Option<f64>> {
        let solution = self.solve_on(&[], None, Some(objective), counters)?;
        Ok(solution.map(|cols| cols.iter().zip(objective).map(|(y, c)| y * c).sum()))
    }

    /// One solve with the rows in `relaxed` dropped and row `on` at equality (restored after):
    /// `max t` without an objective, `min objective·y` with the slack fixed at 0 otherwise. The
    /// optimal columns (`y`, then `t`), `None` if infeasible.
    fn solve_on(
        &mut self,
        relaxed: &[usize],
        on: Option<usize>,
        objective: Option<&[f64]>,
        counters: &mut LpCounters,
    ) -> Result<Option<Vec<f64>>> {
        let h = self.instance.0;
        let t = self.dim as HighsInt;
        // SAFETY: rows and columns are within the loaded model.
        unsafe {
            match objective {
                None => {
                    Highs_changeColBounds(h, t, -1.0, WHOLE_SPACE_SLACK_CAP);
                    self.set_costs(None, 1.0, kHighsObjSenseMaximize);
                }
                Some(c) => {
                    Highs_changeColBounds(h, t, 0.0, 0.0);
                    self.set_costs(Some(c), 0.0, kHighsObjSenseMinimize);
                }
            }
            for &r in relaxed {
                Highs_changeRowBounds(h, r as HighsInt, f64::NEG_INFINITY, f64::INFINITY);
            }
            if let Some(r) = on {
                Highs_changeRowBounds(h, r as HighsInt, -self.offsets[r], -self.offsets[r]);
                Highs_changeCoeff(h, r as HighsInt, t, 0.0);
            }
        }
        let solution = self.run(counters).map(|outcome| match outcome {
            Outcome::Optimal => Some(self.columns()),
            Outcome::Infeasible => None,
        });
        // SAFETY: as above; restores the loaded rows.
        unsafe {
            for &r in relaxed.iter().chain(&on) {
                Highs_changeRowBounds(h, r as HighsInt, -self.offsets[r], f64::INFINITY);
            }
            if let Some(r) = on {
                Highs_changeCoeff(h, r as HighsInt, t, -1.0);
            }
        }
        solution
    }

    fn set_costs(&mut self, objective: Option<&[f64]>, slack_cost: f64, sense: HighsInt) {
        let h = self.instance.0;
        // SAFETY: columns 0..=dim exist.
        unsafe {
            Highs_changeObjectiveSense(h, sense);
            for i in 0..self.dim {
                Highs_changeColCost(h, i as HighsInt, objective.map_or(0.0, |o| o[i]));
            }
            Highs_changeColCost(h, self.dim as HighsInt, slack_cost);
        }
    }

    /// Solves the current model. A hot start occasionally ends without a verdict (HiGHS's
    /// "unknown" after numerical trouble in the updated factorisation); the model is then solved
    /// again from scratch, once.
    fn run(&mut self, counters: &mut LpCounters) -> Result<Outcome> {
        let h = self.instance.0;
        let mut last = (0, 0);
        for attempt in 0..2 {
            counters.lp_solves += 1;
            counters.warm_solves += u64::from(self.solved && attempt == 0);
            self.solved = true;
            // SAFETY: a loaded instance; clearing the solver keeps the model and drops the basis.
            let (status, model) = unsafe {
                if attempt > 0 {
                    Highs_clearSolver(h);
                }
                (Highs_run(h), Highs_getModelStatus(h))
            };
            match model {
                m if m == kHighsModelStatusOptimal => return Ok(Outcome::Optimal),
                m if m == kHighsModelStatusInfeasible => return Ok(Outcome::Infeasible),
                other => last = (status, other),
            }
        }
        Err(Error::Solver(format!("HiGHS LP ended with run status {}, model status {}", last.0, last.1)))
    }

    fn columns(&self) -> Vec<f64> {
        let mut cols = vec![0.0; self.dim + 1];
        // SAFETY: HiGHS writes num_col values into `cols`; null pointers skip the other arrays.
        unsafe {
            Highs_getSolution(self.instance.0, cols.as_mut_ptr(), null_mut(), null_mut(), null_mut());
        }
        cols
    }
}

impl Drop for RegionLp {
    fn drop(&mut self) {
        let instance = std::mem::replace(&mut self.instance, Instance(null_mut()));
        INSTANCE.with(|cell| *cell.borrow_mut() = Some(instance));
    }
}

/// The point of the closure of `{h ≥ 0 for h in inequalities} ∩ {equality = 0}` ∩ the domain's box
/// nearest the frame origin (`min ‖y‖²`), by HiGHS's QP solver in this thread's QP instance (the
/// model is replaced each time; creating an instance costs more than solving these QPs). `None`
/// when the QP solver gives up (it occasionally reports an error on degenerate polyhedra).
pub fn nearest_point(domain: &Domain, inequalities: &[&Halfspace], equality: Option<&Halfspace>) -> Option<Vec<f64>> {
    let instance = QP_INSTANCE.with(|cell| cell.borrow_mut().take()).unwrap_or_else(|| Instance::new(false));
    let n = domain.dim();
    let (mut start, mut index, mut value, mut lower, mut upper) = (vec![], vec![], vec![], vec![], vec![]);
    let rows = inequalities.iter().map(|h| (h, f64::INFINITY)).chain(equality.iter().map(|h| (h, -h.offset)));
    for (h, up) in rows {
        start.push(index.len() as HighsInt);
        index.extend(0..n as HighsInt);
        value.extend_from_slice(&h.normal);
        lower.push(-h.offset);
        upper.push(up);
    }
    let cost = vec![0.0; n];
    let q_start: Vec<HighsInt> = (0..n as HighsInt).collect();
    let q_value = vec![2.0; n];
    let mut y = vec![0.0; n];
    // SAFETY: every array has the length HiGHS reads for the given counts (row-wise constraint
    // matrix; triangular Hessian with one diagonal entry per column); `y` has one entry per column.
    let solved = unsafe {
        Highs_passModel(
            instance.0,
            n as HighsInt,
            lower.len() as HighsInt,
            index.len() as HighsInt,
            n as HighsInt,
            kHighsMatrixFormatRowwise,
            kHighsHessianFormatTriangular,
            kHighsObjSenseMinimize,
            0.0,
            cost.as_ptr(),
            domain.lower().as_ptr(),
            domain.upper().as_ptr(),
            lower.as_ptr(),
            upper.as_ptr(),
            start.as_ptr(),
            index.as_ptr(),
            value.as_ptr(),
            q_start.as_ptr(),
            q_start.as_ptr(),
            q_value.as_ptr(),
            std::ptr::null(),
        );
        Highs_run(instance.0);
        Highs_getModelStatus(instance.0) == kHighsModelStatusOptimal
            && Highs_getSolution(instance.0, y.as_mut_ptr(), null_mut(), null_mut(), null_mut()) == kHighsStatusOk
    };
    QP_INSTANCE.with(|cell| *cell.borrow_mut() = Some(instance));
    solved.then_some(y)
}
