//! The batch runner in simulated time (issue 4): concurrency, timeouts, a 429 storm, budgets
//! under random conditions, and resume after interruption at random points.
mod common;

use std::cell::{Cell, RefCell};

use common::block_on;
use common::sim::{drive, fake_endpoints, shaped, ScriptedLlm, VirtualClock};
use scenario_lab::batch::{run_batch, BatchOptions, BatchOutcome, Control};
use scenario_lab::config::{load_batch, BatchConfig};
use scenario_lab::host::{LlmError, MemoryStorage, Storage};
use scenario_lab::llm::{Client, Endpoints, RetryPolicy};
use scenario_lab::pricing::PriceBook;
use scenario_lab::rng::Rng;
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
    fn emit(&self, e: Value) {
        match e["type"].as_str() {
            Some("run_started") => {
                self.in_flight.set(self.in_flight.get() + 1);
                self.peak.set(self.peak.get().max(self.in_flight.get()));
            }
            Some("run_finished") => {
                self.in_flight.set(self.in_flight.get() - 1);
                self.finished.set(self.finished.get() + 1);
            }
            _ => {}
        }
        self.events.borrow_mut().push(e);
    }
    fn stop_requested(&self) -> bool {
        self.stop_after_finished
            .get()
            .is_some_and(|n| self.finished.get() >= n)
    }
}

fn config(store: &MemoryStorage) -> (BatchConfig, String) {
    let cfg = block_on(load_batch(store, "b.yaml"))
        .unwrap_or_else(|e| panic!("{e}"))
        .value;
    let text = block_on(store.read("b.yaml")).unwrap().unwrap();
    (cfg, text)
}

fn batch(
    store: &MemoryStorage,
    llm: &ScriptedLlm,
    opts: &BatchOptions,
    control: &Recorder,
) -> BatchOutcome {
    let (cfg, text) = config(store);
    let clock = llm.clock.clone();
    let endpoints = fake_endpoints();
    let client = Client::new(
        llm,
        &clock,
        endpoints,
        PriceBook::new(&cfg.prices),
        RetryPolicy::default(),
    )
    .with_max_in_flight(64);
    drive(
        &clock,
        run_batch(store, &client, &clock, &cfg, &text, opts, control),
    )
    .unwrap_or_else(|e| panic!("{e}"))
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
    let (c, text) = config(&store);
    let clock = llm.clock.clone();
    let client = Client::new(
        &llm,
        &clock,
        Endpoints::default(),
        PriceBook::new(&c.prices),
        RetryPolicy::default(),
    );
    let again = drive(
        &clock,
        run_batch(
            &store,
            &client,
            &clock,
            &c,
            &text,
            &BatchOptions::default(),
            &Recorder::default(),
        ),
    );
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
        stopped_by_budget += usize::from(o.stop_reason.as_deref() == Some("budget"));
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
            assert_eq!(o.stop_reason.as_deref(), Some("interrupted"));
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
