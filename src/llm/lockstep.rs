//! Lock-step batch mode (`execution: batch`): the runs of a batch advance together, phase by
//! phase, and each phase's calls of every run go to the provider as one batch job a model.
//!
//! Every run joins as a [`Member`]. A call whose provider has a batch API becomes a ticket
//! ([`Member::ask`]) instead of a request. The driver ([`Lockstep::drive`]) waits for the
//! barrier: every member blocked, on a ticket (queued or in a job) or on the budget
//! ([`Member::park`]). Then it takes the queue, submits one job per endpoint and model, polls
//! them, answers every ticket, and waits for the next barrier. Every run makes the same phases
//! in the same order (summary, communication, decisions, world update, metrics, checks), so
//! the round trips number turns × phases, whatever the number of runs. A member that is not
//! blocked is working (writing files, or a realtime call to a model with no batch API) and
//! will block or leave: the barrier waits for it, so a phase is not split.
//!
//! What can go wrong, and what happens:
//! - A submitted job's id is appended to `batch-jobs.jsonl` at once. A resumed batch reads it,
//!   and a run asking a call that a journalled job holds (same run, key and request hash) is
//!   answered from that job, polled or read again, never submitted twice.
//! - Requests that a job did not answer (an error, an expiry, a cancellation, a job the
//!   provider lost) are resubmitted in a new job, only those, up to [`MAX_JOB_TRIES`] times;
//!   then they go realtime.
//! - A server with no batch API (404 at its batch endpoint, as llama.cpp answers) runs
//!   realtime for the rest of the batch, and a note says so.
//! - Near `batch_deadline` ([`switch_ms`]) the jobs in flight are cancelled, what they answered
//!   is kept, and the rest, and every later call, goes realtime: the experiment ends when the
//!   user needs it.
//!
//! The tickets answered realtime are sent by the gateway, which first reserves the difference
//! between the realtime and the batch price (the budget holds per job: every request of a job
//! is reserved before the job is submitted, at the batch price).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_util::future::{join_all, select, Either};

use super::batch_api::{self, ApiError, ItemResult, JobItem, JobStatus, Protocol};
use super::route::Route;
use crate::host::{ChatRequest, ChatResponse, Clock, Llm, Storage};
use crate::paths;
use crate::schema::batch::{JobRecord, JobRequest, JOBS_FILE};
use crate::schema::events::{JobProgress, Note};
use crate::schema::BatchEvent;

/// Times a request is put in a job before it goes realtime.
pub const MAX_JOB_TRIES: u32 = 3;
/// The first wait between polls of a job, ms; each wait is 1.5 times the last, up to
/// [`POLL_MAX_MS`]. Providers answer most jobs in minutes and some in hours.
pub const POLL_START_MS: f64 = 250.0;
/// The longest wait between polls of a job, ms.
pub const POLL_MAX_MS: f64 = 30_000.0;
/// A safety net: a queue left with no change this long is flushed even if the barrier is not
/// reached. It never fires when the barrier works (the tests count it: `idle_flushes`).
const IDLE_FLUSH_MS: f64 = 10_000.0;
/// Attempts of one submit, poll or read on a transient failure (429, 5xx, network).
const API_TRIES: u32 = 6;

/// When calls switch to realtime before a deadline: 10% of the time from the batch's start to
/// the deadline before it, and at most 30 minutes before it.
pub fn switch_ms(start_ms: f64, deadline_ms: f64) -> f64 {
    deadline_ms - ((deadline_ms - start_ms) * 0.1).min(30.0 * 60_000.0)
}

/// How a ticket was answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// By provider job `job`, after `waited_ms`.
    Done {
        /// The answer.
        response: ChatResponse,
        /// The job's id.
        job: String,
        /// From the ticket's queueing to its answer.
        waited_ms: f64,
    },
    /// Not by a job: send it realtime, for this reason.
    Realtime(String),
}

