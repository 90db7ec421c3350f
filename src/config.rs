//! Configuration: an optional TOML file, overridden by environment variables, overridden by
//! command-line flags (the precedence of Meilisearch's `Opt`). Flags and variables are
//! declared in `src/main.rs` (`#[arg(long, env = "KOTAE_…")]`); this module reads the file.
//!
//! The file is `--config FILE` / `KOTAE_CONFIG`, else `DATA_DIR/kotae.toml` when present:
//!
//! ```toml
//! addr = "127.0.0.1:7700"     # serve: listen address
//! search_workers = 2           # serve: searches running at once (default: CPU cores)
//! search_queue = 64            # serve: searches waiting before the API answers 503
//! search_threads = 2           # serve: threads one search's ranking may use (default: CPU
//!                              #   cores, fewer when other searches keep them busy; 1: one)
//! watch_dictionaries = true    # serve: reload dictionaries on change (else on SIGHUP only)
//!
//! # SIGHUP re-reads this file: tokens, [http] allowed_hosts, cors_origins and the three
//! # limits, [stats] categories, earliest_received_at, escalation_due_hours and retention
//! # take effect at once, and the dictionaries reload; the other keys need a restart.
//! [stats]
//! contact_retention_days = 30  # caller contact details on open escalations
//! search_log_retention_days = 365  # search-log records (0: kept)
//! summary_retention_days = 365     # inquiry summaries (0: kept)
//! synchronous = "full"         # or "normal"
//! categories = ["国保", "税", "ごみ"]  # inquiry categories; unset: any
//! earliest_received_at = "2000-01-01" # inquiries received before are refused
//!
//! [http]
//! allowed_hosts = ["kotae.example.lg.jp"]  # Host names besides IPs and localhost
//! cors_origins = []                          # origins allowed cross-origin (CORS off)
//! header_read_timeout_secs = 10  # request head (and keep-alive idle) time limit
//! max_connections = 1024         # connections served at once (more wait in the backlog)
//! shutdown_timeout_secs = 10     # SIGTERM/Ctrl-C: wait for requests in flight, then exit
//!
//! [log]                        # crate::telemetry
//! format = "text"              # or "json"
//! access = true                # one access line per request at info
//!
//! [learn]                      # crate::learn: learning from answered inquiries
//! enabled = true               # false: nothing learned or served
//! weight = 1.0                 # the learned group's multiplier (k1, b, min_coverage,
//! min_similarity = 0.15        #   content_overlap too; see crate::search::learned)
//!
//! [hooks.cms]                  # POST /api/hooks/cms (KOTAE_CMS_SECRET overrides)
//! secret = "…"                 # shared with the CMS; HMAC-SHA256 key
//!
//! [[auth.tokens]]
//! role = "operator"            # operator | department | manager | admin
//! token_sha256 = "…"           # hex SHA-256 of the token (or token = "…")
//!
//! [[auth.tokens]]
//! role = "department"
//! department = "健康福祉部 国保医療課"
//! token_sha256 = "…"
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
    /// Searches running at once (default: the number of CPU cores).
    pub search_workers: Option<usize>,
    /// Searches waiting for a worker before the API answers `503 busy` (default 64).
    pub search_queue: Option<usize>,
    /// Threads one search's top-k ranking may use over an index of two segments or more and
    /// at least [`crate::search::maxscore::PARALLEL_MIN_DOCS`] documents (default: the CPU
    /// cores; never more than the cores no other search is ranking on; 1: one thread).
    pub search_threads: Option<usize>,
    /// Whether `serve` watches `DATA_DIR/dictionaries/` and reloads the dictionaries when
    /// they change (default true); off, only SIGHUP reloads them (for file systems without
    /// change events, such as some network mounts).
    pub watch_dictionaries: Option<bool>,
    /// Replaced by `search_workers` and `search_queue`: refused with a message saying so
    /// (its meaning, "in flight at once", was never enforced).
    #[doc(hidden)]
    pub search_permits: Option<toml::Value>,
    /// Bearer tokens (`[[auth.tokens]]`).
    #[serde(default)]
    pub auth: Option<AuthConfig>,
    /// Statistics store settings (`[stats]`).
    #[serde(default)]
    pub stats: Option<StatsConfig>,
    /// Browser-facing checks (`[http]`).
    #[serde(default)]
    pub http: Option<HttpConfig>,
    /// Crawler settings and sources (read by `crawl::CrawlConfig::from_table`).
    #[serde(default)]
    pub crawl: Option<toml::Table>,
    /// Webhooks (`[hooks.cms]`).
    #[serde(default)]
    pub hooks: Option<HooksConfig>,
    /// Logs (`[log]`, [`crate::telemetry::LogConfig`]).
    #[serde(default)]
    pub log: Option<crate::telemetry::LogConfig>,
    /// Outbound escalation notifications (`[notify]`).
    #[serde(default)]
    pub notify: Option<NotifyConfig>,
    /// Learning from answered inquiries (`[learn]`, [`crate::learn::LearnConfig`]).
    #[serde(default)]
    pub learn: Option<crate::learn::LearnConfig>,
}

