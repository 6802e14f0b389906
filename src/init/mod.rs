//! `scenario-lab init`: a person's answers (what the scenario is about, who takes part and what
//! they want, how many turns, what to measure, which model plays whom, how many runs, what may
//! be spent) become a project folder laid out like the repo's examples:
//!
//! ```text
//! <dir>/scenarios/<slug>/scenario.yaml, actors/<actor>.yaml, metrics.yaml
//! <dir>/experiments/<slug>/batch-config.yaml     (run from <dir>, as the examples are)
//! ```
//!
//! Every file is commented like the quick-start config and reads back through the loader to
//! exactly what was answered. This module owns the answers (their JSON form, their checks,
//! the flags that override them), the templates ([`templates`]), the short list of models the
//! wizard offers with their prices (from [`crate::pricing`]: no second table), and the text of
//! the files. It writes nothing: the host writes the files it returns, then validates them and
//! plans the batch through the usual paths. The interview itself is the host's.

pub mod templates;

use serde::{Deserialize, Serialize};

use crate::paths;
use crate::pricing::PriceBook;

/// The built-in simulator: free, offline, the default model of every actor.
pub const SIMULATOR: &str = "builtin/simulator";

/// The models the wizard offers, cheapest first within each provider; any other id may be typed.
/// Each must have a price in the built-in table (a test holds this).
const SUGGESTED_MODELS: &[&str] = &[
    SIMULATOR,
    "openai/gpt-5-nano",
    "openai/gpt-5-mini",
    "openai/gpt-4.1-mini",
    "anthropic/claude-haiku-4.5",
    "anthropic/claude-sonnet-4.5",
    "google/gemini-2.5-flash-lite",
    "google/gemini-2.5-flash",
    "deepseek/deepseek-chat",
    "meta-llama/llama-3.3-70b-instruct",
];

/// The most turns a generated scenario plays: more needs confirming at every run (see
/// `plan::confirm`), which a newcomer's first project should not.
pub const MAX_TURNS: u32 = 1000;
/// The most runs a generated batch makes, for the same reason.
pub const MAX_RUNS: u32 = 100_000;

/// What a person answered. The JSON form of an answers file (`init --answers FILE`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields))]
#[serde(deny_unknown_fields)]
pub struct Answers {
    /// The scenario's name; the folders are named after it.
    pub title: String,
    /// What the scenario is about (the question it explores): the scenario's description, and
    /// what every actor is told.
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<String>"))]
    pub description: String,
    /// Where things stand before turn 1; the description when empty.
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<String>"))]
    pub situation: String,
    /// Who takes part.
    pub actors: Vec<ActorAnswers>,
    /// How many turns a run plays.
    #[serde(default = "default_turns")]
    #[cfg_attr(test, ts(as = "Option<u32>"))]
    pub turns: u32,
    /// How long one turn is in the story ("1 week").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turn_duration: Option<String>,
    /// What to measure each turn.
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<Vec<MetricAnswers>>"))]
    pub metrics: Vec<MetricAnswers>,
    /// The model that writes the world's turns and reads the metrics; the first actor's when
    /// none is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub world_model: Option<String>,
    /// Whether actors may talk privately and form coalitions between turns.
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<bool>"))]
    pub communication: bool,
    /// How many runs the batch makes.
    #[serde(default = "default_runs")]
    #[cfg_attr(test, ts(as = "Option<u32>"))]
    pub runs: u32,
    /// The most the batch may spend, in USD; none: no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<f64>,
}

fn default_turns() -> u32 {
    3
}
fn default_runs() -> u32 {
    3
}

