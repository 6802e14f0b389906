//! The prompts of every call a run makes. Answer formats (the bold tags) are the original
//! tool's, so its scenarios' expectations and our parsers agree.
//!
//! # Static first: the layout every prompt follows
//!
//! Providers cache a prompt prefix they have seen before and bill it at a tenth to a half of the
//! price (OpenAI automatically, for prompts of 1,024 tokens or more, in 128-token steps;
//! Anthropic up to a `cache_control` breakpoint), and serve it faster. A prefix only hits when
//! its bytes are identical from the first byte on: one turn number near the top of a prompt and
//! nothing after it is ever cached. So every prompt here is laid out static first:
//!
//! - **The system message holds what does not change across the turns of a run**, and, since it
//!   is built from the scenario alone, across the runs of a variation: the scenario's system
//!   prompt, the reference material, for actors the initial situation (the same in every run)
//!   and the persona, then the task's standing instructions and its answer format (a
//!   `## Your Task` section). Same bytes every time: no turn number, no count, no seed, nothing
//!   derived from a reply. Within it, what more calls share comes first: the scenario's parts
//!   (the same for every actor, so actors played by one model share them too), then the
//!   persona (every call made for that actor), then the instructions of one kind of call.
//! - **The user message holds what changes**, oldest and most stable first, newest last: the
//!   summary of earlier events, the recent history in chronological order, the current world
//!   state, this turn's communications, the actor's recent goals, and at the very end the turn
//!   header (`## Turn 3 of 10 (each turn is 1 month)`) with this turn's concrete request.
//!
//! What each call is told is what it was told before this layout; only where it sits changed.
//! One exception: actors now always have the initial situation (it used to leave their prompts
//! once folded into the summary), so at turn 1 the current world state just points to it. It
//! makes the prompts a few percent longer, billed at the cached price from the second call on.
//! A cache breakpoint (Anthropic's `cache_control`) belongs at the end of the system message.
//! `tests/prompt_layout.rs` holds every call of a run to this; `bench/prompt-cache.mjs`
//! measures what a prefix cache serves.

use crate::config::{Actor, Metric, QualityCheck, Scenario, ValueType};
use crate::host::ChatMessage;

fn msg(role: &str, content: String) -> ChatMessage {
    ChatMessage {
        role: role.to_string(),
        content,
    }
}

