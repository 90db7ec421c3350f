//! Search-log completeness under a sustained search rate (issue 11 §4: no drops at 500
//! searches/s for 10 minutes). Open loop: request `i` is due at `start + i / RATE`, and
//! CLIENTS keep-alive clients take the due requests in turn, so a slow answer does not lower
//! the offered rate. Before and after it reads `GET /api/metrics/search-log` and reports
//! the records the server logged and dropped meanwhile, the latency percentiles, the
//! achieved rate and the 1-minute load average (sampled each second; max and mean).
//!
//! ```text
//! cargo run --example search_log_rate -- BASE_URL QUERIES_JSON [RATE] [SECONDS] [CLIENTS]
//!   BASE_URL      e.g. http://127.0.0.1:7791 (no tokens: the demo mode, loopback only)
//!   QUERIES_JSON  {id: text}, e.g. ../shared/data/localgovfaq/queries.json
//!   RATE          searches per second offered (default 500)
//!   SECONDS       duration (default 600)
//!   CLIENTS       concurrent clients (default 32)
//! ```
//!
//! Exits non-zero when a search failed or a record was dropped.
//!
//! `BASE_URL` = `store:DIR` measures the writer alone, in process: records handed to a
//! [`kotae::stats::SearchLogger`] over `DIR/kotae.db` (synchronous = full, the default
//! queue) at RATE per second, each with ten result ids, as the server logs them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

async fn log_counts(client: &reqwest::Client, base: &str) -> anyhow::Result<(u64, u64, u64)> {
    let bytes = client
        .get(format!("{base}/api/metrics/search-log"))
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let v: serde_json::Value = serde_json::from_slice(&bytes)?;
    let n = |k: &str| v[k].as_u64().unwrap_or(0);
    Ok((
        n("logged"),
        n("dropped_since_start"),
        n("failed_since_start"),
    ))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(base), Some(queries)) = (args.get(1), args.get(2)) else {
        anyhow::bail!("usage: search_log_rate BASE_URL QUERIES_JSON [RATE] [SECONDS] [CLIENTS]");
    };
    let base = base.trim_end_matches('/').to_string();
    let rate: f64 = args.get(3).map_or(Ok(500.0), |a| a.parse())?;
    let seconds: f64 = args.get(4).map_or(Ok(600.0), |a| a.parse())?;
    let clients: usize = args.get(5).map_or(Ok(32), |a| a.parse())?;
    let queries: Arc<Vec<String>> = Arc::new(
        kotae::eval::read_queries(std::path::Path::new(queries))?
            .into_iter()
            .map(|(_, q)| q)
            .collect(),
    );
    if let Some(dir) = base.strip_prefix("store:") {
        return in_process(std::path::Path::new(dir), &queries, rate, seconds);
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(30))
        .build()?;
    let (logged0, dropped0, failed0) = log_counts(&client, &base).await?;
    let total = (rate * seconds) as u64;
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let loads = tokio::spawn({
        let done = done.clone();
        async move {
            let mut v = Vec::new();
            while !done.load(Ordering::Relaxed) {
                if let Some(l) = load_average() {
                    v.push(l);
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            v
        }
    });
    let started = tokio::time::Instant::now();
    let url = format!("{base}/api/search");
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let (client, url, queries, next) =
            (client.clone(), url.clone(), queries.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut errors, mut late) = (Vec::new(), 0u64, 0u64);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let due = started + Duration::from_secs_f64(i as f64 / rate);
                // A server slower than the rate: the run still ends at SECONDS, and what
                // was not sent is reported as the achieved rate.
                if tokio::time::Instant::now() > started + Duration::from_secs_f64(seconds) {
                    break;
                }
                if tokio::time::Instant::now() > due + Duration::from_millis(100) {
                    late += 1;
                }
                tokio::time::sleep_until(due).await;
                let q = &queries[(i as usize) % queries.len()];
                let t = Instant::now();
                let ok = match client
                    .get(&url)
                    .query(&[("q", q.as_str()), ("limit", "10")])
                    .send()
                    .await
                {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                lat.push(t.elapsed().as_secs_f64() * 1e3);
                errors += u64::from(!ok);
            }
            (lat, errors, late)
        }));
    }
    let (mut lat, mut errors, mut late) = (Vec::new(), 0, 0);
    for t in tasks {
        let (l, e, d) = t.await?;
        lat.extend(l);
        errors += e;
        late += d;
    }
    let secs = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let loads = loads.await?;
    // The writer commits every 50 ms: give it a moment before reading the counts.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (logged1, dropped1, failed1) = log_counts(&client, &base).await?;
    lat.sort_by(f64::total_cmp);
    let p = |x: f64| lat[((lat.len() as f64 * x) as usize).min(lat.len().saturating_sub(1))];
    let (load_max, load_mean) = (
        loads.iter().copied().fold(0.0, f64::max),
        loads.iter().sum::<f64>() / loads.len().max(1) as f64,
    );
    println!(
        "search_log_rate offered {rate:.0}/s for {seconds:.0} s, clients {clients}: sent {} in {secs:.1} s \
         ({:.0}/s; {late} sent over 100 ms late), errors {errors}, p50 {:.2} p99 {:.2} ms; \
         search log: logged {} dropped {} failed {}; load average (1 min) max {load_max:.2} mean {load_mean:.2}",
        lat.len(),
        lat.len() as f64 / secs,
        p(0.5),
        p(0.99),
        logged1 - logged0,
        dropped1 - dropped0,
        failed1 - failed0,
    );
    anyhow::ensure!(errors == 0, "{errors} searches failed");
    anyhow::ensure!(
        dropped1 == dropped0 && failed1 == failed0,
        "search-log records lost"
    );
    Ok(())
}

