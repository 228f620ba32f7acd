//! Telling other server instances about writes. PostgreSQL carries a
//! notification on the `trygg_changes` channel with every committed write
//! (sent inside the write's transaction, so it goes out only if the write
//! commits); each instance listens and updates its in-memory index. SQLite
//! is one process's database and has nothing to tell.

use tokio::sync::mpsc;
use trygg_core::Kind;
use uuid::Uuid;

pub const CHANNEL: &str = "trygg_changes";

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// One feature was written or deleted.
    Feature(Kind, Uuid),
    /// Many features of a kind changed at once (an import).
    Kind(Kind),
    /// Notifications may have been lost (the listener reconnected):
    /// rebuild everything.
    Everything,
}

/// The notification payload of a change.
pub fn payload(kind: Kind, id: Option<Uuid>) -> String {
    match id {
        Some(id) => format!("{}:{id}", kind.as_str()),
        None => format!("{}:*", kind.as_str()),
    }
}

pub fn parse(payload: &str) -> Option<Change> {
    let (kind, id) = payload.split_once(':')?;
    let kind: Kind = kind.parse().ok()?;
    if id == "*" {
        return Some(Change::Kind(kind));
    }
    Uuid::parse_str(id).ok().map(|id| Change::Feature(kind, id))
}

pub type Changes = mpsc::Receiver<Change>;

async fn subscribe(pool: &sqlx::PgPool) -> sqlx::Result<sqlx::postgres::PgListener> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Listens on PostgreSQL and forwards changes until the receiver is dropped.
pub(crate) async fn listen(pool: &sqlx::PgPool) -> crate::Result<Changes> {
    let mut listener = subscribe(pool).await?;
    let pool = pool.clone();
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(async move {
        loop {
            let change = match listener.try_recv().await {
                Ok(Some(n)) => {
                    let Some(c) = parse(n.payload()) else {
                        tracing::warn!(payload = n.payload(), "unreadable change notification");
                        continue;
                    };
                    c
                }
                // The connection dropped and came back: some notifications
                // may be gone.
                Ok(None) => Change::Everything,
                // The connection dropped and could not come back yet (the
                // database is restarting). Left alone, the listener would
                // reconnect on a later receive without saying so, and what
                // was written meanwhile would never reach the index; so
                // listen anew and rebuild once listening again.
                Err(e) => {
                    tracing::warn!(error = %e, "change listener lost the database; reconnecting");
                    loop {
                        if tx.is_closed() {
                            return;
                        }
                        match subscribe(&pool).await {
                            Ok(fresh) => {
                                listener = fresh;
                                break;
                            }
                            Err(e) => {
                                tracing::debug!(error = %e, "change listener cannot reconnect yet");
                                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                            }
                        }
                    }
                    tracing::info!("change listener reconnected; rebuilding the index");
                    Change::Everything
                }
            };
            if tx.send(change).await.is_err() {
                return;
            }
        }
    });
    Ok(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip() {
        let id = Uuid::now_v7();
        assert_eq!(
            parse(&payload(Kind::Presence, Some(id))),
            Some(Change::Feature(Kind::Presence, id))
        );
        assert_eq!(
            parse(&payload(Kind::Incident, None)),
            Some(Change::Kind(Kind::Incident))
        );
        assert_eq!(parse("nonsense"), None);
    }
}
