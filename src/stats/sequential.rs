//! Group-sequential designs: looking at a batch's comparison after each block of runs, and
//! stopping early when the answer is already clear (a large difference) or hopeless (a small
//! one), without inflating the type I error.
//!
//! The design is on a standardised statistic Z_k at look k, after a fraction t_k of the
//! batch's runs, with Z_k ~ N(θ·√t_k, 1) and independent increments (the canonical joint
//! distribution of Jennison & Turnbull 2000, ch. 3: Z_k·√t_k is a Brownian motion with drift
//! θ at time t_k). Boundaries are found by the recursive numerical integration of Armitage,
//! McPherson & Rowe (1969) on the grid of Jennison & Turnbull ch. 19. scipy and statsmodels
//! have no group-sequential functions; the reference script computes the boundaries a second
//! way, from the multivariate normal distribution of (Z_1, ..., Z_K), and `tests/stats.rs`
//! compares the two.

use super::dist::{norm_quantile, norm_sf, t_two_sided};
use std::f64::consts::PI;

/// The most looks [`group_sequential`] plans.
const MAX_LOOKS: usize = 50;

/// The Jennison & Turnbull grid parameter: 6r − 1 points per look before trimming to the
/// continuation region, each interval then halved for Simpson's rule (the error falls as
/// r⁻⁴). J&T report r = 16 good to about 1e-6; with r = 64 the power and the probabilities
/// spent are within 2e-9 of a grid eight times finer for 5 looks, 1e-8 for 20 and 5e-8 for
/// 50 equally spaced looks, and [`grid_r`] refines it further for looks close together.
const R_MIN: usize = 64;

/// How far, in sds of the transition kernel, the density sums reach (e^{−72} ≈ 5e-32).
const KERNEL_REACH: f64 = 12.0;

/// The Lan–DeMets O'Brien–Fleming-type α-spending function, two-sided: the type I error
/// spent by information fraction `t` of a two-sided test of total level `alpha`,
///
/// α(t) = 2·[2 − 2Φ(z_{1−α/4}/√t)] = 4·(1 − Φ(z_{1−α/4}/√t)) for t in (0, 1],
///
/// that is α/2 on each side, each spent by Lan & DeMets's (1983) one-sided O'Brien–Fleming
/// form a(t) = 2 − 2Φ(z_{1−a/2}/√t) with a = α/2. α(1) = `alpha` exactly (returned as is),
/// α(t) = 0 for t ≤ 0. This is the form behind the published two-sided boundaries (for five
/// equally spaced looks at α = 0.05: 4.877, 3.357, 2.680, 2.290, 2.031, as gsDesign's
/// `sfLDOF` at one-sided 0.025 and rpact's `asOF`). (The other reading, 2 − 2Φ(z_{1−α/2}/√t)
/// for the two-sided total, spends more early and gives 4.56 at the first of those looks.)
/// `alpha` is clamped into [0, 1].
pub fn obf_spending(alpha: f64, t: f64) -> f64 {
    let alpha = alpha.clamp(0.0, 1.0);
    if t >= 1.0 {
        return alpha;
    }
    2.0 * ld_obf_one_sided(alpha / 2.0, t)
}

/// Lan & DeMets's one-sided O'Brien–Fleming-type spending: 2 − 2Φ(z_{1−a/2}/√t) for t in
/// (0, 1), 0 for t ≤ 0 or a ≤ 0, a for t ≥ 1; a in [0, 1].
fn ld_obf_one_sided(a: f64, t: f64) -> f64 {
    if t >= 1.0 {
        return a;
    }
    if t.is_nan() || t <= 0.0 || a <= 0.0 {
        return 0.0;
    }
    let z = -norm_quantile(a / 2.0);
    (2.0 * norm_sf(z / t.sqrt())).min(a)
}

