//! The numbers: descriptive statistics per metric (overall, per variation, per turn), success
//! rates, and the comparisons between variations.
//!
//! Metric statistics use the runs that completed: a halted or failed run stopped early, so its
//! "final" values are from an earlier turn and would mix unlike things. Success is counted over
//! all runs. Every test and interval comes from [`crate::stats`].
//!
//! In a paired design ([`super::design`]) each comparison is also made within pairs (paired t,
//! Wilcoxon signed-rank, d_z; McNemar for success) on the runs matched by run number, and the
//! verdicts rest on those; the unpaired tests are kept beside them, so that a reader can see
//! what pairing changed.

use std::collections::BTreeMap;

use serde::Serialize;

use super::collect::{Collected, RunRow, Status};
use super::design::{BlockUse, ByRun};
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
    /// The comparison within pairs, on the runs matched by run number (paired design only).
    pub paired: Option<PairedComparison>,
    /// The test the verdict rests on: `paired_t` in a paired design (when the paired t can be
    /// computed: two pairs or more, differences with spread), else `welch_t`.
    pub verdict_test: &'static str,
}

/// A comparison of two variations within pairs: b − a on each run number both completed with
/// a value.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PairedComparison {
    /// Matched pairs.
    pub n: usize,
    /// mean(b − a) over the pairs (= mean(b) − mean(a) over the matched runs).
    pub difference: f64,
    /// 95% CI of that mean difference (paired t).
    pub difference_ci95: Option<(f64, f64)>,
    /// The paired t test of b − a (scipy `ttest_rel(b, a)`).
    pub t: Option<Test>,
    /// Holm-adjusted paired t p.
    pub t_p_adj: Option<f64>,
    /// The Wilcoxon signed-rank test of b − a (scipy `wilcoxon(b, a)`).
    pub wilcoxon: Option<Test>,
    /// Holm-adjusted Wilcoxon p.
    pub wilcoxon_p_adj: Option<f64>,
    /// d_z = mean(b − a)/sd(b − a), with its 95% CI (in the field `g`).
    pub d_z: Option<Effect>,
    /// "small", "medium", ... of d_z, by Cohen's thresholds.
    pub magnitude: Option<&'static str>,
    /// What pairing gained on these pairs.
    pub gain: Option<PairingGain>,
}

/// What pairing gained: the variance of the within-pair differences against the variance a
/// difference of independent runs would have, var(a) + var(b), over the same matched runs.
/// A test's standard error scales with the square root of the variance it uses.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PairingGain {
    /// Comparisons pooled (1 for one pair of variations).
    pub comparisons: usize,
    /// Matched pairs, summed over the comparisons.
    pub pairs: usize,
    /// var(b − a) (pooled over comparisons by their degrees of freedom).
    pub paired_variance: f64,
    /// var(a) + var(b), likewise.
    pub unpaired_variance: f64,
    /// paired / unpaired; null when the unpaired variance is zero.
    pub ratio: Option<f64>,
    /// 1 − ratio: the share of the variance pairing removed (negative when it added some).
    pub removed: Option<f64>,
}

impl PairingGain {
    /// The gain over one set of pairs; `None` with fewer than two.
    fn of(a: &[f64], b: &[f64]) -> Option<PairingGain> {
        let d: Vec<f64> = b.iter().zip(a).map(|(b, a)| b - a).collect();
        let paired = variance(&d)?;
        let unpaired = variance(a)? + variance(b)?;
        Some(PairingGain::new(1, a.len(), paired, unpaired))
    }

    fn new(comparisons: usize, pairs: usize, paired: f64, unpaired: f64) -> PairingGain {
        let ratio = (unpaired > 0.0).then(|| paired / unpaired);
        PairingGain {
            comparisons,
            pairs,
            paired_variance: paired,
            unpaired_variance: unpaired,
            ratio,
            removed: ratio.map(|r| 1.0 - r),
        }
    }

    /// The gains of several comparisons pooled, each weighted by its degrees of freedom
    /// (pairs − 1): the metric's summary of what pairing gained.
    pub fn pooled<'a>(gains: impl IntoIterator<Item = &'a PairingGain>) -> Option<PairingGain> {
        let (mut k, mut n, mut df, mut paired, mut unpaired) = (0, 0, 0.0, 0.0, 0.0);
        for g in gains {
            let w = g.pairs as f64 - 1.0;
            k += g.comparisons;
            n += g.pairs;
            df += w;
            paired += w * g.paired_variance;
            unpaired += w * g.unpaired_variance;
        }
        (df > 0.0).then(|| PairingGain::new(k, n, paired / df, unpaired / df))
    }
}

