//! Contacts anchored on phone numbers in running text and in the page's own contact block
//! (「このページに関するお問い合わせ」, 「このページの作成所属」, 「情報発信元」, 「お問い合わせ先」).
//!
//! Every Japanese phone number ([`super::phone`]) in the main text gives a contact row; its
//! organisational unit is, in this order, the unit named before it on the same line
//! (`国保係 03-…`, `お問合せ先：動物愛護センター（電話：…）`), the one in parentheses after it
//! (`03-…（○○センター）`), the unit lines just above it (a contact block's `所属` lines, skipping
//! address and hours lines), the heading above, and last the page's department. FAX, e-mail,
//! address and hours on the lines around it are attached. Rows that share a number are one
//! contact, named from the best evidence (the page's contact block first). A number marked
//! 代表 is dropped when its block gives a direct number, and call-centre numbers
//! (コールセンター) are site-wide, not the page's.

use std::collections::HashSet;

use ego_tree::NodeId;
use scraper::ElementRef;

use super::blocks::{Block, flatten, flatten_with};
use super::phone::{PhoneHit, find_phones};
use super::text::is_boilerplate;
use super::text::{ascii_fold, collapse_spaces};
use crate::material::Contact;

/// Endings of organisational unit names (課, 係, センター, …).
const UNIT_SUFFIXES: &[&str] = &[
    "センター",
    "課",
    "係",
    "室",
    "所",
    "局",
    "部",
    "班",
    "館",
    "署",
    "グループ",
    "担当",
    "委員会",
    "窓口",
    "協会",
    "組合",
    "公社",
    "ダイヤル",
    "病院",
    "事業団",
    "公園",
    "園",
    "庁",
    "役場",
    "ステーション",
    "プラザ",
];

/// Labels in front of a unit name (`所属課室：…`) or of a number (`電話番号：…`).
const UNIT_LABELS: &[&str] = &[
    "問い合わせ",
    "問合せ",
    "問合わせ",
    "担当",
    "所属",
    "部署",
    "課室",
    "名称",
    "窓口",
    "施設名",
    "連絡先",
    "作成",
    "発信元",
];

/// Words that make a heading a topic, not a unit name.
const TOPIC_WORDS: &[&str] = &[
    "案内",
    "について",
    "一覧",
    "方法",
    "流れ",
    "注意",
    "お知らせ",
    "情報",
    "募集",
    "手続",
    "申請",
    "申込",
    "よくある",
    "関連",
    "問い合わせ",
    "問合せ",
    "連絡先",
    "条件",
    "とは",
    "場合",
];

/// Words around a number that are labels, not part of a unit name.
const NUMBER_LABELS: &[&str] = &[
    "電話番号",
    "お電話",
    "電話",
    "TEL",
    "Tel",
    "tel",
    "℡",
    "☎",
    "直通",
    "代表",
    "番号",
    "FAX",
    "Fax",
    "fax",
    "ファクス",
    "ファックス",
    "内線",
    "連絡先",
    "予約",
    "受付",
    "専用",
];

/// How a row's unit was found; lower is better evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Evidence {
    /// In the page's own contact block.
    Block,
    /// On the number's line (before it or in parentheses after it).
    SameLine,
    /// On the lines just above the number.
    Above,
    /// The heading above.
    Heading,
    /// The page's department.
    Department,
}

/// One contact row with the evidence for its unit.
#[derive(Debug, Clone)]
struct Row {
    order: usize,
    digits: String,
    evidence: Evidence,
    main_line: bool,
    contact: Contact,
}

fn is_unit_char(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '々' | 'ヶ' | 'ヵ'
        | '\u{30A1}'..='\u{30FA}' | 'ー' | '\u{FF66}'..='\u{FF9F}'
        | '0'..='9' | '０'..='９')
}

fn ends_with_suffix(s: &str) -> bool {
    UNIT_SUFFIXES.iter().any(|k| s.ends_with(k))
}