/// A journalled request a resumed run may ask again.
#[derive(Debug, Clone)]
struct Recovered {
    job: String,
    custom_id: String,
    hash: String,
    base_url: String,
    protocol: Protocol,
}

/// (base URL, protocol, job id or model): what tickets are grouped by.
type JobKey = (String, Protocol, String);

/// One call waiting for a job.
struct Ticket {
    member: u64,
    base_url: String,
    protocol: Protocol,
    run: String,
    key: String,
    hash: String,
    request: ChatRequest,
    queued_ms: f64,
    recover: Option<Recovered>,
    answer: RefCell<Option<Answer>>,
    waker: RefCell<Option<Waker>>,
    /// Whether its member still counts it as outstanding.
    counted: Cell<bool>,
}

#[derive(Default)]
struct MemberState {
    outstanding: usize,
    parked: usize,
}

/// Counts of a session, for the progress display and the tests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LockstepStats {
    /// Barriers reached with calls to send: the provider round trips on the critical path.
    pub phases: u64,
    /// Jobs submitted.
    pub jobs: u64,
    /// Requests submitted in jobs.
    pub requests: u64,
    /// Requests answered from jobs journalled by an earlier session.
    pub recovered: u64,
    /// Requests resubmitted after a job did not answer them.
    pub resubmitted: u64,
    /// Tickets sent realtime (no batch API, the deadline, repeated failures).
    pub realtime: u64,
    /// Queues flushed by the safety net instead of the barrier.
    pub idle_flushes: u64,
    /// Milliseconds spent waiting on providers' jobs.
    pub waited_ms: f64,
    /// What the batch price saved on the answers so far, nano-dollars (told by the gateway).
    pub saved_nanos: u64,
}

#[derive(Default)]
struct State {
    members: BTreeMap<u64, MemberState>,
    next_member: u64,
    queue: Vec<Rc<Ticket>>,
    driver: Option<Waker>,
    /// Counts changes, so that the driver tells a change from a spurious wake.
    generation: u64,
    /// Base URLs found to have no batch API.
    realtime_only: BTreeSet<String>,
    /// Calls after this clock time go realtime.
    switch_at: Option<f64>,
    recovered: HashMap<(String, String), Recovered>,
    next_job: u64,
    stats: LockstepStats,
}

impl State {
    fn wake_driver(&mut self) {
        self.generation += 1;
        if let Some(w) = self.driver.take() {
            w.wake();
        }
    }

    fn at_barrier(&self) -> bool {
        !self.queue.is_empty()
            && self
                .members
                .values()
                .all(|m| m.outstanding > 0 || m.parked > 0)
    }
}

/// What the runs share with the driver: the queue, the members, the journal's recovered jobs.
#[derive(Default)]
pub struct Shared {
    state: RefCell<State>,
}

impl Shared {
    /// A run joins the lock-step for as long as the [`Member`] lives.
    pub fn join(&self) -> Member<'_> {
        let mut st = self.state.borrow_mut();
        let id = st.next_member;
        st.next_member += 1;
        st.members.insert(id, MemberState::default());
        Member { shared: self, id }
    }

    /// The counts so far.
    pub fn stats(&self) -> LockstepStats {
        self.state.borrow().stats.clone()
    }

    fn answer(&self, t: &Ticket, answer: Answer) {
        if matches!(answer, Answer::Realtime(_)) {
            self.state.borrow_mut().stats.realtime += 1;
        }
        *t.answer.borrow_mut() = Some(answer);
        self.uncount(t);
        if let Some(w) = t.waker.borrow_mut().take() {
            w.wake();
        }
    }

    fn uncount(&self, t: &Ticket) {
        if t.counted.replace(false) {
            let mut st = self.state.borrow_mut();
            if let Some(m) = st.members.get_mut(&t.member) {
                m.outstanding -= 1;
            }
            st.wake_driver();
        }
    }
}

/// A run's place in the lock-step.
pub struct Member<'l> {
    shared: &'l Shared,
    id: u64,
}

