//! The only code that talks to HiGHS (through its C API, `highs-sys`).
//!
//! Every LP of the library is a Chebyshev LP or a variant of it, held in one HiGHS instance per
//! thread and modified between solves: columns `y` and the slack `t`, and a row `h(y) − t ≥ 0` per
//! constraint. The domain's box is kept in the column bounds, not in rows (in 784-D an L-inf ball
//! would otherwise add 1,568 rows to a handful): the Chebyshev LP runs over the box shrunk by
//! [`DECIDE`] and maximises the rows' slack only, which decides "slack above `DECIDE` to every
//! row and to the box" exactly as the LP with box rows would ([`RegionLp::chebyshev`]; the proof is
//! in docs/exact.md, "The box in the column bounds"). The LP with box rows is kept for the one case
//! that proof leaves to it ([`RegionLp::chebyshev_with_box_rows`]).
//!
//! A region's bounding-box LPs and facet tests share every constraint and differ only in the
//! objective, one row's bounds and one coefficient; building a fresh model per LP costs far
//! more than solving it (HiGHS allocates its whole workspace and reads its options each time), so a
//! region is loaded once ([`RegionLp::load`]) and each later solve starts from the previous optimal
//! basis (a hot start). The distance QP ([`nearest_point`]) has an instance of its own.
//!
//! Safety argument for the `unsafe` blocks: an [`Instance`] owns a pointer returned by
//! `Highs_create`, never null while in use, destroyed exactly once in `Drop`, and used by one
//! thread at a time (instances live in thread-locals and are moved, never shared). Every array
//! passed to HiGHS has the length HiGHS reads for the counts passed with it; row and column indices
//! are those of the loaded model (checked by the callers' construction, `debug_assert`ed here);
//! solutions are read only after checking that the model has exactly the columns of the buffer.
//! Every return code is checked: a `kHighsStatusError` becomes [`Error::Solver`].

use super::LpCounters;
use crate::domain::{Domain, Halfspace};
use crate::tolerance::{DECIDE, SOLVER_FEASIBILITY, WHOLE_SPACE_SLACK_CAP};
use crate::{Error, Result};
use highs_sys::*;
use std::cell::RefCell;
use std::ffi::{c_void, CString};
use std::ptr::null_mut;
use std::time::Instant;

/// An owned HiGHS instance with the library's options set once.
struct Instance(*mut c_void);

/// Turns a HiGHS return code into a result (warnings are fine: HiGHS reports, e.g., a hot start
/// that it had to abandon as a warning and then solves from scratch).
fn check(status: HighsInt, call: &str) -> Result<()> {
    if status == kHighsStatusError {
        Err(Error::Solver(format!("HiGHS {call} failed")))
    } else {
        Ok(())
    }
}

impl Instance {
    /// A quiet single-threaded instance without presolve; `simplex` forces the simplex solver (LPs;
    /// QPs use HiGHS's QP solver).
    fn new(simplex: bool) -> Result<Self> {
        // SAFETY: Highs_create returns a fresh instance owned by the value built here (freed in
        // Drop even if an option fails); option names and values are NUL-terminated strings.
        unsafe {
            let instance = Instance(Highs_create());
            if instance.0.is_null() {
                return Err(Error::Solver("HiGHS could not create an instance".into()));
            }
            let h = instance.0;
            let name = |s: &str| CString::new(s).expect("option names have no NUL");
            check(Highs_setBoolOptionValue(h, name("output_flag").as_ptr(), 0), "output_flag")?;
            check(Highs_setIntOptionValue(h, name("threads").as_ptr(), 1), "threads")?;
            check(Highs_setStringOptionValue(h, name("presolve").as_ptr(), name("off").as_ptr()), "presolve")?;
            if simplex {
                check(Highs_setStringOptionValue(h, name("solver").as_ptr(), name("simplex").as_ptr()), "solver")?;
            }
            for option in ["primal_feasibility_tolerance", "dual_feasibility_tolerance"] {
                check(Highs_setDoubleOptionValue(h, name(option).as_ptr(), SOLVER_FEASIBILITY), option)?;
            }
            Ok(instance)
        }
    }

