//! The inquiry workflow through the HTTP API over the default corpus: the department
//! registry, escalations that reach their department, reports.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use kotae::http::auth::{Auth, Role, TokenEntry};
use kotae::http::{AppState, app};
use kotae::stats::{SearchLogger, Store};
use serde_json::{Value, json};
use tower::ServiceExt;

pub struct Fixture {
    pub app: Router,
    pub store: Arc<Store>,
    pub logger: Arc<SearchLogger>,
    _engine_dir: tempfile::TempDir,
    _db_dir: tempfile::TempDir,
}

/// The default corpus (contacts of 健康福祉部 国保医療課, 生活衛生課 …), a store, `auth`.
pub fn fixture(auth: Auth) -> Fixture {
    let (engine_dir, engine) = crate::common::default_engine(false);
    let db_dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open_path(&db_dir.path().join("kotae.db")).unwrap());
    let logger = Arc::new(SearchLogger::start(store.clone(), 100).unwrap());
    let mut state = AppState::new(engine).with_stats(store.clone(), Some(logger.clone()));
    state.auth = Arc::new(auth);
    Fixture {
        app: app(state),
        store,
        logger,
        _engine_dir: engine_dir,
        _db_dir: db_dir,
    }
}

pub async fn call_raw(
    app: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, String) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = req
        .header("content-type", "application/json")
        .body(
            body.map(|b| Body::from(b.to_string()))
                .unwrap_or_else(Body::empty),
        )
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

pub async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (s, text) = call_raw(app, method, uri, token, body).await;
    (
        s,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
    )
}

pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn escalation(department: &str) -> Value {
    json!({"channel": "phone", "outcome": "escalated", "department": department,
           "summary": "国保の資格確認書について", "received_at": "2026-04-01T09:30:00+09:00"})
}

