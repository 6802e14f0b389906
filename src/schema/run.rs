//! The files of a run folder, one type each: `scenario-state.json` ([`ScenarioState`], rewritten
//! after every turn), `metrics.json` ([`Metrics`]) and `costs.json` ([`Costs`]), written when the
//! run ends, and `llm-calls.jsonl` (one [`CallRecord`] a line, appended as each call is
//! answered). Then the one reader of a run folder for the batch and the calibration,
//! [`RunFolder`]: where the run stands and what it spent.
//!
//! The JSON files are written with [`to_json_text`](super::to_json_text) (keys sorted); the call
//! log's lines are `CallRecord`s in their field order, one a line.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{HaltReason, RunStatus};
use crate::engine::{ReplyCounts, RunSpec, CALL_LOG, STATE_FILE};
use crate::host::{Storage, StorageError};
use crate::paths;
use crate::plan::Role;
use crate::pricing::{nanos_to_usd, Nanos};

/// A line of `llm-calls.jsonl`: one answered call, with its reply (what a resume replays).
pub use crate::llm::CallRecord;

/// The name of a run's `metrics.json`.
pub const METRICS_FILE: &str = "metrics.json";
/// The name of a run's `costs.json`.
pub const COSTS_FILE: &str = "costs.json";

/// `scenario-state.json`: what a run is and where it stands. Rewritten whole after every turn
/// and when the run ends, so it is always the latest word on the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ScenarioState {
    /// Where the run stands: status, halt reason, error, turns done.
    #[serde(flatten)]
    pub standing: RunStanding,
    /// The scenario's name.
    pub scenario_name: String,
    /// The scenario folder (the spec's `scenario_dir`).
    pub scenario_path: String,
    /// The turns the scenario has (after the run's modifications).
    pub total_turns: u32,
    /// The run's seed (the spec's `seed`).
    pub seed: u64,
    /// What the run is: enough to start it again from its folder (resume, branch).
    pub spec: RunSpec,
    /// Each actor by short name: its full name and model.
    pub actors: BTreeMap<String, StateActor>,
    /// The model of the world updates (and of metrics and checks that name none).
    pub world_state_model: String,
    /// USD spent so far (replayed calls included: they were paid once; a branch's calls copied
    /// from its source are not, since the source paid them).
    pub total_cost: f64,
    /// Calls made so far (replayed ones included, a branch's copied ones not).
    pub calls: u64,
    /// Replies cut at their output cap (`finish_reason: length`). This and the next two counts
    /// default to 0: states written before they existed lack them.
    #[serde(default)]
    pub truncated_replies: u64,
    /// Replies longer than the cap sent: the provider ignored `max_tokens`.
    #[serde(default)]
    pub over_cap_replies: u64,
    /// Attempts abandoned at their time limit and sent again, which a provider may have billed.
    #[serde(default)]
    pub possibly_billed_retries: u64,
}

/// Where a run stands: the part of [`ScenarioState`] that the batch and the calibration read.
/// It reads from any state that has these fields (an older version's, a hand-made one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RunStanding {
    /// How the run ended, or `running`.
    pub status: RunStatus,
    /// Why it stopped early: null while it runs and when it completed.
    pub halt_reason: Option<HaltReason>,
    /// What went wrong, when it failed: null otherwise.
    pub error: Option<String>,
    /// Turns completed.
    pub current_turn: u32,
}

impl RunStanding {
    /// A run in progress after `turn` turns.
    pub fn running(turn: u32) -> RunStanding {
        RunStanding {
            status: RunStatus::Running,
            halt_reason: None,
            error: None,
            current_turn: turn,
        }
    }
}

/// An actor in [`ScenarioState::actors`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct StateActor {
    /// Its full name.
    pub name: String,
    /// Its model id, as configured.
    pub model: String,
}

impl ScenarioState {
    /// The text of the run folder `run_dir`'s `scenario-state.json` (`None` when it has none):
    /// the one place the file is read. [`ScenarioState::parse`] (ours, whole), [`RunStanding`]
    /// (any state with a status) and [`original::state`](super::original::state) (any writer's,
    /// for the analysis) parse it.
    pub async fn read_text<S: Storage>(
        storage: &S,
        run_dir: &str,
    ) -> Result<Option<String>, StorageError> {
        storage.read(&paths::join(run_dir, STATE_FILE)).await
    }

