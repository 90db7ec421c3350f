//! `POST /api/inquiries` and `GET /api/inquiries/{id}`, plus the helpers shared by the
//! statistics resources (store access, JSON bodies, error mapping, search-log wiring).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::auth::{Principal, Role};
use super::params::{Params, required_wire};
use super::{ApiCode, ApiError, AppState, SearchObserver};
use crate::stats::workflow::InquiryFilter;
use crate::stats::{Channel, NewInquiry, Outcome, SearchLogger, SearchRecord, Store};

/// Most material ids of a search kept in the search log.
pub const LOGGED_TOP_IDS: usize = 10;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/inquiries", post(create).get(list))
        .route("/api/inquiries/{id}", get(read))
}

impl AppState {
    /// Adds the statistics store and, if given, the search log (chained after any search
    /// observer already set).
    pub fn with_stats(mut self, store: Arc<Store>, logger: Option<Arc<SearchLogger>>) -> Self {
        self.stats = Some(store);
        if let Some(logger) = logger {
            let previous = self.on_search.take();
            let l = logger.clone();
            let obs: SearchObserver = Arc::new(move |req, resp| {
                if let Some(p) = &previous {
                    p(req, resp);
                }
                l.log(SearchRecord {
                    query_id: resp.query_id.clone(),
                    query: req.q.clone(),
                    hits: resp.total,
                    took_ms: resp.took_ms,
                    top_ids: resp
                        .hits
                        .iter()
                        .take(LOGGED_TOP_IDS)
                        .map(|h| h.id.clone())
                        .collect(),
                    at: Utc::now(),
                    filters: search_filters(req),
                });
            });
            self.on_search = Some(obs);
            self.search_log = Some(logger);
        }
        self
    }
}

/// The filters of a search as logged (`None` when unfiltered).
fn search_filters(req: &crate::search::SearchRequest) -> Option<String> {
    if req.kind.is_none() && req.department.is_none() {
        return None;
    }
    let mut m = serde_json::Map::new();
    if let Some(k) = req.kind {
        m.insert("kind".into(), k.as_str().into());
    }
    if let Some(d) = &req.department {
        m.insert("department".into(), d.clone().into());
    }
    Some(serde_json::Value::Object(m).to_string())
}

/// Returns the store, or 503 when the service runs without one.
pub(crate) fn store(state: &AppState) -> Result<Arc<Store>, ApiError> {
    state.stats.clone().ok_or_else(|| {
        ApiError::new(
            ApiCode::StatsDisabled,
            "the statistics store is not enabled",
        )
    })
}

/// Runs store work on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await?
}

/// Parses a JSON body, answering 400 `bad_json` with serde's message otherwise.
pub(crate) fn json_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::new(ApiCode::BadJson, e.to_string()))
}

/// The request body of `POST /api/inquiries` (all strings, checked by hand for precise
/// error codes).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = InquiryBody)]
#[serde(deny_unknown_fields)]
struct Body {
    query_id: Option<String>,
    received_at: Option<String>,
    channel: Option<String>,
    category: Option<String>,
    outcome: Option<String>,
    #[serde(default)]
    material_ids: Vec<String>,
    department: Option<String>,
    summary: Option<String>,
    contact: Option<String>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// Parses `received_at` as strict RFC 3339 (section 5.6 `date-time`: `T` or `t` between
/// date and time, seconds given, `Z` or a `±hh:mm` offset; chrono alone also takes a space
/// and offsets without the colon) on or after `earliest` (JST).
fn parse_received_at(
    s: &str,
    earliest: chrono::NaiveDate,
) -> Result<chrono::DateTime<chrono::FixedOffset>, ApiError> {
    static STRICT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$",
        )
        .expect("valid regex")
    });
    let bad = |why: String| {
        ApiError::new(
            ApiCode::BadReceivedAt,
            format!("`received_at` must be RFC 3339 (2026-04-01T09:30:00+09:00): {why}"),
        )
    };
    if !STRICT.is_match(s) {
        return Err(bad(format!("{s:?} is not of that form")));
    }
    let t = DateTime::parse_from_rfc3339(s).map_err(|e| bad(e.to_string()))?;
    if crate::stats::jst_date(&t) < earliest {
        return Err(ApiError::new(
            ApiCode::BadReceivedAt,
            format!("`received_at` is before {earliest} (`[stats] earliest_received_at`)"),
        ));
    }
    Ok(t)
}

