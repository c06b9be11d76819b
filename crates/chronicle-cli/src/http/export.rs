//! Exports as downloads, and the chain head to anchor them by.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chronicle::api;
use chronicle::export::{ExportManifest, ExportRequest};
use chronicle::{ChainHead, ErrorCode};
use tokio::io::AsyncReadExt;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, User};

/// Bytes the export writes ahead of a slow client.
const PIPE_BYTES: usize = 1 << 20;

/// The practice's chain head (seq, hash, time): write it down outside the store, and
/// `verify?againstHash=` proves later that the store still holds the history up to it.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/head", tag = "audit",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path)),
    responses((status = 200, body = ChainHead), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn head(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
) -> Result<Json<ChainHead>, ApiError> {
    Ok(Json(
        api::chain_head(&app.store, &user, &practice_id).await?,
    ))
}

/// Exports the practice's timeline, or a filtered slice of it, as a file download (any member).
/// The export is recorded in the practice first (`audit.export_created`); its manifest comes
/// first in the file (NDJSON, JSON, HTML) or, for CSV, in the `x-chronicle-manifest` header
/// (base64url of the manifest JSON, to save as `FILE.manifest.json`). The body streams: a
/// failure midway ends it early, which `chronicle verify` reports as truncated.
#[utoipa::path(post, path = "/v1/practices/{practiceId}/exports", tag = "audit",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path)),
    request_body = ExportRequest,
    responses((status = 200, description = "The export file (application/x-ndjson, application/json, text/csv or text/html)",
        headers(("x-chronicle-export-id" = String, description = "The export's id"),
                ("x-chronicle-manifest" = String, description = "base64url of the manifest JSON"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn export(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
    ApiJson(request): ApiJson<ExportRequest>,
) -> Result<Response, ApiError> {
    let prepared = api::export(&app.store, &user, &practice_id, request).await?;
    let headers = [
        (
            header::CONTENT_TYPE,
            header_value(prepared.format().content_type())?,
        ),
        (
            header::CONTENT_DISPOSITION,
            header_value(&format!(
                "attachment; filename=\"{}\"",
                prepared.file_name()
            ))?,
        ),
        (
            header::HeaderName::from_static("x-chronicle-export-id"),
            header_value(&prepared.manifest().export_id)?,
        ),
        (
            header::HeaderName::from_static("x-chronicle-manifest"),
            header_value(&encoded_manifest(prepared.manifest()))?,
        ),
    ];
    let (mut writer, reader) = tokio::io::duplex(PIPE_BYTES);
    tokio::spawn(async move {
        let mut keep_going = |_: i64, _: i64| true;
        if let Err(error) = prepared.write_to(&mut writer, &mut keep_going).await {
            tracing::warn!(%error, export_id = prepared.manifest().export_id, "export stopped midway");
        }
    });
    let body = futures_util::stream::unfold(reader, |mut reader| async move {
        let mut buffer = vec![0u8; 64 * 1024];
        match reader.read(&mut buffer).await {
            Ok(0) | Err(_) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((
                    Ok::<_, std::io::Error>(axum::body::Bytes::from(buffer)),
                    reader,
                ))
            }
        }
    });
    Ok((headers, Body::from_stream(body)).into_response())
}

/// Largest export file the check endpoint accepts.
pub const MAX_CHECK_BYTES: usize = 1 << 30;

/// Checks an export file offline, exactly as `chronicle verify FILE` does: the body is the
/// NDJSON or JSON file (a CSV's manifest is a second file: check those with the CLI or the
/// desktop app). `200` with the result whether intact or not; `400` when the body is not an
/// export at all. The store is not read: anyone with an identity may check a file.
#[utoipa::path(post, path = "/v1/exports/check", tag = "audit",
    params(("x-user-id" = String, Header)),
    request_body(content = String, description = "The export file", content_type = "application/octet-stream"),
    responses((status = 200, body = chronicle::export::ExportCheck), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn check(
    User(_): User,
    body: Body,
) -> Result<Json<chronicle::export::ExportCheck>, ApiError> {
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    let unusable = |message: String| ApiError::from(chronicle::Error::invalid("/body", message));
    let file = tempfile::NamedTempFile::new()
        .map_err(|e| unusable(format!("cannot store the upload: {e}")))?;
    let path = file.path().to_path_buf();
    let mut out = tokio::fs::File::create(&path)
        .await
        .map_err(|e| unusable(format!("cannot store the upload: {e}")))?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            if e.to_string().contains("length limit") {
                ApiError::new(ErrorCode::PayloadTooLarge, format!("an export to check is at most {MAX_CHECK_BYTES} bytes here; use chronicle verify FILE"))
            } else {
                unusable(format!("the upload stopped: {e}"))
            }
        })?;
        out.write_all(&chunk)
            .await
            .map_err(|e| unusable(format!("cannot store the upload: {e}")))?;
    }
    out.flush()
        .await
        .map_err(|e| unusable(format!("cannot store the upload: {e}")))?;
    let private = path.display().to_string();
    let checked = tokio::task::spawn_blocking(move || {
        let result = chronicle::export::check_export(&path);
        drop(file);
        result
    })
    .await
    .map_err(|e| unusable(format!("the check stopped: {e}")))?;
    Ok(Json(checked.map_err(|e| {
        unusable(e.0.replace(&private, "the uploaded file"))
    })?))
}

fn encoded_manifest(manifest: &ExportManifest) -> String {
    let json = serde_json::to_vec(manifest).expect("a manifest serializes");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn header_value(text: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(text)
        .map_err(|_| ApiError::new(ErrorCode::Internal, "an export header could not be written"))
}
