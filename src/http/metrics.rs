//! `GET /api/metrics/…`: first-answer rate (一次回答率), escalations per department,
//! knowledge gaps, material usage and the search-log counters. JSON, or CSV with
//! `?format=csv` (UTF-8 with a byte-order mark, for Excel).
//!
//! First-answer rate: `rate = answered / (answered + escalated)` per period in Japan time;
//! `koucho` and `transfer` are counted and reported but excluded from the rate (see
//! [`crate::stats`]).

use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::inquiries::{blocking, store};
use super::params::Params;
use super::{ApiCode, ApiError, AppState};
use crate::stats::gaps::{FilteredQueryCount, Window};
use crate::stats::metrics::{self, CsvLang, RateQuery, RateRow};
use crate::stats::store::{MaterialUsage, QueryCount};
use crate::stats::{Granularity, GroupBy};

/// The definition reported with every first-answer-rate response.
pub const RATE_DEFINITION: &str = "rate = answered / (answered + escalated), by the JST date \
     the inquiry was received; koucho and transfer are counted but excluded from the rate";

/// Longest `from`–`to` range of a first-answer-rate query, in days (20 years: the series
/// lists every period of the range).
pub const MAX_RANGE_DAYS: i64 = 20 * 366;

/// Parses `lang=ja|en` (CSV headers; default Japanese).
fn csv_lang(p: &Params) -> Result<CsvLang, ApiError> {
    match p.get("lang") {
        None | Some("" | "ja") => Ok(CsvLang::Ja),
        Some("en") => Ok(CsvLang::En),
        Some(l) => Err(ApiError::new(
            ApiCode::BadLang,
            format!("unknown lang {l:?}: use ja or en"),
        )),
    }
}

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/metrics/first-answer-rate", get(first_answer_rate))
        .route("/api/metrics/escalations", get(escalations))
        .route("/api/metrics/knowledge-gaps", get(knowledge_gaps))
        .route("/api/metrics/materials", get(materials))
        .route("/api/metrics/search-log", get(search_log))
        .route("/api/metrics/annual-review", get(annual_review))
}

fn wants_csv(p: &Params) -> Result<bool, ApiError> {
    match p.get("format") {
        None | Some("" | "json") => Ok(false),
        Some("csv") => Ok(true),
        Some(f) => Err(ApiError::new(
            ApiCode::BadFormat,
            format!("unknown format {f:?}: use json or csv"),
        )),
    }
}

fn csv_response(name: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// Builds a [`RateQuery`] from the query string.
///
/// # Errors
/// 400 naming the bad parameter.
pub fn rate_query(p: &Params) -> Result<RateQuery, ApiError> {
    let granularity = p
        .wire::<Granularity>("granularity", ApiCode::BadGranularity)?
        .unwrap_or(Granularity::Month);
    let group_by = p.wire::<GroupBy>("group_by", ApiCode::BadGroupBy)?;
    let (from, to) = (p.date("from")?, p.date("to")?);
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(ApiError::new(ApiCode::BadDate, "`from` is after `to`"));
        }
        if (t - f).num_days() > MAX_RANGE_DAYS {
            return Err(ApiError::new(
                ApiCode::BadDate,
                format!("the range is over {MAX_RANGE_DAYS} days (every period is listed)"),
            ));
        }
    }
    Ok(RateQuery {
        from,
        to,
        granularity,
        group_by,
    })
}

#[derive(Serialize, utoipa::ToSchema)]
struct RateBody {
    definition: &'static str,
    series: Vec<RateRow>,
    total: RateRow,
}

#[utoipa::path(get, path = "/api/metrics/first-answer-rate", responses((status = 200, description = "JSON, or CSV with `format=csv`", body = RateBody)))]
async fn first_answer_rate(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::parse(raw.as_deref())?;
    let csv = wants_csv(&p)?;
    let lang = csv_lang(&p)?;
    let q = rate_query(&p)?;
    let st = store(&state)?;
    let series = blocking(move || Ok(metrics::first_answer_rate(&st, &q)?)).await?;
    let total = RateRow::total(&series);
    Ok(if csv {
        csv_response(
            "first-answer-rate",
            metrics::rates_csv(&series, &total, q.group_by.is_some(), lang),
        )
    } else {
        Json(RateBody {
            definition: RATE_DEFINITION,
            series,
            total,
        })
        .into_response()
    })
}

