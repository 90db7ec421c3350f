//! The statistics store: SQLite (WAL) with embedded migrations.
//!
//! One write connection behind a mutex (SQLite allows one writer at a time anyway) and a
//! small pool of read connections, so that metrics queries never wait for writes. Every
//! operation that writes more than one row runs in one transaction: a failure leaves
//! nothing half-written. Inquiries are group-committed: concurrent requests share one
//! transaction (and one fsync), each in its own savepoint, and each answered only after the
//! commit. With `synchronous = FULL` (the default) a committed record
//! survives a process crash and a power loss; `NORMAL` survives a process crash only.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::redact::redact;
use super::{
    Channel, Escalation, EscalationStatus, Inquiry, NewInquiry, Outcome, SearchRecord, StatsError,
    jst_day,
};

/// The migrations, in order; `PRAGMA user_version` records how many were applied.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("migrations/0001_init.sql")),
    ("0002_jobs", include_str!("migrations/0002_jobs.sql")),
    (
        "0003_escalation_history",
        include_str!("migrations/0003_escalation_history.sql"),
    ),
    (
        "0004_idempotency_keys",
        include_str!("migrations/0004_idempotency_keys.sql"),
    ),
    ("0005_pins", include_str!("migrations/0005_pins.sql")),
    (
        "0006_drafts_notifications",
        include_str!("migrations/0006_drafts_notifications.sql"),
    ),
    (
        "0007_search_log_losses",
        include_str!("migrations/0007_search_log_losses.sql"),
    ),
    ("0008_learned", include_str!("migrations/0008_learned.sql")),
];

/// Default number of days caller contact details are kept on an open escalation.
pub const DEFAULT_CONTACT_RETENTION_DAYS: u32 = 30;
/// Default number of days search-log records (query text, hits, results shown) are kept.
pub const DEFAULT_SEARCH_LOG_RETENTION_DAYS: u32 = 365;
/// Default number of days inquiry summaries are kept (the inquiry itself, without its
/// text, is kept for the statistics).
pub const DEFAULT_SUMMARY_RETENTION_DAYS: u32 = 365;

type Result<T, E = StatsError> = std::result::Result<T, E>;

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The database file (`DATA_DIR/kotae.db`).
    pub path: PathBuf,
    /// `synchronous = FULL` (durable across power loss) instead of `NORMAL`.
    pub synchronous_full: bool,
    /// Days after which caller contact details are deleted even if the escalation is open.
    pub contact_retention_days: u32,
    /// Days after which search-log records are deleted by [`Store::purge`]; 0 keeps them.
    pub search_log_retention_days: u32,
    /// Days after the inquiry came in (`received_at`) after which its summary (and the
    /// question of its escalation, unless still open) is deleted by [`Store::purge`];
    /// 0 keeps them.
    pub summary_retention_days: u32,
}

impl StoreOptions {
    /// Options for the database at `path` with the defaults (`FULL`; contact details 30
    /// days, search log and summaries 365 days).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            synchronous_full: true,
            contact_retention_days: DEFAULT_CONTACT_RETENTION_DAYS,
            search_log_retention_days: DEFAULT_SEARCH_LOG_RETENTION_DAYS,
            summary_retention_days: DEFAULT_SUMMARY_RETENTION_DAYS,
        }
    }
}

/// What one [`Store::purge`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    /// Escalations whose caller contact details were deleted.
    pub contacts: usize,
    /// Search-log records deleted.
    pub searches: usize,
    /// Inquiry summaries deleted.
    pub summaries: usize,
}

impl Purged {
    /// Whether nothing was deleted.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Ids of a recorded inquiry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Recorded {
    /// Id of the inquiry.
    pub id: String,
    /// Id of the escalation it opened, for `escalated` inquiries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation_id: Option<String>,
}

/// Inquiries counted per JST day, group and outcome (from the daily roll-ups).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyCount {
    /// JST date as days since 1970-01-01.
    pub jst_day: i64,
    /// Channel or category name; empty when not grouped (or for no category).
    pub group: String,
    /// Outcome.
    pub outcome: Outcome,
    /// Number of inquiries.
    pub n: u64,
}

/// One escalation's timing, for the escalation metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationTiming {
    /// Department.
    pub department: String,
    /// State.
    pub status: EscalationStatus,
    /// Opened, Unix milliseconds.
    pub created_ms: i64,
    /// Answered, Unix milliseconds.
    pub answered_ms: Option<i64>,
}

