//! The prompts' layout, static first (see the top of `src/engine/prompts.rs`): every call's
//! system message is the same bytes in every turn of a run and in every run of a scenario, so
//! that a provider's prefix cache serves it; what changes is in the user message, newest last,
//! and a turn's request ends it.
//!
//! Runs `scenarios/city-ai-rollout` natively with a scripted LLM that takes every offer to talk
//! (bilateral exchanges and coalitions, so every kind of call is made), twice with different
//! seeds, once with the scenario's check templates and once with the built-in check prompts.
//! Each call is found in the run's call log by its generation id (the scripted LLM's request
//! number), which gives its key: `t3/decision/vendor`, `t5/summary`, `t2/check/name/actor`.
mod common;

use std::collections::BTreeMap;

use common::sim::{drive, fake_endpoints, shaped, ScriptedLlm, VirtualClock};
use common::{block_on, project_root, DiskStorage};
use scenario_lab::config::{load_scenario, Scenario};
use scenario_lab::engine::{self, RunStatus};
use scenario_lab::host::{ChatRequest, MemoryStorage, Storage};
use scenario_lab::llm::{Client, RetryPolicy};
use scenario_lab::pricing::PriceBook;

/// city-ai-rollout, every model on the scripted LLM.
fn scenario() -> Scenario {
    let s = block_on(load_scenario(
        &DiskStorage::new(project_root()),
        "scenarios/city-ai-rollout",
    ))
    .unwrap_or_else(|e| panic!("{e}"))
    .value;
    assert!(s.turns >= s.context_window_size + 2, "a summary is made");
    assert!(s.communication.coalitions && s.actors.len() >= 3);
    s
}

/// `shaped`, except that a communication plan also proposes a coalition of the first two other
/// actors, so that coalition answers and messages are asked for too.
fn reply(r: &ChatRequest) -> String {
    let all: Vec<&str> = r.messages.iter().map(|m| m.content.as_str()).collect();
    let all = all.join("\n");
    let text = shaped(r);
    if !all.contains("**PROPOSE_COALITION:**") {
        return text;
    }
    let ids = all
        .lines()
        .find_map(|l| l.strip_prefix("Other actors: "))
        .unwrap();
    let members: Vec<&str> = ids.split(", ").take(2).collect();
    format!(
        "{}\n**PROPOSE_COALITION:** yes\n**COALITION_MEMBERS:** {}\n**COALITION_PURPOSE:** a joint position",
        text.trim_end(),
        members.join(", ")
    )
}

/// One call of a run: its key, its turn and its messages.
struct Call {
    key: String,
    turn: u32,
    system: String,
    user: String,
}

impl Call {
    /// The call's place in the run, the same in every turn: its key without the turn, and
    /// without the other party of a reply or a coalition call (`reply/vendor`,
    /// `check/actor_decision_consistency/auditor`, `metric/applicant_trust`).
    fn stream(&self) -> String {
        let rest = self.key.split_once('/').unwrap().1;
        let parts: Vec<&str> = rest.split('/').collect();
        match parts[0] {
            "reply" | "coalition-answer" | "coalition-message" => parts[..2].join("/"),
            _ => rest.to_string(),
        }
    }

    fn kind(&self) -> &str {
        self.key.split('/').nth(1).unwrap()
    }
}

