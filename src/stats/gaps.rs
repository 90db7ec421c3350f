//! Knowledge gaps and material usage over a time window.
//!
//! * Searches that found nothing are grouped after the normalisation search applies
//!   (width, old kanji, case, then katakana folded to hiragana, white space collapsed), so
//!   `ｺｸﾎ`, `コクホ` and `こくほ` are one row, shown in its most frequent spelling. A search
//!   with a filter (kind, department) that found nothing is reported apart
//!   (`filtered_zero_result_queries`): the corpus may well answer it unfiltered.
//! * A material is *used* when an `answered` inquiry cites it, or a `transfer` (a contact
//!   record used to put the caller through to the department).

use std::collections::HashMap;

use rusqlite::params;
use serde::Serialize;

use super::store::{MaterialUsage, QueryCount};
use super::{StatsError, Store};
use crate::analysis::normalize::{katakana_to_hiragana, normalize};

/// A time window, Unix milliseconds, inclusive start and exclusive end (`None`: open).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// First millisecond counted.
    pub from_ms: Option<i64>,
    /// First millisecond not counted.
    pub to_ms: Option<i64>,
}

impl Window {
    /// The window of the JST dates `from..=to` (either open).
    pub fn jst_days(from: Option<chrono::NaiveDate>, to: Option<chrono::NaiveDate>) -> Self {
        let start = |d: chrono::NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc().timestamp_millis() - 9 * 3_600_000)
                .unwrap_or(0)
        };
        Window {
            from_ms: from.map(start),
            to_ms: to.map(|d| start(d) + 86_400_000),
        }
    }

    fn bounds(&self) -> (i64, i64) {
        (
            self.from_ms.unwrap_or(i64::MIN),
            self.to_ms.unwrap_or(i64::MAX),
        )
    }
}

/// A filtered search that found nothing, with its filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FilteredQueryCount {
    /// The redacted query (most frequent spelling).
    pub query: String,
    /// The filters, as logged (`{"kind": …, "department": …}`).
    pub filters: serde_json::Value,
    /// How often.
    pub count: u64,
}

/// The grouping key of a query: search's normalisation, katakana as hiragana, spaces
/// collapsed.
pub fn query_key(q: &str) -> String {
    let n = normalize(q).text;
    n.chars()
        .map(katakana_to_hiragana)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Folds `(query, extra, count)` rows into groups by [`query_key`] and `extra`, keeping the
/// most frequent spelling; most frequent groups first, ties by key.
fn fold(rows: Vec<(String, String, u64)>, limit: usize) -> Vec<(String, String, u64)> {
    let mut groups: HashMap<(String, String), (u64, HashMap<String, u64>)> = HashMap::new();
    for (q, extra, n) in rows {
        let g = groups.entry((query_key(&q), extra)).or_default();
        g.0 += n;
        *g.1.entry(q).or_default() += n;
    }
    let mut out: Vec<(String, String, u64, String)> = groups
        .into_iter()
        .map(|((key, extra), (n, spellings))| {
            let best = spellings
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
                .map(|s| s.0)
                .unwrap_or_default();
            (best, extra, n, key)
        })
        .collect();
    out.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.3.cmp(&b.3)));
    out.truncate(limit);
    out.into_iter().map(|(q, e, n, _)| (q, e, n)).collect()
}

impl Store {
    /// The most frequent unfiltered searches in `w` that found nothing, grouped by
    /// [`query_key`].
    ///
    /// # Errors
    /// SQLite errors.
    pub fn zero_result_queries_in(
        &self,
        w: Window,
        limit: usize,
    ) -> Result<Vec<QueryCount>, StatsError> {
        let rows = self.grouped_queries(
            "SELECT query, '', count(*) FROM search_log WHERE hits = 0 AND filters IS NULL \
             AND logged_ms >= ?1 AND logged_ms < ?2 GROUP BY query",
            w,
        )?;
        Ok(fold(rows, limit)
            .into_iter()
            .map(|(query, _, count)| QueryCount { query, count })
            .collect())
    }

