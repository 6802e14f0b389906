//! Reading a batch output folder into compact per-run rows, one run at a time.
//!
//! The folder is untrusted input: it may be ours, the original Python Scenario Lab's (V1 or V2
//! run files), half-written by a crash, or hand-edited. Every run folder is read on its own; a
//! missing, partial or corrupt file is recorded as a [`Problem`] naming the file and the run goes
//! on without it (or is skipped, when its state is unreadable). Only folder names of the form
//! `var-N-run-M` under `runs/` are opened, so no name in the folder can lead a read elsewhere.
//!
//! Memory: a run becomes one [`RunRow`] (its final values, cost, status) plus pushes into
//! per-turn running accumulators; nothing else of a run is kept once it has been read.

use std::collections::BTreeMap;

use futures_util::stream::{self, StreamExt};
use serde_json::Value;

use super::success::Condition;
use crate::host::{Storage, StorageError};
use crate::paths;
use crate::stats::Running;

/// How many runs are read at once (their files are independent; a host with slow reads, like a
/// browser's file handles, gains from the overlap).
const READ_AHEAD: usize = 16;

/// Problems kept verbatim; beyond this they are only counted.
const MAX_PROBLEMS: usize = 200;

/// How a run ended, as its `scenario-state.json` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Reached its last turn.
    Completed,
    /// Stopped early (cost limit, timeout, end turn, ...).
    Halted,
    /// Stopped by an error.
    Failed,
    /// Interrupted while running (not finished).
    Running,
    /// A status this analyzer does not know.
    Other,
}

impl Status {
    /// The status as written in the files.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Completed => "completed",
            Status::Halted => "halted",
            Status::Failed => "failed",
            Status::Running => "running",
            Status::Other => "other",
        }
    }

    fn parse(text: &str) -> Status {
        match text {
            "completed" => Status::Completed,
            "halted" => Status::Halted,
            "failed" => Status::Failed,
            "running" => Status::Running,
            _ => Status::Other,
        }
    }
}

/// One run, as the analysis keeps it: about 100 bytes, so that 100,000 runs fit in 10 MB.
#[derive(Clone, Debug)]
pub struct RunRow {
    /// The folder name, e.g. `var-001-run-002`.
    pub run_id: Box<str>,
    /// Index into [`Collected::variations`].
    pub variation: u32,
    /// The run number within its variation.
    pub run_number: u32,
    /// Turns completed.
    pub turns: u32,
    /// How it ended.
    pub status: Status,
    /// Whether it counts as a success (completed, and the success condition holds).
    pub success: bool,
    /// The halt reason or the error, when there is one.
    pub reason: Option<Box<str>>,
    /// Total cost in USD.
    pub cost: f64,
    /// Final value of each metric, by index into [`Collected::metrics`]; NaN when not recorded.
    pub finals: Box<[f64]>,
}

impl RunRow {
    /// The index of its variation in [`Collected::variations`].
    pub fn variation(&self) -> usize {
        self.variation as usize
    }
}

/// A variation: the cell of the design that a group of runs shares.
#[derive(Clone, Debug)]
pub struct Variation {
    /// The 1-based id from the folder names.
    pub id: u64,
    /// Readable, e.g. `regulator=gpt-4o, turns=5`.
    pub description: String,
    /// Each varied factor and its level in this variation, e.g. `regulator.model` = `gpt-4o`.
    pub factors: BTreeMap<String, String>,
}

/// Something wrong with the input, and what was done about it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Problem {
    /// The file or folder, relative to the analysed folder.
    pub path: String,
    /// What was wrong and what the analysis did.
    pub message: String,
}

/// Which writer made the folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Scenario Lab (this tool).
    ScenarioLab,
    /// The original Python tool, V1 run files.
    OriginalV1,
    /// The original Python tool, V2 run files.
    OriginalV2,
    /// Runs of more than one kind.
    Mixed,
    /// No readable run.
    Unknown,
}

