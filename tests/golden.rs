//! The output tree of one batch, file by file, against a recorded fixture: a change that alters
//! any byte of what a batch writes (a refactor that should not, issue 11) fails here and names
//! the files. A change that means to alter the output records the new tree with
//! `UPDATE_GOLDEN=1 cargo test --test golden` and shows it in its diff.
// The fixture is a file of the project, read and written as such (the core itself never does).
#![allow(clippy::disallowed_methods)]
mod common;

use common::sim::{files_under, run_sim_batch, shaped, ScriptedLlm, VirtualClock};
use scenario_lab::batch::{BatchOptions, Control};
use scenario_lab::host::MemoryStorage;
use scenario_lab::schema::BatchEvent;

const FIXTURE: &str = "tests/fixtures/golden/quick-batch.txt";

struct Quiet;
impl Control for Quiet {
    fn emit(&self, _: BatchEvent) {}
    fn stop_requested(&self) -> bool {
        false
    }
}

/// One line a file: its path, its size in bytes and a hash of its text.
fn tree() -> String {
    let store = MemoryStorage::new();
    common::quick_negotiation(&store, "s", |t| {
        t.replace("builtin/simulator", "test/model")
    });
    store.insert("b.yaml", "experiment_name: golden\nbase_scenario: s\noutput_dir: out\nruns_per_variation: 2\nmax_parallel: 2\nprices:\n  test/model: {prompt: 1.0, completion: 2.0}\n  test/other: {prompt: 3.0, completion: 6.0}\nvariations:\n  - type: actor_model\n    actor: council\n    values: [test/model, test/other]\n");
    let mut llm = ScriptedLlm::new(&VirtualClock::new(), |_, r| Ok(shaped(r)));
    llm.cost_per_call = None;
    let options = BatchOptions {
        fresh_seed: 2026,
        ..Default::default()
    };
    run_sim_batch(&store, &llm, &options, &Quiet);
    files_under(&store, "out", &[])
        .iter()
        .map(|(name, text)| {
            format!(
                "{name} {} {:016x}\n",
                text.len(),
                scenario_lab::rng::fnv1a(&[text])
            )
        })
        .collect()
}

#[test]
fn a_batch_writes_the_same_tree_byte_for_byte() {
    let now = tree();
    let path = common::project_root().join(FIXTURE);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &now).unwrap();
        return;
    }
    let recorded = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{FIXTURE}: {e}; record it with UPDATE_GOLDEN=1 cargo test --test golden")
    });
    let changed: Vec<&str> = now
        .lines()
        .filter(|l| !recorded.lines().any(|r| r == *l))
        .chain(recorded.lines().filter(|r| !now.lines().any(|l| l == *r)))
        .collect();
    assert!(
        changed.is_empty(),
        "the batch's output tree changed (path, bytes, hash; now, then as recorded):\n{}",
        changed.join("\n")
    );
    assert_eq!(
        tree(),
        now,
        "two runs of the same batch wrote the same tree"
    );
}
