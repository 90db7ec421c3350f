//! Checks that keep the API safe in a browser's reach (a layer in [`app`](super::app)).
//!
//! A web page the operator opens can send requests to kotae (CSRF), and a page whose domain
//! name is re-pointed at kotae's address can read the answers (DNS rebinding). In order:
//!
//! 1. **Host** (DNS rebinding): a request whose `Host` names a domain kotae does not answer
//!    for is refused with `403 bad_host`. Always accepted: IP literals (a rebinding page
//!    sends its own domain name, never an address) and `localhost`; other names only when
//!    listed in `[http] allowed_hosts`. With no list, any name is accepted when API tokens
//!    are configured (a foreign page cannot present a bearer token) and refused in the open
//!    demo mode, which listens on loopback only.
//! 2. **Origin** (CSRF) on state-changing methods (`POST`, `PUT`, `PATCH`, `DELETE`): an
//!    `Origin` that is neither the request's own (`scheme://Host`, as kotae's own pages
//!    send) nor listed in `[http] cors_origins` is refused with `403 bad_origin`, and so is
//!    `Origin: null`; so is a request a browser marks `Sec-Fetch-Site: cross-site` without
//!    an allowed origin. Requests without `Origin` (curl, scripts) pass.
//! 3. **Content type**: a body on a state-changing request must be `application/json`
//!    (parameters such as `charset` allowed, or a `+json` type), else `415
//!    unsupported_media_type`: a form post or `text/plain` body, which needs no CORS
//!    preflight, cannot reach a JSON handler.
//!
//! CORS is off by default (no `Access-Control-*` headers, so browsers block cross-origin
//! reads); `[http] cors_origins` lists the origins allowed to call the API
//! ([`tower_http::cors`]).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::{ApiCode, ApiError};

/// The browser-facing policy: which host names kotae answers for and which other origins
/// may call it.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    /// Host names (lower case, without port) accepted in `Host` besides IP literals and
    /// `localhost`; empty: see [`Guard::any_host_when_empty`].
    pub allowed_hosts: Vec<String>,
    /// With no `allowed_hosts`, accept any host name (set when API tokens are configured).
    pub any_host_when_empty: bool,
    /// Origins (`scheme://host[:port]`, lower case) allowed cross-origin (CORS allowlist).
    pub cors_origins: Vec<String>,
}

impl Guard {
    /// The policy for `allowed_hosts` and `cors_origins` as configured; `auth_enabled`:
    /// API tokens are configured.
    pub fn new(allowed_hosts: &[String], cors_origins: &[String], auth_enabled: bool) -> Self {
        Self {
            allowed_hosts: allowed_hosts
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
            any_host_when_empty: auth_enabled,
            cors_origins: cors_origins
                .iter()
                .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                .collect(),
        }
    }

    /// Whether `host` (a `Host` header value, with or without port) is one kotae answers for.
    pub fn host_allowed(&self, host: &str) -> bool {
        let name = host_name(host).to_ascii_lowercase();
        if name.parse::<std::net::IpAddr>().is_ok() || name == "localhost" {
            return true;
        }
        if self.allowed_hosts.is_empty() {
            return self.any_host_when_empty;
        }
        self.allowed_hosts.contains(&name)
    }

    /// Whether `origin` may send a state-changing request addressed to `host`.
    pub fn origin_allowed(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.trim().to_ascii_lowercase();
        if origin == "null" {
            return false;
        }
        if self.cors_origins.contains(&origin) {
            return true;
        }
        // Same origin: `scheme://` followed by exactly the Host header.
        let authority = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"));
        matches!((authority, host), (Some(a), Some(h)) if a == h.to_ascii_lowercase())
    }

    /// The CORS layer for the allowlist, `None` when it is empty (CORS off).
    pub fn cors_layer(&self) -> Option<tower_http::cors::CorsLayer> {
        if self.cors_origins.is_empty() {
            return None;
        }
        let origins: Vec<_> = self
            .cors_origins
            .iter()
            .filter_map(|o| o.parse::<axum::http::HeaderValue>().ok())
            .collect();
        Some(
            tower_http::cors::CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                .max_age(std::time::Duration::from_secs(600)),
        )
    }
}

