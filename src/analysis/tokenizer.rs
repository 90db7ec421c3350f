//! tantivy adapters: the morph and bigram streams of [`Analyzer`] as tantivy tokenizers,
//! registered under [`MORPH`] and [`BIGRAM`] by [`register`].

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
    Morph,
    Bigram,
    Unigram,
    Reading,
    Abbrev,
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
        let tokens = match self.stream {
            Stream::Morph => self.analyzer.morph_tokens(text),
            Stream::Bigram => self.analyzer.bigram_tokens(text),
            Stream::Unigram => self.analyzer.unigram_tokens(text),
            Stream::Reading => self.analyzer.reading_tokens(text),
            Stream::Abbrev => self.analyzer.abbreviation_tokens(text),
        };
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