/// Everything read from a folder.
#[derive(Debug)]
pub struct Collected {
    /// `experiment_name` from the batch files, when found.
    pub experiment: Option<String>,
    /// The success condition in force, when there is one.
    pub success: Option<Condition>,
    /// Metric names, in order of first appearance.
    pub metrics: Vec<String>,
    /// Variations that have at least one run, by id.
    pub variations: Vec<Variation>,
    /// Every readable run, ordered by variation id then run number.
    pub rows: Vec<RunRow>,
    /// Per variation, per metric: a running mean/sd for each turn number (index = turn).
    pub trajectories: BTreeMap<(usize, usize), Vec<Running>>,
    /// Problems found, at most [`MAX_PROBLEMS`] of them.
    pub problems: Vec<Problem>,
    /// Problems beyond those kept.
    pub problems_not_listed: usize,
    /// Who wrote the folder.
    pub format: Format,
}

/// Why the folder could not be read at all.
#[derive(Debug)]
pub enum CollectError {
    /// The host failed.
    Storage(StorageError),
    /// There is no `runs/` folder: this is not a batch output folder.
    NoRuns(String),
    /// The success condition does not parse.
    Success(String),
}

impl std::fmt::Display for CollectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CollectError::Storage(e) => write!(f, "cannot read {}: {}", e.path, e.message),
            CollectError::NoRuns(dir) => write!(
                f,
                "{dir} has no runs/ folder: expected a batch output folder (the output_dir of a batch config)"
            ),
            CollectError::Success(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CollectError {}

impl From<StorageError> for CollectError {
    fn from(e: StorageError) -> Self {
        CollectError::Storage(e)
    }
}

/// `var-N-run-M` → (N, M).
fn parse_run_name(name: &str) -> Option<(u64, u32)> {
    let rest = name.strip_prefix("var-")?;
    let (var, run) = rest.split_once("-run-")?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(var) && digits(run)) {
        return None;
    }
    Some((var.parse().ok()?, run.parse().ok()?))
}

/// The files of one run, as read; the state already parsed.
struct RunFiles {
    name: String,
    ids: (u64, u32),
    state: Result<Option<Result<StateFile, serde_json::Error>>, StorageError>,
    metrics: Result<Option<String>, StorageError>,
    /// Not read for our own runs: their state carries the same total, and is written after
    /// every turn where `costs.json` is written only at the end.
    costs: Result<Option<String>, StorageError>,
}

async fn read_run<S: Storage>(
    storage: &S,
    runs_dir: &str,
    name: String,
    ids: (u64, u32),
) -> RunFiles {
    let dir = paths::join(runs_dir, &name);
    let state = storage
        .read(&paths::join(&dir, "scenario-state.json"))
        .await
        .map(|text| text.map(|t| serde_json::from_str::<StateFile>(&t)));
    let ours = matches!(&state, Ok(Some(Ok(s))) if s.spec.is_some());
    let metrics_path = paths::join(&dir, "metrics.json");
    let (metrics, costs) = if ours {
        (storage.read(&metrics_path).await, Ok(None))
    } else {
        futures_util::future::join(
            storage.read(&metrics_path),
            storage.read(&paths::join(&dir, "costs.json")),
        )
        .await
    };
    RunFiles {
        name,
        ids,
        state,
        metrics,
        costs,
    }
}

