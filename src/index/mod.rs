//! The tantivy index of answer materials.
//!
//! Schema (field names in [`schema`]): `id`, `kind`, `department` as raw strings (indexed,
//! fast, for lookups, filters and facets); `valid_until` as i64 seconds (fast, for expiry
//! filtering; materials without an end store `i64::MAX`); ten text fields
//! `title_morph`, `body_morph`, `title_bigram`, `body_bigram`, `title_unigram`,
//! `body_unigram`, `title_reading`, `body_reading`, `title_abbrev`, `body_abbrev` with term
//! frequencies (no
//! positions: kotae builds no phrase queries, and positions would double the postings).
//! The text fields are not stored; the long texts (FAQ answer, page body) are kept in two
//! stored-only fields of the doc store instead ([`texts`]: compressed, memory-mapped), read
//! back for the hits shown and a material asked for by id: the engine's in-memory table
//! holds materials without them.
//!
//! Writes go through one `IndexWriter` behind a mutex (none when opened read-only); every change batch is committed and
//! the reader reloaded before the call returns, so an approved CMS edit is searchable as soon
//! as the webhook answers. An index of up to [`COMPACT_MAX_DOCS`] documents is then merged
//! back into one segment (in the background after a change, before returning after a
//! rebuild or at open), and each segment's document metadata is built before the first
//! search needs it.

pub mod docmeta;
pub mod merge;
pub mod schema;
pub mod texts;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::analysis::{Analyzer, tokenizer};
use crate::material::{CONTACT_BLOCK_MARKER, Material};

/// Memory budget of the index writer, in bytes (shared by its threads).
pub const WRITER_MEMORY_BYTES: usize = 96 * 1024 * 1024;

/// Largest index (in documents) that [`MaterialIndex`] keeps merged into one segment after
/// every change.
pub const COMPACT_MAX_DOCS: u64 = 20_000;

