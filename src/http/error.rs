//! The API's error vocabulary: every code the API answers, with its HTTP status, and the
//! mapping from each layer's error to it.
//!
//! The body is always `{"code": "...", "message": "..."}`. Every code is an [`ApiCode`]
//! (the model is Meilisearch's `meilisearch-types/src/error.rs`: one enum, each code with
//! its status), and [`ApiError::new`] is the only way to build an answer: no handler mints
//! a status of its own. The `From` impls below are the only place where an error of the
//! engine, the search request or the statistics store becomes an API code.
//!
//! Internal errors (500) are not logged where they are built: the response carries the
//! error chain in an [`InternalError`] extension, and [`log_internal_errors`] (a layer in
//! [`app`](super::app)) logs it once with the request's method and path, then drops it.

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::Error;
use crate::search::RequestError;
use crate::stats::{InvalidReason, StatsError};

crate::wire_enum! {
    /// Every error code of the API; [`ApiCode::status`] gives its HTTP status.
    ///
    /// The README and `docs/stats.md` document these names; a test checks that the docs
    /// and this enum list the same codes.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum ApiCode {
        /// The search query is empty after normalisation (400).
        EmptyQuery = "empty_query",
        /// The search query is over the byte limit (400).
        QueryTooLong = "query_too_long",
        /// `limit` is out of range or not a number (400).
        BadLimit = "bad_limit",
        /// `offset` is out of range (400).
        BadOffset = "bad_offset",
        /// `kind` is not a material kind (400).
        BadKind = "bad_kind",
        /// A malformed or repeated query parameter (400).
        BadParameter = "bad_parameter",
        /// Other invalid input to the engine (400).
        Invalid = "invalid",
        /// A material fails validation (400).
        InvalidMaterial = "invalid_material",
        /// The request body is not the expected JSON (400).
        BadJson = "bad_json",
        /// `channel` missing or unknown (400).
        BadChannel = "bad_channel",
        /// `outcome` missing or unknown (400).
        BadOutcome = "bad_outcome",
        /// `received_at` is not RFC 3339 or too far in the future (400).
        BadReceivedAt = "bad_received_at",
        /// A material id names no material (400).
        UnknownMaterial = "unknown_material",
        /// An `answered` inquiry without a material id (400).
        MissingMaterial = "missing_material",
        /// An `escalated` inquiry without a department (400).
        MissingDepartment = "missing_department",
        /// The summary is over its limit (400).
        SummaryTooLong = "summary_too_long",
        /// A short field is over its limit (400).
        FieldTooLong = "field_too_long",
        /// Too many material ids on one inquiry (400).
        TooManyMaterials = "too_many_materials",
        /// Caller contact details on an inquiry that is not escalated (400).
        UnexpectedContact = "unexpected_contact",
        /// A required body field is missing (400).
        MissingField = "missing_field",
        /// `status` is not an escalation status (400).
        BadStatus = "bad_status",
        /// `format` is neither `json` nor `csv` (400).
        BadFormat = "bad_format",
        /// A date parameter is malformed, or `from` is after `to` (400).
        BadDate = "bad_date",
        /// `granularity` is unknown (400).
        BadGranularity = "bad_granularity",
        /// `group_by` is unknown (400).
        BadGroupBy = "bad_group_by",
        /// A department name the department registry does not know; the message names
        /// the closest ones (400).
        UnknownDepartment = "unknown_department",
        /// A category not in `[stats] categories` (400).
        UnknownCategory = "unknown_category",
        /// An `escalated` inquiry with neither `summary` nor `query_id` (400).
        MissingQuestion = "missing_question",
        /// A `query_id` the search log does not know (400).
        UnknownQuery = "unknown_query",
        /// A department level other than `bu`, `ka`, `kakari` (400).
        BadLevel = "bad_level",
        /// `lang` is neither `ja` nor `en` (400).
        BadLang = "bad_lang",
        /// No valid bearer token (401, with `WWW-Authenticate: Bearer`).
        Unauthorized = "unauthorized",
        /// The token's role may not do this (403).
        Forbidden = "forbidden",
        /// The `Host` header names a domain this server does not answer for (403; DNS
        /// rebinding protection, see `http::guard`).
        BadHost = "bad_host",
        /// A state-changing request from a foreign origin (403; see `http::guard`).
        BadOrigin = "bad_origin",
        /// A request body that is not `application/json` (415).
        UnsupportedMediaType = "unsupported_media_type",
        /// A `PUT /api/materials/{id}` body that is JSON but not a valid material (422).
        UnprocessableMaterial = "unprocessable_material",
        /// No such route or record (404).
        NotFound = "not_found",
        /// The record is not in a state that allows the operation (409).
        Conflict = "conflict",
        /// A promotion without a question to use (409).
        NoQuestion = "no_question",
        /// Publishing a promotion draft with flags, without `acknowledge_flags` (409).
        DraftFlagged = "draft_flagged",
        /// A staff field (`answered_by`, `called_back_by`) holding what the redactor
        /// catches: a phone number, an e-mail address, a caller's name (400).
        PersonalData = "personal_data",
        /// Something failed inside the service; details are logged, not sent (500).
        Internal = "internal",
        /// The search queue is full (503, with `Retry-After: 1`).
        Busy = "busy",
        /// The service runs without a statistics store (503).
        StatsDisabled = "stats_disabled",
        /// A webhook delivery's fields are invalid (400).
        InvalidDelivery = "invalid_delivery",
        /// A webhook delivery's signature is missing or wrong (401).
        BadSignature = "bad_signature",
        /// A webhook delivery's timestamp is more than 300 s from now (401).
        StaleSignature = "stale_signature",
        /// The CMS webhook has no secret configured (404).
        HookNotConfigured = "hook_not_configured",
        /// The request body is over its limit (413).
        BodyTooLarge = "body_too_large",
        /// The service runs without a job queue (503).
        JobsDisabled = "jobs_disabled",
        /// An `Idempotency-Key` header that is empty, too long or not visible ASCII (400).
        BadIdempotencyKey = "bad_idempotency_key",
        /// An `Idempotency-Key` used before with a different request body (422).
        IdempotencyKeyReused = "idempotency_key_reused",
        /// The route exists but not with this method; `Allow` lists the methods (405).
        MethodNotAllowed = "method_not_allowed",
    }
}

