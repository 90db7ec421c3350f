//! Match quality: how much of a query's content the material covers, so that the operator
//! sees when nothing fits (and escalates) instead of trusting a first hit that shares a kanji.
//!
//! A query's **content units** are its distinct morph terms (nouns, verbs, adjectives after
//! the stop tags, stop words and fillers are gone), or, for a kana-typed query, its
//! space-separated chunks. A material covers a unit when it has the term in a morph field or
//! as a short form in an abbreviation field (生保 → 生活保護), or, for a kana chunk, every
//! bigram of the chunk in a reading field. The quality of a hit is the idf-weighted share of
//! the units it covers (idf as in [`super::bm25f`], df = materials covering the unit):
//! rare words count more than common ones (申請, 手続き).
//!
//! The response-level [`MatchLevel`] is that of the best hit: `good` at
//! [`GOOD_QUALITY`] or more, `partial` at [`PARTIAL_QUALITY`] or more, `none` below or
//! without hits. Thresholds chosen on the operator dev set
//! (`tests/fixtures/operator-queries`, answerable against unanswerable queries).

use std::collections::HashMap;

use serde::Serialize;
use tantivy::postings::SegmentPostings;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Searcher, SegmentReader, TERMINATED, Term};

use super::bm25f::TermGroup;
use super::maxscore::{self, TotalRelation};

/// Least best-hit quality for [`MatchLevel::Good`].
pub const GOOD_QUALITY: f32 = 0.75;
/// Least best-hit quality for [`MatchLevel::Partial`].
pub const PARTIAL_QUALITY: f32 = 0.3;
/// Most content units considered (one bit each).
pub const MAX_UNITS: usize = 32;

/// How well the best hit fits the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MatchLevel {
    /// The best hit covers (nearly) all of the query's content.
    Good,
    /// It covers some of it.
    Partial,
    /// Nothing fits: the operator should escalate.
    None,
}

impl MatchLevel {
    /// The level of a best-hit quality `q` (`None` when there is no hit).
    pub fn of(q: Option<f32>) -> Self {
        match q {
            Some(q) if q >= GOOD_QUALITY => Self::Good,
            Some(q) if q >= PARTIAL_QUALITY => Self::Partial,
            _ => Self::None,
        }
    }
}

/// One way to cover a unit: every term present (each in any of its fields).
pub type Alternative = Vec<(Vec<Field>, String)>;

/// A content unit: covered when any alternative is.
#[derive(Debug, Clone, Default)]
pub struct Unit {
    /// The alternatives.
    pub alternatives: Vec<Alternative>,
}

/// Per segment: doc → bitmask of the units it covers (every covering document with
/// [`Coverage::compute`], the documents asked for with [`Coverage::for_docs`]).
pub struct Coverage {
    masks: Vec<HashMap<DocId, u32>>,
    idf: Vec<f32>,
}

impl Coverage {
    /// Computes which materials cover which of `units` (at most [`MAX_UNITS`]) by walking
    /// every posting of every unit: the reference for [`Coverage::for_docs`] and
    /// [`count_covered`] (its cost grows with the corpus).
    ///
    /// # Errors
    /// tantivy I/O errors reading postings.
    pub fn compute(searcher: &Searcher, units: &[Unit]) -> tantivy::Result<Self> {
        let segs = searcher.segment_readers();
        let mut masks: Vec<HashMap<DocId, u32>> = vec![HashMap::new(); segs.len()];
        let mut df = vec![0usize; units.len().min(MAX_UNITS)];
        for (si, s) in segs.iter().enumerate() {
            let alive = s.alive_bitset();
            for (ui, unit) in units.iter().take(MAX_UNITS).enumerate() {
                let mut covered: Vec<DocId> = Vec::new();
                for alt in &unit.alternatives {
                    let mut acc: Option<Vec<DocId>> = None;
                    for (fields, term) in alt {
                        let mut docs: Vec<DocId> = Vec::new();
                        for &f in fields {
                            let inv = s.inverted_index(f)?;
                            let t = Term::from_field_text(f, term);
                            if let Some(mut p) = inv.read_postings(&t, IndexRecordOption::Basic)? {
                                let mut d = p.doc();
                                while d != TERMINATED {
                                    if alive.is_none_or(|a| a.is_alive(d)) {
                                        docs.push(d);
                                    }
                                    d = p.advance();
                                }
                            }
                        }
                        docs.sort_unstable();
                        docs.dedup();
                        acc = Some(match acc {
                            None => docs,
                            Some(prev) => prev
                                .into_iter()
                                .filter(|d| docs.binary_search(d).is_ok())
                                .collect(),
                        });
                        if acc.as_ref().is_some_and(Vec::is_empty) {
                            break;
                        }
                    }
                    covered.extend(acc.unwrap_or_default());
                }
                covered.sort_unstable();
                covered.dedup();
                df[ui] += covered.len();
                for d in covered {
                    *masks[si].entry(d).or_default() |= 1 << ui;
                }
            }
        }
        let df: Vec<u64> = df.into_iter().map(|d| d as u64).collect();
        Ok(Self {
            masks,
            idf: idf_of(searcher.num_docs(), &df),
        })
    }

