//! The command line, in ripgrep's stages: [`args`] (what clap parses; the flag groups several
//! subcommands share are in [`flags`]) → [`job`] (validated options and domain, every flag checked
//! before a model is loaded) → the drivers ([`commands`], [`audit`], [`cluster`]) that run the
//! library → [`report`] (text; JSON comes from the library's reports).

mod args;
mod audit;
mod cluster;
mod commands;
mod flags;
mod job;
mod report;

use anyhow::{bail, Context};
pub use args::Cli;
use args::Command;
use indicatif::{ProgressBar, ProgressStyle};
use regionwalk::exact::{Progress, ProgressFn};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Runs the parsed command; returns the exit code for successful and budget-stopped runs.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Some(n) = cli.threads {
        if n == 0 {
            bail!("--threads must be at least 1");
        }
        rayon::ThreadPoolBuilder::new().num_threads(n).build_global().context("cannot start the thread pool")?;
    }
    match cli.command {
        Command::Count(args) => commands::count(args),
        Command::Bound(args) => commands::bound(args),
        Command::Validate(args) => commands::validate(args),
        Command::Estimate(args) => commands::estimate(args),
        Command::Eval(args) => commands::eval(args),
        Command::Graph(args) => commands::graph(args),
        Command::Plot(args) => commands::plot(args),
        Command::Audit(args) => audit::audit(args),
        Command::AuditCompare(args) => audit::audit_compare(args),
        Command::Bench(args) => commands::bench(args),
    }
}

/// Set by Ctrl-C: walks stop cleanly and print what they found.
pub(crate) fn interrupt_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let handler_flag = flag.clone();
        // If a handler cannot be installed, Ctrl-C keeps its default meaning.
        let _ = ctrlc::set_handler(move || handler_flag.store(true, Ordering::Relaxed));
        flag
    })
    .clone()
}

/// A spinner on stderr fed by the walk's progress callback (none when quiet or not a terminal),
/// drawn from the walk's first report and cleared when the walk returns.
pub(crate) fn progress_bar(quiet: bool) -> Option<ProgressFn> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = std::sync::OnceLock::new();
    Some(ProgressFn(Arc::new(move |p: Progress| {
        let bar = bar.get_or_init(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {pos} regions, {per_sec}, {elapsed} ({msg})")
                    .expect("valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        if p.finished {
            bar.finish_and_clear();
        } else {
            bar.set_position(p.regions as u64);
            bar.set_message(format!("frontier {}, {} LPs", p.frontier, p.lp_solves));
        }
    })))
}
