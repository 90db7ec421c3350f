//! The long texts of materials (FAQ answers, page bodies) in tantivy's doc store.
//!
//! The engine keeps every material in memory *without* these texts (they are most of a
//! material's bytes: at 10^5 synthetic pages, about nine tenths), and reads them from the doc
//! store only for what a request shows: the snippets of the hits of a page, a material asked
//! for by id. tantivy's doc store is compressed in blocks and memory-mapped, so a read costs
//! one block's decompression and the operating system keeps only the blocks in use in memory.

use tantivy::schema::Value;
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

use super::MaterialIndex;
use crate::material::Material;

/// The texts of one material kept in the doc store, not in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredTexts {
    /// [`Material::answer`].
    pub answer: Option<String>,
    /// [`Material::body`].
    pub body: Option<String>,
}

impl StoredTexts {
    /// Moves the stored texts out of `m` (leaving `None`).
    pub fn take(m: &mut Material) -> Self {
        Self {
            answer: m.answer.take(),
            body: m.body.take(),
        }
    }

    /// Puts the texts back into `m`.
    pub fn fill(self, m: &mut Material) {
        m.answer = self.answer;
        m.body = self.body;
    }
}

impl MaterialIndex {
    /// Adds the stored texts of `m` to `doc`.
    pub(super) fn add_texts(&self, doc: &mut TantivyDocument, m: &Material) {
        if let Some(a) = &m.answer {
            doc.add_text(self.fields.stored_answer, a);
        }
        if let Some(b) = &m.body {
            doc.add_text(self.fields.stored_body, b);
        }
    }

    /// Reads the stored texts of the document at `addr` of `searcher`.
    ///
    /// # Errors
    /// tantivy errors reading the doc store.
    pub fn texts_at(&self, searcher: &Searcher, addr: DocAddress) -> tantivy::Result<StoredTexts> {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let text = |f| {
            doc.get_first(f)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        Ok(StoredTexts {
            answer: text(self.fields.stored_answer),
            body: text(self.fields.stored_body),
        })
    }

    /// Returns the address of the live document of material `id` in `searcher`, if any.
    ///
    /// # Errors
    /// tantivy errors reading the id field's postings.
    pub fn address_of(&self, searcher: &Searcher, id: &str) -> tantivy::Result<Option<DocAddress>> {
        let term = Term::from_field_text(self.fields.id, id);
        Ok(super::live_docs_with(searcher, &term)?
            .first()
            .map(|&(ord, doc)| DocAddress::new(ord as u32, doc)))
    }

    /// Reads the stored texts of material `id` (`None` when it is not in the index).
    ///
    /// # Errors
    /// tantivy errors reading the index.
    pub fn texts_of(&self, id: &str) -> tantivy::Result<Option<StoredTexts>> {
        let searcher = self.reader().searcher();
        match self.address_of(&searcher, id)? {
            Some(addr) => self.texts_at(&searcher, addr).map(Some),
            None => Ok(None),
        }
    }
}
