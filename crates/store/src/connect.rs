use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::backend::{PostgresStore, SqliteStore};
use crate::{Error, Result, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database URL whose password never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL scheme picks the backend, here and nowhere else.
    pub fn backend(&self) -> Result<Backend> {
        let u = self.0.as_str();
        if u.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if u.starts_with("postgres://") || u.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(Error::Config(format!(
                "`{self}` is not a database URL Trygg knows; use sqlite:trygg.db or postgres://user@host/db"
            )))
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // user:password@host → user:***@host
        match (self.0.find("://"), self.0.rfind('@')) {
            (Some(s), Some(at)) if at > s => {
                let creds = &self.0[s + 3..at];
                let user = creds.split(':').next().unwrap_or("");
                let redacted = if creds.contains(':') {
                    format!("{user}:***")
                } else {
                    user.to_owned()
                };
                write!(f, "{}{}{}", &self.0[..s + 3], redacted, &self.0[at..])
            }
            _ => f.write_str(&self.0),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// Opens the database the URL names, creating a missing SQLite file, and
/// applies pending migrations.
pub async fn connect(url: &DatabaseUrl) -> Result<Arc<dyn Store>> {
    match url.backend()? {
        Backend::Sqlite => {
            let in_memory =
                url.expose().contains(":memory:") || url.expose().contains("mode=memory");
            // WAL lets readers run beside the one writer. synchronous=FULL
            // syncs the WAL on every commit, so an acknowledged write
            // survives a power cut too, not only a crash of the process;
            // Trygg's write rate (people logging in the field) affords it.
            let options = SqliteConnectOptions::from_str(url.expose())
                .map_err(|e| Error::Config(e.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                // An in-memory database lives in one connection.
                .max_connections(if in_memory { 1 } else { 8 })
                .min_connections(u32::from(in_memory))
                .idle_timeout(if in_memory {
                    None
                } else {
                    Some(Duration::from_mins(10))
                })
                .max_lifetime(if in_memory {
                    None
                } else {
                    Some(Duration::from_hours(1))
                })
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(|e| Error::Unavailable(format!("cannot open {url}: {e}")))?;
            sqlx::migrate!("../../migrations/sqlite").run(&pool).await?;
            Ok(Arc::new(SqliteStore::new(pool)))
        }
        Backend::Postgres => {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect(url.expose())
                .await
                .map_err(|e| Error::Unavailable(format!("cannot connect to {url}: {e}")))?;
            sqlx::migrate!("../../migrations/postgres")
                .run(&pool)
                .await?;
            Ok(Arc::new(PostgresStore::new(pool)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        let u = DatabaseUrl::new("postgres://trygg:s3cret@db.example:5432/trygg");
        assert_eq!(u.to_string(), "postgres://trygg:***@db.example:5432/trygg");
        assert!(!format!("{u:?}").contains("s3cret"));
    }

    #[test]
    fn the_scheme_picks_the_backend() {
        assert_eq!(
            DatabaseUrl::new("sqlite:trygg.db").backend().unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            DatabaseUrl::new("postgresql://x/y").backend().unwrap(),
            Backend::Postgres
        );
        assert!(DatabaseUrl::new("mysql://x/y").backend().is_err());
    }
}
