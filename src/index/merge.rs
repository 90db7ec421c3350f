//! Merging a rebuilt index down to a few segments.
//!
//! A rebuild leaves one segment each time an indexing thread fills its share of
//! [`super::WRITER_MEMORY_BYTES`]. A query looks each of its terms up in every segment's term
//! dictionary and runs its top-k pass (MaxScore) per segment, so every extra segment costs
//! every query; [`MaterialIndex::merge_rebuilt`] therefore merges the segments of a rebuild of
//! more than [`super::COMPACT_MAX_DOCS`] documents into [`REBUILD_SEGMENTS`] segments of about
//! equal size before the rebuild returns (smaller rebuilds become one segment,
//! [`MaterialIndex::compact`]). The merges run at the same time on tantivy's merge threads, one
//! per core, so the merge costs about the wall time of merging one group.

use tantivy::IndexWriter;
use tantivy::index::SegmentId;

use super::{COMPACT_MAX_DOCS, IndexError, MaterialIndex};

/// Number of segments a rebuilt index of more than [`COMPACT_MAX_DOCS`] documents is merged
/// into: one per core of the 2-core machines kotae is sized for, so that the merges run in
/// parallel. Measured at 10^5 synthetic pages (README, "Indexing"): one segment instead of
/// two saves little per query, and merging into one runs on one core only.
pub const REBUILD_SEGMENTS: usize = 2;

/// Splits `segments` (`(id, documents)`) into at most `k` groups of about equal document
/// counts: largest first, each into the group with the fewest documents so far (the LPT
/// rule). Empty groups are left out; the result is deterministic for a given input order.
pub fn balanced_groups<T: Copy>(segments: &[(T, u64)], k: usize) -> Vec<Vec<T>> {
    let k = k.max(1).min(segments.len());
    let mut order: Vec<usize> = (0..segments.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(segments[i].1), i));
    let mut groups: Vec<(u64, Vec<T>)> = vec![(0, Vec::new()); k];
    for i in order {
        let g = (0..k)
            .min_by_key(|&g| (groups[g].0, g))
            .expect("at least one group");
        groups[g].0 += segments[i].1;
        groups[g].1.push(segments[i].0);
    }
    groups
        .into_iter()
        .map(|(_, ids)| ids)
        .filter(|ids| !ids.is_empty())
        .collect()
}

