//! The dry-run text: a plan as a person reads it in a terminal, and the estimate of the rest of
//! a started batch ([`Calibration`]) after it or on its own (after a `--pilot`).

use std::fmt::Write;

use super::calibrate::{Basis, Calibration, TokenSource};
use super::{Plan, Range};
use crate::pricing::PriceSource;
use crate::schema::BudgetStatus;

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
}

/// USD with enough digits to be meaningful at its size.
pub fn usd(x: f64) -> String {
    if x == 0.0 {
        "$0".to_string()
    } else if x < 0.01 {
        format!("${x:.4}")
    } else if x < 100.0 {
        format!("${x:.2}")
    } else {
        format!("${x:.0}")
    }
}

/// A budget as the config gives it, in cents when that is exact: rounded to cents, a budget of
/// $0.004 would read as $0.00.
pub fn usd_as_given(x: f64) -> String {
    let cents = format!("{x:.2}");
    if cents.parse::<f64>() == Ok(x) {
        format!("${cents}")
    } else {
        format!("${x}")
    }
}

fn range(r: &Range) -> String {
    format!(
        "{} low / {} expected / {} high",
        usd(r.low),
        usd(r.expected),
        usd(r.high)
    )
}

/// An estimated duration in words (`about 45 s`, `about 12 min`, `under a second`).
pub fn duration(seconds: f64) -> String {
    if seconds < 1.0 {
        "under a second".to_string()
    } else if seconds < 90.0 {
        format!("about {seconds:.0} s")
    } else if seconds < 5400.0 {
        format!("about {:.0} min", seconds / 60.0)
    } else if seconds < 172_800.0 {
        format!("about {:.1} h", seconds / 3600.0)
    } else {
        format!("about {:.1} days", seconds / 86_400.0)
    }
}

fn calls(n: f64) -> String {
    if (n - n.round()).abs() < 0.05 {
        format!("{}", n.round())
    } else {
        format!("{n:.1}")
    }
}

/// Renders a plan; `color` adds ANSI styling.
pub fn render(plan: &Plan, color: bool) -> String {
    render_with(plan, None, color)
}

