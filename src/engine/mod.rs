//! The scenario engine: one run, from turn 1 to its last turn, writing every file a run owns.
//!
//! Each turn: exogenous events; communication (when enabled; messages are seen by their
//! participants in the same turn); decisions (every actor at once, none sees another's action
//! of the turn); the world update; metrics; quality checks; then the turn's files and the
//! run's state. Older turns leave the prompt's window through a running summary.
//!
//! Every LLM call goes through [`Run::call`], which sends it with its role's output cap
//! ([`Scenario::cap`]), reserves its worst-case cost first (against the run's limit and the
//! batch's [`Guard`]), and appends it to the run's call log
//! (`llm-calls.jsonl`). The log is what makes a run resumable with no call paid twice: a run
//! that starts in a folder with a log replays every logged call whose key and request match,
//! and sends only the missing ones. Since the engine is deterministic given its replies and
//! its seed, replaying rebuilds the exact state, and rewrites the same files.

mod comms;
mod events;
pub mod extract;
pub mod files;
pub mod parse;
pub mod prompts;
pub mod session;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::task::{Poll, Waker};

use futures_util::future::join_all;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::{Actor, Extraction, Scenario};
use crate::host::{Clock, Llm, Storage};
use crate::llm::{CallError, CallRecord, CallSpec, Client, CostSource};
use crate::paths;
use crate::plan::variations::Modifications;
use crate::plan::Role;
use crate::pricing::{nanos_to_usd, usd_to_nanos, Nanos};
use crate::rng::{derive, Rng};
use extract::MetricRecord;
use files::CheckResult;
use parse::Decision;

/// The call log's file name.
pub const CALL_LOG: &str = "llm-calls.jsonl";
/// The run state's file name.
pub const STATE_FILE: &str = "scenario-state.json";

/// How a run ended (or stands).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// A branch: a run that reuses another's first turns and then diverges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
pub struct RunSpec {
    /// The scenario folder.
    pub scenario_dir: String,
    /// Changes to the scenario (a batch variation, `--model-override`, `--turns`).
    pub modifications: Modifications,
    /// The run's seed.
    pub seed: u64,
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

/// Money and counts of a run, by several keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ledger {
    /// Total spent.
    pub total_nanos: Nanos,
    /// Calls made (replayed ones included: they were paid once).
    pub calls: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Calls whose model had no known price.
    pub unknown_price_calls: u64,
    /// Replies cut at their output cap (`finish_reason: length`).
    pub truncated: u64,
    /// Replies longer than the cap sent: the provider ignored `max_tokens`.
    pub over_cap: u64,
    /// Attempts abandoned at their time limit and sent again: possibly billed twice.
    pub timeouts: u64,
    /// By actor short_name (`world` and others for calls of no actor).
    pub by_actor: BTreeMap<String, Nanos>,
    /// By role.
    pub by_role: BTreeMap<String, Nanos>,
    /// By turn.
    pub by_turn: BTreeMap<String, Nanos>,
    /// By model.
    pub by_model: BTreeMap<String, Nanos>,
}

impl Ledger {
    /// Counts one call.
    pub fn add(&mut self, r: &CallRecord) {
        self.total_nanos += r.cost_nanos;
        self.calls += 1;
        self.prompt_tokens += r.prompt_tokens;
        self.completion_tokens += r.completion_tokens;
        self.unknown_price_calls += u64::from(r.cost_source == CostSource::Unknown);
        self.truncated += u64::from(r.truncated());
        self.over_cap += u64::from(r.over_cap());
        self.timeouts += u64::from(r.timeouts);
        let role = r.role.as_str().to_string();
        *self
            .by_actor
            .entry(r.actor.clone().unwrap_or_else(|| role.clone()))
            .or_default() += r.cost_nanos;
        *self.by_role.entry(role).or_default() += r.cost_nanos;
        *self.by_turn.entry(r.turn.to_string()).or_default() += r.cost_nanos;
        *self.by_model.entry(r.model.clone()).or_default() += r.cost_nanos;
    }
}

/// Replies worth a second look, counted per run and per batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
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

/// Why a run stopped early.
#[derive(Debug, Clone, PartialEq)]
enum Stop {
    CostLimit(String),
    /// The batch refused the call: (halt reason, why).
    Refused(String, String),
    Failed(String),
    Storage(String),
}

