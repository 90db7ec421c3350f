//! Integration tests, one binary (links once): `cargo test --test it`.

mod analysis;
mod browser;
mod common;
mod crawl;
mod eval;
mod hooks;
mod guard;
mod http;
mod privacy;
mod real;
mod search;
mod stats;
mod web;
