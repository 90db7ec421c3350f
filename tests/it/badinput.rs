//! Bad input over every route (issue 11 §4 and its test list): a few thousand generated
//! requests — malformed ids, parameters, bodies, methods, content types — through the whole
//! router. None may answer 5xx; every API error is JSON `{code, message}` with a code of
//! `ApiCode` whose status is the response's. Plus the framework rejections one by one, and
//! the early 413 over a real connection.

use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use kotae::http::{ApiCode, AppState, app};
use serde_json::Value;
use tower::ServiceExt;

fn state() -> (tempfile::TempDir, tempfile::TempDir, AppState) {
    let (dir, engine) = crate::common::default_engine(false);
    let db = tempfile::tempdir().unwrap();
    let store = Arc::new(kotae::stats::Store::open_path(&db.path().join("kotae.db")).unwrap());
    let logger = Arc::new(kotae::stats::SearchLogger::start(store.clone(), 10_000).unwrap());
    let worker =
        kotae::jobs::JobWorker::new(engine.clone(), store.clone(), Default::default()).unwrap();
    let mut state = AppState::new(engine).with_stats(store, Some(logger));
    // The job routes answer from the queue; the worker itself is not run.
    state.jobs = Some(worker.queue());
    (dir, db, state)
}

/// A small deterministic generator (xorshift64*), so a failure names a reproducible case.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a, T: ?Sized>(&mut self, xs: &[&'a T]) -> &'a T {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

const ROUTES: &[&str] = &[
    "/healthz",
    "/api/search",
    "/api/materials/{id}",
    "/api/departments",
    "/api/hooks/cms",
    "/api/inquiries",
    "/api/inquiries/{id}",
    "/api/escalations",
    "/api/escalations/{id}",
    "/api/escalations/{id}/answer",
    "/api/escalations/{id}/promote",
    "/api/escalations/{id}/close",
    "/api/escalations/{id}/reassign",
    "/api/escalations/{id}/callback",
    "/api/metrics/first-answer-rate",
    "/api/metrics/escalations",
    "/api/metrics/knowledge-gaps",
    "/api/metrics/materials",
    "/api/metrics/search-log",
    "/api/metrics/annual-review",
    "/api/status",
    "/api/jobs/{id}",
    "/api/nowhere",
    "/",
    "/m/{id}",
    "/escalations",
    "/dashboard",
    "/login",
    "/logout",
    "/static/{file}",
];
const IDS: &[&str] = &[
    "1",
    "0",
    "-1",
    "%FF",
    "%00",
    "..%2F..%2Fetc%2Fpasswd",
    "%E3%81",
    "国保",
    "%E5%9B%BD",
    "a%20b",
    "99999999999999999999999",
    "null",
    "%25",
    "app.js",
    "x.css",
];
const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];
const KEYS: &[&str] = &[
    "q",
    "limit",
    "offset",
    "kind",
    "from",
    "to",
    "granularity",
    "group_by",
    "format",
    "lang",
    "status",
    "department",
    "level",
    "since",
    "outcome",
    "channel",
    "x",
];
const VALUES: &[&str] = &[
    "",
    "%FF",
    "%E3%81",
    "-1",
    "0",
    "1",
    "10001",
    "99999999999999999999",
    "abc",
    "csv",
    "json",
    "faq",
    "2026-02-30",
    "2026-04-01",
    "2027-01-01",
    "day",
    "channel",
    "国保",
    "%00",
    "+",
    "%2B",
    "a%26b%3Dc",
    "en",
    "ja",
    "open",
    "bu",
];
const BODIES: &[&str] = &[
    "",
    "{",
    "null",
    "[]",
    "1",
    "\"x\"",
    "{}",
    r#"{"channel":"phone","outcome":"koucho"}"#,
    r#"{"channel":"phone","outcome":"escalated","department":"国保医療課","summary":"x"}"#,
    r#"{"channel":1,"outcome":[]}"#,
    r#"{"channel":"phone","outcome":"koucho","received_at":"1999-01-01T00:00:00Z"}"#,
    r#"{"channel":"phone","outcome":"koucho","received_at":"2026-04-01 09:00:00+09:00"}"#,
    r#"{"answer":"","answered_by":""}"#,
    r#"{"answer":"回答","answered_by":"課長"}"#,
    r#"{"department":"存在しない課"}"#,
    r#"{"pages":[{"url":"javascript:alert(1)"}]}"#,
    r#"{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":[[[[[[[[[[]]]]]]]]]]}}}}}}}}"#,
];
const TYPES: &[&str] = &[
    "application/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "",
];

async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, String, Vec<u8>) {
    let r = app.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let ct = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = r.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, ct, body)
}

