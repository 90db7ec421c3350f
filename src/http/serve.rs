//! `kotae serve`: builds the engine, the statistics store, the search log, the webhook
//! worker and the authored-file watcher from the configuration, listens, and runs the
//! hourly retention purge until the process is told to stop.
//!
//! This is the application's wiring, so its errors are [`anyhow`] messages for the
//! operator (each names what could not be opened), not a library error type.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::config::FileConfig;
use crate::engine::{Engine, EngineOptions};
use crate::stats::{SearchLogger, Store, StoreOptions};

/// The default listen address.
pub const DEFAULT_ADDR: &str = "127.0.0.1:7700";

/// How often the retention purge runs while serving.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// What `kotae serve` was given.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The data directory (corpus/, index/, dictionaries/, kotae.db).
    pub data_dir: PathBuf,
    /// `--addr` / `KOTAE_ADDR`; else the file's `addr`, else [`DEFAULT_ADDR`].
    pub addr: Option<String>,
    /// `--config` / `KOTAE_CONFIG`, if given (re-read on SIGHUP).
    pub config: Option<PathBuf>,
    /// The configuration file as read at start-up.
    pub file: FileConfig,
    /// `--contact-retention-days`, overriding `[stats] contact_retention_days`.
    pub contact_retention_days: Option<u32>,
}

