//! Reading models and points. The format follows from the file extension.

mod json;
mod points;

pub use json::{network_from_json_str, network_to_json};
pub use points::parse_point;

use crate::model::Network;
use crate::{Error, Result};
use std::path::Path;

/// Largest model file read, so that a hostile file cannot exhaust memory before it is validated.
pub const MAX_MODEL_BYTES: u64 = 1 << 30;

/// Loads a network from `path`; the extension picks the format (`.json` today).
pub fn load_network(path: &Path) -> Result<Network> {
    let err = |message: String| Error::ModelFile { path: path.to_owned(), message };
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("json") => {
            let text = read_text(path, MAX_MODEL_BYTES)?;
            network_from_json_str(&text).map_err(err)
        }
        Some(other) => {
            Err(err(format!("unsupported model format '.{other}' (supported: .json; .onnx and .nnet are planned)")))
        }
        None => Err(err("the model file has no extension; expected .json".into())),
    }
}

/// Reads a UTF-8 text file of at most `limit` bytes, with errors that name the file.
pub(crate) fn read_text(path: &Path, limit: u64) -> Result<String> {
    let err = |message: String| Error::ModelFile { path: path.to_owned(), message };
    let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot read: {e}")))?;
    if meta.len() > limit {
        return Err(err(format!("file is {} bytes, more than the limit of {limit}", meta.len())));
    }
    let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|e| err(format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to())))
}