impl ApiCode {
    /// The HTTP status answered with this code.
    pub fn status(self) -> StatusCode {
        use ApiCode::*;
        match self {
            EmptyQuery | QueryTooLong | BadLimit | BadOffset | BadKind | BadParameter | Invalid
            | InvalidMaterial | BadJson | BadChannel | BadOutcome | BadReceivedAt
            | UnknownMaterial | MissingMaterial | MissingDepartment | SummaryTooLong
            | FieldTooLong | TooManyMaterials | UnexpectedContact | MissingField | BadStatus
            | BadFormat | BadDate | BadGranularity | BadGroupBy | InvalidDelivery
            | UnknownDepartment | UnknownCategory | MissingQuestion | UnknownQuery | BadLevel
            | BadLang | PersonalData | BadIdempotencyKey => StatusCode::BAD_REQUEST,
            Unauthorized | BadSignature | StaleSignature => StatusCode::UNAUTHORIZED,
            Forbidden | BadHost | BadOrigin => StatusCode::FORBIDDEN,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            NotFound | HookNotConfigured => StatusCode::NOT_FOUND,
            UnprocessableMaterial => StatusCode::UNPROCESSABLE_ENTITY,
            BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Conflict | NoQuestion | DraftFlagged => StatusCode::CONFLICT,
            IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Busy | StatsDisabled | JobsDisabled => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// An error answered to the client: a code and a message. Internal details travel apart
/// (see the [module documentation](self)) and are never sent.
#[derive(Debug, Clone)]
pub struct ApiError {
    code: ApiCode,
    message: String,
    internal: Option<String>,
}

/// The error chain of a 500, put into the response's extensions for
/// [`log_internal_errors`].
#[derive(Debug, Clone)]
pub struct InternalError(pub String);

#[derive(Serialize)]
struct Body<'a> {
    code: ApiCode,
    message: &'a str,
}

impl ApiError {
    /// An error with `code` (which fixes the status) and `message` for the client.
    pub fn new(code: ApiCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            internal: None,
        }
    }

    /// Attaches the cause of an internal error: its whole chain (`source()` after
    /// `source()`) is logged once by [`log_internal_errors`], never sent.
    pub fn caused_by(mut self, cause: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = cause.to_string();
        let mut next = cause.source();
        while let Some(e) = next {
            chain.push_str(": ");
            chain.push_str(&e.to_string());
            next = e.source();
        }
        self.internal = Some(chain);
        self
    }

    /// The 500 for `cause`, with the fixed message `internal error`.
    fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        Self::new(ApiCode::Internal, "internal error").caused_by(cause)
    }

    /// The code.
    pub fn code(&self) -> ApiCode {
        self.code
    }

    /// The message sent to the client.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status (that of the code).
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status(),
            Json(Body {
                code: self.code,
                message: &self.message,
            }),
        )
            .into_response();
        match self.code {
            ApiCode::Busy => {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiCode::Unauthorized => {
                r.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        if self.code == ApiCode::Internal {
            let chain = self.internal.unwrap_or_else(|| self.message.clone());
            r.extensions_mut().insert(InternalError(chain));
        }
        r
    }
}

/// Layer function: logs the [`InternalError`] of a response once, with the request's
/// method and path.
pub async fn log_internal_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut r = next.run(req).await;
    if let Some(InternalError(chain)) = r.extensions_mut().remove::<InternalError>() {
        tracing::error!(%method, %path, error = %chain, "internal error");
    }
    r
}

