//! Extraction: fetched bytes + URL + headers in, answer materials out. Pure functions, no
//! I/O.
//!
//! One HTML page gives a `page` material (title and main text without header, navigation,
//! breadcrumb, side menus, footer, 文字サイズ/背景色 widgets and skip links; headings kept as
//! lines), one `faq` material per question/answer pair and one `contact` material per row of
//! a department contact table. Ids are stable: `source` is the page URL and `source_id` is
//! the URL plus `#page`, `#faq-N` or `#contact-N`.

pub mod blocks;
pub mod charset;
pub mod contact;
pub mod contact_block;
pub mod faq;
pub mod pdf;
pub mod phone;
pub mod phonebook;
pub mod text;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use scraper::{ElementRef, Html};
use url::Url;

use crate::material::{Contact, Material, MaterialKind};
use text::{ascii_fold, main_root, render, render_clean, sel};

/// File extensions of linked documents that are recorded but not fetched as pages.
pub const DOCUMENT_EXTENSIONS: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "rtf", "zip", "csv",
];

/// File extensions of media links, ignored.
const MEDIA_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "svg", "webp", "bmp", "ico", "mp3", "mp4", "wav", "avi", "mov",
    "wmv", "css", "js", "exe", "dmg", "lzh", "xml", "json",
];

/// One fetched document to extract.
#[derive(Debug, Clone)]
pub struct PageInput<'a> {
    /// The page URL (normalized); becomes `source` and `url` of the materials.
    pub url: &'a Url,
    /// The raw body bytes.
    pub body: &'a [u8],
    /// The `Content-Type` header value.
    pub content_type: Option<&'a str>,
    /// The `Last-Modified` header value (used when the page shows no 更新日).
    pub last_modified: Option<&'a str>,
    /// The `X-Robots-Tag` header value.
    pub x_robots_tag: Option<&'a str>,
    /// When the page was fetched (last resort for `updated_at`).
    pub fetched_at: DateTime<FixedOffset>,
}

/// Everything extracted from one page.
#[derive(Debug, Clone, Default)]
pub struct Extracted {
    /// The page title.
    pub title: String,
    /// Name of the encoding the body was decoded with.
    pub encoding: String,
    /// The `<link rel="canonical">` target.
    pub canonical: Option<Url>,
    /// `noindex` from `<meta name="robots">` or `X-Robots-Tag`.
    pub noindex: bool,
    /// `nofollow` from `<meta name="robots">` or `X-Robots-Tag`.
    pub nofollow: bool,
    /// Absolute http(s) links to pages (fragments dropped, `rel="nofollow"` links left out).
    pub links: Vec<Url>,
    /// Links to documents (PDF, Office files): not pages, the crawler fetches the PDFs.
    pub documents: Vec<Url>,
    /// The link text of each of `documents` (same order), a PDF's title of last resort.
    pub document_labels: Vec<String>,
    /// The responsible department from the 「このページの作成所属」/「お問い合わせ先」 block.
    pub department: Option<String>,
    /// The 更新日 shown on the page, if any.
    pub page_updated: Option<DateTime<FixedOffset>>,
    /// The materials (page, FAQ pairs, contacts); empty when `noindex`.
    pub materials: Vec<Material>,
    /// Number of FAQ pairs found.
    pub faq_count: usize,
    /// Number of contact records found.
    pub contact_count: usize,
}

/// Returns whether a `Content-Type` value is HTML (or absent, when `body` looks like HTML).
pub fn is_html(content_type: Option<&str>, body: &[u8]) -> bool {
    match content_type {
        Some(ct) => {
            let ct = ct.to_ascii_lowercase();
            ct.contains("text/html") || ct.contains("application/xhtml")
        }
        None => {
            let head: Vec<u8> = body.iter().take(512).map(u8::to_ascii_lowercase).collect();
            let s = String::from_utf8_lossy(&head);
            s.contains("<html") || s.contains("<!doctype html")
        }
    }
}

