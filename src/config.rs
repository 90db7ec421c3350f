//! Configuration: an optional TOML file, overridden by environment variables, overridden by
//! command-line flags (the precedence of Meilisearch's `Opt`). Flags and variables are
//! declared in `src/main.rs` (`#[arg(long, env = "KOTAE_…")]`); this module reads the file.
//!
//! The file is `--config FILE` / `KOTAE_CONFIG`, else `DATA_DIR/kotae.toml` when present:
//!
//! ```toml
//! addr = "127.0.0.1:7700"     # serve: listen address
//! search_permits = 256         # serve: concurrent searches before 503
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// Values read from the configuration file (all optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Data directory.
    pub data_dir: Option<PathBuf>,
    /// Listen address of `serve`.
    pub addr: Option<String>,
    /// Concurrent searches before 503.
    pub search_permits: Option<usize>,
    /// Everything under `[auth]`, `[stats]`, `[crawl]` is read by those modules.
    #[serde(default)]
    pub auth: Option<toml::Table>,
    /// Statistics store settings.
    #[serde(default)]
    pub stats: Option<toml::Table>,
    /// Crawler settings and sources (read by `crawl::CrawlConfig::from_table`).
    #[serde(default)]
    pub crawl: Option<toml::Table>,
}

impl FileConfig {
    /// Reads `path`.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the file for unreadable or malformed TOML or unknown keys.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Invalid(format!("cannot read config file {}: {e}", path.display()))
        })?;
        toml::from_str(&text)
            .map_err(|e| Error::Invalid(format!("config file {}: {e}", path.display())))
    }

    /// Reads `explicit` if given, else `data_dir/kotae.toml` if it exists, else defaults.
    ///
    /// # Errors
    /// As [`FileConfig::read`].
    pub fn discover(explicit: Option<&Path>, data_dir: &Path) -> Result<Self> {
        match explicit {
            Some(p) => Self::read(p),
            None => {
                let p = data_dir.join("kotae.toml");
                if p.exists() {
                    Self::read(&p)
                } else {
                    Ok(Self::default())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_errors_with_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kotae.toml");
        std::fs::write(&p, "adr = \"x\"\n").unwrap();
        let e = FileConfig::read(&p).unwrap_err().to_string();
        assert!(e.contains("kotae.toml") && e.contains("adr"), "{e}");
        std::fs::write(&p, "addr = \"127.0.0.1:9\"\n").unwrap();
        assert_eq!(
            FileConfig::discover(None, dir.path())
                .unwrap()
                .addr
                .as_deref(),
            Some("127.0.0.1:9")
        );
    }
}
