//! Which server a model id goes to.
//!
//! - `builtin/...`: the simulator, in process;
//! - `human`: a person at the host (the CLI's terminal, the page's Run view), asked through
//!   [`Llm::ask_person`](crate::host::Llm::ask_person);
//! - `ollama/...` and `local/...`: the server at `OLLAMA_BASE_URL` (its root, default
//!   `http://localhost:11434`, requests to `{root}/v1/chat/completions`; a value already ending
//!   in `/v1` is accepted), with the prefix stripped;
//! - anything else: the base URL given by `--base-url` / `SCENARIO_LAB_BASE_URL` when set,
//!   else OpenRouter.
//!
//! The core never holds an API key: the host's transport adds it, and only for the endpoint it
//! belongs to.

use serde::{Deserialize, Serialize};

/// OpenRouter's API base.
pub const OPENROUTER_BASE: &str = "https://openrouter.ai/api/v1";

/// The model id of a seat a person plays (`human: true` in an actor file, `--human ACTOR`).
pub const HUMAN: &str = "human";

/// Ollama's default root.
pub const OLLAMA_DEFAULT: &str = "http://localhost:11434";

/// Where requests go, as configured by the host.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Endpoints {
    /// `--base-url` / `SCENARIO_LAB_BASE_URL`: every non-local model goes there.
    pub base_url: Option<String>,
    /// `OLLAMA_BASE_URL`.
    pub ollama_base_url: Option<String>,
}

/// What a host says about where requests go: the endpoints, the key, and a random seed for a
/// run or batch that has none yet. No `Debug`: the key must not reach a log.
#[derive(Clone, Default, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields))]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    /// The key, sent only to `baseUrl` (or to OpenRouter when it is unset).
    pub api_key: Option<String>,
    /// Where every non-local model goes (default OpenRouter).
    pub base_url: Option<String>,
    /// Where `ollama/` models go.
    pub ollama_base_url: Option<String>,
    /// A random seed from the host, used when the request names none.
    pub fresh_seed: Option<f64>,
}

impl Connection {
    /// Its endpoints (an empty URL counts as none).
    pub fn endpoints(&self) -> Endpoints {
        let set = |u: &Option<String>| u.clone().filter(|s| !s.is_empty());
        Endpoints {
            base_url: set(&self.base_url),
            ollama_base_url: set(&self.ollama_base_url),
        }
    }

    /// The host's seed, 0 when it gave none.
    pub fn fresh_seed(&self) -> u64 {
        self.fresh_seed.unwrap_or(0.0) as u64
    }
}

/// The kind of server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// The built-in simulator.
    Builtin,
    /// OpenRouter.
    Openrouter,
    /// An Ollama (or other local) server.
    Local,
    /// A server named by `--base-url`.
    Custom,
    /// A person, asked by the host.
    Human,
}

impl Provider {
    /// Its name in logs.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Builtin => "builtin",
            Provider::Openrouter => "openrouter",
            Provider::Local => "local",
            Provider::Custom => "custom",
            Provider::Human => "human",
        }
    }
}

/// A model id resolved to a server.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The server kind.
    pub provider: Provider,
    /// `{base}` of `{base}/chat/completions` (empty for the simulator).
    pub base_url: String,
    /// The model name sent.
    pub model: String,
}

/// Model id prefixes answered by the local server (`OLLAMA_BASE_URL`), stripped when sent.
const LOCAL_PREFIXES: [&str; 2] = ["ollama/", "local/"];

/// Whether a model id goes to the local server.
pub fn is_local(model: &str) -> bool {
    LOCAL_PREFIXES.iter().any(|p| model.starts_with(p))
}

/// Whether a model id goes to a hosted provider: neither the built-in simulator nor the local
/// server, nor a person. Only these are in a provider's model list, and only these can cost money.
pub fn is_hosted(model: &str) -> bool {
    !model.starts_with(super::builtin::PREFIX) && !is_local(model) && model != HUMAN
}

/// Resolves a model id.
pub fn route(model: &str, endpoints: &Endpoints) -> Route {
    if model == HUMAN {
        return Route {
            provider: Provider::Human,
            base_url: String::new(),
            model: model.to_string(),
        };
    }
    if model.starts_with(super::builtin::PREFIX) {
        return Route {
            provider: Provider::Builtin,
            base_url: String::new(),
            model: model.to_string(),
        };
    }
    for prefix in LOCAL_PREFIXES {
        if let Some(name) = model.strip_prefix(prefix) {
            let root = endpoints
                .ollama_base_url
                .as_deref()
                .unwrap_or(OLLAMA_DEFAULT)
                .trim_end_matches('/');
            let base = if root.ends_with("/v1") {
                root.to_string()
            } else {
                format!("{root}/v1")
            };
            return Route {
                provider: Provider::Local,
                base_url: base,
                model: name.to_string(),
            };
        }
    }
    match &endpoints.base_url {
        Some(base) => Route {
            provider: Provider::Custom,
            base_url: base.trim_end_matches('/').to_string(),
            model: model.to_string(),
        },
        None => Route {
            provider: Provider::Openrouter,
            base_url: OPENROUTER_BASE.to_string(),
            model: model.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let none = Endpoints::default();
        assert_eq!(route("openai/gpt-4o", &none).base_url, OPENROUTER_BASE);
        let local = route("ollama/llama3.2", &none);
        assert_eq!(
            (
                local.provider,
                local.base_url.as_str(),
                local.model.as_str()
            ),
            (Provider::Local, "http://localhost:11434/v1", "llama3.2")
        );
        let e = Endpoints {
            base_url: Some("http://127.0.0.1:9/v1/".into()),
            ollama_base_url: Some("http://h:1/v1".into()),
        };
        assert_eq!(route("local/x", &e).base_url, "http://h:1/v1");
        let c = route("openai/gpt-4o", &e);
        assert_eq!(
            (c.provider, c.base_url.as_str()),
            (Provider::Custom, "http://127.0.0.1:9/v1")
        );
        assert_eq!(route("builtin/simulator", &e).provider, Provider::Builtin);
        assert_eq!(route(HUMAN, &e).provider, Provider::Human);
        assert!(!is_hosted(HUMAN) && is_hosted("human/model"));
    }
}
