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

// ---- Paired designs (issue 13): found from the seeds, compared within pairs. ----

/// A run of a batch whose state records `seed` (and names its `block`, as ours do in a paired
/// batch), with one final metric, `trust`.
struct Seeded<'a> {
    variation: u64,
    run: u32,
    seed: Option<u64>,
    block: Option<u32>,
    status: &'a str,
    trust: f64,
    mods: Value,
}

fn seeded_run(s: &MemoryStorage, r: Seeded) {
    let dir = format!("out/runs/var-{:03}-run-{:03}", r.variation, r.run);
    let mut spec = json!({"modifications": r.mods});
    let mut state = json!({"status": r.status, "halt_reason": null, "error": null,
                           "current_turn": 3, "total_cost": 0.0});
    if let Some(seed) = r.seed {
        state["seed"] = json!(seed);
        spec["seed"] = json!(seed);
    }
    if let Some(block) = r.block {
        spec["block"] = json!(block);
    }
    state["spec"] = spec;
    s.insert(&format!("{dir}/scenario-state.json"), &state.to_string());
    if r.status == "completed" {
        s.insert(
            &format!("{dir}/metrics.json"),
            &json!({"final_metrics": {"trust": r.trust}, "metrics_by_turn": {}}).to_string(),
        );
    }
}

/// Final trust of runs 1–6 of variations 1, 2, 3 (council.model = a, b, c). Variation 2 is
/// variation 1 plus about 1.2 on every block: invisible to Welch's t (the blocks differ by
/// more), plain to the paired t.
const PAIRED_TRUST: [[f64; 6]; 3] = [
    [3.0, 5.0, 4.0, 7.0, 6.0, 2.0],
    [4.1, 6.3, 4.8, 8.6, 7.1, 3.5],
    [2.5, 5.5, 3.0, 7.5, 5.0, 2.2],
];

/// Three variations, six runs each; run k's seed is `seed(variation, k)`, and the states name
/// their block when `blocks`.
fn paired_folder(seed: impl Fn(u64, u32) -> Option<u64>, blocks: bool) -> MemoryStorage {
    let s = MemoryStorage::new();
    for (v, values) in PAIRED_TRUST.iter().enumerate() {
        let (variation, level) = (v as u64 + 1, ["a", "b", "c"][v]);
        for (k, &trust) in values.iter().enumerate() {
            let run = k as u32 + 1;
            seeded_run(
                &s,
                Seeded {
                    variation,
                    run,
                    seed: seed(variation, run),
                    block: blocks.then_some(run),
                    status: "completed",
                    trust,
                    mods: json!({"actor_models": {"council": level}}),
                },
            );
        }
    }
    s
}

fn shared_seeds(_: u64, run: u32) -> Option<u64> {
    Some(1000 + u64::from(run))
}

fn close(x: f64, y: f64) -> bool {
    (x - y).abs() <= 1e-9 * y.abs().max(1e-300)
}

