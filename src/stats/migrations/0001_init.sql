-- kotae statistics store, version 1: inquiries, escalations, search log, daily roll-ups.
-- Times: *_at columns are RFC 3339 text, *_ms columns Unix milliseconds (UTC);
-- jst_day is the Japan-time calendar date as days since 1970-01-01.

CREATE TABLE inquiries (
    id          TEXT PRIMARY KEY,
    query_id    TEXT,
    received_at TEXT    NOT NULL,
    received_ms INTEGER NOT NULL,
    jst_day     INTEGER NOT NULL,
    channel     TEXT    NOT NULL,
    category    TEXT,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('answered', 'escalated', 'koucho', 'transfer')),
    department  TEXT,
    summary     TEXT,
    recorded_ms INTEGER NOT NULL
);
CREATE INDEX inquiries_jst_day ON inquiries (jst_day, outcome);
CREATE INDEX inquiries_query_id ON inquiries (query_id) WHERE query_id IS NOT NULL;

CREATE TABLE inquiry_materials (
    inquiry_id  TEXT NOT NULL REFERENCES inquiries (id),
    material_id TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    PRIMARY KEY (inquiry_id, material_id)
) WITHOUT ROWID;
CREATE INDEX inquiry_materials_material ON inquiry_materials (material_id, outcome);

-- Daily roll-ups, written in the same transaction as the inquiry, so that the
-- first-answer-rate query reads a few thousand rows instead of every inquiry.
CREATE TABLE daily_by_channel (
    jst_day INTEGER NOT NULL,
    channel TEXT    NOT NULL,
    outcome TEXT    NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (jst_day, channel, outcome)
) WITHOUT ROWID;
CREATE TABLE daily_by_category (
    jst_day  INTEGER NOT NULL,
    category TEXT    NOT NULL, -- '' for none
    outcome  TEXT    NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (jst_day, category, outcome)
) WITHOUT ROWID;

CREATE TABLE escalations (
    id                   TEXT PRIMARY KEY,
    inquiry_id           TEXT    NOT NULL UNIQUE REFERENCES inquiries (id),
    department           TEXT    NOT NULL,
    status               TEXT    NOT NULL CHECK (status IN ('open', 'answered', 'closed')),
    question             TEXT,
    category             TEXT,
    created_ms           INTEGER NOT NULL,
    contact              TEXT,
    contact_expires_ms   INTEGER,
    answer               TEXT,
    answered_by          TEXT,
    answered_ms          INTEGER,
    closed_ms            INTEGER,
    promoted_material_id TEXT
);
CREATE INDEX escalations_department ON escalations (department, status);
CREATE INDEX escalations_contact ON escalations (contact_expires_ms) WHERE contact IS NOT NULL;

CREATE TABLE search_log (
    query_id  TEXT PRIMARY KEY,
    query     TEXT    NOT NULL,
    hits      INTEGER NOT NULL,
    took_ms   REAL    NOT NULL,
    top_ids   TEXT    NOT NULL, -- JSON array, best first
    logged_ms INTEGER NOT NULL
);
CREATE INDEX search_log_zero ON search_log (query) WHERE hits = 0;

CREATE TABLE search_shown (
    query_id    TEXT    NOT NULL,
    rank        INTEGER NOT NULL,
    material_id TEXT    NOT NULL,
    PRIMARY KEY (query_id, rank)
) WITHOUT ROWID;
CREATE INDEX search_shown_material ON search_shown (material_id);
