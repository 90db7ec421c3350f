//! Crawl configuration: the `[crawl]` table of the configuration file.
//!
//! ```toml
//! [crawl]
//! user_agent = "kotae-crawler/0.1 (+https://www.pref.example.jp/kotae.html)"
//! concurrency = 4
//! delay_ms = 1000                 # per host; robots.txt Crawl-delay wins when larger
//! timeout_ms = 15000
//! max_body_bytes = 10485760
//! recrawl_interval_secs = 86400
//! pdf = true                      # index linked PDFs through poppler's pdftotext
//! pdftotext = "pdftotext"         # program name on PATH, or a path
//! pdf_timeout_ms = 30000          # the pdftotext child is killed after this long
//! pdf_max_bytes = 20971520        # larger PDFs are skipped (body over the limit)
//!
//! [[crawl.source]]
//! seeds = ["https://www.pref.example.jp/"]
//! sitemaps = ["https://www.pref.example.jp/sitemap.xml"]
//! allowed_hosts = ["www.pref.example.jp"]
//! path_prefixes = ["/soshiki/", "/faq/"]
//! include = []
//! exclude = ['/event/calendar/', '[?&]page=\d+']
//! max_depth = 8
//! max_pages = 20000
//! ```

use regex::Regex;
use serde::Deserialize;
use url::Url;

use super::CrawlError;
use super::url::parse_normalized;

/// Settings of a crawl (all optional in the file; defaults are polite).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CrawlConfig {
    /// `User-Agent` header; its first token is the name matched in robots.txt.
    pub user_agent: String,
    /// Concurrent requests (all hosts together).
    pub concurrency: usize,
    /// Minimum delay between two requests to one host, in milliseconds.
    pub delay_ms: u64,
    /// Timeout of one request (connect, headers and body), in milliseconds.
    pub timeout_ms: u64,
    /// Larger bodies are skipped, in bytes.
    pub max_body_bytes: u64,
    /// Redirects followed per request.
    pub max_redirects: usize,
    /// Link depth from the seeds (seeds and sitemap entries are depth 0).
    pub max_depth: u32,
    /// Requests per source and run.
    pub max_pages: usize,
    /// A page fetched less than this many seconds ago is not fetched again.
    pub recrawl_interval_secs: u64,
    /// Corpus and state are written after this many pages (and at the end)…
    pub checkpoint_pages: usize,
    /// …but not more often than this, in milliseconds (each checkpoint rewrites the host's
    /// corpus collection); at least every 30 s.
    pub checkpoint_min_interval_ms: u64,
    /// Obey robots.txt (on by default; turn off only for your own sites).
    pub respect_robots: bool,
    /// Fetch linked PDFs and index their text as `page` materials (needs `pdftotext`, from
    /// poppler-utils; without it the crawl warns and records PDFs as skipped).
    pub pdf: bool,
    /// The `pdftotext` program: a name looked up on `PATH`, or a path.
    pub pdftotext: String,
    /// A `pdftotext` run longer than this is killed and the PDF recorded as unreadable, in
    /// milliseconds.
    pub pdf_timeout_ms: u64,
    /// Larger PDFs are skipped (`body over max_body_bytes` in the report), in bytes. Their
    /// text is kept up to `max_body_bytes` (and under the 4 MiB material limit).
    pub pdf_max_bytes: u64,
    /// The sites to crawl.
    #[serde(rename = "source")]
    pub sources: Vec<SourceConfig>,
}

impl Default for CrawlConfig {
    fn default() -> Self {
        Self {
            user_agent: concat!("kotae-crawler/", env!("CARGO_PKG_VERSION")).to_string(),
            concurrency: 4,
            delay_ms: 1000,
            timeout_ms: 15_000,
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            max_depth: 10,
            max_pages: 50_000,
            recrawl_interval_secs: 24 * 3600,
            checkpoint_pages: 50,
            checkpoint_min_interval_ms: 2000,
            respect_robots: true,
            pdf: true,
            pdftotext: "pdftotext".into(),
            pdf_timeout_ms: 30_000,
            pdf_max_bytes: 20 * 1024 * 1024,
            sources: Vec::new(),
        }
    }
}

/// One site (or group of hosts) to crawl.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourceConfig {
    /// Start URLs.
    pub seeds: Vec<String>,
    /// Sitemap URLs (sitemap indexes are followed); robots.txt `Sitemap:` lines are added.
    pub sitemaps: Vec<String>,
    /// Hosts that may be crawled; default: the seeds' hosts.
    pub allowed_hosts: Vec<String>,
    /// Path prefixes that may be crawled; default: all.
    pub path_prefixes: Vec<String>,
    /// Regular expressions: when any is given, a URL must match one.
    pub include: Vec<String>,
    /// Regular expressions: a URL matching one is not crawled.
    pub exclude: Vec<String>,
    /// Overrides [`CrawlConfig::max_depth`].
    pub max_depth: Option<u32>,
    /// Overrides [`CrawlConfig::max_pages`].
    pub max_pages: Option<usize>,
    /// Overrides [`CrawlConfig::delay_ms`].
    pub delay_ms: Option<u64>,
}

