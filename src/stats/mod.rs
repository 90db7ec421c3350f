//! Inquiry records, escalations, the search log and the statistics over them
//! (一次回答率, knowledge gaps).
//!
//! Everything is kept in one [`Store`]: SQLite in WAL mode by default (`DATA_DIR/kotae.db`),
//! schema from the embedded SQL migrations in `src/stats/migrations/`. The store's methods
//! speak only the types of this module, so that a PostgreSQL backend (for several service
//! instances) can be added behind the same type later.
//!
//! # First-answer rate (一次回答率)
//!
//! `rate = answered / (answered + escalated)`, counted by the day the inquiry came in
//! (`received_at`) in Japan time (JST, `Asia/Tokyo`). `koucho` (広聴事案: complaints,
//! requests and proposals registered for the 府民の声 system) and `transfer` (代表電話の交換:
//! switchboard transfers) are counted and reported but are not inquiries the center could
//! answer from its materials, so they are excluded from the rate. This is the definition of
//! the first-contact resolution rate of contact-center practice (an inquiry resolved without
//! a hand-off, over the inquiries that were either resolved or handed off). Japanese fiscal
//! years (年度) start on 1 April: `FY2026` is 2026-04-01 to 2027-03-31 JST.

pub mod counts;
pub mod drafts;
pub mod gaps;
pub mod idempotency;
pub mod jobs;
pub mod learned;
pub mod metrics;
pub mod notifications;
pub mod pins;
pub mod redact;
pub mod review;
pub mod search_log;
pub mod store;
pub mod workflow;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Serialize;

pub use drafts::{Draft, DraftFlag, DraftStatus};
pub use metrics::{Granularity, GroupBy};
pub use search_log::SearchLogger;
pub use store::{Purged, Store, StoreOptions};
pub use workflow::EscalationEvent;

/// Maximum length of an inquiry summary, in characters.
pub const MAX_SUMMARY_CHARS: usize = 4000;
/// Maximum length of a department's answer, in characters.
pub const MAX_ANSWER_CHARS: usize = 20_000;
/// Maximum length of short fields (category, department, answered_by, contact), in characters.
pub const MAX_FIELD_CHARS: usize = 200;
/// Maximum number of material ids on one inquiry.
pub const MAX_MATERIAL_IDS: usize = 50;

/// Errors of the statistics store.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// SQLite failed.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer kotae.
    #[error("database schema version {found} is newer than this kotae knows ({known})")]
    TooNew {
        /// Version found in the database.
        found: i64,
        /// Latest version known to this build.
        known: i64,
    },
    /// The input is invalid.
    #[error("{message}")]
    Invalid {
        /// Which rule the input breaks.
        reason: InvalidReason,
        /// What is wrong.
        message: String,
    },
    /// No such record.
    #[error("{0}")]
    NotFound(String),
    /// The record is not in a state that allows the operation.
    #[error("{0}")]
    Conflict(String),
    /// An idempotency key used again with a different request body.
    #[error("{0}")]
    KeyReused(String),
    /// The store is shutting down or a background thread is gone.
    #[error("{0}")]
    Unavailable(String),
}

/// The rule of a record that an input breaks (see [`NewInquiry::validate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidReason {
    /// The summary is over [`MAX_SUMMARY_CHARS`].
    SummaryTooLong,
    /// A short field is over its limit.
    FieldTooLong,
    /// More than [`MAX_MATERIAL_IDS`] material ids.
    TooManyMaterials,
    /// A material id is empty (or, checked by the caller, unknown).
    UnknownMaterial,
    /// An `answered` inquiry without a material id.
    MissingMaterial,
    /// An `escalated` inquiry without a department.
    MissingDepartment,
    /// Caller contact details on an inquiry that is not `escalated`.
    UnexpectedContact,
}

impl StatsError {
    /// An [`StatsError::Invalid`] with `reason` and `message`.
    pub fn invalid(reason: InvalidReason, message: impl Into<String>) -> Self {
        StatsError::Invalid {
            reason,
            message: message.into(),
        }
    }
}

crate::wire_enum! {
    /// How an inquiry came in.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Channel {
        /// Telephone.
        Phone = "phone",
        /// FAX.
        Fax = "fax",
        /// E-mail.
        Email = "email",
        /// Letter.
        Letter = "letter",
        /// Counter visit (来庁).
        Visit = "visit",
        /// Web form.
        Web = "web",
    }
}

