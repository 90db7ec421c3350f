//! Extraction measured on real local-government pages (`tests/fixtures/real/`, see its
//! README for sources and licences): precision and recall of contact rows (unit + phone)
//! and FAQ pairs, and page-title accuracy, for the tuning part (`dev`) and the held-out
//! part apart.
//!
//! `cargo test --test it real:: -- --nocapture` prints the table and every miss.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::DateTime;
use kotae::extract::{self, PageInput};
use kotae::material::MaterialKind;
use serde::Deserialize;

#[derive(Deserialize)]
struct Expectations {
    pages: Vec<PageExp>,
}

#[derive(Deserialize)]
struct PageExp {
    file: String,
    url: String,
    split: String,
    /// Whether the page is an FAQ page (its pairs are in `faqs`).
    #[allow(dead_code)]
    faq_page: bool,
    /// The page's own title; `None` when two readings are defensible (not scored).
    title: Option<String>,
    /// Expected questions (the question text, whitespace-insensitive).
    faqs: Vec<String>,
    contacts: Vec<ContactExp>,
}

#[derive(Deserialize)]
struct ContactExp {
    /// A distinctive part of the unit's name that the contact's name must contain.
    unit: String,
    phone: String,
}

fn real_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real")
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

fn digits(s: &str) -> String {
    squash(s).chars().filter(char::is_ascii_digit).collect()
}

/// Counts for one measure: matched predictions, predictions, matched expectations,
/// expectations.
#[derive(Default, Clone, Copy)]
struct Counts {
    hit_pred: usize,
    pred: usize,
    hit_exp: usize,
    exp: usize,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.hit_pred += o.hit_pred;
        self.pred += o.pred;
        self.hit_exp += o.hit_exp;
        self.exp += o.exp;
    }
    fn precision(&self) -> f64 {
        if self.pred == 0 {
            1.0
        } else {
            self.hit_pred as f64 / self.pred as f64
        }
    }
    fn recall(&self) -> f64 {
        if self.exp == 0 {
            1.0
        } else {
            self.hit_exp as f64 / self.exp as f64
        }
    }
}

#[derive(Default, Clone, Copy)]
struct Score {
    pages: usize,
    contacts: Counts,
    faqs: Counts,
    /// FAQ pairs found on pages that are not FAQ pages.
    faq_on_plain_pages: usize,
    titles_right: usize,
    titles: usize,
}

impl Score {
    fn add(&mut self, o: &Score) {
        self.pages += o.pages;
        self.contacts.add(o.contacts);
        self.faqs.add(o.faqs);
        self.faq_on_plain_pages += o.faq_on_plain_pages;
        self.titles_right += o.titles_right;
        self.titles += o.titles;
    }
}

