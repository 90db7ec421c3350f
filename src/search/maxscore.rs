//! Exact top-k BM25F with MaxScore dynamic pruning, and match counting up to a cap.
//!
//! [`bm25f::score`] scores every posting of every query term. At 10^5 pages the bigram and
//! kanji-unigram groups have posting lists nearly as long as the corpus, so that costs a
//! query time linear in the corpus. [`top_k`] returns the **same** top k, with the same
//! scores (bit for bit) and the same order (score descending, then segment ordinal, then
//! doc id), while scoring only the documents that can still enter the top k: MaxScore
//! (H. Turtle and J. Flood, "Query evaluation: strategies and optimizations", Information
//! Processing & Management 31(6), 1995; in the document-at-a-time form of Lucene's
//! `MaxScoreBulkScorer`).
//!
//! # BM25F terms as cursors
//! A BM25F term is one cursor over the *union* of its postings in the fields of its group
//! (its df counts documents with the term in any field; its tf~ sums the fields before
//! saturation, see [`bm25f`]). Its contribution `qw · idf · tf~ · (k1 + 1) / (k1 + tf~)` is
//! below `qw · idf · (k1 + 1)` (times the group weight), since `tf~ / (k1 + tf~) < 1` for
//! `k1 ≥ 0`; per segment the bound is tightened to the contribution at
//! `tf~_max = Σ_f max over the field's postings of w_f · tf / norm`, read from the term's
//! (field norm, tf) frontier ([`bounds`], cached per segment).
//!
//! # MaxScore over block-max windows
//! A segment's doc ids are cut into windows of 128 ([`WindowLayout::DEFAULT`]). Per window,
//! each term is bounded by the smaller of its list's bound and its *window* bound, from the
//! largest tf and `tf / len` of its postings in the window ([`bounds`]; Ding & Suel,
//! "Faster top-k document retrieval using block-max indexes", SIGIR 2011, on kotae's own
//! windows: tantivy 0.27's per-block maxima are for its own BM25, k1 = 1.2, b = 0.75, not an
//! upper bound for kotae's per-field b, and its block boundaries are not public). With θ
//! the score of the k-th best document so far:
//! - a window whose bounds sum below θ is skipped without reading a posting;
//! - otherwise the terms are taken in ascending order of their list bounds, and the longest
//!   prefix whose window bounds sum below θ is *non-essential* (MaxScore: H. Turtle and
//!   J. Flood, "Query evaluation: strategies and optimizations", Information Processing &
//!   Management 31(6), 1995): a document with none of the other (*essential*) terms cannot
//!   beat θ. The essential terms are scored term at a time into the window's accumulators
//!   (as Lucene's `MaxScoreBulkScorer` does), each field's postings read straight into a
//!   per-window array of the term's tf~ that is then saturated once per document; their
//!   documents are the window's candidates. Then the non-essential terms are added to the
//!   candidates one term after the other, in decreasing bound order, each after dropping
//!   the candidates whose partial score plus its bound and the lower ones' is below θ; a
//!   term is added term at a time over the window (its postings read in order, only the
//!   candidates' scored) while the candidates left number at least its expected postings
//!   in the window over [`SEEK_COST`], else by a `seek` (tantivy's skip list) per
//!   candidate. A long query at 10^6 pages has candidates in most documents of a window,
//!   where a seek per candidate and term cost several times the term's postings there.
//!
//! Bounding a window costs every cursor a look at its window maxima, so at 10^6 pages (about
//! 7,800 windows and a hundred cursors per query) it is a fair share of the query: the
//! bounds are computed term at a time for a chunk of 64 windows (a tight loop per cursor
//! over its window bytes, the per-field products read from per-query tables by byte code,
//! [`bounds::WindowBoundTables`], one pair per group field; a short list's windows from the
//! list of windows it has a posting in), so that a window is one sum; and the accumulators
//! take each posting's share as its tf times a per-norm-code table (per group field)
//! instead of the scorer's division.
//!
//! Documents are visited in (segment, doc) order, so a document tying θ loses the tie (it
//! comes later) and pruning on `bound < θ` keeps exactly the exhaustive top k. Bounds carry
//! a relative slack of 10^-4 over f32 rounding (the accumulators sum in another order than
//! the scorer, and take each field's share as tf times a per-norm-code table instead of the
//! scorer's division: the same slack covers both); every document that passes is scored in
//! the exhaustive scorer's arithmetic and summation order, so its score equals
//! [`bm25f::score`]'s exactly: the non-essential terms' contributions are computed so as
//! they are added, and the essential terms' recomputed by a second set of cursors.

//! # Precomputed contributions
//! One more score source may come as a list per segment of (doc, contribution) pairs: the
//! learned-query group ([`super::learned`]), scored apart over its small side index. It is
//! one more cursor whose bound is its largest value in the segment, added after every term
//! (in both scorers), so the result is still the exhaustive top k bit for bit.
//!
//! # df without scoring every posting
//! The idf needs the exact number of live documents having a term in any field of its
//! group. Per segment, it is the length of the longest field list (tantivy's `doc_freq`),
//! plus the documents of each shorter list that no longer list holds (found by `seek`), minus
//! the deleted documents that some list holds — so the long body lists are never walked.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Searcher, SegmentReader, TERMINATED, Term};

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, OnceLock};

use super::bm25f::{self, TermGroup};
use super::bounds::{self, TermBounds, WindowLayout};

/// Relative slack on upper bounds, covering f32 rounding of the scores and their sums.
const BOUND_SLACK: f32 = 1e-4;

/// Windows whose bounds are computed together, term at a time (see [`rank_segment`]); in
/// the unit tests 4, so that their corpora of a few dozen documents span several chunks.
const WINDOW_CHUNK: usize = if cfg!(test) { 4 } else { 64 };

/// A scored document: (score, segment ordinal, doc id).
pub type Scored = (f32, usize, DocId);

/// Precomputed contributions of one more score source, per segment ordinal: (doc,
/// contribution), ascending doc ids, contributions positive and finite (see the module
/// docs, "Precomputed contributions"). Deleted documents in it are ignored.
pub type ExtraScores = [Vec<(DocId, f32)>];

/// Work done by one [`top_k`] call (for benchmarks and the per-query cost report).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneStats {
    /// Term contributions computed (one per posting whose tf and field norm were read).
    pub postings_scored: u64,
    /// Documents whose score was computed in full.
    pub docs_scored: u64,
    /// Documents an essential term's postings offered (each window's candidates).
    pub candidates: u64,
    /// Seeks of non-essential terms' cursors to a candidate.
    pub seeks: u64,
    /// Windows skipped whole (their bounds summed below θ), and windows in all.
    pub windows_skipped: u64,
    /// Windows in all (segments' doc ids cut by the layout).
    pub windows: u64,
    /// Postings of the query's terms in total (what the exhaustive scorer reads).
    pub postings_total: u64,
    /// Whether the exhaustive scorer was used (a weight makes the bounds invalid).
    pub exhaustive: bool,
}

impl PruneStats {
    /// Adds the work of another part of the same query (`postings_total` is the query's, so
    /// it is kept).
    fn add(&mut self, o: &PruneStats) {
        self.postings_scored += o.postings_scored;
        self.docs_scored += o.docs_scored;
        self.candidates += o.candidates;
        self.seeks += o.seeks;
        self.windows_skipped += o.windows_skipped;
        self.windows += o.windows;
        self.exhaustive |= o.exhaustive;
    }
}

/// Orders scored documents best first: score descending, then segment, then doc.
pub fn better(a: &Scored, b: &Scored) -> Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
}

/// One query term of one group, with its query-wide statistics.
struct TermInfo {
    /// Index of the group in the query.
    group: usize,
    /// The term text.
    term: String,
    /// `group weight · qw · idf · (k1 + 1)`, exactly as [`bm25f::score`] computes it.
    mult: f32,
}

/// Per-group, per-field average lengths, as [`bm25f::score`] computes them.
struct GroupStats {
    avglen: Vec<f32>,
    /// Per field, `w_f / max(1 − b_f + b_f · len / avglen_f, 10^-3)` for each field-norm
    /// code: the accumulators' share of a posting is one multiplication by its tf (the
    /// final scores keep [`bm25f::score`]'s own arithmetic).
    share_of_norm: Vec<Arc<[f32; 256]>>,
    /// Per field, the tables of its window bounds ([`bounds::WindowBoundTables`]).
    window_tables: Vec<Arc<bounds::WindowBoundTables>>,
}

/// Query-wide statistics: every (group, term) with a live document, in the exhaustive
/// scorer's summation order.
struct Prepared {
    groups: Vec<GroupStats>,
    terms: Vec<TermInfo>,
    postings_total: u64,
}

fn weighted_fields(g: &TermGroup) -> impl Iterator<Item = (usize, &bm25f::FieldSpec)> {
    g.fields.iter().enumerate().filter(|(_, f)| f.weight > 0.0)
}

/// Whether the MaxScore bounds hold for `groups` (non-negative weights and k1).
pub(crate) fn bounds_hold(groups: &[TermGroup]) -> bool {
    groups.iter().all(|g| {
        g.k1 >= 0.0
            && g.weight.is_finite()
            && g.terms.iter().all(|(_, qw)| *qw >= 0.0 && qw.is_finite())
            && g.fields
                .iter()
                .all(|f| f.weight.is_finite() && (0.0..=1.0).contains(&f.b))
    })
}

