//! Answer materials the center writes itself, as files under `DATA_DIR/corpus/authored/`.
//!
//! - `*.md`: one FAQ entry. TOML front matter between two `+++` lines (Hugo's convention):
//!   `question` (required), `department`, `category`, `tags`, `valid_from`, `valid_until`
//!   (RFC 3339 strings), `source_id` (default: the path below `authored/`, `/`-separated).
//!   The answer is the Markdown below the front matter, turned into plain text by
//!   pulldown-cmark (blocks become lines; emphasis, links and code keep their text; raw HTML
//!   is dropped).
//! - `*.csv`: contact tables with the columns `kotae import --kind contact` reads, read by the
//!   same importer ([`crate::import::read_file`]).
//!
//! Every file that does not parse gives an [`AuthoredError`] with its path, line and reason.

use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use serde::Deserialize;

use crate::import::{ImportKind, ImportOptions};
use crate::material::{Material, MaterialKind};

/// Directory below `DATA_DIR/corpus/` that holds authored files.
pub const DIR: &str = "authored";
/// `source` prefix of authored materials: a file's materials have `source` =
/// `authored/<path below authored/>` (part of their stable ids; ties them to the file).
pub const SOURCE: &str = "authored";

/// A file under `authored/` that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{}:{line}: {reason}", path.display())]
pub struct AuthoredError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line of the problem (1 when it concerns the whole file).
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    question: String,
    department: Option<String>,
    category: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    valid_from: Option<String>,
    valid_until: Option<String>,
    source_id: Option<String>,
}

/// Returns whether `path` is a file kind this module reads (`.md`, `.csv`).
pub fn is_authored_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("md") | Some("csv")
    )
}

/// Returns the `/`-separated path of `path` below `root`.
fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Parses the Markdown file text `text` of `path` (below `root`, the `authored/` directory),
/// last modified at `updated_at`, into one FAQ material.
///
/// # Errors
/// [`AuthoredError`] for missing or unterminated front matter, bad TOML (with the TOML
/// error's line), a bad time, an empty question or answer.
pub fn parse_markdown(
    root: &Path,
    path: &Path,
    text: &str,
    updated_at: DateTime<FixedOffset>,
) -> Result<Material, AuthoredError> {
    let err = |line: usize, reason: String| AuthoredError {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.split_inclusive('\n');
    if lines.next().map(str::trim_end) != Some("+++") {
        return Err(err(
            1,
            "the file must start with a `+++` front matter line".into(),
        ));
    }
    let mut toml_text = String::new();
    let mut closed_at = None;
    for (i, l) in lines.by_ref().enumerate() {
        if l.trim_end() == "+++" {
            closed_at = Some(i + 2);
            break;
        }
        toml_text.push_str(l);
    }
    let Some(closed_at) = closed_at else {
        return Err(err(1, "the front matter has no closing `+++` line".into()));
    };
    let body: String = lines.collect();
    let fm: FrontMatter = toml::from_str(&toml_text).map_err(|e| {
        let line = e.span().map_or(0, |s| {
            toml_text[..s.start.min(toml_text.len())]
                .matches('\n')
                .count()
        });
        err(line + 2, e.message().to_string())
    })?;
    let field_line = |name: &str| {
        toml_text
            .lines()
            .position(|l| l.trim_start().starts_with(name))
            .map_or(1, |i| i + 2)
    };
    let time = |name: &str, v: &Option<String>| -> Result<_, AuthoredError> {
        v.as_deref()
            .map(|s| {
                DateTime::parse_from_rfc3339(s).map_err(|e| {
                    err(
                        field_line(name),
                        format!("`{name}` is not an RFC 3339 time ({e}): {s:?}"),
                    )
                })
            })
            .transpose()
    };
    let valid_from = time("valid_from", &fm.valid_from)?;
    let valid_until = time("valid_until", &fm.valid_until)?;
    if fm.question.trim().is_empty() {
        return Err(err(field_line("question"), "`question` is empty".into()));
    }
    let answer = markdown_to_text(&body);
    if answer.is_empty() {
        return Err(err(
            closed_at + 1,
            "the answer below the front matter is empty".into(),
        ));
    }
    let source_id = fm
        .source_id
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| relative(root, path));
    let source = format!("{SOURCE}/{}", relative(root, path));
    let mut m = Material::new(MaterialKind::Faq, source, source_id, updated_at);
    m.question = Some(fm.question.trim().to_string());
    m.answer = Some(answer);
    m.department = fm.department.filter(|s| !s.trim().is_empty());
    m.category = fm.category.filter(|s| !s.trim().is_empty());
    m.tags = fm.tags;
    m.valid_from = valid_from;
    m.valid_until = valid_until;
    m.validate().map_err(|e| err(1, e.to_string()))?;
    Ok(m)
}

/// Turns Markdown into plain text: each block (paragraph, heading, list item, code block,
/// table row) becomes a line; inline markup keeps its text; raw HTML is dropped.
pub fn markdown_to_text(md: &str) -> String {
    let mut out = String::new();
    for ev in Parser::new(md) {
        match ev {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            Event::Start(Tag::Item) | Event::Start(Tag::TableCell) => {}
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableRow
                | TagEnd::TableHead,
            ) => out.push('\n'),
            Event::End(TagEnd::TableCell) => out.push(' '),
            _ => {}
        }
    }
    out.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads one authored file (`.md` or `.csv`) below `root` into its materials.
