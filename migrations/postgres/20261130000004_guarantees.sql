-- The store's own guarantees, PostgreSQL flavour. Keep in step with migrations/sqlite.
-- The app runs as a role that does not own these tables (`chronicle migrate --app-role`):
-- it may not UPDATE, DELETE or TRUNCATE events, nor alter or drop the triggers. What it may
-- write to practice_heads and memberships is checked here against the events.

-- Who appended each event (chain form 2). Older events keep NULL and verify under form 1;
-- NOT VALID: the rule binds every new row without rechecking the old ones.
ALTER TABLE events ADD COLUMN recorded_by VARCHAR(255) COLLATE "C";
ALTER TABLE events ADD CONSTRAINT events_record_who_appended CHECK (recorded_by IS NOT NULL) NOT VALID;

-- Checked at commit, against the row as it then is: the append writes the head and the
-- memberships in the same transaction as the events they follow, in any order.
CREATE FUNCTION chronicle_check_head() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    practice VARCHAR(255) := COALESCE(NEW.practice_id, OLD.practice_id);
    head practice_heads%ROWTYPE;
    last_event events%ROWTYPE;
BEGIN
    SELECT * INTO head FROM practice_heads WHERE practice_id = practice;
    SELECT * INTO last_event FROM events WHERE practice_id = practice ORDER BY seq DESC LIMIT 1;
    IF head.practice_id IS NULL THEN
        RAISE EXCEPTION 'practice_heads follow the events: the head of % may not be deleted', practice;
    END IF;
    IF last_event.practice_id IS NULL AND head.seq = 0 THEN
        RETURN NULL;
    END IF;
    IF last_event.seq IS DISTINCT FROM head.seq OR last_event.hash IS DISTINCT FROM head.hash
       OR last_event.created_at IS DISTINCT FROM head.last_event_at THEN
        RAISE EXCEPTION 'practice_heads follow the events: the head of % must be its last event', practice;
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER practice_heads_follow_events AFTER INSERT OR UPDATE OR DELETE ON practice_heads
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION chronicle_check_head();

CREATE FUNCTION chronicle_check_membership() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    practice VARCHAR(255) := COALESCE(NEW.practice_id, OLD.practice_id);
    member VARCHAR(255) := COALESCE(NEW.user_id, OLD.user_id);
    membership memberships%ROWTYPE;
    last_event events%ROWTYPE;
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.practice_id <> OLD.practice_id OR NEW.user_id <> OLD.user_id) THEN
        RAISE EXCEPTION 'memberships follow the membership events: a membership does not move';
    END IF;
    SELECT * INTO membership FROM memberships WHERE practice_id = practice AND user_id = member;
    SELECT * INTO last_event FROM events WHERE practice_id = practice AND aggregate_type = 'membership'
        AND aggregate_id = member ORDER BY version DESC LIMIT 1;
    IF membership.user_id IS NULL THEN
        IF last_event.id IS NOT NULL AND last_event.event_type <> 'membership.removed' THEN
            RAISE EXCEPTION 'memberships follow the membership events: % goes only by membership.removed', member;
        END IF;
        RETURN NULL;
    END IF;
    IF last_event.id IS NULL OR last_event.seq <> membership.updated_seq
       OR last_event.event_type NOT IN ('membership.created', 'membership.role_changed')
       OR (last_event.payload_json::jsonb ->> 'role') IS DISTINCT FROM membership.role THEN
        RAISE EXCEPTION 'memberships follow the membership events: no event grants % the role %', member, membership.role;
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER memberships_follow_events AFTER INSERT OR UPDATE OR DELETE ON memberships
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION chronicle_check_membership();
