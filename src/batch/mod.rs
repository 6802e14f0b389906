//! The batch runner: every variation × `runs_per_variation`, up to `max_parallel` at once,
//! within its budget, resumable at any instant.
//!
//! The run folders are the truth: a batch starts (or resumes) by reading each run's
//! `scenario-state.json` and call log, so the batch files (`batch-state.json`,
//! `batch-costs.json`, `batch-summary.json`) can always be rebuilt from them and are only
//! written every few seconds and at the end. Runs start round-robin across variations (run 1
//! of every variation, then run 2, ...), so that a batch stopped anywhere (a budget, Ctrl+C, a
//! pilot) holds a balanced design; a completed run is never run again; a halted or interrupted
//! one continues from its call log; a failed one is retried once per resume. Every call of
//! every run is reserved against the budget first (see [`guard`]); when the budget or a
//! shutdown stops the batch, nothing new starts and the runs in flight halt at their next call.
//! A run past `timeout_per_run` sends nothing more, and its calls in flight get
//! [`TIMEOUT_GRACE_MS`] to answer and be recorded before they are dropped (which aborts their
//! requests).

mod files;
pub mod guard;
mod prefix;
pub mod shard;
pub mod stopping;

use std::collections::BTreeMap;

use futures_util::future::{select, Either};
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::Deserialize;

use crate::config::{BatchConfig, Execution, Pairing};
use crate::engine::{self, ReplyCounts, RunSpec, RunStatus, STATE_FILE};
use crate::error::{ErrorKind, HasKind};
use crate::host::{Clock, Llm, Storage, StorageError};
use crate::llm::lockstep::{switch_ms, Lockstep, Shared};
use crate::llm::Client;
use crate::paths;
use crate::plan::variations::{apply, VariationSpace};
use crate::pricing::{nanos_to_usd, usd_to_nanos, Nanos, PriceBook};
use crate::rng::derive;
use crate::schema::batch::Fingerprint;
use crate::schema::events::{
    AnalysisWritten, BatchStarted, Note, RateLimitStats, RunFinished, RunStarted,
};
use crate::schema::run::{
    CostTotals, Costs, Metrics, RunStanding, Savings, ScenarioState, COSTS_FILE, METRICS_FILE,
};
use crate::schema::{to_json_text, BatchEvent, BatchState, HaltReason, RunId, StopReason};
pub use crate::schema::{BatchOutcome, BatchTotals, MergeOutcome};
pub use files::{batch_files, BatchFiles, BatchSnapshot, RunSummary};
use guard::{BatchGuard, RunGuard};
pub use shard::Shard;
use stopping::{News, Start, Stopper};

/// How the host asked for the batch to run.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields))]
#[serde(rename_all = "camelCase")]
pub struct BatchOptions {
    /// Continue the batch in `output_dir`.
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<bool>"))]
    pub resume: bool,
    /// Overrides the config's `budget_limit` (USD).
    pub budget_limit: Option<f64>,
    /// `"K/N"` (1-based): run only shard K of N, with its share of the budget.
    #[cfg_attr(test, ts(as = "Option<String>"))]
    pub shard: Option<Shard>,
    /// `--output DIR`: the batch's output folder instead of the config's `output_dir` (one
    /// folder per shard on a shared volume).
    pub output_dir: Option<String>,
    /// A random seed from the host, for a batch that has none yet.
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<u64>"))]
    pub fresh_seed: u64,
    /// `--pilot N`: start only runs 1..=N of each variation (the rest wait for a resume).
    pub pilot: Option<u32>,
    /// `--call-timeout SECONDS`: over the config's `call_timeout`.
    pub call_timeout: Option<f64>,
    /// The JSON text of OpenRouter's model list, for current prices.
    pub openrouter_models: Option<String>,
    /// `--execution realtime|batch`: over the config's `execution`.
    pub execution: Option<Execution>,
}

/// Runs that advance together in lock-step (`execution: batch`), whatever `max_parallel` says:
/// one job a phase serves them all, and their state in memory is a few hundred KB each.
pub const LOCKSTEP_WINDOW: usize = 256;

/// How long the calls in flight of a run past its `timeout_per_run` may take to answer before
/// they are dropped: an answer that arrives is likely billed, so it is recorded rather than
/// thrown away; a request still open after this is aborted.
pub const TIMEOUT_GRACE_MS: f64 = 30_000.0;

/// What the host learns while the batch runs, and how it asks the batch to stop.
pub trait Control {
    /// An event (see [`BatchEvent`]; the set may grow).
    fn emit(&self, event: BatchEvent);
    /// Whether the user asked to stop (Ctrl+C, a Stop button).
    fn stop_requested(&self) -> bool;
}

/// Why a batch could not start, or shards could not be merged. Opaque: hosts read its
/// [`kind`](HasKind::kind) (and so its exit status) and its sentence.
#[derive(Debug)]
pub struct BatchError {
    kind: ErrorKind,
    message: String,
    source: Option<StorageError>,
}

impl BatchError {
    /// A limit is set but some models have no price.
    fn unknown_prices(models: &[String]) -> Self {
        BatchError::refused(format!(
            "the batch has a budget, but no price is known for {}: add them under `prices:` in the batch config (USD per million prompt and completion tokens), for example\n  prices:\n    \"{}\": {{prompt: 0.5, completion: 1.5}}",
            models.join(", "),
            models[0]
        ))
    }

