//! Learning from answered inquiries (issue 13 §3, `src/learn/`): an answered inquiry's
//! search query lifts its material within the refresh window, through the HTTP API;
//! nothing personal is learned; decay, the cap, the drop on a substantial text change; the
//! evidence survives a restart and a rebuild; a published promotion learns its question.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use kotae::engine::Engine;
use kotae::http::{AppState, app};
use kotae::learn::{Learner, MAX_QUERIES_PER_MATERIAL};
use kotae::search::{LearnedParams, SearchRequest};
use kotae::stats::{SearchLogger, Store};
use serde_json::{Value, json};

use crate::workflow::{call, enc};

struct Fixture {
    app: axum::Router,
    engine: Arc<Engine>,
    store: Arc<Store>,
    learner: Arc<Learner>,
    _engine_dir: tempfile::TempDir,
    db_dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let (engine_dir, engine) = crate::common::default_engine(false);
    let db_dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open_path(&db_dir.path().join("kotae.db")).unwrap());
    let logger = Arc::new(SearchLogger::start(store.clone(), 100).unwrap());
    let state = AppState::new(engine.clone())
        .with_stats(store.clone(), Some(logger))
        .with_learning(LearnedParams::default())
        .unwrap();
    let learner = state.learner.clone().unwrap();
    Fixture {
        app: app(state),
        engine,
        store,
        learner,
        _engine_dir: engine_dir,
        db_dir,
    }
}