#[test]
fn paired_runs_are_compared_within_pairs() {
    let s = paired_folder(shared_seeds, true);
    let a = analyse(&s, Options::default());
    let design = &a.patterns.design;
    assert!(design.is_paired(), "{}", design.summary);
    assert_eq!((design.blocks, design.runs_declaring_block), (6, 18));

    // Variation 2 against 1: scipy ttest_rel(b, a), its confidence_interval(0.95),
    // wilcoxon(b, a); d_z and the variance ratio from their formulas (numpy).
    let cmp = &a.patterns.comparisons["trust"];
    let pair = &cmp.pairs[0];
    assert_eq!((pair.a, pair.b, pair.verdict_test), (1, 2, "paired_t"));
    let paired = pair.paired.as_ref().unwrap();
    assert_eq!(paired.n, 6);
    let t = paired.t.as_ref().unwrap();
    assert!(close(t.statistic, 10.261953630166737), "{t:?}");
    assert!(close(t.p, 0.00015099145757585216), "{t:?}");
    assert_eq!(t.df, Some(5.0));
    let (lo, hi) = paired.difference_ci95.unwrap();
    assert!(close(lo, 0.9243878461278973) && close(hi, 1.542278820538769));
    let w = paired.wilcoxon.as_ref().unwrap();
    assert_eq!(w.statistic, 0.0);
    assert!(close(w.p, 0.03125), "{w:?}");
    let d: Vec<f64> = PAIRED_TRUST[1]
        .iter()
        .zip(&PAIRED_TRUST[0])
        .map(|(b, a)| b - a)
        .collect();
    let var = |x: &[f64]| {
        let m = x.iter().sum::<f64>() / x.len() as f64;
        x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() as f64 - 1.0)
    };
    let mean_d = d.iter().sum::<f64>() / 6.0;
    assert!(close(paired.difference, mean_d));
    assert!(close(
        paired.d_z.as_ref().unwrap().g,
        mean_d / var(&d).sqrt()
    ));
    assert!(close(paired.d_z.as_ref().unwrap().g, 4.1894250263350035));
    let gain = paired.gain.as_ref().unwrap();
    let unpaired = var(&PAIRED_TRUST[0]) + var(&PAIRED_TRUST[1]);
    assert!(close(gain.paired_variance, var(&d)) && close(gain.unpaired_variance, unpaired));
    assert!(close(gain.ratio.unwrap(), 0.01189387008234218));
    // The unpaired tests are kept: Welch sees nothing here.
    assert!(close(pair.welch.as_ref().unwrap().p, 0.28927335835862805));

    // Holm across the three comparisons, per test (statsmodels multipletests).
    let t_adj: Vec<f64> = cmp
        .pairs
        .iter()
        .map(|p| p.paired.as_ref().unwrap().t_p_adj.unwrap())
        .collect();
    for (x, y) in t_adj.iter().zip([
        0.0004529743727275565,
        0.4874061731705281,
        0.0013705477484351803,
    ]) {
        assert!(close(*x, y), "{t_adj:?}");
    }
    let w_adj: Vec<f64> = cmp
        .pairs
        .iter()
        .map(|p| p.paired.as_ref().unwrap().wilcoxon_p_adj.unwrap())
        .collect();
    assert!(close(w_adj[0], 0.09375) && close(w_adj[1], 0.5625) && close(w_adj[2], 0.09375));

    // What pairing gained, pooled over the three comparisons by their degrees of freedom.
    let pooled = cmp.pairing_gain.as_ref().unwrap();
    assert_eq!((pooled.comparisons, pooled.pairs), (3, 18));
    assert!(
        close(pooled.ratio.unwrap(), 0.035179059398820656),
        "{pooled:?}"
    );
    assert!(close(pooled.removed.unwrap(), 1.0 - 0.035179059398820656));

    // The verdicts rest on the paired test (Welch's p is 0.29).
    assert!(
        cmp.verdicts.iter().any(|v| v == "variation 2 (council.model=b) raises trust by 1.23 over variation 1 (council.model=a) (6 pairs, 95% CI 0.924 to 1.54, p_adj < 0.001, large effect)"),
        "{:?}",
        cmp.verdicts
    );
    // Over the variations and for the factor: statsmodels AnovaRM on the six blocks.
    let rm = cmp.rm_anova.as_ref().unwrap();
    assert!(close(rm.statistic, 27.01144726083399) && close(rm.p, 9.296585651316195e-05));
    assert_eq!((rm.df, rm.df2), (Some(2.0), Some(10.0)));
    let effect = &a.patterns.factor_effects[0];
    assert_eq!(effect.test_kind, "rm_anova");
    assert!(close(
        effect.test.as_ref().unwrap().statistic,
        27.01144726083399
    ));
    let blocks = effect.blocks.unwrap();
    assert_eq!((blocks.used, blocks.dropped), (6, 0));
    // One variation per level: the level contrast is the variations' paired comparison.
    let contrast = effect.contrasts[0].paired.as_ref().unwrap();
    assert!(close(
        contrast.t.as_ref().unwrap().statistic,
        10.261953630166737
    ));
}

