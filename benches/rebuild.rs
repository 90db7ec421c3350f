//! Searches during a zero-downtime full rebuild (issue 10 §4): searches per second, p50 and
//! p99 latency and errors, first with no rebuild (baseline), then while full rebuilds of the
//! localgovFAQ corpus (+ the demo corpus) run one after another beside the live index.
//!
//! `cargo bench --bench rebuild [-- REBUILDS]` (default 3 rebuilds). The engine runs in
//! process with the index on disk, as `kotae serve` has it; `SEARCH_THREADS` (2) threads
//! search the localgovFAQ queries round-robin through `Engine::search` (the code path of
//! `GET /api/search` without HTTP). An error is a search that fails or returns no hit for a
//! query that had hits in the baseline. Wall-clock figures: on a machine shared with other
//! builds they are indicative only; repeat the run and report the spread.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kotae::engine::{Engine, EngineOptions};
use kotae::search::SearchRequest;

const SEARCH_THREADS: usize = 2;
const BASELINE: Duration = Duration::from_secs(5);

struct Sample {
    latencies_ms: Vec<f64>,
    errors: usize,
    elapsed: Duration,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Searches on [`SEARCH_THREADS`] threads until `stop` is set.
fn search_until(
    engine: &Arc<Engine>,
    queries: &Arc<Vec<(String, bool)>>,
    stop: &Arc<AtomicBool>,
) -> Sample {
    let started = Instant::now();
    let handles: Vec<_> = (0..SEARCH_THREADS)
        .map(|t| {
            let (engine, queries, stop) = (engine.clone(), queries.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let mut errors = 0;
                let mut i = t;
                while !stop.load(Ordering::Relaxed) {
                    let (q, had_hits) = &queries[i % queries.len()];
                    i += SEARCH_THREADS;
                    let t0 = Instant::now();
                    match engine.search(&SearchRequest::new(q.clone())) {
                        Ok(r) if r.hits.is_empty() && *had_hits => errors += 1,
                        Ok(_) => {}
                        Err(_) => errors += 1,
                    }
                    lat.push(t0.elapsed().as_secs_f64() * 1e3);
                }
                (lat, errors)
            })
        })
        .collect();
    let mut s = Sample {
        latencies_ms: Vec::new(),
        errors: 0,
        elapsed: Duration::ZERO,
    };
    for h in handles {
        let (l, e) = h.join().unwrap();
        s.latencies_ms.extend(l);
        s.errors += e;
    }
    s.elapsed = started.elapsed();
    s.latencies_ms.sort_by(f64::total_cmp);
    s
}

fn report(label: &str, s: &Sample) {
    let n = s.latencies_ms.len();
    println!(
        "{label:<22} {n:>7} searches in {:>6.2} s: {:>7.0} searches/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {} errors",
        s.elapsed.as_secs_f64(),
        n as f64 / s.elapsed.as_secs_f64(),
        percentile(&s.latencies_ms, 0.5),
        percentile(&s.latencies_ms, 0.99),
        s.latencies_ms.last().copied().unwrap_or(f64::NAN),
        s.errors
    );
}

fn main() {
    let rebuilds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(3);
    let data = common::load();
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus = kotae::corpus::Corpus::open(dir.path().join("corpus")).unwrap();
    corpus.write_collection("bench", &data.materials).unwrap();
    let demo = kotae::corpus::Corpus::open(root.join("corpus")).unwrap();
    corpus
        .write_collection("demo", &demo.load_all().unwrap())
        .unwrap();
    let engine = Arc::new(Engine::open(&EngineOptions::new(dir.path())).expect("engine opens"));
    let n_materials = engine.materials().len();
    let queries: Vec<(String, bool)> = data
        .queries
        .iter()
        .map(|q| {
            let had = engine
                .search(&SearchRequest::new(q.clone()))
                .is_ok_and(|r| !r.hits.is_empty());
            (q.clone(), had)
        })
        .collect();
    let queries = Arc::new(queries);
    println!(
        "{} ({n_materials} materials, index on disk), {} queries, {SEARCH_THREADS} search threads, {rebuilds} full rebuilds",
        data.label,
        queries.len()
    );

    let stop = Arc::new(AtomicBool::new(false));
    let timer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            std::thread::sleep(BASELINE);
            stop.store(true, Ordering::Relaxed);
        })
    };
    let baseline = search_until(&engine, &queries, &stop);
    timer.join().unwrap();
    report("no rebuild", &baseline);

    let stop = Arc::new(AtomicBool::new(false));
    let rebuilder = {
        let (engine, stop) = (engine.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut secs = Vec::new();
            for _ in 0..rebuilds {
                let t0 = Instant::now();
                engine.rebuild(|_, _| {}).expect("rebuild");
                secs.push(t0.elapsed().as_secs_f64());
            }
            stop.store(true, Ordering::Relaxed);
            secs
        })
    };
    let during = search_until(&engine, &queries, &stop);
    let secs = rebuilder.join().unwrap();
    report("during full rebuilds", &during);
    println!(
        "rebuilds: {} (s each), generation {} live, {} materials",
        secs.iter()
            .map(|s| format!("{s:.2}"))
            .collect::<Vec<_>>()
            .join(", "),
        engine.generation(),
        engine.materials().len()
    );
}
