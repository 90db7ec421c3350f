//! The pages in a real browser (issue 9): Debian's headless Chromium driven through
//! chromedriver with `fantoccini`. One chromedriver and one browser session for the whole
//! run, over one kotae server on 127.0.0.1 with tokens (the login form is part of the flow).
//!
//! Skips with a message when `chromedriver` or `chromium` is not installed (CI installs
//! them: `.ci/run`). `KOTAE_SCREENSHOTS=docs/screenshots cargo test --test it browser`
//! also writes the three pages' screenshots.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use super::web::{DEPARTMENT, DEPT, MANAGER, OPERATOR};

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The chromedriver process, killed when the test ends (also on a failed assertion).
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `POST /session/{id}/se/log {"type":"browser"}`: the console messages since the last call.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            axum::http::Method::POST,
            Some(r#"{"type":"browser"}"#.into()),
        )
    }
}

struct Browser {
    c: Client,
    base: String,
    shots: Option<PathBuf>,
}

impl Browser {
    async fn goto(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    /// Waits for `css` (at most 5 s).
    async fn wait(&self, css: &str) -> fantoccini::elements::Element {
        self.c
            .wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
    }

    /// Waits until the script returns `true` (at most 5 s).
    async fn until(&self, what: &str, script: &str) {
        let t = Instant::now();
        loop {
            if self.c.execute(script, vec![]).await.unwrap() == Value::Bool(true) {
                return;
            }
            if t.elapsed() > Duration::from_secs(5) {
                let at = self
                    .js("return location.href + ' | ' + (document.getElementById('notice') || {}).textContent + ' | ' + document.body.innerText.slice(0, 300)")
                    .await;
                panic!("timed out waiting for {what}; at {at}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn js(&self, script: &str) -> Value {
        self.c.execute(script, vec![]).await.unwrap()
    }

    async fn text(&self, css: &str) -> String {
        self.wait(css).await.text().await.unwrap()
    }

    async fn keys(&self, keys: &str) {
        self.c
            .active_element()
            .await
            .unwrap()
            .send_keys(keys)
            .await
            .unwrap();
    }

    async fn login(&self, token: &str, next: &str) {
        self.goto(&format!("/login?next={next}")).await;
        self.wait("form[action='/login'] #token")
            .await
            .send_keys(token)
            .await
            .unwrap();
        self.wait("form[action='/login'] button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        self.until(
            "the page after login",
            &format!("return location.pathname === {next:?} && document.readyState === 'complete'"),
        )
        .await;
    }

    async fn logout(&self) {
        self.wait("form.logout button").await.click().await.unwrap();
        self.until("the login form", "return location.pathname === '/login'")
            .await;
    }

    /// Asserts that the console has no error and that every resource the page loaded came
    /// from the test server.
    async fn check_clean(&self, page: &str) {
        let log = self.c.issue_cmd(BrowserLog).await.unwrap();
        let errors: Vec<&Value> = log
            .as_array()
            .map(|a| a.iter().filter(|e| e["level"] == "SEVERE").collect())
            .unwrap_or_default();
        if !errors.is_empty() {
            let seen = self
                .js("return performance.getEntriesByType('resource').map(e => e.name + ' ' + e.responseStatus)")
                .await;
            panic!("console errors on {page}: {errors:?}; requests: {seen}; log: {log}");
        }
        let urls = self
            .js("return performance.getEntriesByType('resource').map(e => e.name).concat([location.href])")
            .await;
        for u in urls.as_array().unwrap() {
            let u = u.as_str().unwrap();
            assert!(u.starts_with(&self.base), "{page} loaded {u}");
        }
    }

    async fn screenshot(&self, name: &str) {
        if let Some(dir) = &self.shots {
            std::fs::create_dir_all(dir).unwrap();
            let png = self.c.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        }
    }

    /// Bytes transferred for the current page (document plus resources).
    async fn page_bytes(&self) -> u64 {
        self.js("const n = performance.getEntriesByType('navigation')[0];\
             return performance.getEntriesByType('resource')\
               .reduce((s, e) => s + e.transferSize, n ? n.transferSize : 0)")
            .await
            .as_u64()
            .unwrap_or(0)
    }
}

/// Seeds six months of answered and escalated inquiries so the dashboard has a series.
fn seed(store: &kotae::stats::Store) {
    use kotae::stats::{Channel, NewInquiry, Outcome};
    let used = kotae::material::material_id("test", "hostile-1");
    let mut v = Vec::new();
    for month in 0..6u32 {
        let at = chrono::DateTime::parse_from_rfc3339(&format!(
            "2026-{:02}-10T10:00:00+09:00",
            month + 4
        ))
        .unwrap();
        for i in 0..(8 + month * 2) {
            let escalate = i % (3 + month % 2) == 0;
            v.push(NewInquiry {
                recorded_by: None,
                query_id: None,
                received_at: at,
                channel: Channel::ALL[(i % 3) as usize],
                category: Some(["国保", "ごみ", "税"][(i % 3) as usize].into()),
                outcome: if escalate {
                    Outcome::Escalated
                } else {
                    Outcome::Answered
                },
                material_ids: if escalate { vec![] } else { vec![used.clone()] },
                department: escalate.then(|| "健康福祉部 国保医療課".into()),
                summary: escalate.then(|| format!("過去の問い合わせ {month}-{i}")),
                contact: None,
            });
        }
    }
    store.record_inquiries(&v).unwrap();
}

#[tokio::test]
async fn operator_department_and_manager_flows_in_chromium() {
    let (Some(driver), Some(chromium)) = (
        which("chromedriver"),
        which("chromium").or_else(|| which("chromium-browser")),
    ) else {
        eprintln!(
            "SKIPPED browser tests: chromedriver or chromium is not installed \
             (apt-get install chromium chromium-driver; .ci/run installs them)"
        );
        return;
    };
    let port = free_port();
    let _driver = Driver(
        Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );

    // kotae on 127.0.0.1 with tokens and a statistics store.
    let (dir, engine) = crate::common::default_engine(false);
    let state = super::web::state(dir.path(), engine, true);
    seed(state.stats.as_ref().unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, kotae::http::app(state))
            .await
            .unwrap();
    });

    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-quic", "--window-size=1366,768",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
    let webdriver = format!("http://127.0.0.1:{port}");
    let t = Instant::now();
    let c = loop {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&webdriver)
            .await
        {
            Ok(c) => break c,
            Err(e) if t.elapsed() < Duration::from_secs(10) => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("chromedriver session: {e}"),
        }
    };
    let b = Browser {
        c,
        base,
        shots: std::env::var_os("KOTAE_SCREENSHOTS").map(|d| crate::common::repo().join(d)),
    };
    flows(&b).await;
    let _ = b.c.clone().close().await;
    server.abort();
}

async fn dashboard_counts(b: &Browser) -> (String, String) {
    b.goto("/dashboard").await;
    let rate = b.text("#overall-rate").await;
    let sub = b.text(".kpi .sub").await;
    (rate, sub)
}

async fn flows(b: &Browser) {
    // --- The manager's dashboard before.
    b.login(MANAGER, "/dashboard").await;
    let (rate_before, counts_before) = dashboard_counts(b).await;
    assert!(
        b.wait("figure.chart svg")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    b.check_clean("/dashboard").await;
    b.logout().await;

    // --- Operator: type, see results, keyboard, open, record 「この資料で回答」.
    b.login(OPERATOR, "/").await;
    assert_eq!(
        b.js("return document.activeElement.id").await,
        "q",
        "the search box is focused on load"
    );
    let t = Instant::now();
    b.keys("犬の登録").await;
    b.wait("#results li.hit").await;
    eprintln!(
        "time to first results (keystrokes, 150 ms debounce, API, render): {} ms",
        t.elapsed().as_millis()
    );
    assert!(
        b.js("return location.search")
            .await
            .as_str()
            .unwrap()
            .contains("q=")
    );
    // HTML in a title renders as text; its script never ran.
    let hostile = kotae::material::material_id("test", "hostile-1");
    let title = b.text(&format!("li.hit[data-id='{hostile}'] .title")).await;
    assert!(
        title.contains("<script>window.__xss=1</script>犬の登録"),
        "{title}"
    );
    assert!(title.contains("<b>太字</b>"), "{title}");
    assert_eq!(b.js("return window.__xss === undefined").await, true);
    assert_eq!(
        b.js("return document.querySelectorAll('#results b, #results script').length")
            .await,
        0
    );
    assert!(
        b.js("return document.querySelectorAll('#results mark').length > 0")
            .await
            .as_bool()
            .unwrap()
    );

    // ↓ ↓ ↑ moves; c copies; Esc returns to the box; Enter opens.
    b.keys(&Key::Down.to_string()).await;
    b.keys(&Key::Down.to_string()).await;
    let at =
        "return [...document.querySelectorAll('#results li.hit')].indexOf(document.activeElement)";
    assert_eq!(b.js(at).await, 1);
    b.keys(&Key::Up.to_string()).await;
    assert_eq!(b.js(at).await, 0);
    b.keys("c").await;
    b.until(
        "the copy notice",
        "return document.getElementById('notice').textContent.startsWith('コピーしました')",
    )
    .await;
    b.keys(&Key::Escape.to_string()).await;
    assert_eq!(b.js("return document.activeElement.id").await, "q");
    b.keys(&Key::Down.to_string()).await;
    b.keys(&Key::Enter.to_string()).await;
    b.wait("#detail:not([hidden]) .outcomes .answered").await;
    assert!(
        !b.text("#detail").await.contains("null"),
        "a missing part of the material is not shown as \"null\""
    );
    b.check_clean("/ (search)").await;
    b.wait("#detail .outcomes .answered")
        .await
        .click()
        .await
        .unwrap();
    b.until("the answered notice", "return document.getElementById('notice').textContent.includes('一次回答として記録しました')").await;

    // Escalate the hostile material: department suggested, summary, call-back contact.
    b.wait(&format!("li.hit[data-id='{hostile}'] .title"))
        .await
        .click()
        .await
        .unwrap();
    b.until(
        "the hostile material open",
        "return document.querySelector('#detail h2').textContent.includes('太字')",
    )
    .await;
    b.wait("#detail .outcomes .escalated")
        .await
        .click()
        .await
        .unwrap();
    let dept = b.wait("form.escalate input[name=department]").await;
    assert_eq!(dept.prop("value").await.unwrap().as_deref(), Some(DEPT));
    b.wait("form.escalate input[name=callback]")
        .await
        .click()
        .await
        .unwrap();
    b.wait("form.escalate input[name=contact]")
        .await
        .send_keys("折り返し 午後希望")
        .await
        .unwrap();
    b.screenshot("operator").await;
    b.js("document.querySelector('form.escalate button[type=submit]').scrollIntoView({block: 'center'})")
        .await;
    b.wait("form.escalate button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.until(
        "the escalated notice",
        "return document.getElementById('notice').textContent.includes('引継ぎました')",
    )
    .await;
    let bytes = {
        b.goto("/").await;
        b.wait("#q").await;
        b.page_bytes().await
    };
    eprintln!("operator page weight (first load, empty query): {bytes} bytes");
    b.check_clean("/").await;
    b.logout().await;

    // --- Department: sees the escalation with what the operator wrote, answers it.
    b.login(DEPARTMENT, "/escalations").await;
    let card = b.wait("article.esc-open").await;
    let q = card
        .find(Locator::Css(".question"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(q, "犬の登録");
    assert!(
        card.text()
            .await
            .unwrap()
            .contains("折り返し先：折り返し 午後希望")
    );
    assert_eq!(
        b.js(&format!("return [...document.querySelectorAll('article.esc .dept')].every(d => d.textContent === {DEPT:?})")).await,
        true,
        "a department sees only its own escalations"
    );
    card.find(Locator::Css("textarea[name=answer]"))
        .await
        .unwrap()
        .send_keys("犬の登録は環境衛生課の窓口でも受け付けます。手数料は3,000円です。")
        .await
        .unwrap();
    card.find(Locator::Css("input[name=answered_by]"))
        .await
        .unwrap()
        .send_keys("環境衛生課 動物愛護係")
        .await
        .unwrap();
    b.screenshot("department").await;
    println!("department page weight: {} bytes", b.page_bytes().await);
    card.find(Locator::Css("form.answer-form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.until("the page reload after answering", "return document.querySelectorAll('article.esc-open').length === 0 && document.readyState === 'complete'").await;
    b.goto("/escalations?status=answered").await;
    let answered = b.text("article.esc-answered .answer").await;
    assert!(
        answered.contains("動物愛護係") && answered.contains("窓口でも受け付けます"),
        "{answered}"
    );
    b.check_clean("/escalations").await;
    b.logout().await;

    // --- Operator sees the department's answer.
    b.login(OPERATOR, "/").await;
    b.until(
        "the answered escalation",
        "return !document.getElementById('answers').hidden",
    )
    .await;
    let a = b.text("#answer-list li.mine .a").await;
    assert!(a.contains("窓口でも受け付けます"), "{a}");
    b.check_clean("/ (answers)").await;
    b.logout().await;

    // --- The dashboard's rate has changed: one more answered and one more escalated.
    b.login(MANAGER, "/dashboard").await;
    let (rate_after, counts_after) = dashboard_counts(b).await;
    let n = |s: &str, at: usize| -> u64 {
        s.split(|c: char| !c.is_ascii_digit())
            .filter(|x| !x.is_empty())
            .nth(at)
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        n(&counts_after, 0),
        n(&counts_before, 0) + 1,
        "{counts_before} → {counts_after}"
    );
    assert_eq!(
        n(&counts_after, 1),
        n(&counts_before, 1) + 1,
        "{counts_before} → {counts_after}"
    );
    assert_ne!(rate_before, rate_after);
    b.screenshot("dashboard").await;
    println!("dashboard weight: {} bytes", b.page_bytes().await);
    b.check_clean("/dashboard (after)").await;
}
