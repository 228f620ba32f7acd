//! GeoJSON responses (`application/geo+json`).

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub struct GeoJson(pub String);

impl GeoJson {
    pub fn value(v: &Value) -> Self {
        Self(v.to_string())
    }
}

impl IntoResponse for GeoJson {
    fn into_response(self) -> Response {
        let mut r = self.0.into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/geo+json"),
        );
        r
    }
}