    /// The coverage of `docs` only (their [`Coverage::quality`] equals
    /// [`Coverage::compute`]'s; [`Coverage::matches`] is false for every other document):
    /// each unit's postings are sought to the documents (skip lists), and a unit's df is
    /// counted without walking its longest list ([`unit_df`], cached per segment).
    ///
    /// # Errors
    /// tantivy I/O errors reading postings.
    pub fn for_docs(
        searcher: &Searcher,
        units: &[Unit],
        docs: &[tantivy::DocAddress],
    ) -> tantivy::Result<Self> {
        let units = &units[..units.len().min(MAX_UNITS)];
        let segs = searcher.segment_readers();
        let mut masks: Vec<HashMap<DocId, u32>> = vec![HashMap::new(); segs.len()];
        let mut df = vec![0u64; units.len()];
        for (si, s) in segs.iter().enumerate() {
            // Read only when a df is not cached.
            let deleted = std::cell::OnceCell::new();
            let deleted = || {
                deleted.get_or_init(|| match s.alive_bitset() {
                    Some(a) if s.num_deleted_docs() > 0 => {
                        (0..s.max_doc()).filter(|&d| a.is_deleted(d)).collect()
                    }
                    _ => Vec::new(),
                })
            };
            for (ui, u) in units.iter().enumerate() {
                df[ui] += unit_df(s, deleted, u)?;
            }
            let mut want: Vec<DocId> = docs
                .iter()
                .filter(|d| d.segment_ord as usize == si)
                .map(|d| d.doc_id)
                .collect();
            if want.is_empty() {
                continue;
            }
            want.sort_unstable();
            want.dedup();
            let alive = s.alive_bitset();
            let mut cursors = SegmentUnits::open(s, units)?;
            for d in want {
                let mask = cursors.mask_at(d);
                if mask != 0 && alive.is_none_or(|a| a.is_alive(d)) {
                    masks[si].insert(d, mask);
                }
            }
        }
        Ok(Self {
            masks,
            idf: idf_of(searcher.num_docs(), &df),
        })
    }

    /// Whether the material `(segment, doc)` covers any unit.
    pub fn matches(&self, si: usize, doc: DocId) -> bool {
        self.masks.get(si).is_some_and(|m| m.contains_key(&doc))
    }

    /// Whether there are content units at all (a query of fillers only has none).
    pub fn has_units(&self) -> bool {
        !self.idf.is_empty()
    }

    /// The idf-weighted share of the units `(segment, doc)` covers, in [0, 1].
    pub fn quality(&self, si: usize, doc: DocId) -> f32 {
        let total: f32 = self.idf.iter().sum();
        if total <= 0.0 {
            return 0.0;
        }
        let mask = self
            .masks
            .get(si)
            .and_then(|m| m.get(&doc))
            .copied()
            .unwrap_or(0);
        let got: f32 = self
            .idf
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, w)| w)
            .sum();
        (got / total).max(0.0)
    }
}

