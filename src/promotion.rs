//! Promotion of an answered escalation to a `faq` material (collection
//! [`PROMOTED_COLLECTION`]): one domain operation over the engine and the statistics store.
//!
//! The material is written and indexed first, then the escalation is marked promoted; if
//! marking fails, the material is removed again, so that a failure between the two steps
//! never leaves a searchable material whose escalation is still open (and can be promoted
//! twice). No HTTP types here: `http/escalations.rs` calls [`promote`].

use chrono::Utc;

use crate::engine::Engine;
use crate::material::{Material, MaterialError, MaterialKind};
use crate::stats::{Escalation, StatsError, Store};

/// Corpus collection that promoted escalation answers are written to.
pub const PROMOTED_COLLECTION: &str = "promoted";

/// Why a promotion did not happen (nothing is left written in any case).
#[derive(Debug, thiserror::Error)]
pub enum PromotionError {
    /// The escalation is missing, unanswered, already promoted, or the store failed.
    #[error(transparent)]
    Stats(#[from] StatsError),
    /// Neither the caller nor the inquiry gives a question.
    #[error("the inquiry has no summary or search query; give `question`")]
    NoQuestion,
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

/// Promotes escalation `id`: the caller's `question`/`answer` (blank: the inquiry's
/// question and the department's answer) become a `faq` material, indexed at once, and the
/// escalation is closed as promoted. Blocking (SQLite and index writes).
///
/// # Errors
/// [`PromotionError`]; on any error nothing stays written.
pub fn promote(
    engine: &Engine,
    store: &Store,
    id: &str,
    question: Option<String>,
    answer: Option<String>,
) -> Result<(Escalation, Material), PromotionError> {
    let e = store.promotable(id)?;
    let question = edited(question)
        .or_else(|| e.question.clone())
        .ok_or(PromotionError::NoQuestion)?;
    let answer = edited(answer)
        .or_else(|| e.answer.clone())
        .unwrap_or_default();
    let m = material_from(&e, question, answer);
    m.validate()?;
    engine.upsert(PROMOTED_COLLECTION, vec![m.clone()])?;
    match store.mark_promoted(id, &m.id) {
        Ok(esc) => Ok((esc, m)),
        Err(err) => {
            if let Err(undo) = engine.remove(PROMOTED_COLLECTION, std::slice::from_ref(&m.id)) {
                tracing::error!(
                    escalation = id,
                    material = %m.id,
                    error = %undo,
                    "promotion failed and its material could not be removed"
                );
            }
            Err(err.into())
        }
    }
}
