//! Sizes that need confirming: what in a planned batch is so large (runs, turns, cost beyond
//! the budget, a run's time beyond its timeout) that it is more likely a slip (a `1000000000` for `10`)
//! than a plan, and must be confirmed before anything is written.
//!
//! The decision is here, pure over the loaded config and its [`Plan`]; the hosts only ask (a
//! terminal's "Continue? [y/N]", the page's `confirm()`) or refuse (off a terminal, without
//! `--yes`), and a refusal is an invalid config (exit 2) pointing at the line that set the
//! size. Nothing here walks the runs: every figure comes from the plan, which is computed
//! from at most [`super::EXACT_LIMIT`] variations, so a refusal of `runs_per_variation:
//! 1000000000` costs what planning ten runs costs.

use serde::{Deserialize, Serialize};

use crate::config::{BatchConfig, DimensionKind, Execution};

// `batch_deadline` is not checked: with `execution: batch` its purpose is to switch the calls
// still pending to realtime near it, and the plan's time is a realtime estimate at
// `max_parallel`, which says little about a lock-step of hundreds of runs in batch jobs.
use crate::diag::{Detail, Diagnostic, FileDiags};
use crate::paths;
use crate::yaml::Node;

use super::Plan;

/// Runs in a batch above which it needs confirming. A hundred thousand runs of even the
/// cheapest real model cost hundreds of dollars and fill a disk with a million files; every
/// design in the batch guide needs far fewer (its largest has a few thousand), so more is far
/// more often a typo than a plan.
pub const MAX_RUNS: u64 = 100_000;

/// Turns in one run above which the batch needs confirming. A run's prompts carry a window of
/// earlier turns, and the original's longest scenarios ran 50; a thousand turns is hours of
/// calls per run, and more is more likely a slip than a design.
pub const MAX_TURNS: u32 = 1_000;

/// How many times its budget a batch may be expected to cost before it needs confirming. The
/// budget stops a batch when spent, so a plan a little over it is a normal way to say "run as
/// many as this pays for" (the dry run says how many); at three times, two thirds of the runs
/// asked for can never run, which is a config that means something else.
pub const FAR_BEYOND: f64 = 3.0;

/// What is too large.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Size {
    /// More than [`MAX_RUNS`] runs.
    Runs,
    /// A run of more than [`MAX_TURNS`] turns.
    Turns,
    /// An expected cost more than [`FAR_BEYOND`] times `budget_limit`.
    Cost,
    /// A run expected to take more than [`FAR_BEYOND`] times `timeout_per_run`.
    Time,
}

/// One size that needs confirming, and where the config sets it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SizeCheck {
    /// What is too large.
    pub size: Size,
    /// One sentence: the figure and the threshold.
    pub message: String,
    /// The file that sets it.
    pub file: String,
    /// Its line there, when found.
    pub line: Option<u32>,
    /// The refusal as printed (rustc-style: the message, the place, the quoted line, the help).
    pub text: String,
}

/// Where a size is set.
#[derive(Debug, Clone, PartialEq)]
enum Place {
    /// A top-level key of the batch config (or the file, when the key is not written).
    BatchKey(&'static str),
    /// The base scenario's `turns`.
    ScenarioTurns,
    /// Value `value` of variation `dim` in the batch config.
    VariationValue { dim: usize, value: usize },
}

/// A size found too large, before it is located in a file.
#[derive(Debug, Clone, PartialEq)]
struct Found {
    size: Size,
    message: String,
    found: String,
    place: Place,
    help: String,
}

/// The texts the sizes are pointed at: the batch config's, and its scenario's `scenario.yaml`.
pub struct Sources<'a> {
    /// The batch config's text.
    pub config: &'a str,
    /// The scenario.yaml's text, when read.
    pub scenario: Option<&'a str>,
}

/// The turns of the longest run, and where they are set: the base scenario's, or the largest
/// value of a `turns` variation.
pub fn longest_run(config: &BatchConfig) -> u32 {
    longest(config).0
}

fn longest(config: &BatchConfig) -> (u32, Place) {
    let mut best = (config.scenario.turns, Place::ScenarioTurns);
    for (dim, d) in config.variations.iter().enumerate() {
        let DimensionKind::ScenarioParameter { parameter } = &d.kind else {
            continue;
        };
        if !["turns", "num_turns"].contains(&parameter.as_str()) {
            continue;
        }
        for (value, v) in d.values.iter().enumerate() {
            let t = v.as_u64().unwrap_or(0).min(u64::from(u32::MAX)) as u32;
            if t > best.0 {
                best = (t, Place::VariationValue { dim, value });
            }
        }
    }
    best
}

const CONFIRM: &str = "confirm it (on a terminal, answer y; elsewhere pass --yes)";

