//! `GET /api/search` and `GET /api/materials/{id}`.

use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};

use super::params::Params;
use super::{ApiCode, ApiError, AppState};
use crate::material::MaterialKind;
use crate::search::{SearchRequest, SearchResponse};

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/search", get(search))
        .route("/api/materials/{id}", get(material))
}

/// Builds a validated [`SearchRequest`] from the query string.
///
/// # Errors
/// 400 naming the bad parameter (see [`ApiCode`]).
pub fn request_from_query(raw: Option<&str>) -> Result<SearchRequest, ApiError> {
    let p = Params::parse(raw)?;
    let req = SearchRequest {
        q: p.get("q").unwrap_or_default().to_string(),
        kind: p.wire::<MaterialKind>("kind", ApiCode::BadKind)?,
        department: p.non_empty("department").map(str::to_string),
        department_level: match p.non_empty("department_level") {
            None => None,
            Some(l) => Some(crate::departments::Level::parse(l).ok_or_else(|| {
                ApiError::new(
                    ApiCode::BadLevel,
                    format!("unknown department_level {l:?}: use bu (部), ka (課) or kakari (係)"),
                )
            })?),
        },
        limit: p.number("limit", 10)?,
        offset: p.number("offset", 0)?,
    };
    req.validate()?;
    Ok(req)
}

#[utoipa::path(get, path = "/api/search", params(("q" = String, Query, description = "The query"), ("limit" = Option<usize>, Query), ("offset" = Option<usize>, Query), ("kind" = Option<crate::material::MaterialKind>, Query), ("department" = Option<String>, Query)), responses((status = 200, description = "Ranked hits with facets", body = SearchResponse)))]
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

#[utoipa::path(get, path = "/api/materials/{id}", params(("id" = String, Path)), responses((status = 200, description = "The material", body = crate::material::Material)))]
async fn material(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<crate::material::Material>, ApiError> {
    state
        .engine
        .get(&id)
        // Not yet valid: as absent, so an answer written ahead of its announcement does not
        // leak through the materials API (expired materials stay readable for correction).
        .filter(|m| m.valid_from.is_none_or(|t| t <= chrono::Utc::now()))
        .map(|m| Json((*m).clone()))
        .ok_or_else(|| ApiError::new(ApiCode::NotFound, format!("no material with id {id:?}")))
}
