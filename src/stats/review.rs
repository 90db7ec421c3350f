//! The 年度更新 report: every February–April the departments are asked to review their FAQ,
//! 相談窓口 and 組織・連絡先 pages. Per department (at the 課 level of the
//! [registry](crate::departments)), the materials not updated since a date (default: the
//! start of the current fiscal year, 1 April JST), those past `valid_until`, each with how
//! often it was shown and used, most shown and used first, so that the center can send each
//! department its list.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, TimeZone};
use serde::Serialize;

use super::store::MaterialUsage;
use crate::departments::{Level, material_path, truncate_to_level};
use crate::material::{Material, MaterialKind};

/// Department label of materials that name none.
pub const NO_DEPARTMENT: &str = "(none)";

/// One material to review.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReviewItem {
    /// Material id.
    pub material_id: String,
    /// Kind.
    pub kind: MaterialKind,
    /// Display title (the question for FAQ entries).
    pub title: String,
    /// Last update of the source text (JST).
    pub updated_at: String,
    /// End of validity (JST), if any.
    pub valid_until: Option<String>,
    /// Not updated since the report's date.
    pub stale: bool,
    /// Past `valid_until`.
    pub expired: bool,
    /// Searches that showed it.
    pub shown: u64,
    /// Inquiries that used it (answered or transfer).
    pub used: u64,
    /// Page URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The materials of one department to review.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DepartmentReview {
    /// Department (registry path at the 課 level), or [`NO_DEPARTMENT`].
    pub department: String,
    /// Materials not updated since the date.
    pub stale: u64,
    /// Materials past `valid_until`.
    pub expired: u64,
    /// The materials, most shown and used first.
    pub materials: Vec<ReviewItem>,
}

/// The start of the fiscal year (1 April) holding JST date `d`.
pub fn fiscal_year_start(d: NaiveDate) -> NaiveDate {
    let y = super::metrics::fiscal_year(d);
    NaiveDate::from_ymd_opt(y, 4, 1).unwrap_or(d)
}

