//! FAQ extraction: question/answer pairs from `<dl>`, `<details>` accordions, two-column
//! tables and `Q.`/`A.` headings and paragraphs.

use std::collections::HashSet;

use ego_tree::NodeId;
use scraper::ElementRef;

use super::blocks::{dl_entries, flatten};
use super::text::{
    ascii_fold, inside_boilerplate, is_boilerplate, render, render_clean, sel, tidy,
};

/// One extracted question/answer pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaqPair {
    /// The question text, without its `Q.` marker.
    pub question: String,
    /// The answer text (paragraphs and list items as lines), without its `A.` marker.
    pub answer: String,
}

/// Returns whether a page title or heading names an FAQ page (よくある質問, FAQ, Q&A).
pub fn is_faq_title(title: &str) -> bool {
    let t = ascii_fold(title).to_ascii_uppercase();
    [
        "よくある質問",
        "よくあるご質問",
        "FAQ",
        "Q&A",
        "質問と回答",
        "問答集",
        "QA集",
    ]
    .iter()
    .any(|k| t.contains(k))
}

/// Strips a leading question marker (`Q.`, `Ｑ１`, `問1`, `質問：`); `None` when absent.
pub fn strip_q(text: &str) -> Option<String> {
    strip_marker(text, &["質問", "問", "Q"])
}

/// Strips a leading answer marker (`A.`, `Ａ：`, `答`, `回答：`); `None` when absent.
pub fn strip_a(text: &str) -> Option<String> {
    strip_marker(text, &["回答", "答え", "答", "A"])
}

fn strip_marker(text: &str, markers: &[&str]) -> Option<String> {
    let t = text.trim_start();
    let folded = ascii_fold(t);
    for m in markers {
        let Some(rest) = folded.strip_prefix(m) else {
            continue;
        };
        // Marker then digits then a separator, or the marker alone.
        let rest_trim = rest.trim_start_matches(|c: char| c.is_ascii_digit());
        let sep_ok = rest_trim.is_empty()
            || rest_trim.starts_with(|c: char| {
                matches!(c, '.' | ':' | ' ' | ')' | '、' | '。' | '．' | '-' | '\n') || (c == '　')
            })
            || (rest_trim.len() < rest.len() && !rest_trim.starts_with(|c: char| c.is_ascii()));
        // "Q" must not start an ASCII word ("Quiz"), "問" must not start "問題".
        let ascii_word = m.is_ascii() && rest.starts_with(|c: char| c.is_ascii_alphabetic());
        let kanji_word = (*m == "問" && rest.starts_with(['題', '合', 'い']))
            || (*m == "答" && rest.starts_with('申'));
        let word_ok = !ascii_word && !kanji_word;
        if sep_ok && word_ok {
            let skip = t.chars().count() - rest_trim.chars().count();
            let out: String = t.chars().skip(skip).collect();
            return Some(
                out.trim_start_matches([
                    '.', ':', ' ', ')', '、', '。', '．', '-', '　', '：', '）', '\n',
                ])
                .trim()
                .to_string(),
            );
        }
    }
    None
}

/// Returns whether `text` reads as a question (ends with ？ or 〜か。, or has a Q marker).
pub fn is_question_like(text: &str) -> bool {
    let t = text.trim();
    strip_q(t).is_some()
        || t.ends_with('？')
        || t.ends_with('?')
        || t.ends_with("か。")
        || t.ends_with("ですか")
        || t.ends_with("ますか")
}

/// Extracts the question/answer pairs under `root`; `faq_page` loosens the rules (question
/// headings without a `Q.` marker count).
pub fn extract_faqs(root: ElementRef<'_>, faq_page: bool) -> Vec<FaqPair> {
    let mut consumed: HashSet<NodeId> = HashSet::new();
    let mut found: Vec<(NodeId, FaqPair)> = Vec::new();
    from_details(root, &mut consumed, &mut found);
    from_dl(root, faq_page, &mut consumed, &mut found);
    from_tables(root, faq_page, &mut consumed, &mut found);
    from_blocks(root, faq_page, &consumed, &mut found);
    // Document order: node ids are allocated in parse order.
    found.sort_by_key(|(id, _)| *id);
    let mut seen = HashSet::new();
    found
        .into_iter()
        .map(|(_, p)| p)
        .filter(|p| !p.question.is_empty() && !p.answer.is_empty())
        .filter(|p| seen.insert((p.question.clone(), p.answer.clone())))
        .collect()
}

fn inside_consumed(el: ElementRef<'_>, consumed: &HashSet<NodeId>) -> bool {
    el.ancestors().any(|a| consumed.contains(&a.id()))
}

fn clean_q(s: &str) -> String {
    strip_q(s).unwrap_or_else(|| s.trim().to_string())
}

