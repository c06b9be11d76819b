-- Tell every process when a projector checkpoint changes (a batch applied, caught up,
-- failed, retried, reset), so live screens follow runners in other processes without polling.
-- The payload is JSON so ids with any characters round-trip.
CREATE FUNCTION chronicle_notify_checkpoint() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('chronicle_checkpoint',
        json_build_object('practiceId', NEW.practice_id, 'projectorName', NEW.projector_name)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER projector_checkpoints_notify AFTER INSERT OR UPDATE ON projector_checkpoints
    FOR EACH ROW EXECUTE FUNCTION chronicle_notify_checkpoint();