/// What a guard says of a call's reservation.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Reserved: send it.
    Granted,
    /// It does not fit now, but calls in flight will give back what they did not use: ask
    /// again after the next settle ([`Guard::wake_on_change`]).
    Wait,
    /// Refused for good: (halt reason, sentence).
    Refused(String, String),
}

/// What a batch says about each call a run is about to send: its budget and its shutdown.
/// A run alone has no guard ([`Unguarded`]).
pub trait Guard {
    /// Reserves `worst` nano-dollars for a call about to be sent, asks it to wait, or refuses
    /// it with a halt reason (`budget`, `interrupted`) and a sentence.
    fn reserve(&self, worst: Nanos) -> Verdict;
    /// The call is over: its reservation is released and `actual` is what it cost.
    fn settle(&self, worst: Nanos, actual: Nanos);
    /// Wakes `waker` at the next settle or stop (for a call told to [`Verdict::Wait`]).
    fn wake_on_change(&self, waker: &Waker);
    /// A call cost more than its reservation (its provider ignored `max_tokens`): the bound
    /// the budget rests on does not hold, so a budget must stop.
    fn overrun(&self, why: &str);
}

/// No batch around the run.
pub struct Unguarded;

impl Guard for Unguarded {
    fn reserve(&self, _: Nanos) -> Verdict {
        Verdict::Granted
    }
    fn settle(&self, _: Nanos, _: Nanos) {}
    fn wake_on_change(&self, _: &Waker) {}
    fn overrun(&self, _: &str) {}
}

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// How it ended.
    pub status: RunStatus,
    /// Why it halted or failed.
    pub halt_reason: Option<String>,
    /// The error, when failed.
    pub error: Option<String>,
    /// Turns completed.
    pub current_turn: u32,
    /// USD spent (replayed calls included: they were paid once, in an earlier session).
    pub total_cost: f64,
    /// Calls sent in this session.
    pub calls_sent: u64,
    /// Calls replayed from the log.
    pub calls_replayed: u64,
    /// Replies cut at or over their cap, and possibly billed retries.
    #[serde(default)]
    pub replies: ReplyCounts,
}

/// What the engine keeps in memory of one turn.
#[derive(Debug, Clone, Default)]
struct TurnRecord {
    world: String,
    actions: Vec<(String, String)>,
    goals: Vec<String>,
}

/// A run in progress.
pub struct Run<'a, S: Storage, L: Llm, C: Clock> {
    storage: &'a S,
    client: &'a Client<'a, L, C>,
    clock: &'a C,
    scenario: &'a Scenario,
    spec: &'a RunSpec,
    dir: String,
    guard: &'a dyn Guard,
    replay: RefCell<HashMap<String, CallRecord>>,
    ledger: RefCell<Ledger>,
    reserved: RefCell<Nanos>,
    /// Calls of this run waiting for its own calls in flight to settle (its cost limit).
    waiters: RefCell<Vec<Waker>>,
    sent: RefCell<u64>,
    replayed: RefCell<u64>,
    log: RefCell<String>,
    /// Files of finished turns not written yet (name, text; one entry per name, the latest).
    /// They are written while the next turn's calls are in flight ([`Run::drain`]), so that
    /// file I/O is off a turn's critical path: on a filesystem where creating a file costs
    /// half a millisecond, a turn of 32 runs otherwise waited tens of milliseconds on storage
    /// (bench/README.md). Nothing recorded depends on them: a call is in the call log the moment
    /// it is answered, and a resume replays the log and writes a turn's files again.
    behind: RefCell<Vec<(String, String)>>,
    started_ms: f64,
}

impl<'a, S: Storage, L: Llm, C: Clock> Run<'a, S, L, C> {
    fn path(&self, name: &str) -> String {
        paths::join(&self.dir, name)
    }

    fn note(&self, turn: u32, text: &str) {
        let secs = (self.clock.now_ms() - self.started_ms) / 1000.0;
        self.log
            .borrow_mut()
            .push_str(&format!("[+{secs:.3}s] [turn {turn}] {text}\n"));
    }

    async fn flush_log(&self) -> Result<(), Stop> {
        let text = std::mem::take(&mut *self.log.borrow_mut());
        if !text.is_empty() {
            self.storage
                .append(&self.path("scenario.log"), &text)
                .await
                .map_err(|e| Stop::Storage(e.to_string()))?;
        }
        Ok(())
    }

