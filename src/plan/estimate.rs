//! What one run is expected to cost and how long it may take, from the calls it will make.
//!
//! The call model (per turn, for a scenario with N actors) is the engine's:
//! - actor: N decisions;
//! - world: 1 world update;
//! - communication (when enabled and `max_communications_per_turn` > 0): N planning calls,
//!   plus up to `max` bilateral replies, plus for coalitions one answer per invited actor and
//!   one message per member (low: planning only; expected: one coalition answer; high: all);
//! - metric: 1 per `llm` metric (N for an actor-specific one that names no actor);
//! - check: 1 per enabled check (N for the per-actor ones), when checks run every turn;
//! - summary: 1 per turn once older turns fall out of the context window.
//!
//! The token model: prompt sizes come from the scenario's own text (4 characters a token) plus
//! fixed overheads below; completion sizes are the low / expected figures of [`COMPLETION`], and
//! the high figure is the output cap the call is sent with ([`crate::config::Scenario::cap`]).
//! Prompts are scaled by 0.8 for the low estimate and 1.5 for the high one. All of it is an
//! estimate, stated as a range; the budget is enforced per call when the batch runs, not from
//! this.

use serde::{Deserialize, Serialize};

use crate::config::{Extraction, Scenario};
use crate::pricing::PriceBook;

/// The roles of LLM calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An actor's decision.
    Actor,
    /// The world update.
    World,
    /// Communication (planning, replies, coalition messages).
    Communication,
    /// LLM metric extraction.
    Metric,
    /// A quality check.
    Check,
    /// A summary of old turns.
    Summary,
}

impl Role {
    /// Its name in files and reports (`actor`, `world`, ...), as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Actor => "actor",
            Role::World => "world",
            Role::Communication => "communication",
            Role::Metric => "metric",
            Role::Check => "check",
            Role::Summary => "summary",
        }
    }
}

/// Every role, in report order.
pub const ROLES: [Role; 6] = [
    Role::Actor,
    Role::World,
    Role::Communication,
    Role::Metric,
    Role::Check,
    Role::Summary,
];

/// Completion tokens of each role: (low, expected, default cap), and the fixed prompt overhead
/// (the instructions) in tokens.
///
/// The cap is what a call of the role is sent with as `max_tokens` unless the scenario, the
/// batch config, the actor or `--max-tokens` says otherwise. Each is about twice what its
/// prompt asks for from a capable model, so that a good answer is never cut and a runaway one
/// (a small model that never stops, a reasoning model that thinks at length) costs a bounded
/// amount:
/// - actor: 2-4 goals, 1-3 priorities, the reasoning and the action, 250-450 tokens;
/// - world: 2-4 paragraphs and five bullets, 350-550 tokens;
/// - communication: one short message or reply, 50-150 tokens;
/// - metric: one number or category, under 10 tokens (40 leaves room for a sentence around it);
/// - check: a verdict, issues, a severity and an explanation, 100-200 tokens;
/// - summary: several turns folded into a few paragraphs, 200-300 tokens.
pub const COMPLETION: [(Role, f64, f64, u32, f64); 6] = [
    (Role::Actor, 150.0, 400.0, 800, 250.0),
    (Role::World, 250.0, 600.0, 1000, 200.0),
    (Role::Communication, 60.0, 150.0, 300, 150.0),
    (Role::Metric, 2.0, 5.0, 40, 100.0),
    (Role::Check, 60.0, 200.0, 400, 150.0),
    (Role::Summary, 150.0, 300.0, 600, 100.0),
];

/// (low, expected, cap, overhead) of a role.
fn role_model(role: Role) -> (f64, f64, u32, f64) {
    let (_, l, e, h, o) = COMPLETION
        .iter()
        .find(|r| r.0 == role)
        .copied()
        .unwrap_or((role, 0.0, 0.0, 0, 0.0));
    (l, e, h, o)
}

/// The output cap a call of `role` is sent with when nothing overrides it.
pub fn default_cap(role: Role) -> u32 {
    role_model(role).2
}

impl std::str::FromStr for Role {
    type Err = ();
    fn from_str(s: &str) -> Result<Role, ()> {
        ROLES.into_iter().find(|r| r.as_str() == s).ok_or(())
    }
}