/// Reads every run under `<dir>/runs/`. `success` (from the caller) overrides the batch config's
/// `success:`.
pub async fn collect<S: Storage>(
    storage: &S,
    dir: &str,
    success: Option<&str>,
) -> Result<Collected, CollectError> {
    let mut c = Collected {
        experiment: None,
        success: None,
        metrics: Vec::new(),
        variations: Vec::new(),
        rows: Vec::new(),
        trajectories: BTreeMap::new(),
        problems: Vec::new(),
        problems_not_listed: 0,
        format: Format::Unknown,
    };
    let batch = read_batch_files(storage, dir, &mut c).await?;
    let condition = success.map(str::to_string).or(batch.success);
    if let Some(text) = condition {
        let parsed = Condition::parse(&text).map_err(|e| {
            CollectError::Success(format!("success condition `{text}` does not parse: {e}"))
        })?;
        c.success = Some(parsed);
    }

    let runs_dir = paths::join(dir, "runs");
    let Some(names) = storage.list(&runs_dir).await? else {
        return Err(CollectError::NoRuns(dir.to_string()));
    };
    let mut named: Vec<(String, (u64, u32))> = Vec::with_capacity(names.len());
    for name in names {
        match parse_run_name(&name) {
            Some(ids) => named.push((name, ids)),
            None => c.problem(
                format!("runs/{name}"),
                "not a run folder name (var-N-run-M); skipped".into(),
            ),
        }
    }
    named.sort_by_key(|(_, ids)| *ids);

    let mut builder = Builder::new(batch.variations);
    let mut reads = stream::iter(named)
        .map(|(name, ids)| read_run(storage, &runs_dir, name, ids))
        .buffered(READ_AHEAD);
    while let Some(files) = reads.next().await {
        builder.add(&mut c, files)?;
    }
    builder.finish(&mut c);
    Ok(c)
}

/// What the batch-level files say.
#[derive(Default)]
struct BatchInfo {
    success: Option<String>,
    /// Variation id → (description, modifications), from the batch files.
    variations: BTreeMap<u64, (Option<String>, Option<Value>)>,
}

async fn read_batch_files<S: Storage>(
    storage: &S,
    dir: &str,
    c: &mut Collected,
) -> Result<BatchInfo, CollectError> {
    let mut info = BatchInfo::default();
    if let Some(text) = storage.read(&paths::join(dir, "batch-config.yaml")).await? {
        match crate::yaml::parse(&text) {
            Ok(root) => {
                c.experiment = root.get("experiment_name").and_then(|n| n.scalar_text());
                info.success = root.get("success").and_then(|n| n.scalar_text());
            }
            Err(e) => c.problem(
                "batch-config.yaml".into(),
                format!("not valid YAML (line {}); its experiment name and success condition are not used", e.line),
            ),
        }
    }
    // Ours: batch-costs.json has each variation's description.
    if let Some(costs) = read_json(storage, dir, "batch-costs.json", c).await? {
        if let Some(stats) = costs.get("variation_statistics").and_then(Value::as_object) {
            for (id, v) in stats {
                if let Ok(id) = id.parse::<u64>() {
                    let description = v
                        .get("description")
                        .and_then(Value::as_str)
                        .map(String::from);
                    info.variations.entry(id).or_default().0 = description;
                }
            }
        }
    }
    // The original's batch-state.json lists each variation with its modifications.
    if let Some(state) = read_json(storage, dir, "batch-state.json", c).await? {
        if c.experiment.is_none() {
            c.experiment = state
                .get("experiment_name")
                .and_then(Value::as_str)
                .map(String::from);
        }
        for v in state
            .get("variations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(id) = v.get("variation_id").and_then(Value::as_u64) else {
                continue;
            };
            let entry = info.variations.entry(id).or_default();
            if entry.0.is_none() {
                entry.0 = v
                    .get("description")
                    .and_then(Value::as_str)
                    .map(String::from);
            }
            entry.1 = v.get("modifications").cloned();
        }
    }
    Ok(info)
}

async fn read_json<S: Storage>(
    storage: &S,
    dir: &str,
    name: &str,
    c: &mut Collected,
) -> Result<Option<Value>, StorageError> {
    let Some(text) = storage.read(&paths::join(dir, name)).await? else {
        return Ok(None);
    };
    match serde_json::from_str(&text) {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            c.problem(
                name.into(),
                format!("not valid JSON (line {}); ignored", e.line()),
            );
            Ok(None)
        }
    }
}

impl Collected {
    fn problem(&mut self, path: String, message: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem { path, message });
        } else {
            self.problems_not_listed += 1;
        }
    }

    fn metric_index(&mut self, name: &str) -> usize {
        match self.metrics.iter().position(|m| m == name) {
            Some(i) => i,
            None => {
                self.metrics.push(name.to_string());
                self.metrics.len() - 1
            }
        }
    }
}