/// Parses robots directives (`noindex`, `nofollow`, `none`) from a meta content or
/// `X-Robots-Tag` value; returns (noindex, nofollow).
pub fn robots_directives(value: &str) -> (bool, bool) {
    let mut ni = false;
    let mut nf = false;
    for tok in value.split([',', ' ', ';']) {
        // "googlebot: noindex" → take the part after the colon.
        let tok = tok
            .rsplit(':')
            .next()
            .unwrap_or(tok)
            .trim()
            .to_ascii_lowercase();
        match tok.as_str() {
            "noindex" => ni = true,
            "nofollow" => nf = true,
            "none" => {
                ni = true;
                nf = true;
            }
            _ => {}
        }
    }
    (ni, nf)
}

/// Returns the lowercase extension of the last path segment of `url`.
pub fn extension(url: &Url) -> Option<String> {
    let last = url.path_segments()?.next_back()?;
    let (_, ext) = last.rsplit_once('.')?;
    Some(ext.to_ascii_lowercase())
}

/// Extracts materials, links and metadata from one page.
pub fn extract(input: &PageInput<'_>) -> Extracted {
    let (html, enc, _) = charset::decode_html(input.body, input.content_type);
    let doc = Html::parse_document(&html);
    let mut out = Extracted {
        encoding: enc.name().to_string(),
        ..Default::default()
    };
    if let Some(v) = input.x_robots_tag {
        let (ni, nf) = robots_directives(v);
        out.noindex |= ni;
        out.nofollow |= nf;
    }
    for m in doc.select(&sel("meta[name]")) {
        let name = m
            .value()
            .attr("name")
            .unwrap_or_default()
            .to_ascii_lowercase();
        if name == "robots" || name == "kotae" {
            let (ni, nf) = robots_directives(m.value().attr("content").unwrap_or_default());
            out.noindex |= ni;
            out.nofollow |= nf;
        }
    }
    let base = doc
        .select(&sel("base[href]"))
        .next()
        .and_then(|b| input.url.join(b.value().attr("href")?).ok())
        .unwrap_or_else(|| input.url.clone());
    out.canonical = doc
        .select(&sel("link[rel][href]"))
        .find(|l| {
            l.value().attr("rel").is_some_and(|r| {
                r.split_ascii_whitespace()
                    .any(|t| t.eq_ignore_ascii_case("canonical"))
            })
        })
        .and_then(|l| base.join(l.value().attr("href")?.trim()).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    collect_links(&doc, &base, &mut out);

    let root = main_root(&doc);
    out.title = page_title(&doc, root);
    let body_el = doc
        .select(&sel("body"))
        .next()
        .unwrap_or(doc.root_element());
    let full_text = render(body_el, &|e| {
        matches!(
            e.value().name(),
            "script" | "style" | "noscript" | "template"
        )
    });
    // A `【お問い合わせ】。部署。電話…` block written into the text (localgovFAQ style).
    let text_block = contact_block::parse_contact_block(&full_text);
    let fallback_department = find_department(&full_text)
        .or_else(|| text_block.as_ref().and_then(|c| c.department.clone()));
    let page_contacts = phonebook::page_contacts(root, body_el, fallback_department.as_deref());
    out.department = page_contacts.department.clone().or(fallback_department);
    out.page_updated = find_updated(&full_text);
    if out.noindex {
        return out;
    }
    let updated_at = out
        .page_updated
        .or_else(|| {
            input
                .last_modified
                .and_then(|v| DateTime::parse_from_rfc2822(v.trim()).ok())
        })
        .unwrap_or(input.fetched_at);
    let url = input.url.as_str();
    let base_material = |kind: MaterialKind, key: String| Material {
        url: Some(url.to_string()),
        department: out.department.clone(),
        ..Material::new(kind, url, format!("{url}#{key}"), updated_at)
    };
    let body = render_clean(root);
    let mut materials = Vec::new();
    if !body.is_empty() || !out.title.is_empty() {
        let mut m = base_material(MaterialKind::Page, "page".into());
        m.title = out.title.clone();
        m.body = Some(body);
        materials.push(m);
    }
    let faq_page = faq::is_faq_title(&out.title);
    let faqs = faq::extract_faqs(root, faq_page);
    out.faq_count = faqs.len();
    // Contact blocks of FAQ answers (and of the page text), in order.
    let mut blocks: Vec<Contact> = Vec::new();
    for (i, p) in faqs.into_iter().enumerate() {
        let mut m = base_material(MaterialKind::Faq, format!("faq-{}", i + 1));
        // An answer's own 【お問い合わせ】 block names the desk that answers it.
        if let Some(c) = contact_block::parse_contact_block(&p.answer) {
            if c.department.is_some() {
                m.department = c.department.clone();
            }
            blocks.push(c);
        }
        m.question = Some(p.question);
        m.answer = Some(p.answer);
        if !out.title.is_empty() {
            m.category = Some(out.title.clone());
        }
        materials.push(m);
    }
    let mut contacts = contact::extract_contacts(root, out.department.as_deref());
    // Phone-anchored rows whose number no table or list row already gives.
    let listed: Vec<String> = contacts
        .iter()
        .flat_map(|c| [c.phone.as_deref(), c.fax.as_deref()])
        .flatten()
        .flat_map(|p| phone::find_phones(p).into_iter().map(|h| h.digits))
        .collect();
    // A number of the page's own contact block is the department's, the same on every page
    // it writes: one material per site and number (`{origin}#contact-{digits}`), which every
    // such page lists.
    let mut site_wide: Vec<Option<String>> = vec![None; contacts.len()];
    // A 【お問い合わせ】 block's desk is the same on every page that names it: one site-wide
    // material per number, unless a row above gives the number. Read before the
    // phone-anchored rows, which would name the same desk with less (no department).
    blocks.extend(text_block);
    for c in blocks {
        let Some(h) = phone::find_phones(c.phone.as_deref().unwrap_or_default())
            .into_iter()
            .next()
        else {
            continue;
        };
        if listed.contains(&h.digits) || gives_number(&contacts, &h.digits) {
            continue;
        }
        site_wide.push(Some(h.digits));
        contacts.push(c);
    }
    for (c, in_block) in page_contacts
        .contacts
        .into_iter()
        .zip(page_contacts.in_block)
    {
        let Some(h) = phone::find_phones(c.phone.as_deref().unwrap_or_default())
            .into_iter()
            .next()
        else {
            continue;
        };
        if listed.contains(&h.digits) || gives_number(&contacts, &h.digits) {
            continue;
        }
        site_wide.push(in_block.then_some(h.digits));
        contacts.push(c);
    }
    out.contact_count = contacts.len();
    let origin = input.url.origin().ascii_serialization();
    for (i, (c, site)) in contacts.into_iter().zip(site_wide).enumerate() {
        let mut m = match site {
            Some(digits) => Material {
                url: Some(url.to_string()),
                department: out.department.clone(),
                ..Material::new(
                    MaterialKind::Contact,
                    &origin,
                    format!("{origin}/#contact-{digits}"),
                    updated_at,
                )
            },
            None => base_material(MaterialKind::Contact, format!("contact-{}", i + 1)),
        };
        m.title = contact_title(&c);
        if c.department.is_some() {
            m.department = c.department.clone();
        }
        m.contact = Some(c);
        materials.push(m);
    }
    out.materials = materials;
    out
}

/// Whether one of `contacts` has the phone number `digits`.
fn gives_number(contacts: &[Contact], digits: &str) -> bool {
    contacts
        .iter()
        .filter_map(|k| k.phone.as_deref())
        .flat_map(phone::find_phones)
        .any(|k| k.digits == digits)
}

fn contact_title(c: &Contact) -> String {
    [c.department.as_deref(), c.group.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
}

fn collect_links(doc: &Html, base: &Url, out: &mut Extracted) {
    let mut seen = std::collections::HashSet::new();
    for a in doc.select(&sel("a[href], area[href]")) {
        let href = a.value().attr("href").unwrap_or_default().trim();
        if href.is_empty() || href.starts_with('#') {
            continue;
        }
        if a.value().attr("rel").is_some_and(|r| {
            r.split_ascii_whitespace()
                .any(|t| t.eq_ignore_ascii_case("nofollow"))
        }) {
            continue;
        }
        let Ok(mut u) = base.join(href) else { continue };
        if !matches!(u.scheme(), "http" | "https") {
            continue;
        }
        u.set_fragment(None);
        if !seen.insert(u.to_string()) {
            continue;
        }
        match extension(&u) {
            Some(e) if DOCUMENT_EXTENSIONS.contains(&e.as_str()) => {
                out.documents.push(u);
                let label = a.text().collect::<Vec<_>>().join(" ");
                out.document_labels
                    .push(label.split_whitespace().collect::<Vec<_>>().join(" "));
            }
            Some(e) if MEDIA_EXTENSIONS.contains(&e.as_str()) => {}
            _ => out.links.push(u),
        }
    }
}

/// Separators between the parts of a `<title>` (page | section | site).
const TITLE_SEPARATORS: &[&str] = &[
    " | ", "｜", "|", " - ", " – ", " — ", "／", " / ", " :: ", "：", " : ",
];

/// The parts of a `<title>`: "譲渡猫一覧 - 広島県動物愛護センター | 広島県" → three parts.
fn title_parts(t: &str) -> Vec<String> {
    let mut parts = vec![t.to_string()];
    for sep in TITLE_SEPARATORS {
        parts = parts
            .iter()
            .flat_map(|p| p.split(sep).map(str::to_string).collect::<Vec<_>>())
            .collect();
    }
    parts
        .into_iter()
        .map(|p| text::collapse_spaces(&p))
        .filter(|p| !p.is_empty())
        .collect()
}

fn squash(s: &str) -> String {
    ascii_fold(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// A heading inside the site's header, navigation or footer (not the page's); a header
/// inside the main content or an article is the page's own.
fn in_site_furniture(h: ElementRef<'_>) -> bool {
    let in_content = h.ancestors().filter_map(ElementRef::wrap).any(|a| {
        matches!(a.value().name(), "main" | "article") || a.value().attr("role") == Some("main")
    });
    h.ancestors().filter_map(ElementRef::wrap).any(|a| {
        let e = a.value();
        if matches!(e.name(), "body" | "html") {
            // Their classes describe the whole page ("wp-custom-logo").
            return false;
        }
        matches!(e.name(), "nav" | "footer" | "aside")
            || (e.name() == "header" && !in_content)
            || e.attr("role")
                .is_some_and(|r| r == "banner" || r == "navigation")
            || e.id().into_iter().chain(e.classes()).any(|n| {
                let n = n.to_ascii_lowercase();
                n.split(['-', '_']).any(|p| {
                    matches!(p, "logo" | "nav" | "gnav" | "footer" | "banner" | "menu")
                        || (p == "header" && !in_content)
                })
            })
    })
}

/// The page's own title: the first heading of the page that is not the site logo or
/// slogan (a logo heading repeats the site name of `<title>` or sits in the site header),
/// preferring the heading `<title>` names; `<title>` minus the site name as the fallback.
fn page_title(doc: &Html, root: ElementRef<'_>) -> String {
    let title = doc
        .select(&sel("title"))
        .next()
        .map(|t| text::collapse_spaces(&t.text().collect::<String>()))
        .unwrap_or_default();
    let parts = title_parts(&title);
    let heading_text =
        |h: ElementRef<'_>| text::collapse_spaces(&render_clean(h).replace('\n', " "));
    // Headings in document order: the main content's first, then the rest of the page's.
    let mut headings: Vec<(ElementRef<'_>, u8, String)> = Vec::new();
    for h in root.select(&sel("h1")).chain(doc.select(&sel("h1, h2"))) {
        if headings.iter().any(|(x, _, _)| x.id() == h.id()) {
            continue;
        }
        let level = if h.value().name() == "h1" { 1 } else { 2 };
        let t = heading_text(h);
        if !t.is_empty() && t.chars().count() <= 120 {
            headings.push((h, level, t));
        }
    }
    let names_part = |t: &str, p: &str| {
        let (t, p) = (squash(t), squash(p));
        !p.is_empty() && (t == p || (p.chars().count() >= 4 && t.contains(&p)))
    };
    let first_part = parts.first().cloned().unwrap_or_default();
    // A logo or slogan: in the site header, or naming a part of <title> other than the
    // first (the site name) without naming the first.
    // A logo: in the site header (or navigation, footer), or the site name that
    // ends <title> ("… | 高知県中央・中村小動物管理センター") as the page's first heading.
    let site_name = (parts.len() >= 2).then(|| squash(&parts[parts.len() - 1]));
    let top = doc.select(&sel("h1, h2, h3")).next().map(|h| h.id());
    let is_logo = |h: ElementRef<'_>, t: &str| {
        in_site_furniture(h)
            || (top == Some(h.id()) && site_name.as_ref().is_some_and(|n| *n == squash(t)))
    };
    let named = |t: &str| {
        !first_part.is_empty() && (names_part(t, &first_part) || names_part(&first_part, t))
    };
    if let Some((h, _, t)) = headings.iter().find(|(_, l, _)| *l == 1)
        && !is_logo(*h, t)
    {
        return t.clone();
    }
    // The first heading is the logo (or there is no h1): the next h1, else the heading
    // <title> names.
    if let Some((_, _, t)) = headings.iter().find(|(h, l, t)| *l == 1 && !is_logo(*h, t)) {
        return t.clone();
    }
    if let Some((_, _, t)) = headings
        .iter()
        .find(|(h, _, t)| !is_logo(*h, t) && named(t))
    {
        return t.clone();
    }
    // <title> minus the site name: its first part that is not a bare place name.
    parts
        .iter()
        .find(|p| {
            let n = p.chars().count();
            !(n <= 6 && p.ends_with(['市', '県', '町', '村', '区', '都', '府', '道']))
        })
        .cloned()
        .unwrap_or(title)
}

/// Markers of the block naming the responsible department, best first.
const DEPARTMENT_MARKERS: &[&str] = &[
    "このページの作成所属",
    "このページに関するお問い合わせ",
    "このページについてのお問い合わせ",
    "このページの担当",
    "担当部署",
    "所管課",
    "お問い合わせ先",
    "お問合せ先",
    "問い合わせ先",
];

/// Finds the department named after a 「このページの作成所属」-style marker in `text`.
pub fn find_department(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    for marker in DEPARTMENT_MARKERS {
        let Some(i) = lines.iter().position(|l| l.contains(marker)) else {
            continue;
        };
        let after = lines[i]
            .split_once(marker)
            .map(|(_, r)| r)
            .unwrap_or_default()
            .trim_start_matches(['：', ':', ' ', '】', '］', ']', '　'])
            .trim();
        let candidates = std::iter::once(after).chain(lines[i + 1..].iter().take(3).copied());
        for c in candidates {
            let c = c.trim();
            let folded = ascii_fold(c).to_ascii_uppercase();
            if c.is_empty()
                || DEPARTMENT_MARKERS.iter().any(|m| c.contains(m))
                || [
                    "電話",
                    "TEL",
                    "FAX",
                    "ファクス",
                    "〒",
                    "住所",
                    "メール",
                    "E-MAIL",
                    "MAIL",
                    "受付",
                ]
                .iter()
                .any(|k| folded.starts_with(k))
            {
                continue;
            }
            if c.chars().count() <= 60 {
                return Some(c.to_string());
            }
        }
    }
    None
}

/// Finds the 更新日 (or 掲載日) date in `text`: `2024年3月1日`, `令和6年3月1日`,
/// `2024/03/01`, `2024-03-01`; returns midnight JST.
pub fn find_updated(text: &str) -> Option<DateTime<FixedOffset>> {
    for marker in ["最終更新日", "更新日", "更新", "掲載日"] {
        let mut from = 0;
        while let Some(pos) = text[from..].find(marker) {
            let start = from + pos + marker.len();
            let snippet: String = text[start..].chars().take(30).collect();
            if let Some(d) = parse_date(&ascii_fold(&snippet)) {
                let jst = FixedOffset::east_opt(9 * 3600)?;
                return jst.from_local_datetime(&d.and_hms_opt(0, 0, 0)?).single();
            }
            from = start;
        }
    }
    None
}

/// Parses the first date in `s` (ASCII digits; Japanese era names 令和/平成 accepted).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim_start_matches([':', '：', ' ', '日', '】', ']']);
    let (year_offset, s) = if let Some(r) = s.strip_prefix("令和") {
        (2018, r)
    } else if let Some(r) = s.strip_prefix("平成") {
        (1988, r)
    } else {
        (0, s)
    };
    let s = s.trim_start();
    let (y, rest) = if year_offset > 0 {
        if let Some(r) = s.strip_prefix('元') {
            (1, r)
        } else {
            take_num(s)?
        }
    } else {
        take_num(s)?
    };
    let y = y + year_offset;
    let rest = rest
        .trim_start()
        .strip_prefix(['年', '/', '-', '.'])?
        .trim_start();
    let (m, rest) = take_num(rest)?;
    let rest = rest
        .trim_start()
        .strip_prefix(['月', '/', '-', '.'])?
        .trim_start();
    let (d, _) = take_num(rest)?;
    if !(1990..=2100).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y as i32, m, d)
}

fn take_num(s: &str) -> Option<(u32, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if end == 0 || end > 4 {
        return None;
    }
    Some((s[..end].parse().ok()?, &s[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_western_and_era_forms() {
        assert_eq!(
            parse_date("2024年3月1日"),
            NaiveDate::from_ymd_opt(2024, 3, 1)
        );
        assert_eq!(
            parse_date("：令和6年4月10日"),
            NaiveDate::from_ymd_opt(2024, 4, 10)
        );
        assert_eq!(
            parse_date("平成31年4月30日"),
            NaiveDate::from_ymd_opt(2019, 4, 30)
        );
        assert_eq!(
            parse_date("令和元年5月1日"),
            NaiveDate::from_ymd_opt(2019, 5, 1)
        );
        assert_eq!(
            parse_date("2023/12/05"),
            NaiveDate::from_ymd_opt(2023, 12, 5)
        );
        let t = find_updated("ページ番号 1234\n更新日：２０２４年３月１日").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-03-01T00:00:00+09:00");
    }

    #[test]
    fn department_after_marker() {
        let t = "本文\nこのページの作成所属\n健康福祉部 国保医療課\n電話：03-1234-5678";
        assert_eq!(find_department(t).as_deref(), Some("健康福祉部 国保医療課"));
        let t = "【お問い合わせ先】：総務部 税務課";
        assert_eq!(find_department(t).as_deref(), Some("総務部 税務課"));
    }

    #[test]
    fn logo_h1_is_not_the_title_and_article_headers_stay() {
        let html = r#"<html><head><title>本文の題 | みどり県</title>
            <meta name="robots" content="nofollow"><link rel="canonical" href="/a.html"></head>
            <body><header><h1><a href="/"><img src="logo.png" alt="みどり県"></a></h1>
            <nav><a href="/kurashi/">くらし</a></nav></header>
            <main><div class="article-header"><h1>本文の題</h1></div><p>本文です。</p>
            <p><a href="/doc/a.pdf">様式（PDF）</a> <a href="b.html#x">次へ</a></p></main>
            <footer>みどり県庁</footer></body></html>"#;
        let url = Url::parse("https://www.pref.example.jp/dir/page.html").unwrap();
        let input = PageInput {
            url: &url,
            body: html.as_bytes(),
            content_type: Some("text/html"),
            last_modified: Some("Wed, 10 Apr 2024 00:00:00 GMT"),
            x_robots_tag: None,
            fetched_at: DateTime::parse_from_rfc3339("2024-05-01T00:00:00+09:00").unwrap(),
        };
        let ex = extract(&input);
        assert_eq!(ex.title, "本文の題");
        assert!(ex.nofollow && !ex.noindex);
        assert_eq!(
            ex.canonical.unwrap().as_str(),
            "https://www.pref.example.jp/a.html"
        );
        assert_eq!(
            ex.documents[0].as_str(),
            "https://www.pref.example.jp/doc/a.pdf"
        );
        assert!(
            ex.links
                .iter()
                .any(|l| l.as_str() == "https://www.pref.example.jp/dir/b.html")
        );
        let page = &ex.materials[0];
        assert_eq!(
            page.body.as_deref(),
            Some("本文の題\n本文です。\n様式（PDF） 次へ")
        );
        assert_eq!(
            page.source_id,
            "https://www.pref.example.jp/dir/page.html#page"
        );
        assert_eq!(page.updated_at.to_rfc3339(), "2024-04-10T00:00:00+00:00");
    }

    #[test]
    fn contact_blocks_written_into_answers_and_text_become_contacts() {
        let html = "<html><head><title>ごみの出し方 よくある質問 | 例市</title></head><body><main>\
            <h1>ごみの出し方 よくある質問</h1><dl>\
            <dt>粗大ごみはどう出せばよいですか？</dt><dd>予約制です。【お問い合わせ】。経済環境局環境部。\
            クリーンセンター。電話０６－６４０９－１５１２。</dd>\
            <dt>粗大ごみの手数料はいくらですか？</dt><dd>品目で異なります。【お問い合わせ】。経済環境局環境部。\
            クリーンセンター。電話０６－６４０９－１５１２。</dd>\
            <dt>犬の登録はどこでできますか？</dt><dd>保健所です。【お問い合わせ】。健康福祉局。\
            生活衛生課。電話06-4869-3015。</dd></dl></main></body></html>";
        let url = Url::parse("https://www.city.example.jp/faq/gomi.html").unwrap();
        let input = PageInput {
            url: &url,
            body: html.as_bytes(),
            content_type: Some("text/html"),
            last_modified: None,
            x_robots_tag: None,
            fetched_at: DateTime::parse_from_rfc3339("2024-05-01T00:00:00+09:00").unwrap(),
        };
        let ex = extract(&input);
        let faqs: Vec<&Material> = ex
            .materials
            .iter()
            .filter(|m| m.kind == MaterialKind::Faq)
            .collect();
        assert_eq!(faqs.len(), 3, "{:#?}", ex.materials);
        assert_eq!(faqs[0].department.as_deref(), Some("経済環境局環境部"));
        assert_eq!(faqs[2].department.as_deref(), Some("健康福祉局"));
        // One site-wide contact per desk's number, however many answers name it.
        let contacts: Vec<&Material> = ex
            .materials
            .iter()
            .filter(|m| m.kind == MaterialKind::Contact)
            .collect();
        let ids: Vec<&str> = contacts.iter().map(|m| m.source_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "https://www.city.example.jp/#contact-0664091512",
                "https://www.city.example.jp/#contact-0648693015"
            ],
            "{contacts:#?}"
        );
        assert_eq!(contacts[0].title, "経済環境局環境部 クリーンセンター");
    }

    #[test]
    fn robots_values() {
        assert_eq!(robots_directives("noindex, follow"), (true, false));
        assert_eq!(robots_directives("none"), (true, true));
        assert_eq!(robots_directives("googlebot: nofollow"), (false, true));
    }
}
