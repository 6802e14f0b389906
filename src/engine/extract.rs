//! Metric extraction from text: `pattern`, `keyword`, and the reading of `llm` answers.
//! `manual` metrics are left for people.

use crate::config::{Extraction, Metric, Scoring, ValueType};
pub use crate::schema::run::MetricRecord;

/// A number as the original read one: `5`, `2.5`, and `b^e` as a power.
fn number(text: &str) -> Option<f64> {
    let t = text.trim().replace(',', "");
    if let Some((b, e)) = t.split_once('^') {
        return Some(
            b.trim()
                .parse::<f64>()
                .ok()?
                .powf(e.trim().parse::<f64>().ok()?),
        );
    }
    t.parse::<f64>()
        .ok()
        .or_else(|| crate::engine::parse::first_number(&t))
}

/// The value of a matched or answered text, by the metric's type.
pub fn convert(m: &Metric, text: &str) -> (Option<f64>, Option<String>) {
    match m.value_type {
        ValueType::Text => (None, None),
        ValueType::Boolean => {
            let t = text.trim().to_ascii_lowercase();
            let yes = !matches!(t.as_str(), "" | "0" | "no" | "false" | "none");
            (Some(if yes { 1.0 } else { 0.0 }), None)
        }
        ValueType::Categorical => {
            let t = text.trim().to_ascii_lowercase();
            match m
                .categories
                .iter()
                .position(|c| c.to_ascii_lowercase() == t)
            {
                Some(i) => (Some(i as f64), None),
                None => match number(text) {
                    Some(i) if i >= 0.0 && (i as usize) < m.categories.len() => {
                        (Some(i.trunc()), None)
                    }
                    _ => (
                        None,
                        Some(format!("`{}` is not one of the categories", text.trim())),
                    ),
                },
            }
        }
        _ => match number(text) {
            None => (
                None,
                Some(format!(
                    "`{}` is not a number",
                    text.trim().chars().take(40).collect::<String>()
                )),
            ),
            Some(v) => match m.range {
                Some((lo, hi)) if v < lo || v > hi => (
                    Some(v.clamp(lo, hi)),
                    Some(format!("{v} was outside [{lo}, {hi}] and was clamped")),
                ),
                _ => (
                    Some(if m.value_type == ValueType::Integer {
                        v.round()
                    } else {
                        v
                    }),
                    None,
                ),
            },
        },
    }
}

/// Extracts a `pattern` or `keyword` metric from text; `None` when it does not apply or a
/// pattern finds nothing (no match means no value, not zero).
pub fn from_text(m: &Metric, text: &str, turn: u32, actor: Option<&str>) -> Option<MetricRecord> {
    let record = |value, raw: Option<String>, extraction: &str, flag| MetricRecord {
        name: m.name.clone(),
        value,
        raw,
        turn,
        actor: actor.map(str::to_string),
        extraction: extraction.to_string(),
        flag,
    };
    match &m.extraction {
        Extraction::Pattern { patterns } => {
            let mut last: Option<String> = None;
            for p in patterns {
                let Ok(re) = crate::config::compile_pattern(p) else {
                    continue;
                };
                for caps in re.captures_iter(text) {
                    let group = (1..caps.len())
                        .find_map(|i| caps.get(i).filter(|g| !g.as_str().is_empty()));
                    last = Some(
                        group
                            .or_else(|| caps.get(0))
                            .map_or(String::new(), |g| g.as_str().to_string()),
                    );
                }
            }
            let raw = last?;
            let (value, flag) = convert(m, &raw);
            Some(record(value, Some(raw), "pattern", flag))
        }
        Extraction::Keyword {
            keywords,
            patterns,
            scoring,
        } => {
            let lower = text.to_lowercase();
            let mut hits = keywords
                .iter()
                .filter(|k| !k.is_empty())
                .map(|k| lower.matches(&k.to_lowercase()).count())
                .sum::<usize>();
            for p in patterns {
                if let Ok(re) = crate::config::compile_pattern(p) {
                    hits += re.find_iter(text).count();
                }
            }
            let value = match scoring {
                Scoring::Count => hits as f64,
                Scoring::Presence => f64::from(u8::from(hits > 0)),
                Scoring::Density => {
                    let words = text.split_whitespace().count().max(1);
                    hits as f64 * 100.0 / words as f64
                }
            };
            Some(record(Some(value), None, "keyword", None))
        }
        Extraction::Llm { .. } | Extraction::Manual => None,
    }
}