fn clean_a(s: &str) -> String {
    strip_a(s).unwrap_or_else(|| s.trim().to_string())
}

fn from_details(
    root: ElementRef<'_>,
    consumed: &mut HashSet<NodeId>,
    found: &mut Vec<(NodeId, FaqPair)>,
) {
    for d in root.select(&sel("details")) {
        if inside_consumed(d, consumed) || inside_boilerplate(d, root) {
            continue;
        }
        let Some(summary) = d.select(&sel("summary")).next() else {
            continue;
        };
        let q = clean_q(&render_clean(summary));
        let sid = summary.id();
        if is_link_list(d, sid) {
            // A table of contents (ページ内目次) folded in a <details>: not a question.
            continue;
        }
        let a = render(d, &|e| e.id() == sid || is_boilerplate(e));
        let a = clean_a(&a);
        if !q.is_empty() && !a.is_empty() {
            consumed.insert(d.id());
            found.push((
                d.id(),
                FaqPair {
                    question: q,
                    answer: a,
                },
            ));
        }
    }
}

/// Whether the content of `el` (except the node `except`) is nothing but links: a table
/// of contents or a link list, not an answer.
fn is_link_list(el: ElementRef<'_>, except: NodeId) -> bool {
    let mut all = 0usize;
    let mut linked = 0usize;
    for n in el.descendants() {
        if n.ancestors().any(|a| a.id() == except) || n.id() == except {
            continue;
        }
        if let Some(t) = n.value().as_text() {
            let c = t.trim().chars().count();
            all += c;
            if n.ancestors()
                .filter_map(ElementRef::wrap)
                .any(|a| a.value().name() == "a")
            {
                linked += c;
            }
        }
    }
    all > 0 && linked * 10 >= all * 8
}

/// Labels of contact lists (`<dt>電話</dt>`), which are not questions.
fn is_contact_label(s: &str) -> bool {
    let t = ascii_fold(s).to_ascii_uppercase();
    t.chars().count() <= 12
        && [
            "電話",
            "TEL",
            "FAX",
            "ファクス",
            "ファックス",
            "メール",
            "MAIL",
            "住所",
            "所在地",
            "担当",
            "所属",
            "受付",
            "時間",
            "部署",
        ]
        .iter()
        .any(|k| t.contains(k))
}

fn from_dl(
    root: ElementRef<'_>,
    faq_page: bool,
    consumed: &mut HashSet<NodeId>,
    found: &mut Vec<(NodeId, FaqPair)>,
) {
    for dl in root.select(&sel("dl")) {
        if inside_consumed(dl, consumed) || inside_boilerplate(dl, root) {
            continue;
        }
        let mut pairs: Vec<(NodeId, String, Vec<String>)> = Vec::new();
        for (dt, dds) in dl_entries(dl) {
            pairs.push((
                dt.id(),
                render_clean(dt),
                dds.into_iter().map(render_clean).collect(),
            ));
        }
        let contact_labels = pairs.iter().filter(|p| is_contact_label(&p.1)).count();
        if pairs.is_empty() || contact_labels * 2 >= pairs.len() {
            continue;
        }
        let mut any = false;
        for (id, q, a) in pairs {
            if !(is_question_like(&q) || faq_page) {
                continue;
            }
            let answer = clean_a(&tidy(&a.join("\n")));
            let question = clean_q(&q);
            if !question.is_empty() && !answer.is_empty() {
                any = true;
                found.push((id, FaqPair { question, answer }));
            }
        }
        if any {
            consumed.insert(dl.id());
        }
    }
}

fn table_rows(table: ElementRef<'_>) -> Vec<Vec<ElementRef<'_>>> {
    let mut rows = Vec::new();
    for child in table.children().filter_map(ElementRef::wrap) {
        let trs: Vec<ElementRef<'_>> = match child.value().name() {
            "tr" => vec![child],
            "thead" | "tbody" | "tfoot" => child
                .children()
                .filter_map(ElementRef::wrap)
                .filter(|e| e.value().name() == "tr")
                .collect(),
            _ => vec![],
        };
        for tr in trs {
            rows.push(
                tr.children()
                    .filter_map(ElementRef::wrap)
                    .filter(|e| matches!(e.value().name(), "td" | "th"))
                    .collect(),
            );
        }
    }
    rows
}

