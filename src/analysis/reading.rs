//! Readings: the IPADIC reading (読み) of each content word, folded to hiragana, as character
//! bigrams, so that a query typed in kana before the IME converts it (こくみんねんきん めんじょ)
//! meets the words it reads as (国民年金 免除).
//!
//! The reading text of a passage is the concatenation of its content words' readings
//! (国民年金保険料 → こくみんねんきんほけんりょう); words with a stop tag or a stop-word base
//! form (particles, auxiliaries, する, こと) break it, so a reading bigram never spans a
//! particle. A word IPADIC does not know keeps its surface when that is kana (katakana loan
//! words read as written) and breaks the text otherwise (an unknown kanji word has no
//! reading). The bigrams are those of [`super::bigram_tokens_normalized`] over that text
//! (katakana folded to hiragana, the long-vowel mark dropped), so the query side needs no
//! reading of its own: a kana query's bigrams are already readings.
//!
//! Homophones share readings (健/見/県 all read けん), so the field is weak evidence: the
//! planner uses it at full weight only for kana-typed queries ([`is_kana_typed`]).
//! Token offsets are those of the reading text, not of the original: the field is never
//! highlighted.

use super::normalize::{is_ideograph, is_kana, katakana_to_hiragana, normalize};
use super::{Analyzer, Token, bigram_tokens_normalized, chunks, content_pos, truncate};

/// Index of the reading (読み, katakana) in an IPADIC token's details.
const READING: usize = 7;

impl Analyzer {
    /// Returns the reading text of `text`: content words' readings in hiragana, a space wherever a non-content or unreadable word breaks it.
    pub fn reading_text(&self, text: &str) -> String {
        let norm = normalize(truncate(text));
        let mut out = String::with_capacity(norm.text.len());
        for (_, chunk) in chunks(&norm.text) {
            let Ok(tokens) = self.segmenter.segment(std::borrow::Cow::Borrowed(chunk)) else {
                continue;
            };
            for mut t in tokens {
                let surface = t.surface.to_string();
                let details = t.details();
                let readable = content_pos(&details).is_some()
                    && !self.stop_words.contains(surface.as_str())
                    && !details.get(6).is_some_and(|b| self.stop_words.contains(*b));
                let reading = details
                    .get(READING)
                    .copied()
                    .filter(|r| !r.is_empty() && *r != "*" && r.chars().all(is_kana));
                match (readable, reading) {
                    (true, Some(r)) => out.extend(r.chars().map(katakana_to_hiragana)),
                    (true, None) if surface.chars().all(is_kana) => {
                        out.extend(surface.chars().map(katakana_to_hiragana));
                    }
                    _ => {
                        if !out.ends_with(' ') {
                            out.push(' ');
                        }
                    }
                }
            }
            out.push(' ');
        }
        out
    }

    /// Returns the reading-field tokens of `text`: the bigrams of [`Analyzer::reading_text`].
    pub fn reading_tokens(&self, text: &str) -> Vec<Token> {
        bigram_tokens_normalized(&normalize(&self.reading_text(text)))
    }
}

/// Whether `q` looks typed in kana before conversion: no kanji, and at least half of its
/// letters hiragana (a katakana-only query such as マイナポータル is ordinary text).
pub fn is_kana_typed(q: &str) -> bool {
    let mut letters = 0usize;
    let mut hiragana = 0usize;
    for c in q.chars().filter(|c| c.is_alphanumeric()) {
        if is_ideograph(c) {
            return false;
        }
        letters += 1;
        if matches!(c, '\u{3041}'..='\u{309F}') {
            hiragana += 1;
        }
    }
    letters > 0 && hiragana * 2 >= letters
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyzer() -> Analyzer {
        Analyzer::builtin().expect("IPADIC")
    }

    #[test]
    fn compounds_read_as_one_run_and_particles_break_it() {
        let a = analyzer();
        let r = a.reading_text("国民年金の免除を申請する");
        let runs: Vec<&str> = r.split_whitespace().collect();
        assert_eq!(runs, ["こくみんねんきん", "めんじょ", "しんせい"], "{r:?}");
    }

    #[test]
    fn kana_query_bigrams_meet_kanji_text() {
        let a = analyzer();
        let doc: Vec<String> = a
            .reading_tokens("住民票の写しを郵送してもらう")
            .into_iter()
            .map(|t| t.term)
            .collect();
        let q = bigram_tokens_normalized(&normalize("じゅうみんひょう"));
        assert!(!q.is_empty());
        assert!(q.iter().all(|t| doc.contains(&t.term)), "{doc:?}");
    }

    #[test]
    fn katakana_words_keep_their_sound() {
        let a = analyzer();
        assert!(
            a.reading_text("マイナンバーカード")
                .contains("まいなんばーかーど")
        );
    }

    #[test]
    fn kana_typed_queries() {
        assert!(is_kana_typed("いんかんとうろく"));
        assert!(is_kana_typed("こくみんねんきん めんじょ"));
        assert!(!is_kana_typed("マイナポータル ログイン"));
        assert!(!is_kana_typed("印鑑とうろく"));
        assert!(!is_kana_typed("  "));
    }
}
