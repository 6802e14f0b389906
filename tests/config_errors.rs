//! Every kind of bad input gets its own precise message: file, line, column, what was
//! expected, and a "did you mean" where a name is misspelt (issue 2, "Validation with clear
//! errors").
mod common;

use common::block_on;
use scenario_lab::config::{load_batch, load_scenario, validate};
use scenario_lab::diag::Diagnostic;
use scenario_lab::host::MemoryStorage;

const SCENARIO: &str = include_str!("../scenarios/quick-negotiation/scenario.yaml");
const COUNCIL: &str = include_str!("../scenarios/quick-negotiation/actors/council.yaml");
const SWIFTRIDE: &str = include_str!("../scenarios/quick-negotiation/actors/swiftride.yaml");
const METRICS: &str = include_str!("../scenarios/quick-negotiation/metrics.yaml");

/// The quick scenario under `s/`, plus `extra` files.
fn store(extra: &[(&str, &str)]) -> MemoryStorage {
    let s = MemoryStorage::with_files([
        ("s/scenario.yaml", SCENARIO),
        ("s/actors/council.yaml", COUNCIL),
        ("s/actors/swiftride.yaml", SWIFTRIDE),
        ("s/metrics.yaml", METRICS),
    ]);
    for (p, t) in extra {
        s.insert(p, t);
    }
    s
}

fn batch_errors(config: &str) -> Vec<Diagnostic> {
    let s = store(&[("b.yaml", config)]);
    let e = block_on(load_batch(&s, "b.yaml")).expect_err("the config must be refused");
    e.errors().cloned().collect()
}

fn one_error(config: &str) -> Diagnostic {
    let errors = batch_errors(config);
    assert_eq!(
        errors.len(),
        1,
        "expected one error, got:\n{}",
        show(&errors)
    );
    errors.into_iter().next().unwrap()
}

fn show(ds: &[Diagnostic]) -> String {
    ds.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n\n")
}

const HEAD: &str = "experiment_name: t\nbase_scenario: s\n";

#[test]
fn a_misspelt_limit_is_an_error_with_did_you_mean() {
    let d = one_error(&format!("{HEAD}budget_limt: 10\n"));
    assert_eq!(
        (d.file.as_str(), d.line, d.column),
        ("b.yaml", Some(3), Some(1))
    );
    assert_eq!(d.message, "unknown key `budget_limt` in the batch config");
    assert_eq!(
        d.suggestion.as_deref(),
        Some("did you mean `budget_limit`?")
    );
    let shown = d.to_string();
    assert!(shown.contains("--> b.yaml:3:1"), "{shown}");
    assert!(shown.contains("3 | budget_limt: 10"), "{shown}");
}

#[test]
fn names_from_the_original_docs_point_to_the_real_key() {
    let d = one_error(&format!("{HEAD}total_budget: 10\n"));
    assert!(d
        .suggestion
        .unwrap()
        .starts_with("did you mean `budget_limit`?"));
    let d = one_error(&format!("{HEAD}cost_limit_per_run: 1\n"));
    assert!(d
        .suggestion
        .unwrap()
        .starts_with("did you mean `cost_per_run_limit`?"));
}

#[test]
fn a_variation_naming_a_missing_actor() {
    let d = one_error(&format!("{HEAD}variations:\n  - type: actor_model\n    actor: councl\n    values: [openai/gpt-4o]\n"));
    assert_eq!((d.line, d.column), (Some(5), Some(12)));
    assert_eq!(
        d.message,
        "the variation names actor `councl`, who is not in the scenario"
    );
    assert_eq!(
        d.expected.as_deref(),
        Some("the short_name of an actor: `council`, `swiftride`")
    );
    assert_eq!(d.suggestion.as_deref(), Some("did you mean `council`?"));
}

#[test]
fn an_empty_values_list() {
    let d = one_error(&format!(
        "{HEAD}variations:\n  - type: actor_model\n    actor: council\n    values: []\n"
    ));
    assert_eq!(d.line, Some(6));
    assert!(d.message.contains("empty `values` list"), "{d}");
}

