//! The questions: count, bound, validate, audit, graph and plot, each on a [`Problem`] built the
//! way the CLI builds it.

use crate::network::{bool_matrix, rows, PyNetwork};
use crate::{py_err, run_detached, InternalError, Snapshot};
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use regionwalk::audit::{audit as run_audit, AuditOptions};
use regionwalk::bound::{bounds, BoundOptions, Method};
use regionwalk::domain::Norm;
use regionwalk::estimate::{EstimateColumns, EstimateOptions};
use regionwalk::exact::{Checkpoint, Engine, Identity, Progress, ProgressFn, WalkOptions, WalkResult};
use regionwalk::plot::slice::{slice, Plane};
use regionwalk::problem::Problem;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Which domain, before it meets a network (fixed box coordinates need the network).
#[derive(Clone, Debug)]
enum Spec {
    Ball { center: Vec<f64>, radius: f64, norm: Norm },
    Box { lower: Vec<f64>, upper: Vec<f64> },
    InputBox,
    Whole,
}

/// A domain description: a ball, a box, the model's input box or the whole input space,
/// optionally clipped to the model's input box.
#[pyclass(frozen, name = "Domain", module = "regionwalk._native")]
#[derive(Clone, Debug)]
pub struct PyDomain {
    spec: Spec,
    clip: bool,
}

fn norm_of(name: &str) -> PyResult<Norm> {
    name.parse().map_err(py_err)
}

#[pymethods]
impl PyDomain {
    /// The open ball of `radius` around `center` in the norm `"l2"` or `"linf"`.
    #[staticmethod]
    #[pyo3(signature = (center, radius, norm = "l2", clip = false))]
    fn ball(center: PyReadonlyArray1<'_, f64>, radius: f64, norm: &str, clip: bool) -> PyResult<Self> {
        Ok(PyDomain { spec: Spec::Ball { center: center.as_array().to_vec(), radius, norm: norm_of(norm)? }, clip })
    }

    /// The open box `lower < x < upper`; coordinates with `lower == upper` are fixed (a slice).
    #[staticmethod]
    fn boxed(lower: PyReadonlyArray1<'_, f64>, upper: PyReadonlyArray1<'_, f64>) -> Self {
        PyDomain { spec: Spec::Box { lower: lower.as_array().to_vec(), upper: upper.as_array().to_vec() }, clip: false }
    }

    /// The model's own input box.
    #[staticmethod]
    fn input_box() -> Self {
        PyDomain { spec: Spec::InputBox, clip: false }
    }

    /// The whole input space.
    #[staticmethod]
    fn whole() -> Self {
        PyDomain { spec: Spec::Whole, clip: false }
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self)
    }
}

impl PyDomain {
    /// The problem on `net`, its reports naming the network's units.
    fn problem(&self, net: &PyNetwork) -> regionwalk::Result<Problem> {
        let units = net.units;
        let net = (*net.net).clone();
        let problem = match &self.spec {
            Spec::Ball { center, radius, norm } => Problem::ball(net, center, *radius, *norm)?,
            Spec::Box { lower, upper } => Problem::boxed(net, lower, upper)?,
            Spec::InputBox => Problem::input_box(net)?,
            Spec::Whole => Problem::whole(net),
        };
        let problem = problem.with_units(units);
        if self.clip {
            problem.clipped_to_input_box()
        } else {
            Ok(problem)
        }
    }
}

/// Budgets of a walk, as the Python keyword arguments give them.
#[derive(Clone, Debug, Default)]
struct Budget {
    max_regions: Option<usize>,
    time_limit: Option<Duration>,
    checkpoint: Option<PathBuf>,
    resume: Option<PathBuf>,
    engine: Engine,
    /// Keep the region list (patterns, witnesses, the exact re-check); otherwise count only.
    keep: bool,
    identity: Identity,
}

impl Budget {
    fn from_kwargs(
        max_regions: Option<usize>,
        time_limit: Option<f64>,
        checkpoint: Option<PathBuf>,
        resume: Option<PathBuf>,
    ) -> PyResult<Self> {
        let keyword = |name: &str, e: regionwalk::Error| PyValueError::new_err(format!("{name}: {e}"));
        let max_regions =
            max_regions.map(WalkOptions::region_budget).transpose().map_err(|e| keyword("max_regions", e))?;
        let time_limit =
            time_limit.map(WalkOptions::time_limit_from_seconds).transpose().map_err(|e| keyword("time_limit", e))?;
        Ok(Budget {
            max_regions,
            time_limit,
            checkpoint,
            resume,
            engine: Engine::Auto,
            keep: false,
            identity: Identity::Auto,
        })
    }

