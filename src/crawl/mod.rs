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

pub mod config;
pub mod fetch;
pub mod sitemap;
pub mod state;
pub mod url;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use indicatif::ProgressBar;
use sha2::{Digest, Sha256};
use texting_robots::Robot;
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use crate::corpus::{Corpus, CorpusError};
use crate::extract::{self, PageInput};
use crate::material::Material;
pub use config::{CrawlConfig, Scope, SourceConfig};
use fetch::{FetchPolicy, Outcome, SkipReason, Validators};
use state::{HostState, Note, PageState, PageStatus};
use url::{host_key, normalize, parse_normalized};

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
    /// Linked documents (PDF, Office) known but not indexed.
    pub documents: usize,
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
    for src in &cfg.sources {
        if opts.cancel.load(Ordering::Relaxed) {
            break;
        }
        let mut c = Crawler::new(cfg, src, &client, &corpus, opts)?;
        c.run(&mut report).await?;
    }
    opts.progress.finish_and_clear();
    Ok(report)
}

/// Returns the corpus collection of a host key: `crawl/<host>`.
pub fn collection_name(key: &str) -> String {
    format!("crawl/{key}")
}

/// Builds the robots.txt rules from its fetch result (RFC 9309): a 2xx body is parsed, a 4xx
/// allows everything, anything else (5xx, network failure) disallows everything.
fn robots_from_response(agent: &str, fetched: Option<(u16, Vec<u8>)>) -> Option<Robot> {
    match fetched {
        Some((200..=299, body)) => Robot::new(agent, &body).ok(),
        Some((400..=499, _)) => Robot::new(agent, b"").ok(),
        _ => Robot::new(agent, b"User-agent: *\nDisallow: /\n").ok(),
    }
}

/// Returns the delay between two requests to a host: the configured one, or robots.txt's
/// `Crawl-delay` when larger (capped at 120 s).
fn host_delay(configured: Duration, robot: &Robot) -> Duration {
    match robot.delay {
        Some(d) if d.is_finite() => configured.max(Duration::from_secs_f32(d.clamp(0.0, 120.0))),
        _ => configured,
    }
}

/// A host's materials in a vector with an id index, and the ids changed since the last
/// checkpoint (only those are written back, so a change another writer made to the same
/// collection meanwhile, e.g. a CMS webhook job in a running server, is kept).
#[derive(Default)]
struct MaterialSet {
    items: Vec<Material>,
    pos: HashMap<String, usize>,
    changed: std::collections::HashSet<String>,
}

impl MaterialSet {
    fn new(items: Vec<Material>) -> Self {
        let mut set = Self::default();
        for m in items {
            set.insert(m);
        }
        set.changed.clear();
        set
    }

    /// Returns the changed materials and the removed ids since the last call.
    fn take_changes(&mut self) -> (Vec<Material>, Vec<String>) {
        let mut upserts = Vec::new();
        let mut removes = Vec::new();
        for id in std::mem::take(&mut self.changed) {
            match self.get(&id) {
                Some(m) => upserts.push(m.clone()),
                None => removes.push(id),
            }
        }
        (upserts, removes)
    }

    #[cfg(test)]
    fn as_slice(&self) -> &[Material] {
        &self.items
    }

    fn get(&self, id: &str) -> Option<&Material> {
        self.pos.get(id).map(|&i| &self.items[i])
    }

    fn insert(&mut self, m: Material) {
        self.changed.insert(m.id.clone());
        match self.pos.get(&m.id) {
            Some(&i) => self.items[i] = m,
            None => {
                self.pos.insert(m.id.clone(), self.items.len());
                self.items.push(m);
            }
        }
    }

    fn remove(&mut self, id: &str) -> Option<Material> {
        let i = self.pos.remove(id)?;
        self.changed.insert(id.to_string());
        let m = self.items.swap_remove(i);
        if let Some(moved) = self.items.get(i) {
            self.pos.insert(moved.id.clone(), i);
        }
        Some(m)
    }
}

struct Host {
    state: HostState,
    robots: Option<Arc<Robot>>,
    materials: MaterialSet,
    delay: Duration,
    next_slot: Instant,
    hashes: HashMap<String, String>,
    dirty: bool,
}