/// The idf of each unit's df among `n` materials, as in [`super::bm25f`].
fn idf_of(n: u64, df: &[u64]) -> Vec<f32> {
    let n = n.max(1) as f32;
    df.iter()
        .map(|&d| (1.0 + (n - d as f32 + 0.5) / (d as f32 + 0.5)).ln())
        .collect()
}

/// One term's postings in any of its fields (one segment), in doc order.
struct AnyField {
    lists: Vec<SegmentPostings>,
    doc: DocId,
}

impl AnyField {
    fn open(s: &SegmentReader, fields: &[Field], term: &str) -> tantivy::Result<Self> {
        let mut lists = Vec::with_capacity(fields.len());
        for &f in fields {
            let t = Term::from_field_text(f, term);
            if let Some(p) = s
                .inverted_index(f)?
                .read_postings(&t, IndexRecordOption::Basic)?
            {
                lists.push(p);
            }
        }
        let mut c = Self {
            lists,
            doc: TERMINATED,
        };
        c.refresh();
        Ok(c)
    }

    fn refresh(&mut self) {
        self.doc = self
            .lists
            .iter()
            .map(DocSet::doc)
            .min()
            .unwrap_or(TERMINATED);
    }

    fn advance(&mut self) {
        let d = self.doc;
        for l in &mut self.lists {
            if l.doc() == d {
                l.advance();
            }
        }
        self.refresh();
    }

    fn seek(&mut self, target: DocId) {
        if self.doc >= target {
            return;
        }
        for l in &mut self.lists {
            if l.doc() < target {
                l.seek(target);
            }
        }
        self.refresh();
    }
}

/// The documents of one [`Alternative`] (every term present) in one segment, in doc order.
struct AllTerms {
    terms: Vec<AnyField>,
    doc: DocId,
}

impl AllTerms {
    fn open(s: &SegmentReader, alt: &Alternative) -> tantivy::Result<Self> {
        let terms = alt
            .iter()
            .map(|(fields, term)| AnyField::open(s, fields, term))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let mut c = Self {
            terms,
            doc: TERMINATED,
        };
        c.align();
        Ok(c)
    }

    /// Moves every term to the first document at or after the first term's that all hold.
    fn align(&mut self) {
        let Some(first) = self.terms.first() else {
            self.doc = TERMINATED;
            return;
        };
        let mut target = first.doc;
        while target != TERMINATED {
            let mut moved = false;
            for t in &mut self.terms {
                t.seek(target);
                if t.doc > target {
                    target = t.doc;
                    moved = true;
                }
            }
            if !moved {
                break;
            }
        }
        self.doc = target;
    }

    fn advance(&mut self) {
        if let Some(t) = self.terms.first_mut() {
            t.advance();
        }
        self.align();
    }

    fn seek(&mut self, target: DocId) {
        if self.doc >= target {
            return;
        }
        if let Some(t) = self.terms.first_mut() {
            t.seek(target);
        }
        self.align();
    }
}

/// Every unit's alternatives in one segment.
struct SegmentUnits {
    /// Per unit, its alternatives' cursors.
    units: Vec<Vec<AllTerms>>,
}

impl SegmentUnits {
    fn open(s: &SegmentReader, units: &[Unit]) -> tantivy::Result<Self> {
        let units = units
            .iter()
            .take(MAX_UNITS)
            .map(|u| {
                u.alternatives
                    .iter()
                    .map(|a| AllTerms::open(s, a))
                    .collect::<tantivy::Result<Vec<_>>>()
            })
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Self { units })
    }

    /// The units `doc` covers (calls must come in ascending doc order).
    fn mask_at(&mut self, doc: DocId) -> u32 {
        let mut mask = 0;
        for (ui, alts) in self.units.iter_mut().enumerate() {
            for a in alts {
                a.seek(doc);
                if a.doc == doc {
                    mask |= 1 << ui;
                    break;
                }
            }
        }
        mask
    }

    /// The first document at or after the cursors that covers some unit.
    fn doc(&self) -> DocId {
        self.units
            .iter()
            .flatten()
            .map(|a| a.doc)
            .min()
            .unwrap_or(TERMINATED)
    }
}