    /// The exact method named by the `engine` keyword.
    fn with_engine(self, engine: &str) -> PyResult<Self> {
        Ok(Budget { engine: engine.parse().map_err(py_err)?, ..self })
    }

    /// What the count keeps: the region list when `keep`, and the visited set's `identity`
    /// (`certify` re-checks exact patterns, so it keeps the list and exact patterns).
    fn keeping(self, keep: bool, visited: &str, certify: bool) -> PyResult<Self> {
        let identity: Identity = visited.parse().map_err(py_err)?;
        if certify && identity == Identity::Fingerprints {
            return Err(PyValueError::new_err(
                "certify re-checks exact patterns: it cannot be used with visited=\"fingerprints\"",
            ));
        }
        let identity = if certify { Identity::Patterns } else { identity };
        Ok(Budget { keep: keep || certify, identity, ..self })
    }

    /// Walk options reporting progress into `snapshot` and stopping on `interrupt`.
    fn options(&self, interrupt: Arc<AtomicBool>, snapshot: Snapshot, edges: bool) -> WalkOptions {
        WalkOptions {
            max_regions: self.max_regions,
            time_limit: self.time_limit,
            progress: Some(ProgressFn(Arc::new(move |p: Progress| {
                snapshot.set((p.regions as u64, p.frontier as u64, p.lp_solves))
            }))),
            edges,
            interrupt: Some(interrupt),
            checkpoint: self.checkpoint.clone(),
            engine: self.engine,
            count_only: !self.keep,
            identity: self.identity,
            ..Default::default()
        }
    }

    fn walk(
        &self,
        problem: &Problem,
        interrupt: Arc<AtomicBool>,
        snapshot: Snapshot,
        edges: bool,
    ) -> regionwalk::Result<WalkResult> {
        let checkpoint = self.resume.as_deref().map(Checkpoint::load).transpose()?;
        problem.walk(&self.options(interrupt, snapshot, edges), checkpoint)
    }
}

fn methods_of(names: Option<Vec<String>>) -> PyResult<Vec<Method>> {
    let Some(names) = names else { return Ok(Method::ALL.to_vec()) };
    names.iter().map(|n| n.parse().map_err(py_err)).collect()
}

/// Bound options from the keyword arguments; `budget` is seconds for the whole computation
/// (None: no limit).
fn bound_options(
    methods: Option<Vec<String>>,
    samples: usize,
    hybrid_layers: usize,
    hybrid_max_regions: usize,
    budget: Option<f64>,
) -> PyResult<BoundOptions> {
    let budget = match budget {
        Some(seconds) => BoundOptions::budget_from_seconds(seconds).map_err(py_err)?,
        None => None,
    };
    Ok(BoundOptions { methods: methods_of(methods)?, samples, hybrid_layers, hybrid_max_regions, budget })
}

fn json_text(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).expect("reports serialise")
}

/// What `count` hands back: the CLI's JSON report, and on request the patterns (regions ×
/// neurons) and the witnesses (regions × inputs, NaN where a region of a partial walk has none).
type Counted<'py> = (String, Option<Bound<'py, PyArray2<bool>>>, Option<Bound<'py, PyArray2<f64>>>);

#[pyfunction]
#[pyo3(signature = (net, domain, *, max_regions = None, time_limit = None, threads = None, certify = false,
                    linear = false, patterns = false, witnesses = false, progress = None, checkpoint = None, resume = None,
                    engine = "auto", visited = "auto"))]
