//! The reports: first-answer rate per period and group, escalations per department, and
//! their CSV forms for the monthly report.
//!
//! Periods are labelled in Japan time: `2026-04-01` (day), `2026-W14` (ISO week, ISO
//! week-numbering year), `2026-04` (month), `FY2026` (fiscal year 2026-04-01 to
//! 2027-03-31). See the [module documentation](super) for the rate's definition.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::store::{DailyCount, EscalationTiming, MaterialUsage, QueryCount, Store};
use super::{EscalationStatus, Outcome, StatsError, date_of_day, day_number};

/// Group label of inquiries without a category.
pub const NO_CATEGORY: &str = "(none)";

crate::wire_enum! {
    /// Length of the periods of a series.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Granularity {
        /// Calendar day (JST).
        Day = "day",
        /// ISO week (Monday to Sunday, JST).
        Week = "week",
        /// Calendar month (JST).
        Month = "month",
        /// Japanese fiscal year (年度), from 1 April.
        FiscalYear = "fiscal_year",
    }
}

impl Granularity {
    /// Returns the label of the period holding JST date `d`.
    pub fn label(self, d: NaiveDate) -> String {
        match self {
            Self::Day => d.format("%Y-%m-%d").to_string(),
            Self::Week => {
                let w = d.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            Self::Month => format!("{}-{:02}", d.year(), d.month()),
            Self::FiscalYear => format!("FY{}", fiscal_year(d)),
        }
    }
}

/// Returns the Japanese fiscal year (年度) of `d`: the calendar year of the April it starts in.
pub fn fiscal_year(d: NaiveDate) -> i32 {
    if d.month() >= 4 {
        d.year()
    } else {
        d.year() - 1
    }
}

crate::wire_enum! {
    /// What a series is broken down by.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum GroupBy {
        /// Channel (phone, fax, email, letter, visit, web).
        Channel = "channel",
        /// Category; inquiries without one are grouped as [`NO_CATEGORY`].
        Category = "category",
        /// The department an inquiry was escalated to (the registry path); inquiries that
        /// were not escalated (answered, koucho, transfer) are grouped as [`NO_CATEGORY`].
        Department = "department",
    }
}

/// Language of CSV headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvLang {
    /// 期間, 一次回答, 引継ぎ, 広聴, 交換, 一次回答率(%) (the default).
    #[default]
    Ja,
    /// period, answered, escalated, koucho, transfer, rate_percent.
    En,
}

/// A first-answer-rate query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateQuery {
    /// First JST day counted (inclusive); `None`: from the start.
    pub from: Option<NaiveDate>,
    /// Last JST day counted (inclusive); `None`: to the end.
    pub to: Option<NaiveDate>,
    /// Period length.
    pub granularity: Granularity,
    /// Breakdown.
    pub group_by: Option<GroupBy>,
}

/// One row of a first-answer-rate series.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RateRow {
    /// Period label.
    pub period: String,
    /// Channel or category, when grouped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Inquiries answered by the center.
    pub answered: u64,
    /// Inquiries escalated to a department.
    pub escalated: u64,
    /// 広聴事案 (not in the rate).
    pub koucho: u64,
    /// Switchboard transfers (not in the rate).
    pub transfer: u64,
    /// `answered / (answered + escalated)`; `null` when both are 0.
    pub rate: Option<f64>,
}

impl RateRow {
    fn empty(period: String, group: Option<String>) -> Self {
        RateRow {
            period,
            group,
            answered: 0,
            escalated: 0,
            koucho: 0,
            transfer: 0,
            rate: None,
        }
    }

    /// The sum of `rows` (period `total`, no group), with its rate.
    pub fn total(rows: &[RateRow]) -> RateRow {
        let mut t = RateRow::empty("total".into(), None);
        for r in rows {
            t.answered += r.answered;
            t.escalated += r.escalated;
            t.koucho += r.koucho;
            t.transfer += r.transfer;
        }
        t.finish();
        t
    }

    fn add(&mut self, outcome: Outcome, n: u64) {
        match outcome {
            Outcome::Answered => self.answered += n,
            Outcome::Escalated => self.escalated += n,
            Outcome::Koucho => self.koucho += n,
            Outcome::Transfer => self.transfer += n,
        }
    }

    fn finish(&mut self) {
        let d = self.answered + self.escalated;
        self.rate = (d > 0).then(|| self.answered as f64 / d as f64);
    }
}

