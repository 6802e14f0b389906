//! Hypothesis tests between groups, and Holm's adjustment for testing several at once.
//!
//! Each test reproduces one scipy or statsmodels function, named in its doc, including the
//! choices that function makes (which p-value Mann-Whitney uses). Fisher's exact test is in
//! `fisher.rs`.

use super::dist::{chi2_sf, f_sf, norm_sf, t_isf, t_two_sided};
use super::{first_value, mean_var, sum, valid_level};

/// The result of a test: its statistic, degrees of freedom where it has them, and the
/// two-sided p-value.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Test {
    /// The test statistic (t, U, F, H or z, as each function says).
    pub statistic: f64,
    /// Degrees of freedom (the numerator's for F); `None` for U and z.
    pub df: Option<f64>,
    /// Denominator degrees of freedom of an F statistic; `None` otherwise.
    pub df2: Option<f64>,
    /// Two-sided p-value.
    pub p: f64,
}

/// Welch's t test of equal means without assuming equal variances, two-sided, as
/// `scipy.stats.ttest_ind(a, b, equal_var=False)`: t = (mean(a) - mean(b)) / √(s²_a/n_a +
/// s²_b/n_b), with Welch-Satterthwaite degrees of freedom in `df`.
///
/// `None` when either group has fewer than two values (no variance), or when both variances
/// are zero: scipy then reports t = ±inf and p = 0 with a placeholder df, or NaN when the
/// means are equal, neither of which is a usable result. One zero variance is fine (df is
/// then n - 1 of the other group).
pub fn welch_t(a: &[f64], b: &[f64]) -> Option<Test> {
    let w = welch(a, b)?;
    let t = w.difference / w.se2.sqrt();
    Some(Test {
        statistic: t,
        df: Some(w.df),
        df2: None,
        p: t_two_sided(t, w.df),
    })
}

/// The `level` confidence interval of mean(a) − mean(b) with Welch's standard error and
/// degrees of freedom, as `scipy.stats.ttest_ind(a, b, equal_var=False)
/// .confidence_interval(level)`: the interval behind a sentence like "raises it by 1.4 (95%
/// CI 0.6 to 2.2)". `None` where [`welch_t`] is, or for a level outside (0, 1).
pub fn welch_ci(a: &[f64], b: &[f64], level: f64) -> Option<(f64, f64)> {
    if !valid_level(level) {
        return None;
    }
    let w = welch(a, b)?;
    let half = t_isf((1.0 - level) / 2.0, w.df) * w.se2.sqrt();
    Some((w.difference - half, w.difference + half))
}

/// What Welch's test and interval share.
struct Welch {
    /// mean(a) − mean(b), computed relative to a common shift so that no digits are lost.
    difference: f64,
    /// s²_a/n_a + s²_b/n_b.
    se2: f64,
    /// Welch-Satterthwaite degrees of freedom.
    df: f64,
}

fn welch(a: &[f64], b: &[f64]) -> Option<Welch> {
    let shift = first_value([a, b]);
    let ((ma, va), (mb, vb)) = (mean_var(a, shift), mean_var(b, shift));
    let (sa, sb) = (va? / a.len() as f64, vb? / b.len() as f64);
    let se2 = sa + sb;
    if se2 <= 0.0 {
        return None;
    }
    let (ra, rb) = (sa / se2, sb / se2);
    let df = 1.0 / (ra * ra / (a.len() - 1) as f64 + rb * rb / (b.len() - 1) as f64);
    Some(Welch {
        difference: ma - mb,
        se2,
        df,
    })
}