/// Serves until Ctrl-C or SIGTERM, then stops cleanly (see [`serve_connections`]); SIGHUP
/// reloads the configuration (see [`reload`]).
///
/// # Errors
/// A data directory, database, configuration value or listen address that cannot be used
/// (the message says which).
pub fn run(opts: &ServeOptions) -> anyhow::Result<()> {
    let data_dir = opts.data_dir.as_path();
    let file = &opts.file;
    let addr = opts
        .addr
        .clone()
        .or(file.addr.clone())
        .unwrap_or_else(|| DEFAULT_ADDR.to_string());
    tracing::info!(data_dir = %data_dir.display(), "loading dictionaries, corpus and index");
    let engine = Arc::new(
        Engine::open(&EngineOptions::new(data_dir))
            .with_context(|| format!("cannot open the data directory {}", data_dir.display()))?,
    );
    let auth = super::auth::Auth::from_config(std::env::var("KOTAE_TOKENS").ok().as_deref(), file)?;
    let stats_cfg = file.stats.clone().unwrap_or_default();
    let store = Arc::new(open_store(
        data_dir,
        &stats_cfg,
        opts.contact_retention_days,
    )?);
    store.purge(chrono::Utc::now())?;
    let logger = Arc::new(SearchLogger::start(
        store.clone(),
        stats_cfg
            .search_log_queue
            .unwrap_or(crate::stats::search_log::DEFAULT_QUEUE_CAPACITY),
    )?);
    let mut state =
        super::AppState::new(engine.clone()).with_stats(store.clone(), Some(logger.clone()));
    let policy = Policy::from_config(file);
    state.earliest_received_at.set(policy.earliest_received_at);
    state.categories.set(policy.categories);
    state.escalation_due_hours.set(policy.escalation_due_hours);
    let learn_cfg = file.learn.clone().unwrap_or_default();
    if learn_cfg.enabled != Some(false) {
        state = state.with_learning(learn_cfg.params())?;
    }
    let notifier = notifier(file, store.clone(), policy.escalation_due_hours)?;
    crate::search::maxscore::set_query_threads(file.search_threads.unwrap_or(0));
    state.search_queue = Arc::new(super::SearchQueue::new(
        file.search_workers
            .unwrap_or_else(super::queue::default_search_workers),
        file.search_queue
            .unwrap_or(super::queue::DEFAULT_SEARCH_QUEUE),
    ));
    let addr = if auth.is_enabled() {
        addr
    } else {
        let a = loopback_only(&addr);
        println!(
            "kotae: no API tokens configured (KOTAE_TOKENS or [[auth.tokens]]): the API is open, so it listens on loopback only ({a})"
        );
        a
    };
    let http_cfg = file.http.clone().unwrap_or_default();
    state.guard.set(super::guard::Guard::new(
        &http_cfg.allowed_hosts,
        &http_cfg.cors_origins,
        auth.is_enabled(),
    ));
    let counts = auth
        .role_counts()
        .map(|(r, n)| format!("{n} {}", r.as_str()));
    tracing::info!("API tokens loaded: {}", counts.join(", "));
    state.metrics = Arc::new(crate::telemetry::Metrics::new(
        file.log.as_ref().is_none_or(|l| l.access_enabled()),
    ));
    // The per-run admin token of DATA_DIR/kotae-serve.json (crate::control), for the CLI.
    let control_token = crate::control::new_token();
    let auth = if auth.is_enabled() {
        auth.with_token(super::auth::TokenEntry::new(
            super::auth::Role::Admin,
            None,
            &control_token,
        )?)
    } else {
        auth
    };
    state.auth = Arc::new(auth);
    let worker = cms_hook(&mut state, file, engine.clone(), store.clone())?;
    // Authored files: changes made while the service was down are applied before it listens.
    let watch_errors = Arc::new(crate::watch::WatchErrors::default());
    let watcher = crate::watch::spawn(engine.clone(), watch_errors.clone())?;
    state.watch_errors = Some(watch_errors);
    let limits = super::Live::new(Limits::from_config(&http_cfg));
    let dictionaries = Arc::new(crate::dictionaries::Dictionaries::new(engine.clone()));
    let _dict_watcher = if file.watch_dictionaries.unwrap_or(true) {
        Some(crate::dictionaries::watch(dictionaries.clone())?)
    } else {
        tracing::info!("dictionary watcher off (watch_dictionaries = false): SIGHUP reloads them");
        None
    };
    state.dictionaries = Some(dictionaries.clone());
    let reloadable = Reloadable {
        opts: opts.clone(),
        auth: state.auth.clone(),
        guard: state.guard.clone(),
        categories: state.categories.clone(),
        earliest_received_at: state.earliest_received_at.clone(),
        escalation_due_hours: state.escalation_due_hours.clone(),
        limits: limits.clone(),
        store: store.clone(),
        dictionaries,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        let _serve_file = crate::control::publish(data_dir, local, &control_token)
            .with_context(|| {
                format!("cannot write {}", data_dir.join(crate::control::SERVE_FILE).display())
            })?;
        tokio::spawn(worker.run());
        if let Some(n) = notifier {
            tokio::spawn(n.run());
        }
        tokio::spawn(purge_hourly(store.clone()));
        tokio::spawn(reload_on_hangup(reloadable));
        println!(
            "kotae: serving {} materials from {} on http://{local}  (try http://{local}/api/search?q=国保); inquiries in {}",
            engine.materials().len(),
            data_dir.display(),
            store.path().display()
        );
        // The accept loop runs on a worker thread rather than on this (block_on) thread,
        // so a new connection's task starts on the worker that accepted it instead of
        // being handed across threads (a wake-up and a context switch per connection).
        let server = tokio::spawn(serve_connections(
            listener,
            super::app(state),
            limits,
            stop_signal(),
        ));
        server.await.context("server task failed")?;
        Ok::<_, anyhow::Error>(())
    });
    // Requests have finished (or the shutdown timeout passed): write the searches they
    // logged, stop the watcher, and leave the database without a WAL. Jobs live in the
    // database; a page the worker had not finished is worked again on the next start.
    logger.shutdown();
    watcher.stop();
    store.checkpoint();
    // Blocking tasks still running (a search of a connection cut at the timeout) are not
    // waited for beyond this.
    rt.shutdown_timeout(Duration::from_secs(1));
    if result.is_ok() {
        tracing::info!(
            searches_logged = logger.written(),
            searches_dropped = logger.dropped(),
            "stopped"
        );
    }
    result
}

/// Connection limits and the shutdown bound (`[http]` keys; see [`FileConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time allowed for a request head, counted from when the server starts waiting for
    /// one: hyper's `header_read_timeout`, which also bounds the idle time between
    /// keep-alive requests (default 10 s).
    pub header_read_timeout: Duration,
    /// Connections served at once (default 1024); the accept loop waits for a free place,
    /// so further clients wait in the kernel's listen backlog.
    pub max_connections: usize,
    /// After the stop signal, how long requests in flight may take before the remaining
    /// connections are closed (default 10 s).
    pub shutdown_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

