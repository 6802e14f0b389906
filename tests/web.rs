//! The exported JavaScript API, run by wasm-bindgen-test in Node and in headless Chromium:
//! config loading, validation and planning through the same calls the hosts make, over a
//! storage object written in JavaScript.
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Object, Reflect};
use scenario_lab::wasm;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

/// A storage object in plain JavaScript over a `{path: text}` object, like the page's
/// in-memory adapter.
fn storage(files: &[(&str, &str)]) -> JsValue {
    let map = Object::new();
    for (path, text) in files {
        Reflect::set(&map, &(*path).into(), &(*text).into()).unwrap();
    }
    let make = Function::new_with_args(
        "files",
        "return {
            read: async (p) => (Object.prototype.hasOwnProperty.call(files, p) ? files[p] : null),
            write: async (p, t) => { files[p] = t; },
            append: async (p, t) => { files[p] = (files[p] || '') + t; },
            list: async (d) => {
                const pre = d === '.' ? '' : d + '/';
                const names = [...new Set(Object.keys(files).filter((k) => k.startsWith(pre)).map((k) => k.slice(pre.length).split('/')[0]))].sort();
                return names.length ? names : null;
            },
            exists: async (p) => Object.prototype.hasOwnProperty.call(files, p) || Object.keys(files).some((k) => k.startsWith(p + '/')),
            remove: async (p) => { delete files[p]; },
        };",
    );
    make.call1(&JsValue::NULL, &map).unwrap()
}

const QUICK: &[(&str, &str)] = &[
    (
        "experiments/quick-start/batch-config.yaml",
        include_str!("../experiments/quick-start/batch-config.yaml"),
    ),
    (
        "scenarios/quick-negotiation/scenario.yaml",
        include_str!("../scenarios/quick-negotiation/scenario.yaml"),
    ),
    (
        "scenarios/quick-negotiation/metrics.yaml",
        include_str!("../scenarios/quick-negotiation/metrics.yaml"),
    ),
    (
        "scenarios/quick-negotiation/actors/council.yaml",
        include_str!("../scenarios/quick-negotiation/actors/council.yaml"),
    ),
    (
        "scenarios/quick-negotiation/actors/swiftride.yaml",
        include_str!("../scenarios/quick-negotiation/actors/swiftride.yaml"),
    ),
];

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap()
}

#[wasm_bindgen_test]
async fn validates_a_scenario_folder() {
    let report = wasm::validate("scenarios/quick-negotiation".into(), storage(QUICK))
        .await
        .unwrap();
    assert_eq!(get(&report, "ok"), JsValue::TRUE);
    assert_eq!(
        get(&report, "kind").as_string().as_deref(),
        Some("scenario")
    );
}

#[wasm_bindgen_test]
async fn reports_every_problem_of_a_bad_batch_config_with_its_position() {
    let bad = "experiment_name: bad\nbase_scenario: scenarios/quick-negotiation\nruns_per_variation: 0\nbudget_limt: 5\n";
    let mut files = QUICK.to_vec();
    files.push(("bad.yaml", bad));
    let report = wasm::validate("bad.yaml".into(), storage(&files))
        .await
        .unwrap();
    assert_eq!(get(&report, "ok"), JsValue::FALSE);
    let errors: js_sys::Array = get(&report, "errors").dyn_into().unwrap();
    assert_eq!(errors.length(), 2, "{:?}", errors);
    let texts: Vec<String> = errors
        .iter()
        .map(|e| get(&e, "text").as_string().unwrap())
        .collect();
    let typo = texts
        .iter()
        .find(|t| t.contains("budget_limt"))
        .expect("the typo is reported");
    assert!(typo.contains("bad.yaml:4:1"), "{typo}");
    assert!(typo.contains("did you mean `budget_limit`?"), "{typo}");
    assert!(
        texts
            .iter()
            .any(|t| t.contains("bad.yaml:3:21") && t.contains("at least 1")),
        "{texts:?}"
    );
}

#[wasm_bindgen_test]
async fn load_errors_are_typed() {
    let err = wasm::load_batch_config("missing.yaml".into(), storage(QUICK))
        .await
        .unwrap_err();
    assert_eq!(
        get(&err, "kind").as_string().as_deref(),
        Some("config_invalid")
    );
    let diags: js_sys::Array = get(&err, "diagnostics").dyn_into().unwrap();
    assert!(get(&diags.get(0), "message")
        .as_string()
        .unwrap()
        .contains("missing.yaml"));
    let err = wasm::validate("x".into(), JsValue::from(Object::new()))
        .await
        .unwrap_err();
    assert_eq!(get(&err, "kind").as_string().as_deref(), Some("internal"));
}

