//! The escalation workflow beyond answering: reassignment to another department, the
//! call-back to the caller, and the history of every change (answers corrected,
//! reassignments, call-backs), kept in `escalation_events` with redacted texts.
//!
//! Who calls back: the department that answers calls the caller back with its answer (it
//! knows the matter); when the center does it instead, an operator records it. Either way
//! the caller's contact details stay on the escalation until the call-back is recorded, and
//! are deleted then (or when the escalation is closed or promoted, and after
//! `contact_retention_days` in any case).

use chrono::Utc;
use rusqlite::{Connection, params};
use serde::Serialize;

use super::redact::redact;
use super::store::get_escalation;
use super::{Escalation, EscalationStatus, StatsError, Store};

/// One change of an escalation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EscalationEvent {
    /// When (JST, `+09:00`, to the second).
    pub at: String,
    /// `answered`, `answer_corrected`, `reassigned` or `called_back`.
    pub kind: String,
    /// Who (as given: `answered_by`, `called_back_by`, the reassigning role).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The value before (the previous answer, the previous department), redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// The value after, redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// Appends one event (inside the caller's transaction).
pub(super) fn add_event(
    c: &Connection,
    escalation_id: &str,
    at_ms: i64,
    kind: &str,
    actor: Option<&str>,
    before: Option<&str>,
    after: Option<&str>,
) -> Result<(), StatsError> {
    c.prepare_cached(
        "INSERT INTO escalation_events (escalation_id, at_ms, kind, actor, before, after) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![escalation_id, at_ms, kind, actor, before, after])?;
    Ok(())
}

/// The history of escalation `id`, oldest first.
pub(super) fn history(c: &Connection, id: &str) -> Result<Vec<EscalationEvent>, StatsError> {
    let mut st = c.prepare_cached(
        "SELECT at_ms, kind, actor, before, after FROM escalation_events \
         WHERE escalation_id = ?1 ORDER BY id",
    )?;
    let rows = st
        .query_map([id], |r| {
            Ok(EscalationEvent {
                at: super::jst_rfc3339_ms(r.get(0)?),
                kind: r.get(1)?,
                by: r.get(2)?,
                before: r.get(3)?,
                after: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

impl Store {
    /// Returns escalation `id` with its history.
    ///
    /// # Errors
    /// [`StatsError::NotFound`]; SQLite errors.
    pub fn escalation_with_history(&self, id: &str) -> Result<Escalation, StatsError> {
        self.read(|c| {
            let mut e = get_escalation(c, id)?;
            e.history = history(c, id)?;
            Ok(e)
        })
    }

    /// Reassigns an open escalation to `department` (already resolved), keeping the
    /// previous department in the history.
    ///
    /// # Errors
    /// [`StatsError::NotFound`]; [`StatsError::Conflict`] unless open, or for the same
    /// department.
    pub fn reassign_escalation(
        &self,
        id: &str,
        department: &str,
        by: &str,
    ) -> Result<Escalation, StatsError> {
        self.write(|conn| {
            let tx = conn.transaction()?;
            let cur = get_escalation(&tx, id)?;
            if cur.status != EscalationStatus::Open {
                return Err(StatsError::Conflict(format!(
                    "escalation {id} is {}, only open escalations can be reassigned",
                    cur.status.as_str()
                )));
            }
            if cur.department == department {
                return Err(StatsError::Conflict(format!(
                    "escalation {id} is already assigned to {department}"
                )));
            }
            let now = Utc::now().timestamp_millis();
            tx.execute(
                "UPDATE escalations SET department = ?2 WHERE id = ?1",
                params![id, department],
            )?;
            tx.execute(
                "UPDATE inquiries SET department = ?2 WHERE id = ?1",
                params![cur.inquiry_id, department],
            )?;
            add_event(
                &tx,
                id,
                now,
                "reassigned",
                Some(by),
                Some(&cur.department),
                Some(department),
            )?;
            let mut out = get_escalation(&tx, id)?;
            out.history = history(&tx, id)?;
            tx.commit()?;
            Ok(out)
        })
    }

    /// Records that the caller was called back, and deletes the caller's contact details.
    ///
    /// # Errors
    /// [`StatsError::NotFound`]; [`StatsError::Conflict`] if already recorded.
    pub fn record_callback(&self, id: &str, by: &str) -> Result<Escalation, StatsError> {
        self.write(|conn| {
            let tx = conn.transaction()?;
            let cur = get_escalation(&tx, id)?;
            if cur.called_back_at.is_some() {
                return Err(StatsError::Conflict(format!(
                    "the call-back of escalation {id} is already recorded"
                )));
            }
            let now = Utc::now().timestamp_millis();
            tx.execute(
                "UPDATE escalations SET called_back_ms = ?2, called_back_by = ?3, \
                 contact = NULL, contact_expires_ms = NULL WHERE id = ?1",
                params![id, now, by],
            )?;
            add_event(&tx, id, now, "called_back", Some(&redact(by)), None, None)?;
            let mut out = get_escalation(&tx, id)?;
            out.history = history(&tx, id)?;
            tx.commit()?;
            // The deleted contact details leave no copy in the WAL.
            super::store::checkpoint_truncate(conn);
            Ok(out)
        })
    }
}

/// Which inquiries [`Store::inquiries`] lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InquiryFilter {
    /// First JST day (days since 1970-01-01), inclusive.
    pub from_day: Option<i64>,
    /// Last JST day, inclusive.
    pub to_day: Option<i64>,
    /// Only this outcome.
    pub outcome: Option<super::Outcome>,
    /// Only this channel.
    pub channel: Option<super::Channel>,
    /// Only this department and the units below it (canonical path).
    pub department: Option<String>,
    /// Only inquiries recorded with this token id.
    pub recorded_by: Option<String>,
    /// At most this many, newest first.
    pub limit: usize,
}

impl Store {
    /// Lists inquiries, newest received first.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn inquiries(&self, f: &InquiryFilter) -> Result<Vec<super::Inquiry>, StatsError> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT id, query_id, received_ms, channel, category, outcome, department, \
                 summary, (SELECT group_concat(material_id, char(10)) FROM inquiry_materials m \
                           WHERE m.inquiry_id = i.id) \
                 FROM inquiries i \
                 WHERE (?1 IS NULL OR jst_day >= ?1) AND (?2 IS NULL OR jst_day <= ?2) \
                 AND (?3 IS NULL OR outcome = ?3) AND (?4 IS NULL OR channel = ?4) \
                 AND (?5 IS NULL OR instr(' ' || department || ' ', ' ' || ?5 || ' ') > 0) \
                 AND (?6 IS NULL OR recorded_by = ?6) \
                 ORDER BY received_ms DESC, rowid DESC LIMIT ?7",
            )?;
            let rows = st
                .query_map(
                    params![
                        f.from_day,
                        f.to_day,
                        f.outcome.map(super::Outcome::as_str),
                        f.channel.map(super::Channel::as_str),
                        f.department,
                        f.recorded_by,
                        f.limit as i64
                    ],
                    |r| {
                        Ok(super::Inquiry {
                            id: r.get(0)?,
                            query_id: r.get(1)?,
                            received_at: super::jst_rfc3339_ms(r.get(2)?),
                            channel: super::Channel::parse(&r.get::<_, String>(3)?)
                                .unwrap_or(super::Channel::Phone),
                            category: r.get(4)?,
                            outcome: super::Outcome::parse(&r.get::<_, String>(5)?)
                                .unwrap_or(super::Outcome::Answered),
                            department: r.get(6)?,
                            summary: r.get(7)?,
                            material_ids: r
                                .get::<_, Option<String>>(8)?
                                .map(|s| s.split('\n').map(str::to_string).collect())
                                .unwrap_or_default(),
                        })
                    },
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }
}
