//! Recording what a fetch returned: a page's extraction (run off the async threads), its
//! materials replacing the page's old ones in the host's collection, redirects, removals
//! (404/410) and the notes on skipped URLs.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tracing::{debug, info, warn};

use super::PdfMode;
use super::fetch::{self, Outcome, SkipReason};
use super::host::listed_elsewhere;
use super::state::{Note, PageState, PageStatus};
use super::url::{host_key, normalize};
use super::{CrawlReport, Crawler, Url};
use crate::extract::{self, PageInput, pdf::PdfTool};

/// A page body extracted off the crawl loop (extraction is CPU work: it runs on the
/// blocking pool, in parallel with other fetches).
pub(super) struct Parsed {
    extracted: extract::Extracted,
    digest: String,
    fetched_at: DateTime<Utc>,
    pdf: bool,
}

pub(super) type Fetched = (Url, u32, Outcome, Option<Parsed>);

/// Extracts a fetched body: a PDF through `pdf` (with `label`, the text of a link to it),
/// anything else as HTML. `Ok(None)` when the outcome has no body.
///
/// # Errors
/// [`SkipReason::PdfUnreadable`] when a PDF gives no text.
pub(super) fn parse_page(
    outcome: &Outcome,
    pdf: Option<&PdfTool>,
    label: Option<&str>,
) -> Result<Option<Parsed>, SkipReason> {
    let Outcome::Ok {
        final_url,
        headers,
        body,
    } = outcome
    else {
        return Ok(None);
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
    let is_pdf = fetch::is_pdf(headers.content_type.as_deref(), body);
    let extracted = match pdf {
        Some(tool) if is_pdf => extract::pdf::extract_pdf(&input, tool, label)
            .map_err(|e| SkipReason::PdfUnreadable(e.to_string()))?,
        _ => extract::extract(&input),
    };
    Ok(Some(Parsed {
        extracted,
        digest: hash(body),
        fetched_at,
        pdf: is_pdf && pdf.is_some(),
    }))
}

fn hash(body: &[u8]) -> String {
    hex::encode(&Sha256::digest(body)[..8])
}

impl Crawler<'_> {
    pub(super) fn note(
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

    pub(super) fn process(
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
    /// `None` when the page or its host was unknown.
    fn forget_page(&mut self, key: &str, url: &str) -> Option<usize> {
        self.hosts.get_mut(key)?.forget_page(url)
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
            pdf,
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
        // PDFs are fetched like pages when pdftotext is there; other documents are recorded.
        let mut pdf_links = Vec::new();
        for (i, d) in ex.documents.iter().enumerate() {
            let is_pdf = extract::extension(d).as_deref() == Some("pdf");
            if is_pdf && matches!(*self.pdf, PdfMode::On(_)) {
                let d = normalize(d);
                if let Some(label) = ex.document_labels.get(i).filter(|l| !l.is_empty()) {
                    self.pdf_labels
                        .entry(d.to_string())
                        .or_insert_with(|| label.clone());
                }
                pdf_links.push(d);
                continue;
            }
            h.state
                .documents
                .entry(d.to_string())
                .or_insert_with(|| url.to_string());
            if is_pdf && matches!(*self.pdf, PdfMode::Missing) {
                pdf_links.push(normalize(d));
            }
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
            report.pdfs += usize::from(pdf);
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
            for d in pdf_links {
                if matches!(*self.pdf, PdfMode::On(_)) {
                    self.enqueue(d, depth + 1);
                } else if self.frontier.mark_seen(&d) {
                    // Once per run and URL: counted under its reason, noted in the state.
                    let reason = SkipReason::PdfSkipped.to_string();
                    self.note(&host_key(&d), &d, &reason, None, report);
                }
            }
        }
        if let Some(c) = canonical {
            self.enqueue(c, depth);
        }
    }
}
