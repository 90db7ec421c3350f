//! `kotae backup DEST` and `kotae restore SRC`: a consistent copy of a data directory, taken
//! while the server runs, and its return.
//!
//! A backup directory holds:
//!
//! | path | what |
//! |---|---|
//! | `kotae.db` | the statistics database (inquiries, escalations, the search log, jobs), copied with SQLite's online backup API in one step: one read transaction, so it holds exactly the transactions committed before the copy began, whatever other processes write meanwhile |
//! | `corpus/`, `dictionaries/`, `crawl-state/` | copied file by file; kotae replaces each corpus collection by an atomic rename, so every file is one whole version |
//! | `config/kotae.toml` | the configuration file, if one was in use |
//! | `kotae-backup.json` | the manifest (format, kotae version, time, files, where the configuration came from), written last: a directory without it is an unfinished backup |
//!
//! `index/` is not copied: it is derived from `corpus/` and rebuilt by the first start after
//! a restore. Every inquiry acknowledged (`201`) before the backup started is in it, because
//! the acknowledgement follows the commit (`synchronous = FULL`).
//!
//! `restore` refuses a target that holds anything unless `force` (then it replaces the
//! corpus, dictionaries, crawl state and database there and removes the index); stop the
//! server first. It checks the manifest, every listed file and the database's
//! `PRAGMA integrity_check` before it touches the target.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use serde::{Deserialize, Serialize};

/// File name of the manifest.
pub const MANIFEST: &str = "kotae-backup.json";
/// Version of the backup layout described in the module docs.
pub const FORMAT: u32 = 1;
/// The data-directory subdirectories a backup copies.
pub const DIRS: [&str; 3] = ["corpus", "dictionaries", "crawl-state"];
/// File name of the database inside a backup.
pub const DATABASE: &str = "kotae.db";

/// The manifest (`kotae-backup.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: u32,
    /// The kotae version that wrote it.
    pub kotae_version: String,
    /// When the copy began (RFC 3339).
    pub started_at: String,
    /// Whether `kotae.db` is present (a data directory that never served has none).
    pub database: bool,
    /// Every copied file, relative to the backup directory, `/`-separated.
    pub files: Vec<String>,
    /// Where the configuration file was read from, if one was copied to `config/kotae.toml`.
    pub config_source: Option<String>,
    /// Whether that file was the data directory's own `kotae.toml` (restored there; a file
    /// from elsewhere, such as `/etc/kotae`, stays in the backup for the operator).
    #[serde(default)]
    pub config_in_data_dir: bool,
}

/// What a backup or restore copied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Files copied (the database included).
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
}

/// Where the data lives, as `serve` sees it.
#[derive(Debug, Clone)]
pub struct DataPaths {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The statistics database (`[stats] database`, default `DATA_DIR/kotae.db`).
    pub database: PathBuf,
    /// The configuration file in use, if any.
    pub config: Option<PathBuf>,
}

/// Copies `paths` into the new directory `dest` (absent or empty).
///
/// # Errors
/// `dest` not empty, an unreadable source, a database that cannot be copied, a full disk.
pub fn backup(paths: &DataPaths, dest: &Path) -> anyhow::Result<Report> {
    ensure!(
        paths.data_dir.is_dir(),
        "the data directory {} does not exist",
        paths.data_dir.display()
    );
    ensure!(
        is_empty_or_absent(dest)?,
        "the backup directory {} is not empty: give a new or empty directory",
        dest.display()
    );
    fs::create_dir_all(dest).with_context(|| format!("cannot create {}", dest.display()))?;
    let started_at = chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
    let mut report = Report::default();
    let mut files = Vec::new();

    // The database first: the promise is about inquiries acknowledged before the backup began.
    let database = paths.database.is_file();
    if database {
        let out = dest.join(DATABASE);
        copy_database(&paths.database, &out)?;
        report.files += 1;
        report.bytes += fs::metadata(&out)?.len();
        files.push(DATABASE.to_string());
    }
    for dir in DIRS {
        let from = paths.data_dir.join(dir);
        if from.is_dir() {
            copy_tree(&from, &dest.join(dir), dir, &mut files, &mut report)?;
        }
    }
    let config_source = match &paths.config {
        Some(c) if c.is_file() => {
            fs::create_dir_all(dest.join("config"))?;
            let bytes = fs::copy(c, dest.join("config/kotae.toml"))
                .with_context(|| format!("cannot copy the configuration {}", c.display()))?;
            report.files += 1;
            report.bytes += bytes;
            files.push("config/kotae.toml".to_string());
            Some(c.display().to_string())
        }
        _ => None,
    };
    let manifest = Manifest {
        format: FORMAT,
        kotae_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at,
        database,
        files,
        config_in_data_dir: paths
            .config
            .as_deref()
            .is_some_and(|c| c == paths.data_dir.join("kotae.toml")),
        config_source,
    };
    write_synced(&dest.join(MANIFEST), &serde_json::to_vec_pretty(&manifest)?)?;
    Ok(report)
}

