//! Patterns: what changed the outcome. Main effects of each varied factor (each actor whose model
//! varies, each varied parameter) on each metric and on success, interactions in two-factor
//! designs, failure modes, cost efficiency, and how many runs are enough.
//!
//! A factor's level effect compares the runs at that level with the runs at the factor's first
//! level (its reference, the first value in the batch config), pooling over the other factors;
//! in a full factorial design every level sees the same mix of the others, so the pooling is
//! balanced. The level's `marginal_mean` (the mean of its cells' means) is reported beside the
//! pooled mean so that an unbalanced design shows. With exactly two factors, the factor tests and
//! the interaction come from a two-way ANOVA (Type III sums of squares).
//!
//! In a paired design ([`super::design`]) the same tests take the blocked form: a block (a run
//! number, one seed) is kept when it has a value in every cell (variation) the test involves,
//! each level's value in a block is the mean of its cells there, and the factor is tested by a
//! repeated-measures ANOVA (one-way, or two-way with the interaction); its level contrasts are
//! paired on the same blocks. Incomplete blocks are dropped and counted ([`BlockUse`]). When no
//! blocked test can be made (fewer than two complete blocks, say) the independent one is used,
//! and `test_kind` says which.

use std::collections::BTreeMap;

use serde::Serialize;

use super::collect::{Collected, Status};
use super::compute::{
    self, compare_groups, mean, pval, FinalValues, MetricComparison, Pair, SuccessPair,
    VariationStats, ALPHA,
};
use super::design::{BlockUse, ByRun, Design};
use crate::stats::{self, Test, TwoWay};

/// One level of a factor, on one metric.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LevelStats {
    /// The level, e.g. `openai/gpt-4o`.
    pub level: String,
    /// Completed runs with a value.
    pub n: usize,
    /// Mean over those runs.
    pub mean: Option<f64>,
    /// 95% CI of that mean.
    pub ci95: Option<(f64, f64)>,
    /// Mean of the cell (variation) means at this level.
    pub marginal_mean: Option<f64>,
}

/// The effect of one factor on one metric.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct FactorEffect {
    /// The factor, e.g. `regulator.model` or `turns`.
    pub factor: String,
    /// The metric.
    pub metric: String,
    /// Its levels; the first is the reference.
    pub levels: Vec<LevelStats>,
    /// The test of the factor as a whole.
    pub test: Option<Test>,
    /// Which test: `welch_anova` or `two_way_anova_type3` (independent runs),
    /// `rm_anova` or `rm_anova_two_way` (paired: repeated measures over blocks).
    pub test_kind: &'static str,
    /// Paired design: the blocks complete in every cell of the factor (used) and not (dropped).
    pub blocks: Option<BlockUse>,
    /// Each other level against the reference (Holm-adjusted within the factor and metric). In
    /// these pairs `a` and `b` are indices into `levels` (`a` is 0, the reference).
    pub contrasts: Vec<Pair>,
    /// The largest |Hedges' g| among the contrasts: what the factors are ranked by.
    pub effect_size: Option<f64>,
    /// Plain-language findings.
    pub verdicts: Vec<String>,
}

/// A level's success rate against the reference level's.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SuccessFactor {
    /// The factor.
    pub factor: String,
    /// The level.
    pub level: String,
    /// The reference level.
    pub reference: String,
    /// Success rate at the level.
    pub success_rate: f64,
    /// Its Wilson 95% CI.
    pub success_ci95: Option<(f64, f64)>,
    /// Success rate at the reference.
    pub reference_rate: f64,
    /// Fisher's exact p, Holm-adjusted over all level contrasts.
    pub fisher_p_adj: f64,
    /// Plain language.
    pub verdict: String,
}

/// An interaction of two factors on one metric.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Interaction {
    /// The two factors.
    pub factors: (String, String),
    /// The metric.
    pub metric: String,
    /// The interaction test of the two-way ANOVA.
    pub test: Test,
    /// Which ANOVA: `two_way_anova_type3` or `rm_anova_two_way`.
    pub test_kind: &'static str,
    /// Paired design: the blocks complete in every cell (used) and not (dropped), also when
    /// they were too few for the repeated-measures form.
    pub blocks: Option<BlockUse>,
    /// p < 0.05.
    pub flagged: bool,
    /// Cell means: rows are levels of the first factor, columns of the second.
    pub cell_means: Vec<Vec<Option<f64>>>,
    /// Levels of the first and second factor.
    pub levels: (Vec<String>, Vec<String>),
}

