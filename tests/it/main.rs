//! Integration tests, one binary (links once): `cargo test --test it`.

mod analysis;
mod browser;
mod common;
mod crawl;
mod eval;
mod guard;
mod hooks;
mod http;
mod live;
mod pdf;
mod privacy;
mod real;
mod search;
mod stats;
mod watch;
mod web;
mod workflow;