/// Postings of `term` in each weighted field of `g` in segment `s` (None where absent).
fn field_postings(
    s: &SegmentReader,
    g: &TermGroup,
    term: &str,
) -> tantivy::Result<Vec<(usize, SegmentPostings)>> {
    let mut out = Vec::new();
    for (fi, f) in weighted_fields(g) {
        let t = Term::from_field_text(f.field, term);
        if let Some(p) = s
            .inverted_index(f.field)?
            .read_postings(&t, IndexRecordOption::WithFreqs)?
        {
            out.push((fi, p));
        }
    }
    Ok(out)
}

/// Whether any of `probes` holds `doc` (probes are advanced monotonically).
fn any_holds(probes: &mut [SegmentPostings], doc: DocId) -> bool {
    let mut hit = false;
    for p in probes {
        if p.doc() < doc {
            p.seek(doc);
        }
        hit |= p.doc() == doc;
    }
    hit
}

/// Live documents holding the term in any of `lists` (one segment's), `deleted` being the
/// segment's deleted documents in ascending order.
fn union_df(deleted: &[DocId], mut lists: Vec<SegmentPostings>) -> u64 {
    lists.sort_by_key(|p| std::cmp::Reverse(p.doc_freq()));
    let Some(first) = lists.first() else {
        return 0;
    };
    let mut df = u64::from(first.doc_freq());
    for j in 1..lists.len() {
        let mut probes: Vec<SegmentPostings> = lists[..j].to_vec();
        let mut p = lists[j].clone();
        let mut doc = p.doc();
        while doc != TERMINATED {
            if !any_holds(&mut probes, doc) {
                df += 1;
            }
            doc = p.advance();
        }
    }
    let mut probes = lists;
    for &doc in deleted {
        if any_holds(&mut probes, doc) {
            df -= 1;
        }
    }
    df
}

fn prepare(searcher: &Searcher, groups: &[TermGroup]) -> tantivy::Result<Prepared> {
    let segs = searcher.segment_readers();
    let n_docs = searcher.num_docs().max(1) as f32;
    let mut stats = Vec::with_capacity(groups.len());
    let mut terms = Vec::new();
    let mut postings_total = 0u64;
    // Deleted documents per segment, read when a df is first computed (not on a cached
    // df: the walk is linear in the segment).
    let deleted: Vec<OnceLock<Vec<DocId>>> = segs.iter().map(|_| OnceLock::new()).collect();
    for (gi, g) in groups.iter().enumerate() {
        let mut avglen = Vec::with_capacity(g.fields.len());
        let mut share_of_norm = Vec::with_capacity(g.fields.len());
        let mut window_tables = Vec::with_capacity(g.fields.len());
        for f in &g.fields {
            let mut tokens = 0u64;
            for s in segs {
                tokens += s.inverted_index(f.field)?.total_num_tokens();
            }
            let a = (tokens as f32 / n_docs).max(1.0);
            avglen.push(a);
            let mut table = [0f32; 256];
            for (id, v) in table.iter_mut().enumerate() {
                let len = FieldNormReader::id_to_fieldnorm(id as u8) as f32;
                *v = f.weight / (1.0 - f.b + f.b * len / a).max(1e-3);
            }
            share_of_norm.push(Arc::new(table));
            window_tables.push(Arc::new(bounds::WindowBoundTables::new(f.weight, f.b, a)));
        }
        stats.push(GroupStats {
            avglen,
            share_of_norm,
            window_tables,
        });
        if g.terms.is_empty() || g.weight <= 0.0 {
            continue;
        }
        for (term, qw) in &g.terms {
            let mut df = 0u64;
            for (s, deleted) in segs.iter().zip(&deleted) {
                // The lists' lengths from the term dictionaries; the postings are opened
                // only when the df is not cached.
                let mut infos = Vec::new();
                for (_, f) in weighted_fields(g) {
                    let inv = s.inverted_index(f.field)?;
                    if let Some(ti) = inv.get_term_info(&Term::from_field_text(f.field, term))? {
                        infos.push((f.field, ti, inv));
                    }
                }
                let lens = infos.iter().map(|(_, ti, _)| ti.doc_freq);
                postings_total += lens.clone().map(u64::from).sum::<u64>();
                let longest = lens.max().unwrap_or(0);
                let fields: Vec<Field> = infos.iter().map(|(f, _, _)| *f).collect();
                df += bounds::try_union_df(
                    s.segment_id(),
                    s.num_deleted_docs(),
                    fields,
                    term,
                    longest,
                    || -> tantivy::Result<u64> {
                        let mut lists = Vec::with_capacity(infos.len());
                        for (_, ti, inv) in &infos {
                            lists.push(
                                inv.read_postings_from_terminfo(ti, IndexRecordOption::WithFreqs)?,
                            );
                        }
                        let deleted = deleted.get_or_init(|| match s.alive_bitset() {
                            Some(a) => (0..s.max_doc()).filter(|&d| a.is_deleted(d)).collect(),
                            None => Vec::new(),
                        });
                        Ok(union_df(deleted, lists))
                    },
                )?;
            }
            if df == 0 {
                continue;
            }
            let idf = (1.0 + (n_docs - df as f32 + 0.5) / (df as f32 + 0.5)).ln();
            let mult = g.weight * qw * idf * (g.k1 + 1.0);
            terms.push(TermInfo {
                group: gi,
                term: term.clone(),
                mult,
            });
        }
    }
    Ok(Prepared {
        groups: stats,
        terms,
        postings_total,
    })
}

/// One field's postings of a term, with what its tf~ share and its bounds need.
#[derive(Clone)]
struct FieldCursor {
    postings: SegmentPostings,
    norms: FieldNormReader,
    weight: f32,
    b: f32,
    avglen: f32,
    /// [`GroupStats::share_of_norm`] of the field.
    share_of_norm: Arc<[f32; 256]>,
    /// [`GroupStats::window_tables`] of the field.
    window_tables: Arc<bounds::WindowBoundTables>,
    /// The frontier and window maxima of the list.
    bounds: Arc<TermBounds>,
    /// Upper bound of the field's tf~ share over the whole list.
    global: f32,
}

/// A BM25F term's cursor: the union of its field postings in one segment, or (no fields)
/// a segment's list of precomputed contributions.
#[derive(Clone)]
struct TermCursor<'a> {
    fields: Vec<FieldCursor>,
    /// Precomputed (doc, contribution) pairs, when `fields` is empty.
    list: &'a [(DocId, f32)],
    /// Position in `list`.
    pos: usize,
    doc: DocId,
    mult: f32,
    k1: f32,
    /// Upper bound of the contribution, with slack.
    ub: f32,
    /// Position in the exhaustive scorer's summation order.
    canon: usize,
    /// Postings expected per window (the list's density times the window size): what
    /// scoring the term over a window term at a time costs, against a seek per candidate.
    per_window: f32,
}

