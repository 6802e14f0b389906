//! Our own example scenarios, experiments and format fixtures load cleanly, and every input
//! format the original tool's files use is read the way it was meant (issue 2, item 3).
mod common;

use common::{block_on, project_root, DiskStorage};
use scenario_lab::config::{
    load_batch, load_scenario, Condition, DimensionKind, EventKind, Extraction, Scenario, Scoring,
    ValueType,
};

fn scenario(dir: &str) -> Scenario {
    let s = DiskStorage::new(project_root());
    let loaded = block_on(load_scenario(&s, dir)).unwrap_or_else(|e| panic!("{dir}:\n{e}"));
    assert!(
        loaded.warnings.is_empty(),
        "{dir} has warnings: {:#?}",
        loaded.warnings
    );
    loaded.value
}

#[test]
fn our_examples_load_without_a_warning() {
    for dir in ["scenarios/quick-negotiation", "scenarios/city-ai-rollout"] {
        scenario(dir);
    }
    let s = DiskStorage::new(project_root());
    for exp in [
        "quick-start",
        "model-comparison",
        "sensitivity-2x2",
        "robustness",
        "parameter-sweep",
        "paired-comparison",
        "sequential-stop",
        "intervention",
        "sharded",
    ] {
        let path = format!("experiments/{exp}/batch-config.yaml");
        let loaded = block_on(load_batch(&s, &path)).unwrap_or_else(|e| panic!("{path}:\n{e}"));
        assert!(loaded.warnings.is_empty(), "{path}: {:#?}", loaded.warnings);
    }
}

#[test]
fn the_four_actor_example_uses_every_metric_and_event_type() {
    let s = scenario("scenarios/city-ai-rollout");
    assert_eq!(s.actors.len(), 4);
    let kinds: Vec<&str> = s
        .metrics
        .iter()
        .map(|m| match m.extraction {
            Extraction::Pattern { .. } => "pattern",
            Extraction::Keyword { .. } => "keyword",
            Extraction::Llm { .. } => "llm",
            Extraction::Manual => "manual",
        })
        .collect();
    for k in ["pattern", "keyword", "llm"] {
        assert!(kinds.contains(&k), "{kinds:?}");
    }
    let events: Vec<&str> = s
        .events
        .iter()
        .map(|e| match e.kind {
            EventKind::Trend { .. } => "trend",
            EventKind::Random { .. } => "random",
            EventKind::Conditional { .. } => "conditional",
            EventKind::Scheduled { .. } => "scheduled",
        })
        .collect();
    assert_eq!(events, ["trend", "random", "conditional", "scheduled"]);
    assert!(s
        .checks
        .as_ref()
        .unwrap()
        .checks
        .iter()
        .all(|c| c.prompt_template.is_some()));
    assert!(s.communication.bilateral && s.communication.coalitions);
    assert_eq!(s.background_docs.len(), 2);
}

#[test]
fn dict_metrics_and_aliases() {
    let s = scenario("tests/fixtures/scenarios/dict-metrics");
    assert_eq!(
        (s.turns, s.context_window_size),
        (2, 2),
        "num_turns and context_window are aliases"
    );
    let council = &s.actors[s.find_actor("city-council").unwrap()];
    assert_eq!(
        council.short_name, "council",
        "listed by file stem, named by short_name"
    );
    assert_eq!(
        council.model, "builtin/simulator",
        "`model:` is an alias of llm_model"
    );
    assert!(council.goals.len() > 1, "goals given as text become a list");
    let operator = &s.actors[s.find_actor("operator").unwrap()];
    assert!(
        operator.decision_style.is_some(),
        "decision_making_style is an alias"
    );
    let by_name = |n: &str| {
        s.metrics
            .iter()
            .find(|m| m.name == n)
            .unwrap_or_else(|| panic!("no metric {n}"))
    };
    assert_eq!(
        by_name("moratorium_proposed").value_type,
        ValueType::Boolean
    );
    assert_eq!(by_name("siting_zone").value_type, ValueType::Text);
    assert!(matches!(
        by_name("council_satisfaction").extraction,
        Extraction::Manual
    ));
    let specific = s
        .metrics
        .iter()
        .find(|m| m.actor_specific && m.actor.is_some())
        .expect("an actor-specific metric");
    assert!(
        s.find_actor(specific.actor.as_deref().unwrap()).is_some(),
        "the actor's full name resolves to its short_name"
    );
    assert!(s
        .checks
        .unwrap()
        .checks
        .iter()
        .any(|c| c.prompt_template.is_some()));
}

