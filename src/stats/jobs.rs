//! The durable job table of the CMS webhook (migration `0002_jobs.sql`).
//!
//! A job is written in one transaction, committed (and, with `synchronous = FULL`, fsynced)
//! before [`Store::enqueue_job`] returns, so the hook answers 202 only for a job that
//! survives a crash. The worker ([`crate::jobs`]) reads `queued` and `running` jobs back at
//! start, which resumes a job killed half-way; page work is idempotent (a page's materials
//! are replaced as a whole), so redoing a page that was already applied changes nothing a
//! user can see.

use chrono::{SecondsFormat, TimeZone, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{StatsError, Store};

type Result<T, E = StatsError> = std::result::Result<T, E>;

/// A job to record.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// The CMS's delivery id (unique).
    pub delivery_id: String,
    /// `approved` or `unpublished`.
    pub event: String,
    /// As sent by the CMS (RFC 3339).
    pub approved_at: Option<String>,
    /// Pages: normalized URL and, when the CMS sent it, the HTML.
    pub pages: Vec<(String, Option<String>)>,
}

/// One page of a job, as `GET /api/jobs/{id}` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobPage {
    /// The page URL (normalized).
    pub url: String,
    /// `queued`, `retrying`, `done` or `failed`.
    pub status: String,
    /// Materials the page added.
    pub materials_added: u64,
    /// Materials the page changed.
    pub materials_updated: u64,
    /// Materials removed (gone from the page, or the page unpublished).
    pub materials_removed: u64,
    /// Attempts made so far.
    pub attempts: u32,
    /// The last error, for `retrying` and `failed` pages.
    pub error: Option<String>,
}

/// A job, as `GET /api/jobs/{id}` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobRecord {
    /// Job id.
    pub id: String,
    /// The CMS's delivery id.
    pub delivery_id: String,
    /// `approved` or `unpublished`.
    pub event: String,
    /// `queued`, `running`, `done` (every page applied) or `failed` (at least one page
    /// failed after its retries; the others are applied).
    pub status: String,
    /// As sent by the CMS.
    pub approved_at: Option<String>,
    /// When the hook accepted it (RFC 3339, UTC).
    pub received_at: String,
    /// When the worker first started it.
    pub started_at: Option<String>,
    /// When it reached `done` or `failed`.
    pub finished_at: Option<String>,
    /// The pages, in delivery order.
    pub pages: Vec<JobPage>,
}

/// A page the worker still has to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageWork {
    /// Position in the delivery.
    pub seq: i64,
    /// The page URL (normalized).
    pub url: String,
    /// The HTML sent by the CMS, if any.
    pub html: Option<String>,
    /// Attempts made so far.
    pub attempts: u32,
    /// Not before this time (Unix milliseconds; 0: at once).
    pub next_attempt_ms: i64,
}

/// The outcome of one attempt at a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageOutcome {
    /// Applied, with (added, updated, removed) material counts.
    Done(u64, u64, u64),
    /// Failed; try again at the given Unix millisecond.
    Retry {
        /// The error of this attempt.
        error: String,
        /// Next attempt, Unix milliseconds.
        at_ms: i64,
    },
    /// Failed for good.
    Failed(String),
}

/// Jobs by state, for `GET /api/status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct JobCounts {
    /// Waiting for the worker.
    pub queued: u64,
    /// Being worked (or waiting for a page's retry).
    pub running: u64,
    /// Finished with at least one failed page.
    pub failed: u64,
    /// Finished, every page applied.
    pub done: u64,
}

