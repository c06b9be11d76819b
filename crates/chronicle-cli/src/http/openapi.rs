//! The OpenAPI document: the paths come from the router itself ([`super::bounded_routes`]
//! registers each handler with its annotation), the rest from here.

use std::sync::Arc;

use axum::{Extension, Json};
use utoipa::OpenApi;

/// The document the router was built with.
#[derive(Clone)]
pub struct Document(pub Arc<utoipa::openapi::OpenApi>);

/// Chronicle's HTTP API: title, description and the schemas no operation names directly.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Chronicle API",
        description = "Append-only, multi-tenant event store. Every call except /healthz and /openapi.json \
                       needs the x-user-id header, which a trusted gateway sets. Errors are \
                       {\"error\": WireError}; WireError.code is one of ErrorCode.",
    ),
    components(schemas(
        chronicle::ErrorCode,
        chronicle::ActorType,
        chronicle::Direction,
        chronicle::Appended,
        chronicle::CheckpointMoved,
        chronicle::access::Capabilities,
    ))
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn document(
    Extension(Document(document)): Extension<Document>,
) -> Json<utoipa::openapi::OpenApi> {
    Json(document.as_ref().clone())
}
