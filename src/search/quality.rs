//! Match quality: how much of a query's content the material covers, so that the operator
//! sees when nothing fits (and escalates) instead of trusting a first hit that shares a kanji.
//!
//! A query's **content units** are its distinct morph terms (nouns, verbs, adjectives after
//! the stop tags, stop words and fillers are gone), or, for a kana-typed query, its
//! space-separated chunks. A material covers a unit when it has the term in a morph field or
//! as a short form in an abbreviation field (生保 → 生活保護), or, for a kana chunk, every
//! bigram of the chunk in a reading field. The quality of a hit is the idf-weighted share of
//! the units it covers (idf as in [`super::bm25f`], df = materials covering the unit):
//! rare words count more than common ones (申請, 手続き).
//!
//! The response-level [`MatchLevel`] is that of the best hit: `good` at
//! [`GOOD_QUALITY`] or more, `partial` at [`PARTIAL_QUALITY`] or more, `none` below or
//! without hits. Thresholds chosen on the operator dev set
//! (`tests/fixtures/operator-queries`, answerable against unanswerable queries).

use std::collections::HashMap;

use serde::Serialize;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Searcher, TERMINATED, Term};

/// Least best-hit quality for [`MatchLevel::Good`].
pub const GOOD_QUALITY: f32 = 0.75;
/// Least best-hit quality for [`MatchLevel::Partial`].
pub const PARTIAL_QUALITY: f32 = 0.3;
/// Most content units considered (one bit each).
pub const MAX_UNITS: usize = 32;

/// How well the best hit fits the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MatchLevel {
    /// The best hit covers (nearly) all of the query's content.
    Good,
    /// It covers some of it.
    Partial,
    /// Nothing fits: the operator should escalate.
    None,
}

impl MatchLevel {
    /// The level of a best-hit quality `q` (`None` when there is no hit).
    pub fn of(q: Option<f32>) -> Self {
        match q {
            Some(q) if q >= GOOD_QUALITY => Self::Good,
            Some(q) if q >= PARTIAL_QUALITY => Self::Partial,
            _ => Self::None,
        }
    }
}

/// One way to cover a unit: every term present (each in any of its fields).
pub type Alternative = Vec<(Vec<Field>, String)>;

/// A content unit: covered when any alternative is.
#[derive(Debug, Clone, Default)]
pub struct Unit {
    /// The alternatives.
    pub alternatives: Vec<Alternative>,
}

/// Per segment: doc → bitmask of the units it covers.
pub struct Coverage {
    masks: Vec<HashMap<DocId, u32>>,
    idf: Vec<f32>,
}

impl Coverage {
    /// Computes which materials cover which of `units` (at most [`MAX_UNITS`]).
    ///
    /// # Errors
    /// tantivy I/O errors reading postings.
    pub fn compute(searcher: &Searcher, units: &[Unit]) -> tantivy::Result<Self> {
        let segs = searcher.segment_readers();
        let mut masks: Vec<HashMap<DocId, u32>> = vec![HashMap::new(); segs.len()];
        let mut df = vec![0usize; units.len().min(MAX_UNITS)];
        for (si, s) in segs.iter().enumerate() {
            let alive = s.alive_bitset();
            for (ui, unit) in units.iter().take(MAX_UNITS).enumerate() {
                let mut covered: Vec<DocId> = Vec::new();
                for alt in &unit.alternatives {
                    let mut acc: Option<Vec<DocId>> = None;
                    for (fields, term) in alt {
                        let mut docs: Vec<DocId> = Vec::new();
                        for &f in fields {
                            let inv = s.inverted_index(f)?;
                            let t = Term::from_field_text(f, term);
                            if let Some(mut p) = inv.read_postings(&t, IndexRecordOption::Basic)? {
                                let mut d = p.doc();
                                while d != TERMINATED {
                                    if alive.is_none_or(|a| a.is_alive(d)) {
                                        docs.push(d);
                                    }
                                    d = p.advance();
                                }
                            }
                        }
                        docs.sort_unstable();
                        docs.dedup();
                        acc = Some(match acc {
                            None => docs,
                            Some(prev) => prev
                                .into_iter()
                                .filter(|d| docs.binary_search(d).is_ok())
                                .collect(),
                        });
                        if acc.as_ref().is_some_and(Vec::is_empty) {
                            break;
                        }
                    }
                    covered.extend(acc.unwrap_or_default());
                }
                covered.sort_unstable();
                covered.dedup();
                df[ui] += covered.len();
                for d in covered {
                    *masks[si].entry(d).or_default() |= 1 << ui;
                }
            }
        }
        let n = searcher.num_docs().max(1) as f32;
        let idf = df
            .iter()
            .map(|&d| (1.0 + (n - d as f32 + 0.5) / (d as f32 + 0.5)).ln())
            .collect();
        Ok(Self { masks, idf })
    }

    /// Whether the material `(segment, doc)` covers any unit.
    pub fn matches(&self, si: usize, doc: DocId) -> bool {
        self.masks.get(si).is_some_and(|m| m.contains_key(&doc))
    }

    /// Whether there are content units at all (a query of fillers only has none).
    pub fn has_units(&self) -> bool {
        !self.idf.is_empty()
    }

    /// The idf-weighted share of the units `(segment, doc)` covers, in [0, 1].
    pub fn quality(&self, si: usize, doc: DocId) -> f32 {
        let total: f32 = self.idf.iter().sum();
        if total <= 0.0 {
            return 0.0;
        }
        let mask = self
            .masks
            .get(si)
            .and_then(|m| m.get(&doc))
            .copied()
            .unwrap_or(0);
        let got: f32 = self
            .idf
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, w)| w)
            .sum();
        (got / total).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_thresholds() {
        assert_eq!(MatchLevel::of(Some(1.0)), MatchLevel::Good);
        assert_eq!(MatchLevel::of(Some(GOOD_QUALITY)), MatchLevel::Good);
        assert_eq!(MatchLevel::of(Some(0.5)), MatchLevel::Partial);
        assert_eq!(MatchLevel::of(Some(0.1)), MatchLevel::None);
        assert_eq!(MatchLevel::of(Some(PARTIAL_QUALITY)), MatchLevel::Partial);
        assert_eq!(MatchLevel::of(None), MatchLevel::None);
    }
}
