//! `GET /api/suggest` over the default corpus: words by their reading, titles, answered
//! queries first, and its errors.

use axum::http::StatusCode;
use kotae::http::auth::Auth;
use serde_json::{Value, json};

use crate::workflow::{call, enc, fixture};

fn texts(v: &Value) -> Vec<(String, String)> {
    v["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().unwrap().to_string(),
                s["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn suggestions_continue_what_is_typed_answered_queries_first() {
    let f = fixture(Auth::disabled());
    // An operator searched and answered an inquiry with the first hit.
    let q = "国民健康保険 加入";
    let (_, search) = call(
        &f.app,
        "GET",
        &format!("/api/search?q={}", enc(q)),
        None,
        None,
    )
    .await;
    let mid = search["hits"][0]["id"].as_str().unwrap().to_string();
    let (s, v) = call(
        &f.app,
        "POST",
        "/api/inquiries",
        None,
        Some(json!({
            "query_id": search["query_id"],
            "received_at": "2026-03-31T15:30:00Z",
            "channel": "phone",
            "outcome": "answered",
            "material_ids": [mid],
        })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    f.logger.flush();

    let (s, v) = call(
        &f.app,
        "GET",
        &format!("/api/suggest?q={}&limit=5", enc("国民")),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let got = texts(&v);
    assert_eq!(got[0], ("query".into(), q.into()), "{v}");
    assert!(got.len() <= 5 && got.len() > 1, "{v}");
    assert!(got.iter().all(|(_, t)| t.starts_with("国民")), "{v}");
    let title = v["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "title");
    assert!(
        title.is_none_or(|t| t["material_id"].is_string()),
        "a title names its material: {v}"
    );

    // Typed in kana before conversion: the kanji words by their reading.
    let (_, v) = call(
        &f.app,
        "GET",
        &format!("/api/suggest?q={}", enc("こくみんけ")),
        None,
        None,
    )
    .await;
    let got = texts(&v);
    assert!(
        got.iter()
            .any(|(k, t)| k == "term" && t.starts_with("国民健康")),
        "{v}"
    );
}

#[tokio::test]
async fn suggest_refuses_bad_parameters() {
    let f = fixture(Auth::disabled());
    for (uri, code) in [
        ("/api/suggest", "empty_query"),
        ("/api/suggest?q=%20", "empty_query"),
        ("/api/suggest?q=a&limit=0", "bad_limit"),
        ("/api/suggest?q=a&limit=21", "bad_limit"),
        ("/api/suggest?q=a&limit=x", "bad_limit"),
    ] {
        let (s, v) = call(&f.app, "GET", uri, None, None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}: {v}");
        assert_eq!(v["code"], code, "{uri}: {v}");
    }
}
