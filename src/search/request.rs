//! The search request and its limits, and the response types (hits, facets). No HTTP
//! types: the HTTP adapter maps [`RequestError`] to its codes.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::material::{Contact, MaterialKind};

/// Largest accepted query, in bytes.
pub const MAX_QUERY_BYTES: usize = 1024;
/// Largest accepted `limit`.
pub const MAX_LIMIT: usize = 100;
/// Number of departments listed in the department facet (the ones with the most matches;
/// a city has 150+ departments, an operator's filter list needs the top few, as
/// Meilisearch's `maxValuesPerFacet`).
pub const MAX_DEPARTMENT_FACETS: usize = 20;
/// Largest accepted `offset`.
pub const MAX_OFFSET: usize = 10_000;
/// Matching materials counted exactly for `total` and the facets; beyond it the response says
/// `total_relation: gte` (Elasticsearch's default `track_total_hits` is also 10,000).
pub const MAX_TRACKED_TOTAL: u64 = 10_000;

/// A search request (already validated: see [`SearchRequest::validate`]).
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// The query text.
    pub q: String,
    /// Only materials of this kind.
    pub kind: Option<MaterialKind>,
    /// Only materials of this department or below it: the name is written canonically and
    /// matches every material whose department path contains it
    /// ([`crate::departments::path_contains`]: `国保医療課` includes its 係).
    pub department: Option<String>,
    /// Level at which the department facet counts (default
    /// [`Level::Ka`](crate::departments::Level::Ka), 課: a 係's materials count for their 課).
    pub department_level: Option<crate::departments::Level>,
    /// Number of hits to return (1..=[`MAX_LIMIT`]).
    pub limit: usize,
    /// Number of hits to skip.
    pub offset: usize,
}

/// Why a request was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequestError {
    /// `q` is empty or whitespace.
    #[error("query `q` must not be empty")]
    EmptyQuery,
    /// `q` is longer than [`MAX_QUERY_BYTES`].
    #[error("query `q` is {0} bytes, over the limit of {MAX_QUERY_BYTES}")]
    QueryTooLong(usize),
    /// `limit` is 0 or over [`MAX_LIMIT`].
    #[error("`limit` must be between 1 and {MAX_LIMIT}, got {0}")]
    BadLimit(usize),
    /// `offset` is over [`MAX_OFFSET`].
    #[error("`offset` must be at most {MAX_OFFSET}, got {0}")]
    BadOffset(usize),
}

impl SearchRequest {
    /// Returns a request for `q` with the default limit of 10.
    pub fn new(q: impl Into<String>) -> Self {
        Self {
            q: q.into(),
            limit: 10,
            ..Default::default()
        }
    }

    /// Checks the limits.
    ///
    /// # Errors
    /// [`RequestError`] naming the offending parameter.
    pub fn validate(&self) -> Result<(), RequestError> {
        if self.q.trim().is_empty() {
            return Err(RequestError::EmptyQuery);
        }
        if self.q.len() > MAX_QUERY_BYTES {
            return Err(RequestError::QueryTooLong(self.q.len()));
        }
        if self.limit == 0 || self.limit > MAX_LIMIT {
            return Err(RequestError::BadLimit(self.limit));
        }
        if self.offset > MAX_OFFSET {
            return Err(RequestError::BadOffset(self.offset));
        }
        Ok(())
    }
}

/// One ranked hit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Hit {
    /// Material id.
    pub id: String,
    /// Source record id.
    pub source_id: String,
    /// Material kind.
    pub kind: MaterialKind,
    /// Display title (the question for FAQ entries).
    pub title: String,
    /// FAQ question.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// HTML snippet with `<mark>` around matches; everything else escaped.
    pub snippet: String,
    /// Page URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Department.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Contact record, for `contact` materials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// Last update of the source text (RFC 3339), shown with every result.
    pub updated_at: chrono::DateTime<chrono::FixedOffset>,
    /// Ranking score (higher is better; comparable only within one response).
    pub score: f32,
    /// Share of the query's content words this material covers, idf-weighted, in [0, 1]
    /// (see [`super::quality`]).
    pub match_quality: f32,
    /// Whether a manager pinned this material to the query (`/api/pins`): pinned hits come
    /// first.
    pub pinned: bool,
}

/// Facet counts over the matching materials that [`SearchResponse::total`] counted: all of
/// them when `total_relation` is `eq`, else the first [`MAX_TRACKED_TOTAL`] in index order.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Facets {
    /// Number of matching materials the counts cover (= `total`).
    pub population: u64,
    /// Count per kind.
    pub kind: BTreeMap<String, u64>,
    /// Count per department, for the [`MAX_DEPARTMENT_FACETS`] departments with the most
    /// matches (materials without a department are not counted).
    pub department: BTreeMap<String, u64>,
}

/// A search response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchResponse {
    /// Id of this search, to reference it from an inquiry record.
    pub query_id: String,
    /// Number of matching materials that cover a content word of the query (see
    /// [`super::quality`]), exact up to [`MAX_TRACKED_TOTAL`]; see `total_relation`.
    pub total: u64,
    /// How well the first hit fits: `good`, `partial` or `none` (nothing fits: escalate);
    /// see [`super::quality::MatchLevel`].
    #[serde(rename = "match")]
    pub match_level: super::quality::MatchLevel,
    /// `eq` when `total` is exact, `gte` when more than [`MAX_TRACKED_TOTAL`] match and
    /// counting stopped there (Elasticsearch's `track_total_hits`).
    pub total_relation: super::maxscore::TotalRelation,
    /// Time spent in the engine, in milliseconds.
    pub took_ms: f64,
    /// The hits from `offset`, at most `limit`.
    pub hits: Vec<Hit>,
    /// Facet counts.
    pub facets: Facets,
}

/// Ids and scores only (for evaluation and benchmarks).
#[derive(Debug, Clone)]
pub struct RankedId {
    /// Material id.
    pub id: String,
    /// Score.
    pub score: f32,
}