/// Asserts that an API error response is `{code, message}` with a known code of its status.
fn assert_api_error(what: &str, status: StatusCode, ct: &str, body: &[u8]) {
    assert!(
        ct.starts_with("application/json"),
        "{what}: {status} {ct:?}"
    );
    let v: Value = serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("{what}: not JSON: {}", String::from_utf8_lossy(body)));
    let code = v["code"].as_str().unwrap_or_else(|| panic!("{what}: {v}"));
    let c = ApiCode::parse(code).unwrap_or_else(|| panic!("{what}: unknown code {code}"));
    assert_eq!(c.status(), status, "{what}: {v}");
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {v}"
    );
}

#[tokio::test]
async fn generated_bad_requests_never_get_a_5xx_and_errors_are_json() {
    let (_d, _db, state) = state();
    let app = app(state);
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    let n = 3_000;
    let mut errors = 0;
    for i in 0..n {
        let route = g.pick(ROUTES);
        let mut path = route
            .replace("{id}", g.pick(IDS))
            .replace("{file}", g.pick(IDS));
        let params = g.next() % 4;
        for j in 0..params {
            path.push(if j == 0 { '?' } else { '&' });
            path.push_str(g.pick(KEYS));
            path.push('=');
            path.push_str(g.pick(VALUES));
        }
        let method = g.pick(METHODS);
        let body = g.pick(BODIES).to_string();
        let mut req = Request::builder().method(method).uri(&path);
        let ct = g.pick(TYPES);
        if !ct.is_empty() {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        if g.next().is_multiple_of(8) {
            req = req.header("idempotency-key", g.pick(IDS));
        }
        let req = req.body(Body::from(body.clone())).unwrap();
        let what = format!("#{i} {method} {path} {ct:?} {body}");
        let (status, ct, bytes) = send(&app, req).await;
        assert!(!status.is_server_error(), "{what}: {status}");
        let api = path.starts_with("/api/") || path.starts_with("/healthz");
        if api && status.is_client_error() && method != "HEAD" {
            assert_api_error(&what, status, &ct, &bytes);
            errors += 1;
        }
    }
    // The generator does reach the error paths (most of its requests are bad).
    assert!(errors > n / 2, "{errors} of {n}");
}

#[tokio::test]
async fn framework_rejections_are_json_with_their_codes() {
    let (_d, _db, state) = state();
    let app = app(state);
    let cases: &[(&str, &str, &str, &str, ApiCode)] = &[
        // A query that is not UTF-8 once decoded.
        ("GET", "/api/search?q=%FF%FE", "", "", ApiCode::BadParameter),
        // A path segment that is not UTF-8 (axum's Path rejection).
        ("GET", "/api/materials/%FF", "", "", ApiCode::BadParameter),
        // A method the route does not have.
        (
            "DELETE",
            "/api/search?q=x",
            "",
            "",
            ApiCode::MethodNotAllowed,
        ),
        (
            "GET",
            "/api/escalations/x/answer",
            "",
            "",
            ApiCode::MethodNotAllowed,
        ),
        // No route.
        ("GET", "/api/nowhere", "", "", ApiCode::NotFound),
        // A JSON body of the wrong shape (axum would answer 422 text).
        (
            "POST",
            "/api/inquiries",
            "application/json",
            "[1]",
            ApiCode::BadJson,
        ),
    ];
    for (method, uri, ct, body, code) in cases {
        let mut req = Request::builder().method(*method).uri(*uri);
        if !ct.is_empty() {
            req = req.header(header::CONTENT_TYPE, *ct);
        }
        let r = app
            .clone()
            .oneshot(req.body(Body::from(body.to_string())).unwrap())
            .await
            .unwrap();
        let status = r.status();
        let allow = r.headers().get(header::ALLOW).cloned();
        let ctype = r
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        let what = format!("{method} {uri}");
        assert_api_error(&what, status, &ctype, &bytes);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["code"], code.as_str(), "{what}: {v}");
        if *code == ApiCode::MethodNotAllowed {
            let allow = allow.expect("405 keeps Allow");
            assert!(
                allow.to_str().unwrap().contains("GET") || allow.to_str().unwrap().contains("POST")
            );
        }
    }
    // A declared body over the limit is refused before it is read.
    let r = app
        .clone()
        .oneshot(
            Request::builder()
                .method("POST")
                .uri("/api/inquiries")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, (3u64 << 20).to_string())
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["code"], "body_too_large");
}

#[test]
fn an_oversized_content_length_gets_413_without_100_continue() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (_d, _db, state) = state();
    let (addr, _stop) = rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(kotae::http::serve::serve_connections(
            l,
            app(state),
            kotae::http::serve::Limits::default(),
            async {
                let _ = rx.await;
            },
        ));
        (addr, tx)
    });
    let s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    (&s).write_all(
        b"POST /api/inquiries HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
          Content-Length: 10000000\r\nExpect: 100-continue\r\n\r\n",
    )
    .unwrap();
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 413"), "{line}");
}