/// Folds daily counts into a series: one row per period (and group), in period order.
/// With `range` (first and last JST day, days since 1970-01-01), every period of the range is
/// present for every group seen, zero-filled (`rate: null`), so that a chart or a sheet has a
/// right time axis.
pub fn series(
    counts: &[DailyCount],
    granularity: Granularity,
    group_by: Option<GroupBy>,
    range: Option<(i64, i64)>,
) -> Vec<RateRow> {
    let mut rows: BTreeMap<(String, String), RateRow> = BTreeMap::new();
    let mut labels: HashMap<i64, String> = HashMap::new();
    let group_of = |c: &DailyCount| match group_by {
        None => None,
        Some(GroupBy::Category | GroupBy::Department) if c.group.is_empty() => {
            Some(NO_CATEGORY.to_string())
        }
        Some(_) => Some(c.group.clone()),
    };
    if let Some((from, to)) = range {
        let groups: std::collections::BTreeSet<Option<String>> =
            counts.iter().map(group_of).collect();
        let groups: Vec<Option<String>> = if groups.is_empty() && group_by.is_none() {
            vec![None]
        } else {
            groups.into_iter().collect()
        };
        let mut last = String::new();
        for day in from..=to {
            let period = granularity.label(date_of_day(day));
            if period == last {
                continue;
            }
            for g in &groups {
                rows.insert(
                    (period.clone(), g.clone().unwrap_or_default()),
                    RateRow::empty(period.clone(), g.clone()),
                );
            }
            last = period;
        }
    }
    for c in counts {
        let period = labels
            .entry(c.jst_day)
            .or_insert_with(|| granularity.label(date_of_day(c.jst_day)))
            .clone();
        let group = group_of(c);
        rows.entry((period.clone(), group.clone().unwrap_or_default()))
            .or_insert_with(|| RateRow::empty(period, group))
            .add(c.outcome, c.n);
    }
    rows.into_values()
        .map(|mut r| {
            r.finish();
            r
        })
        .collect()
}

/// Runs a first-answer-rate query on the store (daily roll-ups, folded in memory).
///
/// # Errors
/// SQLite errors.
///
/// Every period from `from` (else the first day with an inquiry) to `to` (else the last
/// day with an inquiry, or `from`) is returned, zero-filled.
pub fn first_answer_rate(store: &Store, q: &RateQuery) -> Result<Vec<RateRow>, StatsError> {
    let from = q.from.map_or(i64::MIN, day_number);
    let to = q.to.map_or(i64::MAX, day_number);
    let counts = store.daily_counts(q.group_by, from, to)?;
    let first = q
        .from
        .map(day_number)
        .or_else(|| counts.iter().map(|c| c.jst_day).min());
    let last = q.to.map(day_number).or_else(|| {
        counts
            .iter()
            .map(|c| c.jst_day)
            .max()
            .max(q.from.map(day_number))
    });
    let range = first.zip(last).filter(|(f, l)| f <= l);
    Ok(series(&counts, q.granularity, q.group_by, range))
}

/// Escalations of one department.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DepartmentEscalations {
    /// Department.
    pub department: String,
    /// All escalations.
    pub count: u64,
    /// Still waiting for an answer.
    pub open: u64,
    /// Answered (and not yet closed).
    pub answered: u64,
    /// Closed.
    pub closed: u64,
    /// Open for longer than `[stats] escalation_due_hours` (also counted in `open`).
    pub overdue: u64,
    /// Median time from escalation to the department's answer, in hours, over answered
    /// escalations; `null` when none was answered.
    pub median_hours_to_answer: Option<f64>,
}

/// Returns the median of `v` (sorted in place); `None` for an empty slice.
pub fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// Summarises escalation timings per department, by department name; an open escalation
/// opened at or before `overdue_before_ms` (Unix milliseconds: now − the due hours) is
/// overdue.
pub fn escalations_by_department(
    timings: &[EscalationTiming],
    overdue_before_ms: i64,
) -> Vec<DepartmentEscalations> {
    let mut by: BTreeMap<&str, (DepartmentEscalations, Vec<f64>)> = BTreeMap::new();
    for t in timings {
        let (d, hours) = by.entry(&t.department).or_insert_with(|| {
            (
                DepartmentEscalations {
                    department: t.department.clone(),
                    count: 0,
                    open: 0,
                    answered: 0,
                    closed: 0,
                    overdue: 0,
                    median_hours_to_answer: None,
                },
                Vec::new(),
            )
        });
        d.count += 1;
        match t.status {
            EscalationStatus::Open => {
                d.open += 1;
                if t.created_ms <= overdue_before_ms {
                    d.overdue += 1;
                }
            }
            EscalationStatus::Answered => d.answered += 1,
            EscalationStatus::Closed => d.closed += 1,
        }
        if let Some(a) = t.answered_ms {
            hours.push((a - t.created_ms) as f64 / 3_600_000.0);
        }
    }
    by.into_values()
        .map(|(mut d, mut h)| {
            d.median_hours_to_answer = median(&mut h);
            d
        })
        .collect()
}