#[tokio::test]
async fn escalations_reach_a_department_of_the_registry() {
    let f = fixture(Auth::disabled());
    // A misspelled department is refused with the closest names.
    let (s, v) = call(
        &f.app,
        "POST",
        "/api/inquiries",
        None,
        Some(escalation("国保医寮課")),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], "unknown_department");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("健康福祉部 国保医療課"),
        "{v}"
    );
    assert_eq!(f.store.count_inquiries().unwrap(), 0);
    // The 課 alone, or with a full-width space, is the registry's department.
    for name in [
        "国保医療課",
        "健康福祉部\u{3000}国保医療課",
        "健康福祉部国保医療課",
    ] {
        let (s, rec) = call(
            &f.app,
            "POST",
            "/api/inquiries",
            None,
            Some(escalation(name)),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{name}: {rec}");
        let (_, e) = call(
            &f.app,
            "GET",
            &format!(
                "/api/escalations/{}",
                rec["escalation_id"].as_str().unwrap()
            ),
            None,
            None,
        )
        .await;
        assert_eq!(e["department"], "健康福祉部 国保医療課", "{name}");
    }
    // The list filter takes any spelling too, and a 部 lists its 課's escalations.
    for name in ["国保医療課", "健康福祉部"] {
        let (s, l) = call(
            &f.app,
            "GET",
            &format!("/api/escalations?department={}", enc(name)),
            None,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(l["escalations"].as_array().unwrap().len(), 3, "{name}");
    }
}

#[tokio::test]
async fn a_department_token_spelled_otherwise_sees_its_escalations() {
    let tok = |role, dep: Option<&str>, t: &str| TokenEntry::new(role, dep.map(Into::into), t);
    let f = fixture(Auth::new(vec![
        tok(Role::Operator, None, "operator-token-0001").unwrap(),
        // Full-width space, as typed in a config file by hand.
        tok(
            Role::Department,
            Some("健康福祉部\u{3000}国保医療課"),
            "dept-token-00000001",
        )
        .unwrap(),
        tok(Role::Department, Some("生活衛生課"), "dept-token-00000002").unwrap(),
    ]));
    let (s, _) = call(
        &f.app,
        "POST",
        "/api/inquiries",
        Some("operator-token-0001"),
        Some(escalation("国保医療課")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, mine) = call(
        &f.app,
        "GET",
        "/api/escalations",
        Some("dept-token-00000001"),
        None,
    )
    .await;
    assert_eq!(mine["escalations"].as_array().unwrap().len(), 1, "{mine}");
    let (_, theirs) = call(
        &f.app,
        "GET",
        "/api/escalations",
        Some("dept-token-00000002"),
        None,
    )
    .await;
    assert_eq!(theirs["escalations"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn departments_are_listed_with_their_levels_and_material_counts() {
    let f = fixture(Auth::disabled());
    let (s, v) = call(&f.app, "GET", "/api/departments", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let deps = v["departments"].as_array().unwrap();
    let get = |name: &str| deps.iter().find(|d| d["name"] == name).cloned();
    let ka = get("健康福祉部 国保医療課").expect("the 課 is listed");
    assert_eq!(ka["level"], "ka");
    assert_eq!(ka["parent"], "健康福祉部");
    let group = get("健康福祉部 国保医療課 国民健康保険グループ").expect("its group too");
    assert_eq!(group["level"], "kakari");
    // The 課 counts its groups' contact records and its own FAQ entries.
    let n_ka = ka["materials"].as_u64().unwrap();
    assert!(n_ka > group["materials"].as_u64().unwrap());
    let bu = get("健康福祉部").unwrap();
    assert!(bu["materials"].as_u64().unwrap() > n_ka);
    let (_, only_ka) = call(&f.app, "GET", "/api/departments?level=ka", None, None).await;
    assert!(
        only_ka["departments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["level"] == "ka")
    );
    let (s, v) = call(&f.app, "GET", "/api/departments?level=x", None, None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_level"))
    );
}

#[tokio::test]
async fn department_facet_and_filter_work_at_the_level_asked() {
    let f = fixture(Auth::disabled());
    let q = enc("国民健康保険");
    let (_, v) = call(&f.app, "GET", &format!("/api/search?q={q}"), None, None).await;
    let facet = v["facets"]["department"].as_object().unwrap();
    // Default level 課: the contact records of its groups count for the 課, one entry.
    assert!(facet.contains_key("健康福祉部 国保医療課"), "{facet:?}");
    assert!(facet.keys().all(|k| !k.ends_with("グループ")), "{facet:?}");
    let (_, v) = call(
        &f.app,
        "GET",
        &format!("/api/search?q={q}&department_level=kakari"),
        None,
        None,
    )
    .await;
    let fine = v["facets"]["department"].as_object().unwrap();
    assert!(
        fine.keys()
            .any(|k| k == "健康福祉部 国保医療課 国民健康保険グループ"),
        "{fine:?}"
    );
    // The filter on the 課 includes its groups' contact records.
    let (s, v) = call(
        &f.app,
        "GET",
        &format!(
            "/api/search?q={q}&department={}&limit=50",
            enc("国保医療課")
        ),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let hits = v["hits"].as_array().unwrap();
    assert!(hits.iter().any(|h| h["kind"] == "contact"), "{v}");
    assert!(hits.iter().any(|h| h["kind"] == "faq"), "{v}");
    assert_eq!(
        v["total"].as_u64(),
        facet.get("健康福祉部 国保医療課").and_then(Value::as_u64)
    );
    let (s, v) = call(
        &f.app,
        "GET",
        &format!("/api/search?q={q}&department={}", enc("国保医寮課")),
        None,
        None,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unknown_department"))
    );
}

#[tokio::test]
async fn an_escalation_needs_a_question_and_a_known_search() {
    let f = fixture(Auth::disabled());
    let (s, v) = call(
        &f.app,
        "POST",
        "/api/inquiries",
        None,
        Some(json!({"channel": "phone", "outcome": "escalated", "department": "国保医療課"})),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("missing_question"))
    );
    let (s, v) = call(
        &f.app,
        "POST",
        "/api/inquiries",
        None,
        Some(
            json!({"channel": "phone", "outcome": "escalated", "department": "国保医療課",
                    "query_id": "no-such-search"}),
        ),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unknown_query"))
    );
    // A search just served is known, even before the log writer's next batch.
    let (_, search) = call(
        &f.app,
        "GET",
        &format!("/api/search?q={}", enc("資格確認書")),
        None,
        None,
    )
    .await;
    let (s, v) = call(
        &f.app,
        "POST",
        "/api/inquiries",
        None,
        Some(
            json!({"channel": "phone", "outcome": "escalated", "department": "国保医療課",
                    "query_id": search["query_id"]}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    f.logger.flush();
    let (_, e) = call(
        &f.app,
        "GET",
        &format!("/api/escalations/{}", v["escalation_id"].as_str().unwrap()),
        None,
        None,
    )
    .await;
    assert_eq!(e["question"], "資格確認書");
}

#[tokio::test]
async fn categories_are_checked_against_the_configured_list() {
    let (engine_dir, engine) = crate::common::default_engine(false);
    let db_dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open_path(&db_dir.path().join("kotae.db")).unwrap());
    let state = AppState::new(engine).with_stats(store.clone(), None);
    state
        .categories
        .set(vec!["国民健康保険".into(), "ごみ・リサイクル".into()]);
    let app = app(state);
    let body = |c: &str| json!({"channel": "phone", "outcome": "transfer", "category": c});
    let (s, v) = call(
        &app,
        "POST",
        "/api/inquiries",
        None,
        Some(body("国民健康保検")),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["code"], "unknown_category");
    assert!(
        v["message"].as_str().unwrap().contains("国民健康保険"),
        "{v}"
    );
    // Full-width, spaced and old-kanji spellings are the configured category.
    let (s, v) = call(
        &app,
        "POST",
        "/api/inquiries",
        None,
        Some(body(" 國民健康保險 ")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, i) = call(
        &app,
        "GET",
        &format!("/api/inquiries/{}", v["id"].as_str().unwrap()),
        None,
        None,
    )
    .await;
    assert_eq!(i["category"], "国民健康保険");
    drop((engine_dir, db_dir));
}

#[tokio::test]
async fn the_rate_series_has_every_period_a_total_and_japanese_csv() {
    let f = fixture(Auth::disabled());
    let (_, search) = call(
        &f.app,
        "GET",
        &format!("/api/search?q={}", enc("国民健康保険 加入")),
        None,
        None,
    )
    .await;
    let mid = search["hits"][0]["id"].as_str().unwrap().to_string();
    for (at, outcome) in [
        ("2026-04-03T10:00:00+09:00", "answered"),
        ("2026-04-04T10:00:00+09:00", "answered"),
        ("2026-06-30T23:59:00+09:00", "escalated"),
    ] {
        let mut b = json!({"channel": "phone", "outcome": outcome, "received_at": at,
                           "summary": "保険料について"});
        if outcome == "answered" {
            b["material_ids"] = json!([mid]);
        } else {
            b["department"] = json!("国保医療課");
        }
        let (s, v) = call(&f.app, "POST", "/api/inquiries", None, Some(b)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, v) = call(
        &f.app,
        "GET",
        "/api/metrics/first-answer-rate?from=2026-04-01&to=2026-07-31",
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let periods: Vec<&str> = v["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["period"].as_str().unwrap())
        .collect();
    assert_eq!(periods, ["2026-04", "2026-05", "2026-06", "2026-07"]);
    assert_eq!(v["series"][1]["answered"], 0);
    assert!(v["series"][1]["rate"].is_null());
    assert_eq!(v["series"][2]["rate"], 0.0);
    assert_eq!(v["total"]["answered"], 2);
    assert_eq!(v["total"]["escalated"], 1);
    // By the escalations' departments.
    let (_, v) = call(
        &f.app,
        "GET",
        "/api/metrics/first-answer-rate?from=2026-04-01&to=2026-06-30&group_by=department&granularity=fiscal_year",
        None,
        None,
    )
    .await;
    let rows = v["series"].as_array().unwrap();
    let dep = rows
        .iter()
        .find(|r| r["group"] == "健康福祉部 国保医療課")
        .expect("the department's row");
    assert_eq!(
        (dep["escalated"].as_u64(), dep["answered"].as_u64()),
        (Some(1), Some(0))
    );
    assert!(
        rows.iter()
            .any(|r| r["group"] == "(none)" && r["answered"] == 2)
    );
    let (s, csv) = call_raw(
        &f.app,
        "GET",
        "/api/metrics/first-answer-rate?from=2026-04-01&to=2026-06-30&format=csv",
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        csv,
        "\u{feff}期間,一次回答,引継ぎ,広聴,交換,一次回答率(%)\n\
         2026-04,2,0,0,0,100.0\n2026-05,0,0,0,0,\n2026-06,0,1,0,0,0.0\n合計,2,1,0,0,66.7\n"
    );
}

#[tokio::test]
async fn the_department_sees_when_and_how_the_inquiry_came_in_in_japan_time() {
    let f = fixture(Auth::disabled());
    let mut b = escalation("国保医療課");
    b["received_at"] = json!("2026-03-31T15:30:00.250Z");
    b["channel"] = json!("fax");
    let (_, rec) = call(&f.app, "POST", "/api/inquiries", None, Some(b)).await;
    let (_, e) = call(
        &f.app,
        "GET",
        &format!(
            "/api/escalations/{}",
            rec["escalation_id"].as_str().unwrap()
        ),
        None,
        None,
    )
    .await;
    assert_eq!(e["received_at"], "2026-04-01T00:30:00+09:00");
    assert_eq!(e["channel"], "fax");
    let created = e["created_at"].as_str().unwrap();
    assert!(
        created.ends_with("+09:00") && created.len() == 25,
        "{created}"
    );
    let (_, i) = call(
        &f.app,
        "GET",
        &format!("/api/inquiries/{}", rec["id"].as_str().unwrap()),
        None,
        None,
    )
    .await;
    assert_eq!(i["received_at"], "2026-04-01T00:30:00+09:00");
}

#[tokio::test]
async fn reassign_correct_the_answer_and_call_back_with_history() {
    let f = fixture(Auth::disabled());
    let mut b = escalation("国保医療課");
    b["contact"] = json!("０９０－１２３４－５６７８");
    let (_, rec) = call(&f.app, "POST", "/api/inquiries", None, Some(b)).await;
    let id = rec["escalation_id"].as_str().unwrap().to_string();
    let post = |path: &str, body: Value| {
        let app = f.app.clone();
        let uri = format!("/api/escalations/{id}/{path}");
        async move { call(&app, "POST", &uri, None, Some(body)).await }
    };
    // To a department that does not exist: refused, nothing changes.
    let (s, v) = post("reassign", json!({"department": "生活衛星課"})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unknown_department"))
    );
    let (s, v) = post("reassign", json!({"department": "生活衛生課"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["department"], "健康福祉部 生活衛生課");
    assert_eq!(v["history"][0]["kind"], "reassigned");
    assert_eq!(v["history"][0]["before"], "健康福祉部 国保医療課");
    let (_, l) = call(
        &f.app,
        "GET",
        &format!("/api/escalations?department={}", enc("国保医療課")),
        None,
        None,
    )
    .await;
    assert!(l["escalations"].as_array().unwrap().is_empty());
    // Answer, then correct the answer: the first answer stays in the history.
    let (s, _) = post(
        "answer",
        json!({"answer": "窓口で受け付けます。", "answered_by": "生活衛生課"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = post(
        "answer",
        json!({"answer": "郵送でも受け付けます。", "answered_by": "生活衛生課"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["answer"], "郵送でも受け付けます。");
    // Answered but not called back: the contact is still there for the call-back.
    assert_eq!(v["contact"], "０９０－１２３４－５６７８");
    // Reassigning an answered escalation is a conflict.
    let (s, _) = post("reassign", json!({"department": "国保医療課"})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, v) = post("callback", json!({"called_back_by": "生活衛生課"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v.get("contact").is_none() || v["contact"].is_null(), "{v}");
    let (_, e) = call(&f.app, "GET", &format!("/api/escalations/{id}"), None, None).await;
    let kinds: Vec<&str> = e["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["reassigned", "answered", "answer_corrected", "called_back"]
    );
    assert_eq!(e["history"][2]["before"], "窓口で受け付けます。");
    assert!(e["called_back_at"].as_str().unwrap().ends_with("+09:00"));
    let (s, _) = post("callback", json!({"called_back_by": "生活衛生課"})).await;
    assert_eq!(s, StatusCode::CONFLICT);
}

#[tokio::test]
async fn inquiries_are_listed_with_filters_managers_all_operators_their_own() {
    let tok = |role, t: &str| TokenEntry::new(role, None, t).unwrap();
    let f = fixture(Auth::new(vec![
        tok(Role::Operator, "operator-token-0001"),
        tok(Role::Operator, "operator-token-0002"),
        tok(Role::Manager, "manager-token-00001"),
    ]));
    for (t, channel, at) in [
        ("operator-token-0001", "phone", "2026-04-01T10:00:00+09:00"),
        ("operator-token-0001", "fax", "2026-05-01T10:00:00+09:00"),
        ("operator-token-0002", "phone", "2026-04-02T10:00:00+09:00"),
    ] {
        let mut b = escalation("国保医療課");
        b["channel"] = json!(channel);
        b["received_at"] = json!(at);
        let (s, v) = call(&f.app, "POST", "/api/inquiries", Some(t), Some(b)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let list = |t: &'static str, q: &'static str| {
        let app = f.app.clone();
        async move {
            let (s, v) = call(&app, "GET", &format!("/api/inquiries?{q}"), Some(t), None).await;
            assert_eq!(s, StatusCode::OK, "{v}");
            v["inquiries"].as_array().unwrap().clone()
        }
    };
    assert_eq!(list("manager-token-00001", "").await.len(), 3);
    assert_eq!(list("operator-token-0001", "").await.len(), 2);
    assert_eq!(list("operator-token-0002", "").await.len(), 1);
    let april = list("manager-token-00001", "from=2026-04-01&to=2026-04-30").await;
    assert_eq!(april.len(), 2);
    // Newest first, in Japan time.
    assert_eq!(april[0]["received_at"], "2026-04-02T10:00:00+09:00");
    assert_eq!(list("manager-token-00001", "channel=fax").await.len(), 1);
    assert_eq!(
        list(
            "manager-token-00001",
            "outcome=escalated&department=%E5%81%A5%E5%BA%B7%E7%A6%8F%E7%A5%89%E9%83%A8"
        )
        .await
        .len(),
        3
    );
    assert!(
        list("manager-token-00001", "outcome=answered")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn knowledge_gaps_group_spellings_keep_filters_apart_and_count_transfers() {
    let f = fixture(Auth::disabled());
    let search = |q: &str| {
        let app = f.app.clone();
        let uri = format!("/api/search?q={q}");
        async move { call(&app, "GET", &uri, None, None).await.1 }
    };
    for q in ["ﾎｹﾞﾎｹﾞ", "ホゲホゲ", "ほげほげ"] {
        assert_eq!(search(&enc(q)).await["total"], 0, "{q}");
    }
    // Found unfiltered, nothing as a page: a filtered miss, not a gap of the corpus.
    let q = enc("国民健康保険");
    assert!(search(&q).await["total"].as_u64().unwrap() > 0);
    assert_eq!(search(&format!("{q}&kind=page")).await["total"], 0);
    // A contact record used to transfer the call counts as used.
    let contacts = search(&format!("{}&kind=contact", enc("犬の登録"))).await;
    let contact_id = contacts["hits"][0]["id"].as_str().unwrap().to_string();
    let (s, v) = call(
        &f.app,
        "POST",
        "/api/inquiries",
        None,
        Some(json!({"channel": "phone", "outcome": "transfer", "material_ids": [contact_id]})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, g) = call(&f.app, "GET", "/api/metrics/knowledge-gaps", None, None).await;
    let zero = g["zero_result_queries"].as_array().unwrap();
    assert_eq!(zero.len(), 1, "{g}");
    assert_eq!(zero[0]["count"], 3);
    let filtered = g["filtered_zero_result_queries"].as_array().unwrap();
    assert_eq!(filtered[0]["query"], "国民健康保険");
    assert_eq!(filtered[0]["filters"]["kind"], "page");
    assert!(
        g["shown_never_used"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["material_id"] != contact_id.as_str()),
        "{g}"
    );
    let (_, m) = call(
        &f.app,
        "GET",
        "/api/metrics/materials?limit=1000",
        None,
        None,
    )
    .await;
    let row = m["materials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["material_id"] == contact_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(row["used"], 1);
    // The CSV has the titles the JSON has.
    let (_, csv) = call_raw(
        &f.app,
        "GET",
        "/api/metrics/knowledge-gaps?format=csv",
        None,
        None,
    )
    .await;
    assert!(csv.starts_with("\u{feff}report,key,title,filters,count,shown,used\n"));
    let title = g["shown_never_used"][0]["title"].as_str().unwrap();
    assert!(!title.is_empty() && csv.contains(title), "{csv}");
    // A window before the searches: nothing.
    let (_, old) = call(
        &f.app,
        "GET",
        "/api/metrics/knowledge-gaps?from=2020-04-01&to=2020-04-30",
        None,
        None,
    )
    .await;
    assert!(old["zero_result_queries"].as_array().unwrap().is_empty());
    assert!(old["shown_never_used"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_annual_review_lists_each_departments_materials_to_update() {
    let f = fixture(Auth::disabled());
    // The default corpus was written in 2026 (2026-02 … 2026-04): since 2026-04-01 some are
    // stale; since 2000 none.
    let (s, v) = call(
        &f.app,
        "GET",
        "/api/metrics/annual-review?since=2026-04-02",
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["since"], "2026-04-02");
    let deps = v["departments"].as_array().unwrap();
    let kokuho = deps
        .iter()
        .find(|d| d["department"] == "健康福祉部 国保医療課")
        .expect("国保医療課 has materials to review");
    assert!(kokuho["stale"].as_u64().unwrap() > 0);
    assert!(
        kokuho["materials"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["stale"] == true && m["updated_at"].as_str().unwrap().ends_with("+09:00"))
    );
    let (_, none) = call(
        &f.app,
        "GET",
        "/api/metrics/annual-review?since=2000-01-01",
        None,
        None,
    )
    .await;
    // Nothing is stale since 2000; what is listed is past its `valid_until`.
    let listed = none["departments"].as_array().unwrap();
    assert!(
        !listed.is_empty(),
        "the default corpus has expired campaigns"
    );
    for d in listed {
        assert_eq!(d["stale"], 0, "{d}");
        assert!(
            d["materials"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["expired"] == true)
        );
    }
    // One department's list, as CSV.
    let (s, csv) = call_raw(
        &f.app,
        "GET",
        &format!(
            "/api/metrics/annual-review?since=2026-04-02&format=csv&department={}",
            enc("国保医療課")
        ),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(csv.starts_with(
        "\u{feff}部署,種別,タイトル,更新日,有効期限,未更新,期限切れ,表示,利用,URL,ID\n"
    ));
    assert!(
        csv.lines()
            .skip(1)
            .all(|l| l.starts_with("健康福祉部 国保医療課,")),
        "{csv}"
    );
    assert!(csv.lines().count() > 1);
}
