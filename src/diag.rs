//! Diagnostics: what is wrong with an input, where, and what would be right.
//!
//! Every problem found in a config becomes one [`Diagnostic`] naming the file, the line and
//! column (where known), what was expected, what was found, and a "did you mean" for misspelt
//! names. Loaders collect all of them and report every problem at once. Field checks never
//! know their file or line: [`FileDiags`] adds those, the way ripgrep's parser adds a flag's name.

use std::fmt;

use serde::Serialize;

use crate::limits::QUOTE_WIDTH;
use crate::yaml::Node;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The input cannot be used; nothing runs.
    Error,
    /// The input is used, but something in it is probably not what its author meant.
    Warning,
}

/// One problem in one file. Serialised with a `text` field holding its [`Display`] form, so
/// that hosts print exactly what the CLI prints.
///
/// [`Display`]: fmt::Display
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file, as the user named it (or as we resolved it).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// 1-based column, when known.
    pub column: Option<u32>,
    /// The dotted path of the key concerned (`variations[1].actor`), when there is one.
    pub key: Option<String>,
    /// One sentence saying what is wrong.
    pub message: String,
    /// What would have been right.
    pub expected: Option<String>,
    /// What was there instead.
    pub found: Option<String>,
    /// A likely fix ("did you mean `budget_limit`?").
    pub suggestion: Option<String>,
    /// The line (or, for a long line, the part around the column), to quote under the message.
    pub quote: Option<Quote>,
}

/// A piece of a source line quoted under a diagnostic, and where in it to point.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    /// The text quoted: the whole line, or [`QUOTE_WIDTH`] characters around the column with
    /// `…` where it was cut.
    pub text: String,
    /// The 0-based character under which the `^` goes.
    pub caret: usize,
}

impl Quote {
    /// Quotes `line` for a diagnostic at 1-based `column`. A long line (a minified file, a
    /// 200,000-deep `[[[…`) is cut to the part around the column, so that the message stays
    /// readable, and control characters are shown as `�` so that a quoted line cannot move the
    /// terminal's cursor or change its colours.
    pub fn new(line: &str, column: u32) -> Quote {
        let chars: Vec<char> = line.chars().collect();
        let col = (column.max(1) as usize - 1).min(chars.len());
        let (start, end) = if chars.len() <= QUOTE_WIDTH {
            (0, chars.len())
        } else {
            let start = col
                .saturating_sub(QUOTE_WIDTH / 2)
                .min(chars.len() - QUOTE_WIDTH);
            (start, start + QUOTE_WIDTH)
        };
        let mut text = String::new();
        if start > 0 {
            text.push('…');
        }
        text.extend(chars[start..end].iter().map(|&c| match c {
            '\t' => ' ',
            c if c.is_control() => '\u{FFFD}',
            c => c,
        }));
        if end < chars.len() {
            text.push('…');
        }
        Quote {
            text,
            caret: col - start + usize::from(start > 0),
        }
    }
}

/// A diagnostic as hosts receive it: the fields, and `text`, its printable form.
#[derive(Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Diagnostic"))]
pub struct DiagnosticView<'a> {
    /// Error or warning.
    pub severity: Severity,
    /// The file.
    pub file: &'a str,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// 1-based column, when known.
    pub column: Option<u32>,
    /// The dotted path of the key concerned (`variations[1].actor`), when there is one.
    pub key: Option<&'a str>,
    /// One sentence saying what is wrong.
    pub message: &'a str,
    /// What would have been right.
    pub expected: Option<&'a str>,
    /// What was there instead.
    pub found: Option<&'a str>,
    /// A likely fix ("did you mean `budget_limit`?").
    pub suggestion: Option<&'a str>,
    /// The printable form: the message, its place and the quoted line, as the CLI prints it.
    pub text: String,
}

impl Serialize for Diagnostic {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        DiagnosticView {
            severity: self.severity,
            file: &self.file,
            line: self.line,
            column: self.column,
            key: self.key.as_deref(),
            message: &self.message,
            expected: self.expected.as_deref(),
            found: self.found.as_deref(),
            suggestion: self.suggestion.as_deref(),
            text: self.to_string(),
        }
        .serialize(s)
    }
}

impl Diagnostic {
    /// A problem with a whole file (no position).
    pub fn file_level(severity: Severity, file: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            file: file.to_string(),
            line: None,
            column: None,
            key: None,
            message: message.into(),
            expected: None,
            found: None,
            suggestion: None,
            quote: None,
        }
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Sets what was expected.
    pub fn expected(mut self, text: impl Into<String>) -> Self {
        self.expected = Some(text.into());
        self
    }

    /// Sets what was found.
    pub fn found(mut self, text: impl Into<String>) -> Self {
        self.found = Some(text.into());
        self
    }

    /// Sets the suggestion.
    pub fn suggest(mut self, text: impl Into<String>) -> Self {
        self.suggestion = Some(text.into());
        self
    }

    /// `file:line:column`, as far as known.
    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.file),
            (Some(l), None) => format!("{}:{l}", self.file),
            _ => self.file.clone(),
        }
    }
}

