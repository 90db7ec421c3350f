//! Pinned answers through the HTTP API: managers pin, searches show the pin first.

use axum::http::StatusCode;
use kotae::http::auth::{Auth, Role, TokenEntry};
use serde_json::{Value, json};

use crate::workflow::{call, call_raw, enc, fixture};

const OPERATOR: &str = "pins-operator-token-0123456789";
const MANAGER: &str = "pins-manager-token-0123456789";

fn ids(v: &Value) -> Vec<(String, bool)> {
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["id"].as_str().unwrap().to_string(),
                h["pinned"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_pinned_material_comes_first_for_its_query_only() {
    let f = fixture(Auth::new(vec![
        TokenEntry::new(Role::Operator, None, OPERATOR).unwrap(),
        TokenEntry::new(Role::Manager, None, MANAGER).unwrap(),
    ]));
    let search = |q: &str| format!("/api/search?q={}&limit=3", enc(q));
    let (s, before) = call(&f.app, "GET", &search("国保 脱退"), Some(OPERATOR), None).await;
    assert_eq!(s, StatusCode::OK, "{before}");
    assert!(ids(&before).iter().all(|(_, p)| !p), "{before}");
    // A material the query does not rank first: the top hit of another query.
    let (_, other) = call(&f.app, "GET", &search("ごみ 出し方"), Some(OPERATOR), None).await;
    let pinned = other["hits"][0]["id"].as_str().unwrap().to_string();
    assert_ne!(before["hits"][0]["id"], pinned.as_str());

    let body = json!({"query": "国保　脱退", "material_id": pinned});
    let (s, _) = call(
        &f.app,
        "POST",
        "/api/pins",
        Some(OPERATOR),
        Some(body.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "operators do not pin");
    let (s, v) = call(
        &f.app,
        "POST",
        "/api/pins",
        Some(MANAGER),
        Some(json!({"query": "国保 脱退", "material_id": "no-such-material"})),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unknown_material"))
    );
    let (s, pin) = call(&f.app, "POST", "/api/pins", Some(MANAGER), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{pin}");
    assert_eq!(pin["status"], "shown");

    // The normalised query (spaces, width) shows the pin first, once, and keeps the limit.
    let (_, after) = call(&f.app, "GET", &search("国保  脱退"), Some(OPERATOR), None).await;
    let got = ids(&after);
    assert_eq!(got[0], (pinned.clone(), true), "{after}");
    assert_eq!(got.len(), 3, "{after}");
    assert!(
        got[1..].iter().all(|(id, p)| !p && *id != pinned),
        "{after}"
    );
    assert_eq!(got[1].0, before["hits"][0]["id"].as_str().unwrap());
    // Another query is untouched; a second page is untouched.
    let (_, again) = call(&f.app, "GET", &search("国保"), Some(OPERATOR), None).await;
    assert!(ids(&again).iter().all(|(_, p)| !p), "{again}");
    let (_, page2) = call(
        &f.app,
        "GET",
        &format!("{}&offset=3", search("国保 脱退")),
        Some(OPERATOR),
        None,
    )
    .await;
    assert!(ids(&page2).iter().all(|(_, p)| !p), "{page2}");

    let (s, list) = call(&f.app, "GET", "/api/pins", Some(MANAGER), None).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list["pins"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["pins"][0]["material_id"], pinned.as_str());
    let id = pin["id"].as_str().unwrap();
    let (s, _) = call_raw(
        &f.app,
        "DELETE",
        &format!("/api/pins/{id}"),
        Some(MANAGER),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = call(
        &f.app,
        "DELETE",
        &format!("/api/pins/{id}"),
        Some(MANAGER),
        None,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (_, gone) = call(&f.app, "GET", &search("国保 脱退"), Some(OPERATOR), None).await;
    assert_eq!(ids(&gone), ids(&before));
}