/// What in `plan` (of `config`) needs confirming, in no particular file yet.
fn found(config: &BatchConfig, plan: &Plan) -> Vec<Found> {
    let mut out = Vec::new();
    if plan.total_runs > MAX_RUNS {
        out.push(Found {
            size: Size::Runs,
            message: format!(
                "the batch has {} runs, more than {MAX_RUNS} without confirmation",
                plan.total_runs
            ),
            found: format!(
                "{} variation{} x {} runs_per_variation = {} runs",
                plan.variation_count,
                if plan.variation_count == 1 { "" } else { "s" },
                plan.runs_per_variation,
                plan.total_runs
            ),
            place: Place::BatchKey("runs_per_variation"),
            help: format!("{CONFIRM}, or lower runs_per_variation or the variations"),
        });
    }
    let (turns, place) = longest(config);
    if turns > MAX_TURNS {
        out.push(Found {
            size: Size::Turns,
            message: format!(
                "a run of this batch has {turns} turns, more than {MAX_TURNS} without confirmation"
            ),
            found: format!("turns: {turns}"),
            place,
            help: format!("{CONFIRM}, or give fewer turns"),
        });
    }
    let cost = match plan.execution {
        Execution::Batch => plan.cost_total_batch,
        Execution::Realtime => plan.cost_total,
    };
    if let (Some(budget), Some(cost)) = (plan.budget_limit, cost) {
        if cost.expected > FAR_BEYOND * budget {
            let runs = plan.budget.runs_affordable.map_or(String::new(), |n| {
                format!(", about {n} of {}", plan.total_runs)
            });
            out.push(Found {
                size: Size::Cost,
                message: format!(
                    "the batch is expected to cost ${:.2}, more than {FAR_BEYOND} times its budget_limit (${budget:.2})",
                    cost.expected
                ),
                found: format!(
                    "{:.0} times the budget: the budget would stop it after the runs it pays for{runs}",
                    cost.expected / budget
                ),
                place: Place::BatchKey("budget_limit"),
                help: format!("{CONFIRM}, or raise budget_limit, or run fewer runs"),
            });
        }
    }
    if plan.seconds_per_run > FAR_BEYOND * plan.timeout_per_run {
        out.push(Found {
            size: Size::Time,
            message: format!(
                "a run is expected to take {:.0} s, more than {FAR_BEYOND} times timeout_per_run ({:.0} s)",
                plan.seconds_per_run, plan.timeout_per_run
            ),
            found: "every run would stop at its timeout, most of its turns unplayed".into(),
            place: Place::BatchKey("timeout_per_run"),
            help: format!("{CONFIRM}, or raise timeout_per_run, or give fewer turns"),
        });
    }
    out
}

/// The key node of `key` in a mapping.
fn key_node<'n>(map: &'n Node, key: &[&str]) -> Option<&'n Node> {
    map.entries()
        .iter()
        .find(|(k, _)| k.scalar_text().is_some_and(|t| key.contains(&t.as_str())))
        .map(|(k, _)| k)
}

/// Where in its file a place is: (file, the node there when found).
fn locate<'t>(
    place: &Place,
    config: &BatchConfig,
    batch: Option<&'t Node>,
    scenario: Option<&'t Node>,
) -> (String, Option<&'t Node>) {
    match place {
        Place::BatchKey(k) => (config.path.clone(), batch.and_then(|r| key_node(r, &[k]))),
        Place::VariationValue { dim, value } => (
            config.path.clone(),
            batch
                .and_then(|r| r.get("variations")?.as_seq()?.get(*dim))
                .and_then(|d| d.get("values")?.as_seq()?.get(*value)),
        ),
        Place::ScenarioTurns => (
            paths::join(&config.scenario_dir, "scenario.yaml"),
            scenario.and_then(|r| {
                key_node(r, &["turns", "num_turns"]).or_else(|| {
                    let (_, len) = r
                        .entries()
                        .iter()
                        .find(|(k, _)| k.as_str() == Some("scenario_length"))?;
                    key_node(len, &["turns"])
                })
            }),
        ),
    }
}

