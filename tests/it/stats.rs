//! Inquiries, escalations, search log and first-answer-rate statistics (issue 4).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use kotae::engine::Engine;
use kotae::http::auth::{Auth, Role, TokenEntry};
use kotae::http::{AppState, app};
use kotae::material::{Material, MaterialKind};
use kotae::stats::metrics::{RateQuery, first_answer_rate};
use kotae::stats::{
    Channel, Granularity, GroupBy, NewInquiry, Outcome, SearchLogger, Store, StoreOptions,
};

// ---------------------------------------------------------------------------------------
// Generated data with known answers: 24 months (FY2025 and FY2026) × 6 channels.

/// Answered inquiries in month `k` (0 = April 2025) on channel `c`.
fn answered(k: usize, c: usize) -> u64 {
    (3 + k % 3 + c / 2) as u64
}
fn escalated(k: usize, c: usize) -> u64 {
    (1 + (k + c) % 3) as u64
}
fn koucho(_k: usize, c: usize) -> u64 {
    u64::from(c == 0)
}
fn transfer(k: usize, c: usize) -> u64 {
    u64::from(k.is_multiple_of(2) && c == 1)
}

/// First day of month `k` (0 = April 2025).
fn month_start(k: usize) -> NaiveDate {
    let m0 = 3 + k as u32; // months since January 2025, 0-based
    NaiveDate::from_ymd_opt(2025 + (m0 / 12) as i32, m0 % 12 + 1, 1).unwrap()
}

fn month_end(k: usize) -> NaiveDate {
    month_start(k + 1) - Duration::days(1)
}

/// The `n`-th inquiry of a month: the first at 00:00:30 JST on the 1st (15:00:30 UTC the day
/// before), the second at 23:59:59 JST on the last day (14:59:59 UTC), the rest in between.
fn received(k: usize, n: usize) -> DateTime<Utc> {
    let tokyo = chrono_tz::Asia::Tokyo;
    let local = match n {
        0 => month_start(k).and_hms_opt(0, 0, 30).unwrap(),
        1 => month_end(k).and_hms_opt(23, 59, 59).unwrap(),
        _ => (month_start(k) + Duration::days((n * 7 % 27) as i64))
            .and_hms_opt(10, 0, 0)
            .unwrap(),
    };
    tokyo
        .from_local_datetime(&local)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn generated() -> Vec<NewInquiry> {
    let mut out = Vec::new();
    for k in 0..24 {
        let mut n = 0;
        for (c, channel) in Channel::ALL.into_iter().enumerate() {
            let counts = [
                (Outcome::Answered, answered(k, c)),
                (Outcome::Escalated, escalated(k, c)),
                (Outcome::Koucho, koucho(k, c)),
                (Outcome::Transfer, transfer(k, c)),
            ];
            for (outcome, count) in counts {
                for _ in 0..count {
                    out.push(NewInquiry {
                        query_id: None,
                        received_at: received(k, n).fixed_offset(),
                        channel,
                        category: Some(["国保", "ごみ"][n % 2].to_string()),
                        outcome,
                        material_ids: if outcome == Outcome::Answered {
                            vec!["m1".into()]
                        } else {
                            vec![]
                        },
                        department: (outcome == Outcome::Escalated).then(|| "国保医療課".into()),
                        summary: None,
                        contact: None,
                        recorded_by: None,
                    });
                    n += 1;
                }
            }
        }
    }
    out
}

fn temp_store() -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_path(&dir.path().join("kotae.db")).unwrap();
    (dir, Arc::new(store))
}