#[wasm_bindgen_test]
async fn loads_a_scenario_with_its_actors() {
    let s = wasm::load_scenario("scenarios/quick-negotiation".into(), storage(QUICK))
        .await
        .unwrap();
    let actors: js_sys::Array = get(&s, "actors").dyn_into().unwrap();
    assert_eq!(actors.length(), 2);
    assert_eq!(get(&s, "turns").as_f64(), Some(3.0));
}

#[wasm_bindgen_test]
async fn plans_the_quick_start_and_renders_it() {
    let plan = wasm::plan_batch(
        "experiments/quick-start/batch-config.yaml".into(),
        storage(QUICK),
        JsValue::UNDEFINED,
    )
    .await
    .unwrap();
    assert_eq!(get(&plan, "total_runs").as_f64(), Some(3.0));
    assert_eq!(get(&plan, "variation_count").as_f64(), Some(1.0));
    let cost = get(&plan, "cost_total");
    assert_eq!(get(&cost, "high").as_f64(), Some(0.0));
    let text = wasm::render_plan(plan, JsValue::UNDEFINED).unwrap();
    assert!(text.contains("= 3 runs"), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour unless asked");
}

#[wasm_bindgen_test]
async fn uses_openrouter_prices_when_given() {
    let mut files = QUICK.to_vec();
    let cfg = "experiment_name: p\nbase_scenario: scenarios/quick-negotiation\nbudget_limit: 1\nvariations:\n  - type: actor_model\n    actor: council\n    values: [vendor/model-x]\n";
    files.push(("p.yaml", cfg));
    let options = Object::new();
    let models = r#"{"data":[{"id":"vendor/model-x","pricing":{"prompt":"0.000001","completion":"0.000002"}}]}"#;
    Reflect::set(&options, &"openrouterModels".into(), &models.into()).unwrap();
    let plan = wasm::plan_batch("p.yaml".into(), storage(&files), options.into())
        .await
        .unwrap();
    let priced = wasm::plan_batch("p.yaml".into(), storage(&files), JsValue::UNDEFINED)
        .await
        .unwrap();
    assert_eq!(
        get(&get(&plan, "budget"), "status").as_string().as_deref(),
        Some("fits")
    );
    assert_eq!(
        get(&get(&priced, "budget"), "status")
            .as_string()
            .as_deref(),
        Some("unknown")
    );
}

#[wasm_bindgen_test]
async fn runs_the_quick_scenario_on_the_builtin_model() {
    let files = storage(QUICK);
    let request = Object::new();
    Reflect::set(
        &request,
        &"scenarioDir".into(),
        &"scenarios/quick-negotiation".into(),
    )
    .unwrap();
    Reflect::set(&request, &"output".into(), &"runs/one".into()).unwrap();
    Reflect::set(&request, &"seed".into(), &JsValue::from_f64(5.0)).unwrap();
    let outcome = wasm::run_scenario(
        request.into(),
        files.clone(),
        Object::new().into(),
        JsValue::UNDEFINED,
    )
    .await
    .unwrap();
    assert_eq!(
        get(&outcome, "status").as_string().as_deref(),
        Some("completed")
    );
    assert_eq!(get(&outcome, "current_turn").as_f64(), Some(3.0));
    assert_eq!(
        get(&outcome, "dir").as_string().as_deref(),
        Some("runs/one")
    );
    let read = Reflect::get(&files, &"read".into())
        .unwrap()
        .dyn_into::<Function>()
        .unwrap();
    let text = |path: &str| {
        let p: js_sys::Promise = read
            .call1(&files, &path.into())
            .unwrap()
            .dyn_into()
            .unwrap();
        wasm_bindgen_futures::JsFuture::from(p)
    };
    let costs = text("runs/one/costs.json")
        .await
        .unwrap()
        .as_string()
        .expect("costs.json written");
    assert!(costs.contains("\"total_cost\": 0"), "{costs}");
    assert!(text("runs/one/world-state-003.md")
        .await
        .unwrap()
        .as_string()
        .is_some());
    // Resuming a completed run replays every call and sends none.
    let resume = Object::new();
    Reflect::set(&resume, &"resume".into(), &"runs/one".into()).unwrap();
    let again = wasm::run_scenario(
        resume.into(),
        files,
        Object::new().into(),
        JsValue::UNDEFINED,
    )
    .await
    .unwrap();
    assert_eq!(get(&again, "calls_sent").as_f64(), Some(0.0));
    assert_eq!(get(&again, "calls_replayed").as_f64(), Some(9.0));
}
