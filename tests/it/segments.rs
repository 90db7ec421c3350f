//! Index merges under rapid changes (issue 11 §4): many small commits in a row (promotions,
//! CMS upserts replacing the same materials) must leave no failed merge and no segment
//! files beyond the live segments'.

use std::collections::HashSet;

use kotae::index::MaterialIndex;
use kotae::material::{Material, MaterialKind};

fn faq(n: usize, version: usize) -> Material {
    let at = chrono::DateTime::parse_from_rfc3339("2026-04-01T09:00:00+09:00").unwrap();
    let mut m = Material::new(MaterialKind::Faq, "promoted", format!("q{n}"), at);
    m.title = format!("国民健康保険の手続き その{n}");
    m.question = Some(format!("国民健康保険の手続き その{n} 版{version}"));
    m.answer = Some(format!("窓口で届け出てください（{version}回目の改訂）。"));
    m
}

/// Segment ids named by the files of `dir` (tantivy names a segment's files `<uuid>.<ext>`,
/// with a 32-hex-digit uuid).
fn segment_files(dir: &std::path::Path) -> HashSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            let stem = name.split('.').next()?.to_string();
            (stem.len() == 32 && stem.bytes().all(|b| b.is_ascii_hexdigit())).then_some(stem)
        })
        .collect()
}

#[test]
fn rapid_changes_leave_no_orphan_segment_files_and_no_failed_merge() {
    let dir = tempfile::tempdir().unwrap();
    let (index, created) =
        MaterialIndex::open(Some(dir.path()), crate::common::analyzer()).unwrap();
    assert!(created);
    // 30 commits: new materials and new versions of the same ones, so that whole segments
    // become deleted while merges of them run.
    for i in 0..30 {
        let batch: Vec<Material> = (0..3).map(|k| faq((i * 3 + k) % 10, i)).collect();
        index.apply(&batch, &[]).unwrap();
    }
    index.wait_for_merge();
    assert_eq!(index.failed_merges(), 0);
    assert_eq!(index.num_docs(), 10);
    let live: HashSet<String> = index
        .index()
        .searchable_segment_ids()
        .unwrap()
        .iter()
        .map(|id| id.uuid_string())
        .collect();
    assert_eq!(live.len(), 1, "compacted to one segment");
    // While serving, tantivy's garbage collection after each merge has removed the rest.
    assert_eq!(
        segment_files(dir.path()),
        live,
        "files of dead segments left"
    );
    drop(index);
    // Reopened, the directory holds only the live segment's files.
    let (index, created) =
        MaterialIndex::open(Some(dir.path()), crate::common::analyzer()).unwrap();
    assert!(!created);
    assert_eq!(index.num_docs(), 10);
    let files = segment_files(dir.path());
    assert_eq!(files, live, "files of dead segments left");
}

/// The live generation's index directory of `data_dir` (`index/` for generation 0, else
/// `index/gen-<n>/`, as named by `index/CURRENT`).
fn live_index_dir(data_dir: &std::path::Path, generation: u64) -> std::path::PathBuf {
    let root = data_dir.join("index");
    if generation == 0 {
        root
    } else {
        root.join(format!("gen-{generation}"))
    }
}

#[test]
fn concurrent_promotions_and_cms_upserts_through_the_engine_leave_only_live_segments() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let dir = tempfile::tempdir().unwrap();
    let opts = kotae::engine::EngineOptions::new(dir.path());
    let engine =
        Arc::new(kotae::engine::Engine::open_with(&opts, crate::common::analyzer()).unwrap());
    let before = engine.materials().len();
    let stop = Arc::new(AtomicBool::new(false));
    // Searches run throughout, holding searchers on the segments being merged away.
    let searcher = {
        let (engine, stop) = (engine.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let r = engine.search(&kotae::search::SearchRequest::new("国民健康保険 手続き"));
                assert!(r.is_ok(), "{r:?}");
                n += 1;
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            n
        })
    };
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let engine = engine.clone();
            std::thread::spawn(move || {
                for i in 0..12 {
                    if t % 2 == 0 {
                        // A promotion: a new material in the promoted collection.
                        let mut m = faq(100 + t * 100 + i, i);
                        m.source = "promoted".into();
                        engine.upsert("promoted", vec![m]).unwrap();
                    } else {
                        // A CMS page re-published: the same five materials replaced, one
                        // dropped and re-added, so whole segments become deleted.
                        let mut page: Vec<Material> = (0..5).map(|k| faq(t * 10 + k, i)).collect();
                        for m in &mut page {
                            m.ensure_id();
                        }
                        let gone = vec![page.remove(i % 5).id];
                        engine
                            .apply("crawl/www.example.lg.jp", page, &gone)
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    assert!(searcher.join().unwrap() > 0);
    let index = engine.index();
    index.wait_for_merge();
    assert_eq!(index.failed_merges(), 0, "segment merge not done");
    // 24 promotions and two pages of four (each apply's removed material is gone).
    assert_eq!(engine.materials().len(), before + 24 + 8);
    let live: HashSet<String> = index
        .index()
        .searchable_segment_ids()
        .unwrap()
        .iter()
        .map(|id| id.uuid_string())
        .collect();
    let generation = engine.generation();
    let files = segment_files(&live_index_dir(dir.path(), generation));
    assert_eq!(files, live, "files of dead segments left while serving");
    drop(index);
    drop(engine);
    let engine = kotae::engine::Engine::open_with(&opts, crate::common::analyzer()).unwrap();
    let index = engine.index();
    let live: HashSet<String> = index
        .index()
        .searchable_segment_ids()
        .unwrap()
        .iter()
        .map(|id| id.uuid_string())
        .collect();
    assert_eq!(
        segment_files(&live_index_dir(dir.path(), engine.generation())),
        live,
        "files of dead segments left after reopening"
    );
}