fn csv_string(write: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>) -> String {
    // A UTF-8 byte-order mark, so that Excel opens the Japanese text correctly.
    let mut w = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    let ok = write(&mut w).is_ok();
    let bytes = w.into_inner().unwrap_or_default();
    if ok {
        String::from_utf8(bytes).unwrap_or_default()
    } else {
        String::new()
    }
}

/// A text cell safe to open in a spreadsheet: a cell starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return is a formula to Excel and LibreOffice, so it gets a leading `'`
/// (OWASP, "CSV Injection"). Other cells are kept as they are.
pub fn csv_text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn opt_f64(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.4}")).unwrap_or_default()
}

/// A rate as a percentage with one decimal (`75.0`); empty for `None`.
pub fn percent(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}", x * 100.0)).unwrap_or_default()
}

/// Renders a first-answer-rate series and its total row as CSV: `期間,[区分,]一次回答,引継ぎ,
/// 広聴,交換,一次回答率(%)` (or the English header), rates as percentages with one decimal,
/// the total last (期間 `合計` / `total`). The group column is present when `grouped`.
pub fn rates_csv(rows: &[RateRow], total: &RateRow, grouped: bool, lang: CsvLang) -> String {
    csv_string(|w| {
        let head: [&str; 7] = match lang {
            CsvLang::Ja => [
                "期間",
                "区分",
                "一次回答",
                "引継ぎ",
                "広聴",
                "交換",
                "一次回答率(%)",
            ],
            CsvLang::En => [
                "period",
                "group",
                "answered",
                "escalated",
                "koucho",
                "transfer",
                "rate_percent",
            ],
        };
        let pick = |v: Vec<String>| -> Vec<String> {
            v.into_iter()
                .enumerate()
                .filter(|(i, _)| grouped || *i != 1)
                .map(|(_, x)| x)
                .collect()
        };
        w.write_record(pick(head.iter().map(|h| h.to_string()).collect()))?;
        let total_label = match lang {
            CsvLang::Ja => "合計",
            CsvLang::En => "total",
        };
        for (r, label) in rows
            .iter()
            .map(|r| (r, r.period.as_str()))
            .chain(std::iter::once((total, total_label)))
        {
            w.write_record(pick(vec![
                label.to_string(),
                csv_text(r.group.as_deref().unwrap_or_default()),
                r.answered.to_string(),
                r.escalated.to_string(),
                r.koucho.to_string(),
                r.transfer.to_string(),
                percent(r.rate),
            ]))?;
        }
        Ok(())
    })
}

/// Renders escalation metrics as CSV.
pub fn escalations_csv(rows: &[DepartmentEscalations]) -> String {
    csv_string(|w| {
        w.write_record([
            "department",
            "count",
            "open",
            "answered",
            "closed",
            "overdue",
            "median_hours_to_answer",
        ])?;
        for r in rows {
            w.write_record([
                csv_text(&r.department),
                r.count.to_string(),
                r.open.to_string(),
                r.answered.to_string(),
                r.closed.to_string(),
                r.overdue.to_string(),
                opt_f64(r.median_hours_to_answer),
            ])?;
        }
        Ok(())
    })
}

/// Renders material usage as CSV (`material_id,title,shown,used`; `title` as the JSON has
/// it, empty for a material that no longer exists).
pub fn materials_csv(rows: &[(MaterialUsage, Option<String>)]) -> String {
    csv_string(|w| {
        w.write_record(["material_id", "title", "shown", "used"])?;
        for (r, title) in rows {
            w.write_record([
                csv_text(&r.material_id),
                csv_text(title.as_deref().unwrap_or_default()),
                r.shown.to_string(),
                r.used.to_string(),
            ])?;
        }
        Ok(())
    })
}