/// How runs ended other than by completing.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct FailureMode {
    /// `halted`, `failed`, `running` (interrupted) or `other`.
    pub status: &'static str,
    /// The halt reason or error, when recorded.
    pub reason: Option<String>,
    /// Runs.
    pub count: usize,
    /// Share of all runs.
    pub share: f64,
    /// Variations where it happened.
    pub variations: Vec<u64>,
}

/// Cost efficiency of one variation (the original's key is `runs_per_dollar`).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CostEfficiency {
    /// The variation.
    pub variation_id: u64,
    /// Its description.
    pub description: String,
    /// Mean cost per run (USD).
    pub cost_per_run: f64,
    /// Cost per successful run; null without successes.
    pub cost_per_successful_run: Option<f64>,
    /// Successful runs per dollar; null when nothing was spent.
    pub runs_per_dollar: Option<f64>,
    /// Each metric's mean per dollar of run cost; null when nothing was spent.
    pub metric_per_dollar: BTreeMap<String, Option<f64>>,
}

/// How many runs are enough, for one metric.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SampleSize {
    /// Pooled within-variation standard deviation.
    pub pooled_sd: Option<f64>,
    /// The fewest completed runs with a value in any variation.
    pub runs_per_variation_now: usize,
    /// The 95% CI half-width of a variation mean at that size.
    pub half_width_now: Option<f64>,
    /// The half-width aimed at.
    pub target_half_width: Option<f64>,
    /// Where the target came from.
    pub target_source: String,
    /// Runs per variation for that half-width.
    pub runs_for_target: Option<usize>,
    /// The smallest non-zero |Hedges' g| between two variations.
    pub smallest_effect: Option<f64>,
    /// Runs per variation to detect it with 80% power at α = 0.05 (two-sided t test).
    pub runs_for_80_power: Option<usize>,
}

/// The best variation by success rate.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Best {
    /// Its id (the lowest id among ties).
    pub variation_id: u64,
    /// Its success rate.
    pub success_rate: f64,
}

/// `patterns.json`.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Patterns {
    /// The design found (paired or independent), and a sequential stopping rule's record.
    pub design: Design,
    /// What success means here.
    pub success_definition: String,
    /// Runs found.
    pub total_runs: usize,
    /// Runs that completed.
    pub completed_runs: usize,
    /// Runs that succeeded.
    pub successful_runs: usize,
    /// Runs that did not succeed (the original's key).
    pub failed_runs: usize,
    /// Runs by status.
    pub statuses: BTreeMap<&'static str, usize>,
    /// successful / total.
    pub success_rate: f64,
    /// Wilson 95% CI.
    pub success_ci95: Option<(f64, f64)>,
    /// Highest success rate.
    pub best_variation: Option<Best>,
    /// Factor levels whose success rate differs from the reference level's.
    pub success_factors: Vec<SuccessFactor>,
    /// Why runs did not complete, most common first.
    pub failure_modes: Vec<FailureMode>,
    /// Per variation, ranked by successful runs per dollar.
    pub cost_efficiency: Vec<CostEfficiency>,
    /// The varied factors and their levels.
    pub factor_levels: BTreeMap<String, Vec<String>>,
    /// Main effects, ranked by effect size (largest first).
    pub factor_effects: Vec<FactorEffect>,
    /// Interactions (two-factor designs).
    pub interactions: Vec<Interaction>,
    /// Variation against variation, per metric.
    pub comparisons: BTreeMap<String, MetricComparison>,
    /// Success rates, variation against variation.
    pub success_comparisons: Vec<SuccessPair>,
    /// Per metric.
    pub sample_size: BTreeMap<String, SampleSize>,
}

/// Levels of each factor that takes more than one value, in order of first appearance.
fn factor_levels(c: &Collected) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for v in &c.variations {
        for (f, level) in &v.factors {
            let levels = out.entry(f.clone()).or_default();
            if !levels.contains(level) {
                levels.push(level.clone());
            }
        }
    }
    out.retain(|_, levels| levels.len() > 1);
    out
}

