//! `validation-rules.yaml`: quality checks run on each turn, with or without the original's
//! per-check `prompt_template`.

use serde::{Deserialize, Serialize};

use super::fields::{self, Key};
use super::read_yaml;
use crate::diag::{describe, Detail, Diagnostic, FileDiags};
use crate::host::Storage;
use crate::paths;
use crate::yaml::Node;

const FILE_KEYS: &[Key] = &[
    Key {
        name: "validation_model",
        aliases: &[],
        doc: "model of the checks (default: the world model)",
    },
    Key {
        name: "checks",
        aliases: &[],
        doc: "the checks, by name",
    },
    Key {
        name: "run_after_each_turn",
        aliases: &[],
        doc: "check every turn (default true)",
    },
    Key {
        name: "generate_turn_reports",
        aliases: &[],
        doc: "write validation-NNN.md (default true)",
    },
    Key {
        name: "generate_summary_report",
        aliases: &["generate_summary"],
        doc: "write validation-summary.md (default true)",
    },
    Key {
        name: "run_at_scenario_end",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "include_in_costs",
        aliases: &[],
        doc: "accepted for compatibility (checks are always costed)",
    },
    Key {
        name: "severity_thresholds",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "halt_on_critical",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "max_issues_before_halt",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "report_format",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "scenario_specific_rules",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "reporting",
        aliases: &[],
        doc: "accepted for compatibility",
    },
];

const CHECK_KEYS: &[Key] = &[
    Key {
        name: "enabled",
        aliases: &[],
        doc: "run it (default true)",
    },
    Key {
        name: "severity",
        aliases: &[],
        doc: "low | medium | high",
    },
    Key {
        name: "description",
        aliases: &[],
        doc: "what it checks",
    },
    Key {
        name: "prompt_template",
        aliases: &[],
        doc: "the question, with {placeholders}",
    },
];

/// One quality check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityCheck {
    /// Its name (`world_state_coherence`, ...).
    pub name: String,
    /// Whether it runs.
    pub enabled: bool,
    /// low, medium or high.
    pub severity: String,
    /// What it checks.
    pub description: String,
    /// The original's prompt, when given; otherwise a built-in one is used.
    pub prompt_template: Option<String>,
}

impl QualityCheck {
    /// Whether the check runs once per actor (rather than once per turn).
    pub fn per_actor(&self) -> bool {
        matches!(
            self.name.as_str(),
            "actor_decision_consistency" | "information_access_consistency"
        )
    }
}

/// The quality checks of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityChecks {
    /// The model, when given.
    pub model: Option<String>,
    /// The checks, in file order.
    pub checks: Vec<QualityCheck>,
    /// Check every turn.
    pub run_after_each_turn: bool,
    /// Write `validation-NNN.md`.
    pub turn_reports: bool,
    /// Write `validation-summary.md`.
    pub summary_report: bool,
}

impl QualityChecks {
    /// The checks that run.
    pub fn enabled(&self) -> impl Iterator<Item = &QualityCheck> {
        self.checks.iter().filter(|c| c.enabled)
    }
}

pub(super) async fn load<S: Storage>(
    storage: &S,
    dir: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<QualityChecks> {
    let path = paths::join(dir, "validation-rules.yaml");
    let (text, root) = read_yaml(storage, &path, diags).await?;
    let mut d = FileDiags::new(&path, &text, diags);
    read_file(&mut d, &root)
}

fn read_file(d: &mut FileDiags, root: &Node) -> Option<QualityChecks> {
    if root.is_null() {
        return None;
    }
    let f = fields::read(d, root, FILE_KEYS, false, "validation-rules.yaml", "");
    let flag = |d: &mut FileDiags, k: &str| {
        f.value(k)
            .and_then(|n| fields::boolean(d, n, k))
            .unwrap_or(true)
    };
    let mut checks = Vec::new();
    if let Some(list) = f.value("checks") {
        if list.entries().is_empty() {
            d.error(
                list,
                "checks",
                "`checks` must be a mapping of check names to settings",
            )
            .found(describe(list));
        }
        for (k, v) in list.entries() {
            let name = k.scalar_text().unwrap_or_default();
            let prefix = format!("checks.{name}");
            let cf = fields::read(d, v, CHECK_KEYS, false, &format!("check `{name}`"), &prefix);
            let text = |d: &mut FileDiags, key: &str| {
                cf.value(key)
                    .and_then(|n| fields::text(d, n, &format!("{prefix}.{key}")))
            };
            let severity = text(d, "severity").unwrap_or_else(|| "medium".into());
            if !matches!(severity.as_str(), "low" | "medium" | "high" | "critical") {
                if let Some(n) = cf.value("severity") {
                    d.error(
                        n,
                        &format!("{prefix}.severity"),
                        format!("check `{name}` has an unknown severity"),
                    )
                    .expected("low, medium or high")
                    .found(describe(n));
                }
            }
            checks.push(QualityCheck {
                enabled: cf
                    .value("enabled")
                    .and_then(|n| fields::boolean(d, n, &format!("{prefix}.enabled")))
                    .unwrap_or(true),
                description: text(d, "description")
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
                prompt_template: text(d, "prompt_template"),
                severity,
                name,
            });
        }
    }
    Some(QualityChecks {
        model: f
            .value("validation_model")
            .and_then(|n| fields::text(d, n, "validation_model")),
        checks,
        run_after_each_turn: flag(d, "run_after_each_turn"),
        turn_reports: flag(d, "generate_turn_reports"),
        summary_report: flag(d, "generate_summary_report"),
    })
}