///
/// # Errors
/// [`AuthoredError`] when it cannot be read or does not parse.
pub fn read(root: &Path, path: &Path) -> Result<Vec<Material>, AuthoredError> {
    let err = |line: usize, reason: String| AuthoredError {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(1, format!("cannot read: {e}")))?;
    let updated_at = meta
        .modified()
        .ok()
        .map(|t| DateTime::<chrono::Utc>::from(t).fixed_offset())
        .unwrap_or_else(|| chrono::Utc::now().fixed_offset());
    match path.extension().and_then(|e| e.to_str()) {
        Some("md") => {
            let bytes = std::fs::read(path).map_err(|e| err(1, format!("cannot read: {e}")))?;
            let text =
                String::from_utf8(bytes).map_err(|_| err(1, "the file is not UTF-8".into()))?;
            parse_markdown(root, path, &text, updated_at).map(|m| vec![m])
        }
        Some("csv") => {
            let opts = ImportOptions {
                kind: ImportKind::Contact,
                updated_at: Some(updated_at),
                ..ImportOptions::default()
            };
            let source = format!("{SOURCE}/{}", relative(root, path));
            let imported = crate::import::read_file(path, &source, &opts).map_err(|e| {
                let msg = e.to_string();
                // The importer names the CSV row ("row N", 1-based with the header as row 1).
                let line = msg
                    .split("row ")
                    .nth(1)
                    .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1);
                err(line, msg)
            })?;
            Ok(imported
                .materials
                .into_iter()
                .chain(imported.contacts)
                .collect())
        }
        _ => Err(err(1, "not an authored file kind (.md, .csv)".into())),
    }
}

/// Reads every authored file below `root` (missing `root`: none). Files that do not parse
/// are returned as errors beside the materials of the others.
pub fn load_dir(root: &Path) -> (Vec<Material>, Vec<AuthoredError>) {
    let (mut materials, mut errors) = (Vec::new(), Vec::new());
    let mut stack = vec![root.to_path_buf()];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if is_authored_file(&p) {
                files.push(p);
            }
        }
    }
    files.sort();
    for f in files {
        match read(root, &f) {
            Ok(ms) => materials.extend(ms),
            Err(e) => errors.push(e),
        }
    }
    (materials, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-12-01T09:00:00+09:00").unwrap()
    }

    const EXAMPLE: &str = "+++\nquestion = \"住民票の写しをコンビニで取れますか？\"\ndepartment = \"市民局 住民課\"\ncategory = \"住民票・戸籍\"\ntags = [\"コンビニ交付\"]\nvalid_from = \"2026-12-15T00:00:00+09:00\"\nvalid_until = \"2027-03-31T23:59:59+09:00\"\n+++\nマイナンバーカードがあれば、全国のコンビニで **6:30〜23:00** に取れます。\n\n- 手数料は[200円](https://example.jp/fee)です。\n";

    #[test]
    fn example_file_becomes_an_faq_material() {
        let root = Path::new("/d/authored");
        let m = parse_markdown(root, &root.join("juminhyo/konbini.md"), EXAMPLE, t0()).unwrap();
        assert_eq!(m.kind, MaterialKind::Faq);
        assert_eq!(m.source_id, "juminhyo/konbini.md");
        assert_eq!(m.source, "authored/juminhyo/konbini.md");
        assert_eq!(m.department.as_deref(), Some("市民局 住民課"));
        assert_eq!(m.tags, vec!["コンビニ交付".to_string()]);
        assert_eq!(
            m.answer.as_deref(),
            Some(
                "マイナンバーカードがあれば、全国のコンビニで 6:30〜23:00 に取れます。\n手数料は200円です。"
            )
        );
        assert_eq!(
            m.valid_from.unwrap().to_rfc3339(),
            "2026-12-15T00:00:00+09:00"
        );
        assert!(m.valid_until.is_some());
    }

    #[test]
    fn errors_carry_the_line_and_reason() {
        let root = Path::new("/d/authored");
        let p = root.join("a.md");
        let e = parse_markdown(root, &p, "no front matter", t0()).unwrap_err();
        assert_eq!((e.line, e.path.clone()), (1, p.clone()));
        let e = parse_markdown(root, &p, "+++\nquestion = \"q\"\n", t0()).unwrap_err();
        assert!(e.reason.contains("closing"), "{e}");
        // Line 3 of the file: the broken TOML line.
        let e = parse_markdown(root, &p, "+++\nquestion = \"q\"\ntags = [\n+++\na\n", t0())
            .unwrap_err();
        assert!(e.line >= 3, "{e}");
        let e = parse_markdown(
            root,
            &p,
            "+++\nquestion = \"q\"\nvalid_from = \"tomorrow\"\n+++\na\n",
            t0(),
        )
        .unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.reason.contains("valid_from"), "{e}");
        let e = parse_markdown(root, &p, "+++\ndepartment = \"x\"\n+++\na\n", t0()).unwrap_err();
        assert!(e.reason.contains("question"), "{e}");
        let e = parse_markdown(root, &p, "+++\nquestion = \"q\"\n+++\n\n", t0()).unwrap_err();
        assert!(e.reason.contains("answer"), "{e}");
    }
}
