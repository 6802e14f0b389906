//! The communication phase: private exchanges and coalitions, before the decisions of the
//! same turn, visible to their participants only.
//!
//! Each actor plans at once: whom to message (one bilateral exchange) and whether to propose
//! a coalition. Exchanges are taken in actor order up to `max_communications_per_turn`.
//! Targets reply (all at once); a coalition forms when every invited member accepts, and then
//! each member writes one message in turn, seeing the earlier ones.

use futures_util::future::join_all;

use super::gateway::{all, Stop};
use super::turn::Run;
use super::{parse, prompts};
use crate::config::Actor;
use crate::host::{Clock, Llm, Storage};
use crate::paths;
use crate::plan::Role;

/// One exchange of a turn.
#[derive(Debug, Clone)]
pub struct Channel {
    /// `bilateral` or `coalition`.
    pub kind: &'static str,
    /// Short names of the participants.
    pub participants: Vec<String>,
    /// A coalition's purpose.
    pub purpose: Option<String>,
    /// (speaker's full name, text), in order.
    pub messages: Vec<(String, String)>,
}

impl Channel {
    /// As shown in a participant's decision prompt.
    pub fn for_prompt(&self) -> prompts::Exchange {
        let title = match self.kind {
            "bilateral" => format!(
                "Private exchange between {}",
                self.participants.join(" and ")
            ),
            _ => format!(
                "Coalition of {} ({})",
                self.participants.join(", "),
                self.purpose.as_deref().unwrap_or("")
            ),
        };
        prompts::Exchange {
            title,
            messages: self.messages.clone(),
        }
    }

    /// As text for a quality check.
    pub fn transcript(&self) -> String {
        let e = self.for_prompt();
        let lines: Vec<String> = e
            .messages
            .iter()
            .map(|(w, t)| format!("{w}: {}", t.trim()))
            .collect();
        format!("{}\n{}", e.title, lines.join("\n"))
    }
}

struct Plan {
    bilateral: Option<(usize, String)>,
    coalition: Option<(Vec<usize>, String)>,
}

fn find(actors: &[Actor], me: usize, written: &str) -> Option<usize> {
    let w = written
        .trim()
        .trim_matches(['*', '"', '\'', '.', '`'])
        .trim();
    actors
        .iter()
        .position(|a| a.short_name.eq_ignore_ascii_case(w) || a.name.eq_ignore_ascii_case(w))
        .filter(|i| *i != me)
}

fn read_plan(actors: &[Actor], me: usize, reply: &str, bilateral: bool, coalitions: bool) -> Plan {
    let yes = |tag| parse::section(reply, tag).is_some_and(|t| parse::is_yes(&t));
    let bi = (bilateral && yes("INITIATE_BILATERAL"))
        .then(|| {
            let target = find(actors, me, &parse::section(reply, "TARGET_ACTOR")?)?;
            let message = parse::section(reply, "PROPOSED_MESSAGE")
                .filter(|m| !m.is_empty() && !m.eq_ignore_ascii_case("none"))?;
            Some((target, message))
        })
        .flatten();
    let co = (coalitions && actors.len() >= 3 && yes("PROPOSE_COALITION"))
        .then(|| {
            let mut members: Vec<usize> = parse::section(reply, "COALITION_MEMBERS")?
                .split(',')
                .filter_map(|m| find(actors, me, m))
                .collect();
            members.sort_unstable();
            members.dedup();
            let purpose = parse::section(reply, "COALITION_PURPOSE").filter(|p| !p.is_empty())?;
            (members.len() >= 2).then_some((members, purpose))
        })
        .flatten();
    Plan {
        bilateral: bi,
        coalition: co,
    }
}

