//! Planning a batch (`--dry-run`): what will run, what it may cost, how long it may take, and
//! whether the budget allows it. A plan is computed from a loaded [`BatchConfig`] and a
//! [`PriceBook`]; it writes nothing and sends nothing.

pub mod calibrate;
pub mod confirm;
pub mod estimate;
mod render;
pub mod sharing;
pub mod variations;

pub use confirm::{Size, SizeCheck};
pub use estimate::{estimate_run, estimate_turns, Range, Role, RunEstimate};
pub use render::{render, usd_as_given};
pub use sharing::Sharing;
pub use variations::{Variation, VariationSpace};

use serde::{Deserialize, Serialize};

use crate::config::BatchConfig;
use crate::pricing::{Price, PriceBook};
use crate::schema::{BudgetStatus, RunId};

/// Variations estimated one by one; a larger space is estimated from an even sample of this
/// many (and says so).
pub const EXACT_LIMIT: u64 = 20_000;

/// Variations listed in a plan (all are counted and estimated).
pub const LISTED_LIMIT: u64 = 200;

/// One listed variation, with its own estimate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PlannedVariation {
    /// The variation.
    #[serde(flatten)]
    pub variation: Variation,
    /// Its first and last run ids.
    pub run_ids: (RunId, RunId),
    /// USD per run, when every price is known.
    pub cost_per_run: Option<Range>,
    /// Calls per run (expected).
    pub calls_per_run: f64,
}

/// A model the batch will call, and its price.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ModelUse {
    /// The model id.
    pub model: String,
    /// Its price, when known.
    pub price: Option<Price>,
    /// Whether its provider has a batch API (hosted models); a model without one runs
    /// realtime within the lock-step of `execution: batch`.
    pub batch_api: bool,
}

/// Whether the budget covers the plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BudgetVerdict {
    /// Whether it covers the plan.
    pub status: BudgetStatus,
    /// One sentence.
    pub message: String,
    /// About how many runs the budget pays for at the expected cost, when known.
    pub runs_affordable: Option<u64>,
}

/// What `planBatch` takes beside the config.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields))]
#[serde(rename_all = "camelCase")]
pub struct PlanOptions {
    /// The JSON text of OpenRouter's `GET /api/v1/models`, for current prices.
    pub openrouter_models: Option<String>,
    /// `--budget-limit` for the session the plan is for, over the config's `budget_limit`.
    pub budget_limit: Option<f64>,
    /// `"K/N"`: the plan is for that shard, which a note describes (its runs, its budget).
    #[cfg_attr(test, ts(as = "Option<String>"))]
    pub shard: Option<crate::batch::Shard>,
    /// `--output DIR`: the batch's output folder instead of the config's `output_dir`.
    pub output_dir: Option<String>,
}

/// How a plan or a calibration is rendered as text.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields))]
#[serde(rename_all = "camelCase")]
pub struct RenderOptions {
    /// ANSI colour (default off).
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<bool>"))]
    pub color: bool,
}