impl TermCursor<'_> {
    fn refresh(&mut self) {
        if self.fields.is_empty() {
            self.doc = self.list.get(self.pos).map_or(TERMINATED, |x| x.0);
            return;
        }
        self.doc = self
            .fields
            .iter()
            .map(|f| f.postings.doc())
            .min()
            .unwrap_or(TERMINATED);
    }

    fn advance(&mut self) {
        if self.fields.is_empty() {
            self.pos += 1;
            self.refresh();
            return;
        }
        let d = self.doc;
        for f in &mut self.fields {
            if f.postings.doc() == d {
                f.postings.advance();
            }
        }
        self.refresh();
    }

    fn seek(&mut self, target: DocId) {
        if self.doc >= target {
            return;
        }
        if self.fields.is_empty() {
            self.pos += self.list[self.pos..].partition_point(|x| x.0 < target);
            self.refresh();
            return;
        }
        for f in &mut self.fields {
            if f.postings.doc() < target {
                f.postings.seek(target);
            }
        }
        self.refresh();
    }

    /// Adds the term's contribution (as [`Self::approx_score`]) to `acc` for each document
    /// of the window `lo..hi` that it has a posting in, term at a time, and marks those
    /// documents in `hit`; returns their number. Each field's shares go straight into `xs`
    /// (summed in the fields' order, as `approx_score` does; `xmask` marks them), then are
    /// saturated once per document. `xs` and `xmask` are left cleared; the cursor ends on
    /// its first document at `hi` or after.
    fn add_window(
        &mut self,
        lo: DocId,
        hi: DocId,
        xs: &mut [f32],
        xmask: &mut [u64],
        acc: &mut [f32],
        hit: &mut [u64],
    ) -> u64 {
        let mut n = 0u64;
        if self.fields.is_empty() {
            self.seek(lo);
            while self.doc < hi {
                let o = (self.doc - lo) as usize;
                acc[o] += self.approx_score();
                hit[o / 64] |= 1 << (o % 64);
                n += 1;
                self.advance();
            }
            return n;
        }
        for f in &mut self.fields {
            if f.postings.doc() < lo {
                f.postings.seek(lo);
            }
            let mut d = f.postings.doc();
            while d < hi {
                let o = (d - lo) as usize;
                xs[o] += f.share_of_norm[usize::from(f.norms.fieldnorm_id(d))]
                    * f.postings.term_freq() as f32;
                xmask[o / 64] |= 1 << (o % 64);
                d = f.postings.advance();
            }
        }
        self.refresh();
        let (mult, k1) = (self.mult, self.k1);
        for (wi, bits) in xmask.iter_mut().enumerate() {
            let mut word = std::mem::take(bits);
            hit[wi] |= word;
            while word != 0 {
                let o = wi * 64 + word.trailing_zeros() as usize;
                word &= word - 1;
                let x = std::mem::take(&mut xs[o]);
                acc[o] += mult * x / (k1 + x);
                n += 1;
            }
        }
        n
    }

    /// The term's exact contribution ([`Self::score`]'s arithmetic) to each document of the
    /// window `lo..hi` that it has a posting in and that `live` admits (bit `d - lo`), term
    /// at a time: added to `acc` and kept in `exact` (`mark` in `stamp` says which entries
    /// are this window's); returns the number of documents. `xs` and `xmask` as in
    /// [`Self::add_window`].
    #[allow(clippy::too_many_arguments)]
    fn add_window_exact(
        &mut self,
        lo: DocId,
        hi: DocId,
        live: &[u64],
        xs: &mut [f32],
        xmask: &mut [u64],
        acc: &mut [f32],
        exact: &mut [f32],
        stamp: &mut [u32],
        mark: u32,
    ) -> u64 {
        let admits = |o: usize| live[o / 64] & (1 << (o % 64)) != 0;
        let mut n = 0u64;
        if self.fields.is_empty() {
            self.seek(lo);
            while self.doc < hi {
                let o = (self.doc - lo) as usize;
                if admits(o) {
                    let c = self.score();
                    acc[o] += c;
                    exact[o] = c;
                    stamp[o] = mark;
                    n += 1;
                }
                self.advance();
            }
            return n;
        }
        for f in &mut self.fields {
            if f.postings.doc() < lo {
                f.postings.seek(lo);
            }
            let mut d = f.postings.doc();
            while d < hi {
                let o = (d - lo) as usize;
                if admits(o) {
                    let len = f.norms.fieldnorm(d) as f32;
                    let norm = 1.0 - f.b + f.b * len / f.avglen;
                    xs[o] += f.weight * f.postings.term_freq() as f32 / norm.max(1e-3);
                    xmask[o / 64] |= 1 << (o % 64);
                }
                d = f.postings.advance();
            }
        }
        self.refresh();
        let (mult, k1) = (self.mult, self.k1);
        for (wi, bits) in xmask.iter_mut().enumerate() {
            let mut word = std::mem::take(bits);
            while word != 0 {
                let o = wi * 64 + word.trailing_zeros() as usize;
                word &= word - 1;
                let x = std::mem::take(&mut xs[o]);
                let c = mult * x / (k1 + x);
                acc[o] += c;
                exact[o] = c;
                stamp[o] = mark;
                n += 1;
            }
        }
        n
    }

    /// Upper bounds of the contribution over each of the `out.len()` windows of `2^bits`
    /// doc ids from window `w0` (below `max_doc`), written to `out` (0 where the term has
    /// no posting; none above [`Self::ub`]), term at a time: the fields with window maxima
    /// from their tables, the others (short lists) by the whole list's bound in the windows
    /// their [`TermBounds::present`] lists, and a precomputed list in the windows it has an
    /// entry in. `at` holds one position per field (or one in the precomputed list), which
    /// only moves forward: chunks come in ascending order.
    fn chunk_ub(&self, at: &mut [usize], w0: usize, bits: u32, max_doc: DocId, out: &mut [f32]) {
        out.iter_mut().for_each(|x| *x = 0.0);
        let end = w0 + out.len();
        if self.fields.is_empty() {
            let hi = ((end << bits) as DocId).min(max_doc);
            let pos = &mut at[0];
            while *pos < self.list.len() && self.list[*pos].0 < hi {
                out[(self.list[*pos].0 >> bits) as usize - w0] = self.ub;
                *pos += 1;
            }
            return;
        }
        for (f, pos) in self.fields.iter().zip(at.iter_mut()) {
            match &f.bounds.windows {
                Some(win) => win.add_bounds_by(w0, &f.window_tables, f.global, out),
                None => {
                    let present = &f.bounds.present;
                    while *pos < present.len() && (present[*pos] as usize) < end {
                        out[present[*pos] as usize - w0] += f.global;
                        *pos += 1;
                    }
                }
            }
        }
        let (mult, k1, ub) = (self.mult, self.k1, self.ub);
        for x in out.iter_mut() {
            if *x > 0.0 {
                *x = ((mult * *x / (k1 + *x)).min(mult) * (1.0 + BOUND_SLACK)).min(ub);
            }
        }
    }

    /// The contribution at the current doc, each present field's share `tf~_f` given by
    /// `share(field, doc)`, summed in the fields' order and saturated.
    #[inline]
    fn contribution(&self, share: impl Fn(&FieldCursor, DocId) -> f32) -> f32 {
        if self.fields.is_empty() {
            return self.list[self.pos].1;
        }
        let d = self.doc;
        let mut x = 0f32;
        for f in &self.fields {
            if f.postings.doc() == d {
                x += share(f, d);
            }
        }
        self.mult * x / (self.k1 + x)
    }

    /// The contribution at the current doc, within a few units in the last place of
    /// [`Self::score`] (far inside [`BOUND_SLACK`]): each field's share is its tf times the
    /// field's [`GroupStats::share_of_norm`], one multiplication and no division.
    fn approx_score(&self) -> f32 {
        self.contribution(|f, d| {
            f.share_of_norm[usize::from(f.norms.fieldnorm_id(d))] * f.postings.term_freq() as f32
        })
    }

    /// The contribution at the current doc, in [`bm25f::score`]'s exact arithmetic.
    fn score(&self) -> f32 {
        self.contribution(|f, d| {
            let len = f.norms.fieldnorm(d) as f32;
            let norm = 1.0 - f.b + f.b * len / f.avglen;
            f.weight * f.postings.term_freq() as f32 / norm.max(1e-3)
        })
    }
}

/// Heap entry whose `Ord` puts the worst of the top k on top.
#[derive(PartialEq)]
struct Worst(Scored);

impl Eq for Worst {}

impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        better(&self.0, &other.0)
    }
}

/// θ shared by the threads that rank one query's segments: the highest k-th best score any
/// of them holds. k documents of one segment reach it, so no document scoring below it can be
/// in the top k of the whole index, whichever segment it is in. Scores are positive, and the
/// bit patterns of non-negative `f32`s order as the numbers do (IEEE 754), so a `fetch_max`
/// on the bits raises it.
struct SharedTheta(AtomicU32);

impl SharedTheta {
    fn new(floor: f32) -> Self {
        Self(AtomicU32::new(floor.max(0.0).to_bits()))
    }

    fn get(&self) -> f32 {
        f32::from_bits(self.0.load(AtomicOrdering::Relaxed))
    }

    fn raise(&self, score: f32) {
        if score > 0.0 {
            self.0.fetch_max(score.to_bits(), AtomicOrdering::Relaxed);
        }
    }
}

/// The best k so far of the segments one thread ranks, and the threshold θ they set.
struct TopK<'a> {
    k: usize,
    heap: BinaryHeap<Worst>,
    /// A score that at least k documents reach (the caller's floor, raised by every thread's
    /// k-th best): θ is never below it.
    shared: &'a SharedTheta,
}

impl TopK<'_> {
    /// The k-th best score held; 0 while fewer than k are held.
    fn held(&self) -> f32 {
        if self.heap.len() < self.k {
            0.0
        } else {
            self.heap.peek().map_or(0.0, |w| w.0.0)
        }
    }

    /// Score a new (later) document must reach to be evaluated: the k-th best held, or the
    /// shared floor when that is higher.
    fn theta(&self) -> f32 {
        self.held().max(self.shared.get())
    }

    /// Offers a document that comes after every held one of its segment; a full heap's k-th
    /// best raises the shared floor.
    fn offer(&mut self, s: Scored) {
        if s.0 <= 0.0 {
            return;
        }
        if self.heap.len() < self.k {
            self.heap.push(Worst(s));
        } else if s.0 > self.held() {
            self.heap.pop();
            self.heap.push(Worst(s));
        } else {
            return;
        }
        if self.heap.len() == self.k {
            self.shared.raise(self.held());
        }
    }
}

/// Which documents a ranking admits: [`DocFilter::keep`] per document, and
/// [`DocFilter::keeps_all`] for a segment whose every document is admitted, so that the
/// ranking skips the per-document test there (the common search: no kind or department
/// filter, no material with a validity period). Any `Fn(segment, doc) -> bool` is one
/// (admitting per document only).
pub trait DocFilter: Sync {
    /// Whether document `doc` of segment `segment` may be ranked.
    fn keep(&self, segment: usize, doc: DocId) -> bool;

    /// True only when [`Self::keep`] holds for every document of `segment`.
    fn keeps_all(&self, _segment: usize) -> bool {
        false
    }
}

impl<F: Fn(usize, DocId) -> bool + Sync> DocFilter for F {
    fn keep(&self, segment: usize, doc: DocId) -> bool {
        self(segment, doc)
    }
}

/// Returns the best `k` live documents passing `keep(segment, doc)`, best first (see the
/// module docs), with the work done.
///
/// Equal to [`exhaustive_top_k`] in members, scores and order. Falls back to it when a
/// weight is negative or not finite (the bounds would not hold).
///
/// # Errors
/// tantivy I/O errors reading postings or field norms.
pub fn top_k(
    searcher: &Searcher,
    groups: &[TermGroup],
    k: usize,
    keep: impl DocFilter,
) -> tantivy::Result<(Vec<Scored>, PruneStats)> {
    top_k_with(searcher, groups, &[], k, keep)
}

