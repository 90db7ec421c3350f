//! The parameters of the ranking function: BM25F field weights, saturation and length
//! normalisation per group (see [`super::bm25f`]), the group and synonym multipliers, and the
//! second stage (pseudo-relevance feedback, reranking).

/// Parameters of the ranking function (see [`super::bm25f`] and the
/// [module documentation](super)).
///
/// Field weights (`title_morph`, `body_bigram` …) are BM25F's per-field weights inside a
/// group; the `*_weight` fields are multipliers of a whole group's score or of a kind of
/// query term.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankingParams {
    /// BM25F weight of the title/question field in the morph group.
    pub title_morph: f32,
    /// BM25F weight of the body/answer field in the morph group.
    pub body_morph: f32,
    /// BM25F weight of the title/question field in the bigram group.
    pub title_bigram: f32,
    /// BM25F weight of the body/answer field in the bigram group.
    pub body_bigram: f32,
    /// Multiplier of the bigram group's score (the morph group's is 1).
    pub bigram_group_weight: f32,
    /// BM25 saturation k1 of the morph group.
    pub k1_morph: f32,
    /// Multiplier of the ideograph-unigram group's score (0 = off).
    pub unigram_group_weight: f32,
    /// BM25F weight of the title/question field in the unigram group.
    pub title_unigram: f32,
    /// BM25F weight of the body/answer field in the unigram group.
    pub body_unigram: f32,
    /// BM25 saturation k1 of the unigram group.
    pub k1_unigram: f32,
    /// BM25 saturation k1 of the bigram group.
    pub k1_bigram: f32,
    /// Length normalisation b of the title fields.
    pub b_title: f32,
    /// Length normalisation b of the body fields.
    pub b_body: f32,
    /// Query-weight multiplier of synonym alternatives (relative to the original terms).
    pub synonym_weight: f32,
    /// Pseudo-relevance feedback: number of top documents whose questions/titles expand the
    /// query (0 = off).
    pub prf_docs: usize,
    /// Pseudo-relevance feedback: at most this many expansion terms.
    pub prf_terms: usize,
    /// Pseudo-relevance feedback: query-weight multiplier of expansion terms.
    pub prf_weight: f32,
    /// Query-weight multiplier of verbs, adjectives and adverbs relative to nouns.
    pub non_noun_weight: f32,
    /// Multiplier of the query–question similarity in the second stage (× the top score;
    /// 0 = off).
    pub rerank_weight: f32,
    /// Number of first-stage candidates rescored by the second stage.
    pub rerank_depth: usize,
    /// Weight of the term-pair proximity feature of the second stage (a multiple of the top
    /// candidate's score; 0: off; see `second_stage::proximity`).
    pub proximity_weight: f32,
    /// Largest distance in characters of two query terms that count as near.
    pub proximity_window: f32,
    /// Saturation of a pair's proximity count.
    pub proximity_k: f32,
    /// Use the morph group at all (for ablation).
    pub use_morph: bool,
    /// Use the bigram group at all (for ablation).
    pub use_bigram: bool,
    /// Use synonyms (for ablation).
    pub use_synonyms: bool,
    /// Multiplier of the reading group's score for a kana-typed query (see
    /// [`crate::analysis::reading::is_kana_typed`]; 0 = off).
    pub reading_kana_weight: f32,
    /// Multiplier of the reading group's score for other queries (0 = off).
    pub reading_weight: f32,
    /// BM25F weight of the title/question field in the reading group.
    pub title_reading: f32,
    /// BM25F weight of the body/answer field in the reading group.
    pub body_reading: f32,
    /// BM25 saturation k1 of the reading group.
    pub k1_reading: f32,
    /// Multiplier of the abbreviation group's score (see [`crate::analysis::abbrev`];
    /// 0 = off).
    pub abbrev_weight: f32,
    /// BM25F weight of the title/question field in the abbreviation group.
    pub title_abbrev: f32,
    /// BM25F weight of the body/answer field in the abbreviation group.
    pub body_abbrev: f32,
    /// Query-weight multiplier of the administrative terms added for callers' words
    /// (`dictionaries/colloquial.txt`, see [`crate::analysis::colloquial`]; 0 = off).
    pub colloquial_weight: f32,
}

