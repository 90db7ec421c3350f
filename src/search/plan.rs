//! Query planning: the query is analysed once into all its streams ([`QueryAnalysis`]),
//! then planned into BM25F term groups ([`QueryPlan`]) from that analysis alone.

use crate::analysis::synonyms::SynonymTerm;
use crate::analysis::{Analyzer, Normalized, Token, normalize};
use crate::index::schema;

use super::bm25f::{FieldSpec, TermGroup};
use super::params::RankingParams;
use super::quality;
use super::snippet::Highlighter;

/// A query analysed once: its normalised text and every stream the planner, the second
/// stage and the highlighter read. Offsets of the tokens are byte offsets in the query as
/// given.
#[derive(Debug, Clone)]
pub struct QueryAnalysis {
    /// The normalised query (width, kana, old kanji; with the offset map back).
    pub normalized: Normalized,
    /// Morphological terms (IPADIC), with their noun flag.
    pub morph: Vec<Token>,
    /// Character bigrams of the whole query, hiragana-only ones included.
    pub bigrams: Vec<Token>,
    /// Single ideographs.
    pub unigrams: Vec<Token>,
    /// Synonym alternatives found in the normalised query.
    pub synonyms: Vec<SynonymTerm>,
    /// Whether the query's letters are all kana (then hiragana-only bigrams are kept).
    pub all_kana: bool,
    /// Whether the query looks typed in kana before conversion (see
    /// [`crate::analysis::reading::is_kana_typed`]): then the reading group is weighed by
    /// `reading_kana_weight`.
    pub kana_typed: bool,
    /// The synonym groups with a term in the query: (the terms found, the other terms).
    pub synonym_groups: Vec<(Vec<SynonymTerm>, Vec<SynonymTerm>)>,
    /// Administrative terms for the callers' words of the query
    /// ([`crate::analysis::colloquial`]), analysed (morph terms, bigrams).
    pub colloquial: Vec<SynonymTerm>,
}

/// Returns whether `t` is hiragana only (です, ので, ください: function words).
pub(crate) fn is_hiragana_only(t: &str) -> bool {
    t.chars().all(|c| matches!(c, '\u{3041}'..='\u{309F}'))
}

impl QueryAnalysis {
    /// Analyses `q` into all its streams (one normalisation, one pass of each tokenizer).
    pub fn new(analyzer: &Analyzer, q: &str) -> Self {
        let normalized = normalize(q);
        let all_kana = normalized
            .text
            .chars()
            .filter(|c| c.is_alphanumeric())
            .all(crate::analysis::normalize::is_kana);
        let synonyms = analyzer.synonyms();
        let synonym_groups = synonyms
            .matching_groups(&normalized.text)
            .into_iter()
            .map(|(found, others)| {
                (
                    found.into_iter().cloned().collect(),
                    others.into_iter().cloned().collect(),
                )
            })
            .collect();
        let morph = analyzer.morph_tokens_normalized(&normalized);
        let colloquial = crate::analysis::colloquial::Colloquial::builtin()
            .expansions(morph.iter().map(|t| t.term.as_str()))
            .into_iter()
            .map(|e| SynonymTerm {
                text: e.to_string(),
                normalized: normalize(e).text,
                morph: analyzer
                    .morph_tokens(e)
                    .into_iter()
                    .map(|t| t.term)
                    .collect(),
                bigrams: analyzer
                    .bigram_tokens(e)
                    .into_iter()
                    .map(|t| t.term)
                    .collect(),
            })
            .collect();
        Self {
            colloquial,
            kana_typed: crate::analysis::reading::is_kana_typed(&normalized.text),
            synonym_groups,
            morph,
            bigrams: crate::analysis::bigram_tokens_normalized(&normalized),
            unigrams: crate::analysis::unigram_tokens_normalized(&normalized),
            synonyms: synonyms
                .expand(&normalized.text)
                .into_iter()
                .cloned()
                .collect(),
            all_kana,
            normalized,
        }
    }

    /// The bigram terms that are searched and highlighted: hiragana-only bigrams are
    /// function words, left out unless the whole query is kana.
    pub fn searched_bigrams(&self) -> impl Iterator<Item = &str> {
        self.bigrams
            .iter()
            .map(|t| t.term.as_str())
            .filter(|t| self.all_kana || !is_hiragana_only(t))
    }