    async fn write(&self, name: &str, text: &str) -> Result<(), Stop> {
        self.storage
            .write(&self.path(name), text)
            .await
            .map_err(|e| Stop::Storage(e.to_string()))
    }

    /// Queues a file for [`Run::drain`]; a later text for the same file replaces the earlier.
    fn write_behind(&self, name: String, text: String) {
        let mut queue = self.behind.borrow_mut();
        queue.retain(|(n, _)| *n != name);
        queue.push((name, text));
    }

    /// Writes the queued files, batch after batch, until none is left. Batches are written in
    /// order, so a file queued twice ends with its later text.
    async fn drain(&self) -> Result<(), Stop> {
        loop {
            let batch = std::mem::take(&mut *self.behind.borrow_mut());
            if batch.is_empty() {
                return Ok(());
            }
            all(join_all(batch.iter().map(|(name, text)| self.write(name, text))).await)?;
        }
    }

    /// The most a call can cost: [`CallSpec::worst_case_tokens`] at the model's prices; `None`
    /// for a model without a price (nothing to bound it by: a budget refuses to start with such
    /// a model, and a run alone reserves nothing for it).
    fn worst_case(&self, spec: &CallSpec) -> Option<Nanos> {
        let (prompt, completion) = spec.worst_case_tokens();
        self.client
            .prices()
            .price(&spec.model)
            .map(|p| usd_to_nanos(p.cost_usd(prompt as f64, completion as f64)))
    }

    /// Reserves `worst` for a call against the run's cost limit and the batch's guard. A call
    /// that does not fit while other calls are in flight waits for them to settle (they give
    /// back what they did not use) and asks again; it is refused only when nothing it waits
    /// for is in flight. So a limit is spent, not abandoned at the first tight reservation.
    async fn reserve(&self, spec: &CallSpec, worst: Nanos) -> Result<(), Stop> {
        loop {
            let mut wait = false;
            if let Some(limit) = self.spec.cost_limit.map(usd_to_nanos) {
                let reserved = *self.reserved.borrow();
                let committed = self.ledger.borrow().total_nanos + reserved;
                if committed + worst > limit {
                    if reserved == 0 {
                        return Err(Stop::CostLimit(format!(
                            "the next call ({}) could cost up to ${:.4}, and ${:.4} of the run's ${:.4} limit is spent",
                            spec.key,
                            nanos_to_usd(worst),
                            nanos_to_usd(committed),
                            nanos_to_usd(limit)
                        )));
                    }
                    wait = true;
                }
            }
            if !wait {
                match self.guard.reserve(worst) {
                    Verdict::Granted => return Ok(()),
                    Verdict::Refused(reason, why) => return Err(Stop::Refused(reason, why)),
                    Verdict::Wait => {}
                }
            }
            // Woken by the next settle of this run's calls or of any call of the batch.
            let mut registered = false;
            std::future::poll_fn(|cx| {
                if registered {
                    return Poll::Ready(());
                }
                registered = true;
                self.waiters.borrow_mut().push(cx.waker().clone());
                self.guard.wake_on_change(cx.waker());
                Poll::Pending
            })
            .await;
        }
    }

