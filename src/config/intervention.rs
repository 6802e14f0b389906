//! `type: intervention` variations: "what if X happens at turn k?". Owns the keys of an
//! intervention and of its arms (one table each, which feed the unknown-key errors and their
//! "did you mean"), their checks against the scenario, the [`Arm`] and [`Intervention`] types,
//! and what an arm changes in a scenario ([`Intervention::apply`]).
//!
//! An intervention is one dimension whose values are its arms. Every arm plays the same scenario
//! up to turn `at_turn` − 1; at the start of turn `at_turn` its change takes effect (nothing, for
//! a control arm). So the turns before `at_turn` are the same in every arm: the batch runs them
//! once per run number, in the first arm's run, and branches every other arm from it
//! (`batch/prefix.rs`); the engine applies the change from `at_turn` only (`engine/timeline.rs`),
//! so that the prompts of earlier turns are the same bytes in every arm and are replayed.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::fields::{self, Key};
use super::{EventKind, ExogenousEvent, Scenario, SCENARIO_KEYS};
use crate::diag::{describe, Detail, FileDiags};
use crate::yaml::Node;

/// The keys of an `intervention` variation.
pub const INTERVENTION_KEYS: &[Key] = &[
    Key {
        name: "type",
        aliases: &[],
        doc: "intervention",
    },
    Key {
        name: "at_turn",
        aliases: &[],
        doc: "the turn at whose start the arms' changes take effect, from 2 to the scenario's turns; the turns before it are run once and shared by every arm",
    },
    Key {
        name: "arms",
        aliases: &[],
        doc: "the arms: each a `name` and what changes (nothing, for a control arm); the first arm's runs are run whole, every other arm branches from them",
    },
];

/// The keys of one arm of an intervention.
pub const ARM_KEYS: &[Key] = &[
    Key {
        name: "name",
        aliases: &[],
        doc: "the arm's name, unique in the intervention; variations read `intervention@<at_turn>=<name>` (required)",
    },
    Key {
        name: "event",
        aliases: &[],
        doc: "an exogenous event at turn at_turn, named after the arm: its text goes to that turn's world update and world-state file like the scenario's own events",
    },
    Key {
        name: "world_state",
        aliases: &[],
        doc: "text appended (after a blank line) to the world state that turn at_turn starts from: that turn's actors and world update, and every later turn, read it; earlier world-state files are unchanged",
    },
    Key {
        name: "actor",
        aliases: &[],
        doc: "the actor (short_name) whose `model` or `goals` change",
    },
    Key {
        name: "model",
        aliases: &["llm_model"],
        doc: "with `actor`: the model that plays the actor from turn at_turn",
    },
    Key {
        name: "goals",
        aliases: &[],
        doc: "with `actor`: the actor's goals from turn at_turn (a list, or text one goal a line), instead of its file's",
    },
    Key {
        name: "parameter",
        aliases: &[],
        doc: "a scenario.yaml key (not `turns` or `initial_world_state`) that takes `value` from turn at_turn",
    },
    Key {
        name: "value",
        aliases: &[],
        doc: "with `parameter`: its value from turn at_turn",
    },
];

/// Scenario keys an arm may not change: they mean nothing after the run has started (the run's
/// length is fixed by its spec and the shared turns; the initial world is turn 0's).
const FIXED_KEYS: &[&str] = &[
    "turns",
    "scenario_length",
    "initial_world_state",
    "actors",
    "features",
];

/// One arm of an intervention: its name, and what changes at the intervention's turn. Every
/// change is optional and they combine; an arm with none is a control.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Arm {
    /// Its name, unique in the intervention.
    pub name: String,
    /// An exogenous event's text, at the intervention's turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// Text appended to the world state the intervention's turn starts from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world_state: Option<String>,
    /// The actor (short_name) whose model or goals change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The actor's model from the intervention's turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The actor's goals from the intervention's turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goals: Option<Vec<String>>,
    /// A scenario key that changes at the intervention's turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// Its value from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Json>,
}