/// A two-sided, symmetric group-sequential design on a standardised statistic Z_k
/// (Z_k ~ N(θ√t_k, 1), independent increments), with O'Brien–Fleming-type boundaries.
///
/// At look k (after fraction `fractions[k]` of the runs): reject H0 when |Z_k| ≥
/// `efficacy[k]`; stop for futility when |Z_k| < `futility[k]`; otherwise go on. Futility is
/// non-binding: the efficacy boundaries are computed as if there were none, so the type I
/// error is at most `alpha` whether or not futility stops are obeyed. At the last look
/// `futility` equals `efficacy`, so a decision is always reached. `drift` is the θ (the
/// expected Z at the full sample size) at which the design, obeying both boundaries, rejects
/// H0 in θ's direction with probability `power`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct GroupSequential {
    /// Two-sided type I error.
    pub alpha: f64,
    /// Probability of rejecting H0 in θ's direction at θ = `drift`, futility obeyed.
    pub power: f64,
    /// Information fractions of the looks: strictly increasing, the last 1.
    pub fractions: Vec<f64>,
    /// Efficacy boundaries on |Z|, one per look.
    pub efficacy: Vec<f64>,
    /// Futility boundaries on |Z|, one per look (0: no futility stop at that look).
    pub futility: Vec<f64>,
    /// The drift θ that gives the design its power.
    pub drift: f64,
}

/// The design with O'Brien–Fleming-type boundaries for a two-sided test of level `alpha`
/// with power `power`, looking at the information fractions `fractions` (strictly
/// increasing in (0, 1], the last 1; the maximum sample size is the caller's, so the design
/// solves for the drift θ rather than for n).
///
/// - Efficacy: `efficacy[k]` spends α(t_k) − α(t_{k−1}) of [`obf_spending`] under H0,
///   P₀(|Z_j| < e_j for j < k, |Z_k| ≥ e_k) = α(t_k) − α(t_{k−1}), futility ignored.
/// - Futility, by β-spending with β = 1 − power: the miss probability under θ (one-sided:
///   not rejecting H0 in θ's direction) is spent by Lan & DeMets's one-sided
///   O'Brien–Fleming form β(t) = 2 − 2Φ(z_{1−β/2}/√t), the function [`obf_spending`] applies
///   to each side. At look k < K, `futility[k]` = f_k solves
///   P_θ(reach k, |Z_k| < f_k) + P_θ(reach k, Z_k ≤ −e_k) = β(t_k) − β(t_{k−1}),
///   where reaching look k means f_j ≤ |Z_j| < e_j at every earlier look (the second term,
///   a rejection in the wrong direction, is a miss too; it is small: 2e-7 in all for five
///   looks at power 0.8, about 1e-4 at power 0.3). f_k is 0 when the wrong-direction term
///   alone exceeds the increment, e_k when the increment exceeds all that can stop there.
///   Why this definition: it is β-spending as in Jennison & Turnbull (2000, ch. 7) and
///   gsDesign, where what is spent is the probability under θ of ending without rejecting
///   H0 in θ's direction, carried over to a symmetric two-sided design whose futility region
///   is the inner band |Z| < f; the spent total is then exactly 1 − power, and power keeps
///   its usual one-sided meaning (one look gives the textbook θ = z_{1−α/2} + z_{power}).
/// - Drift: θ solves P_θ(reject in θ's direction, both boundaries obeyed) = power, that is,
///   the last look's miss is β − β(t_{K−1}).
///
/// Probabilities come from the Armitage–McPherson–Rowe recursion: the density of Z_k on the
/// continuation region is carried from look to look on the grid of Jennison & Turnbull
/// (2000, ch. 19) with Simpson's rule, and the crossing probabilities of each look are exact
/// normal tails integrated against it; the spent probabilities and the power are accurate to
/// about 1e-8 (5e-8 at 50 looks; the tests compare grids, the multivariate normal, and a
/// Monte Carlo run). Boundaries are solved by Brent's method to 1e-12, and capped at 37
/// (where a look's share of α is below 1e-299), so a design is always finite numbers. Five
/// looks take about 40 ms, fifty about 1 s (native, optimised).
///
/// `None` when `alpha` or `power` is outside (0, 1), `power` ≤ `alpha` (a design whose power
/// is below its type I error is no design), `fractions` is empty, longer than 50, not
/// strictly increasing, starts at or below 0, or does not end at 1.
pub fn group_sequential(alpha: f64, power: f64, fractions: &[f64]) -> Option<GroupSequential> {
    let in_unit = |v: f64| v > 0.0 && v < 1.0;
    if !in_unit(alpha) || !in_unit(power) || power <= alpha {
        return None;
    }
    let k = fractions.len();
    if k == 0 || k > MAX_LOOKS || fractions.iter().any(|t| t.is_nan()) {
        return None;
    }
    if fractions[0] <= 0.0 || fractions[k - 1] != 1.0 || fractions.windows(2).any(|w| w[1] <= w[0])
    {
        return None;
    }
    let r = grid_r(fractions);
    let efficacy = efficacy_bounds(alpha, fractions, r);
    let beta = 1.0 - power;
    let miss: Vec<f64> = increments(fractions, |t| ld_obf_one_sided(beta, t));
    let power_at = |theta: f64| futility_pass(fractions, &efficacy, &miss, theta, r).1;

    // Bracket the drift: power(0) ≤ α/2 < power; the fixed design's drift is a lower bound
    // in practice, and power grows to 1 with θ.
    let fixed = -norm_quantile(alpha / 2.0) - norm_quantile(beta);
    let (mut lo, mut f_lo) = (0.0, power_at(0.0) - power);
    let mut hi = fixed;
    let mut f_hi = power_at(hi) - power;
    let mut tries = 0;
    while f_hi < 0.0 {
        (lo, f_lo) = (hi, f_hi);
        hi *= 1.5;
        f_hi = power_at(hi) - power;
        tries += 1;
        if tries > 60 {
            return None;
        }
    }
    if f_lo > 0.0 {
        return None;
    }
    let drift = brent(|th| power_at(th) - power, lo, hi, f_lo, f_hi, 1e-12);
    let (futility, _) = futility_pass(fractions, &efficacy, &miss, drift, r);
    Some(GroupSequential {
        alpha,
        power,
        fractions: fractions.to_vec(),
        efficacy,
        futility,
        drift,
    })
}

