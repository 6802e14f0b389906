//! The words a run or a batch ends with: run status, halt reason, stop reason. Files and events
//! carry them as lowercase strings (the original tool's words where it had them).

use serde::{Deserialize, Serialize};

/// How a run ended (or stands).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Every turn done.
    Completed,
    /// Stopped before the end, resumable (`halt_reason` says why).
    Halted,
    /// Stopped by an error that retries could not fix.
    Failed,
    /// In progress (or killed: resume it).
    Running,
}

/// Why a run stopped before its last turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum HaltReason {
    /// The batch's budget had no room for its next call.
    Budget,
    /// Its own `cost_per_run_limit` had no room for its next call.
    CostLimit,
    /// It ran past `timeout_per_run`.
    Timeout,
    /// The user stopped the batch (Ctrl+C, a Stop button).
    Interrupted,
    /// It failed (the run's `error` says how).
    Error,
}

impl HaltReason {
    /// Its word in the files.
    pub fn as_str(self) -> &'static str {
        match self {
            HaltReason::Budget => "budget",
            HaltReason::CostLimit => "cost_limit",
            HaltReason::Timeout => "timeout",
            HaltReason::Interrupted => "interrupted",
            HaltReason::Error => "error",
        }
    }

    /// Whether money stopped it (the original's `runs_budget_exceeded`).
    pub fn is_money(self) -> bool {
        matches!(self, HaltReason::Budget | HaltReason::CostLimit)
    }
}

impl std::fmt::Display for HaltReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a batch stopped before all its runs were done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The budget is spent (or too little of it is left for another call).
    Budget,
    /// The user asked it to stop.
    Interrupted,
}

impl StopReason {
    /// The halt reason of the runs it stops.
    pub fn halt_reason(self) -> HaltReason {
        match self {
            StopReason::Budget => HaltReason::Budget,
            StopReason::Interrupted => HaltReason::Interrupted,
        }
    }
}

/// Whether the budget covers a batch's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum BudgetStatus {
    /// No `budget_limit` is set: nothing caps the spend.
    NoBudget,
    /// Some model's price is unknown, so the cost cannot be bounded.
    Unknown,
    /// The budget covers every run even at the high estimate.
    Fits,
    /// It covers the expected cost, not the high estimate.
    Tight,
    /// It does not cover the expected cost: the batch will stop when it is spent.
    Short,
}
