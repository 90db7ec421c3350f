//! The second stage: pseudo-relevance feedback (a first pass expands the query) and the
//! rescoring of the top candidates by query–question similarity.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::analysis::Analyzer;
use crate::index::MaterialIndex;
use crate::material::Material;

use super::params::RankingParams;
use super::plan::{QueryAnalysis, QueryPlan, add_counted, is_hiragana_only};
use super::rank::rank;
use super::request::SearchRequest;

/// Expands `plan` with pseudo-relevance feedback: the morph terms of the titles/questions
/// of the top `w.prf_docs` documents of a first pass, each weighted by the normalised
/// scores of the documents it occurs in (a simplified RM3: Lavrenko & Croft,
/// "Relevance-based language models", SIGIR 2001; Abdul-Jaleel et al., "UMass at TREC
/// 2004"), at most `w.prf_terms` terms, at query weight `w.prf_weight` × that score.
pub(crate) fn with_feedback(
    index: &MaterialIndex,
    analyzer: &Analyzer,
    materials: &HashMap<String, Arc<Material>>,
    mut plan: QueryPlan,
    req: &SearchRequest,
    now: i64,
    w: &RankingParams,
) -> tantivy::Result<QueryPlan> {
    if w.prf_docs == 0 || w.prf_terms == 0 || plan.groups.is_empty() {
        return Ok(plan);
    }
    let first = SearchRequest {
        limit: w.prf_docs,
        offset: 0,
        ..req.clone()
    };
    let searcher = index.reader().searcher();
    let ranked = rank(index, &searcher, &plan, &first, now, false, None, &[])?;
    let Some(top_score) = ranked.page.first().map(|p| p.score) else {
        return Ok(plan);
    };
    let mut weights: Vec<(String, f32)> = Vec::new();
    for d in &ranked.page {
        let Some(m) = ranked.id_of(d).and_then(|id| materials.get(&id)) else {
            continue;
        };
        let mut seen = HashSet::new();
        for t in analyzer.morph_tokens(&m.title_text()) {
            if seen.insert(t.term.clone()) {
                add_counted(&mut weights, [t.term], d.score / top_score);
            }
        }
    }
    let Some(morph) = plan
        .groups
        .iter_mut()
        .find(|g| g.fields.first().map(|f| f.field) == Some(index.fields().title_morph))
    else {
        return Ok(plan);
    };
    weights.retain(|(t, _)| !morph.terms.iter().any(|(q, _)| q == t));
    weights.sort_by(|a, b| b.1.total_cmp(&a.1));
    weights.truncate(w.prf_terms);
    let norm = w.prf_docs as f32;
    for (t, x) in weights {
        morph.terms.push((t, w.prf_weight * x / norm));
    }
    Ok(plan)
}

/// Second-stage rescoring of the top candidates: query–question similarity (the Dice
/// coefficient of the query's and the question's (or title's) bigram sets, hiragana-only
/// bigrams left out; FAQ retrieval studies find it the strongest single signal: Sakata et
/// al., SIGIR 2019, on this very localgovFAQ data) and term proximity (see [`proximity`]).
pub(crate) struct Rerank<'a> {
    pub(crate) materials: &'a HashMap<String, Arc<Material>>,
    query_bigrams: HashSet<String>,
    pub(crate) depth: usize,
    /// 1 when any feature is on, else 0 (the ranking then skips the second stage).
    pub(crate) weight: f32,
    question_weight: f32,
    proximity_weight: f32,
    proximity_window: f32,
    proximity_k: f32,
    /// The query's distinct morph terms and their weights (query weight · idf).
    proximity_terms: Vec<(String, f32)>,
    /// The analyzer and the doc store of the searcher ranked (for proximity).
    texts: Option<(&'a Analyzer, &'a MaterialIndex, &'a tantivy::Searcher)>,
}

fn content_bigrams(text: &str) -> HashSet<String> {
    crate::analysis::bigram_tokens_normalized(&crate::analysis::normalize(text))
        .into_iter()
        .map(|t| t.term)
        .filter(|t| !is_hiragana_only(t))
        .collect()
}

