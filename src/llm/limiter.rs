//! One endpoint's rate limiter, shared by every run of a batch.
//!
//! It bounds the requests in flight to a limit that adapts (additive increase, multiplicative
//! decrease): a 429 halves the limit and pauses everyone until its `Retry-After` has passed; each
//! success raises the limit a little, up to its maximum. A batch against a server that
//! rate-limits hard therefore slows down instead of failing.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::host::Clock;

/// The limiter of one endpoint.
#[derive(Debug)]
pub struct Limiter {
    limit: Cell<f64>,
    max: f64,
    in_flight: Cell<usize>,
    paused_until: Cell<f64>,
    waiters: RefCell<Vec<Waker>>,
    rate_limited: Cell<u64>,
}

/// A slot taken from a limiter; give it back with [`Limiter::release`].
#[must_use = "a permit must be released, or the slot is lost"]
#[derive(Debug)]
pub struct Permit(());

impl Limiter {
    /// A limiter allowing up to `max` requests at once.
    pub fn new(max: usize) -> Self {
        Limiter {
            limit: Cell::new(max.max(1) as f64),
            max: max.max(1) as f64,
            in_flight: Cell::new(0),
            paused_until: Cell::new(0.0),
            waiters: RefCell::new(Vec::new()),
            rate_limited: Cell::new(0),
        }
    }

    /// The current limit on requests in flight.
    pub fn limit(&self) -> usize {
        self.limit.get().floor().max(1.0) as usize
    }

    /// Requests now in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.get()
    }

    /// 429s seen.
    pub fn rate_limited(&self) -> u64 {
        self.rate_limited.get()
    }

    /// Waits for a slot (and for any pause to end).
    pub async fn acquire<C: Clock>(&self, clock: &C) -> Permit {
        loop {
            let wait = self.paused_until.get() - clock.now_ms();
            if wait > 0.0 {
                clock.sleep(wait).await;
                continue;
            }
            if self.in_flight.get() < self.limit() {
                self.in_flight.set(self.in_flight.get() + 1);
                return Permit(());
            }
            Slot { limiter: self }.await;
        }
    }

    /// Gives a slot back: `ok` for a success, `retry_after_ms` for a 429.
    pub fn release<C: Clock>(&self, permit: Permit, clock: &C, rate_limited: Option<f64>) {
        let Permit(()) = permit;
        self.in_flight.set(self.in_flight.get().saturating_sub(1));
        match rate_limited {
            Some(retry_after_ms) => {
                self.rate_limited.set(self.rate_limited.get() + 1);
                self.limit.set((self.limit.get() / 2.0).max(1.0));
                let until = clock.now_ms() + retry_after_ms.max(0.0);
                if until > self.paused_until.get() {
                    self.paused_until.set(until);
                }
            }
            None => self
                .limit
                .set((self.limit.get() + 1.0 / self.limit.get()).min(self.max)),
        }
        for w in self.waiters.borrow_mut().drain(..) {
            w.wake();
        }
    }
}

/// Resolves once a slot may be free.
struct Slot<'a> {
    limiter: &'a Limiter,
}

impl Future for Slot<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.limiter.in_flight.get() < self.limiter.limit() {
            Poll::Ready(())
        } else {
            self.limiter.waiters.borrow_mut().push(cx.waker().clone());
            Poll::Pending
        }
    }
}
