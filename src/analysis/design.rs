//! The experimental design, read from the runs: whether run k of every variation shares its
//! seed (a paired design: common random numbers) or the runs are independent samples; and,
//! for a paired design, the runs keyed by run number, which the paired comparisons
//! ([`super::compute`]) and the blocked ANOVAs ([`super::patterns`]) match on.
//!
//! The design is found from the seeds the runs' states record, not from the batch config, so
//! that a folder of ours, one of the original tool's with seeds, or one put together by hand
//! are read alike, and a folder whose seeds do not agree is never analysed as paired.
//!
//! Memory: [`ByRun`] holds a (run number, value) per completed run and metric, and a
//! (run number, success) per run; it is built only for a paired design.

use std::collections::BTreeMap;

use serde::Serialize;

use super::collect::{Collected, RunRow, Status};
use crate::schema::batch::StoppingRecord;

/// Which design the runs follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DesignKind {
    /// Run k of every variation shares one seed: variations are compared within pairs.
    Paired,
    /// The runs are independent samples.
    Independent,
}

/// The design the analysis found, and why (`patterns.json`'s `design`).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Design {
    /// Paired or independent.
    pub kind: DesignKind,
    /// Blocks of a paired design: the run numbers present in at least two variations, each
    /// with one seed. 0 for independent runs.
    pub blocks: usize,
    /// Run numbers present in at least two variations.
    pub shared_run_numbers: usize,
    /// Of those, the run numbers whose runs do not share one seed (or lack one).
    pub seed_mismatches: usize,
    /// Runs whose state records no seed.
    pub runs_without_seed: usize,
    /// Runs whose run number no other variation has: they have no partner to be compared with.
    pub unmatched_runs: usize,
    /// Runs whose state names its block (ours, in a paired batch: `spec.block`).
    pub runs_declaring_block: usize,
    /// One sentence: the design found, and what it was found from.
    pub summary: String,
    /// The batch's stopping rule and its looks, from `batch-state.json`, when it had one.
    pub stopping: Option<StoppingRecord>,
    /// For a group-sequential rule: the p-value to cite for its comparison.
    pub sequential: Option<super::sequential::SequentialResult>,
}

impl Design {
    /// Whether variations are compared within pairs.
    pub fn is_paired(&self) -> bool {
        self.kind == DesignKind::Paired
    }
}

/// How one run number is shared across variations, while the runs are read.
struct RunNumber {
    variations: usize,
    seed: Option<u64>,
    agrees: bool,
}

/// Finds the design: paired when, among the run numbers present in at least two variations,
/// every run number's runs share one seed, and there are at least two such run numbers (one
/// pair per comparison is no test). A run number present in one variation only is left out
/// of the rule: a run that failed to start elsewhere does not undo the pairing of the rest.
pub fn detect(c: &Collected) -> Design {
    let numbers = run_numbers(&c.rows);
    let shared: Vec<&RunNumber> = numbers.values().filter(|n| n.variations >= 2).collect();
    let seed_mismatches = shared.iter().filter(|n| !n.agrees).count();
    let paired = shared.len() >= 2 && seed_mismatches == 0;
    let mut design = Design {
        kind: if paired {
            DesignKind::Paired
        } else {
            DesignKind::Independent
        },
        blocks: if paired { shared.len() } else { 0 },
        shared_run_numbers: shared.len(),
        seed_mismatches,
        runs_without_seed: c.rows.iter().filter(|r| r.seed.is_none()).count(),
        unmatched_runs: numbers.values().filter(|n| n.variations == 1).count(),
        runs_declaring_block: c.runs_declaring_block,
        summary: String::new(),
        stopping: c.stopping.clone(),
        sequential: None,
    };
    design.summary = summary(&design, c.variations.len(), c.rows.len());
    design
}

/// Each run number: in how many variations it appears, and whether its runs share a seed.
fn run_numbers(rows: &[RunRow]) -> BTreeMap<u32, RunNumber> {
    let mut out: BTreeMap<u32, RunNumber> = BTreeMap::new();
    for row in rows {
        out.entry(row.run_number)
            .and_modify(|n| {
                n.variations += 1;
                n.agrees &= row.seed.is_some() && row.seed == n.seed;
            })
            .or_insert(RunNumber {
                variations: 1,
                seed: row.seed,
                agrees: row.seed.is_some(),
            });
    }
    out
}

