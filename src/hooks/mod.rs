//! The CMS approval webhook: signature verification and delivery parsing (no I/O).
//!
//! A delivery is authenticated by a secret shared with the CMS, with the scheme of Stripe's
//! and GitHub's webhooks: the header `X-Kotae-Timestamp` holds the Unix time in seconds and
//! `X-Kotae-Signature` holds `sha256=` + the lowercase hex HMAC-SHA256 (RFC 2104, FIPS 180-4)
//! of `"<timestamp>.<raw body>"` under the secret. The MAC is compared in constant time
//! (`hmac`'s `verify_slice`); a timestamp more than [`TOLERANCE_SECS`] from now is refused
//! so that a captured delivery cannot be replayed later. Within the window, a replay has the
//! same `delivery_id` and is answered with the first job (see [`crate::jobs`]).
//!
//! The HTTP adapter is `crate::http::hooks`; the work itself is done by [`crate::jobs`].

use chrono::{DateTime, FixedOffset};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Largest accepted delivery body, in bytes (1 MiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Most pages in one delivery.
pub const MAX_PAGES: usize = 100;
/// Largest accepted distance between `X-Kotae-Timestamp` and the server clock, in seconds
/// (Stripe's default tolerance).
pub const TOLERANCE_SECS: i64 = 300;
/// Longest accepted `delivery_id`, in bytes.
pub const MAX_DELIVERY_ID_BYTES: usize = 200;
/// Longest accepted page URL, in bytes.
pub const MAX_URL_BYTES: usize = 2048;

/// Header with the delivery's Unix timestamp in seconds.
pub const TIMESTAMP_HEADER: &str = "x-kotae-timestamp";
/// Header with `sha256=<hex HMAC>`.
pub const SIGNATURE_HEADER: &str = "x-kotae-signature";

type HmacSha256 = Hmac<Sha256>;

/// Why a delivery's signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A header is missing or malformed, or the MAC does not match.
    #[error("missing or wrong signature: {0}")]
    Bad(&'static str),
    /// The signature is right but the timestamp is too far from now.
    #[error(
        "the signature's timestamp is {skew_secs} s from the server clock (at most {TOLERANCE_SECS} s)"
    )]
    Stale {
        /// Distance from now, in seconds.
        skew_secs: i64,
    },
}

impl SignatureError {
    /// The API error code: `bad_signature` or `stale_signature`.
    pub fn code(&self) -> &'static str {
        match self {
            SignatureError::Bad(_) => "bad_signature",
            SignatureError::Stale { .. } => "stale_signature",
        }
    }
}

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length (RFC 2104 §2): `new_from_slice` cannot fail.
    let mut m = HmacSha256::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// Returns the `X-Kotae-Signature` value for `body` sent at `timestamp` (Unix seconds, as
/// written in `X-Kotae-Timestamp`): `sha256=<lowercase hex>`.
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// Checks a delivery's headers against `secret` at `now_unix` (seconds).
///
/// # Errors
/// [`SignatureError::Bad`] for a missing or malformed header or a MAC that does not match
/// (compared in constant time); [`SignatureError::Stale`] when the MAC matches but the
/// timestamp is more than [`TOLERANCE_SECS`] from `now_unix`.
pub fn verify(
    secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_unix: i64,
) -> Result<(), SignatureError> {
    let ts = timestamp
        .map(str::trim)
        .ok_or(SignatureError::Bad("no X-Kotae-Timestamp header"))?;
    let ts_secs: i64 = ts
        .parse()
        .map_err(|_| SignatureError::Bad("X-Kotae-Timestamp is not Unix seconds"))?;
    let sig = signature
        .map(str::trim)
        .ok_or(SignatureError::Bad("no X-Kotae-Signature header"))?;
    let hex_mac = sig.strip_prefix("sha256=").ok_or(SignatureError::Bad(
        "X-Kotae-Signature must start with sha256=",
    ))?;
    let given =
        hex::decode(hex_mac).map_err(|_| SignatureError::Bad("X-Kotae-Signature is not hex"))?;
    mac(secret, ts, body)
        .verify_slice(&given)
        .map_err(|_| SignatureError::Bad("the signature does not match"))?;
    let skew_secs = (now_unix - ts_secs).abs();
    if skew_secs > TOLERANCE_SECS {
        return Err(SignatureError::Stale { skew_secs });
    }
    Ok(())
}

