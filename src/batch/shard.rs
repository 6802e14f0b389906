//! Which share of a batch one process runs, and what that share may spend.
//!
//! `--shard K/N` counts from 1 to N, as Playwright and Jest do; `--shard auto` reads the index
//! and count from the environment a scheduler sets: a Kubernetes Indexed Job
//! (`JOB_COMPLETION_INDEX`, 0-based, with the count from `--shards N` or
//! [`COUNT_VARIABLE`] set in the manifest) or a Slurm job array (`SLURM_ARRAY_TASK_ID`,
//! `SLURM_ARRAY_TASK_MIN`, `SLURM_ARRAY_TASK_COUNT`). Pure: the host passes the variables it
//! has, and every refusal names the variable and its value.
//!
//! Shard K of N holds the runs whose 0-based index modulo N is K − 1, and may spend
//! `budget_limit` × its share of the runs; the shares of all N shards add up to the budget to
//! the nano-dollar.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::plan::usd_as_given;
use crate::pricing::{nanos_to_usd, usd_to_nanos, Nanos};

/// The environment variable a Kubernetes manifest sets to the number of shards (the Job's
/// `completions`), which Kubernetes does not pass to the pod itself.
pub const COUNT_VARIABLE: &str = "SCENARIO_LAB_SHARD_COUNT";

/// Shard `number` of `count` (1-based). Written and read as `"K/N"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    number: u64,
    count: u64,
}

impl Shard {
    /// Shard `number` (1 to `count`) of `count`, or why not, for `--shard {number}/{count}`.
    pub fn new(number: u64, count: u64) -> Result<Shard, String> {
        if count == 0 {
            return Err(format!(
                "--shard {number}/0: a batch is split into 1 or more shards"
            ));
        }
        if number == 0 {
            return Err(format!(
                "--shard 0/{count}: shards count from 1, as in Playwright and Jest: the first of {count} is 1/{count} and the last {count}/{count}"
            ));
        }
        if number > count {
            return Err(format!(
                "--shard {number}/{count}: K must be from 1 to {count}"
            ));
        }
        Ok(Shard { number, count })
    }

    /// The shard written `K/N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let number = |s: &str| s.trim().parse::<u64>().ok();
        match text.split_once('/').map(|(k, n)| (number(k), number(n))) {
            Some((Some(k), Some(n))) => Shard::new(k, n),
            _ => Err(format!(
                "--shard must be K/N (shard K of N, counting from 1, e.g. 1/4) or auto, not '{text}'"
            )),
        }
    }

    /// 1 to [`count`](Self::count).
    pub fn number(&self) -> u64 {
        self.number
    }

    /// How many shards the batch is split into.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether the run of 0-based index `run` is this shard's.
    pub fn holds(&self, run: u64) -> bool {
        run % self.count == self.number - 1
    }

    /// How many of a batch's `total` runs are this shard's.
    pub fn runs(&self, total: u64) -> u64 {
        self.runs_before(total, self.number) - self.runs_before(total, self.number - 1)
    }

    /// The runs of shards 1 to `shards` together.
    fn runs_before(&self, total: u64, shards: u64) -> u64 {
        let (each, extra) = (total / self.count, total % self.count);
        shards * each + shards.min(extra)
    }

    /// This shard's part of a batch budget of `budget` nano-dollars: the budget × its share
    /// of the `total` runs, cut so that the N parts add up to the budget exactly.
    pub fn budget(&self, budget: Nanos, total: u64) -> Nanos {
        if total == 0 {
            return 0;
        }
        let upto = |shards: u64| {
            (u128::from(budget) * u128::from(self.runs_before(total, shards)) / u128::from(total))
                as Nanos
        };
        upto(self.number) - upto(self.number - 1)
    }

    /// The plan's sentence about this shard's runs and money.
    pub fn describe(&self, total: u64, budget: Option<f64>) -> String {
        let runs = self.runs(total);
        let money = match budget {
            Some(b) => format!(
                ", with ${:.4} of the batch's {} budget (budget_limit × its share of the runs)",
                nanos_to_usd(self.budget(usd_to_nanos(b), total)),
                usd_as_given(b)
            ),
            None => String::new(),
        };
        format!(
            "shard {self}: {runs} of the batch's {total} runs (those whose number modulo {} is {}){money}",
            self.count,
            self.number % self.count
        )
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.number, self.count)
    }
}

