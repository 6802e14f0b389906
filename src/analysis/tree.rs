//! A batch output tree as a host browses it: where its root is in a folder the user dropped,
//! and what is on disk of a batch (whether it started, each run folder's status and cost, the
//! summary's headline). The page lists these; the analysis proper is [`super::analyze`].
//!
//! The run files are read through their types in [`crate::schema`]: ours as they are
//! ([`ScenarioState`], [`Costs`]), anything else through the adapters of the original tool's
//! formats ([`crate::schema::original`]), so a tree the original tool wrote lists as the
//! analysis reads it.
//!
//! Untrusted input: an uploaded tree may hold files of the original tool's eras, or anything
//! at all. A file that reads as none of these is missing, and nothing read becomes a path: run
//! ids are the folder names as listed.

use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Deserializer, Serialize};

use crate::host::{Storage, StorageError};
use crate::paths;
use crate::schema::run::{Costs, COSTS_FILE};
use crate::schema::{original, RunStatus, ScenarioState};

/// Run folders read at once by [`list_runs`].
const READS_AT_ONCE: usize = 16;

/// The files whose presence marks a folder as the root of a batch's outputs.
const ROOT_MARKS: [&str; 3] = ["runs", "batch-summary.json", "batch-state.json"];

/// The root of the output tree under `dir`: the shallowest folder (breadth first) that holds
/// `runs/`, `batch-summary.json` or `batch-state.json`; `None` when there is none.
pub async fn result_root<S: Storage>(
    storage: &S,
    dir: &str,
) -> Result<Option<String>, StorageError> {
    let mut queue = std::collections::VecDeque::from([dir.to_string()]);
    while let Some(folder) = queue.pop_front() {
        let names = storage.list(&folder).await?.unwrap_or_default();
        if names.iter().any(|n| ROOT_MARKS.contains(&n.as_str())) {
            return Ok(Some(folder));
        }
        for name in names {
            let sub = paths::join(&folder, &name);
            if storage.list(&sub).await?.is_some() {
                queue.push_back(sub);
            }
        }
    }
    Ok(None)
}

/// One run folder as a list shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RunListing {
    /// The folder name (`var-001-run-002`).
    pub run_id: String,
    /// Its status; `unknown` when its state file is missing, unreadable or says something else.
    pub status: ListedStatus,
    /// Why it halted, when it did (for the original tool's runs: its reason, else its error).
    pub halt_reason: Option<String>,
    /// Its error, when it failed.
    pub error: Option<String>,
    /// Turns done.
    pub turns: Option<u64>,
    /// Turns planned.
    pub total_turns: Option<u64>,
    /// What it cost (USD), from `costs.json`.
    pub cost: Option<f64>,
    /// The same in billionths of a dollar, exact (our runs only).
    pub cost_nanos: Option<u64>,
    /// Calls made, from `costs.json`.
    pub calls: Option<u64>,
}

/// A run's status as a list shows it: its [`RunStatus`], or `unknown` when its state file does
/// not say (missing, unreadable, or a word of another tool).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ListedStatus {
    /// Every turn done.
    Completed,
    /// Stopped before the end, resumable.
    Halted,
    /// Stopped by an error.
    Failed,
    /// In progress, or killed.
    Running,
    /// The state file does not say.
    Unknown,
}

impl From<Option<RunStatus>> for ListedStatus {
    fn from(status: Option<RunStatus>) -> Self {
        match status {
            Some(RunStatus::Completed) => ListedStatus::Completed,
            Some(RunStatus::Halted) => ListedStatus::Halted,
            Some(RunStatus::Failed) => ListedStatus::Failed,
            Some(RunStatus::Running) => ListedStatus::Running,
            None => ListedStatus::Unknown,
        }
    }
}

fn parse<T: serde::de::DeserializeOwned + Default>(text: Option<&str>) -> T {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default()
}

