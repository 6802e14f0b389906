//! The batch's money and shutdown: every call of every run is reserved here first.
//!
//! A call is sent only if its worst-case cost fits in what is left of `budget_limit` after the
//! spend so far and every reservation in flight. The first refusal stops the batch: no run
//! starts after it and every run halts at its next call, so the batch drains and saves. A
//! shutdown (Ctrl+C) stops it the same way.

use std::cell::{Cell, RefCell};

use crate::engine::Guard;
use crate::pricing::{nanos_to_usd, Nanos};

/// Money reserved and spent by a batch, and whether it is stopping.
#[derive(Debug, Default)]
pub struct BatchGuard {
    limit: Option<Nanos>,
    spent: Cell<Nanos>,
    reserved: Cell<Nanos>,
    stop: RefCell<Option<(String, String)>>,
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

    /// Why the batch is stopping, when it is: (reason, sentence).
    pub fn stopping(&self) -> Option<(String, String)> {
        self.stop.borrow().clone()
    }

    /// Stops the batch (the first reason given wins).
    pub fn stop(&self, reason: &str, why: &str) {
        let mut s = self.stop.borrow_mut();
        if s.is_none() {
            *s = Some((reason.to_string(), why.to_string()));
        }
    }
}

impl Guard for BatchGuard {
    fn reserve(&self, worst: Nanos) -> Result<(), (String, String)> {
        if let Some(s) = self.stopping() {
            return Err(s);
        }
        if let Some(limit) = self.limit {
            let committed = self.spent.get() + self.reserved.get();
            if committed + worst > limit {
                let why = format!(
                    "the next call could cost up to ${:.4}, and ${:.4} of the ${:.2} budget is spent or reserved",
                    nanos_to_usd(worst),
                    nanos_to_usd(committed),
                    nanos_to_usd(limit)
                );
                self.stop("budget", &why);
                return Err(("budget".to_string(), why));
            }
        }
        self.reserved.set(self.reserved.get() + worst);
        Ok(())
    }

    fn settle(&self, worst: Nanos, actual: Nanos) {
        self.reserved.set(self.reserved.get().saturating_sub(worst));
        self.spent.set(self.spent.get() + actual);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_could_pass_the_limit_and_stops() {
        let g = BatchGuard::new(Some(100), 20);
        assert!(g.reserve(50).is_ok());
        assert!(g.reserve(30).is_ok());
        assert_eq!(
            g.reserve(1).unwrap_err().0,
            "budget",
            "20 spent + 80 reserved + 1 > 100"
        );
        g.settle(50, 10);
        assert!(g.reserve(1).is_err(), "a stopped batch refuses everything");
        assert_eq!((g.spent(), g.reserved()), (30, 30));
    }
}
