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
