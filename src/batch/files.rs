//! The batch files, rebuilt from what is known of each run: `batch-state.json` (to resume),
//! `batch-costs.json` (the money), `batch-summary.json` (what happened), with the original
//! tool's keys and more.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::engine_run_id;
use crate::config::BatchConfig;
use crate::engine::{ReplyCounts, RunStatus};
use crate::plan::variations::VariationSpace;
use crate::pricing::{nanos_to_usd, Nanos};

/// What the batch knows of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Its status.
    pub status: RunStatus,
    /// Why it halted or failed.
    pub halt_reason: Option<String>,
    /// Its error, when failed.
    pub error: Option<String>,
    /// What it spent.
    pub cost_nanos: Nanos,
    /// Turns completed.
    pub turns: u32,
    /// What its replies say about caps and time limits.
    #[serde(default)]
    pub replies: ReplyCounts,
}

/// Counts and money of a batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchTotals {
    /// Runs planned (all shards).
    pub total_runs: u64,
    /// Completed.
    pub runs_completed: u64,
    /// Failed.
    pub runs_failed: u64,
    /// Halted (budget, cost limit, timeout, interrupted).
    pub runs_halted: u64,
    /// Not started or not finished.
    pub runs_pending: u64,
    /// Spent, USD: the sum of the runs' costs.
    pub total_spent: f64,
    /// Spent, nano-dollars.
    pub total_spent_nanos: Nanos,
    /// Replies cut at their cap, over their cap, and possibly billed retries, of every run.
    pub replies: ReplyCounts,
}

/// The totals of what is known.
pub fn totals(known: &BTreeMap<u64, RunSummary>, total: u64, spent: Nanos) -> BatchTotals {
    let count = |st: RunStatus| known.values().filter(|s| s.status == st).count() as u64;
    let (completed, failed, halted) = (
        count(RunStatus::Completed),
        count(RunStatus::Failed),
        count(RunStatus::Halted),
    );
    let mut replies = ReplyCounts::default();
    for s in known.values() {
        replies.add(s.replies);
    }
    BatchTotals {
        replies,
        total_runs: total,
        runs_completed: completed,
        runs_failed: failed,
        runs_halted: halted,
        runs_pending: total.saturating_sub(completed + failed + halted),
        total_spent: nanos_to_usd(spent),
        total_spent_nanos: spent,
    }
}