    /// The config changed since the batch started, in these ways.
    fn config_changed(what: &[String]) -> Self {
        BatchError::refused(format!(
            "the batch config changed since this batch started, so its runs would not be comparable: {}. Restore it, or use another output_dir. (Raising limits or runs_per_variation is allowed.)",
            what.join("; ")
        ))
    }

    /// The output folder already holds this batch (and `--resume` was not given).
    fn already_started(dir: &str) -> Self {
        BatchError::refused(format!(
            "`{dir}` already holds this batch: continue it with --resume, or choose another output_dir"
        ))
    }

    fn refused(message: String) -> Self {
        BatchError {
            kind: ErrorKind::Refused,
            message,
            source: None,
        }
    }

    /// A request that cannot be carried out as given.
    fn usage(message: String) -> Self {
        BatchError {
            kind: ErrorKind::Usage,
            message,
            source: None,
        }
    }
}

impl From<StorageError> for BatchError {
    fn from(e: StorageError) -> Self {
        BatchError {
            kind: ErrorKind::Storage,
            message: format!("storage failed: {e}"),
            source: Some(e),
        }
    }
}

impl std::fmt::Display for BatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BatchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

impl HasKind for BatchError {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
}

/// What must not change between the sessions of one batch.
/// `aggregate_metrics`: the analysis of the output folder, written to `<output_dir>/analysis/`.
/// A batch's results stand without it, so a failure here is reported, not fatal.
async fn analyse<S: Storage>(storage: &S, out_dir: &str, control: &dyn Control) {
    match crate::analysis::analyze(storage, out_dir, &Default::default()).await {
        Ok(a) => control.emit(BatchEvent::Analysis(AnalysisWritten {
            dir: paths::join(out_dir, "analysis"),
            files: a.files,
            runs: a.patterns.total_runs as u64,
            success_rate: a.patterns.success_rate,
            problems: (a.problems.len() + a.problems_not_listed) as u64,
        })),
        Err(e) => control.emit(BatchEvent::Note(Note {
            message: format!("aggregate_metrics: the analysis failed: {e}; run `scenario-lab analyze {out_dir}` to try again"),
        })),
    }
}

fn fingerprint(config: &BatchConfig) -> Fingerprint {
    let scenario = match serde_json::to_value(&config.scenario) {
        Ok(serde_json::Value::Object(map)) => map.into_iter().collect(),
        _ => Default::default(),
    };
    Fingerprint {
        base_scenario: config.scenario_dir.clone(),
        scenario,
        variations: config.variations.clone(),
        save_individual_runs: config.save_individual_runs,
        pairing_written: Some(config.pairing),
        stopping: config.stopping.clone(),
    }
}

/// How `new` differs from the fingerprint a batch started with, in words; empty when a resume
/// may go on.
fn changes(
    old: Option<&Fingerprint>,
    new: &Fingerprint,
    runs_before: u32,
    runs_now: u32,
) -> Vec<String> {
    let Some(old) = old else {
        return vec![
            "the output folder's batch-state.json does not record the config it started with"
                .into(),
        ];
    };
    let mut out = Vec::new();
    if old.base_scenario != new.base_scenario {
        out.push(format!(
            "base_scenario was {:?} and is now {:?}",
            old.base_scenario, new.base_scenario
        ));
    }
    if old.scenario != new.scenario {
        let keys: Vec<&str> = new
            .scenario
            .iter()
            .filter(|(k, v)| old.scenario.get(*k) != Some(*v))
            .map(|(k, _)| k.as_str())
            .collect();
        out.push(format!(
            "the scenario's {} changed",
            if keys.is_empty() {
                "files".into()
            } else {
                keys.join(", ")
            }
        ));
    }
    if old.variations != new.variations {
        out.push("the variations changed".into());
    }
    if old.save_individual_runs != new.save_individual_runs {
        out.push("save_individual_runs changed".into());
    }
    // A batch from before pairing existed keeps its independent runs whatever the config says.
    if old.pairing_written.is_some() && old.pairing() != new.pairing() {
        out.push(format!(
            "pairing was {:?} and is now {:?}",
            old.pairing(),
            new.pairing()
        ));
    }
    if old.stopping != new.stopping {
        out.push("the stopping rule changed".into());
    }
    if runs_now < runs_before {
        out.push(format!(
            "runs_per_variation went down from {runs_before} to {runs_now}"
        ));
    }
    out
}

/// What the batch knows of one run when it starts: `None` when it has no readable state.
/// `metric`: the stopping rule's, whose final value is read for a completed run.
async fn scan_run<S: Storage>(storage: &S, dir: &str, metric: Option<&str>) -> Option<RunSummary> {
    let folder = crate::schema::RunFolder::read(storage, dir).await.ok()??;
    let standing = folder.standing.as_ref()?;
    let value = match metric {
        Some(m) if standing.status == RunStatus::Completed => final_value(storage, dir, m).await,
        _ => None,
    };
    Some(RunSummary {
        standing: standing.clone(),
        cost_nanos: folder.cost_nanos(),
        replies: folder.replies(),
        savings: folder.savings(),
        value,
    })
}

