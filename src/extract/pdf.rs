//! PDF text through poppler's `pdftotext`, run as a child process with a timeout (PDF
//! parsing is outside what kotae exists for: a maintained tool does it).
//!
//! `pdftotext -enc UTF-8 -htmlmeta` writes the document's Info `Title` and its text; the
//! text is read in reading order (not `-layout`: with `-layout` a wrapped line of a
//! two-column page is cut at the column gap, and tables gain runs of spaces; see
//! `docs/crawl.md` for the measurement). Lines that a PDF wrapped inside a sentence are
//! joined back (without a space between two Japanese characters), so that a sentence of
//! the body is one run of text for the analyzer.
//!
//! Why not a pure-Rust crate: `pdf-extract` 0.12 (on `lopdf`) was measured on the same
//! Japanese CID-font (Identity-H) PDFs and lost characters or whole pages (see
//! `docs/crawl.md`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::DateTime;
use url::Url;

use super::{Extracted, PageInput};
use crate::material::{Material, MaterialKind};

/// How to run `pdftotext`.
#[derive(Debug, Clone)]
pub struct PdfTool {
    /// The program (a name looked up on `PATH`, or a path).
    pub program: PathBuf,
    /// The child is killed after this long.
    pub timeout: Duration,
    /// Text beyond this many bytes is cut (at a character boundary).
    pub max_text_bytes: usize,
}

/// Why a PDF gave no text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    /// The program could not be started (not installed, not on `PATH`).
    #[error("pdftotext not available: {0}")]
    Unavailable(String),
    /// The program ran longer than the timeout and was killed.
    #[error("pdftotext timed out")]
    Timeout,
    /// The program failed (damaged or encrypted PDF); its first message line.
    #[error("pdf unreadable: {0}")]
    Unreadable(String),
    /// The PDF has no text layer (a scan) or only whitespace.
    #[error("pdf has no text")]
    NoText,
    /// Temporary files could not be written.
    #[error("pdf temporary file: {0}")]
    Io(String),
}

/// The text of one PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfText {
    /// The Info dictionary's `Title`, when it is a real title (not an application's
    /// placeholder such as "Microsoft Word - 文書1.docx" or a file name).
    pub title: Option<String>,
    /// The text, pages separated by a blank line, wrapped lines joined.
    pub text: String,
}

impl PdfTool {
    /// Checks that the program runs (`pdftotext -v`); returns its version line.
    ///
    /// # Errors
    /// [`PdfError::Unavailable`] when it cannot be started.
    pub fn probe(&self) -> Result<String, PdfError> {
        let out = Command::new(&self.program)
            .arg("-v")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| PdfError::Unavailable(format!("{}: {e}", self.program.display())))?;
        // pdftotext prints its version on stderr.
        let all = [out.stderr, out.stdout].concat();
        Ok(String::from_utf8_lossy(&all)
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_string())
    }

    /// Extracts the title and text of a PDF.
    ///
    /// # Errors
    /// [`PdfError`]: the program is missing, timed out or failed, or the PDF has no text.
    pub fn extract(&self, pdf: &[u8]) -> Result<PdfText, PdfError> {
        let dir = TempDir::new()?;
        let input = dir.0.join("in.pdf");
        let output = dir.0.join("out.html");
        std::fs::write(&input, pdf).map_err(|e| PdfError::Io(e.to_string()))?;
        let mut child = Command::new(&self.program)
            .args(["-q", "-enc", "UTF-8", "-htmlmeta", "-eol", "unix"])
            .arg(&input)
            .arg(&output)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| PdfError::Unavailable(format!("{}: {e}", self.program.display())))?;
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(PdfError::Timeout);
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(PdfError::Io(e.to_string())),
            }
        };
        if !status.success() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.by_ref().take(4096).read_to_string(&mut err);
            }
            let first = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            return Err(PdfError::Unreadable(format!(
                "exit {}{}{}",
                status.code().unwrap_or(-1),
                if first.is_empty() { "" } else { ": " },
                first.trim()
            )));
        }
        let html = read_capped(&output, self.max_text_bytes.saturating_add(64 * 1024))?;
        let parsed = parse_htmlmeta(&html, self.max_text_bytes);
        if parsed.text.trim().is_empty() {
            return Err(PdfError::NoText);
        }
        Ok(parsed)
    }
}