/// `2026-11-26T23:43:44Z` from milliseconds since the epoch.
pub fn iso(ms: f64) -> String {
    let secs = (ms / 1000.0).floor() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The three batch files, by name.
#[allow(clippy::too_many_arguments)]
pub fn batch_files(
    config: &BatchConfig,
    fingerprint: &Value,
    seed: u64,
    start_ms: f64,
    now_ms: f64,
    known: &BTreeMap<u64, RunSummary>,
    total: u64,
    shard: Option<(u64, u64)>,
    spent: Nanos,
    budget: Option<f64>,
    done: bool,
    stop: Option<(String, String)>,
) -> Vec<(&'static str, Value)> {
    let runs = u64::from(config.runs_per_variation);
    let id = |i: &u64| engine_run_id(*i, runs);
    let of = |st: RunStatus| known.iter().filter(move |(_, s)| s.status == st);
    let completed: Vec<String> = of(RunStatus::Completed).map(|(i, _)| id(i)).collect();
    let failed: Vec<Value> = of(RunStatus::Failed)
        .map(|(i, s)| json!({"run_id": id(i), "error": s.error, "status": "failed"}))
        .collect();
    let halted: Vec<Value> = of(RunStatus::Halted)
        .map(|(i, s)| json!({"run_id": id(i), "halt_reason": s.halt_reason, "status": "halted"}))
        .collect();
    let t = totals(known, total, spent);
    let duration = ((now_ms - start_ms) / 1000.0).max(0.0);
    let mut per_var: BTreeMap<u64, (Nanos, u64, u64)> = BTreeMap::new();
    for (i, s) in known {
        let e = per_var.entry(i / runs.max(1) + 1).or_default();
        e.0 += s.cost_nanos;
        e.1 += 1;
        e.2 += u64::from(s.status == RunStatus::Completed);
    }
    let space = VariationSpace::new(&config.variations);
    let variation_statistics: serde_json::Map<String, Value> = per_var
        .iter()
        .map(|(v, (c, n, ok))| {
            (
                v.to_string(),
                json!({
                    "description": space.get(v - 1).description,
                    "total_cost": nanos_to_usd(*c), "num_runs": n, "successful_runs": ok,
                    "avg_cost_per_run": if *n > 0 { nanos_to_usd(*c) / *n as f64 } else { 0.0 },
                }),
            )
        })
        .collect();
    let summary = json!({
        "total_spent": t.total_spent,
        "total_spent_nanos": spent,
        "budget_limit": budget,
        "cost_per_run_limit": config.cost_per_run_limit,
        "remaining_budget": budget.map(|b| (b - t.total_spent).max(0.0)),
        "runs_completed": t.runs_completed,
        "runs_failed": t.runs_failed,
        "runs_halted": t.runs_halted,
        "runs_budget_exceeded": known.values().filter(|s| matches!(s.halt_reason.as_deref(), Some("budget" | "cost_limit"))).count(),
        "avg_cost_per_run": if t.runs_completed > 0 { t.total_spent / t.runs_completed as f64 } else { 0.0 },
        "possibly_billed_retries": t.replies.possibly_billed_retries,
        "duration_seconds": duration,
        "start_time": iso(start_ms),
        "end_time": if done { Value::String(iso(now_ms)) } else { Value::Null },
    });
    let run_costs: Vec<Value> = known
        .iter()
        .map(|(i, s)| json!({"run_id": id(i), "variation_id": i / runs.max(1) + 1, "cost": nanos_to_usd(s.cost_nanos), "cost_nanos": s.cost_nanos, "success": s.status == RunStatus::Completed, "status": s.status, "halt_reason": s.halt_reason}))
        .collect();
    let resume = format!("npx scenario-lab run {} --resume", config.path);
    let state = json!({
        "experiment_name": config.experiment_name,
        "config_path": config.path,
        "output_dir": config.output_dir,
        "seed": seed,
        "start_ms": start_ms,
        "start_time": iso(start_ms),
        "end_time": if done { Value::String(iso(now_ms)) } else { Value::Null },
        "runs_per_variation": config.runs_per_variation,
        "total_variations": space.count(),
        "total_runs": total,
        "shard": shard.map(|(k, n)| format!("{k}/{n}")),
        "completed_runs": completed,
        "failed_runs": failed,
        "halted_runs": halted,
        "fingerprint": fingerprint,
    });
    let summary_file = json!({
        "experiment_name": config.experiment_name,
        "base_scenario": config.base_scenario,
        "total_variations": space.count(),
        "runs_per_variation": config.runs_per_variation,
        "total_runs_planned": total,
        "runs_completed": t.runs_completed,
        "runs_failed": t.runs_failed,
        "runs_halted": t.runs_halted,
        "runs_pending": t.runs_pending,
        "truncated_replies": t.replies.truncated,
        "over_cap_replies": t.replies.over_cap,
        "possibly_billed_retries": t.replies.possibly_billed_retries,
        "duration_seconds": duration,
        "cost_summary": summary,
        "failed_runs": failed,
        "halted_runs": halted,
        "stop_reason": stop.as_ref().map(|s| s.0.clone()),
        "stop_message": stop.map(|s| s.1),
        "resume_command": if t.runs_completed < total { Value::String(resume) } else { Value::Null },
    });
    vec![
        ("batch-state.json", state),
        (
            "batch-costs.json",
            json!({"summary": summary, "run_costs": run_costs, "variation_statistics": variation_statistics}),
        ),
        ("batch-summary.json", summary_file),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_dates() {
        assert_eq!(super::iso(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(super::iso(1_795_735_061_754.0), "2026-11-26T23:17:41Z");
        assert_eq!(super::iso(951_782_400_000.0), "2000-02-29T00:00:00Z");
    }
}
