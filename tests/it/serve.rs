//! `kotae serve`'s connection handling (issue 11 §3): header-read and keep-alive timeouts,
//! the connection cap, graceful shutdown bounded in time (in process, over
//! `http::serve::serve_connections`), and SIGTERM / SIGHUP on the real binary.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::{get, post};
use kotae::http::serve::{Limits, serve_connections};

/// Starts `serve_connections` over a small router on a fresh port; returns the address,
/// the stop trigger and the task (its output: whether every connection finished in time).
fn start(
    rt: &tokio::runtime::Runtime,
    limits: Limits,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<bool>,
) {
    let app = Router::new()
        .route("/ok", get(|| async { "ok" }))
        .route("/echo", post(|body: String| async move { body }))
        .route("/hang", get(std::future::pending::<&'static str>));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (addr, task) = rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let task = tokio::spawn(serve_connections(l, app, limits, async {
            let _ = rx.await;
        }));
        (addr, task)
    });
    (addr, tx, task)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn connect(addr: std::net::SocketAddr, read_timeout: Duration) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(read_timeout)).unwrap();
    s
}

/// Reads one response (head and a Content-Length body); `None` on EOF or timeout.
fn read_response(r: &mut BufReader<TcpStream>) -> Option<(u16, String)> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let status = line.split(' ').nth(1)?.parse().ok()?;
    let mut len = 0;
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        if h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Waits for the server to close `s`: true on EOF or reset, false if it stays open
/// for the socket's read timeout.
fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // e.g. a 408 before the close
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn slow_heads_and_idle_keep_alive_connections_are_closed() {
    let rt = runtime();
    let limits = Limits {
        header_read_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let (addr, _stop, _task) = start(&rt, limits);
    // An unfinished request head.
    let mut slow = connect(addr, Duration::from_secs(20));
    slow.write_all(b"GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .unwrap();
    // A keep-alive connection left idle after one answered request.
    let idle = connect(addr, Duration::from_secs(20));
    let mut idle_r = BufReader::new(idle.try_clone().unwrap());
    (&idle)
        .write_all(b"GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut idle_r), Some((200, "ok".into())));
    assert!(closed_by_server(&mut slow), "slow head kept open");
    assert!(
        closed_by_server(idle_r.get_mut()),
        "idle keep-alive connection kept open"
    );
}

#[test]
fn the_connection_cap_holds_further_connections_back() {
    let rt = runtime();
    let limits = Limits {
        max_connections: 2,
        header_read_timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    let (addr, _stop, _task) = start(&rt, limits);
    let first = connect(addr, Duration::from_secs(20));
    let second = connect(addr, Duration::from_secs(20));
    for s in [&first, &second] {
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut w = s;
        w.write_all(b"GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .unwrap();
        assert_eq!(read_response(&mut r), Some((200, "ok".into())));
    }
    // Both places are taken (keep-alive): a third client is not served…
    let third = connect(addr, Duration::from_millis(500));
    (&third)
        .write_all(b"GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let mut r3 = BufReader::new(third.try_clone().unwrap());
    assert_eq!(read_response(&mut r3), None, "served beyond the cap");
    // …until one of the two leaves.
    drop(first);
    third
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut r3 = BufReader::new(third);
    assert_eq!(read_response(&mut r3), Some((200, "ok".into())));
}

#[test]
fn shutdown_finishes_requests_in_flight_and_is_bounded() {
    let rt = runtime();
    let limits = Limits {
        shutdown_timeout: Duration::from_secs(2),
        header_read_timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    let (addr, stop, task) = start(&rt, limits);
    // An idle connection, a request whose body is half sent, a request that never ends.
    let _idle = connect(addr, Duration::from_secs(20));
    let in_flight = connect(addr, Duration::from_secs(20));
    (&in_flight)
        .write_all(
            b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\
              Expect: 100-continue\r\n\r\n",
        )
        .unwrap();
    let mut r = BufReader::new(in_flight.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 100"), "{line}");
    r.read_line(&mut line).unwrap();
    let hang = connect(addr, Duration::from_secs(20));
    (&hang)
        .write_all(b"GET /hang HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let t0 = Instant::now();
    stop.send(()).unwrap();
    // The request in flight is still answered after the stop…
    (&in_flight).write_all(b"0123456789").unwrap();
    assert_eq!(read_response(&mut r), Some((200, "0123456789".into())));
    // …new connections are not…
    assert!(
        TcpStream::connect(addr).is_err() || rt.block_on(async { !task.is_finished() }),
        "still accepting"
    );
    // …and the never-ending request does not hold the server beyond the timeout.
    let all_finished = rt.block_on(task).unwrap();
    let took = t0.elapsed();
    assert!(!all_finished, "the hanging request cannot have finished");
    assert!(took >= Duration::from_secs(2), "{took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

// ---------------------------------------------------------------------------------------
// The real binary: SIGTERM and SIGHUP.

struct Server {
    child: std::process::Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `kotae serve --addr 127.0.0.1:0` and reads the bound port from its start-up line.
fn start_binary(data_dir: &std::path::Path, tokens: Option<&str>) -> Server {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kotae"));
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env_remove("KOTAE_CONFIG")
        .env("KOTAE_LOG", "warn")
        .stdout(std::process::Stdio::piped());
    match tokens {
        Some(t) => cmd.env("KOTAE_TOKENS", t),
        None => cmd.env_remove("KOTAE_TOKENS"),
    };
    let mut child = cmd.spawn().unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("on http://127.0.0.1:").nth(1) {
                let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let _ = tx.send(port.parse::<u16>().unwrap());
            }
        }
    });
    let port = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the server did not start");
    Server { child, port }
}

fn signal(server: &Server, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &server.child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

fn request(port: u16, head: &str, body: &str) -> Option<(u16, String)> {
    request_to(port, "127.0.0.1", head, body)
}

/// As [`request`] with `Host: host`.
fn request_to(port: u16, host: &str, head: &str, body: &str) -> Option<(u16, String)> {
    let s = connect(
        std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(30),
    );
    (&s).write_all(
        format!(
            "{head}\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .ok()?;
    read_response(&mut BufReader::new(s))
}

fn wait_exit(server: &mut Server, limit: Duration) -> Option<std::process::ExitStatus> {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if let Some(st) = server.child.try_wait().unwrap() {
            return Some(st);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn sigterm_finishes_requests_logs_every_answered_search_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kotae.toml"),
        "[http]\nshutdown_timeout_secs = 3\n",
    )
    .unwrap();
    let mut server = start_binary(dir.path(), None);
    let port = server.port;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut answered = 0;
    for i in 0..30 {
        let (s, b) = request(port, &format!("GET /api/search?q=国保{i} HTTP/1.1"), "").unwrap();
        assert_eq!(s, 200, "{b}");
        answered += 1;
    }
    // Held open: an idle connection, an unfinished request head, an inquiry whose body
    // has not been sent yet (its handler is reading: the server sent 100 Continue).
    let _idle = connect(addr, Duration::from_secs(30));
    let slow = connect(addr, Duration::from_secs(30));
    (&slow).write_all(b"GET /healthz HTTP/1.1\r\nHo").unwrap();
    let body =
        r#"{"channel":"phone","outcome":"koucho","received_at":"2026-04-01T09:00:00+09:00"}"#;
    let inquiry = connect(addr, Duration::from_secs(30));
    (&inquiry)
        .write_all(
            format!(
                "POST /api/inquiries HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .unwrap();
    let mut r = BufReader::new(inquiry.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 100"), "{line}");
    r.read_line(&mut line).unwrap();

    signal(&server, "-TERM");
    std::thread::sleep(Duration::from_millis(300));
    (&inquiry).write_all(body.as_bytes()).unwrap();
    let (s, b) = read_response(&mut r).expect("the inquiry in flight was not answered");
    assert_eq!(s, 201, "{b}");
    let status = wait_exit(&mut server, Duration::from_secs(20)).expect("no exit after SIGTERM");
    assert!(status.success(), "{status}");

    // Every answered search is in the search log; the WAL was checkpointed away.
    let wal = dir.path().join("kotae.db-wal");
    assert!(
        std::fs::metadata(&wal).map_or(true, |m| m.len() == 0),
        "WAL left at rest"
    );
    let store = kotae::stats::Store::open_path(&dir.path().join("kotae.db")).unwrap();
    assert_eq!(store.count_searches().unwrap(), answered);
    assert_eq!(store.count_inquiries().unwrap(), 1);
}

#[test]
fn sighup_reloads_the_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kotae.toml");
    let entry = |t: &str| format!("[[auth.tokens]]\nrole = \"operator\"\ntoken = \"{t}\"\n");
    std::fs::write(&config, entry("old-token-0123456789")).unwrap();
    let server = start_binary(dir.path(), None);
    let get = |token: &str| {
        request(
            server.port,
            &format!("GET /api/search?q=国保 HTTP/1.1\r\nAuthorization: Bearer {token}"),
            "",
        )
        .unwrap()
        .0
    };
    assert_eq!(get("old-token-0123456789"), 200);
    assert_eq!(get("new-token-0123456789"), 401);
    std::fs::write(&config, entry("new-token-0123456789")).unwrap();
    signal(&server, "-HUP");
    // The reload runs in the background: wait for it (bounded).
    let t0 = Instant::now();
    while get("new-token-0123456789") != 200 {
        assert!(t0.elapsed() < Duration::from_secs(30), "not reloaded");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(get("old-token-0123456789"), 401);
    // A file that does not parse leaves the tokens in force, and the server running.
    std::fs::write(&config, "[[auth.tokens]\n").unwrap();
    signal(&server, "-HUP");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(get("new-token-0123456789"), 200);
}

#[test]
fn sighup_reloads_categories_tokens_hosts_and_the_user_dictionary_while_serving() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kotae.toml");
    // The dictionary watcher is off, so only SIGHUP can pick up the user dictionary.
    let write_config = |categories: &str, operator: &str, hosts: &str| {
        std::fs::write(
            &config,
            format!(
                "watch_dictionaries = false\n[stats]\ncategories = [{categories}]\n\
                 [http]\nallowed_hosts = [{hosts}]\n\
                 [[auth.tokens]]\nrole = \"operator\"\ntoken = \"{operator}\"\n\
                 [[auth.tokens]]\nrole = \"manager\"\ntoken = \"manager-token-0123456789\"\n"
            ),
        )
        .unwrap();
    };
    write_config("\"国保\"", "old-token-0123456789", "");
    let server = start_binary(dir.path(), None);
    let port = server.port;
    let inquiry = |token: &str, category: &str| {
        let body = format!(r#"{{"channel":"phone","outcome":"koucho","category":"{category}"}}"#);
        request(
            port,
            &format!(
                "POST /api/inquiries HTTP/1.1\r\nAuthorization: Bearer {token}\r\n\
                 Content-Type: application/json"
            ),
            &body,
        )
        .unwrap()
    };
    let search_from = |host: &str| {
        request_to(
            port,
            host,
            "GET /api/search?q=国保 HTTP/1.1\r\nAuthorization: Bearer manager-token-0123456789",
            "",
        )
        .unwrap()
        .0
    };
    let status = || -> serde_json::Value {
        let (s, b) = request(
            port,
            "GET /api/status HTTP/1.1\r\nAuthorization: Bearer manager-token-0123456789",
            "",
        )
        .unwrap();
        assert_eq!(s, 200, "{b}");
        serde_json::from_str(&b).unwrap()
    };
    assert_eq!(inquiry("old-token-0123456789", "国保").0, 201);
    let (s, b) = inquiry("old-token-0123456789", "ごみ");
    assert_eq!(s, 400, "{b}");
    assert!(b.contains("unknown_category"), "{b}");
    assert_eq!(inquiry("new-token-0123456789", "国保").0, 401);
    assert_eq!(search_from("kotae.example.lg.jp"), 200);
    assert_eq!(
        search_from("rebind.example.com"),
        200,
        "any name with tokens, no list"
    );
    assert!(status()["rebuild"].is_null());

    // Searches keep being answered through the reload and the user dictionary's rebuild.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let searcher = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let (mut ok, mut failed) = (0, 0);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                match request(
                    port,
                    "GET /api/search?q=国保 HTTP/1.1\r\nAuthorization: Bearer manager-token-0123456789",
                    "",
                ) {
                    Some((200, _)) => ok += 1,
                    _ => failed += 1,
                }
            }
            (ok, failed)
        })
    };
    write_config(
        "\"国保\", \"ごみ\"",
        "new-token-0123456789",
        "\"kotae.example.lg.jp\"",
    );
    std::fs::create_dir_all(dir.path().join("dictionaries")).unwrap();
    std::fs::write(
        dir.path().join("dictionaries/user_dict.csv"),
        "ミソサザイ制度,名詞,ミソサザイセイド\n",
    )
    .unwrap();
    signal(&server, "-HUP");
    let t0 = Instant::now();
    while inquiry("new-token-0123456789", "国保").0 != 201 {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "tokens not reloaded"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(inquiry("old-token-0123456789", "国保").0, 401);
    assert_eq!(
        inquiry("new-token-0123456789", "ごみ").0,
        201,
        "new category"
    );
    assert_eq!(search_from("kotae.example.lg.jp"), 200);
    assert_eq!(search_from("rebind.example.com"), 403, "host allowlist");
    // The changed user dictionary started a rebuild, which finishes and is swapped in.
    let rebuild = loop {
        let r = status()["rebuild"].clone();
        if r["status"] == "done" || r["status"] == "failed" {
            break r;
        }
        assert!(t0.elapsed() < Duration::from_secs(120), "no rebuild: {r}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(rebuild["reason"], "user_dict", "{rebuild}");
    assert_eq!(rebuild["status"], "done", "{rebuild}");
    assert_eq!(status()["index"]["generation"], rebuild["generation"]);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (ok, failed) = searcher.join().unwrap();
    assert!(ok > 0);
    assert_eq!(
        failed, 0,
        "searches failed during the reload ({ok} answered)"
    );
}
