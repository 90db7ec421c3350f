//! Search: request → analyzed query → BM25F over tantivy's postings of six fields → ranked
//! hits with snippets and facets. No HTTP types here.
//!
//! # Ranking
//! BM25F (see [`bm25f`]) over three field groups: morphological terms in the title/question
//! and body/answer fields, character bigrams in the same fields, and single kanji in the same
//! fields (the last two at lower group weights), with synonym alternatives at a lower query
//! weight. The weights in [`Weights::default`] were chosen on the localgovFAQ evaluation set
//! (see `kotae eval`, and the ablation table and held-out check in the README).

pub mod bm25f;
pub mod maxscore;
pub mod snippet;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;
use tantivy::DocId;

use crate::analysis::{Analyzer, normalize};
use crate::index::docmeta::{NO_DEPARTMENT, SegmentDocs};
use crate::index::{MaterialIndex, schema};
use crate::material::{Contact, Material, MaterialKind};

pub use snippet::Highlighter;

use crate::departments::Level;

/// Largest accepted query, in bytes.
pub const MAX_QUERY_BYTES: usize = 1024;
/// Largest accepted `limit`.
pub const MAX_LIMIT: usize = 100;
/// Number of departments listed in the department facet (the ones with the most matches;
/// a city has 150+ departments, an operator's filter list needs the top few, as
/// Meilisearch's `maxValuesPerFacet`).
pub const MAX_DEPARTMENT_FACETS: usize = 20;
/// Largest accepted `offset`.
pub const MAX_OFFSET: usize = 10_000;

/// Parameters of the ranking function (see [`bm25f`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// Weight of the title/question field in the morph group.
    pub title_morph: f32,
    /// Weight of the body/answer field in the morph group.
    pub body_morph: f32,
    /// Weight of the title/question field in the bigram group.
    pub title_bigram: f32,
    /// Weight of the body/answer field in the bigram group.
    pub body_bigram: f32,
    /// Multiplier of the bigram group's score (the morph group's is 1).
    pub bigram: f32,
    /// BM25 saturation k1 of the morph group.
    pub k1_morph: f32,
    /// Multiplier of the ideograph-unigram group's score (0 = off).
    pub unigram: f32,
    /// Weight of the title/question field in the unigram group.
    pub title_unigram: f32,
    /// Weight of the body/answer field in the unigram group.
    pub body_unigram: f32,
    /// BM25 saturation k1 of the unigram group.
    pub k1_unigram: f32,
    /// BM25 saturation k1 of the bigram group.
    pub k1_bigram: f32,
    /// Length normalisation b of the title fields.
    pub b_title: f32,
    /// Length normalisation b of the body fields.
    pub b_body: f32,
    /// Multiplier of synonym alternatives (relative to the original terms).
    pub synonym: f32,
    /// Pseudo-relevance feedback: number of top documents whose questions/titles expand the
    /// query (0 = off).
    pub fb_docs: usize,
    /// Pseudo-relevance feedback: at most this many expansion terms.
    pub fb_terms: usize,
    /// Pseudo-relevance feedback: weight of expansion terms relative to query terms.
    pub fb_weight: f32,
    /// Query weight of verbs, adjectives and adverbs relative to nouns.
    pub non_noun: f32,
    /// Weight of the query–question similarity in the second stage (× the top score).
    pub rerank: f32,
    /// Number of first-stage candidates rescored by the second stage.
    pub rerank_depth: usize,
    /// Use the morph group at all (for ablation).
    pub use_morph: bool,
    /// Use the bigram group at all (for ablation).
    pub use_bigram: bool,
    /// Use synonyms (for ablation).
    pub use_synonyms: bool,
}

impl Default for Weights {
    /// The weights chosen on the localgovFAQ set by coordinate ascent on Recall@10 + nDCG@10
    /// (see the README's ablation table for the effect of each part).
    fn default() -> Self {
        Self {
            title_morph: 1.5,
            body_morph: 0.5,
            title_bigram: 1.0,
            body_bigram: 1.0,
            bigram: 0.2,
            k1_morph: 1.2,
            k1_bigram: 1.0,
            unigram: 0.3,
            k1_unigram: 4.0,
            title_unigram: 2.0,
            body_unigram: 0.5,
            b_title: 1.0,
            b_body: 0.5,
            synonym: 0.7,
            non_noun: 0.3,
            fb_docs: 0,
            fb_terms: 8,
            fb_weight: 0.3,
            rerank: 0.0,
            rerank_depth: 50,
            use_morph: true,
            use_bigram: true,
            use_synonyms: true,
        }
    }
}