impl Default for RankingParams {
    /// The parameters chosen on the localgovFAQ set by coordinate ascent on Recall@10 +
    /// nDCG@10 (see the README's ablation table for the effect of each part).
    fn default() -> Self {
        Self {
            title_morph: 1.5,
            body_morph: 0.5,
            title_bigram: 1.0,
            body_bigram: 1.0,
            bigram_group_weight: 0.2,
            k1_morph: 1.2,
            k1_bigram: 1.0,
            unigram_group_weight: 0.3,
            k1_unigram: 4.0,
            title_unigram: 2.0,
            body_unigram: 0.5,
            b_title: 1.0,
            b_body: 0.5,
            synonym_weight: 0.7,
            non_noun_weight: 0.3,
            prf_docs: 0,
            prf_terms: 8,
            prf_weight: 0.3,
            rerank_weight: 0.0,
            rerank_depth: 50,
            proximity_weight: 0.0,
            proximity_window: 20.0,
            proximity_k: 0.1,
            use_morph: true,
            use_bigram: true,
            use_synonyms: true,
            reading_kana_weight: 1.0,
            reading_weight: 0.0,
            title_reading: 1.5,
            body_reading: 0.5,
            k1_reading: 1.0,
            abbrev_weight: 1.0,
            title_abbrev: 1.5,
            body_abbrev: 0.5,
            colloquial_weight: 0.7,
        }
    }
}

impl RankingParams {
    /// Returns the defaults with overrides from `spec`: comma-separated `name=value` pairs
    /// naming fields of this struct (`title_morph=1.5,use_bigram=false,prf_docs=3`).
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] for an unknown name or a bad value: real values must be
    /// finite and not negative, counts whole numbers, flags `true` or `false`.
    pub fn parse_overrides(spec: &str) -> crate::Result<Self> {
        let mut w = Self::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad =
                |why: &str| crate::Error::Invalid(format!("bad ranking override {part:?}: {why}"));
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| bad("expected NAME=VALUE"))?;
            let v = v.trim();
            let f = || match v.parse::<f32>() {
                Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
                _ => Err(bad("expected a finite, non-negative number")),
            };
            let n = || {
                v.parse::<usize>()
                    .map_err(|_| bad("expected a non-negative whole number"))
            };
            let b = || v.parse::<bool>().map_err(|_| bad("expected true or false"));
            match k.trim() {
                "title_morph" => w.title_morph = f()?,
                "body_morph" => w.body_morph = f()?,
                "title_bigram" => w.title_bigram = f()?,
                "body_bigram" => w.body_bigram = f()?,
                "synonym_weight" => w.synonym_weight = f()?,
                "bigram_group_weight" => w.bigram_group_weight = f()?,
                "non_noun_weight" => w.non_noun_weight = f()?,
                "rerank_weight" => w.rerank_weight = f()?,
                "rerank_depth" => w.rerank_depth = n()?,
                "proximity_weight" => w.proximity_weight = f()?,
                "proximity_window" => w.proximity_window = f()?,
                "proximity_k" => w.proximity_k = f()?,
                "prf_docs" => w.prf_docs = n()?,
                "prf_terms" => w.prf_terms = n()?,
                "prf_weight" => w.prf_weight = f()?,
                "k1_morph" => w.k1_morph = f()?,
                "k1_bigram" => w.k1_bigram = f()?,
                "unigram_group_weight" => w.unigram_group_weight = f()?,
                "k1_unigram" => w.k1_unigram = f()?,
                "title_unigram" => w.title_unigram = f()?,
                "body_unigram" => w.body_unigram = f()?,
                "b_title" => w.b_title = f()?,
                "b_body" => w.b_body = f()?,
                "use_morph" => w.use_morph = b()?,
                "use_bigram" => w.use_bigram = b()?,
                "use_synonyms" => w.use_synonyms = b()?,
                "reading_kana_weight" => w.reading_kana_weight = f()?,
                "reading_weight" => w.reading_weight = f()?,
                "title_reading" => w.title_reading = f()?,
                "body_reading" => w.body_reading = f()?,
                "k1_reading" => w.k1_reading = f()?,
                "abbrev_weight" => w.abbrev_weight = f()?,
                "title_abbrev" => w.title_abbrev = f()?,
                "body_abbrev" => w.body_abbrev = f()?,
                "colloquial_weight" => w.colloquial_weight = f()?,
                _ => return Err(bad("unknown parameter")),
            }
        }
        Ok(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_are_checked_not_cast() {
        let p =
            RankingParams::parse_overrides("prf_docs=3, title_morph=2, use_bigram=false").unwrap();
        assert_eq!((p.prf_docs, p.title_morph, p.use_bigram), (3, 2.0, false));
        for bad in [
            "prf_docs=-1",
            "prf_docs=2.5",
            "title_morph=-0.5",
            "bigram_group_weight=NaN",
            "k1_morph=inf",
            "use_morph=yes",
            "fb_docs=3",
            "title_morph",
        ] {
            let e = RankingParams::parse_overrides(bad).unwrap_err().to_string();
            assert!(e.contains(bad.split('=').next().unwrap()), "{bad}: {e}");
        }
    }
}
