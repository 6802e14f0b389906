//! Inputs the fuzz targets (fuzz/, `node scripts/fuzz.mjs`) found to crash a reader, each fed
//! again to the reader it crashed. A new crash input becomes a test here: name it after what it
//! does, keep the input inline (or made by a line of code when it is large), and say which target
//! found it. The heap bound itself is tested in tests/memory_bounds.rs, which has the counting
//! allocator this binary must not have.
mod common;

use common::block_on;
use scenario_lab::host::MemoryStorage;

/// Runs `f` on a thread with a 1 MiB stack: what a wasm32 build of the core has (Rust's default
/// there), so a recursion that fits the native main thread's 8 MiB but not the CLI's is caught.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

/// Found by hand while writing the `yaml` target's deep-nest seeds, then by the target: `- - -
/// ... 1` 20,000 levels deep (40 KB) overflowed the stack, killing the process (in the CLI, the
/// wasm instance): yaml-rust2's `Parser::load` recursed once per level. `yaml::parse` now reads
/// events one by one and refuses a nest past 200 levels.
#[test]
fn deep_block_nesting_is_refused_not_a_stack_overflow() {
    let text = format!("{}1\n", "- ".repeat(20_000));
    let result = on_small_stack(move || scenario_lab::yaml::parse(&text).map(|_| ()));
    assert!(result.is_err(), "a 20,000-deep nest should be refused");
}

/// The same nest as a scenario file: the loader says it is too deep, naming the file.
#[test]
fn a_scenario_nested_too_deep_is_a_config_error() {
    let text = format!("actors:\n  {}1\n", "- ".repeat(20_000));
    let errors = on_small_stack(move || {
        let store = MemoryStorage::with_files([("s/scenario.yaml", text.as_str())]);
        block_on(scenario_lab::config::load_scenario(&store, "s")).map(|_| ())
    });
    assert!(errors.is_err());
}

/// The deepest nest allowed is read, loaded and dropped on a wasm-sized stack: the loaders and
/// the tree's drop recurse once per level too.
#[test]
fn the_deepest_nest_allowed_loads_on_a_small_stack() {
    let text = format!("actors:\n  {}1\n", "- ".repeat(198));
    let errors = on_small_stack(move || {
        let store = MemoryStorage::with_files([("s/scenario.yaml", text.as_str())]);
        let result = block_on(scenario_lab::config::load_scenario(&store, "s"));
        result.err().map(|e| e.to_string()).unwrap_or_default()
    });
    assert!(!errors.contains("levels deep"), "{errors}");
    assert!(
        errors.contains("actors"),
        "the loader read it and said what is wrong: {errors}"
    );
}
