-- Chronicle event store, PostgreSQL flavour. Keep in step with migrations/sqlite.
-- Every key leads with practice_id so the schema distributes by tenant (Citus-style).
-- Identifiers use COLLATE "C" so ordering and cursors match SQLite and Rust byte order.

CREATE TABLE events (
    practice_id    VARCHAR(255) COLLATE "C" NOT NULL,
    seq            BIGINT       NOT NULL CHECK (seq >= 1),
    id             VARCHAR(255) COLLATE "C" NOT NULL,
    aggregate_type VARCHAR(100) COLLATE "C" NOT NULL,
    aggregate_id   VARCHAR(255) COLLATE "C" NOT NULL,
    version        BIGINT       NOT NULL CHECK (version >= 1),
    event_type     VARCHAR(100) COLLATE "C" NOT NULL,
    payload_json   TEXT         NOT NULL,
    actor_type     VARCHAR(16)  NOT NULL CHECK (actor_type IN ('human', 'ai', 'system')),
    actor_id       VARCHAR(255) COLLATE "C",
    created_at     TIMESTAMPTZ  NOT NULL,
    hash           CHAR(64)     NOT NULL,
    PRIMARY KEY (practice_id, seq)
);
CREATE UNIQUE INDEX events_by_id ON events (practice_id, id);
CREATE UNIQUE INDEX events_by_stream ON events (practice_id, aggregate_type, aggregate_id, version);
CREATE INDEX events_by_type ON events (practice_id, event_type, seq);
CREATE INDEX events_by_time ON events (practice_id, created_at);

-- The database itself refuses to change history, whoever connects.
CREATE FUNCTION chronicle_reject_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP;
END
$$;
CREATE TRIGGER events_reject_update_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION chronicle_reject_event_change();
CREATE TRIGGER events_reject_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION chronicle_reject_event_change();

-- One row per practice, locked (FOR UPDATE) in every append transaction: it serializes
-- appends to a practice so seq order is commit order; other practices do not wait.
CREATE TABLE practice_heads (
    practice_id   VARCHAR(255) COLLATE "C" NOT NULL PRIMARY KEY,
    seq           BIGINT      NOT NULL,
    hash          CHAR(64)    NOT NULL,
    last_event_at TIMESTAMPTZ
);

CREATE TABLE memberships (
    practice_id VARCHAR(255) COLLATE "C" NOT NULL,
    user_id     VARCHAR(255) COLLATE "C" NOT NULL,
    role        VARCHAR(16)  NOT NULL CHECK (role IN ('owner', 'admin', 'frontdesk', 'viewer')),
    since_seq   BIGINT       NOT NULL,
    updated_seq BIGINT       NOT NULL,
    PRIMARY KEY (practice_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id, practice_id);

CREATE TABLE projector_checkpoints (
    id             VARCHAR(255) COLLATE "C" NOT NULL UNIQUE,
    practice_id    VARCHAR(255) COLLATE "C" NOT NULL,
    projector_name VARCHAR(100) COLLATE "C" NOT NULL,
    last_event_id  VARCHAR(255) COLLATE "C",
    last_seq       BIGINT       NOT NULL CHECK (last_seq >= 0),
    state          VARCHAR(16)  NOT NULL CHECK (state IN ('catching_up', 'caught_up', 'failed', 'stopped')),
    last_error     TEXT,
    error_event_id VARCHAR(255) COLLATE "C",
    updated_at     TIMESTAMPTZ  NOT NULL,
    PRIMARY KEY (practice_id, projector_name)
);
