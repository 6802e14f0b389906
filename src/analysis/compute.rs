//! The numbers: descriptive statistics per metric (overall, per variation, per turn), success
//! rates, and the comparisons between variations.
//!
//! Metric statistics use the runs that completed: a halted or failed run stopped early, so its
//! "final" values are from an earlier turn and would mix unlike things. Success is counted over
//! all runs. Every test and interval comes from [`crate::stats`].

use std::collections::BTreeMap;

use serde::Serialize;

use super::collect::{Collected, RunRow, Status};
use crate::stats::{self, Effect, Running, Summary, Test};

/// More variations than this and pairwise comparisons are made against the first variation
/// only (all pairs of 1,000 variations would be half a million tests nobody reads).
pub const MAX_ALL_PAIRS: usize = 40;

/// Significance level used for verdicts.
pub const ALPHA: f64 = 0.05;

/// Descriptive statistics of one metric over a set of runs (keys of the original's
/// `metrics-analysis.json` plus the new ones).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct MetricStats {
    /// Values counted.
    pub count: usize,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub median: f64,
    /// Minimum.
    pub min: f64,
    /// Maximum.
    pub max: f64,
    /// Sample standard deviation; 0.0 for one value (the original's `stdev`).
    pub stdev: f64,
    /// Sample standard deviation; null for one value.
    pub sd: Option<f64>,
    /// First quartile.
    pub q1: f64,
    /// Third quartile.
    pub q3: f64,
    /// 95% confidence interval of the mean (Student t); null for one value.
    pub ci95: Option<(f64, f64)>,
    /// The mean at each turn, over the same runs.
    pub by_turn: Vec<TurnStats>,
}

/// A metric's mean at one turn.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct TurnStats {
    /// The turn.
    pub turn: usize,
    /// Values at that turn.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// Their standard deviation.
    pub sd: Option<f64>,
    /// 95% CI of the mean.
    pub ci95: Option<(f64, f64)>,
}

impl MetricStats {
    fn new(s: Summary, by_turn: Vec<TurnStats>) -> Self {
        MetricStats {
            count: s.n,
            mean: s.mean,
            median: s.median,
            min: s.min,
            max: s.max,
            stdev: s.sd.unwrap_or(0.0),
            sd: s.sd,
            q1: s.q1,
            q3: s.q3,
            ci95: s.ci95,
            by_turn,
        }
    }
}

fn turn_stats(series: &[Running]) -> Vec<TurnStats> {
    series
        .iter()
        .enumerate()
        .filter_map(|(turn, r)| {
            Some(TurnStats {
                turn,
                n: r.n(),
                mean: r.mean()?,
                sd: r.sd(),
                ci95: r.ci95(),
            })
        })
        .collect()
}

/// Merges per-turn accumulators (Chan et al.'s parallel update), for the overall trajectory.
fn merge_series(all: &[&[Running]]) -> Vec<TurnStats> {
    let len = all.iter().map(|s| s.len()).max().unwrap_or(0);
    (0..len)
        .filter_map(|turn| {
            let (mut n, mut mean, mut m2) = (0usize, 0.0f64, 0.0f64);
            for s in all {
                let Some(r) = s.get(turn) else { continue };
                let (Some(rm), k) = (r.mean(), r.n()) else {
                    continue;
                };
                let rm2 = r.sd().map(|sd| sd * sd * (k as f64 - 1.0)).unwrap_or(0.0);
                let total = n + k;
                let delta = rm - mean;
                mean += delta * k as f64 / total as f64;
                m2 += rm2 + delta * delta * n as f64 * k as f64 / total as f64;
                n = total;
            }
            if n == 0 {
                return None;
            }
            let sd = (n > 1).then(|| (m2 / (n as f64 - 1.0)).sqrt());
            Some(TurnStats {
                turn,
                n,
                mean,
                sd,
                ci95: sd.and_then(|sd| stats::mean_ci(n, mean, sd, 0.95)),
            })
        })
        .collect()
}

/// Cost of a set of runs, in USD.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CostStats {
    /// Sum.
    pub total: f64,
    /// Mean per run.
    pub mean: f64,
    /// Cheapest run.
    pub min: f64,
    /// Dearest run.
    pub max: f64,
    /// Total divided by successful runs; null when none succeeded.
    pub per_successful_run: Option<f64>,
}

/// Everything about one variation (`variation-statistics.json`).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct VariationStats {
    /// The id.
    pub variation_id: u64,
    /// Readable description.
    pub description: String,
    /// Factor → level.
    pub factors: BTreeMap<String, String>,
    /// Runs found.
    pub total_runs: usize,
    /// Runs that completed.
    pub completed_runs: usize,
    /// Runs that succeeded.
    pub successful_runs: usize,
    /// successful / total.
    pub success_rate: f64,
    /// Wilson 95% interval of the success rate.
    pub success_ci95: Option<(f64, f64)>,
    /// Runs by status.
    pub statuses: BTreeMap<&'static str, usize>,
    /// Halt reasons and errors, counted.
    pub reasons: BTreeMap<String, usize>,
    /// Per metric, over completed runs.
    pub metrics: BTreeMap<String, MetricStats>,
    /// Cost over all runs.
    pub cost: CostStats,
}

