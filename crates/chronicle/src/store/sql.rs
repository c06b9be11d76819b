//! The only SQL that differs between the backends. Everything else uses `$N` placeholders,
//! which both sqlx drivers accept.

pub(crate) struct Dialect {
    /// PostgreSQL reads and locks the practice head first (`FOR UPDATE`), so appends to one
    /// practice serialize while other practices proceed. SQLite already holds the database's
    /// write lock, so it reads the head with the rest of the append context instead.
    pub lock_head: Option<&'static str>,
    /// Wrapped around "INSERT INTO events …" and "INSERT INTO practice_heads …" so both run
    /// in one round trip: two statements on SQLite, a data-modifying CTE on PostgreSQL.
    pub with_head_prefix: &'static str,
    pub with_head_infix: &'static str,
    /// Names of the user tables in the connected database/schema.
    pub list_tables: &'static str,
}

pub(crate) const SQLITE: Dialect = Dialect {
    lock_head: None,
    with_head_prefix: "",
    with_head_infix: "; ",
    list_tables: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
};

pub(crate) const POSTGRES: Dialect = Dialect {
    lock_head: Some(
        "SELECT seq, hash, last_event_at FROM practice_heads WHERE practice_id = $1 FOR UPDATE",
    ),
    with_head_prefix: "WITH appended AS (",
    with_head_infix: " RETURNING 1) ",
    list_tables: "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
};

/// Columns of `events`, in the order [`crate::store::rows::EventRow`] reads them.
pub(crate) const EVENT_COLUMNS: &str = "practice_id, seq, id, aggregate_type, aggregate_id, version, event_type, payload_json, actor_type, actor_id, created_at, hash";