    /// The run folder's state when it is ours and whole; `None` when it is missing, unreadable
    /// or of another shape.
    pub async fn read<S: Storage>(storage: &S, run_dir: &str) -> Option<ScenarioState> {
        let text = ScenarioState::read_text(storage, run_dir).await.ok()??;
        ScenarioState::parse(&text).ok()
    }

    /// The state in a `scenario-state.json`'s text.
    pub fn parse(text: &str) -> Result<ScenarioState, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// `metrics.json`: every measured value, as the original tool's V1 (`metrics_by_turn`,
/// `final_metrics`) and V2 (`records`) wrote them, and how many were flagged. Read leniently
/// (every field defaults when absent): the analysis reads the file cut before its `records`,
/// which are most of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(default)]
pub struct Metrics {
    /// The scenario's name.
    pub scenario: String,
    /// Each turn's values, by metric key (`name`, or `name.actor` for a metric read per actor).
    pub metrics_by_turn: BTreeMap<u32, BTreeMap<String, MetricValue>>,
    /// Each metric key's last value.
    pub final_metrics: BTreeMap<String, MetricValue>,
    /// Every measurement, in the order taken, with its evidence and flag.
    pub records: Vec<MetricRecord>,
    /// How many records are flagged (clamped into range, or unreadable).
    pub flagged: u64,
}

/// A value in [`Metrics`]: a number, or the text of a text metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(untagged)]
pub enum MetricValue {
    /// A measurement (booleans 1/0, categories their index). JSON has no infinity: an infinite
    /// value is written as null.
    Number(f64),
    /// The matched text of a text metric.
    Text(String),
    /// Null: a number that was not finite.
    Null,
}

impl MetricValue {
    /// The value as a finite number, when it is one.
    pub fn number(&self) -> Option<f64> {
        match self {
            MetricValue::Number(x) if x.is_finite() => Some(*x),
            _ => None,
        }
    }
}

/// One measured value (an entry of [`Metrics::records`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct MetricRecord {
    /// The metric.
    pub name: String,
    /// Its value as a number (booleans 1/0, categories their index); `None` for text metrics.
    pub value: Option<f64>,
    /// The matched text, for text metrics and as evidence.
    pub raw: Option<String>,
    /// The turn.
    pub turn: u32,
    /// The actor whose decision it was read from, for actor-specific metrics.
    pub actor: Option<String>,
    /// pattern, keyword or llm.
    pub extraction: String,
    /// Set when the value was clamped into the metric's range or could not be read.
    pub flag: Option<String>,
}

impl MetricRecord {
    /// The key in `metrics_by_turn`: the name, or `name.actor` for a metric read per actor.
    pub fn key(&self, per_actor: bool) -> String {
        match (&self.actor, per_actor) {
            (Some(a), true) => format!("{}.{a}", self.name),
            _ => self.name.clone(),
        }
    }
}

/// `costs.json`: what a run spent, in one of two shapes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(untagged)]
pub enum Costs {
    /// Written by the run when it ends: the totals and the breakdown.
    Run(RunCosts),
    /// The totals only: written by the batch, with a note, for a run it stopped at
    /// `timeout_per_run` while calls were still open (the run writes its own when a resume
    /// ends it); or by another tool.
    Totals(CostTotals),
}

impl Costs {
    /// Nano-dollars spent.
    pub fn total_cost_nanos(&self) -> Nanos {
        match self {
            Costs::Run(c) => c.total_cost_nanos,
            Costs::Totals(c) => c.total_cost_nanos,
        }
    }

    /// Replies cut at or over their cap, and possibly billed retries (none known from the
    /// totals only).
    pub fn replies(&self) -> ReplyCounts {
        match self {
            Costs::Run(d) => ReplyCounts {
                truncated: d.truncated_replies,
                over_cap: d.over_cap_replies,
                possibly_billed_retries: d.possibly_billed_retries,
            },
            Costs::Totals(_) => ReplyCounts::default(),
        }
    }
}

