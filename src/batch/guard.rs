//! The batch's money and shutdown: every call of every run is reserved here first.
//!
//! A call is sent only if its worst-case cost (a true upper bound: see
//! `CallSpec::worst_case_tokens`) fits in what is left of `budget_limit` after the spend so far
//! and every reservation in flight. So spent + reserved never passes the limit, and since a
//! call never costs more than its reservation, neither does the spend.
//!
//! A call that does not fit while others are in flight waits: when they settle they give back
//! what they did not use (most replies are far below their cap), and it asks again. Only when
//! nothing is in flight and a call still does not fit is the budget exhausted: its run halts
//! (`budget`), no run starts after it, and the runs in flight go on while their calls fit, each
//! halting at its first call that does not. So what is left unspent is less than the worst case
//! of the last call refused, and no more runs are left unfinished than were in flight anyway.
//! A shutdown (Ctrl+C), or a call that cost more than its bound, stops every run at its next
//! call instead.

use std::cell::{Cell, RefCell};
use std::task::Waker;

use crate::engine::{Guard, Verdict};
use crate::pricing::{nanos_to_usd, Nanos};
use crate::schema::{HaltReason, StopReason};

/// Money reserved and spent by a batch, and whether it is stopping.
#[derive(Debug, Default)]
pub struct BatchGuard {
    limit: Option<Nanos>,
    spent: Cell<Nanos>,
    reserved: Cell<Nanos>,
    /// Every call is refused: (reason, sentence).
    stop: RefCell<Option<(StopReason, String)>>,
    /// The budget refused a call with nothing in flight: no run starts, but calls that fit go.
    exhausted: RefCell<Option<(StopReason, String)>>,
    waiters: RefCell<Vec<Waker>>,
}

impl BatchGuard {
    /// A guard with this budget, with `spent` already spent (by earlier sessions).
    pub fn new(limit: Option<Nanos>, spent: Nanos) -> Self {
        BatchGuard {
            limit,
            spent: Cell::new(spent),
            ..Default::default()
        }
    }

    /// Spent so far.
    pub fn spent(&self) -> Nanos {
        self.spent.get()
    }

    /// Reserved for calls in flight.
    pub fn reserved(&self) -> Nanos {
        self.reserved.get()
    }

    /// Why the batch is stopping (no run may start), when it is: (reason, sentence).
    pub fn stopping(&self) -> Option<(StopReason, String)> {
        self.stop
            .borrow()
            .clone()
            .or_else(|| self.exhausted.borrow().clone())
    }

    /// Stops the batch (the first reason given wins), and wakes the calls that wait.
    pub fn stop(&self, reason: StopReason, why: &str) {
        {
            let mut s = self.stop.borrow_mut();
            if s.is_none() {
                *s = Some((reason, why.to_string()));
            }
        }
        self.wake();
    }

    pub(crate) fn wake(&self) {
        for w in self.waiters.borrow_mut().drain(..) {
            w.wake();
        }
    }
}

impl Guard for BatchGuard {
    fn reserve(&self, worst: Nanos) -> Verdict {
        if let Some((reason, why)) = self.stop.borrow().clone() {
            return Verdict::Refused(reason.halt_reason(), why);
        }
        if let Some(limit) = self.limit {
            let committed = self.spent.get() + self.reserved.get();
            if committed + worst > limit {
                if self.reserved.get() > 0 {
                    return Verdict::Wait;
                }
                let why = format!(
                    "the next call could cost up to ${:.4}, and ${:.4} of the ${:.2} budget is spent, with nothing in flight",
                    nanos_to_usd(worst),
                    nanos_to_usd(committed),
                    nanos_to_usd(limit)
                );
                self.exhausted
                    .borrow_mut()
                    .get_or_insert_with(|| (StopReason::Budget, why.clone()));
                return Verdict::Refused(HaltReason::Budget, why);
            }
        }
        self.reserved.set(self.reserved.get() + worst);
        Verdict::Granted
    }

    fn settle(&self, worst: Nanos, actual: Nanos) {
        self.reserved.set(self.reserved.get().saturating_sub(worst));
        self.spent.set(self.spent.get() + actual);
        self.wake();
    }

