//! The outbox of outbound escalation notifications (migration
//! `0006_drafts_notifications.sql`); the sender is [`crate::notify`].
//!
//! [`Store::enqueue_notifications`] derives the rows from what is committed — escalations
//! not yet announced, history events after a cursor, open escalations past their due time
//! — in one transaction with the markers that say so, so each change is announced once,
//! and only changes that happened. A row stays `queued` until a delivery succeeds (then
//! `delivered`) or its attempts are used up (then `failed`); the attempts and the next
//! attempt's time are stored, so retries survive a restart.

use chrono::Utc;
use rusqlite::{Connection, params};
use serde::Serialize;

use super::store::get_escalation;
use super::{StatsError, Store, jst_rfc3339_ms};

type Result<T, E = StatsError> = std::result::Result<T, E>;

/// Where an escalation's department is notified: its URL, or `None` for a department that
/// has none.
pub type Route<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A notification the sender must deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingNotification {
    /// Row id.
    pub id: i64,
    /// Unique id of the delivery (also in the body), so a receiver can drop a repeat.
    pub delivery_id: String,
    /// `opened`, `answered`, `reassigned` or `overdue`.
    pub event: String,
    /// The department's URL.
    pub url: String,
    /// The JSON body, as signed.
    pub body: String,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// A notification row as `GET /api/notifications` would show it (and the tests read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotificationRecord {
    /// Unique id of the delivery.
    pub delivery_id: String,
    /// Escalation announced.
    pub escalation_id: String,
    /// Event.
    pub event: String,
    /// Department notified.
    pub department: String,
    /// `queued`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last failure.
    pub last_error: Option<String>,
}

fn insert(
    c: &Connection,
    escalation_id: &str,
    event: &str,
    department: &str,
    now_ms: i64,
    due_ms: i64,
    route: Route<'_>,
) -> Result<bool> {
    let Some(url) = route(department) else {
        return Ok(false);
    };
    let e = get_escalation(c, escalation_id)?;
    let created_ms: i64 = c.query_row(
        "SELECT created_ms FROM escalations WHERE id = ?1",
        [escalation_id],
        |r| r.get(0),
    )?;
    let delivery_id = uuid::Uuid::new_v4().to_string();
    let mut esc = serde_json::to_value(&e).unwrap_or_default();
    if let Some(o) = esc.as_object_mut() {
        // The caller's contact details never leave the store in a notification.
        o.remove("contact");
        o.remove("history");
    }
    let body = serde_json::json!({
        "delivery_id": delivery_id,
        "event": event,
        "at": jst_rfc3339_ms(now_ms),
        "department": department,
        "due_at": jst_rfc3339_ms(created_ms + due_ms),
        "escalation": esc,
    })
    .to_string();
    c.prepare_cached(
        "INSERT INTO notifications (delivery_id, escalation_id, event, department, url, body, \
         status, next_attempt_ms, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?7)",
    )?
    .execute(params![
        delivery_id,
        escalation_id,
        event,
        department,
        url,
        body,
        now_ms
    ])?;
    Ok(true)
}