/// What providers' prefix caches and batch prices saved, against the realtime price with
/// nothing cached (at the models' prices; negative when cache writes cost more than reads
/// saved), and what sharing the first turns of an intervention's arms saved (a branched run's
/// calls replayed from its source). In `costs.json`, events and the batch's files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(default)]
pub struct Savings {
    /// Prompt tokens sent.
    pub prompt_tokens: u64,
    /// Of those, served from providers' caches.
    pub cached_tokens: u64,
    /// USD the caches saved.
    pub cache_saved: f64,
    /// Calls answered by providers' batch jobs.
    pub batch_calls: u64,
    /// USD the batch price saved.
    pub batch_saved: f64,
    /// Calls a branched run replayed from the prefix copied from its source (an intervention's
    /// arm), instead of sending them again.
    pub shared_calls: u64,
    /// USD those calls cost their source: what sharing saved.
    pub shared_saved: f64,
}

impl Savings {
    /// Whether nothing was cached, batched or shared (the file then leaves it out).
    pub fn is_empty(&self) -> bool {
        self.cached_tokens == 0 && self.batch_calls == 0 && self.shared_calls == 0
    }

    /// The share of prompt tokens served from caches.
    pub fn cache_hit_rate(&self) -> f64 {
        if self.prompt_tokens == 0 {
            0.0
        } else {
            self.cached_tokens as f64 / self.prompt_tokens as f64
        }
    }

    /// Adds another's.
    pub fn add(&mut self, o: &Savings) {
        self.prompt_tokens += o.prompt_tokens;
        self.cached_tokens += o.cached_tokens;
        self.cache_saved += o.cache_saved;
        self.batch_calls += o.batch_calls;
        self.batch_saved += o.batch_saved;
        self.shared_calls += o.shared_calls;
        self.shared_saved += o.shared_saved;
    }

    /// The savings of these calls.
    pub fn of_calls<'c>(calls: impl IntoIterator<Item = &'c CallUsage>) -> Savings {
        let mut s = Savings::default();
        let (mut cache, mut batch) = (0i64, 0u64);
        for c in calls {
            s.prompt_tokens += c.prompt_tokens;
            s.cached_tokens += c.cached_tokens;
            s.batch_calls += u64::from(c.batch_job.is_some());
            cache += c.cache_saved_nanos;
            batch += c.batch_saved_nanos;
        }
        s.cache_saved = cache as f64 / 1e9;
        s.batch_saved = nanos_to_usd(batch);
        s
    }

    /// The savings of a branched run's calls copied from its source: their count and cost.
    pub fn of_shared<'c>(calls: impl IntoIterator<Item = &'c CallUsage>) -> Savings {
        let (mut n, mut nanos) = (0u64, 0u64);
        for c in calls {
            n += 1;
            nanos += c.cost_nanos;
        }
        Savings {
            shared_calls: n,
            shared_saved: nanos_to_usd(nanos),
            ..Savings::default()
        }
    }
}

/// A `costs.json` with the totals only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CostTotals {
    /// USD (the key other tools read).
    pub total_cost: f64,
    /// Nano-dollars, exact: the sum of the calls' `cost_nanos`.
    pub total_cost_nanos: Nanos,
    /// Why the batch wrote this file, and what to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The `costs.json` a run writes when it ends: the totals, the counts and the breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RunCosts {
    /// USD (the key other tools read).
    pub total_cost: f64,
    /// Nano-dollars, exact: the sum of the calls' `cost_nanos`.
    pub total_cost_nanos: Nanos,
    /// Calls made (replayed ones included: they were paid once; a branch's calls copied from
    /// its source are counted under `savings.shared_calls` instead).
    pub calls: u64,
    /// Prompt tokens, as the providers counted them.
    pub prompt_tokens: u64,
    /// Completion tokens, as the providers counted them.
    pub completion_tokens: u64,
    /// Calls whose model had no known price (counted as $0).
    pub unknown_price_calls: u64,
    /// Replies cut at their output cap (`finish_reason: length`).
    pub truncated_replies: u64,
    /// Replies longer than the cap sent: the provider ignored `max_tokens`.
    pub over_cap_replies: u64,
    /// Attempts abandoned at their time limit and sent again, which a provider may have billed.
    pub possibly_billed_retries: u64,
    /// USD by actor short name (calls of no actor under their role: `world`, `summary`, ...).
    pub by_actor: BTreeMap<String, f64>,
    /// USD by role.
    pub by_role: BTreeMap<String, f64>,
    /// USD by turn.
    pub by_turn: BTreeMap<String, f64>,
    /// USD by model.
    pub by_model: BTreeMap<String, f64>,
    /// What caches and batch prices saved.
    #[serde(default, skip_serializing_if = "Savings::is_empty")]
    pub savings: Savings,
}

