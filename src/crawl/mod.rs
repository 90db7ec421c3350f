//! The crawler: fetches prefecture websites politely and fills `corpus/crawl/<host>` with
//! the page, FAQ and contact materials the [`crate::extract`] functions find.
//!
//! - robots.txt (`texting_robots`) obeyed, its `Crawl-delay` honoured when larger than the
//!   configured delay, its `Sitemap:` lines and configured sitemaps followed;
//! - URLs normalized ([`url::normalize`]) and deduplicated; `<link rel="canonical">`
//!   respected; identical bodies stored once;
//! - `noindex`/`nofollow` from `<meta name="robots">` and `X-Robots-Tag` honoured;
//! - incremental: conditional GET (ETag, Last-Modified); 304 keeps a page's materials,
//!   404/410 removes them; a page that changed loses the materials it no longer has;
//! - state in `DATA_DIR/crawl-state/<host>.json`, written with the corpus at every
//!   checkpoint, so a killed crawl resumes without refetching what it has.
//!
//! After a crawl, [`update_index`] brings the index in line with the corpus.
//!
//! Modules: `robots` (robots.txt per host), `frontier` (the queue and the seen set),
//! `host` (a host's state, politeness slot and materials in memory), `record` (what a fetch
//! result changes in the state and corpus); this file keeps the crawl loop.

pub mod config;
pub mod fetch;
mod frontier;
mod host;
mod record;
mod robots;
pub mod sitemap;
pub mod state;
pub mod url;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use indicatif::ProgressBar;
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use crate::corpus::{Corpus, CorpusError};
use crate::extract::pdf::PdfTool;
pub use config::{CrawlConfig, Scope, SourceConfig};
use fetch::{FetchPolicy, Outcome, SkipReason, Validators};
use frontier::Frontier;
use host::Host;
use record::{Fetched, parse_page};
use state::{HostState, PageStatus};
use url::{host_key, parse_normalized};

type Url = ::url::Url;

/// Errors of the crawler (per-page problems are logged and counted, not errors).
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    /// Bad configuration.
    #[error("crawl configuration: {0}")]
    Config(String),
    /// Reading or writing a state file failed.
    #[error("crawl state {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A state file is not valid.
    #[error("crawl state {path}: {message}")]
    State {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The corpus store failed.
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Client(String),
}

/// What a crawl did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CrawlReport {
    /// Requests that returned a page body (200).
    pub fetched: usize,
    /// Requests answered 304 Not Modified (materials kept).
    pub not_modified: usize,
    /// Known pages not refetched (fetched within the recrawl interval or earlier in a
    /// resumed run).
    pub kept: usize,
    /// Pages whose materials were stored.
    pub indexed_pages: usize,
    /// Materials added or changed.
    pub materials_written: usize,
    /// FAQ materials among them.
    pub faq: usize,
    /// Contact materials among them.
    pub contacts: usize,
    /// Pages removed after 404/410.
    pub removed_pages: usize,
    /// Materials removed (gone pages, changed pages, noindex, duplicates).
    pub removed_materials: usize,
    /// Pages with `noindex`.
    pub noindex: usize,
    /// Pages with the same body as another URL, or with a canonical URL elsewhere.
    pub duplicates: usize,
    /// URLs disallowed by robots.txt.
    pub robots_disallowed: usize,
    /// Requests that failed or were skipped (timeout, oversize, redirect loop, HTTP error).
    pub failed: usize,
    /// Reasons of failures and skips, with counts.
    pub reasons: BTreeMap<String, usize>,
    /// Linked documents (Office files, and PDFs when `pdftotext` is missing or PDFs are
    /// off) known but not indexed.
    pub documents: usize,
    /// PDFs whose text was indexed (among `indexed_pages`).
    pub pdfs: usize,
}

/// Whether linked PDFs are fetched and indexed in this run.
enum PdfMode {
    /// `[crawl] pdf = false`: PDFs are recorded as documents.
    Off,
    /// `pdftotext` could not be started: PDFs are recorded as documents and as skipped.
    Missing,
    /// PDFs are fetched and their text indexed.
    On(Arc<PdfTool>),
}

impl PdfMode {
    /// Probes `pdftotext` once per run; warns when it is configured but missing.
    fn from_config(cfg: &CrawlConfig) -> Self {
        let Some(tool) = cfg.pdf_tool() else {
            return PdfMode::Off;
        };
        match tool.probe() {
            Ok(version) => {
                debug!(version = %version, "pdftotext");
                PdfMode::On(Arc::new(tool))
            }
            Err(e) => {
                warn!(error = %e, "linked PDFs are not indexed (install poppler-utils, or set [crawl] pdftotext or pdf = false): they are recorded as skipped");
                PdfMode::Missing
            }
        }
    }
}