impl Member<'_> {
    /// The batch protocol a call on `route` goes through, or `None` when it goes realtime (no
    /// batch API known there, or past the switch to realtime before the deadline).
    pub fn protocol_for(&self, route: &Route, now_ms: f64) -> Option<Protocol> {
        let st = self.shared.state.borrow();
        let protocol = Protocol::for_route(route)?;
        let late = st.switch_at.is_some_and(|t| now_ms >= t);
        (!late && !st.realtime_only.contains(&route.base_url)).then_some(protocol)
    }

    /// Queues a call for the next job and waits for its answer.
    #[allow(clippy::too_many_arguments)]
    pub fn ask(
        &self,
        run: &str,
        key: &str,
        hash: &str,
        route: &Route,
        protocol: Protocol,
        request: ChatRequest,
        now_ms: f64,
    ) -> TicketFuture<'_> {
        let mut st = self.shared.state.borrow_mut();
        let recover = st
            .recovered
            .remove(&(run.to_string(), key.to_string()))
            .filter(|r| r.hash == hash && r.base_url == route.base_url);
        let ticket = Rc::new(Ticket {
            member: self.id,
            base_url: route.base_url.clone(),
            protocol,
            run: run.to_string(),
            key: key.to_string(),
            hash: hash.to_string(),
            request,
            queued_ms: now_ms,
            recover,
            answer: RefCell::new(None),
            waker: RefCell::new(None),
            counted: Cell::new(true),
        });
        if let Some(m) = st.members.get_mut(&self.id) {
            m.outstanding += 1;
        }
        st.queue.push(ticket.clone());
        st.wake_driver();
        TicketFuture {
            shared: self.shared,
            ticket,
        }
    }

    /// Counts what the batch price saved on an answer (for the progress display).
    pub fn saved(&self, nanos: u64) {
        self.shared.state.borrow_mut().stats.saved_nanos += nanos;
    }

    /// Counts the member as blocked while the guard lives: it waits for room under a budget,
    /// which only a job's answers will give back.
    pub fn park(&self) -> Parked<'_> {
        self.set_parked(1);
        Parked { member: self }
    }

    fn set_parked(&self, delta: isize) {
        let mut st = self.shared.state.borrow_mut();
        if let Some(m) = st.members.get_mut(&self.id) {
            m.parked = m.parked.saturating_add_signed(delta);
        }
        st.wake_driver();
    }
}

impl Drop for Member<'_> {
    fn drop(&mut self) {
        let mut st = self.shared.state.borrow_mut();
        st.members.remove(&self.id);
        st.wake_driver();
    }
}

/// A member counted as blocked on the budget (see [`Member::park`]).
pub struct Parked<'m> {
    member: &'m Member<'m>,
}

impl Drop for Parked<'_> {
    fn drop(&mut self) {
        self.member.set_parked(-1);
    }
}

/// A call's wait for its job. Dropped before its answer (its run stopped), it leaves the queue,
/// or, already in a job, is answered to no one.
pub struct TicketFuture<'l> {
    shared: &'l Shared,
    ticket: Rc<Ticket>,
}

impl Future for TicketFuture<'_> {
    type Output = Answer;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Answer> {
        if let Some(a) = self.ticket.answer.borrow_mut().take() {
            return Poll::Ready(a);
        }
        *self.ticket.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for TicketFuture<'_> {
    fn drop(&mut self) {
        self.shared
            .state
            .borrow_mut()
            .queue
            .retain(|t| !Rc::ptr_eq(t, &self.ticket));
        self.shared.uncount(&self.ticket);
    }
}

/// The driver of a batch's lock-step: it sends the jobs. One per batch session.
pub struct Lockstep<'a, S: Storage, L: Llm, C: Clock> {
    shared: Shared,
    storage: &'a S,
    llm: &'a L,
    clock: &'a C,
    journal: String,
    emit: &'a dyn Fn(BatchEvent),
}

