//! The analysis (issue 5) over output trees built in memory: known values in, known statistics
//! out; damaged runs reported by name; the original tool's V1 and V2 folders; untrusted text
//! kept inert in the reports; the `success:` condition. The statistics themselves are checked
//! against scipy in tests/stats.rs.
mod common;

use common::{block_on, project_root};
use scenario_lab::analysis::{analyze, Analysis, Options};
use scenario_lab::config::load_batch;
use scenario_lab::host::{MemoryStorage, Storage};
use serde_json::{json, Value};

fn run_files(
    s: &MemoryStorage,
    dir: &str,
    status: &str,
    finals: Value,
    by_turn: Value,
    cost_nanos: u64,
    mods: Value,
) {
    s.insert(
        &format!("{dir}/scenario-state.json"),
        &json!({"status": status, "halt_reason": if status == "halted" { json!("cost_limit") } else { Value::Null },
                "error": null, "current_turn": 3, "spec": {"modifications": mods},
                "total_cost": cost_nanos as f64 / 1e9})
        .to_string(),
    );
    s.insert(
        &format!("{dir}/metrics.json"),
        &json!({"final_metrics": finals, "metrics_by_turn": by_turn}).to_string(),
    );
    s.insert(
        &format!("{dir}/costs.json"),
        &json!({"total_cost": cost_nanos as f64 / 1e9, "total_cost_nanos": cost_nanos}).to_string(),
    );
}

/// Two variations (council.model = a / b), four runs each, with hand-picked values.
fn two_variations() -> MemoryStorage {
    let s = MemoryStorage::new();
    s.insert(
        "out/batch-config.yaml",
        "experiment_name: known\nbase_scenario: s\nsuccess: \"trust >= 5\"\n",
    );
    s.insert(
        "out/batch-costs.json",
        &json!({"variation_statistics": {"1": {"description": "council=a"}, "2": {"description": "council=b"}}}).to_string(),
    );
    let a = [2.0, 4.0, 4.0, 6.0];
    let b = [5.0, 7.0, 8.0, 9.0];
    for (v, values, model) in [(1, a, "a"), (2, b, "b")] {
        for (k, x) in values.iter().enumerate() {
            run_files(
                &s,
                &format!("out/runs/var-{v:03}-run-{:03}", k + 1),
                "completed",
                json!({"trust": x}),
                json!({"1": {"trust": x - 1.0}, "2": {"trust": x}}),
                1_000_000 * (v as u64),
                json!({"actor_models": {"council": model}}),
            );
        }
    }
    s
}

fn analyse(s: &MemoryStorage, options: Options) -> Analysis {
    block_on(analyze(s, "out", &options)).unwrap_or_else(|e| panic!("{e}"))
}

fn read_json(s: &MemoryStorage, path: &str) -> Value {
    serde_json::from_str(
        &block_on(s.read(path))
            .unwrap()
            .unwrap_or_else(|| panic!("no {path}")),
    )
    .unwrap()
}

