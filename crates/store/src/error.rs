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

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
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
