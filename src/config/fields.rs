//! Reading fields out of a YAML mapping: key tables, alias resolution, unknown keys, and typed
//! readers that record a diagnostic (expected / found) instead of failing.

use std::collections::BTreeMap;

use crate::diag::{describe, Detail, FileDiags};
use crate::suggest;
use crate::yaml::Node;

/// One key a config file may hold.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// The name we document and write.
    pub name: &'static str,
    /// Other names accepted for it (from the original tool's eras).
    pub aliases: &'static [&'static str],
    /// One line saying what it does (and its default).
    pub doc: &'static str,
}

/// The entries of one mapping, by canonical key name.
pub struct Fields<'n> {
    map: BTreeMap<&'static str, (&'n Node, &'n Node)>,
    /// Keys the table does not know, with their values, in file order.
    pub unknown: Vec<(&'n Node, &'n Node)>,
}

impl<'n> Fields<'n> {
    /// The value of a key (by canonical name).
    pub fn get(&self, name: &str) -> Option<&'n Node> {
        self.map.get(name).map(|(_, v)| *v)
    }

    /// The value of a key, unless it is null.
    pub fn value(&self, name: &str) -> Option<&'n Node> {
        self.get(name).filter(|v| !v.is_null())
    }
}

/// Reads the entries of `node` (which must be a mapping) against `keys`. Unknown keys are
/// errors when `strict`, warnings otherwise; both carry a "did you mean". `what` names the
/// thing for messages ("the batch config", "actor `mayor`"); `prefix` is the dotted path of
/// this mapping for `key` fields.
pub fn read<'n>(
    d: &mut FileDiags,
    node: &'n Node,
    keys: &[Key],
    strict: bool,
    what: &str,
    prefix: &str,
) -> Fields<'n> {
    read_with_misnames(d, node, keys, &[], strict, what, prefix)
}

/// [`read`], with a table of known wrong names (`(wrong, right)`) whose suggestion is pointed.
pub fn read_with_misnames<'n>(
    d: &mut FileDiags,
    node: &'n Node,
    keys: &[Key],
    misnames: &[(&str, &str)],
    strict: bool,
    what: &str,
    prefix: &str,
) -> Fields<'n> {
    let mut fields = Fields {
        map: BTreeMap::new(),
        unknown: Vec::new(),
    };
    if !matches!(node.value, crate::yaml::Value::Map(_)) {
        d.error(
            node,
            prefix,
            format!("{what} must be a mapping of keys to values"),
        )
        .expected("`key: value` lines")
        .found(describe(node));
        return fields;
    }
    for (k, v) in node.entries() {
        let written = k.scalar_text().unwrap_or_default();
        let path = join_key(prefix, &written);
        match keys
            .iter()
            .find(|key| key.name == written || key.aliases.contains(&written.as_str()))
        {
            Some(key) => {
                if let Some((first, _)) = fields.map.get(key.name) {
                    let first_name = first.scalar_text().unwrap_or_default();
                    d.error(k, &path, format!("`{written}` is given twice in {what}"))
                        .found(format!(
                            "`{first_name}` at line {} and `{written}` here (aliases of the same key)",
                            first.line
                        ))
                        .help("keep one of them");
                } else {
                    fields.map.insert(key.name, (k, v));
                }
            }
            None => {
                let names = keys.iter().flat_map(|k| std::iter::once(k.name));
                let hint = misnames
                    .iter()
                    .find(|(wrong, _)| *wrong == written)
                    .map(|(_, right)| *right)
                    .or_else(|| suggest::closest(&written, names));
                let msg = format!("unknown key `{written}` in {what}");
                let list = key_list(keys);
                let diag = if strict {
                    d.error(k, &path, msg)
                } else {
                    d.warn(
                        k,
                        &path,
                        format!("{msg} (kept, but Scenario Lab does not use it)"),
                    )
                };
                diag.expected(format!("one of {list}"));
                if let Some(h) = hint {
                    diag.help(format!("did you mean `{h}`?"));
                }
                fields.unknown.push((k, v));
            }
        }
    }
    fields
}

