//! The built-in simulator model, `builtin/simulator`: answering every engine prompt with no
//! network, no API key and no cost.
//!
//! **This is a simulator for trying the tool and testing scenarios, not a language model.** It
//! does not understand the prompt. It recognises which answer format the engine asked for (the
//! bold tags named in the prompt's "## Your Task" sections, at the end of the system message and
//! of the user message, or the metric-extraction system message) and fills that format with
//! sentences composed from small phrase tables, the actor's name and phrases lifted from the
//! prompt. The quick-start experiment runs on it so that a new user sees a real batch run, with
//! parseable answers and varied outcomes, before getting a key. Its results say nothing about
//! how a real model would behave.
//!
//! Deterministic: the answer is a function of the messages, the seed and the model id only (an
//! FNV-1a hash of messages and seed seeds the SplitMix64 of [`crate::rng`]). No I/O, no clock,
//! no entropy.
//!
//! Metric values (the `Label: N` lines of a world update, the answers to metric questions) are
//! drawn mostly from the request's seed, as a real model's sampler seeded the same way draws
//! the same numbers, and partly from the prompt: runs that share their seed (a paired batch's
//! run k of every variation) share most of these draws, so their differences show mostly the
//! variation, not the dice. The model id tilts the
//! draws: `builtin/eager` moves metrics up more often than down, `builtin/cautious` down, any
//! other `builtin/...` (such as `builtin/simulator`) neither; that gives a model comparison on
//! the simulator something to find.

use crate::host::{ChatMessage, ChatRequest, ChatResponse, Usage};
use crate::rng::{fnv1a, Rng};
use std::cell::{Cell, RefCell};

/// The model id prefix routed to the simulator.
pub const PREFIX: &str = "builtin/";

/// Answers one request. Deterministic: the same request (including `seed`) always gets the same
/// answer; a different seed gets a different answer.
pub fn respond(request: &ChatRequest) -> ChatResponse {
    let seed = request.seed.map_or("-".to_string(), |s| s.to_string());
    let texts = request
        .messages
        .iter()
        .flat_map(|m| [m.role.as_str(), &m.content]);
    let hash = fnv1a(&texts.chain([seed.as_str()]).collect::<Vec<_>>());
    let draws = match request.seed {
        Some(s) => Rng::new(fnv1a(&["metric draws", &s.to_string()])),
        None => Rng::new(hash ^ 0x9e37_79b9_7f4a_7c15),
    };
    let mut context = Context::read(&request.messages, Rng::new(hash));
    context.draws = RefCell::new(draws);
    context.lean = lean(&request.model);
    let mut reply = context.compose();
    let mut finish_reason = "stop";
    if let Some(max) = request.max_tokens.or(request.max_completion_tokens) {
        let whole = reply.len();
        reply = cut(&reply, max as usize * 4);
        if reply.len() < whole {
            finish_reason = "length";
        }
    }
    // Roughly four characters a token, the usual rule of thumb; only the usage report reads it.
    let tokens = |chars: usize| chars.div_ceil(4) as u64;
    let prompt_chars = request
        .messages
        .iter()
        .map(|m| m.content.chars().count())
        .sum();
    let usage = Usage {
        prompt_tokens: tokens(prompt_chars),
        completion_tokens: tokens(reply.chars().count()),
        cost: Some(0.0),
        ..Usage::default()
    };
    let generation_id = Some(format!("builtin-{hash:016x}"));
    ChatResponse {
        content: reply,
        usage: Some(usage),
        generation_id,
        finish_reason: Some(finish_reason.to_string()),
    }
}

// Phrase tables, `|`-separated. In templates `{a}` is the actor, `{n}` a phrase from the prompt,
// `{o}` an object, `{v}` a third-person move, `{w}` a first-person move, `{f}` a public framing.
const VERBS: &str = "proposes|demands|concedes|offers|pushes for|floats|tables|insists on|\
    signals support for";
const WE: &str = "propose|are ready to discuss|would support|want to explore|are willing to offer";
const OBJECTS: &str = "a phased agreement on {n}|stricter oversight of {n}|joint funding for {n}|\
    a temporary moratorium on {n}|shared standards for {n}|an independent review of {n}|\
    firm guarantees on {n}|binding limits on {n}|a working group on {n}|\
    transparency rules for {n}|a trial period for {n}";
const FRAMES: &str = "a matter of shared interest|a first step, not a final offer|\
    good-faith engagement|a response to recent pressure|a test of the other side's intentions";
const GOALS: &str = "Secure lasting influence over {n}|Protect {a}'s position on {n}|\
    Build a durable coalition around {n}|Reduce exposure to risks from {n}|\
    Keep options open on {n} while others commit|Turn {n} into a source of leverage";
const PRIORITIES: &str = "Test whether others would accept {o}|\
    Lock in support on {n} before the next turn|Avoid concessions on {n} without reciprocity|\
    Gather allies ahead of any vote on {n}";
