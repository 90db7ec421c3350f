//! Snippets: a window of the material text around the query's matches, HTML-escaped, with
//! matched characters wrapped in `<mark>…</mark>`.
//!
//! Matching works on the same character filters as the index (NFKC, kana folding, long-vowel
//! mark dropped), and every character keeps its byte span in the original text, so the marks
//! land on the original characters even when the text is half-width or old-form.
//!
//! Marks are for content (issue 13): a bigram or single-character match that is hiragana
//! only in the text (まい of お住まい for the query マイナ) is no mark; the query's own words
//! (its morph terms, the compounds its abbreviations stand for) are marked whole wherever they
//! occur, a hiragana word only where it is not the tail of a kanji word; marks that cover more
//! than half of a katakana word, or two marks inside one, become one mark over the whole word
//! (`<mark>マイナンバーカード</mark>`, not `<mark>マイナ</mark>ンバー<mark>カード</mark>`); and
//! for a kana-typed query, the words whose IPADIC reading the query spells are marked
//! ([`Highlighter::snippet_analyzed`]: いんかん → 印鑑).

use std::collections::HashSet;

use crate::analysis::normalize::{fold_variant_kanji, is_ideograph, is_kana, katakana_to_hiragana};
use unicode_normalization::UnicodeNormalization;

use crate::analysis::{Analyzer, Token};

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
    /// Whole words marked wherever they occur, as folded characters (query morph terms,
    /// abbreviation sources), each of 2..=[`MAX_WORD_CHARS`] characters.
    phrases: Vec<Vec<char>>,
    /// Packed reading bigrams of a kana-typed query (sorted): words whose reading is made of
    /// them are marked by [`Highlighter::snippet_analyzed`].
    readings: Vec<u64>,
}

