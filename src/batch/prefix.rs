//! Interventions' shared prefixes: which runs of a batch share their first turns, when a run
//! that shares them may start, and the copy that lets it start.
//!
//! The variations that differ only in the arm of the batch's `intervention` dimension form a
//! family. Every arm plays the same turns before the intervention's turn k (the engine applies
//! an arm from turn k only, and run r of every variation has the same seed), so run r of the
//! family's first arm, the *source*, runs whole, and run r of every other arm, an *arm run*,
//! branches from it after turn k − 1: its folder starts with the source's call log up to that
//! turn ([`copied_prefix`]) and its spec's `branch` says so. The engine replays those calls, so
//! the shared turns are paid once, by the source, and the arms are paired by their prefix.
//!
//! When. An arm run's prefix is copied as soon as its source has played turn k − 1: by the
//! source's own run, the moment it reports that turn ([`Prefixes::share`]), or, for a source
//! that got there in an earlier session, when the arm run's turn comes ([`Prefixes::next`]).
//! Until then the arm run waits aside, taking no place among the runs in flight. If its source
//! stops before turn k − 1 (halted, failed, interrupted), the arm run stays pending, and starts
//! on a later `--resume` once its source has got there. It never runs from scratch instead:
//! that would pay for the shared turns a second time, and its first turns would no longer be
//! its source's, which is the point of the design. (One exception, which only a hand-edited
//! folder can produce: a source that completed without its call log leaves nothing to copy,
//! and its arm runs then run whole, with a note.)
//!
//! Crash safety. A copy is one atomic write of the arm run's call log, made before the run
//! starts and never over a folder that has a call log or a state. So a kill leaves an arm
//! run's folder empty, holding its whole prefix, or started (with a state), and a resume tells
//! these apart on disk: every run runs once, and a copied call is replayed, never sent.
//!
//! The batch runner reaches this module through three hooks: [`Prefixes::new`] (which refuses
//! a sharded intervention batch: an arm run's source may be in another shard), [`Prefixes::next`]
//! (which run starts next) and [`Prefixes::share`] (around a source's run).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::task::Poll;

use super::guard::RunGuard;
use super::Control;
use crate::config::{BatchConfig, DimensionKind};
use crate::engine::session::copied_prefix;
use crate::engine::{Branch, RunOutcome, RunStatus, CALL_LOG, STATE_FILE};
use crate::host::{Storage, StorageError};
use crate::paths;
use crate::schema::events::Note;
use crate::schema::{BatchEvent, RunFolder, RunId, ScenarioState};

/// A run to start: its index, and for an arm run, its branch and its source.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    /// The run's 0-based index in the batch.
    pub index: u64,
    /// Set for an arm run: it starts from its source's first turns.
    pub branch: Option<Branch>,
    /// The source of an arm run that branches.
    pub source: Option<RunId>,
}

impl Launch {
    /// A run that runs whole.
    fn whole(index: u64) -> Launch {
        Launch {
            index,
            branch: None,
            source: None,
        }
    }
}

/// The batch's intervention dimension, as index arithmetic.
#[derive(Debug, Clone, Copy)]
struct Family {
    /// The intervention's turn.
    at_turn: u32,
    /// Its arms.
    arms: u64,
    /// Variations between two arms of one family: the product of the sizes of the dimensions
    /// after the intervention's (the last dimension varies fastest).
    stride: u64,
}

/// Where an arm run's prefix stands.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Copy {
    /// Being written: the run may not start yet.
    Writing,
    /// In its folder (or the run has started): it may start.
    Done,
}

/// What an arm run may do now.
enum Readiness {
    /// Its prefix is in its folder.
    Ready,
    /// Its source has not played the shared turns yet, but may in this session.
    Wait,
    /// Its source stopped before the shared turns in this session: the run waits for a resume.
    Stopped(u32),
    /// Its source completed without a call log: the run runs whole.
    Whole,
}

