//! Promotion drafts (migration `0006_drafts_notifications.sql`): an escalation's question and
//! answer, redacted and flagged, waiting for a manager to publish them as a `faq` material
//! or to discard them. The domain operation (writing the material) is
//! [`crate::promotion`]; this module only keeps the drafts.
//!
//! Every text is redacted here, on the way in ([`super::redact::redact`]): the prefilled
//! texts are redacted already, and an edited text is redacted again, so a reviewer cannot
//! type personal data into a draft either. The flags ([`super::redact::flags`]) are
//! computed on the redacted texts each time they change.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::redact::flags::{Flag, flags};
use super::redact::redact;
use super::store::{checkpoint_truncate, get_escalation};
use super::{Escalation, StatsError, Store, jst_rfc3339_ms};

type Result<T, E = StatsError> = std::result::Result<T, E>;

crate::wire_enum! {
    /// State of a promotion draft.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum DraftStatus {
        /// Waiting for review (editable).
        Draft = "draft",
        /// Published as a `faq` material (`material_id`).
        Published = "published",
        /// Discarded by the reviewer; the escalation may be drafted again.
        Discarded = "discarded",
    }
}

/// One place the reviewer must look at, in the draft's `question` or `answer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DraftFlag {
    /// `question` or `answer`.
    pub field: String,
    /// The flag (kind and excerpt of the redacted text).
    #[serde(flatten)]
    pub flag: Flag,
}

/// A promotion draft as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Draft {
    /// Id.
    pub id: String,
    /// The escalation promoted.
    pub escalation_id: String,
    /// State.
    pub status: DraftStatus,
    /// The FAQ question (redacted).
    pub question: String,
    /// The FAQ answer (redacted).
    pub answer: String,
    /// What the reviewer must look at; publishing a draft with flags needs
    /// `acknowledge_flags`.
    pub flags: Vec<DraftFlag>,
    /// When it was drafted (JST, `+09:00`, to the second).
    pub created_at: String,
    /// Who drafted it (the role or department of the token).
    pub created_by: Option<String>,
    /// When it was last changed (JST).
    pub updated_at: String,
    /// When it was published or discarded (JST).
    pub reviewed_at: Option<String>,
    /// Who published or discarded it.
    pub reviewed_by: Option<String>,
    /// The `faq` material published from it.
    pub material_id: Option<String>,
}

fn flags_of(question: &str, answer: &str) -> Vec<DraftFlag> {
    let field = |name: &str, text: &str| {
        flags(text).into_iter().map({
            let name = name.to_string();
            move |flag| DraftFlag {
                field: name.clone(),
                flag,
            }
        })
    };
    field("question", question)
        .chain(field("answer", answer))
        .collect()
}

const SELECT: &str = "SELECT id, escalation_id, status, question, answer, flags, created_ms, \
     created_by, updated_ms, reviewed_ms, reviewed_by, material_id FROM promotion_drafts";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Draft> {
    let status: String = r.get(2)?;
    let flags: String = r.get(5)?;
    Ok(Draft {
        id: r.get(0)?,
        escalation_id: r.get(1)?,
        status: DraftStatus::parse(&status).unwrap_or(DraftStatus::Draft),
        question: r.get(3)?,
        answer: r.get(4)?,
        flags: serde_json::from_str(&flags).unwrap_or_default(),
        created_at: jst_rfc3339_ms(r.get(6)?),
        created_by: r.get(7)?,
        updated_at: jst_rfc3339_ms(r.get(8)?),
        reviewed_at: r.get::<_, Option<i64>>(9)?.map(jst_rfc3339_ms),
        reviewed_by: r.get(10)?,
        material_id: r.get(11)?,
    })
}

fn get(c: &Connection, id: &str) -> Result<Draft> {
    c.query_row(&format!("{SELECT} WHERE id = ?1"), [id], row)
        .optional()?
        .ok_or_else(|| StatsError::NotFound(format!("no promotion draft with id {id:?}")))
}

fn open_draft(d: Draft) -> Result<Draft> {
    if d.status != DraftStatus::Draft {
        return Err(StatsError::Conflict(format!(
            "promotion draft {} is {}, only drafts can be changed",
            d.id, d.status
        )));
    }
    Ok(d)
}

fn json(flags: &[DraftFlag]) -> String {
    serde_json::to_string(flags).unwrap_or_else(|_| "[]".into())
}

