//! Describing one sample: the summary table row, the t interval of a mean, the streaming
//! mean for per-turn trajectories, and the Wilson interval of a proportion.

use super::dist::{norm_quantile, t_isf};
use super::{mean_var, valid_level};

/// Descriptive summary of a sample. Quartiles/median: linear interpolation (numpy's default, type 7).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (divisor n - 1); `None` when n < 2.
    pub sd: Option<f64>,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Median (numpy `percentile(.., 50)`).
    pub median: f64,
    /// First quartile (numpy `percentile(.., 25)`, linear interpolation).
    pub q1: f64,
    /// Third quartile (numpy `percentile(.., 75)`, linear interpolation).
    pub q3: f64,
    /// Student t 95% interval of the mean; `None` when n < 2, `(mean, mean)` when sd == 0.
    pub ci95: Option<(f64, f64)>,
}

/// Summarises a sample: n, mean, sd, min, max, quartiles and the 95% t interval of the mean.
///
/// `None` when `values` is empty. Values must be finite (the caller filters). Quartiles follow
/// numpy's default `linear` method (Hyndman & Fan type 7), interpolated as numpy's `_lerp`
/// does, so that they match `numpy.percentile` to the last digit or so.
pub fn describe(values: &[f64]) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (mean, var) = mean_var(values, 0.0);
    let sd = var.map(f64::sqrt);
    Some(Summary {
        n: values.len(),
        mean,
        sd,
        min: sorted[0],
        max: sorted[sorted.len() - 1],
        median: quantile_sorted(&sorted, 0.5),
        q1: quantile_sorted(&sorted, 0.25),
        q3: quantile_sorted(&sorted, 0.75),
        ci95: sd.and_then(|sd| mean_ci(values.len(), mean, sd, 0.95)),
    })
}

/// The `q` quantile of sorted, non-empty values by linear interpolation between order
/// statistics at (n - 1)·q, written like numpy's `_lerp` (from the upper neighbour when the
/// fraction is at least one half) so that the two round alike.
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = q * (sorted.len() - 1) as f64;
    let lo = h.floor();
    let i = lo as usize;
    let j = (i + 1).min(sorted.len() - 1);
    let (a, b, t) = (sorted[i], sorted[j], h - lo);
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// The Student t interval of a mean, `mean ± t_{(1+level)/2, n-1} · sd/√n`, as
/// `scipy.stats.t.interval(level, n - 1, loc=mean, scale=sd/√n)`.
///
/// `None` when n < 2 (no degrees of freedom), when `level` is not strictly between 0 and 1,
/// or when `sd` is negative or not finite. With `sd == 0` the interval is `(mean, mean)` (scipy
/// gives NaN for a zero scale; a sample whose values are all equal has no spread to show).
pub fn mean_ci(n: usize, mean: f64, sd: f64, level: f64) -> Option<(f64, f64)> {
    if n < 2 || !valid_level(level) || sd.is_nan() || sd < 0.0 || sd.is_infinite() {
        return None;
    }
    let half = t_isf((1.0 - level) / 2.0, (n - 1) as f64) * (sd / (n as f64).sqrt());
    Some((mean - half, mean + half))
}

/// Streaming mean/variance (Welford), for per-turn trajectories where values are not kept.
///
/// Welford's update keeps the sum of squared deviations directly, so it does not cancel the
/// way `Σx² - (Σx)²/n` does; the values are also shifted by the first one, which keeps the
/// update exact when the mean is large against the spread (10^9 ± 1 loses nothing).
#[derive(Clone, Debug, Default)]
pub struct Running {
    n: usize,
    shift: f64,
    mean: f64,
    m2: f64,
}

impl Running {
    /// Adds one value (finite; the caller filters).
    pub fn push(&mut self, x: f64) {
        if self.n == 0 {
            self.shift = x;
        }
        let x = x - self.shift;
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// Number of values pushed.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Mean of the values pushed; `None` before the first.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.shift + self.mean)
    }

    /// Sample standard deviation (divisor n - 1); `None` while n < 2.
    pub fn sd(&self) -> Option<f64> {
        (self.n > 1).then(|| (self.m2.max(0.0) / (self.n - 1) as f64).sqrt())
    }

