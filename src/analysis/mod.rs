//! Japanese analysis: character filters, morphological tokens, character bigrams and
//! query-time synonyms.
//!
//! Two token streams are produced from the same normalized text (see [`normalize`]):
//!
//! * **morph** (precision, main weight): lindera + IPADIC + the user dictionary; base forms
//!   (申請した → 申請する), part-of-speech stop tags (particles, auxiliary verbs, symbols …,
//!   the list of Lucene's kuromoji `stoptags.txt`), a stop-word list, katakana long-vowel
//!   stemming (サーバー → サーバ for words of 4+ characters, as kuromoji's
//!   `JapaneseKatakanaStemFilter`), katakana folded to hiragana.
//! * **bigram** (recall, lower weight): overlapping character bigrams over runs of kana and
//!   kanji (Lucene's `CJKBigramFilter` scheme), katakana folded to hiragana, the long-vowel
//!   mark dropped, 々 expanded; ASCII words and numbers as whole tokens; a one-character run
//!   is emitted as a unigram.
//!
//! Token offsets are byte offsets into the **original** text, mapped back through the
//! character filters, so snippets highlight the right characters.

pub mod abbrev;
pub mod colloquial;
pub mod dictionary;
pub mod fields;
pub mod normalize;
pub mod reading;
pub mod synonyms;
pub mod tokenizer;

use std::collections::HashSet;
use std::path::Path;

use lindera::mode::Mode;
use lindera::segmenter::Segmenter;

pub use normalize::{Normalized, normalize};
pub use synonyms::Synonyms;

use normalize::{is_ideograph, is_kana, katakana_to_hiragana};

/// Inputs longer than this many bytes are analyzed only up to it (4 MiB), so that a huge
/// request or page cannot stall a worker.
pub const MAX_ANALYZED_BYTES: usize = 4 * 1024 * 1024;

/// Errors of dictionary loading.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// The compiled IPADIC could not be loaded.
    #[error("cannot load the IPADIC dictionary from {path}: {message}")]
    Dictionary {
        /// Directory tried.
        path: String,
        /// lindera's message.
        message: String,
    },
    /// The user dictionary could not be built.
    #[error("cannot build the user dictionary: {0}")]
    UserDictionary(String),
}

/// One analyzed token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The indexed term.
    pub term: String,
    /// Start byte offset in the original text.
    pub start: usize,
    /// End byte offset (exclusive) in the original text.
    pub end: usize,
    /// Whether the token is a noun (or unknown word, or a bigram); verbs, adjectives and
    /// adverbs are `false` and get a lower query weight.
    pub noun: bool,
}

/// Part-of-speech prefixes dropped from the morph stream. Source: Lucene kuromoji
/// `stoptags.txt` (the default of Elasticsearch's `kuromoji` analyzer), plus 名詞-非自立 and
/// 動詞-非自立 (こと, もの, いる, しまう), which carry no topic in FAQ text.
const STOP_TAG_PREFIXES: &[&str] = &[
    "接続詞",
    "助詞",
    "助動詞",
    "記号",
    "フィラー",
    "非言語音",
    "その他,間投",
    "感動詞",
    "名詞,非自立",
    "動詞,非自立",
    "名詞,代名詞",
    "名詞,接尾,助数詞",
];

/// Base forms dropped from the morph stream: Lucene kuromoji's `stopwords.txt` (Japanese
/// stop words, the Elasticsearch `kuromoji` default) restricted to content-word forms, plus
/// the question phrases of citizen queries (知りたい, 教えてください, いいですか) that
/// carry no topic.
const STOP_WORDS: &[&str] = &[
    "ある",
    "いる",
    "する",
    "なる",
    "こと",
    "もの",
    "これ",
    "それ",
    "あれ",
    "この",
    "その",
    "ため",
    "よう",
    "できる",
    "れる",
    "られる",
    "せる",
    "させる",
    "いう",
    "ます",
    "です",
    "おる",
    "ほか",
    "など",
    "とき",
    "ところ",
    "ここ",
    "そこ",
    "どこ",
    "また",
    "および",
    "及び",
    "または",
    "さらに",
    "なお",
    "ただし",
    "お",
    "ご",
    "知る",
    "教える",
    "くださる",
    "下さる",
    "いい",
    "よい",
    "良い",
    "思う",
    "ほしい",
    "欲しい",
    "たい",
    "わかる",
    "分かる",
    "いただく",
    "頂く",
    "どう",
    "なに",
    "何",
    "どの",
    "どれ",
    "どんな",
    "ない",
    "くれる",
    "もらう",
    "みる",
    "行う",
    "おく",
    "しまう",
    "くる",
    "いく",
    "ござる",
    // Fillers of a caller's speech typed as heard (issue 13): they carry no topic.
    "もしもし",
    "あの",
    "えっと",
    "えーと",
    "ええと",
    "なんか",
    "全然",
    "ちょっと",
    "すみません",
];

