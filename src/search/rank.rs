//! The first stage: the exact BM25F top k (MaxScore), the request's filters (kind, department, validity), facet
//! counts, the optional second-stage rescoring of the top candidates, and the page cut.

use std::sync::Arc;

use tantivy::{DocAddress, DocId};

use crate::index::MaterialIndex;
use crate::index::docmeta::{NO_DEPARTMENT, SegmentDocs};
use crate::material::MaterialKind;

use super::maxscore::{self, DocFilter, TotalRelation};
use super::plan::QueryPlan;
use super::quality::{self, Coverage};
use super::request::{Facets, MAX_DEPARTMENT_FACETS, MAX_TRACKED_TOTAL, SearchRequest};
use super::second_stage::Rerank;

/// A scored document of one searcher.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredDoc {
    /// Ranking score (higher is better).
    pub score: f32,
    /// Segment and document of the searcher.
    pub addr: DocAddress,
}

impl ScoredDoc {
    /// Best first; ties by segment, then document (a stable, deterministic order).
    fn better(a: &ScoredDoc, b: &ScoredDoc) -> std::cmp::Ordering {
        b.score
            .total_cmp(&a.score)
            .then(a.addr.segment_ord.cmp(&b.addr.segment_ord))
            .then(a.addr.doc_id.cmp(&b.addr.doc_id))
    }
}

/// The ranked, filtered candidates of one query.
pub(crate) struct Ranked {
    /// The requested page, best first.
    pub page: Vec<ScoredDoc>,
    /// Number of matching materials, exact up to [`MAX_TRACKED_TOTAL`] (with facets), else
    /// the number of candidates ranked.
    pub total: u64,
    /// Whether `total` is exact.
    pub total_relation: TotalRelation,
    /// Facet counts (empty unless asked for).
    pub facets: Facets,
    /// The per-segment columns of the searcher (ids, kinds, departments).
    pub cols: Vec<Arc<SegmentDocs>>,
    /// Which content units of the query the hits of `page` cover (with facets only).
    pub coverage: Option<Coverage>,
}

impl Ranked {
    /// The material id of `d`.
    pub fn id_of(&self, d: &ScoredDoc) -> Option<String> {
        id_of(&self.cols, d.addr)
    }

    /// The match quality of `d` (see [`super::quality`]; 0 without coverage).
    pub fn quality_of(&self, d: &ScoredDoc) -> f32 {
        self.coverage.as_ref().map_or(0.0, |c| {
            c.quality(d.addr.segment_ord as usize, d.addr.doc_id)
        })
    }
}

/// Returns the material id of `addr` in `cols`.
pub(crate) fn id_of(cols: &[Arc<SegmentDocs>], addr: DocAddress) -> Option<String> {
    cols.get(addr.segment_ord as usize)?
        .ids
        .get(addr.doc_id as usize)
        .filter(|s| !s.is_empty())
        .cloned()
}

/// The request's filters over the searcher's columns: validity at `now`, kind, department.
#[derive(Clone, Copy)]
struct RequestFilter<'a> {
    cols: &'a [Arc<SegmentDocs>],
    now: i64,
    kind: Option<MaterialKind>,
    /// Per interned department, whether the department filter admits it (None: no filter).
    want_dep: Option<&'a [bool]>,
}

impl DocFilter for RequestFilter<'_> {
    fn keep(&self, si: usize, doc: DocId) -> bool {
        let c = &self.cols[si];
        let d = doc as usize;
        c.valid_until[d] >= self.now
            && c.valid_from[d] <= self.now
            && (self.kind.is_none() || c.kinds[d] == self.kind)
            && self
                .want_dep
                .is_none_or(|w| w.get(c.departments[d] as usize).copied().unwrap_or(false))
    }

    fn keeps_all(&self, si: usize) -> bool {
        self.kind.is_none() && self.want_dep.is_none() && self.cols[si].all_valid_at(self.now)
    }
}