/// Reads an `llm` metric's answer.
pub fn from_answer(m: &Metric, answer: &str, turn: u32, actor: Option<&str>) -> MetricRecord {
    let (value, flag) = match crate::engine::parse::first_number(answer) {
        Some(_) => convert(m, answer.trim()),
        None => (
            None,
            Some(format!(
                "the answer `{}` holds no number",
                answer.trim().chars().take(40).collect::<String>()
            )),
        ),
    };
    MetricRecord {
        name: m.name.clone(),
        value,
        raw: Some(answer.trim().chars().take(200).collect()),
        turn,
        actor: actor.map(str::to_string),
        extraction: "llm".into(),
        flag,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(kind: ValueType, extraction: Extraction) -> Metric {
        Metric {
            name: "m".into(),
            description: String::new(),
            value_type: kind,
            range: Some((0.0, 10.0)),
            categories: vec!["low".into(), "high".into()],
            unit: None,
            actor_specific: false,
            actor: None,
            extraction,
        }
    }

    #[test]
    fn pattern_takes_the_last_match_and_first_group() {
        let m = metric(
            ValueType::Continuous,
            Extraction::Pattern {
                patterns: vec![r"level[:\s]+(\d+)".into()],
            },
        );
        let r = from_text(&m, "Level: 3 ... later level 7.", 1, None).unwrap();
        assert_eq!(r.value, Some(7.0));
        assert!(from_text(&m, "nothing", 1, None).is_none());
        let m = metric(
            ValueType::Float,
            Extraction::Pattern {
                patterns: vec![r"(\d+\^\d+)".into()],
            },
        );
        let m = Metric { range: None, ..m };
        assert_eq!(
            from_text(&m, "threshold 10^3", 1, None).unwrap().value,
            Some(1000.0)
        );
        let b = metric(
            ValueType::Boolean,
            Extraction::Pattern {
                patterns: vec![r"working\s+group".into()],
            },
        );
        assert_eq!(
            from_text(&b, "a Working Group forms", 1, None)
                .unwrap()
                .value,
            Some(1.0)
        );
    }

    #[test]
    fn keyword_scorings() {
        let k = |scoring| {
            metric(
                ValueType::Continuous,
                Extraction::Keyword {
                    keywords: vec!["privacy".into()],
                    patterns: vec![],
                    scoring,
                },
            )
        };
        let text = "Privacy matters. privacy again, and more words here";
        assert_eq!(
            from_text(&k(Scoring::Count), text, 1, None).unwrap().value,
            Some(2.0)
        );
        assert_eq!(
            from_text(&k(Scoring::Presence), "none", 1, None)
                .unwrap()
                .value,
            Some(0.0)
        );
        assert_eq!(
            from_text(&k(Scoring::Density), text, 1, None)
                .unwrap()
                .value,
            Some(25.0)
        );
    }

    #[test]
    fn llm_answers_are_clamped_and_flagged() {
        let m = metric(
            ValueType::Continuous,
            Extraction::Llm {
                prompt: "p".into(),
                model: None,
            },
        );
        let r = from_answer(&m, "12", 2, Some("a"));
        assert_eq!(r.value, Some(10.0));
        assert!(r.flag.unwrap().contains("clamped"));
        let r = from_answer(&m, "I cannot tell", 2, None);
        assert_eq!(r.value, None);
        let c = metric(
            ValueType::Categorical,
            Extraction::Llm {
                prompt: "p".into(),
                model: None,
            },
        );
        assert_eq!(from_answer(&c, "1", 1, None).value, Some(1.0));
    }
}