/// Extracts a fetched PDF as one `page` material: `source` and `url` the PDF's URL, title
/// the Info `Title`, else the first line of its text, else `link_text` (the text of a link to
/// it, without a "（PDF：120KB）" aside), else the file name; `updated_at` from
/// `Last-Modified`, else the fetch time.
///
/// # Errors
/// [`PdfError`] when no text can be had.
pub fn extract_pdf(
    input: &PageInput<'_>,
    tool: &PdfTool,
    link_text: Option<&str>,
) -> Result<Extracted, PdfError> {
    let PdfText { title, text } = tool.extract(input.body)?;
    let first_line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .filter(|l| l.chars().count() <= 80)
        .map(str::to_string);
    let title = title
        .or(first_line)
        .or_else(|| link_text.map(strip_size_aside).filter(|t| !t.is_empty()))
        .unwrap_or_else(|| file_name(input.url));
    let updated_at = input
        .last_modified
        .and_then(|v| DateTime::parse_from_rfc2822(v.trim()).ok())
        .unwrap_or(input.fetched_at);
    let url = input.url.as_str();
    let mut m = Material::new(MaterialKind::Page, url, format!("{url}#page"), updated_at);
    m.url = Some(url.to_string());
    m.title = title.clone();
    m.body = Some(text);
    Ok(Extracted {
        title,
        encoding: "UTF-8".into(),
        materials: vec![m],
        ..Default::default()
    })
}

/// "申請書（PDF：120KB）" → "申請書".
fn strip_size_aside(label: &str) -> String {
    let t = label.trim();
    for (open, close) in [('（', '）'), ('(', ')'), ('［', '］'), ('[', ']')] {
        if let Some(i) = t.rfind(open)
            && t.ends_with(close)
            && t[i..].to_ascii_lowercase().contains("pdf")
        {
            return t[..i].trim().to_string();
        }
    }
    t.to_string()
}

/// The last path segment, percent-decoded.
fn file_name(url: &Url) -> String {
    let last = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or_default();
    percent_encoding::percent_decode_str(last)
        .decode_utf8_lossy()
        .into_owned()
}

