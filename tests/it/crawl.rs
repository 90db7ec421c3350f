//! Crawler and extractor: a fixture prefecture website served on 127.0.0.1, crawled into a
//! temporary data directory; golden files for extraction.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use chrono::DateTime;
use encoding_rs::{EUC_JP, ISO_2022_JP, SHIFT_JIS};
use kotae::crawl::state::{HostState, PageStatus};
use kotae::crawl::{CrawlConfig, CrawlReport, RunOptions, SourceConfig};
use kotae::extract::{self, PageInput};
use kotae::material::{Material, MaterialKind};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The fixture site: files under `tests/fixtures/site` plus special routes.
#[derive(Default)]
struct Site {
    base: String,
    /// Paths answered 404 from now on.
    gone: Mutex<HashSet<String>>,
    /// Replaced page contents (UTF-8 source) by path.
    overrides: Mutex<HashMap<String, String>>,
    /// Size of the generated `/bench/N.html` site.
    bench_pages: usize,
    /// Redirects added at run time (path → target path).
    redirects: Mutex<HashMap<String, String>>,
    /// GET requests by path (query included), and 304 answers by path.
    hits: Mutex<BTreeMap<String, usize>>,
    not_modified: Mutex<BTreeMap<String, usize>>,
}

impl Site {
    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

/// Encodes a fixture page the way the site serves it: (bytes, Content-Type).
fn encode_page(path: &str, text: &str) -> (Vec<u8>, &'static str) {
    match path {
        // Declared by the HTTP header only.
        "/zeimu/sjis.html" => (
            SHIFT_JIS.encode(text).0.into_owned(),
            "text/html; charset=Shift_JIS",
        ),
        // No declaration at all: detected.
        "/zeimu/eucjp.html" => (
            EUC_JP
                .encode(&text.replace("<meta charset=\"EUC-JP\">", ""))
                .0
                .into_owned(),
            "text/html",
        ),
        // Declared by <meta charset> only.
        "/zeimu/jis.html" => (ISO_2022_JP.encode(text).0.into_owned(), "text/html"),
        _ => (text.as_bytes().to_vec(), "text/html; charset=UTF-8"),
    }
}

fn etag(bytes: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    format!("\"{:016x}\"", h.finish())
}

fn respond(
    status: StatusCode,
    headers: &[(header::HeaderName, String)],
    body: Vec<u8>,
) -> Response {
    let mut r = Response::builder().status(status);
    for (k, v) in headers {
        r = r.header(k, v);
    }
    r.body(Body::from(body)).unwrap()
}

fn redirect(status: StatusCode, to: &str) -> Response {
    respond(status, &[(header::LOCATION, to.to_string())], vec![])
}

async fn handler(State(site): State<Arc<Site>>, uri: Uri, req_headers: HeaderMap) -> Response {
    let path = uri.path().to_string();
    let key = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.clone(),
    };
    *site.hits.lock().unwrap().entry(key).or_default() += 1;
    if let Some(to) = site.redirects.lock().unwrap().get(&path) {
        return redirect(StatusCode::MOVED_PERMANENTLY, to);
    }
    if site.gone.lock().unwrap().contains(&path) {
        return respond(StatusCode::NOT_FOUND, &[], b"not found".to_vec());
    }
    if let Some(i) = path
        .strip_prefix("/bench/")
        .and_then(|p| p.strip_suffix(".html"))
        .and_then(|n| n.parse::<usize>().ok())
    {
        return bench_page(i, site.bench_pages);
    }
    match path.as_str() {
        "/old/kokuho.html" => {
            return redirect(StatusCode::MOVED_PERMANENTLY, "/kurashi/kokuho.html");
        }
        "/moved.html" => return redirect(StatusCode::FOUND, "/kurashi/nenkin.html"),
        "/loop-a.html" => return redirect(StatusCode::FOUND, "/loop-b.html"),
        "/loop-b.html" => return redirect(StatusCode::FOUND, "/loop-a.html"),
        "/slow.html" => {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        "/huge.html" => {
            let mut body = String::from(
                "<html><head><title>巨大なページ</title></head><body><h1>巨大なページ</h1>",
            );
            while body.len() < 400_000 {
                body.push_str("<p>とても長いページの本文です。</p>\n");
            }
            body.push_str("</body></html>");
            return respond(
                StatusCode::OK,
                &[(header::CONTENT_TYPE, "text/html; charset=UTF-8".into())],
                body.into_bytes(),
            );
        }
        // No Content-Length: the limit must be enforced while streaming.
        "/huge-chunked.html" => {
            let (mut tx, body) = http_body_util::channel::Channel::<axum::body::Bytes>::new(2);
            tokio::spawn(async move {
                let chunk = "<p>長さの分からない巨大なページです。</p>\n".repeat(400);
                for _ in 0..100 {
                    if tx.send_data(chunk.clone().into()).await.is_err() {
                        break;
                    }
                }
            });
            return Response::builder()
                .header(header::CONTENT_TYPE, "text/html; charset=UTF-8")
                .body(Body::new(body))
                .unwrap();
        }
        p if p.ends_with(".pdf") || p == "/download" => {
            return respond(
                StatusCode::OK,
                &[(header::CONTENT_TYPE, "application/pdf".into())],
                b"%PDF-1.4".to_vec(),
            );
        }
        _ => {}
    }
    let (file, extra): (&str, Option<(header::HeaderName, String)>) = match path.as_str() {
        "/" => ("index.html", None),
        "/noindex-header.html" => (
            "gone-later.html",
            Some((
                header::HeaderName::from_static("x-robots-tag"),
                "noindex".into(),
            )),
        ),
        p => (p.trim_start_matches('/'), None),
    };
    let text = match site.overrides.lock().unwrap().get(&path) {
        Some(t) => Some(t.clone()),
        None => std::fs::read_to_string(fixtures().join("site").join(file)).ok(),
    };
    let Some(text) = text else {
        return respond(StatusCode::NOT_FOUND, &[], b"not found".to_vec());
    };
    let text = text.replace("{{BASE}}", &site.base);
    let (bytes, ct) = if file.ends_with(".html") {
        encode_page(&format!("/{file}"), &text)
    } else if file.ends_with(".xml") {
        (text.into_bytes(), "application/xml")
    } else {
        (text.into_bytes(), "text/plain; charset=UTF-8")
    };
    let tag = etag(&bytes);
    if req_headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.to_str().ok() == Some(tag.as_str()))
    {
        *site.not_modified.lock().unwrap().entry(path).or_default() += 1;
        return respond(StatusCode::NOT_MODIFIED, &[(header::ETAG, tag)], vec![]);
    }
    let mut headers = vec![
        (header::CONTENT_TYPE, ct.to_string()),
        (header::ETAG, tag),
        (
            header::LAST_MODIFIED,
            "Wed, 10 Apr 2024 00:00:00 GMT".into(),
        ),
    ];
    headers.extend(extra);
    respond(StatusCode::OK, &headers, bytes)
}

