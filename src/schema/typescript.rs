//! The TypeScript declarations of the contract, generated from the Rust types by `ts-rs` (a
//! dev-dependency: the shipped wasm carries none of it). `cargo test` compares them with
//! `lib/types.d.ts`, so a type that changes without its declaration fails the build; record
//! the new declarations with `UPDATE_TYPES=1 cargo test --lib typescript`.
// The declarations are a file of the project, read and written as such (the core never does).
#![allow(clippy::disallowed_methods)]

use ts_rs::{Config, TypeVisitor, TS};

/// Where the declarations live, from the crate root.
const FILE: &str = "lib/types.d.ts";

/// The declarations of some types and of every type they use, once each, by name (the order
/// ts-rs visits dependencies in is not stable from one build to the next).
#[derive(Default)]
struct Declarations {
    cfg: Config,
    by_name: std::collections::BTreeMap<String, String>,
}

impl TypeVisitor for Declarations {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        // Only declared types have an output path (not `Vec`, `Option`, primitives).
        if T::output_path().is_none() {
            return;
        }
        let name = T::ident(&self.cfg);
        let decl = format!(
            "{}export {}\n",
            T::docs().unwrap_or_default(),
            T::decl(&self.cfg)
        );
        if let Some(seen) = self.by_name.get(&name) {
            // Two Rust types of one name would be one TypeScript type: rename one.
            assert_eq!(seen, &decl, "two types are named {name} in TypeScript");
            return;
        }
        self.by_name.insert(name, decl);
        T::visit_dependencies(self);
    }
}

/// Every type of the contract: the files, the events, and what the wasm exports take and
/// return; the types they use follow each.
fn declarations() -> String {
    let mut d = Declarations {
        // u64 counts and nano-dollars reach JavaScript through JSON.parse: numbers, not bigints.
        cfg: Config::new().with_large_int("number"),
        ..Default::default()
    };
    macro_rules! visit {
        ($($t:ty),* $(,)?) => { $( d.visit::<$t>(); )* };
    }
    use super::batch::*;
    visit!(
        // The run folder's files.
        super::ScenarioState,
        super::run::Metrics,
        super::run::Costs,
        super::run::CallRecord,
        // The batch files and events.
        BatchState,
        BatchCosts,
        BatchSummary,
        BatchOutcome,
        BatchTotals,
        MergeOutcome,
        super::BatchEvent,
        // What the exports take (beside the JavaScript objects declared in src/wasm/).
        crate::engine::session::Request,
        crate::analysis::Options,
        crate::batch::BatchOptions,
        crate::llm::route::Connection,
        crate::plan::PlanOptions,
        crate::plan::RenderOptions,
        crate::plan::calibrate::CalibrateOptions,
        crate::plan::calibrate::CalibrationRenderOptions,
        crate::outdir::DirFacts,
        crate::outdir::OutputOptions,
        crate::init::Answers,
        crate::init::Overrides,
        // What the exports give the host's functions.
        crate::host::PersonPrompt,
        // What the exports return.
        crate::config::ValidationReport,
        crate::plan::Plan,
        crate::batch::shard::ResolvedShard,
        crate::plan::calibrate::Calibration,
        crate::engine::session::ScenarioResult,
        crate::analysis::tree::BatchStatus,
        crate::analysis::tree::RunListing,
        crate::suggest::ModelCheck,
        crate::analysis::Analysis,
        crate::init::Project,
        crate::init::ModelChoice,
        crate::init::TemplateInfo,
    );
    let mut text = String::from(
        "// Generated from the Rust types of src/ by `UPDATE_TYPES=1 cargo test --lib typescript`.\n// Do not edit: change the Rust type (its doc comments become these comments).\n",
    );
    for decl in d.by_name.values() {
        text.push('\n');
        text.push_str(decl);
    }
    text
}

#[test]
fn the_declarations_match_the_types() {
    let now = declarations();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FILE);
    if std::env::var_os("UPDATE_TYPES").is_some() {
        std::fs::write(&path, &now).unwrap();
        return;
    }
    let recorded = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        recorded == now,
        "{FILE} is not what the Rust types declare: record it with `UPDATE_TYPES=1 cargo test --lib typescript` and commit it"
    );
}
