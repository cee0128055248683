//! The walk on timely dataflow (`cluster`, `count --workers/--hostfile`) against the
//! single walk: the same count and the same set of patterns on random, degenerate and fixture
//! networks with 1 process × 1 worker, 1 × 2 and 2 processes × 1 worker on loopback; budgets that
//! stop every worker and process with a certified lower bound; checkpoints per worker that resume
//! to the full count; a killed process that makes its peer exit with an error, not hang.
//! Every cluster here listens on 127.0.0.1 only.

mod common;

use common::{patterns, random_case_up_to, theory_fixtures, Scratch};
use regionwalk::cluster::{walk_dataflow, Cluster, DataflowResult};
use regionwalk::domain::{Domain, Norm};
use regionwalk::exact::{count, Engine, StopReason, WalkOptions, WalkResult};
use regionwalk::model::io::{load_network, network_to_json};
use regionwalk::model::{Network, Pattern};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const ACAS: &str = "fixtures/acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx";
const ACAS_CENTER: &str = "--center=0.1,0.1,0.1,0.1,0.1";

fn single(net: &Network, domain: &Domain) -> WalkResult {
    let r = count(net, domain, &WalkOptions { engine: Engine::Walk, ..Default::default() }).unwrap();
    assert!(r.complete(), "{} regions dropped", r.unverified);
    r
}

fn on_workers(net: &Network, domain: &Domain, options: &WalkOptions, workers: usize) -> DataflowResult {
    walk_dataflow(net, domain, options, &Cluster::local(workers), None, true).unwrap().expect("one process: process 0")
}

/// Every witness lies inside the domain and shows its region's pattern.
fn check_witnesses(net: &Network, r: &DataflowResult, what: &str) {
    for region in &r.walk.regions {
        if let Some(x) = &region.witness {
            assert_eq!(
                net.interior_pattern(x).as_ref(),
                Some(&region.pattern),
                "{what}: witness shows another pattern"
            );
        }
    }
}

#[test]
fn workers_find_the_walks_regions_on_random_degenerate_and_fixture_networks() {
    let mut cases: Vec<(String, Network, Domain)> = Vec::new();
    for seed in 0..120u64 {
        let case = random_case_up_to(seed, 8);
        let norm = if seed % 2 == 0 { Norm::L2 } else { Norm::Linf };
        let domain = Domain::ball(&case.center, case.radius, norm).unwrap();
        cases.push((format!("seed {seed} ({}, {norm:?})", case.description), case.net, domain));
    }
    for f in theory_fixtures() {
        let domain = Domain::ball(&f.center, f.radius, Norm::L2).unwrap();
        cases.push((f.name.to_string(), f.net, domain));
    }
    let acas = load_network(Path::new(ACAS)).unwrap();
    cases.push(("ACAS Xu 1_1".into(), acas, Domain::ball(&[0.1; 5], 0.05, Norm::L2).unwrap()));
    let (mut regions, mut balanced) = (0, 0);
    for (what, net, domain) in &cases {
        let reference = single(net, domain);
        for workers in [1, 2] {
            let r = on_workers(net, domain, &WalkOptions::default(), workers);
            assert!(r.walk.stopped_by().is_none(), "{what}: {workers} workers");
            assert_eq!(r.walk.complete(), reference.complete(), "{what}: {workers} workers");
            assert_eq!(r.walk.unverified, reference.unverified, "{what}: {workers} workers");
            assert_eq!(r.regions, reference.count(), "{what}: {workers} workers");
            assert_eq!(patterns(&r.walk), patterns(&reference), "{what}: {workers} workers, another set of patterns");
            assert_eq!(r.shards.len(), workers);
            assert_eq!(r.shards.iter().sum::<usize>(), r.regions);
            check_witnesses(net, &r, what);
            balanced += usize::from(workers == 2 && r.shards.iter().all(|&s| s > 0));
        }
        regions += reference.count();
    }
    assert!(regions > 1500, "the cases hold {regions} regions");
    // Hash sharding puts regions on both workers whenever there are a few.
    assert!(balanced > cases.len() / 2, "{balanced} of {} cases used both workers", cases.len());
}