/// A query with a count (knowledge-gap reports).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct QueryCount {
    /// The redacted query.
    pub query: String,
    /// How often.
    pub count: u64,
}

/// How often a material was shown in search results and used to answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct MaterialUsage {
    /// Material id.
    pub material_id: String,
    /// Searches that showed it.
    pub shown: u64,
    /// `answered` inquiries that cite it.
    pub used: u64,
}

/// The statistics store (see the module documentation).
pub struct Store {
    path: PathBuf,
    writer: Mutex<Connection>,
    pending: Mutex<Vec<Job>>,
    readers: Mutex<Vec<Connection>>,
    opts: StoreOptions,
    /// Contact, search-log and summary retention days in force ([`Store::set_retention`]).
    retention: Mutex<[u32; 3]>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

fn rfc3339_ms(ms: i64) -> String {
    super::jst_rfc3339_ms(ms)
}

impl Store {
    /// Opens (creating if needed) the database and applies pending migrations.
    ///
    /// # Errors
    /// SQLite errors; [`StatsError::TooNew`] for a database of a newer kotae.
    pub fn open(opts: &StoreOptions) -> Result<Self> {
        if let Some(dir) = opts.path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                StatsError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let mut conn = Self::connect(&opts.path, opts.synchronous_full)?;
        migrate(&mut conn)?;
        Ok(Self {
            path: opts.path.clone(),
            writer: Mutex::new(conn),
            pending: Mutex::new(Vec::new()),
            readers: Mutex::new(Vec::new()),
            opts: opts.clone(),
            retention: Mutex::new([
                opts.contact_retention_days,
                opts.search_log_retention_days,
                opts.summary_retention_days,
            ]),
        })
    }

    /// Opens the database at `path` with the default options.
    ///
    /// # Errors
    /// As [`Store::open`].
    pub fn open_path(path: &Path) -> Result<Self> {
        Self::open(&StoreOptions::new(path))
    }

    fn connect(path: &Path, full: bool) -> Result<Connection> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", if full { "FULL" } else { "NORMAL" })?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted contact details are overwritten, not left in free pages.
        conn.pragma_update(None, "secure_delete", "ON")?;
        Ok(conn)
    }

    /// Returns the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Copies the WAL into the database file and truncates it ([`checkpoint_truncate`]):
    /// what `serve` does last before it exits, so that the files at rest are the database
    /// alone.
    pub fn checkpoint(&self) {
        let conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        checkpoint_truncate(&conn);
    }

