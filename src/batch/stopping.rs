//! A batch's stopping rule, carried out: which runs may start, and after each settled round
//! whether a variation stops. Pure: it reads what the batch knows of each run and decides.
//!
//! Runs are started round by round (run 1 of every variation, then run 2, ...). A round of a
//! variation is settled once its run has ended in this session, or completed in an earlier
//! one: a look at rounds 1..=n reads exactly those runs, so a resumed batch, which rebuilds
//! what it knows from the run folders, takes the same looks and reaches the same decisions.
//!
//! - The precision rule stops a variation at the first round n (from
//!   [`MIN_RUNS_FOR_PRECISION`]) at which the 95% t interval of its completed runs' mean is no
//!   wider than the target either side. Runs of later rounds already in flight finish and
//!   count; none starts after.
//! - The group-sequential rule compares two variations at `looks` points equally spaced in
//!   rounds. Runs of the compared variations past the next look wait until it is taken, so
//!   that each look covers the rounds its boundary was computed for. The statistic is the
//!   paired t of the differences (Welch's t when unpaired), turned into the z with the same
//!   p-value, against O'Brien–Fleming boundaries by Lan–DeMets alpha spending
//!   ([`crate::stats::group_sequential`]).

use std::collections::BTreeMap;

use super::files::RunSummary;
use crate::config::{Pairing, Stopping, MIN_RUNS_FOR_PRECISION};
use crate::engine::RunStatus;
use crate::schema::batch::{Look, LookDecision, StoppingRecord, VariationStop};
use crate::stats::{self, GroupSequential};

/// Whether a run may start now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Yes.
    Now,
    /// Not before the next look is taken.
    AfterLook,
    /// Never: its variation has stopped.
    Never,
}

/// What a look or a stop tells the user.
#[derive(Debug, Clone, PartialEq)]
pub enum News {
    /// A look that decided nothing, in a sentence.
    Look(String),
    /// A variation stopped.
    Stopped(VariationStop),
}

/// The stopping rule of one batch, and where it stands.
#[derive(Debug, Clone)]
pub struct Stopper {
    rule: Stopping,
    pairing: Pairing,
    /// `runs_per_variation`: the most rounds a variation runs.
    rounds: u32,
    /// The compared variations (0-based) and the design, for a group-sequential rule.
    compared: Option<(u64, u64, GroupSequential)>,
    /// The rounds at which the looks are taken.
    look_rounds: Vec<u32>,
    /// Per variation (by 0-based index, only those touched): rounds the precision rule has
    /// checked.
    checked: BTreeMap<u64, u32>,
    /// Variations stopped (0-based), with the round they stopped after.
    stopped_after: BTreeMap<u64, u32>,
    record: StoppingRecord,
}

impl Stopper {
    /// The stopper of a rule; `None` when the group-sequential design cannot be computed
    /// (the config checks make that unreachable).
    pub fn new(rule: &Stopping, pairing: Pairing, rounds: u32) -> Option<Stopper> {
        let mut record = StoppingRecord {
            rule: rule.clone(),
            planned_effect: None,
            looks: Vec::new(),
            stopped: Vec::new(),
        };
        let (compared, look_rounds) = match rule {
            Stopping::Precision { .. } => (None, Vec::new()),
            Stopping::GroupSequential {
                compare: (a, b),
                alpha,
                power,
                looks,
                ..
            } => {
                let look_rounds = look_rounds(*looks, rounds);
                let fractions: Vec<f64> = look_rounds
                    .iter()
                    .map(|&n| f64::from(n) / f64::from(rounds))
                    .collect();
                let design = stats::group_sequential(*alpha, *power, &fractions)?;
                // At full information z ≈ δ·√n paired (δ = d_z), δ/√(2/n) unpaired (δ = d).
                // The boundaries assume a known variance, and the looks use t statistics, which
                // lose power at few degrees of freedom: the planned effect is raised by the
                // usual t-for-z factor at the last look, (t_{1-α/2,ν} + t_{power,ν}) /
                // (z_{1-α/2} + z_{power}), so that the design keeps its power there (the
                // simulation in tests/design.rs checks it does).
                let n = f64::from(rounds);
                let (scale, df) = match pairing {
                    Pairing::Paired => (1.0 / n.sqrt(), n - 1.0),
                    Pairing::None => ((2.0 / n).sqrt(), 2.0 * n - 2.0),
                };
                use stats::dist::{norm_quantile, t_isf};
                let z = norm_quantile(1.0 - alpha / 2.0) + norm_quantile(*power);
                let t = t_isf(alpha / 2.0, df) + t_isf(1.0 - *power, df);
                record.planned_effect = Some(design.drift * t / z * scale);
                (Some((a - 1, b - 1, design)), look_rounds)
            }
        };
        Some(Stopper {
            rule: rule.clone(),
            pairing,
            rounds,
            compared,
            look_rounds,
            checked: BTreeMap::new(),
            stopped_after: BTreeMap::new(),
            record,
        })
    }