fn rfc3339(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Store {
    /// Records a job unless one exists for its `delivery_id`; returns the job id and whether
    /// it is new. Committed before it returns.
    ///
    /// # Errors
    /// SQLite errors (nothing is written).
    pub fn enqueue_job(&self, job: &NewJob) -> Result<(String, bool)> {
        self.write(|conn| {
            let tx = conn.transaction()?;
            if let Some(id) = tx
                .query_row(
                    "SELECT id FROM jobs WHERE delivery_id = ?1",
                    [&job.delivery_id],
                    |r| r.get::<_, String>(0),
                )
                .optional()?
            {
                return Ok((id, false));
            }
            let id = uuid::Uuid::new_v4().simple().to_string();
            tx.execute(
                "INSERT INTO jobs (id, delivery_id, event, status, approved_at, received_ms) \
                 VALUES (?1, ?2, ?3, 'queued', ?4, ?5)",
                params![
                    id,
                    job.delivery_id,
                    job.event,
                    job.approved_at,
                    Utc::now().timestamp_millis()
                ],
            )?;
            {
                let mut ins = tx.prepare_cached(
                    "INSERT INTO job_pages (job_id, seq, url, html, status) \
                     VALUES (?1, ?2, ?3, ?4, 'queued')",
                )?;
                for (i, (url, html)) in job.pages.iter().enumerate() {
                    ins.execute(params![id, i as i64, url, html])?;
                }
            }
            tx.commit()?;
            Ok((id, true))
        })
    }

    /// Returns job `id` with its pages.
    ///
    /// # Errors
    /// [`StatsError::NotFound`]; SQLite errors.
    pub fn job(&self, id: &str) -> Result<JobRecord> {
        self.read(|c| {
            let mut job = c
                .query_row(
                    "SELECT id, delivery_id, event, status, approved_at, received_ms, \
                     started_ms, finished_ms FROM jobs WHERE id = ?1",
                    [id],
                    |r| {
                        Ok(JobRecord {
                            id: r.get(0)?,
                            delivery_id: r.get(1)?,
                            event: r.get(2)?,
                            status: r.get(3)?,
                            approved_at: r.get(4)?,
                            received_at: rfc3339(r.get(5)?),
                            started_at: r.get::<_, Option<i64>>(6)?.map(rfc3339),
                            finished_at: r.get::<_, Option<i64>>(7)?.map(rfc3339),
                            pages: Vec::new(),
                        })
                    },
                )
                .optional()?
                .ok_or_else(|| StatsError::NotFound(format!("no job with id {id:?}")))?;
            let mut st = c.prepare_cached(
                "SELECT url, status, materials_added, materials_updated, materials_removed, \
                 attempts, error FROM job_pages WHERE job_id = ?1 ORDER BY seq",
            )?;
            job.pages = st
                .query_map([id], |r| {
                    Ok(JobPage {
                        url: r.get(0)?,
                        status: r.get(1)?,
                        materials_added: r.get::<_, i64>(2)? as u64,
                        materials_updated: r.get::<_, i64>(3)? as u64,
                        materials_removed: r.get::<_, i64>(4)? as u64,
                        attempts: r.get::<_, i64>(5)? as u32,
                        error: r.get(6)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(job)
        })
    }

    /// Returns the ids of jobs not finished (`queued`, `running`), oldest first.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn unfinished_jobs(&self) -> Result<Vec<String>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT id FROM jobs WHERE status IN ('queued', 'running') \
                 ORDER BY received_ms, rowid",
            )?;
            let ids = st
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(ids)
        })
    }

    /// Marks job `id` running (keeping the first start time).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn start_job(&self, id: &str) -> Result<()> {
        self.write(|c| {
            c.execute(
                "UPDATE jobs SET status = 'running', \
                 started_ms = COALESCE(started_ms, ?2) WHERE id = ?1",
                params![id, Utc::now().timestamp_millis()],
            )?;
            Ok(())
        })
    }

    /// Returns the pages of job `id` still to do (`queued`, `retrying`), in order.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn pending_pages(&self, id: &str) -> Result<Vec<PageWork>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT seq, url, html, attempts, next_attempt_ms FROM job_pages \
                 WHERE job_id = ?1 AND status IN ('queued', 'retrying') ORDER BY seq",
            )?;
            let pages = st
                .query_map([id], |r| {
                    Ok(PageWork {
                        seq: r.get(0)?,
                        url: r.get(1)?,
                        html: r.get(2)?,
                        attempts: r.get::<_, i64>(3)? as u32,
                        next_attempt_ms: r.get(4)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(pages)
        })
    }

    /// Records one attempt at page `seq` of job `id`. A page that is done or failed drops
    /// its stored HTML.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_page(&self, id: &str, seq: i64, outcome: &PageOutcome) -> Result<()> {
        self.write(|c| {
            match outcome {
                PageOutcome::Done(a, u, r) => c.execute(
                    "UPDATE job_pages SET status = 'done', attempts = attempts + 1, \
                     materials_added = ?3, materials_updated = ?4, materials_removed = ?5, \
                     error = NULL, html = NULL WHERE job_id = ?1 AND seq = ?2",
                    params![id, seq, *a as i64, *u as i64, *r as i64],
                )?,
                PageOutcome::Retry { error, at_ms } => c.execute(
                    "UPDATE job_pages SET status = 'retrying', attempts = attempts + 1, \
                     next_attempt_ms = ?3, error = ?4 WHERE job_id = ?1 AND seq = ?2",
                    params![id, seq, at_ms, error],
                )?,
                PageOutcome::Failed(error) => c.execute(
                    "UPDATE job_pages SET status = 'failed', attempts = attempts + 1, \
                     error = ?3, html = NULL WHERE job_id = ?1 AND seq = ?2",
                    params![id, seq, error],
                )?,
            };
            Ok(())
        })
    }

    /// Finishes job `id` once no page is pending: `failed` if a page failed, else `done`.
    /// Returns the final status, or `None` while pages are pending.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn finish_job(&self, id: &str) -> Result<Option<String>> {
        self.write(|c| {
            let tx = c.transaction()?;
            let (pending, failed): (i64, i64) = tx.query_row(
                "SELECT COUNT(*) FILTER (WHERE status IN ('queued', 'retrying')), \
                 COUNT(*) FILTER (WHERE status = 'failed') FROM job_pages WHERE job_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if pending > 0 {
                return Ok(None);
            }
            let status = if failed > 0 { "failed" } else { "done" };
            tx.execute(
                "UPDATE jobs SET status = ?2, finished_ms = ?3 WHERE id = ?1",
                params![id, status, Utc::now().timestamp_millis()],
            )?;
            tx.commit()?;
            Ok(Some(status.to_string()))
        })
    }

    /// Counts jobs by state.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn job_counts(&self) -> Result<JobCounts> {
        self.read(|c| {
            let mut out = JobCounts::default();
            let mut st = c.prepare_cached("SELECT status, COUNT(*) FROM jobs GROUP BY status")?;
            let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            for row in rows {
                let (s, n) = row?;
                let n = n as u64;
                match s.as_str() {
                    "queued" => out.queued = n,
                    "running" => out.running = n,
                    "failed" => out.failed = n,
                    "done" => out.done = n,
                    _ => {}
                }
            }
            Ok(out)
        })
    }

    /// Returns the ids of the most recent failed jobs, newest first (at most `limit`).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn failed_jobs(&self, limit: usize) -> Result<Vec<String>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT id FROM jobs WHERE status = 'failed' ORDER BY finished_ms DESC LIMIT ?1",
            )?;
            let ids = st
                .query_map([limit as i64], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(ids)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open_path(&dir.path().join("kotae.db")).unwrap();
        (dir, s)
    }

    fn job(delivery: &str, n: usize) -> NewJob {
        NewJob {
            delivery_id: delivery.into(),
            event: "approved".into(),
            approved_at: None,
            pages: (0..n)
                .map(|i| (format!("http://a.example/{i}.html"), None))
                .collect(),
        }
    }

    #[test]
    fn a_delivery_id_makes_one_job() {
        let (_d, s) = store();
        let (a, new_a) = s.enqueue_job(&job("d1", 2)).unwrap();
        let (b, new_b) = s.enqueue_job(&job("d1", 5)).unwrap();
        assert!(new_a && !new_b);
        assert_eq!(a, b);
        assert_eq!(s.job(&a).unwrap().pages.len(), 2);
        let (c, _) = s.enqueue_job(&job("d2", 1)).unwrap();
        assert_ne!(a, c);
        assert_eq!(s.unfinished_jobs().unwrap(), vec![a, c]);
    }

    #[test]
    fn pages_finish_alone_and_the_job_reports_failure() {
        let (_d, s) = store();
        let (id, _) = s.enqueue_job(&job("d", 3)).unwrap();
        s.start_job(&id).unwrap();
        s.record_page(&id, 0, &PageOutcome::Done(2, 1, 0)).unwrap();
        s.record_page(
            &id,
            1,
            &PageOutcome::Retry {
                error: "http 503".into(),
                at_ms: 5,
            },
        )
        .unwrap();
        let pending = s.pending_pages(&id).unwrap();
        assert_eq!(pending.iter().map(|p| p.seq).collect::<Vec<_>>(), [1, 2]);
        assert_eq!((pending[0].attempts, pending[0].next_attempt_ms), (1, 5));
        assert_eq!(s.finish_job(&id).unwrap(), None);
        s.record_page(&id, 1, &PageOutcome::Failed("gone: http 404".into()))
            .unwrap();
        s.record_page(&id, 2, &PageOutcome::Done(0, 0, 3)).unwrap();
        assert_eq!(s.finish_job(&id).unwrap().as_deref(), Some("failed"));
        let j = s.job(&id).unwrap();
        assert_eq!(j.status, "failed");
        assert!(j.started_at.is_some() && j.finished_at.is_some());
        assert_eq!(j.pages[0].materials_added, 2);
        assert_eq!(j.pages[1].status, "failed");
        assert_eq!(j.pages[1].attempts, 2);
        assert_eq!(j.pages[2].materials_removed, 3);
        assert_eq!(s.job_counts().unwrap().failed, 1);
        assert!(s.unfinished_jobs().unwrap().is_empty());
        assert!(matches!(s.job("nope"), Err(StatsError::NotFound(_))));
    }
}
