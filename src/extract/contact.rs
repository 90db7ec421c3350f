//! Department contact extraction (組織・連絡先, 事務分担表): one [`Contact`] per table row
//! (with `rowspan`/`colspan` expanded, header in `<th>` or in a plain first row) or per
//! `<dl>` entry.

use std::collections::HashSet;

use ego_tree::NodeId;
use scraper::ElementRef;

use super::blocks::dl_entries;
use super::text::{
    ascii_fold, collapse_spaces, inside_boilerplate, is_boilerplate, render_clean, sel,
};
use crate::material::Contact;

/// A contact field a column or label maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// 部署, 所属, 課.
    Department,
    /// 係, グループ, 班.
    Group,
    /// 事務分担, 業務内容.
    Duties,
    /// 電話.
    Phone,
    /// FAX.
    Fax,
    /// メール.
    Email,
    /// 住所, 所在地.
    Address,
    /// 受付時間.
    Hours,
    /// 連絡先 (phone, FAX and e-mail in one cell).
    Combined,
}

/// Maps a header cell or `<dt>` label to a field.
pub fn field_of(label: &str) -> Option<Field> {
    let t = ascii_fold(label).to_ascii_uppercase();
    let t = t.trim();
    if t.is_empty() || t.chars().count() > 20 {
        return None;
    }
    let has = |ks: &[&str]| ks.iter().any(|k| t.contains(k));
    Some(
        if has(&["FAX", "ファクス", "ファックス"]) && !has(&["電話"]) {
            Field::Fax
        } else if has(&["メール", "MAIL", "E-MAIL"]) {
            Field::Email
        } else if has(&["電話", "TEL", "内線", "直通"]) {
            Field::Phone
        } else if has(&["連絡先", "問い合わせ先", "問合せ先"]) {
            Field::Combined
        } else if has(&["住所", "所在地"]) {
            Field::Address
        } else if has(&["受付時間", "開庁時間", "時間"]) {
            Field::Hours
        } else if has(&["事務", "業務", "分担", "所掌", "内容"]) {
            Field::Duties
        } else if has(&["係", "グループ", "班", "チーム", "担当"]) && !has(&["課"]) {
            Field::Group
        } else if has(&[
            "部署", "部局", "所属", "課", "組織", "部名", "室", "局", "機関", "名称",
        ]) {
            Field::Department
        } else {
            return None;
        },
    )
}

fn set(c: &mut Contact, f: Field, v: &str) {
    let v = collapse_spaces(&v.replace('\n', " "));
    if v.is_empty() || v == "-" || v == "－" || v == "―" {
        return;
    }
    let slot = match f {
        Field::Department => &mut c.department,
        Field::Group => &mut c.group,
        Field::Duties => &mut c.duties,
        Field::Phone => &mut c.phone,
        Field::Fax => &mut c.fax,
        Field::Email => &mut c.email,
        Field::Address => &mut c.address,
        Field::Hours => &mut c.hours,
        Field::Combined => {
            let parsed = parse_labeled(&v);
            if parsed.phone.is_none() && parsed.fax.is_none() && parsed.email.is_none() {
                set(c, Field::Phone, &v);
            } else {
                merge(c, parsed);
            }
            return;
        }
    };
    match slot {
        Some(old) if old != &v => {
            old.push(' ');
            old.push_str(&v);
        }
        Some(_) => {}
        None => *slot = Some(v),
    }
}

fn merge(c: &mut Contact, other: Contact) {
    let pairs = [
        (Field::Phone, other.phone),
        (Field::Fax, other.fax),
        (Field::Email, other.email),
        (Field::Address, other.address),
        (Field::Hours, other.hours),
    ];
    for (f, v) in pairs {
        if let Some(v) = v {
            set(c, f, &v);
        }
    }
}