/// The final value of `metric` in the run folder `dir`'s `metrics.json`.
async fn final_value<S: Storage>(storage: &S, dir: &str, metric: &str) -> Option<f64> {
    let text = storage.read(&paths::join(dir, METRICS_FILE)).await.ok()??;
    let metrics: Metrics = serde_json::from_str(&text).ok()?;
    metrics.final_metrics.get(metric)?.number()
}

/// Files a run keeps when `save_individual_runs` is false.
const KEPT: [&str; 3] = [METRICS_FILE, COSTS_FILE, STATE_FILE];

/// Runs (or resumes) a batch.
pub async fn run_batch<S: Storage, L: Llm, C: Clock>(
    storage: &S,
    client: &Client<'_, L, C>,
    clock: &C,
    config: &BatchConfig,
    config_text: &str,
    opts: &BatchOptions,
    control: &dyn Control,
) -> Result<BatchOutcome, BatchError> {
    let elsewhere;
    let config = match &opts.output_dir {
        Some(dir) => {
            elsewhere = config.clone().with_output_dir(dir);
            &elsewhere
        }
        None => config,
    };
    let out_dir = paths::normalize(&config.output_dir);
    let space = VariationSpace::new(&config.variations);
    let runs = u64::from(config.runs_per_variation);
    let total = space.count().saturating_mul(runs);
    let batch_budget = opts.budget_limit.or(config.budget_limit);
    // A shard may spend its share of the budget, so that the shards together keep to it.
    let budget = match opts.shard {
        Some(s) => batch_budget.map(|b| nanos_to_usd(s.budget(usd_to_nanos(b), total))),
        None => batch_budget,
    };
    if budget.is_some() || config.cost_per_run_limit.is_some() {
        let unknown: Vec<String> = crate::plan::called_models(config)
            .into_iter()
            .filter(|m| client.prices().price(m).is_none())
            .collect();
        if !unknown.is_empty() {
            return Err(BatchError::unknown_prices(&unknown));
        }
    }
    // Hook (interventions, prefix.rs): which runs share their first turns. Before anything
    // is written, since a sharded intervention batch is refused.
    let prefixes =
        prefix::Prefixes::new(config, &out_dir, opts.shard.is_some()).map_err(BatchError::usage)?;
    let state_path = paths::join(&out_dir, "batch-state.json");
    let previous = storage
        .read(&state_path)
        .await?
        .and_then(|t| BatchState::parse(&t));
    let mut print = fingerprint(config);
    if config.stopping.is_some() && opts.shard.is_some() {
        return Err(BatchError::usage(
            "a batch with a stopping rule cannot be sharded: each look reads the runs of every shard; run it in one process".into(),
        ));
    }
    let seed = match &previous {
        Some(p) if !opts.resume => {
            let _ = p;
            return Err(BatchError::already_started(&out_dir));
        }
        Some(p) => {
            // A folder holds one shard (or the whole batch): merge reads which from its state.
            let now = opts.shard.map(|s| s.to_string());
            if p.shard != now {
                let was = p
                    .shard
                    .as_ref()
                    .map_or("the whole batch".into(), |s| format!("shard {s}"));
                return Err(BatchError::usage(format!(
                    "`{out_dir}` holds {was}: resume it {}; each shard needs an output folder of its own",
                    p.shard.as_ref().map_or("without --shard".into(), |s| format!("with --shard {s}"))
                )));
            }
            let diff = changes(
                p.fingerprint.as_ref(),
                &print,
                p.runs_per_variation,
                config.runs_per_variation,
            );
            if !diff.is_empty() {
                return Err(BatchError::config_changed(&diff));
            }
            // The pairing the batch started with (none, for a batch from before pairing).
            print.pairing_written = Some(
                p.fingerprint
                    .as_ref()
                    .map_or(Pairing::None, |f| f.pairing()),
            );
            p.seed
        }
        // Shards in separate processes must draw their runs' seeds from one batch seed.
        None if opts.fresh_seed == 0 && opts.shard.is_some() => {
            return Err(BatchError::usage(
                "a new sharded batch needs --seed N, the same for every shard: each run's seed comes from the batch's, and merge refuses shards with different seeds".into(),
            ));
        }
        None => opts.fresh_seed,
    };
    let started_ms = previous
        .as_ref()
        .map_or_else(|| clock.now_ms(), |p| p.start_ms);
    let config_copy = paths::join(&out_dir, "batch-config.yaml");
    if paths::normalize(&config.path) != config_copy {
        storage.write(&config_copy, config_text).await?;
    }
    let in_shard = |i: u64| opts.shard.is_none_or(|s| s.holds(i));
    let pairing = print.pairing();
    let metric = config.stopping.as_ref().map(|s| s.metric());
    // What earlier sessions did: the run folders are the truth.
    // Only the run folders that exist are read (a batch of a million runs starts at once).
    let mut known: BTreeMap<u64, RunSummary> = BTreeMap::new();
    let runs_dir = paths::join(&out_dir, "runs");
    for name in storage.list(&runs_dir).await?.unwrap_or_default() {
        let Some(i) = RunId::parse(&name)
            .and_then(|id| id.index(runs))
            .filter(|i| *i < total && in_shard(*i))
        else {
            continue;
        };
        if let Some(s) = scan_run(storage, &paths::join(&runs_dir, &name), metric).await {
            known.insert(i, s);
        }
    }
    let spent: Nanos = known.values().map(|s| s.cost_nanos).sum();
    let guard = BatchGuard::new(budget.map(usd_to_nanos), spent);
    let retried: Vec<u64> = known
        .iter()
        .filter(|(_, s)| s.standing.status == RunStatus::Failed)
        .map(|(i, _)| *i)
        .collect();
    // The runs to do, walked lazily: memory grows with what is known, not with the plan.
    let completed_at_start: std::collections::BTreeSet<u64> = known
        .iter()
        .filter(|(_, s)| s.standing.status == RunStatus::Completed)
        .map(|(i, _)| *i)
        .collect();
    let in_shard_count = opts.shard.map_or(total, |s| s.runs(total));
    // Round-robin: run 1 of every variation, then run 2, ... (index = variation × runs + run).
    let rounds = opts.pilot.map_or(runs, |n| u64::from(n).min(runs));
    let variations = space.count();
    let queue = || {
        (0..rounds)
            .flat_map(move |r| (0..variations).map(move |v| v * runs + r))
            .filter(|i| in_shard(*i) && !completed_at_start.contains(i))
    };
    let to_run = match opts.pilot {
        // A pilot's share is small (N runs of each variation): counted by walking it.
        Some(_) => queue().count() as u64,
        None => in_shard_count - completed_at_start.len() as u64,
    };
    let mut queue = queue().peekable();
    control.emit(BatchEvent::BatchStarted(BatchStarted {
        experiment_name: config.experiment_name.clone(),
        output_dir: out_dir.clone(),
        total_runs: total,
        in_shard: in_shard_count,
        to_run,
        already_completed: completed_at_start.len() as u64,
        retrying_failed: retried
            .iter()
            .map(|i| RunId::from_index(*i, runs))
            .collect(),
        max_parallel: config.max_parallel,
        budget_limit: budget,
        spent: nanos_to_usd(spent),
        seed,
        resumed: previous.is_some(),
    }));
    if let Some(s) = opts.shard {
        control.emit(BatchEvent::Note(Note {
            message: s.describe(total, batch_budget),
        }));
    }
    // The stopping rule, brought up to date with what earlier sessions completed.
    let mut stopper = config
        .stopping
        .as_ref()
        .and_then(|rule| Stopper::new(rule, pairing, config.runs_per_variation));
    let mut finished_here = std::collections::BTreeSet::new();
    let take_looks = |stopper: &mut Option<Stopper>,
                      known: &BTreeMap<u64, RunSummary>,
                      settled: &dyn Fn(u64) -> bool| {
        let Some(s) = stopper.as_mut() else { return };
        for news in s.update(known, settled, variations) {
            control.emit(match news {
                News::Look(message) => BatchEvent::Note(Note { message }),
                News::Stopped(stop) => BatchEvent::Stopped(stop),
            });
        }
    };
    take_looks(&mut stopper, &known, &|i| completed_at_start.contains(&i));

    let mut resume = format!("npx scenario-lab run {} --resume", config.path);
    if let Some(s) = opts.shard {
        resume.push_str(&format!(" --shard {s}"));
    }
    if opts.output_dir.is_some() {
        resume.push_str(&format!(" --output {out_dir}"));
    }
    let mut last_save = clock.now_ms();
    let files_now = |known: &BTreeMap<u64, RunSummary>,
                     done: bool,
                     guard: &BatchGuard,
                     stopper: &Option<Stopper>| {
        batch_files(BatchSnapshot {
            config,
            fingerprint: &print,
            seed,
            start_ms: started_ms,
            now_ms: clock.now_ms(),
            known,
            total,
            shard: opts.shard,
            resume: &resume,
            spent: guard.spent(),
            budget,
            done,
            stop: guard.stopping(),
            stopping: stopper.as_ref().map(Stopper::record),
        })
    };
    // The seed must be on disk before any run starts: a batch killed in its first seconds
    // resumes with the same seed, so its runs ask the same questions and replay their calls.
    save(
        storage,
        &out_dir,
        files_now(&known, false, &guard, &stopper),
    )
    .await?;
    let execution = opts.execution.unwrap_or(config.execution);
    let emit = |e: BatchEvent| control.emit(e);
    let lockstep = match execution {
        Execution::Realtime => None,
        Execution::Batch => {
            let switch_at = config
                .batch_deadline
                .map(|s| switch_ms(started_ms, started_ms + s * 1000.0));
            control.emit(BatchEvent::Note(Note {
                message: format!(
                    "execution: batch — up to {LOCKSTEP_WINDOW} runs advance together, and each phase's calls go to the provider as one batch job a model (about half the price; answers may take hours){}",
                    match config.batch_deadline {
                        Some(s) => format!("; calls go realtime from {:.0} minutes before the batch_deadline", (started_ms + s * 1000.0 - switch_at.unwrap_or(0.0)) / 60_000.0),
                        None => String::new(),
                    }
                ),
            }));
            Some(Lockstep::load(storage, client.llm(), clock, &out_dir, switch_at, &emit).await)
        }
    };
    // After the lock-step and before the runs in flight: they borrow both.
    let session = Session {
        storage,
        client,
        clock,
        config,
        out_dir: &out_dir,
        seed,
        pairing,
        metric,
        guard: &guard,
        prefixes: &prefixes,
        lockstep: lockstep.as_ref().map(Lockstep::shared),
        control,
    };
    let mut in_flight = FuturesUnordered::new();
    let window = match &lockstep {
        Some(_) => LOCKSTEP_WINDOW.max(config.max_parallel as usize),
        None => config.max_parallel as usize,
    };
    let runner = async {
        loop {
            if control.stop_requested() {
                guard.stop(StopReason::Interrupted, "the batch was asked to stop");
            }
            while in_flight.len() < window && guard.stopping().is_none() {
                // The runs the stopping rule lets start now, in order: a run of a stopped
                // variation is dropped; one past the next look ends the walk for now.
                let mut startable = std::iter::from_fn(|| loop {
                    let &i = queue.peek()?;
                    match stopper.as_ref().map_or(Start::Now, |s| s.may_start(i)) {
                        Start::Now => return queue.next(),
                        Start::Never => {
                            queue.next();
                        }
                        Start::AfterLook => return None,
                    }
                });
                // Hook (interventions, prefix.rs): an arm run waits aside until its source has
                // played the shared turns, and then starts from a copy of them.
                let Some(launch) = prefixes.next(storage, &mut startable, control).await else {
                    break;
                };
                in_flight.push(one_run(&session, launch, in_flight.len() + 1));
            }
            if in_flight.is_empty() {
                // Nothing in flight can settle the next look's rounds: take it with what there
                // is (a safety net: the rounds before a look have all been started).
                let at_look = queue.peek().is_some_and(|&i| {
                    stopper
                        .as_ref()
                        .is_some_and(|s| s.may_start(i) == Start::AfterLook)
                });
                if at_look && guard.stopping().is_none() {
                    take_looks(&mut stopper, &known, &|_| true);
                    continue;
                }
                break;
            }
            // Wake at least every second, to notice a stop request while runs are waiting.
            let next = std::pin::pin!(in_flight.next());
            let tick = std::pin::pin!(clock.sleep(1000.0));
            if let Either::Left((Some((i, summary)), _)) = select(next, tick).await {
                known.insert(i, summary);
                finished_here.insert(i);
                let stops_before = stopper.as_ref().map_or(0, |s| s.stopped().len());
                take_looks(&mut stopper, &known, &|i| {
                    completed_at_start.contains(&i) || finished_here.contains(&i)
                });
                let stopped_now = stopper.as_ref().map_or(0, |s| s.stopped().len()) > stops_before;
                if stopped_now || clock.now_ms() - last_save >= 2000.0 {
                    save(
                        storage,
                        &out_dir,
                        files_now(&known, false, &guard, &stopper),
                    )
                    .await?;
                    last_save = clock.now_ms();
                }
            }
        }
        Ok::<(), BatchError>(())
    };
    let driver = async {
        match &lockstep {
            Some(l) => l.drive().await,
            None => std::future::pending::<()>().await,
        }
    };
    if let Either::Left((ran, _)) = select(std::pin::pin!(runner), std::pin::pin!(driver)).await {
        ran?;
    }
    save(storage, &out_dir, files_now(&known, true, &guard, &stopper)).await?;
    let stopped = stopper.map(|s| s.stopped().to_vec()).unwrap_or_default();
    let totals = files::totals(
        &known,
        total,
        guard.spent(),
        files::not_needed(&stopped, &known, config.runs_per_variation),
    );
    let stop = guard.stopping();
    if config.aggregate_metrics {
        analyse(storage, &out_dir, control).await;
    }
    let outcome = BatchOutcome {
        totals,
        stop_reason: stop.as_ref().map(|s| s.0),
        stop_message: stop.map(|s| s.1),
        output_dir: out_dir.clone(),
        stopped,
    };
    control.emit(BatchEvent::Summary(outcome.clone()));
    Ok(outcome)
}

