//! `metrics.yaml`: what to measure each turn, in every format the original used.
//!
//! - dict (V1): `metrics: {name: {type: integer|float|boolean|string, extraction_method:
//!   regex|manual, pattern, actor_specific, actor}}`;
//! - dict with `extraction_type: pattern|keyword|llm` (the migration guide's format);
//! - list (V2): `metrics: [{name, type: continuous|categorical|boolean, range, categories,
//!   extraction: {type: pattern|keyword|llm|manual, ...}}]`, including the variant with
//!   `extraction.patterns`.

use serde::{Deserialize, Serialize};

use super::fields::{self, Key};
use super::{read_yaml, Actor};
use crate::diag::{describe, Detail, Diagnostic, FileDiags};
use crate::host::Storage;
use crate::paths;
use crate::yaml::{Node, Value};

const FILE_KEYS: &[Key] = &[
    Key {
        name: "metrics",
        aliases: &[],
        doc: "the metrics, as a list or a mapping",
    },
    Key {
        name: "scenario_name",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "export_format",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "auto_export",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "export_path",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "extraction_model",
        aliases: &[],
        doc: "default model of `llm` extraction",
    },
    Key {
        name: "thresholds",
        aliases: &[],
        doc: "accepted for compatibility",
    },
];

const METRIC_KEYS: &[Key] = &[
    Key {
        name: "name",
        aliases: &[],
        doc: "metric name (list format)",
    },
    Key {
        name: "description",
        aliases: &[],
        doc: "what it measures",
    },
    Key {
        name: "type",
        aliases: &["data_type"],
        doc: "continuous | categorical | boolean | integer | float | string",
    },
    Key {
        name: "range",
        aliases: &[],
        doc: "[min, max] of a continuous metric",
    },
    Key {
        name: "categories",
        aliases: &[],
        doc: "the values of a categorical metric",
    },
    Key {
        name: "unit",
        aliases: &[],
        doc: "display unit",
    },
    Key {
        name: "actor_specific",
        aliases: &[],
        doc: "measured from one actor's decision",
    },
    Key {
        name: "actor",
        aliases: &[],
        doc: "which actor, for an actor-specific metric",
    },
    Key {
        name: "extraction",
        aliases: &[],
        doc: "how to extract it (list format)",
    },
    Key {
        name: "extraction_method",
        aliases: &["extraction_type"],
        doc: "regex | manual | pattern | keyword | llm (dict format)",
    },
    Key {
        name: "pattern",
        aliases: &[],
        doc: "regular expression (dict format)",
    },
    Key {
        name: "keywords",
        aliases: &[],
        doc: "keywords (dict format)",
    },
    Key {
        name: "extraction_prompt",
        aliases: &[],
        doc: "LLM prompt (dict format)",
    },
    Key {
        name: "aggregation",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "warning_threshold",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "critical_threshold",
        aliases: &[],
        doc: "accepted for compatibility",
    },
];

const EXTRACTION_KEYS: &[Key] = &[
    Key {
        name: "type",
        aliases: &[],
        doc: "pattern | keyword | llm | manual",
    },
    Key {
        name: "pattern",
        aliases: &[],
        doc: "a regular expression",
    },
    Key {
        name: "patterns",
        aliases: &[],
        doc: "several regular expressions",
    },
    Key {
        name: "keywords",
        aliases: &[],
        doc: "words to count",
    },
    Key {
        name: "scoring",
        aliases: &[],
        doc: "count | presence | density",
    },
    Key {
        name: "prompt",
        aliases: &[],
        doc: "the question for `llm` extraction",
    },
    Key {
        name: "model",
        aliases: &[],
        doc: "model for `llm` extraction",
    },
];

/// What kind of value a metric holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    /// A number in a range.
    Continuous,
    /// One of named categories (stored as its index).
    Categorical,
    /// Yes or no (stored as 1 or 0).
    Boolean,
    /// A whole number (dict format).
    Integer,
    /// A number (dict format).
    Float,
    /// Free text (dict format); never a number.
    Text,
}

