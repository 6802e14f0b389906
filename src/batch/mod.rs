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

use std::collections::BTreeMap;

use futures_util::future::{select, Either};
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::config::BatchConfig;
use crate::engine::{self, ReplyCounts, RunSpec, RunStatus, CALL_LOG, STATE_FILE};
use crate::host::{Clock, Llm, Storage};
use crate::llm::{CallRecord, Client};
use crate::paths;
use crate::plan::variations::{apply, VariationSpace};
use crate::pricing::{nanos_to_usd, usd_to_nanos, Nanos, PriceBook};
use crate::rng::derive;
pub use files::{batch_files, BatchTotals, RunSummary};
use guard::{BatchGuard, RunGuard};

/// How the host asked for the batch to run.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchOptions {
    /// Continue the batch in `output_dir`.
    #[serde(default)]
    pub resume: bool,
    /// Overrides the config's `budget_limit` (USD).
    pub budget_limit: Option<f64>,
    /// `[k, n]`: run only the runs whose index modulo n is k.
    pub shard: Option<(u64, u64)>,
    /// A random seed from the host, for a batch that has none yet.
    #[serde(default)]
    pub fresh_seed: u64,
    /// `--pilot N`: start only runs 1..=N of each variation (the rest wait for a resume).
    pub pilot: Option<u32>,
    /// `--call-timeout SECONDS`: over the config's `call_timeout`.
    pub call_timeout: Option<f64>,
}

/// How long the calls in flight of a run past its `timeout_per_run` may take to answer before
/// they are dropped: an answer that arrives is likely billed, so it is recorded rather than
/// thrown away; a request still open after this is aborted.
pub const TIMEOUT_GRACE_MS: f64 = 30_000.0;

/// What the host learns while the batch runs, and how it asks the batch to stop.
pub trait Control {
    /// An event: `{"type": ..., "data": {...}}` (see the README for the list; it may grow).
    fn emit(&self, event: Value);
    /// Whether the user asked to stop (Ctrl+C, a Stop button).
    fn stop_requested(&self) -> bool;
}

/// Why a batch could not start.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchError {
    /// A limit is set but some models have no price.
    UnknownPrices(Vec<String>),
    /// The config changed since the batch started, in these ways.
    ConfigChanged(Vec<String>),
    /// The output folder already holds this batch (and `--resume` was not given).
    AlreadyStarted(String),
    /// Storage failed.
    Storage(String),
}

impl std::fmt::Display for BatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BatchError::UnknownPrices(models) => write!(
                f,
                "the batch has a budget, but no price is known for {}: add them under `prices:` in the batch config (USD per million prompt and completion tokens), for example\n  prices:\n    \"{}\": {{prompt: 0.5, completion: 1.5}}",
                models.join(", "),
                models[0]
            ),
            BatchError::ConfigChanged(what) => write!(
                f,
                "the batch config changed since this batch started, so its runs would not be comparable: {}. Restore it, or use another output_dir. (Raising limits or runs_per_variation is allowed.)",
                what.join("; ")
            ),
            BatchError::AlreadyStarted(dir) => write!(f, "`{dir}` already holds this batch: continue it with --resume, or choose another output_dir"),
            BatchError::Storage(e) => write!(f, "storage failed: {e}"),
        }
    }
}

/// How a batch ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchOutcome {
    /// Counts and money.
    #[serde(flatten)]
    pub totals: BatchTotals,
    /// Why it stopped early, when it did: `budget` or `interrupted`.
    pub stop_reason: Option<String>,
    /// A sentence saying why.
    pub stop_message: Option<String>,
    /// Where the outputs are.
    pub output_dir: String,
}

