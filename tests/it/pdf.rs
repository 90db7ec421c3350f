//! PDFs: Japanese PDFs written here (a Type0 font with Identity-H encoding and a ToUnicode
//! CMap, as Japanese office software writes them; no font file needed for text), read by
//! poppler's `pdftotext`, and a crawl of a 127.0.0.1 site where a linked PDF becomes
//! searchable by a sentence of its body.
//!
//! Needs `pdftotext` (Debian/Ubuntu: `apt-get install poppler-utils`, done by `.ci/run`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use kotae::crawl::{CrawlConfig, RunOptions, SourceConfig};
use kotae::extract::pdf::{PdfError, PdfTool};
use kotae::material::MaterialKind;

/// A one-page PDF showing `lines` (one text line each, 10.5 pt, top to bottom) in a CID
/// font (Identity-H: every character its own 2-byte code) whose ToUnicode CMap maps the
/// codes back to Unicode; `title` goes to the Info dictionary (UTF-16BE with BOM).
pub fn japanese_pdf(title: Option<&str>, lines: &[&str]) -> Vec<u8> {
    let mut cids: BTreeMap<char, u16> = BTreeMap::new();
    for c in lines.iter().flat_map(|l| l.chars()) {
        let n = cids.len() as u16 + 1;
        cids.entry(c).or_insert(n);
    }
    let mut content = String::from("BT\n/F1 10.5 Tf\n13 TL\n50 780 Td\n");
    for l in lines {
        let hex: String = l.chars().map(|c| format!("{:04X}", cids[&c])).collect();
        writeln!(content, "<{hex}> Tj T*").unwrap();
    }
    content.push_str("ET\n");
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<(char, u16)> = cids.iter().map(|(c, n)| (*c, *n)).collect();
    for chunk in entries.chunks(100) {
        writeln!(cmap, "{} beginbfchar", chunk.len()).unwrap();
        for (c, n) in chunk {
            let mut units = [0u16; 2];
            let hex: String = c
                .encode_utf16(&mut units)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            writeln!(cmap, "<{n:04X}> <{hex}>").unwrap();
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    let info = match title {
        Some(t) => {
            let hex: String = std::iter::once(0xFEFF)
                .chain(t.encode_utf16())
                .map(|u| format!("{u:04X}"))
                .collect();
            format!("<< /Title <{hex}> /Producer (kotae test) >>")
        }
        None => "<< /Producer (kotae test) >>".into(),
    };
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] \
         /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
            .into(),
        format!(
            "<< /Length {} >>\nstream\n{content}endstream",
            content.len()
        ),
        "<< /Type /Font /Subtype /Type0 /BaseFont /IPAGothic /Encoding /Identity-H \
         /DescendantFonts [6 0 R] /ToUnicode 8 0 R >>"
            .into(),
        "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /IPAGothic \
         /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
         /FontDescriptor 7 0 R /DW 1000 /CIDToGIDMap /Identity >>"
            .into(),
        "<< /Type /FontDescriptor /FontName /IPAGothic /Flags 4 \
         /FontBBox [0 -141 1000 859] /ItalicAngle 0 /Ascent 859 /Descent -141 \
         /CapHeight 859 /StemV 80 >>"
            .into(),
        format!("<< /Length {} >>\nstream\n{cmap}endstream", cmap.len()),
        info,
    ];
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for off in offsets {
        writeln!(tail, "{off:010} 00000 n ").unwrap();
    }
    write!(
        tail,
        "trailer\n<< /Size {} /Root 1 0 R /Info {} 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1,
        objects.len()
    )
    .unwrap();
    out.extend_from_slice(tail.as_bytes());
    out
}

fn tool() -> PdfTool {
    PdfTool {
        program: "pdftotext".into(),
        timeout: Duration::from_secs(20),
        max_text_bytes: 1 << 20,
    }
}

