//! How big a difference is, and how many runs it takes: Hedges' g with its interval, the
//! power of a two-sample t test, and the sample sizes that reach a target power or a target
//! interval width. These answer "how many runs should this batch have?" before it is paid for.

use super::dist::{nct_cdf, norm_quantile, t_isf};
use super::{first_value, mean_var, valid_level};

/// The largest sample size the planners will propose; beyond it they return `None`, since a
/// batch that large is a sign of a mistaken input (a tiny effect or width) more than a plan.
const MAX_N: usize = 10_000_000;

/// A standardised effect size with its approximate 95% confidence interval.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Effect {
    /// Hedges' g: Cohen's d with the small-sample bias correction.
    pub g: f64,
    /// 95% interval from the normal approximation of g's sampling distribution.
    pub ci95: (f64, f64),
}

/// Hedges' g of `a` against `b`, with its 95% interval (Hedges & Olkin 1985):
///
/// - pooled sd s_p = √[((n_a - 1)s²_a + (n_b - 1)s²_b) / (n_a + n_b - 2)];
/// - d = (mean(a) - mean(b)) / s_p;
/// - g = J·d with J = 1 - 3/(4(n_a + n_b - 2) - 1), the usual approximation of the exact
///   gamma-function correction (within 0.1% from 6 observations on);
/// - SE(g) = √[(n_a + n_b)/(n_a·n_b) + g²/(2(n_a + n_b))], CI = g ± z_{0.975}·SE(g).
///
/// A standardised difference lets metrics on different scales be compared; g rather than d
/// because batches are often small, where d overstates effects. `None` when either group has
/// fewer than two values or the pooled sd is zero (no spread to standardise by). scipy has
/// no Hedges' g: the reference script computes these formulas with numpy.
pub fn hedges_g(a: &[f64], b: &[f64]) -> Option<Effect> {
    let shift = first_value([a, b]);
    let ((ma, va), (mb, vb)) = (mean_var(a, shift), mean_var(b, shift));
    let (va, vb) = (va?, vb?);
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let df = na + nb - 2.0;
    let sp = (((na - 1.0) * va + (nb - 1.0) * vb) / df).sqrt();
    if sp <= 0.0 {
        return None;
    }
    let g = (1.0 - 3.0 / (4.0 * df - 1.0)) * (ma - mb) / sp;
    let se = ((na + nb) / (na * nb) + g * g / (2.0 * (na + nb))).sqrt();
    let z = norm_quantile(0.975);
    Some(Effect {
        g,
        ci95: (g - z * se, g + z * se),
    })
}

/// Power of the two-sided, pooled two-sample t test with `n_per_group` in each group, at
/// standardised effect `d` (Cohen's d) and level `alpha`, as statsmodels
/// `TTestIndPower().power(d, n, alpha)`: with ν = 2n - 2, δ = d·√(n/2) and c = t_{1-α/2, ν},
/// power = P(T' > c) + P(T' < -c) for T' noncentral t(ν, δ), computed exactly (see
/// `dist::nct_cdf`), not by the normal approximation.
///
/// NaN when `n_per_group` < 2 (no degrees of freedom; statsmodels gives NaN too) or `alpha` is
/// not strictly between 0 and 1; the planners below never ask for those.
pub fn power_two_sample(d: f64, n_per_group: usize, alpha: f64) -> f64 {
    if n_per_group < 2 || !valid_level(alpha) {
        return f64::NAN;
    }
    let n = n_per_group as f64;
    let df = 2.0 * n - 2.0;
    let nc = d * (n / 2.0).sqrt();
    let crit = t_isf(alpha / 2.0, df);
    (1.0 - nct_cdf(crit, df, nc)) + nct_cdf(-crit, df, nc)
}

/// The smallest n per group for which the two-sided two-sample t test (equal n, pooled) at
/// effect size `d` reaches `power` at level `alpha`, by [`power_two_sample`]; the same
/// number as `ceil(TTestIndPower().solve_power(d, None, alpha, power))` in statsmodels, at
/// least 2.
///
/// `None` when d is 0 (no n suffices), alpha or power is not strictly between 0 and 1, or
/// the answer would exceed 10^7 per group.
pub fn n_for_power(d: f64, alpha: f64, power: f64) -> Option<usize> {
    if d == 0.0 || !d.is_finite() || !valid_level(alpha) || !valid_level(power) {
        return None;
    }
    let z = norm_quantile(1.0 - alpha / 2.0) + norm_quantile(power);
    let guess = 2.0 * (z / d).powi(2);
    smallest_n(guess, |n| power_two_sample(d, n, alpha) >= power)
}

