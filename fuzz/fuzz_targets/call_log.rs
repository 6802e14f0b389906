//! Fuzzes the call-log readers: what analysis and the batch's resume read of a run's
//! `llm-calls.jsonl` (`CallUsage::parse_log`, through `RunFolder::parse`), and the full records a
//! resumed run replays (`CallRecord`, one JSON value a line, as `Gateway::load` reads them).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenario_lab::schema::{CallRecord, RunFolder};
use scenario_lab_fuzz::{bounded, text};

fuzz_target!(|data: &[u8]| {
    let text = text(data);
    bounded("call log readers", text.len(), || {
        let folder = RunFolder::parse(None, Some(&text), None);
        for call in &folder.calls {
            let _ = (call.truncated(), call.over_cap());
        }
        let replay: Vec<CallRecord> = text
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect();
        for r in &replay {
            let _ = (r.truncated(), r.over_cap());
        }
    });
});