/// Runs `s` with `seed`; every call made, in the call log's order.
fn run(s: &Scenario, seed: u64) -> Vec<Call> {
    let clock = VirtualClock::new();
    let llm = ScriptedLlm::new(&clock, |_, r| Ok(reply(r)));
    let store = MemoryStorage::new();
    let client = Client::new(
        &llm,
        &clock,
        fake_endpoints(),
        PriceBook::default(),
        RetryPolicy::default(),
    );
    let spec = common::run_spec(seed);
    let o = drive(
        &clock,
        engine::run(&store, &client, &clock, s, &spec, "out"),
    );
    assert_eq!(o.standing.status, RunStatus::Completed, "{o:?}");
    let log = block_on(store.read("out/llm-calls.jsonl"))
        .unwrap()
        .unwrap();
    let requests = llm.requests.borrow();
    log.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let n: usize = v["generation_id"].as_str().unwrap()["gen-".len()..]
                .parse()
                .unwrap();
            let r = &requests[n];
            assert_eq!(r.messages.len(), 2, "{}: system and user", v["key"]);
            assert_eq!(
                (r.messages[0].role.as_str(), r.messages[1].role.as_str()),
                ("system", "user")
            );
            Call {
                key: v["key"].as_str().unwrap().to_string(),
                turn: v["turn"].as_u64().unwrap() as u32,
                system: r.messages[0].content.clone(),
                user: r.messages[1].content.clone(),
            }
        })
        .collect()
}

/// Each stream's system message; panics when one stream has two.
fn systems(calls: &[Call]) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for c in calls {
        let system = out.entry(c.stream()).or_insert_with(|| c.system.clone());
        assert!(
            *system == c.system,
            "{}: the system message changed from an earlier turn:\n--- before\n{system}\n--- now\n{}",
            c.key,
            c.system
        );
    }
    out
}

/// The same streams in both runs, with the same system messages.
fn same_across_runs(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) {
    for (stream, system) in a {
        if let Some(other) = b.get(stream) {
            assert_eq!(
                system, other,
                "{stream}: another run, another system message"
            );
        }
    }
    let shared = a.keys().filter(|k| b.contains_key(*k)).count();
    assert!(
        shared * 10 >= a.len() * 9,
        "{shared} of {} streams",
        a.len()
    );
}

/// Every kind of call was made.
fn every_kind(calls: &[Call]) {
    for kind in [
        "plan",
        "reply",
        "coalition-answer",
        "coalition-message",
        "decision",
        "world",
        "metric",
        "check",
        "summary",
    ] {
        assert!(calls.iter().any(|c| c.kind() == kind), "no {kind} call");
    }
}

/// What the layout promises of every call, and of decisions in particular.
fn laid_out_static_first(s: &Scenario, calls: &[Call]) {
    let header = |t: u32| {
        format!(
            "## Turn {t} of {} (each turn is {})\n\n",
            s.turns,
            s.turn_duration.as_deref().unwrap().trim()
        )
    };
    for c in calls {
        // No turn number in a system message.
        for t in 1..=s.turns {
            for h in [format!("Turn {t} "), format!("Turn {t}:")] {
                assert!(!c.system.contains(&h), "{}: {h}\n{}", c.key, c.system);
            }
        }
        match c.kind() {
            "plan" | "reply" | "coalition-answer" | "coalition-message" | "decision" => {
                let a = s
                    .actors
                    .iter()
                    .find(|a| c.stream().ends_with(&format!("/{}", a.short_name)))
                    .unwrap();
                // The initial situation is in every actor's system message, before the persona
                // and the task: the scenario's parts first.
                let initial = c.system.find(s.initial_world_state.trim()).unwrap();
                let persona = c.system.find(&engine::prompts::persona(a)).unwrap();
                let task = c.system.rfind("## Your Task\n\n").unwrap();
                assert!(initial < persona && persona < task, "{}", c.key);
                // Every kind of call made for an actor opens with the same bytes.
                assert!(c.system.starts_with(&engine::prompts::actor_system(s, a)));
                assert!(c
                    .system
                    .starts_with(s.system_prompt.as_deref().unwrap().trim()));
                // The request ends the user message; the answer format is not in it.
                let end = c.user.rfind("\n## Turn ").expect("a turn header") + 1;
                assert!(c.user[end..].starts_with(&header(c.turn)), "{}", c.key);
                assert!(!c.user.contains("**REASONING:**") && !c.user.contains("Answer in"));
            }
            "world" => {
                assert!(c.user.contains(&header(c.turn)));
                assert!(c.system.contains("**UPDATED STATE:**"));
                assert!(!c.user.contains("**UPDATED STATE:**"));
            }
            _ => {}
        }
        if c.kind() == "decision" {
            let name = &s
                .actors
                .iter()
                .find(|a| c.stream() == format!("decision/{}", a.short_name))
                .unwrap()
                .name;
            assert!(
                c.user.ends_with(&format!(
                    "{}You are {name}. Decide what you do in this turn.\n",
                    header(c.turn)
                )),
                "{}: the user message ends with the turn's request:\n{}",
                c.key,
                c.user
            );
            assert!(c.system.contains("**LONG-TERM GOALS:**") && c.system.contains("**ACTION:**"));
            // Oldest first, newest last.
            let at = |h: &str| c.user.find(h);
            let order: Vec<usize> = [
                "## Earlier Events (Summary)",
                "## Recent History",
                "## Current World State",
                "## Your Communications This Turn",
                "## Your Recent Goals",
                "\n## Turn ",
            ]
            .iter()
            .filter_map(|h| at(h))
            .collect();
            assert!(order.windows(2).all(|w| w[0] < w[1]), "{}", c.key);
            if c.turn >= s.context_window_size + 2 {
                for h in [
                    "## Earlier Events (Summary)",
                    "## Recent History",
                    "## Your Recent Goals",
                ] {
                    assert!(c.user.contains(h), "{}: no {h}\n{}", c.key, c.user);
                }
            }
        }
    }
}

