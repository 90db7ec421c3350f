//! The soak run of issue 11 (`benches/soak/run.sh` builds and starts it; README "Soak").
//!
//! Starts `kotae serve` on a copy of a corpus and runs CLIENTS clients (default 16) for
//! DURATION seconds (default 600): 90 % searches, 10 % inquiries, each inquiry with its own
//! `Idempotency-Key` and retried with that key on connection errors and 5xx until it is
//! acknowledged (201). During the run: a full rebuild handed to the server (`kotae index
//! --rebuild`, at 30 %), a crawl of a site this program serves on 127.0.0.1 (`kotae crawl`,
//! at 50 %), and, by MODE, at 70 %: `kill9` kills the server with SIGKILL and `sigterm`
//! stops it with SIGTERM (its exit code and stop time are reported); both restart it on the
//! same port. At the end the server is stopped with SIGTERM and the database is read: every
//! acknowledged inquiry must be there, and no more rows than keys sent (a retry counted
//! twice would add one).
//!
//! Environment: `KOTAE_BIN` (default `target/debug/kotae`), `DURATION`, `CLIENTS`, `MODE`
//! (`none`, `kill9`, `sigterm`), `CORPUS` (a corpus directory to copy, default `corpus`),
//! `QUERIES` (`{id: text}` JSON, default `../shared/data/localgovfaq/queries.json`, else a
//! few built-in queries), `KEEP` (a directory to use and keep instead of a temporary one).
//!
//! Prints one line per event and a summary: searches and inquiries, errors (outside the
//! restart window, and connection errors while the server was down), acknowledged
//! inquiries lost, duplicate rows, p50/p99 of each. Exits non-zero on any error, loss or
//! duplicate.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

const BUILTIN_QUERIES: &[&str] = &[
    "国民健康保険の脱退",
    "粗大ごみの出し方",
    "マイナンバーカード 受け取り",
    "住民票の写し 手数料",
    "児童手当 申請",
    "パスポート 必要なもの",
];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("{name}={v:?} does not parse")),
        _ => Ok(default),
    }
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), target)?;
        }
    }
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Starts the server and waits for its "serving … on http://" line.
fn start_server(bin: &Path, data: &Path, port: u16) -> anyhow::Result<Child> {
    let mut child = Command::new(bin)
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env_remove("KOTAE_TOKENS")
        .env_remove("KOTAE_CONFIG")
        .env(
            "KOTAE_LOG",
            std::env::var("KOTAE_LOG").unwrap_or("warn".into()),
        )
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let out = child.stdout.take().context("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if line.contains(" on http://") {
                let _ = tx.send(());
            }
        }
    });
    if rx.recv_timeout(Duration::from_secs(300)).is_err() {
        let _ = child.kill();
        bail!("the server did not start");
    }
    Ok(child)
}

fn signal(child: &Child, sig: &str) -> anyhow::Result<()> {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()?
        .success();
    anyhow::ensure!(ok, "kill {sig} failed");
    Ok(())
}

/// The local site crawled during the run: 30 pages linked from `/`.
async fn serve_site(listener: tokio::net::TcpListener) {
    use axum::extract::Path as P;
    use axum::response::Html;
    use axum::routing::get;
    let app = axum::Router::new()
        .route("/robots.txt", get(|| async { "User-agent: *\nAllow: /\n" }))
        .route(
            "/",
            get(|| async {
                let links: String = (0..30)
                    .map(|i| format!("<li><a href=\"/p/{i}.html\">手続き {i}</a></li>"))
                    .collect();
                Html(format!(
                    "<html><head><title>ソーク市 よくある質問</title></head><body><ul>{links}</ul></body></html>"
                ))
            }),
        )
        .route(
            "/p/{page}",
            get(|P(page): P<String>| async move {
                let n = page.trim_end_matches(".html");
                Html(format!(
                    "<html><head><title>ソーク市の手続き {n}</title></head><body><main>\
                     <h1>ソーク市の手続き {n}</h1><p>ソーク市では手続き{n}の届出を市民課の窓口で\
                     受け付けています。必要なものは本人確認書類です。受付時間は平日の午前8時30分から\
                     午後5時15分までです。</p></main></body></html>"
                ))
            }),
        );
    let _ = axum::serve(listener, app).await;
}