/// A run's listing from the text of its `scenario-state.json` and `costs.json` (either may
/// be missing or unreadable), ours or the original tool's.
pub fn run_listing(run_id: &str, state: Option<&str>, costs: Option<&str>) -> RunListing {
    let mut r = RunListing {
        run_id: run_id.to_string(),
        status: ListedStatus::Unknown,
        halt_reason: None,
        error: None,
        turns: None,
        total_turns: None,
        cost: None,
        cost_nanos: None,
        calls: None,
    };
    if let Some(text) = state {
        if let Ok(ours) = ScenarioState::parse(text) {
            let standing = ours.standing;
            r.status = Some(standing.status).into();
            r.halt_reason = standing.halt_reason.map(|h| h.as_str().to_string());
            r.error = standing.error;
            r.turns = Some(u64::from(standing.current_turn));
            r.total_turns = Some(u64::from(ours.total_turns));
        } else if let Ok(seen) = original::state(text) {
            // The original's files (and partial ones of ours) say why in one reason.
            r.status = seen.status.into();
            r.turns = Some(seen.turns);
            r.halt_reason = seen.reason;
        }
    }
    if let Some(text) = costs {
        if let Ok(ours) = serde_json::from_str::<Costs>(text) {
            let (usd, nanos, calls) = match ours {
                Costs::Run(c) => (c.total_cost, c.total_cost_nanos, Some(c.calls)),
                Costs::Totals(c) => (c.total_cost, c.total_cost_nanos, None),
            };
            (r.cost, r.cost_nanos, r.calls) = (Some(usd), Some(nanos), calls);
        } else {
            r.cost = original::total_cost(text).ok().flatten();
        }
    }
    r
}

/// The listing of one run folder.
pub async fn read_run<S: Storage>(storage: &S, run_dir: &str) -> Result<RunListing, StorageError> {
    let state = ScenarioState::read_text(storage, run_dir).await?;
    let costs = storage.read(&paths::join(run_dir, COSTS_FILE)).await?;
    Ok(run_listing(
        paths::file_name(run_dir),
        state.as_deref(),
        costs.as_deref(),
    ))
}

/// Every folder under `<dir>/runs/`, listed, in folder-name order.
pub async fn list_runs<S: Storage>(
    storage: &S,
    dir: &str,
) -> Result<Vec<RunListing>, StorageError> {
    let runs = paths::join(dir, "runs");
    let ids = storage.list(&runs).await?.unwrap_or_default();
    // A few reads at a time: a large batch has thousands of run folders.
    stream::iter(ids)
        .map(|id| {
            let run_dir = paths::join(&runs, &id);
            async move { read_run(storage, &run_dir).await }
        })
        .buffered(READS_AT_ONCE)
        .try_collect()
        .await
}

/// What is on disk of a batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BatchStatus {
    /// Whether the batch started (`batch-state.json` exists): it resumes rather than starts.
    pub started: bool,
    /// The experiment's name, from `batch-summary.json`.
    pub experiment_name: Option<String>,
    /// What the batch spent (USD), from `batch-summary.json`.
    pub total_spent: Option<f64>,
    /// Why it stopped early, from `batch-summary.json`.
    pub stop_reason: Option<String>,
    /// Every run folder.
    pub runs: Vec<RunListing>,
}

/// A field that reads as missing when it has an unexpected type, rather than failing the file.
fn lenient<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(
    d: D,
) -> Result<Option<T>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(value).ok())
}

