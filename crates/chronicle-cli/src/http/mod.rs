//! The HTTP API: the seed's three endpoints, byte for byte in their JSON shapes, plus batch
//! append, timeline, aggregates, practices, registry, chain verification and a live SSE stream.
//! Handlers are thin: extract, call the engine, map the error once ([`error::ApiError`]).

pub mod announcements;
pub mod console;
pub mod error;
pub mod events;
pub mod extract;
pub mod live;
pub mod openapi;
pub mod projectors;
pub mod read_models;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chronicle::Store;
use tokio::sync::watch;

use error::ApiError;

/// Limits and timeouts of the server.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Largest body of a single append: the store's payload limit plus room for the envelope.
    pub max_event_body_bytes: usize,
    /// Largest body of a batch append.
    pub max_batch_body_bytes: usize,
    /// Requests (other than the live stream) taking longer are answered with 503.
    pub request_timeout: Duration,
    /// The built web console (`ui/dist`), served at `/`; `None` serves the API only.
    pub ui_dir: Option<std::path::PathBuf>,
}

impl ApiOptions {
    /// Limits derived from the store's payload limit.
    pub fn for_store(store: &Store) -> Self {
        Self {
            max_event_body_bytes: store.options().max_payload_bytes + 64 * 1024,
            max_batch_body_bytes: 32 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            ui_dir: None,
        }
    }
}

/// Shared by every handler: cheap handles only.
#[derive(Clone)]
pub struct AppState {
    /// The engine.
    pub store: Store,
    /// Flips to true when the server shuts down, ending live streams.
    pub shutdown: watch::Receiver<bool>,
    /// Appends and checkpoint changes, for live streams.
    pub announcements: announcements::Announcements,
    /// The web console's files, when served.
    pub ui: Option<console::Console>,
}

/// The whole API as a router. Starts the live-update relays, so call it inside a Tokio runtime.
pub fn router(store: Store, options: &ApiOptions, shutdown: watch::Receiver<bool>) -> Router {
    let state = AppState {
        announcements: announcements::Announcements::start(&store, shutdown.clone()),
        store,
        shutdown,
        ui: options.ui_dir.as_deref().map(console::Console::new),
    };
    let timeout = options.request_timeout;
    let bounded = Router::new()
        .route(
            "/v1/events/append",
            post(events::append).layer(DefaultBodyLimit::max(options.max_event_body_bytes)),
        )
        .route(
            "/v1/events/append-batch",
            post(events::append_batch).layer(DefaultBodyLimit::max(options.max_batch_body_bytes)),
        )
        .route(
            "/v1/events/aggregate/{practice_id}/{aggregate_type}/{aggregate_id}",
            get(events::aggregate_events),
        )
        .route(
            "/v1/events/type/{practice_id}/{event_type}",
            get(events::events_by_type),
        )
        .route("/v1/practices", get(events::practices))
        .route("/v1/practices/{practice_id}/events", get(events::timeline))
        .route(
            "/v1/practices/{practice_id}/events/{event_id}",
            get(events::event),
        )
        .route(
            "/v1/practices/{practice_id}/aggregates",
            get(events::aggregates),
        )
        .route("/v1/practices/{practice_id}/verify", get(events::verify))
        .route(
            "/v1/practices/{practice_id}/projectors",
            get(projectors::status),
        )
        .route(
            "/v1/practices/{practice_id}/projectors/{projector}/reset",
            post(projectors::reset),
        )
        .route(
            "/v1/practices/{practice_id}/projectors/{projector}/retry",
            post(projectors::retry),
        )
        .route("/v1/directory/practices", get(read_models::directory))
        .route("/v1/users", get(read_models::users))
        .route(
            "/v1/practices/{practiceId}/members",
            get(read_models::members),
        )
        .route(
            "/v1/practices/{practice_id}/aggregates/recent",
            get(read_models::recent_aggregates),
        )
        .route(
            "/v1/practices/{practice_id}/activity",
            get(read_models::activity),
        )
        .route("/v1/registry", get(events::registry))
        .route("/v1/registry/{event_type}", get(events::event_type))
        .route("/healthz", get(events::health))
        .route("/openapi.json", get(openapi::document))
        .layer(axum::middleware::from_fn(
            move |request: Request, next: Next| with_timeout(timeout, request, next),
        ));
    Router::new()
        .route("/v1/practices/{practice_id}/live", get(live::stream))
        .route(
            "/v1/practices/{practice_id}/projectors/live",
            get(projectors::live),
        )
        .merge(bounded)
        .fallback(console::or_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn with_timeout(limit: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!(
                "the request took longer than {} s; nothing was committed unless a retry shows it",
                limit.as_secs()
            ),
        )
        .into_response(),
    }
}

pub(crate) async fn not_found(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!(
            "no route {} {}; GET /openapi.json lists them",
            request.method(),
            request.uri().path()
        ),
    )
}

async fn method_not_allowed(State(_): State<AppState>, request: Request) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} is not allowed on {}",
            request.method(),
            request.uri().path()
        ),
    )
}

/// Serves the API on `listener` until `shutdown` resolves; then stops accepting, ends live
/// streams, lets in-flight requests (appends included) finish, and returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Store,
    options: ApiOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let app = router(store, &options, stopped);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stop.send(true);
    })
    .await
}
