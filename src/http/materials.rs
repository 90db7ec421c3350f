//! `PUT /api/materials/{id}` and `DELETE /api/materials/{id}` (roles manager, admin): for
//! integrators, and for correcting or retiring what was published (a crawled page's FAQ,
//! a promoted answer). `GET` is in `search.rs`.
//!
//! `PUT` body: a material as a corpus line holds it (`kind`, `question`/`answer`,
//! `title`/`body`, `contact`, `department`, `category`, `tags`, `url`, `valid_from`,
//! `valid_until`, `updated_at`; `source`/`source_id` for a new id). It replaces the whole
//! material: for an existing id, `source`, `source_id` and `kind` are kept (a different
//! `kind` or `id` in the body is `409 conflict`); for a new id, `kind` is required and the
//! material gets `source` `api` (unless given). Free text (question, answer, title, body) is
//! redacted as promoted answers are ([`crate::stats::redact`]); contact records are public
//! office data and kept. A body that is not JSON is `400 bad_json`; one that is JSON but not
//! a valid material (a missing question, a wrong type, `valid_from` after `valid_until`,
//! too large) is `422 unprocessable_material`. Answers `201` (new) or `200` with the stored
//! material, searchable when the answer is sent.
//!
//! `DELETE` → `200 {"id": "…", "retired": true}`, `404 not_found` for an unknown id.
//!
//! Precedence (see [`crate::engine::Engine::correct`]): a correction lives in the corpus
//! collection `corrections`, which wins over every other collection holding the id; a
//! retired id is listed in `corpus/retired.txt` and hidden in every collection. So a
//! recrawl, a re-import, a webhook delivery or a rebuild never brings back the old text;
//! a later `PUT` of a retired id brings it back as corrected.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::put;
use serde_json::{Value, json};

use super::{ApiCode, ApiError, AppState};
use crate::material::Material;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/materials/{id}", put(upsert).delete(retire))
}

fn unprocessable(msg: impl Into<String>) -> ApiError {
    ApiError::new(ApiCode::UnprocessableMaterial, msg)
}

/// Builds the material `PUT` stores from the body and the stored version (if any).
fn material_from_body(
    id: &str,
    body: &Bytes,
    stored: Option<&Material>,
) -> Result<Material, ApiError> {
    let mut obj = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return Err(unprocessable("the body must be a JSON object (a material)")),
        Err(e) => return Err(ApiError::new(ApiCode::BadJson, e.to_string())),
    };
    if let Some(b) = obj.get("id").and_then(Value::as_str)
        && b != id
    {
        return Err(ApiError::new(
            ApiCode::Conflict,
            format!("the body's id {b:?} is not the path's {id:?}"),
        ));
    }
    obj.insert("id".into(), Value::String(id.to_string()));
    match stored {
        Some(m) => {
            if let Some(k) = obj.get("kind").and_then(Value::as_str)
                && k != m.kind.as_str()
            {
                return Err(ApiError::new(
                    ApiCode::Conflict,
                    format!(
                        "material {id} is a {}; a correction keeps its kind (got {k:?})",
                        m.kind.as_str()
                    ),
                ));
            }
            obj.insert("kind".into(), Value::String(m.kind.as_str().into()));
            obj.insert("source".into(), Value::String(m.source.clone()));
            obj.insert("source_id".into(), Value::String(m.source_id.clone()));
        }
        None => {
            obj.entry("source")
                .or_insert_with(|| Value::String("api".into()));
            obj.entry("source_id")
                .or_insert_with(|| Value::String(id.to_string()));
        }
    }
    obj.entry("updated_at").or_insert_with(|| {
        Value::String(
            chrono::Utc::now()
                .with_timezone(&chrono_tz::Asia::Tokyo)
                .to_rfc3339(),
        )
    });
    let mut m: Material =
        serde_json::from_value(Value::Object(obj)).map_err(|e| unprocessable(e.to_string()))?;
    let redact = crate::stats::redact::redact;
    m.question = m.question.as_deref().map(redact);
    m.answer = m.answer.as_deref().map(redact);
    m.body = m.body.as_deref().map(redact);
    m.title = redact(&m.title);
    m.validate().map_err(|e| unprocessable(e.to_string()))?;
    Ok(m)
}

#[utoipa::path(put, path = "/api/materials/{id}", params(("id" = String, Path)), request_body = Material, responses((status = 200, description = "Corrected", body = Material), (status = 201, description = "Added", body = Material)))]
async fn upsert(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Material>), ApiError> {
    let engine = state.engine.clone();
    super::inquiries::blocking(move || {
        let stored = engine.get(&id);
        let m = material_from_body(&id, &body, stored.as_deref())?;
        let created = engine.correct(m.clone()).map_err(ApiError::from)?;
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok((status, Json(m)))
    })
    .await
}

#[utoipa::path(delete, path = "/api/materials/{id}", params(("id" = String, Path)), responses((status = 200, description = "`{\"id\", \"retired\": true}`", body = Value)))]
async fn retire(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let engine = state.engine.clone();
    super::inquiries::blocking(move || {
        if engine.retire(&id).map_err(ApiError::from)? {
            Ok(Json(json!({"id": id, "retired": true})))
        } else {
            Err(ApiError::new(
                ApiCode::NotFound,
                format!("no material with id {id:?}"),
            ))
        }
    })
    .await
}