fn from_tables(
    root: ElementRef<'_>,
    faq_page: bool,
    consumed: &mut HashSet<NodeId>,
    found: &mut Vec<(NodeId, FaqPair)>,
) {
    for table in root.select(&sel("table")) {
        if inside_consumed(table, consumed) || inside_boilerplate(table, root) {
            continue;
        }
        let rows = table_rows(table);
        if rows.is_empty() || rows.iter().any(|r| r.len() > 3) {
            continue;
        }
        let texts: Vec<Vec<String>> = rows
            .iter()
            .map(|r| r.iter().map(|c| render_clean(*c)).collect())
            .collect();
        let is_qa_header = |r: &[String]| {
            r.len() >= 2
                && ["質問", "問", "Q", "Ｑ", "よくある質問", "問い合わせ内容"]
                    .contains(&r[r.len() - 2].trim())
                && ["回答", "答", "答え", "A", "Ａ"].contains(&r[r.len() - 1].trim())
        };
        let header = texts.first().is_some_and(|r| is_qa_header(r));
        let mut pending_q: Option<(NodeId, String)> = None;
        let mut local = Vec::new();
        for (i, (cells, els)) in texts.iter().zip(&rows).enumerate() {
            if header && i == 0 {
                continue;
            }
            // Marker rows: <tr><th>Q</th><td>…</td></tr><tr><th>A</th><td>…</td></tr>.
            if cells.len() == 2 {
                let m = ascii_fold(cells[0].trim());
                if matches!(m.as_str(), "Q" | "Q." | "問" | "質問") {
                    pending_q = Some((els[0].id(), cells[1].clone()));
                    continue;
                }
                if matches!(m.as_str(), "A" | "A." | "答" | "答え" | "回答") {
                    if let Some((id, q)) = pending_q.take() {
                        local.push((id, q, cells[1].clone()));
                    }
                    continue;
                }
            }
            if cells.len() < 2 {
                continue;
            }
            let q = &cells[cells.len() - 2];
            let a = &cells[cells.len() - 1];
            if header || is_question_like(q) || (faq_page && !is_contact_label(q)) {
                local.push((els[0].id(), q.clone(), a.clone()));
            }
        }
        // Without a header or Q markers, most rows must read as questions.
        let questions = local.iter().filter(|l| is_question_like(&l.1)).count();
        if local.is_empty() || !(header || questions * 2 > local.len()) {
            continue;
        }
        consumed.insert(table.id());
        for (id, q, a) in local {
            found.push((
                id,
                FaqPair {
                    question: clean_q(&q),
                    answer: clean_a(&a),
                },
            ));
        }
    }
}

struct Pending {
    id: NodeId,
    question: String,
    level: u8,
    answer: Vec<String>,
}

