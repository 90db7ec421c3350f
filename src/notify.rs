//! Outbound escalation notifications: a signed webhook to the department's URL when an
//! escalation is opened, answered, reassigned, or overdue (open longer than
//! `[stats] escalation_due_hours`), so that a center can route it to mail or chat.
//!
//! # Contract
//!
//! `POST <url>` with `Content-Type: application/json` and the body
//! `{delivery_id, event, at, department, due_at, escalation}` (`escalation` as
//! `GET /api/escalations/{id}` answers it, without the caller's contact details and the
//! history; times JST). It is signed with the scheme of the inbound CMS hook
//! ([`crate::hooks`]): `X-Kotae-Timestamp` is the Unix time in seconds of the attempt and
//! `X-Kotae-Signature` is `sha256=` + hex HMAC-SHA256 of `"<timestamp>.<body>"` under
//! `[notify] secret` (a receiver verifies it with [`crate::hooks::verify`]'s rules);
//! `X-Kotae-Event` and `X-Kotae-Delivery` repeat the event and the delivery id, which a
//! receiver uses to drop a repeat (a delivery can arrive twice if an answer is lost).
//! Any 2xx is success; anything else, or no answer within the timeout, is retried after
//! `retry_base_ms` × 2^(attempts − 1) (capped at one hour) until `max_attempts`, then the
//! notification is `failed`.
//!
//! # Durability
//!
//! What to announce is derived from committed escalations ([`Store::enqueue_notifications`])
//! and kept in the `notifications` table with its attempts and next attempt time, so a
//! restart loses no notification and resumes the retries where they were.
//!
//! # Routing
//!
//! `[notify.departments]` maps department names (matched in canonical form, a 課's URL also
//! serving its 係s; the longest match wins) to URLs; `[notify] url` serves the others. A
//! department with neither gets no notification.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::departments::{canonical, path_contains};
use crate::stats::Store;
use crate::stats::notifications::PendingNotification;

/// Header with the event (`opened`, `answered`, `reassigned`, `overdue`).
pub const EVENT_HEADER: &str = "x-kotae-event";
/// Header with the delivery id.
pub const DELIVERY_HEADER: &str = "x-kotae-delivery";
/// Default hours after which an open escalation is overdue (three days).
pub const DEFAULT_DUE_HOURS: u32 = 72;
/// Longest wait between two attempts.
const MAX_BACKOFF_MS: u64 = 3_600_000;
/// Notifications sent per round.
const BATCH: usize = 50;

/// Where and how to notify.
#[derive(Debug, Clone)]
pub struct NotifyOptions {
    /// The HMAC key (at least 16 bytes).
    pub secret: Vec<u8>,
    /// URL for departments without their own.
    pub default_url: Option<String>,
    /// `(canonical department name, URL)`.
    pub departments: Vec<(String, String)>,
    /// Hours after which an open escalation is overdue.
    pub due_hours: u32,
    /// Attempts before a notification fails (default 8).
    pub max_attempts: u32,
    /// Wait after the first failed attempt, milliseconds, doubled after each further one
    /// (default 30,000).
    pub retry_base_ms: u64,
    /// Time for one attempt, milliseconds (default 10,000).
    pub timeout_ms: u64,
    /// Time between two rounds, milliseconds (default 5,000).
    pub interval_ms: u64,
}

impl NotifyOptions {
    /// Options with `secret`, no URL and the defaults.
    pub fn new(secret: &[u8]) -> Self {
        Self {
            secret: secret.to_vec(),
            default_url: None,
            departments: Vec::new(),
            due_hours: DEFAULT_DUE_HOURS,
            max_attempts: 8,
            retry_base_ms: 30_000,
            timeout_ms: 10_000,
            interval_ms: 5_000,
        }
    }

    /// Adds the URL of `department` (any spelling: width, spaces, old kanji).
    pub fn department(mut self, department: &str, url: &str) -> Self {
        self.departments
            .push((canonical(department), url.to_string()));
        self
    }

    /// The URL that notifications for `department` go to.
    pub fn route(&self, department: &str) -> Option<String> {
        let d = canonical(department);
        self.departments
            .iter()
            .filter(|(name, _)| path_contains(&d, name))
            .max_by_key(|(name, _)| name.len())
            .map(|(_, url)| url.clone())
            .or_else(|| self.default_url.clone())
    }