/// What a call used and cost: the part of a [`CallRecord`] line that the batch and the
/// calibration read (not its reply, which is most of the line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CallUsage {
    /// Why it was made.
    pub role: Role,
    /// The model id as configured.
    pub model: String,
    /// The turn it belongs to.
    pub turn: u32,
    /// Prompt tokens, as the provider counted them.
    pub prompt_tokens: u64,
    /// Completion tokens, as the provider counted them.
    pub completion_tokens: u64,
    /// What it cost, nano-dollars.
    pub cost_nanos: Nanos,
    /// Attempts abandoned at their time limit.
    #[serde(default)]
    pub timeouts: u32,
    /// The output cap sent.
    #[serde(default)]
    pub max_tokens: u32,
    /// The provider's `finish_reason`.
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// Prompt tokens served from the provider's cache.
    #[serde(default)]
    pub cached_tokens: u64,
    /// What the cache saved, nano-dollars.
    #[serde(default)]
    pub cache_saved_nanos: i64,
    /// What the batch price saved, nano-dollars.
    #[serde(default)]
    pub batch_saved_nanos: u64,
    /// The batch job that answered it.
    #[serde(default)]
    pub batch_job: Option<String>,
}

impl CallUsage {
    /// The calls of a call log's text. A line that does not parse (torn by a kill, or of a
    /// role this version does not know) is skipped.
    pub fn parse_log(text: &str) -> Vec<CallUsage> {
        text.lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// Whether the reply was cut at its output cap ([`CallRecord::truncated`]).
    pub fn truncated(&self) -> bool {
        crate::llm::client::cut_at_cap(self.finish_reason.as_deref())
    }

    /// Whether the provider ignored the cap ([`CallRecord::over_cap`]).
    pub fn over_cap(&self) -> bool {
        crate::llm::client::past_cap(self.max_tokens, self.completion_tokens)
    }
}

/// A run folder as the batch (when it starts or resumes) and the calibration read it: where the
/// run stands, its calls, and its `costs.json` when it has no call (a run kept without its call
/// log, `save_individual_runs: false`).
#[derive(Debug, Clone, PartialEq)]
pub struct RunFolder {
    /// Where the run stands; `None` when its state is missing or unreadable.
    pub standing: Option<RunStanding>,
    /// Its calls, from its call log.
    pub calls: Vec<CallUsage>,
    /// Its `costs.json`, read only when it has no call.
    pub costs: Option<Costs>,
    /// Set for a branch (an intervention's arm): the last turn copied from its source. Its
    /// calls up to there were paid by the source, and are counted there.
    pub branch_turn: Option<u32>,
}

/// The part of a `scenario-state.json` that says whether the run is a branch.
#[derive(Deserialize)]
struct BranchOf {
    spec: BranchSpec,
}

/// The branch of a run's spec.
#[derive(Deserialize)]
struct BranchSpec {
    #[serde(default)]
    branch: Option<crate::engine::Branch>,
}

impl RunFolder {
    /// A run folder from the texts of its files (a file that does not parse counts as missing).
    pub fn parse(state: Option<&str>, call_log: Option<&str>, costs: Option<&str>) -> RunFolder {
        let calls = call_log.map(CallUsage::parse_log).unwrap_or_default();
        RunFolder {
            standing: state.and_then(|t| serde_json::from_str(t).ok()),
            branch_turn: state
                .and_then(|t| serde_json::from_str::<BranchOf>(t).ok())
                .and_then(|s| Some(s.spec.branch?.at_turn)),
            costs: costs
                .filter(|_| calls.is_empty())
                .and_then(|t| serde_json::from_str(t).ok()),
            calls,
        }
    }

    /// Reads the run folder `dir`; `None` when it has neither a state nor a call log.
    pub async fn read<S: Storage>(
        storage: &S,
        dir: &str,
    ) -> Result<Option<RunFolder>, StorageError> {
        let state = ScenarioState::read_text(storage, dir).await?;
        let log = storage.read(&paths::join(dir, CALL_LOG)).await?;
        if state.is_none() && log.is_none() {
            return Ok(None);
        }
        let mut folder = RunFolder::parse(state.as_deref(), log.as_deref(), None);
        if folder.calls.is_empty() {
            folder.costs = storage
                .read(&paths::join(dir, COSTS_FILE))
                .await?
                .and_then(|t| serde_json::from_str(&t).ok());
        }
        Ok(Some(folder))
    }

