-- The export digest of the whole practice, kept up to date by every append. Keep in step with
-- migrations/sqlite.
-- SHA-256 over "{seq} {hash}\n" of every event so far, as a resumable hash state: an export of
-- the whole practice puts its digest in the manifest (the file's first line) without reading
-- every event first. NULL for practices with events from before this column: their exports
-- read the events, as before. A wrong state can only make an export fail (the export digests
-- what it writes and compares), never make a manifest lie.
ALTER TABLE practice_heads ADD COLUMN export_digest_state BYTEA;