/// Removes bracketed asides: `（外部リンク）`, `(代表)`, `［PDF］`, `【ホームページ】`.
fn strip_brackets(s: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '（' | '(' | '［' | '[' | '【' | '〔' => depth += 1,
            '）' | ')' | '］' | ']' | '】' | '〕' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn trim_decor(s: &str) -> &str {
    s.trim_matches(|c: char| {
        c.is_whitespace() || "・:：,，、。/／〇○●◎◆◇■□▶▷>＞※-－_|｜「」『』【】()（）".contains(c)
    })
}

/// Strips number labels from the end of `s` (`…（電話：` → `…`).
fn strip_number_labels(s: &str) -> String {
    let mut t = trim_decor(s).to_string();
    loop {
        let before = t.clone();
        for l in NUMBER_LABELS {
            if let Some(r) = t.strip_suffix(l) {
                t = trim_decor(r).to_string();
            }
        }
        if t == before {
            return t;
        }
    }
}

/// The unit named in `s` (a line, or the part of a line before a number).
fn unit_in(s: &str) -> Option<String> {
    let s = collapse_spaces(&ascii_fold(&strip_brackets(s)));
    let s = strip_number_labels(&s);
    // "所属課室：健康福祉部 …", "お問い合わせ：…": the value after a unit label.
    if let Some((label, value)) = s.rsplit_once(['：', ':']) {
        let value = trim_decor(value);
        if !value.is_empty() && UNIT_LABELS.iter().any(|l| label.contains(l)) {
            let v = strip_number_labels(value);
            if (2..=40).contains(&v.chars().count()) && !v.contains(['、', '。']) {
                return Some(v);
            }
        }
    }
    let s = match s.rsplit_once(['：', ':']) {
        Some((_, v)) if !trim_decor(v).is_empty() => trim_decor(v).to_string(),
        _ => s,
    };
    // The last clause of a sentence: "…をご覧いただき、当センター".
    let clause = trim_decor(s.rsplit(['、', '。', ',', '，']).next().unwrap_or(&s));
    let n = clause.chars().count();
    if ends_with_suffix(clause) && (2..=40).contains(&n) {
        return Some(clause.to_string());
    }
    // Else the last unit-like word anywhere before: "動物愛護センターで…お電話(".
    last_unit_word(&s)
}

/// The unit-like word (a run of kanji/katakana ending in a unit suffix, 3+ chars) that ends
/// last in `s`.
fn last_unit_word(s: &str) -> Option<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut best: Option<(usize, String)> = None;
    for k in UNIT_SUFFIXES {
        let kc: Vec<char> = k.chars().collect();
        for end in (kc.len()..=chars.len()).rev() {
            if chars[end - kc.len()..end] != kc[..] {
                continue;
            }
            let mut start = end - kc.len();
            while start > 0 && is_unit_char(chars[start - 1]) {
                start -= 1;
            }
            if end - start >= 3 && end - start > kc.len() {
                let w: String = chars[start..end].iter().collect();
                let better = match &best {
                    None => true,
                    Some((e, b)) => {
                        end > *e || (end == *e && w.chars().count() > b.chars().count())
                    }
                };
                if better {
                    best = Some((end, w));
                }
                break;
            }
        }
    }
    best.map(|(_, w)| w)
}

/// Whether a short text is a contact-block marker (「このページに関するお問い合わせ」, 「作成所属」…).
pub fn is_marker(text: &str) -> bool {
    let t = collapse_spaces(text);
    t.chars().count() <= 40
        && [
            "問い合わせ",
            "問合せ",
            "問合わせ",
            "作成所属",
            "作成者",
            "作成担当",
            "情報発信元",
            "担当課",
            "担当部署",
        ]
        .iter()
        .any(|k| t.contains(k))
        && find_phones(&t).is_empty()
        && !t.ends_with(['？', '?'])
        && t.split_once([':', '：'])
            .is_none_or(|(_, v)| v.trim().is_empty())
}

fn is_address_line(t: &str) -> bool {
    let f = ascii_fold(t);
    let f = f.trim_start_matches(['・', ' ', '■', '●', '○', '〇']);
    if f.starts_with('〒')
        || ["住所", "所在地", "郵便番号"]
            .iter()
            .any(|k| f.starts_with(k))
    {
        return true;
    }
    if !find_phones(f).is_empty() {
        return false;
    }
    // "…町1丁目2番3号", "…445番地1", "…2番74号".
    let c: Vec<char> = f.chars().collect();
    let numbered = |k: char| {
        c.windows(2).any(|w| {
            (w[0].is_ascii_digit() || ('一'..='九').contains(&w[0]) || w[0] == '十') && w[1] == k
        })
    };
    (f.contains("丁目") || f.contains("番地") || (numbered('番') && numbered('号')))
        && !ends_with_suffix(f.trim())
}

fn is_hours_line(t: &str) -> bool {
    let f = ascii_fold(t);
    [
        "受付時間",
        "開庁時間",
        "業務時間",
        "開館時間",
        "受付日時",
        "受付：",
        "受付:",
        "相談時間",
    ]
    .iter()
    .any(|k| f.contains(k))
}

