//! The batch files: `batch-state.json` (what a resume needs), `batch-costs.json` (the money)
//! and `batch-summary.json` (what happened), with the original tool's keys and more, and the
//! totals a batch returns to its host. They are rebuilt from the run folders at any time (the
//! run folders are the truth), so every field is derived, never accumulated.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{HaltReason, RunId, RunStatus, StopReason};
use crate::config::{Dimension, Pairing, Stopping};
use crate::engine::ReplyCounts;
use crate::pricing::Nanos;

/// `batch-state.json`: where a batch stands, and what must not change before it resumes.
/// Read leniently (every field has a default), so that a state written by the original tool
/// or an older version is compared, not mistaken for no state at all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(default)]
pub struct BatchState {
    /// The experiment's name.
    pub experiment_name: String,
    /// The batch config's path.
    pub config_path: String,
    /// The output folder.
    pub output_dir: String,
    /// The batch's seed: each run's seed is derived from it and the run's id.
    pub seed: u64,
    /// When the batch first started, in milliseconds since the epoch.
    pub start_ms: f64,
    /// The same, as an ISO 8601 UTC time.
    pub start_time: String,
    /// When it finished (null while it runs or after a stop).
    pub end_time: Option<String>,
    /// Runs per variation.
    pub runs_per_variation: u32,
    /// The number of variations.
    pub total_variations: u64,
    /// Runs planned (all shards).
    pub total_runs: u64,
    /// `k/n` when this output folder holds one shard.
    pub shard: Option<String>,
    /// The completed runs.
    pub completed_runs: Vec<RunId>,
    /// The failed runs, with their errors.
    pub failed_runs: Vec<FailedRun>,
    /// The halted runs, with why.
    pub halted_runs: Vec<HaltedRun>,
    /// What must not change between the sessions of one batch.
    pub fingerprint: Option<Fingerprint>,
    /// Where the stopping rule stands, when the batch has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopping: Option<StoppingRecord>,
}

impl BatchState {
    /// The state in a `batch-state.json`'s text; `None` when it is not JSON at all (a batch
    /// that never wrote one). JSON of another shape (the original tool's, an older version's)
    /// gives the fields it has, and no fingerprint: a resume then refuses to guess.
    pub fn parse(text: &str) -> Option<BatchState> {
        let value: Value = serde_json::from_str(text).ok()?;
        Some(serde_json::from_value(value).unwrap_or_default())
    }
}

/// What must not change between the sessions of one batch (limits and `runs_per_variation`
/// may grow).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Fingerprint {
    /// The scenario folder.
    pub base_scenario: String,
    /// The scenario as loaded, key by key (a changed key is named when a resume is refused).
    #[cfg_attr(test, ts(type = "Record<string, unknown>"))]
    pub scenario: BTreeMap<String, Value>,
    /// The variations, as configured.
    #[cfg_attr(test, ts(type = "Array<Dimension>"))]
    pub variations: Vec<Dimension>,
    /// Whether every run's files are kept.
    pub save_individual_runs: bool,
    /// Whether run k of every variation shares its seed; absent from batches started before
    /// pairing existed, whose runs are independent ([`Fingerprint::pairing`]).
    #[serde(default, rename = "pairing")]
    pub pairing_written: Option<Pairing>,
    /// The stopping rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopping: Option<Stopping>,
}

impl Fingerprint {
    /// The batch's pairing: `none` for a batch started before pairing existed.
    pub fn pairing(&self) -> Pairing {
        self.pairing_written.unwrap_or(Pairing::None)
    }
}

/// Where a batch's stopping rule stands (`batch-state.json`'s `stopping`): every look taken,
/// with its numbers, and every variation stopped. Re-evaluated from the run folders when a
/// batch resumes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct StoppingRecord {
    /// The rule.
    pub rule: Stopping,
    /// For a group-sequential rule: the standardised effect (d_z when paired, Cohen's d when
    /// not) the design has its power for, at `runs_per_variation` runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_effect: Option<f64>,
    /// For a group-sequential rule: each look taken, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub looks: Vec<Look>,
    /// The variations that stopped before `runs_per_variation`.
    pub stopped: Vec<VariationStop>,
}