/// Page `i` of the generated benchmark site: fixture templates in rotation, each linking
/// to pages `2i+1` and `2i+2` (a binary tree of `n` pages).
fn bench_page(i: usize, n: usize) -> Response {
    const TEMPLATES: &[&str] = &[
        "faq/qa.html",
        "soshiki/list.html",
        "kurashi/kokuho.html",
        "faq/table.html",
        "soshiki/kokuho-iryo.html",
        "faq/dl.html",
    ];
    if i >= n {
        return respond(StatusCode::NOT_FOUND, &[], vec![]);
    }
    let t = std::fs::read_to_string(fixtures().join("site").join(TEMPLATES[i % TEMPLATES.len()]))
        .unwrap();
    let links: String = [2 * i + 1, 2 * i + 2]
        .iter()
        .filter(|c| **c < n)
        .map(|c| format!("<li><a href=\"/bench/{c}.html\">ページ{c}</a></li>"))
        .collect();
    let body = t.replacen("</h1>", &format!("（{i}）</h1><ul>{links}</ul>"), 1);
    respond(
        StatusCode::OK,
        &[(header::CONTENT_TYPE, "text/html; charset=UTF-8".into())],
        body.into_bytes(),
    )
}

/// Serves the fixture site on 127.0.0.1 (port 0); returns it with its base URL set.
async fn serve() -> Arc<Site> {
    serve_with(0).await
}

async fn serve_with(bench_pages: usize) -> Arc<Site> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let site = Arc::new(Site {
        base: format!("http://{addr}"),
        bench_pages,
        ..Default::default()
    });
    let app = axum::Router::new()
        .fallback(handler)
        .with_state(site.clone());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    site
}