/// The value after an address or hours label.
fn label_value(t: &str) -> String {
    let t = collapse_spaces(&ascii_fold(t));
    match t.split_once([':', '：']) {
        Some((l, v)) if l.chars().count() <= 8 && !v.trim().is_empty() => v.trim().to_string(),
        _ => t,
    }
}

/// A line that, as a whole, names a unit (`健康福祉局動物管理センター`, `所属課室：厚生部…`).
fn unit_line(t: &str) -> Option<String> {
    let s = collapse_spaces(&ascii_fold(&strip_brackets(t)));
    let s = trim_decor(&s);
    let n = s.chars().count();
    if !(2..=40).contains(&n) || s.contains(['、', '。', '@']) || is_marker(s) {
        return None;
    }
    if let Some((label, value)) = s.rsplit_once([':', '：'])
        && UNIT_LABELS.iter().any(|l| label.contains(l))
    {
        let v = trim_decor(value);
        let digits = v.chars().filter(|c| c.is_ascii_digit()).count();
        return (v.chars().count() >= 2
            && digits * 2 < v.chars().count()
            && find_phones(v).is_empty())
        .then(|| v.to_string());
    }
    if s.contains([':', '：']) {
        return None;
    }
    (ends_with_suffix(s) || last_unit_word(s).is_some()).then(|| s.to_string())
}

/// A heading that names a unit (`千葉市動物保護指導センター`), not a topic (`譲渡のご案内`).
fn heading_unit(t: &str) -> Option<String> {
    let s = collapse_spaces(&strip_brackets(t));
    let s = trim_decor(&s);
    let n = s.chars().count();
    if !(2..=30).contains(&n) || s.contains(['？', '?', '、', '。']) {
        return None;
    }
    if TOPIC_WORDS.iter().any(|w| s.contains(w)) {
        return None;
    }
    Some(s.to_string())
}

/// A rendered line of the text with its heading level.
struct Line {
    text: String,
    heading: Option<u8>,
}

fn lines_of(blocks: &[Block]) -> Vec<Line> {
    let mut out = Vec::new();
    for b in blocks {
        if b.boundary {
            continue;
        }
        for l in b.text.lines() {
            out.push(Line {
                text: l.to_string(),
                heading: b.heading,
            });
        }
    }
    out
}

/// The unit lines just above line `idx` (or the heading above them).
fn unit_above(lines: &[Line], idx: usize) -> Option<(String, Evidence)> {
    let mut parts: Vec<String> = Vec::new();
    for j in (idx.saturating_sub(6)..idx).rev() {
        let l = &lines[j];
        let t = l.text.trim();
        if l.heading.is_some() {
            if parts.is_empty() {
                return heading_unit(t).map(|u| (u, Evidence::Heading));
            }
            break;
        }
        if !find_phones(t).is_empty() || is_marker(t) {
            break;
        }
        if is_address_line(t) || is_hours_line(t) || t == "代表" || t.contains('@') {
            if parts.is_empty() {
                continue;
            }
            break;
        }
        match unit_line(t) {
            Some(u) => parts.push(u),
            // A link or note line between a unit and its number ("…【ホームページ】").
            None if parts.is_empty() && t.chars().count() <= 40 && !t.contains(['。', '、']) => {}
            None => break,
        }
    }
    if parts.is_empty() {
        return None;
    }
    parts.reverse();
    Some((parts.join(" "), Evidence::Above))
}

/// A unit in parentheses right after a number: `082-243-6058（広島市動物愛護センター）`.
fn unit_after(after: &str) -> Option<String> {
    let a = ascii_fold(after);
    let a = a.trim_start();
    let inner = a.strip_prefix('(')?;
    let inner = &inner[..inner.find(')')?];
    if inner.contains("代表") || inner.contains("内線") || inner.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let u = unit_in(inner)?;
    (ends_with_suffix(&u) || last_unit_word(&u).is_some()).then_some(u)
}

fn set_unit(c: &mut Contact, unit: &str) {
    let unit = collapse_spaces(unit);
    match unit.rsplit_once(' ') {
        Some((dept, group))
            if ["係", "班", "グループ", "担当", "チーム"]
                .iter()
                .any(|k| group.ends_with(k)) =>
        {
            c.department = Some(dept.to_string());
            c.group = Some(group.to_string());
        }
        _ => c.department = Some(unit),
    }
}

