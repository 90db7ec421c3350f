-- kotae statistics store: pinned answers (Fess's Key Match). A search whose query has the
-- pin's key (search's normalisation, katakana as hiragana, spaces collapsed:
-- stats::gaps::query_key) shows the pinned material first.

CREATE TABLE pins (
    id          TEXT    PRIMARY KEY,
    query       TEXT    NOT NULL,
    query_key   TEXT    NOT NULL,
    material_id TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    created_by  TEXT,
    UNIQUE (query_key, material_id)
);
CREATE INDEX pins_query_key ON pins (query_key);