    /// The 95% t interval of the mean, as [`mean_ci`]; `None` while n < 2.
    pub fn ci95(&self) -> Option<(f64, f64)> {
        mean_ci(self.n, self.mean()?, self.sd()?, 0.95)
    }
}

/// The Wilson score interval of a proportion `successes / n`, without continuity correction,
/// as `scipy.stats.binomtest(successes, n).proportion_ci(level, method='wilson')` (same
/// formula, Newcombe 1998, including its exact 0 and 1 ends when successes is 0 or n).
///
/// Preferred to the Wald interval because it stays inside [0, 1] and keeps its coverage for
/// 0/n and n/n, which small batches produce often. `None` when n == 0, successes > n, or
/// `level` is not strictly between 0 and 1.
pub fn wilson(successes: usize, n: usize, level: f64) -> Option<(f64, f64)> {
    if n == 0 || successes > n || !valid_level(level) {
        return None;
    }
    let (k, nf) = (successes as f64, n as f64);
    let p = k / nf;
    let z = norm_quantile(0.5 + 0.5 * level);
    let denom = 2.0 * (nf + z * z);
    let center = (2.0 * nf * p + z * z) / denom;
    let delta = z / denom * (4.0 * nf * p * (1.0 - p) + z * z).sqrt();
    let lo = if successes == 0 { 0.0 } else { center - delta };
    let hi = if successes == n { 1.0 } else { center + delta };
    Some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_of_nothing_is_none_and_of_one_value_has_no_spread() {
        assert_eq!(describe(&[]), None);
        let s = describe(&[3.5]).unwrap();
        assert_eq!((s.n, s.mean, s.sd, s.ci95), (1, 3.5, None, None));
        assert_eq!(
            (s.min, s.q1, s.median, s.q3, s.max),
            (3.5, 3.5, 3.5, 3.5, 3.5)
        );
    }

    #[test]
    fn constant_sample_has_a_zero_width_interval() {
        let s = describe(&[2.0; 7]).unwrap();
        assert_eq!(s.sd, Some(0.0));
        assert_eq!(s.ci95, Some((2.0, 2.0)));
    }

    #[test]
    fn interval_contains_the_mean_and_widens_with_level() {
        let (lo90, hi90) = mean_ci(10, 5.0, 2.0, 0.90).unwrap();
        let (lo99, hi99) = mean_ci(10, 5.0, 2.0, 0.99).unwrap();
        assert!(lo99 < lo90 && lo90 < 5.0 && 5.0 < hi90 && hi90 < hi99);
        assert_eq!(mean_ci(1, 5.0, 2.0, 0.95), None);
        assert_eq!(mean_ci(10, 5.0, 2.0, 1.0), None);
        assert_eq!(mean_ci(10, 5.0, -1.0, 0.95), None);
    }

    #[test]
    fn running_matches_describe_even_far_from_zero() {
        let values: Vec<f64> = (0..1000).map(|i| 1e9 + f64::from(i % 17) * 0.25).collect();
        let mut r = Running::default();
        assert_eq!((r.mean(), r.sd(), r.ci95()), (None, None, None));
        values.iter().for_each(|&v| r.push(v));
        let s = describe(&values).unwrap();
        assert_eq!(r.n(), s.n);
        assert!((r.mean().unwrap() - s.mean).abs() <= 1e-15 * s.mean);
        assert!((r.sd().unwrap() / s.sd.unwrap() - 1.0).abs() < 1e-12);
        let (a, b) = (r.ci95().unwrap(), s.ci95.unwrap());
        assert!((a.0 - b.0).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6);
    }

    #[test]
    fn wilson_stays_in_the_unit_interval() {
        assert_eq!(wilson(0, 0, 0.95), None);
        assert_eq!(wilson(3, 2, 0.95), None);
        let (lo, hi) = wilson(0, 10, 0.95).unwrap();
        assert!(lo == 0.0 && hi > 0.0 && hi < 1.0);
        let (lo, hi) = wilson(10, 10, 0.95).unwrap();
        assert!(lo > 0.0 && hi == 1.0);
        let (lo, hi) = wilson(4, 10, 0.95).unwrap();
        assert!(lo < 0.4 && 0.4 < hi);
    }
}
