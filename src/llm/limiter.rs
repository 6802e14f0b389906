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

/// A slot taken from a limiter. [`Permit::release`] gives it back with what the request
/// taught (a success, a 429); dropping it gives it back with nothing learnt.
///
/// Released on `Drop` because the request that holds it may itself be dropped mid-flight (a
/// run past its `timeout_per_run`, a stopped batch): a slot released by hand after the
/// `await` would then be lost, and enough lost slots starve the endpoint for every later run.
#[must_use = "a permit holds its slot until it is released or dropped"]
#[derive(Debug)]
pub struct Permit<'a> {
    limiter: &'a Limiter,
}

impl Permit<'_> {
    /// Gives the slot back: `rate_limited` is the pause a 429 asked for (ms), `None` for a
    /// success or a failure that says nothing about the rate.
    pub fn release<C: Clock>(self, clock: &C, rate_limited: Option<f64>) {
        let limiter = self.limiter;
        match rate_limited {
            Some(retry_after_ms) => {
                limiter.rate_limited.set(limiter.rate_limited.get() + 1);
                limiter.limit.set((limiter.limit.get() / 2.0).max(1.0));
                let until = clock.now_ms() + retry_after_ms.max(0.0);
                if until > limiter.paused_until.get() {
                    limiter.paused_until.set(until);
                }
            }
            None => limiter
                .limit
                .set((limiter.limit.get() + 1.0 / limiter.limit.get()).min(limiter.max)),
        }
        // The slot itself is freed by `Drop`.
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let l = self.limiter;
        l.in_flight.set(l.in_flight.get().saturating_sub(1));
        for w in l.waiters.borrow_mut().drain(..) {
            w.wake();
        }
    }
}

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
    pub async fn acquire<C: Clock>(&self, clock: &C) -> Permit<'_> {
        loop {
            let wait = self.paused_until.get() - clock.now_ms();
            if wait > 0.0 {
                clock.sleep(wait).await;
                continue;
            }
            if self.in_flight.get() < self.limit() {
                self.in_flight.set(self.in_flight.get() + 1);
                return Permit { limiter: self };
            }
            Slot { limiter: self }.await;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    struct Frozen;
    impl Clock for Frozen {
        fn now_ms(&self) -> f64 {
            0.0
        }
        async fn sleep(&self, _: f64) {}
    }

    fn poll_once<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(Waker::noop()))
    }

    /// Requests dropped while they hold a slot (a run past its time limit) give it back: with
    /// a limit of 2, two abandoned requests would otherwise starve the endpoint for good.
    #[test]
    fn a_dropped_request_gives_its_slot_back() {
        let limiter = Limiter::new(2);
        for _ in 0..2 {
            let held = std::pin::pin!(async {
                let _permit = limiter.acquire(&Frozen).await;
                std::future::pending::<()>().await;
            });
            assert!(poll_once(held).is_pending());
            // `held` is dropped here, mid-request.
        }
        assert_eq!(limiter.in_flight(), 0);
        let a = limiter.acquire(&Frozen);
        let b = limiter.acquire(&Frozen);
        let (a, b) = (std::pin::pin!(a), std::pin::pin!(b));
        let (Poll::Ready(pa), Poll::Ready(pb)) = (poll_once(a), poll_once(b)) else {
            panic!("the endpoint is starved");
        };
        assert_eq!(limiter.in_flight(), 2);
        pa.release(&Frozen, None);
        drop(pb);
        assert_eq!(limiter.in_flight(), 0);
    }
}