    /// Makes (or replays) one call.
    async fn call(&self, spec: CallSpec) -> Result<String, Stop> {
        let hash = spec.request_hash();
        let logged = self.replay.borrow_mut().remove(&spec.key);
        if let Some(r) = logged {
            if r.request_hash == hash {
                self.ledger.borrow_mut().add(&r);
                *self.replayed.borrow_mut() += 1;
                return Ok(r.reply);
            }
            self.note(spec.turn, &format!("{}: the logged call asked something else (the scenario changed?); asking again", spec.key));
        }
        let bound = self.worst_case(&spec);
        let worst = bound.unwrap_or(0);
        self.reserve(&spec, worst).await?;
        // Released even when this future is dropped mid-call (a run past its time limit).
        let held = Held { run: self, worst };
        *self.reserved.borrow_mut() += worst;
        let result = self.client.call(&spec).await;
        held.settle(result.as_ref().map_or(0, |r: &CallRecord| r.cost_nanos));
        match result {
            Ok(record) => {
                let line =
                    serde_json::to_string(&record).map_err(|e| Stop::Failed(e.to_string()))? + "\n";
                self.storage
                    .append(&self.path(CALL_LOG), &line)
                    .await
                    .map_err(|e| Stop::Storage(e.to_string()))?;
                self.ledger.borrow_mut().add(&record);
                *self.sent.borrow_mut() += 1;
                if record.attempts > 1 {
                    let billed = if record.timeouts > 0 {
                        format!(
                            " ({} abandoned at its time limit, which the server may have billed)",
                            record.timeouts
                        )
                    } else {
                        String::new()
                    };
                    self.note(
                        spec.turn,
                        &format!(
                            "{}: answered after {} attempts{billed}",
                            spec.key, record.attempts
                        ),
                    );
                }
                if record.truncated() {
                    self.note(
                        spec.turn,
                        &format!(
                            "{}: the reply was cut at its cap of {} tokens",
                            spec.key, spec.max_tokens
                        ),
                    );
                }
                if record.cost_source == CostSource::Unknown {
                    self.note(
                        spec.turn,
                        &format!(
                            "{}: no price known for {}; counted as $0",
                            spec.key, spec.model
                        ),
                    );
                }
                let billed_over = bound.is_some_and(|b| record.cost_nanos > b);
                if record.over_cap() || billed_over {
                    let what = if record.over_cap() {
                        format!(
                            "ignored the output cap: {} completion tokens for a cap of {}",
                            record.completion_tokens, spec.max_tokens
                        )
                    } else {
                        format!(
                            "billed ${:.6} for a call bounded at ${:.6}",
                            nanos_to_usd(record.cost_nanos),
                            nanos_to_usd(worst)
                        )
                    };
                    let why = format!(
                        "{} {what}; a budget cannot be guaranteed with this model",
                        spec.model
                    );
                    self.note(spec.turn, &why);
                    self.guard.overrun(&why);
                    if self.spec.cost_limit.is_some() {
                        return Err(Stop::CostLimit(why));
                    }
                }
                Ok(record.reply)
            }
            Err(e @ CallError::Refused { .. }) | Err(e @ CallError::Exhausted { .. }) => {
                Err(Stop::Failed(format!("{} ({}): {e}", spec.key, spec.model)))
            }
        }
    }

    fn spec_for(
        &self,
        key: String,
        role: Role,
        actor: Option<&Actor>,
        turn: u32,
        model: &str,
        messages: Vec<crate::host::ChatMessage>,
    ) -> CallSpec {
        CallSpec {
            seed: derive(self.spec.turn_seed(turn), &key),
            key,
            role,
            actor: actor.map(|a| a.short_name.clone()),
            turn,
            model: model.to_string(),
            messages,
            temperature: actor.and_then(|a| a.temperature),
            max_tokens: actor
                .and_then(|a| a.max_tokens)
                .or(self.spec.max_tokens)
                .unwrap_or_else(|| self.scenario.cap(role, None)),
            top_p: actor.and_then(|a| a.top_p),
        }
    }
}

/// A reservation for one call in flight.
struct Held<'r, 'a, S: Storage, L: Llm, C: Clock> {
    run: &'r Run<'a, S, L, C>,
    worst: Nanos,
}

impl<S: Storage, L: Llm, C: Clock> Held<'_, '_, S, L, C> {
    fn settle(self, actual: Nanos) {
        self.release(actual);
        std::mem::forget(self);
    }

    /// Gives the reservation back, counts `actual` as spent, and wakes the calls that wait
    /// for room under a limit.
    fn release(&self, actual: Nanos) {
        *self.run.reserved.borrow_mut() -= self.worst;
        self.run.guard.settle(self.worst, actual);
        for w in self.run.waiters.borrow_mut().drain(..) {
            w.wake();
        }
    }
}

impl<S: Storage, L: Llm, C: Clock> Drop for Held<'_, '_, S, L, C> {
    fn drop(&mut self) {
        self.release(0);
    }
}

/// The public context of turn `turn`: the summary of turns that left the window, the recent
/// turns in full, and the current state.
fn context(s: &Scenario, history: &[TurnRecord], summary: &str, turn: u32) -> String {
    let window = s.context_window_size;
    let first_full = turn.saturating_sub(window).max(1);
    let mut o = String::new();
    if !summary.is_empty() {
        o.push_str(&format!(
            "## Earlier Events (Summary)\n\n{}\n\n",
            summary.trim()
        ));
    } else if turn > 1 {
        o.push_str(&format!(
            "## Initial Situation\n\n{}\n\n",
            history[0].world.trim()
        ));
    }
    if turn > 1 {
        o.push_str("## Recent History\n");
        for k in first_full..turn {
            let rec = &history[k as usize];
            o.push_str(&format!("\n### Turn {k}: actions\n"));
            for (name, action) in &rec.actions {
                o.push_str(&format!("- **{name}:** {}\n", action.trim()));
            }
            if k + 1 < turn {
                o.push_str(&format!(
                    "\n### Turn {k}: the world after it\n\n{}\n",
                    rec.world.trim()
                ));
            }
        }
        o.push('\n');
    }
    o.push_str(&format!(
        "## Current World State\n\n{}",
        history[(turn - 1) as usize].world.trim()
    ));
    o
}