/// Longest word (in folded characters) marked as a whole.
pub const MAX_WORD_CHARS: usize = 24;

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

    /// Adds whole words to mark wherever they occur (the query's morph terms, the compounds
    /// its abbreviations stand for). Words of one character, of more than
    /// [`MAX_WORD_CHARS`], or holding a separator are ignored (bigrams and unigrams cover
    /// them).
    pub fn add_words<'a>(&mut self, words: impl IntoIterator<Item = &'a str>) {
        for w in words {
            let mut chars = Vec::new();
            for c in w.chars() {
                match fold(c) {
                    Folded::Char(f) if !f.is_ascii() => chars.push(f),
                    Folded::Skip => {}
                    _ => {
                        chars.clear();
                        break;
                    }
                }
            }
            if (2..=MAX_WORD_CHARS).contains(&chars.len()) && !self.phrases.contains(&chars) {
                self.phrases.push(chars);
            }
        }
    }

    /// Sets the reading bigrams of a kana-typed query (its own bigrams: a kana query is its
    /// reading), for [`Highlighter::snippet_analyzed`].
    pub fn set_readings<'a>(&mut self, grams: impl IntoIterator<Item = &'a str>) {
        self.readings = grams
            .into_iter()
            .filter_map(|g| {
                let mut it = g.chars();
                match (it.next(), it.next(), it.next()) {
                    (Some(a), Some(b), None) => Some(pack(a, b)),
                    _ => None,
                }
            })
            .collect();
        self.readings.sort_unstable();
        self.readings.dedup();
    }

    /// Like [`Highlighter::snippet`], and for a kana-typed query (see
    /// [`Highlighter::set_readings`]) also marks, in the first [`SCAN_CHARS`] characters, the
    /// words whose reading (of at least two kana) is made of the query's bigrams.
    pub fn snippet_analyzed(&self, analyzer: &Analyzer, text: &str, max_chars: usize) -> String {
        let mut marks = self.marks(text, max_chars);
        if !self.readings.is_empty() {
            let head_end = text
                .char_indices()
                .nth(SCAN_CHARS)
                .map_or(text.len(), |(i, _)| i);
            let head = &text[..head_end];
            let mut found: Vec<(usize, usize)> = analyzer
                .reading_words(head)
                .into_iter()
                .filter(|(_, _, r)| self.reads_as_query(r))
                .map(|(s, e, _)| (s, e))
                .collect();
            found.sort_unstable();
            // Byte offsets to character indices, in one pass over the head (the words do
            // not overlap: they are consecutive tokens).
            let (mut ci, mut pos) = (0, 0);
            let mut extra = Vec::with_capacity(found.len());
            for (s, e) in found {
                if s < pos {
                    continue;
                }
                let cs = ci + head[pos..s].chars().count();
                let ce = cs + head[s..e].chars().count();
                (ci, pos) = (ce, e);
                extra.push(Mark { s, e, cs, ce });
            }
            marks.extend(extra);
            marks = merge(marks);
        }
        render(text, &marks, max_chars)
    }

    /// Whether `reading` (hiragana) has at least two characters, none of them outside a
    /// bigram of the query's readings.
    fn reads_as_query(&self, reading: &str) -> bool {
        let chars: Vec<char> = reading.chars().filter(|&c| !matches!(c, 'ー')).collect();
        chars.len() >= 2
            && chars
                .windows(2)
                .all(|w| self.readings.binary_search(&pack(w[0], w[1])).is_ok())
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
        // The last folded CJK characters of the current run (folded, start byte, character
        // index), for whole-word matches.
        let mut recent: std::collections::VecDeque<(char, usize, usize)> =
            std::collections::VecDeque::with_capacity(MAX_WORD_CHARS);
        // The current katakana run, and the runs seen (at least two characters).
        let mut kata: Option<Mark> = None;
        let mut runs: Vec<Mark> = Vec::new();
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
            if is_katakana(c) {
                let k = kata.get_or_insert(Mark {
                    s: i,
                    e: end,
                    cs: ci,
                    ce: ci + 1,
                });
                (k.e, k.ce) = (end, ci + 1);
            } else if let Some(k) = kata.take()
                && k.ce - k.cs >= 2
            {
                runs.push(k);
            }
            match fold(c) {
                Folded::Skip => {}
                Folded::Separator => {
                    flush_word(&mut word, &mut word_text, &mut marked);
                    prev = None;
                    recent.clear();
                }
                Folded::Char(f) if f.is_ascii_alphanumeric() => {
                    prev = None;
                    recent.clear();
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
                    let content = |s: usize| !is_hiragana_span(&text[s..end]);
                    if !self.unigrams.is_empty() && self.unigrams.contains(&f) && content(i) {
                        marked.push(Mark {
                            s: i,
                            e: end,
                            cs: ci,
                            ce: ci + 1,
                        });
                    }
                    if let Some((p, ps, pc)) = prev
                        && self.bigrams.binary_search(&pack(p, f)).is_ok()
                        && content(ps)
                    {
                        marked.push(Mark {
                            s: ps,
                            e: end,
                            cs: pc,
                            ce: ci + 1,
                        });
                    }
                    prev = Some((f, i, ci));
                    if !self.phrases.is_empty() {
                        if recent.len() == MAX_WORD_CHARS {
                            recent.pop_front();
                        }
                        recent.push_back((f, i, ci));
                        self.match_phrases(text, &recent, end, ci + 1, &mut marked);
                    }
                }
            }
            if found == 0 && !marked.is_empty() {
                // The first match: scan at least the window after it.
                stop = stop.max(marked[0].cs + max_chars);
            }
        }
        if let Some(k) = kata.take()
            && k.ce - k.cs >= 2
        {
            runs.push(k);
        }
        if !cut {
            // A word cut by the end of the scan may be longer than what was read.
            flush_word(&mut word, &mut word_text, &mut marked);
        }
        whole_katakana_words(merge(marked), &runs)
    }

    /// Pushes a mark for each phrase that ends with the last character of `recent` (which
    /// ends at byte `end`, character `ce`). A hiragana-only match right after a kanji is the
    /// kanji word's tail (住まい), no mark.
    fn match_phrases(
        &self,
        text: &str,
        recent: &std::collections::VecDeque<(char, usize, usize)>,
        end: usize,
        ce: usize,
        marked: &mut Vec<Mark>,
    ) {
        for p in &self.phrases {
            let n = p.len();
            if n > recent.len()
                || recent
                    .iter()
                    .skip(recent.len() - n)
                    .map(|r| r.0)
                    .ne(p.iter().copied())
            {
                continue;
            }
            let (_, s, cs) = recent[recent.len() - n];
            if is_hiragana_span(&text[s..end])
                && text[..s].chars().next_back().is_some_and(is_ideograph)
            {
                continue;
            }
            marked.push(Mark { s, e: end, cs, ce });
        }
    }
}

/// Whether `s` holds only hiragana (and the long-vowel mark).
fn is_hiragana_span(s: &str) -> bool {
    s.chars()
        .all(|c| matches!(c, '\u{3041}'..='\u{309F}' | 'ー'))
}

/// Whether `c` is a katakana letter (full or half width) or the long-vowel mark.
fn is_katakana(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30FA}' | 'ー' | '\u{FF66}'..='\u{FF9F}')
}