/// Runs the phase and writes its channel files; returns the turn's channels.
pub(super) async fn phase<S: Storage, L: Llm, C: Clock>(
    run: &Run<'_, S, L, C>,
    turn: u32,
    ctx: &str,
) -> Result<Vec<Channel>, Stop> {
    let s = run.cx.scenario(turn);
    let c = &s.communication;
    if !c.enabled() || c.max_per_turn == 0 || s.actors.len() < 2 {
        return Ok(Vec::new());
    }
    let actors = &s.actors;
    let plans = all(join_all(actors.iter().map(|a| {
        let spec = run.spec_for(
            format!("t{turn}/plan/{}", a.short_name),
            Role::Communication,
            Some(a),
            turn,
            &a.model,
            prompts::communication_plan(s, a, turn, ctx, c.coalitions && actors.len() >= 3),
        );
        async move { run.call(spec).await }
    }))
    .await)?;
    let mut budget = c.max_per_turn as usize;
    let mut bilaterals: Vec<(usize, usize, String)> = Vec::new();
    let mut proposals: Vec<(usize, Vec<usize>, String)> = Vec::new();
    for (me, reply) in plans.iter().enumerate() {
        let plan = read_plan(actors, me, reply, c.bilateral, c.coalitions);
        if let Some((target, message)) = plan.bilateral {
            if budget > 0 {
                budget -= 1;
                bilaterals.push((me, target, message));
            }
        }
        if let Some((members, purpose)) = plan.coalition {
            let mut all_members = members.clone();
            all_members.push(me);
            all_members.sort_unstable();
            let repeat = proposals.iter().any(|(p, m, _)| {
                let mut other = m.clone();
                other.push(*p);
                other.sort_unstable();
                other == all_members
            });
            if budget > 0 && !repeat {
                budget -= 1;
                proposals.push((me, members, purpose));
            }
        }
    }
    let replies = all(join_all(bilaterals.iter().map(|(from, to, message)| {
        let (a, sender) = (&actors[*to], &actors[*from]);
        let spec = run.spec_for(
            format!("t{turn}/reply/{}/{}", a.short_name, sender.short_name),
            Role::Communication,
            Some(a),
            turn,
            &a.model,
            prompts::bilateral_reply(s, a, turn, ctx, &sender.name, message),
        );
        async move {
            run.call(spec).await.map(|r| {
                parse::section(&r, "RESPONSE")
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| r.trim().to_string())
            })
        }
    }))
    .await)?;
    let mut channels: Vec<Channel> = Vec::new();
    for ((from, to, message), reply) in bilaterals.iter().zip(replies) {
        let mut pair = vec![
            actors[*from].short_name.clone(),
            actors[*to].short_name.clone(),
        ];
        pair.sort();
        let msgs = [
            (actors[*from].name.clone(), message.clone()),
            (actors[*to].name.clone(), reply),
        ];
        match channels
            .iter_mut()
            .find(|ch| ch.kind == "bilateral" && ch.participants == pair)
        {
            Some(ch) => ch.messages.extend(msgs),
            None => channels.push(Channel {
                kind: "bilateral",
                participants: pair,
                purpose: None,
                messages: msgs.to_vec(),
            }),
        }
    }
    for (proposer, members, purpose) in &proposals {
        let p = &actors[*proposer];
        let names: Vec<String> = std::iter::once(*proposer)
            .chain(members.iter().copied())
            .map(|i| actors[i].name.clone())
            .collect();
        let answers = all(join_all(members.iter().map(|m| {
            let a = &actors[*m];
            let spec = run.spec_for(
                format!("t{turn}/coalition-answer/{}/{}", a.short_name, p.short_name),
                Role::Communication,
                Some(a),
                turn,
                &a.model,
                prompts::coalition_answer(s, a, turn, ctx, &p.name, &names, purpose),
            );
            async move { run.call(spec).await }
        }))
        .await)?;
        let accepted = answers
            .iter()
            .all(|r| parse::section(r, "DECISION").is_some_and(|d| parse::is_yes(&d)));
        if !accepted {
            run.note(
                turn,
                &format!(
                    "{}'s coalition proposal was not accepted by every member",
                    p.short_name
                ),
            );
            continue;
        }
        let mut messages: Vec<(String, String)> = Vec::new();
        for i in std::iter::once(*proposer).chain(members.iter().copied()) {
            let a = &actors[i];
            let spec = run.spec_for(
                format!(
                    "t{turn}/coalition-message/{}/{}",
                    a.short_name, p.short_name
                ),
                Role::Communication,
                Some(a),
                turn,
                &a.model,
                prompts::coalition_message(s, a, turn, ctx, &names, purpose, &messages),
            );
            let reply = run.call(spec).await?;
            messages.push((
                a.name.clone(),
                parse::section(&reply, "MESSAGE")
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| reply.trim().to_string()),
            ));
        }
        let mut participants: Vec<String> = std::iter::once(*proposer)
            .chain(members.iter().copied())
            .map(|i| actors[i].short_name.clone())
            .collect();
        participants.sort();
        channels.push(Channel {
            kind: "coalition",
            participants,
            purpose: Some(purpose.clone()),
            messages,
        });
    }
    for ch in &channels {
        let names: Vec<String> = ch
            .participants
            .iter()
            .map(|p| paths::sanitize_segment(p))
            .collect();
        let file = format!("{}-{}-{turn:03}.md", ch.kind, names.join("-"));
        run.write(
            &file,
            &super::files::channel(
                ch.kind,
                turn,
                &ch.participants,
                ch.purpose.as_deref(),
                &ch.messages,
            ),
        )
        .await?;
    }
    Ok(channels)
}
