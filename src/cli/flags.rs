//! The flag groups that several subcommands share (flattened into them by clap), and the parsers of
//! single values. Nothing here loads a model or runs anything.

use clap::Args;
use regionwalk::bound::{BoundOptions, Method};
use regionwalk::domain::Norm;
use regionwalk::estimate::EstimateOptions;
use regionwalk::exact::{Engine, Identity, WalkOptions};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Debug)]
pub(super) struct BoundSettings {
    /// Bound methods to compute (repeatable; default: all).
    #[arg(long = "method", value_parser = parsed::<Method>)]
    pub(super) methods: Vec<Method>,
    /// Random points sampled for the certified lower bound.
    #[arg(long, default_value_t = BoundOptions::DEFAULT_SAMPLES)]
    pub(super) samples: usize,
    /// Hybrid: hidden layers enumerated exactly.
    #[arg(long, default_value_t = BoundOptions::DEFAULT_HYBRID_LAYERS)]
    pub(super) hybrid_layers: usize,
    /// Hybrid: region budget of the exact prefix; the hybrid bound is skipped beyond it.
    #[arg(long, default_value_t = BoundOptions::DEFAULT_HYBRID_MAX_REGIONS)]
    pub(super) hybrid_max_regions: usize,
    /// Seconds for the whole bound computation: the cheap methods always run, the expensive ones
    /// (walk, partition, hybrid) only in what is left, and are reported as skipped if it runs out
    /// (`inf`: no limit; walk then does not run).
    #[arg(long, default_value_t = BoundOptions::DEFAULT_BUDGET_SECONDS, value_parser = parse_budget)]
    pub(super) budget: f64,
}

/// How the statistical estimate is made: by `estimate`, and beside the bracket in `bound`,
/// `validate` and `audit`.
#[derive(Args, Debug)]
pub(super) struct EstimateSettings {
    /// Estimate: probes (random paths down the cut tree below its enumerated top); the interval
    /// narrows as 1/sqrt(probes).
    #[arg(long, default_value_t = EstimateOptions::DEFAULT_PROBES)]
    pub(super) probes: usize,
    /// Estimate: strata at most (nodes of the exactly enumerated top of the cut tree, each probed
    /// on its own); 1 for plain probes from the root.
    #[arg(long, default_value_t = EstimateOptions::DEFAULT_STRATA)]
    pub(super) strata: usize,
    /// Estimate: nodes each probe carries down the cut tree at once (1: Knuth's random path;
    /// more: one probe pools many paths, lower variance at about that many times the cost).
    #[arg(long, default_value_t = EstimateOptions::DEFAULT_WIDTH)]
    pub(super) width: usize,
    /// Estimate: coverage of the interval, between 0 and 1.
    #[arg(long, default_value_t = EstimateOptions::DEFAULT_CONFIDENCE)]
    pub(super) confidence: f64,
    /// Estimate: seed of the probes (the same seed gives the same estimate on any number of
    /// threads, unless a time limit stops the probes).
    #[arg(long, default_value_t = 0)]
    pub(super) seed: u64,
}

impl EstimateSettings {
    /// The library's options, checked, stopping at Ctrl-C and after `time_limit`.
    pub(super) fn options(&self, time_limit: Option<Duration>) -> regionwalk::Result<EstimateOptions> {
        let options = EstimateOptions {
            probes: self.probes,
            strata: self.strata,
            width: self.width,
            seed: self.seed,
            confidence: self.confidence,
            time_limit,
            interrupt: Some(super::interrupt_flag()),
        };
        options.check()?;
        Ok(options)
    }
}

/// The estimate beside a bracket (`bound`, `validate`): made when the bracket stays open.
#[derive(Args, Debug)]
pub(super) struct EstimateBeside {
    /// No statistical estimate beside the bracket (by default one is made, within the bounds'
    /// time budget again, when the bracket stays open: for `validate`, when the walk does not
    /// finish).
    #[arg(long)]
    pub(super) no_estimate: bool,
    #[command(flatten)]
    pub(super) settings: EstimateSettings,
}

