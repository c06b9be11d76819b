//! Chronicle's engine: an append-only, multi-tenant event store with a schema registry and
//! access rules, on SQLite (embedded) or PostgreSQL (shared). The HTTP API, the CLI and the
//! desktop app are thin edges over this crate; every rule lives here.
//!
//! ```no_run
//! # async fn demo() -> chronicle::Result<()> {
//! use chronicle::{ActorType, NewEvent, Principal, Store};
//! use serde_json::json;
//!
//! let store = Store::open("sqlite:///tmp/chronicle.db").await?;
//! let alice = Principal::user("alice");
//! let created = store
//!     .append(&alice, NewEvent::new("p-1", "practice", "p-1", "practice.created",
//!         json!({"name": "Smile Dental"}), ActorType::Human))
//!     .await?;
//! assert_eq!(created.seq, 1); // alice is now the practice's owner
//! # Ok(()) }
//! ```

pub mod access;
pub mod api;
pub mod chain;
pub mod contract;
pub mod cursor;
pub mod demo;
mod error;
pub mod export;
pub mod generate;
mod model;
pub mod paths;
mod payload;
pub mod projection;
pub mod registry;
pub mod rules;
mod store;

pub use error::{Error, ErrorCode, Result, Violation};
pub use model::{
    ActorType, AggregateSummary, Event, NewEvent, Page, PracticeSummary, Principal, Role,
    STORE_RECORDER, SYSTEM_RECORDER,
};
pub use payload::Payload;
pub use registry::{EventType, Registry};
pub use store::{
    AggregateFilter, Anchor, AnchorCheck, Announcement, AppendFeed, Appended, ChainBreak,
    ChainHead, ChainReport, Checkpoint, CheckpointFeed, CheckpointMoved, CheckpointState,
    CheckpointUpdate, DailyCount, Direction, Feed, IndexedAggregate, MAX_KNOWN_USERS, Member,
    MembershipProblem, PageRequest, PracticeListing, RemovedMember, SqliteDurability, Store,
    StoreOptions, TimelineFilter,
};