fn from_blocks(
    root: ElementRef<'_>,
    faq_page: bool,
    consumed: &HashSet<NodeId>,
    found: &mut Vec<(NodeId, FaqPair)>,
) {
    let mut blocks = Vec::new();
    flatten(root, consumed, &mut blocks, true);
    let mut cur: Option<Pending> = None;
    let finish = |cur: &mut Option<Pending>, found: &mut Vec<(NodeId, FaqPair)>| {
        if let Some(p) = cur.take() {
            let answer = tidy(&p.answer.join("\n"));
            if !p.question.is_empty() && !answer.is_empty() {
                found.push((
                    p.id,
                    FaqPair {
                        question: p.question,
                        answer,
                    },
                ));
            }
        }
    };
    for b in blocks {
        if b.boundary {
            finish(&mut cur, found);
            continue;
        }
        let first_line = b.text.lines().next().unwrap_or_default();
        let q_marker = strip_q(first_line);
        let heading_q = b.heading.is_some() && faq_page && is_question_like(&b.text);
        if q_marker.is_some() || heading_q {
            finish(&mut cur, found);
            // "Q. …" and "A. …" in one block: split at the first answer line.
            let lines: Vec<&str> = b.text.lines().collect();
            let a_at = lines
                .iter()
                .skip(1)
                .position(|l| strip_a(l).is_some())
                .map(|i| i + 1);
            let (q_lines, a_lines) = match a_at {
                Some(i) => (&lines[..i], &lines[i..]),
                None => (&lines[..], &lines[..0]),
            };
            let question = clean_q(&q_lines.join("\n"));
            let mut answer = Vec::new();
            if !a_lines.is_empty() {
                answer.push(clean_a(&a_lines.join("\n")));
            }
            cur = Some(Pending {
                id: b.id,
                question,
                level: b.heading.unwrap_or(7),
                answer,
            });
            continue;
        }
        let Some(p) = cur.as_mut() else {
            continue;
        };
        if let Some(level) = b.heading
            && strip_a(first_line).is_none()
            && (level <= p.level || p.level == 7)
            && !(p.question.is_empty())
        {
            // A new section ends the answer.
            finish(&mut cur, found);
            continue;
        }
        if p.question.is_empty() {
            // A bare "Q" marker block: this block is the question.
            p.question = clean_q(&b.text);
            continue;
        }
        if p.answer.is_empty() {
            let a = clean_a(&b.text);
            if !a.is_empty() {
                p.answer.push(a);
            }
        } else {
            p.answer.push(b.text);
        }
    }
    finish(&mut cur, found);
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;

    fn faqs(html: &str, faq_page: bool) -> Vec<(String, String)> {
        let doc = Html::parse_document(html);
        let root = doc.select(&sel("body")).next().unwrap();
        extract_faqs(root, faq_page)
            .into_iter()
            .map(|p| (p.question, p.answer))
            .collect()
    }

    #[test]
    fn markers_are_stripped() {
        assert_eq!(strip_q("Q. 国保とは？").as_deref(), Some("国保とは？"));
        assert_eq!(strip_q("Ｑ１　国保とは？").as_deref(), Some("国保とは？"));
        assert_eq!(strip_q("問3：手数料は？").as_deref(), Some("手数料は？"));
        assert_eq!(strip_q("問題点"), None);
        assert_eq!(strip_q("Quiz"), None);
        assert_eq!(strip_a("Ａ．窓口です。").as_deref(), Some("窓口です。"));
        assert_eq!(strip_a("回答：はい").as_deref(), Some("はい"));
        assert_eq!(strip_a("A").as_deref(), Some(""));
    }

    #[test]
    fn q_a_paragraphs_with_multi_paragraph_answers() {
        let got = faqs(
            "<body><h2>Q1. 転入したときの手続きは？</h2><p>A1. 14日以内に届け出てください。</p>\
             <p>本人確認書類が必要です。</p><ul><li>運転免許証</li><li>マイナンバーカード</li></ul>\
             <h2>Q2. 手数料は？</h2><p>A2. 無料です。</p><h2>関連リンク</h2><p>リンク集</p></body>",
            false,
        );
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].0, "転入したときの手続きは？");
        assert_eq!(
            got[0].1,
            "14日以内に届け出てください。\n本人確認書類が必要です。\n運転免許証\nマイナンバーカード"
        );
        assert_eq!(got[1], ("手数料は？".into(), "無料です。".into()));
    }

    #[test]
    fn details_dl_and_tables() {
        let got = faqs(
            "<body><details><summary>Q. 開庁時間は？</summary><p>8時30分から17時15分です。</p></details>\
             <dl><dt>駐車場はありますか？</dt><dd>あります。</dd><dd>有料です。</dd></dl>\
             <table><tr><th>質問</th><th>回答</th></tr><tr><td>予約は必要？</td><td>不要です。</td></tr></table>\
             <dl><dt>電話</dt><dd>03-1234-5678</dd><dt>FAX</dt><dd>03-1234-5679</dd></dl></body>",
            false,
        );
        assert_eq!(
            got,
            vec![
                (
                    "開庁時間は？".to_string(),
                    "8時30分から17時15分です。".to_string()
                ),
                (
                    "駐車場はありますか？".into(),
                    "あります。\n有料です。".into()
                ),
                ("予約は必要？".into(), "不要です。".into()),
            ]
        );
    }

    #[test]
    fn marker_only_blocks_and_inline_pairs() {
        let got = faqs(
            "<body><div class=\"faq\"><div class=\"q\"><span>Q</span><p>住民票はどこで取れますか？</p></div>\
             <div class=\"a\"><span>A</span><p>市役所の窓口で取得できます。</p><p>コンビニでも取得できます。</p></div></div>\
             <p>Q. 印鑑登録は代理人でもできますか？<br>A. 委任状があればできます。</p></body>",
            false,
        );
        assert_eq!(
            got,
            vec![
                (
                    "住民票はどこで取れますか？".to_string(),
                    "市役所の窓口で取得できます。\nコンビニでも取得できます。".to_string()
                ),
                (
                    "印鑑登録は代理人でもできますか？".into(),
                    "委任状があればできます。".into()
                ),
            ]
        );
    }

    #[test]
    fn question_headings_count_on_faq_pages_only() {
        let html = "<body><h3>住民票はどこで取れますか？</h3><div><p>市役所の窓口です。</p></div>\
                    <h3>手数料は？</h3><p>300円です。</p></body>";
        assert_eq!(faqs(html, true).len(), 2);
        assert!(faqs(html, false).is_empty());
    }

    #[test]
    fn a_table_of_contents_in_details_is_not_a_pair() {
        let got = faqs(
            "<body><details><summary>ページ内目次</summary><ul><li><a href=\"#a\">猫</a></li>\
             <li><a href=\"#b\">犬</a></li></ul></details>\
             <details><summary>手数料は？</summary><p>無料です。<a href=\"/fee\">詳細</a></p></details></body>",
            false,
        );
        assert_eq!(
            got,
            vec![("手数料は？".to_string(), "無料です。詳細".to_string())]
        );
    }

    #[test]
    fn plain_pages_without_markers_have_no_faqs() {
        let got = faqs(
            "<body><h2>概要</h2><p>この制度について説明します。</p><h2>対象者は？</h2><p>県民です。</p></body>",
            false,
        );
        assert!(got.is_empty(), "{got:?}");
    }
}