impl Store {
    /// Writes the notifications due at `now_ms`: `opened` for escalations not announced yet
    /// (only those opened within the last `due_ms`; older ones are marked without one),
    /// `answered`/`reassigned` for history events after the cursor (those of the last
    /// `due_ms` only), `overdue` for
    /// escalations still open `due_ms` after they were opened. Departments without a URL
    /// (`route` gives `None`) are marked without a row. Returns the rows written.
    ///
    /// # Errors
    /// SQLite errors (nothing is written then).
    pub fn enqueue_notifications(
        &self,
        now_ms: i64,
        due_ms: i64,
        route: Route<'_>,
    ) -> Result<usize> {
        self.write(|conn| {
            let tx = conn.transaction()?;
            let mut n = 0;
            // `opened` goes to the department the escalation was opened for: the first
            // reassignment's `before` if it was reassigned since (that is announced below).
            let fresh: Vec<(String, String, i64)> = tx
                .prepare_cached(
                    "SELECT e.id, COALESCE((SELECT v.before FROM escalation_events v \
                     WHERE v.escalation_id = e.id AND v.kind = 'reassigned' ORDER BY v.id \
                     LIMIT 1), e.department), e.created_ms FROM escalations e \
                     WHERE e.notified_ms IS NULL ORDER BY e.created_ms, e.rowid",
                )?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (id, dept, created) in fresh {
                if created >= now_ms - due_ms
                    && insert(&tx, &id, "opened", &dept, now_ms, due_ms, route)?
                {
                    n += 1;
                }
                tx.execute(
                    "UPDATE escalations SET notified_ms = ?2 WHERE id = ?1",
                    params![id, now_ms],
                )?;
            }
            let cursor: i64 = tx.query_row(
                "SELECT last_id FROM notify_cursor WHERE name = 'escalation_events'",
                [],
                |r| r.get(0),
            )?;
            let events: Vec<(i64, String, String, Option<String>, i64)> = tx
                .prepare_cached(
                    "SELECT v.id, v.escalation_id, v.kind, v.after, v.at_ms \
                     FROM escalation_events v WHERE v.id > ?1 ORDER BY v.id",
                )?
                .query_map([cursor], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut last = cursor;
            for (id, esc, kind, after, at_ms) in events {
                last = id;
                // Changes older than the due time (notifications were off) are stale news.
                if at_ms < now_ms - due_ms {
                    continue;
                }
                let department = match kind.as_str() {
                    "reassigned" => after,
                    "answered" => Some(get_escalation(&tx, &esc)?.department),
                    _ => None,
                };
                if let Some(d) = department
                    && insert(&tx, &esc, &kind, &d, now_ms, due_ms, route)?
                {
                    n += 1;
                }
            }
            tx.execute(
                "UPDATE notify_cursor SET last_id = ?1 WHERE name = 'escalation_events'",
                [last],
            )?;
            let late: Vec<(String, String)> = tx
                .prepare_cached(
                    "SELECT id, department FROM escalations WHERE status = 'open' \
                     AND overdue_notified_ms IS NULL AND created_ms <= ?1 \
                     ORDER BY created_ms, rowid",
                )?
                .query_map([now_ms - due_ms], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (id, dept) in late {
                if insert(&tx, &id, "overdue", &dept, now_ms, due_ms, route)? {
                    n += 1;
                }
                tx.execute(
                    "UPDATE escalations SET overdue_notified_ms = ?2 WHERE id = ?1",
                    params![id, now_ms],
                )?;
            }
            tx.commit()?;
            Ok(n)
        })
    }

    /// Queued notifications whose next attempt is due at `now_ms`, oldest first.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn due_notifications(&self, now_ms: i64, limit: usize) -> Result<Vec<PendingNotification>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT id, delivery_id, event, url, body, attempts FROM notifications \
                 WHERE status = 'queued' AND next_attempt_ms <= ?1 ORDER BY next_attempt_ms, id \
                 LIMIT ?2",
            )?;
            let rows = st.query_map(params![now_ms, limit as i64], |r| {
                Ok(PendingNotification {
                    id: r.get(0)?,
                    delivery_id: r.get(1)?,
                    event: r.get(2)?,
                    url: r.get(3)?,
                    body: r.get(4)?,
                    attempts: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Records the outcome of one attempt of notification `id`: delivered (`error` `None`),
    /// or failed with `error`, retried at `retry_at_ms` or, with `None`, given up
    /// (`failed`).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_notification_attempt(
        &self,
        id: i64,
        error: Option<&str>,
        retry_at_ms: Option<i64>,
    ) -> Result<()> {
        let now = Utc::now().timestamp_millis();
        self.write(|c| {
            match (error, retry_at_ms) {
                (None, _) => c.execute(
                    "UPDATE notifications SET status = 'delivered', attempts = attempts + 1, \
                     delivered_ms = ?2, last_error = NULL WHERE id = ?1",
                    params![id, now],
                )?,
                (Some(e), Some(at)) => c.execute(
                    "UPDATE notifications SET attempts = attempts + 1, last_error = ?2, \
                     next_attempt_ms = ?3 WHERE id = ?1",
                    params![id, e, at],
                )?,
                (Some(e), None) => c.execute(
                    "UPDATE notifications SET status = 'failed', attempts = attempts + 1, \
                     last_error = ?2 WHERE id = ?1",
                    params![id, e],
                )?,
            };
            Ok(())
        })
    }

    /// Every notification, in the order written.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn notifications(&self) -> Result<Vec<NotificationRecord>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT delivery_id, escalation_id, event, department, status, attempts, \
                 last_error FROM notifications ORDER BY id",
            )?;
            let rows = st.query_map([], |r| {
                Ok(NotificationRecord {
                    delivery_id: r.get(0)?,
                    escalation_id: r.get(1)?,
                    event: r.get(2)?,
                    department: r.get(3)?,
                    status: r.get(4)?,
                    attempts: r.get(5)?,
                    last_error: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Channel, NewInquiry, Outcome, StoreOptions};

    #[test]
    fn overdue_is_written_once_and_old_escalations_are_not_announced_as_opened() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreOptions::new(dir.path().join("k.db"))).unwrap();
        let inq = NewInquiry {
            query_id: None,
            received_at: Utc::now().fixed_offset(),
            channel: Channel::Phone,
            category: None,
            outcome: Outcome::Escalated,
            material_ids: Vec::new(),
            department: Some("国保医療課".into()),
            summary: Some("資格確認書".into()),
            contact: None,
            recorded_by: None,
        };
        store.record_inquiry(&inq).unwrap();
        let route = |_: &str| Some("http://127.0.0.1:9/x".to_string());
        let hour = 3_600_000;
        // Seen first two days later with a due time of one hour: overdue, not opened.
        let later = Utc::now().timestamp_millis() + 48 * hour;
        assert_eq!(store.enqueue_notifications(later, hour, &route).unwrap(), 1);
        assert_eq!(
            store
                .enqueue_notifications(later + hour, hour, &route)
                .unwrap(),
            0
        );
        let rows = store.notifications().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].event, "overdue");
        assert!(store.due_notifications(later, 10).unwrap().len() == 1);
        assert!(store.due_notifications(later - 1, 10).unwrap().is_empty());
    }
}
