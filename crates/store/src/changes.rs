//! Telling other server instances about writes. PostgreSQL carries a
//! notification on the `trygg_changes` channel with every committed write
//! (sent inside the write's transaction, so it goes out only if the write
//! commits); each instance listens and updates its in-memory index. An
//! SQLite file is served by one process, but `trygg import` may write to it
//! from another while it serves: the server watches the audit log for
//! imports and rebuilds the kinds they name.

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

/// How often a server on SQLite looks for imports made by another process.
const IMPORT_POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// Announces imports written to an SQLite file by other processes (the
/// CLI), from the audit row every import writes in its transaction.
pub(crate) async fn watch_imports(pool: &sqlx::SqlitePool) -> crate::Result<Changes> {
    let mut seen: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM audit_log")
        .fetch_one(pool)
        .await?;
    let pool = pool.clone();
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        while !tx.is_closed() {
            tokio::time::sleep(IMPORT_POLL).await;
            let rows: Vec<(i64, Option<String>)> = match sqlx::query_as(
                "SELECT id, after_json FROM audit_log WHERE id > $1 AND action = 'import' ORDER BY id",
            )
            .bind(seen)
            .fetch_all(&pool)
            .await
            {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(error = %e, "could not look for imports");
                    continue;
                }
            };
            for (id, note) in rows {
                seen = id;
                for kind in imported_kinds(note.as_deref()) {
                    if tx.send(Change::Kind(kind)).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    Ok(rx)
}

/// The kinds an import's audit note names; every kind when it cannot be
/// read, since a missed import would leave the maps stale.
fn imported_kinds(note: Option<&str>) -> Vec<Kind> {
    let named: Option<Vec<Kind>> = note
        .and_then(|n| serde_json::from_str::<serde_json::Value>(n).ok())
        .and_then(|v| {
            v["kinds"].as_array().map(|ks| {
                ks.iter()
                    .filter_map(|k| k.as_str().and_then(|k| k.parse().ok()))
                    .collect()
            })
        });
    named.unwrap_or_else(|| Kind::ALL.to_vec())
}

#[cfg(test)]
mod import_tests {
    use super::*;

    #[test]
    fn an_import_note_names_its_kinds_and_a_bad_one_means_all() {
        assert_eq!(
            imported_kinds(Some(r#"{"kinds":["incident","area"],"inserted":3}"#)),
            vec![Kind::Incident, Kind::Area]
        );
        assert_eq!(imported_kinds(Some("garbage")), Kind::ALL.to_vec());
        assert_eq!(imported_kinds(None), Kind::ALL.to_vec());
    }
}