impl<'a, S: Storage, L: Llm, C: Clock> Lockstep<'a, S, L, C> {
    /// The lock-step of the batch in `out_dir`, with the jobs its journal holds, switching to
    /// realtime at `switch_at` (clock ms) when a deadline is set.
    pub async fn load(
        storage: &'a S,
        llm: &'a L,
        clock: &'a C,
        out_dir: &str,
        switch_at: Option<f64>,
        emit: &'a dyn Fn(BatchEvent),
    ) -> Self {
        let journal = paths::join(out_dir, JOBS_FILE);
        let mut recovered = HashMap::new();
        if let Ok(Some(text)) = storage.read(&journal).await {
            // A later job of the same call (a resubmission) replaces an earlier one.
            for record in text
                .lines()
                .filter_map(|l| serde_json::from_str::<JobRecord>(l).ok())
            {
                for r in record.requests {
                    recovered.insert(
                        (r.run, r.key),
                        Recovered {
                            job: record.job.clone(),
                            custom_id: r.id,
                            hash: r.hash,
                            base_url: record.base_url.clone(),
                            protocol: record.protocol,
                        },
                    );
                }
            }
        }
        let shared = Shared::default();
        {
            let mut st = shared.state.borrow_mut();
            st.recovered = recovered;
            st.switch_at = switch_at;
        }
        Lockstep {
            shared,
            storage,
            llm,
            clock,
            journal,
            emit,
        }
    }

    /// What the runs join.
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Sends the queue's calls phase after phase, for as long as the batch runs (it never
    /// returns: the batch drops it when its runs are over).
    pub async fn drive(&self) {
        loop {
            let tickets = self.barrier().await;
            self.shared.state.borrow_mut().stats.phases += 1;
            self.phase(tickets).await;
        }
    }

    /// Waits until every member is blocked and the queue holds calls; takes the queue.
    async fn barrier(&self) -> Vec<Rc<Ticket>> {
        loop {
            let seen = {
                let mut st = self.shared.state.borrow_mut();
                if st.at_barrier() {
                    return std::mem::take(&mut st.queue);
                }
                st.generation
            };
            let changed = std::pin::pin!(self.changed_since(seen));
            let idle = std::pin::pin!(self.clock.sleep(IDLE_FLUSH_MS));
            if let Either::Right(_) = select(changed, idle).await {
                let mut st = self.shared.state.borrow_mut();
                if !st.queue.is_empty() {
                    st.stats.idle_flushes += 1;
                    return std::mem::take(&mut st.queue);
                }
            }
        }
    }