#[test]
fn list_metrics_events_under_definition_and_features() {
    let s = scenario("tests/fixtures/scenarios/list-metrics");
    assert_eq!(s.turns, 3, "scenario_length.turns");
    assert!(s.communication.bilateral, "features.communications.enabled");
    assert_eq!(
        s.communication.max_per_turn, 1,
        "features.communications.max_per_turn"
    );
    assert!(s.background_information.is_some());
    let scorings: Vec<Scoring> = s
        .metrics
        .iter()
        .filter_map(|m| match &m.extraction {
            Extraction::Keyword { scoring, .. } => Some(*scoring),
            _ => None,
        })
        .collect();
    for sc in [Scoring::Count, Scoring::Presence, Scoring::Density] {
        assert!(scorings.contains(&sc), "{scorings:?}");
    }
    assert!(
        s.metrics.iter().any(
            |m| matches!(&m.extraction, Extraction::Pattern { patterns } if patterns.len() > 1)
        ),
        "extraction.patterns"
    );
    assert!(s.metrics.iter().any(|m| matches!(&m.extraction, Extraction::Keyword { patterns, .. } if !patterns.is_empty())), "keyword with patterns");
    assert!(s
        .metrics
        .iter()
        .any(|m| m.value_type == ValueType::Categorical && !m.categories.is_empty()));
    assert_eq!(s.events.len(), 4, "events under definition/");
    let checks = s.checks.unwrap();
    assert!(checks.checks.iter().all(|c| c.prompt_template.is_none()));
    assert!(checks.checks.iter().any(|c| !c.enabled));
}

#[test]
fn sectioned_events_mean_what_they_say() {
    let s = scenario("tests/fixtures/scenarios/free-form-events");
    assert!(s.events.iter().any(|e| matches!(&e.kind, EventKind::Conditional { conditions } if conditions.iter().any(|c| matches!(c, Condition::WorldStateContains { .. })))));
    assert!(s.events.iter().any(|e| matches!(&e.kind, EventKind::Conditional { conditions } if conditions.iter().any(|c| matches!(c, Condition::Metric { .. })))));
    assert!(s
        .events
        .iter()
        .any(|e| matches!(&e.kind, EventKind::Scheduled { turns } if turns == &vec![2])));
    assert!(s
        .events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Random { .. }) && e.turn_range.is_some()));
    assert_eq!(s.background_docs.len(), 1);
}

#[test]
fn batch_fixtures_cover_every_variation_form() {
    let s = DiskStorage::new(project_root());
    let v2 = block_on(load_batch(
        &s,
        "tests/fixtures/experiments/v2-shorthand/batch-config.yaml",
    ))
    .unwrap_or_else(|e| panic!("{e}"))
    .value;
    assert_eq!(v2.variations.len(), 1, "actor_models shorthand");
    assert!(
        matches!(&v2.variations[0].kind, DimensionKind::ActorModel { actor } if actor == "council")
    );
    let all = block_on(load_batch(
        &s,
        "tests/fixtures/experiments/all-types/batch-config.yaml",
    ))
    .unwrap_or_else(|e| panic!("{e}"))
    .value;
    let kinds: Vec<&str> = all
        .variations
        .iter()
        .map(|d| match d.kind {
            DimensionKind::ActorModel { .. } => "actor_model",
            DimensionKind::ScenarioParameter { .. } => "scenario_parameter",
            DimensionKind::ActorParameter { .. } => "actor_parameter",
            DimensionKind::Intervention { .. } => "intervention",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "actor_model",
            "scenario_parameter",
            "actor_parameter",
            "intervention"
        ]
    );
    assert!(!all.prices.is_empty());
    assert!(all.budget_limit.is_some() && all.cost_per_run_limit.is_some());
}