/// How keyword hits become a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scoring {
    /// Number of hits.
    Count,
    /// 1 when any hit, else 0.
    Presence,
    /// Hits per 100 words.
    Density,
}

/// How a metric is read from text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Extraction {
    /// Regular expressions (case-insensitive); the last match wins, its first non-empty group.
    Pattern {
        /// The expressions, tried in order.
        patterns: Vec<String>,
    },
    /// Keyword hits (case-insensitive substrings, plus regex `patterns`).
    Keyword {
        /// Words or phrases.
        keywords: Vec<String>,
        /// Regular expressions counted like keywords.
        patterns: Vec<String>,
        /// How hits become a value.
        scoring: Scoring,
    },
    /// One LLM call that answers with a number.
    Llm {
        /// The question.
        prompt: String,
        /// The model, when not the scenario's default.
        model: Option<String>,
    },
    /// Filled in by people, never by the engine.
    Manual,
}

/// One metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// Its name.
    pub name: String,
    /// What it measures.
    pub description: String,
    /// Its value type.
    pub value_type: ValueType,
    /// `[min, max]`, for continuous metrics.
    pub range: Option<(f64, f64)>,
    /// Category names, for categorical metrics.
    pub categories: Vec<String>,
    /// Display unit.
    pub unit: Option<String>,
    /// Read from one actor's decision rather than from the world state.
    pub actor_specific: bool,
    /// The actor's short_name, for actor-specific metrics that name one.
    pub actor: Option<String>,
    /// How it is extracted.
    pub extraction: Extraction,
}

/// Builds the case-insensitive regex a `pattern` metric uses. The original used Python's `re`
/// with IGNORECASE; the syntax the examples use (groups, classes, `\d`, `\s`) is the same.
///
/// Compiled regexes are kept (up to [`KEPT_PATTERNS`], then the cache starts again): every turn
/// of every run extracts with the same few patterns, and compiling them each time was measurable
/// in bench/batch-throughput.mjs.
pub fn compile_pattern(pattern: &str) -> Result<regex_lite::Regex, regex_lite::Error> {
    thread_local! {
        static KEPT: std::cell::RefCell<std::collections::HashMap<String, regex_lite::Regex>> =
            std::cell::RefCell::default();
    }
    if let Some(re) = KEPT.with(|kept| kept.borrow().get(pattern).cloned()) {
        return Ok(re);
    }
    let re = regex_lite::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .build()?;
    KEPT.with(|kept| {
        let mut kept = kept.borrow_mut();
        if kept.len() >= KEPT_PATTERNS {
            kept.clear();
        }
        kept.insert(pattern.to_string(), re.clone());
    });
    Ok(re)
}

/// How many compiled patterns [`compile_pattern`] keeps: far more than a scenario uses.
const KEPT_PATTERNS: usize = 64;

pub(super) async fn load<S: Storage>(
    storage: &S,
    dir: &str,
    actors: &[Actor],
    diags: &mut Vec<Diagnostic>,
) -> Vec<Metric> {
    let path = paths::join(dir, "metrics.yaml");
    let Some((text, root)) = read_yaml(storage, &path, diags).await else {
        return Vec::new();
    };
    let mut d = FileDiags::new(&path, &text, diags);
    read_file(&mut d, &root, actors)
}