async fn save<S: Storage>(
    storage: &S,
    dir: &str,
    files: BatchFiles,
) -> Result<(), crate::host::StorageError> {
    for (name, text) in files.texts() {
        storage.write(&paths::join(dir, name), &text).await?;
    }
    Ok(())
}

/// What every run of a batch session shares: where it writes, how it calls, what it may
/// spend, and how its seed is chosen.
struct Session<'a, 'c, S, L: Llm, C: Clock> {
    storage: &'a S,
    client: &'a Client<'c, L, C>,
    clock: &'a C,
    config: &'a BatchConfig,
    out_dir: &'a str,
    /// The batch's seed, from which each run's is derived.
    seed: u64,
    pairing: Pairing,
    /// The stopping rule's metric, whose final value each completed run reports.
    metric: Option<&'a str>,
    guard: &'a BatchGuard,
    prefixes: &'a prefix::Prefixes,
    lockstep: Option<&'a Shared>,
    control: &'a dyn Control,
}

/// Runs (or continues) the run `launch` names; `in_flight` counts it among the runs in flight.
async fn one_run<S: Storage, L: Llm, C: Clock>(
    session: &Session<'_, '_, S, L, C>,
    launch: prefix::Launch,
    in_flight: usize,
) -> (u64, RunSummary) {
    let Session {
        storage,
        client,
        clock,
        config,
        out_dir,
        seed,
        pairing,
        metric,
        guard,
        prefixes,
        lockstep,
        control,
    } = *session;
    let runs = u64::from(config.runs_per_variation);
    let i = launch.index;
    let id = RunId::from_index(i, runs);
    let dir = paths::join(out_dir, &format!("runs/{id}"));
    let variation = VariationSpace::new(&config.variations).get(i / runs.max(1));
    control.emit(BatchEvent::RunStarted(RunStarted {
        run_id: id,
        variation_id: variation.variation_id,
        description: variation.description.clone(),
        in_flight: in_flight as u64,
        shares_prefix_of: launch.source,
    }));
    let failed = |error: String| RunSummary {
        standing: RunStanding {
            status: RunStatus::Failed,
            halt_reason: Some(HaltReason::Error),
            error: Some(error),
            current_turn: 0,
        },
        cost_nanos: 0,
        replies: ReplyCounts::default(),
        savings: Savings::default(),
        value: None,
    };
    let summary = match apply(&config.scenario, &variation.modifications) {
        Err(e) => failed(e),
        Ok(scenario) => {
            // A run that already started keeps the seed it recorded.
            let recorded = ScenarioState::read(storage, &dir).await.map(|s| s.seed);
            // Paired: run k of every variation has run k's seed (common random numbers).
            let block = (i % runs.max(1)) as u32 + 1;
            let seed = recorded.unwrap_or_else(|| match pairing {
                Pairing::Paired => derive(seed, &format!("run-{block:03}")),
                Pairing::None => derive(seed, &id.to_string()),
            });
            let spec = RunSpec {
                scenario_dir: config.scenario_dir.clone(),
                modifications: variation.modifications.clone(),
                block: (pairing == Pairing::Paired).then_some(block),
                seed,
                // Hook (interventions, prefix.rs): an arm run branches from its source.
                branch: launch.branch,
                cost_limit: config.cost_per_run_limit,
                max_tokens: None,
            };
            let run_guard = RunGuard::new(guard);
            // The run future lives in this block only: when it gives no outcome, it is dropped
            // here, which aborts its open requests, before the run's files are read.
            let outcome = {
                // Hook (interventions, prefix.rs): a source hands its first turns to its arms.
                let mut run = std::pin::pin!(prefixes.share(
                    storage,
                    i,
                    &run_guard,
                    engine::run_guarded(
                        storage, client, clock, &scenario, &spec, &dir, &run_guard, lockstep
                    )
                ));
                // In lock-step a run waits on providers' jobs, which may take hours: its time
                // is bounded by `batch_deadline`, not `timeout_per_run`.
                let limit = std::pin::pin!(async {
                    match lockstep {
                        None => clock.sleep(config.timeout_per_run * 1000.0).await,
                        Some(_) => std::future::pending::<()>().await,
                    }
                });
                match select(run.as_mut(), limit).await {
                    Either::Left((o, _)) => Some(o),
                    Either::Right(_) => {
                        // Past its time: the run sends nothing more and halts at its next
                        // call; the calls in flight get a grace time to answer and be recorded.
                        run_guard.time_up(config.timeout_per_run);
                        let grace = std::pin::pin!(clock.sleep(TIMEOUT_GRACE_MS));
                        match select(run.as_mut(), grace).await {
                            Either::Left((o, _)) => Some(o),
                            Either::Right(_) => None,
                        }
                    }
                }
            };
            match outcome {
                Some(o) => {
                    let value = match metric {
                        Some(m) if o.standing.status == RunStatus::Completed => {
                            final_value(storage, &dir, m).await
                        }
                        _ => None,
                    };
                    if o.standing.status == RunStatus::Completed && !config.save_individual_runs {
                        for name in storage.list(&dir).await.ok().flatten().unwrap_or_default() {
                            if !KEPT.contains(&name.as_str()) {
                                let _ = storage.remove(&paths::join(&dir, &name)).await;
                            }
                        }
                    }
                    RunSummary {
                        standing: o.standing,
                        cost_nanos: usd_to_nanos(o.total_cost),
                        replies: o.replies,
                        savings: o.savings,
                        value,
                    }
                }
                None => {
                    // Calls still open after the grace time: the run is dropped mid-turn (its
                    // requests are aborted). Its call log holds every answered call, so a
                    // resume continues it. Mark it halted, with what it spent.
                    let mut s = scan_run(storage, &dir, None)
                        .await
                        .unwrap_or_else(|| failed(String::new()));
                    s.standing.status = RunStatus::Halted;
                    s.standing.halt_reason = Some(HaltReason::Timeout);
                    s.standing.error = None;
                    if let Some(mut state) = ScenarioState::read(storage, &dir).await {
                        state.standing.status = RunStatus::Halted;
                        state.standing.halt_reason = Some(HaltReason::Timeout);
                        let path = paths::join(&dir, STATE_FILE);
                        let _ = storage.write(&path, &to_json_text(&state)).await;
                    }
                    let costs = Costs::Totals(CostTotals {
                        total_cost: nanos_to_usd(s.cost_nanos),
                        total_cost_nanos: s.cost_nanos,
                        note: Some(
                            "the run passed timeout_per_run; resume the batch to finish it".into(),
                        ),
                    });
                    let _ = storage
                        .write(&paths::join(&dir, COSTS_FILE), &to_json_text(&costs))
                        .await;
                    s
                }
            }
        }
    };
    control.emit(BatchEvent::RunFinished(RunFinished {
        run_id: id,
        variation_id: variation.variation_id,
        status: summary.standing.status,
        halt_reason: summary.standing.halt_reason,
        error: summary.standing.error.clone(),
        turns: summary.standing.current_turn,
        cost: nanos_to_usd(summary.cost_nanos),
        savings: summary.savings,
        spent: nanos_to_usd(guard.spent()),
        rate_limits: client
            .limiter_stats()
            .into_iter()
            .map(
                |(endpoint, limit, in_flight, rate_limited)| RateLimitStats {
                    endpoint,
                    limit: limit as u64,
                    in_flight: in_flight as u64,
                    rate_limited,
                },
            )
            .collect(),
    }));
    (i, summary)
}

