//! The batch runner in simulated time (issue 4): concurrency, timeouts, a 429 storm, budgets
//! under random conditions, and resume after interruption at random points.
mod common;

use std::cell::{Cell, RefCell};

use common::block_on;
use common::sim::{batch_config, run_sim_batch, shaped, try_sim_batch, ScriptedLlm, VirtualClock};
use scenario_lab::batch::{run_batch, BatchOptions, BatchOutcome, Control};
use scenario_lab::host::{LlmError, MemoryStorage, Storage};
use scenario_lab::llm::{Client, RetryPolicy};
use scenario_lab::pricing::PriceBook;
use scenario_lab::rng::Rng;
use scenario_lab::schema::{BatchEvent, StopReason};
use serde_json::Value;

/// The quick scenario with a priced hosted model instead of the simulator.
fn store_with(config: &str) -> MemoryStorage {
    let s = MemoryStorage::new();
    common::quick_negotiation(&s, "s", |t| t.replace("builtin/simulator", "test/model"));
    s.insert("b.yaml", config);
    s
}

const HEAD: &str = "experiment_name: t\nbase_scenario: s\noutput_dir: out\nprices:\n  test/model: {prompt: 1.0, completion: 2.0}\n  test/other: {prompt: 3.0, completion: 6.0}\n";

#[derive(Default)]
struct Recorder {
    events: RefCell<Vec<Value>>,
    in_flight: Cell<i64>,
    peak: Cell<i64>,
    stop_after_finished: Cell<Option<usize>>,
    finished: Cell<usize>,
}

impl Control for Recorder {
    fn emit(&self, e: BatchEvent) {
        match e {
            BatchEvent::RunStarted(_) => {
                self.in_flight.set(self.in_flight.get() + 1);
                self.peak.set(self.peak.get().max(self.in_flight.get()));
            }
            BatchEvent::RunFinished(_) => {
                self.in_flight.set(self.in_flight.get() - 1);
                self.finished.set(self.finished.get() + 1);
            }
            _ => {}
        }
        // Kept as the JSON a host receives.
        self.events
            .borrow_mut()
            .push(serde_json::to_value(&e).unwrap());
    }
    fn stop_requested(&self) -> bool {
        self.stop_after_finished
            .get()
            .is_some_and(|n| self.finished.get() >= n)
    }
}

fn batch(
    store: &MemoryStorage,
    llm: &ScriptedLlm,
    opts: &BatchOptions,
    control: &Recorder,
) -> BatchOutcome {
    run_sim_batch(store, llm, opts, control)
}

fn json(store: &MemoryStorage, path: &str) -> Value {
    serde_json::from_str(
        &block_on(store.read(path))
            .unwrap()
            .unwrap_or_else(|| panic!("no {path}")),
    )
    .unwrap()
}

fn run_costs_sum(store: &MemoryStorage) -> u64 {
    store
        .paths()
        .iter()
        .filter(|p| p.ends_with("/costs.json") && p.starts_with("out/runs/"))
        .map(|p| json(store, p)["total_cost_nanos"].as_u64().unwrap())
        .sum()
}

#[test]
fn a_2x2_batch_runs_every_run_once_at_most_max_parallel_at_a_time() {
    let cfg = format!("{HEAD}runs_per_variation: 3\nmax_parallel: 4\nvariations:\n  - type: actor_model\n    actor: council\n    values: [test/model, test/other]\n  - type: actor_model\n    actor: swiftride\n    values: [test/model, test/other]\n");
    let store = store_with(&cfg);
    let mut llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
    llm.cost_per_call = None; // priced from tokens: the dearer model costs more
    let rec = Recorder::default();
    let o = batch(&store, &llm, &BatchOptions::default(), &rec);
    assert_eq!(
        (
            o.totals.runs_completed,
            o.totals.total_runs,
            o.totals.runs_failed
        ),
        (12, 12, 0)
    );
    assert_eq!(rec.peak.get(), 4, "four runs at once, never more");
    // aggregate_metrics (the default): the analysis was written, with both factors found.
    let patterns = json(&store, "out/analysis/patterns.json");
    assert_eq!(patterns["total_runs"], 12);
    assert_eq!(
        patterns["factor_levels"],
        serde_json::json!({"council.model": ["test/model", "test/other"], "swiftride.model": ["test/model", "test/other"]})
    );
    let csv = block_on(store.read("out/analysis/runs.csv"))
        .unwrap()
        .unwrap();
    assert_eq!(csv.lines().count(), 13);
    assert!(rec.events.borrow().iter().any(|e| e["type"] == "analysis"));
    let state = json(&store, "out/batch-state.json");
    assert_eq!(state["completed_runs"].as_array().unwrap().len(), 12);
    assert_eq!(state["completed_runs"][0], "var-001-run-001");
    let costs = json(&store, "out/batch-costs.json");
    assert_eq!(
        costs["summary"]["total_spent_nanos"].as_u64().unwrap(),
        run_costs_sum(&store),
        "the batch total is the sum of the runs' costs.json, exactly"
    );
    assert!(
        costs["variation_statistics"]["4"]["avg_cost_per_run"]
            .as_f64()
            .unwrap()
            > costs["variation_statistics"]["1"]["avg_cost_per_run"]
                .as_f64()
                .unwrap()
    );
    assert_eq!(json(&store, "out/batch-summary.json")["runs_completed"], 12);
    assert!(block_on(store.read("out/batch-config.yaml"))
        .unwrap()
        .is_some());
    // Run again without --resume: refused; with it: nothing to do.
    let again = try_sim_batch(&store, &llm, &BatchOptions::default(), &Recorder::default());
    assert!(again.unwrap_err().to_string().contains("--resume"));
    let before = llm.requests.borrow().len();
    let o = batch(
        &store,
        &llm,
        &BatchOptions {
            resume: true,
            ..Default::default()
        },
        &Recorder::default(),
    );
    assert_eq!(o.totals.runs_completed, 12);
    assert_eq!(
        llm.requests.borrow().len(),
        before,
        "a completed batch resumes to nothing"
    );
}

