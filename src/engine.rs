//! The engine: corpus + analyzer + index + the in-memory material table, kept in step.
//!
//! The table holds every material *without* its long texts (`answer`, `body`): those live in
//! the index's doc store ([`crate::index::texts`]) and are read back for the hits shown and by
//! [`Engine::get`]. Besides, the table keeps each whole material's SHA-256 (for the
//! fingerprint and to tell changed materials apart). The corpus is read one material at a
//! time ([`Corpus::for_each`]) at open, sync and rebuild, and a rebuild feeds the index
//! writer from that stream, so no step holds the whole corpus's texts.
//!
//! Every change goes to the corpus first (the source of truth), then to the index (commit +
//! reader reload), then to the in-memory table, so a crash between steps leaves a corpus the
//! index is rebuilt from at the next start (the index manifest records a fingerprint of the
//! corpus it was built from; a mismatch triggers a rebuild).
//!
//! **One writer.** Every change (webhook jobs, the authored-file watcher, imports,
//! promotions, the material API, a crawl's result, rebuilds) goes through one engine, which
//! holds one writer lock across corpus write, index commit and table update: changes are
//! applied one at a time, in the order they take the lock. Commit policy: each change is
//! committed to the index and the reader reloaded before the call returns, so a caller that
//! records a change as done (a webhook page, an import) only does so once it is searchable.
//! Another process never writes the index: [`Engine::open_read_only`] opens it without a
//! writer (CLI searches beside a running server).
//!
//! **Generations.** The index lives in `index/` (generation 0) or `index/gen-N/`, named by
//! `index/CURRENT`. A full rebuild ([`Engine::rebuild_beside`]) builds generation N+1 beside
//! the live one while searches keep being answered from it, applies the changes made
//! meanwhile, then swaps it in under the writer lock: `CURRENT` is replaced atomically
//! (write, fsync, rename), the in-memory generation pointer is swapped, and the old
//! generation is deleted once its last search ends. A failed rebuild leaves the live
//! generation in place.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};

use crate::analysis::Analyzer;
use crate::corpus::{Corpus, UpsertStats};
use crate::error::{Error, Result};
use crate::index::texts::StoredTexts;
use crate::index::{IndexError, MaterialIndex};
use crate::material::Material;
use crate::search::{self, RankingParams, SearchRequest, SearchResponse};

/// Where the engine keeps its files.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// The data directory (holds `corpus/`, `index/`, `dictionaries/`).
    pub data_dir: PathBuf,
    /// Keep the index in memory instead of `data_dir/index` (tests, evaluation).
    pub in_memory: bool,
}

impl EngineOptions {
    /// Options for `data_dir` with the index on disk.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            in_memory: false,
        }
    }
}

/// One index generation: the analyzer it was built with and its index.
pub struct Generation {
    /// 0 for `index/`, N for `index/gen-N/`.
    pub number: u64,
    analyzer: Arc<Analyzer>,
    index: MaterialIndex,
    /// Its directory; `None` in memory.
    dir: Option<PathBuf>,
}

impl std::fmt::Debug for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generation")
            .field("number", &self.number)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Generation {
    fn manifest(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(MANIFEST))
    }
}

/// Name of the manifest file (the corpus fingerprint) in a generation's directory.
pub const MANIFEST: &str = "kotae-manifest.txt";
/// Name of the file in `index/` that names the live generation.
pub const CURRENT: &str = "CURRENT";

/// Returns the directory of generation `n` below the index root.
fn generation_dir(root: &Path, n: u64) -> PathBuf {
    if n == 0 {
        root.to_path_buf()
    } else {
        root.join(format!("gen-{n}"))
    }
}

/// Returns the live generation number named by `root/CURRENT` (0 when absent or unreadable).
fn current_generation(root: &Path) -> u64 {
    std::fs::read_to_string(root.join(CURRENT))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// The state of the latest full rebuild (`GET /api/status` `rebuild`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct RebuildStatus {
    /// Its job id (`GET /api/jobs/{id}`).
    pub id: String,
    /// Why it runs: `reindex` (API or CLI), `user_dict` (a dictionary edit).
    pub reason: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    /// Materials indexed so far.
    pub done: usize,
    /// Materials to index.
    pub total: usize,
    /// The generation it builds.
    pub generation: u64,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// When it ended.
    pub finished_at: Option<String>,
    /// Why it failed (the old generation stays live).
    pub error: Option<String>,
}