/// `[notify]`: the signed webhook sent on escalation opened / answered / reassigned /
/// overdue (see `crate::notify`). `KOTAE_NOTIFY_SECRET` overrides `secret`; with neither, or
/// with no URL at all, nothing is sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// The HMAC-SHA256 key shared with the receivers (at least 16 bytes).
    pub secret: Option<String>,
    /// URL for departments without their own.
    pub url: Option<String>,
    /// Department name → URL (a 課's URL also serves its 係s).
    #[serde(default)]
    pub departments: std::collections::BTreeMap<String, String>,
    /// Attempts before a notification fails (default 8).
    pub max_attempts: Option<u32>,
    /// Wait after the first failed attempt, milliseconds, doubled after each further one
    /// (default 30000, at most one hour).
    pub retry_base_ms: Option<u64>,
}

/// `[hooks]`: incoming webhooks.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HooksConfig {
    /// The CMS approval webhook (`POST /api/hooks/cms`).
    #[serde(default)]
    pub cms: Option<CmsHookConfig>,
}

/// `[hooks.cms]`: the CMS approval webhook. `KOTAE_CMS_SECRET` overrides `secret`; with
/// neither, the route answers 404 `hook_not_configured`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CmsHookConfig {
    /// The secret shared with the CMS (HMAC-SHA256 key; at least 16 bytes).
    pub secret: Option<String>,
    /// Attempts per page before it fails (default 5).
    pub max_attempts: Option<u32>,
    /// Wait after a page's first failed fetch, milliseconds, doubled after each further
    /// failure (default 2000).
    pub retry_base_ms: Option<u64>,
}

/// `[http]`: the browser-facing checks of `http::guard`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Host names the server answers for besides IP literals and `localhost` (DNS
    /// rebinding protection); empty: any name when tokens are configured, else none.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Origins (`https://portal.example.lg.jp`) allowed to call the API from a browser
    /// (CORS); empty: CORS off.
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// Seconds a connection may take to send a request head, counted from when the server
    /// starts waiting for one, so also the idle time allowed between keep-alive requests
    /// (default 10; `http::serve`).
    pub header_read_timeout_secs: Option<u64>,
    /// Connections served at once; further ones wait in the listen backlog (default 1024).
    pub max_connections: Option<usize>,
    /// Seconds `serve` waits, after SIGTERM or Ctrl-C, for requests in flight before it
    /// closes the remaining connections and exits (default 10).
    pub shutdown_timeout_secs: Option<u64>,
}

/// `[auth]`: the bearer tokens; with none, `serve` listens on loopback only.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Tokens, each `{role, token | token_sha256, department?}`.
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
}

/// One `[[auth.tokens]]` entry. Prefer `token_sha256` (hex SHA-256 of the token) so that the
/// file holds no secret; a plain `token` is hashed when read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// `operator`, `department`, `manager` or `admin`.
    pub role: String,
    /// Department, for the `department` role.
    pub department: Option<String>,
    /// The token in plain text.
    pub token: Option<String>,
    /// The hex SHA-256 of the token.
    pub token_sha256: Option<String>,
}

