//! The background worker of the CMS webhook: turns durable jobs ([`crate::stats::jobs`])
//! into index changes.
//!
//! One worker task per server works the jobs one at a time, oldest first, page by page. For
//! an `approved` page it fetches the URL with the crawler's fetcher
//! ([`crate::crawl::fetch::fetch`]: size limit, timeout, same-host redirects) or takes the
//! `html` the CMS sent, runs the crawler's extractors ([`crate::extract::extract`]), and
//! replaces the page's materials in the host's crawl collection (`crawl/<host>`, the one the
//! crawler keeps for that host) in one corpus write and one index commit
//! ([`Engine::apply`]): materials the page no longer has are removed. For an `unpublished`
//! page it removes every material whose `source` is the URL.
//!
//! **Commit policy:** a page's change is in the corpus, committed in the index and visible to
//! searches before the page is recorded `done`, and a job is `done` only after all its pages
//! are; so `GET /api/jobs/{id}` never reports a change that a search does not show.
//!
//! **Retries:** a failed fetch (network error, timeout, HTTP 5xx, 404/410 — the CMS may
//! notify before its web server has the page) is tried [`JobOptions::max_attempts`] times,
//! waiting `retry_base · 2^(n−1)` after the n-th failure; a page that is not HTML, has no
//! text or redirects to another host fails at once. A failed page fails alone: the job's
//! other pages still go in, and the job ends `failed`.
//!
//! **Crashes:** jobs are read back from the database at start; a page redone after a kill
//! replaces the same materials (stable ids) with the same text, so nothing shows twice.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Notify;

use crate::crawl::fetch::{self, FetchPolicy, Outcome, Validators};
use crate::engine::Engine;
use crate::extract::{self, PageInput};
use crate::hooks::{Delivery, HookEvent};
use crate::stats::StatsError;
use crate::stats::Store;
use crate::stats::jobs::{JobRecord, NewJob, PageOutcome, PageWork};

/// How the worker fetches and retries.
#[derive(Debug, Clone)]
pub struct JobOptions {
    /// Attempts per page before it fails (default 5).
    pub max_attempts: u32,
    /// Wait after the first failure; doubled after each further one (default 2 s).
    pub retry_base: Duration,
    /// Longest wait between attempts (default 5 min).
    pub retry_max: Duration,
    /// Timeout of one fetch, milliseconds (default 15 s, as the crawler).
    pub timeout_ms: u64,
    /// Largest page body fetched, bytes (default 10 MiB, as the crawler).
    pub max_body_bytes: u64,
    /// User agent of the fetches (default the crawler's).
    pub user_agent: String,
}

impl Default for JobOptions {
    fn default() -> Self {
        let crawl = crate::crawl::CrawlConfig::default();
        Self {
            max_attempts: 5,
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(300),
            timeout_ms: crawl.timeout_ms,
            max_body_bytes: crawl.max_body_bytes,
            user_agent: crawl.user_agent,
        }
    }
}

impl JobOptions {
    /// Returns the wait after the `failures`-th failed attempt (1-based).
    pub fn backoff(&self, failures: u32) -> Duration {
        let factor = 1u32 << failures.saturating_sub(1).min(20);
        self.retry_base.saturating_mul(factor).min(self.retry_max)
    }
}

/// Submits deliveries as durable jobs and wakes the worker; cheap to clone.
#[derive(Debug, Clone)]
pub struct JobQueue {
    store: Arc<Store>,
    wake: Arc<Notify>,
}

impl JobQueue {
    /// Records `delivery` as a job (committed and synced when this returns) unless its
    /// `delivery_id` already has one, and wakes the worker. Returns the job id and whether
    /// it is new. Blocking (SQLite): call it off the async threads.
    ///
    /// # Errors
    /// Store errors (nothing recorded).
    pub fn submit(&self, delivery: &Delivery) -> Result<(String, bool), StatsError> {
        let job = NewJob {
            delivery_id: delivery.delivery_id.clone(),
            event: delivery.event.as_str().to_string(),
            approved_at: delivery.approved_at.map(|t| t.to_rfc3339()),
            pages: delivery
                .pages
                .iter()
                .map(|p| (p.url.clone(), p.html.clone()))
                .collect(),
        };
        let out = self.store.enqueue_job(&job)?;
        self.wake.notify_one();
        Ok(out)
    }

    /// Returns job `id`. Blocking (SQLite).
    ///
    /// # Errors
    /// [`StatsError::NotFound`]; store errors.
    pub fn job(&self, id: &str) -> Result<JobRecord, StatsError> {
        self.store.job(id)
    }

    /// Returns the store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }
}

