//! The call gateway: the one door through which a run's LLM calls pass ([`Run::call`]).
//!
//! It owns what a call must go through before and after it is sent, and nothing about what a
//! turn asks: replay of the call log (a call logged with the same key and request is answered
//! from the log, not paid twice), the worst-case reservation against the run's cost limit and
//! the batch's [`Guard`] (a call that does not fit waits for the calls in flight to settle),
//! the append of every answered call to `llm-calls.jsonl`, and the [`Ledger`] of what the run
//! spent. The turn pipeline (`turn.rs`) builds each call's [`CallSpec`] with [`Run::spec_for`]
//! and reads the replies; a [`Stop`] from here ends the run.

use std::cell::{Ref, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::task::{Poll, Waker};

use super::turn::Run;
use super::CALL_LOG;
use crate::config::Actor;
use crate::host::{ChatMessage, Clock, Llm, Storage};
use crate::llm::lockstep::Answer;
use crate::llm::{CallError, CallRecord, CallSpec, CostSource};
use crate::paths;
use crate::plan::Role;
use crate::pricing::{nanos_to_usd, usd_to_nanos, Nanos};
use crate::rng::derive;
use crate::schema::run::Savings;
use crate::schema::HaltReason;

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
    /// Prompt tokens served from providers' caches.
    pub cached_tokens: u64,
    /// What caches saved (negative when writes cost more).
    pub cache_saved_nanos: i64,
    /// Calls answered by batch jobs.
    pub batch_calls: u64,
    /// What batch prices saved.
    pub batch_saved_nanos: Nanos,
    /// Calls replayed from a branch's copied prefix: paid once, by the run it branched from,
    /// so counted there and not here (neither in `total_nanos` nor in `calls`).
    pub shared_calls: u64,
    /// What those calls cost their source run.
    pub shared_nanos: Nanos,
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
    /// What caches and batch prices saved.
    pub fn savings(&self) -> Savings {
        Savings {
            prompt_tokens: self.prompt_tokens,
            cached_tokens: self.cached_tokens,
            cache_saved: self.cache_saved_nanos as f64 / 1e9,
            batch_calls: self.batch_calls,
            batch_saved: nanos_to_usd(self.batch_saved_nanos),
            shared_calls: self.shared_calls,
            shared_saved: nanos_to_usd(self.shared_nanos),
        }
    }

    /// Counts a call replayed from a branch's copied prefix: what it saved, not what it cost.
    pub fn add_shared(&mut self, r: &CallRecord) {
        self.shared_calls += 1;
        self.shared_nanos += r.cost_nanos;
    }

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
        self.cached_tokens += r.cached_tokens;
        self.cache_saved_nanos += r.cache_saved_nanos;
        self.batch_calls += u64::from(r.batch_job.is_some());
        self.batch_saved_nanos += r.batch_saved_nanos;
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

/// Why a run stopped early.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Stop {
    CostLimit(String),
    /// The batch refused the call: (halt reason, why).
    Refused(HaltReason, String),
    Failed(String),
    Storage(String),
}

/// Collects the replies of concurrent calls; the first stop wins, after every call finished
/// (so that nothing paid is lost from the log).
pub(super) fn all<T>(results: Vec<Result<T, Stop>>) -> Result<Vec<T>, Stop> {
    results.into_iter().collect()
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
    Refused(HaltReason, String),
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
    /// The run has played `turn`, and every call of it is in the run's call log (a batch may
    /// now branch other runs from its first turns).
    fn turn_done(&self, _turn: u32) {}
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

/// The gateway's state for one run: the calls left to replay, what was spent and reserved,
/// and the calls waiting for room under the run's cost limit.
pub(super) struct Gateway {
    replay: RefCell<HashMap<String, CallRecord>>,
    ledger: RefCell<Ledger>,
    reserved: RefCell<Nanos>,
    /// Calls of this run waiting for its own calls in flight to settle (its cost limit).
    waiters: RefCell<Vec<Waker>>,
    sent: RefCell<u64>,
    replayed: RefCell<u64>,
}

impl Gateway {
    /// The gateway of a run in folder `dir`, with every call of the folder's log to replay.
    pub(super) async fn load<S: Storage>(storage: &S, dir: &str) -> Gateway {
        let mut replay = HashMap::new();
        if let Ok(Some(text)) = storage.read(&paths::join(dir, CALL_LOG)).await {
            // A line cut short by a kill is not a call that completed: it is skipped and re-sent.
            for line in text.lines() {
                if let Ok(r) = serde_json::from_str::<CallRecord>(line) {
                    replay.insert(r.key.clone(), r);
                }
            }
        }
        Gateway {
            replay: RefCell::new(replay),
            ledger: RefCell::new(Ledger::default()),
            reserved: RefCell::new(0),
            waiters: RefCell::new(Vec::new()),
            sent: RefCell::new(0),
            replayed: RefCell::new(0),
        }
    }

    /// What the run spent so far (replayed calls included).
    pub(super) fn ledger(&self) -> Ref<'_, Ledger> {
        self.ledger.borrow()
    }

    /// Calls sent in this session.
    pub(super) fn sent(&self) -> u64 {
        *self.sent.borrow()
    }

    /// Calls replayed from the log.
    pub(super) fn replayed(&self) -> u64 {
        *self.replayed.borrow()
    }
}