    /// Resolves once the members or the queue changed after generation `seen` (a wake for any
    /// other reason, such as a timer of the same task, polls it again and finds it pending).
    fn changed_since(&self, seen: u64) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            let mut st = self.shared.state.borrow_mut();
            if st.generation != seen {
                return Poll::Ready(());
            }
            st.driver = Some(cx.waker().clone());
            Poll::Pending
        })
    }

    fn late(&self) -> bool {
        let now = self.clock.now_ms();
        self.shared
            .state
            .borrow()
            .switch_at
            .is_some_and(|t| now >= t)
    }

    /// One phase: the journalled jobs its calls are in are collected, the others submitted.
    async fn phase(&self, tickets: Vec<Rc<Ticket>>) {
        let mut recovering: BTreeMap<JobKey, Vec<(String, Rc<Ticket>)>> = BTreeMap::new();
        let mut fresh = Vec::new();
        for t in tickets {
            match &t.recover {
                Some(r) => recovering
                    .entry((r.base_url.clone(), r.protocol, r.job.clone()))
                    .or_default()
                    .push((r.custom_id.clone(), t.clone())),
                None => fresh.push(t),
            }
        }
        let phase = phase_name(recovering.values().flatten().map(|(_, t)| t).chain(&fresh));
        let left = join_all(
            recovering
                .into_iter()
                .map(|((base, protocol, job), pairs)| {
                    let phase = &phase;
                    async move {
                        self.shared.state.borrow_mut().stats.recovered += pairs.len() as u64;
                        self.collect(&base, protocol, &job, phase, pairs).await
                    }
                }),
        )
        .await;
        fresh.extend(left.into_iter().flatten());
        let mut groups: BTreeMap<JobKey, Vec<Rc<Ticket>>> = BTreeMap::new();
        for t in fresh {
            groups
                .entry((t.base_url.clone(), t.protocol, t.request.model.clone()))
                .or_default()
                .push(t);
        }
        join_all(
            groups
                .into_iter()
                .map(|((base, protocol, model), tickets)| {
                    self.job(base, protocol, model, &phase, tickets)
                }),
        )
        .await;
    }

    /// Puts `tickets` (one model's) in jobs until each is answered or sent realtime.
    async fn job(
        &self,
        base: String,
        protocol: Protocol,
        model: String,
        phase: &str,
        mut tickets: Vec<Rc<Ticket>>,
    ) {
        let mut tries = 0;
        while !tickets.is_empty() {
            let give_up = |why: String| {
                for t in &tickets {
                    self.shared.answer(t, Answer::Realtime(why.clone()));
                }
            };
            if self.late() {
                return give_up("the batch deadline is near".into());
            }
            if tries == MAX_JOB_TRIES {
                return give_up(format!(
                    "{MAX_JOB_TRIES} jobs did not answer it; sent realtime"
                ));
            }
            if tries > 0 {
                self.shared.state.borrow_mut().stats.resubmitted += tickets.len() as u64;
            }
            tries += 1;
            let n = {
                let mut st = self.shared.state.borrow_mut();
                st.next_job += 1;
                st.next_job
            };
            let items: Vec<JobItem> = tickets
                .iter()
                .enumerate()
                .map(|(i, t)| JobItem {
                    custom_id: format!("j{n}-{i}"),
                    request: t.request.clone(),
                })
                .collect();
            let submitted = self
                .retrying(|| batch_api::submit(self.llm, &base, protocol, &model, &items))
                .await;
            let id = match submitted {
                Ok(id) => id,
                Err(ApiError::Unsupported(why)) => {
                    let first = self
                        .shared
                        .state
                        .borrow_mut()
                        .realtime_only
                        .insert(base.clone());
                    let message = format!(
                        "{base} has no batch API ({why}); its calls run realtime, at realtime prices"
                    );
                    if first {
                        (self.emit)(BatchEvent::Note(Note {
                            message: message.clone(),
                        }));
                    }
                    return give_up(message);
                }
                Err(e) => {
                    let message = format!(
                        "{base} refused a batch job of {} requests for {model} ({e}); they are sent realtime",
                        tickets.len()
                    );
                    (self.emit)(BatchEvent::Note(Note {
                        message: message.clone(),
                    }));
                    return give_up(message);
                }
            };
            let record = JobRecord {
                job: id.clone(),
                base_url: base.clone(),
                protocol,
                model: model.clone(),
                submitted_ms: self.clock.now_ms(),
                requests: items
                    .iter()
                    .zip(&tickets)
                    .map(|(i, t)| JobRequest {
                        id: i.custom_id.clone(),
                        run: t.run.clone(),
                        key: t.key.clone(),
                        hash: t.hash.clone(),
                    })
                    .collect(),
            };
            // The id first: a batch killed from here on collects this job when resumed.
            let line = serde_json::to_string(&record).unwrap_or_default() + "\n";
            let _ = self.storage.append(&self.journal, &line).await;
            {
                let mut st = self.shared.state.borrow_mut();
                st.stats.jobs += 1;
                st.stats.requests += items.len() as u64;
            }
            let submitted = JobStatus {
                status: "submitted".into(),
                total: items.len() as u64,
                ..JobStatus::default()
            };
            self.progress(&id, phase, &model, &submitted, self.clock.now_ms());
            let pairs = items
                .into_iter()
                .map(|i| i.custom_id)
                .zip(tickets)
                .collect();
            tickets = self.collect(&base, protocol, &id, phase, pairs).await;
        }
    }

    /// Waits for job `id` to end (cancelling it when the deadline is near), answers the
    /// tickets it answered, and returns the others.
    async fn collect(
        &self,
        base: &str,
        protocol: Protocol,
        id: &str,
        phase: &str,
        pairs: Vec<(String, Rc<Ticket>)>,
    ) -> Vec<Rc<Ticket>> {
        let start = self.clock.now_ms();
        let mut wait = POLL_START_MS;
        let mut cancelled = false;
        let status = loop {
            match self
                .retrying(|| batch_api::status(self.llm, base, protocol, id))
                .await
            {
                Ok(s) => {
                    let model = pairs.first().map(|(_, t)| t.request.model.as_str());
                    self.progress(id, phase, model.unwrap_or_default(), &s, start);
                    if s.ended {
                        break s;
                    }
                }
                // A job the provider does not know (any more): its requests go in a new one.
                Err(_) => return pairs.into_iter().map(|(_, t)| t).collect(),
            }
            if self.late() && !cancelled {
                cancelled = true;
                let _ = batch_api::cancel(self.llm, base, protocol, id).await;
                wait = POLL_START_MS;
            }
            self.clock.sleep(wait).await;
            self.shared.state.borrow_mut().stats.waited_ms += wait;
            wait = (wait * 1.5).min(POLL_MAX_MS);
        };
        let answers: HashMap<String, ItemResult> = match self
            .retrying(|| batch_api::results(self.llm, base, protocol, &status))
            .await
        {
            Ok(rows) => rows.into_iter().collect(),
            Err(_) => HashMap::new(),
        };
        let now = self.clock.now_ms();
        let mut left = Vec::new();
        for (custom_id, t) in pairs {
            match answers.get(&custom_id) {
                Some(ItemResult::Answer(r)) => self.shared.answer(
                    &t,
                    Answer::Done {
                        response: r.clone(),
                        job: id.to_string(),
                        waited_ms: now - t.queued_ms,
                    },
                ),
                _ => left.push(t),
            }
        }
        left
    }

    fn progress(&self, id: &str, phase: &str, model: &str, s: &JobStatus, start: f64) {
        let stats = self.shared.stats();
        (self.emit)(BatchEvent::Job(JobProgress {
            job: id.to_string(),
            phase: phase.to_string(),
            model: model.to_string(),
            status: s.status.clone(),
            total: s.total,
            succeeded: s.succeeded,
            failed: s.failed,
            waited_s: (self.clock.now_ms() - start) / 1000.0,
            jobs_submitted: stats.jobs,
            total_waited_s: stats.waited_ms / 1000.0,
            saved: crate::pricing::nanos_to_usd(stats.saved_nanos),
        }));
    }

    /// `f` again after a transient failure, with backoff, up to [`API_TRIES`] attempts.
    async fn retrying<T, F, Fut>(&self, f: F) -> Result<T, ApiError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let mut delay = 1000.0;
        let mut attempt = 1;
        loop {
            match f().await {
                Err(ApiError::Transient(_)) if attempt < API_TRIES => {
                    self.clock.sleep(delay).await;
                    delay = (delay * 2.0).min(60_000.0);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// A phase's name from its calls' keys (`t3/decision/council` → `turn 3 decision`).
fn phase_name<'t>(tickets: impl Iterator<Item = &'t Rc<Ticket>>) -> String {
    let mut names = BTreeSet::new();
    for t in tickets {
        let mut parts = t.key.split('/');
        let turn = parts.next().unwrap_or_default().trim_start_matches('t');
        let role = parts.next().unwrap_or_default();
        names.insert(format!("turn {turn} {role}"));
    }
    names.into_iter().collect::<Vec<_>>().join(", ")
}
