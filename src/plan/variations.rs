//! The variation space: the cartesian product of a batch's dimensions, walked lazily.
//!
//! A variation is identified by its index; its choice in each dimension is read off the index
//! as a mixed-radix number whose last digit is the last dimension (so the last dimension varies
//! fastest, as `itertools.product` did in the original). Nothing is materialised: a config
//! with a million combinations costs nothing until a variation is asked for.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::config::{Dimension, DimensionKind, Intervention, Scenario};

/// What a variation changes, in the original's `modifications` shape plus actor fields, and
/// the intervention it plays from a turn on (which [`apply`] leaves to the engine).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Modifications {
    /// Actor short_name to model id.
    pub actor_models: BTreeMap<String, String>,
    /// Scenario key to value.
    pub scenario_overrides: BTreeMap<String, Json>,
    /// Actor short_name to field to value.
    pub actor_overrides: BTreeMap<String, BTreeMap<String, Json>>,
    /// The arm of an `intervention` dimension and its turn: the engine applies it from that
    /// turn on, so that the turns before it are the same in every arm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intervention: Option<Intervention>,
}

/// One variation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Variation {
    /// 1-based id (`var-001`).
    pub variation_id: u64,
    /// Readable, such as `regulator=gpt-4o-mini, turns=5`.
    pub description: String,
    /// The index of the chosen value in each dimension.
    pub choices: Vec<usize>,
    /// What it changes.
    pub modifications: Modifications,
}

/// The variations of a batch.
#[derive(Debug, Clone, Copy)]
pub struct VariationSpace<'a> {
    dims: &'a [Dimension],
}

impl<'a> VariationSpace<'a> {
    /// The space of these dimensions.
    pub fn new(dims: &'a [Dimension]) -> Self {
        VariationSpace { dims }
    }

    /// How many variations (1 with no dimensions; saturates at `u64::MAX`).
    pub fn count(&self) -> u64 {
        self.dims
            .iter()
            .fold(1u64, |acc, d| acc.saturating_mul(d.values.len() as u64))
    }

    /// The choices of the variation at 0-based `index`.
    pub fn choices(&self, index: u64) -> Vec<usize> {
        let mut rest = index;
        let mut out = vec![0; self.dims.len()];
        for (i, d) in self.dims.iter().enumerate().rev() {
            let n = d.values.len().max(1) as u64;
            out[i] = (rest % n) as usize;
            rest /= n;
        }
        out
    }

    /// The variation at 0-based `index`.
    pub fn get(&self, index: u64) -> Variation {
        let choices = self.choices(index);
        Variation {
            variation_id: index + 1,
            description: describe(self.dims, &choices),
            modifications: modifications(self.dims, &choices),
            choices,
        }
    }

    /// The first `n` variations, in order.
    pub fn first(&self, n: u64) -> impl Iterator<Item = Variation> + '_ {
        (0..self.count().min(n)).map(move |i| self.get(i))
    }
}

/// Every scenario a variation plays: the one [`apply`] gives, and the one from its
/// intervention's turn on, when it has one (for the models a batch calls and their prices).
pub fn scenarios(base: &Scenario, m: &Modifications) -> Result<Vec<Scenario>, String> {
    let before = apply(base, m)?;
    let after = m
        .intervention
        .as_ref()
        .map(|i| i.apply(&before))
        .transpose()?;
    Ok(std::iter::once(before).chain(after).collect())
}

/// The (variation id, run number) of a run id, the inverse of [`run_id`]: `var-002-run-003` is
/// (2, 3). Both count from 1.
pub fn parse_run_id(name: &str) -> Option<(u64, u64)> {
    let (v, r) = name.strip_prefix("var-")?.split_once("-run-")?;
    let (v, r): (u64, u64) = (v.parse().ok()?, r.parse().ok()?);
    (v >= 1 && r >= 1).then_some((v, r))
}

/// The value as it reads in a description: a model id after its last `/`, text as is.
fn short_value(kind: &DimensionKind, value: &Json) -> String {
    match (kind, value) {
        (DimensionKind::ActorModel { .. }, Json::String(m)) => {
            m.rsplit('/').next().unwrap_or(m).to_string()
        }
        (_, Json::String(s)) => {
            let one_line = s.lines().next().unwrap_or("").trim();
            if one_line.chars().count() > 30 || s.lines().count() > 1 {
                format!("\"{}…\"", one_line.chars().take(30).collect::<String>())
            } else {
                one_line.to_string()
            }
        }
        (_, other) => other.to_string(),
    }
}