#[derive(Serialize, utoipa::ToSchema)]
struct EscalationsBody {
    departments: Vec<metrics::DepartmentEscalations>,
}

#[utoipa::path(get, path = "/api/metrics/escalations", responses((status = 200, description = "JSON, or CSV with `format=csv`", body = EscalationsBody)))]
async fn escalations(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::parse(raw.as_deref())?;
    let csv = wants_csv(&p)?;
    let st = store(&state)?;
    let due_ms = i64::from(*state.escalation_due_hours.get()) * 3_600_000;
    let departments = blocking(move || {
        Ok(metrics::escalations_by_department(
            &st.escalation_timings()?,
            chrono::Utc::now().timestamp_millis() - due_ms,
        ))
    })
    .await?;
    Ok(if csv {
        csv_response("escalations", metrics::escalations_csv(&departments))
    } else {
        Json(EscalationsBody { departments }).into_response()
    })
}

/// A material usage row with the material's title, when it still exists.
#[derive(Serialize, utoipa::ToSchema)]
struct MaterialRow {
    #[serde(flatten)]
    usage: MaterialUsage,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
}

fn with_titles(state: &AppState, rows: Vec<MaterialUsage>) -> Vec<(MaterialUsage, Option<String>)> {
    rows.into_iter()
        .map(|usage| {
            let title = state
                .engine
                .get(&usage.material_id)
                .map(|m| m.display_title());
            (usage, title)
        })
        .collect()
}

fn rows_json(rows: Vec<(MaterialUsage, Option<String>)>) -> Vec<MaterialRow> {
    rows.into_iter()
        .map(|(usage, title)| MaterialRow { usage, title })
        .collect()
}

/// The `from`/`to` window (inclusive JST dates) of the gap and usage reports.
fn window(p: &Params) -> Result<Window, ApiError> {
    let (from, to) = (p.date("from")?, p.date("to")?);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::new(ApiCode::BadDate, "`from` is after `to`"));
    }
    Ok(Window::jst_days(from, to))
}

/// Whether the search log behind a report holds every search of the report's period:
/// records dropped (queue full) or lost (database errors) on the period's JST days make
/// the report's counts lower bounds. Sent as `search_log` in JSON (`complete`, `dropped`
/// and `failed` for the period, counted per day in the database so that they survive
/// restarts; `dropped_since_start` and `failed_since_start` of this process) and as the
/// `Search-Log-Incomplete` header (the number of records missing in the period) on CSV.
#[derive(Serialize, Clone, Copy, utoipa::ToSchema)]
struct LogCompleteness {
    complete: bool,
    dropped: u64,
    failed: u64,
    dropped_since_start: u64,
    failed_since_start: u64,
}

/// Writes the queued search log and the loss counts, then reads the losses of `w`.
async fn log_completeness(state: &AppState, w: Window) -> Result<LogCompleteness, ApiError> {
    let st = store(state)?;
    let logger = state.search_log.clone();
    let period = blocking(move || {
        if let Some(l) = &logger {
            l.flush();
        }
        Ok(st.search_log_losses_in(w)?)
    })
    .await?;
    let (dropped_since_start, failed_since_start) = state
        .search_log
        .as_ref()
        .map_or((0, 0), |l| (l.dropped(), l.failed()));
    Ok(LogCompleteness {
        complete: period.is_complete(),
        dropped: period.dropped,
        failed: period.failed,
        dropped_since_start,
        failed_since_start,
    })
}

/// Marks a CSV report built on an incomplete search log.
fn mark_csv(mut r: Response, c: LogCompleteness) -> Response {
    if !c.complete
        && let Ok(v) = axum::http::HeaderValue::from_str(&(c.dropped + c.failed).to_string())
    {
        r.headers_mut().insert("search-log-incomplete", v);
    }
    r
}

#[derive(Serialize, utoipa::ToSchema)]
struct GapsBody {
    search_log: LogCompleteness,
    zero_result_queries: Vec<QueryCount>,
    filtered_zero_result_queries: Vec<FilteredQueryCount>,
    escalated_queries: Vec<QueryCount>,
    shown_never_used: Vec<MaterialRow>,
}

