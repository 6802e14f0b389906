//! "Did you mean": the known name nearest to a misspelt one, for config keys, command-line
//! flags (through the wasm export `suggest`) and model ids (checked against a provider's list).

/// The candidate closest to `input` by edit distance, when it is close enough to be a typo.
///
/// The threshold (at most a third of the longer name, and at most 3 edits) was picked by hand:
/// it catches `budget_limt`, `runs_per_variaton` and `max_paralel`, and refuses to suggest
/// `output_dir` for `turns`. A candidate that contains the input whole (or the reverse) also
/// counts, which catches `budget` -> `budget_limit`.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let input_lc = input.to_ascii_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for cand in candidates {
        let d = distance(&input_lc, &cand.to_ascii_lowercase());
        let limit = (input.len().max(cand.len()) / 3).clamp(1, 3);
        let contains = input_lc.len() >= 4
            && (cand.contains(input_lc.as_str()) || input_lc.contains(&cand.to_ascii_lowercase()));
        if (d <= limit || contains) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// Levenshtein distance, with adjacent transpositions counted as one edit.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2 = vec![0usize; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

// ---------------------------------------------------------------------------------------------
// Model ids: is each id the batch calls one the provider lists, and if not, which one was meant?

/// Model ids checked against a provider's model list.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ModelCheck {
    /// Ids found in the list (or accepted as a routing variant of one).
    pub known: Vec<String>,
    /// Ids not checked: `builtin/`, `local/` and `ollama/` models are not the provider's.
    pub not_checked: Vec<String>,
    /// Ids the provider does not list.
    pub unknown: Vec<UnknownModel>,
    /// How many ids the list held.
    pub listed: usize,
}

/// A model id the provider does not list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct UnknownModel {
    /// The id as written.
    pub model: String,
    /// The listed id it most likely means, when one is close.
    pub suggestion: Option<String>,
    /// One line: ``model `x` is not in the provider's model list; did you mean `y`?``.
    pub message: String,
}

/// OpenRouter's routing suffixes that are not separate entries of its list (`:nitro` sorts by
/// throughput, `:floor` by price, `:online` adds web search, `:exacto` picks tool-call quality):
/// `openai/gpt-4o-mini:nitro` is valid when `openai/gpt-4o-mini` is listed. (`:free`,
/// `:extended` and `:thinking` variants are listed ids of their own.)
const ROUTING_SUFFIXES: &[&str] = &["nitro", "floor", "online", "exacto"];

/// The model ids an input calls: every model of a batch config's variations (the list its plan
/// shows, [`crate::plan::called_models`]), or a scenario folder's. `None` when the path is
/// neither or does not load (`validate` says why).
pub async fn models_called<S: crate::host::Storage>(
    storage: &S,
    path: &str,
) -> Option<Vec<String>> {
    use crate::config::{detect_kind, load_batch, load_scenario, InputKind};
    let (kind, at) = detect_kind(storage, path).await?;
    match kind {
        InputKind::Batch => load_batch(storage, &at)
            .await
            .ok()
            .map(|l| crate::plan::called_models(&l.value)),
        InputKind::Scenario => load_scenario(storage, &at)
            .await
            .ok()
            .map(|l| l.value.models()),
    }
}

/// Checks `ids` against a model list (the JSON of `GET {base}/models`, OpenAI- or
/// OpenRouter-shaped: `{"data": [{"id": ...}, ...]}`), with a did-you-mean for each unknown id.
pub fn check_models(list_json: &str, ids: &[String]) -> Result<ModelCheck, String> {
    let doc: serde_json::Value =
        serde_json::from_str(list_json).map_err(|e| format!("the model list is not JSON: {e}"))?;
    let listed: Vec<String> = doc
        .get("data")
        .and_then(|d| d.as_array())
        .ok_or("the model list has no `data` list")?
        .iter()
        .filter_map(|m| m.get("id").and_then(|i| i.as_str()).map(str::to_string))
        .collect();
    let mut check = ModelCheck {
        listed: listed.len(),
        ..ModelCheck::default()
    };
    for id in ids {
        if !crate::llm::route::is_hosted(id) {
            check.not_checked.push(id.clone());
            continue;
        }
        let routed = id
            .rsplit_once(':')
            .filter(|(_, s)| ROUTING_SUFFIXES.contains(s))
            .map(|(base, _)| base);
        if listed.iter().any(|l| l == id || Some(l.as_str()) == routed) {
            check.known.push(id.clone());
            continue;
        }
        let suggestion = closest_model(id, &listed).map(str::to_string);
        let message = match &suggestion {
            Some(s) => {
                format!("model `{id}` is not in the provider's model list; did you mean `{s}`?")
            }
            None => format!("model `{id}` is not in the provider's model list"),
        };
        check.unknown.push(UnknownModel {
            model: id.clone(),
            suggestion,
            message,
        });
    }
    Ok(check)
}