/// Runs (or resumes) `scenario` in `spec`'s folder `dir` until it completes, halts or fails.
pub async fn run<S: Storage, L: Llm, C: Clock>(
    storage: &S,
    client: &Client<'_, L, C>,
    clock: &C,
    scenario: &Scenario,
    spec: &RunSpec,
    dir: &str,
) -> RunOutcome {
    run_guarded(storage, client, clock, scenario, spec, dir, &Unguarded).await
}

/// [`run`], inside a batch whose `guard` approves every call before it is sent.
#[allow(clippy::too_many_arguments)]
pub async fn run_guarded<S: Storage, L: Llm, C: Clock>(
    storage: &S,
    client: &Client<'_, L, C>,
    clock: &C,
    scenario: &Scenario,
    spec: &RunSpec,
    dir: &str,
    guard: &dyn Guard,
) -> RunOutcome {
    let mut replay = HashMap::new();
    if let Ok(Some(text)) = storage.read(&paths::join(dir, CALL_LOG)).await {
        // A line cut short by a kill is not a call that completed: it is skipped and re-sent.
        for line in text.lines() {
            if let Ok(r) = serde_json::from_str::<CallRecord>(line) {
                replay.insert(r.key.clone(), r);
            }
        }
    }
    let run = Run {
        storage,
        client,
        clock,
        scenario,
        spec,
        dir: dir.to_string(),
        guard,
        replay: RefCell::new(replay),
        ledger: RefCell::new(Ledger::default()),
        reserved: RefCell::new(0),
        waiters: RefCell::new(Vec::new()),
        sent: RefCell::new(0),
        replayed: RefCell::new(0),
        log: RefCell::new(String::new()),
        behind: RefCell::new(Vec::new()),
        started_ms: clock.now_ms(),
    };
    let mut state = Progress::default();
    let result = turns(&run, &mut state).await;
    let (status, halt_reason, error) = match &result {
        Ok(()) => (RunStatus::Completed, None, None),
        Err(Stop::CostLimit(why)) => {
            run.note(
                state.turn + 1,
                &format!("halted at the run's cost limit: {why}"),
            );
            (RunStatus::Halted, Some("cost_limit".to_string()), None)
        }
        Err(Stop::Refused(reason, why)) => {
            run.note(state.turn + 1, &format!("halted ({reason}): {why}"));
            (RunStatus::Halted, Some(reason.clone()), None)
        }
        Err(Stop::Failed(why)) | Err(Stop::Storage(why)) => {
            run.note(state.turn + 1, &format!("failed: {why}"));
            (
                RunStatus::Failed,
                Some("error".to_string()),
                Some(why.clone()),
            )
        }
    };
    let outcome = RunOutcome {
        status,
        halt_reason,
        error,
        current_turn: state.turn,
        total_cost: nanos_to_usd(run.ledger.borrow().total_nanos),
        calls_sent: *run.sent.borrow(),
        calls_replayed: *run.replayed.borrow(),
        replies: ReplyCounts::from(&*run.ledger.borrow()),
    };
    let _ = finish(&run, &state, &outcome).await;
    outcome
}

/// Everything a run accumulates.
#[derive(Default)]
struct Progress {
    turn: u32,
    history: Vec<TurnRecord>,
    summary: String,
    records: Vec<MetricRecord>,
    checks: Vec<CheckResult>,
    fired: BTreeSet<String>,
    latest: BTreeMap<String, f64>,
}