#[test]
fn first_answer_rate_per_month_and_channel_on_generated_data() {
    let (_dir, store) = temp_store();
    let data = generated();
    assert_eq!(data.len(), 1044);
    store.record_inquiries(&data).unwrap();
    assert_eq!(store.count_inquiries().unwrap(), data.len() as u64);

    let q = |granularity, group_by| RateQuery {
        from: None,
        to: None,
        granularity,
        group_by,
    };
    // Per month: 24 rows with exact counts and rates.
    let months = first_answer_rate(&store, &q(Granularity::Month, None)).unwrap();
    assert_eq!(months.len(), 24);
    for (k, row) in months.iter().enumerate() {
        let s = month_start(k);
        assert_eq!(row.period, format!("{}-{:02}", s.year(), s.month()));
        let a: u64 = (0..6).map(|c| answered(k, c)).sum();
        let e: u64 = (0..6).map(|c| escalated(k, c)).sum();
        assert_eq!((row.answered, row.escalated), (a, e), "{}", row.period);
        assert_eq!(row.koucho, 1);
        assert_eq!(row.transfer, u64::from(k.is_multiple_of(2)));
        assert_eq!(row.rate, Some(a as f64 / (a + e) as f64));
    }
    // Per fiscal year and channel.
    let fy =
        first_answer_rate(&store, &q(Granularity::FiscalYear, Some(GroupBy::Channel))).unwrap();
    assert_eq!(fy.len(), 12);
    for row in &fy {
        let year_months = if row.period == "FY2025" {
            0..12
        } else {
            12..24
        };
        assert!(row.period == "FY2025" || row.period == "FY2026");
        let c = Channel::ALL
            .iter()
            .position(|ch| Some(ch.as_str()) == row.group.as_deref())
            .unwrap();
        let a: u64 = year_months.clone().map(|k| answered(k, c)).sum();
        let e: u64 = year_months.map(|k| escalated(k, c)).sum();
        assert_eq!((row.answered, row.escalated), (a, e));
        assert_eq!(row.rate, Some(a as f64 / (a + e) as f64));
    }
    // Days: the 00:00:30 JST inquiry (15:00:30 UTC the day before) counts on the 1st.
    let days = first_answer_rate(&store, &q(Granularity::Day, None)).unwrap();
    let first = days.iter().find(|r| r.period == "2026-04-01").unwrap();
    let n_first: u64 = first.answered + first.escalated + first.koucho + first.transfer;
    let jst_day = |i: &NewInquiry| {
        i.received_at
            .with_timezone(&chrono_tz::Asia::Tokyo)
            .date_naive()
            .to_string()
    };
    let expected = data.iter().filter(|i| jst_day(i) == "2026-04-01").count() as u64;
    assert!(expected >= 1);
    assert_eq!(n_first, expected);
    // Every inquiry is counted on exactly one day.
    let total: u64 = days
        .iter()
        .map(|r| r.answered + r.escalated + r.koucho + r.transfer)
        .sum();
    assert_eq!(total, data.len() as u64);
    // Weeks: every inquiry lands in exactly one ISO week.
    let weeks = first_answer_rate(&store, &q(Granularity::Week, None)).unwrap();
    let total: u64 = weeks
        .iter()
        .map(|r| r.answered + r.escalated + r.koucho + r.transfer)
        .sum();
    assert_eq!(total, data.len() as u64);
    assert!(weeks.iter().any(|r| r.period == "2026-W14"));
    // A date range: FY2026 only.
    let fy2026 = first_answer_rate(
        &store,
        &RateQuery {
            from: NaiveDate::from_ymd_opt(2026, 4, 1),
            to: NaiveDate::from_ymd_opt(2027, 3, 31),
            granularity: Granularity::FiscalYear,
            group_by: None,
        },
    )
    .unwrap();
    assert_eq!(fy2026.len(), 1);
    assert_eq!(fy2026[0].period, "FY2026");
    // The roll-ups agree with counting the inquiries themselves, for every grouping.
    for g in [None, Some(GroupBy::Channel), Some(GroupBy::Category)] {
        let mut a = store.daily_counts(g, i64::MIN, i64::MAX).unwrap();
        let mut b = store.daily_counts_raw(g, i64::MIN, i64::MAX).unwrap();
        let key = |d: &kotae::stats::store::DailyCount| (d.jst_day, d.group.clone(), d.outcome);
        a.sort_by_key(key);
        b.sort_by_key(key);
        assert_eq!(a, b, "{g:?}");
    }
}