/// A model id reduced to what tells models apart: lower case, `.`, `_` and `:` read as `-`,
/// and a release date at the end dropped (`-20241022`, `-2024-10-22`, `@20241022`, `-0613`),
/// so that `anthropic/claude-3-5-sonnet-20241022` and `anthropic/claude-3.5-sonnet` are one.
fn canonical(id: &str) -> String {
    let lower = id.to_ascii_lowercase();
    let mut s: String = lower
        .chars()
        .map(|c| {
            if matches!(c, '.' | '_' | ':' | '@') {
                '-'
            } else {
                c
            }
        })
        .collect();
    loop {
        let before = s.len();
        for suffix_len in [9, 11, 5] {
            // -YYYYMMDD, -YYYY-MM-DD, -MMDD
            if s.len() > suffix_len && s.is_char_boundary(s.len() - suffix_len) {
                let (head, tail) = s.split_at(s.len() - suffix_len);
                let digits: String = tail.chars().filter(|c| *c != '-').collect();
                let shaped = tail.starts_with('-')
                    && digits.chars().all(|c| c.is_ascii_digit())
                    && match suffix_len {
                        9 => digits.len() == 8 && digits.starts_with("20"),
                        11 => {
                            digits.len() == 8
                                && tail.as_bytes()[5] == b'-'
                                && tail.as_bytes()[8] == b'-'
                        }
                        _ => digits.len() == 4 && !head.ends_with(|c: char| c.is_ascii_digit()),
                    };
                if shaped {
                    s = head.to_string();
                    break;
                }
            }
        }
        for tail in ["-latest", "-preview"] {
            if let Some(head) = s.strip_suffix(tail) {
                s = head.to_string();
            }
        }
        if s.len() == before {
            return s;
        }
    }
}