#[test]
fn a_run_past_its_time_is_halted_and_resumable() {
    let store = store_with(&format!(
        "{HEAD}runs_per_variation: 2\nmax_parallel: 2\ntimeout_per_run: 30\n"
    ));
    let mut llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
    llm.latency_ms = 20_000.0;
    let o = batch(&store, &llm, &BatchOptions::default(), &Recorder::default());
    assert_eq!((o.totals.runs_halted, o.totals.runs_completed), (2, 0));
    assert_eq!(
        json(&store, "out/runs/var-001-run-001/scenario-state.json")["halt_reason"],
        "timeout"
    );
    llm.latency_ms = 10.0;
    let o = batch(
        &store,
        &llm,
        &BatchOptions {
            resume: true,
            ..Default::default()
        },
        &Recorder::default(),
    );
    assert_eq!(o.totals.runs_completed, 2);
}

#[test]
fn a_429_storm_only_slows_the_batch_down() {
    let store = store_with(&format!("{HEAD}runs_per_variation: 6\nmax_parallel: 3\n"));
    let llm = ScriptedLlm::new(&VirtualClock::new(), |n, r| {
        if scenario_lab::rng::fnv1a(&[&n.to_string()]) % 10 < 3 {
            Err(LlmError::Status {
                status: 429,
                body: "slow down".into(),
                retry_after: Some(2.0),
            })
        } else {
            Ok(shaped(r))
        }
    });
    let o = batch(&store, &llm, &BatchOptions::default(), &Recorder::default());
    assert_eq!((o.totals.runs_completed, o.totals.runs_failed), (6, 0));
    let failed = llm.requests.borrow().len() - 6 * 9;
    assert!(failed > 10, "the storm happened: {failed} refused requests");
}

#[test]
fn a_budget_is_never_exceeded_in_a_thousand_random_batches() {
    let mut rng = Rng::new(2026);
    let mut stopped_by_budget = 0;
    for case in 0..1000 {
        let price = 0.5 + rng.next_f64() * 20.0;
        let budget = 0.0005 + rng.next_f64() * 0.01;
        let per_run = if rng.next_f64() < 0.5 {
            format!("cost_per_run_limit: {}\n", 0.0005 + rng.next_f64() * 0.004)
        } else {
            String::new()
        };
        let runs = 1 + (rng.next_f64() * 6.0) as u32;
        let parallel = 1 + (rng.next_f64() * 4.0) as u32;
        let cfg = format!("experiment_name: t\nbase_scenario: s\noutput_dir: out\nprices:\n  test/model: {{prompt: {price}, completion: {price}}}\nbudget_limit: {budget}\n{per_run}runs_per_variation: {runs}\nmax_parallel: {parallel}\n");
        let store = store_with(&cfg);
        let fail_rate = rng.next_f64() * 0.3;
        let seed = rng.next_u64();
        let mut llm = ScriptedLlm::new(&VirtualClock::new(), move |n, r| {
            if (scenario_lab::rng::fnv1a(&[&seed.to_string(), &n.to_string()]) % 1000) as f64
                / 1000.0
                < fail_rate
            {
                Err(LlmError::Status {
                    status: 503,
                    body: String::new(),
                    retry_after: None,
                })
            } else {
                Ok(shaped(r))
            }
        });
        llm.cost_per_call = None; // priced from tokens, so costs vary with the prompts
        llm.latency_ms = 1.0 + rng.next_f64() * 500.0;
        let o = batch(&store, &llm, &BatchOptions::default(), &Recorder::default());
        let spent = o.totals.total_spent;
        stopped_by_budget += usize::from(o.stop_reason == Some(StopReason::Budget));
        assert!(
            spent <= budget + 1e-12,
            "case {case}: spent {spent} of a {budget} budget"
        );
        assert_eq!(
            o.totals.total_spent_nanos,
            run_costs_sum(&store),
            "case {case}"
        );
        if let Some(limit) = per_run
            .strip_prefix("cost_per_run_limit: ")
            .map(|l| l.trim().parse::<f64>().unwrap())
        {
            for p in store
                .paths()
                .iter()
                .filter(|p| p.ends_with("/costs.json") && p.starts_with("out/runs/"))
            {
                let c = json(&store, p)["total_cost"].as_f64().unwrap();
                assert!(c <= limit + 1e-12, "case {case}: {p} cost {c} over {limit}");
            }
        }
    }
    assert!(
        stopped_by_budget > 200,
        "the budget really bound: {stopped_by_budget} of 1000 batches stopped at it"
    );
}

#[test]
fn resuming_after_interruptions_at_random_points_gives_the_same_runs_and_costs() {
    let cfg = format!("{HEAD}runs_per_variation: 4\nmax_parallel: 3\nvariations:\n  - type: actor_model\n    actor: council\n    values: [test/model, test/other]\n");
    let whole = store_with(&cfg);
    let llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
    let full = batch(
        &whole,
        &llm,
        &BatchOptions {
            fresh_seed: 77,
            ..Default::default()
        },
        &Recorder::default(),
    );
    assert_eq!(full.totals.runs_completed, 8);
    let mut rng = Rng::new(5);
    for _ in 0..5 {
        let store = store_with(&cfg);
        let mut resume = false;
        let mut sessions = 0;
        loop {
            let rec = Recorder::default();
            rec.stop_after_finished
                .set(Some(1 + (rng.next_f64() * 3.0) as usize));
            let llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
            let o = batch(
                &store,
                &llm,
                &BatchOptions {
                    resume,
                    fresh_seed: 77,
                    ..Default::default()
                },
                &rec,
            );
            sessions += 1;
            resume = true;
            if o.totals.runs_completed == 8 {
                assert_eq!(
                    o.totals.total_spent_nanos, full.totals.total_spent_nanos,
                    "same costs"
                );
                break;
            }
            assert_eq!(o.stop_reason, Some(StopReason::Interrupted));
            assert!(sessions < 20);
        }
        assert!(sessions > 1);
        assert_eq!(
            json(&store, "out/batch-state.json")["completed_runs"],
            json(&whole, "out/batch-state.json")["completed_runs"]
        );
        for run in json(&whole, "out/batch-state.json")["completed_runs"]
            .as_array()
            .unwrap()
        {
            let p = format!("out/runs/{}/metrics.json", run.as_str().unwrap());
            assert_eq!(json(&store, &p), json(&whole, &p), "{p}");
        }
    }
}