/// Turns the files of each run into rows, keeping the variation table as runs arrive.
struct Builder {
    batch_variations: BTreeMap<u64, (Option<String>, Option<Value>)>,
    variation_index: BTreeMap<u64, usize>,
    formats: [bool; 3],
}

impl Builder {
    fn new(batch_variations: BTreeMap<u64, (Option<String>, Option<Value>)>) -> Self {
        Builder {
            batch_variations,
            variation_index: BTreeMap::new(),
            formats: [false; 3],
        }
    }

    fn add(&mut self, c: &mut Collected, files: RunFiles) -> Result<(), CollectError> {
        let RunFiles {
            name,
            ids,
            state,
            metrics,
            costs,
        } = files;
        let at = |file: &str| format!("runs/{name}/{file}");
        let state: StateFile = match state? {
            None => {
                c.problem(at("scenario-state.json"), "missing; run skipped".into());
                return Ok(());
            }
            Some(Ok(state)) => state,
            Some(Err(e)) => {
                c.problem(
                    at("scenario-state.json"),
                    format!("{}; run skipped", unreadable(&e)),
                );
                return Ok(());
            }
        };
        let v2 = state.current_phase.is_some() || state.scenario_id.is_some();
        let ours = state.spec.is_some();
        self.formats[if ours {
            0
        } else if v2 {
            2
        } else {
            1
        }] = true;

        let variation = self.variation(c, ids.0, &state);
        let turns = [&state.current_turn, &state.turn]
            .iter()
            .find_map(|v| v.as_ref().and_then(Value::as_u64))
            .unwrap_or(0);
        let mut status = state
            .status
            .as_ref()
            .and_then(Value::as_str)
            .map(Status::parse)
            .unwrap_or(Status::Other);
        if v2 && status == Status::Running {
            // The original V2 runner never updates `status` after its last turn; a run that
            // reached its planned turn count is complete.
            let planned = state
                .scenario_config
                .as_ref()
                .and_then(|s| s.get("turns").or_else(|| s.get("num_turns")))
                .and_then(Value::as_u64);
            if planned.is_some_and(|p| p > 0 && turns >= p) {
                status = Status::Completed;
            }
        }
        let text_of = |v: &Option<Value>| match v {
            Some(Value::String(s)) if !s.is_empty() => Some(s.chars().take(200).collect()),
            Some(Value::Null) | None => None,
            Some(other) => Some(other.to_string()),
        };
        let reason = text_of(&state.halt_reason).or_else(|| text_of(&state.error));
        // Replies cut at their cap are data, but not whole data: never silent.
        if let Some(n) = state.truncated_replies.filter(|n| *n > 0) {
            c.problem(
                at("scenario-state.json"),
                format!("{n} repl{} cut at the output cap (finish_reason: length; see llm-calls.jsonl); raise `max_tokens` for the role if the cut text matters", if n == 1 { "y was" } else { "ies were" }),
            );
        }
        if let Some(n) = state.over_cap_replies.filter(|n| *n > 0) {
            c.problem(
                at("scenario-state.json"),
                format!("{n} repl{} longer than the output cap sent: the provider ignored max_tokens, so their cost was not bounded", if n == 1 { "y was" } else { "ies were" }),
            );
        }

        let cost = match costs? {
            Some(text) => match serde_json::from_str::<CostsFile>(&text) {
                Ok(v) => v.total().or_else(|| {
                    c.problem(
                        at("costs.json"),
                        "has no total_cost; the state's total is used".into(),
                    );
                    state.cost()
                }),
                Err(e) => {
                    c.problem(
                        at("costs.json"),
                        format!("{}; the state's total is used", unreadable(&e)),
                    );
                    state.cost()
                }
            },
            None => state.cost(),
        }
        .unwrap_or(0.0);

        let mut finals = vec![f64::NAN; c.metrics.len()];
        match metrics? {
            Some(text) => self.read_metrics(c, variation, &text, &mut finals, &at("metrics.json")),
            None if status == Status::Completed => c.problem(
                at("metrics.json"),
                "missing in a completed run; no metrics from it".into(),
            ),
            None => {}
        }
        finals.resize(c.metrics.len(), f64::NAN);
        let success = status == Status::Completed
            && c.success.as_ref().is_none_or(|cond| {
                cond.holds(|m| {
                    let i = c.metrics.iter().position(|n| n == m)?;
                    Some(finals[i]).filter(|v| !v.is_nan())
                })
            });
        c.rows.push(RunRow {
            run_id: name.into_boxed_str(),
            // At most one variation per run: fewer than 2^32 of them.
            variation: variation as u32,
            run_number: ids.1,
            status,
            reason: reason.map(String::into_boxed_str),
            turns: turns.min(u64::from(u32::MAX)) as u32,
            cost,
            success,
            finals: finals.into_boxed_slice(),
        });
        Ok(())
    }

