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

/// Checks `v` against the JSON Schema `schema` of `spec` (the subset utoipa writes: `$ref`
/// to `#/components/schemas/…`, `type` (one or a list), `properties`, `required`, `items`,
/// `enum`, `oneOf`/`anyOf`/`allOf`, `additionalProperties`, `format: date-time`), and that
/// every member of an object is declared (undocumented fields fail). Returns the first
/// mismatch as `path: reason`.
fn check(spec: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        let target = &spec["components"]["schemas"][name];
        if target.is_null() {
            return Err(format!("{at}: dangling $ref {r}"));
        }
        return check(spec, target, v, at);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = schema[key].as_array() {
            let errs: Vec<String> = alts
                .iter()
                .filter_map(|s| check(spec, s, v, at).err())
                .collect();
            let ok = alts.len() - errs.len();
            if ok == 0 || (key == "oneOf" && ok > 1 && !v.is_null()) {
                return Err(format!(
                    "{at}: {key} matched {ok} of {}: {errs:?}",
                    alts.len()
                ));
            }
        }
    }
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            check_members(spec, s, v, at, false)?;
        }
    }
    if let Some(e) = schema["enum"].as_array()
        && !e.contains(v)
    {
        return Err(format!("{at}: {v} not in {e:?}"));
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !types.is_empty() {
        let fits = |t: &str| match t {
            "null" => v.is_null(),
            "boolean" => v.is_boolean(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            _ => false,
        };
        if !types.iter().any(|t| fits(t)) {
            return Err(format!("{at}: {v} is not {types:?}"));
        }
    }
    if schema["format"] == "date-time"
        && let Some(s) = v.as_str()
    {
        chrono::DateTime::parse_from_rfc3339(s)
            .map_err(|e| format!("{at}: {s:?} is no date-time: {e}"))?;
    }
    if let (Some(items), Some(a)) = (schema.get("items"), v.as_array()) {
        for (i, x) in a.iter().enumerate() {
            check(spec, items, x, &format!("{at}[{i}]"))?;
        }
    }
    if schema.get("properties").is_some() || schema.get("allOf").is_none() {
        check_members(spec, schema, v, at, schema.get("allOf").is_none())?;
    }
    Ok(())
}

/// The object part of [`check`]: required members present, each declared member valid,
/// and (when `closed` and the schema lists properties) no undeclared member.
fn check_members(
    spec: &Value,
    schema: &Value,
    v: &Value,
    at: &str,
    closed: bool,
) -> Result<(), String> {
    let schema = match schema["$ref"].as_str() {
        Some(r) => &spec["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        None => schema,
    };
    let Some(obj) = v.as_object() else {
        return if schema.get("properties").is_some() {
            Err(format!("{at}: {v} is not an object"))
        } else {
            Ok(())
        };
    };
    if schema.get("allOf").is_some() {
        return check(spec, schema, v, at);
    }
    for r in schema["required"].as_array().into_iter().flatten() {
        let r = r.as_str().unwrap();
        if !obj.contains_key(r) {
            return Err(format!("{at}: required {r:?} missing"));
        }
    }
    let props = schema["properties"].as_object();
    for (k, x) in obj {
        match props.and_then(|p| p.get(k)) {
            Some(s) => check(spec, s, x, &format!("{at}.{k}"))?,
            None => {
                if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                    check(spec, extra, x, &format!("{at}.{k}"))?;
                } else if closed && props.is_some() {
                    return Err(format!("{at}: member {k:?} is not in the schema"));
                }
            }
        }
    }
    Ok(())
}

/// The schema of the JSON body answered by `method path` with `status`.
fn response_schema<'a>(spec: &'a Value, method: &str, path: &str, status: &str) -> &'a Value {
    let s =
        &spec["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"];
    assert!(!s.is_null(), "{method} {path} {status} has no JSON schema");
    s
}

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut b = Request::builder().method(method).uri(uri);
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    let req = b
        .body(body.map_or_else(Body::empty, |v| Body::from(v.to_string())))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn every_json_operation_has_schemas_and_real_answers_match_them() {
    let (dir, engine) = common::default_engine(false);
    let state = super::web::state(dir.path(), engine, false);
    let app = app(state);
    let (s, spec) = call(&app, "GET", "/api/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);

    // Every JSON operation: a 2xx answer with a JSON schema (or 204), every request body
    // of a POST/PUT that takes one described, every error by the ApiError schema.
    let no_body = [
        "/api/escalations/{id}/close",
        "/api/promotions/{id}/discard",
        "/api/admin/reindex",
        "/api/admin/sync",
        "/api/hooks/cms",
    ];
    let mut described = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        if !(path.starts_with("/api/") || path == "/healthz") || path == "/api/openapi.json" {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert_eq!(
                responses["default"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ApiError",
                "{method} {path}"
            );
            if path == "/api/hooks/cms" {
                continue;
            }
            let ok = responses.iter().any(|(code, r)| {
                code == "204"
                    || (code.starts_with('2')
                        && r["content"]["application/json"]["schema"].is_object())
            });
            assert!(ok, "{method} {path} has no response schema: {op}");
            if (method == "post" || method == "put") && !no_body.contains(&path.as_str()) {
                assert!(
                    op["requestBody"]["content"]["application/json"]["schema"].is_object(),
                    "{method} {path} has no request body schema"
                );
            }
            described += 1;
        }
    }
    assert!(described >= 35, "{described}");
    // Every $ref resolves.
    let text = spec.to_string();
    for r in regex::Regex::new(r##""#/components/schemas/([A-Za-z0-9_.]+)""##)
        .unwrap()
        .captures_iter(&text)
    {
        assert!(
            spec["components"]["schemas"][&r[1]].is_object(),
            "dangling {}",
            &r[1]
        );
    }

    // Real answers against their schemas.
    let validate = |method: &str, path: &str, status: &str, v: &Value| {
        let schema = response_schema(&spec, method, path, status);
        if let Err(e) = check(&spec, schema, v, "$") {
            panic!("{method} {path} {status}: {e}\nbody: {v}");
        }
    };
    let (s, v) = call(
        &app,
        "GET",
        "/api/search?q=%E5%9B%BD%E4%BF%9D&limit=5",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(!v["hits"].as_array().unwrap().is_empty());
    validate("get", "/api/search", "200", &v);
    let id = v["hits"][0]["id"].as_str().unwrap().to_string();
    let (s, m) = call(&app, "GET", &format!("/api/materials/{id}"), None).await;
    assert_eq!(s, StatusCode::OK);
    validate("get", "/api/materials/{id}", "200", &m);
    let (_, v) = call(&app, "GET", "/api/suggest?q=%E5%9B%BD%E6%B0%91", None).await;
    assert!(!v["suggestions"].as_array().unwrap().is_empty());
    validate("get", "/api/suggest", "200", &v);
    let (s, pin) = call(
        &app,
        "POST",
        "/api/pins",
        Some(serde_json::json!({"query": "国保", "material_id": id})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{pin}");
    validate("post", "/api/pins", "201", &pin);
    let (_, v) = call(&app, "GET", "/api/pins", None).await;
    validate("get", "/api/pins", "200", &v);
    let (s, rec) = call(
        &app,
        "POST",
        "/api/inquiries",
        Some(
            serde_json::json!({"outcome": "escalated", "channel": "phone",
            "department": super::web::DEPT, "summary": "犬の登録"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{rec}");
    validate("post", "/api/inquiries", "201", &rec);
    let (_, v) = call(&app, "GET", "/api/escalations", None).await;
    assert!(!v["escalations"].as_array().unwrap().is_empty());
    validate("get", "/api/escalations", "200", &v);
    let (_, v) = call(&app, "GET", "/api/inquiries", None).await;
    validate("get", "/api/inquiries", "200", &v);
    let (_, v) = call(&app, "GET", "/api/departments", None).await;
    validate("get", "/api/departments", "200", &v);
    let (_, v) = call(&app, "GET", "/api/metrics/first-answer-rate", None).await;
    validate("get", "/api/metrics/first-answer-rate", "200", &v);
    let (_, v) = call(&app, "GET", "/api/metrics/escalations", None).await;
    validate("get", "/api/metrics/escalations", "200", &v);
    // An error answer against ApiError (its code in the enum).
    let (s, v) = call(&app, "GET", "/api/search?q=", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    validate("get", "/api/search", "default", &v);
    // And the checker is not blind: a wrong type, a missing member and an undeclared one
    // are refused.
    let schema = response_schema(&spec, "get", "/api/search", "200");
    let mut bad = m.clone();
    bad["kind"] = serde_json::json!("pdf");
    assert!(
        check(
            &spec,
            response_schema(&spec, "get", "/api/materials/{id}", "200"),
            &bad,
            "$"
        )
        .is_err()
    );
    let mut bad = serde_json::json!({"hits": []});
    assert!(check(&spec, schema, &bad, "$").is_err());
    bad = rec.clone();
    bad["surprise"] = serde_json::json!(1);
    assert!(
        check(
            &spec,
            response_schema(&spec, "post", "/api/inquiries", "201"),
            &bad,
            "$"
        )
        .is_err()
    );
}