/// Tokens of a text, estimated at 4 characters a token.
pub fn tokens(text: &str) -> f64 {
    (text.chars().count() as f64 / 4.0).ceil()
}

/// A low / expected / high triple.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Range {
    /// Low.
    pub low: f64,
    /// Expected.
    pub expected: f64,
    /// High.
    pub high: f64,
}

impl Range {
    /// Adds another range, figure by figure.
    pub fn add(&mut self, other: Range) {
        self.low += other.low;
        self.expected += other.expected;
        self.high += other.high;
    }

    /// Every figure times `k`.
    pub fn scale(self, k: f64) -> Range {
        Range {
            low: self.low * k,
            expected: self.expected * k,
            high: self.high * k,
        }
    }
}

/// Calls of one run, by role.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Calls {
    /// Actor decisions.
    pub actor: Range,
    /// World updates.
    pub world: Range,
    /// Communication calls.
    pub communication: Range,
    /// Metric extraction calls.
    pub metric: Range,
    /// Quality-check calls.
    pub check: Range,
    /// Summary calls.
    pub summary: Range,
}

impl Calls {
    /// Every role's calls times `k`.
    pub fn scale(&self, k: f64) -> Calls {
        let mut out = Calls::default();
        for r in ROLES {
            *out.slot(r) = self.get(r).scale(k);
        }
        out
    }

    /// The calls of one role, to change.
    pub fn slot(&mut self, role: Role) -> &mut Range {
        match role {
            Role::Actor => &mut self.actor,
            Role::World => &mut self.world,
            Role::Communication => &mut self.communication,
            Role::Metric => &mut self.metric,
            Role::Check => &mut self.check,
            Role::Summary => &mut self.summary,
        }
    }

    /// The calls of one role.
    pub fn get(&self, role: Role) -> Range {
        match role {
            Role::Actor => self.actor,
            Role::World => self.world,
            Role::Communication => self.communication,
            Role::Metric => self.metric,
            Role::Check => self.check,
            Role::Summary => self.summary,
        }
    }

    /// All calls.
    pub fn total(&self) -> Range {
        let mut t = Range::default();
        for r in ROLES {
            t.add(self.get(r));
        }
        t
    }
}

/// The estimate of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RunEstimate {
    /// Calls by role.
    pub calls: Calls,
    /// USD, when every model's price is known.
    pub cost: Option<Range>,
    /// USD with `execution: batch`: the calls of hosted models at their batch price, the
    /// others (local servers, the simulator, which have no batch API) at their own.
    #[serde(default)]
    pub cost_batch: Option<Range>,
    /// USD by role (the part whose prices are known).
    pub cost_by_role: Vec<(Role, Range)>,
    /// Models with no known price.
    pub unknown_price_models: Vec<String>,
    /// Seconds of one run, expected, along the critical path.
    pub seconds: f64,
    /// USD reserved for the dearest single call, about: its prompt at 4 bytes a token (the
    /// budget's bound counts bytes) and its cap. A limit below it cannot pay for that call.
    #[serde(default)]
    pub largest_reservation: f64,
}

impl RunEstimate {
    /// This estimate and `other`'s, as of one run that makes both's calls (the turns of one
    /// scenario, then those of another).
    pub fn plus(mut self, other: &RunEstimate) -> RunEstimate {
        for r in ROLES {
            self.calls.slot(r).add(other.calls.get(r));
        }
        let sum = |a: Option<Range>, b: Option<Range>| {
            let (mut a, b) = (a?, b?);
            a.add(b);
            Some(a)
        };
        self.cost = sum(self.cost, other.cost);
        self.cost_batch = sum(self.cost_batch, other.cost_batch);
        for (role, r) in &other.cost_by_role {
            match self.cost_by_role.iter_mut().find(|(x, _)| x == role) {
                Some((_, acc)) => acc.add(*r),
                None => self.cost_by_role.push((*role, *r)),
            }
        }
        for m in &other.unknown_price_models {
            if !self.unknown_price_models.contains(m) {
                self.unknown_price_models.push(m.clone());
            }
        }
        self.unknown_price_models.sort();
        self.seconds += other.seconds;
        self.largest_reservation = self.largest_reservation.max(other.largest_reservation);
        self
    }
}

