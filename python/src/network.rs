//! `Network`: a ReLU network held by the core crate, built from arrays or read from a file.

use crate::py_err;
use ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use regionwalk::model::{io, InputBox, Layer, Network};
use std::path::PathBuf;
use std::sync::Arc;

/// A ReLU network (ReLU after every layer but the last), immutable once built.
#[pyclass(frozen, name = "Network", module = "regionwalk._native")]
#[derive(Clone)]
pub struct PyNetwork {
    pub(crate) net: Arc<Network>,
    /// For `.nnet` files: "normalised" or "raw" input units.
    pub(crate) units: Option<&'static str>,
}

/// A layer `(W, b)` as NumPy arrays.
type LayerArrays<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray1<f64>>);
/// Lower and upper bounds as NumPy arrays.
type BoundsArrays<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);
/// Points (one per row) and their labels.
type PointsArrays<'py> = (Bound<'py, PyArray2<f64>>, Option<Vec<String>>);

/// The evaluation of a network at one point.
type Evaluation<'py> = (
    Bound<'py, PyArray1<f64>>,
    Vec<Bound<'py, PyArray1<bool>>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray1<f64>>,
    bool,
);

#[pymethods]
impl PyNetwork {
    /// Builds a network from `[(W, b), ...]` (float64 arrays, `W` out×in), an optional input
    /// box `(lower, upper)` and optional max windows (per hidden layer, `(start, end)` ranges of
    /// its units).
    #[staticmethod]
    #[pyo3(signature = (layers, input_box = None, max_windows = None))]
    fn from_layers(
        layers: Vec<(PyReadonlyArray2<'_, f64>, PyReadonlyArray1<'_, f64>)>,
        input_box: Option<(PyReadonlyArray1<'_, f64>, PyReadonlyArray1<'_, f64>)>,
        max_windows: Option<Vec<Vec<(usize, usize)>>>,
    ) -> PyResult<Self> {
        let layers = layers
            .iter()
            .map(|(w, b)| Layer { weight: w.as_array().to_owned().into(), bias: b.as_array().to_owned() })
            .collect();
        let input_box = input_box.map(|(l, u)| InputBox { lower: l.as_array().to_vec(), upper: u.as_array().to_vec() });
        let mut net = Network::new(layers, input_box).map_err(py_err)?;
        if let Some(windows) = max_windows {
            let ranges = windows.iter().map(|layer| layer.iter().map(|&(start, end)| start..end).collect()).collect();
            net = net.with_max_windows(ranges).map_err(py_err)?;
        }
        Ok(PyNetwork { net: Arc::new(net), units: None })
    }

    /// Reads an ONNX, .nnet or JSON model (format from the extension). `raw_units` (.nnet only)
    /// folds the header's normalisation into the first layer.
    #[staticmethod]
    #[pyo3(signature = (path, raw_units = false))]
    fn from_file(path: PathBuf, raw_units: bool) -> PyResult<Self> {
        let net = io::load_network_with(&path, io::LoadOptions { raw_units }).map_err(py_err)?;
        Ok(PyNetwork { net: Arc::new(net), units: io::units(&path, io::LoadOptions { raw_units }) })
    }

    /// Reads the JSON model format (what `to_json` writes): how networks travel to remote workers.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        let net =
            io::network_from_json_str(text).map_err(|e| PyValueError::new_err(format!("invalid model JSON: {e}")))?;
        Ok(PyNetwork { net: Arc::new(net), units: None })
    }

    /// Checks every row of `points` as the audit does (dimension, finite coordinates), naming
    /// the first bad point by its index.
    fn check_points(&self, points: PyReadonlyArray2<'_, f64>) -> PyResult<()> {
        for (i, p) in points.as_array().rows().into_iter().enumerate() {
            self.net.check_point(&p.to_vec(), &format!("point {i}")).map_err(py_err)?;
        }
        Ok(())
    }

    /// Number of inputs.
    #[getter]
    fn input_dim(&self) -> usize {
        self.net.input_dim()
    }

    /// Widths of the hidden layers.
    #[getter]
    fn hidden_widths(&self) -> Vec<usize> {
        self.net.hidden_widths()
    }

    /// Number of outputs.
    /// Each hidden layer's max windows, as `(start, end)` ranges of its units (empty lists for a
    /// ReLU network).
    #[getter]
    fn max_windows(&self) -> Vec<Vec<(usize, usize)>> {
        let windows = self.net.max_windows();
        (0..self.net.hidden().len()).map(|l| windows.in_layer(l).iter().map(|w| (w.start, w.end)).collect()).collect()
    }

    #[getter]
    fn output_dim(&self) -> usize {
        self.net.layers().last().map_or(0, |l| l.weight.nrows())
    }

    /// For `.nnet` models, which units points are in ("normalised" or "raw"); else None.
    #[getter]
    fn units(&self) -> Option<&'static str> {
        self.units
    }

    /// The model's input box `(lower, upper)`, if it declares one.
    #[getter]
    fn input_box<'py>(&self, py: Python<'py>) -> Option<BoundsArrays<'py>> {
        self.net.input_box().map(|b| (PyArray1::from_slice(py, &b.lower), PyArray1::from_slice(py, &b.upper)))
    }

    /// The layers as `[(W, b), ...]` (dense copies, also of a convolution's sparse matrix).
    fn layers<'py>(&self, py: Python<'py>) -> Vec<LayerArrays<'py>> {
        let dense = |l: &Layer| l.weight.to_dense().into_owned().into_pyarray(py);
        self.net.layers().iter().map(|l| (dense(l), l.bias.clone().into_pyarray(py))).collect()
    }

    /// The network as the JSON model format (readable by `from_file` and the CLI).
    fn to_json(&self) -> String {
        io::network_to_json(&self.net)
    }

    /// Output, activation pattern per hidden layer (bool arrays), the local affine map
    /// `(jacobian, offset)` of the pattern at `x`, and whether `x` lies on a region boundary.
    fn eval<'py>(&self, py: Python<'py>, x: PyReadonlyArray1<'_, f64>) -> PyResult<Evaluation<'py>> {
        let x = x.as_array().to_vec();
        self.net.check_point(&x, "the point").map_err(py_err)?;
        let output = self.net.output(&x);
        let pattern = self.net.pattern(&x);
        let (jacobian, offset, _) = self.net.output_map(&pattern);
        // The model's own ReLUs (a graph's carrying units left out), by layer.
        let units = self.net.graph_units();
        let layers = units
            .pattern(&pattern)
            .by_layer(units.widths())
            .into_iter()
            .map(|l| l.into_iter().map(|b| b == 1).collect::<Vec<bool>>().into_pyarray(py))
            .collect();
        let on_boundary = self.net.interior_pattern(&x).is_none();
        Ok((output.into_pyarray(py), layers, jacobian.into_pyarray(py), offset.into_pyarray(py), on_boundary))
    }

    fn __repr__(&self) -> String {
        let mut widths = vec![self.net.input_dim()];
        widths.extend(self.net.layers().iter().map(|l| l.weight.nrows()));
        let w: Vec<String> = widths.iter().map(|w| w.to_string()).collect();
        format!("Network({})", w.join("-"))
    }
}