/// Reads `電話：…`, `FAX：…`, `メール：…`, `〒…` out of free text.
pub fn parse_labeled(text: &str) -> Contact {
    let folded = ascii_fold(text);
    let mut c = Contact::default();
    for line in folded.lines() {
        let mut rest = line;
        // Several labels may share a line: "電話:03-1234-5678 FAX:03-1234-5679".
        while !rest.is_empty() {
            let upper = rest.to_ascii_uppercase();
            let labels: [(&str, Field); 9] = [
                ("電話", Field::Phone),
                ("TEL", Field::Phone),
                ("FAX", Field::Fax),
                ("ファクス", Field::Fax),
                ("ファックス", Field::Fax),
                ("メールアドレス", Field::Email),
                ("メール", Field::Email),
                ("E-MAIL", Field::Email),
                ("〒", Field::Address),
            ];
            let Some((pos, label, field)) = labels
                .iter()
                .filter_map(|(l, f)| upper.find(l).map(|p| (p, *l, *f)))
                .min_by_key(|x| x.0)
            else {
                break;
            };
            let after = &rest[pos + label.len()..];
            let after = after
                .trim_start_matches("番号")
                .trim_start_matches([':', ' ', ')', '：', '）', '（', '(']);
            let value: String = match field {
                Field::Phone | Field::Fax => after
                    .chars()
                    .take_while(|c| {
                        c.is_ascii_digit()
                            || matches!(c, '-' | '(' | ')' | ' ' | 'ー' | '－' | '‐' | '内' | '線')
                    })
                    .collect(),
                Field::Email => after
                    .chars()
                    .take_while(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '_' | '-' | '+' | '%')
                    })
                    .collect(),
                _ => format!("〒{}", after.trim()),
            };
            let value = value.trim();
            let valid = match field {
                Field::Email => value.contains('@'),
                Field::Phone | Field::Fax => {
                    value.chars().filter(char::is_ascii_digit).count() >= 6
                }
                _ => value.chars().count() > 1,
            };
            if valid {
                set(&mut c, field, value);
            }
            if field == Field::Address {
                break;
            }
            let consumed = pos + label.len();
            rest = &rest[consumed.min(rest.len())..];
        }
        if c.email.is_none()
            && let Some(tok) = line
                .split(|ch: char| !(ch.is_ascii_alphanumeric() || "@._-+%".contains(ch)))
                .find(|t| t.contains('@') && t.contains('.'))
        {
            c.email = Some(tok.to_string());
        }
    }
    c
}

fn has_reach(c: &Contact) -> bool {
    c.phone.is_some() || c.fax.is_some() || c.email.is_some()
}

fn has_name(c: &Contact) -> bool {
    c.department.is_some() || c.group.is_some() || c.duties.is_some()
}

/// Returns the text of the nearest heading before `el` (searching previous siblings and
/// then the ancestors' previous siblings), stopping at `root`.
pub fn preceding_heading(el: ElementRef<'_>, root: ElementRef<'_>) -> Option<String> {
    let heading = sel("h1, h2, h3, h4, h5, h6");
    let mut node = Some(*el);
    while let Some(n) = node {
        for sib in n.prev_siblings() {
            if let Some(e) = ElementRef::wrap(sib) {
                if is_boilerplate(e) {
                    continue;
                }
                if e.value().name().len() == 2 && e.value().name().starts_with('h') {
                    return Some(render_clean(e)).filter(|s| !s.is_empty());
                }
                if let Some(h) = e.select(&heading).last() {
                    return Some(render_clean(h)).filter(|s| !s.is_empty());
                }
            }
        }
        if n.id() == root.id() {
            break;
        }
        node = n.parent();
    }
    None
}

/// Whether a name is a section inside a department (係, 班, グループ, 担当).
fn is_group_name(name: &str) -> bool {
    let n = name.trim();
    ["係", "班", "グループ", "担当", "チーム", "ユニット"]
        .iter()
        .any(|k| n.ends_with(k))
}

