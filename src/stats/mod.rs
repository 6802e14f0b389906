//! Statistics for batch analysis: summaries, confidence intervals, two- and k-sample tests,
//! paired tests (variations run on shared seeds), effect sizes, multiple-comparison
//! adjustment, power and sample size, two-way and repeated-measures ANOVA, and
//! group-sequential designs.
//!
//! Every function is pure and total: it takes finite numbers (callers drop missing values
//! first) and returns `None` where scipy or statsmodels would return NaN or raise, so that no
//! NaN reaches a report. The one exception is [`power_two_sample`], whose result is a bare
//! number: NaN for fewer than two per group, as statsmodels gives. Each function says which
//! reference it reproduces; `tests/stats.rs` checks every one, to 1e-9 relative, against a
//! fixture made by `scripts/stats-reference.py` with scipy and statsmodels. Where we chose
//! differently from the reference (a sample of one, a zero variance) the function's doc says
//! so.
//!
//! Files: [`describe`](self::describe()) and friends in `summary.rs`; the tests and Holm in
//! `hypothesis.rs`, except Fisher's in `fisher.rs`; effect size, power and sample size in
//! `effect.rs`; two-way ANOVA in `anova.rs`; paired tests, d_z, McNemar and repeated-measures
//! ANOVA in `paired.rs`; group-sequential boundaries and p-values in `sequential.rs` (scipy
//! has none: the fixture's are computed from the multivariate normal and checked to a looser
//! tolerance, which `tests/stats.rs` states); the distribution functions (t, F, χ², normal,
//! noncentral t, incomplete beta) in `dist.rs`.

mod anova;
pub(crate) mod dist;
mod effect;
mod fisher;
mod hypothesis;
mod paired;
mod sequential;
mod summary;

pub use anova::{two_way_anova, TwoWay};
pub use effect::{hedges_g, n_for_half_width, n_for_power, power_two_sample, Effect};
pub use fisher::fisher_exact;
pub use hypothesis::{
    holm, kruskal_wallis, mann_whitney, two_proportions, welch_anova, welch_ci, welch_t, Test,
};
pub use paired::{
    cohen_dz, mcnemar, paired_ci, paired_t, rm_anova_one_way, rm_anova_two_way, wilcoxon,
};
pub use sequential::{group_sequential, obf_spending, sequential_p, z_from_t, GroupSequential};
pub use summary::{describe, mean_ci, wilson, Running, Summary};

/// A sum with Neumaier's compensation: exact to about one rounding whatever the length, so a
/// mean of 10^5 values carries no accumulated error into a t statistic or a contrast.
fn sum(values: impl IntoIterator<Item = f64>) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for v in values {
        let t = s + v;
        if s.abs() >= v.abs() {
            c += (s - t) + v;
        } else {
            c += (v - t) + s;
        }
        s = t;
    }
    s + c
}

/// Mean of `values - shift` and the sample variance (divisor n - 1; `None` when n < 2), by
/// two passes.
///
/// Functions that compare means pass one shift, an observation, for every group: `x - shift`
/// is exact for values near it, so a difference of means keeps its digits when the means are
/// 10^6 and differ by 0.1 (unshifted, each mean is rounded to 1e-10 and the difference loses
/// nine digits; numpy does lose them).
fn mean_var(values: &[f64], shift: f64) -> (f64, Option<f64>) {
    let n = values.len() as f64;
    let mean = sum(values.iter().map(|v| v - shift)) / n;
    if values.len() < 2 {
        return (mean, None);
    }
    let ss = sum(values
        .iter()
        .map(|v| (v - shift - mean) * (v - shift - mean)));
    (mean, Some(ss / (n - 1.0)))
}

/// The first value of the first non-empty group: the common shift for [`mean_var`].
fn first_value<'a>(groups: impl IntoIterator<Item = &'a [f64]>) -> f64 {
    groups
        .into_iter()
        .find_map(|g| g.first().copied())
        .unwrap_or(0.0)
}

/// True when `level` is a usable confidence level, strictly between 0 and 1.
fn valid_level(level: f64) -> bool {
    level > 0.0 && level < 1.0
}