impl MaterialIndex {
    /// Merges the committed segments of a rebuild of more than [`COMPACT_MAX_DOCS`]
    /// documents into [`REBUILD_SEGMENTS`] (module docs), waits for the merges and reloads
    /// the reader. A merge that fails only costs speed: it is logged and counted
    /// ([`MaterialIndex::failed_merges`]), the index stays searchable with the segments it had.
    pub(super) fn merge_rebuilt(&self, w: &mut IndexWriter) {
        let metas = match self.index.searchable_segment_metas() {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list segments to merge");
                return;
            }
        };
        let docs: u64 = metas.iter().map(|m| u64::from(m.num_docs())).sum();
        if docs > COMPACT_MAX_DOCS {
            self.merge_into(w, metas, REBUILD_SEGMENTS);
        }
    }

    /// Merges the index into at most `k` segments of about equal size (the merge of a
    /// rebuild, for any `k`: measuring query cost against segment count,
    /// `examples/merge_segments.rs`) and returns the number of segments searched now.
    ///
    /// # Errors
    /// [`IndexError`] when the index is read-only or its segments cannot be listed; a merge
    /// that fails is counted in [`MaterialIndex::failed_merges`].
    pub fn merge_segments(&self, k: usize) -> Result<usize, IndexError> {
        let mut w = self.writer()?;
        self.wait_for_merge();
        let metas = self.index.searchable_segment_metas()?;
        self.merge_into(&mut w, metas, k);
        drop(w);
        self.warm();
        Ok(self.reader.searcher().segment_readers().len())
    }

    /// Merges the segments `metas` into at most `k` of about equal size, in parallel, waits
    /// for the merges and reloads the reader (see [`MaterialIndex::merge_rebuilt`]).
    /// The metas are dropped before the merged segments' files are deleted (tantivy keeps the
    /// files of every segment whose meta is alive).
    fn merge_into(&self, w: &mut IndexWriter, metas: Vec<tantivy::index::SegmentMeta>, k: usize) {
        if metas.len() <= k {
            return;
        }
        let docs: u64 = metas.iter().map(|m| u64::from(m.num_docs())).sum();
        let segments: Vec<(SegmentId, u64)> = metas
            .iter()
            .map(|m| (m.id(), u64::from(m.num_docs())))
            .collect();
        drop(metas);
        let started = std::time::Instant::now();
        let merges: Vec<_> = balanced_groups(&segments, k)
            .into_iter()
            .filter(|g| g.len() >= 2)
            .map(|g| w.merge(&g))
            .collect();
        for merge in merges {
            if let Err(e) = merge.wait() {
                self.failed_merges
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(error = %e, "segment merge of the rebuild not done");
            }
        }
        if let Err(e) = self.reader.reload() {
            tracing::warn!(error = %e, "reader reload after the rebuild's merge failed");
        }
        // The merged segments' files (as large as the index) are not deleted by the merge.
        if let Err(e) = w.garbage_collect_files().wait() {
            tracing::warn!(error = %e, "cannot delete the merged segments' files");
        }
        tracing::info!(
            segments_before = segments.len(),
            segments = self.reader.searcher().segment_readers().len(),
            documents = docs,
            seconds = started.elapsed().as_secs_f64(),
            "rebuilt index merged"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_balanced_and_cover_every_segment() {
        let segs = [(0, 10), (1, 50), (2, 30), (3, 30), (4, 20), (5, 40)];
        let groups = balanced_groups(&segs, 2);
        assert_eq!(groups.len(), 2);
        let sum = |g: &Vec<i32>| g.iter().map(|&i| segs[i as usize].1).sum::<u64>();
        let (a, b) = (sum(&groups[0]), sum(&groups[1]));
        assert_eq!(a + b, 180);
        assert_eq!(a.abs_diff(b), 0, "{groups:?}");
        let mut all: Vec<i32> = groups.concat();
        all.sort_unstable();
        assert_eq!(all, [0, 1, 2, 3, 4, 5]);
    }

    /// An index of five committed segments merged into two: every document is still found,
    /// and the searcher sees two segments.
    #[test]
    fn merged_index_keeps_every_document() {
        let analyzer = std::sync::Arc::new(crate::analysis::Analyzer::builtin().expect("IPADIC"));
        let (index, _) = MaterialIndex::open(None, analyzer).expect("index");
        let updated = chrono::DateTime::parse_from_rfc3339("2026-04-01T09:00:00+09:00").unwrap();
        let faq = |i: usize| {
            let mut m = crate::material::Material::new(
                crate::material::MaterialKind::Faq,
                "t",
                format!("q{i}"),
                updated,
            );
            m.question = Some(format!("粗大ごみの出し方 その{i}"));
            m.answer = Some(format!("第{i}水曜日に出してください。"));
            m
        };
        for batch in 0..5 {
            let ms: Vec<_> = (batch * 3..batch * 3 + 3).map(faq).collect();
            index.apply(&ms, &[]).expect("apply");
            // apply compacts an index this small into one segment; wait so that the next
            // batch adds a segment of its own.
            index.wait_for_merge();
        }
        let mut w = index.writer().expect("writer");
        w.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        for i in 15..20 {
            w.add_document(index.document(&faq(i))).expect("add");
            w.commit().expect("commit");
        }
        index.reader.reload().expect("reload");
        let metas = index.index.searchable_segment_metas().expect("metas");
        assert!(metas.len() >= 5, "{} segments", metas.len());
        index.merge_into(&mut w, metas, 2);
        let searcher = index.reader.searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        assert_eq!(searcher.num_docs(), 20);
        for i in 0..20 {
            let term = tantivy::Term::from_field_text(index.fields.id, &faq(i).id);
            let q = tantivy::query::TermQuery::new(term, tantivy::schema::IndexRecordOption::Basic);
            let n = searcher
                .search(&q, &tantivy::collector::Count)
                .expect("search");
            assert_eq!(n, 1, "q{i}");
        }
        assert_eq!(index.failed_merges(), 0);
        drop(w);
        // The merged segments' files are gone (an in-memory directory lists its files too).
        let files = index.index.directory().list_managed_files();
        let idx = files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "idx"));
        assert_eq!(idx.count(), 2, "{files:?}");
    }

    #[test]
    fn fewer_segments_than_groups() {
        assert_eq!(balanced_groups(&[(7, 3)], 2), vec![vec![7]]);
        assert!(balanced_groups::<u8>(&[], 2).is_empty());
        assert_eq!(balanced_groups(&[(1, 5), (2, 5), (3, 5)], 1).len(), 1);
    }
}
