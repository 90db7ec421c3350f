//! `GET /api/search` and `GET /api/materials/{id}`.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};

use super::{ApiError, AppState};
use crate::material::MaterialKind;
use crate::search::{MAX_LIMIT, SearchRequest, SearchResponse};

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/search", get(search))
        .route("/api/materials/{id}", get(material))
}

fn number(params: &HashMap<String, String>, name: &str, default: usize) -> Result<usize, ApiError> {
    match params.get(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| {
            ApiError::bad_request(
                "bad_parameter",
                format!("`{name}` must be a non-negative integer, got {v:?}"),
            )
        }),
    }
}

/// Builds a validated [`SearchRequest`] from the query string.
pub fn request_from_query(raw: Option<&str>) -> Result<SearchRequest, ApiError> {
    let p = super::query_params(raw)?;
    let q = p.get("q").cloned().unwrap_or_default();
    let kind = match p.get("kind").map(String::as_str) {
        None | Some("") => None,
        Some(k) => Some(MaterialKind::parse(k).ok_or_else(|| {
            ApiError::bad_request(
                "bad_kind",
                format!("unknown kind {k:?}: use faq, page or contact"),
            )
        })?),
    };
    let req = SearchRequest {
        q,
        kind,
        department: p.get("department").filter(|d| !d.is_empty()).cloned(),
        department_level: match p.get("department_level").map(String::as_str) {
            None | Some("") => None,
            Some(l) => Some(crate::departments::Level::parse(l).ok_or_else(|| {
                ApiError::bad_request(
                    "bad_level",
                    format!("unknown department_level {l:?}: use bu (部), ka (課) or kakari (係)"),
                )
            })?),
        },
        limit: number(&p, "limit", 10)?,
        offset: number(&p, "offset", 0)?,
    };
    req.validate().map_err(|e| {
        if matches!(e, crate::search::RequestError::BadLimit(_)) {
            ApiError::bad_request(
                "bad_limit",
                format!("`limit` must be between 1 and {MAX_LIMIT}"),
            )
        } else {
            e.into()
        }
    })?;
    Ok(req)
}

async fn search(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<SearchResponse>, ApiError> {
    let mut req = request_from_query(raw.as_deref())?;
    if let Some(d) = &req.department {
        req.department = Some(state.resolve_department(d)?);
    }
    let resp = state.run_search(req).await?;
    Ok(Json(resp))
}

async fn material(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<crate::material::Material>, ApiError> {
    state
        .engine
        .get(&id)
        .map(|m| Json((*m).clone()))
        .ok_or_else(|| ApiError::not_found(format!("no material with id {id:?}")))
}