/// One pairwise comparison of two variations on one metric.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Pair {
    /// First variation id.
    pub a: u64,
    /// Second variation id.
    pub b: u64,
    /// mean(b) − mean(a).
    pub difference: f64,
    /// 95% CI of the difference (Welch).
    pub difference_ci95: Option<(f64, f64)>,
    /// Welch's t test.
    pub welch: Option<Test>,
    /// Holm-adjusted Welch p.
    pub welch_p_adj: Option<f64>,
    /// Mann-Whitney U test.
    pub mann_whitney: Option<Test>,
    /// Holm-adjusted Mann-Whitney p.
    pub mann_whitney_p_adj: Option<f64>,
    /// Hedges' g of b against a, with its CI.
    pub hedges_g: Option<Effect>,
    /// "small", "medium", ...
    pub magnitude: Option<&'static str>,
}

/// How the variations compare on one metric.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct MetricComparison {
    /// Welch's ANOVA over the variations with at least two values.
    pub welch_anova: Option<Test>,
    /// Kruskal-Wallis over the variations with at least one value.
    pub kruskal_wallis: Option<Test>,
    /// Pairwise comparisons (all pairs, or each against the first when there are many).
    pub pairs: Vec<Pair>,
    /// Whether `pairs` holds all pairs (false: each variation against the first).
    pub all_pairs: bool,
    /// Plain-language findings for the pairs that differ at p_adj < 0.05.
    pub verdicts: Vec<String>,
    /// Variations ranked by mean, highest first: (variation id, mean) — the original's
    /// `compare_variations`.
    pub ranking: Vec<(u64, f64)>,
}

/// Pairwise success-rate comparison (Fisher's exact test).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SuccessPair {
    /// First variation.
    pub a: u64,
    /// Second variation.
    pub b: u64,
    /// Success rate of b − success rate of a.
    pub difference: f64,
    /// Two-sided Fisher exact p.
    pub fisher_p: f64,
    /// Holm-adjusted.
    pub fisher_p_adj: f64,
}

/// The size of an effect by Cohen's conventions for |g|.
pub fn magnitude(g: f64) -> &'static str {
    match g.abs() {
        x if x < 0.2 => "negligible",
        x if x < 0.5 => "small",
        x if x < 0.8 => "medium",
        _ => "large",
    }
}

/// The completed runs' final values, `[metric][variation]`, each group sorted. Built once per
/// analysis: every statistic, test and chart reads it. Sorted because the rank tests and
/// quartiles sort their input, and a sort of already-sorted runs is a linear merge, which makes
/// the hundreds of pairwise Mann-Whitney tests of a large batch cheap.
pub type FinalValues = Vec<Vec<Vec<f64>>>;

/// See [`FinalValues`].
pub fn final_values(c: &Collected) -> FinalValues {
    let mut out = vec![vec![Vec::new(); c.variations.len()]; c.metrics.len()];
    for row in completed(&c.rows) {
        for (m, &x) in row.finals.iter().enumerate() {
            if !x.is_nan() {
                out[m][row.variation()].push(x);
            }
        }
    }
    for group in out.iter_mut().flatten() {
        group.sort_by(f64::total_cmp);
    }
    out
}

/// Runs that completed.
pub fn completed(rows: &[RunRow]) -> impl Iterator<Item = &RunRow> {
    rows.iter().filter(|r| r.status == Status::Completed)
}

/// Per-metric statistics over all completed runs (`metrics-analysis.json`).
pub fn metric_statistics(c: &Collected, values: &FinalValues) -> BTreeMap<String, MetricStats> {
    let mut out = BTreeMap::new();
    for (m, name) in c.metrics.iter().enumerate() {
        let values: Vec<f64> = values[m].concat();
        let series: Vec<&[Running]> = (0..c.variations.len())
            .filter_map(|v| c.trajectories.get(&(v, m)).map(Vec::as_slice))
            .collect();
        if let Some(s) = stats::describe(&values) {
            out.insert(name.clone(), MetricStats::new(s, merge_series(&series)));
        }
    }
    out
}

