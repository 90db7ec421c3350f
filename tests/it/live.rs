//! Issue 10, sections 3–4: CLI commands beside a running server (real binary), zero-downtime
//! rebuilds, dictionaries without restart.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kotae::engine::{Engine, EngineOptions};
use kotae::search::SearchRequest;

const ADMIN: &str = "live-test-admin-token-0123456789";

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn kotae_cmd(data: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_kotae"));
    c.arg("--data-dir")
        .arg(data)
        .env_remove("KOTAE_CONFIG")
        .env_remove("KOTAE_CMS_SECRET")
        .env("KOTAE_LOG", "warn");
    c
}

/// Starts `kotae serve` on an ephemeral port with an admin token configured; returns it and
/// its address from the control file.
fn start_server(data: &Path) -> (Server, String) {
    start_server_with(data, None)
}

fn start_server_with(data: &Path, cms_secret: Option<&str>) -> (Server, String) {
    let mut cmd = kotae_cmd(data);
    if let Some(s) = cms_secret {
        cmd.env("KOTAE_CMS_SECRET", s);
    }
    let child = cmd
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("KOTAE_TOKENS", format!("admin:{ADMIN}"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Some(info) = kotae::control::read(data) {
            return (server, info.addr);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the server wrote no control file");
}

fn run(cmd: &mut std::process::Command) -> (bool, String) {
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn get(addr: &str, path: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("http://{addr}{path}"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap()
}

/// The source id of the top hit for `q`.
async fn top(addr: &str, q: &str) -> String {
    let v = get(addr, &format!("/api/search?q={}", urlencode(q))).await;
    assert!(v["hits"].is_array(), "{v}");
    v["hits"][0]["source_id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn write_import(dir: &Path, name: &str, id: &str, answer: &str) -> PathBuf {
    let p = dir.join(name);
    let line =
        serde_json::json!({"id": id, "question": format!("{answer}について"), "answer": answer});
    std::fs::write(&p, format!("{line}\n")).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_commands_work_beside_a_running_server() {
    let data = tempfile::tempdir().unwrap();
    crate::common::copy_dir(
        &crate::common::repo().join("corpus"),
        &data.path().join("corpus"),
    );
    let files = tempfile::tempdir().unwrap();
    let (mut server, addr) = start_server(data.path());

    // A read command opens the index read-only beside the server's writer.
    let (ok, out) = run(kotae_cmd(data.path()).args(["search", "国保"]));
    assert!(ok, "{out}");
    assert!(out.contains("hits in"), "{out}");

    // A write command hands the indexing to the server: searchable when it returns.
    assert_ne!(top(&addr, "ツバメ補助金").await, "live-1");
    let f = write_import(
        files.path(),
        "a.jsonl",
        "live-1",
        "ツバメ補助金の申請は区役所で受け付けます。",
    );
    let (ok, out) = run(kotae_cmd(data.path()).arg("import").arg(&f));
    assert!(ok, "{out}");
    assert!(out.contains("running server"), "{out}");
    assert!(top(&addr, "ツバメ補助金").await == "live-1");

    // A full rebuild through the server: a new generation, the imported text kept.
    let (ok, out) = run(kotae_cmd(data.path()).args(["index", "--rebuild"]));
    assert!(ok, "{out}");
    let status = get(&addr, "/api/status").await;
    assert_eq!(status["index"]["generation"], 1, "{status}");
    assert_eq!(status["rebuild"]["status"], "done", "{status}");
    assert!(top(&addr, "ツバメ補助金").await == "live-1");

    // The read-only CLI follows the live generation.
    let (ok, out) = run(kotae_cmd(data.path()).args(["search", "ツバメ補助金", "--limit", "1"]));
    assert!(ok, "{out}");
    assert!(out.contains("ツバメ補助金の申請"), "{out}");

    // `kotae index` (sync) through the server after a hand edit of the corpus.
    let g = write_import(
        files.path(),
        "b.jsonl",
        "live-2",
        "カモメ手当の支給日は毎月十日です。",
    );
    let corpus = kotae::corpus::Corpus::open(data.path().join("corpus")).unwrap();
    let imported = kotae::import::read_file(&g, "b.jsonl", &Default::default()).unwrap();
    corpus.upsert("hand/edit", imported.materials).unwrap();
    let (ok, out) = run(kotae_cmd(data.path()).arg("index"));
    assert!(ok, "{out}");
    assert!(top(&addr, "カモメ手当").await == "live-2");

    // With the server gone (killed: its control file stays), write commands work alone.
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    drop(server);
    let h = write_import(
        files.path(),
        "c.jsonl",
        "live-3",
        "ヒバリ給付金は今年度で終わります。",
    );
    let (ok, out) = run(kotae_cmd(data.path()).arg("import").arg(&h));
    assert!(ok, "{out}");
    assert!(!out.contains("running server"), "{out}");
    let (ok, out) = run(kotae_cmd(data.path()).args(["search", "ヒバリ給付金", "--limit", "1"]));
    assert!(ok, "{out}");
    assert!(out.contains("ヒバリ給付金は"), "{out}");
}

fn faq(id: &str, answer: &str) -> kotae::material::Material {
    serde_json::from_value(serde_json::json!({
        "source_id": id, "kind": "faq", "question": format!("{answer}について"),
        "answer": answer, "source": "live", "updated_at": "2026-04-01T09:00:00+09:00"
    }))
    .unwrap()
}

/// The source id of the top hit for `q`.
fn hits(engine: &Engine, q: &str) -> String {
    let r = engine.search(&SearchRequest::new(q)).unwrap();
    r.hits
        .first()
        .map(|h| h.source_id.clone())
        .unwrap_or_default()
}

#[test]
fn a_rebuild_beside_the_live_index_answers_every_search_and_keeps_concurrent_changes() {
    let (dir, engine) = crate::common::default_engine(true);
    let before = hits(&engine, "国民健康保険");
    assert!(!before.is_empty());
    let stop = Arc::new(AtomicBool::new(false));
    let (searches, errors) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let searcher = {
        let (engine, stop, searches, errors) = (
            engine.clone(),
            stop.clone(),
            searches.clone(),
            errors.clone(),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match engine.search(&SearchRequest::new("国民健康保険")) {
                    Ok(r) if !r.hits.is_empty() => searches.fetch_add(1, Ordering::Relaxed),
                    _ => errors.fetch_add(1, Ordering::Relaxed),
                };
            }
        })
    };
    // A change made while the new generation is being built (from the progress callback,
    // after the rebuild read the corpus) must be in the swapped-in generation.
    let mut changed = false;
    engine
        .rebuild(|_, _| {
            if !changed {
                changed = true;
                engine
                    .upsert("live", vec![faq("r-1", "ウグイス相談窓口の受付時間")])
                    .unwrap();
                assert_eq!(
                    hits(&engine, "ウグイス相談窓口"),
                    "r-1",
                    "live generation has it"
                );
                // Searches are answered while the new generation is being built.
                let at = searches.load(Ordering::Relaxed);
                let deadline = Instant::now() + Duration::from_secs(30);
                while searches.load(Ordering::Relaxed) < at + 3 && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(5));
                }
                assert!(
                    searches.load(Ordering::Relaxed) >= at + 3,
                    "searches stalled"
                );
            }
        })
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    searcher.join().unwrap();
    assert_eq!(errors.load(Ordering::Relaxed), 0);
    assert!(searches.load(Ordering::Relaxed) > 0);
    assert_eq!(engine.generation(), 1);
    assert_eq!(
        hits(&engine, "ウグイス相談窓口"),
        "r-1",
        "new generation kept the change"
    );
    assert_eq!(hits(&engine, "国民健康保険"), before);
    let index = dir.path().join("index");
    assert_eq!(std::fs::read_to_string(index.join("CURRENT")).unwrap(), "1");
    // Generation 0's files go once no search holds it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while index.join("meta.json").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!index.join("meta.json").exists(), "generation 0 retired");
    drop(engine);
    // Reopening finds generation 1 in line with the corpus.
    let opts = EngineOptions::new(dir.path());
    let e = Engine::open_with(&opts, crate::common::analyzer()).unwrap();
    assert_eq!(e.generation(), 1);
    assert_eq!(hits(&e, "ウグイス相談窓口"), "r-1");
    let ro = Engine::open_read_only(&opts).unwrap();
    assert_eq!(hits(&ro, "ウグイス相談窓口"), "r-1");
    assert!(
        ro.upsert("live", vec![faq("r-2", "x")]).is_err(),
        "read-only writes nothing"
    );
    assert!(ro.corpus().read_collection("live").unwrap().len() == 1);
}

fn wait_rebuild(engine: &Engine, id: &str) -> kotae::engine::RebuildStatus {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r = engine.rebuild_status().unwrap();
        assert_eq!(r.id, id);
        if r.status != "running" {
            return r;
        }
        assert!(Instant::now() < deadline, "rebuild did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The default corpus in a temporary data directory, with an analyzer of its own: a
/// dictionary reload changes the engine's analyzer, and the shared test analyzer serves the
/// other tests.
fn engine_with_own_analyzer() -> (tempfile::TempDir, Arc<Engine>) {
    let dir = tempfile::tempdir().unwrap();
    crate::common::copy_dir(
        &crate::common::repo().join("corpus"),
        &dir.path().join("corpus"),
    );
    let analyzer = Arc::new(kotae::analysis::Analyzer::builtin().unwrap());
    let engine = Arc::new(Engine::open_with(&EngineOptions::new(dir.path()), analyzer).unwrap());
    (dir, engine)
}

#[test]
fn dictionary_edits_take_effect_without_a_restart() {
    let (dir, engine) = engine_with_own_analyzer();
    let dicts_dir = dir.path().join("dictionaries");
    std::fs::create_dir_all(&dicts_dir).unwrap();
    let dicts = kotae::dictionaries::Dictionaries::new(engine.clone());
    engine
        .upsert("live", vec![faq("d-1", "ミソサザイ制度の説明です。")])
        .unwrap();

    // Synonyms: the next search expands with the new group; a bad line is reported.
    assert_ne!(hits(&engine, "コマドリ"), "d-1");
    std::fs::write(
        dicts_dir.join("synonyms.txt"),
        "コマドリ,ミソサザイ\nア,イウ\n",
    )
    .unwrap();
    let r = dicts.reload_dictionaries();
    assert!(r.rebuild_job.is_none(), "synonyms need no rebuild");
    assert_eq!(hits(&engine, "コマドリ"), "d-1", "{r:?}");
    assert!(
        dicts
            .errors()
            .iter()
            .any(|e| e.file == "synonyms.txt" && e.line == 2),
        "{r:?}"
    );

    // User dictionary: a background rebuild with the new analyzer, then a swap.
    let word = "ミソサザイ制度";
    let terms = |e: &Engine| -> Vec<String> {
        e.analyzer()
            .morph_tokens(word)
            .into_iter()
            .map(|t| t.term)
            .collect()
    };
    let before = terms(&engine);
    std::fs::write(
        dicts_dir.join("user_dict.csv"),
        format!("{word},名詞,ミソサザイセイド\nbroken line\n"),
    )
    .unwrap();
    let r = dicts.reload_dictionaries();
    let id = r.rebuild_job.clone().expect("a rebuild starts");
    assert!(
        dicts
            .errors()
            .iter()
            .any(|e| e.file == "user_dict.csv" && e.line == 2),
        "{r:?}"
    );
    let done = wait_rebuild(&engine, &id);
    assert_eq!(done.status, "done", "{done:?}");
    assert_eq!(engine.generation(), 1);
    assert_ne!(
        terms(&engine),
        before,
        "the new analyzer segments with the user word"
    );
    assert_eq!(hits(&engine, word), "d-1");
    // The synonym table survives the analyzer swap (the new analyzer read the file).
    assert_eq!(hits(&engine, "コマドリ"), "d-1");

    // Unchanged user dictionary: no second rebuild.
    assert!(dicts.reload_dictionaries().rebuild_job.is_none());
}

async fn call(
    state: &kotae::http::AppState,
    method: &str,
    uri: &str,
    body: Option<&str>,
) -> (u16, serde_json::Value) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut req = axum::http::Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(axum::body::Body::from(body.unwrap_or("").to_string()))
        .unwrap();
    let resp = kotae::http::app(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread")]
async fn corrections_and_retirements_survive_a_recrawl_and_a_rebuild() {
    let (_dir, engine) = crate::common::default_engine(true);
    let state = kotae::http::AppState::new(engine.clone());
    // A crawled page's FAQ (as the crawler or the webhook writes it).
    let crawled = faq("c-1", "オオルリ手当の窓口は本庁舎3階です。");
    engine
        .upsert("crawl/www.example.lg.jp", vec![crawled.clone()])
        .unwrap();
    let id = engine
        .materials()
        .values()
        .find(|m| m.source_id == "c-1")
        .unwrap()
        .id
        .clone();
    let uri = format!("/api/materials/{id}");

    // Validation: bad JSON 400, an invalid material 422, another kind 409.
    assert_eq!(call(&state, "PUT", &uri, Some("{")).await.0, 400);
    let (s, v) = call(&state, "PUT", &uri, Some(r#"{"question": "q"}"#)).await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["code"], "unprocessable_material");
    let (s, v) = call(
        &state,
        "PUT",
        &uri,
        Some(r#"{"kind": "page", "title": "t", "body": "b"}"#),
    )
    .await;
    assert_eq!((s, v["code"].as_str()), (409, Some("conflict")), "{v}");

    // A correction: searchable at once, free text redacted.
    let body = serde_json::json!({
        "question": "オオルリ手当の窓口はどこですか",
        "answer": "オオルリ手当の窓口は別館1階に移りました。担当 山田太郎様 090-1234-5678",
    });
    let (s, v) = call(&state, "PUT", &uri, Some(&body.to_string())).await;
    assert_eq!(s, 200, "{v}");
    let answer = v["answer"].as_str().unwrap();
    assert!(
        !answer.contains("090-1234-5678") && answer.contains("別館1階"),
        "{answer}"
    );
    let stored = engine.get(&id).unwrap();
    assert!(stored.answer.as_deref().unwrap().contains("別館1階"));
    assert_eq!(hits(&engine, "オオルリ手当 別館"), "c-1");

    // The crawler writes its old version again, and a rebuild runs: the correction stays.
    engine
        .upsert("crawl/www.example.lg.jp", vec![crawled.clone()])
        .unwrap();
    assert!(
        engine
            .get(&id)
            .unwrap()
            .answer
            .as_deref()
            .unwrap()
            .contains("別館1階")
    );
    engine.rebuild(|_, _| {}).unwrap();
    assert!(
        engine
            .get(&id)
            .unwrap()
            .answer
            .as_deref()
            .unwrap()
            .contains("別館1階")
    );

    // A new id from an integrator: 201.
    let (s, v) = call(
        &state,
        "PUT",
        "/api/materials/api-0001",
        Some(r#"{"kind": "faq", "question": "ルリビタキ給付の申請先は", "answer": "ルリビタキ給付は市民課へ。"}"#),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(hits(&engine, "ルリビタキ給付"), "api-0001");

    // Retirement: gone at once, and after a recrawl and a rebuild.
    let (s, v) = call(&state, "DELETE", &uri, None).await;
    assert_eq!((s, v["retired"].as_bool()), (200, Some(true)), "{v}");
    assert!(engine.get(&id).is_none());
    engine
        .upsert("crawl/www.example.lg.jp", vec![crawled])
        .unwrap();
    assert!(
        engine.get(&id).is_none(),
        "a recrawl does not bring it back"
    );
    engine.rebuild(|_, _| {}).unwrap();
    assert!(engine.get(&id).is_none(), "nor a rebuild");
    assert_ne!(hits(&engine, "オオルリ手当"), "c-1");
    assert_eq!(call(&state, "DELETE", &uri, None).await.0, 404);

    // Reindex through the API: a job, followed to its end; the status shows it.
    let (s, v) = call(&state, "POST", "/api/admin/reindex", Some("{}")).await;
    assert_eq!(s, 202, "{v}");
    let job = v["job_id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (s, j) = call(&state, "GET", &format!("/api/jobs/{job}"), None).await;
        assert_eq!(s, 200, "{j}");
        if j["status"] != "running" {
            assert_eq!(j["status"], "done", "{j}");
            break;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, st) = call(&state, "GET", "/api/status", None).await;
    assert_eq!(st["index"]["generation"], 3, "{st}");
    assert_eq!(st["rebuild"]["id"], job.as_str(), "{st}");
    assert!(st["search_queue"]["workers"].as_u64().unwrap() >= 1, "{st}");
    assert_eq!(hits(&engine, "ルリビタキ給付"), "api-0001");
}

#[test]
fn the_dictionary_watcher_applies_an_edit_and_reports_a_broken_file() {
    let (dir, engine) = engine_with_own_analyzer();
    engine
        .upsert("live", vec![faq("w-1", "ホオジロ基金の案内です。")])
        .unwrap();
    let dicts = Arc::new(kotae::dictionaries::Dictionaries::new(engine.clone()));
    let _w = kotae::dictionaries::watch(dicts.clone()).unwrap();
    let wait = |what: &str, ok: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ok() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let syn = dir.path().join("dictionaries/synonyms.txt");
    assert_ne!(hits(&engine, "カワラヒワ"), "w-1");
    std::fs::write(&syn, "カワラヒワ,ホオジロ基金\n").unwrap();
    wait("the synonym edit", &|| hits(&engine, "カワラヒワ") == "w-1");
    // A file that is not UTF-8 cannot be read: the table in use stays, the error is shown.
    std::fs::write(&syn, b"\xff\xfe\xfa broken\n").unwrap();
    wait("the error report", &|| {
        dicts
            .errors()
            .iter()
            .any(|e| e.file == "synonyms.txt" && e.line == 0)
    });
    assert_eq!(hits(&engine, "カワラヒワ"), "w-1", "the old table stays");
    std::fs::write(&syn, "カワラヒワ,ホオジロ基金\n").unwrap();
    wait("the fix", &|| dicts.errors().is_empty());
}

/// A site on 127.0.0.1: `/a.html` answers after `delay`, its text from `text`.
async fn site(text: Arc<std::sync::Mutex<String>>, delay: Duration) -> String {
    use axum::response::IntoResponse;
    let app = axum::Router::new().route(
        "/a.html",
        axum::routing::get(move || {
            let text = text.clone();
            async move {
                tokio::time::sleep(delay).await;
                let t = text.lock().unwrap().clone();
                (
                    [("content-type", "text/html; charset=utf-8")],
                    format!("<html><head><title>{t}</title></head><body><main><h1>{t}</h1><p>{t}の受付は市役所で行います。</p></main></body></html>"),
                )
                    .into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_beside_the_server_is_indexed_by_it_and_keeps_a_webhook_change() {
    const SECRET: &str = "live-cms-secret-0123456789";
    let data = tempfile::tempdir().unwrap();
    crate::common::copy_dir(
        &crate::common::repo().join("corpus"),
        &data.path().join("corpus"),
    );
    let text = Arc::new(std::sync::Mutex::new("シジュウカラ助成".to_string()));
    let base = site(text.clone(), Duration::from_secs(3)).await;
    let (_server, addr) = start_server_with(data.path(), Some(SECRET));
    let crawl = |data: PathBuf, seed: String| {
        tokio::task::spawn_blocking(move || {
            run(kotae_cmd(&data).args(["crawl", "--seed", &seed, "--delay-ms", "0"]))
        })
    };
    // While the crawl waits for the slow page, the CMS approves another page of the same
    // host (inline HTML): the webhook job writes the same host collection in the server.
    let crawling = crawl(data.path().to_path_buf(), format!("{base}/a.html"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let delivery = serde_json::json!({
        "delivery_id": "live-1", "event": "approved", "approved_at": "2026-12-01T10:15:00+09:00",
        "pages": [{"url": format!("{base}/b.html"), "html": "<html><head><title>メジロ講座</title></head><body><main><h1>メジロ講座</h1><p>メジロ講座の申込みは公民館で受け付けます。</p></main></body></html>"}]});
    let body = delivery.to_string();
    let ts = chrono::Utc::now().timestamp().to_string();
    let sig = kotae::hooks::sign(SECRET.as_bytes(), &ts, body.as_bytes());
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}/api/hooks/cms"))
        .header("content-type", "application/json")
        .header("X-Kotae-Timestamp", &ts)
        .header("X-Kotae-Signature", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let job: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    let id = job["job_id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let j = get(&addr, &format!("/api/jobs/{id}")).await;
        if j["status"] == "done" {
            break;
        }
        assert!(Instant::now() < deadline, "{j}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(top_url(&addr, "メジロ講座").await, format!("{base}/b.html"));
    let (ok, out) = crawling.await.unwrap();
    assert!(ok, "{out}");
    assert!(out.contains("running server"), "{out}");
    // The crawled page is searchable in the server when the command returns, and the
    // webhook's page is still there (the crawl wrote only what it changed).
    assert_eq!(
        top_url(&addr, "シジュウカラ助成").await,
        format!("{base}/a.html")
    );
    assert_eq!(top_url(&addr, "メジロ講座").await, format!("{base}/b.html"));
}

async fn top_url(addr: &str, q: &str) -> String {
    let v = get(addr, &format!("/api/search?q={}", urlencode(q))).await;
    v["hits"][0]["url"].as_str().unwrap_or_default().to_string()
}