#[test]
fn budgets_stop_every_worker_with_a_certified_lower_bound() {
    let net = load_network(Path::new(ACAS)).unwrap();
    let domain = Domain::ball(&[0.1; 5], 0.1, Norm::L2).unwrap();
    let full: BTreeSet<Pattern> = patterns(&single(&net, &domain)).into_iter().collect();
    let subset = |r: &WalkResult| patterns(r).iter().all(|p| full.contains(p));
    let capped = on_workers(&net, &domain, &WalkOptions { max_regions: Some(500), ..Default::default() }, 2);
    assert_eq!(capped.walk.stopped_by(), Some(StopReason::MaxRegions));
    assert!(capped.regions >= 500 && capped.regions < full.len(), "{} regions", capped.regions);
    assert!(subset(&capped.walk));
    let timed = WalkOptions { time_limit: Some(Duration::from_millis(50)), ..Default::default() };
    let started = Instant::now();
    let stopped = on_workers(&net, &domain, &timed, 2);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(stopped.walk.stopped_by(), Some(StopReason::TimeLimit));
    assert!(stopped.regions < full.len() && subset(&stopped.walk));
}

#[test]
fn progress_counts_the_processs_workers_together() {
    use regionwalk::exact::{Progress, ProgressFn};
    use std::sync::{Arc, Mutex};
    let net = load_network(Path::new(ACAS)).unwrap();
    let domain = Domain::ball(&[0.1; 5], 0.08, Norm::L2).unwrap();
    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let log = seen.clone();
    let progress = Some(ProgressFn(Arc::new(move |p| log.lock().unwrap().push(p))));
    let r = on_workers(&net, &domain, &WalkOptions { progress, ..Default::default() }, 2);
    let seen = seen.lock().unwrap();
    let last = seen.last().expect("progress was reported");
    assert!(last.finished && seen.iter().filter(|p| p.finished).count() == 1);
    // Regions found before the uncertified ones are dropped: at least the count.
    assert!(last.regions >= r.regions && last.regions <= r.regions + r.walk.unverified as usize);
    assert_eq!(last.frontier, 0);
    assert!(seen.len() > 2, "{} progress calls", seen.len());
}

#[test]
fn worker_checkpoints_resume_to_the_full_count() {
    let net = load_network(Path::new(ACAS)).unwrap();
    let domain = Domain::ball(&[0.1; 5], 0.1, Norm::L2).unwrap();
    let full = patterns(&single(&net, &domain));
    let dir = Scratch::new("resume");
    let path = dir.join("walk");
    let options = WalkOptions { max_regions: Some(1000), checkpoint: Some(path.clone()), ..Default::default() };
    let first = on_workers(&net, &domain, &options, 2);
    assert!(!first.walk.complete() && first.regions < full.len());
    for w in 0..2 {
        assert!(regionwalk::cluster::shard_path(&path, w).exists(), "no checkpoint for worker {w}");
    }
    let resumed =
        walk_dataflow(&net, &domain, &WalkOptions::default(), &Cluster::local(2), Some(&path), true).unwrap().unwrap();
    assert!(resumed.walk.complete());
    assert_eq!(patterns(&resumed.walk), full);
    // Another cluster shape cannot take these shards.
    let err = walk_dataflow(&net, &domain, &WalkOptions::default(), &Cluster::local(1), Some(&path), true).unwrap_err();
    assert!(err.to_string().contains("worker 0 of 2"), "{err}");
}

// ---- Several processes on loopback, through the CLI ----