/// The stage-wise ordering p-value (Jennison & Turnbull 2000, §8.4), two-sided, for a design
/// that stopped at 0-based look `look` with statistic `z`: the probability under H0 of
/// crossing an efficacy boundary at an earlier look, or of reaching look `look` and there
/// having |Z| ≥ |z|,
///
/// p = Σ_{j < look} P₀(|Z_i| < e_i for i < j, |Z_j| ≥ e_j) + P₀(|Z_i| < e_i for i < look,
/// |Z_look| ≥ |z|),
///
/// with the efficacy boundaries only (futility is non-binding, so the p-value may not count
/// on it). With one look it is the ordinary two-sided p, 2·P(Z > |z|); it is at most
/// α(t_look), the α spent by that look, exactly when |z| ≥ `efficacy[look]`, so it agrees
/// with the design's decision. A `look` past the last is taken as the last. For a
/// design not from [`group_sequential`] whose fractions are not strictly increasing in
/// (0, 1] (or that has fewer efficacy boundaries than looks up to `look`), the result is 1:
/// no evidence, rather than a number the design cannot support.
pub fn sequential_p(design: &GroupSequential, look: usize, z: f64) -> f64 {
    let fractions = &design.fractions;
    let looks = fractions.len().min(design.efficacy.len());
    if looks == 0 {
        return 1.0;
    }
    let look = look.min(looks - 1);
    let valid = fractions[0] > 0.0
        && fractions[..=look].windows(2).all(|w| w[1] > w[0])
        && fractions[look] <= 1.0;
    if !valid {
        return 1.0;
    }
    let r = grid_r(&fractions[..=look]);
    let mut layer = Layer::start();
    let mut p = 0.0;
    for (&t, &e) in fractions.iter().zip(&design.efficacy).take(look) {
        let (up, down) = layer.outside(t, 0.0, e);
        p += up + down;
        layer = layer.next(t, 0.0, &[(-e, e)], r);
    }
    let (up, down) = layer.outside(fractions[look], 0.0, z.abs());
    (p + up + down).clamp(0.0, 1.0)
}

/// The z with the same two-sided p-value and the same sign as Student's t with `df` degrees
/// of freedom: z = sign(t)·Φ⁻¹(1 − p/2), p = P(|T_df| > |t|), so that a small-sample t test
/// (a paired t on few seeds) can be compared with z boundaries. t when `df` is infinite; 0
/// for a `df` that is not positive (no t distribution: no evidence). A p below the smallest
/// double (|t| of hundreds at few df) gives an infinite z.
pub fn z_from_t(t: f64, df: f64) -> f64 {
    if df == f64::INFINITY {
        return t;
    }
    if df.is_nan() || df <= 0.0 || t == 0.0 {
        return 0.0;
    }
    let z = -norm_quantile(t_two_sided(t, df) / 2.0);
    z.copysign(t)
}