    /// Takes this thread's instance from `cell`, or creates one.
    fn take(cell: &'static std::thread::LocalKey<RefCell<Option<Instance>>>, simplex: bool) -> Result<Self> {
        match cell.with(|c| c.borrow_mut().take()) {
            Some(instance) => Ok(instance),
            None => Instance::new(simplex),
        }
    }

    /// HiGHS's wall-time limit for the next solves, in seconds (infinite: none).
    fn set_time_limit(&self, seconds: f64) -> Result<()> {
        let name = CString::new("time_limit").expect("no NUL");
        // SAFETY: a live instance; the option name is a NUL-terminated string.
        check(unsafe { Highs_setDoubleOptionValue(self.0, name.as_ptr(), seconds) }, "time_limit")
    }

    /// Runs the solver and reads the model status: optimal, infeasible, or anything else.
    fn run(&self) -> Result<HighsInt> {
        // SAFETY: a live instance (see the module's safety argument).
        unsafe {
            check(Highs_run(self.0), "run")?;
            Ok(Highs_getModelStatus(self.0))
        }
    }

    /// The primal column values of the last solve; the model must have `columns` columns.
    fn columns(&self, columns: usize) -> Result<Vec<f64>> {
        let mut cols = vec![0.0; columns];
        // SAFETY: HiGHS writes one value per model column into the first array, and the model has
        // exactly `cols.len()` columns (checked first); null pointers skip the other arrays.
        unsafe {
            if Highs_getNumCol(self.0) as usize != columns {
                return Err(Error::Solver("HiGHS model has an unexpected number of columns".into()));
            }
            check(Highs_getSolution(self.0, cols.as_mut_ptr(), null_mut(), null_mut(), null_mut()), "getSolution")?;
        }
        Ok(cols)
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
    static LP_INSTANCE: RefCell<Option<Instance>> = const { RefCell::new(None) };
    static QP_INSTANCE: RefCell<Option<Instance>> = const { RefCell::new(None) };
}

/// A row-wise sparse matrix with row bounds, as HiGHS takes it.
#[derive(Default)]
struct Rows {
    start: Vec<HighsInt>,
    index: Vec<HighsInt>,
    value: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
}

impl Rows {
    fn push(&mut self, entries: impl IntoIterator<Item = (usize, f64)>, lower: f64, upper: f64) {
        self.start.push(self.index.len() as HighsInt);
        for (i, v) in entries {
            self.index.push(i as HighsInt);
            self.value.push(v);
        }
        self.lower.push(lower);
        self.upper.push(upper);
    }
}

/// One polyhedron's Chebyshev LP, loaded into this thread's HiGHS instance.
pub struct RegionLp {
    instance: Instance,
    /// Number of input coordinates (the slack `t` is column `dim`).
    dim: usize,
    /// Offsets of the constraint rows (each row's lower bound is −offset), to restore the rows
    /// after a facet test.
    offsets: Vec<f64>,
    /// The domain's box (frame coordinates), the bounds of `y` in [`RegionLp::minimise`].
    closed: Bounds,
    /// The box shrunk by [`DECIDE`], the bounds of `y` in [`RegionLp::chebyshev`]; `None` when
    /// some coordinate is no wider than `2·DECIDE` (no point has slack above `DECIDE` to it).
    shrunk: Option<Bounds>,
    /// The column bounds of `y` now loaded.
    loaded: Loaded,
    /// Whether a solve has happened since loading (later ones are warm).
    solved: bool,
    /// Solves stop here ([`RegionLp::stop_at`]); the instance's time limit is reset on drop.
    deadline: Option<Instant>,
}

/// Lower and upper bounds per coordinate.
struct Bounds {
    lower: Vec<f64>,
    upper: Vec<f64>,
}

/// Which bounds the columns `y` carry.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Loaded {
    Closed,
    Shrunk,
    Free,
}