/// One look of a group-sequential design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Look {
    /// 1-based.
    pub look: u32,
    /// Runs of each compared variation the look covers (rounds 1..=runs).
    pub runs: u32,
    /// Of those, the pairs (or, unpaired, the smaller group) with a value in both variations.
    pub pairs: u32,
    /// The standardised difference (second variation minus first), from the paired t (or
    /// Welch's t) by its p-value; null when it cannot be computed (fewer than two pairs, no
    /// spread).
    pub z: Option<f64>,
    /// |z| at or above this rejects "no difference".
    pub efficacy: f64,
    /// |z| below this stops for futility.
    pub futility: f64,
    /// What the look decided.
    pub decision: LookDecision,
    /// When the look stopped the design: the stage-wise adjusted two-sided p-value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_adjusted: Option<f64>,
}

/// What a look decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum LookDecision {
    /// Neither boundary was crossed: more runs.
    Continue,
    /// The difference is decided: the variations differ.
    Efficacy,
    /// The difference is futile (or, at the last look, not shown).
    Futility,
}

/// A variation that stopped before `runs_per_variation`, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct VariationStop {
    /// The variation.
    pub variation_id: u64,
    /// Rounds it ran: no run after this one is started.
    pub after_runs: u32,
    /// For a precision rule: the half-width reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub half_width: Option<f64>,
    /// A sentence: `var-002 stopped after 14 runs: half-width 0.48 (target 0.5)`.
    pub message: String,
}

/// A failed run in `batch-state.json` and `batch-summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct FailedRun {
    /// Which run.
    pub run_id: RunId,
    /// What went wrong.
    pub error: Option<String>,
    /// Always `failed`.
    pub status: RunStatus,
}

/// A halted run in `batch-state.json` and `batch-summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct HaltedRun {
    /// Which run.
    pub run_id: RunId,
    /// Why it halted.
    pub halt_reason: Option<HaltReason>,
    /// Always `halted`.
    pub status: RunStatus,
}

/// `batch-costs.json`: the money, in total, per run and per variation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BatchCosts {
    /// The totals and the limits.
    pub summary: CostSummary,
    /// Every known run's cost.
    pub run_costs: Vec<RunCost>,
    /// Per variation, keyed by its 1-based id.
    pub variation_statistics: BTreeMap<u64, VariationCost>,
}

/// The money of a batch against its limits (`batch-costs.json`'s `summary`, and
/// `batch-summary.json`'s `cost_summary`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CostSummary {
    /// Spent, USD.
    pub total_spent: f64,
    /// What providers' caches and batch prices saved, over the known runs.
    #[serde(default, skip_serializing_if = "super::run::Savings::is_empty")]
    pub savings: super::run::Savings,
    /// Spent, nano-dollars (exact).
    pub total_spent_nanos: Nanos,
    /// The batch's budget, USD.
    pub budget_limit: Option<f64>,
    /// Each run's limit, USD.
    pub cost_per_run_limit: Option<f64>,
    /// What is left of the budget, USD.
    pub remaining_budget: Option<f64>,
    /// Runs completed.
    pub runs_completed: u64,
    /// Runs failed.
    pub runs_failed: u64,
    /// Runs halted.
    pub runs_halted: u64,
    /// Runs halted by the budget or their own cost limit.
    pub runs_budget_exceeded: u64,
    /// Spent per completed run, USD.
    pub avg_cost_per_run: f64,
    /// Attempts abandoned at their time limit and sent again (a provider may have billed them).
    pub possibly_billed_retries: u64,
    /// Seconds since the batch first started.
    pub duration_seconds: f64,
    /// When it first started (ISO 8601 UTC).
    pub start_time: String,
    /// When it finished.
    pub end_time: Option<String>,
}

/// One run's cost in `batch-costs.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RunCost {
    /// Which run.
    pub run_id: RunId,
    /// Its variation's id.
    pub variation_id: u64,
    /// Spent, USD.
    pub cost: f64,
    /// Spent, nano-dollars.
    pub cost_nanos: Nanos,
    /// Whether it completed.
    pub success: bool,
    /// How it stands.
    pub status: RunStatus,
    /// Why it halted.
    pub halt_reason: Option<HaltReason>,
}

/// One variation's money in `batch-costs.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct VariationCost {
    /// What the variation changes.
    pub description: String,
    /// Spent, USD.
    pub total_cost: f64,
    /// Its known runs.
    pub num_runs: u64,
    /// Its completed runs.
    pub successful_runs: u64,
    /// Spent per known run, USD.
    pub avg_cost_per_run: f64,
}