/// Sorts `marks` and merges overlapping or touching ones.
fn merge(mut marks: Vec<Mark>) -> Vec<Mark> {
    marks.sort_unstable_by_key(|m| (m.s, m.e));
    let mut merged: Vec<Mark> = Vec::new();
    for m in marks {
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

/// Makes one mark of the marks inside each katakana word (`runs`, sorted): the whole word
/// when they cover more than half of its characters, else the span from the first to the
/// last when there are two or more.
fn whole_katakana_words(marks: Vec<Mark>, runs: &[Mark]) -> Vec<Mark> {
    if runs.is_empty() || marks.is_empty() {
        return marks;
    }
    let mut out = marks;
    for r in runs {
        let inside: Vec<Mark> = out
            .iter()
            .filter(|m| m.s < r.e && m.e > r.s)
            .copied()
            .collect();
        if inside.is_empty() {
            continue;
        }
        let covered: usize = inside.iter().map(|m| m.ce.min(r.ce) - m.cs.max(r.cs)).sum();
        let span = if covered * 2 > r.ce - r.cs {
            let (first, last) = (inside[0], inside[inside.len() - 1]);
            Mark {
                s: r.s.min(first.s),
                e: r.e.max(last.e),
                cs: r.cs.min(first.cs),
                ce: r.ce.max(last.ce),
            }
        } else if inside.len() >= 2 {
            let (first, last) = (inside[0], inside[inside.len() - 1]);
            Mark {
                s: first.s,
                e: last.e,
                cs: first.cs,
                ce: last.ce,
            }
        } else {
            continue;
        };
        out.push(span);
        out = merge(out);
    }
    out
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

    #[test]
    fn hiragana_fragments_are_no_marks() {
        // マイナ folds to まいな: its bigram まい is no mark inside お住まい.
        let h = Highlighter::from_terms(["まい", "いな"]);
        assert_eq!(
            h.snippet("お住まいの区でマイナポータルを", 100),
            "お住まいの区で<mark>マイナ</mark>ポータルを"
        );
    }

    #[test]
    fn marks_inside_one_katakana_word_become_one() {
        // マイナカード: まい いな なか かど; the word is marked whole, not マイナ|ンバー|カード.
        let h = Highlighter::from_terms(["まい", "いな", "なか", "かど"]);
        assert_eq!(
            h.snippet("マイナンバーカードの交付", 100),
            "<mark>マイナンバーカード</mark>の交付"
        );
        // A small part of a long katakana word stays a small mark.
        let h = Highlighter::from_terms(["かど"]);
        assert_eq!(
            h.snippet("クレジットカード払い", 100),
            "クレジット<mark>カード</mark>払い"
        );
    }

    #[test]
    fn query_words_are_marked_whole_but_not_as_kanji_tails() {
        let mut h = Highlighter::from_terms(["粗大", "大ご"]);
        h.add_words(["粗大ごみ", "まい"]);
        assert_eq!(
            h.snippet("粗大ごみは住まいの前に", 100),
            "<mark>粗大ごみ</mark>は住まいの前に"
        );
        let mut h = Highlighter::default();
        h.add_words(["ごみ"]);
        assert_eq!(h.snippet("ごみの日", 100), "<mark>ごみ</mark>の日");
    }

    #[test]
    fn abbreviation_sources_are_marked_as_words() {
        // 児扶 has no bigram in the text; its compound is added as a word.
        let mut h = Highlighter::from_terms(["児扶"]);
        h.add_words(["児童扶養手当"]);
        assert_eq!(
            h.snippet("児童扶養手当の申請", 100),
            "<mark>児童扶養手当</mark>の申請"
        );
    }

    #[test]
    fn kana_typed_query_marks_the_kanji_words_it_reads_as() {
        let a = Analyzer::builtin().expect("IPADIC");
        let grams = ["いん", "んか", "かん", "んと", "とう", "うろ", "ろく"];
        let mut h = Highlighter::from_terms(grams);
        h.set_readings(grams);
        // 印鑑登録証明書 is one user-dictionary word: its parts 印鑑, 登録 are marked.
        let s = h.snippet_analyzed(
            &a,
            "印鑑登録証明書の交付は、市民課の窓口で受けられます。",
            100,
        );
        assert_eq!(
            s,
            "<mark>印鑑登録</mark>証明書の交付は、市民課の窓口で受けられます。"
        );
        // Without readings set, the plain snippet marks nothing here.
        let h = Highlighter::from_terms(grams);
        assert!(!h.snippet_analyzed(&a, "印鑑登録", 100).contains("<mark>"));
    }
}