#[test]
fn the_design_is_found_from_the_seeds() {
    // Shared seeds and no `block`: paired all the same (the seeds are what pair runs).
    let a = analyse(&paired_folder(shared_seeds, false), Options::default());
    let d = &a.patterns.design;
    assert!(d.is_paired() && d.blocks == 6 && d.runs_declaring_block == 0);

    // A run number in one variation only: it has no partner, the rest stay paired.
    let s = paired_folder(shared_seeds, true);
    seeded_run(
        &s,
        Seeded {
            variation: 2,
            run: 7,
            seed: Some(1007),
            block: Some(7),
            status: "completed",
            trust: 9.0,
            mods: json!({"actor_models": {"council": "b"}}),
        },
    );
    let a = analyse(&s, Options::default());
    let d = &a.patterns.design;
    assert!(
        d.is_paired() && d.blocks == 6 && d.unmatched_runs == 1,
        "{d:?}"
    );
    assert!(
        d.summary.contains("1 run without a partner"),
        "{}",
        d.summary
    );
    let pair = &a.patterns.comparisons["trust"].pairs[0];
    assert_eq!(pair.paired.as_ref().unwrap().n, 6);
    assert_eq!(a.variations[1].metrics["trust"].count, 7);

    // One run number whose runs have different seeds: independent.
    let a = analyse(
        &paired_folder(
            |v, run| {
                Some(if run == 3 && v == 2 {
                    77
                } else {
                    1000 + u64::from(run)
                })
            },
            true,
        ),
        Options::default(),
    );
    let d = &a.patterns.design;
    assert!(!d.is_paired() && d.seed_mismatches == 1, "{d:?}");
    assert!(d
        .summary
        .starts_with("Independent runs: 1 of the 6 run numbers"));
    let pair = &a.patterns.comparisons["trust"].pairs[0];
    assert!(pair.paired.is_none() && pair.verdict_test == "welch_t");
    assert_eq!(a.patterns.factor_effects[0].test_kind, "welch_anova");
    assert!(a.patterns.comparisons["trust"].pairing_gain.is_none());

    // Each run its own seed (the old design): independent.
    let a = analyse(
        &paired_folder(|v, run| Some(v * 100 + u64::from(run)), false),
        Options::default(),
    );
    assert_eq!(a.patterns.design.seed_mismatches, 6);
    assert!(!a.patterns.design.is_paired());

    // No seeds at all (the original tool's states): independent, and said why.
    let a = analyse(&two_variations(), Options::default());
    assert_eq!(
        a.patterns.design.summary,
        "Independent runs: the runs' states record no seed."
    );

    // A single shared run number is no paired design.
    let s = MemoryStorage::new();
    for v in 1..=2 {
        seeded_run(
            &s,
            Seeded {
                variation: v,
                run: 1,
                seed: Some(5),
                block: Some(1),
                status: "completed",
                trust: v as f64,
                mods: json!({}),
            },
        );
    }
    let a = analyse(&s, Options::default());
    assert!(!a.patterns.design.is_paired());
    assert!(a.patterns.design.summary.contains("too few to pair"));
}

/// Two variations, twelve paired runs: both succeed on blocks 1–3, only variation 1 on block
/// 4, only variation 2 on blocks 5–12 (success: trust >= 5).
fn success_folder(seeded: bool) -> MemoryStorage {
    let s = MemoryStorage::new();
    s.insert(
        "out/batch-config.yaml",
        "experiment_name: m\nbase_scenario: s\nsuccess: \"trust >= 5\"\n",
    );
    for run in 1..=12u32 {
        let (x, y) = match run {
            1..=3 => (6.0, 6.0),
            4 => (6.0, 4.0),
            _ => (4.0, 6.0),
        };
        for (variation, trust) in [(1, x), (2, y)] {
            seeded_run(
                &s,
                Seeded {
                    variation,
                    run,
                    seed: seeded.then_some(u64::from(run)),
                    block: None,
                    status: "completed",
                    trust: trust + 0.01 * f64::from(run),
                    mods: json!({}),
                },
            );
        }
    }
    s
}

