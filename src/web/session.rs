//! The login form and the session cookie.

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::layout;
use crate::http::AppState;

/// Name of the session cookie holding the (percent-encoded) token.
pub const SESSION_COOKIE: &str = "kotae_session";

/// Returns the token of the session cookie, if the request carries one.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| {
            url::form_urlencoded::parse(format!("t={v}").as_bytes())
                .next()
                .map(|(_, t)| t.into_owned())
                .unwrap_or_default()
        })
        .filter(|t| !t.is_empty())
}

/// Returns whether a request may act with the session cookie: a safe method (`GET`,
/// `HEAD`, `OPTIONS`), or an `Origin` header naming this server (`http(s)://` + `Host`).
/// Browsers send `Origin` with every cross-origin and every `POST` request; a request
/// without it is refused.
pub fn is_safe_or_same_origin(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    same_origin(headers)
}

fn same_origin(headers: &HeaderMap) -> bool {
    let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) else {
        return false;
    };
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        == Some(host)
}

/// For an unauthenticated `GET` of a page: a redirect to the login form that returns to the
/// page afterwards. `None` for everything else (the API answers 401).
pub fn login_redirect(method: &Method, uri: &Uri) -> Option<Response> {
    if *method != Method::GET || !super::is_page(uri.path()) {
        return None;
    }
    let next = uri.path_and_query().map_or("/", |p| p.as_str());
    let enc: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    Some(Redirect::to(&format!("/login?next={enc}")).into_response())
}

/// Returns `next` if it is a path on this server (never another site: `//host`, `/\host`).
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n,
        _ => "/",
    }
}

#[derive(Deserialize)]
pub(super) struct NextQuery {
    next: Option<String>,
}

fn form_page(state: &AppState, next: &str, error: Option<&str>) -> maud::Markup {
    layout::bare(
        "ログイン",
        html! {
            main class="login" {
                h1 { "kotae ログイン" }
                @if !state.auth.is_enabled() {
                    p class="notice" {
                        "トークンが設定されていないため、すべてのページが開いています（この端末からのみ）。"
                    }
                    p { a href="/" { "検索ページへ" } }
                } @else {
                    p { "管理者から受け取ったトークンを入力してください。ブラウザを閉じるとログアウトします。" }
                    @if let Some(e) = error { p class="error" role="alert" { (e) } }
                    form method="post" action="/login" {
                        input type="hidden" name="next" value=(next);
                        label for="token" { "トークン" }
                        input id="token" name="token" type="password" autocomplete="off" required autofocus;
                        button type="submit" { "ログイン" }
                    }
                }
            }
        },
    )
}

pub(super) async fn login_form(
    State(state): State<AppState>,
    Query(q): Query<NextQuery>,
) -> maud::Markup {
    form_page(&state, safe_next(q.next.as_deref()), None)
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    token: String,
    next: Option<String>,
}

pub(super) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(f.next.as_deref()).to_string();
    if !same_origin(&headers) {
        return (
            StatusCode::FORBIDDEN,
            form_page(
                &state,
                &next,
                Some("このサーバーのページからログインしてください。"),
            ),
        )
            .into_response();
    }
    let token = f.token.trim();
    if state.auth.authenticate(token).is_none() {
        return (
            StatusCode::UNAUTHORIZED,
            form_page(&state, &next, Some("トークンが正しくありません。")),
        )
            .into_response();
    }
    let enc: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    let cookie = format!("{SESSION_COOKIE}={enc}; Path=/; HttpOnly; SameSite=Strict");
    let mut r = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

pub(super) async fn logout(headers: HeaderMap) -> Response {
    if !same_origin(&headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("kotae_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn cookie_token_round_trips_through_percent_encoding() {
        let h = headers(&[("cookie", "a=1; kotae_session=op%3Atoken+x%3B; b=2")]);
        assert_eq!(session_token(&h).as_deref(), Some("op:token x;"));
        assert_eq!(session_token(&headers(&[("cookie", "a=1")])), None);
        assert_eq!(
            session_token(&headers(&[("cookie", "kotae_session=")])),
            None
        );
    }

    #[test]
    fn state_changes_need_this_origin() {
        let same = headers(&[
            ("host", "127.0.0.1:7700"),
            ("origin", "http://127.0.0.1:7700"),
        ]);
        let other = headers(&[
            ("host", "127.0.0.1:7700"),
            ("origin", "http://evil.example"),
        ]);
        let none = headers(&[("host", "127.0.0.1:7700")]);
        assert!(is_safe_or_same_origin(&Method::POST, &same));
        assert!(!is_safe_or_same_origin(&Method::POST, &other));
        assert!(!is_safe_or_same_origin(&Method::POST, &none));
        assert!(is_safe_or_same_origin(&Method::GET, &other));
    }

    #[test]
    fn next_stays_on_this_server() {
        assert_eq!(safe_next(Some("/dashboard?x=1")), "/dashboard?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