/// `[stats]`: the inquiry and search-log store.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsConfig {
    /// Database file (default `DATA_DIR/kotae.db`).
    pub database: Option<PathBuf>,
    /// `full` (default; durable across power loss) or `normal` (durable across crashes).
    pub synchronous: Option<String>,
    /// Days after which caller contact details on open escalations are deleted (default 30).
    pub contact_retention_days: Option<u32>,
    /// Days after which search-log records are deleted (default 365; 0 keeps them).
    pub search_log_retention_days: Option<u32>,
    /// Days after which inquiry summaries are deleted (default 365; 0 keeps them).
    pub summary_retention_days: Option<u32>,
    /// The earliest JST date an inquiry's `received_at` may name (default 2000-01-01).
    pub earliest_received_at: Option<chrono::NaiveDate>,
    /// Capacity of the search-log queue, in records (default 10,000).
    pub search_log_queue: Option<usize>,
    /// The centre's inquiry categories (分類); when set, an inquiry's `category` must be
    /// one of them (compared after width, space and old-kanji normalisation).
    pub categories: Option<Vec<String>>,
    /// Hours after which an open escalation is overdue (default 72): shown in the
    /// escalation list and metrics, and notified once (`[notify]`).
    pub escalation_due_hours: Option<u32>,
}

impl FileConfig {
    /// Reads `path`.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the file for unreadable or malformed TOML, unknown keys
    /// and the retired `search_permits`.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Invalid(format!("cannot read config file {}: {e}", path.display()))
        })?;
        let c: Self = toml::from_str(&text)
            .map_err(|e| Error::Invalid(format!("config file {}: {e}", path.display())))?;
        if c.search_permits.is_some() {
            return Err(Error::Invalid(format!(
                "config file {}: `search_permits` is replaced by `search_workers` (searches \
                 running at once, default: the number of CPU cores) and `search_queue` \
                 (searches waiting before the API answers 503, default 64)",
                path.display()
            )));
        }
        Ok(c)
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
    fn the_readme_example_configuration_parses() {
        let readme = include_str!("../README.md");
        let start = readme.find("```toml\naddr = ").expect("README example") + 8;
        let end = start + readme[start..].find("```").unwrap();
        let c: FileConfig = toml::from_str(&readme[start..end]).unwrap();
        let n = c.notify.unwrap();
        assert_eq!(n.max_attempts, Some(8));
        assert!(n.departments.contains_key("健康福祉部 国保医療課"));
        assert_eq!(c.stats.unwrap().escalation_due_hours, Some(72));
    }

    #[test]
    fn unknown_keys_are_errors_with_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kotae.toml");
        std::fs::write(&p, "adr = \"x\"\n").unwrap();
        let e = FileConfig::read(&p).unwrap_err().to_string();
        assert!(e.contains("kotae.toml") && e.contains("adr"), "{e}");
        std::fs::write(
            &p,
            "addr = \"127.0.0.1:9\"\n[stats]\ncontact_retention_days = 7\n\
             [[auth.tokens]]\nrole = \"manager\"\ntoken = \"0123456789abcdef\"\n",
        )
        .unwrap();
        let c = FileConfig::read(&p).unwrap();
        assert_eq!(c.stats.unwrap().contact_retention_days, Some(7));
        assert_eq!(c.auth.unwrap().tokens[0].role, "manager");
        std::fs::write(&p, "search_permits = 256\n").unwrap();
        let e = FileConfig::read(&p).unwrap_err().to_string();
        assert!(
            e.contains("search_workers") && e.contains("search_queue"),
            "{e}"
        );
        std::fs::write(&p, "search_workers = 3\nsearch_queue = 0\n").unwrap();
        let c = FileConfig::read(&p).unwrap();
        assert_eq!((c.search_workers, c.search_queue), (Some(3), Some(0)));
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
