//! Paired comparisons: two variations whose run k shares its random seed (the same events,
//! the same sampling seeds), so that run k of one and run k of the other form a pair and the
//! run-to-run noise they share cancels in their difference. The paired t test and interval,
//! the Wilcoxon signed-rank test, the paired effect size d_z, McNemar's test for a yes/no
//! outcome, and repeated-measures ANOVA for several variations (the seed is the block).
//!
//! Each function reproduces one scipy or statsmodels function, named in its doc; `x[k]` and
//! `y[k]` are the two variations' values on seed k.

use super::dist::{beta_cf, f_sf, norm_quantile, norm_sf, t_isf, t_two_sided};
use super::fisher::ln_binom_pmf;
use super::hypothesis::rank;
use super::{mean_var, sum, valid_level, Effect, Test, TwoWay};

/// The differences x[k] − y[k], or `None` when the lengths differ.
fn differences(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    (x.len() == y.len()).then(|| x.iter().zip(y).map(|(a, b)| a - b).collect())
}

/// Mean, variance (divisor n − 1) and n of the differences; `None` for different lengths,
/// fewer than two pairs, or a zero variance.
fn difference_moments(x: &[f64], y: &[f64]) -> Option<(f64, f64, f64)> {
    let d = differences(x, y)?;
    let shift = *d.first()?;
    let (m, v) = mean_var(&d, shift);
    let v = v.filter(|&v| v > 0.0)?;
    Some((m + shift, v, d.len() as f64))
}

/// The paired t test, two-sided, as `scipy.stats.ttest_rel(x, y)`: with d = x − y,
/// t = mean(d) / (sd(d)/√n) on n − 1 degrees of freedom (in `df`).
///
/// `None` when the lengths differ, with fewer than two pairs, or when the differences have
/// zero variance (scipy then gives t = ±inf with p = 0, or NaN when they are all zero).
pub fn paired_t(x: &[f64], y: &[f64]) -> Option<Test> {
    let (m, v, n) = difference_moments(x, y)?;
    let t = m / (v / n).sqrt();
    Some(Test {
        statistic: t,
        df: Some(n - 1.0),
        df2: None,
        p: t_two_sided(t, n - 1.0),
    })
}

/// The `level` confidence interval of mean(x − y), as `scipy.stats.ttest_rel(x, y)
/// .confidence_interval(level)`: mean(d) ± t_{(1+level)/2, n−1}·sd(d)/√n. `None` where
/// [`paired_t`] is, or for a level outside (0, 1).
pub fn paired_ci(x: &[f64], y: &[f64], level: f64) -> Option<(f64, f64)> {
    if !valid_level(level) {
        return None;
    }
    let (m, v, n) = difference_moments(x, y)?;
    let half = t_isf((1.0 - level) / 2.0, n - 1.0) * (v / n).sqrt();
    Some((m - half, m + half))
}

/// The Wilcoxon signed-rank test, two-sided, as `scipy.stats.wilcoxon(x, y)` with its
/// defaults (zero_method='wilcox', correction=False, method='auto') in scipy 1.17.
///
/// With d = x − y, zero differences are dropped and the m others ranked by |d| (average
/// ranks for ties); R+ and R− are the rank sums of the positive and negative differences.
/// The statistic is min(R+, R−), as scipy reports it. The p-value, as scipy's 'auto' chooses
/// it (n counts the zeros too):
///
/// - n ≤ 50 with neither ties nor zeros: the exact null distribution of R+,
///   p = 2·min(P(R ≥ R+), P(R ≤ R+)), capped at 1;
/// - n ≤ 13 with ties or zeros: scipy's permutation test over all 2^n sign flips of d, which
///   is exact: the same formula over the distribution of R+ given the tied ranks (flipping a
///   zero changes nothing, so it is computed over the 2^m flips of the non-zero d);
/// - otherwise: the normal approximation z = (R+ − m(m+1)/4)/σ with
///   σ² = [m(m+1)(2m+1) − Σ(t³ − t)/2]/24 over the groups of t tied |d|, without continuity
///   correction, p = 2·P(Z > |z|).
///
/// `None` when the lengths differ, for no pairs, or when every difference is zero. One
/// departure there: scipy gives NaN for all-zero differences only when n > 13; for n ≤ 13
/// its permutation test reports statistic 0 and p = 1. We return `None` for every n, so that
/// whether a test exists does not depend on the number of pairs (and [`paired_t`] is `None`
/// there too).
pub fn wilcoxon(x: &[f64], y: &[f64]) -> Option<Test> {
    let d = differences(x, y)?;
    let n = d.len();
    let nonzero: Vec<f64> = d.iter().copied().filter(|&v| v != 0.0).collect();
    let m = nonzero.len();
    if m == 0 {
        return None;
    }
    let magnitudes: Vec<f64> = nonzero.iter().map(|v| v.abs()).collect();
    let (ranks, tie_term) = rank(&magnitudes);
    let r_plus = sum(nonzero
        .iter()
        .zip(&ranks)
        .filter(|(v, _)| **v > 0.0)
        .map(|(_, r)| *r));
    let r_minus = sum(nonzero
        .iter()
        .zip(&ranks)
        .filter(|(v, _)| **v < 0.0)
        .map(|(_, r)| *r));
    let exact = n <= 50 && ((tie_term == 0.0 && m == n) || n <= 13);
    let p = if exact {
        signed_rank_exact_p(&ranks, r_plus)
    } else {
        let mf = m as f64;
        let mean = mf * (mf + 1.0) / 4.0;
        let var = (mf * (mf + 1.0) * (2.0 * mf + 1.0) - tie_term / 2.0) / 24.0;
        2.0 * norm_sf(((r_plus - mean) / var.sqrt()).abs())
    };
    Some(Test {
        statistic: r_plus.min(r_minus),
        df: None,
        df2: None,
        p: p.min(1.0),
    })
}

