//! `exogenous-events.yaml`: things that happen to the world whatever the actors do.
//!
//! Read from the scenario root, or from `definition/` (where the original's V2 looked). Two
//! shapes are accepted: the schema shape (`exogenous_events: [{type: trend|random|conditional|
//! scheduled, ...}]`) and the sectioned shape of the original's full-featured example
//! (`trends:`, `random_events:`, `conditional_events:`, `scheduled_events:`), which the
//! original silently ignored; here it means what it says.

use serde::{Deserialize, Serialize};

use super::fields::{self, Key};
use super::{read_yaml, Metric};
use crate::diag::{describe, Detail, Diagnostic, FileDiags, Severity};
use crate::host::Storage;
use crate::paths;
use crate::yaml::Node;

const FILE_KEYS: &[Key] = &[
    Key {
        name: "exogenous_events",
        aliases: &["events"],
        doc: "the events (schema shape)",
    },
    Key {
        name: "trends",
        aliases: &[],
        doc: "sectioned shape: trends with effects by turn range",
    },
    Key {
        name: "random_events",
        aliases: &[],
        doc: "sectioned shape: random events",
    },
    Key {
        name: "conditional_events",
        aliases: &[],
        doc: "sectioned shape: conditional events",
    },
    Key {
        name: "scheduled_events",
        aliases: &[],
        doc: "sectioned shape: scheduled events",
    },
];

const EVENT_KEYS: &[Key] = &[
    Key {
        name: "type",
        aliases: &[],
        doc: "trend | random | conditional | scheduled",
    },
    Key {
        name: "name",
        aliases: &[],
        doc: "event name",
    },
    Key {
        name: "description",
        aliases: &[],
        doc: "what happens",
    },
    Key {
        name: "turn_range",
        aliases: &[],
        doc: "[first, last] turn it may happen",
    },
    Key {
        name: "frequency",
        aliases: &[],
        doc: "trend: every N turns",
    },
    Key {
        name: "probability",
        aliases: &["probability_per_turn"],
        doc: "random: chance per turn",
    },
    Key {
        name: "conditions",
        aliases: &[],
        doc: "conditional: {metric: \">= 5\"}",
    },
    Key {
        name: "turn",
        aliases: &[],
        doc: "scheduled: the turn",
    },
    Key {
        name: "once",
        aliases: &[],
        doc: "fire at most once",
    },
    Key {
        name: "effect",
        aliases: &["impact"],
        doc: "sectioned shape: what happens",
    },
    Key {
        name: "effects",
        aliases: &[],
        doc: "sectioned trends: effects by turn range",
    },
    Key {
        name: "schedule",
        aliases: &[],
        doc: "sectioned scheduled: {turns: [..]}",
    },
];

/// A comparison in a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareOp {
    /// `>=`
    #[serde(rename = ">=")]
    Ge,
    /// `>`
    #[serde(rename = ">")]
    Gt,
    /// `<=`
    #[serde(rename = "<=")]
    Le,
    /// `<`
    #[serde(rename = "<")]
    Lt,
    /// `==` (within 0.0001)
    #[serde(rename = "==")]
    Eq,
    /// `!=`
    #[serde(rename = "!=")]
    Ne,
}

impl CompareOp {
    fn parse(text: &str) -> Option<(CompareOp, &str)> {
        let t = text.trim();
        for (sym, op) in [
            (">=", CompareOp::Ge),
            ("<=", CompareOp::Le),
            ("==", CompareOp::Eq),
            ("!=", CompareOp::Ne),
            (">", CompareOp::Gt),
            ("<", CompareOp::Lt),
        ] {
            if let Some(rest) = t.strip_prefix(sym) {
                return Some((op, rest.trim()));
            }
        }
        None
    }

    /// Whether `left op right` holds.
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            CompareOp::Ge => left >= right,
            CompareOp::Gt => left > right,
            CompareOp::Le => left <= right,
            CompareOp::Lt => left < right,
            CompareOp::Eq => (left - right).abs() < 1e-4,
            CompareOp::Ne => (left - right).abs() >= 1e-4,
        }
    }
}

