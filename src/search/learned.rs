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
//! (Σ qw · idf over the query's morph terms): one shared common word is no evidence.
//!
//! The learned score of m is then scaled by how well its best learned query matches the typed
//! one, so that the evidence of *other* materials does not push the answers that never got
//! feedback down (issue 13 §3: "no loss on queries whose answers never got feedback"):
//!
//! ```text
//! sim(q, typed) = √( Σ_{t ∈ q ∩ typed} qw · idf(t) / Σ_{t ∈ typed} qw · idf(t)
//!                  · |q ∩ typed| / |q| )                      (distinct morph terms)
//! factor(m) = clamp((max_q sim(q, typed) − s₀) / (1 − s₀), 0, 1)    s₀ = min_similarity
//! ```
//!
//! (the geometric mean of how much of the typed query q covers and how much of q the typed
//! query covers). On localgovFAQ a learned query that shares one or two common words of a
//! sentence (手続き, 保険証, 市民税) had lifted its material above the unconfirmed answers as
//! much as a paraphrase does; with s₀ 0.15 such a match counts little or nothing. Optionally
//! (`content_overlap` < 1) a query term the material's own morph fields already hold counts
//! less, so that the learned field mostly adds the words the material lacks. The
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
    /// Multiplier of a learned term's score on a material whose own text (the morph
    /// fields) already holds the term: 1 counts it in full; below 1 the learned group
    /// mostly adds the words the material lacks (document expansion's vocabulary gap).
    pub content_overlap: f32,
    /// Similarity s₀ below which a learned query is no evidence: a material's learned score
    /// is multiplied by (s − s₀) / (1 − s₀), clamped to [0, 1], s the best similarity of
    /// one of its learned queries to the typed query (see the module docs; 0: no factor).
    pub min_similarity: f32,
}

impl Default for LearnedParams {
    /// weight 1.0, min_coverage 0, content_overlap 1 and min_similarity 0.15, chosen on one
    /// direction of `kotae eval --feedback-from tune` (= `benches/feedback/`: feedback from
    /// localgovFAQ fold A, evaluated on fold B; the other direction is the held-out check,
    /// see the README) as the largest gain with no loss on the queries whose answers got no
    /// feedback; k1 1.2 and b 0.5 (the morph group's k1 and the body fields' b).
    fn default() -> Self {
        Self {
            weight: 1.0,
            k1: 1.2,
            b: 0.5,
            min_coverage: 0.0,
            content_overlap: 1.0,
            min_similarity: 0.15,
        }
    }
}

