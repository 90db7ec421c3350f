//! The search log writer: a bounded queue and a background thread that writes batches.
//!
//! [`SearchLogger::log`] never blocks and never fails: when the queue is full the record
//! is dropped and counted ([`SearchLogger::dropped`]), and the metrics built on the log say
//! that they are incomplete. Queries are redacted by the store when written. The writer
//! runs at normal priority: at the idle scheduling class (`SCHED_IDLE`) it starved under
//! load and 72.6 % of the records were dropped at 1,800 searches/s (issue 11 §4); one
//! batched commit per 50 ms keeps its share of the CPU small.
//!
//! Lost records are also counted per JST day in the database (`search_log_losses`,
//! migration 0007): the writer adds the day's drops and failures after each batch, at
//! least once a second while records are lost, and on [`SearchLogger::flush`] and
//! [`SearchLogger::shutdown`], so a report over a period says it is incomplete after a
//! restart too ([`Store::search_log_losses_in`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde::Serialize;

use super::gaps::Window;
use super::{SearchRecord, StatsError, Store};

/// Records lost per JST day (start of the day in Unix ms) not yet added to the database:
/// (dropped, failed).
type Losses = Mutex<BTreeMap<i64, (u64, u64)>>;

/// The JST day holding `ms` (Unix milliseconds), as the Unix milliseconds of its midnight.
pub fn jst_day_ms(ms: i64) -> i64 {
    const DAY: i64 = 86_400_000;
    const JST: i64 = 9 * 3_600_000;
    (ms + JST).div_euclid(DAY) * DAY - JST
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn add_loss(losses: &Losses, day_ms: i64, dropped: u64, failed: u64) {
    let mut l = losses.lock().unwrap_or_else(|e| e.into_inner());
    let e = l.entry(day_ms).or_default();
    e.0 += dropped;
    e.1 += failed;
}

/// Search-log records lost in a period (see [`Store::search_log_losses_in`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SearchLogLosses {
    /// Records dropped because the writer's queue was full.
    pub dropped: u64,
    /// Records the database refused.
    pub failed: u64,
}

impl SearchLogLosses {
    /// Whether nothing was lost.
    pub fn is_complete(&self) -> bool {
        self.dropped == 0 && self.failed == 0
    }
}

