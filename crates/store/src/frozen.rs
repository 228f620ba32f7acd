//! Answers frozen once shown: written once, the first writer winning on
//! every instance, read ever after.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use trygg_core::time::to_ms;

use crate::Result;
use crate::backend::{PostgresStore, SqliteStore};

/// Something shown once that must not change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrozenRecord {
    pub name: String,
    pub frozen_at: i64,
    /// As JSON.
    pub content: String,
}

#[async_trait]
pub trait Frozen: Send + Sync {
    /// Keeps `content` under `name` unless something is kept there already,
    /// and returns what is kept: another instance may have frozen it first.
    async fn freeze(&self, name: &str, content: &str, now: DateTime<Utc>) -> Result<FrozenRecord>;
    async fn frozen(&self, name: &str) -> Result<Option<FrozenRecord>>;
}

macro_rules! frozen {
    ($store:ident) => {
        #[async_trait]
        impl Frozen for $store {
            async fn freeze(&self, name: &str, content: &str, now: DateTime<Utc>) -> Result<FrozenRecord> {
                sqlx::query("INSERT INTO frozen (name, frozen_at, content) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
                    .bind(name)
                    .bind(to_ms(now))
                    .bind(content)
                    .execute(self.pool())
                    .await?;
                self.frozen(name).await?.ok_or_else(|| crate::Error::Corrupt(format!("{name} was frozen and is gone")))
            }

            async fn frozen(&self, name: &str) -> Result<Option<FrozenRecord>> {
                let row = sqlx::query("SELECT name, frozen_at, content FROM frozen WHERE name = $1")
                    .bind(name)
                    .fetch_optional(self.pool())
                    .await?;
                row.map(|r| Ok(FrozenRecord { name: r.try_get("name")?, frozen_at: r.try_get("frozen_at")?, content: r.try_get("content")? }))
                    .transpose()
            }
        }
    };
}

frozen!(SqliteStore);
frozen!(PostgresStore);