/// Builds the report: materials updated before `since` (JST midnight) or past `valid_until`
/// at `now`, by department, with their usage.
pub fn annual_review<'a>(
    materials: impl IntoIterator<Item = &'a Material>,
    usage: &[MaterialUsage],
    since: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<DepartmentReview> {
    let cutoff = chrono_tz::Asia::Tokyo
        .from_local_datetime(&since.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or(now);
    let by_id: HashMap<&str, &MaterialUsage> =
        usage.iter().map(|u| (u.material_id.as_str(), u)).collect();
    let mut out: BTreeMap<String, DepartmentReview> = BTreeMap::new();
    for m in materials {
        let stale = m.updated_at < cutoff;
        let expired = m.valid_until.is_some_and(|v| v < now);
        if !stale && !expired {
            continue;
        }
        let path = material_path(m);
        let department = if path.is_empty() {
            NO_DEPARTMENT.to_string()
        } else {
            truncate_to_level(&path, Level::Ka)
        };
        let u = by_id.get(m.id.as_str());
        let d = out
            .entry(department.clone())
            .or_insert_with(|| DepartmentReview {
                department,
                stale: 0,
                expired: 0,
                materials: Vec::new(),
            });
        d.stale += u64::from(stale);
        d.expired += u64::from(expired);
        d.materials.push(ReviewItem {
            material_id: m.id.clone(),
            kind: m.kind,
            title: m.display_title(),
            updated_at: super::jst_rfc3339(&m.updated_at),
            valid_until: m.valid_until.map(|v| super::jst_rfc3339(&v)),
            stale,
            expired,
            shown: u.map_or(0, |u| u.shown),
            used: u.map_or(0, |u| u.used),
            url: m.url.clone(),
        });
    }
    let mut out: Vec<DepartmentReview> = out.into_values().collect();
    for d in &mut out {
        d.materials.sort_by(|a, b| {
            (b.shown + b.used)
                .cmp(&(a.shown + a.used))
                .then_with(|| a.material_id.cmp(&b.material_id))
        });
    }
    out
}

/// Renders the report as CSV (UTF-8 with BOM): `部署,種別,タイトル,更新日,有効期限,未更新,
/// 期限切れ,表示,利用,URL,ID`, one row per material.
pub fn review_csv(rows: &[DepartmentReview]) -> String {
    let mut w = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    let mut ok = w
        .write_record([
            "部署",
            "種別",
            "タイトル",
            "更新日",
            "有効期限",
            "未更新",
            "期限切れ",
            "表示",
            "利用",
            "URL",
            "ID",
        ])
        .is_ok();
    let flag = |b: bool| if b { "○" } else { "" };
    for d in rows {
        for m in &d.materials {
            ok &= w
                .write_record([
                    &super::metrics::csv_text(&d.department),
                    m.kind.as_str(),
                    &super::metrics::csv_text(&m.title),
                    m.updated_at.get(..10).unwrap_or(""),
                    m.valid_until
                        .as_deref()
                        .and_then(|v| v.get(..10))
                        .unwrap_or(""),
                    flag(m.stale),
                    flag(m.expired),
                    &m.shown.to_string(),
                    &m.used.to_string(),
                    m.url.as_deref().unwrap_or(""),
                    &m.material_id,
                ])
                .is_ok();
        }
    }
    let bytes = w.into_inner().unwrap_or_default();
    if ok {
        String::from_utf8(bytes).unwrap_or_default()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, dep: &str, updated: &str, valid: Option<&str>) -> Material {
        let mut m = Material::new(
            MaterialKind::Faq,
            "t",
            id,
            chrono::DateTime::parse_from_rfc3339(updated).unwrap(),
        );
        m.question = Some(format!("質問{id}"));
        m.department = Some(dep.into());
        m.valid_until = valid.map(|v| chrono::DateTime::parse_from_rfc3339(v).unwrap());
        m.ensure_id();
        m
    }

    #[test]
    fn stale_and_expired_materials_by_department_most_used_first() {
        let ms = [
            m(
                "a",
                "健康福祉部 国保医療課",
                "2025-06-01T09:00:00+09:00",
                None,
            ),
            m(
                "b",
                "健康福祉部 国保医療課 国保係",
                "2024-01-01T09:00:00+09:00",
                None,
            ),
            m(
                "c",
                "健康福祉部 国保医療課",
                "2026-04-02T09:00:00+09:00",
                None,
            ),
            m(
                "d",
                "総務部 総務課",
                "2026-04-02T09:00:00+09:00",
                Some("2026-05-01T00:00:00+09:00"),
            ),
        ];
        let usage = vec![MaterialUsage {
            material_id: ms[1].id.clone(),
            shown: 5,
            used: 2,
        }];
        let since = fiscal_year_start(NaiveDate::from_ymd_opt(2027, 2, 10).unwrap());
        assert_eq!(since, NaiveDate::from_ymd_opt(2026, 4, 1).unwrap());
        let now = chrono::DateTime::parse_from_rfc3339("2027-02-10T09:00:00+09:00")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let r = annual_review(&ms, &usage, since, now);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].department, "健康福祉部 国保医療課");
        assert_eq!((r[0].stale, r[0].expired), (2, 0));
        // The 係's material counts for its 課, and is listed first: most shown and used.
        assert_eq!(r[0].materials[0].material_id, ms[1].id);
        assert_eq!(r[1].department, "総務部 総務課");
        assert_eq!((r[1].stale, r[1].expired), (0, 1));
        let csv = review_csv(&r);
        assert!(csv.starts_with("\u{feff}部署,種別,タイトル,更新日"));
        assert!(csv.contains("健康福祉部 国保医療課,faq,質問b,2024-01-01,,○,,5,2,"));
    }
}