impl Weights {
    /// Returns the default weights with overrides from `spec`: comma-separated
    /// `name=value` pairs naming fields of this struct (`title_morph=1.5,use_bigram=false`).
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] for an unknown name or a bad value.
    pub fn parse_overrides(spec: &str) -> crate::Result<Self> {
        let mut w = Self::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = || crate::Error::Invalid(format!("bad weight override {part:?}"));
            let (k, v) = part.split_once('=').ok_or_else(bad)?;
            let f = || v.trim().parse::<f32>().map_err(|_| bad());
            let b = || v.trim().parse::<bool>().map_err(|_| bad());
            match k.trim() {
                "title_morph" => w.title_morph = f()?,
                "body_morph" => w.body_morph = f()?,
                "title_bigram" => w.title_bigram = f()?,
                "body_bigram" => w.body_bigram = f()?,
                "synonym" => w.synonym = f()?,
                "bigram" => w.bigram = f()?,
                "non_noun" => w.non_noun = f()?,
                "rerank" => w.rerank = f()?,
                "rerank_depth" => w.rerank_depth = f()? as usize,
                "fb_docs" => w.fb_docs = f()? as usize,
                "fb_terms" => w.fb_terms = f()? as usize,
                "fb_weight" => w.fb_weight = f()?,
                "k1_morph" => w.k1_morph = f()?,
                "k1_bigram" => w.k1_bigram = f()?,
                "unigram" => w.unigram = f()?,
                "k1_unigram" => w.k1_unigram = f()?,
                "title_unigram" => w.title_unigram = f()?,
                "body_unigram" => w.body_unigram = f()?,
                "b_title" => w.b_title = f()?,
                "b_body" => w.b_body = f()?,
                "use_morph" => w.use_morph = b()?,
                "use_bigram" => w.use_bigram = b()?,
                "use_synonyms" => w.use_synonyms = b()?,
                _ => return Err(bad()),
            }
        }
        Ok(w)
    }
}

/// A search request (already validated: see [`SearchRequest::validate`]).
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// The query text.
    pub q: String,
    /// Only materials of this kind.
    pub kind: Option<MaterialKind>,
    /// Only materials of this department or below it: the name is written canonically and
    /// matches every material whose department path contains it
    /// ([`crate::departments::path_contains`]: `国保医療課` includes its 係).
    pub department: Option<String>,
    /// Level at which the department facet counts (default [`Level::Ka`], 課: a 係's
    /// materials count for their 課).
    pub department_level: Option<Level>,
    /// Number of hits to return (1..=[`MAX_LIMIT`]).
    pub limit: usize,
    /// Number of hits to skip.
    pub offset: usize,
}

/// Why a request was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequestError {
    /// `q` is empty or whitespace.
    #[error("query `q` must not be empty")]
    EmptyQuery,
    /// `q` is longer than [`MAX_QUERY_BYTES`].
    #[error("query `q` is {0} bytes, over the limit of {MAX_QUERY_BYTES}")]
    QueryTooLong(usize),
    /// `limit` is 0 or over [`MAX_LIMIT`].
    #[error("`limit` must be between 1 and {MAX_LIMIT}, got {0}")]
    BadLimit(usize),
    /// `offset` is over [`MAX_OFFSET`].
    #[error("`offset` must be at most {MAX_OFFSET}, got {0}")]
    BadOffset(usize),
}

impl SearchRequest {
    /// Returns a request for `q` with the default limit of 10.
    pub fn new(q: impl Into<String>) -> Self {
        Self {
            q: q.into(),
            limit: 10,
            ..Default::default()
        }
    }