/// [`top_k`] with `extra`'s precomputed contributions added to the scores (see the module
/// docs); equal to [`exhaustive_top_k_with`].
///
/// # Errors
/// As [`top_k`].
pub fn top_k_with(
    searcher: &Searcher,
    groups: &[TermGroup],
    extra: &ExtraScores,
    k: usize,
    keep: impl DocFilter,
) -> tantivy::Result<(Vec<Scored>, PruneStats)> {
    top_k_windowed(searcher, groups, extra, k, keep, WindowLayout::DEFAULT)
}

/// [`top_k_with`] with the block-max windows cut by `layout` ([`WindowLayout::NONE`]: plain
/// MaxScore, the bounds of whole lists only; benchmarks compare the two, tests use small
/// windows). Same result for every layout.
///
/// # Errors
/// As [`top_k`].
pub fn top_k_windowed(
    searcher: &Searcher,
    groups: &[TermGroup],
    extra: &ExtraScores,
    k: usize,
    keep: impl DocFilter,
    layout: WindowLayout,
) -> tantivy::Result<(Vec<Scored>, PruneStats)> {
    top_k_from(searcher, groups, extra, k, keep, layout, 0.0)
}

/// [`top_k_windowed`] with θ starting at `floor`, a score at least k documents passing
/// `keep` reach (their k-th best exact score, say): same result, fewer windows read.
/// Ranks on [`query_threads`] threads.
///
/// # Errors
/// As [`top_k`].
pub fn top_k_from(
    searcher: &Searcher,
    groups: &[TermGroup],
    extra: &ExtraScores,
    k: usize,
    keep: impl DocFilter,
    layout: WindowLayout,
    floor: f32,
) -> tantivy::Result<(Vec<Scored>, PruneStats)> {
    let pruning = Pruning {
        layout,
        floor,
        threads: query_threads(searcher),
        ..Pruning::default()
    };
    top_k_opts(searcher, groups, extra, k, keep, &pruning)
}

/// How [`top_k_opts`] prunes and on how many threads it ranks.
#[derive(Debug, Clone, Copy)]
pub struct Pruning {
    /// The block-max windows ([`WindowLayout::DEFAULT`]).
    pub layout: WindowLayout,
    /// θ's starting value, a score at least k documents reach (0: none known).
    pub floor: f32,
    /// Threads ranking the segments (1: the caller's alone, the segments in order; more:
    /// the segments shared out among them by size, θ shared, see [`SharedTheta`]).
    pub threads: usize,
    /// What a seek of a non-essential cursor to one candidate costs, in postings read in
    /// order ([`SEEK_COST`]): a term is added to a window's candidates term at a time when
    /// they number at least its expected postings in the window over this, else by a seek
    /// per candidate. Any value gives the same top k (0: always seek; infinity: always
    /// term at a time).
    pub seek_cost: f32,
}

impl Default for Pruning {
    fn default() -> Self {
        Self {
            layout: WindowLayout::DEFAULT,
            floor: 0.0,
            threads: 1,
            seek_cost: SEEK_COST,
        }
    }
}

/// Below this many documents a query is ranked on the caller's thread alone: a thread's
/// start (tens of microseconds) would cost more than the half of a sub-millisecond query it
/// saves.
pub const PARALLEL_MIN_DOCS: u64 = 20_000;

/// Threads ranking for queries now (the callers' own included), across all searches.
static RANKING_THREADS: AtomicUsize = AtomicUsize::new(0);

/// Upper bound on the threads one query ranks on (0: the CPU cores); see [`set_query_threads`].
static MAX_QUERY_THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets how many threads one query's ranking may use at most (1: one; 0: the CPU cores, the
/// default). `serve` sets it from `search_threads`.
pub fn set_query_threads(n: usize) {
    MAX_QUERY_THREADS.store(n, AtomicOrdering::Relaxed);
}

fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Threads for one query over `searcher`: 1 under [`PARALLEL_MIN_DOCS`] documents or with one
/// segment, else up to [`set_query_threads`]' bound and the segments, and no more than the
/// cores that no other search is ranking on (so that under load, when every core is busy
/// with a search of its own, no thread is started and nothing is oversubscribed).
pub fn query_threads(searcher: &Searcher) -> usize {
    let segs = searcher.segment_readers().len();
    if segs < 2 || searcher.num_docs() < PARALLEL_MIN_DOCS {
        return 1;
    }
    let max = match MAX_QUERY_THREADS.load(AtomicOrdering::Relaxed) {
        0 => cores(),
        n => n,
    };
    let idle = cores().saturating_sub(RANKING_THREADS.load(AtomicOrdering::Relaxed));
    max.min(segs).min(idle).max(1)
}

/// Counts a thread in [`RANKING_THREADS`] while it lives.
struct Ranking;

impl Ranking {
    fn start() -> Self {
        RANKING_THREADS.fetch_add(1, AtomicOrdering::Relaxed);
        Ranking
    }
}

impl Drop for Ranking {
    fn drop(&mut self) {
        RANKING_THREADS.fetch_sub(1, AtomicOrdering::Relaxed);
    }
}

/// Shares segments out among `threads` parts, largest first to the part with the fewest
/// documents so far (LPT); every part non-empty.
fn share_segments(searcher: &Searcher, threads: usize) -> Vec<Vec<usize>> {
    let segs = searcher.segment_readers();
    let mut order: Vec<usize> = (0..segs.len()).collect();
    order.sort_by_key(|&si| std::cmp::Reverse(segs[si].max_doc()));
    let n = threads.clamp(1, segs.len().max(1));
    let mut parts: Vec<(u64, Vec<usize>)> = vec![(0, Vec::new()); n];
    for si in order {
        let p = parts
            .iter_mut()
            .min_by_key(|p| p.0)
            .expect("at least one part");
        p.0 += u64::from(segs[si].max_doc());
        p.1.push(si);
    }
    parts
        .into_iter()
        .map(|(_, mut v)| {
            // Each thread visits its segments in ordinal order, as the sequential ranking.
            v.sort_unstable();
            v
        })
        .filter(|v| !v.is_empty())
        .collect()
}

/// What every segment's ranking of one query reads.
struct Query<'a> {
    prep: &'a Prepared,
    groups: &'a [TermGroup],
    extra: &'a ExtraScores,
    layout: WindowLayout,
    seek_cost: f32,
}

