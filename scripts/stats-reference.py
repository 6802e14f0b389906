#!/usr/bin/env python3
"""Writes tests/fixtures/stats/reference.json: inputs and scipy/statsmodels outputs for src/stats.

The Rust tests (tests/stats.rs) read the committed JSON; CI never runs this script. Run it
again only when a case is added or a reference library changes:

    python3 -m venv /work/venv-stats
    /work/venv-stats/bin/pip install numpy scipy statsmodels mpmath
    /work/venv-stats/bin/python scripts/stats-reference.py

`null` marks an input for which our function returns None: scipy or statsmodels returns NaN
or raises there (each such case says which in its name or a comment). Some outputs are ours by
definition rather than scipy's, and are computed here from their formulas:
- the t interval of a constant sample is (mean, mean) (scipy gives NaN for a zero scale);
- Hedges' g and its interval: scipy has no Hedges' g, so the textbook formulas
  (Hedges & Olkin 1985; J = 1 - 3/(4 df - 1), SE = sqrt((na+nb)/(na nb) + g^2/(2(na+nb))))
  are evaluated with numpy, independently of the Rust code;
- the paired d_z = mean(d)/sd(d) and its interval, SE = sqrt(1/n + dz^2/(2n)), likewise;
- group-sequential designs (scipy has none): the boundaries, drift and stage-wise p-values
  are solved here from the joint normal distribution of (Z_1..Z_K), corr sqrt(t_i/t_j),
  with scipy's multivariate_normal.cdf (Genz's randomized quasi-Monte Carlo, fixed seed),
  a different method from the Rust recursive integration. Its error is about 1e-7 in a
  probability with the 10^6 points used in root finding (so about 1e-6 on a boundary or the
  drift) and 3e-8 with the 2*10^6 used for p-values, so those cases carry their own absolute
  tolerances: 1e-4 on boundaries and drift, 1e-6 on p. The run takes about 15 minutes.

statsmodels' OLS (two_way_anova, rm_anova_*) goes through OpenBLAS, whose kernels depend on
the CPU: rerun on another machine, those values may move in the 14th digit, and F statistics
that are zero in exact arithmetic (no_effect_integers) by 1e-31. That is rounding, not a new
reference; the committed fixture keeps the values it was first made with.
"""

import json
import math
import os
import sys
import warnings
from decimal import Decimal, getcontext
from fractions import Fraction

import mpmath
import numpy as np
import pandas as pd
import scipy
import statsmodels
import statsmodels.formula.api as smf
from scipy import special, stats
from scipy.integrate import quad
from scipy.optimize import brentq
from statsmodels.stats.anova import AnovaRM
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.oneway import anova_oneway
from statsmodels.stats.power import TTestIndPower
from statsmodels.stats.proportion import proportions_ztest

warnings.simplefilter("ignore")
getcontext().prec = 50
mpmath.mp.dps = 40
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "stats", "reference.json")


def rng(seed):
    return np.random.default_rng(seed)


def r6(x):
    """Round to 6 decimals: short JSON, and the same double in Python and Rust."""
    return [float(v) for v in np.round(np.asarray(x, dtype=float), 6)]


def fl(x):
    return [float(v) for v in x]


def finite_or_none(*xs):
    return all(x is not None and math.isfinite(x) for x in xs)


# ---------------------------------------------------------------- describe, mean_ci, wilson
DESCRIBE = {
    "empty": [],
    "one_value": [3.5],
    "two_values": [1.0, 4.0],
    "ties": [1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0],
    "constant": [2.0] * 7,
    "even_n_unsorted": [5.0, 1.0, 4.0, 2.0, 3.0, 6.0],
    "negative_and_fractional": [-2.5, 0.125, -0.75, 3.0, 1e-3, -1e-3, 7.25, -4.0],
    "symmetric_mean_zero": [-3.0, -1.0, 0.0, 1.0, 3.0],
    "large_offset": r6(1e9 + rng(1).standard_normal(200)),
    "normal_50": r6(rng(2).normal(10, 3, 50)),
    "lognormal_200": r6(rng(3).lognormal(0, 1, 200)),
    "normal_5000": r6(rng(4).normal(-5, 2, 5000)),
    "integers_1_to_5_1000": fl(rng(5).integers(1, 6, 1000)),
}


def describe_ref(v):
    if len(v) == 0:
        return None
    a = np.asarray(v, dtype=float)
    n = len(a)
    mean = float(np.mean(a))
    sd = float(np.std(a, ddof=1)) if n >= 2 else None
    if sd is None:
        ci = None
    elif sd == 0:
        ci = [mean, mean]  # ours by definition; scipy gives NaN for scale 0
    else:
        ci = list(stats.t.interval(0.95, n - 1, loc=mean, scale=sd / math.sqrt(n)))
    return {
        "n": n,
        "mean": mean,
        "sd": sd,
        "min": float(np.min(a)),
        "max": float(np.max(a)),
        "median": float(np.percentile(a, 50)),
        "q1": float(np.percentile(a, 25)),
        "q3": float(np.percentile(a, 75)),
        "ci95": [float(c) for c in ci] if ci else None,
    }


MEAN_CI = [
    ("n2", 2, 1.0, 0.5, 0.95),
    ("n10_level90", 10, 5.0, 2.0, 0.90),
    ("n10_level99", 10, 5.0, 2.0, 0.99),
    ("n3_level999", 3, -1.0, 0.1, 0.999),
    ("n100000", 100000, 0.3, 4.0, 0.95),
    ("sd_zero", 12, 7.0, 0.0, 0.95),
    ("n1_none", 1, 1.0, 1.0, 0.95),
    ("level_1_none", 10, 1.0, 1.0, 1.0),
    ("level_0_none", 10, 1.0, 1.0, 0.0),
]


def mean_ci_ref(n, mean, sd, level):
    if n < 2 or not (0 < level < 1) or sd < 0:
        return None
    if sd == 0:
        return [mean, mean]
    return [float(c) for c in stats.t.interval(level, n - 1, loc=mean, scale=sd / math.sqrt(n))]


WILSON = [
    ("0_of_10", 0, 10, 0.95),
    ("10_of_10", 10, 10, 0.95),
    ("1_of_10", 1, 10, 0.95),
    ("5_of_10", 5, 10, 0.95),
    ("3_of_7_level90", 3, 7, 0.90),
    ("0_of_1", 0, 1, 0.95),
    ("1_of_1", 1, 1, 0.95),
    ("47_of_200_level99", 47, 200, 0.99),
    ("1_of_1000000", 1, 1000000, 0.95),
    ("999_of_1000", 999, 1000, 0.95),
    ("0_of_0_none", 0, 0, 0.95),
]


def wilson_ref(k, n, level):
    if n == 0:
        return None
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    return [float(ci.low), float(ci.high)]