/// The smallest n ≥ 2 whose t interval of the mean at `level` has half-width at most
/// `half_width` when the standard deviation is `sd`: t_{(1+level)/2, n-1}·sd/√n ≤ half_width.
///
/// Plans a batch for precision rather than for a test: "how many runs until the mean is
/// known to ±h". `None` when sd or half_width is not positive, level is not strictly between
/// 0 and 1, or the answer would exceed 10^7.
pub fn n_for_half_width(sd: f64, half_width: f64, level: f64) -> Option<usize> {
    if !(sd > 0.0 && sd.is_finite() && half_width > 0.0 && half_width.is_finite()) {
        return None;
    }
    if !valid_level(level) {
        return None;
    }
    let q = (1.0 - level) / 2.0;
    let guess = (norm_quantile(1.0 - q) * sd / half_width).powi(2);
    smallest_n(guess, |n| {
        t_isf(q, (n - 1) as f64) * sd / (n as f64).sqrt() <= half_width
    })
}

/// The smallest n in 2..=MAX_N with `ok(n)`, for `ok` false then true as n grows, starting
/// the search near `guess` (a normal-approximation answer, usually a little low).
fn smallest_n(guess: f64, ok: impl Fn(usize) -> bool) -> Option<usize> {
    if ok(2) {
        return Some(2);
    }
    let mut lo = 2; // ok(lo) is false
    let mut hi = if guess.is_finite() && guess < MAX_N as f64 {
        (guess.ceil() as usize).max(3)
    } else {
        MAX_N
    };
    while !ok(hi) {
        if hi == MAX_N {
            return None;
        }
        lo = hi;
        hi = (hi * 2).min(MAX_N);
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hedges_g_is_antisymmetric_and_its_interval_contains_it() {
        let (a, b) = ([1.0, 2.0, 3.0, 4.0], [2.0, 3.5, 5.0, 6.0, 7.0]);
        let ab = hedges_g(&a, &b).unwrap();
        let ba = hedges_g(&b, &a).unwrap();
        assert!((ab.g + ba.g).abs() < 1e-15);
        assert!(ab.ci95.0 < ab.g && ab.g < ab.ci95.1);
        assert_eq!(hedges_g(&[1.0], &b), None);
        assert_eq!(hedges_g(&[1.0, 1.0], &[1.0, 1.0, 1.0]), None);
    }

    #[test]
    fn power_grows_with_n_and_starts_at_alpha() {
        let p0 = power_two_sample(0.0, 20, 0.05);
        assert!((p0 - 0.05).abs() < 1e-12, "{p0}");
        let mut last = 0.0;
        for n in [2, 5, 10, 20, 50, 100] {
            let p = power_two_sample(0.5, n, 0.05);
            assert!(p > last && p < 1.0);
            last = p;
        }
        assert_eq!(
            power_two_sample(0.5, 30, 0.05),
            power_two_sample(-0.5, 30, 0.05)
        );
        assert!(power_two_sample(0.5, 1, 0.05).is_nan());
    }

    #[test]
    fn planners_return_the_first_n_that_suffices() {
        let n = n_for_power(0.5, 0.05, 0.8).unwrap();
        assert!(power_two_sample(0.5, n, 0.05) >= 0.8);
        assert!(power_two_sample(0.5, n - 1, 0.05) < 0.8);
        assert_eq!(n_for_power(0.0, 0.05, 0.8), None);
        assert_eq!(n_for_power(1e-4, 0.05, 0.8), None);
        let n = n_for_half_width(2.0, 0.5, 0.95).unwrap();
        assert!(t_isf(0.025, (n - 1) as f64) * 2.0 / (n as f64).sqrt() <= 0.5);
        assert!(t_isf(0.025, (n - 2) as f64) * 2.0 / ((n - 1) as f64).sqrt() > 0.5);
        assert_eq!(n_for_half_width(0.0, 0.5, 0.95), None);
        assert_eq!(n_for_half_width(1.0, 1e-6, 0.95), None);
        assert_eq!(n_for_half_width(1.0, 100.0, 0.95), Some(2));
    }
}