/// The Mann-Whitney U test, two-sided, as `scipy.stats.mannwhitneyu(a, b,
/// alternative='two-sided', method='auto')`. The statistic is U of `a` (the number of pairs
/// where a's value is larger, ties counting one half).
///
/// Like scipy's 'auto': the exact null distribution when either group has at most 8 values
/// and there are no ties (p = 2·P(U ≤ min(U_a, U_b)), capped at 1); otherwise the normal
/// approximation with the tie-corrected variance and a continuity correction of 1/2. When
/// every value is the same, U is n_a·n_b/2 and p is 1, as scipy gives. `None` when either
/// group is empty. Ranking is one sort, so 10^5 values take milliseconds. One departure, to
/// bound memory: when the exact distribution would need more than 4·10^6 values of U (8
/// values against more than 10^6), the normal approximation is used instead of scipy's exact.
pub fn mann_whitney(a: &[f64], b: &[f64]) -> Option<Test> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (n1, n2) = (a.len(), b.len());
    let all: Vec<f64> = a.iter().chain(b).copied().collect();
    let (ranks, tie_term) = rank(&all);
    let (f1, f2) = (n1 as f64, n2 as f64);
    let u1 = sum(ranks[..n1].iter().copied()) - f1 * (f1 + 1.0) / 2.0;
    let u2 = f1 * f2 - u1;
    let exact = (n1 <= 8 || n2 <= 8) && tie_term == 0.0 && u1.min(u2) <= MWU_EXACT_MAX_U;
    let p = if exact {
        2.0 * mwu_exact_cdf(u1.min(u2) as usize, n1, n2)
    } else {
        let n = f1 + f2;
        let var = f1 * f2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
        if var > 0.0 {
            norm_sf((u1.max(u2) - f1 * f2 / 2.0 - 0.5) / var.sqrt()) * 2.0
        } else {
            1.0
        }
    };
    Some(Test {
        statistic: u1,
        df: None,
        df2: None,
        p: p.min(1.0),
    })
}

/// The largest U for which [`mann_whitney`] builds the exact distribution (64 MB of counts).
const MWU_EXACT_MAX_U: f64 = 4e6;

/// P(U ≤ k) for samples of sizes n1 and n2 without ties. The number of orderings with U = u
/// is the coefficient of q^u in the Gaussian binomial [n1+n2 choose m]_q =
/// Π_{i=1..m} (1 - q^{n+i}) / (1 - q^i), m = min, n = max; only degrees up to k are kept, so
/// the work is O(m·k) = O(m²·n). Counts are exact in i128 while the total C(n1+n2, m) stays
/// below 2^120 (any n up to about 10^5 with m = 8); beyond that the same recurrence runs in
/// floating point, as scipy's does once its counts pass 2^64.
fn mwu_exact_cdf(k: usize, n1: usize, n2: usize) -> f64 {
    let (m, n) = (n1.min(n2), n1.max(n2));
    let mut total: Option<u128> = Some(1);
    for i in 1..=m {
        total = total
            .and_then(|t| t.checked_mul((n + i) as u128))
            .map(|t| t / i as u128);
    }
    match total.filter(|&t| t < 1 << 120) {
        Some(total) => {
            let counts = gaussian_binomial_prefix::<i128>(k, m, n);
            counts.iter().sum::<i128>() as f64 / total as f64
        }
        None => {
            let counts = gaussian_binomial_prefix::<f64>(k, m, n);
            let total = (0..m).fold(1.0, |t, i| t * (n + i + 1) as f64 / (i + 1) as f64);
            counts.iter().sum::<f64>() / total
        }
    }
}

/// Coefficients 0..=k of the Gaussian binomial [m+n choose m]_q, in i128 or f64.
fn gaussian_binomial_prefix<T>(k: usize, m: usize, n: usize) -> Vec<T>
where
    T: Copy + From<u8> + std::ops::AddAssign + std::ops::SubAssign,
{
    let mut c = vec![T::from(0); k + 1];
    c[0] = T::from(1);
    for i in 1..=m {
        let s = n + i;
        // Times (1 - q^s), from the top so each step reads an old coefficient.
        for u in (s..=k).rev() {
            let v = c[u - s];
            c[u] -= v;
        }
        // Divided by (1 - q^i), i.e. times 1 + q^i + q^2i + ..., from the bottom.
        for u in i..=k {
            let v = c[u - i];
            c[u] += v;
        }
    }
    c
}