/// The notice used below: its second sentence is wrapped across two lines.
const GOMI: &[&str] = &[
    "粗大ごみの出し方",
    "粗大ごみは、事前に粗大ごみ受付センターへの申し込みが必要です。収集日の前日までに処理",
    "手数料納付券を購入してください。",
    "問い合わせ先：環境局ごみ減量推進課",
];

#[test]
fn pdftotext_reads_a_japanese_cid_font_pdf_with_its_title() {
    let pdf = japanese_pdf(Some("令和8年度 粗大ごみ収集のご案内"), GOMI);
    let t = tool().extract(&pdf).expect("pdftotext reads the PDF");
    assert_eq!(t.title.as_deref(), Some("令和8年度 粗大ごみ収集のご案内"));
    // The wrapped sentence is one run of text again.
    assert!(
        t.text
            .contains("収集日の前日までに処理手数料納付券を購入してください。"),
        "{}",
        t.text
    );
    assert!(t.text.starts_with("粗大ごみの出し方\n"), "{}", t.text);
}

#[test]
fn a_damaged_pdf_is_an_error_not_a_panic() {
    assert!(matches!(
        tool().extract(b"%PDF-1.4\nnot really a pdf"),
        Err(PdfError::Unreadable(_))
    ));
    // A PDF that shows nothing has no text.
    assert_eq!(
        tool().extract(&japanese_pdf(None, &[])),
        Err(PdfError::NoText)
    );
}

/// Real PDFs of 浜松市 (see `tests/fixtures/real/README.md`): DocuWorks output with
/// Identity-H CID fonts and a placeholder Info Title, and a scan without text.
#[test]
fn real_government_pdfs() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real/pdf");
    let pdf = std::fs::read(dir.join("shizuoka__hamamatsu-city-cats-1.pdf")).unwrap();
    let t = tool().extract(&pdf).unwrap();
    assert_eq!(
        t.title, None,
        "the Info Title is a Microsoft PowerPoint placeholder"
    );
    assert!(t.text.starts_with("譲渡対象の成猫さん\n"), "{}", t.text);
    assert!(
        t.text.contains("なでてもらうと身をよじって喜びます。"),
        "{}",
        t.text
    );
    let scan = std::fs::read(dir.join("shizuoka__hamamatsu-city-cats-scan.pdf")).unwrap();
    assert_eq!(tool().extract(&scan), Err(PdfError::NoText));
}

fn pdf_response(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/pdf")], bytes).into_response()
}

async fn site(uri: Uri) -> Response {
    match uri.path() {
        "/robots.txt" => (StatusCode::NOT_FOUND, "").into_response(),
        "/index.html" => (
            [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
            "<html><head><title>ごみ・リサイクル | 例市</title></head><body><main>\
             <h1>ごみ・リサイクル</h1><p>ごみの出し方の案内です。</p><ul>\
             <li><a href=\"/docs/gomi.pdf\">粗大ごみの出し方（PDF：12KB）</a></li>\
             <li><a href=\"/docs/untitled.pdf\">資源物の分け方（PDF：8KB）</a></li>\
             <li><a href=\"/docs/broken.pdf\">古い様式（PDF：1KB）</a></li>\
             </ul></main></body></html>",
        )
            .into_response(),
        "/docs/gomi.pdf" => pdf_response(japanese_pdf(Some("Microsoft Word - 文書1.docx"), GOMI)),
        "/docs/untitled.pdf" => pdf_response(japanese_pdf(
            None,
            &[
                "資源物は、びん・缶・ペットボトルに分けて出してください。",
                "キャップとラベルは外して、中を軽くすすいでください。",
            ],
        )),
        "/docs/broken.pdf" => pdf_response(b"%PDF-1.4\ntruncated".to_vec()),
        _ => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

async fn serve() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, axum::Router::new().fallback(site))
            .await
            .unwrap();
    });
    format!("http://{addr}")
}