/// Seconds one call takes: a first-token latency plus generation. The built-in simulator
/// answers at once; local servers are slower to start than hosted APIs but not to stream.
pub fn call_seconds(model: &str, completion_tokens: f64) -> f64 {
    if model.starts_with(crate::llm::builtin::PREFIX) {
        0.0
    } else if crate::llm::route::is_local(model) {
        0.5 + completion_tokens / 30.0
    } else {
        0.8 + completion_tokens / 60.0
    }
}

/// One kind of call in a turn: who makes it, on which model, how many times (low / expected
/// / high), with what prompt, and its output cap.
struct CallKind<'a> {
    role: Role,
    model: &'a str,
    count: Range,
    prompt: f64,
    max_tokens: u32,
}

/// Estimates one run of `scenario`, priced by `book`.
pub fn estimate_run(scenario: &Scenario, book: &PriceBook) -> RunEstimate {
    estimate_turns(scenario, book, 1..=scenario.turns)
}

/// Estimates `turns` of a run of `scenario` (an intervention's arm pays only for the turns from
/// the intervention's on; see `sharing.rs`).
pub fn estimate_turns(
    scenario: &Scenario,
    book: &PriceBook,
    turns: std::ops::RangeInclusive<u32>,
) -> RunEstimate {
    let mut est = RunEstimate::default();
    let mut by_role: Vec<(Role, Range)> = ROLES.iter().map(|r| (*r, Range::default())).collect();
    let mut cost = Range::default();
    let mut batch_cost = Range::default();
    let n = scenario.actors.len() as f64;
    let sys = scenario.system_prompt.as_deref().map_or(0.0, tokens);
    let reference = scenario
        .background_information
        .as_deref()
        .map_or(0.0, tokens)
        + scenario
            .background_docs
            .iter()
            .map(|(_, t)| tokens(t))
            .sum::<f64>();
    let w0 = tokens(&scenario.initial_world_state);
    let (_, world_expected, _, _) = role_model(Role::World);
    let (_, action_expected, _, _) = role_model(Role::Actor);
    let (_, summary_expected, _, _) = role_model(Role::Summary);
    let comm = &scenario.communication;
    let comm_on = comm.enabled() && comm.max_per_turn > 0;
    let checks_on = scenario
        .checks
        .as_ref()
        .is_some_and(|c| c.run_after_each_turn);
    let window = scenario.context_window_size as f64;
    for (turn, weight) in walk(turns, scenario.context_window_size) {
        let past = (turn - 1) as f64;
        let world_now = if turn == 1 {
            w0
        } else {
            world_expected.max(w0)
        };
        let summarised = past > window;
        let context =
            past.min(window) * n * 150.0 + if summarised { summary_expected } else { 0.0 };
        let mut kinds: Vec<CallKind> = Vec::new();
        for a in &scenario.actors {
            let persona = persona_tokens(a);
            let prompt =
                sys + persona + reference + world_now + context + if comm_on { 150.0 } else { 0.0 };
            kinds.push(CallKind {
                role: Role::Actor,
                model: &a.model,
                count: Range {
                    low: 1.0,
                    expected: 1.0,
                    high: 1.0,
                },
                prompt,
                max_tokens: scenario.cap(Role::Actor, Some(a)),
            });
            if comm_on {
                let replies = (comm.max_per_turn as f64).min(n) / n;
                let bilateral = if comm.bilateral { replies } else { 0.0 };
                let (coal_exp, coal_high) = if comm.coalitions {
                    (1.0 / n, (2.0 * n - 1.0) / n)
                } else {
                    (0.0, 0.0)
                };
                let count = Range {
                    low: 1.0,
                    expected: 1.0 + bilateral + coal_exp,
                    high: 1.0 + bilateral + coal_high,
                };
                kinds.push(CallKind {
                    role: Role::Communication,
                    model: &a.model,
                    count,
                    prompt: sys + persona + world_now,
                    max_tokens: scenario.cap(Role::Communication, Some(a)),
                });
            }
        }
        kinds.push(CallKind {
            role: Role::World,
            model: &scenario.world_state_model,
            count: one(),
            prompt: sys + world_now + n * action_expected + 50.0,
            max_tokens: scenario.cap(Role::World, None),
        });
        for m in &scenario.metrics {
            if let Extraction::Llm { prompt, model } = &m.extraction {
                let times = if m.actor_specific && m.actor.is_none() {
                    n
                } else {
                    1.0
                };
                let model = model.as_deref().unwrap_or(&scenario.world_state_model);
                kinds.push(CallKind {
                    role: Role::Metric,
                    model,
                    count: one().scale(times),
                    prompt: tokens(prompt) + world_expected,
                    max_tokens: scenario.cap(Role::Metric, None),
                });
            }
        }
        if checks_on {
            let checks = scenario.checks.as_ref().expect("checks_on");
            let model = checks
                .model
                .as_deref()
                .unwrap_or(&scenario.world_state_model);
            for c in checks.enabled() {
                let times = if c.per_actor() { n } else { 1.0 };
                let template = c.prompt_template.as_deref().map_or(200.0, tokens);
                kinds.push(CallKind {
                    role: Role::Check,
                    model,
                    count: one().scale(times),
                    prompt: template + world_expected + action_expected,
                    max_tokens: scenario.cap(Role::Check, None),
                });
            }
        }
        if summarised {
            kinds.push(CallKind {
                role: Role::Summary,
                model: &scenario.world_state_model,
                count: one(),
                prompt: summary_expected + world_expected + n * 150.0,
                max_tokens: scenario.cap(Role::Summary, None),
            });
        }
        let mut turn_seconds: Vec<(Role, f64)> = Vec::new();
        for k in &kinds {
            let (cl, ce, _, overhead) = role_model(k.role);
            let cap = f64::from(k.max_tokens);
            let completion = Range {
                low: cl.min(cap),
                expected: ce.min(cap),
                high: cap,
            };
            let prompt = k.prompt + overhead;
            est.calls.slot(k.role).add(k.count.scale(weight));
            let secs = call_seconds(k.model, completion.expected);
            match turn_seconds.iter_mut().find(|(r, _)| *r == k.role) {
                Some((_, s)) => *s = s.max(secs),
                None => turn_seconds.push((k.role, secs)),
            }
            match book.price(k.model) {
                Some(price) => {
                    let c = Range {
                        low: k.count.low * price.cost_usd(prompt * 0.8, completion.low),
                        expected: k.count.expected * price.cost_usd(prompt, completion.expected),
                        high: k.count.high * price.cost_usd(prompt * 1.5, completion.high),
                    }
                    .scale(weight);
                    cost.add(c);
                    let batched = crate::llm::route::is_hosted(k.model);
                    batch_cost.add(if batched {
                        c.scale(price.batch_factor)
                    } else {
                        c
                    });
                    let reservation = price.cost_usd(
                        prompt * 4.0 + crate::llm::client::TEMPLATE_TOKENS_PER_REQUEST as f64,
                        cap,
                    );
                    est.largest_reservation = est.largest_reservation.max(reservation);
                    if let Some((_, r)) = by_role.iter_mut().find(|(r, _)| *r == k.role) {
                        r.add(c);
                    }
                }
                None => {
                    if !est.unknown_price_models.iter().any(|m| m == k.model) {
                        est.unknown_price_models.push(k.model.to_string());
                    }
                }
            }
        }
        // Communication takes two rounds (planning, then replies); everything else one.
        est.seconds += weight
            * turn_seconds
                .iter()
                .map(|(r, s)| {
                    if *r == Role::Communication {
                        2.0 * s
                    } else {
                        *s
                    }
                })
                .sum::<f64>();
    }
    est.unknown_price_models.sort();
    est.cost = est.unknown_price_models.is_empty().then_some(cost);
    est.cost_batch = est.unknown_price_models.is_empty().then_some(batch_cost);
    est.cost_by_role = by_role.into_iter().filter(|(_, r)| r.high > 0.0).collect();
    est
}

