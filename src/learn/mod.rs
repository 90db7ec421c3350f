//! Learning from answered inquiries (issue 13 §3): document expansion from the search log.
//!
//! When an inquiry is recorded `answered` with `material_ids` and a `query_id`, the search's
//! query — as the search log holds it, already redacted — becomes evidence for those
//! materials; a published promotion's question does the same for its new material. The
//! evidence is stored per material in the statistics store ([`crate::stats::learned`],
//! migration `0008_learned.sql`), so it survives restarts and index rebuilds, and is
//! served as the learned group of the ranking ([`crate::search::learned`]), swapped into the
//! engine by [`Learner::refresh`] about a second after a change ([`REFRESH_INTERVAL`]):
//! no restart, no reindex.
//!
//! # Policy
//! - **Nothing personal**: a query is learned only if it holds no redaction placeholder,
//!   redacting it again changes nothing, and the redactor's review flags
//!   ([`crate::stats::redact::flags`]: long digit runs) find nothing ([`learnable`]).
//! - **Repeats** of one query (same [`crate::stats::gaps::query_key`]) add to its count and
//!   weight rather than to the number of queries.
//! - **Cap**: at most [`MAX_QUERIES_PER_MATERIAL`] (32) queries per material, those of the
//!   highest decayed weight. 32 distinct phrasings are far more than an FAQ answer's real
//!   variety, and the cap bounds the side index at 32 × the materials.
//! - **Decay**: weights halve every [`HALF_LIFE_DAYS`] (180 days). An inquiry center's
//!   topics are seasonal (tax in February–March, moving in March–April, 年度 changes in
//!   April): with 180 days last year's season still counts a quarter when it comes round
//!   again, while this year's evidence outweighs it; a query whose weight fell below
//!   [`MIN_WEIGHT`] (about 2.2 years without a repeat) is deleted.
//! - **Text changes**: each material's text fingerprint (a content hash and a 64-value
//!   MinHash of its character 3-shingles) is stored with its evidence. When the material's
//!   text changes, the estimated Jaccard similarity of the old and new shingle sets decides:
//!   below [`MIN_SIMILARITY`] (0.5: a rewritten answer; a corrected phone number, date or
//!   fee keeps ≥ 0.8) the material's learned queries are dropped, else the fingerprint is
//!   updated to the new text. A material that is gone loses its learned queries too.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::engine::Engine;
use crate::material::Material;
use crate::search::learned::{LearnedDoc, LearnedIndex, LearnedParams};
use crate::stats::learned::{TextPrint, decayed};
use crate::stats::{StatsError, Store};

/// Most learned queries kept per material.
pub const MAX_QUERIES_PER_MATERIAL: usize = 32;
/// Half-life of a learned query's weight, days.
pub const HALF_LIFE_DAYS: f64 = 180.0;
/// Learned queries whose decayed weight is below this are deleted.
pub const MIN_WEIGHT: f64 = 0.05;
/// Least estimated Jaccard similarity of a material's old and new text that keeps its
/// learned queries.
pub const MIN_SIMILARITY: f64 = 0.5;
/// Longest learned query, characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// How often the learner looks for new evidence and changed materials.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(1);
/// The side index is rebuilt at least this often (decay moves on).
const REBUILD_EVERY: Duration = Duration::from_secs(600);
/// MinHash values per fingerprint.
const SIGNATURE_HASHES: usize = 64;

fn half_life_ms() -> f64 {
    HALF_LIFE_DAYS * 86_400_000.0
}

/// `[learn]` of the configuration file.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnConfig {
    /// Learn from answered inquiries at all (default true).
    pub enabled: Option<bool>,
    /// Multiplier of the learned group's score (default [`LearnedParams::default`]'s).
    pub weight: Option<f32>,
    /// The learned group's k1 (default [`LearnedParams::default`]'s).
    pub k1: Option<f32>,
    /// The learned group's b in [0, 1] (default [`LearnedParams::default`]'s).
    pub b: Option<f32>,
    /// Least share of the query's idf mass a material's learned queries must hold, in
    /// [0, 1] (default [`LearnedParams::default`]'s).
    pub min_coverage: Option<f32>,
    /// Least similarity of a learned query to the typed one, in [0, 1] (default
    /// [`LearnedParams::default`]'s; see [`crate::search::learned`]).
    pub min_similarity: Option<f32>,
    /// Multiplier of a learned term a material's own text already holds, in [0, 1]
    /// (default [`LearnedParams::default`]'s).
    pub content_overlap: Option<f32>,
}

