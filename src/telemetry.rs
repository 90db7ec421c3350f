//! Logs and Prometheus metrics.
//!
//! **Logs** go to stderr through `tracing`: text (ANSI colours only when stderr is a
//! terminal) or one JSON object a line (`[log] format = "json"`), each stamped with the local
//! time and its UTC offset (`2026-12-02T09:41:07.123+09:00`). `KOTAE_LOG` sets the filter
//! (`info` by default, `tracing_subscriber::EnvFilter` syntax). The HTTP server writes one
//! access line per request at info (target `kotae::access`: method, the matched route
//! template such as `/api/escalations/{id}`, status, milliseconds), never the raw path or
//! query string, which can hold a caller's words (`[log] access = false` turns it off).
//!
//! **Metrics** ([`Metrics`]) are a `prometheus` registry per server, exposed by
//! `GET /metrics` ([`crate::http::metrics_prom`]) in the text exposition format
//! (<https://prometheus.io/docs/instrumenting/exposition_formats/>):
//!
//! | name | type | labels | what |
//! |---|---|---|---|
//! | `kotae_http_requests_total` | counter | `method`, `route`, `status` | requests answered |
//! | `kotae_http_request_duration_seconds` | histogram | `method`, `route` | time to the response head |
//! | `kotae_searches_total` | counter | | searches run (API and pages) |
//! | `kotae_search_log_records_total` | counter | `outcome` = `written`, `dropped`, `failed` | search-log records |
//! | `kotae_search_log_lost_records` | gauge | `outcome` = `dropped`, `failed`; `period` = `today` (JST), `all` | search-log records lost, from the database (survive restarts) |
//! | `kotae_materials` | gauge | | materials in the corpus |
//! | `kotae_index_documents` | gauge | | documents in the index |
//! | `kotae_index_segments` | gauge | | index segments searched |
//! | `kotae_jobs` | gauge | `status` = `queued`, `running`, `done`, `failed` | webhook jobs (queue depth: `queued` + `running`) |
//! | `kotae_escalations` | gauge | `status` = `open`, `answered`, `closed` | escalations |
//!
//! `route` is the route template, `unmatched` for a path no route has (so a scan cannot blow
//! up the label set).

use std::io::IsTerminal;
use std::sync::Mutex;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use serde::Deserialize;

/// Log line format (`[log] format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object a line (`timestamp`, `level`, `target`, `fields`).
    Json,
}

/// `[log]`: log settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `"text"` (default) or `"json"`.
    #[serde(default)]
    pub format: LogFormat,
    /// One access line per HTTP request at info (default true).
    #[serde(default)]
    pub access: Option<bool>,
}

impl LogConfig {
    /// Whether the access lines are on (default true).
    pub fn access_enabled(&self) -> bool {
        self.access.unwrap_or(true)
    }
}

/// Local time with its UTC offset, millisecond precision (RFC 3339).
struct LocalTime;

impl tracing_subscriber::fmt::time::FormatTime for LocalTime {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        write!(
            w,
            "{}",
            chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
        )
    }
}

/// Installs the global log subscriber (stderr; see the module docs). Call once, before
/// anything logs; a second call is ignored.
pub fn init_logging(cfg: &LogConfig) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("KOTAE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_timer(LocalTime)
        .with_ansi(ansi);
    let _ = match cfg.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Upper bounds (seconds) of the request-latency histogram buckets: a search answers in
/// about a millisecond, a rebuild-triggering write in seconds.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0,
];

/// The server's Prometheus metrics (see the module docs for the names).
pub struct Metrics {
    registry: Registry,
    /// `kotae_http_requests_total{method,route,status}`.
    pub requests: IntCounterVec,
    /// `kotae_http_request_duration_seconds{method,route}`.
    pub latency: HistogramVec,
    /// `kotae_searches_total`.
    pub searches: IntCounter,
    /// `kotae_search_log_records_total{outcome}` (brought up to the logger's own counters
    /// at each scrape).
    pub search_log: IntCounterVec,
    /// `kotae_search_log_lost_records{outcome, period}`.
    pub search_log_lost: IntGaugeVec,
    /// `kotae_materials`.
    pub materials: IntGauge,
    /// `kotae_index_documents`.
    pub index_documents: IntGauge,
    /// `kotae_index_segments`.
    pub index_segments: IntGauge,
    /// `kotae_jobs{status}`.
    pub jobs: IntGaugeVec,
    /// `kotae_escalations{status}`.
    pub escalations: IntGaugeVec,
    /// Whether the HTTP layer writes access lines.
    pub access_log: bool,
    /// Serialises the scrape-time refresh of the counters copied from elsewhere.
    refresh: Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(true)
    }
}