/// The writer alone (see the module documentation).
fn in_process(
    dir: &std::path::Path,
    queries: &[String],
    rate: f64,
    seconds: f64,
) -> anyhow::Result<()> {
    use kotae::stats::{SearchLogger, SearchRecord, Store};
    std::fs::create_dir_all(dir)?;
    let store = Arc::new(Store::open_path(&dir.join("kotae.db"))?);
    let before = store.count_searches()?;
    let logger = SearchLogger::start(
        store.clone(),
        kotae::stats::search_log::DEFAULT_QUEUE_CAPACITY,
    )?;
    let total = (rate * seconds) as u64;
    let mut lat = Vec::with_capacity(total as usize);
    let mut loads = Vec::new();
    let started = Instant::now();
    let mut next_load = Duration::ZERO;
    for i in 0..total {
        let due = Duration::from_secs_f64(i as f64 / rate);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        if started.elapsed() >= next_load {
            loads.extend(load_average());
            next_load += Duration::from_secs(1);
        }
        let t = Instant::now();
        logger.log(SearchRecord {
            query_id: format!("rate-{i}"),
            query: queries[(i as usize) % queries.len()].clone(),
            hits: 10,
            took_ms: 1.0,
            top_ids: (0..10).map(|k| format!("m{}", (i + k) % 2000)).collect(),
            at: chrono::Utc::now(),
            filters: None,
        });
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let secs = started.elapsed().as_secs_f64();
    logger.flush();
    let logged = store.count_searches()? - before;
    lat.sort_by(f64::total_cmp);
    let p = |x: f64| lat[((lat.len() as f64 * x) as usize).min(lat.len().saturating_sub(1))];
    println!(
        "search_log_rate in process: {total} records at {rate:.0}/s in {secs:.1} s; log() p50 {:.4} p99 {:.4} ms; \
         logged {logged} dropped {} failed {}; load average (1 min) max {:.2} mean {:.2}",
        p(0.5),
        p(0.99),
        logger.dropped(),
        logger.failed(),
        loads.iter().copied().fold(0.0, f64::max),
        loads.iter().sum::<f64>() / loads.len().max(1) as f64,
    );
    anyhow::ensure!(
        logger.dropped() == 0 && logger.failed() == 0,
        "search-log records lost"
    );
    Ok(())
}
