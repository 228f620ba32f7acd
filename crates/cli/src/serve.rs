use std::net::SocketAddr;

use chrono::Utc;
use trygg_core::demo::Scale;
use trygg_server::{AppState, Settings};
use trygg_store::DatabaseUrl;

use crate::data::AreaChoice;
use crate::{Result, area, demo};

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub database_url: DatabaseUrl,
    pub demo: bool,
    pub area: AreaChoice,
    pub settings: Settings,
}

/// Connects, migrates, optionally loads the demo, and serves until Ctrl-C
/// or SIGTERM.
pub async fn run(opts: ServeOptions) -> Result<()> {
    tracing::info!(database = %opts.database_url, "opening database");
    let store = trygg_store::connect(&opts.database_url).await?;
    let area = area::resolve(store.as_ref(), &opts.area, opts.demo, false).await?;
    if opts.demo {
        if demo::is_empty(store.as_ref()).await? {
            let summary = demo::load(store.as_ref(), &area, Utc::now(), Scale::default()).await?;
            tracing::info!(
                areas = summary.areas,
                police_events = summary.police_events,
                synthetic = summary.synthetic,
                "demo data loaded"
            );
        } else {
            tracing::info!("database already holds data; --demo adds nothing");
        }
    }
    let listener = tokio::net::TcpListener::bind(opts.listen).await?;
    let addr = listener.local_addr()?;
    let mut settings = opts.settings;
    if settings.public_url.is_none() {
        // Development: links point where this process listens. Behind a
        // proxy set --public-url, or links name the loopback address.
        settings.public_url = Some(format!("http://{addr}"));
    }
    let state = AppState::new(store, area, settings).await?;
    let stop = shutdown_signal()?;
    tracing::info!("listening on http://{addr}");
    trygg_server::serve(listener, trygg_server::app(state), stop).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Registers Ctrl-C and SIGTERM now, before the server answers anything,
/// and resolves when either comes. Registered only once the future is first
/// polled (inside `axum::serve`), a SIGTERM right after `/readyz` said
/// ready met the default action and killed the process mid-request.
fn shutdown_signal() -> Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    let stop = {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        async move {
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
        }
    };
    #[cfg(not(unix))]
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    Ok(async move {
        stop.await;
        tracing::info!("shutting down; finishing requests in flight");
    })
}
