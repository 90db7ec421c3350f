//! Integration tests, one binary (links once): `cargo test --test it`.

mod analysis;
mod browser;
mod common;
mod crawl;
mod eval;
mod http;
mod search;
mod stats;
mod web;
