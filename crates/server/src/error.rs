//! One error type for the API, rendered once as RFC 9457 problem+json.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: String,
    /// The input that is wrong: a query parameter, `body`, or a path into
    /// the GeoJSON (`properties.category`).
    pub field: Option<String>,
    retry_after: Option<u32>,
    /// Further members of the problem (RFC 9457 extension members), e.g. an
    /// import's `location` (`line 12`).
    members: Vec<(&'static str, serde_json::Value)>,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            field: None,
            retry_after: None,
            members: Vec::new(),
        }
    }

    /// The same problem with an extension member.
    #[must_use]
    pub fn with_member(mut self, name: &'static str, value: serde_json::Value) -> Self {
        self.members.push((name, value));
        self
    }

    pub fn field(status: StatusCode, field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            ..Self::new(status, detail)
        }
    }

    /// An error the client may retry after `secs` seconds.
    pub fn retry(status: StatusCode, detail: impl Into<String>, secs: u64) -> Self {
        Self {
            retry_after: Some(u32::try_from(secs).unwrap_or(u32::MAX)),
            ..Self::new(status, detail)
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// A domain error about a query parameter.
    pub fn query(e: trygg_core::Error) -> Self {
        let (field, detail) = split(e);
        Self::field(StatusCode::BAD_REQUEST, field, detail)
    }

    /// A domain error about a request body: well-formed JSON that the
    /// domain refuses.
    pub fn body(e: trygg_core::Error) -> Self {
        let (field, detail) = split(e);
        let field = if field.is_empty() {
            "body".to_owned()
        } else {
            field
        };
        Self::field(StatusCode::UNPROCESSABLE_ENTITY, field, detail)
    }
}

/// The field a domain error names, and the whole message for `detail`.
fn split(e: trygg_core::Error) -> (String, String) {
    let detail = e.to_string();
    match e {
        trygg_core::Error::Invalid { field, .. } | trygg_core::Error::TooLarge { field, .. } => {
            (field, detail)
        }
    }
}

impl From<trygg_store::Error> for ApiError {
    fn from(e: trygg_store::Error) -> Self {
        use trygg_store::Error as E;
        match e {
            E::NotFound { .. } => Self::not_found(e.to_string()),
            E::Conflict {
                ref field,
                ref reason,
            } if field == "version" => {
                Self::field(StatusCode::PRECONDITION_FAILED, "If-Match", reason.clone())
            }
            E::Conflict { field, reason } => Self::field(
                StatusCode::CONFLICT,
                field.clone(),
                format!("{field}: {reason}"),
            ),
            E::Invalid(inner) => Self::body(inner),
            E::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                Self {
                    retry_after: Some(5),
                    ..Self::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "the database is not reachable; try again shortly",
                    )
                }
            }
            other => {
                // The cause goes to the log (with the request's span), never
                // to the client.
                tracing::error!(error = %other, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "an internal error occurred; it has been logged",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": "about:blank",
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if let Some(field) = &self.field {
            body["field"] = json!(field);
        }
        for (name, value) in self.members {
            body[name] = value;
        }
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

pub(crate) fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "an internal error occurred; it has been logged",
    )
    .into_response()
}
