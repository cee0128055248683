//! Reading models and points. The format follows from the file extension.

mod json;
mod nnet;
mod onnx;
mod onnx_graph;
mod onnx_image;
mod onnx_proto;
mod points;
mod vnnlib;

pub use json::{network_from_json_str, network_to_json};
pub use nnet::network_from_nnet_str;
pub use onnx::network_from_onnx_bytes;
pub use points::{load_points, parse_point, LabelColumn, Points};
pub use vnnlib::{input_box_from_vnnlib, input_boxes_from_vnnlib, InputBoxBounds};

use crate::error::ModelError;
use crate::model::Network;
use crate::{Error, Result};
use std::path::Path;

/// Largest model file read, so that a hostile file cannot exhaust memory before it is validated.
pub const MAX_MODEL_BYTES: u64 = 1 << 30;

/// How to read a model file.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions {
    /// `.nnet`: fold the header's input normalisation into layer 1, so that points and the input box
    /// are in raw units (default: normalised units, as the weights are written).
    pub raw_units: bool,
}

/// Loads a network from `path`; the extension picks the format (`.json`, `.onnx`, `.nnet`).
pub fn load_network(path: &Path) -> Result<Network> {
    load_network_with(path, LoadOptions::default())
}

/// The units points are in for the model at `path` loaded with `options`: `normalised` or `raw`
/// for `.nnet` models (whose weights act on normalised inputs), `None` for the other formats.
pub fn units(path: &Path, options: LoadOptions) -> Option<&'static str> {
    let nnet = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("nnet"));
    nnet.then_some(if options.raw_units { "raw" } else { "normalised" })
}

/// [`load_network`] with options.
pub fn load_network_with(path: &Path, options: LoadOptions) -> Result<Network> {
    let err = |message: String| Error::model_file(path, message);
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("json") => network_from_json_str(&read_text(path, MAX_MODEL_BYTES)?).map_err(err),
        Some("nnet") => network_from_nnet_str(&read_text(path, MAX_MODEL_BYTES)?, options.raw_units).map_err(err),
        Some("onnx") => network_from_onnx_bytes(&read_bytes(path, MAX_MODEL_BYTES)?).map_err(err),
        Some(other) => Err(err(format!("unsupported model format '.{other}' (supported: .json, .onnx, .nnet)"))),
        None => Err(err("the model file has no extension; expected .json, .onnx or .nnet".into())),
    }
}

/// Reads a file of at most `limit` bytes, with errors that name the file.
pub(crate) fn read_bytes(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let unreadable = |e: std::io::Error| {
        Error::Model(ModelError::File { path: path.to_owned(), message: format!("cannot read: {e}"), source: Some(e) })
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if meta.len() > limit {
        return Err(Error::model_file(path, format!("file is {} bytes, more than the limit of {limit}", meta.len())));
    }
    std::fs::read(path).map_err(unreadable)
}

/// Reads a UTF-8 text file of at most `limit` bytes, with errors that name the file.
pub(crate) fn read_text(path: &Path, limit: u64) -> Result<String> {
    let bytes = read_bytes(path, limit)?;
    String::from_utf8(bytes)
        .map_err(|e| Error::model_file(path, format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to())))
}

/// Reads a text file (checkpoints and other small inputs) with errors that name the file.
pub fn read_text_file(path: &Path) -> Result<String> {
    read_text(path, MAX_MODEL_BYTES)
}
