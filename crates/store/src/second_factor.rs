//! Second factors (TOTP secrets) and recovery codes. A code's step is taken
//! by one conditional UPDATE, so two requests with the same code cannot
//! both win, on either backend.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use trygg_core::time::to_ms;
use uuid::Uuid;

use crate::backend::{PostgresStore, SqliteStore};
use crate::{Actor, Error, Result};

/// A user's factor. `secret` is base32: shown to its owner during
/// enrolment only, never in a log, an export or a listing.
#[derive(Clone, PartialEq, Eq)]
pub struct SecondFactorRecord {
    pub user_id: Uuid,
    pub secret: String,
    pub created_at: i64,
    /// `None` while the enrolment waits for its first code.
    pub confirmed_at: Option<i64>,
    pub last_step: Option<i64>,
}

impl std::fmt::Debug for SecondFactorRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecondFactorRecord")
            .field("user_id", &self.user_id)
            .field("secret", &"(hidden)")
            .field("confirmed_at", &self.confirmed_at)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

impl SecondFactorRecord {
    pub fn confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

#[async_trait]
pub trait SecondFactors: Send + Sync {
    async fn second_factor(&self, user_id: Uuid) -> Result<Option<SecondFactorRecord>>;
    /// Starts an enrolment with a new secret, replacing one still waiting
    /// for its first code. A confirmed factor is a conflict: it is reset
    /// first (by an admin).
    async fn begin_second_factor(
        &self,
        user_id: Uuid,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// Confirms a waiting enrolment with the step of its first code and
    /// keeps the hashes of its recovery codes (replacing any old ones).
    async fn confirm_second_factor(
        &self,
        user_id: Uuid,
        step: i64,
        recovery_hashes: &[String],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// Takes `step` for a confirmed factor if it is later than the last
    /// one taken; false when it is not (a replayed or older code).
    async fn take_step(&self, user_id: Uuid, step: i64) -> Result<bool>;
    /// Uses a recovery code once; false when it is unknown or used.
    async fn use_recovery_code(
        &self,
        user_id: Uuid,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// How many recovery codes are left.
    async fn recovery_codes_left(&self, user_id: Uuid) -> Result<u32>;
    /// Removes a user's factor and recovery codes; false when there was none.
    async fn reset_second_factor(
        &self,
        user_id: Uuid,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<bool>;
}

macro_rules! second_factors {
    ($store:ident) => {
        #[async_trait]
        impl SecondFactors for $store {
            async fn second_factor(&self, user_id: Uuid) -> Result<Option<SecondFactorRecord>> {
                let row = sqlx::query("SELECT user_id, secret, created_at, confirmed_at, last_step FROM second_factors WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(self.pool())
                    .await?;
                row.map(|r| {
                    Ok(SecondFactorRecord {
                        user_id: r.try_get("user_id")?,
                        secret: r.try_get("secret")?,
                        created_at: r.try_get("created_at")?,
                        confirmed_at: r.try_get("confirmed_at")?,
                        last_step: r.try_get("last_step")?,
                    })
                })
                .transpose()
            }

            async fn begin_second_factor(&self, user_id: Uuid, secret: &str, now: DateTime<Utc>) -> Result<()> {
                let done = sqlx::query(
                    "INSERT INTO second_factors (user_id, secret, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at \
                     WHERE second_factors.confirmed_at IS NULL",
                )
                .bind(user_id)
                .bind(secret)
                .bind(to_ms(now))
                .execute(self.pool())
                .await?;
                if done.rows_affected() == 0 {
                    return Err(Error::Conflict {
                        field: "second_factor".into(),
                        reason: "this account has a second factor already; an admin resets it first".into(),
                    });
                }
                Ok(())
            }

            async fn confirm_second_factor(&self, user_id: Uuid, step: i64, recovery_hashes: &[String], actor: &Actor, now: DateTime<Utc>) -> Result<()> {
                let mut tx = self.pool().begin().await?;
                let done = sqlx::query("UPDATE second_factors SET confirmed_at = $2, last_step = $3 WHERE user_id = $1 AND confirmed_at IS NULL")
                    .bind(user_id)
                    .bind(to_ms(now))
                    .bind(step)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(Error::Conflict {
                        field: "second_factor".into(),
                        reason: "no enrolment waits for its first code".into(),
                    });
                }
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                for hash in recovery_hashes {
                    sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                        .bind(user_id)
                        .bind(hash.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
                Self::record_in(&mut tx, actor, "second-factor-enrol", Some(serde_json::json!({ "user_id": user_id }).to_string()), now).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn take_step(&self, user_id: Uuid, step: i64) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE second_factors SET last_step = $2 \
                     WHERE user_id = $1 AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < $2)",
                )
                .bind(user_id)
                .bind(step)
                .execute(self.pool())
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn use_recovery_code(&self, user_id: Uuid, code_hash: &str, now: DateTime<Utc>) -> Result<bool> {
                let done = sqlx::query("UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL")
                    .bind(user_id)
                    .bind(code_hash)
                    .bind(to_ms(now))
                    .execute(self.pool())
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn recovery_codes_left(&self, user_id: Uuid) -> Result<u32> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
                    .bind(user_id)
                    .fetch_one(self.pool())
                    .await?;
                Ok(u32::try_from(n).unwrap_or(u32::MAX))
            }

            async fn reset_second_factor(&self, user_id: Uuid, actor: &Actor, now: DateTime<Utc>) -> Result<bool> {
                let mut tx = self.pool().begin().await?;
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                let done = sqlx::query("DELETE FROM second_factors WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                let had = done.rows_affected() > 0;
                if had {
                    Self::record_in(&mut tx, actor, "second-factor-reset", Some(serde_json::json!({ "user_id": user_id }).to_string()), now).await?;
                }
                tx.commit().await?;
                Ok(had)
            }
        }
    };
}

second_factors!(SqliteStore);
second_factors!(PostgresStore);