#[test]
fn system_messages_are_the_same_in_every_turn_and_every_run() {
    let s = scenario();
    let a = run(&s, 1);
    let b = run(&s, 2);
    every_kind(&a);
    laid_out_static_first(&s, &a);
    laid_out_static_first(&s, &b);
    same_across_runs(&systems(&a), &systems(&b));
}

#[test]
fn built_in_check_prompts_are_laid_out_the_same_way() {
    let mut s = scenario();
    for c in &mut s.checks.as_mut().unwrap().checks {
        c.prompt_template = None;
    }
    let a = run(&s, 3);
    let b = run(&s, 4);
    let checks: Vec<&Call> = a.iter().filter(|c| c.kind() == "check").collect();
    assert!(!checks.is_empty());
    for c in &checks {
        assert!(c.system.contains("**PASSED:**") && !c.user.contains("**PASSED:**"));
    }
    same_across_runs(&systems(&a), &systems(&b));
}

/// A check template is cut at its paragraphs: its opening and instructions go to the system
/// message, what changes every turn to the user message, and nothing is lost.
#[test]
fn a_check_template_keeps_every_line() {
    let s = scenario();
    let rules = s.checks.as_ref().unwrap();
    let actor = &s.actors[0];
    for c in rules.enabled() {
        let input = |world: &'static str| engine::prompts::CheckInput {
            actor: Some(actor),
            previous_world_state: world,
            new_world_state: "The new state.",
            actor_actions: "**A:** acts",
            actor_reasoning: "Because.",
            actor_action: "Acts.",
            private_communications: "None",
        };
        let one = engine::prompts::check(c, &input("The world, version one."));
        let two = engine::prompts::check(c, &input("The world, version two."));
        assert_eq!(one[0].content, two[0].content, "{}", c.name);
        assert!(two[1].content.contains("version two"));
        let template = c.prompt_template.as_deref().unwrap();
        let both = format!("{}\n{}", one[0].content, one[1].content);
        for line in template.lines().filter(|l| !l.contains('{')) {
            assert!(both.contains(line.trim()), "{}: lost `{line}`", c.name);
        }
        // The answer layout is in the system message.
        let layout = template.lines().rev().find(|l| l.contains(':')).unwrap();
        assert!(one[0].content.contains(layout.trim()), "{}", c.name);
    }
}
