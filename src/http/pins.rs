//! Pinned answers (Fess's "Key Match"): `POST /api/pins {"query", "material_id"}`,
//! `GET /api/pins`, `DELETE /api/pins/{id}` (manager, admin; see
//! [`super::auth::allowed_roles`]). A search whose query has a pin's key
//! ([`crate::stats::gaps::query_key`]) shows the pinned material first, marked
//! `"pinned": true` (see [`apply_pins`]). Pins are stored in the statistics store
//! (`0005_pins.sql`), so they survive restarts and index rebuilds; a pin whose material is
//! gone or outside its validity window is listed with its `status` and never shown.

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::auth::Principal;
use super::inquiries::{blocking, json_body, store};
use super::{ApiCode, ApiError, AppState};
use crate::engine::Engine;
use crate::search::{Highlighter, SearchRequest, SearchResponse};
use crate::stats::Store;
use crate::stats::pins::Pin;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/pins", get(list).post(create))
        .route("/api/pins/{id}", delete(remove))
}

crate::wire_enum! {
    /// Whether a pin is shown.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum PinStatus {
        /// Its material exists and is valid now: searches show it.
        Shown = "shown",
        /// Its material was deleted: not shown.
        Missing = "missing",
        /// Its material is outside its validity window (expired or not yet valid): not
        /// shown.
        NotValid = "not_valid",
    }
}

/// A pin with its status.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PinView {
    /// The pin.
    #[serde(flatten)]
    pub pin: Pin,
    /// Whether searches show it.
    pub status: PinStatus,
}

/// Whether `pin` is shown at `now` (Unix seconds): its material exists and is valid.
pub fn status_of(engine: &Engine, pin: &Pin, now: i64) -> PinStatus {
    match engine.materials().get(&pin.material_id) {
        None => PinStatus::Missing,
        Some(m) if !m.is_valid_at(now) => PinStatus::NotValid,
        Some(_) => PinStatus::Shown,
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct NewPin {
    query: String,
    material_id: String,
}

#[utoipa::path(post, path = "/api/pins", request_body = NewPin, responses((status = 201, description = "The pin", body = PinView)))]
async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    body: Bytes,
) -> Result<(StatusCode, Json<PinView>), ApiError> {
    let store = store(&state)?;
    let body: NewPin = json_body(&body)?;
    if !state.engine.materials().contains_key(&body.material_id) {
        return Err(ApiError::new(
            ApiCode::UnknownMaterial,
            format!("no material with id {:?}", body.material_id),
        ));
    }
    let engine = state.engine.clone();
    let by = who.token_id.clone();
    let view = blocking(move || {
        let now = Utc::now();
        let pin = store.add_pin(
            &body.query,
            &body.material_id,
            by.as_deref(),
            now.timestamp_millis(),
        )?;
        let status = status_of(&engine, &pin, now.timestamp());
        Ok(PinView { pin, status })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The body of `GET /api/pins`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PinList {
    /// Every pin, oldest first.
    pub pins: Vec<PinView>,
}

#[utoipa::path(get, path = "/api/pins", responses((status = 200, description = "Every pin, oldest first", body = PinList)))]
async fn list(State(state): State<AppState>) -> Result<Json<PinList>, ApiError> {
    let store = store(&state)?;
    let engine = state.engine.clone();
    let pins = blocking(move || {
        let now = Utc::now().timestamp();
        Ok(store
            .list_pins()?
            .into_iter()
            .map(|pin| PinView {
                status: status_of(&engine, &pin, now),
                pin,
            })
            .collect())
    })
    .await?;
    Ok(Json(PinList { pins }))
}

#[utoipa::path(delete, path = "/api/pins/{id}", params(("id" = String, Path)), responses((status = 204, description = "Removed")))]
async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let store = store(&state)?;
    blocking(move || Ok(store.delete_pin(&id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Puts the materials pinned to `req.q` first in `resp` (first page only), marked
/// `pinned`, in pin order: a pinned material already among the hits moves up, another one
/// is added (and the page keeps `req.limit` hits). Pins whose material is gone, not valid
/// now, or outside the request's `kind` or `department` filter are left out.
///
/// # Errors
/// Statistics store errors.
pub fn apply_pins(
    engine: &Engine,
    store: &Store,
    req: &SearchRequest,
    mut resp: SearchResponse,
) -> Result<SearchResponse, ApiError> {
    if req.offset > 0 {
        return Ok(resp);
    }
    let pins = store.pins_for(&req.q)?;
    if pins.is_empty() {
        return Ok(resp);
    }
    let materials = engine.materials();
    let now = Utc::now().timestamp();
    let want_dep = req.department.as_deref().map(crate::departments::canonical);
    let top = resp.hits.first().map_or(0.0, |h| h.score);
    let mut pinned = Vec::new();
    for pin in pins {
        let Some(m) = materials.get(&pin.material_id) else {
            continue;
        };
        let admitted = m.is_valid_at(now)
            && req.kind.is_none_or(|k| k == m.kind)
            && want_dep.as_deref().is_none_or(|d| {
                crate::departments::path_contains(&crate::departments::material_path(m), d)
            });
        if !admitted || pinned.iter().any(|h: &crate::search::Hit| h.id == m.id) {
            continue;
        }
        let mut hit = match resp.hits.iter().position(|h| h.id == m.id) {
            Some(i) => resp.hits.remove(i),
            // The table's material lacks its texts: the snippet needs the whole one.
            None => crate::search::material_hit(
                &engine.get(&m.id).unwrap_or_else(|| m.clone()),
                &Highlighter::from_terms([]),
                top,
            ),
        };
        hit.pinned = true;
        pinned.push(hit);
    }
    pinned.append(&mut resp.hits);
    pinned.truncate(req.limit);
    resp.hits = pinned;
    Ok(resp)
}
