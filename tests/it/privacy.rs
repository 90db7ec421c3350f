//! Deleted personal data leaves no trace in the database files (issue 11, section 1):
//! caller contact details after answer, close, promote and the retention purge, and the
//! search log and summaries after their retention purge, are absent from `kotae.db`,
//! `kotae.db-wal` and `kotae.db-shm`, while serving and after the store is closed and
//! reopened.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Duration, Utc};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use kotae::engine::Engine;
use kotae::http::{AppState, app};
use kotae::material::{Material, MaterialKind};
use kotae::stats::{SearchLogger, Store, StoreOptions};

fn faq() -> Material {
    Material {
        id: String::new(),
        source_id: "1".into(),
        kind: MaterialKind::Faq,
        title: String::new(),
        question: Some("国民健康保険に加入する手続きは？".into()),
        answer: Some("転入の日から14日以内に届け出てください。".into()),
        body: None,
        contact: None,
        source: "test.json".into(),
        url: None,
        department: Some("国保医療課".into()),
        category: None,
        tags: vec![],
        updated_at: DateTime::parse_from_rfc3339("2026-04-01T09:00:00+09:00").unwrap(),
        valid_from: None,
        valid_until: None,
    }
}

struct Served {
    app: Router,
    store: Arc<Store>,
    logger: Arc<SearchLogger>,
}

fn serve(opts: &StoreOptions) -> Served {
    let analyzer = Arc::new(kotae::analysis::Analyzer::builtin().unwrap());
    let engine = Arc::new(Engine::ephemeral(analyzer, vec![faq()]).unwrap());
    let store = Arc::new(Store::open(opts).unwrap());
    let logger = Arc::new(SearchLogger::start(store.clone(), 100).unwrap());
    let state = AppState::new(engine).with_stats(store.clone(), Some(logger.clone()));
    Served {
        app: app(state),
        store,
        logger,
    }
}

async fn call(app: &Router, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// The database files that contain `marker` (as UTF-8 bytes).
fn files_with(db: &Path, marker: &str) -> Vec<String> {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let p = format!("{}{suffix}", db.display());
            let bytes = std::fs::read(&p).ok()?;
            bytes
                .windows(marker.len())
                .any(|w| w == marker.as_bytes())
                .then_some(p)
        })
        .collect()
}