/// [`top_k_from`] with every choice explicit: same result for every [`Pruning`].
///
/// # Errors
/// As [`top_k`].
pub fn top_k_opts(
    searcher: &Searcher,
    groups: &[TermGroup],
    extra: &ExtraScores,
    k: usize,
    keep: impl DocFilter,
    pruning: &Pruning,
) -> tantivy::Result<(Vec<Scored>, PruneStats)> {
    if !bounds_hold(groups) {
        let top = exhaustive_top_k_with(searcher, groups, extra, k, |si, d| keep.keep(si, d))?;
        return Ok((
            top,
            PruneStats {
                exhaustive: true,
                ..PruneStats::default()
            },
        ));
    }
    let _me = Ranking::start();
    let prep = prepare(searcher, groups)?;
    let mut stats = PruneStats {
        postings_total: prep.postings_total,
        ..PruneStats::default()
    };
    let has_extra = extra.iter().any(|l| !l.is_empty());
    if k == 0 || (prep.terms.is_empty() && !has_extra) {
        return Ok((Vec::new(), stats));
    }
    let q = Query {
        prep: &prep,
        groups,
        extra,
        layout: pruning.layout,
        seek_cost: pruning.seek_cost,
    };
    let shared = SharedTheta::new(pruning.floor);
    let segs = searcher.segment_readers();
    let rank_part = |part: &[usize]| -> tantivy::Result<(Vec<Scored>, PruneStats)> {
        let mut top = TopK {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
            shared: &shared,
        };
        let mut st = PruneStats::default();
        for &si in part {
            rank_segment(&q, si, &segs[si], &mut top, &keep, &mut st)?;
        }
        Ok((top.heap.into_iter().map(|w| w.0).collect(), st))
    };
    let parts = share_segments(searcher, pruning.threads);
    let results: Vec<tantivy::Result<(Vec<Scored>, PruneStats)>> = if parts.len() <= 1 {
        let all: Vec<usize> = (0..segs.len()).collect();
        vec![rank_part(&all)]
    } else {
        std::thread::scope(|scope| {
            let rank_part = &rank_part;
            let helpers: Vec<_> = parts[1..]
                .iter()
                .map(|part| {
                    scope.spawn(move || {
                        let _helper = Ranking::start();
                        rank_part(part)
                    })
                })
                .collect();
            let mut out = vec![rank_part(&parts[0])];
            for h in helpers {
                out.push(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            }
            out
        })
    };
    let mut out = Vec::new();
    for r in results {
        let (top, st) = r?;
        out.extend(top);
        stats.add(&st);
    }
    out.sort_unstable_by(better);
    out.truncate(k);
    Ok((out, stats))
}

/// Ranks segment `si` (`s`) into `top`.
fn rank_segment(
    q: &Query<'_>,
    si: usize,
    s: &SegmentReader,
    top: &mut TopK<'_>,
    keep: &impl DocFilter,
    stats: &mut PruneStats,
) -> tantivy::Result<()> {
    let (prep, groups, extra, layout) = (q.prep, q.groups, q.extra, q.layout);
    // The extra contribution comes last, as in the exhaustive scorer.
    let mut contrib = vec![0f32; prep.terms.len() + 1];
    let mut cursors = Vec::with_capacity(prep.terms.len());
    for (canon, t) in prep.terms.iter().enumerate() {
        let g = &groups[t.group];
        let mut fields = Vec::new();
        let mut x_max = 0f32;
        for (fi, p) in field_postings(s, g, &t.term)? {
            let f = &g.fields[fi];
            let norms = s.get_fieldnorms_reader(f.field)?;
            let avglen = prep.groups[t.group].avglen[fi];
            let bounds = bounds::term_bounds(
                s.segment_id(),
                s.max_doc(),
                f.field,
                &t.term,
                &p,
                &norms,
                layout,
            );
            let global = bounds::field_bound(&bounds.frontier, f.weight, f.b, avglen);
            x_max += global;
            fields.push(FieldCursor {
                postings: p,
                norms,
                weight: f.weight,
                b: f.b,
                avglen,
                share_of_norm: prep.groups[t.group].share_of_norm[fi].clone(),
                window_tables: prep.groups[t.group].window_tables[fi].clone(),
                bounds,
                global,
            });
        }
        if fields.is_empty() {
            continue;
        }
        let mut c = TermCursor {
            fields,
            list: &[],
            pos: 0,
            doc: TERMINATED,
            mult: t.mult,
            k1: g.k1,
            // tf~ / (k1 + tf~) grows with tf~, which is at most x_max here.
            ub: (t.mult * x_max / (g.k1 + x_max)).min(t.mult) * (1.0 + BOUND_SLACK),
            canon,
            per_window: 0.0,
        };
        c.refresh();
        cursors.push(c);
    }
    if let Some(list) = extra.get(si).filter(|l| !l.is_empty()) {
        let top = list.iter().map(|x| x.1).fold(0f32, f32::max);
        let mut c = TermCursor {
            fields: Vec::new(),
            list,
            pos: 0,
            doc: TERMINATED,
            mult: 0.0,
            k1: 0.0,
            ub: top * (1.0 + BOUND_SLACK),
            canon: prep.terms.len(),
            per_window: 0.0,
        };
        c.refresh();
        cursors.push(c);
    }
    // Ascending bound over the whole list: the order in which the non-essential set is
    // taken, per window, as the longest prefix whose window bounds sum below θ (any
    // set with a sum below θ is correct; this one needs no sort per window).
    cursors.sort_by(|a, b| a.ub.total_cmp(&b.ub));
    let max_doc = s.max_doc();
    let window_share = (1u64 << layout.window_bits()) as f32 / max_doc.max(1) as f32;
    for c in &mut cursors {
        let postings: u32 = if c.fields.is_empty() {
            u32::try_from(c.list.len()).unwrap_or(u32::MAX)
        } else {
            c.fields.iter().map(|f| f.postings.doc_freq()).sum()
        };
        c.per_window = postings as f32 * window_share;
    }
    // Copies that recompute the exact contributions of a document that made it through
    // the pruning (documents come in ascending order, so they only move forward).
    let mut probes = cursors.clone();
    let alive = s.alive_bitset();
    let keep_all = keep.keeps_all(si);
    let n = cursors.len();
    let size = 1usize << layout.window_bits();
    let mut wub = vec![0f32; n];
    // prefix[j] = Σ wub[..=j] in the cursors' order.
    let mut prefix = vec![0f32; n];
    // The essential terms' partial scores of the window's documents, and which are set.
    let mut acc = vec![0f32; size];
    let mut hit = vec![0u64; size.div_ceil(64)];
    // One essential term's tf~ of the window's documents, and which are set.
    let mut xs = vec![0f32; size];
    let mut xmask = vec![0u64; size.div_ceil(64)];
    // The window's candidates not pruned yet.
    let mut live = vec![0u64; size.div_ceil(64)];
    // Per cursor and document of the window, the exact contribution of a non-essential
    // term, valid where the stamp holds the window's mark (kept per thread across queries,
    // so that a short query does not pay for clearing them).
    let mut kept = KEPT.take();
    kept.fit(n * size);
    // The bounds of a chunk of windows from `w0`, term at a time: `chunk[i * WINDOW_CHUNK
    // + j]` is cursor i's bound in window `w0 + j`, `sums[j]` that window's sum.
    let bits = layout.window_bits();
    let windows = (max_doc as usize).div_ceil(size);
    let mut chunk = vec![0f32; n * WINDOW_CHUNK];
    let mut sums = [0f32; WINDOW_CHUNK];
    // Per cursor, its positions for `chunk_ub`.
    let mut at: Vec<Vec<usize>> = cursors
        .iter()
        .map(|c| vec![0; c.fields.len().max(1)])
        .collect();
    for w in 0..windows {
        let j = w % WINDOW_CHUNK;
        if j == 0 {
            let len = WINDOW_CHUNK.min(windows - w);
            sums.iter_mut().for_each(|x| *x = 0.0);
            for (i, (c, pos)) in cursors.iter().zip(at.iter_mut()).enumerate() {
                let out = &mut chunk[i * WINDOW_CHUNK..i * WINDOW_CHUNK + len];
                c.chunk_ub(pos, w, bits, max_doc, out);
                for (t, &x) in sums.iter_mut().zip(out.iter()) {
                    *t += x;
                }
            }
        }
        let lo = (w * size) as DocId;
        let hi = lo.saturating_add(size as DocId).min(max_doc);
        let theta = top.theta();
        stats.windows += 1;
        // No document of the window can beat θ: skip it without reading a posting (the
        // chunk's sums add the cursors' bounds in their order, as `prefix` does).
        let total = sums[j];
        if total <= 0.0 || total < theta {
            stats.windows_skipped += 1;
            continue;
        }
        let mut run = 0f32;
        for i in 0..n {
            wub[i] = chunk[i * WINDOW_CHUNK + j];
            run += wub[i];
            prefix[i] = run;
        }
        let ne = prefix.iter().take_while(|&&p| p < theta).count();
        let rest = if ne > 0 { prefix[ne - 1] } else { 0.0 };
        // Essential terms, term at a time over the window: their documents are the
        // window's candidates.
        for (c, &ub) in cursors[ne..].iter_mut().zip(&wub[ne..]) {
            if ub > 0.0 {
                stats.postings_scored +=
                    c.add_window(lo, hi, &mut xs, &mut xmask, &mut acc, &mut hit);
            }
        }
        let slack = 1.0 + BOUND_SLACK;
        let mark = kept.next_mark();
        let (exact, stamp) = (&mut kept.exact, &mut kept.stamp);
        // The candidates that may still beat θ, live and kept.
        for (h, l) in hit.iter_mut().zip(live.iter_mut()) {
            *l = std::mem::take(h);
            stats.candidates += u64::from(l.count_ones());
        }
        // The summation order differs from the scorer's: allow for its rounding.
        let mut count = prune(&mut live, &acc, slack, rest, top.theta());
        if count > 0 && (alive.is_some() || !keep_all) {
            count = 0;
            for (wi, l) in live.iter_mut().enumerate() {
                let mut word = *l;
                while word != 0 {
                    let b = word.trailing_zeros();
                    word &= word - 1;
                    let doc = lo + (wi * 64) as DocId + b;
                    if !alive.is_none_or(|a| a.is_alive(doc)) || !(keep_all || keep.keep(si, doc)) {
                        *l &= !(1 << b);
                    }
                }
                count += l.count_ones() as usize;
            }
        }
        // The non-essential terms, in decreasing bound order, each added to the
        // candidates that its bound and the lower ones' could still lift to θ: term at a
        // time over the window when enough candidates remain for its postings to cost less
        // than a seek per candidate, else by a seek per candidate.
        for j in (0..ne).rev() {
            if count == 0 {
                break;
            }
            if wub[j] <= 0.0 {
                continue;
            }
            let theta = top.theta();
            count = prune(&mut live, &acc, slack, prefix[j], theta);
            if count == 0 {
                break;
            }
            let c = &mut cursors[j];
            let exact = &mut exact[j * size..(j + 1) * size];
            let stamp = &mut stamp[j * size..(j + 1) * size];
            if count as f32 * q.seek_cost >= c.per_window {
                stats.postings_scored += c.add_window_exact(
                    lo, hi, &live, &mut xs, &mut xmask, &mut acc, exact, stamp, mark,
                );
            } else {
                for_each_bit(&live, |o| {
                    let doc = lo + o as DocId;
                    c.seek(doc);
                    stats.seeks += 1;
                    if c.doc == doc {
                        let e = c.score();
                        acc[o] += e;
                        exact[o] = e;
                        stamp[o] = mark;
                        stats.postings_scored += 1;
                    }
                });
            }
        }
        // What is left cannot be pruned: score it exactly, in doc order.
        let theta = top.theta();
        for (wi, l) in live.iter_mut().enumerate() {
            let mut word = std::mem::take(l);
            while word != 0 {
                let o = wi * 64 + word.trailing_zeros() as usize;
                word &= word - 1;
                let partial = acc[o];
                if partial * slack < theta.max(top.theta()) {
                    continue;
                }
                let doc = lo + o as DocId;
                stats.docs_scored += 1;
                // The non-essential terms' exact contributions were kept as they were
                // added (a term with no posting in the window adds 0, as in the scorer);
                // the essential ones' are recomputed by the probes.
                for (i, c) in cursors[..ne].iter().enumerate() {
                    if stamp[i * size + o] == mark {
                        contrib[c.canon] = exact[i * size + o];
                    }
                }
                for p in &mut probes[ne..] {
                    p.seek(doc);
                    if p.doc == doc {
                        contrib[p.canon] = p.score();
                    }
                }
                // The exhaustive scorer's order: groups, then terms (zeros are exact).
                let score = contrib.iter().fold(0f32, |acc, &c| acc + c);
                top.offer((score, si, doc));
                contrib.iter_mut().for_each(|c| *c = 0.0);
            }
        }
        // The accumulators of the window's candidates, pruned or scored.
        acc.fill(0.0);
    }
    KEPT.set(kept);
    Ok(())
}

/// The exact contributions of non-essential terms kept in a window (see [`rank_segment`]):
/// `exact[i * size + o]` is cursor i's at the window's document o where `stamp` there holds
/// the window's mark. Marks only grow, so no entry needs clearing between windows.
#[derive(Default)]
struct KeptContributions {
    exact: Vec<f32>,
    stamp: Vec<u32>,
    mark: u32,
}

impl KeptContributions {
    fn fit(&mut self, len: usize) {
        if self.exact.len() < len {
            self.exact.resize(len, 0.0);
            self.stamp.resize(len, 0);
        }
    }

    /// A mark no entry holds yet.
    fn next_mark(&mut self) -> u32 {
        if self.mark == u32::MAX {
            self.stamp.fill(0);
            self.mark = 0;
        }
        self.mark += 1;
        self.mark
    }
}

thread_local! {
    static KEPT: std::cell::Cell<KeptContributions> = std::cell::Cell::default();
}

/// A seek of a non-essential cursor to one candidate, in postings read in order: scoring the
/// term over a window term at a time costs its postings there, a seek per candidate this
/// many each (measured at 10^6 pages, README "At scale").
pub const SEEK_COST: f32 = 4.0;

/// Calls `f` with the offset of each bit set in `mask`, ascending.
fn for_each_bit(mask: &[u64], mut f: impl FnMut(usize)) {
    for (wi, &w) in mask.iter().enumerate() {
        let mut word = w;
        while word != 0 {
            f(wi * 64 + word.trailing_zeros() as usize);
            word &= word - 1;
        }
    }
}

/// Candidates in a word of 64 documents up to which [`prune`] looks at each of them; above,
/// at all 64 accumulators at once ([`reach_mask`]).
const SPARSE_WORD: u32 = 12;

/// Clears the documents of `live` whose partial score in `acc`, times `slack` plus `rest`,
/// is below `theta` (they cannot reach θ); returns how many are left. A word with many
/// candidates is pruned over its 64 accumulators at once ([`reach_mask`]).
fn prune(live: &mut [u64], acc: &[f32], slack: f32, rest: f32, theta: f32) -> usize {
    let mut left = 0usize;
    for (l, a) in live.iter_mut().zip(acc.chunks(64)) {
        if *l == 0 {
            continue;
        }
        if l.count_ones() <= SPARSE_WORD {
            let mut word = *l;
            while word != 0 {
                let b = word.trailing_zeros();
                word &= word - 1;
                // Without a branch: whether a candidate survives is not predictable.
                *l &= !(u64::from(a[b as usize] * slack + rest < theta) << b);
            }
        } else {
            *l &= reach_mask(a, slack, rest, theta);
        }
        left += l.count_ones() as usize;
    }
    left
}

/// The accumulators of `a` (at most 64) that may still reach θ: bit `b` is set where
/// `a[b] * slack + rest >= theta`. The comparisons go into one byte per lane (a loop the
/// compiler turns into vector compares and packs), then each eight bytes of 0 or 1 are
/// gathered into eight bits by one multiplication: bit `i` of byte `i` lands on bit `56 + i`
/// of the product, and no other partial product reaches those bits.
fn reach_mask(a: &[f32], slack: f32, rest: f32, theta: f32) -> u64 {
    let mut lanes = [0u8; 64];
    for (v, &x) in lanes.iter_mut().zip(a) {
        *v = u8::from(x * slack + rest >= theta);
    }
    let mut m = 0u64;
    for (i, q) in lanes.chunks_exact(8).enumerate() {
        let bytes = u64::from_le_bytes(q.try_into().expect("chunks of 8"));
        m |= (bytes.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * i);
    }
    m
}

/// The reference: [`bm25f::score`] over every posting, filtered, sorted by [`better`], cut to
/// `k`.
///
/// # Errors
/// tantivy I/O errors.
pub fn exhaustive_top_k(
    searcher: &Searcher,
    groups: &[TermGroup],
    k: usize,
    keep: impl FnMut(usize, DocId) -> bool,
) -> tantivy::Result<Vec<Scored>> {
    exhaustive_top_k_with(searcher, groups, &[], k, keep)
}

/// [`exhaustive_top_k`] with `extra`'s contributions added to the live documents' scores
/// after every group.
///
/// # Errors
/// tantivy I/O errors.
pub fn exhaustive_top_k_with(
    searcher: &Searcher,
    groups: &[TermGroup],
    extra: &ExtraScores,
    k: usize,
    mut keep: impl FnMut(usize, DocId) -> bool,
) -> tantivy::Result<Vec<Scored>> {
    let mut scores = bm25f::score(searcher, groups)?;
    for (si, s) in searcher.segment_readers().iter().enumerate() {
        let alive = s.alive_bitset();
        for &(doc, v) in extra.get(si).map_or(&[][..], Vec::as_slice) {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                scores[si][doc as usize] += v;
            }
        }
    }
    let mut all: Vec<Scored> = Vec::new();
    for (si, seg) in scores.iter().enumerate() {
        for (doc, &s) in seg.iter().enumerate() {
            if s > 0.0 && keep(si, doc as DocId) {
                all.push((s, si, doc as DocId));
            }
        }
    }
    all.sort_unstable_by(better);
    all.truncate(k);
    Ok(all)
}

