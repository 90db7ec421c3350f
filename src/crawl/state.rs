//! Persistent crawl state, one JSON file per host under `DATA_DIR/crawl-state/`, written
//! atomically (temporary file, fsync, rename) at every checkpoint.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::CrawlError;

/// What became of a fetched page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "target")]
pub enum PageStatus {
    /// Materials extracted and stored.
    Indexed,
    /// `noindex`: known but not stored.
    Noindex,
    /// Same content as another URL (stored once, under that URL).
    Duplicate(String),
    /// `<link rel="canonical">` names another URL.
    Canonical(String),
}

/// The state of one fetched page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageState {
    /// What became of the page.
    #[serde(flatten)]
    pub status: PageStatus,
    /// `ETag` of the last 200 response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// `Last-Modified` of the last 200 response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// First 16 hex digits of SHA-256 of the body.
    pub hash: String,
    /// Ids of the materials stored for this page.
    #[serde(default)]
    pub material_ids: Vec<String>,
    /// In-scope links found on the page (normalized), followed on recrawls without a refetch.
    #[serde(default)]
    pub links: Vec<String>,
    /// When the page was last fetched (200 or 304).
    pub fetched_at: DateTime<Utc>,
    /// Link depth at which the page was found.
    pub depth: u32,
}

/// A URL that was not stored, with the reason (a redirect, a failure, a skip).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Note {
    /// Why (e.g. `timeout`, `body over max_body_bytes`, `redirect loop`, `http 404`).
    pub reason: String,
    /// A redirect or canonical target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The crawl state of one host.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HostState {
    /// Start of the current (or last) run.
    #[serde(default)]
    pub run_started_at: Option<DateTime<Utc>>,
    /// Whether the last run finished; `false` after a killed crawl (the next run resumes).
    #[serde(default)]
    pub run_finished: bool,
    /// Fetched pages by normalized URL.
    #[serde(default)]
    pub pages: BTreeMap<String, PageState>,
    /// URLs not stored and why.
    #[serde(default)]
    pub notes: BTreeMap<String, Note>,
    /// Linked documents (PDF, Office) known but not indexed, with the page linking them.
    #[serde(default)]
    pub documents: BTreeMap<String, String>,
}

impl HostState {
    /// Returns the path of host `key`'s state file under `dir`.
    pub fn path(dir: &Path, key: &str) -> PathBuf {
        dir.join(format!("{key}.json"))
    }

    /// Loads host `key`'s state; a missing file is an empty state.
    ///
    /// # Errors
    /// [`CrawlError::Io`] when the file cannot be read, [`CrawlError::State`] when it is
    /// not valid state JSON.
    pub fn load(dir: &Path, key: &str) -> Result<Self, CrawlError> {
        let path = Self::path(dir, key);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| CrawlError::State {
                path,
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(CrawlError::Io { path, source }),
        }
    }

    /// Writes host `key`'s state atomically.
    ///
    /// # Errors
    /// [`CrawlError::Io`] on write failure (the old file stays).
    pub fn save(&self, dir: &Path, key: &str) -> Result<(), CrawlError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CrawlError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = Self::path(dir, key);
        let tmp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec(self).map_err(|e| CrawlError::State {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = HostState::default();
        s.pages.insert(
            "http://h/a".into(),
            PageState {
                status: PageStatus::Canonical("http://h/b".into()),
                etag: Some("\"x\"".into()),
                last_modified: None,
                hash: "00".into(),
                material_ids: vec![],
                links: vec!["http://h/c".into()],
                fetched_at: Utc::now(),
                depth: 1,
            },
        );
        s.save(dir.path(), "h").unwrap();
        let back = HostState::load(dir.path(), "h").unwrap();
        assert_eq!(
            back.pages["http://h/a"].status,
            PageStatus::Canonical("http://h/b".into())
        );
        assert!(
            HostState::load(dir.path(), "none")
                .unwrap()
                .pages
                .is_empty()
        );
    }
}