    /// The content bigrams of the query (hiragana-only bigrams always left out), for the
    /// second stage's query–question similarity.
    pub fn content_bigrams(&self) -> std::collections::HashSet<String> {
        self.bigrams
            .iter()
            .map(|t| t.term.clone())
            .filter(|t| !is_hiragana_only(t))
            .collect()
    }
}

/// The planned query: the BM25F term groups, the highlighter and the content units.
pub struct QueryPlan {
    /// Term groups (empty when analysis left no term). The abbreviation group holds every
    /// candidate short form until [`super::abbrev::resolve`] keeps those no morph field
    /// knows.
    pub groups: Vec<TermGroup>,
    /// Highlighter for snippets.
    pub highlighter: Highlighter,
    /// The query's content units, for match quality and `total` (see [`quality`]).
    pub units: Vec<quality::Unit>,
}

/// Adds `terms` to `into` with weight `mult` per occurrence, keeping first-seen order.
pub(crate) fn add_counted(
    into: &mut Vec<(String, f32)>,
    terms: impl IntoIterator<Item = String>,
    mult: f32,
) {
    for t in terms {
        match into.iter_mut().find(|(x, _)| *x == t) {
            Some((_, c)) => *c += mult,
            None => into.push((t, mult)),
        }
    }
}

/// Plans `qa` into BM25F term groups (morph, bigram, unigram, reading, abbreviation) with
/// synonym alternatives, and its content units.
pub fn plan(qa: &QueryAnalysis, fields: &schema::Fields, w: &RankingParams) -> QueryPlan {
    let mut morph_terms = Vec::new();
    let mut bigram_terms = Vec::new();
    let bigrams: Vec<String> = qa.searched_bigrams().map(str::to_string).collect();
    let mut hl_terms: Vec<String> = bigrams.clone();
    if w.use_morph {
        for t in &qa.morph {
            let qw = if t.noun { 1.0 } else { w.non_noun_weight };
            add_counted(&mut morph_terms, [t.term.clone()], qw);
        }
    }
    if w.use_bigram {
        add_counted(&mut bigram_terms, bigrams, 1.0);
    }
    if w.use_synonyms {
        for alt in &qa.synonyms {
            if w.use_morph {
                add_counted(
                    &mut morph_terms,
                    alt.morph.iter().cloned(),
                    w.synonym_weight,
                );
            }
            if w.use_bigram {
                add_counted(
                    &mut bigram_terms,
                    alt.bigrams.iter().cloned(),
                    w.synonym_weight,
                );
            }
            hl_terms.extend(alt.bigrams.iter().cloned());
        }
    }
    if w.colloquial_weight > 0.0 {
        for alt in &qa.colloquial {
            if w.use_morph {
                add_counted(
                    &mut morph_terms,
                    alt.morph.iter().cloned(),
                    w.colloquial_weight,
                );
            }
            if w.use_bigram {
                add_counted(
                    &mut bigram_terms,
                    alt.bigrams.iter().cloned(),
                    w.colloquial_weight,
                );
            }
        }
    }
    let mut unigram_terms = Vec::new();
    if w.unigram_group_weight > 0.0 {
        add_counted(
            &mut unigram_terms,
            qa.unigrams.iter().map(|t| t.term.clone()),
            1.0,
        );
    }
    let spec = |field, weight, b| FieldSpec { field, weight, b };
    let group = |(title, tw), (body, bw), k1, weight, terms| TermGroup {
        fields: vec![spec(title, tw, w.b_title), spec(body, bw, w.b_body)],
        k1,
        weight,
        terms,
    };
    let reading_weight = if qa.kana_typed {
        w.reading_kana_weight
    } else {
        w.reading_weight
    };
    let mut reading_terms = Vec::new();
    if reading_weight > 0.0 {
        // A kana query's bigrams are readings already, hiragana ones included.
        add_counted(
            &mut reading_terms,
            qa.bigrams.iter().map(|t| t.term.clone()),
            1.0,
        );
    }
    let abbrev_terms = if w.abbrev_weight > 0.0 {
        super::abbrev::candidates(&qa.normalized.text, &morph_terms)
            .into_iter()
            .map(|t| (t, 1.0))
            .collect()
    } else {
        Vec::new()
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
            w.bigram_group_weight,
            bigram_terms,
        ),
        group(
            (f.title_unigram, w.title_unigram),
            (f.body_unigram, w.body_unigram),
            w.k1_unigram,
            w.unigram_group_weight,
            unigram_terms,
        ),
        group(
            (f.title_reading, w.title_reading),
            (f.body_reading, w.body_reading),
            w.k1_reading,
            reading_weight,
            reading_terms,
        ),
        group(
            (f.title_abbrev, w.title_abbrev),
            (f.body_abbrev, w.body_abbrev),
            w.k1_morph,
            w.abbrev_weight,
            abbrev_terms,
        ),
    ]
    .into_iter()
    .filter(|g| !g.terms.is_empty())
    .collect();
    let mut highlighter = Highlighter::from_terms(hl_terms.iter().map(String::as_str));
    // The query's own words are marked whole (粗大ごみ, not 粗大ご).
    highlighter.add_words(qa.morph.iter().map(|t| t.term.as_str()));
    if w.use_synonyms {
        highlighter.add_words(
            qa.synonyms
                .iter()
                .flat_map(|alt| alt.morph.iter().map(String::as_str)),
        );
    }
    if w.colloquial_weight > 0.0 {
        highlighter.add_words(
            qa.colloquial
                .iter()
                .flat_map(|alt| alt.morph.iter().map(String::as_str)),
        );
    }
    if qa.kana_typed {
        highlighter.set_readings(qa.bigrams.iter().map(|t| t.term.as_str()));
    }
    QueryPlan {
        groups,
        highlighter,
        units: content_units(qa, fields),
    }
}

