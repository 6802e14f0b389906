//! The estimate that learns (issue 10, item 5): after a pilot or a stopped batch, the cost of the
//! rest is estimated from the recorded tokens per role and model. Driven in simulated time with
//! a scripted LLM whose replies vary in length by role (and from call to call), priced by
//! tokens, so that what a run costs depends on what the model says.
mod common;

use common::block_on;
use common::sim::{batch_config, run_sim_batch, shaped, ScriptedLlm, VirtualClock};
use scenario_lab::batch::{BatchOptions, BatchOutcome, Control};
use scenario_lab::host::{ChatRequest, MemoryStorage};
use scenario_lab::plan::calibrate::{
    calibrate, calibrate_batch, parse_run, render_calibration, render_with, Basis, Calibration,
    TokenSource,
};
use scenario_lab::plan::{plan, Role};
use scenario_lab::pricing::PriceBook;
use scenario_lab::schema::BatchEvent;

struct Quiet;

impl Control for Quiet {
    fn emit(&self, _: BatchEvent) {}
    fn stop_requested(&self) -> bool {
        false
    }
}

/// The quick negotiation on priced hosted models, with bilateral talks (whose number varies
/// from run to run: an actor opens one only when its reply says so).
fn store_with(config: &str) -> MemoryStorage {
    let s = MemoryStorage::new();
    common::quick_negotiation(&s, "s", |t| {
        let t = t.replace("builtin/simulator", "test/model");
        if t.contains("turns: 3") {
            format!("{t}\nenable_bilateral_communication: true\nmax_communications_per_turn: 2\n")
        } else {
            t
        }
    });
    s.insert("b.yaml", config);
    s
}

const HEAD: &str = "experiment_name: t\nbase_scenario: s\noutput_dir: out\nmax_parallel: 3\nprices:\n  test/model: {prompt: 1.0, completion: 4.0}\n  test/other: {prompt: 3.0, completion: 15.0}\n";

/// Completion tokens (min, max) by role, far from the built-in token model's expectations
/// (400 for a decision, 600 for a world update, 150 for a message) and within the default caps.
fn reply_tokens(role: Role) -> (u64, u64) {
    match role {
        Role::Actor => (500, 750),
        Role::World => (80, 300),
        Role::Communication => (150, 280),
        Role::Check => (60, 200),
        Role::Summary => (150, 350),
        Role::Metric => (0, 0),
    }
}

/// The role a prompt plays, read as `shaped` reads it.
fn role_of(r: &ChatRequest) -> Role {
    let all: Vec<&str> = r.messages.iter().map(|m| m.content.as_str()).collect();
    let user = all.join("\n");
    if r.messages[0].content.contains("metrics extraction") {
        Role::Metric
    } else if user.contains("**PASSED:**") {
        Role::Check
    } else if user.contains("**UPDATED STATE:**") {
        Role::World
    } else if [
        "**INITIATE_BILATERAL:**",
        "**DECISION:**",
        "**RESPONSE:**",
        "**MESSAGE:**",
    ]
    .iter()
    .any(|t| user.contains(t))
    {
        Role::Communication
    } else if user.contains("**ACTION:**") {
        Role::Actor
    } else {
        Role::Summary
    }
}

/// `shaped`, padded at its end to a length drawn (from the request itself, so a resumed run
/// gets the same answer) within its role's range; a third of the bilateral openings say no.
fn reply(r: &ChatRequest) -> String {
    let all: Vec<&str> = r.messages.iter().map(|m| m.content.as_str()).collect();
    let h = scenario_lab::rng::fnv1a(&all);
    let mut text = shaped(r);
    if text.starts_with("**INITIATE_BILATERAL:** yes") && h % 3 == 0 {
        text = "**INITIATE_BILATERAL:** no\n**REASONING:** not now".to_string();
    }
    let (lo, hi) = reply_tokens(role_of(r));
    if hi > 0 {
        let want = lo + (h >> 8) % (hi - lo + 1);
        while (text.len() as u64) < want * 4 {
            text.push_str(" more");
        }
    }
    text
}

fn batch(store: &MemoryStorage, llm: &ScriptedLlm, opts: &BatchOptions) -> BatchOutcome {
    run_sim_batch(store, llm, opts, &Quiet)
}

fn estimate(store: &MemoryStorage) -> Calibration {
    let (cfg, _) = batch_config(store);
    block_on(calibrate_batch(store, &cfg, &PriceBook::new(&cfg.prices))).unwrap()
}

