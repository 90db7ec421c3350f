//! Snippets: a window of the material text around the query's matches, HTML-escaped, with
//! matched characters wrapped in `<mark>…</mark>`.
//!
//! Matching works on the same character filters as the index (NFKC, kana folding, long-vowel
//! mark dropped), and every character keeps its byte span in the original text, so the marks
//! land on the original characters even when the text is half-width or old-form.

use std::collections::HashSet;

use crate::analysis::normalize::{fold_variant_kanji, is_ideograph, is_kana, katakana_to_hiragana};
use unicode_normalization::UnicodeNormalization;

use crate::analysis::Token;

/// Default snippet length, in characters of the original text.
pub const SNIPPET_CHARS: usize = 120;

/// What to highlight: the query's bigram-field terms.
#[derive(Debug, Default, Clone)]
pub struct Highlighter {
    /// Bigrams packed as `(first << 32) | second`, sorted (binary search beats hashing for
    /// the few dozen bigrams of a query).
    bigrams: Vec<u64>,
    unigrams: HashSet<char>,
    words: HashSet<String>,
}

impl Highlighter {
    /// Builds a highlighter from bigram-field terms (of the query and its synonyms).
    pub fn new(terms: &[Token]) -> Self {
        Self::from_terms(terms.iter().map(|t| t.term.as_str()))
    }

    /// Builds a highlighter from bigram-field term strings.
    pub fn from_terms<'a>(terms: impl IntoIterator<Item = &'a str>) -> Self {
        let mut h = Self::default();
        for t in terms {
            let chars: Vec<char> = t.chars().collect();
            let cjk = chars.iter().all(|&c| is_kana(c) || is_ideograph(c));
            match (cjk, chars.len()) {
                (true, 1) => {
                    h.unigrams.insert(chars[0]);
                }
                (true, 2) => {
                    h.bigrams.push(pack(chars[0], chars[1]));
                }
                _ => {
                    h.words.insert(t.to_string());
                }
            }
        }
        h.bigrams.sort_unstable();
        h.bigrams.dedup();
        h
    }

    /// Returns an HTML snippet of `text` of about `max_chars` characters around the densest
    /// matches (the start of the text when nothing matches).
    ///
    /// The scan is windowed, so a long page costs about as much as a short one: matches are
    /// looked for in the first [`SCAN_CHARS`] characters only, and the densest window among
    /// them is shown. When none is there, the scan goes on to the first match (and the
    /// `max_chars` after it), at most [`MAX_SCAN_BYTES`] into the text.
    pub fn snippet(&self, text: &str, max_chars: usize) -> String {
        let marks = self.marks(text, max_chars);
        render(text, &marks, max_chars)
    }

    /// The merged marks of the scanned part of `text` (see [`Highlighter::snippet`]).
    fn marks(&self, text: &str, max_chars: usize) -> Vec<Mark> {
        let mut marked: Vec<Mark> = Vec::new();
        // Previous folded character: start byte and character index (for bigrams).
        let mut prev: Option<(char, usize, usize)> = None;
        // Current ASCII word: start byte, start character, end byte, end character.
        let mut word: Option<Mark> = None;
        let mut word_text = String::new();
        let flush_word =
            |word: &mut Option<Mark>, word_text: &mut String, marked: &mut Vec<Mark>| {
                if let Some(w) = word.take()
                    && self.words.contains(word_text.as_str())
                {
                    marked.push(w);
                }
                word_text.clear();
            };
        let mut stop = SCAN_CHARS;
        let mut cut = false;
        for (ci, (i, c)) in text.char_indices().enumerate() {
            if i >= MAX_SCAN_BYTES || (ci >= stop && !marked.is_empty()) {
                cut = true;
                break;
            }
            let end = i + c.len_utf8();
            let found = marked.len();
            match fold(c) {
                Folded::Skip => {}
                Folded::Separator => {
                    flush_word(&mut word, &mut word_text, &mut marked);
                    prev = None;
                }
                Folded::Char(f) if f.is_ascii_alphanumeric() => {
                    prev = None;
                    let w = word.get_or_insert(Mark {
                        s: i,
                        e: end,
                        cs: ci,
                        ce: ci + 1,
                    });
                    (w.e, w.ce) = (end, ci + 1);
                    word_text.push(f);
                }
                Folded::Char(f) => {
                    flush_word(&mut word, &mut word_text, &mut marked);
                    if !self.unigrams.is_empty() && self.unigrams.contains(&f) {
                        marked.push(Mark {
                            s: i,
                            e: end,
                            cs: ci,
                            ce: ci + 1,
                        });
                    }
                    if let Some((p, ps, pc)) = prev
                        && self.bigrams.binary_search(&pack(p, f)).is_ok()
                    {
                        marked.push(Mark {
                            s: ps,
                            e: end,
                            cs: pc,
                            ce: ci + 1,
                        });
                    }
                    prev = Some((f, i, ci));
                }
            }
            if found == 0 && !marked.is_empty() {
                // The first match: scan at least the window after it.
                stop = stop.max(marked[0].cs + max_chars);
            }
        }
        if !cut {
            // A word cut by the end of the scan may be longer than what was read.
            flush_word(&mut word, &mut word_text, &mut marked);
        }
        // Merge overlapping or touching marks.
        marked.sort_unstable_by_key(|m| (m.s, m.e));
        let mut merged: Vec<Mark> = Vec::new();
        for m in marked {
            match merged.last_mut() {
                Some(last) if m.s <= last.e => {
                    if m.e > last.e {
                        (last.e, last.ce) = (m.e, m.ce);
                    }
                }
                _ => merged.push(m),
            }
        }
        merged
    }
}

