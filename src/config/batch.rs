//! The batch config: which scenario, which variations, how many runs, how much money.
//!
//! Unlike scenario files, an unknown key here is an error: a misspelt `budget_limt` must never
//! run a batch without its budget. Names the original's documents used for keys its code did
//! not know get a pointed suggestion.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::design::{check_stopping, read_pairing, read_stopping, Pairing, RawStopping, Stopping};
use super::fields::{self, Key};
use super::intervention::{self, Arm};
use super::{read_yaml, Scenario};
use crate::diag::{describe, Detail, Diagnostic, FileDiags, Severity};
use crate::host::Storage;
use crate::llm::route::HUMAN;
use crate::paths;
use crate::yaml::Node;

/// The keys of a batch config, with their defaults.
pub const BATCH_KEYS: &[Key] = &[
    Key {
        name: "experiment_name",
        aliases: &[],
        doc: "name of the experiment (required)",
    },
    Key {
        name: "description",
        aliases: &[],
        doc: "what the experiment asks",
    },
    Key {
        name: "base_scenario",
        aliases: &[],
        doc: "path of the scenario folder (required)",
    },
    Key {
        name: "runs_per_variation",
        aliases: &[],
        doc: "runs of each variation (default 1)",
    },
    Key {
        name: "max_parallel",
        aliases: &[],
        doc: "runs at once (default 1)",
    },
    Key {
        name: "timeout_per_run",
        aliases: &[],
        doc: "seconds a run may take (default 1800)",
    },
    Key {
        name: "budget_limit",
        aliases: &[],
        doc: "most USD the batch may spend (default: none)",
    },
    Key {
        name: "cost_per_run_limit",
        aliases: &[],
        doc: "most USD one run may spend (default: none)",
    },
    Key {
        name: "variations",
        aliases: &[],
        doc: "the dimensions to vary (default: none): actor_model, scenario_parameter, actor_parameter, intervention",
    },
    Key {
        name: "all_models",
        aliases: &[],
        doc: "one model for every call of the base scenario: actors, world, metrics and checks (e.g. builtin/simulator, to try a batch offline for $0); variations apply over it (default: the models the scenario's files name)",
    },
    Key {
        name: "output_dir",
        aliases: &[],
        doc: "where results go (default: the config's folder)",
    },
    Key {
        name: "save_individual_runs",
        aliases: &[],
        doc: "keep every run's files (default true)",
    },
    Key {
        name: "aggregate_metrics",
        aliases: &[],
        doc: "analyse when the batch ends (default true)",
    },
    Key {
        name: "success",
        aliases: &[],
        doc: "when a completed run counts as a success, e.g. \"cooperation >= 6\" (default: every completed run)",
    },
    Key {
        name: "prices",
        aliases: &[],
        doc: "USD per million prompt/completion tokens, by model id",
    },
    Key {
        name: "max_tokens",
        aliases: &[],
        doc: "output caps by role, over the scenario's, e.g. {world: 1500} (defaults: actor 800, world 1000, communication 300, metric 40, check 400, summary 600)",
    },
    Key {
        name: "call_timeout",
        aliases: &[],
        doc: "seconds one LLM request may take before it is retried (default: 60 + the call's cap at 20 tokens/s hosted, 5 tokens/s local)",
    },
    Key {
        name: "execution",
        aliases: &[],
        doc: "realtime (default) or batch: the runs advance in lock-step and each phase's calls go to the provider as one batch job, at about half the price",
    },
    Key {
        name: "batch_deadline",
        aliases: &[],
        doc: "with execution: batch, when the batch must end, from its start, e.g. 6h, 90m, 2d (default: none); near it, calls go realtime",
    },
    Key {
        name: "pairing",
        aliases: &[],
        doc: "paired (default: run k of every variation shares its seed, so variations are compared within pairs) or none",
    },
    Key {
        name: "stopping",
        aliases: &[],
        doc: "stop before runs_per_variation: {target_half_width: W} (each variation at a precision) or {compare: [var-001, var-002]} (a group-sequential test); see the batch guide",
    },
    Key {
        name: "resume_from",
        aliases: &[],
        doc: "accepted for compatibility; use --resume",
    },
];

/// Names seen in the original's documents for keys its code never read. Each silently
/// disabled what it meant to set; here each is an error that names the right key.
const KNOWN_MISNAMES: &[(&str, &str)] = &[
    ("total_budget", "budget_limit"),
    ("total_cost_limit", "budget_limit"),
    ("budget", "budget_limit"),
    ("per_run_budget", "cost_per_run_limit"),
    ("cost_limit_per_run", "cost_per_run_limit"),
    ("max_parallel_workers", "max_parallel"),
    ("scenario_parameters", "variations"),
    ("runs", "runs_per_variation"),
    ("scenario", "base_scenario"),
];

