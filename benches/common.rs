//! Bench data: the localgovFAQ set when `../shared/data/localgovfaq` exists, else the built-in
//! default corpus with its own questions as queries.

use std::path::PathBuf;
use std::sync::Arc;

use kotae::analysis::Analyzer;
use kotae::material::Material;

/// Materials, queries and a label naming the data set.
pub struct BenchData {
    /// The materials to index.
    pub materials: Vec<Material>,
    /// The queries (unused by the throughput bench).
    #[allow(dead_code)]
    pub queries: Vec<String>,
    /// Which data set.
    pub label: &'static str,
}

/// Loads the bench data.
pub fn load() -> BenchData {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let lg = root.join("../shared/data/localgovfaq");
    if lg.join("corpus.json").exists() {
        let materials = kotae::eval::load_localgov_corpus(&lg.join("corpus.json")).expect("corpus");
        let queries = kotae::eval::read_queries(&lg.join("queries.json"))
            .expect("queries")
            .into_iter()
            .map(|q| q.1)
            .collect();
        return BenchData {
            materials,
            queries,
            label: "localgovFAQ",
        };
    }
    eprintln!("../shared/data/localgovfaq absent: using the built-in default corpus");
    let corpus = kotae::corpus::Corpus::open(root.join("corpus")).expect("corpus dir");
    let materials = corpus.load_all().expect("default corpus");
    let queries = materials
        .iter()
        .filter_map(|m| m.question.clone())
        .collect();
    BenchData {
        materials,
        queries,
        label: "default corpus",
    }
}

/// Returns the analyzer with the built-in dictionaries (unused by the rebuild bench).
#[allow(dead_code)]
pub fn analyzer() -> Arc<Analyzer> {
    Arc::new(Analyzer::builtin().expect("analyzer"))
}
