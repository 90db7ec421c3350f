//! Search-log completeness (issue 11 §4): records lost when the writer's queue is full are
//! counted per JST day in the database, so the reports built on the log say they are
//! incomplete for their period, after a restart too, and `/metrics` shows the counts.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use tower::ServiceExt;

use kotae::engine::Engine;
use kotae::http::{AppState, app};
use kotae::stats::{SearchLogger, SearchRecord, Store};

async fn get(state: &AppState, uri: &str) -> (u16, Option<String>, String) {
    let req = Request::builder()
        .uri(uri)
        .header("host", "127.0.0.1")
        .body(Body::empty())
        .unwrap();
    let resp = app(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let incomplete = resp
        .headers()
        .get("search-log-incomplete")
        .map(|v| v.to_str().unwrap().to_string());
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        incomplete,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

async fn json(state: &AppState, uri: &str) -> serde_json::Value {
    let (s, _, b) = get(state, uri).await;
    assert_eq!(s, 200, "{uri}: {b}");
    serde_json::from_str(&b).unwrap()
}

fn state(store: &Arc<Store>, logger: &Arc<SearchLogger>) -> AppState {
    let analyzer = crate::common::analyzer();
    let engine = Arc::new(Engine::ephemeral(analyzer, vec![]).unwrap());
    AppState::new(engine).with_stats(store.clone(), Some(logger.clone()))
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_on_the_search_log_say_incomplete_for_the_period_with_drops_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kotae.db");
    let store = Arc::new(Store::open_path(&path).unwrap());
    let logger = Arc::new(SearchLogger::start(store.clone(), 4).unwrap());
    let st = state(&store, &logger);
    // Nothing lost yet: complete.
    let v = json(&st, "/api/metrics/knowledge-gaps").await;
    assert_eq!(v["search_log"]["complete"], true, "{v}");

    // Hold the write lock so that the writer is stuck while the queue fills up.
    let blocker = rusqlite::Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    for i in 0..100 {
        logger.log(SearchRecord {
            query_id: format!("q{i}"),
            query: "国保 脱退".into(),
            hits: 0,
            took_ms: 0.1,
            top_ids: vec![],
            at: chrono::Utc::now(),
            filters: None,
        });
    }
    let dropped = logger.dropped();
    assert!(dropped > 0, "a four-place queue behind a locked database");
    blocker.execute_batch("COMMIT").unwrap();

    for uri in [
        "/api/metrics/knowledge-gaps",
        "/api/metrics/materials",
        "/api/metrics/search-log",
    ] {
        let v = json(&st, uri).await;
        let c = if uri.ends_with("search-log") {
            &v
        } else {
            &v["search_log"]
        };
        assert_eq!(c["complete"], false, "{uri}: {v}");
        assert_eq!(c["dropped"], dropped, "{uri}: {v}");
        assert_eq!(c["dropped_since_start"], dropped, "{uri}: {v}");
    }
    let (_, header, _) = get(&st, "/api/metrics/knowledge-gaps?format=csv").await;
    assert_eq!(header, Some(dropped.to_string()));
    // A period without losses is complete.
    let v = json(
        &st,
        "/api/metrics/knowledge-gaps?from=2001-04-01&to=2001-04-30",
    )
    .await;
    assert_eq!(v["search_log"]["complete"], true, "{v}");
    assert_eq!(v["search_log"]["dropped"], 0, "{v}");
    let (_, header, _) = get(
        &st,
        "/api/metrics/knowledge-gaps?format=csv&from=2001-04-01&to=2001-04-30",
    )
    .await;
    assert_eq!(header, None);
    let (_, _, text) = get(&st, "/metrics").await;
    assert!(
        text.contains(&format!(
            "kotae_search_log_lost_records{{outcome=\"dropped\",period=\"all\"}} {dropped}"
        )),
        "{text}"
    );

    // A restart: a new process's counters start at zero, the period's losses remain.
    drop(st);
    logger.shutdown();
    drop(logger);
    drop(store);
    let store = Arc::new(Store::open_path(&path).unwrap());
    let logger = Arc::new(SearchLogger::start(store.clone(), 4).unwrap());
    let st = state(&store, &logger);
    let v = json(&st, "/api/metrics/knowledge-gaps").await;
    assert_eq!(v["search_log"]["complete"], false, "{v}");
    assert_eq!(v["search_log"]["dropped"], dropped, "{v}");
    assert_eq!(v["search_log"]["dropped_since_start"], 0, "{v}");
    let (_, _, text) = get(&st, "/metrics").await;
    assert!(
        text.contains(&format!(
            "kotae_search_log_lost_records{{outcome=\"dropped\",period=\"all\"}} {dropped}"
        )),
        "{text}"
    );
}