/// One actor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields))]
#[serde(deny_unknown_fields)]
pub struct ActorAnswers {
    /// Its full name ("Castell Components").
    pub name: String,
    /// The short id its file and `--model-override` use; made from the name when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
    /// What it is in the scenario.
    pub role: String,
    /// What it wants.
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<Vec<String>>"))]
    pub goals: Vec<String>,
    /// The model that plays it; the built-in simulator when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// One metric, read each turn from the world state by asking the world model `question`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields))]
#[serde(deny_unknown_fields)]
pub struct MetricAnswers {
    /// Its name in results (lowercase, `_` between words; other text is made so).
    pub name: String,
    /// What to ask of each turn's world state.
    pub question: String,
    /// What kind of value it is.
    pub kind: MetricKind,
    /// `[min, max]` of a continuous metric; `[0, 10]` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<[f64; 2]>,
    /// The categories of a categorical metric (at least two).
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<Vec<String>>"))]
    pub categories: Vec<String>,
}

/// What kind of value a metric is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    /// A number in a range (a score, a level, an amount).
    Continuous,
    /// Yes or no.
    Boolean,
    /// One of a few named categories.
    Categorical,
}

/// The flags that override an answers file or a template (`--title`, `--model`, `--turns`,
/// `--runs`, `--budget`).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields))]
pub struct Overrides {
    /// The scenario's name.
    pub title: Option<String>,
    /// The model of every actor and of the world.
    pub model: Option<String>,
    /// How many turns a run plays.
    pub turns: Option<u32>,
    /// How many runs the batch makes.
    pub runs: Option<u32>,
    /// The most the batch may spend, in USD.
    pub budget: Option<f64>,
}

/// A model the wizard offers, with its price.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ModelChoice {
    /// Its id.
    pub id: String,
    /// USD per million prompt tokens.
    pub prompt: f64,
    /// USD per million completion tokens.
    pub completion: f64,
}

/// A template the wizard offers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct TemplateInfo {
    /// Its name (`--template NAME`).
    pub name: String,
    /// What shape of scenario it is.
    pub summary: String,
}

/// One file of a generated project.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ProjectFile {
    /// Its path, relative to the project folder.
    pub path: String,
    /// Its text.
    pub text: String,
}

/// A generated project: its files, and where its scenario and batch config are in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Project {
    /// The scenario folder, relative to the project folder (`scenarios/<slug>`).
    pub scenario_dir: String,
    /// The batch config, relative to the project folder (`experiments/<slug>/batch-config.yaml`).
    pub batch_config: String,
    /// Every file to write.
    pub files: Vec<ProjectFile>,
}

/// The templates, in the order the wizard offers them.
pub fn templates() -> Vec<TemplateInfo> {
    templates::TEMPLATES
        .iter()
        .map(|(name, summary)| TemplateInfo {
            name: name.to_string(),
            summary: summary.to_string(),
        })
        .collect()
}

/// The answers of template `name`; an unknown name is an error listing the templates, with a
/// "did you mean".
pub fn template(name: &str) -> Result<Answers, String> {
    templates::answers(name).ok_or_else(|| {
        let names: Vec<&str> = templates::TEMPLATES.iter().map(|(n, _)| *n).collect();
        let guess = crate::suggest::closest(name, names.iter().copied())
            .map(|g| format!("; did you mean '{g}'?"))
            .unwrap_or_default();
        format!(
            "there is no template '{name}'{guess} (templates: {})",
            names.join(", ")
        )
    })
}

/// The models the wizard offers, with their prices from the built-in table.
pub fn model_choices() -> Vec<ModelChoice> {
    let book = PriceBook::default();
    SUGGESTED_MODELS
        .iter()
        .filter_map(|id| {
            book.price(id).map(|p| ModelChoice {
                id: id.to_string(),
                prompt: p.prompt,
                completion: p.completion,
            })
        })
        .collect()
}

/// An answers file's text (JSON) as answers; a file that is not valid JSON or not answers is
/// an error naming `file`, the line and column, and what was expected.
pub fn parse_answers(text: &str, file: &str) -> Result<Answers, String> {
    serde_json::from_str(text).map_err(|e| {
        let what = e.to_string();
        // serde_json ends its messages with " at line L column C": say it first, as a location.
        let what = what.split(" at line ").next().unwrap_or(&what);
        format!(
            "{file}:{}:{}: {what} (expected an answers object: title, description, actors [{{name, role, goals, model}}], turns, metrics [{{name, question, kind: continuous | boolean | categorical}}], runs, budget)",
            e.line(),
            e.column()
        )
    })
}

