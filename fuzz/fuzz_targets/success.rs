//! Fuzzes the success expression parser (`analysis::success::Condition::parse`), and evaluates
//! what parses on made-up metrics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenario_lab::analysis::success::Condition;
use scenario_lab_fuzz::{bounded, text};

fuzz_target!(|data: &[u8]| {
    let text = text(data);
    bounded(
        "success::Condition::parse",
        text.len(),
        || match Condition::parse(&text) {
            Ok(c) => {
                let _ = c.metrics().count();
                let _ = c.holds(|m| (m.len() % 3 != 0).then_some(m.len() as f64 - 4.5));
                let _ = c.text().len();
            }
            Err(e) => {
                let _ = e.to_string();
            }
        },
    );
});
