//! Admission of searches: at most `workers` run at once, at most `queue` more wait, and a
//! search that finds the queue full is refused at once (`503 busy`, `Retry-After: 1`).
//!
//! A search is CPU work (a fraction of a millisecond on the localgovFAQ set, more on a
//! large corpus), so admitted searches run on tokio's blocking pool
//! (`spawn_blocking`), never on the async workers that accept connections and answer the
//! other routes; the running permits bound how many blocking threads searches occupy.
//! An [`Admission`] is taken before the search is handed over and held until it returns.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::{ApiCode, ApiError};

/// Default number of searches waiting for a worker before the API answers 503.
pub const DEFAULT_SEARCH_QUEUE: usize = 64;

/// Default number of searches running at once: the number of CPU cores.
pub fn default_search_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The search admission queue (see the [module documentation](self)).
#[derive(Debug)]
pub struct SearchQueue {
    /// `workers + queue` slots: a search holds one from admission to its end.
    slots: Arc<Semaphore>,
    /// `workers` permits: a search holds one while it runs.
    running: Arc<Semaphore>,
    workers: usize,
    queue: usize,
}

/// A search's place in the queue: taken by [`SearchQueue::try_admit`], released on drop.
#[derive(Debug)]
pub struct Admission {
    _slot: OwnedSemaphorePermit,
    running: Arc<Semaphore>,
}

impl SearchQueue {
    /// A queue running at most `workers` searches (at least 1) with at most `queue` waiting.
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        Self {
            slots: Arc::new(Semaphore::new(workers + queue)),
            running: Arc::new(Semaphore::new(workers)),
            workers,
            queue,
        }
    }

    /// Searches that may run at once.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Searches that may wait.
    pub fn queue(&self) -> usize {
        self.queue
    }

    /// Returns (running, waiting): searches running now and admitted searches waiting for a
    /// worker.
    pub fn depth(&self) -> (usize, usize) {
        let admitted = (self.workers + self.queue).saturating_sub(self.slots.available_permits());
        let running = self
            .workers
            .saturating_sub(self.running.available_permits());
        (running, admitted.saturating_sub(running))
    }

    /// Takes a place in the queue, or `None` when `workers + queue` searches are already
    /// admitted.
    pub fn try_admit(&self) -> Option<Admission> {
        let slot = self.slots.clone().try_acquire_owned().ok()?;
        Some(Admission {
            _slot: slot,
            running: self.running.clone(),
        })
    }

    /// Admits `search` and runs it on the blocking pool once a worker is free.
    ///
    /// # Errors
    /// [`ApiCode::Busy`] when the queue is full; `search`'s own error; an internal error if
    /// it panicked.
    pub async fn run<T: Send + 'static>(
        &self,
        search: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let admission = self.try_admit().ok_or_else(|| {
            ApiError::new(
                ApiCode::Busy,
                "too many searches in progress, retry shortly",
            )
        })?;
        admission.run(search).await
    }
}

impl Admission {
    /// Waits for a worker, then runs `search` on the blocking pool.
    ///
    /// # Errors
    /// `search`'s own error; an internal error if it panicked.
    pub async fn run<T: Send + 'static>(
        self,
        search: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ApiError::new(ApiCode::Internal, "internal error").caused_by(&e))?;
        let out = tokio::task::spawn_blocking(move || {
            let r = search();
            drop(running);
            r
        })
        .await?;
        drop(self);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn admits_workers_plus_queue_then_refuses() {
        let q = SearchQueue::new(2, 3);
        let held: Vec<Admission> = (0..5).map(|_| q.try_admit().unwrap()).collect();
        assert!(q.try_admit().is_none());
        let e = q.run(|| Ok(1)).await.unwrap_err();
        assert_eq!(e.code(), ApiCode::Busy);
        drop(held);
        assert_eq!(q.run(|| Ok(7)).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn at_most_workers_run_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let q = Arc::new(SearchQueue::new(2, 16));
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (q, now, peak) = (q.clone(), now.clone(), peak.clone());
                tokio::spawn(async move {
                    q.run(move || {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        now.fetch_sub(1, Ordering::SeqCst);
                        Ok(())
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let p = peak.load(Ordering::SeqCst);
        assert!((1..=2).contains(&p), "peak {p}");
    }
}
