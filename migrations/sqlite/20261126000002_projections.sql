-- Projector read models and checkpoint progress, SQLite flavour. Keep in step with postgres.
-- Read models are WITHOUT ROWID: an upsert touches one B-tree (the key) instead of two.

ALTER TABLE projector_checkpoints ADD COLUMN rate_window_start TEXT;
ALTER TABLE projector_checkpoints ADD COLUMN rate_window_events INTEGER NOT NULL DEFAULT 0;

CREATE TABLE rm_practice_directory (
    practice_id      TEXT    NOT NULL PRIMARY KEY,
    name             TEXT,
    created_at       TEXT,
    event_count      INTEGER NOT NULL,
    last_activity_at TEXT    NOT NULL
);

CREATE TABLE rm_user_directory (
    practice_id  TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    email        TEXT,
    display_name TEXT,
    role         TEXT,
    PRIMARY KEY (practice_id, user_id)
) WITHOUT ROWID;

CREATE TABLE rm_aggregate_index (
    practice_id     TEXT    NOT NULL,
    aggregate_type  TEXT    NOT NULL,
    aggregate_id    TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    first_event_at  TEXT    NOT NULL,
    last_event_at   TEXT    NOT NULL,
    last_event_type TEXT    NOT NULL,
    event_count     INTEGER NOT NULL,
    PRIMARY KEY (practice_id, aggregate_type, aggregate_id)
) WITHOUT ROWID;
CREATE INDEX rm_aggregate_index_by_activity ON rm_aggregate_index (practice_id, last_event_at);

CREATE TABLE rm_daily_activity (
    practice_id TEXT    NOT NULL,
    day         TEXT    NOT NULL,
    event_type  TEXT    NOT NULL,
    actor_type  TEXT    NOT NULL,
    events      INTEGER NOT NULL,
    PRIMARY KEY (practice_id, day, event_type, actor_type)
) WITHOUT ROWID;