fn read_file(d: &mut FileDiags, root: &Node, actors: &[Actor]) -> Vec<Metric> {
    if root.is_null() {
        return Vec::new();
    }
    let f = fields::read(d, root, FILE_KEYS, false, "metrics.yaml", "");
    let default_model = f
        .value("extraction_model")
        .and_then(|n| fields::text(d, n, "extraction_model"));
    let Some(list) = f.value("metrics") else {
        return Vec::new();
    };
    let mut out: Vec<Metric> = Vec::new();
    let items: Vec<(Option<&Node>, &Node)> = match &list.value {
        Value::Seq(items) => items.iter().map(|i| (None, i)).collect(),
        Value::Map(entries) => entries.iter().map(|(k, v)| (Some(k), v)).collect(),
        _ => {
            d.error(
                list,
                "metrics",
                "`metrics` must be a list (or a mapping) of metrics",
            )
            .found(describe(list));
            return out;
        }
    };
    for (i, (key, node)) in items.into_iter().enumerate() {
        let prefix = match key {
            Some(k) => format!("metrics.{}", k.scalar_text().unwrap_or_default()),
            None => format!("metrics[{i}]"),
        };
        if let Some(m) = read_metric(d, key, node, &prefix, actors, default_model.as_deref()) {
            if out.iter().any(|o| o.name == m.name) {
                d.error(
                    key.unwrap_or(node),
                    &prefix,
                    format!("metric `{}` is defined twice", m.name),
                )
                .expected("a different name for each metric");
            } else {
                out.push(m);
            }
        }
    }
    out
}

fn read_metric(
    d: &mut FileDiags,
    key: Option<&Node>,
    node: &Node,
    prefix: &str,
    actors: &[Actor],
    default_model: Option<&str>,
) -> Option<Metric> {
    let f = fields::read(
        d,
        node,
        METRIC_KEYS,
        false,
        &format!("metric `{prefix}`"),
        prefix,
    );
    let name = match key {
        Some(k) => k.scalar_text(),
        None => match f.value("name") {
            Some(n) => fields::text(d, n, &format!("{prefix}.name")),
            None => {
                d.error(node, prefix, "this metric has no `name`")
                    .expected("`name: some_metric`");
                None
            }
        },
    }?;
    let text = |d: &mut FileDiags, k: &str| {
        f.value(k)
            .and_then(|n| fields::text(d, n, &format!("{prefix}.{k}")))
    };
    let description = text(d, "description").unwrap_or_default();
    let type_text = text(d, "type").unwrap_or_else(|| "continuous".to_string());
    let value_type = match type_text.as_str() {
        "continuous" => ValueType::Continuous,
        "categorical" => ValueType::Categorical,
        "boolean" | "bool" => ValueType::Boolean,
        "integer" | "int" => ValueType::Integer,
        "float" | "number" => ValueType::Float,
        "string" | "text" => ValueType::Text,
        other => {
            let node = f.value("type").unwrap_or(node);
            d.error(
                node,
                &format!("{prefix}.type"),
                format!("metric `{name}` has an unknown type `{other}`"),
            )
            .expected("continuous, categorical, boolean, integer, float or string");
            return None;
        }
    };
    let range = match f.value("range") {
        Some(r) => read_range(d, r, &name, prefix),
        None => None,
    };
    let categories = f
        .value("categories")
        .map(|n| fields::text_list(d, n, &format!("{prefix}.categories")))
        .unwrap_or_default();
    if value_type == ValueType::Categorical && categories.is_empty() {
        d.error(
            node,
            &format!("{prefix}.categories"),
            format!("categorical metric `{name}` lists no categories"),
        )
        .expected("`categories: [low, medium, high]`");
    }
    let actor_specific = f
        .value("actor_specific")
        .and_then(|n| fields::boolean(d, n, "actor_specific"))
        .unwrap_or(false);
    let actor = match f.value("actor") {
        Some(n) => {
            let written = fields::text(d, n, &format!("{prefix}.actor"))?;
            match actors
                .iter()
                .find(|a| a.short_name == written || a.name == written || a.file_stem == written)
            {
                Some(a) => Some(a.short_name.clone()),
                None => {
                    let names = actors.iter().map(|a| a.short_name.as_str());
                    let hint = crate::suggest::closest(&written, names);
                    let diag = d
                        .error(n, &format!("{prefix}.actor"), format!("metric `{name}` names actor `{written}`, who is not in the scenario"))
                        .expected(format!(
                            "one of {}",
                            actors.iter().map(|a| format!("`{}`", a.short_name)).collect::<Vec<_>>().join(", ")
                        ));
                    if let Some(h) = hint {
                        diag.help(format!("did you mean `{h}`?"));
                    }
                    None
                }
            }
        }
        None => None,
    };
    let extraction = match f.value("extraction") {
        Some(e) => read_extraction(d, e, &name, prefix, default_model)?,
        None => read_dict_extraction(d, &f, node, &name, prefix, default_model)?,
    };
    Some(Metric {
        name,
        description,
        value_type,
        range,
        categories,
        unit: text(d, "unit"),
        actor_specific,
        actor,
        extraction,
    })
}

