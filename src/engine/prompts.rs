//! The prompts of every call a run makes. Answer formats (the bold tags) are the original
//! tool's, so its scenarios' expectations and our parsers agree.

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

/// The system message of every call made for an actor: scenario prompt, persona, reference.
pub fn actor_system(s: &Scenario, a: &Actor) -> String {
    let mut parts = Vec::new();
    if let Some(p) = &s.system_prompt {
        parts.push(p.trim().to_string());
    }
    parts.push(persona(a));
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
    parts.join("\n\n")
}

fn turn_header(s: &Scenario, turn: u32) -> String {
    match &s.turn_duration {
        Some(d) => format!("Turn {turn} of {} (each turn is {})", s.turns, d.trim()),
        None => format!("Turn {turn} of {}", s.turns),
    }
}

/// What an actor is told about this turn's private exchanges it takes part in.
pub struct Exchange {
    /// A heading: "Private exchange with X" or "Coalition A, B, C".
    pub title: String,
    /// (speaker name, text) in order.
    pub messages: Vec<(String, String)>,
}

/// The decision request.
pub fn decision(
    s: &Scenario,
    a: &Actor,
    turn: u32,
    context: &str,
    exchanges: &[Exchange],
    recent_goals: &[(u32, String)],
) -> Vec<ChatMessage> {
    let mut u = format!(
        "## Current Situation ({})\n\n{context}\n",
        turn_header(s, turn)
    );
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
    u.push_str(&format!(
        "\n## Your Task\n\nYou are {}. Decide what you do in this turn. The other actors decide at the same time: you will see their actions next turn.\n\nAnswer in exactly this format:\n\n**LONG-TERM GOALS:**\n(2-4 enduring objectives)\n\n**SHORT-TERM PRIORITIES:**\n(1-3 priorities for the next turns)\n\n**REASONING:**\n(your analysis of the situation)\n\n**ACTION:**\n(the concrete action you take this turn)\n\nYour goals may change as the situation evolves; when they do, say why in your reasoning.\n",
        a.name
    ));
    vec![msg("system", actor_system(s, a)), msg("user", u)]
}

