//! Idempotency keys of `POST /api/inquiries` (the `Idempotency-Key` header of the IETF
//! draft `draft-ietf-httpapi-idempotency-key-header`): a retried request with the same key
//! and the same body gets the inquiry recorded the first time instead of a second one; the
//! same key with another body is refused.
//!
//! The key is looked up and stored in the transaction that records the inquiry (see
//! [`Store::record_inquiry_once`](super::Store::record_inquiry_once)), so an inquiry
//! committed just before a crash is found by the retry. Only SHA-256 hashes of the key and
//! of the body are stored, scoped by the caller's token, for [`KEY_RETENTION_HOURS`].

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::StatsError;
use super::store::Recorded;

type Result<T, E = StatsError> = std::result::Result<T, E>;

/// Hours a key is remembered: a retry later than this records a new inquiry. The draft
/// leaves the period to the server; 24 hours is Stripe's, and covers a client retrying
/// after a restart the same day.
pub const KEY_RETENTION_HOURS: i64 = 24;

/// Longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 255;

/// A checked key, bound to the caller and to the request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    scope: String,
    key_sha256: [u8; 32],
    body_sha256: [u8; 32],
}

impl IdempotencyKey {
    /// The key `key` of the caller `scope` (its token id; `None` on an open API) for a
    /// request with `body`.
    ///
    /// # Errors
    /// A message when `key` is empty, longer than [`MAX_KEY_LEN`] bytes, or holds anything
    /// but visible ASCII.
    pub fn new(key: &str, scope: Option<&str>, body: &[u8]) -> std::result::Result<Self, String> {
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(format!(
                "`Idempotency-Key` must be 1 to {MAX_KEY_LEN} characters"
            ));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(
                "`Idempotency-Key` may hold visible ASCII only (a UUID is a good key)".into(),
            );
        }
        Ok(Self {
            scope: scope.unwrap_or_default().to_string(),
            key_sha256: Sha256::digest(key.as_bytes()).into(),
            body_sha256: Sha256::digest(body).into(),
        })
    }
}

/// What the table says about a key.
pub(super) enum Seen {
    /// Not seen (or seen longer ago than [`KEY_RETENTION_HOURS`]).
    New,
    /// Seen with the same body: the ids recorded then.
    Replay(Vec<Recorded>),
}

fn cutoff(now_ms: i64) -> i64 {
    now_ms - KEY_RETENTION_HOURS * 3_600_000
}

/// Looks `key` up.
///
/// # Errors
/// [`StatsError::KeyReused`] when the key was used with another body; SQLite errors.
pub(super) fn lookup(conn: &Connection, key: &IdempotencyKey, now_ms: i64) -> Result<Seen> {
    let row: Option<(Vec<u8>, String)> = conn
        .prepare_cached(
            "SELECT body_sha256, response FROM idempotency_keys \
             WHERE scope = ?1 AND key_sha256 = ?2 AND created_ms >= ?3",
        )?
        .query_row(
            params![key.scope, key.key_sha256.as_slice(), cutoff(now_ms)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        None => Ok(Seen::New),
        Some((body, _)) if body != key.body_sha256 => Err(StatsError::KeyReused(
            "this `Idempotency-Key` was used with a different request body; use a new key \
             for a new inquiry"
                .into(),
        )),
        Some((_, response)) => serde_json::from_str(&response)
            .map(Seen::Replay)
            .map_err(|e| StatsError::Unavailable(format!("stored idempotent answer: {e}"))),
    }
}

/// Remembers `key` with the ids it recorded (replacing an expired row).
///
/// # Errors
/// SQLite errors.
pub(super) fn remember(
    conn: &Connection,
    key: &IdempotencyKey,
    recorded: &[Recorded],
    now_ms: i64,
) -> Result<()> {
    let response = serde_json::to_string(recorded)
        .map_err(|e| StatsError::Unavailable(format!("idempotent answer: {e}")))?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO idempotency_keys \
         (scope, key_sha256, body_sha256, response, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        key.scope,
        key.key_sha256.as_slice(),
        key.body_sha256.as_slice(),
        response,
        now_ms
    ])?;
    Ok(())
}

/// Deletes keys past [`KEY_RETENTION_HOURS`]; returns how many.
///
/// # Errors
/// SQLite errors.
pub(super) fn purge(conn: &Connection, now_ms: i64) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM idempotency_keys WHERE created_ms < ?1",
        [cutoff(now_ms)],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_and_bound_to_scope_and_body() {
        assert!(IdempotencyKey::new("", None, b"{}").is_err());
        assert!(IdempotencyKey::new("a b", None, b"{}").is_err());
        assert!(IdempotencyKey::new("キー", None, b"{}").is_err());
        assert!(IdempotencyKey::new(&"k".repeat(MAX_KEY_LEN + 1), None, b"{}").is_err());
        let a = IdempotencyKey::new("k-1", None, b"{}").unwrap();
        assert_eq!(a, IdempotencyKey::new("k-1", Some(""), b"{}").unwrap());
        assert_ne!(a, IdempotencyKey::new("k-1", Some("tok"), b"{}").unwrap());
        assert_ne!(a, IdempotencyKey::new("k-1", None, b"{ }").unwrap());
        assert_ne!(a, IdempotencyKey::new("k-2", None, b"{}").unwrap());
    }
}