/// One condition of a conditional event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Condition {
    /// The latest value of a metric compared with a number.
    Metric {
        /// The metric.
        metric: String,
        /// The comparison.
        op: CompareOp,
        /// The number.
        value: f64,
    },
    /// The world state matches a regex (and, when given, a second one).
    WorldStateContains {
        /// Must match.
        pattern: String,
        /// Must also match, when given.
        also: Option<String>,
    },
}

/// When an event may fire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum EventKind {
    /// Every `frequency` turns within the range.
    Trend {
        /// Turns between firings.
        frequency: u32,
    },
    /// With this probability each turn within the range.
    Random {
        /// Chance per turn.
        probability: f64,
    },
    /// When every condition holds.
    Conditional {
        /// All must hold.
        conditions: Vec<Condition>,
    },
    /// On these turns.
    Scheduled {
        /// The turns.
        turns: Vec<u32>,
    },
}

/// One exogenous event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExogenousEvent {
    /// Its name.
    pub name: String,
    /// What happens (given to the world update).
    pub description: String,
    /// When it may fire.
    pub kind: EventKind,
    /// `[first, last]` turn, inclusive.
    pub turn_range: Option<(u32, u32)>,
    /// Fires at most once per run.
    pub once: bool,
}

pub(super) async fn load<S: Storage>(
    storage: &S,
    dir: &str,
    metrics: &[Metric],
    diags: &mut Vec<Diagnostic>,
) -> Vec<ExogenousEvent> {
    let root_path = paths::join(dir, "exogenous-events.yaml");
    let def_path = paths::join(dir, "definition/exogenous-events.yaml");
    let (path, loaded) = match read_yaml(storage, &root_path, diags).await {
        Some(found) => {
            if storage.exists(&def_path).await.unwrap_or(false) {
                diags.push(Diagnostic::file_level(
                    Severity::Warning,
                    &def_path,
                    format!("ignored: {root_path} is used instead"),
                ));
            }
            (root_path, Some(found))
        }
        None => {
            let found = read_yaml(storage, &def_path, diags).await;
            (def_path, found)
        }
    };
    let Some((text, root)) = loaded else {
        return Vec::new();
    };
    let mut d = FileDiags::new(&path, &text, diags);
    read_file(&mut d, &root, metrics)
}

fn read_file(d: &mut FileDiags, root: &Node, metrics: &[Metric]) -> Vec<ExogenousEvent> {
    if root.is_null() {
        return Vec::new();
    }
    let f = fields::read(d, root, FILE_KEYS, false, "exogenous-events.yaml", "");
    let mut out = Vec::new();
    let sections = [
        ("exogenous_events", None),
        ("trends", Some("trend")),
        ("random_events", Some("random")),
        ("conditional_events", Some("conditional")),
        ("scheduled_events", Some("scheduled")),
    ];
    for (section, implied) in sections {
        let Some(list) = f.value(section) else {
            continue;
        };
        let Some(items) = list.as_seq() else {
            d.error(
                list,
                section,
                format!("`{section}` must be a list of events"),
            )
            .found(describe(list));
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            out.extend(read_event(
                d,
                item,
                &format!("{section}[{i}]"),
                implied,
                metrics,
            ));
        }
    }
    out
}