const VARIATION_KEYS: &[Key] = &[
    Key {
        name: "type",
        aliases: &[],
        doc: "actor_model | scenario_parameter | actor_parameter | intervention (whose keys are `at_turn` and `arms`)",
    },
    Key {
        name: "actor",
        aliases: &[],
        doc: "the actor (short_name)",
    },
    Key {
        name: "parameter",
        aliases: &[],
        doc: "the scenario key or actor field",
    },
    Key {
        name: "values",
        aliases: &[],
        doc: "the values to try",
    },
];

const VARIATION_TYPES: &[&str] = &[
    "actor_model",
    "scenario_parameter",
    "actor_parameter",
    "intervention",
];

/// What one dimension varies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DimensionKind {
    /// The model of one actor.
    ActorModel {
        /// The actor's short_name.
        actor: String,
    },
    /// A top-level key of `scenario.yaml`.
    ScenarioParameter {
        /// The key.
        parameter: String,
    },
    /// A field of one actor.
    ActorParameter {
        /// The actor's short_name.
        actor: String,
        /// The field.
        parameter: String,
    },
    /// What happens from a turn on: each value is an arm's name, and `arms` says what each
    /// changes (see [`super::intervention`]).
    Intervention {
        /// The turn at whose start the arms' changes take effect.
        at_turn: u32,
        /// The arms, in the order of `values`.
        arms: Vec<Arm>,
    },
}

/// One dimension of the variation space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Dimension {
    /// What it varies.
    #[serde(flatten)]
    pub kind: DimensionKind,
    /// The values, in the order given.
    pub values: Vec<Json>,
}

impl Dimension {
    /// The label of this dimension in a variation's description (`regulator`, `turns`,
    /// `regulator.temperature`).
    pub fn label(&self) -> String {
        match &self.kind {
            DimensionKind::ActorModel { actor } => actor.clone(),
            DimensionKind::ScenarioParameter { parameter } => parameter.clone(),
            DimensionKind::ActorParameter { actor, parameter } => format!("{actor}.{parameter}"),
            DimensionKind::Intervention { at_turn, .. } => format!("intervention@{at_turn}"),
        }
    }
}

/// A price from the config's `prices:` map, USD per million tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ModelPrice {
    /// USD per million prompt tokens.
    pub prompt: f64,
    /// USD per million completion tokens.
    pub completion: f64,
    /// USD per million prompt tokens served from the provider's cache (default: the model
    /// family's share of `prompt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    /// USD per million prompt tokens written to the provider's cache (default: the family's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
    /// The batch price as a share of the realtime price (default 0.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_factor: Option<f64>,
}

/// A batch config, loaded and checked, with its scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchConfig {
    /// The config file.
    pub path: String,
    /// Experiment name.
    pub experiment_name: String,
    /// Description.
    pub description: Option<String>,
    /// `base_scenario` as written.
    pub base_scenario: String,
    /// Where the scenario was found.
    pub scenario_dir: String,
    /// Runs of each variation.
    pub runs_per_variation: u32,
    /// Runs at once.
    pub max_parallel: u32,
    /// Seconds per run.
    pub timeout_per_run: f64,
    /// USD for the whole batch.
    pub budget_limit: Option<f64>,
    /// USD per run.
    pub cost_per_run_limit: Option<f64>,
    /// Seconds one LLM request may take (`None`: from the call's cap; see
    /// [`crate::llm::RetryPolicy::timeout_ms_for`]).
    pub call_timeout: Option<f64>,
    /// How calls reach providers: one request each, or in providers' batch jobs.
    pub execution: Execution,
    /// With batch execution: seconds from the batch's start by which it must end.
    pub batch_deadline: Option<f64>,
    /// Whether run k of every variation shares its seed.
    pub pairing: Pairing,
    /// When the batch may stop before `runs_per_variation`.
    pub stopping: Option<Stopping>,
    /// The dimensions, in declaration order.
    pub variations: Vec<Dimension>,
    /// Where results go.
    pub output_dir: String,
    /// Keep every run's files.
    pub save_individual_runs: bool,
    /// Analyse at the end.
    pub aggregate_metrics: bool,
    /// Prices given in the config.
    pub prices: BTreeMap<String, ModelPrice>,
    /// The success condition on final metrics, as written (`success:`).
    pub success: Option<String>,
    /// The base scenario.
    pub scenario: Scenario,
}

impl BatchConfig {
    /// The config with `--output DIR` as its output folder: the batch is written there, and its
    /// runs are read from there.
    pub fn with_output_dir(mut self, dir: &str) -> BatchConfig {
        self.output_dir = dir.to_string();
        self
    }
}

/// How a batch's calls reach providers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Execution {
    /// Each call is one request, answered in seconds.
    #[default]
    Realtime,
    /// The runs advance in lock-step; each phase's calls go to the provider as one batch job
    /// a model, billed at the batch price and answered within the provider's window.
    Batch,
}

impl Execution {
    /// Reads `realtime` or `batch`.
    pub fn parse(text: &str) -> Option<Execution> {
        match text.trim() {
            "realtime" => Some(Execution::Realtime),
            "batch" => Some(Execution::Batch),
            _ => None,
        }
    }
}