/// Checks a request body and builds the inquiry (material existence is checked apart).
fn inquiry_from(
    body: Body,
    now: DateTime<Utc>,
    earliest: chrono::NaiveDate,
) -> Result<NewInquiry, ApiError> {
    let channel: Channel = required_wire(body.channel.as_deref(), "channel", ApiCode::BadChannel)?;
    let outcome: Outcome = required_wire(body.outcome.as_deref(), "outcome", ApiCode::BadOutcome)?;
    let received_at = match non_empty(body.received_at) {
        None => now.fixed_offset(),
        Some(s) => parse_received_at(&s, earliest)?,
    };
    if received_at.with_timezone(&Utc) > now + chrono::Duration::days(1) {
        return Err(ApiError::new(
            ApiCode::BadReceivedAt,
            "`received_at` is more than a day in the future",
        ));
    }
    let inq = NewInquiry {
        query_id: non_empty(body.query_id),
        received_at,
        channel,
        category: non_empty(body.category),
        outcome,
        material_ids: body
            .material_ids
            .into_iter()
            .map(|m| m.trim().to_string())
            .collect(),
        department: non_empty(body.department),
        summary: non_empty(body.summary),
        contact: non_empty(body.contact),
        recorded_by: None,
    };
    inq.validate()?;
    Ok(inq)
}

/// `POST /api/inquiries`; with an `Idempotency-Key` header a retry of the same request
/// (same key, same body, same token) answers the inquiry recorded the first time, with the
/// same status, and `Idempotent-Replayed: true` (see [`crate::stats::idempotency`]).
#[utoipa::path(post, path = "/api/inquiries", request_body = Body, responses((status = 201, description = "Recorded (also for a replayed `Idempotency-Key`)", body = crate::stats::store::Recorded)))]
async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    headers: axum::http::HeaderMap,
    raw: Bytes,
) -> Result<Response, ApiError> {
    let store = store(&state)?;
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let k = v.to_str().map_err(|_| {
                ApiError::new(
                    ApiCode::BadIdempotencyKey,
                    "`Idempotency-Key` may hold visible ASCII only",
                )
            })?;
            Some(
                crate::stats::idempotency::IdempotencyKey::new(k, who.token_id.as_deref(), &raw)
                    .map_err(|m| ApiError::new(ApiCode::BadIdempotencyKey, m))?,
            )
        }
    };
    let body: Body = json_body(&raw)?;
    let mut inq = inquiry_from(body, Utc::now(), *state.earliest_received_at.get())?;
    inq.recorded_by = who.token_id.clone();
    if let Some(d) = &inq.department {
        inq.department = Some(state.resolve_department(d)?);
    }
    if let Some(c) = &inq.category {
        inq.category = Some(state.check_category(c)?);
    }
    if inq.outcome == Outcome::Escalated && inq.summary.is_none() && inq.query_id.is_none() {
        return Err(ApiError::new(
            ApiCode::MissingQuestion,
            "an `escalated` inquiry needs `summary` or `query_id`: the department must see \
             what was asked",
        ));
    }
    if let Some(qid) = inq.query_id.clone() {
        // The search log is written in the background: a search of the last few
        // milliseconds may still be queued, so wait for the queue before refusing.
        let st = store.clone();
        let logger = state.search_log.clone();
        let known = blocking(move || {
            if st.search_query(&qid)?.is_some() {
                return Ok(true);
            }
            if let Some(l) = logger {
                l.flush();
            }
            Ok(st.search_query(&qid)?.is_some())
        })
        .await?;
        if !known {
            return Err(ApiError::new(
                ApiCode::UnknownQuery,
                format!(
                    "no search with query_id {:?} in the search log",
                    inq.query_id.as_deref().unwrap_or("")
                ),
            ));
        }
    }
    for id in &inq.material_ids {
        if state.engine.get(id).is_none() {
            return Err(ApiError::new(
                ApiCode::UnknownMaterial,
                format!("no material with id {id:?}"),
            ));
        }
    }
    let learn = learning(&state, &inq);
    let Some(key) = key else {
        let rec = blocking(move || Ok(store.record_inquiry(&inq)?)).await?;
        learn_from(learn).await;
        return Ok((StatusCode::CREATED, Json(rec)).into_response());
    };
    let (rec, replayed) = blocking(move || Ok(store.record_inquiry_once(&inq, &key)?)).await?;
    if !replayed {
        learn_from(learn).await;
    }
    let mut r = (StatusCode::CREATED, Json(rec)).into_response();
    if replayed {
        r.headers_mut().insert(
            "idempotent-replayed",
            axum::http::HeaderValue::from_static("true"),
        );
    }
    Ok(r)
}

/// What an answered inquiry teaches ([`crate::learn`]): its search and materials, when
/// learning is on and the inquiry is `answered` with a `query_id` and materials.
type Lesson = Option<(Arc<crate::learn::Learner>, String, Vec<String>)>;

fn learning(state: &AppState, inq: &NewInquiry) -> Lesson {
    let l = state.learner.clone()?;
    let qid = inq.query_id.clone()?;
    (inq.outcome == Outcome::Answered && !inq.material_ids.is_empty())
        .then(|| (l, qid, inq.material_ids.clone()))
}

/// Records `lesson` after its inquiry was committed; a failure is logged, never the
/// inquiry's error.
async fn learn_from(lesson: Lesson) {
    let Some((l, qid, ids)) = lesson else { return };
    let r = tokio::task::spawn_blocking(move || l.record_search(&qid, &ids, Utc::now())).await;
    if let Ok(Err(e)) = r {
        tracing::warn!(error = %e, "cannot record the learned query");
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = InquiryList)]
struct List {
    inquiries: Vec<crate::stats::Inquiry>,
}

