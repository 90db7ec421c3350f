//! kotae (答え): Japanese answer-material search for the inquiry centers of prefectures and
//! cities.
//!
//! The library holds all logic; `src/main.rs` only parses arguments. Dependencies point one
//! way: `http → engine → search → index → analysis`, `engine → corpus → material`,
//! `import`, `crawl` and `extract` → `material`; `material` and `wire` are shared leaves. No
//! core module imports axum. See `ARCHITECTURE.md` for the whole graph.

pub mod analysis;
pub mod authored;
pub mod backup;
pub mod config;
pub mod control;
pub mod corpus;
pub mod crawl;
pub mod departments;
pub mod dictionaries;
pub mod engine;
pub mod error;
pub mod eval;
pub mod extract;
pub mod hooks;
pub mod http;
pub mod import;
pub mod index;
pub mod jobs;
pub mod learn;
pub mod material;
pub mod notify;
pub mod promotion;
pub mod search;
pub mod stats;
pub mod telemetry;
pub mod terminal;
pub mod watch;
pub mod web;
pub mod wire;

pub use error::{Error, Result};
