//! The estimate that learns: once some runs of a batch exist (a `--pilot`, or a batch stopped
//! early), the cost of the rest is estimated from what the recorded calls actually used.
//!
//! Inputs are the run folders' `llm-calls.jsonl` and `scenario-state.json`, read through
//! [`Storage`] by [`read_runs`] and turned into [`RecordedRun`]s by the pure [`parse_run`];
//! [`calibrate`] is a pure function of the config, the prices and those records.
//!
//! The model, for each variation and each kind of call (role, model):
//! - **tokens per call**: the mean prompt and completion tokens of the recorded calls of that
//!   (role, model), from completed runs when they have any, else from every run; for a pair
//!   never recorded, the role's mean over its other models; for a role never recorded, the
//!   built-in token model of [`super::estimate`];
//! - **calls per run**: the mean over the variation's own completed runs; for a variation with
//!   none, the built-in call count scaled by how far the recorded runs were from it, role by
//!   role (observed / built-in calls over every completed run);
//! - **price**: the [`PriceBook`] (a model with no price is priced by its recorded cost per
//!   call when the provider reported one, else the estimate is unknown).
//!
//! The rest of the batch is every run not completed: a run that stopped part-way (halted,
//! failed, interrupted) counts for the share of a run its missing turns cost in completed runs
//! (later turns carry longer prompts), less the calls it recorded past its last complete turn,
//! which a resume replays for free.
//!
//! The range is a 95% interval: the expected cost ± t·sd, where the sd comes from the
//! run-to-run spread of the completed runs (their recorded tokens priced the same way, relative
//! to their variation's estimate, with n - g degrees of freedom for n runs in g variations) and
//! counts both the remaining runs' own variation and the error of each variation's mean, known
//! from its own completed runs only; t is Student's for those degrees of freedom, so a pilot of
//! two runs per variation gets a wide range. Without two completed runs in some variation the
//! built-in model's range is used, scaled.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::estimate::{estimate_run, Range, Role, RunEstimate, ROLES};
use super::variations::{apply, parse_run_id, VariationSpace};
use super::EXACT_LIMIT;
use crate::config::{BatchConfig, Extraction, Scenario};
use crate::host::{Storage, StorageError};
use crate::paths;
use crate::pricing::{nanos_to_usd, Nanos, PriceBook};
use crate::schema::{RunFolder, RunStatus};

/// The texts: the dry run with the rest of a started batch, and the rest on its own.
pub use super::render::{render_calibration, render_with};

/// One recorded LLM call, as much of it as the estimate needs (the call log's lines are read
/// without their replies).
use crate::schema::run::CallUsage;

/// What one run folder holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RecordedRun {
    /// `var-NNN-run-MMM`.
    pub run_id: String,
    /// The 1-based variation id.
    pub variation_id: u64,
    /// The 1-based run number in its variation.
    pub run_number: u64,
    /// Its status, when its state file could be read.
    pub status: Option<RunStatus>,
    /// Turns completed.
    pub current_turn: u32,
    /// Its recorded calls (none when the run kept no call log).
    pub calls: Vec<CallUsage>,
    /// What it spent: its calls, or its `costs.json` when it kept no call log.
    pub cost_nanos: Nanos,
}

impl RecordedRun {
    fn completed(&self) -> bool {
        self.status == Some(RunStatus::Completed)
    }
}

/// A run from the texts of its files (`None` when `name` is not a run folder's name).
pub fn parse_run(
    name: &str,
    state: Option<&str>,
    call_log: Option<&str>,
    costs: Option<&str>,
) -> Option<RecordedRun> {
    let ids = parse_run_id(name)?;
    Some(recorded(
        name,
        ids,
        RunFolder::parse(state, call_log, costs),
    ))
}

fn recorded(name: &str, (variation_id, run_number): (u64, u64), f: RunFolder) -> RecordedRun {
    RecordedRun {
        run_id: name.to_string(),
        variation_id,
        run_number,
        cost_nanos: f.cost_nanos(),
        status: f.standing.as_ref().map(|s| s.status),
        current_turn: f.standing.as_ref().map_or(0, |s| s.current_turn),
        calls: f.calls,
    }
}