impl Limits {
    /// The limits of `[http]`, defaults for keys not set (0 connections counts as 1).
    pub fn from_config(http: &crate::config::HttpConfig) -> Self {
        let d = Self::default();
        Self {
            header_read_timeout: http
                .header_read_timeout_secs
                .map_or(d.header_read_timeout, Duration::from_secs),
            max_connections: http.max_connections.unwrap_or(d.max_connections).max(1),
            shutdown_timeout: http
                .shutdown_timeout_secs
                .map_or(d.shutdown_timeout, Duration::from_secs),
        }
    }
}

/// Serves `app` on `listener` until `stop` completes, then shuts down gracefully: stops
/// accepting, lets each connection finish the request it is serving (idle keep-alive
/// connections close at once), and returns when all connections are closed or
/// `limits.shutdown_timeout` has passed, whichever comes first (then the remaining
/// connections are dropped). Returns whether every connection finished in time.
///
/// HTTP/1.1 (hyper's `http1` connection, hyper-util's graceful shutdown); hyper's
/// header-read timer enforces [`Limits::header_read_timeout`].
pub async fn serve_connections(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    limits: impl Into<super::Live<Limits>>,
    stop: impl std::future::Future<Output = ()>,
) -> bool {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;

    let live = limits.into();
    let builder_for = |l: &Limits| {
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(l.header_read_timeout);
        Arc::new(builder)
    };
    let mut limits = *live.get();
    let mut builder = builder_for(&limits);
    let graceful = GracefulShutdown::new();
    let places = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    // Places still to take away after a reload lowered `max_connections` while they
    // were in use: each is forgotten when its connection ends.
    let mut owed = 0usize;
    tokio::pin!(stop);
    loop {
        let now = *live.get();
        if now != limits {
            builder = builder_for(&now);
            if now.max_connections > limits.max_connections {
                let more = now.max_connections - limits.max_connections;
                let paid = owed.min(more);
                owed -= paid;
                places.add_permits(more - paid);
            } else {
                let fewer = limits.max_connections - now.max_connections;
                owed += fewer - places.forget_permits(fewer);
            }
            limits = now;
        }
        let place = tokio::select! {
            p = places.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut stop => break,
        };
        if owed > 0 {
            place.forget();
            owed -= 1;
            continue;
        }
        let tcp = tokio::select! {
            r = listener.accept() => match r {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        // A reload while this loop waited applies to this connection already.
        let now = live.get().header_read_timeout;
        if now != limits.header_read_timeout {
            limits.header_read_timeout = now;
            builder = builder_for(&limits);
        }
        // Responses go out in one write per connection; without TCP_NODELAY a response
        // split by hyper could wait for the client's delayed ACK.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let (builder, watcher) = (builder.clone(), graceful.watcher());
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let conn = builder.serve_connection(TokioIo::new(tcp), service);
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(place);
        });
    }
    drop(listener);
    let limits = *live.get();
    let open = graceful.count();
    tracing::info!(
        connections = open,
        "stopping: no new connections; finishing requests in flight"
    );
    tokio::select! {
        () = graceful.shutdown() => true,
        () = tokio::time::sleep(limits.shutdown_timeout) => {
            tracing::warn!(
                timeout_secs = limits.shutdown_timeout.as_secs_f64(),
                "connections still open after the shutdown timeout: closing them"
            );
            false
        }
    }
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM (what systemd, Docker and Kubernetes send).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => tracing::info!("Ctrl-C: stopping"),
                    _ = term.recv() => tracing::info!("SIGTERM: stopping"),
                }
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot handle SIGTERM; only Ctrl-C stops cleanly")
            }
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("Ctrl-C: stopping");
}

/// The `[stats]` values the API reads per request (see [`Reloadable`]).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Policy {
    categories: Vec<String>,
    earliest_received_at: chrono::NaiveDate,
    escalation_due_hours: u32,
}

impl Policy {
    fn from_config(file: &FileConfig) -> Self {
        let stats = file.stats.clone().unwrap_or_default();
        Self {
            categories: stats.categories.unwrap_or_default(),
            earliest_received_at: stats
                .earliest_received_at
                .unwrap_or(super::DEFAULT_EARLIEST_RECEIVED_AT),
            escalation_due_hours: stats
                .escalation_due_hours
                .unwrap_or(crate::notify::DEFAULT_DUE_HOURS)
                .max(1),
        }
    }
}

