//! The department registry (組織): the 部・局 / 課・室 / 係・グループ hierarchy a center's
//! escalations, tokens, facets and filters are matched against.
//!
//! # Names
//!
//! A department name is a *path* of units from the top: `健康福祉部 国保医療課 国保係`.
//! [`canonical`] writes every spelling of a path the same way: NFKC (full-width letters and
//! digits, half-width kana), old and variant kanji folded ([`fold_variant_kanji`]), every run
//! of white space (including the ideographic space U+3000) one ASCII space, and a unit
//! glued to the next split after its suffix (`健康福祉部国保医療課` → `健康福祉部 国保医療課`;
//! suffixes in [`UNIT_SUFFIXES`]). A contact record's group is part of its path
//! ([`material_path`]).
//!
//! # Matching
//!
//! A path *contains* another when the other's units occur in it as a contiguous run
//! ([`path_contains`]): `国保医療課` is contained in `健康福祉部 国保医療課 国保係`, so a
//! filter or a token for a 課 covers its 係. [`Registry::resolve`] maps a name to one
//! registry entry: the exact path, else the one entry ending with the name's units
//! (`国保医療課` → `健康福祉部 国保医療課`); otherwise it fails with the closest names
//! (Levenshtein distance over characters, strsim).
//!
//! # Sources
//!
//! Departments of every material (for contact records with their group), the departments
//! of `department` tokens, and the optional `dictionaries/departments.csv` the center
//! maintains: one department a line, one unit a cell from the top
//! (`健康福祉部,国保医療課,国保係`); blank lines, lines starting with `#` and a header line
//! whose first cell is `部`, `部局` or `department` are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::analysis::normalize::fold_variant_kanji;
use crate::material::Material;

/// Unit suffixes after which a name glued to the next unit is split, longest first.
pub const UNIT_SUFFIXES: &[&str] = &[
    "グループ",
    "センター",
    "事務所",
    "チーム",
    "担当",
    "局",
    "部",
    "課",
    "室",
    "係",
    "班",
];

/// Number of closest names offered for an unknown department.
pub const MAX_SUGGESTIONS: usize = 3;

/// The level of a unit in the hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// 部・局 (a department or bureau).
    Bu,
    /// 課・室・センター・事務所 (a division).
    Ka,
    /// 係・グループ・班・担当・チーム (a section).
    Kakari,
}

impl Level {
    /// Parses `bu`/`部`, `ka`/`課`, `kakari`/`係`/`グループ`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "bu" | "部" | "局" => Some(Level::Bu),
            "ka" | "課" | "室" => Some(Level::Ka),
            "kakari" | "係" | "グループ" | "group" => Some(Level::Kakari),
            _ => None,
        }
    }

    /// The level of one unit, from its suffix; `None` when the suffix says nothing.
    pub fn of_unit(unit: &str) -> Option<Self> {
        if ["局", "部"].iter().any(|s| unit.ends_with(s)) {
            Some(Level::Bu)
        } else if ["課", "室", "センター", "事務所"]
            .iter()
            .any(|s| unit.ends_with(s))
        {
            Some(Level::Ka)
        } else if ["係", "グループ", "班", "担当", "チーム"]
            .iter()
            .any(|s| unit.ends_with(s))
        {
            Some(Level::Kakari)
        } else {
            None
        }
    }

    /// The level of the last unit of `path`: from its suffix, else from its depth (1 部,
    /// 2 課, 3 and more 係).
    pub fn of_path(path: &str) -> Self {
        let units: Vec<&str> = path.split(' ').collect();
        units
            .last()
            .and_then(|u| Level::of_unit(u))
            .unwrap_or(match units.len() {
                0 | 1 => Level::Bu,
                2 => Level::Ka,
                _ => Level::Kakari,
            })
    }
}

