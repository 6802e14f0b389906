//! Starting a run: a new one, a resumed one, or a branch of another. Decides the folder, the
//! seed and the scenario as modified; the host only supplies storage and a fresh random seed.

use serde::{Deserialize, Serialize};

use super::{Branch, RunSpec, CALL_LOG, STATE_FILE};
use crate::config::{load_scenario, ConfigErrors, Scenario};
use crate::host::Storage;
use crate::llm::route::HUMAN;
use crate::paths;
use crate::plan::variations::{apply, Modifications};
use crate::schema::{CallRecord, ScenarioState};

/// What the user asked for.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(
    test,
    derive(ts_rs::TS),
    ts(rename = "ScenarioRequest", optional_fields)
)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// A new run of this scenario folder.
    pub scenario_dir: Option<String>,
    /// The run folder (default `output/<scenario>/run-NNN`, the next free number).
    pub output: Option<String>,
    /// Turns to run instead of the scenario's.
    pub turns: Option<u32>,
    /// `actor=model` overrides; `world=model` sets the world model (which metrics and checks
    /// use unless they name their own).
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<Vec<String>>"))]
    pub model_overrides: Vec<String>,
    /// Actors a person plays in this new run (`--human ACTOR`: the actor's short name, file
    /// stem or name), as `human: true` in their files would make them.
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<Vec<String>>"))]
    pub human: Vec<String>,
    /// The seed (default: the host's random seed).
    pub seed: Option<u64>,
    /// Resume the run in this folder.
    pub resume: Option<String>,
    /// Branch from the run in this folder...
    pub branch_from: Option<String>,
    /// ...after this turn.
    pub at_turn: Option<u32>,
    /// The run's cost limit, USD.
    pub cost_limit: Option<f64>,
    /// A completion cap for every call whose actor sets none.
    pub max_tokens: Option<u32>,
    /// Seconds one LLM request may take (default: from its cap).
    pub call_timeout: Option<f64>,
    /// `--yes`: start even a run larger than Scenario Lab starts without asking (more than
    /// [`crate::plan::confirm::MAX_TURNS`] turns).
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<bool>"))]
    pub yes: bool,
}

/// A run ready to start.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The scenario as it runs.
    pub scenario: Scenario,
    /// Its spec (saved in its state file).
    pub spec: RunSpec,
    /// Its folder.
    pub dir: String,
}

/// What a single run resolves to for its host: its outcome and its folder.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ScenarioResult {
    /// The run folder.
    pub dir: String,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: super::RunOutcome,
}

/// Why a run could not start.
#[derive(Debug, Clone)]
pub enum PrepareError {
    /// The scenario does not load.
    Config(ConfigErrors),
    /// Anything else, in words.
    Invalid(String),
    /// A size that needs confirming (`--yes`, or a "y" on a terminal), in words.
    Confirm(String),
}

impl std::fmt::Display for PrepareError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrepareError::Config(e) => write!(f, "{e}"),
            PrepareError::Invalid(m) | PrepareError::Confirm(m) => f.write_str(m),
        }
    }
}

async fn read_spec<S: Storage>(storage: &S, dir: &str) -> Result<RunSpec, PrepareError> {
    let path = paths::join(dir, STATE_FILE);
    let text = ScenarioState::read_text(storage, dir)
        .await
        .ok()
        .flatten()
        .ok_or_else(|| {
            PrepareError::Invalid(format!(
                "`{dir}` is not a run folder: it has no {STATE_FILE}"
            ))
        })?;
    match ScenarioState::parse(&text) {
        Ok(state) => Ok(state.spec),
        Err(e) if e.is_data() => Err(PrepareError::Invalid(format!(
            "{path} is not a usable run state (was it written by Scenario Lab?): {e}"
        ))),
        Err(e) => Err(PrepareError::Invalid(format!(
            "{path} is not valid JSON: {e}"
        ))),
    }
}

async fn scenario_for<S: Storage>(storage: &S, spec: &RunSpec) -> Result<Scenario, PrepareError> {
    let base = load_scenario(storage, &spec.scenario_dir)
        .await
        .map_err(PrepareError::Config)?
        .value;
    apply(&base, &spec.modifications).map_err(PrepareError::Invalid)
}

/// Gives each `--human` actor's seat to a person (its model becomes `human`, so the run's
/// spec keeps it for a resume); an unknown actor is refused with the list of actors.
fn seat_people(
    base: &Scenario,
    people: &[String],
    modifications: &mut Modifications,
) -> Result<(), PrepareError> {
    for who in people {
        let i = base.find_actor(who).ok_or_else(|| {
            let actors: Vec<String> = base
                .actors
                .iter()
                .map(|a| format!("{} ({})", a.short_name, a.name))
                .collect();
            PrepareError::Invalid(format!(
                "--human `{who}`: the scenario has no such actor; its actors are {}",
                actors.join(", ")
            ))
        })?;
        modifications
            .actor_models
            .insert(base.actors[i].short_name.clone(), HUMAN.to_string());
    }
    Ok(())
}

/// Refuses a run with a seat a person plays when its host has nobody to ask (the CLI off a
/// terminal): at once, rather than a run that fails at its first question.
/// `seats` are [`Scenario::person_seats`] or [`BatchConfig::person_seats`](crate::config::BatchConfig::person_seats).
pub fn check_person(seats: &[String], person_present: bool) -> Result<(), PrepareError> {
    if person_present || seats.is_empty() {
        return Ok(());
    }
    Err(PrepareError::Invalid(format!(
        "a person plays {} and there is nobody to ask here: the CLI asks on a terminal \
         (run it with its input and output on one), the page in its Run view",
        seats.join(" and ")
    )))
}