/// The level index of each variation for `factor` (None when the variation lacks it).
fn level_of(c: &Collected, factor: &str, levels: &[String]) -> Vec<Option<usize>> {
    c.variations
        .iter()
        .map(|v| {
            v.factors
                .get(factor)
                .and_then(|l| levels.iter().position(|x| x == l))
        })
        .collect()
}

/// What the patterns are computed from, beside the collected runs.
pub struct Found<'a> {
    /// The completed runs' final values.
    pub values: &'a FinalValues,
    /// The variations' statistics.
    pub variations: &'a [VariationStats],
    /// The runs by run number, in a paired design.
    pub by_run: Option<&'a ByRun>,
}

/// A varied factor: its name, its levels, and the level of each variation.
struct Factor<'a> {
    name: &'a str,
    levels: &'a [String],
    of: Vec<Option<usize>>,
}

/// Computes every pattern.
pub fn patterns(
    c: &Collected,
    found: &Found,
    comparisons: BTreeMap<String, MetricComparison>,
    design: Design,
    half_width: Option<f64>,
) -> Patterns {
    let (by_metric, vs) = (found.values, found.variations);
    let total_runs = c.rows.len();
    let successful_runs = c.rows.iter().filter(|r| r.success).count();
    let mut statuses = BTreeMap::new();
    for r in &c.rows {
        *statuses.entry(r.status.as_str()).or_default() += 1;
    }
    let best_variation = vs
        .iter()
        .filter(|v| v.total_runs > 0)
        .fold(None::<&VariationStats>, |best, v| match best {
            Some(b) if b.success_rate >= v.success_rate => Some(b),
            _ => Some(v),
        })
        .map(|v| Best {
            variation_id: v.variation_id,
            success_rate: v.success_rate,
        });
    let levels = factor_levels(c);
    let mut factor_effects = Vec::new();
    let mut interactions = Vec::new();
    let factors: Vec<Factor> = levels
        .iter()
        .map(|(name, lv)| Factor {
            name,
            levels: lv,
            of: level_of(c, name, lv),
        })
        .collect();
    for factor in &factors {
        for m in 0..c.metrics.len() {
            factor_effects.push(factor_effect(c, factor, m, found));
        }
    }
    if factors.len() == 2 {
        for m in 0..c.metrics.len() {
            let Some((interaction, tests)) = two_way(c, (&factors[0], &factors[1]), m, found)
            else {
                continue;
            };
            for effect in factor_effects
                .iter_mut()
                .filter(|e| e.metric == interaction.metric)
            {
                let test = if effect.factor == factors[0].name {
                    &tests.a
                } else {
                    &tests.b
                };
                effect.test = Some(test.clone());
                effect.test_kind = interaction.test_kind;
                if interaction.blocks.is_some() {
                    effect.blocks = interaction.blocks;
                }
            }
            interactions.push(interaction);
        }
    }
    factor_effects.sort_by(|x, y| {
        y.effect_size
            .unwrap_or(-1.0)
            .total_cmp(&x.effect_size.unwrap_or(-1.0))
            .then_with(|| x.factor.cmp(&y.factor))
            .then_with(|| x.metric.cmp(&y.metric))
    });
    let sample_size = c
        .metrics
        .iter()
        .enumerate()
        .map(|(m, name)| {
            (
                name.clone(),
                sample_size(&by_metric[m], comparisons.get(name), half_width),
            )
        })
        .collect();
    Patterns {
        success_definition: match &c.success {
            Some(cond) => format!(
                "the run completed and `{}` holds on its final metrics",
                cond.text()
            ),
            None => "the run completed".into(),
        },
        total_runs,
        completed_runs: c
            .rows
            .iter()
            .filter(|r| r.status == Status::Completed)
            .count(),
        successful_runs,
        failed_runs: total_runs - successful_runs,
        statuses,
        success_rate: if total_runs > 0 {
            successful_runs as f64 / total_runs as f64
        } else {
            0.0
        },
        success_ci95: stats::wilson(successful_runs, total_runs, 0.95),
        best_variation,
        success_factors: success_factors(c, &levels),
        failure_modes: failure_modes(c),
        cost_efficiency: cost_efficiency(c, vs),
        factor_levels: levels,
        factor_effects,
        interactions,
        success_comparisons: compute::compare_success(vs, found.by_run),
        comparisons,
        sample_size,
        design,
    }
}

