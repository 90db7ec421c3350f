//! The operator's page (`/`): one search box, results as the operator types, the opened
//! material with the outcomes to record, and the departments' answers to earlier
//! escalations. `/?q=…` runs the search on the server (a form without JavaScript; the
//! phone system or a bookmark can open a search); `/m/{id}` shows one whole material.

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};

use super::layout::{self, kind_label};
use crate::http::AppState;
use crate::http::auth::{Principal, Role};
use crate::material::{Contact, Material, MaterialKind};
use crate::search::{Hit, SearchResponse};

/// Results asked for per search (the page shows them all; facets count every match).
pub const PAGE_RESULTS: usize = 20;

/// The tooltip of a pinned hit's 「固定」 mark.
const PIN_TITLE: &str = "管理者がこの検索の先頭に固定した資料";

/// The channels an operator chooses from, in the order shown (API name, label).
pub const CHANNELS: [(&str, &str); 6] = [
    ("phone", "電話"),
    ("fax", "FAX"),
    ("email", "メール"),
    ("letter", "郵便"),
    ("visit", "来訪"),
    ("web", "Web"),
];

fn url_with(q: &str, kind: Option<&str>, department: Option<&str>) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("q", q);
    if let Some(k) = kind {
        s.append_pair("kind", k);
    }
    if let Some(d) = department {
        s.append_pair("department", d);
    }
    format!("/?{}", s.finish())
}

fn contact_block(c: &Contact) -> Markup {
    html! {
        div class="contact" {
            @if let Some(p) = &c.phone { p class="phone" { "☎ " (p) } }
            @if let Some(g) = &c.group { p { span class="k" { "係・グループ" } (g) } }
            @if let Some(d) = &c.duties { p { span class="k" { "担当業務" } (d) } }
            @if let Some(h) = &c.hours { p { span class="k" { "受付時間" } (h) } }
            @if let Some(f) = &c.fax { p { span class="k" { "FAX" } (f) } }
            @if let Some(e) = &c.email { p { span class="k" { "メール" } (e) } }
        }
    }
}

fn hit_item(h: &Hit, query_id: &str) -> Markup {
    html! {
        li class=(if h.pinned { "hit pinned" } else { "hit" }) data-id=(h.id) tabindex="-1" {
            a class="title" href=(format!("/m/{}?qid={}", h.id, query_id)) {
                @if h.pinned { span class="pin" title=(PIN_TITLE) { "固定" } " " }
                span class=(format!("kind kind-{}", h.kind.as_str())) { (kind_label(h.kind)) }
                " " (h.title)
            }
            // The snippet is the highlighter's HTML: every character of the material is
            // escaped, only its own `<mark>` elements are markup.
            p class="snippet" { (PreEscaped(&h.snippet)) }
            @if let Some(c) = &h.contact { (contact_block(c)) }
            p class="meta" {
                @if let Some(d) = &h.department { span class="dept" { (d) } }
                span class="updated" { "更新 " (h.updated_at.format("%Y-%m-%d")) }
            }
        }
    }
}

/// The label of a kind name from a facet (the name itself if it is not a known kind).
fn kind_name(k: &str) -> &str {
    match MaterialKind::parse(k) {
        Some(kind) => kind_label(kind),
        None => k,
    }
}

fn results_block(
    resp: &SearchResponse,
    q: &str,
    kind: Option<&str>,
    department: Option<&str>,
) -> Markup {
    html! {
        p id="status" class="status" aria-live="polite" {
            (resp.total) "件"
            @if resp.hits.is_empty() { "：該当する資料がありません。言い換えるか、短くしてみてください。" }
        }
        div id="facets" class="facets" {
            @if !resp.facets.kind.is_empty() {
                div class="facet" {
                    span class="k" { "種類" }
                    a href=(url_with(q, None, department)) class=[kind.is_none().then_some("on")] { "すべて" }
                    @for (k, n) in &resp.facets.kind {
                        a href=(url_with(q, Some(k), department)) class=[(kind == Some(k.as_str())).then_some("on")] {
                            (kind_name(k)) " " span class="n" { (n) }
                        }
                    }
                }
            }
            @if !resp.facets.department.is_empty() {
                div class="facet" {
                    span class="k" { "担当課" }
                    a href=(url_with(q, kind, None)) class=[department.is_none().then_some("on")] { "すべて" }
                    @for (d, n) in &resp.facets.department {
                        a href=(url_with(q, kind, Some(d))) class=[(department == Some(d.as_str())).then_some("on")] {
                            (d) " " span class="n" { (n) }
                        }
                    }
                }
            }
        }
        ol id="results" class="results" {
            @for h in &resp.hits { (hit_item(h, &resp.query_id)) }
        }
    }
}