/// Options of one crawl run besides the configuration.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The data directory (corpus in `corpus/`, state in `crawl-state/`).
    pub data_dir: PathBuf,
    /// Progress display (use [`ProgressBar::hidden`] when there is no terminal).
    pub progress: ProgressBar,
    /// Set to stop early (e.g. on Ctrl-C): requests in flight are finished and the state is
    /// saved as an unfinished run, which the next crawl resumes.
    pub cancel: Arc<AtomicBool>,
}

impl RunOptions {
    /// Options for `data_dir` without a progress display.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            progress: ProgressBar::hidden(),
            cancel: Arc::default(),
        }
    }
}

/// Crawls every source of `cfg` and writes the corpus and the state; returns what it did.
///
/// # Errors
/// Configuration, state-file and corpus errors. Page-level problems are logged and counted
/// in the report.
pub async fn run(cfg: &CrawlConfig, opts: &RunOptions) -> Result<CrawlReport, CrawlError> {
    if cfg.sources.is_empty() {
        return Err(CrawlError::Config(
            "nothing to crawl: give --seed URL or [[crawl.source]] entries".into(),
        ));
    }
    let client = fetch::client(&cfg.user_agent, cfg.timeout_ms).map_err(CrawlError::Client)?;
    let corpus = Corpus::open(opts.data_dir.join("corpus"))?;
    let mut report = CrawlReport::default();
    let pdf = Arc::new(PdfMode::from_config(cfg));
    for src in &cfg.sources {
        if opts.cancel.load(Ordering::Relaxed) {
            break;
        }
        let mut c = Crawler::new(cfg, src, &client, &corpus, opts, pdf.clone())?;
        c.run(&mut report).await?;
    }
    opts.progress.finish_and_clear();
    Ok(report)
}

/// Returns the corpus collection of a host key: `crawl/<host>`.
pub fn collection_name(key: &str) -> String {
    format!("crawl/{key}")
}

struct Crawler<'a> {
    cfg: &'a CrawlConfig,
    src: &'a SourceConfig,
    scope: Arc<Scope>,
    client: &'a reqwest::Client,
    corpus: &'a Corpus,
    state_dir: PathBuf,
    progress: ProgressBar,
    cancel: Arc<AtomicBool>,
    hosts: HashMap<String, Host>,
    frontier: Frontier,
    pdf: Arc<PdfMode>,
    /// Link text of PDFs seen in this run (a PDF's title of last resort).
    pdf_labels: HashMap<String, String>,
    max_pages: usize,
    started: usize,
    since_checkpoint: usize,
    last_checkpoint: Instant,
    now: DateTime<Utc>,
}

impl<'a> Crawler<'a> {
    fn new(
        cfg: &'a CrawlConfig,
        src: &'a SourceConfig,
        client: &'a reqwest::Client,
        corpus: &'a Corpus,
        opts: &RunOptions,
        pdf: Arc<PdfMode>,
    ) -> Result<Self, CrawlError> {
        let scope = Arc::new(Scope::new(src)?);
        let max_depth = src.max_depth.unwrap_or(cfg.max_depth);
        Ok(Self {
            cfg,
            src,
            frontier: Frontier::new(scope.clone(), max_depth),
            pdf,
            pdf_labels: HashMap::new(),
            scope,
            client,
            corpus,
            state_dir: opts.data_dir.join("crawl-state"),
            progress: opts.progress.clone(),
            cancel: opts.cancel.clone(),
            hosts: HashMap::new(),
            max_pages: src.max_pages.unwrap_or(cfg.max_pages),
            started: 0,
            since_checkpoint: 0,
            last_checkpoint: Instant::now(),
            now: Utc::now(),
        })
    }

    fn enqueue(&mut self, u: Url, depth: u32) {
        self.frontier.enqueue(u, depth);
    }