/// The live documents of segment `s` covering `unit` (`deleted`: its deleted documents,
/// ascending, read on a cache miss only), as [`Coverage::compute`] counts them, without walking the unit's longest
/// list: the longest single-term list's `doc_freq`, less its deleted documents, plus the
/// live documents of the unit's other lists and alternatives that it does not hold (the
/// trick of [`super::maxscore`]'s "df without scoring every posting"). Cached per segment
/// ([`super::bounds::union_df`]).
///
/// # Errors
/// tantivy I/O errors reading postings.
fn unit_df<'a>(
    s: &SegmentReader,
    deleted: impl FnOnce() -> &'a Vec<DocId>,
    unit: &Unit,
) -> tantivy::Result<u64> {
    // The cache key and the longest single-term list from the term dictionaries: no
    // postings are opened when the df is cached.
    let mut key_fields = Vec::new();
    let mut key_terms = String::new();
    let mut longest = 0u32;
    for alt in &unit.alternatives {
        if let [(fields, term)] = alt.as_slice() {
            for &f in fields {
                let t = Term::from_field_text(f, term);
                longest = longest.max(s.inverted_index(f)?.doc_freq(&t)?);
            }
        }
        for (fields, term) in alt {
            key_fields.extend_from_slice(fields);
            key_fields.push(Field::from_field_id(u32::MAX));
            key_terms.push_str(term);
            key_terms.push('\u{1f}');
        }
        key_fields.push(Field::from_field_id(u32::MAX - 1));
        key_terms.push('\u{1e}');
    }
    let compute = || -> tantivy::Result<u64> {
        // The base: the longest list of a single-term alternative; the rest: every other
        // list and every alternative of several terms.
        let mut single: Vec<SegmentPostings> = Vec::new();
        let mut others: Vec<DocId> = Vec::new();
        for alt in &unit.alternatives {
            if let [(fields, term)] = alt.as_slice() {
                for &f in fields {
                    let t = Term::from_field_text(f, term);
                    if let Some(p) = s
                        .inverted_index(f)?
                        .read_postings(&t, IndexRecordOption::Basic)?
                    {
                        single.push(p);
                    }
                }
            } else {
                let mut a = AllTerms::open(s, alt)?;
                while a.doc != TERMINATED {
                    others.push(a.doc);
                    a.advance();
                }
            }
        }
        single.sort_by_key(|p| std::cmp::Reverse(p.doc_freq()));
        let mut rest = single.into_iter();
        let base = rest.next();
        for mut p in rest {
            let mut d = p.doc();
            while d != TERMINATED {
                others.push(d);
                d = p.advance();
            }
        }
        others.sort_unstable();
        others.dedup();
        let alive = s.alive_bitset();
        let Some(base) = base else {
            return Ok(others
                .iter()
                .filter(|&&d| alive.is_none_or(|a| a.is_alive(d)))
                .count() as u64);
        };
        let mut df = u64::from(base.doc_freq());
        let mut probe = base.clone();
        for &d in deleted() {
            if probe.doc() < d {
                probe.seek(d);
            }
            if probe.doc() == d {
                df -= 1;
            }
        }
        let mut probe = base;
        for d in others {
            if probe.doc() < d {
                probe.seek(d);
            }
            if probe.doc() != d && alive.is_none_or(|a| a.is_alive(d)) {
                df += 1;
            }
        }
        Ok(df)
    };
    super::bounds::try_union_df(
        s.segment_id(),
        s.num_deleted_docs(),
        key_fields,
        &key_terms,
        longest,
        compute,
    )
}