/// 2·min(P(R ≤ r), P(R ≥ r)) for R the sum of the ranks given a random sign each (the null
/// distribution of R+ given these ranks), capped at 1. Ranks are whole or half numbers, so
/// the distribution is counted over doubled ranks in integers: exact, for up to 50 ranks
/// (2^50 sign patterns).
fn signed_rank_exact_p(ranks: &[f64], r_plus: f64) -> f64 {
    let doubled: Vec<usize> = ranks.iter().map(|r| (2.0 * r).round() as usize).collect();
    let top: usize = doubled.iter().sum();
    let mut counts = vec![0u64; top + 1];
    counts[0] = 1;
    let mut reach = 0;
    for &r in &doubled {
        for s in (0..=reach).rev() {
            let c = counts[s];
            counts[s + r] += c;
        }
        reach += r;
    }
    let observed = (2.0 * r_plus).round() as usize;
    let below: u64 = counts[..=observed].iter().sum();
    let above: u64 = counts[observed..].iter().sum();
    let total = 2f64.powi(ranks.len() as i32);
    (2.0 * below.min(above) as f64 / total).min(1.0)
}

/// The paired standardised effect d_z = mean(d)/sd(d), d = x − y (Cohen's d_z: the mean
/// difference in units of the differences' sd, without a small-sample correction), with its
/// approximate 95% interval d_z ± z_{0.975}·SE, SE = √(1/n + d_z²/(2n)).
///
/// The SE is the large-sample (delta-method) standard error of a one-sample standardised
/// mean m/s for normal data: Var(m)/σ² = 1/n and Var(s)/σ² ≈ 1/(2n) give
/// Var(m/s) ≈ 1/n + δ²/(2n), the one-sample form of the Hedges & Olkin (1985) formula that
/// [`hedges_g`](super::hedges_g) uses for two groups. The value goes in [`Effect`]'s field
/// `g` (the struct is shared with Hedges' g; here it holds d_z). scipy and statsmodels have
/// no d_z: the reference script computes these formulas with numpy.
///
/// `None` when the lengths differ, with fewer than two pairs, or when the differences have
/// zero sd (nothing to standardise by).
pub fn cohen_dz(x: &[f64], y: &[f64]) -> Option<Effect> {
    let (m, v, n) = difference_moments(x, y)?;
    let dz = m / v.sqrt();
    let se = (1.0 / n + dz * dz / (2.0 * n)).sqrt();
    let z = norm_quantile(0.975);
    Some(Effect {
        g: dz,
        ci95: (dz - z * se, dz + z * se),
    })
}

