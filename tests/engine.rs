//! The scenario engine in simulated time, with a scripted LLM (issue 3): phase order,
//! simultaneity, same-turn communication, personas, parse fallbacks, metrics, events, costs,
//! resume mid-turn without paying a call twice, and branching.
mod common;

use common::sim::{drive, fake_endpoints, files_under, shaped, ScriptedLlm, VirtualClock};
use common::{block_on, project_root, DiskStorage};
use scenario_lab::config::{load_scenario, Scenario};
use scenario_lab::engine::{self, Branch, RunOutcome, RunSpec, RunStatus};
use scenario_lab::host::{Clock, LlmError, MemoryStorage, Storage};
use scenario_lab::llm::{Client, RetryPolicy};
use scenario_lab::pricing::PriceBook;
use scenario_lab::schema::HaltReason;

/// A scenario whose built-in models are replaced by a hosted one, so that calls reach the
/// scripted LLM.
fn scenario(dir: &str) -> Scenario {
    let mut s = block_on(load_scenario(&DiskStorage::new(project_root()), dir))
        .unwrap_or_else(|e| panic!("{e}"))
        .value;
    for a in &mut s.actors {
        if a.model.starts_with("builtin/") {
            a.model = "test/model".into();
        }
    }
    if s.world_state_model.starts_with("builtin/") {
        s.world_state_model = "test/model".into();
    }
    s
}

/// Every message of a request, joined: the answer format is in the system message, the turn's
/// material in the user message.
fn text(r: &scenario_lab::host::ChatRequest) -> String {
    let all: Vec<&str> = r.messages.iter().map(|m| m.content.as_str()).collect();
    all.join("\n")
}

/// What a request is for, from its prompts.
fn kind(r: &scenario_lab::host::ChatRequest) -> &'static str {
    let system = &r.messages[0].content;
    let user = &text(r);
    if system.contains("metrics extraction") {
        "metric"
    } else if system.contains("careful reviewer") {
        "check"
    } else if system.contains("historian") {
        "summary"
    } else if user.contains("**UPDATED STATE:**") {
        "world"
    } else if user.contains("**ACTION:**") {
        "decision"
    } else {
        "communication"
    }
}

use common::run_spec as spec;

fn run(
    store: &MemoryStorage,
    llm: &ScriptedLlm,
    s: &Scenario,
    spec: &RunSpec,
    dir: &str,
) -> RunOutcome {
    let clock = llm.clock.clone();
    let endpoints = fake_endpoints();
    let client = Client::new(
        llm,
        &clock,
        endpoints,
        PriceBook::default(),
        RetryPolicy::default(),
    );
    drive(&clock, engine::run(store, &client, &clock, s, spec, dir))
}

fn read(store: &MemoryStorage, path: &str) -> String {
    block_on(store.read(path))
        .unwrap()
        .unwrap_or_else(|| panic!("no file {path}"))
}

fn json(store: &MemoryStorage, path: &str) -> serde_json::Value {
    serde_json::from_str(&read(store, path)).unwrap()
}

fn shaped_llm(clock: &VirtualClock) -> ScriptedLlm {
    ScriptedLlm::new(clock, |_, r| Ok(shaped(r)))
}

