//! Scenario Lab's core: everything that decides anything, and no I/O.
//!
//! Scenario Lab runs multi-actor LLM scenario simulations as statistical batch experiments.
//! This crate is the pure core. It never opens a file, a socket or reads the clock: the world
//! reaches it only through the host traits of [`host`] (`Storage`, `Llm`, `Clock`), which the
//! native tests implement in memory and the wasm binding implements over JavaScript.
//!
//! ```text
//!  config text, stored files ──► config ──► plan ──► (engine, batch: later issues)
//!  LLM responses, clock readings ─┘              └──► LLM requests, writes, events, reports
//! ```
//!
//! Modules, one job each:
//! - [`yaml`]: YAML text to a tree that remembers the line and column of every node.
//! - [`limits`]: every limit on what the tool accepts (file sizes, alias expansion, stored replies).
//! - [`diag`]: diagnostics (file, line, column, expected, found, "did you mean") and their display.
//! - [`suggest`]: "did you mean" by edit distance.
//! - [`paths`]: `/`-separated path arithmetic, and the resolution of relative config paths.
//! - [`outdir`]: where outputs may go (no roots, system or home folders, or others' files).
//! - [`config`]: scenario folders and batch configs, loaded and validated into typed values.
//! - [`init`]: `scenario-lab init`: answers (or a template) to a commented scenario and batch config.
//! - [`pricing`]: model prices (built-in table, OpenRouter's list, a config's `prices:`) and money.
//! - [`plan`]: variation expansion (lazy), cost and time estimates, the dry-run plan and its text.
//! - [`error`]: the kinds of failure and the exit status of each.
//! - [`host`]: the traits through which the core touches storage, the network and time.
//! - [`schema`]: the types of every file and event (the contract between core, hosts and files).
//! - [`stats`]: summaries, intervals, tests, effect sizes, power and two-way ANOVA for analysis.
//! - `wasm` (wasm32 only): the JavaScript-facing binding; conversion and nothing else.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod analysis;
pub mod batch;
pub mod config;
pub mod diag;
pub mod engine;
pub mod error;
pub mod host;
pub mod init;
pub mod limits;
pub mod llm;
pub mod outdir;
pub mod paths;
pub mod plan;
pub mod pricing;
pub mod rng;
pub mod schema;
pub mod stats;
pub mod suggest;
pub mod yaml;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

/// The package version, shared by the CLI's `--version` and the page.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