#[test]
fn save_individual_runs_false_keeps_only_the_summary_files() {
    let store = store_with(&format!(
        "{HEAD}runs_per_variation: 2\nsave_individual_runs: false\n"
    ));
    let llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
    let o = batch(&store, &llm, &BatchOptions::default(), &Recorder::default());
    assert_eq!(o.totals.runs_completed, 2);
    let kept: Vec<String> = store
        .paths()
        .into_iter()
        .filter(|p| p.starts_with("out/runs/var-001-run-001/"))
        .collect();
    assert_eq!(
        kept,
        [
            "out/runs/var-001-run-001/costs.json",
            "out/runs/var-001-run-001/metrics.json",
            "out/runs/var-001-run-001/scenario-state.json"
        ]
    );
    // The costs are still counted on resume, from costs.json.
    let again = batch(
        &store,
        &llm,
        &BatchOptions {
            resume: true,
            ..Default::default()
        },
        &Recorder::default(),
    );
    assert_eq!(again.totals.total_spent_nanos, o.totals.total_spent_nanos);
    assert!(o.totals.total_spent_nanos > 0);
}

/// A shaped reply padded to a length that varies by role and by call (a function of the
/// request alone, so a resumed run sees the same): like a real model, some replies run past
/// their cap and are cut.
fn padded(r: &scenario_lab::host::ChatRequest) -> String {
    let base = shaped(r);
    let h = scenario_lab::rng::fnv1a(&[&base]);
    let (lo, hi) = if base.contains("**UPDATED STATE:**") {
        (200, 1200)
    } else if base.contains("**ACTION:**") {
        (100, 900)
    } else {
        (0, 40)
    };
    let words = lo + (h % (hi - lo + 1) as u64) as usize;
    let mut text = base;
    text.push('\n');
    for i in 0..words {
        text.push_str(["more ", "text ", "here ", "now "][(h as usize + i) % 4]);
    }
    text
}

/// The budget is spent, not abandoned (issue 10): with a budget that covers about half of a
/// batch, the batch spends at least 90% of it and never more, over 1,000 random batches
/// (prices, sizes, parallelism, latencies, reply lengths); and wherever it stops, the runs
/// started form a balanced design (round-robin: the variations' counts differ by one at most).
#[test]
fn a_budget_for_half_a_batch_is_spent_to_at_least_90_percent_and_never_passed() {
    let mut rng = Rng::new(10);
    let mut uses = Vec::new();
    for case in 0..1000 {
        let prompt = 0.1 + rng.next_f64() * 5.0;
        let completion = prompt * (1.0 + rng.next_f64() * 4.0);
        let runs = 6 + (rng.next_f64() * 7.0) as u32;
        let parallel = 1 + (rng.next_f64() * 8.0) as u32;
        let head = format!("experiment_name: t\nbase_scenario: s\noutput_dir: out\nprices:\n  test/model: {{prompt: {prompt}, completion: {completion}}}\n  test/other: {{prompt: {prompt}, completion: {completion}}}\nruns_per_variation: {runs}\nmax_parallel: {parallel}\nvariations:\n  - type: actor_model\n    actor: council\n    values: [test/model, test/other]\n");
        let latency = 1.0 + rng.next_f64() * 800.0;
        let run = |cfg: &str| {
            let store = store_with(cfg);
            let mut llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(padded(r)));
            llm.cost_per_call = None;
            llm.latency_ms = latency;
            let o = batch(&store, &llm, &BatchOptions::default(), &Recorder::default());
            (o, store)
        };
        let (full, _) = run(&head);
        let share = 0.4 + rng.next_f64() * 0.2;
        let budget = full.totals.total_spent * share;
        let (o, store) = run(&format!("{head}budget_limit: {budget}\n"));
        let spent = o.totals.total_spent;
        assert!(
            spent <= budget + 1e-12,
            "case {case}: spent {spent} of {budget}"
        );
        assert_eq!(o.stop_reason, Some(StopReason::Budget), "case {case}");
        let used = spent / budget;
        assert!(
            used >= 0.9,
            "case {case}: {:.1}% of the budget spent ({runs} runs x 2 variations, max_parallel {parallel})",
            used * 100.0
        );
        uses.push(used);
        let started = |v: u32| {
            (1..=runs)
                .filter(|r| {
                    store
                        .paths()
                        .iter()
                        .any(|p| p.starts_with(&format!("out/runs/var-{v:03}-run-{r:03}/")))
                })
                .count()
        };
        assert!(
            started(1).abs_diff(started(2)) <= 1,
            "case {case}: unbalanced: {} and {} runs started",
            started(1),
            started(2)
        );
    }
    uses.sort_by(f64::total_cmp);
    println!(
        "budget used over {} batches: min {:.1}%, median {:.1}%, mean {:.1}%",
        uses.len(),
        uses[0] * 100.0,
        uses[uses.len() / 2] * 100.0,
        uses.iter().sum::<f64>() / uses.len() as f64 * 100.0
    );
}

