//! The walk's frontier: regions found but not yet expanded, first in first out, each with its
//! pattern and the way it was entered. Past a memory budget the newest part is written to disk in
//! segments and read back, in order, when the walk reaches it: the order, the regions found and the
//! solver work are the same as in memory.

use super::expand::{Entry, SpilledEntry};
use crate::model::packed;
use crate::model::Pattern;
use crate::Result;
use std::collections::VecDeque;
use std::io::{BufReader, BufWriter, Write};

/// Regions expanded between two budget checks (and merges of the visited set).
pub(crate) const CHUNK: usize = 64;

/// One queued region: its number, its pattern and the way in, if known.
pub(crate) type Item = (usize, Pattern, Option<Entry>);

/// A queued region as a spill segment stores it.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    index: usize,
    #[serde(with = "packed")]
    pattern: Pattern,
    entry: Option<SpilledEntry>,
}

/// Regions found but not yet expanded, in order: `head` (taken first), then the spilled segments
/// (oldest first), then `tail` (where new regions arrive).
pub(crate) struct Frontier {
    head: VecDeque<Item>,
    segments: VecDeque<Segment>,
    tail: Vec<Item>,
    /// Bytes of `head` and `tail` (estimated: patterns and entries), and of `tail` alone.
    bytes: u64,
    tail_bytes: u64,
    /// Bytes the frontier may hold in memory before it spills.
    budget: u64,
    /// Where segments go (created on the first spill).
    dir: Option<tempfile::TempDir>,
    spilled: Spilled,
}

/// A segment on disk.
struct Segment {
    path: std::path::PathBuf,
    len: usize,
}

/// What spilling wrote, for the report.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Spilled {
    /// Regions written to disk (a region read back and spilled again counts twice).
    pub(crate) regions: u64,
    /// Bytes written.
    pub(crate) bytes: u64,
}

impl Frontier {
    /// A frontier holding `items` that spills past `budget` bytes in memory.
    pub(crate) fn new(items: Vec<Item>, budget: u64) -> Self {
        let mut f = Frontier {
            head: VecDeque::new(),
            segments: VecDeque::new(),
            tail: Vec::new(),
            bytes: 0,
            tail_bytes: 0,
            budget,
            dir: None,
            spilled: Spilled::default(),
        };
        f.bytes = items.iter().map(item_bytes).sum();
        f.head = items.into();
        f
    }