    /// Checks the limits.
    ///
    /// # Errors
    /// [`RequestError`] naming the offending parameter.
    pub fn validate(&self) -> Result<(), RequestError> {
        if self.q.trim().is_empty() {
            return Err(RequestError::EmptyQuery);
        }
        if self.q.len() > MAX_QUERY_BYTES {
            return Err(RequestError::QueryTooLong(self.q.len()));
        }
        if self.limit == 0 || self.limit > MAX_LIMIT {
            return Err(RequestError::BadLimit(self.limit));
        }
        if self.offset > MAX_OFFSET {
            return Err(RequestError::BadOffset(self.offset));
        }
        Ok(())
    }
}

/// One ranked hit.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// Material id.
    pub id: String,
    /// Source record id.
    pub source_id: String,
    /// Material kind.
    pub kind: MaterialKind,
    /// Display title (the question for FAQ entries).
    pub title: String,
    /// FAQ question.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// HTML snippet with `<mark>` around matches; everything else escaped.
    pub snippet: String,
    /// Page URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Department.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Contact record, for `contact` materials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// Ranking score (higher is better; comparable only within one response).
    pub score: f32,
}

/// Facet counts over all matching materials.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Facets {
    /// Count per kind.
    pub kind: BTreeMap<String, u64>,
    /// Count per department, for the [`MAX_DEPARTMENT_FACETS`] departments with the most
    /// matches (materials without a department are not counted).
    pub department: BTreeMap<String, u64>,
}

/// A search response.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResponse {
    /// Id of this search, to reference it from an inquiry record.
    pub query_id: String,
    /// Number of matching materials.
    pub total: u64,
    /// Time spent in the engine, in milliseconds.
    pub took_ms: f64,
    /// The hits from `offset`, at most `limit`.
    pub hits: Vec<Hit>,
    /// Facet counts.
    pub facets: Facets,
}

/// Ids and scores only (for evaluation and benchmarks).
#[derive(Debug, Clone)]
pub struct RankedId {
    /// Material id.
    pub id: String,
    /// Score.
    pub score: f32,
}

/// The analyzed query: the BM25F term groups and the highlighter.
pub struct QueryPlan {
    /// Term groups (empty when analysis left no term).
    pub groups: Vec<bm25f::TermGroup>,
    /// Highlighter for snippets.
    pub highlighter: Highlighter,
}

/// Adds `terms` to `into` with weight `mult` per occurrence, keeping first-seen order.
fn add_counted(into: &mut Vec<(String, f32)>, terms: impl IntoIterator<Item = String>, mult: f32) {
    for t in terms {
        match into.iter_mut().find(|(x, _)| *x == t) {
            Some((_, c)) => *c += mult,
            None => into.push((t, mult)),
        }
    }
}

/// Analyzes `q` into BM25F term groups (morph, bigram, unigram) with synonym alternatives.
pub fn plan(analyzer: &Analyzer, fields: &schema::Fields, q: &str, w: &Weights) -> QueryPlan {
    let norm = normalize(q);
    let mut morph_terms = Vec::new();
    let mut bigram_terms = Vec::new();
    // Hiragana-only bigrams (です, ので, ください) are function words: neither searched nor
    // highlighted, unless the whole query is kana.
    let all_kana = norm
        .text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .all(crate::analysis::normalize::is_kana);
    let keep = |t: &str| all_kana || !t.chars().all(|c| matches!(c, '\u{3041}'..='\u{309F}'));
    let bigrams: Vec<String> = crate::analysis::bigram_tokens_normalized(&norm)
        .into_iter()
        .map(|t| t.term)
        .filter(|t| keep(t))
        .collect();
    let mut hl_terms: Vec<String> = bigrams.clone();
    if w.use_morph {
        for t in analyzer.morph_tokens_normalized(&norm) {
            let qw = if t.noun { 1.0 } else { w.non_noun };
            add_counted(&mut morph_terms, [t.term], qw);
        }
    }
    if w.use_bigram {
        add_counted(&mut bigram_terms, bigrams, 1.0);
    }
    if w.use_synonyms {
        let syn = analyzer.synonyms();
        for alt in syn.expand(&norm.text) {
            if w.use_morph {
                add_counted(&mut morph_terms, alt.morph.iter().cloned(), w.synonym);
            }
            if w.use_bigram {
                add_counted(&mut bigram_terms, alt.bigrams.iter().cloned(), w.synonym);
            }
            hl_terms.extend(alt.bigrams.iter().cloned());
        }
    }
    let mut unigram_terms = Vec::new();
    if w.unigram > 0.0 {
        let unigrams = crate::analysis::unigram_tokens_normalized(&norm);
        add_counted(
            &mut unigram_terms,
            unigrams.into_iter().map(|t| t.term),
            1.0,
        );
    }
    let spec = |field, weight, b| bm25f::FieldSpec { field, weight, b };
    let group = |(title, tw), (body, bw), k1, weight, terms| bm25f::TermGroup {
        fields: vec![spec(title, tw, w.b_title), spec(body, bw, w.b_body)],
        k1,
        weight,
        terms,
    };
    let f = fields;
    let groups = [
        group(
            (f.title_morph, w.title_morph),
            (f.body_morph, w.body_morph),
            w.k1_morph,
            1.0,
            morph_terms,
        ),
        group(
            (f.title_bigram, w.title_bigram),
            (f.body_bigram, w.body_bigram),
            w.k1_bigram,
            w.bigram,
            bigram_terms,
        ),
        group(
            (f.title_unigram, w.title_unigram),
            (f.body_unigram, w.body_unigram),
            w.k1_unigram,
            w.unigram,
            unigram_terms,
        ),
    ]
    .into_iter()
    .filter(|g| !g.terms.is_empty())
    .collect();
    QueryPlan {
        groups,
        highlighter: Highlighter::from_terms(hl_terms.iter().map(String::as_str)),
    }
}

