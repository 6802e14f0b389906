//! The report's content, once, as a list of blocks; rendered to Markdown here and to HTML by
//! [`super::html`]. Every sentence and table of `analysis-report.md` and `report.html` comes from
//! [`document`], so the two cannot say different things.

use super::charts;
use super::collect::Collected;
use super::compute::{num, pval, FinalValues, MetricComparison, Pair, ALPHA};
use super::design::{BlockUse, Design};
use super::patterns::{no_effect, test_name};
use super::sequential;
use super::Analysis;

/// A piece of the report.
#[derive(Clone, Debug)]
pub enum Block {
    /// A heading of level 1–3.
    Heading(u8, String),
    /// A paragraph of plain text.
    Para(String),
    /// `**Label:** value` lines.
    Fields(Vec<(String, String)>),
    /// A bulleted list.
    Bullets(Vec<String>),
    /// A table: header and rows of cells.
    Table(Vec<String>, Vec<Vec<String>>),
    /// An SVG chart (HTML only) with its caption.
    Chart(String, String),
}

/// A table with this header.
fn table(head: &[&str], rows: Vec<Vec<String>>) -> Block {
    Block::Table(head.iter().map(|h| h.to_string()).collect(), rows)
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn ci(ci: Option<(f64, f64)>) -> String {
    ci.map(|(lo, hi)| format!("{} to {}", num(lo), num(hi)))
        .unwrap_or_else(|| "–".into())
}

fn pct_ci(ci: Option<(f64, f64)>) -> String {
    ci.map(|(lo, hi)| format!("{} to {}", pct(lo), pct(hi)))
        .unwrap_or_else(|| "–".into())
}

fn usd(x: f64) -> String {
    if x == 0.0 {
        "$0".into()
    } else if x.abs() >= 1.0 {
        format!("${x:.2}")
    } else {
        format!("${x:.4}")
    }
}

/// The whole report. `c` supplies the raw values that the charts plot.
pub fn document(a: &Analysis, c: &Collected, values: &FinalValues) -> Vec<Block> {
    let p = &a.patterns;
    let mut doc = vec![Block::Heading(1, "Batch Analysis Report".into())];
    let mut fields = Vec::new();
    if let Some(name) = &a.experiment {
        fields.push(("Experiment".into(), name.clone()));
    }
    fields.extend([
        (
            "Source".into(),
            format!("{} ({})", a.source, format_name(a)),
        ),
        ("Total Runs".into(), p.total_runs.to_string()),
        (
            "Runs by Status".into(),
            p.statuses
                .iter()
                .map(|(s, n)| format!("{n} {s}"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("Successful Runs".into(), p.successful_runs.to_string()),
        ("Unsuccessful Runs".into(), p.failed_runs.to_string()),
        (
            "Success Rate".into(),
            format!(
                "{} (95% CI {})",
                pct(p.success_rate),
                pct_ci(p.success_ci95)
            ),
        ),
        ("Success means".into(), p.success_definition.clone()),
    ]);
    let total_cost: f64 = a.variations.iter().map(|v| v.cost.total).sum();
    fields.push(("Total Cost".into(), usd(total_cost)));
    doc.push(Block::Fields(fields));

    design(a, &mut doc);
    findings(a, &mut doc);

    doc.push(Block::Heading(2, "Overall Metrics".into()));
    if a.metrics.is_empty() {
        doc.push(Block::Para(
            "No completed run recorded a numeric metric.".into(),
        ));
    } else {
        doc.push(Block::Para(
            "Final values of the completed runs: mean with its 95% confidence interval (Student t), \
             standard deviation, median with the interquartile range, and range."
                .into(),
        ));
        let rows = a
            .metrics
            .iter()
            .map(|(name, s)| {
                vec![
                    name.clone(),
                    s.count.to_string(),
                    num(s.mean),
                    ci(s.ci95),
                    s.sd.map(num).unwrap_or_else(|| "–".into()),
                    num(s.median),
                    format!("{} to {}", num(s.q1), num(s.q3)),
                    format!("[{}, {}]", num(s.min), num(s.max)),
                ]
            })
            .collect();
        doc.push(table(
            &[
                "Metric", "n", "Mean", "95% CI", "SD", "Median", "IQR", "Range",
            ],
            rows,
        ));
        for (m, name) in c.metrics.iter().enumerate() {
            if a.metrics.contains_key(name) {
                doc.push(Block::Chart(
                    charts::strip(c, m, &values[m], &a.variations),
                    format!("{name}: final value of each completed run by variation, with the mean and its 95% CI"),
                ));
                doc.push(Block::Chart(
                    charts::trajectory(name, &a.variations),
                    format!("{name}: mean over turns by variation, with 95% CI bands"),
                ));
            }
        }
    }

    variations(a, &mut doc);
    factors(a, &mut doc);
    comparisons(a, &mut doc);
    failures(a, &mut doc);
    costs(a, &mut doc);
    sample_sizes(a, &mut doc);
    problems(a, &mut doc);
    methods(&a.patterns.design, &mut doc);
    doc
}

/// The Design section: which design the runs follow, which tests that chose, what pairing
/// gained per metric, and a sequential stopping rule's outcome.
fn design(a: &Analysis, doc: &mut Vec<Block>) {
    let d = &a.patterns.design;
    doc.push(Block::Heading(2, "Design".into()));
    doc.push(Block::Para(format!("{} {}", d.summary, tests_used(d))));
    if d.is_paired() {
        let gains: Vec<String> = a
            .patterns
            .comparisons
            .iter()
            .filter_map(|(metric, cmp)| gain_sentence(metric, cmp))
            .collect();
        if !gains.is_empty() {
            doc.push(Block::Bullets(gains));
        }
    }
    if let Some(record) = &d.stopping {
        for sentence in sequential::sentences(record, d.sequential.as_ref()) {
            doc.push(Block::Para(sentence));
        }
        if !record.looks.is_empty() {
            doc.push(table(
                &[
                    "Look",
                    "Runs",
                    "Pairs",
                    "z",
                    "Stop for efficacy at |z| ≥",
                    "Stop for futility at |z| <",
                    "Decision",
                    "Adjusted p",
                ],
                sequential::look_rows(record),
            ));
        }
    }
}

/// The tests the design chose, in a sentence.
fn tests_used(d: &Design) -> &'static str {
    if d.is_paired() {
        "Variations are therefore compared within pairs, on the runs matched by run number: the \
         paired t test with its 95% CI, the Wilcoxon signed-rank test and d_z, and McNemar's \
         exact test for success, each Holm-adjusted across the comparisons; the verdicts rest on \
         the paired t test. Factor effects use repeated-measures ANOVA over the blocks complete \
         in every cell. The unpaired tests (Welch, Mann-Whitney, Hedges' g, Fisher) are kept \
         beside them for comparison."
    } else {
        "Variations are compared as independent samples: Welch's t test, the Mann-Whitney U test \
         and Hedges' g, and Fisher's exact test for success; factor effects use Welch's ANOVA \
         (with two factors, a two-way ANOVA)."
    }
}

/// "trust: pairing removed 79% of the variance (...)".
fn gain_sentence(metric: &str, cmp: &MetricComparison) -> Option<String> {
    let g = cmp.pairing_gain.as_ref()?;
    let (ratio, removed) = (g.ratio?, g.removed?);
    let what = if removed >= 0.0 {
        format!("pairing removed {:.0}% of the variance", removed * 100.0)
    } else {
        format!("pairing added {:.0}% to the variance", -removed * 100.0)
    };
    Some(format!(
        "{metric}: {what}: the within-pair differences have variance {} against {} for independent runs (var(a) + var(b) on the same matched runs), a ratio of {} over {} comparison{} ({} pairs).",
        num(g.paired_variance),
        num(g.unpaired_variance),
        num(ratio),
        g.comparisons,
        if g.comparisons == 1 { "" } else { "s" },
        g.pairs
    ))
}

/// The test a pair's verdict rests on, for a table cell.
fn pair_test_name(pair: &Pair) -> &'static str {
    if pair.verdict_test == "paired_t" {
        "paired t"
    } else {
        "Welch"
    }
}

/// "12 complete blocks (2 dropped as incomplete)".
fn blocks_text(u: BlockUse) -> String {
    let dropped = match u.dropped {
        0 => String::new(),
        n => format!(" ({n} dropped as incomplete)"),
    };
    format!(
        "{} complete block{}{dropped}",
        u.used,
        if u.used == 1 { "" } else { "s" }
    )
}

fn format_name(a: &Analysis) -> &'static str {
    use super::collect::Format::*;
    match a.format {
        ScenarioLab => "Scenario Lab output",
        OriginalV1 => "original Scenario Lab output, V1 run files",
        OriginalV2 => "original Scenario Lab output, V2 run files",
        Mixed => "runs of more than one format",
        Unknown => "no readable run",
    }
}

fn findings(a: &Analysis, doc: &mut Vec<Block>) {
    let p = &a.patterns;
    let mut items: Vec<String> = Vec::new();
    for e in &p.factor_effects {
        items.extend(e.verdicts.iter().cloned());
    }
    for i in p.interactions.iter().filter(|i| i.flagged) {
        items.push(format!(
            "The effect of {} on {} depends on {} (interaction F = {}, p {})",
            i.factors.0,
            i.metric,
            i.factors.1,
            num(i.test.statistic),
            pval(i.test.p)
        ));
    }
    for f in p.success_factors.iter().filter(|f| f.fisher_p_adj < ALPHA) {
        items.push(f.verdict.clone());
    }
    if p.factor_effects.is_empty() {
        for cmp in p.comparisons.values() {
            items.extend(cmp.verdicts.iter().take(5).cloned());
        }
    }
    doc.push(Block::Heading(2, "Key Findings".into()));
    if items.is_empty() {
        let why = if a.variations.len() < 2 {
            "There is one variation, so there is nothing to compare; see the metric statistics below."
        } else {
            "No difference between variations or factor levels is significant at p_adj < 0.05."
        };
        doc.push(Block::Para(why.into()));
    } else {
        doc.push(Block::Bullets(items));
    }
}

fn variations(a: &Analysis, doc: &mut Vec<Block>) {
    doc.push(Block::Heading(2, "Variation Comparison".into()));
    for v in &a.variations {
        doc.push(Block::Heading(3, format!("Variation {}", v.variation_id)));
        let mut fields = vec![("Configuration".into(), v.description.clone())];
        fields.push((
            "Runs".into(),
            format!(
                "{}/{} successful ({}, 95% CI {}); {} completed",
                v.successful_runs,
                v.total_runs,
                pct(v.success_rate),
                pct_ci(v.success_ci95),
                v.completed_runs
            ),
        ));
        fields.push((
            "Cost".into(),
            format!("{} total, {} per run", usd(v.cost.total), usd(v.cost.mean)),
        ));
        doc.push(Block::Fields(fields));
        if !v.metrics.is_empty() {
            let rows = v
                .metrics
                .iter()
                .map(|(name, s)| {
                    vec![
                        name.clone(),
                        s.count.to_string(),
                        format!("{} (±{})", num(s.mean), num(s.stdev)),
                        ci(s.ci95),
                        num(s.median),
                    ]
                })
                .collect();
            doc.push(table(
                &["Metric", "n", "Mean (±SD)", "95% CI", "Median"],
                rows,
            ));
        }
    }
}

fn factors(a: &Analysis, doc: &mut Vec<Block>) {
    let p = &a.patterns;
    if p.factor_levels.is_empty() {
        return;
    }
    doc.push(Block::Heading(2, "What Changed the Outcome".into()));
    let paired = p.design.is_paired();
    let how = if paired {
        " In this paired design each level is compared with the first within blocks (the block's mean over the level's variations; paired t), and each factor is tested by a repeated-measures ANOVA over the blocks complete in every cell of the factor."
    } else if p.interactions.is_empty() {
        ""
    } else {
        " With two factors, each factor's test is a two-way ANOVA (Type III) that also tests their interaction."
    };
    doc.push(Block::Para(format!(
        "Each varied factor's levels against its first level, pooled over the other factors, \
         ranked by effect size (Hedges' g).{how}"
    )));
    let rows = p
        .factor_effects
        .iter()
        .flat_map(|e| {
            e.contrasts.iter().map(move |c| {
                let h = c.headline();
                vec![
                    e.factor.clone(),
                    e.metric.clone(),
                    format!("{} vs {}", e.levels[c.b as usize].level, e.levels[0].level),
                    num(h.difference),
                    ci(h.ci95),
                    c.hedges_g
                        .as_ref()
                        .map(|g| num(g.g))
                        .unwrap_or_else(|| "–".into()),
                    h.p_adj
                        .map(|p| format!("{} p {}", pair_test_name(c), pval(p)))
                        .unwrap_or_else(|| "–".into()),
                    e.test
                        .as_ref()
                        .map(|t| format!("{} p {}", test_name(e.test_kind), pval(t.p)))
                        .unwrap_or_else(|| "–".into()),
                ]
            })
        })
        .collect::<Vec<_>>();
    doc.push(table(
        &[
            "Factor",
            "Metric",
            "Level",
            "Difference",
            "95% CI",
            "Hedges' g",
            "Level test p_adj",
            "Factor test",
        ],
        rows,
    ));
    let dropped: Vec<String> = p
        .factor_effects
        .iter()
        .filter_map(|e| {
            let u = e.blocks?;
            Some(format!(
                "{} on {}: {}{}",
                e.factor,
                e.metric,
                blocks_text(u),
                if e.test_kind.starts_with("rm_") {
                    String::new()
                } else {
                    format!(
                        "; no repeated-measures F (fewer than two complete blocks, or no variation left within them): {} used",
                        test_name(e.test_kind)
                    )
                }
            ))
        })
        .collect();
    if !dropped.is_empty() {
        doc.push(Block::Bullets(dropped));
    }
    doc.push(Block::Chart(
        charts::effects(&p.factor_effects),
        "Factor effects: Hedges' g of each level against the reference level, with 95% CI".into(),
    ));
    let quiet: Vec<String> = p.factor_effects.iter().filter_map(no_effect).collect();
    if !quiet.is_empty() {
        doc.push(Block::Bullets(quiet));
    }
    for i in &p.interactions {
        doc.push(Block::Para(format!(
            "Interaction of {} and {} on {} ({}): F({}, {}) = {}, p {}{}.",
            i.factors.0,
            i.factors.1,
            i.metric,
            test_name(i.test_kind),
            i.test.df.map(num).unwrap_or_default(),
            i.test.df2.map(num).unwrap_or_default(),
            num(i.test.statistic),
            pval(i.test.p),
            if i.flagged {
                " (flagged: the effect of one depends on the other)"
            } else {
                ""
            }
        )));
    }
}

fn comparisons(a: &Analysis, doc: &mut Vec<Block>) {
    let p = &a.patterns;
    if a.variations.len() < 2 {
        return;
    }
    doc.push(Block::Heading(2, "Differences Between Variations".into()));
    for (metric, cmp) in &p.comparisons {
        doc.push(Block::Heading(3, metric.clone()));
        let mut lines = Vec::new();
        if let (Some(t), Some(u)) = (&cmp.rm_anova, cmp.blocks) {
            lines.push(format!(
                "Repeated-measures ANOVA over {}: F({}, {}) = {}, p {}",
                blocks_text(u),
                t.df.map(num).unwrap_or_default(),
                t.df2.map(num).unwrap_or_default(),
                num(t.statistic),
                pval(t.p)
            ));
        }
        if let Some(t) = &cmp.welch_anova {
            lines.push(format!(
                "Welch's ANOVA: F({}, {}) = {}, p {}",
                t.df.map(num).unwrap_or_default(),
                t.df2.map(num).unwrap_or_default(),
                num(t.statistic),
                pval(t.p)
            ));
        }
        if let Some(t) = &cmp.kruskal_wallis {
            lines.push(format!(
                "Kruskal-Wallis: H({}) = {}, p {}",
                t.df.map(num).unwrap_or_default(),
                num(t.statistic),
                pval(t.p)
            ));
        }
        if !cmp.all_pairs {
            lines.push("More than 40 variations: each is compared with variation 1 only.".into());
        }
        let shown = cmp.verdicts.len().min(10);
        lines.extend(cmp.verdicts.iter().take(shown).cloned());
        if cmp.verdicts.len() > shown {
            lines.push(format!(
                "… and {} more significant pairs (patterns.json has them all)",
                cmp.verdicts.len() - shown
            ));
        }
        if cmp.verdicts.is_empty() {
            lines.push(format!(
                "No pair of variations differs at p_adj < 0.05 ({}, Holm-adjusted).",
                if p.design.is_paired() {
                    "paired t"
                } else {
                    "Welch t"
                }
            ));
        }
        doc.push(Block::Bullets(lines));
        pair_table(cmp, doc);
    }
    let sig: Vec<String> = p
        .success_comparisons
        .iter()
        .filter(|s| s.p_adj() < ALPHA)
        .map(|s| {
            format!(
                "Success: variation {} vs variation {}: {} points ({} p_adj {})",
                s.b,
                s.a,
                num(s.headline_difference() * 100.0),
                if s.mcnemar.is_some() {
                    "McNemar"
                } else {
                    "Fisher"
                },
                pval(s.p_adj())
            )
        })
        .collect();
    if !sig.is_empty() {
        doc.push(Block::Bullets(sig));
    }
}

/// Pairs shown in a metric's table; `patterns.json` has them all.
const TABLE_PAIRS: usize = 20;

/// A metric's pairwise comparisons as a table: the paired tests beside the unpaired ones in
/// a paired design, the unpaired ones alone otherwise. Its p-values are fixed-sample ones.
fn pair_table(cmp: &MetricComparison, doc: &mut Vec<Block>) {
    if cmp.pairs.is_empty() {
        return;
    }
    let paired = cmp.pairs.iter().any(|p| p.paired.is_some());
    let opt = |x: Option<f64>, f: fn(f64) -> String| x.map(f).unwrap_or_else(|| "–".into());
    let p_text = |p: f64| pval(p).trim_start_matches("= ").to_string();
    let rows = cmp
        .pairs
        .iter()
        .take(TABLE_PAIRS)
        .map(|pair: &Pair| {
            let mut row = vec![format!("{} vs {}", pair.b, pair.a)];
            match pair.paired.as_ref().filter(|_| paired) {
                Some(q) => row.extend([
                    q.n.to_string(),
                    num(q.difference),
                    ci(q.difference_ci95),
                    opt(q.t.as_ref().map(|t| t.p), p_text),
                    opt(q.t_p_adj, p_text),
                    opt(q.wilcoxon_p_adj, p_text),
                    opt(q.d_z.as_ref().map(|d| d.g), num),
                ]),
                None if paired => row.extend(std::iter::repeat_n("–".to_string(), 7)),
                None => row.extend([
                    num(pair.difference),
                    ci(pair.difference_ci95),
                    opt(pair.welch.as_ref().map(|t| t.p), p_text),
                ]),
            }
            row.extend([
                opt(pair.welch_p_adj, p_text),
                opt(pair.mann_whitney_p_adj, p_text),
                opt(pair.hedges_g.as_ref().map(|g| g.g), num),
            ]);
            row
        })
        .collect();
    let head: &[&str] = if paired {
        &[
            "Pair",
            "Pairs",
            "Difference",
            "95% CI",
            "Paired t p",
            "Paired t p_adj",
            "Wilcoxon p_adj",
            "d_z",
            "Welch p_adj",
            "Mann-Whitney p_adj",
            "Hedges' g",
        ]
    } else {
        &[
            "Pair",
            "Difference",
            "95% CI",
            "Welch p",
            "Welch p_adj",
            "Mann-Whitney p_adj",
            "Hedges' g",
        ]
    };
    doc.push(table(head, rows));
    if cmp.pairs.len() > TABLE_PAIRS {
        doc.push(Block::Para(format!(
            "The first {TABLE_PAIRS} of {} pairs; patterns.json has them all.",
            cmp.pairs.len()
        )));
    }
}

fn failures(a: &Analysis, doc: &mut Vec<Block>) {
    let modes = &a.patterns.failure_modes;
    if modes.is_empty() {
        return;
    }
    doc.push(Block::Heading(2, "Runs That Did Not Complete".into()));
    let rows = modes
        .iter()
        .map(|m| {
            vec![
                m.status.to_string(),
                m.reason.clone().unwrap_or_else(|| "–".into()),
                m.count.to_string(),
                pct(m.share),
                m.variations
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            ]
        })
        .collect();
    doc.push(table(
        &["Status", "Reason", "Runs", "Share", "Variations"],
        rows,
    ));
}

fn costs(a: &Analysis, doc: &mut Vec<Block>) {
    let p = &a.patterns;
    doc.push(Block::Heading(2, "Cost Efficiency".into()));
    if p.cost_efficiency
        .iter()
        .all(|c| c.runs_per_dollar.is_none())
    {
        doc.push(Block::Para(
            "Nothing was spent (free or local models).".into(),
        ));
        return;
    }
    doc.push(Block::Para("Ranked by successful runs per dollar.".into()));
    let rows = p
        .cost_efficiency
        .iter()
        .map(|c| {
            vec![
                format!("Variation {}", c.variation_id),
                usd(c.cost_per_run),
                c.cost_per_successful_run
                    .map(usd)
                    .unwrap_or_else(|| "–".into()),
                c.runs_per_dollar
                    .map(|r| format!("{} runs/$", num(r)))
                    .unwrap_or_else(|| "–".into()),
            ]
        })
        .collect();
    doc.push(table(
        &[
            "Variation",
            "Cost per run",
            "Cost per success",
            "Successes per $",
        ],
        rows,
    ));
    doc.push(Block::Chart(
        charts::costs(&a.variations),
        "Mean cost per run by variation (USD)".into(),
    ));
    let s = &a.savings;
    if !s.is_empty() {
        doc.push(Block::Para(format!(
            "Providers' prompt caches served {:.0}% of the prompt tokens ({} of {}), saving {}; batch jobs answered {} calls at the batch price, saving {}. Against realtime prices with nothing cached, the runs cost {} less.",
            100.0 * s.cache_hit_rate(),
            s.cached_tokens,
            s.prompt_tokens,
            usd(s.cache_saved),
            s.batch_calls,
            usd(s.batch_saved),
            usd(s.cache_saved + s.batch_saved)
        )));
    }
}

fn sample_sizes(a: &Analysis, doc: &mut Vec<Block>) {
    let p = &a.patterns;
    if p.sample_size.is_empty() {
        return;
    }
    doc.push(Block::Heading(2, "How Many Runs Are Enough".into()));
    doc.push(Block::Para(
        "Runs per variation for a 95% CI of a variation mean no wider than ± the target, and to \
         detect the smallest observed difference between two variations with 80% power \
         (two-sided t test, α = 0.05), from the pooled within-variation standard deviation."
            .into(),
    ));
    let opt = |x: Option<usize>| x.map(|n| n.to_string()).unwrap_or_else(|| "–".into());
    let rows = p
        .sample_size
        .iter()
        .map(|(m, s)| {
            vec![
                m.clone(),
                s.runs_per_variation_now.to_string(),
                s.half_width_now
                    .map(|h| format!("±{}", num(h)))
                    .unwrap_or_else(|| "–".into()),
                s.target_half_width
                    .map(|h| format!("±{}", num(h)))
                    .unwrap_or_else(|| "–".into()),
                opt(s.runs_for_target),
                s.smallest_effect.map(num).unwrap_or_else(|| "–".into()),
                opt(s.runs_for_80_power),
            ]
        })
        .collect();
    doc.push(table(
        &[
            "Metric",
            "Runs now",
            "CI now",
            "Target",
            "Runs for target",
            "Smallest g",
            "Runs for 80% power",
        ],
        rows,
    ));
    if let Some(s) = p.sample_size.values().next() {
        doc.push(Block::Para(format!("Target: {}.", s.target_source)));
    }
}

fn problems(a: &Analysis, doc: &mut Vec<Block>) {
    if a.problems.is_empty() {
        return;
    }
    doc.push(Block::Heading(2, "Data Problems".into()));
    let mut items: Vec<String> = a
        .problems
        .iter()
        .map(|p| format!("{}: {}", p.path, p.message))
        .collect();
    if a.problems_not_listed > 0 {
        items.push(format!("… and {} more", a.problems_not_listed));
    }
    doc.push(Block::Bullets(items));
}

fn methods(design: &Design, doc: &mut Vec<Block>) {
    doc.push(Block::Heading(2, "Methods".into()));
    doc.push(Block::Para(
        "Metric statistics use the final values of completed runs; success rates use all runs, \
         with Wilson 95% intervals. Means carry Student-t 95% confidence intervals. Variations \
         are compared per metric with Welch's ANOVA and the Kruskal-Wallis test, then pairwise \
         with Welch's t test and the Mann-Whitney U test (exact for small samples without ties, \
         otherwise normal approximation with tie and continuity corrections), p-values adjusted \
         by Holm's method across the pairs of each metric; effect sizes are Hedges' g with \
         normal-approximation 95% intervals. Success rates are compared with Fisher's exact \
         test. Factor effects compare each level with the factor's first level, pooled over the \
         other factors; with two factors, a two-way ANOVA with Type III sums of squares tests \
         both factors and their interaction. Runs needed for 80% power use the noncentral t \
         distribution."
            .into(),
    ));
    if design.is_paired() {
        doc.push(Block::Para(
            "The runs are paired: run k of every variation shares its seed, and run numbers are \
             blocks. Each pair of variations is also compared on the run numbers where both \
             completed with a value: paired t test of the differences with its 95% CI, Wilcoxon \
             signed-rank test (exact for small samples without ties or zeros), and d_z (mean \
             difference over the differences' standard deviation) with a normal-approximation \
             95% interval; these p-values are Holm-adjusted across the pairs of each metric, and \
             the verdicts rest on the paired t test. Success is compared on the matched runs with \
             McNemar's exact test on the discordant pairs, Holm-adjusted (factor-level success \
             rates keep Fisher's test). Factor effects and the variations as a whole are tested \
             by repeated-measures ANOVA on the blocks complete in every cell involved, a level's \
             value in a block being the mean over its variations; incomplete blocks are dropped. \
             What pairing gained is the variance of the within-pair differences against \
             var(a) + var(b) over the same matched runs."
                .into(),
        ));
    }
}

/// Markdown for the blocks (charts are left out: they live in `report.html`).
pub fn markdown(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::Heading(level, text) => out.push_str(&format!(
                "{} {}\n\n",
                "#".repeat(*level as usize),
                md_inline(text)
            )),
            Block::Para(text) => out.push_str(&format!("{}\n\n", md_inline(text))),
            Block::Fields(fields) => {
                for (k, v) in fields {
                    out.push_str(&format!("**{}:** {}  \n", k, md_inline(v)));
                }
                out.push('\n');
            }
            Block::Bullets(items) => {
                for i in items {
                    out.push_str(&format!("- {}\n", md_inline(i)));
                }
                out.push('\n');
            }
            Block::Table(head, rows) => {
                let cell = |s: &str| md_inline(s).replace('|', "\\|");
                out.push_str(&format!(
                    "| {} |\n",
                    head.iter().map(|h| cell(h)).collect::<Vec<_>>().join(" | ")
                ));
                out.push_str(&format!("|{}\n", "---|".repeat(head.len())));
                for r in rows {
                    out.push_str(&format!(
                        "| {} |\n",
                        r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
                    ));
                }
                out.push('\n');
            }
            Block::Chart(..) => {}
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// Text from the folder (descriptions, metric names, error messages) may hold HTML; in the
/// report it is text, so a Markdown viewer must not turn it into tags.
/// Only a `<` that could open a tag is escaped, so `p < 0.001` stays readable as plain text.
fn md_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '<' if chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')) =>
            {
                out.push_str("&lt;")
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}
