-- PostgreSQL notifies other processes of checkpoint changes from this version on. A SQLite
-- store has one process writing it (the desktop app or `chronicle serve`), which broadcasts
-- its own changes in memory; the empty migration keeps the two schema versions in step.
SELECT 1;
