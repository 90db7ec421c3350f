//! Search: request → analyzed query → tantivy BM25 over four fields → ranked hits with
//! snippets and facets. No HTTP types here.
//!
//! # Ranking
//! The score is a weighted sum of BM25 (k1 = 1.2, b = 0.75: tantivy's constants, the same as
//! Lucene's and Elasticsearch's defaults; Robertson & Zaragoza, "The Probabilistic Relevance
//! Framework: BM25 and Beyond", 2009) over the title/question and body/answer fields, for
//! morphological terms and for character bigrams, plus synonym alternatives at a lower
//! weight. The weights in [`Weights::default`] were chosen on the localgovFAQ evaluation set
//! (see `kotae eval` and the ablation table in the README).

pub mod snippet;

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;

use serde::Serialize;
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader, Term};

use crate::analysis::{Analyzer, normalize};
use crate::index::{MaterialIndex, schema};
use crate::material::{Contact, Material, MaterialKind};

pub use snippet::Highlighter;

/// Largest accepted query, in bytes.
pub const MAX_QUERY_BYTES: usize = 1024;
/// Largest accepted `limit`.
pub const MAX_LIMIT: usize = 100;
/// Largest accepted `offset`.
pub const MAX_OFFSET: usize = 10_000;

/// Field weights of the ranking function (multipliers of each field's BM25 score).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// Morphological terms in the title/question.
    pub title_morph: f32,
    /// Morphological terms in the body/answer.
    pub body_morph: f32,
    /// Bigrams in the title/question.
    pub title_bigram: f32,
    /// Bigrams in the body/answer.
    pub body_bigram: f32,
    /// Multiplier of synonym alternatives (relative to the original terms).
    pub synonym: f32,
    /// Use the morph field at all (for ablation).
    pub use_morph: bool,
    /// Use the bigram field at all (for ablation).
    pub use_bigram: bool,
    /// Use synonyms (for ablation).
    pub use_synonyms: bool,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            title_morph: 1.0,
            body_morph: 1.0,
            title_bigram: 0.3,
            body_bigram: 0.3,
            synonym: 0.7,
            use_morph: true,
            use_bigram: true,
            use_synonyms: true,
        }
    }
}

/// A search request (already validated: see [`SearchRequest::validate`]).
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// The query text.
    pub q: String,
    /// Only materials of this kind.
    pub kind: Option<MaterialKind>,
    /// Only materials of this department (exact match).
    pub department: Option<String>,
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
    /// Count per department (materials without one are not counted).
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

/// The analyzed query: the tantivy query and the highlighter.
pub struct QueryPlan {
    /// The text query (without filters); `None` when analysis left no term.
    pub query: Option<Box<dyn Query>>,
    /// Highlighter for snippets.
    pub highlighter: Highlighter,
}

fn term_query(field: Field, term: &str, boost: f32) -> Box<dyn Query> {
    let q = TermQuery::new(
        Term::from_field_text(field, term),
        IndexRecordOption::WithFreqs,
    );
    if (boost - 1.0).abs() < f32::EPSILON {
        Box::new(q)
    } else {
        Box::new(BoostQuery::new(Box::new(q), boost))
    }
}

/// Counts terms, keeping first-seen order.
fn counted(terms: impl IntoIterator<Item = String>) -> Vec<(String, f32)> {
    let mut out: Vec<(String, f32)> = Vec::new();
    for t in terms {
        match out.iter_mut().find(|(x, _)| *x == t) {
            Some((_, c)) => *c += 1.0,
            None => out.push((t, 1.0)),
        }
    }
    out
}