/// Scores one page; pushes a line per miss onto `misses`.
fn score_page(p: &PageExp, misses: &mut Vec<String>) -> Score {
    let body = std::fs::read(real_dir().join("pages").join(&p.file)).expect("fixture file");
    let url = url::Url::parse(&p.url).expect("page url");
    let input = PageInput {
        url: &url,
        body: &body,
        content_type: Some("text/html"),
        last_modified: None,
        x_robots_tag: None,
        fetched_at: DateTime::parse_from_rfc3339("2025-11-15T12:00:00+09:00").unwrap(),
    };
    let ex = extract::extract(&input);
    let mut s = Score {
        pages: 1,
        ..Default::default()
    };
    if let Some(t) = &p.title {
        s.titles = 1;
        if squash(&ex.title) == squash(t) {
            s.titles_right = 1;
        } else {
            misses.push(format!("{}: title {:?}, want {t:?}", p.file, ex.title));
        }
    }
    // Contact rows: a prediction matches an expectation with the same phone number whose
    // unit part it names.
    let preds: Vec<(String, String)> = ex
        .materials
        .iter()
        .filter(|m| m.kind == MaterialKind::Contact)
        .map(|m| {
            let c = m.contact.clone().unwrap_or_default();
            let name = [
                m.title.as_str(),
                c.department.as_deref().unwrap_or(""),
                c.group.as_deref().unwrap_or(""),
            ]
            .concat();
            (squash(&name), digits(c.phone.as_deref().unwrap_or("")))
        })
        .collect();
    let mut used = vec![false; preds.len()];
    s.contacts.pred = preds.len();
    s.contacts.exp = p.contacts.len();
    for e in &p.contacts {
        let (unit, phone) = (squash(&e.unit), digits(&e.phone));
        let found = preds
            .iter()
            .enumerate()
            .find(|(i, (name, ph))| !used[*i] && *ph == phone && name.contains(&unit));
        match found {
            Some((i, _)) => {
                used[i] = true;
                s.contacts.hit_exp += 1;
                s.contacts.hit_pred += 1;
            }
            None => misses.push(format!(
                "{}: contact missed: {} {}",
                p.file, e.unit, e.phone
            )),
        }
    }
    for (i, (name, ph)) in preds.iter().enumerate() {
        if !used[i] {
            misses.push(format!("{}: contact extra: {name} {ph}", p.file));
        }
    }
    // FAQ pairs, matched on the question.
    let qs: Vec<String> = ex
        .materials
        .iter()
        .filter(|m| m.kind == MaterialKind::Faq)
        .map(|m| squash(m.question.as_deref().unwrap_or("")))
        .collect();
    s.faqs.pred = qs.len();
    s.faqs.exp = p.faqs.len();
    if p.faqs.is_empty() {
        s.faq_on_plain_pages = qs.len();
    }
    let mut used = vec![false; qs.len()];
    for q in &p.faqs {
        let q = squash(q);
        if let Some(i) = (0..qs.len()).find(|&i| !used[i] && qs[i] == q) {
            used[i] = true;
            s.faqs.hit_exp += 1;
            s.faqs.hit_pred += 1;
        } else {
            misses.push(format!("{}: FAQ missed: {q}", p.file));
        }
    }
    for (i, q) in qs.iter().enumerate() {
        if !used[i] {
            misses.push(format!("{}: FAQ extra: {q}", p.file));
        }
    }
    s
}

fn measure() -> BTreeMap<String, Score> {
    let path = real_dir().join("expectations.json");
    let exp: Expectations =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("expectations.json"))
            .expect("expectations.json parses");
    let mut by_split: BTreeMap<String, Score> = BTreeMap::new();
    let mut misses = Vec::new();
    for p in &exp.pages {
        let s = score_page(p, &mut misses);
        by_split.entry(p.split.clone()).or_default().add(&s);
        by_split.entry("all".into()).or_default().add(&s);
    }
    println!(
        "{:<8} {:>5} {:>14} {:>14} {:>12} {:>12} {:>10} {:>14}",
        "split", "pages", "contact P", "contact R", "FAQ P", "FAQ R", "titles", "FAQ on plain"
    );
    for (split, s) in &by_split {
        println!(
            "{split:<8} {:>5} {:>6.3} ({:>2}/{:>2}) {:>6.3} ({:>2}/{:>2}) {:>5.3} ({}/{}) {:>5.3} ({}/{}) {:>4.3} {:>2}/{:<2} {:>14}",
            s.pages,
            s.contacts.precision(),
            s.contacts.hit_pred,
            s.contacts.pred,
            s.contacts.recall(),
            s.contacts.hit_exp,
            s.contacts.exp,
            s.faqs.precision(),
            s.faqs.hit_pred,
            s.faqs.pred,
            s.faqs.recall(),
            s.faqs.hit_exp,
            s.faqs.exp,
            s.titles_right as f64 / s.titles.max(1) as f64,
            s.titles_right,
            s.titles,
            s.faq_on_plain_pages,
        );
    }
    for m in &misses {
        println!("  {m}");
    }
    by_split
}

/// The measurement itself (prints the table); run with `--nocapture` to see it.
#[test]
fn real_pages_report() {
    if !real_dir().join("expectations.json").exists() {
        eprintln!("tests/fixtures/real/expectations.json is absent: real-page measurement skipped");
        return;
    }
    let s = measure();
    assert!(s.get("all").is_some_and(|a| a.pages >= 15));
}
