//! Per-query ranking cost on a built index: MaxScore ([`kotae::search::maxscore::top_k`])
//! against the exhaustive BM25F scorer, and the capped match count, for every query; checks
//! that both rankers return the same top k (documents, scores, order).
//!
//! ```text
//! cargo run --release --example scale_cost -- DATA_DIR QUERIES_JSON [MODE] [PASSES] [K]
//!   DATA_DIR      a kotae data directory with a built index (DATA_DIR/index); not in use
//!                 by a running `kotae serve` (the index writer lock is taken)
//!   QUERIES_JSON  {id: text}, e.g. ../shared/data/localgovfaq/queries.json
//!   MODE          both (default: time both and compare) | maxscore | exhaustive | count
//!                 (only that one, for instruction counts: `perf stat -e instructions` with
//!                 PASSES 1 and 2, the difference is one pass over the queries) | windows
//!                 (block-max MaxScore, the search path's, against the same evaluation with
//!                 the whole lists' bounds only, over windows of 65,536 doc ids; same top k
//!                 required) | plain (that one alone) | oracle (MaxScore with θ starting at
//!                 the k-th best exact score, taken from a first untimed run: the most any
//!                 seeding of θ could save; same top k required) | serial (maxscore on
//!                 one thread: the other modes rank an index of two segments or more on
//!                 the cores, `maxscore::query_threads`)
//!   PASSES        passes over the queries (default 1)
//!   K             top k (default 10)
//!   OVERRIDES     ranking parameters, `name=value,…` (as `kotae eval --weights`)
//!
//! The environment variable `WINDOW_BITS` sets the block-max windows of the maxscore modes
//! to `2^WINDOW_BITS` doc ids (default: the search path's, 7). With `PER_QUERY=1` the
//! maxscore modes also print, on standard error, one tab-separated line per query of the
//! last pass: `query` then milliseconds, BM25F terms, postings scored, postings of its
//! terms, candidates, seeks, windows skipped, and the query text.
//! ```
//!
//! Prints, per ranker: p50/p95/p99/mean milliseconds per query, postings scored per query
//! (mean), and the number of queries whose top k differ (must be 0).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use kotae::index::MaterialIndex;
use kotae::search::{MAX_TRACKED_TOTAL, QueryAnalysis, RankingParams, maxscore, plan};