fn read_range(d: &mut FileDiags, r: &Node, name: &str, prefix: &str) -> Option<(f64, f64)> {
    let nums: Option<Vec<f64>> = r
        .as_seq()
        .map(|items| items.iter().filter_map(Node::as_f64).collect());
    match nums.as_deref() {
        Some([lo, hi]) if lo < hi => Some((*lo, *hi)),
        Some([lo, hi]) => {
            d.error(
                r,
                &format!("{prefix}.range"),
                format!("metric `{name}` has a range whose minimum is not below its maximum"),
            )
            .expected("[min, max] with min < max")
            .found(format!("[{lo}, {hi}]"));
            None
        }
        _ => {
            d.error(
                r,
                &format!("{prefix}.range"),
                format!("metric `{name}` has a malformed range"),
            )
            .expected("[min, max], two numbers")
            .found(describe(r));
            None
        }
    }
}

fn patterns_of(
    d: &mut FileDiags,
    node: Option<&Node>,
    list: Option<&Node>,
    name: &str,
    prefix: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    for n in node
        .into_iter()
        .chain(list.and_then(Node::as_seq).unwrap_or_default())
    {
        if let Some(p) = fields::text(d, n, &format!("{prefix}.pattern")) {
            match compile_pattern(&p) {
                Ok(_) => out.push(p),
                Err(e) => {
                    d.error(
                        n,
                        &format!("{prefix}.pattern"),
                        format!("the pattern of metric `{name}` is not a valid regular expression"),
                    )
                    .expected("a regular expression (no look-around or back-references)")
                    .found(first_line(&e.to_string()));
                }
            }
        }
    }
    out
}

fn first_line(text: &str) -> String {
    text.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(text)
        .trim()
        .to_string()
}

fn read_extraction(
    d: &mut FileDiags,
    e: &Node,
    name: &str,
    prefix: &str,
    default_model: Option<&str>,
) -> Option<Extraction> {
    let p = format!("{prefix}.extraction");
    let f = fields::read(
        d,
        e,
        EXTRACTION_KEYS,
        false,
        &format!("the extraction of metric `{name}`"),
        &p,
    );
    let kind = f
        .value("type")
        .and_then(|n| fields::text(d, n, &format!("{p}.type")))
        .unwrap_or_else(|| "manual".into());
    let had_patterns = f.value("pattern").is_some() || f.value("patterns").is_some();
    let patterns = patterns_of(d, f.value("pattern"), f.value("patterns"), name, &p);
    let keywords = f
        .value("keywords")
        .map(|n| fields::text_list(d, n, &format!("{p}.keywords")))
        .unwrap_or_default();
    let prompt = f
        .value("prompt")
        .and_then(|n| fields::text(d, n, &format!("{p}.prompt")));
    let model = f
        .value("model")
        .and_then(|n| fields::text(d, n, &format!("{p}.model")))
        .or(default_model.map(String::from));
    build(
        d,
        e,
        &kind,
        name,
        &p,
        Parts {
            patterns,
            had_patterns,
            keywords,
            scoring: f.value("scoring"),
            prompt,
            model,
            kind_node: f.value("type"),
        },
    )
}

