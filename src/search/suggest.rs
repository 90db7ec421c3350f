//! Suggestions while the operator types (`GET /api/suggest`): material titles/questions,
//! the words of the titles (nouns and noun compounds), and frequent answered queries that
//! continue what is typed. A kana prefix finds kanji words by their IPADIC reading
//! (こくみん → 国民健康保険), as the reading field does for searches.
//!
//! # Matching
//! Every entry has one or more **keys**: its text normalised as queries are (width, old
//! kanji; [`crate::analysis::normalize`]), katakana folded to hiragana, and, for words, also
//! its reading in hiragana ([`Analyzer::reading_text`]). An entry matches when one of its
//! keys starts with the typed text (normalised and folded the same way). Keys are kept
//! sorted, so a prefix is a binary search plus a scan of the matching range, at most
//! [`MAX_SCANNED`] keys: the cost does not grow with the corpus for a long prefix, and stays
//! bounded for a one-character one.
//!
//! # Order
//! Answered queries first (most answered first), then words (in most titles first) and
//! titles alternately, so that neither kind crowds the other out of a short list; duplicates
//! of one text are shown once.

use std::collections::HashMap;

use serde::Serialize;

use crate::analysis::Analyzer;
use crate::analysis::normalize::{is_ideograph, katakana_to_hiragana, normalize};
use crate::material::Material;

/// Default number of suggestions.
pub const DEFAULT_LIMIT: usize = 8;
/// Largest accepted `limit`.
pub const MAX_LIMIT: usize = 20;
/// Most keys scanned for one prefix (a one-character prefix of a large corpus matches more).
pub const MAX_SCANNED: usize = 4096;
/// Most answered queries kept (the most frequent).
pub const MAX_QUERIES: usize = 1000;

/// What a suggestion is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SuggestionKind {
    /// A material's title or FAQ question.
    Title,
    /// A word (noun or noun compound) of the titles.
    Term,
    /// A query operators typed before answering an inquiry.
    Query,
}

/// One suggestion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    /// The text to put in the search box.
    pub text: String,
    /// What it is.
    pub kind: SuggestionKind,
    /// The material, for a title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub material_id: Option<String>,
}

#[derive(Debug, Clone)]
struct Entry {
    text: String,
    kind: SuggestionKind,
    material_id: Option<String>,
    /// Higher first: titles sharing the word for a term, answered count for a query.
    weight: u64,
}

/// The suggestion index of one material set (and one list of answered queries).
#[derive(Debug, Default)]
pub struct Suggester {
    /// (key, entry index), sorted by key.
    keys: Vec<(String, u32)>,
    entries: Vec<Entry>,
}

/// Folds `s` for matching: normalised as queries are, katakana to hiragana, lowercase, no
/// spaces.
pub fn fold(s: &str) -> String {
    normalize(s)
        .text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(katakana_to_hiragana)
        .flat_map(char::to_lowercase)
        .collect()
}

impl Suggester {
    /// Builds the index over `materials`' titles and their words, and `queries` (answered
    /// queries with their counts; at most [`MAX_QUERIES`], the most frequent, are kept).
    pub fn build<'a>(
        analyzer: &Analyzer,
        materials: impl IntoIterator<Item = &'a Material>,
        queries: &[(String, u64)],
    ) -> Self {
        let mut s = Self::default();
        let mut words: HashMap<String, u64> = HashMap::new();
        for m in materials {
            let title = m.display_title();
            let title = title.trim();
            if title.is_empty() {
                continue;
            }
            s.push(
                Entry {
                    text: title.to_string(),
                    kind: SuggestionKind::Title,
                    material_id: Some(m.id.clone()),
                    weight: 1,
                },
                &[fold(title)],
            );
            let mut seen: Vec<String> = Vec::new();
            let compounds = analyzer.compounds(title).into_iter().map(|p| p.concat());
            let nouns = analyzer
                .morph_tokens(title)
                .into_iter()
                .filter(|t| t.noun)
                .filter_map(|t| title.get(t.start..t.end).map(str::to_string));
            for w in compounds.chain(nouns) {
                let useful = w.chars().count() >= 2 && w.chars().any(|c| !is_hiragana(c));
                if useful && !seen.contains(&w) {
                    *words.entry(w.clone()).or_default() += 1;
                    seen.push(w);
                }
            }
        }
        let mut words: Vec<(String, u64)> = words.into_iter().collect();
        words.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (w, n) in words {
            let mut keys = vec![fold(&w)];
            if w.chars().any(is_ideograph) {
                let reading: String = analyzer
                    .reading_text(&w)
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                if !reading.is_empty() && !keys.contains(&reading) {
                    keys.push(reading);
                }
            }
            s.push(
                Entry {
                    text: w,
                    kind: SuggestionKind::Term,
                    material_id: None,
                    weight: n,
                },
                &keys,
            );
        }
        let mut queries: Vec<&(String, u64)> = queries.iter().collect();
        queries.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        for (q, n) in queries.into_iter().take(MAX_QUERIES) {
            let q = q.trim();
            if !q.is_empty() {
                s.push(
                    Entry {
                        text: q.to_string(),
                        kind: SuggestionKind::Query,
                        material_id: None,
                        weight: *n,
                    },
                    &[fold(q)],
                );
            }
        }
        s.keys.sort_unstable();
        s
    }

    fn push(&mut self, e: Entry, keys: &[String]) {
        let i = self.entries.len() as u32;
        self.entries.push(e);
        for k in keys.iter().filter(|k| !k.is_empty()) {
            self.keys.push((k.clone(), i));
        }
    }

    /// Number of entries (titles, words and queries).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Returns up to `limit` suggestions continuing `typed` (see the module docs for the
    /// order); none for an empty prefix.
    pub fn suggest(&self, typed: &str, limit: usize) -> Vec<Suggestion> {
        let key = fold(typed);
        if key.is_empty() || limit == 0 {
            return Vec::new();
        }
        let start = self
            .keys
            .partition_point(|(k, _)| k.as_str() < key.as_str());
        let mut found: Vec<u32> = self.keys[start..]
            .iter()
            .take(MAX_SCANNED)
            .take_while(|(k, _)| k.starts_with(&key))
            .map(|&(_, i)| i)
            .collect();
        found.sort_unstable();
        found.dedup();
        let by_kind = |kind: SuggestionKind| {
            let mut v: Vec<&Entry> = found
                .iter()
                .map(|&i| &self.entries[i as usize])
                .filter(|e| e.kind == kind)
                .collect();
            // Most weight first, then the shorter (the closer continuation), then the text.
            v.sort_by(|a, b| {
                b.weight
                    .cmp(&a.weight)
                    .then_with(|| a.text.chars().count().cmp(&b.text.chars().count()))
                    .then_with(|| a.text.cmp(&b.text))
            });
            v.into_iter()
        };
        let mut order: Vec<&Entry> = by_kind(SuggestionKind::Query).collect();
        let mut terms = by_kind(SuggestionKind::Term);
        let mut titles = by_kind(SuggestionKind::Title);
        loop {
            let (t, d) = (terms.next(), titles.next());
            if t.is_none() && d.is_none() {
                break;
            }
            order.extend(t);
            order.extend(d);
        }
        let mut out: Vec<Suggestion> = Vec::with_capacity(limit);
        for e in order {
            if out.len() == limit {
                break;
            }
            if out.iter().any(|s| s.text == e.text) {
                continue;
            }
            out.push(Suggestion {
                text: e.text.clone(),
                kind: e.kind,
                material_id: e.material_id.clone(),
            });
        }
        out
    }
}