/// Prices for a batch: the config's, then OpenRouter's list when given, then the table.
pub fn price_book(config: &BatchConfig, openrouter_models: Option<&str>) -> PriceBook {
    let mut book = PriceBook::new(&config.prices);
    if let Some(m) = openrouter_models {
        let _ = book.add_openrouter_models(m);
    }
    book
}

/// One folder given to `merge`: what its batch files say.
struct ShardFolder {
    dir: String,
    state: BatchState,
    shard: Option<Shard>,
    budget: Option<Nanos>,
}

impl ShardFolder {
    async fn read<S: Storage>(storage: &S, dir: &str) -> Result<ShardFolder, BatchError> {
        let state = storage
            .read(&paths::join(dir, "batch-state.json"))
            .await?
            .and_then(|t| BatchState::parse(&t))
            .ok_or_else(|| {
                BatchError::usage(format!(
                    "{dir} has no batch-state.json: is it a batch output folder?"
                ))
            })?;
        let shard = match &state.shard {
            Some(text) => Some(Shard::parse(text).map_err(|_| {
                BatchError::usage(format!(
                    "{dir}/batch-state.json says shard '{text}', which is not K/N counting from 1 (an older version counted from 0): run that shard again"
                ))
            })?),
            None => None,
        };
        let costs: Option<serde_json::Value> = storage
            .read(&paths::join(dir, "batch-costs.json"))
            .await?
            .and_then(|t| serde_json::from_str(&t).ok());
        let budget = costs
            .as_ref()
            .and_then(|c| c["summary"]["budget_limit"].as_f64())
            .map(usd_to_nanos);
        Ok(ShardFolder {
            dir: dir.to_string(),
            state,
            shard,
            budget,
        })
    }