fn llm() -> ScriptedLlm {
    let mut llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(reply(r)));
    llm.cost_per_call = None; // priced from tokens: a longer reply costs more
    llm
}

fn error(estimated: f64, actual: f64) -> f64 {
    (estimated - actual) / actual
}

const TWO_MODELS: &str = "variations:\n  - type: actor_model\n    actor: council\n    values: [test/model, test/other]\n";

/// The target: after a pilot of 2 runs per variation, the estimate of the other 16 runs is
/// within 15% of what they then cost (it is computed from 4 runs, so it is an estimate, not a
/// replay: the runs differ in their talks and reply lengths).
#[test]
fn after_a_pilot_the_rest_costs_what_was_estimated() {
    let store = store_with(&format!("{HEAD}runs_per_variation: 10\n{TWO_MODELS}"));
    let llm = llm();
    let before = estimate(&store);
    assert_eq!(before.basis, Basis::BuiltIn);
    assert_eq!(
        before.basis_text,
        "built-in token model (no run recorded yet)"
    );
    assert_eq!(before.remaining_runs, 20);

    let pilot = batch(
        &store,
        &llm,
        &BatchOptions {
            pilot: Some(2),
            ..Default::default()
        },
    );
    assert_eq!(pilot.totals.runs_completed, 4, "{pilot:?}");
    let c = estimate(&store);
    assert_eq!(c.basis, Basis::Calibrated);
    assert_eq!(c.runs_completed, 4);
    assert_eq!(c.remaining_runs, 16);
    assert!(
        c.basis_text.ends_with("recorded calls in 4 runs"),
        "{}",
        c.basis_text
    );
    assert_eq!(c.spent_nanos, pilot.totals.total_spent_nanos);
    let est = c.remaining_cost.unwrap();
    assert!(
        est.low <= est.expected && est.expected <= est.high,
        "{est:?}"
    );

    // What the dry run and the pilot print.
    let (cfg, _) = batch_config(&store);
    let p = plan(&cfg, &PriceBook::new(&cfg.prices));
    let dry = render_with(&p, Some(&c), false);
    for line in [
        "  Basis          built-in token model (the rest of the batch is estimated below)",
        "  Done           4 of 20 runs completed; ",
        "  Remaining      16 runs\n",
        "To run the rest:\n  npx scenario-lab run b.yaml --resume\n",
    ] {
        assert!(dry.contains(line), "no {line:?} in:\n{dry}");
    }
    assert!(dry.contains(&format!("The rest of the batch ({})", c.basis_text)));
    let alone = render_calibration(&c, false);
    assert!(
        alone.starts_with("The rest of the batch (calibrated from "),
        "{alone}"
    );
    assert!(!alone.contains("Plan:"));
    let fresh = render_with(&p, Some(&before), false);
    assert!(
        fresh.contains("  Basis          built-in token model (no run recorded yet)\n"),
        "{fresh}"
    );
    assert!(!fresh.contains("The rest of the batch"));

    let rest = batch(
        &store,
        &llm,
        &BatchOptions {
            resume: true,
            ..Default::default()
        },
    );
    assert_eq!(rest.totals.runs_completed, 20);
    let actual = (rest.totals.total_spent_nanos - pilot.totals.total_spent_nanos) as f64 / 1e9;
    let e = error(est.expected, actual);
    let built_in = c.built_in_remaining_cost.unwrap().expected;
    println!(
        "pilot 2 of 10 runs per variation: the rest cost ${actual:.6}; estimated ${:.6} ({:+.1}%), range ${:.6}..${:.6}; the built-in token model said ${built_in:.6} ({:+.1}%)",
        est.expected,
        e * 100.0,
        est.low,
        est.high,
        error(built_in, actual) * 100.0
    );
    assert!(e.abs() <= 0.15, "estimate off by {:.1}%", e * 100.0);
    assert!(
        est.low <= actual && actual <= est.high,
        "{actual} outside {est:?}"
    );
    let done = estimate(&store);
    assert_eq!(done.remaining_runs, 0);
    assert_eq!(done.remaining_cost.unwrap().expected, 0.0);
}

