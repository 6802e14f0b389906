//! The original Python Scenario Lab's run files, V1 and V2 (described, with examples, in
//! `tests/fixtures/original-output/`), read into what the analysis takes of a run:
//! [`SeenState`] from a `scenario-state.json`, [`SeenMetric`]s from a `metrics.json`, a total
//! from a `costs.json`, and the variations (and, of ours, the stopping record) of a
//! `batch-state.json`. Our own files are read through their types
//! ([`ScenarioState`], [`Metrics`]) and converted here to the same view, so the analysis has one
//! way to take a run whoever wrote it.
//!
//! The original's files are loose (fields of any type, missing, renamed between versions), so
//! they are read as untyped JSON here and nowhere else: a field of an unexpected type is
//! ignored rather than fatal, and every other field (V1's whole world history) is skipped
//! without being built.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::batch::StoppingRecord;
use super::run::{Metrics, ScenarioState};
use super::RunStatus;
use crate::plan::variations::Modifications;

/// Which tool wrote a run's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// Scenario Lab (this tool).
    Ours,
    /// The original Python tool, V1 run files.
    OriginalV1,
    /// The original Python tool, V2 run files.
    OriginalV2,
}

/// A run's `scenario-state.json` as the analysis reads it, whichever tool wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeenState {
    /// Who wrote it.
    pub writer: Writer,
    /// How the run ended; `None` when the file has no status this version knows.
    pub status: Option<RunStatus>,
    /// Turns completed.
    pub turns: u64,
    /// The halt reason, else the error (at most 200 characters of text).
    pub reason: Option<String>,
    /// The run's total from its state, USD (finite, not negative).
    pub cost: Option<f64>,
    /// What the run's variation changes, when the state says.
    pub modifications: Option<Modifications>,
    /// Replies cut at their output cap.
    pub truncated_replies: u64,
    /// Replies longer than their cap.
    pub over_cap_replies: u64,
    /// The run's seed, when the state records one: runs of different variations that share a
    /// seed saw the same random draws, which is what makes a paired design.
    pub seed: Option<u64>,
    /// The block the writer put the run in (ours: `spec.block`, set in a paired batch).
    pub block: Option<u32>,
}

impl From<ScenarioState> for SeenState {
    fn from(s: ScenarioState) -> SeenState {
        let reason = s.standing.halt_reason.map(|h| h.as_str().to_string());
        SeenState {
            writer: Writer::Ours,
            status: Some(s.standing.status),
            turns: u64::from(s.standing.current_turn),
            reason: reason.or_else(|| s.standing.error.as_deref().map(short)),
            cost: Some(s.total_cost).filter(|x| x.is_finite() && *x >= 0.0),
            modifications: Some(s.spec.modifications),
            truncated_replies: s.truncated_replies,
            over_cap_replies: s.over_cap_replies,
            seed: Some(s.seed),
            block: s.spec.block,
        }
    }
}

/// At most 200 characters of a reason or an error.
fn short(text: &str) -> String {
    text.chars().take(200).collect()
}

/// A `scenario-state.json` of any writer: ours as a [`ScenarioState`]; else as the original's
/// V1 or V2. A state with our `spec` that is not a whole `ScenarioState` (written by hand, or by
/// a test) is read the loose way too, and keeps its spec's modifications.
///
/// The original's states are parsed twice (once as ours); ours, the common case, once.
pub fn state(text: &str) -> Result<SeenState, serde_json::Error> {
    if let Ok(ours) = ScenarioState::parse(text) {
        return Ok(ours.into());
    }
    let s: LooseState = serde_json::from_str(text)?;
    let v2 = s.current_phase.is_some() || s.scenario_id.is_some();
    let writer = if s.spec.is_some() {
        Writer::Ours
    } else if v2 {
        Writer::OriginalV2
    } else {
        Writer::OriginalV1
    };
    let turns = [&s.current_turn, &s.turn]
        .iter()
        .find_map(|v| v.as_ref().and_then(Value::as_u64))
        .unwrap_or(0);
    let mut status = s
        .status
        .as_ref()
        .and_then(|v| RunStatus::deserialize(v).ok());
    if v2 && status == Some(RunStatus::Running) {
        // The original V2 runner never updates `status` after its last turn; a run that
        // reached its planned turn count is complete.
        let planned = s
            .scenario_config
            .as_ref()
            .and_then(|c| c.get("turns").or_else(|| c.get("num_turns")))
            .and_then(Value::as_u64);
        if planned.is_some_and(|p| p > 0 && turns >= p) {
            status = Some(RunStatus::Completed);
        }
    }
    let text_of = |v: &Option<Value>| match v {
        Some(Value::String(s)) if !s.is_empty() => Some(short(s)),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    let cost = s
        .total_cost
        .as_ref()
        .and_then(Value::as_f64)
        .or_else(|| s.cost_tracker_state.as_ref()?.get("total_cost")?.as_f64())
        .filter(|x| x.is_finite() && *x >= 0.0);
    Ok(SeenState {
        writer,
        status,
        turns,
        reason: text_of(&s.halt_reason).or_else(|| text_of(&s.error)),
        cost,
        modifications: s
            .spec
            .as_ref()
            .and_then(|spec| spec.get("modifications"))
            .map(modifications),
        truncated_replies: s.truncated_replies.unwrap_or(0),
        over_cap_replies: s.over_cap_replies.unwrap_or(0),
        seed: s
            .seed
            .as_ref()
            .or_else(|| s.spec.as_ref()?.get("seed"))
            .and_then(seed),
        block: s
            .spec
            .as_ref()
            .and_then(|spec| spec.get("block"))
            .and_then(Value::as_u64)
            .and_then(|b| u32::try_from(b).ok()),
    })
}

/// A seed as written: a whole number, a negative one (Python's `random.seed` takes any
/// integer) kept by its bits, since a seed is only ever compared with another.
fn seed(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_i64().map(|i| i as u64))
}

