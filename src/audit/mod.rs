//! Neighbourhood audits: for many points and radii, the exact region count (or a budgeted lower
//! bound), the bounds, and the exact distance from the point to the nearest region boundary, written
//! incrementally (JSON Lines or CSV) so that an interrupted audit resumes without redoing points, and
//! splittable into shards. [`stats`] compares two audits (distributions and a Mann–Whitney U test).

pub mod stats;

use crate::bound::{bounds, BoundOptions, Method};
use crate::domain::{Domain, Norm};
use crate::estimate::{estimate_columns, EstimateColumns, EstimateOptions};
use crate::exact::{count, WalkOptions};
use crate::model::{chosen, difference, Difference, Network, NeuronKind};
use crate::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Distance from `x` to the nearest boundary of its activation region (theory P4): the minimum over
/// the region's non-constant constraints of `|a·x + β| / ‖a‖_*` (the dual norm: `‖a‖₂` for L2,
/// `‖a‖₁` for L-inf distances), with the neuron that attains it as `(layer, neuron)`, 1-based
/// layers. Zero when `x` lies on a boundary; infinite when no neuron varies.
pub fn boundary_distance(net: &Network, x: &[f64], norm: Norm) -> (f64, Option<(usize, usize)>) {
    let pattern = net.pattern(x);
    let sur = net.surrogate(&pattern);
    let on_boundary = net.interior_pattern(x).is_none();
    let mut best = (f64::INFINITY, None);
    let unit = |k: usize| (sur.a.row(k).to_slice().expect("standard layout"), sur.beta[k], sur.kind[k]);
    for k in 0..sur.kind.len() {
        // A max-window candidate's boundary is where it ties with its window's argmax.
        let (a, beta) = match net.max_windows().of(k) {
            Some(window) => match chosen(|i| pattern.get(i), window) {
                Some(j) if j != k => match difference(unit(j), unit(k)) {
                    Difference::Varying(a, beta) => (ndarray::Array1::from(a), beta),
                    _ => continue,
                },
                _ => continue,
            },
            None if sur.kind[k] == NeuronKind::Varying => (sur.a.row(k).to_owned(), sur.beta[k]),
            None => continue,
        };
        let dual = match norm {
            Norm::L2 => a.dot(&a).sqrt(),
            Norm::Linf => a.iter().map(|v| v.abs()).sum(),
        };
        let z = a.iter().zip(x).map(|(p, q)| p * q).sum::<f64>() + beta;
        let d = if on_boundary && z.abs() <= crate::tolerance::WITNESS * dual.max(1.0) { 0.0 } else { z.abs() / dual };
        if d < best.0 {
            let (l, j) = net.neuron_position(k);
            best = (d, Some((l + 1, j)));
        }
    }
    best
}

/// One line of an audit report (JSON Lines or CSV; Python's audit columns).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Record {
    /// Index of the point in the points file.
    pub point: usize,
    /// Its label, if the points file has labels.
    pub label: Option<String>,
    /// Ball radius.
    pub radius: f64,
    /// Ball norm.
    pub norm: Norm,
    /// Exact count (or a lower bound if `complete` is false); absent with `--bounds-only`.
    pub regions: Option<usize>,
    /// Whether `regions` is exact.
    pub complete: Option<bool>,
    /// Distance to the nearest region boundary (in the ball's norm).
    pub boundary_distance: f64,
    /// `[layer, neuron]` owning that boundary.
    pub boundary_neuron: Option<(usize, usize)>,
    /// The paper's bound (decimal string).
    pub paper: Option<String>,
    /// The best bound computed (decimal string).
    pub best: Option<String>,
    /// A statistical estimate beside the bracket `[regions, best]`, when asked for and the walk
    /// did not finish.
    #[serde(flatten)]
    pub estimate: EstimateColumns,
    /// Wall time for this record.
    pub seconds: f64,
}

/// What to compute for each point and radius.
#[derive(Clone, Debug)]
pub struct AuditOptions {
    /// Radii.
    pub radii: Vec<f64>,
    /// Ball norm.
    pub norm: Norm,
    /// Run the exact walk.
    pub exact: bool,
    /// Compute these bound methods (empty: none).
    pub methods: Vec<Method>,
    /// Region budget of each walk.
    pub max_regions: usize,
    /// Process only points with `index % shard.1 == shard.0` (0-based shard).
    pub shard: (usize, usize),
    /// Time budget of each record's bounds (`BoundOptions::budget`): an expensive method that
    /// overruns it is left out of `best`.
    pub bound_budget: Option<std::time::Duration>,
    /// Estimate the regions of every ball whose walk did not finish (within `bound_budget`).
    pub estimate: Option<EstimateOptions>,
    /// When raised (Ctrl-C), the audit stops after the current batch; what it returns and wrote
    /// is complete record by record, so a resumed audit continues from there.
    pub interrupt: Option<Arc<AtomicBool>>,
}

