//! `GET /api/openapi.json` lists every route the router declares and every error code.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use kotae::http::{ApiCode, AppState, app};

use crate::common;

/// (method, path) of every `.route("…", get(…).post(…))` in the router's source files.
fn declared_routes() -> Vec<(String, String)> {
    let re = regex::Regex::new(r#"\.route\(\s*"([^"]+)",(.*)$"#).unwrap();
    let method = regex::Regex::new(r"\b(get|post|put|patch|delete)\(").unwrap();
    let mut out = Vec::new();
    for dir in ["src/http", "src/web"] {
        for e in std::fs::read_dir(common::repo().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            for line in text.lines().filter(|l| l.contains(".route(\"")) {
                let c = re
                    .captures(line)
                    .unwrap_or_else(|| panic!("unparsed route line in {}: {line}", p.display()));
                for m in method.captures_iter(&c[2]) {
                    out.push((m[1].to_uppercase(), c[1].to_string()));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[tokio::test]
async fn the_spec_has_every_route_and_every_error_code() {
    let (_dir, engine) = common::default_engine(false);
    let resp = app(AppState::new(engine))
        .oneshot(
            Request::get("/api/openapi.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let spec: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));

    let routes = declared_routes();
    assert!(routes.len() >= 30, "route scan found only {routes:?}");
    let mut in_spec = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            in_spec.push((method.to_uppercase(), path.clone()));
        }
    }
    in_spec.sort();
    assert_eq!(in_spec, routes, "spec (left) and router (right) differ");

    let codes = spec["components"]["schemas"]["ApiError"]["properties"]["code"]["enum"]
        .as_array()
        .unwrap();
    assert_eq!(codes.len(), ApiCode::ALL.len());
    for c in ApiCode::ALL {
        assert!(
            codes.iter().any(|v| v == c.as_str()),
            "{} missing",
            c.as_str()
        );
    }
}
