-- kotae statistics store, version 3: escalation history, call-backs, who recorded an inquiry.
-- An escalation's answer may be corrected while it is not promoted, and an escalation may
-- be reassigned to another department; each change is one event (texts redacted).
-- The caller's contact details are kept until the call-back is recorded.

ALTER TABLE escalations ADD COLUMN called_back_ms INTEGER;
ALTER TABLE escalations ADD COLUMN called_back_by TEXT;

CREATE TABLE escalation_events (
    id            INTEGER PRIMARY KEY,
    escalation_id TEXT    NOT NULL REFERENCES escalations (id),
    at_ms         INTEGER NOT NULL,
    kind          TEXT    NOT NULL
        CHECK (kind IN ('answered', 'answer_corrected', 'reassigned', 'called_back')),
    actor         TEXT,
    before        TEXT,
    after         TEXT
);
CREATE INDEX escalation_events_escalation ON escalation_events (escalation_id, id);

-- Who recorded an inquiry: the id of the token (first 16 hex digits of its SHA-256), so
-- that an operator can list their own inquiries.
ALTER TABLE inquiries ADD COLUMN recorded_by TEXT;
CREATE INDEX inquiries_recorded_by ON inquiries (recorded_by, received_ms)
    WHERE recorded_by IS NOT NULL;

-- The filters of a search (JSON `{"kind": …, "department": …}`, NULL for none): a filtered
-- search that found nothing is not a gap of the corpus, and is reported apart.
ALTER TABLE search_log ADD COLUMN filters TEXT;
CREATE INDEX search_log_logged ON search_log (logged_ms);
