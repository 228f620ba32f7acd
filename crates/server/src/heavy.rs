//! Analyses (hot spots, emerging hot spots, dosage, evaluations, the
//! follow-up) are CPU work of seconds, not I/O: run on the async workers,
//! two of them could stop a two-core server from answering anything, even
//! `/healthz`. Every route this layer wraps therefore runs on a thread of
//! its own (`spawn_blocking`, the handler's future driven there by
//! `Handle::block_on`), at most one per core at once, with a bounded queue
//! behind them: a request beyond it is `503` with `Retry-After`, not one
//! more thread. Answers are kept per data generation, caller's view and
//! minute (some run up to now), so a dashboard asking again costs nothing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::auth::Caller;
use crate::{ApiError, AppState};

/// Requests that may wait for a core, per core.
const QUEUE_PER_CORE: usize = 4;
/// Answers kept; any more and they are dropped wholesale.
const MAX_KEPT: usize = 128;
/// The largest answer kept (a year's evaluation page is far below).
const MAX_KEPT_BYTES: usize = 4 * 1024 * 1024;

pub struct Heavy {
    cores: usize,
    running: Semaphore,
    /// Admitted: running or waiting for a core.
    admitted: AtomicUsize,
    /// Answers computed (not taken from those kept) since start.
    computed: AtomicUsize,
    kept: Mutex<HashMap<String, Kept>>,
}

#[derive(Clone)]
struct Kept {
    content_type: Option<HeaderValue>,
    body: Bytes,
}

impl Default for Heavy {
    fn default() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
    }
}

impl Heavy {
    pub fn new(cores: usize) -> Self {
        let cores = cores.max(1);
        Self {
            cores,
            running: Semaphore::new(cores),
            admitted: AtomicUsize::new(0),
            computed: AtomicUsize::new(0),
            kept: Mutex::new(HashMap::new()),
        }
    }

    /// Analyses running or waiting now.
    pub fn admitted(&self) -> usize {
        self.admitted.load(Ordering::Acquire)
    }

    /// Analyses computed since start (answers given from those kept are not).
    pub fn computed(&self) -> usize {
        self.computed.load(Ordering::Acquire)
    }

    fn kept(&self, key: &str) -> Option<Kept> {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    fn keep(&self, key: String, answer: Kept) {
        let mut map = self
            .kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_KEPT && !map.contains_key(&key) {
            map.clear();
        }
        map.insert(key, answer);
    }
}

/// Gives back the admission when a request ends, however it ends.
struct Admission<'a>(&'a AtomicUsize);

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn answer(kept: Kept) -> Response {
    let mut r = Response::new(Body::from(kept.body));
    if let Some(ct) = kept.content_type {
        r.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    r
}

/// The middleware: a kept answer, or a place in the queue and a thread.
pub async fn offload(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let heavy = &state.heavy;
    let view = req
        .extensions()
        .get::<Caller>()
        .map(|c| format!("{:?}", c.view()))
        .unwrap_or_default();
    let minute = chrono::Utc::now().timestamp() / 60;
    let key = format!(
        "{}|{}|{view}|{minute}|{}",
        state.layers.generation_all(),
        state.published_generation(),
        req.uri()
    );
    if let Some(kept) = heavy.kept(&key) {
        return answer(kept);
    }
    let limit = heavy.cores * (1 + QUEUE_PER_CORE);
    if heavy.admitted.fetch_add(1, Ordering::AcqRel) >= limit {
        heavy.admitted.fetch_sub(1, Ordering::AcqRel);
        return ApiError::retry(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is busy with other analyses; try again shortly",
            5,
        )
        .into_response();
    }
    let _admission = Admission(&heavy.admitted);
    let Ok(_core) = heavy.running.acquire().await else {
        return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    };
    tracing::info!(route = %req.uri().path(), "analysis started");
    heavy.computed.fetch_add(1, Ordering::AcqRel);
    let handle = tokio::runtime::Handle::current();
    let run = next.run(req);
    let response = match tokio::task::spawn_blocking(move || handle.block_on(run)).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "an analysis failed to finish");
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "an internal error occurred; it has been logged",
            )
            .into_response();
        }
    };
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_KEPT_BYTES).await else {
        return ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "an analysis answer was too large to send",
        )
        .into_response();
    };
    let kept = Kept {
        content_type: parts.headers.get(header::CONTENT_TYPE).cloned(),
        body: bytes.clone(),
    };
    heavy.keep(key, kept);
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_answers_are_bounded() {
        let h = Heavy::new(2);
        for i in 0..=MAX_KEPT {
            h.keep(
                format!("k{i}"),
                Kept {
                    content_type: None,
                    body: Bytes::from_static(b"{}"),
                },
            );
        }
        assert!(h.kept.lock().unwrap().len() <= MAX_KEPT);
        assert!(h.kept(&format!("k{MAX_KEPT}")).is_some());
    }
}
