//! The scenario a run plays, turn by turn: the one its spec gives, and, from the turn of its
//! intervention (a batch's `type: intervention` variation) on, that scenario as the
//! intervention's arm changes it.
//!
//! This module owns when an intervention takes effect: at the start of its turn, never before.
//! The turns before it ask exactly what the same run without the intervention asks, byte for
//! byte, so every arm of an intervention can share them: a branched arm replays them from its
//! source's calls (see `batch/prefix.rs`). The intervention travels in the run's spec (its
//! modifications), which is in the run's state file, so a resumed or branched run keeps it.

use crate::config::{Intervention, Scenario};

/// The scenarios of a run, by turn.
pub(super) struct Timeline<'a> {
    /// The scenario as the spec modifies it, before any intervention.
    before: &'a Scenario,
    /// The intervention, and the scenario from its turn on (or why it does not apply).
    after: Option<(&'a Intervention, Result<Scenario, String>)>,
}

impl<'a> Timeline<'a> {
    /// The timeline of a run of `before` with `intervention`, if any.
    pub(super) fn new(before: &'a Scenario, intervention: Option<&'a Intervention>) -> Self {
        Timeline {
            before,
            after: intervention.map(|i| (i, i.apply(before))),
        }
    }

    /// The scenario of `turn` (turn 0 and the run's closing files read the first one).
    pub(super) fn at(&self, turn: u32) -> &Scenario {
        match &self.after {
            Some((i, Ok(after))) if turn >= i.at_turn => after,
            _ => self.before,
        }
    }

    /// Whether the intervention applies to this scenario: an error means the scenario changed
    /// since the batch config was checked, and the run fails before it starts.
    pub(super) fn check(&self) -> Result<(), String> {
        match &self.after {
            Some((_, Err(why))) => Err(why.clone()),
            _ => Ok(()),
        }
    }

    /// The intervention that takes effect at the start of `turn`, if one does.
    pub(super) fn starting(&self, turn: u32) -> Option<&'a Intervention> {
        self.after
            .as_ref()
            .map(|(i, _)| *i)
            .filter(|i| i.at_turn == turn)
    }
}

/// The world state a turn starts from once an arm has added `text` to it: the state, a blank
/// line, the text. Appended rather than replaced, so the world the actors knew stays in view.
pub(super) fn with_added(world: &str, text: &str) -> String {
    format!("{}\n\n{}", world.trim_end(), text.trim())
}
