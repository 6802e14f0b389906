//! Reading LLM replies: tagged sections, forgivingly.
//!
//! A section is found by its name in any of the forms models use: `**NAME:**`, `**NAME**:`,
//! `**NAME**`, a markdown heading `## NAME`, or `NAME:` at the start of a line (any case). It
//! runs until the next tag of any of those forms (a bold label, a heading, or a `---` line).
//! Untrusted input: a reply is only ever read as text here.

/// Where a tag starts and where its content starts.
fn find_tag(text: &str, name: &str) -> Option<(usize, usize)> {
    let lower = text.to_ascii_lowercase();
    let n = name.to_ascii_lowercase();
    let mut best: Option<(usize, usize)> = None;
    let mut consider = |start: usize, content: usize| {
        if best.is_none_or(|(s, _)| start < s) {
            best = Some((start, content));
        }
    };
    for pat in [
        format!("**{n}:**"),
        format!("**{n}**:"),
        format!("**{n}:"),
        format!("**{n}**"),
    ] {
        if let Some(i) = lower.find(&pat) {
            consider(i, i + pat.len());
        }
    }
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let tl = trimmed.to_ascii_lowercase();
        let hashes = tl.chars().take_while(|c| *c == '#').count();
        if hashes >= 1 {
            let rest = tl[hashes..].trim_start();
            let rest = rest.trim_start_matches("**");
            if let Some(after) = rest.strip_prefix(n.as_str()) {
                if after.trim_start_matches(['*', ':']).trim().is_empty() {
                    consider(offset + indent, offset + line.len());
                }
            }
        } else if let Some(after) = tl.strip_prefix(&format!("{n}:")) {
            let _ = after;
            consider(offset + indent, offset + indent + n.len() + 1);
        }
        offset += line.len();
    }
    best
}

/// Whether a line starts a new section (so the current one ends before it).
fn is_section_start(line: &str) -> bool {
    let t = line.trim_start();
    if t.starts_with('#') || t.trim_end() == "---" {
        return true;
    }
    if let Some(rest) = t.strip_prefix("**") {
        // A bold label such as **NAME:** or **NAME**: (not bold text inside a sentence).
        if let Some(end) = rest.find("**") {
            let label = &rest[..end];
            let after = &rest[end + 2..];
            let is_label =
                label.ends_with(':') || after.starts_with(':') || after.trim().is_empty();
            return is_label && !label.is_empty() && label.len() <= 40;
        }
    }
    // An all-caps `NAME:` line start (the plain tag form).
    if let Some(colon) = t.find(':') {
        let label = &t[..colon];
        return !label.is_empty()
            && label.len() <= 40
            && label.chars().any(|c| c.is_ascii_uppercase())
            && label
                .chars()
                .all(|c| c.is_ascii_uppercase() || c == ' ' || c == '-' || c == '_');
    }
    false
}

/// The text of section `name`, trimmed; `None` when the tag is absent.
pub fn section(text: &str, name: &str) -> Option<String> {
    let (_, content) = find_tag(text, name)?;
    let rest = &text[content..];
    // Content may start on the tag's own line.
    let mut out = String::new();
    for (i, line) in rest.split_inclusive('\n').enumerate() {
        if i > 0 && is_section_start(line) {
            break;
        }
        out.push_str(line);
    }
    Some(out.trim().trim_start_matches(':').trim().to_string())
}

/// The first of several names that is present.
pub fn first_section(text: &str, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| section(text, n))
        .filter(|s| !s.is_empty())
}

/// An actor's decision.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Decision {
    /// Long-term goals text.
    pub long_term_goals: String,
    /// Short-term priorities text.
    pub short_term_priorities: String,
    /// Reasoning.
    pub reasoning: String,
    /// The action.
    pub action: String,
    /// True when the tags were missing and the whole reply was taken as the action.
    pub fallback: bool,
}

/// Parses a decision; when no `ACTION` tag is found, the whole reply is the action.
pub fn decision(reply: &str) -> Decision {
    let long = first_section(reply, &["LONG-TERM GOALS", "LONG TERM GOALS", "LONG-TERM"])
        .unwrap_or_default();
    let short = first_section(
        reply,
        &[
            "SHORT-TERM PRIORITIES",
            "SHORT TERM PRIORITIES",
            "SHORT-TERM",
        ],
    )
    .unwrap_or_default();
    let reasoning =
        first_section(reply, &["REASONING", "RATIONALE", "THINKING"]).unwrap_or_default();
    match first_section(reply, &["ACTION", "ACTIONS", "DECISION"]) {
        Some(action) => Decision {
            long_term_goals: long,
            short_term_priorities: short,
            reasoning,
            action,
            fallback: false,
        },
        None => Decision {
            long_term_goals: long,
            short_term_priorities: short,
            reasoning,
            action: reply.trim().to_string(),
            fallback: true,
        },
    }
}

/// A world update.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WorldUpdate {
    /// The new state of the world.
    pub state: String,
    /// Key changes, one per item.
    pub key_changes: Vec<String>,
    /// Consequences, one per item.
    pub consequences: Vec<String>,
    /// True when the tag was missing and the whole reply was taken as the state.
    pub fallback: bool,
}