/// Characters of a text scanned for matches before the snippet settles for the densest
/// window among those found: a 300 KB page costs what a page of this length does (about
/// four of the 1,100-character pages of the scale corpus; most FAQ answers are shorter).
pub const SCAN_CHARS: usize = 4_000;

/// Farthest byte of a text scanned for a first match when there is none in the first
/// [`SCAN_CHARS`] characters.
pub const MAX_SCAN_BYTES: usize = 1024 * 1024;

/// A marked span: bytes `s..e`, characters `cs..ce` of the text.
#[derive(Debug, Clone, Copy)]
struct Mark {
    s: usize,
    e: usize,
    cs: usize,
    ce: usize,
}

fn pack(a: char, b: char) -> u64 {
    (u64::from(a as u32) << 32) | u64::from(b as u32)
}

/// One character after the snippet's character filter.
enum Folded {
    /// A character to match (kana folded to hiragana, ASCII lowercased, NFKC applied).
    Char(char),
    /// Ignored, without breaking a run: the long-vowel mark and combining voiced marks.
    Skip,
    /// Breaks runs: punctuation, spaces, symbols.
    Separator,
}

/// Folds one character as the index does (NFKC, old kanji, kana → hiragana, lowercase),
/// without allocating for the common cases.
fn fold(c: char) -> Folded {
    let f = match c {
        _ if c.is_ascii() => c.to_ascii_lowercase(),
        'ー' | 'ｰ' | '\u{3099}' | '\u{309A}' | 'ﾞ' | 'ﾟ' => return Folded::Skip,
        // Hiragana, katakana and CJK ideographs: always letters.
        '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' => {
            return Folded::Char(katakana_to_hiragana(c));
        }
        '\u{4E00}'..='\u{9FFF}' => return Folded::Char(fold_variant_kanji(c)),
        // CJK punctuation (、。「」 …) other than 々〆〇.
        '\u{3000}'..='\u{3004}' | '\u{3008}'..='\u{3020}' | '\u{3030}' => return Folded::Separator,
        // Full-width ASCII.
        '\u{FF01}'..='\u{FF5E}' => {
            char::from_u32(c as u32 - 0xFEE0).map_or(c, |a| a.to_ascii_lowercase())
        }
        _ if is_kana(c) || is_ideograph(c) => katakana_to_hiragana(fold_variant_kanji(c)),
        _ => {
            let mut n = std::iter::once(c).nfkc();
            match (n.next(), n.next()) {
                (Some(x), None) => katakana_to_hiragana(x.to_ascii_lowercase()),
                _ => return Folded::Separator,
            }
        }
    };
    if f.is_alphanumeric() {
        Folded::Char(f)
    } else {
        Folded::Separator
    }
}

/// Moves byte offset `b` of `text` back by up to `n` characters.
fn back_chars(text: &str, mut b: usize, n: usize) -> usize {
    for c in text[..b].chars().rev().take(n) {
        b -= c.len_utf8();
    }
    b
}

/// Chooses the window of `max_chars` characters covering the most marks and renders it.
/// Only the window's neighbourhood is walked (never the whole text).
fn render(text: &str, marks: &[Mark], max_chars: usize) -> String {
    // Start of the window: a little before the first mark of the densest window.
    let mut bs = 0;
    if !marks.is_empty() {
        let mut best = (0usize, 0usize); // (count, first mark index)
        let mut j = 0;
        for i in 0..marks.len() {
            while j < marks.len() && marks[j].ce <= marks[i].cs + max_chars {
                j += 1;
            }
            if j - i > best.0 {
                best = (j - i, i);
            }
        }
        let first = marks[best.1];
        bs = back_chars(text, first.s, max_chars / 6);
    }
    // End of the window; a window that runs past the end of the text moves back to stay full.
    let mut be = bs;
    let mut taken = 0;
    for c in text[bs..].chars().take(max_chars) {
        be += c.len_utf8();
        taken += 1;
    }
    if taken < max_chars {
        bs = back_chars(text, bs, max_chars - taken);
    }
    let mut out = String::with_capacity((be - bs) + 32);
    if bs > 0 {
        out.push('…');
    }
    let mut pos = bs;
    for m in marks {
        let (s, e) = (m.s.max(bs), m.e.min(be));
        if s >= e || s < pos {
            continue;
        }
        escape_into(&mut out, &text[pos..s]);
        out.push_str("<mark>");
        escape_into(&mut out, &text[s..e]);
        out.push_str("</mark>");
        pos = e;
    }
    escape_into(&mut out, &text[pos..be]);
    if be < text.len() {
        out.push('…');
    }
    out
}