fn config(site: &Site) -> CrawlConfig {
    CrawlConfig {
        delay_ms: 0,
        timeout_ms: 3000,
        max_body_bytes: 200_000,
        recrawl_interval_secs: 0,
        concurrency: 4,
        checkpoint_pages: 5,
        checkpoint_min_interval_ms: 0,
        // PDFs recorded as documents, not fetched (the PDF path is tested in `pdf.rs`).
        pdf: false,
        sources: vec![SourceConfig {
            seeds: vec![format!("{}/index.html", site.base)],
            ..Default::default()
        }],
        ..Default::default()
    }
}

async fn crawl(cfg: &CrawlConfig, data: &Path) -> CrawlReport {
    kotae::crawl::run(cfg, &RunOptions::new(data))
        .await
        .unwrap()
}

fn host_key(site: &Site) -> String {
    site.base.trim_start_matches("http://").replace(':', "_")
}

fn corpus(site: &Site, data: &Path) -> Vec<Material> {
    let c = kotae::corpus::Corpus::open(data.join("corpus")).unwrap();
    c.read_collection(&format!("crawl/{}", host_key(site)))
        .unwrap()
}

fn pages_by_path(site: &Site, ms: &[Material]) -> BTreeMap<String, Vec<Material>> {
    let mut out: BTreeMap<String, Vec<Material>> = BTreeMap::new();
    for m in ms {
        let path = m
            .url
            .as_deref()
            .unwrap()
            .trim_start_matches(&site.base)
            .to_string();
        out.entry(path).or_default().push(m.clone());
    }
    out
}

const INDEXED: &[&str] = &[
    "/faq/details.html",
    "/faq/dl.html",
    "/faq/qa.html",
    "/faq/table.html",
    "/gone-later.html",
    "/index.html",
    "/kurashi/nenkin.html",
    "/sitemap-only.html",
    "/soshiki/kokuho-iryo.html",
    "/soshiki/list.html",
    "/zeimu/eucjp.html",
    "/zeimu/jis.html",
    "/zeimu/sjis.html",
];

