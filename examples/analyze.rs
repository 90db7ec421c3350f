//! Prints the morph and bigram tokens of each argument (or of stdin lines).
//!
//! `cargo run --example analyze -- "国民年金の免除申請に必要な持ち物は？"`

use std::io::BufRead;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let analyzer = kotae::analysis::Analyzer::builtin()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let lines: Vec<String> = if args.is_empty() {
        std::io::stdin()
            .lock()
            .lines()
            .map_while(Result::ok)
            .collect()
    } else {
        args
    };
    for text in lines {
        let morph: Vec<String> = analyzer
            .morph_tokens(&text)
            .into_iter()
            .map(|t| format!("{}[{}..{}]", t.term, t.start, t.end))
            .collect();
        println!("{text}\n  morph: {}", morph.join(" "));
        let syn = analyzer.synonyms();
        let alts: Vec<&str> = syn
            .expand(&kotae::analysis::normalize(&text).text)
            .iter()
            .map(|t| t.text.as_str())
            .collect();
        if !alts.is_empty() {
            println!("  synonyms: {}", alts.join(", "));
        }
    }
    Ok(())
}