/// A page body extracted off the crawl loop (extraction is CPU work: it runs on the
/// blocking pool, in parallel with other fetches).
struct Parsed {
    extracted: extract::Extracted,
    digest: String,
    fetched_at: DateTime<Utc>,
}

type Fetched = (Url, u32, Outcome, Option<Parsed>);

fn parse_page(outcome: &Outcome) -> Option<Parsed> {
    let Outcome::Ok {
        final_url,
        headers,
        body,
    } = outcome
    else {
        return None;
    };
    let fetched_at = Utc::now();
    let input = PageInput {
        url: final_url,
        body,
        content_type: headers.content_type.as_deref(),
        last_modified: headers.last_modified.as_deref(),
        x_robots_tag: headers.x_robots_tag.as_deref(),
        fetched_at: fetched_at.fixed_offset(),
    };
    Some(Parsed {
        extracted: extract::extract(&input),
        digest: hash(body),
        fetched_at,
    })
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
    frontier: VecDeque<(Url, u32)>,
    seen: Arc<std::sync::Mutex<HashSet<String>>>,
    max_depth: u32,
    max_pages: usize,
    started: usize,
    since_checkpoint: usize,
    last_checkpoint: Instant,
    now: DateTime<Utc>,
}

fn hash(body: &[u8]) -> String {
    hex::encode(&Sha256::digest(body)[..8])
}

impl<'a> Crawler<'a> {
    fn new(
        cfg: &'a CrawlConfig,
        src: &'a SourceConfig,
        client: &'a reqwest::Client,
        corpus: &'a Corpus,
        opts: &RunOptions,
    ) -> Result<Self, CrawlError> {
        Ok(Self {
            cfg,
            src,
            scope: Arc::new(Scope::new(src)?),
            client,
            corpus,
            state_dir: opts.data_dir.join("crawl-state"),
            progress: opts.progress.clone(),
            cancel: opts.cancel.clone(),
            hosts: HashMap::new(),
            frontier: VecDeque::new(),
            seen: Arc::default(),
            max_depth: src.max_depth.unwrap_or(cfg.max_depth),
            max_pages: src.max_pages.unwrap_or(cfg.max_pages),
            started: 0,
            since_checkpoint: 0,
            last_checkpoint: Instant::now(),
            now: Utc::now(),
        })
    }

    fn enqueue(&mut self, u: Url, depth: u32) {
        if depth > self.max_depth || !self.scope.allows(&u) {
            return;
        }
        if self.mark_seen(&u) {
            self.frontier.push_back((u, depth));
        }
    }

    /// Marks `u` as seen in this run; returns whether it was new.
    fn mark_seen(&self, u: &Url) -> bool {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(u.to_string())
    }

