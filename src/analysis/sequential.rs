//! A sequential design, as the analysis reports it: the batch's stopping rule and its looks
//! (`batch-state.json`'s `stopping`, written by `crate::batch::stopping`), in sentences, and,
//! for a group-sequential comparison, the p-value to cite.
//!
//! Why it matters: a comparison looked at several times and stopped when it crossed a
//! boundary is not a fixed-sample test. Its naive p-value (the comparison table's) is too
//! small; the stage-wise adjusted p-value the batch computed at the deciding look is the one
//! that holds its error rate.

use std::collections::BTreeMap;

use serde::Serialize;

use super::compute::{num, MetricComparison};
use crate::config::Stopping;
use crate::schema::batch::{Look, LookDecision, StoppingRecord};

/// What a group-sequential comparison decided, and which p-value to cite for it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SequentialResult {
    /// The two variations compared (ids), in the rule's order.
    pub compared: (u64, u64),
    /// The metric compared.
    pub metric: String,
    /// The look that stopped the design, else the last one taken; null before any look.
    pub look: Option<u32>,
    /// The looks the design allowed.
    pub looks_planned: u32,
    /// What that look decided.
    pub decision: Option<LookDecision>,
    /// The stage-wise adjusted two-sided p-value at the deciding look: the one to cite.
    pub p_adjusted: Option<f64>,
    /// The fixed-sample p-value of the same comparison in the comparison table (the test its
    /// verdict rests on, unadjusted), which ignores the interim looks.
    pub p_fixed_sample: Option<f64>,
    /// The test behind `p_fixed_sample`: `paired_t` or `welch_t`.
    pub fixed_sample_test: Option<&'static str>,
}

/// The result of a group-sequential record; `None` for a precision rule.
pub fn result(
    record: &StoppingRecord,
    comparisons: &BTreeMap<String, MetricComparison>,
) -> Option<SequentialResult> {
    let Stopping::GroupSequential {
        compare,
        metric,
        looks,
        ..
    } = &record.rule
    else {
        return None;
    };
    let deciding = deciding_look(&record.looks);
    let pair = comparisons.get(metric).and_then(|cmp| {
        cmp.pairs
            .iter()
            .find(|p| (p.a, p.b) == (compare.0, compare.1) || (p.a, p.b) == (compare.1, compare.0))
    });
    Some(SequentialResult {
        compared: *compare,
        metric: metric.clone(),
        look: deciding.map(|l| l.look),
        looks_planned: *looks,
        decision: deciding.map(|l| l.decision),
        p_adjusted: deciding.and_then(|l| l.p_adjusted),
        p_fixed_sample: pair.and_then(|p| p.headline_p()),
        fixed_sample_test: pair.map(|p| p.verdict_test),
    })
}

/// The first look that stopped the design, else the last look taken.
fn deciding_look(looks: &[Look]) -> Option<&Look> {
    looks
        .iter()
        .find(|l| l.decision != LookDecision::Continue)
        .or(looks.last())
}

/// The report's sentences on a sequential design: the rule, where it stopped and why, and
/// (group-sequential) which p-value to cite.
pub fn sentences(record: &StoppingRecord, result: Option<&SequentialResult>) -> Vec<String> {
    match &record.rule {
        Stopping::Precision {
            metric,
            target_half_width,
        } => vec![precision(record, metric, *target_half_width)],
        Stopping::GroupSequential {
            compare,
            metric,
            alpha,
            power,
            looks,
        } => {
            let planned = record
                .planned_effect
                .map(|d| format!(" at a planned standardised effect of {}", num(d)))
                .unwrap_or_default();
            let mut out = vec![format!(
                "The batch was sequential: a group-sequential comparison of variation {} and variation {} on {metric} (O'Brien–Fleming boundaries by Lan–DeMets alpha spending; two-sided α = {}, power {}{planned}; up to {looks} looks).",
                compare.0, compare.1, num(*alpha), num(*power)
            )];
            out.push(where_it_stopped(deciding_look(&record.looks), *looks));
            if let Some(r) = result {
                out.push(cite(r));
            }
            out
        }
    }
}