/// Runs past `timeout_per_run` stop sending, get a grace time for their calls in flight, and
/// pay only for what they record (issue 10): every answered call is in a call log, the server
/// never sees more than max_parallel × actors requests at once, and later runs still complete.
#[test]
fn runs_timing_out_record_every_answered_call_and_free_their_slots() {
    let store = store_with(&format!(
        "{HEAD}runs_per_variation: 6\nmax_parallel: 2\ntimeout_per_run: 30\nvariations:\n  - type: actor_model\n    actor: council\n    values: [test/model, test/other]\n"
    ));
    let mut llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
    llm.latency_ms = 300.0;
    // Variation 2's council is a slow model: its runs pass their time limit mid-turn.
    llm.extra_latency = Box::new(|r| {
        if r.model == "test/other" {
            12_000.0
        } else {
            0.0
        }
    });
    let o = batch(&store, &llm, &BatchOptions::default(), &Recorder::default());
    assert_eq!((o.totals.runs_completed, o.totals.runs_halted), (6, 6));
    let recorded: usize = store
        .paths()
        .iter()
        .filter(|p| p.ends_with("/llm-calls.jsonl"))
        .map(|p| block_on(store.read(p)).unwrap().unwrap().lines().count())
        .sum();
    assert_eq!(
        llm.answered.get(),
        recorded,
        "every answered call is recorded"
    );
    assert!(
        llm.peak.get() <= 2 * 2,
        "peak {} requests at once",
        llm.peak.get()
    );
    for r in 1..=6 {
        let state = json(
            &store,
            &format!("out/runs/var-002-run-{r:03}/scenario-state.json"),
        );
        assert_eq!(
            (state["status"].as_str(), state["halt_reason"].as_str()),
            (Some("halted"), Some("timeout")),
            "run {r}"
        );
        let state = json(
            &store,
            &format!("out/runs/var-001-run-{r:03}/scenario-state.json"),
        );
        assert_eq!(state["status"], "completed", "run {r}");
    }
}

/// Every request carries its role's output cap, and a scenario's and a batch config's
/// `max_tokens:` maps override the defaults (the batch's over the scenario's).
#[test]
fn every_request_carries_its_roles_cap() {
    let store = store_with(&format!("{HEAD}runs_per_variation: 1\n"));
    let llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
    batch(&store, &llm, &BatchOptions::default(), &Recorder::default());
    let caps: Vec<Option<u32>> = llm.requests.borrow().iter().map(|r| r.max_tokens).collect();
    assert_eq!(caps.len(), 9);
    assert_eq!(
        caps.iter().filter(|c| **c == Some(800)).count(),
        6,
        "{caps:?}"
    );
    assert_eq!(
        caps.iter().filter(|c| **c == Some(1000)).count(),
        3,
        "{caps:?}"
    );

    let store = MemoryStorage::new();
    common::quick_negotiation(&store, "s", |t| {
        t.replace("builtin/simulator", "test/model")
            .replace("turns: 3", "turns: 1\nmax_tokens: {actor: 111, world: 222}")
    });
    store.insert("b.yaml", &format!("{HEAD}max_tokens: {{world: 333}}\n"));
    let llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
    batch(&store, &llm, &BatchOptions::default(), &Recorder::default());
    let caps: Vec<Option<u32>> = llm.requests.borrow().iter().map(|r| r.max_tokens).collect();
    assert_eq!(caps, [Some(111), Some(111), Some(333)]);
}

/// A reply cut at its cap is recorded in the call log, the run's state and the batch summary;
/// a provider that ignores the cap stops a budgeted batch at once, naming the model.
#[test]
fn cut_replies_are_counted_and_an_ignored_cap_stops_a_budget() {
    let long = |_: usize, r: &scenario_lab::host::ChatRequest| {
        Ok(format!("{}\n{}", shaped(r), "word ".repeat(2000)))
    };
    let store = store_with(&format!("{HEAD}runs_per_variation: 1\n"));
    let llm = ScriptedLlm::new(&VirtualClock::new(), long);
    batch(&store, &llm, &BatchOptions::default(), &Recorder::default());
    let log = block_on(store.read("out/runs/var-001-run-001/llm-calls.jsonl"))
        .unwrap()
        .unwrap();
    for line in log.lines() {
        let c: Value = serde_json::from_str(line).unwrap();
        assert_eq!(c["finish_reason"], "length", "{line}");
        assert!(
            c["completion_tokens"].as_u64() <= c["max_tokens"].as_u64(),
            "{line}"
        );
    }
    assert_eq!(
        json(&store, "out/runs/var-001-run-001/scenario-state.json")["truncated_replies"],
        9
    );
    assert_eq!(
        json(&store, "out/batch-summary.json")["truncated_replies"],
        9
    );

    let store = store_with(&format!(
        "{HEAD}runs_per_variation: 4\nmax_parallel: 2\nbudget_limit: 10\n"
    ));
    let mut llm = ScriptedLlm::new(&VirtualClock::new(), long);
    llm.ignore_cap = true;
    llm.cost_per_call = None;
    let o = batch(&store, &llm, &BatchOptions::default(), &Recorder::default());
    assert_eq!(o.stop_reason, Some(StopReason::Budget));
    let why = o.stop_message.unwrap();
    assert!(why.contains("test/model ignored the output cap"), "{why}");
    assert!(
        llm.requests.borrow().len() <= 4,
        "stopped at the first overrun (2 runs x 2 actors in flight)"
    );
}

/// One answer to "which models does this batch call?" (issue 10): a base-scenario model that
/// every variation replaces is not called, so a budget needs no price for it.
#[test]
fn a_budget_needs_prices_only_for_the_models_the_runs_call() {
    let store = MemoryStorage::new();
    common::quick_negotiation(&store, "s", |t| {
        t.replace("builtin/simulator", "unpriced/base")
    });
    store.insert("b.yaml", "experiment_name: t\nbase_scenario: s\noutput_dir: out\nbudget_limit: 1\nprices:\n  test/model: {prompt: 1, completion: 2}\nvariations:\n  - type: actor_model\n    actor: council\n    values: [test/model]\n  - type: actor_model\n    actor: swiftride\n    values: [test/model]\n  - type: scenario_parameter\n    parameter: world_state_model\n    values: [test/model]\n");
    let (cfg, _) = batch_config(&store);
    assert_eq!(scenario_lab::plan::called_models(&cfg), ["test/model"]);
    let llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
    let o = batch(&store, &llm, &BatchOptions::default(), &Recorder::default());
    assert_eq!(o.totals.runs_completed, 1);
    assert!(llm
        .requests
        .borrow()
        .iter()
        .all(|r| r.model == "test/model"));
}