crate::wire_enum! {
    /// What became of an inquiry.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Outcome {
        /// Answered by the center from answer materials (一次回答).
        Answered = "answered",
        /// Handed to the responsible department (エスカレーション).
        Escalated = "escalated",
        /// A complaint, request or proposal registered for the 府民の声 system (広聴事案).
        Koucho = "koucho",
        /// A switchboard transfer (代表電話の交換), not an inquiry about content.
        Transfer = "transfer",
    }
}

crate::wire_enum! {
    /// State of an escalation.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum EscalationStatus {
        /// Waiting for the department's answer.
        Open = "open",
        /// The department has answered.
        Answered = "answered",
        /// Done (with or without an answer; promoted escalations are closed).
        Closed = "closed",
    }
}

/// A validated inquiry to record (see [`Store::record_inquiry`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewInquiry {
    /// The search this inquiry followed, if any.
    pub query_id: Option<String>,
    /// When the inquiry came in.
    pub received_at: DateTime<FixedOffset>,
    /// How it came in.
    pub channel: Channel,
    /// Category (分類), free text.
    pub category: Option<String>,
    /// What became of it.
    pub outcome: Outcome,
    /// Materials used to answer (or consulted).
    pub material_ids: Vec<String>,
    /// Responsible department (required for `escalated`).
    pub department: Option<String>,
    /// What was asked and said, redacted before it is stored.
    pub summary: Option<String>,
    /// Caller contact details for the department's call-back; kept only on the escalation
    /// and deleted when the call-back is recorded, the escalation closed or promoted, or
    /// after the retention period.
    pub contact: Option<String>,
    /// Id of the token that recorded it (see `http::auth::Principal::token_id`), if any.
    pub recorded_by: Option<String>,
}

impl NewInquiry {
    /// Checks the rules of the record: `answered` needs a material id, `escalated` a
    /// department; sizes within the limits. Material existence is checked by the caller.
    ///
    /// # Errors
    /// [`StatsError::Invalid`] naming the rule broken.
    pub fn validate(&self) -> Result<(), StatsError> {
        let too_long = |name: &str, v: &Option<String>, max: usize| -> Result<(), StatsError> {
            match v {
                Some(s) if s.chars().count() > max => Err(StatsError::invalid(
                    if name == "summary" {
                        InvalidReason::SummaryTooLong
                    } else {
                        InvalidReason::FieldTooLong
                    },
                    format!("`{name}` is over the limit of {max} characters"),
                )),
                _ => Ok(()),
            }
        };
        too_long("summary", &self.summary, MAX_SUMMARY_CHARS)?;
        too_long("category", &self.category, MAX_FIELD_CHARS)?;
        too_long("department", &self.department, MAX_FIELD_CHARS)?;
        too_long("contact", &self.contact, MAX_FIELD_CHARS)?;
        too_long("query_id", &self.query_id, 100)?;
        if self.material_ids.len() > MAX_MATERIAL_IDS {
            return Err(StatsError::invalid(
                InvalidReason::TooManyMaterials,
                format!("at most {MAX_MATERIAL_IDS} material ids per inquiry"),
            ));
        }
        if self.material_ids.iter().any(|m| m.trim().is_empty()) {
            return Err(StatsError::invalid(
                InvalidReason::UnknownMaterial,
                "material ids must not be empty",
            ));
        }
        match self.outcome {
            Outcome::Answered if self.material_ids.is_empty() => Err(StatsError::invalid(
                InvalidReason::MissingMaterial,
                "an `answered` inquiry needs at least one material id",
            )),
            Outcome::Escalated
                if self
                    .department
                    .as_deref()
                    .is_none_or(|d| d.trim().is_empty()) =>
            {
                Err(StatsError::invalid(
                    InvalidReason::MissingDepartment,
                    "an `escalated` inquiry needs a department",
                ))
            }
            _ if self.contact.is_some() && self.outcome != Outcome::Escalated => {
                Err(StatsError::invalid(
                    InvalidReason::UnexpectedContact,
                    "caller contact details are kept only for `escalated` inquiries",
                ))
            }
            _ => Ok(()),
        }
    }
}

/// A stored inquiry.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Inquiry {
    /// Id.
    pub id: String,
    /// The search this inquiry followed, if any.
    pub query_id: Option<String>,
    /// When the inquiry came in (JST, `+09:00`, to the second).
    pub received_at: String,
    /// How it came in.
    pub channel: Channel,
    /// Category.
    pub category: Option<String>,
    /// Outcome.
    pub outcome: Outcome,
    /// Materials used.
    pub material_ids: Vec<String>,
    /// Responsible department.
    pub department: Option<String>,
    /// Redacted summary.
    pub summary: Option<String>,
}

