//! The token streams of every indexed field of one text, from one analysis.
//!
//! A material's title and body are each indexed into five fields (morph, bigram, unigram,
//! reading, abbreviation). Asked one field at a time ([`Analyzer::morph_tokens`],
//! [`Analyzer::reading_tokens`], …), the text is normalized five times and segmented by
//! lindera three times. [`Analyzer::field_tokens`] normalizes it once, segments it once with
//! the main dictionary (the morph and the reading streams are both read off that one
//! segmentation) and once with IPADIC alone (the compounds of the abbreviation stream, which
//! are defined on IPADIC's segmentation without the user dictionary: a user-dictionary word
//! such as 印鑑登録証明書 is one word of the first and a compound of the second), and derives
//! the bigram and unigram streams from the same normalized text. The tokens are exactly
//! those of the per-field methods (a test compares both on real and random texts).

use std::borrow::Cow;

use super::abbrev::abbreviation_tokens_of;
use super::reading::push_reading;
use super::{
    Analyzer, Token, bigram_tokens_normalized, chunks, normalize, truncate,
    unigram_tokens_normalized,
};

/// The indexed streams of one text (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldTokens {
    /// As [`Analyzer::morph_tokens`].
    pub morph: Vec<Token>,
    /// As [`Analyzer::bigram_tokens`].
    pub bigram: Vec<Token>,
    /// As [`Analyzer::unigram_tokens`].
    pub unigram: Vec<Token>,
    /// As [`Analyzer::reading_tokens`].
    pub reading: Vec<Token>,
    /// As [`Analyzer::abbreviation_tokens`].
    pub abbrev: Vec<Token>,
}

impl Analyzer {
    /// Returns the tokens of `text` for every indexed field, from one normalization and one
    /// segmentation per dictionary (module docs).
    pub fn field_tokens(&self, text: &str) -> FieldTokens {
        let norm = normalize(truncate(text));
        let mut morph = Vec::new();
        let mut reading_text = String::with_capacity(norm.text.len());
        for (chunk_start, chunk) in chunks(&norm.text) {
            let Ok(tokens) = self.segmenter.segment(Cow::Borrowed(chunk)) else {
                continue;
            };
            for mut t in tokens {
                // A borrow of the chunk (lindera's surfaces are slices of its input), not a copy.
                let surface = t.surface.clone();
                let span = (chunk_start + t.byte_start, chunk_start + t.byte_end);
                let details = t.details();
                self.push_morph(&norm, &surface, span, &details, &mut morph);
                push_reading(
                    &mut reading_text,
                    self.reading_word(&surface, span, &details),
                );
            }
            push_reading(&mut reading_text, None);
        }
        FieldTokens {
            morph,
            bigram: bigram_tokens_normalized(&norm),
            unigram: unigram_tokens_normalized(&norm),
            reading: bigram_tokens_normalized(&normalize(&reading_text)),
            abbrev: abbreviation_tokens_of(self.compounds_normalized(&norm)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn analyzer() -> &'static Analyzer {
        static A: std::sync::OnceLock<Analyzer> = std::sync::OnceLock::new();
        A.get_or_init(|| Analyzer::builtin().expect("IPADIC"))
    }

    fn per_field(a: &Analyzer, text: &str) -> FieldTokens {
        FieldTokens {
            morph: a.morph_tokens(text),
            bigram: a.bigram_tokens(text),
            unigram: a.unigram_tokens(text),
            reading: a.reading_tokens(text),
            abbrev: a.abbreviation_tokens(text),
        }
    }

    /// Real material texts: the demo corpus of the repository (FAQ questions and answers,
    /// page bodies, contacts), with a user-dictionary compound, old kanji, half-width kana,
    /// full-width ASCII and a long text cut into several lindera chunks.
    fn real_texts() -> Vec<String> {
        let mut texts = vec![
            "印鑑登録証明書の交付申請は、國民健康保険課（ｺｸﾎ）で受け付けます。".to_string(),
            "マイナンバーカードを紛失した場合は、０１２０－９５－０１７８へ。時々、髙橋さん".into(),
            "児童扶養手当と生活保護、ケア・マネジャーに相談　ＡＢＣ abc-123\n改行\tタブ".into(),
            "粗大ごみの出し方。".repeat(2000),
            String::new(),
        ];
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        let corpus = crate::corpus::Corpus::open(&dir).expect("demo corpus");
        corpus
            .for_each(
                |m: crate::material::Material| -> Result<(), crate::corpus::CorpusError> {
                    texts.push(m.title_text());
                    texts.push(m.body_text());
                    Ok(())
                },
            )
            .expect("read the demo corpus");
        assert!(texts.len() > 20, "the demo corpus has materials");
        texts
    }

    #[test]
    fn one_analysis_gives_the_tokens_of_every_field() {
        let a = analyzer();
        for text in real_texts() {
            assert_eq!(a.field_tokens(&text), per_field(a, &text), "{text:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn one_analysis_matches_per_field_on_random_text(
            text in "[あ-んア-ン亜-腕ｱ-ﾝＡ-Ｚa-z0-9ー々。、・「」（） \n]{0,80}"
        ) {
            let a = analyzer();
            prop_assert_eq!(a.field_tokens(&text), per_field(a, &text));
        }
    }
}
