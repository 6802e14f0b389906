//! `scenario.yaml` and `actors/*.yaml`: the world and who acts in it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::fields::{self, Key};
use super::{checks, events, metrics, read_yaml, Metric, QualityChecks};
use crate::config::ExogenousEvent;
use crate::diag::{describe, Detail, Diagnostic, FileDiags, Severity};
use crate::host::Storage;
use crate::paths;
use crate::plan::Role;
use crate::yaml::Node;

/// The keys of `scenario.yaml`. Keys marked "accepted for compatibility" come from the
/// original tool's schema and have no effect here.
pub const SCENARIO_KEYS: &[Key] = &[
    Key {
        name: "name",
        aliases: &[],
        doc: "display name (required)",
    },
    Key {
        name: "description",
        aliases: &[],
        doc: "what the scenario is about",
    },
    Key {
        name: "system_prompt",
        aliases: &[],
        doc: "given to every actor before its own prompt",
    },
    Key {
        name: "initial_world_state",
        aliases: &[],
        doc: "the world at turn 0, markdown (required)",
    },
    Key {
        name: "turns",
        aliases: &["num_turns"],
        doc: "number of turns (required; or scenario_length.turns)",
    },
    Key {
        name: "scenario_length",
        aliases: &[],
        doc: "{type: fixed, turns: N}, the original's long form of `turns`",
    },
    Key {
        name: "turn_duration",
        aliases: &[],
        doc: "what one turn stands for, e.g. \"1 month\"",
    },
    Key {
        name: "world_state_model",
        aliases: &[],
        doc: "model that narrates the world (default openai/gpt-4o-mini)",
    },
    Key {
        name: "actors",
        aliases: &[],
        doc: "the actors, by file stem or short_name",
    },
    Key {
        name: "context_window_size",
        aliases: &["context_window"],
        doc: "turns kept in full in prompts (default 3)",
    },
    Key {
        name: "enable_bilateral_communication",
        aliases: &[],
        doc: "actors may open private exchanges (default false)",
    },
    Key {
        name: "enable_coalition_formation",
        aliases: &[],
        doc: "actors may propose coalitions (default false)",
    },
    Key {
        name: "max_communications_per_turn",
        aliases: &[],
        doc: "cap on exchanges per turn (default 2)",
    },
    Key {
        name: "features",
        aliases: &[],
        doc: "the V2 feature block; `communications` is read",
    },
    Key {
        name: "background_information",
        aliases: &[],
        doc: "reference text given to actors",
    },
    Key {
        name: "enable_public_statements",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "enable_black_swans",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "allow_actor_reflection",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "parallel_action_resolution",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "communication_types",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "black_swans",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "success_criteria",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "max_tokens",
        aliases: &[],
        doc: "output caps by role, e.g. {world: 1500} (defaults: actor 800, world 1000, communication 300, metric 40, check 400, summary 600)",
    },
    Key {
        name: "schema_version",
        aliases: &[],
        doc: "metadata",
    },
    Key {
        name: "created_date",
        aliases: &[],
        doc: "metadata",
    },
    Key {
        name: "author",
        aliases: &[],
        doc: "metadata",
    },
    Key {
        name: "tags",
        aliases: &[],
        doc: "metadata",
    },
];