/// The row read at most 3 lines before line `idx`.
fn recent(rows: &mut [(usize, Row)], idx: usize) -> Option<&mut Row> {
    rows.last_mut()
        .filter(|(at, _)| idx <= at + 3)
        .map(|(_, r)| r)
}

/// Reads contact rows out of `lines`; `evidence` is [`Evidence::Block`] for the page's own
/// contact block.
fn scan(lines: &[Line], block: bool, department: Option<&str>, order0: usize) -> Vec<Row> {
    let mut rows: Vec<(usize, Row)> = Vec::new();
    let mut address: Option<(usize, String)> = None;
    let mut hours: Option<(usize, String)> = None;
    for (idx, l) in lines.iter().enumerate() {
        if l.heading.is_some() {
            address = None;
            hours = None;
            continue;
        }
        let t = l.text.as_str();
        if is_address_line(t) {
            let v = label_value(t);
            if let Some(r) = recent(&mut rows, idx)
                && r.contact.address.is_none()
            {
                r.contact.address = Some(v.clone());
            }
            address = Some((idx, v));
        }
        if is_hours_line(t) {
            let v = label_value(t);
            if let Some(r) = recent(&mut rows, idx)
                && r.contact.hours.is_none()
            {
                r.contact.hours = Some(v.clone());
            }
            hours = Some((idx, v));
        }
        if let Some(mail) = ascii_fold(t)
            .split(|c: char| !(c.is_ascii_alphanumeric() || "@._-+".contains(c)))
            .find(|w| w.contains('@') && w.contains('.') && !w.starts_with('@'))
            && let Some(r) = recent(&mut rows, idx)
            && r.contact.email.is_none()
        {
            r.contact.email = Some(mail.to_string());
        }
        let hits: Vec<PhoneHit> = find_phones(t);
        let chars: Vec<char> = t.chars().collect();
        for (k, h) in hits.iter().enumerate() {
            let prev_end = if k == 0 { 0 } else { hits[k - 1].end };
            let next_start = hits.get(k + 1).map_or(chars.len(), |n| n.start);
            if h.fax {
                if let Some(r) = recent(&mut rows, idx)
                    && r.contact.fax.is_none()
                {
                    r.contact.fax = Some(h.number.clone());
                }
                continue;
            }
            let before: String = chars[prev_end..h.start].iter().collect();
            let after: String = chars[h.end..next_start].iter().collect();
            let found = unit_in(&before)
                .map(|u| (u, Evidence::SameLine))
                .or_else(|| unit_after(&after).map(|u| (u, Evidence::SameLine)))
                .or_else(|| unit_above(lines, idx))
                .or_else(|| department.map(|d| (d.to_string(), Evidence::Department)));
            let Some((unit, mut evidence)) = found else {
                continue;
            };
            if unit.contains("コールセンター") {
                continue;
            }
            if block && evidence != Evidence::Department {
                evidence = Evidence::Block;
            }
            let mut c = Contact::default();
            set_unit(&mut c, &unit);
            c.phone = Some(match &h.extension {
                Some(e) => format!("{} 内線{e}", h.number),
                None => h.number.clone(),
            });
            if let Some((at, a)) = &address
                && idx <= at + 4
            {
                c.address = Some(a.clone());
            }
            if let Some((at, v)) = &hours
                && idx <= at + 4
            {
                c.hours = Some(v.clone());
            }
            rows.push((
                idx,
                Row {
                    order: order0 + idx,
                    digits: h.digits.clone(),
                    evidence,
                    main_line: h.main_line,
                    contact: c,
                },
            ));
        }
    }
    // A 代表 number is the switchboard when a direct number is given next to it.
    let direct: Vec<usize> = rows
        .iter()
        .filter(|(_, r)| !r.main_line)
        .map(|(i, _)| *i)
        .collect();
    rows.into_iter()
        .filter(|(i, r)| !r.main_line || !direct.iter().any(|d| d.abs_diff(*i) <= 3))
        .map(|(_, r)| r)
        .collect()
}