    /// The index of variation `id`, adding it (with its description and factors) on first sight.
    fn variation(&mut self, c: &mut Collected, id: u64, state: &StateFile) -> usize {
        if let Some(&i) = self.variation_index.get(&id) {
            return i;
        }
        let (description, batch_mods) = self.batch_variations.remove(&id).unwrap_or_default();
        let mods = state
            .spec
            .as_ref()
            .and_then(|s| s.get("modifications"))
            .or(batch_mods.as_ref());
        let factors = mods.map(factors_of).unwrap_or_default();
        let description = description.unwrap_or_else(|| {
            if factors.is_empty() {
                format!("Variation {id}")
            } else {
                factors
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        });
        c.variations.push(Variation {
            id,
            description,
            factors,
        });
        self.variation_index.insert(id, c.variations.len() - 1);
        c.variations.len() - 1
    }

    fn read_metrics(
        &self,
        c: &mut Collected,
        variation: usize,
        text: &str,
        finals: &mut Vec<f64>,
        path: &str,
    ) {
        let parsed = if text.trim_start().starts_with('[') {
            serde_json::from_str::<Vec<MetricRecord>>(text).map(MetricsFile::Records)
        } else {
            before_records(text)
                .and_then(|head| serde_json::from_str::<MetricsMaps>(&head).ok())
                .map_or_else(|| serde_json::from_str::<MetricsMaps>(text), Ok)
                .map(MetricsFile::Maps)
        };
        let v = match parsed {
            Ok(v) => v,
            Err(e) => {
                c.problem(
                    path.into(),
                    format!("{}; its metrics are not used", unreadable(&e)),
                );
                return;
            }
        };
        let mut non_numeric = Vec::new();
        let put_final = |c: &mut Collected, finals: &mut Vec<f64>, name: &str, value: f64| {
            let i = c.metric_index(name);
            if finals.len() <= i {
                finals.resize(i + 1, f64::NAN);
            }
            finals[i] = value;
        };
        let push_turn = |c: &mut Collected, name: &str, turn: u64, value: f64| {
            let i = c.metric_index(name);
            let series = c.trajectories.entry((variation, i)).or_default();
            let turn = turn.min(10_000) as usize;
            if series.len() <= turn {
                series.resize(turn + 1, Running::default());
            }
            series[turn].push(value);
        };
        match v {
            // Ours and the original V1: final_metrics and metrics_by_turn maps.
            MetricsFile::Maps(maps) => {
                for (name, value) in maps.final_metrics.iter().flatten() {
                    match number(value) {
                        Some(x) => put_final(c, finals, name, x),
                        None => non_numeric.push(name.clone()),
                    }
                }
                for (turn, values) in maps.metrics_by_turn.iter().flatten() {
                    let Ok(turn) = turn.parse::<u64>() else {
                        continue;
                    };
                    for (name, value) in values.as_object().into_iter().flatten() {
                        if let Some(x) = number(value) {
                            push_turn(c, name, turn, x);
                        }
                    }
                }
            }
            // The original V2: a list of {name, value, turn} records; the final value of a
            // metric is its record with the highest turn.
            MetricsFile::Records(records) => {
                let mut last: BTreeMap<&str, (u64, Option<f64>)> = BTreeMap::new();
                for r in &records {
                    let (Some(name), Some(value)) =
                        (r.name.as_ref().and_then(Value::as_str), r.value.as_ref())
                    else {
                        continue;
                    };
                    let turn = r.turn.as_ref().and_then(Value::as_u64).unwrap_or(0);
                    let x = number(value);
                    if let Some(x) = x {
                        push_turn(c, name, turn, x);
                    }
                    let slot = last.entry(name).or_insert((turn, x));
                    if turn >= slot.0 {
                        *slot = (turn, x);
                    }
                }
                for (name, (_, x)) in last {
                    match x {
                        Some(x) => put_final(c, finals, name, x),
                        None => non_numeric.push(name.to_string()),
                    }
                }
            }
        }
        if !non_numeric.is_empty() {
            c.problem(
                path.into(),
                format!(
                    "non-numeric final value of {} (not counted)",
                    non_numeric.join(", ")
                ),
            );
        }
    }

    fn finish(self, c: &mut Collected) {
        c.format = match self.formats {
            [false, false, false] => Format::Unknown,
            [true, false, false] => Format::ScenarioLab,
            [false, true, false] => Format::OriginalV1,
            [false, false, true] => Format::OriginalV2,
            _ => Format::Mixed,
        };
        let width = c.metrics.len();
        for row in c.rows.iter_mut().filter(|r| r.finals.len() < width) {
            let mut finals = std::mem::take(&mut row.finals).into_vec();
            finals.resize(width, f64::NAN);
            row.finals = finals.into_boxed_slice();
        }
        // Rows arrive in (variation id, run number) order already; variations are pushed in
        // first-seen order, which is the same.
    }
}

/// A metric value as a number: numbers and booleans (as the original counted them); text such
/// as "NaN" or "high" is not a measurement.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64().filter(|x| x.is_finite()),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// The fields of `scenario-state.json` the analysis reads (ours, V1 and V2 between them). Every
/// other field, such as V1's whole world history, is skipped without being built. Leaves are
/// `Value`s so that a field of an unexpected type is ignored rather than fatal.
#[derive(serde::Deserialize)]
struct StateFile {
    status: Option<Value>,
    halt_reason: Option<Value>,
    error: Option<Value>,
    current_turn: Option<Value>,
    turn: Option<Value>,
    spec: Option<Value>,
    current_phase: Option<serde::de::IgnoredAny>,
    scenario_id: Option<serde::de::IgnoredAny>,
    scenario_config: Option<Value>,
    total_cost: Option<Value>,
    cost_tracker_state: Option<Value>,
    truncated_replies: Option<u64>,
    over_cap_replies: Option<u64>,
}

impl StateFile {
    /// The run's total from its state, for runs whose `costs.json` is missing (the original
    /// wrote it only at the end).
    fn cost(&self) -> Option<f64> {
        self.total_cost
            .as_ref()
            .and_then(Value::as_f64)
            .or_else(|| {
                self.cost_tracker_state
                    .as_ref()?
                    .get("total_cost")?
                    .as_f64()
            })
            .filter(|x| x.is_finite() && *x >= 0.0)
    }
}

/// The fields of `costs.json` the analysis reads.
#[derive(serde::Deserialize)]
struct CostsFile {
    total_cost_nanos: Option<Value>,
    total_cost: Option<Value>,
    totals: Option<Value>,
}

impl CostsFile {
    /// Ours: `total_cost_nanos` (exact); V2: `total_cost`; V1: `totals.total_cost_usd`.
    fn total(&self) -> Option<f64> {
        if let Some(nanos) = self.total_cost_nanos.as_ref().and_then(Value::as_u64) {
            return Some(nanos as f64 / 1e9);
        }
        self.total_cost
            .as_ref()
            .and_then(Value::as_f64)
            .or_else(|| self.totals.as_ref()?.get("total_cost_usd")?.as_f64())
            .filter(|x| x.is_finite() && *x >= 0.0)
    }
}

/// Our `metrics.json` ends with `records`, the per-extraction list, which the analysis does
/// not need and which is most of the file (and of the time spent parsing a large folder). When
/// the text has our layout -- pretty-printed, keys sorted, `final_metrics` and
/// `metrics_by_turn` before a top-level `"records"` -- this is the object without it. The cut
/// is at a top-level key by construction: JSON cannot hold a raw newline inside a string, and a
/// nested key is indented deeper. Whatever does not fit (or then fails to parse) is parsed
/// whole.
fn before_records(text: &str) -> Option<String> {
    let cut = text.find("\n  \"records\": ")?;
    let head = text[..cut].trim_end().strip_suffix(',')?;
    let has = |key: &str| head.contains(&format!("\n  \"{key}\": "));
    (has("final_metrics") && has("metrics_by_turn")).then(|| format!("{head}\n}}"))
}

/// What was wrong with a JSON file, in the user's terms (serde's own words name our types).
fn unreadable(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => format!("not the expected JSON object (line {})", e.line()),
        _ => format!("not valid JSON (line {}, column {})", e.line(), e.column()),
    }
}