/// Ranks (the exact top k by MaxScore, see [`maxscore`]), filters (kind, department,
/// validity), counts the total and facets up to [`MAX_TRACKED_TOTAL`] matches when
/// `with_facets`, and cuts the page.
///
/// With facets, `total` and the facets count only the matches that cover a content unit of
/// the query ([`Coverage`]: a content word, not any shared character or bigram); a query
/// without content units counts every match. The ranking itself is unchanged by it.
// The learned group's contributions come as their own argument: the plan is the query's,
// they are the searcher's.
#[allow(clippy::too_many_arguments)]
pub(crate) fn rank(
    index: &MaterialIndex,
    searcher: &tantivy::Searcher,
    plan: &QueryPlan,
    req: &SearchRequest,
    now: i64,
    with_facets: bool,
    rerank: Option<&Rerank<'_>>,
    learned: &maxscore::ExtraScores,
) -> tantivy::Result<Ranked> {
    let cols = index.docmeta().for_searcher(searcher)?;
    let mut kind_counts = [0u64; 3];
    let mut dep_counts: Vec<u64> = Vec::new();
    // Interned departments the filter admits (indexed by interned id): the department asked
    // for and the units below it.
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
                return Ok(Ranked {
                    page: Vec::new(),
                    total: 0,
                    total_relation: TotalRelation::Eq,
                    facets: Facets::default(),
                    cols,
                    coverage: None,
                });
            }
            Some(admit)
        }
        None => None,
    };
    let filter = RequestFilter {
        cols: &cols,
        now,
        kind: req.kind,
        want_dep: want_dep.as_deref(),
    };
    let keep = |si: usize, doc: DocId| filter.keep(si, doc);
    let k = match rerank {
        Some(rr) if rr.weight > 0.0 => (req.offset + req.limit).max(rr.depth),
        _ => req.offset + req.limit,
    };
    // The learned group (precomputed per document, see super::learned) adds to the scores;
    // `total` and the facets count the matches of the text as before.
    let (top, _) = maxscore::top_k_with(searcher, &plan.groups, learned, k, filter)?;
    let mut candidates: Vec<ScoredDoc> = top
        .into_iter()
        .map(|(score, si, doc)| ScoredDoc {
            score,
            addr: DocAddress::new(si as u32, doc),
        })
        .collect();
    // `total` and the facets: the matches covering a content unit, counted up to the cap
    // over the units' postings (see quality::count_covered).
    let (total, total_relation) = if with_facets {
        quality::count_covered(
            searcher,
            &plan.units,
            &plan.groups,
            MAX_TRACKED_TOTAL,
            keep,
            |si, doc| {
                let c = &cols[si];
                if let Some(k) = c.kinds[doc as usize] {
                    kind_counts[k as usize] += 1;
                }
                let dep = c.departments[doc as usize];
                if dep != NO_DEPARTMENT {
                    let d = dep as usize;
                    if d >= dep_counts.len() {
                        dep_counts.resize(d + 1, 0);
                    }
                    dep_counts[d] += 1;
                }
            },
        )?
    } else {
        (candidates.len() as u64, TotalRelation::Eq)
    };
    let better = ScoredDoc::better;
    if let Some(rr) = rerank
        && rr.weight > 0.0
        && !candidates.is_empty()
    {
        let depth = rr.depth.min(candidates.len());
        if depth < candidates.len() {
            candidates.select_nth_unstable_by(depth - 1, better);
        }
        let top = candidates[..depth]
            .iter()
            .map(|c| c.score)
            .fold(0f32, f32::max);
        for c in &mut candidates[..depth] {
            let sim = id_of(&cols, c.addr)
                .and_then(|id| rr.materials.get(&id))
                .map_or(0.0, |m| rr.score(m, c.addr));
            c.score += rr.weight * top * sim;
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
    // Match quality of the hits shown only (their units' postings sought to them).
    let coverage = if with_facets {
        let docs: Vec<DocAddress> = page.iter().map(|d| d.addr).collect();
        Some(Coverage::for_docs(searcher, &plan.units, &docs)?)
    } else {
        None
    };
    let mut facets = Facets {
        population: if with_facets { total } else { 0 },
        ..Facets::default()
    };
    for k in MaterialKind::ALL {
        if kind_counts[k as usize] > 0 {
            facets
                .kind
                .insert(k.as_str().to_string(), kind_counts[k as usize]);
        }
    }
    // Counts folded to the level asked, then the MAX_DEPARTMENT_FACETS departments with the
    // most matches (ties by name).
    let level = req
        .department_level
        .unwrap_or(crate::departments::Level::Ka);
    let mut by_name: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
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
    Ok(Ranked {
        page,
        total,
        total_relation,
        facets,
        cols,
        coverage,
    })
}