/// A batch stopped by its budget leaves runs halted part-way: each counts for its missing
/// turns only, and the estimate of the rest still holds when the batch goes on.
#[test]
fn after_a_budget_stop_the_halted_runs_count_for_what_they_miss() {
    let store = store_with(&format!(
        "{HEAD}runs_per_variation: 8\nbudget_limit: 0.6\n{TWO_MODELS}"
    ));
    let llm = llm();
    let stopped = batch(&store, &llm, &BatchOptions::default());
    assert_eq!(
        stopped.stop_reason,
        Some(scenario_lab::schema::StopReason::Budget),
        "{stopped:?}"
    );
    assert!(stopped.totals.runs_completed >= 2, "{stopped:?}");
    let c = estimate(&store);
    assert_eq!(c.basis, Basis::Calibrated);
    assert_eq!(c.remaining_runs, 16 - stopped.totals.runs_completed);
    let est = c.remaining_cost.unwrap().expected;
    let budget = c.budget_message.clone().unwrap();
    assert!(budget.contains("of $0.60 spent"), "{budget}");
    let text = render_calibration(&c, false);
    assert!(
        text.contains(&format!(
            "{} of them partly done: only their missing turns are counted",
            c.runs_partial
        )),
        "{text}"
    );
    let rest = batch(
        &store,
        &llm,
        &BatchOptions {
            resume: true,
            budget_limit: Some(100.0),
            ..Default::default()
        },
    );
    assert_eq!(rest.totals.runs_completed, 16);
    let actual = (rest.totals.total_spent_nanos - stopped.totals.total_spent_nanos) as f64 / 1e9;
    let e = error(est, actual);
    println!(
        "budget stop after {} completed and {} part-way: the rest cost ${actual:.6}, estimated ${est:.6} ({:+.1}%)",
        c.runs_completed,
        c.runs_partial,
        e * 100.0
    );
    assert!(e.abs() <= 0.15, "estimate off by {:.1}%", e * 100.0);
}

/// Before any run, the estimate of the rest is the plan's own estimate of the whole batch.
#[test]
fn with_no_run_the_rest_is_the_plans_estimate() {
    let store = store_with(&format!("{HEAD}runs_per_variation: 3\n{TWO_MODELS}"));
    let (cfg, _) = batch_config(&store);
    let book = PriceBook::new(&cfg.prices);
    let c = estimate(&store);
    let p = plan(&cfg, &book);
    let (a, b) = (c.remaining_cost.unwrap(), p.cost_total.unwrap());
    for (x, y) in [(a.low, b.low), (a.expected, b.expected), (a.high, b.high)] {
        assert!((x - y).abs() <= 1e-9 * y.max(1.0), "{a:?} vs {b:?}");
    }
    assert_eq!(c.remaining_runs, 6);
    assert_eq!(c.spent, 0.0);
    assert!(c.tokens.is_empty());
}

fn call(role: &str, model: &str, turn: u32, prompt: u64, completion: u64) -> String {
    format!(
        r#"{{"role":"{role}","model":"{model}","turn":{turn},"prompt_tokens":{prompt},"completion_tokens":{completion},"cost_nanos":1}}"#
    )
}