# ---------------------------------------------------------------- two-sample tests
r = rng(10)
TWO_SAMPLE = {
    "ties": ([1.0, 2.0, 2.0, 3.0, 4.0], [2.0, 3.0, 3.0, 5.0, 6.0, 6.0]),
    "n2_each": ([1.0, 2.0], [3.0, 5.0]),
    "n1_and_n3": ([1.0], [2.0, 3.0, 4.0]),
    "n1_each": ([1.0], [2.0]),
    "unequal_n_and_variance": (r6(r.normal(0, 1, 12)), r6(r.normal(1, 4, 30))),
    "one_zero_variance": ([2.0, 2.0, 2.0], [1.0, 3.5, 4.0, 6.0]),
    "both_zero_variance": ([1.0, 1.0, 1.0], [2.0, 2.0]),
    "all_identical": ([3.0, 3.0, 3.0], [3.0, 3.0]),
    "identical_samples": ([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]),
    "empty_a": ([], [1.0, 2.0]),
    "far_apart": (r6(r.normal(0, 1, 40)), r6(r.normal(30, 1, 40))),
    "exact_3_vs_4": ([1.5, 7.25, 3.0], [2.0, 4.0, 9.0, 10.5]),
    "exact_8_vs_8": (r6(r.normal(0, 1, 8)), r6(r.normal(0.8, 1, 8))),
    "exact_5_vs_30": (r6(r.normal(0, 1, 5)), r6(r.normal(0.5, 1, 30))),
    "exact_8_vs_200": (r6(r.normal(0.3, 1, 8)), r6(r.normal(0, 1, 200))),
    "exact_3_vs_3000": (r6(r.normal(1, 1, 3)), r6(r.normal(0, 1, 3000))),
    "exact_disjoint_4_vs_6": ([10.0, 11.0, 12.0, 13.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    "asymptotic_9_vs_9": (r6(r.normal(0, 1, 9)), r6(r.normal(1, 1, 9))),
    "ties_small_asymptotic": ([1.0, 2.0, 2.0], [2.0, 3.0, 4.0, 4.0]),
    "likert_300_vs_280": (fl(r.integers(1, 6, 300)), fl(r.integers(2, 7, 280))),
    "normal_5000_vs_5000": (r6(r.normal(0, 1, 5000)), r6(r.normal(0.05, 1.2, 5000))),
    "shifted_large_offset": (r6(1e6 + r.normal(0, 1, 60)), r6(1e6 + r.normal(0.4, 1, 50))),
}


def test_dict(statistic, p, df=None, df2=None):
    return {"statistic": float(statistic), "df": None if df is None else float(df),
            "df2": None if df2 is None else float(df2), "p": float(p)}


def welch_ref(a, b, exact=False):
    if len(a) < 2 or len(b) < 2:
        return None  # scipy: NaN (variance of one value)
    if np.var(a) == 0 and np.var(b) == 0:
        return None  # scipy: t = +-inf, p = 0 with a placeholder df, or NaN
    res = stats.ttest_ind(a, b, equal_var=False)
    out = test_dict(res.statistic, res.pvalue, df=res.df)
    if exact:
        t = exact_welch_t(a, b)
        out["statistic"], out["p"] = t, float(2 * stats.t.sf(abs(t), res.df))
        out["scipy_statistic"], out["scipy_p"] = float(res.statistic), float(res.pvalue)
    return out


def welch_ci_ref(a, b, exact=False):
    if welch_ref(a, b) is None:
        return None
    res = stats.ttest_ind(a, b, equal_var=False)
    if exact:
        # As for welch_ref: numpy's rounded means lose the difference's digits; use exact ones.
        (ma, va), (mb, vb) = exact_mean_var(a), exact_mean_var(b)
        half = float(stats.t.isf(0.025, res.df)) * float(va / len(a) + vb / len(b)) ** 0.5
        return [float(ma - mb) - half, float(ma - mb) + half]
    lo, hi = res.confidence_interval(0.95)
    return [float(lo), float(hi)]


def mwu_ref(a, b):
    if len(a) == 0 or len(b) == 0:
        return None  # scipy: NaN
    res = stats.mannwhitneyu(a, b, alternative="two-sided", method="auto")
    return test_dict(res.statistic, res.pvalue)


def mwu_method(a, b):
    if len(a) == 0 or len(b) == 0:
        return None
    ties = len(np.unique(np.concatenate([a, b]))) != len(a) + len(b)
    return "exact" if (min(len(a), len(b)) <= 8 and not ties) else "asymptotic"


# Means near 10^6 that differ by 0.1: numpy's rounded means lose nine digits of their
# difference (scipy's t here is off by 1.8e-9 relative), so for these cases the Welch t and
# Hedges' g are computed in exact rational arithmetic instead; scipy's t is kept for reference.
EXACT_MEANS = {"shifted_large_offset"}


def exact_mean_var(x):
    x = [Fraction(v) for v in x]
    m = sum(x) / len(x)
    return m, sum((v - m) ** 2 for v in x) / (len(x) - 1)


def dec(f):
    return Decimal(f.numerator) / Decimal(f.denominator)


def exact_welch_t(a, b):
    (ma, va), (mb, vb) = exact_mean_var(a), exact_mean_var(b)
    return float(dec(ma - mb) / dec(va / len(a) + vb / len(b)).sqrt())


def exact_hedges_g(a, b):
    (ma, va), (mb, vb) = exact_mean_var(a), exact_mean_var(b)
    df = len(a) + len(b) - 2
    pooled = ((len(a) - 1) * va + (len(b) - 1) * vb) / df
    return float(dec((1 - Fraction(3, 4 * df - 1)) * (ma - mb)) / dec(pooled).sqrt())


def hedges_ref(a, b, exact=False):
    """Textbook Hedges' g (scipy has none): numpy, independent of the Rust code."""
    if len(a) < 2 or len(b) < 2:
        return None
    a, b = np.asarray(a, float), np.asarray(b, float)
    na, nb = len(a), len(b)
    df = na + nb - 2
    sp = math.sqrt(((na - 1) * np.var(a, ddof=1) + (nb - 1) * np.var(b, ddof=1)) / df)
    if sp == 0:
        return None
    g = (1 - 3 / (4 * df - 1)) * (np.mean(a) - np.mean(b)) / sp
    if exact:
        g = exact_hedges_g(a, b)
    se = math.sqrt((na + nb) / (na * nb) + g * g / (2 * (na + nb)))
    z = stats.norm.ppf(0.975)
    return {"g": float(g), "ci95": [float(g - z * se), float(g + z * se)]}


# ---------------------------------------------------------------- k-sample tests
r = rng(20)
GROUPS = {
    "three_groups": [[2.1, 3.4, 1.9, 5.0, 4.2], [3.3, 6.1, 5.5, 4.8], [7.2, 6.6, 8.1, 5.9, 7.7, 6.0]],
    "three_groups_ties": [[1.0, 2.0, 2.0, 3.0], [2.0, 3.0, 3.0, 4.0, 4.0], [3.0, 4.0, 5.0, 5.0]],
    "four_groups_unequal": [r6(r.normal(0, 1, 6)), r6(r.normal(0.5, 2, 9)), r6(r.normal(1, 0.5, 4)),
                            r6(r.normal(0, 3, 15))],
    "five_groups": [r6(r.normal(m, s, n)) for m, s, n in
                    [(0, 1, 10), (0.2, 1.5, 12), (0.4, 1, 8), (1, 2, 20), (-0.3, 0.7, 11)]],
    "two_groups": [[1.0, 2.0, 4.0, 3.5], [2.5, 5.0, 6.5, 4.0, 7.0]],
    "groups_of_one_kruskal": [[1.0], [3.0], [2.0]],
    "a_group_of_one": [[1.0], [2.0, 3.0, 4.0], [3.0, 5.0, 4.5]],
    "a_zero_variance_group": [[2.0, 2.0, 2.0], [1.0, 3.0, 4.0], [3.0, 5.0, 4.5]],
    "all_identical": [[2.0, 2.0], [2.0, 2.0, 2.0], [2.0]],
    "one_group": [[1.0, 2.0, 3.0]],
    "an_empty_group": [[1.0, 2.0], [], [3.0, 4.0]],
    "large_3x2000": [r6(r.normal(m, s, 2000)) for m, s in [(0, 1), (0.05, 1.3), (0.1, 0.8)]],
    "large_ties_3x5000": [fl(r.integers(lo, lo + 5, 5000)) for lo in (1, 1, 2)],
    "far_apart": [r6(r.normal(m, 1, 30)) for m in (0, 20, 40)],
}


def welch_anova_ref(groups):
    if len(groups) < 2 or any(len(g) < 2 for g in groups):
        return None  # scipy: NaN / raises
    if any(np.var(g) == 0 for g in groups):
        return None  # scipy: NaN (infinite weight)
    res = stats.f_oneway(*groups, equal_var=False)
    sm = anova_oneway([np.asarray(g) for g in groups], use_var="unequal")
    assert math.isclose(sm.statistic, res.statistic, rel_tol=1e-10), (sm.statistic, res.statistic)
    assert math.isclose(sm.pvalue, res.pvalue, rel_tol=1e-8, abs_tol=1e-300)
    return test_dict(res.statistic, res.pvalue, df=sm.df_num, df2=sm.df_denom)


def kruskal_ref(groups):
    if len(groups) < 2 or any(len(g) == 0 for g in groups):
        return None  # scipy raises / NaN
    res = stats.kruskal(*groups)
    if not math.isfinite(res.statistic):
        return None  # all identical: NaN
    return test_dict(res.statistic, res.pvalue, df=len(groups) - 1)


# ---------------------------------------------------------------- holm, fisher, proportions
HOLM = {
    "empty": [],
    "single": [0.03],
    "four": [0.01, 0.04, 0.03, 0.005],
    "ties": [0.02, 0.02, 0.5, 0.001, 0.02],
    "capped": [0.4, 0.6, 0.9, 0.2],
    "zeros_and_ones": [0.0, 1.0, 0.0, 0.5],
    "random_50": [float(v) for v in rng(30).uniform(0, 0.2, 50) ** 2],
}

FISHER = {
    "tea_tasting": [3, 1, 1, 3],
    "scipy_doc": [6, 2, 1, 4],
    "zero_row": [0, 0, 3, 4],
    "zero_column": [0, 5, 0, 7],
    "zero_cell": [0, 5, 5, 0],
    "one_zero": [0, 10, 7, 3],
    "symmetric_mode": [5, 5, 5, 5],
    "wide": [1, 9, 11, 3],
    "large_moderate": [1200, 800, 950, 1050],
    "large_near_one": [2000, 2000, 2000, 2001],
    "large_mild": [5000, 4900, 4950, 5050],
    "large_tiny_p": [3000, 10, 10, 3000],
    "large_unbalanced": [12, 4988, 30, 4970],
    "very_large": [40000, 39500, 39000, 41000],
    "huge_1e6": [10**6, 10**6, 10**6, 10**6 + 1500],
    "huge_1e8": [10**8, 10**8, 10**8, 10**8 + 15000],
    "huge_1e9": [10**9, 10**9, 10**9, 10**9 + 60000],
    "huge_lopsided": [10**9, 3, 7, 10**9],
}



def fisher_mp(table):
    """Two-sided Fisher p at 40 digits (mpmath), with the same 1 + 1e-7 tolerance.

    scipy's fisher_exact loses digits on huge tables (6e-10 relative at 10^6 a cell, 5e-8 at
    10^8); where it differs from this by more than 1e-10 the fixture uses this value and keeps
    scipy's as `scipy_p`. Each tail is summed from its inner end outward by exact ratios of
    neighbours, until the terms fall below 1e-40 of the sum.
    """
    a, b, c, d = table
    r1, r2, c1 = a + b, c + d, a + c
    n = r1 + r2
    if 0 in (r1, r2, c1, b + d):
        return mpmath.mpf(1)
    lo, hi = max(0, c1 - r2), min(r1, c1)
    mode = (c1 + 1) * (r1 + 1) // (n + 2)

    def ln_pmf(x):
        lg = mpmath.loggamma
        return (lg(r1 + 1) - lg(x + 1) - lg(r1 - x + 1) + lg(r2 + 1) - lg(c1 - x + 1)
                - lg(r2 - c1 + x + 1) - lg(n + 1) + lg(c1 + 1) + lg(n - c1 + 1))

    def tail(x, step, end):
        p = mpmath.exp(ln_pmf(x))
        total = p
        while x != end and p > total * mpmath.mpf("1e-40"):
            if step == 1:
                p = p * (r1 - x) * (c1 - x) / ((x + 1) * (r2 - c1 + x + 1))
            else:
                p = p * x * (r2 - c1 + x) / ((r1 - x + 1) * (c1 - x + 1))
            x += step
            total += p
        return total

    l_obs = ln_pmf(a)
    if l_obs >= ln_pmf(mode) + mpmath.log(1 - mpmath.mpf("1e-7")):
        return mpmath.mpf(1)
    cut = l_obs + mpmath.log(1 + mpmath.mpf("1e-7"))
    far = mpmath.mpf(0)
    if a < mode:
        if ln_pmf(hi) <= cut:
            lo_, hi_ = mode + 1, hi
            while lo_ < hi_:
                mid = (lo_ + hi_) // 2
                lo_, hi_ = (lo_, mid) if ln_pmf(mid) <= cut else (mid + 1, hi_)
            far = tail(lo_, 1, hi)
        near = tail(a, -1, lo)
    else:
        if ln_pmf(lo) <= cut:
            lo_, hi_ = lo, mode - 1
            while lo_ < hi_:
                mid = (lo_ + hi_ + 1) // 2
                lo_, hi_ = (mid, hi_) if ln_pmf(mid) <= cut else (lo_, mid - 1)
            far = tail(lo_, -1, lo)
        near = tail(a, 1, hi)
    return min(near + far, mpmath.mpf(1))


def fisher_ref(name, table):
    p = float(stats.fisher_exact([table[:2], table[2:]])[1])
    exact = float(fisher_mp(table))
    if abs(p - exact) > 1e-10 * max(p, exact):
        return {"name": name, "table": table, "expected": exact, "scipy_p": p}
    return {"name": name, "table": table, "expected": p}


PROPORTIONS = [
    ("small", 5, 20, 12, 20),
    ("zero_in_one", 0, 10, 5, 10),
    ("large", 480, 1000, 520, 1000),
    ("unequal_n", 30, 45, 12, 60),
    ("one_each", 1, 1, 0, 1),
    ("pooled_zero_none", 0, 5, 0, 7),
    ("pooled_one_none", 10, 10, 10, 10),
    ("empty_group_none", 0, 0, 3, 5),
]


def proportions_ref(s1, n1, s2, n2):
    if n1 == 0 or n2 == 0:
        return None
    pooled = (s1 + s2) / (n1 + n2)
    if pooled in (0, 1):
        return None  # statsmodels: NaN (zero variance)
    z, p = proportions_ztest([s1, s2], [n1, n2])
    return test_dict(z, p)


# ---------------------------------------------------------------- power and sample size
ANALYSIS = TTestIndPower()


def power_ref(d, n, alpha):
    """statsmodels TTestIndPower.power; where it is NaN, the same sum with its lower tail by quad.

    scipy 1.17's nctdtr returns NaN for far lower tails (e.g. df=798, nc=7.07, t=-2.58, where
    the value is 3e-22), and statsmodels adds that NaN to the upper tail. There the lower tail
    is computed as E[Phi(t*sqrt(V/df) - nc)], V ~ chi2(df), by adaptive quadrature; it is
    below 1e-20 in every such case, so the expected power is scipy's upper tail.
    """
    p = float(ANALYSIS.power(d, n, alpha))
    if not math.isnan(p):
        return p, None
    df, nc = 2 * n - 2, d * math.sqrt(n / 2)
    crit = stats.t.isf(alpha / 2, df)
    upper = 1 - special.nctdtr(df, nc, crit)

    def integrand(v):
        return stats.norm.cdf(-crit * math.sqrt(v / df) - nc) * stats.chi2.pdf(v, df)

    lower = quad(integrand, stats.chi2.ppf(1e-14, df), stats.chi2.isf(1e-14, df),
                 epsabs=0, epsrel=1e-12, limit=500)[0]
    assert lower < 1e-12, lower
    return float(upper + lower), "statsmodels gives NaN (scipy nctdtr lower tail); lower tail by quad"


def n_for_power_ref(d, alpha, power):
    if d == 0:
        return None
    n = ANALYSIS.solve_power(effect_size=d, nobs1=None, alpha=alpha, power=power)
    n = max(2, math.ceil(n))
    # The definition we implement: the smallest integer n >= 2 with power(n) >= target.
    assert ANALYSIS.power(d, n, alpha) >= power
    assert n == 2 or ANALYSIS.power(d, n - 1, alpha) < power
    return n


def n_for_half_width_ref(sd, hw, level):
    if not (sd > 0 and hw > 0 and 0 < level < 1):
        return None
    q = (1 + level) / 2

    def ok(n):
        return stats.t.ppf(q, n - 1) * sd / math.sqrt(n) <= hw

    if ok(2):
        return 2
    lo, hi = 2, 4
    while not ok(hi):
        lo, hi = hi, hi * 2
        if hi > 10**7 * 4:
            return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi if hi <= 10**7 else None


# ---------------------------------------------------------------- two-way ANOVA
r = rng(40)


def design(means, sizes, sd=1.0):
    return [[r6(r.normal(m, sd, n)) for m, n in zip(row_m, row_n)] for row_m, row_n in zip(means, sizes)]


TWO_WAY = {
    "balanced_2x2": design([[0, 1], [0.5, 2]], [[5, 5], [5, 5]]),
    "unbalanced_2x2": design([[0, 1], [0.5, 2]], [[3, 7], [6, 4]]),
    "unbalanced_2x3": design([[0, 0.5, 1], [1, 1, 3]], [[4, 6, 3], [5, 2, 7]]),
    "unbalanced_3x3": design([[0, 1, 2], [1, 1, 1], [2, 0, 1]], [[3, 4, 5], [5, 3, 2], [2, 6, 4]], 1.5),
    "single_obs_cells": [[[1.0], [2.0, 3.5]], [[4.0, 4.5, 6.0], [3.0]]],
    "no_effect_integers": [[[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0], [2.0, 1.0, 3.0]]],
    "large_2x2": design([[0, 0.1], [0.05, 0.3]], [[400, 380], [410, 395]]),
    "empty_cell_none": [[[1.0, 2.0], []], [[3.0, 4.0], [5.0, 6.0]]],
    "one_obs_each_none": [[[1.0], [2.0]], [[3.0], [5.0]]],
    "constant_cells_none": [[[1.0, 1.0], [2.0, 2.0]], [[3.0, 3.0], [4.0, 4.0]]],
}


def two_way_ref(cells):
    rows = []
    for i, row in enumerate(cells):
        for j, cell in enumerate(row):
            rows += [{"a": f"a{i:02d}", "b": f"b{j:02d}", "y": y} for y in cell]
    na, nb = len(cells), len(cells[0])
    if any(len(c) == 0 for row in cells for c in row) or len(rows) <= na * nb:
        return None  # statsmodels: rank-deficient design or no residual df
    fit = smf.ols("y ~ C(a, Sum) * C(b, Sum)", data=pd.DataFrame(rows)).fit()
    if fit.ssr <= 1e-20 * max(1.0, float(np.sum(fit.model.endog ** 2))):
        return None  # every cell constant: F is infinite or NaN
    table = sm_anova(fit)
    out = {}
    for key, term in (("a", "C(a, Sum)"), ("b", "C(b, Sum)"), ("interaction", "C(a, Sum):C(b, Sum)")):
        row = table.loc[term]
        out[key] = test_dict(row["F"], row["PR(>F)"], df=row["df"], df2=table.loc["Residual", "df"])
    return out


def sm_anova(fit):
    import statsmodels.api as sm
    return sm.stats.anova_lm(fit, typ=3)



# ---------------------------------------------------------------- paired comparisons
r = rng(50)


def paired(n, shift, sd=1.0, base_sd=3.0, offset=0.0):
    """Two variations on n shared seeds: a common per-seed level plus independent noise."""
    base = offset + r.normal(0, base_sd, n)
    return r6(base + r.normal(shift, sd, n)), r6(base + r.normal(0, sd, n))


def likert(n, lo_x=1, lo_y=1):
    base = r.integers(0, 3, n)
    return fl(np.minimum(base + r.integers(lo_x, lo_x + 3, n), 7)), fl(np.minimum(base + r.integers(lo_y, lo_y + 3, n), 7))


PAIRED = {
    "exact_n5": paired(5, 1.0),
    "exact_n12": paired(12, 0.5),
    "exact_n20": paired(20, 0.3),
    "exact_n50": paired(50, 0.2),
    "asymptotic_n51": paired(51, 0.2),
    "asymptotic_n300": paired(300, 0.1),
    "normal_n5000": paired(5000, 0.02),
    "ties_n8": ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], [0.0, 3.0, 1.0, 2.0, 8.0, 5.0, 3.0, 6.0]),
    "zeros_n10": ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
                  [1.0, 1.5, 3.0, 2.75, 5.25, 4.0, 7.0, 9.5, 6.0, 12.5]),
    "ties_and_zeros_n13": likert(13, 2, 1),
    "ties_n14_asymptotic": likert(14, 2, 1),
    "zeros_n30_asymptotic": likert(30, 1, 1),
    "likert_n200": likert(200, 2, 1),
    "one_pair": ([2.0], [1.0]),
    "two_pairs": ([1.0, 3.0], [0.5, 1.0]),
    "one_nonzero_n6": ([1.0, 2.0, 3.0, 4.0, 5.0, 6.5], [1.0, 2.0, 3.0, 4.0, 5.0, 5.0]),
    "all_positive_n6": ([2.0, 4.0, 6.5, 8.25, 10.0, 13.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    "all_negative_n16": ([float(v) for v in range(16)], [float(v) + 0.5 + 0.1 * v for v in range(16)]),
    "constant_difference_n5": ([3.0, 4.0, 5.0, 6.0, 7.0], [1.0, 2.0, 3.0, 4.0, 5.0]),
    "large_offset": paired(40, 0.1, sd=0.5, base_sd=0.2, offset=1e6),
    "mean_near_zero": ([1.0, -1.0, 2.0, -2.0, 3.0, -3.000001], [0.0] * 6),
    # scipy: statistic 0, p = 1 (its permutation test, n <= 13); ours None, see wilcoxon's doc.
    "all_zero_n5_none": ([1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0, 5.0]),
    "all_zero_n20_none": ([float(v) for v in range(20)], [float(v) for v in range(20)]),  # scipy: NaN
    "different_lengths_none": ([1.0, 2.0, 3.0], [1.0, 2.0]),  # scipy raises
    "empty_none": ([], []),  # scipy: NaN
}


def paired_ok(x, y, at_least):
    return len(x) == len(y) and len(x) >= at_least


def paired_t_ref(x, y):
    if not paired_ok(x, y, 2):
        return None  # scipy raises (lengths) or gives NaN (one pair)
    if np.var(np.subtract(x, y)) == 0:
        return None  # scipy: t = +-inf with p = 0, or NaN
    res = stats.ttest_rel(x, y)
    return test_dict(res.statistic, res.pvalue, df=res.df)


def paired_ci_ref(x, y, level):
    if paired_t_ref(x, y) is None:
        return None
    lo, hi = stats.ttest_rel(x, y).confidence_interval(level)
    return [float(lo), float(hi)]


def wilcoxon_method(x, y):
    """What scipy's method='auto' does (scipy 1.17 _wilcoxon.py), for the record."""
    if not paired_ok(x, y, 1):
        return None
    d = np.subtract(x, y)
    nz = np.abs(d[d != 0])
    ties = len(np.unique(nz)) != len(nz)
    if len(d) > 50:
        return "asymptotic"
    if not ties and len(nz) == len(d):
        return "exact"
    return "permutation" if len(d) <= 13 else "asymptotic"


def wilcoxon_ref(x, y):
    if not paired_ok(x, y, 1):
        return None  # scipy raises (lengths) or gives NaN (empty)
    if np.all(np.subtract(x, y) == 0):
        return None  # scipy: NaN for n > 13, statistic 0 and p = 1 for n <= 13 (departure)
    res = stats.wilcoxon(x, y)
    return test_dict(res.statistic, res.pvalue)


def scipy_wilcoxon(x, y):
    """scipy's own answer where ours is None by choice (all differences zero, n <= 13)."""
    if paired_ok(x, y, 1) and np.all(np.subtract(x, y) == 0):
        res = stats.wilcoxon(x, y)
        if math.isfinite(res.pvalue):
            return test_dict(res.statistic, res.pvalue)
    return None


def cohen_dz_ref(x, y):
    """Cohen's d_z = mean(d)/sd(d) with SE = sqrt(1/n + dz^2/(2n)): numpy, not the Rust code."""
    if not paired_ok(x, y, 2):
        return None
    d = np.subtract(np.asarray(x, float), np.asarray(y, float))
    sd = float(np.std(d, ddof=1))
    if sd == 0:
        return None
    n = len(d)
    dz = float(np.mean(d)) / sd
    se = math.sqrt(1 / n + dz * dz / (2 * n))
    z = stats.norm.ppf(0.975)
    return {"g": dz, "ci95": [dz - z * se, dz + z * se]}


def paired_case(name, x, y):
    case = {"name": name, "x": x, "y": y, "wilcoxon_method": wilcoxon_method(x, y),
            "paired_t": paired_t_ref(x, y), "paired_ci95": paired_ci_ref(x, y, 0.95),
            "paired_ci90": paired_ci_ref(x, y, 0.90), "wilcoxon": wilcoxon_ref(x, y),
            "cohen_dz": cohen_dz_ref(x, y)}
    theirs = scipy_wilcoxon(x, y)
    if theirs:
        case["scipy_wilcoxon"] = theirs
    return case


MCNEMAR = [(0, 0), (0, 1), (1, 0), (3, 9), (9, 3), (5, 5), (0, 20), (12, 0), (10, 11), (100, 130),
           (1000, 1100), (50000, 51000), (10**6, 10**6 + 3000), (10**9, 10**9 + 100000), (0, 1074)]


def mcnemar_ref(only_x, only_y):
    return float(mcnemar([[7, only_x], [only_y, 4]], exact=True).pvalue)


# ---------------------------------------------------------------- repeated-measures ANOVA
r = rng(60)


def rm_blocks(s, effects, block_sd=2.0, sd=1.0, offset=0.0):
    base = offset + r.normal(0, block_sd, s)
    return [r6(base[i] + np.asarray(effects, float) + r.normal(0, sd, len(effects))) for i in range(s)]


def rm_blocks2(s, effects, block_sd=2.0, sd=1.0):
    """blocks[s][i][j] with cell effects effects[i][j], a block level and a block x A term."""
    effects = np.asarray(effects, float)
    a, b = effects.shape
    out = []
    for _ in range(s):
        level = r.normal(0, block_sd) + r.normal(0, 0.5, (a, 1))
        out.append([r6(row) for row in level + effects + r.normal(0, sd, (a, b))])
    return out


RM_ONE = {
    "three_levels_10_blocks": rm_blocks(10, [0.0, 0.5, 1.0]),
    "two_levels_2_blocks": [[1.0, 2.5], [3.0, 3.5]],
    "five_levels_30_blocks": rm_blocks(30, [0.0, 0.1, 0.2, 0.0, 0.3]),
    "no_effect": rm_blocks(8, [0.0, 0.0, 0.0, 0.0]),
    "large_offset": rm_blocks(12, [0.0, 0.05, 0.1], block_sd=0.1, sd=0.1, offset=1e6),
    "integer_scores": [fl(v) for v in r.integers(1, 6, (15, 3))],
    "textbook": [[1.0, 3.0, 5.0], [2.0, 5.0, 6.0], [3.0, 4.0, 8.0], [2.0, 4.0, 5.0]],
    "additive_none": [[1.0, 2.0, 4.0], [3.0, 4.0, 6.0], [0.0, 1.0, 3.0]],  # error SS 0: F infinite
    "constant_none": [[2.0, 2.0], [2.0, 2.0], [2.0, 2.0]],  # statsmodels: NaN
    "one_block_none": [[1.0, 2.0, 3.0]],  # no error df
    "one_level_none": [[1.0], [2.0], [3.0]],  # no effect df
    "ragged_none": [[1.0, 2.0, 3.0], [2.0, 3.0]],  # statsmodels: unbalanced, raises
}

RM_TWO = {
    "2x3_8_blocks": rm_blocks2(8, [[0.0, 0.5, 1.0], [0.3, 0.3, 1.5]]),
    "2x2_2_blocks": [[[1.0, 2.0], [3.0, 5.0]], [[2.0, 2.5], [4.5, 4.0]]],
    "3x4_20_blocks": rm_blocks2(20, [[0.0, 0.1, 0.2, 0.3], [0.2, 0.0, 0.1, 0.5], [0.0, 0.0, 0.0, 0.0]]),
    "2x2_no_effect": rm_blocks2(10, [[0.0, 0.0], [0.0, 0.0]]),
    "integer_scores_2x3": [[fl(row) for row in r.integers(1, 6, (2, 3))] for _ in range(12)],
    # y = u[s][i] + v[s][j] + w[i][j]: the three-way residual is zero, the other errors are not.
    "additive_three_way_none": [[[u + v + w for v, w in zip(vs, ws)] for u, ws in zip(us, [[0.0, 1.0], [2.0, 5.0]])]
                                for us, vs in [([0.0, 1.0], [0.0, 3.0]), ([2.0, -1.0], [1.0, 1.0]),
                                               ([0.5, 0.0], [2.0, -2.0])]],
    "one_block_none": [[[1.0, 2.0], [3.0, 4.0]]],
    "one_level_of_b_none": [[[1.0], [2.0]], [[2.0], [4.0]], [[3.0], [3.5]]],
    "ragged_none": [[[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0]]],
}


def F(v):
    return Fraction(v)


def to_float(q):
    return float(dec(q)) if q.denominator != 1 else float(q)


def rm_one_exact(blocks):
    """Sums of squares in exact rational arithmetic: (SS_level, SS_error, SS_total)."""
    s, k = len(blocks), len(blocks[0])
    y = [[F(v) for v in b] for b in blocks]
    lv = [sum(y[i][j] for i in range(s)) / s for j in range(k)]
    bl = [sum(row) / k for row in y]
    g = sum(lv) / k
    ss_l = s * sum((m - g) ** 2 for m in lv)
    ss_e = sum((y[i][j] - lv[j] - bl[i] + g) ** 2 for i in range(s) for j in range(k))
    ss_t = sum((y[i][j] - g) ** 2 for i in range(s) for j in range(k))
    return ss_l, ss_e, ss_t


def f_from_exact(ss, df, ss_err, df2):
    f = to_float((ss / df) / (ss_err / df2))
    return test_dict(f, stats.f.sf(f, df, df2), df=df, df2=df2)


def close_or_exact(theirs, exact):
    """statsmodels' test, or the exact one (keeping statsmodels') where they differ by > 1e-10."""
    if math.isclose(theirs["statistic"], exact["statistic"], rel_tol=1e-10, abs_tol=1e-12):
        return theirs
    out = dict(exact)
    out["statsmodels"] = theirs
    return out


def rm_one_ref(blocks):
    s = len(blocks)
    k = len(blocks[0]) if blocks else 0
    if s < 2 or k < 2 or any(len(b) != k for b in blocks):
        return None
    ss_l, ss_e, ss_t = rm_one_exact(blocks)
    if ss_e <= Fraction(1, 10**20) * ss_t:
        return None
    rows = [{"block": f"s{i:03d}", "level": f"l{j:02d}", "y": v} for i, b in enumerate(blocks) for j, v in enumerate(b)]
    row = AnovaRM(pd.DataFrame(rows), "y", "block", within=["level"]).fit().anova_table.loc["level"]
    theirs = test_dict(row["F Value"], row["Pr > F"], df=row["Num DF"], df2=row["Den DF"])
    return close_or_exact(theirs, f_from_exact(ss_l, k - 1, ss_e, (k - 1) * (s - 1)))


def rm_two_exact(blocks):
    ns, na, nb = len(blocks), len(blocks[0]), len(blocks[0][0])
    y = [[[F(v) for v in row] for row in b] for b in blocks]
    cell = [[sum(y[s][i][j] for s in range(ns)) / ns for j in range(nb)] for i in range(na)]
    sa = [[sum(y[s][i]) / nb for i in range(na)] for s in range(ns)]
    sb = [[sum(y[s][i][j] for i in range(na)) / na for j in range(nb)] for s in range(ns)]
    am = [sum(cell[i]) / nb for i in range(na)]
    bm = [sum(cell[i][j] for i in range(na)) / na for j in range(nb)]
    sm = [sum(sa[s]) / na for s in range(ns)]
    g = sum(am) / na
    ss = {
        "a": ns * nb * sum((m - g) ** 2 for m in am),
        "b": ns * na * sum((m - g) ** 2 for m in bm),
        "ab": ns * sum((cell[i][j] - am[i] - bm[j] + g) ** 2 for i in range(na) for j in range(nb)),
        "as": nb * sum((sa[s][i] - am[i] - sm[s] + g) ** 2 for s in range(ns) for i in range(na)),
        "bs": na * sum((sb[s][j] - bm[j] - sm[s] + g) ** 2 for s in range(ns) for j in range(nb)),
        "abs": sum((y[s][i][j] - cell[i][j] - sa[s][i] - sb[s][j] + am[i] + bm[j] + sm[s] - g) ** 2
                   for s in range(ns) for i in range(na) for j in range(nb)),
        "total": sum((y[s][i][j] - g) ** 2 for s in range(ns) for i in range(na) for j in range(nb)),
    }
    return ss


def rm_two_ref(blocks):
    ns = len(blocks)
    if ns < 2:
        return None
    na, nb = len(blocks[0]), len(blocks[0][0])
    if na < 2 or nb < 2 or any(len(b) != na or any(len(row) != nb for row in b) for b in blocks):
        return None  # statsmodels: no effect df, or unbalanced (raises)
    ss = rm_two_exact(blocks)
    if any(ss[e] <= Fraction(1, 10**20) * ss["total"] for e in ("as", "bs", "abs")):
        return None  # an error SS is zero: F infinite or NaN
    rows = [{"block": f"s{s:03d}", "a": f"a{i:02d}", "b": f"b{j:02d}", "y": v}
            for s, b in enumerate(blocks) for i, row in enumerate(b) for j, v in enumerate(row)]
    table = AnovaRM(pd.DataFrame(rows), "y", "block", within=["a", "b"]).fit().anova_table
    da, db, ds = na - 1, nb - 1, ns - 1
    exact = {"a": f_from_exact(ss["a"], da, ss["as"], da * ds),
             "b": f_from_exact(ss["b"], db, ss["bs"], db * ds),
             "interaction": f_from_exact(ss["ab"], da * db, ss["abs"], da * db * ds)}
    out = {}
    for key, term in (("a", "a"), ("b", "b"), ("interaction", "a:b")):
        row = table.loc[term]
        theirs = test_dict(row["F Value"], row["Pr > F"], df=row["Num DF"], df2=row["Den DF"])
        out[key] = close_or_exact(theirs, exact[key])
    return out


# ---------------------------------------------------------------- group-sequential designs
def obf_ref(alpha, t):
    """Lan-DeMets O'Brien-Fleming-type, two-sided: alpha/2 a side, 2 - 2 Phi(z_{1-alpha/4}/sqrt t) each."""
    if t >= 1:
        return alpha
    if t <= 0:
        return 0.0
    return float(4 * stats.norm.sf(stats.norm.isf(alpha / 4) / math.sqrt(t)))


def ld_one_sided(a, t):
    """Lan-DeMets one-sided O'Brien-Fleming-type spending of a: 2 - 2 Phi(z_{1-a/2}/sqrt t)."""
    if t >= 1:
        return a
    return float(2 * stats.norm.sf(stats.norm.isf(a / 2) / math.sqrt(t)))


OBF = [(a, t) for a in (0.05, 0.01, 0.1, 0.2, 1e-4) for t in (-0.5, 0.0, 0.005, 0.01, 0.1, 0.2, 0.25, 0.5,
                                                              0.75, 0.999, 1.0, 1.5)]

Z_FROM_T = [(2.5, 4.0), (-2.5, 4.0), (0.0, 10.0), (1.0, 1.0), (-12.0, 2.0), (3.1, 29.0), (0.2, 200.0),
            (-1.96, 1e6), (40.0, 5.0), (6.5, 60.0), (1e-8, 3.0), (25.0, 1000.0)]


def z_from_t_ref(t, df):
    if t == 0:
        return 0.0
    return float(math.copysign(stats.norm.isf(stats.t.sf(abs(t), df)), t))


MVN_SOLVE_POINTS = 1_000_000
MVN_P_POINTS = 2_000_000
GS_TOLERANCE = {"boundary": 1e-4, "drift": 1e-4, "p": 1e-6}


def box(lo, hi, fractions, theta, points):
    """P(lo_i < Z_i < hi_i, i < len(lo)) for Z_i ~ N(theta sqrt(t_i), 1), corr sqrt(t_i/t_j)."""
    k = len(lo)
    t = np.asarray(fractions[:k], float)
    mean = theta * np.sqrt(t)
    if k == 1:
        return float(stats.norm.cdf(hi[0] - mean[0]) - stats.norm.cdf(lo[0] - mean[0]))
    cov = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    return float(stats.multivariate_normal.cdf(np.asarray(hi, float), mean, cov, lower_limit=np.asarray(lo, float),
                                               maxpts=points, abseps=1e-13, releps=0,
                                               rng=np.random.default_rng(20240613)))


def reach(efficacy, futility, k):
    """The continuation region through looks 0..k-1, as boxes (lists of bounds)."""
    boxes = [([], [])]
    for j in range(k):
        e, f = efficacy[j], futility[j]
        bands = [(-e, e)] if f <= 0 else ([] if f >= e else [(-e, -f), (f, e)])
        boxes = [(lo + [a], hi + [b]) for lo, hi in boxes for a, b in bands]
    return boxes


def gs_efficacy(alpha, fractions):
    bounds = []
    for k, t in enumerate(fractions):
        if k == 0:
            bounds.append(float(stats.norm.isf(obf_ref(alpha, t) / 2)))
            continue
        # Continuing through look k under H0 has probability 1 - alpha(t_k).
        target = 1 - obf_ref(alpha, t)
        lo, hi = [-e for e in bounds], list(bounds)
        bounds.append(brentq(lambda c: box(lo + [-c], hi + [c], fractions, 0.0, MVN_SOLVE_POINTS) - target,
                             0.5, 20.0, xtol=1e-10))
    return bounds


def gs_futility(fractions, efficacy, beta, theta):
    """Futility boundaries by miss spending under theta, and the power (rejection in theta's
    direction, futility obeyed); the definitions of src/stats/sequential.rs."""
    futility, power, last = [], 0.0, len(fractions) - 1
    spent = [ld_one_sided(beta, t) for t in fractions]
    for k, e in enumerate(efficacy):
        boxes = reach(efficacy, futility, k)
        power += sum(box(lo + [e], hi + [np.inf], fractions, theta, MVN_SOLVE_POINTS) for lo, hi in boxes)
        if k == last:
            futility.append(e)
            break
        down = sum(box(lo + [-np.inf], hi + [-e], fractions, theta, MVN_SOLVE_POINTS) for lo, hi in boxes)
        target = spent[k] - (spent[k - 1] if k else 0.0) - down

        def inside(c):
            return sum(box(lo + [-c], hi + [c], fractions, theta, MVN_SOLVE_POINTS) for lo, hi in boxes)

        if target <= 0:
            f = 0.0
        else:
            most = inside(e)
            f = e if target >= most else brentq(lambda c: inside(c) - target, 0.0, e, xtol=1e-10)
        futility.append(f)
    return futility, power


def gs_design(alpha, power, fractions):
    ok = (0 < alpha < 1 and alpha < power < 1 and 0 < len(fractions) <= 50 and fractions[-1] == 1.0
          and fractions[0] > 0 and all(b > a for a, b in zip(fractions, fractions[1:])))
    if not ok:
        return None
    efficacy = gs_efficacy(alpha, fractions)
    beta = 1 - power
    fixed = stats.norm.isf(alpha / 2) + stats.norm.isf(beta)
    lo, hi = 0.9 * fixed, 1.3 * fixed
    assert gs_futility(fractions, efficacy, beta, lo)[1] < power
    while gs_futility(fractions, efficacy, beta, hi)[1] < power:
        hi *= 1.3
    drift = brentq(lambda th: gs_futility(fractions, efficacy, beta, th)[1] - power, lo, hi, xtol=1e-9)
    futility, _ = gs_futility(fractions, efficacy, beta, drift)
    return {"efficacy": efficacy, "futility": futility, "drift": drift}


def stagewise_p_ref(fractions, efficacy, look, z):
    """1 - P0(|Z_i| < e_i for i < look, |Z_look| < |z|), with 2e6 QMC points."""
    z = abs(z)
    if look == 0:
        return float(2 * stats.norm.sf(z))
    lo = [-e for e in efficacy[:look]] + [-z]
    hi = list(efficacy[:look]) + [z]
    return 1.0 - box(lo, hi, fractions, 0.0, MVN_P_POINTS)


GS = [
    ("obf_5_equal_a05_p80", 0.05, 0.8, [0.2, 0.4, 0.6, 0.8, 1.0]),
    ("obf_3_a05_p90", 0.05, 0.9, [0.3, 0.6, 1.0]),
    ("obf_2_a01_p80", 0.01, 0.8, [0.5, 1.0]),
    ("obf_4_early_a10_p85", 0.1, 0.85, [0.1, 0.25, 0.7, 1.0]),
    ("obf_2_low_power_a05_p30", 0.05, 0.3, [0.5, 1.0]),
    ("one_look_a05_p80", 0.05, 0.8, [1.0]),
    ("alpha_0_none", 0.0, 0.8, [0.5, 1.0]),
    ("alpha_1_none", 1.0, 0.8, [0.5, 1.0]),
    ("power_1_none", 0.05, 1.0, [0.5, 1.0]),
    ("power_below_alpha_none", 0.05, 0.04, [0.5, 1.0]),
    ("no_looks_none", 0.05, 0.8, []),
    ("not_increasing_none", 0.05, 0.8, [0.5, 0.5, 1.0]),
    ("last_not_one_none", 0.05, 0.8, [0.5, 0.9]),
    ("first_zero_none", 0.05, 0.8, [0.0, 0.5, 1.0]),
    ("51_looks_none", 0.05, 0.8, [i / 51 for i in range(1, 52)]),
]


def gs_case(name, alpha, power, fractions):
    design = gs_design(alpha, power, fractions)
    case = {"name": name, "alpha": alpha, "power": power, "fractions": fractions, "expected": design}
    if design:
        case["tolerance"] = GS_TOLERANCE
        ps = []
        for look, e in enumerate(design["efficacy"]):
            for z in (e, e + 0.5, -(e - 0.7), 0.3, 2.2):
                ps.append({"look": look, "z": z, "p": stagewise_p_ref(fractions, design["efficacy"], look, z)})
        case["sequential_p"] = ps
    print(f"  {name}: {design}", file=sys.stderr)
    return case


# ---------------------------------------------------------------- assemble
def main():
    out = {
        "generated_by": "scripts/stats-reference.py",
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "statsmodels": statsmodels.__version__,
            "pandas": pd.__version__,
            "mpmath": mpmath.__version__,
        },
        "describe": [{"name": k, "values": v, "expected": describe_ref(v)} for k, v in DESCRIBE.items()],
        "mean_ci": [{"name": name, "n": n, "mean": m, "sd": s, "level": lv, "expected": mean_ci_ref(n, m, s, lv)}
                    for name, n, m, s, lv in MEAN_CI],
        "wilson": [{"name": name, "successes": k, "n": n, "level": lv, "expected": wilson_ref(k, n, lv)}
                   for name, k, n, lv in WILSON],
        # One input, several functions: each case holds every function's expected output.
        "two_sample": [{"name": k, "a": a, "b": b, "mann_whitney_method": mwu_method(a, b),
                        "welch_t": welch_ref(a, b, k in EXACT_MEANS), "mann_whitney": mwu_ref(a, b),
                        "welch_ci": welch_ci_ref(a, b, k in EXACT_MEANS),
                        "hedges_g": hedges_ref(a, b, k in EXACT_MEANS)}
                       for k, (a, b) in TWO_SAMPLE.items()],
        "groups": [{"name": k, "groups": g, "welch_anova": welch_anova_ref(g), "kruskal_wallis": kruskal_ref(g)}
                   for k, g in GROUPS.items()],
        "holm": [{"name": k, "p": p, "expected": [float(v) for v in multipletests(p, method="holm")[1]] if p else []}
                 for k, p in HOLM.items()],
        "fisher_exact": [fisher_ref(k, t) for k, t in FISHER.items()],
        "two_proportions": [{"name": name, "s1": s1, "n1": n1, "s2": s2, "n2": n2,
                             "expected": proportions_ref(s1, n1, s2, n2)} for name, s1, n1, s2, n2 in PROPORTIONS],
        "power_two_sample": [],
        "n_for_power": [],
        "n_for_half_width": [],
        "two_way_anova": [{"name": k, "cells": c, "expected": two_way_ref(c)} for k, c in TWO_WAY.items()],
        # Paired: x[k] and y[k] share seed k; each case holds every paired function's output.
        "paired": [paired_case(k, x, y) for k, (x, y) in PAIRED.items()],
        "mcnemar": [{"name": f"{a}_vs_{b}", "only_x": a, "only_y": b, "expected": mcnemar_ref(a, b)}
                    for a, b in MCNEMAR],
        "rm_anova_one_way": [{"name": k, "blocks": b, "expected": rm_one_ref(b)} for k, b in RM_ONE.items()],
        "rm_anova_two_way": [{"name": k, "blocks": b, "expected": rm_two_ref(b)} for k, b in RM_TWO.items()],
        "obf_spending": [{"name": f"a{a}_t{t}", "alpha": a, "t": t, "expected": obf_ref(a, t)} for a, t in OBF],
        "z_from_t": [{"name": f"t{t}_df{df}", "t": t, "df": df, "expected": z_from_t_ref(t, df)}
                     for t, df in Z_FROM_T],
        "group_sequential": [gs_case(*c) for c in GS],
    }
    # Every 2x2 table with total <= 12, to pin down "as extreme" on exact ties.
    sweep = []
    for total in range(1, 13):
        for a in range(total + 1):
            for b in range(total - a + 1):
                for c in range(total - a - b + 1):
                    d = total - a - b - c
                    sweep.append([a, b, c, d, float(stats.fisher_exact([[a, b], [c, d]])[1])])
    out["fisher_exact_sweep"] = sweep
    for d in (0.2, 0.5, 0.8, 1.2, -0.5, 0.0, 2.5):
        for n in (2, 3, 5, 10, 20, 50, 100, 400, 2000):
            for alpha in (0.05, 0.01):
                p, note = power_ref(d, n, alpha)
                case = {"name": f"d{d}_n{n}_a{alpha}", "d": d, "n": n, "alpha": alpha, "expected": p}
                if note:
                    case["note"] = note
                out["power_two_sample"].append(case)
    for d in (0.2, 0.5, 0.8, 1.2, -0.8, 0.0, 3.0):
        for power in (0.8, 0.9):
            for alpha in (0.05, 0.01):
                out["n_for_power"].append({"name": f"d{d}_pow{power}_a{alpha}", "d": d, "alpha": alpha,
                                           "power": power, "expected": n_for_power_ref(d, alpha, power)})
    for sd, hw, level in ((1.0, 0.5, 0.95), (2.0, 0.25, 0.95), (1.0, 0.1, 0.99), (1.0, 2.0, 0.95),
                          (10.0, 1.0, 0.90), (3.0, 2.9, 0.95), (1.0, 0.01, 0.95), (0.0, 1.0, 0.95),
                          (1.0, 1e-5, 0.95), (1.0, 0.0, 0.95)):
        out["n_for_half_width"].append({"name": f"sd{sd}_hw{hw}_l{level}", "sd": sd, "half_width": hw,
                                        "level": level, "expected": n_for_half_width_ref(sd, hw, level)})
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    # One case a line, so that a regenerated fixture diffs case by case.
    def dumps(v):
        return json.dumps(v, allow_nan=False, separators=(",", ":"))

    lines = []
    for key, value in out.items():
        if isinstance(value, list):
            body = ",\n".join("  " + dumps(case) for case in value)
            lines.append(f"{dumps(key)}: [\n{body}\n]")
        else:
            lines.append(f"{dumps(key)}: {dumps(value)}")
    with open(OUT, "w") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")
    counts = {k: len(v) for k, v in out.items() if isinstance(v, list)}
    print(f"wrote {os.path.normpath(OUT)}: {counts}")


if __name__ == "__main__":
    main()