/// Reads every run folder under `<output_dir>/runs/` (none when the batch has not started).
pub async fn read_runs<S: Storage>(
    storage: &S,
    output_dir: &str,
) -> Result<Vec<RecordedRun>, StorageError> {
    let runs_dir = paths::join(&paths::normalize(output_dir), "runs");
    let mut out = Vec::new();
    for name in storage.list(&runs_dir).await?.unwrap_or_default() {
        let Some(ids) = parse_run_id(&name) else {
            continue;
        };
        if let Some(folder) = RunFolder::read(storage, &paths::join(&runs_dir, &name)).await? {
            out.push(recorded(&name, ids, folder));
        }
    }
    Ok(out)
}

/// Where the estimate of the rest comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// No call recorded yet: the built-in token model.
    BuiltIn,
    /// Recorded calls.
    Calibrated,
}

/// Where the tokens of one kind of call come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum TokenSource {
    /// Recorded calls of this role and model.
    Recorded,
    /// Recorded calls of this role on other models.
    Role,
    /// Never recorded: the built-in token model.
    BuiltIn,
}

/// What the recorded calls of one (role, model) used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct TokenStats {
    /// The role.
    pub role: Role,
    /// The model.
    pub model: String,
    /// Calls recorded.
    pub calls: u64,
    /// Mean prompt tokens a call.
    pub prompt_tokens: f64,
    /// Mean completion tokens a call.
    pub completion_tokens: f64,
    /// Mean USD a call, at the price book's price (at its recorded cost when there is none).
    pub cost_per_call: Option<f64>,
}

/// How one role of the rest was estimated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RoleBasis {
    /// The role.
    pub role: Role,
    /// Calls of the role recorded.
    pub calls_recorded: u64,
    /// Calls of the role an average remaining run makes (calibrated).
    pub calls_per_run: f64,
    /// Calls of the role an average run makes in the built-in model.
    pub built_in_calls_per_run: f64,
    /// Where its tokens come from.
    pub tokens: TokenSource,
}

/// What `calibrateBatch` takes beside the config: `PlanOptions`, and the session's budget.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields))]
#[serde(rename_all = "camelCase")]
pub struct CalibrateOptions {
    /// The JSON text of OpenRouter's `GET /api/v1/models`, for current prices.
    pub openrouter_models: Option<String>,
    /// Overrides the config's `budget_limit` (USD), as `runBatch` takes it.
    pub budget_limit: Option<f64>,
    /// `--output DIR`: the batch's output folder (where its runs are read) instead of the
    /// config's `output_dir`, as `runBatch` takes it.
    pub output_dir: Option<String>,
}

/// How `renderCalibration` renders.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields))]
#[serde(rename_all = "camelCase")]
pub struct CalibrationRenderOptions {
    /// ANSI colour (default off).
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<bool>"))]
    pub color: bool,
    /// A plan from `planBatch`: render the whole dry run, with the rest of the batch after it.
    pub plan: Option<super::Plan>,
}

/// The estimate of the rest of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Calibration {
    /// The experiment.
    pub experiment_name: String,
    /// The batch config.
    pub config_path: String,
    /// Where the runs are.
    pub output_dir: String,
    /// `built_in` or `calibrated`.
    pub basis: Basis,
    /// The basis in words: `calibrated from 214 recorded calls in 4 runs`.
    pub basis_text: String,
    /// Calls recorded (every run folder).
    pub calls_recorded: u64,
    /// Run folders holding recorded calls.
    pub runs_with_calls: u64,
    /// Run folders of this batch.
    pub runs_recorded: u64,
    /// Runs completed.
    pub runs_completed: u64,
    /// Runs started and not completed (halted, failed, interrupted).
    pub runs_partial: u64,
    /// Runs of the whole batch.
    pub total_runs: u64,
    /// Runs not completed: what the rest is.
    pub remaining_runs: u64,
    /// USD of the rest, when every price is known.
    pub remaining_cost: Option<Range>,
    /// USD of the rest by the built-in token model alone, for comparison.
    pub built_in_remaining_cost: Option<Range>,
    /// USD of an average full run, calibrated.
    pub cost_per_run: Option<f64>,
    /// Spent so far, USD.
    pub spent: f64,
    /// Spent so far, nano-dollars.
    pub spent_nanos: Nanos,
    /// The batch budget, USD.
    pub budget_limit: Option<f64>,
    /// Whether the budget left covers the rest, in one sentence (none without a budget).
    pub budget_message: Option<String>,
    /// Tokens of every recorded (role, model).
    pub tokens: Vec<TokenStats>,
    /// How each role the rest calls was estimated.
    pub roles: Vec<RoleBasis>,
    /// Models with no known price (and no recorded cost).
    pub unknown_price_models: Vec<String>,
    /// Things worth knowing.
    pub notes: Vec<String>,
    /// The question a terminal asks before running the rest.
    pub question: String,
    /// The command that runs the rest.
    pub command: String,
}

