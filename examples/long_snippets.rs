//! Long documents (issue 14): what a 300 KB page costs the queries that hit it.
//!
//! ```text
//! cargo run --release --example long_snippets -- CORPUS_JSON QUERIES_JSON [LONG_PAGES] [PASSES]
//!   CORPUS_JSON   ../shared/data/localgovfaq/corpus.json (its answers make the pages)
//!   QUERIES_JSON  ../shared/data/localgovfaq/queries.json
//!   LONG_PAGES    number of 300 KB pages added to the FAQ (default 20)
//!   PASSES        passes over the queries (default 3; the first one is not timed)
//! ```
//!
//! Prints (1) the time of one snippet over a 300 KB text and over a 1 KB text, for every
//! query's highlighter, and (2) whole searches (top 10 with snippets, facets) over the FAQ
//! alone and over the FAQ plus `LONG_PAGES` pages of 300 KB made of its answers, which the
//! queries hit. Timings on a shared machine move with its load: repeat, or count
//! instructions (`perf stat -e instructions`).

use std::sync::Arc;
use std::time::Instant;

use kotae::engine::Engine;
use kotae::material::Material;
use kotae::search::{QueryAnalysis, RankingParams, SearchRequest, plan, snippet::SNIPPET_CHARS};

fn pct(xs: &mut [f64], p: f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(((xs.len() as f64 * p) as usize).min(xs.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0.0)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(corpus), Some(queries)) = (args.get(1), args.get(2)) else {
        anyhow::bail!("usage: long_snippets CORPUS_JSON QUERIES_JSON [LONG_PAGES] [PASSES]");
    };
    let long_pages: usize = args.get(3).map_or(Ok(20), |s| s.parse())?;
    let passes: usize = args.get(4).map_or(Ok(3), |s| s.parse())?.max(2);
    let faq = kotae::eval::load_localgov_corpus(std::path::Path::new(corpus))?;
    let queries: Vec<String> = kotae::eval::read_queries(std::path::Path::new(queries))?
        .into_iter()
        .map(|(_, q)| q)
        .collect();
    let answers: Vec<&str> = faq.iter().filter_map(|m| m.answer.as_deref()).collect();
    // Page i: answers i, i+1, … until 300 KB (so every page holds many queries' terms).
    let page_text = |i: usize| {
        let mut t = String::new();
        let mut j = i * 37;
        while t.len() < 300 * 1024 {
            t.push_str(answers[j % answers.len()]);
            t.push('\n');
            j += 1;
        }
        t
    };
    let analyzer = Arc::new(kotae::analysis::Analyzer::builtin()?);

    // (1) One snippet, 300 KB against 1 KB of text.
    let long = page_text(0);
    let short: String = long.chars().take(1000).collect();
    let e = Engine::ephemeral(analyzer.clone(), Vec::new())?;
    let w = RankingParams::default();
    let hl: Vec<_> = queries
        .iter()
        .map(|q| plan::plan(&QueryAnalysis::new(&analyzer, q), e.index().fields(), &w).highlighter)
        .collect();
    for (name, text) in [("300 KB", &long), ("1 KB", &short)] {
        let mut us = Vec::new();
        for pass in 0..passes {
            for h in &hl {
                let t = Instant::now();
                std::hint::black_box(h.snippet(text, SNIPPET_CHARS));
                if pass > 0 {
                    us.push(t.elapsed().as_secs_f64() * 1e6);
                }
            }
        }
        println!(
            "snippet of {name:>6}: p50 {:.1} µs, p99 {:.1} µs",
            pct(&mut us, 0.5),
            pct(&mut us, 0.99)
        );
    }
    drop(e);

    // (2) Whole searches with and without the long pages.
    let mut with_long = faq.clone();
    for i in 0..long_pages {
        let m: Material = serde_json::from_value(serde_json::json!({
            "source_id": format!("long-{i}"), "kind": "page", "title": format!("長いページ{i}"),
            "body": page_text(i), "source": "bench", "updated_at": "2026-04-01T09:00:00+09:00"
        }))?;
        with_long.push(m);
    }
    for (name, materials) in [("FAQ", faq), ("FAQ + long", with_long)] {
        let e = Engine::ephemeral(analyzer.clone(), materials)?;
        let mut ms = Vec::new();
        let mut long_hits = 0usize;
        for pass in 0..passes {
            for q in &queries {
                let req = SearchRequest {
                    q: q.clone(),
                    limit: 10,
                    ..SearchRequest::default()
                };
                let t = Instant::now();
                let r = e.search(&req)?;
                if pass > 0 {
                    ms.push(t.elapsed().as_secs_f64() * 1e3);
                    long_hits += r
                        .hits
                        .iter()
                        .filter(|h| h.source_id.starts_with("long-"))
                        .count();
                }
            }
        }
        println!(
            "search, {name:<10}: p50 {:.3} ms, p95 {:.3} ms, p99 {:.3} ms; long pages in the top 10: {:.2} per query",
            pct(&mut ms, 0.5),
            pct(&mut ms, 0.95),
            pct(&mut ms, 0.99),
            long_hits as f64 / ((passes - 1) * queries.len()) as f64
        );
    }
    Ok(())
}
