//! Promotion of an answered escalation to a `faq` material (collection
//! [`PROMOTED_COLLECTION`]), as a review: [`draft`] writes a draft (question and answer
//! prefilled from the inquiry and the department's answer, redacted, flagged where they
//! still look personal), the reviewer edits it ([`Store::edit_draft`]), and [`publish`]
//! writes the material, or the reviewer discards it ([`Store::discard_draft`]).
//!
//! [`publish`] writes and indexes the material first, then records the draft published and
//! the escalation promoted in one transaction; if that fails, the material is removed
//! again, so that a failure between the two steps never leaves a searchable material whose
//! escalation is still open (and can be promoted twice). A draft with flags is published
//! only when the reviewer acknowledges them. No HTTP types here: `http/promotions.rs`
//! calls these.
//!
//! Editing and retiring a published material is not done here: it is a material like any
//! other (`PUT`/`DELETE /api/materials/{id}`).

use chrono::Utc;

use crate::engine::Engine;
use crate::material::{Material, MaterialError, MaterialKind};
use crate::stats::{Draft, DraftStatus, Escalation, StatsError, Store};

/// Corpus collection that promoted escalation answers are written to.
pub const PROMOTED_COLLECTION: &str = "promoted";

/// Why a promotion did not happen (nothing is left written in any case).
#[derive(Debug, thiserror::Error)]
pub enum PromotionError {
    /// The escalation or draft is missing, unanswered, already promoted, not a draft, or
    /// the store failed.
    #[error(transparent)]
    Stats(#[from] StatsError),
    /// Neither the caller nor the inquiry gives a question.
    #[error("the inquiry has no summary or search query; give `question`")]
    NoQuestion,
    /// The draft has flags (this many) and the reviewer did not acknowledge them.
    #[error(
        "the draft has {0} flag(s) of text that may be personal; reword it (PUT) or publish \
         with `acknowledge_flags: true`"
    )]
    Flagged(usize),
    /// The material built is invalid (e.g. too large).
    #[error(transparent)]
    Material(#[from] MaterialError),
    /// Writing or indexing the material failed.
    #[error(transparent)]
    Engine(#[from] crate::Error),
}

/// Builds the `faq` material of an answered escalation (question and answer may be edited
/// by the caller).
pub fn material_from(e: &Escalation, question: String, answer: String) -> Material {
    let updated_at = Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .fixed_offset();
    Material {
        question: Some(question),
        answer: Some(answer),
        department: Some(e.department.clone()),
        category: e.category.clone(),
        tags: vec!["escalation".into()],
        ..Material::new(
            MaterialKind::Faq,
            "escalation",
            format!("escalation/{}", e.id),
            updated_at,
        )
    }
}

fn edited(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Drafts the promotion of escalation `id`: the caller's `question`/`answer` (blank: the
/// inquiry's question and the department's answer), redacted and flagged, by `by`.
///
/// # Errors
/// [`PromotionError::NoQuestion`]; [`PromotionError::Stats`] if the escalation is missing,
/// unanswered, promoted or has an open draft.
pub fn draft(
    store: &Store,
    id: &str,
    question: Option<String>,
    answer: Option<String>,
    by: Option<&str>,
) -> Result<Draft, PromotionError> {
    let e = store.promotable(id)?;
    let question = edited(question)
        .or_else(|| e.question.clone())
        .ok_or(PromotionError::NoQuestion)?;
    let answer = edited(answer)
        .or_else(|| e.answer.clone())
        .unwrap_or_default();
    Ok(store.create_draft(id, &question, &answer, by)?)
}

/// Publishes draft `draft_id` as a `faq` material, indexed at once, and closes its
/// escalation as promoted. Blocking (SQLite and index writes).
///
/// # Errors
/// [`PromotionError::Flagged`] for a draft with flags and `acknowledge_flags` false;
/// [`PromotionError::NoQuestion`] for a blank question; [`PromotionError`] otherwise. On
/// any error nothing stays written.
pub fn publish(
    engine: &Engine,
    store: &Store,
    draft_id: &str,
    by: Option<&str>,
    acknowledge_flags: bool,
) -> Result<(Draft, Escalation, Material), PromotionError> {
    let d = store.draft(draft_id)?;
    if d.status != DraftStatus::Draft {
        return Err(StatsError::Conflict(format!(
            "promotion draft {draft_id} is {}, only drafts can be published",
            d.status
        ))
        .into());
    }
    if !d.flags.is_empty() && !acknowledge_flags {
        return Err(PromotionError::Flagged(d.flags.len()));
    }
    if d.question.trim().is_empty() {
        return Err(PromotionError::NoQuestion);
    }
    let e = store.escalation(&d.escalation_id)?;
    let m = material_from(&e, d.question.clone(), d.answer.clone());
    m.validate()?;
    engine.upsert(PROMOTED_COLLECTION, vec![m.clone()])?;
    match store.publish_draft(draft_id, &m.id, by) {
        Ok((d, esc)) => Ok((d, esc, m)),
        Err(err) => {
            if let Err(undo) = engine.remove(PROMOTED_COLLECTION, std::slice::from_ref(&m.id)) {
                tracing::error!(
                    draft = draft_id,
                    material = %m.id,
                    error = %undo,
                    "publishing failed and its material could not be removed"
                );
            }
            Err(err.into())
        }
    }
}