/// The plan of a batch.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Plan {
    /// Experiment name.
    pub experiment_name: String,
    /// Description.
    pub description: Option<String>,
    /// The config file.
    pub config_path: String,
    /// The scenario folder.
    pub scenario_dir: String,
    /// The scenario's name.
    pub scenario_name: String,
    /// The scenario's actors: (short_name, model).
    pub actors: Vec<(String, String)>,
    /// Turns of the base scenario.
    pub turns: u32,
    /// Turns of the longest run (the base scenario's, or the largest of a `turns` variation).
    #[serde(default)]
    pub longest_run_turns: u32,
    /// Where results go.
    pub output_dir: String,
    /// The dimensions.
    pub dimensions: Vec<crate::config::Dimension>,
    /// Number of variations.
    pub variation_count: u64,
    /// Runs per variation.
    pub runs_per_variation: u32,
    /// Variations × runs.
    pub total_runs: u64,
    /// Runs at once.
    pub max_parallel: u32,
    /// Whether run k of every variation shares its seed.
    pub pairing: crate::config::Pairing,
    /// When the batch may stop before `runs_per_variation`.
    pub stopping: Option<crate::config::Stopping>,
    /// For a group-sequential rule: the standardised effect (d_z paired, d unpaired) it has
    /// its power for.
    pub planned_effect: Option<f64>,
    /// Seconds per run allowed.
    pub timeout_per_run: f64,
    /// Batch budget, USD.
    pub budget_limit: Option<f64>,
    /// Run budget, USD.
    pub cost_per_run_limit: Option<f64>,
    /// The first variations, with their estimates.
    pub variations: Vec<PlannedVariation>,
    /// Whether `variations` lists them all.
    pub variations_listed_all: bool,
    /// How many variations the estimate was computed from.
    pub variations_estimated: u64,
    /// Calls of an average run, by role.
    pub calls_per_run: estimate::Calls,
    /// USD of an average run, when every price is known.
    pub cost_per_run: Option<Range>,
    /// USD of the whole batch, when every price is known.
    pub cost_total: Option<Range>,
    /// USD for the whole batch with `execution: batch` (providers' batch prices).
    pub cost_total_batch: Option<Range>,
    /// With an `intervention` variation: what running its shared turns once saves (the
    /// costs above already count it).
    pub sharing: Option<Sharing>,
    /// How the config says the calls go.
    pub execution: crate::config::Execution,
    /// USD of an average run by role (known prices only).
    pub cost_by_role: Vec<(Role, Range)>,
    /// Every model the batch calls, with its price.
    pub models: Vec<ModelUse>,
    /// Models with no known price.
    pub unknown_price_models: Vec<String>,
    /// Seconds of an average run.
    pub seconds_per_run: f64,
    /// Seconds of the batch at `max_parallel`.
    pub seconds_total: f64,
    /// The budget verdict.
    pub budget: BudgetVerdict,
    /// Things worth knowing before running.
    pub notes: Vec<String>,
    /// Sizes so large they must be confirmed before the batch starts (see [`confirm`]); the
    /// hosts ask on a terminal, and refuse elsewhere without `--yes`. Filled in by
    /// [`confirm::checks`], which points each at its line.
    #[serde(default)]
    pub confirm: Vec<SizeCheck>,
    /// The command that runs it.
    pub command: String,
}

/// The variations a plan looks at: every one up to [`EXACT_LIMIT`], else an even sample.
fn sampled<'s>(space: &'s VariationSpace<'_>) -> impl Iterator<Item = Variation> + 's {
    let count = space.count();
    let step = count.div_ceil(EXACT_LIMIT).max(1);
    (0..count).step_by(step as usize).map(|i| space.get(i))
}

/// Every model a batch calls: the models of each variation's scenario, which is the base
/// scenario with the variation applied (a base model that every variation replaces is not
/// called). The plan lists these, and a budget needs a price for each of them.
pub fn called_models(config: &BatchConfig) -> Vec<String> {
    let space = VariationSpace::new(&config.variations);
    // An intervention's arm may change a model from its turn on: both scenarios count.
    let mut models: Vec<String> = sampled(&space)
        .filter_map(|v| variations::scenarios(&config.scenario, &v.modifications).ok())
        .flatten()
        .flat_map(|s| s.models())
        .collect();
    models.sort();
    models.dedup();
    models
}