/// What in `plan` (of `config`) needs confirming before the batch starts, each pointed at the
/// line that sets it in `sources`. Empty when nothing does.
pub fn checks(config: &BatchConfig, plan: &Plan, sources: &Sources) -> Vec<SizeCheck> {
    let batch = crate::yaml::parse(sources.config).ok();
    let scenario = sources.scenario.and_then(|t| crate::yaml::parse(t).ok());
    found(config, plan)
        .into_iter()
        .map(|f| {
            let (file, node) = locate(&f.place, config, batch.as_ref(), scenario.as_ref());
            let text = if file == config.path {
                sources.config
            } else {
                sources.scenario.unwrap_or("")
            };
            let mut out = Vec::new();
            let key = match &f.place {
                Place::BatchKey(k) => (*k).to_string(),
                Place::ScenarioTurns => "turns".into(),
                Place::VariationValue { dim, .. } => format!("variations[{dim}].values"),
            };
            let mut d = FileDiags::new(&file, text, &mut out);
            let diag = match node {
                Some(n) => d.error(n, &key, f.message.clone()),
                None => d.file_error(f.message.clone()),
            };
            diag.found(f.found).help(f.help);
            let diag: &Diagnostic = &out[0];
            SizeCheck {
                size: f.size,
                message: f.message,
                file: diag.file.clone(),
                line: diag.line,
                text: diag.to_string(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::MemoryStorage;
    use crate::pricing::PriceBook;

    const SCENARIO: &str = include_str!("../../scenarios/quick-negotiation/scenario.yaml");

    fn load(batch: &str, scenario: &str) -> (BatchConfig, Plan, Vec<SizeCheck>) {
        let s = MemoryStorage::with_files([
            ("s/scenario.yaml", scenario),
            (
                "s/actors/council.yaml",
                include_str!("../../scenarios/quick-negotiation/actors/council.yaml"),
            ),
            (
                "s/actors/swiftride.yaml",
                include_str!("../../scenarios/quick-negotiation/actors/swiftride.yaml"),
            ),
            ("b.yaml", batch),
        ]);
        let config = futures::executor::block_on(crate::config::load_batch(&s, "b.yaml"))
            .expect("a valid config")
            .value;
        let plan = super::super::plan(&config, &PriceBook::new(&config.prices));
        let checks = checks(
            &config,
            &plan,
            &Sources {
                config: batch,
                scenario: Some(scenario),
            },
        );
        (config, plan, checks)
    }

    const HEAD: &str = "experiment_name: t\nbase_scenario: s\n";

    #[test]
    fn an_ordinary_batch_needs_no_confirmation() {
        let (_, _, c) = load(&format!("{HEAD}runs_per_variation: 10\n"), SCENARIO);
        assert_eq!(c, vec![]);
    }

    #[test]
    fn a_billion_runs_are_pointed_at_runs_per_variation() {
        let (_, plan, c) = load(&format!("{HEAD}runs_per_variation: 999999999\n"), SCENARIO);
        assert_eq!(plan.total_runs, 999_999_999);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].size, Size::Runs);
        assert_eq!((c[0].file.as_str(), c[0].line), ("b.yaml", Some(3)));
        assert!(c[0].text.contains("3 | runs_per_variation: 999999999"));
        assert!(c[0].text.contains("--yes"), "{}", c[0].text);
    }

    #[test]
    fn exactly_the_threshold_is_allowed() {
        let (_, _, c) = load(&format!("{HEAD}runs_per_variation: {MAX_RUNS}\n"), SCENARIO);
        assert_eq!(c, vec![]);
    }

    #[test]
    fn a_billion_turns_are_pointed_at_the_scenarios_turns() {
        let scenario = SCENARIO.replace("turns: 3", "turns: 1000000000");
        assert_ne!(scenario, SCENARIO, "the quick scenario says `turns: 3`");
        let (_, _, c) = load(HEAD, &scenario);
        assert_eq!(c.iter().map(|c| c.size).collect::<Vec<_>>(), [Size::Turns]);
        assert_eq!(c[0].file, "s/scenario.yaml");
        assert!(c[0].line.is_some());
        assert!(c[0].text.contains("turns: 1000000000"), "{}", c[0].text);
    }

    #[test]
    fn a_turns_variation_is_pointed_at_its_value() {
        let batch = format!("{HEAD}variations:\n  - type: scenario_parameter\n    parameter: turns\n    values: [3, 5000]\n");
        let (config, _, c) = load(&batch, SCENARIO);
        assert_eq!(longest_run(&config), 5000);
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].size, c[0].line), (Size::Turns, Some(6)));
    }

    #[test]
    fn a_cost_three_times_the_budget_needs_confirming_and_twice_does_not() {
        let base = format!(
            "{HEAD}all_models: test/m\nprices:\n  test/m: {{prompt: 1, completion: 1}}\nruns_per_variation: 10\n"
        );
        let (_, plan, c) = load(&base, SCENARIO);
        assert_eq!(c, vec![]);
        let cost = plan.cost_total.expect("priced").expected;
        let (_, _, far) = load(&format!("{base}budget_limit: {}\n", cost / 3.5), SCENARIO);
        assert_eq!(far.iter().map(|c| c.size).collect::<Vec<_>>(), [Size::Cost]);
        assert_eq!(far[0].line, Some(7));
        let (_, _, near) = load(&format!("{base}budget_limit: {}\n", cost / 2.0), SCENARIO);
        assert_eq!(near, vec![]);
    }

    #[test]
    fn a_run_far_longer_than_its_timeout_needs_confirming() {
        let base = format!("{HEAD}all_models: test/m\ntimeout_per_run: 1\n");
        let (_, plan, c) = load(&base, SCENARIO);
        assert!(plan.seconds_per_run > 3.0, "{}", plan.seconds_per_run);
        assert_eq!(c.iter().map(|c| c.size).collect::<Vec<_>>(), [Size::Time]);
        assert_eq!(c[0].line, Some(4));
    }
}
