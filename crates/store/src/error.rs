use trygg_core::Kind;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no {kind} with id {id}")]
    NotFound { kind: Kind, id: Uuid },
    /// The write collides with what is stored (a repeated source id, a
    /// stale version).
    #[error("{field}: {reason}")]
    Conflict { field: String, reason: String },
    /// The domain refused the write (an invalid status transition, …).
    #[error(transparent)]
    Invalid(#[from] trygg_core::Error),
    /// The database cannot be reached now; the same request may work later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database configuration: {0}")]
    Config(String),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

/// SQLSTATEs of a session the server cut or would not open: class 08
/// (connection exception) and PostgreSQL's shutdown codes, 57P01 when a
/// restart ends the sessions in use, 57P02 after a crash, 57P03 while it
/// starts. The session is lost, not the database: once it is back, the
/// same request works (a retried upload finds its client id).
fn lost_connection(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Error::Unavailable(e.to_string())
            }
            sqlx::Error::Database(ref db) if db.code().is_some_and(|c| lost_connection(&c)) => {
                Error::Unavailable(e.to_string())
            }
            sqlx::Error::Database(ref db) if db.is_unique_violation() => Error::Conflict {
                field: "properties.source_id".into(),
                reason: "a record with this source id or client id already exists".into(),
            },
            other => Error::Database(other),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