/// Average ranks (from 1) of `values` in their given order, and Σ(t³ - t) over the groups
/// of t tied values (the tie term of Mann-Whitney's and Kruskal-Wallis's variances).
pub(super) fn rank(values: &[f64]) -> (Vec<f64>, f64) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
    let mut ranks = vec![0.0; values.len()];
    let mut tie_term = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let r = (start + end + 1) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = r;
        }
        let t = (end - start) as f64;
        tie_term += t * t * t - t;
        start = end;
    }
    (ranks, tie_term)
}

/// Welch's one-way ANOVA (equal means, variances not assumed equal), as
/// `scipy.stats.f_oneway(*groups, equal_var=False)` and statsmodels
/// `anova_oneway(use_var='unequal')`: with w_i = n_i/s²_i, W = Σw_i, ȳ = Σw_i·m_i/W and
/// τ = Σ(1 - w_i/W)²/(n_i - 1),
/// F = [Σw_i(m_i - ȳ)²/(k-1)] / [1 + 2(k-2)τ/(k²-1)], df = k - 1, df2 = (k² - 1)/(3τ).
///
/// `None` with fewer than two groups, when a group has fewer than two values, or when a group
/// has zero variance (its weight is infinite; scipy returns NaN).
pub fn welch_anova(groups: &[&[f64]]) -> Option<Test> {
    let k = groups.len();
    if k < 2 {
        return None;
    }
    let shift = first_value(groups.iter().copied());
    let mut stats = Vec::with_capacity(k);
    for g in groups {
        let (m, v) = mean_var(g, shift);
        let v = v.filter(|&v| v > 0.0)?;
        stats.push((g.len() as f64, m, g.len() as f64 / v));
    }
    let kf = k as f64;
    let w_total = sum(stats.iter().map(|s| s.2));
    let ybar = sum(stats.iter().map(|s| s.2 * s.1)) / w_total;
    let num = sum(stats.iter().map(|s| s.2 * (s.1 - ybar) * (s.1 - ybar))) / (kf - 1.0);
    let tau = sum(stats
        .iter()
        .map(|s| (1.0 - s.2 / w_total).powi(2) / (s.0 - 1.0)));
    let f = num / (1.0 + 2.0 * (kf - 2.0) / (kf * kf - 1.0) * tau);
    let (df1, df2) = (kf - 1.0, (kf * kf - 1.0) / (3.0 * tau));
    Some(Test {
        statistic: f,
        df: Some(df1),
        df2: Some(df2),
        p: f_sf(f, df1, df2),
    })
}

/// The Kruskal-Wallis H test, as `scipy.stats.kruskal(*groups)`: H from average ranks,
/// divided by the tie correction 1 - Σ(t³ - t)/(N³ - N), against χ² with k - 1 df.
///
/// H is computed as 12/(N(N+1))·Σ n_i(R̄_i - (N+1)/2)², the same quantity as scipy's
/// 12/(N(N+1))·ΣR_i²/n_i - 3(N+1) without the subtraction of two large numbers. `None` with
/// fewer than two groups, an empty group, or when all values are equal (the tie correction
/// is zero; scipy returns NaN).
pub fn kruskal_wallis(groups: &[&[f64]]) -> Option<Test> {
    if groups.len() < 2 || groups.iter().any(|g| g.is_empty()) {
        return None;
    }
    let all: Vec<f64> = groups.iter().flat_map(|g| g.iter().copied()).collect();
    let (ranks, tie_term) = rank(&all);
    let n = all.len() as f64;
    let correction = 1.0 - tie_term / (n * n * n - n);
    if correction <= 0.0 {
        return None;
    }
    let mid = (n + 1.0) / 2.0;
    let mut at = 0;
    let spread = sum(groups.iter().map(|g| {
        let r = sum(ranks[at..at + g.len()].iter().copied()) / g.len() as f64;
        at += g.len();
        g.len() as f64 * (r - mid) * (r - mid)
    }));
    let h = 12.0 / (n * (n + 1.0)) * spread / correction;
    let df = (groups.len() - 1) as f64;
    Some(Test {
        statistic: h,
        df: Some(df),
        df2: None,
        p: chi2_sf(h, df),
    })
}