/// Compounds of at least this many characters also emit their parts.
pub const COMPOUND_MIN_CHARS: usize = 4;

/// The analyzer: segmenter, stop lists and synonyms. Cheap to share behind an `Arc`.
pub struct Analyzer {
    segmenter: Segmenter,
    /// IPADIC without the user dictionary, to split compounds into their parts.
    parts_segmenter: Segmenter,
    stop_words: HashSet<&'static str>,
    synonyms: std::sync::RwLock<std::sync::Arc<Synonyms>>,
    /// Unique among the analyzers of the process (keys [`tokenizer`]'s cache of analyses).
    id: u64,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer").finish_non_exhaustive()
    }
}

impl Analyzer {
    /// Loads IPADIC, the user dictionary and the synonyms from `dict_dir`
    /// (`user_dict.csv`, `synonyms.txt`; built-in copies are used for missing files).
    ///
    /// # Errors
    /// [`AnalysisError`] when IPADIC cannot be loaded. Bad user-dictionary or synonym lines
    /// are skipped with a warning, never fatal.
    pub fn load(dict_dir: &Path) -> Result<Self, AnalysisError> {
        let loaded = dictionary::load(dict_dir)?;
        let synonyms = Synonyms::load(dict_dir);
        Self::from_parts(loaded, synonyms)
    }

    /// Loads IPADIC and the built-in user dictionary and synonyms.
    ///
    /// # Errors
    /// As [`Analyzer::load`].
    pub fn builtin() -> Result<Self, AnalysisError> {
        let loaded = dictionary::load_builtin()?;
        Self::from_parts(loaded, Synonyms::builtin())
    }

    fn from_parts(loaded: dictionary::Loaded, synonyms: Synonyms) -> Result<Self, AnalysisError> {
        let parts_segmenter = Segmenter::new(Mode::Normal, loaded.system.clone(), None);
        let seg = Segmenter::new(Mode::Normal, loaded.system, loaded.user).keep_whitespace(false);
        let mut a = Self {
            segmenter: seg,
            parts_segmenter,
            stop_words: STOP_WORDS.iter().copied().collect(),
            synonyms: std::sync::RwLock::new(std::sync::Arc::new(Synonyms::default())),
            id: {
                static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            },
        };
        let synonyms = synonyms.prepared(&a);
        a.synonyms = std::sync::RwLock::new(std::sync::Arc::new(synonyms));
        Ok(a)
    }

