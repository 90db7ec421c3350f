-- kotae statistics store, version 4: idempotency keys of POST /api/inquiries.
-- A client that retries a request it got no answer to (a cut connection, a restart) sends
-- the same `Idempotency-Key`; the inquiry recorded the first time is answered again instead
-- of being counted twice. Only hashes are kept (the key is the client's string; the body
-- may hold personal data), with the answer (ids only). Rows older than 24 hours no longer
-- match and are deleted by the retention purge.

CREATE TABLE idempotency_keys (
    scope       TEXT    NOT NULL,  -- the token id of the caller ('' on an open API)
    key_sha256  BLOB    NOT NULL,
    body_sha256 BLOB    NOT NULL,
    response    TEXT    NOT NULL,  -- JSON of the recorded ids
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (scope, key_sha256)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_ms);