/// `a.b`, or `b` when there is no prefix.
pub fn join_key(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// The names of a key table, for an "expected" line.
pub fn key_list(keys: &[Key]) -> String {
    keys.iter()
        .map(|k| format!("`{}`", k.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text: any scalar (a number or boolean is taken as its text). `None` (with an error) for a
/// list or mapping, `None` silently for null.
pub fn text(d: &mut FileDiags, node: &Node, key: &str) -> Option<String> {
    if node.is_null() {
        return None;
    }
    match node.scalar_text() {
        Some(t) => Some(t),
        None => {
            d.error(node, key, format!("`{key}` must be text"))
                .expected("text")
                .found(describe(node));
            None
        }
    }
}

/// A whole number of at least `min`.
pub fn int_at_least(d: &mut FileDiags, node: &Node, key: &str, min: i64) -> Option<i64> {
    match node.as_i64() {
        Some(i) if i >= min => Some(i),
        Some(i) => {
            let what = if min == 1 { "at least 1" } else { "at least 0" };
            d.error(node, key, format!("`{key}` must be {what}"))
                .expected(format!("a whole number {what}"))
                .found(format!("{i}"));
            None
        }
        None => {
            d.error(node, key, format!("`{key}` must be a whole number"))
                .expected("a whole number")
                .found(describe(node));
            None
        }
    }
}

/// A number greater than zero (a limit, a timeout).
pub fn positive_number(d: &mut FileDiags, node: &Node, key: &str) -> Option<f64> {
    match node.as_f64() {
        Some(x) if x > 0.0 && x.is_finite() => Some(x),
        Some(x) => {
            d.error(node, key, format!("`{key}` must be greater than zero"))
                .expected("a number greater than 0")
                .found(format!("{x}"))
                .help(format!(
                    "remove `{key}` to have no such limit; a zero or negative limit would stop everything"
                ));
            None
        }
        None => {
            d.error(node, key, format!("`{key}` must be a number"))
                .expected("a number greater than 0")
                .found(describe(node));
            None
        }
    }
}

/// A number (any sign) within `lo..=hi`.
pub fn number_in(d: &mut FileDiags, node: &Node, key: &str, lo: f64, hi: f64) -> Option<f64> {
    match node.as_f64() {
        Some(x) if (lo..=hi).contains(&x) => Some(x),
        other => {
            d.error(
                node,
                key,
                format!("`{key}` must be a number from {lo} to {hi}"),
            )
            .expected(format!("a number from {lo} to {hi}"))
            .found(other.map_or_else(|| describe(node), |x| x.to_string()));
            None
        }
    }
}

/// `true` or `false`.
pub fn boolean(d: &mut FileDiags, node: &Node, key: &str) -> Option<bool> {
    match node.as_bool() {
        Some(b) => Some(b),
        None => {
            d.error(node, key, format!("`{key}` must be true or false"))
                .expected("true or false")
                .found(describe(node));
            None
        }
    }
}

/// A list of text items; a multi-line text is split into lines (leading `- ` removed), the
/// way the original read `goals: |`.
pub fn text_list(d: &mut FileDiags, node: &Node, key: &str) -> Vec<String> {
    if node.is_null() {
        return Vec::new();
    }
    if let Some(items) = node.as_seq() {
        return items
            .iter()
            .map(|item| item.scalar_text().unwrap_or_else(|| flatten(item)))
            .collect();
    }
    match node.scalar_text() {
        Some(t) => text_items(&t),
        None => {
            d.error(node, key, format!("`{key}` must be a list or text"))
                .expected("a list of text items, or text")
                .found(describe(node));
            Vec::new()
        }
    }
}

/// The items of a multi-line text, one a line, a leading `- ` removed (the original's
/// `goals: |` form).
pub fn text_items(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim().trim_start_matches("- ").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Any node as one line of readable text (`ai_safety: expert; policy: expert`), for fields
/// the original allowed in several shapes (such as `expertise`).
pub fn flatten(node: &Node) -> String {
    if let Some(t) = node.scalar_text() {
        return t.trim().to_string();
    }
    if let Some(items) = node.as_seq() {
        return items.iter().map(flatten).collect::<Vec<_>>().join("; ");
    }
    node.entries()
        .iter()
        .map(|(k, v)| format!("{}: {}", k.scalar_text().unwrap_or_default(), flatten(v)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The roles an output cap may be set for, as keys of `max_tokens:`.
const ROLE_KEYS: &[Key] = &[
    Key {
        name: "actor",
        aliases: &["decision"],
        doc: "an actor's decision (default 800)",
    },
    Key {
        name: "world",
        aliases: &["world_update"],
        doc: "the world update (default 1000)",
    },
    Key {
        name: "communication",
        aliases: &[],
        doc: "planning, replies and coalition messages (default 300)",
    },
    Key {
        name: "metric",
        aliases: &[],
        doc: "an LLM metric extraction (default 40)",
    },
    Key {
        name: "check",
        aliases: &["quality_check"],
        doc: "a quality check (default 400)",
    },
    Key {
        name: "summary",
        aliases: &[],
        doc: "the summary of turns that left the context window (default 600)",
    },
];

/// Output caps by role (`max_tokens: {world: 1500, actor: 1000}`). An unknown role is an
/// error with a "did you mean": a misspelt cap must not silently leave the default in place.
pub fn role_caps(d: &mut FileDiags, node: &Node, key: &str) -> BTreeMap<crate::plan::Role, u32> {
    let f = read(d, node, ROLE_KEYS, true, &format!("`{key}`"), key);
    let mut caps = BTreeMap::new();
    for k in ROLE_KEYS {
        let (Some(v), Ok(role)) = (f.value(k.name), k.name.parse::<crate::plan::Role>()) else {
            continue;
        };
        let path = format!("{key}.{}", k.name);
        if let Some(n) = int_at_least(d, v, &path, 1) {
            caps.insert(role, n.min(i64::from(u32::MAX)) as u32);
        }
    }
    caps
}

/// The error for a key that reads a metric the scenario does not have (or, when `numeric`, has
/// but not as a number): the metrics that would do, and the closest name.
pub fn unknown_metric(
    d: &mut FileDiags,
    node: &Node,
    key: &str,
    metric: &str,
    names: &[&str],
    numeric: bool,
) {
    let (define, kind) = if numeric {
        (" as a number", "numeric ")
    } else {
        ("", "")
    };
    let e = d
        .error(
            node,
            key,
            format!(
                "`{key}` reads the metric `{metric}`, which the scenario does not define{define}"
            ),
        )
        .expected(format!("one of its {kind}metrics: {}", names.join(", ")));
    if let Some(close) = suggest::closest(metric, names.iter().copied()) {
        e.suggestion = Some(format!("did you mean `{close}`?"));
    }
}