/// Renders the knowledge-gap lists as one CSV (`report,key,title,filters,count,shown,used`;
/// `report` is `zero_result`, `filtered_zero_result`, `escalated` or `shown_never_used`;
/// `key` the query or the material id).
pub fn gaps_csv(
    zero: &[QueryCount],
    filtered: &[super::gaps::FilteredQueryCount],
    escalated: &[QueryCount],
    unused: &[(MaterialUsage, Option<String>)],
) -> String {
    csv_string(|w| {
        w.write_record([
            "report", "key", "title", "filters", "count", "shown", "used",
        ])?;
        for r in zero {
            w.write_record([
                "zero_result",
                &csv_text(&r.query),
                "",
                "",
                &r.count.to_string(),
                "",
                "",
            ])?;
        }
        for r in filtered {
            w.write_record([
                "filtered_zero_result",
                &csv_text(&r.query),
                "",
                &csv_text(&r.filters.to_string()),
                &r.count.to_string(),
                "",
                "",
            ])?;
        }
        for r in escalated {
            w.write_record([
                "escalated",
                &csv_text(&r.query),
                "",
                "",
                &r.count.to_string(),
                "",
                "",
            ])?;
        }
        for (r, title) in unused {
            w.write_record([
                "shown_never_used",
                &csv_text(&r.material_id),
                &csv_text(title.as_deref().unwrap_or("")),
                "",
                "",
                &r.shown.to_string(),
                &r.used.to_string(),
            ])?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_that_are_formulas_are_neutralised() {
        for (cell, want) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("\rcmd", "'\rcmd"),
            ("国保 免除", "国保 免除"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(csv_text(cell), want);
        }
        let gaps = gaps_csv(
            &[QueryCount {
                query: "=cmd|' /C calc'!A0".into(),
                count: 2,
            }],
            &[],
            &[],
            &[],
        );
        assert!(
            gaps.contains("\nzero_result,'=cmd|' /C calc'!A0,,,2,,\n"),
            "{gaps}"
        );
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn labels_periods_in_the_japanese_way() {
        assert_eq!(Granularity::Day.label(d(2026, 4, 1)), "2026-04-01");
        assert_eq!(Granularity::Week.label(d(2026, 4, 1)), "2026-W14");
        // 2027-01-01 is a Friday of ISO week 2026-W53.
        assert_eq!(Granularity::Week.label(d(2027, 1, 1)), "2026-W53");
        assert_eq!(Granularity::Month.label(d(2026, 4, 1)), "2026-04");
        assert_eq!(Granularity::FiscalYear.label(d(2026, 4, 1)), "FY2026");
        assert_eq!(Granularity::FiscalYear.label(d(2027, 3, 31)), "FY2026");
        assert_eq!(Granularity::FiscalYear.label(d(2026, 3, 31)), "FY2025");
    }

    #[test]
    fn rate_excludes_koucho_and_transfer() {
        let day = day_number(d(2026, 4, 1));
        let c = |o, n| DailyCount {
            jst_day: day,
            group: String::new(),
            outcome: o,
            n,
        };
        let rows = series(
            &[
                c(Outcome::Answered, 3),
                c(Outcome::Escalated, 1),
                c(Outcome::Koucho, 10),
                c(Outcome::Transfer, 7),
            ],
            Granularity::Month,
            None,
            None,
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].period, "2026-04");
        assert_eq!(rows[0].rate, Some(0.75));
        assert_eq!((rows[0].koucho, rows[0].transfer), (10, 7));
        let only_koucho = series(&[c(Outcome::Koucho, 2)], Granularity::Day, None, None);
        assert_eq!(only_koucho[0].rate, None);
    }

    #[test]
    fn median_of_even_and_odd() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn empty_periods_of_the_range_are_zero_filled() {
        let c = |day, o, g: &str| DailyCount {
            jst_day: day_number(day),
            group: g.into(),
            outcome: o,
            n: 2,
        };
        let counts = [
            c(d(2026, 4, 3), Outcome::Answered, "phone"),
            c(d(2026, 6, 30), Outcome::Escalated, "fax"),
        ];
        let range = Some((day_number(d(2026, 4, 1)), day_number(d(2026, 7, 31))));
        let rows = series(&counts, Granularity::Month, None, range);
        let periods: Vec<&str> = rows.iter().map(|r| r.period.as_str()).collect();
        assert_eq!(periods, ["2026-04", "2026-05", "2026-06", "2026-07"]);
        assert_eq!((rows[1].answered, rows[1].rate), (0, None));
        assert_eq!(rows[2].rate, Some(0.0));
        // Grouped: every period for every group seen.
        let rows = series(&counts, Granularity::Month, Some(GroupBy::Channel), range);
        assert_eq!(rows.len(), 8);
        assert_eq!(rows[0].group.as_deref(), Some("fax"));
        let t = RateRow::total(&rows);
        assert_eq!((t.answered, t.escalated, t.rate), (2, 2, Some(0.5)));
    }

    #[test]
    fn csv_has_a_bom_japanese_headers_percentages_and_a_total() {
        let row = RateRow {
            period: "2026-04".into(),
            group: Some("phone".into()),
            answered: 2,
            escalated: 1,
            koucho: 0,
            transfer: 0,
            rate: Some(2.0 / 3.0),
        };
        let total = RateRow::total(std::slice::from_ref(&row));
        let csv = rates_csv(std::slice::from_ref(&row), &total, true, CsvLang::Ja);
        assert_eq!(
            csv,
            "\u{feff}期間,区分,一次回答,引継ぎ,広聴,交換,一次回答率(%)\n\
             2026-04,phone,2,1,0,0,66.7\n合計,,2,1,0,0,66.7\n"
        );
        let csv = rates_csv(&[row], &total, false, CsvLang::En);
        assert!(
            csv.starts_with("\u{feff}period,answered,escalated,koucho,transfer,rate_percent\n")
        );
        assert!(csv.ends_with("total,2,1,0,0,66.7\n"));
    }
}
