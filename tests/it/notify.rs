//! Outbound escalation notifications against a local receiver on 127.0.0.1: signed like the
//! inbound CMS hook, one per change, retried after a failure (also by a new store and
//! notifier over the same database, as after a restart), given up after `max_attempts`;
//! overdue escalations in the list and the metrics.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use kotae::http::auth::Auth;
use kotae::http::{AppState, app};
use kotae::notify::{Notifier, NotifyOptions};
use kotae::stats::{SearchLogger, Store};
use serde_json::{Value, json};

use crate::workflow::{call, fixture};

const SECRET: &[u8] = b"notify-secret-0123456789";

#[derive(Default)]
struct Receiver {
    /// Statuses to answer, in order; 200 once used up.
    script: Vec<u16>,
    /// `(event header, delivery header, body)` of each delivery whose signature verified.
    got: Vec<(String, String, Value)>,
    /// Deliveries whose signature did not verify.
    bad: usize,
}

async fn receiver(script: Vec<u16>) -> (String, Arc<Mutex<Receiver>>) {
    let state = Arc::new(Mutex::new(Receiver {
        script,
        ..Receiver::default()
    }));
    let s = state.clone();
    let router = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let s = s.clone();
            async move {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                };
                let ok = kotae::hooks::verify(
                    SECRET,
                    h(kotae::hooks::TIMESTAMP_HEADER).as_deref(),
                    h(kotae::hooks::SIGNATURE_HEADER).as_deref(),
                    &body,
                    chrono::Utc::now().timestamp(),
                )
                .is_ok();
                let mut r = s.lock().unwrap();
                if !ok {
                    r.bad += 1;
                    return StatusCode::UNAUTHORIZED;
                }
                let status = if r.script.is_empty() {
                    200
                } else {
                    r.script.remove(0)
                };
                r.got.push((
                    h(kotae::notify::EVENT_HEADER).unwrap_or_default(),
                    h(kotae::notify::DELIVERY_HEADER).unwrap_or_default(),
                    serde_json::from_slice(&body).unwrap(),
                ));
                StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, state)
}

fn options(url: &str) -> NotifyOptions {
    let mut o = NotifyOptions::new(SECRET).department("健康福祉部 国保医療課", url);
    o.retry_base_ms = 0;
    o.max_attempts = 3;
    o
}