impl LearnedParams {
    /// Parses `name=value` overrides (comma-separated) of the defaults: `weight`, `k1`, `b`,
    /// `min_coverage`, `content_overlap`, `min_similarity` (`kotae eval --learned`).
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] for an unknown name or a value that is not a finite,
    /// non-negative number.
    pub fn parse_overrides(spec: &str) -> crate::Result<Self> {
        let mut p = Self::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad =
                |why: &str| crate::Error::Invalid(format!("bad learned override {part:?}: {why}"));
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| bad("expected NAME=VALUE"))?;
            let v = match v.trim().parse::<f32>() {
                Ok(x) if x.is_finite() && x >= 0.0 => x,
                _ => return Err(bad("expected a finite, non-negative number")),
            };
            match k.trim() {
                "weight" => p.weight = v,
                "k1" => p.k1 = v,
                "b" => p.b = v,
                "min_coverage" => p.min_coverage = v,
                "content_overlap" => p.content_overlap = v,
                "min_similarity" => p.min_similarity = v,
                _ => return Err(bad("unknown parameter")),
            }
        }
        Ok(p)
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
    /// Term → the learned queries holding it (query numbers, ascending).
    query_postings: HashMap<String, Vec<u32>>,
    /// Query number → (slot, number of distinct terms).
    query_of: Vec<(u32, u32)>,
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
                let ts = terms(q);
                for t in ts.iter() {
                    *tf.entry(t.clone()).or_default() += w;
                    len += w;
                }
                let mut distinct: Vec<&String> = ts.iter().collect();
                distinct.sort();
                distinct.dedup();
                if !distinct.is_empty() {
                    let qn = ix.query_of.len() as u32;
                    ix.query_of.push((slot, distinct.len() as u32));
                    for t in distinct {
                        ix.query_postings.entry(t.clone()).or_default().push(qn);
                    }
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
        // The query's terms with their idf, and the idf mass of the query.
        let mut terms: Vec<(&str, f32, f32)> = Vec::new();
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
            terms.push((term, *qw, idf));
        }
        // Slot → its live documents, resolved once per slot: here for every slot the query
        // touches when `content_overlap` needs them, else below for the slots that score.
        let mut docs_of: HashMap<u32, Vec<(usize, DocId)>> = HashMap::new();
        for (term, _, _) in terms.iter().filter(|_| p.content_overlap < 1.0) {
            for &(slot, _) in self.postings.get(*term).into_iter().flatten() {
                if let std::collections::hash_map::Entry::Vacant(e) = docs_of.entry(slot) {
                    e.insert(self.live_docs(searcher, id_field, slot)?);
                }
            }
        }
        // (score, idf mass covered) per learned document.
        let mut per_slot: HashMap<u32, (f32, f32)> = HashMap::new();
        // (idf mass covered, typed terms matched) per learned query.
        let mut per_query: HashMap<u32, (f32, u32)> = HashMap::new();
        for &(term, qw, idf) in &terms {
            if p.min_similarity > 0.0 {
                for &qn in self.query_postings.get(term).into_iter().flatten() {
                    let e = per_query.entry(qn).or_default();
                    e.0 += qw * idf;
                    e.1 += 1;
                }
            }
            let Some(list) = self.postings.get(term) else {
                continue;
            };
            let in_content = if p.content_overlap < 1.0 {
                self.in_content(searcher, g, term, list, &docs_of)?
            } else {
                Default::default()
            };
            let mult = p.weight * qw * idf * (p.k1 + 1.0);
            for &(slot, x) in list {
                let norm = 1.0 - p.b + p.b * self.lens[slot as usize] / self.avglen;
                let x = x / norm.max(1e-3);
                let overlap = if in_content.contains(&slot) {
                    p.content_overlap
                } else {
                    1.0
                };
                let e = per_slot.entry(slot).or_default();
                e.0 += overlap * mult * x / (p.k1 + x);
                e.1 += qw * idf;
            }
        }
        // Best similarity per learned document: of one learned query q to the typed query,
        // √(share of the typed query's idf mass q holds · share of q's terms the typed query
        // holds), so a learned query that shares one word of several is weak evidence.
        let mut best: HashMap<u32, f32> = HashMap::new();
        if mass > 0.0 {
            for (qn, (covered, matched)) in per_query {
                let (slot, n) = self.query_of[qn as usize];
                let s = query_similarity(covered, mass, matched, n);
                let b = best.entry(slot).or_default();
                *b = b.max(s);
            }
        }
        let mut slots: Vec<(u32, (f32, f32))> = per_slot.into_iter().collect();
        slots.sort_by_key(|x| x.0);
        for (slot, (v, covered)) in slots {
            if !(v.is_finite() && v > 0.0) || covered < p.min_coverage * mass {
                continue;
            }
            let v = if p.min_similarity > 0.0 {
                v * similarity_factor(best.get(&slot).copied().unwrap_or(0.0), p.min_similarity)
            } else {
                v
            };
            if !(v.is_finite() && v > 0.0) {
                continue;
            }
            if let std::collections::hash_map::Entry::Vacant(e) = docs_of.entry(slot) {
                e.insert(self.live_docs(searcher, id_field, slot)?);
            }
            for &(si, doc) in docs_of.get(&slot).into_iter().flatten() {
                out[si].push((doc, v));
            }
        }
        for l in &mut out {
            l.sort_by_key(|x| x.0);
        }
        Ok(out)
    }

    /// The live documents (segment, doc) of the material in `slot`, by its id term.
    fn live_docs(
        &self,
        searcher: &Searcher,
        id_field: tantivy::schema::Field,
        slot: u32,
    ) -> tantivy::Result<Vec<(usize, DocId)>> {
        let t = Term::from_field_text(id_field, &self.ids[slot as usize]);
        crate::index::live_docs_with(searcher, &t)
    }

    /// The slots of `list` whose material's own text (a field of `g`) holds `term`.
    fn in_content(
        &self,
        searcher: &Searcher,
        g: &TermGroup,
        term: &str,
        list: &[(u32, f32)],
        docs_of: &HashMap<u32, Vec<(usize, DocId)>>,
    ) -> tantivy::Result<std::collections::HashSet<u32>> {
        let mut found = std::collections::HashSet::new();
        for (si, s) in searcher.segment_readers().iter().enumerate() {
            let mut want: Vec<(DocId, u32)> = list
                .iter()
                .flat_map(|&(slot, _)| {
                    docs_of
                        .get(&slot)
                        .into_iter()
                        .flatten()
                        .filter(move |d| d.0 == si)
                        .map(move |d| (d.1, slot))
                })
                .collect();
            if want.is_empty() {
                continue;
            }
            want.sort_unstable();
            for f in &g.fields {
                let t = Term::from_field_text(f.field, term);
                let Some(mut postings) = s
                    .inverted_index(f.field)?
                    .read_postings(&t, IndexRecordOption::Basic)?
                else {
                    continue;
                };
                for &(doc, slot) in &want {
                    if postings.doc() > doc {
                        continue;
                    }
                    if postings.seek(doc) == doc {
                        found.insert(slot);
                    }
                    if postings.doc() == TERMINATED {
                        break;
                    }
                }
            }
        }
        Ok(found)
    }
}

