//! Scenario folders and batch configs: read, checked, and turned into typed values.
//!
//! The loaders ([`load_scenario`], [`load_batch`]) are the only drivers here: they read files
//! through [`Storage`], parse them into position-carrying YAML trees, and hand each tree to a
//! pure reader (`scenario`, `metrics`, `events`, `checks`, `batch`) that takes a tree plus a
//! [`FileDiags`] and never touches storage. Every problem becomes a [`Diagnostic`]; a load
//! fails only after the whole input was checked, so the user sees every problem at once.
//!
//! Keys are declared once, in tables of [`Key`]: the canonical name, its aliases, and a line
//! of documentation. The same table drives alias resolution, unknown-key errors with "did you
//! mean", and the key lists in error messages.

mod batch;
mod checks;
mod design;
mod events;
mod fields;
mod find;
mod intervention;
mod metrics;
mod scenario;

pub use batch::{
    parse_duration, BatchConfig, Dimension, DimensionKind, Execution, ModelPrice, BATCH_KEYS,
};
pub use checks::{QualityCheck, QualityChecks};
pub use design::{Pairing, Stopping, MIN_RUNS_FOR_PRECISION, STOPPING_KEYS};
pub use events::{CompareOp, Condition, EventKind, ExogenousEvent};
pub use fields::Key;
pub use find::{config_kind, find_batch_configs};
pub use intervention::{Arm, Intervention, ARM_KEYS, INTERVENTION_KEYS};
pub use metrics::{compile_pattern, Extraction, Metric, Scoring, ValueType};
pub use scenario::{Actor, Communication, Scenario, ACTOR_KEYS, SCENARIO_KEYS};

use crate::diag::{Diagnostic, FileDiags, Severity};
use crate::host::Storage;
use crate::paths;

/// A loaded value and the warnings met on the way.
#[derive(Debug, Clone)]
pub struct Loaded<T> {
    /// The value.
    pub value: T,
    /// Problems that did not stop the load.
    pub warnings: Vec<Diagnostic>,
}

/// Why a load failed: every problem found (errors first), warnings included.
#[derive(Debug, Clone)]
pub struct ConfigErrors {
    /// Every diagnostic, errors before warnings.
    pub diagnostics: Vec<Diagnostic>,
}

impl ConfigErrors {
    /// The errors alone.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }
}

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.errors().count();
        for d in self.errors() {
            writeln!(f, "{d}\n")?;
        }
        write!(f, "{n} error{} found", if n == 1 { "" } else { "s" })
    }
}

impl std::error::Error for ConfigErrors {}

/// Errors before warnings; within each, files in the order first met, then by position.
fn sort(diags: &mut [Diagnostic]) {
    let mut files: Vec<String> = Vec::new();
    for d in diags.iter() {
        if !files.contains(&d.file) {
            files.push(d.file.clone());
        }
    }
    let rank = |f: &str| files.iter().position(|x| x == f).unwrap_or(0);
    diags.sort_by_key(|d| {
        (
            !d.is_error(),
            rank(&d.file),
            d.line.unwrap_or(0),
            d.column.unwrap_or(0),
        )
    });
}

fn finish<T>(value: Option<T>, mut diags: Vec<Diagnostic>) -> Result<Loaded<T>, ConfigErrors> {
    sort(&mut diags);
    match value {
        Some(value) if !diags.iter().any(Diagnostic::is_error) => Ok(Loaded {
            value,
            warnings: diags,
        }),
        _ => {
            if !diags.iter().any(Diagnostic::is_error) {
                diags.insert(
                    0,
                    Diagnostic::file_level(Severity::Error, "", "the input could not be loaded"),
                );
            }
            Err(ConfigErrors { diagnostics: diags })
        }
    }
}

