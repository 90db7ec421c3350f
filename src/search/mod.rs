//! Search: request → analyzed query → BM25F over tantivy's postings of six fields → ranked
//! hits with snippets and facets. No HTTP types here.
//!
//! # Ranking
//! BM25F (see [`bm25f`]) over three field groups: morphological terms in the title/question
//! and body/answer fields, character bigrams in the same fields, and single kanji in the same
//! fields (the last two at lower group weights), with synonym alternatives at a lower query
//! weight. The parameters in [`RankingParams::default`] were chosen on the localgovFAQ evaluation set
//! (see `kotae eval`, and the ablation table and held-out check in the README).
//!
//! # Flow
//! [`QueryAnalysis`] (the query analysed once) → [`plan::plan`] (BM25F term groups and
//! content units) → [`abbrev::resolve_plan`] (the short forms no morph field knows) →
//! [`second_stage::with_feedback`] (optional pseudo-relevance feedback) → [`rank::rank`]
//! (scores, filters, facets, optional rerank of the top candidates, page; match quality,
//! see [`quality`]) → hits with snippets. [`first_stage`] runs the part shared by [`search`] and [`rank_ids`].

pub mod abbrev;
pub mod bm25f;
pub mod bounds;
pub mod learned;
pub mod maxscore;
pub mod params;
pub mod plan;
pub mod quality;
pub mod rank;
pub mod request;
pub mod second_stage;
pub mod snippet;
pub mod suggest;

use std::collections::HashMap;
use std::sync::Arc;

use crate::analysis::Analyzer;
use crate::index::MaterialIndex;
use crate::material::Material;

pub use learned::{LearnedIndex, LearnedParams};
pub use maxscore::TotalRelation;
pub use params::RankingParams;
pub use plan::{QueryAnalysis, QueryPlan};
pub use rank::ScoredDoc;
pub use request::{
    Facets, Hit, MAX_DEPARTMENT_FACETS, MAX_LIMIT, MAX_OFFSET, MAX_QUERY_BYTES, MAX_TRACKED_TOTAL,
    RankedId, RequestError, SearchRequest, SearchResponse,
};
pub use snippet::Highlighter;

/// The first stage of one query, shared by [`search`] and [`rank_ids`]: the query analysed
/// and planned (with feedback), ranked over one searcher.
struct FirstStage {
    plan: QueryPlan,
    ranked: rank::Ranked,
    /// The searcher the ranking ran on (its addresses name its documents).
    searcher: tantivy::Searcher,
}

/// Analyses, plans (with pseudo-relevance feedback) and ranks `req` (its `q`, filters and
/// page) at time `now`.
fn first_stage(
    index: &MaterialIndex,
    analyzer: &Analyzer,
    materials: &HashMap<String, Arc<Material>>,
    req: &SearchRequest,
    w: &RankingParams,
    learned: &LearnedIndex,
    with_facets: bool,
) -> tantivy::Result<FirstStage> {
    let qa = QueryAnalysis::new(analyzer, &req.q);
    let mut p = plan::plan(&qa, index.fields(), w);
    let searcher = index.reader().searcher();
    abbrev::resolve_plan(index, &searcher, &mut p)?;
    let now = chrono::Utc::now().timestamp();
    let p = second_stage::with_feedback(index, analyzer, materials, p, req, now, w)?;
    let rr = second_stage::Rerank::new(materials, &qa, w, Some((analyzer, index, &searcher)));
    let morph = p
        .groups
        .iter()
        .find(|g| g.fields.first().map(|f| f.field) == Some(index.fields().title_morph));
    let extra = learned.contributions(&searcher, index.fields().id, morph)?;
    let ranked = rank::rank(
        index,
        &searcher,
        &p,
        req,
        now,
        with_facets,
        Some(&rr),
        &extra,
    )?;
    Ok(FirstStage {
        plan: p,
        ranked,
        searcher,
    })
}

