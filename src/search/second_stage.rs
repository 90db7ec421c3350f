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

/// Second-stage rescoring of the top candidates by query–question similarity: the Dice
/// coefficient of the query's and the question's (or title's) bigram sets, hiragana-only
/// bigrams left out. FAQ retrieval studies find query–question similarity the strongest
/// single signal (Sakata et al., SIGIR 2019, on this very localgovFAQ data).
pub(crate) struct Rerank<'a> {
    pub(crate) materials: &'a HashMap<String, Arc<Material>>,
    query_bigrams: HashSet<String>,
    pub(crate) depth: usize,
    pub(crate) weight: f32,
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
    pub(crate) fn new(
        materials: &'a HashMap<String, Arc<Material>>,
        qa: &QueryAnalysis,
        w: &RankingParams,
    ) -> Self {
        Self {
            materials,
            query_bigrams: if w.rerank_weight > 0.0 {
                qa.content_bigrams()
            } else {
                HashSet::new()
            },
            depth: w.rerank_depth,
            weight: w.rerank_weight,
        }
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