impl CrawlConfig {
    /// The `pdftotext` settings, when PDFs are to be indexed.
    pub fn pdf_tool(&self) -> Option<crate::extract::pdf::PdfTool> {
        self.pdf.then(|| crate::extract::pdf::PdfTool {
            program: self.pdftotext.clone().into(),
            timeout: std::time::Duration::from_millis(self.pdf_timeout_ms.max(1)),
            // A material's text fields are limited (`MAX_MATERIAL_BYTES`); keep room for the
            // title.
            max_text_bytes: usize::try_from(self.max_body_bytes)
                .unwrap_or(usize::MAX)
                .min(crate::material::MAX_MATERIAL_BYTES - 64 * 1024),
        })
    }

    /// Reads the `[crawl]` table of a configuration file.
    ///
    /// # Errors
    /// [`CrawlError::Config`] for unknown keys or wrong types.
    pub fn from_table(table: toml::Table) -> Result<Self, CrawlError> {
        toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| CrawlError::Config(format!("[crawl]: {e}")))
    }

    /// Adds a source with `seeds` and default scope (the seeds' hosts).
    pub fn add_seeds(&mut self, seeds: Vec<String>) {
        if !seeds.is_empty() {
            self.sources.push(SourceConfig {
                seeds,
                ..Default::default()
            });
        }
    }
}

/// Which URLs a source may fetch.
#[derive(Debug, Clone)]
pub struct Scope {
    hosts: Vec<String>,
    prefixes: Vec<String>,
    include: Vec<Regex>,
    exclude: Vec<Regex>,
}

impl Scope {
    /// Builds the scope of `src`.
    ///
    /// # Errors
    /// [`CrawlError::Config`] for a bad seed URL or regular expression, or a source without
    /// seeds and sitemaps.
    pub fn new(src: &SourceConfig) -> Result<Self, CrawlError> {
        if src.seeds.is_empty() && src.sitemaps.is_empty() {
            return Err(CrawlError::Config(
                "a crawl source needs seeds or sitemaps".into(),
            ));
        }
        let mut hosts: Vec<String> = src
            .allowed_hosts
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        if hosts.is_empty() {
            for s in src.seeds.iter().chain(&src.sitemaps) {
                let u = parse_normalized(s)
                    .ok_or_else(|| CrawlError::Config(format!("bad seed URL {s:?}")))?;
                if let Some(h) = u.host_str() {
                    hosts.push(h.to_ascii_lowercase());
                }
            }
        }
        let re = |v: &[String]| -> Result<Vec<Regex>, CrawlError> {
            v.iter()
                .map(|p| {
                    Regex::new(p).map_err(|e| CrawlError::Config(format!("bad pattern {p:?}: {e}")))
                })
                .collect()
        };
        Ok(Self {
            hosts,
            prefixes: src.path_prefixes.clone(),
            include: re(&src.include)?,
            exclude: re(&src.exclude)?,
        })
    }

    /// Returns whether `u` may be crawled.
    pub fn allows(&self, u: &Url) -> bool {
        let Some(host) = u.host_str() else {
            return false;
        };
        if !matches!(u.scheme(), "http" | "https") {
            return false;
        }
        let host = host.to_ascii_lowercase();
        if !self.hosts.contains(&host) {
            return false;
        }
        if !self.prefixes.is_empty() && !self.prefixes.iter().any(|p| u.path().starts_with(p)) {
            return false;
        }
        let s = u.as_str();
        if !self.include.is_empty() && !self.include.iter().any(|r| r.is_match(s)) {
            return false;
        }
        !self.exclude.iter().any(|r| r.is_match(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_scope_filters() {
        let t: toml::Table = toml::from_str(
            "delay_ms = 0\n[[source]]\nseeds = [\"https://www.pref.example.jp/\"]\n\
             path_prefixes = [\"/faq/\"]\nexclude = ['\\?print=1']\n",
        )
        .unwrap();
        let c = CrawlConfig::from_table(t).unwrap();
        assert_eq!(c.delay_ms, 0);
        assert_eq!(c.concurrency, 4);
        let s = Scope::new(&c.sources[0]).unwrap();
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(s.allows(&u("https://www.pref.example.jp/faq/1.html")));
        assert!(!s.allows(&u("https://www.pref.example.jp/faq/1.html?print=1")));
        assert!(!s.allows(&u("https://www.pref.example.jp/event/")));
        assert!(!s.allows(&u("https://other.example.jp/faq/")));
        let bad: toml::Table = toml::from_str("dela_ms = 0").unwrap();
        assert!(
            CrawlConfig::from_table(bad)
                .unwrap_err()
                .to_string()
                .contains("dela_ms")
        );
    }
}