/// Successive differences of a spending function at the fractions: what each look spends.
fn increments(fractions: &[f64], spend: impl Fn(f64) -> f64) -> Vec<f64> {
    let mut last = 0.0;
    fractions
        .iter()
        .map(|&t| {
            let s = spend(t);
            let d = (s - last).max(0.0);
            last = s;
            d
        })
        .collect()
}

/// The grid parameter for these fractions: [`R_MIN`], or more when looks are close together,
/// so that the grid spacing (3/(4r) near the centre) stays below 1/13 of the narrowest
/// transition kernel, √(Δt_k / t_{k−1}) in the previous look's Z.
fn grid_r(fractions: &[f64]) -> usize {
    let narrowest = fractions
        .windows(2)
        .map(|w| ((w[1] - w[0]) / w[0]).sqrt())
        .fold(f64::INFINITY, f64::min);
    let needed = (10.0 / narrowest).ceil();
    if needed.is_finite() && needed > R_MIN as f64 {
        (needed as usize).min(400)
    } else {
        R_MIN
    }
}

/// The efficacy boundaries: each look spends its increment of [`obf_spending`] under H0,
/// with the continuation region |Z| < e at every earlier look.
fn efficacy_bounds(alpha: f64, fractions: &[f64], r: usize) -> Vec<f64> {
    let spent = increments(fractions, |t| obf_spending(alpha, t));
    let mut layer = Layer::start();
    let mut bounds = Vec::with_capacity(fractions.len());
    for (k, (&t, &target)) in fractions.iter().zip(&spent).enumerate() {
        let e = if k == 0 {
            // P(|Z_1| ≥ e) = 2·P(Z > e), exactly.
            if target > 0.0 {
                (-norm_quantile(target / 2.0)).min(FAR)
            } else {
                FAR
            }
        } else {
            let crossing = |c: f64| {
                let (up, down) = layer.outside(t, 0.0, c);
                up + down
            };
            solve_tail(crossing, target)
        };
        bounds.push(e);
        if k + 1 < fractions.len() {
            layer = layer.next(t, 0.0, &[(-e, e)], r);
        }
    }
    bounds
}

/// The futility boundaries under drift `theta` (the last equal to the last efficacy
/// boundary) and the probability of rejecting H0 in θ's direction, both boundaries obeyed.
fn futility_pass(
    fractions: &[f64],
    efficacy: &[f64],
    miss: &[f64],
    theta: f64,
    r: usize,
) -> (Vec<f64>, f64) {
    let last = fractions.len() - 1;
    let mut layer = Layer::start();
    let mut futility = Vec::with_capacity(fractions.len());
    let mut power = 0.0;
    for k in 0..=last {
        let (t, e) = (fractions[k], efficacy[k]);
        let (up, down) = layer.outside(t, theta, e);
        power += up;
        if k == last {
            futility.push(e);
            break;
        }
        let target = miss[k] - down;
        let inside = |f: f64| layer.inside(t, theta, f);
        let f = if target <= 0.0 {
            0.0
        } else {
            let most = inside(e);
            if target >= most {
                e
            } else {
                brent(
                    |f| inside(f) - target,
                    0.0,
                    e,
                    -target,
                    most - target,
                    1e-13,
                )
            }
        };
        futility.push(f);
        let region: Vec<(f64, f64)> = if f <= 0.0 {
            vec![(-e, e)]
        } else if f < e {
            vec![(-e, -f), (f, e)]
        } else {
            Vec::new()
        };
        layer = layer.next(t, theta, &region, r);
    }
    (futility, power)
}

/// The largest boundary: P(|Z| ≥ 37) is 1e-299, so a look whose increment of α is smaller
/// (only a tiny α at an early fraction gives one) gets this finite stand-in for "never".
const FAR: f64 = 37.0;