    /// Queues a region; spills the newest part to disk if the frontier is over its budget.
    pub(crate) fn push(&mut self, item: Item) -> Result<()> {
        let bytes = item_bytes(&item);
        self.bytes += bytes;
        self.tail_bytes += bytes;
        self.tail.push(item);
        // Spill the tail once it is a quarter of the budget and the whole is over it, so that
        // segments are large and few (the head holds what is expanded next).
        if self.bytes > self.budget && 4 * self.tail_bytes >= self.budget {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> Result<()> {
        let dir = match &self.dir {
            Some(d) => d,
            None => self.dir.insert(
                tempfile::Builder::new()
                    .prefix("regionwalk-frontier")
                    .tempdir()
                    .map_err(|e| spill_error(&std::env::temp_dir(), "cannot create a spill directory", e))?,
            ),
        };
        let path = dir.path().join(format!("segment-{}", self.spilled.regions));
        let tail = std::mem::take(&mut self.tail);
        let len = tail.len();
        let written = std::mem::take(&mut self.tail_bytes);
        let stored: Vec<Stored> = tail
            .into_iter()
            .map(|(index, pattern, entry)| Stored { index, pattern, entry: entry.as_ref().map(Entry::spilled) })
            .collect();
        let failed = |e| spill_error(&path, "cannot spill the frontier", e);
        let mut out = BufWriter::new(std::fs::File::create(&path).map_err(failed)?);
        bincode::serialize_into(&mut out, &stored).map_err(|e| failed(std::io::Error::other(e.to_string())))?;
        out.flush().map_err(failed)?;
        self.bytes -= written;
        self.spilled.regions += len as u64;
        self.spilled.bytes += std::fs::metadata(&path).map_or(0, |m| m.len());
        self.segments.push_back(Segment { path, len });
        Ok(())
    }

    /// Reads a spilled segment back.
    fn read(segment: &Segment) -> Result<Vec<Item>> {
        let read_error = |e| spill_error(&segment.path, "cannot read back the spilled frontier", e);
        let file = std::fs::File::open(&segment.path).map_err(read_error)?;
        let stored: Vec<Stored> = bincode::deserialize_from(BufReader::new(file))
            .map_err(|e| read_error(std::io::Error::other(e.to_string())))?;
        Ok(stored.into_iter().map(|s| (s.index, s.pattern, s.entry.map(Entry::from))).collect())
    }

    /// The next chunk to expand: the first [`CHUNK`] regions queued (all, if fewer), whether in
    /// memory or on disk, so that chunks are the same as without spilling.
    pub(crate) fn take_chunk(&mut self) -> Result<Vec<Item>> {
        let mut chunk: Vec<Item> = Vec::with_capacity(CHUNK);
        while chunk.len() < CHUNK {
            if self.head.is_empty() {
                match self.segments.pop_front() {
                    Some(segment) => {
                        let items = Self::read(&segment)?;
                        // The segment is consumed; a failed removal only leaves a file in the
                        // temporary directory, which is removed with it.
                        let _ = std::fs::remove_file(&segment.path);
                        self.bytes += items.iter().map(item_bytes).sum::<u64>();
                        self.head = items.into();
                    }
                    None if self.tail.is_empty() => break,
                    None => {
                        self.tail_bytes = 0;
                        self.head = std::mem::take(&mut self.tail).into();
                    }
                }
            }
            let n = (CHUNK - chunk.len()).min(self.head.len());
            chunk.extend(self.head.drain(..n));
        }
        self.bytes -= chunk.iter().map(item_bytes).sum::<u64>();
        Ok(chunk)
    }

    /// Puts regions a budget interrupted back at the front, in their order.
    pub(crate) fn put_back(&mut self, items: Vec<Item>) {
        for item in items.into_iter().rev() {
            self.bytes += item_bytes(&item);
            self.head.push_front(item);
        }
    }

    /// Regions queued, in memory and on disk.
    pub(crate) fn len(&self) -> usize {
        self.head.len() + self.segments.iter().map(|s| s.len).sum::<usize>() + self.tail.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The queued regions in order, numbers and patterns (what a checkpoint keeps; spilled
    /// segments are read back one at a time).
    pub(crate) fn queued(&self) -> Result<Vec<(usize, Pattern)>> {
        let mut out: Vec<(usize, Pattern)> = self.head.iter().map(|(i, p, _)| (*i, p.clone())).collect();
        for segment in &self.segments {
            out.extend(Self::read(segment)?.into_iter().map(|(i, p, _)| (i, p)));
        }
        out.extend(self.tail.iter().map(|(i, p, _)| (*i, p.clone())));
        Ok(out)
    }

    /// What spilling has written so far.
    pub(crate) fn spilled(&self) -> Spilled {
        self.spilled
    }

    /// Bytes it may hold in memory before it spills.
    pub(crate) fn budget(&self) -> u64 {
        self.budget
    }
}

fn spill_error(path: &std::path::Path, message: &str, source: std::io::Error) -> crate::Error {
    crate::Error::Output { path: path.to_owned(), message: format!("{message}: {source}"), source: Some(source) }
}

/// Estimated bytes of a queued region in memory: the pattern's words and the entry (points and
/// refutation hints), with their headers.
fn item_bytes(item: &Item) -> u64 {
    let (_, pattern, entry) = item;
    (8 * pattern.words().len() + 64 + entry.as_ref().map_or(0, Entry::held_bytes)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(i: usize) -> Item {
        let mut p = Pattern::zeros(200);
        p.set(i % 200, true);
        (i, p, None)
    }

    #[test]
    fn a_spilling_frontier_gives_the_same_order_as_one_in_memory() {
        for budget in [0, 300, 5_000, u64::MAX] {
            let mut f = Frontier::new(vec![item(0), item(1)], budget);
            let mut seen = Vec::new();
            let mut next = 2;
            while !f.is_empty() {
                let chunk = f.take_chunk().unwrap();
                // Interrupt the last region of every third chunk, as a budget would.
                let interrupt = next % 3 == 0 && chunk.len() > 1;
                let (done, back) = if interrupt { chunk.split_at(chunk.len() - 1) } else { (&chunk[..], &[][..]) };
                seen.extend(done.iter().map(|(i, _, _)| *i));
                f.put_back(back.to_vec());
                for _ in 0..done.len() * 2 {
                    if next < 2000 {
                        f.push(item(next)).unwrap();
                        next += 1;
                    }
                }
                assert_eq!(f.queued().unwrap().iter().map(|(i, _)| *i).collect::<Vec<_>>(), {
                    let start = seen.len();
                    (start..next).collect::<Vec<_>>()
                });
            }
            assert_eq!(seen, (0..2000).collect::<Vec<_>>(), "budget {budget}");
            assert_eq!(f.spilled().regions > 0, budget < u64::MAX, "budget {budget}");
        }
    }
}