impl Answers {
    /// The answers with the flags' values put in.
    pub fn with(mut self, o: &Overrides) -> Answers {
        if let Some(t) = &o.title {
            self.title = t.clone();
        }
        if let Some(m) = &o.model {
            for a in &mut self.actors {
                a.model = Some(m.clone());
            }
            self.world_model = Some(m.clone());
        }
        self.turns = o.turns.unwrap_or(self.turns);
        self.runs = o.runs.unwrap_or(self.runs);
        self.budget = o.budget.or(self.budget);
        self
    }

    /// The folder name of the scenario and of the experiment.
    pub fn slug(&self) -> String {
        paths::sanitize_segment(&fold_latin(&self.title))
    }

    fn world_model(&self) -> String {
        self.world_model
            .clone()
            .or_else(|| self.actors.first().and_then(|a| a.model.clone()))
            .unwrap_or_else(|| SIMULATOR.to_string())
    }
}

impl ActorAnswers {
    /// Its id: the short name given, or one made from the name (at most 32 characters, cut at
    /// a word).
    pub fn id(&self) -> String {
        if let Some(s) = &self.short_name {
            return s.trim().to_string();
        }
        let full = paths::sanitize_segment(&fold_latin(&self.name));
        if full.len() <= 32 {
            return full;
        }
        let cut = full[..32].rfind('-').unwrap_or(32);
        full[..cut].to_string()
    }

    fn model(&self) -> String {
        self.model.clone().unwrap_or_else(|| SIMULATOR.to_string())
    }
}

impl MetricAnswers {
    /// Its name as results carry it: lowercase letters, digits and `_`.
    pub fn id(&self) -> String {
        paths::sanitize_segment(&fold_latin(&self.name)).replace('-', "_")
    }
}

/// Latin letters with diacritics as their base letters (`Négociation` → `Negociation`,
/// `Łódź` → `Lodz`, `ß` → `ss`), so that a title or a name in a European language keeps its
/// words in the folder and file names made from it ([`paths::sanitize_segment`] keeps ASCII
/// only, and would turn each such letter into a `-`). Other letters are left as they are.
fn fold_latin(text: &str) -> String {
    const FOLDS: [(&str, &str); 27] = [
        ("àáâãäåāăą", "a"),
        ("çćĉċč", "c"),
        ("ďđ", "d"),
        ("èéêëēĕėęě", "e"),
        ("ĝğġģ", "g"),
        ("ĥħ", "h"),
        ("ìíîïĩīĭįı", "i"),
        ("ĵ", "j"),
        ("ķ", "k"),
        ("ĺļľŀł", "l"),
        ("ñńņňŉ", "n"),
        ("òóôõöøōŏő", "o"),
        ("ŕŗř", "r"),
        ("śŝşšș", "s"),
        ("ţťŧț", "t"),
        ("ùúûüũūŭůűų", "u"),
        ("ŵ", "w"),
        ("ýÿŷ", "y"),
        ("źżž", "z"),
        ("æ", "ae"),
        ("œ", "oe"),
        ("ß", "ss"),
        ("þ", "th"),
        ("ð", "d"),
        ("ĳ", "ij"),
        ("ŋ", "ng"),
        ("ſ", "s"),
    ];
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match FOLDS.iter().find(|(from, _)| from.contains(c)) {
            Some((_, to)) => out.push_str(to),
            None => out.push(c),
        }
    }
    out
}

/// One thing wrong with the answers: the answer (`actors[2].name`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Which answer, as a path into the answers.
    pub field: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

fn model_problem(id: &str) -> Option<String> {
    if id.trim().is_empty() {
        Some("is empty; expected a model id such as builtin/simulator".into())
    } else if id.chars().any(char::is_whitespace) {
        Some(format!(
            "`{id}` has a space in it; expected a model id such as openai/gpt-5-mini"
        ))
    } else {
        None
    }
}