    pub(super) fn write<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut conn)
    }

    pub(super) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => Self::connect(&self.path, self.opts.synchronous_full)?,
        };
        let out = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < 8 {
            pool.push(conn);
        }
        out
    }

    /// Records one inquiry (redacting its summary) and opens an escalation for `escalated`
    /// ones, in one transaction.
    ///
    /// # Errors
    /// [`StatsError::Invalid`] (see [`NewInquiry::validate`]); SQLite errors.
    pub fn record_inquiry(&self, inq: &NewInquiry) -> Result<Recorded> {
        let mut out = self.record_inquiries(std::slice::from_ref(inq))?;
        out.pop()
            .ok_or_else(|| StatsError::Unavailable("nothing recorded".into()))
    }

    /// Records many inquiries in one transaction (all or nothing).
    ///
    /// # Errors
    /// As [`Store::record_inquiry`].
    pub fn record_inquiries(&self, inqs: &[NewInquiry]) -> Result<Vec<Recorded>> {
        Ok(self.commit_job(inqs.to_vec(), None)?.0)
    }

    /// Records one inquiry under an idempotency key: when `key` was already used with the
    /// same body (within [`super::idempotency::KEY_RETENTION_HOURS`]) nothing is recorded
    /// and the ids recorded then are returned; the key is stored in the same transaction as
    /// the inquiry. Returns the ids and whether they are a replay.
    ///
    /// # Errors
    /// [`StatsError::KeyReused`] when `key` was used with another body; as
    /// [`Store::record_inquiry`].
    pub fn record_inquiry_once(
        &self,
        inq: &NewInquiry,
        key: &super::idempotency::IdempotencyKey,
    ) -> Result<(Recorded, bool)> {
        let (mut out, replayed) = self.commit_job(vec![inq.clone()], Some(key.clone()))?;
        let rec = out
            .pop()
            .ok_or_else(|| StatsError::Unavailable("nothing recorded".into()))?;
        Ok((rec, replayed))
    }

    fn commit_job(
        &self,
        inqs: Vec<NewInquiry>,
        key: Option<super::idempotency::IdempotencyKey>,
    ) -> Result<(Vec<Recorded>, bool)> {
        for inq in &inqs {
            inq.validate()?;
        }
        // Group commit: queue the job, then take the write lock; whoever holds it commits
        // every queued job in one transaction (one savepoint each, so that a failing job
        // fails alone), which shares one fsync among concurrent writers.
        let (reply, result) = std::sync::mpsc::sync_channel(1);
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Job {
                inquiries: inqs,
                key,
                reply,
            });
        let retention_ms = i64::from(self.retention()[0]) * 86_400_000;
        self.write(|conn| {
            commit_pending(conn, &self.pending, retention_ms);
            Ok(())
        })?;
        result
            .recv()
            .map_err(|_| StatsError::Unavailable("the inquiry was not written".into()))?
    }

    /// Returns the inquiry `id`.
    ///
    /// # Errors
    /// [`StatsError::NotFound`]; SQLite errors.
    pub fn inquiry(&self, id: &str) -> Result<Inquiry> {
        self.read(|c| {
            let row = c
                .query_row(
                    "SELECT id, query_id, received_at, channel, category, outcome, department, \
                     summary FROM inquiries WHERE id = ?1",
                    [id],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, Option<String>>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, Option<String>>(4)?,
                            r.get::<_, String>(5)?,
                            r.get::<_, Option<String>>(6)?,
                            r.get::<_, Option<String>>(7)?,
                        ))
                    },
                )
                .optional()?
                .ok_or_else(|| StatsError::NotFound(format!("no inquiry with id {id:?}")))?;
            let mut st = c.prepare_cached(
                "SELECT material_id FROM inquiry_materials WHERE inquiry_id = ?1",
            )?;
            let material_ids = st
                .query_map([id], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Inquiry {
                id: row.0,
                query_id: row.1,
                received_at: chrono::DateTime::parse_from_rfc3339(&row.2)
                    .map(|t| super::jst_rfc3339(&t))
                    .unwrap_or(row.2),
                channel: Channel::parse(&row.3).unwrap_or(Channel::Phone),
                category: row.4,
                outcome: Outcome::parse(&row.5).unwrap_or(Outcome::Answered),
                material_ids,
                department: row.6,
                summary: row.7,
            })
        })
    }

    /// Returns the number of inquiries stored.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn count_inquiries(&self) -> Result<u64> {
        self.read(|c| Ok(c.query_row("SELECT count(*) FROM inquiries", [], |r| r.get(0))?))
    }

    /// Lists escalations, newest first, optionally of one department (and the units below
    /// it: a canonical path contained in the escalation's, see
    /// [`crate::departments::path_contains`]) and one state.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn escalations(
        &self,
        department: Option<&str>,
        status: Option<EscalationStatus>,
        limit: usize,
    ) -> Result<Vec<Escalation>> {
        self.read(|c| {
            let sql = format!(
                "{ESCALATION_SELECT} WHERE (?1 IS NULL \
                 OR instr(' ' || e.department || ' ', ' ' || ?1 || ' ') > 0) \
                 AND (?2 IS NULL OR e.status = ?2) ORDER BY e.created_ms DESC, e.rowid DESC LIMIT ?3"
            );
            let mut st = c.prepare_cached(&sql)?;
            let rows = st
                .query_map(
                    params![
                        department,
                        status.map(EscalationStatus::as_str),
                        limit as i64
                    ],
                    escalation_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// Returns the escalation `id`.
    ///
    /// # Errors
    /// [`StatsError::NotFound`]; SQLite errors.
    pub fn escalation(&self, id: &str) -> Result<Escalation> {
        self.read(|c| get_escalation(c, id))
    }

    /// Records the department's answer (redacted like summaries): the escalation becomes
    /// `answered`. An answered escalation that is not promoted may be answered again: the
    /// answer is corrected and the previous one kept in the history. The caller's contact
    /// details stay until the call-back is recorded ([`Store::record_callback`]).
    ///
    /// # Errors
    /// [`StatsError::NotFound`]; [`StatsError::Conflict`] for a closed or promoted one.
    pub fn answer_escalation(
        &self,
        id: &str,
        answer: &str,
        answered_by: &str,
    ) -> Result<Escalation> {
        self.write(|conn| {
            let tx = conn.transaction()?;
            let cur = get_escalation(&tx, id)?;
            if cur.status == EscalationStatus::Closed || cur.promoted_material_id.is_some() {
                return Err(StatsError::Conflict(format!(
                    "escalation {id} is {}, only open or answered (not promoted) escalations \
                     can be answered",
                    if cur.promoted_material_id.is_some() {
                        "promoted"
                    } else {
                        cur.status.as_str()
                    }
                )));
            }
            let now = Utc::now().timestamp_millis();
            tx.execute(
                "UPDATE escalations SET status = 'answered', answer = ?2, answered_by = ?3, \
                 answered_ms = COALESCE(answered_ms, ?4) WHERE id = ?1",
                params![id, redact(answer), answered_by, now],
            )?;
            let (kind, before) = match cur.status {
                EscalationStatus::Open => ("answered", None),
                _ => ("answer_corrected", cur.answer.as_deref().map(redact)),
            };
            super::workflow::add_event(
                &tx,
                id,
                now,
                kind,
                Some(answered_by),
                before.as_deref(),
                Some(&redact(answer)),
            )?;
            let out = get_escalation(&tx, id)?;
            tx.commit()?;
            // A corrected answer replaces text that may have held personal data.
            if kind == "answer_corrected" {
                checkpoint_truncate(conn);
            }
            Ok(out)
        })
    }

    /// Closes the escalation and deletes the caller's contact details (from the WAL too).
    ///
    /// # Errors
    /// [`StatsError::NotFound`]; [`StatsError::Conflict`] if already closed.
    pub fn close_escalation(&self, id: &str) -> Result<Escalation> {
        self.write(|conn| {
            let tx = conn.transaction()?;
            let cur = get_escalation(&tx, id)?;
            if cur.status == EscalationStatus::Closed {
                return Err(StatsError::Conflict(format!(
                    "escalation {id} is already closed"
                )));
            }
            tx.execute(
                "UPDATE escalations SET status = 'closed', closed_ms = ?2, contact = NULL, \
                 contact_expires_ms = NULL WHERE id = ?1",
                params![id, Utc::now().timestamp_millis()],
            )?;
            let out = get_escalation(&tx, id)?;
            tx.commit()?;
            checkpoint_truncate(conn);
            Ok(out)
        })
    }

    /// Checks that the escalation can be promoted: it has an answer and was not promoted
    /// before. Returns it.
    ///
    /// # Errors
    /// [`StatsError::NotFound`]; [`StatsError::Conflict`] otherwise.
    pub fn promotable(&self, id: &str) -> Result<Escalation> {
        let e = self.escalation(id)?;
        super::drafts::promotable(&e)?;
        Ok(e)
    }

    /// Deletes caller contact details whose retention period ended before `now`. Returns
    /// how many were deleted. As [`Store::purge`], contact details only.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn purge_expired_contacts(&self, now: DateTime<Utc>) -> Result<usize> {
        self.write(|conn| {
            let n = conn.execute(
                "UPDATE escalations SET contact = NULL, contact_expires_ms = NULL \
                 WHERE contact IS NOT NULL AND contact_expires_ms <= ?1",
                [now.timestamp_millis()],
            )?;
            if n > 0 {
                checkpoint_truncate(conn);
            }
            Ok(n)
        })
    }

    /// Replaces the retention periods of the options the store was opened with
    /// ([`StoreOptions::contact_retention_days`], `search_log_retention_days`,
    /// `summary_retention_days`; SIGHUP): the next [`Store::purge`] and the next recorded
    /// escalation use them (contact details already recorded keep their expiry).
    pub fn set_retention(&self, contact_days: u32, search_log_days: u32, summary_days: u32) {
        *self.retention.lock().unwrap_or_else(|e| e.into_inner()) =
            [contact_days, search_log_days, summary_days];
    }

    /// The retention days in force: contact details, search log, summaries.
    pub fn retention(&self) -> [u32; 3] {
        *self.retention.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Deletes, in one transaction, what is past its retention period at `now`: caller
    /// contact details ([`StoreOptions::contact_retention_days`], fixed when the inquiry was
    /// recorded), search-log records older than
    /// [`StoreOptions::search_log_retention_days`] (with the results they showed) and
    /// summaries of inquiries received more than [`StoreOptions::summary_retention_days`]
    /// ago (the copy on their escalation too, unless it is still open). The inquiries, their
    /// materials and the daily roll-ups are kept, so rates and counts do not change. When
    /// anything was deleted the WAL is checkpointed and truncated, so that no copy remains
    /// in `kotae.db-wal` ([`checkpoint_truncate`]).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn purge(&self, now: DateTime<Utc>) -> Result<Purged> {
        let now_ms = now.timestamp_millis();
        let cutoff = |days: u32| now_ms - i64::from(days) * 86_400_000;
        let [_, search_log_days, summary_days] = self.retention();
        self.write(|conn| {
            let tx = conn.transaction()?;
            let mut out = Purged {
                contacts: tx.execute(
                    "UPDATE escalations SET contact = NULL, contact_expires_ms = NULL \
                     WHERE contact IS NOT NULL AND contact_expires_ms <= ?1",
                    [now_ms],
                )?,
                ..Purged::default()
            };
            if search_log_days > 0 {
                let before = cutoff(search_log_days);
                tx.execute(
                    "DELETE FROM search_shown WHERE query_id IN \
                     (SELECT query_id FROM search_log WHERE logged_ms < ?1)",
                    [before],
                )?;
                out.searches =
                    tx.execute("DELETE FROM search_log WHERE logged_ms < ?1", [before])?;
            }
            if summary_days > 0 {
                let before = cutoff(summary_days);
                tx.execute(
                    "UPDATE escalations SET question = NULL WHERE question IS NOT NULL \
                     AND status <> 'open' AND inquiry_id IN \
                     (SELECT id FROM inquiries WHERE received_ms < ?1)",
                    [before],
                )?;
                out.summaries = tx.execute(
                    "UPDATE inquiries SET summary = NULL \
                     WHERE summary IS NOT NULL AND received_ms < ?1 AND NOT EXISTS \
                     (SELECT 1 FROM escalations e WHERE e.inquiry_id = inquiries.id \
                      AND e.status = 'open')",
                    [before],
                )?;
            }
            super::idempotency::purge(&tx, now_ms)?;
            tx.commit()?;
            if !out.is_empty() {
                checkpoint_truncate(conn);
            }
            Ok(out)
        })
    }

    /// Writes search-log records (redacting the queries) in one transaction; a record whose
    /// `query_id` is already logged is skipped.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn log_searches(&self, records: &[SearchRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.write(|conn| {
            let tx = conn.transaction()?;
            {
                let mut log = tx.prepare_cached(
                    "INSERT OR IGNORE INTO search_log (query_id, query, hits, took_ms, top_ids, \
                     logged_ms, filters) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                let mut shown = tx.prepare_cached(
                    "INSERT OR IGNORE INTO search_shown (query_id, rank, material_id) \
                     VALUES (?1, ?2, ?3)",
                )?;
                for r in records {
                    let top = serde_json::to_string(&r.top_ids).unwrap_or_else(|_| "[]".into());
                    let n = log.execute(params![
                        r.query_id,
                        redact(&r.query),
                        r.hits as i64,
                        r.took_ms,
                        top,
                        r.at.timestamp_millis(),
                        r.filters.as_deref().map(redact),
                    ])?;
                    if n == 1 {
                        for (i, m) in r.top_ids.iter().enumerate() {
                            shown.execute(params![r.query_id, i as i64 + 1, m])?;
                        }
                    }
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Returns the redacted query of search `query_id`, if logged.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn search_query(&self, query_id: &str) -> Result<Option<String>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT query FROM search_log WHERE query_id = ?1",
                [query_id],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    /// Returns the number of searches logged.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn count_searches(&self) -> Result<u64> {
        self.read(|c| Ok(c.query_row("SELECT count(*) FROM search_log", [], |r| r.get(0))?))
    }

    /// Returns inquiry counts per JST day (`from_day..=to_day`, days since 1970-01-01),
    /// group and outcome, from the daily roll-ups.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn daily_counts(
        &self,
        group_by: Option<super::GroupBy>,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<DailyCount>> {
        let sql = match group_by {
            None => {
                "SELECT jst_day, '', outcome, sum(n) FROM daily_by_channel \
                 WHERE jst_day BETWEEN ?1 AND ?2 GROUP BY jst_day, outcome"
            }
            Some(super::GroupBy::Channel) => {
                "SELECT jst_day, channel, outcome, n FROM daily_by_channel \
                 WHERE jst_day BETWEEN ?1 AND ?2"
            }
            Some(super::GroupBy::Category) => {
                "SELECT jst_day, category, outcome, n FROM daily_by_category \
                 WHERE jst_day BETWEEN ?1 AND ?2"
            }
            // No roll-up: counted from the inquiries over the `jst_day` index.
            Some(super::GroupBy::Department) => {
                "SELECT jst_day, COALESCE(department, ''), outcome, count(*) FROM inquiries \
                 WHERE jst_day BETWEEN ?1 AND ?2 GROUP BY 1, 2, 3"
            }
        };
        self.read(|c| daily_query(c, sql, from_day, to_day))
    }

    /// As [`Store::daily_counts`], but counted from the inquiries themselves (checks the
    /// roll-ups; slower).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn daily_counts_raw(
        &self,
        group_by: Option<super::GroupBy>,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<DailyCount>> {
        let g = match group_by {
            None => "''",
            Some(super::GroupBy::Channel) => "channel",
            Some(super::GroupBy::Category) => "COALESCE(category, '')",
            Some(super::GroupBy::Department) => "COALESCE(department, '')",
        };
        let sql = format!(
            "SELECT jst_day, {g}, outcome, count(*) FROM inquiries \
             WHERE jst_day BETWEEN ?1 AND ?2 GROUP BY 1, 2, 3"
        );
        self.read(|c| daily_query(c, &sql, from_day, to_day))
    }

    /// Returns every escalation's department, state and times.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn escalation_timings(&self) -> Result<Vec<EscalationTiming>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT department, status, created_ms, answered_ms FROM escalations",
            )?;
            let rows = st
                .query_map([], |r| {
                    Ok(EscalationTiming {
                        department: r.get(0)?,
                        status: EscalationStatus::parse(&r.get::<_, String>(1)?)
                            .unwrap_or(EscalationStatus::Open),
                        created_ms: r.get(2)?,
                        answered_ms: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// Returns the most frequent queries that found nothing.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn zero_result_queries(&self, limit: usize) -> Result<Vec<QueryCount>> {
        self.query_counts(
            "SELECT query, count(*) AS n FROM search_log WHERE hits = 0 \
             GROUP BY query ORDER BY n DESC, query LIMIT ?1",
            limit,
        )
    }

    /// Returns the queries most often followed by an escalation (an `escalated` inquiry
    /// referring to the search by `query_id`).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn escalated_queries(&self, limit: usize) -> Result<Vec<QueryCount>> {
        self.query_counts(
            "SELECT s.query, count(*) AS n FROM inquiries i \
             JOIN search_log s ON s.query_id = i.query_id \
             WHERE i.outcome = 'escalated' GROUP BY s.query ORDER BY n DESC, s.query LIMIT ?1",
            limit,
        )
    }

    /// Returns the queries most often followed by an `answered` inquiry (referring to the
    /// search by `query_id`): the suggestions of `GET /api/suggest`. The search log holds
    /// redacted text only.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn answered_queries(&self, limit: usize) -> Result<Vec<QueryCount>> {
        self.query_counts(
            "SELECT s.query, count(*) AS n FROM inquiries i \
             JOIN search_log s ON s.query_id = i.query_id \
             WHERE i.outcome = 'answered' GROUP BY s.query ORDER BY n DESC, s.query LIMIT ?1",
            limit,
        )
    }

    fn query_counts(&self, sql: &str, limit: usize) -> Result<Vec<QueryCount>> {
        self.read(|c| {
            let mut st = c.prepare_cached(sql)?;
            let rows = st
                .query_map([limit as i64], |r| {
                    Ok(QueryCount {
                        query: r.get(0)?,
                        count: r.get::<_, i64>(1)? as u64,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// Returns per material how often it was shown and used to answer, most shown first;
    /// with `never_used`, only materials shown but never cited by an `answered` inquiry.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn material_usage(&self, never_used: bool, limit: usize) -> Result<Vec<MaterialUsage>> {
        let sql = format!(
            "WITH shown AS (SELECT material_id, count(*) AS n FROM search_shown \
                            GROUP BY material_id), \
                  used AS (SELECT material_id, count(*) AS n FROM inquiry_materials \
                           WHERE outcome = 'answered' GROUP BY material_id) \
             SELECT material_id, COALESCE(shown.n, 0), COALESCE(used.n, 0) \
             FROM shown FULL OUTER JOIN used USING (material_id) {} \
             ORDER BY 2 DESC, 3 DESC, 1 LIMIT ?1",
            if never_used {
                "WHERE COALESCE(used.n, 0) = 0"
            } else {
                ""
            }
        );
        self.read(|c| {
            let mut st = c.prepare_cached(&sql)?;
            let rows = st
                .query_map([limit as i64], |r| {
                    Ok(MaterialUsage {
                        material_id: r.get(0)?,
                        shown: r.get::<_, i64>(1)? as u64,
                        used: r.get::<_, i64>(2)? as u64,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }
}

/// Copies every WAL frame into the database file and truncates `kotae.db-wal` to zero
/// bytes (`PRAGMA wal_checkpoint(TRUNCATE)`), so that rows just deleted or overwritten
/// (contact details, purged records) leave no copy in the WAL; `secure_delete` has already
/// zeroed them in the pages that are copied. The checkpoint waits for readers through the
/// busy timeout; a failure is logged, never returned: the deletion itself is committed, and
/// the next checkpoint (at the latest when the store closes) removes the frames.
pub fn checkpoint_truncate(conn: &Connection) {
    let r = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    });
    match r {
        Ok((0, _, _)) => {}
        Ok((busy, log, done)) => tracing::warn!(
            busy,
            log,
            done,
            "the WAL checkpoint after deleting personal data did not complete (readers busy)"
        ),
        Err(e) => tracing::warn!(error = %e, "cannot checkpoint the WAL"),
    }
}

/// A queued group-commit job.
struct Job {
    inquiries: Vec<NewInquiry>,
    key: Option<super::idempotency::IdempotencyKey>,
    reply: std::sync::mpsc::SyncSender<Result<(Vec<Recorded>, bool)>>,
}

/// One job inside its savepoint: the idempotency key looked up, the inquiries inserted,
/// the key stored. Returns the ids and whether they are a replay.
fn insert_job(conn: &Connection, j: &Job, retention_ms: i64) -> Result<(Vec<Recorded>, bool)> {
    use super::idempotency::{Seen, lookup, remember};
    let now_ms = Utc::now().timestamp_millis();
    if let Some(k) = &j.key
        && let Seen::Replay(rec) = lookup(conn, k, now_ms)?
    {
        return Ok((rec, true));
    }
    let rec = insert_inquiries(conn, &j.inquiries, retention_ms)?;
    if let Some(k) = &j.key {
        remember(conn, k, &rec, now_ms)?;
    }
    Ok((rec, false))
}

/// Commits every queued job in one transaction and answers each.
fn commit_pending(conn: &mut Connection, pending: &Mutex<Vec<Job>>, retention_ms: i64) {
    let jobs = std::mem::take(&mut *pending.lock().unwrap_or_else(|e| e.into_inner()));
    if jobs.is_empty() {
        return;
    }
    let mut tx = match conn.transaction() {
        Ok(tx) => tx,
        Err(e) => {
            for j in jobs {
                let _ = j.reply.send(Err(StatsError::Unavailable(format!(
                    "cannot begin a transaction: {e}"
                ))));
            }
            return;
        }
    };
    let mut results = Vec::with_capacity(jobs.len());
    for j in &jobs {
        let r = match tx.savepoint() {
            Ok(mut sp) => match insert_job(&sp, j, retention_ms) {
                Ok(rec) => sp.commit().map(|()| rec).map_err(StatsError::from),
                Err(e) => {
                    let _ = sp.rollback();
                    Err(e)
                }
            },
            Err(e) => Err(e.into()),
        };
        results.push(r);
    }
    let committed = tx.commit();
    for (j, r) in jobs.into_iter().zip(results) {
        let r = match (&committed, r) {
            (Ok(()), r) => r,
            (Err(e), _) => Err(StatsError::Unavailable(format!("commit failed: {e}"))),
        };
        let _ = j.reply.send(r);
    }
}

/// Inserts inquiries (redacting summaries), their materials, roll-up counts and
/// escalations on `conn` (inside the caller's transaction).
fn insert_inquiries(
    conn: &Connection,
    inqs: &[NewInquiry],
    retention_ms: i64,
) -> Result<Vec<Recorded>> {
    let mut out = Vec::with_capacity(inqs.len());
    {
        let mut ins = conn.prepare_cached(
            "INSERT INTO inquiries (id, query_id, received_at, received_ms, jst_day, \
             channel, category, outcome, department, summary, recorded_ms, recorded_by) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        let mut mat = conn.prepare_cached(
            "INSERT OR IGNORE INTO inquiry_materials (inquiry_id, material_id, outcome) \
             VALUES (?1, ?2, ?3)",
        )?;
        let mut by_channel = conn.prepare_cached(
            "INSERT INTO daily_by_channel (jst_day, channel, outcome, n) \
             VALUES (?1, ?2, ?3, 1) ON CONFLICT DO UPDATE SET n = n + 1",
        )?;
        let mut by_category = conn.prepare_cached(
            "INSERT INTO daily_by_category (jst_day, category, outcome, n) \
             VALUES (?1, ?2, ?3, 1) ON CONFLICT DO UPDATE SET n = n + 1",
        )?;
        let mut esc = conn.prepare_cached(
            "INSERT INTO escalations (id, inquiry_id, department, status, question, \
             category, created_ms, contact, contact_expires_ms) \
             VALUES (?1, ?2, ?3, 'open', ?4, ?5, ?6, ?7, ?8)",
        )?;
        let now_ms = Utc::now().timestamp_millis();
        for inq in inqs {
            let id = uuid::Uuid::new_v4().to_string();
            let day = jst_day(&inq.received_at);
            let summary = inq.summary.as_deref().map(redact);
            let category = inq.category.as_deref().map(str::trim);
            let department = inq.department.as_deref().map(str::trim);
            let outcome = inq.outcome.as_str();
            ins.execute(params![
                id,
                inq.query_id,
                inq.received_at.to_rfc3339(),
                inq.received_at.timestamp_millis(),
                day,
                inq.channel.as_str(),
                category,
                outcome,
                department,
                summary,
                now_ms,
                inq.recorded_by,
            ])?;
            for m in &inq.material_ids {
                mat.execute(params![id, m, outcome])?;
            }
            by_channel.execute(params![day, inq.channel.as_str(), outcome])?;
            by_category.execute(params![day, category.unwrap_or(""), outcome])?;
            let mut escalation_id = None;
            if inq.outcome == Outcome::Escalated {
                let eid = uuid::Uuid::new_v4().to_string();
                let contact = inq.contact.as_deref().map(str::trim);
                esc.execute(params![
                    eid,
                    id,
                    department,
                    summary,
                    category,
                    now_ms,
                    contact,
                    contact.map(|_| now_ms + retention_ms),
                ])?;
                escalation_id = Some(eid);
            }
            out.push(Recorded { id, escalation_id });
        }
    }
    Ok(out)
}

fn daily_query(c: &Connection, sql: &str, from_day: i64, to_day: i64) -> Result<Vec<DailyCount>> {
    let mut st = c.prepare_cached(sql)?;
    let rows = st
        .query_map([from_day, to_day], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?
        .filter_map(|r| match r {
            Ok((d, g, o, n)) => Outcome::parse(&o).map(|outcome| {
                Ok(DailyCount {
                    jst_day: d,
                    group: g,
                    outcome,
                    n: n as u64,
                })
            }),
            Err(e) => Some(Err(e)),
        })
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

const ESCALATION_SELECT: &str = "SELECT e.id, e.inquiry_id, e.department, e.status, \
     COALESCE(e.question, s.query), e.category, e.created_ms, e.contact, e.answer, \
     e.answered_by, e.answered_ms, e.closed_ms, e.promoted_material_id, i.received_ms, \
     i.channel, e.called_back_ms, e.called_back_by \
     FROM escalations e JOIN inquiries i ON i.id = e.inquiry_id \
     LEFT JOIN search_log s ON s.query_id = i.query_id";

fn escalation_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Escalation> {
    Ok(Escalation {
        id: r.get(0)?,
        inquiry_id: r.get(1)?,
        department: r.get(2)?,
        status: EscalationStatus::parse(&r.get::<_, String>(3)?).unwrap_or(EscalationStatus::Open),
        question: r.get(4)?,
        category: r.get(5)?,
        received_at: rfc3339_ms(r.get(13)?),
        channel: Channel::parse(&r.get::<_, String>(14)?).unwrap_or(Channel::Phone),
        created_at: rfc3339_ms(r.get(6)?),
        contact: r.get(7)?,
        answer: r.get(8)?,
        answered_by: r.get(9)?,
        answered_at: r.get::<_, Option<i64>>(10)?.map(rfc3339_ms),
        closed_at: r.get::<_, Option<i64>>(11)?.map(rfc3339_ms),
        promoted_material_id: r.get(12)?,
        called_back_at: r.get::<_, Option<i64>>(15)?.map(rfc3339_ms),
        called_back_by: r.get(16)?,
        history: Vec::new(),
        due_at: None,
        overdue: None,
    })
}

pub(super) fn get_escalation(c: &Connection, id: &str) -> Result<Escalation> {
    let sql = format!("{ESCALATION_SELECT} WHERE e.id = ?1");
    c.query_row(&sql, [id], escalation_row)
        .optional()?
        .ok_or_else(|| StatsError::NotFound(format!("no escalation with id {id:?}")))
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let known = MIGRATIONS.len() as i64;
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > known {
        return Err(StatsError::TooNew { found, known });
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
        tracing::info!(migration = name, "applied database migration");
    }
    Ok(())
}
