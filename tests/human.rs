//! A person in an actor's seat (issue 16, part 3), in simulated time: the person is asked what
//! a model in the seat would be asked, with no time limit; the reply is read by the same
//! parser and logged as model `human` at $0, so that a resume asks nobody twice; `human: true`
//! and `control: human` load; a batch that runs several runs at once refuses a seat a person
//! plays; `--human` names an actor or is refused with the list of actors.
mod common;

use std::cell::RefCell;

use common::sim::{drive, fake_endpoints, shaped, ScriptedLlm, VirtualClock};
use common::{block_on, quick_negotiation};
use scenario_lab::config::{load_batch, load_scenario, Scenario};
use scenario_lab::engine::session::{self, PrepareError, Request};
use scenario_lab::engine::{self, RunOutcome, RunSpec, RunStatus};
use scenario_lab::host::{
    ChatRequest, ChatResponse, Clock, Llm, LlmError, MemoryStorage, PersonPrompt, Storage,
};
use scenario_lab::llm::route::HUMAN;
use scenario_lab::llm::{Client, RetryPolicy};
use scenario_lab::pricing::PriceBook;

/// What the person does with the n-th question.
type Answer = dyn Fn(usize, &PersonPrompt) -> Result<String, String>;

/// A host with a person, and a model server that answers every request with `model_reply`.
struct Host {
    clock: VirtualClock,
    /// Simulated time each answer takes.
    thinking_ms: f64,
    asked: RefCell<Vec<PersonPrompt>>,
    answer: Box<Answer>,
    model_reply: String,
}

impl Host {
    fn new(answer: impl Fn(usize, &PersonPrompt) -> Result<String, String> + 'static) -> Self {
        Host {
            clock: VirtualClock::new(),
            thinking_ms: 1000.0,
            asked: RefCell::new(Vec::new()),
            answer: Box::new(answer),
            model_reply: String::new(),
        }
    }
}

impl Llm for Host {
    async fn complete(&self, _: &str, _: &ChatRequest) -> Result<ChatResponse, LlmError> {
        Ok(ChatResponse {
            content: self.model_reply.clone(),
            usage: None,
            generation_id: None,
            finish_reason: Some("stop".into()),
        })
    }

    async fn ask_person(&self, prompt: &PersonPrompt) -> Result<String, String> {
        let n = {
            let mut asked = self.asked.borrow_mut();
            asked.push(prompt.clone());
            asked.len() - 1
        };
        self.clock.sleep(self.thinking_ms).await;
        (self.answer)(n, prompt)
    }
}

fn reply(turn: u32) -> String {
    format!(
        "**ACTION:**\nI offer district totals every week, turn {turn}.\n\n**REASONING:**\nA start."
    )
}

use common::run_spec as spec;

/// The quick-negotiation scenario in `store` with `council` played by a person.
fn with_person(store: &MemoryStorage) -> Scenario {
    quick_negotiation(store, "s", |t| {
        t.replace(
            "llm_model: \"builtin/simulator\"\n\n# No system_prompt",
            "human: true\n\n# No system_prompt",
        )
    });
    block_on(load_scenario(store, "s"))
        .unwrap_or_else(|e| panic!("{e}"))
        .value
}

fn run_with<L: Llm>(
    store: &MemoryStorage,
    llm: &L,
    clock: &VirtualClock,
    retry: RetryPolicy,
    s: &Scenario,
    spec: &RunSpec,
) -> RunOutcome {
    let client = Client::new(llm, clock, fake_endpoints(), PriceBook::default(), retry);
    drive(clock, engine::run(store, &client, clock, s, spec, "out"))
}

