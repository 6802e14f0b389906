//! What "success" means for a run: a condition on its final metrics.
//!
//! By default a run succeeds when it completed. A batch config may say more with
//! `success: "cooperation_level >= 6 and tension < 4"`; a completed run then succeeds only when
//! the condition holds on its final metrics. The language is deliberately small: comparisons of a
//! metric with a number, joined by `and` / `or` (`and` binds tighter). A metric the run did not
//! record makes its comparison false, so a missing value never counts as a success.

use std::fmt;

/// A parsed success condition: an `or` of `and`s of comparisons.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    any_of: Vec<Vec<Comparison>>,
    text: String,
}

#[derive(Clone, Debug, PartialEq)]
struct Comparison {
    metric: String,
    op: Op,
    value: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Ge,
    Le,
    Gt,
    Lt,
    Eq,
    Ne,
}

/// Why a condition did not parse: what was expected, at which character (1-based column).
#[derive(Clone, Debug, PartialEq)]
pub struct ConditionError {
    /// 1-based column in the condition's text.
    pub column: usize,
    /// What was expected there.
    pub expected: String,
    /// What was found instead.
    pub found: String,
}

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "at column {}: expected {}, found {}",
            self.column, self.expected, self.found
        )
    }
}

impl std::error::Error for ConditionError {}

#[derive(Debug, PartialEq)]
enum Token<'a> {
    Word(&'a str),
    Number(f64),
    Op(Op),
}

fn tokens(text: &str) -> Result<Vec<(usize, Token<'_>)>, ConditionError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'-' | b'.'))
            {
                i += 1;
            }
            out.push((start, Token::Word(&text[start..i])));
        } else if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.') {
            i += 1;
            while i < bytes.len()
                && (bytes[i].is_ascii_digit() || matches!(bytes[i], b'.' | b'e' | b'E'))
            {
                i += 1;
            }
            let number = text[start..i].parse::<f64>().ok().filter(|n| n.is_finite());
            match number {
                Some(n) => out.push((start, Token::Number(n))),
                None => return Err(error(start, "a number", &text[start..i])),
            }
        } else {
            let two = text.get(i..i + 2).unwrap_or("");
            let (op, len) = match (two, c) {
                (">=", _) => (Op::Ge, 2),
                ("<=", _) => (Op::Le, 2),
                ("==", _) => (Op::Eq, 2),
                ("!=", _) => (Op::Ne, 2),
                (_, b'>') => (Op::Gt, 1),
                (_, b'<') => (Op::Lt, 1),
                (_, b'=') => (Op::Eq, 1),
                _ => {
                    let ch = text[i..].chars().next().unwrap_or(' ');
                    return Err(error(
                        start,
                        "a metric name, a comparison (>=, <=, >, <, ==, !=) or a number",
                        &format!("`{ch}`"),
                    ));
                }
            };
            i += len;
            out.push((start, Token::Op(op)));
        }
    }
    Ok(out)
}

fn error(at: usize, expected: &str, found: &str) -> ConditionError {
    ConditionError {
        column: at + 1,
        expected: expected.to_string(),
        found: found.to_string(),
    }
}

fn describe(token: Option<&(usize, Token<'_>)>) -> String {
    match token {
        None => "the end of the condition".into(),
        Some((_, Token::Word(w))) => format!("`{w}`"),
        Some((_, Token::Number(n))) => format!("the number {n}"),
        Some((_, Token::Op(_))) => "a comparison".into(),
    }
}

impl Condition {
    /// Parses `metric op number [and|or ...]`.
    pub fn parse(text: &str) -> Result<Condition, ConditionError> {
        let toks = tokens(text)?;
        let end = text.len();
        let at = |i: usize| toks.get(i).map(|t| t.0).unwrap_or(end);
        let mut any_of = vec![Vec::new()];
        let mut i = 0;
        loop {
            let metric = match toks.get(i) {
                Some((_, Token::Word(w))) if !matches!(*w, "and" | "or") => w.to_string(),
                other => return Err(error(at(i), "a metric name", &describe(other))),
            };
            let op = match toks.get(i + 1) {
                Some((_, Token::Op(op))) => *op,
                other => {
                    return Err(error(
                        at(i + 1),
                        "a comparison (>=, <=, >, <, ==, !=)",
                        &describe(other),
                    ))
                }
            };
            let value = match toks.get(i + 2) {
                Some((_, Token::Number(n))) => *n,
                other => return Err(error(at(i + 2), "a number", &describe(other))),
            };
            any_of
                .last_mut()
                .expect("never empty")
                .push(Comparison { metric, op, value });
            i += 3;
            match toks.get(i) {
                None => break,
                Some((_, Token::Word("and"))) => {}
                Some((_, Token::Word("or"))) => any_of.push(Vec::new()),
                other => return Err(error(at(i), "`and`, `or` or the end", &describe(other))),
            }
            i += 1;
        }
        Ok(Condition {
            any_of,
            text: text.trim().to_string(),
        })
    }

    /// The condition as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The metric names the condition reads.
    pub fn metrics(&self) -> impl Iterator<Item = &str> {
        self.any_of.iter().flatten().map(|c| c.metric.as_str())
    }

    /// Whether the condition holds, reading each metric through `value` (`None`: not recorded).
    pub fn holds(&self, value: impl Fn(&str) -> Option<f64>) -> bool {
        self.any_of.iter().any(|all| {
            all.iter().all(|c| {
                value(&c.metric).is_some_and(|v| match c.op {
                    Op::Ge => v >= c.value,
                    Op::Le => v <= c.value,
                    Op::Gt => v > c.value,
                    Op::Lt => v < c.value,
                    Op::Eq => v == c.value,
                    Op::Ne => v != c.value,
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(cond: &str, values: &[(&str, f64)]) -> bool {
        Condition::parse(cond)
            .unwrap()
            .holds(|m| values.iter().find(|(k, _)| *k == m).map(|(_, v)| *v))
    }

    #[test]
    fn comparisons_and_precedence() {
        assert!(holds("x >= 6", &[("x", 6.0)]));
        assert!(!holds("x > 6", &[("x", 6.0)]));
        assert!(holds(
            "x<1 or y==2 and z != 3",
            &[("x", 5.0), ("y", 2.0), ("z", 4.0)]
        ));
        assert!(!holds(
            "x<1 or y==2 and z != 3",
            &[("x", 5.0), ("y", 2.0), ("z", 3.0)]
        ));
        assert!(holds("level.a-b = -1.5e0", &[("level.a-b", -1.5)]));
    }

    #[test]
    fn a_missing_metric_is_never_a_success() {
        assert!(!holds("x >= 0", &[]));
        assert!(!holds("x != 1", &[]));
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = Condition::parse("cooperation >= high").unwrap_err();
        assert_eq!((e.column, e.expected.as_str()), (16, "a number"));
        assert_eq!(e.found, "`high`");
        let e = Condition::parse("x >= 1 but y < 2").unwrap_err();
        assert_eq!(e.column, 8);
        assert!(e.expected.contains("`and`"));
        let e = Condition::parse("x >=").unwrap_err();
        assert_eq!(e.found, "the end of the condition");
        assert!(Condition::parse("").is_err());
        assert!(Condition::parse("x ~ 2").is_err());
    }
}