const REASONS: &str = "{a} judges that {n} is where its leverage is greatest this turn.|\
    Moving first on {n} costs little and signals seriousness.|\
    Others are unlikely to accept {o} without something in return.|\
    Waiting risks letting rivals set the terms on {n}.|\
    Recent moves on {n} have narrowed the room for compromise.|\
    A visible step now keeps pressure on {n} without closing doors.";
const ACTIONS: &str = "{a} {v} {o}.|{a} {v} {o}, conditional on reciprocal steps on {n}.|\
    {a} formally {v} {o} and sets a deadline for replies.";
const ACTIONS_MORE: &str = "It pairs this with an offer of {o} if talks progress.|\
    Officials brief partners privately before the next round.|\
    The move is framed publicly as {f}.|It also asks for written terms on {n}.";
const MOVES: &str = "{v} {o}, and other parties respond with cautious interest.|\
    {v} {o}; observers read it as a hardening of positions.|\
    {v} {o}, but partners ask for details first.|{v} {o}, which shifts attention toward {n}.|\
    {v} {o}, though critics doubt it can be enforced.";
const STATE_CLOSE: &str = "Overall, tension around {n} rises, while talks on {n} stay open.|\
    The balance shifts slightly as {n} becomes the focus of negotiation.|\
    Public attention turns to {n}, and pressure for a settlement grows.|\
    No side has a decisive advantage, but positions on {n} are hardening.";
const CHANGES: &str = "Attention on {n} increases sharply|Positions on {n} harden|\
    First concrete commitments appear on {n}|New scrutiny falls on {n}|\
    Proposals for {o} gain traction|Trust between the parties shifts";
const CONSEQUENCES: &str = "Other actors must respond on {n} next turn|Pressure builds for {o}|\
    Trust between the parties erodes slightly|Delays on {n} become more costly|\
    A coalition around {n} becomes more likely";
const ASKS: &str = "Would you be prepared to move on {n} in return?|\
    Can we agree on a timeline before the next round?|We would value your support on {n}.|\
    Let us settle the details privately before going public.";
const REPLIES: &str = "We {w} {o}, but {n} needs firmer guarantees.|\
    We welcome the approach and {w} {o}.|We cannot accept the terms on {n} as they stand.";
const PURPOSES: &str = "Coordinate a common position on {n}.|Jointly press for {o}.|\
    Pool resources to shape the outcome on {n}.";
const PLAN_REASONS: &str = "A direct channel could unlock progress on {n}.|\
    Talking now avoids misunderstandings about {n}.|\
    {a} prefers to watch how others move on {n} first.";
const SUMMARY: &str = "Early moves focused on {o}, while later turns turned to {n}.|\
    Positions on {n} hardened before a partial compromise emerged.|\
    No actor secured a decisive advantage, though pressure for {o} kept growing.|\
    By the end, talks on {n} remained open.";
const ACCEPT: &str = "accept\n**RESPONSE:** We accept and will align our position on {n}. \
    Coordination should start before the next turn.";
const REJECT: &str = "reject\n**RESPONSE:** We decline for now: the terms on {n} do not protect \
    our interests. We remain open to talks.";
/// Used when the prompt yields fewer than three topic phrases.
const FALLBACK_NOUNS: [&str; 3] = ["the agreement", "public trust", "the timetable"];
/// Words that end a noun phrase or cannot start one (the prompt's grammar, not its topic).
const FUNCTION: &str = "|has|have|had|is|are|was|were|be|been|will|would|can|could|may|might|\
    must|should|to|of|in|on|at|for|by|with|from|and|or|but|that|which|who|as|than|into|over|\
    about|after|before|if|so|not|no|it|its|their|they|this|these|those|we|you|our|also|only|\
    still|now|then|next|same|other|following|current|previous|first|last|new|";

/// What the simulator reads from a request, and the generator its reply draws from.
struct Context {
    /// System messages, joined.
    system: String,
    /// What to answer: the last "## Your Task" section of the system message (the standing
    /// instructions) and the request that ends the last user message (its last "## Your Task"
    /// or "## Turn ..." section); the whole prompt when there is neither.
    task: String,
    /// The last user message.
    user: String,
    actor: String,
    /// Topic phrases from the prompt, shuffled; dealt in turn so a reply does not repeat one.
    nouns: Vec<String>,
    dealt: Cell<usize>,
    /// Ids on the "Other actors:" line.
    others: Vec<String>,
    /// The "### <actor>" headings under "## Actor Actions This Turn".
    acting: Vec<String>,
    /// Metric labels with their last value (see [`metric_labels`]).
    labels: Vec<(String, Option<u32>)>,
    rng: RefCell<Rng>,
    /// Metric draws: from the request's seed alone (see the module's comment).
    draws: RefCell<Rng>,
    /// How the model tilts metric draws: -1, 0 or +1 (see [`lean`]).
    lean: i8,
}

/// The tilt of a simulator model id: `builtin/eager` +1, `builtin/cautious` -1, else 0.
fn lean(model: &str) -> i8 {
    match model.strip_prefix(PREFIX) {
        Some("eager") => 1,
        Some("cautious") => -1,
        _ => 0,
    }
}

