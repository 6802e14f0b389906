//! The turn pipeline: a run from its first turn to its last, and what each turn does.
//!
//! [`run_guarded`] gathers what a run is given into a [`RunContext`], then plays the turns in
//! order: the summary of the turn that leaves the prompt's window, exogenous events,
//! communication (`comms.rs`), decisions, the world update, metrics and checks. This module
//! decides what is asked and what is kept of the replies; it never sends a call itself (every
//! call goes through the gateway, `gateway.rs`) and never decides when a file reaches storage
//! (`persist.rs`): it builds the text and hands it over.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::join_all;

use super::extract::{self, MetricRecord};
use super::files::{self, CheckResult};
use super::gateway::{all, Gateway, Guard, Stop, Unguarded};
use super::parse::{self, Decision};
use super::persist::{finish, save_state, state_text, Pending};
use super::timeline::{self, Timeline};
use super::{comms, events, prompts, ReplyCounts, RunOutcome, RunSpec, RunStatus, STATE_FILE};
use crate::config::{Extraction, Scenario};
use crate::host::{Clock, Llm, Storage};
use crate::llm::lockstep::{Member, Shared};
use crate::llm::Client;
use crate::paths;
use crate::plan::Role;
use crate::pricing::nanos_to_usd;
use crate::rng::{derive, Rng};
use crate::schema::run::RunStanding;
use crate::schema::HaltReason;

/// What a run is given ([`run_guarded`]'s arguments) and keeps to its end: the hosts it works
/// through, the scenario (turn by turn: an intervention changes it from its turn on) and spec it
/// plays, the folder it writes, and the batch's guard. The pipeline, the gateway and
/// persistence all read it; none of it changes during a run.
pub(super) struct RunContext<'a, S: Storage, L: Llm, C: Clock> {
    /// Where the run's files go.
    pub(super) storage: &'a S,
    /// The LLM client (the model, its prices, retries and rate limits).
    pub(super) client: &'a Client<'a, L, C>,
    /// The clock (for the log's times).
    pub(super) clock: &'a C,
    /// The scenario as modified by the spec, turn by turn ([`RunContext::scenario`]).
    pub(super) timeline: Timeline<'a>,
    /// The run's seed, cost limit, output cap and branch.
    pub(super) spec: &'a RunSpec,
    /// The run's folder.
    pub(super) dir: String,
    /// The batch's say on every call ([`Unguarded`] for a run alone).
    pub(super) guard: &'a dyn Guard,
}

impl<S: Storage, L: Llm, C: Clock> RunContext<'_, S, L, C> {
    /// The path of the run's file `name`.
    pub(super) fn path(&self, name: &str) -> String {
        paths::join(&self.dir, name)
    }

    /// The scenario of `turn`: the spec's, changed by its intervention from the intervention's
    /// turn on.
    pub(super) fn scenario(&self, turn: u32) -> &Scenario {
        self.timeline.at(turn)
    }
}

/// A run in progress: its context, the gateway's state (`gateway.rs`: replay, reservations,
/// ledger) and what it has yet to write (`persist.rs`). Each of those modules adds its own
/// methods to it.
pub(super) struct Run<'a, S: Storage, L: Llm, C: Clock> {
    pub(super) cx: RunContext<'a, S, L, C>,
    pub(super) gateway: Gateway,
    pub(super) pending: Pending,
    /// The run's place in the batch's lock-step (`execution: batch`), if any.
    pub(super) member: Option<Member<'a>>,
}

/// Runs (or resumes) `scenario` in `spec`'s folder `dir` until it completes, halts or fails.
pub async fn run<S: Storage, L: Llm, C: Clock>(
    storage: &S,
    client: &Client<'_, L, C>,
    clock: &C,
    scenario: &Scenario,
    spec: &RunSpec,
    dir: &str,
) -> RunOutcome {
    run_guarded(
        storage, client, clock, scenario, spec, dir, &Unguarded, None,
    )
    .await
}