/// Extracts contact records under `root`; `page_department` fills rows that name none.
pub fn extract_contacts(root: ElementRef<'_>, page_department: Option<&str>) -> Vec<Contact> {
    let mut out: Vec<(NodeId, Contact)> = Vec::new();
    let mut done: HashSet<NodeId> = HashSet::new();
    for table in root.select(&sel("table")) {
        if table.ancestors().any(|a| done.contains(&a.id())) || inside_boilerplate(table, root) {
            continue;
        }
        let fallback = table
            .select(&sel("caption"))
            .next()
            .map(render_clean)
            .filter(|s| !s.is_empty())
            .or_else(|| preceding_heading(table, root))
            .or(page_department.map(str::to_string));
        let rows = from_table(table, fallback.as_deref());
        if !rows.is_empty() {
            done.insert(table.id());
            out.extend(rows.into_iter().map(|c| (table.id(), c)));
        }
    }
    for dl in root.select(&sel("dl")) {
        if inside_boilerplate(dl, root) {
            continue;
        }
        let fallback = preceding_heading(dl, root).or(page_department.map(str::to_string));
        let rows = from_dl(dl, fallback.as_deref());
        out.extend(rows.into_iter().map(|c| (dl.id(), c)));
    }
    out.sort_by_key(|(id, _)| *id);
    let mut seen = HashSet::new();
    out.into_iter()
        .map(|(_, c)| c)
        .filter(|c| seen.insert(format!("{c:?}")))
        .collect()
}

/// Expands a table into a grid of cell texts (rowspan/colspan copied into every slot),
/// with a flag per row telling whether all its cells are `<th>`.
/// The second result flags the slots filled by a `colspan` copy (same row).
type Grid = (Vec<(Vec<String>, bool)>, Vec<Vec<bool>>);

fn grid(table: ElementRef<'_>) -> Grid {
    let mut rows: Vec<ElementRef<'_>> = Vec::new();
    for child in table.children().filter_map(ElementRef::wrap) {
        match child.value().name() {
            "tr" => rows.push(child),
            "thead" | "tbody" | "tfoot" => rows.extend(
                child
                    .children()
                    .filter_map(ElementRef::wrap)
                    .filter(|e| e.value().name() == "tr"),
            ),
            _ => {}
        }
    }
    let mut grid: Vec<Vec<Option<String>>> = vec![Vec::new(); rows.len()];
    let mut copies: Vec<Vec<bool>> = vec![Vec::new(); rows.len()];
    let mut all_th = vec![true; rows.len()];
    for (r, tr) in rows.iter().enumerate() {
        let mut col = 0;
        for cell in tr
            .children()
            .filter_map(ElementRef::wrap)
            .filter(|e| matches!(e.value().name(), "td" | "th"))
        {
            if cell.value().name() == "td" {
                all_th[r] = false;
            }
            let span = |a: &str| {
                cell.value()
                    .attr(a)
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(1)
                    .clamp(1, 50)
            };
            let (rs, cs) = (span("rowspan"), span("colspan"));
            while grid[r].get(col).is_some_and(Option::is_some) {
                col += 1;
            }
            let mut text = render_clean(cell);
            if !text.contains('@')
                && let Some(m) = cell
                    .select(&sel("a[href^='mailto:']"))
                    .next()
                    .and_then(|a| a.value().attr("href"))
            {
                let addr = m.trim_start_matches("mailto:");
                let addr = addr.split('?').next().unwrap_or(addr);
                text = if text.is_empty() || text.contains("メール") {
                    addr.to_string()
                } else {
                    format!("{text} {addr}")
                };
            }
            for dr in 0..rs {
                let Some(row) = grid.get_mut(r + dr) else {
                    break;
                };
                for dc in 0..cs {
                    let c = col + dc;
                    if row.len() <= c {
                        row.resize(c + 1, None);
                    }
                    row[c] = Some(text.clone());
                    let cp = &mut copies[r + dr];
                    if cp.len() <= c {
                        cp.resize(c + 1, false);
                    }
                    cp[c] = dc > 0;
                }
            }
            col += cs;
        }
    }
    let rows = grid
        .into_iter()
        .zip(all_th)
        .map(|(r, th)| (r.into_iter().map(Option::unwrap_or_default).collect(), th))
        .collect();
    (rows, copies)
}