/// Layer function: every error response that is not already JSON — axum's extractor
/// rejections (`Path`, `Query`, `Json`, body-read and body-limit errors, all `text/plain`)
/// and the router's empty 405 — becomes `{code, message}` with a code of [`ApiCode`] whose
/// status is the response's: 400 `bad_json` when the rejection is about the body
/// (axum's messages name the body or JSON), else 400 `bad_parameter`; 404 `not_found`;
/// 405 `method_not_allowed` (keeping `Allow`); 413 `body_too_large`; 415
/// `unsupported_media_type`; 422 (a JSON body of the wrong shape) `bad_json` at 400; any
/// other 4xx `invalid` at 400 and any 5xx `internal` (its text logged, not sent). HTML
/// error pages of the web pages pass unchanged.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let r = next.run(req).await;
    let status = r.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return r;
    }
    let ct = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !(ct.is_empty() || ct.starts_with("text/plain")) {
        return r;
    }
    let allow = r.headers().get(header::ALLOW).cloned();
    let text = axum::body::to_bytes(r.into_body(), 4096)
        .await
        .unwrap_or_default();
    let mut message = String::from_utf8_lossy(&text).trim().to_string();
    if message.is_empty() {
        message = status.canonical_reason().unwrap_or("error").to_string();
    }
    let about_body = {
        let m = message.to_ascii_lowercase();
        m.contains("body") || m.contains("json")
    };
    let code = match status {
        StatusCode::BAD_REQUEST if about_body => ApiCode::BadJson,
        StatusCode::BAD_REQUEST => ApiCode::BadParameter,
        StatusCode::NOT_FOUND => ApiCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ApiCode::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiCode::BodyTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiCode::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => ApiCode::BadJson,
        s if s.is_server_error() => {
            return ApiError::new(ApiCode::Internal, "internal error")
                .caused_by(&std::io::Error::other(message))
                .into_response();
        }
        _ => ApiCode::Invalid,
    };
    if code == ApiCode::MethodNotAllowed {
        message = match allow.as_ref().and_then(|a| a.to_str().ok()) {
            Some(a) => format!("method not allowed here; allowed: {a}"),
            None => "method not allowed here".into(),
        };
    }
    let mut out = ApiError::new(code, message).into_response();
    if let Some(a) = allow {
        out.headers_mut().insert(header::ALLOW, a);
    }
    out
}

/// Largest request body accepted on any route (axum's default body limit, 2 MiB); routes
/// may set a lower one (the CMS webhook: 1 MiB).
pub const MAX_BODY_BYTES: u64 = 2 * 1024 * 1024;

/// Layer function: a request whose `Content-Length` is over [`MAX_BODY_BYTES`] is answered
/// 413 `body_too_large` before its body is read, so a client that sent
/// `Expect: 100-continue` gets the 413 instead of `100 Continue` and never sends the body.
pub async fn refuse_oversized_bodies(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(n) = declared
        && n > MAX_BODY_BYTES
    {
        return ApiError::new(
            ApiCode::BodyTooLarge,
            format!("the request body is {n} bytes, over the limit of {MAX_BODY_BYTES}"),
        )
        .into_response();
    }
    next.run(req).await
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> Self {
        let code = match e {
            RequestError::EmptyQuery => ApiCode::EmptyQuery,
            RequestError::QueryTooLong(_) => ApiCode::QueryTooLong,
            RequestError::BadLimit(_) => ApiCode::BadLimit,
            RequestError::BadOffset(_) => ApiCode::BadOffset,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Request(r) => r.into(),
            Error::Invalid(m) => ApiError::new(ApiCode::Invalid, m),
            Error::Material(m) => ApiError::new(ApiCode::InvalidMaterial, m.to_string()),
            Error::NotFound(m) => ApiError::new(ApiCode::NotFound, m),
            other => ApiError::internal(&other),
        }
    }
}

impl From<InvalidReason> for ApiCode {
    fn from(r: InvalidReason) -> Self {
        match r {
            InvalidReason::SummaryTooLong => ApiCode::SummaryTooLong,
            InvalidReason::FieldTooLong => ApiCode::FieldTooLong,
            InvalidReason::TooManyMaterials => ApiCode::TooManyMaterials,
            InvalidReason::UnknownMaterial => ApiCode::UnknownMaterial,
            InvalidReason::MissingMaterial => ApiCode::MissingMaterial,
            InvalidReason::MissingDepartment => ApiCode::MissingDepartment,
            InvalidReason::UnexpectedContact => ApiCode::UnexpectedContact,
        }
    }
}

