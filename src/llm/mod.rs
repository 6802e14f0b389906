//! The LLM boundary: routing a model id to a server, the built-in simulator, retries and
//! costs of one call.
//!
//! Untrusted input: replies are text. They are parsed as text (see `engine::parse`), written
//! into markdown files by the engine, and never become paths or HTML.
pub mod batch_api;
pub mod builtin;
pub mod client;
pub mod limiter;
pub mod lockstep;
pub mod route;

pub use client::{
    parse_completion, CallError, CallRecord, CallSpec, Client, CostSource, RetryPolicy,
};
pub use limiter::Limiter;
pub use route::{route, Endpoints, Provider, Route};
