//! Answer materials (回答用資料): the unit kotae indexes and returns.
//!
//! A material is one FAQ entry (`faq`: question + answer), one web page (`page`: title + body)
//! or one department contact record (`contact`: 部署, グループ, 事務分担, 電話番号 …).

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The heading of the contact block that ends many Japanese FAQ answers and pages
/// (localgovFAQ style: `【お問い合わせ】。部署。電話…`). The index leaves the block out of the
/// indexed body, and import and extraction read the department from it.
pub const CONTACT_BLOCK_MARKER: &str = "【お問い合わせ】";

/// Maximum size of one material's text fields together, in bytes (4 MiB).
pub const MAX_MATERIAL_BYTES: usize = 4 * 1024 * 1024;

crate::wire_enum! {
    /// The kind of an answer material; the wire names are used in the API and in the index.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum MaterialKind {
        /// A question/answer pair from an FAQ list.
        Faq = "faq",
        /// A web page with a title and a body.
        Page = "page",
        /// A department contact record.
        Contact = "contact",
    }
}

/// A department contact record (組織・連絡先, 事務分担表 row).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contact {
    /// Department (部署), e.g. `健康福祉部 国保医療課`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Group or section within the department (グループ, 係, 班).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Duties (事務分担) as free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duties: Option<String>,
    /// Phone number as written in the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// FAX number as written in the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fax: Option<String>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Postal address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Opening hours (受付時間) as written in the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<String>,
}

impl Contact {
    /// Returns all non-empty fields joined by newlines, for indexing.
    pub fn searchable_text(&self) -> String {
        [
            &self.department,
            &self.group,
            &self.duties,
            &self.phone,
            &self.fax,
            &self.email,
            &self.address,
            &self.hours,
        ]
        .iter()
        .filter_map(|f| f.as_deref())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
    }
}

/// One answer material, as stored in `corpus/` (one JSON object per line) and returned by
/// `GET /api/materials/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Material {
    /// Stable id: see [`material_id`]. Derived on load when a corpus line omits it.
    #[serde(default)]
    pub id: String,
    /// Id of the source record (e.g. the key in the localgovFAQ JSON, a CSV row key, a URL
    /// plus an item number). Returned in every hit.
    pub source_id: String,
    /// Kind of material.
    pub kind: MaterialKind,
    /// Title: the page title, or for contacts the department and group. For FAQ entries,
    /// empty (the question is the title).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// FAQ question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// FAQ answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Page body text (headings kept as lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Contact record, for `contact` materials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// Where the material came from: a file path or a URL.
    pub source: String,
    /// Page URL, for crawled materials and materials that link to a page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Responsible department (担当部署).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Category (分類).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Free tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Last update of the source text (RFC 3339).
    pub updated_at: DateTime<FixedOffset>,
    /// Start of validity (RFC 3339): before it the material is returned by no path (search,
    /// `GET /api/materials/{id}`), so an answer written ahead of an announcement stays hidden.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<DateTime<FixedOffset>>,
    /// End of validity (RFC 3339); expired materials are not returned by search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<DateTime<FixedOffset>>,
}

/// Returns the stable id of the material with `source_id` from `source`: the first 16 hex
/// digits of SHA-256(`source` + `"\n"` + `source_id`). Re-importing the same source record
/// gives the same id.
pub fn material_id(source: &str, source_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(source.as_bytes());
    h.update(b"\n");
    h.update(source_id.as_bytes());
    hex::encode(&h.finalize()[..8])
}

/// Errors of material validation.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MaterialError {
    /// A required field is empty.
    #[error("material {source_id:?}: field `{field}` must not be empty")]
    Missing {
        /// Source id of the offending material.
        source_id: String,
        /// Name of the missing field.
        field: &'static str,
    },
    /// The text fields are larger than [`MAX_MATERIAL_BYTES`].
    #[error(
        "material {source_id:?}: text is {bytes} bytes, over the limit of {MAX_MATERIAL_BYTES}"
    )]
    TooLarge {
        /// Source id of the offending material.
        source_id: String,
        /// Size of the text fields in bytes.
        bytes: usize,
    },
    /// `valid_from` is after `valid_until`: the material could never be shown.
    #[error("material {source_id:?}: `valid_from` is after `valid_until`")]
    EmptyValidity {
        /// Source id of the offending material.
        source_id: String,
    },
}

impl Material {
    /// Returns an empty material of `kind` from record `source_id` of `source`, with its
    /// stable id ([`material_id`]) filled in; callers set the kind's text fields.
    pub fn new(
        kind: MaterialKind,
        source: impl Into<String>,
        source_id: impl Into<String>,
        updated_at: DateTime<FixedOffset>,
    ) -> Self {
        let (source, source_id) = (source.into(), source_id.into());
        Self {
            id: material_id(&source, &source_id),
            source_id,
            kind,
            title: String::new(),
            question: None,
            answer: None,
            body: None,
            contact: None,
            source,
            url: None,
            department: None,
            category: None,
            tags: vec![],
            updated_at,
            valid_from: None,
            valid_until: None,
        }
    }

    /// Fills `id` from `source` and `source_id` when it is empty.
    pub fn ensure_id(&mut self) {
        if self.id.is_empty() {
            self.id = material_id(&self.source, &self.source_id);
        }
    }