/// Lock-step batch mode (`execution: batch`) against a provider batch API in simulated time,
/// over 200 random batches: the run files are those realtime writes (the same seed, the same
/// deterministic replies); without a budget the jobs number turns × phases (3 turns of
/// decisions and the world update: 6), whatever the number of runs; the batch price is half;
/// and with a budget, spent never passes it (every request of a job is reserved first).
#[test]
fn lock_step_batches_write_the_realtime_files_in_turns_times_phases_jobs_within_budget() {
    let mut rng = Rng::new(12);
    let mut budget_stops = 0;
    for case in 0..200 {
        let runs = 1 + (rng.next_f64() * 12.0) as u32;
        let budget = (rng.next_f64() < 0.5).then(|| 0.002 + rng.next_f64() * 0.02);
        let limit = budget.map_or(String::new(), |b| format!("budget_limit: {b}\n"));
        let cfg = format!("{HEAD}runs_per_variation: {runs}\nmax_parallel: 2\n{limit}");
        let opts = BatchOptions {
            fresh_seed: rng.next_u64() >> 16,
            ..BatchOptions::default()
        };
        let latency = 1.0 + rng.next_f64() * 3_600_000.0;
        let run_in = |execution: &str| {
            let store = store_with(&format!("{cfg}execution: {execution}\n"));
            let mut llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
            llm.cost_per_call = None;
            llm.batch_api = true;
            llm.batch_latency_ms = latency;
            let o = batch(&store, &llm, &opts, &Recorder::default());
            let jobs = llm.jobs.borrow().len();
            (store, o, jobs)
        };
        let (batch_store, b, jobs) = run_in("batch");
        assert_eq!(
            b.totals.total_spent_nanos,
            run_costs_sum(&batch_store),
            "case {case}"
        );
        if let Some(limit) = budget {
            assert!(
                b.totals.total_spent <= limit + 1e-12,
                "case {case}: spent {} of {limit}",
                b.totals.total_spent
            );
            budget_stops += usize::from(b.stop_reason == Some(StopReason::Budget));
            continue;
        }
        assert_eq!(jobs, 6, "case {case}: {runs} runs");
        assert_eq!(b.totals.runs_completed, u64::from(runs), "case {case}");
        let (realtime_store, r, realtime_jobs) = run_in("realtime");
        assert_eq!(realtime_jobs, 0);
        let ratio = b.totals.total_spent / r.totals.total_spent;
        assert!(
            (ratio - 0.5).abs() < 1e-3,
            "case {case}: batch/realtime {ratio}"
        );
        for p in realtime_store.paths() {
            let name = p.rsplit('/').next().unwrap();
            if !p.starts_with("out/runs/")
                || [
                    "costs.json",
                    "llm-calls.jsonl",
                    "scenario.log",
                    "scenario-state.json",
                ]
                .contains(&name)
            {
                continue;
            }
            assert_eq!(
                block_on(batch_store.read(&p)).unwrap(),
                block_on(realtime_store.read(&p)).unwrap(),
                "case {case}: {p}"
            );
        }
    }
    assert!(
        budget_stops > 20,
        "the budget bound in {budget_stops} batches"
    );
}

/// An intervention at turn 3 of the quick scenario (3 turns, 3 calls a turn): a control arm
/// and three changes. Turns 1 and 2 (6 calls) are shared by the four arms.
const ARMS: &str = "variations:\n  - type: intervention\n    at_turn: 3\n    arms:\n      - name: baseline\n      - name: leak\n        event: \"A draft audit of the rideshare data deal leaks to the press.\"\n      - name: wary-council\n        actor: council\n        goals: [\"Share no trip data before an independent privacy audit\"]\n      - name: strike\n        world_state: \"**Strike.** SwiftRide drivers strike for a week.\"\n";

