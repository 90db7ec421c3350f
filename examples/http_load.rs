//! HTTP load client for `/api/search`: C concurrent clients (keep-alive connections) take
//! the queries in turn until every query has been sent PASSES times; reports errors (any
//! status but 200, or a failed connection), p50/p95/p99 latency and throughput.
//!
//! ```text
//! cargo run --release --example http_load -- BASE_URL QUERIES_JSON [CLIENTS] [PASSES]
//!   BASE_URL      e.g. http://127.0.0.1:7791
//!   QUERIES_JSON  {id: text}, e.g. ../shared/data/localgovfaq/queries.json
//!   CLIENTS       concurrent clients (default 16)
//!   PASSES        passes over the queries (default 3)
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(base), Some(queries)) = (args.get(1), args.get(2)) else {
        anyhow::bail!("usage: http_load BASE_URL QUERIES_JSON [CLIENTS] [PASSES]");
    };
    let clients: usize = args.get(3).map_or(Ok(16), |a| a.parse())?;
    let passes: usize = args.get(4).map_or(Ok(3), |a| a.parse())?;
    let queries: Arc<Vec<String>> = Arc::new(
        kotae::eval::read_queries(std::path::Path::new(queries))?
            .into_iter()
            .map(|(_, q)| q)
            .collect(),
    );
    let url = format!("{}/api/search", base.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let n = queries.len() * passes;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let (client, url, queries, next) =
            (client.clone(), url.clone(), queries.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut errors) = (Vec::new(), 0usize);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let q = &queries[i % queries.len()];
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
                errors += usize::from(!ok);
            }
            (lat, errors)
        }));
    }
    let (mut lat, mut errors) = (Vec::with_capacity(n), 0);
    for t in tasks {
        let (l, e) = t.await?;
        lat.extend(l);
        errors += e;
    }
    let secs = started.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    let p = |x: f64| lat[((lat.len() as f64 * x) as usize).min(lat.len() - 1)];
    println!(
        "http_load clients {clients} requests {} errors {errors} p50 {:.3} p95 {:.3} p99 {:.3} ms throughput {:.0} req/s",
        lat.len(),
        p(0.5),
        p(0.95),
        p(0.99),
        lat.len() as f64 / secs
    );
    anyhow::ensure!(errors == 0, "{errors} requests failed");
    Ok(())
}