/// The sample variance (divisor n − 1); `None` for fewer than two values.
fn variance(x: &[f64]) -> Option<f64> {
    let m = mean(x)?;
    (x.len() >= 2)
        .then(|| x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() as f64 - 1.0))
}

/// What a pair's verdict rests on.
pub struct Headline {
    /// The difference b − a.
    pub difference: f64,
    /// Its 95% CI.
    pub ci95: Option<(f64, f64)>,
    /// The Holm-adjusted p.
    pub p_adj: Option<f64>,
    /// The effect's size in words.
    pub magnitude: Option<&'static str>,
    /// Matched pairs, when it is a paired test.
    pub pairs: Option<usize>,
}

impl Pair {
    /// The paired result in a paired design, else Welch's.
    pub fn headline(&self) -> Headline {
        match &self.paired {
            Some(p) if self.verdict_test == "paired_t" => Headline {
                difference: p.difference,
                ci95: p.difference_ci95,
                p_adj: p.t_p_adj,
                magnitude: p.magnitude,
                pairs: Some(p.n),
            },
            _ => Headline {
                difference: self.difference,
                ci95: self.difference_ci95,
                p_adj: self.welch_p_adj,
                magnitude: self.magnitude,
                pairs: None,
            },
        }
    }

    /// The unadjusted p of the test the verdict rests on.
    pub fn headline_p(&self) -> Option<f64> {
        match &self.paired {
            Some(p) if self.verdict_test == "paired_t" => p.t.as_ref().map(|t| t.p),
            _ => self.welch.as_ref().map(|t| t.p),
        }
    }

    /// Adds the comparison within the matched pairs `a`, `b` (the same length, pair by pair),
    /// and makes its t test the one the verdict rests on, when there is one (fewer than two
    /// pairs, or differences without spread, leave Welch's).
    pub fn pair_up(&mut self, a: &[f64], b: &[f64]) {
        self.paired = compare_paired(a, b);
        if self.paired.as_ref().is_some_and(|p| p.t.is_some()) {
            self.verdict_test = "paired_t";
        }
    }
}

/// The paired tests of matched `a`, `b`; `None` without a pair.
fn compare_paired(a: &[f64], b: &[f64]) -> Option<PairedComparison> {
    let difference = mean(b)? - mean(a)?;
    let d_z = stats::cohen_dz(b, a);
    Some(PairedComparison {
        n: a.len(),
        difference,
        difference_ci95: stats::paired_ci(b, a, 0.95),
        t: stats::paired_t(b, a),
        t_p_adj: None,
        wilcoxon: stats::wilcoxon(b, a),
        wilcoxon_p_adj: None,
        magnitude: d_z.as_ref().map(|d| magnitude(d.g)),
        d_z,
        gain: PairingGain::of(a, b),
    })
}

/// How the variations compare on one metric.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct MetricComparison {
    /// Welch's ANOVA over the variations with at least two values.
    pub welch_anova: Option<Test>,
    /// Kruskal-Wallis over the variations with at least one value.
    pub kruskal_wallis: Option<Test>,
    /// Paired design: repeated-measures ANOVA over the variations, on the blocks complete in
    /// every one of them.
    pub rm_anova: Option<Test>,
    /// Paired design: the blocks that ANOVA used and dropped.
    pub blocks: Option<BlockUse>,
    /// Paired design: what pairing gained on this metric, pooled over the comparisons.
    pub pairing_gain: Option<PairingGain>,
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

/// Pairwise success-rate comparison: Fisher's exact test, and McNemar's on the matched runs of
/// a paired design.
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
    /// McNemar's exact test on the runs matched by run number (paired design only).
    pub mcnemar: Option<McNemar>,
    /// The test the verdict rests on: `mcnemar` in a paired design, else `fisher_exact`.
    pub test_kind: &'static str,
}

/// McNemar's exact test of two variations' success on matched runs.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct McNemar {
    /// Matched pairs (run numbers both variations have).
    pub pairs: usize,
    /// Pairs where only a's run succeeded.
    pub only_a: u64,
    /// Pairs where only b's run succeeded.
    pub only_b: u64,
    /// (only_b − only_a) / pairs: the difference of success rates over the pairs.
    pub difference: f64,
    /// Two-sided exact p.
    pub p: f64,
    /// Holm-adjusted across the success comparisons.
    pub p_adj: f64,
}

