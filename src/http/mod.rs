//! The HTTP API (axum): a thin adapter over [`Engine`](crate::engine::Engine).
//!
//! `pub fn app(state) -> Router`; one file per resource, each with its own `router()`; one
//! [`ApiError`] with a JSON body `{code, message}` and one code vocabulary ([`ApiCode`]).
//! Searches are admitted by a [`SearchQueue`] and run on the blocking pool; when its queue
//! is full the API answers `503 busy` with `Retry-After: 1`.

pub mod admin;
pub mod auth;
pub mod departments;
pub mod error;
pub mod escalations;
pub mod guard;
pub mod hooks;
pub mod inquiries;
pub mod jobs;
pub mod live;
pub mod materials;
pub mod metrics;
pub mod metrics_prom;
pub mod openapi;
pub mod params;
pub mod pins;
pub mod promotions;
pub mod queue;
pub mod reindex;
pub mod search;
pub mod serve;
pub mod suggest;

use std::sync::Arc;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;

pub use error::{ApiCode, ApiError};
pub use live::Live;
pub use queue::SearchQueue;

use crate::engine::Engine;
use crate::search::{SearchRequest, SearchResponse};

/// The default earliest `received_at` of an inquiry: 2000-01-01 (no inquiry center
/// records inquiries from before; an earlier date is a typing error).
pub const DEFAULT_EARLIEST_RECEIVED_AT: chrono::NaiveDate =
    chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date");

/// A callback told about every search served (the search log).
pub type SearchObserver = Arc<dyn Fn(&SearchRequest, &SearchResponse) + Send + Sync>;

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    /// The engine.
    pub engine: Arc<Engine>,
    /// Admits searches: at most `workers` run (on the blocking pool), `queue` wait, the
    /// rest get `503 busy`.
    pub search_queue: Arc<SearchQueue>,
    /// Told about every search served, if set.
    pub on_search: Option<SearchObserver>,
    /// Inquiries, escalations and statistics; `None`: those routes answer 503.
    pub stats: Option<Arc<crate::stats::Store>>,
    /// The search log writer (for its counters), if any.
    pub search_log: Option<Arc<crate::stats::SearchLogger>>,
    /// Bearer tokens and roles ([`auth::Auth::disabled`]: open API).
    pub auth: Arc<auth::Auth>,
    /// Host, Origin and content-type checks and the CORS allowlist ([`guard`]; SIGHUP
    /// replaces it).
    pub guard: Live<guard::Guard>,
    /// The department registry cache (see [`AppState::registry`]).
    pub departments: Arc<departments::RegistryCache>,
    /// The suggestion indexes (see [`AppState::suggest`]).
    pub suggest: Arc<suggest::SuggestCache>,
    /// The configured inquiry categories (`[stats] categories`); empty: any category
    /// (SIGHUP replaces them).
    pub categories: Live<Vec<String>>,
    /// The CMS webhook's shared secret; `None`: `POST /api/hooks/cms` answers 404.
    pub cms_secret: Option<Arc<[u8]>>,
    /// The webhook's job queue; `None`: no hook, `GET /api/jobs/{id}` answers 503.
    pub jobs: Option<crate::jobs::JobQueue>,
    /// The earliest JST date an inquiry's `received_at` may name (`[stats]
    /// earliest_received_at`; default [`DEFAULT_EARLIEST_RECEIVED_AT`]; SIGHUP replaces it).
    pub earliest_received_at: Live<chrono::NaiveDate>,
    /// Authored files that do not parse (`GET /api/status` `watch_errors`); `None`: no
    /// watcher runs.
    pub watch_errors: Option<Arc<crate::watch::WatchErrors>>,
    /// Hours after which an open escalation is overdue (`[stats] escalation_due_hours`;
    /// SIGHUP replaces it for the API and pages, the notifier keeps its start-up value).
    pub escalation_due_hours: Live<u32>,
    /// The watched dictionaries (`GET /api/status` `dictionary_errors`); `None`: not
    /// watched.
    pub dictionaries: Option<Arc<crate::dictionaries::Dictionaries>>,
    /// Prometheus metrics (`GET /metrics`) and the access-log switch.
    pub metrics: Arc<crate::telemetry::Metrics>,
    /// Learns from answered inquiries and promotions ([`crate::learn`]); `None`: off.
    pub learner: Option<Arc<crate::learn::Learner>>,
}

