//! The manager's dashboard (`/dashboard`): first-answer rate (一次回答率) over time as a
//! chart with the counts behind it, by channel and by category; escalations per department
//! with open count and median hours to answer; the knowledge gaps; CSV downloads. Server
//! rendered from the same functions as `/api/metrics/…`; readable on a 1366×768 screen and
//! printable (the print style hides the navigation).

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};

use super::layout;
use crate::http::AppState;
use crate::http::auth::Principal;
use crate::http::pins::{PinStatus, status_of};
use crate::stats::metrics::{self, DepartmentEscalations, RateQuery, RateRow};
use crate::stats::pins::Pin;
use crate::stats::store::{MaterialUsage, QueryCount};
use crate::stats::{Granularity, GroupBy, StatsError};

/// Rows shown in each knowledge-gap table.
pub const GAP_ROWS: usize = 10;

const GRANULARITIES: [(&str, &str); 4] = [
    ("day", "日"),
    ("week", "週"),
    ("month", "月"),
    ("fiscal_year", "年度"),
];

fn channel_label(c: &str) -> &str {
    super::operator::CHANNELS
        .iter()
        .find(|(v, _)| *v == c)
        .map_or(c, |(_, l)| l)
}

fn pct(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".into(), |r| format!("{:.1}%", r * 100.0))
}

/// Sums a grouped series over its periods: one row per group, rate recomputed.
fn totals_by_group(rows: &[RateRow]) -> Vec<RateRow> {
    let mut by: BTreeMap<String, RateRow> = BTreeMap::new();
    for r in rows {
        let g = r.group.clone().unwrap_or_default();
        let t = by.entry(g.clone()).or_insert_with(|| RateRow {
            period: String::new(),
            group: Some(g),
            answered: 0,
            escalated: 0,
            koucho: 0,
            transfer: 0,
            rate: None,
        });
        t.answered += r.answered;
        t.escalated += r.escalated;
        t.koucho += r.koucho;
        t.transfer += r.transfer;
    }
    let mut out: Vec<RateRow> = by.into_values().collect();
    for t in &mut out {
        let d = t.answered + t.escalated;
        t.rate = (d > 0).then(|| t.answered as f64 / d as f64);
    }
    out.sort_by(|a, b| {
        (b.answered + b.escalated + b.koucho + b.transfer)
            .cmp(&(a.answered + a.escalated + a.koucho + a.transfer))
    });
    out
}

struct Data {
    series: Vec<RateRow>,
    by_channel: Vec<RateRow>,
    by_category: Vec<RateRow>,
    departments: Vec<DepartmentEscalations>,
    zero: Vec<QueryCount>,
    escalated: Vec<QueryCount>,
    unused: Vec<MaterialUsage>,
    pins: Vec<Pin>,
}

fn load(
    store: &crate::stats::Store,
    granularity: Granularity,
    due_hours: u32,
) -> Result<Data, StatsError> {
    let q = |granularity, group_by| RateQuery {
        from: None,
        to: None,
        granularity,
        group_by,
    };
    let fy = Granularity::FiscalYear;
    Ok(Data {
        series: metrics::first_answer_rate(store, &q(granularity, None))?,
        by_channel: totals_by_group(&metrics::first_answer_rate(
            store,
            &q(fy, Some(GroupBy::Channel)),
        )?),
        by_category: totals_by_group(&metrics::first_answer_rate(
            store,
            &q(fy, Some(GroupBy::Category)),
        )?),
        departments: metrics::escalations_by_department(
            &store.escalation_timings()?,
            chrono::Utc::now().timestamp_millis() - i64::from(due_hours) * 3_600_000,
        ),
        zero: store.zero_result_queries(GAP_ROWS)?,
        escalated: store.escalated_queries(GAP_ROWS)?,
        unused: store.material_usage(true, GAP_ROWS)?,
        pins: store.list_pins()?,
    })
}

fn rate_table(rows: &[RateRow], first: &str, label: impl Fn(&RateRow) -> String) -> Markup {
    html! {
        table {
            thead { tr { th { (first) } th class="n" { "一次回答" } th class="n" { "引継ぎ" }
                th class="n" { "一次回答率" } th class="n" { "広聴" } th class="n" { "交換" } } }
            tbody {
                @for r in rows {
                    tr { td { (label(r)) } td class="n" { (r.answered) } td class="n" { (r.escalated) }
                        td class="n rate" { (pct(r.rate)) } td class="n" { (r.koucho) } td class="n" { (r.transfer) } }
                }
                @if rows.is_empty() { tr { td colspan="6" class="empty" { "記録された問い合わせはまだありません。" } } }
            }
        }
    }
}

