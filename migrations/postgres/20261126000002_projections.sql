-- Projector read models and checkpoint progress, PostgreSQL flavour. Keep in step with sqlite.

ALTER TABLE projector_checkpoints ADD COLUMN rate_window_start TIMESTAMPTZ;
ALTER TABLE projector_checkpoints ADD COLUMN rate_window_events BIGINT NOT NULL DEFAULT 0;

-- Wake projector runners in any process: every append moves its practice's head.
CREATE FUNCTION chronicle_notify_appended() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('chronicle_appended', NEW.practice_id || ' ' || NEW.seq);
    RETURN NULL;
END
$$;
CREATE TRIGGER practice_heads_notify AFTER INSERT OR UPDATE ON practice_heads
    FOR EACH ROW WHEN (NEW.seq > 0) EXECUTE FUNCTION chronicle_notify_appended();

CREATE TABLE rm_practice_directory (
    practice_id      VARCHAR(255) COLLATE "C" NOT NULL PRIMARY KEY,
    name             TEXT,
    created_at       TIMESTAMPTZ,
    event_count      BIGINT      NOT NULL,
    last_activity_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE rm_user_directory (
    practice_id  VARCHAR(255) COLLATE "C" NOT NULL,
    user_id      VARCHAR(255) COLLATE "C" NOT NULL,
    email        TEXT,
    display_name TEXT,
    role         VARCHAR(16),
    PRIMARY KEY (practice_id, user_id)
);

CREATE TABLE rm_aggregate_index (
    practice_id     VARCHAR(255) COLLATE "C" NOT NULL,
    aggregate_type  VARCHAR(100) COLLATE "C" NOT NULL,
    aggregate_id    VARCHAR(255) COLLATE "C" NOT NULL,
    version         BIGINT       NOT NULL,
    first_event_at  TIMESTAMPTZ  NOT NULL,
    last_event_at   TIMESTAMPTZ  NOT NULL,
    last_event_type VARCHAR(100) COLLATE "C" NOT NULL,
    event_count     BIGINT       NOT NULL,
    PRIMARY KEY (practice_id, aggregate_type, aggregate_id)
);
CREATE INDEX rm_aggregate_index_by_activity ON rm_aggregate_index (practice_id, last_event_at);

CREATE TABLE rm_daily_activity (
    practice_id VARCHAR(255) COLLATE "C" NOT NULL,
    day         CHAR(10)     NOT NULL,
    event_type  VARCHAR(100) COLLATE "C" NOT NULL,
    actor_type  VARCHAR(16)  NOT NULL,
    events      BIGINT       NOT NULL,
    PRIMARY KEY (practice_id, day, event_type, actor_type)
);
