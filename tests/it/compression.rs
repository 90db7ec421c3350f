//! gzip and br for JSON answers when the client accepts them (issue 11, section 5).

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use kotae::http::{AppState, app};

use crate::common::default_engine;

const SEARCH: &str = "/api/search?q=%E5%9B%BD%E4%BF%9D&limit=10";

/// Sends `GET SEARCH` with `accept` as Accept-Encoding; returns (Content-Encoding, body bytes).
async fn fetch(router: &axum::Router, accept: Option<&str>) -> (Option<String>, Vec<u8>) {
    let mut req = Request::get(SEARCH);
    if let Some(a) = accept {
        req = req.header(header::ACCEPT_ENCODING, a);
    }
    let resp = router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let enc = resp
        .headers()
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (enc, bytes)
}

/// Decodes `body` with tower-http's client-side decompression (a separate implementation
/// path from the server's encoder).
async fn decode(encoding: &str, body: Vec<u8>) -> Vec<u8> {
    let svc = tower::service_fn(move |_req: Request<Body>| {
        let body = body.clone();
        let encoding = encoding.to_string();
        async move {
            Ok::<_, std::convert::Infallible>(
                axum::http::Response::builder()
                    .header(header::CONTENT_ENCODING, encoding)
                    .body(Body::from(body))
                    .unwrap(),
            )
        }
    });
    let resp = tower_http::decompression::Decompression::new(svc)
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    resp.into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec()
}

#[tokio::test]
async fn json_answers_are_compressed_only_when_accepted() {
    let (_dir, engine) = default_engine(false);
    let router = app(AppState::new(engine));

    let (enc, plain) = fetch(&router, None).await;
    assert_eq!(enc, None, "compressed without Accept-Encoding");
    let plain_json: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    assert!(plain.len() > 1000, "a 10-hit answer should be kilobytes");

    for (accept, expected) in [("gzip", "gzip"), ("br", "br"), ("gzip, deflate, br", "br")] {
        let (enc, body) = fetch(&router, Some(accept)).await;
        assert_eq!(enc.as_deref(), Some(expected), "Accept-Encoding: {accept}");
        assert!(
            body.len() * 2 < plain.len(),
            "{expected}: {} bytes of {}",
            body.len(),
            plain.len()
        );
        let json: serde_json::Value =
            serde_json::from_slice(&decode(expected, body).await).expect("decodes to JSON");
        // Same answer (took_ms and query_id differ per search).
        assert_eq!(json["hits"], plain_json["hits"]);
        assert_eq!(json["total"], plain_json["total"]);
    }

    // An encoding kotae does not offer: identity.
    let (enc, _) = fetch(&router, Some("zstd")).await;
    assert_eq!(enc, None);
}