/// The search engine over one data directory.
pub struct Engine {
    data_dir: PathBuf,
    corpus: Corpus,
    live: RwLock<Arc<Generation>>,
    table: RwLock<Table>,
    ranking: RwLock<RankingParams>,
    /// The learned queries' side index (see [`search::learned`]), swapped by the learner.
    learned: RwLock<Arc<search::LearnedIndex>>,
    /// The one writer: held across corpus write, index commit and table update.
    writer: std::sync::Mutex<()>,
    in_memory: bool,
    read_only: bool,
    rebuild: std::sync::Mutex<Option<RebuildStatus>>,
    /// Held for a whole rebuild: one builds the next generation at a time.
    rebuilding: std::sync::Mutex<()>,
    /// Ids with a correction or retired: changes to other collections leave them alone.
    shadowed: RwLock<std::collections::HashSet<String>>,
    /// A temporary data directory removed on drop (see [`Engine::ephemeral`]).
    cleanup: Option<PathBuf>,
    /// Whether opening built the index from the corpus (it was new or stale).
    rebuilt_at_open: bool,
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(dir) = &self.cleanup {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

/// Returns the SHA-256 of one material's JSON.
fn material_hash(m: &Material) -> [u8; 32] {
    Sha256::digest(serde_json::to_vec(m).unwrap_or_default()).into()
}

fn xor_into(acc: &mut [u8; 32], h: &[u8; 32]) {
    for (a, b) in acc.iter_mut().zip(h) {
        *a ^= b;
    }
}

/// The format tag folded into every fingerprint (changed when the index format changes:
/// v4 keeps the long texts in the doc store).
const FINGERPRINT_TAG: &[u8] = b"kotae-index-v4";

/// Returns the fingerprint of a material set: the XOR of the SHA-256 of each material's JSON
/// and of a format tag. XOR makes it independent of order and updatable per material, so an
/// upsert costs O(changed materials), not a pass over the corpus. (The engine folds the same
/// hashes in as it reads the corpus: [`Table::load`].)
#[cfg(test)]
fn fingerprint<'a>(materials: impl IntoIterator<Item = &'a Material>) -> [u8; 32] {
    let mut acc: [u8; 32] = Sha256::digest(FINGERPRINT_TAG).into();
    for m in materials {
        xor_into(&mut acc, &material_hash(m));
    }
    acc
}

/// The in-memory material table: materials without their stored texts, the SHA-256 of each
/// whole material, and the fingerprint of the set.
#[derive(Clone)]
struct Table {
    materials: Arc<HashMap<String, Arc<Material>>>,
    hashes: Arc<HashMap<String, [u8; 32]>>,
    fp: [u8; 32],
}

impl Default for Table {
    fn default() -> Self {
        Self {
            materials: Arc::default(),
            hashes: Arc::default(),
            fp: Sha256::digest(FINGERPRINT_TAG).into(),
        }
    }
}

impl Table {
    /// Reads the corpus into a table, one material at a time (the version [`Corpus::load_all`]
    /// keeps of an id that comes more than once). Also returns whether some id came more than
    /// once.
    fn load(corpus: &Corpus) -> Result<(Self, bool)> {
        let mut materials = HashMap::new();
        let mut hashes = HashMap::new();
        let mut read = 0usize;
        corpus.for_each(|mut m: Material| -> Result<()> {
            read += 1;
            hashes.insert(m.id.clone(), material_hash(&m));
            StoredTexts::take(&mut m);
            materials.insert(m.id.clone(), Arc::new(m));
            Ok(())
        })?;
        let dups = read != materials.len();
        let mut fp: [u8; 32] = Sha256::digest(FINGERPRINT_TAG).into();
        for h in hashes.values() {
            xor_into(&mut fp, h);
        }
        let t = Self {
            materials: Arc::new(materials),
            hashes: Arc::new(hashes),
            fp,
        };
        Ok((t, dups))
    }

    fn len(&self) -> usize {
        self.materials.len()
    }

    /// Applies `removes` then `upserts` (whole materials), keeping the hashes and the
    /// fingerprint in step.
    fn apply(&mut self, upserts: Vec<Material>, removes: &[String]) {
        let materials = Arc::make_mut(&mut self.materials);
        let hashes = Arc::make_mut(&mut self.hashes);
        for id in removes {
            materials.remove(id);
            if let Some(h) = hashes.remove(id) {
                xor_into(&mut self.fp, &h);
            }
        }
        for mut m in upserts {
            let h = material_hash(&m);
            xor_into(&mut self.fp, &h);
            if let Some(old) = hashes.insert(m.id.clone(), h) {
                xor_into(&mut self.fp, &old);
            }
            StoredTexts::take(&mut m);
            materials.insert(m.id.clone(), Arc::new(m));
        }
    }

    /// Returns the ids whose material is new or differs in `to`, and the ids of `self` that
    /// `to` lacks.
    fn diff(&self, to: &Table) -> (std::collections::HashSet<String>, Vec<String>) {
        let changed = to
            .hashes
            .iter()
            .filter(|(id, h)| self.hashes.get(*id) != Some(*h))
            .map(|(id, _)| id.clone())
            .collect();
        let removed = self
            .hashes
            .keys()
            .filter(|id| !to.hashes.contains_key(*id))
            .cloned()
            .collect();
        (changed, removed)
    }
}

/// Calls `f` with each material of the corpus that `table` (read from the same corpus) holds,
/// whole and once, in the version the table kept; `only`, when given, restricts it to those
/// ids. With `dups = false` (no id came twice) every material read is the kept one.
fn for_each_kept(
    corpus: &Corpus,
    table: &Table,
    dups: bool,
    only: Option<&std::collections::HashSet<String>>,
    mut f: impl FnMut(Material) -> Result<()>,
) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    corpus.for_each(|m: Material| -> Result<()> {
        if only.is_some_and(|o| !o.contains(&m.id)) {
            return Ok(());
        }
        if (dups || only.is_some())
            && (table.hashes.get(&m.id) != Some(&material_hash(&m)) || !seen.insert(m.id.clone()))
        {
            return Ok(());
        }
        f(m)
    })
}