/// Records an escalated inquiry with `marker` as the contact details; returns its
/// escalation id.
async fn escalate(app: &Router, marker: &str, received_at: &str) -> String {
    let (s, rec) = call(
        app,
        "POST",
        "/api/inquiries",
        Some(json!({
            "received_at": received_at,
            "channel": "phone",
            "outcome": "escalated",
            "department": "国保医療課",
            "summary": "保険証の再発行について",
            "contact": marker,
        })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{rec}");
    rec["escalation_id"].as_str().unwrap().to_string()
}

fn now_jst() -> String {
    Utc::now().to_rfc3339()
}

#[tokio::test]
async fn deleted_contact_details_leave_no_trace_in_the_database_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kotae.db");
    let mut opts = StoreOptions::new(&db);
    opts.contact_retention_days = 1;
    let s = serve(&opts);
    // One marker per deletion path; a kept one shows that the files are really searched.
    let paths = ["ANSWER", "CLOSE", "PROMOTE", "PURGE", "OTHER"];
    let mut ids = Vec::new();
    for p in &paths[..4] {
        let marker = format!("KOTAE-MARKER-{p}-0901");
        ids.push(escalate(&s.app, &marker, &now_jst()).await);
        assert!(
            !files_with(&db, &marker).is_empty(),
            "{marker} is not written anywhere: the search cannot fail"
        );
    }

    let (st, v) = call(
        &s.app,
        "POST",
        &format!("/api/escalations/{}/answer", ids[0]),
        Some(
            json!({"answer": "再発行できます。鈴木様の携帯090-1111-2222へ連絡済み",
                    "answered_by": "国保医療課"}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // The department's answer is redacted before it is stored.
    assert_eq!(
        v["answer"],
        "再発行できます。[氏名]様の携帯[電話番号]へ連絡済み"
    );
    assert_eq!(files_with(&db, "090-1111-2222"), Vec::<String>::new());
    // The contact stays for the call-back (docs/stats.md, who calls back); recording the
    // call-back deletes it.
    assert_eq!(v["contact"], "KOTAE-MARKER-ANSWER-0901");
    let (st, v) = call(
        &s.app,
        "POST",
        &format!("/api/escalations/{}/callback", ids[0]),
        Some(json!({"called_back_by": "国保医療課"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        files_with(&db, "KOTAE-MARKER-ANSWER-0901"),
        Vec::<String>::new()
    );

    let (st, v) = call(
        &s.app,
        "POST",
        &format!("/api/escalations/{}/close", ids[1]),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        files_with(&db, "KOTAE-MARKER-CLOSE-0901"),
        Vec::<String>::new()
    );

    let (st, v) = call(
        &s.app,
        "POST",
        &format!("/api/escalations/{}/answer", ids[2]),
        Some(json!({"answer": "窓口で再発行します。", "answered_by": "国保医療課"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = call(
        &s.app,
        "POST",
        &format!("/api/escalations/{}/promote", ids[2]),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    // A draft is no promotion yet: the contact stays for the call-back.
    assert!(!files_with(&db, "KOTAE-MARKER-PROMOTE-0901").is_empty());
    let (st, v) = call(
        &s.app,
        "POST",
        &format!("/api/promotions/{}/publish", v["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        files_with(&db, "KOTAE-MARKER-PROMOTE-0901"),
        Vec::<String>::new()
    );

    // The retention purge: contact details recorded now expire after one day.
    let other_id = escalate(&s.app, "KOTAE-MARKER-OTHER-0901", &now_jst()).await;
    assert_eq!(s.store.purge(Utc::now()).unwrap().contacts, 0);
    assert!(!files_with(&db, "KOTAE-MARKER-PURGE-0901").is_empty());
    let purged = s.store.purge(Utc::now() + Duration::days(2)).unwrap();
    assert_eq!(purged.contacts, 2, "{purged:?}");
    for p in paths {
        let m = format!("KOTAE-MARKER-{p}-0901");
        assert_eq!(
            files_with(&db, &m),
            Vec::<String>::new(),
            "{m} while serving"
        );
    }
    assert_eq!(s.store.escalation(&other_id).unwrap().contact, None);

    // After the store is closed and reopened.
    let Served { app, store, logger } = s;
    drop(app);
    logger.flush();
    drop(logger);
    drop(store);
    for p in paths {
        let m = format!("KOTAE-MARKER-{p}-0901");
        assert_eq!(files_with(&db, &m), Vec::<String>::new(), "{m} at rest");
    }
    let reopened = Store::open(&opts).unwrap();
    assert_eq!(reopened.count_inquiries().unwrap(), 5);
    for p in paths {
        let m = format!("KOTAE-MARKER-{p}-0901");
        assert_eq!(
            files_with(&db, &m),
            Vec::<String>::new(),
            "{m} after reopening"
        );
    }
}

#[tokio::test]
async fn search_log_and_summaries_are_purged_after_their_retention_period() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kotae.db");
    let mut opts = StoreOptions::new(&db);
    opts.search_log_retention_days = 30;
    opts.summary_retention_days = 90;
    let s = serve(&opts);
    let (st, search) = call(
        &s.app,
        "GET",
        "/api/search?q=KOTAEQUERYMARKER%20%E5%9B%BD%E4%BF%9D",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let query_id = search["query_id"].as_str().unwrap().to_string();
    s.logger.flush();
    assert!(!files_with(&db, "KOTAEQUERYMARKER").is_empty());
    // An old inquiry (100 days ago) and a recent one; an old one still escalated (open).
    let old = (Utc::now() - Duration::days(100)).to_rfc3339();
    for (summary, outcome, received) in [
        ("OLDSUMMARYMARKER の相談", "koucho", old.as_str()),
        ("NEWSUMMARYMARKER の相談", "koucho", &now_jst()),
    ] {
        let (st, v) = call(
            &s.app,
            "POST",
            "/api/inquiries",
            Some(
                json!({"received_at": received, "channel": "phone", "outcome": outcome,
                        "summary": summary, "query_id": query_id}),
            ),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let (st, v) = call(
        &s.app,
        "POST",
        "/api/inquiries",
        Some(
            json!({"received_at": old, "channel": "phone", "outcome": "escalated",
                    "department": "国保医療課", "summary": "OPENSUMMARYMARKER の相談"}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    // Nothing is old enough yet.
    let p = s.store.purge(Utc::now()).unwrap();
    assert_eq!((p.searches, p.summaries), (0, 1), "{p:?}");
    assert_eq!(files_with(&db, "OLDSUMMARYMARKER"), Vec::<String>::new());
    assert!(!files_with(&db, "NEWSUMMARYMARKER").is_empty());
    assert!(
        !files_with(&db, "OPENSUMMARYMARKER").is_empty(),
        "open escalations keep theirs"
    );
    // 31 days on, the search is past 30 days; the new summary is still within 90.
    let p = s.store.purge(Utc::now() + Duration::days(31)).unwrap();
    assert_eq!((p.searches, p.summaries), (1, 0), "{p:?}");
    assert_eq!(s.store.count_searches().unwrap(), 0);
    assert_eq!(files_with(&db, "KOTAEQUERYMARKER"), Vec::<String>::new());
    assert!(!files_with(&db, "NEWSUMMARYMARKER").is_empty());
    // The counts behind the statistics are kept.
    assert_eq!(s.store.count_inquiries().unwrap(), 3);
    let Served { app, store, logger } = s;
    drop((app, logger, store));
    for m in ["KOTAEQUERYMARKER", "OLDSUMMARYMARKER"] {
        assert_eq!(files_with(&db, m), Vec::<String>::new(), "{m} at rest");
    }
}