/// Plans a loaded batch.
pub fn plan(config: &BatchConfig, book: &PriceBook) -> Plan {
    let space = VariationSpace::new(&config.variations);
    let count = space.count();
    let runs = config.runs_per_variation as u64;
    let total_runs = count.saturating_mul(runs);
    let mut sum_cost = Range::default();
    let mut sum_batch = Range::default();
    let mut sum_calls = estimate::Calls::default();
    let mut sum_by_role: Vec<(Role, Range)> = Vec::new();
    let mut sum_seconds = 0.0;
    let mut unknown: Vec<String> = Vec::new();
    let mut estimated = 0u64;
    let mut largest_reservation: f64 = 0.0;
    let mut notes = Vec::new();
    let mut saved_cost = Some(Range::default());
    let mut saved_calls = 0.0;
    for v in sampled(&space) {
        let estimate =
            match sharing::estimate_variation(&config.scenario, &config.variations, &v, book) {
                Ok(e) => e,
                Err(e) => {
                    notes.push(format!(
                        "variation {} cannot be applied: {e}",
                        v.variation_id
                    ));
                    continue;
                }
            };
        if let Some(shared) = &estimate.shared {
            saved_calls += shared.calls.total().expected;
            saved_cost = saved_cost.zip(shared.cost).map(|(mut a, b)| {
                a.add(b);
                a
            });
        }
        let e = estimate.run;
        largest_reservation = largest_reservation.max(e.largest_reservation);
        for m in &e.unknown_price_models {
            if !unknown.contains(m) {
                unknown.push(m.clone());
            }
        }
        if let Some(c) = e.cost {
            sum_cost.add(c);
        }
        if let Some(c) = e.cost_batch {
            sum_batch.add(c);
        }
        for r in estimate::ROLES {
            sum_calls.slot(r).add(e.calls.get(r));
        }
        for (role, r) in &e.cost_by_role {
            match sum_by_role.iter_mut().find(|(x, _)| x == role) {
                Some((_, acc)) => acc.add(*r),
                None => sum_by_role.push((*role, *r)),
            }
        }
        sum_seconds += e.seconds;
        estimated += 1;
    }
    let listed: Vec<PlannedVariation> = space
        .first(LISTED_LIMIT)
        .map(|v| {
            let e = sharing::estimate_variation(&config.scenario, &config.variations, &v, book)
                .map(|e| e.run)
                .unwrap_or_default();
            PlannedVariation {
                run_ids: (
                    RunId {
                        variation: v.variation_id,
                        run: 1,
                    },
                    RunId {
                        variation: v.variation_id,
                        run: runs,
                    },
                ),
                cost_per_run: e.cost,
                calls_per_run: e.calls.total().expected,
                variation: v,
            }
        })
        .collect();
    let k = 1.0 / estimated.max(1) as f64;
    let avg_calls = sum_calls.scale(k);
    unknown.sort();
    let models = called_models(config);
    let cost_per_run = unknown.is_empty().then(|| sum_cost.scale(k));
    let cost_total = cost_per_run.map(|c| c.scale(total_runs as f64));
    let cost_total_batch = unknown
        .is_empty()
        .then(|| sum_batch.scale(k * total_runs as f64));
    let seconds_per_run = sum_seconds * k;
    let sharing = sharing::intervention(&config.variations).map(|(_, at_turn, arms)| Sharing {
        at_turn,
        arms,
        branched_runs: total_runs / arms.max(1) * arms.saturating_sub(1),
        calls_saved: saved_calls * k * total_runs as f64,
        cost_saved: unknown
            .is_empty()
            .then_some(saved_cost)
            .flatten()
            .map(|c| c.scale(k * total_runs as f64)),
    });
    let waves = total_runs.div_ceil(config.max_parallel.max(1) as u64) as f64;
    if estimated < count {
        notes.push(format!(
            "the estimate averages {estimated} variations sampled evenly from {count}"
        ));
    }
    let budget = verdict(config, cost_per_run, cost_total, total_runs, &unknown);
    if let (Some(limit), Some(c)) = (config.cost_per_run_limit, cost_per_run) {
        if c.expected > limit {
            notes.push(format!("a run is expected to cost ${:.4}, above cost_per_run_limit (${limit:.2}): most runs would stop at their limit", c.expected));
        } else if c.high > limit {
            notes.push(format!("at the high estimate a run costs ${:.4}: some runs may stop at cost_per_run_limit (${limit:.2})", c.high));
        }
    }
    for (name, limit) in [
        ("budget_limit", config.budget_limit),
        ("cost_per_run_limit", config.cost_per_run_limit),
    ] {
        if let Some(limit) = limit.filter(|l| *l < largest_reservation) {
            notes.push(format!("one call may cost up to about ${largest_reservation:.4} (its prompt at 4 bytes a token and its output cap, at its model's price), more than {name} (${limit:.4}): such a call can never be sent; raise the limit or lower the cap (`max_tokens:`)"));
        }
    }
    if seconds_per_run > config.timeout_per_run {
        notes.push(format!(
            "a run is expected to take {:.0} s, longer than timeout_per_run ({:.0} s)",
            seconds_per_run, config.timeout_per_run
        ));
    }
    Plan {
        experiment_name: config.experiment_name.clone(),
        description: config.description.clone(),
        config_path: config.path.clone(),
        scenario_dir: config.scenario_dir.clone(),
        scenario_name: config.scenario.name.clone(),
        actors: config
            .scenario
            .actors
            .iter()
            .map(|a| (a.short_name.clone(), a.model.clone()))
            .collect(),
        turns: config.scenario.turns,
        longest_run_turns: confirm::longest_run(config),
        output_dir: config.output_dir.clone(),
        dimensions: config.variations.clone(),
        variation_count: count,
        runs_per_variation: config.runs_per_variation,
        total_runs,
        max_parallel: config.max_parallel,
        pairing: config.pairing,
        stopping: config.stopping.clone(),
        planned_effect: config.stopping.as_ref().and_then(|rule| {
            crate::batch::stopping::Stopper::new(rule, config.pairing, config.runs_per_variation)?
                .record()
                .planned_effect
        }),
        timeout_per_run: config.timeout_per_run,
        budget_limit: config.budget_limit,
        cost_per_run_limit: config.cost_per_run_limit,
        variations_listed_all: listed.len() as u64 == count,
        variations: listed,
        variations_estimated: estimated,
        calls_per_run: avg_calls,
        cost_per_run,
        cost_total,
        cost_total_batch,
        sharing,
        execution: config.execution,
        cost_by_role: sum_by_role
            .into_iter()
            .map(|(r, c)| (r, c.scale(k)))
            .collect(),
        models: models
            .into_iter()
            .map(|m| ModelUse {
                price: book.price(&m),
                batch_api: crate::llm::route::is_hosted(&m),
                model: m,
            })
            .collect(),
        unknown_price_models: unknown,
        seconds_per_run,
        seconds_total: waves * seconds_per_run,
        budget,
        notes,
        confirm: Vec::new(),
        command: format!("npx scenario-lab run {}", config.path),
    }
}