/// McNemar's exact test for a paired yes/no outcome: `only_x` pairs where only x's run had
/// it, `only_y` where only y's did (the pairs where both or neither did carry no information
/// about the difference). As statsmodels `mcnemar([[a, only_x], [only_y, d]],
/// exact=True).pvalue`: the two-sided binomial test of the discordant pairs against 1/2,
/// p = min(1, 2·P(B ≤ min(only_x, only_y))) for B ~ Binomial(only_x + only_y, 1/2). 1 when
/// there are no discordant pairs.
///
/// With n discordant pairs and k the smaller count, P(B ≤ k) = I_{1/2}(n − k, k + 1) =
/// b(k)·F/2, where b(k) is the binomial probability of k, in Loader's saddle-point form (as
/// Fisher's test computes it), and F the incomplete beta's continued fraction. The textbook
/// prefactor x^a·y^b/B(a, b) loses digits in proportion to n (3e-7 at n = 2·10^9); this
/// keeps 1e-12, and counts in the billions cost well under a millisecond.
pub fn mcnemar(only_x: u64, only_y: u64) -> f64 {
    let n = only_x as f64 + only_y as f64;
    let k = only_x.min(only_y) as f64;
    // 2k + 1 = n is the middle of an odd n, where P(B ≤ k) = 1/2 exactly.
    if 2.0 * k + 1.0 >= n {
        return 1.0;
    }
    let tail = ln_binom_pmf(k, n, 0.5, 0.5).exp() * beta_cf(n - k, k + 1.0, 0.5) / 2.0;
    (2.0 * tail).min(1.0)
}

/// True when an error sum of squares is zero up to the rounding of the sums that made it:
/// at most 1e-20 of the total sum of squares (an F over it would be infinite or NaN).
fn negligible(error_ss: f64, total_ss: f64) -> bool {
    error_ss <= 1e-20 * total_ss
}

/// An F test of `ss`/`df` against `error_ss`/`df2`.
fn f_test(ss: f64, df: f64, error_ss: f64, df2: f64) -> Test {
    let f = (ss / df) / (error_ss / df2);
    Test {
        statistic: f,
        df: Some(df),
        df2: Some(df2),
        p: f_sf(f, df, df2),
    }
}

/// One-way repeated-measures ANOVA: `blocks[s][j]` is the value of level j (a variation) on
/// block s (a seed), one value each. As statsmodels `AnovaRM(data, depvar, subject='block',
/// within=['level']).fit()`, balanced: with level means L_j, block means B_s and grand mean
/// G over s blocks and k levels, SS_level = s·Σ(L_j − G)² and the error is the level × block
/// interaction, SS_error = ΣΣ(y_sj − L_j − B_s + G)²; F = [SS_level/(k − 1)] /
/// [SS_error/((k − 1)(s − 1))], `df` = k − 1, `df2` = (k − 1)(s − 1).
///
/// Sums of squares are formed from values less the first one, so large common offsets lose
/// no digits. `None` with fewer than two blocks or levels, for ragged blocks, or when the
/// error sum of squares is zero (at most 1e-20 of the total, the rounding of an exact zero:
/// statsmodels' F is then infinite, NaN or a rounding artefact).
pub fn rm_anova_one_way(blocks: &[Vec<f64>]) -> Option<Test> {
    let s = blocks.len();
    let k = blocks.first()?.len();
    if s < 2 || k < 2 || blocks.iter().any(|b| b.len() != k) {
        return None;
    }
    let shift = blocks[0][0];
    let y = |i: usize, j: usize| blocks[i][j] - shift;
    let (sf, kf) = (s as f64, k as f64);
    let level: Vec<f64> = (0..k).map(|j| sum((0..s).map(|i| y(i, j))) / sf).collect();
    let block: Vec<f64> = (0..s).map(|i| sum((0..k).map(|j| y(i, j))) / kf).collect();
    let grand = sum(level.iter().copied()) / kf;
    let ss_level = sf * sum(level.iter().map(|l| (l - grand).powi(2)));
    let cells = || (0..s).flat_map(|i| (0..k).map(move |j| (i, j)));
    let ss_error = sum(cells().map(|(i, j)| (y(i, j) - level[j] - block[i] + grand).powi(2)));
    let ss_total = sum(cells().map(|(i, j)| (y(i, j) - grand).powi(2)));
    if negligible(ss_error, ss_total) {
        return None;
    }
    Some(f_test(
        ss_level,
        kf - 1.0,
        ss_error,
        (kf - 1.0) * (sf - 1.0),
    ))
}