impl Store {
    /// Adds lost records to their days' counts (`(day_ms, dropped, failed)`, `day_ms` as
    /// [`jst_day_ms`]), in one transaction.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn add_search_log_losses(&self, losses: &[(i64, u64, u64)]) -> Result<(), StatsError> {
        if losses.is_empty() {
            return Ok(());
        }
        self.write(|conn| {
            let tx = conn.transaction()?;
            for &(day, dropped, failed) in losses {
                tx.execute(
                    "INSERT INTO search_log_losses (day_ms, dropped, failed) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (day_ms) DO UPDATE SET dropped = dropped + excluded.dropped, \
                     failed = failed + excluded.failed",
                    rusqlite::params![
                        day,
                        i64::try_from(dropped).unwrap_or(i64::MAX),
                        i64::try_from(failed).unwrap_or(i64::MAX)
                    ],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Records lost on the JST days in `w` (a day counts when its midnight is in `w`, so
    /// [`Window::jst_days`] windows count whole days).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn search_log_losses_in(&self, w: Window) -> Result<SearchLogLosses, StatsError> {
        let (from, to) = (w.from_ms.unwrap_or(i64::MIN), w.to_ms.unwrap_or(i64::MAX));
        self.read(|conn| {
            let (d, f): (i64, i64) = conn.query_row(
                "SELECT coalesce(sum(dropped), 0), coalesce(sum(failed), 0) \
                 FROM search_log_losses WHERE day_ms >= ?1 AND day_ms < ?2",
                [from, to],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok(SearchLogLosses {
                dropped: u64::try_from(d).unwrap_or(0),
                failed: u64::try_from(f).unwrap_or(0),
            })
        })
    }
}

/// Default queue capacity, in records.
pub const DEFAULT_QUEUE_CAPACITY: usize = 10_000;
/// Most records written in one transaction.
const MAX_BATCH: usize = 512;

enum Msg {
    Record(SearchRecord),
    Flush(SyncSender<()>),
    Stop,
}

/// Writes the search log in the background (see the module documentation).
pub struct SearchLogger {
    tx: SyncSender<Msg>,
    dropped: Arc<AtomicU64>,
    losses: Arc<Losses>,
    written: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// The writer thread, to wake it from its batch window (flush, shutdown).
    waker: std::thread::Thread,
}

impl std::fmt::Debug for SearchLogger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchLogger")
            .field("dropped", &self.dropped())
            .field("written", &self.written())
            .finish()
    }
}

impl SearchLogger {
    /// Starts the writer thread over `store` with a queue of `capacity` records.
    ///
    /// # Errors
    /// [`StatsError::Unavailable`] if the thread cannot be started.
    pub fn start(store: Arc<Store>, capacity: usize) -> Result<Self, StatsError> {
        let (tx, rx) = sync_channel(capacity.max(1));
        let written = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let losses = Arc::new(Losses::default());
        let (w, f, l) = (written.clone(), failed.clone(), losses.clone());
        let thread = std::thread::Builder::new()
            .name("kotae-search-log".into())
            .spawn(move || writer(&store, &rx, &w, &f, &l))
            .map_err(|e| StatsError::Unavailable(format!("cannot start the search log: {e}")))?;
        let waker = thread.thread().clone();
        Ok(Self {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
            losses,
            written,
            failed,
            thread: Mutex::new(Some(thread)),
            waker,
        })
    }

    /// Queues `record`; drops and counts it when the queue is full. Never blocks.
    pub fn log(&self, record: SearchRecord) {
        match self.tx.try_send(Msg::Record(record)) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                add_loss(&self.losses, jst_day_ms(now_ms()), 1, 0);
            }
        }
    }

    /// Returns the number of records dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Returns the number of records written.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Returns the number of records lost to database errors.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Waits until every record queued before this call is written, and the records lost
    /// so far are counted in the database (blocks).
    pub fn flush(&self) {
        let (ack_tx, ack_rx) = sync_channel(1);
        if self.tx.send(Msg::Flush(ack_tx)).is_ok() {
            self.waker.unpark();
            let _ = ack_rx.recv();
        }
    }

    /// Writes what is queued and the lost-record counts, and stops the writer thread
    /// (blocks). Later records are dropped and counted in memory only.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Msg::Stop);
        self.waker.unpark();
        let handle = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

impl Drop for SearchLogger {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// How long the writer gathers records before one commit.
const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(50);

/// How long the idle writer waits for a record before it writes pending loss counts.
const LOSS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Adds the pending loss counts to the database; kept for the next try when that fails.
fn persist_losses(store: &Store, losses: &Losses) {
    let pending: Vec<(i64, u64, u64)> = {
        let mut l = losses.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut *l)
            .into_iter()
            .map(|(d, (x, y))| (d, x, y))
            .collect()
    };
    if let Err(e) = store.add_search_log_losses(&pending) {
        tracing::warn!(error = %e, "cannot count the lost search-log records");
        for (d, x, y) in pending {
            add_loss(losses, d, x, y);
        }
    }
}

fn writer(
    store: &Store,
    rx: &Receiver<Msg>,
    written: &AtomicU64,
    failed: &AtomicU64,
    losses: &Losses,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut acks = Vec::new();
    let mut stop = false;
    // The last batch was cut at MAX_BATCH: records are waiting, so no sleeping.
    let mut backlog = false;
    while !stop {
        match rx.recv_timeout(LOSS_EVERY) {
            Ok(m) => handle(m, &mut batch, &mut acks, &mut stop),
            Err(RecvTimeoutError::Timeout) => {
                persist_losses(store, losses);
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => stop = true,
        }
        // Group commit: one fsync for what arrives within BATCH_WINDOW. The writer sleeps
        // through the window instead of waiting on the queue, so a search's `log` pushes
        // to the queue without waking it (no futex wake and context switch per search);
        // only the first record after an idle spell does. Flush and stop unpark it.
        if !stop && acks.is_empty() && !backlog {
            std::thread::park_timeout(BATCH_WINDOW);
        }
        while !stop && acks.is_empty() && batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(m) => handle(m, &mut batch, &mut acks, &mut stop),
                Err(_) => break,
            }
        }
        backlog = batch.len() >= MAX_BATCH;
        if !batch.is_empty() {
            match store.log_searches(&batch) {
                Ok(()) => {
                    written.fetch_add(batch.len() as u64, Ordering::Relaxed);
                }
                Err(e) => {
                    failed.fetch_add(batch.len() as u64, Ordering::Relaxed);
                    add_loss(losses, jst_day_ms(now_ms()), 0, batch.len() as u64);
                    tracing::warn!(error = %e, n = batch.len(), "cannot write the search log");
                }
            }
            batch.clear();
        }
        if stop || !acks.is_empty() || !losses.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
        {
            persist_losses(store, losses);
        }
        for a in acks.drain(..) {
            let _ = a.send(());
        }
    }
}

fn handle(m: Msg, batch: &mut Vec<SearchRecord>, acks: &mut Vec<SyncSender<()>>, stop: &mut bool) {
    match m {
        Msg::Record(r) => batch.push(r),
        Msg::Flush(a) => acks.push(a),
        Msg::Stop => *stop = true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jst_days_start_at_jst_midnight() {
        // 2026-04-01T23:59:59.999+09:00 and 2026-04-02T00:00:00+09:00.
        let before = chrono::DateTime::parse_from_rfc3339("2026-04-01T23:59:59.999+09:00")
            .unwrap()
            .timestamp_millis();
        let midnight = before + 1;
        assert_eq!(jst_day_ms(midnight), midnight);
        assert_eq!(jst_day_ms(before), midnight - 86_400_000);
        assert_eq!(jst_day_ms(midnight + 86_399_999), midnight);
    }

    #[test]
    fn losses_add_up_per_day_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kotae.db");
        let day = jst_day_ms(1_780_000_000_000);
        let next = day + 86_400_000;
        {
            let store = Store::open_path(&path).unwrap();
            store
                .add_search_log_losses(&[(day, 3, 0), (next, 0, 2)])
                .unwrap();
            store.add_search_log_losses(&[(day, 4, 1)]).unwrap();
        }
        let store = Store::open_path(&path).unwrap();
        let all = store.search_log_losses_in(Window::default()).unwrap();
        assert_eq!((all.dropped, all.failed), (7, 3));
        let first = Window {
            from_ms: Some(day),
            to_ms: Some(next),
        };
        let l = store.search_log_losses_in(first).unwrap();
        assert_eq!((l.dropped, l.failed), (7, 1));
        let later = Window {
            from_ms: Some(next + 86_400_000),
            to_ms: None,
        };
        assert!(store.search_log_losses_in(later).unwrap().is_complete());
    }

    #[test]
    fn a_full_queue_counts_its_drops_in_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open_path(&dir.path().join("kotae.db")).unwrap());
        let logger = SearchLogger::start(store.clone(), 1).unwrap();
        // The writer sleeps through its batch window after the first record, so a burst
        // fills the one-place queue.
        for i in 0..200 {
            logger.log(SearchRecord {
                query_id: format!("q{i}"),
                query: "国保".into(),
                hits: 0,
                took_ms: 0.1,
                top_ids: Vec::new(),
                at: chrono::Utc::now(),
                filters: None,
            });
        }
        let dropped = logger.dropped();
        assert!(dropped > 0, "a one-place queue took 200 records at once");
        logger.flush();
        let l = store.search_log_losses_in(Window::default()).unwrap();
        assert_eq!(l.dropped, dropped);
        assert_eq!(store.count_searches().unwrap() + dropped, 200);
    }
}