/// Sums of recorded tokens.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    calls: u64,
    prompt: f64,
    completion: f64,
    cost_nanos: f64,
}

impl Acc {
    fn add(&mut self, c: &CallUsage) {
        self.calls += 1;
        self.prompt += c.prompt_tokens as f64;
        self.completion += c.completion_tokens as f64;
        self.cost_nanos += c.cost_nanos as f64;
    }
    fn mean(&self) -> (f64, f64, f64) {
        let n = self.calls.max(1) as f64;
        (self.prompt / n, self.completion / n, self.cost_nanos / n)
    }
}

/// Recorded tokens by (role, model) and by role, from completed runs and from every run.
#[derive(Default)]
struct Tokens {
    pair_done: BTreeMap<(&'static str, String), Acc>,
    pair_all: BTreeMap<(&'static str, String), Acc>,
    role_done: BTreeMap<&'static str, Acc>,
    role_all: BTreeMap<&'static str, Acc>,
}

impl Tokens {
    fn new(runs: &[&RecordedRun]) -> Tokens {
        let mut t = Tokens::default();
        for r in runs {
            for c in &r.calls {
                let key = (c.role.as_str(), c.model.clone());
                t.pair_all.entry(key.clone()).or_default().add(c);
                t.role_all.entry(c.role.as_str()).or_default().add(c);
                if r.completed() {
                    t.pair_done.entry(key).or_default().add(c);
                    t.role_done.entry(c.role.as_str()).or_default().add(c);
                }
            }
        }
        t
    }

    /// Mean (prompt, completion, recorded cost) of a call of `role` on `model`, and where from.
    fn per_call(&self, role: Role, model: &str) -> Option<((f64, f64, f64), TokenSource)> {
        let key = (role.as_str(), model.to_string());
        if let Some(a) = self.pair_done.get(&key).or_else(|| self.pair_all.get(&key)) {
            return Some((a.mean(), TokenSource::Recorded));
        }
        let a = self
            .role_done
            .get(role.as_str())
            .or_else(|| self.role_all.get(role.as_str()))?;
        // Another model's recorded cost says nothing of this one's price.
        let (p, c, _) = a.mean();
        Some(((p, c, f64::NAN), TokenSource::Role))
    }
}

/// The models a scenario calls for each role, weighted by how many of the role's calls each
/// makes (the engine's choices: actors speak with their own model; the world update and
/// summaries use the world model; metrics and checks their own model, else the world model).
fn models_for_role(s: &Scenario, role: Role) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = Vec::new();
    let mut add = |m: &str, w: f64| match out.iter_mut().find(|(x, _)| x == m) {
        Some((_, acc)) => *acc += w,
        None => out.push((m.to_string(), w)),
    };
    let n = s.actors.len() as f64;
    match role {
        Role::Actor | Role::Communication => {
            for a in &s.actors {
                add(&a.model, 1.0);
            }
        }
        Role::World | Role::Summary => add(&s.world_state_model, 1.0),
        Role::Metric => {
            for m in &s.metrics {
                if let Extraction::Llm { model, .. } = &m.extraction {
                    let times = if m.actor_specific && m.actor.is_none() {
                        n
                    } else {
                        1.0
                    };
                    add(model.as_deref().unwrap_or(&s.world_state_model), times);
                }
            }
        }
        Role::Check => {
            if let Some(c) = &s.checks {
                let model = c.model.as_deref().unwrap_or(&s.world_state_model);
                for check in c.enabled() {
                    add(model, if check.per_actor() { n } else { 1.0 });
                }
            }
        }
    }
    let total: f64 = out.iter().map(|(_, w)| w).sum();
    if total > 0.0 {
        for (_, w) in &mut out {
            *w /= total;
        }
    }
    out
}

/// What is known of one variation.
struct Var {
    turns: u32,
    est: RunEstimate,
    /// Calibrated USD of one full run; `None` when a price is unknown.
    cost: Option<f64>,
    /// Calibrated calls per run by role.
    calls: BTreeMap<&'static str, f64>,
    /// USD of one call, by (role, model), as priced for this variation.
    per_call: BTreeMap<(&'static str, String), f64>,
    unknown: Vec<String>,
}

/// Everything `calibrate` works from.
struct Ctx<'a> {
    config: &'a BatchConfig,
    book: &'a PriceBook,
    tokens: Tokens,
    /// Completed runs with calls, by variation id.
    done_by_var: BTreeMap<u64, Vec<&'a RecordedRun>>,
    /// Observed / built-in calls per role over every completed run.
    ratio: BTreeMap<&'static str, f64>,
    /// Observed calls per completed run, by role (for roles the built-in model never calls).
    observed_per_run: BTreeMap<&'static str, f64>,
    sources: BTreeMap<&'static str, TokenSource>,
}

impl Ctx<'_> {
    fn scenario(&self, variation_id: u64) -> Result<Scenario, String> {
        let v = VariationSpace::new(&self.config.variations).get(variation_id - 1);
        apply(&self.config.scenario, &v.modifications)
    }