fn verdict(
    config: &BatchConfig,
    per_run: Option<Range>,
    total: Option<Range>,
    runs: u64,
    unknown: &[String],
) -> BudgetVerdict {
    let Some(budget) = config.budget_limit else {
        let message = match total {
            Some(t) => format!(
                "no budget_limit is set: nothing caps the spend (expected ${:.2})",
                t.expected
            ),
            None => "no budget_limit is set: nothing caps the spend".to_string(),
        };
        return BudgetVerdict {
            status: BudgetStatus::NoBudget,
            message,
            runs_affordable: None,
        };
    };
    let (Some(per_run), Some(total)) = (per_run, total) else {
        return BudgetVerdict {
            status: BudgetStatus::Unknown,
            message: format!(
                "cannot check the budget: no known price for {}; add them under `prices:` (USD per million prompt and completion tokens); the batch will refuse to start until then",
                unknown.join(", ")
            ),
            runs_affordable: None,
        };
    };
    let affordable = |per: f64| {
        if per <= 0.0 {
            runs
        } else {
            ((budget / per).floor() as u64).min(runs)
        }
    };
    if total.high <= budget {
        BudgetVerdict { status: BudgetStatus::Fits, message: format!("the budget (${budget:.2}) covers all {runs} runs even at the high estimate (${:.2})", total.high), runs_affordable: Some(runs) }
    } else if total.expected <= budget {
        BudgetVerdict {
            status: BudgetStatus::Tight,
            message: format!("the expected ${:.2} fits the budget (${budget:.2}), but at the high estimate it covers about {} of {runs} runs", total.expected, affordable(per_run.high)),
            runs_affordable: Some(affordable(per_run.expected)),
        }
    } else {
        let n = affordable(per_run.expected);
        BudgetVerdict {
            status: BudgetStatus::Short,
            message: format!("the budget (${budget:.2}) allows about {n} of {runs} runs (expected ${:.4} a run); the batch will stop when it is spent and can be resumed with a higher limit", per_run.expected),
            runs_affordable: Some(n),
        }
    }
}