/// Everything wrong with the answers, each naming its answer; empty when they make a project.
pub fn check(a: &Answers) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut bad = |field: String, message: String| out.push(Problem { field, message });
    if a.title.trim().is_empty() {
        bad(
            "title".into(),
            "is empty; expected the scenario's name".into(),
        );
    } else if a.slug() == "unnamed" {
        bad(
            "title".into(),
            "has no letter or digit to name a folder after".into(),
        );
    }
    if a.actors.is_empty() {
        bad(
            "actors".into(),
            "is empty; expected at least one actor (most scenarios have two or more)".into(),
        );
    }
    let mut ids: Vec<String> = Vec::new();
    for (i, actor) in a.actors.iter().enumerate() {
        let at = |k: &str| format!("actors[{i}].{k}");
        if actor.name.trim().is_empty() {
            bad(at("name"), "is empty; expected the actor's name".into());
        }
        if actor.role.trim().is_empty() {
            bad(
                at("role"),
                "is empty; expected what the actor is in the scenario".into(),
            );
        }
        let id = actor.id();
        if let Some(s) = &actor.short_name {
            let ok = !s.is_empty()
                && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
            if !ok {
                bad(
                    at("short_name"),
                    format!("`{s}` is not a short id; expected lowercase letters, digits, `_` and `-` (it names a file)"),
                );
            }
        }
        if ids.contains(&id) {
            bad(
                at("short_name"),
                format!("`{id}` is another actor's too; give each actor its own short_name"),
            );
        }
        ids.push(id);
        if actor.goals.iter().any(|g| g.trim().is_empty()) {
            bad(at("goals"), "has an empty goal".into());
        }
        if let Some(m) = actor.model.as_deref().and_then(model_problem) {
            bad(at("model"), m);
        }
    }
    if a.turns == 0 || a.turns > MAX_TURNS {
        bad(
            "turns".into(),
            format!("is {}; expected 1 to {MAX_TURNS}", a.turns),
        );
    }
    if a.runs == 0 || a.runs > MAX_RUNS {
        bad(
            "runs".into(),
            format!("is {}; expected 1 to {MAX_RUNS}", a.runs),
        );
    }
    if let Some(b) = a.budget {
        if !(b > 0.0 && b.is_finite()) {
            bad(
                "budget".into(),
                format!("is {b}; expected a number of USD above 0 (or none for no limit)"),
            );
        }
    }
    if let Some(m) = a.world_model.as_deref().and_then(model_problem) {
        bad("world_model".into(), m);
    }
    if a.metrics.is_empty() {
        bad(
            "metrics".into(),
            "is empty; expected at least one thing to measure (a metric is what the analysis compares across runs)".into(),
        );
    }
    let mut names: Vec<String> = Vec::new();
    for (i, m) in a.metrics.iter().enumerate() {
        let at = |k: &str| format!("metrics[{i}].{k}");
        let id = m.id();
        if id == "unnamed" || !id.starts_with(|c: char| c.is_ascii_lowercase()) {
            bad(
                at("name"),
                format!("`{}` does not make a metric name; expected words starting with a letter (deal_reached)", m.name),
            );
        } else if names.contains(&id) {
            bad(at("name"), format!("`{id}` is another metric's too"));
        }
        names.push(id);
        if m.question.trim().is_empty() {
            bad(
                at("question"),
                "is empty; expected what to ask of each turn's world state".into(),
            );
        }
        match m.kind {
            MetricKind::Continuous => {
                if let Some([lo, hi]) = m.range {
                    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                        bad(
                            at("range"),
                            format!("is [{lo}, {hi}]; expected [min, max] with min below max"),
                        );
                    }
                }
            }
            MetricKind::Categorical => {
                if m.categories.len() < 2 || m.categories.iter().any(|c| c.trim().is_empty()) {
                    bad(
                        at("categories"),
                        "expected at least two categories, none empty".into(),
                    );
                }
            }
            MetricKind::Boolean => {}
        }
    }
    out
}