#[test]
fn zero_or_negative_limits_and_zero_runs() {
    let errors = batch_errors(&format!(
        "{HEAD}budget_limit: 0\ncost_per_run_limit: -1\nruns_per_variation: 0\nmax_parallel: 0\n"
    ));
    let shown = show(&errors);
    assert_eq!(errors.len(), 4, "{shown}");
    assert_eq!(
        errors[0].message,
        "`budget_limit` must be greater than zero"
    );
    assert_eq!(errors[0].found.as_deref(), Some("0"));
    assert_eq!(
        errors[1].message,
        "`cost_per_run_limit` must be greater than zero"
    );
    assert_eq!(errors[1].found.as_deref(), Some("-1"));
    assert_eq!(errors[2].message, "`runs_per_variation` must be at least 1");
    assert_eq!((errors[2].line, errors[2].column), (Some(5), Some(21)));
    assert_eq!(errors[3].message, "`max_parallel` must be at least 1");
}

#[test]
fn an_empty_limit_is_not_silently_no_limit() {
    let d = one_error(&format!("{HEAD}budget_limit:\n"));
    assert_eq!(d.message, "`budget_limit` is empty");
}

#[test]
fn every_problem_is_reported_at_once() {
    let errors = batch_errors(
        "experiment_name: t\nbase_scenario: s\nbudget_limt: 5\nruns_per_variation: 0\nvariations:\n  - type: parameter\n    values: [1]\n  - type: actor_model\n    actor: nobody\n    values: [m/x]\n",
    );
    assert_eq!(errors.len(), 4, "{}", show(&errors));
    let unknown_type = errors
        .iter()
        .find(|d| d.message.contains("unknown variation type"))
        .unwrap();
    assert_eq!(
        unknown_type.suggestion.as_deref(),
        Some("did you mean `scenario_parameter`?")
    );
}

#[test]
fn a_missing_base_scenario_names_where_it_looked() {
    let s = MemoryStorage::with_files([(
        "exp/b.yaml",
        "experiment_name: t\nbase_scenario: scenarios/gone\n",
    )]);
    let e = block_on(load_batch(&s, "exp/b.yaml")).unwrap_err();
    let d = e.errors().next().unwrap();
    assert_eq!(
        d.message,
        "the base scenario `scenarios/gone` was not found"
    );
    assert_eq!(
        d.found.as_deref(),
        Some("no scenario.yaml in `scenarios/gone` or `exp/scenarios/gone`")
    );
    assert_eq!((d.line, d.column), (Some(2), Some(16)));
}

#[test]
fn base_scenario_resolves_from_cwd_then_the_config_folder() {
    let s = store(&[
        ("exp/s2/scenario.yaml", SCENARIO),
        ("exp/s2/actors/council.yaml", COUNCIL),
        ("exp/s2/actors/swiftride.yaml", SWIFTRIDE),
        ("exp/b.yaml", "experiment_name: t\nbase_scenario: s2\n"),
        ("exp/c.yaml", "experiment_name: t\nbase_scenario: s\n"),
    ]);
    assert_eq!(
        block_on(load_batch(&s, "exp/b.yaml"))
            .unwrap()
            .value
            .scenario_dir,
        "exp/s2"
    );
    assert_eq!(
        block_on(load_batch(&s, "exp/c.yaml"))
            .unwrap()
            .value
            .scenario_dir,
        "s"
    );
    // output_dir defaults to the config's own folder.
    assert_eq!(
        block_on(load_batch(&s, "exp/c.yaml"))
            .unwrap()
            .value
            .output_dir,
        "exp"
    );
}

#[test]
fn a_duplicate_short_name() {
    let s = store(&[(
        "s/actors/council.yaml",
        &COUNCIL.replace("short_name: \"council\"", "short_name: \"swiftride\""),
    )]);
    let e = block_on(load_scenario(&s, "s")).unwrap_err();
    let d = e
        .errors()
        .find(|d| d.message.contains("two actors have the short_name"))
        .unwrap_or_else(|| panic!("{e}"));
    assert_eq!(
        d.message,
        "two actors have the short_name `swiftride` (council.yaml and swiftride.yaml)"
    );
}