fn bullets(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("- {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The persona an actor plays: its own system prompt, or one built from its fields (the
/// original sent nothing when an actor had no system prompt, so it never knew who it was).
pub fn persona(a: &Actor) -> String {
    let mut out = match &a.system_prompt {
        Some(p) => p.trim().to_string(),
        None => {
            let mut p = match &a.role {
                Some(role) => format!("You are {}, {}.", a.name, role.trim().trim_end_matches('.')),
                None => format!("You are {}.", a.name),
            };
            for (title, text) in [
                ("Who you are", &a.description),
                ("Your expertise", &a.expertise),
                ("How you decide", &a.decision_style),
            ] {
                if let Some(t) = text {
                    p.push_str(&format!("\n\n{title}:\n{}", t.trim()));
                }
            }
            if !a.goals.is_empty() {
                p.push_str(&format!("\n\nYour goals:\n{}", bullets(&a.goals)));
            }
            if !a.constraints.is_empty() {
                p.push_str(&format!(
                    "\n\nYour constraints:\n{}",
                    bullets(&a.constraints)
                ));
            }
            p
        }
    };
    if let Some(private) = &a.private_information {
        out.push_str(&format!(
            "\n\nWhat only you know (do not reveal it unless you choose to):\n{}",
            private.trim()
        ));
    }
    out
}

/// The part of the system message shared by every call made for an actor: the scenario's
/// system prompt, the reference material and the initial situation (the same for every actor),
/// then the persona. Each kind of call appends its standing instructions ([`with_task`]).
pub fn actor_system(s: &Scenario, a: &Actor) -> String {
    let mut parts = Vec::new();
    if let Some(p) = &s.system_prompt {
        parts.push(p.trim().to_string());
    }
    let mut reference = Vec::new();
    if let Some(b) = &s.background_information {
        reference.push(b.trim().to_string());
    }
    for (name, text) in &s.background_docs {
        reference.push(format!("### {name}\n{}", text.trim()));
    }
    if !reference.is_empty() {
        parts.push(format!(
            "## Reference material\n\n{}",
            reference.join("\n\n")
        ));
    }
    parts.push(format!(
        "## Initial Situation\n\n{}",
        s.initial_world_state.trim()
    ));
    parts.push(format!("## Your Role\n\n{}", persona(a)));
    parts.join("\n\n")
}

/// A system message: `base`, then the standing instructions of one kind of call.
fn with_task(base: &str, task: &str) -> String {
    format!("{base}\n\n## Your Task\n\n{task}")
}

fn turn_header(s: &Scenario, turn: u32) -> String {
    match &s.turn_duration {
        Some(d) => format!("Turn {turn} of {} (each turn is {})", s.turns, d.trim()),
        None => format!("Turn {turn} of {}", s.turns),
    }
}

/// The end of every user message of a turn's call: the turn header, then what this call asks.
fn request(s: &Scenario, turn: u32, ask: &str) -> String {
    format!("\n## {}\n\n{ask}\n", turn_header(s, turn))
}

/// What an actor is told about this turn's private exchanges it takes part in.
pub struct Exchange {
    /// A heading: "Private exchange with X" or "Coalition A, B, C".
    pub title: String,
    /// (speaker name, text) in order.
    pub messages: Vec<(String, String)>,
}

const DECISION_TASK: &str = "Each turn, decide what you do in that turn. The other actors decide at the same time: you will see their actions next turn.\n\nAnswer in exactly this format:\n\n**LONG-TERM GOALS:**\n(2-4 enduring objectives)\n\n**SHORT-TERM PRIORITIES:**\n(1-3 priorities for the next turns)\n\n**REASONING:**\n(your analysis of the situation)\n\n**ACTION:**\n(the concrete action you take this turn)\n\nYour goals may change as the situation evolves; when they do, say why in your reasoning.\n";

/// The decision request.
pub fn decision(
    s: &Scenario,
    a: &Actor,
    turn: u32,
    context: &str,
    exchanges: &[Exchange],
    recent_goals: &[(u32, String)],
) -> Vec<ChatMessage> {
    let mut u = format!("{context}\n");
    if !exchanges.is_empty() {
        u.push_str("\n## Your Communications This Turn\n");
        for e in exchanges {
            u.push_str(&format!("\n### {}\n", e.title));
            for (who, text) in &e.messages {
                u.push_str(&format!("**{who}:** {}\n", text.trim()));
            }
        }
    }
    if !recent_goals.is_empty() {
        u.push_str("\n## Your Recent Goals\n");
        for (t, g) in recent_goals {
            u.push_str(&format!("\n**Turn {t}:**\n{}\n", g.trim()));
        }
    }
    u.push_str(&request(
        s,
        turn,
        &format!("You are {}. Decide what you do in this turn.", a.name),
    ));
    vec![
        msg("system", with_task(&actor_system(s, a), DECISION_TASK)),
        msg("user", u),
    ]
}

/// The world update request.
pub fn world_update(
    s: &Scenario,
    turn: u32,
    previous: &str,
    actions: &[(String, String)],
    events: &[(String, String)],
) -> Vec<ChatMessage> {
    let narrator = format!(
        "You are the narrator of the scenario \"{}\". Each turn you integrate every actor's action into one account of what happens next: intended and unintended consequences, second-order effects and interactions between the actions, consistent with the previous state. Write in the third person and present tense, objectively and concretely, with realistic friction and delays. Stay focused on the scenario.",
        s.name
    );
    let system = with_task(&narrator, "Each turn, describe the world at the end of the turn: what happened, background developments, how the actions interacted, their consequences and any new dynamics.\n\nAnswer in exactly this format:\n\n**UPDATED STATE:**\n(2-4 paragraphs describing the current state of the world)\n\n**KEY CHANGES:**\n- (three bullets)\n\n**CONSEQUENCES:**\n- (two bullets)\n");
    let mut u = format!(
        "## Current World State\n\n{}\n\n## Actor Actions This Turn\n",
        previous.trim()
    );
    for (name, action) in actions {
        u.push_str(&format!(
            "\n### {name}\n**Action taken:** {}\n",
            action.trim()
        ));
    }
    if !events.is_empty() {
        u.push_str("\n## Background Events This Turn\n");
        for (name, text) in events {
            u.push_str(&format!("- **{name}:** {}\n", text.trim()));
        }
    }
    u.push_str(&request(
        s,
        turn,
        "Describe the world at the end of this turn.",
    ));
    vec![msg("system", system), msg("user", u)]
}

/// The communication plan: whom to talk to privately, whether to propose a coalition.
pub fn communication_plan(
    s: &Scenario,
    a: &Actor,
    turn: u32,
    context: &str,
    coalitions: bool,
) -> Vec<ChatMessage> {
    let others: Vec<&Actor> = s
        .actors
        .iter()
        .filter(|o| o.short_name != a.short_name)
        .collect();
    let list = others
        .iter()
        .map(|o| format!("- {}: {}", o.short_name, o.name))
        .collect::<Vec<_>>()
        .join("\n");
    let ids = others
        .iter()
        .map(|o| o.short_name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let coalition_text = if coalitions {
        " and you may propose a coalition of two or more of them"
    } else {
        ""
    };
    let mut system = format!(
        "{}\n\n## Communication Phase\n\nEach turn, before everyone decides, you may open one private exchange with another actor{coalition_text}. Only the participants see these messages.\n\nOther actors: {ids}\n{list}",
        actor_system(s, a)
    );
    let mut task = "Answer in exactly this format:\n\n**INITIATE_BILATERAL:** yes or no\n**TARGET_ACTOR:** (the id of one actor above)\n**PROPOSED_MESSAGE:** (your private message, or none)\n".to_string();
    if coalitions {
        task.push_str("**PROPOSE_COALITION:** yes or no\n**COALITION_MEMBERS:** (ids from the list above, comma-separated, yourself excluded)\n**COALITION_PURPOSE:** (what the coalition is for)\n");
    }
    task.push_str("**REASONING:** (why)\n");
    system = with_task(&system, &task);
    let u = format!(
        "{context}\n{}",
        request(
            s,
            turn,
            "Decide whom, if anyone, you contact in this turn's communication phase."
        )
    );
    vec![msg("system", system), msg("user", u)]
}

/// A reply to a private message.
pub fn bilateral_reply(
    s: &Scenario,
    a: &Actor,
    turn: u32,
    context: &str,
    from: &str,
    message: &str,
) -> Vec<ChatMessage> {
    let system = with_task(&actor_system(s, a), "Reply to a private message from another actor. Only the two of you see this exchange.\n\nAnswer in exactly this format:\n\n**RESPONSE:** (your reply)\n");
    let u = format!(
        "{context}\n\n## Private Message\n\n{from} writes to you privately:\n\n> {}\n{}",
        message.trim().replace('\n', "\n> "),
        request(s, turn, &format!("Reply to {from}."))
    );
    vec![msg("system", system), msg("user", u)]
}

/// An invited member's answer to a coalition proposal.
pub fn coalition_answer(
    s: &Scenario,
    a: &Actor,
    turn: u32,
    context: &str,
    proposer: &str,
    members: &[String],
    purpose: &str,
) -> Vec<ChatMessage> {
    let system = with_task(&actor_system(s, a), "Another actor proposes a coalition: decide whether to join.\n\nAnswer in exactly this format:\n\n**DECISION:** accept or reject\n**RESPONSE:** (what you tell the proposer)\n");
    let u = format!(
        "{context}\n\n## Coalition Proposal\n\n{proposer} proposes a coalition of {} to: {}\n{}",
        members.join(", "),
        purpose.trim(),
        request(
            s,
            turn,
            &format!("Decide whether to join, and what you tell {proposer}.")
        )
    );
    vec![msg("system", system), msg("user", u)]
}

/// A member's message inside a formed coalition.
pub fn coalition_message(
    s: &Scenario,
    a: &Actor,
    turn: u32,
    context: &str,
    members: &[String],
    purpose: &str,
    so_far: &[(String, String)],
) -> Vec<ChatMessage> {
    let system = with_task(&actor_system(s, a), "Write your message to a coalition you are a member of. Only its members see it.\n\nAnswer in exactly this format:\n\n**MESSAGE:** (your message)\n");
    let mut u = format!(
        "{context}\n\n## Coalition of {}\n\nPurpose: {}\n",
        members.join(", "),
        purpose.trim()
    );
    if !so_far.is_empty() {
        u.push_str("\nMessages so far:\n");
        for (who, text) in so_far {
            u.push_str(&format!("**{who}:** {}\n", text.trim()));
        }
    }
    u.push_str(&request(s, turn, "Write your message to the coalition."));
    vec![msg("system", system), msg("user", u)]
}

/// An LLM metric extraction: the question (the same every turn) in the system message, the
/// text to read in the user message.
pub fn metric(m: &Metric, prompt: &str, text: &str) -> Vec<ChatMessage> {
    let hint = match (&m.value_type, m.range) {
        (ValueType::Categorical, _) => format!(
            "\n\nAnswer with the number of the category: {}.",
            m.categories
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{i} = {c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        (ValueType::Boolean, _) => "\n\nAnswer 1 for yes and 0 for no.".to_string(),
        (_, Some((lo, hi))) => format!("\n\nThe answer is a number from {lo} to {hi}."),
        _ => String::new(),
    };
    let system = format!(
        "You are a metrics extraction assistant. Read the text and answer the question with a number only, nothing else. If the text does not let you tell, answer 0.\n\n{}{hint}",
        prompt.trim()
    );
    vec![
        msg("system", system),
        msg("user", format!("Text to analyze:\n\n{}", text.trim())),
    ]
}

/// Everything a quality check may refer to.
pub struct CheckInput<'a> {
    /// The actor checked, for per-actor checks.
    pub actor: Option<&'a Actor>,
    /// The world before the turn.
    pub previous_world_state: &'a str,
    /// The world after it.
    pub new_world_state: &'a str,
    /// Every action, as `**Name:** action` lines.
    pub actor_actions: &'a str,
    /// The checked actor's reasoning.
    pub actor_reasoning: &'a str,
    /// The checked actor's action.
    pub actor_action: &'a str,
    /// The checked actor's private exchanges this turn.
    pub private_communications: &'a str,
}

fn profile(a: &Actor) -> String {
    let mut p = format!("Name: {}", a.name);
    if !a.goals.is_empty() {
        p.push_str(&format!("\nGoals:\n{}", bullets(&a.goals)));
    }
    if !a.constraints.is_empty() {
        p.push_str(&format!("\nConstraints:\n{}", bullets(&a.constraints)));
    }
    for (k, v) in [
        ("Expertise", &a.expertise),
        ("Decision style", &a.decision_style),
        ("Description", &a.description),
    ] {
        if let Some(v) = v {
            p.push_str(&format!("\n{k}: {}", v.trim()));
        }
    }
    p
}

/// The placeholders of a check template whose values change every turn (the others, the
/// actor's profile, name and restricted information, are the same every turn).
const VARYING: [&str; 8] = [
    "{world_state}",
    "{public_world_state}",
    "{previous_world_state}",
    "{new_world_state}",
    "{actor_actions}",
    "{actor_reasoning}",
    "{actor_action}",
    "{private_communications}",
];

/// A check template cut around what changes every turn: (head, middle, tail). The middle runs
/// from the paragraph of the first placeholder of [`VARYING`] to the end of the paragraph of
/// the last one; head (the template's opening) and tail (its instructions and answer layout)
/// are the same every turn. `None` when nothing in it changes.
fn split_template(t: &str) -> Option<(&str, &str, &str)> {
    let first = VARYING.iter().filter_map(|p| t.find(p)).min()?;
    let last = VARYING
        .iter()
        .filter_map(|p| t.rfind(p).map(|i| i + p.len()))
        .max()?;
    let start = t[..first].rfind("\n\n").unwrap_or(0);
    let end = t[last..].find("\n\n").map_or(t.len(), |i| last + i);
    Some((&t[..start], &t[start..end], &t[end..]))
}

/// A quality check: the scenario's template when it has one (its `{placeholders}` filled),
/// else a built-in prompt. The system message holds the question, what is known of the actor
/// before the turn, the instructions and the answer format; the user message the turn's
/// material. A template is cut at its paragraphs ([`split_template`]): its opening and its
/// closing instructions go to the system message, the paragraphs from the first to the last
/// that change every turn to the user message, in the template's order.
pub fn check(c: &QualityCheck, input: &CheckInput) -> Vec<ChatMessage> {
    let actor_profile = input.actor.map(profile).unwrap_or_default();
    let actor_name = input.actor.map(|a| a.name.clone()).unwrap_or_default();
    let restricted = input
        .actor
        .and_then(|a| a.private_information.clone())
        .unwrap_or_else(|| "None".into());
    let fill = |t: &str| {
        t.replace("{actor_profile}", &actor_profile)
            .replace("{world_state}", input.previous_world_state)
            .replace("{public_world_state}", input.previous_world_state)
            .replace("{previous_world_state}", input.previous_world_state)
            .replace("{new_world_state}", input.new_world_state)
            .replace("{actor_actions}", input.actor_actions)
            .replace("{actor_reasoning}", input.actor_reasoning)
            .replace("{actor_action}", input.actor_action)
            .replace("{actor_name}", &actor_name)
            .replace("{private_communications}", input.private_communications)
            .replace("{restricted_information}", &restricted)
    };
    let reviewer =
        "You are a careful reviewer of a multi-actor simulation. Answer in the format asked.";
    let (system, user) = match &c.prompt_template {
        Some(t) => match split_template(t) {
            Some((head, middle, tail)) => {
                let parts = [reviewer.to_string(), fill(head.trim()), fill(tail.trim())];
                let system = parts
                    .into_iter()
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n\n");
                (system, format!("{}\n", fill(middle.trim())))
            }
            None => (reviewer.to_string(), fill(t)),
        },
        None => {
            let (question, known, turn) = match c.name.as_str() {
                "actor_decision_consistency" => (
                    "Is this actor's decision consistent with its profile?".to_string(),
                    format!("\n\n## Actor profile\n{actor_profile}"),
                    format!(
                        "## World state\n{}\n\n## Reasoning\n{}\n\n## Action\n{}",
                        input.previous_world_state, input.actor_reasoning, input.actor_action
                    ),
                ),
                "world_state_coherence" => (
                    "Does the new world state follow coherently from the previous state and the actions?".to_string(),
                    String::new(),
                    format!(
                        "## Previous world state\n{}\n\n## Actions\n{}\n\n## New world state\n{}",
                        input.previous_world_state, input.actor_actions, input.new_world_state
                    ),
                ),
                "information_access_consistency" => (
                    "Does this actor use only information it has access to?".to_string(),
                    format!("\n\n## Actor\n{actor_name}\n\n## Information it should not have\n{restricted}"),
                    format!(
                        "## Public world state\n{}\n\n## Its private communications\n{}\n\n## Its reasoning\n{}",
                        input.previous_world_state, input.private_communications, input.actor_reasoning
                    ),
                ),
                _ => (
                    format!("Check: {}", c.description),
                    String::new(),
                    format!(
                        "## Previous world state\n{}\n\n## Actions\n{}\n\n## New world state\n{}",
                        input.previous_world_state, input.actor_actions, input.new_world_state
                    ),
                ),
            };
            let system = format!("{reviewer}\n\n{question}{known}\n\n## Your Task\n\n{}\n\nAnswer in exactly this format:\n\n**PASSED:** Yes or No\n**ISSUES:**\n- (each issue, or None)\n**SEVERITY:** low, medium or high\n**EXPLANATION:** (one or two sentences)\n", c.description.trim());
            (system, format!("{turn}\n"))
        }
    };
    vec![msg("system", system), msg("user", user)]
}

/// The summary of turns that left the context window.
pub fn summary(s: &Scenario, previous_summary: &str, turn_text: &str) -> Vec<ChatMessage> {
    let system = format!(
        "You are the historian of the scenario \"{}\". You keep a concise record of what happened.\n\n## Your Task\n\nWrite the updated summary of everything so far in 150 to 300 words: key decisions, turning points, and where each actor stands.\n",
        s.name
    );
    let mut u = String::new();
    if !previous_summary.is_empty() {
        u.push_str(&format!(
            "## Summary so far\n\n{}\n\n",
            previous_summary.trim()
        ));
    }
    u.push_str(&format!("## Next events\n\n{}\n", turn_text.trim()));
    vec![msg("system", system), msg("user", u)]
}