#[test]
fn known_values_give_known_statistics_and_files() {
    let s = two_variations();
    let a = analyse(&s, Options::default());
    let trust = &a.metrics["trust"];
    assert_eq!(trust.count, 8);
    assert_eq!(trust.mean, 45.0 / 8.0);
    assert_eq!((trust.min, trust.max), (2.0, 9.0));
    // numpy's linear percentiles of [2,4,4,5,6,7,8,9]
    assert_eq!((trust.q1, trust.median, trust.q3), (4.0, 5.5, 7.25));
    assert_eq!(
        trust
            .by_turn
            .iter()
            .map(|t| (t.turn, t.n))
            .collect::<Vec<_>>(),
        [(1, 8), (2, 8)]
    );
    assert_eq!(trust.by_turn[0].mean, 37.0 / 8.0);

    let v = &a.variations;
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].description, "council=a");
    assert_eq!(v[0].factors["council.model"], "a");
    assert_eq!(v[0].metrics["trust"].mean, 4.0);
    assert_eq!(v[1].metrics["trust"].mean, 7.25);
    // success: trust >= 5 → 1 of 4 in variation 1, 4 of 4 in variation 2
    assert_eq!((v[0].successful_runs, v[1].successful_runs), (1, 4));
    assert_eq!(v[0].cost.total, 0.004);
    assert_eq!(a.patterns.successful_runs, 5);
    assert!(a.patterns.success_definition.contains("trust >= 5"));

    // The factor council.model has levels a (reference) and b; b raises trust by 3.25.
    let effect = &a.patterns.factor_effects[0];
    assert_eq!(effect.factor, "council.model");
    assert_eq!(effect.contrasts[0].difference, 3.25);
    let cmp = &a.patterns.comparisons["trust"];
    assert_eq!(cmp.ranking, [(2, 7.25), (1, 4.0)]);
    assert_eq!(cmp.pairs.len(), 1);

    // Every file, parseable, with the original's keys where they exist.
    for f in [
        "metrics-analysis.json",
        "variation-statistics.json",
        "patterns.json",
    ] {
        read_json(&s, &format!("out/analysis/{f}"));
    }
    let m = read_json(&s, "out/analysis/metrics-analysis.json");
    for k in [
        "count", "mean", "median", "min", "max", "stdev", "ci95", "by_turn",
    ] {
        assert!(
            m["trust"].get(k).is_some(),
            "metrics-analysis.json lacks {k}"
        );
    }
    let vs = read_json(&s, "out/analysis/variation-statistics.json");
    for k in [
        "variation_id",
        "description",
        "total_runs",
        "successful_runs",
        "success_rate",
        "metrics",
        "cost",
    ] {
        assert!(
            vs["1"].get(k).is_some(),
            "variation-statistics.json lacks {k}"
        );
    }
    let p = read_json(&s, "out/analysis/patterns.json");
    for k in [
        "success_factors",
        "failure_modes",
        "cost_efficiency",
        "success_rate",
        "total_runs",
        "successful_runs",
        "failed_runs",
        "best_variation",
    ] {
        assert!(p.get(k).is_some(), "patterns.json lacks {k}");
    }
    assert_eq!(p["best_variation"]["variation_id"], 2);

    let csv = block_on(s.read("out/analysis/runs.csv")).unwrap().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 9);
    assert_eq!(lines[0], "run_id,variation_id,variation,council.model,status,halt_reason,success,turns_completed,cost_usd,trust");
    assert_eq!(
        lines[1],
        "var-001-run-001,1,council=a,a,completed,,false,3,0.001,2"
    );
    assert_eq!(
        lines[8],
        "var-002-run-004,2,council=b,b,completed,,true,3,0.002,9"
    );

    let md = block_on(s.read("out/analysis/analysis-report.md"))
        .unwrap()
        .unwrap();
    for section in [
        "# Batch Analysis Report",
        "**Experiment:** known",
        "## Overall Metrics",
        "## Variation Comparison",
        "## What Changed the Outcome",
        "## Methods",
    ] {
        assert!(md.contains(section), "the report lacks {section}");
    }
    let html = block_on(s.read("out/analysis/report.html"))
        .unwrap()
        .unwrap();
    assert!(html.contains("<svg") && !html.contains("<script"));
}

#[test]
fn variations_are_listed_in_numeric_order() {
    let s = MemoryStorage::new();
    for v in [2, 10, 1] {
        run_files(
            &s,
            &format!("out/runs/var-{v:03}-run-001"),
            "completed",
            json!({"x": v}),
            json!({}),
            0,
            json!({}),
        );
    }
    // A run id wider than three digits sorts by number, not by text.
    run_files(
        &s,
        "out/runs/var-1000-run-001",
        "completed",
        json!({"x": 1}),
        json!({}),
        0,
        json!({}),
    );
    let a = analyse(&s, Options::default());
    let ids: Vec<u64> = a.variations.iter().map(|v| v.variation_id).collect();
    assert_eq!(ids, [1, 2, 10, 1000]);
    let text = block_on(s.read("out/analysis/variation-statistics.json"))
        .unwrap()
        .unwrap();
    let at = |k: &str| text.find(&format!("\"{k}\": {{")).unwrap();
    assert!(at("1") < at("2") && at("2") < at("10") && at("10") < at("1000"));
    assert_eq!(a.variations[0].description, "Variation 1");
}