/// The keys of an actor file.
pub const ACTOR_KEYS: &[Key] = &[
    Key {
        name: "name",
        aliases: &[],
        doc: "full display name (required)",
    },
    Key {
        name: "short_name",
        aliases: &[],
        doc: "identifier used by variations and file names",
    },
    Key {
        name: "llm_model",
        aliases: &["model"],
        doc: "model id (required, unless a person plays the actor)",
    },
    Key {
        name: "human",
        aliases: &[],
        doc: "true: a person plays the actor, asked at each of its calls (model `human`)",
    },
    Key {
        name: "system_prompt",
        aliases: &[],
        doc: "the actor's own instructions",
    },
    Key {
        name: "description",
        aliases: &[],
        doc: "who the actor is",
    },
    Key {
        name: "role",
        aliases: &[],
        doc: "the actor's role",
    },
    Key {
        name: "goals",
        aliases: &["long_term_goals"],
        doc: "list or text",
    },
    Key {
        name: "constraints",
        aliases: &[],
        doc: "list or text",
    },
    Key {
        name: "expertise",
        aliases: &[],
        doc: "text, list or mapping",
    },
    Key {
        name: "decision_style",
        aliases: &["decision_making_style"],
        doc: "how the actor decides",
    },
    Key {
        name: "private_information",
        aliases: &[],
        doc: "what only this actor knows",
    },
    Key {
        name: "information_access",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "response_format",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "control",
        aliases: &[],
        doc: "`ai`, or `human` (the original's spelling of `human: true`)",
    },
    Key {
        name: "temperature",
        aliases: &[],
        doc: "sampling temperature for this actor's calls",
    },
    Key {
        name: "max_tokens",
        aliases: &[],
        doc: "completion cap for this actor's calls",
    },
    Key {
        name: "top_p",
        aliases: &[],
        doc: "nucleus sampling for this actor's calls",
    },
    Key {
        name: "personality_traits",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "expertise_level",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "communication_style",
        aliases: &[],
        doc: "accepted for compatibility",
    },
    Key {
        name: "preferred_coalitions",
        aliases: &[],
        doc: "accepted for compatibility",
    },
];

/// The default world model, as in the original's schema.
pub const DEFAULT_WORLD_MODEL: &str = "openai/gpt-4o-mini";

/// Who may talk to whom, and how much.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Communication {
    /// Private two-party exchanges.
    pub bilateral: bool,
    /// Coalition proposals and coalition messages.
    pub coalitions: bool,
    /// At most this many exchanges per turn.
    pub max_per_turn: u32,
}

impl Communication {
    /// Whether there is a communication phase at all.
    pub fn enabled(&self) -> bool {
        self.bilateral || self.coalitions
    }
}

/// One actor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    /// Full display name.
    pub name: String,
    /// Identifier (variations, file names).
    pub short_name: String,
    /// The file stem it was loaded from.
    pub file_stem: String,
    /// The model that plays it ([`HUMAN`](crate::llm::route::HUMAN) for a person).
    pub model: String,
    /// The line of the actor file's `human: true` (or `control: human`), for the errors that
    /// point at it; `None` when no file line made a person play it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_line: Option<u32>,
    /// Its own instructions, when given.
    pub system_prompt: Option<String>,
    /// Who it is.
    pub description: Option<String>,
    /// Its role.
    pub role: Option<String>,
    /// Its goals.
    pub goals: Vec<String>,
    /// Its constraints.
    pub constraints: Vec<String>,
    /// Its expertise, as one line of text.
    pub expertise: Option<String>,
    /// How it decides.
    pub decision_style: Option<String>,
    /// What only it knows.
    pub private_information: Option<String>,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// Completion cap.
    pub max_tokens: Option<u32>,
    /// Nucleus sampling.
    pub top_p: Option<f64>,
}

/// A scenario, loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// The folder it was loaded from.
    pub dir: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Given to every actor.
    pub system_prompt: Option<String>,
    /// The world at turn 0.
    pub initial_world_state: String,
    /// Number of turns.
    pub turns: u32,
    /// What a turn stands for.
    pub turn_duration: Option<String>,
    /// The world's narrator model.
    pub world_state_model: String,
    /// The actors, in the order of `actors:`.
    pub actors: Vec<Actor>,
    /// Turns kept in full in prompts.
    pub context_window_size: u32,
    /// The communication phase.
    pub communication: Communication,
    /// Reference text given to actors.
    pub background_information: Option<String>,
    /// `background/*.md`, by file name.
    pub background_docs: Vec<(String, String)>,
    /// `metrics.yaml`.
    pub metrics: Vec<Metric>,
    /// `exogenous-events.yaml`.
    pub events: Vec<ExogenousEvent>,
    /// `validation-rules.yaml`.
    pub checks: Option<QualityChecks>,
    /// Output caps by role (`max_tokens: {world: 1500}`), over the defaults of
    /// [`crate::plan::estimate::COMPLETION`]; a batch config's `max_tokens` is laid over these.
    #[serde(default)]
    pub max_tokens: BTreeMap<Role, u32>,
    /// Top-level keys we do not use, kept as written.
    pub extra: BTreeMap<String, Json>,
}

