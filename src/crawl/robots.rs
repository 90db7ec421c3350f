//! robots.txt of a host (RFC 9309, parsed by `texting_robots`): fetched once per host per
//! run, its rules, its `Crawl-delay` and its `Sitemap:` lines.

use std::time::Duration;

use texting_robots::Robot;
use tracing::warn;

use super::Url;
use super::fetch;

/// What robots.txt says for one host.
pub(super) struct HostRobots {
    /// The rules (`None` when robots.txt is not obeyed or could not be parsed).
    pub robot: Option<Robot>,
    /// The delay between two requests: the configured one, or `Crawl-delay` when larger.
    pub delay: Duration,
    /// The `Sitemap:` URLs it lists.
    pub sitemaps: Vec<String>,
}

/// Fetches `u`'s host's `/robots.txt` and returns its rules, delay and sitemaps.
pub(super) async fn load(
    client: &reqwest::Client,
    user_agent: &str,
    timeout_ms: u64,
    u: &Url,
    configured_delay: Duration,
) -> HostRobots {
    let mut robots_url = u.clone();
    robots_url.set_path("/robots.txt");
    robots_url.set_query(None);
    let agent = user_agent
        .split(['/', ' '])
        .next()
        .unwrap_or("kotae")
        .to_string();
    let fetched = fetch::fetch_text(client, &robots_url, 512 * 1024, timeout_ms).await;
    if !matches!(fetched, Some((200..=499, _))) {
        let status = fetched.as_ref().map(|o| o.0);
        warn!(url = %robots_url, status = ?status, reason = "robots.txt unreachable", "host disallowed");
    }
    let robot = robots_from_response(&agent, fetched);
    let (delay, sitemaps) = match &robot {
        Some(r) => (host_delay(configured_delay, r), r.sitemaps.clone()),
        None => (configured_delay, Vec::new()),
    };
    HostRobots {
        robot,
        delay,
        sitemaps,
    }
}

/// Builds the robots.txt rules from its fetch result (RFC 9309): a 2xx body is parsed, a 4xx
/// allows everything, anything else (5xx, network failure) disallows everything.
fn robots_from_response(agent: &str, fetched: Option<(u16, Vec<u8>)>) -> Option<Robot> {
    match fetched {
        Some((200..=299, body)) => Robot::new(agent, &body).ok(),
        Some((400..=499, _)) => Robot::new(agent, b"").ok(),
        _ => Robot::new(agent, b"User-agent: *\nDisallow: /\n").ok(),
    }
}

/// Returns the delay between two requests to a host: the configured one, or robots.txt's
/// `Crawl-delay` when larger (capped at 120 s).
fn host_delay(configured: Duration, robot: &Robot) -> Duration {
    match robot.delay {
        Some(d) if d.is_finite() => configured.max(Duration::from_secs_f32(d.clamp(0.0, 120.0))),
        _ => configured,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots_rules_delay_and_sitemaps() {
        let txt =
            b"User-agent: *\nDisallow: /private/\nCrawl-delay: 3\nSitemap: https://h/sitemap.xml\n";
        let r = robots_from_response("kotae-crawler", Some((200, txt.to_vec()))).unwrap();
        assert!(!r.allowed("https://h/private/a.html"));
        assert!(r.allowed("https://h/faq/"));
        assert_eq!(r.sitemaps, vec!["https://h/sitemap.xml"]);
        assert_eq!(
            host_delay(Duration::from_secs(1), &r),
            Duration::from_secs(3)
        );
        assert_eq!(
            host_delay(Duration::from_secs(5), &r),
            Duration::from_secs(5)
        );
        let missing = robots_from_response("kotae-crawler", Some((404, vec![]))).unwrap();
        assert!(missing.allowed("https://h/private/a.html"));
        let down = robots_from_response("kotae-crawler", Some((503, vec![]))).unwrap();
        assert!(!down.allowed("https://h/"));
        assert!(
            !robots_from_response("kotae-crawler", None)
                .unwrap()
                .allowed("https://h/")
        );
    }
}
