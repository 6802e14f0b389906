//! Experimental designs (issue 13), in simulated time with a scripted LLM: paired seeds, the
//! precision rule, the group-sequential rule and its resume, and the sequential design's error
//! rates and savings over 2,000 simulated experiments a hypothesis.
mod common;

use std::cell::{Cell, RefCell};

use common::block_on;
use common::sim::{run_sim_batch, shaped, try_sim_batch, ScriptedLlm, VirtualClock};
use scenario_lab::batch::{BatchOptions, BatchOutcome, Control};
use scenario_lab::host::{ChatRequest, MemoryStorage, Storage};
use scenario_lab::rng::{fnv1a, Rng};
use scenario_lab::schema::BatchEvent;
use serde_json::Value;

#[derive(Default)]
struct Recorder {
    events: RefCell<Vec<Value>>,
    stop_after_finished: Cell<Option<usize>>,
    finished: Cell<usize>,
}

impl Control for Recorder {
    fn emit(&self, e: BatchEvent) {
        if matches!(e, BatchEvent::RunFinished(_)) {
            self.finished.set(self.finished.get() + 1);
        }
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

fn json(store: &MemoryStorage, path: &str) -> Value {
    serde_json::from_str(
        &block_on(store.read(path))
            .unwrap()
            .unwrap_or_else(|| panic!("no {path}")),
    )
    .unwrap()
}

/// A one-turn scenario whose single metric, `score`, is read from the world update: what the
/// scripted world model writes there is the experiment's outcome.
fn one_turn_scenario(store: &MemoryStorage) {
    store.insert(
        "s/scenario.yaml",
        "name: Scored\ndescription: one turn, one number\nsystem_prompt: Be brief.\ninitial_world_state: Nothing has happened yet.\nturns: 1\nworld_state_model: test/model\nactors: [a]\n",
    );
    store.insert(
        "s/actors/a.yaml",
        "name: Actor A\nshort_name: a\nllm_model: test/model\ngoals: [do well]\n",
    );
    store.insert(
        "s/metrics.yaml",
        "metrics:\n  - name: score\n    description: the outcome\n    type: continuous\n    range: [-1000, 1000]\n    extraction:\n      type: pattern\n      pattern: 'Score: (-?[0-9.]+)'\n",
    );
}

/// A standard normal draw from a hash.
fn normal(parts: &[&str]) -> f64 {
    let mut rng = Rng::new(fnv1a(parts));
    let (u1, u2) = (rng.next_f64().max(1e-300), rng.next_f64());
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A world model whose score is `block + effect·[test/other] + noise`: `block` is drawn from
/// the request's seed alone (what paired runs share), `noise` from the seed and the model.
fn scored_llm(effect: f64, block_sd: f64, noise_sd: f64) -> ScriptedLlm {
    let mut llm = ScriptedLlm::new(&VirtualClock::new(), move |_, r: &ChatRequest| {
        let all: String = r.messages.iter().map(|m| m.content.as_str()).collect();
        if !all.contains("**UPDATED STATE:**") {
            return Ok(shaped(r));
        }
        let seed = r.seed.unwrap_or(0).to_string();
        let score = block_sd * normal(&[&seed])
            + noise_sd * normal(&[&seed, &r.model])
            + if r.model == "test/other" { effect } else { 0.0 };
        Ok(format!(
            "**UPDATED STATE:**\nScore: {score:.6}\n\n**KEY CHANGES:**\n- one\n\n**CONSEQUENCES:**\n- a"
        ))
    });
    llm.latency_ms = 50.0;
    llm
}

const HEAD: &str = "experiment_name: t\nbase_scenario: s\noutput_dir: out\nprices:\n  test/model: {prompt: 1.0, completion: 2.0}\n  test/other: {prompt: 1.0, completion: 2.0}\nvariations:\n  - type: scenario_parameter\n    parameter: world_state_model\n    values: [test/model, test/other]\n";

fn store(config: &str) -> MemoryStorage {
    let s = MemoryStorage::new();
    one_turn_scenario(&s);
    s.insert("b.yaml", config);
    s
}

fn seed_of(store: &MemoryStorage, run: &str) -> u64 {
    json(store, &format!("out/runs/{run}/scenario-state.json"))["seed"]
        .as_u64()
        .unwrap()
}

fn score_of(store: &MemoryStorage, run: &str) -> Option<f64> {
    let path = format!("out/runs/{run}/metrics.json");
    block_on(store.read(&path)).unwrap()?;
    json(store, &path)["final_metrics"]["score"].as_f64()
}

#[test]
fn paired_runs_share_their_seed_and_unpaired_runs_do_not() {
    for (pairing, shared) in [("", true), ("pairing: none\n", false)] {
        let s = store(&format!(
            "{HEAD}runs_per_variation: 3\nmax_parallel: 2\n{pairing}"
        ));
        let llm = scored_llm(0.0, 1.0, 1.0);
        let o = run_sim_batch(&s, &llm, &BatchOptions::default(), &Recorder::default());
        assert_eq!(o.totals.runs_completed, 6);
        for k in 1..=3 {
            let (a, b) = (
                seed_of(&s, &format!("var-001-run-{k:03}")),
                seed_of(&s, &format!("var-002-run-{k:03}")),
            );
            assert_eq!(a == b, shared, "run {k}: {a} {b} ({pairing:?})");
            let spec = &json(
                &s,
                &format!("out/runs/var-002-run-{k:03}/scenario-state.json"),
            )["spec"];
            assert_eq!(spec["block"].as_u64(), shared.then_some(k));
        }
        assert_ne!(
            seed_of(&s, "var-001-run-001"),
            seed_of(&s, "var-001-run-002")
        );
        let state = json(&s, "out/batch-state.json");
        assert_eq!(
            state["fingerprint"]["pairing"],
            if shared { "paired" } else { "none" }
        );
    }
}

#[test]
fn a_resume_cannot_change_the_pairing_or_the_stopping_rule() {
    let s = store(&format!("{HEAD}runs_per_variation: 2\n"));
    let llm = scored_llm(0.0, 1.0, 1.0);
    let rec = Recorder::default();
    rec.stop_after_finished.set(Some(1));
    run_sim_batch(&s, &llm, &BatchOptions::default(), &rec);
    let resume = BatchOptions {
        resume: true,
        ..Default::default()
    };
    for changed in [
        "pairing: none\n",
        "stopping: {metric: score, target_half_width: 1}\n",
    ] {
        s.insert("b.yaml", &format!("{HEAD}runs_per_variation: 2\n{changed}"));
        let err = try_sim_batch(&s, &llm, &resume, &Recorder::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("pairing") || err.contains("stopping rule changed"),
            "{err}"
        );
    }
}

/// The 95% t half-width of values, computed here from its definition.
fn half_width(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    // t quantiles (0.975) for the degrees of freedom these tests meet.
    let t = match values.len() - 1 {
        4 => 2.776445105,
        5 => 2.570581836,
        6 => 2.446911851,
        7 => 2.364624252,
        8 => 2.306004135,
        9 => 2.262157163,
        10 => 2.228138852,
        11 => 2.200985160,
        12 => 2.178812830,
        13 => 2.160368656,
        14 => 2.144786688,
        15 => 2.131449546,
        16 => 2.119905299,
        17 => 2.109815578,
        18 => 2.100922040,
        19 => 2.093024054,
        df => panic!("no quantile for {df} df"),
    };
    t * sd / n.sqrt()
}

#[test]
fn a_precision_rule_stops_each_variation_at_the_first_round_its_interval_is_narrow_enough() {
    // var-002's noise is four times var-001's: it needs about sixteen times the runs.
    let cfg = format!(
        "{HEAD}runs_per_variation: 20\nmax_parallel: 1\nstopping:\n  metric: score\n  target_half_width: 1.0\n"
    );
    let s = store(&cfg);
    let mut llm = scored_llm(0.0, 0.0, 1.0);
    let inner = std::mem::replace(&mut llm.respond, Box::new(|_, _| Ok(String::new())));
    llm.respond = Box::new(move |n, r| {
        let text = inner(n, r)?;
        if r.model != "test/other" {
            return Ok(text);
        }
        // Scale var-002's score by 4.
        Ok(match text.split_once("Score: ") {
            Some((head, rest)) => {
                let (num, tail) = rest.split_once('\n').unwrap();
                format!(
                    "{head}Score: {:.6}\n{tail}",
                    4.0 * num.parse::<f64>().unwrap()
                )
            }
            None => text,
        })
    });
    let rec = Recorder::default();
    let o = run_sim_batch(&s, &llm, &BatchOptions::default(), &rec);
    let stopped: Vec<(u64, u32)> = o
        .stopped
        .iter()
        .map(|s| (s.variation_id, s.after_runs))
        .collect();
    assert!(!stopped.is_empty(), "var-001 reaches ±1 within 20 runs");
    for (v, after) in &stopped {
        // Independently: the rule stopped at the first round from 5 on whose half-width is ≤ 1.
        let values = |n: u32| -> Vec<f64> {
            (1..=n)
                .map(|k| score_of(&s, &format!("var-{v:03}-run-{k:03}")).unwrap())
                .collect()
        };
        assert!(half_width(&values(*after)) <= 1.0);
        for n in 5..*after {
            assert!(
                half_width(&values(n)) > 1.0,
                "var-{v:03} should have stopped at {n}"
            );
        }
        // max_parallel 1: no run after the stop was started.
        for k in after + 1..=20 {
            assert!(block_on(s.read(&format!(
                "out/runs/var-{v:03}-run-{k:03}/scenario-state.json"
            )))
            .unwrap()
            .is_none());
        }
    }
    assert!(
        stopped.iter().all(|(v, _)| *v == 1) || stopped.len() == 2,
        "{stopped:?}"
    );
    let not_needed: u64 = stopped.iter().map(|(_, a)| u64::from(20 - a)).sum();
    assert_eq!(o.totals.runs_not_needed, not_needed);
    assert_eq!(o.totals.runs_pending, 0);
    let record = &json(&s, "out/batch-state.json")["stopping"];
    assert_eq!(record["rule"]["rule"], "precision");
    assert_eq!(record["stopped"].as_array().unwrap().len(), stopped.len());
    let events = rec.events.borrow();
    let stop_events: Vec<&Value> = events.iter().filter(|e| e["type"] == "stopped").collect();
    assert_eq!(stop_events.len(), stopped.len());
    assert!(stop_events[0]["data"]["message"]
        .as_str()
        .unwrap()
        .contains("stopped after"));
}

fn sequential_config(runs: u32, looks: u32, parallel: u32) -> String {
    format!(
        "{HEAD}runs_per_variation: {runs}\nmax_parallel: {parallel}\nsave_individual_runs: false\naggregate_metrics: false\nstopping:\n  compare: [var-001, var-002]\n  metric: score\n  looks: {looks}\n"
    )
}

#[test]
fn a_group_sequential_design_takes_each_look_on_exactly_its_rounds_and_resumes_to_the_same_decision(
) {
    let cfg = sequential_config(20, 5, 4);
    // A large effect: decided at an early look.
    let whole = store(&cfg);
    let llm = scored_llm(2.0, 1.0, 1.0);
    let o = run_sim_batch(&whole, &llm, &BatchOptions::default(), &Recorder::default());
    let record = json(&whole, "out/batch-state.json")["stopping"].clone();
    let looks = record["looks"].as_array().unwrap();
    let last = looks.last().unwrap();
    assert_eq!(last["decision"], "efficacy", "{record}");
    assert!(looks.len() < 5);
    let after = last["runs"].as_u64().unwrap();
    assert_eq!(after, 4 * looks.len() as u64);
    // Exactly the looks' rounds ran: the barrier held even with 4 runs in flight.
    assert_eq!(o.totals.runs_completed, 2 * after);
    assert_eq!(o.totals.runs_not_needed, 2 * (20 - after));
    for l in looks {
        assert!(l["z"].as_f64().is_some());
        assert_eq!(l["pairs"], l["runs"]);
    }
    let p = last["p_adjusted"].as_f64().unwrap();
    assert!(p > 0.0 && p < 0.05, "{p}");

    // The same batch stopped after each finished run, then resumed: the same looks.
    for stop_at in [1, 3, 5, 7] {
        let s = store(&cfg);
        let llm = scored_llm(2.0, 1.0, 1.0);
        let rec = Recorder::default();
        rec.stop_after_finished.set(Some(stop_at));
        run_sim_batch(&s, &llm, &BatchOptions::default(), &rec);
        let resumed = run_sim_batch(
            &s,
            &llm,
            &BatchOptions {
                resume: true,
                ..Default::default()
            },
            &Recorder::default(),
        );
        assert_eq!(
            json(&s, "out/batch-state.json")["stopping"],
            record,
            "stopped after {stop_at} runs"
        );
        assert_eq!(resumed.totals.runs_completed, o.totals.runs_completed);
    }
}

/// One simulated experiment: (rejected, runs used by both compared variations).
fn experiment(seed: u64, effect: f64) -> (bool, u64) {
    let s = store(&sequential_config(20, 5, 8));
    let llm = scored_llm(effect, 1.0, 1.0);
    let o: BatchOutcome = run_sim_batch(
        &s,
        &llm,
        &BatchOptions {
            fresh_seed: seed,
            ..Default::default()
        },
        &Recorder::default(),
    );
    let record = json(&s, "out/batch-state.json")["stopping"].clone();
    let decision = record["looks"].as_array().unwrap().last().unwrap()["decision"].clone();
    (decision == "efficacy", o.totals.runs_completed)
}

/// 2,000 simulated experiments under no effect and 2,000 under the design's planned effect,
/// each a whole batch through the runner: the type I error stays within alpha, the power at
/// the planned effect is kept (both within twice their Monte Carlo error), and on average over
/// the two the design uses at most 70% of the runs of the fixed design (every variation run
/// `runs_per_variation` times).
#[test]
fn a_sequential_design_keeps_its_error_rates_and_saves_runs_over_2000_experiments() {
    const N: usize = 2000;
    let planned = {
        let s = store(&sequential_config(20, 5, 8));
        let llm = scored_llm(0.0, 1.0, 1.0);
        let rec = Recorder::default();
        rec.stop_after_finished.set(Some(0));
        run_sim_batch(&s, &llm, &BatchOptions::default(), &rec);
        json(&s, "out/batch-state.json")["stopping"]["planned_effect"]
            .as_f64()
            .unwrap()
    };
    // d_z is the effect over the sd of the differences, here √2 (unit noise in each arm).
    let effect = planned * std::f64::consts::SQRT_2;
    let fixed_runs = (N * 40) as f64;
    // The two hypotheses on the machine's two cores.
    let summary: Vec<(&str, f64, f64)> = std::thread::scope(|scope| {
        let jobs: Vec<_> = [("no effect", 0.0), ("planned effect", effect)]
            .into_iter()
            .map(|(label, effect)| {
                scope.spawn(move || {
                    let (mut rejected, mut runs) = (0usize, 0u64);
                    for case in 0..N {
                        let (r, n) = experiment(case as u64 * 7919 + 1, effect);
                        rejected += usize::from(r);
                        runs += n;
                    }
                    let (rate, share) = (rejected as f64 / N as f64, runs as f64 / fixed_runs);
                    eprintln!("{label}: rejected {rejected}/{N} ({rate:.4}), runs {runs} ({:.1}% of the fixed design's)", share * 100.0);
                    (label, rate, share)
                })
            })
            .collect();
        jobs.into_iter().map(|j| j.join().unwrap()).collect()
    });
    let mc = |p: f64| (p * (1.0 - p) / N as f64).sqrt();
    let (_, alpha_hat, null_share) = summary[0];
    let (_, power_hat, alt_share) = summary[1];
    assert!(
        alpha_hat <= 0.05 + 2.0 * mc(0.05),
        "type I error {alpha_hat}"
    );
    assert!(power_hat >= 0.8 - 2.0 * mc(0.8), "power {power_hat}");
    // On average over the two hypotheses the issue names.
    let mean_share = (null_share + alt_share) / 2.0;
    assert!(
        mean_share <= 0.7,
        "runs used: {null_share} under no effect, {alt_share} under the planned effect"
    );
}

#[test]
fn a_batch_with_a_stopping_rule_is_not_sharded() {
    let s = store(&sequential_config(10, 2, 2));
    let llm = scored_llm(0.0, 1.0, 1.0);
    let opts = BatchOptions {
        shard: Some(scenario_lab::batch::Shard::new(1, 2).unwrap()),
        ..Default::default()
    };
    let err = try_sim_batch(&s, &llm, &opts, &Recorder::default()).unwrap_err();
    assert!(err.to_string().contains("cannot be sharded"), "{err}");
    assert!(block_on(s.read("out/batch-state.json")).unwrap().is_none());
}