    /// Whether a call of the log was copied from the run's source (a branch's calls up to its
    /// branch point: the run never sends one, since it asks what its source asked).
    fn copied(&self, c: &CallUsage) -> bool {
        self.branch_turn.is_some_and(|t| c.turn <= t)
    }

    /// The calls the run paid for: its log's, less those copied from its source.
    pub fn own_calls(&self) -> impl Iterator<Item = &CallUsage> {
        self.calls.iter().filter(|c| !self.copied(c))
    }

    /// What the run spent: the sum of the calls it paid for, else its `costs.json`'s total,
    /// else nothing.
    pub fn cost_nanos(&self) -> Nanos {
        if self.calls.is_empty() {
            self.costs.as_ref().map_or(0, Costs::total_cost_nanos)
        } else {
            self.own_calls().map(|c| c.cost_nanos).sum()
        }
    }

    /// What caches and batch prices saved it: from its calls, else from its `costs.json`.
    pub fn savings(&self) -> Savings {
        if self.calls.is_empty() {
            return match &self.costs {
                Some(Costs::Run(d)) => d.savings,
                _ => Savings::default(),
            };
        }
        let mut s = Savings::of_calls(self.own_calls());
        s.add(&Savings::of_shared(
            self.calls.iter().filter(|c| self.copied(c)),
        ));
        s
    }

    /// Its replies cut at or over their cap and its possibly billed retries: from its calls,
    /// else from its `costs.json`.
    pub fn replies(&self) -> ReplyCounts {
        if self.calls.is_empty() {
            return self
                .costs
                .as_ref()
                .map_or_else(ReplyCounts::default, Costs::replies);
        }
        let count = |f: fn(&CallUsage) -> bool| self.own_calls().filter(|c| f(c)).count() as u64;
        ReplyCounts {
            truncated: count(CallUsage::truncated),
            over_cap: count(CallUsage::over_cap),
            possibly_billed_retries: self.own_calls().map(|c| u64::from(c.timeouts)).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::to_json_text;

    #[test]
    fn a_call_record_line_reads_as_its_usage() {
        let line = r#"{"key":"t1/world","turn":2,"role":"world","actor":null,"model":"m","provider":"builtin","prompt_tokens":10,"completion_tokens":5,"cost_nanos":7,"cost_source":"price","latency_ms":1.0,"generation_id":null,"request_hash":"h","attempts":2,"timeouts":1,"max_tokens":4,"finish_reason":"length","reply":"r"}"#;
        let record: CallRecord = serde_json::from_str(line).unwrap();
        let usage = &CallUsage::parse_log(&format!("{line}\n{{\"role\":\"world\""))[..];
        assert_eq!(usage.len(), 1, "the torn line is skipped");
        let u = &usage[0];
        assert_eq!(
            (u.role, u.model.as_str(), u.turn, u.cost_nanos, u.timeouts),
            (
                record.role,
                record.model.as_str(),
                record.turn,
                record.cost_nanos,
                record.timeouts
            )
        );
        assert_eq!(
            (u.truncated(), u.over_cap()),
            (record.truncated(), record.over_cap())
        );
    }

    #[test]
    fn costs_without_detail_round_trip() {
        let text =
            "{\n  \"note\": \"n\",\n  \"total_cost\": 0.5,\n  \"total_cost_nanos\": 500000000\n}\n";
        let costs: Costs = serde_json::from_str(text).unwrap();
        assert!(matches!(costs, Costs::Totals(_)));
        assert_eq!(to_json_text(&costs), text);
        let folder = RunFolder::parse(
            Some(r#"{"status":"halted","halt_reason":"timeout","current_turn":1}"#),
            Some(""),
            Some(text),
        );
        assert_eq!(folder.cost_nanos(), 500_000_000);
        assert_eq!(folder.replies(), ReplyCounts::default());
        assert_eq!(
            folder.standing.unwrap().halt_reason,
            Some(HaltReason::Timeout)
        );
    }
}