impl Store {
    /// Writes a draft of escalation `escalation_id` with `question` and `answer` (redacted
    /// here), by `by`.
    ///
    /// # Errors
    /// [`StatsError::NotFound`]; [`StatsError::Conflict`] if the escalation has no answer,
    /// was promoted, or has an open draft already (the message names it).
    pub fn create_draft(
        &self,
        escalation_id: &str,
        question: &str,
        answer: &str,
        by: Option<&str>,
    ) -> Result<Draft> {
        self.write(|conn| {
            let tx = conn.transaction()?;
            let e = get_escalation(&tx, escalation_id)?;
            promotable(&e)?;
            let open: Option<String> = tx
                .query_row(
                    "SELECT id FROM promotion_drafts WHERE escalation_id = ?1 AND status = 'draft'",
                    [escalation_id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(d) = open {
                return Err(StatsError::Conflict(format!(
                    "escalation {escalation_id} has an open promotion draft {d}; edit it \
                     (PUT /api/promotions/{d}) or discard it"
                )));
            }
            let (q, a) = (redact(question), redact(answer));
            let id = uuid::Uuid::new_v4().to_string();
            let now = Utc::now().timestamp_millis();
            tx.execute(
                "INSERT INTO promotion_drafts (id, escalation_id, status, question, answer, \
                 flags, created_ms, created_by, updated_ms) \
                 VALUES (?1, ?2, 'draft', ?3, ?4, ?5, ?6, ?7, ?6)",
                params![id, escalation_id, q, a, json(&flags_of(&q, &a)), now, by],
            )?;
            let d = get(&tx, &id)?;
            tx.commit()?;
            Ok(d)
        })
    }

    /// Returns draft `id`.
    ///
    /// # Errors
    /// [`StatsError::NotFound`]; SQLite errors.
    pub fn draft(&self, id: &str) -> Result<Draft> {
        self.read(|c| get(c, id))
    }

    /// The drafts in `status` (any when `None`), newest first, at most `limit`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn drafts(&self, status: Option<DraftStatus>, limit: usize) -> Result<Vec<Draft>> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "{SELECT} WHERE (?1 IS NULL OR status = ?1) \
                 ORDER BY created_ms DESC, rowid DESC LIMIT ?2"
            ))?;
            let rows = st.query_map(params![status.map(|s| s.as_str()), limit as i64], row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Replaces the question and/or the answer of an open draft (redacted here; the flags
    /// are computed again).
    ///
    /// # Errors
    /// [`StatsError::NotFound`]; [`StatsError::Conflict`] if it is no longer a draft.
    pub fn edit_draft(
        &self,
        id: &str,
        question: Option<&str>,
        answer: Option<&str>,
    ) -> Result<Draft> {
        self.write(|conn| {
            let tx = conn.transaction()?;
            let cur = open_draft(get(&tx, id)?)?;
            let q = question.map_or(cur.question, redact);
            let a = answer.map_or(cur.answer, redact);
            tx.execute(
                "UPDATE promotion_drafts SET question = ?2, answer = ?3, flags = ?4, \
                 updated_ms = ?5 WHERE id = ?1",
                params![
                    id,
                    q,
                    a,
                    json(&flags_of(&q, &a)),
                    Utc::now().timestamp_millis()
                ],
            )?;
            let d = get(&tx, id)?;
            tx.commit()?;
            Ok(d)
        })
    }

    /// Records draft `id` as published to `material_id` by `by`, and in the same
    /// transaction marks its escalation promoted and closed, deleting the caller's contact
    /// details (from the WAL too).
    ///
    /// # Errors
    /// [`StatsError::NotFound`]; [`StatsError::Conflict`] if it is no longer a draft or the
    /// escalation was promoted meanwhile.
    pub fn publish_draft(
        &self,
        id: &str,
        material_id: &str,
        by: Option<&str>,
    ) -> Result<(Draft, Escalation)> {
        self.write(|conn| {
            let tx = conn.transaction()?;
            let d = open_draft(get(&tx, id)?)?;
            let now = Utc::now().timestamp_millis();
            let n = tx.execute(
                "UPDATE escalations SET promoted_material_id = ?2, status = 'closed', \
                 closed_ms = COALESCE(closed_ms, ?3), contact = NULL, contact_expires_ms = NULL \
                 WHERE id = ?1 AND promoted_material_id IS NULL",
                params![d.escalation_id, material_id, now],
            )?;
            if n == 0 {
                return Err(StatsError::Conflict(format!(
                    "escalation {} was already promoted",
                    d.escalation_id
                )));
            }
            tx.execute(
                "UPDATE promotion_drafts SET status = 'published', material_id = ?2, \
                 reviewed_ms = ?3, reviewed_by = ?4, updated_ms = ?3 WHERE id = ?1",
                params![id, material_id, now, by],
            )?;
            let out = (get(&tx, id)?, get_escalation(&tx, &d.escalation_id)?);
            tx.commit()?;
            checkpoint_truncate(conn);
            Ok(out)
        })
    }

    /// Discards draft `id` (kept as history); its escalation may be drafted again.
    ///
    /// # Errors
    /// [`StatsError::NotFound`]; [`StatsError::Conflict`] if it is no longer a draft.
    pub fn discard_draft(&self, id: &str, by: Option<&str>) -> Result<Draft> {
        self.write(|conn| {
            let tx = conn.transaction()?;
            open_draft(get(&tx, id)?)?;
            let now = Utc::now().timestamp_millis();
            tx.execute(
                "UPDATE promotion_drafts SET status = 'discarded', reviewed_ms = ?2, \
                 reviewed_by = ?3, updated_ms = ?2 WHERE id = ?1",
                params![id, now, by],
            )?;
            let d = get(&tx, id)?;
            tx.commit()?;
            Ok(d)
        })
    }
}

/// Whether escalation `e` can be drafted: answered and not promoted.
pub(super) fn promotable(e: &Escalation) -> Result<()> {
    if let Some(m) = &e.promoted_material_id {
        return Err(StatsError::Conflict(format!(
            "escalation {} was already promoted to material {m}",
            e.id
        )));
    }
    if e.answer.is_none() {
        return Err(StatsError::Conflict(format!(
            "escalation {} has no answer from the department yet",
            e.id
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Channel, NewInquiry, Outcome, StoreOptions};

    fn answered(store: &Store) -> String {
        let inq = NewInquiry {
            query_id: None,
            received_at: Utc::now().fixed_offset(),
            channel: Channel::Phone,
            category: None,
            outcome: Outcome::Escalated,
            material_ids: Vec::new(),
            department: Some("健康福祉部 国保医療課".into()),
            summary: Some("保険証をなくした。山田太郎と申します。".into()),
            contact: None,
            recorded_by: None,
        };
        let rec = store.record_inquiry(&inq).unwrap();
        let id = rec.escalation_id.unwrap();
        store
            .answer_escalation(&id, "区役所で再発行します。", "国保係")
            .unwrap();
        id
    }

    #[test]
    fn a_draft_is_redacted_flagged_edited_and_published_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreOptions::new(dir.path().join("k.db"))).unwrap();
        let esc = answered(&store);
        let e = store.escalation(&esc).unwrap();
        let d = store
            .create_draft(
                &esc,
                e.question.as_deref().unwrap(),
                "電話 0612345678 まで",
                None,
            )
            .unwrap();
        assert_eq!(d.status, DraftStatus::Draft);
        assert!(d.question.contains("[氏名]"), "{d:?}");
        assert_eq!(d.answer, "電話 [電話番号] まで");
        let fields: Vec<&str> = d.flags.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["question", "answer"], "{d:?}");
        // One open draft per escalation.
        assert!(matches!(
            store.create_draft(&esc, "q", "a", None),
            Err(StatsError::Conflict(_))
        ));
        // Edited text is redacted again; clean text has no flags.
        let d = store
            .edit_draft(
                &d.id,
                Some("保険証をなくしたときは？"),
                Some("区役所で再発行します。"),
            )
            .unwrap();
        assert!(d.flags.is_empty(), "{d:?}");
        let d2 = store
            .edit_draft(&d.id, None, Some("係の090-1111-2222へ"))
            .unwrap();
        assert_eq!(d2.answer, "係の[電話番号]へ");
        assert_eq!(d2.question, "保険証をなくしたときは？");
        let (p, e) = store.publish_draft(&d.id, "m1", Some("manager")).unwrap();
        assert_eq!(p.status, DraftStatus::Published);
        assert_eq!(p.material_id.as_deref(), Some("m1"));
        assert_eq!(e.promoted_material_id.as_deref(), Some("m1"));
        assert!(matches!(
            store.publish_draft(&d.id, "m2", None),
            Err(StatsError::Conflict(_))
        ));
        assert!(matches!(
            store.edit_draft(&d.id, Some("x"), None),
            Err(StatsError::Conflict(_))
        ));
        assert_eq!(
            store
                .drafts(Some(DraftStatus::Published), 10)
                .unwrap()
                .len(),
            1
        );
        assert!(
            store
                .drafts(Some(DraftStatus::Draft), 10)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_discarded_draft_lets_the_escalation_be_drafted_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreOptions::new(dir.path().join("k.db"))).unwrap();
        let esc = answered(&store);
        let d = store.create_draft(&esc, "q", "a", None).unwrap();
        let gone = store.discard_draft(&d.id, Some("manager")).unwrap();
        assert_eq!(gone.status, DraftStatus::Discarded);
        assert!(store.create_draft(&esc, "q2", "a2", None).is_ok());
        assert!(matches!(store.draft("nope"), Err(StatsError::NotFound(_))));
    }
}