/// `GET /api/inquiries?from=&to=&outcome=&channel=&department=&limit=`: newest first;
/// an operator sees the inquiries recorded with their own token.
#[utoipa::path(get, path = "/api/inquiries", responses((status = 200, description = "Newest first", body = List)))]
async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> Result<Json<List>, ApiError> {
    let p = Params::parse(raw.as_deref())?;
    let day = |name: &str| -> Result<Option<i64>, ApiError> {
        Ok(p.date(name)?.map(crate::stats::day_number))
    };
    let outcome = p.wire::<Outcome>("outcome", ApiCode::BadOutcome)?;
    let channel = p.wire::<Channel>("channel", ApiCode::BadChannel)?;
    let department = match p.non_empty("department") {
        Some(d) => Some(state.resolve_department(d)?),
        None => None,
    };
    let filter = InquiryFilter {
        from_day: day("from")?,
        to_day: day("to")?,
        outcome,
        channel,
        department,
        recorded_by: if who.role == Role::Operator {
            who.token_id.clone()
        } else {
            None
        },
        limit: p.limit(100, 1000)?,
    };
    let store = store(&state)?;
    let inquiries = blocking(move || Ok(store.inquiries(&filter)?)).await?;
    Ok(Json(List { inquiries }))
}

#[utoipa::path(get, path = "/api/inquiries/{id}", params(("id" = String, Path)), responses((status = 200, description = "The inquiry", body = crate::stats::Inquiry)))]
async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<crate::stats::Inquiry>, ApiError> {
    let store = store(&state)?;
    Ok(Json(blocking(move || Ok(store.inquiry(&id)?)).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> Body {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn codes_name_the_problem() {
        let now = Utc::now();
        let earliest = crate::http::DEFAULT_EARLIEST_RECEIVED_AT;
        let code = |j: &str| {
            inquiry_from(body(j), now, earliest)
                .unwrap_err()
                .code()
                .as_str()
        };
        assert_eq!(
            code(r#"{"channel":"phone","outcome":"solved"}"#),
            "bad_outcome"
        );
        assert_eq!(
            code(r#"{"channel":"pigeon","outcome":"transfer"}"#),
            "bad_channel"
        );
        assert_eq!(code(r#"{"outcome":"transfer"}"#), "bad_channel");
        assert_eq!(
            code(r#"{"channel":"phone","outcome":"escalated"}"#),
            "missing_department"
        );
        assert_eq!(
            code(r#"{"channel":"phone","outcome":"answered"}"#),
            "missing_material"
        );
        assert_eq!(
            code(r#"{"channel":"phone","outcome":"koucho","received_at":"yesterday"}"#),
            "bad_received_at"
        );
        let long = "あ".repeat(crate::stats::MAX_SUMMARY_CHARS + 1);
        assert_eq!(
            code(&format!(
                r#"{{"channel":"phone","outcome":"koucho","summary":"{long}"}}"#
            )),
            "summary_too_long"
        );
        let ok = inquiry_from(
            body(r#"{"channel":"fax","outcome":"transfer","received_at":"2026-03-31T15:30:00Z"}"#),
            now,
            earliest,
        )
        .unwrap();
        assert_eq!(
            crate::stats::jst_date(&ok.received_at).to_string(),
            "2026-04-01"
        );
    }

    #[test]
    fn received_at_is_strict_rfc_3339_after_the_earliest_date() {
        let earliest = crate::http::DEFAULT_EARLIEST_RECEIVED_AT;
        for good in [
            "2026-04-01T09:30:00+09:00",
            "2026-04-01t00:30:00.125z",
            "2000-01-01T00:00:00+09:00",
        ] {
            assert!(parse_received_at(good, earliest).is_ok(), "{good}");
        }
        // chrono alone accepts the first three; the last ones are not dates at all.
        for bad in [
            "2026-04-01 09:30:00+09:00",
            "2026-04-01T09:30:00+0900",
            "2026-04-01T09:30+09:00",
            "2026-04-01",
            "2026-02-30T09:30:00+09:00",
            "２０２６-04-01T09:30:00+09:00",
        ] {
            let e = parse_received_at(bad, earliest).unwrap_err();
            assert_eq!(e.code(), ApiCode::BadReceivedAt, "{bad}");
        }
        // Before the earliest date (JST): 1999-12-31T15:00Z is 2000-01-01 00:00 JST.
        assert!(parse_received_at("1999-12-31T15:00:00Z", earliest).is_ok());
        let e = parse_received_at("1999-12-31T14:59:59Z", earliest).unwrap_err();
        assert!(e.message().contains("before 2000-01-01"), "{}", e.message());
        let later = chrono::NaiveDate::from_ymd_opt(2020, 4, 1).unwrap();
        assert!(parse_received_at("2019-05-01T09:00:00+09:00", later).is_err());
    }
}