/// The c ≥ 0 at which a decreasing tail probability `tail(c)` equals `target`: Brent's
/// method on ln tail(c) − ln target, which is close to linear in c. 0 when the target is at
/// least tail(0); [`FAR`] when it is at most tail(FAR).
fn solve_tail(tail: impl Fn(f64) -> f64, target: f64) -> f64 {
    let at_zero = tail(0.0);
    if target >= at_zero {
        return 0.0;
    }
    if target <= tail(FAR) {
        return FAR;
    }
    let ln_target = target.ln();
    let g = |c: f64| {
        let v = tail(c);
        if v > 0.0 {
            v.ln() - ln_target
        } else {
            -745.0 - ln_target
        }
    };
    brent(g, 0.0, FAR, g(0.0), g(FAR), 1e-12)
}

/// Brent's root finder (Brent 1973, `zero`) for f with f(a)·f(b) ≤ 0, to an absolute
/// tolerance `tol` in x.
fn brent(f: impl Fn(f64) -> f64, a: f64, b: f64, fa: f64, fb: f64, tol: f64) -> f64 {
    let (mut a, mut b, mut fa, mut fb) = (a, b, fa, fb);
    if fa == 0.0 {
        return a;
    }
    if fb == 0.0 {
        return b;
    }
    let (mut c, mut fc) = (a, fa);
    let mut d = b - a;
    let mut e = d;
    for _ in 0..200 {
        if (fb > 0.0) == (fc > 0.0) {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol1 = 2.0 * f64::EPSILON * b.abs() + 0.5 * tol;
        let xm = 0.5 * (c - b);
        if xm.abs() <= tol1 || fb == 0.0 {
            return b;
        }
        if e.abs() >= tol1 && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                p = 2.0 * xm * s;
                q = 1.0 - s;
            } else {
                let qa = fa / fc;
                let r = fb / fc;
                p = s * (2.0 * xm * qa * (qa - r) - (b - a) * (r - 1.0));
                q = (qa - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            }
            p = p.abs();
            let min1 = 3.0 * xm * q - (tol1 * q).abs();
            let min2 = (e * q).abs();
            if 2.0 * p < min1.min(min2) {
                e = d;
                d = p / q;
            } else {
                d = xm;
                e = d;
            }
        } else {
            d = xm;
            e = d;
        }
        a = b;
        fa = fb;
        b += if d.abs() > tol1 { d } else { tol1.copysign(xm) };
        fb = f(b);
    }
    b
}

/// The sub-density of Z at one look on the continuation region, as grid points `z` with
/// `w` = Simpson weight × density: the integral of h against it is Σ w·h(z). Its total mass
/// is the probability of having continued through this look.
struct Layer {
    /// The information fraction of this look (0 before the first).
    t: f64,
    z: Vec<f64>,
    w: Vec<f64>,
}

impl Layer {
    /// Before the first look: Z·√t = 0 with certainty.
    fn start() -> Self {
        Layer {
            t: 0.0,
            z: vec![0.0],
            w: vec![1.0],
        }
    }

    /// Mean and sd of the next look's Z (at fraction `t`) given this look's Z = z_i:
    /// Z' = (z_i√t₀ + θΔ + √Δ·N)/√t with Δ = t − t₀.
    fn kernel(&self, t: f64, theta: f64) -> (f64, f64, f64) {
        let delta = t - self.t;
        let (scale, shift) = ((self.t / t).sqrt(), theta * delta / t.sqrt());
        (scale, shift, (delta / t).sqrt())
    }

    /// P(continue here, Z' ≥ c) and P(continue here, Z' ≤ −c) at the next look.
    fn outside(&self, t: f64, theta: f64, c: f64) -> (f64, f64) {
        let (scale, shift, sd) = self.kernel(t, theta);
        let (mut up, mut down) = (0.0, 0.0);
        for (&z, &w) in self.z.iter().zip(&self.w) {
            let mu = z * scale + shift;
            up += w * norm_sf((c - mu) / sd);
            down += w * norm_sf((c + mu) / sd);
        }
        (up, down)
    }