/// The shared prefixes of a batch, in one session.
pub struct Prefixes {
    family: Option<Family>,
    runs: u64,
    runs_dir: String,
    /// Arm runs taken from the queue whose prefix was not ready, in order.
    waiting: RefCell<Vec<u64>>,
    /// Arm runs whose prefix is being written or is written.
    copies: RefCell<BTreeMap<u64, Copy>>,
    /// Arm runs whose folder was looked at (once a session is enough).
    looked: RefCell<BTreeSet<u64>>,
    /// Sources started in this session.
    started: RefCell<BTreeSet<u64>>,
    /// Sources that have played the shared turns in this session.
    reached: RefCell<BTreeSet<u64>>,
    /// Sources that ended in this session, with the turns they played.
    ended: RefCell<BTreeMap<u64, u32>>,
    /// Sources whose waiting arm runs were reported.
    noted: RefCell<BTreeSet<u64>>,
}

impl Prefixes {
    /// The prefixes of `config`'s batch, whose run folders are under `out_dir/runs`. A sharded
    /// batch with an intervention is refused.
    pub fn new(config: &BatchConfig, out_dir: &str, sharded: bool) -> Result<Prefixes, String> {
        let dims = &config.variations;
        let family = dims
            .iter()
            .enumerate()
            .find_map(|(d, dim)| match &dim.kind {
                DimensionKind::Intervention { at_turn, arms } => Some(Family {
                    at_turn: *at_turn,
                    arms: arms.len() as u64,
                    stride: dims[d + 1..]
                        .iter()
                        .fold(1u64, |acc, x| acc.saturating_mul(x.values.len() as u64)),
                }),
                _ => None,
            });
        if family.is_some() && sharded {
            return Err("a batch with an `intervention` variation cannot be sharded: its arms branch from runs of the same output folder; run it whole".into());
        }
        Ok(Prefixes {
            family,
            runs: u64::from(config.runs_per_variation).max(1),
            runs_dir: paths::join(out_dir, "runs"),
            waiting: RefCell::new(Vec::new()),
            copies: RefCell::new(BTreeMap::new()),
            looked: RefCell::new(BTreeSet::new()),
            started: RefCell::new(BTreeSet::new()),
            reached: RefCell::new(BTreeSet::new()),
            ended: RefCell::new(BTreeMap::new()),
            noted: RefCell::new(BTreeSet::new()),
        })
    }

    /// The arm of run `i` (0 for its family's first arm), with the family.
    fn arm(&self, i: u64) -> Option<(Family, u64)> {
        let f = self.family?;
        Some((f, (i / self.runs / f.stride.max(1)) % f.arms.max(1)))
    }

    /// The source of arm run `i`; `None` for a run that runs whole.
    fn source_of(&self, i: u64) -> Option<u64> {
        let (f, arm) = self.arm(i)?;
        (arm > 0).then(|| i - arm * f.stride * self.runs)
    }

    /// The arm runs of source `i`; empty for a run that is no source.
    fn arms_of(&self, i: u64) -> Vec<u64> {
        match self.arm(i) {
            Some((f, 0)) => (1..f.arms).map(|a| i + a * f.stride * self.runs).collect(),
            _ => Vec::new(),
        }
    }

    fn dir(&self, i: u64) -> String {
        paths::join(&self.runs_dir, &self.id(i).to_string())
    }

    fn id(&self, i: u64) -> RunId {
        RunId::from_index(i, self.runs)
    }