#[test]
fn success_is_compared_by_mcnemar_when_paired() {
    let a = analyse(&success_folder(true), Options::default());
    let pair = &a.patterns.success_comparisons[0];
    assert_eq!(pair.test_kind, "mcnemar");
    let m = pair.mcnemar.as_ref().unwrap();
    assert_eq!((m.pairs, m.only_a, m.only_b), (12, 1, 8));
    // statsmodels mcnemar([[3, 1], [8, 0]], exact=True).pvalue
    assert!(close(m.p, 0.0390625) && close(m.p_adj, 0.0390625));
    assert_eq!(pair.p_adj(), m.p_adj);
    assert!(
        a.report_markdown
            .contains("Success: variation 2 vs variation 1: 58.33 points (McNemar p_adj = 0.039)"),
        "{}",
        a.report_markdown
    );

    let a = analyse(&success_folder(false), Options::default());
    let pair = &a.patterns.success_comparisons[0];
    assert_eq!(pair.test_kind, "fisher_exact");
    assert!(pair.mcnemar.is_none());
    assert_eq!(pair.p_adj(), pair.fisher_p_adj);
}

/// A 2 × 2 design (council.model a/b × regulator.model x/y), five blocks; block 5's run of
/// (b, y) failed.
fn two_factor_folder(seeded: bool) -> MemoryStorage {
    let cells: [(&str, &str, [f64; 5]); 4] = [
        ("a", "x", [3.0, 5.0, 4.0, 7.0, 6.0]),
        ("a", "y", [4.0, 6.5, 4.2, 8.0, 9.0]),
        ("b", "x", [5.0, 6.0, 6.1, 9.0, 7.0]),
        ("b", "y", [5.5, 9.0, 6.0, 11.0, 0.0]),
    ];
    let s = MemoryStorage::new();
    for (v, (council, regulator, values)) in cells.iter().enumerate() {
        for (k, &trust) in values.iter().enumerate() {
            let run = k as u32 + 1;
            seeded_run(
                &s,
                Seeded {
                    variation: v as u64 + 1,
                    run,
                    seed: seeded.then_some(u64::from(run)),
                    block: seeded.then_some(run),
                    status: if v == 3 && run == 5 {
                        "failed"
                    } else {
                        "completed"
                    },
                    trust,
                    mods: json!({"actor_models": {"council": council, "regulator": regulator}}),
                },
            );
        }
    }
    s
}

