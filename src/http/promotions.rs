//! Promotion drafts (`/api/promotions`): the review of an escalation's answer before it is
//! published as a `faq` material. `POST /api/escalations/{id}/promote` writes the draft
//! (see [`crate::promotion`]); here a manager lists, reads, edits, publishes or discards
//! it. Managers and admins only (see [`super::auth::allowed_roles`]).
//!
//! A published material is then edited or retired like any other material
//! (`PUT`/`DELETE /api/materials/{id}`); the draft stays as its history.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};

use super::auth::Principal;
use super::escalations::actor;
use super::inquiries::{blocking, json_body, store};
use super::params::Params;
use super::{ApiCode, ApiError, AppState};
use crate::material::Material;
use crate::promotion;
use crate::stats::{Draft, DraftStatus, Escalation, MAX_ANSWER_CHARS, MAX_SUMMARY_CHARS};

/// Most drafts listed at once.
pub const MAX_LIST: usize = 1000;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/promotions", get(list))
        .route("/api/promotions/{id}", get(one).put(edit))
        .route("/api/promotions/{id}/publish", post(publish))
        .route("/api/promotions/{id}/discard", post(discard))
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = DraftList)]
struct List {
    drafts: Vec<Draft>,
}

/// `GET /api/promotions?status=draft|published|discarded|all&limit=`: newest first;
/// `status` defaults to `draft` (what waits for review).
#[utoipa::path(get, path = "/api/promotions", responses((status = 200, description = "Drafts", body = List)))]
async fn list(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<List>, ApiError> {
    let store = store(&state)?;
    let p = Params::parse(raw.as_deref())?;
    let status = match p.non_empty("status") {
        Some("all") => None,
        None => Some(DraftStatus::Draft),
        Some(_) => p.wire::<DraftStatus>("status", ApiCode::BadStatus)?,
    };
    let n = p.limit(100, MAX_LIST)?;
    let drafts = blocking(move || Ok(store.drafts(status, n)?)).await?;
    Ok(Json(List { drafts }))
}

#[utoipa::path(get, path = "/api/promotions/{id}", params(("id" = String, Path)), responses((status = 200, description = "The draft", body = Draft)))]
async fn one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Draft>, ApiError> {
    let store = store(&state)?;
    Ok(Json(blocking(move || Ok(store.draft(&id)?)).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct EditBody {
    question: Option<String>,
    answer: Option<String>,
}

fn text(v: Option<String>, name: &str, max: usize) -> Result<Option<String>, ApiError> {
    let Some(v) = v.map(|s| s.trim().to_string()) else {
        return Ok(None);
    };
    if v.is_empty() && name == "question" {
        return Err(ApiError::new(
            ApiCode::MissingField,
            "`question` must not be blank",
        ));
    }
    if v.chars().count() > max {
        return Err(ApiError::new(
            ApiCode::FieldTooLong,
            format!("`{name}` is over the limit of {max} characters"),
        ));
    }
    Ok(Some(v))
}

/// `PUT /api/promotions/{id} {question?, answer?}`: edits an open draft; the texts are
/// redacted and flagged again.
#[utoipa::path(put, path = "/api/promotions/{id}", params(("id" = String, Path)), request_body = EditBody, responses((status = 200, description = "The draft", body = Draft)))]
async fn edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Draft>, ApiError> {
    let b: EditBody = json_body(&body)?;
    let q = text(b.question, "question", MAX_SUMMARY_CHARS)?;
    let a = text(b.answer, "answer", MAX_ANSWER_CHARS)?;
    if q.is_none() && a.is_none() {
        return Err(ApiError::new(
            ApiCode::MissingField,
            "give `question`, `answer` or both",
        ));
    }
    let store = store(&state)?;
    Ok(Json(
        blocking(move || Ok(store.edit_draft(&id, q.as_deref(), a.as_deref())?)).await?,
    ))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PublishBody {
    #[serde(default)]
    acknowledge_flags: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Published {
    draft: Draft,
    escalation: Escalation,
    material: Material,
}

/// `POST /api/promotions/{id}/publish {acknowledge_flags?}`: writes the `faq` material
/// (indexed at once) and closes the escalation as promoted; 409 `draft_flagged` for a
/// draft with flags unless `acknowledge_flags` is true.
#[utoipa::path(post, path = "/api/promotions/{id}/publish", params(("id" = String, Path)), request_body(content = Option<PublishBody>, description = "Optional"), responses((status = 200, description = "Published", body = Published)))]
async fn publish(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Published>, ApiError> {
    let b: PublishBody = if body.iter().all(u8::is_ascii_whitespace) {
        PublishBody::default()
    } else {
        json_body(&body)?
    };
    let engine = state.engine.clone();
    let st = store(&state)?;
    let by = actor(&who);
    let learner = state.learner.clone();
    let (draft, escalation, material) = blocking(move || {
        let published = promotion::publish(&engine, &st, &id, Some(&by), b.acknowledge_flags)?;
        // The promoted question is evidence for its new material (crate::learn).
        if let Some(l) = learner
            && let Err(e) = l.record(
                &published.0.question,
                std::slice::from_ref(&published.2.id),
                chrono::Utc::now(),
            )
        {
            tracing::warn!(error = %e, "cannot record the promoted question");
        }
        Ok(published)
    })
    .await?;
    Ok(Json(Published {
        draft,
        escalation,
        material,
    }))
}

/// `POST /api/promotions/{id}/discard`: the draft is kept as history; the escalation may
/// be drafted again.
#[utoipa::path(post, path = "/api/promotions/{id}/discard", params(("id" = String, Path)), responses((status = 200, description = "The draft", body = Draft)))]
async fn discard(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<Draft>, ApiError> {
    let st = store(&state)?;
    let by = actor(&who);
    Ok(Json(
        blocking(move || Ok(st.discard_draft(&id, Some(&by))?)).await?,
    ))
}
