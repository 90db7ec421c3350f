//! Safe in a browser's reach (issue 11, section 2): JSON bodies only, Host and Origin
//! checks, CORS off unless allowlisted, CSV cells that are formulas neutralised.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use kotae::engine::Engine;
use kotae::http::guard::Guard;
use kotae::http::{AppState, app};
use kotae::stats::{SearchLogger, Store};

struct Fx {
    app: Router,
    store: Arc<Store>,
    logger: Arc<SearchLogger>,
    _dir: tempfile::TempDir,
}

fn fixture(guard: Guard) -> Fx {
    let analyzer = Arc::new(kotae::analysis::Analyzer::builtin().unwrap());
    let engine = Arc::new(Engine::ephemeral(analyzer, vec![]).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open_path(&dir.path().join("kotae.db")).unwrap());
    let logger = Arc::new(SearchLogger::start(store.clone(), 100).unwrap());
    let state = AppState::new(engine).with_stats(store.clone(), Some(logger.clone()));
    state.guard.set(guard);
    Fx {
        app: app(state),
        store,
        logger,
        _dir: dir,
    }
}

async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .header("content-length", body.len().to_string())
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let (status, h) = (resp.status(), resp.headers().clone());
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, h, String::from_utf8_lossy(&bytes).into_owned())
}

fn inquiry() -> String {
    json!({"channel": "phone", "outcome": "koucho", "summary": "ページからの書き込み"}).to_string()
}

const HOST: (&str, &str) = ("host", "127.0.0.1:7700");
const JSON: (&str, &str) = ("content-type", "application/json");

#[tokio::test]
async fn a_foreign_page_cannot_write_or_read_through_the_browser() {
    let f = fixture(Guard::new(&[], &[], false));
    // A form post or text/plain body (no CORS preflight): 415, nothing written.
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ] {
        let (s, _, b) = send(
            &f.app,
            "POST",
            "/api/inquiries",
            &[HOST, ("content-type", ct)],
            &inquiry(),
        )
        .await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct}: {b}");
        let v: Value = serde_json::from_str(&b).unwrap();
        assert_eq!(v["code"], "unsupported_media_type");
    }
    // JSON from a foreign origin: 403 bad_origin, nothing written.
    let (s, _, b) = send(
        &f.app,
        "POST",
        "/api/inquiries",
        &[HOST, JSON, ("origin", "http://evil.example")],
        &inquiry(),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    assert!(b.contains("bad_origin"), "{b}");
    assert_eq!(f.store.count_inquiries().unwrap(), 0);
    // DNS rebinding: the page's own name in Host: 403 bad_host, on reads too.
    let (s, _, b) = send(
        &f.app,
        "GET",
        "/api/escalations",
        &[("host", "rebind.evil.example:7700")],
        "",
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    assert!(b.contains("bad_host"), "{b}");
    // No CORS headers by default: the browser keeps answers from foreign pages.
    let (s, h, _) = send(
        &f.app,
        "GET",
        "/healthz",
        &[HOST, ("origin", "http://evil.example")],
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(h.get("access-control-allow-origin").is_none());
    // kotae's own pages (same origin) and clients without Origin write as before.
    for extra in [Some(("origin", "http://127.0.0.1:7700")), None] {
        let mut hs = vec![HOST, JSON];
        hs.extend(extra);
        let (s, _, b) = send(&f.app, "POST", "/api/inquiries", &hs, &inquiry()).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    assert_eq!(f.store.count_inquiries().unwrap(), 2);
}

#[tokio::test]
async fn allowlisted_origins_get_cors_headers() {
    let f = fixture(Guard::new(
        &["kotae.example.lg.jp".into()],
        &["https://portal.example.lg.jp".into()],
        true,
    ));
    let (s, h, _) = send(
        &f.app,
        "OPTIONS",
        "/api/inquiries",
        &[
            ("host", "kotae.example.lg.jp"),
            ("origin", "https://portal.example.lg.jp"),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "content-type,authorization",
            ),
        ],
        "",
    )
    .await;
    assert!(s.is_success(), "{s}");
    assert_eq!(
        h["access-control-allow-origin"],
        "https://portal.example.lg.jp"
    );
    let (s, _, b) = send(
        &f.app,
        "POST",
        "/api/inquiries",
        &[
            ("host", "kotae.example.lg.jp"),
            JSON,
            ("origin", "https://portal.example.lg.jp"),
        ],
        &inquiry(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // Another origin gets no CORS header; a name not configured is refused.
    let (_, h, _) = send(
        &f.app,
        "GET",
        "/healthz",
        &[
            ("host", "kotae.example.lg.jp"),
            ("origin", "https://other.example"),
        ],
        "",
    )
    .await;
    assert!(h.get("access-control-allow-origin").is_none());
    let (s, _, _) = send(&f.app, "GET", "/healthz", &[("host", "other.example")], "").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn csv_exports_neutralise_formula_cells() {
    let f = fixture(Guard::default());
    // (Tab and CR are covered by the unit test of `csv_text`: the search trims them.)
    let planted = ["=1+1", "+SUM(A1)", "-2+3", "@cmd"];
    for q in planted {
        let uri = format!(
            "/api/search?q={}",
            url::form_urlencoded::byte_serialize(format!("{q} 存在しない語").as_bytes())
                .collect::<String>()
        );
        let (s, _, b) = send(&f.app, "GET", &uri, &[], "").await;
        assert_eq!(s, StatusCode::OK, "{q}: {b}");
    }
    f.logger.flush();
    let (s, _, csv) = send(
        &f.app,
        "GET",
        "/api/metrics/knowledge-gaps?format=csv",
        &[],
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let mut rdr = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let mut keys = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let key = &rec[1];
        assert!(
            !key.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "formula cell {key:?}"
        );
        if rec[0] == *"zero_result" {
            assert!(key.starts_with('\''), "{key:?}");
            keys += 1;
        }
    }
    assert_eq!(keys, planted.len(), "{csv}");
}
