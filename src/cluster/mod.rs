//! The region walk on timely dataflow (docs/exact.md, "The walk on many workers"): one walk over
//! worker threads and processes, for walks that outgrow one core or one machine.
//!
//! Every pattern has one owner, the worker its hash names. A record (a pattern reached through a
//! facet certified to meet the domain, with the point and direction it was entered by) travels to
//! its owner. The owner keeps its shard of the visited set, drops patterns it has seen, and
//! expands new ones with the walk's own steps ([`WalkState`]): the record's entry gives the witness
//! without an LP, and the neighbours go back into the loop. The loop is a timely feedback edge;
//! timely's progress tracking ends it when no record circulates and no worker holds work, which
//! is the termination detection a home-made protocol would need. Counters, and the regions when
//! asked for, are then sent to worker 0 in a second dataflow.

use crate::analysis::interval::{analyse, Bounds};
use crate::analysis::set::InputSet;
use crate::domain::Domain;
use crate::exact::result::{memory_per_region, Budget, Completeness, Engine, Progress, ProgressFn, StopReason};
use crate::exact::walk::checkpoint::{domain_fingerprint, fingerprint, network_fingerprint, Saver, CHECKPOINT_VERSION};
use crate::exact::walk::expand::{Context, Entry};
use crate::exact::walk::reduce::in_row_space;
use crate::exact::walk::visited::Visited;
use crate::exact::walk::{start_point, WalkState};
use crate::exact::{Checkpoint, WalkOptions, WalkResult};
use crate::lp::LpCounters;
use crate::model::{Network, Pattern};
use crate::tolerance::MEMORY_HEADROOM_REGIONS;
use crate::{Error, Result};
use std::cell::RefCell;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::vec::{Broadcast, Input as _};
use timely::dataflow::operators::{Concat, ConnectLoop, Exchange as _, Feedback, Inspect, Operator, Probe, ToStream};
use timely::dataflow::{InputHandleVec, ProbeHandle};

/// Where the workers of a dataflow walk run.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// Worker threads in this process (at least 1).
    pub workers: usize,
    /// For a walk over several processes: this process's index, and every process's `host:port`
    /// in process order (the same list in every process).
    pub processes: Option<(usize, Vec<String>)>,
}

impl Cluster {
    /// One process with `workers` threads.
    pub fn local(workers: usize) -> Self {
        Cluster { workers, processes: None }
    }

    /// This process's index.
    pub fn process(&self) -> usize {
        self.processes.as_ref().map_or(0, |p| p.0)
    }

    /// Number of processes.
    pub fn process_count(&self) -> usize {
        self.processes.as_ref().map_or(1, |p| p.1.len())
    }

    fn config(&self) -> timely::Config {
        use timely::CommunicationConfig as C;
        let communication = match &self.processes {
            None if self.workers == 1 => C::Thread,
            None => C::Process(self.workers),
            Some((process, addresses)) => C::Cluster {
                threads: self.workers,
                process: *process,
                addresses: addresses.clone(),
                report: false,
                zerocopy: false,
            },
        };
        timely::Config { communication, worker: timely::WorkerConfig::default() }
    }

    fn check(&self) -> Result<()> {
        let bad = |what: String| Err(Error::Cluster { worker: None, message: what });
        if self.workers == 0 {
            return bad("--workers must be at least 1".into());
        }
        if let Some((process, addresses)) = &self.processes {
            if addresses.is_empty() {
                return bad("the host file lists no process".into());
            }
            if *process >= addresses.len() {
                return bad(format!(
                    "--process {process} is out of range: the host file lists {} processes (0 to {})",
                    addresses.len(),
                    addresses.len() - 1
                ));
            }
        }
        Ok(())
    }
}

/// What a dataflow walk found, as process 0 reports it.
#[derive(Clone, Debug)]
pub struct DataflowResult {
    /// Counters and completeness summed over all workers. Its `regions` hold every region (in
    /// worker order) when they were gathered, and are empty otherwise: use [`Self::regions`].
    pub walk: WalkResult,
    /// Regions counted (certified ones, over all workers).
    pub regions: usize,
    /// Processes.
    pub processes: usize,
    /// Worker threads per process.
    pub workers: usize,
    /// Regions held by each worker (global worker order): the shards' balance.
    pub shards: Vec<usize>,
    /// Records sent from one process to another.
    pub remote_records: u64,
    /// Their payload bytes (patterns and entries).
    pub remote_bytes: u64,
}

