//! Throughput benchmarks: analysis (characters/s) and indexing (materials/s).
//!
//! `cargo bench --bench analysis`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

mod common;

fn analysis(c: &mut Criterion) {
    let data = common::load();
    let analyzer = common::analyzer();
    let texts: Vec<String> = data
        .materials
        .iter()
        .map(|m| format!("{}\n{}", m.title_text(), m.body_text()))
        .collect();
    let chars: u64 = texts.iter().map(|t| t.chars().count() as u64).sum();
    let mut g = c.benchmark_group(format!("analysis ({})", data.label));
    g.sample_size(10);
    g.throughput(Throughput::Elements(chars));
    g.bench_function("morph tokens, characters", |b| {
        b.iter(|| {
            texts
                .iter()
                .map(|t| analyzer.morph_tokens(t).len())
                .sum::<usize>()
        })
    });
    g.bench_function("bigram tokens, characters", |b| {
        b.iter(|| {
            texts
                .iter()
                .map(|t| analyzer.bigram_tokens(t).len())
                .sum::<usize>()
        })
    });
    g.finish();
}

fn indexing(c: &mut Criterion) {
    let data = common::load();
    let analyzer = common::analyzer();
    let mut g = c.benchmark_group(format!("indexing ({})", data.label));
    g.sample_size(10);
    g.throughput(Throughput::Elements(data.materials.len() as u64));
    g.bench_function("materials into an in-memory index", |b| {
        b.iter(|| {
            let e = kotae::engine::Engine::ephemeral(analyzer.clone(), data.materials.clone())
                .expect("index");
            e.index().num_docs()
        })
    });
    g.finish();
}

criterion_group!(benches, analysis, indexing);
criterion_main!(benches);