impl SuccessPair {
    /// The adjusted p the verdict rests on: McNemar's in a paired design, else Fisher's.
    pub fn p_adj(&self) -> f64 {
        self.mcnemar.as_ref().map_or(self.fisher_p_adj, |m| m.p_adj)
    }

    /// The difference the verdict states (over the pairs, in a paired design).
    pub fn headline_difference(&self) -> f64 {
        self.mcnemar
            .as_ref()
            .map_or(self.difference, |m| m.difference)
    }
}

/// McNemar's test on matched successes; `None` without a pair.
fn mcnemar(matched: &[(bool, bool)]) -> Option<McNemar> {
    if matched.is_empty() {
        return None;
    }
    let only_a = matched.iter().filter(|(a, b)| *a && !*b).count() as u64;
    let only_b = matched.iter().filter(|(a, b)| !*a && *b).count() as u64;
    let p = stats::mcnemar(only_a, only_b);
    Some(McNemar {
        pairs: matched.len(),
        only_a,
        only_b,
        difference: (only_b as f64 - only_a as f64) / matched.len() as f64,
        p,
        p_adj: p,
    })
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
        paired: None,
        verdict_test: "welch_t",
    })
}

/// Holm-adjusts each test's p-values (Welch, Mann-Whitney, paired t, Wilcoxon) across a
/// family of pairs.
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
    adjust_one(
        &|p| p.paired.as_ref()?.t.as_ref().map(|t| t.p),
        pairs,
        &|p, x| {
            if let Some(q) = p.paired.as_mut() {
                q.t_p_adj = Some(x);
            }
        },
    );
    adjust_one(
        &|p| p.paired.as_ref()?.wilcoxon.as_ref().map(|t| t.p),
        pairs,
        &|p, x| {
            if let Some(q) = p.paired.as_mut() {
                q.wilcoxon_p_adj = Some(x);
            }
        },
    );
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

/// "B raises m by 1.4 points over A (95% CI 0.6 to 2.2, p_adj = 0.003, large effect)", from
/// the test the pair's verdict rests on ([`Pair::headline`]); a paired verdict says over how
/// many pairs, and its size is d_z's.
pub fn verdict(metric: &str, a: &str, b: &str, pair: &Pair) -> Option<String> {
    let h = pair.headline();
    let p = h.p_adj?;
    if p >= ALPHA || h.difference == 0.0 {
        return None;
    }
    let verb = if h.difference > 0.0 {
        "raises"
    } else {
        "lowers"
    };
    let pairs = h.pairs.map(|n| format!("{n} pairs, ")).unwrap_or_default();
    let ci = h
        .ci95
        .map(|(lo, hi)| {
            let (lo, hi) = if h.difference > 0.0 {
                (lo, hi)
            } else {
                (-hi, -lo)
            };
            format!("95% CI {} to {}, ", num(lo), num(hi))
        })
        .unwrap_or_default();
    let size = h
        .magnitude
        .map(|m| format!(", {m} effect"))
        .unwrap_or_default();
    Some(format!(
        "{b} {verb} {metric} by {} over {a} ({pairs}{ci}p_adj {}{size})",
        num(h.difference.abs()),
        pval(p),
    ))
}

/// The pairs of variations compared, as indices: all pairs, or each against the first when
/// there are more than [`MAX_ALL_PAIRS`] variations.
fn compared_pairs(k: usize) -> Vec<(usize, usize)> {
    if k <= MAX_ALL_PAIRS {
        (0..k)
            .flat_map(|i| (i + 1..k).map(move |j| (i, j)))
            .collect()
    } else {
        (1..k).map(|j| (0, j)).collect()
    }
}

/// Compares the variations on each metric; within pairs too when `by_run` is given (a paired
/// design).
pub fn compare_variations(
    c: &Collected,
    values: &FinalValues,
    by_run: Option<&ByRun>,
) -> BTreeMap<String, MetricComparison> {
    c.metrics
        .iter()
        .enumerate()
        .map(|(m, name)| (name.clone(), compare_metric(c, m, &values[m], by_run)))
        .collect()
}

