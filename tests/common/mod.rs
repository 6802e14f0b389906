//! Test support: a `Storage` over a real folder, and a blocking runner for core futures.
#![allow(clippy::disallowed_methods, dead_code)]

use std::path::{Path, PathBuf};

use scenario_lab::host::{Storage, StorageError};

/// Reads files under `root`, as the CLI host does under its working directory.
pub struct DiskStorage {
    pub root: PathBuf,
}

impl DiskStorage {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DiskStorage { root: root.into() }
    }

    fn at(&self, path: &str) -> PathBuf {
        if Path::new(path).is_absolute() {
            PathBuf::from(path)
        } else {
            self.root.join(path)
        }
    }
}

fn err(path: &str, e: std::io::Error) -> StorageError {
    StorageError {
        path: path.to_string(),
        message: e.to_string(),
    }
}

impl Storage for DiskStorage {
    async fn read(&self, path: &str) -> Result<Option<String>, StorageError> {
        match std::fs::read_to_string(self.at(path)) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) if self.at(path).is_dir() => {
                let _ = e;
                Ok(None)
            }
            Err(e) => Err(err(path, e)),
        }
    }
    async fn write(&self, path: &str, text: &str) -> Result<(), StorageError> {
        std::fs::write(self.at(path), text).map_err(|e| err(path, e))
    }
    async fn append(&self, path: &str, text: &str) -> Result<(), StorageError> {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(self.at(path))
            .map_err(|e| err(path, e))?;
        f.write_all(text.as_bytes()).map_err(|e| err(path, e))
    }
    async fn list(&self, dir: &str) -> Result<Option<Vec<String>>, StorageError> {
        match std::fs::read_dir(self.at(dir)) {
            Ok(rd) => {
                let mut names: Vec<String> = rd
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                names.sort();
                Ok(Some(names))
            }
            Err(_) => Ok(None),
        }
    }
    async fn exists(&self, path: &str) -> Result<bool, StorageError> {
        Ok(self.at(path).exists())
    }
    async fn remove(&self, path: &str) -> Result<(), StorageError> {
        match std::fs::remove_file(self.at(path)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(err(path, e)),
            _ => Ok(()),
        }
    }
}

/// The project's root folder.
pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs a core future to completion (the in-memory and disk stores never wait).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

pub mod sim;

/// A new run of the scenario in folder `s` with this seed, as written (no variation, limit or
/// branch).
pub fn run_spec(seed: u64) -> scenario_lab::engine::RunSpec {
    scenario_lab::engine::RunSpec {
        block: None,
        scenario_dir: "s".into(),
        modifications: Default::default(),
        seed,
        branch: None,
        cost_limit: None,
        max_tokens: None,
    }
}

/// Puts the quick-negotiation example scenario under `dir/` in `store`, each file's text passed
/// through `edit` (for example to swap its model).
pub fn quick_negotiation(
    store: &scenario_lab::host::MemoryStorage,
    dir: &str,
    edit: impl Fn(&str) -> String,
) {
    for (name, text) in [
        (
            "scenario.yaml",
            include_str!("../../scenarios/quick-negotiation/scenario.yaml"),
        ),
        (
            "metrics.yaml",
            include_str!("../../scenarios/quick-negotiation/metrics.yaml"),
        ),
        (
            "actors/council.yaml",
            include_str!("../../scenarios/quick-negotiation/actors/council.yaml"),
        ),
        (
            "actors/swiftride.yaml",
            include_str!("../../scenarios/quick-negotiation/actors/swiftride.yaml"),
        ),
    ] {
        store.insert(&format!("{dir}/{name}"), &edit(text));
    }
}
