//! Shared fixtures: one analyzer per test binary, engines over the built-in default corpus.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use kotae::analysis::Analyzer;
use kotae::engine::{Engine, EngineOptions};

/// Returns the analyzer with the built-in dictionaries (loaded once).
pub fn analyzer() -> Arc<Analyzer> {
    static A: OnceLock<Arc<Analyzer>> = OnceLock::new();
    A.get_or_init(|| Arc::new(Analyzer::builtin().expect("analyzer loads")))
        .clone()
}

/// Returns the repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies directory `from` to `to` recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// A temporary data directory holding a copy of the default corpus, and an engine over it
/// (index on disk when `on_disk`).
pub fn default_engine(on_disk: bool) -> (tempfile::TempDir, Arc<Engine>) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("corpus"), &dir.path().join("corpus"));
    let opts = EngineOptions {
        data_dir: dir.path().to_path_buf(),
        in_memory: !on_disk,
    };
    let engine = Engine::open_with(&opts, analyzer()).expect("engine opens");
    (dir, Arc::new(engine))
}

/// Returns the source ids of the top `k` hits for `q`.
pub fn top_source_ids(engine: &Engine, q: &str, k: usize) -> Vec<String> {
    let mut req = kotae::search::SearchRequest::new(q);
    req.limit = k;
    engine
        .search(&req)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.source_id)
        .collect()
}
