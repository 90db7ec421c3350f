//! The first stage: BM25F scores, the request's filters (kind, department, validity), facet
//! counts, the optional second-stage rescoring of the top candidates, and the page cut.

use std::sync::Arc;

use tantivy::{DocAddress, DocId};

use crate::index::MaterialIndex;
use crate::index::docmeta::{NO_DEPARTMENT, SegmentDocs};
use crate::material::MaterialKind;

use super::bm25f;
use super::plan::QueryPlan;
use super::request::{Facets, MAX_DEPARTMENT_FACETS, SearchRequest};
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
    /// Number of matching materials.
    pub total: u64,
    /// Facet counts (empty unless asked for).
    pub facets: Facets,
    /// The per-segment columns of the searcher (ids, kinds, departments).
    pub cols: Vec<Arc<SegmentDocs>>,
}

impl Ranked {
    /// The material id of `d`.
    pub fn id_of(&self, d: &ScoredDoc) -> Option<String> {
        id_of(&self.cols, d.addr)
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

/// Scores, filters (kind, department, validity), counts facets and cuts the page.
pub(crate) fn rank(
    index: &MaterialIndex,
    searcher: &tantivy::Searcher,
    plan: &QueryPlan,
    req: &SearchRequest,
    now: i64,
    with_facets: bool,
    rerank: Option<&Rerank<'_>>,
) -> tantivy::Result<Ranked> {
    let scores = bm25f::score(searcher, &plan.groups)?;
    let cols = index.docmeta().for_searcher(searcher)?;
    let mut candidates: Vec<ScoredDoc> = Vec::new();
    let mut kind_counts = [0u64; 3];
    let mut dep_counts: Vec<u64> = Vec::new();
    let want_dep = match &req.department {
        Some(d) => match index.docmeta().department_id(d) {
            Some(id) => Some(id),
            None => {
                return Ok(Ranked {
                    page: Vec::new(),
                    total: 0,
                    facets: Facets::default(),
                    cols,
                });
            }
        },
        None => None,
    };
    for (si, seg_scores) in scores.iter().enumerate() {
        let c = &cols[si];
        for (doc, &s) in seg_scores.iter().enumerate() {
            if s <= 0.0 || c.valid_until[doc] < now || c.valid_from[doc] > now {
                continue;
            }
            let kind = c.kinds[doc];
            if req.kind.is_some() && kind != req.kind {
                continue;
            }
            let dep = c.departments[doc];
            if want_dep.is_some_and(|w| w != dep) {
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
            candidates.push(ScoredDoc {
                score: s,
                addr: DocAddress::new(si as u32, doc as DocId),
            });
        }
    }
    let total = candidates.len() as u64;
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
                .map_or(0.0, |m| rr.similarity(m));
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
    let mut facets = Facets::default();
    for k in MaterialKind::ALL {
        if kind_counts[k as usize] > 0 {
            facets
                .kind
                .insert(k.as_str().to_string(), kind_counts[k as usize]);
        }
    }
    // The MAX_DEPARTMENT_FACETS departments with the most matches (ties by interned id).
    let mut deps: Vec<(u64, usize)> = dep_counts
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(d, &n)| (n, d))
        .collect();
    if deps.len() > MAX_DEPARTMENT_FACETS {
        deps.select_nth_unstable_by(MAX_DEPARTMENT_FACETS - 1, |a, b| {
            b.0.cmp(&a.0).then(a.1.cmp(&b.1))
        });
        deps.truncate(MAX_DEPARTMENT_FACETS);
    }
    for (n, d) in deps {
        if let Some(name) = index.docmeta().department_name(d as u32) {
            facets.department.insert(name, n);
        }
    }
    Ok(Ranked {
        page,
        total,
        facets,
        cols,
    })
}
