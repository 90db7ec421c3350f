//! kotae (答え): Japanese answer-material search for the inquiry centers of prefectures and
//! cities.
//!
//! The library holds all logic; `src/main.rs` only parses arguments. Dependencies point one
//! way: `http → search → index → analysis`, `import/crawl → corpus → index`. No core module
//! imports axum. See `ARCHITECTURE.md`.

pub mod analysis;
pub mod authored;
pub mod config;
pub mod corpus;
pub mod crawl;
pub mod engine;
pub mod error;
pub mod eval;
pub mod extract;
pub mod hooks;
pub mod http;
pub mod import;
pub mod index;
pub mod jobs;
pub mod material;
pub mod search;
pub mod stats;
pub mod watch;
pub mod web;
pub mod wire;

pub use error::{Error, Result};
