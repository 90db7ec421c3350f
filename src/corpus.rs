//! The corpus: answer materials on disk, the source of truth the index is rebuilt from.
//!
//! Layout: `DATA_DIR/corpus/**/*.jsonl`, one [`Material`] per line. Each file is a
//! *collection* named by its path relative to `corpus/` without the extension
//! (`default/faq`, `imported/amagasaki`, `crawl/www.pref.example.jp`, `promoted`).
//! Writes replace a whole collection atomically (write to a temporary file, fsync, rename),
//! so a crash never leaves a half-written collection.
//!
//! Every write (a read-modify-write of one collection) holds the in-process mutex and an
//! exclusive advisory lock on `corpus/.lock` (`flock`), so two processes on one data
//! directory (a `kotae import` or `kotae crawl` beside a running `kotae serve`) never lose
//! each other's changes: each write re-reads the collection under the lock.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::material::{Material, MaterialError};

/// Errors of the corpus store.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// Reading or writing a file failed.
    #[error("corpus file {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line is not a valid material.
    #[error("corpus file {path} line {line}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A material failed validation.
    #[error(transparent)]
    Invalid(#[from] MaterialError),
    /// A collection name is not a relative path of plain components.
    #[error(
        "invalid collection name {0:?}: use letters and digits (any script), '.', '-', '_' and '/'"
    )]
    BadCollection(String),
}

/// The answer-material store under `DATA_DIR/corpus`.
#[derive(Debug)]
pub struct Corpus {
    root: PathBuf,
    write_lock: Mutex<()>,
}

/// Both write locks of the corpus (in-process mutex, then the `corpus/.lock` file lock).
struct WriteGuard<'a> {
    _mutex: std::sync::MutexGuard<'a, ()>,
    _file: fs::File,
}

/// The collection of corrections made through `PUT /api/materials/{id}`: it wins over
/// every other collection holding the same id (see [`Corpus::load_all`]).
pub const CORRECTIONS: &str = "corrections";
/// File below the corpus root listing retired material ids (`DELETE /api/materials/{id}`),
/// one a line: hidden from every collection, so a recrawl or rebuild does not bring them
/// back.
pub const RETIRED_FILE: &str = "retired.txt";

/// Name of the lock file below the corpus root.
pub const LOCK_FILE: &str = ".lock";