/// The project the answers describe, or every problem with them (one a line).
pub fn generate(a: &Answers) -> Result<Project, String> {
    let problems = check(a);
    if !problems.is_empty() {
        let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        return Err(format!(
            "the answers do not make a scenario ({} {}):\n{}",
            problems.len(),
            if problems.len() == 1 {
                "problem"
            } else {
                "problems"
            },
            lines.join("\n")
        ));
    }
    let slug = a.slug();
    let scenario_dir = format!("scenarios/{slug}");
    let batch_config = format!("experiments/{slug}/batch-config.yaml");
    let mut files = vec![ProjectFile {
        path: format!("{scenario_dir}/scenario.yaml"),
        text: scenario_yaml(a),
    }];
    for actor in &a.actors {
        files.push(ProjectFile {
            path: format!("{scenario_dir}/actors/{}.yaml", actor.id()),
            text: actor_yaml(actor),
        });
    }
    files.push(ProjectFile {
        path: format!("{scenario_dir}/metrics.yaml"),
        text: metrics_yaml(a),
    });
    files.push(ProjectFile {
        path: batch_config.clone(),
        text: batch_yaml(a, &slug),
    });
    Ok(Project {
        scenario_dir,
        batch_config,
        files,
    })
}

// ---------------------------------------------------------------------------------------------
// YAML text. Every value a person typed goes through `value` (one line) or `field` (a key and
// any text), which choose a form the loader reads back to exactly that text.

/// A one-line scalar: always double-quoted (JSON's escapes are YAML's).
fn value(text: &str) -> String {
    serde_json::to_string(text.trim()).unwrap_or_else(|_| "\"\"".into())
}

/// Whether `text` can go in a block scalar as it is: no control characters but newlines, and
/// no line that starts with a space (which would read as indentation).
fn block_safe(text: &str) -> bool {
    !text.chars().any(|c| c.is_control() && c != '\n')
        && !text.lines().any(|l| l.starts_with(' '))
        && !text.is_empty()
}