/// An escalation as returned by the API.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Escalation {
    /// Id.
    pub id: String,
    /// The escalated inquiry.
    pub inquiry_id: String,
    /// Responsible department.
    pub department: String,
    /// State.
    pub status: EscalationStatus,
    /// What was asked (the inquiry's redacted summary, else its redacted search query).
    pub question: Option<String>,
    /// Category of the inquiry.
    pub category: Option<String>,
    /// When the inquiry came in (JST, `+09:00`, to the second).
    pub received_at: String,
    /// How the inquiry came in (so the department knows how to call back).
    pub channel: Channel,
    /// When the escalation was opened (JST, `+09:00`, to the second).
    pub created_at: String,
    /// Caller contact details (until the call-back is recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// The department's answer.
    pub answer: Option<String>,
    /// Who answered.
    pub answered_by: Option<String>,
    /// When the department answered (JST).
    pub answered_at: Option<String>,
    /// When the escalation was closed (JST).
    pub closed_at: Option<String>,
    /// Id of the `faq` material made from this escalation.
    pub promoted_material_id: Option<String>,
    /// When the caller was called back (JST); the contact details are deleted then.
    pub called_back_at: Option<String>,
    /// Who called back.
    pub called_back_by: Option<String>,
    /// Answers corrected, reassignments and call-backs, oldest first (on single reads).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<EscalationEvent>,
    /// When an answer is due: `created_at` + `[stats] escalation_due_hours` (JST; set by
    /// the list and single reads, see [`Escalation::set_due`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
    /// Whether it is still open after `due_at` (with `due_at`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdue: Option<bool>,
}

impl Escalation {
    /// Sets [`Escalation::due_at`] to `due_hours` after its creation and
    /// [`Escalation::overdue`] to whether it is open after that at `now`.
    pub fn set_due(&mut self, due_hours: u32, now: DateTime<Utc>) {
        let Ok(created) = DateTime::parse_from_rfc3339(&self.created_at) else {
            return;
        };
        let due = created + chrono::Duration::hours(i64::from(due_hours));
        self.due_at = Some(jst_rfc3339(&due));
        self.overdue = Some(self.status == EscalationStatus::Open && now > due);
    }
}

/// One search served, for the search log.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRecord {
    /// Id of the search.
    pub query_id: String,
    /// The query as typed (redacted before it is stored).
    pub query: String,
    /// Number of matching materials.
    pub hits: u64,
    /// Time spent in the engine, in milliseconds.
    pub took_ms: f64,
    /// Ids of the materials shown, best first.
    pub top_ids: Vec<String>,
    /// When it was served.
    pub at: DateTime<Utc>,
    /// The search's filters as JSON (`{"kind": "faq", "department": "…"}`), `None` for an
    /// unfiltered search.
    pub filters: Option<String>,
}

/// Writes `t` in Japan time with its offset, to the second (`2026-04-01T09:30:00+09:00`):
/// the form of every time in API answers and reports.
pub fn jst_rfc3339<Tz: chrono::TimeZone>(t: &DateTime<Tz>) -> String {
    t.with_timezone(&chrono_tz::Asia::Tokyo)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Writes Unix milliseconds `ms` as [`jst_rfc3339`].
pub fn jst_rfc3339_ms(ms: i64) -> String {
    jst_rfc3339(
        &chrono::TimeZone::timestamp_millis_opt(&Utc, ms)
            .single()
            .unwrap_or_default(),
    )
}

/// Returns the JST calendar date of `t`.
pub fn jst_date<Tz: chrono::TimeZone>(t: &DateTime<Tz>) -> NaiveDate {
    t.with_timezone(&chrono_tz::Asia::Tokyo).date_naive()
}

/// Returns the JST calendar date of `t` as days since 1970-01-01 (the `jst_day` column).
pub fn jst_day<Tz: chrono::TimeZone>(t: &DateTime<Tz>) -> i64 {
    day_number(jst_date(t))
}

/// Returns `d` as days since 1970-01-01.
pub fn day_number(d: NaiveDate) -> i64 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days()
}

/// Returns the date `n` days after 1970-01-01.
pub fn date_of_day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default() + chrono::Duration::days(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jst_day_boundary_is_15_00_utc() {
        let t = DateTime::parse_from_rfc3339("2026-03-31T15:30:00Z").unwrap();
        assert_eq!(jst_date(&t), NaiveDate::from_ymd_opt(2026, 4, 1).unwrap());
        let t = DateTime::parse_from_rfc3339("2026-03-31T14:59:59Z").unwrap();
        assert_eq!(jst_date(&t), NaiveDate::from_ymd_opt(2026, 3, 31).unwrap());
        let d = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        assert_eq!(date_of_day(day_number(d)), d);
    }
}
