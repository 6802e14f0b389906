//! Model prices and money.
//!
//! A price is USD per million prompt and completion tokens, with the prices of prompt tokens a
//! provider serves from its prefix cache (`cache_read`) or writes to it (`cache_write`, Anthropic
//! only), and the share of the realtime price a provider's batch API bills (`batch_factor`, 0.5
//! unless a price list says otherwise). Where a model's price comes from,
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
    /// USD per million prompt tokens served from the provider's prefix cache.
    pub cache_read: f64,
    /// USD per million prompt tokens written to the cache (Anthropic bills 1.25 × `prompt`).
    pub cache_write: f64,
    /// A batch API's price as a share of the realtime price.
    pub batch_factor: f64,
    /// Where it came from.
    pub source: PriceSource,
}

/// The tokens a call was billed for, split the way providers price them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tokens {
    /// Every prompt token, cached or not.
    pub prompt: u64,
    /// Of those, served from the provider's cache.
    pub cached: u64,
    /// Of those, written to the provider's cache.
    pub cache_write: u64,
    /// Completion tokens.
    pub completion: u64,
}

/// The default batch price: half the realtime price, as OpenAI, Anthropic and OpenRouter bill.
pub const BATCH_FACTOR: f64 = 0.5;

impl Price {
    /// A price with no cache discount and the default batch factor.
    pub fn plain(prompt: f64, completion: f64, source: PriceSource) -> Price {
        let (cache_read, cache_write) = (prompt, prompt);
        Price {
            prompt,
            completion,
            cache_read,
            cache_write,
            batch_factor: BATCH_FACTOR,
            source,
        }
    }

    /// The cost of a call, in USD, at realtime prices with nothing cached.
    pub fn cost_usd(&self, prompt_tokens: f64, completion_tokens: f64) -> f64 {
        (prompt_tokens * self.prompt + completion_tokens * self.completion) / 1e6
    }

    /// The cost of a call billed for `t`, in USD, through a batch job when `batch`.
    pub fn cost_of(&self, t: &Tokens, batch: bool) -> f64 {
        let cached = t.cached.min(t.prompt);
        let written = t.cache_write.min(t.prompt - cached);
        let plain = t.prompt - cached - written;
        let usd = (plain as f64 * self.prompt
            + cached as f64 * self.cache_read
            + written as f64 * self.cache_write
            + t.completion as f64 * self.completion)
            / 1e6;
        if batch {
            usd * self.batch_factor
        } else {
            usd
        }
    }

    /// The most a call of `prompt` and `completion` tokens can cost: every prompt token at the
    /// dearer of the plain and the cache-write price, through a batch job when `batch`.
    pub fn worst_usd(&self, prompt: u64, completion: u64, batch: bool) -> f64 {
        let usd = (prompt as f64 * self.prompt.max(self.cache_write)
            + completion as f64 * self.completion)
            / 1e6;
        if batch {
            usd * self.batch_factor.max(0.0)
        } else {
            usd
        }
    }
}

/// The cache prices a provider family bills, as shares of its prompt price (read, write), from
/// the providers' price pages (2026-11): Anthropic reads at 0.1 and writes at 1.25; OpenAI's
/// GPT-5 family reads at 0.1, GPT-4.1 at 0.25, GPT-4o and the o-series at 0.5; Gemini 2.5 at
/// 0.25; DeepSeek at 0.1. Others: no known discount.
fn cache_shares(model: &str) -> (f64, f64) {
    let m = model.rsplit_once('/').map_or(model, |(_, m)| m);
    if model.starts_with("anthropic/") || m.starts_with("claude") {
        (0.1, 1.25)
    } else if m.starts_with("gpt-5") {
        (0.1, 1.0)
    } else if m.starts_with("gpt-4.1") {
        (0.25, 1.0)
    } else if m.starts_with("gpt-4o") || m.starts_with("o3") || m.starts_with("o4") {
        (0.5, 1.0)
    } else if m.starts_with("gemini-2.5") {
        (0.25, 1.0)
    } else if m.starts_with("deepseek") {
        (0.1, 1.0)
    } else {
        (1.0, 1.0)
    }
}