fn query_table(title: &str, rows: &[QueryCount]) -> Markup {
    html! {
        section class="gap" {
            h3 { (title) }
            table {
                thead { tr { th { "検索語" } th class="n" { "回数" } } }
                tbody {
                    @for r in rows { tr { td { (r.query) } td class="n" { (r.count) } } }
                    @if rows.is_empty() { tr { td colspan="2" class="empty" { "なし" } } }
                }
            }
        }
    }
}

/// `GET /dashboard?granularity=day|week|month|fiscal_year`.
pub(super) async fn page(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> Response {
    let p = crate::http::params::Params::parse(raw.as_deref()).unwrap_or_default();
    let gname = p
        .get("granularity")
        .filter(|g| Granularity::parse(g).is_some())
        .unwrap_or("month")
        .to_string();
    let granularity = Granularity::parse(&gname).unwrap_or(Granularity::Month);
    let frame = |status: StatusCode, body: Markup| {
        (
            status,
            layout::page(
                &state,
                &who,
                "ダッシュボード",
                "/dashboard",
                &["common.js", "pins.js"],
                body,
            ),
        )
            .into_response()
    };
    let Some(store) = state.stats.clone() else {
        return frame(
            StatusCode::SERVICE_UNAVAILABLE,
            html! { main class="narrow" { h1 { "ダッシュボード" } p class="notice" {
            "統計ストアが無効のため、集計はありません（kotae serve の設定を確認してください）。" } } },
        );
    };
    let due_hours = *state.escalation_due_hours.get();
    let data = match tokio::task::spawn_blocking(move || load(&store, granularity, due_hours)).await
    {
        Ok(Ok(d)) => d,
        other => {
            let msg = match other {
                Ok(Err(e)) => e.to_string(),
                Err(e) => e.to_string(),
                Ok(Ok(_)) => String::new(),
            };
            tracing::error!(error = %msg, "dashboard");
            return frame(
                StatusCode::INTERNAL_SERVER_ERROR,
                html! { main class="narrow" { h1 { "ダッシュボード" } p class="error" { "集計を読めませんでした：" (msg) } } },
            );
        }
    };
    let total = totals_by_group(
        &data
            .series
            .iter()
            .cloned()
            .map(|mut r| {
                r.group = None;
                r
            })
            .collect::<Vec<_>>(),
    );
    let overall = total.first();
    let title_of = |id: &str| {
        state
            .engine
            .get(id)
            .map_or_else(|| id.to_string(), |m| m.display_title())
    };
    let svg = super::chart::rate_svg(&data.series);
    let pins = pins_section(&state, &data.pins);
    let body = html! {
        main class="dashboard" {
            header class="dash-head" {
                h1 { "ダッシュボード" }
                p class="kpi" {
                    span class="k" { "一次回答率（全期間）" }
                    span id="overall-rate" class="big" { (pct(overall.and_then(|o| o.rate))) }
                    @if let Some(o) = overall {
                        span class="sub" { "一次回答 " (o.answered) "件 ／ 引継ぎ " (o.escalated) "件" }
                    }
                }
                p class="def" { "一次回答率 = 一次回答 ÷（一次回答 ＋ 引継ぎ）。広聴事案と交換は件数のみ数え、率には含めません。日付は受付日（日本時間）。" }
            }
            section class="rate" {
                h2 { "一次回答率の推移" }
                nav class="tabs" {
                    @for (v, l) in GRANULARITIES {
                        a href=(format!("/dashboard?granularity={v}")) aria-current=[(v == gname).then_some("page")] { (l) }
                    }
                    a class="download" href="/api/metrics/first-answer-rate?granularity=month&format=csv" { "月次レポート（CSV）" }
                }
                figure class="chart" {
                    (PreEscaped(svg))
                    figcaption { "線：一次回答率（左目盛）　棒：率に数えた件数（右目盛）" }
                }
                details open[data.series.len() <= 12] {
                    summary { "期間ごとの件数" }
                    (rate_table(&data.series, "期間", |r| r.period.clone()))
                }
            }
            div class="cols" {
                section {
                    h2 { "チャネル別" }
                    (rate_table(&data.by_channel, "チャネル", |r| channel_label(r.group.as_deref().unwrap_or("")).to_string()))
                }
                section {
                    h2 { "分類別" }
                    (rate_table(&data.by_category, "分類", |r| {
                        let g = r.group.as_deref().unwrap_or("");
                        if g == metrics::NO_CATEGORY { "（分類なし）".to_string() } else { g.to_string() }
                    }))
                }
            }
            section {
                h2 { "担当課別の引継ぎ" a class="download" href="/api/metrics/escalations?format=csv" { "CSV" } }
                table {
                    thead { tr { th { "担当課" } th class="n" { "件数" } th class="n" { "未回答" } th class="n" { "回答済み" }
                        th class="n" { "完了" } th class="n" { "期限超過" } th class="n" { "回答までの時間（中央値）" } } }
                    tbody {
                        @for d in &data.departments {
                            tr { td { (d.department) } td class="n" { (d.count) }
                                td class=(if d.open > 0 { "n open" } else { "n" }) { (d.open) }
                                td class="n" { (d.answered) } td class="n" { (d.closed) }
                                td class=(if d.overdue > 0 { "n open" } else { "n" }) { (d.overdue) }
                                td class="n" { (d.median_hours_to_answer.map_or_else(|| "—".to_string(), |h| format!("{h:.1} 時間"))) } }
                        }
                        @if data.departments.is_empty() { tr { td colspan="7" class="empty" { "引継ぎはまだありません。" } } }
                    }
                }
            }
            section {
                h2 { "資料の不足（ナレッジギャップ）" a class="download" href="/api/metrics/knowledge-gaps?format=csv" { "CSV" } }
                div class="cols three" {
                    (query_table("結果0件の検索", &data.zero))
                    (query_table("引継ぎが多い検索", &data.escalated))
                    section class="gap" {
                        h3 { "表示されたが使われていない資料" }
                        table {
                            thead { tr { th { "資料" } th class="n" { "表示" } } }
                            tbody {
                                @for u in &data.unused {
                                    tr { td { a href=(format!("/m/{}", u.material_id)) { (title_of(&u.material_id)) } } td class="n" { (u.shown) } }
                                }
                                @if data.unused.is_empty() { tr { td colspan="2" class="empty" { "なし" } } }
                            }
                        }
                    }
                }
            }
            (pins)
        }
    };
    frame(StatusCode::OK, body)
}

fn pin_status_label(s: PinStatus) -> &'static str {
    match s {
        PinStatus::Shown => "表示中",
        PinStatus::Missing => "資料が削除されたため表示されません",
        PinStatus::NotValid => "資料が有効期間外のため表示されません",
    }
}

