//! The page frame (head, navigation) and the Japanese labels shared by the pages.

use maud::{DOCTYPE, Markup, html};

use crate::http::AppState;
use crate::http::auth::{Principal, Role};
use crate::material::MaterialKind;

/// Japanese label of a role.
pub fn role_label(r: Role) -> &'static str {
    match r {
        Role::Operator => "オペレーター",
        Role::Department => "担当課",
        Role::Manager => "管理者（センター長）",
        Role::Admin => "システム管理者",
    }
}

/// Japanese label of a material kind.
pub fn kind_label(k: MaterialKind) -> &'static str {
    match k {
        MaterialKind::Faq => "FAQ",
        MaterialKind::Page => "ページ",
        MaterialKind::Contact => "連絡先",
    }
}

/// The date part (`YYYY-MM-DD`) of an RFC 3339 time, shown in Japan time when it parses.
pub fn jst(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&chrono_tz::Asia::Tokyo)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_string())
}

fn head(title: &str, scripts: &[&str]) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " — kotae" }
            link rel="icon" href=(super::asset_url("favicon.svg")) type="image/svg+xml";
            link rel="stylesheet" href=(super::asset_url("app.css"));
            @for s in scripts {
                script src=(super::asset_url(s)) defer {}
            }
        }
    }
}

/// A page without navigation (login, errors).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="ja" {
            (head(title, &[]))
            body { (body) }
        }
    }
}

/// A page with the navigation bar for `who`; `active` is the current path.
pub fn page(
    state: &AppState,
    who: &Principal,
    title: &str,
    active: &str,
    scripts: &[&str],
    body: Markup,
) -> Markup {
    let manager = matches!(who.role, Role::Manager | Role::Admin);
    let links: [(&str, &str, bool); 3] = [
        ("/", "検索", true),
        ("/escalations", "引継ぎ（担当課）", true),
        ("/dashboard", "ダッシュボード", manager),
    ];
    html! {
        (DOCTYPE)
        html lang="ja" {
            (head(title, scripts))
            body {
                header class="bar" {
                    span class="brand" { "kotae 答え" }
                    nav {
                        @for (href, label, shown) in links {
                            @if shown {
                                a href=(href) aria-current=[(href == active).then_some("page")] { (label) }
                            }
                        }
                    }
                    span class="who" {
                        (role_label(who.role))
                        @if let Some(d) = &who.department { "：" (d) }
                    }
                    @if state.auth.is_enabled() {
                        form method="post" action="/logout" class="logout" {
                            button type="submit" { "ログアウト" }
                        }
                    }
                }
                (body)
            }
        }
    }
}