/// A host file for `n` processes on free loopback ports.
fn hostfile(dir: &Path, n: usize) -> PathBuf {
    let listeners: Vec<_> = (0..n).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    let text: String = listeners.iter().map(|l| format!("127.0.0.1:{}\n", l.local_addr().unwrap().port())).collect();
    let path = dir.join("hosts");
    std::fs::write(&path, text).unwrap();
    path
}

fn spawn(args: &[String]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_regionwalk"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `child` at most `limit`; kills it and fails the test if it takes longer.
fn finish(mut child: Child, limit: Duration, what: &str) -> Output {
    let until = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > until {
            child.kill().unwrap();
            panic!("{what}: still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// The processes of one cluster, killed when it is dropped (a failing test included), so that
/// none outlives the test.
struct Running(Vec<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Running {
    /// Each process's output, in process order ([`finish`] for each).
    fn outputs(mut self, limit: Duration, what: &str) -> Vec<Output> {
        let mut outputs = Vec::new();
        while !self.0.is_empty() {
            outputs.push(finish(self.0.remove(0), limit, what));
        }
        outputs
    }
}

/// Starts `processes` processes of `count args… --hostfile --process i` (process 0 first).
fn start_cluster(args: &[String], dir: &Path, processes: usize) -> Running {
    start_processes(&vec![args.to_vec(); processes], dir)
}

/// Starts one process per entry of `args` (`count args[i]… --hostfile --process i`), process 0 first.
fn start_processes(args: &[Vec<String>], dir: &Path) -> Running {
    let hosts = hostfile(dir, args.len());
    Running(
        args.iter()
            .enumerate()
            .map(|(i, args)| {
                let mut a = args.to_vec();
                a.extend(["--hostfile".into(), hosts.display().to_string(), "--process".into(), i.to_string()]);
                spawn(&a)
            })
            .collect(),
    )
}

fn count_args(model: &str, domain: &[&str], extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = ["count", model, "-q", "--json"].iter().map(|s| s.to_string()).collect();
    a.extend(domain.iter().chain(extra).map(|s| s.to_string()));
    a
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

/// The patterns of a `--save-regions` file (the walk streams it; process 0 of a dataflow walk
/// writes what it gathered), checked to hold no pattern twice.
fn saved_patterns(path: &Path) -> BTreeSet<String> {
    let regions = regionwalk::exact::regions_file::read_regions(path).unwrap();
    let set: BTreeSet<String> = regions.iter().map(|r| format!("{:?}", r.pattern)).collect();
    assert_eq!(set.len(), regions.len(), "{}: a pattern saved twice", path.display());
    set
}

#[test]
fn two_processes_on_loopback_find_the_walks_regions() {
    let dir = Scratch::new("two");
    let mut problems: Vec<(String, Vec<String>)> = Vec::new();
    for seed in [3u64, 8, 21, 34, 55, 89] {
        let case = random_case_up_to(seed, 6);
        let model = dir.join(format!("net{seed}.json"));
        std::fs::write(&model, network_to_json(&case.net)).unwrap();
        let center = case.center.iter().map(f64::to_string).collect::<Vec<_>>().join(",");
        let norm = if seed % 2 == 0 { "l2" } else { "linf" };
        let domain = vec![format!("--center={center}"), format!("--radius={}", case.radius), format!("--norm={norm}")];
        problems.push((model.display().to_string(), domain));
    }
    problems.push((ACAS.into(), vec![ACAS_CENTER.into(), "--radius=0.1".into()]));
    for (model, domain) in &problems {
        let domain: Vec<&str> = domain.iter().map(String::as_str).collect();
        let what = format!("{model} {domain:?}");
        let alone = dir.join("alone.json");
        let out = finish(
            spawn(&count_args(model, &domain, &["--engine", "walk", "--save-regions", alone.to_str().unwrap()])),
            Duration::from_secs(60),
            &what,
        );
        assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
        let expected = json(&out)["regions"].as_u64().unwrap();
        let together = dir.join("together.json");
        let args = count_args(model, &domain, &["--save-regions", together.to_str().unwrap()]);
        let outs = start_cluster(&args, &dir, 2).outputs(Duration::from_secs(60), &what);
        let (out0, out1) = (&outs[0], &outs[1]);
        assert!(out0.status.success() && out1.status.success(), "{what}: {}", String::from_utf8_lossy(&out0.stderr));
        assert!(out1.stdout.is_empty(), "{what}: process 1 printed {}", String::from_utf8_lossy(&out1.stdout));
        let report = json(out0);
        assert_eq!(report["regions"].as_u64(), Some(expected), "{what}");
        assert_eq!((report["processes"].as_u64(), report["workers"].as_u64()), (Some(2), Some(1)), "{what}");
        assert_eq!(report["complete"], true);
        assert_eq!(saved_patterns(&together), saved_patterns(&alone), "{what}: another set of patterns");
        if expected > 100 {
            assert!(report["remote_records"].as_u64().unwrap() > 0, "{what}: no record crossed processes");
        }
    }
}

#[test]
fn a_time_limit_stops_both_processes_and_their_checkpoints_resume_the_full_count() {
    let dir = Scratch::new("limit");
    let domain = [ACAS_CENTER, "--radius=0.12"];
    let alone = dir.join("alone.json");
    let out = spawn(&count_args(ACAS, &domain, &["--engine", "walk", "--save-regions", alone.to_str().unwrap()]));
    let out = finish(out, Duration::from_secs(120), "single walk");
    let full = json(&out)["regions"].as_u64().unwrap();
    let checkpoint = dir.join("ck");
    let ck = checkpoint.to_str().unwrap();
    let started = Instant::now();
    // The shards keep their regions to gather them (`--save-regions`), so their checkpoints can list
    // them when resumed with `--save-regions`.
    let first = dir.join("first.json");
    let first_args = ["--time-limit", "0.3", "--checkpoint", ck, "--save-regions", first.to_str().unwrap()];
    let limited = start_cluster(&count_args(ACAS, &domain, &first_args), &dir, 2);
    let outs = limited.outputs(Duration::from_secs(30), "limited");
    assert!(started.elapsed() < Duration::from_secs(20), "the time limit did not stop the processes");
    assert_eq!(outs[0].status.code(), Some(2), "{}", String::from_utf8_lossy(&outs[0].stderr));
    let partial = json(&outs[0]);
    assert_eq!(partial["stopped_by"], "time_limit");
    let lower = partial["regions"].as_u64().unwrap();
    assert!(lower > 0 && lower < full, "lower bound {lower}, count {full}");
    assert!(outs[1].status.success() && outs[1].stdout.is_empty());
    let together = dir.join("together.json");
    let args = count_args(ACAS, &domain, &["--resume", ck, "--save-regions", together.to_str().unwrap()]);
    let outs = start_cluster(&args, &dir, 2).outputs(Duration::from_secs(120), "resumed");
    assert!(outs[0].status.success(), "{}", String::from_utf8_lossy(&outs[0].stderr));
    assert_eq!(json(&outs[0])["regions"].as_u64(), Some(full));
    assert_eq!(saved_patterns(&together), saved_patterns(&alone));
    // A shard checkpoint of a count only cannot give the regions found before it.
    let plain = dir.join("plain");
    let limited = start_cluster(
        &count_args(ACAS, &domain, &["--time-limit", "0.3", "--checkpoint", plain.to_str().unwrap()]),
        &dir,
        2,
    );
    limited.outputs(Duration::from_secs(30), "limited count");
    let args =
        count_args(ACAS, &domain, &["--resume", plain.to_str().unwrap(), "--save-regions", together.to_str().unwrap()]);
    let outs = start_cluster(&args, &dir, 2).outputs(Duration::from_secs(120), "refused");
    assert_eq!(outs[0].status.code(), Some(1));
    assert!(String::from_utf8_lossy(&outs[0].stderr).contains("kept no region list"));
}

#[test]
fn a_killed_process_makes_its_peer_exit_with_an_error() {
    let dir = Scratch::new("kill");
    // About a minute of work for two processes: far longer than the test waits.
    let args = count_args(ACAS, &[ACAS_CENTER, "--radius=0.2"], &[]);
    for victim in [1usize, 0] {
        let mut running = start_cluster(&args, &dir, 2);
        std::thread::sleep(Duration::from_millis(1500));
        assert!(running.0.iter_mut().all(|c| c.try_wait().unwrap().is_none()), "the walk ended too soon");
        running.0[victim].kill().unwrap();
        running.0[victim].wait().unwrap();
        let survivor = running.0.remove(1 - victim);
        let started = Instant::now();
        let out = finish(survivor, Duration::from_secs(20), "survivor");
        assert!(!out.status.success(), "process {} exited successfully", 1 - victim);
        assert!(started.elapsed() < Duration::from_secs(20));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("dataflow walk failed"), "{stderr}");
    }
}

#[test]
fn cluster_arguments_are_checked() {
    let dir = Scratch::new("args");
    let run = |extra: &[&str]| {
        let out =
            finish(spawn(&count_args(ACAS, &[ACAS_CENTER, "--radius=0.01"], extra)), Duration::from_secs(30), "args");
        assert!(!out.status.success(), "{extra:?} accepted");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let hosts = hostfile(&dir, 2);
    let hosts = hosts.to_str().unwrap();
    assert!(run(&["--hostfile", hosts, "--process", "2"]).contains("out of range"));
    assert!(run(&["--workers", "0"]).contains("at least 1"));
    assert!(run(&["--workers", "2", "--linear"]).contains("--linear"));
    let bad = dir.join("bad");
    std::fs::write(&bad, "127.0.0.1:2000\nlocalhost\n").unwrap();
    assert!(run(&["--hostfile", bad.to_str().unwrap(), "--process", "0"]).contains("line 2"));
    assert!(run(&["--hostfile", hosts]).contains("--process"));
}

#[test]
fn processes_started_on_different_jobs_refuse_to_count() {
    let dir = Scratch::new("jobs");
    let other_model = "fixtures/acasxu/onnx/ACASXU_run2a_1_9_batch_2000.onnx";
    let base = count_args(ACAS, &[ACAS_CENTER, "--radius=0.05"], &[]);
    // (what process 1 runs instead, the part every process must name)
    let peers: Vec<(Vec<String>, &str)> = vec![
        (count_args(ACAS, &[ACAS_CENTER, "--radius=0.06"], &[]), "domain"),
        (count_args(other_model, &[ACAS_CENTER, "--radius=0.05"], &[]), "model"),
        (count_args(ACAS, &[ACAS_CENTER, "--radius=0.05"], &["--max-regions", "1000"]), "options"),
    ];
    for (peer, part) in &peers {
        let outs = start_processes(&[base.clone(), peer.clone()], &dir).outputs(Duration::from_secs(30), part);
        for (i, out) in outs.iter().enumerate() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "process {i} with a peer differing in its {part}: {stderr}");
            assert!(out.stdout.is_empty(), "process {i} counted: {}", String::from_utf8_lossy(&out.stdout));
            assert!(
                stderr.contains("different jobs") && stderr.contains(&format!("in its {part}")),
                "process {i}, {part}: {stderr}"
            );
        }
    }
    // Another worker count breaks timely's routing before any job is compared: both processes
    // still stop with an error that names the likely cause, and count nothing.
    let more_workers = count_args(ACAS, &[ACAS_CENTER, "--radius=0.05"], &["--workers", "2"]);
    let outs = start_processes(&[base, more_workers], &dir).outputs(Duration::from_secs(30), "workers");
    for (i, out) in outs.iter().enumerate() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "process {i}: {stderr}");
        assert!(out.stdout.is_empty() && stderr.contains("another --workers"), "process {i}: {stderr}");
    }
}
