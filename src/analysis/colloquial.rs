//! Callers' words (話し言葉) → the administrative terms the materials use, from
//! `dictionaries/colloquial.txt`: 落とした → 紛失, 引っ越した → 転居・転入・転出,
//! 捨てたい → ごみ・処分.
//!
//! Format: `word, word => term, term` a line; `#` starts a comment line. The left side is
//! matched against the query's morph terms (IPADIC base forms, katakana folded to hiragana:
//! 失くしてしまった → 失くす), so every inflection of a verb meets its line; the right side
//! is added to the query at a lower weight (`RankingParams::colloquial_weight`). Unlike
//! synonyms the expansion is one-way and need not be an equivalence: it says how the
//! materials write what a caller says.

use std::sync::OnceLock;

use super::normalize::{katakana_to_hiragana, normalize};

/// The colloquial list shipped with kotae.
pub const BUILTIN_COLLOQUIAL: &str = include_str!("../../dictionaries/colloquial.txt");

/// A colloquial list: rules of (callers' words as morph terms, administrative terms).
#[derive(Debug, Clone, Default)]
pub struct Colloquial {
    rules: Vec<(Vec<String>, Vec<String>)>,
}

/// Folds a word as the morph field's terms are (normalisation, katakana → hiragana).
fn fold(word: &str) -> String {
    normalize(word)
        .text
        .chars()
        .map(katakana_to_hiragana)
        .collect()
}

impl Colloquial {
    /// Parses the file format; returns the list and the rejected lines (1-based number,
    /// reason).
    pub fn parse(text: &str) -> (Self, Vec<(usize, String)>) {
        let mut rules = Vec::new();
        let mut bad = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_start_matches('\u{feff}').trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((lhs, rhs)) = line.split_once("=>") else {
                bad.push((i + 1, "expected `word, word => term, term`".to_string()));
                continue;
            };
            let list = |s: &str| -> Vec<String> {
                s.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect()
            };
            let keys: Vec<String> = list(lhs).iter().map(|k| fold(k)).collect();
            let terms = list(rhs);
            if keys.is_empty() || terms.is_empty() {
                bad.push((i + 1, "a side of `=>` is empty".to_string()));
                continue;
            }
            rules.push((keys, terms));
        }
        (Self { rules }, bad)
    }

    /// The built-in list (parsed once).
    pub fn builtin() -> &'static Colloquial {
        static BUILTIN: OnceLock<Colloquial> = OnceLock::new();
        BUILTIN.get_or_init(|| Self::parse(BUILTIN_COLLOQUIAL).0)
    }

    /// The administrative terms for the query's morph terms `terms`, each once, in the
    /// list's order.
    pub fn expansions<'a, 'b>(&'a self, terms: impl IntoIterator<Item = &'b str>) -> Vec<&'a str> {
        let terms: Vec<&str> = terms.into_iter().collect();
        let mut out: Vec<&str> = Vec::new();
        for (keys, expansions) in &self.rules {
            if keys.iter().any(|k| terms.contains(&k.as_str())) {
                for e in expansions {
                    if !out.contains(&e.as_str()) && !terms.contains(&fold(e).as_str()) {
                        out.push(e);
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
    use crate::analysis::Analyzer;

    #[test]
    fn inflected_verbs_meet_their_line() {
        let a = Analyzer::builtin().expect("IPADIC");
        let c = Colloquial::builtin();
        let terms =
            |q: &str| -> Vec<String> { a.morph_tokens(q).into_iter().map(|t| t.term).collect() };
        let t = terms("マイナンバーカードを落としてしまった");
        let e = c.expansions(t.iter().map(String::as_str));
        assert!(e.contains(&"紛失"), "{t:?} → {e:?}");
        let t = terms("来月引っ越したのですが");
        let e = c.expansions(t.iter().map(String::as_str));
        assert!(e.contains(&"転入") && e.contains(&"転出"), "{t:?} → {e:?}");
        // A query already in administrative terms gets nothing new for them.
        let t = terms("住民票の交付");
        assert!(c.expansions(t.iter().map(String::as_str)).is_empty());
    }

    #[test]
    fn bad_lines_are_reported() {
        let (c, bad) = Colloquial::parse("落とす => 紛失\nno arrow\n => 転居\n");
        assert_eq!(c.expansions(["落とす"]), ["紛失"]);
        assert_eq!(bad.iter().map(|b| b.0).collect::<Vec<_>>(), [2, 3]);
    }
}