/// Renders a plan and, when the batch has started, the estimate of its rest (`calibration`,
/// from [`super::calibrate::calibrate`]); the closing command then continues the batch.
pub fn render_with(plan: &Plan, calibration: Option<&Calibration>, color: bool) -> String {
    let st = Style { color };
    let mut o = String::new();
    let _ = writeln!(o, "{} {}", st.bold("Plan:"), st.bold(&plan.experiment_name));
    if let Some(d) = &plan.description {
        for line in d.trim().lines() {
            let _ = writeln!(o, "  {}", st.dim(line.trim()));
        }
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "  Scenario     {} ({}), {} turns, {} actors",
        plan.scenario_name,
        plan.scenario_dir,
        plan.turns,
        plan.actors.len()
    );
    let _ = writeln!(
        o,
        "  Actors       {}",
        plan.actors
            .iter()
            .map(|(a, m)| format!("{a} ({m})"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(o, "  Output       {}", plan.output_dir);
    let _ = writeln!(o, "  Runs         {} variation{} x {} run{} = {} runs, at most {} at once, {} s allowed per run",
        plan.variation_count, if plan.variation_count == 1 { "" } else { "s" },
        plan.runs_per_variation, if plan.runs_per_variation == 1 { "" } else { "s" },
        plan.total_runs, plan.max_parallel, plan.timeout_per_run);
    for line in design_lines(plan) {
        let _ = writeln!(o, "  {line}");
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "{}", st.bold("Variations"));
    if plan.dimensions.is_empty() {
        let _ = writeln!(o, "  none: every run uses the base scenario as it is");
    }
    for d in &plan.dimensions {
        let what = match &d.kind {
            crate::config::DimensionKind::ActorModel { actor } => format!("model of {actor}"),
            crate::config::DimensionKind::ScenarioParameter { parameter } => {
                format!("scenario `{parameter}`")
            }
            crate::config::DimensionKind::ActorParameter { actor, parameter } => {
                format!("`{parameter}` of {actor}")
            }
            crate::config::DimensionKind::Intervention { at_turn, .. } => {
                format!("intervention at turn {at_turn}")
            }
        };
        let values: Vec<String> = d
            .values
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .map(|v| v.lines().next().unwrap_or("").chars().take(40).collect())
            .collect();
        let _ = writeln!(o, "  {what}: {}", values.join(" | "));
    }
    let _ = writeln!(o);
    for v in &plan.variations {
        let cost = v.cost_per_run.map_or("price unknown".to_string(), |c| {
            format!("{} a run", usd(c.expected))
        });
        let _ = writeln!(
            o,
            "  var-{:03}  {:<48} {}..run-{:03}  {}",
            v.variation.variation_id,
            v.variation.description,
            v.run_ids.0,
            v.run_ids.1.run,
            st.dim(&cost)
        );
    }
    if !plan.variations_listed_all {
        let _ = writeln!(
            o,
            "  ... and {} more variations",
            plan.variation_count - plan.variations.len() as u64
        );
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "{}", st.bold("Calls per run (expected)"));
    let c = &plan.calls_per_run;
    let _ = writeln!(
        o,
        "  {} = {} calls ({} to {})",
        role_calls(
            super::estimate::ROLES
                .iter()
                .map(|role| (role.as_str(), c.get(*role).expected))
        ),
        calls(c.total().expected),
        calls(c.total().low),
        calls(c.total().high)
    );
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "{}",
        st.bold("Models and prices (USD per million prompt / completion tokens)")
    );
    for m in &plan.models {
        let price = match &m.price {
            None => st.paint("33", "price unknown"),
            Some(p) if p.source == PriceSource::Free => "free".to_string(),
            Some(p) => {
                let source = match p.source {
                    PriceSource::Config => "from the config's prices",
                    PriceSource::Openrouter => "from OpenRouter's model list",
                    _ => "built-in table",
                };
                format!(
                    "${} / ${}  {}",
                    p.prompt,
                    p.completion,
                    st.dim(&format!("({source})"))
                )
            }
        };
        let batch = match (plan.execution, m.batch_api) {
            (crate::config::Execution::Batch, false) => {
                format!("  {}", st.dim("(no batch API: realtime)"))
            }
            _ => String::new(),
        };
        let _ = writeln!(o, "  {:<44} {price}{batch}", m.model);
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "{}", st.bold("Estimate"));
    match (&plan.cost_per_run, &plan.cost_total) {
        (Some(r), Some(t)) => {
            let _ = writeln!(o, "  Cost per run   {}", range(r));
            let _ = writeln!(o, "  Cost of batch  {} realtime", range(t));
            if let Some(b) = &plan.cost_total_batch {
                let chosen = match plan.execution {
                    crate::config::Execution::Batch => "(execution: batch, as configured)",
                    crate::config::Execution::Realtime => "(with execution: batch)",
                };
                let _ = writeln!(
                    o,
                    "                 {} in providers' batch jobs {}",
                    range(b),
                    st.dim(chosen)
                );
            }
        }
        _ => {
            let _ = writeln!(
                o,
                "  Cost           unknown: no price for {}",
                plan.unknown_price_models.join(", ")
            );
        }
    }
    if let Some(sh) = &plan.sharing {
        o.push_str(&sharing(sh, &st));
    }
    let _ = writeln!(
        o,
        "  Time           {} a run; {} for the batch at max_parallel {}",
        duration(plan.seconds_per_run),
        duration(plan.seconds_total),
        plan.max_parallel
    );
    let started = calibration.filter(|c| c.runs_recorded > 0);
    let _ = writeln!(
        o,
        "  Basis          {}",
        match started {
            Some(_) =>
                "built-in token model (the rest of the batch is estimated below)".to_string(),
            None => calibration.map_or_else(
                || "built-in token model".to_string(),
                |c| c.basis_text.clone(),
            ),
        }
    );
    let _ = writeln!(o);
    if let Some(c) = started {
        o.push_str(&section(c, &st));
        let _ = writeln!(o);
    }
    let verdict_color = match plan.budget.status {
        BudgetStatus::Fits => "32",
        BudgetStatus::Tight | BudgetStatus::NoBudget => "33",
        BudgetStatus::Unknown | BudgetStatus::Short => "31",
    };
    let limits = match (plan.budget_limit, plan.cost_per_run_limit) {
        (Some(b), Some(r)) => format!("${b:.2} for the batch, ${r:.2} per run"),
        (Some(b), None) => format!("${b:.2} for the batch"),
        (None, Some(r)) => format!("${r:.2} per run"),
        (None, None) => "no limits set".to_string(),
    };
    let _ = writeln!(o, "{} {limits}", st.bold("Budget"));
    let _ = writeln!(o, "  {}", st.paint(verdict_color, &plan.budget.message));
    for n in &plan.notes {
        let _ = writeln!(o, "  note: {n}");
    }
    let _ = writeln!(o);
    o.push_str(&confirmation(plan, &st));
    let _ = writeln!(o);
    match started {
        Some(c) if c.remaining_runs == 0 => {
            let _ = writeln!(
                o,
                "{}",
                st.dim("This was a dry run: nothing was written and no request was sent. Every run is completed: nothing is left to run.")
            );
        }
        Some(c) => {
            let _ = writeln!(
                o,
                "{}",
                st.dim("This was a dry run: nothing was written and no request was sent. To run the rest:")
            );
            let _ = writeln!(o, "  {}", c.command);
        }
        None => {
            let _ = writeln!(
                o,
                "{}",
                st.dim(
                    "This was a dry run: nothing was written and no request was sent. To run it:"
                )
            );
            let _ = writeln!(o, "  {}", plan.command);
        }
    }
    o
}

/// The sizes the confirmation rule looks at, against its thresholds, and what (if anything)
/// needs confirming before the batch starts.
fn confirmation(plan: &Plan, st: &Style) -> String {
    use super::confirm::{FAR_BEYOND, MAX_RUNS, MAX_TURNS};
    let mut o = String::new();
    let total = match plan.execution {
        crate::config::Execution::Batch => plan.cost_total_batch,
        crate::config::Execution::Realtime => plan.cost_total,
    };
    let cost = match (total, plan.budget_limit) {
        (Some(c), Some(b)) => format!(
            "expected {} against a budget of {} ({:.1}x; at most {FAR_BEYOND}x)",
            usd(c.expected),
            usd(b),
            c.expected / b.max(f64::MIN_POSITIVE)
        ),
        (Some(c), None) => format!("expected {}, no budget_limit", usd(c.expected)),
        (None, _) => "cost unknown".to_string(),
    };
    let _ = writeln!(
        o,
        "{}  {} runs (at most {MAX_RUNS}), {} turns per run at most (at most {MAX_TURNS}), {cost}",
        st.bold("Sizes"),
        plan.total_runs,
        plan.longest_run_turns.max(plan.turns),
    );
    if plan.confirm.is_empty() {
        let _ = writeln!(o, "  none needs confirming");
    } else {
        let _ = writeln!(
            o,
            "  {}",
            st.paint(
                "33",
                "needs confirming before it starts (on a terminal the run asks; elsewhere it is refused without --yes):"
            )
        );
        for c in &plan.confirm {
            let at = c.line.map_or(c.file.clone(), |l| format!("{}:{l}", c.file));
            let _ = writeln!(o, "  - {} ({at})", c.message);
        }
    }
    o
}

/// The design in words: pairing, and the stopping rule when there is one.
fn design_lines(plan: &Plan) -> Vec<String> {
    use crate::config::{Pairing, Stopping};
    let mut out = vec![match (plan.pairing, plan.variation_count > 1) {
        (_, false) => "Design       one variation".to_string(),
        (Pairing::Paired, true) => "Design       paired: run k of every variation shares its seed (the same events and draws), so variations are compared within pairs".to_string(),
        (Pairing::None, true) => "Design       independent runs (pairing: none): each run has its own seed".to_string(),
    }];
    let rounds = plan.runs_per_variation;
    match &plan.stopping {
        None => {}
        Some(Stopping::Precision {
            metric,
            target_half_width,
        }) => out.push(format!(
            "Stopping     each variation stops once the 95% interval of its mean {metric} is ±{} (from {} runs); runs_per_variation ({rounds}) is the most it runs",
            crate::analysis::compute::num(*target_half_width),
            crate::config::MIN_RUNS_FOR_PRECISION
        )),
        Some(Stopping::GroupSequential {
            compare: (a, b),
            metric,
            alpha,
            power,
            looks,
        }) => {
            let at: Vec<String> = crate::batch::stopping::look_rounds(*looks, rounds)
                .iter()
                .map(u32::to_string)
                .collect();
            out.push(format!(
                "Stopping     group-sequential test of var-{b:03} against var-{a:03} on {metric}: {looks} looks (after runs {}), O'Brien–Fleming boundaries by Lan–DeMets alpha spending, alpha {alpha}; both stop once the difference is decided or futile, at most {rounds} runs each",
                at.join(", ")
            ));
            if let Some(d) = plan.planned_effect {
                let name = match plan.pairing {
                    Pairing::Paired => "d_z (the mean paired difference over its sd)",
                    Pairing::None => "Cohen's d",
                };
                out.push(format!(
                    "             power {power} at a planned effect of {name} = {}",
                    crate::analysis::compute::num(d)
                ));
            }
        }
    }
    out
}

/// Renders the estimate of the rest of a batch on its own (what a `--pilot` prints), ending
/// with the command that runs the rest.
pub fn render_calibration(c: &Calibration, color: bool) -> String {
    let st = Style { color };
    let mut o = section(c, &st);
    if c.remaining_runs > 0 {
        let _ = writeln!(o);
        let _ = writeln!(o, "{}", st.dim("To run the rest:"));
        let _ = writeln!(o, "  {}", c.command);
    }
    o
}

/// The "Shared turns" lines of a plan with an intervention.
fn sharing(sh: &super::Sharing, st: &Style) -> String {
    let shared = sh.at_turn - 1;
    let turns = if shared == 1 {
        "turn 1 is".to_string()
    } else {
        format!("turns 1-{shared} are")
    };
    let others = sh.arms.saturating_sub(1);
    let saved = sh
        .cost_saved
        .map_or("price unknown".to_string(), |c| range(&c));
    format!(
        "  Shared turns   {turns} run once per run number, in the first of {} arms, and copied into the other {others}: {} runs branch\n                 saves {} calls, {} {}\n",
        sh.arms,
        sh.branched_runs,
        calls(sh.calls_saved),
        saved,
        st.dim("(the costs above already count it)")
    )
}

/// Calls per run by role, as `12 actor + 6 world`.
fn role_calls(parts: impl Iterator<Item = (&'static str, f64)>) -> String {
    let shown: Vec<String> = parts
        .filter(|(_, n)| *n > 0.0)
        .map(|(r, n)| format!("{} {r}", calls(n)))
        .collect();
    if shown.is_empty() {
        "none".to_string()
    } else {
        shown.join(" + ")
    }
}

/// Tokens as a whole number with thousands separated (`12,345`).
fn whole(x: f64) -> String {
    let n = x.round() as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The "rest of the batch" section.
fn section(c: &Calibration, st: &Style) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} {}",
        st.bold("The rest of the batch"),
        st.dim(&format!("({})", c.basis_text))
    );
    let stopped = if c.runs_partial > 0 {
        format!(", {} stopped part-way", c.runs_partial)
    } else {
        String::new()
    };
    let _ = writeln!(
        o,
        "  Done           {} of {} runs completed{stopped}; {} spent",
        c.runs_completed,
        c.total_runs,
        usd(c.spent)
    );
    if c.remaining_runs == 0 {
        let _ = writeln!(o, "  Remaining      none: every run is completed");
        return o;
    }
    let partly = if c.runs_partial > 0 {
        format!(
            " ({} of them partly done: only their missing turns are counted)",
            c.runs_partial
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        o,
        "  Remaining      {} run{}{partly}",
        c.remaining_runs,
        if c.remaining_runs == 1 { "" } else { "s" }
    );
    match &c.remaining_cost {
        Some(r) => {
            let _ = writeln!(o, "  Cost           {}", st.bold(&range(r)));
        }
        None => {
            let _ = writeln!(
                o,
                "  Cost           unknown: no price for {}",
                c.unknown_price_models.join(", ")
            );
        }
    }
    if c.basis == Basis::Calibrated {
        if let Some(b) = &c.built_in_remaining_cost {
            let _ = writeln!(
                o,
                "  Built-in       {}",
                st.dim(&format!(
                    "{} (the token model alone, for comparison)",
                    range(b)
                ))
            );
        }
        let _ = writeln!(
            o,
            "  Calls per run  {}  {}",
            role_calls(c.roles.iter().map(|r| (r.role.as_str(), r.calls_per_run))),
            st.dim(&format!(
                "(built-in: {})",
                role_calls(
                    c.roles
                        .iter()
                        .map(|r| (r.role.as_str(), r.built_in_calls_per_run))
                )
            ))
        );
        let _ = writeln!(o, "  Tokens per call, recorded (mean prompt / completion):");
        for t in &c.tokens {
            let cost = t.cost_per_call.map_or("price unknown".to_string(), |x| {
                format!("{} a call", usd(x))
            });
            let _ = writeln!(
                o,
                "    {:<14} {:<36} {:>6} / {:<6} {}",
                t.role.as_str(),
                t.model,
                whole(t.prompt_tokens),
                whole(t.completion_tokens),
                st.dim(&format!("{} calls, {cost}", t.calls))
            );
        }
        for r in c.roles.iter().filter(|r| r.tokens == TokenSource::Role) {
            let _ = writeln!(
                o,
                "    {:<14} {}",
                r.role.as_str(),
                st.dim("(some models never recorded in this role: the role's mean is used)")
            );
        }
    }
    if let Some(m) = &c.budget_message {
        let _ = writeln!(o, "  Budget         {m}");
    }
    for n in &c.notes {
        let _ = writeln!(o, "  note: {n}");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_read_well() {
        assert_eq!(whole(0.4), "0");
        assert_eq!(whole(999.0), "999");
        assert_eq!(whole(1234.4), "1,234");
        assert_eq!(whole(1_234_567.0), "1,234,567");
    }

    #[test]
    fn money_and_time_read_well() {
        assert_eq!(usd(0.0), "$0");
        assert_eq!(usd(0.00123), "$0.0012");
        assert_eq!(usd(12.345), "$12.35");
        assert_eq!(usd(1234.5), "$1234");
        assert_eq!(usd_as_given(2.0), "$2.00");
        assert_eq!(usd_as_given(0.6), "$0.60");
        assert_eq!(usd_as_given(0.004), "$0.004");
        assert_eq!(usd_as_given(0.0125), "$0.0125");
        assert_eq!(duration(0.2), "under a second");
        assert_eq!(duration(45.0), "about 45 s");
        assert_eq!(duration(600.0), "about 10 min");
        assert_eq!(duration(7200.0), "about 2.0 h");
    }
}