/// What a delivery reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HookEvent {
    /// The pages are live: fetch (or take `html`), upsert their materials, remove the ones
    /// a page no longer has.
    Approved,
    /// The pages are withdrawn: remove every material that came from them.
    Unpublished,
}

impl HookEvent {
    /// `approved` or `unpublished`.
    pub fn as_str(self) -> &'static str {
        match self {
            HookEvent::Approved => "approved",
            HookEvent::Unpublished => "unpublished",
        }
    }

    /// Parses `approved` or `unpublished`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "approved" => Some(Self::Approved),
            "unpublished" => Some(Self::Unpublished),
            _ => None,
        }
    }
}

/// One page of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryPage {
    /// The page URL (absolute http or https), normalized as the crawler normalizes URLs.
    pub url: String,
    /// The page's HTML when the CMS sends it (used instead of fetching `url`).
    #[serde(default)]
    pub html: Option<String>,
}

/// A parsed, validated delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// The CMS's id of this delivery; the same id again is the same job.
    pub delivery_id: String,
    /// `approved` or `unpublished`.
    pub event: HookEvent,
    /// When the change was approved (RFC 3339), informational.
    #[serde(default)]
    pub approved_at: Option<DateTime<FixedOffset>>,
    /// The pages, 1 to [`MAX_PAGES`].
    pub pages: Vec<DeliveryPage>,
}

/// What kind of problem a [`DeliveryError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryErrorKind {
    /// Not JSON of the delivery's shape (API code `bad_json`).
    Json,
    /// A field's value is not allowed (API code `invalid_delivery`).
    Field,
}

/// Why a delivery body is refused (answered 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    /// What kind of problem.
    pub kind: DeliveryErrorKind,
    /// What is wrong.
    pub message: String,
}

fn invalid(message: String) -> DeliveryError {
    DeliveryError {
        kind: DeliveryErrorKind::Field,
        message,
    }
}