    /// Whether the run at batch index `i` (variation × rounds + round) may start.
    pub fn may_start(&self, i: u64) -> Start {
        let rounds = u64::from(self.rounds.max(1));
        let (v, round) = (i / rounds, (i % rounds) as u32);
        if let Some(&after) = self.stopped_after.get(&v) {
            if round >= after {
                return Start::Never;
            }
        }
        match &self.compared {
            Some((a, b, _)) if v == *a || v == *b => match self.next_look() {
                Some(n) if round >= n => Start::AfterLook,
                _ => Start::Now,
            },
            _ => Start::Now,
        }
    }

    /// The round of the next look to take; `None` once the design has decided.
    fn next_look(&self) -> Option<u32> {
        if self
            .compared
            .as_ref()
            .is_some_and(|(a, ..)| self.stopped_after.contains_key(a))
        {
            return None;
        }
        self.look_rounds.get(self.record.looks.len()).copied()
    }

    /// Takes every look and stop that the settled runs allow. `settled(i)` says whether the
    /// run at index `i` has ended for this session (or completed before it).
    pub fn update(
        &mut self,
        known: &BTreeMap<u64, RunSummary>,
        settled: &dyn Fn(u64) -> bool,
        variations: u64,
    ) -> Vec<News> {
        match self.rule.clone() {
            Stopping::Precision {
                metric,
                target_half_width,
            } => (0..variations)
                .filter_map(|v| self.precision(v, known, settled, &metric, target_half_width))
                .map(News::Stopped)
                .collect(),
            Stopping::GroupSequential { metric, .. } => self.looks(known, settled, &metric),
        }
    }

    /// The value of the run at index `i`, when it completed with one.
    fn value(known: &BTreeMap<u64, RunSummary>, i: u64) -> Option<f64> {
        known
            .get(&i)
            .filter(|s| s.standing.status == RunStatus::Completed)
            .and_then(|s| s.value)
    }

    fn index(&self, v: u64, round: u32) -> u64 {
        v * u64::from(self.rounds) + u64::from(round)
    }

    /// Checks variation `v`'s newly settled rounds against the target half-width.
    fn precision(
        &mut self,
        v: u64,
        known: &BTreeMap<u64, RunSummary>,
        settled: &dyn Fn(u64) -> bool,
        metric: &str,
        target: f64,
    ) -> Option<VariationStop> {
        if self.stopped_after.contains_key(&v) {
            return None;
        }
        let from = self.checked.get(&v).copied().unwrap_or(0);
        let mut through = from;
        let mut stop = None;
        for n in from + 1..=self.rounds {
            if !settled(self.index(v, n - 1)) {
                break;
            }
            through = n;
            // At the last round there is nothing left to stop.
            if n < MIN_RUNS_FOR_PRECISION || n == self.rounds {
                continue;
            }
            let values: Vec<f64> = (0..n)
                .filter_map(|r| Self::value(known, self.index(v, r)))
                .collect();
            let half = stats::describe(&values)
                .and_then(|s| s.ci95)
                .map(|(lo, hi)| (hi - lo) / 2.0);
            if let Some(half) = half.filter(|h| *h <= target) {
                stop = Some(VariationStop {
                    variation_id: v + 1,
                    after_runs: n,
                    half_width: Some(half),
                    message: format!(
                        "var-{:03} stopped after {n} runs: the 95% interval of {metric} is ±{} (target ±{})",
                        v + 1,
                        round3(half),
                        round3(target)
                    ),
                });
                break;
            }
        }
        self.checked.insert(v, through);
        let stop = stop?;
        self.stopped_after.insert(v, stop.after_runs);
        self.record.stopped.push(stop.clone());
        Some(stop)
    }