/// Counts the live documents that match `groups`, pass `keep` and cover a unit of `units`
/// (the first [`MAX_UNITS`]), in (segment, doc) order, calling `counted` for each; stops
/// after `cap` of them and returns ([`TotalRelation::Gte`], `cap`) if one more matches.
///
/// The same count, the same documents in the same order, as [`maxscore::count_matches`]
/// with `keep` and [`Coverage::compute`]'s [`Coverage::matches`], but walking only the
/// units' postings up to the cap'th match, 4,096 doc ids at a time, term at a time into a
/// bitmap (and seeking the groups' lists to a covered document only where no term of the
/// alternative covering it is itself a ranking term): the cost does not grow with the corpus
/// once matches are plentiful. Without units every match is
/// counted ([`maxscore::count_matches`]); with a negative weight (the match test needs the
/// whole score) it falls back to that full walk.
///
/// # Errors
/// tantivy I/O errors.
pub fn count_covered(
    searcher: &Searcher,
    units: &[Unit],
    groups: &[TermGroup],
    cap: u64,
    mut keep: impl FnMut(usize, DocId) -> bool,
    mut counted: impl FnMut(usize, DocId),
) -> tantivy::Result<(u64, TotalRelation)> {
    if units.is_empty() {
        return maxscore::count_matches(searcher, groups, cap, keep, counted);
    }
    if !maxscore::bounds_hold(groups) {
        let cov = Coverage::compute(searcher, units)?;
        return maxscore::count_matches(
            searcher,
            groups,
            cap,
            |si, d| keep(si, d) && cov.matches(si, d),
            counted,
        );
    }
    // Windows of this many doc ids: every alternative's postings in the window are set in a
    // bitmap (term at a time), then the bitmap's documents are counted in doc order.
    const WINDOW: u32 = 4096;
    const WORDS: usize = WINDOW as usize / 64;
    // Per unit (the first MAX_UNITS, as SegmentUnits), per alternative: whether a document
    // it covers is a match by that alone (one of its terms, in all of its fields, is a
    // match list's term), so the lists need not be asked.
    let sure: Vec<Vec<bool>> = units
        .iter()
        .take(MAX_UNITS)
        .map(|u| {
            u.alternatives
                .iter()
                .map(|a| {
                    a.iter().any(|(fields, term)| {
                        !fields.is_empty()
                            && fields
                                .iter()
                                .all(|&f| maxscore::matches_every_posting(groups, f, term))
                    })
                })
                .collect()
        })
        .collect();
    let all_sure = sure.iter().flatten().all(|&x| x);
    let mut covered = [0u64; WORDS];
    let mut matched = [0u64; WORDS];
    let mut n = 0u64;
    for (si, s) in searcher.segment_readers().iter().enumerate() {
        let mut cover = SegmentUnits::open(s, units)?;
        let mut lists = if all_sure {
            Vec::new()
        } else {
            maxscore::match_lists(s, groups)?
        };
        // Longest first: the list most likely to hold a document is asked first.
        lists.sort_by_key(|p| std::cmp::Reverse(p.doc_freq()));
        let alive = s.alive_bitset();
        loop {
            let lo = cover.doc();
            if lo == TERMINATED {
                break;
            }
            let hi = lo.saturating_add(WINDOW);
            for (alts, sure) in cover.units.iter_mut().zip(&sure) {
                for (a, &sure) in alts.iter_mut().zip(sure) {
                    while a.doc < hi {
                        let o = (a.doc - lo) as usize;
                        covered[o / 64] |= 1 << (o % 64);
                        if sure {
                            matched[o / 64] |= 1 << (o % 64);
                        }
                        a.advance();
                    }
                }
            }
            for (wi, (cw, mw)) in covered.iter_mut().zip(matched.iter_mut()).enumerate() {
                let mut word = std::mem::take(cw);
                let sure = std::mem::take(mw);
                while word != 0 {
                    let bit = word.trailing_zeros();
                    word &= word - 1;
                    let doc = lo + (wi * 64) as DocId + bit;
                    if !alive.is_none_or(|a| a.is_alive(doc)) {
                        continue;
                    }
                    let is_match = sure >> bit & 1 == 1
                        || lists.iter_mut().any(|p| {
                            if p.doc() < doc {
                                p.seek(doc);
                            }
                            p.doc() == doc
                        });
                    if is_match && keep(si, doc) {
                        if n == cap {
                            return Ok((cap, TotalRelation::Gte));
                        }
                        n += 1;
                        counted(si, doc);
                    }
                }
            }
        }
    }
    Ok((n, TotalRelation::Eq))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tantivy::schema::{Schema, TextFieldIndexing, TextOptions};
    use tantivy::{DocAddress, Index, IndexWriter, TantivyDocument};

    use super::*;
    use crate::search::bm25f::FieldSpec;

    const VOCAB: [&str; 6] = ["a", "b", "c", "d", "e", "f"];

    /// An index of three whitespace-tokenised fields; one commit per segment of `segments`
    /// (documents: per field, word indices), then the documents whose first field holds
    /// `delete` deleted.
    fn build(segments: &[Vec<[Vec<usize>; 3]>], delete: Option<usize>) -> Index {
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
        for seg in segments {
            for d in seg {
                let mut doc = TantivyDocument::default();
                for (f, words) in fields.iter().zip(d) {
                    let text: Vec<&str> = words.iter().map(|&i| VOCAB[i]).collect();
                    doc.add_text(*f, text.join(" "));
                }
                w.add_document(doc).unwrap();
            }
            w.commit().unwrap();
        }
        if let Some(x) = delete {
            w.delete_term(Term::from_field_text(fields[0], VOCAB[x]));
            w.commit().unwrap();
        }
        index
    }

    fn field_set() -> impl Strategy<Value = Vec<Field>> {
        prop::sample::subsequence(vec![0u32, 1, 2], 1..=3)
            .prop_map(|v| v.into_iter().map(Field::from_field_id).collect())
    }

    fn units() -> impl Strategy<Value = Vec<Unit>> {
        let term = (field_set(), 0..VOCAB.len()).prop_map(|(f, t)| (f, VOCAB[t].to_string()));
        let alt = prop::collection::vec(term, 0..3);
        let unit = prop::collection::vec(alt, 0..4).prop_map(|alternatives| Unit { alternatives });
        prop::collection::vec(unit, 0..4)
    }

    fn groups() -> impl Strategy<Value = Vec<TermGroup>> {
        let term = (
            0..VOCAB.len(),
            prop_oneof![3 => 0.5f32..2.0, 1 => Just(0.0f32)],
        );
        let group = (
            field_set(),
            prop_oneof![4 => 0.5f32..2.0, 1 => Just(0.0f32)],
            prop::collection::vec(term, 0..4),
        );
        prop::collection::vec(group, 1..3).prop_map(|gs| {
            gs.into_iter()
                .map(|(fields, weight, terms)| TermGroup {
                    fields: fields
                        .into_iter()
                        .map(|field| FieldSpec {
                            field,
                            weight: 1.0,
                            b: 0.5,
                        })
                        .collect(),
                    k1: 1.2,
                    weight,
                    terms: terms
                        .into_iter()
                        .map(|(t, qw)| (VOCAB[t].to_string(), qw))
                        .collect(),
                })
                .collect()
        })
    }

    fn corpus() -> impl Strategy<Value = Vec<Vec<[Vec<usize>; 3]>>> {
        // Skewed: low word indices are frequent.
        let word = prop_oneof![3 => 0usize..2, 1 => 0usize..VOCAB.len()];
        let field = prop::collection::vec(word, 0..6);
        let doc = [field.clone(), field.clone(), field];
        prop::collection::vec(prop::collection::vec(doc, 1..30), 1..4)
    }

    /// Every live document of `searcher`.
    fn live(searcher: &Searcher) -> Vec<DocAddress> {
        let mut out = Vec::new();
        for (si, s) in searcher.segment_readers().iter().enumerate() {
            for d in 0..s.max_doc() {
                if s.alive_bitset().is_none_or(|a| a.is_alive(d)) {
                    out.push(DocAddress::new(si as u32, d));
                }
            }
        }
        out
    }

    /// The sub-linear path against the full walk: every live document's quality and
    /// coverage bit for bit, and the capped count (number, relation, documents in order).
    fn same_as_full(
        searcher: &Searcher,
        us: &[Unit],
        gs: &[TermGroup],
        cap: u64,
        modulo: u32,
    ) -> Result<(), TestCaseError> {
        let full = Coverage::compute(searcher, us).unwrap();
        let docs = live(searcher);
        let shown = Coverage::for_docs(searcher, us, &docs).unwrap();
        prop_assert_eq!(full.has_units(), shown.has_units());
        for d in &docs {
            let (si, doc) = (d.segment_ord as usize, d.doc_id);
            prop_assert_eq!(full.matches(si, doc), shown.matches(si, doc));
            prop_assert_eq!(
                full.quality(si, doc).to_bits(),
                shown.quality(si, doc).to_bits()
            );
        }
        let keep = |si: usize, doc: DocId| modulo == 0 || !(doc + si as u32).is_multiple_of(modulo);
        let mut want_seen = Vec::new();
        let want = maxscore::count_matches(
            searcher,
            gs,
            cap,
            |si, d| keep(si, d) && (!full.has_units() || full.matches(si, d)),
            |si, d| want_seen.push((si, d)),
        )
        .unwrap();
        let mut seen = Vec::new();
        let got = count_covered(searcher, us, gs, cap, keep, |si, d| seen.push((si, d))).unwrap();
        prop_assert_eq!(got, want);
        prop_assert_eq!(seen, want_seen);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Match quality of the documents asked for, and the count of covering matches,
        /// equal the full walk's on random corpora (several segments, deleted documents),
        /// units (alternatives of several terms, terms in several fields) and groups.
        #[test]
        fn sub_linear_coverage_equals_the_full_walk(
            c in corpus(),
            delete in prop::option::of(2usize..VOCAB.len()),
            us in units(),
            gs in groups(),
            cap in 1u64..50,
            modulo in 0u32..4,
        ) {
            let index = build(&c, delete);
            let searcher = index.reader().unwrap().searcher();
            same_as_full(&searcher, &us, &gs, cap, modulo)?;
        }
    }

    #[test]
    fn cached_unit_dfs_stay_exact() {
        // Lists over the cache's least length; asked twice (the second answer is cached).
        let seg: Vec<[Vec<usize>; 3]> = (0..400)
            .map(|i| {
                let first = if i % 7 == 0 {
                    vec![i % 2, 2, 4]
                } else {
                    vec![i % 2, 2]
                };
                [first, vec![i % 3], vec![i % 5]]
            })
            .collect();
        let index = build(&[seg.clone(), seg], Some(4));
        let searcher = index.reader().unwrap().searcher();
        let [f0, f1, f2] = [0, 1, 2].map(Field::from_field_id);
        let us = vec![
            Unit {
                alternatives: vec![
                    vec![(vec![f0, f1], "a".into())],
                    vec![(vec![f2], "c".into()), (vec![f1], "b".into())],
                ],
            },
            Unit {
                alternatives: vec![vec![(vec![f1, f2], "c".into())]],
            },
        ];
        let gs = vec![TermGroup {
            fields: vec![FieldSpec {
                field: f0,
                weight: 1.0,
                b: 0.5,
            }],
            k1: 1.2,
            weight: 1.0,
            terms: vec![("c".into(), 1.0)],
        }];
        for _ in 0..2 {
            same_as_full(&searcher, &us, &gs, 10_000, 0).unwrap();
            same_as_full(&searcher, &us, &gs, 100, 3).unwrap();
        }
    }

    #[test]
    fn levels_follow_the_thresholds() {
        assert_eq!(MatchLevel::of(Some(1.0)), MatchLevel::Good);
        assert_eq!(MatchLevel::of(Some(GOOD_QUALITY)), MatchLevel::Good);
        assert_eq!(MatchLevel::of(Some(0.5)), MatchLevel::Partial);
        assert_eq!(MatchLevel::of(Some(0.1)), MatchLevel::None);
        assert_eq!(MatchLevel::of(Some(PARTIAL_QUALITY)), MatchLevel::Partial);
        assert_eq!(MatchLevel::of(None), MatchLevel::None);
    }
}
