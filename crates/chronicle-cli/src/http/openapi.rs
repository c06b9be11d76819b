//! The OpenAPI document, generated from the handlers' annotations and the engine's types.

use axum::Json;
use utoipa::OpenApi;

use super::error::{ErrorBody, ErrorDetail};
use super::events::{
    AggregatesPage, BatchRequest, EventsPage, Health, PracticesList, RegistryList,
};

/// Chronicle's HTTP API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Chronicle API",
        description = "Append-only, multi-tenant event store. Every call except /healthz and /openapi.json \
                       needs the x-user-id header, which a trusted gateway sets.",
    ),
    paths(
        super::events::append,
        super::events::append_batch,
        super::events::aggregate_events,
        super::events::events_by_type,
        super::events::practices,
        super::events::timeline,
        super::events::event,
        super::events::aggregates,
        super::events::verify,
        super::events::registry,
        super::events::event_type,
        super::events::health,
        super::live::stream,
        super::projectors::status,
        super::projectors::live,
        super::projectors::reset,
        super::projectors::retry,
        super::read_models::directory,
        super::read_models::recent_aggregates,
        super::read_models::activity,
        super::read_models::members,
        super::read_models::users,
        document,
    ),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        EventsPage,
        BatchRequest,
        AggregatesPage,
        PracticesList,
        RegistryList,
        Health,
        chronicle::Event,
        chronicle::NewEvent,
        chronicle::ActorType,
        chronicle::Role,
        chronicle::Violation,
        chronicle::AggregateSummary,
        chronicle::PracticeSummary,
        chronicle::EventType,
        chronicle::ChainReport,
        chronicle::ChainBreak,
        chronicle::CheckpointState,
        chronicle::projection::ProjectorStatus,
        super::projectors::ProjectorsList,
        super::read_models::DirectoryList,
        super::read_models::RecentAggregatesPage,
        super::read_models::ActivityList,
        super::read_models::MemberList,
        super::read_models::UserList,
        chronicle::Member,
        chronicle::PracticeListing,
        chronicle::IndexedAggregate,
        chronicle::DailyCount,
    ))
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