/// Seconds in a duration written `90s`, `45m`, `6h`, `2d` or as a number of seconds.
pub fn parse_duration(text: &str) -> Option<f64> {
    let t = text.trim();
    let (number, unit) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let n: f64 = number
        .trim()
        .parse()
        .ok()
        .filter(|n: &f64| *n > 0.0 && n.is_finite())?;
    let scale = match unit.trim() {
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return None,
    };
    Some(n * scale)
}

/// The most runs of one variation: run numbers are written with at most 9 digits in run ids
/// and folder names ([`crate::schema::RunId`]), so a run 1,000,000,000 could be written but
/// never read back (a resume would run it again).
pub const MAX_RUNS_PER_VARIATION: i64 = 999_999_999;

/// Requests in flight per endpoint allowed for each run at once: a turn sends its actors'
/// calls together, and 8 leaves room for a large cast without letting one batch open an
/// unbounded number of connections.
const IN_FLIGHT_PER_RUN: usize = 8;

impl BatchConfig {
    /// Each seat a person plays in some run of the batch: the scenario's, and an `actor_model`
    /// variation's value `human` (see [`Scenario::person_seats`]).
    pub fn person_seats(&self) -> Vec<String> {
        let mut seats = self.scenario.person_seats();
        for d in &self.variations {
            if let DimensionKind::ActorModel { actor } = &d.kind {
                if d.values.iter().any(|v| v.as_str() == Some(HUMAN)) {
                    seats.push(format!(
                        "`{actor}` (an actor_model variation's value `human` in {})",
                        self.path
                    ));
                }
            }
        }
        seats
    }

    /// The most requests in flight per endpoint for this batch: what its rate limiter grows
    /// back to after a 429 ([`crate::llm::Client::with_max_in_flight`]).
    pub fn max_in_flight(&self) -> usize {
        self.max_parallel as usize * IN_FLIGHT_PER_RUN
    }
}