/// The call log of a run, one line a call.
fn log_lines(store: &MemoryStorage, run: &str) -> Vec<String> {
    block_on(store.read(&format!("out/runs/{run}/llm-calls.jsonl")))
        .unwrap()
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn turn_of(line: &str) -> u64 {
    serde_json::from_str::<Value>(line).unwrap()["turn"]
        .as_u64()
        .unwrap()
}

/// Issue 13, part 3: the first turns of an intervention are run once per run number, copied into
/// every other arm and replayed there, never sent again; the arms diverge from the intervention's
/// turn; the summary says what the sharing saved, and the batch total is still the sum of the
/// runs' costs.json (a copied call is counted by the run that paid it).
#[test]
fn an_interventions_shared_turns_are_paid_once() {
    let store = store_with(&format!(
        "{HEAD}runs_per_variation: 3\nmax_parallel: 2\n{ARMS}"
    ));
    let llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
    let rec = Recorder::default();
    let o = batch(&store, &llm, &BatchOptions::default(), &rec);
    assert_eq!((o.totals.runs_completed, o.totals.total_runs), (12, 12));
    // 3 sources x 9 calls, and 9 arm runs x the 3 calls of turn 3; not 12 x 9.
    assert_eq!(llm.answered.get(), 3 * 9 + 9 * 3);
    assert_eq!(o.totals.savings.shared_calls, 9 * 6);
    assert!((o.totals.savings.shared_saved - 54.0 * 0.001).abs() < 1e-9);
    assert!((o.totals.total_spent - 54.0 * 0.001).abs() < 1e-9);
    assert_eq!(o.totals.total_spent_nanos, run_costs_sum(&store));
    let summary = json(&store, "out/batch-summary.json");
    assert_eq!(summary["cost_summary"]["savings"]["shared_calls"], 54);
    for r in 1..=3 {
        let source = log_lines(&store, &format!("var-001-run-{r:03}"));
        let prefix: Vec<&String> = source.iter().filter(|l| turn_of(l) <= 2).collect();
        assert_eq!(prefix.len(), 6);
        for v in 2..=4 {
            let run = format!("var-{v:03}-run-{r:03}");
            let lines = log_lines(&store, &run);
            let mine: Vec<&String> = lines.iter().filter(|l| turn_of(l) <= 2).collect();
            assert_eq!(
                mine, prefix,
                "{run}: the same first two turns, line for line"
            );
            let third = |ls: &[String]| -> Vec<String> {
                ls.iter()
                    .filter(|l| turn_of(l) == 3)
                    .map(|l| serde_json::from_str::<Value>(l).unwrap()["reply"].to_string())
                    .collect()
            };
            assert_eq!(third(&lines).len(), 3);
            assert_ne!(third(&lines), third(&source), "{run} diverges at turn 3");
            let state = json(&store, &format!("out/runs/{run}/scenario-state.json"));
            assert_eq!(state["spec"]["branch"]["at_turn"], 2, "{run}");
            assert_eq!(
                state["spec"]["branch"]["from"],
                format!("out/runs/var-001-run-{r:03}")
            );
            assert_eq!(
                json(&store, &format!("out/runs/{run}/costs.json"))["savings"]["shared_calls"],
                6
            );
        }
    }
    let file = |p: &str| {
        block_on(store.read(&format!("out/runs/{p}")))
            .unwrap()
            .unwrap()
    };
    assert!(file("var-002-run-001/world-state-003.md").contains("- **leak:** A draft audit"));
    assert!(!file("var-001-run-001/world-state-003.md").contains("leak"));
    assert!(file("var-004-run-001/scenario.log").contains("intervention `strike` takes effect"));
    assert!(llm
        .prompts()
        .iter()
        .any(|p| p.contains("**Strike.** SwiftRide drivers strike")));
    let started: Vec<Value> = rec
        .events
        .borrow()
        .iter()
        .filter(|e| e["type"] == "run_started")
        .cloned()
        .collect();
    assert_eq!(started.len(), 12);
    for e in &started {
        let id = e["data"]["run_id"].as_str().unwrap();
        let shares = e["data"]["shares_prefix_of"].as_str();
        if id.starts_with("var-001") {
            assert_eq!(shares, None);
        } else {
            assert_eq!(shares, Some(&*format!("var-001{}", &id[7..])), "{id}");
        }
    }
    let d = e_descr(&rec, "var-003-run-001");
    assert_eq!(d, "intervention@3=wary-council");
}

fn e_descr(rec: &Recorder, run: &str) -> String {
    rec.events
        .borrow()
        .iter()
        .find(|e| e["type"] == "run_started" && e["data"]["run_id"] == run)
        .map(|e| e["data"]["description"].as_str().unwrap().to_string())
        .unwrap()
}

/// A batch with an intervention killed at random instants (its future dropped where it stands,
/// requests in flight abandoned) and resumed until done: every run completes once, with the
/// files of an uninterrupted batch, and no call is sent twice (a copied prefix is replayed).
#[test]
fn an_intervention_batch_killed_anywhere_resumes_with_every_run_once_and_no_call_paid_twice() {
    let cfg = format!("{HEAD}runs_per_variation: 3\nmax_parallel: 3\n{ARMS}");
    let whole = store_with(&cfg);
    let llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
    let opts = BatchOptions {
        fresh_seed: 13,
        ..Default::default()
    };
    let full = batch(&whole, &llm, &opts, &Recorder::default());
    assert_eq!(full.totals.runs_completed, 12);
    let calls = llm.answered.get();
    let mut rng = Rng::new(13);
    for case in 0..30 {
        let store = store_with(&cfg);
        let mut answered = 0;
        let mut sessions = 0;
        loop {
            let llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
            // Killed after a random number of answers (a kill may land anywhere: mid-turn,
            // mid-copy, between a run's end and the batch files).
            let kill_after = 1 + (rng.next_f64() * calls as f64 * 0.6) as usize;
            let (cfg, text) = batch_config(&store);
            let clock = llm.clock.clone();
            let client = Client::new(
                &llm,
                &clock,
                common::sim::fake_endpoints(),
                PriceBook::new(&cfg.prices),
                RetryPolicy::default(),
            );
            let resume_opts = BatchOptions {
                resume: sessions > 0,
                ..opts.clone()
            };
            let rec = Recorder::default();
            let done = common::sim::drive_until(
                &clock,
                run_batch(&store, &client, &clock, &cfg, &text, &resume_opts, &rec),
                || llm.answered.get() >= kill_after,
            );
            answered += llm.answered.get();
            sessions += 1;
            if let Some(o) = done {
                let o = o.unwrap();
                if o.totals.runs_completed == 12 {
                    assert_eq!(o.totals.total_spent_nanos, full.totals.total_spent_nanos);
                    assert_eq!(
                        o.totals.savings.shared_calls,
                        full.totals.savings.shared_calls
                    );
                    break;
                }
            }
            assert!(sessions < 100, "case {case}: no end");
        }
        assert!(sessions > 1, "case {case}: the first session was killed");
        assert_eq!(
            answered, calls,
            "case {case}: a call was paid twice ({sessions} sessions)"
        );
        for v in 1..=4 {
            for r in 1..=3 {
                let run = format!("var-{v:03}-run-{r:03}");
                for f in ["metrics.json", "world-state-003.md", "costs.json"] {
                    let p = format!("out/runs/{run}/{f}");
                    assert_eq!(
                        block_on(store.read(&p)).unwrap(),
                        block_on(whole.read(&p)).unwrap(),
                        "case {case}: {p}"
                    );
                }
            }
        }
        assert_eq!(
            json(&store, "out/batch-state.json")["completed_runs"],
            json(&whole, "out/batch-state.json")["completed_runs"]
        );
    }
}

/// An arm run whose source stops before the shared turns waits: it stays pending (a note says
/// why), takes no place among the runs in flight, and starts on the resume that takes its
/// source past them; it is never run from scratch, which would pay for the shared turns again.
#[test]
fn the_arms_of_a_source_that_halted_early_wait_for_a_resume() {
    let store = store_with(&format!(
        "{HEAD}runs_per_variation: 2\nmax_parallel: 1\ntimeout_per_run: 30\n{ARMS}"
    ));
    let mut llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
    // The first requests of the batch (run 1 of the first arm, turn 1) never answer in time.
    let seen = std::rc::Rc::new(Cell::new(0));
    let counter = seen.clone();
    llm.extra_latency = Box::new(move |_| {
        counter.set(counter.get() + 1);
        if counter.get() <= 2 {
            1_000_000.0
        } else {
            0.0
        }
    });
    let rec = Recorder::default();
    let o = batch(&store, &llm, &BatchOptions::default(), &rec);
    assert_eq!(
        (
            o.totals.runs_completed,
            o.totals.runs_halted,
            o.totals.runs_pending
        ),
        (4, 1, 3),
        "run 2 of every arm done; run 1's source halted, its arms pending"
    );
    assert_eq!(
        json(&store, "out/runs/var-001-run-001/scenario-state.json")["halt_reason"],
        "timeout"
    );
    for v in 2..=4 {
        assert!(
            !store
                .paths()
                .iter()
                .any(|p| p.starts_with(&format!("out/runs/var-{v:03}-run-001/"))),
            "var-{v:03}-run-001 did not start"
        );
    }
    let notes: Vec<String> = rec
        .events
        .borrow()
        .iter()
        .filter(|e| e["type"] == "note")
        .map(|e| e["data"]["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        notes.iter().any(|n| n.starts_with(
            "var-002-run-001, var-003-run-001, var-004-run-001 wait for var-001-run-001"
        ) && n.contains("stopped after turn 0")),
        "{notes:?}"
    );
    assert_eq!(llm.answered.get(), 9 + 3 * 3);
    // The resume takes the source past turn 2; its arms branch from it then.
    let llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
    let o = batch(
        &store,
        &llm,
        &BatchOptions {
            resume: true,
            ..Default::default()
        },
        &Recorder::default(),
    );
    assert_eq!((o.totals.runs_completed, o.totals.runs_pending), (8, 0));
    assert_eq!(
        llm.answered.get(),
        9 + 3 * 3,
        "the halted source and its arms' turn 3"
    );
    assert_eq!(o.totals.savings.shared_calls, 6 * 6);
    let state = json(&store, "out/runs/var-003-run-001/scenario-state.json");
    assert_eq!(state["spec"]["branch"]["at_turn"], 2);
}

