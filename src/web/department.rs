//! The department page (`/escalations`): a department sees its escalations (newest first,
//! with what the operator already wrote), answers and closes them; answered ones show when
//! and by whom. Managers see every department and draft the promotion of an answer to a
//! `faq` material; the open drafts are listed above the escalations, editable, with their
//! flags, and are published or discarded there. The forms post to the escalations and
//! promotions APIs from `department.js`.

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::layout::{self, jst};
use crate::http::AppState;
use crate::http::auth::{Principal, Role};
use crate::stats::{Draft, DraftStatus, Escalation, EscalationStatus};

/// Most escalations shown at once.
pub const SHOWN: usize = 200;

fn status_label(s: EscalationStatus) -> &'static str {
    match s {
        EscalationStatus::Open => "未回答",
        EscalationStatus::Answered => "回答済み",
        EscalationStatus::Closed => "完了",
    }
}

fn card(e: &Escalation, who: &Principal) -> Markup {
    let answers = matches!(who.role, Role::Department | Role::Admin);
    let promotes = matches!(who.role, Role::Manager | Role::Admin);
    html! {
        article class=(format!("esc esc-{}", e.status.as_str())) data-id=(e.id) {
            header {
                span class=(format!("st st-{}", e.status.as_str())) { (status_label(e.status)) }
                span class="dept" { (e.department) }
                span class="when" { "受付 " (jst(&e.created_at)) }
            }
            h3 class="question" { (e.question.as_deref().unwrap_or("（内容の記録なし）")) }
            @if let Some(c) = &e.category { p class="meta" { "分類：" (c) } }
            @if let Some(c) = &e.contact { p class="callback" { "折り返し先：" (c) } }
            @if let Some(a) = &e.answer {
                div class="answer" {
                    p class="k" {
                        "回答"
                        @if let Some(by) = &e.answered_by { "（" (by) }
                        @if let Some(at) = &e.answered_at { "・" (jst(at)) }
                        @if e.answered_by.is_some() { "）" }
                    }
                    p class="fulltext" { (a) }
                }
            }
            @if let Some(m) = &e.promoted_material_id {
                p class="meta" { "FAQとして登録済み（" a href=(format!("/m/{m}")) { "資料を開く" } "）" }
            }
            div class="actions" {
                @if answers && e.status == EscalationStatus::Open {
                    form class="answer-form" {
                        label { "回答（オペレーターが読み上げます）"
                            textarea name="answer" rows="4" required {} }
                        label { "回答者"
                            input name="answered_by" required autocomplete="off" placeholder="課・係と氏名"; }
                        button type="submit" { "回答を送る" }
                    }
                }
                @if e.status != EscalationStatus::Closed {
                    button type="button" class="close secondary" { "完了にする" }
                }
                @if promotes && e.answer.is_some() && e.promoted_material_id.is_none() {
                    button type="button" class="promote" { "この回答からFAQの下書きを作る" }
                }
            }
            p class="result" role="status" {}
        }
    }
}

/// An open promotion draft: editable texts, the flags, publish and discard.
fn draft_card(d: &Draft) -> Markup {
    html! {
        article class="draft" data-id=(d.id) {
            header { span class="st" { "FAQ下書き" } span class="when" { "作成 " (jst(&d.created_at)) } }
            form class="draft-form" {
                label { "質問" textarea name="question" rows="2" required { (d.question) } }
                label { "回答" textarea name="answer" rows="4" { (d.answer) } }
                @if !d.flags.is_empty() {
                    ul class="flags" {
                        @for f in &d.flags {
                            li { (if f.field == "question" { "質問" } else { "回答" }) "：" (f.flag.excerpt) }
                        }
                    }
                    label class="ack" { input type="checkbox" name="acknowledge_flags"; " 個人情報でないことを確認しました" }
                }
                button type="submit" { "公開する" }
                button type="button" class="discard secondary" { "破棄" }
            }
            p class="result" role="status" {}
        }
    }
}

/// `GET /escalations?status=&department=`.
pub(super) async fn page(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> Response {
    let p = crate::http::params::Params::parse(raw.as_deref()).unwrap_or_default();
    let status_param = p.get("status").unwrap_or("open").to_string();
    let status = EscalationStatus::parse(&status_param);
    let department = if who.role == Role::Department {
        who.department.clone()
    } else {
        p.non_empty("department").map(str::to_string)
    };
    let Some(store) = state.stats.clone() else {
        let body = html! { main class="narrow" { h1 { "引継ぎ" } p class="notice" {
        "統計ストアが無効のため、引継ぎは記録されていません（kotae serve の設定を確認してください）。" } } };
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            layout::page(&state, &who, "引継ぎ", "/escalations", &[], body),
        )
            .into_response();
    };
    let dept = department.clone();
    let reviews = matches!(who.role, Role::Manager | Role::Admin);
    let listed = tokio::task::spawn_blocking(move || {
        let drafts = if reviews {
            store.drafts(Some(DraftStatus::Draft), SHOWN)?
        } else {
            Vec::new()
        };
        let list = store.escalations(dept.as_deref(), status, SHOWN)?;
        let all_departments: Vec<String> = if dept.is_none() {
            let mut d: Vec<String> = store
                .escalation_timings()?
                .into_iter()
                .map(|t| t.department)
                .collect();
            d.sort();
            d.dedup();
            d
        } else {
            Vec::new()
        };
        Ok::<_, crate::stats::StatsError>((list, all_departments, drafts))
    })
    .await;
    let (list, departments, drafts) = match listed {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "escalations page");
            Default::default()
        }
        Err(e) => {
            tracing::error!(error = %e, "escalations page");
            Default::default()
        }
    };
    let tab = |s: &str| {
        let mut u = url::form_urlencoded::Serializer::new(String::new());
        u.append_pair("status", s);
        if who.role != Role::Department
            && let Some(d) = &department
        {
            u.append_pair("department", d);
        }
        format!("/escalations?{}", u.finish())
    };
    let tabs = [
        ("open", "未回答"),
        ("answered", "回答済み"),
        ("closed", "完了"),
        ("all", "すべて"),
    ];
    let body = html! {
        main class="department" {
            h1 {
                "引継ぎ（エスカレーション）"
                @if let Some(d) = &department { "：" (d) }
            }
            nav class="tabs" {
                @for (v, l) in tabs {
                    a href=(tab(v)) aria-current=[(v == status_param).then_some("page")] { (l) }
                }
                @if who.role != Role::Department && !departments.is_empty() {
                    form method="get" action="/escalations" class="dept-filter" {
                        input type="hidden" name="status" value=(status_param);
                        label for="department" { "担当課" }
                        select id="department" name="department" {
                            option value="" { "すべての課" }
                            @for d in &departments {
                                option value=(d) selected[department.as_deref() == Some(d.as_str())] { (d) }
                            }
                        }
                        button type="submit" class="secondary" { "絞り込む" }
                    }
                }
            }
            @if !drafts.is_empty() {
                section id="drafts" {
                    h2 { "確認待ちのFAQ下書き" }
                    @for d in &drafts { (draft_card(d)) }
                }
            }
            @if list.is_empty() {
                p class="empty" { "該当する引継ぎはありません。" }
            }
            div id="escalations" {
                @for e in &list { (card(e, &who)) }
            }
        }
    };
    layout::page(
        &state,
        &who,
        "引継ぎ",
        "/escalations",
        &["common.js", "department.js"],
        body,
    )
    .into_response()
}