/// The worker (see the module documentation).
pub struct JobWorker {
    engine: Arc<Engine>,
    store: Arc<Store>,
    client: reqwest::Client,
    opts: JobOptions,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for JobWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobWorker")
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::error!(error = %e, "job worker: blocking task failed");
            None
        }
    }
}

impl JobWorker {
    /// A worker over `engine` and `store`.
    ///
    /// # Errors
    /// The HTTP client cannot be built (message).
    pub fn new(engine: Arc<Engine>, store: Arc<Store>, opts: JobOptions) -> Result<Self, String> {
        let client = fetch::client(&opts.user_agent, opts.timeout_ms)?;
        Ok(Self {
            engine,
            store,
            client,
            opts,
            wake: Arc::new(Notify::new()),
        })
    }

    /// Returns the queue that feeds this worker.
    pub fn queue(&self) -> JobQueue {
        JobQueue {
            store: self.store.clone(),
            wake: self.wake.clone(),
        }
    }

    /// Works jobs until the task is dropped: first every unfinished job in the database
    /// (those of a previous run), then each new one as it is submitted, and pages waiting
    /// for a retry when their time comes.
    pub async fn run(self) {
        loop {
            let next = self.work_all().await;
            let wait = match next {
                Some(at_ms) => {
                    Duration::from_millis((at_ms - Utc::now().timestamp_millis()).max(0) as u64)
                }
                // Nothing waiting: sleep until woken (the minute bounds a lost store error).
                None => Duration::from_secs(60),
            };
            let _ = tokio::time::timeout(wait, self.wake.notified()).await;
        }
    }

