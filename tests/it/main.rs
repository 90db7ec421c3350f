//! Integration tests (one binary; each area in its own module).

mod crawl;