fn pct(xs: &mut [f64], p: f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(((xs.len() as f64 * p) as usize).min(xs.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0.0)
}

fn report(name: &str, ms: &mut [f64]) {
    let mean = ms.iter().sum::<f64>() / ms.len().max(1) as f64;
    println!(
        "{name:<11} queries {} p50 {:.3} p95 {:.3} p99 {:.3} mean {:.3} ms",
        ms.len(),
        pct(ms, 0.5),
        pct(ms, 0.95),
        pct(ms, 0.99),
        mean
    );
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(queries)) = (args.get(1), args.get(2)) else {
        anyhow::bail!(
            "usage: scale_cost DATA_DIR QUERIES_JSON [both|maxscore|exhaustive|count|windows|plain|oracle|serial] [PASSES] [K] [OVERRIDES]"
        );
    };
    let mut mode = args.get(3).map_or("both", String::as_str);
    if mode == "serial" {
        maxscore::set_query_threads(1);
        mode = "maxscore";
    }
    if ![
        "both",
        "maxscore",
        "exhaustive",
        "count",
        "windows",
        "plain",
        "oracle",
    ]
    .contains(&mode)
    {
        anyhow::bail!("unknown mode {mode:?}");
    }
    let passes: usize = args.get(4).map_or(Ok(1), |a| a.parse())?;
    let k: usize = args.get(5).map_or(Ok(10), |a| a.parse())?;
    let dir = PathBuf::from(dir);
    let analyzer = Arc::new(kotae::analysis::Analyzer::load(&dir.join("dictionaries"))?);
    let (index, created) = MaterialIndex::open(Some(&dir.join("index")), analyzer.clone())?;
    anyhow::ensure!(!created, "no index in {}", dir.display());
    let searcher = index.reader().searcher();
    let queries: Vec<String> = kotae::eval::read_queries(std::path::Path::new(queries))?
        .into_iter()
        .map(|(_, q)| q)
        .collect();
    println!(
        "{} documents in {} segment(s), {} queries, top {k}, {passes} pass(es), ranking on {} thread(s)",
        searcher.num_docs(),
        searcher.segment_readers().len(),
        queries.len(),
        maxscore::query_threads(&searcher)
    );
    let w = RankingParams::parse_overrides(args.get(6).map_or("", String::as_str))?;
    let mut layout = kotae::search::bounds::WindowLayout::DEFAULT;
    if let Ok(bits) = std::env::var("WINDOW_BITS") {
        layout.bits = bits.parse()?;
    }
    let per_query = std::env::var("PER_QUERY").is_ok_and(|v| v == "1");
    let plans: Vec<_> = queries
        .iter()
        .map(|q| plan::plan(&QueryAnalysis::new(&analyzer, q), index.fields(), &w))
        .collect();
    let (mut ms_max, mut ms_ex, mut ms_count) = (Vec::new(), Vec::new(), Vec::new());
    let mut ms_plain = Vec::new();
    let (mut scored, mut total, mut docs, mut differ, mut gte) = (0u64, 0u64, 0u64, 0usize, 0);
    let (mut plain_scored, mut plain_docs) = (0u64, 0u64);
    let (mut windows, mut skipped, mut candidates, mut seeks) = (0u64, 0u64, 0u64, 0u64);
    for pass in 0..passes {
        if pass == 1 && passes > 1 {
            // Pass 1 pays the per-segment bounds of each new term (cold caches): apart.
            if !ms_max.is_empty() {
                report("maxscore 1st", &mut ms_max);
                ms_max.clear();
            }
            if !ms_plain.is_empty() {
                report("plain 1st", &mut ms_plain);
                ms_plain.clear();
            }
            (scored, total, docs, plain_scored, plain_docs) = (0, 0, 0, 0, 0);
            (windows, skipped, candidates, seeks) = (0, 0, 0, 0);
        }
        for (p, text) in plans.iter().zip(&queries) {
            let mut got = None;
            if mode == "windows" || mode == "plain" {
                let t = Instant::now();
                let (top, stats) = maxscore::top_k_windowed(
                    &searcher,
                    &p.groups,
                    &[],
                    k,
                    |_, _| true,
                    kotae::search::bounds::WindowLayout::NONE,
                )?;
                ms_plain.push(t.elapsed().as_secs_f64() * 1e3);
                plain_scored += stats.postings_scored;
                plain_docs += stats.docs_scored;
                got = Some(top);
            }
            if ["both", "maxscore", "windows", "oracle"].contains(&mode) {
                // Oracle: θ starts at the k-th best exact score, from an untimed first run.
                let mut floor = 0.0;
                if mode == "oracle" {
                    let (want, _) = maxscore::top_k(&searcher, &p.groups, k, |_, _| true)?;
                    if want.len() == k {
                        floor = want[k - 1].0;
                    }
                    got = Some(want);
                }
                let t = Instant::now();
                let (top, stats) =
                    maxscore::top_k_from(&searcher, &p.groups, &[], k, |_, _| true, layout, floor)?;
                let ms = t.elapsed().as_secs_f64() * 1e3;
                ms_max.push(ms);
                if per_query && pass + 1 == passes {
                    let terms: usize = p.groups.iter().map(|g| g.terms.len()).sum();
                    eprintln!(
                        "query\t{ms:.3}\t{terms}\t{}\t{}\t{}\t{}\t{}\t{}",
                        stats.postings_scored,
                        stats.postings_total,
                        stats.candidates,
                        stats.seeks,
                        stats.windows_skipped,
                        text
                    );
                }
                scored += stats.postings_scored;
                total += stats.postings_total;
                docs += stats.docs_scored;
                windows += stats.windows;
                skipped += stats.windows_skipped;
                candidates += stats.candidates;
                seeks += stats.seeks;
                if got.as_ref().is_some_and(|g| *g != top) {
                    differ += 1;
                }
                got = Some(top);
            }
            if mode == "both" || mode == "exhaustive" {
                let t = Instant::now();
                let want = maxscore::exhaustive_top_k(&searcher, &p.groups, k, |_, _| true)?;
                ms_ex.push(t.elapsed().as_secs_f64() * 1e3);
                if got.is_some_and(|g| g != want) {
                    differ += 1;
                }
            }
            if mode == "both" || mode == "count" {
                let t = Instant::now();
                let (_, rel) = maxscore::count_matches(
                    &searcher,
                    &p.groups,
                    MAX_TRACKED_TOTAL,
                    |_, _| true,
                    |_, _| {},
                )?;
                ms_count.push(t.elapsed().as_secs_f64() * 1e3);
                gte += usize::from(rel == maxscore::TotalRelation::Gte);
            }
        }
    }
    if !ms_max.is_empty() {
        report("maxscore", &mut ms_max);
        let n = ms_max.len() as f64;
        println!(
            "maxscore    postings scored per query {:.0} of {:.0} ({:.1}%), documents scored {:.0}",
            scored as f64 / n,
            total as f64 / n,
            100.0 * scored as f64 / total.max(1) as f64,
            docs as f64 / n
        );
        println!(
            "maxscore    windows per query {:.0}, skipped {:.0} ({:.1}%), candidates {:.0}, seeks {:.0}",
            windows as f64 / n,
            skipped as f64 / n,
            100.0 * skipped as f64 / windows.max(1) as f64,
            candidates as f64 / n,
            seeks as f64 / n
        );
    }
    if !ms_plain.is_empty() {
        report("plain", &mut ms_plain);
        let n = ms_plain.len() as f64;
        println!(
            "plain       postings scored per query {:.0}, documents scored {:.0}",
            plain_scored as f64 / n,
            plain_docs as f64 / n
        );
    }
    if !ms_ex.is_empty() {
        report("exhaustive", &mut ms_ex);
    }
    if !ms_count.is_empty() {
        report("count", &mut ms_count);
        println!("count       queries over {MAX_TRACKED_TOTAL} matches (gte): {gte}");
    }
    if mode == "both" || mode == "windows" || mode == "oracle" {
        println!("queries whose top {k} differ: {differ}");
        anyhow::ensure!(differ == 0, "MaxScore and the exhaustive scorer differ");
    }
    Ok(())
}