impl<'a> Rerank<'a> {
    /// The rescoring of `w` for the query `qa` (its bigrams are read only when it is on).
    /// Proximity needs `texts` (the analyzer, and the index and searcher whose doc store
    /// holds the candidates' texts); without them it is off.
    pub(crate) fn new(
        materials: &'a HashMap<String, Arc<Material>>,
        qa: &QueryAnalysis,
        w: &RankingParams,
        texts: Option<(&'a Analyzer, &'a MaterialIndex, &'a tantivy::Searcher)>,
    ) -> Self {
        let proximity_weight = if texts.is_some() {
            w.proximity_weight
        } else {
            0.0
        };
        let mut proximity_terms: Vec<(String, f32)> = Vec::new();
        if proximity_weight > 0.0
            && let Some((_, index, searcher)) = texts
        {
            let n = searcher.num_docs().max(1) as f32;
            let f = index.fields();
            for t in &qa.morph {
                if proximity_terms.iter().any(|(x, _)| *x == t.term) {
                    continue;
                }
                let df = [f.title_morph, f.body_morph]
                    .iter()
                    .map(|&fd| {
                        searcher
                            .doc_freq(&tantivy::Term::from_field_text(fd, &t.term))
                            .unwrap_or(0)
                    })
                    .max()
                    .unwrap_or(0) as f32;
                if df == 0.0 {
                    continue;
                }
                let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                let qw = if t.noun { 1.0 } else { w.non_noun_weight };
                proximity_terms.push((t.term.clone(), qw * idf));
            }
        }
        let on = w.rerank_weight > 0.0 || (proximity_weight > 0.0 && proximity_terms.len() > 1);
        Self {
            materials,
            query_bigrams: if w.rerank_weight > 0.0 {
                qa.content_bigrams()
            } else {
                HashSet::new()
            },
            depth: w.rerank_depth,
            weight: if on { 1.0 } else { 0.0 },
            question_weight: w.rerank_weight,
            proximity_weight,
            proximity_window: w.proximity_window,
            proximity_k: w.proximity_k,
            proximity_terms,
            texts,
        }
    }

    /// The second-stage score of `m` (at `addr` of the searcher ranked), a multiple of the
    /// top candidate's score: question similarity and proximity, each times its weight.
    pub(crate) fn score(&self, m: &Material, addr: tantivy::DocAddress) -> f32 {
        let mut s = 0.0;
        if self.question_weight > 0.0 {
            s += self.question_weight * self.similarity(m);
        }
        if self.proximity_weight > 0.0
            && self.proximity_terms.len() > 1
            && let Some((analyzer, index, searcher)) = self.texts
        {
            let mut full = m.clone();
            if let Ok(t) = index.texts_at(searcher, addr) {
                t.fill(&mut full);
            }
            let text = format!("{}\n{}", full.title_text(), full.body_text());
            let tokens = analyzer.morph_tokens(&text);
            s += self.proximity_weight
                * proximity(
                    &text,
                    &tokens,
                    &self.proximity_terms,
                    self.proximity_window,
                    self.proximity_k,
                );
        }
        s
    }

    /// Dice similarity of the query's and `m`'s question/title bigrams.
    pub(crate) fn similarity(&self, m: &Material) -> f32 {
        let q = content_bigrams(&m.title_text());
        if q.is_empty() || self.query_bigrams.is_empty() {
            return 0.0;
        }
        let common = q.intersection(&self.query_bigrams).count();
        2.0 * common as f32 / (q.len() + self.query_bigrams.len()) as f32
    }
}

/// Term-pair proximity of a text's morph `tokens` (byte offsets into `text`) for the query
/// `terms` (term, weight), in [0, 1]: after BM25TP (Rasolofo & Savoy, "Term proximity
/// scoring for keyword-based retrieval systems", ECIR 2003), every two occurrences of
/// different query terms at most `window` characters apart add 1 / d² to their pair's
/// term-pair instance count tpi (d the distance of their starts in characters), and the
/// score is Σ_pairs w · tpi / (k + tpi) / Σ_pairs w over all pairs of query terms, with
/// w = min of the two terms' weights. Queries of one term score 0.
pub(crate) fn proximity(
    text: &str,
    tokens: &[crate::analysis::Token],
    terms: &[(String, f32)],
    window: f32,
    k: f32,
) -> f32 {
    let n = terms.len();
    if n < 2 {
        return 0.0;
    }
    // (character position, query term) of each occurrence, in text order.
    let mut occ: Vec<(usize, usize)> = Vec::new();
    let mut chars = 0usize;
    let mut last = 0usize;
    for t in tokens {
        let Some(i) = terms.iter().position(|(x, _)| *x == t.term) else {
            continue;
        };
        if t.start < last || t.start > text.len() || !text.is_char_boundary(t.start) {
            continue;
        }
        chars += text[last..t.start].chars().count();
        last = t.start;
        occ.push((chars, i));
    }
    let mut tpi = vec![0f32; n * n];
    for (a, &(pa, ia)) in occ.iter().enumerate() {
        for &(pb, ib) in &occ[a + 1..] {
            let d = (pb - pa) as f32;
            if d > window {
                break;
            }
            if ia != ib {
                let (i, j) = (ia.min(ib), ia.max(ib));
                tpi[i * n + j] += 1.0 / d.max(1.0).powi(2);
            }
        }
    }
    let (mut num, mut den) = (0f32, 0f32);
    for i in 0..n {
        for j in i + 1..n {
            let w = terms[i].1.min(terms[j].1);
            let x = tpi[i * n + j];
            num += w * x / (k + x);
            den += w;
        }
    }
    if den > 0.0 { num / den } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_query_terms_score_higher_than_far_ones() {
        let a = Analyzer::builtin().unwrap();
        let terms: Vec<(String, f32)> = ["国民", "年金"]
            .iter()
            .map(|t| (a.morph_tokens(t).remove(0).term, 1.0))
            .collect();
        let near = "国民年金の免除";
        let far = "国民の皆さまへ。これは長いお知らせの文章で、ずっと後に年金の話";
        let p_near = proximity(near, &a.morph_tokens(near), &terms, 20.0, 0.1);
        let p_far = proximity(far, &a.morph_tokens(far), &terms, 20.0, 0.1);
        assert!(p_near > 0.5, "{p_near}");
        assert_eq!(p_far, 0.0);
        assert_eq!(
            proximity(near, &a.morph_tokens(near), &terms[..1], 20.0, 0.1),
            0.0
        );
    }
}
