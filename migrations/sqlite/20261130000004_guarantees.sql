-- The store's own guarantees, SQLite flavour. Keep in step with migrations/postgres.
-- Whoever opens the file can run SQL; these triggers make the database itself refuse
-- anything the append path would not write.

-- Who appended each event (chain form 2). Older events keep NULL and verify under form 1.
ALTER TABLE events ADD COLUMN recorded_by TEXT;

-- INSERT OR REPLACE deletes the row it conflicts with and inserts the new one, and the
-- delete trigger does not fire for it (unless recursive_triggers is on, which a raw
-- connection need not set). So an insert is accepted only where the append path would
-- put it: the next seq of the practice, the next version of its stream, a new id, a
-- recorder named.
CREATE TRIGGER events_insert_at_head BEFORE INSERT ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: seq must be the practice head + 1')
    WHERE NEW.seq <> COALESCE((SELECT MAX(seq) FROM events WHERE practice_id = NEW.practice_id), 0) + 1;
    SELECT RAISE(ABORT, 'events are append-only: version must be the stream''s last + 1')
    WHERE NEW.version <> COALESCE((SELECT MAX(version) FROM events WHERE practice_id = NEW.practice_id
        AND aggregate_type = NEW.aggregate_type AND aggregate_id = NEW.aggregate_id), 0) + 1;
    SELECT RAISE(ABORT, 'events are append-only: this event id exists in the practice')
    WHERE EXISTS (SELECT 1 FROM events WHERE practice_id = NEW.practice_id AND id = NEW.id);
    SELECT RAISE(ABORT, 'events must record who appended them (recorded_by)')
    WHERE NEW.recorded_by IS NULL;
END;

-- The head row is the last event's seq, hash and time, or seq 0 before the first event.
CREATE TRIGGER practice_heads_insert_follows_events BEFORE INSERT ON practice_heads
BEGIN
    SELECT RAISE(ABORT, 'practice_heads follow the events: the head must be the practice''s last event')
    WHERE NOT (
        (NEW.seq = 0 AND NOT EXISTS (SELECT 1 FROM events WHERE practice_id = NEW.practice_id))
        OR (EXISTS (SELECT 1 FROM events WHERE practice_id = NEW.practice_id AND seq = NEW.seq
                    AND hash = NEW.hash AND created_at = NEW.last_event_at)
            AND NOT EXISTS (SELECT 1 FROM events WHERE practice_id = NEW.practice_id AND seq > NEW.seq)));
END;
CREATE TRIGGER practice_heads_update_follows_events BEFORE UPDATE ON practice_heads
BEGIN
    SELECT RAISE(ABORT, 'practice_heads follow the events: the head must be the practice''s last event')
    WHERE NOT (
        NEW.practice_id = OLD.practice_id
        AND EXISTS (SELECT 1 FROM events WHERE practice_id = NEW.practice_id AND seq = NEW.seq
                    AND hash = NEW.hash AND created_at = NEW.last_event_at)
        AND NOT EXISTS (SELECT 1 FROM events WHERE practice_id = NEW.practice_id AND seq > NEW.seq));
END;
CREATE TRIGGER practice_heads_reject_delete BEFORE DELETE ON practice_heads
BEGIN
    SELECT RAISE(ABORT, 'practice_heads follow the events: a head is never deleted');
END;

-- A membership row is what the member's last membership event says: a role comes from a
-- membership.created or membership.role_changed event at updated_seq that is the last of
-- the member's stream; a row goes only when that last event is membership.removed.
CREATE TRIGGER memberships_insert_follows_events BEFORE INSERT ON memberships
BEGIN
    SELECT RAISE(ABORT, 'memberships follow the membership events: no event grants this role')
    WHERE NOT EXISTS (
        SELECT 1 FROM events e WHERE e.practice_id = NEW.practice_id AND e.seq = NEW.updated_seq
          AND e.aggregate_type = 'membership' AND e.aggregate_id = NEW.user_id
          AND e.event_type IN ('membership.created', 'membership.role_changed')
          AND json_extract(e.payload_json, '$.role') = NEW.role
          AND e.version = (SELECT MAX(version) FROM events WHERE practice_id = NEW.practice_id
                           AND aggregate_type = 'membership' AND aggregate_id = NEW.user_id));
END;
CREATE TRIGGER memberships_update_follows_events BEFORE UPDATE ON memberships
BEGIN
    SELECT RAISE(ABORT, 'memberships follow the membership events: no event grants this role')
    WHERE NEW.practice_id <> OLD.practice_id OR NEW.user_id <> OLD.user_id OR NOT EXISTS (
        SELECT 1 FROM events e WHERE e.practice_id = NEW.practice_id AND e.seq = NEW.updated_seq
          AND e.aggregate_type = 'membership' AND e.aggregate_id = NEW.user_id
          AND e.event_type IN ('membership.created', 'membership.role_changed')
          AND json_extract(e.payload_json, '$.role') = NEW.role
          AND e.version = (SELECT MAX(version) FROM events WHERE practice_id = NEW.practice_id
                           AND aggregate_type = 'membership' AND aggregate_id = NEW.user_id));
END;
CREATE TRIGGER memberships_delete_follows_events BEFORE DELETE ON memberships
BEGIN
    SELECT RAISE(ABORT, 'memberships follow the membership events: a member goes only by membership.removed')
    WHERE COALESCE((SELECT event_type FROM events WHERE practice_id = OLD.practice_id
        AND aggregate_type = 'membership' AND aggregate_id = OLD.user_id
        ORDER BY version DESC LIMIT 1), '') <> 'membership.removed';
END;
