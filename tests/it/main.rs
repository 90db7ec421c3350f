//! Integration tests, one binary (links once): `cargo test --test it`.

mod analysis;
mod backup;
mod browser;
mod common;
mod compression;
mod crawl;
mod eval;
mod guard;
mod hooks;
mod http;
mod install;
mod live;
mod openapi;
mod operator;
mod pdf;
mod pins;
mod privacy;
mod real;
mod search;
mod stats;
mod suggest;
mod telemetry;
mod watch;
mod web;
mod workflow;