/// A region on its way to its owner: its pattern and how it was entered (`None` for the start).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Record {
    #[serde(with = "crate::model::packed")]
    pattern: Pattern,
    entry: Option<Entry>,
}

/// What each worker sends to worker 0 when the loop has ended.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Summary {
    worker: usize,
    /// The shard's result: regions only if gathered.
    result: WalkResult,
    regions: usize,
    remote_records: u64,
    remote_bytes: u64,
    error: Option<String>,
}

/// What every worker of a cluster must share before it counts anything: a hash per part of the
/// job. Processes started with another model, domain, options, build or worker count would
/// otherwise exchange regions of different problems and report a wrong count.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Job {
    process: usize,
    parts: Vec<(String, u64)>,
}

impl Job {
    /// The job of this process: `net` and `domain` as the user gave them (before any reduction).
    fn new(net: &Network, domain: &Domain, options: &WalkOptions, cluster: &Cluster, resume: bool) -> Self {
        let hash = |text: String| {
            let mut h = rustc_hash::FxHasher::default();
            text.hash(&mut h);
            h.finish()
        };
        let options = format!(
            "{:?} {:?} {:?} {:?} {:?} {} {}",
            options.engine,
            options.max_regions,
            options.time_limit,
            options.max_memory,
            options.edges,
            options.highs_only,
            resume
        );
        let version = format!("{} checkpoint {CHECKPOINT_VERSION}", env!("CARGO_PKG_VERSION"));
        let parts = [
            ("model", network_fingerprint(net)),
            ("domain", domain_fingerprint(domain)),
            ("options (budgets, engine, --resume)", hash(options)),
            ("regionwalk version", hash(version)),
            ("workers per process", cluster.workers as u64),
        ];
        Job { process: cluster.process(), parts: parts.into_iter().map(|(name, h)| (name.to_string(), h)).collect() }
    }

    /// The parts in which `other` differs from this job.
    fn differences(&self, other: &Job) -> Vec<&str> {
        self.parts.iter().zip(&other.parts).filter(|(a, b)| a.1 != b.1).map(|(a, _)| a.0.as_str()).collect()
    }
}

/// Every worker sends its job to every worker; all of them then refuse the walk if any two
/// differ, naming the processes and the parts, so that no process counts anything.
fn agree(worker: &mut timely::worker::Worker, job: &Job) -> Result<()> {
    let received: Rc<RefCell<Vec<Job>>> = Rc::default();
    let sink = received.clone();
    let mut input = InputHandleVec::new();
    let probe = ProbeHandle::new();
    worker.dataflow::<u64, _, _>(|scope| {
        scope
            .input_from(&mut input)
            .broadcast()
            .inspect(move |j: &Job| sink.borrow_mut().push(j.clone()))
            .probe_with(&probe);
    });
    input.send(job.clone());
    input.close();
    while !probe.done() {
        worker.step_or_park(Some(Duration::from_millis(50)));
    }
    let mut jobs = std::mem::take(&mut *received.borrow_mut());
    jobs.sort_by_key(|j| j.process);
    jobs.dedup();
    let reference = &jobs[0];
    let mismatches: Vec<String> = jobs[1..]
        .iter()
        .filter_map(|j| {
            let parts = reference.differences(j);
            (!parts.is_empty()).then(|| {
                format!("process {} differs from process {} in its {}", j.process, reference.process, parts.join(", "))
            })
        })
        .collect();
    if mismatches.is_empty() {
        return Ok(());
    }
    Err(Error::Cluster {
        worker: None,
        message: format!(
            "the processes were started on different jobs, so none counts: {}. Start every process with the same \
         model, domain, options and --workers, on the same regionwalk build",
            mismatches.join("; ")
        ),
    })
}

/// The worker that owns `pattern` is `owner_hash(pattern) % workers`: the same in every process.
fn owner_hash(pattern: &Pattern) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    pattern.hash(&mut h);
    h.finish()
}

