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
                    .js("return location.href + ' | ' + (document.getElementById('notice') || {}).textContent + ' | q=' + (document.getElementById('q') || {}).value + ' | active=' + (document.activeElement && document.activeElement.outerHTML.slice(0, 80)) + ' | ' + document.body.innerText.slice(0, 300)")
                    .await;
                panic!("timed out waiting for {what}; at {at}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Calls the API from the page (synchronous XHR with the session cookie, same origin):
    /// (status, JSON body or null).
    async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u64, Value) {
        let v = self
            .c
            .execute(
                "const x = new XMLHttpRequest(); x.open(arguments[0], arguments[1], false);\
                 if (arguments[2] !== null) x.setRequestHeader('Content-Type', 'application/json');\
                 x.send(arguments[2] === null ? null : JSON.stringify(arguments[2]));\
                 let b = null; try { b = JSON.parse(x.responseText); } catch (_) {}\
                 return [x.status, b];",
                vec![json!(method), json!(path), body.unwrap_or(Value::Null)],
            )
            .await
            .unwrap();
        (v[0].as_u64().unwrap(), v[1].clone())
    }

    /// Empties the search box and focuses it.
    async fn clear_box(&self) {
        self.js("const q = document.getElementById('q'); q.value = ''; q.focus(); return true")
            .await;
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
    suggestions(b).await;
    b.goto("/").await;
    b.wait("#q").await;
    let t = Instant::now();
    b.keys("犬の登録").await;
    b.wait("#results[data-q='犬の登録'] li.hit").await;
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

    // Esc closes the suggestions; then ↓ ↓ ↑ moves; c copies; Esc returns to the box; Enter
    // opens.
    b.keys(&Key::Escape.to_string()).await;
    assert_eq!(
        b.js("return document.getElementById('suggest-list').hidden")
            .await,
        true
    );
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

    draft_review(b).await;
    pins(b).await;
}