/// The page's own contact blocks: the elements following each marker (「このページに関する
/// お問い合わせ」…), outside the site's header, footer and navigation.
fn page_blocks<'a>(body: ElementRef<'a>) -> Vec<Vec<ElementRef<'a>>> {
    let mut out: Vec<Vec<ElementRef<'a>>> = Vec::new();
    let mut seen: HashSet<NodeId> = HashSet::new();
    for el in body.descendants().filter_map(ElementRef::wrap) {
        let name = el.value().name();
        if !matches!(
            name,
            "h1" | "h2"
                | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "p"
                | "div"
                | "dt"
                | "span"
                | "strong"
                | "b"
                | "th"
                | "caption"
                | "legend"
        ) {
            continue;
        }
        let text: String = el.text().collect();
        if !is_marker(&text) || text.trim().is_empty() {
            continue;
        }
        let furniture = el.ancestors().filter_map(ElementRef::wrap).any(|a| {
            matches!(
                a.value().name(),
                "footer" | "header" | "nav" | "aside" | "form" | "a" | "button"
            )
        });
        if furniture
            || el
                .descendants()
                .filter_map(ElementRef::wrap)
                .any(|d| d.value().name() == "a")
        {
            continue;
        }
        // The marker's following siblings (up to the next heading of its level), else its
        // parent's.
        let level = super::blocks::heading_level(name);
        let mut node = el;
        for _ in 0..3 {
            let sibs: Vec<ElementRef<'a>> = node
                .next_siblings()
                .filter_map(ElementRef::wrap)
                .take_while(
                    |s| match (level, super::blocks::heading_level(s.value().name())) {
                        (Some(l), Some(m)) => m > l,
                        _ => true,
                    },
                )
                .take(8)
                .collect();
            if !sibs.is_empty() {
                let group: Vec<ElementRef<'a>> =
                    sibs.into_iter().filter(|s| seen.insert(s.id())).collect();
                if !group.is_empty() {
                    out.push(group);
                }
                break;
            }
            match node.parent().and_then(ElementRef::wrap) {
                Some(p) if p.id() != body.id() => node = p,
                _ => break,
            }
        }
    }
    // Keep the outermost regions only.
    let ids: HashSet<NodeId> = out.iter().flatten().map(|e| e.id()).collect();
    for g in &mut out {
        g.retain(|e| !e.ancestors().any(|a| ids.contains(&a.id())));
    }
    out.retain(|g| !g.is_empty());
    out
}

/// What [`page_contacts`] found.
#[derive(Debug, Default)]
pub struct PageContacts {
    /// One contact per distinct phone number, in page order.
    pub contacts: Vec<Contact>,
    /// Per contact: named by the page's own contact block (the same on every page of the
    /// department, so one material for the whole site).
    pub in_block: Vec<bool>,
    /// The unit named first in the page's own contact block.
    pub department: Option<String>,
}