/// Everything SIGHUP can replace while serving, shared with the running server (see
/// [`reload`]).
#[derive(Clone)]
pub struct Reloadable {
    /// How the server was started: the configuration file's path and the start-up file
    /// (keys that need a restart are compared against it).
    pub opts: ServeOptions,
    /// The token table.
    pub auth: Arc<super::auth::Auth>,
    /// `[http] allowed_hosts` and `cors_origins`.
    pub guard: super::Live<super::guard::Guard>,
    /// `[stats] categories`.
    pub categories: super::Live<Vec<String>>,
    /// `[stats] earliest_received_at`.
    pub earliest_received_at: super::Live<chrono::NaiveDate>,
    /// `[stats] escalation_due_hours` (API and pages; the notifier keeps its start-up value).
    pub escalation_due_hours: super::Live<u32>,
    /// `[http] header_read_timeout_secs`, `max_connections`, `shutdown_timeout_secs`.
    pub limits: super::Live<Limits>,
    /// The statistics store (`[stats]` retention days).
    pub store: Arc<Store>,
    /// `dictionaries/synonyms.txt` and `user_dict.csv`.
    pub dictionaries: Arc<crate::dictionaries::Dictionaries>,
}

impl std::fmt::Debug for Reloadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloadable")
            .field("data_dir", &self.opts.data_dir)
            .finish_non_exhaustive()
    }
}

/// On SIGHUP: re-reads the configuration file and applies what can change while serving
/// (see [`reload`]).
async fn reload_on_hangup(live: Reloadable) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hup = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot handle SIGHUP; configuration reload is off");
                return;
            }
        };
        while hup.recv().await.is_some() {
            let l = live.clone();
            match tokio::task::spawn_blocking(move || reload(&l)).await {
                Ok(Ok(r)) => {
                    tracing::info!(
                        tokens = r.tokens,
                        categories = r.categories,
                        synonym_groups = r.dictionaries.synonym_groups,
                        user_dict_rebuild = r.dictionaries.rebuild_job.as_deref().unwrap_or("none"),
                        "SIGHUP: reloaded the configuration (tokens, [http] hosts, CORS and \
                         limits, [stats] categories, dates and retention) and the dictionaries"
                    );
                    if !r.needs_restart.is_empty() {
                        tracing::warn!(
                            keys = %r.needs_restart.join(", "),
                            "SIGHUP: these changed keys need a restart; their start-up values stay in force"
                        );
                    }
                }
                Ok(Err(e)) => {
                    tracing::error!(error = %format!("{e:#}"), "SIGHUP: configuration not reloaded; the previous one stays in force");
                }
                Err(e) => tracing::error!(error = %e, "SIGHUP: reload task failed"),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = live;
}

/// What a reload applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reloaded {
    /// Tokens now in force.
    pub tokens: usize,
    /// Inquiry categories now in force (0: any).
    pub categories: usize,
    /// What the dictionary reload did.
    pub dictionaries: crate::dictionaries::ReloadReport,
    /// Keys whose new value differs from the start-up one but needs a restart (`addr`,
    /// `data_dir`, `[stats] database`, …): the start-up value stays in force.
    pub needs_restart: Vec<&'static str>,
}