pub(super) async fn load<S: Storage>(
    storage: &S,
    path: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<BatchConfig> {
    let Some((text, root)) = read_yaml(storage, path, diags).await else {
        if !diags.iter().any(|d| d.file == path) {
            diags.push(
                Diagnostic::file_level(
                    Severity::Error,
                    path,
                    format!("there is no batch config at `{path}`"),
                )
                .expected("a batch-config.yaml file"),
            );
        }
        return None;
    };
    let head = {
        let mut d = FileDiags::new(path, &text, diags);
        read_head(&mut d, &root)
    };
    // The scenario is loaded even when the head has errors, so that every problem shows at once.
    let (scenario_dir, scenario) = match &head.base_scenario {
        Some((written, node)) => {
            let tried = paths::candidates(written, path);
            let mut found = None;
            for cand in &tried {
                if storage
                    .exists(&paths::join(cand, "scenario.yaml"))
                    .await
                    .unwrap_or(false)
                {
                    found = Some(cand.clone());
                    break;
                }
            }
            match found {
                Some(dir) => {
                    let scenario = super::scenario::load(storage, &dir, diags).await;
                    (Some(dir), scenario)
                }
                None => {
                    let mut d = FileDiags::new(path, &text, diags);
                    d.error(node, "base_scenario", format!("the base scenario `{written}` was not found"))
                        .expected("a folder holding scenario.yaml")
                        .found(format!("no scenario.yaml in {}", tried.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(" or ")))
                        .help("paths are tried from the current directory first, then from the config's folder");
                    (None, None)
                }
            }
        }
        None => (None, None),
    };
    if let Some(s) = scenario.as_ref().filter(|_| head.max_parallel > 1) {
        for a in s.actors.iter().filter(|a| a.is_human()) {
            let mut diag = Diagnostic::file_level(
                Severity::Error,
                &paths::join(
                    &paths::join(&s.dir, "actors"),
                    &format!("{}.yaml", a.file_stem),
                ),
                one_person_at_a_time(&a.short_name, head.max_parallel, path),
            )
            .expected(format!(
                "`max_parallel: 1` in {path}, or a model for `{}`",
                a.short_name
            ));
            diag.line = a.human_line;
            diag.key = Some("human".into());
            diags.push(diag);
        }
    }
    let mut d = FileDiags::new(path, &text, diags);
    if head.max_parallel > 1 {
        for raw in head.dims.iter().filter(|r| r.kind == "actor_model") {
            let actor = raw.actor.as_ref().map_or("", |(a, _)| a.as_str());
            for (_, node) in raw.values.iter().filter(|(v, _)| v.as_str() == Some(HUMAN)) {
                d.error(
                    node,
                    &format!("{}.values", raw.prefix),
                    one_person_at_a_time(actor, head.max_parallel, path),
                )
                .expected(format!(
                    "`max_parallel: 1` in {path}, or only models among the values"
                ));
            }
        }
    }
    let variations = match &scenario {
        Some(s) => head
            .dims
            .iter()
            .filter_map(|raw| check_dimension(&mut d, raw, s))
            .collect(),
        None => Vec::new(),
    };
    check_duplicates(&mut d, &head.dims);
    intervention_turns(&mut d, &head.dims, &variations);
    let stopping = match (&head.stopping, &scenario) {
        (Some(raw), Some(s)) => {
            let count = crate::plan::variations::VariationSpace::new(&variations).count();
            check_stopping(&mut d, raw, s, count, head.runs_per_variation)
        }
        _ => None,
    };
    if let (Some((cond, node)), Some(s)) = (&head.success, &scenario) {
        let names: Vec<&str> = s.metrics.iter().map(|m| m.name.as_str()).collect();
        for m in cond.metrics().filter(|m| !names.contains(m)) {
            fields::unknown_metric(&mut d, node, "success", m, &names, false);
        }
    }
    Some(BatchConfig {
        path: path.to_string(),
        experiment_name: head.experiment_name?,
        description: head.description,
        base_scenario: head.base_scenario.map(|(w, _)| w)?,
        scenario_dir: scenario_dir?,
        runs_per_variation: head.runs_per_variation,
        max_parallel: head.max_parallel,
        timeout_per_run: head.timeout_per_run,
        budget_limit: head.budget_limit,
        cost_per_run_limit: head.cost_per_run_limit,
        call_timeout: head.call_timeout,
        execution: head.execution,
        batch_deadline: head.batch_deadline,
        pairing: head.pairing,
        stopping,
        variations,
        output_dir: head.output_dir.unwrap_or_else(|| paths::parent(path)),
        save_individual_runs: head.save_individual_runs,
        aggregate_metrics: head.aggregate_metrics,
        prices: head.prices,
        success: head.success.map(|(c, _)| c.text().to_string()),
        scenario: scenario.map(|mut s| {
            s.max_tokens.extend(head.max_tokens);
            if let Some(model) = &head.all_models {
                s.use_one_model(model);
            }
            s
        })?,
    })
}

/// Why a batch that runs several runs at once cannot have a person in a seat: one person
/// answers one question at a time, and runs in parallel would ask at once.
fn one_person_at_a_time(actor: &str, max_parallel: u32, config: &str) -> String {
    format!(
        "actor `{actor}` is played by a person, and this batch runs up to {max_parallel} runs at once \
         (`max_parallel: {max_parallel}` in {config}): a person plays one run at a time"
    )
}

/// A variation as written, before the scenario is known.
struct RawDimension<'n> {
    node: &'n Node,
    prefix: String,
    kind: &'static str,
    actor: Option<(String, &'n Node)>,
    parameter: Option<(String, &'n Node)>,
    values: Vec<(Json, &'n Node)>,
    /// For `type: intervention`: its turn and arms as written.
    intervention: Option<intervention::Raw<'n>>,
}

struct Head<'n> {
    experiment_name: Option<String>,
    description: Option<String>,
    base_scenario: Option<(String, &'n Node)>,
    runs_per_variation: u32,
    max_parallel: u32,
    timeout_per_run: f64,
    budget_limit: Option<f64>,
    cost_per_run_limit: Option<f64>,
    call_timeout: Option<f64>,
    execution: Execution,
    batch_deadline: Option<f64>,
    pairing: Pairing,
    stopping: Option<RawStopping<'n>>,
    max_tokens: BTreeMap<crate::plan::Role, u32>,
    dims: Vec<RawDimension<'n>>,
    output_dir: Option<String>,
    all_models: Option<String>,
    save_individual_runs: bool,
    aggregate_metrics: bool,
    prices: BTreeMap<String, ModelPrice>,
    success: Option<(crate::analysis::success::Condition, &'n Node)>,
}

fn read_head<'n>(d: &mut FileDiags, root: &'n Node) -> Head<'n> {
    let f = fields::read_with_misnames(
        d,
        root,
        BATCH_KEYS,
        KNOWN_MISNAMES,
        true,
        "the batch config",
        "",
    );
    let is_map = matches!(root.value, crate::yaml::Value::Map(_));
    let text = |d: &mut FileDiags, k: &str| f.value(k).and_then(|n| fields::text(d, n, k));
    let experiment_name = text(d, "experiment_name");
    if experiment_name.is_none() && is_map {
        d.error(
            root,
            "experiment_name",
            "the batch config has no `experiment_name`",
        )
        .expected("`experiment_name: \"My experiment\"`");
    }
    let base_scenario = match f.value("base_scenario") {
        Some(n) => fields::text(d, n, "base_scenario").map(|t| (t, n)),
        None => {
            if is_map {
                d.error(
                    root,
                    "base_scenario",
                    "the batch config has no `base_scenario`",
                )
                .expected("`base_scenario: \"scenarios/<name>\"`");
            }
            None
        }
    };
    let count = |d: &mut FileDiags, k: &str, default: u32| {
        f.value(k)
            .and_then(|n| fields::int_at_least(d, n, k, 1))
            .map_or(default, |n| n.min(u32::MAX as i64) as u32)
    };
    let limit = |d: &mut FileDiags, k: &str| {
        f.get(k).and_then(|n| {
            if n.is_null() {
                d.error(n, k, format!("`{k}` is empty"))
                    .expected("a number greater than 0")
                    .help(format!("remove `{k}` to have no such limit"));
                return None;
            }
            fields::positive_number(d, n, k)
        })
    };
    let runs_per_variation = count(d, "runs_per_variation", 1);
    if let Some(n) = f
        .value("runs_per_variation")
        .filter(|n| n.as_i64().is_some_and(|r| r > MAX_RUNS_PER_VARIATION))
    {
        d.error(
            n,
            "runs_per_variation",
            format!("`runs_per_variation` is at most {MAX_RUNS_PER_VARIATION}: a run's id (var-N-run-M, its folder's name) has at most 9 digits"),
        )
        .expected(format!("a whole number from 1 to {MAX_RUNS_PER_VARIATION}"))
        .found(describe(n));
    }
    let max_parallel = count(d, "max_parallel", 1);
    let timeout_per_run = f
        .value("timeout_per_run")
        .and_then(|n| fields::positive_number(d, n, "timeout_per_run"))
        .unwrap_or(1800.0);
    let budget_limit = limit(d, "budget_limit");
    let cost_per_run_limit = limit(d, "cost_per_run_limit");
    if let (Some(b), Some(r), Some(n)) = (
        budget_limit,
        cost_per_run_limit,
        f.value("cost_per_run_limit"),
    ) {
        if r > b {
            d.warn(n, "cost_per_run_limit", format!("`cost_per_run_limit` ({r}) is above `budget_limit` ({b}); the budget binds first"));
        }
    }
    let flag = |d: &mut FileDiags, k: &str| {
        f.value(k)
            .and_then(|n| fields::boolean(d, n, k))
            .unwrap_or(true)
    };
    let save_individual_runs = flag(d, "save_individual_runs");
    let aggregate_metrics = flag(d, "aggregate_metrics");
    if let Some(n) = f.value("resume_from") {
        d.warn(
            n,
            "resume_from",
            "`resume_from` is not used; resume a batch with `scenario-lab run <config> --resume`",
        );
    }
    let success = f.value("success").and_then(|n| {
        let text = fields::text(d, n, "success")?;
        match crate::analysis::success::Condition::parse(&text) {
            Ok(c) => Some((c, n)),
            Err(e) => {
                d.error(
                    n,
                    "success",
                    format!("the success condition does not parse ({e})"),
                )
                .expected(format!(
                    "{}, as in `cooperation_level >= 6 and tension < 4`",
                    e.expected
                ))
                .found(e.found);
                None
            }
        }
    });
    Head {
        success,
        experiment_name,
        description: text(d, "description"),
        base_scenario,
        runs_per_variation,
        max_parallel,
        timeout_per_run,
        budget_limit,
        cost_per_run_limit,
        call_timeout: f
            .value("call_timeout")
            .and_then(|n| fields::positive_number(d, n, "call_timeout")),
        execution: f
            .value("execution")
            .and_then(|n| {
                let word = fields::text(d, n, "execution")?;
                let parsed = Execution::parse(&word);
                if parsed.is_none() {
                    d.error(n, "execution", format!("`{word}` is not an execution mode"))
                        .expected("`realtime` (one request a call) or `batch` (providers' batch jobs, about half the price)")
                        .found(describe(n));
                }
                parsed
            })
            .unwrap_or_default(),
        batch_deadline: f.value("batch_deadline").and_then(|n| {
            let parsed = n
                .as_f64()
                .filter(|x| *x > 0.0 && x.is_finite())
                .or_else(|| n.scalar_text().and_then(|t| parse_duration(&t)));
            if parsed.is_none() {
                d.error(n, "batch_deadline", "`batch_deadline` is not a duration")
                    .expected("a duration from the batch's start, such as 6h, 90m or 2d")
                    .found(describe(n));
            }
            parsed
        }),
        pairing: f
            .value("pairing")
            .map(|n| read_pairing(d, n))
            .unwrap_or_default(),
        stopping: f.value("stopping").and_then(|n| read_stopping(d, n)),
        max_tokens: f
            .value("max_tokens")
            .map(|n| fields::role_caps(d, n, "max_tokens"))
            .unwrap_or_default(),
        dims: f
            .value("variations")
            .map(|v| read_variations(d, v))
            .unwrap_or_default(),
        output_dir: text(d, "output_dir"),
        all_models: text(d, "all_models").filter(|m| !m.trim().is_empty()),
        save_individual_runs,
        aggregate_metrics,
        prices: f
            .value("prices")
            .map(|p| read_prices(d, p))
            .unwrap_or_default(),
    }
}

fn read_variations<'n>(d: &mut FileDiags, v: &'n Node) -> Vec<RawDimension<'n>> {
    if let Some(items) = v.as_seq() {
        return items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| read_variation(d, item, format!("variations[{i}]")))
            .collect();
    }
    // The original's V2 shorthand: `variations: {actor_models: {actor: [models]}}`.
    if let Some(models) = v.get("actor_models") {
        for (k, _) in v.entries() {
            if k.as_str() != Some("actor_models") {
                d.error(
                    k,
                    "variations",
                    format!(
                        "unknown key `{}` in the variations shorthand",
                        k.scalar_text().unwrap_or_default()
                    ),
                )
                .expected("`actor_models: {actor: [model, ...]}`, or a list of variations");
            }
        }
        return models
            .entries()
            .iter()
            .map(|(actor, values)| RawDimension {
                node: actor,
                prefix: format!(
                    "variations.actor_models.{}",
                    actor.scalar_text().unwrap_or_default()
                ),
                kind: "actor_model",
                actor: actor.scalar_text().map(|a| (a, actor)),
                parameter: None,
                values: read_values(d, values, "variations.actor_models"),
                intervention: None,
            })
            .collect();
    }
    d.error(v, "variations", "`variations` must be a list")
        .expected("a list of `{type, actor or parameter, values}` entries, or [] for none")
        .found(describe(v));
    Vec::new()
}