#[test]
fn a_quick_run_writes_every_file() {
    let s = scenario("scenarios/quick-negotiation");
    let store = MemoryStorage::new();
    let llm = shaped_llm(&VirtualClock::new());
    let o = run(&store, &llm, &s, &spec(1), "out");
    assert_eq!(
        (o.standing.status, o.standing.current_turn),
        (RunStatus::Completed, 3),
        "{o:?}"
    );
    for f in [
        "world-state-000.md",
        "world-state-003.md",
        "council-001.md",
        "swiftride-003.md",
        "metrics.json",
        "costs.json",
        "scenario-state.json",
        "scenario.log",
        "llm-calls.jsonl",
    ] {
        read(&store, &format!("out/{f}"));
    }
    assert!(
        read(&store, "out/world-state-000.md").contains(s.initial_world_state.trim()),
        "turn 0 is the true initial state"
    );
    let state = json(&store, "out/scenario-state.json");
    assert_eq!(
        (state["status"].as_str(), state["current_turn"].as_u64()),
        (Some("completed"), Some(3))
    );
    let metrics = json(&store, "out/metrics.json");
    assert!(
        metrics["final_metrics"]["data_sharing_level"].is_number(),
        "{metrics:#}"
    );
    assert!(metrics["metrics_by_turn"]["1"].is_object());
    assert!(metrics["records"].as_array().unwrap().len() >= 6);
    let costs = json(&store, "out/costs.json");
    // 2 decisions + 1 world update per turn, 3 turns; the summary is not needed with a window of 2 until turn 4.
    assert_eq!(costs["calls"].as_u64(), Some(9));
    assert!((costs["total_cost"].as_f64().unwrap() - llm.billed.get()).abs() < 1e-12);
    let by_role: f64 = costs["by_role"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((by_role - llm.billed.get()).abs() < 1e-12);
}

fn decision_prompts(llm: &ScriptedLlm, turn: u32) -> Vec<(String, String)> {
    llm.requests
        .borrow()
        .iter()
        .filter(|r| {
            text(r).contains("**ACTION:**")
                && r.messages
                    .last()
                    .unwrap()
                    .content
                    .contains(&format!("Turn {turn} of"))
        })
        .map(|r| {
            (
                r.messages[0].content.clone(),
                r.messages.last().unwrap().content.clone(),
            )
        })
        .collect()
}

#[test]
fn phases_run_in_order_and_decisions_are_simultaneous() {
    let s = scenario("scenarios/city-ai-rollout");
    let store = MemoryStorage::new();
    let llm = shaped_llm(&VirtualClock::new());
    let o = run(&store, &llm, &s, &spec(7), "out");
    assert_eq!(o.standing.status, RunStatus::Completed, "{o:?}");
    // Turn 1's calls, in the order they were sent.
    let kinds: Vec<&str> = llm
        .requests
        .borrow()
        .iter()
        .take_while(|r| !r.messages.last().unwrap().content.contains("Turn 2 of"))
        .map(kind)
        .collect();
    let first = |k: &str| {
        kinds
            .iter()
            .position(|x| *x == k)
            .unwrap_or_else(|| panic!("no {k} call in {kinds:?}"))
    };
    let last = |k: &str| kinds.iter().rposition(|x| *x == k).unwrap();
    assert!(last("communication") < first("decision"), "{kinds:?}");
    assert!(last("decision") < first("world"), "{kinds:?}");
    assert!(
        first("world") < first("metric") && first("world") < first("check"),
        "{kinds:?}"
    );
    // No decision of turn t shows an action of turn t.
    for turn in 1..=s.turns {
        let actions: Vec<String> = s
            .actors
            .iter()
            .map(|a| read(&store, &format!("out/{}-{turn:03}.md", a.short_name)))
            .map(|f| f.split("## Action\n\n").nth(1).unwrap().trim().to_string())
            .collect();
        for (_, prompt) in decision_prompts(&llm, turn) {
            for a in &actions {
                assert!(
                    !prompt.contains(a.as_str()),
                    "turn {turn}: a decision prompt shows `{a}`"
                );
            }
        }
    }
    // The actors decide concurrently.
    assert!(llm.peak.get() >= s.actors.len(), "peak {}", llm.peak.get());
}

#[test]
fn messages_reach_participants_in_the_same_turn_and_no_one_else() {
    let s = scenario("scenarios/city-ai-rollout");
    let store = MemoryStorage::new();
    let llm = shaped_llm(&VirtualClock::new());
    run(&store, &llm, &s, &spec(3), "out");
    let files = files_under(&store, "out", &[]);
    let channel = files
        .iter()
        .find(|(n, _)| n.starts_with("bilateral-") && n.ends_with("-001.md"))
        .expect("a bilateral exchange in turn 1");
    let note = channel
        .1
        .lines()
        .find(|l| l.contains("private note m"))
        .unwrap()
        .trim()
        .to_string();
    let participants: Vec<&str> = channel
        .1
        .lines()
        .find_map(|l| l.strip_prefix("**Participants:** "))
        .unwrap()
        .split(", ")
        .collect();
    for (system, prompt) in decision_prompts(&llm, 1) {
        let who = s
            .actors
            .iter()
            .find(|a| {
                system.contains(
                    a.system_prompt
                        .as_deref()
                        .unwrap_or(&format!("You are {}", a.name))
                        .trim(),
                )
            })
            .unwrap();
        let sees = prompt.contains(&note);
        assert_eq!(
            sees,
            participants.contains(&who.short_name.as_str()),
            "{} sees the note: {sees}",
            who.short_name
        );
    }
}

#[test]
fn an_actor_without_a_system_prompt_gets_a_persona() {
    let s = scenario("scenarios/city-ai-rollout");
    let union = s
        .actors
        .iter()
        .find(|a| a.system_prompt.is_none())
        .expect("an actor with no system prompt");
    let store = MemoryStorage::new();
    let llm = shaped_llm(&VirtualClock::new());
    run(&store, &llm, &s, &spec(3), "out");
    let (system, _) = decision_prompts(&llm, 1)
        .into_iter()
        .find(|(sys, _)| sys.contains(&format!("You are {}", union.name)))
        .expect("persona");
    assert!(
        system.contains(union.goals[0].as_str()),
        "goals in the persona"
    );
    assert!(
        system.starts_with(s.system_prompt.as_deref().unwrap().trim()),
        "scenario prompt first"
    );
}

#[test]
fn a_reply_without_tags_is_the_action_and_the_log_says_so() {
    let s = scenario("scenarios/quick-negotiation");
    let store = MemoryStorage::new();
    let llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| {
        let user = &text(r);
        if user.contains("**ACTION:**") && user.contains("You are Swiftride") {
            Ok("We hold our position and wait.".to_string())
        } else {
            Ok(shaped(r))
        }
    });
    run(&store, &llm, &s, &spec(1), "out");
    assert!(read(&store, "out/swiftride-001.md")
        .contains("## Action\n\nWe hold our position and wait."));
    assert!(read(&store, "out/scenario.log").contains("swiftride: the reply had no ACTION tag"));
}