    async fn run(&mut self, report: &mut CrawlReport) -> Result<(), CrawlError> {
        for s in &self.src.seeds {
            match parse_normalized(s) {
                Some(u) => self.frontier.seed(u),
                None => warn!(url = %s, reason = "not an http(s) URL", "seed skipped"),
            }
        }
        for s in self.src.sitemaps.clone() {
            if let Some(u) = parse_normalized(&s) {
                self.prepare_host(&u, report).await?;
                self.sitemap(u, report).await;
            }
        }
        let mut inflight: JoinSet<Fetched> = JoinSet::new();
        let concurrency = self.cfg.concurrency.max(1);
        loop {
            let cancelled = self.cancel.load(Ordering::Relaxed);
            while !cancelled && inflight.len() < concurrency && self.started < self.max_pages {
                let Some((u, depth)) = self.frontier.pop() else {
                    break;
                };
                self.schedule(u, depth, &mut inflight, report).await?;
            }
            self.show(report, inflight.len());
            let Some(joined) = inflight.join_next().await else {
                break;
            };
            match joined {
                Ok((u, depth, outcome, parsed)) => self.process(u, depth, outcome, parsed, report),
                Err(e) => warn!(error = %e, "fetch task failed"),
            }
            self.since_checkpoint += 1;
            let since = self.last_checkpoint.elapsed();
            if (self.since_checkpoint >= self.cfg.checkpoint_pages.max(1)
                && since >= Duration::from_millis(self.cfg.checkpoint_min_interval_ms))
                || since > Duration::from_secs(30)
            {
                self.checkpoint()?;
            }
        }
        if self.started >= self.max_pages && !self.frontier.is_empty() {
            info!(
                max_pages = self.max_pages,
                left = self.frontier.len(),
                "page limit reached"
            );
        }
        if self.cancel.load(Ordering::Relaxed) {
            info!("crawl stopped; the next run resumes");
            return self.checkpoint();
        }
        for h in self.hosts.values_mut() {
            h.state.run_finished = true;
            h.dirty = true;
        }
        self.checkpoint()
    }

    fn show(&self, r: &CrawlReport, inflight: usize) {
        self.progress.set_message(format!(
            "fetched {} (304: {}, kept {}) · queued {} · in flight {inflight} · failed {}",
            r.fetched,
            r.not_modified,
            r.kept,
            self.frontier.len(),
            r.failed
        ));
    }

    /// Loads the state, corpus collection and robots.txt of `u`'s host on first use.
    async fn prepare_host(
        &mut self,
        u: &Url,
        report: &mut CrawlReport,
    ) -> Result<String, CrawlError> {
        let key = host_key(u);
        if self.hosts.contains_key(&key) {
            return Ok(key);
        }
        let mut state = HostState::load(&self.state_dir, &key)?;
        let resuming = !state.run_finished && state.run_started_at.is_some();
        if resuming {
            info!(host = %key, "resuming an unfinished crawl");
        } else {
            state.run_started_at = Some(self.now);
            state.run_finished = false;
        }
        let materials = self.corpus.read_collection(&collection_name(&key))?;
        let mut delay = Duration::from_millis(self.src.delay_ms.unwrap_or(self.cfg.delay_ms));
        let mut robots = None;
        let mut sitemaps = Vec::new();
        if self.cfg.respect_robots {
            let r = robots::load(
                self.client,
                &self.cfg.user_agent,
                self.cfg.timeout_ms,
                u,
                delay,
            )
            .await;
            delay = r.delay;
            sitemaps = r.sitemaps;
            robots = r.robot.map(Arc::new);
        }
        // A fresh run revisits every known page (to notice 404s) and uses stored links.
        let known: Vec<(Url, u32)> = state
            .pages
            .iter()
            .filter_map(|(u, p)| Some((Url::parse(u).ok()?, p.depth)))
            .collect();
        self.hosts
            .insert(key.clone(), Host::new(state, materials, robots, delay));
        for (u, d) in known {
            self.enqueue(u, d);
        }
        for s in sitemaps {
            if let Some(su) = parse_normalized(&s) {
                Box::pin(self.sitemap(su, report)).await;
            }
        }
        Ok(key)
    }

    /// Reads a sitemap (and nested sitemaps) into the frontier at depth 0.
    async fn sitemap(&mut self, root: Url, report: &mut CrawlReport) {
        let mut queue = vec![(root, 0u8)];
        let mut done = HashSet::new();
        while let Some((u, level)) = queue.pop() {
            if level > 3 || !done.insert(u.to_string()) || done.len() > 200 {
                continue;
            }
            if let Some(r) = self.hosts.get(&host_key(&u)).and_then(|h| h.robots.clone())
                && !r.allowed(u.as_str())
            {
                continue;
            }
            let fetched = fetch::fetch_text(
                self.client,
                &u,
                self.cfg.max_body_bytes,
                self.cfg.timeout_ms,
            )
            .await;
            let Some((200..=299, body)) = fetched else {
                warn!(url = %u, reason = "sitemap not fetched", "skipped");
                *report
                    .reasons
                    .entry("sitemap not fetched".into())
                    .or_default() += 1;
                continue;
            };
            let sm = sitemap::parse(&String::from_utf8_lossy(&body));
            debug!(url = %u, pages = sm.pages.len(), sitemaps = sm.sitemaps.len(), "sitemap");
            for p in sm.pages {
                if let Some(pu) = parse_normalized(&p) {
                    self.enqueue(pu, 0);
                }
            }
            for s in sm.sitemaps {
                if let Some(su) = parse_normalized(&s) {
                    queue.push((su, level + 1));
                }
            }
        }
    }