fn read_values<'n>(d: &mut FileDiags, v: &'n Node, key: &str) -> Vec<(Json, &'n Node)> {
    match v.as_seq() {
        Some([]) => {
            d.error(
                v,
                key,
                "this variation has an empty `values` list, which would make zero runs",
            )
            .expected("at least one value");
            Vec::new()
        }
        Some(items) => items.iter().map(|n| (n.to_json(), n)).collect(),
        None => {
            d.error(v, key, "`values` must be a list")
                .expected("a list such as [openai/gpt-4o-mini, openai/gpt-4o]")
                .found(describe(v));
            Vec::new()
        }
    }
}

fn read_variation<'n>(
    d: &mut FileDiags,
    item: &'n Node,
    prefix: String,
) -> Option<RawDimension<'n>> {
    // An intervention has keys of its own (`at_turn`, `arms`): its own table reads them.
    if item.get("type").and_then(Node::scalar_text).as_deref() == Some("intervention") {
        return Some(RawDimension {
            node: item,
            kind: "intervention",
            actor: None,
            parameter: None,
            values: Vec::new(),
            intervention: Some(intervention::read(d, item, &prefix)),
            prefix,
        });
    }
    let f = fields::read(
        d,
        item,
        VARIATION_KEYS,
        true,
        &format!("`{prefix}`"),
        &prefix,
    );
    let type_node = match f.value("type") {
        Some(n) => n,
        None => {
            d.error(item, &prefix, "this variation has no `type`")
                .expected("type: actor_model, scenario_parameter, actor_parameter or intervention");
            return None;
        }
    };
    let written = fields::text(d, type_node, &format!("{prefix}.type"))?;
    let Some(kind) = VARIATION_TYPES.iter().find(|t| **t == written) else {
        let diag = d
            .error(
                type_node,
                &format!("{prefix}.type"),
                format!("unknown variation type `{written}`"),
            )
            .expected("actor_model, scenario_parameter, actor_parameter or intervention");
        // `parameter` and `model` are the types the original's architecture notes used.
        let named = match written.as_str() {
            "parameter" => Some("scenario_parameter"),
            "model" => Some("actor_model"),
            _ => None,
        };
        if let Some(h) =
            named.or_else(|| crate::suggest::closest(&written, VARIATION_TYPES.iter().copied()))
        {
            diag.help(format!("did you mean `{h}`?"));
        }
        return None;
    };
    let named = |d: &mut FileDiags, k: &str| {
        f.value(k)
            .and_then(|n| fields::text(d, n, &format!("{prefix}.{k}")).map(|t| (t, n)))
    };
    let actor = named(d, "actor");
    let parameter = named(d, "parameter");
    let needs_actor = *kind != "scenario_parameter";
    let needs_param = *kind != "actor_model";
    if needs_actor && actor.is_none() {
        d.error(
            item,
            &format!("{prefix}.actor"),
            format!("a `{kind}` variation needs `actor`"),
        )
        .expected("actor: <the actor's short_name>");
    }
    if needs_param && parameter.is_none() {
        d.error(
            item,
            &format!("{prefix}.parameter"),
            format!("a `{kind}` variation needs `parameter`"),
        )
        .expected(if *kind == "scenario_parameter" {
            "parameter: <a scenario.yaml key, such as turns>"
        } else {
            "parameter: <an actor field, such as temperature>"
        });
    }
    if !needs_actor {
        if let Some((_, n)) = &actor {
            d.error(
                n,
                &format!("{prefix}.actor"),
                "a `scenario_parameter` variation has no `actor`",
            )
            .help("use `type: actor_parameter` to vary an actor's field");
        }
    }
    if !needs_param {
        if let Some((_, n)) = &parameter {
            d.error(
                n,
                &format!("{prefix}.parameter"),
                "an `actor_model` variation has no `parameter`",
            )
            .help("use `type: actor_parameter` to vary another actor field");
        }
    }
    let values = match f.get("values") {
        Some(v) => read_values(d, v, &format!("{prefix}.values")),
        None => {
            d.error(
                item,
                &format!("{prefix}.values"),
                "this variation has no `values`",
            )
            .expected("values: [first, second, ...]");
            Vec::new()
        }
    };
    Some(RawDimension {
        node: item,
        prefix,
        kind,
        actor,
        parameter,
        values,
        intervention: None,
    })
}