    /// The next run to start: an arm run whose prefix is now ready, else the next run of
    /// `queue` that may start (an arm run whose source has not played the shared turns waits
    /// aside). `None` when nothing may start now; arm runs may still wait for sources in flight.
    pub async fn next<S: Storage>(
        &self,
        storage: &S,
        queue: &mut impl Iterator<Item = u64>,
        control: &dyn Control,
    ) -> Option<Launch> {
        let waiting = self.waiting.borrow().clone();
        for i in waiting {
            let Some(source) = self.source_of(i) else {
                continue;
            };
            match self.readiness(storage, i, source).await {
                Readiness::Wait => continue,
                r => {
                    self.waiting.borrow_mut().retain(|w| *w != i);
                    if let Some(launch) = self.launch(storage, i, source, r, control).await {
                        return Some(launch);
                    }
                }
            }
        }
        loop {
            let i = queue.next()?;
            let Some(source) = self.source_of(i) else {
                if self.arm(i).is_some() {
                    self.started.borrow_mut().insert(i);
                }
                return Some(Launch::whole(i));
            };
            match self.readiness(storage, i, source).await {
                Readiness::Wait => self.waiting.borrow_mut().push(i),
                r => {
                    if let Some(launch) = self.launch(storage, i, source, r, control).await {
                        return Some(launch);
                    }
                }
            }
        }
    }

    /// Where arm run `i` of `source` stands; copies its prefix when its source has played the
    /// shared turns.
    async fn readiness<S: Storage>(&self, storage: &S, i: u64, source: u64) -> Readiness {
        let copy = self.copies.borrow().get(&i).copied();
        match copy {
            Some(Copy::Done) => return Readiness::Ready,
            Some(Copy::Writing) => return Readiness::Wait,
            None => {}
        }
        // A folder that holds its prefix (or has started) from an earlier session may start,
        // whatever its source does now. Looked at once: in this session only `copy` fills it.
        let first_look = self.looked.borrow_mut().insert(i);
        if first_look && self.has_started(storage, i).await {
            self.copies.borrow_mut().insert(i, Copy::Done);
            return Readiness::Ready;
        }
        let shared = self.family.map_or(0, |f| f.at_turn - 1);
        let reached = self.reached.borrow().contains(&source);
        let ended = self.ended.borrow().get(&source).copied();
        let started = self.started.borrow().contains(&source);
        let ready = match (reached, ended, started) {
            (true, _, _) => true,
            (false, Some(turns), _) => return Readiness::Stopped(turns),
            (false, None, true) => return Readiness::Wait,
            // A source not run in this session: what its folder says.
            (false, None, false) => match RunFolder::read(storage, &self.dir(source)).await {
                Ok(Some(RunFolder {
                    standing: Some(st), ..
                })) => st.status == RunStatus::Completed || st.current_turn >= shared,
                _ => false,
            },
        };
        if !ready {
            return Readiness::Wait;
        }
        match self.copy(storage, i, source).await {
            Ok(true) => Readiness::Ready,
            Ok(false) => Readiness::Whole,
            Err(_) => Readiness::Wait,
        }
    }

    /// Copies source `source`'s first turns into arm run `i`'s folder, unless the folder has a
    /// call log or a state already (then it is ready, or started). `Ok(false)` when the source
    /// has no call log to copy.
    async fn copy<S: Storage>(
        &self,
        storage: &S,
        i: u64,
        source: u64,
    ) -> Result<bool, StorageError> {
        if self.copies.borrow().contains_key(&i) {
            return Ok(true);
        }
        self.copies.borrow_mut().insert(i, Copy::Writing);
        let result = self.write_copy(storage, i, source).await;
        match &result {
            Ok(true) => {
                self.copies.borrow_mut().insert(i, Copy::Done);
            }
            _ => {
                self.copies.borrow_mut().remove(&i);
            }
        }
        result
    }

    /// Whether arm run `i`'s folder has a call log or a state: its prefix, or a started run.
    async fn has_started<S: Storage>(&self, storage: &S, i: u64) -> bool {
        let dir = self.dir(i);
        for name in [STATE_FILE, CALL_LOG] {
            if storage
                .exists(&paths::join(&dir, name))
                .await
                .unwrap_or(false)
            {
                return true;
            }
        }
        false
    }