/// `key: text` at `indent`: a long paragraph folded (`>`) at 78 columns, several lines kept
/// (`|`), anything else quoted on one line.
fn field(key: &str, text: &str, indent: usize) -> String {
    let text = text.trim();
    let pad = " ".repeat(indent + 2);
    if text.contains('\n') && block_safe(text) {
        let body: Vec<String> = text
            .lines()
            .map(|l| {
                if l.is_empty() {
                    String::new()
                } else {
                    format!("{pad}{l}")
                }
            })
            .collect();
        return format!("{key}: |\n{}\n", body.join("\n"));
    }
    let foldable = text.len() > 70 && block_safe(text) && !text.contains("  ");
    if foldable {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split(' ') {
            if !line.is_empty() && pad.len() + line.len() + 1 + word.len() > 78 {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
        let body: Vec<String> = lines.iter().map(|l| format!("{pad}{l}")).collect();
        return format!("{key}: >\n{}\n", body.join("\n"));
    }
    format!("{key}: {}\n", value(text))
}

/// A number as YAML writes it (`10`, `2.5`).
fn number(x: f64) -> String {
    format!("{x}")
}

fn scenario_yaml(a: &Answers) -> String {
    let unit = a
        .turn_duration
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let mut y = format!(
        "# {}: {}, {}{}.\n# Written by `scenario-lab init`: edit anything, then check it with\n# `scenario-lab validate`.\n",
        one_line(&a.title),
        plural(a.actors.len(), "actor"),
        plural(a.turns as usize, "turn"),
        unit.map(|u| format!(" of {}", one_line(u))).unwrap_or_default(),
    );
    y += &field("name", &a.title, 0);
    if !a.description.trim().is_empty() {
        y += &field("description", &a.description, 0);
    }
    let about = if a.description.trim().is_empty() {
        String::new()
    } else {
        format!("{}\n\n", wrap(a.description.trim(), 74))
    };
    let system = format!(
        "This is a simulation of: {}.\n\n{about}Stay in character. Each turn, make one concrete move: a proposal,\na counter-proposal, a concession, a condition, an action or a refusal,\nand say why. Be specific about numbers, dates and conditions rather\nthan speaking in generalities.",
        a.title.trim()
    );
    y += "\n# What every actor is told about the simulation, before its own persona.\n";
    y += &field("system_prompt", &system, 0);
    let situation = if a.situation.trim().is_empty() {
        a.description.trim()
    } else {
        a.situation.trim()
    };
    let start = "# Before turn 1";
    let state = if situation.is_empty() {
        start.to_string()
    } else {
        format!("{start}\n\n{}", wrap(situation, 74))
    };
    y += "\n# Where things stand before turn 1 (Markdown). Each turn the world model\n# writes the next state from the actors' moves.\n";
    y += &field("initial_world_state", &state, 0);
    y += "\n# How many turns a run plays, and how long a turn is in the story.\n";
    y += &format!("turns: {}\n", a.turns);
    if let Some(u) = unit {
        y += &field("turn_duration", u, 0);
    }
    y += "\n# The model that writes each turn's world state; the metrics are read with it.\n";
    y += &field("world_state_model", &a.world_model(), 0);
    y += "# How many past turns the actors see in full (older ones are summarised).\ncontext_window_size: 2\n";
    if a.communication {
        y += "\n# Between turns, actors may talk in private (two at a time) and form coalitions.\nenable_bilateral_communication: true\nenable_coalition_formation: true\nmax_communications_per_turn: 2\n";
    }
    y += "\n# The actors: the file names in actors/ (without .yaml).\nactors:\n";
    for actor in &a.actors {
        y += &format!("  - {}\n", actor.id());
    }
    y
}

fn actor_yaml(actor: &ActorAnswers) -> String {
    let mut y = format!("# {}: {}.\n", one_line(&actor.name), one_line(&actor.role));
    y += &field("name", &actor.name, 0);
    y += &format!("short_name: {}\n", value(&actor.id()));
    y += "# The model that plays this actor (`scenario-lab scenario --model-override` and a\n# batch's actor_model variations change it without editing this file).\n";
    y += &field("llm_model", &actor.model(), 0);
    y += "\n# No system_prompt here on purpose: the engine builds this actor's persona\n# from role, description, goals, constraints, expertise and decision_style.\n# Add constraints and decision_style to make the actor sharper.\n";
    y += &field("role", &actor.role, 0);
    if !actor.goals.is_empty() {
        y += "\ngoals:\n";
        for g in &actor.goals {
            y += &format!("  - {}\n", value(g));
        }
    }
    y
}

fn metrics_yaml(a: &Answers) -> String {
    let mut y = format!(
        "# Metrics for \"{}\" (list format). Each one is read from every turn's\n# world state by asking the world model its question (extraction type llm);\n# the built-in simulator answers with a number in the metric's range.\nmetrics:\n",
        one_line(&a.title).replace('"', "'")
    );
    for (i, m) in a.metrics.iter().enumerate() {
        if i > 0 {
            y.push('\n');
        }
        y += &format!("  - name: {}\n", m.id());
        y += &format!("    {}", field("description", &m.question, 4));
        match m.kind {
            MetricKind::Continuous => {
                let [lo, hi] = m.range.unwrap_or([0.0, 10.0]);
                y += &format!(
                    "    type: continuous\n    range: [{}, {}]\n",
                    number(lo),
                    number(hi)
                );
            }
            MetricKind::Boolean => y += "    type: boolean\n",
            MetricKind::Categorical => {
                let cats: Vec<String> = m.categories.iter().map(|c| value(c)).collect();
                y += &format!(
                    "    type: categorical\n    categories: [{}]\n",
                    cats.join(", ")
                );
            }
        }
        y += "    extraction:\n      type: llm\n";
        y += &format!("      {}", field("prompt", &m.question, 6));
    }
    y
}

fn batch_yaml(a: &Answers, slug: &str) -> String {
    let mut models: Vec<String> = a.actors.iter().map(ActorAnswers::model).collect();
    models.push(a.world_model());
    models.sort();
    models.dedup();
    let hosted: Vec<&String> = models
        .iter()
        .filter(|m| !crate::pricing::is_free_by_id(m))
        .collect();
    let mut y = format!(
        "# {}: {} run{} on {}.\n",
        one_line(&a.title),
        a.runs,
        if a.runs == 1 { "" } else { "s" },
        models.join(", ")
    );
    y += if hosted.is_empty() {
        "# Every model here is free: no API key is needed and nothing is spent.\n"
    } else {
        "# Hosted models need a key (OPENROUTER_API_KEY) and cost money: preview the\n# cost first with `scenario-lab run <this file> --dry-run`.\n"
    };
    y += "#\n# All paths below are relative to the directory you run the command from,\n# which should be this project's folder (the one holding scenarios/ and\n# experiments/).\n";
    y += "\n# Short identifier for this batch; used in summaries and progress output.\n";
    y += &format!("experiment_name: {}\n", value(slug));
    if !a.description.trim().is_empty() {
        y += "\n# Free text shown when you preview the batch (for example with a dry run).\n";
        y += &field("description", &a.description, 0);
    }
    y += "\n# The scenario folder every run starts from.\n";
    y += &format!("base_scenario: {}\n", value(&format!("scenarios/{slug}")));
    y += &format!(
        "\n# How many times each variation is run. With no variations there is exactly\n# one variation (the scenario as written), so this batch makes {} run{}.\nruns_per_variation: {}\n",
        a.runs,
        if a.runs == 1 { "" } else { "s" },
        a.runs
    );
    y += &format!(
        "\n# How many runs may be in progress at once.\nmax_parallel: {}\n",
        a.runs.min(4)
    );
    // Two minutes a turn covers a slow hosted model with every call retried once.
    y += &format!(
        "\n# Seconds a single run may take before it is stopped (halted: timeout; --resume continues it).\ntimeout_per_run: {}\n",
        (a.turns * 120).max(300)
    );
    y += "\n";
    match a.budget {
        Some(b) => {
            y += &format!("# The most the whole batch may spend, in USD: a call that could pass it\n# is not sent, and the batch stops (--resume with a higher limit goes on).\nbudget_limit: {}\n", number(b));
        }
        None if hosted.is_empty() => {
            y += "# No budget_limit / cost_per_run_limit: the models here are free.\n";
        }
        None => {
            y += "# No budget_limit: nothing stops the spending. Add one, for example\n# `budget_limit: 5` (USD), to make the batch stop before it passes it.\n";
        }
    }
    let example_actor = a.actors.first().map(ActorAnswers::id).unwrap_or_default();
    y += &format!(
        "\n# An empty list means \"run the base scenario unchanged\". To compare models\n# for an actor, for example:\n#   variations:\n#     - type: actor_model\n#       actor: {example_actor}\n#       values: [\"openai/gpt-5-mini\", \"anthropic/claude-haiku-4.5\"]\nvariations: []\n"
    );
    y += &format!(
        "\n# Where the batch writes its results. Here it is the folder holding this\n# config, so results sit next to the file that produced them.\noutput_dir: {}\n",
        value(&format!("experiments/{slug}"))
    );
    y += "\n# Keep each run's full output folder (world states, decisions, costs).\nsave_individual_runs: true\n";
    y += "\n# Combine the metrics of all runs into summary tables when the batch ends.\naggregate_metrics: true\n";
    y
}

/// Markdown with every line longer than `width` broken at spaces (a soft break: the text reads
/// the same), so the files stay readable; lines without a space to break at are kept.
fn wrap(text: &str, width: usize) -> String {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.len() <= width || line.starts_with(' ') {
            out.push(line.to_string());
            continue;
        }
        let mut current = String::new();
        for word in line.split(' ') {
            if !current.is_empty() && current.len() + 1 + word.len() > width {
                out.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
        out.push(current);
    }
    out.join("\n")
}

/// Text for a comment: one line, without control characters.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
