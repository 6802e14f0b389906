//! What a config file is, from its text, and where the batch configs of a project are: the
//! page lists them to open, so it must know a batch config when it sees one without loading it
//! (a config with errors is still one to open and fix).
//!
//! A batch config is a YAML file with a top-level `base_scenario` key; a scenario is the
//! `scenario.yaml` of a folder ([`super::detect_kind`] decides the same for a path). A batch
//! keeps a copy of its config in its output folder (`batch-config.yaml`, named by
//! `batch-state.json`'s `config_path`); that copy is not a config to open, unless it is the
//! config itself (an `output_dir` that is the config's own folder, as in the examples).

use super::InputKind;
use crate::host::{Storage, StorageError};
use crate::paths;
use crate::schema::BatchState;

/// Folders never searched for configs: run outputs, analysis outputs and tool folders.
const SKIP_DIRS: &[&str] = &[
    "runs",
    "analysis",
    ".git",
    "node_modules",
    "target",
    ".venv",
    "__pycache__",
];

/// What a config file is, from its path and text: `scenario.yaml` is a scenario, a YAML file
/// with a top-level `base_scenario` is a batch config, anything else is neither.
///
/// A batch config that is not valid YAML (being edited) is still recognised by a line that
/// starts with `base_scenario:`, so the page can open it and show its errors.
pub fn config_kind(path: &str, text: &str) -> Option<InputKind> {
    if paths::file_name(path) == "scenario.yaml" {
        return Some(InputKind::Scenario);
    }
    let batch = match crate::yaml::parse(text) {
        Ok(root) => root.get("base_scenario").is_some(),
        Err(_) => text.lines().any(|line| {
            line.strip_prefix("base_scenario")
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        }),
    };
    batch.then_some(InputKind::Batch)
}

/// Whether a path names a YAML file (`.yaml` or `.yml`, any case).
fn is_yaml(path: &str) -> bool {
    let name = paths::file_name(path).to_ascii_lowercase();
    name.ends_with(".yaml") || name.ends_with(".yml")
}

/// Every batch config under `dir` (paths as the storage names them), sorted; the copies that
/// batches keep of their configs in their output folders are left out.
pub async fn find_batch_configs<S: Storage>(
    storage: &S,
    dir: &str,
) -> Result<Vec<String>, StorageError> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_string()];
    while let Some(folder) = folders.pop() {
        let Some(names) = storage.list(&folder).await? else {
            continue;
        };
        for name in names {
            if SKIP_DIRS.contains(&name.as_str()) {
                continue;
            }
            let path = paths::join(&folder, &name);
            if storage.list(&path).await?.is_some() {
                folders.push(path);
            } else if is_yaml(&path) && is_batch_config(storage, &path).await? {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Whether the file at `path` is a batch config to open (not a batch's copy of another one).
async fn is_batch_config<S: Storage>(storage: &S, path: &str) -> Result<bool, StorageError> {
    let text = storage.read(path).await?.unwrap_or_default();
    if config_kind(path, &text) != Some(InputKind::Batch) {
        return Ok(false);
    }
    if paths::file_name(path) != "batch-config.yaml" {
        return Ok(true);
    }
    let state_path = paths::join(&paths::parent(path), "batch-state.json");
    let state = storage.read(&state_path).await?;
    // Only our batches keep a copy: a state without `config_path` (another tool's, or none)
    // leaves the file a config.
    let copied_from = state
        .and_then(|t| BatchState::parse(&t))
        .map(|s| s.config_path)
        .filter(|c| !c.is_empty());
    Ok(copied_from.is_none_or(|c| c == path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::MemoryStorage;

    use futures::executor::block_on as block;

    #[test]
    fn kind_from_text() {
        let batch = "experiment_name: x\nbase_scenario: scenarios/a\n";
        assert_eq!(config_kind("a/b.yaml", batch), Some(InputKind::Batch));
        assert_eq!(
            config_kind("a/b.yaml", "\"base_scenario\": s\n"),
            Some(InputKind::Batch),
            "a quoted key is the same key"
        );
        assert_eq!(
            config_kind("a/b.yaml", "base_scenario : s\nruns: [\n"),
            Some(InputKind::Batch),
            "broken YAML with the key at the start of a line is still a batch config"
        );
        assert_eq!(config_kind("a/b.yaml", "name: x\nturns: 3\n"), None);
        assert_eq!(
            config_kind("a/b.yaml", "notes:\n  base_scenario: s\n"),
            None,
            "only a top-level key counts"
        );
        assert_eq!(
            config_kind("a/scenario.yaml", "name: x\n"),
            Some(InputKind::Scenario)
        );
    }

    #[test]
    fn finds_configs_but_not_the_copies_batches_keep() {
        let s = MemoryStorage::with_files([
            ("experiments/a/batch-config.yaml", "base_scenario: s\n"),
            // The batch of a ran into its own folder: its copy is the config itself.
            (
                "experiments/a/batch-state.json",
                r#"{"config_path": "experiments/a/batch-config.yaml"}"#,
            ),
            (
                "experiments/b/config.YML",
                "base_scenario: s\noutput_dir: out/b\n",
            ),
            // b's output folder holds a copy of b's config.
            ("out/b/batch-config.yaml", "base_scenario: s\n"),
            (
                "out/b/batch-state.json",
                r#"{"config_path": "experiments/b/config.YML"}"#,
            ),
            ("out/b/runs/var-001-run-001/x.yaml", "base_scenario: s\n"),
            // A folder the original tool wrote: its batch-state.json names no config.
            ("old/batch-config.yaml", "base_scenario: s\n"),
            (
                "old/batch-state.json",
                r#"{"experiment_name": "x", "variations": []}"#,
            ),
            ("scenarios/s/scenario.yaml", "name: s\n"),
            ("node_modules/p/c.yaml", "base_scenario: s\n"),
            ("notes.yaml", "title: none\n"),
            ("readme.md", "base_scenario: s\n"),
        ]);
        assert_eq!(
            block(find_batch_configs(&s, "")).unwrap(),
            [
                "experiments/a/batch-config.yaml",
                "experiments/b/config.YML",
                "old/batch-config.yaml"
            ]
        );
        assert_eq!(
            block(find_batch_configs(&s, "experiments/b")).unwrap(),
            ["experiments/b/config.YML"]
        );
        assert!(block(find_batch_configs(&s, "nowhere")).unwrap().is_empty());
    }
}
