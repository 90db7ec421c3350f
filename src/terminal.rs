//! `kotae search` output for a person at a terminal (or a pipe): snippets without HTML —
//! the matches in bold (ANSI SGR 1) on a terminal, plain in a pipe — and a contact's record
//! whole (department, group, duties, phone, FAX, e-mail, address, hours), so that an operator
//! can read the number aloud.

use crate::search::Hit;

const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// The snippet `html` (`<mark>` around matches, everything else escaped, as
/// [`crate::search`] writes it) as text: the marks become bold when `bold`, else nothing; the
/// five escapes (`&amp; &lt; &gt; &quot; &#39;`) their characters.
pub fn snippet_text(html: &str, bold: bool) -> String {
    let (on, off) = if bold { (BOLD, RESET) } else { ("", "") };
    html.replace("<mark>", on)
        .replace("</mark>", off)
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .replace('\n', " ")
}

/// The lines printed for hit number `rank` (1-based).
pub fn hit_lines(rank: usize, h: &Hit, bold: bool) -> Vec<String> {
    let mut out = vec![format!(
        "{rank:>2}. [{}] {} ({:.3})",
        h.kind.as_str(),
        h.title,
        h.score
    )];
    match &h.contact {
        Some(c) => {
            let fields = [
                ("担当", c.department.as_ref().or(h.department.as_ref())),
                ("係・グループ", c.group.as_ref()),
                ("事務分担", c.duties.as_ref()),
                ("電話", c.phone.as_ref()),
                ("FAX", c.fax.as_ref()),
                ("メール", c.email.as_ref()),
                ("住所", c.address.as_ref()),
                ("受付時間", c.hours.as_ref()),
            ];
            for (label, v) in fields {
                if let Some(v) = v.filter(|v| !v.trim().is_empty()) {
                    out.push(format!("    {label}: {}", v.replace('\n', " ")));
                }
            }
        }
        None => out.push(format!("    {}", snippet_text(&h.snippet, bold))),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_become_bold_or_nothing_and_escapes_their_characters() {
        let s = "&lt;b&gt;<mark>国民年金</mark>の手続き &amp; &quot;x&quot;&#39;";
        assert_eq!(snippet_text(s, false), "<b>国民年金の手続き & \"x\"'");
        assert_eq!(
            snippet_text(s, true),
            "<b>\x1b[1m国民年金\x1b[0mの手続き & \"x\"'"
        );
        // An escaped entity in the text stays as typed.
        assert_eq!(snippet_text("&amp;lt;", false), "&lt;");
    }
}