/// The content units of `qa` (see [`quality`]): its distinct morph terms, found in a morph
/// field or as a short form (and a one-kanji word inside words, as the unigram field finds
/// it, and a synonym holding the word by all its morph terms); for a kana-typed query its
/// space-separated chunks, found by all their bigrams in a reading or a bigram field.
fn content_units(qa: &QueryAnalysis, f: &schema::Fields) -> Vec<quality::Unit> {
    let mut units = Vec::new();
    if qa.kana_typed {
        for chunk in qa.normalized.text.split_whitespace() {
            let grams: Vec<String> =
                crate::analysis::bigram_tokens_normalized(&crate::analysis::normalize(chunk))
                    .into_iter()
                    .map(|t| t.term)
                    .collect();
            if grams.is_empty() {
                continue;
            }
            let alt = |fields: [tantivy::schema::Field; 2]| -> quality::Alternative {
                grams.iter().map(|g| (fields.to_vec(), g.clone())).collect()
            };
            units.push(quality::Unit {
                alternatives: vec![
                    alt([f.title_reading, f.body_reading]),
                    alt([f.title_bigram, f.body_bigram]),
                ],
            });
        }
        return units;
    }
    let fold = |s: &str| -> String {
        s.chars()
            .map(crate::analysis::normalize::katakana_to_hiragana)
            .collect()
    };
    let mut seen = std::collections::HashSet::new();
    let morph = vec![f.title_morph, f.body_morph];
    for t in &qa.morph {
        if !seen.insert(t.term.clone()) {
            continue;
        }
        let mut alternatives = vec![
            vec![(morph.clone(), t.term.clone())],
            vec![(vec![f.title_abbrev, f.body_abbrev], t.term.clone())],
        ];
        if t.term.chars().count() == 1 {
            alternatives.push(vec![(
                vec![f.title_unigram, f.body_unigram],
                t.term.clone(),
            )]);
        }
        // A synonym of the query term that holds this word covers it too (マイナカード by
        // マイナンバーカード).
        for (found, others) in &qa.synonym_groups {
            if found.iter().any(|x| fold(&x.normalized).contains(&t.term)) {
                for o in others {
                    alternatives.push(o.morph.iter().map(|m| (morph.clone(), m.clone())).collect());
                }
            }
        }
        units.push(quality::Unit { alternatives });
    }
    units
}