/// Per-variation statistics (`variation-statistics.json`), in variation order.
pub fn variation_statistics(c: &Collected, by_metric: &FinalValues) -> Vec<VariationStats> {
    let mut out: Vec<VariationStats> = c
        .variations
        .iter()
        .map(|v| VariationStats {
            variation_id: v.id,
            description: v.description.clone(),
            factors: v.factors.clone(),
            total_runs: 0,
            completed_runs: 0,
            successful_runs: 0,
            success_rate: 0.0,
            success_ci95: None,
            statuses: BTreeMap::new(),
            reasons: BTreeMap::new(),
            metrics: BTreeMap::new(),
            cost: CostStats {
                total: 0.0,
                mean: 0.0,
                min: f64::INFINITY,
                max: 0.0,
                per_successful_run: None,
            },
        })
        .collect();
    let mut cost_nanos = vec![0u128; out.len()];
    for row in &c.rows {
        let v = &mut out[row.variation()];
        v.total_runs += 1;
        v.completed_runs += usize::from(row.status == Status::Completed);
        v.successful_runs += usize::from(row.success);
        *v.statuses.entry(row.status.as_str()).or_default() += 1;
        if let Some(reason) = &row.reason {
            *v.reasons.entry(reason.to_string()).or_default() += 1;
        }
        // Summed in nano-dollars so that totals do not depend on the order of additions.
        cost_nanos[row.variation()] += (row.cost * 1e9).round() as u128;
        v.cost.min = v.cost.min.min(row.cost);
        v.cost.max = v.cost.max.max(row.cost);
    }
    for (i, v) in out.iter_mut().enumerate() {
        v.cost.total = cost_nanos[i] as f64 / 1e9;
        if v.total_runs > 0 {
            v.cost.mean = v.cost.total / v.total_runs as f64;
            v.success_rate = v.successful_runs as f64 / v.total_runs as f64;
        } else {
            v.cost.min = 0.0;
        }
        v.cost.per_successful_run =
            (v.successful_runs > 0).then(|| v.cost.total / v.successful_runs as f64);
        v.success_ci95 = stats::wilson(v.successful_runs, v.total_runs, 0.95);
        for (m, name) in c.metrics.iter().enumerate() {
            if let Some(s) = stats::describe(&by_metric[m][i]) {
                let by_turn = c
                    .trajectories
                    .get(&(i, m))
                    .map(|t| turn_stats(t))
                    .unwrap_or_default();
                v.metrics.insert(name.clone(), MetricStats::new(s, by_turn));
            }
        }
    }
    out
}

/// The mean; `None` for no values.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Compares two groups of values: difference, Welch, Mann-Whitney, Hedges' g (p-values are
/// adjusted later, across the family).
pub fn compare_groups(a_id: u64, a: &[f64], b_id: u64, b: &[f64]) -> Option<Pair> {
    let difference = mean(b)? - mean(a)?;
    let g = stats::hedges_g(b, a);
    Some(Pair {
        a: a_id,
        b: b_id,
        difference,
        difference_ci95: stats::welch_ci(b, a, 0.95),
        welch: stats::welch_t(b, a),
        welch_p_adj: None,
        mann_whitney: stats::mann_whitney(b, a),
        mann_whitney_p_adj: None,
        magnitude: g.as_ref().map(|g| magnitude(g.g)),
        hedges_g: g,
    })
}

/// Holm-adjusts the Welch and Mann-Whitney p-values of a family of pairs.
pub fn adjust(pairs: &mut [Pair]) {
    let adjust_one =
        |get: &dyn Fn(&Pair) -> Option<f64>, pairs: &mut [Pair], set: &dyn Fn(&mut Pair, f64)| {
            let idx: Vec<usize> = (0..pairs.len())
                .filter(|&i| get(&pairs[i]).is_some())
                .collect();
            let ps: Vec<f64> = idx.iter().map(|&i| get(&pairs[i]).unwrap_or(1.0)).collect();
            for (k, p) in stats::holm(&ps).into_iter().enumerate() {
                set(&mut pairs[idx[k]], p);
            }
        };
    adjust_one(&|p| p.welch.as_ref().map(|t| t.p), pairs, &|p, x| {
        p.welch_p_adj = Some(x)
    });
    adjust_one(&|p| p.mann_whitney.as_ref().map(|t| t.p), pairs, &|p, x| {
        p.mann_whitney_p_adj = Some(x)
    });
}

/// Formats a number for a sentence: up to 3 significant decimals, no trailing zeros.
pub fn num(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let digits = if x.abs() >= 100.0 {
        0
    } else if x.abs() >= 1.0 {
        2
    } else {
        3
    };
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Formats a p-value as reviewers expect (`p < 0.001` below that).
pub fn pval(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("= {p:.3}")
    }
}