impl Serialize for Shard {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Shard {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Shard::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A `--shard` resolved: the shard, and for `auto` what was read to find it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ResolvedShard {
    /// `K/N`, 1-based.
    #[cfg_attr(test, ts(type = "string"))]
    pub shard: Shard,
    /// For `auto`: the scheduler and the variables that gave the shard, in a sentence.
    pub found: Option<String>,
}

/// Resolves `--shard` (`K/N` or `auto`), with `--shards N` when given, against the
/// environment variables `env` (only those named in this module are read).
pub fn resolve(
    spec: &str,
    shards: Option<u64>,
    env: &BTreeMap<String, String>,
) -> Result<ResolvedShard, String> {
    if spec != "auto" {
        if shards.is_some() {
            return Err(format!(
                "--shards N goes with --shard auto; --shard {spec} gives the count itself"
            ));
        }
        return Ok(ResolvedShard {
            shard: Shard::parse(spec)?,
            found: None,
        });
    }
    let var = |name: &'static str| env.get(name).map(|v| (name, v.trim()));
    match (var("JOB_COMPLETION_INDEX"), var("SLURM_ARRAY_TASK_ID")) {
        (Some(k8s), Some(slurm)) => Err(format!(
            "--shard auto: both {}={} (Kubernetes) and {}={} (Slurm) are set: give --shard K/N",
            k8s.0, k8s.1, slurm.0, slurm.1
        )),
        (Some(index), None) => kubernetes(index, shards, var(COUNT_VARIABLE)),
        (None, Some(id)) => slurm(id, shards, &var),
        (None, None) => Err(format!(
            "--shard auto found no shard in the environment: it reads JOB_COMPLETION_INDEX (a Kubernetes Indexed Job, with --shards N or {COUNT_VARIABLE}) and SLURM_ARRAY_TASK_ID (a Slurm job array); elsewhere (a GitHub Actions matrix) give --shard K/N"
        )),
    }
}

/// A variable's value as a whole number, or a refusal naming it.
fn whole((name, value): (&str, &str)) -> Result<u64, String> {
    value
        .parse()
        .map_err(|_| format!("--shard auto: {name} is '{value}', not a whole number"))
}

fn kubernetes(
    index: (&str, &str),
    shards: Option<u64>,
    count_var: Option<(&str, &str)>,
) -> Result<ResolvedShard, String> {
    let i = whole(index)?;
    let from_var = count_var.map(whole).transpose()?;
    let (count, said) = match (shards, from_var) {
        (Some(a), Some(b)) if a != b => {
            return Err(format!(
                "--shard auto: --shards {a} and {COUNT_VARIABLE}={b} disagree: give one"
            ))
        }
        (Some(n), _) => (n, format!("--shards {n}")),
        (None, Some(n)) => (n, format!("{COUNT_VARIABLE}={n}")),
        (None, None) => {
            return Err(format!(
                "--shard auto: JOB_COMPLETION_INDEX={i} gives this pod's index but not the number of shards: give --shards N (the Job's completions) or set {COUNT_VARIABLE} in the manifest"
            ))
        }
    };
    if i >= count {
        return Err(format!(
            "--shard auto: JOB_COMPLETION_INDEX={i} is out of range for {said} (indexes 0 to {}): the Job's completions and the shard count must agree",
            count.saturating_sub(1)
        ));
    }
    let shard = Shard::new(i + 1, count)?;
    Ok(ResolvedShard {
        found: Some(format!(
            "a Kubernetes Indexed Job: JOB_COMPLETION_INDEX={i} (0-based) and {said} make this shard {shard}"
        )),
        shard,
    })
}

fn slurm<'e>(
    id: (&str, &str),
    shards: Option<u64>,
    var: &dyn Fn(&'static str) -> Option<(&'static str, &'e str)>,
) -> Result<ResolvedShard, String> {
    let need = |name: &'static str| {
        var(name).ok_or_else(|| format!("--shard auto: {}={} is set but not {name}: is this a Slurm job array (sbatch --array)?", id.0, id.1))
    };
    let task = whole(id)?;
    let min = whole(need("SLURM_ARRAY_TASK_MIN")?)?;
    let count = whole(need("SLURM_ARRAY_TASK_COUNT")?)?;
    let step = var("SLURM_ARRAY_TASK_STEP")
        .map(whole)
        .transpose()?
        .unwrap_or(1)
        .max(1);
    if let Some(max) = var("SLURM_ARRAY_TASK_MAX").map(whole).transpose()? {
        if max < min || (max - min) / step + 1 != count {
            return Err(format!(
                "--shard auto: the Slurm array is not one range (SLURM_ARRAY_TASK_MIN={min}, SLURM_ARRAY_TASK_MAX={max}, SLURM_ARRAY_TASK_COUNT={count}): submit it as --array=1-N"
            ));
        }
    }
    if task < min || (task - min) % step != 0 {
        return Err(format!(
            "--shard auto: SLURM_ARRAY_TASK_ID={task} is not in the array from SLURM_ARRAY_TASK_MIN={min} in steps of {step}"
        ));
    }
    let index = (task - min) / step;
    if let Some(n) = shards.filter(|n| *n != count) {
        return Err(format!(
            "--shard auto: --shards {n} and SLURM_ARRAY_TASK_COUNT={count} disagree: leave out --shards"
        ));
    }
    if index >= count {
        return Err(format!(
            "--shard auto: SLURM_ARRAY_TASK_ID={task} is past the array's SLURM_ARRAY_TASK_COUNT={count} tasks from SLURM_ARRAY_TASK_MIN={min}"
        ));
    }
    let shard = Shard::new(index + 1, count)?;
    Ok(ResolvedShard {
        found: Some(format!(
            "a Slurm job array: SLURM_ARRAY_TASK_ID={task} of SLURM_ARRAY_TASK_COUNT={count} from SLURM_ARRAY_TASK_MIN={min} makes this shard {shard}"
        )),
        shard,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn auto(pairs: &[(&str, &str)], shards: Option<u64>) -> Result<ResolvedShard, String> {
        resolve("auto", shards, &env(pairs))
    }

    #[test]
    fn k_of_n_counts_from_one() {
        let s = Shard::parse("2/2").unwrap();
        assert_eq!((s.number(), s.count(), s.to_string()), (2, 2, "2/2".into()));
        assert!(s.holds(1) && s.holds(3) && !s.holds(0));
        assert!(Shard::parse("1/1").unwrap().holds(0));
        let e = Shard::parse("0/4").unwrap_err();
        assert!(e.contains("count from 1") && e.contains("1/4"), "{e}");
        assert!(Shard::parse("5/4").unwrap_err().contains("from 1 to 4"));
        assert!(Shard::parse("1/0").unwrap_err().contains("1 or more"));
        for bad in ["", "2", "a/b", "1/2/3", "-1/2"] {
            assert!(Shard::parse(bad).unwrap_err().contains("K/N"), "{bad}");
        }
        assert!(resolve("1/4", Some(4), &env(&[]))
            .unwrap_err()
            .contains("--shards N goes with --shard auto"));
    }

    #[test]
    fn the_shards_split_the_runs_and_the_budget_exactly() {
        for (total, count) in [(8, 4), (10, 4), (3, 4), (0, 2), (7, 1)] {
            let shards: Vec<Shard> = (1..=count).map(|k| Shard::new(k, count).unwrap()).collect();
            for run in 0..total {
                assert_eq!(shards.iter().filter(|s| s.holds(run)).count(), 1);
            }
            for s in &shards {
                assert_eq!(
                    s.runs(total),
                    (0..total).filter(|r| s.holds(*r)).count() as u64
                );
            }
            let budget = 1_000_000_007;
            let parts: u64 = shards.iter().map(|s| s.budget(budget, total)).sum();
            assert_eq!(
                parts,
                if total == 0 { 0 } else { budget },
                "{total} runs, {count} shards"
            );
        }
        // 10 runs in 4: 3, 3, 2, 2 runs, and money in proportion.
        let s = Shard::new(1, 4).unwrap();
        assert_eq!(s.budget(1000, 10), 300);
        assert_eq!(Shard::new(4, 4).unwrap().budget(1000, 10), 200);
        let said = s.describe(10, Some(1.0));
        assert!(
            said.contains("3 of the batch's 10 runs")
                && said.contains("$0.3000 of the batch's $1.00 budget"),
            "{said}"
        );
        let small = Shard::new(2, 4).unwrap().describe(10, Some(0.004));
        assert!(
            small.contains("$0.0012 of the batch's $0.004 budget"),
            "{small}"
        );
    }

    #[test]
    fn auto_reads_a_kubernetes_indexed_job() {
        let r = auto(
            &[("JOB_COMPLETION_INDEX", "2"), (COUNT_VARIABLE, "4")],
            None,
        )
        .unwrap();
        assert_eq!(r.shard.to_string(), "3/4");
        let found = r.found.unwrap();
        assert!(
            found.contains("Kubernetes")
                && found.contains("JOB_COMPLETION_INDEX=2")
                && found.contains("3/4"),
            "{found}"
        );
        assert_eq!(
            auto(&[("JOB_COMPLETION_INDEX", "0")], Some(4))
                .unwrap()
                .shard
                .to_string(),
            "1/4"
        );
        let e = auto(&[("JOB_COMPLETION_INDEX", "2")], None).unwrap_err();
        assert!(
            e.contains("--shards N") && e.contains(COUNT_VARIABLE),
            "{e}"
        );
        let e = auto(&[("JOB_COMPLETION_INDEX", "4")], Some(4)).unwrap_err();
        assert!(
            e.contains("JOB_COMPLETION_INDEX=4") && e.contains("0 to 3"),
            "{e}"
        );
        let e = auto(&[("JOB_COMPLETION_INDEX", "x")], Some(4)).unwrap_err();
        assert!(e.contains("JOB_COMPLETION_INDEX is 'x'"), "{e}");
        let e = auto(
            &[("JOB_COMPLETION_INDEX", "1"), (COUNT_VARIABLE, "3")],
            Some(4),
        )
        .unwrap_err();
        assert!(e.contains("disagree"), "{e}");
    }

    #[test]
    fn auto_reads_a_slurm_array() {
        let array = |id: &str| {
            auto(
                &[
                    ("SLURM_ARRAY_TASK_ID", id),
                    ("SLURM_ARRAY_TASK_MIN", "1"),
                    ("SLURM_ARRAY_TASK_MAX", "4"),
                    ("SLURM_ARRAY_TASK_COUNT", "4"),
                ],
                None,
            )
        };
        assert_eq!(array("1").unwrap().shard.to_string(), "1/4");
        let r = array("4").unwrap();
        assert_eq!(r.shard.to_string(), "4/4");
        assert!(r.found.unwrap().contains("Slurm"));
        assert!(array("0").unwrap_err().contains("SLURM_ARRAY_TASK_ID=0"));
        // --array=0-3 counts from 0: the same four shards.
        let zero = auto(
            &[
                ("SLURM_ARRAY_TASK_ID", "3"),
                ("SLURM_ARRAY_TASK_MIN", "0"),
                ("SLURM_ARRAY_TASK_COUNT", "4"),
            ],
            None,
        )
        .unwrap();
        assert_eq!(zero.shard.to_string(), "4/4");
        // --array=0-6:2 is 0, 2, 4, 6.
        let stepped = auto(
            &[
                ("SLURM_ARRAY_TASK_ID", "4"),
                ("SLURM_ARRAY_TASK_MIN", "0"),
                ("SLURM_ARRAY_TASK_MAX", "6"),
                ("SLURM_ARRAY_TASK_STEP", "2"),
                ("SLURM_ARRAY_TASK_COUNT", "4"),
            ],
            None,
        )
        .unwrap();
        assert_eq!(stepped.shard.to_string(), "3/4");
        // --array=1,5,9 is no range.
        let e = auto(
            &[
                ("SLURM_ARRAY_TASK_ID", "5"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_MAX", "9"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
            ],
            None,
        )
        .unwrap_err();
        assert!(e.contains("not one range"), "{e}");
        let e = auto(&[("SLURM_ARRAY_TASK_ID", "1")], None).unwrap_err();
        assert!(
            e.contains("SLURM_ARRAY_TASK_MIN") && e.contains("SLURM_ARRAY_TASK_ID=1"),
            "{e}"
        );
    }

    #[test]
    fn auto_without_a_scheduler_says_what_it_reads() {
        let e = auto(&[], None).unwrap_err();
        assert!(
            e.contains("JOB_COMPLETION_INDEX")
                && e.contains("SLURM_ARRAY_TASK_ID")
                && e.contains("--shard K/N"),
            "{e}"
        );
        let e = auto(
            &[("JOB_COMPLETION_INDEX", "0"), ("SLURM_ARRAY_TASK_ID", "1")],
            Some(2),
        )
        .unwrap_err();
        assert!(e.contains("both"), "{e}");
    }
}
