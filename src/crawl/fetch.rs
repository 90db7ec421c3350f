//! HTTP fetching: conditional GET, redirects followed by hand (with a limit and loop
//! detection), a size limit enforced while streaming and a hard timeout, so one bad page
//! never hangs the crawl.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderMap};
use reqwest::{Client, StatusCode};
use url::Url;

use super::url::normalize;

/// Response headers the crawler uses.
#[derive(Debug, Clone, Default)]
pub struct Headers {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `ETag`.
    pub etag: Option<String>,
    /// `Last-Modified`.
    pub last_modified: Option<String>,
    /// `X-Robots-Tag`.
    pub x_robots_tag: Option<String>,
}

impl Headers {
    fn from(h: &HeaderMap) -> Self {
        let get = |n: header::HeaderName| {
            h.get(n)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.trim().to_string())
        };
        Self {
            content_type: get(header::CONTENT_TYPE),
            etag: get(header::ETAG),
            last_modified: get(header::LAST_MODIFIED),
            x_robots_tag: get(header::HeaderName::from_static("x-robots-tag")),
        }
    }
}

/// The result of fetching one URL.
#[derive(Debug)]
pub enum Outcome {
    /// 200 with a body.
    Ok {
        /// The URL after redirects (normalized).
        final_url: Url,
        /// The headers.
        headers: Headers,
        /// The body.
        body: Vec<u8>,
    },
    /// 304: the stored version is current.
    NotModified {
        /// The URL after redirects (normalized).
        final_url: Url,
    },
    /// 404 or 410.
    Gone {
        /// The status code.
        status: u16,
    },
    /// A redirect the fetcher did not follow itself (another host, out of scope, or
    /// disallowed): the crawler decides.
    Redirect {
        /// The target (normalized).
        to: Url,
    },
    /// Not fetched or not usable, with the reason.
    Skipped {
        /// Why.
        reason: SkipReason,
    },
}

/// Why a URL was not fetched or its response not used. The [`Display`](std::fmt::Display)
/// form is what the crawl state's notes and the report's reason counts record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The request or the body read timed out.
    Timeout,
    /// The connection could not be made.
    ConnectionFailed,
    /// Another request error.
    RequestFailed(String),
    /// The body could not be read.
    BodyReadFailed(String),
    /// A redirect led back to a URL of the same chain.
    RedirectLoop,
    /// More redirects than the policy allows.
    TooManyRedirects(usize),
    /// A 3xx without `Location`.
    NoLocation(u16),
    /// A `Location` that is no URL.
    BadLocation,
    /// Another HTTP status (5xx, 403 …).
    Http(u16),
    /// The body is over `max_body_bytes`.
    BodyTooLarge,
    /// The response is not HTML; the content type, if any.
    NotHtml(Option<String>),
    /// The page could not be extracted.
    ExtractionFailed(String),
    /// A PDF whose text could not be read (damaged, encrypted, a scan without text, the
    /// `pdftotext` child timed out): a failure of that document.
    PdfUnreadable(String),
    /// A PDF not fetched because `pdftotext` is not available (or PDFs are turned off).
    PdfSkipped,
}

impl SkipReason {
    /// Whether the response is not HTML (a document or media file behind the link).
    pub fn is_not_html(&self) -> bool {
        matches!(self, SkipReason::NotHtml(_))
    }

    /// Whether the response is an office or PDF document (recorded as known, not indexed).
    pub fn is_document(&self) -> bool {
        match self {
            SkipReason::NotHtml(Some(ct)) => ["pdf", "msword", "officedocument", "ms-excel"]
                .iter()
                .any(|k| ct.contains(k)),
            _ => false,
        }
    }