    /// Checks that the fields required by the kind are present and the text is not too large.
    ///
    /// # Errors
    /// [`MaterialError::Missing`] when `source_id`, the FAQ question/answer, the page title or
    /// the contact record is missing; [`MaterialError::TooLarge`] over [`MAX_MATERIAL_BYTES`].
    pub fn validate(&self) -> Result<(), MaterialError> {
        let missing = |field| MaterialError::Missing {
            source_id: self.source_id.clone(),
            field,
        };
        let empty = |o: &Option<String>| o.as_deref().is_none_or(|s| s.trim().is_empty());
        if self.source_id.trim().is_empty() {
            return Err(missing("source_id"));
        }
        match self.kind {
            MaterialKind::Faq => {
                if empty(&self.question) {
                    return Err(missing("question"));
                }
                if empty(&self.answer) {
                    return Err(missing("answer"));
                }
            }
            MaterialKind::Page => {
                if self.title.trim().is_empty() && empty(&self.body) {
                    return Err(missing("title"));
                }
            }
            MaterialKind::Contact => {
                if self.contact.is_none() {
                    return Err(missing("contact"));
                }
            }
        }
        let bytes = self.title.len()
            + self.question.as_deref().map_or(0, str::len)
            + self.answer.as_deref().map_or(0, str::len)
            + self.body.as_deref().map_or(0, str::len)
            + self
                .contact
                .as_ref()
                .map_or(0, |c| c.searchable_text().len());
        if bytes > MAX_MATERIAL_BYTES {
            return Err(MaterialError::TooLarge {
                source_id: self.source_id.clone(),
                bytes,
            });
        }
        if let (Some(from), Some(until)) = (self.valid_from, self.valid_until)
            && from > until
        {
            return Err(MaterialError::EmptyValidity {
                source_id: self.source_id.clone(),
            });
        }
        Ok(())
    }

    /// Returns whether the material may be shown at Unix time `now` (seconds): not before
    /// `valid_from`, not after `valid_until`.
    pub fn is_valid_at(&self, now: i64) -> bool {
        self.valid_from.is_none_or(|t| t.timestamp() <= now)
            && self.valid_until.is_none_or(|t| t.timestamp() >= now)
    }

    /// Returns the display title: the question for FAQ entries, else `title`, else the
    /// contact's department and group.
    pub fn display_title(&self) -> String {
        if let Some(q) = self.question.as_deref().filter(|q| !q.is_empty()) {
            return q.to_string();
        }
        if !self.title.is_empty() {
            return self.title.clone();
        }
        if let Some(c) = &self.contact {
            let parts: Vec<&str> = [c.department.as_deref(), c.group.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            if !parts.is_empty() {
                return parts.join(" ");
            }
        }
        self.source_id.clone()
    }

    /// Returns the "title" text that gets the title weight in ranking: the FAQ question, the
    /// page title, or the contact's department, group and duties.
    pub fn title_text(&self) -> String {
        match self.kind {
            MaterialKind::Faq => self.question.clone().unwrap_or_default(),
            MaterialKind::Page => self.title.clone(),
            MaterialKind::Contact => {
                let c = self.contact.clone().unwrap_or_default();
                [
                    self.title.clone(),
                    c.group.unwrap_or_default(),
                    c.duties.unwrap_or_default(),
                ]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("\n")
            }
        }
    }

    /// Returns the "body" text: the FAQ answer, the page body, or the whole contact record.
    pub fn body_text(&self) -> String {
        match self.kind {
            MaterialKind::Faq => self.answer.clone().unwrap_or_default(),
            MaterialKind::Page => self.body.clone().unwrap_or_default(),
            MaterialKind::Contact => self
                .contact
                .as_ref()
                .map(Contact::searchable_text)
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faq() -> Material {
        Material {
            id: String::new(),
            source_id: "q1".into(),
            kind: MaterialKind::Faq,
            title: String::new(),
            question: Some("国保の加入手続きは？".into()),
            answer: Some("転入の日から14日以内に届け出てください。".into()),
            body: None,
            contact: None,
            source: "faq.json".into(),
            url: None,
            department: None,
            category: None,
            tags: vec![],
            updated_at: DateTime::parse_from_rfc3339("2026-04-01T09:00:00+09:00").unwrap(),
            valid_from: None,
            valid_until: None,
        }
    }

    #[test]
    fn validity_window_is_checked_and_applied() {
        let t = |s| DateTime::parse_from_rfc3339(s).ok();
        let mut m = faq();
        m.valid_from = t("2026-12-15T00:00:00+09:00");
        m.valid_until = t("2027-03-31T23:59:59+09:00");
        assert_eq!(m.validate(), Ok(()));
        let from = m.valid_from.unwrap().timestamp();
        assert!(!m.is_valid_at(from - 1));
        assert!(m.is_valid_at(from));
        assert!(!m.is_valid_at(m.valid_until.unwrap().timestamp() + 1));
        m.valid_until = t("2026-12-01T00:00:00+09:00");
        assert!(matches!(
            m.validate(),
            Err(MaterialError::EmptyValidity { .. })
        ));
    }

    #[test]
    fn id_is_stable_and_depends_on_source_and_record() {
        assert_eq!(material_id("a.json", "1"), material_id("a.json", "1"));
        assert_ne!(material_id("a.json", "1"), material_id("a.json", "2"));
        assert_ne!(material_id("a.json", "1"), material_id("b.json", "1"));
        assert_eq!(material_id("a.json", "1").len(), 16);
    }

    #[test]
    fn validate_reports_missing_answer() {
        let mut m = faq();
        assert!(m.validate().is_ok());
        m.answer = Some("  ".into());
        assert_eq!(
            m.validate(),
            Err(MaterialError::Missing {
                source_id: "q1".into(),
                field: "answer"
            })
        );
    }

    #[test]
    fn json_round_trip_keeps_every_field() {
        let mut m = faq();
        m.ensure_id();
        m.tags = vec!["国保".into()];
        let s = serde_json::to_string(&m).unwrap();
        let back: Material = serde_json::from_str(&s).unwrap();
        assert_eq!(back, m);
        assert!(s.contains("\"kind\":\"faq\""));
    }
}
