//! Extractors whose failures are problem+json naming what is wrong.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde_json::Value;

use crate::ApiError;

/// The query string as ordered key/value pairs, percent-decoded.
pub struct Params(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        Ok(Self(
            form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }
}

/// A JSON request body (GeoJSON is JSON), parsed but not yet validated.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // A JSON type is required, not assumed: a page on another site
        // can send a form or text/plain without asking, but not JSON (a
        // login made that way would be login CSRF).
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or("").trim();
        if !(essence == "application/json"
            || essence == "application/geo+json"
            || essence.ends_with("+json"))
        {
            let sent = if essence.is_empty() {
                "no Content-Type".to_owned()
            } else {
                format!("`{}`", crate::auth::log_text(essence, 80))
            };
            return Err(ApiError::field(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type",
                format!("{sent} is not JSON; send application/json (or application/geo+json)"),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            let status = rejection.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::field(
                    status,
                    "body",
                    "the body is larger than this server accepts",
                )
            } else {
                ApiError::field(status, "body", rejection.body_text())
            }
        })?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::field(
                StatusCode::BAD_REQUEST,
                "body",
                format!("not valid JSON: {e} (NaN and Infinity are not JSON numbers)"),
            )
        })?;
        Ok(Self(value))
    }
}