/// Turns walked one by one once the context window is full, before the rest are counted as
/// copies of the last: enough that every real scenario is summed turn by turn (exactly as
/// before), few enough that a hostile `turns: 1000000000` is planned in microseconds, not
/// minutes.
const WALKED_TURNS: u32 = 1_000;

/// The most turns walked one by one in all: bounds the work when the window is as hostile as
/// the turns (`context_window_size: 1000000000`). Past it, a still-growing context is counted
/// at its last size, an underestimate only for a window no model's context can hold.
const MAX_WALKED_TURNS: u32 = 10_000;

/// The turns of `turns` as `(turn, weight)`: each turn once while its calls still change (the
/// first turn, and the turns whose context grows until the window of `window` turns is full),
/// then at most [`WALKED_TURNS`] more, then one turn standing for all the rest (from turn
/// `window + 2` on, every turn makes the same calls, so one of them times their number is their
/// sum). The work is bounded, whatever the number of turns.
fn walk(turns: std::ops::RangeInclusive<u32>, window: u32) -> impl Iterator<Item = (u32, f64)> {
    let (first, last) = (*turns.start(), *turns.end());
    let steady = window.saturating_add(2).max(first);
    let walked_to = last
        .min(steady.saturating_add(WALKED_TURNS))
        .min(first.saturating_add(MAX_WALKED_TURNS));
    let each = (first..=walked_to).map(|t| (t, 1.0));
    let rest = (walked_to < last).then(|| (walked_to + 1, f64::from(last - walked_to)));
    each.chain(rest)
}

