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
//! Token offsets are those of the reading text, not of the original; the snippet highlights
//! a kana-typed query's words through [`Analyzer::reading_words`] instead.

use super::normalize::{Normalized, is_ideograph, is_kana, katakana_to_hiragana, normalize};
use super::{Analyzer, Token, bigram_tokens_normalized, chunks, content_pos, truncate};

/// Index of the reading (読み, katakana) in an IPADIC token's details.
const READING: usize = 7;

impl Analyzer {
    /// Returns the reading text of `text`: content words' readings in hiragana, a space wherever a non-content or unreadable word breaks it.
    pub fn reading_text(&self, text: &str) -> String {
        let norm = normalize(truncate(text));
        let mut out = String::with_capacity(norm.text.len());
        self.for_each_reading(&norm, |word| push_reading(&mut out, word));
        out
    }

    /// Returns the content words of `text` that have a reading, each as its byte span in
    /// the original `text` and its reading in hiragana (印鑑登録 → 印鑑 いんかん, 登録
    /// とうろく), for highlighting a kana-typed query's words. A compound of
    /// [`super::COMPOUND_MIN_CHARS`] or more characters (a user-dictionary word such as
    /// 印鑑登録証明書) comes as its IPADIC parts, so a query reading part of it marks that part.
    pub fn reading_words(&self, text: &str) -> Vec<(usize, usize, String)> {
        let norm = normalize(truncate(text));
        let mut words = Vec::new();
        self.for_each_reading(&norm, |word| words.extend(word));
        let mut out = Vec::with_capacity(words.len());
        for (s, e, r) in words {
            let surface = &norm.text[s..e];
            let mut parts = Vec::new();
            if surface.chars().count() >= super::COMPOUND_MIN_CHARS
                && let Ok(tokens) = self
                    .parts_segmenter
                    .segment(std::borrow::Cow::Borrowed(surface))
                && tokens.len() >= 2
            {
                for mut t in tokens {
                    let reading = t
                        .details()
                        .get(READING)
                        .copied()
                        .filter(|r| !r.is_empty() && *r != "*" && r.chars().all(is_kana))
                        .map(|r| r.chars().map(katakana_to_hiragana).collect::<String>());
                    if let Some(r) = reading {
                        parts.push((s + t.byte_start, s + t.byte_end, r));
                    }
                }
            }
            if parts.is_empty() {
                parts.push((s, e, r));
            }
            for (ps, pe, r) in parts {
                if let Some((os, oe)) = norm.original_span(ps, pe) {
                    out.push((os, oe, r));
                }
            }
        }
        out
    }

    /// Calls `f` for each word of `norm` in order: `Some((start, end, reading))` (normalized
    /// byte span, hiragana reading) for a readable content word, `None` for a word that breaks
    /// the reading text, and `None` at the end of each chunk.
    fn for_each_reading(
        &self,
        norm: &Normalized,
        mut f: impl FnMut(Option<(usize, usize, String)>),
    ) {
        for (chunk_start, chunk) in chunks(&norm.text) {
            let Ok(tokens) = self.segmenter.segment(std::borrow::Cow::Borrowed(chunk)) else {
                continue;
            };
            for mut t in tokens {
                let surface = t.surface.to_string();
                let (s, e) = (chunk_start + t.byte_start, chunk_start + t.byte_end);
                let details = t.details();
                f(self.reading_word(&surface, (s, e), &details));
            }
            f(None);
        }
    }

    /// The reading of one word of a segmentation (see [`Analyzer::for_each_reading`]): the
    /// word `surface` at normalized bytes `span` with its IPADIC `details`.
    pub(super) fn reading_word(
        &self,
        surface: &str,
        span: (usize, usize),
        details: &[&str],
    ) -> Option<(usize, usize, String)> {
        let (s, e) = span;
        let readable = content_pos(details).is_some()
            && !self.stop_words.contains(surface)
            && !details.get(6).is_some_and(|b| self.stop_words.contains(*b));
        let reading = details
            .get(READING)
            .copied()
            .filter(|r| !r.is_empty() && *r != "*" && r.chars().all(is_kana));
        match (readable, reading) {
            (true, Some(r)) => Some((s, e, r.chars().map(katakana_to_hiragana).collect())),
            (true, None) if surface.chars().all(is_kana) => {
                Some((s, e, surface.chars().map(katakana_to_hiragana).collect()))
            }
            _ => None,
        }
    }

    /// Returns the reading-field tokens of `text`: the bigrams of [`Analyzer::reading_text`].
    pub fn reading_tokens(&self, text: &str) -> Vec<Token> {
        bigram_tokens_normalized(&normalize(&self.reading_text(text)))
    }
}

/// Appends one word of [`Analyzer::for_each_reading`] to a reading text: its reading, or a
/// single space for a break.
pub(super) fn push_reading(out: &mut String, word: Option<(usize, usize, String)>) {
    match word {
        Some((_, _, r)) => out.push_str(&r),
        None => {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        }
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