/// Whether [`count_matches`] counted every match or stopped at its cap (Elasticsearch's
/// `track_total_hits` relation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TotalRelation {
    /// The count is exact.
    Eq,
    /// At least this many match (counting stopped at the cap).
    Gte,
}

/// Whether every posting of `term` in `field` is a match of `groups` (when the bounds hold):
/// `field` is a weighted field of a group of positive weight holding `term` at a positive
/// query weight, so that the posting is one of [`match_lists`]' postings.
pub(crate) fn matches_every_posting(groups: &[TermGroup], field: Field, term: &str) -> bool {
    groups.iter().filter(|g| g.weight > 0.0).any(|g| {
        g.terms.iter().any(|(t, qw)| *qw > 0.0 && t == term)
            && weighted_fields(g).any(|(_, f)| f.field == field)
    })
}

/// The postings whose documents match `groups` in segment `s` when the bounds hold
/// ([`bounds_hold`]): every weighted field's list of every term of positive query weight in
/// a group of positive weight. Terms of query weight 0 add 0 to a score: a document having
/// only those does not match (as in the exhaustive scorer).
///
/// # Errors
/// tantivy I/O errors.
pub(crate) fn match_lists(
    s: &SegmentReader,
    groups: &[TermGroup],
) -> tantivy::Result<Vec<SegmentPostings>> {
    let mut lists: Vec<SegmentPostings> = Vec::new();
    for g in groups.iter().filter(|g| g.weight > 0.0) {
        for (term, _) in g.terms.iter().filter(|(_, qw)| *qw > 0.0) {
            lists.extend(field_postings(s, g, term)?.into_iter().map(|(_, p)| p));
        }
    }
    Ok(lists)
}

