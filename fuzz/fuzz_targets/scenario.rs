//! Fuzzes the scenario loader (`config::load_scenario`). The input is the folder's
//! `scenario.yaml` beside the fixed quick-negotiation actors and metrics; an input whose first
//! byte is 0x01 is instead the rest as the actor file `actors/council.yaml`, beside the fixed
//! `scenario.yaml` that names it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenario_lab::host::MemoryStorage;
use scenario_lab_fuzz::{bounded, text, SCENARIO};

/// The first byte that makes the input an actor file.
const ACTOR: u8 = 0x01;

fuzz_target!(|data: &[u8]| {
    let (file, text) = match data.split_first() {
        Some((&ACTOR, rest)) => ("actors/council.yaml", text(rest)),
        _ => ("scenario.yaml", text(data)),
    };
    let store = MemoryStorage::new();
    for (path, body) in SCENARIO {
        store.insert(&format!("s/{path}"), body);
    }
    store.insert(&format!("s/{file}"), &text);
    bounded("config::load_scenario", text.len(), || {
        let _ = futures::executor::block_on(scenario_lab::config::load_scenario(&store, "s"));
    });
});