impl AppState {
    /// State over `engine`, with a [`SearchQueue`] of [`queue::default_search_workers`]
    /// workers and [`queue::DEFAULT_SEARCH_QUEUE`] places, no statistics store and an open
    /// API.
    pub fn new(engine: Arc<Engine>) -> Self {
        let dict_path = engine.data_dir().join("dictionaries/departments.csv");
        let dictionary = crate::departments::read_dictionary(&dict_path).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "departments.csv not read");
            Vec::new()
        });
        Self {
            departments: Arc::new(departments::RegistryCache::new(dictionary)),
            suggest: Arc::default(),
            categories: Live::default(),
            engine,
            search_queue: Arc::new(SearchQueue::new(
                queue::default_search_workers(),
                queue::DEFAULT_SEARCH_QUEUE,
            )),
            on_search: None,
            stats: None,
            search_log: None,
            auth: Arc::new(auth::Auth::disabled()),
            guard: Live::default(),
            cms_secret: None,
            jobs: None,
            watch_errors: None,
            escalation_due_hours: Live::new(crate::notify::DEFAULT_DUE_HOURS),
            earliest_received_at: Live::new(DEFAULT_EARLIEST_RECEIVED_AT),
            dictionaries: None,
            metrics: Arc::new(crate::telemetry::Metrics::default()),
            learner: None,
        }
    }

    /// Turns learning from answered inquiries on ([`crate::learn`]) with the learned
    /// group's `params`: needs the statistics store (without one, nothing changes); starts
    /// the learner's refresh thread, which ends when the last state holding it is dropped.
    ///
    /// # Errors
    /// The refresh thread cannot be started.
    pub fn with_learning(mut self, params: crate::search::LearnedParams) -> std::io::Result<Self> {
        if let Some(store) = &self.stats {
            let l = crate::learn::Learner::new(store.clone(), self.engine.clone(), params);
            // What was learned before a restart is served from the first search on.
            if let Err(e) = l.refresh(chrono::Utc::now()) {
                tracing::warn!(error = %e, "cannot load the learned queries");
            }
            l.spawn()?;
            self.learner = Some(l);
        }
        Ok(self)
    }

    /// Turns the CMS webhook on with `secret`, feeding `queue` (its worker must run).
    pub fn with_cms_hook(mut self, secret: &str, queue: crate::jobs::JobQueue) -> Self {
        self.cms_secret = Some(Arc::from(secret.as_bytes()));
        self.jobs = Some(queue);
        self
    }

    /// Runs a validated search through the [`SearchQueue`], puts the answers pinned to its
    /// query first ([`pins::apply_pins`], when a statistics store is set) and tells the
    /// observer.
    ///
    /// # Errors
    /// [`ApiCode::Busy`] when the queue is full; engine errors.
    pub async fn run_search(&self, req: SearchRequest) -> Result<SearchResponse, ApiError> {
        let engine = self.engine.clone();
        let observer = self.on_search.clone();
        self.metrics.searches.inc();
        let stats = self.stats.clone();
        self.search_queue
            .run(move || {
                let mut resp = engine.search(&req).map_err(ApiError::from)?;
                if let Some(store) = &stats {
                    resp = pins::apply_pins(&engine, store, &req, resp)?;
                }
                if let Some(obs) = &observer {
                    obs(&req, &resp);
                }
                Ok(resp)
            })
            .await
    }
}

/// Builds the router with all routes.
pub fn app(state: AppState) -> Router {
    let cors_state = state.clone();
    let router = Router::new()
        .route("/healthz", get(healthz))
        .merge(search::router())
        .merge(suggest::router())
        .merge(pins::router())
        .merge(inquiries::router())
        .merge(escalations::router())
        .merge(promotions::router())
        .merge(metrics::router())
        .merge(metrics_prom::router())
        .merge(openapi::router())
        .merge(departments::router())
        .merge(hooks::router())
        .merge(jobs::router())
        .merge(admin::router())
        .merge(reindex::router())
        .merge(materials::router())
        .merge(crate::web::router())
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::middleware,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::middleware,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                ApiError::new(ApiCode::Internal, "internal error")
                    .caused_by(&std::io::Error::other("handler panicked"))
                    .into_response()
            },
        ))
        .layer(axum::middleware::from_fn(error::json_errors))
        .layer(axum::middleware::from_fn(error::refuse_oversized_bodies))
        .layer(axum::middleware::from_fn(error::log_internal_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics_prom::observe,
        ))
        .with_state(state);
    // CORS is read per request from the live guard, so SIGHUP can turn it on or off.
    let router = router.layer(axum::middleware::from_fn_with_state(
        cors_state,
        guard::cors,
    ));
    // gzip or br when the client accepts it (an LGWAN link is slow; a 10-hit answer is about
    // 9 KB of JSON). Level 4: most of the gain of the highest levels at a fraction of the CPU
    // (brotli's default, 11, costs milliseconds per answer). Bodies under 32 bytes, images
    // and event streams are left alone (`DefaultPredicate`).
    let router = router.layer(
        tower_http::compression::CompressionLayer::new()
            .gzip(true)
            .br(true)
            .quality(tower_http::CompressionLevel::Precise(4)),
    );
    // Per-request spans cost a measurable share of a 0.5 ms request; they are installed
    // only when debug logging is on (KOTAE_LOG=debug or tower_http=debug).
    if tracing::enabled!(target: "tower_http", tracing::Level::DEBUG) {
        router.layer(tower_http::trace::TraceLayer::new_for_http())
    } else {
        router
    }
}

#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "Liveness and material counts", body = serde_json::Value)))]
async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({
        "status": "ok",
        "materials": state.engine.materials().len(),
        "indexed": state.engine.index().num_docs(),
    }))
}

async fn fallback(uri: axum::http::Uri) -> ApiError {
    ApiError::new(ApiCode::NotFound, format!("no route for {}", uri.path()))
}