async fn escalate(app: &Router, department: &str) -> String {
    let (s, rec) = call(
        app,
        "POST",
        "/api/inquiries",
        None,
        Some(
            json!({"channel": "phone", "outcome": "escalated", "department": department,
                    "summary": "資格確認書について", "contact": "090-1234-5678",
                    "received_at": "2026-04-01T09:30:00+09:00"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{rec}");
    rec["escalation_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn each_change_is_notified_once_signed_and_retried() {
    let f = fixture(Auth::disabled());
    // The first delivery fails once.
    let (url, got) = receiver(vec![500]).await;
    let n = Notifier::new(f.store.clone(), options(&url)).unwrap();
    let esc = escalate(&f.app, "国保医療課").await;
    // An escalation of a department without a URL is not notified.
    escalate(&f.app, "生活衛生課").await;
    assert_eq!(n.round().await, 0, "the first attempt fails");
    assert_eq!(n.round().await, 1, "the retry delivers");
    assert_eq!(n.round().await, 0, "nothing twice");
    {
        let r = got.lock().unwrap();
        assert_eq!(r.bad, 0);
        assert_eq!(r.got.len(), 2);
        let (event, delivery, body) = &r.got[1];
        assert_eq!(event, "opened");
        assert_eq!(body["delivery_id"], delivery.as_str());
        assert_eq!(r.got[0].1, *delivery, "a retry is the same delivery");
        assert_eq!(body["escalation"]["id"], esc.as_str());
        assert_eq!(body["department"], "健康福祉部 国保医療課");
        assert!(body["due_at"].as_str().unwrap().ends_with("+09:00"));
        // No caller contact details leave the store.
        assert!(body["escalation"].get("contact").is_none(), "{body}");
        assert!(!body.to_string().contains("1234-5678"), "{body}");
    }
    // Answer: one `answered`; reassign another one to 国保医療課: `reassigned` there.
    let (s, _) = call(
        &f.app,
        "POST",
        &format!("/api/escalations/{esc}/answer"),
        None,
        Some(json!({"answer": "窓口で。", "answered_by": "国保係"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let other = escalate(&f.app, "生活衛生課").await;
    let (s, _) = call(
        &f.app,
        "POST",
        &format!("/api/escalations/{other}/reassign"),
        None,
        Some(json!({"department": "国保医療課"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let sent = n.round().await;
    let r = got.lock().unwrap();
    assert_eq!(sent, 2, "{:?}", r.got);
    let events: Vec<(&str, &str)> = r.got[2..]
        .iter()
        .map(|(e, _, b)| (e.as_str(), b["escalation"]["id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        events,
        [("answered", esc.as_str()), ("reassigned", other.as_str())]
    );
    let rows = f.store.notifications().unwrap();
    assert!(rows.iter().all(|n| n.status == "delivered"), "{rows:?}");
    assert_eq!(rows[0].attempts, 2);
}

#[tokio::test]
async fn retries_survive_a_restart_and_end_after_max_attempts() {
    let f = fixture(Auth::disabled());
    let (url, got) = receiver(vec![503, 503, 503, 503, 500]).await;
    escalate(&f.app, "国保医療課 国民健康保険グループ").await;
    let first = Notifier::new(f.store.clone(), options(&url)).unwrap();
    assert_eq!(first.round().await, 0);
    drop(first);
    // A second store and notifier over the same database: the attempt count is kept.
    let store = Arc::new(Store::open_path(f.store.path()).unwrap());
    let second = Notifier::new(store.clone(), options(&url)).unwrap();
    assert_eq!(second.round().await, 0);
    assert_eq!(store.notifications().unwrap()[0].attempts, 2);
    assert_eq!(second.round().await, 0);
    let rows = store.notifications().unwrap();
    assert_eq!(
        (rows[0].status.as_str(), rows[0].attempts),
        ("failed", 3),
        "{rows:?}"
    );
    assert_eq!(rows[0].last_error.as_deref(), Some("HTTP 503"));
    // Failed is final: no fourth attempt.
    assert_eq!(second.round().await, 0);
    assert_eq!(got.lock().unwrap().got.len(), 3);
}

#[tokio::test]
async fn overdue_escalations_show_in_the_list_and_the_metrics() {
    let (_engine_dir, engine) = crate::common::default_engine(false);
    let db = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open_path(&db.path().join("kotae.db")).unwrap());
    let logger = Arc::new(SearchLogger::start(store.clone(), 100).unwrap());
    let state = AppState::new(engine).with_stats(store.clone(), Some(logger));
    // Due at once: every open escalation is overdue, an answered one never is.
    state.escalation_due_hours.set(0);
    let app = app(state);
    let late = escalate(&app, "国保医療課").await;
    let answered = escalate(&app, "国保医療課").await;
    let (s, _) = call(
        &app,
        "POST",
        &format!("/api/escalations/{answered}/answer"),
        None,
        Some(json!({"answer": "窓口で。", "answered_by": "国保係"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    std::thread::sleep(std::time::Duration::from_millis(5));
    let (_, l) = call(&app, "GET", "/api/escalations?overdue=true", None, None).await;
    let ids: Vec<&str> = l["escalations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [late.as_str()], "{l}");
    assert_eq!(l["escalations"][0]["overdue"], true);
    let (_, e) = call(
        &app,
        "GET",
        &format!("/api/escalations/{answered}"),
        None,
        None,
    )
    .await;
    assert_eq!(e["overdue"], false, "{e}");
    assert!(e["due_at"].as_str().unwrap().ends_with("+09:00"));
    let (s, v) = call(&app, "GET", "/api/escalations?overdue=maybe", None, None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_parameter"))
    );
    let (_, m) = call(&app, "GET", "/api/metrics/escalations", None, None).await;
    let d = &m["departments"][0];
    assert_eq!(
        (d["open"].as_u64(), d["overdue"].as_u64()),
        (Some(1), Some(1)),
        "{m}"
    );
}
