//! The running server's control file, and the client the CLI's write commands use to hand
//! their work to it.
//!
//! `kotae serve` writes `DATA_DIR/kotae-serve.json` (mode 0600) once it listens:
//! `{"pid": 4242, "addr": "127.0.0.1:7700", "token": "…"}`. `addr` is a loopback address
//! of the listener; `token` is a random per-run admin token the server accepts when API
//! tokens are configured (whoever can read the data directory can change it anyway). The
//! file is removed when the server stops; a file whose process is gone or that does not
//! answer is ignored.
//!
//! The index has one writer, the server's engine ([`crate::engine`]). While a server runs,
//! `kotae import` and `kotae crawl` write the corpus (under the corpus lock, see
//! [`crate::corpus`]) and then ask the server to bring its index in line
//! (`POST /api/admin/sync`), which returns once the change is committed and searchable;
//! `kotae index --rebuild` asks for `POST /api/admin/reindex` and follows the job;
//! `kotae search` opens the index read-only ([`crate::engine::Engine::open_read_only`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Name of the control file in the data directory.
pub const SERVE_FILE: &str = "kotae-serve.json";

/// The content of the control file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServeInfo {
    /// The server's process id.
    pub pid: u32,
    /// A loopback `HOST:PORT` the server listens on.
    pub addr: String,
    /// The per-run admin token.
    pub token: String,
}

/// Returns a new random per-run token (two v4 UUIDs, 244 random bits).
pub fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Removes the control file when dropped (if it still names this process).
#[derive(Debug)]
pub struct ServeFileGuard(PathBuf);

impl Drop for ServeFileGuard {
    fn drop(&mut self) {
        let ours = std::fs::read_to_string(&self.0)
            .ok()
            .and_then(|s| serde_json::from_str::<ServeInfo>(&s).ok())
            .is_some_and(|i| i.pid == std::process::id());
        if ours {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// Writes the control file for a server listening on `local` with `token` (atomically,
/// mode 0600 on Unix).
///
/// # Errors
/// The file cannot be written.
pub fn publish(
    data_dir: &Path,
    local: std::net::SocketAddr,
    token: &str,
) -> std::io::Result<ServeFileGuard> {
    use std::io::Write;
    let ip = match local.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".parse().expect("ip literal"),
        ip if ip.is_unspecified() => "::1".parse().expect("ip literal"),
        ip => ip,
    };
    let info = ServeInfo {
        pid: std::process::id(),
        addr: std::net::SocketAddr::new(ip, local.port()).to_string(),
        token: token.to_string(),
    };
    let path = data_dir.join(SERVE_FILE);
    let tmp = data_dir.join(format!("{SERVE_FILE}.tmp"));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp)?;
    f.write_all(serde_json::to_string(&info)?.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(ServeFileGuard(path))
}

/// Reads the control file; `None` when absent, unreadable, or its process is gone.
pub fn read(data_dir: &Path) -> Option<ServeInfo> {
    let s = std::fs::read_to_string(data_dir.join(SERVE_FILE)).ok()?;
    let info: ServeInfo = serde_json::from_str(&s).ok()?;
    process_alive(info.pid).then_some(info)
}

/// Whether process `pid` exists (on Linux, `/proc/<pid>`; elsewhere assumed alive, the
/// `/healthz` probe decides).
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// A running server found through its control file.
#[derive(Debug, Clone)]
pub struct Server {
    /// What the control file says.
    pub info: ServeInfo,
    client: reqwest::Client,
}

/// Errors talking to the server.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The request failed (connection, timeout, body).
    #[error("the kotae server at {addr} did not answer: {message}")]
    Unreachable {
        /// The server's address.
        addr: String,
        /// What failed.
        message: String,
    },
    /// The server answered with an error.
    #[error("the kotae server at {addr} answered {status}: {body}")]
    Refused {
        /// The server's address.
        addr: String,
        /// HTTP status.
        status: u16,
        /// The JSON error body.
        body: String,
    },
}

impl Server {
    /// Finds the server running on `data_dir`: the control file names a live process that
    /// answers `GET /healthz` within 2 s. `None` otherwise.
    pub async fn find(data_dir: &Path) -> Option<Self> {
        let info = read(data_dir)?;
        let client = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(2))
            .build()
            .ok()?;
        let s = Self { info, client };
        let ok = s
            .client
            .get(s.url("/healthz"))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        ok.then_some(s)
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.info.addr)
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<serde_json::Value, ControlError> {
        let addr = self.info.addr.clone();
        let unreachable = |e: reqwest::Error| ControlError::Unreachable {
            addr: addr.clone(),
            message: e.to_string(),
        };
        let resp = req
            .bearer_auth(&self.info.token)
            .send()
            .await
            .map_err(unreachable)?;
        let status = resp.status();
        let body = resp.text().await.map_err(unreachable)?;
        if !status.is_success() {
            return Err(ControlError::Refused {
                addr,
                status: status.as_u16(),
                body,
            });
        }
        serde_json::from_str(&body).map_err(|e| ControlError::Unreachable {
            addr,
            message: format!("bad JSON answer: {e}"),
        })
    }

    /// `POST path` with a JSON body `{}`; returns the JSON answer.
    ///
    /// # Errors
    /// [`ControlError`].
    pub async fn post(&self, path: &str) -> Result<serde_json::Value, ControlError> {
        let req = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body("{}");
        self.send(req).await
    }

    /// `GET path`; returns the JSON answer.
    ///
    /// # Errors
    /// [`ControlError`].
    pub async fn get(&self, path: &str) -> Result<serde_json::Value, ControlError> {
        self.send(self.client.get(self.url(path))).await
    }
}
