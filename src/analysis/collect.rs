//! Reading a batch output folder into compact per-run rows, one run at a time.
//!
//! The folder is untrusted input: it may be ours, the original Python Scenario Lab's (V1 or V2
//! run files), half-written by a crash, or hand-edited. Every run folder is read on its own; a
//! missing, partial or corrupt file is recorded as a [`Problem`] naming the file and the run goes
//! on without it (or is skipped, when its state is unreadable). Only folder names of the form
//! `var-N-run-M` under `runs/` are opened, so no name in the folder can lead a read elsewhere.
//!
//! The files' shapes are not here: ours are the types of [`crate::schema::run`], the original's
//! are read by [`crate::schema::original`], and both come here as one view of a run
//! ([`SeenState`], [`SeenMetric`]s).
//!
//! Memory: a run becomes one [`RunRow`] (its final values, cost, status, seed) plus pushes into
//! per-turn running accumulators; nothing else of a run is kept once it has been read.

use std::collections::BTreeMap;

use futures_util::stream::{self, StreamExt};
use serde::Deserialize;

use super::success::Condition;
use crate::host::{Storage, StorageError};
use crate::paths;
use crate::plan::variations::Modifications;
use crate::schema::batch::StoppingRecord;
use crate::schema::original::{self, SeenMetric, SeenState, Writer};
use crate::schema::run::{Metrics, COSTS_FILE, METRICS_FILE};
use crate::schema::{RunId, RunStatus, ScenarioState};
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
}

impl From<Option<RunStatus>> for Status {
    fn from(status: Option<RunStatus>) -> Status {
        match status {
            Some(RunStatus::Completed) => Status::Completed,
            Some(RunStatus::Halted) => Status::Halted,
            Some(RunStatus::Failed) => Status::Failed,
            Some(RunStatus::Running) => Status::Running,
            None => Status::Other,
        }
    }
}

/// One run, as the analysis keeps it: under 100 bytes (a test holds it there), so that
/// 100,000 runs fit in 10 MB.
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
    /// The run's seed, when its state records one: what [`super::design`] pairs runs by.
    pub seed: Option<u64>,
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
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Problem {
    /// The file or folder, relative to the analysed folder.
    pub path: String,
    /// What was wrong and what the analysis did.
    pub message: String,
}

/// Which writer made the folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS))]
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
    /// What providers' caches and batch prices saved the runs (ours: their `costs.json`).
    pub savings: crate::schema::run::Savings,
    /// Runs whose state names their block (ours in a paired batch: `spec.block`).
    pub runs_declaring_block: usize,
    /// The stopping rule's record from `batch-state.json`, when the batch had a rule.
    pub stopping: Option<StoppingRecord>,
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

/// The files of one run, as read; the state already parsed.
struct RunFiles {
    name: String,
    id: RunId,
    state: Result<Option<Result<SeenState, serde_json::Error>>, StorageError>,
    metrics: Result<Option<String>, StorageError>,
    /// Not read for our own runs: their state carries the same total, and is written after
    /// every turn where `costs.json` is written only at the end.
    costs: Result<Option<String>, StorageError>,
}

