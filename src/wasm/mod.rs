//! The JavaScript API: each export converts its arguments, makes one call into the core, and
//! converts the result. No decision is made here that a native test could not reach.
//!
//! Panic policy: the release build aborts on panic (`panic = "abort"`), which wasm turns into a
//! `RuntimeError: unreachable`. The start function installs a hook that first prints the panic
//! message with `console.error`, so the cause is not lost. After a panic the instance is dead:
//! the host must load the module again. Exports never unwrap: every one returns `Result`, and
//! errors cross as `Error` objects with a stable `kind` (see `error.rs`).

mod convert;
mod error;
mod host_js;

use wasm_bindgen::prelude::*;

use crate::config;
use crate::plan;
use crate::pricing::PriceBook;
use convert::{export, import};
use error::{config_invalid, internal};
use host_js::{FetchLlm, JsClock, JsStorage};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Files by path; relative paths are relative to the host's root. */
export interface Storage {
  /** Text, or its UTF-8 bytes; null when there is no such file. */
  read(path: string): Promise<string | Uint8Array | null>;
  write(path: string, text: string): Promise<void>;
  append(path: string, text: string): Promise<void>;
  list(dir: string): Promise<string[] | null>;
  exists(path: string): Promise<boolean>;
  remove(path: string): Promise<void>;
}
/** One problem in one file; `text` is its printable form. */
export interface Diagnostic {
  severity: "error" | "warning";
  file: string;
  line: number | null;
  column: number | null;
  key: string | null;
  message: string;
  expected: string | null;
  found: string | null;
  suggestion: string | null;
  text: string;
}
export interface ValidationReport {
  ok: boolean;
  kind: "scenario" | "batch" | null;
  path: string;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}
export interface PlanOptions {
  /** The JSON text of OpenRouter's `GET /api/v1/models`, for current prices. */
  openrouterModels?: string;
}
/** What to run: a new run (`scenarioDir`), a resume (`resume`) or a branch (`branchFrom` + `atTurn`). */
export interface ScenarioRequest {
  scenarioDir?: string;
  output?: string;
  turns?: number;
  modelOverrides?: string[];
  seed?: number;
  resume?: string;
  branchFrom?: string;
  atTurn?: number;
  costLimit?: number;
  maxTokens?: number;
}
/** Where requests go. The key is sent only to `baseUrl` (or OpenRouter when unset). */
export interface Connection {
  apiKey?: string;
  baseUrl?: string;
  ollamaBaseUrl?: string;
  /** A random seed from the host, used when the request names none. */
  freshSeed?: number;
}
export interface RunOutcome {
  dir: string;
  status: "completed" | "halted" | "failed" | "running";
  halt_reason: string | null;
  error: string | null;
  current_turn: number;
  total_cost: number;
  calls_sent: number;
  calls_replayed: number;
}
export interface BatchRunOptions {
  /** Continue the batch in its output_dir. */
  resume?: boolean;
  /** Overrides the config's budget_limit (USD). */
  budgetLimit?: number;
  /** [k, n]: run only the runs whose index modulo n is k. */
  shard?: [number, number];
  /** The JSON text of OpenRouter's model list, for current prices. */
  openrouterModels?: string;
  /** Receives every event: `{type, data}`. */
  onEvent?: (event: { type: string; data: Record<string, unknown> }) => void;
  /** Polled; return true to stop the batch gracefully. */
  shouldStop?: () => boolean;
}
export interface BatchOutcome {
  total_runs: number;
  runs_completed: number;
  runs_failed: number;
  runs_halted: number;
  runs_pending: number;
  total_spent: number;
  total_spent_nanos: number;
  stop_reason: string | null;
  stop_message: string | null;
  output_dir: string;
}
export interface RenderOptions {
  color?: boolean;
}
export interface AnalyzeOptions {
  /** A success condition on final metrics, e.g. "cooperation >= 6"; overrides the config's. */
  success?: string;
  /** The 95% CI half-width to size runs for (default: 5% of each metric's observed range). */
  halfWidth?: number;
  /** Write <dir>/analysis/ (default true). */
  write?: boolean;
}
/** The analysis of a batch folder; the package's index.d.ts describes its fields. */
export interface Analysis {
  [field: string]: unknown;
}
"#;

#[wasm_bindgen(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        web_log(&format!(
            "scenario-lab: internal error (this instance must be reloaded): {info}"
        ));
    }));
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn web_log(s: &str);
}

/// The package version.
#[wasm_bindgen]
pub fn version() -> String {
    crate::VERSION.to_string()
}