/// [`run`], inside a batch whose `guard` approves every call before it is sent, and whose
/// `lockstep` (`execution: batch`) sends the calls it can in providers' batch jobs.
#[allow(clippy::too_many_arguments)]
pub async fn run_guarded<'a, S: Storage, L: Llm, C: Clock>(
    storage: &'a S,
    client: &'a Client<'a, L, C>,
    clock: &'a C,
    scenario: &'a Scenario,
    spec: &'a RunSpec,
    dir: &str,
    guard: &'a dyn Guard,
    lockstep: Option<&'a Shared>,
) -> RunOutcome {
    let gateway = Gateway::load(storage, dir).await;
    let run = Run {
        cx: RunContext {
            storage,
            client,
            clock,
            timeline: Timeline::new(scenario, spec.modifications.intervention.as_ref()),
            spec,
            dir: dir.to_string(),
            guard,
        },
        gateway,
        pending: Pending::new(clock.now_ms()),
        member: lockstep.map(Shared::join),
    };
    let mut state = Progress::default();
    let result = turns(&run, &mut state).await;
    let (status, halt_reason, error) = match &result {
        Ok(()) => (RunStatus::Completed, None, None),
        Err(Stop::CostLimit(why)) => {
            run.note(
                state.turn + 1,
                &format!("halted at the run's cost limit: {why}"),
            );
            (RunStatus::Halted, Some(HaltReason::CostLimit), None)
        }
        Err(Stop::Refused(reason, why)) => {
            run.note(state.turn + 1, &format!("halted ({reason}): {why}"));
            (RunStatus::Halted, Some(*reason), None)
        }
        Err(Stop::Failed(why)) | Err(Stop::Storage(why)) => {
            run.note(state.turn + 1, &format!("failed: {why}"));
            (
                RunStatus::Failed,
                Some(HaltReason::Error),
                Some(why.clone()),
            )
        }
    };
    let outcome = RunOutcome {
        standing: RunStanding {
            status,
            halt_reason,
            error,
            current_turn: state.turn,
        },
        total_cost: nanos_to_usd(run.gateway.ledger().total_nanos),
        calls_sent: run.gateway.sent(),
        calls_replayed: run.gateway.replayed(),
        replies: ReplyCounts::from(&*run.gateway.ledger()),
        savings: run.gateway.ledger().savings(),
    };
    let _ = finish(&run, &state, &outcome).await;
    outcome
}

/// Everything a run accumulates.
#[derive(Default)]
pub(super) struct Progress {
    turn: u32,
    history: Vec<TurnRecord>,
    summary: String,
    pub(super) records: Vec<MetricRecord>,
    pub(super) checks: Vec<CheckResult>,
    fired: BTreeSet<String>,
    latest: BTreeMap<String, f64>,
}

/// What the engine keeps in memory of one turn.
#[derive(Debug, Clone, Default)]
struct TurnRecord {
    world: String,
    actions: Vec<(String, String)>,
    goals: Vec<String>,
}

/// Plays the run: turn 0 (the initial world and a running state), then every turn, each
/// writing the previous turn's files while its own calls are in flight.
async fn turns<S: Storage, L: Llm, C: Clock>(
    run: &Run<'_, S, L, C>,
    p: &mut Progress,
) -> Result<(), Stop> {
    run.cx.timeline.check().map_err(Stop::Failed)?;
    let s = run.cx.scenario(0);
    let initial = parse::WorldUpdate {
        state: s.initial_world_state.trim().to_string(),
        ..Default::default()
    };
    let world0 = files::world_state(s, 0, &initial, &[], &[]);
    let (written, saved) = futures_util::future::join(
        run.write(&files::world_state_name(0), &world0),
        save_state(run, &RunStanding::running(0)),
    )
    .await;
    written?;
    saved?;
    p.history.push(TurnRecord {
        world: initial.state,
        ..Default::default()
    });
    for turn in 1..=s.turns {
        // The previous turn's files are written while this turn's calls are in flight.
        let (done, written) = futures_util::future::join(one_turn(run, p, turn), run.drain()).await;
        written?;
        done?;
        p.turn = turn;
        run.flush_log().await?;
        run.write_behind(
            STATE_FILE.to_string(),
            state_text(run, &RunStanding::running(turn)),
        );
        // Every call of the turn is in the call log: a batch may branch other runs from it.
        run.cx.guard.turn_done(turn);
    }
    Ok(())
}