impl AuditOptions {
    /// The region budget of each walk, by default.
    pub const DEFAULT_MAX_REGIONS: usize = 100_000;

    /// Checks the options: at least one radius, every radius positive and finite, a region
    /// budget of at least 1, and a shard `(i, n)` with `i < n`.
    pub fn check(&self) -> Result<()> {
        if self.radii.is_empty() {
            return Err(Error::Settings("an audit needs at least one radius".into()));
        }
        if let Some(r) = self.radii.iter().find(|r| !(r.is_finite() && **r > 0.0)) {
            return Err(Error::Settings(format!("every radius must be a positive finite number, got {r}")));
        }
        WalkOptions::region_budget(self.max_regions)?;
        let (i, n) = self.shard;
        if i >= n {
            return Err(Error::Settings(format!("shard {i} of {n} does not exist (shards are numbered 0 to n-1)")));
        }
        Ok(())
    }
}

/// Audits one point at one radius.
pub fn audit_point(
    net: &Network,
    x: &[f64],
    index: usize,
    label: Option<String>,
    radius: f64,
    options: &AuditOptions,
) -> Result<Record> {
    let started = std::time::Instant::now();
    let domain = Domain::ball(x, radius, options.norm)?;
    let (boundary_distance, boundary_neuron) = boundary_distance(net, x, options.norm);
    let (mut regions, mut complete) = (None, None);
    if options.exact {
        let r = count(
            net,
            &domain,
            &WalkOptions { max_regions: Some(options.max_regions), count_only: true, ..Default::default() },
        )?;
        regions = Some(r.count());
        complete = Some(r.complete());
    }
    let (mut paper, mut best, mut upper, mut screen) = (None, None, None, None);
    if !options.methods.is_empty() {
        let report = bounds(
            net,
            &domain,
            &BoundOptions {
                methods: options.methods.clone(),
                samples: 0,
                budget: options.bound_budget,
                ..Default::default()
            },
        )?;
        paper = report.get(Method::Paper).map(|b| b.value.to_string());
        upper = report.best().map(|b| b.value.clone());
        best = upper.as_ref().map(|u| u.to_string());
        screen = Some(report.screen);
    }
    let estimate = match &options.estimate {
        Some(estimate_options) if complete != Some(true) => {
            let estimate_options = EstimateOptions { time_limit: options.bound_budget, ..estimate_options.clone() };
            let lower = regions.unwrap_or(0);
            estimate_columns(net, &domain, &estimate_options, lower, upper.as_ref(), screen.as_ref())?
        }
        _ => EstimateColumns::default(),
    };
    Ok(Record {
        point: index,
        label,
        radius,
        norm: options.norm,
        regions,
        complete,
        boundary_distance,
        boundary_neuron,
        paper,
        best,
        estimate,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Report file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    JsonLines,
    Csv,
}

fn format_of(path: &Path) -> Format {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("csv") => Format::Csv,
        _ => Format::JsonLines,
    }
}

const CSV_HEADER: &str = "point,label,radius,norm,regions,complete,boundary_distance,boundary_layer,boundary_neuron,\
     paper,best,estimate,estimate_low,estimate_high,estimate_reliable,seconds";

fn to_line(r: &Record, format: Format) -> String {
    match format {
        Format::JsonLines => serde_json::to_string(r).expect("records serialise"),
        Format::Csv => {
            let opt = |v: Option<String>| v.unwrap_or_default();
            let float = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
            let (bl, bn) =
                r.boundary_neuron.map_or((String::new(), String::new()), |(l, j)| (l.to_string(), j.to_string()));
            format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                r.point,
                opt(r.label.clone()),
                r.radius,
                serde_json::to_value(r.norm).unwrap().as_str().unwrap(),
                opt(r.regions.map(|v| v.to_string())),
                opt(r.complete.map(|v| v.to_string())),
                r.boundary_distance,
                bl,
                bn,
                opt(r.paper.clone()),
                opt(r.best.clone()),
                float(r.estimate.estimate),
                float(r.estimate.estimate_low),
                float(r.estimate.estimate_high),
                opt(r.estimate.estimate_reliable.map(|v| v.to_string())),
                r.seconds
            )
        }
    }
}