/// The fields of a state the analysis reads, of any writer (V1, V2, and ours when not whole).
/// Leaves are `Value`s so that a field of an unexpected type is ignored rather than fatal.
#[derive(Deserialize)]
struct LooseState {
    status: Option<Value>,
    halt_reason: Option<Value>,
    error: Option<Value>,
    current_turn: Option<Value>,
    turn: Option<Value>,
    spec: Option<Value>,
    current_phase: Option<IgnoredAny>,
    scenario_id: Option<IgnoredAny>,
    scenario_config: Option<Value>,
    total_cost: Option<Value>,
    cost_tracker_state: Option<Value>,
    truncated_replies: Option<u64>,
    over_cap_replies: Option<u64>,
    /// The run's seed (ours, and the original's when it wrote one); else the spec's `seed`.
    seed: Option<Value>,
}

/// A variation's `modifications` of the original's shape (ours is the same, plus actor fields),
/// keeping what has the expected shape: a model is text (any other value is written as JSON).
fn modifications(v: &Value) -> Modifications {
    let object = |v: Option<&Value>| v.and_then(Value::as_object).cloned().unwrap_or_default();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Modifications {
        actor_models: object(v.get("actor_models"))
            .iter()
            .map(|(actor, model)| (actor.clone(), text(model)))
            .collect(),
        scenario_overrides: object(v.get("scenario_overrides")).into_iter().collect(),
        actor_overrides: object(v.get("actor_overrides"))
            .into_iter()
            .filter_map(|(actor, params)| match params {
                Value::Object(p) => Some((actor, p.into_iter().collect())),
                _ => None,
            })
            .collect(),
        intervention: v
            .get("intervention")
            .and_then(|i| serde_json::from_value(i.clone()).ok()),
    }
}

/// One value of a run's metrics, as the analysis takes them: in the order the file gives them
/// (which decides the order in which metrics are first seen).
#[derive(Debug, Clone, PartialEq)]
pub enum SeenMetric {
    /// A metric's final value; `None` when it is not a number.
    Final {
        /// The metric key.
        name: String,
        /// Its value.
        value: Option<f64>,
    },
    /// A numeric value of one turn.
    Turn {
        /// The metric key.
        name: String,
        /// The turn.
        turn: u64,
        /// Its value.
        value: f64,
    },
}

/// Our `metrics.json`: the final values, then each turn's.
pub fn seen_metrics(m: &Metrics) -> Vec<SeenMetric> {
    let finals = m.final_metrics.iter().map(|(name, v)| SeenMetric::Final {
        name: name.clone(),
        value: v.number(),
    });
    let turns = m.metrics_by_turn.iter().flat_map(|(turn, values)| {
        values.iter().filter_map(move |(name, v)| {
            Some(SeenMetric::Turn {
                name: name.clone(),
                turn: u64::from(*turn),
                value: v.number()?,
            })
        })
    });
    finals.chain(turns).collect()
}

/// The original's `metrics.json`: V1's `final_metrics` and `metrics_by_turn` maps, or V2's list
/// of `{name, value, turn}` records, whose final value of a metric is its record with the
/// highest turn.
pub fn metrics(text: &str) -> Result<Vec<SeenMetric>, serde_json::Error> {
    let mut out = Vec::new();
    if text.trim_start().starts_with('[') {
        let records: Vec<MetricRecordV2> = serde_json::from_str(text)?;
        let mut last: BTreeMap<&str, (u64, Option<f64>)> = BTreeMap::new();
        for r in &records {
            let (Some(name), Some(value)) = (r.name.as_ref().and_then(Value::as_str), &r.value)
            else {
                continue;
            };
            let turn = r.turn.as_ref().and_then(Value::as_u64).unwrap_or(0);
            let x = number(value);
            if let Some(value) = x {
                out.push(SeenMetric::Turn {
                    name: name.to_string(),
                    turn,
                    value,
                });
            }
            let slot = last.entry(name).or_insert((turn, x));
            if turn >= slot.0 {
                *slot = (turn, x);
            }
        }
        out.extend(
            last.into_iter()
                .map(|(name, (_, value))| SeenMetric::Final {
                    name: name.to_string(),
                    value,
                }),
        );
        return Ok(out);
    }
    let maps: MetricMapsV1 = serde_json::from_str(text)?;
    for (name, value) in maps.final_metrics.iter().flatten() {
        out.push(SeenMetric::Final {
            name: name.clone(),
            value: number(value),
        });
    }
    for (turn, values) in maps.metrics_by_turn.iter().flatten() {
        let Ok(turn) = turn.parse::<u64>() else {
            continue;
        };
        for (name, value) in values.as_object().into_iter().flatten() {
            if let Some(value) = number(value) {
                out.push(SeenMetric::Turn {
                    name: name.clone(),
                    turn,
                    value,
                });
            }
        }
    }
    Ok(out)
}

