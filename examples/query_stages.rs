//! Where one search's time goes, stage by stage, on a built data directory (issue 14), and a
//! check that the sub-linear match count and match quality equal the full walk's.
//!
//! ```text
//! cargo run --release --example query_stages -- DATA_DIR QUERIES_JSON [PASSES] [K]
//!   DATA_DIR      a kotae data directory with a built index (opened read-only, so it may
//!                 be served meanwhile)
//!   QUERIES_JSON  {id: text}, e.g. ../shared/data/localgovfaq/queries.json
//!   PASSES        passes over the queries (default 2); pass 1 is reported apart (cold
//!                 per-segment caches: bounds, dfs, the OS page cache), later passes together
//!   K             top k (default 10)
//! ```
//!
//! Stages per query, in milliseconds (p50 / p99 / mean): `plan` (analysis, plan, short
//! forms), `top_k` (MaxScore), `full_cover` + `full_count` (the former path: every posting
//! of every content unit into a per-segment map, then the capped count filtered by it),
//! `count` + `quality` (the present path: [`kotae::search::quality::count_covered`] and
//! [`kotae::search::quality::Coverage::for_docs`] over the top k), `search` (the whole
//! [`kotae::engine::Engine::search`]: feedback, ranking, facets, quality, doc-store texts,
//! snippets), `json` (serialising its response) and `(harness)` (this program's checks).
//! Wall-clock times on a shared machine mostly measure waiting for a core; the CPU times
//! (the thread's, sampled at each 10 ms tick, so meaningful as means over many queries)
//! much less so. Also the postings the full walk reads
//! and the postings MaxScore scores, per query (mean). Exits non-zero when a count, its
//! documents or a quality differ between the two paths.

use std::time::Instant;

use kotae::engine::{Engine, EngineOptions};
use kotae::search::quality::{self, Coverage};
use kotae::search::{MAX_TRACKED_TOTAL, QueryAnalysis, SearchRequest, abbrev, maxscore, plan};
use tantivy::{DocAddress, Term};

const STAGES: [&str; 9] = [
    "plan",
    "top_k",
    "full_cover",
    "full_count",
    "count",
    "quality",
    "search",
    "json",
    "(harness)",
];