/// An intervention batch cannot be sharded (an arm's source may be in another shard): refused
/// before anything is written.
#[test]
fn an_intervention_batch_is_not_sharded() {
    let store = store_with(&format!("{HEAD}runs_per_variation: 2\n{ARMS}"));
    let llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
    let opts = BatchOptions {
        shard: Some(scenario_lab::batch::Shard::new(1, 2).unwrap()),
        ..Default::default()
    };
    let e = try_sim_batch(&store, &llm, &opts, &Recorder::default()).unwrap_err();
    assert!(e.to_string().contains("cannot be sharded"), "{e}");
    assert!(!store.paths().iter().any(|p| p.starts_with("out/")));
}

/// An intervention crossed with another dimension: each combination of the other dimension's
/// values is a family of its own, whose arms branch from its own first arm.
#[test]
fn an_intervention_crossed_with_a_model_branches_within_each_family() {
    let store = store_with(&format!("{HEAD}runs_per_variation: 2\nmax_parallel: 3\nvariations:\n  - type: intervention\n    at_turn: 2\n    arms:\n      - name: baseline\n      - name: leak\n        event: \"It leaks.\"\n  - type: actor_model\n    actor: council\n    values: [test/model, test/other]\n"));
    let llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
    let rec = Recorder::default();
    let o = batch(&store, &llm, &BatchOptions::default(), &rec);
    assert_eq!(o.totals.runs_completed, 8);
    // Per run number: 2 sources x 9 calls, 2 arm runs x turns 2-3 (6 calls).
    assert_eq!(llm.answered.get(), 2 * (2 * 9 + 2 * 6));
    assert_eq!(
        e_descr(&rec, "var-004-run-002"),
        "intervention@2=leak, council=other"
    );
    for (arm, source) in [(3, 1), (4, 2)] {
        for r in 1..=2 {
            let run = format!("var-{arm:03}-run-{r:03}");
            let state = json(&store, &format!("out/runs/{run}/scenario-state.json"));
            assert_eq!(
                state["spec"]["branch"]["from"],
                format!("out/runs/var-{source:03}-run-{r:03}"),
                "{run}"
            );
            let first = |run: &str| -> Vec<String> {
                log_lines(&store, run)
                    .into_iter()
                    .filter(|l| turn_of(l) == 1)
                    .collect()
            };
            assert_eq!(first(&run), first(&format!("var-{source:03}-run-{r:03}")));
        }
    }
}

/// With `save_individual_runs: false` a completed source keeps no call log, so it hands its
/// first turns to its arms before its files are cleaned: with one run at a time (the arms
/// start after their source is done and cleaned), they still branch.
#[test]
fn a_source_hands_over_its_turns_before_its_files_are_cleaned() {
    let store = store_with(&format!(
        "{HEAD}runs_per_variation: 2\nmax_parallel: 1\nsave_individual_runs: false\n{ARMS}"
    ));
    let llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
    let o = batch(&store, &llm, &BatchOptions::default(), &Recorder::default());
    assert_eq!(o.totals.runs_completed, 8);
    assert_eq!(llm.answered.get(), 2 * 9 + 6 * 3);
    assert_eq!(o.totals.savings.shared_calls, 6 * 6);
    assert!(!store.paths().iter().any(|p| p.ends_with("llm-calls.jsonl")));
    // A resume finds every run completed and the same money and savings in the kept files.
    let again = batch(
        &store,
        &llm,
        &BatchOptions {
            resume: true,
            ..Default::default()
        },
        &Recorder::default(),
    );
    assert_eq!(again.totals.total_spent_nanos, o.totals.total_spent_nanos);
    assert_eq!(again.totals.savings.shared_calls, 6 * 6);
}