#[test]
fn damaged_runs_are_reported_by_name_and_the_rest_analysed() {
    let s = two_variations();
    block_on(s.remove("out/runs/var-001-run-001/scenario-state.json")).unwrap();
    s.insert(
        "out/runs/var-001-run-002/metrics.json",
        "{\"final_metrics\": {\"trust\": 4",
    );
    s.insert(
        "out/runs/var-001-run-003/metrics.json",
        &json!({"final_metrics": {"trust": "NaN"}}).to_string(),
    );
    // A run in the original's format (no `spec`): its costs.json is read, and is damaged.
    s.insert(
        "out/runs/var-001-run-004/scenario-state.json",
        &json!({"status": "completed", "current_turn": 3}).to_string(),
    );
    s.insert("out/runs/var-001-run-004/costs.json", "[]");
    s.insert("out/runs/notes.txt/x", "not a run");
    s.insert("out/runs/var-002-run-001/scenario-state.json", "42");
    s.insert("out/batch-costs.json", "{oops");
    let a = analyse(&s, Options::default());
    let problems: Vec<String> = a
        .problems
        .iter()
        .map(|p| format!("{}: {}", p.path, p.message))
        .collect();
    let has = |needle: &str| problems.iter().any(|p| p.contains(needle));
    assert!(
        has("runs/var-001-run-001/scenario-state.json: missing; run skipped"),
        "{problems:#?}"
    );
    assert!(
        has("runs/var-001-run-002/metrics.json: not valid JSON (line 1, column"),
        "{problems:#?}"
    );
    assert!(
        has("runs/var-001-run-003/metrics.json: non-numeric final value of trust"),
        "{problems:#?}"
    );
    assert!(
        has("runs/var-001-run-004/costs.json: not the expected JSON object"),
        "{problems:#?}"
    );
    assert!(
        has("runs/notes.txt: not a run folder name"),
        "{problems:#?}"
    );
    assert!(has("runs/var-002-run-001/scenario-state.json: not the expected JSON object (line 1); run skipped"), "{problems:#?}");
    assert!(has("batch-costs.json: not valid JSON"), "{problems:#?}");
    assert_eq!(a.patterns.total_runs, 6);
    // Of variation 1, only run 4 has a usable trust value.
    assert_eq!(a.variations[0].metrics["trust"].count, 1);
    assert!(a.report_markdown.contains("## Data Problems"));
}

#[test]
fn a_folder_without_runs_is_a_clear_error() {
    let s = MemoryStorage::new();
    let e = block_on(analyze(&s, "nowhere", &Options::default())).unwrap_err();
    assert!(e.to_string().contains("nowhere has no runs/ folder"), "{e}");
    let s = two_variations();
    let e = block_on(analyze(
        &s,
        "out",
        &Options {
            success: Some("trust >> 5".into()),
            ..Options::default()
        },
    ))
    .unwrap_err();
    assert!(
        e.to_string().contains(
            "success condition `trust >> 5` does not parse: at column 8: expected a number"
        ),
        "{e}"
    );
}

#[test]
fn the_success_option_overrides_the_config() {
    let s = two_variations();
    let a = analyse(
        &s,
        Options {
            success: Some("trust >= 8 or trust < 3".into()),
            ..Options::default()
        },
    );
    assert_eq!(a.patterns.successful_runs, 3);
}

fn load_fixture(name: &str) -> MemoryStorage {
    let root = project_root()
        .join("tests/fixtures/original-output")
        .join(name);
    let s = MemoryStorage::new();
    fn walk(s: &MemoryStorage, root: &std::path::Path, dir: &std::path::Path) {
        #[allow(clippy::disallowed_methods)]
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(s, root, &path);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                #[allow(clippy::disallowed_methods)]
                s.insert(
                    &format!("out/{rel}"),
                    &std::fs::read_to_string(&path).unwrap(),
                );
            }
        }
    }
    walk(&s, &root, &root);
    s
}