/// `metrics.json` in either shape.
enum MetricsFile {
    /// Ours and V1.
    Maps(MetricsMaps),
    /// V2.
    Records(Vec<MetricRecord>),
}

#[derive(serde::Deserialize)]
struct MetricsMaps {
    final_metrics: Option<serde_json::Map<String, Value>>,
    metrics_by_turn: Option<serde_json::Map<String, Value>>,
}

#[derive(serde::Deserialize)]
struct MetricRecord {
    name: Option<Value>,
    value: Option<Value>,
    turn: Option<Value>,
}

/// The factors of a variation from its `modifications` (ours and the original's shape).
fn factors_of(mods: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for (actor, model) in mods
        .get("actor_models")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        out.insert(format!("{actor}.model"), text(model));
    }
    for (actor, params) in mods
        .get("actor_overrides")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (param, value) in params.as_object().into_iter().flatten() {
            out.insert(format!("{actor}.{param}"), text(value));
        }
    }
    for (param, value) in mods
        .get("scenario_overrides")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        out.insert(param.clone(), text(value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_cut_only_from_our_layout() {
        let ours = "{\n  \"final_metrics\": {\n    \"x\": 1.0\n  },\n  \"flagged\": 0,\n  \"metrics_by_turn\": {},\n  \"records\": [\n    {}\n  ],\n  \"scenario\": \"s\"\n}\n";
        let head = before_records(ours).unwrap();
        assert!(!head.contains("records") && !head.contains("scenario"));
        let parsed: MetricsMaps = serde_json::from_str(&head).unwrap();
        assert_eq!(parsed.final_metrics.unwrap()["x"], 1.0);
        // Compact text, a nested "records", or finals after the records: parsed whole.
        assert_eq!(
            before_records("{\"final_metrics\":{},\"records\":[]}"),
            None
        );
        assert_eq!(
            before_records("{\n  \"final_metrics\": {\n    \"records\": 1\n  }\n}"),
            None
        );
        assert_eq!(
            before_records(
                "{\n  \"metrics_by_turn\": {},\n  \"records\": [],\n  \"final_metrics\": {}\n}"
            ),
            None
        );
    }

    #[test]
    fn run_names() {
        assert_eq!(parse_run_name("var-001-run-002"), Some((1, 2)));
        assert_eq!(parse_run_name("var-123-run-4567"), Some((123, 4567)));
        assert_eq!(parse_run_name("var--run-1"), None);
        assert_eq!(parse_run_name("var-1-run-1x"), None);
        assert_eq!(parse_run_name("../var-1-run-1"), None);
        assert_eq!(parse_run_name("var-1-run-1/.."), None);
    }
}
