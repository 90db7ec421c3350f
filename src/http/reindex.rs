//! Index administration (role admin): `POST /api/admin/reindex` starts a zero-downtime full
//! rebuild as a job, `POST /api/admin/sync` brings the index in line with the corpus.
//!
//! - `POST /api/admin/reindex` → `202 {"job_id": "rebuild-…", "rebuild": {…}}`: the index
//!   is rebuilt from the corpus beside the live one and swapped in
//!   ([`crate::engine::Engine::rebuild_beside`]); searches keep being answered meanwhile.
//!   One rebuild runs at a time: a request while one runs answers that one's id. Follow it
//!   with `GET /api/jobs/{job_id}` or `GET /api/status` (`rebuild`).
//! - `POST /api/admin/sync` → `200 {"upserted": 3, "removed": 1, "materials": 1945,
//!   "generation": 2}` once the changes are committed and searchable: used by `kotae import`
//!   and `kotae crawl` after they wrote the corpus beside a running server
//!   ([`crate::control`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{ApiError, AppState};

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/reindex", post(reindex))
        .route("/api/admin/sync", post(sync))
}

#[utoipa::path(post, path = "/api/admin/reindex", responses((status = 202, description = "`{\"job_id\", \"rebuild\"}`", body = Value)))]
async fn reindex(State(state): State<AppState>) -> Result<(StatusCode, Json<Value>), ApiError> {
    let status = state
        .engine
        .start_rebuild(None, "reindex")
        .map_err(ApiError::from)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"job_id": status.id, "rebuild": status})),
    ))
}

#[utoipa::path(post, path = "/api/admin/sync", responses((status = 200, description = "What changed", body = Value)))]
async fn sync(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let engine = state.engine.clone();
    let (up, rm) =
        super::inquiries::blocking(move || engine.sync_from_corpus().map_err(ApiError::from))
            .await?;
    Ok(Json(json!({
        "upserted": up,
        "removed": rm,
        "materials": state.engine.materials().len(),
        "generation": state.engine.generation(),
    })))
}
