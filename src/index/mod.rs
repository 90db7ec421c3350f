//! The tantivy index of answer materials.
//!
//! Schema (field names in [`schema`]): `id`, `kind`, `department` as raw strings (indexed,
//! fast, for lookups, filters and facets); `valid_until` as i64 seconds (fast, for expiry
//! filtering; materials without an end store `i64::MAX`); six text fields
//! `title_morph`, `body_morph`, `title_bigram`, `body_bigram`, `title_unigram`,
//! `body_unigram` with term frequencies (no
//! positions: kotae builds no phrase queries, and positions would double the postings).
//! The text itself is not stored: the engine keeps materials in memory, loaded from the
//! corpus.
//!
//! Writes go through one `IndexWriter` behind a mutex; every change batch is committed and
//! the reader reloaded before the call returns, so an approved CMS edit is searchable as soon
//! as the webhook answers.

pub mod docmeta;
pub mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::analysis::{Analyzer, tokenizer};
use crate::material::Material;

/// Memory budget of the index writer, in bytes (shared by its threads).
pub const WRITER_MEMORY_BYTES: usize = 96 * 1024 * 1024;

/// Errors of the index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// tantivy failed.
    #[error("index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// The index directory could not be opened or created.
    #[error("index directory {path}: {message}")]
    Directory {
        /// Directory.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

/// The material index: tantivy index, its only writer and a reader.
pub struct MaterialIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: schema::Fields,
    docmeta: docmeta::DocMetaCache,
}

impl std::fmt::Debug for MaterialIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaterialIndex").finish_non_exhaustive()
    }
}

impl MaterialIndex {
    /// Opens the index in `dir`, creating it when absent. When the stored schema differs from
    /// the current one the directory is wiped and recreated (the caller rebuilds it from the
    /// corpus). `dir = None` keeps the index in memory (tests, `kotae eval`).
    ///
    /// Returns the index and whether it was (re)created empty.
    ///
    /// # Errors
    /// [`IndexError`] when the directory or the index cannot be opened.
    pub fn open(dir: Option<&Path>, analyzer: Arc<Analyzer>) -> Result<(Self, bool), IndexError> {
        let schema = schema::build();
        let (index, created) = match dir {
            None => (Index::create_in_ram(schema.clone()), true),
            Some(dir) => open_dir(dir, &schema)?,
        };
        tokenizer::register(index.tokenizers(), analyzer);
        let fields = schema::Fields::new(&index.schema());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let writer = index.writer(WRITER_MEMORY_BYTES)?;
        Ok((
            Self {
                index,
                reader,
                writer: Mutex::new(writer),
                fields,
                docmeta: docmeta::DocMetaCache::default(),
            },
            created,
        ))
    }

    /// Returns the tantivy index.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Returns the reader (reloaded after every commit).
    pub fn reader(&self) -> &IndexReader {
        &self.reader
    }

    /// Returns the per-segment document metadata cache.
    pub fn docmeta(&self) -> &docmeta::DocMetaCache {
        &self.docmeta
    }

    /// Returns the field handles.
    pub fn fields(&self) -> &schema::Fields {
        &self.fields
    }

    /// Deletes the documents of `delete_ids`, then adds `upserts` (replacing earlier
    /// documents with the same id), commits and reloads the reader.
    ///
    /// # Errors
    /// [`IndexError::Tantivy`] when adding or committing fails; nothing is committed then.
    pub fn apply(&self, upserts: &[Material], delete_ids: &[String]) -> Result<(), IndexError> {
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        for id in delete_ids {
            w.delete_term(Term::from_field_text(self.fields.id, id));
        }
        for m in upserts {
            w.delete_term(Term::from_field_text(self.fields.id, &m.id));
            if let Err(e) = w.add_document(self.document(m)) {
                w.rollback()?;
                return Err(e.into());
            }
        }
        w.commit()?;
        drop(w);
        self.reader.reload()?;
        Ok(())
    }

    /// Replaces the whole index content with `materials`, calling `progress(done)` every 256
    /// materials; commits once at the end.
    ///
    /// # Errors
    /// As [`MaterialIndex::apply`].
    pub fn rebuild(
        &self,
        materials: &[Material],
        mut progress: impl FnMut(usize),
    ) -> Result<(), IndexError> {
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        w.delete_all_documents()?;
        for (i, m) in materials.iter().enumerate() {
            if let Err(e) = w.add_document(self.document(m)) {
                w.rollback()?;
                return Err(e.into());
            }
            if i % 256 == 255 {
                progress(i + 1);
            }
        }
        w.commit()?;
        progress(materials.len());
        drop(w);
        self.reader.reload()?;
        Ok(())
    }

    /// Returns the number of live documents.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn document(&self, m: &Material) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &m.id);
        doc.add_text(f.kind, m.kind.as_str());
        doc.add_text(f.department, m.department.as_deref().unwrap_or(""));
        doc.add_i64(
            f.valid_until,
            m.valid_until.map_or(i64::MAX, |t| t.timestamp()),
        );
        let title = m.title_text();
        let body_full = m.body_text();
        let body = indexed_body(&body_full);
        doc.add_text(f.title_morph, &title);
        doc.add_text(f.title_bigram, &title);
        doc.add_text(f.body_morph, body);
        doc.add_text(f.body_bigram, body);
        doc.add_text(f.title_unigram, &title);
        doc.add_text(f.body_unigram, body);
        doc
    }
}

fn open_dir(dir: &Path, schema: &tantivy::schema::Schema) -> Result<(Index, bool), IndexError> {
    let derr = |e: &dyn std::fmt::Display| IndexError::Directory {
        path: dir.to_path_buf(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| derr(&e))?;
    let has_index = dir.join("meta.json").exists();
    if has_index {
        let mmap = MmapDirectory::open(dir).map_err(|e| derr(&e))?;
        match Index::open(mmap) {
            Ok(index) if index.schema() == *schema => return Ok((index, false)),
            Ok(_) => tracing::warn!(dir = %dir.display(), "index schema changed, rebuilding"),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "index unreadable, rebuilding")
            }
        }
        // Only tantivy's own files are removed; README.md and other files stay.
        for entry in std::fs::read_dir(dir).map_err(|e| derr(&e))?.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let tantivy_file = name == "meta.json"
                || name == ".managed.json"
                || name.ends_with(".lock")
                || [
                    ".idx",
                    ".pos",
                    ".term",
                    ".store",
                    ".fast",
                    ".fieldnorm",
                    ".del",
                    ".term_info",
                ]
                .iter()
                .any(|ext| name.ends_with(ext));
            if tantivy_file {
                std::fs::remove_file(entry.path()).map_err(|e| derr(&e))?;
            }
        }
    }
    let mmap = MmapDirectory::open(dir).map_err(|e| derr(&e))?;
    let index = Index::create(mmap, schema.clone(), tantivy::IndexSettings::default())?;
    Ok((index, true))
}

/// Returns the part of a body that is indexed: the `【お問い合わせ】` contact block is left
/// out (it names departments, addresses and phone numbers that match unrelated queries; the
/// contact itself is indexed as a `contact` material).
pub fn indexed_body(body: &str) -> &str {
    match body.find("【お問い合わせ】") {
        Some(i) => &body[..i],
        None => body,
    }
}