/// Indexes the corpus into `index` from scratch, streamed: the materials `table` holds
/// (see [`for_each_kept`]); `progress(done, total)` every 256 materials and at the end.
fn index_corpus(
    index: &MaterialIndex,
    corpus: &Corpus,
    table: &Table,
    dups: bool,
    mut progress: impl FnMut(usize, usize),
) -> Result<usize> {
    let total = table.len();
    let mut r = index.begin_rebuild()?;
    let mut done = 0usize;
    for_each_kept(corpus, table, dups, None, |m| {
        r.add(&m)?;
        done += 1;
        if done.is_multiple_of(256) {
            progress(done, total);
        }
        Ok(())
    })?;
    r.commit()?;
    progress(done, total);
    Ok(done)
}

/// Returns the whole materials of `ids` as `table` (read from `corpus`) holds them.
fn kept_materials(
    corpus: &Corpus,
    table: &Table,
    ids: &std::collections::HashSet<String>,
) -> Result<Vec<Material>> {
    let mut out = Vec::with_capacity(ids.len());
    if ids.is_empty() {
        return Ok(out);
    }
    for_each_kept(corpus, table, true, Some(ids), |m| {
        out.push(m);
        Ok(())
    })?;
    Ok(out)
}

impl Engine {
    /// Opens the engine over `opts.data_dir`: loads the dictionaries
    /// (`data_dir/dictionaries/`, built-in when absent), the corpus, and the index, rebuilding
    /// the index when it is new or was built from a different corpus.
    ///
    /// # Errors
    /// Dictionary, corpus (a bad line, with its file and line number) or index errors.
    pub fn open(opts: &EngineOptions) -> Result<Self> {
        let analyzer = Arc::new(Analyzer::load(&opts.data_dir.join("dictionaries"))?);
        Self::open_with(opts, analyzer)
    }

    /// As [`Engine::open`] with an already loaded analyzer.
    ///
    /// # Errors
    /// As [`Engine::open`].
    pub fn open_with(opts: &EngineOptions, analyzer: Arc<Analyzer>) -> Result<Self> {
        let corpus = Corpus::open(opts.data_dir.join("corpus"))?;
        let root = opts.data_dir.join("index");
        let number = if opts.in_memory {
            0
        } else {
            current_generation(&root)
        };
        let dir = (!opts.in_memory).then(|| generation_dir(&root, number));
        let (index, created) = MaterialIndex::open(dir.as_deref(), analyzer.clone())?;
        if !opts.in_memory {
            remove_other_generations(&root, number);
        }
        let (table, dups) = Table::load(&corpus)?;
        let fp_hex = hex::encode(table.fp);
        let generation = Generation {
            number,
            analyzer,
            index,
            dir,
        };
        let stale = match generation.manifest() {
            Some(p) => {
                created || std::fs::read_to_string(p).ok().as_deref() != Some(fp_hex.as_str())
            }
            None => true,
        };
        let mut engine = Self::assemble(opts, corpus, generation, false);
        engine.rebuilt_at_open = stale;
        if stale {
            tracing::info!(
                materials = table.len(),
                "building the index from the corpus"
            );
            index_corpus(
                &engine.live().index,
                &engine.corpus,
                &table,
                dups,
                |_, _| {},
            )?;
            engine.write_manifest(&fp_hex);
        }
        engine.set_table(table);
        Ok(engine)
    }

    fn assemble(opts: &EngineOptions, corpus: Corpus, generation: Generation, ro: bool) -> Self {
        let shadowed = shadowed_ids(&corpus);
        Self {
            data_dir: opts.data_dir.clone(),
            corpus,
            live: RwLock::new(Arc::new(generation)),
            table: RwLock::new(Table::default()),
            ranking: RwLock::new(RankingParams::default()),
            learned: RwLock::new(Arc::new(search::LearnedIndex::empty())),
            writer: std::sync::Mutex::new(()),
            in_memory: opts.in_memory,
            read_only: ro,
            rebuild: std::sync::Mutex::new(None),
            rebuilding: std::sync::Mutex::new(()),
            shadowed: RwLock::new(shadowed),
            cleanup: None,
            rebuilt_at_open: false,
        }
    }