    /// USD of one call of `role` on `model`, or `None` when neither a price nor a recorded cost
    /// is known. `built_in` is the built-in model's USD per call of the role in this variation.
    fn call_cost(&mut self, role: Role, model: &str, built_in: Option<f64>) -> Option<f64> {
        let price = self.book.price(model);
        match self.tokens.per_call(role, model) {
            Some(((p, c, recorded), source)) => {
                self.note_source(role, source);
                match price {
                    Some(price) => Some(price.cost_usd(p, c)),
                    None if recorded > 0.0 => Some(recorded / 1e9),
                    None => None,
                }
            }
            None => {
                self.note_source(role, TokenSource::BuiltIn);
                built_in
            }
        }
    }

    fn note_source(&mut self, role: Role, source: TokenSource) {
        let rank = |s: &TokenSource| match s {
            TokenSource::Recorded => 0,
            TokenSource::Role => 1,
            TokenSource::BuiltIn => 2,
        };
        let e = self.sources.entry(role.as_str()).or_insert(source);
        if rank(&source) > rank(e) {
            *e = source;
        }
    }

    fn var(&mut self, variation_id: u64) -> Var {
        let scenario = match self.scenario(variation_id) {
            Ok(s) => s,
            Err(_) => {
                // Its runs fail at once, at no cost (the plan names the problem).
                return Var {
                    turns: 1,
                    est: RunEstimate::default(),
                    cost: Some(0.0),
                    calls: BTreeMap::new(),
                    per_call: BTreeMap::new(),
                    unknown: vec![],
                };
            }
        };
        let est = estimate_run(&scenario, self.book);
        // Calls per run by (role, model): the variation's own completed runs, else the
        // built-in count scaled by the recorded ratio and split by the scenario's models.
        let mut mix: BTreeMap<(&'static str, String), (Role, f64)> = BTreeMap::new();
        let own = self
            .done_by_var
            .get(&variation_id)
            .cloned()
            .unwrap_or_default();
        if !own.is_empty() {
            let k = 1.0 / own.len() as f64;
            for r in &own {
                for c in &r.calls {
                    mix.entry((c.role.as_str(), c.model.clone()))
                        .or_insert((c.role, 0.0))
                        .1 += k;
                }
            }
        } else {
            for role in ROLES {
                let built = est.calls.get(role).expected;
                let calls = match self.ratio.get(role.as_str()) {
                    Some(r) if built > 0.0 => built * r,
                    _ if built > 0.0 => built,
                    _ => self
                        .observed_per_run
                        .get(role.as_str())
                        .copied()
                        .unwrap_or(0.0),
                };
                if calls <= 0.0 {
                    continue;
                }
                for (model, w) in models_for_role(&scenario, role) {
                    mix.entry((role.as_str(), model)).or_insert((role, 0.0)).1 += calls * w;
                }
            }
        }
        let mut cost = 0.0;
        let mut unknown = Vec::new();
        let mut calls: BTreeMap<&'static str, f64> = BTreeMap::new();
        let mut per_call = BTreeMap::new();
        for ((role_name, model), (role, n)) in mix {
            *calls.entry(role_name).or_default() += n;
            let built_in = est
                .cost_by_role
                .iter()
                .find(|(r, _)| *r == role)
                .map(|(_, c)| c.expected)
                .filter(|_| {
                    est.calls.get(role).expected > 0.0 && est.unknown_price_models.is_empty()
                })
                .map(|c| c / est.calls.get(role).expected);
            match self.call_cost(role, &model, built_in) {
                Some(c) => {
                    cost += n * c;
                    per_call.insert((role_name, model), c);
                }
                None => unknown.push(model),
            }
        }
        unknown.sort();
        unknown.dedup();
        Var {
            turns: scenario.turns.max(1),
            est,
            cost: unknown.is_empty().then_some(cost),
            calls,
            per_call,
            unknown,
        }
    }
}

/// The two-sided 95% quantile of Student's t with `df` degrees of freedom (12.7 for 1, 4.3 for
/// 2, 2.2 for 10, 1.96 for many): a spread measured on a handful of runs is widened to match.
fn t95(df: usize) -> f64 {
    match df {
        // No degrees of freedom: no spread was measured, and the normal quantile stands in.
        0 => 1.96,
        _ => crate::stats::dist::t_isf(0.025, df as f64),
    }
}

/// USD of a recorded call at the price book's price (its recorded cost when there is none).
fn priced(book: &PriceBook, c: &CallUsage) -> f64 {
    match book.price(&c.model) {
        Some(p) => p.cost_usd(c.prompt_tokens as f64, c.completion_tokens as f64),
        None => nanos_to_usd(c.cost_nanos),
    }
}

/// The share of a run's cost spent by the end of turn `t`, in completed runs of `turns` turns
/// (later turns have longer prompts); `t / turns` when no completed run says.
fn share_done(book: &PriceBook, completed: &[&RecordedRun], turns: u32, t: u32) -> f64 {
    if t >= turns {
        return 1.0;
    }
    let shares: Vec<f64> = completed
        .iter()
        .filter(|r| r.current_turn == turns && !r.calls.is_empty())
        .filter_map(|r| {
            let total: f64 = r.calls.iter().map(|c| priced(book, c)).sum();
            let (done, all) = if total > 0.0 {
                let done: f64 = r
                    .calls
                    .iter()
                    .filter(|c| c.turn <= t)
                    .map(|c| priced(book, c))
                    .sum();
                (done, total)
            } else {
                let done = r.calls.iter().filter(|c| c.turn <= t).count() as f64;
                (done, r.calls.len() as f64)
            };
            (all > 0.0).then(|| done / all)
        })
        .collect();
    if shares.is_empty() {
        f64::from(t) / f64::from(turns)
    } else {
        shares.iter().sum::<f64>() / shares.len() as f64
    }
}

/// Estimates the rest of a batch from its recorded runs, priced by `book`.
pub fn calibrate(config: &BatchConfig, book: &PriceBook, runs: &[RecordedRun]) -> Calibration {
    let space = VariationSpace::new(&config.variations);
    let count = space.count();
    let per_var = u64::from(config.runs_per_variation);
    let total_runs = count.saturating_mul(per_var);
    let runs: Vec<&RecordedRun> = runs
        .iter()
        .filter(|r| (1..=count).contains(&r.variation_id) && (1..=per_var).contains(&r.run_number))
        .collect();
    let completed: Vec<&RecordedRun> = runs.iter().copied().filter(|r| r.completed()).collect();
    let spent_nanos: Nanos = runs.iter().map(|r| r.cost_nanos).sum();
    let calls_recorded: u64 = runs.iter().map(|r| r.calls.len() as u64).sum();
    let runs_with_calls = runs.iter().filter(|r| !r.calls.is_empty()).count() as u64;
    let mut done_by_var: BTreeMap<u64, Vec<&RecordedRun>> = BTreeMap::new();
    for r in completed.iter().filter(|r| !r.calls.is_empty()) {
        done_by_var.entry(r.variation_id).or_default().push(r);
    }
    let mut ctx = Ctx {
        config,
        book,
        tokens: Tokens::new(&runs),
        done_by_var,
        ratio: BTreeMap::new(),
        observed_per_run: BTreeMap::new(),
        sources: BTreeMap::new(),
    };
    // How far the recorded runs were from the built-in call counts, role by role.
    let mut built_in_calls: BTreeMap<u64, RunEstimate> = BTreeMap::new();
    let mut observed: BTreeMap<&'static str, f64> = BTreeMap::new();
    let mut expected: BTreeMap<&'static str, f64> = BTreeMap::new();
    let informative: Vec<&RecordedRun> = completed
        .iter()
        .copied()
        .filter(|r| !r.calls.is_empty())
        .collect();
    for r in &informative {
        let est = built_in_calls.entry(r.variation_id).or_insert_with(|| {
            ctx.scenario(r.variation_id)
                .map(|s| estimate_run(&s, book))
                .unwrap_or_default()
        });
        for role in ROLES {
            *expected.entry(role.as_str()).or_default() += est.calls.get(role).expected;
        }
        for c in &r.calls {
            *observed.entry(c.role.as_str()).or_default() += 1.0;
        }
    }
    for role in ROLES {
        let o = observed.get(role.as_str()).copied().unwrap_or(0.0);
        let e = expected.get(role.as_str()).copied().unwrap_or(0.0);
        if !informative.is_empty() {
            if e > 0.0 {
                ctx.ratio.insert(role.as_str(), o / e);
            }
            ctx.observed_per_run
                .insert(role.as_str(), o / informative.len() as f64);
        }
    }

    // Every variation (an even sample of a very large space), then the recorded runs' own.
    let step = count.div_ceil(EXACT_LIMIT).max(1);
    let mut vars: BTreeMap<u64, Var> = BTreeMap::new();
    let mut sampled: Vec<u64> = Vec::new();
    let mut index = 0;
    while index < count {
        sampled.push(index + 1);
        index += step;
    }
    for id in sampled
        .iter()
        .copied()
        .chain(runs.iter().map(|r| r.variation_id))
    {
        if let std::collections::btree_map::Entry::Vacant(e) = vars.entry(id) {
            e.insert(ctx.var(id));
        }
    }
    let scale = count as f64 / sampled.len().max(1) as f64 * per_var as f64;

    let mut unknown: Vec<String> = vars.values().flat_map(|v| v.unknown.clone()).collect();
    unknown.sort();
    unknown.dedup();

    // The whole batch, calibrated and built-in, then what the recorded runs already did.
    let mut all = 0.0;
    let mut all_built = Range::default();
    let mut built_known = true;
    for id in &sampled {
        let v = &vars[id];
        let c = v.cost.unwrap_or(0.0);
        all += c * scale;
        match v.est.cost {
            Some(b) => all_built.add(b.scale(scale)),
            None => built_known = false,
        }
    }
    let mut done = 0.0;
    let mut done_built = Range::default();
    // Run-equivalents already done, by variation.
    let mut done_runs: BTreeMap<u64, f64> = BTreeMap::new();
    let mut runs_partial = 0;
    for r in &runs {
        let v = &vars[&r.variation_id];
        let mu = v.cost.unwrap_or(0.0);
        let fraction = if r.completed() {
            1.0
        } else {
            runs_partial += 1;
            let t = r.current_turn.min(v.turns);
            let turns_done = share_done(book, &completed, v.turns, t);
            // Calls recorded past the last complete turn are replayed by a resume, not paid.
            let replayed: f64 = r
                .calls
                .iter()
                .filter(|c| c.turn > t)
                .filter_map(|c| v.per_call.get(&(c.role.as_str(), c.model.clone())))
                .sum();
            let extra = if mu > 0.0 { replayed / mu } else { 0.0 };
            (turns_done + extra).min(1.0)
        };
        done += fraction * mu;
        *done_runs.entry(r.variation_id).or_default() += fraction;
        if let Some(b) = v.est.cost {
            done_built.add(b.scale(fraction));
        }
    }
    let remaining_runs = total_runs.saturating_sub(completed.len() as u64);
    // Nothing left is exactly nothing, not the rounding left by `all - done`.
    let expected_rest = if remaining_runs == 0 {
        0.0
    } else {
        (all - done).max(0.0)
    };
    let built_in_remaining_cost = built_known.then(|| Range {
        low: (all_built.low - done_built.low).max(0.0),
        expected: (all_built.expected - done_built.expected).max(0.0),
        high: (all_built.high - done_built.high).max(0.0),
    });

    // The spread: each completed run's recorded tokens, priced, relative to its variation's
    // estimate. The estimates were fitted to these runs (one mean per variation), so the
    // residuals have n - g degrees of freedom.
    let ratios: Vec<(u64, f64)> = informative
        .iter()
        .filter_map(|r| {
            let mu = vars[&r.variation_id].cost?;
            (mu > 0.0).then(|| {
                let x = r.calls.iter().map(|c| priced(book, c)).sum::<f64>();
                (r.variation_id, x / mu)
            })
        })
        .collect();
    let groups = ratios
        .iter()
        .map(|(v, _)| *v)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let df = ratios.len().saturating_sub(groups);
    let spread = (df >= 1).then(|| {
        let s2 = ratios.iter().map(|(_, x)| (x - 1.0).powi(2)).sum::<f64>() / df as f64;
        // Each remaining run varies on its own; each variation's mean is known from its own
        // completed runs (from all of them when it has none).
        let own = |v: u64| ctx.done_by_var.get(&v).map_or(0, Vec::len);
        let mut runs_var = 0.0;
        let mut mean_var = 0.0;
        for id in &sampled {
            let mu = vars[id].cost.unwrap_or(0.0);
            let left = (per_var as f64 - done_runs.get(id).copied().unwrap_or(0.0)).max(0.0);
            let weight = scale / per_var.max(1) as f64;
            let n = match own(*id) {
                0 => informative.len(),
                n => n,
            };
            runs_var += weight * left * mu * mu * s2;
            mean_var += weight * (left * mu).powi(2) * s2 / n.max(1) as f64;
        }
        t95(df) * (runs_var + mean_var).sqrt()
    });
    let basis = if calls_recorded == 0 {
        Basis::BuiltIn
    } else {
        Basis::Calibrated
    };
    let remaining_cost = if !unknown.is_empty() {
        None
    } else if basis == Basis::BuiltIn {
        built_in_remaining_cost
    } else {
        Some(match spread {
            Some(half) => Range {
                low: (expected_rest - half).max(0.0),
                expected: expected_rest,
                high: expected_rest + half,
            },
            None => match built_in_remaining_cost {
                Some(b) if b.expected > 0.0 => Range {
                    low: expected_rest * b.low / b.expected,
                    expected: expected_rest,
                    high: expected_rest * b.high / b.expected,
                },
                _ => Range {
                    low: expected_rest,
                    expected: expected_rest,
                    high: expected_rest,
                },
            },
        })
    };

    // Per role: calls recorded, calls per run (calibrated and built-in), where tokens come from.
    let k = 1.0 / sampled.len().max(1) as f64;
    let roles: Vec<RoleBasis> = ROLES
        .iter()
        .filter_map(|role| {
            let name = role.as_str();
            let calls_per_run: f64 = sampled
                .iter()
                .map(|id| vars[id].calls.get(name).copied().unwrap_or(0.0))
                .sum::<f64>()
                * k;
            let built_in_calls_per_run: f64 = sampled
                .iter()
                .map(|id| vars[id].est.calls.get(*role).expected)
                .sum::<f64>()
                * k;
            let calls_recorded = ctx.tokens.role_all.get(name).map_or(0, |a| a.calls);
            (calls_per_run > 0.0 || calls_recorded > 0).then(|| RoleBasis {
                role: *role,
                calls_recorded,
                calls_per_run,
                built_in_calls_per_run,
                tokens: ctx
                    .sources
                    .get(name)
                    .copied()
                    .unwrap_or(if calls_recorded > 0 {
                        TokenSource::Recorded
                    } else {
                        TokenSource::BuiltIn
                    }),
            })
        })
        .collect();
    let tokens: Vec<TokenStats> = ROLES
        .iter()
        .flat_map(|role| {
            ctx.tokens
                .pair_all
                .iter()
                .filter(move |((r, _), _)| *r == role.as_str())
                .map(|((_, model), a)| {
                    let src = ctx
                        .tokens
                        .pair_done
                        .get(&(role.as_str(), model.clone()))
                        .unwrap_or(a);
                    let (p, c, recorded) = src.mean();
                    TokenStats {
                        role: *role,
                        model: model.clone(),
                        calls: a.calls,
                        prompt_tokens: p,
                        completion_tokens: c,
                        cost_per_call: match book.price(model) {
                            Some(price) => Some(price.cost_usd(p, c)),
                            None if src.cost_nanos > 0.0 => Some(recorded / 1e9),
                            None => None,
                        },
                    }
                })
        })
        .collect();

    let mut notes = Vec::new();
    if step > 1 {
        notes.push(format!(
            "the estimate averages {} variations sampled evenly from {count}",
            sampled.len()
        ));
    }
    let built_in_roles: Vec<&str> = roles
        .iter()
        .filter(|r| r.tokens == TokenSource::BuiltIn && r.calls_per_run > 0.0)
        .map(|r| r.role.as_str())
        .collect();
    if basis == Basis::Calibrated && !built_in_roles.is_empty() {
        notes.push(format!(
            "no {} call was recorded yet: {} priced by the built-in token model",
            built_in_roles.join(" or "),
            if built_in_roles.len() == 1 {
                "it is"
            } else {
                "they are"
            }
        ));
    }
    if basis == Basis::Calibrated && completed.is_empty() {
        notes.push(
            "no run has completed yet: calls per run come from the built-in model, and the range from its spread".into(),
        );
    } else if basis == Basis::Calibrated && spread.is_none() {
        notes.push("too few completed runs to measure how runs vary (two in one variation are needed): the range is the built-in model's, scaled".into());
    }

    let spent = nanos_to_usd(spent_nanos);
    let budget = config.budget_limit;
    let budget_message = budget.map(|b| {
        let left = (b - spent).max(0.0);
        let usd = super::render::usd;
        match remaining_cost {
            None => format!("{} of {} spent, {} left", usd(spent), usd(b), usd(left)),
            Some(r) if r.high <= left => format!(
                "{} of {} spent; the {} left covers the rest even at the high estimate",
                usd(spent),
                usd(b),
                usd(left)
            ),
            Some(r) if r.expected <= left => format!(
                "{} of {} spent; the {} left covers the expected cost of the rest, not the high estimate ({})",
                usd(spent),
                usd(b),
                usd(left),
                usd(r.high)
            ),
            Some(r) => {
                let per_run = r.expected / remaining_runs.max(1) as f64;
                let n = if per_run > 0.0 {
                    ((left / per_run).floor() as u64).min(remaining_runs)
                } else {
                    remaining_runs
                };
                if n == 0 {
                    format!(
                        "{} of {} spent; the {} left is not enough for one more run (about {} each): raise the budget to go on",
                        usd(spent),
                        usd(b),
                        usd(left),
                        usd(per_run)
                    )
                } else {
                    format!(
                        "{} of {} spent; the {} left covers about {n} of the {remaining_runs} remaining runs (the batch stops when it is spent)",
                        usd(spent),
                        usd(b),
                        usd(left)
                    )
                }
            }
        }
    });
    let basis_text = match basis {
        Basis::BuiltIn if runs.is_empty() => "built-in token model (no run recorded yet)".into(),
        Basis::BuiltIn => "built-in token model (no call recorded yet)".into(),
        Basis::Calibrated => format!(
            "calibrated from {calls_recorded} recorded call{} in {runs_with_calls} run{}",
            if calls_recorded == 1 { "" } else { "s" },
            if runs_with_calls == 1 { "" } else { "s" }
        ),
    };
    let about = remaining_cost.map_or("cost unknown".to_string(), |r| {
        format!("about {}", super::render::usd(r.expected))
    });
    let question = format!(
        "Run the remaining {remaining_runs} run{} ({about})?",
        if remaining_runs == 1 { "" } else { "s" }
    );
    let cost_per_run = unknown.is_empty().then(|| {
        sampled
            .iter()
            .map(|id| vars[id].cost.unwrap_or(0.0))
            .sum::<f64>()
            * k
    });
    Calibration {
        experiment_name: config.experiment_name.clone(),
        config_path: config.path.clone(),
        output_dir: paths::normalize(&config.output_dir),
        basis,
        basis_text,
        calls_recorded,
        runs_with_calls,
        runs_recorded: runs.len() as u64,
        runs_completed: completed.len() as u64,
        runs_partial,
        total_runs,
        remaining_runs,
        remaining_cost,
        built_in_remaining_cost,
        cost_per_run,
        spent,
        spent_nanos,
        budget_limit: budget,
        budget_message,
        tokens,
        roles,
        unknown_price_models: unknown,
        notes,
        question,
        command: format!("npx scenario-lab run {} --resume", config.path),
    }
}

/// Reads the batch's run folders and estimates its rest (see [`calibrate`]).
pub async fn calibrate_batch<S: Storage>(
    storage: &S,
    config: &BatchConfig,
    book: &PriceBook,
) -> Result<Calibration, StorageError> {
    let runs = read_runs(storage, &config.output_dir).await?;
    Ok(calibrate(config, book, &runs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_or_unknown_line_is_skipped() {
        let log = concat!(
            r#"{"role":"actor","model":"m","turn":1,"prompt_tokens":10,"completion_tokens":5,"cost_nanos":7}"#,
            "\n",
            r#"{"role":"oracle","model":"m","turn":1}"#,
            "\n",
            r#"{"role":"world","model":"m","tu"#,
        );
        let calls = CallUsage::parse_log(log);
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].role, Role::Actor);
        assert_eq!(calls[0].cost_nanos, 7);
    }

    #[test]
    fn a_run_without_a_call_log_keeps_its_cost() {
        let r = parse_run(
            "var-001-run-002",
            Some(r#"{"status":"completed","current_turn":3}"#),
            None,
            Some(r#"{"total_cost":0.5,"total_cost_nanos":500000000}"#),
        )
        .unwrap();
        assert_eq!(r.status, Some(RunStatus::Completed));
        assert_eq!(r.current_turn, 3);
        assert_eq!(r.cost_nanos, 500_000_000);
        assert!(r.calls.is_empty());
    }
}