#[utoipa::path(get, path = "/api/metrics/knowledge-gaps", responses((status = 200, description = "JSON, or CSV with `format=csv`", body = GapsBody)))]
async fn knowledge_gaps(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::parse(raw.as_deref())?;
    let csv = wants_csv(&p)?;
    let n = p.limit(20, 1000)?;
    let w = window(&p)?;
    let complete = log_completeness(&state, w).await?;
    let st = store(&state)?;
    let (zero, filtered, escalated, unused) = blocking(move || {
        Ok((
            st.zero_result_queries_in(w, n)?,
            st.filtered_zero_result_queries_in(w, n)?,
            st.escalated_queries_in(w, n)?,
            st.material_usage_in(w, true, n)?,
        ))
    })
    .await?;
    let unused = with_titles(&state, unused);
    if csv {
        return Ok(mark_csv(
            csv_response(
                "knowledge-gaps",
                metrics::gaps_csv(&zero, &filtered, &escalated, &unused),
            ),
            complete,
        ));
    }
    Ok(Json(GapsBody {
        search_log: complete,
        zero_result_queries: zero,
        filtered_zero_result_queries: filtered,
        escalated_queries: escalated,
        shown_never_used: rows_json(unused),
    })
    .into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
struct MaterialsBody {
    search_log: LogCompleteness,
    materials: Vec<MaterialRow>,
}

#[utoipa::path(get, path = "/api/metrics/materials", responses((status = 200, description = "JSON, or CSV with `format=csv`", body = MaterialsBody)))]
async fn materials(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::parse(raw.as_deref())?;
    let csv = wants_csv(&p)?;
    let n = p.limit(100, 100_000)?;
    let w = window(&p)?;
    let complete = log_completeness(&state, w).await?;
    let st = store(&state)?;
    let rows = blocking(move || Ok(st.material_usage_in(w, false, n)?)).await?;
    let rows = with_titles(&state, rows);
    Ok(if csv {
        mark_csv(
            csv_response("materials", metrics::materials_csv(&rows)),
            complete,
        )
    } else {
        Json(MaterialsBody {
            search_log: complete,
            materials: rows_json(rows),
        })
        .into_response()
    })
}

#[derive(Serialize, utoipa::ToSchema)]
struct ReviewBody {
    since: String,
    departments: Vec<crate::stats::review::DepartmentReview>,
}

/// `GET /api/metrics/annual-review?since=&department=&format=csv`: the 年度更新 report
/// (see [`crate::stats::review`]).
#[utoipa::path(get, path = "/api/metrics/annual-review", responses((status = 200, description = "JSON, or CSV with `format=csv`", body = ReviewBody)))]
async fn annual_review(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::parse(raw.as_deref())?;
    let csv = wants_csv(&p)?;
    let now = chrono::Utc::now();
    let since = match p.date("since")? {
        Some(d) => d,
        None => crate::stats::review::fiscal_year_start(crate::stats::jst_date(&now)),
    };
    let department = match p.non_empty("department") {
        Some(d) => Some(state.resolve_department(d)?),
        None => None,
    };
    let st = store(&state)?;
    let usage =
        blocking(move || Ok(st.material_usage_in(Window::default(), false, 1_000_000)?)).await?;
    let materials = state.engine.materials();
    let mut departments = crate::stats::review::annual_review(
        materials.values().map(|m| m.as_ref()),
        &usage,
        since,
        now,
    );
    if let Some(d) = department {
        departments.retain(|r| crate::departments::path_contains(&r.department, &d));
    }
    Ok(if csv {
        csv_response(
            "annual-review",
            crate::stats::review::review_csv(&departments),
        )
    } else {
        Json(ReviewBody {
            since: since.to_string(),
            departments,
        })
        .into_response()
    })
}

#[utoipa::path(get, path = "/api/metrics/search-log", responses((status = 200, description = "Search-log counters", body = serde_json::Value)))]
/// `GET /api/metrics/search-log?from=&to=`: records in the log, and whether it is
/// complete over the JST days `from..=to` (default: all): `dropped` and `failed` for the
/// period (from the database, so across restarts), the `_since_start` counts of this
/// process.
async fn search_log(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
    let p = Params::parse(raw.as_deref())?;
    let w = window(&p)?;
    let c = log_completeness(&state, w).await?;
    let st = store(&state)?;
    let logged = blocking(move || Ok(st.count_searches()?)).await?;
    let queued_written = state.search_log.as_ref().map_or(0, |l| l.written());
    Ok(Json(serde_json::json!({
        "complete": c.complete,
        "dropped": c.dropped,
        "failed": c.failed,
        "logged": logged,
        "written_since_start": queued_written,
        "dropped_since_start": c.dropped_since_start,
        "failed_since_start": c.failed_since_start,
    })))
}
