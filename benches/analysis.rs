//! Throughput benchmarks: analysis and snippets (characters/s) and indexing (materials/s).
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
    // Indexing analyses every title and body for five fields: asked one field at a time
    // (lindera runs three times per text) against one shared analysis (`field_tokens`).
    g.bench_function("five index streams one field at a time, characters", |b| {
        b.iter(|| {
            texts
                .iter()
                .map(|t| {
                    analyzer.morph_tokens(t).len()
                        + analyzer.bigram_tokens(t).len()
                        + analyzer.unigram_tokens(t).len()
                        + analyzer.reading_tokens(t).len()
                        + analyzer.abbreviation_tokens(t).len()
                })
                .sum::<usize>()
        })
    });
    g.bench_function("five index streams from one analysis, characters", |b| {
        b.iter(|| {
            texts
                .iter()
                .map(|t| {
                    let f = analyzer.field_tokens(t);
                    f.morph.len()
                        + f.bigram.len()
                        + f.unigram.len()
                        + f.reading.len()
                        + f.abbrev.len()
                })
                .sum::<usize>()
        })
    });
    // Snippets scan the whole text of every hit shown: characters/s tells what a long page
    // costs (a 64 KB page is about 21,000 characters).
    let query_terms: Vec<String> = analyzer
        .bigram_tokens("国民健康保険の保険料を減免してほしい")
        .into_iter()
        .map(|t| t.term)
        .collect();
    let highlighter =
        kotae::search::Highlighter::from_terms(query_terms.iter().map(String::as_str));
    g.bench_function("snippet, characters", |b| {
        b.iter(|| {
            texts
                .iter()
                .map(|t| {
                    highlighter
                        .snippet(t, kotae::search::snippet::SNIPPET_CHARS)
                        .len()
                })
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