/// `GET /?q=&kind=&department=`.
pub(super) async fn page(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> Response {
    // An empty box is the page's start, not an error (the API refuses an empty query).
    let empty = crate::http::params::Params::parse(raw.as_deref())
        .map(|p| p.non_empty("q").is_none_or(|q| q.trim().is_empty()))
        .unwrap_or(false);
    let parsed = if empty {
        Ok(crate::search::SearchRequest::new(""))
    } else {
        crate::http::search::request_from_query(raw.as_deref())
    };
    let (mut status, mut error, mut resp) = (StatusCode::OK, None, None);
    let (mut q, mut kind, mut department) = (String::new(), None, None);
    match parsed {
        Err(e) => {
            status = e.status();
            error = Some(e.message().to_string());
        }
        Ok(mut req) => {
            q = req.q.clone();
            kind = req.kind.map(|k| k.as_str().to_string());
            department = req.department.clone();
            req.limit = PAGE_RESULTS;
            if !q.trim().is_empty() {
                match state.run_search(req).await {
                    Ok(r) => resp = Some(r),
                    Err(e) => {
                        status = e.status();
                        error = Some(e.message().to_string());
                    }
                }
            }
        }
    }
    // Managers and admins may pin a hit to the query (`POST /api/pins`).
    let can_pin = matches!(who.role, Role::Manager | Role::Admin);
    let initial = serde_json::json!({
        "q": q, "kind": kind, "department": department, "response": resp, "can_pin": can_pin,
    });
    let body = html! {
        main class="operator" {
            section class="search" {
                form id="search-form" method="get" action="/" role="search" {
                    label for="q" class="sr" { "お問い合わせの内容" }
                    // An ARIA 1.2 combobox: operator.js fills the listbox from
                    // `/api/suggest` and moves `aria-activedescendant` with the arrow keys.
                    div class="combo" {
                        input id="q" name="q" type="search" value=(q) autofocus autocomplete="off"
                            role="combobox" aria-autocomplete="list" aria-expanded="false"
                            aria-controls="suggest-list"
                            placeholder="お問い合わせの内容を入力（例：国保 免除、ごみ 出し方）";
                        ul id="suggest-list" class="suggest" role="listbox" aria-label="入力候補" hidden {}
                    }
                    @if let Some(k) = &kind { input type="hidden" name="kind" value=(k); }
                    @if let Some(d) = &department { input type="hidden" name="department" value=(d); }
                    button type="submit" { "検索" }
                }
                p class="keys" {
                    kbd { "↓" } kbd { "↑" } " 候補・結果を選ぶ　" kbd { "Enter" } " 開く　"
                    kbd { "Esc" } " 検索欄へ　" kbd { "c" } " 回答文をコピー"
                }
                @if let Some(e) = &error { p class="error" role="alert" { (e) } }
                div id="results-area" {
                    @if let Some(r) = &resp {
                        (results_block(r, &q, kind.as_deref(), department.as_deref()))
                    } @else {
                        p id="status" class="status" aria-live="polite" {}
                        div id="facets" class="facets" {}
                        ol id="results" class="results" {}
                    }
                }
            }
            aside class="side" {
                div class="channel" {
                    label for="channel" { "受付チャネル" }
                    select id="channel" {
                        @for (v, l) in CHANNELS { option value=(v) { (l) } }
                    }
                }
                section id="detail" class="detail" hidden {}
                p id="notice" class="notice" role="status" hidden {}
                section id="answers" class="answers" hidden {
                    h2 { "担当課から回答が届いた引継ぎ" }
                    p class="hint" { "回答を読んで、お客さまに折り返してください。済んだら「折り返し済み」を押します。" }
                    ol id="answer-list" {}
                }
            }
            script type="application/json" id="initial" { (PreEscaped(super::json_data(&initial))) }
        }
    };
    let title = if q.is_empty() {
        "検索".to_string()
    } else {
        format!("{q} — 検索")
    };
    (
        status,
        layout::page(
            &state,
            &who,
            &title,
            "/",
            &["common.js", "operator.js"],
            body,
        ),
    )
        .into_response()
}

/// The whole text of a material, as shown when it is opened.
fn material_text(m: &Material) -> &str {
    m.answer
        .as_deref()
        .or(m.body.as_deref())
        .unwrap_or_default()
}

/// `GET /m/{id}`: one whole material (the no-JavaScript path of opening a result).
pub(super) async fn material_page(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    let Some(m) = state.engine.get(&id) else {
        let body = html! {
            main class="narrow" {
                h1 { "資料が見つかりません" }
                p { "この資料は削除されたか、IDが違います。" a href="/" { "検索に戻る" } }
            }
        };
        return (
            StatusCode::NOT_FOUND,
            layout::page(&state, &who, "資料が見つかりません", "", &[], body),
        )
            .into_response();
    };
    let title = m.display_title();
    let body = html! {
        main class="narrow material" {
            p { a href="/" class="back" { "← 検索へ" } }
            h1 {
                span class=(format!("kind kind-{}", m.kind.as_str())) { (kind_label(m.kind)) }
                " " (title)
            }
            @if let Some(c) = &m.contact { (contact_block(c)) }
            div class="fulltext" { (material_text(&m)) }
            p class="meta" {
                @if let Some(d) = &m.department { span class="dept" { (d) } }
                @if let Some(c) = &m.category { span { (c) } }
                span class="updated" { "更新 " (m.updated_at.format("%Y-%m-%d")) }
            }
            @if let Some(u) = &m.url { p { "出典：" a href=(u) rel="noreferrer" { (u) } } }
        }
    };
    layout::page(&state, &who, &title, "", &[], body).into_response()
}