impl Metrics {
    /// A fresh registry with every metric registered; `access_log`: write access lines.
    pub fn new(access_log: bool) -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("kotae_http_requests_total", "HTTP requests answered"),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "kotae_http_request_duration_seconds",
                "Time from the request to its response head, in seconds",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["method", "route"],
        )
        .expect("valid metric");
        let searches =
            IntCounter::new("kotae_searches_total", "Searches run").expect("valid metric");
        let search_log = IntCounterVec::new(
            Opts::new(
                "kotae_search_log_records_total",
                "Search-log records by outcome (written, dropped when the queue was full, failed to write)",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        let search_log_lost = IntGaugeVec::new(
            Opts::new(
                "kotae_search_log_lost_records",
                "Search-log records lost (dropped: queue full; failed: database error), today (JST) and in all, as stored in the database",
            ),
            &["outcome", "period"],
        )
        .expect("valid metric");
        let materials =
            IntGauge::new("kotae_materials", "Materials in the corpus").expect("valid metric");
        let index_documents =
            IntGauge::new("kotae_index_documents", "Documents in the index").expect("valid metric");
        let index_segments =
            IntGauge::new("kotae_index_segments", "Index segments searched").expect("valid metric");
        let jobs = IntGaugeVec::new(
            Opts::new("kotae_jobs", "Webhook jobs by status"),
            &["status"],
        )
        .expect("valid metric");
        let escalations = IntGaugeVec::new(
            Opts::new("kotae_escalations", "Escalations by status"),
            &["status"],
        )
        .expect("valid metric");
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(searches.clone()),
            Box::new(search_log.clone()),
            Box::new(search_log_lost.clone()),
            Box::new(materials.clone()),
            Box::new(index_documents.clone()),
            Box::new(index_segments.clone()),
            Box::new(jobs.clone()),
            Box::new(escalations.clone()),
        ] {
            registry.register(c).expect("metric names are unique");
        }
        Self {
            registry,
            requests,
            latency,
            searches,
            search_log,
            search_log_lost,
            materials,
            index_documents,
            index_segments,
            jobs,
            escalations,
            access_log,
            refresh: Mutex::new(()),
        }
    }

    /// Records one answered request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        self.requests
            .with_label_values(&[method, route, &status])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// Brings `kotae_search_log_records_total` up to the logger's counts (written, dropped,
    /// failed), which only grow.
    pub fn set_search_log(&self, written: u64, dropped: u64, failed: u64) {
        let _guard = self.refresh.lock().unwrap_or_else(|e| e.into_inner());
        for (outcome, now) in [
            ("written", written),
            ("dropped", dropped),
            ("failed", failed),
        ] {
            let c = self.search_log.with_label_values(&[outcome]);
            let seen = c.get();
            if now > seen {
                c.inc_by(now - seen);
            }
        }
    }

    /// The registry in the text exposition format (`text/plain; version=0.0.4`).
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for the text format.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// `Content-Type` of [`Metrics::render`].
pub const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_log_counters_follow_the_logger_and_never_go_down() {
        let m = Metrics::new(false);
        m.set_search_log(5, 2, 0);
        m.set_search_log(7, 2, 1);
        m.set_search_log(6, 2, 1); // a smaller reading never lowers a counter
        let text = m.render();
        assert!(text.contains("kotae_search_log_records_total{outcome=\"written\"} 7"));
        assert!(text.contains("kotae_search_log_records_total{outcome=\"dropped\"} 2"));
        assert!(text.contains("kotae_search_log_records_total{outcome=\"failed\"} 1"));
    }

    #[test]
    fn requests_are_counted_by_route_and_status() {
        let m = Metrics::new(false);
        m.observe_request("GET", "/api/search", 200, 0.0012);
        m.observe_request("GET", "/api/search", 200, 0.003);
        m.observe_request("GET", "/api/search", 400, 0.0001);
        let text = m.render();
        assert!(text.contains(
            "kotae_http_requests_total{method=\"GET\",route=\"/api/search\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "kotae_http_requests_total{method=\"GET\",route=\"/api/search\",status=\"400\"} 1"
        ));
        // Cumulative buckets: 1 request at or under 1 ms, all 3 at or under 5 ms.
        assert!(text.contains(
            "kotae_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/search\",le=\"0.001\"} 1"
        ));
        assert!(text.contains(
            "kotae_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/search\",le=\"0.005\"} 3"
        ));
    }
}
