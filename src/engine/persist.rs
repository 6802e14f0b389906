//! Persistence: when and in what order a run's files reach storage.
//!
//! The text of each file is built elsewhere (`files.rs`, and [`state_text`] here for the run's
//! state); this module owns the writing: the run's log (`scenario.log`, kept in memory by
//! [`Run::note`] and appended once a turn), the files written behind the next turn's calls
//! ([`Run::write_behind`], [`Run::drain`]), the state file, and the closing files of
//! [`finish`], in an order that keeps a finished status always next to its metrics and costs.
//! The call log is not here: the gateway appends each call the moment it is answered.

use std::cell::RefCell;

use futures_util::future::join_all;

use super::gateway::{all, Stop};
use super::turn::{Progress, Run};
use super::{files, RunOutcome, RunStatus, STATE_FILE};
use crate::host::{Clock, Llm, Storage};
use crate::pricing::nanos_to_usd;
use crate::schema::run::{RunStanding, StateActor, COSTS_FILE, METRICS_FILE};
use crate::schema::{to_json_text, HaltReason, ScenarioState};

/// What a run has to write and has not written yet.
pub(super) struct Pending {
    /// When the run (this session of it) started, ms: the log's times count from it.
    started_ms: f64,
    /// The log's lines since the last [`Run::flush_log`].
    log: RefCell<String>,
    /// Files of finished turns not written yet (name, text; one entry per name, the latest).
    /// They are written while the next turn's calls are in flight ([`Run::drain`]), so that
    /// file I/O is off a turn's critical path: on a filesystem where creating a file costs
    /// half a millisecond, a turn of 32 runs otherwise waited tens of milliseconds on storage
    /// (bench/README.md). Nothing recorded depends on them: a call is in the call log the moment
    /// it is answered, and a resume replays the log and writes a turn's files again.
    behind: RefCell<Vec<(String, String)>>,
}

impl Pending {
    /// Nothing to write yet; the log's times count from `started_ms`.
    pub(super) fn new(started_ms: f64) -> Pending {
        Pending {
            started_ms,
            log: RefCell::new(String::new()),
            behind: RefCell::new(Vec::new()),
        }
    }
}

impl<'a, S: Storage, L: Llm, C: Clock> Run<'a, S, L, C> {
    /// Adds a line to the run's log, stamped with the time since the run started.
    pub(super) fn note(&self, turn: u32, text: &str) {
        let secs = (self.cx.clock.now_ms() - self.pending.started_ms) / 1000.0;
        self.pending
            .log
            .borrow_mut()
            .push_str(&format!("[+{secs:.3}s] [turn {turn}] {text}\n"));
    }

    /// Appends the log's lines noted since the last flush to `scenario.log`.
    pub(super) async fn flush_log(&self) -> Result<(), Stop> {
        let text = std::mem::take(&mut *self.pending.log.borrow_mut());
        if !text.is_empty() {
            self.cx
                .storage
                .append(&self.cx.path("scenario.log"), &files::printable(&text))
                .await
                .map_err(|e| Stop::Storage(e.to_string()))?;
        }
        Ok(())
    }

    /// Writes the run's file `name` now. A Markdown file is written without terminal control
    /// sequences ([`files::printable`]): it holds model replies, and people read it in a terminal.
    pub(super) async fn write(&self, name: &str, text: &str) -> Result<(), Stop> {
        let text = if name.ends_with(".md") {
            files::printable(text)
        } else {
            std::borrow::Cow::Borrowed(text)
        };
        self.cx
            .storage
            .write(&self.cx.path(name), &text)
            .await
            .map_err(|e| Stop::Storage(e.to_string()))
    }

    /// Queues a file for [`Run::drain`]; a later text for the same file replaces the earlier.
    pub(super) fn write_behind(&self, name: String, text: String) {
        let mut queue = self.pending.behind.borrow_mut();
        queue.retain(|(n, _)| *n != name);
        queue.push((name, text));
    }

    /// Writes the queued files, batch after batch, until none is left. Batches are written in
    /// order, so a file queued twice ends with its later text.
    pub(super) async fn drain(&self) -> Result<(), Stop> {
        loop {
            let batch = std::mem::take(&mut *self.pending.behind.borrow_mut());
            if batch.is_empty() {
                return Ok(());
            }
            all(join_all(batch.iter().map(|(name, text)| self.write(name, text))).await)?;
        }
    }
}

/// The text of `scenario-state.json`.
pub(super) fn state_text<S: Storage, L: Llm, C: Clock>(
    run: &Run<'_, S, L, C>,
    standing: &RunStanding,
) -> String {
    // The models of the last turn played (an intervention may have changed one).
    let s = run.cx.scenario(standing.current_turn);
    let spec = run.cx.spec;
    let ledger = run.gateway.ledger();
    to_json_text(&ScenarioState {
        standing: standing.clone(),
        scenario_name: s.name.clone(),
        scenario_path: spec.scenario_dir.clone(),
        total_turns: s.turns,
        seed: spec.seed,
        spec: spec.clone(),
        actors: s
            .actors
            .iter()
            .map(|a| {
                let actor = StateActor {
                    name: a.name.clone(),
                    model: a.model.clone(),
                };
                (a.short_name.clone(), actor)
            })
            .collect(),
        world_state_model: s.world_state_model.clone(),
        total_cost: nanos_to_usd(ledger.total_nanos),
        calls: ledger.calls,
        truncated_replies: ledger.truncated,
        over_cap_replies: ledger.over_cap,
        possibly_billed_retries: ledger.timeouts,
    })
}

/// Writes `scenario-state.json` now.
pub(super) async fn save_state<S: Storage, L: Llm, C: Clock>(
    run: &Run<'_, S, L, C>,
    standing: &RunStanding,
) -> Result<(), Stop> {
    run.write(STATE_FILE, &state_text(run, standing)).await
}

/// Writes what a run leaves when it ends, however it ends: the last turn's files, the log,
/// `metrics.json`, `costs.json`, the validation summary, and last the state with its outcome.
pub(super) async fn finish<S: Storage, L: Llm, C: Clock>(
    run: &Run<'_, S, L, C>,
    p: &Progress,
    o: &RunOutcome,
) -> Result<(), Stop> {
    let s = run.cx.scenario(o.standing.current_turn);
    // The last turn's files first, then the run's closing files at once, then the final state,
    // so that a finished status always comes with its metrics and costs.
    let drained = run.drain().await;
    let mut closing = vec![
        (METRICS_FILE, to_json_text(&files::metrics(s, &p.records))),
        (
            COSTS_FILE,
            to_json_text(&files::costs(&run.gateway.ledger())),
        ),
    ];
    if s.checks
        .as_ref()
        .is_some_and(|c| c.summary_report && c.enabled().next().is_some())
    {
        closing.push((
            "validation-summary.md",
            files::validation_summary(&p.checks),
        ));
    }
    let st = &o.standing;
    let done = match st.status {
        RunStatus::Completed => {
            format!("completed {} turns, ${:.6}", st.current_turn, o.total_cost)
        }
        _ => format!(
            "stopped after turn {}: {:?} ({})",
            st.current_turn,
            st.status,
            st.halt_reason.map_or("", HaltReason::as_str)
        ),
    };
    run.note(
        st.current_turn,
        &format!(
            "{done}; {} calls sent, {} replayed from the log",
            o.calls_sent, o.calls_replayed
        ),
    );
    let (written, logged) = futures_util::future::join(
        join_all(closing.iter().map(|(name, text)| run.write(name, text))),
        run.flush_log(),
    )
    .await;
    drained?;
    all(written)?;
    logged?;
    save_state(run, st).await
}