/// Parses and validates a delivery body; page URLs come back normalized.
///
/// # Errors
/// [`DeliveryError`] of kind `Json` for malformed JSON, unknown fields or wrong types
/// (serde's message, with line and column), `Field` for an empty or overlong
/// `delivery_id`, no pages or more than [`MAX_PAGES`], a URL that is not absolute http(s),
/// or `html` on an `unpublished` page.
pub fn parse_delivery(body: &[u8]) -> Result<Delivery, DeliveryError> {
    let mut d: Delivery = serde_json::from_slice(body).map_err(|e| DeliveryError {
        kind: DeliveryErrorKind::Json,
        message: format!("the delivery is not valid: {e}"),
    })?;
    d.delivery_id = d.delivery_id.trim().to_string();
    if d.delivery_id.is_empty() || d.delivery_id.len() > MAX_DELIVERY_ID_BYTES {
        return Err(invalid(format!(
            "`delivery_id` must be 1 to {MAX_DELIVERY_ID_BYTES} bytes"
        )));
    }
    if d.pages.is_empty() || d.pages.len() > MAX_PAGES {
        return Err(invalid(format!(
            "`pages` must hold 1 to {MAX_PAGES} pages, got {}",
            d.pages.len()
        )));
    }
    for (i, p) in d.pages.iter_mut().enumerate() {
        if p.url.len() > MAX_URL_BYTES {
            return Err(invalid(format!(
                "pages[{i}].url is longer than {MAX_URL_BYTES} bytes"
            )));
        }
        let Some(u) = crate::crawl::url::parse_normalized(p.url.trim()) else {
            return Err(invalid(format!(
                "pages[{i}].url {:?} is not an absolute http or https URL",
                p.url
            )));
        };
        p.url = u.to_string();
        if d.event == HookEvent::Unpublished && p.html.is_some() {
            return Err(invalid(format!(
                "pages[{i}]: `html` is only for `approved` deliveries"
            )));
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec-test-0123456789";

    #[test]
    fn a_signed_body_verifies_and_any_change_breaks_it() {
        let body = br#"{"delivery_id":"d1"}"#;
        let sig = sign(SECRET, "1764550000", body);
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64, "{sig}");
        let ok = |ts: &str, s: &str, b: &[u8], now| verify(SECRET, Some(ts), Some(s), b, now);
        assert_eq!(ok("1764550000", &sig, body, 1764550000), Ok(()));
        assert_eq!(ok("1764550000", &sig, body, 1764550300), Ok(()));
        let wrong_body = ok("1764550000", &sig, br#"{"delivery_id":"d2"}"#, 1764550000);
        assert_eq!(wrong_body.unwrap_err().code(), "bad_signature");
        // The timestamp is signed: moving it breaks the MAC rather than the window.
        let moved = ok("1764550001", &sig, body, 1764550000);
        assert_eq!(moved.unwrap_err().code(), "bad_signature");
        let other_key = verify(b"another secret", Some("1764550000"), Some(&sig), body, 0);
        assert_eq!(other_key.unwrap_err().code(), "bad_signature");
        assert_eq!(
            ok("1764550000", &sig, body, 1764550301),
            Err(SignatureError::Stale { skew_secs: 301 })
        );
        assert_eq!(
            ok("1764550000", &sig, body, 1764549699).unwrap_err().code(),
            "stale_signature"
        );
    }

    #[test]
    fn missing_and_malformed_headers_are_bad_signatures() {
        let body = b"{}";
        let sig = sign(SECRET, "100", body);
        for (ts, s) in [
            (None, Some(sig.as_str())),
            (Some("100"), None),
            (Some("soon"), Some(sig.as_str())),
            (Some("100"), Some(&sig[7..])),
            (Some("100"), Some("sha256=zz")),
            (Some("100"), Some("sha256=")),
        ] {
            let e = verify(SECRET, ts, s, body, 100).unwrap_err();
            assert_eq!(e.code(), "bad_signature", "{ts:?} {s:?}");
        }
    }

    #[test]
    fn deliveries_are_validated() {
        let d = parse_delivery(
            br#"{"delivery_id":" cms-1 ","event":"approved","approved_at":"2026-12-01T10:15:00+09:00",
                 "pages":[{"url":"HTTPS://www.Pref.example.lg.jp/kurashi/faq.html#top","html":null}]}"#,
        )
        .unwrap();
        assert_eq!(d.delivery_id, "cms-1");
        assert_eq!(
            d.pages[0].url,
            "https://www.pref.example.lg.jp/kurashi/faq.html"
        );
        let err = |b: &str| parse_delivery(b.as_bytes()).unwrap_err();
        assert_eq!(err("{").kind, DeliveryErrorKind::Json);
        assert_eq!(
            err(r#"{"delivery_id":"x","event":"deleted","pages":[]}"#).kind,
            DeliveryErrorKind::Json
        );
        assert_eq!(
            err(r#"{"delivery_id":"x","event":"approved","pages":[],"extra":1}"#).kind,
            DeliveryErrorKind::Json
        );
        assert_eq!(
            err(r#"{"delivery_id":"","event":"approved","pages":[{"url":"http://a/"}]}"#).kind,
            DeliveryErrorKind::Field
        );
        assert_eq!(
            err(r#"{"delivery_id":"x","event":"approved","pages":[]}"#).kind,
            DeliveryErrorKind::Field
        );
        assert_eq!(
            err(r#"{"delivery_id":"x","event":"approved","pages":[{"url":"/faq.html"}]}"#).kind,
            DeliveryErrorKind::Field
        );
        assert_eq!(
            err(r#"{"delivery_id":"x","event":"unpublished","pages":[{"url":"http://a/","html":"<p>"}]}"#)
                .kind,
            DeliveryErrorKind::Field
        );
        let many: Vec<String> = (0..=MAX_PAGES)
            .map(|i| format!(r#"{{"url":"http://a/{i}.html"}}"#))
            .collect();
        let body = format!(
            r#"{{"delivery_id":"x","event":"approved","pages":[{}]}}"#,
            many.join(",")
        );
        assert!(err(&body).message.contains("101"));
    }
}
