//! Query-time synonyms from `dictionaries/synonyms.txt`.
//!
//! Format: one group of equivalent terms a line, separated by `,`; `#` starts a comment
//! line. When a term of a group occurs in the normalized query (as a substring, so that
//! segmentation differences cannot hide it), the other terms of the group are added to the
//! query as OR'ed alternatives with a lower weight. Applying synonyms at query time means an
//! edited file takes effect on reload, without reindexing.

use std::path::Path;

use super::{Analyzer, normalize};

/// The synonym file shipped with kotae.
pub const BUILTIN_SYNONYMS: &str = include_str!("../../dictionaries/synonyms.txt");

/// Terms shorter than this many characters are ignored (a one-character term would match
/// inside too many words).
const MIN_TERM_CHARS: usize = 2;

/// One term of a synonym group, with its analyzed forms.
#[derive(Debug, Clone, Default)]
pub struct SynonymTerm {
    /// The term as written in the file.
    pub text: String,
    /// The term after the character filters.
    pub normalized: String,
    /// Its morph-field terms.
    pub morph: Vec<String>,
    /// Its bigram-field terms.
    pub bigrams: Vec<String>,
}

/// A synonym table.
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    groups: Vec<Vec<SynonymTerm>>,
}

impl Synonyms {
    /// Parses the synonym file format; returns the table and the rejected lines (1-based
    /// number, reason).
    pub fn parse(text: &str) -> (Self, Vec<(usize, String)>) {
        let mut groups = Vec::new();
        let mut bad = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_start_matches('\u{feff}').trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut terms: Vec<SynonymTerm> = Vec::new();
            for t in line.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                let normalized = normalize(t).text;
                if normalized.chars().count() < MIN_TERM_CHARS {
                    bad.push((
                        i + 1,
                        format!("term {t:?} is shorter than {MIN_TERM_CHARS} characters"),
                    ));
                    continue;
                }
                if terms.iter().all(|x| x.normalized != normalized) {
                    terms.push(SynonymTerm {
                        text: t.to_string(),
                        normalized,
                        ..Default::default()
                    });
                }
            }
            if terms.len() < 2 {
                bad.push((
                    i + 1,
                    "a group needs at least two distinct terms".to_string(),
                ));
                continue;
            }
            groups.push(terms);
        }
        (Self { groups }, bad)
    }

    /// Reads `dir/synonyms.txt` (the built-in file when absent); bad lines are logged and
    /// skipped.
    pub fn load(dir: &Path) -> Self {
        let path = dir.join("synonyms.txt");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|_| BUILTIN_SYNONYMS.to_string());
        let (s, bad) = Self::parse(&text);
        for (line, reason) in bad {
            tracing::warn!(path = %path.display(), line, reason = %reason, "skipping synonym line");
        }
        s
    }

    /// Returns the built-in table.
    pub fn builtin() -> Self {
        Self::parse(BUILTIN_SYNONYMS).0
    }

    /// Returns the number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Returns whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Fills in the analyzed forms of every term.
    pub(crate) fn prepared(mut self, analyzer: &Analyzer) -> Self {
        for g in &mut self.groups {
            for t in g.iter_mut() {
                t.morph = analyzer
                    .morph_tokens(&t.text)
                    .into_iter()
                    .map(|x| x.term)
                    .collect();
                t.bigrams = analyzer
                    .bigram_tokens(&t.text)
                    .into_iter()
                    .map(|x| x.term)
                    .collect();
            }
        }
        self
    }

    /// Returns the groups with a term in `normalized_query`, each as (the terms found in the
    /// query, the other terms).
    pub fn matching_groups(
        &self,
        normalized_query: &str,
    ) -> Vec<(Vec<&SynonymTerm>, Vec<&SynonymTerm>)> {
        self.groups
            .iter()
            .filter(|g| g.iter().any(|t| normalized_query.contains(&t.normalized)))
            .map(|g| {
                g.iter()
                    .partition(|t| normalized_query.contains(&t.normalized))
            })
            .collect()
    }

    /// Returns the alternatives for a normalized query: the other terms of every group one
    /// of whose terms occurs in it, except terms that occur in it themselves.
    pub fn expand(&self, normalized_query: &str) -> Vec<&SynonymTerm> {
        let mut out: Vec<&SynonymTerm> = Vec::new();
        for g in &self.groups {
            if g.iter().any(|t| normalized_query.contains(&t.normalized)) {
                for t in g {
                    if !normalized_query.contains(&t.normalized)
                        && out.iter().all(|o| o.normalized != t.normalized)
                    {
                        out.push(t);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_skips_comments_and_reports_bad_lines() {
        let (s, bad) = Synonyms::parse("# c\n国保, 国民健康保険\nひとつ\n税,税金\n\n");
        assert_eq!(s.len(), 1);
        assert_eq!(bad.iter().map(|b| b.0).collect::<Vec<_>>(), vec![3, 4, 4]);
    }

    #[test]
    fn expand_adds_the_other_terms_only() {
        let (s, _) = Synonyms::parse("国保, 国民健康保険\n原付, 原動機付自転車\n");
        let alts: Vec<&str> = s
            .expand(&normalize("国保の保険料").text)
            .iter()
            .map(|t| t.text.as_str())
            .collect();
        assert_eq!(alts, vec!["国民健康保険"]);
        assert!(s.expand(&normalize("国民健康保険 国保").text).is_empty());
        assert!(s.expand(&normalize("ごみ").text).is_empty());
    }

    #[test]
    fn builtin_file_has_enough_groups() {
        let (s, bad) = Synonyms::parse(BUILTIN_SYNONYMS);
        assert!(bad.is_empty(), "{bad:?}");
        assert!(s.len() >= 60, "{}", s.len());
    }
}