/// One worker's part of the walk.
struct Shard {
    net: Arc<Network>,
    domain: Arc<Domain>,
    bounds: Arc<Vec<Bounds>>,
    options: WalkOptions,
    deadline: Option<Instant>,
    index: usize,
    peers: usize,
    workers_per_process: usize,
    /// The regions this worker owns, and its part of the walk.
    state: WalkState,
    pool: rayon::ThreadPool,
    per_region: u64,
    saver: Saver,
    stopped: Option<StopReason>,
    error: Option<String>,
    remote_records: u64,
    remote_bytes: u64,
    /// This process's progress, shared by its workers, and what this shard has added to it.
    tally: Arc<Tally>,
    told: [u64; 3],
}

/// This process's regions, frontier and LP solves, summed over its workers for the progress
/// callback (each process sees its own workers only).
#[derive(Default)]
struct Tally {
    counts: [AtomicU64; 3],
}

impl Tally {
    fn progress(&self, finished: bool) -> Progress {
        let [regions, frontier, lp_solves] = [0, 1, 2].map(|k| self.counts[k].load(Ordering::Relaxed));
        Progress { regions: regions as usize, frontier: frontier as usize, lp_solves, finished }
    }
}

impl Shard {
    /// Adds what changed since the last call to the process's tally and reports the tally.
    fn report_progress(&mut self) {
        let state = &self.state;
        let now = [state.visited.len() as u64, state.frontier.len() as u64, state.result.counters.lp_solves];
        for (k, (now, told)) in now.iter().zip(&mut self.told).enumerate() {
            self.tally.counts[k].fetch_add(now.wrapping_sub(*told), Ordering::Relaxed);
            *told = *now;
        }
        if let Some(ProgressFn(call)) = &self.options.progress {
            call(self.tally.progress(false));
        }
    }

    /// Whether it has regions to expand and may expand them.
    fn busy(&self) -> bool {
        self.stopped.is_none() && self.error.is_none() && !self.state.frontier.is_empty()
    }

    /// Takes a record in: a new pattern joins the shard (it is counted: it was reached through a
    /// certified facet) and the queue.
    fn receive(&mut self, record: Record) {
        if self.state.visited.contains(&record.pattern) {
            self.state.result.known_neighbours += 1;
            return;
        }
        if let Err(e) = self.state.add(record.pattern, record.entry) {
            self.error = Some(e.to_string());
        }
    }

    /// Expands one chunk of the queue, unless a budget stops the shard; returns the neighbours to
    /// send to their owners.
    fn step(&mut self) -> Vec<Record> {
        let (net, domain) = (self.net.clone(), self.domain.clone());
        let context = Context::with_bounds(
            &net,
            &domain,
            &self.bounds,
            !self.options.highs_only,
            self.deadline,
            self.options.interrupt.clone(),
        );
        let budget = Budget::new(&self.options, self.deadline, self.per_region, MEMORY_HEADROOM_REGIONS)
            .holding(self.state.frontier.budget());
        if let Some(reason) = budget.spent(self.state.visited.len()) {
            self.stopped = Some(reason);
            return Vec::new();
        }
        let state = &mut self.state;
        let neighbours = match self.pool.install(|| state.expand_chunk(&context, &domain, None)) {
            Ok(n) => n,
            Err(e) => {
                self.error = Some(e.to_string());
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (_, pattern, _, entry) in neighbours {
            if self.state.visited.contains(&pattern) {
                self.state.result.known_neighbours += 1;
                continue;
            }
            let owner = (owner_hash(&pattern) % self.peers as u64) as usize;
            if owner / self.workers_per_process != self.index / self.workers_per_process {
                self.remote_records += 1;
                self.remote_bytes += (entry.wire_bytes() + 8 * pattern.len().div_ceil(64) + 24) as u64;
            }
            out.push(Record { pattern, entry: Some(entry) });
        }
        if self.saver.due() {
            self.save();
        }
        self.report_progress();
        out
    }

    fn save(&mut self) {
        if let Err(e) = self.saver.save(&self.state) {
            self.error = Some(e.to_string());
        }
    }

    /// The shard's summary when the loop has ended: completeness, uncertified regions dropped, the
    /// checkpoint (if asked for) written.
    fn finish(&mut self, started: Instant) -> Summary {
        self.state.result.seconds = started.elapsed().as_secs_f64();
        self.state.result.completeness = match (self.stopped, self.state.frontier.is_empty()) {
            (Some(reason), false) => Completeness::Stopped(reason),
            _ => Completeness::Complete,
        };
        // Every shard is saved, complete or not: a stopped walk resumes from all of them.
        self.save();
        self.report_progress();
        // The region list is kept only when it is gathered (`count_only` otherwise).
        let result = self.state.finish().unwrap_or_else(|e| {
            self.error = Some(e.to_string());
            WalkResult::empty(Engine::Walk)
        });
        let regions = result.count();
        Summary {
            worker: self.index,
            result,
            regions,
            remote_records: self.remote_records,
            remote_bytes: self.remote_bytes,
            error: self.error.clone(),
        }
    }
}

/// The shard checkpoint file of global worker `worker`: `<path>.w<worker>`.
pub fn shard_path(path: &Path, worker: usize) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".w{worker}"));
    PathBuf::from(name)
}

