//! What a batch tells its host while it runs: one event type, serialized as
//! `{"type": "run_started", "data": {...}}`. The set may grow; a consumer ignores types it does
//! not know. Money is in USD.

use serde::Serialize;

use super::{BatchOutcome, HaltReason, RunId, RunStatus};

/// A batch event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum BatchEvent {
    /// The batch (or this session of it) starts.
    BatchStarted(BatchStarted),
    /// A run starts (or resumes).
    RunStarted(RunStarted),
    /// A run ends, however it ended.
    RunFinished(RunFinished),
    /// The analysis of the output folder is written (`aggregate_metrics`).
    Analysis(AnalysisWritten),
    /// A provider batch job was submitted, moved on, or ended (`execution: batch`).
    Job(JobProgress),
    /// The stopping rule stopped a variation before `runs_per_variation`.
    Stopped(super::batch::VariationStop),
    /// Something the user should know that is not an error.
    Note(Note),
    /// The batch is over: its outcome.
    Summary(BatchOutcome),
}

/// The data of `job`: where one provider batch job stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct JobProgress {
    /// The provider's job id.
    pub job: String,
    /// The phase its requests belong to (`turn 3 decision`).
    pub phase: String,
    /// The model.
    pub model: String,
    /// The provider's word for the job's status (`in_progress`, `completed`, `ended`, ...), or
    /// `submitted` when it was just submitted.
    pub status: String,
    /// Requests in it.
    pub total: u64,
    /// Requests answered.
    pub succeeded: u64,
    /// Requests failed, expired or cancelled.
    pub failed: u64,
    /// Seconds since it was submitted.
    pub waited_s: f64,
    /// Jobs submitted by this session so far.
    pub jobs_submitted: u64,
    /// Seconds this session has waited on providers' jobs so far.
    pub total_waited_s: f64,
    /// USD the batch price saved against realtime on this session's answers so far.
    pub saved: f64,
}

/// The data of `batch_started`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BatchStarted {
    /// The experiment's name.
    pub experiment_name: String,
    /// The output folder.
    pub output_dir: String,
    /// Runs planned (all shards).
    pub total_runs: u64,
    /// Runs of this shard.
    pub in_shard: u64,
    /// Runs this session will do (those of the shard not already completed).
    pub to_run: u64,
    /// Runs completed by earlier sessions.
    pub already_completed: u64,
    /// Failed runs this session tries again.
    pub retrying_failed: Vec<RunId>,
    /// Runs at once.
    pub max_parallel: u32,
    /// The budget, USD.
    pub budget_limit: Option<f64>,
    /// Spent before this session, USD (a resumed batch keeps every cost).
    pub spent: f64,
    /// The batch's seed.
    pub seed: u64,
    /// Whether this session continues an earlier one.
    pub resumed: bool,
}

/// The data of `run_started`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RunStarted {
    /// Which run.
    pub run_id: RunId,
    /// Its variation's id.
    pub variation_id: u64,
    /// What its variation changes.
    pub description: String,
    /// Runs in flight, this one included.
    pub in_flight: u64,
    /// For a run of an intervention's arm that branches: the run whose first turns it shares
    /// (copied into its folder and replayed, not sent again); null for a run that runs whole.
    pub shares_prefix_of: Option<RunId>,
}

/// The data of `run_finished`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RunFinished {
    /// Which run.
    pub run_id: RunId,
    /// Its variation's id.
    pub variation_id: u64,
    /// How it ended.
    pub status: RunStatus,
    /// Why it halted.
    pub halt_reason: Option<HaltReason>,
    /// Its error, when it failed.
    pub error: Option<String>,
    /// Turns completed.
    pub turns: u32,
    /// This run's cost, USD.
    pub cost: f64,
    /// What caches and batch prices saved this run.
    pub savings: super::run::Savings,
    /// The batch's spend so far, USD.
    pub spent: f64,
    /// Per endpoint: the concurrency limit now, requests in flight, and 429s seen so far.
    pub rate_limits: Vec<RateLimitStats>,
}

/// One endpoint's adaptive concurrency, in `run_finished`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RateLimitStats {
    /// The endpoint (base URL).
    pub endpoint: String,
    /// Its concurrency limit now.
    pub limit: u64,
    /// Its requests in flight.
    pub in_flight: u64,
    /// The 429s it answered so far.
    pub rate_limited: u64,
}

/// The data of `analysis`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AnalysisWritten {
    /// The analysis folder.
    pub dir: String,
    /// The files written there.
    pub files: Vec<String>,
    /// Runs analysed.
    pub runs: u64,
    /// Completed runs over all runs analysed.
    pub success_rate: f64,
    /// Data problems found (listed in the report).
    pub problems: u64,
}

/// The data of `note`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Note {
    /// The sentence.
    pub message: String,
}