/// The sentence of [`Design::summary`].
fn summary(d: &Design, variations: usize, runs: usize) -> String {
    if d.is_paired() {
        let declared = if d.runs_declaring_block > 0 {
            " (the runs' states also name their block)"
        } else {
            ""
        };
        let unmatched = match d.unmatched_runs {
            0 => String::new(),
            n => format!(
                "; {n} run{} without a partner in another variation {} left out of the paired tests",
                plural(n),
                if n == 1 { "is" } else { "are" }
            ),
        };
        return format!(
            "Paired design on {} blocks: run k of every variation has the same seed{declared}{unmatched}.",
            d.blocks
        );
    }
    let why = if variations < 2 {
        "there is one variation, so no runs to pair".to_string()
    } else if runs > 0 && d.runs_without_seed == runs {
        "the runs' states record no seed".to_string()
    } else if d.shared_run_numbers < 2 {
        format!(
            "{} run number{} appear{} in more than one variation, too few to pair",
            d.shared_run_numbers,
            plural(d.shared_run_numbers),
            if d.shared_run_numbers == 1 { "s" } else { "" }
        )
    } else {
        format!(
            "{} of the {} run numbers shared by several variations have runs with different (or no) seeds",
            d.seed_mismatches, d.shared_run_numbers
        )
    };
    format!("Independent runs: {why}.")
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// How many blocks a blocked test used, and how many it dropped as incomplete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BlockUse {
    /// Blocks complete in every cell involved: the ones tested.
    pub used: usize,
    /// Blocks with a value in some cells involved but not all: left out.
    pub dropped: usize,
}

/// The runs of a paired design keyed by run number, per variation: what pairs are matched on.
pub struct ByRun {
    /// `[metric][variation]`: (run number, final value) of the completed runs with a value,
    /// by run number.
    values: Vec<Vec<Vec<(u32, f64)>>>,
    /// `[variation]`: (run number, success) of every run, by run number.
    success: Vec<Vec<(u32, bool)>>,
}

/// The blocks complete in a set of variations: one row per block, one value per variation.
pub struct Blocks {
    /// `rows[s][k]`: block s's value in the k-th variation asked for.
    pub rows: Vec<Vec<f64>>,
    /// Blocks with a value in some of the variations but not all.
    pub dropped: usize,
}

impl ByRun {
    /// Indexes the completed runs' final values and every run's success by run number. Rows
    /// come ordered by variation then run number, so each list is sorted as it is built; a
    /// run number seen twice in a variation (`var-1-run-1` beside `var-001-run-001`) keeps its
    /// first run, so that each list has a run number at most once.
    pub fn new(c: &Collected) -> ByRun {
        let mut values = vec![vec![Vec::new(); c.variations.len()]; c.metrics.len()];
        let mut success: Vec<Vec<(u32, bool)>> = vec![Vec::new(); c.variations.len()];
        for row in &c.rows {
            let list = &mut success[row.variation()];
            if list.last().is_some_and(|(run, _)| *run == row.run_number) {
                continue;
            }
            list.push((row.run_number, row.success));
            if row.status != Status::Completed {
                continue;
            }
            for (m, &x) in row.finals.iter().enumerate() {
                if !x.is_nan() {
                    values[m][row.variation()].push((row.run_number, x));
                }
            }
        }
        ByRun { values, success }
    }

    /// Metric `m`'s values of variations `i` and `j` on the run numbers both have: two
    /// equally long lists, pair by pair.
    pub fn matched(&self, m: usize, i: usize, j: usize) -> (Vec<f64>, Vec<f64>) {
        merge(&self.values[m][i], &self.values[m][j]).unzip()
    }

    /// Success of variations `i` and `j` on the run numbers both have.
    pub fn matched_success(&self, i: usize, j: usize) -> Vec<(bool, bool)> {
        merge(&self.success[i], &self.success[j]).collect()
    }

