//! `kotae backup` while the server takes inquiries, and `kotae restore` (issue 11, section 5).

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common;

fn http(port: u16, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split(' ').nth(1)?.parse().ok()?;
    let body = out.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn kotae(data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kotae"));
    c.arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("KOTAE_TOKENS")
        .env_remove("KOTAE_CONFIG")
        .env("KOTAE_LOG", "warn");
    c
}

fn run(data: &Path, args: &[&str]) -> Output {
    kotae(data, args).output().unwrap()
}

fn start_server(data: &Path) -> (Server, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = kotae(data, &["serve", "--addr", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    for _ in 0..600 {
        if http(port, "GET", "/healthz", "").is_some_and(|(s, _)| s == 200) {
            return (server, port);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the server did not start");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn a_backup_taken_under_writes_restores_every_inquiry_acknowledged_before_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    copy_dir(&common::repo().join("corpus"), &data.join("corpus"));
    std::fs::write(data.join("kotae.toml"), "search_queue = 64\n").unwrap();
    let (server, port) = start_server(&data);

    // Four writers post inquiries until told to stop (bounded: at most 400 each).
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let (acked, stop) = (acked.clone(), stop.clone());
            std::thread::spawn(move || {
                for i in 0..400 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let body = json!({
                        "channel": "phone", "outcome": "koucho",
                        "summary": format!("バックアップ中の問い合わせ {t}-{i}"),
                    })
                    .to_string();
                    if let Some((201, b)) = http(port, "POST", "/api/inquiries", &body) {
                        let v: Value = serde_json::from_str(&b).unwrap();
                        acked
                            .lock()
                            .unwrap()
                            .push(v["id"].as_str().unwrap().to_string());
                    }
                }
            })
        })
        .collect();
    // Wait for writes to be under way (bounded).
    for _ in 0..600 {
        if acked.lock().unwrap().len() >= 40 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let before: Vec<String> = acked.lock().unwrap().clone();
    assert!(before.len() >= 40, "the writers did not get going");

    let dest = tmp.path().join("backup");
    let out = run(&data, &["backup", dest.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "backup failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let total = acked.lock().unwrap().len();
    drop(server);
    assert!(dest.join("kotae-backup.json").is_file());
    assert!(
        !dest.join("index").exists(),
        "the index is derived, not copied"
    );

    // A backup is never written over.
    let again = run(&data, &["backup", dest.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

    // Restore into a new directory: every inquiry acknowledged before the backup began.
    let restored = tmp.path().join("restored");
    let out = run(&restored, &["restore", dest.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "restore failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = kotae::stats::Store::open_path(&restored.join("kotae.db")).unwrap();
    for id in &before {
        let inq = store
            .inquiry(id)
            .unwrap_or_else(|e| panic!("inquiry {id} acknowledged before the backup is lost: {e}"));
        assert!(
            inq.summary
                .as_deref()
                .unwrap_or("")
                .contains("バックアップ中")
        );
    }
    let n = store.count_inquiries().unwrap() as usize;
    eprintln!(
        "acknowledged: {} before the backup, {total} in all; restored: {n}",
        before.len()
    );
    assert!(n >= before.len() && n <= total, "{n} of {total}");
    drop(store);
    assert_eq!(
        std::fs::read(restored.join("corpus/default/faq.jsonl")).unwrap(),
        std::fs::read(data.join("corpus/default/faq.jsonl")).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(restored.join("kotae.toml")).unwrap(),
        "search_queue = 64\n"
    );

    // The restored directory serves (the index is rebuilt) and answers searches.
    let out = run(&restored, &["search", "国保", "--json", "--limit", "1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["total"].as_u64().unwrap() >= 1);

    // A non-empty target is refused without --force, replaced with it.
    let out = run(&restored, &["restore", dest.to_str().unwrap()]);
    assert!(!out.status.success());
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        msg.contains("not empty") && msg.contains("--force"),
        "{msg}"
    );
    let out = run(&restored, &["restore", "--force", dest.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !restored.join("index").exists(),
        "--force removes the stale index"
    );

    // Not a backup, or an incomplete one: clear errors, nothing written.
    let empty_target = tmp.path().join("t2");
    let out = run(&empty_target, &["restore", data.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a kotae backup"));
    std::fs::remove_file(dest.join("corpus/default/faq.jsonl")).unwrap();
    let out = run(&empty_target, &["restore", dest.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("incomplete"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!empty_target.join("kotae.db").exists());
}
