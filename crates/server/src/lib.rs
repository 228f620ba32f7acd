//! The HTTP API. Handlers are thin: parse (with `core`), call the store or
//! the in-memory layers, render. Every error leaves as one problem+json.

mod error;
mod extract;
mod geojson;
mod layers;
mod routes;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use trygg_core::service_area::ServiceArea;
use trygg_store::Store;

pub use error::ApiError;
pub use layers::Layers;

/// Limits that protect the server from one request that asks too much.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_hex_cells: usize,
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // A detailed district polygon is a few hundred KB.
            max_body_bytes: 2 * 1024 * 1024,
            max_hex_cells: 50_000,
            request_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub layers: Arc<Layers>,
    pub area: Arc<ServiceArea>,
    pub limits: Limits,
}

impl AppState {
    /// Builds the state, loading every layer index from the store.
    pub async fn new(
        store: Arc<dyn Store>,
        area: ServiceArea,
        limits: Limits,
    ) -> Result<Self, trygg_store::Error> {
        let layers = Layers::load(store.as_ref()).await?;
        Ok(Self {
            store,
            layers: Arc::new(layers),
            area: Arc::new(area),
            limits,
        })
    }
}

/// The whole application as one router.
pub fn app(state: AppState) -> Router {
    let limits = state.limits.clone();
    routes::router()
        .with_state(state)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            limits.request_timeout,
        ))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(TraceLayer::new_for_http())
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