/// The two-way ANOVA of two factors on metric `m` (repeated-measures in a paired design, when
/// it can be made), as the interaction and the ANOVA's three tests.
fn two_way(
    c: &Collected,
    (fa, fb): (&Factor, &Factor),
    m: usize,
    found: &Found,
) -> Option<(Interaction, TwoWay)> {
    let mut cells = vec![vec![Vec::new(); fb.levels.len()]; fa.levels.len()];
    for (v, values) in found.values[m].iter().enumerate() {
        if let (Some(i), Some(j)) = (fa.of[v], fb.of[v]) {
            cells[i][j].extend_from_slice(values);
        }
    }
    let blocked = found.by_run.map(|r| two_way_blocks(r, m, fa, fb));
    let rm = blocked
        .as_ref()
        .and_then(|(blocks, _)| stats::rm_anova_two_way(blocks.as_ref()?));
    let (anova, test_kind) = match rm {
        Some(anova) => (anova, "rm_anova_two_way"),
        None => (stats::two_way_anova(&cells)?, "two_way_anova_type3"),
    };
    let interaction = Interaction {
        factors: (fa.name.to_string(), fb.name.to_string()),
        metric: c.metrics[m].clone(),
        flagged: anova.interaction.p < ALPHA,
        test: anova.interaction.clone(),
        test_kind,
        blocks: blocked.map(|(_, usage)| usage),
        cell_means: cells
            .iter()
            .map(|row| row.iter().map(|cell| mean(cell)).collect())
            .collect(),
        levels: (fa.levels.to_vec(), fb.levels.to_vec()),
    };
    Some((interaction, anova))
}

/// The blocks of a two-factor design on metric `m`: `[block][i][j]`, each block's mean over
/// the variations at level i of `fa` and j of `fb`; `None` when a combination has no
/// variation.
fn two_way_blocks(
    r: &ByRun,
    m: usize,
    fa: &Factor,
    fb: &Factor,
) -> (Option<Vec<Vec<Vec<f64>>>>, BlockUse) {
    let nb = fb.levels.len();
    let (involved, cell_of): (Vec<usize>, Vec<usize>) = (0..fa.of.len())
        .filter_map(|v| Some((v, fa.of[v]? * nb + fb.of[v]?)))
        .unzip();
    let blocks = r.blocks(m, &involved);
    let means = blocks
        .group_means(&cell_of, fa.levels.len() * nb)
        .map(|rows| {
            rows.into_iter()
                .map(|row| row.chunks(nb).map(<[f64]>::to_vec).collect())
                .collect()
        });
    (means, blocks.usage())
}

/// The blocks of one factor on metric `m`: `[block][level]`, each block's mean over the
/// variations at each level.
fn factor_blocks(r: &ByRun, m: usize, factor: &Factor) -> (Option<Vec<Vec<f64>>>, BlockUse) {
    let (involved, level_of): (Vec<usize>, Vec<usize>) = (0..factor.of.len())
        .filter_map(|v| Some((v, factor.of[v]?)))
        .unzip();
    let blocks = r.blocks(m, &involved);
    (
        blocks.group_means(&level_of, factor.levels.len()),
        blocks.usage(),
    )
}

fn factor_effect(c: &Collected, factor: &Factor, m: usize, found: &Found) -> FactorEffect {
    let levels = factor.levels;
    let mut pooled = vec![Vec::new(); levels.len()];
    let mut cell_means = vec![Vec::new(); levels.len()];
    for (v, values) in found.values[m].iter().enumerate() {
        if let Some(l) = factor.of[v] {
            pooled[l].extend_from_slice(values);
            if let Some(m) = mean(values) {
                cell_means[l].push(m);
            }
        }
    }
    let level_stats = levels
        .iter()
        .enumerate()
        .map(|(l, level)| {
            let s = stats::describe(&pooled[l]);
            LevelStats {
                level: level.clone(),
                n: pooled[l].len(),
                mean: s.as_ref().map(|s| s.mean),
                ci95: s.and_then(|s| s.ci95),
                marginal_mean: mean(&cell_means[l]),
            }
        })
        .collect();
    let blocked = found.by_run.map(|r| factor_blocks(r, m, factor));
    let block_means = blocked.as_ref().and_then(|(means, _)| means.as_ref());
    let mut contrasts: Vec<Pair> = (1..levels.len())
        .filter_map(|l| {
            let mut pair = compare_groups(0, &pooled[0], l as u64, &pooled[l])?;
            if let Some(means) = block_means {
                let (a, b): (Vec<f64>, Vec<f64>) = means.iter().map(|row| (row[0], row[l])).unzip();
                pair.pair_up(&a, &b);
            }
            Some(pair)
        })
        .collect();
    compute::adjust(&mut contrasts);
    let metric = &c.metrics[m];
    let verdicts = contrasts
        .iter()
        .filter_map(|p| {
            let a = format!("{} = {}", factor.name, levels[p.a as usize]);
            let b = format!("{} = {}", factor.name, levels[p.b as usize]);
            compute::verdict(metric, &a, &b, p)
        })
        .collect();
    let (test, test_kind) = match block_means.and_then(|b| stats::rm_anova_one_way(b)) {
        Some(t) => (Some(t), "rm_anova"),
        None => (welch_anova(&pooled), "welch_anova"),
    };
    FactorEffect {
        factor: factor.name.to_string(),
        metric: metric.clone(),
        levels: level_stats,
        test,
        test_kind,
        blocks: blocked.map(|(_, usage)| usage),
        effect_size: contrasts
            .iter()
            .filter_map(|p| p.hedges_g.as_ref().map(|g| g.g.abs()))
            .reduce(f64::max),
        contrasts,
        verdicts,
    }
}