fn one() -> Range {
    Range {
        low: 1.0,
        expected: 1.0,
        high: 1.0,
    }
}

/// Tokens of the persona an actor's prompt carries: its own system prompt, or else the
/// persona built from its fields.
pub fn persona_tokens(a: &crate::config::Actor) -> f64 {
    match &a.system_prompt {
        Some(p) => tokens(p),
        None => {
            let parts = [
                &a.description,
                &a.role,
                &a.expertise,
                &a.decision_style,
                &a.private_information,
            ];
            let text: f64 = parts.iter().filter_map(|p| p.as_deref()).map(tokens).sum();
            text + a
                .goals
                .iter()
                .chain(&a.constraints)
                .map(|g| tokens(g))
                .sum::<f64>()
                + tokens(&a.name)
                + 20.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Actor, Communication};
    use std::collections::BTreeMap;

    fn actor(name: &str, model: &str) -> Actor {
        Actor {
            name: name.into(),
            short_name: name.into(),
            file_stem: name.into(),
            model: model.into(),
            human_line: None,
            system_prompt: Some("x".repeat(400)),
            description: None,
            role: None,
            goals: vec![],
            constraints: vec![],
            expertise: None,
            decision_style: None,
            private_information: None,
            temperature: None,
            max_tokens: None,
            top_p: None,
        }
    }

    fn scenario(turns: u32) -> Scenario {
        Scenario {
            dir: "s".into(),
            name: "s".into(),
            description: None,
            system_prompt: Some("y".repeat(200)),
            initial_world_state: "w".repeat(800),
            turns,
            turn_duration: None,
            world_state_model: "w/model".into(),
            actors: vec![actor("a", "a/model"), actor("b", "b/model")],
            context_window_size: 3,
            communication: Communication {
                bilateral: false,
                coalitions: false,
                max_per_turn: 2,
            },
            background_information: None,
            background_docs: vec![],
            metrics: vec![],
            events: vec![],
            checks: None,
            max_tokens: BTreeMap::new(),
            extra: BTreeMap::new(),
        }
    }

    fn book() -> PriceBook {
        let mut prices = BTreeMap::new();
        for m in ["a/model", "b/model", "w/model"] {
            prices.insert(
                m.to_string(),
                crate::config::ModelPrice {
                    prompt: 1.0,
                    completion: 2.0,
                    ..Default::default()
                },
            );
        }
        PriceBook::new(&prices)
    }

    /// Two actors, one turn, $1/M prompt and $2/M completion, computed by hand:
    /// actor prompt = 50 (system) + 100 (persona) + 200 (world) + 250 (overhead) = 600 tokens,
    /// completion 400 -> 600 + 800 = 1400 micro-USD each, two actors 2800;
    /// world prompt = 50 + 200 + 2*400 + 50 + 200 (overhead) = 1300, completion 600 -> 1300 + 1200 = 2500.
    #[test]
    fn role_names_are_their_serialised_names() {
        for r in ROLES {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
    }

    #[test]
    fn one_turn_by_hand() {
        let e = estimate_run(&scenario(1), &book());
        assert_eq!(e.calls.actor.expected, 2.0);
        assert_eq!(e.calls.world.expected, 1.0);
        assert_eq!(e.calls.total().expected, 3.0);
        let c = e.cost.unwrap();
        assert!((c.expected - 5300e-6).abs() < 1e-12, "{c:?}");
        // low: actor (480 + 300) * 2 = 1560, world 1040 + 500 = 1540.
        assert!((c.low - (1560e-6 + 1540e-6)).abs() < 1e-12, "{c:?}");
        // high: at the default caps (actor 800, world 1000 completion tokens):
        // actor (900 + 1600) * 2 = 5000, world 1950 + 2000 = 3950.
        assert!((c.high - (5000e-6 + 3950e-6)).abs() < 1e-12, "{c:?}");
        assert!(e.unknown_price_models.is_empty());
    }

    #[test]
    fn calls_grow_with_turns_window_and_communication() {
        let mut s = scenario(6);
        s.context_window_size = 2;
        s.communication = Communication {
            bilateral: true,
            coalitions: true,
            max_per_turn: 1,
        };
        let e = estimate_run(&s, &book());
        assert_eq!(e.calls.actor.expected, 12.0);
        assert_eq!(e.calls.world.expected, 6.0);
        // turns 4, 5, 6 summarise the turns that left the 2-turn window.
        assert_eq!(e.calls.summary.expected, 3.0);
        // per turn: low 2 planning; expected 2 + 1 reply + 1 coalition answer; high 2 + 1 + 3.
        assert_eq!(e.calls.communication.low, 12.0);
        assert_eq!(e.calls.communication.expected, 24.0);
        assert_eq!(e.calls.communication.high, 36.0);
    }

    #[test]
    fn unknown_prices_are_named_not_guessed() {
        let mut s = scenario(1);
        s.actors[1].model = "mystery/model".into();
        let e = estimate_run(&s, &book());
        assert_eq!(e.cost, None);
        assert_eq!(e.unknown_price_models, vec!["mystery/model"]);
    }

    #[test]
    fn max_tokens_caps_the_high_estimate() {
        let mut s = scenario(1);
        s.actors[0].max_tokens = Some(100);
        let e = estimate_run(&s, &book());
        let uncapped = estimate_run(&scenario(1), &book());
        // actor a: high completion 100 instead of the default 800 tokens at $2/M = 1400
        // micro-USD less.
        assert!((uncapped.cost.unwrap().high - e.cost.unwrap().high - 1400e-6).abs() < 1e-12);
    }

    #[test]
    fn a_run_is_the_sum_of_its_turns() {
        let s = scenario(5);
        let whole = estimate_run(&s, &book());
        let split = estimate_turns(&s, &book(), 1..=2).plus(&estimate_turns(&s, &book(), 3..=5));
        assert_eq!(split.calls, whole.calls);
        let (a, b) = (split.cost.unwrap(), whole.cost.unwrap());
        assert!((a.expected - b.expected).abs() < 1e-12 && (a.high - b.high).abs() < 1e-12);
        assert!((split.seconds - whole.seconds).abs() < 1e-9);
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // the test's own stopwatch
    fn a_billion_turns_are_counted_not_walked() {
        // Planning `turns: 1000000000` walked every turn (minutes); now past the window the
        // turns are one turn times their number, so it takes microseconds and stays exact.
        let s = scenario(1_000_000_000);
        let started = std::time::Instant::now();
        let e = estimate_run(&s, &book());
        assert_eq!(e.calls.actor.expected, 2e9);
        assert_eq!(e.calls.world.expected, 1e9);
        let long = estimate_turns(&s, &book(), 1..=5_000);
        let walked = estimate_turns(&s, &book(), 1..=1_100);
        let one = estimate_turns(&s, &book(), 1_101..=1_101);
        let (a, b, c) = (long.cost.unwrap(), walked.cost.unwrap(), one.cost.unwrap());
        assert!((a.expected - (b.expected + 3_900.0 * c.expected)).abs() < 1e-6 * a.expected);
        assert!(started.elapsed().as_millis() < 1_000);
    }

    #[test]
    fn builtin_runs_take_no_time_and_no_money() {
        let mut s = scenario(3);
        s.world_state_model = "builtin/simulator".into();
        for a in &mut s.actors {
            a.model = "builtin/simulator".into();
        }
        let e = estimate_run(&s, &PriceBook::default());
        assert_eq!(e.cost.unwrap().high, 0.0);
        assert_eq!(e.seconds, 0.0);
    }
}
