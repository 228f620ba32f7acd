//! Published follow-ups: written once, read many times.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, Row, Sqlite};
use trygg_core::time::to_ms;

use crate::backend::{PostgresStore, SqliteStore};
use crate::{Actor, Error, Result};

/// A period's follow-up as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedRecord {
    pub period: String,
    pub published_at: i64,
    pub published_by: String,
    /// The figures as JSON.
    pub figures: String,
}

#[async_trait]
pub trait Followups: Send + Sync {
    /// Freezes a period's figures; a period is published once.
    async fn publish_followup(
        &self,
        period: &str,
        figures: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<PublishedRecord>;
    async fn published_followup(&self, period: &str) -> Result<Option<PublishedRecord>>;
    /// Every published period, newest first.
    async fn published_followups(&self) -> Result<Vec<PublishedRecord>>;
}

macro_rules! followups {
    ($store:ident, $db:ty) => {
        impl $store {
            fn published_from(r: &<$db as sqlx::Database>::Row) -> Result<PublishedRecord> {
                Ok(PublishedRecord {
                    period: r.try_get("period")?,
                    published_at: r.try_get("published_at")?,
                    published_by: r.try_get("published_by")?,
                    figures: r.try_get("figures")?,
                })
            }
        }

        #[async_trait]
        impl Followups for $store {
            async fn publish_followup(&self, period: &str, figures: &str, actor: &Actor, now: DateTime<Utc>) -> Result<PublishedRecord> {
                let record = PublishedRecord {
                    period: period.to_owned(),
                    published_at: to_ms(now),
                    published_by: actor.username.clone(),
                    figures: figures.to_owned(),
                };
                let mut tx = self.pool().begin().await?;
                sqlx::query("INSERT INTO followups (period, published_at, published_by, figures) VALUES ($1, $2, $3, $4)")
                    .bind(&record.period)
                    .bind(record.published_at)
                    .bind(&record.published_by)
                    .bind(&record.figures)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match Error::from(e) {
                        Error::Conflict { .. } => Error::Conflict {
                            field: "period".into(),
                            reason: format!("{period} is already published; later changes show as corrections"),
                        },
                        other => other,
                    })?;
                sqlx::query("INSERT INTO audit_log (at, user_id, username, organisation_id, action, after_json) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(record.published_at)
                    .bind(actor.user_id)
                    .bind(actor.username.as_str())
                    .bind(actor.organisation_id)
                    .bind("followup-publish")
                    .bind(figures)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(record)
            }

            async fn published_followup(&self, period: &str) -> Result<Option<PublishedRecord>> {
                let row = sqlx::query("SELECT period, published_at, published_by, figures FROM followups WHERE period = $1")
                    .bind(period)
                    .fetch_optional(self.pool())
                    .await?;
                row.as_ref().map(Self::published_from).transpose()
            }

            async fn published_followups(&self) -> Result<Vec<PublishedRecord>> {
                let rows = sqlx::query("SELECT period, published_at, published_by, figures FROM followups ORDER BY published_at DESC")
                    .fetch_all(self.pool())
                    .await?;
                rows.iter().map(Self::published_from).collect()
            }
        }
    };
}

followups!(SqliteStore, Sqlite);
followups!(PostgresStore, Postgres);
