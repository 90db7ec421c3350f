//! Escalations (エスカレーション): list, the department's answer, the promotion draft of the
//! answer (reviewed and published in [`super::promotions`]), closing.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};

use super::auth::{Principal, Role, forbidden};
use super::inquiries::{blocking, json_body, store};
use super::params::Params;
use super::{ApiCode, ApiError, AppState};
use crate::promotion;
use crate::stats::{Draft, Escalation, EscalationStatus, MAX_ANSWER_CHARS, MAX_FIELD_CHARS};
use axum::http::StatusCode;

pub use crate::promotion::PROMOTED_COLLECTION;
/// Most escalations listed at once.
pub const MAX_LIST: usize = 1000;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/escalations", get(list))
        .route("/api/escalations/{id}", get(one))
        .route("/api/escalations/{id}/answer", post(answer))
        .route("/api/escalations/{id}/promote", post(promote))
        .route("/api/escalations/{id}/close", post(close))
        .route("/api/escalations/{id}/reassign", post(reassign))
        .route("/api/escalations/{id}/callback", post(callback))
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = EscalationList)]
struct List {
    escalations: Vec<Escalation>,
}

#[utoipa::path(get, path = "/api/escalations", responses((status = 200, description = "Escalations", body = List)))]
async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> Result<Json<List>, ApiError> {
    let store = store(&state)?;
    let p = Params::parse(raw.as_deref())?;
    let status = p.wire::<EscalationStatus>("status", ApiCode::BadStatus)?;
    let mut department = match p.non_empty("department") {
        Some(d) => Some(state.resolve_department(d)?),
        None => None,
    };
    if who.role == Role::Department {
        match (&department, &who.department) {
            (Some(asked), Some(_)) if !who.may_handle(asked) => {
                return Err(forbidden("a department sees only its own escalations"));
            }
            (Some(_), Some(_)) => {}
            _ => department = who.department.clone(),
        }
    }
    let n = p.limit(100, MAX_LIST)?;
    let overdue = match p.non_empty("overdue") {
        None | Some("false") => false,
        Some("true") => true,
        Some(v) => {
            return Err(ApiError::new(
                ApiCode::BadParameter,
                format!("`overdue` must be `true` or `false`, not {v:?}"),
            ));
        }
    };
    let due = *state.escalation_due_hours.get();
    let escalations = blocking(move || {
        let now = chrono::Utc::now();
        // Overdue ones are open: read the open ones, the newest first, and keep the late.
        let (status, fetch) = if overdue {
            (Some(EscalationStatus::Open), MAX_LIST)
        } else {
            (status, n)
        };
        let mut list = store.escalations(department.as_deref(), status, fetch)?;
        for e in &mut list {
            e.set_due(due, now);
        }
        if overdue {
            list.retain(|e| e.overdue == Some(true));
            list.truncate(n);
        }
        Ok(list)
    })
    .await?;
    Ok(Json(List { escalations }))
}

/// Loads escalation `id` and checks that `who` may act on it.
async fn load(state: &AppState, who: &Principal, id: String) -> Result<Escalation, ApiError> {
    let store = store(state)?;
    let e = blocking(move || Ok(store.escalation(&id)?)).await?;
    if !who.may_handle(&e.department) {
        return Err(forbidden("this escalation belongs to another department"));
    }
    Ok(e)
}

