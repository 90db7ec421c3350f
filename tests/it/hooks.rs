//! The CMS webhook end to end: a page server and kotae on 127.0.0.1, signed deliveries,
//! `/api/search` polled until the change shows; signatures; retries; resume after SIGKILL.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use kotae::engine::{Engine, EngineOptions};
use kotae::http::{AppState, app};
use kotae::jobs::{JobOptions, JobWorker};
use kotae::stats::Store;

use crate::common::analyzer;

const SECRET: &str = "cms-shared-secret-0123456789";

/// Pages by path: (status, html, delay before answering).
type Pages = Arc<Mutex<HashMap<String, (u16, String, Duration)>>>;

/// Path of a page answered 503 once, then served with the text it was set with.
const FLAKY: &str = "/flaky.html";

async fn page(State(pages): State<Pages>, uri: Uri) -> axum::response::Response {
    let entry = {
        let mut map = pages.lock().unwrap();
        let e = map.get(uri.path()).cloned();
        if uri.path() == FLAKY
            && let Some((503, html, d)) = &e
        {
            let next = (200, html.clone(), *d);
            map.insert(FLAKY.into(), next);
        }
        e
    };
    match entry {
        Some((status, html, delay)) => {
            tokio::time::sleep(delay).await;
            (
                StatusCode::from_u16(status).unwrap(),
                [("content-type", "text/html; charset=utf-8")],
                html,
            )
                .into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Serves `pages` on 127.0.0.1; returns the base URL.
async fn page_server(pages: Pages) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(page).with_state(pages);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn html(title: &str, text: &str) -> String {
    format!(
        "<html><head><title>{title}</title></head><body><main><h1>{title}</h1>\
         <p>{text}</p></main></body></html>"
    )
}

struct Kotae {
    base: String,
    store: Arc<Store>,
    client: reqwest::Client,
}

fn job_options() -> JobOptions {
    JobOptions {
        max_attempts: 3,
        retry_base: Duration::from_millis(50),
        timeout_ms: 3_000,
        ..Default::default()
    }
}

/// kotae over `data` with the webhook on (`secret`) or off, served on 127.0.0.1.
async fn kotae(data: &Path, secret: Option<&str>) -> Kotae {
    let engine =
        Arc::new(Engine::open_with(&EngineOptions::new(data), analyzer()).expect("engine opens"));
    let store = Arc::new(Store::open_path(&data.join("kotae.db")).unwrap());
    let worker = JobWorker::new(engine.clone(), store.clone(), job_options()).unwrap();
    let mut state = AppState::new(engine).with_stats(store.clone(), None);
    state.jobs = Some(worker.queue());
    if let Some(s) = secret {
        state = state.with_cms_hook(s, worker.queue());
    }
    tokio::spawn(worker.run());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });
    Kotae {
        base: format!("http://{addr}"),
        store,
        client: reqwest::Client::new(),
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Kotae {
    /// Posts `body` with the given headers; returns the status and JSON body.
    async fn post_raw(&self, body: &str, ts: Option<String>, sig: Option<String>) -> (u16, Value) {
        let mut req = self
            .client
            .post(format!("{}/api/hooks/cms", self.base))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = ts {
            req = req.header("x-kotae-timestamp", t);
        }
        if let Some(s) = sig {
            req = req.header("x-kotae-signature", s);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let v = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap_or(Value::Null);
        (status, v)
    }

    /// Posts `delivery` signed with `SECRET` now.
    async fn deliver(&self, delivery: &Value) -> (u16, Value) {
        let body = delivery.to_string();
        let ts = now().to_string();
        let sig = kotae::hooks::sign(SECRET.as_bytes(), &ts, body.as_bytes());
        self.post_raw(&body, Some(ts), Some(sig)).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (
            status,
            serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap(),
        )
    }

    /// Returns the URLs of the hits for `q` whose material holds the text `q` itself (the
    /// search also finds near words through bigrams; this asks for the exact text).
    async fn hit_urls(&self, q: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (id, url) in self.hits(q).await {
            let (_, m) = self.get(&format!("/api/materials/{id}")).await;
            if m.to_string().contains(q) && !out.contains(&url) {
                out.push(url);
            }
        }
        out
    }

    /// Returns (id, url) of the hits for `q`.
    async fn hits(&self, q: &str) -> Vec<(String, String)> {
        let resp = self
            .client
            .get(format!("{}/api/search", self.base))
            .query(&[("q", q), ("limit", "20")])
            .send()
            .await
            .unwrap();
        let v: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
        v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|h| {
                Some((
                    h["id"].as_str()?.to_string(),
                    h["url"].as_str()?.to_string(),
                ))
            })
            .collect()
    }

    /// Waits (at most 20 s) for job `id` to finish; returns it.
    async fn wait_job(&self, id: &str) -> Value {
        let started = Instant::now();
        loop {
            let (s, v) = self.get(&format!("/api/jobs/{id}")).await;
            assert_eq!(s, 200, "{v}");
            if v["status"] == "done" || v["status"] == "failed" {
                return v;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "job stuck: {v}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Delivers and waits for the job; returns it.
    async fn deliver_and_wait(&self, delivery: &Value) -> Value {
        let (s, v) = self.deliver(delivery).await;
        assert_eq!(s, 202, "{v}");
        self.wait_job(v["job_id"].as_str().unwrap()).await
    }
}

fn delivery(id: &str, event: &str, pages: Value) -> Value {
    json!({"delivery_id": id, "event": event, "approved_at": "2026-12-01T10:15:00+09:00",
           "pages": pages})
}

#[tokio::test]
async fn approved_changed_and_unpublished_pages_reach_search() {
    let data = tempfile::tempdir().unwrap();
    let pages: Pages = Arc::default();
    let site = page_server(pages.clone()).await;
    let k = kotae(data.path(), Some(SECRET)).await;
    let url = format!("{site}/kurashi/fee.html");
    let set = |text: &str| {
        pages.lock().unwrap().insert(
            "/kurashi/fee.html".into(),
            (200, html("証明書の手数料", text), Duration::ZERO),
        );
    };

    set("カワセミ証明書の手数料は一通三百円です。");
    assert!(k.hit_urls("カワセミ証明書").await.is_empty());
    let job = k
        .deliver_and_wait(&delivery("d-1", "approved", json!([{"url": url}])))
        .await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["event"], "approved");
    assert_eq!(job["pages"][0]["url"], url);
    assert!(
        job["pages"][0]["materials_added"].as_u64().unwrap() >= 1,
        "{job}"
    );
    assert!(job["received_at"].is_string() && job["finished_at"].is_string());
    // Committed before `done`: the search shows it without waiting.
    assert_eq!(k.hit_urls("カワセミ証明書").await, vec![url.clone()]);

    // The page changes: the old text goes, the new one is found.
    set("ヤマセミ証明書の手数料は一通四百円に改定しました。");
    let job = k
        .deliver_and_wait(&delivery("d-2", "approved", json!([{"url": url}])))
        .await;
    assert_eq!(job["status"], "done", "{job}");
    assert!(
        job["pages"][0]["materials_updated"].as_u64().unwrap() >= 1,
        "{job}"
    );
    assert!(k.hit_urls("カワセミ証明書").await.is_empty());
    assert_eq!(k.hit_urls("ヤマセミ証明書").await, vec![url.clone()]);

    // Unpublished: every material of the URL is gone (the page is still served: the hook,
    // not the web server, decides).
    let job = k
        .deliver_and_wait(&delivery("d-3", "unpublished", json!([{"url": url}])))
        .await;
    assert_eq!(job["status"], "done", "{job}");
    assert!(
        job["pages"][0]["materials_removed"].as_u64().unwrap() >= 1,
        "{job}"
    );
    assert!(k.hit_urls("ヤマセミ証明書").await.is_empty());

    // `html` for a URL nobody serves (a CMS behind a network kotae cannot reach).
    let hidden = "http://127.0.0.1:9/internal/notice.html";
    let job = k
        .deliver_and_wait(&delivery(
            "d-4",
            "approved",
            json!([{"url": hidden, "html": html("お知らせ", "オオルリ補助金の申請は十二月から受け付けます。")}]),
        ))
        .await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(k.hit_urls("オオルリ補助金").await, [hidden.to_string()]);

    // The corpus holds the change (the index can be rebuilt from it).
    let corpus = kotae::corpus::Corpus::open(data.path().join("corpus")).unwrap();
    let all = corpus.load_all().unwrap();
    assert!(all.iter().any(|m| m.source == hidden));
    assert!(!all.iter().any(|m| m.source == url));
}

#[tokio::test]
async fn signatures_are_checked_before_anything_is_written() {
    let data = tempfile::tempdir().unwrap();
    let k = kotae(data.path(), Some(SECRET)).await;
    let body = delivery(
        "sig-1",
        "approved",
        json!([{"url": "http://127.0.0.1:9/a.html"}]),
    )
    .to_string();
    let ts = now().to_string();
    let good = kotae::hooks::sign(SECRET.as_bytes(), &ts, body.as_bytes());

    let (s, v) = k.post_raw(&body, None, None).await;
    assert_eq!((s, v["code"].as_str()), (401, Some("bad_signature")), "{v}");
    let (s, v) = k.post_raw(&body, Some(ts.clone()), None).await;
    assert_eq!((s, v["code"].as_str()), (401, Some("bad_signature")), "{v}");
    let wrong = kotae::hooks::sign(b"not-the-shared-secret", &ts, body.as_bytes());
    let (s, v) = k.post_raw(&body, Some(ts.clone()), Some(wrong)).await;
    assert_eq!((s, v["code"].as_str()), (401, Some("bad_signature")), "{v}");
    // Signed for another body.
    let (s, v) = k
        .post_raw(
            &body.replace("sig-1", "sig-2"),
            Some(ts.clone()),
            Some(good.clone()),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (401, Some("bad_signature")), "{v}");
    // Rightly signed, but 301 s old.
    let old = (now() - 301).to_string();
    let stale = kotae::hooks::sign(SECRET.as_bytes(), &old, body.as_bytes());
    let (s, v) = k.post_raw(&body, Some(old), Some(stale)).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (401, Some("stale_signature")),
        "{v}"
    );
    assert_eq!(k.store.job_counts().unwrap(), Default::default());

    // Bad JSON and bad fields, rightly signed: 400.
    for (bad, code) in [
        ("{\"delivery_id\":", "bad_json"),
        (
            r#"{"delivery_id":"x","event":"approved","pages":[]}"#,
            "invalid_delivery",
        ),
    ] {
        let sig = kotae::hooks::sign(SECRET.as_bytes(), &ts, bad.as_bytes());
        let (s, v) = k.post_raw(bad, Some(ts.clone()), Some(sig)).await;
        assert_eq!((s, v["code"].as_str()), (400, Some(code)), "{v}");
    }
    // Over 1 MiB: 413 before the signature is even computed.
    let big = "x".repeat(kotae::hooks::MAX_BODY_BYTES + 1);
    let (s, v) = k.post_raw(&big, Some(ts.clone()), Some(good.clone())).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (413, Some("body_too_large")),
        "{v}"
    );
    assert_eq!(k.store.job_counts().unwrap(), Default::default());

    // Accepted once; the replay gets the same job and makes no second one.
    let (s, first) = k
        .post_raw(&body, Some(ts.clone()), Some(good.clone()))
        .await;
    assert_eq!(s, 202, "{first}");
    assert_eq!(first["duplicate"], false);
    let (s, again) = k.deliver(&serde_json::from_str(&body).unwrap()).await;
    assert_eq!(s, 202, "{again}");
    assert_eq!(again["job_id"], first["job_id"]);
    assert_eq!(again["duplicate"], true);
    let c = k.store.job_counts().unwrap();
    assert_eq!(c.queued + c.running + c.done + c.failed, 1, "{c:?}");

    // The job fails (nobody serves the URL; 3 attempts 50 ms, 100 ms apart) and
    // /api/status lists it.
    let job = k.wait_job(first["job_id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "failed", "{job}");
    let (s, st) = k.get("/api/status").await;
    assert_eq!(s, 200, "{st}");
    assert_eq!(st["jobs"]["failed"], 1, "{st}");
    assert_eq!(st["jobs"]["recent_failed"][0], first["job_id"], "{st}");
    assert_eq!(st["index"]["materials"], st["index"]["documents"], "{st}");
}

#[tokio::test]
async fn without_a_secret_the_hook_is_not_there() {
    let data = tempfile::tempdir().unwrap();
    let k = kotae(data.path(), None).await;
    let (s, v) = k
        .deliver(&delivery(
            "n-1",
            "approved",
            json!([{"url": "http://127.0.0.1:9/"}]),
        ))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (404, Some("hook_not_configured")),
        "{v}"
    );
}

#[tokio::test]
async fn a_failing_page_fails_alone_after_its_retries() {
    let data = tempfile::tempdir().unwrap();
    let pages: Pages = Arc::default();
    let site = page_server(pages.clone()).await;
    pages.lock().unwrap().insert(
        "/ok.html".into(),
        (
            200,
            html("案内", "ホオジロ相談窓口は平日九時から開いています。"),
            Duration::ZERO,
        ),
    );
    pages.lock().unwrap().insert(
        FLAKY.into(),
        (
            503,
            html("案内", "メジロ窓口は土曜も開いています。"),
            Duration::ZERO,
        ),
    );
    let k = kotae(data.path(), Some(SECRET)).await;
    let job = k
        .deliver_and_wait(&delivery(
            "f-1",
            "approved",
            json!([{"url": format!("{site}/missing.html")}, {"url": format!("{site}/ok.html")}]),
        ))
        .await;
    assert_eq!(job["status"], "failed", "{job}");
    let p = &job["pages"];
    assert_eq!(p[0]["status"], "failed");
    assert_eq!(p[0]["attempts"], 3, "{job}");
    assert!(
        p[0]["error"].as_str().unwrap().contains("http 404"),
        "{job}"
    );
    assert_eq!(p[1]["status"], "done");
    assert_eq!(
        k.hit_urls("ホオジロ相談窓口").await,
        [format!("{site}/ok.html")]
    );

    // A page that comes right during the retries goes in: 503 first, then served.
    let job = k
        .deliver_and_wait(&delivery(
            "f-2",
            "approved",
            json!([{"url": format!("{site}{FLAKY}")}]),
        ))
        .await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["pages"][0]["attempts"], 2, "{job}");
    assert_eq!(k.hit_urls("メジロ窓口").await, [format!("{site}{FLAKY}")]);
}

#[tokio::test]
async fn a_job_left_queued_runs_at_the_next_start() {
    let data = tempfile::tempdir().unwrap();
    let pages: Pages = Arc::default();
    let site = page_server(pages.clone()).await;
    pages.lock().unwrap().insert(
        "/p.html".into(),
        (
            200,
            html("案内", "ツグミ奨学金の説明会を開きます。"),
            Duration::ZERO,
        ),
    );
    // A job committed by a server that died before working it.
    let id = {
        let store = Store::open_path(&data.path().join("kotae.db")).unwrap();
        let d = kotae::hooks::parse_delivery(
            delivery(
                "r-1",
                "approved",
                json!([{"url": format!("{site}/p.html")}]),
            )
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        let (id, _) = store
            .enqueue_job(&kotae::stats::jobs::NewJob {
                delivery_id: d.delivery_id,
                event: "approved".into(),
                approved_at: None,
                pages: vec![(d.pages[0].url.clone(), None)],
            })
            .unwrap();
        id
    };
    let k = kotae(data.path(), Some(SECRET)).await;
    let job = k.wait_job(&id).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(k.hit_urls("ツグミ奨学金").await, [format!("{site}/p.html")]);
}

// ---------------------------------------------------------------------------------------
// SIGKILL between the 202 and the job's end, with the real binary.

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_server(data: &Path, port: u16) -> Server {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kotae"))
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env_remove("KOTAE_TOKENS")
        .env_remove("KOTAE_CONFIG")
        .env("KOTAE_CMS_SECRET", SECRET)
        .env("KOTAE_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            && r.status() == 200
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not start");
}

#[tokio::test]
async fn sigkill_after_the_202_loses_no_change() {
    let data = tempfile::tempdir().unwrap();
    let pages: Pages = Arc::default();
    let site = page_server(pages.clone()).await;
    // The page answers slowly: the server is killed while it fetches.
    pages.lock().unwrap().insert(
        "/slow.html".into(),
        (
            200,
            html("案内", "ヒバリ給付金の受付を始めました。"),
            Duration::from_secs(30),
        ),
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = start_server(data.path(), port).await;
    let k = Kotae {
        base: format!("http://127.0.0.1:{port}"),
        store: Arc::new(Store::open_path(&data.path().join("kotae.db")).unwrap()),
        client: reqwest::Client::new(),
    };
    let (s, v) = k
        .deliver(&delivery(
            "k-1",
            "approved",
            json!([{"url": format!("{site}/slow.html")}]),
        ))
        .await;
    assert_eq!(s, 202, "{v}");
    let id = v["job_id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, job) = k.get(&format!("/api/jobs/{id}")).await;
    assert_eq!(job["status"], "running", "{job}");
    server.0.kill().unwrap(); // SIGKILL
    server.0.wait().unwrap();
    drop(server);

    pages.lock().unwrap().get_mut("/slow.html").unwrap().2 = Duration::ZERO;
    let _server = start_server(data.path(), port).await;
    let job = k.wait_job(&id).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(
        k.hit_urls("ヒバリ給付金").await,
        [format!("{site}/slow.html")]
    );
    // Indexed once.
    let (_, v) = k.get("/healthz").await;
    assert_eq!(v["materials"], v["indexed"], "{v}");
}