/// Re-reads the configuration file (`--config`, else `DATA_DIR/kotae.toml`) and
/// `KOTAE_TOKENS` and applies, for the next request: the token table, `[http]
/// allowed_hosts`, `cors_origins`, `header_read_timeout_secs`, `max_connections`,
/// `shutdown_timeout_secs`, `[stats] categories`, `earliest_received_at`,
/// `escalation_due_hours`, the three retention periods (`--contact-retention-days` still
/// overrides), then reloads the dictionaries
/// ([`crate::dictionaries::Dictionaries::reload_dictionaries`]: synonyms at once, a
/// changed user dictionary through a background rebuild). Keys that cannot change while
/// serving are listed in [`Reloaded::needs_restart`] when they differ from the start-up
/// file.
///
/// # Errors
/// The file does not parse, a token entry is invalid, or the reload would switch between
/// an open API and tokens: nothing is changed then.
pub fn reload(live: &Reloadable) -> anyhow::Result<Reloaded> {
    let opts = &live.opts;
    let file = FileConfig::discover(opts.config.as_deref(), &opts.data_dir)?;
    let new = super::auth::Auth::from_config(std::env::var("KOTAE_TOKENS").ok().as_deref(), &file)?;
    // The only step that can refuse: before it nothing is applied.
    live.auth.replace(&new)?;
    let http_cfg = file.http.clone().unwrap_or_default();
    live.guard.set(super::guard::Guard::new(
        &http_cfg.allowed_hosts,
        &http_cfg.cors_origins,
        live.auth.is_enabled(),
    ));
    live.limits.set(Limits::from_config(&http_cfg));
    let policy = Policy::from_config(&file);
    let categories = policy.categories.len();
    live.categories.set(policy.categories);
    live.earliest_received_at.set(policy.earliest_received_at);
    live.escalation_due_hours.set(policy.escalation_due_hours);
    let stats = file.stats.clone().unwrap_or_default();
    let d = crate::stats::StoreOptions::new(PathBuf::new());
    live.store.set_retention(
        opts.contact_retention_days
            .or(stats.contact_retention_days)
            .unwrap_or(d.contact_retention_days),
        stats
            .search_log_retention_days
            .unwrap_or(d.search_log_retention_days),
        stats
            .summary_retention_days
            .unwrap_or(d.summary_retention_days),
    );
    Ok(Reloaded {
        tokens: new.token_count(),
        categories,
        dictionaries: live.dictionaries.reload_dictionaries(),
        needs_restart: needs_restart(&opts.file, &file),
    })
}

/// The keys of `new` that differ from `old` and are only read at start-up.
fn needs_restart(old: &FileConfig, new: &FileConfig) -> Vec<&'static str> {
    fn differ<T: std::fmt::Debug>(a: &T, b: &T) -> bool {
        format!("{a:?}") != format!("{b:?}")
    }
    let (os, ns) = (
        old.stats.clone().unwrap_or_default(),
        new.stats.clone().unwrap_or_default(),
    );
    let mut out = Vec::new();
    let mut check = |changed: bool, key: &'static str| {
        if changed {
            out.push(key);
        }
    };
    check(differ(&old.addr, &new.addr), "addr");
    check(differ(&old.data_dir, &new.data_dir), "data_dir");
    check(
        differ(&old.search_workers, &new.search_workers),
        "search_workers",
    );
    check(differ(&old.search_queue, &new.search_queue), "search_queue");
    check(
        differ(&old.search_threads, &new.search_threads),
        "search_threads",
    );
    check(
        differ(&old.watch_dictionaries, &new.watch_dictionaries),
        "watch_dictionaries",
    );
    check(differ(&os.database, &ns.database), "[stats] database");
    check(
        differ(&os.synchronous, &ns.synchronous),
        "[stats] synchronous",
    );
    check(
        differ(&os.search_log_queue, &ns.search_log_queue),
        "[stats] search_log_queue",
    );
    check(differ(&old.log, &new.log), "[log]");
    check(differ(&old.hooks, &new.hooks), "[hooks]");
    check(differ(&old.notify, &new.notify), "[notify]");
    out
}

/// Opens the statistics store with the `[stats]` settings.
fn open_store(
    data_dir: &Path,
    stats_cfg: &crate::config::StatsConfig,
    contact_retention_days: Option<u32>,
) -> anyhow::Result<Store> {
    let mut opts = StoreOptions::new(
        stats_cfg
            .database
            .clone()
            .unwrap_or_else(|| data_dir.join("kotae.db")),
    );
    opts.synchronous_full = match stats_cfg.synchronous.as_deref() {
        None | Some("full") => true,
        Some("normal") => false,
        Some(other) => bail!("[stats] synchronous must be \"full\" or \"normal\", got {other:?}"),
    };
    if let Some(d) = contact_retention_days.or(stats_cfg.contact_retention_days) {
        opts.contact_retention_days = d;
    }
    if let Some(d) = stats_cfg.search_log_retention_days {
        opts.search_log_retention_days = d;
    }
    if let Some(d) = stats_cfg.summary_retention_days {
        opts.summary_retention_days = d;
    }
    Store::open(&opts).with_context(|| format!("cannot open the database {}", opts.path.display()))
}