/// Checks a dimension against the scenario: the actor exists, each value applies.
fn check_dimension(
    d: &mut FileDiags,
    raw: &RawDimension,
    scenario: &Scenario,
) -> Option<Dimension> {
    if let Some(i) = &raw.intervention {
        return intervention::check(d, i, raw.node, &raw.prefix, scenario);
    }
    let actor = match &raw.actor {
        Some((name, node)) => match scenario.find_actor(name) {
            Some(i) => Some(i),
            None => {
                let known: Vec<&str> = scenario
                    .actors
                    .iter()
                    .map(|a| a.short_name.as_str())
                    .collect();
                let diag = d
                    .error(
                        node,
                        &format!("{}.actor", raw.prefix),
                        format!("the variation names actor `{name}`, who is not in the scenario"),
                    )
                    .expected(format!(
                        "the short_name of an actor: {}",
                        known
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                if let Some(h) = crate::suggest::closest(name, known.iter().copied()) {
                    diag.help(format!("did you mean `{h}`?"));
                }
                return None;
            }
        },
        None => None,
    };
    if raw.values.is_empty() {
        return None;
    }
    let mut ok = true;
    for (value, node) in &raw.values {
        let result = match (raw.kind, actor, &raw.parameter) {
            ("actor_model", Some(i), _) => match value {
                Json::String(m) if !m.trim().is_empty() => Ok(()),
                _ => Err("a model id is text, such as openai/gpt-4o-mini".to_string()),
            }
            .map(|_| i)
            .map(|_| ()),
            ("scenario_parameter", _, Some((p, _))) => scenario.clone().set_parameter(p, value),
            ("actor_parameter", Some(i), Some((p, _))) => {
                scenario.actors[i].clone().set_parameter(p, value)
            }
            _ => Ok(()),
        };
        if let Err(why) = result {
            ok = false;
            let what = raw
                .parameter
                .as_ref()
                .map_or("the model".to_string(), |(p, _)| format!("`{p}`"));
            d.error(
                node,
                &format!("{}.values", raw.prefix),
                format!("this value cannot be used for {what}"),
            )
            .found(describe(node))
            .expected(why);
        }
    }
    if let ("scenario_parameter", Some((p, pnode))) = (raw.kind, &raw.parameter) {
        let known = super::SCENARIO_KEYS
            .iter()
            .any(|k| k.name == p || k.aliases.contains(&p.as_str()));
        if !known && !scenario.extra.contains_key(p) {
            let names = super::SCENARIO_KEYS.iter().map(|k| k.name);
            let diag = d.error(pnode, &format!("{}.parameter", raw.prefix), format!("`{p}` is not a key of scenario.yaml"))
                .expected("a scenario key such as turns, world_state_model, initial_world_state, system_prompt");
            if let Some(h) = crate::suggest::closest(p, names) {
                diag.help(format!("did you mean `{h}`?"));
            }
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    let actor_name = actor.map(|i| scenario.actors[i].short_name.clone());
    let kind = match raw.kind {
        "actor_model" => DimensionKind::ActorModel { actor: actor_name? },
        "scenario_parameter" => DimensionKind::ScenarioParameter {
            parameter: raw.parameter.as_ref()?.0.clone(),
        },
        _ => DimensionKind::ActorParameter {
            actor: actor_name?,
            parameter: raw.parameter.as_ref()?.0.clone(),
        },
    };
    Some(Dimension {
        kind,
        values: raw.values.iter().map(|(v, _)| v.clone()).collect(),
    })
}

fn check_duplicates(d: &mut FileDiags, dims: &[RawDimension]) {
    for (i, a) in dims.iter().enumerate() {
        for b in &dims[..i] {
            if a.intervention.is_some() && b.intervention.is_some() {
                d.error(
                    a.node,
                    &a.prefix,
                    format!(
                        "a batch has one `intervention` variation, and one is at line {}",
                        b.node.line
                    ),
                )
                .expected("one intervention, with every arm in its `arms` list")
                .help("to intervene at another turn too, run another batch");
                continue;
            }
            let same = a.kind == b.kind
                && a.actor.as_ref().map(|x| &x.0) == b.actor.as_ref().map(|x| &x.0)
                && a.parameter.as_ref().map(|x| &x.0) == b.parameter.as_ref().map(|x| &x.0);
            if same {
                d.error(a.node, &a.prefix, format!("this variation repeats the one at line {}", b.node.line)).expected("each actor model or parameter varied once (put every value in one `values` list)");
            }
        }
    }
}

/// An intervention's turn must come in every variation's run: each value of a `turns`
/// dimension is at least `at_turn`.
fn intervention_turns(d: &mut FileDiags, raw: &[RawDimension], dims: &[Dimension]) {
    let Some((at, node)) = raw.iter().find_map(|r| r.intervention.as_ref()?.at_turn()) else {
        return;
    };
    for dim in dims {
        let DimensionKind::ScenarioParameter { parameter } = &dim.kind else {
            continue;
        };
        if !["turns", "num_turns"].contains(&parameter.as_str()) {
            continue;
        }
        if let Some(short) = dim.values.iter().filter_map(Json::as_i64).find(|t| *t < at) {
            d.error(
                node,
                "at_turn",
                format!(
                    "`at_turn` is {at}, but the `{parameter}` variation runs only {short} turns"
                ),
            )
            .expected(format!(
                "every value of `{parameter}` at least {at}, or an earlier `at_turn`"
            ));
        }
    }
}

fn read_prices(d: &mut FileDiags, p: &Node) -> BTreeMap<String, ModelPrice> {
    let mut out = BTreeMap::new();
    if p.entries().is_empty() && !p.is_null() {
        d.error(p, "prices", "`prices` must map model ids to prices")
            .expected("prices: {\"openai/gpt-4o\": {prompt: 2.5, completion: 10}}")
            .found(describe(p));
    }
    for (k, v) in p.entries() {
        let model = k.scalar_text().unwrap_or_default();
        let key = format!("prices.{model}");
        const PRICE_KEYS: [&str; 5] = [
            "prompt",
            "completion",
            "cache_read",
            "cache_write",
            "batch_factor",
        ];
        for (pk, _) in v.entries() {
            let name = pk.scalar_text().unwrap_or_default();
            if !PRICE_KEYS.contains(&name.as_str()) {
                let diag = d
                    .error(
                        pk,
                        &key,
                        format!("unknown key `{name}` in the price of `{model}`"),
                    )
                    .expected("`prompt` and `completion` (USD per million tokens), and optionally `cache_read`, `cache_write` (USD per million tokens) and `batch_factor` (the batch price as a share of the realtime one)");
                if let Some(h) = crate::suggest::closest(&name, PRICE_KEYS) {
                    diag.help(format!("did you mean `{h}`?"));
                }
            }
        }
        let number = |d: &mut FileDiags, name: &str, n: &Node| match n.as_f64() {
            Some(x) if x >= 0.0 && x.is_finite() => Some(x),
            _ => {
                d.error(
                    n,
                    &format!("{key}.{name}"),
                    format!("the {name} price of `{model}` must be a number of 0 or more"),
                )
                .expected(if name == "batch_factor" {
                    "a share of the realtime price, such as 0.5"
                } else {
                    "USD per million tokens, such as 0.15"
                })
                .found(describe(n));
                None
            }
        };
        let part = |d: &mut FileDiags, name: &str| match v.get(name) {
            Some(n) => number(d, name, n),
            None => {
                d.error(v, &key, format!("the price of `{model}` has no `{name}`")).expected("{prompt: <USD per million prompt tokens>, completion: <USD per million completion tokens>}");
                None
            }
        };
        let optional = |d: &mut FileDiags, name: &str| v.get(name).and_then(|n| number(d, name, n));
        if let (Some(prompt), Some(completion)) = (part(d, "prompt"), part(d, "completion")) {
            let price = ModelPrice {
                prompt,
                completion,
                cache_read: optional(d, "cache_read"),
                cache_write: optional(d, "cache_write"),
                batch_factor: optional(d, "batch_factor"),
            };
            out.insert(model.clone(), price);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::host::MemoryStorage;

    #[test]
    fn durations() {
        assert_eq!(super::parse_duration("6h"), Some(21_600.0));
        assert_eq!(super::parse_duration("90m"), Some(5_400.0));
        assert_eq!(super::parse_duration("2d"), Some(172_800.0));
        assert_eq!(super::parse_duration("45"), Some(45.0));
        assert_eq!(super::parse_duration("0h"), None);
        assert_eq!(super::parse_duration("6 weeks"), None);
    }

    #[test]
    fn runs_per_variation_stays_within_what_a_run_id_names() {
        let files = |runs: &str| {
            let s = MemoryStorage::quick_negotiation();
            s.insert(
                "b.yaml",
                &format!("experiment_name: t\nbase_scenario: s\nruns_per_variation: {runs}\n"),
            );
            s
        };
        let load = |runs: &str| {
            futures::executor::block_on(super::super::load_batch(&files(runs), "b.yaml"))
        };
        assert!(load("999999999").is_ok());
        let e = load("1000000000").unwrap_err();
        let d = e.errors().next().unwrap();
        assert_eq!(d.line, Some(3));
        assert!(d.message.contains("at most 999999999"), "{}", d.message);
    }

    #[test]
    fn eight_requests_in_flight_per_parallel_run() {
        let s = MemoryStorage::quick_negotiation();
        s.insert(
            "b.yaml",
            "experiment_name: t\nbase_scenario: s\nmax_parallel: 3\n",
        );
        let config = futures::executor::block_on(super::super::load_batch(&s, "b.yaml"))
            .expect("a valid config")
            .value;
        assert_eq!(config.max_in_flight(), 24);
    }
}
