//! Pinned answers (migration `0005_pins.sql`): a query → material pair a manager sets, so that
//! a search for that query shows the material first (Fess's "Key Match"). Pins are matched by
//! [`super::gaps::query_key`] (search's normalisation, katakana as hiragana, spaces
//! collapsed), so 「国保　脱退」 and 「国保 脱退」 are one query.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::gaps::query_key;
use super::{InvalidReason, StatsError, Store};

type Result<T, E = StatsError> = std::result::Result<T, E>;

/// Longest pinned query, in characters.
pub const MAX_PIN_QUERY_CHARS: usize = 200;

/// A stored pin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Pin {
    /// Pin id (UUID).
    pub id: String,
    /// The query as the manager wrote it.
    pub query: String,
    /// Its matching key ([`query_key`]).
    pub query_key: String,
    /// The pinned material.
    pub material_id: String,
    /// Creation time, Unix milliseconds.
    pub created_ms: i64,
    /// Who created it (the token id, as an inquiry's `recorded_by`), if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

const SELECT: &str = "SELECT id, query, query_key, material_id, created_ms, created_by FROM pins";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Pin> {
    Ok(Pin {
        id: r.get(0)?,
        query: r.get(1)?,
        query_key: r.get(2)?,
        material_id: r.get(3)?,
        created_ms: r.get(4)?,
        created_by: r.get(5)?,
    })
}

impl Store {
    /// Pins `material_id` to `query` at `now_ms`. Pinning the same material to the same
    /// query again returns the existing pin.
    ///
    /// # Errors
    /// [`StatsError::Invalid`] for an empty or over-long query or an empty material id;
    /// SQLite errors.
    pub fn add_pin(
        &self,
        query: &str,
        material_id: &str,
        created_by: Option<&str>,
        now_ms: i64,
    ) -> Result<Pin> {
        let query = query.trim();
        let key = query_key(query);
        if key.is_empty() {
            return Err(StatsError::invalid(
                InvalidReason::FieldTooLong,
                "`query` must not be empty",
            ));
        }
        if query.chars().count() > MAX_PIN_QUERY_CHARS {
            return Err(StatsError::invalid(
                InvalidReason::FieldTooLong,
                format!("`query` is over {MAX_PIN_QUERY_CHARS} characters"),
            ));
        }
        if material_id.trim().is_empty() {
            return Err(StatsError::invalid(
                InvalidReason::UnknownMaterial,
                "`material_id` must not be empty",
            ));
        }
        self.write(|c| {
            let tx = c.transaction()?;
            let existing = tx
                .query_row(
                    &format!("{SELECT} WHERE query_key = ?1 AND material_id = ?2"),
                    params![key, material_id],
                    row,
                )
                .optional()?;
            let pin = match existing {
                Some(p) => p,
                None => {
                    let pin = Pin {
                        id: uuid::Uuid::new_v4().to_string(),
                        query: query.to_string(),
                        query_key: key.clone(),
                        material_id: material_id.to_string(),
                        created_ms: now_ms,
                        created_by: created_by.map(str::to_string),
                    };
                    tx.execute(
                        "INSERT INTO pins (id, query, query_key, material_id, created_ms, \
                         created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![
                            pin.id,
                            pin.query,
                            pin.query_key,
                            pin.material_id,
                            pin.created_ms,
                            pin.created_by
                        ],
                    )?;
                    pin
                }
            };
            tx.commit()?;
            Ok(pin)
        })
    }

    /// Returns every pin, oldest first (ties by insertion order).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn list_pins(&self) -> Result<Vec<Pin>> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!("{SELECT} ORDER BY created_ms, rowid"))?;
            let rows = st
                .query_map([], row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// Returns the pins of `query` (matched by [`query_key`]), oldest first.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn pins_for(&self, query: &str) -> Result<Vec<Pin>> {
        let key = query_key(query);
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "{SELECT} WHERE query_key = ?1 ORDER BY created_ms, rowid"
            ))?;
            let rows = st
                .query_map([key], row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// Deletes the pin `id`.
    ///
    /// # Errors
    /// [`StatsError::NotFound`]; SQLite errors.
    pub fn delete_pin(&self, id: &str) -> Result<()> {
        self.write(|c| {
            let n = c.execute("DELETE FROM pins WHERE id = ?1", [id])?;
            if n == 0 {
                return Err(StatsError::NotFound(format!("no pin with id {id:?}")));
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_match_by_query_key_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kotae.db");
        let id = {
            let s = Store::open_path(&path).unwrap();
            let p = s.add_pin("国保　脱退", "m1", Some("manager"), 1).unwrap();
            // The same pair again is the same pin.
            assert_eq!(s.add_pin("国保 脱退", "m1", None, 2).unwrap().id, p.id);
            s.add_pin("国保 脱退", "m2", None, 3).unwrap();
            assert!(s.add_pin("  ", "m1", None, 4).is_err());
            assert!(s.add_pin("国保", " ", None, 4).is_err());
            p.id
        };
        let s = Store::open_path(&path).unwrap();
        let got: Vec<String> = s
            .pins_for("国保  脱退")
            .unwrap()
            .into_iter()
            .map(|p| p.material_id)
            .collect();
        assert_eq!(got, ["m1", "m2"]);
        assert!(s.pins_for("国保").unwrap().is_empty());
        assert_eq!(s.list_pins().unwrap().len(), 2);
        s.delete_pin(&id).unwrap();
        assert!(matches!(s.delete_pin(&id), Err(StatsError::NotFound(_))));
        assert_eq!(s.list_pins().unwrap().len(), 1);
    }
}
