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
mod operator;
mod pdf;
mod pins;
mod privacy;
mod real;
mod search;
mod stats;
mod suggest;
mod watch;
mod web;
mod workflow;
