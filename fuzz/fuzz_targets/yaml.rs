//! Fuzzes the YAML loader (`scenario_lab::yaml::parse`), every config file's first reader.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenario_lab_fuzz::{bounded, text};

fuzz_target!(|data: &[u8]| {
    let text = text(data);
    bounded("yaml::parse", text.len(), || {
        if let Ok(node) = scenario_lab::yaml::parse(&text) {
            // What the loaders do next with a tree: walk it as JSON.
            let _ = node.to_json();
        }
    });
});
