//! `GET /metrics` (roles manager, admin; open on loopback when no token is configured, like
//! `/api/status`): the server's Prometheus metrics in the text exposition format (names in
//! [`crate::telemetry`]), and [`observe`], the middleware that counts and times every request
//! and writes its access line.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{ApiError, AppState};
use crate::telemetry::TEXT_FORMAT;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// The route label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

/// Counts and times the request by its route template and writes one access line at info
/// (target `kotae::access`): method, route, status, milliseconds. The raw path and query
/// string are never written: they can hold a caller's words.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let resp = next.run(req).await;
    let elapsed = started.elapsed().as_secs_f64();
    let route = route.as_deref().unwrap_or(UNMATCHED);
    let status = resp.status().as_u16();
    state
        .metrics
        .observe_request(method.as_str(), route, status, elapsed);
    if state.metrics.access_log {
        tracing::info!(
            target: "kotae::access",
            method = %method,
            route,
            status,
            ms = (elapsed * 1e4).round() / 10.0,
        );
    }
    resp
}

async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let m = state.metrics.clone();
    m.materials
        .set(gauge(state.engine.materials().len() as u64));
    m.index_documents
        .set(gauge(state.engine.index().num_docs()));
    m.index_segments.set(gauge(
        state
            .engine
            .index()
            .reader()
            .searcher()
            .segment_readers()
            .len() as u64,
    ));
    if let Some(log) = &state.search_log {
        m.set_search_log(log.written(), log.dropped(), log.failed());
    }
    let jobs = state.jobs.as_ref().map(|q| q.store().clone());
    let store = state.stats.clone();
    let (job_counts, escalations, lost) = super::inquiries::blocking(move || {
        let jobs = jobs.map(|s| s.job_counts()).transpose()?;
        let escalations = store.as_ref().map(|s| s.escalation_counts()).transpose()?;
        let lost = match &store {
            Some(s) => {
                let today =
                    crate::stats::search_log::jst_day_ms(chrono::Utc::now().timestamp_millis());
                let w = crate::stats::gaps::Window {
                    from_ms: Some(today),
                    to_ms: None,
                };
                Some((
                    s.search_log_losses_in(w)?,
                    s.search_log_losses_in(crate::stats::gaps::Window::default())?,
                ))
            }
            None => None,
        };
        Ok((jobs, escalations, lost))
    })
    .await?;
    if let Some((today, all)) = lost {
        for (period, l) in [("today", today), ("all", all)] {
            m.search_log_lost
                .with_label_values(&["dropped", period])
                .set(gauge(l.dropped));
            m.search_log_lost
                .with_label_values(&["failed", period])
                .set(gauge(l.failed));
        }
    }
    if let Some(c) = job_counts {
        for (status, n) in [
            ("queued", c.queued),
            ("running", c.running),
            ("done", c.done),
            ("failed", c.failed),
        ] {
            m.jobs.with_label_values(&[status]).set(gauge(n));
        }
    }
    if let Some(c) = escalations {
        for (status, n) in [
            ("open", c.open),
            ("answered", c.answered),
            ("closed", c.closed),
        ] {
            m.escalations.with_label_values(&[status]).set(gauge(n));
        }
    }
    Ok(([(header::CONTENT_TYPE, TEXT_FORMAT)], m.render()).into_response())
}

fn gauge(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