/// The text of `scenario-state.json`.
fn state_text<S: Storage, L: Llm, C: Clock>(
    run: &Run<'_, S, L, C>,
    turn: u32,
    status: RunStatus,
    halt_reason: Option<&str>,
    error: Option<&str>,
) -> String {
    let s = run.scenario;
    let state = json!({
        "scenario_name": s.name,
        "scenario_path": run.spec.scenario_dir,
        "status": status,
        "halt_reason": halt_reason,
        "error": error,
        "current_turn": turn,
        "total_turns": s.turns,
        "seed": run.spec.seed,
        "spec": run.spec,
        "actors": s.actors.iter().map(|a| (a.short_name.clone(), json!({"name": a.name, "model": a.model}))).collect::<serde_json::Map<_, _>>(),
        "world_state_model": s.world_state_model,
        "total_cost": nanos_to_usd(run.ledger.borrow().total_nanos),
        "calls": run.ledger.borrow().calls,
        "truncated_replies": run.ledger.borrow().truncated,
        "over_cap_replies": run.ledger.borrow().over_cap,
        "possibly_billed_retries": run.ledger.borrow().timeouts,
    });
    format!("{state:#}\n")
}

async fn save_state<S: Storage, L: Llm, C: Clock>(
    run: &Run<'_, S, L, C>,
    turn: u32,
    status: RunStatus,
    halt_reason: Option<&str>,
    error: Option<&str>,
) -> Result<(), Stop> {
    run.write(
        STATE_FILE,
        &state_text(run, turn, status, halt_reason, error),
    )
    .await
}

