//! `GET /api/suggest`'s in-process cost: suggestions for every prefix (1–6 characters) of the
//! bench queries as typed, and of their readings in hiragana (a kana prefix before the IME
//! converts it), over the bench corpus's titles and words.
//!
//! `cargo bench --bench suggest`. Besides criterion's mean per prefix it prints p50/p95/p99
//! of single calls (the target is p99 under 2 ms on localgovFAQ); on a machine shared with
//! other builds, repeat the run before trusting the tail.

use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kotae::search::suggest::{DEFAULT_LIMIT, Suggester};

mod common;

fn prefixes(analyzer: &kotae::analysis::Analyzer, queries: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for q in queries {
        let reading: String = analyzer
            .reading_text(q)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for text in [q.as_str(), reading.as_str()] {
            let chars: Vec<char> = text.chars().collect();
            for n in 1..=chars.len().min(6) {
                out.push(chars[..n].iter().collect());
            }
        }
    }
    out
}

fn suggest(c: &mut Criterion) {
    let data = common::load();
    let analyzer = common::analyzer();
    let t = Instant::now();
    let s = Suggester::build(&analyzer, data.materials.iter(), &[]);
    eprintln!(
        "suggest index: {} entries from {} materials in {:.0} ms",
        s.len(),
        data.materials.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let typed = prefixes(&analyzer, &data.queries);
    let mut times: Vec<f64> = Vec::with_capacity(typed.len());
    for p in &typed {
        let t = Instant::now();
        std::hint::black_box(s.suggest(p, DEFAULT_LIMIT).len());
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    let q = |x: f64| times[((times.len() as f64 * x) as usize).min(times.len() - 1)];
    eprintln!(
        "suggest ({}), {} prefixes: p50 {:.4} ms, p95 {:.4} ms, p99 {:.4} ms, max {:.4} ms",
        data.label,
        typed.len(),
        q(0.5),
        q(0.95),
        q(0.99),
        times.last().copied().unwrap_or(0.0)
    );
    let mut g = c.benchmark_group(format!("suggest ({})", data.label));
    g.sample_size(10);
    g.throughput(Throughput::Elements(typed.len() as u64));
    g.bench_function("every prefix of the queries and their readings", |b| {
        b.iter(|| {
            typed
                .iter()
                .map(|p| s.suggest(p, DEFAULT_LIMIT).len())
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, suggest);
criterion_main!(benches);
