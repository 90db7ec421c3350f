//! tantivy adapters: the streams of [`Analyzer`] as tantivy tokenizers, registered under
//! [`MORPH`], [`BIGRAM`], [`UNIGRAM`], [`READING`] and [`ABBREV`] by [`register`].
//!
//! tantivy tokenizes a document field by field on its indexing thread, and a material's title
//! (and its body) is the text of five fields. The first of them analyses the text once for all
//! five ([`Analyzer::field_tokens`]: one normalization, one lindera pass per dictionary) and
//! leaves the other streams in a small per-thread cache keyed by analyzer and text, from which
//! the next fields of the same document take them; each stream is handed out once, so a text
//! met again (the next material's identical title) is analysed again, never served stale.
//! The analysis therefore runs on tantivy's indexing threads, in parallel across documents.

use std::cell::RefCell;
use std::sync::Arc;

use tantivy::tokenizer::{Token as TToken, TokenStream, Tokenizer, TokenizerManager};

use super::{Analyzer, Token};

/// Name of the morphological tokenizer.
pub const MORPH: &str = "ja_morph";
/// Name of the character-bigram tokenizer.
pub const BIGRAM: &str = "ja_bigram";
/// Name of the ideograph-unigram tokenizer.
pub const UNIGRAM: &str = "ja_unigram";
/// Name of the reading-bigram tokenizer (see [`super::reading`]).
pub const READING: &str = "ja_reading";
/// Name of the abbreviation tokenizer (see [`super::abbrev`]).
pub const ABBREV: &str = "ja_abbrev";

#[derive(Clone, Copy)]
enum Stream {
    Morph = 0,
    Bigram = 1,
    Unigram = 2,
    Reading = 3,
    Abbrev = 4,
}

/// Texts whose unused streams one thread keeps (a document's title and body, with room).
const CACHED_TEXTS: usize = 4;

/// One analysed text whose streams are not all handed out yet.
struct Cached {
    analyzer: u64,
    text: String,
    /// Indexed by [`Stream`]; `None` once handed out.
    streams: [Option<Vec<Token>>; 5],
}

thread_local! {
    static CACHE: RefCell<Vec<Cached>> = const { RefCell::new(Vec::new()) };
}

/// Returns the `stream` tokens of `text`, from the cache when an analysis of the same text by
/// the same analyzer left them there, else from a new analysis of all streams (module docs).
fn field_stream(analyzer: &Analyzer, stream: Stream, text: &str) -> Vec<Token> {
    let i = stream as usize;
    CACHE.with_borrow_mut(|cache| {
        if let Some(at) = cache
            .iter()
            .position(|c| c.analyzer == analyzer.id && c.streams[i].is_some() && c.text == text)
        {
            let tokens = cache[at].streams[i].take().unwrap_or_default();
            if cache[at].streams.iter().all(Option::is_none) {
                cache.remove(at);
            }
            return tokens;
        }
        let f = analyzer.field_tokens(text);
        let mut streams = [
            Some(f.morph),
            Some(f.bigram),
            Some(f.unigram),
            Some(f.reading),
            Some(f.abbrev),
        ];
        let tokens = streams[i].take().unwrap_or_default();
        cache.insert(
            0,
            Cached {
                analyzer: analyzer.id,
                text: text.to_string(),
                streams,
            },
        );
        cache.truncate(CACHED_TEXTS);
        tokens
    })
}

/// A tantivy tokenizer over one of the analyzer's streams.
#[derive(Clone)]
pub struct JaTokenizer {
    analyzer: Arc<Analyzer>,
    stream: Stream,
}

/// The token stream of [`JaTokenizer`].
pub struct JaTokenStream {
    tokens: Vec<Token>,
    index: usize,
    current: TToken,
}

impl Tokenizer for JaTokenizer {
    type TokenStream<'a> = JaTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> JaTokenStream {
        let tokens = field_stream(&self.analyzer, self.stream, text);
        JaTokenStream {
            tokens,
            index: 0,
            current: TToken::default(),
        }
    }
}

