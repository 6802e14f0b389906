//! The experimental design of a batch, as its config states it: whether run k of every
//! variation shares its random seed (`pairing:`), and when the batch may stop short of
//! `runs_per_variation` (`stopping:`). Read and checked here; carried out by
//! `crate::batch::stopping`.

use serde::{Deserialize, Serialize};

use super::fields::{self, Key};
use super::Scenario;
use crate::diag::{describe, Detail, FileDiags};
use crate::yaml::Node;

/// Whether the variations' runs are paired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Pairing {
    /// Run k of every variation has the same seed: the same exogenous events, the same draws
    /// of the engine, the same `seed` sent to providers. Differences between variations are
    /// then measured within pairs, which removes the noise the runs share (common random
    /// numbers).
    #[default]
    Paired,
    /// Each run's seed comes from its full id: the variations' runs are independent samples.
    None,
}

/// When a batch may stop before `runs_per_variation` (which becomes the maximum).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Stopping {
    /// Each variation stops once the 95% interval of its mean of `metric` is at most
    /// `target_half_width` either side (from [`MIN_RUNS_FOR_PRECISION`] runs on).
    Precision {
        /// The metric whose mean is estimated.
        metric: String,
        /// The half-width of the 95% interval to reach.
        target_half_width: f64,
    },
    /// A group-sequential comparison of two variations on `metric`: O'Brien–Fleming
    /// boundaries by Lan–DeMets alpha spending, looked at `looks` times (equally spaced in
    /// runs); both variations stop when the difference is decided either way, or is futile.
    GroupSequential {
        /// The two variations compared (1-based ids).
        compare: (u64, u64),
        /// The metric compared.
        metric: String,
        /// The two-sided type I error.
        alpha: f64,
        /// The power at the effect the design is planned for.
        power: f64,
        /// How many times the comparison is looked at (the last at `runs_per_variation`).
        looks: u32,
    },
}

/// Completed runs a variation needs before its interval may stop it: an interval from two or
/// three runs can be narrow by chance.
pub const MIN_RUNS_FOR_PRECISION: u32 = 5;

/// The most looks a group-sequential design may have.
pub const MAX_LOOKS: i64 = 50;

/// The keys of `stopping:`.
pub const STOPPING_KEYS: &[Key] = &[
    Key {
        name: "metric",
        aliases: &[],
        doc: "the metric (default: the scenario's first)",
    },
    Key {
        name: "target_half_width",
        aliases: &[],
        doc: "stop each variation once the 95% interval of its mean is this narrow either side",
    },
    Key {
        name: "compare",
        aliases: &[],
        doc: "two variations, e.g. [var-001, var-002]: a group-sequential test of their difference",
    },
    Key {
        name: "alpha",
        aliases: &[],
        doc: "with compare: the two-sided type I error (default 0.05)",
    },
    Key {
        name: "power",
        aliases: &[],
        doc: "with compare: the power the design keeps at its planned effect (default 0.8)",
    },
    Key {
        name: "looks",
        aliases: &[],
        doc: "with compare: how many times the comparison is looked at (default 5)",
    },
];

/// Reads `pairing:` (`paired` or `none`).
pub(super) fn read_pairing(d: &mut FileDiags, node: &Node) -> Pairing {
    let word = node.scalar_text().unwrap_or_default();
    match word.trim() {
        "paired" => Pairing::Paired,
        "none" => Pairing::None,
        _ => {
            d.error(node, "pairing", format!("`{word}` is not a pairing"))
                .expected("`paired` (run k of every variation shares its seed; the default) or `none` (independent runs)")
                .found(describe(node));
            Pairing::Paired
        }
    }
}

/// `stopping:` as written, before the scenario and the variations are known.
pub(super) struct RawStopping<'n> {
    node: &'n Node,
    metric: Option<(String, &'n Node)>,
    rule: RawRule<'n>,
}

enum RawRule<'n> {
    Precision(f64),
    Compare {
        ids: Vec<(u64, &'n Node)>,
        node: &'n Node,
        alpha: f64,
        power: f64,
        looks: u32,
    },
}

