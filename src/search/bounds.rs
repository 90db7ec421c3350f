//! Per-segment term statistics for [`super::maxscore`], cached by segment: a term's
//! (field norm, tf) frontier in one field, which tightens its MaxScore upper bound, and its
//! union df over a group's fields.
//!
//! A term's contribution grows with `tf~ = Σ_f w_f · tf_f / (1 − b_f + b_f · len_f / avglen_f)`,
//! which grows with each tf and falls with each length (b ≥ 0). So over the postings of one
//! field its largest value is reached at a *Pareto-optimal* (len, tf) pair: one that no other
//! posting beats with a tf at least as high and a length at most as long. Field norms are
//! quantised to 256 codes, so the frontier has at most 256 pairs (typically a handful), and it
//! does not depend on the weights, b or the average length: the bound is computed per query
//! from it. Both statistics depend only on the segment's postings (the df also on its deletes,
//! part of its key), so they are cached per segment id; a segment's ids are never reused.
//! Computing a frontier reads the whole list once (tf and norm, no scoring), so a term's first
//! query pays that and later queries nothing.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use tantivy::fieldnorm::FieldNormReader;
use tantivy::index::SegmentId;
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::schema::Field;
use tantivy::{DocSet, TERMINATED};

/// (len, tf) pairs, ascending len and strictly ascending tf.
pub type Frontier = Arc<[(u32, u32)]>;

/// Entries kept per cache before it is emptied (about 100 bytes each).
const MAX_ENTRIES: usize = 100_000;
/// Lists shorter than this are not cached (reading them again costs less than the lookup).
const MIN_CACHED_DF: u32 = 128;

type FrontierKey = (SegmentId, Field, String);
type DfKey = (SegmentId, u32, Vec<Field>, String);

static FRONTIERS: LazyLock<RwLock<HashMap<FrontierKey, Frontier>>> =
    LazyLock::new(Default::default);
static DFS: LazyLock<RwLock<HashMap<DfKey, u64>>> = LazyLock::new(Default::default);

fn get<K: std::hash::Hash + Eq, V: Clone>(cache: &RwLock<HashMap<K, V>>, key: &K) -> Option<V> {
    cache
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(key)
        .cloned()
}

fn put<K: std::hash::Hash + Eq, V>(cache: &RwLock<HashMap<K, V>>, key: K, value: V) {
    let mut c = cache.write().unwrap_or_else(|e| e.into_inner());
    if c.len() >= MAX_ENTRIES {
        c.clear();
    }
    c.insert(key, value);
}

/// Computes the frontier of `postings` (read from a clone) with `norms`.
fn compute(postings: &SegmentPostings, norms: &FieldNormReader) -> Frontier {
    let mut max_tf = [0u32; 256];
    let mut len = [0u32; 256];
    let mut p = postings.clone();
    let mut doc = p.doc();
    while doc != TERMINATED {
        let id = norms.fieldnorm_id(doc) as usize;
        if p.term_freq() > max_tf[id] {
            max_tf[id] = p.term_freq();
            len[id] = norms.fieldnorm(doc);
        }
        doc = p.advance();
    }
    let mut order: Vec<usize> = (0..256).filter(|&i| max_tf[i] > 0).collect();
    order.sort_by_key(|&i| len[i]);
    let mut out = Vec::new();
    let mut best = 0;
    for i in order {
        if max_tf[i] > best {
            best = max_tf[i];
            out.push((len[i], best));
        }
    }
    out.into()
}

/// The frontier of `term`'s postings in `field` of segment `segment`.
pub fn frontier(
    segment: SegmentId,
    field: Field,
    term: &str,
    postings: &SegmentPostings,
    norms: &FieldNormReader,
) -> Frontier {
    if postings.doc_freq() < MIN_CACHED_DF {
        return compute(postings, norms);
    }
    let key = (segment, field, term.to_string());
    if let Some(f) = get(&FRONTIERS, &key) {
        return f;
    }
    let f = compute(postings, norms);
    put(&FRONTIERS, key, f.clone());
    f
}

/// Upper bound of `weight · tf / max(1 − b + b · len / avglen, 10^-3)` over the postings
/// `frontier` summarises, in the scorer's arithmetic.
pub fn field_bound(frontier: &[(u32, u32)], weight: f32, b: f32, avglen: f32) -> f32 {
    frontier
        .iter()
        .map(|&(len, tf)| {
            let norm = 1.0 - b + b * len as f32 / avglen;
            weight * tf as f32 / norm.max(1e-3)
        })
        .fold(0f32, f32::max)
}

/// The union df of `term` over `fields` in `segment` with `deleted` deleted documents,
/// computed by `compute` on a miss.
pub fn union_df(
    segment: SegmentId,
    deleted: u32,
    fields: Vec<Field>,
    term: &str,
    longest: u32,
    compute: impl FnOnce() -> u64,
) -> u64 {
    let ok: Result<u64, std::convert::Infallible> =
        try_union_df(segment, deleted, fields, term, longest, || Ok(compute()));
    match ok {
        Ok(df) => df,
    }
}

/// [`union_df`] with a fallible `compute` (nothing is cached when it fails).
///
/// # Errors
/// `compute`'s.
pub fn try_union_df<E>(
    segment: SegmentId,
    deleted: u32,
    fields: Vec<Field>,
    term: &str,
    longest: u32,
    compute: impl FnOnce() -> Result<u64, E>,
) -> Result<u64, E> {
    if longest < MIN_CACHED_DF {
        return compute();
    }
    let key = (segment, deleted, fields, term.to_string());
    if let Some(df) = get(&DFS, &key) {
        return Ok(df);
    }
    let df = compute()?;
    put(&DFS, key, df);
    Ok(df)
}
