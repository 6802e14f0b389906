//! Fuzzes the batch-config loader (`config::load_batch`): the input is `batch-config.yaml` in a
//! store that also holds the fixed quick-negotiation scenario, so a config that names it goes on
//! to load it, its variations, design and checks. A config that loads is then planned and
//! rendered as `run --dry-run` does (`plan::plan`, `plan::render`), where its numbers are used.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenario_lab::host::MemoryStorage;
use scenario_lab::pricing::PriceBook;
use scenario_lab_fuzz::{bounded, text, SCENARIO, SCENARIO_DIR};

fuzz_target!(|data: &[u8]| {
    let text = text(data);
    let store = MemoryStorage::new();
    for (path, body) in SCENARIO {
        store.insert(&format!("{SCENARIO_DIR}/{path}"), body);
    }
    store.insert("batch-config.yaml", &text);
    bounded("config::load_batch", text.len(), || {
        let loaded = futures::executor::block_on(scenario_lab::config::load_batch(
            &store,
            "batch-config.yaml",
        ));
        if let Ok(loaded) = loaded {
            let book = PriceBook::new(&loaded.value.prices);
            let plan = scenario_lab::plan::plan(&loaded.value, &book);
            let _ = scenario_lab::plan::render(&plan, false);
        }
    });
});