async fn search(app: &axum::Router, q: &str) -> Value {
    let (s, v) = call(
        app,
        "GET",
        &format!("/api/search?q={}&limit=20", enc(q)),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

fn rank_of(resp: &Value, id: &str) -> Option<usize> {
    resp["hits"]
        .as_array()
        .unwrap()
        .iter()
        .position(|h| h["id"] == id)
}

async fn answered(app: &axum::Router, query_id: &str, ids: &[&str]) {
    let (s, v) = call(
        app,
        "POST",
        "/api/inquiries",
        None,
        Some(
            json!({"channel": "phone", "outcome": "answered", "query_id": query_id,
                    "material_ids": ids}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

const QUERY: &str = "国民健康保険 手続き";

#[tokio::test]
async fn an_answered_inquiry_lifts_its_material_within_the_window() {
    let f = fixture();
    let before = search(&f.app, QUERY).await;
    let hits = before["hits"].as_array().unwrap();
    assert!(hits.len() >= 6, "{before}");
    let target = hits[5]["id"].as_str().unwrap().to_string();
    answered(&f.app, before["query_id"].as_str().unwrap(), &[&target]).await;
    // The learner refreshes every second; 60 s is the promise.
    let started = Instant::now();
    let rank = loop {
        let r = rank_of(&search(&f.app, QUERY).await, &target).unwrap();
        if r < 5 || started.elapsed() > Duration::from_secs(60) {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(rank < 5, "still at rank {rank} after 60 s");
    assert_eq!(f.engine.learned().queries(), 1);
    // A query sharing no word with the learned one ranks as before.
    let other = SearchRequest::new("犬の登録");
    let with = f.engine.search(&other).unwrap();
    f.engine
        .set_learned(Arc::new(kotae::search::LearnedIndex::empty()));
    let without = f.engine.search(&other).unwrap();
    let ids = |r: &kotae::search::SearchResponse| -> Vec<(String, f32)> {
        r.hits.iter().map(|h| (h.id.clone(), h.score)).collect()
    };
    assert_eq!(ids(&with), ids(&without));
}

#[tokio::test]
async fn nothing_personal_is_learned() {
    let f = fixture();
    let target = search(&f.app, QUERY).await["hits"][3]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for q in [
        "09012345678 国民健康保険 手続き",
        "山田太郎様 国民健康保険 手続き",
        "被保険者番号 12345678 国民健康保険",
    ] {
        let r = search(&f.app, q).await;
        answered(&f.app, r["query_id"].as_str().unwrap(), &[&target]).await;
    }
    let done = f.learner.refresh(Utc::now()).unwrap();
    assert_eq!((done.materials, done.queries), (0, 0));
    assert!(f.store.learned_queries().unwrap().is_empty());
    // The same words without the personal part are learned.
    let r = search(&f.app, QUERY).await;
    answered(&f.app, r["query_id"].as_str().unwrap(), &[&target]).await;
    assert_eq!(f.learner.refresh(Utc::now()).unwrap().queries, 1);
    let rows = f.store.learned_queries().unwrap();
    assert_eq!(rows[0].query, QUERY);
}

fn some_material(engine: &Engine) -> kotae::material::Material {
    // The table is slim (texts in the doc store): take whole materials.
    let mut all: Vec<_> = engine
        .materials()
        .keys()
        .filter_map(|id| engine.get(id))
        .collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    all.into_iter()
        .find(|m| {
            m.kind == kotae::material::MaterialKind::Faq && m.body_text().chars().count() > 80
        })
        .map(|m| (*m).clone())
        .unwrap()
}

#[test]
fn repeats_count_old_evidence_decays_and_the_cap_keeps_the_strongest() {
    let f = fixture();
    let m = some_material(&f.engine);
    let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
    let day = chrono::Duration::days(1);
    let ids = [m.id.clone()];
    assert!(f.learner.record("粗大ごみ 出し方", &ids, t0).unwrap());
    assert!(
        f.learner
            .record("粗大ごみ　出し方", &ids, t0 + day * 180)
            .unwrap()
    );
    let rows = f.store.learned_queries().unwrap();
    assert_eq!(rows.len(), 1, "one query, counted twice: {rows:?}");
    assert_eq!(rows[0].count, 2);
    // Half-life 180 days: the first record weighs 0.5 when the second comes.
    assert!((rows[0].weight - 1.5).abs() < 1e-9, "{rows:?}");
    // The cap: 40 more queries, one a minute; the 32 strongest (the latest) stay.
    let t1 = t0 + day * 181;
    for i in 0..40 {
        let (x, y) = ("あいうえお".chars(), "かきくけこさしす".chars());
        let q = format!(
            "国保 手続き {}{}",
            x.clone().nth(i / 8).unwrap(),
            y.clone().nth(i % 8).unwrap()
        );
        let at = t1 + chrono::Duration::minutes(i as i64);
        assert!(f.learner.record(&q, &ids, at).unwrap(), "{q}");
    }
    let rows = f.store.learned_queries().unwrap();
    assert_eq!(rows.len(), MAX_QUERIES_PER_MATERIAL);
    // The repeated query (weight 1.5, decayed a day) outweighs the newer single ones.
    assert!(rows.iter().any(|r| r.count == 2));
    let oldest_kept = rows
        .iter()
        .filter(|r| r.count == 1)
        .map(|r| r.updated_ms)
        .min();
    let first_single = (t1 + chrono::Duration::minutes(9)).timestamp_millis();
    assert_eq!(oldest_kept, Some(first_single));
    // Years later everything has decayed below the minimum weight and is deleted.
    let later = f.learner.refresh(t1 + day * 365 * 5).unwrap();
    assert_eq!((later.queries, later.pruned), (0, MAX_QUERIES_PER_MATERIAL));
    assert!(f.store.learned_queries().unwrap().is_empty());
}

#[test]
fn a_substantial_text_change_drops_the_learned_queries_a_small_one_keeps_them() {
    let f = fixture();
    let m = some_material(&f.engine);
    let now = Utc::now();
    assert!(
        f.learner
            .record("粗大ごみ 出し方", std::slice::from_ref(&m.id), now)
            .unwrap()
    );
    assert_eq!(f.learner.refresh(now).unwrap().materials, 1);
    // A small edit (one sentence added): kept, the fingerprint moves to the new text.
    let mut edited = m.clone();
    edited.answer = Some(format!(
        "{}（令和8年4月更新）",
        m.answer.clone().unwrap_or_default()
    ));
    f.engine.correct(edited.clone()).unwrap();
    let r = f.learner.refresh(now).unwrap();
    assert_eq!((r.materials, r.dropped), (1, 0));
    // A rewrite: dropped.
    let mut rewritten = edited;
    rewritten.answer = Some(
        "犬を飼い始めたら30日以内に登録してください。狂犬病の予防注射は毎年4月から6月に受けさせてください。\
         登録手数料は3000円、注射済票の交付手数料は550円です。"
            .into(),
    );
    f.engine.correct(rewritten).unwrap();
    let r = f.learner.refresh(now).unwrap();
    assert_eq!((r.materials, r.dropped), (0, 1));
    assert!(f.store.learned_queries().unwrap().is_empty());
}

#[tokio::test]
async fn learned_queries_survive_a_restart_and_a_rebuild() {
    let f = fixture();
    let before = search(&f.app, QUERY).await;
    let target = before["hits"][5]["id"].as_str().unwrap().to_string();
    answered(&f.app, before["query_id"].as_str().unwrap(), &[&target]).await;
    f.learner.refresh(Utc::now()).unwrap();
    let lifted = rank_of(&search(&f.app, QUERY).await, &target).unwrap();
    assert!(lifted < 5, "{lifted}");
    // Restart: a new store on the same file, a new learner, an engine with nothing learned.
    let path = f.db_dir.path().join("kotae.db");
    let engine = f.engine.clone();
    engine.set_learned(Arc::new(kotae::search::LearnedIndex::empty()));
    drop(f.app);
    let store = Arc::new(Store::open_path(&path).unwrap());
    let state = AppState::new(engine.clone())
        .with_stats(store, None)
        .with_learning(LearnedParams::default())
        .unwrap();
    assert_eq!(engine.learned().queries(), 1);
    // A full rebuild of the index keeps it too (the side index is apart from it).
    engine.rebuild(|_, _| {}).unwrap();
    let app2 = app(state);
    assert_eq!(rank_of(&search(&app2, QUERY).await, &target), Some(lifted));
}

#[tokio::test]
async fn a_published_promotion_learns_its_question() {
    let f = fixture();
    let (s, rec) = call(
        &f.app,
        "POST",
        "/api/inquiries",
        None,
        Some(
            json!({"channel": "phone", "outcome": "escalated", "department": "国保医療課",
                    "summary": "資格確認書をなくしたときの再交付はどこでできますか"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{rec}");
    let esc = rec["escalation_id"].as_str().unwrap().to_string();
    let (s, v) = call(
        &f.app,
        "POST",
        &format!("/api/escalations/{esc}/answer"),
        None,
        Some(json!({"answer": "区役所の窓口で再交付します。", "answered_by": "国保係"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, d) = call(
        &f.app,
        "POST",
        &format!("/api/escalations/{esc}/promote"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let (s, p) = call(
        &f.app,
        "POST",
        &format!("/api/promotions/{}/publish", d["id"].as_str().unwrap()),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let rows = f.store.learned_queries().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].material_id, p["material"]["id"].as_str().unwrap());
    assert_eq!(
        rows[0].query,
        "資格確認書をなくしたときの再交付はどこでできますか"
    );
}