    /// Works every runnable page of every unfinished job once; returns the earliest time a
    /// page waits for (Unix milliseconds), if any.
    async fn work_all(&self) -> Option<i64> {
        let store = self.store.clone();
        let ids = match blocking(move || store.unfinished_jobs()).await? {
            Ok(ids) => ids,
            Err(e) => {
                tracing::error!(error = %e, "job worker: cannot read the job table");
                return Some(Utc::now().timestamp_millis() + 5_000);
            }
        };
        let mut next: Option<i64> = None;
        for id in ids {
            if let Some(at) = self.work_job(&id).await {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        next
    }

    async fn work_job(&self, id: &str) -> Option<i64> {
        let (store, jid) = (self.store.clone(), id.to_string());
        let loaded = blocking(move || {
            store.start_job(&jid)?;
            let job = store.job(&jid)?;
            let pages = store.pending_pages(&jid)?;
            Ok::<_, StatsError>((job, pages))
        })
        .await?;
        let (job, pages) = match loaded {
            Ok(x) => x,
            Err(e) => {
                tracing::error!(job = id, error = %e, "job worker: cannot load the job");
                return Some(Utc::now().timestamp_millis() + 5_000);
            }
        };
        let event = HookEvent::parse(&job.event).unwrap_or(HookEvent::Approved);
        let mut next: Option<i64> = None;
        for p in pages {
            let now = Utc::now().timestamp_millis();
            if p.next_attempt_ms > now {
                next = Some(next.map_or(p.next_attempt_ms, |n| n.min(p.next_attempt_ms)));
                continue;
            }
            let outcome = match self.work_page(event, &p).await {
                Ok((a, u, r)) => PageOutcome::Done(a, u, r),
                Err(PageError::Permanent(e)) => PageOutcome::Failed(e),
                Err(PageError::Transient(e)) if p.attempts + 1 >= self.opts.max_attempts => {
                    PageOutcome::Failed(format!("{e} (after {} attempts)", p.attempts + 1))
                }
                Err(PageError::Transient(e)) => {
                    let at_ms = Utc::now().timestamp_millis()
                        + self.opts.backoff(p.attempts + 1).as_millis() as i64;
                    next = Some(next.map_or(at_ms, |n| n.min(at_ms)));
                    PageOutcome::Retry { error: e, at_ms }
                }
            };
            match &outcome {
                PageOutcome::Done(a, u, r) => {
                    tracing::info!(job = id, url = %p.url, added = a, updated = u, removed = r, "hook page applied");
                }
                PageOutcome::Retry { error, .. } => {
                    tracing::warn!(job = id, url = %p.url, error = %error, "hook page failed; will retry");
                }
                PageOutcome::Failed(error) => {
                    tracing::warn!(job = id, url = %p.url, error = %error, "hook page failed");
                }
            }
            let (store, jid, seq) = (self.store.clone(), id.to_string(), p.seq);
            if let Some(Err(e)) = blocking(move || store.record_page(&jid, seq, &outcome)).await {
                tracing::error!(job = id, error = %e, "job worker: cannot record a page");
            }
        }
        let (store, jid) = (self.store.clone(), id.to_string());
        match blocking(move || store.finish_job(&jid)).await? {
            Ok(Some(status)) => tracing::info!(job = id, status, "hook job finished"),
            Ok(None) => {}
            Err(e) => tracing::error!(job = id, error = %e, "job worker: cannot finish a job"),
        }
        next
    }

    /// Applies one page; returns (added, updated, removed).
    async fn work_page(
        &self,
        event: HookEvent,
        p: &PageWork,
    ) -> Result<(u64, u64, u64), PageError> {
        let url = crate::crawl::url::parse_normalized(&p.url)
            .ok_or_else(|| PageError::Permanent(format!("not an http(s) URL: {}", p.url)))?;
        let collection = crate::crawl::collection_name(&crate::crawl::url::host_key(&url));
        let new = match event {
            HookEvent::Unpublished => Some(Vec::new()),
            HookEvent::Approved => {
                let (body, content_type, last_modified, x_robots) = match &p.html {
                    Some(h) => (
                        h.clone().into_bytes(),
                        Some("text/html; charset=utf-8".to_string()),
                        None,
                        None,
                    ),
                    None => self.fetch(&url).await?,
                };
                let u = url.clone();
                let extracted = blocking(move || {
                    if !extract::is_html(content_type.as_deref(), &body) {
                        return None;
                    }
                    Some(extract::extract(&PageInput {
                        url: &u,
                        body: &body,
                        content_type: content_type.as_deref(),
                        last_modified: last_modified.as_deref(),
                        x_robots_tag: x_robots.as_deref(),
                        fetched_at: Utc::now().fixed_offset(),
                    }))
                })
                .await
                .ok_or_else(|| PageError::Transient("extraction failed".into()))?
                .ok_or_else(|| PageError::Permanent("the page is not HTML".into()))?;
                if extracted.noindex {
                    // The page asks not to be indexed: it has no materials.
                    Some(Vec::new())
                } else if extracted.materials.is_empty() {
                    return Err(PageError::Permanent(
                        "no text found in the page (nothing to index)".into(),
                    ));
                } else {
                    Some(extracted.materials)
                }
            }
        };
        let new = new.unwrap_or_default();
        let engine = self.engine.clone();
        let source = url.to_string();
        let applied = blocking(move || {
            let old: Vec<String> = engine
                .corpus()
                .read_collection(&collection)?
                .into_iter()
                .filter(|m| m.source == source)
                .map(|m| m.id)
                .collect();
            engine.apply(&collection, new, &old)
        })
        .await
        .ok_or_else(|| PageError::Transient("index update failed".into()))?;
        match applied {
            Ok((stats, removed)) => Ok((stats.added as u64, stats.updated as u64, removed as u64)),
            Err(e @ crate::Error::Material(_)) => Err(PageError::Permanent(e.to_string())),
            Err(e) => Err(PageError::Transient(format!("index update failed: {e}"))),
        }
    }

    async fn fetch(&self, url: &url::Url) -> Result<Fetched, PageError> {
        let host = url.host_str().map(str::to_string);
        let policy = FetchPolicy {
            max_redirects: 5,
            max_body_bytes: self.opts.max_body_bytes,
            pdf_max_bytes: None,
            timeout_ms: self.opts.timeout_ms,
            follow: Arc::new(move |u: &url::Url| u.host_str().map(str::to_string) == host),
        };
        match fetch::fetch(&self.client, url, &Validators::default(), &policy).await {
            Outcome::Ok { headers, body, .. } => Ok((
                body,
                headers.content_type,
                headers.last_modified,
                headers.x_robots_tag,
            )),
            Outcome::Gone { status } => Err(PageError::Transient(format!("http {status}"))),
            Outcome::NotModified { .. } => Err(PageError::Transient(
                "http 304 to an unconditional request".into(),
            )),
            Outcome::Redirect { to } => Err(PageError::Permanent(format!(
                "redirects to another host: {to}"
            ))),
            Outcome::Skipped { reason } if reason.is_permanent() => {
                Err(PageError::Permanent(reason.to_string()))
            }
            Outcome::Skipped { reason } => Err(PageError::Transient(reason.to_string())),
        }
    }
}

/// Body, content type, Last-Modified, X-Robots-Tag.
type Fetched = (Vec<u8>, Option<String>, Option<String>, Option<String>);

enum PageError {
    /// Worth another attempt (network, 5xx, 404 before the web server has the page).
    Transient(String),
    /// Will not get better by waiting.
    Permanent(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let o = JobOptions {
            retry_base: Duration::from_millis(100),
            retry_max: Duration::from_millis(500),
            ..Default::default()
        };
        let waits: Vec<u128> = (1..=5).map(|n| o.backoff(n).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 500, 500]);
        assert_eq!(o.backoff(u32::MAX).as_millis(), 500);
    }
}