impl Arm {
    /// Whether the arm changes nothing (a control arm).
    pub fn is_control(&self) -> bool {
        self.event.is_none()
            && self.world_state.is_none()
            && self.model.is_none()
            && self.goals.is_none()
            && self.parameter.is_none()
    }

    /// What the arm changes, in words (`an event, the goals of city-manager`), for run logs.
    pub fn changes(&self) -> String {
        let actor = self.actor.as_deref().unwrap_or("?");
        let parts: Vec<String> = [
            self.event.as_ref().map(|_| "an event".to_string()),
            self.world_state
                .as_ref()
                .map(|_| "text added to the world state".to_string()),
            self.model
                .as_ref()
                .map(|m| format!("the model of {actor} ({m})")),
            self.goals.as_ref().map(|_| format!("the goals of {actor}")),
            self.parameter
                .as_ref()
                .map(|p| format!("the scenario's `{p}`")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if parts.is_empty() {
            "nothing (a control arm)".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// An intervention as a run carries it, in its spec's modifications: the arm it plays and the
/// turn at whose start the arm's change takes effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Intervention {
    /// The turn at whose start the change takes effect (2 or more).
    pub at_turn: u32,
    /// The arm.
    pub arm: Arm,
}

impl Intervention {
    /// The scenario from turn `at_turn` on: `before` with the arm's model, goals, parameter and
    /// event. (Its `world_state` text is not part of a scenario: the engine appends it to the
    /// world state when the turn starts.) An error means the scenario changed since the config
    /// was checked.
    pub fn apply(&self, before: &Scenario) -> Result<Scenario, String> {
        let arm = &self.arm;
        let mut s = before.clone();
        if let Some(actor) = &arm.actor {
            let i = s
                .find_actor(actor)
                .ok_or_else(|| format!("intervention `{}`: no actor `{actor}`", arm.name))?;
            if let Some(m) = &arm.model {
                s.actors[i].model = m.clone();
            }
            if let Some(g) = &arm.goals {
                let a = &mut s.actors[i];
                a.goals = g.clone();
                // An actor with its own system prompt is that prompt: the engine builds a
                // persona from the goals only for actors without one. The new goals must reach
                // the actor all the same, so they are added to its prompt.
                if let Some(prompt) = &mut a.system_prompt {
                    let list: String = g.iter().map(|goal| format!("\n- {goal}")).collect();
                    prompt.push_str(&format!("\n\nYour goals now:{list}"));
                }
            }
        }
        if let (Some(p), Some(v)) = (&arm.parameter, &arm.value) {
            s.set_parameter(p, v)
                .map_err(|e| format!("intervention `{}`: {p}: {e}", arm.name))?;
        }
        if let Some(text) = &arm.event {
            // Not `once`: a scenario event of the same name that fired must not silence it.
            s.events.push(ExogenousEvent {
                name: arm.name.clone(),
                description: text.clone(),
                kind: EventKind::Scheduled {
                    turns: vec![self.at_turn],
                },
                turn_range: None,
                once: false,
            });
        }
        Ok(s)
    }
}

/// An intervention as written, before the scenario is known.
pub(super) struct Raw<'n> {
    at_turn: Option<(i64, &'n Node)>,
    arms: Vec<RawArm<'n>>,
}

impl Raw<'_> {
    /// Its turn and where it is written, when it is a whole number.
    pub(super) fn at_turn(&self) -> Option<(i64, &Node)> {
        self.at_turn
    }
}

/// An arm as written.
struct RawArm<'n> {
    node: &'n Node,
    prefix: String,
    name: Option<(String, &'n Node)>,
    event: Option<(String, &'n Node)>,
    world_state: Option<(String, &'n Node)>,
    actor: Option<(String, &'n Node)>,
    model: Option<(String, &'n Node)>,
    goals: Option<(Vec<String>, &'n Node)>,
    parameter: Option<(String, &'n Node)>,
    value: Option<(Json, &'n Node)>,
}

/// Reads an `intervention` variation (its `type` already read) at `prefix`
/// (`variations[2]`).
pub(super) fn read<'n>(d: &mut FileDiags, item: &'n Node, prefix: &str) -> Raw<'n> {
    let f = fields::read(
        d,
        item,
        INTERVENTION_KEYS,
        true,
        &format!("`{prefix}`"),
        prefix,
    );
    let at_turn = match f.value("at_turn") {
        Some(n) => match n.as_i64() {
            Some(t) => Some((t, n)),
            None => {
                d.error(
                    n,
                    &format!("{prefix}.at_turn"),
                    "`at_turn` must be a whole number",
                )
                .expected("the turn at whose start the arms' changes take effect, such as 3")
                .found(describe(n));
                None
            }
        },
        None => {
            d.error(
                item,
                &format!("{prefix}.at_turn"),
                "an `intervention` variation needs `at_turn`",
            )
            .expected("at_turn: <the turn at whose start the arms' changes take effect>");
            None
        }
    };
    let arms = match f.value("arms") {
        Some(list) => match list.as_seq() {
            Some([]) | None => {
                d.error(
                    list,
                    &format!("{prefix}.arms"),
                    "`arms` must be a list of at least one arm",
                )
                .expected("a list such as [{name: baseline}, {name: leak, event: \"...\"}]")
                .found(describe(list));
                Vec::new()
            }
            Some(items) => items
                .iter()
                .enumerate()
                .map(|(i, a)| read_arm(d, a, format!("{prefix}.arms[{i}]")))
                .collect(),
        },
        None => {
            d.error(
                item,
                &format!("{prefix}.arms"),
                "an `intervention` variation needs `arms`",
            )
            .expected("arms: [{name: baseline}, {name: <another>, event: \"...\"}]");
            Vec::new()
        }
    };
    Raw { at_turn, arms }
}

fn read_arm<'n>(d: &mut FileDiags, node: &'n Node, prefix: String) -> RawArm<'n> {
    let f = fields::read(d, node, ARM_KEYS, true, &format!("`{prefix}`"), &prefix);
    let text = |d: &mut FileDiags, k: &str| {
        let n = f.get(k)?;
        let key = format!("{prefix}.{k}");
        let t = if n.is_null() {
            String::new()
        } else {
            fields::text(d, n, &key)?
        };
        if t.trim().is_empty() {
            d.error(n, &key, format!("`{k}` is empty"))
                .expected(format!("text: {}", doc(k)));
            return None;
        }
        Some((t, n))
    };
    let name = text(d, "name");
    if f.get("name").is_none() {
        d.error(node, &format!("{prefix}.name"), "this arm has no `name`")
            .expected("name: <a name for the arm, such as baseline>");
    }
    let event = text(d, "event");
    let world_state = text(d, "world_state");
    let actor = text(d, "actor");
    let model = text(d, "model");
    let parameter = text(d, "parameter");
    let goals = f.get("goals").and_then(|n| {
        let items = fields::text_list(d, n, &format!("{prefix}.goals"));
        if items.is_empty() && (n.is_null() || n.as_seq().is_some() || n.scalar_text().is_some()) {
            d.error(n, &format!("{prefix}.goals"), "`goals` is empty")
                .expected("at least one goal")
                .help("remove `goals` to keep the actor's own");
            return None;
        }
        (!items.is_empty()).then_some((items, n))
    });
    let value = f.get("value").map(|n| (n.to_json(), n));
    RawArm {
        node,
        prefix,
        name,
        event,
        world_state,
        actor,
        model,
        goals,
        parameter,
        value,
    }
}

/// The documentation line of an arm key.
fn doc(key: &str) -> &'static str {
    ARM_KEYS
        .iter()
        .find(|k| k.name == key)
        .map_or("", |k| k.doc)
}

/// Checks an intervention against the scenario: its turn is in range, its arms' names are
/// unique, their actors exist, their changes apply. `None` (with errors) when it cannot be used.
pub(super) fn check(
    d: &mut FileDiags,
    raw: &Raw,
    node: &Node,
    prefix: &str,
    scenario: &Scenario,
) -> Option<super::Dimension> {
    let mut ok = true;
    let turns = i64::from(scenario.turns);
    let at_turn = match raw.at_turn {
        Some((t, n)) if t < 2 || t > turns => {
            let why = if t < 2 {
                format!("`at_turn` is {t}, but an intervention needs at least one turn before it to share")
            } else {
                format!("`at_turn` is {t}, but the scenario has {turns} turns")
            };
            let e = d
                .error(n, &format!("{prefix}.at_turn"), why)
                .expected(format!(
                    "a turn from 2 to {turns} (turn 1 has no earlier turn for the arms to share)"
                ));
            if turns < 2 {
                e.help("the scenario has one turn: give it more `turns` to intervene in it");
            }
            None
        }
        Some((t, _)) => Some(t as u32),
        None => None,
    };
    if raw.arms.is_empty() {
        return None;
    }
    let mut arms = Vec::new();
    for (i, a) in raw.arms.iter().enumerate() {
        if let Some((name, n)) = &a.name {
            if let Some(first) = raw.arms[..i]
                .iter()
                .find_map(|b| b.name.as_ref().filter(|(x, _)| x.trim() == name.trim()))
            {
                d.error(
                    n,
                    &format!("{}.name", a.prefix),
                    format!("the arm name `{}` is used twice", name.trim()),
                )
                .expected("a name of its own for each arm")
                .found(format!("`{}` at line {} too", name.trim(), first.1.line));
                ok = false;
            }
        }
        match check_arm(d, a, scenario) {
            Some(arm) => arms.push(arm),
            None => ok = false,
        }
    }
    if raw.arms.len() == 1 && ok {
        d.warn(
            node,
            &format!("{prefix}.arms"),
            "this intervention has one arm, so it has nothing to compare",
        )
        .help("add a control arm (`- name: baseline`, no change) or another change");
    }
    let at_turn = at_turn?;
    if !ok {
        return None;
    }
    Some(super::Dimension {
        values: arms.iter().map(|a| Json::String(a.name.clone())).collect(),
        kind: super::DimensionKind::Intervention { at_turn, arms },
    })
}

fn check_arm(d: &mut FileDiags, a: &RawArm, scenario: &Scenario) -> Option<Arm> {
    let p = &a.prefix;
    let mut ok = a.name.is_some();
    let actor = match &a.actor {
        Some((name, n)) => match scenario.find_actor(name) {
            Some(i) => Some(scenario.actors[i].short_name.clone()),
            None => {
                let known: Vec<&str> = scenario
                    .actors
                    .iter()
                    .map(|x| x.short_name.as_str())
                    .collect();
                let e = d
                    .error(
                        n,
                        &format!("{p}.actor"),
                        format!("the arm names actor `{name}`, who is not in the scenario"),
                    )
                    .expected(format!(
                        "the short_name of an actor: {}",
                        known
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                if let Some(h) = crate::suggest::closest(name, known.iter().copied()) {
                    e.help(format!("did you mean `{h}`?"));
                }
                ok = false;
                None
            }
        },
        None => None,
    };
    if a.actor.is_none() {
        for (key, n) in [
            ("model", a.model.as_ref().map(|x| x.1)),
            ("goals", a.goals.as_ref().map(|x| x.1)),
        ] {
            if let Some(n) = n {
                d.error(
                    n,
                    &format!("{p}.{key}"),
                    format!("`{key}` changes an actor's, but the arm names no `actor`"),
                )
                .expected(format!(
                    "actor: <the short_name of the actor whose {key} changes>"
                ));
                ok = false;
            }
        }
    } else if a.model.is_none() && a.goals.is_none() {
        if let Some((_, n)) = &a.actor {
            d.error(
                n,
                &format!("{p}.actor"),
                "the arm names an `actor` but changes neither its `model` nor its `goals`",
            )
            .expected("`model: <model id>` or `goals: [...]` beside `actor`");
            ok = false;
        }
    }
    match (&a.parameter, &a.value) {
        (Some((param, n)), value) => {
            let canonical = SCENARIO_KEYS
                .iter()
                .find(|k| k.name == param || k.aliases.contains(&param.as_str()))
                .map(|k| k.name);
            if let Some(fixed) = canonical.filter(|k| FIXED_KEYS.contains(k)) {
                d.error(
                    n,
                    &format!("{p}.parameter"),
                    format!("an intervention cannot change `{fixed}` once the run has started"),
                )
                .expected("a scenario key that matters from a turn on, such as world_state_model, system_prompt or context_window_size")
                .help("vary it for whole runs with `type: scenario_parameter`");
                ok = false;
            } else if canonical.is_none() && !scenario.extra.contains_key(param) {
                let e = d
                    .error(
                        n,
                        &format!("{p}.parameter"),
                        format!("`{param}` is not a key of scenario.yaml"),
                    )
                    .expected("a scenario key such as world_state_model, system_prompt or context_window_size");
                if let Some(h) =
                    crate::suggest::closest(param, SCENARIO_KEYS.iter().map(|k| k.name))
                {
                    e.help(format!("did you mean `{h}`?"));
                }
                ok = false;
            } else {
                match value {
                    None => {
                        d.error(
                            a.node,
                            &format!("{p}.value"),
                            format!("the arm changes `{param}` but gives no `value`"),
                        )
                        .expected(format!("value: <the value of `{param}` from turn at_turn>"));
                        ok = false;
                    }
                    Some((v, vn)) => {
                        if let Err(why) = scenario.clone().set_parameter(param, v) {
                            d.error(
                                vn,
                                &format!("{p}.value"),
                                format!("this value cannot be used for `{param}`"),
                            )
                            .expected(why)
                            .found(describe(vn));
                            ok = false;
                        }
                    }
                }
            }
        }
        (None, Some((_, vn))) => {
            d.error(
                vn,
                &format!("{p}.value"),
                "`value` is the new value of a scenario key, but the arm names no `parameter`",
            )
            .expected("parameter: <the scenario.yaml key that takes this value>");
            ok = false;
        }
        (None, None) => {}
    }
    if !ok {
        return None;
    }
    Some(Arm {
        name: a.name.as_ref()?.0.trim().to_string(),
        event: a.event.as_ref().map(|x| x.0.clone()),
        world_state: a.world_state.as_ref().map(|x| x.0.clone()),
        actor,
        model: a.model.as_ref().map(|x| x.0.trim().to_string()),
        goals: a.goals.as_ref().map(|x| x.0.clone()),
        parameter: a.parameter.as_ref().map(|x| x.0.clone()),
        value: a.value.as_ref().map(|x| x.0.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::MemoryStorage;

    /// The quick-negotiation scenario; its actors are `council` and `swiftride`.
    fn quick() -> Scenario {
        let store = MemoryStorage::quick_negotiation();
        futures::executor::block_on(crate::config::load_scenario(&store, "s"))
            .expect("the quick scenario loads")
            .value
    }

    #[test]
    fn an_arm_changes_the_scenario_from_its_turn() {
        let s = quick();
        let arm = Arm {
            name: "leak".into(),
            event: Some("The audit leaks.".into()),
            actor: Some("council".into()),
            goals: Some(vec!["Stay in office".into()]),
            model: Some("m/new".into()),
            parameter: Some("world_state_model".into()),
            value: Some(Json::String("m/world".into())),
            ..Default::default()
        };
        let after = Intervention { at_turn: 3, arm }.apply(&s).unwrap();
        assert_eq!(after.actors[0].goals, ["Stay in office"]);
        assert_eq!(after.actors[0].model, "m/new");
        assert_eq!(after.world_state_model, "m/world");
        let e = after.events.last().unwrap();
        assert_eq!(
            (e.name.as_str(), &e.kind, e.once),
            ("leak", &EventKind::Scheduled { turns: vec![3] }, false)
        );
        assert_eq!(after.actors[1], s.actors[1], "other actors are untouched");
        let control = Intervention {
            at_turn: 3,
            arm: Arm {
                name: "baseline".into(),
                ..Default::default()
            },
        };
        assert!(control.arm.is_control());
        assert_eq!(control.apply(&s).unwrap(), s);
        assert_eq!(control.arm.changes(), "nothing (a control arm)");
    }
}