#[allow(clippy::too_many_arguments)]
fn count<'py>(
    py: Python<'py>,
    net: &PyNetwork,
    domain: &PyDomain,
    max_regions: Option<usize>,
    time_limit: Option<f64>,
    threads: Option<usize>,
    certify: bool,
    linear: bool,
    patterns: bool,
    witnesses: bool,
    progress: Option<Py<PyAny>>,
    checkpoint: Option<PathBuf>,
    resume: Option<PathBuf>,
    engine: &str,
    visited: &str,
) -> PyResult<Counted<'py>> {
    let budget = Budget::from_kwargs(max_regions, time_limit, checkpoint, resume)?.with_engine(engine)?.keeping(
        patterns || witnesses,
        visited,
        certify,
    )?;
    let net = net.clone();
    let (problem, result, report) = run_detached(py, threads, progress, move |interrupt, snapshot| {
        let problem = domain.problem(&net)?;
        let result = budget.walk(&problem, interrupt, snapshot, linear)?;
        let mut report = problem.count_report(&result);
        if linear {
            report.linear_regions = Some(problem.linear_regions(&result));
        }
        if certify {
            report = Problem::certified(report, &problem.certify(&result));
        }
        Ok((problem, result, report))
    })?;
    let n = result.count();
    let pattern_array = patterns
        .then(|| {
            // The model's own ReLUs (a graph's carrying units left out).
            let units = problem.net.graph_units();
            let neurons: usize = units.widths().iter().sum();
            let data = result
                .regions
                .iter()
                .flat_map(|r| {
                    let own = units.pattern(&r.pattern);
                    (0..neurons).map(move |k| own.get(k))
                })
                .collect();
            bool_matrix(py, n, neurons, data)
        })
        .transpose()?;
    let witness_array = witnesses
        .then(|| {
            let n0 = problem.domain.dim() + problem.fixed.len();
            let data: Vec<f64> =
                result.regions.iter().flat_map(|r| r.witness.clone().unwrap_or_else(|| vec![f64::NAN; n0])).collect();
            ndarray::Array2::from_shape_vec((n, n0), data)
                .map(|a| a.into_pyarray(py))
                .map_err(|e| InternalError::new_err(e.to_string()))
        })
        .transpose()?;
    Ok((json_text(&report), pattern_array, witness_array))
}

#[pyfunction]
#[pyo3(signature = (net, domain, *, methods = None, samples = BoundOptions::DEFAULT_SAMPLES, hybrid_layers = BoundOptions::DEFAULT_HYBRID_LAYERS,
                    hybrid_max_regions = BoundOptions::DEFAULT_HYBRID_MAX_REGIONS, budget = Some(BoundOptions::DEFAULT_BUDGET_SECONDS), threads = None,
                    estimate = true, probes = EstimateOptions::DEFAULT_PROBES, strata = EstimateOptions::DEFAULT_STRATA, confidence = EstimateOptions::DEFAULT_CONFIDENCE, seed = 0))]
#[allow(clippy::too_many_arguments)]
fn bound(
    py: Python<'_>,
    net: &PyNetwork,
    domain: &PyDomain,
    methods: Option<Vec<String>>,
    samples: usize,
    hybrid_layers: usize,
    hybrid_max_regions: usize,
    budget: Option<f64>,
    threads: Option<usize>,
    estimate: bool,
    probes: usize,
    strata: usize,
    confidence: f64,
    seed: u64,
) -> PyResult<String> {
    let options = bound_options(methods, samples, hybrid_layers, hybrid_max_regions, budget)?;
    let estimate_options = estimate
        .then(|| estimate_options(probes, strata, EstimateOptions::DEFAULT_WIDTH, confidence, seed, options.budget))
        .transpose()?;
    let net = net.clone();
    run_detached(py, threads, None, move |interrupt, _| {
        let problem = domain.problem(&net)?;
        let started = std::time::Instant::now();
        let report = bounds(&problem.net, &problem.domain, &options)?;
        let columns = match estimate_options {
            Some(e) => {
                let e = EstimateOptions { interrupt: Some(interrupt), ..e };
                problem.estimate_if_open(report.lower, &report, &e, started)?
            }
            None => EstimateColumns::default(),
        };
        Ok(json_text(&problem.bound_report(&report, columns)))
    })
}

/// The estimate's options from Python's keywords, checked before any work.
fn estimate_options(
    probes: usize,
    strata: usize,
    width: usize,
    confidence: f64,
    seed: u64,
    time_limit: Option<Duration>,
) -> PyResult<EstimateOptions> {
    let options = EstimateOptions { probes, strata, width, seed, confidence, time_limit, interrupt: None };
    options.check().map_err(py_err)?;
    Ok(options)
}

#[pyfunction]
#[pyo3(signature = (net, domain, *, methods = None, samples = BoundOptions::DEFAULT_SAMPLES, hybrid_layers = BoundOptions::DEFAULT_HYBRID_LAYERS,
                    hybrid_max_regions = BoundOptions::DEFAULT_HYBRID_MAX_REGIONS, budget = Some(BoundOptions::DEFAULT_BUDGET_SECONDS), max_regions = None, time_limit = None, threads = None, linear = false, progress = None,
                    estimate = true, probes = EstimateOptions::DEFAULT_PROBES, strata = EstimateOptions::DEFAULT_STRATA, confidence = EstimateOptions::DEFAULT_CONFIDENCE, seed = 0))]