/// Checks a scenario folder or a batch config; never throws for a bad input.
#[wasm_bindgen(unchecked_return_type = "ValidationReport")]
pub async fn validate(
    path: String,
    #[wasm_bindgen(unchecked_param_type = "Storage")] storage: JsValue,
) -> Result<JsValue, JsValue> {
    let storage = JsStorage::new(storage)?;
    let report = config::validate(&storage, &path).await;
    storage.take_error()?;
    export(&report)
}

/// Loads a batch config through JS storage; a bad config throws `config_invalid`.
async fn batch_config(path: &str, storage: &JsStorage) -> Result<config::BatchConfig, JsValue> {
    let loaded = config::load_batch(storage, path).await;
    storage.take_error()?;
    Ok(loaded.map_err(|e| config_invalid(&e))?.value)
}

/// Where requests go, from a `Connection`: the endpoints, and the transport holding the key.
fn connect(connection: &JsValue) -> (crate::llm::Endpoints, FetchLlm) {
    let endpoints = crate::llm::Endpoints {
        base_url: convert::string_field(connection, "baseUrl").filter(|s| !s.is_empty()),
        ollama_base_url: convert::string_field(connection, "ollamaBaseUrl")
            .filter(|s| !s.is_empty()),
    };
    let key_base = endpoints
        .base_url
        .clone()
        .unwrap_or_else(|| crate::llm::route::OPENROUTER_BASE.to_string());
    let llm = FetchLlm::new(convert::string_field(connection, "apiKey"), &key_base);
    (endpoints, llm)
}

/// The host's random seed in a `Connection` (0 when absent).
fn fresh_seed(connection: &JsValue) -> u64 {
    js_sys::Reflect::get(connection, &"freshSeed".into())
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0) as u64
}

/// Loads a batch config and its scenario; throws `config_invalid` with every diagnostic.
#[wasm_bindgen(js_name = loadBatchConfig)]
pub async fn load_batch_config(
    path: String,
    #[wasm_bindgen(unchecked_param_type = "Storage")] storage: JsValue,
) -> Result<JsValue, JsValue> {
    let storage = JsStorage::new(storage)?;
    export(&batch_config(&path, &storage).await?)
}

/// Loads a scenario folder; throws `config_invalid` with every diagnostic.
#[wasm_bindgen(js_name = loadScenario)]
pub async fn load_scenario(
    dir: String,
    #[wasm_bindgen(unchecked_param_type = "Storage")] storage: JsValue,
) -> Result<JsValue, JsValue> {
    let storage = JsStorage::new(storage)?;
    let loaded = config::load_scenario(&storage, &dir).await;
    storage.take_error()?;
    export(&loaded.map_err(|e| config_invalid(&e))?.value)
}

/// Plans a batch (the dry run): variations, runs, cost and time estimates, budget verdict.
#[wasm_bindgen(js_name = planBatch)]
pub async fn plan_batch(
    path: String,
    #[wasm_bindgen(unchecked_param_type = "Storage")] storage: JsValue,
    #[wasm_bindgen(unchecked_param_type = "PlanOptions | undefined")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let storage = JsStorage::new(storage)?;
    let config = batch_config(&path, &storage).await?;
    let mut book = PriceBook::new(&config.prices);
    let mut note = None;
    if let Some(models) = convert::string_field(&options, "openrouterModels") {
        if let Err(e) = book.add_openrouter_models(&models) {
            // The list comes from the network: a bad one is a note, not a reason to stop.
            note = Some(format!(
                "OpenRouter's model list could not be read ({e}); prices come from the built-in table"
            ));
        }
    }
    let mut plan = plan::plan(&config, &book);
    plan.notes.extend(note);
    export(&plan)
}

/// The dry-run text of a plan returned by `planBatch`.
#[wasm_bindgen(js_name = renderPlan)]
pub fn render_plan(
    plan: JsValue,
    #[wasm_bindgen(unchecked_param_type = "RenderOptions | undefined")] options: JsValue,
) -> Result<String, JsValue> {
    let plan: plan::Plan = import(plan)?;
    let color = convert::bool_field(&options, "color").unwrap_or(false);
    Ok(plan::render(&plan, color))
}