impl fmt::Display for Diagnostic {
    /// Quotes the line and points at the column, the way compilers do:
    ///
    /// ```text
    /// error: unknown key `budget_limt` in the batch config
    ///   --> experiments/x/batch-config.yaml:12:1
    ///    |
    /// 12 | budget_limt: 10
    ///    | ^
    ///    = expected: a batch config key (experiment_name, base_scenario, ...)
    ///    = help: did you mean `budget_limit`?
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(f, "{label}: {}", self.message)?;
        write!(f, "  --> {}", self.location())?;
        if let (Some(line), Some(quote)) = (self.line, &self.quote) {
            let num = line.to_string();
            let pad = " ".repeat(num.len());
            write!(
                f,
                "\n{pad} |\n{num} | {}\n{pad} | {}^",
                quote.text,
                " ".repeat(quote.caret)
            )?;
        }
        let pad = " ".repeat(self.line.map_or(1, |l| l.to_string().len()));
        if let Some(e) = &self.expected {
            write!(f, "\n{pad} = expected: {e}")?;
        }
        if let Some(found) = &self.found {
            write!(f, "\n{pad} = found: {found}")?;
        }
        if let Some(s) = &self.suggestion {
            write!(f, "\n{pad} = help: {s}")?;
        }
        Ok(())
    }
}

/// The diagnostics of one file being read: knows the file's name and text, so callers only
/// say which node is wrong and how.
pub struct FileDiags<'a> {
    file: &'a str,
    lines: Vec<&'a str>,
    out: &'a mut Vec<Diagnostic>,
}

impl<'a> FileDiags<'a> {
    /// Collects into `out` the problems of `file`, whose text is `text`.
    pub fn new(file: &'a str, text: &'a str, out: &'a mut Vec<Diagnostic>) -> Self {
        FileDiags {
            file,
            lines: text.lines().collect(),
            out,
        }
    }

    /// The file's name.
    pub fn file(&self) -> &str {
        self.file
    }

    fn at(&self, severity: Severity, node: &Node, key: &str, message: String) -> Diagnostic {
        Diagnostic {
            severity,
            file: self.file.to_string(),
            line: Some(node.line),
            column: Some(node.col),
            key: (!key.is_empty()).then(|| key.to_string()),
            message,
            expected: None,
            found: None,
            suggestion: None,
            quote: self
                .lines
                .get(node.line.saturating_sub(1) as usize)
                .map(|l| Quote::new(l, node.col)),
        }
    }

    /// Records an error at `node` and returns it for further detail.
    pub fn error(&mut self, node: &Node, key: &str, message: impl Into<String>) -> &mut Diagnostic {
        let d = self.at(Severity::Error, node, key, message.into());
        self.out.push(d);
        self.out.last_mut().expect("just pushed")
    }

    /// Records a warning at `node` and returns it for further detail.
    pub fn warn(&mut self, node: &Node, key: &str, message: impl Into<String>) -> &mut Diagnostic {
        let d = self.at(Severity::Warning, node, key, message.into());
        self.out.push(d);
        self.out.last_mut().expect("just pushed")
    }

    /// Records a problem with the whole file.
    pub fn file_error(&mut self, message: impl Into<String>) -> &mut Diagnostic {
        self.out
            .push(Diagnostic::file_level(Severity::Error, self.file, message));
        self.out.last_mut().expect("just pushed")
    }
}

/// Sets a field on the diagnostic just recorded; lets a check read as one sentence.
pub trait Detail {
    /// What would have been right.
    fn expected(&mut self, text: impl Into<String>) -> &mut Self;
    /// What was there instead.
    fn found(&mut self, text: impl Into<String>) -> &mut Self;
    /// A likely fix.
    fn help(&mut self, text: impl Into<String>) -> &mut Self;
}

impl Detail for Diagnostic {
    fn expected(&mut self, text: impl Into<String>) -> &mut Self {
        self.expected = Some(text.into());
        self
    }
    fn found(&mut self, text: impl Into<String>) -> &mut Self {
        self.found = Some(text.into());
        self
    }
    fn help(&mut self, text: impl Into<String>) -> &mut Self {
        self.suggestion = Some(text.into());
        self
    }
}

/// Describes a node for a `found:` line: its kind and, for short scalars, its text.
pub fn describe(node: &Node) -> String {
    match node.scalar_text() {
        Some(text) if text.chars().count() <= 40 && !text.contains('\n') => {
            format!("{} `{text}`", node.kind())
        }
        _ => node.kind().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_the_line_and_points_at_the_column() {
        let text = "experiment_name: x\nbudget_limt: 10\n";
        let doc = crate::yaml::parse(text).unwrap();
        let key = &doc.entries()[1].0;
        let mut out = Vec::new();
        let mut diags = FileDiags::new("b.yaml", text, &mut out);
        diags
            .error(key, "budget_limt", "unknown key `budget_limt`")
            .help("did you mean `budget_limit`?");
        let shown = out[0].to_string();
        assert_eq!(
            shown,
            "error: unknown key `budget_limt`\n  --> b.yaml:2:1\n  |\n2 | budget_limt: 10\n  | ^\n  = help: did you mean `budget_limit`?"
        );
    }

    #[test]
    fn a_long_line_is_quoted_around_its_column() {
        let line = "[".repeat(200_000);
        let quote = Quote::new(&line, 150_000);
        assert_eq!(quote.text.chars().count(), QUOTE_WIDTH + 2);
        assert!(quote.text.starts_with('…') && quote.text.ends_with('…'));
        assert_eq!(quote.caret, QUOTE_WIDTH / 2 + 1);

        let near_start = Quote::new(&line, 3);
        assert_eq!(near_start.caret, 2);
        assert!(!near_start.text.starts_with('…') && near_start.text.ends_with('…'));

        let near_end = Quote::new(&line, 200_000);
        assert!(near_end.text.starts_with('…') && !near_end.text.ends_with('…'));
        assert_eq!(near_end.text.chars().nth(near_end.caret), Some('['));
    }

    #[test]
    fn control_characters_are_not_quoted_raw() {
        let quote = Quote::new("name: \u{1b}[31mred\u{1b}[0m", 7);
        assert!(!quote.text.contains('\u{1b}'), "{:?}", quote.text);
        assert_eq!(quote.caret, 6);
    }
}
