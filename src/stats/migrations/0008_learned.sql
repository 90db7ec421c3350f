-- kotae statistics store: learned queries (issue 13 §3, src/learn/). The redacted query of a
-- search that an answered inquiry tied to a material (or a promoted escalation's question
-- for its new material) is evidence for that material. Repeats of one query (same
-- stats::gaps::query_key) add to `count` and to `weight`, which decays with a half-life
-- (weight is its value at updated_ms). Never holds a query with a redaction placeholder.

CREATE TABLE learned_queries (
    material_id TEXT    NOT NULL,
    query_key   TEXT    NOT NULL,
    query       TEXT    NOT NULL,
    count       INTEGER NOT NULL,
    weight      REAL    NOT NULL,
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (material_id, query_key)
) WITHOUT ROWID;

-- The text of each material with learned queries as last seen: its content hash and a
-- MinHash signature of its character 3-shingles, to drop the material's learned queries
-- when its text changes substantially.
CREATE TABLE learned_materials (
    material_id  TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    signature    BLOB NOT NULL
) WITHOUT ROWID;
