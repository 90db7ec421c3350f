//! Operations (issue 11, section 5): `GET /metrics` in the Prometheus text format, its
//! access rule, counts that move with requests, and the access log line.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use kotae::http::auth::{Auth, Role, TokenEntry};
use kotae::http::{AppState, app};
use kotae::stats::{SearchLogger, Store};

use crate::common::default_engine;

const MANAGER: &str = "manager-token-metrics-1";
const OPERATOR: &str = "operator-token-metrics-1";

async fn get(app: &Router, uri: &str, token: Option<&str>) -> (StatusCode, String, String) {
    let mut req = Request::get(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, ct, String::from_utf8_lossy(&bytes).into_owned())
}

/// The value of the sample `series` (name and labels exactly as exposed), 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn metrics_are_exposed_and_move_with_requests() {
    let (dir, engine) = default_engine(false);
    let store = Arc::new(Store::open_path(&dir.path().join("kotae.db")).unwrap());
    let logger = Arc::new(SearchLogger::start(store.clone(), 100).unwrap());
    let state = AppState::new(engine.clone()).with_stats(store.clone(), Some(logger.clone()));
    let app = app(state);

    let (s, ct, before) = get(&app, "/metrics", None).await;
    assert_eq!(s, StatusCode::OK, "{before}");
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    for name in [
        "kotae_searches_total",
        "kotae_materials",
        "kotae_index_documents",
        "kotae_index_segments",
        "kotae_search_log_records_total",
        "kotae_escalations",
    ] {
        assert!(
            before.contains(&format!("# TYPE {name} ")),
            "{name} missing:\n{before}"
        );
    }
    assert_eq!(
        sample(&before, "kotae_index_documents"),
        engine.index().num_docs() as f64
    );
    assert_eq!(sample(&before, "kotae_escalations{status=\"open\"}"), 0.0);

    let ok = r#"kotae_http_requests_total{method="GET",route="/api/search",status="200"}"#;
    let bad = r#"kotae_http_requests_total{method="GET",route="/api/search",status="400"}"#;
    let n_ok = sample(&before, ok);
    for q in ["国保 脱退", "マイナンバーカード 受け取り"] {
        let (s, _, _) = get(&app, &format!("/api/search?q={}", enc(q)), None).await;
        assert_eq!(s, StatusCode::OK);
    }
    let (s, _, _) = get(&app, "/api/search?limit=0", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, _) = get(&app, "/no/such/path/山田太郎", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    logger.flush();

    let (_, _, after) = get(&app, "/metrics", None).await;
    assert_eq!(sample(&after, ok), n_ok + 2.0);
    assert_eq!(sample(&after, bad), 1.0);
    assert!(sample(&after, "kotae_searches_total") >= 2.0);
    assert_eq!(
        sample(
            &after,
            r#"kotae_http_requests_total{method="GET",route="unmatched",status="404"}"#
        ),
        1.0,
        "{after}"
    );
    assert!(!after.contains("山田"), "a raw path reached the labels");
    assert_eq!(
        sample(
            &after,
            r#"kotae_http_request_duration_seconds_count{method="GET",route="/api/search"}"#
        ),
        n_ok + 3.0
    );
    assert!(
        sample(
            &after,
            r#"kotae_search_log_records_total{outcome="written"}"#
        ) >= 2.0,
        "{after}"
    );
}

#[tokio::test]
async fn metrics_need_a_manager_or_admin_token_when_tokens_are_configured() {
    let (_dir, engine) = default_engine(false);
    let mut state = AppState::new(engine);
    state.auth = Arc::new(Auth::new(vec![
        TokenEntry::new(Role::Manager, None, MANAGER).unwrap(),
        TokenEntry::new(Role::Operator, None, OPERATOR).unwrap(),
    ]));
    let app = app(state);
    assert_eq!(
        get(&app, "/metrics", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&app, "/metrics", Some(OPERATOR)).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, _, body) = get(&app, "/metrics", Some(MANAGER)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("kotae_http_requests_total"), "{body}");
}

/// A writer into a shared buffer, for capturing log lines.
#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn one_access_line_per_request_with_the_route_template_not_the_query() {
    let (_dir, engine) = default_engine(false);
    let app = app(AppState::new(engine));
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Callsites first hit by other tests on other threads, while no subscriber of theirs
    // wanted them, may have cached "never": recompute their interest with ours in place.
    tracing::callsite::rebuild_interest_cache();
    let q = "山田花子 090-1234-5678";
    let (s, _, _) = get(&app, &format!("/api/search?q={}", enc(q)), None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = get(&app, "/api/materials/0123456789abcdef", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("kotae::access"))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].contains("method=GET")
            && lines[0].contains("route=\"/api/search\"")
            && lines[0].contains("status=200")
            && lines[0].contains("ms="),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("route=\"/api/materials/{id}\"") && lines[1].contains("status=404"),
        "{}",
        lines[1]
    );
    assert!(
        !text.contains("山田") && !text.contains("1234") && !text.contains("0123456789abcdef"),
        "the query string or raw path reached the log: {text}"
    );
}