impl Scenario {
    /// The actor a config names: by `short_name`, then file stem, then full name.
    pub fn find_actor(&self, reference: &str) -> Option<usize> {
        let r = reference.trim();
        self.actors
            .iter()
            .position(|a| a.short_name == r)
            .or_else(|| self.actors.iter().position(|a| a.file_stem == r))
            .or_else(|| self.actors.iter().position(|a| a.name == r))
    }

    /// The output cap (`max_tokens`) a call of `role` is sent with: the actor's own
    /// `max_tokens` for its calls, else the scenario's (or batch config's) cap for the role,
    /// else the role's default. `--max-tokens` comes between the actor's and the role's; the
    /// engine applies it ([`crate::engine::RunSpec::max_tokens`]).
    pub fn cap(&self, role: Role, actor: Option<&Actor>) -> u32 {
        actor
            .and_then(|a| a.max_tokens)
            .or_else(|| self.max_tokens.get(&role).copied())
            .unwrap_or_else(|| crate::plan::estimate::default_cap(role))
    }

    /// Every model the scenario calls as written (actors, world, metrics, checks).
    pub fn models(&self) -> Vec<String> {
        let mut out: Vec<String> = self.actors.iter().map(|a| a.model.clone()).collect();
        out.push(self.world_state_model.clone());
        for m in &self.metrics {
            if let super::Extraction::Llm {
                model: Some(model), ..
            } = &m.extraction
            {
                out.push(model.clone());
            }
        }
        if let Some(c) = &self.checks {
            if let Some(model) = &c.model {
                out.push(model.clone());
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Each seat a person plays, and where that was set (`human: true` and its line, else
    /// `--human`), for a host's refusal when it has nobody to ask.
    pub fn person_seats(&self) -> Vec<String> {
        self.actors
            .iter()
            .filter(|a| a.is_human())
            .map(|a| match a.human_line {
                Some(line) => format!(
                    "`{}` (human: true in {}/actors/{}.yaml, line {line})",
                    a.short_name, self.dir, a.file_stem
                ),
                None => format!("`{}` (--human {})", a.short_name, a.short_name),
            })
            .collect()
    }

    /// Plays every call with `model`: the actors, the world, the metrics and the checks that
    /// name their own (a batch config's `all_models`).
    pub fn use_one_model(&mut self, model: &str) {
        // A seat a person plays stays theirs.
        for a in self.actors.iter_mut().filter(|a| !a.is_human()) {
            a.model = model.to_string();
        }
        self.world_state_model = model.to_string();
        for m in &mut self.metrics {
            if let super::Extraction::Llm {
                model: Some(own), ..
            } = &mut m.extraction
            {
                *own = model.to_string();
            }
        }
        if let Some(c) = &mut self.checks {
            if c.model.is_some() {
                c.model = Some(model.to_string());
            }
        }
    }

    /// Sets a top-level scenario key (a `scenario_parameter` variation). Known keys are checked
    /// and typed; any other key is kept in `extra`.
    pub fn set_parameter(&mut self, key: &str, value: &Json) -> Result<(), String> {
        let canonical = SCENARIO_KEYS
            .iter()
            .find(|k| k.name == key || k.aliases.contains(&key))
            .map_or(key, |k| k.name);
        match canonical {
            "name" => self.name = json_text(value)?,
            "description" => self.description = Some(json_text(value)?),
            "system_prompt" => self.system_prompt = Some(json_text(value)?),
            "initial_world_state" => self.initial_world_state = json_text(value)?,
            "turn_duration" => self.turn_duration = Some(json_text(value)?),
            "world_state_model" => self.world_state_model = json_text(value)?,
            "background_information" => self.background_information = Some(json_text(value)?),
            "turns" => self.turns = json_count(value, 1)?,
            "context_window_size" => self.context_window_size = json_count(value, 1)?,
            "max_communications_per_turn" => {
                self.communication.max_per_turn = json_count(value, 0)?
            }
            "enable_bilateral_communication" => self.communication.bilateral = json_bool(value)?,
            "enable_coalition_formation" => self.communication.coalitions = json_bool(value)?,
            "actors" | "scenario_length" | "features" => {
                return Err(format!(
                    "`{canonical}` cannot be varied; vary `turns`, the communication flags or an actor's fields instead"
                ))
            }
            other => {
                self.extra.insert(other.to_string(), value.clone());
            }
        }
        Ok(())
    }
}

impl Actor {
    /// Whether a person plays it.
    pub fn is_human(&self) -> bool {
        self.model == crate::llm::route::HUMAN
    }

    /// Sets an actor field (an `actor_parameter` variation).
    pub fn set_parameter(&mut self, key: &str, value: &Json) -> Result<(), String> {
        let canonical = ACTOR_KEYS
            .iter()
            .find(|k| k.name == key || k.aliases.contains(&key))
            .map(|k| k.name)
            .ok_or_else(|| format!("actors have no field `{key}`"))?;
        match canonical {
            "llm_model" => self.model = json_text(value)?,
            "system_prompt" => self.system_prompt = Some(json_text(value)?),
            "description" => self.description = Some(json_text(value)?),
            "role" => self.role = Some(json_text(value)?),
            "goals" => self.goals = json_list(value)?,
            "constraints" => self.constraints = json_list(value)?,
            "expertise" => self.expertise = Some(json_text(value)?),
            "decision_style" => self.decision_style = Some(json_text(value)?),
            "private_information" => self.private_information = Some(json_text(value)?),
            "temperature" => self.temperature = Some(json_number(value, 0.0, 2.0)?),
            "top_p" => self.top_p = Some(json_number(value, 0.0, 1.0)?),
            "max_tokens" => self.max_tokens = Some(json_count(value, 1)?),
            other => {
                return Err(format!(
                    "`{other}` cannot be varied (it has no effect on a run)"
                ))
            }
        }
        Ok(())
    }
}

fn json_text(v: &Json) -> Result<String, String> {
    match v {
        Json::String(s) => Ok(s.clone()),
        Json::Number(n) => Ok(n.to_string()),
        Json::Bool(b) => Ok(b.to_string()),
        _ => Err("expected text".to_string()),
    }
}

fn json_count(v: &Json, min: u64) -> Result<u32, String> {
    match v.as_u64() {
        Some(n) if n >= min && n <= u32::MAX as u64 => Ok(n as u32),
        _ => Err(format!(
            "expected a whole number of at least {min}, found {v}"
        )),
    }
}

fn json_bool(v: &Json) -> Result<bool, String> {
    v.as_bool()
        .ok_or_else(|| format!("expected true or false, found {v}"))
}

fn json_number(v: &Json, lo: f64, hi: f64) -> Result<f64, String> {
    match v.as_f64() {
        Some(x) if (lo..=hi).contains(&x) => Ok(x),
        _ => Err(format!("expected a number from {lo} to {hi}, found {v}")),
    }
}

fn json_list(v: &Json) -> Result<Vec<String>, String> {
    match v {
        Json::Array(items) => items.iter().map(json_text).collect(),
        Json::String(s) => Ok(fields::text_items(s)),
        _ => Err("expected a list of text items".to_string()),
    }
}

/// Loads the scenario folder `dir`.
pub(super) async fn load<S: Storage>(
    storage: &S,
    dir: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Scenario> {
    let path = paths::join(dir, "scenario.yaml");
    let Some((text, root)) = read_yaml(storage, &path, diags).await else {
        if !diags.iter().any(|d| d.file == path) {
            let msg = if storage.exists(dir).await.unwrap_or(false) {
                format!("`{dir}` has no scenario.yaml")
            } else {
                format!("there is no scenario folder at `{dir}`")
            };
            diags.push(
                Diagnostic::file_level(Severity::Error, &path, msg)
                    .expected("a folder holding scenario.yaml and actors/*.yaml"),
            );
        }
        return None;
    };
    let mut scenario = {
        let mut d = FileDiags::new(&path, &text, diags);
        read_scenario(&mut d, &root, dir)?
    };
    let refs = actor_refs(diags, &path, &text, &root);
    scenario.actors = load_actors(storage, dir, &path, &refs, diags).await;
    scenario.metrics = metrics::load(storage, dir, &scenario.actors, diags).await;
    scenario.events = events::load(storage, dir, &scenario.metrics, diags).await;
    scenario.checks = checks::load(storage, dir, diags).await;
    scenario.background_docs = load_background(storage, dir).await;
    Some(scenario)
}

fn read_scenario(d: &mut FileDiags, root: &Node, dir: &str) -> Option<Scenario> {
    let f = fields::read(d, root, SCENARIO_KEYS, false, "scenario.yaml", "");
    if !matches!(root.value, crate::yaml::Value::Map(_)) {
        return None;
    }
    let name = required_text(d, root, &f, "name", "the scenario's display name");
    let initial = required_text(
        d,
        root,
        &f,
        "initial_world_state",
        "the world at turn 0, as markdown",
    );
    let turns = match (f.value("turns"), f.value("scenario_length")) {
        (Some(t), _) => fields::int_at_least(d, t, "turns", 1),
        (None, Some(len)) => match len.get("turns") {
            Some(t) => fields::int_at_least(d, t, "scenario_length.turns", 1),
            None => {
                d.error(len, "scenario_length", "`scenario_length` has no `turns`")
                    .expected("scenario_length: {type: fixed, turns: N}");
                None
            }
        },
        (None, None) => {
            d.error(
                root,
                "turns",
                "scenario.yaml does not say how many turns to run",
            )
            .expected("`turns: N` (or `num_turns: N`)");
            None
        }
    };
    let window = f
        .value("context_window_size")
        .and_then(|n| fields::int_at_least(d, n, "context_window_size", 1))
        .unwrap_or(3);
    let communication = read_communication(d, &f);
    let opt_text =
        |d: &mut FileDiags, key: &str| f.value(key).and_then(|n| fields::text(d, n, key));
    let description = opt_text(d, "description");
    let system_prompt = opt_text(d, "system_prompt");
    let turn_duration = opt_text(d, "turn_duration");
    let world_state_model =
        opt_text(d, "world_state_model").unwrap_or_else(|| DEFAULT_WORLD_MODEL.to_string());
    let background_information = opt_text(d, "background_information");
    let extra = f
        .unknown
        .iter()
        .map(|(k, v)| (k.scalar_text().unwrap_or_default(), v.to_json()))
        .collect();
    Some(Scenario {
        dir: dir.to_string(),
        name: name?,
        description,
        system_prompt,
        initial_world_state: initial?,
        turns: turns? as u32,
        turn_duration,
        world_state_model,
        actors: Vec::new(),
        context_window_size: window as u32,
        communication,
        background_information,
        background_docs: Vec::new(),
        metrics: Vec::new(),
        events: Vec::new(),
        checks: None,
        max_tokens: f
            .value("max_tokens")
            .map(|n| fields::role_caps(d, n, "max_tokens"))
            .unwrap_or_default(),
        extra,
    })
}

fn required_text(
    d: &mut FileDiags,
    root: &Node,
    f: &fields::Fields,
    key: &str,
    what: &str,
) -> Option<String> {
    match f.value(key) {
        Some(n) => fields::text(d, n, key)
            .filter(|t| !t.trim().is_empty())
            .or_else(|| {
                d.error(n, key, format!("`{key}` is empty"))
                    .expected(what.to_string());
                None
            }),
        None => {
            d.error(root, key, format!("scenario.yaml has no `{key}`"))
                .expected(format!("`{key}:` with {what}"));
            None
        }
    }
}

fn read_communication(d: &mut FileDiags, f: &fields::Fields) -> Communication {
    let flag = |d: &mut FileDiags, key: &str| f.value(key).and_then(|n| fields::boolean(d, n, key));
    let mut bilateral = flag(d, "enable_bilateral_communication");
    let coalitions = flag(d, "enable_coalition_formation").unwrap_or(false);
    let mut max = f
        .value("max_communications_per_turn")
        .and_then(|n| fields::int_at_least(d, n, "max_communications_per_turn", 0))
        .map(|n| n as u32);
    if let Some(comms) = f
        .value("features")
        .and_then(|feat| feat.get("communications"))
    {
        if let Some(enabled) = comms.get("enabled").and_then(Node::as_bool) {
            bilateral = bilateral.or(Some(enabled));
        }
        if let Some(n) = comms.get("max_per_turn") {
            max = max.or_else(|| {
                fields::int_at_least(d, n, "features.communications.max_per_turn", 0)
                    .map(|n| n as u32)
            });
        }
    }
    Communication {
        bilateral: bilateral.unwrap_or(false),
        coalitions,
        max_per_turn: max.unwrap_or(2),
    }
}

/// The `actors:` entries, with their nodes.
fn actor_refs(
    diags: &mut Vec<Diagnostic>,
    path: &str,
    text: &str,
    root: &Node,
) -> Option<Vec<(String, Node)>> {
    let mut d = FileDiags::new(path, text, diags);
    let node = root.get("actors")?;
    match node.as_seq() {
        Some(items) => Some(
            items
                .iter()
                .filter_map(|i| fields::text(&mut d, i, "actors").map(|t| (t, i.clone())))
                .collect(),
        ),
        None => {
            d.error(node, "actors", "`actors` must be a list of actor names")
                .expected("a list such as [regulator, tech-company]")
                .found(describe(node));
            None
        }
    }
}

async fn load_actors<S: Storage>(
    storage: &S,
    dir: &str,
    scenario_path: &str,
    refs: &Option<Vec<(String, Node)>>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Actor> {
    let actors_dir = paths::join(dir, "actors");
    let files: Vec<String> = storage
        .list(&actors_dir)
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
        .collect();
    let mut all = Vec::new();
    // Actor files that exist but could not be read or parsed: their own errors say why, so a
    // reference to one is not also reported as missing.
    let mut broken = Vec::new();
    for file in &files {
        let path = paths::join(&actors_dir, file);
        let actor = match read_yaml(storage, &path, diags).await {
            Some((text, root)) => read_actor(
                &mut FileDiags::new(&path, &text, diags),
                &root,
                paths::stem(file),
            ),
            None => None,
        };
        match actor {
            Some(actor) => all.push(actor),
            None => broken.push(paths::stem(file).to_string()),
        }
    }
    let scenario_text = storage
        .read(scenario_path)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut d = FileDiags::new(scenario_path, &scenario_text, diags);
    let mut chosen: Vec<Actor> = Vec::new();
    match refs {
        Some(refs) => {
            for (r, node) in refs {
                let found = all
                    .iter()
                    .position(|a| &a.file_stem == r)
                    .or_else(|| all.iter().position(|a| &a.short_name == r));
                match found {
                    Some(i) => {
                        if chosen.iter().any(|a| a.file_stem == all[i].file_stem) {
                            d.error(node, "actors", format!("actor `{r}` is listed twice"));
                        } else {
                            chosen.push(all[i].clone());
                        }
                    }
                    None if broken.contains(r) => {}
                    None => {
                        let names = all.iter().map(|a| a.short_name.as_str());
                        let diag = d
                            .error(node, "actors", format!("actor `{r}` has no file: looked for `{actors_dir}/{r}.yaml` and for an actor file with `short_name: {r}`"))
                            .expected(format!(
                                "one of the actor files in {actors_dir}/ ({})",
                                all.iter().map(|a| a.file_stem.as_str()).collect::<Vec<_>>().join(", ")
                            ));
                        if let Some(h) = crate::suggest::closest(r, names) {
                            diag.help(format!("did you mean `{h}`?"));
                        }
                    }
                }
            }
            for a in &all {
                if !chosen.iter().any(|c| c.file_stem == a.file_stem) {
                    diags.push(Diagnostic::file_level(
                        Severity::Warning,
                        &paths::join(&actors_dir, &format!("{}.yaml", a.file_stem)),
                        format!("actor `{}` is not listed under `actors:` in scenario.yaml, so it does not take part", a.short_name),
                    ));
                }
            }
        }
        None => chosen = all,
    }
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for a in &chosen {
        if let Some(other) = seen.insert(a.short_name.clone(), a.file_stem.clone()) {
            diags.push(
                Diagnostic::file_level(
                    Severity::Error,
                    &paths::join(&actors_dir, &format!("{}.yaml", a.file_stem)),
                    format!(
                        "two actors have the short_name `{}` ({other}.yaml and {}.yaml)",
                        a.short_name, a.file_stem
                    ),
                )
                .expected("a different short_name for each actor"),
            );
        }
    }
    if chosen.is_empty() && !diags.iter().any(Diagnostic::is_error) {
        diags.push(
            Diagnostic::file_level(Severity::Error, scenario_path, "the scenario has no actors")
                .expected(format!(
                    "actor files in {actors_dir}/ listed under `actors:`"
                )),
        );
    }
    chosen
}

fn read_actor(d: &mut FileDiags, root: &Node, stem: &str) -> Option<Actor> {
    let what = format!("actor file {stem}.yaml");
    let f = fields::read(d, root, ACTOR_KEYS, false, &what, "");
    if !matches!(root.value, crate::yaml::Value::Map(_)) {
        return None;
    }
    let text = |d: &mut FileDiags, key: &str| f.value(key).and_then(|n| fields::text(d, n, key));
    let name = text(d, "name");
    if name.is_none() {
        d.error(
            root,
            "name",
            format!("actor file {stem}.yaml has no `name`"),
        )
        .expected("`name:` with the actor's full display name");
    }
    let short_name = match text(d, "short_name") {
        Some(s) => s,
        None => {
            d.warn(
                root,
                "short_name",
                format!("actor file {stem}.yaml has no `short_name`; using `{stem}`"),
            );
            stem.to_string()
        }
    };
    // A person plays the actor with `human: true`, or the original's `control: human`.
    let human = f
        .value("human")
        .and_then(|n| fields::boolean(d, n, "human").filter(|&h| h).map(|_| n))
        .or_else(|| f.value("control").filter(|c| c.as_str() == Some("human")));
    let model = match human {
        Some(_) => Some(crate::llm::route::HUMAN.to_string()),
        None => text(d, "llm_model"),
    };
    if model.is_none() {
        d.error(
            root,
            "llm_model",
            format!("actor `{short_name}` has no model"),
        )
        .expected("`llm_model:` with a model id such as openai/gpt-4o-mini, or `human: true` for a person to play it");
    }
    let goals = f
        .value("goals")
        .map(|n| fields::text_list(d, n, "goals"))
        .unwrap_or_default();
    let constraints = f
        .value("constraints")
        .map(|n| fields::text_list(d, n, "constraints"))
        .unwrap_or_default();
    let expertise = f.value("expertise").map(fields::flatten);
    let temperature = f
        .value("temperature")
        .and_then(|n| fields::number_in(d, n, "temperature", 0.0, 2.0));
    let top_p = f
        .value("top_p")
        .and_then(|n| fields::number_in(d, n, "top_p", 0.0, 1.0));
    let max_tokens = f
        .value("max_tokens")
        .and_then(|n| fields::int_at_least(d, n, "max_tokens", 1))
        .map(|n| n as u32);
    Some(Actor {
        name: name?,
        short_name,
        file_stem: stem.to_string(),
        model: model?,
        human_line: human.map(|n| n.line),
        system_prompt: text(d, "system_prompt"),
        description: text(d, "description"),
        role: text(d, "role"),
        goals,
        constraints,
        expertise,
        decision_style: text(d, "decision_style"),
        private_information: text(d, "private_information"),
        temperature,
        max_tokens,
        top_p,
    })
}

async fn load_background<S: Storage>(storage: &S, dir: &str) -> Vec<(String, String)> {
    let bg = paths::join(dir, "background");
    let mut out = Vec::new();
    for name in storage.list(&bg).await.ok().flatten().unwrap_or_default() {
        if name.ends_with(".md") {
            if let Ok(Some(text)) = storage.read(&paths::join(&bg, &name)).await {
                out.push((name, text));
            }
        }
    }
    out
}