/// Runs the ranking only: returns up to `k` ids with scores (no snippets, no facets).
///
/// # Errors
/// tantivy errors.
pub fn rank_ids(
    index: &MaterialIndex,
    analyzer: &Analyzer,
    materials: &HashMap<String, Arc<Material>>,
    q: &str,
    k: usize,
    w: &RankingParams,
    learned: &LearnedIndex,
) -> tantivy::Result<Vec<RankedId>> {
    let req = SearchRequest {
        q: q.to_string(),
        limit: k.max(1),
        ..SearchRequest::default()
    };
    let ranked = first_stage(index, analyzer, materials, &req, w, learned, false)?.ranked;
    Ok(ranked
        .page
        .iter()
        .filter_map(|d| {
            Some(RankedId {
                id: ranked.id_of(d)?,
                score: d.score,
            })
        })
        .collect())
}

/// Returns the hit of material `m` at `score`: its snippet highlighted by `highlighter`
/// (from its body, or its title when it has none), `match_quality` 0 and not pinned.
pub fn material_hit(m: &Material, highlighter: &Highlighter, score: f32) -> Hit {
    material_hit_analyzed(m, highlighter, None, score)
}

/// [`material_hit`] with the analyzer at hand, so that a kana-typed query's words are marked
/// by their readings ([`Highlighter::snippet_analyzed`]).
pub fn material_hit_analyzed(
    m: &Material,
    highlighter: &Highlighter,
    analyzer: Option<&Analyzer>,
    score: f32,
) -> Hit {
    let body = m.body_text();
    let text = if body.is_empty() {
        m.title_text()
    } else {
        body
    };
    Hit {
        id: m.id.clone(),
        source_id: m.source_id.clone(),
        kind: m.kind,
        title: m.display_title(),
        question: m.question.clone(),
        snippet: match analyzer {
            Some(a) => highlighter.snippet_analyzed(a, &text, snippet::SNIPPET_CHARS),
            None => highlighter.snippet(&text, snippet::SNIPPET_CHARS),
        },
        url: m.url.clone(),
        department: m.department.clone(),
        contact: m.contact.clone(),
        updated_at: m.updated_at,
        score,
        match_quality: 0.0,
        pinned: false,
    }
}

/// Runs a full search: ranking, totals, facets and snippets.
///
/// `materials` maps ids to materials (the engine's in-memory copy of the corpus, without the
/// texts kept in the doc store); hits whose material is missing (deleted between commit and
/// lookup) are skipped. The snippet text of each hit shown is read from the doc store of the
/// searcher that ranked it. `learned` adds the
/// learned group ([`learned`]; [`LearnedIndex::empty`]: none).
///
/// # Errors
/// tantivy errors.
pub fn search(
    index: &MaterialIndex,
    analyzer: &Analyzer,
    materials: &HashMap<String, Arc<Material>>,
    req: &SearchRequest,
    w: &RankingParams,
    learned: &LearnedIndex,
) -> tantivy::Result<SearchResponse> {
    let started = std::time::Instant::now();
    let FirstStage {
        plan: p,
        ranked,
        searcher,
    } = first_stage(index, analyzer, materials, req, w, learned, true)?;
    let mut hits = Vec::with_capacity(ranked.page.len());
    for d in &ranked.page {
        let Some(m) = ranked.id_of(d).and_then(|id| materials.get(&id)) else {
            continue;
        };
        // The table's material lacks its long texts: read them from the doc store.
        let mut full = (**m).clone();
        index.texts_at(&searcher, d.addr)?.fill(&mut full);
        let mut hit = material_hit_analyzed(&full, &p.highlighter, Some(analyzer), d.score);
        hit.match_quality = ranked.quality_of(d);
        hits.push(hit);
    }
    let best = ranked.page.first().map(|d| ranked.quality_of(d));
    Ok(SearchResponse {
        query_id: uuid::Uuid::new_v4().simple().to_string(),
        total: ranked.total,
        match_level: quality::MatchLevel::of(best),
        total_relation: ranked.total_relation,
        took_ms: started.elapsed().as_secs_f64() * 1e3,
        hits,
        facets: ranked.facets,
    })
}