async fn finish<S: Storage, L: Llm, C: Clock>(
    run: &Run<'_, S, L, C>,
    p: &Progress,
    o: &RunOutcome,
) -> Result<(), Stop> {
    // The last turn's files first, then the run's closing files at once, then the final state,
    // so that a finished status always comes with its metrics and costs.
    let drained = run.drain().await;
    let mut closing = vec![
        (
            "metrics.json",
            format!("{:#}\n", files::metrics_json(run.scenario, &p.records)),
        ),
        (
            "costs.json",
            format!("{:#}\n", files::costs_json(&run.ledger.borrow())),
        ),
    ];
    if run
        .scenario
        .checks
        .as_ref()
        .is_some_and(|c| c.summary_report && c.enabled().next().is_some())
    {
        closing.push((
            "validation-summary.md",
            files::validation_summary(&p.checks),
        ));
    }
    let done = match o.status {
        RunStatus::Completed => format!("completed {} turns, ${:.6}", o.current_turn, o.total_cost),
        _ => format!(
            "stopped after turn {}: {:?} ({})",
            o.current_turn,
            o.status,
            o.halt_reason.as_deref().unwrap_or("")
        ),
    };
    run.note(
        o.current_turn,
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
    save_state(
        run,
        o.current_turn,
        o.status,
        o.halt_reason.as_deref(),
        o.error.as_deref(),
    )
    .await
}

async fn turns<S: Storage, L: Llm, C: Clock>(
    run: &Run<'_, S, L, C>,
    p: &mut Progress,
) -> Result<(), Stop> {
    let s = run.scenario;
    let initial = parse::WorldUpdate {
        state: s.initial_world_state.trim().to_string(),
        ..Default::default()
    };
    let world0 = files::world_state(s, 0, &initial, &[], &[]);
    let (written, saved) = futures_util::future::join(
        run.write(&files::world_state_name(0), &world0),
        save_state(run, 0, RunStatus::Running, None, None),
    )
    .await;
    written?;
    saved?;
    p.history.push(TurnRecord {
        world: initial.state,
        ..Default::default()
    });
    for turn in 1..=s.turns {
        // The previous turn's files are written while this turn's calls are in flight.
        let (done, written) = futures_util::future::join(one_turn(run, p, turn), run.drain()).await;
        written?;
        done?;
        p.turn = turn;
        run.flush_log().await?;
        run.write_behind(
            STATE_FILE.to_string(),
            state_text(run, turn, RunStatus::Running, None, None),
        );
    }
    Ok(())
}

/// Collects the replies of concurrent calls; the first stop wins, after every call finished
/// (so that nothing paid is lost from the log).
fn all<T>(results: Vec<Result<T, Stop>>) -> Result<Vec<T>, Stop> {
    results.into_iter().collect()
}

async fn one_turn<S: Storage, L: Llm, C: Clock>(
    run: &Run<'_, S, L, C>,
    p: &mut Progress,
    turn: u32,
) -> Result<(), Stop> {
    let s = run.scenario;
    let window = s.context_window_size;
    // Summary: fold the turn that just left the window into the running summary.
    if turn >= window + 2 {
        let k = (turn - window - 1) as usize;
        let rec = &p.history[k];
        let mut text = if k == 1 {
            format!("### Initial situation\n{}\n\n", p.history[0].world.trim())
        } else {
            String::new()
        };
        text.push_str(&format!("### Turn {k}\nActions:\n"));
        for (name, action) in &rec.actions {
            text.push_str(&format!("- {name}: {}\n", action.trim()));
        }
        text.push_str(&format!("\nThe world after it:\n{}\n", rec.world.trim()));
        let spec = run.spec_for(
            format!("t{turn}/summary"),
            Role::Summary,
            None,
            turn,
            &s.world_state_model,
            prompts::summary(s, &p.summary, &text),
        );
        p.summary = run.call(spec).await?;
    }
    let previous = p.history[(turn - 1) as usize].world.clone();
    let mut rng = Rng::new(derive(run.spec.turn_seed(turn), &format!("events/t{turn}")));
    let events = events::due(
        &s.events,
        turn,
        &mut rng,
        &mut p.fired,
        &p.latest,
        &previous,
    );
    for e in &events {
        run.note(turn, &format!("event: {}", e.name));
    }
    let ctx = context(s, &p.history, &p.summary, turn);
    let exchanges = comms::phase(run, turn, &ctx).await?;
    // Decisions: all at once; none sees another's action of this turn.
    let decisions: Vec<Decision> = all(join_all(s.actors.iter().enumerate().map(|(i, a)| {
        let recent: Vec<(u32, String)> = (turn.saturating_sub(2).max(1)..turn)
            .filter_map(|k| {
                p.history
                    .get(k as usize)
                    .and_then(|r| r.goals.get(i))
                    .filter(|g| !g.is_empty())
                    .map(|g| (k, g.clone()))
            })
            .collect();
        let mine: Vec<prompts::Exchange> = exchanges
            .iter()
            .filter(|x| x.participants.contains(&a.short_name))
            .map(|x| x.for_prompt())
            .collect();
        let spec = run.spec_for(
            format!("t{turn}/decision/{}", a.short_name),
            Role::Actor,
            Some(a),
            turn,
            &a.model,
            prompts::decision(s, a, turn, &ctx, &mine, &recent),
        );
        async move { run.call(spec).await.map(|reply| parse::decision(&reply)) }
    }))
    .await)?;
    let mut actions = Vec::new();
    for (a, d) in s.actors.iter().zip(&decisions) {
        if d.fallback {
            run.note(
                turn,
                &format!(
                    "{}: the reply had no ACTION tag; the whole reply is taken as the action",
                    a.short_name
                ),
            );
        }
        actions.push((a.name.clone(), d.action.clone()));
    }
    // The decision files are written behind (see `Run::behind`).
    for (a, d) in s.actors.iter().zip(&decisions) {
        run.write_behind(
            format!("{}-{turn:03}.md", paths::sanitize_segment(&a.short_name)),
            files::decision(s, &a.name, &a.model, turn, d),
        );
    }
    let event_lines: Vec<(String, String)> = events
        .iter()
        .map(|e| (e.name.clone(), e.description.clone()))
        .collect();
    let spec = run.spec_for(
        format!("t{turn}/world"),
        Role::World,
        None,
        turn,
        &s.world_state_model,
        prompts::world_update(s, turn, &previous, &actions, &event_lines),
    );
    let update = parse::world_update(&run.call(spec).await?);
    if update.fallback {
        run.note(
            turn,
            "world: the reply had no UPDATED STATE tag; the whole reply is taken as the new state",
        );
    }
    run.write_behind(
        files::world_state_name(turn),
        files::world_state(s, turn, &update, &actions, &events),
    );
    let records = metrics(run, turn, &update.state, &decisions).await?;
    for r in &records {
        if let Some(v) = r.value {
            p.latest.insert(r.name.clone(), v);
        }
        if let Some(f) = &r.flag {
            run.note(turn, &format!("metric {}: {f}", r.name));
        }
    }
    p.records.extend(records);
    // Quality checks.
    let results = checks(
        run,
        turn,
        &previous,
        &update.state,
        &actions,
        &decisions,
        &exchanges,
    )
    .await?;
    if !results.is_empty() && s.checks.as_ref().is_some_and(|c| c.turn_reports) {
        run.write_behind(
            format!("validation-{turn:03}.md"),
            files::validation_turn(turn, &results),
        );
    }
    p.checks.extend(results);
    p.history.push(TurnRecord {
        world: update.state,
        actions,
        goals: decisions
            .iter()
            .map(|d| {
                [d.long_term_goals.trim(), d.short_term_priorities.trim()]
                    .iter()
                    .filter(|t| !t.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect(),
    });
    Ok(())
}

async fn metrics<S: Storage, L: Llm, C: Clock>(
    run: &Run<'_, S, L, C>,
    turn: u32,
    world: &str,
    decisions: &[Decision],
) -> Result<Vec<MetricRecord>, Stop> {
    let s = run.scenario;
    // (metric, text, actor) for every measurement to take.
    let mut jobs = Vec::new();
    for m in &s.metrics {
        if m.actor_specific {
            for (a, d) in s.actors.iter().zip(decisions) {
                if m.actor.as_deref().is_none_or(|x| x == a.short_name) {
                    jobs.push((m, format!("{}\n\n{}", d.reasoning, d.action), Some(a)));
                }
            }
        } else {
            jobs.push((m, world.to_string(), None));
        }
    }
    let out = join_all(jobs.into_iter().map(|(m, text, actor)| async move {
        let who = actor.map(|a| a.short_name.as_str());
        match &m.extraction {
            Extraction::Llm { prompt, model } => {
                let key = match who {
                    Some(a) => format!("t{turn}/metric/{}/{a}", m.name),
                    None => format!("t{turn}/metric/{}", m.name),
                };
                let model = model.as_deref().unwrap_or(&s.world_state_model);
                let mut spec = run.spec_for(
                    key,
                    Role::Metric,
                    None,
                    turn,
                    model,
                    prompts::metric(m, prompt, &text),
                );
                // Logged as about the actor, without the actor's sampling settings.
                spec.actor = who.map(str::to_string);
                run.call(spec)
                    .await
                    .map(|answer| Some(extract::from_answer(m, &answer, turn, who)))
            }
            _ => Ok(extract::from_text(m, &text, turn, who)),
        }
    }))
    .await;
    Ok(all(out)?.into_iter().flatten().collect())
}

#[allow(clippy::too_many_arguments)]
async fn checks<S: Storage, L: Llm, C: Clock>(
    run: &Run<'_, S, L, C>,
    turn: u32,
    previous: &str,
    world: &str,
    actions: &[(String, String)],
    decisions: &[Decision],
    exchanges: &[comms::Channel],
) -> Result<Vec<CheckResult>, Stop> {
    let s = run.scenario;
    let Some(rules) = s.checks.as_ref().filter(|c| c.run_after_each_turn) else {
        return Ok(Vec::new());
    };
    let model = rules.model.as_deref().unwrap_or(&s.world_state_model);
    let action_lines = actions
        .iter()
        .map(|(n, a)| format!("**{n}:** {}", a.trim()))
        .collect::<Vec<_>>()
        .join("\n");
    let mut jobs = Vec::new();
    for c in rules.enabled() {
        if c.per_actor() {
            for (a, d) in s.actors.iter().zip(decisions) {
                jobs.push((c, Some(a), Some(d)));
            }
        } else {
            jobs.push((c, None, None));
        }
    }
    let out = join_all(jobs.into_iter().map(|(c, a, d)| {
        let private = a
            .map(|a| {
                exchanges
                    .iter()
                    .filter(|x| x.participants.contains(&a.short_name))
                    .map(|x| x.transcript())
                    .collect::<Vec<_>>()
                    .join("\n\n")
            })
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "None".into());
        let input = prompts::CheckInput {
            actor: a,
            previous_world_state: previous,
            new_world_state: world,
            actor_actions: &action_lines,
            actor_reasoning: d.map_or("", |d| d.reasoning.as_str()),
            actor_action: d.map_or("", |d| d.action.as_str()),
            private_communications: &private,
        };
        let key = match a {
            Some(a) => format!("t{turn}/check/{}/{}", c.name, a.short_name),
            None => format!("t{turn}/check/{}", c.name),
        };
        let mut spec = run.spec_for(
            key,
            Role::Check,
            None,
            turn,
            model,
            prompts::check(c, &input),
        );
        let who = a.map(|a| a.short_name.clone());
        spec.actor = who.clone();
        async move {
            run.call(spec)
                .await
                .map(|reply| files::parse_check(&c.name, who.as_deref(), turn, &reply))
        }
    }))
    .await;
    all(out)
}
