//! Load test: 16 concurrent clients POST inquiries to a server on 127.0.0.1 (in this
//! process, over real TCP and HTTP), the store on a temporary `kotae.db`.
//!
//! `cargo run --release --example inquiry_load -- [CLIENTS] [PER_CLIENT] [full|normal]`

use std::sync::Arc;
use std::time::Instant;

use kotae::engine::Engine;
use kotae::http::{AppState, app};
use kotae::material::{Material, MaterialKind};
use kotae::stats::{SearchLogger, Store, StoreOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let clients: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(16);
    let per_client: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(500);
    let full = args.get(3).is_none_or(|s| s != "normal");

    // KOTAE_LOAD_DIR: where the temporary database goes (default: the system temp dir).
    let dir = match std::env::var_os("KOTAE_LOAD_DIR") {
        Some(d) => tempfile::tempdir_in(d)?,
        None => tempfile::tempdir()?,
    };
    let mut opts = StoreOptions::new(dir.path().join("kotae.db"));
    opts.synchronous_full = full;
    let store = Arc::new(Store::open(&opts)?);
    let logger = Arc::new(SearchLogger::start(store.clone(), 10_000)?);
    let mut m = Material {
        id: String::new(),
        source_id: "1".into(),
        kind: MaterialKind::Faq,
        title: String::new(),
        question: Some("国民健康保険に加入する手続きは？".into()),
        answer: Some("転入の日から14日以内に届け出てください。".into()),
        body: None,
        contact: None,
        source: "load.json".into(),
        url: None,
        department: Some("国保医療課".into()),
        category: None,
        tags: vec![],
        updated_at: chrono::DateTime::parse_from_rfc3339("2026-04-01T09:00:00+09:00")?,
        valid_from: None,
        valid_until: None,
    };
    m.ensure_id();
    let mid = m.id.clone();
    let analyzer = Arc::new(kotae::analysis::Analyzer::builtin()?);
    let engine = Arc::new(Engine::ephemeral(analyzer, vec![m])?);
    let state = AppState::new(engine).with_stats(store.clone(), Some(logger));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app(state)).await });

    let client = reqwest::Client::new();
    let url = format!("http://{addr}/api/inquiries");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, url, mid) = (client.clone(), url.clone(), mid.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_client);
            for i in 0..per_client {
                let body = match (c + i) % 10 {
                    0..=6 => serde_json::json!({"channel": "phone", "outcome": "answered",
                        "material_ids": [mid], "category": "国保",
                        "summary": "保険料の計算方法 折り返し０９０－１２３４－５６７８"}),
                    7 | 8 => serde_json::json!({"channel": "email", "outcome": "escalated",
                        "department": "国保医療課", "summary": "減免の要件",
                        "contact": "taro@example.jp"}),
                    _ => serde_json::json!({"channel": "phone", "outcome": "transfer"}),
                };
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await?;
                anyhow::ensure!(r.status().as_u16() == 201, "status {}", r.status());
                r.bytes().await?;
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    let secs = started.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    let n = lat.len();
    println!(
        "{n} inquiries from {clients} clients in {secs:.2} s: {:.0} inquiries/s; latency p50 {:.2} ms, p99 {:.2} ms (synchronous={})",
        n as f64 / secs,
        lat[n / 2],
        lat[n * 99 / 100],
        if full { "FULL" } else { "NORMAL" }
    );
    anyhow::ensure!(store.count_inquiries()? == n as u64, "count mismatch");
    Ok(())
}
