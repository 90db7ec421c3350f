//! `POST /api/hooks/cms`: the CMS approval webhook (contract in [`crate::hooks`] and the
//! README). Authenticated by the shared secret's signature, not by a bearer token.
//!
//! Order of checks, each answered before anything is written: no secret configured → 404
//! `hook_not_configured`; body over 1 MiB → 413 `body_too_large`; missing or wrong
//! signature → 401 `bad_signature`; timestamp more than 300 s away → 401
//! `stale_signature`; malformed delivery → 400 `bad_json` / `invalid_delivery`. Then the job
//! is committed to the database and the answer is 202 `{"job_id": …, "duplicate": false}`;
//! a `delivery_id` seen before (the CMS retrying after a timeout) gets the same 202 with the
//! first job's id and `"duplicate": true`, and makes no second job.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

use super::{ApiCode, ApiError, AppState};
use crate::hooks::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/hooks/cms", post(cms))
}

fn unauthorized(e: &hooks::SignatureError) -> ApiError {
    let code = match e {
        hooks::SignatureError::Bad(_) => ApiCode::BadSignature,
        hooks::SignatureError::Stale { .. } => ApiCode::StaleSignature,
    };
    ApiError::new(code, e.to_string())
}

async fn cms(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let (Some(secret), Some(queue)) = (state.cms_secret.clone(), state.jobs.clone()) else {
        return Err(ApiError::new(
            ApiCode::HookNotConfigured,
            "the CMS webhook is off: set KOTAE_CMS_SECRET or [hooks.cms] secret",
        ));
    };
    let (parts, body): (_, Body) = req.into_parts();
    let body = axum::body::to_bytes(body, hooks::MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                ApiCode::BodyTooLarge,
                format!(
                    "the delivery is larger than {} bytes",
                    hooks::MAX_BODY_BYTES
                ),
            )
        })?;
    let header = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok());
    hooks::verify(
        &secret,
        header(TIMESTAMP_HEADER),
        header(SIGNATURE_HEADER),
        &body,
        chrono::Utc::now().timestamp(),
    )
    .map_err(|e| unauthorized(&e))?;
    let delivery = hooks::parse_delivery(&body).map_err(|e| {
        let code = match e.kind {
            hooks::DeliveryErrorKind::Json => ApiCode::BadJson,
            hooks::DeliveryErrorKind::Field => ApiCode::InvalidDelivery,
        };
        ApiError::new(code, e.message)
    })?;
    let (job_id, new) =
        super::inquiries::blocking(move || queue.submit(&delivery).map_err(ApiError::from)).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({"job_id": job_id, "duplicate": !new})),
    )
        .into_response())
}