#[test]
fn every_metric_type_and_llm_extraction() {
    let s = scenario("scenarios/city-ai-rollout");
    let store = MemoryStorage::new();
    let llm = shaped_llm(&VirtualClock::new());
    run(&store, &llm, &s, &spec(5), "out");
    let m = json(&store, "out/metrics.json");
    let records = m["records"].as_array().unwrap();
    for kind in ["keyword", "llm"] {
        assert!(
            records.iter().any(|r| r["extraction"] == kind),
            "no {kind} record"
        );
    }
    let llm_record = records
        .iter()
        .find(|r| r["extraction"] == "llm" && r["actor"].is_null())
        .unwrap();
    assert!(llm_record["value"].is_number());
    assert!(
        records.iter().any(|r| r["actor"] == "vendor"),
        "the actor-specific metric is read from the vendor's decision"
    );
}

#[test]
fn events_follow_the_seed_and_reach_the_world_update() {
    let s = scenario("scenarios/city-ai-rollout");
    let scheduled = s
        .events
        .iter()
        .find(|e| matches!(e.kind, scenario_lab::config::EventKind::Scheduled { .. }))
        .unwrap();
    let worlds = |seed| {
        let store = MemoryStorage::new();
        let llm = shaped_llm(&VirtualClock::new());
        run(&store, &llm, &s, &spec(seed), "out");
        let requests = llm.requests.borrow();
        requests
            .iter()
            .filter(|r| text(r).contains("**UPDATED STATE:**"))
            .map(|r| r.messages.last().unwrap().content.clone())
            .collect::<Vec<_>>()
    };
    let a = worlds(11);
    assert!(
        a[3].contains(&scheduled.name),
        "the scheduled event is in turn 4's world update"
    );
    assert!(!a[2].contains(&scheduled.name));
    assert_eq!(a, worlds(11), "same seed, same events and prompts");
}