/// `name` with NFKC, old and variant kanji folded and white space (U+3000 too) collapsed
/// to single ASCII spaces, trimmed: the normal form of short names (categories).
pub fn normalize_name(name: &str) -> String {
    let folded: String = name
        .chars()
        .map(fold_variant_kanji)
        .collect::<String>()
        .nfkc()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Writes `name` in the canonical form (see the module documentation). Empty for a name
/// with no visible character.
pub fn canonical(name: &str) -> String {
    let mut units: Vec<String> = Vec::new();
    for word in normalize_name(name).split(' ').filter(|w| !w.is_empty()) {
        units.extend(split_glued(word));
    }
    units.join(" ")
}

/// The [`MAX_SUGGESTIONS`] of `names` closest to `name` by character edit distance (ties by
/// name), leaving out those that share fewer characters than they differ by.
pub fn closest<'a>(name: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let limit = name.chars().count().max(2);
    let mut scored: Vec<(usize, &str)> = names
        .into_iter()
        .map(|n| (strsim::levenshtein(name, n), n))
        .filter(|(d, _)| *d < limit)
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// Splits a unit glued to the next one after a unit suffix, keeping at least two
/// characters on each side (so `課税課` and `部長` stay whole).
fn split_glued(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        let mut cut = None;
        for s in UNIT_SUFFIXES {
            let sc: Vec<char> = s.chars().collect();
            let end = i + sc.len();
            if end <= chars.len()
                && chars[i..end] == sc[..]
                && end - start >= 2
                && chars.len() - end >= 2
                && !is_suffix_start(&chars[end..])
            {
                cut = Some(end);
                break;
            }
        }
        match cut {
            Some(end) => {
                out.push(chars[start..end].iter().collect());
                start = end;
                i = end;
            }
            None => i += 1,
        }
    }
    if start < chars.len() {
        out.push(chars[start..].iter().collect());
    }
    out
}

/// Whether `rest` begins with something that continues a word rather than a new unit
/// (`部長`, `課長`, `室内` …: a unit suffix followed by 長, 内, 会 is not a boundary).
fn is_suffix_start(rest: &[char]) -> bool {
    matches!(rest.first(), Some('長' | '内' | '会' | '門' | '品' | '分'))
}

/// The department path of a material: its department (or its contact record's), and for a
/// contact record its group, in canonical form. Empty when it names none.
pub fn material_path(m: &Material) -> String {
    let contact = m.contact.as_ref();
    let dep = m
        .department
        .as_deref()
        .or_else(|| contact.and_then(|c| c.department.as_deref()))
        .unwrap_or("");
    let mut path = canonical(dep);
    if let Some(group) = contact.and_then(|c| c.group.as_deref()) {
        let g = canonical(group);
        if !g.is_empty() && !path_contains(&path, &g) {
            if !path.is_empty() {
                path.push(' ');
            }
            path.push_str(&g);
        }
    }
    path
}

/// Whether the units of `inner` occur in `path` as a contiguous run (both canonical).
/// An empty `inner` is contained in nothing.
pub fn path_contains(path: &str, inner: &str) -> bool {
    if inner.is_empty() {
        return false;
    }
    let p = format!(" {path} ");
    p.contains(&format!(" {inner} "))
}

/// `path` cut after its first unit at `level` or below (a 部-level path stays whole).
pub fn truncate_to_level(path: &str, level: Level) -> String {
    let units: Vec<&str> = path.split(' ').collect();
    for i in 0..units.len() {
        let prefix = units[..=i].join(" ");
        if Level::of_path(&prefix) >= level {
            return prefix;
        }
    }
    path.to_string()
}

/// Where a registry entry is known from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A material's department (or a contact record's group).
    Material,
    /// A `department` token.
    Token,
    /// `dictionaries/departments.csv`.
    Dictionary,
}

/// One department of the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Department {
    /// Canonical path (`健康福祉部 国保医療課`).
    pub name: String,
    /// Level of its last unit.
    pub level: Level,
    /// The path one unit up, if any.
    pub parent: Option<String>,
    /// Materials whose path is this department or below it.
    pub materials: u64,
    /// Where it is known from.
    pub sources: BTreeSet<Source>,
}

/// Why a name did not resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown department {name:?}{}", suggestion_text(.suggestions))]
pub struct UnknownDepartment {
    /// The name as given (canonical).
    pub name: String,
    /// The closest registry names, best first.
    pub suggestions: Vec<String>,
}

fn suggestion_text(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", s.join(", "))
    }
}

/// The registry: every known department path and its ancestors.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    entries: BTreeMap<String, Department>,
}