/// `regulator=gpt-4o-mini, turns=5`; `Base configuration` with no dimensions.
pub fn describe(dims: &[Dimension], choices: &[usize]) -> String {
    if dims.is_empty() {
        return "Base configuration".to_string();
    }
    dims.iter()
        .zip(choices)
        .map(|(d, &c)| format!("{}={}", d.label(), short_value(&d.kind, &d.values[c])))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a choice of values changes.
pub fn modifications(dims: &[Dimension], choices: &[usize]) -> Modifications {
    let mut m = Modifications::default();
    for (d, &c) in dims.iter().zip(choices) {
        let value = d.values[c].clone();
        match &d.kind {
            DimensionKind::ActorModel { actor } => {
                m.actor_models.insert(
                    actor.clone(),
                    value.as_str().unwrap_or_default().to_string(),
                );
            }
            DimensionKind::ScenarioParameter { parameter } => {
                m.scenario_overrides.insert(parameter.clone(), value);
            }
            DimensionKind::ActorParameter { actor, parameter } => {
                m.actor_overrides
                    .entry(actor.clone())
                    .or_default()
                    .insert(parameter.clone(), value);
            }
            DimensionKind::Intervention { at_turn, arms } => {
                m.intervention = Some(Intervention {
                    at_turn: *at_turn,
                    arm: arms[c].clone(),
                });
            }
        }
    }
    m
}

/// The scenario a variation runs (up to its intervention's turn, if it has one): the base with
/// its modifications applied. The values were checked when the config loaded, so an error here
/// means the base scenario changed since.
pub fn apply(base: &Scenario, m: &Modifications) -> Result<Scenario, String> {
    let mut s = base.clone();
    for (key, value) in &m.scenario_overrides {
        s.set_parameter(key, value)
            .map_err(|e| format!("{key}: {e}"))?;
    }
    for (actor, model) in &m.actor_models {
        let i = s
            .find_actor(actor)
            .ok_or_else(|| format!("no actor `{actor}`"))?;
        s.actors[i].model = model.clone();
    }
    for (actor, fields) in &m.actor_overrides {
        let i = s
            .find_actor(actor)
            .ok_or_else(|| format!("no actor `{actor}`"))?;
        for (field, value) in fields {
            s.actors[i]
                .set_parameter(field, value)
                .map_err(|e| format!("{actor}.{field}: {e}"))?;
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dims() -> Vec<Dimension> {
        vec![
            Dimension {
                kind: DimensionKind::ActorModel {
                    actor: "regulator".into(),
                },
                values: vec![
                    json!("openai/gpt-4o-mini"),
                    json!("anthropic/claude-3-haiku"),
                ],
            },
            Dimension {
                kind: DimensionKind::ScenarioParameter {
                    parameter: "turns".into(),
                },
                values: vec![json!(3), json!(5), json!(8)],
            },
        ]
    }

    #[test]
    fn product_in_declaration_order_last_fastest() {
        let d = dims();
        let space = VariationSpace::new(&d);
        assert_eq!(space.count(), 6);
        let all: Vec<Vec<usize>> = (0..6).map(|i| space.choices(i)).collect();
        assert_eq!(
            all,
            vec![
                vec![0, 0],
                vec![0, 1],
                vec![0, 2],
                vec![1, 0],
                vec![1, 1],
                vec![1, 2]
            ]
        );
        let v = space.get(4);
        assert_eq!(v.variation_id, 5);
        assert_eq!(v.description, "regulator=claude-3-haiku, turns=5");
        assert_eq!(
            v.modifications.actor_models["regulator"],
            "anthropic/claude-3-haiku"
        );
        assert_eq!(v.modifications.scenario_overrides["turns"], json!(5));
    }

    #[test]
    fn no_dimensions_is_one_base_variation() {
        let space = VariationSpace::new(&[]);
        assert_eq!(space.count(), 1);
        assert_eq!(space.get(0).description, "Base configuration");
    }

    #[test]
    fn a_million_combinations_are_not_materialised() {
        let values: Vec<Json> = (0..10).map(|i| json!(format!("m/{i}"))).collect();
        let d: Vec<Dimension> = (0..6)
            .map(|i| Dimension {
                kind: DimensionKind::ActorModel {
                    actor: format!("a{i}"),
                },
                values: values.clone(),
            })
            .collect();
        let space = VariationSpace::new(&d);
        assert_eq!(space.count(), 1_000_000);
        let last = space.get(999_999);
        assert_eq!(last.choices, vec![9; 6]);
        assert_eq!(last.variation_id, 1_000_000);
        assert_eq!(space.get(123_456).choices, vec![1, 2, 3, 4, 5, 6]);
    }
}
