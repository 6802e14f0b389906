//! The analysis of a batch output folder: what changed the outcome, by how much, how sure we can
//! be, and at what cost.
//!
//! ```text
//!  <dir>/runs/*/{scenario-state,metrics,costs}.json ──► collect ──► compute, patterns
//!                                                                      │
//!  <dir>/analysis/{metrics-analysis,variation-statistics,patterns}.json ◄┤
//!  <dir>/analysis/{analysis-report.md, report.html, runs.csv}  ◄── report, html, csv
//! ```
//!
//! Modules, one job each:
//! - [`collect`]: the folder (ours or the original tool's) into per-run rows, tolerating damage.
//! - [`success`]: the `success:` condition on final metrics.
//! - [`design`]: whether the runs are paired (shared seeds) or independent, and the runs keyed
//!   by run number for the paired tests.
//! - [`compute`]: descriptive statistics, success rates, variation-against-variation tests.
//! - [`patterns`]: factor effects, interactions, failure modes, cost efficiency, sample sizes.
//! - [`sequential`]: a stopping rule's record, and the p-value to cite after a sequential stop.
//! - [`report`]: the report's content as blocks, and their Markdown; [`html`] and [`charts`]
//!   render the same blocks as a self-contained page with SVG charts.
//! - [`csv`](self::csv): `runs.csv`.

pub mod charts;
pub mod collect;
pub mod compute;
pub mod csv;
pub mod design;
pub mod html;
pub mod patterns;
pub mod report;
pub mod sequential;
pub mod success;
pub mod tree;

use std::collections::BTreeMap;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde::Deserialize;

pub use collect::{CollectError, Collected, Format, Problem};
use compute::{MetricStats, VariationStats};
use patterns::Patterns;

use crate::host::{Storage, StorageError};
use crate::paths;

/// What the caller asks for.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(
    test,
    derive(ts_rs::TS),
    ts(rename = "AnalyzeOptions", optional_fields)
)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    /// A success condition that overrides the batch config's `success:`.
    #[serde(default)]
    pub success: Option<String>,
    /// The 95% CI half-width to size runs for (default: 5% of each metric's observed range).
    #[serde(default)]
    pub half_width: Option<f64>,
    /// Write `<dir>/analysis/` (default true).
    #[serde(default = "yes")]
    #[cfg_attr(test, ts(as = "Option<bool>"))]
    pub write: bool,
}

fn yes() -> bool {
    true
}

impl Default for Options {
    fn default() -> Self {
        Options {
            success: None,
            half_width: None,
            write: true,
        }
    }
}

/// The analysis of one folder.
#[derive(Clone, Debug, serde::Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Analysis {
    /// `experiment_name`, when the folder says.
    pub experiment: Option<String>,
    /// The folder analysed.
    pub source: String,
    /// Who wrote it.
    pub format: Format,
    /// `metrics-analysis.json`: per metric, over all completed runs.
    pub metrics: BTreeMap<String, MetricStats>,
    /// `variation-statistics.json`, in variation order.
    pub variations: Vec<VariationStats>,
    /// `patterns.json`.
    pub patterns: Patterns,
    /// What was wrong with the input.
    pub problems: Vec<Problem>,
    /// Problems beyond those listed.
    pub problems_not_listed: usize,
    /// What providers' caches and batch prices saved the runs.
    pub savings: crate::schema::run::Savings,
    /// The report, as Markdown.
    pub report_markdown: String,
    /// Files written, when any.
    pub files: Vec<String>,
}

/// Why an analysis could not be made.
#[derive(Debug)]
pub enum AnalysisError {
    /// The folder could not be read.
    Collect(CollectError),
    /// The results could not be written.
    Storage(StorageError),
}

impl std::fmt::Display for AnalysisError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnalysisError::Collect(e) => e.fmt(f),
            AnalysisError::Storage(e) => write!(f, "cannot write {}: {}", e.path, e.message),
        }
    }
}

impl std::error::Error for AnalysisError {}

impl crate::error::HasKind for AnalysisError {
    fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            AnalysisError::Storage(_) | AnalysisError::Collect(CollectError::Storage(_)) => {
                ErrorKind::Storage
            }
            AnalysisError::Collect(_) => ErrorKind::Usage,
        }
    }
}

/// Variation statistics keyed by id, in id order (a JSON object's keys are strings, and
/// "10" sorts before "2" in a string-keyed map).
struct ById<'a>(&'a [VariationStats]);

impl Serialize for ById<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for v in self.0 {
            map.serialize_entry(&v.variation_id.to_string(), v)?;
        }
        map.end()
    }
}

fn json(value: &impl Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
    text.push('\n');
    text
}

/// Reads `<dir>`, computes everything, and (with `options.write`) writes `<dir>/analysis/`.
pub async fn analyze<S: Storage>(
    storage: &S,
    dir: &str,
    options: &Options,
) -> Result<Analysis, AnalysisError> {
    let c = collect::collect(storage, dir, options.success.as_deref())
        .await
        .map_err(AnalysisError::Collect)?;
    let values = compute::final_values(&c);
    let variations = compute::variation_statistics(&c, &values);
    let mut design = design::detect(&c);
    let by_run = design.is_paired().then(|| design::ByRun::new(&c));
    let comparisons = compute::compare_variations(&c, &values, by_run.as_ref());
    design.sequential = design
        .stopping
        .as_ref()
        .and_then(|record| sequential::result(record, &comparisons));
    let found = patterns::Found {
        values: &values,
        variations: &variations,
        by_run: by_run.as_ref(),
    };
    let mut analysis = Analysis {
        experiment: c.experiment.clone(),
        source: dir.to_string(),
        format: c.format,
        metrics: compute::metric_statistics(&c, &values),
        patterns: patterns::patterns(&c, &found, comparisons, design, options.half_width),
        variations,
        problems: c.problems.clone(),
        problems_not_listed: c.problems_not_listed,
        savings: c.savings,
        report_markdown: String::new(),
        files: Vec::new(),
    };
    let blocks = report::document(&analysis, &c, &values);
    analysis.report_markdown = report::markdown(&blocks);
    if options.write {
        let out = paths::join(dir, "analysis");
        let title = format!(
            "Batch Analysis Report{}",
            analysis
                .experiment
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        );
        let files = [
            ("metrics-analysis.json", json(&analysis.metrics)),
            (
                "variation-statistics.json",
                json(&ById(&analysis.variations)),
            ),
            ("patterns.json", json(&analysis.patterns)),
            ("analysis-report.md", analysis.report_markdown.clone()),
            ("report.html", html::page(&title, &blocks)),
        ];
        for (name, text) in files {
            let path = paths::join(&out, name);
            storage
                .write(&path, &text)
                .await
                .map_err(AnalysisError::Storage)?;
            analysis.files.push(path);
        }
        // runs.csv goes out in chunks (the first replaces the file, the rest append), so a
        // 100,000-run table is never one string. It is written last: the JSON files and the
        // report are complete before it starts.
        let path = paths::join(&out, "runs.csv");
        for (k, chunk) in csv::chunks(&c).enumerate() {
            let written = if k == 0 {
                storage.write(&path, &chunk).await
            } else {
                storage.append(&path, &chunk).await
            };
            written.map_err(AnalysisError::Storage)?;
        }
        analysis.files.push(path);
    }
    Ok(analysis)
}
