//! Prometheus metrics at `/metrics`: requests and latency per route and
//! status class, the in-memory index per kind, the database pool. Kept
//! in-process and small; a handful of counters need no exporter crate.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use trygg_core::Kind;

use crate::AppState;

/// Latency bucket bounds in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default, Clone)]
struct Series {
    count: u64,
    sum_s: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    /// (method, route, status class) → latency series.
    requests: Mutex<BTreeMap<(String, String, &'static str), Series>>,
}

fn class(status: u16) -> &'static str {
    match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut map = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let s = map
            .entry((method.to_owned(), route.to_owned(), class(status)))
            .or_default();
        s.count += 1;
        s.sum_s += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                s.buckets[i] += 1;
            }
        }
    }
}

/// Times every request under its route template (never the raw path, so
/// ids do not explode the number of series).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The text exposition format.
pub async fn render(State(state): State<AppState>) -> Response {
    let mut out = String::new();
    out.push_str("# HELP trygg_http_requests_total Requests by route, method and status class.\n# TYPE trygg_http_requests_total counter\n");
    let snapshot = state
        .metrics
        .requests
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    for ((m, r, c), s) in &snapshot {
        let _ = writeln!(
            out,
            "trygg_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{c}\"}} {}",
            label(m),
            label(r),
            s.count
        );
    }
    out.push_str("# HELP trygg_http_request_duration_seconds Request latency by route.\n# TYPE trygg_http_request_duration_seconds histogram\n");
    for ((m, r, c), s) in &snapshot {
        let l = format!(
            "method=\"{}\",route=\"{}\",status=\"{c}\"",
            label(m),
            label(r)
        );
        for (i, bound) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "trygg_http_request_duration_seconds_bucket{{{l},le=\"{bound}\"}} {}",
                s.buckets[i]
            );
        }
        let _ = writeln!(
            out,
            "trygg_http_request_duration_seconds_bucket{{{l},le=\"+Inf\"}} {}",
            s.count
        );
        let _ = writeln!(
            out,
            "trygg_http_request_duration_seconds_sum{{{l}}} {}",
            s.sum_s
        );
        let _ = writeln!(
            out,
            "trygg_http_request_duration_seconds_count{{{l}}} {}",
            s.count
        );
    }
    out.push_str("# HELP trygg_index_features Features in the in-memory index by kind.\n# TYPE trygg_index_features gauge\n");
    for kind in Kind::ALL {
        let _ = writeln!(
            out,
            "trygg_index_features{{kind=\"{}\"}} {}",
            kind.as_str(),
            state.layers.len(kind)
        );
    }
    let (size, idle) = state.store.pool_state();
    out.push_str("# HELP trygg_db_pool_connections Database pool connections.\n# TYPE trygg_db_pool_connections gauge\n");
    let _ = writeln!(out, "trygg_db_pool_connections{{state=\"open\"}} {size}");
    let _ = writeln!(out, "trygg_db_pool_connections{{state=\"idle\"}} {idle}");
    out.push_str("# HELP trygg_index_build_seconds Time the in-memory index took to build at start.\n# TYPE trygg_index_build_seconds gauge\n");
    let _ = writeln!(
        out,
        "trygg_index_build_seconds {}",
        state.layers.build_seconds()
    );
    let mut r = out.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}