async fn read_run<S: Storage>(storage: &S, runs_dir: &str, name: String, id: RunId) -> RunFiles {
    let dir = paths::join(runs_dir, &name);
    let state = ScenarioState::read_text(storage, &dir)
        .await
        .map(|text| text.map(|t| original::state(&t)));
    let ours = matches!(&state, Ok(Some(Ok(s))) if s.writer == Writer::Ours);
    let metrics_path = paths::join(&dir, METRICS_FILE);
    let (metrics, costs) = if ours {
        (storage.read(&metrics_path).await, Ok(None))
    } else {
        futures_util::future::join(
            storage.read(&metrics_path),
            storage.read(&paths::join(&dir, COSTS_FILE)),
        )
        .await
    };
    RunFiles {
        name,
        id,
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
        savings: Default::default(),
        runs_declaring_block: 0,
        stopping: None,
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
    let mut named: Vec<(String, RunId)> = Vec::with_capacity(names.len());
    for name in names {
        match RunId::parse(&name) {
            Some(id) => named.push((name, id)),
            None => c.problem(
                format!("runs/{name}"),
                "not a run folder name (var-N-run-M); skipped".into(),
            ),
        }
    }
    named.sort_by_key(|(_, id)| *id);

    let mut builder = Builder::new(batch.variations);
    let mut reads = stream::iter(named)
        .map(|(name, id)| read_run(storage, &runs_dir, name, id))
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
    variations: BTreeMap<u64, (Option<String>, Option<Modifications>)>,
}

/// What the analysis takes of our `batch-costs.json` ([`BatchCosts`](crate::schema::BatchCosts)):
/// each variation's description, read on its own so that a file whose other fields are missing
/// or changed still names its variations.
#[derive(Deserialize)]
struct Descriptions {
    #[serde(default)]
    variation_statistics: BTreeMap<u64, Described>,
}

#[derive(Deserialize)]
struct Described {
    description: Option<String>,
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
    let costs = read_json(storage, dir, "batch-costs.json", c, |t| {
        serde_json::from_str::<Descriptions>(t)
    });
    for (id, v) in costs
        .await?
        .map(|d| d.variation_statistics)
        .unwrap_or_default()
    {
        info.variations.entry(id).or_default().0 = v.description;
    }
    // The original's batch-state.json lists each variation with its modifications.
    if let Some(state) =
        read_json(storage, dir, "batch-state.json", c, original::batch_state).await?
    {
        if c.experiment.is_none() {
            c.experiment = state.experiment_name;
        }
        for (id, description, modifications) in state.variations {
            let entry = info.variations.entry(id).or_default();
            if entry.0.is_none() {
                entry.0 = description;
            }
            entry.1 = modifications;
        }
        match state.stopping {
            Some(Ok(record)) => c.stopping = Some(record),
            Some(Err(e)) => c.problem(
                "batch-state.json".into(),
                format!("its `stopping` record is not readable ({e}); the design is reported as if it had no stopping rule"),
            ),
            None => {}
        }
    }
    Ok(info)
}

/// A batch-level JSON file read by `parse`: `None` when it is missing or of another shape; a
/// file that is not JSON is a problem.
async fn read_json<S: Storage, T>(
    storage: &S,
    dir: &str,
    name: &str,
    c: &mut Collected,
    parse: impl FnOnce(&str) -> Result<T, serde_json::Error>,
) -> Result<Option<T>, StorageError> {
    let Some(text) = storage.read(&paths::join(dir, name)).await? else {
        return Ok(None);
    };
    match parse(&text) {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_data() => Ok(None),
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
    batch_variations: BTreeMap<u64, (Option<String>, Option<Modifications>)>,
    variation_index: BTreeMap<u64, usize>,
    formats: [bool; 3],
}

impl Builder {
    fn new(batch_variations: BTreeMap<u64, (Option<String>, Option<Modifications>)>) -> Self {
        Builder {
            batch_variations,
            variation_index: BTreeMap::new(),
            formats: [false; 3],
        }
    }

    fn add(&mut self, c: &mut Collected, files: RunFiles) -> Result<(), CollectError> {
        let RunFiles {
            name,
            id,
            state,
            metrics,
            costs,
        } = files;
        let at = |file: &str| format!("runs/{name}/{file}");
        let state: SeenState = match state? {
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
        self.formats[match state.writer {
            Writer::Ours => 0,
            Writer::OriginalV1 => 1,
            Writer::OriginalV2 => 2,
        }] = true;

        let variation = self.variation(c, id.variation, state.modifications.as_ref());
        let status = Status::from(state.status);
        // Replies cut at their cap are data, but not whole data: never silent.
        if let n @ 1.. = state.truncated_replies {
            c.problem(
                at("scenario-state.json"),
                format!("{n} repl{} cut at the output cap (finish_reason: length; see llm-calls.jsonl); raise `max_tokens` for the role if the cut text matters", if n == 1 { "y was" } else { "ies were" }),
            );
        }
        if let n @ 1.. = state.over_cap_replies {
            c.problem(
                at("scenario-state.json"),
                format!("{n} repl{} longer than the output cap sent: the provider ignored max_tokens, so their cost was not bounded", if n == 1 { "y was" } else { "ies were" }),
            );
        }

        let costs = costs?;
        if let Some(crate::schema::Costs::Run(run)) = costs
            .as_deref()
            .and_then(|t| serde_json::from_str::<crate::schema::Costs>(t).ok())
        {
            c.savings.add(&run.savings);
        }
        let cost = match costs {
            Some(text) => match original::total_cost(&text) {
                Ok(total) => total.or_else(|| {
                    c.problem(
                        at(COSTS_FILE),
                        "has no total_cost; the state's total is used".into(),
                    );
                    state.cost
                }),
                Err(e) => {
                    c.problem(
                        at(COSTS_FILE),
                        format!("{}; the state's total is used", unreadable(&e)),
                    );
                    state.cost
                }
            },
            None => state.cost,
        }
        .unwrap_or(0.0);

        let mut finals = vec![f64::NAN; c.metrics.len()];
        match metrics? {
            Some(text) => {
                let seen = if state.writer == Writer::Ours {
                    read_metrics(&text).map(|m| original::seen_metrics(&m))
                } else {
                    original::metrics(&text)
                };
                match seen {
                    Ok(seen) => take_metrics(c, variation, seen, &mut finals, &at(METRICS_FILE)),
                    Err(e) => c.problem(
                        at(METRICS_FILE),
                        format!("{}; its metrics are not used", unreadable(&e)),
                    ),
                }
            }
            None if status == Status::Completed => c.problem(
                at(METRICS_FILE),
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
        c.runs_declaring_block += usize::from(state.block.is_some());
        c.rows.push(RunRow {
            run_id: name.into_boxed_str(),
            // At most one variation per run: fewer than 2^32 of them.
            variation: variation as u32,
            // At most 9 digits.
            run_number: id.run as u32,
            status,
            reason: state.reason.map(String::into_boxed_str),
            turns: state.turns.min(u64::from(u32::MAX)) as u32,
            cost,
            success,
            finals: finals.into_boxed_slice(),
            seed: state.seed,
        });
        Ok(())
    }

    /// The index of variation `id`, adding it (with its description and factors) on first sight.
    fn variation(&mut self, c: &mut Collected, id: u64, mods: Option<&Modifications>) -> usize {
        if let Some(&i) = self.variation_index.get(&id) {
            return i;
        }
        let (description, batch_mods) = self.batch_variations.remove(&id).unwrap_or_default();
        let factors = mods
            .or(batch_mods.as_ref())
            .map(factors_of)
            .unwrap_or_default();
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

/// Takes a run's metric values: its finals into `finals` (by metric index), its per-turn values
/// into its variation's trajectories. A final value that is not a number is a problem.
fn take_metrics(
    c: &mut Collected,
    variation: usize,
    seen: Vec<SeenMetric>,
    finals: &mut Vec<f64>,
    path: &str,
) {
    let mut non_numeric = Vec::new();
    for m in seen {
        match m {
            SeenMetric::Final {
                name,
                value: Some(x),
            } => {
                let i = c.metric_index(&name);
                if finals.len() <= i {
                    finals.resize(i + 1, f64::NAN);
                }
                finals[i] = x;
            }
            SeenMetric::Final { name, value: None } => non_numeric.push(name),
            SeenMetric::Turn { name, turn, value } => {
                let i = c.metric_index(&name);
                let series = c.trajectories.entry((variation, i)).or_default();
                let turn = turn.min(10_000) as usize;
                if series.len() <= turn {
                    series.resize(turn + 1, Running::default());
                }
                series[turn].push(value);
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

/// Our `metrics.json`, without its `records` when its layout allows (see [`before_records`]).
fn read_metrics(text: &str) -> Result<Metrics, serde_json::Error> {
    before_records(text)
        .and_then(|head| serde_json::from_str(&head).ok())
        .map_or_else(|| serde_json::from_str(text), Ok)
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

/// The factors of a variation from its `modifications`: `actor.model`, `actor.param`,
/// scenario parameters and an intervention (`intervention@3`, its arm's name), each with its
/// value as text.
fn factors_of(mods: &Modifications) -> BTreeMap<String, String> {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out = BTreeMap::new();
    for (actor, model) in &mods.actor_models {
        out.insert(format!("{actor}.model"), model.clone());
    }
    for (actor, params) in &mods.actor_overrides {
        for (param, value) in params {
            out.insert(format!("{actor}.{param}"), text(value));
        }
    }
    for (param, value) in &mods.scenario_overrides {
        out.insert(param.clone(), text(value));
    }
    if let Some(i) = &mods.intervention {
        out.insert(format!("intervention@{}", i.at_turn), i.arm.name.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_row_stays_small() {
        // Heap parts (id, reason, finals) aside: 100,000 rows must stay near 10 MB.
        assert!(
            std::mem::size_of::<RunRow>() <= 96,
            "{}",
            std::mem::size_of::<RunRow>()
        );
    }

    #[test]
    fn records_are_cut_only_from_our_layout() {
        let ours = "{\n  \"final_metrics\": {\n    \"x\": 1.0\n  },\n  \"flagged\": 0,\n  \"metrics_by_turn\": {},\n  \"records\": [\n    {}\n  ],\n  \"scenario\": \"s\"\n}\n";
        let head = before_records(ours).unwrap();
        assert!(!head.contains("records") && !head.contains("scenario"));
        let parsed: Metrics = serde_json::from_str(&head).unwrap();
        assert_eq!(parsed.final_metrics["x"].number(), Some(1.0));
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
}
