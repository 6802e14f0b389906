//! What every fuzz target shares: the counting allocator that bounds a reader's heap, the fixed
//! valid files a loader reads beside the fuzz input, and the text of an input.
//!
//! The bound is the promise for hostile inputs: reading `n` bytes never holds more than
//! [`FACTOR`] × `n` + [`SLACK`] bytes of heap at once. A reader that breaks it aborts the process,
//! which libFuzzer records as a crash with the input that did it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Heap bytes a reader may hold per input byte: a parsed YAML node is tens of bytes per source
/// byte at worst (a one-character scalar becomes a `Node` with its `String` and position).
pub const FACTOR: usize = 50;

/// Heap bytes a reader may hold whatever its input: 8 MiB. It covers what does not grow with the
/// input: the fixed scenario folder read beside it and its parse (tens of KiB), the diagnostics'
/// copies of the fixed files, the `regex-lite` programs the checks compile, and the allocator's
/// own rounding. Measured (tests/memory_bounds.rs): loading any fixture scenario folder peaks
/// under 70 KiB, and large inputs stay under 41 x their size; 8 MiB leaves room for the readers
/// to grow without hiding a blow-up, which is a multiple of the input, not a constant.
pub const SLACK: usize = 8 << 20;

/// The system allocator, counting the bytes live and the most live since [`Counting::reset`].
pub struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// What was live when the measurement began.
static BASE: AtomicUsize = AtomicUsize::new(0);
/// The bytes a measurement may add to [`BASE`]; `usize::MAX` when none is running. Checked at
/// each allocation, so a blow-up aborts at the bound instead of exhausting the machine first.
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);

impl Counting {
    /// Starts a measurement: the peak becomes what is live now.
    pub fn reset() -> usize {
        let now = LIVE.load(Ordering::Relaxed);
        PEAK.store(now, Ordering::Relaxed);
        now
    }

    /// The most bytes live since the last reset.
    pub fn peak() -> usize {
        PEAK.load(Ordering::Relaxed)
    }

    fn grew(by: usize) {
        let live = LIVE.fetch_add(by, Ordering::Relaxed) + by;
        PEAK.fetch_max(live, Ordering::Relaxed);
        let limit = LIMIT.load(Ordering::Relaxed);
        let used = live.saturating_sub(BASE.load(Ordering::Relaxed));
        if used > limit {
            // No more checks while saying so: printing may allocate, and must not come back here.
            LIMIT.store(usize::MAX, Ordering::Relaxed);
            eprintln!(
                "memory bound broken: {used} bytes live above the start, limit {limit} \
                 ({FACTOR} x input + {SLACK})"
            );
            std::process::abort();
        }
    }
}

// SAFETY: every call is passed to `System` unchanged; only counters are updated beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            Counting::grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            Counting::grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        System.dealloc(p, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = System.realloc(p, layout, new_size);
        if !q.is_null() {
            if new_size >= layout.size() {
                Counting::grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and aborts (a crash to libFuzzer) when the heap it holds passes the bound for an
/// input of `input_len` bytes, at the allocation that passes it. The input itself is allocated
/// before the call. One measurement at a time: the fuzz targets run on one thread.
pub fn bounded<T>(what: &str, input_len: usize, f: impl FnOnce() -> T) -> T {
    let limit = FACTOR.saturating_mul(input_len).saturating_add(SLACK);
    let base = Counting::reset();
    BASE.store(base, Ordering::Relaxed);
    LIMIT.store(limit, Ordering::Relaxed);
    let out = f();
    LIMIT.store(usize::MAX, Ordering::Relaxed);
    let used = Counting::peak().saturating_sub(base);
    if used > limit {
        eprintln!(
            "memory bound broken by {what}: peak {used} bytes for an input of {input_len} bytes \
             (limit {FACTOR} x {input_len} + {SLACK} = {limit})"
        );
        std::process::abort();
    }
    out
}

/// The text of a fuzz input: the loaders take text, so bytes that are not UTF-8 become U+FFFD
/// (a host's storage reads text; an input of other bytes is refused there, not here).
pub fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// The quick-negotiation scenario, the fixed valid folder a fuzzed batch config may name and a
/// fuzzed scenario file is read beside: (path inside the folder, text).
pub const SCENARIO: &[(&str, &str)] = &[
    (
        "scenario.yaml",
        include_str!("../../scenarios/quick-negotiation/scenario.yaml"),
    ),
    (
        "metrics.yaml",
        include_str!("../../scenarios/quick-negotiation/metrics.yaml"),
    ),
    (
        "actors/council.yaml",
        include_str!("../../scenarios/quick-negotiation/actors/council.yaml"),
    ),
    (
        "actors/swiftride.yaml",
        include_str!("../../scenarios/quick-negotiation/actors/swiftride.yaml"),
    ),
];

/// Where the fixed scenario sits in the store: the path the repo's batch configs name.
pub const SCENARIO_DIR: &str = "scenarios/quick-negotiation";
