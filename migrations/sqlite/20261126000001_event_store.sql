-- Chronicle event store, SQLite flavour. Keep in step with migrations/postgres.
-- Every key leads with practice_id: each query is a range scan inside one tenant.

CREATE TABLE events (
    practice_id    TEXT    NOT NULL,
    seq            INTEGER NOT NULL CHECK (seq >= 1),
    id             TEXT    NOT NULL,
    aggregate_type TEXT    NOT NULL,
    aggregate_id   TEXT    NOT NULL,
    version        INTEGER NOT NULL CHECK (version >= 1),
    event_type     TEXT    NOT NULL,
    payload_json   TEXT    NOT NULL,
    actor_type     TEXT    NOT NULL CHECK (actor_type IN ('human', 'ai', 'system')),
    actor_id       TEXT,
    created_at     TEXT    NOT NULL,
    hash           TEXT    NOT NULL
);
CREATE UNIQUE INDEX events_by_seq ON events (practice_id, seq);
CREATE UNIQUE INDEX events_by_id ON events (practice_id, id);
CREATE UNIQUE INDEX events_by_stream ON events (practice_id, aggregate_type, aggregate_id, version);
CREATE INDEX events_by_type ON events (practice_id, event_type, seq);
CREATE INDEX events_by_time ON events (practice_id, created_at);

-- The database itself refuses to change history, whoever connects.
CREATE TRIGGER events_reject_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: UPDATE is not allowed');
END;
CREATE TRIGGER events_reject_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: DELETE is not allowed');
END;

-- One row per practice, written in every append transaction: it serializes appends to a
-- practice (so seq order is commit order) and carries the chain head.
CREATE TABLE practice_heads (
    practice_id   TEXT    NOT NULL PRIMARY KEY,
    seq           INTEGER NOT NULL,
    hash          TEXT    NOT NULL,
    last_event_at TEXT
);

-- Read model of membership.created / membership.role_changed, maintained in the append
-- transaction so an access check never sees a stale role.
CREATE TABLE memberships (
    practice_id TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'frontdesk', 'viewer')),
    since_seq   INTEGER NOT NULL,
    updated_seq INTEGER NOT NULL,
    PRIMARY KEY (practice_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id, practice_id);

CREATE TABLE projector_checkpoints (
    id             TEXT    NOT NULL,
    practice_id    TEXT    NOT NULL,
    projector_name TEXT    NOT NULL,
    last_event_id  TEXT,
    last_seq       INTEGER NOT NULL CHECK (last_seq >= 0),
    state          TEXT    NOT NULL CHECK (state IN ('catching_up', 'caught_up', 'failed', 'stopped')),
    last_error     TEXT,
    error_event_id TEXT,
    updated_at     TEXT    NOT NULL,
    PRIMARY KEY (practice_id, projector_name)
);
CREATE UNIQUE INDEX projector_checkpoints_by_id ON projector_checkpoints (id);