/// The pinned answers (`/api/pins`) with their status; the ones no search shows any more
/// are counted and marked, and every pin can be removed (`pins.js`).
fn pins_section(state: &AppState, pins: &[Pin]) -> Markup {
    let now = chrono::Utc::now().timestamp();
    let rows: Vec<(&Pin, PinStatus)> = pins
        .iter()
        .map(|p| (p, status_of(&state.engine, p, now)))
        .collect();
    let dead = rows.iter().filter(|(_, s)| *s != PinStatus::Shown).count();
    html! {
        section id="pins" {
            h2 { "固定した回答（キーマッチ）" }
            p class="hint" {
                "検索語と資料の組。この検索語で検索すると、資料が結果の先頭に「固定」の印つきで出ます。"
                "固定は検索ページの結果の「この検索に固定」で追加します。"
            }
            @if dead > 0 {
                p id="dead-pins" class="notice error" { "表示されていない固定が " (dead) " 件あります（資料の削除・期限切れ）。見直して削除してください。" }
            }
            p class="result" role="status" {}
            table {
                thead { tr { th { "検索語" } th { "資料" } th { "状態" } th { "作成" } th {} } }
                tbody {
                    @for (p, s) in &rows {
                        tr class=[(*s != PinStatus::Shown).then_some("dead")] data-id=(p.id) data-status=(s.as_str()) {
                            td { (p.query) }
                            td {
                                @match state.engine.get(&p.material_id) {
                                    Some(m) => a href=(format!("/m/{}", p.material_id)) { (m.display_title()) },
                                    None => code { (p.material_id) },
                                }
                            }
                            td { (pin_status_label(*s)) }
                            td { (chrono::DateTime::from_timestamp_millis(p.created_ms).map_or_else(String::new, |t| layout::jst(&t.to_rfc3339()))) }
                            td { button type="button" class="pin-delete secondary" { "削除" } }
                        }
                    }
                    @if rows.is_empty() { tr { td colspan="5" class="empty" { "固定した回答はありません。" } } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_totals_sum_periods_and_recompute_the_rate() {
        let r = |g: &str, a, e| RateRow {
            period: "FY2025".into(),
            group: Some(g.into()),
            answered: a,
            escalated: e,
            koucho: 1,
            transfer: 0,
            rate: None,
        };
        let t = totals_by_group(&[r("phone", 3, 1), r("fax", 0, 0), r("phone", 1, 3)]);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].group.as_deref(), Some("phone"));
        assert_eq!((t[0].answered, t[0].escalated, t[0].koucho), (4, 4, 2));
        assert_eq!(t[0].rate, Some(0.5));
        assert_eq!(t[1].rate, None);
    }
}