/// Analyzes `q` and builds the weighted disjunction over the four text fields.
pub fn plan(analyzer: &Analyzer, fields: &schema::Fields, q: &str, w: &Weights) -> QueryPlan {
    let norm = normalize(q);
    let morph = analyzer.morph_tokens_normalized(&norm);
    let bigrams = crate::analysis::bigram_tokens_normalized(&norm);
    let mut hl_terms: Vec<String> = bigrams.iter().map(|t| t.term.clone()).collect();
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let add = |terms: Vec<(String, f32)>,
               mult: f32,
               clauses: &mut Vec<(Occur, Box<dyn Query>)>,
               morph_field: bool| {
        for (t, c) in terms {
            let (tf, bf, tw, bw) = if morph_field {
                (
                    fields.title_morph,
                    fields.body_morph,
                    w.title_morph,
                    w.body_morph,
                )
            } else {
                (
                    fields.title_bigram,
                    fields.body_bigram,
                    w.title_bigram,
                    w.body_bigram,
                )
            };
            if tw > 0.0 {
                clauses.push((Occur::Should, term_query(tf, &t, tw * c * mult)));
            }
            if bw > 0.0 {
                clauses.push((Occur::Should, term_query(bf, &t, bw * c * mult)));
            }
        }
    };
    if w.use_morph {
        add(
            counted(morph.into_iter().map(|t| t.term)),
            1.0,
            &mut clauses,
            true,
        );
    }
    if w.use_bigram {
        add(
            counted(bigrams.into_iter().map(|t| t.term)),
            1.0,
            &mut clauses,
            false,
        );
    }
    if w.use_synonyms {
        let syn = analyzer.synonyms();
        for alt in syn.expand(&norm.text) {
            if w.use_morph {
                add(
                    counted(alt.morph.iter().cloned()),
                    w.synonym,
                    &mut clauses,
                    true,
                );
            }
            if w.use_bigram {
                add(
                    counted(alt.bigrams.iter().cloned()),
                    w.synonym,
                    &mut clauses,
                    false,
                );
            }
            hl_terms.extend(alt.bigrams.iter().cloned());
        }
    }
    let query: Option<Box<dyn Query>> = if clauses.is_empty() {
        None
    } else {
        Some(Box::new(BooleanQuery::new(clauses)))
    };
    QueryPlan {
        query,
        highlighter: Highlighter::from_terms(hl_terms.iter().map(String::as_str)),
    }
}

fn filtered(
    text: Box<dyn Query>,
    fields: &schema::Fields,
    req: &SearchRequest,
    now: i64,
) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text)];
    let exact = |field: Field, value: &str| -> Box<dyn Query> {
        Box::new(ConstScoreQuery::new(
            Box::new(TermQuery::new(
                Term::from_field_text(field, value),
                IndexRecordOption::Basic,
            )),
            0.0,
        ))
    };
    if let Some(kind) = req.kind {
        clauses.push((Occur::Must, exact(fields.kind, kind.as_str())));
    }
    if let Some(dep) = &req.department {
        clauses.push((Occur::Must, exact(fields.department, dep)));
    }
    let valid = RangeQuery::new(
        Bound::Included(Term::from_field_i64(fields.valid_until, now)),
        Bound::Unbounded,
    );
    clauses.push((
        Occur::Must,
        Box::new(ConstScoreQuery::new(Box::new(valid), 0.0)),
    ));
    Box::new(BooleanQuery::new(clauses))
}

/// Runs the ranking only: returns up to `k` ids with scores (no snippets, no facets).
///
/// # Errors
/// tantivy errors.
pub fn rank_ids(
    index: &MaterialIndex,
    analyzer: &Analyzer,
    q: &str,
    k: usize,
    w: &Weights,
) -> tantivy::Result<Vec<RankedId>> {
    let fields = index.fields();
    let p = plan(analyzer, fields, q, w);
    let Some(query) = p.query else {
        return Ok(Vec::new());
    };
    let req = SearchRequest::default();
    let query = filtered(query, fields, &req, chrono::Utc::now().timestamp());
    let searcher = index.reader().searcher();
    let top = searcher.search(&query, &TopDocs::with_limit(k.max(1)).order_by_score())?;
    ids_of(&searcher, &top)
}

