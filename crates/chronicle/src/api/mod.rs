//! The API layer: the one surface the HTTP server, the desktop app and the CLI call. Each
//! operation is defined once ([`operations`]), with one request type (the query string over
//! HTTP and the command argument in the app are the same `requests` type) and one response
//! type (`responses`, [`crate::Page`], or an engine value), so the edges cannot disagree
//! about what an operation takes, answers or refuses. Errors have one wire form
//! ([`WireError`], codes in [`crate::ErrorCode`]); ids one validation ([`UserId`]); what a
//! caller may do comes from the engine's role table ([`crate::access::Capabilities`]); live
//! screens use the same building blocks ([`live`]).
//!
//! Adding an operation: a function in [`operations`] (and its request or response type
//! here, deriving serde, utoipa and specta), then one route in `chronicle-cli`'s `http`
//! module and one command in `src-tauri`'s `commands` module, each a few lines. See
//! `docs/adr/0006-one-api-layer.md`.

mod ids;
pub mod json;
pub mod live;
pub mod operations;
pub mod recent;
mod requests;
mod responses;
mod wire_error;

pub use ids::UserId;
pub use operations::*;
pub use requests::{
    ActivityQuery, AggregateEventsQuery, AggregatesQuery, AppendOptions, BatchRequest,
    GenerateRequest, PageQuery, ProjectorStatusQuery, RecentAggregatesQuery, SkipRequest,
    TimelineQuery, VerifyQuery,
};
pub use responses::{
    ActivityList, AppendedEvents, DirectoryList, EventTypeCount, GenerateProgress, GeneratedEvents,
    Health, MemberList, PracticeList, ProjectorStatusList, RegistryList, UserList,
};
pub use wire_error::WireError;