/// What an upsert changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UpsertStats {
    /// Materials that were not in the collection before.
    pub added: usize,
    /// Materials whose content changed.
    pub updated: usize,
    /// Materials identical to the stored version.
    pub unchanged: usize,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> CorpusError + '_ {
    move |source| CorpusError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Corpus {
    /// Opens (and creates if needed) the corpus directory `root`.
    ///
    /// # Errors
    /// [`CorpusError::Io`] when the directory cannot be created.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, CorpusError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(io_err(&root))?;
        Ok(Self {
            root,
            write_lock: Mutex::new(()),
        })
    }

    fn lock(&self) -> Result<WriteGuard<'_>, CorpusError> {
        let mutex = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let path = self.root.join(LOCK_FILE);
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        // Released when the file is closed (the guard is dropped).
        file.lock().map_err(io_err(&path))?;
        Ok(WriteGuard {
            _mutex: mutex,
            _file: file,
        })
    }

    /// Returns the corpus directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Returns the file of collection `name`.
    ///
    /// # Errors
    /// [`CorpusError::BadCollection`] for absolute names, `..`, empty components or other
    /// characters than letters, digits, `.`, `-`, `_` and `/`.
    pub fn collection_path(&self, name: &str) -> Result<PathBuf, CorpusError> {
        let ok = !name.is_empty()
            && !name.starts_with('/')
            && name.split('/').all(|c| {
                !c.is_empty()
                    && c != "."
                    && c != ".."
                    && c.chars()
                        .all(|ch| ch.is_alphanumeric() || matches!(ch, '.' | '-' | '_'))
            });
        if !ok {
            return Err(CorpusError::BadCollection(name.to_string()));
        }
        Ok(self.root.join(format!("{name}.jsonl")))
    }

    /// Lists the collection names, sorted.
    ///
    /// # Errors
    /// [`CorpusError::Io`] when a directory cannot be read.
    pub fn collections(&self) -> Result<Vec<String>, CorpusError> {
        let mut out = Vec::new();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
                let entry = entry.map_err(io_err(&dir))?;
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "jsonl")
                    && let Ok(rel) = path.strip_prefix(&self.root)
                {
                    let name = rel.with_extension("").to_string_lossy().replace('\\', "/");
                    out.push(name);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Reads collection `name`; a missing collection is empty. Ids are filled in where the
    /// file omits them.
    ///
    /// # Errors
    /// [`CorpusError::Parse`] for a line that is not a valid material (with its line number),
    /// [`CorpusError::Io`] when the file cannot be read.
    pub fn read_collection(&self, name: &str) -> Result<Vec<Material>, CorpusError> {
        let path = self.collection_path(name)?;
        read_jsonl(&path)
    }

    /// Loads every collection. Precedence when two collections hold the same id:
    /// [`CORRECTIONS`] wins over every other; among the others, the one sorted last wins.
    /// Ids listed in [`RETIRED_FILE`] are left out whatever collection holds them.
    ///
    /// # Errors
    /// As [`Corpus::read_collection`]; [`CorpusError::Io`] for an unreadable retired list.
    pub fn load_all(&self) -> Result<Vec<Material>, CorpusError> {
        let mut by_id: BTreeMap<String, Material> = BTreeMap::new();
        self.for_each(|m: Material| -> Result<(), CorpusError> {
            by_id.insert(m.id.clone(), m);
            Ok(())
        })?;
        Ok(by_id.into_values().collect())
    }

    /// Calls `f` with every material of every collection one at a time, in the order of
    /// [`Corpus::load_all`]'s precedence (other collections sorted by name, then
    /// [`CORRECTIONS`]; each in line order), retired ids left out: a caller that keeps only
    /// part of each material never holds the whole corpus. An id may come more than once;
    /// the last one wins, as in [`Corpus::load_all`].
    ///
    /// # Errors
    /// As [`Corpus::load_all`], or the first error of `f` (which stops the walk).
    pub fn for_each<E: From<CorpusError>>(
        &self,
        mut f: impl FnMut(Material) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut names = self.collections()?;
        names.sort_by_key(|n| (n == CORRECTIONS, n.clone()));
        let retired = self.retired()?;
        for name in names {
            let path = self.collection_path(&name)?;
            for_each_jsonl(&path, &mut |m: Material| {
                if retired.contains(&m.id) {
                    Ok(())
                } else {
                    f(m)
                }
            })?;
        }
        Ok(())
    }

    /// Returns the retired ids ([`RETIRED_FILE`]).
    ///
    /// # Errors
    /// [`CorpusError::Io`] when the file exists but cannot be read.
    pub fn retired(&self) -> Result<HashSet<String>, CorpusError> {
        let path = self.root.join(RETIRED_FILE);
        match fs::read_to_string(&path) {
            Ok(s) => Ok(s
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HashSet::new()),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    /// Adds `id` to the retired list (`retire`) or takes it off, atomically (temp file,
    /// fsync, rename) under the write locks.
    ///
    /// # Errors
    /// [`CorpusError::Io`].
    pub fn set_retired(&self, id: &str, retire: bool) -> Result<(), CorpusError> {
        let _guard = self.lock()?;
        let mut ids: Vec<String> = self.retired()?.into_iter().collect();
        let had = ids.iter().any(|i| i == id);
        if had == retire {
            return Ok(());
        }
        if retire {
            ids.push(id.to_string());
        } else {
            ids.retain(|i| i != id);
        }
        ids.sort();
        let path = self.root.join(RETIRED_FILE);
        let tmp = self.root.join(format!("{RETIRED_FILE}.tmp"));
        {
            let mut f = fs::File::create(&tmp).map_err(io_err(&tmp))?;
            for i in &ids {
                writeln!(f, "{i}").map_err(io_err(&tmp))?;
            }
            f.sync_all().map_err(io_err(&tmp))?;
        }
        fs::rename(&tmp, &path).map_err(io_err(&path))
    }

    /// Replaces collection `name` with `materials` atomically.
    ///
    /// # Errors
    /// [`CorpusError::Invalid`] if a material fails validation (nothing is written),
    /// [`CorpusError::Io`] on write failure (the old file stays).
    pub fn write_collection(&self, name: &str, materials: &[Material]) -> Result<(), CorpusError> {
        let _guard = self.lock()?;
        self.write_unlocked(name, materials)
    }

    fn write_unlocked(&self, name: &str, materials: &[Material]) -> Result<(), CorpusError> {
        for m in materials {
            m.validate()?;
        }
        let path = self.collection_path(name)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        let tmp = path.with_extension("jsonl.tmp");
        {
            let file = fs::File::create(&tmp).map_err(io_err(&tmp))?;
            let mut w = std::io::BufWriter::new(file);
            for m in materials {
                let line = serde_json::to_string(m).map_err(|e| CorpusError::Parse {
                    path: path.clone(),
                    line: 0,
                    message: e.to_string(),
                })?;
                w.write_all(line.as_bytes()).map_err(io_err(&tmp))?;
                w.write_all(b"\n").map_err(io_err(&tmp))?;
            }
            let file = w.into_inner().map_err(|e| CorpusError::Io {
                path: tmp.clone(),
                source: e.into_error(),
            })?;
            file.sync_all().map_err(io_err(&tmp))?;
        }
        fs::rename(&tmp, &path).map_err(io_err(&path))?;
        Ok(())
    }

    /// Adds or replaces `materials` (by id) in collection `name`, keeping the others.
    ///
    /// # Errors
    /// As [`Corpus::write_collection`]; on error the collection is unchanged.
    pub fn upsert(&self, name: &str, materials: Vec<Material>) -> Result<UpsertStats, CorpusError> {
        let _guard = self.lock()?;
        let mut current = read_jsonl(&self.collection_path(name)?)?;
        let mut stats = UpsertStats::default();
        let mut index: BTreeMap<String, usize> = current
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id.clone(), i))
            .collect();
        for mut m in materials {
            m.ensure_id();
            m.validate()?;
            match index.get(&m.id) {
                Some(&i) if current[i] == m => stats.unchanged += 1,
                Some(&i) => {
                    current[i] = m;
                    stats.updated += 1;
                }
                None => {
                    index.insert(m.id.clone(), current.len());
                    current.push(m);
                    stats.added += 1;
                }
            }
        }
        if stats.added + stats.updated > 0 {
            self.write_unlocked(name, &current)?;
        }
        Ok(stats)
    }

    /// Adds or replaces `upserts` and removes the materials with ids `remove_ids` from
    /// collection `name` in one atomic write (a page's new version replaces its old one as
    /// a whole). An id both upserted and removed is upserted. Returns the upsert counts and
    /// how many were removed.
    ///
    /// # Errors
    /// As [`Corpus::write_collection`]; on error the collection is unchanged.
    pub fn apply(
        &self,
        name: &str,
        upserts: Vec<Material>,
        remove_ids: &[String],
    ) -> Result<(UpsertStats, usize), CorpusError> {
        let _guard = self.lock()?;
        let mut current = read_jsonl(&self.collection_path(name)?)?;
        let keep: HashSet<&str> = upserts.iter().map(|m| m.id.as_str()).collect();
        let drop: HashSet<&str> = remove_ids
            .iter()
            .map(String::as_str)
            .filter(|id| !keep.contains(id))
            .collect();
        let before = current.len();
        current.retain(|m| !drop.contains(m.id.as_str()));
        let removed = before - current.len();
        let mut stats = UpsertStats::default();
        let mut index: BTreeMap<String, usize> = current
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id.clone(), i))
            .collect();
        for mut m in upserts {
            m.ensure_id();
            m.validate()?;
            match index.get(&m.id) {
                Some(&i) if current[i] == m => stats.unchanged += 1,
                Some(&i) => {
                    current[i] = m;
                    stats.updated += 1;
                }
                None => {
                    index.insert(m.id.clone(), current.len());
                    current.push(m);
                    stats.added += 1;
                }
            }
        }
        if stats.added + stats.updated + removed > 0 {
            self.write_unlocked(name, &current)?;
        }
        Ok((stats, removed))
    }

    /// Removes the materials with the given ids from collection `name`; returns how many
    /// were removed.
    ///
    /// # Errors
    /// As [`Corpus::write_collection`].
    pub fn remove(&self, name: &str, ids: &[String]) -> Result<usize, CorpusError> {
        let _guard = self.lock()?;
        let current = read_jsonl(&self.collection_path(name)?)?;
        let drop: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let before = current.len();
        let kept: Vec<Material> = current
            .into_iter()
            .filter(|m| !drop.contains(m.id.as_str()))
            .collect();
        let removed = before - kept.len();
        if removed > 0 {
            self.write_unlocked(name, &kept)?;
        }
        Ok(removed)
    }
}

