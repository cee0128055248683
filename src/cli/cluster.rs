//! `count --workers/--hostfile`: the region walk on timely dataflow (`regionwalk::cluster`), with
//! what only a command line does: reading the host file and keeping standard output for the report.

use super::args::CountArgs;
use super::report::print_counted;
use anyhow::bail;
use regionwalk::cluster::Cluster;
use regionwalk::exact::regions_file::RegionWriter;
use regionwalk::problem::Problem;
use std::path::Path;
use std::process::ExitCode;

/// `count --workers/--hostfile`: the walk on timely dataflow. Process 0 reports; the others print
/// nothing. A failed peer (its connection lost) makes every process exit with an error.
pub(super) fn count_dataflow(args: CountArgs) -> anyhow::Result<ExitCode> {
    if args.linear {
        bail!("--linear needs the region graph, which the dataflow walk (--workers, --hostfile) does not record");
    }
    let processes = match (&args.cluster.hostfile, args.cluster.process) {
        (Some(file), Some(process)) => Some((process, read_hostfile(file)?)),
        _ => None,
    };
    let cluster = Cluster { workers: args.cluster.workers.unwrap_or(1), processes };
    if cluster.processes.is_some() {
        // timely's network threads panic when a peer's connection fails; without this the other
        // workers of this process would wait for that peer forever.
        std::panic::set_hook(Box::new(|info| {
            eprintln!(
                "error: the dataflow walk failed (a peer process died, its connection was lost, or it runs \
                 with another --workers): {info}"
            );
            std::process::exit(1);
        }));
    }
    let spec = args.domain.spec()?;
    let problem = spec.load(&args.model)?;
    // A progress bar for process 0 only (it counts this process's workers).
    let options = args.budget.walk_options(args.print.quiet || cluster.process() != 0)?;
    let gather = args.save_regions.is_some() || args.certify;
    // timely prints its connection progress ("awaiting connections", retries) on standard output,
    // where process 0's report goes: it goes to standard error while the cluster runs.
    let redirect = cluster.processes.is_some().then(StdoutToStderr::new);
    let walked = problem.walk_dataflow(&options, &cluster, args.budget.resume.as_deref(), gather);
    drop(redirect);
    let Some(result) = walked? else {
        return Ok(ExitCode::SUCCESS);
    };
    if let Some(path) = &args.save_regions {
        // Gathered on process 0, then written (the dataflow walk does not stream).
        let writer = RegionWriter::create(path)?;
        writer.write_all(&result.walk.regions, problem.net.graph_units())?;
        writer.finish()?;
    }
    let certificate = args.certify.then(|| problem.certify(&result.walk));
    let complete = result.walk.complete();
    if args.print.json {
        let mut report = problem.dataflow_report(&result);
        if let Some(c) = &certificate {
            report.count = Problem::certified(report.count, c);
        }
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_counted(&problem, &result.walk, result.regions);
        println!(
            "dataflow: {} process(es) x {} worker(s), shards {:?}, {} records ({} bytes) sent between processes",
            result.processes, result.workers, result.shards, result.remote_records, result.remote_bytes
        );
        if let (Some(_), Some(path)) = (result.walk.stopped_by(), &args.budget.checkpoint) {
            println!("state saved to {0}.w<worker>; continue with --resume {0}", path.display());
        }
        if let Some(c) = &certificate {
            println!("{} of {} regions certified in exact arithmetic", c.certified, result.regions);
        }
    }
    Ok(if complete { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

/// Reads a host file: one `host:port` per line, process 0 first (blank lines and `#` comments
/// ignored).
fn read_hostfile(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = regionwalk::model::io::read_text_file(path)?;
    let mut hosts = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let port = line.rsplit_once(':').map(|(_, p)| p.parse::<u16>());
        if !matches!(port, Some(Ok(p)) if p > 0) {
            bail!("{} line {}: {line:?} is not host:port (a port from 1 to 65535)", path.display(), n + 1);
        }
        hosts.push(line.to_string());
    }
    if hosts.is_empty() {
        bail!("{}: lists no host:port", path.display());
    }
    Ok(hosts)
}

/// While it lives, standard output goes to standard error: timely prints its connection progress
/// ("awaiting connections", retries) on standard output, where process 0's report goes.
struct StdoutToStderr {
    saved: i32,
}

impl StdoutToStderr {
    fn new() -> Self {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SAFETY: dup and dup2 on the process's own standard descriptors; failures leave them as they were.
        let saved = unsafe { libc::dup(1) };
        if saved >= 0 {
            unsafe { libc::dup2(2, 1) };
        }
        StdoutToStderr { saved }
    }
}

impl Drop for StdoutToStderr {
    fn drop(&mut self) {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        if self.saved >= 0 {
            // SAFETY: restores the descriptor saved in `new`.
            unsafe {
                libc::dup2(self.saved, 1);
                libc::close(self.saved);
            }
        }
    }
}