    /// Opens the engine for searching only, beside a process that holds the index writer
    /// (`kotae search` while `kotae serve` runs): the on-disk index is opened without a
    /// writer. When it is missing or was built from another corpus than the one on disk
    /// now, the index is built in memory from the corpus instead (slower, never stale).
    /// Every change method answers [`IndexError::ReadOnly`] and writes nothing.
    ///
    /// # Errors
    /// Dictionary, corpus or index read errors.
    pub fn open_read_only(opts: &EngineOptions) -> Result<Self> {
        let analyzer = Arc::new(Analyzer::load(&opts.data_dir.join("dictionaries"))?);
        let corpus = Corpus::open(opts.data_dir.join("corpus"))?;
        let root = opts.data_dir.join("index");
        let number = current_generation(&root);
        let dir = generation_dir(&root, number);
        let (table, dups) = Table::load(&corpus)?;
        let fp_hex = hex::encode(table.fp);
        let fresh = std::fs::read_to_string(dir.join(MANIFEST)).ok().as_deref() == Some(&*fp_hex);
        // A generation retired between reading CURRENT and opening it (a server swapping
        // in a rebuild) falls back to the in-memory index too.
        let on_disk = if fresh && !opts.in_memory {
            MaterialIndex::open_read_only(&dir, analyzer.clone()).unwrap_or_else(|e| {
                tracing::info!(error = %e, "cannot open the on-disk index read-only");
                None
            })
        } else {
            None
        };
        let (index, built) = match on_disk {
            Some(i) => (i, false),
            None => {
                tracing::info!(
                    "the on-disk index is not in line with the corpus: searching an index built in memory"
                );
                (MaterialIndex::open(None, analyzer.clone())?.0, true)
            }
        };
        let generation = Generation {
            number,
            analyzer,
            index,
            dir: None,
        };
        if built {
            index_corpus(&generation.index, &corpus, &table, dups, |_, _| {})?;
        }
        let engine = Self::assemble(opts, corpus, generation, true);
        engine.set_table(table);
        Ok(engine)
    }

    fn writable(&self) -> Result<std::sync::MutexGuard<'_, ()>> {
        if self.read_only {
            return Err(IndexError::ReadOnly.into());
        }
        Ok(self.writer.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Returns the live generation.
    pub fn live(&self) -> Arc<Generation> {
        self.live.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Returns the live generation number.
    pub fn generation(&self) -> u64 {
        self.live().number
    }

    /// Whether opening built the index from the corpus (it was new, or built from another
    /// corpus): `kotae index --rebuild` then does not build it a second time.
    pub fn rebuilt_at_open(&self) -> bool {
        self.rebuilt_at_open
    }

    /// Returns whether the engine was opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Builds an engine over `materials` in a temporary data directory with an in-memory
    /// index (evaluation, benchmarks); the directory is removed when the engine is dropped.
    ///
    /// # Errors
    /// Corpus or index errors.
    pub fn ephemeral(analyzer: Arc<Analyzer>, materials: Vec<Material>) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("kotae-{}", uuid::Uuid::new_v4().simple()));
        let corpus = Corpus::open(dir.join("corpus"))?;
        corpus.write_collection("materials", &materials)?;
        let opts = EngineOptions {
            data_dir: dir.clone(),
            in_memory: true,
        };
        let mut e = Self::open_with(&opts, analyzer)?;
        e.cleanup = Some(dir);
        Ok(e)
    }

    fn write_manifest(&self, fp: &str) {
        if let Some(p) = self.live().manifest()
            && let Err(e) = std::fs::write(&p, fp)
        {
            tracing::warn!(path = %p.display(), error = %e, "cannot write the index manifest");
        }
    }

    fn refresh_manifest(&self) {
        let fp = self.table.read().unwrap_or_else(|e| e.into_inner()).fp;
        self.write_manifest(&hex::encode(fp));
    }

    fn set_table(&self, table: Table) {
        *self.table.write().unwrap_or_else(|e| e.into_inner()) = table;
    }

