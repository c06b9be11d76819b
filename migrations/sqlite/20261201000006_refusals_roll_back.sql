-- A refused insert into events rolls back the writer's whole transaction, not only its
-- statement. SQLite-only: PostgreSQL has no statement journal to spare.
--
-- A statement that may abort partway through writing several rows (a multi-row INSERT, or
-- any insert into a table with a row trigger) keeps a statement journal: a copy of every page
-- it changes that the transaction had already changed, so the statement alone can be undone.
-- Chronicle's append path never needs that: any error makes it roll back the whole
-- transaction (BENCHMARKS.md, tenth round: the journal was 7% of a 100-event batch and spills
-- to a temporary file on large ones). With RAISE(ROLLBACK) here and `INSERT OR ROLLBACK` in
-- the append, no part of the statement can abort alone, so SQLite keeps no journal for it.
-- Every refusal of migration 4 stays, with the same message; a raw writer loses the rest of
-- its transaction with the refused row, which is stricter, never looser.
DROP TRIGGER events_insert_at_head;

CREATE TRIGGER events_insert_at_head BEFORE INSERT ON events
BEGIN
    SELECT RAISE(ROLLBACK, 'events are append-only: seq must be the practice head + 1')
    WHERE NEW.seq <> COALESCE((SELECT MAX(seq) FROM events WHERE practice_id = NEW.practice_id), 0) + 1;
    SELECT RAISE(ROLLBACK, 'events are append-only: version must be the stream''s last + 1')
    WHERE NEW.version <> COALESCE((SELECT MAX(version) FROM events WHERE practice_id = NEW.practice_id
        AND aggregate_type = NEW.aggregate_type AND aggregate_id = NEW.aggregate_id), 0) + 1;
    SELECT RAISE(ROLLBACK, 'events are append-only: this event id exists in the practice')
    WHERE EXISTS (SELECT 1 FROM events WHERE practice_id = NEW.practice_id AND id = NEW.id);
    SELECT RAISE(ROLLBACK, 'events must record who appended them (recorded_by)')
    WHERE NEW.recorded_by IS NULL;
END;