impl Registry {
    /// Builds the registry from materials, the centre's dictionary lines (one path each)
    /// and token departments (resolved against the others first, so a token for
    /// `国保医療課` names `健康福祉部 国保医療課`).
    pub fn build<'a>(
        materials: impl IntoIterator<Item = &'a Material>,
        dictionary: &[String],
        tokens: &[String],
    ) -> Self {
        let mut r = Registry::default();
        for d in dictionary {
            r.add(&canonical(d), Source::Dictionary, false);
        }
        for m in materials {
            let p = material_path(m);
            if !p.is_empty() {
                r.add(&p, Source::Material, true);
            }
        }
        for t in tokens {
            let p = match r.resolve(t) {
                Ok(p) => p,
                Err(_) => canonical(t),
            };
            if !p.is_empty() {
                r.add(&p, Source::Token, false);
            }
        }
        r
    }

    fn add(&mut self, path: &str, source: Source, count: bool) {
        if path.is_empty() {
            return;
        }
        let units: Vec<&str> = path.split(' ').collect();
        for i in 0..units.len() {
            let name = units[..=i].join(" ");
            let parent = (i > 0).then(|| units[..i].join(" "));
            let e = self
                .entries
                .entry(name.clone())
                .or_insert_with(|| Department {
                    level: Level::of_path(&name),
                    name,
                    parent,
                    materials: 0,
                    sources: BTreeSet::new(),
                });
            if count {
                e.materials += 1;
            }
            if i + 1 == units.len() {
                e.sources.insert(source);
            }
        }
    }

    /// Whether no department is known.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The departments, by name.
    pub fn departments(&self) -> impl Iterator<Item = &Department> {
        self.entries.values()
    }

    /// Returns the entry `name` (canonical).
    pub fn get(&self, name: &str) -> Option<&Department> {
        self.entries.get(name)
    }

    /// Maps `name` to a registry path (see the module documentation).
    ///
    /// # Errors
    /// [`UnknownDepartment`] with the closest names (for a name that ends several entries,
    /// those entries).
    pub fn resolve(&self, name: &str) -> Result<String, UnknownDepartment> {
        let c = canonical(name);
        if self.entries.contains_key(&c) {
            return Ok(c);
        }
        let tail = format!(" {c}");
        let ending: Vec<&String> = self
            .entries
            .keys()
            .filter(|k| !c.is_empty() && k.ends_with(&tail))
            .collect();
        if ending.len() == 1 {
            return Ok(ending[0].clone());
        }
        let suggestions = if ending.is_empty() {
            self.closest(&c)
        } else {
            ending.into_iter().take(MAX_SUGGESTIONS).cloned().collect()
        };
        Err(UnknownDepartment {
            name: c,
            suggestions,
        })
    }

    /// The [`MAX_SUGGESTIONS`] names closest to `c`: the smallest character edit distance
    /// to the whole path or to its last units (as many as `c` has), ties by name.
    fn closest(&self, c: &str) -> Vec<String> {
        let n_units = c.split(' ').count();
        let mut scored: Vec<(usize, &String)> = Vec::with_capacity(self.entries.len());
        for k in self.entries.keys() {
            let units: Vec<&str> = k.split(' ').collect();
            let tail = units[units.len().saturating_sub(n_units)..].join(" ");
            let d = strsim::levenshtein(c, k).min(strsim::levenshtein(c, &tail));
            scored.push((d, k));
        }
        scored.sort();
        let limit = c.chars().count().max(2);
        scored
            .into_iter()
            .filter(|(d, _)| *d < limit)
            .take(MAX_SUGGESTIONS)
            .map(|(_, k)| k.clone())
            .collect()
    }
}

