//! What an intervention's shared turns change in a plan. Run r of an intervention's first arm
//! runs whole; run r of every other arm branches from it after turn `at_turn` − 1 and replays
//! those turns' calls for nothing (`batch/prefix.rs`). So a variation of the first arm costs a
//! whole run (its shared turns on the scenario as the variation sets it, the rest on the
//! scenario as its arm changes it), and a variation of another arm costs only the turns from
//! `at_turn` on; what it does not pay is the sharing's saving: the shared turns × (arms − 1) ×
//! the runs of each family. Replayed calls reserve nothing, so the budget's worst case holds.

use serde::{Deserialize, Serialize};

use super::estimate::{estimate_run, estimate_turns, Range, RunEstimate};
use super::variations::{apply, Variation};
use crate::config::{Dimension, DimensionKind, Scenario};
use crate::pricing::PriceBook;

/// What one run of a variation is expected to cost, and what it shares.
#[derive(Debug, Clone, Default)]
pub struct VariationEstimate {
    /// The calls a run of it sends and pays for.
    pub run: RunEstimate,
    /// For a run that branches from another's first turns: those turns, paid once by the
    /// other run (what the sharing saves).
    pub shared: Option<RunEstimate>,
}

/// What sharing an intervention's first turns saves a batch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Sharing {
    /// The intervention's turn: turns 1 to `at_turn` − 1 are run once per family and run
    /// number, and shared by every arm.
    pub at_turn: u32,
    /// The intervention's arms.
    pub arms: u64,
    /// Runs that branch from another run's first turns (every arm's but the first's).
    pub branched_runs: u64,
    /// Calls not sent thanks to the sharing, expected.
    pub calls_saved: f64,
    /// USD not spent thanks to the sharing, when every price is known.
    pub cost_saved: Option<Range>,
}

/// The intervention dimension of `dims`, if any: its index, turn and number of arms.
pub fn intervention(dims: &[Dimension]) -> Option<(usize, u32, u64)> {
    dims.iter()
        .enumerate()
        .find_map(|(d, dim)| match &dim.kind {
            DimensionKind::Intervention { at_turn, arms } => Some((d, *at_turn, arms.len() as u64)),
            _ => None,
        })
}

/// Estimates one run of variation `v` of a batch on `base` with dimensions `dims`, with the
/// sharing of its intervention's turns.
pub fn estimate_variation(
    base: &Scenario,
    dims: &[Dimension],
    v: &Variation,
    book: &PriceBook,
) -> Result<VariationEstimate, String> {
    let before = apply(base, &v.modifications)?;
    let Some(i) = &v.modifications.intervention else {
        return Ok(VariationEstimate {
            run: estimate_run(&before, book),
            shared: None,
        });
    };
    let after = i.apply(&before)?;
    let first = estimate_turns(&before, book, 1..=i.at_turn - 1);
    let rest = estimate_turns(&after, book, i.at_turn..=after.turns);
    let first_arm = intervention(dims).is_none_or(|(d, _, _)| v.choices.get(d) == Some(&0));
    Ok(if first_arm {
        VariationEstimate {
            run: first.plus(&rest),
            shared: None,
        }
    } else {
        VariationEstimate {
            run: rest,
            shared: Some(first),
        }
    })
}