    /// As [`Store::zero_result_queries_in`] for filtered searches, grouped by query and
    /// filters.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn filtered_zero_result_queries_in(
        &self,
        w: Window,
        limit: usize,
    ) -> Result<Vec<FilteredQueryCount>, StatsError> {
        let rows = self.grouped_queries(
            "SELECT query, filters, count(*) FROM search_log WHERE hits = 0 \
             AND filters IS NOT NULL AND logged_ms >= ?1 AND logged_ms < ?2 \
             GROUP BY query, filters",
            w,
        )?;
        Ok(fold(rows, limit)
            .into_iter()
            .map(|(query, f, count)| FilteredQueryCount {
                query,
                filters: serde_json::from_str(&f).unwrap_or(serde_json::Value::Null),
                count,
            })
            .collect())
    }

    /// The searches in `w` most often followed by an escalation, grouped by [`query_key`].
    ///
    /// # Errors
    /// SQLite errors.
    pub fn escalated_queries_in(
        &self,
        w: Window,
        limit: usize,
    ) -> Result<Vec<QueryCount>, StatsError> {
        let rows = self.grouped_queries(
            "SELECT s.query, '', count(*) FROM inquiries i \
             JOIN search_log s ON s.query_id = i.query_id \
             WHERE i.outcome = 'escalated' AND i.received_ms >= ?1 AND i.received_ms < ?2 \
             GROUP BY s.query",
            w,
        )?;
        Ok(fold(rows, limit)
            .into_iter()
            .map(|(query, _, count)| QueryCount { query, count })
            .collect())
    }

    fn grouped_queries(
        &self,
        sql: &str,
        w: Window,
    ) -> Result<Vec<(String, String, u64)>, StatsError> {
        let (from, to) = w.bounds();
        self.read(|c| {
            let mut st = c.prepare_cached(sql)?;
            let rows = st
                .query_map(params![from, to], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)? as u64,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// Per material, how often it was shown (searches logged in `w`) and used (`answered`
    /// or `transfer` inquiries received in `w` citing it), most shown first; with
    /// `never_used`, only materials shown but never used.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn material_usage_in(
        &self,
        w: Window,
        never_used: bool,
        limit: usize,
    ) -> Result<Vec<MaterialUsage>, StatsError> {
        let sql = format!(
            "WITH shown AS (SELECT h.material_id, count(*) AS n FROM search_shown h \
                            JOIN search_log s ON s.query_id = h.query_id \
                            WHERE s.logged_ms >= ?1 AND s.logged_ms < ?2 \
                            GROUP BY h.material_id), \
                  used AS (SELECT m.material_id, count(*) AS n FROM inquiry_materials m \
                           JOIN inquiries i ON i.id = m.inquiry_id \
                           WHERE m.outcome IN ('answered', 'transfer') \
                           AND i.received_ms >= ?1 AND i.received_ms < ?2 \
                           GROUP BY m.material_id) \
             SELECT material_id, COALESCE(shown.n, 0), COALESCE(used.n, 0) \
             FROM shown FULL OUTER JOIN used USING (material_id) {} \
             ORDER BY 2 DESC, 3 DESC, 1 LIMIT ?3",
            if never_used {
                "WHERE COALESCE(used.n, 0) = 0"
            } else {
                ""
            }
        );
        let (from, to) = w.bounds();
        self.read(|c| {
            let mut st = c.prepare_cached(&sql)?;
            let rows = st
                .query_map(params![from, to, limit as i64], |r| {
                    Ok(MaterialUsage {
                        material_id: r.get(0)?,
                        shown: r.get::<_, i64>(1)? as u64,
                        used: r.get::<_, i64>(2)? as u64,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_and_kana_variants_are_one_group() {
        assert_eq!(query_key("ｺｸﾎ"), query_key("コクホ"));
        assert_eq!(query_key("コクホ"), query_key("こくほ"));
        assert_eq!(query_key("国保　減免"), query_key("国保 減免"));
        let rows = vec![
            ("ｺｸﾎ".into(), String::new(), 1),
            ("コクホ".into(), String::new(), 2),
            ("こくほ".into(), String::new(), 1),
            ("ごみ".into(), String::new(), 3),
        ];
        let g = fold(rows, 10);
        assert_eq!(g[0], ("コクホ".to_string(), String::new(), 4));
        assert_eq!(g[1].2, 3);
        assert_eq!(g.len(), 2);
    }

    #[test]
    fn jst_day_window_starts_at_15_00_utc() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 4, 1);
        let w = Window::jst_days(d, d);
        let t = chrono::DateTime::parse_from_rfc3339("2026-03-31T15:00:00Z").unwrap();
        assert_eq!(w.from_ms, Some(t.timestamp_millis()));
        assert_eq!(w.to_ms, Some(t.timestamp_millis() + 86_400_000));
    }
}