#[test]
fn a_run_interrupted_mid_turn_resumes_without_paying_a_call_twice() {
    let s = scenario("scenarios/city-ai-rollout");
    // The uninterrupted run.
    let whole = MemoryStorage::new();
    let llm = shaped_llm(&VirtualClock::new());
    let o = run(&whole, &llm, &s, &spec(21), "out");
    let total_calls = llm.requests.borrow().len();
    assert_eq!(o.standing.status, RunStatus::Completed);
    // The same run, cut off in the middle of turn 2 by a failure that is not retried.
    let cut = MemoryStorage::new();
    let turn2 = llm
        .requests
        .borrow()
        .iter()
        .map(text)
        .position(|p| p.contains("Turn 2 of") && p.contains("**ACTION:**"))
        .unwrap()
        + 1;
    let failing = ScriptedLlm::new(&VirtualClock::new(), move |n, r| {
        if n >= turn2 {
            Err(LlmError::Status {
                status: 400,
                body: "stop".into(),
                retry_after: None,
            })
        } else {
            Ok(shaped(r))
        }
    });
    let o = run(&cut, &failing, &s, &spec(21), "out");
    assert_eq!(
        (o.standing.status, o.standing.current_turn),
        (RunStatus::Failed, 1),
        "{o:?}"
    );
    // Resumed: only the missing calls are sent, and the files are those of the whole run.
    let healthy = shaped_llm(&VirtualClock::new());
    let o = run(&cut, &healthy, &s, &spec(21), "out");
    assert_eq!(o.standing.status, RunStatus::Completed, "{o:?}");
    assert_eq!(
        healthy.requests.borrow().len(),
        total_calls - turn2,
        "calls sent on resume"
    );
    assert_eq!(o.calls_replayed as usize, turn2);
    // The call logs hold the same calls (the generation ids of the second session differ).
    let calls = |store: &MemoryStorage| -> Vec<(String, String, String)> {
        read(store, "out/llm-calls.jsonl")
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .map(|v| {
                (
                    v["key"].to_string(),
                    v["request_hash"].to_string(),
                    v["reply"].to_string(),
                )
            })
            .collect()
    };
    assert_eq!(calls(&whole), calls(&cut));
    let a = files_under(&whole, "out", &["scenario.log", "llm-calls.jsonl"]);
    let b = files_under(&cut, "out", &["scenario.log", "llm-calls.jsonl"]);
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, text) in &a {
        assert_eq!(text, &b[name], "{name} differs");
    }
}

#[test]
fn a_cut_log_line_is_sent_again() {
    let s = scenario("scenarios/quick-negotiation");
    let store = MemoryStorage::new();
    let llm = shaped_llm(&VirtualClock::new());
    run(&store, &llm, &s, &spec(2), "out");
    let log = read(&store, "out/llm-calls.jsonl");
    let lines: Vec<&str> = log.lines().collect();
    // A kill while appending the 5th line leaves half of it.
    let cut = format!(
        "{}\n{}",
        lines[..4].join("\n"),
        &lines[4][..lines[4].len() / 2]
    );
    let store2 = MemoryStorage::new();
    store2.insert("out/llm-calls.jsonl", &cut);
    let llm2 = shaped_llm(&VirtualClock::new());
    let o = run(&store2, &llm2, &s, &spec(2), "out");
    assert_eq!(
        (o.standing.status, o.calls_replayed),
        (RunStatus::Completed, 4)
    );
    assert_eq!(llm2.requests.borrow().len(), lines.len() - 4);
}