    /// Returns the current synonym table.
    pub fn synonyms(&self) -> std::sync::Arc<Synonyms> {
        self.synonyms
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the synonym table (reload without reindexing: synonyms apply at query time).
    pub fn set_synonyms(&self, synonyms: Synonyms) {
        let prepared = synonyms.prepared(self);
        *self.synonyms.write().unwrap_or_else(|e| e.into_inner()) = std::sync::Arc::new(prepared);
    }

    /// Returns the morph-field tokens of `text` (see the module docs).
    pub fn morph_tokens(&self, text: &str) -> Vec<Token> {
        let text = truncate(text);
        let norm = normalize(text);
        self.morph_tokens_normalized(&norm)
    }

    /// Returns the morph-field tokens of already normalized text.
    pub fn morph_tokens_normalized(&self, norm: &Normalized) -> Vec<Token> {
        let mut out = Vec::new();
        // lindera caps one sentence at 32 KiB; feed it line-sized chunks cut at safe places.
        for (chunk_start, chunk) in chunks(&norm.text) {
            let Ok(tokens) = self.segmenter.segment(std::borrow::Cow::Borrowed(chunk)) else {
                continue;
            };
            for mut t in tokens {
                let surface = t.surface.to_string();
                let (s, e) = (chunk_start + t.byte_start, chunk_start + t.byte_end);
                let details = t.details();
                self.push_morph(norm, &surface, (s, e), &details, &mut out);
            }
        }
        out
    }

    /// Appends the morph-field tokens of one word of the segmentation of `norm`: the word
    /// `surface` at normalized bytes `span`, with its IPADIC `details` (none for a stop tag or
    /// stop word; its compound parts after it, see [`Analyzer::push_parts`]).
    fn push_morph(
        &self,
        norm: &Normalized,
        surface: &str,
        span: (usize, usize),
        details: &[&str],
        out: &mut Vec<Token>,
    ) {
        let (s, e) = span;
        let Some(pos) = content_pos(details) else {
            return;
        };
        let base = details
            .get(6)
            .copied()
            .filter(|b| !b.is_empty() && *b != "*")
            .unwrap_or(surface);
        if self.stop_words.contains(base) || self.stop_words.contains(surface) {
            return;
        }
        let Some(term) = morph_term(base) else {
            return;
        };
        let noun = !(pos.starts_with("動詞")
            || pos.starts_with("形容詞")
            || pos.starts_with("副詞")
            || pos.starts_with("連体詞"));
        if let Some((start, end)) = norm.original_span(s, e) {
            out.push(Token {
                term,
                start,
                end,
                noun,
            });
        }
        if surface.chars().count() >= COMPOUND_MIN_CHARS {
            self.push_parts(surface, norm, s, out);
        }
    }

    /// Emits the parts of the compound `surface` (at normalized byte `base`) as IPADIC alone
    /// segments it, when there are at least two content parts (国民健康保険 → 国民, 健康,
    /// 保険), like kuromoji's search mode.
    fn push_parts(&self, surface: &str, norm: &Normalized, base: usize, out: &mut Vec<Token>) {
        let Ok(parts) = self
            .parts_segmenter
            .segment(std::borrow::Cow::Borrowed(surface))
        else {
            return;
        };
        if parts.len() < 2 {
            return;
        }
        let whole = out.last().map(|t| t.term.clone());
        for mut p in parts {
            if content_pos(&p.details()).is_none() {
                continue;
            }
            let Some(term) = morph_term(&p.surface) else {
                continue;
            };
            if Some(&term) == whole.as_ref() || term.chars().count() < 2 {
                continue;
            }
            if let Some((start, end)) = norm.original_span(base + p.byte_start, base + p.byte_end) {
                out.push(Token {
                    term,
                    start,
                    end,
                    noun: true,
                });
            }
        }
    }

    /// Returns the bigram-field tokens of `text` (see the module docs).
    pub fn bigram_tokens(&self, text: &str) -> Vec<Token> {
        let text = truncate(text);
        bigram_tokens_normalized(&normalize(text))
    }

    /// Returns the unigram-field tokens of `text`: one token per ideograph.
    pub fn unigram_tokens(&self, text: &str) -> Vec<Token> {
        let text = truncate(text);
        unigram_tokens_normalized(&normalize(text))
    }
}

/// Returns the unigram-field tokens of normalized text: every ideograph (kanji) on its
/// own, with its original offsets. Kana and Latin carry little meaning alone and are left out.
pub fn unigram_tokens_normalized(norm: &Normalized) -> Vec<Token> {
    let mut out = Vec::new();
    let mut prev = None;
    for (i, c) in norm.text.char_indices() {
        let c = if c == '々' { prev.unwrap_or(c) } else { c };
        if !normalize::is_ideograph(c) || c == '々' {
            prev = None;
            continue;
        }
        prev = Some(c);
        if let Some((s, e)) = norm.original_span(i, i + c.len_utf8()) {
            out.push(Token {
                term: c.to_string(),
                start: s,
                end: e,
                noun: true,
            });
        }
    }
    out
}

/// Returns the part of speech (`品詞`, the first of a token's IPADIC details), or `None`
/// when its `品詞,細分類1,細分類2,細分類3` starts with a stop tag. Compared detail by detail
/// (IPADIC details hold no comma), without joining them: this runs for every word indexed.
fn content_pos<'a>(details: &[&'a str]) -> Option<&'a str> {
    static PARTS: std::sync::OnceLock<Vec<Vec<&'static str>>> = std::sync::OnceLock::new();
    let prefixes = PARTS.get_or_init(|| {
        STOP_TAG_PREFIXES
            .iter()
            .map(|p| p.split(',').collect())
            .collect()
    });
    let stop = prefixes.iter().any(|parts| {
        parts.iter().enumerate().all(|(i, part)| {
            let d = details.get(i).filter(|_| i < 4);
            if i + 1 == parts.len() {
                d.is_some_and(|d| d.starts_with(part))
            } else {
                d.is_some_and(|d| d == part)
            }
        })
    });
    (!stop).then(|| details.first().copied().unwrap_or(""))
}

