//! Request extractors whose failures use the API's error shape and name what was wrong:
//! the principal from `x-user-id`, JSON bodies, query strings and path segments.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use chronicle::Principal;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// The caller, from the `x-user-id` header (trusted because a gateway sets it).
pub struct User(pub Principal);

/// The principal header.
pub const USER_HEADER: &str = "x-user-id";

impl<S: Send + Sync> FromRequestParts<S> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(USER_HEADER) else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                format!(
                    "the {USER_HEADER} header is required: it names the user making the request"
                ),
            ));
        };
        let invalid = |why: &str| {
            ApiError::with_details(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                format!("the {USER_HEADER} header {why}"),
                vec![chronicle::Violation::new(
                    format!("/headers/{USER_HEADER}"),
                    why,
                )],
            )
        };
        let user = value
            .to_str()
            .map_err(|_| invalid("must be visible ASCII text"))?
            .trim();
        if user.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if user.chars().count() > chronicle::rules::MAX_ID_LEN {
            return Err(invalid("must be at most 255 characters"));
        }
        Ok(User(Principal::user(user)))
    }
}

/// A JSON body parsed with the path of the first problem (`/events/3/payload`).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the request body is larger than this server accepts (see --max-body-bytes)",
                )
            } else {
                ApiError::bad_request("", format!("could not read the request body: {rejection}"))
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses JSON, naming where it breaks.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "",
            "the request body is empty; send a JSON object",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let pointer = to_pointer(&e.path().to_string());
        let inner = e.into_inner();
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("malformed JSON: {inner}")
        } else {
            inner.to_string()
        };
        ApiError::bad_request(&pointer, message)
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::bad_request("", format!("malformed JSON: {e}")))?;
    Ok(value)
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
                let pointer = to_pointer(&e.path().to_string());
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

/// `events[3].payload` (serde_path_to_error) to `/events/3/payload` (JSON pointer).
pub fn to_pointer(path: &str) -> String {
    if path == "." || path.is_empty() {
        return String::new();
    }
    path.replace('[', ".")
        .replace(']', "")
        .split('.')
        .filter(|s| !s.is_empty())
        .fold(String::new(), |mut out, segment| {
            out.push('/');
            out.push_str(&chronicle::rules::escape_pointer(segment));
            out
        })
}

#[cfg(test)]
mod tests {
    use super::to_pointer;

    #[test]
    fn serde_paths_become_json_pointers() {
        assert_eq!(to_pointer("events[3].payload"), "/events/3/payload");
        assert_eq!(to_pointer("."), "");
        assert_eq!(to_pointer("limit"), "/limit");
    }
}