fn calls(store: &MemoryStorage) -> Vec<serde_json::Value> {
    block_on(store.read("out/llm-calls.jsonl"))
        .unwrap()
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn human_true_and_control_human_make_a_seat_a_person_plays() {
    let store = MemoryStorage::new();
    let s = with_person(&store);
    let council = &s.actors[s.find_actor("council").unwrap()];
    assert_eq!(
        (council.model.as_str(), council.human_line),
        (HUMAN, Some(3))
    );
    assert!(!s.actors[s.find_actor("swiftride").unwrap()].is_human());
    // The original's `control: human`, with its model kept for nothing.
    quick_negotiation(&store, "o", |t| {
        t.replace(
            "short_name: \"council\"",
            "short_name: \"council\"\ncontrol: human",
        )
    });
    let o = block_on(load_scenario(&store, "o")).unwrap().value;
    assert!(o.actors[o.find_actor("council").unwrap()].is_human());
    // `human:` is true or false.
    quick_negotiation(&store, "b", |t| {
        t.replace(
            "short_name: \"council\"",
            "short_name: \"council\"\nhuman: maybe",
        )
    });
    let e = block_on(load_scenario(&store, "b"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("`human` must be true or false"), "{e}");
}

/// The person sees exactly the messages a model in the seat is sent, and the reply goes
/// through the same parser into the decision file and the call log (model `human`, $0, no
/// tokens).
#[test]
fn the_person_is_asked_what_a_model_would_be_and_the_reply_is_logged_at_no_cost() {
    // The seat played by a model, for the prompt a model gets.
    let model_store = MemoryStorage::new();
    quick_negotiation(&model_store, "s", |t| {
        t.replace(
            "llm_model: \"builtin/simulator\"\n\n# No system_prompt",
            "llm_model: \"test/model\"\n\n# No system_prompt",
        )
    });
    let ms = block_on(load_scenario(&model_store, "s")).unwrap().value;
    let model = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
    let clock = model.clock.clone();
    run_with(
        &model_store,
        &model,
        &clock,
        RetryPolicy::default(),
        &ms,
        &spec(5),
    );
    let first_model_request = model.requests.borrow()[0].messages.clone();

    let store = MemoryStorage::new();
    let s = with_person(&store);
    let host = Host::new(|_, p| Ok(reply(p.turn)));
    let clock = host.clock.clone();
    let o = run_with(&store, &host, &clock, RetryPolicy::default(), &s, &spec(5));
    assert_eq!(o.standing.status, RunStatus::Completed, "{o:?}");
    let asked = host.asked.borrow();
    assert_eq!(asked.len(), 3, "one decision a turn");
    assert_eq!(asked[0].messages, first_model_request);
    assert_eq!(
        (
            asked[0].key.as_str(),
            asked[0].actor.as_deref(),
            asked[0].turn
        ),
        ("t1/decision/council", Some("council"), 1)
    );
    let log = calls(&store);
    let mine: Vec<&serde_json::Value> = log.iter().filter(|c| c["model"] == HUMAN).collect();
    assert_eq!(mine.len(), 3);
    for c in &mine {
        assert_eq!(c["cost_nanos"], 0);
        assert_eq!(c["cost_source"], "free");
        assert_eq!(c["provider"], "human");
        assert_eq!(
            (c["prompt_tokens"].as_u64(), c["completion_tokens"].as_u64()),
            (Some(0), Some(0))
        );
    }
    assert_eq!(mine[1]["reply"], reply(2));
    let decision = block_on(store.read("out/council-002.md")).unwrap().unwrap();
    assert!(
        decision.contains("I offer district totals every week, turn 2."),
        "{decision}"
    );
    assert!(
        decision.contains("human"),
        "the file names who played: {decision}"
    );
}

/// What the person is shown holds other models' replies: their terminal control sequences are
/// taken out, so that a reply cannot recolour, move or retitle the person's terminal.
#[test]
fn the_person_is_not_shown_a_models_terminal_escapes() {
    let store = MemoryStorage::new();
    let mut s = with_person(&store);
    s.world_state_model = "test/model".into();
    let mut host = Host::new(|_, p| Ok(reply(p.turn)));
    host.model_reply =
        "**UPDATED STATE:**\n\u{1b}]0;owned\u{7}\u{1b}[31mThe talks stall.\u{1b}[0m\u{8}".into();
    let clock = host.clock.clone();
    let o = run_with(&store, &host, &clock, RetryPolicy::default(), &s, &spec(5));
    assert_eq!(o.standing.status, RunStatus::Completed, "{o:?}");
    let asked = host.asked.borrow();
    let turn2: String = asked[1]
        .messages
        .iter()
        .map(|m| m.content.as_str())
        .collect();
    assert!(turn2.contains("The talks stall."), "{turn2}");
    assert!(
        !turn2
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "{turn2:?}"
    );
}

/// A person may think for hours: no per-call time limit applies to them, even a short
/// `call_timeout`, and nothing is retried.
#[test]
fn a_person_thinking_for_hours_is_not_timed_out() {
    let store = MemoryStorage::new();
    let s = with_person(&store);
    let mut host = Host::new(|_, p| Ok(reply(p.turn)));
    host.thinking_ms = 3.0 * 3600.0 * 1000.0;
    let clock = host.clock.clone();
    let retry = RetryPolicy {
        timeout_ms: Some(5_000.0),
        ..Default::default()
    };
    let o = run_with(&store, &host, &clock, retry, &s, &spec(5));
    assert_eq!(o.standing.status, RunStatus::Completed, "{o:?}");
    assert_eq!(host.asked.borrow().len(), 3);
    assert!(calls(&store).iter().all(|c| c["attempts"] == 1));
}

/// A run stopped at the person's second question resumes from the call log: the person is
/// not asked again for the decision already recorded.
#[test]
fn a_resumed_run_does_not_ask_the_person_again() {
    let store = MemoryStorage::new();
    let s = with_person(&store);
    let quits = Host::new(|n, p| {
        if n == 0 {
            Ok(reply(p.turn))
        } else {
            Err("the person left".into())
        }
    });
    let clock = quits.clock.clone();
    let o = run_with(&store, &quits, &clock, RetryPolicy::default(), &s, &spec(9));
    assert_eq!(o.standing.status, RunStatus::Failed, "{o:?}");
    let error = o.standing.error.clone().unwrap_or_default();
    assert!(
        error.contains("the person in the seat gave no reply: the person left"),
        "{error}"
    );
    let back = Host::new(|_, p| Ok(reply(p.turn)));
    let clock = back.clock.clone();
    let o = run_with(&store, &back, &clock, RetryPolicy::default(), &s, &spec(9));
    assert_eq!(o.standing.status, RunStatus::Completed, "{o:?}");
    let turns: Vec<u32> = back.asked.borrow().iter().map(|p| p.turn).collect();
    assert_eq!(
        turns,
        [2, 3],
        "turn 1's decision is replayed, not asked again"
    );
}

/// A run's cost limit does not refuse a person's calls (they cost nothing, and nothing is
/// reserved for them).
#[test]
fn a_cost_limit_does_not_refuse_a_person() {
    let store = MemoryStorage::new();
    let s = with_person(&store);
    let host = Host::new(|_, p| Ok(reply(p.turn)));
    let clock = host.clock.clone();
    let mut sp = spec(3);
    sp.cost_limit = Some(0.000_001);
    let o = run_with(&store, &host, &clock, RetryPolicy::default(), &s, &sp);
    assert_eq!(
        (o.standing.status, o.total_cost),
        (RunStatus::Completed, 0.0),
        "{o:?}"
    );
}

fn prepare(store: &MemoryStorage, req: &Request) -> Result<session::Prepared, PrepareError> {
    block_on(session::prepare(store, req, 1))
}

#[test]
fn human_names_an_actor_or_is_refused_with_the_list() {
    let store = MemoryStorage::new();
    quick_negotiation(&store, "s", |t| t.to_string());
    let req = |who: &str| Request {
        scenario_dir: Some("s".into()),
        human: vec![who.into()],
        ..Default::default()
    };
    // By short name, or by display name; kept in the spec for a resume.
    for who in ["swiftride", "Swiftride Mobility Inc."] {
        let p = prepare(&store, &req(who)).unwrap_or_else(|e| panic!("{who}: {e}"));
        assert!(p.scenario.actors[p.scenario.find_actor("swiftride").unwrap()].is_human());
        assert_eq!(p.spec.modifications.actor_models["swiftride"], HUMAN);
    }
    let e = prepare(&store, &req("mayor")).unwrap_err().to_string();
    assert!(e.contains("--human `mayor`: the scenario has no such actor; its actors are council (Kestrel Bay Transport Committee), swiftride ("), "{e}");
    let e = prepare(
        &store,
        &Request {
            resume: Some("out".into()),
            human: vec!["council".into()],
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("--human is for a new run"), "{e}");
}

#[test]
fn a_host_with_nobody_to_ask_refuses_the_run_at_once() {
    let store = MemoryStorage::new();
    let s = with_person(&store);
    let e = session::check_person(&s.person_seats(), false)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("a person plays `council` (human: true in s/actors/council.yaml, line 3)"),
        "{e}"
    );
    assert!(session::check_person(&s.person_seats(), true).is_ok());
    let p = prepare(
        &store,
        &Request {
            scenario_dir: Some("s".into()),
            human: vec!["swiftride".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let e = session::check_person(&p.scenario.person_seats(), false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`swiftride` (--human swiftride)"), "{e}");
    // A batch whose variation seats a person.
    store.insert(
        "b.yaml",
        "experiment_name: e\nbase_scenario: s\nvariations:\n  - type: actor_model\n    actor: swiftride\n    values: [builtin/simulator, human]\n",
    );
    let config = block_on(load_batch(&store, "b.yaml")).unwrap().value;
    let e = session::check_person(&config.person_seats(), false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`council` (human: true in s/actors/council.yaml, line 3) and `swiftride` (an actor_model variation's value `human` in b.yaml)"), "{e}");
}

#[test]
fn a_batch_of_parallel_runs_refuses_a_seat_a_person_plays() {
    let store = MemoryStorage::new();
    with_person(&store);
    let config = |extra: &str| {
        format!("experiment_name: e\nbase_scenario: s\nruns_per_variation: 2\n{extra}")
    };
    store.insert("b.yaml", &config("max_parallel: 2\n"));
    let e = block_on(load_batch(&store, "b.yaml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("s/actors/council.yaml:3"), "{e}");
    assert!(e.contains("actor `council` is played by a person, and this batch runs up to 2 runs at once (`max_parallel: 2` in b.yaml)"), "{e}");
    assert!(e.contains("`max_parallel: 1` in b.yaml"), "{e}");
    store.insert("b.yaml", &config("max_parallel: 1\n"));
    assert!(block_on(load_batch(&store, "b.yaml")).is_ok());
    store.insert("b.yaml", &config(""));
    assert!(
        block_on(load_batch(&store, "b.yaml")).is_ok(),
        "max_parallel is 1 by default"
    );
    // A variation that seats a person is refused the same way, at its value.
    let models = MemoryStorage::new();
    quick_negotiation(&models, "s", |t| t.to_string());
    models.insert(
        "b.yaml",
        &config("max_parallel: 3\nvariations:\n  - type: actor_model\n    actor: swiftride\n    values: [builtin/simulator, human]\n"),
    );
    let e = block_on(load_batch(&models, "b.yaml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("b.yaml:8"), "{e}");
    assert!(e.contains("actor `swiftride` is played by a person"), "{e}");
}
