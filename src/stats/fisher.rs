//! Fisher's exact test for a 2×2 table (for example successes and failures under two
//! variations), for counts from zero to billions.

use super::dist::stirling_tail;
use std::f64::consts::PI;

/// Relative tolerance for "as extreme as observed": R's `fisher.test` value (see
/// [`fisher_exact`] for why not scipy's).
const REL_TOL: f64 = 1e-7;

/// Fisher's exact test of the 2×2 table [[a, b], [c, d]], two-sided: the total probability,
/// under the hypergeometric law of `a` given the table's margins, of the tables no more
/// probable than the observed one, as `scipy.stats.fisher_exact`. 1 when a row or a column
/// is empty (scipy gives 1 too).
///
/// Probabilities are in logs, from Loader's saddle-point form of the hypergeometric (as R's
/// `dhyper`), which keeps about 14 digits where differences of lnΓ would lose one digit per
/// factor of ten in the counts. The tails are summed outward from their largest term until
/// the rest is negligible, and the far tail's start is found by bisection, so the cost grows
/// with the square root of the counts (microseconds for thousands, 0.1 s at 10^12) and
/// nothing overflows.
///
/// A table counts as "as extreme" when its probability is at most (1 + 1e-7) times the
/// observed one. scipy 1.17 uses 1 + 1e-14, which is at the level of the rounding of the
/// probabilities themselves, so tables equal in exact arithmetic (there are many, by
/// symmetry) would be in or out by chance; R's `fisher.test` uses 1 + 1e-7 for that reason.
/// The two agree unless a table's probability lies within a relative 1e-7 of the observed
/// one without being equal to it; the fixture checks every table of total up to 12.
pub fn fisher_exact(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let (a, b, c, d) = (u128::from(a), u128::from(b), u128::from(c), u128::from(d));
    let m = Margins {
        r1: a + b,
        r2: c + d,
        c1: a + c,
        c2: b + d,
    };
    if m.r1 == 0 || m.r2 == 0 || m.c1 == 0 || m.c2 == 0 {
        return 1.0;
    }
    let n = m.r1 + m.r2;
    let (lo, hi) = (m.c1.saturating_sub(m.r2), m.r1.min(m.c1));
    let mode = match (m.c1 + 1).checked_mul(m.r1 + 1) {
        Some(v) => v / (n + 2),
        None => ((m.c1 as f64 + 1.0) * (m.r1 as f64 + 1.0) / (n as f64 + 2.0)) as u128,
    }
    .clamp(lo, hi);
    let (lp_obs, lp_mode) = (m.ln_pmf(a), m.ln_pmf(mode));
    if lp_obs - lp_mode >= (-REL_TOL).ln_1p() {
        return 1.0;
    }
    let cut = lp_obs + REL_TOL.ln_1p();
    let (near, far) = if a < mode {
        // First x above the mode with probability at most the cut (ln_pmf falls there).
        let far = (m.ln_pmf(hi) <= cut).then(|| {
            let (mut l, mut h) = (mode + 1, hi);
            while l < h {
                let mid = l + (h - l) / 2;
                if m.ln_pmf(mid) <= cut {
                    h = mid;
                } else {
                    l = mid + 1;
                }
            }
            m.ln_tail(l, hi)
        });
        (m.ln_tail(a, lo), far)
    } else {
        // Last x below the mode with probability at most the cut (ln_pmf rises there).
        let far = (m.ln_pmf(lo) <= cut).then(|| {
            let (mut l, mut h) = (lo, mode - 1);
            while l < h {
                let mid = l + (h - l).div_ceil(2);
                if m.ln_pmf(mid) <= cut {
                    l = mid;
                } else {
                    h = mid - 1;
                }
            }
            m.ln_tail(l, lo)
        });
        (m.ln_tail(a, hi), far)
    };
    let ln_p = match far {
        Some(far) => near.max(far) + (-(near - far).abs()).exp().ln_1p(),
        None => near,
    };
    ln_p.exp().min(1.0)
}

/// The margins of a 2×2 table: row sums r1, r2 and column sums c1, c2. Given them, the
/// top-left cell x determines the table: [[x, r1 - x], [c1 - x, r2 - c1 + x]].
struct Margins {
    r1: u128,
    r2: u128,
    c1: u128,
    c2: u128,
}

impl Margins {
    /// ln P(X = x) = ln[C(r1, x)·C(r2, c1 - x) / C(r1 + r2, c1)], written as
    /// b(x; r1, p)·b(c1 - x; r2, p) / b(c1; r1 + r2, p) with binomial probabilities b at
    /// p = c1/(r1 + r2) (any p cancels; this one keeps each factor near its mode), as R's dhyper.
    fn ln_pmf(&self, x: u128) -> f64 {
        let total = (self.r1 + self.r2) as f64;
        let (p, q) = (self.c1 as f64 / total, self.c2 as f64 / total);
        ln_binom_pmf(x as f64, self.r1 as f64, p, q)
            + ln_binom_pmf((self.c1 - x) as f64, self.r2 as f64, p, q)
            - ln_binom_pmf(self.c1 as f64, total, p, q)
    }

