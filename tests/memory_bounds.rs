//! The heap bound on the input readers (issue 14, "hostile inputs"): reading `n` bytes of YAML, of
//! a scenario folder or of a call log never holds more than [`FACTOR`] × `n` + [`SLACK`] bytes of
//! heap at once. The fuzz targets (fuzz/) assert the same bound on what libFuzzer makes up; this
//! suite asserts it on the inputs we have and on large ones made here: a ~5 MB valid scenario, a
//! deep nest, a 2 MB flat list, a 2 MB call log.
//!
//! The test binary counts every allocation with its own global allocator, so measurements must
//! not overlap: each takes [`LOCK`].
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use common::{block_on, project_root};
use scenario_lab::config::load_scenario;
use scenario_lab::host::MemoryStorage;
use scenario_lab::schema::RunFolder;

/// Heap bytes a reader may hold per input byte (the fuzz targets' `FACTOR`).
const FACTOR: usize = 50;
/// Heap bytes a reader may hold whatever its input: 8 MiB (the fuzz targets' `SLACK`; see
/// fuzz/src/lib.rs for why).
const SLACK: usize = 8 << 20;

/// The system allocator, counting the bytes live and the most live since a measurement began.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let live = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call is passed to `System` unchanged; only counters are updated beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            grew(layout.size());
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
                grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One measurement at a time: the allocator is the whole process's.
static LOCK: Mutex<()> = Mutex::new(());

/// The most heap `f` held above what was live when it began. Other threads of the test harness
/// allocate little while a test runs; [`LOCK`] keeps this binary's tests apart.
fn peak_of<T>(f: impl FnOnce() -> T) -> usize {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    drop(out);
    peak
}

/// The bounds checked so far, and those broken.
#[derive(Default)]
struct Report {
    lines: String,
    broken: Vec<String>,
}

impl Report {
    /// Measures `f`, a reader over `input_len` bytes named `what`, against the bound.
    fn check<T>(&mut self, what: &str, input_len: usize, f: impl FnOnce() -> T) {
        // Said first, so that a reader that dies (a stack overflow) is named.
        eprintln!("measuring {what}");
        let peak = peak_of(f);
        let limit = FACTOR * input_len + SLACK;
        let line = format!(
            "{what}: {input_len} bytes in, peak heap {peak} ({:.1} x input + {:.2} MiB slack used)",
            peak as f64 / input_len.max(1) as f64,
            peak.saturating_sub(FACTOR * input_len) as f64 / (1 << 20) as f64,
        );
        let _ = writeln!(self.lines, "{line}");
        if peak > limit {
            self.broken.push(format!("{line}: over the limit {limit}"));
        }
    }

    fn finish(self) {
        println!("{}", self.lines);
        assert!(
            self.broken.is_empty(),
            "the heap bound ({FACTOR} x input + {SLACK}) is broken:\n{}",
            self.broken.join("\n")
        );
    }
}