fn from_line(line: &str, format: Format) -> Option<Record> {
    match format {
        Format::JsonLines => serde_json::from_str(line).ok(),
        Format::Csv => {
            let c: Vec<&str> = line.split(',').collect();
            if c.len() != 16 || c[0] == "point" {
                return None;
            }
            let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
            Some(Record {
                point: c[0].parse().ok()?,
                label: opt(c[1]),
                radius: c[2].parse().ok()?,
                norm: serde_json::from_value(serde_json::Value::String(c[3].into())).ok()?,
                regions: opt(c[4]).map(|s| s.parse()).transpose().ok()?,
                complete: opt(c[5]).map(|s| s.parse()).transpose().ok()?,
                boundary_distance: c[6].parse().ok()?,
                boundary_neuron: match (c[7].parse(), c[8].parse()) {
                    (Ok(l), Ok(j)) => Some((l, j)),
                    _ => None,
                },
                paper: opt(c[9]),
                best: opt(c[10]),
                estimate: EstimateColumns {
                    estimate: opt(c[11]).map(|s| s.parse()).transpose().ok()?,
                    estimate_low: opt(c[12]).map(|s| s.parse()).transpose().ok()?,
                    estimate_high: opt(c[13]).map(|s| s.parse()).transpose().ok()?,
                    estimate_reliable: opt(c[14]).map(|s| s.parse()).transpose().ok()?,
                },
                seconds: c[15].parse().ok()?,
            })
        }
    }
}

/// Reads a report (JSON Lines or CSV by extension); unreadable lines (e.g. cut by a kill) are skipped.
pub fn read_report(path: &Path) -> Result<Vec<Record>> {
    let text = crate::model::io::read_text_file(path)?;
    let format = format_of(path);
    Ok(text.lines().filter_map(|l| from_line(l, format)).collect())
}

/// A report file being written (JSON Lines, or CSV for a `.csv` path): records are appended as
/// they finish, each batch flushed, so that a killed run leaves only whole lines plus at most one
/// cut line, which [`read_report`] skips.
pub struct ReportWriter {
    file: std::fs::File,
    path: std::path::PathBuf,
    format: Format,
}

impl ReportWriter {
    /// Creates (truncates) the report file, with the CSV header where the format has one.
    pub fn create(path: &Path) -> Result<ReportWriter> {
        let file = std::fs::File::create(path).map_err(|e| ReportWriter::error(path, e))?;
        let format = format_of(path);
        let mut sink = ReportWriter { file, path: path.to_owned(), format };
        if format == Format::Csv {
            writeln!(sink.file, "{CSV_HEADER}").map_err(|e| ReportWriter::error(path, e))?;
        }
        Ok(sink)
    }

    fn error(path: &Path, e: std::io::Error) -> Error {
        Error::output(path, e)
    }

    /// Appends records and flushes.
    pub fn write(&mut self, records: &[Record]) -> Result<()> {
        let mut text = String::new();
        for r in records {
            text.push_str(&to_line(r, self.format));
            text.push('\n');
        }
        self.file
            .write_all(text.as_bytes())
            .and_then(|()| self.file.flush())
            .map_err(|e| ReportWriter::error(&self.path, e))
    }
}

/// Runs an audit over `points`, appending records to `out` (if given) as they finish, in point
/// order within each batch. With `resume`, records already in `out` are kept and not recomputed.
/// `progress` is called with (done, total) after every batch. Returns the records, resumed ones
/// first.
pub fn audit(
    net: &Network,
    points: &[Vec<f64>],
    labels: Option<&[String]>,
    options: &AuditOptions,
    out: Option<&Path>,
    resume: bool,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<Record>> {
    options.check()?;
    for (i, p) in points.iter().enumerate() {
        net.check_point(p, &format!("point {i}"))?;
    }
    if let Some(l) = labels {
        if l.len() != points.len() {
            return Err(Error::point(format!("{} labels for {} points", l.len(), points.len())));
        }
    }
    let mut done: Vec<Record> = match out {
        Some(path) if resume && path.exists() => read_report(path)?,
        _ => Vec::new(),
    };
    // Rewrite the file with only the complete lines, then append.
    let mut sink = out.map(ReportWriter::create).transpose()?;
    if let Some(sink) = &mut sink {
        sink.write(&done)?;
    }
    let finished: rustc_hash::FxHashSet<(usize, u64)> = done.iter().map(|r| (r.point, r.radius.to_bits())).collect();
    let todo: Vec<(usize, f64)> = (0..points.len())
        .filter(|i| i % options.shard.1 == options.shard.0)
        .flat_map(|i| options.radii.iter().map(move |&r| (i, r)))
        .filter(|(i, r)| !finished.contains(&(*i, r.to_bits())))
        .collect();
    let total = todo.len();
    let interrupted = || options.interrupt.as_ref().is_some_and(|f| f.load(Ordering::Relaxed));
    let mut finished_now = 0;
    for batch in todo.chunks(rayon::current_num_threads().max(1) * 2) {
        if interrupted() {
            break;
        }
        let records: Vec<Record> = batch
            .par_iter()
            .map(|&(i, r)| audit_point(net, &points[i], i, labels.map(|l| l[i].clone()), r, options))
            .collect::<Result<_>>()?;
        if let Some(sink) = &mut sink {
            sink.write(&records)?;
        }
        done.extend(records);
        finished_now += batch.len();
        progress(finished_now, total);
    }
    Ok(done)
}
