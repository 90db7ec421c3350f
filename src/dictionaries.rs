//! Dictionaries without restart: `DATA_DIR/dictionaries/synonyms.txt` and `user_dict.csv`,
//! watched while `kotae serve` runs.
//!
//! [`Dictionaries::reload_dictionaries`] is the one entry point (the watcher calls it after
//! each debounced burst of events in `dictionaries/`; a SIGHUP handler may call it too):
//! - `synonyms.txt` is re-read and replaces the live analyzer's synonym table (synonyms
//!   apply at query time, so the next search uses them; no reindex).
//! - `user_dict.csv`, when its content changed since it was last loaded, changes the
//!   analysis itself: a new analyzer is built and a full rebuild is started in the
//!   background with it ([`Engine::start_rebuild`]); searches keep being answered from the
//!   old index and analyzer until the new generation is swapped in.
//!
//! A line that does not parse is skipped and reported (file, line, reason) in
//! [`Dictionaries::errors`], shown by `GET /api/status` as `dictionary_errors`. A file that
//! cannot be read at all, or a user dictionary lindera cannot build, keeps the dictionary
//! in use and is reported the same way (line 0). A missing file means the built-in one.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, new_debouncer};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::analysis::{Analyzer, Synonyms, dictionary, synonyms::BUILTIN_SYNONYMS};
use crate::engine::Engine;
use crate::error::{Error, Result};

/// Quiet time after the last event of a burst before the dictionaries are reloaded.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// A dictionary problem: `line` 0 for the whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DictionaryError {
    /// `synonyms.txt` or `user_dict.csv`.
    pub file: String,
    /// 1-based line, 0 for the file.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// What one reload did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReloadReport {
    /// Synonym groups now in use (`None`: the old table was kept).
    pub synonym_groups: Option<usize>,
    /// The rebuild started for a changed user dictionary (its job id).
    pub rebuild_job: Option<String>,
    /// Problems found (also in [`Dictionaries::errors`]).
    pub errors: Vec<DictionaryError>,
}

/// The dictionaries of one engine's data directory (see the module docs).
#[derive(Debug)]
pub struct Dictionaries {
    engine: Arc<Engine>,
    dir: PathBuf,
    /// SHA-256 of the user dictionary the live analyzer was built from (`None`: built-in).
    user_dict_hash: Mutex<Option<[u8; 32]>>,
    errors: Mutex<Vec<DictionaryError>>,
}

