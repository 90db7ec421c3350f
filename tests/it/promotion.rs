//! Promotion as a review, through the HTTP API: a draft (redacted, flagged), edited, then
//! published and searchable; a flagged draft needs the reviewer's acknowledgement; a
//! discarded draft publishes nothing; staff fields refuse personal data.

use kotae::http::auth::Auth;
use serde_json::{Value, json};

use crate::workflow::{call, enc, fixture};
use axum::http::StatusCode;

/// Records an escalation with `summary` and answers it with `answer`; returns its id.
async fn answered(app: &axum::Router, summary: &str, answer: &str) -> String {
    let (s, rec) = call(
        app,
        "POST",
        "/api/inquiries",
        None,
        Some(
            json!({"channel": "phone", "outcome": "escalated", "department": "国保医療課",
                    "summary": summary, "received_at": "2026-04-01T09:30:00+09:00"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{rec}");
    let id = rec["escalation_id"].as_str().unwrap().to_string();
    let (s, v) = call(
        app,
        "POST",
        &format!("/api/escalations/{id}/answer"),
        None,
        Some(json!({"answer": answer, "answered_by": "国保係 佐藤"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    id
}

fn kinds(draft: &Value) -> Vec<(String, String)> {
    draft["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_string(),
                f["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_promotion_is_a_draft_edited_then_published() {
    let f = fixture(Auth::disabled());
    let esc = answered(
        &f.app,
        "山田太郎と申します。資格確認書の再交付はどこでできますか",
        "区役所の窓口で再交付します。",
    )
    .await;
    let (s, d) = call(
        &f.app,
        "POST",
        &format!("/api/escalations/{esc}/promote"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    // Prefilled from the redacted summary, flagged where the redactor replaced a name.
    assert!(
        d["question"]
            .as_str()
            .unwrap()
            .starts_with("[氏名]と申します"),
        "{d}"
    );
    assert_eq!(kinds(&d), [("question".into(), "redacted".into())]);
    let id = d["id"].as_str().unwrap().to_string();
    // A second draft of the same escalation is a conflict naming the first.
    let (s, v) = call(
        &f.app,
        "POST",
        &format!("/api/escalations/{esc}/promote"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(v["message"].as_str().unwrap().contains(&id), "{v}");
    // Publishing as flagged needs an acknowledgement; nothing is written meanwhile.
    let (s, v) = call(
        &f.app,
        "POST",
        &format!("/api/promotions/{id}/publish"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("draft_flagged"))
    );
    // The reviewer rewords the question; an edit is redacted and flagged again.
    let (s, v) = call(
        &f.app,
        "PUT",
        &format!("/api/promotions/{id}"),
        None,
        Some(json!({"answer": "区役所の窓口で再交付します。係の06-6208-9999へ"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["answer"], "区役所の窓口で再交付します。係の[電話番号]へ");
    let (s, v) = call(
        &f.app,
        "PUT",
        &format!("/api/promotions/{id}"),
        None,
        Some(json!({"question": "資格確認書の再交付はどこでできますか？",
                    "answer": "区役所の窓口で再交付します。"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["flags"], json!([]));
    let (s, p) = call(
        &f.app,
        "POST",
        &format!("/api/promotions/{id}/publish"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let mid = p["material"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        p["material"]["question"],
        "資格確認書の再交付はどこでできますか？"
    );
    assert_eq!(p["draft"]["reviewed_by"], "admin");
    assert_eq!(p["escalation"]["promoted_material_id"], mid.as_str());
    let (_, found) = call(
        &f.app,
        "GET",
        &format!("/api/search?q={}", enc("資格確認書 再交付")),
        None,
        None,
    )
    .await;
    assert_eq!(found["hits"][0]["id"], mid.as_str(), "{found}");
    // A published draft is history: no edit, no second publish.
    let (s, _) = call(
        &f.app,
        "PUT",
        &format!("/api/promotions/{id}"),
        None,
        Some(json!({"question": "x"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (_, l) = call(
        &f.app,
        "GET",
        "/api/promotions?status=published",
        None,
        None,
    )
    .await;
    assert_eq!(l["drafts"][0]["id"], id.as_str());
    let (_, l) = call(&f.app, "GET", "/api/promotions", None, None).await;
    assert_eq!(l["drafts"], json!([]));
}

#[tokio::test]
async fn a_flagged_draft_is_published_only_when_acknowledged() {
    let f = fixture(Auth::disabled());
    // A name in hiragana and a number in a form no redaction rule knows.
    let esc = answered(
        &f.app,
        "やまだはなこといいます。受付 12 34 56 78 の件",
        "窓口で確認します。",
    )
    .await;
    let (_, d) = call(
        &f.app,
        "POST",
        &format!("/api/escalations/{esc}/promote"),
        None,
        None,
    )
    .await;
    let mut k = kinds(&d);
    k.sort();
    assert_eq!(
        k,
        [
            ("question".into(), "digits".into()),
            ("question".into(), "self_introduction".into())
        ],
        "{d}"
    );
    let id = d["id"].as_str().unwrap();
    let (s, p) = call(
        &f.app,
        "POST",
        &format!("/api/promotions/{id}/publish"),
        None,
        Some(json!({"acknowledge_flags": true})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{p}");
}

#[tokio::test]
async fn a_discarded_draft_publishes_nothing_and_can_be_redrafted() {
    let f = fixture(Auth::disabled());
    let esc = answered(&f.app, "資格確認書について", "窓口で確認します。").await;
    let promote = || {
        let app = f.app.clone();
        let uri = format!("/api/escalations/{esc}/promote");
        async move { call(&app, "POST", &uri, None, None).await }
    };
    let (_, d) = promote().await;
    let id = d["id"].as_str().unwrap();
    let (s, v) = call(
        &f.app,
        "POST",
        &format!("/api/promotions/{id}/discard"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("discarded"))
    );
    let (_, e) = call(
        &f.app,
        "GET",
        &format!("/api/escalations/{esc}"),
        None,
        None,
    )
    .await;
    assert_eq!(e["promoted_material_id"], Value::Null);
    assert_eq!(e["status"], "answered");
    let (s, _) = promote().await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = call(&f.app, "GET", "/api/promotions/nope", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn staff_fields_refuse_personal_data() {
    let f = fixture(Auth::disabled());
    let (_, rec) = call(
        &f.app,
        "POST",
        "/api/inquiries",
        None,
        Some(
            json!({"channel": "phone", "outcome": "escalated", "department": "国保医療課",
                    "summary": "資格確認書について", "received_at": "2026-04-01T09:30:00+09:00"}),
        ),
    )
    .await;
    let id = rec["escalation_id"].as_str().unwrap();
    for by in ["佐藤 090-1234-5678", "sato@example.lg.jp"] {
        let (s, v) = call(
            &f.app,
            "POST",
            &format!("/api/escalations/{id}/answer"),
            None,
            Some(json!({"answer": "窓口で。", "answered_by": by})),
        )
        .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("personal_data")),
            "{by}: {v}"
        );
        assert!(!v["message"].as_str().unwrap().contains("1234"), "{v}");
    }
    let (_, e) = call(&f.app, "GET", &format!("/api/escalations/{id}"), None, None).await;
    assert_eq!(e["status"], "open", "nothing was written: {e}");
}

#[tokio::test]
async fn a_published_promotion_is_edited_then_retired() {
    let f = fixture(Auth::disabled());
    let esc = answered(
        &f.app,
        "限度額適用認定証はどこで申請できますか",
        "区役所の保険年金課で申請できます。",
    )
    .await;
    let (s, d) = call(
        &f.app,
        "POST",
        &format!("/api/escalations/{esc}/promote"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let draft = d["id"].as_str().unwrap().to_string();
    let (s, p) = call(
        &f.app,
        "POST",
        &format!("/api/promotions/{draft}/publish"),
        None,
        Some(json!({"acknowledge_flags": true})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let mid = p["material"]["id"].as_str().unwrap().to_string();
    let top = |v: &Value| v["hits"][0]["id"].as_str().map(str::to_string);
    // Edited after publication: the corrected answer is what search finds.
    let (s, v) = call(
        &f.app,
        "PUT",
        &format!("/api/materials/{}", enc(&mid)),
        None,
        Some(json!({"kind": "faq", "question": "限度額適用認定証はどこで申請できますか？",
                    "answer": "マイナ保険証をお持ちの方は申請不要です。お持ちでない方は区役所で申請できます。"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, found) = call(
        &f.app,
        "GET",
        &format!("/api/search?q={}", enc("限度額適用認定証 申請不要")),
        None,
        None,
    )
    .await;
    assert_eq!(top(&found).as_deref(), Some(mid.as_str()), "{found}");
    // Retired: no longer searchable.
    let (s, v) = call(
        &f.app,
        "DELETE",
        &format!("/api/materials/{}", enc(&mid)),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["retired"], true);
    let (_, found) = call(
        &f.app,
        "GET",
        &format!("/api/search?q={}", enc("限度額適用認定証 申請不要")),
        None,
        None,
    )
    .await;
    let ids: Vec<&str> = found["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["id"].as_str())
        .collect();
    assert!(!ids.contains(&mid.as_str()), "{found}");
}
