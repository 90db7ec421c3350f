//! Watches `DATA_DIR/corpus/authored/` while `kotae serve` runs and keeps the index in step
//! with the authored files ([`crate::authored`]).
//!
//! The authored files are mirrored into the corpus collection [`COLLECTION`]
//! (`corpus/authored.jsonl`): that collection is part of the corpus every engine loads, so
//! the index manifest's fingerprint covers the authored materials like any other. Each
//! material of a file has `source` = `authored/<path below authored/>`, which ties it to
//! its file.
//!
//! [`reconcile`] reads every authored file and brings the collection in line in one
//! [`Engine::apply`] (one corpus write, one index commit): new and changed files are
//! upserted, materials of files that are gone are removed, and a file that does not parse
//! keeps its previous materials (still searchable) and is reported in [`WatchErrors`]. It
//! runs once when the watcher starts (so edits made while the service was down are picked
//! up before the first search) and after every debounced burst of file-system events
//! (`notify-debouncer-full`, [`DEBOUNCE`]): an editor's save (temp file, rename, chmod …)
//! is one update, and a rename is a remove plus a create. A whole-directory pass per burst
//! costs one read of each file: fine for the hundreds of files a center writes.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, new_debouncer};

use crate::authored::{self, AuthoredError};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::material::Material;

/// Corpus collection that mirrors the authored files.
pub const COLLECTION: &str = "authored";
/// Quiet time after the last event of a burst before the index is updated.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// The authored files that do not parse now (path, line, reason), shown by
/// `GET /api/status` as `watch_errors`.
#[derive(Debug, Default)]
pub struct WatchErrors(Mutex<Vec<AuthoredError>>);

impl WatchErrors {
    /// Returns the current errors, by path.
    pub fn list(&self) -> Vec<AuthoredError> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn replace(&self, errors: Vec<AuthoredError>) {
        let mut cur = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for e in &errors {
            if !cur.contains(e) {
                tracing::warn!(path = %e.path.display(), line = e.line, reason = %e.reason,
                    "authored file does not parse; its previous version stays searchable");
            }
        }
        for e in cur.iter() {
            if !errors.iter().any(|n| n.path == e.path) {
                tracing::info!(path = %e.path.display(), "authored file parses again");
            }
        }
        *cur = errors;
    }
}

/// Returns the `authored/` directory of the engine's data directory.
pub fn authored_dir(engine: &Engine) -> PathBuf {
    engine.data_dir().join("corpus").join(authored::DIR)
}

fn source_of(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    format!(
        "{}/{}",
        authored::SOURCE,
        rel.to_string_lossy().replace('\\', "/")
    )
}

/// Brings the engine's [`COLLECTION`] in line with the files under `authored/` (see the
/// module docs) and records the files that do not parse in `errors`. Returns (upserted,
/// removed).
///
/// # Errors
/// Corpus or index errors of [`Engine::apply`] (the previous state stays).
pub fn reconcile(engine: &Engine, errors: &WatchErrors) -> Result<(usize, usize)> {
    let root = authored_dir(engine);
    let prefix = format!("{}/", authored::SOURCE);
    // Whole materials (the table holds them without their texts): the few authored ones are
    // compared with what the files say.
    let current: Vec<Arc<Material>> = engine
        .materials()
        .values()
        .filter(|m| m.source.starts_with(&prefix))
        .filter_map(|m| engine.get(&m.id))
        .collect();
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if authored::is_authored_file(&p) {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut desired: HashMap<String, Material> = HashMap::new();
    let mut errs = Vec::new();
    for f in &files {
        let materials = match authored::read(&root, f) {
            Ok(ms) => ms,
            Err(e) => {
                // Keep what the file held when it last parsed.
                let source = source_of(&root, f);
                errs.push(e);
                current
                    .iter()
                    .filter(|m| m.source == source)
                    .map(|m| (**m).clone())
                    .collect()
            }
        };
        for m in materials {
            desired.insert(m.id.clone(), m);
        }
    }
    errors.replace(errs);
    let by_id: HashMap<&str, &Material> = current.iter().map(|m| (m.id.as_str(), &**m)).collect();
    let upserts: Vec<Material> = desired
        .values()
        .filter(|m| by_id.get(m.id.as_str()).is_none_or(|c| *c != *m))
        .cloned()
        .collect();
    let keep: HashSet<&str> = desired.keys().map(String::as_str).collect();
    let removes: Vec<String> = current
        .iter()
        .filter(|m| !keep.contains(m.id.as_str()))
        .map(|m| m.id.clone())
        .collect();
    if upserts.is_empty() && removes.is_empty() {
        return Ok((0, 0));
    }
    let n = (upserts.len(), removes.len());
    engine.apply(COLLECTION, upserts, &removes)?;
    tracing::info!(
        upserted = n.0,
        removed = n.1,
        "authored files applied to the index"
    );
    Ok(n)
}

/// A running watcher; dropping it stops watching (without waiting, see [`Watcher::stop`]).
pub struct Watcher {
    debouncer: notify_debouncer_full::Debouncer<
        notify::RecommendedWatcher,
        notify_debouncer_full::RecommendedCache,
    >,
}

impl Watcher {
    /// Stops watching and waits for the event thread to end (it holds the engine).
    pub fn stop(self) {
        self.debouncer.stop();
    }
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher").finish_non_exhaustive()
    }
}

/// Creates `authored/` if needed, runs [`reconcile`] once (changes made while the service
/// was down), then watches the directory and reconciles after each debounced burst.
///
/// # Errors
/// The directory cannot be created or watched; the first [`reconcile`] fails.
pub fn spawn(engine: Arc<Engine>, errors: Arc<WatchErrors>) -> Result<Watcher> {
    let root = authored_dir(&engine);
    std::fs::create_dir_all(&root).map_err(|e| Error::Io {
        context: format!("cannot create {}", root.display()),
        source: e,
    })?;
    reconcile(&engine, &errors)?;
    let mut debouncer = new_debouncer(DEBOUNCE, None, move |res: DebounceEventResult| {
        match res {
            Ok(events) if events.is_empty() => return,
            Ok(_) => {}
            Err(es) => {
                for e in es {
                    tracing::warn!(error = %e, "file watcher error; rescanning");
                }
            }
        }
        if let Err(e) = reconcile(&engine, &errors) {
            tracing::error!(error = %e, "cannot apply the authored files");
        }
    })
    .map_err(|e| Error::Invalid(format!("cannot start the file watcher: {e}")))?;
    debouncer
        .watch(&root, RecursiveMode::Recursive)
        .map_err(|e| Error::Invalid(format!("cannot watch {}: {e}", root.display())))?;
    tracing::info!(dir = %root.display(), "watching authored files");
    Ok(Watcher { debouncer })
}