/// The operator types a kana prefix: the combobox lists words by their reading; ↓ and Enter
/// pick a word (searched), a click on a title opens that material.
async fn suggestions(b: &Browser) {
    let q = "#q";
    assert_eq!(
        b.js("const q = document.getElementById('q'); return [q.getAttribute('role'), q.getAttribute('aria-expanded'), q.getAttribute('aria-controls')].join()").await,
        "combobox,false,suggest-list"
    );
    b.keys("こくみんけ").await;
    b.wait("#suggest-list[data-q='こくみんけ']:not([hidden]) li[role=option]")
        .await;
    assert_eq!(
        b.wait(q)
            .await
            .attr("aria-expanded")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    b.screenshot("suggest").await;
    let at = b
        .js("return [...document.querySelectorAll('#suggest-list li')].findIndex(li => li.classList.contains('kind-term') && li.dataset.text.startsWith('国民健康'))")
        .await
        .as_i64()
        .unwrap();
    assert!(at >= 0, "a term read こくみんけ… is suggested");
    let word = b
        .js(&format!(
            "return document.getElementById('suggest-{at}').dataset.text"
        ))
        .await;
    for _ in 0..=at {
        b.keys(&Key::Down.to_string()).await;
    }
    assert_eq!(
        b.wait(q)
            .await
            .attr("aria-activedescendant")
            .await
            .unwrap()
            .unwrap(),
        format!("suggest-{at}")
    );
    assert_eq!(
        b.js(&format!(
            "return document.getElementById('suggest-{at}').getAttribute('aria-selected')"
        ))
        .await,
        "true"
    );
    assert_eq!(
        b.js("return document.activeElement.id").await,
        "q",
        "focus stays in the box"
    );
    b.keys(&Key::Enter.to_string()).await;
    b.until(
        "the picked word searched",
        &format!(
            "return document.getElementById('q').value === {word} && document.getElementById('suggest-list').hidden \
             && new URLSearchParams(location.search).get('q') === {word} && document.querySelectorAll('#results li.hit').length > 0"
        ),
    )
    .await;
    b.check_clean("/ (suggestion picked)").await;

    // A title suggestion opens its material.
    b.clear_box().await;
    b.keys("国民健康保険料の").await;
    let title = b
        .wait("#suggest-list[data-q='国民健康保険料の']:not([hidden]) li.kind-title[data-text*='納付方法']")
        .await;
    title.click().await.unwrap();
    b.until(
        "the suggested material open",
        "return !document.getElementById('detail').hidden && document.querySelector('#detail h2').textContent.includes('納付方法') \
         && document.getElementById('suggest-list').hidden",
    )
    .await;
    b.check_clean("/ (title picked)").await;
}

/// The manager opens the department's answer on `/escalations`, drafts a FAQ from it,
/// edits the draft and publishes it; the API shows the published material with the edit.
async fn draft_review(b: &Browser) {
    b.goto("/escalations?status=answered").await;
    let card = b.wait("article.esc-answered").await;
    let esc_id = card.attr("data-id").await.unwrap().unwrap();
    card.find(Locator::Css("button.promote"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.until(
        "the draft after the reload",
        "return document.querySelectorAll('article.draft').length === 1 && document.readyState === 'complete'",
    )
    .await;
    let draft = b.wait("article.draft").await;
    let draft_id = draft.attr("data-id").await.unwrap().unwrap();
    let (s, before) = b
        .api("GET", &format!("/api/promotions/{draft_id}"), None)
        .await;
    assert_eq!(s, 200, "{before}");
    assert_eq!(before["status"], "draft");
    assert_eq!(before["escalation_id"], esc_id.as_str());
    let edited = "犬の登録はどこでできますか（センターで編集）";
    let question = draft
        .find(Locator::Css("textarea[name=question]"))
        .await
        .unwrap();
    question.clear().await.unwrap();
    question.send_keys(edited).await.unwrap();
    if let Ok(ack) = draft
        .find(Locator::Css("input[name=acknowledge_flags]"))
        .await
    {
        ack.click().await.unwrap();
    }
    b.screenshot("draft").await;
    b.js("document.querySelector('form.draft-form button[type=submit]').scrollIntoView({block: 'center'}); return true")
        .await;
    draft
        .find(Locator::Css("form.draft-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.until(
        "the published notice",
        "return (document.querySelector('article.draft .result') || {}).textContent === 'FAQとして公開しました。すぐに検索できます。' \
         || document.querySelectorAll('article.draft').length === 0",
    )
    .await;
    let (s, after) = b
        .api("GET", &format!("/api/promotions/{draft_id}"), None)
        .await;
    assert_eq!(s, 200, "{after}");
    assert_eq!(after["status"], "published", "{after}");
    assert_eq!(after["question"], edited, "{after}");
    let material = after["material_id"].as_str().unwrap().to_string();
    let (s, m) = b
        .api("GET", &format!("/api/materials/{material}"), None)
        .await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(m["question"], edited, "{m}");
    assert_eq!(m["kind"], "faq");
    b.goto("/escalations?status=answered").await;
    b.wait("main").await;
    assert_eq!(
        b.js("return document.querySelectorAll('article.draft').length")
            .await,
        0,
        "no draft left to review"
    );
    b.check_clean("/escalations (after publishing)").await;
}

/// The manager pins a hit to a query from the search page, sees it first (marked 固定) for
/// that query, and finds it in the dashboard's list, where a pin whose material was retired
/// is reported and removed.
async fn pins(b: &Browser) {
    let query = "ごみ";
    b.goto("/").await;
    b.wait("#q").await;
    b.keys(query).await;
    b.until(
        "four hits and the suggestions",
        &format!(
            "return document.querySelectorAll('#results[data-q={query:?}] li.hit').length >= 4 \
                  && document.getElementById('suggest-list').dataset.q === {query:?}"
        ),
    )
    .await;
    b.keys(&Key::Escape.to_string()).await;
    let ids = b
        .js("return [...document.querySelectorAll('#results li.hit')].map(li => li.dataset.id)")
        .await;
    let (keep, dead) = (
        ids[2].as_str().unwrap().to_string(),
        ids[3].as_str().unwrap().to_string(),
    );
    assert_eq!(
        b.js("return document.querySelectorAll('#results .pin').length")
            .await,
        0
    );
    for (id, n) in [(&keep, 1), (&dead, 2)] {
        b.wait(&format!("li.hit[data-id='{id}'] button.pin-btn"))
            .await
            .click()
            .await
            .unwrap();
        b.until(
            "the pinned hit first",
            &format!(
                "const li = [...document.querySelectorAll('#results li.hit')];\
                 return li.length > 0 && li.filter(x => x.querySelector('.pin')).length === {n} && li[0].querySelector('.pin') !== null \
                 && li.slice(0, {n}).some(x => x.dataset.id === {id:?})"
            ),
        )
        .await;
    }
    b.js("window.scrollTo(0, 0); return true").await;
    b.screenshot("pinned").await;
    assert!(
        b.text("#notice").await.contains("先頭に固定しました"),
        "the manager is told"
    );
    // The same query, server-rendered and through the API: the pinned ones first, in pin order.
    let enc: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
    b.goto(&format!("/?q={enc}")).await;
    let first = b.wait("#results li.hit").await;
    assert_eq!(first.attr("data-id").await.unwrap().unwrap(), keep);
    assert_eq!(b.text("#results li.hit .pin").await, "固定");
    let (s, r) = b.api("GET", &format!("/api/search?q={enc}"), None).await;
    assert_eq!(s, 200);
    assert_eq!(r["hits"][0]["id"], keep.as_str());
    assert_eq!(r["hits"][0]["pinned"], true);
    assert_eq!(r["hits"][1]["id"], dead.as_str());
    assert_eq!(r["hits"][2]["pinned"], false);
    b.check_clean("/ (pinned)").await;

    // Retire the second material: the dashboard reports its pin, and removes it.
    let (s, v) = b
        .api("DELETE", &format!("/api/materials/{dead}"), None)
        .await;
    assert!(s == 200 || s == 204, "{s} {v}");
    b.goto("/dashboard").await;
    b.wait("#pins tr[data-id]").await;
    assert_eq!(
        b.js("return [...document.querySelectorAll('#pins tr[data-id]')].map(r => r.dataset.status).join()")
            .await,
        "shown,missing"
    );
    assert!(b.text("#dead-pins").await.contains("1 件"));
    b.js("document.getElementById('pins').scrollIntoView(); return true")
        .await;
    b.screenshot("pins").await;
    b.wait("#pins tr.dead button.pin-delete")
        .await
        .click()
        .await
        .unwrap();
    b.until(
        "the dead pin removed",
        "return document.querySelectorAll('#pins tr.dead').length === 0 \
         && document.querySelector('#pins .result').textContent.startsWith('固定を削除しました')",
    )
    .await;
    let (s, v) = b.api("GET", "/api/pins", None).await;
    assert_eq!(s, 200);
    let left: Vec<(&str, &str)> = v["pins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["material_id"].as_str().unwrap(),
                p["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(left, vec![(keep.as_str(), "shown")]);
    b.check_clean("/dashboard (pins)").await;
}
