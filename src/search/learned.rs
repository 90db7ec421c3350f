//! The learned field: document expansion from answered inquiries. Each material with
//! evidence (see [`crate::learn`]) has a small document of learned queries, each with a
//! weight (its count, decayed by age); they are analysed with the morph analyser and scored
//! as one more BM25F group over a side index held in memory, so new evidence is swapped in
//! without touching the tantivy index (no reindex, no rebuild).
//!
//! For a query term t (the morph group's terms, with their query weights qw, synonym
//! alternatives included) and a material m with learned queries q of weights w_q:
//!
//! ```text
//! tf~(t, m) = Σ_q w_q · tf(t, q) / (1 − b + b · len(m) / avglen)      len(m) = Σ_q w_q · |q|
//! score(t, m) = weight · qw · idf(t) · tf~ · (k1 + 1) / (k1 + tf~)
//! idf(t) = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))
//! ```
//!
//! as in [`super::bm25f`] (Robertson, Zaragoza & Taylor 2004), with N the live documents of
//! the searcher, df(t) the larger of t's df in the morph fields and in the learned documents
//! (the corpus says how specific a word is; the sparse learned field alone would make every
//! common word look rare), and avglen the mean `len` over the learned documents (the
//! materials without evidence do not dilute it). A material's learned score counts only when
//! its learned queries hold at least `min_coverage` of the query's idf mass
//! (Σ qw · idf over the query's morph terms): one shared common word is no evidence. The
//! per-document sums go to [`super::maxscore::top_k_with`] as precomputed contributions, so
//! the top k stays the exhaustive one. With no evidence the index is empty and the ranking
//! is exactly the one without it.

use std::collections::HashMap;

use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Searcher, TERMINATED, Term};

use crate::analysis::Analyzer;

use super::bm25f::TermGroup;

/// Parameters of the learned group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LearnedParams {
    /// Multiplier of the group's score (0: off).
    pub weight: f32,
    /// Saturation k1.
    pub k1: f32,
    /// Length normalisation b.
    pub b: f32,
    /// Least share of the query's idf mass (Σ qw · idf over its morph terms) that a
    /// material's learned queries must hold for the group to count for it at all.
    pub min_coverage: f32,
}

impl Default for LearnedParams {
    /// weight 1.0 and min_coverage 0, chosen on one direction of `benches/feedback/`
    /// (feedback from localgovFAQ fold A, evaluated on fold B; the other direction is the
    /// held-out check, see the README); k1 1.2 and b 0.5 (the morph group's k1 and the body
    /// fields' b).
    fn default() -> Self {
        Self {
            weight: 1.0,
            k1: 1.2,
            b: 0.5,
            min_coverage: 0.0,
        }
    }
}

/// One material's learned queries: (redacted query text, weight > 0).
#[derive(Debug, Clone, PartialEq)]
pub struct LearnedDoc {
    /// The material id.
    pub material_id: String,
    /// The queries and their weights.
    pub queries: Vec<(String, f32)>,
}

/// The side index of learned queries (see the module docs).
#[derive(Debug, Default)]
pub struct LearnedIndex {
    params: LearnedParams,
    /// Slot → material id.
    ids: Vec<String>,
    /// Term → (slot, Σ_q w_q · tf(t, q)), ascending slot.
    postings: HashMap<String, Vec<(u32, f32)>>,
    /// Slot → len(m).
    lens: Vec<f32>,
    avglen: f32,
    /// Learned queries in all (for status and tests).
    queries: usize,
}

impl LearnedIndex {
    /// An index without evidence: ranking is unchanged.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Builds the index of `docs` with `analyzer`'s morph tokens (those of the morph fields).
    pub fn build(analyzer: &Analyzer, docs: &[LearnedDoc], params: LearnedParams) -> Self {
        Self::build_with(
            |q| {
                analyzer
                    .morph_tokens(q)
                    .into_iter()
                    .map(|t| t.term)
                    .collect()
            },
            docs,
            params,
        )
    }

    /// [`LearnedIndex::build`] with the morph terms of a query given by `terms` (a cache of
    /// them: a refresh then costs no analysis of the queries seen before).
    pub fn build_with(
        mut terms: impl FnMut(&str) -> std::sync::Arc<[String]>,
        docs: &[LearnedDoc],
        params: LearnedParams,
    ) -> Self {
        let mut ix = Self {
            params,
            ..Self::default()
        };
        for d in docs {
            let slot = ix.ids.len() as u32;
            let mut tf: HashMap<String, f32> = HashMap::new();
            let mut len = 0f32;
            for (q, w) in &d.queries {
                if !(w.is_finite() && *w > 0.0) {
                    continue;
                }
                ix.queries += 1;
                for t in terms(q).iter() {
                    *tf.entry(t.clone()).or_default() += w;
                    len += w;
                }
            }
            if tf.is_empty() {
                continue;
            }
            ix.ids.push(d.material_id.clone());
            ix.lens.push(len);
            let mut terms: Vec<(String, f32)> = tf.into_iter().collect();
            terms.sort_by(|a, b| a.0.cmp(&b.0));
            for (t, x) in terms {
                ix.postings.entry(t).or_default().push((slot, x));
            }
        }
        if !ix.lens.is_empty() {
            ix.avglen = (ix.lens.iter().sum::<f32>() / ix.lens.len() as f32).max(1.0);
        }
        ix
    }

