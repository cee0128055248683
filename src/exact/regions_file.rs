//! Region files (`count --save-regions`): JSON Lines, one region per line,
//! `{"pattern": "0110…", "witness": [x₀, …] | null, "inradius": r | null}`, in the order the count
//! found them; the pattern is that of the model's own ReLUs (a graph's carrying units left out,
//! [`GraphUnits`]). The walk streams them as it certifies each region ([`RegionWriter::sink`]), so
//! that a count of millions of regions never holds them all. `regionwalk.read_regions` reads them
//! in Python; [`read_regions`] in Rust.

use super::result::{Region, RegionSink};
use crate::model::GraphUnits;
use crate::{Error, Result};
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A region file being written.
pub struct RegionWriter {
    path: PathBuf,
    out: Arc<Mutex<Lines>>,
}

struct Lines {
    file: BufWriter<std::fs::File>,
    written: u64,
}

impl RegionWriter {
    /// Creates (or truncates) the file at `path`.
    pub fn create(path: &Path) -> Result<Self> {
        let file = std::fs::File::create(path).map_err(|e| Error::output(path, e))?;
        Ok(RegionWriter {
            path: path.to_owned(),
            out: Arc::new(Mutex::new(Lines { file: BufWriter::new(file), written: 0 })),
        })
    }

    /// A sink writing each region it gets as one line, its pattern that of the model's own ReLUs
    /// (`units`: a graph's carrying units left out).
    pub fn sink(&self, units: GraphUnits) -> RegionSink {
        let (out, path) = (self.out.clone(), self.path.clone());
        RegionSink(Arc::new(move |_, region: &Region| {
            let shown;
            let region = if units.has_carrying() {
                shown = Region { pattern: units.pattern(&region.pattern), ..region.clone() };
                &shown
            } else {
                region
            };
            let mut lines = out.lock().map_err(|_| Error::Internal("a region writer's lock was poisoned".into()))?;
            serde_json::to_writer(&mut lines.file, region)
                .map_err(std::io::Error::from)
                .and_then(|_| lines.file.write_all(b"\n"))
                .map_err(|e| Error::output(&path, e))?;
            lines.written += 1;
            Ok(())
        }))
    }

    /// Writes every region of `regions` (a list held in memory: the dataflow walk's gathered one).
    pub fn write_all(&self, regions: &[Region], units: &GraphUnits) -> Result<()> {
        let sink = self.sink(units.clone());
        regions.iter().enumerate().try_for_each(|(i, r)| (sink.0)(i, r))
    }

    /// Flushes the file; returns the number of regions written.
    pub fn finish(self) -> Result<u64> {
        let mut lines = self.out.lock().map_err(|_| Error::Internal("a region writer's lock was poisoned".into()))?;
        lines.file.flush().map_err(|e| Error::output(&self.path, e))?;
        Ok(lines.written)
    }
}

/// Reads a region file written by [`RegionWriter`].
pub fn read_regions(path: &Path) -> Result<Vec<Region>> {
    let file = std::fs::File::open(path).map_err(|e| Error::model_file(path, format!("cannot read: {e}")))?;
    std::io::BufReader::new(file)
        .lines()
        .enumerate()
        .filter(|(_, line)| line.as_ref().map_or(true, |l| !l.trim().is_empty()))
        .map(|(n, line)| {
            let line = line.map_err(|e| Error::model_file(path, format!("cannot read: {e}")))?;
            serde_json::from_str(&line).map_err(|e| Error::model_file(path, format!("line {}: {e}", n + 1)))
        })
        .collect()
}
