//! `GET /api/status` (roles manager, admin): what the index holds and the state of the
//! webhook's jobs and the authored files that do not parse.
//!
//! ```json
//! {"index": {"materials": 1945, "documents": 1945},
//!  "jobs": {"queued": 0, "running": 1, "done": 12, "failed": 1, "recent_failed": ["…"]},
//!  "watch_errors": [{"path": "/data/corpus/authored/a.md", "line": 3, "reason": "…"}]}
//! ```
//!
//! `jobs` is `null` on a server without a job queue, `watch_errors` on one without the file
//! watcher ([`crate::watch`]). Rebuild progress and dictionary errors (issue 10, sections 3–4)
//! are not reported yet.

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
    Ok(Json(json!({
        "index": {
            "materials": state.engine.materials().len(),
            "documents": state.engine.index().num_docs(),
        },
        "jobs": jobs,
        "watch_errors": state.watch_errors.as_ref().map(|w| w.list()),
    })))
}