    fn table(&self) -> Table {
        self.table.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Returns the data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Returns the corpus store.
    pub fn corpus(&self) -> &Corpus {
        &self.corpus
    }

    /// Returns the analyzer of the live generation.
    pub fn analyzer(&self) -> Arc<Analyzer> {
        self.live().analyzer.clone()
    }

    /// Returns the live generation (its index: `&engine.index().index()`…); a search holds
    /// it for its whole run, so a swap never changes the index under a running search.
    pub fn index(&self) -> IndexRef {
        IndexRef(self.live())
    }

    /// Returns a snapshot of the in-memory material table.
    ///
    /// Its materials have **no `answer` and no `body`** (those live in the doc store): use
    /// [`Engine::get`] for a whole material.
    pub fn materials(&self) -> Arc<HashMap<String, Arc<Material>>> {
        self.table
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .materials
            .clone()
    }

    /// Returns the whole material with `id`, its texts read from the live generation's doc
    /// store (one block decompressed).
    pub fn get(&self, id: &str) -> Option<Arc<Material>> {
        let slim = self.materials().get(id).cloned()?;
        match self.live().index.texts_of(id) {
            Ok(Some(t)) => {
                let mut m = (*slim).clone();
                t.fill(&mut m);
                Some(Arc::new(m))
            }
            Ok(None) => Some(slim),
            Err(e) => {
                tracing::warn!(id, error = %e, "cannot read a material's texts from the index");
                Some(slim)
            }
        }
    }

    /// Returns the ranking parameters.
    pub fn ranking_params(&self) -> RankingParams {
        *self.ranking.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the ranking parameters (evaluation, ablation).
    pub fn set_ranking_params(&self, w: RankingParams) {
        *self.ranking.write().unwrap_or_else(|e| e.into_inner()) = w;
    }

    /// Returns the learned queries' side index in use.
    pub fn learned(&self) -> Arc<search::LearnedIndex> {
        self.learned
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the learned queries' side index (see [`crate::learn`]): the next search
    /// uses it.
    pub fn set_learned(&self, learned: Arc<search::LearnedIndex>) {
        *self.learned.write().unwrap_or_else(|e| e.into_inner()) = learned;
    }

    /// Runs a search.
    ///
    /// # Errors
    /// [`Error::Request`] for an invalid request, index errors.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResponse> {
        req.validate()?;
        let materials = self.materials();
        let live = self.live();
        Ok(search::search(
            &live.index,
            &live.analyzer,
            &materials,
            req,
            &self.ranking_params(),
            &self.learned(),
        )?)
    }

    /// Returns the top `k` ids for `q` (no snippets, no facets).
    ///
    /// # Errors
    /// Index errors.
    pub fn rank_ids(&self, q: &str, k: usize) -> Result<Vec<search::RankedId>> {
        let live = self.live();
        Ok(search::rank_ids(
            &live.index,
            &live.analyzer,
            &self.materials(),
            q,
            k,
            &self.ranking_params(),
            &self.learned(),
        )?)
    }

    /// Adds or replaces materials in corpus collection `collection`, then indexes them
    /// (searchable when this returns). A material whose id has a correction or is retired
    /// (`PUT`/`DELETE /api/materials/{id}`) is written to its collection but not indexed:
    /// the correction stays what is searched.
    ///
    /// # Errors
    /// Corpus errors (nothing changed), index errors (the corpus has the change; the index
    /// catches up at the next start).
    pub fn upsert(&self, collection: &str, materials: Vec<Material>) -> Result<UpsertStats> {
        let _w = self.writable()?;
        let mut materials = materials;
        for m in &mut materials {
            m.ensure_id();
        }
        let stats = self.corpus.upsert(collection, materials.clone())?;
        let (materials, _) = self.unshadowed(collection, materials, Vec::new());
        self.commit_change(materials, &[])?;
        Ok(stats)
    }

    /// Removes materials by id from corpus collection `collection` and from the index.
    /// Returns how many were removed from the corpus.
    ///
    /// # Errors
    /// As [`Engine::upsert`].
    pub fn remove(&self, collection: &str, ids: &[String]) -> Result<usize> {
        let _w = self.writable()?;
        let n = self.corpus.remove(collection, ids)?;
        let (_, ids) = self.unshadowed(collection, Vec::new(), ids.to_vec());
        self.commit_change(Vec::new(), &ids)?;
        Ok(n)
    }

    /// Upserts `upserts` into and removes `remove_ids` from corpus collection `collection`
    /// in one corpus write and one index commit (searchable when this returns). Returns the
    /// upsert counts and the number removed from the corpus. Used by the CMS webhook, where
    /// a page's new materials replace its old ones. Corrected and retired ids: as in
    /// [`Engine::upsert`].
    ///
    /// # Errors
    /// As [`Engine::upsert`].
    pub fn apply(
        &self,
        collection: &str,
        upserts: Vec<Material>,
        remove_ids: &[String],
    ) -> Result<(UpsertStats, usize)> {
        let _w = self.writable()?;
        let mut upserts = upserts;
        for m in &mut upserts {
            m.ensure_id();
        }
        let keep: std::collections::HashSet<&str> = upserts.iter().map(|m| m.id.as_str()).collect();
        let removes: Vec<String> = remove_ids
            .iter()
            .filter(|id| !keep.contains(id.as_str()))
            .cloned()
            .collect();
        let (stats, removed) = self.corpus.apply(collection, upserts.clone(), &removes)?;
        if stats.added + stats.updated + removed == 0 {
            return Ok((stats, 0));
        }
        let (upserts, removes) = self.unshadowed(collection, upserts, removes);
        self.commit_change(upserts, &removes)?;
        Ok((stats, removed))
    }

    /// Drops the changes a correction or a retirement overrides (unless `collection` is the
    /// corrections collection itself).
    fn unshadowed(
        &self,
        collection: &str,
        upserts: Vec<Material>,
        removes: Vec<String>,
    ) -> (Vec<Material>, Vec<String>) {
        if collection == crate::corpus::CORRECTIONS {
            return (upserts, removes);
        }
        let shadowed = self.shadowed.read().unwrap_or_else(|e| e.into_inner());
        if shadowed.is_empty() {
            return (upserts, removes);
        }
        (
            upserts
                .into_iter()
                .filter(|m| !shadowed.contains(&m.id))
                .collect(),
            removes
                .into_iter()
                .filter(|id| !shadowed.contains(id))
                .collect(),
        )
    }

    /// Indexes a change (one commit) and applies it to the in-memory table and the
    /// fingerprint. The caller holds the writer lock and wrote the corpus.
    fn commit_change(&self, upserts: Vec<Material>, removes: &[String]) -> Result<()> {
        if upserts.is_empty() && removes.is_empty() {
            return Ok(());
        }
        self.live().index.apply(&upserts, removes)?;
        // Read-modify-write under the table's write lock, so concurrent readers see either
        // the old or the new table (a reader's snapshot is its own `Arc`).
        self.table
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .apply(upserts, removes);
        self.refresh_manifest();
        Ok(())
    }

    /// Writes a correction (`PUT /api/materials/{id}`): `material` goes to the
    /// [`CORRECTIONS`](crate::corpus::CORRECTIONS) collection, where it wins over the
    /// version of any other collection (a recrawl, re-import or rebuild keeps it), its id is
    /// taken off the retired list, and it is indexed at once. Returns whether the id was not
    /// searchable before.
    ///
    /// # Errors
    /// [`Error::Material`] for an invalid material (nothing written); corpus or index
    /// errors.
    pub fn correct(&self, material: Material) -> Result<bool> {
        let _w = self.writable()?;
        let mut m = material;
        m.ensure_id();
        m.validate()?;
        let created = !self.materials().contains_key(&m.id);
        self.corpus
            .apply(crate::corpus::CORRECTIONS, vec![m.clone()], &[])?;
        self.corpus.set_retired(&m.id, false)?;
        self.shadowed
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(m.id.clone());
        self.commit_change(vec![m], &[])?;
        Ok(created)
    }

    /// Retires material `id` (`DELETE /api/materials/{id}`): its correction (if any) is
    /// removed, the id is added to the corpus's retired list (hidden in every collection,
    /// so a recrawl or rebuild does not bring it back) and removed from the index. Returns
    /// `false` when no material has this id.
    ///
    /// # Errors
    /// Corpus or index errors.
    pub fn retire(&self, id: &str) -> Result<bool> {
        let _w = self.writable()?;
        if !self.materials().contains_key(id) {
            return Ok(false);
        }
        self.corpus.set_retired(id, true)?;
        self.corpus
            .remove(crate::corpus::CORRECTIONS, &[id.to_string()])?;
        self.shadowed
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string());
        self.commit_change(Vec::new(), &[id.to_string()])?;
        Ok(true)
    }

    /// Re-reads the whole corpus and brings the index in line with it (changed, new and
    /// removed materials). Used by `kotae index` and after a crawl (the corpus was written by
    /// another process or by hand).
    /// Returns (upserted, removed).
    ///
    /// # Errors
    /// Corpus or index errors; on a corpus error the index is unchanged.
    pub fn sync_from_corpus(&self) -> Result<(usize, usize)> {
        let _w = self.writable()?;
        let (all, _) = Table::load(&self.corpus)?;
        let (changed, removed) = self.table().diff(&all);
        let counts = (changed.len(), removed.len());
        if !changed.is_empty() || !removed.is_empty() {
            let changed = kept_materials(&self.corpus, &all, &changed)?;
            self.live().index.apply(&changed, &removed)?;
        }
        self.set_table(all);
        self.refresh_manifest();
        Ok(counts)
    }

    /// Rebuilds the index from the corpus beside the live one and swaps it in, reporting
    /// progress (materials done, total); see [`Engine::rebuild_beside`].
    ///
    /// # Errors
    /// Corpus or index errors (the live generation stays).
    pub fn rebuild(&self, progress: impl FnMut(usize, usize)) -> Result<usize> {
        self.rebuild_beside(None, progress)
    }

    /// Builds a new index generation from the corpus with `analyzer` (the live one when
    /// `None`; a new one after a user-dictionary edit) while searches and changes keep
    /// going to the live generation, then, under the writer lock, applies the corpus
    /// changes made meanwhile to it and swaps it in (module docs). Returns the number of
    /// materials indexed.
    ///
    /// # Errors
    /// Corpus or index errors; the live generation stays and nothing is swapped.
    pub fn rebuild_beside(
        &self,
        analyzer: Option<Arc<Analyzer>>,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<usize> {
        if self.read_only {
            return Err(IndexError::ReadOnly.into());
        }
        let _one = self.rebuilding.lock().unwrap_or_else(|e| e.into_inner());
        let old = self.live();
        let analyzer = analyzer.unwrap_or_else(|| old.analyzer.clone());
        let root = self.data_dir.join("index");
        let number = old.number + 1;
        let dir = (!self.in_memory).then(|| generation_dir(&root, number));
        if let Some(d) = &dir {
            let _ = std::fs::remove_dir_all(d);
        }
        let (index, _) = MaterialIndex::open(dir.as_deref(), analyzer.clone())?;
        let (built, dups) = Table::load(&self.corpus)?;
        index_corpus(&index, &self.corpus, &built, dups, &mut progress)?;
        let next = Generation {
            number,
            analyzer,
            index,
            dir,
        };
        let _w = self.writable()?;
        // Changes committed to the live generation while this one was built.
        let (now, _) = Table::load(&self.corpus)?;
        let (changed, removed) = built.diff(&now);
        if !changed.is_empty() || !removed.is_empty() {
            let changed = kept_materials(&self.corpus, &now, &changed)?;
            next.index.apply(&changed, &removed)?;
        }
        let fp = hex::encode(now.fp);
        if let Some(p) = next.manifest() {
            std::fs::write(&p, &fp).map_err(|e| Error::Io {
                context: format!("cannot write {}", p.display()),
                source: e,
            })?;
        }
        if !self.in_memory {
            write_current(&root, number)?;
        }
        *self.live.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
        self.set_table(now);
        drop(_w);
        let n = self.materials().len();
        retire(old);
        tracing::info!(
            generation = number,
            materials = n,
            "new index generation live"
        );
        Ok(n)
    }

    /// Starts a full rebuild in the background (one at a time) and returns its status; when
    /// one is already running, returns that one's (its id is the job to poll).
    /// `analyzer`: as in [`Engine::rebuild_beside`]; `reason` names the trigger.
    pub fn start_rebuild(
        self: &Arc<Self>,
        analyzer: Option<Arc<Analyzer>>,
        reason: &str,
    ) -> Result<RebuildStatus> {
        if self.read_only {
            return Err(IndexError::ReadOnly.into());
        }
        let mut guard = self.rebuild.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = guard.as_ref()
            && r.status == "running"
        {
            return Ok(r.clone());
        }
        let status = RebuildStatus {
            id: format!("rebuild-{}", uuid::Uuid::new_v4().simple()),
            reason: reason.to_string(),
            status: "running".into(),
            done: 0,
            total: self.materials().len(),
            generation: self.generation() + 1,
            started_at: chrono::Utc::now().to_rfc3339(),
            finished_at: None,
            error: None,
        };
        *guard = Some(status.clone());
        drop(guard);
        let engine = self.clone();
        std::thread::Builder::new()
            .name("kotae-rebuild".into())
            .spawn(move || {
                let result = engine.rebuild_beside(analyzer, |done, total| {
                    if let Some(r) = engine.rebuild.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
                        r.done = done;
                        r.total = total;
                    }
                });
                let mut g = engine.rebuild.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(r) = g.as_mut() {
                    r.finished_at = Some(chrono::Utc::now().to_rfc3339());
                    match result {
                        Ok(_) => r.status = "done".into(),
                        Err(e) => {
                            tracing::error!(error = %e, "index rebuild failed; the old index stays live");
                            r.status = "failed".into();
                            r.error = Some(e.to_string());
                        }
                    }
                }
            })
            .map_err(|e| Error::Io {
                context: "cannot start the rebuild thread".into(),
                source: e,
            })?;
        Ok(status)
    }

    /// Returns the latest rebuild's status (`None`: none since start).
    pub fn rebuild_status(&self) -> Option<RebuildStatus> {
        self.rebuild
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reloads `synonyms.txt` from the data directory's `dictionaries/` (query-time only: no
    /// reindex). Returns the number of groups.
    pub fn reload_synonyms(&self) -> usize {
        let s = crate::analysis::Synonyms::load(&self.data_dir.join("dictionaries"));
        let n = s.len();
        self.live().analyzer.set_synonyms(s);
        n
    }
}

/// The live generation's index, held for as long as this lives.
#[derive(Debug, Clone)]
pub struct IndexRef(Arc<Generation>);

impl std::ops::Deref for IndexRef {
    type Target = MaterialIndex;
    fn deref(&self) -> &MaterialIndex {
        &self.0.index
    }
}

/// Returns the ids of the corrections collection and the retired list (corpus errors were
/// reported by the load that preceded this; they leave the set empty here).
fn shadowed_ids(corpus: &Corpus) -> std::collections::HashSet<String> {
    let mut ids = corpus.retired().unwrap_or_default();
    if let Ok(ms) = corpus.read_collection(crate::corpus::CORRECTIONS) {
        ids.extend(ms.into_iter().map(|m| m.id));
    }
    ids
}

/// Names generation `n` live in `root/CURRENT` atomically (temp file, fsync, rename, fsync
/// of the directory).
fn write_current(root: &Path, n: u64) -> Result<()> {
    use std::io::Write;
    let io = |e: std::io::Error| Error::Io {
        context: format!("cannot write {}", root.join(CURRENT).display()),
        source: e,
    };
    let tmp = root.join("CURRENT.tmp");
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(n.to_string().as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, root.join(CURRENT)).map_err(io)?;
    if let Ok(d) = std::fs::File::open(root) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Removes generation directories other than `live` (left by a rebuild that did not
/// finish, or retired before a crash); when `live` is not 0, also the tantivy files of
/// generation 0 in `root` itself.
fn remove_other_generations(root: &Path, live: u64) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if let Some(n) = name
            .strip_prefix("gen-")
            .and_then(|n| n.parse::<u64>().ok())
            && n != live
        {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    if live != 0 {
        let _ = crate::index::remove_tantivy_files(root);
        let _ = std::fs::remove_file(root.join(MANIFEST));
    }
}

/// Deletes a generation that is no longer live once the last search holding it ends (on a
/// helper thread; searches keep their own reference, so none fails).
fn retire(old: Arc<Generation>) {
    let spawned = std::thread::Builder::new()
        .name("kotae-retire".into())
        .spawn(move || {
            let mut old = old;
            let generation = loop {
                match Arc::try_unwrap(old) {
                    Ok(g) => break g,
                    Err(a) => {
                        old = a;
                        std::thread::sleep(std::time::Duration::from_millis(50));
                    }
                }
            };
            let dir = generation.dir.clone();
            let number = generation.number;
            drop(generation);
            if let Some(d) = dir {
                let r = if number == 0 {
                    crate::index::remove_tantivy_files(&d)
                        .and_then(|()| std::fs::remove_file(d.join(MANIFEST)))
                } else {
                    std::fs::remove_dir_all(&d)
                };
                if let Err(e) = r {
                    tracing::warn!(dir = %d.display(), error = %e, "cannot delete a retired index generation");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the thread that deletes a retired index generation");
    }
}

impl From<std::io::Error> for Error {
    fn from(source: std::io::Error) -> Self {
        Error::Io {
            context: "i/o".into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faq(source_id: &str, answer: &str) -> Material {
        serde_json::from_value(serde_json::json!({
            "source_id": source_id, "kind": "faq", "question": format!("{source_id}の質問"),
            "answer": answer, "source": "t", "updated_at": "2026-04-01T09:00:00+09:00"
        }))
        .unwrap()
    }

    #[test]
    fn incremental_fingerprint_matches_a_full_recount() {
        let dir = tempfile::tempdir().unwrap();
        let analyzer = Arc::new(Analyzer::builtin().unwrap());
        let e = Engine::open_with(&EngineOptions::new(dir.path()), analyzer).unwrap();
        e.upsert("a", vec![faq("1", "一"), faq("2", "二")]).unwrap();
        e.upsert("a", vec![faq("2", "二改"), faq("3", "三")])
            .unwrap();
        let id1 = crate::material::material_id("t", "1");
        e.remove("a", &[id1]).unwrap();
        let manifest = std::fs::read_to_string(dir.path().join("index").join(MANIFEST)).unwrap();
        let recount = hex::encode(fingerprint(&e.corpus().load_all().unwrap()));
        assert_eq!(manifest, recount);
        assert_eq!(e.materials().len(), 2);
    }

    #[test]
    fn streamed_table_and_index_keep_load_alls_precedence_and_texts_come_from_the_doc_store() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = Corpus::open(dir.path().join("corpus")).unwrap();
        // Id 1 in two collections (the one sorted last wins) and corrected; id 2 twice in
        // one file (the last line wins); id 3 retired.
        corpus
            .write_collection(
                "a",
                &[faq("1", "a版"), faq("2", "古い"), faq("2", "新しい")],
            )
            .unwrap();
        corpus
            .write_collection("b", &[faq("1", "b版"), faq("3", "退役")])
            .unwrap();
        corpus
            .write_collection(crate::corpus::CORRECTIONS, &[faq("1", "訂正版")])
            .unwrap();
        let id = |s: &str| crate::material::material_id("t", s);
        corpus.set_retired(&id("3"), true).unwrap();
        let analyzer = Arc::new(Analyzer::builtin().unwrap());
        let e = Engine::open_with(&EngineOptions::new(dir.path()), analyzer).unwrap();
        let all = e.corpus().load_all().unwrap();
        assert_eq!(e.materials().len(), all.len());
        assert_eq!(e.live().index.num_docs(), all.len() as u64);
        for m in &all {
            let slim = e.materials().get(&m.id).cloned().unwrap();
            assert_eq!(slim.answer, None, "the table keeps no long text");
            assert_eq!(
                e.get(&m.id).as_deref(),
                Some(m),
                "whole material from the doc store"
            );
        }
        assert_eq!(e.get(&id("1")).unwrap().answer.as_deref(), Some("訂正版"));
        assert_eq!(e.get(&id("2")).unwrap().answer.as_deref(), Some("新しい"));
        assert!(e.get(&id("3")).is_none());
        let manifest = std::fs::read_to_string(dir.path().join("index").join(MANIFEST)).unwrap();
        assert_eq!(manifest, hex::encode(fingerprint(&all)));
        // A change written behind the engine's back: sync finds it by its hash and indexes
        // the whole new version.
        e.corpus()
            .write_collection("b", &[faq("1", "b版"), faq("3", "退役"), faq("4", "四")])
            .unwrap();
        e.corpus()
            .write_collection("a", &[faq("2", "三度目")])
            .unwrap();
        assert_eq!(e.sync_from_corpus().unwrap(), (2, 0));
        assert_eq!(e.get(&id("2")).unwrap().answer.as_deref(), Some("三度目"));
        assert_eq!(e.get(&id("4")).unwrap().answer.as_deref(), Some("四"));
        let hits = e
            .search(&SearchRequest {
                q: "三度目".into(),
                limit: 10,
                ..SearchRequest::default()
            })
            .unwrap();
        assert_eq!(hits.hits.first().map(|h| h.id.clone()), Some(id("2")));
        let snippet = hits.hits[0]
            .snippet
            .replace("<mark>", "")
            .replace("</mark>", "");
        assert!(snippet.contains("三度目"), "{snippet}");
        // A rebuild beside the live generation streams the same set.
        assert_eq!(e.rebuild(|_, _| {}).unwrap(), 3);
        assert_eq!(e.get(&id("1")).unwrap().answer.as_deref(), Some("訂正版"));
        assert_eq!(e.live().index.num_docs(), 3);
    }
}