/// The ranked, filtered candidates of one query.
struct Ranked {
    /// (score, segment, doc) of the requested page, best first.
    page: Vec<(f32, usize, DocId)>,
    total: u64,
    facets: Facets,
}

/// Scores, filters (kind, department, validity), counts facets and cuts the page.
fn rank(
    index: &MaterialIndex,
    searcher: &tantivy::Searcher,
    plan: &QueryPlan,
    req: &SearchRequest,
    now: i64,
    with_facets: bool,
    rerank: Option<&Rerank<'_>>,
) -> tantivy::Result<(Ranked, Vec<Arc<SegmentDocs>>)> {
    let scores = bm25f::score(searcher, &plan.groups)?;
    let cols = index.docmeta().for_searcher(searcher)?;
    let mut candidates: Vec<(f32, usize, DocId)> = Vec::new();
    let mut kind_counts = [0u64; 3];
    let mut dep_counts: Vec<u64> = Vec::new();
    // Interned departments the filter admits (indexed by interned id).
    let want_dep: Option<Vec<bool>> = match &req.department {
        Some(d) => {
            let want = crate::departments::canonical(d);
            let admit: Vec<bool> = index
                .docmeta()
                .department_names()
                .iter()
                .map(|n| crate::departments::path_contains(n, &want))
                .collect();
            if !admit.contains(&true) {
                return Ok((
                    Ranked {
                        page: Vec::new(),
                        total: 0,
                        facets: Facets::default(),
                    },
                    cols,
                ));
            }
            Some(admit)
        }
        None => None,
    };
    for (si, seg_scores) in scores.iter().enumerate() {
        let c = &cols[si];
        for (doc, &s) in seg_scores.iter().enumerate() {
            if s <= 0.0 || c.valid_until[doc] < now {
                continue;
            }
            let kind = c.kinds[doc];
            if req.kind.is_some() && kind != req.kind {
                continue;
            }
            let dep = c.departments[doc];
            if want_dep
                .as_ref()
                .is_some_and(|w| !w.get(dep as usize).copied().unwrap_or(false))
            {
                continue;
            }
            if with_facets {
                if let Some(k) = kind {
                    kind_counts[k as usize] += 1;
                }
                if dep != NO_DEPARTMENT {
                    let d = dep as usize;
                    if d >= dep_counts.len() {
                        dep_counts.resize(d + 1, 0);
                    }
                    dep_counts[d] += 1;
                }
            }
            candidates.push((s, si, doc as DocId));
        }
    }
    let total = candidates.len() as u64;
    let better = |a: &(f32, usize, DocId), b: &(f32, usize, DocId)| {
        b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
    };
    if let Some(rr) = rerank
        && rr.weight > 0.0
        && !candidates.is_empty()
    {
        let depth = rr.depth.min(candidates.len());
        if depth < candidates.len() {
            candidates.select_nth_unstable_by(depth - 1, better);
        }
        let top = candidates[..depth].iter().map(|c| c.0).fold(0f32, f32::max);
        for c in &mut candidates[..depth] {
            let sim = id_of(&cols, c.1, c.2)
                .and_then(|id| rr.materials.get(&id))
                .map_or(0.0, |m| rr.similarity(m));
            c.0 += rr.weight * top * sim;
        }
        if depth < candidates.len() {
            // Keep reranked documents above the rest: they were the top `depth` before.
            candidates.truncate(candidates.len().min(depth.max(req.offset + req.limit)));
        }
    }
    let want = (req.offset + req.limit).min(candidates.len());
    if want < candidates.len() && want > 0 {
        candidates.select_nth_unstable_by(want - 1, better);
        candidates.truncate(want);
    }
    candidates.sort_unstable_by(better);
    let page: Vec<_> = candidates.into_iter().skip(req.offset).collect();
    let mut facets = Facets::default();
    for k in [MaterialKind::Faq, MaterialKind::Page, MaterialKind::Contact] {
        if kind_counts[k as usize] > 0 {
            facets
                .kind
                .insert(k.as_str().to_string(), kind_counts[k as usize]);
        }
    }
    // Counts folded to the level asked, then the MAX_DEPARTMENT_FACETS departments with the
    // most matches (ties by name).
    let level = req.department_level.unwrap_or(Level::Ka);
    let mut by_name: HashMap<String, u64> = HashMap::new();
    for (d, &n) in dep_counts.iter().enumerate() {
        if n > 0
            && let Some(name) = index.docmeta().department_name(d as u32)
        {
            *by_name
                .entry(crate::departments::truncate_to_level(&name, level))
                .or_default() += n;
        }
    }
    let mut deps: Vec<(String, u64)> = by_name.into_iter().collect();
    deps.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    deps.truncate(MAX_DEPARTMENT_FACETS);
    facets.department.extend(deps);
    Ok((
        Ranked {
            page,
            total,
            facets,
        },
        cols,
    ))
}