/// This thread's user + system CPU time in clock ticks (`/proc/thread-self/stat` fields 14
/// and 15), 0 where unreadable. Sampled by the kernel at each tick, so summed over many
/// queries it estimates a stage's CPU time even while other processes share the cores
/// (where wall-clock times mostly measure waiting).
fn cpu_ticks() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return 0;
    };
    // The command name (field 2) is parenthesised and may hold spaces; after it come
    // fields 3 (state), 4, …: utime is field 14, stime 15.
    let rest: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |x| x.1)
        .split_whitespace()
        .collect();
    let field = |n: usize| {
        rest.get(n - 3)
            .and_then(|x| x.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(14) + field(15)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux).
const TICKS_PER_S: f64 = 100.0;

fn pct(xs: &mut [f64], p: f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(((xs.len() as f64 * p) as usize).min(xs.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0.0)
}

fn report(label: &str, ms: &mut [Vec<f64>], ticks: &[u64]) {
    println!("{label}");
    for ((name, xs), t) in STAGES.iter().zip(ms.iter_mut()).zip(ticks) {
        let n = xs.len().max(1) as f64;
        let mean = xs.iter().sum::<f64>() / n;
        println!(
            "  {name:<11} wall p50 {:>8.3} p99 {:>8.3} mean {:>8.3} ms; CPU mean {:>8.3} ms",
            pct(xs, 0.5),
            pct(xs, 0.99),
            mean,
            *t as f64 / TICKS_PER_S * 1e3 / n
        );
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(queries)) = (args.get(1), args.get(2)) else {
        anyhow::bail!("usage: query_stages DATA_DIR QUERIES_JSON [PASSES] [K]");
    };
    let passes: usize = args.get(3).map_or(Ok(2), |a| a.parse())?.max(1);
    let k: usize = args.get(4).map_or(Ok(10), |a| a.parse())?.max(1);
    let engine = Engine::open_read_only(&EngineOptions::new(dir))?;
    let index = engine.index();
    let analyzer = engine.analyzer();
    let w = engine.ranking_params();
    let searcher = index.reader().searcher();
    let queries: Vec<String> = kotae::eval::read_queries(std::path::Path::new(queries))?
        .into_iter()
        .map(|(_, q)| q)
        .collect();
    println!(
        "{} documents in {} segment(s), {} queries, top {k}, {passes} pass(es)",
        searcher.num_docs(),
        searcher.segment_readers().len(),
        queries.len()
    );
    let (mut differ, mut gte) = (0usize, 0usize);
    let (mut unit_postings, mut scored, mut total) = (0u64, 0u64, 0u64);
    let mut ms: Vec<Vec<f64>> = vec![Vec::new(); STAGES.len()];
    let mut ticks = vec![0u64; STAGES.len()];
    let mut t0 = cpu_ticks();
    for pass in 0..passes {
        for q in &queries {
            let mut lap = |stage: usize, t: Instant| {
                ms[stage].push(t.elapsed().as_secs_f64() * 1e3);
                let now = cpu_ticks();
                ticks[stage] += now - t0;
                t0 = now;
            };
            let t = Instant::now();
            let qa = QueryAnalysis::new(&analyzer, q);
            let mut p = plan::plan(&qa, index.fields(), &w);
            abbrev::resolve_plan(&index, &searcher, &mut p)?;
            lap(0, t);

            let t = Instant::now();
            let (top, stats) = maxscore::top_k(&searcher, &p.groups, k, |_, _| true)?;
            lap(1, t);

            let t = Instant::now();
            let full = Coverage::compute(&searcher, &p.units)?;
            lap(2, t);
            let t = Instant::now();
            let mut full_seen = Vec::new();
            let full_total = maxscore::count_matches(
                &searcher,
                &p.groups,
                MAX_TRACKED_TOTAL,
                |si, d| !full.has_units() || full.matches(si, d),
                |si, d| full_seen.push((si, d)),
            )?;
            lap(3, t);

            let t = Instant::now();
            let mut seen = Vec::new();
            let got_total = quality::count_covered(
                &searcher,
                &p.units,
                &p.groups,
                MAX_TRACKED_TOTAL,
                |_, _| true,
                |si, d| seen.push((si, d)),
            )?;
            lap(4, t);
            let t = Instant::now();
            let docs: Vec<DocAddress> = top
                .iter()
                .map(|&(_, si, d)| DocAddress::new(si as u32, d))
                .collect();
            let shown = Coverage::for_docs(&searcher, &p.units, &docs)?;
            lap(5, t);

            let t = Instant::now();
            let resp = engine.search(&SearchRequest {
                q: q.clone(),
                limit: k,
                ..SearchRequest::default()
            })?;
            lap(6, t);
            let t = Instant::now();
            let json = serde_json::to_string(&resp)?;
            lap(7, t);
            std::hint::black_box(json);
            let t = Instant::now();

            let same_quality = top
                .iter()
                .all(|&(_, si, d)| full.quality(si, d).to_bits() == shown.quality(si, d).to_bits());
            if full_total != got_total || full_seen != seen || !same_quality {
                differ += 1;
                if differ <= 5 {
                    eprintln!(
                        "differ: {q:?}: full {full_total:?} ({} docs), sub-linear {got_total:?} \
                         ({} docs), same quality {same_quality}",
                        full_seen.len(),
                        seen.len()
                    );
                }
            }
            if pass == 0 {
                gte += usize::from(got_total.1 == maxscore::TotalRelation::Gte);
                scored += stats.postings_scored;
                total += stats.postings_total;
                for u in p.units.iter().take(quality::MAX_UNITS) {
                    for (fields, term) in u.alternatives.iter().flatten() {
                        for &f in fields {
                            unit_postings += searcher.doc_freq(&Term::from_field_text(f, term))?;
                        }
                    }
                }
            }
            lap(8, t);
        }
        if pass == 0 {
            report("pass 1 (cold caches)", &mut ms, &ticks);
            ms.iter_mut().for_each(Vec::clear);
            ticks.iter_mut().for_each(|t| *t = 0);
        }
    }
    if passes > 1 {
        report(
            &format!("passes 2..={passes} (warm caches), pooled"),
            &mut ms,
            &ticks,
        );
    }
    let n = queries.len().max(1) as f64;
    println!(
        "per query (mean): content-unit postings the full walk reads {:.0}; MaxScore scores {:.0} \
         of {:.0} postings; queries over {MAX_TRACKED_TOTAL} matches (gte): {gte}",
        unit_postings as f64 / n,
        scored as f64 / n,
        total as f64 / n
    );
    println!("queries whose count, counted documents or top-{k} quality differ: {differ}");
    anyhow::ensure!(
        differ == 0,
        "the sub-linear path differs from the full walk"
    );
    Ok(())
}