/// "B raises m by 1.4 points over A (95% CI 0.6 to 2.2, p_adj = 0.003, large effect)".
pub fn verdict(metric: &str, a: &str, b: &str, pair: &Pair) -> Option<String> {
    let p = pair.welch_p_adj?;
    if p >= ALPHA || pair.difference == 0.0 {
        return None;
    }
    let verb = if pair.difference > 0.0 {
        "raises"
    } else {
        "lowers"
    };
    let ci = pair
        .difference_ci95
        .map(|(lo, hi)| {
            let (lo, hi) = if pair.difference > 0.0 {
                (lo, hi)
            } else {
                (-hi, -lo)
            };
            format!("95% CI {} to {}, ", num(lo), num(hi))
        })
        .unwrap_or_default();
    let size = pair
        .magnitude
        .map(|m| format!(", {m} effect"))
        .unwrap_or_default();
    Some(format!(
        "{b} {verb} {metric} by {} over {a} ({ci}p_adj {}{size})",
        num(pair.difference.abs()),
        pval(p),
    ))
}

/// Compares the variations on each metric.
pub fn compare_variations(
    c: &Collected,
    values: &FinalValues,
) -> BTreeMap<String, MetricComparison> {
    let mut out = BTreeMap::new();
    for (m, name) in c.metrics.iter().enumerate() {
        let groups = &values[m];
        let two_plus: Vec<&[f64]> = groups
            .iter()
            .filter(|g| g.len() >= 2)
            .map(Vec::as_slice)
            .collect();
        let one_plus: Vec<&[f64]> = groups
            .iter()
            .filter(|g| !g.is_empty())
            .map(Vec::as_slice)
            .collect();
        let all_pairs = c.variations.len() <= MAX_ALL_PAIRS;
        let mut pairs = Vec::new();
        for i in 0..groups.len() {
            let others: Box<dyn Iterator<Item = usize>> = if all_pairs {
                Box::new(i + 1..groups.len())
            } else if i == 0 {
                Box::new(1..groups.len())
            } else {
                Box::new(std::iter::empty())
            };
            for j in others {
                if let Some(p) = compare_groups(
                    c.variations[i].id,
                    &groups[i],
                    c.variations[j].id,
                    &groups[j],
                ) {
                    pairs.push(p);
                }
            }
        }
        adjust(&mut pairs);
        let label = |id: u64| {
            let v = c.variations.iter().find(|v| v.id == id).expect("known id");
            format!("variation {} ({})", v.id, v.description)
        };
        let mut significant: Vec<&Pair> = pairs
            .iter()
            .filter(|p| p.welch_p_adj.is_some_and(|p| p < ALPHA))
            .collect();
        significant.sort_by(|x, y| y.difference.abs().total_cmp(&x.difference.abs()));
        let verdicts = significant
            .iter()
            .filter_map(|p| verdict(name, &label(p.a), &label(p.b), p))
            .collect();
        let mut ranking: Vec<(u64, f64)> = groups
            .iter()
            .enumerate()
            .filter_map(|(i, g)| Some((c.variations[i].id, mean(g)?)))
            .collect();
        ranking.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        out.insert(
            name.clone(),
            MetricComparison {
                welch_anova: (two_plus.len() >= 2)
                    .then(|| stats::welch_anova(&two_plus))
                    .flatten(),
                kruskal_wallis: (one_plus.len() >= 2)
                    .then(|| stats::kruskal_wallis(&one_plus))
                    .flatten(),
                pairs,
                all_pairs,
                verdicts,
                ranking,
            },
        );
    }
    out
}

/// Pairwise Fisher tests of success rates (only when success varies at all).
pub fn compare_success(vs: &[VariationStats]) -> Vec<SuccessPair> {
    let rates: Vec<f64> = vs
        .iter()
        .filter(|v| v.total_runs > 0)
        .map(|v| v.success_rate)
        .collect();
    if rates.len() < 2 || rates.iter().all(|r| *r == rates[0]) {
        return Vec::new();
    }
    let all_pairs = vs.len() <= MAX_ALL_PAIRS;
    let mut pairs = Vec::new();
    for i in 0..vs.len() {
        for j in i + 1..vs.len() {
            if !all_pairs && i > 0 {
                break;
            }
            let (a, b) = (&vs[i], &vs[j]);
            if a.total_runs == 0 || b.total_runs == 0 {
                continue;
            }
            let fisher_p = stats::fisher_exact(
                a.successful_runs as u64,
                (a.total_runs - a.successful_runs) as u64,
                b.successful_runs as u64,
                (b.total_runs - b.successful_runs) as u64,
            );
            pairs.push(SuccessPair {
                a: a.variation_id,
                b: b.variation_id,
                difference: b.success_rate - a.success_rate,
                fisher_p,
                fisher_p_adj: fisher_p,
            });
        }
    }
    let adjusted = stats::holm(&pairs.iter().map(|p| p.fisher_p).collect::<Vec<_>>());
    for (p, adj) in pairs.iter_mut().zip(adjusted) {
        p.fisher_p_adj = adj;
    }
    pairs
}
