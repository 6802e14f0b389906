//! The dry-run text: a plan as a person reads it in a terminal.

use std::fmt::Write;

use super::{Plan, Range};
use crate::pricing::PriceSource;

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
            "  var-{:03}  {:<48} {}..{}  {}",
            v.variation.variation_id,
            v.variation.description,
            v.run_ids.0,
            &v.run_ids.1[8..],
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
    let shown: Vec<String> = super::estimate::ROLES
        .iter()
        .map(|role| (role.as_str(), c.get(*role)))
        .filter(|(_, r)| r.expected > 0.0)
        .map(|(n, r)| format!("{} {n}", calls(r.expected)))
        .collect();
    let _ = writeln!(
        o,
        "  {} = {} calls ({} to {})",
        shown.join(" + "),
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
        let _ = writeln!(o, "  {:<44} {price}", m.model);
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "{}", st.bold("Estimate"));
    match (&plan.cost_per_run, &plan.cost_total) {
        (Some(r), Some(t)) => {
            let _ = writeln!(o, "  Cost per run   {}", range(r));
            let _ = writeln!(o, "  Cost of batch  {}", range(t));
        }
        _ => {
            let _ = writeln!(
                o,
                "  Cost           unknown: no price for {}",
                plan.unknown_price_models.join(", ")
            );
        }
    }
    let _ = writeln!(
        o,
        "  Time           {} a run; {} for the batch at max_parallel {}",
        duration(plan.seconds_per_run),
        duration(plan.seconds_total),
        plan.max_parallel
    );
    let _ = writeln!(o);
    let verdict_color = match plan.budget.status.as_str() {
        "fits" => "32",
        "tight" | "no_budget" => "33",
        _ => "31",
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
    let _ = writeln!(
        o,
        "{}",
        st.dim("This was a dry run: nothing was written and no request was sent. To run it:")
    );
    let _ = writeln!(o, "  {}", plan.command);
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_time_read_well() {
        assert_eq!(usd(0.0), "$0");
        assert_eq!(usd(0.00123), "$0.0012");
        assert_eq!(usd(12.345), "$12.35");
        assert_eq!(usd(1234.5), "$1234");
        assert_eq!(duration(0.2), "under a second");
        assert_eq!(duration(45.0), "about 45 s");
        assert_eq!(duration(600.0), "about 10 min");
        assert_eq!(duration(7200.0), "about 2.0 h");
    }
}