    /// P(continue here, |Z'| < c) at the next look.
    fn inside(&self, t: f64, theta: f64, c: f64) -> f64 {
        let (scale, shift, sd) = self.kernel(t, theta);
        let mut total = 0.0;
        for (&z, &w) in self.z.iter().zip(&self.w) {
            let mu = z * scale + shift;
            let (a, b) = ((-c - mu) / sd, (c - mu) / sd);
            // Φ(b) − Φ(a), from whichever tail keeps its digits.
            let mass = if a > 0.0 {
                norm_sf(a) - norm_sf(b)
            } else if b < 0.0 {
                norm_sf(-b) - norm_sf(-a)
            } else {
                1.0 - norm_sf(b) - norm_sf(-a)
            };
            total += w * mass;
        }
        total
    }

    /// The next look's layer at fraction `t`, on the continuation `region` (disjoint open
    /// intervals of Z'), under drift `theta`.
    fn next(&self, t: f64, theta: f64, region: &[(f64, f64)], r: usize) -> Layer {
        let (scale, shift, sd) = self.kernel(t, theta);
        let means: Vec<f64> = self.z.iter().map(|z| z * scale + shift).collect();
        let base = jt_points(theta * t.sqrt(), r);
        let norm = 1.0 / (sd * (2.0 * PI).sqrt());
        let (mut zs, mut ws) = (Vec::new(), Vec::new());
        for &(a, b) in region {
            for (z, weight) in simpson(&base, a, b) {
                // The means are increasing (the grid is); terms beyond 12 sd add below 1e-31.
                let from = means.partition_point(|&mu| mu < z - KERNEL_REACH * sd);
                let to = means.partition_point(|&mu| mu <= z + KERNEL_REACH * sd);
                let mut density = 0.0;
                for (&mu, &w) in means[from..to].iter().zip(&self.w[from..to]) {
                    let u = (z - mu) / sd;
                    density += w * (-0.5 * u * u).exp();
                }
                zs.push(z);
                ws.push(weight * density * norm);
            }
        }
        Layer { t, z: zs, w: ws }
    }
}

/// Jennison & Turnbull's (2000, ch. 19) 6r − 1 grid points about the mean `mu` of Z:
/// logarithmically spaced out to ±(3 + 4 ln r) in the tails, evenly spaced (3/(2r)) in
/// [μ − 3, μ + 3].
fn jt_points(mu: f64, r: usize) -> Vec<f64> {
    let rf = r as f64;
    (1..6 * r)
        .map(|i| {
            let i_f = i as f64;
            if i < r {
                mu - 3.0 - 4.0 * (rf / i_f).ln()
            } else if i <= 5 * r {
                mu - 3.0 + 3.0 * (i_f - rf) / (2.0 * rf)
            } else {
                mu + 3.0 + 4.0 * (rf / (6.0 * rf - i_f)).ln()
            }
        })
        .collect()
}