fn truncate(text: &str) -> &str {
    if text.len() <= MAX_ANALYZED_BYTES {
        return text;
    }
    let mut end = MAX_ANALYZED_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Splits `text` into pieces of at most ~8 KiB, cut after sentence ends or whitespace when
/// possible; returns each piece with its start byte.
fn chunks(text: &str) -> Vec<(usize, &str)> {
    const TARGET: usize = 8 * 1024;
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        if text.len() - start <= TARGET {
            out.push((start, &text[start..]));
            break;
        }
        let mut end = start + TARGET;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let window = &text[start..end];
        let cut = window
            .rfind(['。', '\n', ' ', '、', '．'])
            .map(|i| start + i + window[i..].chars().next().map_or(1, char::len_utf8))
            .filter(|&c| c > start)
            .unwrap_or(end);
        out.push((start, &text[start..cut]));
        start = cut;
    }
    out
}

/// Turns a base form into the indexed term: katakana folded to hiragana, a trailing long
/// vowel mark dropped from words of 4+ characters (kuromoji's katakana stemmer rule), pure
/// punctuation dropped.
fn morph_term(base: &str) -> Option<String> {
    let chars: Vec<char> = base.chars().collect();
    if !chars.iter().any(|c| c.is_alphanumeric()) {
        return None;
    }
    let mut end = chars.len();
    if chars.len() >= 4 && chars[end - 1] == 'ー' {
        end -= 1;
    }
    Some(
        chars[..end]
            .iter()
            .map(|&c| katakana_to_hiragana(c))
            .collect(),
    )
}

#[derive(PartialEq, Clone, Copy)]
enum Class {
    Cjk,
    Word,
    Other,
}

fn class(c: char) -> Class {
    if is_ideograph(c) || is_kana(c) {
        Class::Cjk
    } else if c.is_alphanumeric() {
        Class::Word
    } else {
        Class::Other
    }
}

