//! The contract between the parts: every file Scenario Lab writes or reads, and every event a
//! batch emits, as one serde type each. Writers build these types and readers parse into them;
//! nothing else indexes our files as untyped JSON. The TypeScript declarations of the npm
//! package are generated from the same types.
//!
//! - [`status`]: run status, halt reason, stop reason, budget verdict.
//! - [`run_id`]: `var-002-run-003`, its format and its parse.
//! - [`batch`]: `batch-state.json`, `batch-costs.json`, `batch-summary.json`, a batch's totals.
//! - [`events`]: what a batch tells its host while it runs.
//! - [`run`]: a run folder's files (`scenario-state.json`, `metrics.json`, `costs.json`,
//!   `llm-calls.jsonl`) and the one reader of a run folder for the batch and the calibration.
//! - [`original`]: the original Python tool's run files, read into the analysis's view of a run.

pub mod batch;
pub mod events;
pub mod original;
pub mod run;
pub mod run_id;
pub mod status;
#[cfg(test)]
mod typescript;

pub use batch::{BatchCosts, BatchOutcome, BatchState, BatchSummary, BatchTotals, MergeOutcome};
pub use events::BatchEvent;
pub use run::{CallRecord, Costs, Metrics, RunFolder, ScenarioState};
pub use run_id::RunId;
pub use status::{BudgetStatus, HaltReason, RunStatus, StopReason};

/// The text of one of our JSON files: pretty-printed, keys sorted (so that two runs' files
/// diff line by line), with a final newline.
pub fn to_json_text<T: serde::Serialize>(value: &T) -> String {
    // Through a `Value`: its maps keep keys sorted, whatever the order of a struct's fields.
    let value = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
    format!("{value:#}\n")
}
