-- Background jobs of the CMS webhook (src/jobs.rs): one row per delivery, one per page.
-- A job is inserted (and the transaction synced) before the hook answers 202, so a kill -9
-- after the answer loses nothing: the worker picks up `queued` and `running` jobs at start.

CREATE TABLE jobs (
    id          TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL UNIQUE,          -- the CMS's id; the same id again is this job
    event       TEXT NOT NULL,                 -- approved | unpublished
    status      TEXT NOT NULL,                 -- queued | running | done | failed
    approved_at TEXT,                          -- as sent by the CMS (RFC 3339)
    received_ms INTEGER NOT NULL,              -- Unix milliseconds
    started_ms  INTEGER,
    finished_ms INTEGER
);
CREATE INDEX jobs_by_status ON jobs (status, received_ms);

CREATE TABLE job_pages (
    job_id            TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq               INTEGER NOT NULL,        -- position in the delivery
    url               TEXT NOT NULL,           -- normalized
    html              TEXT,                    -- the page as sent by the CMS, if it was
    status            TEXT NOT NULL,           -- queued | retrying | done | failed
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms   INTEGER NOT NULL DEFAULT 0,
    materials_added   INTEGER NOT NULL DEFAULT 0,
    materials_updated INTEGER NOT NULL DEFAULT 0,
    materials_removed INTEGER NOT NULL DEFAULT 0,
    error             TEXT,
    PRIMARY KEY (job_id, seq)
);
