//! Extraction: fetched bytes + URL + headers in, answer materials out. Pure functions, no
//! I/O.
//!
//! One HTML page gives a `page` material (title and main text without header, navigation,
//! breadcrumb, side menus, footer, 文字サイズ/背景色 widgets and skip links; headings kept as
//! lines), one `faq` material per question/answer pair and one `contact` material per row of
//! a department contact table. Ids are stable: `source` is the page URL and `source_id` is
//! the URL plus `#page`, `#faq-N` or `#contact-N`.

pub mod charset;
pub mod contact;
pub mod faq;
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
    /// Links to documents (PDF, Office files), recorded but not extracted.
    pub documents: Vec<Url>,
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
    out.department = find_department(&full_text);
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
    for (i, p) in faqs.into_iter().enumerate() {
        let mut m = base_material(MaterialKind::Faq, format!("faq-{}", i + 1));
        m.question = Some(p.question);
        m.answer = Some(p.answer);
        if !out.title.is_empty() {
            m.category = Some(out.title.clone());
        }
        materials.push(m);
    }
    let contacts = contact::extract_contacts(root, out.department.as_deref());
    out.contact_count = contacts.len();
    for (i, c) in contacts.into_iter().enumerate() {
        let mut m = base_material(MaterialKind::Contact, format!("contact-{}", i + 1));
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
            Some(e) if DOCUMENT_EXTENSIONS.contains(&e.as_str()) => out.documents.push(u),
            Some(e) if MEDIA_EXTENSIONS.contains(&e.as_str()) => {}
            _ => out.links.push(u),
        }
    }
}

fn page_title(doc: &Html, root: ElementRef<'_>) -> String {
    // The first <h1> with text of its own (a logo <h1><img alt> is not the title).
    let h1 = root
        .select(&sel("h1"))
        .find(|h| !text::inside_boilerplate(*h, root) && h.text().any(|t| !t.trim().is_empty()));
    if let Some(h1) = h1 {
        let t = text::collapse_spaces(&h1.text().collect::<String>());
        if !t.is_empty() {
            return t;
        }
    }
    let t = doc
        .select(&sel("title"))
        .next()
        .map(|t| text::collapse_spaces(&t.text().collect::<String>()))
        .unwrap_or_default();
    // "国民健康保険 | 〇〇県" → "国民健康保険".
    for sep in [" | ", "｜", " - ", " – ", "／", " / ", " :: "] {
        if let Some((head, _)) = t.split_once(sep)
            && !head.trim().is_empty()
        {
            return head.trim().to_string();
        }
    }
    t
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
    fn robots_values() {
        assert_eq!(robots_directives("noindex, follow"), (true, false));
        assert_eq!(robots_directives("none"), (true, true));
        assert_eq!(robots_directives("googlebot: nofollow"), (false, true));
    }
}
