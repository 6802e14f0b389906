use super::*;
use crate::config::{self, Extraction, ValueType};
use crate::host::MemoryStorage;

/// The project's files in a store, at its root (as the CLI writes them under the project folder).
fn store_of(p: &Project) -> MemoryStorage {
    MemoryStorage::with_files(p.files.iter().map(|f| (f.path.as_str(), f.text.as_str())))
}

fn load(p: &Project) -> (config::BatchConfig, Vec<crate::diag::Diagnostic>) {
    let store = store_of(p);
    let loaded = futures::executor::block_on(config::load_batch(&store, &p.batch_config))
        .unwrap_or_else(|e| panic!("{e}\n{:#?}", p.files));
    (loaded.value, loaded.warnings)
}

#[test]
fn every_template_makes_a_project_that_loads_without_a_warning() {
    for t in templates() {
        let answers = template(&t.name).unwrap();
        let p = generate(&answers).unwrap();
        let (cfg, warnings) = load(&p);
        assert!(warnings.is_empty(), "{}: {warnings:?}", t.name);
        let s = &cfg.scenario;
        assert_eq!(s.name, answers.title);
        assert_eq!(s.actors.len(), answers.actors.len());
        assert_eq!(s.metrics.len(), answers.metrics.len());
        assert_eq!(s.turns, answers.turns);
        assert_eq!(cfg.runs_per_variation, answers.runs);
        assert!(cfg.variations.is_empty());
        assert_eq!(cfg.output_dir, format!("experiments/{}", answers.slug()));
        assert!(s.actors.iter().all(|a| a.model == SIMULATOR));
        // The validator agrees (it is what `init` runs after writing).
        let report = futures::executor::block_on(config::validate(&store_of(&p), &p.batch_config));
        assert!(report.ok && report.warnings.is_empty(), "{report:?}");
    }
}

#[test]
fn what_was_typed_reads_back_exactly() {
    let description = "A \"hard\" case: # not a comment, 'quotes', colons: here, and a long line that goes on well past the width at which paragraphs are folded, to check the fold.";
    let situation = "# Day 0\n\n- first point: yes\n- second\n\n  indented continuation\nlast line";
    let answers = Answers {
        title: "Ünïcode: the [test] & more".into(),
        description: description.into(),
        situation: situation.into(),
        actors: vec![
            ActorAnswers {
                name: "Mayor \"Sam\" O'Neil".into(),
                short_name: None,
                role: "- starts with a dash: and has a colon".into(),
                goals: vec!["Win: 60%".into(), "Say \"no\" to #3".into()],
                model: Some("openai/gpt-5-mini".into()),
            },
            ActorAnswers {
                name: "A very long organisation name that goes on and on forever".into(),
                short_name: None,
                role: "Other".into(),
                goals: vec![],
                model: None,
            },
        ],
        turns: 2,
        turn_duration: Some("2 days".into()),
        metrics: vec![
            MetricAnswers {
                name: "Deal Reached?".into(),
                question: "Is there a deal? Say: yes".into(),
                kind: MetricKind::Boolean,
                range: None,
                categories: vec![],
            },
            MetricAnswers {
                name: "tension".into(),
                question: "How tense, from 1 to 5?".into(),
                kind: MetricKind::Continuous,
                range: Some([1.0, 5.5]),
                categories: vec![],
            },
            MetricAnswers {
                name: "phase".into(),
                question: "Which phase?".into(),
                kind: MetricKind::Categorical,
                range: None,
                categories: vec!["early: talks".into(), "late \"deal\"".into()],
            },
        ],
        world_model: None,
        communication: true,
        runs: 7,
        budget: Some(2.5),
    };
    let p = generate(&answers).unwrap();
    // Folder names keep ASCII letters and digits only (paths::sanitize_segment), with Latin
    // letters' diacritics dropped first.
    assert_eq!(p.scenario_dir, "scenarios/unicode-the-test-more");
    let (cfg, warnings) = load(&p);
    assert!(warnings.is_empty(), "{warnings:?}");
    let s = cfg.scenario;
    assert_eq!(s.name, answers.title);
    assert_eq!(s.description.as_deref().map(str::trim), Some(description));
    // Markdown is soft-wrapped: the same words, the same paragraphs.
    let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words(&s.initial_world_state).ends_with(&words(situation)));
    assert!(s
        .initial_world_state
        .contains("\n\n  indented continuation\nlast line"));
    assert!(words(&s.system_prompt.unwrap()).contains(description));
    assert_eq!(s.turn_duration.as_deref(), Some("2 days"));
    assert!(s.communication.bilateral && s.communication.coalitions);
    let mayor = &s.actors[0];
    assert_eq!(mayor.name, "Mayor \"Sam\" O'Neil");
    assert_eq!(mayor.short_name, "mayor-sam-o-neil");
    assert_eq!(
        mayor.role.as_deref(),
        Some("- starts with a dash: and has a colon")
    );
    assert_eq!(mayor.goals, ["Win: 60%", "Say \"no\" to #3"]);
    assert_eq!(mayor.model, "openai/gpt-5-mini");
    // The world model is the first actor's when none is given.
    assert_eq!(s.world_state_model, "openai/gpt-5-mini");
    assert_eq!(s.actors[1].short_name, "a-very-long-organisation-name");
    assert_eq!(s.actors[1].model, SIMULATOR);
    let [reached, tension, phase] = &s.metrics[..] else {
        panic!("{:?}", s.metrics)
    };
    assert_eq!(reached.name, "deal_reached");
    assert_eq!(reached.value_type, ValueType::Boolean);
    assert!(
        matches!(&reached.extraction, Extraction::Llm { prompt, .. } if prompt.trim() == "Is there a deal? Say: yes")
    );
    assert_eq!(tension.range, Some((1.0, 5.5)));
    assert_eq!(phase.categories, ["early: talks", "late \"deal\""]);
    assert_eq!(cfg.budget_limit, Some(2.5));
    assert_eq!(cfg.runs_per_variation, 7);
    assert_eq!(cfg.max_parallel, 4);
}

