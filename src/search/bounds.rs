//! Per-segment term statistics for [`super::maxscore`], cached by segment: a term's
//! (field norm, tf) frontier in one field, which tightens its MaxScore upper bound, its
//! per-window maxima (block-max bounds), and its union df over a group's fields.
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
//!
//! # Block-max bounds per document window
//! The same pass records, for a long list, per window of `2^bits` doc ids, the largest tf
//! and the largest `tf / len` of the window's postings (Ding & Suel's block-max indexes,
//! SIGIR 2011, with kotae's own fixed windows: tantivy's per-block maxima are for its own
//! BM25 and its block bounds are not public). A posting's share `tf / (1 − b + b · len / a)`
//! is convex in b (`1 / (1 + b·x)` is), so it is at most `(1 − b) · tf + b · a · tf / len`,
//! its values at b = 0 and b = 1; over a window, at most `(1 − b) · max tf + b · a ·
//! max (tf / len)`. That holds for every b in [0, 1], weight and average length, so the
//! window maxima, like the frontier, are computed once per segment and bound every query.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use tantivy::fieldnorm::FieldNormReader;
use tantivy::index::SegmentId;
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::schema::Field;
use tantivy::{DocSet, TERMINATED};

/// (len, tf) pairs, ascending len and strictly ascending tf.
pub type Frontier = Arc<[(u32, u32)]>;

/// Entries kept per cache before it is emptied (about 100 bytes each, plus the windows).
const MAX_ENTRIES: usize = 400_000;
/// Bytes of window maxima kept before the bounds cache is emptied.
const MAX_WINDOW_BYTES: usize = 256 << 20;
/// Lists shorter than this are not cached (reading them again costs less than the lookup).
const MIN_CACHED_DF: u32 = 128;

type FrontierKey = (SegmentId, Field, WindowLayout, String);
type DfKey = (SegmentId, u32, Vec<Field>, String);

/// The bounds cache and the bytes of window maxima it holds.
#[derive(Default)]
struct BoundsCache {
    map: HashMap<FrontierKey, Arc<TermBounds>>,
    window_bytes: usize,
}

static BOUNDS: LazyLock<RwLock<BoundsCache>> = LazyLock::new(Default::default);
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

/// How a segment's doc ids are cut into windows for block-max bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WindowLayout {
    /// A window holds the doc ids `w << bits .. (w + 1) << bits`.
    pub bits: u32,
    /// Lists with fewer postings get no window maxima (their bound is the whole list's).
    pub min_df: u32,
}

impl WindowLayout {
    /// The search path's layout: windows of 128 doc ids, for lists of 1,024 postings and
    /// more (at 10^6 pages in two segments: about 3,900 windows per segment, 2 bytes each
    /// per list).
    pub const DEFAULT: WindowLayout = WindowLayout {
        bits: 7,
        min_df: 1024,
    };

    /// The window's bits as used (at most 16: 65,536 doc ids).
    pub fn window_bits(self) -> u32 {
        self.bits.min(16)
    }

    /// No window maxima: every term is bounded by its whole list's bound, over windows of
    /// 65,536 doc ids (for comparisons: the essential set is chosen per window, so fewer,
    /// longer windows prune less).
    pub const NONE: WindowLayout = WindowLayout {
        bits: 31,
        min_df: u32::MAX,
    };
}

/// The per-window maxima of one term's postings in one field (see the module docs), one
/// byte each, both rounded up: a tf of 255 or more, and a ratio beyond the code range, say
/// "no bound of the window's own" (the list's bound applies).
#[derive(Debug)]
pub struct WindowMaxima {
    /// Largest tf per window (0: no posting in the window; 255: 255 or more).
    max_tf: Box<[u8]>,
    /// Largest `tf / len` per window as a [`ratio_code`] (255: above the range or a len 0).
    max_ratio: Box<[u8]>,
}

/// Codes of `tf / len` ratios: code c stands for `2^((c − 128) / 16)` (steps of 4.4 %, from
/// 2^-8 to 2^7.9), so a bound read from a code is at most 4.4 % above the window's maximum.
fn ratio_code(r: f64) -> u8 {
    if r.is_nan() || r > ratio_value(254) as f64 {
        return 255;
    }
    let c = (16.0 * r.log2()).ceil() + 128.0;
    let mut c = c.clamp(0.0, 254.0) as u8;
    // Rounded up, whatever log2's last bit did.
    while (ratio_value(c) as f64) < r {
        c += 1;
    }
    c
}