    fn label(&self) -> String {
        match self.shard {
            Some(s) => format!("{} (shard {s})", self.dir),
            None => format!("{} (the whole batch)", self.dir),
        }
    }
}

/// Whether `folders` are the shards of one batch: the same config and seed, each shard once,
/// none missing. Resolves to the shards, in order.
fn check_shards(folders: &[ShardFolder]) -> Result<Vec<Shard>, BatchError> {
    let first = &folders[0];
    for f in &folders[1..] {
        let (a, b) = (&first.state, &f.state);
        let mut diff = match (&a.fingerprint, &b.fingerprint) {
            // runs_per_variation is compared below, both ways (a resume may raise it; shards not).
            (Some(x), Some(y)) => changes(Some(x), y, 0, 0),
            _ => vec!["a batch-state.json does not record its config".into()],
        };
        if a.runs_per_variation != b.runs_per_variation {
            diff.push(format!(
                "runs_per_variation is {} in one and {} in the other",
                a.runs_per_variation, b.runs_per_variation
            ));
        }
        if !diff.is_empty() {
            return Err(BatchError::refused(format!(
                "{} and {} ran different batch configs: {}",
                first.dir,
                f.dir,
                diff.join("; ")
            )));
        }
        if a.seed != b.seed {
            return Err(BatchError::refused(format!(
                "{} ran with seed {} and {} with seed {}: the shards of one batch share its seed (give every shard the same --seed)",
                first.dir, a.seed, f.dir, b.seed
            )));
        }
    }
    if let [only] = folders {
        if only.shard.is_none() {
            return Ok(Vec::new());
        }
    }
    if let Some(whole) = folders.iter().find(|f| f.shard.is_none()) {
        return Err(BatchError::refused(format!(
            "{} holds the whole batch (it ran without --shard), so it overlaps every other folder: merge shards, or use it alone",
            whole.dir
        )));
    }
    let shards: Vec<Shard> = folders.iter().filter_map(|f| f.shard).collect();
    let n = shards[0].count();
    if let Some(f) = folders
        .iter()
        .find(|f| f.shard.is_some_and(|s| s.count() != n))
    {
        return Err(BatchError::refused(format!(
            "{} and {} split the batch differently: the shards of one batch are K/N with the same N",
            first.label(),
            f.label()
        )));
    }
    let mut by_number: BTreeMap<u64, &ShardFolder> = BTreeMap::new();
    for f in folders {
        let s = f.shard.expect("checked above");
        if let Some(other) = by_number.insert(s.number(), f) {
            return Err(BatchError::refused(format!(
                "overlapping shards: {} and {} are both shard {s}",
                other.dir, f.dir
            )));
        }
    }
    let missing: Vec<String> = (1..=n)
        .filter(|k| !by_number.contains_key(k))
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(BatchError::refused(format!(
            "missing {} {} (merging {}): add {} folder, or run {} with --shard {}",
            if missing.len() == 1 {
                "shard"
            } else {
                "shards"
            },
            missing.join(", "),
            folders
                .iter()
                .map(ShardFolder::label)
                .collect::<Vec<_>>()
                .join(", "),
            if missing.len() == 1 { "its" } else { "their" },
            if missing.len() == 1 { "it" } else { "them" },
            missing[0]
        )));
    }
    Ok(by_number.values().filter_map(|f| f.shard).collect())
}