#[test]
fn a_branch_reuses_the_first_turns_then_diverges() {
    let s = scenario("scenarios/quick-negotiation");
    let store = MemoryStorage::new();
    let llm = shaped_llm(&VirtualClock::new());
    run(&store, &llm, &s, &spec(30), "a");
    let log = read(&store, "a/llm-calls.jsonl");
    let upto: String = log
        .lines()
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["turn"]
                .as_u64()
                .unwrap()
                <= 1
        })
        .map(|l| format!("{l}\n"))
        .collect();
    store.insert("b/llm-calls.jsonl", &upto);
    let mut b = spec(31);
    b.branch = Some(Branch {
        from: "a".into(),
        at_turn: 1,
        source_seed: 30,
    });
    let llm_b = shaped_llm(&VirtualClock::new());
    let o = run(&store, &llm_b, &s, &b, "b");
    assert_eq!(o.standing.status, RunStatus::Completed);
    assert_eq!(o.calls_replayed, 3, "turn 1's calls come from the source");
    assert_eq!(
        read(&store, "a/world-state-001.md"),
        read(&store, "b/world-state-001.md")
    );
    assert_ne!(
        read(&store, "a/world-state-002.md"),
        read(&store, "b/world-state-002.md")
    );
}

#[test]
fn a_run_stops_at_its_cost_limit() {
    let s = scenario("scenarios/city-ai-rollout");
    let store = MemoryStorage::new();
    let llm = shaped_llm(&VirtualClock::new());
    let mut sp = spec(4);
    sp.cost_limit = Some(0.02);
    let prices = PriceBook::new(
        &[
            ("openai/gpt-4o-mini", 0.15, 0.6),
            ("openai/gpt-4o", 2.5, 10.0),
            ("anthropic/claude-3.5-haiku", 0.8, 4.0),
            ("google/gemini-2.5-flash", 0.3, 2.5),
        ]
        .iter()
        .map(|(m, p, c)| {
            (
                m.to_string(),
                scenario_lab::config::ModelPrice {
                    prompt: *p,
                    completion: *c,
                    ..Default::default()
                },
            )
        })
        .collect(),
    );
    let clock = llm.clock.clone();
    let client = Client::new(
        &llm,
        &clock,
        fake_endpoints(),
        prices,
        RetryPolicy::default(),
    );
    let o = drive(&clock, engine::run(&store, &client, &clock, &s, &sp, "out"));
    assert_eq!(
        (o.standing.status, o.standing.halt_reason),
        (RunStatus::Halted, Some(HaltReason::CostLimit)),
        "{o:?}"
    );
    assert!(o.total_cost <= 0.02, "{}", o.total_cost);
    assert_eq!(json(&store, "out/scenario-state.json")["status"], "halted");
    assert!(
        (json(&store, "out/costs.json")["total_cost"]
            .as_f64()
            .unwrap()
            - llm.billed.get())
        .abs()
            < 1e-12
    );
}

/// A model with no price has no bound to break: what its provider bills is recorded, and the
/// run goes on (it is not taken for a provider that ignored its cap).
#[test]
fn a_billed_call_of_an_unpriced_model_is_not_an_overrun() {
    let s = scenario("scenarios/quick-negotiation");
    let store = MemoryStorage::new();
    let llm = shaped_llm(&VirtualClock::new());
    let mut sp = spec(4);
    sp.cost_limit = Some(1.0);
    let o = run(&store, &llm, &s, &sp, "out");
    assert_eq!(o.standing.status, RunStatus::Completed, "{o:?}");
    assert!(o.total_cost > 0.0, "the provider's bill is recorded");
    assert!(!read(&store, "out/scenario.log").contains("a budget cannot be guaranteed"));
}

#[test]
fn retries_honour_retry_after_in_simulated_time() {
    let s = scenario("scenarios/quick-negotiation");
    let store = MemoryStorage::new();
    let llm = ScriptedLlm::new(&VirtualClock::new(), |n, r| {
        if n < 2 {
            Err(LlmError::Status {
                status: 429,
                body: String::new(),
                retry_after: Some(30.0),
            })
        } else {
            Ok(shaped(r))
        }
    });
    let o = run(&store, &llm, &s, &spec(1), "out");
    assert_eq!(o.standing.status, RunStatus::Completed);
    assert!(
        llm.clock.now_ms() >= 30_000.0,
        "waited for Retry-After: {}",
        llm.clock.now_ms()
    );
    assert!(read(&store, "out/scenario.log").contains("answered after 2 attempts"));
}