/// The pooled two-proportion z test, two-sided, as statsmodels
/// `proportions_ztest([s1, s2], [n1, n2])`: z = (p̂1 - p̂2)/√(p̂(1 - p̂)(1/n1 + 1/n2)) with the
/// pooled p̂ = (s1 + s2)/(n1 + n2). The statistic is z; no degrees of freedom.
///
/// `None` when a group is empty, a count exceeds its group, or the pooled proportion is 0 or
/// 1 (zero variance: statsmodels returns NaN).
pub fn two_proportions(s1: usize, n1: usize, s2: usize, n2: usize) -> Option<Test> {
    if n1 == 0 || n2 == 0 || s1 > n1 || s2 > n2 {
        return None;
    }
    let (p1, p2) = (s1 as f64 / n1 as f64, s2 as f64 / n2 as f64);
    let pooled = (s1 + s2) as f64 / (n1 + n2) as f64;
    let var = pooled * (1.0 - pooled) * (1.0 / n1 as f64 + 1.0 / n2 as f64);
    if var <= 0.0 {
        return None;
    }
    let z = (p1 - p2) / var.sqrt();
    Some(Test {
        statistic: z,
        df: None,
        df2: None,
        p: 2.0 * norm_sf(z.abs()),
    })
}

/// Holm-adjusted p-values, in the order given, as statsmodels `multipletests(p,
/// method='holm')`: sorted ascending, the i-th smallest (from 0) is multiplied by m - i, a
/// running maximum keeps them monotone, and they are capped at 1.
///
/// Holm controls the family-wise error rate under any dependence between the tests, which
/// suits comparisons that share a baseline variation. Empty in, empty out.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p[i].total_cmp(&p[j]));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(p[i] * (m - rank) as f64);
        adjusted[i] = running.min(1.0);
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holm_is_monotone_in_p_capped_and_keeps_order() {
        let p = [0.04, 0.001, 0.03, 0.5, 0.03, 0.9];
        let adj = holm(&p);
        assert_eq!(adj.len(), p.len());
        for i in 0..p.len() {
            assert!(adj[i] >= p[i] && adj[i] <= 1.0);
            for j in 0..p.len() {
                if p[i] <= p[j] {
                    assert!(adj[i] <= adj[j], "{i} {j}");
                }
            }
        }
        assert_eq!(adj[1], 0.006);
        assert_eq!(adj[2], adj[4]);
        assert!(holm(&[]).is_empty());
    }

    #[test]
    fn ranks_average_over_ties() {
        let (r, t) = rank(&[3.0, 1.0, 3.0, 2.0, 3.0]);
        assert_eq!(r, vec![4.0, 1.0, 4.0, 2.0, 4.0]);
        assert_eq!(t, 24.0);
    }

    #[test]
    fn exact_mann_whitney_counts_match_enumeration() {
        // m = 3, n = 4: 35 orderings; the U distribution is 1,1,2,3,4,4,5,4,4,3,2,1,1.
        let counts: Vec<i128> = gaussian_binomial_prefix(12, 3, 4);
        assert_eq!(counts, vec![1, 1, 2, 3, 4, 4, 5, 4, 4, 3, 2, 1, 1]);
        let floats: Vec<f64> = gaussian_binomial_prefix(12, 3, 4);
        assert_eq!(floats.iter().sum::<f64>(), 35.0);
        assert_eq!(mwu_exact_cdf(0, 3, 4), 1.0 / 35.0);
    }

    #[test]
    fn degenerate_inputs_give_none_not_nan() {
        assert_eq!(welch_t(&[1.0], &[1.0, 2.0]), None);
        assert_eq!(welch_t(&[1.0, 1.0], &[2.0, 2.0]), None);
        assert!(welch_t(&[1.0, 1.0], &[2.0, 3.0]).is_some());
        assert_eq!(mann_whitney(&[], &[1.0]), None);
        assert_eq!(kruskal_wallis(&[&[1.0, 1.0], &[1.0]]), None);
        assert_eq!(kruskal_wallis(&[&[1.0, 2.0]]), None);
        assert_eq!(welch_anova(&[&[1.0, 2.0], &[3.0, 3.0]]), None);
        assert_eq!(two_proportions(0, 5, 0, 7), None);
    }
}