impl RegionLp {
    /// Loads `constraints` (in this order, rows `0..len`) and the domain's box (as column bounds)
    /// into this thread's instance. Dropping the value returns the instance to the thread.
    pub fn load(domain: &Domain, constraints: &[&Halfspace]) -> Result<Self> {
        let instance = Instance::take(&LP_INSTANCE, true)?;
        let dim = domain.dim();
        let mut rows = Rows::default();
        for h in constraints {
            rows.push(h.normal.iter().copied().enumerate().chain([(dim, -1.0)]), -h.offset, f64::INFINITY);
        }
        let closed = Bounds { lower: domain.lower().to_vec(), upper: domain.upper().to_vec() };
        let shrunk = Bounds {
            lower: closed.lower.iter().map(|l| l + DECIDE).collect(),
            upper: closed.upper.iter().map(|u| u - DECIDE).collect(),
        };
        let shrunk = shrunk.lower.iter().zip(&shrunk.upper).all(|(l, u)| l <= u).then_some(shrunk);
        let loaded = if shrunk.is_some() { Loaded::Shrunk } else { Loaded::Closed };
        let y = shrunk.as_ref().unwrap_or(&closed);
        let cost = vec![0.0; dim + 1];
        let col_lower: Vec<f64> = y.lower.iter().copied().chain([-1.0]).collect();
        let col_upper: Vec<f64> = y.upper.iter().copied().chain([WHOLE_SPACE_SLACK_CAP]).collect();
        // SAFETY: every array has the length HiGHS reads for the given counts (row-wise matrix:
        // `start` per row, `index`/`value` per nonzero; costs and column bounds per column).
        unsafe {
            check(
                Highs_passLp(
                    instance.0,
                    (dim + 1) as HighsInt,
                    rows.lower.len() as HighsInt,
                    rows.index.len() as HighsInt,
                    kHighsMatrixFormatRowwise,
                    kHighsObjSenseMaximize,
                    0.0,
                    cost.as_ptr(),
                    col_lower.as_ptr(),
                    col_upper.as_ptr(),
                    rows.lower.as_ptr(),
                    rows.upper.as_ptr(),
                    rows.start.as_ptr(),
                    rows.index.as_ptr(),
                    rows.value.as_ptr(),
                ),
                "passLp",
            )?;
        }
        Ok(RegionLp {
            instance,
            dim,
            offsets: constraints.iter().map(|h| h.offset).collect(),
            closed,
            shrunk,
            loaded,
            solved: false,
            deadline: None,
        })
    }

