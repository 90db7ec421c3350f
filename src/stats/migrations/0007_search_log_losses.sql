-- kotae statistics store: search-log records lost, per JST day, so that a report over a
-- period can say it is incomplete after a restart too (stats::search_log). `dropped`: the
-- writer's queue was full; `failed`: the database refused the batch.

CREATE TABLE search_log_losses (
    day_ms  INTEGER PRIMARY KEY,  -- JST midnight starting the day, Unix milliseconds
    dropped INTEGER NOT NULL DEFAULT 0,
    failed  INTEGER NOT NULL DEFAULT 0
);
