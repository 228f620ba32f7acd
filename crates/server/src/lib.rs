//! The HTTP API. Handlers are thin: parse (with `core`), call the store or
//! the in-memory layers, render. Every error leaves as one problem+json.

pub mod auth;
mod error;
mod extract;
mod geojson;
pub mod heavy;
pub mod layers;
mod metrics;
pub mod routes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use trygg_core::privacy::PublicPolicy;
use trygg_core::service_area::ServiceArea;
use trygg_store::Store;

pub use auth::AuthConfig;
pub use error::ApiError;
pub use layers::Layers;

/// Limits that protect the server from one request that asks too much.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_hex_cells: usize,
    pub max_points: usize,
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // A detailed district polygon is a few hundred KB.
            max_body_bytes: 2 * 1024 * 1024,
            max_hex_cells: 50_000,
            // About 7 MB of GeoJSON: a street-level view of a year of a
            // national feed still fits; more is a map of dots nobody reads.
            max_points: 50_000,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Everything configurable about the server, with safe defaults.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub limits: Limits,
    pub auth: AuthConfig,
    pub public: PublicPolicy,
    /// Sites allowed to frame the public embed page (`https://www.kommun.se`);
    /// empty: only Trygg's own pages.
    pub embed_origins: Vec<String>,
    /// The address the public reaches Trygg at (`https://trygg.kommun.se`),
    /// for every absolute link Trygg writes; never taken from a request.
    pub public_url: Option<String>,
    /// The one cadence whose ended periods show the respondent-group split
    /// (`--group-period`); `None`: yearly. See `core::analytics::groups`.
    pub group_cadence: Option<trygg_core::analytics::period::Cadence>,
}

/// Checks the origins allowed to frame the embed page: `https://host[:port]`
/// (or `http://localhost…` for testing), or `*` for anyone.
pub fn parse_embed_origins(s: &str) -> Result<Vec<String>, String> {
    s.split([',', ' '])
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| {
            let ok = o == "*"
                || (o.starts_with("https://")
                    || o.starts_with("http://localhost")
                    || o.starts_with("http://127.0.0.1"))
                    && !o[o.find("//").map_or(0, |i| i + 2)..].contains(['/', ';', '\'', '"']);
            if ok {
                Ok(o.to_owned())
            } else {
                Err(format!(
                    "`{o}` is not an origin like https://www.linkoping.se"
                ))
            }
        })
        .collect()
}

/// Checks the public address (`--public-url`): `http(s)://host[:port]`,
/// optionally with a path prefix, no query or fragment; without a trailing
/// slash, ready for paths to be appended.
pub fn parse_public_url(s: &str) -> Result<String, String> {
    let s = s.trim().trim_end_matches('/');
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| format!("`{s}` is not an address like https://trygg.kommun.se"))?;
    let host = rest.split('/').next().unwrap_or("");
    let ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        && rest
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '?' | '#' | '"' | '<' | '>' | '\\'));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "`{s}` is not an address like https://trygg.kommun.se (no query, no fragment)"
        ))
    }
}

/// Throttles shared by every request of this instance.
pub struct AuthState {
    pub config: AuthConfig,
    pub logins: auth::throttle::LoginThrottle,
    /// Public reads per client address: a burst for a map page's layers,
    /// then a steady rate.
    pub public_reads: auth::throttle::RateLimit,
    /// Anonymous reports per client address.
    pub public_reports: auth::throttle::RateLimit,
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub layers: Arc<Layers>,
    pub area: Arc<ServiceArea>,
    pub limits: Limits,
    pub auth: Arc<AuthState>,
    pub public_policy: PublicPolicy,
    /// Periods of this cadence, and only these, show the group split.
    pub group_cadence: trygg_core::analytics::period::Cadence,
    pub embed_origins: Vec<String>,
    /// Every absolute link Trygg writes starts with this (`--public-url`).
    pub public_url: Arc<str>,
    /// When this instance started: an empty feed was last updated then.
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub(crate) public_cache: Arc<routes::public::PublicCache>,
    pub(crate) area_cells: Arc<routes::inputs::AreaCells>,
    pub(crate) metrics: Arc<metrics::Metrics>,
    /// Where analyses run: off the async workers, one per core at a time.
    pub heavy: Arc<heavy::Heavy>,
    /// Bumped by every publication through this server: answers that show
    /// what is published are kept per this and the data generation.
    published: Arc<std::sync::atomic::AtomicU64>,
}