/// Combines the output folders of a batch's shards into `output`: every run folder is copied
/// (a completed copy wins over an unfinished one), and the batch files are rebuilt from them.
/// The folders must be the N shards of one batch (the same config and seed), each once; the
/// merged budget is the sum of the shards' shares.
pub async fn merge<S: Storage>(
    storage: &S,
    dirs: &[String],
    output: &str,
) -> Result<MergeOutcome, BatchError> {
    if dirs.is_empty() {
        return Err(BatchError::usage("no folders to merge".into()));
    }
    let mut folders = Vec::new();
    for dir in dirs {
        folders.push(ShardFolder::read(storage, dir).await?);
    }
    let shards = check_shards(&folders)?;
    let first = &dirs[0];
    let config_text = storage
        .read(&paths::join(first, "batch-config.yaml"))
        .await?
        .ok_or_else(|| {
            BatchError::usage(format!(
                "{first} has no batch-config.yaml: is it a batch output folder?"
            ))
        })?;
    let out = paths::normalize(output);
    let config_path = paths::join(&out, "batch-config.yaml");
    storage.write(&config_path, &config_text).await?;
    let mut config = crate::config::load_batch(storage, &config_path)
        .await
        .map_err(|e| BatchError::usage(format!("the merged batch config does not load: {e}")))?
        .value;
    config.output_dir = out.clone();
    let seed = folders[0].state.seed;
    let start_ms = folders
        .iter()
        .map(|f| f.state.start_ms)
        .fold(f64::INFINITY, f64::min);
    let budget: Option<Nanos> = folders.iter().map(|f| f.budget).sum();
    for dir in dirs {
        let runs_dir = paths::join(dir, "runs");
        for run in storage.list(&runs_dir).await?.unwrap_or_default() {
            let target = paths::join(&out, &format!("runs/{}", paths::sanitize_file_name(&run)));
            if scan_run(storage, &target, None)
                .await
                .is_some_and(|s| s.standing.status == RunStatus::Completed)
            {
                continue;
            }
            let source = paths::join(&runs_dir, &run);
            for name in storage.list(&source).await?.unwrap_or_default() {
                if let Some(text) = storage.read(&paths::join(&source, &name)).await? {
                    storage
                        .write(
                            &paths::join(&target, &paths::sanitize_file_name(&name)),
                            &text,
                        )
                        .await?;
                }
            }
        }
    }
    let runs = u64::from(config.runs_per_variation);
    let total = VariationSpace::new(&config.variations)
        .count()
        .saturating_mul(runs);
    let mut known = BTreeMap::new();
    for i in 0..total {
        if let Some(s) = scan_run(
            storage,
            &paths::join(&out, &format!("runs/{}", RunId::from_index(i, runs))),
            None,
        )
        .await
        {
            known.insert(i, s);
        }
    }
    let spent: Nanos = known.values().map(|s| s.cost_nanos).sum();
    let budget = budget.map(nanos_to_usd);
    let files = batch_files(BatchSnapshot {
        config: &config,
        fingerprint: &fingerprint(&config),
        seed,
        start_ms,
        now_ms: start_ms,
        known: &known,
        total,
        shard: None,
        resume: &format!("npx scenario-lab run {config_path} --resume"),
        spent,
        budget,
        done: true,
        stop: None,
        stopping: None,
    });
    save(storage, &out, files).await?;
    let totals = files::totals(&known, total, spent, 0);
    let shards: Vec<String> = shards.iter().map(Shard::to_string).collect();
    let summary = merge_summary(&totals, &shards, budget, output);
    Ok(MergeOutcome {
        totals,
        shards,
        budget_limit: budget,
        summary,
    })
}

/// The sentence `merge` ends with: what it merged into `output`, the runs by status, and what
/// they spent against the batch's budget.
fn merge_summary(t: &BatchTotals, shards: &[String], budget: Option<f64>, output: &str) -> String {
    let what = if shards.is_empty() {
        "the batch".to_string()
    } else {
        format!("shards {}", shards.join(", "))
    };
    let budget = match budget.filter(|b| *b > 0.0) {
        Some(b) => format!(
            " of the batch's {} budget ({:.0}%)",
            crate::plan::usd_as_given(b),
            t.total_spent / b * 100.0
        ),
        None => String::new(),
    };
    format!(
        "merged {what} into {output}: {} of {} runs completed, {} failed, {} halted, ${:.4} spent{budget}",
        t.runs_completed, t.total_runs, t.runs_failed, t.runs_halted, t.total_spent
    )
}