/// Errors of the index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// tantivy failed.
    #[error("index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// The index was opened read-only ([`MaterialIndex::open_read_only`]).
    #[error("the index is open read-only (another process is its writer)")]
    ReadOnly,
    /// The index directory could not be opened or created.
    #[error("index directory {path}: {message}")]
    Directory {
        /// Directory.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

/// The material index: tantivy index, its only writer (none when opened read-only) and a
/// reader.
pub struct MaterialIndex {
    index: Index,
    reader: IndexReader,
    writer: Option<Mutex<IndexWriter>>,
    fields: schema::Fields,
    docmeta: docmeta::DocMetaCache,
    /// The background merge started after the last change, if it may still run: the next
    /// change waits for it before committing (see [`MaterialIndex::compact`]).
    merging: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Merges that failed (each is logged).
    failed_merges: Arc<std::sync::atomic::AtomicU64>,
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
        let writer: IndexWriter = index.writer(WRITER_MEMORY_BYTES)?;
        // Merges are started by `compact` (small indexes) or tantivy's policy, switched on
        // there for large ones: never both at once.
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        let this = Self {
            index,
            reader,
            writer: Some(Mutex::new(writer)),
            fields,
            docmeta: docmeta::DocMetaCache::default(),
            merging: Mutex::new(None),
            failed_merges: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        };
        if !created {
            // An index left with several segments (a bulk import that ended before its
            // merge did) is compacted now, before the first search.
            let mut w = this.writer()?;
            this.compact(&mut w, true);
            // Files of merges that failed in an earlier run are not in the index's meta:
            // delete them.
            if let Err(e) = w.garbage_collect_files().wait() {
                tracing::warn!(error = %e, "cannot delete unused index files");
            }
            drop(w);
            this.warm();
        }
        Ok((this, created))
    }

    /// Opens the index in `dir` for searching only: no writer is created, so tantivy's
    /// writer lock stays with the process that holds it (a running `kotae serve`). Returns
    /// `None` when `dir` holds no index or one of another schema (the caller then builds
    /// one in memory).
    ///
    /// # Errors
    /// [`IndexError`] when the directory or the index cannot be read.
    pub fn open_read_only(dir: &Path, analyzer: Arc<Analyzer>) -> Result<Option<Self>, IndexError> {
        if !dir.join("meta.json").exists() {
            return Ok(None);
        }
        let mmap = MmapDirectory::open(dir).map_err(|e| IndexError::Directory {
            path: dir.to_path_buf(),
            message: e.to_string(),
        })?;
        let index = Index::open(mmap)?;
        if index.schema() != schema::build() {
            return Ok(None);
        }
        tokenizer::register(index.tokenizers(), analyzer);
        let fields = schema::Fields::new(&index.schema());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let this = Self {
            index,
            reader,
            writer: None,
            fields,
            docmeta: docmeta::DocMetaCache::default(),
            merging: Mutex::new(None),
            failed_merges: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        };
        this.warm();
        Ok(Some(this))
    }

    fn writer(&self) -> Result<std::sync::MutexGuard<'_, IndexWriter>, IndexError> {
        Ok(self
            .writer
            .as_ref()
            .ok_or(IndexError::ReadOnly)?
            .lock()
            .unwrap_or_else(|e| e.into_inner()))
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
        let mut w = self.writer()?;
        self.wait_for_merge();
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
        self.reader.reload()?;
        self.compact(&mut w, false);
        drop(w);
        self.warm();
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
        let mut r = self.begin_rebuild()?;
        for (i, m) in materials.iter().enumerate() {
            r.add(m)?;
            if i % 256 == 255 {
                progress(i + 1);
            }
        }
        r.commit()?;
        progress(materials.len());
        Ok(())
    }

    /// Starts replacing the whole index content: add the materials one at a time with
    /// [`Rebuild::add`] (so a caller streaming the corpus never holds it whole), then
    /// [`Rebuild::commit`] once. Dropped without a commit, nothing changes. Holds the
    /// index writer meanwhile.
    ///
    /// # Errors
    /// As [`MaterialIndex::apply`].
    pub fn begin_rebuild(&self) -> Result<Rebuild<'_>, IndexError> {
        let w = self.writer()?;
        self.wait_for_merge();
        w.delete_all_documents()?;
        Ok(Rebuild {
            index: self,
            w,
            done: false,
        })
    }

    /// Merges the index into one segment when it has several and at most
    /// [`COMPACT_MAX_DOCS`] documents. A query looks every term up in every segment's term
    /// dictionary, so on a corpus of a few thousand materials a second segment costs about
    /// a tenth of a query's time; merging 1,786 documents takes about 60 ms. Larger indexes
    /// are left to tantivy's merge policy.
    ///
    /// With `wait`, the merge finishes and the reader is reloaded before the call returns;
    /// without, the merge runs on tantivy's merge thread and a helper thread reloads the
    /// reader when it is done (the change itself is committed and searchable already).
    ///
    /// Merges never overlap commits: while this compaction is in charge (small indexes)
    /// tantivy's own merge policy is off, and each change waits for the previous background
    /// merge before it commits ([`MaterialIndex::wait_for_merge`]). A commit during a merge
    /// could drop a segment the merge reads (one whose documents were all replaced): tantivy
    /// then refuses the merged segment ("could not be found in the SegmentManager") and its
    /// files were left behind. A merge that fails still only costs speed: it is logged and
    /// counted ([`MaterialIndex::failed_merges`]), never returned as the change's error.
    fn compact(&self, w: &mut IndexWriter, wait: bool) {
        let segments = match self.index.searchable_segment_metas() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list segments to merge");
                return;
            }
        };
        let docs: u64 = segments.iter().map(|m| u64::from(m.num_docs())).sum();
        if docs > COMPACT_MAX_DOCS {
            w.set_merge_policy(Box::<tantivy::indexer::LogMergePolicy>::default());
            return;
        }
        w.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        if segments.len() < 2 {
            return;
        }
        let ids: Vec<_> = segments.iter().map(|m| m.id()).collect();
        let merge = w.merge(&ids);
        let reader = self.reader.clone();
        let failed = self.failed_merges.clone();
        let finish = move || match merge.wait() {
            Ok(_) => {
                if let Err(e) = reader.reload() {
                    tracing::warn!(error = %e, "reader reload after a merge failed");
                }
            }
            Err(e) => {
                failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(error = %e, "segment merge not done");
            }
        };
        if wait {
            finish();
        } else {
            *self.merging.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(std::thread::spawn(finish));
        }
    }

    /// Waits for the background merge of the last change, if one runs (at most one merge
    /// of at most [`COMPACT_MAX_DOCS`] documents).
    pub fn wait_for_merge(&self) {
        let running = self
            .merging
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(h) = running
            && h.join().is_err()
        {
            tracing::warn!("the merge thread panicked");
        }
    }

    /// Returns the number of merges that failed since the index was opened.
    pub fn failed_merges(&self) -> u64 {
        self.failed_merges
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Builds the per-segment metadata of the current searcher, so that the first search
    /// after a change does not pay for it (on failure the first search builds it).
    fn warm(&self) {
        if let Err(e) = self.docmeta.for_searcher(&self.reader.searcher()) {
            tracing::warn!(error = %e, "cannot build the document metadata ahead of search");
        }
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
        // The canonical department path (contact records with their group), so that every
        // spelling of one department is one facet value and one filter target.
        doc.add_text(f.department, crate::departments::material_path(m));
        doc.add_i64(
            f.valid_from,
            m.valid_from.map_or(i64::MIN, |t| t.timestamp()),
        );
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
        self.add_texts(&mut doc, m);
        doc.add_text(f.title_reading, &title);
        doc.add_text(f.body_reading, body);
        doc.add_text(f.title_abbrev, &title);
        doc.add_text(f.body_abbrev, body);
        doc
    }
}

