//! HTTP API: `oneshot` requests against `app(state)`, and one test over a real socket.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use kotae::http::{AppState, app};

use crate::common::default_engine;

async fn get(state: &AppState, uri: &str) -> (StatusCode, Value) {
    let resp = app(state.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        panic!(
            "body of {uri} is not JSON: {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, v)
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn search_returns_the_documented_shape() {
    let (_dir, engine) = default_engine(false);
    let state = AppState::new(engine);
    let (status, v) = get(
        &state,
        &format!("/api/search?q={}&limit=3", enc("国保 脱退")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(v["query_id"].as_str().is_some_and(|s| s.len() == 32));
    assert!(v["total"].as_u64().unwrap() >= 1);
    assert!(v["took_ms"].as_f64().is_some());
    let hits = v["hits"].as_array().unwrap();
    assert!(!hits.is_empty() && hits.len() <= 3);
    let h = &hits[0];
    for key in ["id", "source_id", "kind", "title", "snippet", "score"] {
        assert!(!h[key].is_null(), "missing {key} in {h}");
    }
    assert_eq!(h["kind"], "faq");
    assert!(h["question"].as_str().is_some());
    assert!(v["facets"]["kind"].is_object() && v["facets"]["department"].is_object());

    // The material behind the hit.
    let id = h["id"].as_str().unwrap();
    let (status, m) = get(&state, &format!("/api/materials/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(m["id"], id);
    assert!(m["answer"].as_str().is_some());
}

#[tokio::test]
async fn material_before_its_valid_from_is_not_found() {
    let (_dir, engine) = default_engine(false);
    let mut m = kotae::material::Material::new(
        kotae::material::MaterialKind::Faq,
        "events",
        "exam-1",
        chrono::DateTime::parse_from_rfc3339("2026-04-01T09:00:00+09:00").unwrap(),
    );
    m.question = Some("採用試験の日程は？".into());
    m.answer = Some("6月に実施します。".into());
    m.valid_from = chrono::DateTime::parse_from_rfc3339("2999-01-01T00:00:00+09:00").ok();
    let mut shown = m.clone();
    shown.source_id = "exam-2".into();
    shown.id = String::new();
    shown.valid_from = chrono::DateTime::parse_from_rfc3339("2020-01-01T00:00:00+09:00").ok();
    shown.ensure_id();
    let (hidden_id, shown_id) = (m.id.clone(), shown.id.clone());
    engine.upsert("events", vec![m, shown]).unwrap();
    let state = AppState::new(engine);
    let (status, v) = get(&state, &format!("/api/materials/{hidden_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["code"], "not_found");
    let (status, v) = get(&state, &format!("/api/materials/{shown_id}")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["valid_from"], "2020-01-01T00:00:00+09:00");
}

#[tokio::test]
async fn kind_filter_over_http() {
    let (_dir, engine) = default_engine(false);
    let state = AppState::new(engine);
    let (status, v) = get(
        &state,
        &format!("/api/search?q={}&kind=contact", enc("国民健康保険")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let hits = v["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(
        hits.iter()
            .all(|h| h["kind"] == "contact" && h["contact"].is_object())
    );
}

#[tokio::test]
async fn bad_input_gets_4xx_with_code_and_message() {
    let (_dir, engine) = default_engine(false);
    let state = AppState::new(engine);
    let long = "あ".repeat(400); // 1,200 bytes
    let cases: Vec<(String, StatusCode, &str)> = vec![
        ("/api/search".into(), StatusCode::BAD_REQUEST, "empty_query"),
        (
            "/api/search?q=".into(),
            StatusCode::BAD_REQUEST,
            "empty_query",
        ),
        (
            "/api/search?q=%20%E3%80%80%09".into(),
            StatusCode::BAD_REQUEST,
            "empty_query",
        ),
        (
            format!("/api/search?q={}", enc(&long)),
            StatusCode::BAD_REQUEST,
            "query_too_long",
        ),
        (
            "/api/search?q=a&limit=101".into(),
            StatusCode::BAD_REQUEST,
            "bad_limit",
        ),
        (
            "/api/search?q=a&limit=0".into(),
            StatusCode::BAD_REQUEST,
            "bad_limit",
        ),
        (
            "/api/search?q=a&limit=abc".into(),
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        ),
        (
            "/api/search?q=a&offset=-1".into(),
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        ),
        (
            "/api/search?q=a&kind=pdf".into(),
            StatusCode::BAD_REQUEST,
            "bad_kind",
        ),
        (
            "/api/search?q=a&q=b".into(),
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        ),
        (
            "/api/materials/nope".into(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        ("/api/nothing".into(), StatusCode::NOT_FOUND, "not_found"),
    ];
    for (uri, status, code) in cases {
        let (s, v) = get(&state, &uri).await;
        assert_eq!(s, status, "{uri}: {v}");
        assert_eq!(v["code"], code, "{uri}: {v}");
        assert!(
            v["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{uri}: {v}"
        );
    }
    // The server keeps serving after bad input.
    let (s, _) = get(&state, &format!("/api/search?q={}", enc("国保"))).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn odd_bytes_in_the_query_do_not_break_the_server() {
    let (_dir, engine) = default_engine(false);
    let state = AppState::new(engine);
    for q in [
        "%FF%FE%FD",
        "%00%01%02",
        "%E3%81",
        "%F0%9F%99%82%E2%80%8B",
        "%3Cscript%3E",
    ] {
        let (s, v) = get(&state, &format!("/api/search?q={q}")).await;
        assert!(
            s == StatusCode::OK || s == StatusCode::BAD_REQUEST,
            "{q}: {s} {v}"
        );
    }
}

#[tokio::test]
async fn healthz_reports_counts() {
    let (_dir, engine) = default_engine(false);
    let n = engine.materials().len() as u64;
    let (s, v) = get(&AppState::new(engine), "/healthz").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["materials"].as_u64(), Some(n));
    assert_eq!(v["indexed"].as_u64(), Some(n));
}

#[tokio::test]
async fn serves_over_a_real_socket() {
    let (_dir, engine) = default_engine(false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, app(AppState::new(engine)))
            .await
            .unwrap();
    });
    let client = reqwest::Client::new();
    let resp = client
        .get(format!("http://{addr}/api/search"))
        .query(&[("q", "粗大ごみの出し方"), ("limit", "2")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(v["hits"].as_array().unwrap().len(), 2);
    assert_eq!(v["hits"][0]["kind"], "faq");
    server.abort();
}

#[tokio::test]
async fn a_full_search_queue_answers_503_busy_with_retry_after() {
    let (_dir, engine) = default_engine(false);
    let mut state = AppState::new(engine);
    state.search_queue = std::sync::Arc::new(kotae::http::SearchQueue::new(1, 2));
    // Hold every place (one running, two waiting) through the queue's own API.
    let held: Vec<_> = (0..3)
        .map(|_| state.search_queue.try_admit().expect("a free place"))
        .collect();
    let uri = format!("/api/search?q={}", enc("国保"));
    let resp = app(state.clone())
        .oneshot(Request::get(&uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "1");
    let v: Value =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(v["code"], "busy");
    // Other routes are not queued.
    let (s, _) = get(&state, "/healthz").await;
    assert_eq!(s, StatusCode::OK);
    // A freed place admits the next search.
    drop(held);
    let (s, v) = get(&state, &uri).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}
