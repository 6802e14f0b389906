//! The text of a run's files. Pure functions from run data to markdown and JSON; the driver
//! writes them. No timestamps here, so that an interrupted and resumed run writes the same
//! files as an uninterrupted one.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::parse::{Decision, WorldUpdate};
use super::Ledger;
use crate::config::{ExogenousEvent, Scenario};
use crate::pricing::nanos_to_usd;
use crate::schema::run::{Costs, MetricRecord, MetricValue, Metrics, RunCosts};

/// `text` without terminal control sequences: ANSI escapes (`ESC [ … m` colours, cursor moves,
/// `ESC ] … BEL` titles) and every other control character but newline and tab. Model replies
/// end up in the run's Markdown files and log, which people `cat` in a terminal; a reply must
/// not be able to recolour it, move its cursor or retitle its window.
pub fn printable(text: &str) -> Cow<'_, str> {
    let is_unwanted = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(is_unwanted) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            match chars.next() {
                // CSI: parameters and intermediates up to a final byte in @..~.
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC, DCS and the like: up to BEL or ESC \.
                Some(']' | 'P' | '_' | '^') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                            break;
                        }
                    }
                }
                _ => {}
            }
        } else if !is_unwanted(c) {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `world-state-007.md`.
pub fn world_state_name(turn: u32) -> String {
    format!("world-state-{turn:03}.md")
}

/// A world-state file.
pub fn world_state(
    s: &Scenario,
    turn: u32,
    update: &WorldUpdate,
    actions: &[(String, String)],
    events: &[ExogenousEvent],
) -> String {
    let mut o = format!("# World State - Turn {turn}\n\n**Scenario:** {}\n", s.name);
    if let Some(d) = &s.turn_duration {
        o.push_str(&format!("**Turn Duration:** {}\n", d.trim()));
    }
    o.push_str(&format!(
        "\n---\n\n## Current Situation\n\n{}\n",
        update.state.trim()
    ));
    if !actions.is_empty() {
        o.push_str("\n## Actions Taken This Turn\n");
        for (name, action) in actions {
            o.push_str(&format!("\n### {name}\n\n{}\n", action.trim()));
        }
    }
    if !events.is_empty() {
        o.push_str("\n## Background Events\n\n");
        for e in events {
            o.push_str(&format!("- **{}:** {}\n", e.name, e.description.trim()));
        }
    }
    for (title, items) in [
        ("Key Changes", &update.key_changes),
        ("Consequences", &update.consequences),
    ] {
        if !items.is_empty() {
            o.push_str(&format!("\n## {title}\n\n"));
            for i in items {
                o.push_str(&format!("- {i}\n"));
            }
        }
    }
    o
}

/// An actor's decision file.
pub fn decision(s: &Scenario, name: &str, model: &str, turn: u32, d: &Decision) -> String {
    let mut o = format!(
        "# {name} - Turn {turn}\n\n**Scenario:** {}\n**Model:** {model}\n",
        s.name
    );
    if let Some(dur) = &s.turn_duration {
        o.push_str(&format!("**Turn Duration:** {}\n", dur.trim()));
    }
    o.push_str("\n## Current Goals\n\n");
    if !d.long_term_goals.is_empty() {
        o.push_str(&format!(
            "**LONG-TERM GOALS:**\n{}\n\n",
            d.long_term_goals.trim()
        ));
    }
    if !d.short_term_priorities.is_empty() {
        o.push_str(&format!(
            "**SHORT-TERM PRIORITIES:**\n{}\n\n",
            d.short_term_priorities.trim()
        ));
    }
    o.push_str(&format!(
        "## Reasoning\n\n{}\n\n## Action\n\n{}\n",
        d.reasoning.trim(),
        d.action.trim()
    ));
    o
}

/// A bilateral or coalition channel file.
pub fn channel(
    kind: &str,
    turn: u32,
    participants: &[String],
    purpose: Option<&str>,
    messages: &[(String, String)],
) -> String {
    let title = if kind == "bilateral" {
        "Bilateral Negotiation"
    } else {
        "Coalition Communication"
    };
    let mut o = format!(
        "# {title} - Turn {turn}\n\n**Participants:** {}\n",
        participants.join(", ")
    );
    if let Some(p) = purpose {
        o.push_str(&format!("**Purpose:** {}\n", p.trim()));
    }
    o.push_str("\n## Messages\n");
    for (who, text) in messages {
        o.push_str(&format!("\n### {who}\n\n{}\n", text.trim()));
    }
    o
}

/// The result of one quality check.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckResult {
    /// The check.
    pub check: String,
    /// The actor, for per-actor checks.
    pub actor: Option<String>,
    /// The turn.
    pub turn: u32,
    /// Passed.
    pub passed: bool,
    /// Issues found.
    pub issues: Vec<String>,
    /// low, medium or high.
    pub severity: String,
    /// Why.
    pub explanation: String,
}

/// Reads a check's answer: the pass line under any of the original's labels.
pub fn parse_check(check: &str, actor: Option<&str>, turn: u32, reply: &str) -> CheckResult {
    use super::parse::{bullets, first_section, is_yes};
    let passed = first_section(
        reply,
        &["PASSED", "CONSISTENT", "COHERENT", "VALID ACCESS", "VALID"],
    )
    .is_none_or(|t| is_yes(&t));
    let issues = first_section(
        reply,
        &["ISSUES", "ISSUES FOUND", "VIOLATIONS FOUND", "VIOLATIONS"],
    )
    .map(|t| bullets(&t))
    .unwrap_or_default();
    CheckResult {
        check: check.to_string(),
        actor: actor.map(str::to_string),
        turn,
        passed,
        issues,
        severity: first_section(reply, &["SEVERITY"])
            .map(|s| s.lines().next().unwrap_or("").trim().to_ascii_lowercase())
            .unwrap_or_default(),
        explanation: first_section(reply, &["EXPLANATION"]).unwrap_or_default(),
    }
}