impl TokenStream for JaTokenStream {
    fn advance(&mut self) -> bool {
        let Some(t) = self.tokens.get_mut(self.index) else {
            return false;
        };
        self.current = TToken {
            offset_from: t.start,
            offset_to: t.end,
            position: self.index,
            text: std::mem::take(&mut t.term),
            position_length: 1,
        };
        self.index += 1;
        true
    }

    fn token(&self) -> &TToken {
        &self.current
    }

    fn token_mut(&mut self) -> &mut TToken {
        &mut self.current
    }
}

/// Registers the `ja_morph`, `ja_bigram`, `ja_unigram`, `ja_reading` and `ja_abbrev`
/// tokenizers on
/// `manager`.
pub fn register(manager: &TokenizerManager, analyzer: Arc<Analyzer>) {
    manager.register(
        MORPH,
        JaTokenizer {
            analyzer: analyzer.clone(),
            stream: Stream::Morph,
        },
    );
    manager.register(
        BIGRAM,
        JaTokenizer {
            analyzer: analyzer.clone(),
            stream: Stream::Bigram,
        },
    );
    manager.register(
        UNIGRAM,
        JaTokenizer {
            analyzer: analyzer.clone(),
            stream: Stream::Unigram,
        },
    );
    manager.register(
        READING,
        JaTokenizer {
            analyzer: analyzer.clone(),
            stream: Stream::Reading,
        },
    );
    manager.register(
        ABBREV,
        JaTokenizer {
            analyzer,
            stream: Stream::Abbrev,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    type Tok = (String, usize, usize, usize);

    fn collect(t: &mut JaTokenizer, text: &str) -> Vec<Tok> {
        let mut s = t.token_stream(text);
        let mut out = Vec::new();
        while s.advance() {
            let k = s.token();
            out.push((k.text.clone(), k.position, k.offset_from, k.offset_to));
        }
        out
    }

    fn numbered(tokens: Vec<Token>) -> Vec<Tok> {
        tokens
            .into_iter()
            .enumerate()
            .map(|(i, t)| (t.term, i, t.start, t.end))
            .collect()
    }

    /// Documents as tantivy indexes them (field by field: every stream of the title, then of
    /// the body, interleaved), with a title repeated from one document to the next and a
    /// document whose title is its body: every field gets the per-field method's tokens.
    #[test]
    fn shared_analysis_gives_every_field_its_own_tokens() {
        let a = Arc::new(Analyzer::builtin().expect("IPADIC"));
        let streams = [
            Stream::Morph,
            Stream::Bigram,
            Stream::Unigram,
            Stream::Reading,
            Stream::Abbrev,
        ];
        let mut tokenizers = streams.map(|stream| JaTokenizer {
            analyzer: a.clone(),
            stream,
        });
        let docs = [
            (
                "国民健康保険の届出",
                "転入したときは14日以内に届け出てください。",
            ),
            (
                "国民健康保険の届出",
                "児童扶養手当と生活保護。マイナンバーカード",
            ),
            ("住民票の写し", "住民票の写し"),
            ("", "印鑑登録証明書の交付"),
        ];
        for (title, body) in docs {
            for (i, t) in tokenizers.iter_mut().enumerate() {
                for text in [title, body] {
                    let want = numbered(match streams[i] {
                        Stream::Morph => a.morph_tokens(text),
                        Stream::Bigram => a.bigram_tokens(text),
                        Stream::Unigram => a.unigram_tokens(text),
                        Stream::Reading => a.reading_tokens(text),
                        Stream::Abbrev => a.abbreviation_tokens(text),
                    });
                    assert_eq!(collect(t, text), want, "stream {i} of {text:?}");
                }
            }
        }
        // Every stream handed out: nothing of these documents stays cached.
        CACHE.with_borrow(|c| assert!(c.iter().all(|e| e.analyzer != a.id)));
    }
}