/// Runs one scenario (new, resumed or branched) to its end; resolves to its outcome.
#[wasm_bindgen(js_name = runScenario, unchecked_return_type = "RunOutcome")]
pub async fn run_scenario(
    #[wasm_bindgen(unchecked_param_type = "ScenarioRequest")] request: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Storage")] storage: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Connection")] connection: JsValue,
) -> Result<JsValue, JsValue> {
    use crate::engine::session;
    let storage = JsStorage::new(storage)?;
    let req: session::Request = import(request)?;
    let retry = crate::llm::RetryPolicy {
        timeout_ms: req.call_timeout.map(|s| s * 1000.0),
        ..Default::default()
    };
    let prepared = session::prepare(&storage, &req, fresh_seed(&connection)).await;
    storage.take_error()?;
    let prepared = prepared.map_err(|e| match e {
        session::PrepareError::Config(c) => config_invalid(&c),
        session::PrepareError::Invalid(m) => error::usage(&m),
    })?;
    let (endpoints, llm) = connect(&connection);
    let clock = JsClock;
    let client = crate::llm::Client::new(&llm, &clock, endpoints, PriceBook::default(), retry);
    let outcome = crate::engine::run(
        &storage,
        &client,
        &clock,
        &prepared.scenario,
        &prepared.spec,
        &prepared.dir,
    )
    .await;
    storage.take_error()?;
    let mut value = serde_json::to_value(&outcome).map_err(|e| internal(&e.to_string()))?;
    value["dir"] = serde_json::Value::String(prepared.dir);
    export(&value)
}

/// Runs (or resumes, or runs one shard of) a batch; resolves to its outcome. Events go to
/// `options.onEvent`; `options.shouldStop()` returning true stops the batch gracefully.
#[wasm_bindgen(js_name = runBatch, unchecked_return_type = "BatchOutcome")]
pub async fn run_batch(
    path: String,
    #[wasm_bindgen(unchecked_param_type = "Storage")] storage: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Connection")] connection: JsValue,
    #[wasm_bindgen(unchecked_param_type = "BatchRunOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let storage = JsStorage::new(storage)?;
    let config = batch_config(&path, &storage).await?;
    let text = crate::host::Storage::read(&storage, &path)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut opts: crate::batch::BatchOptions = import(options.clone())?;
    if opts.fresh_seed == 0 {
        opts.fresh_seed = fresh_seed(&connection);
    }
    let (endpoints, llm) = connect(&connection);
    let clock = JsClock;
    let book = crate::batch::price_book(
        &config,
        convert::string_field(&options, "openrouterModels").as_deref(),
    );
    let client = crate::llm::Client::new(
        &llm,
        &clock,
        endpoints,
        book,
        crate::llm::RetryPolicy {
            timeout_ms: opts
                .call_timeout
                .or(config.call_timeout)
                .map(|s| s * 1000.0),
            ..Default::default()
        },
    )
    .with_max_in_flight(config.max_parallel as usize * 8);
    let control = host_js::JsControl::new(&options);
    let outcome =
        crate::batch::run_batch(&storage, &client, &clock, &config, &text, &opts, &control).await;
    storage.take_error()?;
    let outcome = outcome.map_err(|e| match e {
        crate::batch::BatchError::Storage(m) => error::storage(&m),
        other => error::refused(&other.to_string()),
    })?;
    export(&outcome)
}

/// Combines shard output folders into one output tree; resolves to its totals.
#[wasm_bindgen(js_name = mergeBatches)]
pub async fn merge_batches(
    dirs: Vec<String>,
    output: String,
    #[wasm_bindgen(unchecked_param_type = "Storage")] storage: JsValue,
) -> Result<JsValue, JsValue> {
    let storage = JsStorage::new(storage)?;
    let totals = crate::batch::merge(&storage, &dirs, &output).await;
    storage.take_error()?;
    export(&totals.map_err(|e| error::refused(&e.to_string()))?)
}

/// Analyses a batch output folder (ours or the original tool's); with `options.write` (the
/// default) writes `<dir>/analysis/`. Resolves to the analysis as a plain object.
#[wasm_bindgen(js_name = analyzeBatch, unchecked_return_type = "Analysis")]
pub async fn analyze_batch(
    dir: String,
    #[wasm_bindgen(unchecked_param_type = "Storage")] storage: JsValue,
    #[wasm_bindgen(unchecked_param_type = "AnalyzeOptions | undefined")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let storage = JsStorage::new(storage)?;
    let options: crate::analysis::Options = if options.is_object() {
        import(options)?
    } else {
        Default::default()
    };
    let analysis = crate::analysis::analyze(&storage, &dir, &options).await;
    storage.take_error()?;
    use crate::analysis::{AnalysisError, CollectError};
    export(&analysis.map_err(|e| match e {
        AnalysisError::Storage(_) | AnalysisError::Collect(CollectError::Storage(_)) => {
            error::storage(&e.to_string())
        }
        AnalysisError::Collect(_) => error::usage(&e.to_string()),
    })?)
}

