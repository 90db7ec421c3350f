//! Sitemap parsing (sitemaps.org `urlset` and `sitemapindex`): the `<loc>` values.

/// The URLs listed by one sitemap document.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sitemap {
    /// Page URLs (`<urlset><url><loc>`).
    pub pages: Vec<String>,
    /// Nested sitemaps (`<sitemapindex><sitemap><loc>`).
    pub sitemaps: Vec<String>,
}

/// Parses a sitemap or sitemap index; unknown markup is ignored.
pub fn parse(xml: &str) -> Sitemap {
    let is_index = xml.contains("<sitemapindex");
    let mut out = Sitemap::default();
    let mut rest = xml;
    while let Some(start) = rest.find("<loc") {
        let after = &rest[start + 4..];
        let Some(gt) = after.find('>') else { break };
        if after[..gt].contains('<') {
            rest = after;
            continue;
        }
        let body = &after[gt + 1..];
        let Some(end) = body.find("</loc>") else {
            break;
        };
        let mut v = body[..end].trim();
        if let Some(inner) = v
            .strip_prefix("<![CDATA[")
            .and_then(|s| s.strip_suffix("]]>"))
        {
            v = inner.trim();
        }
        let v = unescape(v);
        if !v.is_empty() {
            if is_index {
                out.sitemaps.push(v);
            } else {
                out.pages.push(v);
            }
        }
        rest = &body[end + 6..];
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlset_and_index() {
        let s = parse(
            r#"<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <url><loc> https://h/a?x=1&amp;y=2 </loc><lastmod>2024-01-01</lastmod></url>
            <url><loc><![CDATA[https://h/b]]></loc></url></urlset>"#,
        );
        assert_eq!(s.pages, vec!["https://h/a?x=1&y=2", "https://h/b"]);
        let s =
            parse("<sitemapindex><sitemap><loc>https://h/s1.xml</loc></sitemap></sitemapindex>");
        assert_eq!(s.sitemaps, vec!["https://h/s1.xml"]);
        assert!(s.pages.is_empty());
    }
}