impl Context {
    fn read(messages: &[ChatMessage], rng: Rng) -> Context {
        let of = |role: &'static str| {
            messages
                .iter()
                .filter(move |m| m.role == role)
                .map(|m| &m.content)
        };
        let system = of("system").cloned().collect::<Vec<_>>().join("\n");
        let user = of("user").next_back().cloned().unwrap_or_default();
        // The engine's standing instructions and answer format end its system message; the
        // user message ends with the turn's request (after the turn header).
        let standing = system.rfind("## Your Task").map(|i| &system[i..]);
        let cut = user
            .rfind("## Your Task")
            .or_else(|| user.rfind("\n## Turn ").map(|i| i + 1));
        let (body, request) = match cut {
            Some(i) => (&user[..i], Some(&user[i..])),
            None => (user.as_str(), None),
        };
        let task = match (standing, request) {
            (None, None) => format!("{system}\n{user}"),
            (s, r) => format!("{}\n{}", s.unwrap_or(""), r.unwrap_or("")),
        };
        // Topics come from what the user message shows and from the initial situation, which
        // the engine puts in an actor's system message.
        let initial = system.find("## Initial Situation\n").map_or("", |i| {
            let rest = &system[i..];
            &rest[..rest[3..].find("\n## ").map_or(rest.len(), |j| j + 3)]
        });
        let mut nouns = nouns(&format!("{initial}\n{body}"));
        let missing = 3usize.saturating_sub(nouns.len());
        nouns.extend(FALLBACK_NOUNS.iter().take(missing).map(|n| n.to_string()));
        let labels = metric_labels(messages);
        let (actor, acting) = (actor_name(&system, &user), acting(&user));
        let others = others(&format!("{system}\n{user}"));
        let (dealt, rng) = (Cell::new(0), RefCell::new(rng));
        let c = Context {
            system,
            task,
            user,
            actor,
            nouns,
            dealt,
            others,
            acting,
            labels,
            rng,
            draws: RefCell::new(Rng::new(0)),
            lean: 0,
        };
        let mut nouns = c.nouns.clone();
        for i in (1..nouns.len()).rev() {
            nouns.swap(i, c.below(i + 1));
        }
        Context { nouns, ..c }
    }

    /// A metric draw in [0, 1): seven in ten follow the seed (what paired runs share), three
    /// in ten follow the prompt, so that what a run was told still moves its numbers.
    fn draw(&self) -> f64 {
        let shared = self.draws.borrow_mut().next_f64();
        let mut own = self.rng.borrow_mut();
        let pick = own.next_f64();
        let mine = own.next_f64();
        if pick < 0.3 {
            mine
        } else {
            shared
        }
    }

    fn below(&self, n: usize) -> usize {
        (self.rng.borrow_mut().next_u64() % n.max(1) as u64) as usize
    }

    fn pick<'t>(&self, table: &'t str) -> &'t str {
        let items: Vec<&str> = table.split('|').collect();
        items[self.below(items.len())]
    }

    /// `k` distinct indices below `n` (all of them when `n <= k`), so bullets do not repeat.
    fn distinct(&self, n: usize, k: usize) -> Vec<usize> {
        let mut out = Vec::new();
        while out.len() < k.min(n) {
            let i = self.below(n);
            if !out.contains(&i) {
                out.push(i);
            }
        }
        out
    }

    fn noun(&self) -> &str {
        self.dealt.set(self.dealt.get() + 1);
        &self.nouns[self.dealt.get() % self.nouns.len()]
    }

    /// Fills a template (see the phrase tables) with fresh picks for every placeholder.
    fn fill(&self, template: &str) -> String {
        let mut parts = template.split('{');
        let mut out = parts.next().unwrap_or("").to_string();
        for part in parts {
            match &part[..1] {
                "a" => out.push_str(&self.actor),
                "n" => out.push_str(self.noun()),
                "o" => out.push_str(&self.say(OBJECTS)),
                "v" => out.push_str(self.pick(VERBS)),
                "w" => out.push_str(self.pick(WE)),
                _ => out.push_str(self.pick(FRAMES)),
            }
            out.push_str(&part[2..]);
        }
        out
    }

    /// One filled entry of `table`.
    fn say(&self, table: &str) -> String {
        self.fill(self.pick(table))
    }

    /// `min` to `max` distinct entries of `table`, filled and capitalised, joined by `sep`.
    fn some(&self, table: &str, min: usize, max: usize, sep: &str) -> String {
        let items: Vec<&str> = table.split('|').collect();
        let picked = self.distinct(items.len(), min + self.below(max - min + 1));
        let filled: Vec<_> = picked
            .into_iter()
            .map(|i| cap(&self.fill(items[i])))
            .collect();
        filled.join(sep)
    }

    /// `- ` bullets.
    fn bullets(&self, table: &str, min: usize, max: usize) -> String {
        format!("- {}", self.some(table, min, max, "\n- "))
    }

    /// `Label: N` lines for pattern metrics: a step of -1, 0 or +1 from the last value shown,
    /// else any of 0-10.
    fn metric_lines(&self) -> String {
        let next = |v: Option<u32>| {
            let u = self.draw();
            v.map_or((u * 11.0) as usize, |v| {
                // Down, same, up: a third each, or tilted by the model's lean.
                let (down, same) = match self.lean {
                    1 => (1.0 / 6.0, 0.5),
                    -1 => (0.5, 5.0 / 6.0),
                    _ => (1.0 / 3.0, 2.0 / 3.0),
                };
                let step = if u < down {
                    0
                } else if u < same {
                    1
                } else {
                    2
                };
                (v as usize + step).clamp(1, 11) - 1
            })
        };
        self.labels
            .iter()
            .map(|(l, v)| format!("\n\n{l}: {}", next(*v)))
            .collect()
    }

    fn compose(&self) -> String {
        let t = self.task.as_str();
        let quality = ["PASSED", "CONSISTENT", "COHERENT", "VALID ACCESS"];
        if self.system.to_lowercase().contains("metrics extraction") {
            self.metric()
        } else if let Some(label) = quality.into_iter().find(|l| t.contains(&format!("{l}:"))) {
            self.quality(label)
        } else if t.contains("**INITIATE_BILATERAL:**") {
            self.plan()
        } else if t.contains("**UPDATED STATE:**") {
            self.world()
        } else if t.contains("**DECISION:**") && t.to_lowercase().contains("accept") {
            format!(
                "**DECISION:** {}",
                self.fill([ACCEPT, ACCEPT, ACCEPT, REJECT, REJECT][self.below(5)])
            )
        } else if t.contains("**RESPONSE:**") {
            format!(
                "**RESPONSE:** {} {}",
                cap(&self.say(REPLIES)),
                self.say(ASKS)
            )
        } else if t.contains("**MESSAGE:**") {
            format!(
                "**MESSAGE:** We {} {}. {}",
                self.pick(WE),
                self.say(OBJECTS),
                self.say(ASKS)
            )
        } else if t.contains("**ACTION:**") {
            self.decision()
        } else if format!("{}\n{}", self.system, self.user)
            .to_lowercase()
            .contains("summar")
        {
            let who = if self.acting.is_empty() {
                "the actors".into()
            } else {
                self.acting.join(" and ")
            };
            let (a, b) = (self.noun(), self.noun());
            let rest = self.some(SUMMARY, 2, 3, " ");
            format!("Over the scenario, {who} contested {a} and {b}. {rest}")
        } else {
            format!(
                "The situation around {} remains fluid. {}",
                self.noun(),
                cap(&self.say(ACTIONS))
            )
        }
    }

    fn decision(&self) -> String {
        let goals = self.bullets(GOALS, 2, 3);
        let priorities = self.bullets(PRIORITIES, 1, 2);
        let reasoning = self.some(REASONS, 2, 3, " ");
        let action = format!(
            "{} {}",
            cap(&self.say(ACTIONS)),
            self.some(ACTIONS_MORE, 1, 3, " ")
        );
        format!(
            "**LONG-TERM GOALS:**\n{goals}\n\n**SHORT-TERM PRIORITIES:**\n{priorities}\n\n\
             **REASONING:**\n{reasoning}\n\n**ACTION:**\n{action}{}",
            self.metric_lines()
        )
    }

    fn world(&self) -> String {
        let mut actors = self.acting.clone();
        if actors.is_empty() {
            actors.push("The main actors".into());
        }
        let mut paragraphs: Vec<String> = (actors.chunks(actors.len().div_ceil(2)))
            .map(|group| {
                group
                    .iter()
                    .map(|a| format!("{a} {}", self.say(MOVES)))
                    .collect()
            })
            .map(|moves: Vec<String>| moves.join(" "))
            .collect();
        paragraphs.push(cap(&self.say(STATE_CLOSE)));
        format!(
            "**UPDATED STATE:**\n{}{}\n\n**KEY CHANGES:**\n{}\n\n**CONSEQUENCES:**\n{}",
            paragraphs.join("\n\n"),
            self.metric_lines(),
            self.bullets(CHANGES, 3, 3),
            self.bullets(CONSEQUENCES, 2, 2)
        )
    }

    fn plan(&self) -> String {
        let ids = &self.others;
        let yes = |ok: bool| {
            if ok && self.below(2) == 0 {
                "yes"
            } else {
                "no"
            }
        };
        let target = if ids.is_empty() {
            "none"
        } else {
            &ids[self.below(ids.len())]
        };
        let message = format!(
            "We {} {}. {}",
            self.pick(WE),
            self.say(OBJECTS),
            self.say(ASKS)
        );
        let mut out = format!(
            "**INITIATE_BILATERAL:** {}\n**TARGET_ACTOR:** {target}\n**PROPOSED_MESSAGE:** {message}\n",
            yes(!ids.is_empty())
        );
        if self.task.contains("**PROPOSE_COALITION:**") {
            let members = self.distinct(ids.len(), 2 + self.below(2));
            let members: Vec<&str> = members.into_iter().map(|i| ids[i].as_str()).collect();
            out +=
                &format!(
                "**PROPOSE_COALITION:** {}\n**COALITION_MEMBERS:** {}\n**COALITION_PURPOSE:** {}\n",
                yes(ids.len() >= 2),
                if members.is_empty() { "none".into() } else { members.join(", ") },
                cap(&self.say(PURPOSES))
            );
        }
        out + &format!("**REASONING:** {}", cap(&self.say(PLAN_REASONS)))
    }

    /// The quality-check answer. Each label is bold only when the prompt writes it bold, and the
    /// issues label follows the prompt ("ISSUES FOUND:" in the original tool's templates).
    fn quality(&self, label: &str) -> String {
        let t = &self.task;
        let tag = |l: &str| {
            if t.contains(&format!("**{l}:**")) {
                format!("**{l}:**")
            } else {
                format!("{l}:")
            }
        };
        let found = ["ISSUES FOUND", "VIOLATIONS FOUND"]
            .into_iter()
            .find(|l| t.contains(&format!("{l}:")));
        let (label, issues) = (tag(label), tag(found.unwrap_or("ISSUES")));
        let (severity, explanation) = (tag("SEVERITY"), tag("EXPLANATION"));
        if self.below(10) < 8 {
            return format!(
                "{label} Yes\n{issues}\n- None\n{severity} low\n{explanation} The text follows \
                 from the actions taken and stays consistent with earlier turns."
            );
        }
        let (noun, level) = (self.noun(), self.pick("medium|high"));
        format!(
            "{label} No\n{issues}\n- The treatment of {noun} is not supported by earlier turns\n\
             {severity} {level}\n{explanation} The account of {noun} does not follow from what \
             the actors did."
        )
    }

    /// A number for a metric question: 0/1 for yes-no questions, a category index for
    /// categorical ones, else within the last range the question states ("A-B", "A to B",
    /// "between A and B"), else 0-10; at most one decimal, whole numbers on wide scales.
    fn metric(&self) -> String {
        // The question is in the system message (the engine's layout) or before the text.
        let asked = self.user.split("Text to analyze:").next().unwrap_or("");
        let q = format!("{}\n{asked}", self.system).to_lowercase();
        let categories = q
            .split("number of the category:")
            .nth(1)
            .map(|c| c.matches(" = ").count());
        let (lo, hi, whole) = match categories {
            _ if q.contains("1 for yes") => (0.0, 1.0, true),
            Some(n) if n > 0 => (0.0, (n - 1) as f64, true),
            _ => range(&q).map_or((0.0, 10.0, false), |(lo, hi)| (lo, hi, hi - lo > 10.0)),
        };
        // Tilted by the lean: √u leans high, 1 - √(1 - u) leans low.
        let u = self.draw();
        let u = match self.lean {
            1 => u.sqrt(),
            -1 => 1.0 - (1.0 - u).sqrt(),
            _ => u,
        };
        let v = lo + (hi - lo) * u;
        let v = if whole {
            v.round()
        } else {
            (v * 10.0).round() / 10.0
        };
        format!("{}", v.clamp(lo, hi) + 0.0)
    }
}

