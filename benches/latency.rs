//! Single-query latency percentiles over the bench queries (one query at a time, after a
//! warm-up pass), in process. Criterion reports means; an operator waiting on a caller cares
//! about the tail, so this harness records every query and prints p50/p95/p99.
//!
//! `cargo bench --bench latency` (set `KOTAE_BENCH_PASSES`, default 5)
//!
//! Stages measured separately:
//! - `analysis`: query analysis and planning only (normalisation, lindera, bigrams, synonyms);
//! - `rank top100 ids`: analysis + BM25F + top 100 ids (what the Lucene anchor's 0.24 ms
//!   measures: analysis + search + reading 100 ids);
//! - `search top10`: the whole API search: ranking, total, facets, top 10 with snippets.

use std::time::Instant;

use kotae::engine::Engine;
use kotae::search::{QueryAnalysis, SearchRequest, plan::plan};

mod common;

fn percentiles(mut v: Vec<f64>) -> (f64, f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let p = |x: f64| v[((v.len() as f64 * x) as usize).min(v.len() - 1)];
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    (p(0.50), p(0.95), p(0.99), mean)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful: run a
    // single short pass then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let passes: usize = if quick {
        1
    } else {
        std::env::var("KOTAE_BENCH_PASSES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5)
    };
    let data = common::load();
    let analyzer = common::analyzer();
    let engine = Engine::ephemeral(analyzer.clone(), data.materials.clone()).expect("index");
    let fields = *engine.index().fields();
    let w = engine.ranking_params();
    let mut stages: Vec<(&str, Vec<f64>)> = vec![
        ("analysis", Vec::new()),
        ("rank top100 ids", Vec::new()),
        ("search top10", Vec::new()),
    ];
    for pass in 0..=passes {
        for q in &data.queries {
            let t = Instant::now();
            let p = plan(&QueryAnalysis::new(&analyzer, q), &fields, &w);
            let a = t.elapsed().as_secs_f64() * 1e3;
            std::hint::black_box(p.groups.len());
            let t = Instant::now();
            let ids = engine.rank_ids(q, 100).expect("rank");
            let r = t.elapsed().as_secs_f64() * 1e3;
            std::hint::black_box(ids.len());
            let t = Instant::now();
            let resp = engine
                .search(&SearchRequest::new(q.clone()))
                .expect("search");
            let s = t.elapsed().as_secs_f64() * 1e3;
            std::hint::black_box(resp.hits.len());
            if pass > 0 {
                stages[0].1.push(a);
                stages[1].1.push(r);
                stages[2].1.push(s);
            }
        }
    }
    println!(
        "single-query latency, {} ({} materials, {} queries x {passes} passes), ms:",
        data.label,
        data.materials.len(),
        data.queries.len()
    );
    println!("| stage | p50 | p95 | p99 | mean |");
    println!("|---|---|---|---|---|");
    for (name, v) in stages {
        let (p50, p95, p99, mean) = percentiles(v);
        println!("| {name} | {p50:.3} | {p95:.3} | {p99:.3} | {mean:.3} |");
    }
}
