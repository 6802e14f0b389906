//! Model prices and money.
//!
//! A price is USD per million prompt and completion tokens. Where a model's price comes from,
//! in order: the batch config's `prices:` map; zero for models that cost nothing (`:free`
//! models, `ollama/`, `local/` and `builtin/` models); OpenRouter's model list (when the host
//! fetched it); the built-in table below. Anything else is unknown, and said to be: an unknown
//! price is never guessed.
//!
//! Money is kept in integer nano-dollars ([`Nanos`]) so that sums are exact: a batch total
//! always equals the sum of its runs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::ModelPrice;

/// Money in nano-dollars (1e-9 USD).
pub type Nanos = u64;

/// USD to nano-dollars, rounded to the nearest.
pub fn usd_to_nanos(usd: f64) -> Nanos {
    (usd.max(0.0) * 1e9).round() as Nanos
}

/// Nano-dollars to USD.
pub fn nanos_to_usd(n: Nanos) -> f64 {
    n as f64 / 1e9
}

/// Where a price came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum PriceSource {
    /// The batch config's `prices:`.
    Config,
    /// A model that costs nothing by its id (`:free`, `ollama/`, `local/`, `builtin/`).
    Free,
    /// OpenRouter's model list.
    Openrouter,
    /// The built-in table.
    BuiltIn,
}

/// A known price.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Price {
    /// USD per million prompt tokens.
    pub prompt: f64,
    /// USD per million completion tokens.
    pub completion: f64,
    /// Where it came from.
    pub source: PriceSource,
}

impl Price {
    /// The cost of a call, in USD.
    pub fn cost_usd(&self, prompt_tokens: f64, completion_tokens: f64) -> f64 {
        (prompt_tokens * self.prompt + completion_tokens * self.completion) / 1e6
    }
}

/// When the built-in table was last checked against OpenRouter's list.
pub const BUILT_IN_AS_OF: &str = "2026-11";

/// OpenRouter's list prices (USD per million prompt / completion tokens) of commonly used
/// models. Providers change prices: a config's `prices:` or a fetched model list wins.
const BUILT_IN: &[(&str, f64, f64)] = &[
    ("openai/gpt-4o", 2.50, 10.00),
    ("openai/gpt-4o-mini", 0.15, 0.60),
    ("openai/gpt-4.1", 2.00, 8.00),
    ("openai/gpt-4.1-mini", 0.40, 1.60),
    ("openai/gpt-4.1-nano", 0.10, 0.40),
    ("openai/gpt-5", 1.25, 10.00),
    ("openai/gpt-5-mini", 0.25, 2.00),
    ("openai/gpt-5-nano", 0.05, 0.40),
    ("openai/o3-mini", 1.10, 4.40),
    ("openai/o4-mini", 1.10, 4.40),
    ("openai/gpt-4-turbo", 10.00, 30.00),
    ("openai/gpt-3.5-turbo", 0.50, 1.50),
    ("anthropic/claude-3-haiku", 0.25, 1.25),
    ("anthropic/claude-3.5-haiku", 0.80, 4.00),
    ("anthropic/claude-haiku-4.5", 1.00, 5.00),
    ("anthropic/claude-3.5-sonnet", 3.00, 15.00),
    ("anthropic/claude-3.7-sonnet", 3.00, 15.00),
    ("anthropic/claude-sonnet-4", 3.00, 15.00),
    ("anthropic/claude-sonnet-4.5", 3.00, 15.00),
    ("anthropic/claude-3-opus", 15.00, 75.00),
    ("anthropic/claude-opus-4", 15.00, 75.00),
    ("anthropic/claude-opus-4.1", 15.00, 75.00),
    ("google/gemini-2.0-flash-001", 0.10, 0.40),
    ("google/gemini-2.5-flash", 0.30, 2.50),
    ("google/gemini-2.5-flash-lite", 0.10, 0.40),
    ("google/gemini-2.5-pro", 1.25, 10.00),
    ("deepseek/deepseek-chat", 0.27, 1.10),
    ("deepseek/deepseek-r1", 0.55, 2.19),
    ("meta-llama/llama-3.3-70b-instruct", 0.13, 0.40),
    ("meta-llama/llama-3.1-8b-instruct", 0.02, 0.05),
    ("mistralai/mistral-nemo", 0.02, 0.04),
    ("qwen/qwen-2.5-72b-instruct", 0.12, 0.39),
];

/// Whether a model id costs nothing by its id alone.
pub fn is_free_by_id(model: &str) -> bool {
    model.ends_with(":free") || !crate::llm::route::is_hosted(model)
}

