//! The native half of the `regionwalk` Python package: thin wrappers around the core crate.
//!
//! Every question runs with the GIL released, on a helper thread, while the calling thread wakes
//! every [`POLL`] to deliver Ctrl-C (the walk's interrupt flag) and progress (a Python callback).
//! No panic crosses into Python: a panic becomes `InternalError`. Reports travel as JSON text
//! produced by the same functions as the CLI's `--json`, so both front ends say the same thing.

mod network;
mod questions;

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyOSError, PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// The same allocator as the CLI's (see `src/main.rs`), so that both run the walk equally fast.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

create_exception!(_native, RegionwalkError, PyException, "Base class of regionwalk's own errors.");
create_exception!(_native, SolverError, RegionwalkError, "The LP solver failed in a way that leaves a decision open.");
create_exception!(_native, InternalError, RegionwalkError, "A bug in regionwalk (a panic or a failed self-check).");
create_exception!(_native, TimeLimit, PyTimeoutError, "A computation's time budget ran out inside a solver call.");

/// How often the waiting thread looks for Ctrl-C and progress.
const POLL: Duration = Duration::from_millis(50);

/// A library error as the Python exception with the CLI's message: bad input is `ValueError`,
/// solver trouble `SolverError`, a failed self-check `InternalError`, a time budget spent inside a
/// solver `TimeLimit` (a `TimeoutError`), a file that cannot be written `OSError`.
pub(crate) fn py_err(e: regionwalk::Error) -> PyErr {
    match e {
        regionwalk::Error::Solver(_) => SolverError::new_err(e.to_string()),
        regionwalk::Error::Internal(_) => InternalError::new_err(e.to_string()),
        regionwalk::Error::TimeLimit => TimeLimit::new_err(e.to_string()),
        regionwalk::Error::Output { .. } => PyOSError::new_err(e.to_string()),
        regionwalk::Error::Cluster { .. } => RegionwalkError::new_err(e.to_string()),
        // Bad input: a model, point, domain, setting or checkpoint.
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// What a running question reports to the waiting thread: the latest progress numbers.
#[derive(Clone, Default)]
pub(crate) struct Snapshot(Arc<Mutex<Option<(u64, u64, u64)>>>);

impl Snapshot {
    pub(crate) fn set(&self, values: (u64, u64, u64)) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(values);
    }

    fn take(&self) -> Option<(u64, u64, u64)> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// Runs `work` without the GIL on a helper thread (inside a pool of `threads` workers when
/// given). Meanwhile the calling thread delivers Ctrl-C by raising `interrupt`, and passes the
/// latest [`Snapshot`] to `progress`. The work sees the interrupt flag and the snapshot; what it
/// returns when interrupted is its partial answer (the wrapper raises with it).
pub(crate) fn run_detached<R, F>(
    py: Python<'_>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
    work: F,
) -> PyResult<R>
where
    R: Send,
    F: FnOnce(Arc<AtomicBool>, Snapshot) -> regionwalk::Result<R> + Send,
{
    let pool = match threads {
        Some(0) => return Err(PyValueError::new_err("threads must be at least 1")),
        Some(n) => Some(
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| RegionwalkError::new_err(format!("cannot start {n} threads: {e}")))?,
        ),
        None => None,
    };
    let interrupt = Arc::new(AtomicBool::new(false));
    let snapshot = Snapshot::default();
    let (flag, snap) = (interrupt.clone(), snapshot.clone());
    let mut callback_error = None;
    let outcome = py.detach(|| {
        std::thread::scope(|scope| {
            let (tx, rx) = mpsc::channel();
            scope.spawn(move || {
                let run = || match &pool {
                    Some(pool) => pool.install(|| work(flag, snap)),
                    None => work(flag, snap),
                };
                // The receiver outlives this thread; a failed send cannot happen.
                let _ = tx.send(catch_unwind(AssertUnwindSafe(run)));
            });
            loop {
                match rx.recv_timeout(POLL) {
                    Ok(done) => return done,
                    Err(mpsc::RecvTimeoutError::Timeout) => Python::attach(|py| {
                        if py.check_signals().is_err() {
                            interrupt.store(true, Ordering::Relaxed);
                        }
                        if let (Some(cb), Some(values)) = (&progress, snapshot.take()) {
                            if let Err(e) = cb.call1(py, values) {
                                callback_error = Some(e);
                                interrupt.store(true, Ordering::Relaxed);
                            }
                        }
                    }),
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        return Err(
                            Box::new("the worker thread ended without an answer") as Box<dyn std::any::Any + Send>
                        )
                    }
                }
            }
        })
    });
    if let Some(e) = callback_error {
        return Err(e);
    }
    match outcome {
        Ok(result) => result.map_err(py_err),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(InternalError::new_err(format!("internal error: {message}; please report this")))
        }
    }
}

/// Panics on purpose inside [`run_detached`], so that the tests can check that no panic crosses
/// into Python.
#[pyfunction]
fn _panic_for_test(py: Python<'_>) -> PyResult<()> {
    run_detached(py, Some(1), None, |_, _| -> regionwalk::Result<()> { panic!("deliberate test panic") })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("RegionwalkError", py.get_type::<RegionwalkError>())?;
    m.add("SolverError", py.get_type::<SolverError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    m.add("TimeLimit", py.get_type::<TimeLimit>())?;
    m.add_class::<network::PyNetwork>()?;
    m.add_class::<questions::PyDomain>()?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    m.add_function(wrap_pyfunction!(network::load_points, m)?)?;
    m.add_function(wrap_pyfunction!(network::read_report, m)?)?;
    m.add_function(wrap_pyfunction!(network::audit_compare, m)?)?;
    m.add_class::<network::PyReportWriter>()?;
    questions::register(m)?;
    Ok(())
}
