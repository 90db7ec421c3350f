//! Integration tests, one binary (links once): `cargo test --test it`.

mod analysis;
mod common;
mod crawl;
mod eval;
mod http;
mod search;
mod stats;
mod workflow;
