//! The HTTP API: the seed's three endpoints, byte for byte in their JSON shapes, plus batch
//! append, timeline, aggregates, practices, registry, chain verification and a live SSE stream.
//! Handlers are thin: extract, call the engine, map the error once ([`error::ApiError`]).

pub mod console;
pub mod error;
pub mod events;
pub mod export;
pub mod extract;
pub mod guard;
pub mod live;
pub mod openapi;
pub mod projectors;
pub mod read_models;
pub mod seeding;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chronicle::api::live::{Announcements, LiveLimits};
use chronicle::{ErrorCode, Store};
use tokio::sync::watch;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use error::ApiError;

/// Limits, timeouts and who may call the server.
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
    /// Host names a gateway in front may use, besides loopback names with the server's port.
    pub allowed_hosts: Vec<String>,
    /// How many live streams one user, and everyone, may hold.
    pub live_limits: LiveLimits,
}

impl ApiOptions {
    /// Limits derived from the store's payload limit.
    pub fn for_store(store: &Store) -> Self {
        Self {
            max_event_body_bytes: store.options().max_payload_bytes + 64 * 1024,
            max_batch_body_bytes: 32 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            ui_dir: None,
            allowed_hosts: Vec::new(),
            live_limits: LiveLimits::default(),
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
    pub announcements: Announcements,
    /// The web console's files, when served.
    pub ui: Option<console::Console>,
}

/// Every route with its OpenAPI entry, declared once: the router and `/openapi.json` are
/// both made from this, so they cannot disagree. Requests on these routes take at most the
/// request timeout; the live streams are in [`streaming_routes`].
fn bounded_routes(options: &ApiOptions) -> OpenApiRouter<AppState> {
    let single = OpenApiRouter::new()
        .routes(routes!(events::append))
        .layer(DefaultBodyLimit::max(options.max_event_body_bytes));
    let batch = OpenApiRouter::new()
        .routes(routes!(events::append_batch))
        .layer(DefaultBodyLimit::max(options.max_batch_body_bytes));
    let check = OpenApiRouter::new()
        .routes(routes!(export::check))
        .layer(DefaultBodyLimit::max(export::MAX_CHECK_BYTES));
    OpenApiRouter::new()
        .merge(single)
        .merge(batch)
        .merge(check)
        .routes(routes!(events::seed_aggregate_events))
        .routes(routes!(events::seed_events_by_type))
        .routes(routes!(events::practices))
        .routes(routes!(events::practice))
        .routes(routes!(events::timeline))
        .routes(routes!(events::event))
        .routes(routes!(events::aggregates))
        .routes(routes!(events::aggregate_events))
        .routes(routes!(events::events_by_type))
        .routes(routes!(events::verify))
        .routes(routes!(export::head))
        .routes(routes!(seeding::generate))
        .routes(routes!(projectors::status_all))
        .routes(routes!(projectors::status))
        .routes(routes!(projectors::reset))
        .routes(routes!(projectors::retry))
        .routes(routes!(projectors::skip))
        .routes(routes!(read_models::directory))
        .routes(routes!(read_models::users))
        .routes(routes!(read_models::members))
        .routes(routes!(read_models::recent_aggregates))
        .routes(routes!(read_models::activity))
        .routes(routes!(events::registry))
        .routes(routes!(events::event_type))
        .routes(routes!(events::health))
        .routes(routes!(openapi::document))
}

/// The live streams: open as long as the client listens.
fn streaming_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(live::stream))
        .routes(routes!(projectors::live))
        .routes(routes!(export::export))
}

/// The whole API as a router for a server listening on `port` (`None`: any port, for a
/// router used without a listener). Starts the live-update relays, so call it inside a Tokio
/// runtime.
pub fn router(
    store: Store,
    options: &ApiOptions,
    port: Option<u16>,
    shutdown: watch::Receiver<bool>,
) -> Router {
    let allowed = Arc::new(guard::AllowedHosts {
        port,
        names: options
            .allowed_hosts
            .iter()
            .map(|name| name.to_ascii_lowercase())
            .collect(),
    });
    let state = AppState {
        announcements: Announcements::start(&store, options.live_limits, shutdown.clone()),
        store,
        shutdown,
        ui: options.ui_dir.as_deref().map(console::Console::new),
    };
    let timeout = options.request_timeout;
    let bounded = bounded_routes(options).layer(axum::middleware::from_fn(
        move |request: Request, next: Next| with_timeout(timeout, request, next),
    ));
    let (router, document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(bounded)
        .merge(streaming_routes())
        .split_for_parts();
    let document = Arc::new(openapi::complete(&document, &state.store));
    router
        .layer(axum::Extension(openapi::Document(document)))
        .fallback(console::or_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Outermost: nothing runs for a request meant for another host or a foreign page.
        .layer(axum::middleware::from_fn(
            move |request: Request, next: Next| guard::check(allowed.clone(), request, next),
        ))
        .with_state(state)
}

async fn with_timeout(limit: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            ErrorCode::Timeout,
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
        ErrorCode::NotFound,
        format!(
            "no route {} {}; GET /openapi.json lists them",
            request.method(),
            request.uri().path()
        ),
    )
}

async fn method_not_allowed(State(_): State<AppState>, request: Request) -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
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
    let port = listener.local_addr()?.port();
    let app = router(store, &options, Some(port), stopped);
    // Small answers leave at once: without TCP_NODELAY, a response written in two parts
    // waits for the client's delayed acknowledgement of the first.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
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