/// The comparison of the variations on metric `m`, whose final values are `groups`.
fn compare_metric(
    c: &Collected,
    m: usize,
    groups: &[Vec<f64>],
    by_run: Option<&ByRun>,
) -> MetricComparison {
    let name = &c.metrics[m];
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
    let mut pairs = Vec::new();
    for (i, j) in compared_pairs(groups.len()) {
        let (a, b) = (c.variations[i].id, c.variations[j].id);
        if let Some(mut p) = compare_groups(a, &groups[i], b, &groups[j]) {
            if let Some(r) = by_run {
                let (x, y) = r.matched(m, i, j);
                p.pair_up(&x, &y);
            }
            pairs.push(p);
        }
    }
    adjust(&mut pairs);
    let blocked = by_run.map(|r| {
        let blocks = r.blocks(m, &(0..groups.len()).collect::<Vec<_>>());
        (stats::rm_anova_one_way(&blocks.rows), blocks.usage())
    });
    let mut ranking: Vec<(u64, f64)> = groups
        .iter()
        .enumerate()
        .filter_map(|(i, g)| Some((c.variations[i].id, mean(g)?)))
        .collect();
    ranking.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    MetricComparison {
        welch_anova: (two_plus.len() >= 2)
            .then(|| stats::welch_anova(&two_plus))
            .flatten(),
        kruskal_wallis: (one_plus.len() >= 2)
            .then(|| stats::kruskal_wallis(&one_plus))
            .flatten(),
        rm_anova: blocked.as_ref().and_then(|(t, _)| t.clone()),
        blocks: blocked.map(|(_, u)| u),
        pairing_gain: PairingGain::pooled(
            pairs
                .iter()
                .filter_map(|p| p.paired.as_ref()?.gain.as_ref()),
        ),
        verdicts: verdicts(c, name, &pairs),
        all_pairs: c.variations.len() <= MAX_ALL_PAIRS,
        pairs,
        ranking,
    }
}

/// The verdicts of the pairs that differ at p_adj < [`ALPHA`], largest difference first.
fn verdicts(c: &Collected, metric: &str, pairs: &[Pair]) -> Vec<String> {
    let label = |id: u64| {
        let v = c.variations.iter().find(|v| v.id == id).expect("known id");
        format!("variation {} ({})", v.id, v.description)
    };
    let mut significant: Vec<(&Pair, Headline)> = pairs
        .iter()
        .map(|p| (p, p.headline()))
        .filter(|(_, h)| h.p_adj.is_some_and(|p| p < ALPHA))
        .collect();
    significant.sort_by(|x, y| y.1.difference.abs().total_cmp(&x.1.difference.abs()));
    significant
        .iter()
        .filter_map(|(p, _)| verdict(metric, &label(p.a), &label(p.b), p))
        .collect()
}

/// Pairwise tests of success rates (only when success varies at all): Fisher's exact test,
/// and, with `by_run` (a paired design), McNemar's on the matched runs, which the verdict then
/// rests on. Each test is Holm-adjusted across the pairs.
pub fn compare_success(vs: &[VariationStats], by_run: Option<&ByRun>) -> Vec<SuccessPair> {
    let rates: Vec<f64> = vs
        .iter()
        .filter(|v| v.total_runs > 0)
        .map(|v| v.success_rate)
        .collect();
    if rates.len() < 2 || rates.iter().all(|r| *r == rates[0]) {
        return Vec::new();
    }
    let mut pairs = Vec::new();
    for (i, j) in compared_pairs(vs.len()) {
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
        let mcnemar = by_run.and_then(|r| mcnemar(&r.matched_success(i, j)));
        pairs.push(SuccessPair {
            a: a.variation_id,
            b: b.variation_id,
            difference: b.success_rate - a.success_rate,
            fisher_p,
            fisher_p_adj: fisher_p,
            test_kind: if mcnemar.is_some() {
                "mcnemar"
            } else {
                "fisher_exact"
            },
            mcnemar,
        });
    }
    let adjusted = stats::holm(&pairs.iter().map(|p| p.fisher_p).collect::<Vec<_>>());
    for (p, adj) in pairs.iter_mut().zip(adjusted) {
        p.fisher_p_adj = adj;
    }
    let with_mcnemar: Vec<usize> = (0..pairs.len())
        .filter(|&k| pairs[k].mcnemar.is_some())
        .collect();
    let ps: Vec<f64> = with_mcnemar
        .iter()
        .filter_map(|&k| pairs[k].mcnemar.as_ref().map(|m| m.p))
        .collect();
    for (&k, adj) in with_mcnemar.iter().zip(stats::holm(&ps)) {
        if let Some(m) = pairs[k].mcnemar.as_mut() {
            m.p_adj = adj;
        }
    }
    pairs
}
