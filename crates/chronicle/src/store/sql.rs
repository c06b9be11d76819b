//! The only SQL that differs between the backends. Everything else uses `$N` placeholders,
//! which both sqlx drivers accept.

pub(crate) struct Dialect {
    /// Starts the append transaction. SQLite takes the write lock up front (IMMEDIATE) so two
    /// writers never deadlock upgrading a read lock.
    pub begin_write: &'static str,
    /// Reads the practice head; on PostgreSQL it also locks the row so appends to one
    /// practice serialize while other practices proceed.
    pub lock_head: &'static str,
    /// Names of the user tables in the connected database/schema.
    pub list_tables: &'static str,
}

pub(crate) const SQLITE: Dialect = Dialect {
    begin_write: "BEGIN IMMEDIATE",
    lock_head: "SELECT seq, hash, last_event_at FROM practice_heads WHERE practice_id = $1",
    list_tables: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
};

pub(crate) const POSTGRES: Dialect = Dialect {
    begin_write: "BEGIN",
    lock_head: "SELECT seq, hash, last_event_at FROM practice_heads WHERE practice_id = $1 FOR UPDATE",
    list_tables: "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
};

/// Columns of `events`, in the order [`crate::store::rows::EventRow`] reads them.
pub(crate) const EVENT_COLUMNS: &str = "practice_id, seq, id, aggregate_type, aggregate_id, version, event_type, payload_json, actor_type, actor_id, created_at, hash";