#[test]
fn a_metric_regex_that_does_not_compile() {
    let metrics = "metrics:\n  - name: broken\n    description: d\n    type: continuous\n    range: [0, 10]\n    extraction:\n      type: pattern\n      pattern: 'level (\\d+'\n";
    let s = store(&[("s/metrics.yaml", metrics)]);
    let e = block_on(load_scenario(&s, "s")).unwrap_err();
    let d = e.errors().next().unwrap();
    assert_eq!(d.file, "s/metrics.yaml");
    assert_eq!((d.line, d.column), (Some(8), Some(16)));
    assert_eq!(
        d.message,
        "the pattern of metric `broken` is not a valid regular expression"
    );
}

#[test]
fn unknown_keys_in_scenario_files_are_warnings_with_did_you_mean() {
    let s = store(&[(
        "s/scenario.yaml",
        &format!("{SCENARIO}\nturn_durration: \"1 week\"\nmood: calm\n"),
    )]);
    let loaded = block_on(load_scenario(&s, "s")).expect("warnings do not stop a load");
    let w: Vec<&Diagnostic> = loaded
        .warnings
        .iter()
        .filter(|w| w.file == "s/scenario.yaml")
        .collect();
    assert_eq!(w.len(), 2, "{:?}", loaded.warnings);
    assert_eq!(
        w[0].suggestion.as_deref(),
        Some("did you mean `turn_duration`?")
    );
    assert_eq!(loaded.value.extra["mood"], serde_json::json!("calm"));
}

#[test]
fn a_yaml_syntax_error_has_its_line() {
    let s = store(&[("b.yaml", "experiment_name: t\nbase_scenario: [s\n")]);
    let report = block_on(validate(&s, "b.yaml"));
    assert!(!report.ok);
    assert!(
        report.errors[0]
            .message
            .starts_with("this is not valid YAML"),
        "{}",
        report.errors[0]
    );
    assert!(report.errors[0].line.unwrap() >= 2);
}

#[test]
fn parameter_values_are_checked_against_their_key() {
    let errors = batch_errors(&format!(
        "{HEAD}variations:\n  - type: scenario_parameter\n    parameter: turns\n    values: [2, 0]\n  - type: actor_parameter\n    actor: council\n    parameter: temperature\n    values: [0.5, 7]\n  - type: actor_parameter\n    actor: council\n    parameter: favourite_colour\n    values: [blue]\n  - type: scenario_parameter\n    parameter: turnz\n    values: [3]\n"
    ));
    let shown = show(&errors);
    assert_eq!(errors.len(), 4, "{shown}");
    assert!(
        errors[0].message.contains("cannot be used for `turns`") && errors[0].line == Some(6),
        "{shown}"
    );
    assert!(
        errors[1]
            .message
            .contains("cannot be used for `temperature`")
            && errors[1].line == Some(10),
        "{shown}"
    );
    assert!(
        errors[2]
            .expected
            .as_deref()
            .unwrap()
            .contains("no field `favourite_colour`"),
        "{shown}"
    );
    assert_eq!(
        errors[3].suggestion.as_deref(),
        Some("did you mean `turns`?"),
        "{shown}"
    );
}

#[test]
fn a_listed_actor_without_a_file() {
    let s = store(&[(
        "s/scenario.yaml",
        &SCENARIO.replace("  - swiftride", "  - swiftrid"),
    )]);
    let e = block_on(load_scenario(&s, "s")).unwrap_err();
    let d = e.errors().next().unwrap();
    assert!(
        d.message
            .starts_with("actor `swiftrid` has no file: looked for `s/actors/swiftrid.yaml`"),
        "{d}"
    );
    assert_eq!(d.suggestion.as_deref(), Some("did you mean `swiftride`?"));
}

