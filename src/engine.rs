//! The engine: corpus + analyzer + index + the in-memory material table, kept in step.
//!
//! Every change goes to the corpus first (the source of truth), then to the index (commit +
//! reader reload), then to the in-memory table, so a crash between steps leaves a corpus the
//! index is rebuilt from at the next start (the index manifest records a fingerprint of the
//! corpus it was built from; a mismatch triggers a rebuild).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};

use crate::analysis::Analyzer;
use crate::corpus::{Corpus, UpsertStats};
use crate::error::{Error, Result};
use crate::index::MaterialIndex;
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

/// The search engine over one data directory.
pub struct Engine {
    data_dir: PathBuf,
    corpus: Corpus,
    analyzer: Arc<Analyzer>,
    index: MaterialIndex,
    materials: RwLock<Arc<HashMap<String, Arc<Material>>>>,
    ranking: RwLock<RankingParams>,
    manifest: Option<PathBuf>,
    /// Fingerprint of the indexed material set (see [`fingerprint`]).
    fp: std::sync::Mutex<[u8; 32]>,
    /// A temporary data directory removed on drop (see [`Engine::ephemeral`]).
    cleanup: Option<PathBuf>,
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

/// Returns the fingerprint of a material set: the XOR of the SHA-256 of each material's JSON
/// and of a format tag. XOR makes it independent of order and updatable per material, so an
/// upsert costs O(changed materials), not a pass over the corpus.
fn fingerprint<'a>(materials: impl IntoIterator<Item = &'a Material>) -> [u8; 32] {
    let mut acc: [u8; 32] = Sha256::digest(b"kotae-index-v2").into();
    for m in materials {
        xor_into(&mut acc, &material_hash(m));
    }
    acc
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
        let index_dir = opts.data_dir.join("index");
        let (index, created) = MaterialIndex::open(
            (!opts.in_memory).then_some(index_dir.as_path()),
            analyzer.clone(),
        )?;
        let materials = corpus.load_all()?;
        let fp = fingerprint(&materials);
        let fp_hex = hex::encode(fp);
        let manifest = (!opts.in_memory).then(|| index_dir.join("kotae-manifest.txt"));
        let stale = match &manifest {
            Some(p) => {
                created || std::fs::read_to_string(p).ok().as_deref() != Some(fp_hex.as_str())
            }
            None => true,
        };
        let engine = Self {
            data_dir: opts.data_dir.clone(),
            corpus,
            analyzer,
            index,
            materials: RwLock::new(Arc::new(HashMap::new())),
            ranking: RwLock::new(RankingParams::default()),
            manifest,
            fp: std::sync::Mutex::new(fp),
            cleanup: None,
        };
        if stale {
            tracing::info!(
                materials = materials.len(),
                "building the index from the corpus"
            );
            engine.index.rebuild(&materials, |_| {})?;
            engine.write_manifest(&fp_hex);
        }
        engine.set_materials(materials);
        Ok(engine)
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
        if let Some(p) = &self.manifest
            && let Err(e) = std::fs::write(p, fp)
        {
            tracing::warn!(path = %p.display(), error = %e, "cannot write the index manifest");
        }
    }

    fn refresh_manifest(&self) {
        let fp = *self.fp.lock().unwrap_or_else(|e| e.into_inner());
        self.write_manifest(&hex::encode(fp));
    }

    fn set_materials(&self, materials: Vec<Material>) {
        *self.fp.lock().unwrap_or_else(|e| e.into_inner()) = fingerprint(&materials);
        let map: HashMap<String, Arc<Material>> = materials
            .into_iter()
            .map(|m| (m.id.clone(), Arc::new(m)))
            .collect();
        *self.materials.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(map);
    }

    /// Returns the data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Returns the corpus store.
    pub fn corpus(&self) -> &Corpus {
        &self.corpus
    }

    /// Returns the analyzer.
    pub fn analyzer(&self) -> &Arc<Analyzer> {
        &self.analyzer
    }

    /// Returns the index.
    pub fn index(&self) -> &MaterialIndex {
        &self.index
    }

    /// Returns a snapshot of the in-memory material table.
    pub fn materials(&self) -> Arc<HashMap<String, Arc<Material>>> {
        self.materials
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Returns the material with `id`.
    pub fn get(&self, id: &str) -> Option<Arc<Material>> {
        self.materials().get(id).cloned()
    }

    /// Returns the ranking parameters.
    pub fn ranking_params(&self) -> RankingParams {
        *self.ranking.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the ranking parameters (evaluation, ablation).
    pub fn set_ranking_params(&self, w: RankingParams) {
        *self.ranking.write().unwrap_or_else(|e| e.into_inner()) = w;
    }

    /// Runs a search.
    ///
    /// # Errors
    /// [`Error::Request`] for an invalid request, index errors.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResponse> {
        req.validate()?;
        let materials = self.materials();
        Ok(search::search(
            &self.index,
            &self.analyzer,
            &materials,
            req,
            &self.ranking_params(),
        )?)
    }

    /// Returns the top `k` ids for `q` (no snippets, no facets).
    ///
    /// # Errors
    /// Index errors.
    pub fn rank_ids(&self, q: &str, k: usize) -> Result<Vec<search::RankedId>> {
        Ok(search::rank_ids(
            &self.index,
            &self.analyzer,
            &self.materials(),
            q,
            k,
            &self.ranking_params(),
        )?)
    }

    /// Adds or replaces materials in corpus collection `collection`, then indexes them
    /// (searchable when this returns).
    ///
    /// # Errors
    /// Corpus errors (nothing changed), index errors (the corpus has the change; the index
    /// catches up at the next start).
    pub fn upsert(&self, collection: &str, materials: Vec<Material>) -> Result<UpsertStats> {
        let mut materials = materials;
        for m in &mut materials {
            m.ensure_id();
        }
        let stats = self.corpus.upsert(collection, materials.clone())?;
        self.index.apply(&materials, &[])?;
        {
            // Read-modify-write under the write lock, so concurrent upserts cannot lose
            // each other's materials.
            let mut guard = self.materials.write().unwrap_or_else(|e| e.into_inner());
            let mut fp = self.fp.lock().unwrap_or_else(|e| e.into_inner());
            let mut map = (**guard).clone();
            for m in materials {
                xor_into(&mut fp, &material_hash(&m));
                if let Some(old) = map.insert(m.id.clone(), Arc::new(m)) {
                    xor_into(&mut fp, &material_hash(&old));
                }
            }
            *guard = Arc::new(map);
        }
        self.refresh_manifest();
        Ok(stats)
    }

    /// Removes materials by id from corpus collection `collection` and from the index.
    /// Returns how many were removed from the corpus.
    ///
    /// # Errors
    /// As [`Engine::upsert`].
    pub fn remove(&self, collection: &str, ids: &[String]) -> Result<usize> {
        let n = self.corpus.remove(collection, ids)?;
        self.index.apply(&[], ids)?;
        {
            let mut guard = self.materials.write().unwrap_or_else(|e| e.into_inner());
            let mut fp = self.fp.lock().unwrap_or_else(|e| e.into_inner());
            let mut map = (**guard).clone();
            for id in ids {
                if let Some(old) = map.remove(id) {
                    xor_into(&mut fp, &material_hash(&old));
                }
            }
            *guard = Arc::new(map);
        }
        self.refresh_manifest();
        Ok(n)
    }

    /// Upserts `upserts` into and removes `remove_ids` from corpus collection `collection`
    /// in one corpus write and one index commit (searchable when this returns). Returns the
    /// upsert counts and the number removed from the corpus. Used by the CMS webhook, where
    /// a page's new materials replace its old ones.
    ///
    /// # Errors
    /// As [`Engine::upsert`].
    pub fn apply(
        &self,
        collection: &str,
        upserts: Vec<Material>,
        remove_ids: &[String],
    ) -> Result<(UpsertStats, usize)> {
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
        self.index.apply(&upserts, &removes)?;
        {
            let mut guard = self.materials.write().unwrap_or_else(|e| e.into_inner());
            let mut fp = self.fp.lock().unwrap_or_else(|e| e.into_inner());
            let mut map = (**guard).clone();
            for id in &removes {
                if let Some(old) = map.remove(id) {
                    xor_into(&mut fp, &material_hash(&old));
                }
            }
            for m in upserts {
                xor_into(&mut fp, &material_hash(&m));
                if let Some(old) = map.insert(m.id.clone(), Arc::new(m)) {
                    xor_into(&mut fp, &material_hash(&old));
                }
            }
            *guard = Arc::new(map);
        }
        self.refresh_manifest();
        Ok((stats, removed))
    }

    /// Re-reads the whole corpus and brings the index in line with it (changed, new and
    /// removed materials). Used after edits on disk (file watcher) and after a crawl.
    /// Returns (upserted, removed).
    ///
    /// # Errors
    /// Corpus or index errors; on a corpus error the index is unchanged.
    pub fn sync_from_corpus(&self) -> Result<(usize, usize)> {
        let all = self.corpus.load_all()?;
        let current = self.materials();
        let changed: Vec<Material> = all
            .iter()
            .filter(|m| current.get(&m.id).is_none_or(|c| **c != **m))
            .cloned()
            .collect();
        let ids: std::collections::HashSet<&str> = all.iter().map(|m| m.id.as_str()).collect();
        let removed: Vec<String> = current
            .keys()
            .filter(|id| !ids.contains(id.as_str()))
            .cloned()
            .collect();
        if !changed.is_empty() || !removed.is_empty() {
            self.index.apply(&changed, &removed)?;
        }
        let counts = (changed.len(), removed.len());
        self.set_materials(all);
        self.refresh_manifest();
        Ok(counts)
    }

    /// Rebuilds the index from the corpus, reporting progress (materials done, total).
    ///
    /// # Errors
    /// Corpus or index errors.
    pub fn rebuild(&self, mut progress: impl FnMut(usize, usize)) -> Result<usize> {
        let all = self.corpus.load_all()?;
        let n = all.len();
        self.index.rebuild(&all, |done| progress(done, n))?;
        self.set_materials(all);
        self.refresh_manifest();
        Ok(n)
    }

    /// Reloads `synonyms.txt` from the data directory's `dictionaries/` (query-time only: no
    /// reindex). Returns the number of groups.
    pub fn reload_synonyms(&self) -> usize {
        let s = crate::analysis::Synonyms::load(&self.data_dir.join("dictionaries"));
        let n = s.len();
        self.analyzer.set_synonyms(s);
        n
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
        let manifest =
            std::fs::read_to_string(dir.path().join("index/kotae-manifest.txt")).unwrap();
        let recount = hex::encode(fingerprint(&e.corpus().load_all().unwrap()));
        assert_eq!(manifest, recount);
        assert_eq!(e.materials().len(), 2);
    }
}