    /// Takes the looks whose rounds are settled, in order, until one decides.
    fn looks(
        &mut self,
        known: &BTreeMap<u64, RunSummary>,
        settled: &dyn Fn(u64) -> bool,
        metric: &str,
    ) -> Vec<News> {
        let mut news = Vec::new();
        let Some((a, b, design)) = self.compared.clone() else {
            return news;
        };
        while let Some(n) = self.next_look() {
            if !(0..n).all(|r| settled(self.index(a, r)) && settled(self.index(b, r))) {
                break;
            }
            let k = self.record.looks.len();
            let last = k + 1 == self.look_rounds.len();
            let xa: Vec<Option<f64>> = (0..n)
                .map(|r| Self::value(known, self.index(a, r)))
                .collect();
            let xb: Vec<Option<f64>> = (0..n)
                .map(|r| Self::value(known, self.index(b, r)))
                .collect();
            let (pairs, z) = self.statistic(&xa, &xb);
            let (efficacy, futility) = (design.efficacy[k], design.futility[k]);
            let decision = match z {
                Some(z) if z.abs() >= efficacy => LookDecision::Efficacy,
                _ if last => LookDecision::Futility,
                Some(z) if z.abs() < futility => LookDecision::Futility,
                _ => LookDecision::Continue,
            };
            let p_adjusted = match decision {
                LookDecision::Continue => None,
                _ => z.map(|z| stats::sequential_p(&design, k, z)),
            };
            self.record.looks.push(Look {
                look: k as u32 + 1,
                runs: n,
                pairs,
                z,
                efficacy,
                futility,
                decision,
                p_adjusted,
            });
            let (ida, idb) = (a + 1, b + 1);
            let head = format!(
                "look {} of {} ({pairs} {}): z = {}",
                k + 1,
                self.look_rounds.len(),
                match self.pairing {
                    Pairing::Paired => "pairs",
                    Pairing::None => "runs each",
                },
                z.map_or("not computable".into(), round3)
            );
            let p = p_adjusted.map_or(String::new(), |p| format!(", sequential p {}", pval(p)));
            let message = match decision {
                LookDecision::Continue => {
                    news.push(News::Look(format!(
                        "{head}; continue (|z| ≥ {} decides, |z| < {} is futile)",
                        round3(efficacy),
                        round3(futility)
                    )));
                    continue;
                }
                LookDecision::Efficacy => format!(
                    "{head} crosses ±{}: var-{idb:03} and var-{ida:03} differ on {metric}{p}",
                    round3(efficacy)
                ),
                LookDecision::Futility if last => format!(
                    "{head} stays inside ±{}: no difference of var-{idb:03} from var-{ida:03} on {metric} was shown{p}",
                    round3(efficacy)
                ),
                LookDecision::Futility => format!(
                    "{head} is inside ±{}: a difference of the planned size (d = {}) is unlikely, futile{p}",
                    round3(futility),
                    round3(self.record.planned_effect.unwrap_or(f64::NAN))
                ),
            };
            // A decision at the last look stops nothing early: it is said, not counted.
            if n >= self.rounds {
                news.push(News::Look(message));
                break;
            }
            for v in [a, b] {
                let stop = VariationStop {
                    variation_id: v + 1,
                    after_runs: n,
                    half_width: None,
                    message: format!("var-{:03} stopped after {n} runs: {message}", v + 1),
                };
                self.stopped_after.insert(v, n);
                self.record.stopped.push(stop.clone());
                news.push(News::Stopped(stop));
            }
        }
        news
    }

    /// How many pairs (or the smaller group, unpaired) have values, and the z of the
    /// difference b − a.
    fn statistic(&self, xa: &[Option<f64>], xb: &[Option<f64>]) -> (u32, Option<f64>) {
        match self.pairing {
            Pairing::Paired => {
                let (ya, yb): (Vec<f64>, Vec<f64>) = xa
                    .iter()
                    .zip(xb)
                    .filter_map(|(a, b)| Some(((*a)?, (*b)?)))
                    .unzip();
                let z = stats::paired_t(&yb, &ya)
                    .map(|t| stats::z_from_t(t.statistic, t.df.unwrap_or(0.0)));
                (ya.len() as u32, z)
            }
            Pairing::None => {
                let ya: Vec<f64> = xa.iter().flatten().copied().collect();
                let yb: Vec<f64> = xb.iter().flatten().copied().collect();
                let z = stats::welch_t(&yb, &ya)
                    .map(|t| stats::z_from_t(t.statistic, t.df.unwrap_or(0.0)));
                (ya.len().min(yb.len()) as u32, z)
            }
        }
    }

    /// Where the rule stands, for `batch-state.json`.
    pub fn record(&self) -> &StoppingRecord {
        &self.record
    }

    /// The variations stopped so far.
    pub fn stopped(&self) -> &[VariationStop] {
        &self.record.stopped
    }
}

/// The rounds of `looks` looks equally spaced up to `rounds`: ⌈k·rounds/looks⌉.
pub fn look_rounds(looks: u32, rounds: u32) -> Vec<u32> {
    (1..=looks)
        .map(|k| (u64::from(k) * u64::from(rounds)).div_ceil(u64::from(looks)) as u32)
        .collect()
}

use crate::analysis::compute::{num as round3, pval};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_are_equally_spaced_and_end_at_the_maximum() {
        assert_eq!(look_rounds(5, 20), vec![4, 8, 12, 16, 20]);
        assert_eq!(look_rounds(3, 10), vec![4, 7, 10]);
        assert_eq!(look_rounds(1, 7), vec![7]);
    }
}
