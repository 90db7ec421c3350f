//! BM25F scoring over tantivy's postings.
//!
//! kotae ranks with its own scorer instead of tantivy's per-field BM25 queries so that
//! (1) a term's evidence from the title and the body is combined *before* saturation, as
//! BM25F does, instead of adding two saturated BM25 scores, and (2) k1 and b can be set per
//! field (tantivy fixes k1 = 1.2, b = 0.75).
//!
//! For a group of fields F (the morph fields, or the bigram fields) and query term t:
//!
//! ```text
//! tf~(t, d) = Σ_f∈F  w_f · tf(t, f, d) / (1 − b_f + b_f · len(f, d) / avglen(f))
//! score(t, d) = qw(t) · idf(t) · tf~ · (k1 + 1) / (k1 + tf~)
//! idf(t) = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))
//! ```
//!
//! where df(t) counts documents with t in any field of the group, N the live documents, and
//! qw(t) is the query weight (occurrences in the query × synonym factor). Source: Robertson,
//! Zaragoza & Taylor, "Simple BM25 extension to multiple weighted fields", CIKM 2004; the
//! idf is Lucene's BM25 idf (always positive). The document score sums the groups, each
//! multiplied by its group weight. `len` is tantivy's field norm (token count, 1-byte
//! quantised for long fields).

use tantivy::postings::Postings;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Searcher, TERMINATED, Term};

/// One field of a group: its weight and length normalisation.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The tantivy field.
    pub field: Field,
    /// Field weight w_f.
    pub weight: f32,
    /// Length normalisation b_f in [0, 1].
    pub b: f32,
}

/// A group of fields sharing one term space and one saturation.
#[derive(Debug, Clone)]
pub struct TermGroup {
    /// The fields.
    pub fields: Vec<FieldSpec>,
    /// Saturation k1.
    pub k1: f32,
    /// Multiplier of the group's score.
    pub weight: f32,
    /// Query terms with their query weights.
    pub terms: Vec<(String, f32)>,
}

/// Dense per-segment scores: `scores[segment][doc]`, 0 for non-matching documents.
pub type SegmentScores = Vec<Vec<f32>>;

/// Scores every live document of `searcher` for `groups`.
///
/// # Errors
/// tantivy I/O errors reading postings or field norms.
pub fn score(searcher: &Searcher, groups: &[TermGroup]) -> tantivy::Result<SegmentScores> {
    let segs = searcher.segment_readers();
    let mut scores: SegmentScores = segs
        .iter()
        .map(|s| vec![0f32; s.max_doc() as usize])
        .collect();
    let mut scratch: Vec<Vec<f32>> = scores.clone();
    let mut touched: Vec<Vec<DocId>> = vec![Vec::new(); segs.len()];
    let n_docs = searcher.num_docs().max(1) as f32;
    for g in groups {
        if g.terms.is_empty() || g.weight <= 0.0 {
            continue;
        }
        // Per field: average length, and per segment the inverted index and norms.
        let mut avglen = Vec::with_capacity(g.fields.len());
        let mut inv = Vec::with_capacity(g.fields.len());
        let mut norms = Vec::with_capacity(g.fields.len());
        for f in &g.fields {
            let mut tokens = 0u64;
            let mut seg_inv = Vec::with_capacity(segs.len());
            let mut seg_norms = Vec::with_capacity(segs.len());
            for s in segs {
                let ii = s.inverted_index(f.field)?;
                tokens += ii.total_num_tokens();
                seg_inv.push(ii);
                seg_norms.push(s.get_fieldnorms_reader(f.field)?);
            }
            avglen.push((tokens as f32 / n_docs).max(1.0));
            inv.push(seg_inv);
            norms.push(seg_norms);
        }
        for (term, qw) in &g.terms {
            let mut df = 0usize;
            for (fi, f) in g.fields.iter().enumerate() {
                if f.weight <= 0.0 {
                    continue;
                }
                let t = Term::from_field_text(f.field, term);
                for (si, s) in segs.iter().enumerate() {
                    let Some(mut postings) =
                        inv[fi][si].read_postings(&t, IndexRecordOption::WithFreqs)?
                    else {
                        continue;
                    };
                    let alive = s.alive_bitset();
                    let mut doc = postings.doc();
                    while doc != TERMINATED {
                        if alive.is_none_or(|a| a.is_alive(doc)) {
                            let len = norms[fi][si].fieldnorm(doc) as f32;
                            let norm = 1.0 - f.b + f.b * len / avglen[fi];
                            let slot = &mut scratch[si][doc as usize];
                            if *slot == 0.0 {
                                touched[si].push(doc);
                            }
                            *slot += f.weight * postings.term_freq() as f32 / norm.max(1e-3);
                        }
                        doc = postings.advance();
                    }
                }
            }
            for t in &touched {
                df += t.len();
            }
            if df == 0 {
                continue;
            }
            let idf = (1.0 + (n_docs - df as f32 + 0.5) / (df as f32 + 0.5)).ln();
            let mult = g.weight * qw * idf * (g.k1 + 1.0);
            for si in 0..segs.len() {
                for &doc in &touched[si] {
                    let x = std::mem::take(&mut scratch[si][doc as usize]);
                    scores[si][doc as usize] += mult * x / (g.k1 + x);
                }
                touched[si].clear();
            }
        }
    }
    Ok(scores)
}