#[allow(clippy::too_many_arguments)]
fn validate(
    py: Python<'_>,
    net: &PyNetwork,
    domain: &PyDomain,
    methods: Option<Vec<String>>,
    samples: usize,
    hybrid_layers: usize,
    hybrid_max_regions: usize,
    budget: Option<f64>,
    max_regions: Option<usize>,
    time_limit: Option<f64>,
    threads: Option<usize>,
    linear: bool,
    progress: Option<Py<PyAny>>,
    estimate: bool,
    probes: usize,
    strata: usize,
    confidence: f64,
    seed: u64,
) -> PyResult<String> {
    let options = bound_options(methods, samples, hybrid_layers, hybrid_max_regions, budget)?.without_walk();
    let estimate_options = estimate
        .then(|| estimate_options(probes, strata, EstimateOptions::DEFAULT_WIDTH, confidence, seed, options.budget))
        .transpose()?;
    let budget = Budget::from_kwargs(max_regions, time_limit, None, None)?;
    let net = net.clone();
    run_detached(py, threads, progress, move |interrupt, snapshot| {
        let problem = domain.problem(&net)?;
        let walk = budget.walk(&problem, interrupt.clone(), snapshot, linear)?;
        let started = std::time::Instant::now();
        let report = bounds(&problem.net, &problem.domain, &options)?;
        let columns = match estimate_options {
            Some(e) if !walk.complete() => {
                let e = EstimateOptions { interrupt: Some(interrupt), ..e };
                problem.estimate_if_open(walk.count(), &report, &e, started)?
            }
            _ => EstimateColumns::default(),
        };
        let (mut v, sound) = problem.validate_report(&walk, &report, columns);
        if linear {
            v.count.linear_regions = Some(problem.linear_regions(&walk));
        }
        sound?;
        Ok(json_text(&v))
    })
}

/// The statistical estimate beside the certified bracket: the CLI's `estimate --json`.
#[pyfunction]
#[pyo3(signature = (net, domain, *, probes = EstimateOptions::DEFAULT_PROBES, strata = EstimateOptions::DEFAULT_STRATA, confidence = EstimateOptions::DEFAULT_CONFIDENCE,
                    seed = 0, width = EstimateOptions::DEFAULT_WIDTH, time_limit = None, methods = None, samples = BoundOptions::DEFAULT_SAMPLES,
                    hybrid_layers = BoundOptions::DEFAULT_HYBRID_LAYERS,
                    hybrid_max_regions = BoundOptions::DEFAULT_HYBRID_MAX_REGIONS,
                    budget = Some(BoundOptions::DEFAULT_BUDGET_SECONDS), threads = None))]
#[allow(clippy::too_many_arguments)]
fn estimate(
    py: Python<'_>,
    net: &PyNetwork,
    domain: &PyDomain,
    probes: usize,
    strata: usize,
    confidence: f64,
    seed: u64,
    width: usize,
    time_limit: Option<f64>,
    methods: Option<Vec<String>>,
    samples: usize,
    hybrid_layers: usize,
    hybrid_max_regions: usize,
    budget: Option<f64>,
    threads: Option<usize>,
) -> PyResult<String> {
    let bound_options = bound_options(methods, samples, hybrid_layers, hybrid_max_regions, budget)?;
    // The time limit checked as every walk's is.
    let time_limit = Budget::from_kwargs(None, time_limit, None, None)?.time_limit;
    let net = net.clone();
    let options = estimate_options(probes, strata, width, confidence, seed, time_limit)?;
    run_detached(py, threads, None, move |interrupt, _| {
        let options = EstimateOptions { interrupt: Some(interrupt), ..options };
        let problem = domain.problem(&net)?;
        let report = bounds(&problem.net, &problem.domain, &bound_options)?;
        let e = regionwalk::estimate::estimate(&problem.net, &problem.domain, &options)?;
        Ok(json_text(&problem.estimate_report(&e, &report, seed)))
    })
}