/// Counts the activation regions of `net` meeting `domain` with the walk spread over the workers
/// of `cluster`; every process of the cluster calls it with the same arguments (but its own
/// process index). `gather` also sends every region to process 0 (for its region list). The
/// checkpoint of `options` is written per worker ([`shard_path`]); `resume` continues a walk
/// from such files (same network, domain and cluster shape).
///
/// Returns the result on process 0 and `None` on the others; an error on any worker of this
/// process is an error here (a failed peer process panics timely's network threads: the CLI
/// turns that into a non-zero exit). Like the single walk, an L2 ball walks in the first layer's
/// row space when that is smaller (`exact::walk::reduce`).
pub fn walk_dataflow(
    net: &Network,
    domain: &Domain,
    options: &WalkOptions,
    cluster: &Cluster,
    resume: Option<&Path>,
    gather: bool,
) -> Result<Option<DataflowResult>> {
    let job = Job::new(net, domain, options, cluster, resume.is_some());
    let walk = |net: &Network, domain: &Domain, options: &WalkOptions| {
        walk_dataflow_as_given(net, domain, options, cluster, resume, gather, &job)
    };
    in_row_space(net, domain, options, walk, |r| r.as_mut().map(|r| &mut r.walk))
}

fn walk_dataflow_as_given(
    net: &Network,
    domain: &Domain,
    options: &WalkOptions,
    cluster: &Cluster,
    resume: Option<&Path>,
    gather: bool,
    job: &Job,
) -> Result<Option<DataflowResult>> {
    cluster.check()?;
    if options.edges {
        return Err(Error::Settings("the dataflow walk does not record the region graph (--linear, graph)".into()));
    }
    if matches!(options.engine, Engine::Partition | Engine::Arrangement) {
        return Err(Error::Settings("the dataflow walk is a region walk: use --engine walk or auto".into()));
    }
    let started = Instant::now();
    let mut counters = LpCounters::default();
    let start = match resume {
        Some(_) => None,
        // Certified: the dataflow walk cannot restart cheaply if its start region were a sliver.
        None => match start_point(net, domain, &mut counters, true)? {
            Some(x) => Some(x),
            // An empty domain: every process sees it, so none starts timely.
            None => return Ok((cluster.process() == 0).then(|| empty_result(cluster, counters, started))),
        },
    };
    let first = start.as_ref().map(|x| net.interior_pattern(x).expect("start point is interior"));
    let peers = cluster.workers * cluster.process_count();
    let (net, domain) = (Arc::new(net.clone()), Arc::new(domain.clone()));
    let bounds = Arc::new(analyse(&net, &InputSet::new(&domain)).combined);
    let resume = resume.map(Path::to_path_buf);
    let fingerprint = fingerprint(&net, &domain, false);
    let workers_per_process = cluster.workers;
    // Regions are listed only to be gathered on process 0, which writes them out (no worker
    // streams to a sink).
    let per_worker = WalkOptions {
        max_regions: options.max_regions.map(|m| m.div_ceil(peers)),
        max_memory: options.max_memory.map(|m| m / workers_per_process as u64),
        count_only: !gather,
        sink: None,
        ..options.clone()
    };
    let tally: Arc<Tally> = Arc::default();
    let process_tally = tally.clone();
    let job = job.clone();
    let guards = timely::execute(cluster.config(), move |worker| -> Result<Option<Vec<Summary>>> {
        agree(worker, &job)?;
        let (index, peers) = (worker.index(), worker.peers());
        let shard_of = |path: &PathBuf| shard_path(path, index);
        // A shard that cannot be loaded is an error reported at the end, not a return here: this
        // worker still takes part in both dataflows, so that its peers do not wait for it forever.
        let fresh = || {
            let visited = Visited::new(per_worker.identity, net.neurons(), Visited::random_key());
            WalkState::new(&net, &per_worker, visited, gather, Vec::new())
        };
        let loaded = resume.as_ref().map(|path| {
            let c = Checkpoint::load(&shard_of(path))?;
            WalkState::resumed(&net, &domain, &per_worker, c, Some((index, peers)))
        });
        let (state, error) = match loaded {
            None => (fresh(), None),
            Some(Ok(c)) => (c, None),
            Some(Err(e)) => (fresh(), Some(e.to_string())),
        };
        let shard = Rc::new(RefCell::new(Shard {
            net: net.clone(),
            domain: domain.clone(),
            bounds: bounds.clone(),
            options: per_worker.clone(),
            // The time limit counts from when the cluster is connected.
            deadline: per_worker.time_limit.map(|t| Instant::now() + t),
            index,
            peers,
            workers_per_process,
            state,
            pool: rayon::ThreadPoolBuilder::new().num_threads(1).build().map_err(|e| Error::Cluster {
                worker: Some(index),
                message: format!("cannot start its thread: {e}"),
            })?,
            per_region: memory_per_region(&net, &per_worker),
            saver: Saver::new(per_worker.checkpoint.as_ref().map(shard_of), fingerprint, Some((index, peers))),
            stopped: None,
            error,
            remote_records: 0,
            remote_bytes: 0,
            tally: tally.clone(),
            told: [0; 3],
        }));
        // The loop: records to their owners, new regions expanded, neighbours back in.
        let probe = ProbeHandle::new();
        let seeds: Vec<Record> = match (&first, index) {
            (Some(pattern), 0) => vec![Record { pattern: pattern.clone(), entry: None }],
            _ => Vec::new(),
        };
        let in_loop = shard.clone();
        worker.dataflow::<u64, _, _>(|scope| {
            let (handle, cycle) = scope.feedback::<Vec<Record>>(1);
            seeds
                .to_stream(scope)
                .concat(cycle)
                .unary(Exchange::new(|r: &Record| owner_hash(&r.pattern)), "Expand", |initial, info| {
                    let activator = scope.activator_for(info.address);
                    // A capability is held exactly while the shard has work (a resumed shard may
                    // start with some); holding none lets the loop end.
                    let mut held = in_loop.borrow().busy().then_some(initial);
                    if held.is_some() {
                        activator.activate();
                    }
                    move |input, output| {
                        let mut shard = in_loop.borrow_mut();
                        input.for_each_stamp(|cap, batches| {
                            for batch in batches {
                                batch.drain(..).for_each(|r| shard.receive(r));
                            }
                            if let Some(cap) = cap.retain_least(0) {
                                if held.as_ref().is_none_or(|h| cap.time() < h.time()) {
                                    held = Some(cap);
                                }
                            }
                        });
                        if !shard.busy() {
                            held = None;
                            return;
                        }
                        let Some(cap) = &held else { return };
                        let out = shard.step();
                        output.session(cap).give_iterator(out.into_iter());
                        if shard.busy() {
                            activator.activate();
                        } else {
                            held = None;
                        }
                    }
                })
                .probe_with(&probe)
                .connect_loop(handle);
        });
        while !probe.done() {
            worker.step_or_park(Some(Duration::from_millis(50)));
        }
        // The summaries to worker 0, and every worker's error (if any) to every worker, so that
        // all processes fail when one does.
        let summary = shard.borrow_mut().finish(started);
        let errors: Vec<String> = summary.error.iter().map(|e| format!("worker {index}: {e}")).collect();
        let gathered: Rc<RefCell<Vec<Summary>>> = Rc::default();
        let failures: Rc<RefCell<Vec<String>>> = Rc::default();
        let (collected, failed) = (gathered.clone(), failures.clone());
        let (mut summaries, mut reported) = (InputHandleVec::new(), InputHandleVec::new());
        let done = ProbeHandle::new();
        worker.dataflow::<u64, _, _>(|scope| {
            scope
                .input_from(&mut summaries)
                .exchange(|_: &Summary| 0)
                .inspect(move |s: &Summary| collected.borrow_mut().push(s.clone()))
                .probe_with(&done);
            scope
                .input_from(&mut reported)
                .broadcast()
                .inspect(move |e: &String| failed.borrow_mut().push(e.clone()))
                .probe_with(&done);
        });
        summaries.send(summary);
        errors.into_iter().for_each(|e| reported.send(e));
        summaries.close();
        reported.close();
        while !done.done() {
            worker.step_or_park(Some(Duration::from_millis(50)));
        }
        if let Some(e) = failures.borrow().first() {
            return Err(Error::Cluster { worker: None, message: e.clone() });
        }
        let all = std::mem::take(&mut *gathered.borrow_mut());
        Ok((index == 0).then_some(all))
    })
    .map_err(|e| Error::Cluster { worker: None, message: format!("the dataflow cluster could not start: {e}") })?;
    let joined = guards.join();
    if let Some(ProgressFn(call)) = &options.progress {
        call(process_tally.progress(true));
    }
    let mut summaries = None;
    for joined in joined {
        if let Some(all) =
            joined.map_err(|e| Error::Cluster { worker: None, message: format!("a dataflow worker failed: {e}") })??
        {
            summaries = Some(all);
        }
    }
    let Some(mut summaries) = summaries else { return Ok(None) };
    summaries.sort_by_key(|s| s.worker);
    if let Some(e) = summaries.iter().find_map(|s| s.error.as_ref()) {
        return Err(Error::Cluster { worker: None, message: format!("a dataflow worker failed: {e}") });
    }
    Ok(Some(combine(summaries, cluster, counters, start, started)))
}