/// The ratio code `c` stands for (see [`ratio_code`]); infinite for 255.
fn ratio_value(c: u8) -> f32 {
    static TABLE: LazyLock<[f32; 256]> = LazyLock::new(|| {
        let mut t = [0f32; 256];
        for (c, v) in t.iter_mut().enumerate() {
            *v = if c == 255 {
                f32::INFINITY
            } else {
                ((c as f64 - 128.0) / 16.0).exp2() as f32
            };
        }
        t
    });
    TABLE[c as usize]
}

impl WindowMaxima {
    /// Upper bound of `weight · tf / max(1 − b + b · len / avglen, 10^-3)` over the
    /// postings of window `w`; 0 when the window has none, infinite when the window's
    /// maxima are beyond the codes (the caller takes the smaller of this and the list's).
    pub fn bound(&self, w: usize, weight: f32, b: f32, avglen: f32) -> f32 {
        let tf = self.max_tf.get(w).copied().unwrap_or(0);
        if tf == 0 {
            return 0.0;
        }
        if tf == 255 {
            return f32::INFINITY;
        }
        let mut x = (1.0 - b) * f32::from(tf);
        if b > 0.0 {
            x += b * avglen * ratio_value(self.max_ratio[w]);
        }
        weight * x
    }

    /// [`Self::bound`] of each window `w0 .. w0 + out.len()` from `tables` (the field's
    /// weight, b and average length, computed once per query: two table reads and an
    /// addition per window), at most `cap`, added to `out` (windows past the list's end
    /// count 0).
    #[inline]
    pub fn add_bounds_by(&self, w0: usize, tables: &WindowBoundTables, cap: f32, out: &mut [f32]) {
        let end = (w0 + out.len()).min(self.max_tf.len());
        if w0 >= end {
            return;
        }
        let tfs = &self.max_tf[w0..end];
        let ratios = &self.max_ratio[w0..end];
        for ((x, &tf), &r) in out.iter_mut().zip(tfs).zip(ratios) {
            if tf != 0 {
                *x += (tables.tf[usize::from(tf)] + tables.ratio[usize::from(r)]).min(cap);
            }
        }
    }

    fn bytes(&self) -> usize {
        self.max_tf.len() * 2
    }
}

/// [`WindowMaxima::bound`]'s two terms for one field's weight, b and average length, per
/// byte code: `weight · (1 − b) · tf` by max-tf code and `weight · b · avglen · ratio` by
/// ratio code (infinite for the codes that mean "beyond"), so that bounding a window is two
/// table reads and an addition (the products are rounded in another order than `bound`'s:
/// a few units in the last place, which the caller's relative slack covers).
#[derive(Debug, Clone)]
pub struct WindowBoundTables {
    tf: [f32; 256],
    ratio: [f32; 256],
}

impl WindowBoundTables {
    /// The tables of a field of weight `weight`, length normalisation `b` and average
    /// length `avglen`.
    pub fn new(weight: f32, b: f32, avglen: f32) -> Self {
        let mut tf = [0f32; 256];
        let mut ratio = [0f32; 256];
        for c in 0..=255u8 {
            tf[usize::from(c)] = if c == 255 {
                f32::INFINITY
            } else {
                weight * (1.0 - b) * f32::from(c)
            };
            ratio[usize::from(c)] = if b > 0.0 {
                weight * b * avglen * ratio_value(c)
            } else {
                0.0
            };
        }
        Self { tf, ratio }
    }
}

/// What bounds one term's postings in one field of a segment.
#[derive(Debug)]
pub struct TermBounds {
    /// The (len, tf) frontier of the whole list.
    pub frontier: Frontier,
    /// Per-window maxima, for lists of at least the layout's `min_df` postings.
    pub windows: Option<WindowMaxima>,
    /// For the shorter lists, the windows holding a posting, ascending (empty with
    /// `windows`): where the whole list's bound applies.
    pub present: Box<[u32]>,
}

impl TermBounds {
    fn bytes(&self) -> usize {
        self.windows.as_ref().map_or(0, WindowMaxima::bytes) + self.present.len() * 4
    }
}