#[utoipa::path(get, path = "/api/escalations/{id}", params(("id" = String, Path)), responses((status = 200, description = "The escalation", body = Escalation)))]
async fn one(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<Escalation>, ApiError> {
    load(&state, &who, id.clone()).await?;
    let store = store(&state)?;
    let mut e = blocking(move || Ok(store.escalation_with_history(&id)?)).await?;
    e.set_due(*state.escalation_due_hours.get(), chrono::Utc::now());
    Ok(Json(e))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ReassignBody {
    department: Option<String>,
}

/// `POST /api/escalations/{id}/reassign {department}`: hands an open escalation to another
/// department (resolved against the registry); the previous one is kept in the history.
#[utoipa::path(post, path = "/api/escalations/{id}/reassign", params(("id" = String, Path)), request_body = ReassignBody, responses((status = 200, description = "The escalation", body = Escalation)))]
async fn reassign(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Escalation>, ApiError> {
    let b: ReassignBody = json_body(&body)?;
    let department = required(b.department, "department", MAX_FIELD_CHARS)?;
    let department = state.resolve_department(&department)?;
    load(&state, &who, id.clone()).await?;
    let by = actor(&who);
    let store = store(&state)?;
    Ok(Json(
        blocking(move || Ok(store.reassign_escalation(&id, &department, &by)?)).await?,
    ))
}

/// Who acts, as the history records it: a department token's department, else the role.
pub(super) fn actor(who: &Principal) -> String {
    match (&who.role, &who.department) {
        (Role::Department, Some(d)) => d.clone(),
        (r, _) => format!("{r:?}").to_lowercase(),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CallbackBody {
    called_back_by: Option<String>,
}

/// `POST /api/escalations/{id}/callback {called_back_by}`: records the call-back to the
/// caller and deletes the caller's contact details.
#[utoipa::path(post, path = "/api/escalations/{id}/callback", params(("id" = String, Path)), request_body = CallbackBody, responses((status = 200, description = "The escalation", body = Escalation)))]
async fn callback(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Escalation>, ApiError> {
    let b: CallbackBody = json_body(&body)?;
    let by = staff(b.called_back_by, "called_back_by")?;
    load(&state, &who, id.clone()).await?;
    let store = store(&state)?;
    Ok(Json(
        blocking(move || Ok(store.record_callback(&id, &by)?)).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    answer: Option<String>,
    answered_by: Option<String>,
}

fn required(v: Option<String>, name: &str, max: usize) -> Result<String, ApiError> {
    let v = v.map(|s| s.trim().to_string()).unwrap_or_default();
    if v.is_empty() {
        return Err(ApiError::new(
            ApiCode::MissingField,
            format!("`{name}` is required"),
        ));
    }
    if v.chars().count() > max {
        return Err(ApiError::new(
            ApiCode::FieldTooLong,
            format!("`{name}` is over the limit of {max} characters"),
        ));
    }
    Ok(v)
}

/// A field naming staff (`answered_by`, `called_back_by`): required, short, and free of
/// what the redactor catches (a phone number, an e-mail address, a caller's name before
/// 様): it is stored as given and shown in the history, so it must not carry personal data
/// of a caller. Answers 400 `personal_data` otherwise.
fn staff(v: Option<String>, name: &str) -> Result<String, ApiError> {
    let v = required(v, name, MAX_FIELD_CHARS)?;
    if v.chars().any(char::is_control) {
        return Err(ApiError::new(
            ApiCode::FieldTooLong,
            format!("`{name}` must be one line"),
        ));
    }
    let redacted = crate::stats::redact::redact(&v);
    if redacted != v {
        return Err(ApiError::new(
            ApiCode::PersonalData,
            format!(
                "`{name}` looks like it holds personal data ({redacted}); give the section \
                 and the staff member, e.g. `国保係 佐藤`"
            ),
        ));
    }
    Ok(v)
}

#[utoipa::path(post, path = "/api/escalations/{id}/answer", params(("id" = String, Path)), request_body = AnswerBody, responses((status = 200, description = "The escalation", body = Escalation)))]
async fn answer(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Escalation>, ApiError> {
    let b: AnswerBody = json_body(&body)?;
    let answer = required(b.answer, "answer", MAX_ANSWER_CHARS)?;
    let by = staff(b.answered_by, "answered_by")?;
    load(&state, &who, id.clone()).await?;
    let store = store(&state)?;
    Ok(Json(
        blocking(move || Ok(store.answer_escalation(&id, &answer, &by)?)).await?,
    ))
}

#[utoipa::path(post, path = "/api/escalations/{id}/close", params(("id" = String, Path)), responses((status = 200, description = "The escalation", body = Escalation)))]
async fn close(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<Escalation>, ApiError> {
    load(&state, &who, id.clone()).await?;
    let store = store(&state)?;
    Ok(Json(
        blocking(move || Ok(store.close_escalation(&id)?)).await?,
    ))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PromoteBody {
    question: Option<String>,
    answer: Option<String>,
}

/// `POST /api/escalations/{id}/promote {question?, answer?}`: writes a promotion draft
/// (201), prefilled from the inquiry and the department's answer when blank; nothing is
/// published until `POST /api/promotions/{draft}/publish`.
#[utoipa::path(post, path = "/api/escalations/{id}/promote", params(("id" = String, Path)), request_body(content = Option<PromoteBody>, description = "Optional"), responses((status = 201, description = "The draft", body = Draft)))]
async fn promote(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Draft>), ApiError> {
    let b: PromoteBody = if body.iter().all(u8::is_ascii_whitespace) {
        PromoteBody::default()
    } else {
        json_body(&body)?
    };
    let st = store(&state)?;
    let by = actor(&who);
    let d =
        blocking(move || Ok(promotion::draft(&st, &id, b.question, b.answer, Some(&by))?)).await?;
    Ok((StatusCode::CREATED, Json(d)))
}
