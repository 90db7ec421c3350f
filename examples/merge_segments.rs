//! Merges a built index into K segments, to measure query cost against segment count
//! (`examples/scale_cost.rs` on copies of one index merged to different K).
//!
//! ```text
//! cargo run --release --example merge_segments -- DATA_DIR K
//!   DATA_DIR  a kotae data directory with a built index in DATA_DIR/index (generation 0,
//!             as the first `kotae index --rebuild` of a new data directory leaves it); not
//!             in use by a running `kotae serve`
//!   K         segments to merge into (at least 1)
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use kotae::index::MaterialIndex;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(k)) = (args.get(1), args.get(2)) else {
        anyhow::bail!("usage: merge_segments DATA_DIR K");
    };
    let k: usize = k.parse()?;
    anyhow::ensure!(k >= 1, "K must be at least 1");
    let dir = PathBuf::from(dir);
    let analyzer = Arc::new(kotae::analysis::Analyzer::load(&dir.join("dictionaries"))?);
    let (index, created) = MaterialIndex::open(Some(&dir.join("index")), analyzer)?;
    anyhow::ensure!(!created, "no index in {}", dir.display());
    let before = index.reader().searcher().segment_readers().len();
    let t = Instant::now();
    let after = index.merge_segments(k)?;
    println!(
        "{} documents: {before} segment(s) -> {after} in {:.1} s ({} failed merges)",
        index.num_docs(),
        t.elapsed().as_secs_f64(),
        index.failed_merges()
    );
    Ok(())
}
