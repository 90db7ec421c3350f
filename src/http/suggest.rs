//! `GET /api/suggest?q=…&limit=8`: what to type next (see [`crate::search::suggest`]).
//!
//! The suggestion index of the materials is rebuilt at the first call after the material
//! table changes; the answered queries are read from the statistics store again when they
//! are older than [`QUERIES_TTL`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::params::Params;
use super::{ApiCode, ApiError, AppState};
use crate::material::Material;
use crate::search::suggest::{DEFAULT_LIMIT, MAX_LIMIT, MAX_QUERIES, Suggester, Suggestion};

/// How long the answered queries are kept before the store is read again.
pub const QUERIES_TTL: Duration = Duration::from_secs(60);

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/suggest", get(suggest))
}

/// The material table a suggestion index was built from (compared by pointer).
type MaterialSet = Weak<HashMap<String, Arc<Material>>>;

/// The suggestion indexes of the current materials and answered queries.
#[derive(Debug, Default)]
pub struct SuggestCache {
    materials: Mutex<Option<(MaterialSet, Arc<Suggester>)>>,
    queries: Mutex<Option<(Instant, Arc<Suggester>)>>,
}

/// The response body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SuggestResponse {
    /// Answered queries, then words and titles (see [`crate::search::suggest`]).
    pub suggestions: Vec<Suggestion>,
}

impl AppState {
    /// Returns up to `limit` suggestions for `typed` (answered queries first).
    ///
    /// # Errors
    /// Statistics store errors reading the answered queries.
    pub fn suggest(&self, typed: &str, limit: usize) -> Result<Vec<Suggestion>, ApiError> {
        let (base, queries) = self.suggesters()?;
        let mut out = queries.suggest(typed, limit);
        for s in base.suggest(typed, limit) {
            if out.len() == limit {
                break;
            }
            if !out.iter().any(|o| o.text == s.text) {
                out.push(s);
            }
        }
        Ok(out)
    }

    fn suggesters(&self) -> Result<(Arc<Suggester>, Arc<Suggester>), ApiError> {
        let materials = self.engine.materials();
        let base = {
            let mut c = self
                .suggest
                .materials
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            match c.as_ref() {
                Some((w, s)) if w.ptr_eq(&Arc::downgrade(&materials)) => s.clone(),
                _ => {
                    let s = Arc::new(Suggester::build(
                        &self.engine.analyzer(),
                        materials.values().map(|m| m.as_ref()),
                        &[],
                    ));
                    *c = Some((Arc::downgrade(&materials), s.clone()));
                    s
                }
            }
        };
        let queries = {
            let mut c = self
                .suggest
                .queries
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            match c.as_ref() {
                Some((at, s)) if at.elapsed() < QUERIES_TTL => s.clone(),
                _ => {
                    let counts = match &self.stats {
                        Some(store) => store
                            .answered_queries(MAX_QUERIES)?
                            .into_iter()
                            .map(|q| (q.query, q.count))
                            .collect(),
                        None => Vec::new(),
                    };
                    let s = Arc::new(Suggester::build(&self.engine.analyzer(), [], &counts));
                    *c = Some((Instant::now(), s.clone()));
                    s
                }
            }
        };
        Ok((base, queries))
    }
}

#[utoipa::path(get, path = "/api/suggest", params(("q" = String, Query), ("limit" = Option<usize>, Query)), responses((status = 200, description = "Suggestions", body = SuggestResponse)))]
async fn suggest(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<SuggestResponse>, ApiError> {
    let p = Params::parse(raw.as_deref())?;
    let q = p.get("q").unwrap_or_default().to_string();
    if q.trim().is_empty() {
        return Err(ApiError::new(
            ApiCode::EmptyQuery,
            "query `q` must not be empty",
        ));
    }
    if q.len() > crate::search::MAX_QUERY_BYTES {
        return Err(ApiError::new(
            ApiCode::QueryTooLong,
            format!(
                "query `q` is {} bytes, over the limit of {}",
                q.len(),
                crate::search::MAX_QUERY_BYTES
            ),
        ));
    }
    let limit = p.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let suggestions = tokio::task::spawn_blocking(move || state.suggest(&q, limit)).await??;
    Ok(Json(SuggestResponse { suggestions }))
}