/// Reads `postings` (a clone) once with `norms`: the frontier and, when `windows` is
/// given, the per-window maxima over `max_doc` doc ids, else the windows of `2^bits` doc ids
/// holding a posting.
fn compute(
    postings: &SegmentPostings,
    norms: &FieldNormReader,
    windows: Option<(u32, u32)>,
    bits: u32,
) -> TermBounds {
    let mut present: Vec<u32> = Vec::new();
    let mut max_tf = [0u32; 256];
    let mut len = [0u32; 256];
    let (mut w_tf, mut w_ratio) = match windows {
        Some((bits, max_doc)) => {
            let n = (max_doc as usize >> bits) + 1;
            (vec![0u32; n], vec![0f64; n])
        }
        None => (Vec::new(), Vec::new()),
    };
    let mut p = postings.clone();
    let mut doc = p.doc();
    while doc != TERMINATED {
        let id = norms.fieldnorm_id(doc) as usize;
        let tf = p.term_freq();
        if tf > max_tf[id] {
            max_tf[id] = tf;
            len[id] = norms.fieldnorm(doc);
        }
        if w_tf.is_empty() {
            let w = doc >> bits;
            if present.last() != Some(&w) {
                present.push(w);
            }
        } else {
            let w = (doc >> bits) as usize;
            w_tf[w] = w_tf[w].max(tf);
            let l = norms.fieldnorm(doc);
            let r = if l == 0 {
                f64::INFINITY
            } else {
                f64::from(tf) / f64::from(l)
            };
            if r > w_ratio[w] {
                w_ratio[w] = r;
            }
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
    let windows = (!w_tf.is_empty()).then(|| WindowMaxima {
        max_tf: w_tf.iter().map(|&t| t.min(255) as u8).collect(),
        max_ratio: w_ratio.into_iter().map(ratio_code).collect(),
    });
    TermBounds {
        frontier: out.into(),
        windows,
        present: present.into(),
    }
}

/// The bounds of `term`'s postings in `field` of segment `segment` (`max_doc` doc ids),
/// with window maxima by `layout` for long lists.
pub fn term_bounds(
    segment: SegmentId,
    max_doc: u32,
    field: Field,
    term: &str,
    postings: &SegmentPostings,
    norms: &FieldNormReader,
    layout: WindowLayout,
) -> Arc<TermBounds> {
    let bits = layout.window_bits();
    let windows = (postings.doc_freq() >= layout.min_df).then_some((bits, max_doc));
    if postings.doc_freq() < MIN_CACHED_DF {
        return Arc::new(compute(postings, norms, windows, bits));
    }
    let key = (segment, field, layout, term.to_string());
    if let Some(b) = BOUNDS
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .map
        .get(&key)
    {
        return b.clone();
    }
    let b = Arc::new(compute(postings, norms, windows, bits));
    let bytes = b.bytes();
    let mut c = BOUNDS.write().unwrap_or_else(|e| e.into_inner());
    if c.map.len() >= MAX_ENTRIES || c.window_bytes + bytes > MAX_WINDOW_BYTES {
        c.map.clear();
        c.window_bytes = 0;
    }
    if c.map.insert(key, b.clone()).is_none() {
        c.window_bytes += bytes;
    }
    b
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_bounds_equal_the_formula_within_rounding() {
        let maxima = WindowMaxima {
            max_tf: vec![0, 1, 3, 254, 255, 7].into(),
            max_ratio: vec![0, 128, 100, 254, 10, 255].into(),
        };
        for (weight, b, avglen) in [(1.0, 0.5, 800.0), (1.5, 1.0, 12.0), (0.5, 0.0, 40.0)] {
            let t = WindowBoundTables::new(weight, b, avglen);
            // Windows 0..8 in runs of 3 from every start, over a list of 6 windows, onto
            // 1.0, capped at 2000.
            for w0 in 0..8 {
                let mut out = [1.0f32; 3];
                maxima.add_bounds_by(w0, &t, 2000.0, &mut out);
                for (i, got) in out.into_iter().enumerate() {
                    let w = w0 + i;
                    // Past the last window: no posting, bound 0.
                    let want = if w < 6 {
                        1.0 + maxima.bound(w, weight, b, avglen).min(2000.0)
                    } else {
                        1.0
                    };
                    assert!(
                        (got - want).abs() <= want * 1e-6,
                        "window {w}: {got} vs {want}"
                    );
                }
            }
        }
    }
}