#[test]
fn factor_effects_use_the_blocked_anova_when_paired() {
    let a = analyse(&two_factor_folder(true), Options::default());
    // statsmodels AnovaRM(within=["A", "B"]) on blocks 1–4.
    let i = &a.patterns.interactions[0];
    assert_eq!(i.test_kind, "rm_anova_two_way");
    let blocks = i.blocks.unwrap();
    assert_eq!((blocks.used, blocks.dropped), (4, 1));
    assert!(close(i.test.statistic, 0.7558849171752341), "{:?}", i.test);
    assert!(close(i.test.p, 0.448591989928182));
    assert_eq!((i.test.df, i.test.df2), (Some(1.0), Some(3.0)));
    let effect = |f: &str| {
        a.patterns
            .factor_effects
            .iter()
            .find(|e| e.factor == f)
            .unwrap()
    };
    let council = effect("council.model");
    assert_eq!(council.test_kind, "rm_anova_two_way");
    assert!(close(
        council.test.as_ref().unwrap().statistic,
        125.77611940298537
    ));
    assert!(close(
        council.test.as_ref().unwrap().p,
        0.0015197795991267636
    ));
    let regulator = effect("regulator.model");
    assert!(close(
        regulator.test.as_ref().unwrap().statistic,
        5.74670367800139
    ));
    assert_eq!(regulator.blocks.map(|b| (b.used, b.dropped)), Some((4, 1)));
    assert!(
        a.report_markdown
            .contains("council.model on trust: 4 complete blocks (1 dropped as incomplete)"),
        "{}",
        a.report_markdown
    );
    assert!(
        a.report_markdown
            .contains("(two-way repeated-measures ANOVA): F(1, 3) = 0.756, p = 0.449."),
        "{}",
        a.report_markdown
    );

    // The same values without seeds: the independent two-way ANOVA.
    let a = analyse(&two_factor_folder(false), Options::default());
    assert_eq!(a.patterns.interactions[0].test_kind, "two_way_anova_type3");
    assert!(a.patterns.interactions[0].blocks.is_none());
    assert!(a
        .patterns
        .factor_effects
        .iter()
        .all(|e| e.test_kind == "two_way_anova_type3" && e.blocks.is_none()));
}

#[test]
fn the_report_says_which_design_it_found() {
    let s = paired_folder(shared_seeds, true);
    let a = analyse(&s, Options::default());
    let md = &a.report_markdown;
    for needle in [
        "## Design",
        "Paired design on 6 blocks: run k of every variation has the same seed (the runs' states also name their block).",
        "compared within pairs",
        "McNemar's exact test",
        "repeated-measures ANOVA",
        "trust: pairing removed 96% of the variance: the within-pair differences have variance 0.272 against 7.73 for independent runs",
        "| Pair | Pairs | Difference | 95% CI | Paired t p | Paired t p_adj | Wilcoxon p_adj | d_z | Welch p_adj |",
        "| 2 vs 1 | 6 | 1.23 | 0.924 to 1.54 | < 0.001 | < 0.001 | 0.094 | 4.19 | 0.721 |",
        "Repeated-measures ANOVA over 6 complete blocks: F(2, 10) = 27.01, p < 0.001",
    ] {
        assert!(md.contains(needle), "the report lacks {needle:?}:\n{md}");
    }
    // The Design section comes before the findings, in the HTML too.
    assert!(md.find("## Design").unwrap() < md.find("## Key Findings").unwrap());
    let html = block_on(s.read("out/analysis/report.html"))
        .unwrap()
        .unwrap();
    assert!(html.contains("<h2>Design</h2>") && html.contains("pairing removed 96%"));
    let p = read_json(&s, "out/analysis/patterns.json");
    assert_eq!(p["design"]["kind"], "paired");
    assert_eq!(p["design"]["blocks"], 6);
    assert_eq!(
        p["comparisons"]["trust"]["pairs"][0]["verdict_test"],
        "paired_t"
    );

    let a = analyse(&two_variations(), Options::default());
    let md = &a.report_markdown;
    assert!(md.contains("## Design\n\nIndependent runs: the runs' states record no seed. Variations are compared as independent samples: Welch's t test"), "{md}");
    assert!(!md.contains("pairing removed"));
    assert!(md.contains("| Pair | Difference | 95% CI | Welch p | Welch p_adj |"));
}

/// A group-sequential record as the batch writes it into `batch-state.json`: variation 1
/// against 2 on trust, stopped for efficacy at look 2 of 5.
fn group_sequential_record() -> Value {
    json!({
        "rule": {"rule": "group_sequential", "compare": [1, 2], "metric": "trust",
                 "alpha": 0.05, "power": 0.8, "looks": 5},
        "planned_effect": 1.25,
        "looks": [
            {"look": 1, "runs": 3, "pairs": 3, "z": 1.8, "efficacy": 4.877, "futility": -0.5,
             "decision": "continue"},
            {"look": 2, "runs": 6, "pairs": 6, "z": 3.4, "efficacy": 3.357, "futility": 0.2,
             "decision": "efficacy", "p_adjusted": 0.0123}
        ],
        "stopped": [
            {"variation_id": 1, "after_runs": 6, "message": "var-001 stopped after 6 runs: efficacy at look 2"},
            {"variation_id": 2, "after_runs": 6, "message": "var-002 stopped after 6 runs: efficacy at look 2"}
        ]
    })
}