/// The sentence of a precision rule: its target, and which variations it stopped.
fn precision(record: &StoppingRecord, metric: &str, half_width: f64) -> String {
    let rule = format!(
        "The batch was sequential: each variation was to stop once the 95% CI of its mean {metric} was within ±{} (checked from {} completed runs on).",
        num(half_width),
        crate::config::MIN_RUNS_FOR_PRECISION
    );
    if record.stopped.is_empty() {
        return format!("{rule} No variation reached it before runs_per_variation.");
    }
    let stops: Vec<&str> = record.stopped.iter().map(|s| s.message.as_str()).collect();
    format!(
        "{rule} {}. The other variations ran to runs_per_variation.",
        stops.join("; ")
    )
}

/// Where a group-sequential design stopped, and why.
fn where_it_stopped(look: Option<&Look>, planned: u32) -> String {
    let Some(l) = look else {
        return "No look had been taken when the batch ended.".into();
    };
    let at = format!(
        "look {} of {planned}, after {} runs of each variation ({} pairs)",
        l.look, l.runs, l.pairs
    );
    let z =
        l.z.map(|z| format!("|z| = {}", num(z.abs())))
            .unwrap_or_else(|| "z could not be computed".into());
    match l.decision {
        LookDecision::Efficacy => format!(
            "It stopped at {at}, for efficacy: {z} reached the boundary {}.",
            num(l.efficacy)
        ),
        LookDecision::Futility if l.look >= planned => format!(
            "At its last look ({at}) the difference was not shown: {z}, below the boundary {}.",
            num(l.efficacy)
        ),
        LookDecision::Futility => format!(
            "It stopped at {at}, for futility: {z}, below the futility bound {}.",
            num(l.futility)
        ),
        LookDecision::Continue => format!(
            "At its latest look ({at}) neither boundary was crossed ({z}): the design had not decided when the batch ended."
        ),
    }
}

/// Which p-value to cite for the compared pair.
fn cite(r: &SequentialResult) -> String {
    let naive = match (r.p_fixed_sample, r.fixed_sample_test) {
        (Some(p), Some(test)) => format!(
            "the comparison table's {} p = {} for this pair",
            test_name(test),
            fixed(p)
        ),
        _ => "the comparison table's p-value for this pair".into(),
    };
    match r.p_adjusted {
        Some(p) => format!(
            "For variation {} against variation {} on {}, cite the stage-wise adjusted p = {}, which accounts for the looks taken; {naive} is a fixed-sample p-value, which ignores them.",
            r.compared.1,
            r.compared.0,
            r.metric,
            fixed(p),
        ),
        None => format!(
            "No stage-wise adjusted p-value exists yet; {naive} is a fixed-sample p-value, which ignores the looks taken."
        ),
    }
}

/// A p-value with four significant decimals (the citation gives the number itself).
fn fixed(p: f64) -> String {
    if p < 0.0001 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}

fn test_name(test: &str) -> &'static str {
    if test == "paired_t" {
        "paired t"
    } else {
        "Welch t"
    }
}

/// The looks as table rows: look, runs, pairs, z, efficacy and futility bounds, decision,
/// adjusted p.
pub fn look_rows(record: &StoppingRecord) -> Vec<Vec<String>> {
    record
        .looks
        .iter()
        .map(|l| {
            vec![
                l.look.to_string(),
                l.runs.to_string(),
                l.pairs.to_string(),
                l.z.map(num).unwrap_or_else(|| "–".into()),
                num(l.efficacy),
                num(l.futility),
                match l.decision {
                    LookDecision::Continue => "continue",
                    LookDecision::Efficacy => "stop: efficacy",
                    LookDecision::Futility => "stop: futility",
                }
                .into(),
                l.p_adjusted.map(fixed).unwrap_or_else(|| "–".into()),
            ]
        })
        .collect()
}