/// Reads `stopping:`; `None` (with diagnostics) when it is not one of the two rules.
pub(super) fn read_stopping<'n>(d: &mut FileDiags, node: &'n Node) -> Option<RawStopping<'n>> {
    let f = fields::read(d, node, STOPPING_KEYS, true, "`stopping`", "stopping");
    let metric = f
        .value("metric")
        .and_then(|n| Some((fields::text(d, n, "stopping.metric")?, n)));
    let rule = match (f.value("target_half_width"), f.value("compare")) {
        (Some(_), Some(c)) => {
            d.error(c, "stopping", "`stopping` has both `target_half_width` and `compare`")
                .expected("one rule: `target_half_width` (stop each variation at a precision) or `compare` (a sequential test of two variations)");
            return None;
        }
        (Some(w), None) => {
            RawRule::Precision(fields::positive_number(d, w, "stopping.target_half_width")?)
        }
        (None, Some(c)) => {
            let ids: Vec<(u64, &Node)> = c
                .as_seq()
                .unwrap_or_default()
                .iter()
                .filter_map(|item| Some((variation_id(item)?, item)))
                .collect();
            if ids.len() != 2 || c.as_seq().map(<[Node]>::len) != Some(2) {
                d.error(c, "stopping.compare", "`compare` must name two variations")
                    .expected("a list of two variation ids, e.g. [var-001, var-002]")
                    .found(describe(c));
                return None;
            }
            let level = |d: &mut FileDiags, key: &str, default: f64| {
                f.value(key).map_or(Some(default), |n| {
                    let x = fields::number_in(d, n, &format!("stopping.{key}"), 0.0, 1.0)?;
                    if x <= 0.0 || x >= 1.0 {
                        d.error(
                            n,
                            &format!("stopping.{key}"),
                            format!("`{key}` must be strictly between 0 and 1"),
                        )
                        .expected("a probability such as 0.05 or 0.8")
                        .found(describe(n));
                        return None;
                    }
                    Some(x)
                })
            };
            let alpha = level(d, "alpha", 0.05);
            let power = level(d, "power", 0.8);
            let looks = match f.value("looks") {
                Some(n) => match fields::int_at_least(d, n, "stopping.looks", 1)? {
                    k if k > MAX_LOOKS => {
                        d.error(
                            n,
                            "stopping.looks",
                            format!("`looks` must be at most {MAX_LOOKS}"),
                        )
                        .expected(format!("a whole number from 1 to {MAX_LOOKS}"))
                        .found(k.to_string());
                        return None;
                    }
                    k => k as u32,
                },
                None => 5,
            };
            RawRule::Compare {
                ids,
                node: c,
                alpha: alpha?,
                power: power?,
                looks,
            }
        }
        (None, None) => {
            d.error(node, "stopping", "`stopping` sets no rule")
                .expected("`target_half_width: <number>` (stop each variation at a precision) or `compare: [var-001, var-002]` (a sequential test of two variations)")
                .found(describe(node));
            return None;
        }
    };
    Some(RawStopping { node, metric, rule })
}

/// `var-002`, `2` or `"2"` as a variation id.
fn variation_id(node: &Node) -> Option<u64> {
    if let Some(i) = node.as_i64() {
        return u64::try_from(i).ok().filter(|i| *i >= 1);
    }
    let text = node.scalar_text()?;
    let digits = text.trim().strip_prefix("var-").unwrap_or(text.trim());
    digits.parse().ok().filter(|i| *i >= 1)
}

/// Checks the rule against the scenario's metrics and the number of variations.
pub(super) fn check_stopping(
    d: &mut FileDiags,
    raw: &RawStopping,
    scenario: &Scenario,
    variations: u64,
    runs_per_variation: u32,
) -> Option<Stopping> {
    let names: Vec<&str> = scenario
        .metrics
        .iter()
        .filter(|m| {
            use super::ValueType::*;
            matches!(m.value_type, Continuous | Boolean | Integer | Float)
        })
        .map(|m| m.name.as_str())
        .collect();
    let metric = match &raw.metric {
        Some((m, node)) => {
            if !names.contains(&m.as_str()) {
                fields::unknown_metric(d, node, "stopping.metric", m, &names, true);
                return None;
            }
            m.clone()
        }
        None => match names.first() {
            Some(m) => m.to_string(),
            None => {
                d.error(
                    raw.node,
                    "stopping",
                    "`stopping` needs a numeric metric, and the scenario defines none",
                )
                .expected("a metric in the scenario's metrics.yaml");
                return None;
            }
        },
    };
    match &raw.rule {
        RawRule::Precision(w) => Some(Stopping::Precision {
            metric,
            target_half_width: *w,
        }),
        RawRule::Compare {
            ids,
            node,
            alpha,
            power,
            looks,
        } => {
            for (id, n) in ids {
                if *id > variations {
                    d.error(
                        n,
                        "stopping.compare",
                        format!("`compare` names variation {id}, and the batch has {variations}"),
                    )
                    .expected(format!("ids from var-001 to var-{variations:03}"));
                    return None;
                }
            }
            if ids[0].0 == ids[1].0 {
                d.error(
                    node,
                    "stopping.compare",
                    "`compare` names the same variation twice",
                )
                .expected("two different variations");
                return None;
            }
            if *looks > runs_per_variation {
                d.error(
                    node,
                    "stopping.looks",
                    format!("{looks} looks need at least {looks} runs per variation, and `runs_per_variation` is {runs_per_variation}"),
                )
                .expected("fewer looks, or more runs_per_variation");
                return None;
            }
            Some(Stopping::GroupSequential {
                compare: (ids[0].0, ids[1].0),
                metric,
                alpha: *alpha,
                power: *power,
                looks: *looks,
            })
        }
    }
}

impl Stopping {
    /// The metric the rule reads.
    pub fn metric(&self) -> &str {
        match self {
            Stopping::Precision { metric, .. } | Stopping::GroupSequential { metric, .. } => metric,
        }
    }
}