#[test]
fn a_stopping_rule_that_cannot_run_is_refused_with_its_line() {
    let vars = "runs_per_variation: 10\nvariations:\n  - type: actor_model\n    actor: council\n    values: [a/b, c/d]\n";
    let cases: [(&str, u32, &str); 6] = [
        (
            "stopping:\n  metric: data_sharing_levl\n  target_half_width: 1\n",
            9,
            "did you mean `data_sharing_level`?",
        ),
        (
            "stopping:\n  target_half_width: 1\n  compare: [var-001, var-002]\n",
            10,
            "both `target_half_width` and `compare`",
        ),
        (
            "stopping:\n  compare: [var-001, var-002, var-003]\n",
            9,
            "must name two variations",
        ),
        (
            "stopping:\n  compare: [var-001, var-003]\n",
            9,
            "names variation 3, and the batch has 2",
        ),
        (
            "stopping:\n  compare: [1, 2]\n  looks: 11\n",
            9,
            "11 looks need at least 11 runs",
        ),
        (
            "stopping:\n  compare: [1, 2]\n  alpha: 1\n",
            10,
            "strictly between 0 and 1",
        ),
    ];
    for (stopping, line, says) in cases {
        let d = one_error(&format!("{HEAD}{vars}{stopping}"));
        assert_eq!(d.line, Some(line), "{stopping}\n{d}");
        assert!(d.to_string().contains(says), "{stopping}\n{d}");
    }
    let d = one_error(&format!("{HEAD}pairing: matched\n"));
    assert!(d.to_string().contains("`paired`"), "{d}");
}

/// An intervention (issue 13, part 3) as the quick scenario (3 turns; actors `council` and
/// `swiftride`) takes it; `arms` are appended.
fn intervention(at_turn: &str, arms: &str) -> String {
    format!("{HEAD}variations:\n  - type: intervention\n    at_turn: {at_turn}\n    arms:\n{arms}")
}

#[test]
fn a_valid_intervention_loads_as_one_dimension_of_arms() {
    let s = store(&[(
        "b.yaml",
        &intervention(
            "3",
            "      - name: baseline\n      - name: leak\n        event: \"The deal leaks.\"\n      - name: new-model\n        actor: council\n        model: openai/gpt-4o\n      - name: goals\n        actor: council\n        goals: [\"Share nothing\"]\n      - name: world\n        world_state: \"A storm.\"\n      - name: narrator\n        parameter: world_state_model\n        value: openai/gpt-4o\n",
        ),
    )]);
    let cfg = block_on(load_batch(&s, "b.yaml"))
        .unwrap_or_else(|e| panic!("{e}"))
        .value;
    assert_eq!(cfg.variations.len(), 1);
    let space = scenario_lab::plan::VariationSpace::new(&cfg.variations);
    assert_eq!(space.count(), 6);
    assert_eq!(space.get(1).description, "intervention@3=leak");
    let i = space.get(2).modifications.intervention.unwrap();
    assert_eq!(
        (i.at_turn, i.arm.model.as_deref()),
        (3, Some("openai/gpt-4o"))
    );
    assert!(space
        .get(0)
        .modifications
        .intervention
        .unwrap()
        .arm
        .is_control());
}

#[test]
fn an_intervention_turn_out_of_range_points_at_it() {
    for (at, message) in [
        ("4", "`at_turn` is 4, but the scenario has 3 turns"),
        (
            "1",
            "`at_turn` is 1, but an intervention needs at least one turn before it to share",
        ),
    ] {
        let d = one_error(&intervention(
            at,
            "      - name: baseline\n      - name: b\n        event: x\n",
        ));
        assert_eq!(
            (d.file.as_str(), d.line, d.column),
            ("b.yaml", Some(5), Some(14))
        );
        assert_eq!(d.message, message);
        assert_eq!(
            d.expected.as_deref(),
            Some("a turn from 2 to 3 (turn 1 has no earlier turn for the arms to share)")
        );
        assert_eq!(d.key.as_deref(), Some("variations[0].at_turn"));
    }
    let d = one_error(&format!(
        "{}  - type: scenario_parameter\n    parameter: turns\n    values: [2, 3]\n",
        intervention("3", "      - name: a\n      - name: b\n        event: x\n")
    ));
    assert_eq!(
        d.message,
        "`at_turn` is 3, but the `turns` variation runs only 2 turns"
    );
}