/// Prices from every source, looked up in order.
#[derive(Debug, Clone, Default)]
pub struct PriceBook {
    config: BTreeMap<String, ModelPrice>,
    openrouter: BTreeMap<String, (f64, f64)>,
}

impl PriceBook {
    /// A book with the config's prices (and the built-in table behind them).
    pub fn new(config: &BTreeMap<String, ModelPrice>) -> Self {
        PriceBook {
            config: config.clone(),
            openrouter: BTreeMap::new(),
        }
    }

    /// Adds OpenRouter's model list (the JSON of `GET /api/v1/models`, whose prices are USD
    /// per token as strings). Returns how many prices it held.
    pub fn add_openrouter_models(&mut self, json: &str) -> Result<usize, String> {
        let doc: serde_json::Value =
            serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
        let data = doc
            .get("data")
            .and_then(|d| d.as_array())
            .ok_or("no `data` list")?;
        let per_token = |v: Option<&serde_json::Value>| -> Option<f64> {
            match v? {
                serde_json::Value::String(s) => s.parse().ok(),
                serde_json::Value::Number(n) => n.as_f64(),
                _ => None,
            }
        };
        let mut n = 0;
        for model in data {
            let Some(id) = model.get("id").and_then(|i| i.as_str()) else {
                continue;
            };
            let pricing = model.get("pricing");
            let prompt = per_token(pricing.and_then(|p| p.get("prompt")));
            let completion = per_token(pricing.and_then(|p| p.get("completion")));
            if let (Some(p), Some(c)) = (prompt, completion) {
                if p >= 0.0 && c >= 0.0 {
                    self.openrouter.insert(id.to_string(), (p * 1e6, c * 1e6));
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    /// The price of a model, or `None` when no source knows it.
    pub fn price(&self, model: &str) -> Option<Price> {
        if let Some(p) = self.config.get(model) {
            return Some(Price {
                prompt: p.prompt,
                completion: p.completion,
                source: PriceSource::Config,
            });
        }
        if is_free_by_id(model) {
            return Some(Price {
                prompt: 0.0,
                completion: 0.0,
                source: PriceSource::Free,
            });
        }
        if let Some((p, c)) = self.openrouter.get(model) {
            return Some(Price {
                prompt: *p,
                completion: *c,
                source: PriceSource::Openrouter,
            });
        }
        BUILT_IN
            .iter()
            .find(|(id, _, _)| *id == model)
            .map(|(_, p, c)| Price {
                prompt: *p,
                completion: *c,
                source: PriceSource::BuiltIn,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_order() {
        let mut config = BTreeMap::new();
        config.insert(
            "openai/gpt-4o".to_string(),
            ModelPrice {
                prompt: 1.0,
                completion: 2.0,
            },
        );
        config.insert(
            "ollama/big".to_string(),
            ModelPrice {
                prompt: 0.5,
                completion: 0.5,
            },
        );
        let mut book = PriceBook::new(&config);
        let n = book
            .add_openrouter_models(r#"{"data":[{"id":"openai/gpt-4o-mini","pricing":{"prompt":"0.0000002","completion":"0.0000008"}},{"id":"x/y","pricing":{}}]}"#)
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(
            book.price("openai/gpt-4o").unwrap().source,
            PriceSource::Config
        );
        assert_eq!(book.price("ollama/big").unwrap().prompt, 0.5);
        assert_eq!(
            book.price("ollama/small").unwrap().source,
            PriceSource::Free
        );
        assert_eq!(book.price("some/model:free").unwrap().completion, 0.0);
        let mini = book.price("openai/gpt-4o-mini").unwrap();
        assert_eq!(mini.source, PriceSource::Openrouter);
        assert!((mini.prompt - 0.2).abs() < 1e-9 && (mini.completion - 0.8).abs() < 1e-9);
        assert_eq!(
            book.price("anthropic/claude-3-haiku").unwrap().source,
            PriceSource::BuiltIn
        );
        assert_eq!(book.price("anthropic/claude-3-5-sonnet-20241022"), None);
    }

    #[test]
    fn cost_and_money() {
        let p = Price {
            prompt: 0.15,
            completion: 0.60,
            source: PriceSource::BuiltIn,
        };
        assert!((p.cost_usd(1_000_000.0, 1_000_000.0) - 0.75).abs() < 1e-12);
        assert_eq!(usd_to_nanos(0.75), 750_000_000);
        assert_eq!(nanos_to_usd(1_500_000_000), 1.5);
        assert!(PriceBook::default().add_openrouter_models("nope").is_err());
    }
}
