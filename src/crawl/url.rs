//! URL normalisation for deduplication: fragments and tracking parameters dropped, session
//! ids dropped, an empty query removed. Scheme and host are lowercased and default ports
//! dropped by the `url` crate's parser.

use url::Url;

/// Query parameters dropped by [`normalize`] (compared lowercase; `utm_*` by prefix).
pub const TRACKING_PARAMS: &[&str] = &[
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "fbclid",
    "yclid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "igshid",
    "twclid",
    "jsessionid",
    "phpsessid",
    "sessionid",
    "sid",
];

/// Returns whether query parameter `name` is a tracking or session parameter.
pub fn is_tracking_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("utm_") || TRACKING_PARAMS.contains(&n.as_str())
}

/// Returns `u` normalized: no fragment, no tracking parameters, no `;jsessionid=` path
/// parameter, no empty query.
pub fn normalize(u: &Url) -> Url {
    let mut u = u.clone();
    u.set_fragment(None);
    if let Some(i) = u.path().to_ascii_lowercase().find(";jsessionid=") {
        let p = u.path()[..i].to_string();
        u.set_path(&p);
    }
    if let Some(q) = u.query() {
        let kept: Vec<&str> = q
            .split('&')
            .filter(|kv| !kv.is_empty())
            .filter(|kv| {
                let name = kv.split('=').next().unwrap_or_default();
                !is_tracking_param(name)
            })
            .collect();
        if kept.is_empty() {
            u.set_query(None);
        } else {
            let q = kept.join("&");
            u.set_query(Some(&q));
        }
    }
    u
}

/// Parses and normalizes `s`; `None` unless it is an absolute http(s) URL.
pub fn parse_normalized(s: &str) -> Option<Url> {
    let u = Url::parse(s.trim()).ok()?;
    matches!(u.scheme(), "http" | "https").then(|| normalize(&u))
}

/// Returns the key naming a host's crawl state file and corpus collection: the host, plus
/// `_PORT` for a non-default port, with characters other than letters, digits, `.` and `-`
/// replaced by `_`.
pub fn host_key(u: &Url) -> String {
    let mut k: String = u
        .host_str()
        .unwrap_or("unknown")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if let Some(p) = u.port() {
        k.push('_');
        k.push_str(&p.to_string());
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn n(s: &str) -> String {
        normalize(&Url::parse(s).unwrap()).to_string()
    }

    #[test]
    fn examples() {
        assert_eq!(
            n("HTTPS://WWW.Pref.Example.JP:443/a/../b/index.html?utm_source=x&id=3&fbclid=y#top"),
            "https://www.pref.example.jp/b/index.html?id=3"
        );
        assert_eq!(n("http://h/p?utm_medium=a"), "http://h/p");
        assert_eq!(n("http://h/p;jsessionid=ABC?x=1"), "http://h/p?x=1");
        assert_eq!(n("http://h:8080/p?"), "http://h:8080/p");
        assert_eq!(
            host_key(&Url::parse("http://127.0.0.1:8080/").unwrap()),
            "127.0.0.1_8080"
        );
    }

    fn arb_url() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec!["http", "https", "HTTP"]),
            "[a-zA-Z][a-zA-Z0-9-]{0,8}(\\.[a-zA-Z]{2,4}){1,2}",
            prop::option::of(1u16..65535),
            prop::collection::vec("[a-zA-Z0-9_.~%-]{0,6}", 0..4),
            prop::collection::vec(("[a-zA-Z_]{1,6}", "[a-zA-Z0-9%]{0,5}"), 0..4),
            prop::option::of("[a-zA-Z0-9-]{0,6}"),
        )
            .prop_map(|(scheme, host, port, segs, params, frag)| {
                let mut s = format!("{scheme}://{host}");
                if let Some(p) = port {
                    s.push_str(&format!(":{p}"));
                }
                s.push('/');
                s.push_str(&segs.join("/"));
                if !params.is_empty() {
                    let q: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    s.push('?');
                    s.push_str(&q.join("&"));
                }
                if let Some(f) = frag {
                    s.push('#');
                    s.push_str(&f);
                }
                s
            })
    }

    proptest! {
        #[test]
        fn normalization_is_idempotent_and_strips_noise(s in arb_url()) {
            let Ok(u) = Url::parse(&s) else { return Ok(()); };
            let once = normalize(&u);
            let twice = normalize(&once);
            prop_assert_eq!(twice.as_str(), once.as_str());
            prop_assert!(once.fragment().is_none());
            prop_assert!(once.query_pairs().all(|(k, _)| !is_tracking_param(&k)));
            prop_assert!(once.query() != Some(""));
        }

        #[test]
        fn tracking_params_and_fragments_do_not_change_the_key(
            s in arb_url(),
            utm in "[a-z0-9]{1,8}",
            frag in "[a-z0-9]{1,8}",
        ) {
            let Ok(u) = Url::parse(&s) else { return Ok(()); };
            let base = normalize(&u);
            let mut noisy = base.clone();
            noisy.query_pairs_mut().append_pair("utm_source", &utm).append_pair("fbclid", &utm);
            noisy.set_fragment(Some(&frag));
            let cleaned = normalize(&noisy);
            prop_assert_eq!(cleaned.as_str(), base.as_str());
        }
    }
}
