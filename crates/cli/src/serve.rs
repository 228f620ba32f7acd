use std::net::SocketAddr;

use chrono::Utc;
use trygg_core::demo::Scale;
use trygg_server::{AppState, Settings};
use trygg_store::DatabaseUrl;

use crate::{Result, data, demo};

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub database_url: DatabaseUrl,
    pub demo: bool,
    pub service_area: String,
    pub settings: Settings,
}

/// Connects, migrates, optionally loads the demo, and serves until Ctrl-C
/// or SIGTERM.
pub async fn run(opts: ServeOptions) -> Result<()> {
    let area = data::service_area(&opts.service_area)?;
    tracing::info!(database = %opts.database_url, service_area = %area.name, "opening database");
    let store = trygg_store::connect(&opts.database_url).await?;
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
    tracing::info!("listening on http://{addr}");
    trygg_server::serve(listener, trygg_server::app(state), shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down; finishing requests in flight");
}