fn from_table(table: ElementRef<'_>, fallback: Option<&str>) -> Vec<Contact> {
    let (g, copies) = grid(table);
    if g.is_empty() {
        return vec![];
    }
    let columns =
        |labels: &[String]| -> Vec<Option<Field>> { labels.iter().map(|l| field_of(l)).collect() };
    let good = |fs: &[Option<Field>]| {
        let reach = fs.iter().any(|f| {
            matches!(
                f,
                Some(Field::Phone | Field::Email | Field::Fax | Field::Combined)
            )
        });
        let name = fs
            .iter()
            .any(|f| matches!(f, Some(Field::Department | Field::Group | Field::Duties)));
        reach && name
    };
    // Header: the leading <th> rows (two rows combined), or the first row whose labels map.
    let mut header_rows = g.iter().take_while(|(_, th)| *th).count().min(2);
    let mut labels: Vec<String> = Vec::new();
    if header_rows > 0 {
        let width = g[..header_rows]
            .iter()
            .map(|r| r.0.len())
            .max()
            .unwrap_or(0);
        for c in 0..width {
            let mut parts: Vec<&str> = Vec::new();
            for r in &g[..header_rows] {
                if let Some(t) = r.0.get(c)
                    && !parts.contains(&t.as_str())
                {
                    parts.push(t);
                }
            }
            // With a 2-row header the lower label is the specific one.
            labels.push(parts.last().map(|s| s.to_string()).unwrap_or_default());
        }
        if !good(&columns(&labels)) && header_rows == 2 {
            labels = g[0].0.clone();
            header_rows = 1;
        }
    }
    if header_rows == 0 || !good(&columns(&labels)) {
        if let Some(i) = g.iter().take(3).position(|r| good(&columns(&r.0))) {
            labels = g[i].0.clone();
            header_rows = i + 1;
        } else {
            return vertical(&g, fallback).into_iter().collect();
        }
    }
    let fields = columns(&labels);
    let mut out = Vec::new();
    for (r, (cells, _)) in g.iter().enumerate().skip(header_rows) {
        if *cells == labels {
            continue;
        }
        let mut c = Contact::default();
        for (i, (f, v)) in fields.iter().zip(cells).enumerate() {
            // A cell spanning several columns fills only the first one's field.
            let copy = copies
                .get(r)
                .and_then(|c| c.get(i))
                .copied()
                .unwrap_or(false);
            if let Some(f) = f.filter(|_| !copy) {
                set(&mut c, f, v);
            }
        }
        if c.department.is_none() && (c.group.is_some() || c.duties.is_some()) {
            c.department = fallback.map(str::to_string);
        }
        if has_name(&c) && (has_reach(&c) || c.duties.is_some()) {
            out.push(c);
        }
    }
    out
}

/// A two-column table of labels and values (部署名 | …, 電話 | …) as one record.
fn vertical(g: &[(Vec<String>, bool)], fallback: Option<&str>) -> Option<Contact> {
    if g.len() < 2 || g.iter().any(|(r, _)| r.len() != 2) {
        return None;
    }
    let mut c = Contact::default();
    let mut mapped = 0;
    for (r, _) in g {
        if let Some(f) = field_of(&r[0]) {
            mapped += 1;
            set(&mut c, f, &r[1]);
        }
    }
    if mapped < 2 || !has_reach(&c) {
        return None;
    }
    if c.department.is_none() {
        c.department = fallback.map(str::to_string);
    }
    Some(c)
}