    /// The wait before attempt `attempts + 1`, after `attempts` failures.
    pub fn backoff_ms(&self, attempts: u32) -> u64 {
        let shift = attempts.saturating_sub(1).min(20);
        self.retry_base_ms
            .saturating_mul(1 << shift)
            .min(MAX_BACKOFF_MS)
    }
}

/// The sender: every `interval_ms`, writes the notifications due and delivers the queued
/// ones whose time has come.
#[derive(Debug)]
pub struct Notifier {
    store: Arc<Store>,
    client: reqwest::Client,
    opts: Arc<NotifyOptions>,
}

impl Notifier {
    /// A notifier over `store`.
    ///
    /// # Errors
    /// The HTTP client cannot be built (message).
    pub fn new(store: Arc<Store>, opts: NotifyOptions) -> Result<Self, String> {
        let client = crate::crawl::fetch::client(
            concat!("kotae/", env!("CARGO_PKG_VERSION"), " (notify)"),
            opts.timeout_ms,
        )?;
        Ok(Self {
            store,
            client,
            opts: Arc::new(opts),
        })
    }

    /// One round: writes what is due, then attempts every queued notification whose time
    /// has come. Returns the notifications delivered.
    pub async fn round(&self) -> usize {
        let (store, opts) = (self.store.clone(), self.opts.clone());
        let due = tokio::task::spawn_blocking(move || {
            let now = Utc::now().timestamp_millis();
            let due_ms = i64::from(opts.due_hours) * 3_600_000;
            store.enqueue_notifications(now, due_ms, &|d| opts.route(d))?;
            store.due_notifications(now, BATCH)
        })
        .await;
        let pending = match due {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "notify: cannot read the outbox");
                return 0;
            }
            Err(e) => {
                tracing::error!(error = %e, "notify: blocking task failed");
                return 0;
            }
        };
        let mut delivered = 0;
        for n in pending {
            let error = self.send(&n).await.err();
            if error.is_none() {
                delivered += 1;
            }
            let attempts = n.attempts + 1;
            let retry_at = (error.is_some() && attempts < self.opts.max_attempts)
                .then(|| Utc::now().timestamp_millis() + self.opts.backoff_ms(attempts) as i64);
            if let Some(e) = &error {
                tracing::warn!(delivery = %n.delivery_id, attempts, error = %e, "notify: delivery failed");
            }
            let store = self.store.clone();
            let r = tokio::task::spawn_blocking(move || {
                store.record_notification_attempt(n.id, error.as_deref(), retry_at)
            })
            .await;
            if !matches!(r, Ok(Ok(()))) {
                tracing::error!("notify: cannot record a delivery attempt");
            }
        }
        delivered
    }

    async fn send(&self, n: &PendingNotification) -> Result<(), String> {
        let ts = Utc::now().timestamp().to_string();
        let sig = crate::hooks::sign(&self.opts.secret, &ts, n.body.as_bytes());
        let r = self
            .client
            .post(&n.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(crate::hooks::TIMESTAMP_HEADER, &ts)
            .header(crate::hooks::SIGNATURE_HEADER, sig)
            .header(EVENT_HEADER, &n.event)
            .header(DELIVERY_HEADER, &n.delivery_id)
            .body(n.body.clone())
            .send()
            .await
            .map_err(|e| format!("{e}"))?;
        if r.status().is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {}", r.status().as_u16()))
        }
    }

    /// Runs rounds every `interval_ms` until the task is dropped.
    pub async fn run(self) {
        let mut tick = tokio::time::interval(Duration::from_millis(self.opts.interval_ms.max(10)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.round().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_matching_department_wins_and_the_default_serves_the_rest() {
        let mut o = NotifyOptions::new(b"0123456789abcdef")
            .department("健康福祉部", "http://h/bu")
            .department("健康福祉部　国保医療課", "http://h/ka");
        assert_eq!(
            o.route("健康福祉部 国保医療課 国保係").as_deref(),
            Some("http://h/ka")
        );
        assert_eq!(
            o.route("健康福祉部 生活衛生課").as_deref(),
            Some("http://h/bu")
        );
        assert_eq!(o.route("環境局"), None);
        o.default_url = Some("http://h/all".into());
        assert_eq!(o.route("環境局").as_deref(), Some("http://h/all"));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let o = NotifyOptions::new(b"0123456789abcdef");
        assert_eq!(o.backoff_ms(1), 30_000);
        assert_eq!(o.backoff_ms(2), 60_000);
        assert_eq!(o.backoff_ms(30), MAX_BACKOFF_MS);
    }
}
