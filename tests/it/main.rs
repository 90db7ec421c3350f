//! Integration tests, one binary: each area adds a module.

mod stats;
