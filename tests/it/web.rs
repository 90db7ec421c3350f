//! The pages over HTTP, without a browser (issue 9): security headers, escaping, login,
//! the session cookie and its `Origin` check, roles. The browser flows are in `browser.rs`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use kotae::http::auth::{Auth, Role, TokenEntry};
use kotae::http::{AppState, app};
use kotae::material::{Material, MaterialKind};
use kotae::stats::Store;

pub const OPERATOR: &str = "operator-token-0123456789";
pub const DEPARTMENT: &str = "department-token-0123456789";
pub const MANAGER: &str = "manager-token-0123456789";
/// Department of the injected material and of the department token.
pub const DEPT: &str = "環境衛生課";
/// Question of the injected material: markup that must render as text.
pub const HOSTILE_QUESTION: &str =
    "<script>window.__xss=1</script>犬の登録と狂犬病予防注射の手続き<b>太字</b>";

/// A state over the default corpus plus one material with HTML in its question, a
/// statistics store, and the three tokens (or none).
pub fn state(dir: &std::path::Path, engine: Arc<kotae::engine::Engine>, tokens: bool) -> AppState {
    let m = Material {
        question: Some(HOSTILE_QUESTION.into()),
        answer: Some("犬を飼い始めたら30日以内に保健所で登録し、毎年4月から6月に狂犬病予防注射を受けてください。".into()),
        department: Some(DEPT.into()),
        ..Material::new(
            MaterialKind::Faq,
            "test",
            "hostile-1",
            chrono::DateTime::parse_from_rfc3339("2026-04-01T09:00:00+09:00").unwrap(),
        )
    };
    engine.upsert("test", vec![m]).unwrap();
    let store = Arc::new(Store::open_path(&dir.join("kotae.db")).unwrap());
    // The search log is on, as in `kotae serve`: an inquiry's `query_id` must name a logged
    // search.
    let logger = Arc::new(kotae::stats::SearchLogger::start(store.clone(), 1024).unwrap());
    let mut st = AppState::new(engine).with_stats(store, Some(logger));
    if tokens {
        st.auth = Arc::new(Auth::new(vec![
            TokenEntry::new(Role::Operator, None, OPERATOR).unwrap(),
            TokenEntry::new(Role::Department, Some(DEPT.into()), DEPARTMENT).unwrap(),
            TokenEntry::new(Role::Manager, None, MANAGER).unwrap(),
        ]));
    }
    st
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let r = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = r.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn get(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get(uri).header(header::HOST, "127.0.0.1:7700");
    if let Some(t) = cookie {
        b = b.header(header::COOKIE, format!("kotae_session={t}"));
    }
    b.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn pages_carry_the_security_headers_and_escape_material_text() {
    let (dir, engine) = crate::common::default_engine(false);
    let app = app(state(dir.path(), engine, false));
    let q: String = url::form_urlencoded::byte_serialize("犬の登録".as_bytes()).collect();
    let (status, h, body) = send(&app, get(&format!("/?q={q}"), None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    // The hostile question is listed, as text (server-rendered results and the JSON block).
    assert!(
        body.contains("&lt;script&gt;window.__xss=1&lt;/script&gt;犬の登録"),
        "{body}"
    );
    assert!(!body.contains("<script>window.__xss"), "{body}");
    assert!(!body.contains("<b>太字"), "{body}");
    // The only script elements are the two files and the inert JSON data block.
    assert_eq!(body.matches("<script").count(), 3, "{body}");
    assert!(body.contains("<script type=\"application/json\" id=\"initial\">"));
    // The whole material page escapes too.
    let id = kotae::material::material_id("test", "hostile-1");
    let (status, h, body) = send(&app, get(&format!("/m/{id}"), None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(h.contains_key(header::CONTENT_SECURITY_POLICY));
    assert!(body.contains("&lt;b&gt;太字&lt;/b&gt;") && !body.contains("<b>"));
    // Static files have their types; unknown ones are 404.
    let (status, h, _) = send(&app, get("/static/operator.js", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
    let (status, _, _) = send(&app, get("/static/nothing.js", None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Without tokens every page is open; an empty box is the start page, not an error.
    for p in ["/", "/?q=", "/escalations", "/dashboard?granularity=week"] {
        let (status, _, body) = send(&app, get(p, None)).await;
        assert_eq!(status, StatusCode::OK, "{p}: {body}");
    }
}

#[tokio::test]
async fn a_bad_parameter_is_shown_on_the_page_not_a_panic() {
    let (dir, engine) = crate::common::default_engine(false);
    let app = app(state(dir.path(), engine, false));
    let (status, _, body) = send(&app, get("/?q=x&kind=pdf", None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("unknown kind") && body.contains("id=\"q\""),
        "{body}"
    );
    let (status, _, _) = send(&app, get("/m/no-such-id", None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn login_sets_a_strict_session_cookie_and_roles_apply_to_pages() {
    let (dir, engine) = crate::common::default_engine(false);
    let app = app(state(dir.path(), engine, true));
    // An unauthenticated page goes to the login form and back; the API answers 401.
    let (status, h, _) = send(&app, get("/dashboard?granularity=day", None)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        h[header::LOCATION],
        "/login?next=%2Fdashboard%3Fgranularity%3Dday"
    );
    let (status, _, _) = send(&app, get("/api/search?q=x", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, h, body) = send(&app, get("/login?next=/dashboard", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(h.contains_key(header::CONTENT_SECURITY_POLICY));
    assert!(
        body.contains("name=\"next\" value=\"/dashboard\""),
        "{body}"
    );

    let login = |token: &str, origin: &str| {
        Request::post("/login")
            .header(header::HOST, "127.0.0.1:7700")
            .header(header::ORIGIN, origin)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("token={token}&next=%2Fdashboard")))
            .unwrap()
    };
    let (status, _, _) = send(
        &app,
        login("wrong-token-0123456789", "http://127.0.0.1:7700"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(&app, login(MANAGER, "http://evil.example")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, h, _) = send(&app, login(MANAGER, "http://127.0.0.1:7700")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(h[header::LOCATION], "/dashboard");
    let cookie = h[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.starts_with(&format!("kotae_session={MANAGER};")),
        "{cookie}"
    );
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(
        !cookie.contains("Max-Age") && !cookie.contains("Expires"),
        "session only"
    );

    // The cookie authenticates pages and the API; the role policy is the API's.
    let (status, _, body) = send(&app, get("/dashboard", Some(MANAGER))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("一次回答率"));
    let (status, _, body) = send(&app, get("/dashboard", Some(OPERATOR))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("権限がありません"), "{body}");
    let (status, _, _) = send(&app, get("/api/metrics/escalations", Some(OPERATOR))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, body) = send(&app, get("/escalations", Some(DEPARTMENT))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(DEPT), "{body}");

    // A state-changing request authenticated by the cookie needs this origin; a bearer
    // token does not (no browser sends it on its own).
    let post = |origin: Option<&str>, bearer: bool| {
        let mut b = Request::post("/api/inquiries")
            .header(header::HOST, "127.0.0.1:7700")
            .header(header::CONTENT_TYPE, "application/json");
        b = if bearer {
            b.header(header::AUTHORIZATION, format!("Bearer {OPERATOR}"))
        } else {
            b.header(header::COOKIE, format!("kotae_session={OPERATOR}"))
        };
        if let Some(o) = origin {
            b = b.header(header::ORIGIN, o);
        }
        b.body(Body::from(r#"{"channel":"phone","outcome":"transfer"}"#))
            .unwrap()
    };
    assert_eq!(send(&app, post(None, false)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        send(&app, post(Some("http://evil.example"), false)).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&app, post(Some("http://127.0.0.1:7700"), false))
            .await
            .0,
        StatusCode::CREATED
    );
    assert_eq!(send(&app, post(None, true)).await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn static_files_carry_a_content_hash_etag_and_answer_304() {
    let (dir, engine) = crate::common::default_engine(false);
    let app = app(state(dir.path(), engine, true));
    // The pages link their files by versioned URL (the login page is public).
    let (_, _, login) = send(&app, get("/login", None)).await;
    let at = login
        .find("/static/app.css?v=")
        .expect("versioned stylesheet");
    let url: String = login[at..]
        .chars()
        .take_while(|c| *c != '"')
        .collect::<String>()
        .replace("&amp;", "&");
    let (status, h, css) = send(&app, get(&url, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(css.contains(":root"), "{css}");
    assert_eq!(
        h[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    let etag = h[header::ETAG].to_str().unwrap().to_string();
    assert!(
        etag.starts_with("W/\"") && url.ends_with(&etag[3..etag.len() - 1]),
        "{etag} names the hash of {url}"
    );
    // Without the version (or an old one) the file is revalidated each time.
    let (status, h, _) = send(&app, get("/static/app.css?v=0000", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h[header::CACHE_CONTROL], "no-cache");
    assert_eq!(h[header::ETAG].to_str().unwrap(), etag);
    // The ETag again: 304 with no body; another ETag: the whole file.
    let cond = |tag: &str| {
        Request::get("/static/app.css")
            .header(header::HOST, "127.0.0.1:7700")
            .header(header::IF_NONE_MATCH, tag)
            .body(Body::empty())
            .unwrap()
    };
    let (status, h, body) = send(&app, cond(&etag)).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(h[header::ETAG].to_str().unwrap(), etag);
    let (status, _, body) = send(&app, cond("W/\"0123456789abcdef\"")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, css);
    // Each file has its own hash.
    let (_, h, _) = send(&app, get("/static/operator.js", None)).await;
    assert_ne!(h[header::ETAG].to_str().unwrap(), etag);
}
