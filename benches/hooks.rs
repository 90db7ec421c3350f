//! Hook → searchable latency: from the 202 of `POST /api/hooks/cms` to the first
//! `/api/search` that returns the page's new text, for one page served from 127.0.0.1.
//!
//! `cargo bench --bench hooks [-- N]` (default 100 deliveries). kotae runs in process over a
//! data directory holding the built-in demo corpus and the localgovFAQ set when
//! `../shared/data/localgovfaq` exists (so each commit is into an index of ~1,900 materials),
//! with the index on disk (every page change is fsynced by tantivy's commit). Each delivery
//! changes the page's text to carry a new word; the client polls the search every 2 ms
//! until the top hit is the page and its material holds the new word.
//! Prints p50, p90, p99 and max in milliseconds. Wall-clock figures: on a shared machine
//! repeat the run and report the spread.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::IntoResponse;

use kotae::engine::{Engine, EngineOptions};
use kotae::http::{AppState, app};
use kotae::jobs::{JobOptions, JobWorker};
use kotae::stats::Store;

const SECRET: &str = "bench-secret-0123456789";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

async fn page(State(text): State<Arc<Mutex<String>>>) -> impl IntoResponse {
    let t = text.lock().unwrap().clone();
    (
        [("content-type", "text/html; charset=utf-8")],
        format!(
            "<html><head><title>手数料のお知らせ</title></head><body><main><h1>手数料のお知らせ</h1>\
             <p>{t}</p></main></body></html>"
        ),
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let data = tempfile::tempdir().unwrap();
    copy_dir(&root.join("corpus"), &data.path().join("corpus"));
    let lg = root.join("../shared/data/localgovfaq/corpus.json");
    let mut label = "demo corpus";
    if lg.exists() {
        let ms = kotae::eval::load_localgov_corpus(&lg).unwrap();
        kotae::corpus::Corpus::open(data.path().join("corpus"))
            .unwrap()
            .write_collection("localgovfaq", &ms)
            .unwrap();
        label = "demo corpus + localgovFAQ";
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let engine =
            Arc::new(Engine::open(&EngineOptions::new(data.path())).expect("engine opens"));
        let materials = engine.materials().len();
        let store = Arc::new(Store::open_path(&data.path().join("kotae.db")).unwrap());
        let worker = JobWorker::new(engine.clone(), store.clone(), JobOptions::default()).unwrap();
        let state = AppState::new(engine)
            .with_stats(store, None)
            .with_cms_hook(SECRET, worker.queue());
        tokio::spawn(worker.run());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });

        let text = Arc::new(Mutex::new(String::new()));
        let site_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/fee.html", site_listener.local_addr().unwrap());
        let site = axum::Router::new().fallback(page).with_state(text.clone());
        tokio::spawn(async move { axum::serve(site_listener, site).await.unwrap() });

        let client = reqwest::Client::new();
        let mut ms = Vec::with_capacity(n);
        for i in 0..n {
            let word = format!("benchword{i:04}x");
            *text.lock().unwrap() = format!("手数料は {word} 円に改定しました。");
            let body = serde_json::json!({
                "delivery_id": format!("bench-{i}"), "event": "approved",
                "pages": [{"url": url}]
            })
            .to_string();
            let ts = chrono::Utc::now().timestamp().to_string();
            let sig = kotae::hooks::sign(SECRET.as_bytes(), &ts, body.as_bytes());
            let resp = client
                .post(format!("{base}/api/hooks/cms"))
                .header("x-kotae-timestamp", ts)
                .header("x-kotae-signature", sig)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 202);
            let accepted = Instant::now();
            loop {
                let bytes = client
                    .get(format!("{base}/api/search"))
                    .query(&[("q", word.as_str()), ("limit", "1")])
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                // The old version matches too (shared tokens): check the text itself.
                if v["hits"][0]["url"] == url.as_str()
                    && let Some(id) = v["hits"][0]["id"].as_str()
                {
                    let m = client
                        .get(format!("{base}/api/materials/{id}"))
                        .send()
                        .await
                        .unwrap()
                        .bytes()
                        .await
                        .unwrap();
                    if String::from_utf8_lossy(&m).contains(&word) {
                        break;
                    }
                }
                assert!(
                    accepted.elapsed() < Duration::from_secs(30),
                    "delivery {i} never became searchable"
                );
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            ms.push(accepted.elapsed().as_secs_f64() * 1e3);
        }
        ms.sort_by(f64::total_cmp);
        println!(
            "hook → searchable, {n} deliveries, {materials} materials ({label}), index on disk: \
             p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            percentile(&ms, 0.5),
            percentile(&ms, 0.9),
            percentile(&ms, 0.99),
            ms[ms.len() - 1]
        );
    });
}
