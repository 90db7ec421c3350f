//! The pages people use, served by kotae itself: the operator's search (`/`), the
//! departments' escalations (`/escalations`) and the manager's dashboard (`/dashboard`).
//!
//! Server-rendered HTML from compile-time-checked [`maud`] templates (every interpolated
//! string is escaped); a little vanilla JavaScript and CSS embedded in the binary with
//! `include_str!` and served from `/static/…` (no CDN, no web fonts, no Node build). The
//! scripts call the JSON API (`/api/search`, `/api/inquiries`, `/api/escalations/…`); the
//! pages call the same library functions on the server, so `/?q=…` works without
//! JavaScript. Charts are server-side SVG drawn by `plotters` (see [`chart`]).
//!
//! Login: `POST /login` checks a token of the API ([`crate::http::auth`]) and keeps it in a
//! session cookie (`HttpOnly; SameSite=Strict`, no expiry: gone when the browser closes).
//! The auth middleware accepts that cookie like a bearer token and refuses a state-changing
//! request authenticated by it unless its `Origin` is kotae's own. With no tokens configured
//! every page is open, as the API is. Every page carries a Content-Security-Policy allowing
//! only kotae's own origin (no inline script), `X-Content-Type-Options: nosniff` and
//! `frame-ancestors 'none'`.

pub mod chart;
mod dashboard;
mod department;
mod layout;
mod operator;
mod session;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub use session::{SESSION_COOKIE, is_safe_or_same_origin, login_redirect, session_token};

use crate::http::AppState;
use crate::http::auth::Role;

/// The Content-Security-Policy of every page: kotae's own origin only, no inline script or
/// style, no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// Routes of the pages and their static files (merged into [`crate::http::app`]).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(operator::page))
        .route("/m/{id}", get(operator::material_page))
        .route("/escalations", get(department::page))
        .route("/dashboard", get(dashboard::page))
        .route("/login", get(session::login_form).post(session::login))
        .route("/logout", axum::routing::post(session::logout))
        .route("/static/{file}", get(asset))
        .layer(axum::middleware::map_response(secure))
}

/// Returns whether `path` is served without a token (login and static files).
pub fn is_public(path: &str) -> bool {
    matches!(path, "/login" | "/logout") || path.starts_with("/static/")
}

/// Returns whether `path` is one of the HTML pages (an unauthenticated request is sent to
/// the login form instead of answered with JSON).
pub fn is_page(path: &str) -> bool {
    matches!(path, "/" | "/escalations" | "/dashboard") || path.starts_with("/m/")
}

/// Adds the security headers of every page.
pub async fn secure(mut r: Response) -> Response {
    set_security_headers(&mut r);
    r
}

fn set_security_headers(r: &mut Response) {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // `same-origin`, not `no-referrer`: under `no-referrer` Chromium sends `Origin: null`
    // with the pages' own POSTs, which the session cookie's origin check must refuse.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// The HTML 403 page for a page the role may not open (`None` for other paths: the API
/// answers with its JSON error).
pub fn forbidden_page(uri: &axum::http::Uri, role: Role) -> Option<Response> {
    if !is_page(uri.path()) {
        return None;
    }
    let body = layout::bare(
        "権限がありません",
        maud::html! {
            h1 { "このページを開く権限がありません" }
            p { "ログイン中の役割（" (layout::role_label(role)) "）では " code { (uri.path()) } " を開けません。" }
            p { a href="/" { "検索ページへ" } " · " a href="/login" { "別のトークンでログイン" } }
        },
    );
    let mut r = (axum::http::StatusCode::FORBIDDEN, body).into_response();
    set_security_headers(&mut r);
    Some(r)
}

/// The embedded static files: (name, content type, body).
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("assets/app.css"),
    ),
    (
        "common.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/common.js"),
    ),
    (
        "operator.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/operator.js"),
    ),
    (
        "department.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/department.js"),
    ),
    (
        "pins.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/pins.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("assets/favicon.svg"),
    ),
];

/// `Cache-Control` of a static file asked for by its versioned URL ([`asset_url`]): the
/// content behind `?v=<hash>` never changes, so browsers keep it a year without asking.
pub const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `Cache-Control` of a static file asked for without the current version: the browser
/// keeps it but asks again each time, answered `304 Not Modified` while its ETag holds.
pub const CACHE_REVALIDATE: &str = "no-cache";