/// The listed model `id` most likely means: the same model once case, `-`/`.` and a dated
/// suffix are set aside (`anthropic/claude-3-5-sonnet-20241022` -> `anthropic/claude-3.5-sonnet`);
/// else the same name under its provider when the id has none (`gpt-4o-mini` ->
/// `openai/gpt-4o-mini`); else a typo away ([`closest`] on the reduced forms, within the same
/// provider when it has one).
pub fn closest_model<'a>(id: &str, listed: &'a [String]) -> Option<&'a str> {
    let want = canonical(id);
    let reduced: Vec<(String, &str)> = listed.iter().map(|l| (canonical(l), l.as_str())).collect();
    // The same model: prefer the shortest listed id (the plain one over its `-beta` variants).
    let same = reduced
        .iter()
        .filter(|(c, _)| *c == want)
        .map(|(_, l)| *l)
        .min_by_key(|l| (l.len(), *l));
    if same.is_some() {
        return same;
    }
    let (provider, name) = match want.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, want.as_str()),
    };
    let name_of = |c: &str| {
        c.split_once('/')
            .map_or(c.to_string(), |(_, n)| n.to_string())
    };
    if provider.is_none() {
        let by_name = reduced
            .iter()
            .filter(|(c, _)| name_of(c) == name)
            .map(|(_, l)| *l)
            .min_by_key(|l| (l.len(), *l));
        if by_name.is_some() {
            return by_name;
        }
    }
    // A typo: compare names within the provider (all providers when the id names none).
    let pool: Vec<&(String, &str)> = reduced
        .iter()
        .filter(|(c, _)| provider.is_none_or(|p| c.split_once('/').is_some_and(|(q, _)| q == p)))
        .collect();
    let names: Vec<String> = pool.iter().map(|(c, _)| name_of(c)).collect();
    let best = closest(name, names.iter().map(String::as_str))?;
    let at = names.iter().position(|n| n == best)?;
    // A name that only contains the other is too loose for model ids (`gpt-4` is in fifty).
    (distance(name, best) <= (name.len().max(best.len()) / 3).clamp(1, 3)).then(|| pool[at].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[&str] = &[
        "budget_limit",
        "cost_per_run_limit",
        "runs_per_variation",
        "max_parallel",
        "output_dir",
        "turns",
    ];

    #[test]
    fn finds_typos() {
        assert_eq!(
            closest("budget_limt", KEYS.iter().copied()),
            Some("budget_limit")
        );
        assert_eq!(
            closest("runs_per_variaton", KEYS.iter().copied()),
            Some("runs_per_variation")
        );
        assert_eq!(
            closest("max_paralel", KEYS.iter().copied()),
            Some("max_parallel")
        );
        assert_eq!(
            closest("budget", KEYS.iter().copied()),
            Some("budget_limit")
        );
        assert_eq!(closest("Turns", KEYS.iter().copied()), Some("turns"));
    }

    #[test]
    fn refuses_far_names() {
        assert_eq!(closest("resume_from", KEYS.iter().copied()), None);
        assert_eq!(closest("xyz", KEYS.iter().copied()), None);
    }

    #[test]
    fn transposition_is_one_edit() {
        assert_eq!(distance("tunrs", "turns"), 1);
        assert_eq!(distance("", "abc"), 3);
    }

    fn list(ids: &[&str]) -> String {
        serde_json::json!({"data": ids.iter().map(|i| serde_json::json!({"id": i, "name": i})).collect::<Vec<_>>()}).to_string()
    }

    const OPENROUTER: &[&str] = &[
        "anthropic/claude-3.5-sonnet",
        "anthropic/claude-3.5-sonnet:beta",
        "anthropic/claude-3-haiku",
        "anthropic/claude-3.7-sonnet",
        "openai/gpt-4o-mini",
        "openai/gpt-4o-mini-2024-07-18",
        "openai/gpt-4o",
        "meta-llama/llama-3.1-8b-instruct",
    ];

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_originals_default_model_is_found_under_openrouters_name() {
        let c = check_models(
            &list(OPENROUTER),
            &ids(&["anthropic/claude-3-5-sonnet-20241022", "openai/gpt-4o-mini"]),
        )
        .unwrap();
        assert_eq!(c.known, ["openai/gpt-4o-mini"]);
        assert_eq!(c.unknown.len(), 1);
        assert_eq!(
            c.unknown[0].suggestion.as_deref(),
            Some("anthropic/claude-3.5-sonnet")
        );
        assert_eq!(
            c.unknown[0].message,
            "model `anthropic/claude-3-5-sonnet-20241022` is not in the provider's model list; did you mean `anthropic/claude-3.5-sonnet`?"
        );
        assert_eq!(c.listed, OPENROUTER.len());
    }

    #[test]
    fn model_suggestions_across_separators_dates_and_typos() {
        let l = ids(OPENROUTER);
        let s = |id| closest_model(id, &l);
        assert_eq!(
            s("anthropic/claude-3-7-sonnet"),
            Some("anthropic/claude-3.7-sonnet")
        );
        assert_eq!(
            s("anthropic/claude-3-haiku-20240307"),
            Some("anthropic/claude-3-haiku")
        );
        assert_eq!(
            s("Anthropic/Claude-3.5-Sonnet"),
            Some("anthropic/claude-3.5-sonnet")
        );
        assert_eq!(s("openai/gpt-4o-mni"), Some("openai/gpt-4o-mini"));
        assert_eq!(s("gpt-4o-mini"), Some("openai/gpt-4o-mini"));
        assert_eq!(
            s("meta-llama/llama-3.1-8b-instruc"),
            Some("meta-llama/llama-3.1-8b-instruct")
        );
        assert_eq!(s("mistralai/mistral-large"), None);
        assert_eq!(s("openai/o3"), None, "no provider-wide loose match");
    }

    #[test]
    fn local_models_and_routing_variants_are_not_errors() {
        let c = check_models(
            &list(OPENROUTER),
            &ids(&[
                "builtin/simulator",
                "ollama/llama3",
                "local/qwen",
                "openai/gpt-4o-mini:nitro",
                "anthropic/claude-3.5-sonnet:beta",
                "openai/gpt-4o:bogus",
            ]),
        )
        .unwrap();
        assert_eq!(
            c.not_checked,
            ["builtin/simulator", "ollama/llama3", "local/qwen"]
        );
        assert_eq!(
            c.known,
            [
                "openai/gpt-4o-mini:nitro",
                "anthropic/claude-3.5-sonnet:beta"
            ]
        );
        assert_eq!(c.unknown.len(), 1);
        assert_eq!(c.unknown[0].model, "openai/gpt-4o:bogus");
    }

    #[test]
    fn a_bad_model_list_is_an_error() {
        assert!(check_models("<html>", &[]).is_err());
        assert!(check_models("{\"models\": []}", &[]).is_err());
        // An OpenAI-shaped list (no pricing, no names) is fine.
        let c = check_models(
            r#"{"object":"list","data":[{"id":"gpt-4o-mini","object":"model"}]}"#,
            &ids(&["gpt-4o-mini"]),
        )
        .unwrap();
        assert_eq!(c.known, ["gpt-4o-mini"]);
    }

    #[test]
    fn dates_are_set_aside_only_at_the_end() {
        assert_eq!(
            canonical("anthropic/claude-3-5-sonnet-20241022"),
            "anthropic/claude-3-5-sonnet"
        );
        assert_eq!(canonical("openai/gpt-4o-2024-08-06"), "openai/gpt-4o");
        assert_eq!(
            canonical("openai/gpt-4-0613"),
            "openai/gpt-4-0613",
            "4-0613 is not a date after a word"
        );
        assert_eq!(
            canonical("openai/gpt-3.5-turbo-0613"),
            "openai/gpt-3-5-turbo"
        );
        assert_eq!(canonical("x/model-latest"), "x/model");
    }
}
