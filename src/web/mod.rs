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
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
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
        "favicon.svg",
        "image/svg+xml",
        include_str!("assets/favicon.svg"),
    ),
];

async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == file) {
        Some((_, ty, body)) => (
            [
                (header::CONTENT_TYPE, *ty),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *body,
        )
            .into_response(),
        None => (
            axum::http::StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "not found",
        )
            .into_response(),
    }
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
    fn pages_and_public_paths() {
        assert!(is_page("/") && is_page("/dashboard") && is_page("/m/abc"));
        assert!(!is_page("/api/search") && !is_page("/static/app.css"));
        assert!(is_public("/static/app.css") && is_public("/login"));
        assert!(!is_public("/") && !is_public("/escalations"));
    }
}