/// A directory of its own under the system temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self, PdfError> {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p =
            std::env::temp_dir().join(format!("kotae-pdf-{}-{n}-{nanos:08x}", std::process::id()));
        std::fs::create_dir(&p).map_err(|e| PdfError::Io(format!("{}: {e}", p.display())))?;
        Ok(Self(p))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read_capped(p: &Path, max: usize) -> Result<String, PdfError> {
    let f = std::fs::File::open(p).map_err(|e| PdfError::Io(e.to_string()))?;
    let mut buf = Vec::new();
    f.take(max as u64)
        .read_to_end(&mut buf)
        .map_err(|e| PdfError::Io(e.to_string()))?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Reads `pdftotext -htmlmeta` output: `<title>` and the `<pre>` text (HTML-escaped).
fn parse_htmlmeta(html: &str, max_text_bytes: usize) -> PdfText {
    let between = |open: &str, close: &str| -> Option<&str> {
        let i = html.find(open)? + open.len();
        let rest = &html[i..];
        Some(rest.find(close).map_or(rest, |j| &rest[..j]))
    };
    let title = between("<title>", "</title>")
        .map(|t| unescape(t).trim().to_string())
        .filter(|t| is_real_title(t));
    let raw = between("<pre>", "</pre>").map(unescape).unwrap_or_default();
    let mut text = join_wrapped_lines(&raw);
    if text.len() > max_text_bytes {
        let mut cut = max_text_bytes;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    PdfText { title, text }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Whether an Info `Title` names the document: not empty, not a file name, not an
/// authoring application's placeholder ("Microsoft Word - 文書1", "untitled").
pub fn is_real_title(t: &str) -> bool {
    let t = t.trim();
    if t.is_empty() || t.chars().count() > 200 {
        return false;
    }
    let lower = t.to_lowercase();
    let placeholder = ["microsoft word", "microsoft excel", "microsoft powerpoint"]
        .iter()
        .any(|p| lower.starts_with(p))
        || ["untitled", "無題", "名称未設定"]
            .iter()
            .any(|p| lower.starts_with(p));
    let file_name = [
        ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".jtd", ".odt",
    ]
    .iter()
    .any(|e| lower.ends_with(e));
    !placeholder && !file_name
}

/// Whether `c` is written without spaces between words (kana, kanji, full-width forms).
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF)
}

/// Joins lines that the PDF wrapped inside a paragraph. A line is taken as wrapped when it
/// fills at least 80 % of the page's longest line (in characters) and does not end a
/// sentence (。！？ or a colon); two Japanese characters are joined without a space, others
/// with one. Form feeds (page breaks) become blank lines; runs of spaces become one.
pub fn join_wrapped_lines(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for page in raw.split('\u{c}') {
        let lines: Vec<String> = page
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        let longest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        let mut para = String::new();
        let mut wrapped = false;
        for l in lines {
            if l.is_empty() {
                flush(&mut out, &mut para);
                wrapped = false;
                continue;
            }
            if wrapped && !para.is_empty() {
                let last = para.chars().next_back().unwrap_or(' ');
                let first = l.chars().next().unwrap_or(' ');
                if !(is_cjk(last) && is_cjk(first)) {
                    para.push(' ');
                }
            } else {
                flush(&mut out, &mut para);
            }
            let n = l.chars().count();
            let end = l.chars().next_back().unwrap_or(' ');
            wrapped = longest >= 10
                && n * 5 >= longest * 4
                && !matches!(end, '。' | '！' | '？' | '.' | '!' | '?' | '：' | ':');
            para.push_str(&l);
        }
        flush(&mut out, &mut para);
        if !out.is_empty() && !out.ends_with("\n\n") {
            out.push('\n');
        }
    }
    out.trim().to_string()
}

fn flush(out: &mut String, para: &mut String) {
    if !para.is_empty() {
        out.push_str(para);
        out.push('\n');
        para.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_japanese_lines_are_joined_and_short_lines_kept() {
        let raw = "粗大ごみの出し方\n\n粗大ごみは、事前に受付センターへの申し込みが必要です。収集日の前日までに手数\n料納付券を購入してください。\n品目\n自転車 400円\n\u{c}二ページ目の本文です。\n";
        let t = join_wrapped_lines(raw);
        assert!(t.contains("手数料納付券を購入してください。"), "{t}");
        assert!(t.contains("\n品目\n自転車 400円\n"), "{t}");
        assert!(t.starts_with("粗大ごみの出し方\n"), "{t}");
        assert!(t.ends_with("二ページ目の本文です。"), "{t}");
    }

    #[test]
    fn htmlmeta_title_and_escapes() {
        let html = "<!DOCTYPE html>\n<html>\n<head>\n<title>児童手当 &amp; 医療費</title>\n<meta name=\"Producer\" content=\"x\"/>\n</head>\n<body>\n<pre>\n所得 &lt; 限度額\n</pre>\n</body>\n</html>\n";
        let p = parse_htmlmeta(html, 1000);
        assert_eq!(p.title.as_deref(), Some("児童手当 & 医療費"));
        assert_eq!(p.text, "所得 < 限度額");
        let cut = parse_htmlmeta("<pre>あいうえお</pre>", 7);
        assert_eq!(cut.text, "あい");
    }

    #[test]
    fn link_text_loses_its_size_aside() {
        assert_eq!(strip_size_aside("申請書（PDF：120KB）"), "申請書");
        assert_eq!(strip_size_aside("様式 [PDF 1.2MB]"), "様式");
        assert_eq!(strip_size_aside("手数料（改定後）"), "手数料（改定後）");
        let u = Url::parse("https://h/doc/%E6%A7%98%E5%BC%8F.pdf").unwrap();
        assert_eq!(file_name(&u), "様式.pdf");
    }

    #[test]
    fn placeholder_titles_are_not_titles() {
        assert!(is_real_title("令和8年度 予防接種のお知らせ"));
        assert!(!is_real_title("Microsoft Word - 文書1.docx"));
        assert!(!is_real_title("000123456.pdf"));
        assert!(!is_real_title("  "));
        assert!(!is_real_title("Untitled"));
    }

    #[test]
    fn a_missing_program_is_unavailable_not_a_panic() {
        let tool = PdfTool {
            program: "/nonexistent/pdftotext".into(),
            timeout: Duration::from_secs(5),
            max_text_bytes: 1 << 20,
        };
        assert!(matches!(tool.probe(), Err(PdfError::Unavailable(_))));
        assert!(matches!(
            tool.extract(b"%PDF-1.4"),
            Err(PdfError::Unavailable(_))
        ));
    }
}
