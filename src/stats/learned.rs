//! Learned queries (migration `0008_learned.sql`): per material, the redacted queries that
//! answered inquiries tied to it, with a count and a decayed weight, and the fingerprint of
//! the material's text they were learned on. The policy (what may be learned, the cap, the
//! half-life, when text changed too much) is [`crate::learn`]'s; this is its storage.

use rusqlite::{OptionalExtension, params};

use super::Store;

type Result<T, E = super::StatsError> = std::result::Result<T, E>;

/// One stored learned query.
#[derive(Debug, Clone, PartialEq)]
pub struct LearnedRow {
    /// The material it is evidence for.
    pub material_id: String,
    /// Its matching key ([`super::gaps::query_key`]).
    pub query_key: String,
    /// The redacted query as first seen.
    pub query: String,
    /// How many times it was recorded.
    pub count: u64,
    /// Its weight at `updated_ms` (each record adds 1 to the decayed weight).
    pub weight: f64,
    /// Last record, Unix milliseconds.
    pub updated_ms: i64,
}

/// A material's text fingerprint as last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextPrint {
    /// Content hash of its title and body.
    pub content_hash: String,
    /// MinHash signature of its character shingles.
    pub signature: Vec<u8>,
}

/// `weight` decayed over `age_ms` with half-life `half_life_ms` (Unix milliseconds).
pub fn decayed(weight: f64, age_ms: i64, half_life_ms: f64) -> f64 {
    weight * (-(age_ms.max(0) as f64) / half_life_ms).exp2()
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LearnedRow> {
    Ok(LearnedRow {
        material_id: r.get(0)?,
        query_key: r.get(1)?,
        query: r.get(2)?,
        count: r.get::<_, i64>(3)? as u64,
        weight: r.get(4)?,
        updated_ms: r.get(5)?,
    })
}

const SELECT: &str =
    "SELECT material_id, query_key, query, count, weight, updated_ms FROM learned_queries";

impl Store {
    /// Records `query` (already checked learnable, with key `query_key`) as evidence for
    /// each of `material_ids` at `now_ms`: count + 1, weight decayed to now + 1. Then keeps
    /// at most `cap` queries per material, those of the highest decayed weight (ties: the
    /// more recent, then by key). `print` is the material's text fingerprint, stored when the
    /// material has none yet. One transaction.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn add_learned(
        &self,
        query: &str,
        query_key: &str,
        material_ids: &[(String, TextPrint)],
        now_ms: i64,
        half_life_ms: f64,
        cap: usize,
    ) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction()?;
            for (m, print) in material_ids {
                let old = tx
                    .query_row(
                        &format!("{SELECT} WHERE material_id = ?1 AND query_key = ?2"),
                        params![m, query_key],
                        row,
                    )
                    .optional()?;
                let (count, weight) = match old {
                    Some(r) => (
                        r.count + 1,
                        decayed(r.weight, now_ms - r.updated_ms, half_life_ms) + 1.0,
                    ),
                    None => (1, 1.0),
                };
                tx.execute(
                    "INSERT INTO learned_queries (material_id, query_key, query, count, weight, \
                     updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                     ON CONFLICT (material_id, query_key) DO UPDATE SET count = ?4, \
                     weight = ?5, updated_ms = ?6",
                    params![m, query_key, query, count as i64, weight, now_ms],
                )?;
                tx.execute(
                    "INSERT OR IGNORE INTO learned_materials (material_id, content_hash, \
                     signature) VALUES (?1, ?2, ?3)",
                    params![m, print.content_hash, print.signature],
                )?;
                let mut rows: Vec<LearnedRow> = {
                    let mut st = tx.prepare_cached(&format!("{SELECT} WHERE material_id = ?1"))?;
                    st.query_map([m], row)?
                        .collect::<rusqlite::Result<Vec<_>>>()?
                };
                if rows.len() > cap {
                    let now_w =
                        |r: &LearnedRow| decayed(r.weight, now_ms - r.updated_ms, half_life_ms);
                    rows.sort_by(|a, b| {
                        now_w(b)
                            .total_cmp(&now_w(a))
                            .then(b.updated_ms.cmp(&a.updated_ms))
                            .then(a.query_key.cmp(&b.query_key))
                    });
                    for r in &rows[cap..] {
                        tx.execute(
                            "DELETE FROM learned_queries WHERE material_id = ?1 AND query_key = ?2",
                            params![m, r.query_key],
                        )?;
                    }
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Every learned query, by material then key.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn learned_queries(&self) -> Result<Vec<LearnedRow>> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!("{SELECT} ORDER BY material_id, query_key"))?;
            Ok(st
                .query_map([], row)?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// The text fingerprints of the materials with learned queries.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn learned_prints(&self) -> Result<Vec<(String, TextPrint)>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT material_id, content_hash, signature FROM learned_materials \
                 ORDER BY material_id",
            )?;
            Ok(st
                .query_map([], |r| {
                    Ok((
                        r.get(0)?,
                        TextPrint {
                            content_hash: r.get(1)?,
                            signature: r.get(2)?,
                        },
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Replaces the text fingerprint of `material_id` (its text changed, not substantially).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn set_learned_print(&self, material_id: &str, print: &TextPrint) -> Result<()> {
        self.write(|c| {
            c.execute(
                "UPDATE learned_materials SET content_hash = ?2, signature = ?3 \
                 WHERE material_id = ?1",
                params![material_id, print.content_hash, print.signature],
            )?;
            Ok(())
        })
    }

    /// Deletes the learned queries and fingerprint of `material_id` (its text changed
    /// substantially, or it is gone); returns the number of queries deleted.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn drop_learned(&self, material_id: &str) -> Result<usize> {
        self.write(|c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "DELETE FROM learned_queries WHERE material_id = ?1",
                [material_id],
            )?;
            tx.execute(
                "DELETE FROM learned_materials WHERE material_id = ?1",
                [material_id],
            )?;
            tx.commit()?;
            Ok(n)
        })
    }

    /// Deletes the learned queries whose weight decayed below `min_weight` by `now_ms`;
    /// returns how many.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn prune_learned(&self, now_ms: i64, half_life_ms: f64, min_weight: f64) -> Result<usize> {
        let stale: Vec<LearnedRow> = self
            .learned_queries()?
            .into_iter()
            .filter(|r| decayed(r.weight, now_ms - r.updated_ms, half_life_ms) < min_weight)
            .collect();
        if stale.is_empty() {
            return Ok(0);
        }
        self.write(|c| {
            let tx = c.transaction()?;
            for r in &stale {
                tx.execute(
                    "DELETE FROM learned_queries WHERE material_id = ?1 AND query_key = ?2",
                    params![r.material_id, r.query_key],
                )?;
            }
            tx.commit()?;
            Ok(stale.len())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decay_halves_per_half_life() {
        assert!((decayed(8.0, 1000, 1000.0) - 4.0).abs() < 1e-12);
        assert!((decayed(8.0, 3000, 1000.0) - 1.0).abs() < 1e-12);
        assert_eq!(decayed(2.0, -5, 1000.0), 2.0);
    }
}
