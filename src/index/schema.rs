//! Index schema: field names and options.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use crate::analysis::tokenizer::{ABBREV, BIGRAM, MORPH, READING, UNIGRAM};

/// Material id (raw string).
pub const ID: &str = "id";
/// Material kind (`faq`, `page`, `contact`).
pub const KIND: &str = "kind";
/// Department (raw string, empty when unknown).
pub const DEPARTMENT: &str = "department";
/// Start of validity, Unix seconds (`i64::MIN` when none).
pub const VALID_FROM: &str = "valid_from";
/// End of validity, Unix seconds (`i64::MAX` when none).
pub const VALID_UNTIL: &str = "valid_until";
/// Title/question text, morphological tokens.
pub const TITLE_MORPH: &str = "title_morph";
/// Body/answer text, morphological tokens.
pub const BODY_MORPH: &str = "body_morph";
/// Title/question text, character bigrams.
pub const TITLE_BIGRAM: &str = "title_bigram";
/// Body/answer text, character bigrams.
pub const BODY_BIGRAM: &str = "body_bigram";
/// Title/question text, single ideographs.
pub const TITLE_UNIGRAM: &str = "title_unigram";
/// Body/answer text, single ideographs.
pub const BODY_UNIGRAM: &str = "body_unigram";
/// Title/question text, bigrams of the words' readings (see [`crate::analysis::reading`]).
pub const TITLE_READING: &str = "title_reading";
/// Body/answer text, bigrams of the words' readings.
pub const BODY_READING: &str = "body_reading";
/// Title/question text, short forms of its compounds (see [`crate::analysis::abbrev`]).
pub const TITLE_ABBREV: &str = "title_abbrev";
/// Body/answer text, short forms of its compounds.
pub const BODY_ABBREV: &str = "body_abbrev";

/// FAQ answer as written (stored in the doc store only, not indexed: the engine keeps
/// materials in memory without their long texts and reads them from here).
pub const STORED_ANSWER: &str = "stored_answer";
/// Page body as written (stored only, as [`STORED_ANSWER`]).
pub const STORED_BODY: &str = "stored_body";

fn text(tokenizer: &str) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqs)
            .set_fieldnorms(true),
    )
}

/// Builds the schema.
pub fn build() -> Schema {
    let mut b = Schema::builder();
    b.add_text_field(ID, STRING | FAST);
    b.add_text_field(KIND, STRING | FAST);
    b.add_text_field(DEPARTMENT, STRING | FAST);
    b.add_i64_field(VALID_FROM, INDEXED | FAST);
    b.add_i64_field(VALID_UNTIL, INDEXED | FAST);
    b.add_text_field(TITLE_MORPH, text(MORPH));
    b.add_text_field(BODY_MORPH, text(MORPH));
    b.add_text_field(TITLE_BIGRAM, text(BIGRAM));
    b.add_text_field(BODY_BIGRAM, text(BIGRAM));
    b.add_text_field(TITLE_UNIGRAM, text(UNIGRAM));
    b.add_text_field(BODY_UNIGRAM, text(UNIGRAM));
    b.add_text_field(STORED_ANSWER, STORED);
    b.add_text_field(STORED_BODY, STORED);
    b.add_text_field(TITLE_READING, text(READING));
    b.add_text_field(BODY_READING, text(READING));
    b.add_text_field(TITLE_ABBREV, text(ABBREV));
    b.add_text_field(BODY_ABBREV, text(ABBREV));
    b.build()
}

/// Field handles of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// See [`ID`].
    pub id: Field,
    /// See [`KIND`].
    pub kind: Field,
    /// See [`DEPARTMENT`].
    pub department: Field,
    /// See [`VALID_FROM`].
    pub valid_from: Field,
    /// See [`VALID_UNTIL`].
    pub valid_until: Field,
    /// See [`TITLE_MORPH`].
    pub title_morph: Field,
    /// See [`BODY_MORPH`].
    pub body_morph: Field,
    /// See [`TITLE_BIGRAM`].
    pub title_bigram: Field,
    /// See [`BODY_BIGRAM`].
    pub body_bigram: Field,
    /// See [`TITLE_UNIGRAM`].
    pub title_unigram: Field,
    /// See [`BODY_UNIGRAM`].
    pub body_unigram: Field,
    /// See [`STORED_ANSWER`].
    pub stored_answer: Field,
    /// See [`STORED_BODY`].
    pub stored_body: Field,
    /// See [`TITLE_READING`].
    pub title_reading: Field,
    /// See [`BODY_READING`].
    pub body_reading: Field,
    /// See [`TITLE_ABBREV`].
    pub title_abbrev: Field,
    /// See [`BODY_ABBREV`].
    pub body_abbrev: Field,
}

impl Fields {
    /// Looks the fields up in `schema` (built by [`build`]).
    ///
    /// # Panics
    /// If `schema` was not built by [`build`] (a programming error).
    pub fn new(schema: &Schema) -> Self {
        let f = |n: &str| schema.get_field(n).expect("field of kotae's schema");
        Self {
            id: f(ID),
            kind: f(KIND),
            department: f(DEPARTMENT),
            valid_from: f(VALID_FROM),
            valid_until: f(VALID_UNTIL),
            title_morph: f(TITLE_MORPH),
            body_morph: f(BODY_MORPH),
            title_bigram: f(TITLE_BIGRAM),
            body_bigram: f(BODY_BIGRAM),
            title_unigram: f(TITLE_UNIGRAM),
            body_unigram: f(BODY_UNIGRAM),
            stored_answer: f(STORED_ANSWER),
            stored_body: f(STORED_BODY),
            title_reading: f(TITLE_READING),
            body_reading: f(BODY_READING),
            title_abbrev: f(TITLE_ABBREV),
            body_abbrev: f(BODY_ABBREV),
        }
    }
}