/// A 2-D float64 array as rows (points).
pub(crate) fn rows(a: &PyReadonlyArray2<'_, f64>) -> Vec<Vec<f64>> {
    a.as_array().rows().into_iter().map(|r| r.to_vec()).collect()
}

/// A boolean matrix as a NumPy array.
pub(crate) fn bool_matrix(
    py: Python<'_>,
    rows: usize,
    cols: usize,
    data: Vec<bool>,
) -> PyResult<Bound<'_, PyArray2<bool>>> {
    Array2::from_shape_vec((rows, cols), data)
        .map(|a| a.into_pyarray(py))
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Reads a points file as the CLI's `audit --points` does: `.npy`, `.csv` (label column `"first"`
/// or `"last"` if named) or `.json`. Returns the points (one row each) and the labels.
#[pyfunction]
#[pyo3(signature = (path, label_column = None))]
pub fn load_points<'py>(py: Python<'py>, path: PathBuf, label_column: Option<&str>) -> PyResult<PointsArrays<'py>> {
    let column = match label_column {
        None => None,
        Some("first") => Some(io::LabelColumn::First),
        Some("last") => Some(io::LabelColumn::Last),
        Some(other) => {
            return Err(PyValueError::new_err(format!("label_column must be 'first' or 'last', got '{other}'")))
        }
    };
    let (points, labels) = io::load_points(&path, column).map_err(py_err)?;
    let d = points.first().map_or(0, Vec::len);
    let flat: Vec<f64> = points.iter().flatten().copied().collect();
    let array = Array2::from_shape_vec((points.len(), d), flat)
        .map_err(|e| PyValueError::new_err(format!("{}: {e}", path.display())))?;
    Ok((array.into_pyarray(py), labels))
}

/// An audit report file being written as the CLI writes it (JSON Lines, or CSV by extension).
#[pyclass(name = "ReportWriter", module = "regionwalk._native")]
pub struct PyReportWriter(regionwalk::audit::ReportWriter);

#[pymethods]
impl PyReportWriter {
    /// Creates (truncates) the file.
    #[new]
    fn new(path: PathBuf) -> PyResult<Self> {
        Ok(PyReportWriter(regionwalk::audit::ReportWriter::create(&path).map_err(py_err)?))
    }

    /// Appends records given as a JSON array (what `audit` returns), flushed.
    fn write(&mut self, records: &str) -> PyResult<()> {
        let records: Vec<regionwalk::audit::Record> =
            serde_json::from_str(records).map_err(|e| PyValueError::new_err(format!("invalid records: {e}")))?;
        self.0.write(&records).map_err(py_err)
    }
}

/// Two audit reports compared (`audit-compare --json`, without the paths): the comparison as JSON.
#[pyfunction]
#[pyo3(signature = (a, b, paired, resamples, confidence, seed))]
pub fn audit_compare(
    a: PathBuf,
    b: PathBuf,
    paired: bool,
    resamples: usize,
    confidence: f64,
    seed: u64,
) -> PyResult<String> {
    use regionwalk::audit::{read_report, stats};
    let (ra, rb) = (read_report(&a).map_err(py_err)?, read_report(&b).map_err(py_err)?);
    if ra.is_empty() || rb.is_empty() {
        return Err(PyValueError::new_err(format!(
            "both reports need records ({} has {}, {} has {})",
            a.display(),
            ra.len(),
            b.display(),
            rb.len()
        )));
    }
    let options = stats::CompareOptions { paired, resamples, confidence, seed };
    let report = stats::compare_reports(&ra, &rb, &options).map_err(py_err)?;
    Ok(serde_json::to_string(&report).expect("comparisons serialise"))
}

/// The complete records of a report file as a JSON array (lines cut by a kill are skipped).
#[pyfunction]
pub fn read_report(path: PathBuf) -> PyResult<String> {
    let records = regionwalk::audit::read_report(&path).map_err(py_err)?;
    Ok(serde_json::to_string(&records).expect("records serialise"))
}