/// The last "A-B", "A to B" or "between A and B" in `q`.
fn range(q: &str) -> Option<(f64, f64)> {
    let q = q.replace(['-', '–'], " - ");
    let t: Vec<&str> = q.split_whitespace().collect();
    let num = |w: &str| {
        w.trim_matches(|c: char| !c.is_ascii_digit())
            .parse::<f64>()
            .ok()
    };
    (2..t.len()).rev().find_map(|i| {
        let (lo, hi) = (num(t[i - 2])?, num(t[i])?);
        let between = t[i - 1] == "and" && i >= 3 && t[i - 3] == "between";
        ((matches!(t[i - 1], "-" | "to") || between) && lo < hi).then_some((lo, hi))
    })
}

fn cap(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
}

/// At most `limit` characters, cut back to the last word boundary.
fn cut(text: &str, limit: usize) -> String {
    let Some((end, _)) = text.char_indices().nth(limit) else {
        return text.to_string();
    };
    let head = &text[..end];
    head[..head.rfind(char::is_whitespace).unwrap_or(end)]
        .trim_end()
        .to_string()
}

/// The name in the first "You are X" (system first), else the first "# X" line.
fn actor_name(system: &str, user: &str) -> String {
    for text in [system, user] {
        let name = text
            .split("You are ")
            .nth(1)
            .and_then(|r| r.split(['.', ',', '\n', ';']).next());
        if let Some(name) = name
            .map(str::trim)
            .filter(|n| (1..=6).contains(&n.split(' ').count()))
        {
            return name.to_string();
        }
    }
    let heading = [system, user]
        .into_iter()
        .flat_map(str::lines)
        .find_map(|l| l.strip_prefix("# "));
    heading.map_or("The delegation".to_string(), |h| h.trim().to_string())
}