impl LearnConfig {
    /// The learned group's parameters.
    pub fn params(&self) -> LearnedParams {
        let mut p = LearnedParams::default();
        let ok = |v: &f32| v.is_finite() && *v >= 0.0;
        let unit = |v: &f32| (0.0..=1.0).contains(v);
        if let Some(v) = self.weight.filter(ok) {
            p.weight = v;
        }
        if let Some(v) = self.k1.filter(ok) {
            p.k1 = v;
        }
        if let Some(v) = self.b.filter(unit) {
            p.b = v;
        }
        if let Some(v) = self.min_coverage.filter(unit) {
            p.min_coverage = v;
        }
        if let Some(v) = self.min_similarity.filter(unit) {
            p.min_similarity = v;
        }
        if let Some(v) = self.content_overlap.filter(unit) {
            p.content_overlap = v;
        }
        p
    }
}

/// Whether `query` (as the search log holds it) may be learned: not empty, at most
/// [`MAX_QUERY_CHARS`], no redaction placeholder, unchanged by the redactor, and no review
/// flag (see the module docs).
pub fn learnable(query: &str) -> bool {
    let q = query.trim();
    !q.is_empty()
        && q.chars().count() <= MAX_QUERY_CHARS
        && !crate::stats::redact::TOKENS.iter().any(|t| q.contains(t))
        && crate::stats::redact::redact(q) == q
        && crate::stats::redact::flags::flags(q).is_empty()
}

