-- kotae statistics store: promotion drafts and outbound notifications (issue 12). Promoting
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

-- Outbound notifications (src/notify.rs): a durable outbox of signed webhook deliveries on
-- escalation opened / answered / reassigned / overdue. Rows are derived from committed
-- escalations and their history by the notifier, so no change is ever announced that did
-- not happen, and none is lost if the process stops before the delivery.
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    delivery_id     TEXT    NOT NULL UNIQUE,
    escalation_id   TEXT    NOT NULL,
    event           TEXT    NOT NULL
        CHECK (event IN ('opened', 'answered', 'reassigned', 'overdue')),
    department      TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('queued', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_error      TEXT,
    created_ms      INTEGER NOT NULL,
    delivered_ms    INTEGER
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_ms);

-- When the escalation's `opened` and `overdue` notifications were written (or skipped).
ALTER TABLE escalations ADD COLUMN notified_ms INTEGER;
ALTER TABLE escalations ADD COLUMN overdue_notified_ms INTEGER;
-- Escalations that exist before this migration are not announced.
UPDATE escalations SET notified_ms = created_ms;
UPDATE escalations SET overdue_notified_ms = created_ms WHERE status = 'open';

-- The last escalation_events row turned into notifications.
CREATE TABLE notify_cursor (
    name    TEXT    PRIMARY KEY,
    last_id INTEGER NOT NULL
);
INSERT INTO notify_cursor (name, last_id)
    VALUES ('escalation_events', COALESCE((SELECT MAX(id) FROM escalation_events), 0));