/// Topic phrases: runs of capitalised words (proper nouns; a single word at a sentence start
/// does not count) and the one or two words after a determiner ("its operating permit" gives
/// "the operating permit"). Headings are skipped: they are structure, not topic.
fn nouns(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with("Other actors:"))
    {
        let raw: Vec<&str> = line.split_whitespace().collect();
        let word = |i: usize| {
            raw.get(i)
                .map_or("", |w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        };
        // The word does not end a clause, so a phrase may continue past it.
        let open = |i: usize| {
            raw.get(i)
                .is_some_and(|w| w.ends_with(char::is_alphanumeric))
        };
        let plain =
            |w: &str| w.len() > 2 && w.chars().all(|c| c.is_alphabetic() || "-'".contains(c));
        let low = |w: &str| {
            plain(w) && w.starts_with(char::is_lowercase) && !FUNCTION.contains(&format!("|{w}|"))
        };
        let up = |w: &str| {
            plain(w) && w.starts_with(char::is_uppercase) && w.contains(char::is_lowercase)
        };
        let mut i = 0;
        while i < raw.len() {
            let mut phrase = Vec::new();
            if "|the|its|their|our|a|an|any|every|"
                .contains(&format!("|{}|", word(i).to_lowercase()))
                && open(i)
                && low(word(i + 1))
            {
                phrase.extend(["the", word(i + 1)]);
                let (w1, w2) = (word(i + 1), word(i + 2));
                if open(i + 1)
                    && low(w2)
                    && (!w2.ends_with('s') || w2.ends_with("ss") || w1.ends_with("'s"))
                {
                    phrase.push(w2);
                }
            } else {
                while phrase.len() < 3
                    && up(word(i + phrase.len()))
                    && (phrase.is_empty() || open(i + phrase.len() - 1))
                {
                    phrase.push(word(i + phrase.len()));
                }
                if phrase.len() < 2
                    && (i == 0 || raw[i - 1].ends_with(['.', ':', '!', '?', '-', '*']))
                {
                    phrase.clear();
                }
            }
            i += phrase.len().max(1);
            let p = phrase.join(" ");
            let p = p.strip_suffix("'s").unwrap_or(&p).to_string();
            if !p.is_empty() && !out.contains(&p) && out.len() < 40 {
                out.push(p);
            }
        }
    }
    out
}

