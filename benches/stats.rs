//! First-answer-rate queries over 1,000,000 inquiries (two fiscal years, six channels,
//! twenty categories), generated once into a temporary database.
//!
//! `cargo bench --bench stats`

use std::hint::black_box;
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};

use kotae::stats::metrics::{RateQuery, first_answer_rate};
use kotae::stats::{Channel, Granularity, GroupBy, NewInquiry, Outcome, Store, StoreOptions};

const N: usize = 1_000_000;
const BATCH: usize = 100_000;

fn generate(store: &Store) {
    let start = Utc.with_ymd_and_hms(2025, 3, 31, 15, 0, 0).unwrap(); // 2025-04-01 00:00 JST
    let span_s = 730 * 86_400i64;
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let categories: Vec<String> = (0..20).map(|i| format!("分類{i:02}")).collect();
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..N {
        let r = next();
        let outcome = match r % 100 {
            0..=69 => Outcome::Answered,
            70..=89 => Outcome::Escalated,
            90..=95 => Outcome::Koucho,
            _ => Outcome::Transfer,
        };
        batch.push(NewInquiry {
            query_id: None,
            received_at: (start + Duration::seconds((i as i64 * span_s) / N as i64)).fixed_offset(),
            channel: Channel::ALL[(r >> 8) as usize % 6],
            category: Some(categories[(r >> 16) as usize % 20].clone()),
            outcome,
            material_ids: if outcome == Outcome::Answered {
                vec![format!("{:016x}", (r >> 24) % 5000)]
            } else {
                vec![]
            },
            department: (outcome == Outcome::Escalated).then(|| "国保医療課".to_string()),
            summary: None,
            contact: None,
            recorded_by: None,
        });
        if batch.len() == BATCH {
            store.record_inquiries(&batch).unwrap();
            batch.clear();
        }
    }
    store.record_inquiries(&batch).unwrap();
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = StoreOptions::new(dir.path().join("kotae.db"));
    opts.synchronous_full = false;
    let store = Store::open(&opts).unwrap();
    let t = Instant::now();
    generate(&store);
    eprintln!(
        "generated {} inquiries in {:.1} s",
        store.count_inquiries().unwrap(),
        t.elapsed().as_secs_f64()
    );
    let q = |granularity, group_by| RateQuery {
        from: None,
        to: None,
        granularity,
        group_by,
    };
    let mut g = c.benchmark_group("first_answer_rate_1m");
    g.sample_size(20);
    for (name, query) in [
        ("month", q(Granularity::Month, None)),
        (
            "month_by_channel",
            q(Granularity::Month, Some(GroupBy::Channel)),
        ),
        (
            "day_by_category",
            q(Granularity::Day, Some(GroupBy::Category)),
        ),
        ("week", q(Granularity::Week, None)),
        (
            "fiscal_year_by_category",
            q(Granularity::FiscalYear, Some(GroupBy::Category)),
        ),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| black_box(first_answer_rate(&store, &query).unwrap()))
        });
    }
    // For comparison: counting the inquiries themselves instead of the daily roll-ups.
    g.sample_size(10);
    g.bench_function("raw_count_by_channel", |b| {
        b.iter(|| {
            black_box(
                store
                    .daily_counts_raw(Some(GroupBy::Channel), i64::MIN, i64::MAX)
                    .unwrap(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