/// What must not change between the sessions of one batch.
/// `aggregate_metrics`: the analysis of the output folder, written to `<output_dir>/analysis/`.
/// A batch's results stand without it, so a failure here is reported, not fatal.
async fn analyse<S: Storage>(storage: &S, out_dir: &str, control: &dyn Control) {
    match crate::analysis::analyze(storage, out_dir, &Default::default()).await {
        Ok(a) => control.emit(json!({"type": "analysis", "data": {
            "dir": paths::join(out_dir, "analysis"),
            "files": a.files,
            "runs": a.patterns.total_runs,
            "success_rate": a.patterns.success_rate,
            "problems": a.problems.len() + a.problems_not_listed,
        }})),
        Err(e) => control.emit(json!({"type": "note", "data": {
            "message": format!("aggregate_metrics: the analysis failed: {e}; run `scenario-lab analyze {out_dir}` to try again")
        }})),
    }
}

fn fingerprint(config: &BatchConfig) -> Value {
    json!({
        "base_scenario": config.scenario_dir,
        "scenario": serde_json::to_value(&config.scenario).unwrap_or(Value::Null),
        "variations": config.variations,
        "save_individual_runs": config.save_individual_runs,
    })
}

fn changes(old: &Value, new: &Value, runs_before: u64, runs_now: u32) -> Vec<String> {
    let mut out = Vec::new();
    if old.get("base_scenario") != new.get("base_scenario") {
        out.push(format!(
            "base_scenario was {} and is now {}",
            old["base_scenario"], new["base_scenario"]
        ));
    }
    if old.get("scenario") != new.get("scenario") {
        let (a, b) = (&old["scenario"], &new["scenario"]);
        let keys: Vec<String> = b
            .as_object()
            .map(|o| {
                o.keys()
                    .filter(|k| a.get(k.as_str()) != b.get(k.as_str()))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        out.push(format!(
            "the scenario's {} changed",
            if keys.is_empty() {
                "files".into()
            } else {
                keys.join(", ")
            }
        ));
    }
    if old.get("variations") != new.get("variations") {
        out.push("the variations changed".into());
    }
    if old.get("save_individual_runs") != new.get("save_individual_runs") {
        out.push("save_individual_runs changed".into());
    }
    if u64::from(runs_now) < runs_before {
        out.push(format!(
            "runs_per_variation went down from {runs_before} to {runs_now}"
        ));
    }
    out
}

/// What the batch knows of one run when it starts.
async fn scan_run<S: Storage>(storage: &S, dir: &str) -> Option<RunSummary> {
    let state: Value =
        serde_json::from_str(&storage.read(&paths::join(dir, STATE_FILE)).await.ok()??).ok()?;
    let log = storage
        .read(&paths::join(dir, CALL_LOG))
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut ledger = engine::Ledger::default();
    for record in log
        .lines()
        .filter_map(|l| serde_json::from_str::<CallRecord>(l).ok())
    {
        ledger.add(&record);
    }
    let mut summary = RunSummary {
        status: serde_json::from_value(state["status"].clone()).unwrap_or(RunStatus::Running),
        halt_reason: state["halt_reason"].as_str().map(str::to_string),
        error: state["error"].as_str().map(str::to_string),
        cost_nanos: ledger.total_nanos,
        turns: state["current_turn"].as_u64().unwrap_or(0) as u32,
        replies: ReplyCounts::from(&ledger),
    };
    if ledger.calls == 0 {
        // A run kept without its call log (save_individual_runs: false) has its costs.json.
        if let Ok(Some(text)) = storage.read(&paths::join(dir, "costs.json")).await {
            let costs = serde_json::from_str::<Value>(&text).unwrap_or_default();
            let n = |k: &str| costs[k].as_u64().unwrap_or(0);
            summary.cost_nanos = n("total_cost_nanos");
            summary.replies = ReplyCounts {
                truncated: n("truncated_replies"),
                over_cap: n("over_cap_replies"),
                possibly_billed_retries: n("possibly_billed_retries"),
            };
        }
    }
    Some(summary)
}

/// Files a run keeps when `save_individual_runs` is false.
const KEPT: [&str; 3] = ["metrics.json", "costs.json", STATE_FILE];

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
    let se = |e: crate::host::StorageError| BatchError::Storage(e.to_string());
    let out_dir = paths::normalize(&config.output_dir);
    let budget = opts.budget_limit.or(config.budget_limit);
    if budget.is_some() || config.cost_per_run_limit.is_some() {
        let unknown: Vec<String> = crate::plan::called_models(config)
            .into_iter()
            .filter(|m| client.prices().price(m).is_none())
            .collect();
        if !unknown.is_empty() {
            return Err(BatchError::UnknownPrices(unknown));
        }
    }
    let state_path = paths::join(&out_dir, "batch-state.json");
    let previous: Option<Value> = storage
        .read(&state_path)
        .await
        .map_err(se)?
        .and_then(|t| serde_json::from_str(&t).ok());
    let print = fingerprint(config);
    let seed = match &previous {
        Some(p) if !opts.resume => {
            let _ = p;
            return Err(BatchError::AlreadyStarted(out_dir));
        }
        Some(p) => {
            let diff = changes(
                &p["fingerprint"],
                &print,
                p["runs_per_variation"].as_u64().unwrap_or(0),
                config.runs_per_variation,
            );
            if !diff.is_empty() {
                return Err(BatchError::ConfigChanged(diff));
            }
            p["seed"].as_u64().unwrap_or(opts.fresh_seed)
        }
        None => opts.fresh_seed,
    };
    let started_ms = previous
        .as_ref()
        .and_then(|p| p["start_ms"].as_f64())
        .unwrap_or_else(|| clock.now_ms());
    let config_copy = paths::join(&out_dir, "batch-config.yaml");
    if paths::normalize(&config.path) != config_copy {
        storage.write(&config_copy, config_text).await.map_err(se)?;
    }
    let space = VariationSpace::new(&config.variations);
    let runs = u64::from(config.runs_per_variation);
    let total = space.count().saturating_mul(runs);
    let in_shard = |i: u64| opts.shard.is_none_or(|(k, n)| i % n.max(1) == k);
    // What earlier sessions did: the run folders are the truth.
    // Only the run folders that exist are read (a batch of a million runs starts at once).
    let mut known: BTreeMap<u64, RunSummary> = BTreeMap::new();
    let runs_dir = paths::join(&out_dir, "runs");
    for name in storage
        .list(&runs_dir)
        .await
        .map_err(se)?
        .unwrap_or_default()
    {
        let Some(i) = run_index(&name, runs).filter(|i| *i < total && in_shard(*i)) else {
            continue;
        };
        if let Some(s) = scan_run(storage, &paths::join(&runs_dir, &name)).await {
            known.insert(i, s);
        }
    }
    let spent: Nanos = known.values().map(|s| s.cost_nanos).sum();
    let guard = BatchGuard::new(budget.map(usd_to_nanos), spent);
    let retried: Vec<u64> = known
        .iter()
        .filter(|(_, s)| s.status == RunStatus::Failed)
        .map(|(i, _)| *i)
        .collect();
    // The runs to do, walked lazily: memory grows with what is known, not with the plan.
    let completed_at_start: std::collections::BTreeSet<u64> = known
        .iter()
        .filter(|(_, s)| s.status == RunStatus::Completed)
        .map(|(i, _)| *i)
        .collect();
    let in_shard_count = match opts.shard {
        Some((k, n)) => total / n.max(1) + u64::from(total % n.max(1) > k),
        None => total,
    };
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
    let mut queue = queue();
    control.emit(json!({"type": "batch_started", "data": {
        "experiment_name": config.experiment_name, "output_dir": out_dir, "total_runs": total,
        "in_shard": in_shard_count, "to_run": to_run,
        "already_completed": completed_at_start.len(),
        "retrying_failed": retried.iter().map(|i| engine_run_id(*i, runs)).collect::<Vec<_>>(),
        "max_parallel": config.max_parallel, "budget_limit": budget, "spent": nanos_to_usd(spent), "seed": seed,
        "resumed": previous.is_some(),
    }}));

    let mut in_flight = FuturesUnordered::new();
    let mut last_save = clock.now_ms();
    let files_now = |known: &BTreeMap<u64, RunSummary>, done: bool, guard: &BatchGuard| {
        batch_files(
            config,
            &print,
            seed,
            started_ms,
            clock.now_ms(),
            known,
            total,
            opts.shard,
            guard.spent(),
            budget,
            done,
            guard.stopping(),
        )
    };
    // The seed must be on disk before any run starts: a batch killed in its first seconds
    // resumes with the same seed, so its runs ask the same questions and replay their calls.
    save(storage, &out_dir, files_now(&known, false, &guard))
        .await
        .map_err(se)?;
    loop {
        if control.stop_requested() {
            guard.stop("interrupted", "the batch was asked to stop");
        }
        while in_flight.len() < config.max_parallel as usize && guard.stopping().is_none() {
            let Some(i) = queue.next() else { break };
            in_flight.push(one_run(
                storage,
                client,
                clock,
                config,
                i,
                seed,
                &guard,
                control,
                &out_dir,
                in_flight.len() + 1,
            ));
        }
        if in_flight.is_empty() {
            break;
        }
        // Wake at least every second, to notice a stop request while runs are waiting.
        let next = std::pin::pin!(in_flight.next());
        let tick = std::pin::pin!(clock.sleep(1000.0));
        if let Either::Left((Some((i, summary)), _)) = select(next, tick).await {
            known.insert(i, summary);
            if clock.now_ms() - last_save >= 2000.0 {
                save(storage, &out_dir, files_now(&known, false, &guard))
                    .await
                    .map_err(se)?;
                last_save = clock.now_ms();
            }
        }
    }
    save(storage, &out_dir, files_now(&known, true, &guard))
        .await
        .map_err(se)?;
    let totals = files::totals(&known, total, guard.spent());
    let stop = guard.stopping();
    if config.aggregate_metrics {
        analyse(storage, &out_dir, control).await;
    }
    let outcome = BatchOutcome {
        totals,
        stop_reason: stop.as_ref().map(|s| s.0.clone()),
        stop_message: stop.map(|s| s.1),
        output_dir: out_dir.clone(),
    };
    control.emit(json!({"type": "summary", "data": outcome}));
    Ok(outcome)
}

async fn save<S: Storage>(
    storage: &S,
    dir: &str,
    files: Vec<(&'static str, Value)>,
) -> Result<(), crate::host::StorageError> {
    for (name, value) in files {
        storage
            .write(&paths::join(dir, name), &format!("{value:#}\n"))
            .await?;
    }
    Ok(())
}

/// The 0-based index of a run folder's name (`var-002-run-003` with 5 runs per variation is 7).
fn run_index(name: &str, runs_per_variation: u64) -> Option<u64> {
    let (v, r) = crate::plan::variations::parse_run_id(name)?;
    (r <= runs_per_variation).then(|| (v - 1) * runs_per_variation + (r - 1))
}

/// The id of the run at 0-based index `i` (variation-major: var-001-run-001, -002, ...).
pub fn engine_run_id(i: u64, runs_per_variation: u64) -> String {
    crate::plan::run_id(
        i / runs_per_variation.max(1) + 1,
        i % runs_per_variation.max(1) + 1,
    )
}

#[allow(clippy::too_many_arguments)]
async fn one_run<S: Storage, L: Llm, C: Clock>(
    storage: &S,
    client: &Client<'_, L, C>,
    clock: &C,
    config: &BatchConfig,
    i: u64,
    seed: u64,
    guard: &BatchGuard,
    control: &dyn Control,
    out_dir: &str,
    in_flight: usize,
) -> (u64, RunSummary) {
    let runs = u64::from(config.runs_per_variation);
    let id = engine_run_id(i, runs);
    let dir = paths::join(out_dir, &format!("runs/{id}"));
    let variation = VariationSpace::new(&config.variations).get(i / runs.max(1));
    control.emit(json!({"type": "run_started", "data": {"run_id": id, "variation_id": variation.variation_id, "description": variation.description, "in_flight": in_flight}}));
    let failed = |error: String| RunSummary {
        status: RunStatus::Failed,
        halt_reason: Some("error".into()),
        error: Some(error),
        cost_nanos: 0,
        turns: 0,
        replies: ReplyCounts::default(),
    };
    let summary = match apply(&config.scenario, &variation.modifications) {
        Err(e) => failed(e),
        Ok(scenario) => {
            // A run that already started keeps the seed it recorded.
            let recorded = storage
                .read(&paths::join(&dir, STATE_FILE))
                .await
                .ok()
                .flatten()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .and_then(|v| v["seed"].as_u64());
            let spec = RunSpec {
                scenario_dir: config.scenario_dir.clone(),
                modifications: variation.modifications.clone(),
                seed: recorded.unwrap_or_else(|| derive(seed, &id)),
                branch: None,
                cost_limit: config.cost_per_run_limit,
                max_tokens: None,
            };
            let run_guard = RunGuard::new(guard);
            // The run future lives in this block only: when it gives no outcome, it is dropped
            // here, which aborts its open requests, before the run's files are read.
            let outcome = {
                let mut run = std::pin::pin!(engine::run_guarded(
                    storage, client, clock, &scenario, &spec, &dir, &run_guard
                ));
                let limit = std::pin::pin!(clock.sleep(config.timeout_per_run * 1000.0));
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
                    if o.status == RunStatus::Completed && !config.save_individual_runs {
                        for name in storage.list(&dir).await.ok().flatten().unwrap_or_default() {
                            if !KEPT.contains(&name.as_str()) {
                                let _ = storage.remove(&paths::join(&dir, &name)).await;
                            }
                        }
                    }
                    RunSummary {
                        status: o.status,
                        halt_reason: o.halt_reason,
                        error: o.error,
                        cost_nanos: usd_to_nanos(o.total_cost),
                        turns: o.current_turn,
                        replies: o.replies,
                    }
                }
                None => {
                    // Calls still open after the grace time: the run is dropped mid-turn (its
                    // requests are aborted). Its call log holds every answered call, so a
                    // resume continues it. Mark it halted, with what it spent.
                    let mut s = scan_run(storage, &dir)
                        .await
                        .unwrap_or_else(|| failed(String::new()));
                    s.status = RunStatus::Halted;
                    s.halt_reason = Some("timeout".into());
                    s.error = None;
                    let path = paths::join(&dir, STATE_FILE);
                    if let Ok(Some(text)) = storage.read(&path).await {
                        if let Ok(mut v) = serde_json::from_str::<Value>(&text) {
                            v["status"] = json!("halted");
                            v["halt_reason"] = json!("timeout");
                            let _ = storage.write(&path, &format!("{v:#}\n")).await;
                        }
                    }
                    let _ = storage.write(&paths::join(&dir, "costs.json"), &format!("{:#}\n", json!({"total_cost": nanos_to_usd(s.cost_nanos), "total_cost_nanos": s.cost_nanos, "note": "the run passed timeout_per_run; resume the batch to finish it"}))).await;
                    s
                }
            }
        }
    };
    control.emit(json!({"type": "run_finished", "data": {
        "run_id": id, "variation_id": variation.variation_id, "status": summary.status,
        "halt_reason": summary.halt_reason, "error": summary.error, "turns": summary.turns,
        "cost": nanos_to_usd(summary.cost_nanos), "spent": nanos_to_usd(guard.spent()),
        "rate_limits": client.limiter_stats().iter().map(|(b, l, f, n)| json!({"endpoint": b, "limit": l, "in_flight": f, "rate_limited": n})).collect::<Vec<_>>(),
    }}));
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

/// Combines the output folders of a batch's shards into `output`: every run folder is copied
/// (a completed copy wins over an unfinished one), and the batch files are rebuilt from them.
pub async fn merge<S: Storage>(
    storage: &S,
    dirs: &[String],
    output: &str,
) -> Result<BatchTotals, BatchError> {
    let se = |e: crate::host::StorageError| BatchError::Storage(e.to_string());
    let first = dirs
        .first()
        .ok_or_else(|| BatchError::Storage("no folders to merge".into()))?;
    let config_text = storage
        .read(&paths::join(first, "batch-config.yaml"))
        .await
        .map_err(se)?
        .ok_or_else(|| {
            BatchError::Storage(format!(
                "{first} has no batch-config.yaml: is it a batch output folder?"
            ))
        })?;
    let out = paths::normalize(output);
    let config_path = paths::join(&out, "batch-config.yaml");
    storage
        .write(&config_path, &config_text)
        .await
        .map_err(se)?;
    let mut config = crate::config::load_batch(storage, &config_path)
        .await
        .map_err(|e| BatchError::Storage(format!("the merged batch config does not load: {e}")))?
        .value;
    config.output_dir = out.clone();
    let previous: Option<Value> = storage
        .read(&paths::join(first, "batch-state.json"))
        .await
        .map_err(se)?
        .and_then(|t| serde_json::from_str(&t).ok());
    let seed = previous
        .as_ref()
        .and_then(|p| p["seed"].as_u64())
        .unwrap_or(0);
    let start_ms = previous
        .as_ref()
        .and_then(|p| p["start_ms"].as_f64())
        .unwrap_or(0.0);
    for dir in dirs {
        let runs_dir = paths::join(dir, "runs");
        for run in storage
            .list(&runs_dir)
            .await
            .map_err(se)?
            .unwrap_or_default()
        {
            let target = paths::join(&out, &format!("runs/{}", paths::sanitize_file_name(&run)));
            if scan_run(storage, &target)
                .await
                .is_some_and(|s| s.status == RunStatus::Completed)
            {
                continue;
            }
            let source = paths::join(&runs_dir, &run);
            for name in storage.list(&source).await.map_err(se)?.unwrap_or_default() {
                if let Some(text) = storage
                    .read(&paths::join(&source, &name))
                    .await
                    .map_err(se)?
                {
                    storage
                        .write(
                            &paths::join(&target, &paths::sanitize_file_name(&name)),
                            &text,
                        )
                        .await
                        .map_err(se)?;
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
            &paths::join(&out, &format!("runs/{}", engine_run_id(i, runs))),
        )
        .await
        {
            known.insert(i, s);
        }
    }
    let spent: Nanos = known.values().map(|s| s.cost_nanos).sum();
    let files = batch_files(
        &config,
        &fingerprint(&config),
        seed,
        start_ms,
        start_ms,
        &known,
        total,
        None,
        spent,
        config.budget_limit,
        true,
        None,
    );
    save(storage, &out, files).await.map_err(se)?;
    Ok(files::totals(&known, total, spent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_and_indexes_round_trip() {
        for runs in [1, 3, 1000] {
            for i in [0, 1, 2, 999, 5000] {
                assert_eq!(
                    run_index(&engine_run_id(i, runs), runs),
                    Some(i),
                    "{i} of {runs}"
                );
            }
        }
        assert_eq!(engine_run_id(7, 5), "var-002-run-003");
        assert_eq!(run_index("var-002-run-006", 5), None, "run 6 of 5");
        assert_eq!(run_index("notes.txt", 5), None);
        assert_eq!(run_index("var-000-run-001", 5), None);
    }
}