fn ids_of(
    searcher: &tantivy::Searcher,
    top: &[(Score, DocAddress)],
) -> tantivy::Result<Vec<RankedId>> {
    let mut cols: HashMap<SegmentOrdinal, Option<tantivy::columnar::StrColumn>> = HashMap::new();
    let mut out = Vec::with_capacity(top.len());
    let mut buf = String::new();
    for (score, addr) in top {
        let col = match cols.entry(addr.segment_ord) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => v.insert(
                searcher
                    .segment_reader(addr.segment_ord)
                    .fast_fields()
                    .str(schema::ID)?,
            ),
        };
        let Some(col) = col else { continue };
        buf.clear();
        if let Some(ord) = col.term_ords(addr.doc_id).next()
            && col.ord_to_str(ord, &mut buf)?
        {
            out.push(RankedId {
                id: buf.clone(),
                score: *score,
            });
        }
    }
    Ok(out)
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
    let fields = index.fields();
    let p = plan(analyzer, fields, &req.q, w);
    let query_id = uuid::Uuid::new_v4().simple().to_string();
    let Some(query) = p.query else {
        return Ok(SearchResponse {
            query_id,
            total: 0,
            took_ms: started.elapsed().as_secs_f64() * 1e3,
            hits: Vec::new(),
            facets: Facets::default(),
        });
    };
    let query = filtered(query, fields, req, chrono::Utc::now().timestamp());
    let searcher = index.reader().searcher();
    let (top, total, facets) = searcher.search(
        &query,
        &(
            TopDocs::with_limit(req.limit.max(1))
                .and_offset(req.offset)
                .order_by_score(),
            Count,
            FacetCollector,
        ),
    )?;
    let ranked = ids_of(&searcher, &top)?;
    let hits = ranked
        .into_iter()
        .filter_map(|r| {
            let m = materials.get(&r.id)?;
            let text = match m.kind {
                MaterialKind::Contact => m.body_text(),
                _ => {
                    let b = m.body_text();
                    if b.is_empty() { m.title_text() } else { b }
                }
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
                score: r.score,
            })
        })
        .collect();
    Ok(SearchResponse {
        query_id,
        total: total as u64,
        took_ms: started.elapsed().as_secs_f64() * 1e3,
        hits,
        facets,
    })
}

/// Counts matching documents per kind and per department (from the fast fields).
struct FacetCollector;

struct FacetSegment {
    kind: Option<tantivy::columnar::StrColumn>,
    department: Option<tantivy::columnar::StrColumn>,
    kind_counts: HashMap<u64, u64>,
    dep_counts: HashMap<u64, u64>,
}

impl Collector for FacetCollector {
    type Fruit = Facets;
    type Child = FacetSegment;

    fn for_segment(
        &self,
        _ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<FacetSegment> {
        Ok(FacetSegment {
            kind: reader.fast_fields().str(schema::KIND)?,
            department: reader.fast_fields().str(schema::DEPARTMENT)?,
            kind_counts: HashMap::new(),
            dep_counts: HashMap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Facets>) -> tantivy::Result<Facets> {
        let mut out = Facets::default();
        for f in fruits {
            for (k, v) in f.kind {
                *out.kind.entry(k).or_default() += v;
            }
            for (k, v) in f.department {
                *out.department.entry(k).or_default() += v;
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for FacetSegment {
    type Fruit = Facets;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let Some(col) = &self.kind
            && let Some(ord) = col.term_ords(doc).next()
        {
            *self.kind_counts.entry(ord).or_default() += 1;
        }
        if let Some(col) = &self.department
            && let Some(ord) = col.term_ords(doc).next()
        {
            *self.dep_counts.entry(ord).or_default() += 1;
        }
    }

    fn harvest(self) -> Facets {
        let mut out = Facets::default();
        let mut buf = String::new();
        let resolve = |col: &Option<tantivy::columnar::StrColumn>,
                       counts: HashMap<u64, u64>,
                       into: &mut BTreeMap<String, u64>,
                       buf: &mut String| {
            let Some(col) = col else { return };
            for (ord, n) in counts {
                buf.clear();
                if col.ord_to_str(ord, buf).unwrap_or(false) && !buf.is_empty() {
                    *into.entry(buf.clone()).or_default() += n;
                }
            }
        };
        resolve(&self.kind, self.kind_counts, &mut out.kind, &mut buf);
        resolve(
            &self.department,
            self.dep_counts,
            &mut out.department,
            &mut buf,
        );
        out
    }
}