/// By hand: one completed run of the base model; the other variation (a dearer council model,
/// never recorded) is priced from the role's recorded tokens at its own price.
#[test]
fn an_unrecorded_model_is_priced_from_its_roles_tokens() {
    let store = store_with(&format!("{HEAD}runs_per_variation: 2\n{TWO_MODELS}"));
    let (mut cfg, _) = batch_config(&store);
    // No talks, so the run is 3 turns x (2 decisions + 1 world update).
    cfg.scenario.communication.bilateral = false;
    cfg.scenario.communication.coalitions = false;
    let book = PriceBook::new(&cfg.prices);
    let mut log = Vec::new();
    for turn in 1..=3 {
        log.push(call("actor", "test/model", turn, 1000, 300));
        log.push(call("actor", "test/model", turn, 1000, 300));
        log.push(call("world", "test/model", turn, 2000, 500));
    }
    let run = parse_run(
        "var-001-run-001",
        Some(r#"{"status":"completed","current_turn":3}"#),
        Some(&log.join("\n")),
        None,
    )
    .unwrap();
    let c = calibrate(&cfg, &book, &[run]);
    // var-001 (council and swiftride on test/model at $1/$4 per M):
    //   actor 6 x (1000 + 4 x 300) = 13,200; world 3 x (2000 + 4 x 500) = 12,000 micro-USD.
    // var-002 (council on test/other at $3/$15): its 3 council decisions are priced from the
    //   actor role's tokens: 3 x (3 x 1000 + 15 x 300) = 22,500; swiftride 6,600; world 12,000.
    let var1 = 13_200e-6 + 12_000e-6;
    let var2 = 22_500e-6 + 6_600e-6 + 12_000e-6;
    let expected = var1 + 2.0 * var2;
    let got = c.remaining_cost.unwrap().expected;
    assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
    assert_eq!(c.remaining_runs, 3);
    assert_eq!(c.calls_recorded, 9);
    let actor = c.roles.iter().find(|r| r.role == Role::Actor).unwrap();
    assert_eq!(
        actor.tokens,
        TokenSource::Role,
        "test/other's decisions were never recorded"
    );
    assert!(
        c.notes.iter().any(|n| n.contains("too few completed runs")),
        "{:?}",
        c.notes
    );
}

/// A run halted after turn 1 of 3 counts for the share its later turns cost in completed runs,
/// less what it recorded of turn 2 (a resume replays that for free).
#[test]
fn a_halted_run_counts_its_missing_turns_at_their_cost() {
    let store = store_with(&format!("{HEAD}runs_per_variation: 2\n"));
    let (mut cfg, _) = batch_config(&store);
    cfg.scenario.communication.bilateral = false;
    let book = PriceBook::new(&cfg.prices);
    // A completed run whose turns cost 1 : 2 : 3 (one world update each, at $1/M prompt).
    let done: Vec<String> = (1..=3)
        .map(|t| call("world", "test/model", t, 1000 * u64::from(t), 0))
        .collect();
    let completed = parse_run(
        "var-001-run-001",
        Some(r#"{"status":"completed","current_turn":3}"#),
        Some(&done.join("\n")),
        None,
    )
    .unwrap();
    let halted = parse_run(
        "var-001-run-002",
        Some(r#"{"status":"halted","current_turn":1}"#),
        Some(
            &[
                call("world", "test/model", 1, 1000, 0),
                call("world", "test/model", 2, 2000, 0),
            ]
            .join("\n"),
        ),
        None,
    )
    .unwrap();
    let c = calibrate(&cfg, &book, &[completed, halted]);
    // A run: 3 world updates at the mean 2000 (completed run) prompt tokens = 6,000 micro-USD.
    // The halted run has done 1/6 of it (turn 1's share) plus one recorded call of turn 2
    // (2,000 at the mean): 6,000 x (1 - 1/6) - 2,000 = 3,000.
    let got = c.remaining_cost.unwrap().expected;
    assert!((got - 3_000e-6).abs() < 1e-12, "{got}");
    assert_eq!((c.remaining_runs, c.runs_partial), (1, 1));
}

/// The same over 20 batch seeds (different pilots, different rests): every estimate within 15%,
/// and the actual cost of the rest inside the stated range (a 95% range, from 4 runs: at least
/// 18 of the 20).
#[test]
fn after_a_pilot_the_estimate_holds_whatever_the_seed() {
    let mut errors = Vec::new();
    let mut outside = Vec::new();
    for seed in 1..=20u64 {
        let store = store_with(&format!("{HEAD}runs_per_variation: 10\n{TWO_MODELS}"));
        let llm = llm();
        let pilot = BatchOptions {
            pilot: Some(2),
            fresh_seed: seed,
            ..Default::default()
        };
        let p = batch(&store, &llm, &pilot);
        let c = estimate(&store);
        let resume = BatchOptions {
            resume: true,
            ..Default::default()
        };
        let r = batch(&store, &llm, &resume);
        let actual = (r.totals.total_spent_nanos - p.totals.total_spent_nanos) as f64 / 1e9;
        let est = c.remaining_cost.unwrap();
        if !(est.low <= actual && actual <= est.high) {
            outside.push(format!("seed {seed}: {actual} outside {est:?}"));
        }
        errors.push(error(est.expected, actual));
    }
    assert!(outside.len() <= 2, "{outside:#?}");
    let worst = errors.iter().fold(0.0f64, |m, e| m.max(e.abs()));
    let mean = errors.iter().map(|e| e.abs()).sum::<f64>() / errors.len() as f64;
    println!(
        "20 seeds, pilot 2 of 10 runs per variation: mean |error| {:.1}%, worst {:.1}%",
        mean * 100.0,
        worst * 100.0
    );
    assert!(worst <= 0.15, "worst error {:.1}%", worst * 100.0);
}