fn read_event(
    d: &mut FileDiags,
    node: &Node,
    prefix: &str,
    implied: Option<&str>,
    metrics: &[Metric],
) -> Vec<ExogenousEvent> {
    let f = fields::read(
        d,
        node,
        EVENT_KEYS,
        false,
        &format!("event `{prefix}`"),
        prefix,
    );
    let text = |d: &mut FileDiags, k: &str| {
        f.value(k)
            .and_then(|n| fields::text(d, n, &format!("{prefix}.{k}")))
    };
    let name = text(d, "name").unwrap_or_else(|| prefix.to_string());
    let description = match (text(d, "description"), text(d, "effect")) {
        (Some(desc), Some(effect)) => format!("{}\n{}", desc.trim(), effect.trim()),
        (Some(t), None) | (None, Some(t)) => t.trim().to_string(),
        (None, None) => name.clone(),
    };
    let turn_range = f
        .value("turn_range")
        .and_then(|r| read_turn_range(d, r, prefix));
    let once_field = f
        .value("once")
        .and_then(|n| fields::boolean(d, n, &format!("{prefix}.once")));
    let kind_text = match (implied, text(d, "type")) {
        (Some(k), _) => k.to_string(),
        (None, Some(t)) => t,
        (None, None) if f.value("turn").is_some() => "scheduled".to_string(),
        (None, None) => {
            d.error(node, prefix, format!("event `{name}` has no `type`"))
                .expected("type: trend, random, conditional or scheduled");
            return Vec::new();
        }
    };
    let event = |kind, turn_range, once| ExogenousEvent {
        name: name.clone(),
        description: description.clone(),
        kind,
        turn_range,
        once,
    };
    match kind_text.as_str() {
        "trend" => {
            if let Some(effects) = f.value("effects").and_then(Node::as_seq) {
                // Sectioned trends: each effect is a phase of the trend, possible with the
                // trend's probability on each turn of its range.
                let probability = f
                    .value("probability")
                    .and_then(|n| fields::number_in(d, n, "probability", 0.0, 1.0))
                    .unwrap_or(1.0);
                return effects
                    .iter()
                    .map(|e| {
                        let range = e
                            .get("turn_range")
                            .and_then(|r| read_turn_range(d, r, prefix));
                        let what = [e.get("description"), e.get("impact")]
                            .into_iter()
                            .flatten()
                            .filter_map(Node::scalar_text)
                            .collect::<Vec<_>>()
                            .join(" — ");
                        ExogenousEvent {
                            name: name.clone(),
                            description: if what.is_empty() {
                                description.clone()
                            } else {
                                what
                            },
                            kind: EventKind::Random { probability },
                            turn_range: range,
                            once: once_field.unwrap_or(false),
                        }
                    })
                    .collect();
            }
            let frequency = f
                .value("frequency")
                .and_then(|n| fields::int_at_least(d, n, "frequency", 1))
                .unwrap_or(1) as u32;
            vec![event(
                EventKind::Trend { frequency },
                turn_range,
                once_field.unwrap_or(false),
            )]
        }
        "random" => match f.value("probability") {
            Some(p) => match fields::number_in(d, p, &format!("{prefix}.probability"), 0.0, 1.0) {
                Some(probability) => vec![event(
                    EventKind::Random { probability },
                    turn_range,
                    once_field.unwrap_or(true),
                )],
                None => Vec::new(),
            },
            None => {
                d.error(
                    node,
                    prefix,
                    format!("random event `{name}` has no `probability`"),
                )
                .expected("probability: a number from 0 to 1");
                Vec::new()
            }
        },
        "conditional" => {
            let conditions = f
                .value("conditions")
                .map(|c| read_conditions(d, c, prefix, metrics))
                .unwrap_or_default();
            if conditions.is_empty() {
                d.error(
                    node,
                    prefix,
                    format!("conditional event `{name}` has no usable conditions"),
                )
                .expected("conditions: {metric_name: \">= 5\"}");
                return Vec::new();
            }
            vec![event(
                EventKind::Conditional { conditions },
                turn_range,
                once_field.unwrap_or(true),
            )]
        }
        "scheduled" => {
            let mut turns: Vec<u32> = Vec::new();
            if let Some(t) = f.value("turn") {
                turns.extend(
                    fields::int_at_least(d, t, &format!("{prefix}.turn"), 1).map(|t| t as u32),
                );
            }
            if let Some(list) = f
                .value("schedule")
                .and_then(|s| s.get("turns"))
                .and_then(Node::as_seq)
            {
                turns.extend(
                    list.iter()
                        .filter_map(|t| {
                            fields::int_at_least(d, t, &format!("{prefix}.schedule.turns"), 1)
                        })
                        .map(|t| t as u32),
                );
            }
            if turns.is_empty() {
                d.error(
                    node,
                    prefix,
                    format!("scheduled event `{name}` has no turn"),
                )
                .expected("turn: N (or schedule: {turns: [..]})");
                return Vec::new();
            }
            vec![event(EventKind::Scheduled { turns }, turn_range, true)]
        }
        other => {
            let diag = d
                .error(
                    f.value("type").unwrap_or(node),
                    &format!("{prefix}.type"),
                    format!("event `{name}` has an unknown type `{other}`"),
                )
                .expected("trend, random, conditional or scheduled");
            if let Some(h) =
                crate::suggest::closest(other, ["trend", "random", "conditional", "scheduled"])
            {
                diag.help(format!("did you mean `{h}`?"));
            }
            Vec::new()
        }
    }
}

