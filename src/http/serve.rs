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

/// Serves until Ctrl-C.
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
    if let Some(c) = &stats_cfg.categories {
        state.categories = Arc::new(c.clone());
    }
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
    state.guard = Arc::new(super::guard::Guard::new(
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
    let _watcher = crate::watch::spawn(engine.clone(), watch_errors.clone())?;
    state.watch_errors = Some(watch_errors);
    let dictionaries = Arc::new(crate::dictionaries::Dictionaries::new(engine.clone()));
    let _dict_watcher = crate::dictionaries::watch(dictionaries.clone())?;
    state.dictionaries = Some(dictionaries);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        let _serve_file = crate::control::publish(data_dir, local, &control_token)
            .with_context(|| {
                format!("cannot write {}", data_dir.join(crate::control::SERVE_FILE).display())
            })?;
        tokio::spawn(worker.run());
        tokio::spawn(purge_hourly(store.clone()));
        println!(
            "kotae: serving {} materials from {} on http://{local}  (try http://{local}/api/search?q=国保); inquiries in {}",
            engine.materials().len(),
            data_dir.display(),
            store.path().display()
        );
        // Responses go out in one write per connection; without TCP_NODELAY a response
        // split by hyper could wait for the client's delayed ACK.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY");
            }
        });
        // The accept loop runs on a worker thread rather than on this (block_on) thread,
        // so a new connection's task starts on the worker that accepted it instead of
        // being handed across threads (a wake-up and a context switch per connection).
        let server = axum::serve(listener, super::app(state))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .into_future();
        tokio::spawn(server)
            .await
            .context("server task failed")?
            .context("server error")
    });
    logger.shutdown();
    result
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