/// The headline of `batch-summary.json`: the same keys in ours ([`crate::schema::BatchSummary`])
/// and the original's, read leniently so that either (or a partial one) shows what it has.
#[derive(Deserialize, Default)]
struct SummaryHead {
    #[serde(default, deserialize_with = "lenient")]
    experiment_name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    cost_summary: Option<SpentHead>,
    #[serde(default, deserialize_with = "lenient")]
    stop_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct SpentHead {
    #[serde(default, deserialize_with = "lenient")]
    total_spent: Option<f64>,
}

/// What is on disk of the batch whose output folder is `dir`.
pub async fn batch_status<S: Storage>(storage: &S, dir: &str) -> Result<BatchStatus, StorageError> {
    let started = storage
        .exists(&paths::join(dir, "batch-state.json"))
        .await?;
    let summary = storage
        .read(&paths::join(dir, "batch-summary.json"))
        .await?;
    let summary: SummaryHead = parse(summary.as_deref());
    Ok(BatchStatus {
        started,
        experiment_name: summary.experiment_name,
        total_spent: summary.cost_summary.and_then(|c| c.total_spent),
        stop_reason: summary.stop_reason,
        runs: list_runs(storage, dir).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::MemoryStorage;
    use futures::executor::block_on;

    #[test]
    fn the_root_is_the_shallowest_folder_with_batch_files() {
        let s = MemoryStorage::with_files([
            ("upload/readme.md", "x"),
            ("upload/deep/er/exp/runs/var-001-run-001/costs.json", "{}"),
            ("upload/other/exp/batch-summary.json", "{}"),
        ]);
        let root = |d: &str| block_on(result_root(&s, d)).unwrap();
        assert_eq!(root("").as_deref(), Some("upload/other/exp"));
        assert_eq!(root("upload/deep").as_deref(), Some("upload/deep/er/exp"));
        assert_eq!(root("upload/deep/er/exp/runs/var-001-run-001"), None);
        let top = MemoryStorage::with_files([("batch-state.json", "{}")]);
        assert_eq!(
            block_on(result_root(&top, "")).unwrap().as_deref(),
            Some("")
        );
    }

    #[test]
    fn a_listing_reads_what_it_can() {
        // A partial state (not a whole `ScenarioState`: tests/node/tree.test.mjs lists a whole
        // run) and the totals-only costs.json a batch writes for a run it timed out.
        let state = r#"{"status": "halted", "halt_reason": "cost_limit", "error": null,
            "current_turn": 2, "total_turns": 5, "actors": {}}"#;
        let costs = r#"{"total_cost": 0.25, "total_cost_nanos": 250000000, "note": "n"}"#;
        let r = run_listing("var-001-run-002", Some(state), Some(costs));
        assert_eq!(r.status, ListedStatus::Halted);
        assert_eq!(r.halt_reason.as_deref(), Some("cost_limit"));
        assert_eq!((r.turns, r.total_turns), (Some(2), None));
        assert_eq!(
            (r.cost, r.cost_nanos, r.calls),
            (Some(0.25), Some(250_000_000), None)
        );
        // The original tool's V1 costs.json has its total under `totals`.
        let v1 = run_listing("x", None, Some(r#"{"totals": {"total_cost_usd": 0.3}}"#));
        assert_eq!((v1.cost, v1.cost_nanos), (Some(0.3), None));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["status"], "halted");

        // Missing, unreadable or strange files: unknown, and nothing else fails.
        let none = run_listing("x", None, Some("not json"));
        assert_eq!(none.status, ListedStatus::Unknown);
        assert_eq!(serde_json::to_value(&none).unwrap()["status"], "unknown");
        let odd = run_listing(
            "x",
            Some(r#"{"status": "paused", "current_turn": "3"}"#),
            None,
        );
        assert_eq!((odd.status, odd.turns), (ListedStatus::Unknown, Some(0)));
    }

    #[test]
    fn typescript_says_unknown_too() {
        use ts_rs::TS;
        let cfg = ts_rs::Config::new().with_large_int("number");
        let decl = RunListing::decl(&cfg);
        assert!(decl.contains("status: ListedStatus"), "{decl}");
        let listed = ListedStatus::decl(&cfg);
        assert!(listed.contains(r#""running" | "unknown""#), "{listed}");
        assert!(decl.contains("cost_nanos: number | null"), "{decl}");
        assert!(BatchStatus::decl(&cfg).contains("runs: Array<RunListing>"));
    }

    #[test]
    fn batch_status_lists_every_run_folder() {
        let s = MemoryStorage::with_files([
            ("out/batch-state.json", "{}"),
            (
                "out/batch-summary.json",
                r#"{"experiment_name": "e", "cost_summary": {"total_spent": 1.5}, "stop_reason": "budget"}"#,
            ),
            (
                "out/runs/var-001-run-001/scenario-state.json",
                r#"{"status": "completed"}"#,
            ),
            ("out/runs/var-001-run-002/metrics.json", "{}"),
        ]);
        let st = block_on(batch_status(&s, "out")).unwrap();
        assert!(st.started);
        assert_eq!(st.experiment_name.as_deref(), Some("e"));
        assert_eq!(
            (st.total_spent, st.stop_reason.as_deref()),
            (Some(1.5), Some("budget"))
        );
        let runs: Vec<_> = st
            .runs
            .iter()
            .map(|r| (r.run_id.as_str(), r.status))
            .collect();
        assert_eq!(
            runs,
            [
                ("var-001-run-001", ListedStatus::Completed),
                ("var-001-run-002", ListedStatus::Unknown)
            ]
        );
        let empty = block_on(batch_status(&s, "elsewhere")).unwrap();
        assert!(!empty.started && empty.runs.is_empty());
    }
}