/// Expands `plan` with pseudo-relevance feedback: the morph terms of the titles/questions
/// of the top `w.fb_docs` documents of a first pass, each weighted by the normalised scores
/// of the documents it occurs in (a simplified RM3: Lavrenko & Croft, "Relevance-based
/// language models", SIGIR 2001; Abdul-Jaleel et al., "UMass at TREC 2004"), at most
/// `w.fb_terms` terms, at query weight `w.fb_weight` × that score.
fn with_feedback(
    index: &MaterialIndex,
    analyzer: &Analyzer,
    materials: &HashMap<String, Arc<Material>>,
    mut plan: QueryPlan,
    req: &SearchRequest,
    now: i64,
    w: &Weights,
) -> tantivy::Result<QueryPlan> {
    if w.fb_docs == 0 || w.fb_terms == 0 || plan.groups.is_empty() {
        return Ok(plan);
    }
    let first = SearchRequest {
        limit: w.fb_docs,
        offset: 0,
        ..req.clone()
    };
    let searcher = index.reader().searcher();
    let (ranked, cols) = rank(index, &searcher, &plan, &first, now, false, None)?;
    let Some(top_score) = ranked.page.first().map(|p| p.0) else {
        return Ok(plan);
    };
    let mut weights: Vec<(String, f32)> = Vec::new();
    for (score, si, doc) in &ranked.page {
        let Some(m) = id_of(&cols, *si, *doc).and_then(|id| materials.get(&id)) else {
            continue;
        };
        let mut seen = std::collections::HashSet::new();
        for t in analyzer.morph_tokens(&m.title_text()) {
            if seen.insert(t.term.clone()) {
                add_counted(&mut weights, [t.term], score / top_score);
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
    weights.truncate(w.fb_terms);
    let norm = w.fb_docs as f32;
    for (t, x) in weights {
        morph.terms.push((t, w.fb_weight * x / norm));
    }
    Ok(plan)
}

/// Second-stage rescoring of the top candidates by query–question similarity: the Dice
/// coefficient of the query's and the question's (or title's) bigram sets, hiragana-only
/// bigrams left out. FAQ retrieval studies find query–question similarity the strongest
/// single signal (Sakata et al., SIGIR 2019, on this very localgovFAQ data).
struct Rerank<'a> {
    materials: &'a HashMap<String, Arc<Material>>,
    query_bigrams: std::collections::HashSet<String>,
    depth: usize,
    weight: f32,
}

fn content_bigrams(text: &str) -> std::collections::HashSet<String> {
    crate::analysis::bigram_tokens_normalized(&normalize(text))
        .into_iter()
        .map(|t| t.term)
        .filter(|t| !t.chars().all(|c| matches!(c, '\u{3041}'..='\u{309F}')))
        .collect()
}

impl Rerank<'_> {
    fn similarity(&self, m: &Material) -> f32 {
        let title = m.title_text();
        let q = content_bigrams(&title);
        if q.is_empty() || self.query_bigrams.is_empty() {
            return 0.0;
        }
        let common = q.intersection(&self.query_bigrams).count();
        2.0 * common as f32 / (q.len() + self.query_bigrams.len()) as f32
    }
}

fn id_of(cols: &[Arc<SegmentDocs>], si: usize, doc: DocId) -> Option<String> {
    cols.get(si)?
        .ids
        .get(doc as usize)
        .filter(|s| !s.is_empty())
        .cloned()
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
    w: &Weights,
) -> tantivy::Result<Vec<RankedId>> {
    let p = plan(analyzer, index.fields(), q, w);
    let searcher = index.reader().searcher();
    let req = SearchRequest {
        limit: k.max(1),
        ..SearchRequest::default()
    };
    let now = chrono::Utc::now().timestamp();
    let p = with_feedback(index, analyzer, materials, p, &req, now, w)?;
    let rr = Rerank {
        materials,
        query_bigrams: if w.rerank > 0.0 {
            content_bigrams(q)
        } else {
            Default::default()
        },
        depth: w.rerank_depth,
        weight: w.rerank,
    };
    let (ranked, cols) = rank(index, &searcher, &p, &req, now, false, Some(&rr))?;
    Ok(ranked
        .page
        .into_iter()
        .filter_map(|(score, si, doc)| {
            Some(RankedId {
                id: id_of(&cols, si, doc)?,
                score,
            })
        })
        .collect())
}

/// Runs a full search: ranking, totals, facets and snippets.
///
/// `materials` maps ids to materials (the engine's in-memory copy of the corpus); hits whose
/// material is missing (deleted between commit and lookup) are skipped.
///
/// # Errors
/// tantivy errors.
pub fn search(
    index: &MaterialIndex,
    analyzer: &Analyzer,
    materials: &HashMap<String, Arc<Material>>,
    req: &SearchRequest,
    w: &Weights,
) -> tantivy::Result<SearchResponse> {
    let started = std::time::Instant::now();
    let p = plan(analyzer, index.fields(), &req.q, w);
    let searcher = index.reader().searcher();
    let now = chrono::Utc::now().timestamp();
    let p = with_feedback(index, analyzer, materials, p, req, now, w)?;
    let rr = Rerank {
        materials,
        query_bigrams: if w.rerank > 0.0 {
            content_bigrams(&req.q)
        } else {
            Default::default()
        },
        depth: w.rerank_depth,
        weight: w.rerank,
    };
    let (ranked, cols) = rank(index, &searcher, &p, req, now, true, Some(&rr))?;
    let hits = ranked
        .page
        .into_iter()
        .filter_map(|(score, si, doc)| {
            let id = id_of(&cols, si, doc)?;
            let m = materials.get(&id)?;
            let body = m.body_text();
            let text = if body.is_empty() {
                m.title_text()
            } else {
                body
            };
            Some(Hit {
                id: m.id.clone(),
                source_id: m.source_id.clone(),
                kind: m.kind,
                title: m.display_title(),
                question: m.question.clone(),
                snippet: p.highlighter.snippet(&text, snippet::SNIPPET_CHARS),
                url: m.url.clone(),
                department: m.department.clone(),
                contact: m.contact.clone(),
                score,
            })
        })
        .collect();
    Ok(SearchResponse {
        query_id: uuid::Uuid::new_v4().simple().to_string(),
        total: ranked.total,
        took_ms: started.elapsed().as_secs_f64() * 1e3,
        hits,
        facets: ranked.facets,
    })
}