/// Sums the workers' summaries into process 0's report.
fn combine(
    summaries: Vec<Summary>,
    cluster: &Cluster,
    counters: LpCounters,
    start: Option<Vec<f64>>,
    started: Instant,
) -> DataflowResult {
    let mut out = empty_result(cluster, counters, started);
    let walk = &mut out.walk;
    walk.start = start;
    for s in summaries {
        let r = s.result;
        walk.regions.extend(r.regions);
        walk.counted += r.counted;
        // Shards own disjoint patterns (by an exact hash of the pattern): only fingerprints within
        // one shard can collide, so the bounds add up.
        if let Some(b) = r.collision_bound {
            walk.collision_bound = Some(walk.collision_bound.unwrap_or(0.0) + b);
        }
        walk.spilled_regions += r.spilled_regions;
        walk.spilled_bytes += r.spilled_bytes;
        walk.counters.add(&r.counters);
        walk.screened += r.screened;
        walk.known_neighbours += r.known_neighbours;
        walk.unverified += r.unverified;
        if let (Completeness::Complete, Completeness::Stopped(reason)) = (walk.completeness, r.completeness) {
            walk.completeness = Completeness::Stopped(reason);
        }
        out.regions += s.regions;
        out.shards.push(s.regions);
        out.remote_records += s.remote_records;
        out.remote_bytes += s.remote_bytes;
    }
    out.walk.seconds = started.elapsed().as_secs_f64();
    out
}

fn empty_result(cluster: &Cluster, counters: LpCounters, started: Instant) -> DataflowResult {
    DataflowResult {
        walk: WalkResult { counters, seconds: started.elapsed().as_secs_f64(), ..WalkResult::empty(Engine::Walk) },
        regions: 0,
        processes: cluster.process_count(),
        workers: cluster.workers,
        shards: Vec::new(),
        remote_records: 0,
        remote_bytes: 0,
    }
}