/// One turn, from the summary of the turn that leaves the window to the quality checks; its
/// files are queued to be written behind the next one.
async fn one_turn<S: Storage, L: Llm, C: Clock>(
    run: &Run<'_, S, L, C>,
    p: &mut Progress,
    turn: u32,
) -> Result<(), Stop> {
    let s = run.cx.scenario(turn);
    if let Some(i) = run.cx.timeline.starting(turn) {
        run.note(
            turn,
            &format!(
                "intervention `{}` takes effect: {}",
                i.arm.name,
                i.arm.changes()
            ),
        );
        // Added to the world the turn starts from, in memory only: the files of earlier turns
        // stay those of the turns every arm shares.
        if let Some(text) = &i.arm.world_state {
            let world = &mut p.history[(turn - 1) as usize].world;
            *world = timeline::with_added(world, text);
        }
    }
    let window = s.context_window_size;
    // Summary: fold the turn that just left the window into the running summary.
    if turn >= window + 2 {
        let k = (turn - window - 1) as usize;
        let rec = &p.history[k];
        let mut text = if k == 1 {
            format!("### Initial situation\n{}\n\n", p.history[0].world.trim())
        } else {
            String::new()
        };
        text.push_str(&format!("### Turn {k}\nActions:\n"));
        for (name, action) in &rec.actions {
            text.push_str(&format!("- {name}: {}\n", action.trim()));
        }
        text.push_str(&format!("\nThe world after it:\n{}\n", rec.world.trim()));
        let spec = run.spec_for(
            format!("t{turn}/summary"),
            Role::Summary,
            None,
            turn,
            &s.world_state_model,
            prompts::summary(s, &p.summary, &text),
        );
        p.summary = run.call(spec).await?;
    }
    let previous = p.history[(turn - 1) as usize].world.clone();
    let mut rng = Rng::new(derive(
        run.cx.spec.turn_seed(turn),
        &format!("events/t{turn}"),
    ));
    let events = events::due(
        &s.events,
        turn,
        &mut rng,
        &mut p.fired,
        &p.latest,
        &previous,
    );
    for e in &events {
        run.note(turn, &format!("event: {}", e.name));
    }
    let ctx = context(s, &p.history, &p.summary, turn);
    let exchanges = comms::phase(run, turn, &ctx).await?;
    // Decisions: all at once; none sees another's action of this turn.
    let decisions: Vec<Decision> = all(join_all(s.actors.iter().enumerate().map(|(i, a)| {
        let recent: Vec<(u32, String)> = (turn.saturating_sub(2).max(1)..turn)
            .filter_map(|k| {
                p.history
                    .get(k as usize)
                    .and_then(|r| r.goals.get(i))
                    .filter(|g| !g.is_empty())
                    .map(|g| (k, g.clone()))
            })
            .collect();
        let mine: Vec<prompts::Exchange> = exchanges
            .iter()
            .filter(|x| x.participants.contains(&a.short_name))
            .map(|x| x.for_prompt())
            .collect();
        let spec = run.spec_for(
            format!("t{turn}/decision/{}", a.short_name),
            Role::Actor,
            Some(a),
            turn,
            &a.model,
            prompts::decision(s, a, turn, &ctx, &mine, &recent),
        );
        async move { run.call(spec).await.map(|reply| parse::decision(&reply)) }
    }))
    .await)?;
    let mut actions = Vec::new();
    for (a, d) in s.actors.iter().zip(&decisions) {
        if d.fallback {
            run.note(
                turn,
                &format!(
                    "{}: the reply had no ACTION tag; the whole reply is taken as the action",
                    a.short_name
                ),
            );
        }
        actions.push((a.name.clone(), d.action.clone()));
    }
    // The decision files are written behind (see `Pending::behind` in `persist.rs`).
    for (a, d) in s.actors.iter().zip(&decisions) {
        run.write_behind(
            format!("{}-{turn:03}.md", paths::sanitize_segment(&a.short_name)),
            files::decision(s, &a.name, &a.model, turn, d),
        );
    }
    let event_lines: Vec<(String, String)> = events
        .iter()
        .map(|e| (e.name.clone(), e.description.clone()))
        .collect();
    let spec = run.spec_for(
        format!("t{turn}/world"),
        Role::World,
        None,
        turn,
        &s.world_state_model,
        prompts::world_update(s, turn, &previous, &actions, &event_lines),
    );
    let update = parse::world_update(&run.call(spec).await?);
    if update.fallback {
        run.note(
            turn,
            "world: the reply had no UPDATED STATE tag; the whole reply is taken as the new state",
        );
    }
    run.write_behind(
        files::world_state_name(turn),
        files::world_state(s, turn, &update, &actions, &events),
    );
    let records = metrics(run, turn, &update.state, &decisions).await?;
    for r in &records {
        if let Some(v) = r.value {
            p.latest.insert(r.name.clone(), v);
        }
        if let Some(f) = &r.flag {
            run.note(turn, &format!("metric {}: {f}", r.name));
        }
    }
    p.records.extend(records);
    // Quality checks.
    let played = Played {
        turn,
        previous: &previous,
        world: &update.state,
        actions: &actions,
        decisions: &decisions,
        exchanges: &exchanges,
    };
    let results = checks(run, &played).await?;
    if !results.is_empty() && s.checks.as_ref().is_some_and(|c| c.turn_reports) {
        run.write_behind(
            format!("validation-{turn:03}.md"),
            files::validation_turn(turn, &results),
        );
    }
    p.checks.extend(results);
    p.history.push(TurnRecord {
        world: update.state,
        actions,
        goals: decisions
            .iter()
            .map(|d| {
                [d.long_term_goals.trim(), d.short_term_priorities.trim()]
                    .iter()
                    .filter(|t| !t.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect(),
    });
    Ok(())
}

/// A turn whose world is updated: what its quality checks read.
#[derive(Clone, Copy)]
struct Played<'t> {
    turn: u32,
    /// The world before the turn.
    previous: &'t str,
    /// The world after it.
    world: &'t str,
    /// (actor name, action), in actor order.
    actions: &'t [(String, String)],
    /// The actors' decisions, in actor order.
    decisions: &'t [Decision],
    /// The turn's private exchanges.
    exchanges: &'t [comms::Channel],
}

/// The turn's measurements: each metric of the world, or of every actor's decision for an
/// actor-specific one.
async fn metrics<S: Storage, L: Llm, C: Clock>(
    run: &Run<'_, S, L, C>,
    turn: u32,
    world: &str,
    decisions: &[Decision],
) -> Result<Vec<MetricRecord>, Stop> {
    let s = run.cx.scenario(turn);
    // (metric, text, actor) for every measurement to take.
    let mut jobs = Vec::new();
    for m in &s.metrics {
        if m.actor_specific {
            for (a, d) in s.actors.iter().zip(decisions) {
                if m.actor.as_deref().is_none_or(|x| x == a.short_name) {
                    jobs.push((m, format!("{}\n\n{}", d.reasoning, d.action), Some(a)));
                }
            }
        } else {
            jobs.push((m, world.to_string(), None));
        }
    }
    let out = join_all(jobs.into_iter().map(|(m, text, actor)| async move {
        let who = actor.map(|a| a.short_name.as_str());
        match &m.extraction {
            Extraction::Llm { prompt, model } => {
                let key = match who {
                    Some(a) => format!("t{turn}/metric/{}/{a}", m.name),
                    None => format!("t{turn}/metric/{}", m.name),
                };
                let model = model.as_deref().unwrap_or(&s.world_state_model);
                let mut spec = run.spec_for(
                    key,
                    Role::Metric,
                    None,
                    turn,
                    model,
                    prompts::metric(m, prompt, &text),
                );
                // Logged as about the actor, without the actor's sampling settings.
                spec.actor = who.map(str::to_string);
                run.call(spec)
                    .await
                    .map(|answer| Some(extract::from_answer(m, &answer, turn, who)))
            }
            _ => Ok(extract::from_text(m, &text, turn, who)),
        }
    }))
    .await;
    Ok(all(out)?.into_iter().flatten().collect())
}

/// The turn's quality checks, when the scenario runs them after each turn: every enabled
/// check once, or once per actor.
async fn checks<S: Storage, L: Llm, C: Clock>(
    run: &Run<'_, S, L, C>,
    played: &Played<'_>,
) -> Result<Vec<CheckResult>, Stop> {
    let Played {
        turn,
        previous,
        world,
        actions,
        decisions,
        exchanges,
    } = *played;
    let s = run.cx.scenario(turn);
    let Some(rules) = s.checks.as_ref().filter(|c| c.run_after_each_turn) else {
        return Ok(Vec::new());
    };
    let model = rules.model.as_deref().unwrap_or(&s.world_state_model);
    let action_lines = actions
        .iter()
        .map(|(n, a)| format!("**{n}:** {}", a.trim()))
        .collect::<Vec<_>>()
        .join("\n");
    let mut jobs = Vec::new();
    for c in rules.enabled() {
        if c.per_actor() {
            for (a, d) in s.actors.iter().zip(decisions) {
                jobs.push((c, Some(a), Some(d)));
            }
        } else {
            jobs.push((c, None, None));
        }
    }
    let out = join_all(jobs.into_iter().map(|(c, a, d)| {
        let private = a
            .map(|a| {
                exchanges
                    .iter()
                    .filter(|x| x.participants.contains(&a.short_name))
                    .map(|x| x.transcript())
                    .collect::<Vec<_>>()
                    .join("\n\n")
            })
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "None".into());
        let input = prompts::CheckInput {
            actor: a,
            previous_world_state: previous,
            new_world_state: world,
            actor_actions: &action_lines,
            actor_reasoning: d.map_or("", |d| d.reasoning.as_str()),
            actor_action: d.map_or("", |d| d.action.as_str()),
            private_communications: &private,
        };
        let key = match a {
            Some(a) => format!("t{turn}/check/{}/{}", c.name, a.short_name),
            None => format!("t{turn}/check/{}", c.name),
        };
        let mut spec = run.spec_for(
            key,
            Role::Check,
            None,
            turn,
            model,
            prompts::check(c, &input),
        );
        let who = a.map(|a| a.short_name.clone());
        spec.actor = who.clone();
        async move {
            run.call(spec)
                .await
                .map(|reply| files::parse_check(&c.name, who.as_deref(), turn, &reply))
        }
    }))
    .await;
    all(out)
}

/// The public context of turn `turn`, oldest first: the summary of turns that left the window,
/// the recent turns in full, and the current state. It opens the user message of every actor
/// call of the turn. The initial situation is not in it, not even as turn 1's current state:
/// it is in every actor's system message (see `prompts.rs`).
fn context(s: &Scenario, history: &[TurnRecord], summary: &str, turn: u32) -> String {
    let window = s.context_window_size;
    let first_full = turn.saturating_sub(window).max(1);
    let mut o = String::new();
    if !summary.is_empty() {
        o.push_str(&format!(
            "## Earlier Events (Summary)\n\n{}\n\n",
            summary.trim()
        ));
    }
    if turn > 1 {
        o.push_str("## Recent History\n");
        for k in first_full..turn {
            let rec = &history[k as usize];
            o.push_str(&format!("\n### Turn {k}: actions\n"));
            for (name, action) in &rec.actions {
                o.push_str(&format!("- **{name}:** {}\n", action.trim()));
            }
            if k + 1 < turn {
                o.push_str(&format!(
                    "\n### Turn {k}: the world after it\n\n{}\n",
                    rec.world.trim()
                ));
            }
        }
        o.push('\n');
    }
    let current = match turn {
        1 => "The initial situation: no turn has been played yet.",
        _ => history[(turn - 1) as usize].world.trim(),
    };
    o.push_str(&format!("## Current World State\n\n{current}"));
    o
}