/// The content hash of each embedded file (in [`ASSETS`] order): the first 16 hex digits of
/// its SHA-256, the ETag and the `v` of its URL.
fn asset_hashes() -> &'static [String] {
    static HASHES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    HASHES.get_or_init(|| {
        use sha2::Digest;
        ASSETS
            .iter()
            .map(|(_, _, body)| {
                let d = sha2::Sha256::digest(body.as_bytes());
                d[..8].iter().map(|b| format!("{b:02x}")).collect()
            })
            .collect()
    })
}

/// The URL of a static file with its content hash (`/static/app.css?v=…`), so a new build's
/// file is fetched at once and an unchanged one is never asked for again.
pub fn asset_url(name: &str) -> String {
    match ASSETS.iter().position(|(n, _, _)| *n == name) {
        Some(i) => format!("/static/{name}?v={}", asset_hashes()[i]),
        None => format!("/static/{name}"),
    }
}

/// Whether an `If-None-Match` value names `etag` (a list, `*`, weak or strong: RFC 9110
/// §13.1.2 compares weakly).
fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let want = bare(etag);
    if_none_match
        .split(',')
        .any(|t| t.trim() == "*" || bare(t) == want)
}

/// `GET /static/{file}`: an embedded file with a content-hash `ETag` (weak: the compression
/// layer may re-encode the body) and `Cache-Control` ([`CACHE_IMMUTABLE`] for the current
/// versioned URL, else [`CACHE_REVALIDATE`]); `304` when `If-None-Match` names the ETag.
async fn asset(
    axum::extract::Path(file): axum::extract::Path<String>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
    headers: axum::http::HeaderMap,
) -> Response {
    let Some(i) = ASSETS.iter().position(|(n, _, _)| *n == file) else {
        return (
            axum::http::StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "not found",
        )
            .into_response();
    };
    let (_, ty, body) = ASSETS[i];
    let hash = &asset_hashes()[i];
    let etag = format!("W/\"{hash}\"");
    let versioned = url::form_urlencoded::parse(raw.as_deref().unwrap_or_default().as_bytes())
        .any(|(k, v)| k == "v" && v == hash.as_str());
    let cache = if versioned {
        CACHE_IMMUTABLE
    } else {
        CACHE_REVALIDATE
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| etag_matches(v, &etag));
    let mut r = if fresh {
        axum::http::StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, ty)], body).into_response()
    };
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    r
}

/// Serializes `v` for a `<script type="application/json">` data block: `<` is written as
/// `\u003c`, so no string in it can close the element.
pub(crate) fn json_data<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v)
        .unwrap_or_else(|_| "null".into())
        .replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_blocks_cannot_close_their_script_element() {
        let s = json_data(&serde_json::json!({"t": "</script><script>alert(1)</script>"}));
        assert!(!s.contains('<'), "{s}");
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["t"], "</script><script>alert(1)</script>");
    }

    #[test]
    fn etags_compare_weakly_over_a_list() {
        assert!(etag_matches("W/\"ab\"", "W/\"ab\""));
        assert!(etag_matches("\"ab\"", "W/\"ab\""));
        assert!(etag_matches("\"x\", W/\"ab\"", "W/\"ab\""));
        assert!(etag_matches("*", "W/\"ab\""));
        assert!(!etag_matches("W/\"abc\"", "W/\"ab\""));
        assert!(!etag_matches("", "W/\"ab\""));
    }

    #[test]
    fn asset_urls_carry_the_content_hash() {
        let u = asset_url("app.css");
        let (path, v) = u.split_once("?v=").unwrap();
        assert_eq!(path, "/static/app.css");
        assert_eq!(v.len(), 16);
        assert_ne!(v, &asset_url("common.js")[("/static/common.js?v=".len())..]);
        assert_eq!(asset_url("nothing.js"), "/static/nothing.js");
    }

    #[test]
    fn pages_and_public_paths() {
        assert!(is_page("/") && is_page("/dashboard") && is_page("/m/abc"));
        assert!(!is_page("/api/search") && !is_page("/static/app.css"));
        assert!(is_public("/static/app.css") && is_public("/login"));
        assert!(!is_public("/") && !is_public("/escalations"));
    }
}