// ---------------------------------------------------------------------------------------------
// The estimate of the rest of a started batch, model ids checked against a provider's list, and
// "did you mean" for the hosts' own names (issue 10).

#[wasm_bindgen(typescript_custom_section)]
const CALIBRATION_TYPES: &'static str = r#"
/** Options for `calibrateBatch`: `PlanOptions`, and the session's budget. */
export interface CalibrateOptions extends PlanOptions {
  /** Overrides the config's budget_limit (USD), as `runBatch` takes it. */
  budgetLimit?: number;
}
/** Options for `renderCalibration`. */
export interface CalibrationRenderOptions {
  color?: boolean;
  /** A plan from `planBatch`: render the whole dry run, with the rest of the batch after it. */
  plan?: unknown;
}
/** The estimate of the rest of a batch; the package's index.d.ts describes its fields. */
export interface Calibration {
  [field: string]: unknown;
}
/** Model ids checked against a provider's model list. */
export interface ModelCheck {
  known: string[];
  not_checked: string[];
  unknown: { model: string; suggestion: string | null; message: string }[];
  listed: number;
}
"#;

/// Estimates the rest of a batch from the calls its runs recorded (a pilot, or a batch that
/// stopped): reads `<output_dir>/runs/`, writes nothing. A batch with no run yet gets the
/// built-in estimate, and says so.
#[wasm_bindgen(js_name = calibrateBatch, unchecked_return_type = "Calibration")]
pub async fn calibrate_batch(
    path: String,
    #[wasm_bindgen(unchecked_param_type = "Storage")] storage: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CalibrateOptions | undefined")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let storage = JsStorage::new(storage)?;
    let mut config = batch_config(&path, &storage).await?;
    let mut book = PriceBook::new(&config.prices);
    if let Some(models) = convert::string_field(&options, "openrouterModels") {
        // A list that does not read leaves the built-in table (planBatch says so in a note).
        let _ = book.add_openrouter_models(&models);
    }
    if options.is_object() {
        // `--budget-limit` for this session, as runBatch takes it.
        let limit = js_sys::Reflect::get(&options, &"budgetLimit".into()).ok();
        if let Some(limit) = limit.and_then(|v| v.as_f64()) {
            config.budget_limit = Some(limit);
        }
    }
    let calibration = plan::calibrate::calibrate_batch(&storage, &config, &book).await;
    storage.take_error()?;
    export(&calibration.map_err(|e| error::storage(&e.to_string()))?)
}

/// The text of a `calibrateBatch` result: on its own (after a pilot), or with `options.plan`
/// the whole dry run with the rest of the batch after the plan.
#[wasm_bindgen(js_name = renderCalibration)]
pub fn render_calibration(
    #[wasm_bindgen(unchecked_param_type = "Calibration")] calibration: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CalibrationRenderOptions | undefined")] options: JsValue,
) -> Result<String, JsValue> {
    let calibration: plan::calibrate::Calibration = import(calibration)?;
    let color = convert::bool_field(&options, "color").unwrap_or(false);
    let plan = if options.is_object() {
        js_sys::Reflect::get(&options, &"plan".into())
            .ok()
            .filter(JsValue::is_object)
    } else {
        None
    };
    Ok(match plan {
        Some(p) => {
            let plan: plan::Plan = import(p)?;
            plan::calibrate::render_with(&plan, Some(&calibration), color)
        }
        None => plan::calibrate::render_calibration(&calibration, color),
    })
}

/// Checks every model id a batch config (or a scenario folder) calls against a provider's model
/// list (the JSON text of `GET {base}/models`), with a did-you-mean for each unknown one.
/// Resolves to null when the input does not load (`validate` says why).
#[wasm_bindgen(js_name = checkModels, unchecked_return_type = "ModelCheck | null")]
pub async fn check_models(
    path: String,
    #[wasm_bindgen(unchecked_param_type = "Storage")] storage: JsValue,
    model_list: String,
) -> Result<JsValue, JsValue> {
    let storage = JsStorage::new(storage)?;
    let ids = crate::suggest::models_called(&storage, &path).await;
    storage.take_error()?;
    match ids {
        None => Ok(JsValue::NULL),
        Some(ids) => {
            export(&crate::suggest::check_models(&model_list, &ids).map_err(|e| error::usage(&e))?)
        }
    }
}

/// The candidate nearest to a misspelt `word`, when it is close enough to be a typo (the
/// config loader's own "did you mean"); the CLI uses it for commands and flags.
#[wasm_bindgen]
pub fn suggest(word: String, candidates: Vec<String>) -> Option<String> {
    crate::suggest::closest(&word, candidates.iter().map(String::as_str)).map(str::to_string)
}
