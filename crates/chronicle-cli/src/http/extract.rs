//! Request extractors whose failures use the API's error shape and name what was wrong:
//! the caller from `x-user-id`, JSON bodies, query strings and path segments. What is
//! well-formed is the layer's rule ([`chronicle::api`]); these only find the input.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use chronicle::api::{UserId, json};
use chronicle::{ErrorCode, Principal};
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// The caller, from the `x-user-id` header (trusted because a gateway sets it).
pub struct User(pub Principal);

/// The principal header.
pub const USER_HEADER: &str = "x-user-id";

impl<S: Send + Sync> FromRequestParts<S> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let pointer = format!("/headers/{USER_HEADER}");
        let mut values = parts.headers.get_all(USER_HEADER).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            if parts.headers.contains_key(USER_HEADER) {
                // A gateway that appends instead of replacing must not let the client's value win.
                return Err(ApiError::bad_request(
                    &pointer,
                    "must be given exactly once; this request has it more than once",
                ));
            }
            return Err(unauthenticated());
        };
        let text = std::str::from_utf8(value.as_bytes())
            .map_err(|_| ApiError::bad_request(&pointer, "must be UTF-8 text"))?;
        if text.trim().is_empty() {
            return Err(unauthenticated());
        }
        Ok(User(UserId::parse_at(&pointer, text)?.into()))
    }
}

fn unauthenticated() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthenticated,
        format!("the {USER_HEADER} header is required: it names the user making the request"),
    )
}

/// A JSON body parsed with the path of the first problem (`/events/3/payload`).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    "the request body is larger than this server accepts (see --max-body-bytes)",
                )
            } else {
                ApiError::bad_request("", format!("could not read the request body: {rejection}"))
            }
        })?;
        Ok(ApiJson(json::parse(&bytes)?))
    }
}

/// A query string parsed into `T`, naming the parameter that is wrong.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|e| {
                let pointer = json::to_pointer(&e.path().to_string());
                ApiError::bad_request(&pointer, format!("query parameter: {}", e.into_inner()))
            })
    }
}

/// Path segments, percent-decoded.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|rejection| ApiError::bad_request("/path", rejection.body_text()))
    }
}
