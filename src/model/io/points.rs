//! Points given on the command line: comma-separated numbers, or a file holding one point.

use crate::{Error, Result};
use std::path::Path;

/// Largest point file read.
const MAX_POINT_BYTES: u64 = 64 << 20;

/// Parses `spec` as a path to a `.json` (an array of numbers) or `.csv` (one row of numbers) file if
/// such a file exists, and otherwise as comma-separated numbers.
pub fn parse_point(spec: &str) -> Result<Vec<f64>> {
    let path = Path::new(spec);
    if path.is_file() {
        let text = super::read_text(path, MAX_POINT_BYTES)?;
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let file_err = |message: String| Error::Point(format!("{spec}: {message}"));
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
            _ => Err(file_err("unsupported point file (expected .json or .csv)".into())),
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
                .map_err(|_| Error::Point(format!("{what}: entry {i} ('{}') is not a number", s.trim())))
        })
        .collect::<Result<Vec<f64>>>()?;
    finite(v, what)
}

fn finite(v: Vec<f64>, what: &str) -> Result<Vec<f64>> {
    if v.is_empty() {
        return Err(Error::Point(format!("{what}: no coordinates")));
    }
    if let Some((i, x)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
        return Err(Error::Point(format!("{what}: coordinate {i} is {x}")));
    }
    Ok(v)
}