/// Brings the backup `src` back into `paths` (see the module docs).
///
/// # Errors
/// `src` is not a finished kotae backup, a listed file is missing, its database fails the
/// integrity check, the target is not empty and `force` is off, or a copy fails.
pub fn restore(src: &Path, paths: &DataPaths, force: bool) -> anyhow::Result<Report> {
    let manifest = read_manifest(src)?;
    for f in &manifest.files {
        ensure!(
            src.join(f).is_file(),
            "the backup {} is incomplete: {f} is missing",
            src.display()
        );
    }
    if manifest.database {
        check_database(&src.join(DATABASE))?;
    }
    let target = &paths.data_dir;
    if !force {
        ensure!(
            is_empty_or_absent(target)? && !paths.database.exists(),
            "the data directory {} is not empty: restore into a new directory, or pass --force \
             to replace its corpus, dictionaries, crawl state, index and database (stop the \
             server first)",
            target.display()
        );
    }
    fs::create_dir_all(target).with_context(|| format!("cannot create {}", target.display()))?;
    if force {
        for dir in DIRS.iter().chain(&["index"]) {
            let d = target.join(dir);
            if d.exists() {
                fs::remove_dir_all(&d).with_context(|| format!("cannot remove {}", d.display()))?;
            }
        }
        for suffix in ["", "-wal", "-shm"] {
            let f = PathBuf::from(format!("{}{suffix}", paths.database.display()));
            if f.exists() {
                fs::remove_file(&f).with_context(|| format!("cannot remove {}", f.display()))?;
            }
        }
    }
    let mut report = Report::default();
    for f in &manifest.files {
        let to = if f == DATABASE {
            paths.database.clone()
        } else if f == "config/kotae.toml" {
            // A configuration from the data directory goes back there; one from elsewhere
            // (/etc/kotae) stays in the backup for the operator to compare.
            if !manifest.config_in_data_dir {
                continue;
            }
            target.join("kotae.toml")
        } else {
            target.join(f)
        };
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)?;
        }
        report.bytes += fs::copy(src.join(f), &to)
            .with_context(|| format!("cannot copy {f} to {}", to.display()))?;
        report.files += 1;
    }
    Ok(report)
}

/// Reads and checks `src/kotae-backup.json`.
///
/// # Errors
/// No manifest (not a backup, or an unfinished one), unreadable JSON, a newer format.
pub fn read_manifest(src: &Path) -> anyhow::Result<Manifest> {
    let path = src.join(MANIFEST);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "{} is not a kotae backup (no {MANIFEST}; an interrupted backup has none either)",
            src.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let m: Manifest = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a kotae backup manifest", path.display()))?;
    ensure!(
        m.format <= FORMAT,
        "the backup {} has format {}, newer than this kotae understands ({FORMAT})",
        src.display(),
        m.format
    );
    ensure!(
        m.files.iter().all(|f| is_safe_relative(f)),
        "the backup manifest {} lists a path outside the backup",
        path.display()
    );
    Ok(m)
}

/// Copies the database with the online backup API, all pages in one step (one read
/// transaction, so writers in other processes cannot make it restart or mix versions).
fn copy_database(from: &Path, to: &Path) -> anyhow::Result<()> {
    use rusqlite::{Connection, OpenFlags};
    let src = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open the database {}", from.display()))?;
    src.busy_timeout(std::time::Duration::from_secs(10))?;
    let mut dst =
        Connection::open(to).with_context(|| format!("cannot create {}", to.display()))?;
    {
        use rusqlite::backup::{Backup, StepResult};
        let b = Backup::new(&src, &mut dst)?;
        // -1: every page in one step. A writer holding the lock makes the step answer Busy:
        // wait and retry, for at most about a minute.
        let mut waits = 0;
        loop {
            match b
                .step(-1)
                .with_context(|| format!("cannot copy the database {}", from.display()))?
            {
                StepResult::Done => break,
                StepResult::More => {}
                _ if waits < 1200 => {
                    waits += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                _ => bail!("the database {} stayed locked for a minute", from.display()),
            }
        }
    }
    // The copy is a standalone file: no WAL beside it.
    dst.pragma_update(None, "journal_mode", "DELETE")?;
    drop(dst);
    fs::File::open(to)?.sync_all()?;
    Ok(())
}

/// `PRAGMA integrity_check` on a backup's database.
fn check_database(path: &Path) -> anyhow::Result<()> {
    use rusqlite::{Connection, OpenFlags};
    let c = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let verdict: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .with_context(|| format!("{} is not an SQLite database", path.display()))?;
    ensure!(
        verdict == "ok",
        "the database in the backup is damaged ({}): {verdict}",
        path.display()
    );
    Ok(())
}

fn copy_tree(
    from: &Path,
    to: &Path,
    rel: &str,
    files: &mut Vec<String>,
    report: &mut Report,
) -> anyhow::Result<()> {
    fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let mut entries: Vec<_> = fs::read_dir(from)
        .with_context(|| format!("cannot read {}", from.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        let Some(name_str) = name.to_str() else {
            bail!("{} has a file name that is not UTF-8", e.path().display());
        };
        // Temporary files of an atomic replace in progress are not part of the data.
        if name_str.ends_with(".tmp") {
            continue;
        }
        let rel = format!("{rel}/{name_str}");
        let ty = e.file_type()?;
        if ty.is_dir() {
            copy_tree(&e.path(), &to.join(&name), &rel, files, report)?;
        } else if ty.is_file() {
            match fs::copy(e.path(), to.join(&name)) {
                Ok(n) => {
                    report.bytes += n;
                    report.files += 1;
                    files.push(rel);
                }
                // Removed between the listing and the copy (a collection replaced): its
                // successor, if any, is listed under its own name.
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => {
                    return Err(err).with_context(|| format!("cannot copy {}", e.path().display()));
                }
            }
        }
    }
    Ok(())
}

fn is_empty_or_absent(dir: &Path) -> anyhow::Result<bool> {
    match fs::read_dir(dir) {
        Ok(mut it) => Ok(it.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

fn is_safe_relative(p: &str) -> bool {
    let p = Path::new(p);
    p.is_relative()
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

fn write_synced(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut f =
        fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}