#[test]
fn arm_names_are_unique_and_their_actors_exist() {
    let d = one_error(&intervention(
        "2",
        "      - name: same\n      - name: same\n        event: x\n",
    ));
    assert_eq!(d.message, "the arm name `same` is used twice");
    assert_eq!(
        (d.line, d.found.as_deref()),
        (Some(8), Some("`same` at line 7 too"))
    );
    let d = one_error(&intervention(
        "2",
        "      - name: a\n      - name: b\n        actor: councl\n        model: m/x\n",
    ));
    assert_eq!(
        d.message,
        "the arm names actor `councl`, who is not in the scenario"
    );
    assert_eq!((d.line, d.column), (Some(9), Some(16)));
    assert_eq!(d.suggestion.as_deref(), Some("did you mean `council`?"));
    assert_eq!(d.key.as_deref(), Some("variations[0].arms[1].actor"));
}

#[test]
fn an_arm_key_misspelt_or_misused_is_an_error() {
    let d = one_error(&intervention(
        "2",
        "      - name: a\n      - name: b\n        evnt: x\n",
    ));
    assert_eq!(d.message, "unknown key `evnt` in `variations[0].arms[1]`");
    assert_eq!(d.suggestion.as_deref(), Some("did you mean `event`?"));
    let d = one_error(&intervention("2", "      - name: a\n        model: m/x\n"));
    assert_eq!(
        d.message,
        "`model` changes an actor's, but the arm names no `actor`"
    );
    let d = one_error(&intervention(
        "2",
        "      - name: a\n      - name: b\n        parameter: turns\n        value: 5\n",
    ));
    assert_eq!(
        d.message,
        "an intervention cannot change `turns` once the run has started"
    );
    let d = one_error(&intervention(
        "2",
        "      - name: a\n      - name: b\n        parameter: context_window_size\n        value: none\n",
    ));
    assert_eq!(
        d.message,
        "this value cannot be used for `context_window_size`"
    );
    let d = one_error(&intervention("2", "      - name: a\n        value: 3\n"));
    assert!(d.message.contains("names no `parameter`"), "{d}");
    let d = one_error(&intervention("2", "      - event: x\n"));
    assert_eq!(d.message, "this arm has no `name`");
    let errors = batch_errors(&format!(
        "{HEAD}variations:\n  - type: intervention\n    at_turn: 2\n    arm: []\n"
    ));
    assert_eq!(errors.len(), 2, "{}", show(&errors));
    assert_eq!(
        errors[0].message,
        "an `intervention` variation needs `arms`"
    );
    assert_eq!(errors[1].message, "unknown key `arm` in `variations[0]`");
    assert_eq!(
        errors[1].suggestion.as_deref(),
        Some("did you mean `arms`?")
    );
}

#[test]
fn a_batch_has_one_intervention() {
    let arms = "    arms:\n      - name: a\n      - name: b\n        event: x\n";
    let d = one_error(&format!(
        "{HEAD}variations:\n  - type: intervention\n    at_turn: 2\n{arms}  - type: intervention\n    at_turn: 3\n{arms}"
    ));
    assert_eq!(
        d.message,
        "a batch has one `intervention` variation, and one is at line 4"
    );
    assert_eq!(d.line, Some(10));
}

#[test]
fn one_arm_is_a_warning() {
    let s = store(&[(
        "b.yaml",
        &intervention("2", "      - name: only\n        event: x\n"),
    )]);
    let loaded = block_on(load_batch(&s, "b.yaml")).unwrap();
    assert_eq!(
        loaded.warnings[0].message,
        "this intervention has one arm, so it has nothing to compare"
    );
}

#[test]
fn all_models_plays_every_call_with_one_model() {
    let s = store(&[(
        "b.yaml",
        &format!("{HEAD}all_models: builtin/simulator\nvariations:\n  - type: actor_model\n    actor: council\n    values: [m/x]\n"),
    )]);
    let cfg = block_on(load_batch(&s, "b.yaml")).unwrap().value;
    assert_eq!(cfg.scenario.models(), ["builtin/simulator"]);
    assert_eq!(
        scenario_lab::plan::called_models(&cfg),
        ["builtin/simulator", "m/x"]
    );
    let d = one_error(&format!("{HEAD}all_model: x\n"));
    assert_eq!(d.suggestion.as_deref(), Some("did you mean `all_models`?"));
}
