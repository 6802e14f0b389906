//! Planning our example experiments: counts, ids, verdicts, and a space too large to list.
mod common;

use common::{block_on, project_root, DiskStorage};
use scenario_lab::config::load_batch;
use scenario_lab::host::MemoryStorage;
use scenario_lab::plan::{plan, EXACT_LIMIT};
use scenario_lab::pricing::PriceBook;
use scenario_lab::schema::BudgetStatus;

fn planned(path: &str) -> scenario_lab::plan::Plan {
    let s = DiskStorage::new(project_root());
    let cfg = block_on(load_batch(&s, path))
        .unwrap_or_else(|e| panic!("{e}"))
        .value;
    plan(&cfg, &PriceBook::new(&cfg.prices))
}

#[test]
fn quick_start_is_three_free_runs() {
    let p = planned("experiments/quick-start/batch-config.yaml");
    assert_eq!((p.variation_count, p.total_runs), (1, 3));
    assert_eq!(p.cost_total.unwrap().high, 0.0);
    assert_eq!(p.budget.status, BudgetStatus::NoBudget);
    assert_eq!(p.variations[0].variation.description, "Base configuration");
    let (first, last) = p.variations[0].run_ids;
    assert_eq!(
        (first.to_string(), last.to_string()),
        ("var-001-run-001".to_string(), "var-001-run-003".to_string())
    );
}

#[test]
fn sensitivity_is_a_2x2_in_declaration_order() {
    let p = planned("experiments/sensitivity-2x2/batch-config.yaml");
    assert_eq!((p.variation_count, p.total_runs), (4, 40));
    let d: Vec<&str> = p
        .variations
        .iter()
        .map(|v| v.variation.description.as_str())
        .collect();
    assert!(
        d[0].ends_with("=gpt-4o-mini") && d[1].ends_with("=gpt-4o"),
        "{d:?}"
    );
    assert!(p.cost_total.is_some(), "every model has a price");
    assert!(matches!(
        p.budget.status,
        BudgetStatus::Fits | BudgetStatus::Tight | BudgetStatus::Short
    ));
    // Variation 4 uses the dearer model twice, so it costs more than variation 1.
    assert!(
        p.variations[3].cost_per_run.unwrap().expected
            > p.variations[0].cost_per_run.unwrap().expected
    );
}

#[test]
fn the_verdict_counts_affordable_runs() {
    let base = "experiment_name: t\nbase_scenario: s\nruns_per_variation: 40\nprices:\n  m/x: {prompt: 1000, completion: 1000}\nvariations:\n  - type: actor_model\n    actor: council\n    values: [m/x]\n";
    let s = MemoryStorage::with_files([
        (
            "s/scenario.yaml",
            include_str!("../scenarios/quick-negotiation/scenario.yaml"),
        ),
        (
            "s/actors/council.yaml",
            include_str!("../scenarios/quick-negotiation/actors/council.yaml"),
        ),
        (
            "s/actors/swiftride.yaml",
            include_str!("../scenarios/quick-negotiation/actors/swiftride.yaml"),
        ),
    ]);
    s.insert("b.yaml", base);
    let cfg = block_on(load_batch(&s, "b.yaml")).unwrap().value;
    let p0 = plan(&cfg, &PriceBook::new(&cfg.prices));
    let per_run = p0.cost_per_run.unwrap().expected;
    // A budget of 37 runs' expected cost allows about 37 of 40.
    s.insert(
        "b.yaml",
        &format!("{base}budget_limit: {}\n", per_run * 37.5),
    );
    let cfg = block_on(load_batch(&s, "b.yaml")).unwrap().value;
    let p = plan(&cfg, &PriceBook::new(&cfg.prices));
    assert_eq!(p.budget.status, BudgetStatus::Short);
    assert_eq!(p.budget.runs_affordable, Some(37));
    assert!(
        p.budget.message.contains("allows about 37 of 40 runs"),
        "{}",
        p.budget.message
    );
}