fn from_dl(dl: ElementRef<'_>, fallback: Option<&str>) -> Vec<Contact> {
    let mut pairs: Vec<(String, Vec<String>)> = Vec::new();
    for (dt, dds) in dl_entries(dl) {
        let values = dds
            .into_iter()
            .map(|dd| {
                let mut t = render_clean(dd);
                if !t.contains('@')
                    && let Some(m) = dd
                        .select(&sel("a[href^='mailto:']"))
                        .next()
                        .and_then(|a| a.value().attr("href"))
                {
                    t.push('\n');
                    t.push_str(m.trim_start_matches("mailto:"));
                }
                t
            })
            .collect();
        let label = render_clean(dt);
        // A question is an FAQ entry, not a unit (its answer may name a phone number).
        if super::faq::is_question_like(&label) {
            continue;
        }
        pairs.push((label, values));
    }
    if pairs.is_empty() {
        return vec![];
    }
    let labelled = pairs.iter().filter(|p| field_of(&p.0).is_some()).count();
    let reach_labels = pairs
        .iter()
        .filter(|p| {
            matches!(
                field_of(&p.0),
                Some(Field::Phone | Field::Fax | Field::Email | Field::Combined)
            )
        })
        .count();
    let mut out = Vec::new();
    if reach_labels > 0 && labelled * 2 > pairs.len() {
        // Label/value list; a repeated label starts a new record.
        let mut c = Contact::default();
        let mut used: Vec<Field> = Vec::new();
        for (label, values) in &pairs {
            let Some(f) = field_of(label) else { continue };
            if used.contains(&f) {
                out.push(std::mem::take(&mut c));
                used.clear();
            }
            used.push(f);
            set(&mut c, f, &values.join(" "));
        }
        out.push(c);
        for c in &mut out {
            if c.department.is_none() {
                c.department = fallback.map(str::to_string);
            }
        }
        out.retain(|c| has_reach(c) && has_name(c));
        return out;
    }
    // Name / details list: <dt>国保係</dt><dd>電話：… FAX：…</dd>.
    for (name, values) in pairs {
        let mut c = parse_labeled(&values.join("\n"));
        if !has_reach(&c) || name.is_empty() || name.chars().count() > 60 {
            continue;
        }
        if is_group_name(&name) {
            c.group = Some(name);
            c.department = fallback.map(str::to_string);
        } else {
            c.department = Some(name);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;

    fn contacts(html: &str) -> Vec<Contact> {
        let doc = Html::parse_document(html);
        let root = doc.select(&sel("body")).next().unwrap();
        extract_contacts(root, Some("健康福祉部"))
    }

    #[test]
    fn labeled_text_is_parsed() {
        let c = parse_labeled(
            "電話：０３－１２３４－５６７８　ＦＡＸ：03-1234-5679\nメール：kokuho@pref.example.jp",
        );
        assert_eq!(c.phone.as_deref(), Some("03-1234-5678"));
        assert_eq!(c.fax.as_deref(), Some("03-1234-5679"));
        assert_eq!(c.email.as_deref(), Some("kokuho@pref.example.jp"));
    }

    #[test]
    fn rowspan_table_gives_one_record_per_row() {
        let got = contacts(
            "<body><h2>国保医療課</h2><table><tr><th>係</th><th>事務分担</th><th>電話</th></tr>\
             <tr><td rowspan=\"2\">国保係</td><td>保険料</td><td rowspan=\"2\">03-1111-2222</td></tr>\
             <tr><td>資格</td></tr><tr><td colspan=\"2\">医療係 医療費助成</td><td>03-1111-3333</td></tr></table></body>",
        );
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[1].group.as_deref(), Some("国保係"));
        assert_eq!(got[1].duties.as_deref(), Some("資格"));
        assert_eq!(got[1].phone.as_deref(), Some("03-1111-2222"));
        assert_eq!(got[1].department.as_deref(), Some("国保医療課"));
        assert_eq!(got[2].group.as_deref(), Some("医療係 医療費助成"));
    }

    #[test]
    fn dl_contact_lists() {
        let got = contacts(
            "<body><dl><dt>国保係</dt><dd>電話：03-1111-2222 FAX：03-1111-9999</dd>\
             <dt>医療課</dt><dd>電話：03-1111-3333<br><a href=\"mailto:iryo@pref.example.jp\">メール</a></dd></dl></body>",
        );
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].group.as_deref(), Some("国保係"));
        assert_eq!(got[0].fax.as_deref(), Some("03-1111-9999"));
        assert_eq!(got[1].department.as_deref(), Some("医療課"));
        assert_eq!(got[1].email.as_deref(), Some("iryo@pref.example.jp"));
    }
}