impl EstimateBeside {
    /// The estimate's options within `time_limit`, checked; `None` with `--no-estimate`.
    pub(super) fn options(&self, time_limit: Option<Duration>) -> regionwalk::Result<Option<EstimateOptions>> {
        let options = self.settings.options(time_limit)?;
        Ok((!self.no_estimate).then_some(options))
    }
}

/// A budget in seconds, checked as the library checks it (`inf` for none).
pub(super) fn parse_budget(text: &str) -> Result<f64, String> {
    let seconds = text.trim().parse::<f64>().map_err(|_| format!("'{text}' is not a number of seconds (or inf)"))?;
    BoundOptions::budget_from_seconds(seconds).map(|_| seconds).map_err(|e| e.to_string())
}

/// A region budget, checked as the library checks it.
pub(super) fn parse_region_budget(text: &str) -> Result<usize, String> {
    let regions = text.trim().parse::<usize>().map_err(|_| format!("'{text}' is not a number of regions"))?;
    WalkOptions::region_budget(regions).map_err(|e| e.to_string())
}

/// A time limit in seconds, checked as the library checks it.
pub(super) fn parse_time_limit(text: &str) -> Result<Duration, String> {
    let seconds = text.trim().parse::<f64>().map_err(|_| format!("'{text}' is not a number of seconds"))?;
    WalkOptions::time_limit_from_seconds(seconds).map_err(|e| e.to_string())
}

/// A value of a type the library parses (norms, engines, methods), with the library's message.
pub(super) fn parsed<T: std::str::FromStr<Err = regionwalk::Error>>(text: &str) -> Result<T, String> {
    text.parse().map_err(|e: regionwalk::Error| e.to_string())
}

#[derive(Args, Debug)]
pub(super) struct Budget {
    /// Stop once this many regions are found (exit code 2; the count is then a lower bound).
    #[arg(long, value_parser = parse_region_budget)]
    pub(super) max_regions: Option<usize>,
    /// Stop after this many seconds (exit code 2; the count is then a lower bound).
    #[arg(long, value_parser = parse_time_limit, allow_hyphen_values = true)]
    pub(super) time_limit: Option<Duration>,
    /// Stop cleanly before the walk's estimated memory exceeds this (e.g. 500M, 4G; exit code 2).
    #[arg(long, value_parser = parse_bytes)]
    pub(super) max_memory: Option<u64>,
    /// Memory the walk's queue of regions to expand may hold before its newest part is written
    /// to disk (`$TMPDIR`; e.g. 16M, 1G; default 64M, or a quarter of --max-memory when that is
    /// less). Spilling changes neither the count nor the work.
    #[arg(long, value_parser = parse_bytes)]
    pub(super) frontier_memory: Option<u64>,
    /// Save the walk's state to this file when it stops early (budget or Ctrl-C) and every minute.
    #[arg(long)]
    pub(super) checkpoint: Option<PathBuf>,
    /// Answer every solver question with HiGHS (no dual least-norm solver): the reference path,
    /// for comparisons; counts are the same.
    #[arg(long, hide = true)]
    pub(super) highs_only: bool,
    /// Continue the walk saved in this checkpoint file (same model, domain and options).
    #[arg(long)]
    pub(super) resume: Option<PathBuf>,
    /// Exact method: `auto` partitions boxes of up to 8 inputs, lists the whole space of a network
    /// with one hidden layer as a hyperplane arrangement, and walks otherwise; `walk`,
    /// `partition` and `arrangement` force one (the count is the same).
    #[arg(long, value_parser = parsed::<Engine>, default_value = "auto")]
    pub(super) engine: Engine,
    /// How the walk tells regions apart: `patterns` (exact, a pattern's bits per region),
    /// `fingerprints` (16 bytes per region; the report bounds the chance of a dropped region,
    /// 1.5e-25 at 10^7 regions), `auto` (patterns up to 1024 neurons, fingerprints above).
    /// --certify keeps exact patterns.
    #[arg(long, value_parser = parsed::<Identity>, default_value = "auto")]
    pub(super) visited: Identity,
}