/// Bullet items (`-`, `*`, `•`, `1.`) of a section, or its lines.
pub fn bullets(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            let t = l.trim();
            let t = t.trim_start_matches(['-', '*', '•']).trim_start();
            let digits = t.chars().take_while(|c| c.is_ascii_digit()).count();
            let t = if digits > 0 && t[digits..].starts_with('.') {
                t[digits + 1..].trim_start()
            } else {
                t
            };
            t.to_string()
        })
        .filter(|l| !l.is_empty() && !l.eq_ignore_ascii_case("none"))
        .collect()
}

/// Parses a world update; without an `UPDATED STATE` tag the whole reply is the state.
pub fn world_update(reply: &str) -> WorldUpdate {
    let changes = section(reply, "KEY CHANGES")
        .map(|s| bullets(&s))
        .unwrap_or_default();
    let consequences = section(reply, "CONSEQUENCES")
        .map(|s| bullets(&s))
        .unwrap_or_default();
    match section(reply, "UPDATED STATE").filter(|s| !s.is_empty()) {
        Some(state) => WorldUpdate {
            state,
            key_changes: changes,
            consequences,
            fallback: false,
        },
        None => WorldUpdate {
            state: reply.trim().to_string(),
            key_changes: changes,
            consequences,
            fallback: true,
        },
    }
}

/// Whether a yes/no answer says yes (`yes`, `true`, `accept`, `y`).
pub fn is_yes(text: &str) -> bool {
    let t = text
        .trim()
        .trim_matches(['*', '.', '!'])
        .trim()
        .to_ascii_lowercase();
    t.starts_with("yes") || t.starts_with("true") || t.starts_with("accept") || t == "y"
}

/// The first number in a reply (`7`, `6.5`, `-2`, `1e3`, `3/10` -> 3), for metric answers.
pub fn first_number(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let starts = c.is_ascii_digit()
            || ((c == b'-' || c == b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
        if starts {
            let mut j = i + 1;
            while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b'.') {
                j += 1;
            }
            if let Ok(v) = text[i..j].trim_end_matches('.').parse::<f64>() {
                return Some(v);
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bold_heading_and_plain_tags() {
        let bold = "**LONG-TERM GOALS:**\n- win\n\n**SHORT-TERM PRIORITIES:**\n- talk\n\n**REASONING:**\nBecause.\n\n**ACTION:**\nPropose a deal.";
        let d = decision(bold);
        assert_eq!(
            (
                d.long_term_goals.as_str(),
                d.short_term_priorities.as_str(),
                d.reasoning.as_str(),
                d.action.as_str()
            ),
            ("- win", "- talk", "Because.", "Propose a deal.")
        );
        assert!(!d.fallback);
        let heading =
            "## Long-term goals\nwin\n## Reasoning\nBecause.\n### Action\nPropose a deal.\n";
        let d = decision(heading);
        assert_eq!(
            (d.reasoning.as_str(), d.action.as_str()),
            ("Because.", "Propose a deal.")
        );
        let plain = "REASONING: Because.\nACTION: Propose a deal.\nMore detail.";
        let d = decision(plain);
        assert_eq!(d.reasoning, "Because.");
        assert_eq!(d.action, "Propose a deal.\nMore detail.");
        let bold_no_colon = "**Reasoning**\nBecause.\n\n**Action**\nAct now.";
        assert_eq!(decision(bold_no_colon).action, "Act now.");
    }

    #[test]
    fn a_reply_without_tags_is_all_action() {
        let d = decision("We will simply wait and see.");
        assert!(d.fallback);
        assert_eq!(d.action, "We will simply wait and see.");
    }

    #[test]
    fn bold_inside_a_sentence_does_not_end_a_section() {
        let d = decision("**ACTION:**\nWe offer **strong** guarantees: audits.\nAnd more.");
        assert_eq!(
            d.action,
            "We offer **strong** guarantees: audits.\nAnd more."
        );
    }

    #[test]
    fn world_updates() {
        let w = world_update("**UPDATED STATE:**\nThe city waits.\n\n**KEY CHANGES:**\n- a\n* b\n• c\n\n**CONSEQUENCES:**\n1. x\n- None");
        assert_eq!(w.state, "The city waits.");
        assert_eq!(w.key_changes, vec!["a", "b", "c"]);
        assert_eq!(w.consequences, vec!["x"]);
        let w = world_update("Just prose.");
        assert!(w.fallback);
        assert_eq!(w.state, "Just prose.");
    }

    #[test]
    fn numbers_and_yes() {
        assert_eq!(first_number("Score: 7/10"), Some(7.0));
        assert_eq!(first_number("about -2.5 points"), Some(-2.5));
        assert_eq!(first_number("6."), Some(6.0));
        assert_eq!(first_number("none"), None);
        assert!(is_yes(" Yes, gladly"));
        assert!(is_yes("**accept**"));
        assert!(!is_yes("no"));
    }
}