/// A metric value as a number: numbers and booleans (as the original counted them); text such
/// as "NaN" or "high" is not a measurement.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64().filter(|x| x.is_finite()),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

#[derive(Deserialize)]
struct MetricMapsV1 {
    final_metrics: Option<Map<String, Value>>,
    metrics_by_turn: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
struct MetricRecordV2 {
    name: Option<Value>,
    value: Option<Value>,
    turn: Option<Value>,
}

/// The total of the original's `costs.json`, USD: V2's `total_cost`, V1's
/// `totals.total_cost_usd` (V1 has no top-level total); `total_cost_nanos` first, for a file of
/// ours beside a state that is not.
pub fn total_cost(text: &str) -> Result<Option<f64>, serde_json::Error> {
    #[derive(Deserialize)]
    struct CostsFile {
        total_cost_nanos: Option<Value>,
        total_cost: Option<Value>,
        totals: Option<Value>,
    }
    let c: CostsFile = serde_json::from_str(text)?;
    if let Some(nanos) = c.total_cost_nanos.as_ref().and_then(Value::as_u64) {
        return Ok(Some(nanos as f64 / 1e9));
    }
    Ok(c.total_cost
        .as_ref()
        .and_then(Value::as_f64)
        .or_else(|| c.totals.as_ref()?.get("total_cost_usd")?.as_f64())
        .filter(|x| x.is_finite() && *x >= 0.0))
}

/// What the analysis takes of a `batch-state.json`: the experiment's name, the original's
/// list of variations (ours lists none: its variations are in `batch-costs.json`), and our
/// stopping rule's record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeenBatchState {
    /// `experiment_name`.
    pub experiment_name: Option<String>,
    /// Each variation: id, description, modifications.
    pub variations: Vec<(u64, Option<String>, Option<Modifications>)>,
    /// Our `stopping` record when the file has one: read whole, since a sequential design is
    /// reported from its looks; the error's text when it is not of the expected shape.
    pub stopping: Option<Result<StoppingRecord, String>>,
}

/// A `batch-state.json`, of either writer (the text must be JSON; any shape is taken).
pub fn batch_state(text: &str) -> Result<SeenBatchState, serde_json::Error> {
    let state: Value = serde_json::from_str(text)?;
    let text_at = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(String::from);
    let variations = state
        .get("variations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| {
            let id = v.get("variation_id").and_then(Value::as_u64)?;
            Some((
                id,
                text_at(v, "description"),
                v.get("modifications").map(modifications),
            ))
        })
        .collect();
    let stopping = state
        .get("stopping")
        .filter(|v| !v.is_null())
        .map(|v| StoppingRecord::deserialize(v).map_err(|e| e.to_string()));
    Ok(SeenBatchState {
        experiment_name: text_at(&state, "experiment_name"),
        variations,
        stopping,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_gives_its_seed_and_block_when_it_has_them() {
        let seen = |text: &str| {
            let s = state(text).unwrap();
            (s.seed, s.block)
        };
        assert_eq!(
            seen(r#"{"status": "completed", "seed": 42}"#),
            (Some(42), None)
        );
        // Python's random.seed takes negative integers: kept by their bits.
        assert_eq!(
            seen(r#"{"status": "completed", "seed": -1}"#),
            (Some(u64::MAX), None)
        );
        assert_eq!(
            seen(r#"{"status": "completed", "spec": {"seed": 7, "block": 3}}"#),
            (Some(7), Some(3))
        );
        assert_eq!(
            seen(r#"{"status": "completed", "seed": "abc", "spec": {"block": -2}}"#),
            (None, None)
        );
    }

    #[test]
    fn a_batch_state_gives_its_stopping_record() {
        let s = batch_state(
            r#"{"stopping": {"rule": {"rule": "precision", "metric": "m", "target_half_width": 0.5},
                             "stopped": []}}"#,
        )
        .unwrap();
        assert!(matches!(s.stopping, Some(Ok(ref r)) if r.rule.metric() == "m"));
        let s = batch_state(r#"{"stopping": {"rule": 3}}"#).unwrap();
        assert!(matches!(s.stopping, Some(Err(_))));
        assert_eq!(batch_state(r#"{"stopping": null}"#).unwrap().stopping, None);
    }
}