pub(super) fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = t.find(|c: char| c.is_ascii_alphabetic()).map_or((t, ""), |i| t.split_at(i));
    let factor: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" => 1 << 10,
        "M" | "MB" => 1 << 20,
        "G" | "GB" => 1 << 30,
        other => return Err(format!("unknown unit '{other}' (use K, M or G)")),
    };
    let value: f64 = digits.trim().parse().map_err(|_| format!("'{text}' is not a size"))?;
    if !(value > 0.0 && value.is_finite()) {
        return Err(format!("'{text}' must be positive"));
    }
    Ok((value * factor as f64) as u64)
}

#[derive(Args, Debug)]
pub(super) struct ModelArgs {
    /// Model file: .json, .onnx or .nnet.
    pub(super) model: PathBuf,
    /// .nnet only: fold the header's normalisation into layer 1, so that points and the input box are
    /// in raw input units (default: normalised units, as the weights and VNN-COMP boxes are written).
    #[arg(long)]
    pub(super) raw_units: bool,
}

#[derive(Args, Debug)]
pub(super) struct DomainArgs {
    /// Centre of the ball: comma-separated numbers (use `--center=-1,2` for a leading minus), a
    /// .json/.csv/.npy file holding one point, or a .vnnlib file: its input box is the domain (or,
    /// with --radius, the ball is centred at the box's midpoint).
    #[arg(long, alias = "centre")]
    pub(super) center: Option<String>,
    /// Radius of the ball (> 0).
    #[arg(long)]
    pub(super) radius: Option<f64>,
    /// Norm of the ball: l2 (Euclidean, default) or linf (a cube).
    #[arg(long, value_parser = parsed::<Norm>, default_value = "l2")]
    pub(super) norm: Norm,
    /// Box domain instead of a ball: `--box LO,HI` once for every coordinate, or once for all.
    #[arg(long = "box", value_name = "LO,HI", allow_hyphen_values = true)]
    pub(super) boxes: Vec<String>,
    /// Use the model's own input box as the domain.
    #[arg(long, conflicts_with_all = ["boxes", "whole"])]
    pub(super) input_box: bool,
    /// Count every region of the whole input space (small networks only).
    #[arg(long, conflicts_with_all = ["boxes", "center", "radius"])]
    pub(super) whole: bool,
    /// Intersect the ball with the model's input box.
    #[arg(long)]
    pub(super) clip_to_input_box: bool,
}

/// How a count is printed.
#[derive(Args, Debug)]
pub(super) struct Printing {
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub(super) json: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub(super) quiet: bool,
}

/// The dataflow walk (timely): worker threads and processes.
#[derive(Args, Debug)]
pub(super) struct ClusterArgs {
    /// Walk on timely dataflow with this many worker threads (in each process with --hostfile);
    /// patterns are sharded by hash over all workers. The count is the same as the single walk's.
    #[arg(long, value_name = "W")]
    pub(super) workers: Option<usize>,
    /// Walk over several processes: a file listing `host:port`, one line per process, process 0
    /// first. Start every process with the same arguments and its own --process; process 0
    /// prints the result. With --checkpoint/--resume FILE each worker keeps FILE.w<worker>.
    #[arg(long, value_name = "FILE", requires = "process")]
    pub(super) hostfile: Option<PathBuf>,
    /// This process's index (0-based line) in --hostfile.
    #[arg(long, value_name = "I", requires = "hostfile")]
    pub(super) process: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_units_and_refuse_nonsense() {
        assert_eq!(parse_bytes("512"), Ok(512));
        assert_eq!(parse_bytes("2K"), Ok(2048));
        assert_eq!(parse_bytes("1.5M"), Ok(3 << 19));
        assert_eq!(parse_bytes("4gb"), Ok(4 << 30));
        for bad in ["", "0", "-1G", "2T", "G", "nanM", "infK"] {
            assert!(parse_bytes(bad).is_err(), "{bad:?} accepted");
        }
    }
}
