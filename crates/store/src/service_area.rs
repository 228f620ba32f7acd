//! The service area the database serves: one row, written at first start
//! and by a deliberate change, each time with an audit entry.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, Row, Sqlite};
use trygg_core::service_area::Stored;
use trygg_core::time::to_ms;

use crate::backend::{PostgresStore, SqliteStore};
use crate::{Actor, Result};

#[async_trait]
pub trait ServiceAreas: Send + Sync {
    /// The area recorded, if any.
    async fn service_area(&self) -> Result<Option<Stored>>;
    /// Records the area (replacing any earlier one), audited.
    async fn set_service_area(
        &self,
        area: &Stored,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<()>;
}

macro_rules! service_areas {
    ($store:ident, $db:ty) => {
        #[async_trait]
        impl ServiceAreas for $store {
            async fn service_area(&self) -> Result<Option<Stored>> {
                let row = sqlx::query("SELECT definition, name, timezone, boundary FROM service_area WHERE id = 1")
                    .fetch_optional(self.pool())
                    .await?;
                row.map(|r: <$db as sqlx::Database>::Row| {
                    Ok(Stored {
                        definition: r.try_get("definition")?,
                        name: r.try_get("name")?,
                        timezone: r.try_get("timezone")?,
                        boundary: r.try_get("boundary")?,
                    })
                })
                .transpose()
            }

            async fn set_service_area(&self, area: &Stored, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
                let at = to_ms(now);
                let mut tx = self.pool().begin().await?;
                sqlx::query(
                    "INSERT INTO service_area (id, definition, name, timezone, boundary, set_at, set_by)
                     VALUES (1, $1, $2, $3, $4, $5, $6)
                     ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, name = excluded.name,
                       timezone = excluded.timezone, boundary = excluded.boundary,
                       set_at = excluded.set_at, set_by = excluded.set_by",
                )
                .bind(&area.definition)
                .bind(&area.name)
                .bind(&area.timezone)
                .bind(area.boundary.as_deref())
                .bind(at)
                .bind(actor.username.as_str())
                .execute(&mut *tx)
                .await?;
                let after = serde_json::json!({
                    "definition": area.definition,
                    "name": area.name,
                    "timezone": area.timezone,
                })
                .to_string();
                sqlx::query("INSERT INTO audit_log (at, user_id, username, organisation_id, action, after_json) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(at)
                    .bind(actor.user_id)
                    .bind(actor.username.as_str())
                    .bind(actor.organisation_id)
                    .bind("service-area-set")
                    .bind(after)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

service_areas!(SqliteStore, Sqlite);
service_areas!(PostgresStore, Postgres);