/// Welch's ANOVA over the groups with at least two values.
fn welch_anova(groups: &[Vec<f64>]) -> Option<Test> {
    let groups: Vec<&[f64]> = groups
        .iter()
        .filter(|g| g.len() >= 2)
        .map(Vec::as_slice)
        .collect();
    (groups.len() >= 2)
        .then(|| stats::welch_anova(&groups))
        .flatten()
}

fn success_factors(c: &Collected, levels: &BTreeMap<String, Vec<String>>) -> Vec<SuccessFactor> {
    let mut out = Vec::new();
    let mut ps = Vec::new();
    for (factor, lv) in levels {
        let of = level_of(c, factor, lv);
        let mut counts = vec![(0usize, 0usize); lv.len()];
        for r in &c.rows {
            if let Some(l) = of[r.variation()] {
                counts[l].0 += usize::from(r.success);
                counts[l].1 += 1;
            }
        }
        let (s0, n0) = counts[0];
        for (l, &(s, n)) in counts.iter().enumerate().skip(1) {
            if n == 0 || n0 == 0 {
                continue;
            }
            let p = stats::fisher_exact(s as u64, (n - s) as u64, s0 as u64, (n0 - s0) as u64);
            ps.push(p);
            out.push(SuccessFactor {
                factor: factor.clone(),
                level: lv[l].clone(),
                reference: lv[0].clone(),
                success_rate: s as f64 / n as f64,
                success_ci95: stats::wilson(s, n, 0.95),
                reference_rate: s0 as f64 / n0 as f64,
                fisher_p_adj: p,
                verdict: String::new(),
            });
        }
    }
    for (f, p) in out.iter_mut().zip(stats::holm(&ps)) {
        f.fisher_p_adj = p;
        let pct = |x: f64| format!("{:.0}%", x * 100.0);
        f.verdict = format!(
            "{} = {} succeeds in {} of runs against {} for {} (Fisher p_adj {}{})",
            f.factor,
            f.level,
            pct(f.success_rate),
            pct(f.reference_rate),
            f.reference,
            pval(p),
            if p < ALPHA { "" } else { ", not significant" }
        );
    }
    out.retain(|f| f.success_rate != f.reference_rate);
    out.sort_by(|x, y| x.fisher_p_adj.total_cmp(&y.fisher_p_adj));
    out
}