/// Reads `dictionaries/departments.csv` (see the module documentation); a missing file is
/// an empty list.
///
/// # Errors
/// A file that exists but cannot be read or parsed, with its path.
pub fn read_dictionary(path: &Path) -> crate::Result<Vec<String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(crate::Error::Invalid(format!("{}: {e}", path.display())));
        }
    };
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut out = Vec::new();
    for (i, rec) in rd.records().enumerate() {
        let rec = rec.map_err(|e| crate::Error::Invalid(format!("{}: {e}", path.display())))?;
        let cells: Vec<&str> = rec
            .iter()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        if cells.is_empty()
            || (i == 0 && matches!(cells[0], "部" | "部局" | "department" | "Department"))
        {
            continue;
        }
        out.push(cells.join(" "));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::material::{Contact, MaterialKind};

    fn contact(dep: &str, group: &str) -> Material {
        let mut m = Material::new(
            MaterialKind::Contact,
            "t",
            format!("{dep}/{group}"),
            chrono::DateTime::parse_from_rfc3339("2026-04-01T09:00:00+09:00").unwrap(),
        );
        m.department = Some(dep.into());
        m.contact = Some(Contact {
            department: Some(dep.into()),
            group: Some(group.into()),
            ..Contact::default()
        });
        m
    }

    #[test]
    fn spellings_of_one_department_are_one_name() {
        let want = "健康福祉部 国保医療課";
        for s in [
            "健康福祉部 国保医療課",
            "健康福祉部\u{3000}国保医療課",
            "  健康福祉部  国保医療課 ",
            "健康福祉部国保医療課",
        ] {
            assert_eq!(canonical(s), want, "{s:?}");
        }
        // Old kanji and full-width letters.
        assert_eq!(canonical("國民健康保險課"), "国民健康保険課");
        assert_eq!(canonical("ＩＴ推進課"), "IT推進課");
        // Words with a unit character inside stay whole.
        assert_eq!(canonical("課税課"), "課税課");
        assert_eq!(canonical("総務部長室"), "総務部長室");
        assert_eq!(canonical("経済環境局環境部"), "経済環境局 環境部");
    }

    #[test]
    fn levels_and_containment() {
        assert_eq!(Level::of_path("健康福祉部"), Level::Bu);
        assert_eq!(Level::of_path("健康福祉部 国保医療課"), Level::Ka);
        assert_eq!(
            Level::of_path("健康福祉部 国保医療課 国保係"),
            Level::Kakari
        );
        assert_eq!(
            truncate_to_level("健康福祉部 国保医療課 国保係", Level::Ka),
            "健康福祉部 国保医療課"
        );
        assert_eq!(truncate_to_level("健康福祉部", Level::Ka), "健康福祉部");
        assert!(path_contains("健康福祉部 国保医療課 国保係", "国保医療課"));
        assert!(path_contains(
            "健康福祉部 国保医療課",
            "健康福祉部 国保医療課"
        ));
        assert!(!path_contains("健康福祉部 国保医療課", "医療課"));
        assert!(!path_contains("健康福祉部 国保医療課", ""));
    }

    #[test]
    fn registry_resolves_short_and_misspelled_names() {
        let ms = [
            contact("健康福祉部 国保医療課", "国民健康保険グループ"),
            contact("健康福祉部 国保医療課", "後期高齢者医療グループ"),
            contact("健康福祉部 生活衛生課", "動物愛護グループ"),
            contact("総務部 総務課", "文書係"),
        ];
        let r = Registry::build(
            &ms,
            &["危機管理部,危機管理課".replace(',', " ")],
            &["生活衛生課".into()],
        );
        assert_eq!(r.resolve("国保医療課").unwrap(), "健康福祉部 国保医療課");
        assert_eq!(
            r.resolve("健康福祉部　国保医療課").unwrap(),
            "健康福祉部 国保医療課"
        );
        assert_eq!(r.resolve("危機管理課").unwrap(), "危機管理部 危機管理課");
        let e = r.resolve("国保医寮課").unwrap_err();
        assert_eq!(e.suggestions[0], "健康福祉部 国保医療課");
        assert!(r.resolve("天文台").unwrap_err().suggestions.is_empty());
        let k = r.get("健康福祉部 国保医療課").unwrap();
        assert_eq!((k.materials, k.level), (2, Level::Ka));
        assert_eq!(r.get("健康福祉部").unwrap().materials, 3);
        // The token was resolved to the material's department, not added beside it.
        assert!(r.get("生活衛生課").is_none());
        assert!(
            r.get("健康福祉部 生活衛生課")
                .unwrap()
                .sources
                .contains(&Source::Token)
        );
    }

    #[test]
    fn dictionary_file_rows_are_paths() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("departments.csv");
        assert!(read_dictionary(&p).unwrap().is_empty());
        std::fs::write(
            &p,
            "\u{feff}部,課,係\n# comment\n健康福祉部,国保医療課,国保係\n\n総務部,総務課\n",
        )
        .unwrap();
        assert_eq!(
            read_dictionary(&p).unwrap(),
            vec!["健康福祉部 国保医療課 国保係", "総務部 総務課"]
        );
    }
}