    /// Solves after `deadline` fail with [`Error::TimeLimit`] (HiGHS stops at it mid-solve), for
    /// computations with a time budget.
    pub fn stop_at(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// Adds the row of constraint `h` (row `len` for a model loaded with `len` constraints, and so
    /// on): Kelley's cuts (theory §6.3). It stays until the model is reloaded.
    pub fn add_constraint(&mut self, h: &Halfspace) -> Result<()> {
        debug_assert_eq!(h.normal.len(), self.dim);
        let index: Vec<HighsInt> = (0..=self.dim as HighsInt).collect();
        let value: Vec<f64> = h.normal.iter().copied().chain([-1.0]).collect();
        // SAFETY: `index` and `value` have `dim + 1` entries, the model's columns.
        check(
            unsafe {
                Highs_addRow(
                    self.instance.0,
                    -h.offset,
                    f64::INFINITY,
                    value.len() as HighsInt,
                    index.as_ptr(),
                    value.as_ptr(),
                )
            },
            "addRow",
        )?;
        self.offsets.push(h.offset);
        Ok(())
    }

    /// `max t` with the rows in `relaxed` dropped and, if given, row `on` held at equality without
    /// slack, over the box shrunk by [`DECIDE`]: `t` is the least slack of the rows (and cuts)
    /// alone. `None` if infeasible, or if the shrunk box is empty. Its optimum exceeds `DECIDE`
    /// exactly when the Chebyshev LP with box rows does, provided the shrunk box has an interior
    /// point on the hyperplane of `on` ([`super::chebyshev`] checks a point and otherwise asks
    /// [`RegionLp::chebyshev_with_box_rows`]). At most `DECIDE`, it is positive only if that LP's
    /// is positive too.
    pub fn chebyshev(
        &mut self,
        relaxed: &[usize],
        on: Option<usize>,
        counters: &mut LpCounters,
    ) -> Result<Option<(Vec<f64>, f64)>> {
        if self.shrunk.is_none() {
            return Ok(None);
        }
        let solution = self.solve_on(relaxed, on, None, Loaded::Shrunk, counters)?;
        Ok(solution.map(split_slack))
    }

    /// The Chebyshev LP with the box as rows, `y_i − t ≥ lower_i` and `y_i + t ≤ upper_i`: `t`
    /// is the least slack to the rows and to the box. The rows are added for this solve and
    /// removed after it.
    pub fn chebyshev_with_box_rows(
        &mut self,
        relaxed: &[usize],
        on: Option<usize>,
        counters: &mut LpCounters,
    ) -> Result<Option<(Vec<f64>, f64)>> {
        let h = self.instance.0;
        let t = self.dim;
        let mut rows = Rows::default();
        for i in 0..self.dim {
            if self.closed.lower[i].is_finite() {
                rows.push([(i, 1.0), (t, -1.0)], self.closed.lower[i], f64::INFINITY);
            }
            if self.closed.upper[i].is_finite() {
                rows.push([(i, 1.0), (t, 1.0)], f64::NEG_INFINITY, self.closed.upper[i]);
            }
        }
        // SAFETY: a live instance; the row arrays have the lengths passed with them (row-wise:
        // `start` per new row, `index`/`value` per nonzero, columns of the loaded model).
        let first = unsafe {
            let first = Highs_getNumRow(h);
            check(
                Highs_addRows(
                    h,
                    rows.lower.len() as HighsInt,
                    rows.lower.as_ptr(),
                    rows.upper.as_ptr(),
                    rows.index.len() as HighsInt,
                    rows.start.as_ptr(),
                    rows.index.as_ptr(),
                    rows.value.as_ptr(),
                ),
                "addRows",
            )?;
            first
        };
        let solution = self.solve_on(relaxed, on, None, Loaded::Free, counters);
        if !rows.lower.is_empty() {
            // SAFETY: rows `first..first + len` are the rows added above.
            check(
                unsafe { Highs_deleteRowsByRange(h, first, first + rows.lower.len() as HighsInt - 1) },
                "deleteRowsByRange",
            )?;
        }
        Ok(solution?.map(split_slack))
    }

    /// `min objective·y` over the closure of the region ∩ the domain's box; `None` if that set is
    /// empty. The value is a primal optimum: callers widen it by the solver tolerance.
    pub fn minimise(&mut self, objective: &[f64], counters: &mut LpCounters) -> Result<Option<f64>> {
        let solution = self.solve_on(&[], None, Some(objective), Loaded::Closed, counters)?;
        Ok(solution.map(|cols| cols.iter().zip(objective).map(|(y, c)| y * c).sum()))
    }

    /// One solve with the rows in `relaxed` dropped, row `on` at equality (restored after) and the
    /// columns `y` bounded by `bounds`: `max t` without an objective, `min objective·y` with the
    /// slack fixed at 0 otherwise. The optimal columns (`y`, then `t`), `None` if infeasible.
    fn solve_on(
        &mut self,
        relaxed: &[usize],
        on: Option<usize>,
        objective: Option<&[f64]>,
        bounds: Loaded,
        counters: &mut LpCounters,
    ) -> Result<Option<Vec<f64>>> {
        let h = self.instance.0;
        let t = self.dim as HighsInt;
        debug_assert!(relaxed.iter().chain(&on).all(|&r| r < self.offsets.len()));
        self.bound_columns(bounds)?;
        // SAFETY: rows `relaxed` and `on` are constraint rows of the loaded model, columns 0..=dim
        // exist (module safety argument).
        unsafe {
            match objective {
                None => {
                    check(Highs_changeColBounds(h, t, -1.0, WHOLE_SPACE_SLACK_CAP), "changeColBounds")?;
                    self.set_costs(None, 1.0, kHighsObjSenseMaximize)?;
                }
                Some(c) => {
                    check(Highs_changeColBounds(h, t, 0.0, 0.0), "changeColBounds")?;
                    self.set_costs(Some(c), 0.0, kHighsObjSenseMinimize)?;
                }
            }
            for &r in relaxed {
                check(Highs_changeRowBounds(h, r as HighsInt, f64::NEG_INFINITY, f64::INFINITY), "changeRowBounds")?;
            }
            if let Some(r) = on {
                check(Highs_changeRowBounds(h, r as HighsInt, -self.offsets[r], -self.offsets[r]), "changeRowBounds")?;
                check(Highs_changeCoeff(h, r as HighsInt, t, 0.0), "changeCoeff")?;
            }
        }
        let solution = self.run(counters).and_then(|optimal| match optimal {
            true => self.instance.columns(self.dim + 1).map(Some),
            false => Ok(None),
        });
        // SAFETY: as above; restores the loaded rows.
        unsafe {
            for &r in relaxed.iter().chain(&on) {
                check(Highs_changeRowBounds(h, r as HighsInt, -self.offsets[r], f64::INFINITY), "changeRowBounds")?;
            }
            if let Some(r) = on {
                check(Highs_changeCoeff(h, r as HighsInt, t, -1.0), "changeCoeff")?;
            }
        }
        solution
    }

    /// Gives the columns `y` the bounds `which`, unless they carry them already.
    fn bound_columns(&mut self, which: Loaded) -> Result<()> {
        if self.loaded == which || self.dim == 0 {
            return Ok(());
        }
        let free;
        let (lower, upper) = match which {
            Loaded::Closed => (&self.closed.lower, &self.closed.upper),
            Loaded::Shrunk => {
                let shrunk = self.shrunk.as_ref().expect("callers check that the shrunk box is non-empty");
                (&shrunk.lower, &shrunk.upper)
            }
            Loaded::Free => {
                free = (vec![f64::NEG_INFINITY; self.dim], vec![f64::INFINITY; self.dim]);
                (&free.0, &free.1)
            }
        };
        // SAFETY: columns 0..dim exist; both arrays have `dim` entries.
        check(
            unsafe {
                Highs_changeColsBoundsByRange(
                    self.instance.0,
                    0,
                    self.dim as HighsInt - 1,
                    lower.as_ptr(),
                    upper.as_ptr(),
                )
            },
            "changeColsBoundsByRange",
        )?;
        self.loaded = which;
        Ok(())
    }

    fn set_costs(&mut self, objective: Option<&[f64]>, slack_cost: f64, sense: HighsInt) -> Result<()> {
        let h = self.instance.0;
        // SAFETY: columns 0..=dim exist.
        unsafe {
            check(Highs_changeObjectiveSense(h, sense), "changeObjectiveSense")?;
            for i in 0..self.dim {
                check(Highs_changeColCost(h, i as HighsInt, objective.map_or(0.0, |o| o[i])), "changeColCost")?;
            }
            check(Highs_changeColCost(h, self.dim as HighsInt, slack_cost), "changeColCost")
        }
    }

    /// Solves the current model: `true` if optimal, `false` if infeasible. A hot start
    /// occasionally ends without a verdict (HiGHS's "unknown" after numerical trouble in the
    /// updated factorisation); the model is then solved again from scratch, once.
    fn run(&mut self, counters: &mut LpCounters) -> Result<bool> {
        let mut last = 0;
        for attempt in 0..2 {
            counters.lp_solves += 1;
            counters.warm_solves += u64::from(self.solved && attempt == 0);
            self.solved = true;
            if attempt > 0 {
                // SAFETY: a live instance; clearing the solver keeps the model, drops the basis.
                check(unsafe { Highs_clearSolver(self.instance.0) }, "clearSolver")?;
            }
            if let Some(deadline) = self.deadline {
                let left = deadline.saturating_duration_since(Instant::now()).as_secs_f64();
                if left == 0.0 {
                    return Err(Error::TimeLimit);
                }
                self.instance.set_time_limit(left)?;
            }
            match self.instance.run() {
                Ok(m) if m == kHighsModelStatusOptimal => return Ok(true),
                Ok(m) if m == kHighsModelStatusInfeasible => return Ok(false),
                Ok(m) if m == kHighsModelStatusTimeLimit => return Err(Error::TimeLimit),
                Ok(other) => last = other,
                // A failed hot start is retried from scratch like an undecided one.
                Err(_) if attempt == 0 => {}
                Err(e) => return Err(e),
            }
        }
        Err(Error::Solver(format!("HiGHS LP ended with model status {last}")))
    }
}

/// Splits the optimal columns into `y` and the slack `t`.
fn split_slack(mut columns: Vec<f64>) -> (Vec<f64>, f64) {
    let t = columns.pop().expect("the slack column");
    (columns, t)
}

impl Drop for RegionLp {
    fn drop(&mut self) {
        if self.deadline.is_some() && self.instance.set_time_limit(f64::INFINITY).is_err() {
            return; // an instance whose limit cannot be reset is dropped, not reused
        }
        let instance = std::mem::replace(&mut self.instance, Instance(null_mut()));
        LP_INSTANCE.with(|cell| *cell.borrow_mut() = Some(instance));
    }
}

/// `min objective·y` over the closure of the polyhedron intersected with the domain's box (frame
/// coordinates); `None` if that set is empty.
pub fn minimise(
    domain: &Domain,
    inequalities: &[&Halfspace],
    objective: &[f64],
    counters: &mut LpCounters,
) -> Result<Option<f64>> {
    RegionLp::load(domain, inequalities)?.minimise(objective, counters)
}

/// The point of the closure of `{h ≥ 0 for h in inequalities} ∩ {equality = 0}` ∩ the domain's box
/// nearest the frame origin (`min ‖y‖²`), by HiGHS's QP solver in this thread's QP instance (the
/// model is replaced each time; creating an instance costs more than solving these QPs). `Ok(None)`
/// when the QP solver gives up (it occasionally reports an error on degenerate polyhedra).
pub fn nearest_point(
    domain: &Domain,
    inequalities: &[&Halfspace],
    equality: Option<&Halfspace>,
) -> Result<Option<Vec<f64>>> {
    let instance = Instance::take(&QP_INSTANCE, false)?;
    let n = domain.dim();
    let mut rows = Rows::default();
    for h in inequalities {
        rows.push(h.normal.iter().copied().enumerate(), -h.offset, f64::INFINITY);
    }
    if let Some(h) = equality {
        rows.push(h.normal.iter().copied().enumerate(), -h.offset, -h.offset);
    }
    let cost = vec![0.0; n];
    let q_start: Vec<HighsInt> = (0..n as HighsInt).collect();
    let q_value = vec![2.0; n];
    // SAFETY: every array has the length HiGHS reads for the given counts (row-wise constraint
    // matrix; triangular Hessian with one diagonal entry per column).
    let passed = unsafe {
        Highs_passModel(
            instance.0,
            n as HighsInt,
            rows.lower.len() as HighsInt,
            rows.index.len() as HighsInt,
            n as HighsInt,
            kHighsMatrixFormatRowwise,
            kHighsHessianFormatTriangular,
            kHighsObjSenseMinimize,
            0.0,
            cost.as_ptr(),
            domain.lower().as_ptr(),
            domain.upper().as_ptr(),
            rows.lower.as_ptr(),
            rows.upper.as_ptr(),
            rows.start.as_ptr(),
            rows.index.as_ptr(),
            rows.value.as_ptr(),
            q_start.as_ptr(),
            q_start.as_ptr(),
            q_value.as_ptr(),
            std::ptr::null(),
        )
    };
    let result = check(passed, "passModel").and_then(|_| match instance.run() {
        Ok(m) if m == kHighsModelStatusOptimal => instance.columns(n).map(Some),
        // The QP solver's errors and undecided ends are reported as "no answer": the caller falls
        // back to cutting planes.
        _ => Ok(None),
    });
    QP_INSTANCE.with(|cell| *cell.borrow_mut() = Some(instance));
    result
}
