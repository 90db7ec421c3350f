-- kotae statistics store: promotion drafts (issue 12). Promoting an escalation's answer
-- writes a draft (question and answer redacted, with the flags the reviewer must look at);
-- a manager publishes it as a `faq` material, or discards it. At most one open draft per
-- escalation; published and discarded drafts stay as the history.

CREATE TABLE promotion_drafts (
    id            TEXT    PRIMARY KEY,
    escalation_id TEXT    NOT NULL REFERENCES escalations (id),
    status        TEXT    NOT NULL CHECK (status IN ('draft', 'published', 'discarded')),
    question      TEXT    NOT NULL,
    answer        TEXT    NOT NULL,
    -- JSON array of {kind, excerpt} (src/stats/redact/flags.rs), of question and answer.
    flags         TEXT    NOT NULL,
    created_ms    INTEGER NOT NULL,
    created_by    TEXT,
    updated_ms    INTEGER NOT NULL,
    reviewed_ms   INTEGER,
    reviewed_by   TEXT,
    material_id   TEXT
);
CREATE UNIQUE INDEX promotion_drafts_open ON promotion_drafts (escalation_id)
    WHERE status = 'draft';
CREATE INDEX promotion_drafts_status ON promotion_drafts (status, created_ms);