    /// Whether fetching again cannot help (not HTML, or too large).
    pub fn is_permanent(&self) -> bool {
        matches!(self, SkipReason::NotHtml(_) | SkipReason::BodyTooLarge)
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Timeout => f.write_str("timeout"),
            SkipReason::ConnectionFailed => f.write_str("connection failed"),
            SkipReason::RequestFailed(e) => write!(f, "request failed: {e}"),
            SkipReason::BodyReadFailed(e) => write!(f, "body read failed: {e}"),
            SkipReason::RedirectLoop => f.write_str("redirect loop"),
            SkipReason::TooManyRedirects(n) => write!(f, "more than {n} redirects"),
            SkipReason::NoLocation(s) => write!(f, "http {s} without location"),
            SkipReason::BadLocation => f.write_str("bad redirect location"),
            SkipReason::Http(s) => write!(f, "http {s}"),
            SkipReason::BodyTooLarge => f.write_str("body over max_body_bytes"),
            SkipReason::NotHtml(Some(ct)) => write!(f, "not html: {ct}"),
            SkipReason::NotHtml(None) => f.write_str("not html: no content type"),
            SkipReason::ExtractionFailed(e) => write!(f, "extraction failed: {e}"),
            SkipReason::PdfUnreadable(e) => write!(f, "pdf unreadable: {e}"),
            SkipReason::PdfSkipped => f.write_str("pdf skipped: pdftotext not available"),
        }
    }
}

/// What a fetch may follow and how much it may read.
pub struct FetchPolicy {
    /// Redirects followed.
    pub max_redirects: usize,
    /// Larger bodies are skipped, in bytes.
    pub max_body_bytes: u64,
    /// When set, a PDF response is read (up to this many bytes) instead of being skipped as
    /// not HTML.
    pub pdf_max_bytes: Option<u64>,
    /// Hard limit for one hop (headers and body), in milliseconds.
    pub timeout_ms: u64,
    /// Whether a redirect target may be followed within this fetch (same host, in scope,
    /// allowed by robots.txt).
    pub follow: Arc<dyn Fn(&Url) -> bool + Send + Sync>,
}

/// Validators of the stored version for a conditional GET.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    /// `If-None-Match`.
    pub etag: Option<String>,
    /// `If-Modified-Since`.
    pub last_modified: Option<String>,
}

/// Builds the HTTP client: no automatic redirects, gzip/brotli/deflate, the user agent and
/// the timeout.
///
/// # Errors
/// The reqwest builder error as text.
pub fn client(user_agent: &str, timeout_ms: u64) -> Result<Client, String> {
    Client::builder()
        .user_agent(user_agent)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_millis(timeout_ms.max(1)))
        .connect_timeout(Duration::from_millis(timeout_ms.max(1)))
        .build()
        .map_err(|e| e.to_string())
}

/// Fetches `url`, following redirects that `policy.follow` allows.
pub async fn fetch(client: &Client, url: &Url, cond: &Validators, policy: &FetchPolicy) -> Outcome {
    let mut current = url.clone();
    let no_validators = Validators::default();
    let mut chain: HashSet<String> = HashSet::new();
    chain.insert(current.to_string());
    for _ in 0..=policy.max_redirects {
        let hop = tokio::time::timeout(
            Duration::from_millis(policy.timeout_ms.max(1)),
            // Validators belong to the requested URL only, not to redirect targets.
            one(
                client,
                &current,
                if current == *url {
                    cond
                } else {
                    &no_validators
                },
                policy.max_body_bytes,
                policy.pdf_max_bytes,
            ),
        )
        .await;
        let res = match hop {
            Ok(r) => r,
            Err(_) => {
                return Outcome::Skipped {
                    reason: SkipReason::Timeout,
                };
            }
        };
        match res {
            Hop::Done(o) => {
                return match o {
                    Outcome::Ok { headers, body, .. } => Outcome::Ok {
                        final_url: current,
                        headers,
                        body,
                    },
                    Outcome::NotModified { .. } => Outcome::NotModified { final_url: current },
                    other => other,
                };
            }
            Hop::Redirect(to) => {
                let to = normalize(&to);
                if !chain.insert(to.to_string()) {
                    return Outcome::Skipped {
                        reason: SkipReason::RedirectLoop,
                    };
                }
                if to.host_str() != current.host_str() || !(policy.follow)(&to) {
                    return Outcome::Redirect { to };
                }
                current = to;
            }
        }
    }
    Outcome::Skipped {
        reason: SkipReason::TooManyRedirects(policy.max_redirects),
    }
}

enum Hop {
    Done(Outcome),
    Redirect(Url),
}

fn skipped(reason: SkipReason) -> Hop {
    Hop::Done(Outcome::Skipped { reason })
}

/// Whether a `Content-Type` value is PDF.
pub fn is_pdf(content_type: Option<&str>, body: &[u8]) -> bool {
    match content_type {
        Some(ct) => ct.to_ascii_lowercase().contains("application/pdf"),
        None => body.starts_with(b"%PDF-"),
    }
}