#[test]
fn the_original_v1_folder_reads_as_its_files_say() {
    let s = load_fixture("v1-batch");
    let a = analyse(&s, Options::default());
    assert_eq!(a.experiment.as_deref(), Some("harbour-v1"));
    assert_eq!(serde_json::to_value(a.format).unwrap(), "original_v1");
    assert_eq!(a.patterns.total_runs, 6);
    assert_eq!(a.patterns.completed_runs, 4);
    assert_eq!(a.variations[1].description, "port=claude-3-haiku");
    assert_eq!(
        a.variations[1].factors["port.model"],
        "anthropic/claude-3-haiku"
    );
    // V1 costs.json has totals.total_cost_usd; a halted run without costs.json falls back to
    // its state's cost tracker.
    let total: f64 = a.variations.iter().map(|v| v.cost.total).sum();
    assert!(
        (total - (0.0123 + 0.0119 + 0.0081 + 0.0201 + 0.0021 + 0.0188)).abs() < 1e-12,
        "{total}"
    );
    assert_eq!(a.metrics["trust"].count, 4);
    assert_eq!(a.variations[0].metrics["trust"].mean, 6.5);
    let modes = &a.patterns.failure_modes;
    assert_eq!(modes.len(), 2);
    assert!(a.problems.is_empty(), "{:?}", a.problems);
}

#[test]
fn the_original_v2_folder_reads_as_its_files_say() {
    let s = load_fixture("v2-batch");
    let a = analyse(&s, Options::default());
    assert_eq!(serde_json::to_value(a.format).unwrap(), "original_v2");
    // V2 never sets status completed: a run that reached its planned turns is complete; the one
    // that stopped at turn 2 of 3 was interrupted.
    let statuses = &a.patterns.statuses;
    assert_eq!((statuses["completed"], statuses["running"]), (3, 1));
    // metrics.json is a list: the final value is the one with the highest turn.
    assert_eq!(a.variations[0].metrics["trust"].mean, 5.5);
    assert_eq!(a.variations[1].metrics["trust"].mean, 8.0);
    assert_eq!(a.variations[1].factors["turns"], "3");
    let turns: Vec<usize> = a.variations[0].metrics["trust"]
        .by_turn
        .iter()
        .map(|t| t.turn)
        .collect();
    assert_eq!(turns, [1, 2]);
    assert!(a
        .problems
        .iter()
        .any(|p| p.message.contains("non-numeric final value of summary")));
}

#[test]
fn untrusted_text_stays_text_in_the_reports() {
    let s = MemoryStorage::new();
    let evil = "<img src=x onerror=alert(1)><script>alert(2)</script>";
    s.insert(
        "out/batch-costs.json",
        &json!({"variation_statistics": {"1": {"description": evil}}}).to_string(),
    );
    run_files(
        &s,
        "out/runs/var-001-run-001",
        "completed",
        json!({evil: 1}),
        json!({"1": {evil: 1}}),
        0,
        json!({"scenario_overrides": {"x\"><script>": evil}}),
    );
    let a = analyse(&s, Options::default());
    let html = block_on(s.read("out/analysis/report.html"))
        .unwrap()
        .unwrap();
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!a.report_markdown.contains("<img") && !a.report_markdown.contains("<script"));
    let csv = block_on(s.read("out/analysis/runs.csv")).unwrap().unwrap();
    assert_eq!(csv.lines().count(), 2);
}

#[test]
fn the_batch_config_success_condition_is_checked_at_load() {
    let s = MemoryStorage::new();
    common::quick_negotiation(&s, "s", str::to_string);
    s.insert(
        "a.yaml",
        "experiment_name: t\nbase_scenario: s\nsuccess: \"data_sharing_level >= 5\"\n",
    );
    let ok = block_on(load_batch(&s, "a.yaml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok.value.success.as_deref(), Some("data_sharing_level >= 5"));

    s.insert(
        "b.yaml",
        "experiment_name: t\nbase_scenario: s\nsuccess: \"data_sharing_level >= high\"\n",
    );
    let e = block_on(load_batch(&s, "b.yaml")).unwrap_err().to_string();
    assert!(
        e.contains("b.yaml:3") && e.contains("expected: a number"),
        "{e}"
    );

    s.insert(
        "c.yaml",
        "experiment_name: t\nbase_scenario: s\nsuccess: \"data_sharing >= 5\"\n",
    );
    let e = block_on(load_batch(&s, "c.yaml")).unwrap_err().to_string();
    assert!(
        e.contains("c.yaml:3") && e.contains("did you mean `data_sharing_level`?"),
        "{e}"
    );
}