/// A rebuild in progress (see [`MaterialIndex::begin_rebuild`]).
pub struct Rebuild<'a> {
    index: &'a MaterialIndex,
    w: std::sync::MutexGuard<'a, IndexWriter>,
    /// Committed or rolled back: nothing left to undo on drop.
    done: bool,
}

impl Rebuild<'_> {
    /// Adds one material.
    ///
    /// # Errors
    /// [`IndexError::Tantivy`]; the rebuild is rolled back then.
    pub fn add(&mut self, m: &Material) -> Result<(), IndexError> {
        if let Err(e) = self.w.add_document(self.index.document(m)) {
            self.done = true;
            self.w.rollback()?;
            return Err(e.into());
        }
        Ok(())
    }

    /// Commits the new content, reloads the reader, merges the segments (into one for a
    /// small index, else into [`merge::REBUILD_SEGMENTS`]) and builds the document metadata.
    ///
    /// # Errors
    /// [`IndexError::Tantivy`] when the commit fails (nothing changes then).
    pub fn commit(mut self) -> Result<(), IndexError> {
        self.done = true;
        self.w.commit()?;
        self.index.reader.reload()?;
        self.index.merge_rebuilt(&mut self.w);
        self.index.compact(&mut self.w, true);
        self.index.warm();
        Ok(())
    }
}

impl Drop for Rebuild<'_> {
    fn drop(&mut self) {
        if !self.done
            && let Err(e) = self.w.rollback()
        {
            tracing::warn!(error = %e, "index rebuild rollback failed");
        }
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
        remove_tantivy_files(dir).map_err(|e| derr(&e))?;
    }
    let mmap = MmapDirectory::open(dir).map_err(|e| derr(&e))?;
    let index = Index::create(mmap, schema.clone(), tantivy::IndexSettings::default())?;
    Ok((index, true))
}

/// The live documents holding `term`, as (segment ordinal, doc id) in index order: a
/// material's documents by its id term (deleted documents skipped).
///
/// # Errors
/// tantivy errors reading the term's postings.
pub fn live_docs_with(
    searcher: &tantivy::Searcher,
    term: &Term,
) -> tantivy::Result<Vec<(usize, tantivy::DocId)>> {
    use tantivy::DocSet;
    let mut out = Vec::new();
    for (ord, r) in searcher.segment_readers().iter().enumerate() {
        let Some(mut postings) = r
            .inverted_index(term.field())?
            .read_postings(term, tantivy::schema::IndexRecordOption::Basic)?
        else {
            continue;
        };
        let alive = r.alive_bitset();
        let mut doc = postings.doc();
        while doc != tantivy::TERMINATED {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                out.push((ord, doc));
            }
            doc = postings.advance();
        }
    }
    Ok(out)
}

/// Removes tantivy's own files from `dir` (README.md, the manifest, generation
/// subdirectories and other files stay).
///
/// # Errors
/// The directory cannot be listed or a file removed.
pub fn remove_tantivy_files(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)?.flatten() {
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
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
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Returns the part of a body that is indexed: the `【お問い合わせ】` contact block is left
/// out (it names departments, addresses and phone numbers that match unrelated queries; the
/// contact itself is indexed as a `contact` material).
pub fn indexed_body(body: &str) -> &str {
    match body.find(CONTACT_BLOCK_MARKER) {
        Some(i) => &body[..i],
        None => body,
    }
}