fn read_turn_range(d: &mut FileDiags, r: &Node, prefix: &str) -> Option<(u32, u32)> {
    let nums: Vec<i64> = r
        .as_seq()
        .unwrap_or_default()
        .iter()
        .filter_map(Node::as_i64)
        .collect();
    match nums.as_slice() {
        [a, b] if *a >= 1 && a <= b => Some((*a as u32, *b as u32)),
        _ => {
            d.error(
                r,
                &format!("{prefix}.turn_range"),
                "a turn range must be [first, last] with 1 <= first <= last",
            )
            .expected("[first, last]")
            .found(describe(r));
            None
        }
    }
}

fn read_conditions(
    d: &mut FileDiags,
    c: &Node,
    prefix: &str,
    metrics: &[Metric],
) -> Vec<Condition> {
    let key = format!("{prefix}.conditions");
    let mut out = Vec::new();
    let metric_condition = |d: &mut FileDiags,
                            at: &Node,
                            metric: String,
                            op: CompareOp,
                            value: f64| {
        if !metrics.iter().any(|m| m.name == metric) {
            let diag = d.warn(at, &key, format!("the condition names metric `{metric}`, which metrics.yaml does not define; it will never hold"));
            if let Some(h) =
                crate::suggest::closest(&metric, metrics.iter().map(|m| m.name.as_str()))
            {
                diag.help(format!("did you mean `{h}`?"));
            }
        }
        Condition::Metric { metric, op, value }
    };
    if let Some(items) = c.as_seq() {
        for item in items {
            let kind = item.get("type").and_then(Node::as_str).unwrap_or("metrics");
            if kind == "world_state_contains" {
                let pattern = item.get("pattern").and_then(Node::scalar_text);
                let also = item.get("sensitivity").and_then(Node::scalar_text);
                for p in pattern.iter().chain(also.iter()) {
                    if let Err(e) = super::metrics::compile_pattern(p) {
                        d.error(
                            item,
                            &key,
                            "a world_state_contains pattern is not a valid regular expression",
                        )
                        .found(e.to_string());
                    }
                }
                match pattern {
                    Some(pattern) => out.push(Condition::WorldStateContains { pattern, also }),
                    None => {
                        d.error(
                            item,
                            &key,
                            "a world_state_contains condition has no `pattern`",
                        );
                    }
                }
            } else {
                let metric = item.get("metric").and_then(Node::scalar_text);
                let op = item
                    .get("operator")
                    .and_then(Node::as_str)
                    .and_then(CompareOp::parse)
                    .map(|(op, _)| op);
                let value = item.get("value").and_then(Node::as_f64);
                match (metric, op, value) {
                    (Some(m), Some(op), Some(v)) => out.push(metric_condition(d, item, m, op, v)),
                    _ => {
                        d.error(
                            item,
                            &key,
                            "a metrics condition needs `metric`, `operator` and `value`",
                        )
                        .expected("{type: metrics, metric: name, operator: \">\", value: 5}");
                    }
                }
            }
        }
        return out;
    }
    for (k, v) in c.entries() {
        let metric = k.scalar_text().unwrap_or_default();
        let text = v.scalar_text().unwrap_or_default();
        match CompareOp::parse(&text)
            .and_then(|(op, rest)| rest.parse::<f64>().ok().map(|n| (op, n)))
        {
            Some((op, value)) => out.push(metric_condition(d, v, metric, op, value)),
            None => {
                d.error(
                    v,
                    &key,
                    format!("the condition on `{metric}` is not a comparison"),
                )
                .expected("an operator and a number, such as \">= 5\" (operators: >= > <= < == !=)")
                .found(describe(v));
            }
        }
    }
    if c.entries().is_empty() {
        d.error(c, &key, "`conditions` must be a mapping or a list")
            .found(describe(c));
    }
    out
}