fn kind_count(ms: &[Material], kind: MaterialKind) -> usize {
    ms.iter().filter(|m| m.kind == kind).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_fills_the_corpus_and_recrawl_keeps_304_and_drops_404() {
    let site = serve().await;
    let data = tempfile::tempdir().unwrap();
    let cfg = config(&site);
    let report = crawl(&cfg, data.path()).await;

    let ms = corpus(&site, data.path());
    let by_path = pages_by_path(&site, &ms);
    let paths: Vec<&str> = by_path.keys().map(String::as_str).collect();
    // Exactly one of two byte-identical pages is stored (whichever came first).
    let kokuho: Vec<&str> = paths
        .iter()
        .copied()
        .filter(|p| p.starts_with("/kurashi/kokuho"))
        .collect();
    assert_eq!(kokuho.len(), 1, "{paths:?}");
    let rest: Vec<&str> = paths
        .iter()
        .copied()
        .filter(|p| !p.starts_with("/kurashi/kokuho"))
        .collect();
    assert_eq!(rest, INDEXED, "{report:#?}");
    // Every material is reachable by its page URL and ids are unique.
    let ids: HashSet<&str> = ms.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), ms.len());
    // Each material's source is its page, except a department's contact-block number,
    // one material for the whole site (source: the site's origin).
    assert!(ms.iter().all(|m| m.source == *m.url.as_ref().unwrap()
        || (m.kind == MaterialKind::Contact && m.source == site.base)));
    let block_contacts: Vec<&Material> = ms
        .iter()
        .filter(|m| m.source_id.ends_with("/#contact-0312345678"))
        .collect();
    assert_eq!(
        block_contacts.len(),
        1,
        "one material for the 国保係 number"
    );

    // Not stored: robots-disallowed (never requested), noindex (meta and header), loops,
    // 404, timeout, oversize, canonical elsewhere, redirects, tracking-parameter copies.
    assert_eq!(site.hits("/private/secret.html"), 0);
    assert_eq!(site.hits("/docs/kokuho-guide.pdf"), 0);
    assert_eq!(
        site.hits("/kurashi/kokuho.html?utm_source=twitter&utm_medium=social"),
        0
    );
    assert_eq!(site.hits("/faq/dl.html?utm_campaign=sitemap"), 0);
    assert_eq!(
        site.hits("/kurashi/kokuho.html"),
        1,
        "fetched once despite 4 names"
    );
    assert!(site.hits("/sitemap-only.html") == 1);
    for reason in ["redirect loop", "timeout", "http 404"] {
        assert!(report.reasons.contains_key(reason), "{reason}: {report:#?}");
    }
    // Content-Length over the limit, and a chunked body cut off while streaming.
    assert_eq!(report.reasons.get("body over max_body_bytes"), Some(&2));
    assert_eq!(report.noindex, 2, "{report:#?}");
    assert!(report.robots_disallowed >= 1);
    assert!(
        report.duplicates >= 2,
        "canonical + same content: {report:#?}"
    );

    // Extraction: FAQ pairs and contact rows as their own materials.
    let count = |p: &str, k| kind_count(&by_path[p], k);
    assert_eq!(count("/faq/dl.html", MaterialKind::Faq), 3);
    assert_eq!(count("/faq/qa.html", MaterialKind::Faq), 3);
    assert_eq!(count("/faq/table.html", MaterialKind::Faq), 4);
    assert_eq!(count("/faq/details.html", MaterialKind::Faq), 3);
    assert_eq!(count("/zeimu/sjis.html", MaterialKind::Faq), 1);
    assert_eq!(count("/soshiki/kokuho-iryo.html", MaterialKind::Contact), 4);
    let own_contacts = |p: &str| {
        by_path[p]
            .iter()
            .filter(|m| m.kind == MaterialKind::Contact && m.source != site.base)
            .count()
    };
    assert_eq!(own_contacts("/soshiki/list.html"), 6);
    assert_eq!(report.faq, 14);
    // The table rows, plus the 国保係 number of every page's 「このページの作成所属」 block
    // once for the site (rewritten as pages list it, so written at least once).
    let contacts = ms
        .iter()
        .filter(|m| m.kind == MaterialKind::Contact)
        .count();
    assert_eq!(contacts, 11);
    assert!(report.contacts >= 11, "{report:#?}");

    // Charsets: Shift_JIS (Windows-31J characters), EUC-JP (detected), ISO-2022-JP.
    let body = |p: &str| {
        by_path[p]
            .iter()
            .find(|m| m.kind == MaterialKind::Page)
            .and_then(|m| m.body.clone())
            .unwrap()
    };
    let sjis = body("/zeimu/sjis.html");
    assert!(
        sjis.contains("①　窓口の受付時間は、午前8時30分～午後5時15分です。"),
        "{sjis}"
    );
    assert!(sjis.contains("０３－５５５５－１２３４"), "{sjis}");
    assert!(body("/zeimu/eucjp.html").contains("髙橋さん"));
    assert!(body("/zeimu/jis.html").contains("一度だけ課税される県税"));

    // Page text without furniture; department and 更新日 read.
    let kokuho_page = by_path[kokuho[0]]
        .iter()
        .find(|m| m.kind == MaterialKind::Page)
        .unwrap();
    let text = kokuho_page.body.as_deref().unwrap();
    for furniture in [
        "文字サイズ",
        "背景色",
        "本文へスキップ",
        "Copyright",
        "くらし・環境",
        "ページの先頭へ",
        "サイトマップ",
    ] {
        assert!(!text.contains(furniture), "{furniture} in {text}");
    }
    assert!(text.starts_with("国民健康保険の加入と脱退\n"), "{text}");
    assert!(text.contains("\n加入の手続き\n"), "{text}");
    assert_eq!(kokuho_page.title, "国民健康保険の加入と脱退");
    assert_eq!(
        kokuho_page.department.as_deref(),
        Some("健康福祉部 国保医療課 国保係")
    );
    assert_eq!(
        kokuho_page.updated_at.to_rfc3339(),
        "2024-04-10T00:00:00+09:00"
    );

    // State: PDF recorded as known-but-unindexed; statuses kept.
    let state = HostState::load(&data.path().join("crawl-state"), &host_key(&site)).unwrap();
    assert!(state.run_finished);
    assert!(
        state
            .documents
            .keys()
            .any(|d| d.ends_with("/docs/kokuho-guide.pdf"))
    );
    // A PDF behind a link without extension is recorded too (after one request).
    assert!(
        state
            .documents
            .keys()
            .any(|d| d.ends_with("/download?file=yoshiki1"))
    );
    assert_eq!(report.documents, 2);
    let status = |p: &str| {
        state
            .pages
            .get(&format!("{}{p}", site.base))
            .map(|s| s.status.clone())
    };
    assert_eq!(status("/noindex.html"), Some(PageStatus::Noindex));
    assert!(matches!(
        status("/print/kokuho.html"),
        Some(PageStatus::Canonical(_))
    ));

    // The index follows the corpus; hits carry the page URL.
    // The crawl does not touch the index; the engine brings it in line.
    kotae::engine::Engine::open(&kotae::engine::EngineOptions::new(data.path()))
        .unwrap()
        .sync_from_corpus()
        .unwrap();
    {
        let engine =
            kotae::engine::Engine::open(&kotae::engine::EngineOptions::new(data.path())).unwrap();
        let resp = engine
            .search(&kotae::search::SearchRequest::new("令和5年度の補助金募集"))
            .unwrap();
        assert!(
            resp.hits
                .iter()
                .any(|h| h.url.as_deref() == Some(&*format!("{}/gone-later.html", site.base))),
            "{:?}",
            resp.hits.iter().map(|h| &h.url).collect::<Vec<_>>()
        );
    }

    // Recrawl: one page deleted (404), one FAQ page lost a pair, the rest unchanged (304).
    site.gone.lock().unwrap().insert("/gone-later.html".into());
    site.redirects
        .lock()
        .unwrap()
        .insert("/sitemap-only.html".into(), "/faq/dl.html".into());
    let qa = std::fs::read_to_string(fixtures().join("site/faq/qa.html")).unwrap();
    let start = qa.find("<p>Ｑ３．").unwrap();
    let end = qa.find("<h2>関連リンク</h2>").unwrap();
    let qa2 = format!("{}{}", &qa[..start], &qa[end..]);
    site.overrides
        .lock()
        .unwrap()
        .insert("/faq/qa.html".into(), qa2);
    let before: BTreeMap<String, Material> = ms.iter().map(|m| (m.id.clone(), m.clone())).collect();
    let report2 = crawl(&cfg, data.path()).await;
    let ms2 = corpus(&site, data.path());
    let by_path2 = pages_by_path(&site, &ms2);
    assert!(!by_path2.contains_key("/gone-later.html"));
    assert!(
        !by_path2.contains_key("/sitemap-only.html"),
        "moved page keeps materials"
    );
    assert_eq!(report2.removed_pages, 1, "{report2:#?}");
    assert_eq!(kind_count(&by_path2["/faq/qa.html"], MaterialKind::Faq), 2);
    assert!(report2.not_modified >= 10, "{report2:#?}");
    assert!(
        site.not_modified
            .lock()
            .unwrap()
            .contains_key("/faq/dl.html")
    );
    // 304 keeps materials byte for byte; ids are stable.
    for m in &ms2 {
        if !m.url.as_deref().unwrap().ends_with("/faq/qa.html") {
            assert_eq!(before.get(&m.id), Some(m), "{}", m.source_id);
        }
    }
    // A page's own materials go with it; a site-wide contact-block material (`…/#contact-…`)
    // stays while another page still lists it.
    let own = |path: &str| {
        by_path[path]
            .iter()
            .filter(|m| !m.source_id.contains("/#contact-"))
            .count()
    };
    assert_eq!(
        ms2.len(),
        ms.len() - own("/gone-later.html") - own("/sitemap-only.html") - 1
    );

    // The crawl does not touch the index; the engine brings it in line.
    kotae::engine::Engine::open(&kotae::engine::EngineOptions::new(data.path()))
        .unwrap()
        .sync_from_corpus()
        .unwrap();
    let engine =
        kotae::engine::Engine::open(&kotae::engine::EngineOptions::new(data.path())).unwrap();
    let resp = engine
        .search(&kotae::search::SearchRequest::new("令和5年度の補助金募集"))
        .unwrap();
    assert!(
        resp.hits.iter().all(|h| !h
            .url
            .as_deref()
            .unwrap_or_default()
            .ends_with("/gone-later.html")),
        "deleted page still searchable"
    );
    let resp = engine
        .search(&kotae::search::SearchRequest::new("自動車税の納期限"))
        .unwrap();
    assert!(resp.hits.iter().any(|h| {
        h.url
            .as_deref()
            .is_some_and(|u| u.ends_with("/faq/qa.html"))
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_crawl_resumes_without_refetching() {
    let site = serve().await;
    let data = tempfile::tempdir().unwrap();
    let mut cfg = config(&site);
    cfg.concurrency = 1;
    cfg.checkpoint_pages = 1;
    cfg.recrawl_interval_secs = 0;
    let first = {
        let cfg = cfg.clone();
        let dir = data.path().to_path_buf();
        tokio::spawn(async move { crawl(&cfg, &dir).await })
    };
    // Kill the crawl once it has fetched a few pages.
    loop {
        let pages: usize = site
            .hits
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.ends_with(".html"))
            .map(|(_, n)| n)
            .sum();
        if pages >= 6 || first.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.abort();
    let _ = first.await;
    let state = HostState::load(&data.path().join("crawl-state"), &host_key(&site)).unwrap();
    assert!(
        !state.run_finished,
        "the first crawl was killed before the end"
    );
    let done: Vec<String> = state.pages.keys().cloned().collect();
    assert!(!done.is_empty());
    let hits_before: BTreeMap<String, usize> = site.hits.lock().unwrap().clone();

    let report = crawl(&cfg, data.path()).await;
    assert!(report.kept >= done.len(), "{report:#?}");
    for url in &done {
        let path = url.trim_start_matches(&site.base);
        assert_eq!(
            site.hits(path),
            hits_before.get(path).copied().unwrap_or(0),
            "{path} refetched after resume"
        );
    }
    let ms = corpus(&site, data.path());
    let paths: HashSet<String> = pages_by_path(&site, &ms).into_keys().collect();
    for p in INDEXED {
        assert!(paths.contains(*p), "{p} missing after resume: {paths:?}");
    }
    let state = HostState::load(&data.path().join("crawl-state"), &host_key(&site)).unwrap();
    assert!(state.run_finished);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_crawls_the_sources_of_a_config_file() {
    let site = serve().await;
    let data = tempfile::tempdir().unwrap();
    let config_file = data.path().join("kotae.toml");
    std::fs::write(
        &config_file,
        format!(
            "[crawl]\ndelay_ms = 0\ntimeout_ms = 3000\n\n[[crawl.source]]\n\
             seeds = [\"{}/index.html\"]\npath_prefixes = [\"/faq/\"]\nexclude = ['table']\n",
            site.base
        ),
    )
    .unwrap();
    let exe = env!("CARGO_BIN_EXE_kotae");
    let dir = data.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(exe)
            .arg("--data-dir")
            .arg(&dir)
            .arg("--config")
            .arg(&config_file)
            .args(["crawl", "--no-index"])
            .env("KOTAE_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("9 faq"), "{stdout}");
    let paths: Vec<String> = pages_by_path(&site, &corpus(&site, data.path()))
        .into_keys()
        .collect();
    assert_eq!(
        paths,
        [
            "/faq/details.html",
            "/faq/dl.html",
            "/faq/qa.html",
            "/index.html"
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Golden files: fixture HTML → expected materials (JSON). UPDATE_GOLDEN=1 rewrites them.

/// Fixture pages with the FAQ pairs and contact rows they hold (counted by hand). Every
/// page but the top page has its 「このページの作成所属」 block, one contact (issue 15); on
/// `soshiki/kokuho-iryo.html` its number is already a row of the page's table.
const EXPECTED: &[(&str, usize, usize)] = &[
    ("faq/details.html", 3, 1),
    ("faq/dl.html", 3, 1),
    ("faq/qa.html", 3, 1),
    ("faq/table.html", 4, 1),
    ("index.html", 0, 0),
    ("kurashi/kokuho.html", 0, 1),
    ("kurashi/nenkin.html", 0, 1),
    ("soshiki/kokuho-iryo.html", 0, 4),
    ("soshiki/list.html", 0, 7),
    ("zeimu/eucjp.html", 0, 1),
    ("zeimu/jis.html", 0, 1),
    ("zeimu/sjis.html", 1, 1),
];

fn extract_fixture(path: &str) -> Vec<Material> {
    let text = std::fs::read_to_string(fixtures().join("site").join(path)).unwrap();
    let (bytes, ct) = encode_page(&format!("/{path}"), &text);
    let url = url::Url::parse(&format!("https://www.pref.midori.example.jp/{path}")).unwrap();
    let input = PageInput {
        url: &url,
        body: &bytes,
        content_type: Some(ct),
        last_modified: None,
        x_robots_tag: None,
        fetched_at: DateTime::parse_from_rfc3339("2024-05-01T12:00:00+09:00").unwrap(),
    };
    extract::extract(&input).materials
}

#[test]
fn extraction_matches_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for (path, _, _) in EXPECTED {
        let got = serde_json::to_string_pretty(&extract_fixture(path)).unwrap() + "\n";
        let golden = fixtures()
            .join("golden")
            .join(path.replace('/', "__") + ".json");
        if update {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&golden, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        if want != got {
            mismatches.push(format!("{}:\n{got}", golden.display()));
        }
    }
    assert!(
        mismatches.is_empty(),
        "extraction differs from the golden files (UPDATE_GOLDEN=1 to accept):\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn extraction_counts_match_every_fixture() {
    // Exact counts per fixture (an "accuracy" total would always read N/N after these).
    for (path, faqs, contacts) in EXPECTED {
        let ms = extract_fixture(path);
        let f = kind_count(&ms, MaterialKind::Faq);
        let c = kind_count(&ms, MaterialKind::Contact);
        assert_eq!((f, c), (*faqs, *contacts), "{path}");
        assert_eq!(kind_count(&ms, MaterialKind::Page), 1, "{path}");
    }
}

// ---------------------------------------------------------------------------------------
// Throughput: `cargo test --test it -- --ignored --nocapture crawl_throughput`
// (KOTAE_BENCH_PAGES=N to change the size, default 2000; KOTAE_BENCH_NO_INDEX=1 to leave
// the index update out of the CLI run).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; run with --ignored --nocapture"]
async fn crawl_throughput() {
    let n: usize = std::env::var("KOTAE_BENCH_PAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let site = serve_with(n).await;
    let seed = format!("{}/bench/0.html", site.base);

    // In process: the crawl library alone (no index update).
    let data = tempfile::tempdir().unwrap();
    let mut cfg = config(&site);
    cfg.concurrency = 8;
    cfg.max_depth = 64;
    cfg.checkpoint_pages = 50;
    cfg.checkpoint_min_interval_ms = 2000;
    cfg.sources[0].seeds = vec![seed.clone()];
    cfg.sources[0].path_prefixes = vec!["/bench/".into()];
    let started = std::time::Instant::now();
    let report = crawl(&cfg, data.path()).await;
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(report.fetched, n, "{report:#?}");
    println!(
        "library: {} pages in {secs:.2} s = {:.0} pages/s ({} materials, {} faq, {} contact)",
        report.fetched,
        report.fetched as f64 / secs,
        report.materials_written,
        report.faq,
        report.contacts
    );

    // The CLI under /usr/bin/time -v with a config file: crawl + index update, max RSS.
    let data = tempfile::tempdir().unwrap();
    let config_file = data.path().join("bench.toml");
    std::fs::write(
        &config_file,
        format!(
            "[crawl]\ndelay_ms = 0\nconcurrency = 8\nmax_depth = 64\n\n[[crawl.source]]\n\
             seeds = [\"{seed}\"]\npath_prefixes = [\"/bench/\"]\n"
        ),
    )
    .unwrap();
    let exe = env!("CARGO_BIN_EXE_kotae").to_string();
    let dir = data.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("/usr/bin/time")
            .arg("-v")
            .arg(exe)
            .arg("--data-dir")
            .arg(dir)
            .arg("--config")
            .arg(config_file)
            .arg("crawl")
            // KOTAE_BENCH_NO_INDEX=1: the crawl alone, without the index update.
            .args(
                std::env::var_os("KOTAE_BENCH_NO_INDEX")
                    .map(|_| "--no-index")
                    .into_iter(),
            )
            .env("KOTAE_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    println!("cli: {}", stdout.trim());
    for line in stderr.lines() {
        if line.contains("Maximum resident set size") || line.contains("Elapsed (wall clock)") {
            println!("cli: {}", line.trim());
        }
    }
}