/// The world update request.
pub fn world_update(
    s: &Scenario,
    turn: u32,
    previous: &str,
    actions: &[(String, String)],
    events: &[(String, String)],
) -> Vec<ChatMessage> {
    let system = format!(
        "You are the narrator of the scenario \"{}\". Each turn you integrate every actor's action into one account of what happens next: intended and unintended consequences, second-order effects and interactions between the actions, consistent with the previous state. Write in the third person and present tense, objectively and concretely, with realistic friction and delays. Stay focused on the scenario.",
        s.name
    );
    let mut u = format!(
        "## Current World State ({})\n\n{}\n\n## Actor Actions This Turn\n",
        turn_header(s, turn),
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
    u.push_str("\n## Your Task\n\nDescribe the world at the end of this turn: what happened, background developments, how the actions interacted, their consequences and any new dynamics.\n\nAnswer in exactly this format:\n\n**UPDATED STATE:**\n(2-4 paragraphs describing the current state of the world)\n\n**KEY CHANGES:**\n- (three bullets)\n\n**CONSEQUENCES:**\n- (two bullets)\n");
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
    let mut u = format!(
        "## Current Situation ({})\n\n{context}\n\n## Communication Phase\n\nBefore everyone decides, you may open one private exchange with another actor{coalition_text}. Only the participants see these messages.\n\nOther actors: {ids}\n{list}\n\n## Your Task\n\nAnswer in exactly this format:\n\n**INITIATE_BILATERAL:** yes or no\n**TARGET_ACTOR:** (the id of one actor above)\n**PROPOSED_MESSAGE:** (your private message, or none)\n",
        turn_header(s, turn)
    );
    if coalitions {
        u.push_str("**PROPOSE_COALITION:** yes or no\n**COALITION_MEMBERS:** (ids from the list above, comma-separated, yourself excluded)\n**COALITION_PURPOSE:** (what the coalition is for)\n");
    }
    u.push_str("**REASONING:** (why)\n");
    vec![msg("system", actor_system(s, a)), msg("user", u)]
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
    let u = format!(
        "## Current Situation ({})\n\n{context}\n\n## Private Message\n\n{from} writes to you privately:\n\n> {}\n\n## Your Task\n\nReply to {from}. Only the two of you see this exchange.\n\nAnswer in exactly this format:\n\n**RESPONSE:** (your reply)\n",
        turn_header(s, turn),
        message.trim().replace('\n', "\n> ")
    );
    vec![msg("system", actor_system(s, a)), msg("user", u)]
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
    let u = format!(
        "## Current Situation ({})\n\n{context}\n\n## Coalition Proposal\n\n{proposer} proposes a coalition of {} to: {}\n\n## Your Task\n\nDecide whether to join.\n\nAnswer in exactly this format:\n\n**DECISION:** accept or reject\n**RESPONSE:** (what you tell {proposer})\n",
        turn_header(s, turn),
        members.join(", "),
        purpose.trim()
    );
    vec![msg("system", actor_system(s, a)), msg("user", u)]
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
    let mut u = format!(
        "## Current Situation ({})\n\n{context}\n\n## Coalition of {}\n\nPurpose: {}\n",
        turn_header(s, turn),
        members.join(", "),
        purpose.trim()
    );
    if !so_far.is_empty() {
        u.push_str("\nMessages so far:\n");
        for (who, text) in so_far {
            u.push_str(&format!("**{who}:** {}\n", text.trim()));
        }
    }
    u.push_str("\n## Your Task\n\nWrite your message to the coalition. Only its members see it.\n\nAnswer in exactly this format:\n\n**MESSAGE:** (your message)\n");
    vec![msg("system", actor_system(s, a)), msg("user", u)]
}

/// An LLM metric extraction.
pub fn metric(m: &Metric, prompt: &str, text: &str) -> Vec<ChatMessage> {
    let system = "You are a metrics extraction assistant. Read the text and answer the question with a number only, nothing else. If the text does not let you tell, answer 0.".to_string();
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
    vec![
        msg("system", system),
        msg(
            "user",
            format!(
                "{}{hint}\n\nText to analyze:\n\n{}",
                prompt.trim(),
                text.trim()
            ),
        ),
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

/// A quality check: the scenario's template when it has one (its `{placeholders}` filled),
/// else a built-in prompt.
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
    let user = match &c.prompt_template {
        Some(t) => fill(t),
        None => {
            let subject = match c.name.as_str() {
                "actor_decision_consistency" => format!("Is this actor's decision consistent with its profile?\n\n## Actor profile\n{actor_profile}\n\n## World state\n{}\n\n## Reasoning\n{}\n\n## Action\n{}", input.previous_world_state, input.actor_reasoning, input.actor_action),
                "world_state_coherence" => format!("Does the new world state follow coherently from the previous state and the actions?\n\n## Previous world state\n{}\n\n## Actions\n{}\n\n## New world state\n{}", input.previous_world_state, input.actor_actions, input.new_world_state),
                "information_access_consistency" => format!("Does this actor use only information it has access to?\n\n## Actor\n{actor_name}\n\n## Public world state\n{}\n\n## Its private communications\n{}\n\n## Information it should not have\n{restricted}\n\n## Its reasoning\n{}", input.previous_world_state, input.private_communications, input.actor_reasoning),
                _ => format!("Check: {}\n\n## Previous world state\n{}\n\n## Actions\n{}\n\n## New world state\n{}", c.description, input.previous_world_state, input.actor_actions, input.new_world_state),
            };
            format!("{subject}\n\n## Your Task\n\n{}\n\nAnswer in exactly this format:\n\n**PASSED:** Yes or No\n**ISSUES:**\n- (each issue, or None)\n**SEVERITY:** low, medium or high\n**EXPLANATION:** (one or two sentences)\n", c.description.trim())
        }
    };
    vec![
        msg(
            "system",
            "You are a careful reviewer of a multi-actor simulation. Answer in the format asked."
                .to_string(),
        ),
        msg("user", user),
    ]
}

/// The summary of turns that left the context window.
pub fn summary(s: &Scenario, previous_summary: &str, turn_text: &str) -> Vec<ChatMessage> {
    let system = format!(
        "You are the historian of the scenario \"{}\". You keep a concise record of what happened.",
        s.name
    );
    let mut u = String::new();
    if !previous_summary.is_empty() {
        u.push_str(&format!(
            "## Summary so far\n\n{}\n\n",
            previous_summary.trim()
        ));
    }
    u.push_str(&format!("## Next events\n\n{}\n\n## Your Task\n\nWrite the updated summary of everything so far in 150 to 300 words: key decisions, turning points, and where each actor stands.\n", turn_text.trim()));
    vec![msg("system", system), msg("user", u)]
}