/// A price from its prompt and completion prices, with the family's cache shares.
fn with_family_cache(model: &str, prompt: f64, completion: f64, source: PriceSource) -> Price {
    let (read, write) = cache_shares(model);
    Price {
        cache_read: prompt * read,
        cache_write: prompt * write,
        ..Price::plain(prompt, completion, source)
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
    openrouter: BTreeMap<String, Price>,
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
            let field = |k: &str| per_token(pricing.and_then(|p| p.get(k))).filter(|x| *x >= 0.0);
            if let (Some(p), Some(c)) = (field("prompt"), field("completion")) {
                let mut price = with_family_cache(id, p * 1e6, c * 1e6, PriceSource::Openrouter);
                if let Some(r) = field("input_cache_read") {
                    price.cache_read = r * 1e6;
                }
                if let Some(w) = field("input_cache_write") {
                    price.cache_write = w * 1e6;
                }
                self.openrouter.insert(id.to_string(), price);
                n += 1;
            }
        }
        Ok(n)
    }

    /// The price of a model, or `None` when no source knows it.
    pub fn price(&self, model: &str) -> Option<Price> {
        if let Some(p) = self.config.get(model) {
            let family = with_family_cache(model, p.prompt, p.completion, PriceSource::Config);
            return Some(Price {
                cache_read: p.cache_read.unwrap_or(family.cache_read),
                cache_write: p.cache_write.unwrap_or(family.cache_write),
                batch_factor: p.batch_factor.unwrap_or(BATCH_FACTOR),
                ..family
            });
        }
        if is_free_by_id(model) {
            return Some(Price::plain(0.0, 0.0, PriceSource::Free));
        }
        if let Some(p) = self.openrouter.get(model) {
            return Some(*p);
        }
        BUILT_IN
            .iter()
            .find(|(id, _, _)| *id == model)
            .map(|(id, p, c)| with_family_cache(id, *p, *c, PriceSource::BuiltIn))
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
                ..ModelPrice::default()
            },
        );
        config.insert(
            "ollama/big".to_string(),
            ModelPrice {
                prompt: 0.5,
                completion: 0.5,
                ..ModelPrice::default()
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
        let p = Price::plain(0.15, 0.60, PriceSource::BuiltIn);
        assert!((p.cost_usd(1_000_000.0, 1_000_000.0) - 0.75).abs() < 1e-12);
        assert_eq!(usd_to_nanos(0.75), 750_000_000);
        assert_eq!(nanos_to_usd(1_500_000_000), 1.5);
        assert!(PriceBook::default().add_openrouter_models("nope").is_err());
    }

    #[test]
    fn cache_and_batch_prices() {
        let book = PriceBook::default();
        let haiku = book.price("anthropic/claude-3-haiku").unwrap();
        assert!((haiku.cache_read - 0.025).abs() < 1e-12);
        assert!((haiku.cache_write - 0.3125).abs() < 1e-12);
        let t = Tokens {
            prompt: 1_000_000,
            cached: 600_000,
            cache_write: 200_000,
            completion: 0,
        };
        // 200k plain at 0.25, 600k read at 0.025, 200k written at 0.3125.
        let realtime = haiku.cost_of(&t, false);
        assert!((realtime - (0.05 + 0.015 + 0.0625)).abs() < 1e-12);
        assert!((haiku.cost_of(&t, true) - realtime / 2.0).abs() < 1e-12);
        // The bound prices every prompt token at the dearer cache-write price.
        assert!((haiku.worst_usd(1_000_000, 0, false) - 0.3125).abs() < 1e-12);
        let mut config = BTreeMap::new();
        config.insert(
            "x/y".to_string(),
            ModelPrice {
                prompt: 1.0,
                completion: 1.0,
                cache_read: Some(0.2),
                cache_write: None,
                batch_factor: Some(0.6),
            },
        );
        let p = PriceBook::new(&config).price("x/y").unwrap();
        assert_eq!(
            (p.cache_read, p.cache_write, p.batch_factor),
            (0.2, 1.0, 0.6)
        );
        let mut or = PriceBook::default();
        or.add_openrouter_models(r#"{"data":[{"id":"anthropic/claude-sonnet-4","pricing":{"prompt":"0.000003","completion":"0.000015","input_cache_read":"0.0000003","input_cache_write":"0.00000375"}}]}"#).unwrap();
        let s4 = or.price("anthropic/claude-sonnet-4").unwrap();
        assert!((s4.cache_read - 0.3).abs() < 1e-9 && (s4.cache_write - 3.75).abs() < 1e-9);
    }
}