fn read_dict_extraction(
    d: &mut FileDiags,
    f: &fields::Fields,
    node: &Node,
    name: &str,
    prefix: &str,
    default_model: Option<&str>,
) -> Option<Extraction> {
    let kind = f
        .value("extraction_method")
        .and_then(|n| fields::text(d, n, &format!("{prefix}.extraction_method")))
        .unwrap_or_else(|| "regex".into());
    let had_patterns = f.value("pattern").is_some();
    let patterns = patterns_of(d, f.value("pattern"), None, name, prefix);
    let keywords = f
        .value("keywords")
        .map(|n| fields::text_list(d, n, "keywords"))
        .unwrap_or_default();
    let prompt = f
        .value("extraction_prompt")
        .and_then(|n| fields::text(d, n, "extraction_prompt"));
    build(
        d,
        node,
        &kind,
        name,
        prefix,
        Parts {
            patterns,
            had_patterns,
            keywords,
            scoring: None,
            prompt,
            model: default_model.map(String::from),
            kind_node: f.value("extraction_method"),
        },
    )
}

struct Parts<'n> {
    patterns: Vec<String>,
    had_patterns: bool,
    keywords: Vec<String>,
    scoring: Option<&'n Node>,
    prompt: Option<String>,
    model: Option<String>,
    kind_node: Option<&'n Node>,
}

fn build(
    d: &mut FileDiags,
    at: &Node,
    kind: &str,
    name: &str,
    prefix: &str,
    parts: Parts,
) -> Option<Extraction> {
    match kind {
        "pattern" | "regex" => {
            if parts.patterns.is_empty() {
                if !parts.had_patterns {
                    d.error(
                        at,
                        prefix,
                        format!("metric `{name}` is extracted by pattern but has no `pattern`"),
                    )
                    .expected("`pattern: '<regular expression>'`");
                }
                return None;
            }
            Some(Extraction::Pattern {
                patterns: parts.patterns,
            })
        }
        "keyword" => {
            if parts.keywords.is_empty() && parts.patterns.is_empty() {
                d.error(
                    at,
                    prefix,
                    format!("metric `{name}` is extracted by keyword but lists no `keywords`"),
                )
                .expected("`keywords: [word, another phrase]`");
                return None;
            }
            let scoring = match parts.scoring.map(|n| (n, n.as_str())) {
                None | Some((_, Some("count"))) => Scoring::Count,
                Some((_, Some("presence"))) => Scoring::Presence,
                Some((_, Some("density"))) => Scoring::Density,
                Some((n, _)) => {
                    d.error(
                        n,
                        &format!("{prefix}.scoring"),
                        format!("metric `{name}` has an unknown scoring"),
                    )
                    .expected("count, presence or density")
                    .found(describe(n));
                    return None;
                }
            };
            Some(Extraction::Keyword {
                keywords: parts.keywords,
                patterns: parts.patterns,
                scoring,
            })
        }
        "llm" => match parts.prompt {
            Some(prompt) if !prompt.trim().is_empty() => Some(Extraction::Llm {
                prompt,
                model: parts.model,
            }),
            _ => {
                d.error(
                    at,
                    prefix,
                    format!("metric `{name}` is extracted by an LLM but has no `prompt`"),
                )
                .expected("`prompt: <the question whose answer is a number>`");
                None
            }
        },
        "manual" => Some(Extraction::Manual),
        other => {
            let hint =
                crate::suggest::closest(other, ["pattern", "regex", "keyword", "llm", "manual"]);
            let diag = d
                .error(
                    parts.kind_node.unwrap_or(at),
                    prefix,
                    format!("metric `{name}` has an unknown extraction type `{other}`"),
                )
                .expected("pattern (or regex), keyword, llm or manual");
            if let Some(h) = hint {
                diag.help(format!("did you mean `{h}`?"));
            }
            None
        }
    }
}
