//! Integration tests, one binary (links once): `cargo test --test it`.

mod analysis;
mod browser;
mod cli;
mod common;
mod crawl;
mod eval;
mod guard;
mod hooks;
mod http;
mod notify;
mod operator;
mod pdf;
mod pins;
mod privacy;
mod promotion;
mod real;
mod search;
mod stats;
mod suggest;
mod watch;
mod web;
mod workflow;
