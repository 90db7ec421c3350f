//! `GET /api/jobs/{id}`: a webhook job with its pages (roles manager, admin).

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};

use super::{ApiCode, ApiError, AppState};
use crate::stats::jobs::JobRecord;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/jobs/{id}", get(job))
}

#[utoipa::path(get, path = "/api/jobs/{id}", params(("id" = String, Path)), responses((status = 200, description = "The job", body = serde_json::Value)))]
async fn job(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    // A full rebuild (`POST /api/admin/reindex`, a user-dictionary edit) is a job too.
    if id.starts_with("rebuild-") {
        return match state.engine.rebuild_status().filter(|r| r.id == id) {
            Some(r) => Ok(Json(serde_json::to_value(r).unwrap_or_default())),
            None => Err(ApiError::new(
                ApiCode::NotFound,
                format!("no rebuild job {id} (only the latest rebuild is kept)"),
            )),
        };
    }
    let queue = state.jobs.clone().ok_or_else(|| {
        ApiError::new(
            ApiCode::JobsDisabled,
            "this server runs without a job store",
        )
    })?;
    let job = super::inquiries::blocking(move || queue.job(&id).map_err(ApiError::from)).await?;
    Ok(Json(
        serde_json::to_value::<JobRecord>(job).unwrap_or_default(),
    ))
}
