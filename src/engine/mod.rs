//! The scenario engine: one run, from turn 1 to its last turn, writing every file a run owns.
//!
//! Each turn: exogenous events; communication (when enabled; messages are seen by their
//! participants in the same turn); decisions (every actor at once, none sees another's action
//! of the turn); the world update; metrics; quality checks; then the turn's files and the
//! run's state. Older turns leave the prompt's window through a running summary.
//!
//! Every LLM call goes through the gateway's `Run::call`, which sends it with its role's output
//! cap ([`Scenario::cap`](crate::config::Scenario::cap)), reserves its worst-case cost first
//! (against the run's limit and the batch's [`Guard`]), and appends it to the run's call log
//! (`llm-calls.jsonl`). The log is what makes a run resumable with no call paid twice: a run
//! that starts in a folder with a log replays every logged call whose key and request match,
//! and sends only the missing ones. Since the engine is deterministic given its replies and
//! its seed, replaying rebuilds the exact state, and rewrites the same files.
//!
//! The modules, by job:
//! - `turn`: the turn pipeline. [`run`] and [`run_guarded`] gather what a run is given into a
//!   `RunContext` and play the turns; each phase decides what to ask and what to keep.
//!   `comms` (the communication phase) and `events` (exogenous events) are its parts.
//! - `gateway`: the call gateway. Replay of the call log, the run's cost limit and the batch's
//!   [`Guard`] (a reservation per call in flight), the call log's appends and the [`Ledger`].
//! - `persist`: when the run's files reach storage: the log, the files written behind the
//!   next turn's calls, the state file, and the closing files of a run.
//! - `timeline`: the scenario turn by turn, and when a run's intervention takes effect.
//! - [`files`] and [`extract`]: the text of each file and the metrics read from replies;
//!   [`prompts`] and [`parse`]: what is asked and how replies are read; [`session`]: how a run
//!   starts (new, resumed or branched).
//!
//! This file holds what the others share: a run's spec and outcome, and the file names.

mod comms;
mod events;
pub mod extract;
pub mod files;
mod gateway;
pub mod parse;
mod persist;
pub mod prompts;
pub mod session;
mod timeline;
mod turn;

use serde::{Deserialize, Serialize};

use crate::plan::variations::Modifications;

pub use gateway::{Guard, Ledger, Unguarded, Verdict};
pub use turn::{run, run_guarded};

/// The call log's file name.
pub const CALL_LOG: &str = "llm-calls.jsonl";
/// The run state's file name.
pub const STATE_FILE: &str = "scenario-state.json";

use crate::schema::run::RunStanding;
pub use crate::schema::RunStatus;

/// A branch: a run that reuses another's first turns and then diverges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Branch {
    /// The source run folder.
    pub from: String,
    /// The last turn taken from the source.
    pub at_turn: u32,
    /// The source's seed (used for turns up to `at_turn`).
    pub source_seed: u64,
}

/// What a run is: enough to start it again from its folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RunSpec {
    /// The scenario folder.
    pub scenario_dir: String,
    /// Changes to the scenario (a batch variation, `--model-override`, `--turns`).
    pub modifications: Modifications,
    /// The run's seed.
    pub seed: u64,
    /// In a paired batch, the run number k whose seed this run shares with run k of every
    /// other variation (its block, in the analysis of a paired design).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<u32>,
    /// Set for a branch.
    pub branch: Option<Branch>,
    /// The run's own cost limit, USD.
    pub cost_limit: Option<f64>,
    /// A completion cap for every call whose actor sets none.
    #[serde(default)]
    pub max_tokens: Option<u32>,
}

impl RunSpec {
    /// The seed used for `turn` (a branch uses its source's seed up to the branch point).
    pub fn turn_seed(&self, turn: u32) -> u64 {
        match &self.branch {
            Some(b) if turn <= b.at_turn => b.source_seed,
            _ => self.seed,
        }
    }
}

/// Replies worth a second look, counted per run and per batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ReplyCounts {
    /// Replies cut at their output cap (`finish_reason: length`).
    pub truncated: u64,
    /// Replies longer than their cap: the provider ignored `max_tokens`.
    pub over_cap: u64,
    /// Attempts abandoned at their time limit and sent again, which a paid provider may have
    /// billed.
    pub possibly_billed_retries: u64,
}

impl ReplyCounts {
    /// Adds another run's counts.
    pub fn add(&mut self, other: ReplyCounts) {
        self.truncated += other.truncated;
        self.over_cap += other.over_cap;
        self.possibly_billed_retries += other.possibly_billed_retries;
    }
}

impl From<&Ledger> for ReplyCounts {
    fn from(l: &Ledger) -> Self {
        ReplyCounts {
            truncated: l.truncated,
            over_cap: l.over_cap,
            possibly_billed_retries: l.timeouts,
        }
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RunOutcome {
    /// How it ended, why, and after how many turns.
    #[serde(flatten)]
    pub standing: RunStanding,
    /// USD spent (replayed calls included: they were paid once, in an earlier session; a
    /// branch's calls copied from its source are not: the source paid them, and `savings`
    /// counts them as shared).
    pub total_cost: f64,
    /// Calls sent in this session.
    pub calls_sent: u64,
    /// Calls replayed from the log.
    pub calls_replayed: u64,
    /// Replies cut at or over their cap, and possibly billed retries.
    #[serde(default)]
    pub replies: ReplyCounts,
    /// What caches and batch prices saved.
    #[serde(default)]
    pub savings: crate::schema::run::Savings,
}