/// Counts the live documents matching any term of `groups` (a positive score) and passing
/// `keep`, in (segment, doc) order, calling `counted` for each; stops after `cap` of them,
/// and returns ([`TotalRelation::Gte`], `cap`) if one more matches.
///
/// The cost is proportional to the postings of the documents before the cap'th match (a
/// 4,096-document window at a time), never to the whole posting lists when matches are
/// plentiful.
///
/// # Errors
/// tantivy I/O errors.
pub fn count_matches(
    searcher: &Searcher,
    groups: &[TermGroup],
    cap: u64,
    mut keep: impl FnMut(usize, DocId) -> bool,
    mut counted: impl FnMut(usize, DocId),
) -> tantivy::Result<(u64, TotalRelation)> {
    const WINDOW: u32 = 4096;
    let mut n = 0u64;
    if !bounds_hold(groups) {
        // A negative weight: whether a document scores above 0 needs its whole score.
        let scores = bm25f::score(searcher, groups)?;
        for (si, seg) in scores.iter().enumerate() {
            for (doc, &s) in seg.iter().enumerate() {
                if s > 0.0 && keep(si, doc as DocId) {
                    if n == cap {
                        return Ok((cap, TotalRelation::Gte));
                    }
                    n += 1;
                    counted(si, doc as DocId);
                }
            }
        }
        return Ok((n, TotalRelation::Eq));
    }
    for (si, s) in searcher.segment_readers().iter().enumerate() {
        let mut lists = match_lists(s, groups)?;
        let alive = s.alive_bitset();
        let mut bits = [0u64; (WINDOW / 64) as usize];
        let mut start = 0u32;
        while start < s.max_doc() {
            let end = start.saturating_add(WINDOW);
            bits.fill(0);
            let mut any = false;
            for p in &mut lists {
                let mut d = p.doc();
                while d < end {
                    let o = d - start;
                    bits[(o / 64) as usize] |= 1 << (o % 64);
                    any = true;
                    d = p.advance();
                }
            }
            if any {
                for (w, &word) in bits.iter().enumerate() {
                    let mut word = word;
                    while word != 0 {
                        let doc = start + w as u32 * 64 + word.trailing_zeros();
                        word &= word - 1;
                        if alive.is_none_or(|a| a.is_alive(doc)) && keep(si, doc) {
                            if n == cap {
                                return Ok((cap, TotalRelation::Gte));
                            }
                            n += 1;
                            counted(si, doc);
                        }
                    }
                }
            }
            start = end;
        }
    }
    Ok((n, TotalRelation::Eq))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tantivy::schema::{Field, Schema, TextFieldIndexing, TextOptions};
    use tantivy::{Index, IndexWriter, TantivyDocument};

    use super::*;
    use crate::search::bm25f::FieldSpec;

    const VOCAB: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];
    const FIELDS: usize = 3;

    /// A random corpus: per segment, documents of `FIELDS` fields of word indices; plus
    /// the (segment, doc) pairs to delete.
    #[derive(Debug, Clone)]
    struct Corpus {
        segments: Vec<Vec<Vec<Vec<usize>>>>,
        deletes: Vec<(usize, usize)>,
    }

    fn corpus() -> impl Strategy<Value = Corpus> {
        // Skewed word choice: low indices are frequent (long lists), as bigrams are.
        let word = prop_oneof![4 => 0usize..2, 2 => 0usize..5, 1 => 0usize..8];
        let doc = prop::collection::vec(prop::collection::vec(word, 0..12), FIELDS);
        let seg = prop::collection::vec(doc, 1..40);
        (
            prop::collection::vec(seg, 1..4),
            prop::collection::vec((0usize..4, 0usize..40), 0..10),
        )
            .prop_map(|(segments, deletes)| Corpus { segments, deletes })
    }

    /// Random term groups over the fields of [`build`]'s schema (field ids 0, 1, 2).
    fn groups() -> impl Strategy<Value = Vec<TermGroup>> {
        let fields = [0, 1, 2].map(Field::from_field_id);
        let spec = (0..FIELDS, 0.0f32..3.0, 0.0f32..=1.0);
        let term = (
            0..VOCAB.len(),
            prop_oneof![3 => 0.1f32..2.0, 1 => Just(0.0f32)],
        );
        let group = (
            prop::collection::vec(spec, 1..=FIELDS),
            0.0f32..5.0,
            prop_oneof![4 => 0.05f32..2.0, 1 => Just(0.0f32)],
            prop::collection::vec(term, 0..6),
        );
        prop::collection::vec(group, 1..4).prop_map(move |gs| {
            gs.into_iter()
                .map(|(specs, k1, weight, terms)| {
                    let mut seen = Vec::new();
                    let fields = specs
                        .into_iter()
                        .filter(|(f, _, _)| {
                            let new = !seen.contains(f);
                            seen.push(*f);
                            new
                        })
                        .map(|(f, w, b)| FieldSpec {
                            field: fields[f],
                            weight: if w < 0.3 { 0.0 } else { w },
                            b,
                        })
                        .collect();
                    TermGroup {
                        fields,
                        k1,
                        weight,
                        terms: terms
                            .into_iter()
                            .map(|(t, qw)| (VOCAB[t].to_string(), qw))
                            .collect(),
                    }
                })
                .collect()
        })
    }

    fn build(c: &Corpus) -> (Index, [Field; FIELDS]) {
        let mut b = Schema::builder();
        let opts = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("whitespace")
                .set_index_option(IndexRecordOption::WithFreqs)
                .set_fieldnorms(true),
        );
        let fields = [0, 1, 2].map(|i| b.add_text_field(&format!("f{i}"), opts.clone()));
        let index = Index::create_in_ram(b.build());
        let mut w: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        w.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        let mut all = Vec::new();
        for seg in &c.segments {
            for d in seg {
                let mut doc = TantivyDocument::default();
                for (f, words) in fields.iter().zip(d) {
                    let text: Vec<&str> = words.iter().map(|&i| VOCAB[i]).collect();
                    doc.add_text(*f, text.join(" "));
                }
                all.push(doc);
            }
        }
        assert_eq!(fields, [0, 1, 2].map(Field::from_field_id));
        // Segment boundaries: one commit per generated segment.
        let mut i = 0;
        for seg in &c.segments {
            for _ in seg {
                w.add_document(all[i].clone()).unwrap();
                i += 1;
            }
            w.commit().unwrap();
        }
        (index, fields)
    }

    /// Deletes, in a last commit, every document whose first field holds one rare word
    /// (tantivy deletes by term), leaving deleted documents inside the segments.
    fn delete(index: &Index, fields: [Field; FIELDS], deletes: &[(usize, usize)]) {
        if deletes.is_empty() {
            return;
        }
        let mut w: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        w.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        // Only the rare words, so most documents survive.
        for &(a, _) in deletes.iter().take(1) {
            w.delete_term(Term::from_field_text(fields[0], VOCAB[5 + a % 3]));
        }
        w.commit().unwrap();
    }

    /// Per segment of `searcher`, ascending (doc, contribution) lists from random
    /// (segment, doc, value) triples (out-of-range documents dropped, one value per doc).
    fn extra_lists(searcher: &Searcher, triples: &[(usize, usize, f32)]) -> Vec<Vec<(DocId, f32)>> {
        let segs = searcher.segment_readers();
        let mut out = vec![Vec::new(); segs.len()];
        for &(si, doc, v) in triples {
            if si < segs.len() && (doc as u32) < segs[si].max_doc() {
                out[si].push((doc as DocId, v));
            }
        }
        for l in &mut out {
            l.sort_by_key(|x| x.0);
            l.dedup_by_key(|x| x.0);
        }
        out
    }

    fn keep_of(modulo: u32) -> impl Fn(usize, DocId) -> bool + Sync + Copy {
        move |si, doc| modulo == 0 || !(doc + si as u32).is_multiple_of(modulo)
    }

    /// `keep_of(modulo)` as a filter that says when it keeps a whole segment (modulo 0),
    /// so that the ranking takes the path without a per-document test.
    #[derive(Clone, Copy)]
    struct ModuloFilter(u32);

    impl DocFilter for ModuloFilter {
        fn keep(&self, si: usize, doc: DocId) -> bool {
            keep_of(self.0)(si, doc)
        }

        fn keeps_all(&self, _si: usize) -> bool {
            self.0 == 0
        }
    }

    proptest! {
        /// `prune` keeps exactly the candidates whose `acc * slack + rest` reaches θ, one
        /// lane at a time, whatever the words' density (the sparse and the 64-lane paths)
        /// and for windows shorter than a word; partial scores straddle θ, some equal to it.
        #[test]
        fn prune_keeps_the_candidates_that_can_reach_theta(
            words in prop::collection::vec(any::<u64>(), 1..4),
            sparse in prop::collection::vec(0u32..64, 1..4),
            raw in prop::collection::vec(0u32..16, 256),
            tail in 1usize..=64,
            rest in 0u32..12,
            slack in prop_oneof![Just(1.0f32), Just(1.0 + BOUND_SLACK)],
        ) {
            let theta = 10.0f32;
            // Scores around θ - rest on a grid of quarters, exact in `f32`: with a slack of
            // 1 some sums are θ itself, which must be kept.
            let rest = rest as f32 * 0.25;
            let acc: Vec<f32> = raw.iter().map(|&r| theta - rest - 2.0 + r as f32 * 0.25).collect();
            let len = (words.len() - 1) * 64 + tail;
            let mut live: Vec<u64> = words
                .iter()
                .zip(sparse.iter().cycle())
                // Some words keep only a few candidates (the sparse path).
                .map(|(&w, &b)| if b % 2 == 0 { w & (w >> b) & (w >> 7) } else { w })
                .collect();
            let last = live.len() - 1;
            if tail < 64 {
                live[last] &= (1u64 << tail) - 1;
            }
            let mut want = live.clone();
            for (wi, w) in want.iter_mut().enumerate() {
                for b in 0..64 {
                    let o = wi * 64 + b;
                    let reaches = acc[o] * slack + rest >= theta;
                    if *w & (1 << b) != 0 && !reaches {
                        *w &= !(1 << b);
                    }
                }
            }
            let left = prune(&mut live, &acc[..len], slack, rest, theta);
            prop_assert_eq!(&live, &want);
            prop_assert_eq!(left, want.iter().map(|w| w.count_ones() as usize).sum::<usize>());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// MaxScore returns the exhaustive scorer's top k: same documents, same scores
        /// (bit for bit), same order; and the capped count equals the exhaustive count.
        #[test]
        fn maxscore_equals_exhaustive(
            c in corpus(),
            gs in groups(),
            k in 1usize..15,
            modulo in 0u32..4,
            cap in 1u64..60,
            extra in prop::collection::vec((0usize..4, 0usize..40, 0.01f32..6.0), 0..12),
            bits in 0u32..5,
            min_df in 1u32..8,
        ) {
            let (index, fields) = build(&c);
            delete(&index, fields, &c.deletes);
            let searcher = index.reader().unwrap().searcher();
            let want = exhaustive_top_k(&searcher, &gs, k, keep_of(modulo)).unwrap();
            let (got, stats) = top_k(&searcher, &gs, k, ModuloFilter(modulo)).unwrap();
            prop_assert!(!stats.exhaustive);
            prop_assert_eq!(&got, &want);
            // With a group of precomputed contributions (the learned queries) on top.
            let extra = extra_lists(&searcher, &extra);
            let want_x =
                exhaustive_top_k_with(&searcher, &gs, &extra, k, keep_of(modulo)).unwrap();
            let (got_x, _) = top_k_with(&searcher, &gs, &extra, k, keep_of(modulo)).unwrap();
            prop_assert_eq!(&got_x, &want_x);
            // With block-max windows small enough for these corpora (1 to 16 doc ids).
            let layout = WindowLayout { bits, min_df };
            let (got_w, _) =
                top_k_windowed(&searcher, &gs, &extra, k, keep_of(modulo), layout).unwrap();
            prop_assert_eq!(&got_w, &want_x);
            // With θ starting at the k-th best exact score (a perfect seed), or below it.
            let kth = if want_x.len() == k { want_x[k - 1].0 } else { 0.0 };
            for floor in [kth, kth * 0.5] {
                let (got_f, _) =
                    top_k_from(&searcher, &gs, &extra, k, keep_of(modulo), layout, floor)
                        .unwrap();
                prop_assert_eq!(&got_f, &want_x);
            }
            // Segments shared out among 2 or 3 threads with θ shared, with and without a
            // floor: the same top k whichever thread finishes first.
            // And with the non-essential terms always added by seeks, or always term at
            // a time: the choice between the two is only a cost.
            for seek_cost in [0.0, f32::INFINITY] {
                let pruning = Pruning { layout, seek_cost, ..Pruning::default() };
                let (got_s, _) =
                    top_k_opts(&searcher, &gs, &extra, k, ModuloFilter(modulo), &pruning)
                        .unwrap();
                prop_assert_eq!(&got_s, &want_x);
            }
            for (threads, floor) in [(2, 0.0), (3, 0.0), (2, kth * 0.5)] {
                let pruning = Pruning { layout, floor, threads, ..Pruning::default() };
                let (got_p, _) =
                    top_k_opts(&searcher, &gs, &extra, k, keep_of(modulo), &pruning).unwrap();
                prop_assert_eq!(&got_p, &want_x);
            }
            let all = exhaustive_top_k(&searcher, &gs, usize::MAX, keep_of(modulo)).unwrap();
            let mut seen = Vec::new();
            let (n, rel) =
                count_matches(&searcher, &gs, cap, keep_of(modulo), |s, d| seen.push((s, d)))
                    .unwrap();
            let exact = all.len() as u64;
            if exact > cap {
                prop_assert_eq!((n, rel), (cap, TotalRelation::Gte));
            } else {
                prop_assert_eq!((n, rel), (exact, TotalRelation::Eq));
            }
            let mut first: Vec<(usize, DocId)> = all.iter().map(|x| (x.1, x.2)).collect();
            first.sort_unstable();
            first.truncate(cap as usize);
            prop_assert_eq!(seen, first);
        }
    }

    #[test]
    fn negative_weights_fall_back_to_the_exhaustive_scorer() {
        let c = Corpus {
            segments: vec![vec![
                vec![vec![0, 1], vec![1], vec![]],
                vec![vec![0], vec![], vec![2]],
            ]],
            deletes: vec![],
        };
        let (index, fields) = build(&c);
        let searcher = index.reader().unwrap().searcher();
        let gs = vec![TermGroup {
            fields: vec![FieldSpec {
                field: fields[0],
                weight: 1.0,
                b: 0.5,
            }],
            k1: 1.2,
            weight: 1.0,
            terms: vec![("a".into(), 1.0), ("b".into(), -0.5)],
        }];
        let (got, stats) = top_k(&searcher, &gs, 5, |_, _| true).unwrap();
        assert!(stats.exhaustive);
        assert_eq!(
            got,
            exhaustive_top_k(&searcher, &gs, 5, |_, _| true).unwrap()
        );
        // "a b" scores below 0 (b is rarer, so its negative share is larger): only "a" is left.
        assert_eq!(got.iter().map(|x| x.2).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn cached_dfs_of_long_lists_count_deleted_documents_out() {
        // Lists above the df cache's floor in two fields, with documents deleted inside
        // both segments: the df (so the idf, so every score) must be the exhaustive
        // scorer's, when computed and again when read from the cache.
        let seg = |off: usize| -> Vec<Vec<Vec<usize>>> {
            (off..off + 400)
                .map(|i| {
                    let mut f0 = Vec::new();
                    if i % 2 == 0 {
                        f0.push(0);
                    }
                    if i % 5 == 0 {
                        f0.push(5);
                    }
                    let mut f1 = Vec::new();
                    if i % 3 == 0 {
                        f1.extend([0, 0]);
                    }
                    if i % 7 == 0 {
                        f1.push(1);
                    }
                    vec![f0, f1, vec![2]]
                })
                .collect()
        };
        let c = Corpus {
            segments: vec![seg(0), seg(400)],
            deletes: vec![(0, 0)],
        };
        let (index, fields) = build(&c);
        delete(&index, fields, &c.deletes);
        let searcher = index.reader().unwrap().searcher();
        assert!(
            searcher
                .segment_readers()
                .iter()
                .all(|s| s.num_deleted_docs() == 80)
        );
        let spec = |field, weight| FieldSpec {
            field,
            weight,
            b: 0.75,
        };
        let gs = vec![TermGroup {
            fields: vec![spec(fields[0], 1.0), spec(fields[1], 0.5)],
            k1: 1.2,
            weight: 1.0,
            terms: vec![("a".into(), 1.0), ("b".into(), 0.7)],
        }];
        let want = exhaustive_top_k(&searcher, &gs, 60, |_, _| true).unwrap();
        assert_eq!(want.len(), 60);
        for _ in 0..2 {
            let (got, _) = top_k(&searcher, &gs, 60, |_, _| true).unwrap();
            assert_eq!(got, want);
        }
    }

    /// One segment of `seg`'s documents, and one group over the first field (weight 1, `b`,
    /// k1 1.2) with `terms` at query weight 1.
    fn first_field_index(
        seg: Vec<Vec<Vec<usize>>>,
        b: f32,
        terms: &[&str],
    ) -> (Index, Vec<TermGroup>) {
        let (index, fields) = build(&Corpus {
            segments: vec![seg],
            deletes: vec![],
        });
        let gs = vec![TermGroup {
            fields: vec![FieldSpec {
                field: fields[0],
                weight: 1.0,
                b,
            }],
            k1: 1.2,
            weight: 1.0,
            terms: terms.iter().map(|t| (t.to_string(), 1.0)).collect(),
        }];
        (index, gs)
    }

    #[test]
    fn long_lists_are_pruned() {
        // 600 documents have the common word a; 5 (7, 127, 247, 367, 487) have the rare
        // word h as well. Top 3 for "a h" are h documents. Once the third (247) is in, θ is
        // above a's bound, so a is non-essential: documents 248.. with a only are skipped.
        let seg: Vec<Vec<Vec<usize>>> = (0..600)
            .map(|i| {
                vec![
                    if i % 120 == 7 { vec![0, 7] } else { vec![0, 1] },
                    vec![],
                    vec![],
                ]
            })
            .collect();
        let (index, gs) = first_field_index(seg, 0.75, &["a", "h"]);
        let searcher = index.reader().unwrap().searcher();
        let (got, stats) = top_k(&searcher, &gs, 3, |_, _| true).unwrap();
        assert_eq!(
            got,
            exhaustive_top_k(&searcher, &gs, 3, |_, _| true).unwrap()
        );
        assert!(got.iter().all(|x| x.2 % 120 == 7), "{got:?}");
        assert_eq!(stats.postings_total, 605);
        assert!(stats.docs_scored <= 248 + 2, "{stats:?}");
    }

    #[test]
    fn windows_whose_bound_is_below_theta_are_skipped() {
        // 600 documents have a and b once; 0, 1, 2 have b twice; 599 has a eight times.
        // One window over all 600 (θ is 0 when it starts, so both terms are essential):
        // every posting is scored. Per window of 16 doc ids, a and b are bounded by tf 1 in
        // every window but the first and the last, which is below θ (set by 0, 1, 2): those
        // 36 windows are skipped without reading a posting.
        let seg: Vec<Vec<Vec<usize>>> = (0..600)
            .map(|i| {
                let mut f = vec![0, 1];
                if i < 3 {
                    f.push(1);
                }
                if i == 599 {
                    f.extend([0; 7]);
                }
                vec![f, vec![], vec![]]
            })
            .collect();
        let (index, gs) = first_field_index(seg, 0.0, &["a", "b"]);
        let searcher = index.reader().unwrap().searcher();
        let want = exhaustive_top_k(&searcher, &gs, 3, |_, _| true).unwrap();
        assert_eq!(want.iter().map(|x| x.2).collect::<Vec<_>>(), [599, 0, 1]);
        let whole = WindowLayout {
            bits: 10,
            min_df: u32::MAX,
        };
        let (got, plain) = top_k_windowed(&searcher, &gs, &[], 3, |_, _| true, whole).unwrap();
        assert_eq!(got, want);
        assert_eq!(plain.postings_scored, 1200, "{plain:?}");
        let small = WindowLayout { bits: 4, min_df: 1 };
        let (got, windowed) = top_k_windowed(&searcher, &gs, &[], 3, |_, _| true, small).unwrap();
        assert_eq!(got, want);
        assert_eq!(
            (windowed.windows, windowed.windows_skipped),
            (38, 36),
            "{windowed:?}"
        );
        // The first window (16 documents) and the last (592..600), two terms each.
        assert!(windowed.postings_scored <= 48, "{windowed:?}");
    }
}