/// The text a material's fingerprint covers: its title and body, normalised.
fn material_text(m: &Material) -> String {
    let t = format!("{}\n{}", m.title_text(), m.body_text());
    crate::analysis::normalize(&t).text
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The fingerprint of `text`: SHA-256 (hex, 32 digits) and a MinHash of its character
/// 3-shingles (Broder, "On the resemblance and containment of documents", 1997).
pub fn text_print_of(text: &str) -> TextPrint {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut mins = [u32::MAX; SIGNATURE_HASHES];
    let width = 3.min(chars.len().max(1));
    for w in chars.windows(width) {
        // FNV-1a over the shingle, then one mix per MinHash function.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for c in w {
            h ^= u64::from(*c);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for (i, m) in mins.iter_mut().enumerate() {
            let v = (splitmix(h ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407)) >> 32) as u32;
            *m = (*m).min(v);
        }
    }
    let digest = Sha256::digest(text.as_bytes());
    TextPrint {
        content_hash: hex::encode(&digest[..16]),
        signature: mins.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

/// The fingerprint of material `m`'s text.
pub fn text_print(m: &Material) -> TextPrint {
    text_print_of(&material_text(m))
}

/// Estimated Jaccard similarity of the shingle sets behind two fingerprints (1 for equal
/// hashes; the share of equal MinHash values otherwise).
pub fn similarity(a: &TextPrint, b: &TextPrint) -> f64 {
    if a.content_hash == b.content_hash {
        return 1.0;
    }
    if a.signature.len() != b.signature.len() || a.signature.is_empty() {
        return 0.0;
    }
    let n = a.signature.len() / 4;
    let same = a
        .signature
        .chunks(4)
        .zip(b.signature.chunks(4))
        .filter(|(x, y)| x == y)
        .count();
    same as f64 / n as f64
}

/// What one [`Learner::refresh`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refreshed {
    /// Materials with learned queries now served.
    pub materials: usize,
    /// Learned queries now served.
    pub queries: usize,
    /// Materials whose learned queries were dropped (text changed substantially, or gone).
    pub dropped: usize,
    /// Learned queries deleted because their weight decayed below [`MIN_WEIGHT`].
    pub pruned: usize,
}

type MaterialTable = Arc<HashMap<String, Arc<Material>>>;

/// Records evidence and keeps the engine's learned side index in line with it.
pub struct Learner {
    store: Arc<Store>,
    engine: Arc<Engine>,
    params: LearnedParams,
    dirty: AtomicBool,
    /// The material table and analyzer the served index was built against.
    seen: Mutex<
        Option<(
            MaterialTable,
            Arc<crate::analysis::Analyzer>,
            std::time::Instant,
        )>,
    >,
    /// Morph terms of the learned queries, for the analyzer in `seen` (a refresh analyses
    /// only the queries it has not seen).
    terms: Mutex<HashMap<String, Arc<[String]>>>,
}

impl std::fmt::Debug for Learner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Learner")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Learner {
    /// A learner over `store` feeding `engine` with the learned group's `params`.
    pub fn new(store: Arc<Store>, engine: Arc<Engine>, params: LearnedParams) -> Arc<Self> {
        Arc::new(Self {
            store,
            engine,
            params,
            dirty: AtomicBool::new(true),
            seen: Mutex::new(None),
            terms: Mutex::new(HashMap::new()),
        })
    }

    /// Records `query` as evidence for the `material_ids` that exist, at `now`; returns
    /// whether it was learned (false: not [`learnable`], or no such material). Takes effect
    /// at the next [`Learner::refresh`].
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record(
        &self,
        query: &str,
        material_ids: &[String],
        now: DateTime<Utc>,
    ) -> Result<bool, StatsError> {
        if !learnable(query) {
            return Ok(false);
        }
        let materials: Vec<(String, TextPrint)> = material_ids
            .iter()
            .filter_map(|id| self.engine.get(id).map(|m| (id.clone(), text_print(&m))))
            .collect();
        if materials.is_empty() {
            return Ok(false);
        }
        let q = query.trim();
        self.store.add_learned(
            q,
            &crate::stats::gaps::query_key(q),
            &materials,
            now.timestamp_millis(),
            half_life_ms(),
            MAX_QUERIES_PER_MATERIAL,
        )?;
        self.dirty.store(true, Ordering::Release);
        Ok(true)
    }

    /// Records the logged query of search `query_id` for `material_ids` (see
    /// [`Learner::record`]); a search the log does not hold learns nothing.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_search(
        &self,
        query_id: &str,
        material_ids: &[String],
        now: DateTime<Utc>,
    ) -> Result<bool, StatsError> {
        match self.store.search_query(query_id)? {
            Some(q) => self.record(&q, material_ids, now),
            None => Ok(false),
        }
    }

    /// Drops the evidence of materials whose text changed substantially or that are gone,
    /// updates the fingerprints of those changed a little, deletes decayed queries, and
    /// builds and swaps in the side index of what is left, decayed to `now`.
    ///
    /// # Errors
    /// SQLite errors (the served index stays).
    pub fn refresh(&self, now: DateTime<Utc>) -> Result<Refreshed, StatsError> {
        let materials = self.engine.materials();
        let analyzer = self.engine.analyzer();
        let mut out = Refreshed::default();
        // Texts are compared only when the material table changed since the last refresh
        // (a record stores the print of the text it was learned on).
        let changed = self
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_none_or(|(m, _, _)| !Arc::ptr_eq(m, &materials));
        let prints = if changed {
            self.store.learned_prints()?
        } else {
            Vec::new()
        };
        for (id, print) in prints {
            // The table is slim (no answer or body): the print covers the whole text, so
            // read it from the doc store, as at recording.
            match materials
                .contains_key(&id)
                .then(|| self.engine.get(&id))
                .flatten()
            {
                None => {
                    self.store.drop_learned(&id)?;
                    out.dropped += 1;
                }
                Some(m) => {
                    let cur = text_print(&m);
                    if cur.content_hash == print.content_hash {
                        continue;
                    }
                    if similarity(&cur, &print) < MIN_SIMILARITY {
                        self.store.drop_learned(&id)?;
                        out.dropped += 1;
                    } else {
                        self.store.set_learned_print(&id, &cur)?;
                    }
                }
            }
        }
        let now_ms = now.timestamp_millis();
        out.pruned = self
            .store
            .prune_learned(now_ms, half_life_ms(), MIN_WEIGHT)?;
        let mut docs: Vec<LearnedDoc> = Vec::new();
        for r in self.store.learned_queries()? {
            if !materials.contains_key(&r.material_id) {
                continue;
            }
            let w = decayed(r.weight, now_ms - r.updated_ms, half_life_ms()) as f32;
            match docs.last_mut() {
                Some(d) if d.material_id == r.material_id => d.queries.push((r.query, w)),
                _ => docs.push(LearnedDoc {
                    material_id: r.material_id,
                    queries: vec![(r.query, w)],
                }),
            }
        }
        let same_analyzer = self
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|(_, a, _)| Arc::ptr_eq(a, &analyzer));
        let mut cache = self.terms.lock().unwrap_or_else(|e| e.into_inner());
        if !same_analyzer {
            cache.clear();
        }
        let mut used: HashMap<String, Arc<[String]>> = HashMap::with_capacity(cache.len());
        let ix = LearnedIndex::build_with(
            |q| {
                let t = cache.get(q).cloned().unwrap_or_else(|| {
                    analyzer
                        .morph_tokens(q)
                        .into_iter()
                        .map(|t| t.term)
                        .collect()
                });
                used.insert(q.to_string(), t.clone());
                t
            },
            &docs,
            self.params,
        );
        // Only the queries still learned stay cached.
        *cache = used;
        drop(cache);
        out.materials = ix.materials();
        out.queries = ix.queries();
        self.engine.set_learned(Arc::new(ix));
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((materials, analyzer, std::time::Instant::now()));
        Ok(out)
    }

    /// Whether new evidence, a changed material table or analyzer, or time calls for a
    /// [`Learner::refresh`].
    fn due(&self) -> bool {
        if self.dirty.swap(false, Ordering::AcqRel) {
            return true;
        }
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        match &*seen {
            None => true,
            Some((m, a, at)) => {
                !Arc::ptr_eq(m, &self.engine.materials())
                    || !Arc::ptr_eq(a, &self.engine.analyzer())
                    || at.elapsed() >= REBUILD_EVERY
            }
        }
    }

    /// Starts the background thread that refreshes every [`REFRESH_INTERVAL`] when due. It
    /// holds the learner weakly and ends when the learner is dropped.
    ///
    /// # Errors
    /// The thread cannot be started.
    pub fn spawn(self: &Arc<Self>) -> std::io::Result<std::thread::JoinHandle<()>> {
        let weak: Weak<Self> = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("kotae-learn".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(REFRESH_INTERVAL);
                    let Some(l) = weak.upgrade() else { return };
                    if l.due()
                        && let Err(e) = l.refresh(Utc::now())
                    {
                        l.dirty.store(true, Ordering::Release);
                        tracing::warn!(error = %e, "cannot refresh the learned queries");
                    }
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_or_redacted_queries_are_not_learnable() {
        assert!(learnable("粗大ごみ 出し方"));
        assert!(learnable("国民年金の免除申請に必要な持ち物は？"));
        assert!(!learnable("[電話番号] 折り返し"));
        assert!(!learnable("09012345678 に電話"));
        assert!(!learnable("山田太郎様の住民票"));
        assert!(!learnable("受付番号 12345678 の件"));
        assert!(!learnable("   "));
        assert!(!learnable(&"あ".repeat(MAX_QUERY_CHARS + 1)));
    }

    #[test]
    fn similarity_tells_an_edit_from_a_rewrite() {
        let old = "粗大ごみは電話で申し込んでください。受付は平日9時から17時まで、\
                   手数料は品目ごとに200円から1000円です。収集日の朝8時までに出してください。";
        let edited = old.replace("17時", "18時");
        let rewritten = "犬の登録は生涯に一度、狂犬病の予防注射は毎年一回受けさせてください。\
                         登録手数料は3000円です。";
        let p = text_print_of(old);
        assert_eq!(similarity(&p, &text_print_of(old)), 1.0);
        assert!(similarity(&p, &text_print_of(&edited)) >= 0.8);
        assert!(similarity(&p, &text_print_of(rewritten)) < MIN_SIMILARITY);
    }
}