/// Shards count from 1 and split the budget: each spends at most `budget_limit` × its share of
/// the runs (there it stops), and the shares add up to the budget. A new shard needs the batch's
/// seed given, and `merge` takes only the N shards of one batch: the same seed, each shard once,
/// none missing; the merged budget is the batch's.
#[test]
fn shards_keep_to_their_share_of_the_budget_and_merge_only_as_a_whole() {
    use scenario_lab::batch::{merge, Shard};
    use scenario_lab::pricing::{nanos_to_usd, usd_to_nanos};
    let config = |out: &str, budget: f64| {
        format!("{HEAD}runs_per_variation: 5\nmax_parallel: 2\nbudget_limit: {budget}\n")
            .replace("output_dir: out\n", &format!("output_dir: {out}\n"))
    };
    let store = store_with(&config("whole", 100.0));
    let mut llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(padded(r)));
    llm.cost_per_call = None;
    let whole = batch(
        &store,
        &llm,
        &BatchOptions {
            fresh_seed: 7,
            ..Default::default()
        },
        &Recorder::default(),
    );
    // A budget for about a third of the batch.
    let budget = nanos_to_usd(whole.totals.total_spent_nanos / 3);
    let shard = |k: u64, seed: u64, out: &str| {
        store.insert("b.yaml", &config(out, budget));
        let opts = BatchOptions {
            shard: Some(Shard::new(k, 2).unwrap()),
            fresh_seed: seed,
            ..Default::default()
        };
        try_sim_batch(&store, &llm, &opts, &Recorder::default())
    };
    let e = shard(1, 0, "out-1").unwrap_err();
    assert!(e.to_string().contains("needs --seed N"), "{e}");
    let one = shard(1, 7, "out-1").unwrap();
    let two = shard(2, 7, "out-2").unwrap();
    shard(2, 8, "out-3").unwrap();
    // A folder keeps its shard: resuming it as another would mix two shards in one folder.
    store.insert("b.yaml", &config("out-1", budget));
    let again = |shard: Option<Shard>| {
        let opts = BatchOptions {
            shard,
            resume: true,
            ..Default::default()
        };
        try_sim_batch(&store, &llm, &opts, &Recorder::default())
    };
    let e = again(Some(Shard::new(2, 2).unwrap()))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`out-1` holds shard 1/2: resume it with --shard 1/2"),
        "{e}"
    );
    let e = again(None).unwrap_err().to_string();
    assert!(e.contains("resume it with --shard 1/2"), "{e}");
    again(Some(Shard::new(1, 2).unwrap())).unwrap();
    // --output puts a shard in a folder of its own, and its resume command says so.
    let opts = BatchOptions {
        shard: Some(Shard::new(1, 2).unwrap()),
        fresh_seed: 7,
        output_dir: Some("volume/shard-1".into()),
        ..Default::default()
    };
    try_sim_batch(&store, &llm, &opts, &Recorder::default()).unwrap();
    let summary = json(&store, "volume/shard-1/batch-summary.json");
    assert_eq!(
        summary["resume_command"],
        "npx scenario-lab run b.yaml --resume --shard 1/2 --output volume/shard-1"
    );
    assert_eq!(
        json(&store, "volume/shard-1/batch-state.json")["output_dir"],
        "volume/shard-1"
    );
    // 5 runs in 2 shards: 3 and 2, and the budget in the same proportion.
    let share = |out: &str| {
        usd_to_nanos(
            json(&store, &format!("{out}/batch-costs.json"))["summary"]["budget_limit"]
                .as_f64()
                .unwrap(),
        )
    };
    let b = usd_to_nanos(budget);
    assert_eq!((share("out-1"), share("out-2")), (b * 3 / 5, b - b * 3 / 5));
    for (o, out) in [(&one, "out-1"), (&two, "out-2")] {
        let (spent, limit) = (o.totals.total_spent_nanos, share(out));
        assert!(spent <= limit, "{out}: {spent} of {limit}");
        assert_eq!(o.stop_reason, Some(StopReason::Budget));
    }
    assert_eq!(json(&store, "out-2/batch-state.json")["shard"], "2/2");

    let dirs = |d: &[&str]| d.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let refused = |d: &[&str]| {
        block_on(merge(&store, &dirs(d), "merged"))
            .unwrap_err()
            .to_string()
    };
    let e = refused(&["out-1"]);
    assert!(
        e.contains("missing shard 2/2") && e.contains("out-1 (shard 1/2)"),
        "{e}"
    );
    let e = refused(&["out-1", "out-2", "out-2"]);
    assert!(
        e.contains("overlapping shards: out-2 and out-2 are both shard 2/2"),
        "{e}"
    );
    let e = refused(&["out-1", "out-3"]);
    assert!(
        e.contains("seed 7") && e.contains("seed 8") && e.contains("--seed"),
        "{e}"
    );
    store.insert(
        "b.yaml",
        &config("out-4", budget).replace("runs_per_variation: 5", "runs_per_variation: 6"),
    );
    let opts = BatchOptions {
        shard: Some(Shard::new(2, 2).unwrap()),
        fresh_seed: 7,
        ..Default::default()
    };
    try_sim_batch(&store, &llm, &opts, &Recorder::default()).unwrap();
    let e = refused(&["out-1", "out-4"]);
    assert!(e.contains("out-1 and out-4 ran different batch configs: runs_per_variation is 5 in one and 6 in the other"), "{e}");
    let e = refused(&["out-1", "whole"]);
    assert!(e.contains("whole holds the whole batch"), "{e}");
    assert!(
        !store.paths().iter().any(|p| p.starts_with("merged/")),
        "nothing is written before the checks pass"
    );

    let m = block_on(merge(&store, &dirs(&["out-2", "out-1"]), "merged")).unwrap();
    assert_eq!(m.shards, ["1/2", "2/2"]);
    assert_eq!(m.budget_limit.map(usd_to_nanos), Some(b));
    assert_eq!(
        m.totals.total_spent_nanos,
        one.totals.total_spent_nanos + two.totals.total_spent_nanos
    );
    let state = json(&store, "merged/batch-state.json");
    assert_eq!(
        (state["seed"].as_u64(), &state["shard"]),
        (Some(7), &Value::Null)
    );
}