/// `batch-summary.json`: what happened, for a person and for scripts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BatchSummary {
    /// The experiment's name.
    pub experiment_name: String,
    /// The scenario folder, as configured.
    pub base_scenario: String,
    /// The number of variations.
    pub total_variations: u64,
    /// Runs per variation.
    pub runs_per_variation: u32,
    /// Runs planned (all shards).
    pub total_runs_planned: u64,
    /// Runs completed.
    pub runs_completed: u64,
    /// Runs failed.
    pub runs_failed: u64,
    /// Runs halted.
    pub runs_halted: u64,
    /// Runs not started or not finished.
    pub runs_pending: u64,
    /// Replies cut at their output cap.
    pub truncated_replies: u64,
    /// Replies longer than their cap (the provider ignored it).
    pub over_cap_replies: u64,
    /// Attempts abandoned at their time limit and sent again.
    pub possibly_billed_retries: u64,
    /// Seconds since the batch first started.
    pub duration_seconds: f64,
    /// The money.
    pub cost_summary: CostSummary,
    /// The failed runs.
    pub failed_runs: Vec<FailedRun>,
    /// The halted runs.
    pub halted_runs: Vec<HaltedRun>,
    /// Why the batch stopped early.
    pub stop_reason: Option<StopReason>,
    /// A sentence saying why.
    pub stop_message: Option<String>,
    /// The command that continues it, while runs remain.
    pub resume_command: Option<String>,
}

/// Counts and money of a batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BatchTotals {
    /// Runs planned (all shards).
    pub total_runs: u64,
    /// Completed.
    pub runs_completed: u64,
    /// Failed.
    pub runs_failed: u64,
    /// Halted (budget, cost limit, timeout, interrupted).
    pub runs_halted: u64,
    /// Not started or not finished.
    pub runs_pending: u64,
    /// Never to start: the stopping rule stopped their variation first.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub runs_not_needed: u64,
    /// Spent, USD: the sum of the runs' costs.
    pub total_spent: f64,
    /// Spent, nano-dollars.
    pub total_spent_nanos: Nanos,
    /// Replies cut at their cap, over their cap, and possibly billed retries, of every run.
    pub replies: ReplyCounts,
    /// What providers' caches and batch prices saved, over every known run.
    #[serde(default, skip_serializing_if = "super::run::Savings::is_empty")]
    pub savings: super::run::Savings,
}

/// What `merge` made of a batch's shards.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct MergeOutcome {
    /// Counts and money of the merged tree.
    #[serde(flatten)]
    pub totals: BatchTotals,
    /// The shards merged (`K/N` each, in order); empty when one whole batch was merged.
    pub shards: Vec<String>,
    /// The batch's budget (USD): the sum of what the shards were given; null when one had none.
    pub budget_limit: Option<f64>,
    /// What was merged, in one sentence: the runs by status and what they spent against the
    /// budget (the CLI prints it).
    pub summary: String,
}

/// How a batch ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BatchOutcome {
    /// Counts and money.
    #[serde(flatten)]
    pub totals: BatchTotals,
    /// Why it stopped early, when it did.
    pub stop_reason: Option<StopReason>,
    /// A sentence saying why.
    pub stop_message: Option<String>,
    /// Where the outputs are.
    pub output_dir: String,
    /// Variations the stopping rule stopped before `runs_per_variation`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stopped: Vec<VariationStop>,
}

/// One line of `batch-jobs.jsonl`: a provider batch job, written as soon as the provider gave
/// its id and before anything else happens, so that a batch killed while the job is pending
/// collects it on `--resume` instead of submitting (and paying for) it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct JobRecord {
    /// The provider's job id.
    pub job: String,
    /// The API's base URL.
    pub base_url: String,
    /// Its batch protocol.
    pub protocol: crate::llm::batch_api::Protocol,
    /// The model of every request.
    pub model: String,
    /// When it was submitted, ms since the epoch.
    pub submitted_ms: f64,
    /// Its requests.
    pub requests: Vec<JobRequest>,
}

/// A request of a [`JobRecord`]: which call of which run it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct JobRequest {
    /// Its `custom_id` in the job.
    pub id: String,
    /// The run (its folder's name, `var-001-run-002`).
    pub run: String,
    /// The call's key in the run (`t3/decision/council`).
    pub key: String,
    /// The hash of the request: a resumed run asking something else is not answered from it.
    pub hash: String,
}

/// The job journal's file name, in the batch's output folder.
pub const JOBS_FILE: &str = "batch-jobs.jsonl";

fn is_zero(n: &u64) -> bool {
    *n == 0
}