    async fn run(&mut self, report: &mut CrawlReport) -> Result<(), CrawlError> {
        for s in &self.src.seeds {
            match parse_normalized(s) {
                Some(u) => {
                    // Seeds are crawled even when a scope rule would exclude them.
                    if self.mark_seen(&u) {
                        self.frontier.push_back((u, 0));
                    }
                }
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
                let Some((u, depth)) = self.frontier.pop_front() else {
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
        let materials = MaterialSet::new(self.corpus.read_collection(&collection_name(&key))?);
        let hashes = state
            .pages
            .iter()
            .filter(|(_, p)| p.status == PageStatus::Indexed)
            .map(|(u, p)| (p.hash.clone(), u.clone()))
            .collect();
        let mut delay = Duration::from_millis(self.src.delay_ms.unwrap_or(self.cfg.delay_ms));
        let mut robots = None;
        let mut sitemaps = Vec::new();
        if self.cfg.respect_robots {
            let mut robots_url = u.clone();
            robots_url.set_path("/robots.txt");
            robots_url.set_query(None);
            let agent = self
                .cfg
                .user_agent
                .split(['/', ' '])
                .next()
                .unwrap_or("kotae")
                .to_string();
            let fetched =
                fetch::fetch_text(self.client, &robots_url, 512 * 1024, self.cfg.timeout_ms).await;
            if !matches!(fetched, Some((200..=499, _))) {
                let status = fetched.as_ref().map(|o| o.0);
                warn!(url = %robots_url, status = ?status, reason = "robots.txt unreachable", "host disallowed");
            }
            let robot = robots_from_response(&agent, fetched);
            if let Some(r) = &robot {
                delay = host_delay(delay, r);
                sitemaps = r.sitemaps.clone();
            }
            robots = robot.map(Arc::new);
        }
        // A fresh run revisits every known page (to notice 404s) and uses stored links.
        let known: Vec<(Url, u32)> = state
            .pages
            .iter()
            .filter_map(|(u, p)| Some((Url::parse(u).ok()?, p.depth)))
            .collect();
        self.hosts.insert(
            key.clone(),
            Host {
                state,
                robots,
                materials,
                delay,
                next_slot: Instant::now(),
                hashes,
                dirty: false,
            },
        );
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

    fn note(
        &mut self,
        key: &str,
        u: &Url,
        reason: &str,
        target: Option<&Url>,
        report: &mut CrawlReport,
    ) {
        *report.reasons.entry(reason.to_string()).or_default() += 1;
        if let Some(h) = self.hosts.get_mut(key) {
            h.state.notes.insert(
                u.to_string(),
                Note {
                    reason: reason.to_string(),
                    target: target.map(|t| t.to_string()),
                    at: Utc::now(),
                },
            );
            h.dirty = true;
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
        let seen = self.seen.clone();
        let policy = FetchPolicy {
            max_redirects: self.cfg.max_redirects,
            max_body_bytes: self.cfg.max_body_bytes,
            timeout_ms: self.cfg.timeout_ms,
            // Follow in place only to URLs not seen yet in this run (else the crawler
            // records the alias and fetches the target once, from the frontier).
            follow: Arc::new(move |t: &Url| {
                scope.allows(t)
                    && robots.as_ref().is_none_or(|r| r.allowed(t.as_str()))
                    && seen
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(t.to_string())
            }),
        };
        let client = self.client.clone();
        self.started += 1;
        inflight.spawn(async move {
            tokio::time::sleep_until(slot.into()).await;
            let o = fetch::fetch(&client, &u, &cond, &policy).await;
            if matches!(o, Outcome::Ok { .. }) {
                let joined = tokio::task::spawn_blocking(move || {
                    let parsed = parse_page(&o);
                    (o, parsed)
                })
                .await;
                match joined {
                    Ok((o, parsed)) => (u, depth, o, parsed),
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

    fn process(
        &mut self,
        u: Url,
        depth: u32,
        outcome: Outcome,
        parsed: Option<Parsed>,
        report: &mut CrawlReport,
    ) {
        let key = host_key(&u);
        self.progress.inc(1);
        match outcome {
            Outcome::Skipped { reason } if reason.is_not_html() => {
                // A document behind a link without a file extension: record it.
                debug!(url = %u, reason = %reason, "skipped");
                if reason.is_document()
                    && let Some(h) = self.hosts.get_mut(&key)
                {
                    h.state
                        .documents
                        .entry(u.to_string())
                        .or_insert_with(String::new);
                    report.documents = report.documents.max(h.state.documents.len());
                }
                self.note(&key, &u, &reason.to_string(), None, report);
            }
            Outcome::Skipped { reason } => {
                warn!(url = %u, reason = %reason, "skipped");
                report.failed += 1;
                self.note(&key, &u, &reason.to_string(), None, report);
            }
            Outcome::Redirect { to } => {
                debug!(url = %u, to = %to, "redirect");
                self.redirected(&key, &u, &to, report);
                self.enqueue(to, depth);
            }
            Outcome::Gone { status } => {
                let removed = self.forget_page(&key, u.as_str());
                if removed.is_some() {
                    report.removed_pages += 1;
                    report.removed_materials += removed.unwrap_or(0);
                    info!(url = %u, status, removed = removed.unwrap_or(0), "page gone: materials removed");
                } else {
                    warn!(url = %u, reason = %format!("http {status}"), "skipped");
                }
                report.failed += 1;
                self.note(&key, &u, &format!("http {status}"), None, report);
            }
            Outcome::NotModified { final_url } => {
                report.not_modified += 1;
                let fk = host_key(&final_url);
                let links = self.hosts.get_mut(&fk).and_then(|h| {
                    let p = h.state.pages.get_mut(final_url.as_str())?;
                    p.fetched_at = Utc::now();
                    h.dirty = true;
                    Some(p.links.clone())
                });
                if final_url != u {
                    self.redirected(&key, &u, &final_url, report);
                }
                for l in links.unwrap_or_default() {
                    if let Ok(l) = Url::parse(&l) {
                        self.enqueue(l, depth + 1);
                    }
                }
            }
            Outcome::Ok {
                final_url, headers, ..
            } => {
                report.fetched += 1;
                if final_url != u {
                    self.redirected(&key, &u, &final_url, report);
                }
                let Some(parsed) = parsed else {
                    return;
                };
                self.page(final_url, depth, headers, parsed, report);
            }
        }
    }

    /// Records that `u` now redirects to `to`; a page formerly stored under `u` loses its
    /// materials (they live on under the target).
    fn redirected(&mut self, key: &str, u: &Url, to: &Url, report: &mut CrawlReport) {
        if let Some(n) = self.forget_page(key, u.as_str()) {
            info!(url = %u, to = %to, removed = n, "page moved: old materials removed");
            report.removed_materials += n;
        }
        self.note(key, u, "redirect", Some(to), report);
    }

    /// Removes a page's materials and state; returns the number of materials removed, or
    /// `None` when the page was unknown.
    fn forget_page(&mut self, key: &str, url: &str) -> Option<usize> {
        let h = self.hosts.get_mut(key)?;
        let p = h.state.pages.remove(url)?;
        h.dirty = true;
        if h.hashes.get(&p.hash).is_some_and(|u| u == url) {
            h.hashes.remove(&p.hash);
        }
        // A site-wide material (a department's contact block) stays while another page
        // lists it.
        let pages = &h.state.pages;
        let materials = &mut h.materials;
        Some(
            p.material_ids
                .iter()
                .filter(|id| !listed_elsewhere(pages, url, id))
                .filter(|id| materials.remove(id).is_some())
                .count(),
        )
    }

    fn page(
        &mut self,
        url: Url,
        depth: u32,
        headers: fetch::Headers,
        parsed: Parsed,
        report: &mut CrawlReport,
    ) {
        let key = host_key(&url);
        let Parsed {
            extracted: ex,
            digest,
            fetched_at,
        } = parsed;
        let links: Vec<Url> = ex
            .links
            .iter()
            .map(normalize)
            .filter(|l| self.scope.allows(l))
            .collect();
        let canonical = ex
            .canonical
            .as_ref()
            .map(normalize)
            .filter(|c| *c != url && self.scope.allows(c));
        let mut status = PageStatus::Indexed;
        if ex.noindex {
            status = PageStatus::Noindex;
            report.noindex += 1;
            debug!(url = %url, reason = "noindex", "not indexed");
        } else if let Some(c) = &canonical {
            status = PageStatus::Canonical(c.to_string());
            report.duplicates += 1;
            debug!(url = %url, canonical = %c, "canonical elsewhere");
        } else if let Some(other) = self
            .hosts
            .get(&key)
            .and_then(|h| h.hashes.get(&digest))
            .filter(|o| **o != url.as_str())
        {
            status = PageStatus::Duplicate(other.clone());
            report.duplicates += 1;
            debug!(url = %url, same_as = %other, "duplicate content");
        }
        let Some(h) = self.hosts.get_mut(&key) else {
            return;
        };
        for d in &ex.documents {
            h.state
                .documents
                .entry(d.to_string())
                .or_insert_with(|| url.to_string());
        }
        report.documents = report.documents.max(h.state.documents.len());
        let (old_ids, old_hash) = h
            .state
            .pages
            .get(url.as_str())
            .map(|p| (p.material_ids.clone(), p.hash.clone()))
            .unwrap_or_default();
        if old_hash != digest && h.hashes.get(&old_hash).is_some_and(|o| *o == url.as_str()) {
            h.hashes.remove(&old_hash);
        }
        let mut new_ids = Vec::new();
        if status == PageStatus::Indexed {
            for m in ex.materials {
                if let Err(e) = m.validate() {
                    warn!(url = %url, reason = %e, "material skipped");
                    continue;
                }
                if h.materials.get(&m.id) != Some(&m) {
                    report.materials_written += 1;
                    match m.kind {
                        crate::material::MaterialKind::Faq => report.faq += 1,
                        crate::material::MaterialKind::Contact => report.contacts += 1,
                        crate::material::MaterialKind::Page => {}
                    }
                    h.materials.insert(m.clone());
                }
                new_ids.push(m.id);
            }
            h.hashes.insert(digest.clone(), url.to_string());
            report.indexed_pages += 1;
        }
        for id in old_ids {
            if !new_ids.contains(&id)
                && !listed_elsewhere(&h.state.pages, url.as_str(), &id)
                && h.materials.remove(&id).is_some()
            {
                report.removed_materials += 1;
            }
        }
        h.state.notes.remove(url.as_str());
        h.state.pages.insert(
            url.to_string(),
            PageState {
                status,
                etag: headers.etag,
                last_modified: headers.last_modified,
                hash: digest,
                material_ids: new_ids,
                links: if ex.nofollow {
                    vec![]
                } else {
                    links.iter().map(|l| l.to_string()).collect()
                },
                fetched_at,
                depth,
            },
        );
        h.dirty = true;
        if !ex.nofollow {
            for l in links {
                self.enqueue(l, depth + 1);
            }
        }
        if let Some(c) = canonical {
            self.enqueue(c, depth);
        }
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

/// Whether a page other than `url` lists material `id` (site-wide materials such as a
/// department's contact block are listed by every page that shows it).
fn listed_elsewhere(pages: &BTreeMap<String, state::PageState>, url: &str, id: &str) -> bool {
    pages
        .iter()
        .any(|(u, p)| u != url && p.material_ids.iter().any(|m| m == id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots_rules_delay_and_sitemaps() {
        let txt =
            b"User-agent: *\nDisallow: /private/\nCrawl-delay: 3\nSitemap: https://h/sitemap.xml\n";
        let r = robots_from_response("kotae-crawler", Some((200, txt.to_vec()))).unwrap();
        assert!(!r.allowed("https://h/private/a.html"));
        assert!(r.allowed("https://h/faq/"));
        assert_eq!(r.sitemaps, vec!["https://h/sitemap.xml"]);
        assert_eq!(
            host_delay(Duration::from_secs(1), &r),
            Duration::from_secs(3)
        );
        assert_eq!(
            host_delay(Duration::from_secs(5), &r),
            Duration::from_secs(5)
        );
        let missing = robots_from_response("kotae-crawler", Some((404, vec![]))).unwrap();
        assert!(missing.allowed("https://h/private/a.html"));
        let down = robots_from_response("kotae-crawler", Some((503, vec![]))).unwrap();
        assert!(!down.allowed("https://h/"));
        assert!(
            !robots_from_response("kotae-crawler", None)
                .unwrap()
                .allowed("https://h/")
        );
    }

    #[test]
    fn material_set_keeps_the_index_in_step() {
        let m = |id: &str| Material {
            id: id.into(),
            source_id: id.into(),
            kind: crate::material::MaterialKind::Page,
            title: id.into(),
            question: None,
            answer: None,
            body: None,
            contact: None,
            source: "s".into(),
            url: None,
            department: None,
            category: None,
            tags: vec![],
            updated_at: Utc::now().fixed_offset(),
            valid_from: None,
            valid_until: None,
        };
        let mut set = MaterialSet::new(vec![m("a"), m("b"), m("c")]);
        assert!(set.remove("a").is_some());
        assert!(set.remove("a").is_none());
        assert_eq!(set.get("c").map(|x| x.id.as_str()), Some("c"));
        set.insert(m("d"));
        let mut ids: Vec<&str> = set.as_slice().iter().map(|x| x.id.as_str()).collect();
        ids.sort();
        assert_eq!(ids, ["b", "c", "d"]);
    }
}