/// An intervention takes effect at the start of its turn and not before (issue 13, part 3):
/// the requests of the turns before it are those of the same run without it, byte for byte (so
/// an arm can replay its source's); from its turn the arm's change shows in what is asked; and
/// the intervention is in the run's spec, so a resumed or branched run keeps it.
#[test]
fn an_intervention_changes_nothing_before_its_turn() {
    use scenario_lab::config::{Arm, Intervention};
    let s = scenario("scenarios/quick-negotiation");
    let store = MemoryStorage::new();
    common::quick_negotiation(&store, "s", |t| t.to_string());
    let plain = shaped_llm(&VirtualClock::new());
    run(&store, &plain, &s, &spec(5), "a");
    let mut sp = spec(5);
    sp.modifications.intervention = Some(Intervention {
        at_turn: 2,
        arm: Arm {
            name: "shock".into(),
            event: Some("A leaked memo shows the deal was drafted by SwiftRide.".into()),
            world_state: Some("**Council vote.** Data sharing is frozen.".into()),
            actor: Some("council".into()),
            model: Some("test/other".into()),
            goals: Some(vec!["Share no trip data at all".into()]),
            ..Default::default()
        },
    });
    let arm = shaped_llm(&VirtualClock::new());
    let o = run(&store, &arm, &s, &sp, "b");
    assert_eq!(o.standing.status, RunStatus::Completed, "{o:?}");
    let (a, b) = (plain.requests.borrow(), arm.requests.borrow());
    assert_eq!(a[..3], b[..3], "turn 1 asks the same, byte for byte");
    let turn2 = &b[3..6];
    let text = |r: &scenario_lab::host::ChatRequest| {
        r.messages
            .iter()
            .map(|m| m.content.as_str())
            .collect::<String>()
    };
    let council = turn2
        .iter()
        .find(|r| text(r).contains("Share no trip data at all"))
        .expect("the council decides with its new goals");
    assert_eq!(council.model, "test/other");
    assert!(turn2
        .iter()
        .all(|r| text(r).contains("**Council vote.** Data sharing is frozen.")));
    let world = &b[5];
    assert!(
        text(world).contains("A leaked memo shows"),
        "the event reaches the world update"
    );
    assert!(read(&store, "b/world-state-002.md").contains("- **shock:** A leaked memo"));
    assert_eq!(
        read(&store, "a/world-state-001.md"),
        read(&store, "b/world-state-001.md")
    );
    assert!(read(&store, "b/scenario.log").contains(
        "[turn 2] intervention `shock` takes effect: an event, text added to the world state, the model of council (test/other), the goals of council"
    ));
    assert_eq!(
        json(&store, "b/scenario-state.json")["actors"]["council"]["model"],
        "test/other",
        "the state shows the models of the last turn played"
    );
    // The spec, with its intervention, is in the state file: resuming and branching keep it.
    for req in [
        engine::session::Request {
            resume: Some("b".into()),
            ..Default::default()
        },
        engine::session::Request {
            branch_from: Some("b".into()),
            at_turn: Some(1),
            ..Default::default()
        },
    ] {
        let p =
            block_on(engine::session::prepare(&store, &req, 9)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            p.spec.modifications.intervention,
            sp.modifications.intervention
        );
    }
    // A resume of the arm cut in turn 2 replays turn 1 and what it logged, and asks the rest
    // with the intervention: the same files.
    let log = read(&store, "b/llm-calls.jsonl");
    let cut: String = log.lines().take(4).map(|l| format!("{l}\n")).collect();
    store.insert("c/llm-calls.jsonl", &cut);
    let again = shaped_llm(&VirtualClock::new());
    let o = run(&store, &again, &s, &sp, "c");
    assert_eq!(
        (o.standing.status, o.calls_replayed),
        (RunStatus::Completed, 4)
    );
    for f in ["world-state-002.md", "world-state-003.md", "metrics.json"] {
        assert_eq!(
            read(&store, &format!("b/{f}")),
            read(&store, &format!("c/{f}")),
            "{f}"
        );
    }
}