#[test]
fn time_zone_edges_count_in_japan_time() {
    let (_dir, store) = temp_store();
    let at = |s: &str, outcome| NewInquiry {
        query_id: None,
        received_at: DateTime::parse_from_rfc3339(s).unwrap(),
        channel: Channel::Phone,
        category: None,
        outcome,
        material_ids: vec!["m1".into()],
        department: None,
        summary: None,
        contact: None,
        recorded_by: None,
    };
    store
        .record_inquiries(&[
            // 2026-04-01 00:30 JST: FY2026, April.
            at("2026-03-31T15:30:00Z", Outcome::Answered),
            // 2026-03-31 23:59:59 JST: FY2025, March.
            at("2026-03-31T14:59:59Z", Outcome::Answered),
            // Given with an offset: 2026-04-01 08:00 JST.
            at("2026-03-31T19:00:00-04:00", Outcome::Koucho),
        ])
        .unwrap();
    let rows = |g| {
        first_answer_rate(
            &store,
            &RateQuery {
                from: None,
                to: None,
                granularity: g,
                group_by: None,
            },
        )
        .unwrap()
        .into_iter()
        .map(|r| (r.period, (r.answered, r.koucho)))
        .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(
        rows(Granularity::FiscalYear),
        BTreeMap::from([("FY2025".into(), (1, 0)), ("FY2026".into(), (1, 1))])
    );
    assert_eq!(
        rows(Granularity::Month),
        BTreeMap::from([("2026-03".into(), (1, 0)), ("2026-04".into(), (1, 1))])
    );
    assert_eq!(
        rows(Granularity::Day),
        BTreeMap::from([("2026-03-31".into(), (1, 0)), ("2026-04-01".into(), (1, 1))])
    );
    assert_eq!(
        rows(Granularity::Week),
        BTreeMap::from([("2026-W14".into(), (2, 1))])
    );
}

#[test]
fn a_batch_with_one_bad_inquiry_writes_nothing() {
    let (_dir, store) = temp_store();
    let mut data = generated();
    data.truncate(10);
    data[9].outcome = Outcome::Escalated;
    data[9].department = None;
    assert!(store.record_inquiries(&data).is_err());
    assert_eq!(store.count_inquiries().unwrap(), 0);
    assert!(
        store
            .daily_counts(None, i64::MIN, i64::MAX)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn caller_contact_details_expire() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = StoreOptions::new(dir.path().join("kotae.db"));
    opts.contact_retention_days = 3;
    let store = Store::open(&opts).unwrap();
    let inq = NewInquiry {
        query_id: None,
        received_at: Utc::now().fixed_offset(),
        channel: Channel::Phone,
        category: None,
        outcome: Outcome::Escalated,
        material_ids: vec![],
        department: Some("国保医療課".into()),
        summary: Some("保険証の再発行".into()),
        contact: Some("０９０－１２３４－５６７８".into()),
        recorded_by: None,
    };
    let id = store.record_inquiry(&inq).unwrap().escalation_id.unwrap();
    assert_eq!(store.purge_expired_contacts(Utc::now()).unwrap(), 0);
    assert!(store.escalation(&id).unwrap().contact.is_some());
    assert_eq!(
        store
            .purge_expired_contacts(Utc::now() + Duration::days(4))
            .unwrap(),
        1
    );
    let e = store.escalation(&id).unwrap();
    assert_eq!(e.contact, None);
    assert_eq!(e.status, kotae::stats::EscalationStatus::Open);
    // A second escalation: answering keeps the contact for the call-back, recording the
    // call-back deletes it.
    let id2 = store.record_inquiry(&inq).unwrap().escalation_id.unwrap();
    let e = store
        .answer_escalation(&id2, "再発行できます。", "国保医療課 山田")
        .unwrap();
    assert!(e.contact.is_some());
    let e = store.record_callback(&id2, "国保医療課 山田").unwrap();
    assert_eq!(e.contact, None);
    assert!(e.called_back_at.is_some());
}

// ---------------------------------------------------------------------------------------
// HTTP.

fn faq(source_id: &str, q: &str, a: &str) -> Material {
    Material {
        id: String::new(),
        source_id: source_id.into(),
        kind: MaterialKind::Faq,
        title: String::new(),
        question: Some(q.into()),
        answer: Some(a.into()),
        body: None,
        contact: None,
        source: "test.json".into(),
        url: None,
        department: Some("健康福祉部 国保医療課".into()),
        category: None,
        tags: vec![],
        updated_at: DateTime::parse_from_rfc3339("2026-04-01T09:00:00+09:00").unwrap(),
        valid_from: None,
        valid_until: None,
    }
}

struct Fixture {
    app: Router,
    store: Arc<Store>,
    logger: Arc<SearchLogger>,
    engine: Arc<Engine>,
    _dir: tempfile::TempDir,
}

fn fixture(auth: Auth) -> Fixture {
    let analyzer = Arc::new(kotae::analysis::Analyzer::builtin().unwrap());
    let engine = Arc::new(
        Engine::ephemeral(
            analyzer,
            vec![
                faq(
                    "1",
                    "国民健康保険に加入する手続きは？",
                    "転入の日から14日以内に届け出てください。",
                ),
                faq(
                    "2",
                    "粗大ごみの出し方は？",
                    "粗大ごみ受付センターに申し込んでください。",
                ),
            ],
        )
        .unwrap(),
    );
    // The centre's department list (the materials name only 健康福祉部 国保医療課).
    let dict = engine.data_dir().join("dictionaries");
    std::fs::create_dir_all(&dict).unwrap();
    std::fs::write(
        dict.join("departments.csv"),
        "部,課,係\n健康福祉部,生活衛生課,動物愛護グループ\n",
    )
    .unwrap();
    let (dir, store) = temp_store();
    let logger = Arc::new(SearchLogger::start(store.clone(), 100).unwrap());
    let mut state = AppState::new(engine.clone()).with_stats(store.clone(), Some(logger.clone()));
    state.auth = Arc::new(auth);
    Fixture {
        app: app(state),
        store,
        logger,
        engine,
        _dir: dir,
    }
}

async fn call_raw(
    app: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<String>,
) -> (StatusCode, String) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = req
        .header("content-type", "application/json")
        .body(body.map(Body::from).unwrap_or_else(Body::empty))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (s, text) = call_raw(app, method, uri, token, body.map(|b| b.to_string())).await;
    (
        s,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
    )
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn escalation_flows_to_the_department_and_back_into_the_corpus() {
    let f = fixture(Auth::disabled());
    // A search that finds nothing, then an escalation referring to it.
    let (s, search) = call(
        &f.app,
        "GET",
        &format!(
            "/api/search?q={}",
            enc("犬の登録 ０９０－１２３４－５６７８")
        ),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(search["total"], 0);
    let query_id = search["query_id"].as_str().unwrap().to_string();
    f.logger.flush();
    // The logged query is redacted.
    assert_eq!(
        f.store.search_query(&query_id).unwrap().as_deref(),
        Some("犬の登録 [電話番号]")
    );

    let (s, rec) = call(
        &f.app,
        "POST",
        "/api/inquiries",
        None,
        Some(json!({
            "query_id": query_id,
            "received_at": "2026-04-01T09:30:00+09:00",
            "channel": "phone",
            "category": "生活環境",
            "outcome": "escalated",
            "department": "生活衛生課",
            "summary": "犬の登録はどこでできるか。大阪市北区中之島１丁目３番２０号在住",
            "contact": "０９０－１２３４－５６７８",
        })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{rec}");
    let esc_id = rec["escalation_id"].as_str().unwrap().to_string();

    let (_, list) = call(
        &f.app,
        "GET",
        &format!(
            "/api/escalations?department={}&status=open",
            enc("生活衛生課")
        ),
        None,
        None,
    )
    .await;
    let e = &list["escalations"][0];
    assert_eq!(e["id"], esc_id.as_str());
    assert_eq!(
        e["question"],
        "犬の登録はどこでできるか。大阪市北区中之島[番地]在住"
    );
    assert_eq!(e["contact"], "０９０－１２３４－５６７８");

    // Promote before the answer: 409.
    let (s, err) = call(
        &f.app,
        "POST",
        &format!("/api/escalations/{esc_id}/promote"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(err["code"], "conflict");

    let (s, answered) = call(
        &f.app,
        "POST",
        &format!("/api/escalations/{esc_id}/answer"),
        None,
        Some(json!({"answer": "犬の登録は区役所の保健福祉課で受け付けています。", "answered_by": "生活衛生課 佐藤"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{answered}");
    assert_eq!(answered["status"], "answered");
    // Kept for the call-back; promotion (below) deletes it.
    assert_eq!(
        answered["contact"], "０９０－１２３４－５６７８",
        "{answered}"
    );

    // Promotion writes a draft: nothing is published yet.
    let (s, draft) = call(
        &f.app,
        "POST",
        &format!("/api/escalations/{esc_id}/promote"),
        None,
        Some(json!({"question": "犬の登録はどこでできますか？"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{draft}");
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["flags"], json!([]), "{draft}");
    let did = draft["id"].as_str().unwrap().to_string();
    let (_, pending) = call(&f.app, "GET", "/api/promotions", None, None).await;
    assert_eq!(pending["drafts"][0]["id"], did.as_str(), "{pending}");
    let (_, e) = call(
        &f.app,
        "GET",
        &format!("/api/escalations/{esc_id}"),
        None,
        None,
    )
    .await;
    assert_eq!(e["status"], "answered", "{e}");
    assert_eq!(e["promoted_material_id"], Value::Null);
    let (s, promoted) = call(
        &f.app,
        "POST",
        &format!("/api/promotions/{did}/publish"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{promoted}");
    assert_eq!(promoted["draft"]["status"], "published");
    let mid = promoted["material"]["id"].as_str().unwrap().to_string();
    assert_eq!(promoted["draft"]["material_id"], mid.as_str());
    assert_eq!(promoted["escalation"]["status"], "closed");
    assert_eq!(promoted["escalation"]["promoted_material_id"], mid.as_str());
    let m = f.engine.get(&mid).unwrap();
    assert_eq!(m.kind, MaterialKind::Faq);
    assert_eq!(m.department.as_deref(), Some("健康福祉部 生活衛生課"));
    assert!(f.engine.corpus().root().join("promoted.jsonl").exists());
    // Searchable at once.
    let (_, found) = call(
        &f.app,
        "GET",
        &format!("/api/search?q={}", enc("犬の登録")),
        None,
        None,
    )
    .await;
    assert_eq!(found["hits"][0]["id"], mid.as_str());
    // Twice: 409; closing a closed one: 409.
    let (s, _) = call(
        &f.app,
        "POST",
        &format!("/api/escalations/{esc_id}/promote"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = call(
        &f.app,
        "POST",
        &format!("/api/escalations/{esc_id}/close"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);

    // Knowledge gaps and escalation metrics.
    f.logger.flush();
    let (_, gaps) = call(&f.app, "GET", "/api/metrics/knowledge-gaps", None, None).await;
    assert_eq!(
        gaps["zero_result_queries"][0]["query"],
        "犬の登録 [電話番号]"
    );
    assert_eq!(gaps["escalated_queries"][0]["query"], "犬の登録 [電話番号]");
    assert_eq!(gaps["escalated_queries"][0]["count"], 1);
    // The promoted material was shown once and never used to answer.
    let unused = gaps["shown_never_used"].as_array().unwrap();
    let row = unused
        .iter()
        .find(|r| r["material_id"] == mid.as_str())
        .unwrap();
    assert_eq!(
        (row["shown"].as_u64(), row["used"].as_u64()),
        (Some(1), Some(0))
    );

    let (_, csv) = call_raw(
        &f.app,
        "GET",
        "/api/metrics/knowledge-gaps?format=csv",
        None,
        None,
    )
    .await;
    assert!(
        csv.contains("\nzero_result,犬の登録 [電話番号],,,1,,\n"),
        "{csv}"
    );
    assert!(
        csv.contains("\nescalated,犬の登録 [電話番号],,,1,,\n"),
        "{csv}"
    );

    let (_, em) = call(&f.app, "GET", "/api/metrics/escalations", None, None).await;
    let d = &em["departments"][0];
    assert_eq!(d["department"], "健康福祉部 生活衛生課");
    assert_eq!(
        (d["count"].as_u64(), d["open"].as_u64()),
        (Some(1), Some(0))
    );
    assert!(d["median_hours_to_answer"].as_f64().unwrap() >= 0.0);
}

#[tokio::test]
async fn answered_inquiries_count_as_material_use_and_metrics_have_csv() {
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
    for (channel, outcome) in [
        ("phone", "answered"),
        ("email", "answered"),
        ("phone", "koucho"),
        ("phone", "transfer"),
    ] {
        let (s, v) = call(
            &f.app,
            "POST",
            "/api/inquiries",
            None,
            Some(json!({
                "query_id": search["query_id"],
                "received_at": "2026-03-31T15:30:00Z",
                "channel": channel,
                "outcome": outcome,
                "material_ids": if outcome == "answered" { vec![mid.clone()] } else { vec![] },
            })),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    f.logger.flush();
    let (_, mats) = call(&f.app, "GET", "/api/metrics/materials", None, None).await;
    let row = &mats["materials"][0];
    assert_eq!(row["material_id"], mid.as_str());
    assert_eq!(
        (row["shown"].as_u64(), row["used"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(row["title"], "国民健康保険に加入する手続きは？");

    let (_, rate) = call(
        &f.app,
        "GET",
        "/api/metrics/first-answer-rate?granularity=fiscal_year&group_by=channel",
        None,
        None,
    )
    .await;
    assert_eq!(
        rate["series"],
        json!([
            {"period": "FY2026", "group": "email", "answered": 1, "escalated": 0, "koucho": 0, "transfer": 0, "rate": 1.0},
            {"period": "FY2026", "group": "phone", "answered": 1, "escalated": 0, "koucho": 1, "transfer": 1, "rate": 1.0},
        ])
    );
    let (s, csv) = call_raw(
        &f.app,
        "GET",
        "/api/metrics/first-answer-rate?granularity=month&format=csv&lang=en",
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        csv,
        "\u{feff}period,answered,escalated,koucho,transfer,rate_percent\n\
         2026-04,2,0,1,1,100.0\ntotal,2,0,1,1,100.0\n"
    );
    let (s, err) = call(
        &f.app,
        "GET",
        "/api/metrics/first-answer-rate?granularity=year",
        None,
        None,
    )
    .await;
    assert_eq!(
        (s, err["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_granularity"))
    );
    let (s, err) = call(
        &f.app,
        "GET",
        "/api/metrics/first-answer-rate?from=2026-04-01T00:00:00Z",
        None,
        None,
    )
    .await;
    assert_eq!(
        (s, err["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_date"))
    );
}

#[tokio::test]
async fn bad_inquiries_are_refused_with_a_code_and_nothing_is_written() {
    let f = fixture(Auth::disabled());
    let long = "あ".repeat(kotae::stats::MAX_SUMMARY_CHARS + 1);
    let cases = [
        (
            json!({"channel": "phone", "outcome": "solved"}),
            "bad_outcome",
        ),
        (
            json!({"channel": "phone", "outcome": "escalated"}),
            "missing_department",
        ),
        (
            json!({"channel": "phone", "outcome": "escalated", "department": "  "}),
            "missing_department",
        ),
        (
            json!({"channel": "phone", "outcome": "answered"}),
            "missing_material",
        ),
        (
            json!({"channel": "phone", "outcome": "answered", "material_ids": ["0000000000000000"]}),
            "unknown_material",
        ),
        (
            json!({"channel": "phone", "outcome": "koucho", "summary": long}),
            "summary_too_long",
        ),
        (
            json!({"channel": "telegram", "outcome": "koucho"}),
            "bad_channel",
        ),
        (
            json!({"channel": "phone", "outcome": "koucho", "received_at": "2026/04/01"}),
            "bad_received_at",
        ),
        (
            json!({"channel": "phone", "outcome": "koucho", "colour": "red"}),
            "bad_json",
        ),
        (
            json!({"channel": "phone", "outcome": "koucho", "contact": "090-1234-5678"}),
            "unexpected_contact",
        ),
    ];
    for (body, code) in cases {
        let (s, v) = call(&f.app, "POST", "/api/inquiries", None, Some(body.clone())).await;
        assert!(s.is_client_error(), "{body}: {s}");
        assert_eq!(v["code"], code, "{body}: {v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (s, v) = call_raw(&f.app, "POST", "/api/inquiries", None, Some("{".into())).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v.contains("bad_json"));
    assert_eq!(f.store.count_inquiries().unwrap(), 0);
    assert!(f.store.escalations(None, None, 10).unwrap().is_empty());
    // Escalation endpoints.
    let (s, v) = call(
        &f.app,
        "POST",
        "/api/escalations/nope/answer",
        None,
        Some(json!({"answer": "x", "answered_by": "y"})),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, v) = call(&f.app, "GET", "/api/escalations?status=pending", None, None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_status"))
    );
}

#[tokio::test]
async fn roles_limit_what_a_token_may_do() {
    let tok = |role, dept: Option<&str>, t: &str| {
        TokenEntry::new(role, dept.map(str::to_string), t).unwrap()
    };
    let f = fixture(Auth::new(vec![
        tok(Role::Operator, None, "operator-token-0001"),
        tok(Role::Manager, None, "manager-token-00001"),
        tok(Role::Department, Some("生活衛生課"), "dept-token-00000001"),
        tok(Role::Department, Some("国保医療課"), "dept-token-00000002"),
    ]));
    let (s, v) = call(&f.app, "GET", "/api/metrics/escalations", None, None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (s, _) = call(
        &f.app,
        "GET",
        "/api/metrics/escalations",
        Some("wrong-token-0000000"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = call(
        &f.app,
        "GET",
        "/api/metrics/escalations",
        Some("operator-token-0001"),
        None,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (s, _) = call(
        &f.app,
        "GET",
        "/api/metrics/escalations",
        Some("manager-token-00001"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(&f.app, "GET", "/healthz", None, None).await;
    assert_eq!(s, StatusCode::OK);

    let (s, rec) = call(
        &f.app,
        "POST",
        "/api/inquiries",
        Some("operator-token-0001"),
        Some(json!({"channel": "web", "outcome": "escalated", "department": "生活衛生課", "summary": "犬の登録"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let esc = rec["escalation_id"].as_str().unwrap();
    // A department sees and answers only its own escalations.
    let (_, mine) = call(
        &f.app,
        "GET",
        "/api/escalations",
        Some("dept-token-00000001"),
        None,
    )
    .await;
    assert_eq!(mine["escalations"].as_array().unwrap().len(), 1);
    let (_, theirs) = call(
        &f.app,
        "GET",
        "/api/escalations",
        Some("dept-token-00000002"),
        None,
    )
    .await;
    assert_eq!(theirs["escalations"].as_array().unwrap().len(), 0);
    let answer = json!({"answer": "区役所で受け付けています。", "answered_by": "担当"});
    let (s, _) = call(
        &f.app,
        "POST",
        &format!("/api/escalations/{esc}/answer"),
        Some("dept-token-00000002"),
        Some(answer.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Operators do not answer for departments, departments do not promote.
    let (s, _) = call(
        &f.app,
        "POST",
        &format!("/api/escalations/{esc}/answer"),
        Some("operator-token-0001"),
        Some(answer.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = call(
        &f.app,
        "POST",
        &format!("/api/escalations/{esc}/answer"),
        Some("dept-token-00000001"),
        Some(answer),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(
        &f.app,
        "POST",
        &format!("/api/escalations/{esc}/promote"),
        Some("dept-token-00000001"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = call(
        &f.app,
        "POST",
        &format!("/api/escalations/{esc}/promote"),
        Some("manager-token-00001"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    // Drafts are for managers to review.
    for token in ["dept-token-00000001", "operator-token-0001"] {
        let (s, _) = call(&f.app, "GET", "/api/promotions", Some(token), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{token}");
    }
    let (s, _) = call(
        &f.app,
        "GET",
        "/api/promotions",
        Some("manager-token-00001"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

#[test]
fn a_full_search_log_queue_drops_and_counts_instead_of_blocking() {
    let (_dir, store) = temp_store();
    // Hold the write lock from another connection so that the writer thread is stuck on
    // its first batch while the queue fills up.
    let blocker = rusqlite::Connection::open(store.path()).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let logger = SearchLogger::start(store.clone(), 4).unwrap();
    let rec = |i: usize| kotae::stats::SearchRecord {
        query_id: format!("q{i}"),
        query: "国保".into(),
        hits: 1,
        took_ms: 0.1,
        top_ids: vec!["m1".into()],
        at: Utc::now(),
        filters: None,
    };
    for i in 0..100 {
        logger.log(rec(i));
    }
    assert!(logger.dropped() > 0);
    assert!(logger.dropped() <= 100);
    blocker.execute_batch("COMMIT").unwrap();
    logger.flush();
    assert_eq!(
        store.count_searches().unwrap() + logger.dropped() + logger.failed(),
        100
    );
}

// ---------------------------------------------------------------------------------------
// Durability: SIGKILL the server after it answered, restart, read back.

fn http(port: u16, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split(' ').nth(1)?.parse().ok()?;
    let body = out.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(data_dir: &std::path::Path, port: u16) -> Server {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kotae"))
        .args(["--data-dir"])
        .arg(data_dir)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env_remove("KOTAE_TOKENS")
        .env_remove("KOTAE_CONFIG")
        .env("KOTAE_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    // Wait until it answers (bounded: about a minute).
    for _ in 0..600 {
        if http(port, "GET", "/healthz", "").is_some_and(|(s, _)| s == 200) {
            return server;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the server did not start");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn inquiries_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start_server(dir.path(), port);
    let mut ids = Vec::new();
    for i in 0..20 {
        let body = json!({
            "channel": "phone",
            "outcome": if i % 2 == 0 { "koucho" } else { "escalated" },
            "department": "国保医療課",
            "summary": format!("問い合わせ{i} 06-6941-0351"),
            "received_at": "2026-04-01T09:00:00+09:00",
        })
        .to_string();
        let (s, b) = http(port, "POST", "/api/inquiries", &body).unwrap();
        assert_eq!(s, 201, "{b}");
        let v: Value = serde_json::from_str(&b).unwrap();
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    // SIGKILL: no shutdown, no checkpoint.
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    drop(server);

    let server = start_server(dir.path(), port);
    for id in &ids {
        let (s, b) = http(port, "GET", &format!("/api/inquiries/{id}"), "").unwrap();
        assert_eq!(s, 200, "{b}");
        let v: Value = serde_json::from_str(&b).unwrap();
        assert!(
            v["summary"].as_str().unwrap().ends_with("[電話番号]"),
            "{v}"
        );
    }
    let (_, b) = http(
        port,
        "GET",
        "/api/metrics/first-answer-rate?granularity=day",
        "",
    )
    .unwrap();
    let v: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(v["series"][0]["koucho"], 10);
    assert_eq!(v["series"][0]["escalated"], 10);
    drop(server);
}

#[test]
fn concurrent_writers_share_commits_and_lose_nothing() {
    let (_dir, store) = temp_store();
    let data = generated();
    std::thread::scope(|s| {
        for t in 0..16 {
            let (store, data) = (&store, &data);
            s.spawn(move || {
                for inq in data.iter().skip(t).step_by(16).take(40) {
                    store.record_inquiry(inq).unwrap();
                }
            });
        }
    });
    assert_eq!(store.count_inquiries().unwrap(), 16 * 40);
    let mut a = store.daily_counts(None, i64::MIN, i64::MAX).unwrap();
    let mut b = store.daily_counts_raw(None, i64::MIN, i64::MAX).unwrap();
    a.sort_by_key(|d| (d.jst_day, d.outcome));
    b.sort_by_key(|d| (d.jst_day, d.outcome));
    assert_eq!(a, b);
}

/// `POST /api/inquiries` with an `Idempotency-Key`: as a client that retries.
async fn post_with_key(
    app: &Router,
    key: &str,
    body: &str,
) -> (StatusCode, Option<String>, String) {
    let req = Request::builder()
        .method("POST")
        .uri("/api/inquiries")
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let replayed = resp
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, replayed, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn an_idempotency_key_answers_a_retry_with_the_first_inquiry() {
    let f = fixture(Auth::disabled());
    let body = json!({
        "channel": "phone", "outcome": "escalated", "department": "国保医療課",
        "summary": "保険証の再発行", "received_at": "2026-04-01T09:00:00+09:00",
    })
    .to_string();
    let (s1, r1, b1) = post_with_key(&f.app, "3f2a-retry-1", &body).await;
    assert_eq!((s1, r1.as_deref()), (StatusCode::CREATED, None), "{b1}");
    // The same request again (and again, concurrently): the same ids, nothing new counted.
    let (a, b) = tokio::join!(
        post_with_key(&f.app, "3f2a-retry-1", &body),
        post_with_key(&f.app, "3f2a-retry-1", &body)
    );
    for (s, r, text) in [a, b] {
        assert_eq!((s, r.as_deref()), (StatusCode::CREATED, Some("true")));
        assert_eq!(text, b1);
    }
    assert_eq!(f.store.count_inquiries().unwrap(), 1);
    assert_eq!(f.store.escalations(None, None, 10).unwrap().len(), 1);
    // The same key with another body is refused; a new key records a new inquiry.
    let other = body.replace("再発行", "限度額");
    let (s, _, text) = post_with_key(&f.app, "3f2a-retry-1", &other).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert!(text.contains("\"idempotency_key_reused\""), "{text}");
    let (s, r, text) = post_with_key(&f.app, "3f2a-retry-2", &other).await;
    assert_eq!((s, r), (StatusCode::CREATED, None), "{text}");
    assert_ne!(text, b1);
    assert_eq!(f.store.count_inquiries().unwrap(), 2);
    // A malformed key is a 400 with its code, and records nothing.
    for bad in ["", "with space", &"k".repeat(256)] {
        let (s, _, text) = post_with_key(&f.app, bad, &body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad:?}: {text}");
        assert!(text.contains("\"bad_idempotency_key\""), "{text}");
    }
    assert_eq!(f.store.count_inquiries().unwrap(), 2);
    // Keys are forgotten after KEY_RETENTION_HOURS: the purge deletes them, and the same
    // key then records a new inquiry.
    let later = chrono::Utc::now()
        + chrono::Duration::hours(kotae::stats::idempotency::KEY_RETENTION_HOURS + 1);
    f.store.purge(later).unwrap();
    let (s, r, _) = post_with_key(&f.app, "3f2a-retry-1", &body).await;
    assert_eq!((s, r), (StatusCode::CREATED, None));
    assert_eq!(f.store.count_inquiries().unwrap(), 3);
}