/// Reads a JSON Lines file of materials; a missing file is empty. Blank lines are skipped.
///
/// # Errors
/// [`CorpusError::Parse`] with the 1-based line number, [`CorpusError::Io`].
pub fn read_jsonl(path: &Path) -> Result<Vec<Material>, CorpusError> {
    let mut out = Vec::new();
    for_each_jsonl(path, &mut |m| {
        out.push(m);
        Ok::<(), CorpusError>(())
    })?;
    Ok(out)
}

/// Calls `f` with each material of a JSON Lines file, in order (a missing file has none),
/// reading one line at a time into one reused buffer.
///
/// # Errors
/// As [`read_jsonl`], or the first error of `f`.
fn for_each_jsonl<E: From<CorpusError>>(
    path: &Path,
    f: &mut impl FnMut(Material) -> Result<(), E>,
) -> Result<(), E> {
    let file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(path)(e).into()),
    };
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    let mut i = 0usize;
    loop {
        line.clear();
        i += 1;
        if reader.read_line(&mut line).map_err(io_err(path))? == 0 {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let parse = |message: String| CorpusError::Parse {
            path: path.to_path_buf(),
            line: i,
            message,
        };
        let mut m: Material = serde_json::from_str(&line).map_err(|e| parse(e.to_string()))?;
        m.ensure_id();
        m.validate().map_err(|e| parse(e.to_string()))?;
        f(m)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::material::MaterialKind;

    fn m(source_id: &str, answer: &str) -> Material {
        Material {
            id: String::new(),
            source_id: source_id.into(),
            kind: MaterialKind::Faq,
            title: String::new(),
            question: Some(format!("質問{source_id}")),
            answer: Some(answer.into()),
            body: None,
            contact: None,
            source: "test".into(),
            url: None,
            department: None,
            category: None,
            tags: vec![],
            updated_at: chrono::DateTime::parse_from_rfc3339("2026-04-01T09:00:00+09:00").unwrap(),
            valid_from: None,
            valid_until: None,
        }
    }

    #[test]
    fn upsert_adds_updates_and_keeps_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let c = Corpus::open(dir.path().join("corpus")).unwrap();
        let s = c
            .upsert("imported/x", vec![m("1", "a"), m("2", "b")])
            .unwrap();
        assert_eq!((s.added, s.updated, s.unchanged), (2, 0, 0));
        let s = c
            .upsert("imported/x", vec![m("1", "a"), m("2", "changed")])
            .unwrap();
        assert_eq!((s.added, s.updated, s.unchanged), (0, 1, 1));
        let all = c.load_all().unwrap();
        assert_eq!(all.len(), 2);
        assert!(all.iter().any(|x| x.answer.as_deref() == Some("changed")));
        assert_eq!(c.collections().unwrap(), vec!["imported/x".to_string()]);
    }

    #[test]
    fn remove_deletes_only_named_ids() {
        let dir = tempfile::tempdir().unwrap();
        let c = Corpus::open(dir.path()).unwrap();
        c.upsert("a", vec![m("1", "a"), m("2", "b")]).unwrap();
        let id = c.read_collection("a").unwrap()[0].id.clone();
        assert_eq!(c.remove("a", std::slice::from_ref(&id)).unwrap(), 1);
        let left = c.read_collection("a").unwrap();
        assert_eq!(left.len(), 1);
        assert_ne!(left[0].id, id);
    }

    #[test]
    fn invalid_material_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let c = Corpus::open(dir.path()).unwrap();
        c.upsert("a", vec![m("1", "a")]).unwrap();
        let err = c.upsert("a", vec![m("2", "")]).unwrap_err();
        assert!(matches!(err, CorpusError::Invalid(_)), "{err}");
        assert_eq!(c.read_collection("a").unwrap().len(), 1);
    }

    #[test]
    fn bad_collection_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let c = Corpus::open(dir.path()).unwrap();
        for bad in [
            "",
            "../x",
            "/abs",
            "a//b",
            "a/./b",
            "a b",
            "国保\u{3000}FAQ",
            "a:b",
        ] {
            assert!(c.collection_path(bad).is_err(), "{bad}");
        }
        // Letters of any script are file-name safe and keep Japanese names readable.
        assert!(c.collection_path("imported/国保FAQ").is_ok());
    }

    #[test]
    fn parse_error_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let c = Corpus::open(dir.path()).unwrap();
        fs::write(dir.path().join("bad.jsonl"), "\n{not json}\n").unwrap();
        let err = c.load_all().unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }
}