#[derive(Default)]
struct Tally {
    search_ms: Vec<f64>,
    inquiry_ms: Vec<f64>,
    errors: u64,
    down_errors: u64,
    retries: u64,
    acked: Vec<String>,
    keys_sent: u64,
    unacked: u64,
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let bin = PathBuf::from(env_or("KOTAE_BIN", "target/debug/kotae".to_string())?);
    let duration = Duration::from_secs_f64(env_or("DURATION", 600.0)?);
    let clients: usize = env_or("CLIENTS", 16)?;
    let mode: String = env_or("MODE", "none".to_string())?;
    anyhow::ensure!(
        matches!(mode.as_str(), "none" | "kill9" | "sigterm"),
        "MODE must be none, kill9 or sigterm"
    );
    let corpus = PathBuf::from(env_or("CORPUS", "corpus".to_string())?);
    let queries: Vec<String> = {
        let path = env_or(
            "QUERIES",
            "../shared/data/localgovfaq/queries.json".to_string(),
        )?;
        match kotae::eval::read_queries(Path::new(&path)) {
            Ok(q) if !q.is_empty() => q.into_iter().map(|(_, q)| q).collect(),
            _ => BUILTIN_QUERIES.iter().map(|s| s.to_string()).collect(),
        }
    };
    let queries = Arc::new(queries);
    let tmp = tempfile::tempdir()?;
    let data = match std::env::var("KEEP") {
        Ok(k) if !k.is_empty() => PathBuf::from(k),
        _ => tmp.path().join("data"),
    };
    if !data.join("corpus").exists() {
        copy_dir(&corpus, &data.join("corpus"))?;
    }
    let site = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let site_url = format!("http://{}/", site.local_addr()?);
    tokio::spawn(serve_site(site));

    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let t0 = Instant::now();
    let server = Arc::new(Mutex::new(start_server(&bin, &data, port)?));
    println!(
        "soak: server up in {:.1} s on {base}; {clients} clients for {:.0} s, mode {mode}, {} queries, binary {}",
        t0.elapsed().as_secs_f64(),
        duration.as_secs_f64(),
        queries.len(),
        bin.display()
    );

