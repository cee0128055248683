//! Points given on the command line: comma-separated numbers, or a file holding one point.

use crate::{Error, Result};
use std::path::Path;

/// Largest point file read.
const MAX_POINT_BYTES: u64 = 64 << 20;

/// Parses `spec` as a path to a `.json` (an array of numbers), `.csv` (one row of numbers) or `.npy`
/// (float32/float64, 1-D, or 2-D with one row) file if such a file exists, and otherwise as
/// comma-separated numbers.
pub fn parse_point(spec: &str) -> Result<Vec<f64>> {
    let path = Path::new(spec);
    if path.is_file() {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let file_err = |message: String| Error::point(format!("{spec}: {message}"));
        if ext.as_deref() == Some("npy") {
            return finite(read_npy_point(path).map_err(file_err)?, spec);
        }
        let text = super::read_text(path, MAX_POINT_BYTES)?;
        return match ext.as_deref() {
            Some("json") => {
                let v: Vec<f64> = serde_json::from_str(&text)
                    .map_err(|e| file_err(format!("expected a JSON array of numbers: {e}")))?;
                finite(v, spec)
            }
            Some("csv") => {
                let line = text.lines().find(|l| !l.trim().is_empty()).ok_or_else(|| file_err("empty file".into()))?;
                numbers(line, spec)
            }
            _ => Err(file_err("unsupported point file (expected .json, .csv or .npy)".into())),
        };
    }
    numbers(spec, "the point")
}

fn numbers(text: &str, what: &str) -> Result<Vec<f64>> {
    let v = text
        .split(',')
        .enumerate()
        .map(|(i, s)| {
            s.trim()
                .parse::<f64>()
                .map_err(|_| Error::point(format!("{what}: entry {i} ('{}') is not a number", s.trim())))
        })
        .collect::<Result<Vec<f64>>>()?;
    finite(v, what)
}

fn finite(v: Vec<f64>, what: &str) -> Result<Vec<f64>> {
    if v.is_empty() {
        return Err(Error::point(format!("{what}: no coordinates")));
    }
    if let Some((i, x)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
        return Err(Error::point(format!("{what}: coordinate {i} is {x}")));
    }
    Ok(v)
}

fn read_npy_point(path: &Path) -> std::result::Result<Vec<f64>, String> {
    use ndarray::{Array1, Array2};
    use ndarray_npy::read_npy;
    if let Ok(a) = read_npy::<_, Array1<f64>>(path) {
        return Ok(a.to_vec());
    }
    if let Ok(a) = read_npy::<_, Array1<f32>>(path) {
        return Ok(a.iter().map(|&v| v as f64).collect());
    }
    let rows: Array2<f64> = match read_npy::<_, Array2<f64>>(path) {
        Ok(a) => a,
        Err(_) => read_npy::<_, Array2<f32>>(path)
            .map_err(|e| format!("cannot read as a float .npy array: {e}"))?
            .mapv(|v| v as f64),
    };
    match rows.nrows() {
        1 => Ok(rows.row(0).to_vec()),
        n => Err(format!("holds {n} points; give a file with one point")),
    }
}

/// Where a points file keeps its labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelColumn {
    /// The first column is the label.
    First,
    /// The last column is the label.
    Last,
}

/// Points, and their labels when a label column is named.
pub type Points = (Vec<Vec<f64>>, Option<Vec<String>>);

/// Points of a `.npy` (2-D float array, one point per row), `.csv` (one point per row, optionally
/// with a label column; a header row of non-numbers is skipped) or `.json` (array of arrays) file,
/// and the labels if a label column is named.
pub fn load_points(path: &Path, labels: Option<LabelColumn>) -> Result<Points> {
    let name = path.display().to_string();
    let err = |message: String| Error::point(format!("{name}: {message}"));
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let (points, label_values) = match ext.as_deref() {
        Some("npy") => {
            use ndarray::Array2;
            use ndarray_npy::read_npy;
            let a: Array2<f64> = match read_npy::<_, Array2<f64>>(path) {
                Ok(a) => a,
                Err(_) => read_npy::<_, Array2<f32>>(path)
                    .map_err(|e| err(format!("expected a 2-D float array: {e}")))?
                    .mapv(|v| v as f64),
            };
            (a.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>(), None)
        }
        Some("json") => {
            let text = super::read_text(path, 1 << 30)?;
            let v: Vec<Vec<f64>> =
                serde_json::from_str(&text).map_err(|e| err(format!("expected an array of arrays of numbers: {e}")))?;
            (v, None)
        }
        Some("csv") => {
            let text = super::read_text(path, 1 << 30)?;
            let mut points = Vec::new();
            let mut found_labels = Vec::new();
            for (n, line) in text.lines().enumerate() {
                let mut cells: Vec<&str> = line.split(',').map(str::trim).collect();
                if line.trim().is_empty() {
                    continue;
                }
                let label = match labels {
                    Some(LabelColumn::First) => Some(cells.remove(0).to_string()),
                    Some(LabelColumn::Last) => cells.pop().map(str::to_string),
                    None => None,
                };
                let parsed: std::result::Result<Vec<f64>, _> = cells.iter().map(|c| c.parse::<f64>()).collect();
                match parsed {
                    Ok(p) => {
                        points.push(p);
                        found_labels.extend(label);
                    }
                    Err(_) if n == 0 => continue, // a header row
                    Err(_) => return Err(err(format!("line {}: not a row of numbers", n + 1))),
                }
            }
            (points, labels.map(|_| found_labels))
        }
        _ => return Err(err("unsupported points file (expected .npy, .csv or .json)".into())),
    };
    if points.is_empty() {
        return Err(err("no points".into()));
    }
    let d = points[0].len();
    for (i, p) in points.iter().enumerate() {
        if p.len() != d {
            return Err(err(format!("point {i} has {} coordinates, point 0 has {d}", p.len())));
        }
        if let Some(j) = p.iter().position(|v| !v.is_finite()) {
            return Err(err(format!("point {i}, coordinate {j} is {}", p[j])));
        }
    }
    Ok((points, label_values))
}