impl AppState {
    /// Builds the state, loading every layer index from the store.
    pub async fn new(
        store: Arc<dyn Store>,
        area: ServiceArea,
        settings: Settings,
    ) -> Result<Self, trygg_store::Error> {
        // Listen before loading, so no write falls between the two.
        let changes = store.changes().await?;
        let layers = Arc::new(Layers::load(store.as_ref()).await?);
        if let Some(changes) = changes {
            tokio::spawn(layers::follow(
                Arc::clone(&store),
                Arc::clone(&layers),
                changes,
            ));
        }
        Ok(Self {
            store,
            layers,
            area: Arc::new(area),
            limits: settings.limits,
            auth: Arc::new(AuthState {
                config: settings.auth,
                logins: auth::throttle::LoginThrottle::default(),
                public_reads: auth::throttle::RateLimit::new(600, 600),
                public_reports: auth::throttle::RateLimit::new(5, 1),
            }),
            public_policy: settings.public,
            group_cadence: settings
                .group_cadence
                .unwrap_or(trygg_core::analytics::period::Cadence::Yearly),
            embed_origins: settings.embed_origins,
            public_url: settings.public_url.as_deref().map_or_else(
                || "http://localhost".into(),
                |u| u.trim_end_matches('/').into(),
            ),
            started_at: chrono::Utc::now(),
            public_cache: Arc::default(),
            area_cells: Arc::default(),
            metrics: Arc::default(),
            heavy: Arc::default(),
            published: Arc::default(),
        })
    }

    pub fn published_generation(&self) -> u64 {
        self.published.load(std::sync::atomic::Ordering::Acquire)
    }

    pub(crate) fn note_publication(&self) {
        self.published
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// Headers every answer carries; pages set their own stricter CSP.
async fn security_headers(req: Request, next: Next) -> Response {
    let https = auth::is_https(req.headers());
    let preflight =
        req.method() == Method::OPTIONS && req.uri().path().starts_with("/api/v1/public/");
    let mut r = if preflight {
        // Public data is open to every origin, for reading only.
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, HEAD"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
        r
    } else {
        next.run(req).await
    };
    let h = r.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("no-referrer"));
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'none'; frame-ancestors 'none'",
        ));
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(auth::HSTS),
        );
    }
    r
}

/// The longest client request id kept, and what it may contain: enough for
/// a UUID or a proxy's id, never a log line of its own.
const MAX_REQUEST_ID: usize = 64;

fn plain_request_id(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_REQUEST_ID
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Drops a client's `X-Request-Id` that is not a plain token, so that a new
/// one is made: the id goes into every log line of the request.
async fn checked_request_id(mut req: Request, next: Next) -> Response {
    if req
        .headers()
        .get("x-request-id")
        .is_some_and(|v| !plain_request_id(v))
    {
        req.headers_mut().remove("x-request-id");
    }
    next.run(req).await
}

/// The whole application as one router.
pub fn app(state: AppState) -> Router {
    let limits = state.limits.clone();
    let ancestors = if state.embed_origins.is_empty() {
        "'self'".to_owned()
    } else {
        state.embed_origins.join(" ")
    };
    routes::router(&ancestors, &state)
        .route("/metrics", axum::routing::get(metrics::render))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::authorize))
        .route_layer(middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
        // Fastest: a planner's 1.5 MB point layer shrinks about fivefold for
        // a few milliseconds; public answers come precompressed and pass.
        .layer(
            tower_http::compression::CompressionLayer::new()
                .quality(tower_http::CompressionLevel::Fastest),
        )
        .layer(middleware::from_fn(security_headers))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            limits.request_timeout,
        ))
        .layer(CatchPanicLayer::custom(error::panic_response))
        // Every log line of a request carries its id; the id goes back in
        // the answer so a user's report can be matched to the log.
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<axum::body::Body>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(tower_http::request_id::MakeRequestUuid))
        .layer(middleware::from_fn(checked_request_id))
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

#[cfg(test)]
mod tests {
    use super::parse_embed_origins;

    #[test]
    fn the_public_url_is_a_base_address() {
        use super::parse_public_url;
        assert_eq!(
            parse_public_url("https://trygg.linkoping.se/").unwrap(),
            "https://trygg.linkoping.se"
        );
        assert!(parse_public_url("https://kommun.se/trygg").is_ok());
        assert!(parse_public_url("trygg.kommun.se").is_err());
        assert!(parse_public_url("https://a.se/?x=1").is_err());
        assert!(parse_public_url("https://").is_err());
        assert!(parse_public_url("javascript:alert(1)").is_err());
    }

    #[test]
    fn embed_origins_are_origins() {
        assert_eq!(
            parse_embed_origins("https://www.linkoping.se, https://polisen.se")
                .unwrap()
                .len(),
            2
        );
        assert_eq!(parse_embed_origins("").unwrap().len(), 0);
        assert!(parse_embed_origins("*").is_ok());
        assert!(
            parse_embed_origins("http://evil.example").is_err(),
            "plain http only for local testing"
        );
        assert!(parse_embed_origins("https://a.se/path").is_err());
        assert!(parse_embed_origins("https://a.se; script-src *").is_err());
    }
}