fn read_optional(path: &std::path::Path) -> std::io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl Dictionaries {
    /// The dictionaries of `engine`'s data directory, taking the files on disk now as the
    /// ones the engine was opened with (their bad lines are reported at once).
    pub fn new(engine: Arc<Engine>) -> Self {
        let dir = engine.data_dir().join("dictionaries");
        let csv = read_optional(&dir.join("user_dict.csv")).ok().flatten();
        let this = Self {
            engine,
            dir,
            user_dict_hash: Mutex::new(csv.as_deref().map(hash)),
            errors: Mutex::new(Vec::new()),
        };
        let mut errs = Vec::new();
        if let Some(csv) = &csv {
            errs.extend(user_dict_line_errors(csv));
        }
        if let Ok(Some(text)) = read_optional(&this.dir.join("synonyms.txt")) {
            errs.extend(synonym_line_errors(&text));
        }
        *this.errors.lock().unwrap_or_else(|e| e.into_inner()) = errs;
        this
    }

    /// Returns the current dictionary problems.
    pub fn errors(&self) -> Vec<DictionaryError> {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reloads both dictionaries (see the module docs). Never fails: problems are in the
    /// report and in [`Dictionaries::errors`], and the dictionaries in use stay then.
    pub fn reload_dictionaries(&self) -> ReloadReport {
        let mut report = ReloadReport::default();
        let syn_path = self.dir.join("synonyms.txt");
        match read_optional(&syn_path) {
            Ok(text) => {
                let text = text.as_deref().unwrap_or(BUILTIN_SYNONYMS);
                let (table, _) = Synonyms::parse(text);
                report.errors.extend(synonym_line_errors(text));
                report.synonym_groups = Some(table.len());
                self.engine.analyzer().set_synonyms(table);
            }
            Err(e) => report
                .errors
                .push(file_error("synonyms.txt", &e.to_string())),
        }
        let csv_path = self.dir.join("user_dict.csv");
        match read_optional(&csv_path) {
            Err(e) => report
                .errors
                .push(file_error("user_dict.csv", &e.to_string())),
            Ok(csv) => {
                if let Some(csv) = &csv {
                    report.errors.extend(user_dict_line_errors(csv));
                }
                let h = csv.as_deref().map(hash);
                let mut cur = self
                    .user_dict_hash
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                if *cur != h {
                    match Analyzer::load(&self.dir) {
                        Ok(a) => match self.engine.start_rebuild(Some(Arc::new(a)), "user_dict") {
                            Ok(status) => {
                                tracing::info!(job = %status.id, "user dictionary changed: rebuilding the index in the background");
                                report.rebuild_job = Some(status.id);
                                *cur = h;
                            }
                            Err(e) => report.errors.push(file_error(
                                "user_dict.csv",
                                &format!("cannot start the rebuild: {e}"),
                            )),
                        },
                        Err(e) => report.errors.push(file_error(
                            "user_dict.csv",
                            &format!("cannot build the user dictionary, the old one stays: {e}"),
                        )),
                    }
                }
            }
        }
        for e in &report.errors {
            tracing::warn!(file = %e.file, line = e.line, reason = %e.reason, "dictionary problem");
        }
        *self.errors.lock().unwrap_or_else(|e| e.into_inner()) = report.errors.clone();
        report
    }
}

fn hash(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

fn file_error(file: &str, reason: &str) -> DictionaryError {
    DictionaryError {
        file: file.into(),
        line: 0,
        reason: reason.into(),
    }
}

fn user_dict_line_errors(csv: &str) -> Vec<DictionaryError> {
    dictionary::validate_user_dict(csv)
        .1
        .into_iter()
        .map(|(line, reason)| DictionaryError {
            file: "user_dict.csv".into(),
            line,
            reason,
        })
        .collect()
}

fn synonym_line_errors(text: &str) -> Vec<DictionaryError> {
    Synonyms::parse(text)
        .1
        .into_iter()
        .map(|(line, reason)| DictionaryError {
            file: "synonyms.txt".into(),
            line,
            reason,
        })
        .collect()
}

/// A running dictionary watcher; dropping it stops watching.
pub struct DictionaryWatcher {
    _debouncer: notify_debouncer_full::Debouncer<
        notify::RecommendedWatcher,
        notify_debouncer_full::RecommendedCache,
    >,
}

impl std::fmt::Debug for DictionaryWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DictionaryWatcher").finish_non_exhaustive()
    }
}

/// Creates `dictionaries/` if needed and calls [`Dictionaries::reload_dictionaries`] after
/// each debounced burst of events in it.
///
/// # Errors
/// The directory cannot be created or watched.
pub fn watch(dicts: Arc<Dictionaries>) -> Result<DictionaryWatcher> {
    let dir = dicts.dir.clone();
    std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
        context: format!("cannot create {}", dir.display()),
        source: e,
    })?;
    let mut debouncer = new_debouncer(DEBOUNCE, None, move |res: DebounceEventResult| {
        let relevant = match res {
            Ok(events) => events.iter().any(|e| {
                e.paths.iter().any(|p| {
                    p.file_name()
                        .is_some_and(|n| n == "synonyms.txt" || n == "user_dict.csv")
                })
            }),
            Err(_) => true,
        };
        if relevant {
            dicts.reload_dictionaries();
        }
    })
    .map_err(|e| Error::Invalid(format!("cannot start the dictionary watcher: {e}")))?;
    debouncer
        .watch(&dir, RecursiveMode::NonRecursive)
        .map_err(|e| Error::Invalid(format!("cannot watch {}: {e}", dir.display())))?;
    tracing::info!(dir = %dir.display(), "watching dictionaries");
    Ok(DictionaryWatcher {
        _debouncer: debouncer,
    })
}