    async fn write_copy<S: Storage>(
        &self,
        storage: &S,
        i: u64,
        source: u64,
    ) -> Result<bool, StorageError> {
        let dir = self.dir(i);
        if self.has_started(storage, i).await {
            return Ok(true);
        }
        let Some(log) = storage
            .read(&paths::join(&self.dir(source), CALL_LOG))
            .await?
        else {
            return Ok(false);
        };
        let shared = self.family.map_or(0, |f| f.at_turn - 1);
        storage
            .write(&paths::join(&dir, CALL_LOG), &copied_prefix(&log, shared))
            .await?;
        Ok(true)
    }

    /// The launch of arm run `i`, or `None` when it waits for a resume (with a note, once per
    /// source).
    async fn launch<S: Storage>(
        &self,
        storage: &S,
        i: u64,
        source: u64,
        readiness: Readiness,
        control: &dyn Control,
    ) -> Option<Launch> {
        let (src, me) = (self.id(source), self.id(i));
        match readiness {
            Readiness::Stopped(turns) => {
                if self.noted.borrow_mut().insert(source) {
                    let shared = self.family.map_or(0, |f| f.at_turn - 1);
                    let arms: Vec<String> = self
                        .arms_of(source)
                        .iter()
                        .map(|a| self.id(*a).to_string())
                        .collect();
                    control.emit(BatchEvent::Note(Note {
                        message: format!(
                            "{} wait{} for {src}, whose first {shared} turn{} {} share{}: it stopped after turn {turns}; {} start{} on a resume, once {src} has played turn {shared}",
                            arms.join(", "),
                            if arms.len() == 1 { "s" } else { "" },
                            if shared == 1 { "" } else { "s" },
                            if arms.len() == 1 { "it" } else { "they" },
                            if arms.len() == 1 { "s" } else { "" },
                            if arms.len() == 1 { "it" } else { "they" },
                            if arms.len() == 1 { "s" } else { "" },
                        ),
                    }));
                }
                None
            }
            Readiness::Wait => None,
            Readiness::Whole => {
                control.emit(BatchEvent::Note(Note {
                    message: format!("{me} runs whole: its source {src} completed without a call log to share (was it cleaned?), so {me} pays for its first turns too"),
                }));
                Some(Launch::whole(i))
            }
            Readiness::Ready => {
                // A run that started keeps the branch it recorded; a new one branches from
                // its source's seed.
                let branch = match ScenarioState::read(storage, &self.dir(i)).await {
                    Some(state) => state.spec.branch,
                    None => {
                        let Some(source_state) =
                            ScenarioState::read(storage, &self.dir(source)).await
                        else {
                            control.emit(BatchEvent::Note(Note {
                                message: format!("{me} waits: its source {src} has no readable scenario-state.json, whose seed its first turns were played with"),
                            }));
                            return None;
                        };
                        let source_seed = source_state.spec.seed;
                        Some(Branch {
                            from: self.dir(source),
                            at_turn: self.family?.at_turn - 1,
                            source_seed,
                        })
                    }
                };
                Some(Launch {
                    index: i,
                    source: branch.as_ref().map(|_| src),
                    branch,
                })
            }
        }
    }