#[pyfunction]
#[pyo3(signature = (net, points, radii, *, norm = "l2", exact = true, methods = Vec::new(), max_regions = AuditOptions::DEFAULT_MAX_REGIONS,
                    budget = Some(BoundOptions::DEFAULT_BUDGET_SECONDS), labels = None, out = None, resume = false, shard = (0, 1), threads = None,
                    progress = None, estimate = false, probes = EstimateOptions::DEFAULT_PROBES, strata = EstimateOptions::DEFAULT_STRATA, confidence = EstimateOptions::DEFAULT_CONFIDENCE, seed = 0))]
#[allow(clippy::too_many_arguments)]
fn audit(
    py: Python<'_>,
    net: &PyNetwork,
    points: PyReadonlyArray2<'_, f64>,
    radii: Vec<f64>,
    norm: &str,
    exact: bool,
    methods: Vec<String>,
    max_regions: usize,
    budget: Option<f64>,
    labels: Option<Vec<String>>,
    out: Option<PathBuf>,
    resume: bool,
    shard: (usize, usize),
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
    estimate: bool,
    probes: usize,
    strata: usize,
    confidence: f64,
    seed: u64,
) -> PyResult<(String, bool)> {
    let bound_budget = bound_options(None, 0, 1, 0, budget)?.budget;
    let estimate = estimate
        .then(|| estimate_options(probes, strata, EstimateOptions::DEFAULT_WIDTH, confidence, seed, None))
        .transpose()?;
    let methods = methods_of(Some(methods))?;
    let points = rows(&points);
    let norm = norm_of(norm)?;
    let net = net.net.clone();
    run_detached(py, threads, progress, move |interrupt, snapshot| {
        let options = AuditOptions {
            radii,
            norm,
            exact,
            methods,
            max_regions,
            shard,
            bound_budget,
            estimate: estimate.map(|e| EstimateOptions { interrupt: Some(interrupt.clone()), ..e }),
            interrupt: Some(interrupt.clone()),
        };
        let records = run_audit(&net, &points, labels.as_deref(), &options, out.as_deref(), resume, &|done, total| {
            snapshot.set((done as u64, total as u64, 0))
        })?;
        let stopped = interrupt.load(std::sync::atomic::Ordering::Relaxed);
        Ok((serde_json::to_string(&records).expect("records serialise"), stopped))
    })
}

/// The region graph as the JSON format's text with the count's report; with `out`, the graph is
/// streamed there as JSON Lines instead (as `graph --format jsonl`) and the text is empty.
#[pyfunction]
#[pyo3(signature = (net, domain, *, max_regions = None, time_limit = None, threads = None, progress = None, out = None))]
#[allow(clippy::too_many_arguments)]
fn graph(
    py: Python<'_>,
    net: &PyNetwork,
    domain: &PyDomain,
    max_regions: Option<usize>,
    time_limit: Option<f64>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
    out: Option<PathBuf>,
) -> PyResult<(String, String)> {
    use regionwalk::plot::graph::{region_graph, to_json, GraphSpool};
    let budget = Budget::from_kwargs(max_regions, time_limit, None, None)?;
    let net = net.clone();
    run_detached(py, threads, progress, move |interrupt, snapshot| {
        let problem = domain.problem(&net)?;
        let Some(out) = out else {
            let walk = budget.walk(&problem, interrupt, snapshot, true)?;
            let g = region_graph(&problem.net, &walk)?;
            return Ok((json_text(&to_json(&g)), json_text(&problem.count_report(&walk))));
        };
        let spool = GraphSpool::new()?;
        let (sink, edge_sink) = spool.sinks();
        let options = WalkOptions {
            count_only: true,
            sink: Some(sink),
            edge_sink: Some(edge_sink),
            ..budget.options(interrupt, snapshot, true)
        };
        let walk = problem.walk(&options, None)?;
        spool.write_jsonl(&problem.net, &out)?;
        Ok((String::new(), json_text(&problem.count_report(&walk))))
    })
}

/// One polygon of a slice: vertices (k × 2, plane coordinates) and the region's pattern.
type Polygon<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, numpy::PyArray1<bool>>);

/// The polygons, the plane's directions `(u, v)`, and the ball's count with its completeness.
type Sliced<'py> = (Vec<Polygon<'py>>, (Vec<f64>, Vec<f64>), Option<(usize, bool)>);

/// The exact regions of the plane slice through `center`, the plane's directions `(u, v)`, and
/// the number of regions in the whole ball (with whether that count is complete) unless
/// `ball_count` is false; with `out`, the picture the CLI draws is written there.
#[pyfunction]
#[pyo3(signature = (net, center, radius, *, norm = "l2", plane = "axes:0,1", through = None, out = None, title = None,
                    ball_count = true, max_regions = None, time_limit = None, threads = None))]