    /// The parameters.
    pub fn params(&self) -> LearnedParams {
        self.params
    }

    /// Number of materials with learned queries.
    pub fn materials(&self) -> usize {
        self.ids.len()
    }

    /// Number of learned queries indexed.
    pub fn queries(&self) -> usize {
        self.queries
    }

    /// Whether there is no evidence (or the group is off).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() || self.params.weight <= 0.0
    }

    /// The learned group's contribution per live document of `searcher` for the query
    /// terms of `morph` (the plan's morph group), as [`super::maxscore::ExtraScores`]:
    /// per segment, ascending doc ids. Materials are found by their id term in `id_field`.
    ///
    /// # Errors
    /// tantivy I/O errors.
    pub fn contributions(
        &self,
        searcher: &Searcher,
        id_field: tantivy::schema::Field,
        morph: Option<&TermGroup>,
    ) -> tantivy::Result<Vec<Vec<(DocId, f32)>>> {
        let segs = searcher.segment_readers();
        let mut out = vec![Vec::new(); segs.len()];
        let Some(g) = morph.filter(|_| !self.is_empty()) else {
            return Ok(out);
        };
        let p = self.params;
        let n_docs = searcher.num_docs().max(1) as f32;
        // (score, idf mass covered) per learned document.
        let mut per_slot: HashMap<u32, (f32, f32)> = HashMap::new();
        let mut mass = 0f32;
        for (term, qw) in &g.terms {
            if *qw <= 0.0 {
                continue;
            }
            // A term's specificity is the corpus's: its df in the morph fields (the largest
            // of them), or in the learned documents when that is larger. The learned field
            // alone is sparse and would make every common word look rare.
            let mut df = self.postings.get(term).map_or(0, Vec::len) as u64;
            for f in &g.fields {
                df = df.max(searcher.doc_freq(&Term::from_field_text(f.field, term))?);
            }
            if df == 0 {
                continue;
            }
            let df = df as f32;
            let idf = (1.0 + (n_docs - df + 0.5) / (df + 0.5)).ln();
            mass += qw * idf;
            let Some(list) = self.postings.get(term) else {
                continue;
            };
            let mult = p.weight * qw * idf * (p.k1 + 1.0);
            for &(slot, x) in list {
                let norm = 1.0 - p.b + p.b * self.lens[slot as usize] / self.avglen;
                let x = x / norm.max(1e-3);
                let e = per_slot.entry(slot).or_default();
                e.0 += mult * x / (p.k1 + x);
                e.1 += qw * idf;
            }
        }
        let mut slots: Vec<(u32, (f32, f32))> = per_slot.into_iter().collect();
        slots.sort_by_key(|x| x.0);
        for (slot, (v, covered)) in slots {
            if !(v.is_finite() && v > 0.0) || covered < p.min_coverage * mass {
                continue;
            }
            let t = Term::from_field_text(id_field, &self.ids[slot as usize]);
            for (si, s) in segs.iter().enumerate() {
                let Some(mut postings) = s
                    .inverted_index(id_field)?
                    .read_postings(&t, IndexRecordOption::Basic)?
                else {
                    continue;
                };
                let alive = s.alive_bitset();
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    if alive.is_none_or(|a| a.is_alive(doc)) {
                        out[si].push((doc, v));
                    }
                    doc = postings.advance();
                }
            }
        }
        for l in &mut out {
            l.sort_by_key(|x| x.0);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_queries_weigh_more_and_unknown_terms_score_nothing() {
        let a = Analyzer::builtin().unwrap();
        let docs = vec![
            LearnedDoc {
                material_id: "m1".into(),
                queries: vec![("粗大ごみ 出し方".into(), 3.0)],
            },
            LearnedDoc {
                material_id: "m2".into(),
                queries: vec![("粗大ごみ 出し方".into(), 1.0), ("犬 登録".into(), 1.0)],
            },
        ];
        let ix = LearnedIndex::build(&a, &docs, LearnedParams::default());
        assert_eq!((ix.materials(), ix.queries()), (2, 3));
        let first = a.morph_tokens("粗大ごみ").remove(0).term;
        let t = ix
            .postings
            .get(&first)
            .expect("term of the learned queries");
        assert_eq!(t.len(), 2);
        assert!(t[0].1 > t[1].1, "{t:?}");
        assert!(!ix.postings.contains_key("年金"));
        assert!(LearnedIndex::empty().is_empty());
    }
}
