//! YAML text to a tree that remembers where every node came from.
//!
//! Config errors must name the line and column of the offending key or value, so the loaders
//! work on this tree rather than on a position-less value. Scalars are resolved as PyYAML
//! (YAML 1.1) resolved them, because the files we must load were written for the original
//! Python tool: `yes`/`no`/`on`/`off` are booleans there, and quoted scalars are always text.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};

use crate::limits;

mod flow_keys;
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A node and the 1-based line and column where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What the node holds.
    pub value: Value,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
}

/// The value of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null`, or nothing at all.
    Null,
    /// `true`, `false` (and YAML 1.1's `yes`, `no`, `on`, `off`).
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text (every quoted or block scalar, and plain scalars that are nothing else).
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order.
    Map(Vec<(Node, Node)>),
}

/// Why a text could not be read as YAML, with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    /// One sentence: what the parser said, or which limit the text passed.
    pub message: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
}

impl Node {
    /// The kind of value, as an error message names it ("a list", "text", ...).
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "text",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The entry for `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The entries of a mapping (empty for anything else).
    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    /// The items of a sequence, when this is one.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// Text, when this is text.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A number, when this is an integer or a float.
    pub fn as_f64(&self) -> Option<f64> {
        match self.value {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    /// An integer, when this is one (a float with no fraction counts).
    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Int(i) => Some(i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => Some(f as i64),
            _ => None,
        }
    }

    /// A boolean, when this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// Whether this is null.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// Scalars as text the way a prompt would show them (`5`, `true`, `0.2`); `None` for
    /// collections and null.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The node as JSON (mapping keys become text).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.scalar_text().unwrap_or_default(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Parses the first document of `text`. An empty document is a `Null` node at 1:1.
///
/// Aliases are copied into the tree (the loaders read plain trees), so the copies are counted
/// as they are made: once they pass [`expansion_limit`] of the text, the parse stops with an
/// error at the alias that crossed it, before the memory is spent.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let max = limits::max_yaml_bytes();
    if text.len() > max {
        return Err(SyntaxError {
            message: format!(
                "this file is too big to read: {}, over the {} limit for YAML files (raise \
                 it with {}={})",
                limits::size_text(text.len()),
                limits::size_text(max),
                limits::MAX_YAML_ENV,
                text.len().div_ceil(1 << 20),
            ),
            line: 1,
            col: 1,
        });
    }
    if let Some(line) = flow_keys::oversized(text) {
        return Err(SyntaxError {
            message: format!(
                "this YAML is refused: the `[...]` or `{{...}}` starting this line holds more \
                 than {} items, and a collection in that place is held whole in memory before \
                 it is read; put it after a key (`values: [...]`) or write it as a block list",
                flow_keys::MAX_ITEMS
            ),
            line,
            col: 1,
        });
    }
    let limit = expansion_limit(text.len());
    let mut builder = Builder {
        expansion_limit: limit,
        expansion_left: limit,
        ..Builder::default()
    };
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, mark) = parser.next_token().map_err(|e| SyntaxError {
            // The scanner's own limit on `[[[…` and `{{{…`: said as ours on block nesting is.
            message: if e.info() == "recursion limit exceeded" {
                too_deep()
            } else {
                format!("this is not valid YAML: {}", e.info())
            },
            line: e.marker().line() as u32,
            col: e.marker().col() as u32 + 1,
        })?;
        if matches!(event, Event::DocumentEnd | Event::StreamEnd) {
            break;
        }
        builder.on_event(event, mark)?;
    }
    Ok(builder.root.unwrap_or(Node {
        value: Value::Null,
        line: 1,
        col: 1,
    }))
}

/// The refusal of a nest deeper than [`limits::MAX_YAML_NESTING`] (or the scanner's own limit
/// for flow collections, a little deeper).
fn too_deep() -> String {
    format!(
        "this YAML is refused: it nests lists and mappings more than {} levels deep",
        limits::MAX_YAML_NESTING
    )
}

/// How many bytes of tree the aliases of a `text_len`-byte document may add: ten times the
/// text, or 2 MiB, whichever is larger (see `crate::limits`).
pub fn expansion_limit(text_len: usize) -> usize {
    (text_len.saturating_mul(limits::ALIAS_EXPANSION_FACTOR)).max(limits::ALIAS_EXPANSION_FLOOR)
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    /// Each anchored node, with its size in bytes (what a copy of it costs).
    anchors: HashMap<usize, (Node, usize)>,
    root: Option<Node>,
    /// Bytes that alias copies may add in all...
    expansion_limit: usize,
    /// ...and may still add.
    expansion_left: usize,
}

struct Frame {
    node: Node,
    /// The bytes of the node and everything added to it so far.
    size: usize,
    anchor: usize,
    pending_key: Option<Node>,
}

/// What a node costs in memory, not counting its children: the node itself and its text.
fn own_size(value: &Value) -> usize {
    std::mem::size_of::<Node>()
        + match value {
            Value::Str(s) => s.len(),
            _ => 0,
        }
}

impl Builder {
    fn add(&mut self, node: Node, size: usize, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        let Some(frame) = self.stack.last_mut() else {
            if self.root.is_none() {
                self.root = Some(node);
            }
            return;
        };
        frame.size += size;
        match &mut frame.node.value {
            Value::Seq(items) => items.push(node),
            Value::Map(entries) => match frame.pending_key.take() {
                None => frame.pending_key = Some(node),
                Some(key) => entries.push((key, node)),
            },
            _ => {}
        }
    }

    fn on_event(&mut self, ev: Event, mark: Marker) -> Result<(), SyntaxError> {
        let at = |value| Node {
            value,
            line: mark.line() as u32,
            col: mark.col() as u32 + 1,
        };
        match ev {
            Event::Scalar(text, style, anchor, _tag) => {
                let value = if style == TScalarStyle::Plain {
                    resolve_plain(&text)
                } else {
                    Value::Str(text)
                };
                let size = own_size(&value);
                self.add(at(value), size, anchor);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= limits::MAX_YAML_NESTING {
                    return Err(SyntaxError {
                        message: too_deep(),
                        line: mark.line() as u32,
                        col: mark.col() as u32 + 1,
                    });
                }
                let value = if matches!(ev, Event::SequenceStart(..)) {
                    Value::Seq(Vec::new())
                } else {
                    Value::Map(Vec::new())
                };
                self.stack.push(Frame {
                    size: own_size(&value),
                    node: at(value),
                    anchor,
                    pending_key: None,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(frame) = self.stack.pop() {
                    self.add(frame.node, frame.size, frame.anchor);
                }
            }
            Event::Alias(id) => {
                let (node, size) = match self.anchors.get(&id) {
                    Some((_, size)) if *size > self.expansion_left => {
                        return Err(self.bomb(&mark));
                    }
                    Some((node, size)) => (node.clone(), *size),
                    None => (at(Value::Null), own_size(&Value::Null)),
                };
                self.expansion_left -= size;
                self.add(node, size, 0);
            }
            _ => {}
        }
        Ok(())
    }

    /// The error for an alias whose copy would pass the expansion limit.
    fn bomb(&self, mark: &Marker) -> SyntaxError {
        SyntaxError {
            message: format!(
                "this YAML is refused: the aliases (`*name`) in it expand it past {} (an alias bomb?); a \
                 document's aliases may add {}× its own size or {}, whichever is larger",
                limits::size_text(self.expansion_limit),
                limits::ALIAS_EXPANSION_FACTOR,
                limits::size_text(limits::ALIAS_EXPANSION_FLOOR),
            ),
            line: mark.line() as u32,
            col: mark.col() as u32 + 1,
        }
    }
}

/// PyYAML's (YAML 1.1) resolution of a plain scalar.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            return Value::Bool(true)
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            return Value::Bool(false)
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" => return Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let digits = text.replace('_', "");
    let looks_numeric = digits
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '+' || c == '.');
    if looks_numeric {
        if let Some(hex) = digits.strip_prefix("0x") {
            if let Ok(i) = i64::from_str_radix(hex, 16) {
                return Value::Int(i);
            }
        }
        if let Ok(i) = digits.parse::<i64>() {
            return Value::Int(i);
        }
        let is_float_text = digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
            && digits.chars().any(|c| c.is_ascii_digit());
        if is_float_text {
            if let Ok(f) = digits.parse::<f64>() {
                return Value::Float(f);
            }
        }
    }
    Value::Str(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let doc = parse("a: 1\nlist:\n  - x\n  - {k: v}\n").unwrap();
        let a = doc.get("a").unwrap();
        assert_eq!((a.line, a.col), (1, 4));
        let key = &doc.entries()[1].0;
        assert_eq!((key.line, key.col), (2, 1));
        let items = doc.get("list").unwrap().as_seq().unwrap();
        assert_eq!((items[0].line, items[0].col), (3, 5));
        assert_eq!(items[1].get("k").unwrap().as_str(), Some("v"));
    }

    #[test]
    fn scalars_resolve_like_pyyaml() {
        let doc = parse("a: yes\nb: '10'\nc: 10.50\nd: ~\ne: 1_000\nf: 1e3x\ng: -3\n").unwrap();
        assert_eq!(doc.get("a").unwrap().as_bool(), Some(true));
        assert_eq!(doc.get("b").unwrap().as_str(), Some("10"));
        assert_eq!(doc.get("c").unwrap().as_f64(), Some(10.5));
        assert!(doc.get("d").unwrap().is_null());
        assert_eq!(doc.get("e").unwrap().as_i64(), Some(1000));
        assert_eq!(doc.get("f").unwrap().as_str(), Some("1e3x"));
        assert_eq!(doc.get("g").unwrap().as_i64(), Some(-3));
    }

    #[test]
    fn anchors_and_block_text() {
        let doc = parse("base: &b {m: x}\nother: *b\ntext: |\n  line one\n  line two\n").unwrap();
        assert_eq!(
            doc.get("other").unwrap().get("m").unwrap().as_str(),
            Some("x")
        );
        assert_eq!(
            doc.get("text").unwrap().as_str(),
            Some("line one\nline two\n")
        );
    }

    /// Ten levels of nine aliases each would be 10^9 copies: refused at the alias that crosses
    /// the limit, within a few megabytes.
    #[test]
    fn an_alias_bomb_is_refused_at_its_line() {
        let mut text = String::from("a0: &a0 [lol]\n");
        for level in 1..10 {
            let prev = format!("*a{}", level - 1);
            let items = [prev.as_str(); 9].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
        }
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{err:?}");
        assert!((5..=10).contains(&err.line), "{err:?}");
    }

    #[test]
    fn ordinary_anchors_fit_well_within_the_limit() {
        let mut text = String::from("defaults: &d {model: openai/gpt-4o-mini, temperature: 0.7}\n");
        for i in 0..2000 {
            text.push_str(&format!("actor{i}: *d\n"));
        }
        let doc = parse(&text).unwrap();
        assert_eq!(doc.entries().len(), 2001);
    }

    #[test]
    fn a_file_over_the_size_limit_is_refused_before_parsing() {
        limits::set_max_yaml_bytes(64);
        let err = parse(&format!("a: {}\n", "x".repeat(100))).unwrap_err();
        limits::set_max_yaml_bytes(limits::DEFAULT_MAX_YAML_BYTES);
        assert_eq!((err.line, err.col), (1, 1));
        assert!(
            err.message.contains("over the 64 bytes limit")
                && err.message.contains("SCENARIO_LAB_MAX_YAML_MB=1"),
            "{}",
            err.message
        );
    }

    /// `- - - … 1` 20,000 deep is 40 KB of text; built, read or dropped by recursion it would
    /// overflow a wasm instance's 1 MiB stack. Refused at the level past the limit, on a stack
    /// that small.
    #[test]
    fn a_deep_nest_is_refused_not_a_stack_overflow() {
        let text = format!("a:\n  {}1\n", "- ".repeat(20_000));
        let err = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || parse(&text).unwrap_err())
            .unwrap()
            .join()
            .unwrap();
        assert!(err.message.contains("more than 200 levels deep"), "{err:?}");
        assert_eq!(err.line, 2);
        let flow = parse(&format!("a: {}\n", "[".repeat(200_000))).unwrap_err();
        assert!(flow.message.contains("levels deep"), "{flow:?}");
        let ok = format!("{}1\n", "- ".repeat(limits::MAX_YAML_NESTING));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn only_the_first_document_is_read() {
        let doc = parse("a: 1\n---\nb: [unclosed\n").unwrap();
        assert_eq!(doc.get("a").unwrap().as_i64(), Some(1));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("a: 1\nb: [1, 2\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
        let err = parse("a: 1\n  b: 2\n").unwrap_err();
        assert_eq!(err.line, 2, "{err:?}");
    }

    #[test]
    fn empty_document_is_null() {
        assert!(parse("").unwrap().is_null());
        assert!(parse("# only a comment\n").unwrap().is_null());
    }
}
