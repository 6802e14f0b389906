//! The batch files, rebuilt from what is known of each run: `batch-state.json` (to resume),
//! `batch-costs.json` (the money), `batch-summary.json` (what happened), with the original
//! tool's keys and more.

use std::collections::BTreeMap;

use crate::config::BatchConfig;
use crate::engine::ReplyCounts;
use crate::plan::variations::VariationSpace;
use crate::pricing::{nanos_to_usd, Nanos};
use crate::schema::batch::{
    CostSummary, FailedRun, Fingerprint, HaltedRun, RunCost, StoppingRecord, VariationCost,
    VariationStop,
};
use crate::schema::run::{RunStanding, Savings};
use crate::schema::{
    BatchCosts, BatchState, BatchSummary, BatchTotals, HaltReason, RunId, RunStatus, StopReason,
};

/// What the batch knows of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// Its status, halt reason, error and turns done.
    pub standing: RunStanding,
    /// What it spent.
    pub cost_nanos: Nanos,
    /// What its replies say about caps and time limits.
    pub replies: ReplyCounts,
    /// What caches and batch prices saved it.
    pub savings: Savings,
    /// The final value of the stopping rule's metric, when the batch has a rule and the run
    /// completed with a value.
    pub value: Option<f64>,
}

/// The totals of what is known; `not_needed` runs will never start (their variation stopped).
pub fn totals(
    known: &BTreeMap<u64, RunSummary>,
    total: u64,
    spent: Nanos,
    not_needed: u64,
) -> BatchTotals {
    let count = |st: RunStatus| known.values().filter(|s| s.standing.status == st).count() as u64;
    let (completed, failed, halted) = (
        count(RunStatus::Completed),
        count(RunStatus::Failed),
        count(RunStatus::Halted),
    );
    let mut replies = ReplyCounts::default();
    let mut savings = Savings::default();
    for s in known.values() {
        replies.add(s.replies);
        savings.add(&s.savings);
    }
    BatchTotals {
        replies,
        savings,
        total_runs: total,
        runs_completed: completed,
        runs_failed: failed,
        runs_halted: halted,
        runs_pending: total.saturating_sub(completed + failed + halted + not_needed),
        runs_not_needed: not_needed,
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

/// The three batch files.
pub struct BatchFiles {
    /// `batch-state.json`.
    pub state: BatchState,
    /// `batch-costs.json`.
    pub costs: BatchCosts,
    /// `batch-summary.json`.
    pub summary: BatchSummary,
}

impl BatchFiles {
    /// Each file's name and text.
    pub fn texts(&self) -> [(&'static str, String); 3] {
        use crate::schema::to_json_text;
        [
            ("batch-state.json", to_json_text(&self.state)),
            ("batch-costs.json", to_json_text(&self.costs)),
            ("batch-summary.json", to_json_text(&self.summary)),
        ]
    }
}

/// Where a batch stands, for its files: what is fixed for the batch and what the clock and the
/// runs say now.
pub struct BatchSnapshot<'a> {
    /// The config.
    pub config: &'a BatchConfig,
    /// What must not change between sessions.
    pub fingerprint: &'a Fingerprint,
    /// The batch's seed.
    pub seed: u64,
    /// When it first started, ms since the epoch.
    pub start_ms: f64,
    /// Now, ms since the epoch.
    pub now_ms: f64,
    /// What is known of each run, by 0-based index.
    pub known: &'a BTreeMap<u64, RunSummary>,
    /// Runs planned (all shards).
    pub total: u64,
    /// Set when this is one shard.
    pub shard: Option<super::Shard>,
    /// The command that continues the batch (with its `--shard` and `--output`).
    pub resume: &'a str,
    /// Spent, nano-dollars.
    pub spent: Nanos,
    /// The budget, USD.
    pub budget: Option<f64>,
    /// Whether the batch is over.
    pub done: bool,
    /// Why it stopped early.
    pub stop: Option<(StopReason, String)>,
    /// Where the stopping rule stands, when the batch has one.
    pub stopping: Option<&'a StoppingRecord>,
}

/// Runs that will never start because the stopping rule stopped their variation: the rounds
/// after each stop that have no run folder.
pub fn not_needed(
    stopped: &[VariationStop],
    known: &BTreeMap<u64, RunSummary>,
    runs_per_variation: u32,
) -> u64 {
    let rounds = u64::from(runs_per_variation);
    stopped
        .iter()
        .map(|s| {
            let first = (s.variation_id - 1) * rounds;
            (first + u64::from(s.after_runs)..first + rounds)
                .filter(|i| !known.contains_key(i))
                .count() as u64
        })
        .sum()
}

/// The three batch files of a snapshot.
pub fn batch_files(b: BatchSnapshot<'_>) -> BatchFiles {
    let (config, known) = (b.config, b.known);
    let runs = u64::from(config.runs_per_variation);
    let id = |i: &u64| RunId::from_index(*i, runs);
    let of = |st: RunStatus| known.iter().filter(move |(_, s)| s.standing.status == st);
    let completed_runs: Vec<RunId> = of(RunStatus::Completed).map(|(i, _)| id(i)).collect();
    let failed_runs: Vec<FailedRun> = of(RunStatus::Failed)
        .map(|(i, s)| FailedRun {
            run_id: id(i),
            error: s.standing.error.clone(),
            status: RunStatus::Failed,
        })
        .collect();
    let halted_runs: Vec<HaltedRun> = of(RunStatus::Halted)
        .map(|(i, s)| HaltedRun {
            run_id: id(i),
            halt_reason: s.standing.halt_reason,
            status: RunStatus::Halted,
        })
        .collect();
    let stopped = b.stopping.map_or(&[][..], |s| &s.stopped[..]);
    let t = totals(
        known,
        b.total,
        b.spent,
        not_needed(stopped, known, config.runs_per_variation),
    );
    let duration = ((b.now_ms - b.start_ms) / 1000.0).max(0.0);
    let end_time = b.done.then(|| iso(b.now_ms));
    let mut per_var: BTreeMap<u64, (Nanos, u64, u64)> = BTreeMap::new();
    for (i, s) in known {
        let e = per_var.entry(id(i).variation).or_default();
        e.0 += s.cost_nanos;
        e.1 += 1;
        e.2 += u64::from(s.standing.status == RunStatus::Completed);
    }
    let space = VariationSpace::new(&config.variations);
    let variation_statistics = per_var
        .iter()
        .map(|(v, (c, n, ok))| {
            let cost = VariationCost {
                description: space.get(v - 1).description,
                total_cost: nanos_to_usd(*c),
                num_runs: *n,
                successful_runs: *ok,
                avg_cost_per_run: if *n > 0 {
                    nanos_to_usd(*c) / *n as f64
                } else {
                    0.0
                },
            };
            (*v, cost)
        })
        .collect();
    let cost_summary = CostSummary {
        total_spent: t.total_spent,
        savings: t.savings,
        total_spent_nanos: b.spent,
        budget_limit: b.budget,
        cost_per_run_limit: config.cost_per_run_limit,
        remaining_budget: b.budget.map(|limit| (limit - t.total_spent).max(0.0)),
        runs_completed: t.runs_completed,
        runs_failed: t.runs_failed,
        runs_halted: t.runs_halted,
        runs_budget_exceeded: known
            .values()
            .filter(|s| s.standing.halt_reason.is_some_and(HaltReason::is_money))
            .count() as u64,
        avg_cost_per_run: if t.runs_completed > 0 {
            t.total_spent / t.runs_completed as f64
        } else {
            0.0
        },
        possibly_billed_retries: t.replies.possibly_billed_retries,
        duration_seconds: duration,
        start_time: iso(b.start_ms),
        end_time: end_time.clone(),
    };
    let run_costs = known
        .iter()
        .map(|(i, s)| RunCost {
            run_id: id(i),
            variation_id: id(i).variation,
            cost: nanos_to_usd(s.cost_nanos),
            cost_nanos: s.cost_nanos,
            success: s.standing.status == RunStatus::Completed,
            status: s.standing.status,
            halt_reason: s.standing.halt_reason,
        })
        .collect();
    let state = BatchState {
        experiment_name: config.experiment_name.clone(),
        config_path: config.path.clone(),
        output_dir: config.output_dir.clone(),
        seed: b.seed,
        start_ms: b.start_ms,
        start_time: iso(b.start_ms),
        end_time,
        runs_per_variation: config.runs_per_variation,
        total_variations: space.count(),
        total_runs: b.total,
        shard: b.shard.map(|s| s.to_string()),
        completed_runs,
        failed_runs: failed_runs.clone(),
        halted_runs: halted_runs.clone(),
        fingerprint: Some(b.fingerprint.clone()),
        stopping: b.stopping.cloned(),
    };
    let summary = BatchSummary {
        experiment_name: config.experiment_name.clone(),
        base_scenario: config.base_scenario.clone(),
        total_variations: space.count(),
        runs_per_variation: config.runs_per_variation,
        total_runs_planned: b.total,
        runs_completed: t.runs_completed,
        runs_failed: t.runs_failed,
        runs_halted: t.runs_halted,
        runs_pending: t.runs_pending,
        truncated_replies: t.replies.truncated,
        over_cap_replies: t.replies.over_cap,
        possibly_billed_retries: t.replies.possibly_billed_retries,
        duration_seconds: duration,
        cost_summary: cost_summary.clone(),
        failed_runs,
        halted_runs,
        stop_reason: b.stop.as_ref().map(|s| s.0),
        stop_message: b.stop.map(|s| s.1),
        resume_command: (t.runs_completed + t.runs_not_needed < b.total)
            .then(|| b.resume.to_string()),
    };
    BatchFiles {
        state,
        costs: BatchCosts {
            summary: cost_summary,
            run_costs,
            variation_statistics,
        },
        summary,
    }
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
