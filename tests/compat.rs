//! The compat suite: every scenario folder and batch config written for the original Python
//! Scenario Lab, in `../shared/compat/`, loads unmodified. That folder exists in CI and on the
//! developers' machines but not in a user's clone, where this suite says plainly that it did
//! not run. Batch configs there name their scenarios relative to the compat folder, as they
//! were relative to the original repository's root, so it is the working directory here.
mod common;

use common::{block_on, project_root, DiskStorage};
use scenario_lab::config::{load_batch, load_scenario, validate};

fn compat_dir() -> Option<std::path::PathBuf> {
    let dir = project_root().join("../shared/compat");
    dir.is_dir().then_some(dir)
}

#[allow(clippy::disallowed_methods)]
fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn every_compat_input_loads_unmodified() {
    let Some(dir) = compat_dir() else {
        println!("compat suite NOT RUN: ../shared/compat not found (it exists only in CI and on the developers' machines)");
        return;
    };
    let storage = DiskStorage::new(&dir);
    let scenarios = entries(&dir.join("scenarios"));
    assert!(!scenarios.is_empty());
    for name in &scenarios {
        let path = format!("scenarios/{name}");
        match block_on(load_scenario(&storage, &path)) {
            Ok(loaded) => {
                assert!(!loaded.value.actors.is_empty(), "{path}: no actors");
                println!(
                    "compat: {path} loads ({} actors, {} metrics, {} events, {} warnings)",
                    loaded.value.actors.len(),
                    loaded.value.metrics.len(),
                    loaded.value.events.len(),
                    loaded.warnings.len()
                );
            }
            Err(e) => panic!("{path} does not load:\n{e}"),
        }
    }
    let mut configs = vec!["experiments/example-batch-config.yaml".to_string()];
    for sub in entries(&dir.join("experiments")) {
        if dir
            .join("experiments")
            .join(&sub)
            .join("batch-config.yaml")
            .is_file()
        {
            configs.push(format!("experiments/{sub}/batch-config.yaml"));
        }
    }
    for cfg in &configs {
        let report = block_on(validate(&storage, cfg));
        if report.ok {
            let loaded = block_on(load_batch(&storage, cfg)).unwrap();
            println!(
                "compat: {cfg} loads ({} dimensions)",
                loaded.value.variations.len()
            );
        } else {
            // The only acceptable failure: a base scenario that is not there, named clearly.
            for e in &report.errors {
                assert!(
                    e.message.starts_with("the base scenario")
                        && e.found
                            .as_deref()
                            .unwrap_or("")
                            .contains("no scenario.yaml in"),
                    "{cfg}: {e}"
                );
            }
            println!(
                "compat: {cfg} refused with a clear message: {}",
                report.errors[0].message
            );
        }
    }
}

#[test]
fn compat_examples_have_the_shapes_we_expect() {
    let Some(dir) = compat_dir() else {
        println!("compat suite NOT RUN: ../shared/compat not found");
        return;
    };
    let storage = DiskStorage::new(&dir);
    // The original's full-featured example lists actors by file stem whose short_names differ.
    if dir.join("scenarios/example-full-featured").is_dir() {
        let s = block_on(load_scenario(&storage, "scenarios/example-full-featured"))
            .unwrap()
            .value;
        let names: Vec<&str> = s.actors.iter().map(|a| a.short_name.as_str()).collect();
        assert!(names.contains(&"citizens"), "{names:?}");
        assert_eq!(s.find_actor("citizen-rep"), s.find_actor("citizens"));
        assert!(
            s.communication.bilateral,
            "features.communications.enabled is read"
        );
    }
    // Its dict-format metrics keep their regexes and manual entries.
    if dir.join("scenarios/test-regulation-negotiation").is_dir() {
        let s = block_on(load_scenario(
            &storage,
            "scenarios/test-regulation-negotiation",
        ))
        .unwrap()
        .value;
        assert_eq!(s.metrics.len(), 8);
        assert!(s
            .checks
            .as_ref()
            .is_some_and(|c| c.checks.iter().any(|c| c.prompt_template.is_some())));
    }
}