    fn wake_on_change(&self, waker: &Waker) {
        self.waiters.borrow_mut().push(waker.clone());
    }

    fn overrun(&self, why: &str) {
        if self.limit.is_some() {
            self.stop(StopReason::Budget, why);
        }
    }
}

/// One run's view of the batch's guard: the batch's budget and shutdown, and the run's own
/// time limit, after which its calls are refused (`timeout`). It also hears which turn the run
/// has played, for the runs that branch from it (`prefix.rs`).
pub struct RunGuard<'g> {
    batch: &'g BatchGuard,
    time_up: RefCell<Option<String>>,
    played: Cell<u32>,
    watchers: RefCell<Vec<Waker>>,
}

impl<'g> RunGuard<'g> {
    /// The guard of a run of this batch.
    pub fn new(batch: &'g BatchGuard) -> Self {
        RunGuard {
            batch,
            time_up: RefCell::new(None),
            played: Cell::new(0),
            watchers: RefCell::new(Vec::new()),
        }
    }

    /// The turns the run has played in this session, its calls all in its call log.
    pub fn played(&self) -> u32 {
        self.played.get()
    }

    /// Wakes `waker` when the run reports its next turn played.
    pub fn watch(&self, waker: &Waker) {
        self.watchers.borrow_mut().push(waker.clone());
    }

    /// The run passed `timeout_per_run` (seconds): refuse its next calls, and wake those
    /// waiting for room in the budget so that they hear it.
    pub fn time_up(&self, seconds: f64) {
        *self.time_up.borrow_mut() = Some(format!(
            "the run passed timeout_per_run ({seconds} s); resume the batch to finish it, or raise timeout_per_run"
        ));
        self.batch.wake();
    }
}

impl Guard for RunGuard<'_> {
    fn reserve(&self, worst: Nanos) -> Verdict {
        match &*self.time_up.borrow() {
            Some(why) => Verdict::Refused(HaltReason::Timeout, why.clone()),
            None => self.batch.reserve(worst),
        }
    }
    fn settle(&self, worst: Nanos, actual: Nanos) {
        self.batch.settle(worst, actual);
    }
    fn wake_on_change(&self, waker: &Waker) {
        self.batch.wake_on_change(waker);
    }
    fn overrun(&self, why: &str) {
        self.batch.overrun(why);
    }
    fn turn_done(&self, turn: u32) {
        self.played.set(turn);
        for w in self.watchers.borrow_mut().drain(..) {
            w.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_while_calls_are_in_flight_and_stops_when_none_is() {
        let g = BatchGuard::new(Some(100), 20);
        assert_eq!(g.reserve(50), Verdict::Granted);
        assert_eq!(g.reserve(30), Verdict::Granted);
        assert_eq!(
            g.reserve(1),
            Verdict::Wait,
            "20 spent + 80 reserved + 1 > 100"
        );
        g.settle(50, 10);
        assert_eq!(g.reserve(40), Verdict::Granted, "the unused 40 came back");
        g.settle(30, 5);
        g.settle(40, 5);
        assert_eq!((g.spent(), g.reserved()), (40, 0));
        assert!(
            matches!(g.reserve(61), Verdict::Refused(HaltReason::Budget, _)),
            "nothing in flight and 40 + 61 > 100"
        );
        assert_eq!(
            g.stopping().unwrap().0,
            StopReason::Budget,
            "no run starts now"
        );
        assert_eq!(
            g.reserve(60),
            Verdict::Granted,
            "a call that fits still goes"
        );
        g.stop(StopReason::Interrupted, "Ctrl+C");
        assert!(
            matches!(g.reserve(1), Verdict::Refused(HaltReason::Interrupted, _)),
            "a stopped batch refuses everything"
        );
    }

    #[test]
    fn an_overrun_stops_a_budgeted_batch_only() {
        let g = BatchGuard::new(Some(100), 0);
        g.overrun("model x ignored its cap");
        assert_eq!(g.stopping().unwrap().0, StopReason::Budget);
        let free = BatchGuard::new(None, 0);
        free.overrun("model x ignored its cap");
        assert_eq!(free.stopping(), None);
    }
}