#[test]
fn a_million_variations_are_planned_from_a_sample() {
    let mut cfg_text = String::from(
        "experiment_name: big\nbase_scenario: scenarios/quick-negotiation\nvariations:\n",
    );
    for (actor, param) in [
        ("council", "temperature"),
        ("swiftride", "temperature"),
        ("council", "top_p"),
        ("swiftride", "top_p"),
        ("council", "max_tokens"),
        ("swiftride", "max_tokens"),
    ] {
        let values: Vec<String> = (1..=10)
            .map(|i| {
                if param == "max_tokens" {
                    format!("{}", i * 50)
                } else {
                    format!("0.{i}").replace("0.10", "1.0")
                }
            })
            .collect();
        cfg_text.push_str(&format!("  - type: actor_parameter\n    actor: {actor}\n    parameter: {param}\n    values: [{}]\n", values.join(", ")));
    }
    let disk = DiskStorage::new(project_root());
    let s = MemoryStorage::new();
    for f in [
        "scenario.yaml",
        "metrics.yaml",
        "actors/council.yaml",
        "actors/swiftride.yaml",
    ] {
        let text = block_on(scenario_lab::host::Storage::read(
            &disk,
            &format!("scenarios/quick-negotiation/{f}"),
        ))
        .unwrap()
        .unwrap();
        s.insert(&format!("scenarios/quick-negotiation/{f}"), &text);
    }
    s.insert("big.yaml", &cfg_text);
    let cfg = block_on(load_batch(&s, "big.yaml"))
        .unwrap_or_else(|e| panic!("{e}"))
        .value;
    let p = plan(&cfg, &PriceBook::new(&cfg.prices));
    assert_eq!(p.variation_count, 1_000_000);
    assert_eq!(p.total_runs, 1_000_000);
    assert_eq!(p.variations_estimated, EXACT_LIMIT);
    assert_eq!(p.variations.len(), 200);
    assert!(!p.variations_listed_all);
    assert!(p.notes.iter().any(|n| n.contains("sampled evenly")));
    let text = scenario_lab::plan::render(&p, false);
    assert!(text.contains("... and 999800 more variations"), "{text}");
    assert!(
        text.contains("Calls per run (expected)\n  6 actor + 3 world = 9 calls (9 to 9)"),
        "{text}"
    );
}

#[test]
fn the_intervention_example_shares_its_first_two_turns_for_free() {
    let p = planned("experiments/intervention/batch-config.yaml");
    assert_eq!((p.variation_count, p.total_runs), (4, 8));
    let sh = p.sharing.clone().expect("an intervention");
    assert_eq!((sh.at_turn, sh.arms, sh.branched_runs), (3, 4, 6));
    assert_eq!(sh.cost_saved.unwrap().high, 0.0);
    assert!(sh.calls_saved > 100.0, "{sh:?}");
    assert_eq!(
        p.unknown_price_models.len(),
        0,
        "every call is the simulator's"
    );
    let text = scenario_lab::plan::render(&p, false);
    assert!(
        text.contains("Shared turns   turns 1-2 are run once per run number"),
        "{text}"
    );
}

/// With an intervention at turn 3 of 3 arms, every arm but the first pays for turn 3 only: the
/// batch costs its runs less the shared turns 1-2 of 2 arms x 5 runs, and the plan says so; the
/// budget verdict reads the shared cost.
#[test]
fn sharing_saves_the_first_turns_of_every_arm_but_the_first() {
    let s = MemoryStorage::new();
    common::quick_negotiation(&s, "s", |t| t.replace("builtin/simulator", "m/x"));
    s.insert("b.yaml", "experiment_name: t\nbase_scenario: s\nruns_per_variation: 5\nprices:\n  m/x: {prompt: 1, completion: 2}\nvariations:\n  - type: intervention\n    at_turn: 3\n    arms:\n      - name: control\n      - name: leak\n        event: \"It leaks.\"\n      - name: storm\n        world_state: \"A storm.\"\n");
    let cfg = block_on(load_batch(&s, "b.yaml"))
        .unwrap_or_else(|e| panic!("{e}"))
        .value;
    let book = PriceBook::new(&cfg.prices);
    let whole = scenario_lab::plan::estimate_run(&cfg.scenario, &book);
    let shared = scenario_lab::plan::estimate_turns(&cfg.scenario, &book, 1..=2);
    let p = plan(&cfg, &book);
    let sh = p.sharing.clone().unwrap();
    assert_eq!(sh.branched_runs, 10);
    assert!((sh.calls_saved - 10.0 * 6.0).abs() < 1e-9, "{sh:?}");
    let (w, x) = (whole.cost.unwrap(), shared.cost.unwrap());
    let saved = sh.cost_saved.unwrap();
    assert!((saved.expected - 10.0 * x.expected).abs() < 1e-12);
    assert!((saved.high - 10.0 * x.high).abs() < 1e-12);
    let total = p.cost_total.unwrap();
    assert!((total.expected - (15.0 * w.expected - 10.0 * x.expected)).abs() < 1e-12);
    assert!((total.high - (15.0 * w.high - 10.0 * x.high)).abs() < 1e-12);
    // The first arm's runs are whole, the others' only turn 3.
    let per_run: Vec<f64> = p
        .variations
        .iter()
        .map(|v| v.cost_per_run.unwrap().expected)
        .collect();
    assert!((per_run[0] - w.expected).abs() < 1e-12);
    assert!((per_run[1] - (w.expected - x.expected)).abs() < 1e-12);
    assert_eq!(p.variations[1].calls_per_run, 3.0);
}