/// Phone-anchored contacts of the main text under `root` and of the page's own contact
/// blocks anywhere under `body`; `department` names rows that name no unit.
pub fn page_contacts(
    root: ElementRef<'_>,
    body: ElementRef<'_>,
    department: Option<&str>,
) -> PageContacts {
    let mut rows = Vec::new();
    let mut block_dept: Option<String> = None;
    let regions = page_blocks(body);
    let mut in_blocks: HashSet<NodeId> = HashSet::new();
    for (i, group) in regions.iter().enumerate() {
        let mut blocks = Vec::new();
        // A contact block may sit in a <form> (its "send a message" button).
        let skip = |e: ElementRef<'_>| e.value().name() != "form" && is_boilerplate(e);
        for r in group {
            flatten_with(*r, &HashSet::new(), &mut blocks, true, &skip);
            in_blocks.insert(r.id());
        }
        let lines = lines_of(&blocks);
        if block_dept.is_none() {
            block_dept = lines.iter().find_map(|l| {
                if l.heading.is_some() {
                    heading_unit(&l.text).filter(|u| ends_with_suffix(u))
                } else {
                    unit_line(&l.text)
                }
            });
        }
        rows.extend(scan(&lines, true, department, i * 10_000));
    }
    let mut blocks = Vec::new();
    flatten(root, &in_blocks, &mut blocks, true);
    let lines = lines_of(&blocks);
    // Outside the contact block a number names its unit itself: a number in prose with no
    // unit near it is not taken for the page's (it may be anyone's).
    rows.extend(scan(&lines, false, None, 1_000_000));
    // One contact per number: the best-evidenced name, the other rows' details.
    let mut merged: Vec<Row> = Vec::new();
    for r in rows {
        match merged.iter_mut().find(|m| m.digits == r.digits) {
            Some(m) => {
                let (mut best, other) = if r.evidence < m.evidence {
                    (r.clone(), m.clone())
                } else {
                    (m.clone(), r.clone())
                };
                let c = &mut best.contact;
                c.fax = c.fax.take().or(other.contact.fax);
                c.email = c.email.take().or(other.contact.email);
                c.address = c.address.take().or(other.contact.address);
                c.hours = c.hours.take().or(other.contact.hours);
                best.order = m.order.min(r.order);
                *m = best;
            }
            None => merged.push(r),
        }
    }
    merged.sort_by_key(|r| (r.order >= 1_000_000, r.order));
    PageContacts {
        in_block: merged
            .iter()
            .map(|r| r.evidence == Evidence::Block)
            .collect(),
        contacts: merged.into_iter().map(|r| r.contact).collect(),
        department: block_dept,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;

    fn run(html: &str) -> PageContacts {
        let doc = Html::parse_document(html);
        let body = doc
            .select(&scraper::Selector::parse("body").unwrap())
            .next()
            .unwrap();
        let root = super::super::text::main_root(&doc);
        page_contacts(root, body, None)
    }

    fn pairs(p: &PageContacts) -> Vec<(String, String)> {
        p.contacts
            .iter()
            .map(|c| {
                (
                    [c.department.clone(), c.group.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" "),
                    c.phone.clone().unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn units_before_after_and_above_numbers() {
        let p = run("<body><main><h1>届出</h1>\
            <p>那覇市環境衛生課 098－951－1530</p>\
            <p>電話番号：保険係03-1111-2222,年金係03-1111-3333</p>\
            <p>予約受付連絡先：082-243-6058（広島市動物愛護センター）</p>\
            <p>お問合せ先：動物愛護センター（電話：045-471-2111、FAX：045-471-2133）</p>\
            <p>福山市動物愛護センター（外部リンク）<br>（電話：084-970-1201）</p>\
            <h3>千葉市動物保護指導センター</h3><p>住所：千葉市稲毛区宮野木町445-1</p><p>電話：043-258-7817</p>\
            </main><footer><p>市役所コールセンター 電話番号043-245-4894</p></footer></body>");
        assert_eq!(
            pairs(&p),
            vec![
                ("那覇市環境衛生課".to_string(), "098-951-1530".to_string()),
                ("保険係".into(), "03-1111-2222".into()),
                ("年金係".into(), "03-1111-3333".into()),
                ("広島市動物愛護センター".into(), "082-243-6058".into()),
                ("動物愛護センター".into(), "045-471-2111".into()),
                ("福山市動物愛護センター".into(), "084-970-1201".into()),
                ("千葉市動物保護指導センター".into(), "043-258-7817".into()),
            ]
        );
        assert_eq!(p.contacts[4].fax.as_deref(), Some("045-471-2133"));
        assert_eq!(
            p.contacts[6].address.as_deref(),
            Some("千葉市稲毛区宮野木町445-1")
        );
    }

    #[test]
    fn the_page_block_names_the_department_and_wins_for_its_number() {
        let p = run("<body><div id=\"main\"><h1>譲渡</h1>\
            <p>見学は当センター（076-258-9070）にお問合せください。</p>\
            <div id=\"section_footer\"><h2>このページに関するお問い合わせ先</h2>\
            <div id=\"section_footer_detail\">選挙管理委員会事務局<br>選挙係<br>〒198-8701 青梅市東青梅1-11-1<br>\
            Tel：076-258-9070(2601) Fax：0428-21-2458</div></div></div>\
            <footer><p>代表 0428-22-1111</p></footer></body>");
        assert_eq!(p.department.as_deref(), Some("選挙管理委員会事務局"));
        assert_eq!(p.contacts.len(), 1, "{:?}", p.contacts);
        let c = &p.contacts[0];
        assert_eq!(c.department.as_deref(), Some("選挙管理委員会事務局"));
        assert_eq!(c.group.as_deref(), Some("選挙係"));
        assert_eq!(c.phone.as_deref(), Some("076-258-9070 内線2601"));
        assert_eq!(c.fax.as_deref(), Some("0428-21-2458"));
        assert_eq!(c.address.as_deref(), Some("〒198-8701 青梅市東青梅1-11-1"));
    }

    #[test]
    fn switchboard_next_to_a_direct_number_and_prose_without_a_unit() {
        let p = run("<body><main><h2>このページに関するお問い合わせ</h2>\
            <p>市民課</p><p>電話番号（直通）：042-497-2561</p><p>電話番号（代表）：042-492-5111</p>\
            <h2>ご案内</h2><p>詳しくはお電話ください。（03-9999-0000）</p></main></body>");
        // The number in prose names no unit: not a contact row.
        assert_eq!(
            pairs(&p),
            vec![("市民課".to_string(), "042-497-2561".to_string())]
        );
    }
}
