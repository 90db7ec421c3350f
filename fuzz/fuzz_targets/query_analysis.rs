//! The query parser and the analyzers on arbitrary text: normalisation (with its span map),
//! the morphological, bigram and unigram tokenizers, and the query analysis a search
//! builds. None may panic, and every token's span must lie inside the input on character
//! boundaries (snippets and highlights slice the original text with them).
#![no_main]

use std::sync::LazyLock;

use kotae::analysis::Analyzer;
use kotae::search::{QueryAnalysis, SearchRequest};
use libfuzzer_sys::fuzz_target;

static ANALYZER: LazyLock<Analyzer> =
    LazyLock::new(|| Analyzer::builtin().expect("the built-in IPADIC loads"));

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let a = &*ANALYZER;
    for tokens in [
        a.morph_tokens(text),
        a.bigram_tokens(text),
        a.unigram_tokens(text),
    ] {
        for t in tokens {
            assert!(t.start <= t.end && t.end <= text.len(), "{t:?} in {text:?}");
            assert!(text.is_char_boundary(t.start) && text.is_char_boundary(t.end));
        }
    }
    let req = SearchRequest::new(text);
    if req.validate().is_ok() {
        let _ = QueryAnalysis::new(a, text);
    }
});