impl<'a, S: Storage, L: Llm, C: Clock> Run<'a, S, L, C> {
    /// The most a call can cost: [`CallSpec::worst_case_tokens`] at the model's prices (its
    /// batch price when it goes in a provider's batch job); `None` for a model without a price
    /// (nothing to bound it by: a budget refuses to start with such a model, and a run alone
    /// reserves nothing for it).
    fn worst_case(&self, spec: &CallSpec, batch: bool) -> Option<Nanos> {
        let (prompt, completion) = spec.worst_case_tokens();
        self.cx
            .client
            .prices()
            .price(&spec.model)
            .map(|p| usd_to_nanos(p.worst_usd(prompt, completion, batch)))
    }

    /// Reserves `worst` for a call against the run's cost limit and the batch's guard. A call
    /// that does not fit while other calls are in flight waits for them to settle (they give
    /// back what they did not use) and asks again; it is refused only when nothing it waits
    /// for is in flight. So a limit is spent, not abandoned at the first tight reservation.
    async fn reserve(&self, spec: &CallSpec, worst: Nanos) -> Result<(), Stop> {
        let g = &self.gateway;
        loop {
            let mut wait = false;
            if let Some(limit) = self.cx.spec.cost_limit.map(usd_to_nanos) {
                let reserved = *g.reserved.borrow();
                let committed = g.ledger.borrow().total_nanos + reserved;
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
                match self.cx.guard.reserve(worst) {
                    Verdict::Granted => return Ok(()),
                    Verdict::Refused(reason, why) => return Err(Stop::Refused(reason, why)),
                    Verdict::Wait => {}
                }
            }
            // Woken by the next settle of this run's calls or of any call of the batch. In
            // lock-step, the run counts as blocked meanwhile: only a job's answers free room.
            let _parked = self.member.as_ref().map(|m| m.park());
            let mut registered = false;
            std::future::poll_fn(|task| {
                if registered {
                    return Poll::Ready(());
                }
                registered = true;
                g.waiters.borrow_mut().push(task.waker().clone());
                self.cx.guard.wake_on_change(task.waker());
                Poll::Pending
            })
            .await;
        }
    }