#[test]
fn problems_name_the_answer_and_what_was_expected() {
    let mut a = template("bilateral-negotiation").unwrap();
    a.actors[1].short_name = Some("buyer".into());
    a.actors[0].model = Some("open ai".into());
    a.turns = 0;
    a.budget = Some(-1.0);
    a.metrics[0].kind = MetricKind::Categorical;
    a.metrics[1].name = "9 lives".into();
    let problems: Vec<String> = check(&a).iter().map(|p| p.to_string()).collect();
    assert_eq!(
        problems,
        [
            "actors[0].model: `open ai` has a space in it; expected a model id such as openai/gpt-5-mini",
            "actors[1].short_name: `buyer` is another actor's too; give each actor its own short_name",
            "turns: is 0; expected 1 to 1000",
            "budget: is -1; expected a number of USD above 0 (or none for no limit)",
            "metrics[0].categories: expected at least two categories, none empty",
            "metrics[1].name: `9 lives` does not make a metric name; expected words starting with a letter (deal_reached)",
        ]
    );
    let e = generate(&a).unwrap_err();
    assert!(
        e.starts_with("the answers do not make a scenario (6 problems):\n  actors[0].model"),
        "{e}"
    );
    let empty = Answers {
        actors: vec![],
        metrics: vec![],
        title: " ".into(),
        ..a
    };
    let fields: Vec<String> = check(&empty).into_iter().map(|p| p.field).collect();
    assert_eq!(fields, ["title", "actors", "turns", "budget", "metrics"]);
}