fn failure_modes(c: &Collected) -> Vec<FailureMode> {
    // (status, reason) → (runs, variations where it happened)
    type Mode = (&'static str, Option<String>);
    let mut modes: BTreeMap<Mode, (usize, Vec<u64>)> = BTreeMap::new();
    for r in c.rows.iter().filter(|r| r.status != Status::Completed) {
        let entry = modes
            .entry((r.status.as_str(), r.reason.as_deref().map(String::from)))
            .or_default();
        entry.0 += 1;
        let id = c.variations[r.variation()].id;
        if !entry.1.contains(&id) {
            entry.1.push(id);
        }
    }
    let total = c.rows.len().max(1) as f64;
    let mut out: Vec<FailureMode> = modes
        .into_iter()
        .map(|((status, reason), (count, variations))| FailureMode {
            status,
            reason,
            count,
            share: count as f64 / total,
            variations,
        })
        .collect();
    out.sort_by_key(|m| std::cmp::Reverse(m.count));
    out
}

fn cost_efficiency(c: &Collected, vs: &[VariationStats]) -> Vec<CostEfficiency> {
    let mut out: Vec<CostEfficiency> = vs
        .iter()
        .filter(|v| v.total_runs > 0)
        .map(|v| CostEfficiency {
            variation_id: v.variation_id,
            description: v.description.clone(),
            cost_per_run: v.cost.mean,
            cost_per_successful_run: v.cost.per_successful_run,
            runs_per_dollar: (v.cost.total > 0.0).then(|| v.successful_runs as f64 / v.cost.total),
            metric_per_dollar: c
                .metrics
                .iter()
                .map(|m| {
                    let per = v
                        .metrics
                        .get(m)
                        .filter(|_| v.cost.mean > 0.0)
                        .map(|s| s.mean / v.cost.mean);
                    (m.clone(), per)
                })
                .collect(),
        })
        .collect();
    out.sort_by(|x, y| {
        y.runs_per_dollar
            .unwrap_or(-1.0)
            .total_cmp(&x.runs_per_dollar.unwrap_or(-1.0))
            .then(x.variation_id.cmp(&y.variation_id))
    });
    out
}

fn sample_size(
    groups: &[Vec<f64>],
    comparison: Option<&MetricComparison>,
    half_width: Option<f64>,
) -> SampleSize {
    let with_values: Vec<&Vec<f64>> = groups.iter().filter(|g| !g.is_empty()).collect();
    // Pooled variance: Σ (n_i − 1) s_i² / Σ (n_i − 1).
    let (mut ss, mut df) = (0.0, 0usize);
    for g in &with_values {
        if let Some(s) = stats::describe(g).and_then(|s| s.sd) {
            ss += s * s * (g.len() - 1) as f64;
            df += g.len() - 1;
        }
    }
    let pooled_sd = (df > 0).then(|| (ss / df as f64).sqrt());
    let now = with_values.iter().map(|g| g.len()).min().unwrap_or(0);
    let all: Vec<f64> = with_values.iter().flat_map(|g| g.iter().copied()).collect();
    let range = all
        .iter()
        .copied()
        .reduce(f64::max)
        .zip(all.iter().copied().reduce(f64::min))
        .map(|(hi, lo)| hi - lo);
    let (target, source) = match half_width {
        Some(h) => (Some(h), "given (--half-width)".to_string()),
        None => (
            range.filter(|r| *r > 0.0).map(|r| r * 0.05),
            "5% of the observed range of final values".to_string(),
        ),
    };
    let smallest_effect = comparison.and_then(|cmp| {
        cmp.pairs
            .iter()
            .filter_map(|p| p.hedges_g.as_ref().map(|g| g.g.abs()))
            .filter(|g| *g > 0.0)
            .reduce(f64::min)
    });
    SampleSize {
        pooled_sd,
        runs_per_variation_now: now,
        half_width_now: pooled_sd
            .and_then(|sd| stats::mean_ci(now, 0.0, sd, 0.95))
            .map(|(_, hi)| hi),
        target_half_width: target,
        target_source: source,
        runs_for_target: pooled_sd
            .zip(target)
            .and_then(|(sd, h)| stats::n_for_half_width(sd, h, 0.95)),
        runs_for_80_power: smallest_effect.and_then(|d| stats::n_for_power(d, 0.05, 0.8)),
        smallest_effect,
    }
}

/// Sentences for a factor effect that is not significant, for the report.
pub fn no_effect(e: &FactorEffect) -> Option<String> {
    let t = e.test.as_ref()?;
    (t.p >= ALPHA).then(|| {
        format!(
            "{} has no clear effect on {} ({} p {})",
            e.factor,
            e.metric,
            test_name(e.test_kind),
            pval(t.p)
        )
    })
}

/// A factor test's name for a sentence.
pub fn test_name(kind: &str) -> &'static str {
    match kind {
        "welch_anova" => "Welch ANOVA",
        "two_way_anova_type3" => "two-way ANOVA",
        "rm_anova" => "repeated-measures ANOVA",
        "rm_anova_two_way" => "two-way repeated-measures ANOVA",
        _ => "test",
    }
}