impl From<StatsError> for ApiError {
    fn from(e: StatsError) -> Self {
        match e {
            StatsError::Invalid { reason, message } => ApiError::new(reason.into(), message),
            StatsError::NotFound(m) => ApiError::new(ApiCode::NotFound, m),
            StatsError::Conflict(m) => ApiError::new(ApiCode::Conflict, m),
            StatsError::KeyReused(m) => ApiError::new(ApiCode::IdempotencyKeyReused, m),
            other => ApiError::internal(&other),
        }
    }
}

impl From<&crate::hooks::SignatureError> for ApiError {
    fn from(e: &crate::hooks::SignatureError) -> Self {
        let code = match e {
            crate::hooks::SignatureError::Bad(_) => ApiCode::BadSignature,
            crate::hooks::SignatureError::Stale { .. } => ApiCode::StaleSignature,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<crate::hooks::DeliveryError> for ApiError {
    fn from(e: crate::hooks::DeliveryError) -> Self {
        let code = match e.kind {
            crate::hooks::DeliveryErrorKind::Json => ApiCode::BadJson,
            crate::hooks::DeliveryErrorKind::Field => ApiCode::InvalidDelivery,
        };
        ApiError::new(code, e.message)
    }
}

impl From<crate::promotion::PromotionError> for ApiError {
    fn from(e: crate::promotion::PromotionError) -> Self {
        use crate::promotion::PromotionError as P;
        match e {
            P::Stats(s) => s.into(),
            P::NoQuestion => ApiError::new(ApiCode::NoQuestion, e.to_string()),
            P::Flagged(_) => ApiError::new(ApiCode::DraftFlagged, e.to_string()),
            P::Material(m) => ApiError::new(ApiCode::InvalidMaterial, m.to_string()),
            P::Engine(err) => err.into(),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(&e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::WireEnum;

    #[test]
    fn every_code_has_a_distinct_name_and_an_error_status() {
        let mut seen = std::collections::HashSet::new();
        for c in ApiCode::ALL {
            assert!(seen.insert(c.as_str()), "{c} twice");
            assert!(
                c.status().is_client_error() || c.status().is_server_error(),
                "{c}"
            );
        }
        assert_eq!(<ApiCode as WireEnum>::NAMES.len(), ApiCode::ALL.len());
    }

    #[test]
    fn internal_errors_keep_their_chain_out_of_the_body() {
        let io = std::io::Error::other("disk on fire");
        let e = Error::Io {
            context: "writing corpus/x.jsonl".into(),
            source: io,
        };
        let r = ApiError::from(e).into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let chain = &r.extensions().get::<InternalError>().unwrap().0;
        assert_eq!(chain, "writing corpus/x.jsonl: disk on fire");
    }

    #[test]
    fn headers_follow_the_code() {
        let r = ApiError::new(ApiCode::Busy, "x").into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        let r = ApiError::new(ApiCode::Unauthorized, "x").into_response();
        assert_eq!(r.headers()[header::WWW_AUTHENTICATE], "Bearer");
        assert!(r.extensions().get::<InternalError>().is_none());
    }

    /// `(code, status)` pairs the docs state: rows `| `code` | 404 | …` of their error
    /// tables, and prose written `404 `not_found`` or ``409 conflict``.
    fn documented(doc: &str) -> Vec<(String, u16)> {
        let row = regex::Regex::new(r"(?m)^\| `([a-z_]+)` \| (\d{3}) \|").unwrap();
        let prose = regex::Regex::new(r"\b(\d{3}) `([a-z_]+)`|`(\d{3}) ([a-z_]+)`").unwrap();
        let mut out: Vec<(String, u16)> = row
            .captures_iter(doc)
            .map(|c| (c[1].to_string(), c[2].parse().unwrap()))
            .collect();
        for c in prose.captures_iter(doc) {
            let (status, code) = match (c.get(1), c.get(2)) {
                (Some(s), Some(k)) => (s.as_str(), k.as_str()),
                _ => (&c[3], &c[4]),
            };
            out.push((code.to_string(), status.parse().unwrap()));
        }
        out
    }

    #[test]
    fn docs_and_enum_list_the_same_codes() {
        let readme = documented(include_str!("../../README.md"));
        let stats = documented(include_str!("../../docs/stats.md"));
        assert!(readme.len() >= ApiCode::ALL.len(), "{readme:?}");
        assert!(!stats.is_empty());
        for (code, status) in readme.iter().chain(&stats) {
            let c = ApiCode::parse(code)
                .unwrap_or_else(|| panic!("the docs name `{code}`, which ApiCode lacks"));
            assert_eq!(c.status().as_u16(), *status, "`{code}`");
        }
        for c in ApiCode::ALL {
            assert!(
                readme.iter().any(|(code, _)| code == c.as_str()),
                "`{c}` is missing from the README's error table"
            );
        }
    }
}