fn config(base: &str, pdftotext: &str) -> CrawlConfig {
    CrawlConfig {
        delay_ms: 0,
        timeout_ms: 5000,
        pdftotext: pdftotext.into(),
        sources: vec![SourceConfig {
            seeds: vec![format!("{base}/index.html")],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn corpus(base: &str, data: &Path) -> Vec<kotae::material::Material> {
    let key = base.trim_start_matches("http://").replace(':', "_");
    kotae::corpus::Corpus::open(data.join("corpus"))
        .unwrap()
        .read_collection(&format!("crawl/{key}"))
        .unwrap()
}

#[tokio::test]
async fn a_linked_pdf_becomes_searchable_by_a_sentence_of_its_body() {
    let base = serve().await;
    let data = tempfile::tempdir().unwrap();
    let report = kotae::crawl::run(&config(&base, "pdftotext"), &RunOptions::new(data.path()))
        .await
        .unwrap();
    assert_eq!(report.pdfs, 2, "{report:#?}");
    let unreadable: usize = report
        .reasons
        .iter()
        .filter(|(k, _)| k.starts_with("pdf unreadable"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(unreadable, 1, "{report:#?}");
    assert_eq!(report.failed, 1, "{report:#?}");
    assert_eq!(report.documents, 0, "PDFs are indexed, not only recorded");
    let ms = corpus(&base, data.path());
    let by_url = |p: &str| {
        ms.iter()
            .find(|m| m.url.as_deref() == Some(&*format!("{base}{p}")))
            .unwrap_or_else(|| panic!("{p}: {ms:#?}"))
    };
    let gomi = by_url("/docs/gomi.pdf");
    assert_eq!(gomi.kind, MaterialKind::Page);
    // The Info Title is a placeholder: the first line is the title.
    assert_eq!(gomi.title, "粗大ごみの出し方");
    let untitled = by_url("/docs/untitled.pdf");
    assert_eq!(
        untitled.title,
        "資源物は、びん・缶・ペットボトルに分けて出してください。"
    );
    assert!(
        !ms.iter()
            .any(|m| m.url.as_deref() == Some(&*format!("{base}/docs/broken.pdf")))
    );
    let state = kotae::crawl::state::HostState::load(
        &data.path().join("crawl-state"),
        &base.trim_start_matches("http://").replace(':', "_"),
    )
    .unwrap();
    let note = &state.notes[&format!("{base}/docs/broken.pdf")];
    assert!(note.reason.starts_with("pdf unreadable"), "{note:?}");

    kotae::engine::Engine::open(&kotae::engine::EngineOptions::new(data.path()))
        .unwrap()
        .sync_from_corpus()
        .unwrap();
    let engine =
        kotae::engine::Engine::open(&kotae::engine::EngineOptions::new(data.path())).unwrap();
    let resp = engine
        .search(&kotae::search::SearchRequest::new(
            "収集日の前日までに処理手数料納付券を購入",
        ))
        .unwrap();
    assert_eq!(
        resp.hits.first().and_then(|h| h.url.clone()),
        Some(format!("{base}/docs/gomi.pdf")),
        "{:?}",
        resp.hits.iter().map(|h| &h.url).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn without_pdftotext_pdfs_are_recorded_as_skipped() {
    let base = serve().await;
    let data = tempfile::tempdir().unwrap();
    let report = kotae::crawl::run(
        &config(&base, "/nonexistent/pdftotext"),
        &RunOptions::new(data.path()),
    )
    .await
    .unwrap();
    assert_eq!(report.pdfs, 0);
    assert_eq!(report.failed, 0, "{report:#?}");
    assert_eq!(report.documents, 3, "{report:#?}");
    assert_eq!(
        report.reasons.get("pdf skipped: pdftotext not available"),
        Some(&3),
        "{report:#?}"
    );
    // The page itself is indexed as ever.
    let ms = corpus(&base, data.path());
    assert!(ms.iter().any(|m| m.title == "ごみ・リサイクル"), "{ms:#?}");
}