fn check_lines(o: &mut String, r: &CheckResult) {
    let who = r
        .actor
        .as_deref()
        .map(|a| format!(" ({a})"))
        .unwrap_or_default();
    let verdict = if r.passed { "PASSED" } else { "ISSUES FOUND" };
    o.push_str(&format!("\n### {}{who}: {verdict}\n\n", r.check));
    if !r.severity.is_empty() {
        o.push_str(&format!("**Severity:** {}\n\n", r.severity));
    }
    for i in &r.issues {
        o.push_str(&format!("- {i}\n"));
    }
    if !r.explanation.is_empty() {
        o.push_str(&format!("\n{}\n", r.explanation.trim()));
    }
}

/// `validation-NNN.md`: this turn's checks.
pub fn validation_turn(turn: u32, results: &[CheckResult]) -> String {
    let passed = results.iter().filter(|r| r.passed).count();
    let mut o = format!(
        "# Quality Checks - Turn {turn}\n\n{passed} of {} checks passed.\n",
        results.len()
    );
    for r in results {
        check_lines(&mut o, r);
    }
    o
}

/// `validation-summary.md`: every turn's checks.
pub fn validation_summary(results: &[CheckResult]) -> String {
    let passed = results.iter().filter(|r| r.passed).count();
    let pct = if results.is_empty() {
        100.0
    } else {
        passed as f64 * 100.0 / results.len() as f64
    };
    let mut o = format!("# Quality Checks - Summary\n\n{passed} of {} checks passed ({pct:.1}%).\n\n## By check\n\n", results.len());
    let mut by: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for r in results {
        let e = by.entry(&r.check).or_default();
        e.0 += usize::from(r.passed);
        e.1 += 1;
    }
    for (name, (p, n)) in by {
        o.push_str(&format!("- {name}: {p} of {n} passed\n"));
    }
    let failed: Vec<&CheckResult> = results.iter().filter(|r| !r.passed).collect();
    if !failed.is_empty() {
        o.push_str("\n## Issues\n");
        for r in failed {
            o.push_str(&format!("\nTurn {}:", r.turn));
            check_lines(&mut o, r);
        }
    }
    o
}

/// `metrics.json`: `metrics_by_turn` and `final_metrics` (the original's V1 shape) and
/// `records` (its V2 list), plus what was flagged.
pub fn metrics(s: &Scenario, records: &[MetricRecord]) -> Metrics {
    let per_actor = |name: &str| {
        s.metrics
            .iter()
            .any(|m| m.name == name && m.actor_specific && m.actor.is_none())
    };
    let mut by_turn: BTreeMap<u32, BTreeMap<String, MetricValue>> = BTreeMap::new();
    let mut finals: BTreeMap<String, MetricValue> = BTreeMap::new();
    for r in records {
        let value = match (r.value, &r.raw) {
            (Some(v), _) => MetricValue::Number(v),
            (None, Some(raw)) if r.flag.is_none() => MetricValue::Text(raw.clone()),
            _ => continue,
        };
        let key = r.key(per_actor(&r.name));
        by_turn
            .entry(r.turn)
            .or_default()
            .insert(key.clone(), value.clone());
        finals.insert(key, value);
    }
    Metrics {
        scenario: s.name.clone(),
        metrics_by_turn: by_turn,
        final_metrics: finals,
        records: records.to_vec(),
        flagged: records.iter().filter(|r| r.flag.is_some()).count() as u64,
    }
}

/// `costs.json`: the total (the key other tools read), and by actor, role, turn and model.
pub fn costs(ledger: &Ledger) -> Costs {
    let usd = |m: &BTreeMap<String, u64>| -> BTreeMap<String, f64> {
        m.iter()
            .map(|(k, v)| (k.clone(), nanos_to_usd(*v)))
            .collect()
    };
    Costs::Run(RunCosts {
        total_cost: nanos_to_usd(ledger.total_nanos),
        total_cost_nanos: ledger.total_nanos,
        calls: ledger.calls,
        prompt_tokens: ledger.prompt_tokens,
        completion_tokens: ledger.completion_tokens,
        unknown_price_calls: ledger.unknown_price_calls,
        truncated_replies: ledger.truncated,
        over_cap_replies: ledger.over_cap,
        possibly_billed_retries: ledger.timeouts,
        by_actor: usd(&ledger.by_actor),
        by_role: usd(&ledger.by_role),
        by_turn: usd(&ledger.by_turn),
        by_model: usd(&ledger.by_model),
        savings: ledger.savings(),
    })
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn terminal_control_sequences_are_removed() {
        let reply = "We \u{1b}[31;1mREFUSE\u{1b}[0m.\u{1b}]0;pwned\u{7}\r\nNext\u{8}\tline\u{1b}]2;t\u{1b}\\ end";
        assert_eq!(printable(reply), "We REFUSE.\nNext\tline end");
        assert!(matches!(
            printable("plain\ntext"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