#[test]
fn an_answers_file_is_read_with_its_defaults_and_its_errors_located() {
    let a = parse_answers(
        r#"{"title": "T", "actors": [{"name": "A", "role": "r"}], "metrics": [{"name": "m", "question": "q?", "kind": "boolean"}]}"#,
        "answers.json",
    )
    .unwrap();
    assert_eq!(
        (a.turns, a.runs, a.budget, a.communication),
        (3, 3, None, false)
    );
    assert!(generate(&a).is_ok());
    let e = parse_answers("{\n  \"titel\": \"T\"\n}", "answers.json").unwrap_err();
    assert!(
        e.starts_with("answers.json:2:9: unknown field `titel`, expected one of `title`"),
        "{e}"
    );
    assert!(e.contains("(expected an answers object: title,"), "{e}");
    let e = parse_answers("{\"title\": \"T\", \"actors\": [], \"metrics\": [{\"name\": \"m\", \"question\": \"q\", \"kind\": \"scale\"}]}", "a.json").unwrap_err();
    assert!(e.starts_with("a.json:1:"), "{e}");
    assert!(
        e.contains(
            "unknown variant `scale`, expected one of `continuous`, `boolean`, `categorical`"
        ),
        "{e}"
    );
}

#[test]
fn flags_override_the_answers() {
    let a = template("crisis-response").unwrap().with(&Overrides {
        title: Some("My Crisis".into()),
        model: Some("openai/gpt-5-nano".into()),
        turns: Some(2),
        runs: Some(10),
        budget: Some(1.0),
    });
    assert_eq!(a.slug(), "my-crisis");
    assert!(a
        .actors
        .iter()
        .all(|x| x.model.as_deref() == Some("openai/gpt-5-nano")));
    assert_eq!(a.world_model(), "openai/gpt-5-nano");
    assert_eq!((a.turns, a.runs, a.budget), (2, 10, Some(1.0)));
    let p = generate(&a).unwrap();
    let config = &p.files.last().unwrap().text;
    assert!(config.contains("budget_limit: 1\n"), "{config}");
    assert!(
        config.contains("need a key (OPENROUTER_API_KEY)"),
        "{config}"
    );
}

#[test]
fn unknown_templates_get_a_guess_and_the_list() {
    assert_eq!(
        template("crisis-respons").unwrap_err(),
        "there is no template 'crisis-respons'; did you mean 'crisis-response'? (templates: bilateral-negotiation, multi-party-coalition, crisis-response)"
    );
}

#[test]
fn the_offered_models_have_prices_from_the_table() {
    let choices = model_choices();
    assert_eq!(
        choices.len(),
        SUGGESTED_MODELS.len(),
        "a suggested model has no price"
    );
    assert_eq!(choices[0].id, SIMULATOR);
    assert_eq!((choices[0].prompt, choices[0].completion), (0.0, 0.0));
    assert!(choices[1..]
        .iter()
        .all(|c| c.prompt > 0.0 && c.completion > 0.0));
}

#[test]
fn the_files_look_like_the_examples() {
    let p = generate(&template("bilateral-negotiation").unwrap()).unwrap();
    let paths: Vec<&str> = p.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "scenarios/supplier-contract-renewal/scenario.yaml",
            "scenarios/supplier-contract-renewal/actors/buyer.yaml",
            "scenarios/supplier-contract-renewal/actors/supplier.yaml",
            "scenarios/supplier-contract-renewal/metrics.yaml",
            "experiments/supplier-contract-renewal/batch-config.yaml",
        ]
    );
    let config = &p.files[4].text;
    assert!(
        config.starts_with(
            "# Supplier Contract Renewal: 3 runs on builtin/simulator.\n# Every model here is free"
        ),
        "{config}"
    );
    assert!(config.contains("\nbase_scenario: \"scenarios/supplier-contract-renewal\"\n"));
    assert!(
        config.contains("\n# No budget_limit / cost_per_run_limit: the models here are free.\n")
    );
    let scenario = &p.files[0].text;
    assert!(
        scenario.contains("\ndescription: >\n  A manufacturer"),
        "{scenario}"
    );
    assert!(scenario.lines().all(|l| l.len() <= 80), "{scenario}");
}

#[test]
fn names_in_european_languages_keep_their_letters_in_file_names() {
    let mut answers = template(&templates()[0].name).unwrap();
    answers.title = "Négociation à Łódź: Straße".into();
    assert_eq!(answers.slug(), "negociation-a-lodz-strasse");
    // Letters of other scripts are not guessed at: they are dropped as before.
    answers.title = "Переговоры 2030".into();
    assert_eq!(answers.slug(), "2030");
}