    /// ln Σ P(X = x) for x from `start` to `end` inclusive, walking away from the mode. Terms
    /// come from the ratio of neighbours; because the law is log-concave those ratios shrink
    /// as the walk goes on, so once the current term times ρ/(1 - ρ) is below 1e-17 of the sum
    /// the rest cannot matter.
    fn ln_tail(&self, start: u128, end: u128) -> f64 {
        let (r1, r2, c1) = (self.r1, self.r2, self.c1);
        let up = end > start;
        let (mut x, mut term, mut total) = (start, 1.0f64, 1.0f64);
        while x != end {
            let ratio = if up {
                // P(x + 1) / P(x)
                (r1 - x) as f64 * (c1 - x) as f64
                    / ((x as f64 + 1.0) * ((r2 + x - c1) as f64 + 1.0))
            } else {
                // P(x - 1) / P(x)
                x as f64 * (r2 + x - c1) as f64
                    / (((r1 - x) as f64 + 1.0) * ((c1 - x) as f64 + 1.0))
            };
            term *= ratio;
            total += term;
            x = if up { x + 1 } else { x - 1 };
            if ratio < 1.0 && term * ratio / (1.0 - ratio) < 1e-17 * total {
                break;
            }
        }
        self.ln_pmf(start) + total.ln()
    }
}

/// ln of the binomial probability of x successes in n trials of probability p (q = 1 - p,
/// passed separately; both positive), in Loader's saddle-point form as R's `dbinom_raw`:
/// ln b = stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, np) - bd0(n - x, nq)
/// - ½·ln(2π·x·(n - x)/n). No term is large, so nothing cancels even for n of 10^9.
pub(super) fn ln_binom_pmf(x: f64, n: f64, p: f64, q: f64) -> f64 {
    if x == 0.0 {
        if n == 0.0 {
            return 0.0;
        }
        return if p < 0.1 {
            -bd0(n, n * q) - n * p
        } else {
            n * q.ln()
        };
    }
    if x == n {
        return if q < 0.1 {
            -bd0(n, n * p) - n * q
        } else {
            n * p.ln()
        };
    }
    let lc = stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, n * p) - bd0(n - x, n * q);
    lc - 0.5 * ((2.0 * PI).ln() + x.ln() + (-x / n).ln_1p())
}

/// The deviance term x·ln(x/m) + m - x, by its series when x is near m (where the closed
/// form cancels).
fn bd0(x: f64, m: f64) -> f64 {
    if (x - m).abs() < 0.1 * (x + m) {
        let mut v = (x - m) / (x + m);
        let mut s = (x - m) * v;
        if s.abs() < f64::MIN_POSITIVE {
            return s;
        }
        let mut ej = 2.0 * x * v;
        v *= v;
        for j in 1..1000 {
            ej *= v;
            let next = s + ej / f64::from(2 * j + 1);
            if next == s {
                return next;
            }
            s = next;
        }
        return s;
    }
    x * (x / m).ln() + m - x
}

/// ln(n!) - [(n + 1/2)·ln n - n + ln(2π)/2], Stirling's error, for integer n ≥ 1: the series
/// from 10 on, the definition with an exact n! below.
fn stirlerr(n: f64) -> f64 {
    if n >= 10.0 {
        return stirling_tail(n);
    }
    let factorial: f64 = (2..=n as u32).map(f64::from).product();
    factorial.ln() - (n + 0.5) * n.ln() + n - 0.5 * (2.0 * PI).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_sum_to_one() {
        let m = Margins {
            r1: 30,
            r2: 40,
            c1: 35,
            c2: 35,
        };
        let total: f64 = (0..=30).map(|x| m.ln_pmf(x).exp()).sum();
        assert!((total - 1.0).abs() < 1e-14, "{total}");
        // Against exact rationals: P(X = 0) for r1 = 3, r2 = 4, c1 = 3 is C(4,3)/C(7,3) = 4/35.
        let m = Margins {
            r1: 3,
            r2: 4,
            c1: 3,
            c2: 4,
        };
        assert!((m.ln_pmf(0).exp() - 4.0 / 35.0).abs() < 1e-16);
    }

    #[test]
    fn empty_margins_and_the_mode_give_one() {
        assert_eq!(fisher_exact(0, 0, 3, 4), 1.0);
        assert_eq!(fisher_exact(0, 5, 0, 7), 1.0);
        assert_eq!(
            fisher_exact(1_000_000, 1_000_000, 1_000_000, 1_000_000),
            1.0
        );
    }

    #[test]
    fn huge_counts_stay_accurate_and_fast() {
        // 10^12 a cell, one standard deviation (5·10^5) off the mode: p near 0.32.
        let big = 10u64.pow(12);
        let p = fisher_exact(big, big, big, big + 2 * 10u64.pow(6));
        assert!((0.25..0.40).contains(&p), "{p}");
        assert_eq!(
            fisher_exact(3_000_000, 2_000_000, 2_000_000, 3_000_000),
            0.0
        );
        let p = fisher_exact(u64::MAX / 4, 1, 1, u64::MAX / 4);
        assert!((0.0..=1.0).contains(&p));
    }
}