#[allow(clippy::too_many_arguments)]
fn plot_slice<'py>(
    py: Python<'py>,
    net: &PyNetwork,
    center: PyReadonlyArray1<'_, f64>,
    radius: f64,
    norm: &str,
    plane: &str,
    through: Option<(PyReadonlyArray1<'_, f64>, PyReadonlyArray1<'_, f64>)>,
    out: Option<PathBuf>,
    title: Option<String>,
    ball_count: bool,
    max_regions: Option<usize>,
    time_limit: Option<f64>,
    threads: Option<usize>,
) -> PyResult<Sliced<'py>> {
    let norm = norm_of(norm)?;
    let through = through.map(|(p, q)| (p.as_array().to_vec(), q.as_array().to_vec()));
    let plane_spec = plane.to_string();
    let plane = Plane::parse(plane, through).map_err(py_err)?;
    let budget = Budget::from_kwargs(max_regions, time_limit, None, None)?;
    let center = center.as_array().to_vec();
    let units = net.net.graph_units().clone();
    let net = net.net.clone();
    let (sl, ball) = run_detached(py, threads, None, move |interrupt, snapshot| {
        let problem = Problem::ball((*net).clone(), &center, radius, norm)?;
        let sl = slice(&problem.net, &center, radius, norm, &plane)?;
        let ball = if ball_count {
            let r = budget.walk(&problem, interrupt, snapshot, false)?;
            Some((r.count(), r.complete()))
        } else {
            None
        };
        if let Some(path) = &out {
            let title = title.unwrap_or_else(|| {
                format!(
                    "{} ball of radius {radius}, plane {plane_spec}",
                    match norm {
                        Norm::L2 => "L2",
                        Norm::Linf => "L-inf",
                    }
                )
            });
            regionwalk::plot::render::render(
                &sl,
                path,
                &regionwalk::plot::render::Legend { title, ball_regions: ball },
            )?;
        }
        Ok((sl, ball))
    })?;
    let polygons = sl
        .polygons
        .iter()
        .map(|p| {
            let flat: Vec<f64> = p.vertices.iter().flatten().copied().collect();
            let vertices =
                ndarray::Array2::from_shape_vec((p.vertices.len(), 2), flat).expect("k × 2").into_pyarray(py);
            // The model's own ReLUs (a graph's carrying units left out).
            let own = units.pattern(&p.pattern);
            let pattern: Vec<bool> = (0..own.len()).map(|k| own.get(k)).collect();
            (vertices, pattern.into_pyarray(py))
        })
        .collect();
    Ok((polygons, (sl.u, sl.v), ball))
}

/// Registers the question functions, and `DEFAULTS`: the library's defaults, which the Python
/// wrappers and the Ray driver take their keyword defaults from.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let defaults = pyo3::types::PyDict::new(m.py());
    defaults.set_item("samples", BoundOptions::DEFAULT_SAMPLES)?;
    defaults.set_item("hybrid_layers", BoundOptions::DEFAULT_HYBRID_LAYERS)?;
    defaults.set_item("hybrid_max_regions", BoundOptions::DEFAULT_HYBRID_MAX_REGIONS)?;
    defaults.set_item("budget", BoundOptions::DEFAULT_BUDGET_SECONDS)?;
    defaults.set_item("audit_max_regions", AuditOptions::DEFAULT_MAX_REGIONS)?;
    defaults.set_item("probes", EstimateOptions::DEFAULT_PROBES)?;
    defaults.set_item("strata", EstimateOptions::DEFAULT_STRATA)?;
    defaults.set_item("width", EstimateOptions::DEFAULT_WIDTH)?;
    defaults.set_item("confidence", EstimateOptions::DEFAULT_CONFIDENCE)?;
    defaults.set_item("compare_resamples", regionwalk::tolerance::COMPARE_BOOTSTRAP)?;
    m.add("DEFAULTS", defaults)?;
    m.add_function(wrap_pyfunction!(count, m)?)?;
    m.add_function(wrap_pyfunction!(bound, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(estimate, m)?)?;
    m.add_function(wrap_pyfunction!(audit, m)?)?;
    m.add_function(wrap_pyfunction!(graph, m)?)?;
    m.add_function(wrap_pyfunction!(plot_slice, m)?)?;
    Ok(())
}