    async fn schedule(
        &mut self,
        u: Url,
        depth: u32,
        inflight: &mut JoinSet<Fetched>,
        report: &mut CrawlReport,
    ) -> Result<(), CrawlError> {
        let key = self.prepare_host(&u, report).await?;
        let recrawl = chrono::Duration::seconds(self.cfg.recrawl_interval_secs as i64);
        let now = self.now;
        let Some(host) = self.hosts.get_mut(&key) else {
            return Ok(());
        };
        if let Some(r) = &host.robots
            && !r.allowed(u.as_str())
        {
            debug!(url = %u, reason = "robots.txt", "skipped");
            report.robots_disallowed += 1;
            return Ok(());
        }
        let run_start = host.state.run_started_at.unwrap_or(now);
        let fresh = |at: DateTime<Utc>| at >= run_start || now - at < recrawl;
        // Already fetched in this run (resume) or recently: use what we have.
        if let Some(p) = host.state.pages.get(u.as_str())
            && fresh(p.fetched_at)
        {
            // Links are stored empty for nofollow pages.
            let links: Vec<Url> = p.links.iter().filter_map(|l| Url::parse(l).ok()).collect();
            let target = match &p.status {
                PageStatus::Canonical(t) | PageStatus::Duplicate(t) => Url::parse(t).ok(),
                _ => None,
            };
            report.kept += 1;
            for l in links {
                self.enqueue(l, depth + 1);
            }
            if let Some(t) = target {
                self.enqueue(t, depth);
            }
            return Ok(());
        }
        if let Some(n) = host.state.notes.get(u.as_str())
            && n.at >= run_start
        {
            // Failed or redirected earlier in this (resumed) run.
            if let Some(t) = n.target.as_deref().and_then(|t| Url::parse(t).ok()) {
                self.enqueue(t, depth);
            }
            return Ok(());
        }
        let cond = host
            .state
            .pages
            .get(u.as_str())
            .filter(|p| p.status == PageStatus::Indexed || p.status == PageStatus::Noindex)
            .map(|p| Validators {
                etag: p.etag.clone(),
                last_modified: p.last_modified.clone(),
            })
            .unwrap_or_default();
        let slot = host.next_slot.max(Instant::now());
        host.next_slot = slot + host.delay;
        let robots = host.robots.clone();
        let scope = self.scope.clone();
        let seen = self.frontier.seen();
        let pdf = match self.pdf.as_ref() {
            PdfMode::On(tool) => Some(tool.clone()),
            _ => None,
        };
        let label = self.pdf_labels.get(u.as_str()).cloned();
        let policy = FetchPolicy {
            max_redirects: self.cfg.max_redirects,
            max_body_bytes: self.cfg.max_body_bytes,
            pdf_max_bytes: pdf.as_ref().map(|_| self.cfg.pdf_max_bytes),
            timeout_ms: self.cfg.timeout_ms,
            // Follow in place only to URLs not seen yet in this run (else the crawler
            // records the alias and fetches the target once, from the frontier).
            follow: Arc::new(move |t: &Url| {
                scope.allows(t)
                    && robots.as_ref().is_none_or(|r| r.allowed(t.as_str()))
                    && frontier::mark(&seen, t)
            }),
        };
        let client = self.client.clone();
        self.started += 1;
        inflight.spawn(async move {
            tokio::time::sleep_until(slot.into()).await;
            let o = fetch::fetch(&client, &u, &cond, &policy).await;
            if matches!(o, Outcome::Ok { .. }) {
                let joined = tokio::task::spawn_blocking(move || {
                    let parsed = parse_page(&o, pdf.as_deref(), label.as_deref());
                    (o, parsed)
                })
                .await;
                match joined {
                    Ok((o, Ok(parsed))) => (u, depth, o, parsed),
                    Ok((_, Err(reason))) => (u, depth, Outcome::Skipped { reason }, None),
                    Err(e) => {
                        let reason = SkipReason::ExtractionFailed(e.to_string());
                        (u, depth, Outcome::Skipped { reason }, None)
                    }
                }
            } else {
                (u, depth, o, None)
            }
        });
        Ok(())
    }

    /// Writes the changed materials of each host's collection (re-read under the corpus
    /// lock, so other writers' changes to other pages stay), then the state files.
    fn checkpoint(&mut self) -> Result<(), CrawlError> {
        for (key, h) in &mut self.hosts {
            if !h.dirty {
                continue;
            }
            let (upserts, removes) = h.materials.take_changes();
            self.corpus
                .apply(&collection_name(key), upserts, &removes)?;
            h.state.save(&self.state_dir, key)?;
            h.dirty = false;
        }
        self.since_checkpoint = 0;
        self.last_checkpoint = Instant::now();
        Ok(())
    }
}
