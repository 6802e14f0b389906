//! Our own example scenarios, experiments and fixtures load without errors.
mod common;
use common::*;
use scenario_lab::config::{load_batch, load_scenario};

#[test]
fn smoke() {
    let s = DiskStorage::new(project_root());
    for dir in ["scenarios/quick-negotiation", "scenarios/city-ai-rollout", "tests/fixtures/scenarios/dict-metrics", "tests/fixtures/scenarios/list-metrics", "tests/fixtures/scenarios/free-form-events"] {
        match block_on(load_scenario(&s, dir)) {
            Ok(l) => { for w in &l.warnings { println!("{w}\n"); } println!("{dir}: {} actors {} metrics {} events", l.value.actors.len(), l.value.metrics.len(), l.value.events.len()); }
            Err(e) => panic!("{dir}:\n{e}"),
        }
    }
    for cfg in ["experiments/quick-start/batch-config.yaml", "experiments/model-comparison/batch-config.yaml", "experiments/sensitivity-2x2/batch-config.yaml", "experiments/robustness/batch-config.yaml", "experiments/parameter-sweep/batch-config.yaml", "tests/fixtures/experiments/v2-shorthand/batch-config.yaml", "tests/fixtures/experiments/all-types/batch-config.yaml"] {
        match block_on(load_batch(&s, cfg)) {
            Ok(l) => { for w in &l.warnings { println!("{w}\n"); } println!("{cfg}: {} dims", l.value.variations.len()); }
            Err(e) => panic!("{cfg}:\n{e}"),
        }
    }
    let c = DiskStorage::new("/work/shared/compat");
    for dir in ["scenarios/example-full-featured", "scenarios/example-minimal-template", "scenarios/local-minimal-test", "scenarios/test-coalition-3actors", "scenarios/test-regulation-negotiation"] {
        match block_on(load_scenario(&c, dir)) {
            Ok(l) => { for w in &l.warnings { println!("{w}\n"); } println!("{dir}: {} actors {} metrics {} events", l.value.actors.len(), l.value.metrics.len(), l.value.events.len()); }
            Err(e) => panic!("{dir}:\n{e}"),
        }
    }
    for cfg in ["experiments/example-batch-config.yaml", "experiments/test-batch/batch-config.yaml"] {
        match block_on(load_batch(&c, cfg)) {
            Ok(l) => { for w in &l.warnings { println!("{w}\n"); } println!("{cfg}: {} dims", l.value.variations.len()); }
            Err(e) => panic!("{cfg}:\n{e}"),
        }
    }
}