    let down = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let deadline = started + duration;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(clients)
        .build()?;
    let searches = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, base, queries, down, searches) = (
            http.clone(),
            base.clone(),
            queries.clone(),
            down.clone(),
            searches.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut t = Tally::default();
            let mut n = 0usize;
            while Instant::now() < deadline {
                n += 1;
                if n.is_multiple_of(10) {
                    // An inquiry: its own key, retried with it until acknowledged.
                    let key = format!("soak-{c}-{n}");
                    let body = r#"{"channel":"phone","outcome":"koucho","category":"soak"}"#;
                    t.keys_sent += 1;
                    let t1 = Instant::now();
                    let give_up = deadline + Duration::from_secs(60);
                    loop {
                        let r = http
                            .post(format!("{base}/api/inquiries"))
                            .header("content-type", "application/json")
                            .header("idempotency-key", &key)
                            .body(body)
                            .send()
                            .await;
                        let retry = match r {
                            Ok(resp) if resp.status().as_u16() == 201 => {
                                let b = resp.bytes().await.unwrap_or_default();
                                let v: serde_json::Value =
                                    serde_json::from_slice(&b).unwrap_or_default();
                                match v["id"].as_str() {
                                    Some(id) => {
                                        t.acked.push(id.to_string());
                                        t.inquiry_ms.push(t1.elapsed().as_secs_f64() * 1e3);
                                        break;
                                    }
                                    None => {
                                        t.errors += 1;
                                        eprintln!("soak: 201 without an id: {v}");
                                        break;
                                    }
                                }
                            }
                            Ok(resp) if resp.status().is_server_error() => {
                                eprintln!("soak: inquiry answered {}, retrying", resp.status());
                                true
                            }
                            Ok(resp) => {
                                t.errors += 1;
                                eprintln!("soak: inquiry answered {}", resp.status());
                                break;
                            }
                            Err(e) => {
                                if !down.load(Ordering::Relaxed) {
                                    eprintln!("soak: inquiry failed ({e}), retrying");
                                }
                                true
                            }
                        };
                        if retry {
                            if down.load(Ordering::Relaxed) {
                                t.down_errors += 1;
                            } else {
                                t.retries += 1;
                            }
                            if Instant::now() > give_up {
                                t.unacked += 1;
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                    }
                } else {
                    let q = &queries[(c * 7919 + n) % queries.len()];
                    let t1 = Instant::now();
                    let mut ok = false;
                    // A connection error is retried once: after a restart the client's pool
                    // may hand out a connection the old server closed.
                    for attempt in 0..2 {
                        let r = http
                            .get(format!("{base}/api/search"))
                            .query(&[("q", q.as_str()), ("limit", "10")])
                            .send()
                            .await;
                        match r {
                            Ok(resp) => {
                                let status = resp.status();
                                ok = status.is_success() && resp.bytes().await.is_ok();
                                if !ok && !down.load(Ordering::Relaxed) {
                                    eprintln!("soak: search answered {status}");
                                }
                                break;
                            }
                            Err(e) => {
                                if attempt == 1 && !down.load(Ordering::Relaxed) {
                                    eprintln!("soak: search failed: {e}");
                                }
                                t.retries +=
                                    u64::from(attempt == 0 && !down.load(Ordering::Relaxed));
                            }
                        }
                    }
                    if ok {
                        t.search_ms.push(t1.elapsed().as_secs_f64() * 1e3);
                        searches.fetch_add(1, Ordering::Relaxed);
                    } else if down.load(Ordering::Relaxed) {
                        t.down_errors += 1;
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    } else {
                        t.errors += 1;
                    }
                }
            }
            t
        }));
    }

    // The events, in order.
    let at = |f: f64| started + duration.mul_f64(f);
    let mut event_errors = 0u64;
    tokio::time::sleep_until(at(0.3).into()).await;
    {
        let t1 = Instant::now();
        let out = Command::new(&bin)
            .arg("--data-dir")
            .arg(&data)
            .args(["index", "--rebuild"])
            .output()?;
        let ok = out.status.success();
        event_errors += u64::from(!ok);
        println!(
            "soak: +{:.0} s rebuild handed to the server: {} in {:.1} s{}",
            started.elapsed().as_secs_f64(),
            if ok { "done" } else { "FAILED" },
            t1.elapsed().as_secs_f64(),
            if ok {
                String::new()
            } else {
                format!(": {}", String::from_utf8_lossy(&out.stderr).trim())
            }
        );
    }
    tokio::time::sleep_until(at(0.5).into()).await;
    {
        let t1 = Instant::now();
        let out = Command::new(&bin)
            .arg("--data-dir")
            .arg(&data)
            .args(["crawl", "--seed", &site_url, "--delay-ms", "20"])
            .output()?;
        let ok = out.status.success();
        event_errors += u64::from(!ok);
        println!(
            "soak: +{:.0} s crawl of {site_url}: {} in {:.1} s: {}",
            started.elapsed().as_secs_f64(),
            if ok { "done" } else { "FAILED" },
            t1.elapsed().as_secs_f64(),
            String::from_utf8_lossy(if ok { &out.stdout } else { &out.stderr })
                .lines()
                .last()
                .unwrap_or("")
        );
    }
    if mode != "none" {
        tokio::time::sleep_until(at(0.7).into()).await;
        let t1 = Instant::now();
        down.store(true, Ordering::Relaxed);
        let status = {
            let mut s = server.lock().unwrap();
            signal(&s, if mode == "kill9" { "-KILL" } else { "-TERM" })?;
            s.wait()?
        };
        let stopped = t1.elapsed().as_secs_f64();
        if mode == "sigterm" && !status.success() {
            event_errors += 1;
        }
        let fresh = start_server(&bin, &data, port)?;
        *server.lock().unwrap() = fresh;
        down.store(false, Ordering::Relaxed);
        println!(
            "soak: +{:.0} s {mode}: stopped in {stopped:.2} s ({status}), restarted in {:.1} s",
            started.elapsed().as_secs_f64(),
            t1.elapsed().as_secs_f64() - stopped
        );
    }

    let mut all = Tally::default();
    for t in tasks {
        let t = t.await?;
        all.search_ms.extend(t.search_ms);
        all.inquiry_ms.extend(t.inquiry_ms);
        all.errors += t.errors;
        all.down_errors += t.down_errors;
        all.retries += t.retries;
        all.acked.extend(t.acked);
        all.keys_sent += t.keys_sent;
        all.unacked += t.unacked;
    }
    let secs = started.elapsed().as_secs_f64();
    let status = {
        let mut s = server.lock().unwrap();
        signal(&s, "-TERM")?;
        s.wait()?
    };
    event_errors += u64::from(!status.success());

    // Every acknowledged inquiry is in the database, and no key counted twice.
    let db = rusqlite::Connection::open(data.join("kotae.db"))?;
    let mut stmt = db.prepare("SELECT id FROM inquiries WHERE category = 'soak'")?;
    let rows: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let stored: HashSet<&str> = rows.iter().map(String::as_str).collect();
    let lost = all
        .acked
        .iter()
        .filter(|id| !stored.contains(id.as_str()))
        .count();
    let distinct_acked: HashSet<&str> = all.acked.iter().map(String::as_str).collect();
    let duplicates = (rows.len() as u64).saturating_sub(all.keys_sent)
        + (all.acked.len() - distinct_acked.len()) as u64;
    let (n_search, n_inq) = (all.search_ms.len(), all.inquiry_ms.len());
    println!(
        "soak: mode {mode}, {clients} clients, {secs:.0} s: searches {n_search} ({:.0}/s) p50 {:.1} p99 {:.1} ms; \
         inquiries acknowledged {n_inq} of {} keys (p50 {:.1} p99 {:.1} ms, incl. retries), {} retried attempts (connection errors and 5xx while the server was up); \
         errors {} (+{} connection errors while the server was down, {} event failures); \
         rows stored {}, acknowledged lost {lost}, duplicates {duplicates}, unacknowledged at the end {}; \
         final SIGTERM {status}",
        n_search as f64 / secs,
        pct(&mut all.search_ms, 0.5),
        pct(&mut all.search_ms, 0.99),
        all.keys_sent,
        pct(&mut all.inquiry_ms, 0.5),
        pct(&mut all.inquiry_ms, 0.99),
        all.retries,
        all.errors,
        all.down_errors,
        event_errors,
        rows.len(),
        all.unacked,
    );
    let _ = searches;
    anyhow::ensure!(
        all.errors == 0 && event_errors == 0 && lost == 0 && duplicates == 0 && all.unacked == 0,
        "the soak failed"
    );
    Ok(())
}