#[test]
fn a_sequential_record_is_carried_into_the_analysis_and_the_report() {
    let s = paired_folder(shared_seeds, true);
    s.insert(
        "out/batch-state.json",
        &json!({"experiment_name": "seq", "stopping": group_sequential_record()}).to_string(),
    );
    let a = analyse(&s, Options::default());
    let d = &a.patterns.design;
    let record = d.stopping.as_ref().expect("the stopping record");
    assert_eq!(record.looks.len(), 2);
    assert_eq!(record.looks[1].p_adjusted, Some(0.0123));
    let result = d.sequential.as_ref().unwrap();
    assert_eq!(
        (result.compared, result.look, result.looks_planned),
        ((1, 2), Some(2), 5)
    );
    assert_eq!(result.p_adjusted, Some(0.0123));
    assert_eq!(result.fixed_sample_test, Some("paired_t"));
    assert!(close(
        result.p_fixed_sample.unwrap(),
        0.00015099145757585216
    ));
    let md = &a.report_markdown;
    for needle in [
        "The batch was sequential: a group-sequential comparison of variation 1 and variation 2 on trust (O'Brien–Fleming boundaries by Lan–DeMets alpha spending; two-sided α = 0.05, power 0.8 at a planned standardised effect of 1.25; up to 5 looks).",
        "It stopped at look 2 of 5, after 6 runs of each variation (6 pairs), for efficacy: |z| = 3.4 reached the boundary 3.36.",
        "For variation 2 against variation 1 on trust, cite the stage-wise adjusted p = 0.0123, which accounts for the looks taken; the comparison table's paired t p = 0.0002 for this pair is a fixed-sample p-value, which ignores them.",
        "| 2 | 6 | 6 | 3.4 | 3.36 | 0.2 | stop: efficacy | 0.0123 |",
    ] {
        assert!(md.contains(needle), "the report lacks {needle:?}:\n{md}");
    }
    let p = read_json(&s, "out/analysis/patterns.json");
    assert_eq!(p["design"]["stopping"]["looks"][1]["decision"], "efficacy");
    assert_eq!(p["design"]["sequential"]["p_adjusted"], 0.0123);

    // A precision rule: each variation's stop, in the batch's words.
    s.insert(
        "out/batch-state.json",
        &json!({"stopping": {
            "rule": {"rule": "precision", "metric": "trust", "target_half_width": 0.5},
            "stopped": [{"variation_id": 2, "after_runs": 14, "half_width": 0.48,
                         "message": "var-002 stopped after 14 runs: half-width 0.48 (target 0.5)"}]
        }})
        .to_string(),
    );
    let a = analyse(&s, Options::default());
    assert!(a.patterns.design.sequential.is_none());
    assert!(a.report_markdown.contains("The batch was sequential: each variation was to stop once the 95% CI of its mean trust was within ±0.5 (checked from 5 completed runs on). var-002 stopped after 14 runs: half-width 0.48 (target 0.5). The other variations ran to runs_per_variation."), "{}", a.report_markdown);

    // A record of another shape is a problem, not a failure.
    s.insert(
        "out/batch-state.json",
        &json!({"stopping": {"rule": "sometimes"}}).to_string(),
    );
    let a = analyse(&s, Options::default());
    assert!(a.patterns.design.stopping.is_none());
    assert!(a
        .problems
        .iter()
        .any(|p| p.path == "batch-state.json"
            && p.message.contains("`stopping` record is not readable")));
}