/// The ids on the "Other actors:" line (first word of each comma-separated item).
fn others(text: &str) -> Vec<String> {
    let line = text.lines().find_map(|l| {
        l.trim_start_matches(['-', '*', ' '])
            .strip_prefix("Other actors:")
    });
    let items = line.unwrap_or("").trim_start_matches(['*', ' ']).split(',');
    let ids = items.filter_map(|p| p.split_whitespace().next());
    let ids = ids.map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '_'));
    ids.filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// The "### <name>" headings of "## Actor Actions This Turn", else of the whole text.
fn acting(text: &str) -> Vec<String> {
    let section = text
        .find("## Actor Actions This Turn")
        .map_or(text, |i| &text[i + 5..]);
    let lines = section
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("## ") && !l.starts_with("# "));
    lines
        .filter_map(|l| l.strip_prefix("### "))
        .map(|n| n.trim().to_string())
        .collect()
}

/// Every `"Label: N"` the prompt asks for and every `Label: <0-10>` rating it already shows,
/// with the last value seen, so that pattern metrics find a value that moves by small steps.
///
/// A label never spans lines, so only the lines with a `: ` before `N"` or a digit are searched:
/// the same matches as searching the whole text, at a fraction of the cost (the regex search
/// over every prompt was a quarter of the core's time in bench/batch-throughput.mjs).
fn metric_labels(messages: &[ChatMessage]) -> Vec<(String, Option<u32>)> {
    thread_local! {
        static LABEL: regex_lite::Regex =
            regex_lite::Regex::new(r#"\b([A-Z][a-z]+(?: [a-z]+){0,4}): (N"|\d+\b)"#).unwrap();
    }
    let may_hold = |line: &&str| {
        line.match_indices(": ").any(|(i, _)| {
            let after = &line.as_bytes()[i + 2..];
            after.first().is_some_and(u8::is_ascii_digit) || after.starts_with(b"N\"")
        })
    };
    let lines = messages
        .iter()
        .flat_map(|m| m.content.lines())
        .filter(may_hold);
    let mut out: Vec<(String, Option<u32>)> = Vec::new();
    LABEL.with(|re| {
        for c in lines.flat_map(|line| re.captures_iter(line)) {
            let value = c[2].parse::<u32>().ok();
            if &c[2] != "N\"" && value.is_none_or(|v| v > 10) {
                continue;
            }
            match out.iter_mut().find(|(label, _)| *label == c[1]) {
                Some(seen) => seen.1 = value.or(seen.1),
                None => out.push((c[1].to_string(), value)),
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSTEM: &str = "Rate the deal and write it as \"Data sharing level: N\".\n\n\
        You are Kestrel Bay Transport Committee, a municipal regulator.";
    const STATE: &str = "## Current Situation (Turn 1 of 3)\n# Week 0\n\nSwiftride's operating \
        permit in Kestrel Bay expires in five weeks. The transport committee has signalled that \
        renewal depends on a data agreement.\n- The city wants the data to plan bus lanes\n";
    const PLAN: &str = "Other actors: council, swiftride, harbour_board\n\n## Your Task\n\
        **INITIATE_BILATERAL:** yes or no\n**TARGET_ACTOR:**\n**PROPOSED_MESSAGE:**\n\
        **PROPOSE_COALITION:** yes or no\n**COALITION_MEMBERS:**\n**COALITION_PURPOSE:**\n\
        **REASONING:**";
    const METRIC: &str = "You are a metrics extraction assistant. Answer with a number only.";

    fn ask(system: &str, task: &str, seed: u64) -> ChatRequest {
        let msg = |role: &str, text: &str| ChatMessage {
            role: role.into(),
            content: text.into(),
        };
        let messages = vec![
            msg("system", system),
            msg("user", &format!("{STATE}\n{task}")),
        ];
        let (temperature, max_tokens, top_p) = (None, None, None);
        ChatRequest {
            model: "builtin/simulator".into(),
            messages,
            temperature,
            max_tokens,
            max_completion_tokens: None,
            seed: Some(seed),
            top_p,
            cache_breakpoint: false,
        }
    }

    fn answer(system: &str, task: &str, seed: u64) -> String {
        let text = respond(&ask(system, task, seed)).content;
        println!("{text}\n");
        text
    }

    /// The text after `tag` on its line.
    fn field(text: &str, tag: &str) -> String {
        let after = text
            .split(tag)
            .nth(1)
            .unwrap_or_else(|| panic!("{tag} missing in:\n{text}"));
        after.lines().next().unwrap().trim().to_string()
    }

    #[test]
    fn decision_has_its_sections_and_the_metric_line() {
        let text = answer(
            SYSTEM,
            "## Your Task\n**LONG-TERM GOALS:** ... **ACTION:**",
            1,
        );
        for tag in [
            "**LONG-TERM GOALS:**\n- ",
            "**SHORT-TERM PRIORITIES:**\n- ",
            "**REASONING:**\n",
            "**ACTION:**\n",
        ] {
            assert!(text.contains(tag), "{tag}");
        }
        assert!(field(&text, "Data sharing level: ").parse::<u32>().unwrap() <= 10);
    }

    #[test]
    fn world_update_names_the_acting_actors() {
        let task = "Data sharing level: 4\n## Actor Actions This Turn\n### Kestrel Bay Transport Committee\nDemands data.\n\
            ### Swiftride\nRefuses.\n\n## Your Task\n**UPDATED STATE:** **KEY CHANGES:** **CONSEQUENCES:**";
        let text = answer("You are the narrator.", task, 2);
        let (state, rest) = text.split_once("**KEY CHANGES:**\n").unwrap();
        let (changes, consequences) = rest.split_once("\n\n**CONSEQUENCES:**\n").unwrap();
        assert!(
            state.starts_with("**UPDATED STATE:**\nKestrel Bay Transport Committee ")
                && state.contains("\nSwiftride ")
        );
        assert!((3..=5).contains(&field(state, "Data sharing level: ").parse::<u32>().unwrap()));
        assert_eq!(
            (changes.lines().count(), consequences.lines().count()),
            (3, 2)
        );
        assert!(changes
            .lines()
            .chain(consequences.lines())
            .all(|l| l.starts_with("- ")));
    }

    #[test]
    fn communication_plan_names_listed_ids_and_says_yes_about_half_the_time() {
        let ids = ["council", "swiftride", "harbour_board"];
        let mut yes = 0;
        for seed in 0..40 {
            let text = answer(SYSTEM, PLAN, seed);
            assert!(ids.contains(&field(&text, "**TARGET_ACTOR:**").as_str()));
            let members = field(&text, "**COALITION_MEMBERS:**");
            assert!(
                members.split(", ").count() >= 2 && members.split(", ").all(|m| ids.contains(&m))
            );
            for tag in [
                "**PROPOSED_MESSAGE:**",
                "**COALITION_PURPOSE:**",
                "**REASONING:**",
            ] {
                assert!(field(&text, tag).len() > 10);
            }
            assert!(["yes", "no"].contains(&field(&text, "**PROPOSE_COALITION:**").as_str()));
            yes += usize::from(field(&text, "**INITIATE_BILATERAL:**") == "yes");
        }
        assert!((10..=30).contains(&yes), "{yes}");
    }

    #[test]
    fn coalition_bilateral_and_message_replies() {
        let text = answer(
            SYSTEM,
            "## Your Task\n**DECISION:** accept or reject\n**RESPONSE:**",
            3,
        );
        assert!(["accept", "reject"].contains(&field(&text, "**DECISION:**").as_str()));
        assert!(field(&text, "**RESPONSE:**").len() > 10);
        let text = answer(
            SYSTEM,
            "## Your Task\nReply.\n**RESPONSE:** (your reply)",
            3,
        );
        assert!(text.starts_with("**RESPONSE:** ") && !text.contains("DECISION"));
        let text = answer(SYSTEM, "## Your Task\n**MESSAGE:** (your message)", 3);
        assert!(text.starts_with("**MESSAGE:** ") && text.matches(['.', '?']).count() == 2);
    }

    #[test]
    fn metric_replies_are_numbers_inside_the_stated_range() {
        let cases = [
            ("Rate tension between 0 and 100.", 0.0, 100.0),
            ("Score 1-5.", 1.0, 5.0),
            ("The answer is a number from 2 to 4.", 2.0, 4.0),
            ("How cooperative?", 0.0, 10.0),
            ("Tense?\n\nAnswer 1 for yes and 0 for no.", 0.0, 1.0),
            (
                "Mood?\n\nAnswer with the number of the category: 0 = calm, 1 = tense.",
                0.0,
                1.0,
            ),
        ];
        for (question, lo, hi) in cases {
            for seed in 0..30 {
                let text = answer(
                    METRIC,
                    &format!("{question}\n\nText to analyze:\n\n12-40 trips"),
                    seed,
                );
                let v: f64 = text
                    .parse()
                    .unwrap_or_else(|_| panic!("not a number: {text}"));
                let decimals = text.split('.').nth(1).map_or(0, str::len);
                assert!(
                    (lo..=hi).contains(&v) && decimals <= 1,
                    "{question} -> {text}"
                );
            }
        }
    }

    #[test]
    fn quality_checks_echo_the_requested_labels() {
        let text = answer(
            "",
            "Answer with CONSISTENT: Yes/No\nISSUES FOUND:\nSEVERITY:\nEXPLANATION:",
            4,
        );
        assert!(
            ["Yes", "No"].contains(&field(&text, "CONSISTENT:").as_str()) && !text.contains("**")
        );
        assert!(text.contains("ISSUES FOUND:\n- ") && field(&text, "EXPLANATION:").len() > 10);
        let task =
            "## Your Task\n**PASSED:** Yes or No\n**ISSUES:**\n**SEVERITY:**\n**EXPLANATION:**";
        let mut passes = 0;
        for seed in 0..50 {
            let text = answer("", task, seed);
            assert!(text.contains("**ISSUES:**\n- "));
            assert!(["low", "medium", "high"].contains(&field(&text, "**SEVERITY:**").as_str()));
            passes += usize::from(field(&text, "**PASSED:**") == "Yes");
        }
        assert!((30..50).contains(&passes), "{passes}");
    }

    #[test]
    fn summaries_and_other_prompts_get_a_paragraph() {
        let text = answer(
            "You are the historian.",
            "## Your Task\nWrite the updated summary.",
            5,
        );
        assert!(
            !text.contains("**") && (2..=3).contains(&text.matches(". ").count()),
            "{text}"
        );
        let text = answer(SYSTEM, "What now?", 5);
        assert!(!text.contains('*') && !text.contains('\n') && text.ends_with('.'));
    }

    #[test]
    fn deterministic_per_seed_and_different_across_seeds() {
        let task = "## Your Task\n**ACTION:**";
        assert_eq!(
            respond(&ask(SYSTEM, task, 7)),
            respond(&ask(SYSTEM, task, 7))
        );
        let texts: std::collections::BTreeSet<_> =
            (0..10).map(|s| answer(SYSTEM, task, s)).collect();
        assert_eq!(texts.len(), 10);
    }

    #[test]
    fn max_tokens_cuts_at_a_word_boundary() {
        let mut request = ask(SYSTEM, "## Your Task\n**ACTION:**", 8);
        let full = respond(&request).content;
        request.max_tokens = Some(10);
        let short = respond(&request).content;
        assert!(short.len() > 20 && short.chars().count() <= 40 && full.starts_with(&short));
        assert!(full[short.len()..].starts_with(char::is_whitespace));
    }

    #[test]
    fn usage_counts_characters_and_costs_nothing() {
        let request = ask(SYSTEM, "", 9);
        let response = respond(&request);
        let usage = response.usage.unwrap();
        let prompt_chars = SYSTEM.chars().count() + STATE.chars().count() + 1;
        assert_eq!(usage.prompt_tokens as usize, prompt_chars.div_ceil(4));
        assert_eq!(
            usage.completion_tokens as usize,
            response.content.chars().count().div_ceil(4)
        );
        assert_eq!(usage.cost, Some(0.0));
        let id = response.generation_id.unwrap();
        assert!(
            id.len() == 24
                && id
                    .strip_prefix("builtin-")
                    .unwrap()
                    .chars()
                    .all(|c| c.is_ascii_hexdigit())
        );
    }
}