/// Returns the bigram-field tokens of normalized text.
pub fn bigram_tokens_normalized(norm: &Normalized) -> Vec<Token> {
    let mut out = Vec::new();
    // (folded char, normalized byte start, normalized byte end)
    let mut run: Vec<(char, usize, usize)> = Vec::new();
    let mut run_class = Class::Other;
    let flush = |run: &mut Vec<(char, usize, usize)>, cls: Class, out: &mut Vec<Token>| {
        if run.is_empty() {
            return;
        }
        let span = |a: usize, b: usize| norm.original_span(run[a].1, run[b].2);
        match cls {
            Class::Cjk if run.len() == 1 => {
                if let Some((s, e)) = span(0, 0) {
                    out.push(Token {
                        noun: true,
                        term: run[0].0.to_string(),
                        start: s,
                        end: e,
                    });
                }
            }
            Class::Cjk => {
                for i in 0..run.len() - 1 {
                    if let Some((s, e)) = span(i, i + 1) {
                        let mut term = String::with_capacity(8);
                        term.push(run[i].0);
                        term.push(run[i + 1].0);
                        out.push(Token {
                            term,
                            start: s,
                            end: e,
                            noun: true,
                        });
                    }
                }
            }
            Class::Word => {
                if let Some((s, e)) = span(0, run.len() - 1) {
                    out.push(Token {
                        noun: true,
                        term: run.iter().map(|r| r.0).collect(),
                        start: s,
                        end: e,
                    });
                }
            }
            Class::Other => {}
        }
        run.clear();
    };
    let text = &norm.text;
    for (i, c) in text.char_indices() {
        let cls = class(c);
        if cls != run_class {
            flush(&mut run, run_class, &mut out);
            run_class = cls;
        }
        if cls == Class::Other {
            continue;
        }
        let end = i + c.len_utf8();
        match c {
            // The long-vowel mark is dropped (メール ~ メル, サーバー ~ サーバ).
            'ー' => {
                if let Some(last) = run.last_mut() {
                    last.2 = end;
                }
            }
            // The iteration mark repeats the previous ideograph (時々 → 時時).
            '々' => {
                let prev = run.last().map_or('々', |r| r.0);
                run.push((prev, i, end));
            }
            _ => run.push((katakana_to_hiragana(c), i, end)),
        }
        if run.len() > 4096 && cls == Class::Word {
            // An absurdly long "word" (base64, a hash): cut it.
            flush(&mut run, run_class, &mut out);
        }
    }
    flush(&mut run, run_class, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bigrams_fold_kana_and_long_vowels() {
        let toks = bigram_tokens_normalized(&normalize("マイナンバーカード"));
        let terms: Vec<&str> = toks.iter().map(|t| t.term.as_str()).collect();
        assert_eq!(terms, ["まい", "いな", "なん", "んば", "ばか", "かど"]);
        let hira = bigram_tokens_normalized(&normalize("まいなんばーかーど"));
        let hterms: Vec<&str> = hira.iter().map(|t| t.term.as_str()).collect();
        assert_eq!(terms, hterms);
    }

    #[test]
    fn bigram_offsets_point_into_original() {
        let src = "羽田空港 ＡＢＣ";
        let toks = bigram_tokens_normalized(&normalize(src));
        assert_eq!(toks[0].term, "羽田");
        assert_eq!((toks[0].start, toks[0].end), (0, 6));
        assert_eq!((toks[2].start, toks[2].end), (6, 12));
        let abc = toks.iter().find(|t| t.term == "abc").unwrap();
        assert_eq!(&src[abc.start..abc.end], "ＡＢＣ");
    }

    #[test]
    fn single_ideograph_is_a_unigram() {
        let toks = bigram_tokens_normalized(&normalize("税 の"));
        let terms: Vec<&str> = toks.iter().map(|t| t.term.as_str()).collect();
        assert_eq!(terms, ["税", "の"]);
    }

    #[test]
    fn unigrams_are_kanji_only_with_original_offsets() {
        let src = "時々髙橋さんのカード";
        let toks = unigram_tokens_normalized(&normalize(src));
        let terms: Vec<&str> = toks.iter().map(|t| t.term.as_str()).collect();
        assert_eq!(terms, ["時", "時", "高", "橋"]);
        assert_eq!(&src[toks[1].start..toks[1].end], "々");
        assert_eq!(&src[toks[2].start..toks[2].end], "髙");
    }

    #[test]
    fn morph_term_stems_katakana() {
        assert_eq!(morph_term("サーバー").as_deref(), Some("さーば"));
        assert_eq!(morph_term("カー").as_deref(), Some("かー"));
        assert_eq!(morph_term("。"), None);
    }

    #[test]
    fn chunks_cover_text_exactly() {
        let text = "あいうえお。".repeat(5000);
        let parts = chunks(&text);
        let joined: String = parts.iter().map(|p| p.1).collect();
        assert_eq!(joined, text);
        assert!(parts.iter().all(|p| p.1.len() <= 8 * 1024));
        assert!(parts.windows(2).all(|w| w[0].0 + w[0].1.len() == w[1].0));
    }
}