    /// Makes (or replays) one call.
    pub(super) async fn call(&self, spec: CallSpec) -> Result<String, Stop> {
        let g = &self.gateway;
        let hash = spec.request_hash();
        let logged = g.replay.borrow_mut().remove(&spec.key);
        if let Some(r) = logged {
            if r.request_hash == hash {
                // A branch's calls up to its branch point were copied from its source, which
                // paid for them.
                let copied = self
                    .cx
                    .spec
                    .branch
                    .as_ref()
                    .is_some_and(|b| r.turn <= b.at_turn);
                if copied {
                    g.ledger.borrow_mut().add_shared(&r);
                } else {
                    g.ledger.borrow_mut().add(&r);
                }
                *g.replayed.borrow_mut() += 1;
                return Ok(r.reply);
            }
            self.note(spec.turn, &format!("{}: the logged call asked something else (the scenario changed?); asking again", spec.key));
        }
        let (route, request) = self.cx.client.request_for(&spec);
        let now = self.cx.clock.now_ms();
        let batch = self
            .member
            .as_ref()
            .and_then(|m| Some((m, m.protocol_for(&route, now)?)));
        let mut bound = self.worst_case(&spec, batch.is_some());
        let mut worst = bound.unwrap_or(0);
        self.reserve(&spec, worst).await?;
        // Released even when this future is dropped mid-call (a run past its time limit).
        let mut held = Held { run: self, worst };
        *g.reserved.borrow_mut() += worst;
        // The request goes to a job, or is sent here; a job's call sent realtime after all is
        // built again (rare: the deadline, or a server with no batch API).
        let mut unsent = Some(request);
        let answered = match batch {
            None => None,
            Some((member, protocol)) => {
                let request = unsent.take().expect("the request is unsent");
                // The run by its folder's name: the journal stays valid if the output folder moves.
                let run = paths::file_name(&self.cx.dir);
                let ask = member.ask(run, &spec.key, &hash, &route, protocol, request, now);
                match ask.await {
                    Answer::Done {
                        response,
                        job,
                        waited_ms,
                    } => {
                        let record =
                            self.cx
                                .client
                                .record(&spec, &route, response, 1, waited_ms, Some(job));
                        member.saved(record.batch_saved_nanos);
                        Some(Ok(record))
                    }
                    Answer::Realtime(_) => {
                        // Sent realtime after all: reserved again at the realtime price.
                        held.settle(0);
                        bound = self.worst_case(&spec, false);
                        worst = bound.unwrap_or(0);
                        self.reserve(&spec, worst).await?;
                        held = Held { run: self, worst };
                        *g.reserved.borrow_mut() += worst;
                        None
                    }
                }
            }
        };
        let result = match (answered, unsent) {
            (Some(r), _) => r,
            (None, Some(request)) => self.cx.client.send(&spec, &route, &request).await,
            (None, None) => self.cx.client.call(&spec).await,
        };
        held.settle(result.as_ref().map_or(0, |r: &CallRecord| r.cost_nanos));
        match result {
            Ok(record) => {
                let line =
                    serde_json::to_string(&record).map_err(|e| Stop::Failed(e.to_string()))? + "\n";
                self.cx
                    .storage
                    .append(&self.cx.path(CALL_LOG), &line)
                    .await
                    .map_err(|e| Stop::Storage(e.to_string()))?;
                g.ledger.borrow_mut().add(&record);
                *g.sent.borrow_mut() += 1;
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
                if record.reply_cut_bytes > 0 {
                    self.note(
                        spec.turn,
                        &format!(
                            "{}: the reply was {}; only its first {} were kept",
                            spec.key,
                            crate::limits::size_text(
                                record.reply.len() + record.reply_cut_bytes as usize
                            ),
                            crate::limits::size_text(record.reply.len()),
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
                    self.cx.guard.overrun(&why);
                    if self.cx.spec.cost_limit.is_some() {
                        return Err(Stop::CostLimit(why));
                    }
                }
                Ok(record.reply)
            }
            Err(
                e
                @ (CallError::Refused { .. } | CallError::Exhausted { .. } | CallError::Person(_)),
            ) => Err(Stop::Failed(format!("{} ({}): {e}", spec.key, spec.model))),
        }
    }

    /// The call `key` of `turn`: its seed (from the turn's seed), the model, and the sampling
    /// settings and output cap of `actor` (or of the run and the role when it sets none).
    pub(super) fn spec_for(
        &self,
        key: String,
        role: Role,
        actor: Option<&Actor>,
        turn: u32,
        model: &str,
        messages: Vec<ChatMessage>,
    ) -> CallSpec {
        CallSpec {
            seed: derive(self.cx.spec.turn_seed(turn), &key),
            key,
            role,
            actor: actor.map(|a| a.short_name.clone()),
            turn,
            model: model.to_string(),
            messages,
            temperature: actor.and_then(|a| a.temperature),
            max_tokens: actor
                .and_then(|a| a.max_tokens)
                .or(self.cx.spec.max_tokens)
                .unwrap_or_else(|| self.cx.scenario(turn).cap(role, None)),
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
        *self.run.gateway.reserved.borrow_mut() -= self.worst;
        self.run.cx.guard.settle(self.worst, actual);
        for w in self.run.gateway.waiters.borrow_mut().drain(..) {
            w.wake();
        }
    }
}

impl<S: Storage, L: Llm, C: Clock> Drop for Held<'_, '_, S, L, C> {
    fn drop(&mut self) {
        self.release(0);
    }
}