/// `example.jp:7700` → `example.jp`; `[::1]:7700` → `::1`.
fn host_name(host: &str) -> &str {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Whether the request carries a body (a non-zero `Content-Length` or a chunked one).
fn has_body(h: &HeaderMap) -> bool {
    match header_str(h, header::CONTENT_LENGTH) {
        Some(n) => n.trim() != "0",
        None => h.contains_key(header::TRANSFER_ENCODING),
    }
}

/// Whether `ct` is `application/json` or `application/…+json`, with any parameters.
fn is_json(ct: &str) -> bool {
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The check of a request's headers; `Err` is the refusal (see the module documentation).
///
/// # Errors
/// `bad_host`, `bad_origin`, `unsupported_media_type`.
pub fn check(guard: &Guard, method: &Method, h: &HeaderMap) -> Result<(), ApiError> {
    let host = header_str(h, header::HOST);
    if let Some(host) = host
        && !guard.host_allowed(host)
    {
        return Err(ApiError::new(
            ApiCode::BadHost,
            format!("this server does not answer for host {host:?} (see [http] allowed_hosts)"),
        ));
    }
    let changes_state = matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if !changes_state {
        return Ok(());
    }
    match header_str(h, header::ORIGIN) {
        Some(origin) if !guard.origin_allowed(origin, host) => {
            return Err(ApiError::new(
                ApiCode::BadOrigin,
                format!(
                    "requests from origin {origin:?} are not allowed (see [http] cors_origins)"
                ),
            ));
        }
        None if h
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site")) =>
        {
            return Err(ApiError::new(
                ApiCode::BadOrigin,
                "cross-site requests are not allowed (see [http] cors_origins)",
            ));
        }
        _ => {}
    }
    if has_body(h) {
        let ct = header_str(h, header::CONTENT_TYPE).unwrap_or("");
        if !is_json(ct) {
            return Err(ApiError::new(
                ApiCode::UnsupportedMediaType,
                format!("the body must be application/json, got {ct:?}"),
            ));
        }
    }
    Ok(())
}

/// The middleware running [`check`] on every request.
pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // The login form posts `application/x-www-form-urlencoded` by design (it works without
    // JavaScript); host and origin are still checked.
    let guard = state.guard.get();
    let checked = if matches!(req.uri().path(), "/login" | "/logout") {
        let mut h = req.headers().clone();
        h.remove(header::CONTENT_TYPE);
        h.remove(header::CONTENT_LENGTH);
        h.remove(header::TRANSFER_ENCODING);
        check(&guard, req.method(), &h)
    } else {
        check(&guard, req.method(), req.headers())
    };
    match checked {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// The CORS middleware: [`Guard::cors_layer`] of the guard in force (read per request, so
/// a SIGHUP that changes `[http] cors_origins` applies to the next request); nothing when
/// the allowlist is empty.
pub async fn cors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    use tower::{Layer, ServiceExt};
    match state.guard.get().cors_layer() {
        None => next.run(req).await,
        Some(layer) => match layer.layer(next).oneshot(req).await {
            Ok(r) => r.into_response(),
            Err(never) => match never {},
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn code(g: &Guard, m: Method, pairs: &[(&'static str, &str)]) -> Option<&'static str> {
        check(g, &m, &headers(pairs))
            .err()
            .map(|e| e.code().as_str())
    }

    #[test]
    fn host_names_are_checked_against_the_policy() {
        let open = Guard::new(&[], &[], false);
        for ok in [
            "127.0.0.1:7700",
            "localhost:7700",
            "[::1]:7700",
            "192.0.2.1",
            "LOCALHOST",
        ] {
            assert!(open.host_allowed(ok), "{ok}");
        }
        for bad in [
            "evil.example:7700",
            "kotae.example.lg.jp",
            "localhost.evil.example",
        ] {
            assert!(!open.host_allowed(bad), "{bad}");
        }
        let with_tokens = Guard::new(&[], &[], true);
        assert!(with_tokens.host_allowed("kotae.example.lg.jp"));
        let listed = Guard::new(&["Kotae.Example.lg.jp".into()], &[], true);
        assert!(listed.host_allowed("kotae.example.lg.jp:443"));
        assert!(!listed.host_allowed("evil.example"));
        assert_eq!(
            code(&open, Method::GET, &[("host", "evil.example:7700")]),
            Some("bad_host")
        );
        assert_eq!(
            code(&open, Method::GET, &[]),
            None,
            "no Host (not a browser)"
        );
    }

    #[test]
    fn state_changes_need_the_own_or_an_allowed_origin() {
        let g = Guard::new(&[], &["https://portal.example.lg.jp/".into()], false);
        let json = ("content-type", "application/json");
        let host = ("host", "127.0.0.1:7700");
        let post = |origin: &str| {
            code(
                &g,
                Method::POST,
                &[host, json, ("content-length", "2"), ("origin", origin)],
            )
        };
        assert_eq!(post("http://127.0.0.1:7700"), None, "same origin");
        assert_eq!(post("https://portal.example.lg.jp"), None, "allowlisted");
        assert_eq!(post("http://evil.example"), Some("bad_origin"));
        assert_eq!(
            post("http://127.0.0.1:8080"),
            Some("bad_origin"),
            "another port"
        );
        assert_eq!(post("null"), Some("bad_origin"));
        assert_eq!(
            code(&g, Method::POST, &[host, ("sec-fetch-site", "cross-site")]),
            Some("bad_origin")
        );
        // Reads are not checked for Origin (CORS keeps their answers from the page).
        assert_eq!(
            code(&g, Method::GET, &[host, ("origin", "http://evil.example")]),
            None
        );
    }

    #[test]
    fn bodies_must_be_json() {
        let g = Guard::default();
        let post = |ct: Option<&str>, len: &str| {
            let mut h = vec![("content-length", len)];
            if let Some(ct) = ct {
                h.push(("content-type", ct));
            }
            code(&g, Method::POST, &h)
        };
        assert_eq!(post(Some("application/json"), "2"), None);
        assert_eq!(post(Some("application/json; charset=utf-8"), "2"), None);
        assert_eq!(post(Some("application/merge-patch+json"), "2"), None);
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "",
        ] {
            assert_eq!(
                post(Some(bad), "2"),
                Some("unsupported_media_type"),
                "{bad}"
            );
        }
        assert_eq!(post(None, "2"), Some("unsupported_media_type"));
        assert_eq!(post(None, "0"), None, "no body, no type needed");
    }
}