/// The similarity of a learned query to the typed one (see the module docs): `covered` of
/// the typed query's idf mass `mass` is in the learned query, and `matched` of its `n`
/// distinct terms are in the typed query.
fn query_similarity(covered: f32, mass: f32, matched: u32, n: u32) -> f32 {
    if mass <= 0.0 || n == 0 {
        return 0.0;
    }
    ((covered / mass).clamp(0.0, 1.0) * (matched as f32 / n as f32).min(1.0)).sqrt()
}

/// The factor of a material's learned score for the best similarity `s` of its learned
/// queries and the threshold `s0`: (s − s₀) / (1 − s₀) clamped to [0, 1].
fn similarity_factor(s: f32, s0: f32) -> f32 {
    let s0 = s0.clamp(0.0, 0.99);
    ((s - s0) / (1.0 - s0)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_learned_query_sharing_one_common_word_is_no_evidence() {
        // Typed: 4 terms of idf mass 10; a paraphrase holds 8 of it in 4 of its 5 terms,
        // a learned query of 8 terms shares one common word (idf 0.8).
        let paraphrase = query_similarity(8.0, 10.0, 4, 5);
        let one_word = query_similarity(0.8, 10.0, 1, 8);
        assert!(
            paraphrase > 0.7 && one_word < 0.15,
            "{paraphrase} {one_word}"
        );
        assert_eq!(similarity_factor(one_word, 0.15), 0.0);
        assert!(similarity_factor(paraphrase, 0.15) > 0.6);
        assert_eq!(similarity_factor(1.0, 0.15), 1.0);
        assert_eq!(query_similarity(1.0, 0.0, 1, 1), 0.0);
        assert_eq!(query_similarity(1.0, 1.0, 1, 0), 0.0);
    }

    #[test]
    fn overrides_parse_and_reject_unknown_names() {
        let p = LearnedParams::parse_overrides("weight=2, min_similarity=0.3").unwrap();
        assert_eq!((p.weight, p.min_similarity), (2.0, 0.3));
        assert!(LearnedParams::parse_overrides("nope=1").is_err());
        assert!(LearnedParams::parse_overrides("weight=-1").is_err());
    }

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