/// Appends `s` to `out`, HTML-escaped (`& < > " '`); control characters become spaces.
fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_matches_and_escapes_html() {
        let h = Highlighter::from_terms(["国民", "民年", "年金"]);
        let s = h.snippet("<b>国民年金</b>の手続き & 国民健康保険", 100);
        assert_eq!(
            s,
            "&lt;b&gt;<mark>国民年金</mark>&lt;/b&gt;の手続き &amp; <mark>国民</mark>健康保険"
        );
    }

    #[test]
    fn marks_original_half_width_text() {
        let h = Highlighter::from_terms(["まい", "いな"]);
        assert_eq!(h.snippet("ﾏｲﾅの申請", 100), "<mark>ﾏｲﾅ</mark>の申請");
    }

    #[test]
    fn window_moves_to_the_matches() {
        let text = format!("{}申請書{}", "あ".repeat(300), "い".repeat(300));
        let h = Highlighter::from_terms(["申請", "請書"]);
        let s = h.snippet(&text, 40);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>申請書</mark>"), "{s}");
        assert!(s.chars().count() <= 40 + 2 + "<mark></mark>".len());
    }

    #[test]
    fn window_near_the_end_stays_full() {
        let text = format!("{}申請書です", "あ".repeat(300));
        let h = Highlighter::from_terms(["申請"]);
        let s = h.snippet(&text, 40);
        assert!(s.starts_with('…') && !s.ends_with('…'), "{s}");
        let plain = s.replace("<mark>", "").replace("</mark>", "");
        assert_eq!(plain.trim_start_matches('…').chars().count(), 40);
        assert!(plain.ends_with("申請書です"));
    }

    #[test]
    fn window_is_a_full_slice_of_the_text_with_ellipses_where_cut() {
        // Deterministic pseudo-random texts over a small alphabet with 1- to 3-byte
        // characters, windows of several sizes.
        let alphabet: Vec<char> = "申請書あいう税aZ 。".chars().collect();
        let h = Highlighter::from_terms(["申請", "請書", "税", "az"]);
        let mut seed = 12345u64;
        for round in 0..300 {
            let len = (round * 7) % 200;
            let text: String = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    alphabet[(seed >> 33) as usize % alphabet.len()]
                })
                .collect();
            for max in [1, 5, 40, 120] {
                let s = h.snippet(&text, max);
                let plain = s.replace("<mark>", "").replace("</mark>", "");
                let lead = plain.starts_with('…');
                let trail = plain.ends_with('…') && !text.ends_with('…');
                let body = plain.trim_start_matches('…').trim_end_matches('…');
                let n = text.chars().count();
                assert_eq!(body.chars().count(), n.min(max), "{text:?} {max} {s:?}");
                assert!(text.contains(body), "{text:?} {max} {s:?}");
                // No ellipsis on a side means the window touches that end of the text.
                assert!(lead || text.starts_with(body), "{text:?} {max} {s:?}");
                assert!(trail || text.ends_with(body), "{text:?} {max} {s:?}");
                // An ellipsis on a side means the window can sit away from that end.
                let starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
                let away_from_start = starts.iter().skip(1).any(|&i| text[i..].starts_with(body));
                let away_from_end = starts
                    .iter()
                    .any(|&i| text[i..].starts_with(body) && i + body.len() < text.len());
                assert!(!lead || away_from_start, "{text:?} {max} {s:?}");
                assert!(!trail || away_from_end, "{text:?} {max} {s:?}");
            }
        }
    }

    #[test]
    fn a_long_page_shows_its_first_match_even_far_in() {
        // 300 KB of text before the only match (past the SCAN_CHARS window).
        let text = format!(
            "{}粗大ごみの申込み{}",
            "あ".repeat(100_000),
            "い".repeat(1000)
        );
        let h = Highlighter::from_terms(["粗大", "大ご"]);
        let s = h.snippet(&text, 40);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>粗大ご</mark>みの申込み"), "{s}");
    }

    #[test]
    fn a_long_page_is_scanned_only_within_the_window() {
        // One match early, a denser cluster after SCAN_CHARS: the scan stops before it, so
        // the snippet shows the early match.
        let text = format!(
            "{}申請{}{}",
            "あ".repeat(100),
            "い".repeat(SCAN_CHARS + 100),
            "申請書申請書".repeat(10)
        );
        let h = Highlighter::from_terms(["申請", "請書"]);
        let s = h.snippet(&text, 40);
        assert!(s.contains("<mark>申請</mark>い"), "{s}");
        assert!(!s.contains("申請書"), "{s}");
    }

    #[test]
    fn single_character_and_ascii_words() {
        let h = Highlighter::from_terms(["税", "pdf"]);
        assert_eq!(
            h.snippet("税の PDF です", 100),
            "<mark>税</mark>の <mark>PDF</mark> です"
        );
    }
}