    /// Runs `run`, the run of batch index `i`, whose guard is `guard`. When it is a source, the
    /// moment it has played the shared turns their calls are copied into its arm runs' folders
    /// (and before this returns, so a source that completes in one go, or whose files are then
    /// cleaned, still hands them over).
    pub async fn share<S: Storage>(
        &self,
        storage: &S,
        i: u64,
        guard: &RunGuard<'_>,
        run: impl Future<Output = RunOutcome>,
    ) -> RunOutcome {
        let arms = self.arms_of(i);
        let Some(f) = self.family.filter(|_| !arms.is_empty()) else {
            return run.await;
        };
        let shared = f.at_turn - 1;
        // However the run ends, even dropped past its time limit, its arm runs hear of it.
        let _ending = Ending {
            prefixes: self,
            i,
            guard,
        };
        let ended = Cell::new(false);
        let run = async {
            let o = run.await;
            ended.set(true);
            o
        };
        let hand_over = async {
            std::future::poll_fn(|task| {
                if ended.get() || guard.played() >= shared {
                    Poll::Ready(())
                } else {
                    guard.watch(task.waker());
                    Poll::Pending
                }
            })
            .await;
            if guard.played() >= shared {
                self.reached.borrow_mut().insert(i);
                for a in &arms {
                    // A failed copy is tried again when the arm run's turn comes.
                    let _ = self.copy(storage, *a, i).await;
                }
            }
        };
        let (outcome, ()) = futures_util::future::join(run, hand_over).await;
        outcome
    }
}

/// Records, when a source's run ends or is dropped, how far it got, unless it got past the
/// shared turns (then its arm runs have their prefix).
struct Ending<'p, 'g> {
    prefixes: &'p Prefixes,
    i: u64,
    guard: &'p RunGuard<'g>,
}

impl Drop for Ending<'_, '_> {
    fn drop(&mut self) {
        if !self.prefixes.reached.borrow().contains(&self.i) {
            self.prefixes
                .ended
                .borrow_mut()
                .insert(self.i, self.guard.played());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::MemoryStorage;

    /// A batch of the quick scenario with `variations` and 2 runs per variation.
    fn prefixes(variations: &str) -> Prefixes {
        let store = MemoryStorage::quick_negotiation();
        store.insert(
            "b.yaml",
            &format!("experiment_name: t\nbase_scenario: s\nruns_per_variation: 2\nvariations:\n{variations}"),
        );
        let config = futures::executor::block_on(crate::config::load_batch(&store, "b.yaml"))
            .unwrap_or_else(|e| panic!("{e}"))
            .value;
        Prefixes::new(&config, "out", false).unwrap()
    }

    const MODELS: &str = "  - type: actor_model\n    actor: council\n    values: [m/a, m/b]\n";
    const ARMS: &str = "  - type: intervention\n    at_turn: 2\n    arms:\n      - name: a\n      - name: b\n        event: x\n      - name: c\n        event: y\n";

    #[test]
    fn a_family_is_the_variations_that_differ_only_in_the_arm() {
        // Models x arms: variations 1-3 are model a's arms, 4-6 model b's (the last dimension
        // varies fastest). Index = variation x 2 + run.
        let p = prefixes(&format!("{MODELS}{ARMS}"));
        assert_eq!(p.source_of(0), None, "var-001-run-001 is a source");
        assert_eq!(p.arms_of(0), [2, 4], "var-002-run-001, var-003-run-001");
        assert_eq!(
            p.source_of(5),
            Some(1),
            "var-003-run-002 branches from var-001-run-002"
        );
        assert_eq!(
            p.arms_of(7),
            [9, 11],
            "var-004-run-002's arms: var-005, var-006"
        );
        assert_eq!(p.source_of(11), Some(7));
        // Arms x models: variations 1-2 are arm a's, 3-4 arm b's, 5-6 arm c's.
        let p = prefixes(&format!("{ARMS}{MODELS}"));
        assert_eq!(
            p.arms_of(2),
            [6, 10],
            "var-002-run-001 (model b) is a source"
        );
        assert_eq!(
            p.source_of(11),
            Some(3),
            "var-006-run-002 from var-002-run-002"
        );
        assert_eq!(p.source_of(4), Some(0));
        assert_eq!(p.id(11).to_string(), "var-006-run-002");
    }

    #[test]
    fn a_batch_without_an_intervention_has_no_family() {
        let p = prefixes(MODELS);
        assert!((0..4).all(|i| p.source_of(i).is_none() && p.arms_of(i).is_empty()));
    }
}