fn is_hiragana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{309F}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::material::MaterialKind;

    fn faq(id: &str, q: &str) -> Material {
        let mut m = Material::new(
            MaterialKind::Faq,
            "test",
            id,
            chrono::DateTime::parse_from_rfc3339("2026-04-01T09:00:00+09:00").unwrap(),
        );
        m.question = Some(q.into());
        m.answer = Some("窓口で手続きしてください。".into());
        m
    }

    fn suggester() -> Suggester {
        let a = Analyzer::builtin().expect("IPADIC");
        let ms = [
            faq("a", "国民健康保険の加入手続き"),
            faq("b", "国民健康保険料の減免"),
            faq("c", "国民年金の免除"),
            faq("d", "マイナンバーカードの受け取り"),
        ];
        Suggester::build(
            &a,
            ms.iter(),
            &[("国保 脱退".into(), 3), ("国保 加入".into(), 5)],
        )
    }

    fn texts(s: &[Suggestion]) -> Vec<&str> {
        s.iter().map(|s| s.text.as_str()).collect()
    }

    #[test]
    fn a_kana_prefix_finds_kanji_words_by_reading() {
        let s = suggester();
        let got = s.suggest("こくみん", 8);
        assert!(texts(&got).contains(&"国民健康保険"), "{got:?}");
        assert!(
            got.iter().all(|g| g.kind == SuggestionKind::Term),
            "{got:?}"
        );
        // The katakana of the materials is found from hiragana and from half-width input.
        let got = s.suggest("まいなん", 8);
        assert!(
            texts(&got).iter().any(|t| t.starts_with("マイナンバー")),
            "{got:?}"
        );
        let got = s.suggest("ﾏｲﾅﾝ", 8);
        assert!(
            texts(&got).iter().any(|t| t.starts_with("マイナンバー")),
            "{got:?}"
        );
    }

    #[test]
    fn queries_come_first_most_answered_first_then_words_and_titles() {
        let s = suggester();
        let got = s.suggest("国", 8);
        assert_eq!(texts(&got)[..2], ["国保 加入", "国保 脱退"], "{got:?}");
        assert_eq!(got[2].kind, SuggestionKind::Term, "{got:?}");
        assert_eq!(got[3].kind, SuggestionKind::Title, "{got:?}");
        assert!(got[3].material_id.is_some());
        // The word in most titles (国民: all three) comes first among the words.
        assert_eq!(got[2].text, "国民", "{got:?}");
        let titles = s.suggest("国民健康保険の", 8);
        assert_eq!(texts(&titles), ["国民健康保険の加入手続き"]);
    }

    #[test]
    fn limits_and_empty_prefixes() {
        let s = suggester();
        assert_eq!(s.suggest("国", 3).len(), 3);
        assert!(s.suggest("", 8).is_empty());
        assert!(s.suggest("   ", 8).is_empty());
        assert!(s.suggest("道路", 8).is_empty());
        let all = s.suggest("国", MAX_LIMIT);
        let mut seen = std::collections::HashSet::new();
        assert!(all.iter().all(|g| seen.insert(g.text.clone())), "{all:?}");
    }
}