    /// Metric `m`'s blocks complete in every one of `variations`. A run number is in a list
    /// at most once, so it is complete when it occurs as many times as there are lists. By
    /// sorting and walking, not by a map: a large batch asks this a dozen times over 10^5
    /// runs.
    pub fn blocks(&self, m: usize, variations: &[usize]) -> Blocks {
        let lists: Vec<&[(u32, f64)]> = variations
            .iter()
            .map(|&v| self.values[m][v].as_slice())
            .collect();
        let mut runs: Vec<u32> = lists
            .iter()
            .flat_map(|list| list.iter().map(|&(run, _)| run))
            .collect();
        runs.sort_unstable();
        let (mut complete, mut distinct) = (Vec::new(), 0);
        for same in runs.chunk_by(|x, y| x == y) {
            distinct += 1;
            if same.len() == lists.len() {
                complete.push(same[0]);
            }
        }
        let mut rows = vec![Vec::with_capacity(lists.len()); complete.len()];
        for list in &lists {
            let mut at = list.iter().peekable();
            for (row, &run) in rows.iter_mut().zip(&complete) {
                while at.next_if(|(r, _)| *r < run).is_some() {}
                row.push(at.next().map_or(f64::NAN, |&(_, x)| x));
            }
        }
        Blocks {
            dropped: distinct - complete.len(),
            rows,
        }
    }
}

/// The pairs of two lists sorted by run number, on the run numbers both have.
fn merge<'a, T: Copy>(a: &'a [(u32, T)], b: &'a [(u32, T)]) -> impl Iterator<Item = (T, T)> + 'a {
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || {
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    let pair = (a[i].1, b[j].1);
                    i += 1;
                    j += 1;
                    return Some(pair);
                }
            }
        }
        None
    })
}

impl Blocks {
    /// How many were used and dropped.
    pub fn usage(&self) -> BlockUse {
        BlockUse {
            used: self.rows.len(),
            dropped: self.dropped,
        }
    }

    /// Each block's mean over the variations of each group: `group_of[k]` is the group of
    /// the k-th variation, groups are `0..groups`. A group with no variation gives `None`:
    /// the blocked test then has a cell it cannot fill.
    pub fn group_means(&self, group_of: &[usize], groups: usize) -> Option<Vec<Vec<f64>>> {
        let mut sizes = vec![0usize; groups];
        for &g in group_of {
            sizes[g] += 1;
        }
        if sizes.contains(&0) {
            return None;
        }
        Some(
            self.rows
                .iter()
                .map(|row| {
                    let mut sums = vec![0.0; groups];
                    for (k, x) in row.iter().enumerate() {
                        sums[group_of[k]] += x;
                    }
                    sums.iter()
                        .zip(&sizes)
                        .map(|(s, &n)| s / n as f64)
                        .collect()
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_the_run_numbers_both_have() {
        let a = [(1, 1.0), (2, 2.0), (4, 4.0)];
        let b = [(2, 20.0), (3, 30.0), (4, 40.0), (5, 50.0)];
        let pairs: Vec<(f64, f64)> = merge(&a, &b).collect();
        assert_eq!(pairs, [(2.0, 20.0), (4.0, 40.0)]);
    }

    #[test]
    fn blocks_are_the_run_numbers_every_variation_has() {
        let by_run = ByRun {
            values: vec![vec![
                vec![(1, 1.0), (2, 2.0), (3, 3.0)],
                vec![(2, 20.0), (3, 30.0), (4, 40.0)],
                vec![(1, 100.0), (2, 200.0), (3, 300.0)],
            ]],
            success: Vec::new(),
        };
        let b = by_run.blocks(0, &[0, 1, 2]);
        assert_eq!(b.rows, [[2.0, 20.0, 200.0], [3.0, 30.0, 300.0]]);
        // Runs 1 and 4 are in some variations only.
        assert_eq!(
            b.usage(),
            BlockUse {
                used: 2,
                dropped: 2
            }
        );
        let b = by_run.blocks(0, &[2, 0]);
        assert_eq!(b.rows, [[100.0, 1.0], [200.0, 2.0], [300.0, 3.0]]);
        assert_eq!(b.dropped, 0);
    }

    #[test]
    fn group_means_average_each_block_within_a_group() {
        let blocks = Blocks {
            rows: vec![vec![1.0, 3.0, 10.0], vec![2.0, 4.0, 20.0]],
            dropped: 1,
        };
        assert_eq!(
            blocks.group_means(&[0, 0, 1], 2),
            Some(vec![vec![2.0, 10.0], vec![3.0, 20.0]])
        );
        assert_eq!(blocks.group_means(&[0, 0, 0], 2), None);
        assert_eq!(
            blocks.usage(),
            BlockUse {
                used: 2,
                dropped: 1
            }
        );
    }
}