/// Deletes data past its retention period every [`PURGE_EVERY`] (the first run is at
/// start-up, before the server listens).
async fn purge_hourly(store: Arc<Store>) {
    let mut every = tokio::time::interval(PURGE_EVERY);
    every.tick().await;
    loop {
        every.tick().await;
        let s = store.clone();
        match tokio::task::spawn_blocking(move || s.purge(chrono::Utc::now())).await {
            Ok(Ok(p)) if !p.is_empty() => tracing::info!(
                contacts = p.contacts,
                searches = p.searches,
                summaries = p.summaries,
                "deleted data past its retention period"
            ),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot delete data past its retention period")
            }
            _ => {}
        }
    }
}

/// Builds the webhook job worker (it also resumes jobs left by a previous run) and turns
/// the CMS webhook on when `KOTAE_CMS_SECRET` or `[hooks.cms] secret` is set.
fn cms_hook(
    state: &mut super::AppState,
    file: &FileConfig,
    engine: Arc<Engine>,
    store: Arc<crate::stats::Store>,
) -> anyhow::Result<crate::jobs::JobWorker> {
    let cfg = file
        .hooks
        .as_ref()
        .and_then(|h| h.cms.clone())
        .unwrap_or_default();
    let mut opts = crate::jobs::JobOptions::default();
    if let Some(n) = cfg.max_attempts {
        opts.max_attempts = n.max(1);
    }
    if let Some(ms) = cfg.retry_base_ms {
        opts.retry_base = Duration::from_millis(ms);
    }
    let worker = crate::jobs::JobWorker::new(engine, store, opts)
        .map_err(|e| anyhow::anyhow!("cannot build the webhook's HTTP client: {e}"))?;
    let secret = std::env::var("KOTAE_CMS_SECRET")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or(cfg.secret);
    state.jobs = Some(worker.queue());
    if let Some(secret) = secret {
        if secret.len() < 16 {
            bail!(
                "the CMS webhook secret (KOTAE_CMS_SECRET or [hooks.cms] secret) must be at least 16 bytes"
            );
        }
        *state = state.clone().with_cms_hook(&secret, worker.queue());
    }
    Ok(worker)
}

/// The escalation notifier when `[notify]` has a secret (or `KOTAE_NOTIFY_SECRET` is set)
/// and at least one URL.
fn notifier(
    file: &FileConfig,
    store: Arc<Store>,
    due_hours: u32,
) -> anyhow::Result<Option<crate::notify::Notifier>> {
    let cfg = file.notify.clone().unwrap_or_default();
    let secret = std::env::var("KOTAE_NOTIFY_SECRET")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or(cfg.secret);
    if cfg.url.is_none() && cfg.departments.is_empty() {
        return Ok(None);
    }
    let Some(secret) = secret else {
        bail!("[notify] has URLs but no secret: set [notify] secret or KOTAE_NOTIFY_SECRET");
    };
    if secret.len() < 16 {
        bail!(
            "the notify secret ([notify] secret or KOTAE_NOTIFY_SECRET) must be at least 16 bytes"
        );
    }
    let mut opts = crate::notify::NotifyOptions::new(secret.as_bytes());
    opts.default_url = cfg.url;
    for (d, url) in &cfg.departments {
        opts = opts.department(d, url);
    }
    opts.due_hours = due_hours;
    if let Some(n) = cfg.max_attempts {
        opts.max_attempts = n.max(1);
    }
    if let Some(ms) = cfg.retry_base_ms {
        opts.retry_base_ms = ms;
    }
    let n = crate::notify::Notifier::new(store, opts)
        .map_err(|e| anyhow::anyhow!("cannot build the notifier's HTTP client: {e}"))?;
    Ok(Some(n))
}

/// Returns `addr` with its host replaced by 127.0.0.1 unless it is a loopback host.
fn loopback_only(addr: &str) -> String {
    let (host, port) = addr.rsplit_once(':').unwrap_or((addr, "7700"));
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        addr.to_string()
    } else {
        format!("127.0.0.1:{port}")
    }
}