/// The lines of a call log a branch after `at_turn` starts with: every whole call of a turn up
/// to `at_turn`, as written (a line cut short by a kill is not a call, and is left out). The
/// branch replays them, so the turns they answer cost nothing again.
pub fn copied_prefix(log: &str, at_turn: u32) -> String {
    log.lines()
        .filter(|l| serde_json::from_str::<CallRecord>(l).is_ok_and(|r| r.turn <= at_turn))
        .map(|l| format!("{l}\n"))
        .collect()
}

async fn next_free<S: Storage>(storage: &S, root: &str) -> String {
    let mut n = 1;
    loop {
        let dir = paths::join(root, &format!("run-{n:03}"));
        if !storage.exists(&dir).await.unwrap_or(false) {
            return dir;
        }
        n += 1;
    }
}

/// Prepares the run `req` asks for; `fresh_seed` is the host's random seed for new runs.
pub async fn prepare<S: Storage>(
    storage: &S,
    req: &Request,
    fresh_seed: u64,
) -> Result<Prepared, PrepareError> {
    if !req.human.is_empty() && (req.resume.is_some() || req.branch_from.is_some()) {
        return Err(PrepareError::Invalid(
            "--human is for a new run: a resumed or branched run keeps the seats it started with"
                .into(),
        ));
    }
    if let Some(dir) = &req.resume {
        let spec = read_spec(storage, dir).await?;
        let scenario = scenario_for(storage, &spec).await?;
        return Ok(Prepared {
            scenario,
            spec,
            dir: paths::normalize(dir),
        });
    }
    if let Some(from) = &req.branch_from {
        let at = req
            .at_turn
            .ok_or_else(|| PrepareError::Invalid("--branch-from needs --at-turn K".into()))?;
        let source = read_spec(storage, from).await?;
        let scenario = scenario_for(storage, &source).await?;
        if at == 0 || at >= scenario.turns {
            return Err(PrepareError::Invalid(format!(
                "--at-turn must be from 1 to {} (the source has {} turns)",
                scenario.turns - 1,
                scenario.turns
            )));
        }
        let log = storage
            .read(&paths::join(from, CALL_LOG))
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        let kept = copied_prefix(&log, at);
        let root = paths::parent(&paths::normalize(from));
        let dir = match &req.output {
            Some(o) => paths::normalize(o),
            None => next_free(storage, &root).await,
        };
        storage
            .write(&paths::join(&dir, CALL_LOG), &kept)
            .await
            .map_err(|e| PrepareError::Invalid(e.to_string()))?;
        let spec = RunSpec {
            block: None,
            seed: req.seed.unwrap_or(fresh_seed),
            branch: Some(Branch {
                from: paths::normalize(from),
                at_turn: at,
                source_seed: source.turn_seed(at),
            }),
            ..source
        };
        return Ok(Prepared {
            scenario,
            spec,
            dir,
        });
    }
    let scenario_dir = req
        .scenario_dir
        .clone()
        .ok_or_else(|| PrepareError::Invalid("no scenario folder given".into()))?;
    let mut modifications = Modifications::default();
    if let Some(t) = req.turns {
        modifications
            .scenario_overrides
            .insert("turns".into(), serde_json::json!(t));
    }
    for o in &req.model_overrides {
        let (actor, model) = o.split_once('=').ok_or_else(|| {
            PrepareError::Invalid(format!("--model-override `{o}` is not `actor=model`"))
        })?;
        match actor.trim() {
            "world" => {
                modifications
                    .scenario_overrides
                    .insert("world_state_model".into(), serde_json::json!(model.trim()));
            }
            actor => {
                modifications
                    .actor_models
                    .insert(actor.to_string(), model.trim().to_string());
            }
        }
    }
    let base = load_scenario(storage, &paths::normalize(&scenario_dir))
        .await
        .map_err(PrepareError::Config)?
        .value;
    seat_people(&base, &req.human, &mut modifications)?;
    let spec = RunSpec {
        block: None,
        scenario_dir: paths::normalize(&scenario_dir),
        modifications,
        seed: req.seed.unwrap_or(fresh_seed),
        branch: None,
        cost_limit: req.cost_limit,
        max_tokens: req.max_tokens,
    };
    let scenario = apply(&base, &spec.modifications).map_err(PrepareError::Invalid)?;
    let max_turns = crate::plan::confirm::MAX_TURNS;
    if scenario.turns > max_turns && !req.yes {
        let set_by = match req.turns {
            Some(t) => format!("--turns {t}"),
            None => format!(
                "`turns: {}` in {scenario_dir}/scenario.yaml",
                scenario.turns
            ),
        };
        return Err(PrepareError::Confirm(format!(
            "this run has {} turns ({set_by}), more than the {max_turns} Scenario Lab runs \
             without asking; confirm on a terminal, or pass --yes",
            scenario.turns
        )));
    }
    let dir = match &req.output {
        Some(o) => paths::normalize(o),
        None => {
            next_free(
                storage,
                &paths::join(
                    "output",
                    &paths::sanitize_segment(paths::file_name(&spec.scenario_dir)),
                ),
            )
            .await
        }
    };
    if storage
        .exists(&paths::join(&dir, STATE_FILE))
        .await
        .unwrap_or(false)
    {
        return Err(PrepareError::Invalid(format!("`{dir}` already holds a run; resume it with --resume {dir}, or choose another --output")));
    }
    Ok(Prepared {
        scenario,
        spec,
        dir,
    })
}
