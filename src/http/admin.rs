//! `GET /api/status` (roles manager, admin): what the index holds, the latest full rebuild,
//! the webhook's jobs, the search queue, and the authored files and dictionary lines that
//! do not parse.
//!
//! ```json
//! {"index": {"materials": 1945, "documents": 1945, "generation": 3},
//!  "rebuild": {"id": "rebuild-…", "reason": "user_dict", "status": "running",
//!              "done": 768, "total": 1945, "generation": 4, "started_at": "…",
//!              "finished_at": null, "error": null},
//!  "jobs": {"queued": 0, "running": 1, "done": 12, "failed": 1, "recent_failed": ["…"]},
//!  "search_queue": {"running": 1, "waiting": 0, "workers": 2, "capacity": 64},
//!  "watch_errors": [{"path": "/data/corpus/authored/a.md", "line": 3, "reason": "…"}],
//!  "dictionary_errors": [{"file": "user_dict.csv", "line": 7, "reason": "empty field"}],
//!  "learned": {"materials": 212, "queries": 340}}
//! ```
//!
//! `rebuild` is `null` until a rebuild ran since start; `jobs` is `null` on a server without
//! a job queue, `watch_errors` on one without the file watcher ([`crate::watch`]),
//! `dictionary_errors` on one without the dictionary watcher ([`crate::dictionaries`]),
//! `learned` (the materials and learned queries the ranking serves, [`crate::learn`]) on one
//! that does not learn.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{ApiError, AppState};

/// Most failed job ids listed in `recent_failed`.
pub const RECENT_FAILED: usize = 20;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/status", get(status))
}

#[utoipa::path(get, path = "/api/status", responses((status = 200, description = "Index, jobs and watch errors", body = Value)))]
async fn status(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let jobs = match state.jobs.clone() {
        Some(q) => {
            let store = q.store().clone();
            let (counts, failed) = super::inquiries::blocking(move || {
                Ok((store.job_counts()?, store.failed_jobs(RECENT_FAILED)?))
            })
            .await?;
            json!({
                "queued": counts.queued, "running": counts.running, "done": counts.done,
                "failed": counts.failed, "recent_failed": failed,
            })
        }
        None => Value::Null,
    };
    let (running, waiting) = state.search_queue.depth();
    Ok(Json(json!({
        "index": {
            "materials": state.engine.materials().len(),
            "documents": state.engine.index().num_docs(),
            "generation": state.engine.generation(),
        },
        "rebuild": state.engine.rebuild_status(),
        "jobs": jobs,
        "search_queue": {
            "running": running, "waiting": waiting,
            "workers": state.search_queue.workers(), "capacity": state.search_queue.queue(),
        },
        "watch_errors": state.watch_errors.as_ref().map(|w| w.list()),
        "dictionary_errors": state.dictionaries.as_ref().map(|d| d.errors()),
        "learned": state.learner.as_ref().map(|_| {
            let l = state.engine.learned();
            json!({"materials": l.materials(), "queries": l.queries()})
        }),
    })))
}