/// Every file under `dir` whose name passes `keep`, sorted.
#[allow(clippy::disallowed_methods)]
fn files(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let p = e.path();
        let name = e.file_name();
        if p.is_dir() {
            if name != "runs" && name != "target" && name != "node_modules" {
                out.extend(files(&p, keep));
            }
        } else if keep(&p) {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[allow(clippy::disallowed_methods)]
fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The folders the fuzz seeds come from (scripts/fuzz.mjs): the repo's fixtures and, where it
/// exists, ../shared/compat.
fn seed_dirs() -> Vec<PathBuf> {
    let root = project_root();
    [
        "scenarios",
        "experiments",
        "examples",
        "tests/fixtures",
        "../shared/compat",
    ]
    .iter()
    .map(|d| root.join(d))
    .filter(|d| d.is_dir())
    .collect()
}

fn is_yaml(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// A store holding every file of the folder `dir` under `s/`, and the bytes it holds.
fn store_of_folder(dir: &Path) -> (MemoryStorage, usize) {
    let store = MemoryStorage::new();
    let mut bytes = 0;
    for f in files(dir, &|_| true) {
        let text = read(&f);
        bytes += text.len();
        let rel = f
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        store.insert(&format!("s/{rel}"), &text);
    }
    (store, bytes)
}

/// A valid scenario of about 5 MB: 250 actors, each with about 20 KB of description and goals.
fn large_scenario() -> (MemoryStorage, usize) {
    let store = MemoryStorage::new();
    let mut bytes = 0;
    let mut put = |path: &str, text: &str| {
        bytes += text.len();
        store.insert(path, text);
    };
    let actors = 250;
    let mut scenario = String::from(
        "name: \"A large scenario\"\ndescription: |\n  Many parties, long texts.\n\
         initial_world_state: |\n  Week 0.\nturns: 3\nturn_duration: \"1 week\"\n\
         world_state_model: \"builtin/simulator\"\nactors:\n",
    );
    for i in 0..actors {
        let _ = writeln!(scenario, "  - actor-{i}");
    }
    put("s/scenario.yaml", &scenario);
    let sentence = "This party weighs every offer against its budget, its voters and its history. ";
    for i in 0..actors {
        let mut actor = format!(
            "name: \"Actor {i}\"\nshort_name: \"actor-{i}\"\nllm_model: \"builtin/simulator\"\n\
             role: \"Party number {i}\"\ndescription: |\n"
        );
        for _ in 0..150 {
            let _ = writeln!(actor, "  {sentence}");
        }
        actor.push_str("goals:\n");
        for g in 0..100 {
            let _ = writeln!(actor, "  - Goal {g}: {sentence}");
        }
        put(&format!("s/actors/actor-{i}.yaml"), &actor);
    }
    (store, bytes)
}

#[test]
fn readers_stay_within_the_heap_bound() {
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut report = Report::default();

    // Every YAML file the fuzz seeds come from, and every scenario folder among them.
    let yaml: Vec<PathBuf> = seed_dirs()
        .iter()
        .flat_map(|d| files(d, &is_yaml))
        .collect();
    assert!(yaml.len() > 20, "too few YAML files found: {}", yaml.len());
    for path in &yaml {
        let text = read(path);
        let name = path.strip_prefix(project_root()).unwrap_or(path).display();
        report.check(&format!("yaml::parse {name}"), text.len(), || {
            scenario_lab::yaml::parse(&text)
        });
        if path.file_name().is_some_and(|n| n == "scenario.yaml") {
            let (store, bytes) = store_of_folder(path.parent().unwrap());
            report.check(&format!("load_scenario {name}"), bytes, || {
                block_on(load_scenario(&store, "s"))
            });
        }
    }

    // A large valid scenario.
    let (store, bytes) = large_scenario();
    assert!(
        bytes > 4_500_000,
        "the large scenario is only {bytes} bytes"
    );
    report.check("load_scenario, 250 actors of 20 KB", bytes, || {
        let loaded = block_on(load_scenario(&store, "s"));
        let loaded = loaded.unwrap_or_else(|e| panic!("the large scenario does not load:\n{e}"));
        assert_eq!(loaded.value.actors.len(), 250);
        loaded
    });

    // A deep nest, in flow and in block style, alone and as a scenario file.
    let depth = 10_000;
    let flow = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    report.check("yaml::parse, [ nested 10000 deep", flow.len(), || {
        scenario_lab::yaml::parse(&flow)
    });
    // Block nesting past 200 levels is refused (tests/fuzz_regressions.rs); 200 is allowed.
    let block: String = (0..200)
        .map(|i| format!("{}- \n", "  ".repeat(i)))
        .collect();
    report.check("yaml::parse, - nested 200 deep", block.len(), || {
        scenario_lab::yaml::parse(&block)
    });
    let nested_actors = format!("actors: {flow}\n");
    let store = MemoryStorage::with_files([("s/scenario.yaml", nested_actors.as_str())]);
    report.check(
        "load_scenario, actors nested 10000 deep",
        nested_actors.len(),
        || block_on(load_scenario(&store, "s")),
    );

    // A 2 MB flat list: as a key's value, in block style, and as a scenario's actors (each one
    // a diagnostic). A flow list alone at the top breaks the bound (see the ignored test below).
    let list = format!("[{}1]", "1,".repeat(1 << 20));
    let keyed = format!("values: {list}\n");
    report.check(
        "yaml::parse, values: [1,1,...] of 2 MB",
        keyed.len(),
        || scenario_lab::yaml::parse(&keyed),
    );
    let block = "- 1\n".repeat(1 << 19);
    report.check("yaml::parse, - 1 lines of 2 MB", block.len(), || {
        scenario_lab::yaml::parse(&block)
    });
    let actors = format!("name: x\nturns: 1\nactors: {list}\n");
    let store = MemoryStorage::with_files([("s/scenario.yaml", actors.as_str())]);
    report.check(
        "load_scenario, actors: [1,1,...] of 2 MB",
        actors.len(),
        || block_on(load_scenario(&store, "s")),
    );

    // A 2 MB call log.
    let line = r#"{"key":"t1-actor-council","turn":1,"role":"actor","actor":"council","model":"builtin/simulator","provider":"builtin","prompt_tokens":120,"completion_tokens":40,"cost_nanos":0,"cost_source":"free","latency_ms":1.5,"generation_id":null,"request_hash":"abc123","attempts":1,"timeouts":0,"max_tokens":512,"finish_reason":"stop","reply":"Data sharing level: 4"}"#;
    let log = format!("{line}\n").repeat((2 << 20) / (line.len() + 1));
    report.check("RunFolder::parse, a 2 MB call log", log.len(), || {
        let folder = RunFolder::parse(None, Some(&log), None);
        assert!(folder.calls.len() > 1000);
        folder
    });

    report.finish();
}

/// A "billion laughs": five levels of ten aliases each, 180 bytes that would expand to 100,000
/// nodes. `yaml::parse` counts what alias copies add and refuses the alias that passes its
/// budget (10 x the text or 2 MiB), before the copies are made.
#[test]
fn an_alias_bomb_stays_within_the_heap_bound() {
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut text = String::from("a: &a [1,1,1,1,1,1,1,1,1,1]\n");
    for (name, prev) in [("b", "a"), ("c", "b"), ("d", "c"), ("e", "d")] {
        let refs = vec![format!("*{prev}"); 10].join(",");
        let _ = writeln!(text, "{name}: &{name} [{refs}]");
    }
    let mut report = Report::default();
    report.check("yaml::parse, an alias bomb", text.len(), || {
        scenario_lab::yaml::parse(&text)
    });
    report.finish();
}

/// A flow list that starts a line is queued whole by yaml-rust2's scanner (0.13) before its
/// first event, about 200 bytes of heap per byte of `[1,1,1,...]` (its check that a key candidate
/// went stale skips flow context): `yaml::parse` refuses one of more than 10,000 items before
/// parsing (src/yaml/flow_keys.rs). Both sides of that limit stay within the bound.
#[test]
fn a_long_flow_list_alone_stays_within_the_heap_bound() {
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let list = format!("[{}1]", "1,".repeat(1 << 20));
    let mut report = Report::default();
    report.check("yaml::parse, [1,1,...] of 2 MB", list.len(), || {
        assert!(scenario_lab::yaml::parse(&list).is_err());
    });
    let under = format!("- [{}1]\n", "1,".repeat(9_990));
    report.check(
        "yaml::parse, - [1,1,...] of 9,991 items",
        under.len(),
        || {
            assert!(scenario_lab::yaml::parse(&under).is_ok());
        },
    );
    report.finish();
}