/// Simpson's rule on (a, b) trimmed to the grid's span: the points of `base` inside, the two
/// ends, and the midpoints between, each with its weight. Empty when nothing is left.
fn simpson(base: &[f64], a: f64, b: f64) -> Vec<(f64, f64)> {
    let (lo, hi) = (a.max(base[0]), b.min(base[base.len() - 1]));
    if lo >= hi || lo.is_nan() || hi.is_nan() {
        return Vec::new();
    }
    let mut knots = vec![lo];
    knots.extend(base.iter().copied().filter(|&x| x > lo && x < hi));
    knots.push(hi);
    let mut out = Vec::with_capacity(2 * knots.len() - 1);
    for i in 0..knots.len() {
        let left = if i > 0 { knots[i] - knots[i - 1] } else { 0.0 };
        let right = if i + 1 < knots.len() {
            knots[i + 1] - knots[i]
        } else {
            0.0
        };
        out.push((knots[i], (left + right) / 6.0));
        if i + 1 < knots.len() {
            out.push((0.5 * (knots[i] + knots[i + 1]), 4.0 * right / 6.0));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn equal_looks(k: usize) -> Vec<f64> {
        (1..=k).map(|i| i as f64 / k as f64).collect()
    }

    #[test]
    fn spending_is_alpha_at_one_and_zero_at_zero() {
        assert_eq!(obf_spending(0.05, 1.0), 0.05);
        assert_eq!(obf_spending(0.05, 0.0), 0.0);
        assert!(obf_spending(0.05, 0.5) < obf_spending(0.05, 0.9));
        // Just below 1 it is continuous with α(1).
        assert!((obf_spending(0.05, 1.0 - 1e-12) - 0.05).abs() < 1e-12);
    }

    #[test]
    fn five_equal_looks_give_the_published_boundaries() {
        let d = group_sequential(0.05, 0.8, &equal_looks(5)).unwrap();
        let published = [4.877, 3.357, 2.680, 2.290, 2.031];
        for (e, p) in d.efficacy.iter().zip(published) {
            assert!((e - p).abs() < 5e-4, "{:?}", d.efficacy);
        }
        assert_eq!(d.futility[4], d.efficacy[4]);
        assert!(d.futility.windows(2).all(|w| w[0] <= w[1]), "{d:?}");
        // More than the fixed design's drift, z_{0.975} + z_{0.8} = 2.8016.
        assert!(d.drift > 2.8016 && d.drift < 3.2, "{}", d.drift);
    }

    #[test]
    fn one_look_is_the_fixed_design() {
        let d = group_sequential(0.05, 0.8, &[1.0]).unwrap();
        let z = -norm_quantile(0.025);
        assert!((d.efficacy[0] - z).abs() < 1e-14);
        assert!(
            (d.drift - (z - norm_quantile(0.2))).abs() < 1e-10,
            "{}",
            d.drift
        );
        for z in [0.0, 0.5, 1.96, -2.5, 6.0] {
            let p = sequential_p(&d, 0, z);
            assert!((p - 2.0 * norm_sf(z.abs())).abs() <= 1e-16 * p.max(1e-300));
        }
    }

    #[test]
    fn boundaries_stay_finite_for_a_tiny_alpha() {
        let d = group_sequential(1e-12, 0.9, &[0.01, 0.5, 1.0]).unwrap();
        assert_eq!(d.efficacy[0], FAR, "{d:?}");
        assert!(d.efficacy.iter().chain(&d.futility).all(|v| v.is_finite()));
        assert!(d.drift.is_finite() && d.drift > 0.0);
    }

    #[test]
    fn invalid_inputs_give_none() {
        assert!(group_sequential(0.0, 0.8, &[1.0]).is_none());
        assert!(group_sequential(0.05, 1.0, &[1.0]).is_none());
        assert!(group_sequential(0.05, 0.04, &[1.0]).is_none());
        assert!(group_sequential(0.05, 0.8, &[]).is_none());
        assert!(group_sequential(0.05, 0.8, &[0.5, 0.5, 1.0]).is_none());
        assert!(group_sequential(0.05, 0.8, &[0.5, 0.9]).is_none());
        assert!(group_sequential(0.05, 0.8, &[0.0, 1.0]).is_none());
        assert!(group_sequential(0.05, 0.8, &equal_looks(51)).is_none());
        assert!(group_sequential(0.05, 0.8, &equal_looks(50)).is_some());
    }

    /// The spent probabilities hardly move when the grid is made finer (the error falls as
    /// r⁻⁴, so twice finer removes 15/16 of it).
    #[test]
    fn grid_is_fine_enough() {
        let designs = [
            (equal_looks(5), 4),
            (vec![0.1, 0.25, 0.7, 1.0], 4),
            (equal_looks(20), 2),
        ];
        for (fractions, finer) in designs {
            let r = grid_r(&fractions);
            let (coarse, fine) = (
                efficacy_bounds(0.05, &fractions, r),
                efficacy_bounds(0.05, &fractions, finer * r),
            );
            // A boundary error δ moves the spent probability by about 2φ(e)·δ.
            for (c, f) in coarse.iter().zip(&fine) {
                let moved = 2.0 * (-0.5 * f * f).exp() / (2.0 * PI).sqrt() * (c - f).abs();
                assert!(moved < 1e-8, "{fractions:?}: {coarse:?} {fine:?}");
            }
            let miss = increments(&fractions, |t| ld_obf_one_sided(0.2, t));
            let (fc, pc) = futility_pass(&fractions, &coarse, &miss, 3.0, r);
            let (ff, pf) = futility_pass(&fractions, &coarse, &miss, 3.0, finer * r);
            assert!((pc - pf).abs() < 1e-8, "{pc} {pf}");
            for (c, f) in fc.iter().zip(&ff) {
                assert!((c - f).abs() < 1e-7, "{fc:?} {ff:?}");
            }
        }
    }

    /// A standard normal from two uniforms (Box–Muller).
    fn normal(rng: &mut Rng) -> f64 {
        let u = 1.0 - rng.next_f64();
        let v = rng.next_f64();
        (-2.0 * u.ln()).sqrt() * (2.0 * PI * v).cos()
    }

    /// 200 000 simulated Z paths: the type I error (futility ignored) is alpha, and the power
    /// at the drift (futility obeyed) is the power, each within 3 Monte Carlo standard errors.
    #[test]
    fn monte_carlo_type_i_error_and_power() {
        let d = group_sequential(0.05, 0.8, &equal_looks(5)).unwrap();
        let paths = 200_000;
        let mut rng = Rng::new(20_240_613);
        let (mut rejected_h0, mut rejected_h1) = (0usize, 0usize);
        for _ in 0..paths {
            let (mut s0, mut s1, mut t0) = (0.0, 0.0, 0.0);
            let (mut h0_open, mut h1_open) = (true, true);
            for (k, &t) in d.fractions.iter().enumerate() {
                let step = normal(&mut rng) * (t - t0).sqrt();
                s0 += step;
                s1 += step + d.drift * (t - t0);
                t0 = t;
                let (z0, z1) = (s0 / t.sqrt(), s1 / t.sqrt());
                if h0_open && z0.abs() >= d.efficacy[k] {
                    rejected_h0 += 1;
                    h0_open = false;
                }
                if h1_open {
                    if z1 >= d.efficacy[k] {
                        rejected_h1 += 1;
                        h1_open = false;
                    } else if z1 <= -d.efficacy[k] || z1.abs() < d.futility[k] {
                        h1_open = false;
                    }
                }
            }
        }
        let n = paths as f64;
        let (a, p) = (rejected_h0 as f64 / n, rejected_h1 as f64 / n);
        let se = |q: f64| (q * (1.0 - q) / n).sqrt();
        println!(
            "type I error {a} (SE {:.1e}), power {p} (SE {:.1e})",
            se(0.05),
            se(0.8)
        );
        assert!((a - 0.05).abs() < 3.0 * se(0.05), "type I error {a}");
        assert!((p - 0.8).abs() < 3.0 * se(0.8), "power {p}");
    }

    #[test]
    fn stagewise_p_agrees_with_the_boundaries() {
        let d = group_sequential(0.05, 0.9, &[0.3, 0.6, 1.0]).unwrap();
        // At a boundary the p-value is the α spent so far.
        for k in 0..3 {
            let p = sequential_p(&d, k, d.efficacy[k]);
            let spent = obf_spending(0.05, d.fractions[k]);
            assert!((p - spent).abs() < 1e-9, "look {k}: {p} {spent}");
        }
        // Stopping later is weaker evidence than any earlier rejection.
        assert!(sequential_p(&d, 1, 10.0) >= sequential_p(&d, 0, d.efficacy[0]) - 1e-15);
        assert!(sequential_p(&d, 1, 2.0) > sequential_p(&d, 0, d.efficacy[0]));
        assert_eq!(sequential_p(&d, 7, 1.0), sequential_p(&d, 2, 1.0));
        assert_eq!(sequential_p(&d, 1, -2.5), sequential_p(&d, 1, 2.5));
        let mut broken = d.clone();
        broken.fractions = vec![0.5, 0.4, 1.0];
        assert_eq!(sequential_p(&broken, 2, 3.0), 1.0);
    }

    #[test]
    fn z_from_t_keeps_p_and_sign() {
        for (t, df) in [(2.5, 4.0), (-1.3, 12.0), (0.4, 1.0), (8.0, 30.0)] {
            let z = z_from_t(t, df);
            let p = 2.0 * norm_sf(z.abs());
            assert!((p - t_two_sided(t, df)).abs() <= 1e-12 * p, "{t} {df}");
            assert_eq!(z.signum(), t.signum());
            assert!(z.abs() < t.abs());
        }
        assert_eq!(z_from_t(0.0, 5.0), 0.0);
        assert_eq!(z_from_t(1.5, f64::INFINITY), 1.5);
        assert_eq!(z_from_t(1.5, 0.0), 0.0);
    }
}