/// Reads a file and parses it as YAML, recording a diagnostic when either fails.
/// `Ok(None)` means the file does not exist.
pub(crate) async fn read_yaml<S: Storage>(
    storage: &S,
    path: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<(String, crate::yaml::Node)> {
    let text = match storage.read(path).await {
        Ok(Some(text)) => text,
        Ok(None) => return None,
        Err(e) => {
            diags.push(Diagnostic::file_level(
                Severity::Error,
                path,
                format!("could not read the file: {}", e.message),
            ));
            return None;
        }
    };
    match crate::yaml::parse(&text) {
        Ok(node) => Some((text, node)),
        Err(e) => {
            let mut d = FileDiags::new(path, &text, diags);
            let at = crate::yaml::Node {
                value: crate::yaml::Value::Null,
                line: e.line,
                col: e.col,
            };
            d.error(&at, "", e.message);
            None
        }
    }
}

/// Loads a scenario folder: `scenario.yaml`, its actors, and the optional metrics, events,
/// quality checks and background files.
pub async fn load_scenario<S: Storage>(
    storage: &S,
    dir: &str,
) -> Result<Loaded<Scenario>, ConfigErrors> {
    let mut diags = Vec::new();
    let value = scenario::load(storage, &paths::normalize(dir), &mut diags).await;
    finish(value, diags)
}

/// Loads a batch config and the scenario it names. Relative paths in it resolve from the
/// working directory first, then from the config's own folder.
pub async fn load_batch<S: Storage>(
    storage: &S,
    config_path: &str,
) -> Result<Loaded<BatchConfig>, ConfigErrors> {
    let mut diags = Vec::new();
    let value = batch::load(storage, &paths::normalize(config_path), &mut diags).await;
    finish(value, diags)
}

/// What a path names: a scenario folder or a batch config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    /// A folder with a `scenario.yaml`.
    Scenario,
    /// A batch config file.
    Batch,
}

/// Decides what `path` is: a folder (or its `scenario.yaml`) is a scenario, any other file a
/// batch config. `None` when nothing is there.
pub async fn detect_kind<S: Storage>(storage: &S, path: &str) -> Option<(InputKind, String)> {
    let path = paths::normalize(path);
    if paths::file_name(&path) == "scenario.yaml" {
        return Some((InputKind::Scenario, paths::parent(&path)));
    }
    if let Ok(true) = storage.exists(&paths::join(&path, "scenario.yaml")).await {
        return Some((InputKind::Scenario, path));
    }
    match storage.read(&path).await {
        Ok(Some(_)) => Some((InputKind::Batch, path)),
        _ => None,
    }
}

/// The outcome of `validate`: every problem of a scenario folder or batch config.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ValidationReport {
    /// No errors (warnings allowed).
    pub ok: bool,
    /// What the path named, when anything.
    pub kind: Option<InputKind>,
    /// The path as given.
    pub path: String,
    /// The errors.
    #[cfg_attr(test, ts(as = "Vec<crate::diag::DiagnosticView<'static>>"))]
    pub errors: Vec<Diagnostic>,
    /// The warnings.
    #[cfg_attr(test, ts(as = "Vec<crate::diag::DiagnosticView<'static>>"))]
    pub warnings: Vec<Diagnostic>,
}

/// Checks a scenario folder or a batch config (and its scenario), reporting every problem.
pub async fn validate<S: Storage>(storage: &S, path: &str) -> ValidationReport {
    let diagnostics = match detect_kind(storage, path).await {
        None => {
            let d = Diagnostic::file_level(
                Severity::Error,
                path,
                format!("nothing to validate at `{path}`"),
            )
            .expected("a scenario folder (holding scenario.yaml) or a batch config file");
            return ValidationReport {
                ok: false,
                kind: None,
                path: path.to_string(),
                errors: vec![d],
                warnings: vec![],
            };
        }
        Some((kind, at)) => {
            let diags = match kind {
                InputKind::Scenario => load_scenario(storage, &at).await.map(|l| l.warnings),
                InputKind::Batch => load_batch(storage, &at).await.map(|l| l.warnings),
            };
            (kind, diags.unwrap_or_else(|e| e.diagnostics))
        }
    };
    let (kind, all) = diagnostics;
    let (errors, warnings): (Vec<_>, Vec<_>) = all.into_iter().partition(Diagnostic::is_error);
    ValidationReport {
        ok: errors.is_empty(),
        kind: Some(kind),
        path: path.to_string(),
        errors,
        warnings,
    }
}