async fn one(
    client: &Client,
    url: &Url,
    cond: &Validators,
    max_body_bytes: u64,
    pdf_max_bytes: Option<u64>,
) -> Hop {
    let mut req = client.get(url.clone());
    if let Some(e) = &cond.etag {
        req = req.header(header::IF_NONE_MATCH, e);
    }
    if let Some(lm) = &cond.last_modified {
        req = req.header(header::IF_MODIFIED_SINCE, lm);
    }
    let mut resp = match req.send().await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return skipped(SkipReason::Timeout),
        Err(e) if e.is_connect() => return skipped(SkipReason::ConnectionFailed),
        Err(e) => return skipped(SkipReason::RequestFailed(e.to_string())),
    };
    let status = resp.status();
    if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
        let Some(loc) = resp
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
        else {
            return skipped(SkipReason::NoLocation(status.as_u16()));
        };
        return match url.join(loc.trim()) {
            Ok(to) if matches!(to.scheme(), "http" | "https") => Hop::Redirect(to),
            _ => skipped(SkipReason::BadLocation),
        };
    }
    match status.as_u16() {
        304 => {
            return Hop::Done(Outcome::NotModified {
                final_url: url.clone(),
            });
        }
        404 | 410 => {
            return Hop::Done(Outcome::Gone {
                status: status.as_u16(),
            });
        }
        200..=299 => {}
        s => return skipped(SkipReason::Http(s)),
    }
    let headers = Headers::from(resp.headers());
    let pdf = pdf_max_bytes.filter(|_| {
        headers
            .content_type
            .as_deref()
            .is_some_and(|ct| is_pdf(Some(ct), &[]))
    });
    let max_body_bytes = pdf.unwrap_or(max_body_bytes);
    if let Some(len) = resp.content_length()
        && len > max_body_bytes
    {
        return skipped(SkipReason::BodyTooLarge);
    }
    if let Some(ct) = &headers.content_type
        && pdf.is_none()
        && !crate::extract::is_html(Some(ct), &[])
    {
        return skipped(SkipReason::NotHtml(Some(
            ct.split(';').next().unwrap_or(ct).to_string(),
        )));
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                if (body.len() + c.len()) as u64 > max_body_bytes {
                    return skipped(SkipReason::BodyTooLarge);
                }
                body.extend_from_slice(&c);
            }
            Ok(None) => break,
            Err(e) if e.is_timeout() => return skipped(SkipReason::Timeout),
            Err(e) => return skipped(SkipReason::BodyReadFailed(e.to_string())),
        }
    }
    if headers.content_type.is_none()
        && !crate::extract::is_html(None, &body)
        && !(pdf_max_bytes.is_some() && is_pdf(None, &body))
    {
        return skipped(SkipReason::NotHtml(None));
    }
    Hop::Done(Outcome::Ok {
        final_url: url.clone(),
        headers,
        body,
    })
}

/// Fetches a small text resource (robots.txt, a sitemap) without conditions; returns the
/// status and body (`None` on network failure or oversize).
pub async fn fetch_text(
    client: &Client,
    url: &Url,
    max_body_bytes: u64,
    timeout_ms: u64,
) -> Option<(u16, Vec<u8>)> {
    let policy = FetchPolicy {
        max_redirects: 5,
        max_body_bytes,
        pdf_max_bytes: None,
        timeout_ms,
        follow: Arc::new(|_| true),
    };
    let mut current = url.clone();
    for _ in 0..5 {
        let hop = tokio::time::timeout(
            Duration::from_millis(timeout_ms.max(1)),
            raw(client, &current, policy.max_body_bytes),
        )
        .await
        .ok()??;
        match hop {
            (s, _, Some(to)) if (300..400).contains(&s) => current = to,
            (s, body, _) => return Some((s, body)),
        }
    }
    None
}

async fn raw(client: &Client, url: &Url, max: u64) -> Option<(u16, Vec<u8>, Option<Url>)> {
    let mut resp = client.get(url.clone()).send().await.ok()?;
    let status = resp.status().as_u16();
    if resp.status().is_redirection() {
        let to = resp
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| url.join(l).ok());
        return Some((status, Vec::new(), to));
    }
    let mut body = Vec::new();
    while let Some(c) = resp.chunk().await.ok()? {
        if (body.len() + c.len()) as u64 > max {
            return None;
        }
        body.extend_from_slice(&c);
    }
    Some((status, body, None))
}