/// Two-way repeated-measures ANOVA: `blocks[s][i][j]` is the value at level i of factor A and
/// level j of factor B on block s, one value each (every block sees every combination). As
/// statsmodels `AnovaRM(data, depvar, subject='block', within=['a', 'b']).fit()`, balanced:
/// each effect is tested against its own interaction with the block,
///
/// - A: SS_A = s·b·Σ_i(A_i − G)² against SS_{A×S} = b·Σ_{s,i}(Ȳ_{si·} − A_i − S_s + G)²,
///   on (a − 1, (a − 1)(s − 1)) degrees of freedom;
/// - B: the same with the roles of A and B exchanged;
/// - A × B: SS_AB = s·Σ_{ij}(M_ij − A_i − B_j + G)² against the three-way residual
///   Σ(y_sij − M_ij − Ȳ_{si·} − Ȳ_{s·j} + A_i + B_j + S_s − G)², on ((a − 1)(b − 1),
///   (a − 1)(b − 1)(s − 1));
///
/// with M_ij the cell means over blocks, A_i, B_j, S_s the factor-level and block means,
/// Ȳ_{si·} and Ȳ_{s·j} a block's means over B and over A, and G the grand mean. `None` with
/// fewer than two blocks, fewer than two levels of either factor, ragged input, or when any
/// of the three error sums of squares is zero (at most 1e-20 of the total).
pub fn rm_anova_two_way(blocks: &[Vec<Vec<f64>>]) -> Option<TwoWay> {
    let ns = blocks.len();
    let na = blocks.first()?.len();
    let nb = blocks.first()?.first()?.len();
    if ns < 2 || na < 2 || nb < 2 {
        return None;
    }
    if blocks
        .iter()
        .any(|b| b.len() != na || b.iter().any(|row| row.len() != nb))
    {
        return None;
    }
    let shift = blocks[0][0][0];
    let y = |s: usize, i: usize, j: usize| blocks[s][i][j] - shift;
    let (sf, af, bf) = (ns as f64, na as f64, nb as f64);
    let mean = |it: &mut dyn Iterator<Item = f64>, n: f64| sum(it) / n;
    // Block × A means (over B), block × B means (over A), cell means (over blocks).
    let sa: Vec<Vec<f64>> = (0..ns)
        .map(|s| {
            (0..na)
                .map(|i| mean(&mut (0..nb).map(|j| y(s, i, j)), bf))
                .collect()
        })
        .collect();
    let sb: Vec<Vec<f64>> = (0..ns)
        .map(|s| {
            (0..nb)
                .map(|j| mean(&mut (0..na).map(|i| y(s, i, j)), af))
                .collect()
        })
        .collect();
    let cell: Vec<Vec<f64>> = (0..na)
        .map(|i| {
            (0..nb)
                .map(|j| mean(&mut (0..ns).map(|s| y(s, i, j)), sf))
                .collect()
        })
        .collect();
    let a_mean: Vec<f64> = (0..na)
        .map(|i| mean(&mut (0..nb).map(|j| cell[i][j]), bf))
        .collect();
    let b_mean: Vec<f64> = (0..nb)
        .map(|j| mean(&mut (0..na).map(|i| cell[i][j]), af))
        .collect();
    let s_mean: Vec<f64> = (0..ns)
        .map(|s| mean(&mut (0..na).map(|i| sa[s][i]), af))
        .collect();
    let g = mean(&mut a_mean.iter().copied(), af);

    let ss_a = sf * bf * sum(a_mean.iter().map(|m| (m - g).powi(2)));
    let ss_b = sf * af * sum(b_mean.iter().map(|m| (m - g).powi(2)));
    let ss_ab = sf
        * sum((0..na)
            .flat_map(|i| (0..nb).map(move |j| (i, j)))
            .map(|(i, j)| (cell[i][j] - a_mean[i] - b_mean[j] + g).powi(2)));
    let ss_as = bf
        * sum((0..ns)
            .flat_map(|s| (0..na).map(move |i| (s, i)))
            .map(|(s, i)| (sa[s][i] - a_mean[i] - s_mean[s] + g).powi(2)));
    let ss_bs = af
        * sum((0..ns)
            .flat_map(|s| (0..nb).map(move |j| (s, j)))
            .map(|(s, j)| (sb[s][j] - b_mean[j] - s_mean[s] + g).powi(2)));
    let all = || (0..ns).flat_map(|s| (0..na).flat_map(move |i| (0..nb).map(move |j| (s, i, j))));
    let ss_abs = sum(all().map(|(s, i, j)| {
        (y(s, i, j) - cell[i][j] - sa[s][i] - sb[s][j] + a_mean[i] + b_mean[j] + s_mean[s] - g)
            .powi(2)
    }));
    let ss_total = sum(all().map(|(s, i, j)| (y(s, i, j) - g).powi(2)));
    if [ss_as, ss_bs, ss_abs]
        .iter()
        .any(|&e| negligible(e, ss_total))
    {
        return None;
    }
    let (da, db, ds) = (af - 1.0, bf - 1.0, sf - 1.0);
    Some(TwoWay {
        a: f_test(ss_a, da, ss_as, da * ds),
        b: f_test(ss_b, db, ss_bs, db * ds),
        interaction: f_test(ss_ab, da * db, ss_abs, da * db * ds),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_signed_rank_distribution_matches_enumeration() {
        // Ranks 1..4: the 16 sign patterns give R+ = 0,1,2,3,3,4,4,5,5,6,6,7,7,8,9,10.
        let ranks = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(signed_rank_exact_p(&ranks, 0.0), 2.0 / 16.0);
        assert_eq!(signed_rank_exact_p(&ranks, 3.0), 2.0 * 5.0 / 16.0);
        assert_eq!(signed_rank_exact_p(&ranks, 5.0), 1.0);
        // Tied ranks 1.5, 1.5, 3: R+ in {0, 1.5, 1.5, 3, 3, 4.5, 4.5, 6}.
        assert_eq!(signed_rank_exact_p(&[1.5, 1.5, 3.0], 1.5), 2.0 * 3.0 / 8.0);
    }

    #[test]
    fn paired_functions_are_antisymmetric_and_none_when_degenerate() {
        let (x, y) = ([1.0, 2.5, 3.0, 4.5, 6.0], [1.5, 2.0, 4.0, 6.0, 6.5]);
        let (t, u) = (paired_t(&x, &y).unwrap(), paired_t(&y, &x).unwrap());
        assert_eq!(t.statistic, -u.statistic);
        assert_eq!(t.p, u.p);
        let (w, v) = (wilcoxon(&x, &y).unwrap(), wilcoxon(&y, &x).unwrap());
        assert_eq!((w.statistic, w.p), (v.statistic, v.p));
        let (a, b) = (cohen_dz(&x, &y).unwrap(), cohen_dz(&y, &x).unwrap());
        assert_eq!(a.g, -b.g);
        assert!(a.ci95.0 < a.g && a.g < a.ci95.1);
        assert_eq!(mcnemar(3, 9), mcnemar(9, 3));
        assert_eq!(mcnemar(0, 0), 1.0);
        assert_eq!(mcnemar(4, 4), 1.0);
        assert!((mcnemar(0, 5) - 2.0 / 32.0).abs() < 1e-15);

        assert_eq!(paired_t(&[1.0, 2.0], &[1.0]), None);
        assert_eq!(paired_t(&[1.0], &[2.0]), None);
        assert_eq!(paired_t(&[1.0, 2.0], &[0.0, 1.0]), None);
        assert_eq!(wilcoxon(&[], &[]), None);
        assert_eq!(wilcoxon(&[1.0, 2.0], &[1.0, 2.0]), None);
        assert_eq!(cohen_dz(&[3.0, 4.0], &[1.0, 2.0]), None);
        assert_eq!(paired_ci(&x, &y, 1.0), None);
    }

    #[test]
    fn rm_anova_matches_the_textbook_example() {
        // Three levels on four blocks: level means 2, 4, 6; the error is what the block and
        // level effects leave.
        let blocks = vec![
            vec![1.0, 3.0, 5.0],
            vec![2.0, 5.0, 6.0],
            vec![3.0, 4.0, 8.0],
            vec![2.0, 4.0, 5.0],
        ];
        let r = rm_anova_one_way(&blocks).unwrap();
        assert_eq!((r.df, r.df2), (Some(2.0), Some(6.0)));
        // SS_level = 4·(4 + 0 + 4) = 32; the residuals' sum of squares is 10/3 (by hand).
        let ss_error = 32.0 / 2.0 / r.statistic * 6.0;
        assert!((ss_error - 10.0 / 3.0).abs() < 1e-12, "{ss_error}");
        assert_eq!(rm_anova_one_way(&blocks[..1]), None);
        let additive = vec![vec![1.0, 2.0], vec![3.0, 4.0], vec![0.0, 1.0]];
        assert_eq!(rm_anova_one_way(&additive), None);
        assert_eq!(rm_anova_one_way(&[vec![1.0, 2.0], vec![3.0]]), None);
        let ragged = vec![
            vec![vec![1.0, 2.0], vec![3.0, 4.0]],
            vec![vec![1.0, 2.0], vec![3.0]],
        ];
        assert_eq!(rm_anova_two_way(&ragged), None);
    }
}
