//! The web console: the UI's build (`ui/dist`) served at `/` beside the API, so a team can
//! use Chronicle in a browser without installing the app. API paths never fall through to it:
//! an unknown `/v1/...` route is still a JSON 404.

use std::path::Path;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use super::AppState;

/// Scripts, styles and data only from this server; nothing embeds the console.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The console's files.
#[derive(Clone)]
pub struct Console {
    files: ServeDir<ServeFile>,
}

impl Console {
    /// Serves `dir`; paths that are not files get `index.html` (the UI routes in the hash).
    pub fn new(dir: &Path) -> Self {
        Self {
            files: ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html"))),
        }
    }
}

/// The router's fallback: console files for GET and HEAD outside the API, else a JSON 404.
pub async fn or_not_found(State(app): State<AppState>, request: Request) -> Response {
    let path = request.uri().path();
    let for_console = matches!(*request.method(), Method::GET | Method::HEAD)
        && !path.starts_with("/v1/")
        && path != "/v1";
    match app.ui {
        Some(console) if for_console => {
            let Ok(mut response) = console.files.oneshot(request).await;
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            );
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            response.into_response()
        }
        _ => super::not_found(request).await.into_response(),
    }
}
