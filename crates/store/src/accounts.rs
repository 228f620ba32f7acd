//! Organisations, users, sessions, API tokens and the audit log. Secrets
//! arrive here already hashed (passwords with Argon2id, tokens with
//! SHA-256): this crate never sees one in the clear.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, Row, Sqlite};
use trygg_core::access::{Organisation, Role, Scope, User};
use trygg_core::time::{from_ms, to_ms};
use uuid::Uuid;

use crate::backend::{PostgresStore, SqliteStore};
use crate::{Actor, Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub can_publish: bool,
    pub organisation_id: Uuid,
}

/// What an admin may change about a user; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub can_publish: Option<bool>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub token_hash: String,
    pub user_id: Uuid,
    pub csrf_token: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub token_hash: String,
    pub scopes: Vec<Scope>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// When the token stops working (epoch ms).
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<Uuid>,
    pub username: Option<String>,
    pub organisation_id: Option<Uuid>,
    pub action: String,
    pub kind: Option<String>,
    pub feature_id: Option<Uuid>,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[async_trait]
pub trait Accounts: Send + Sync {
    async fn create_organisation(
        &self,
        name: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Organisation>;
    async fn organisations(&self) -> Result<Vec<Organisation>>;
    async fn organisation_by_name(&self, name: &str) -> Result<Option<Organisation>>;

    async fn create_user(&self, user: &NewUser, actor: &Actor, now: DateTime<Utc>) -> Result<User>;
    /// The user and their password hash, for login.
    async fn user_by_username(&self, username: &str) -> Result<Option<(User, String)>>;
    async fn user(&self, id: Uuid) -> Result<User>;
    async fn users(&self) -> Result<Vec<User>>;
    /// Changes a user; disabling or a new password ends their sessions, and
    /// disabling revokes their tokens for good (enabling the user again
    /// does not bring them back).
    async fn change_user(
        &self,
        id: Uuid,
        change: &UserChange,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<User>;

    async fn create_session(&self, session: &SessionRecord) -> Result<()>;
    /// An unexpired session and its user.
    async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(SessionRecord, User)>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;

    async fn create_token(
        &self,
        token: &TokenRecord,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// An unrevoked, unexpired token and its user.
    async fn token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(TokenRecord, User)>>;
    async fn touch_token(&self, id: Uuid, now: DateTime<Utc>) -> Result<()>;
    /// Tokens of one user, or of everyone.
    async fn tokens(&self, user_id: Option<Uuid>) -> Result<Vec<TokenRecord>>;
    /// Revokes a token; with `owner`, only one of that user's.
    async fn revoke_token(
        &self,
        id: Uuid,
        owner: Option<Uuid>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<()>;

    /// Remembers a browser that logged in to `user_id` (by the hash of its
    /// device secret), or notes its use again.
    async fn remember_device(
        &self,
        token_hash: &str,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// The user a remembered browser logged in to.
    async fn known_device(&self, token_hash: &str) -> Result<Option<Uuid>>;

    /// Audit entries, newest first, before `before_id` when given.
    async fn audit_entries(&self, before_id: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>>;
    /// Records something that is not a feature write (a login, a failed
    /// login, a user change) in the audit log.
    async fn record(
        &self,
        actor: &Actor,
        action: &str,
        detail: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<()>;
}

/// The columns `user_from` reads; a macro so queries stay `'static` strings.
macro_rules! user_columns {
    () => {
        "u.id, u.username, u.display_name, u.role, u.can_publish, u.organisation_id, o.name AS organisation, u.disabled, u.created_at"
    };
}

fn scopes_column(scopes: &[Scope]) -> String {
    format!(
        ",{},",
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    )
}

fn parse_scopes_column(s: &str) -> Result<Vec<Scope>> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| Scope::parse(p, "scopes").map_err(|e| Error::Corrupt(e.to_string())))
        .collect()
}

macro_rules! accounts {
    ($store:ident, $db:ty) => {
        impl $store {
            fn user_from(row: &<$db as sqlx::Database>::Row) -> Result<User> {
                let role: String = row.try_get("role")?;
                let created_at: i64 = row.try_get("created_at")?;
                Ok(User {
                    id: row.try_get("id")?,
                    username: row.try_get("username")?,
                    display_name: row.try_get("display_name")?,
                    role: Role::parse(&role, "role").map_err(|e| Error::Corrupt(e.to_string()))?,
                    can_publish: row.try_get("can_publish")?,
                    organisation_id: row.try_get("organisation_id")?,
                    organisation: row.try_get("organisation")?,
                    disabled: row.try_get("disabled")?,
                    created_at: from_ms(created_at),
                })
            }

            fn token_from(row: &<$db as sqlx::Database>::Row) -> Result<TokenRecord> {
                let scopes: String = row.try_get("scopes")?;
                Ok(TokenRecord {
                    id: row.try_get("token_id")?,
                    user_id: row.try_get("token_user")?,
                    name: row.try_get("name")?,
                    token_hash: row.try_get("token_hash")?,
                    scopes: parse_scopes_column(&scopes)?,
                    created_at: row.try_get("token_created")?,
                    last_used_at: row.try_get("last_used_at")?,
                    revoked_at: row.try_get("revoked_at")?,
                    expires_at: row.try_get("expires_at")?,
                })
            }

            pub(crate) async fn record_in(conn: &mut <$db as sqlx::Database>::Connection, actor: &Actor, action: &str, detail: Option<String>, now: DateTime<Utc>) -> Result<()> {
                sqlx::query("INSERT INTO audit_log (at, user_id, username, organisation_id, action, after_json) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(to_ms(now))
                    .bind(actor.user_id)
                    .bind(actor.username.as_str())
                    .bind(actor.organisation_id)
                    .bind(action)
                    .bind(detail)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }
        }

        #[async_trait]
        impl Accounts for $store {
            async fn create_organisation(&self, name: &str, actor: &Actor, now: DateTime<Utc>) -> Result<Organisation> {
                let org = Organisation { id: Uuid::now_v7(), name: name.trim().to_owned() };
                let mut tx = self.pool().begin().await?;
                sqlx::query("INSERT INTO organisations (id, name, created_at) VALUES ($1, $2, $3)")
                    .bind(org.id)
                    .bind(org.name.as_str())
                    .bind(to_ms(now))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match Error::from(e) {
                        Error::Conflict { .. } => Error::Conflict { field: "name".into(), reason: format!("an organisation named `{}` exists", org.name) },
                        other => other,
                    })?;
                Self::record_in(&mut tx, actor, "organisation-create", Some(serde_json::json!({ "id": org.id, "name": org.name }).to_string()), now).await?;
                tx.commit().await?;
                Ok(org)
            }

            async fn organisations(&self) -> Result<Vec<Organisation>> {
                let rows = sqlx::query("SELECT id, name FROM organisations ORDER BY name").fetch_all(self.pool()).await?;
                rows.iter().map(|r| Ok(Organisation { id: r.try_get("id")?, name: r.try_get("name")? })).collect()
            }

            async fn organisation_by_name(&self, name: &str) -> Result<Option<Organisation>> {
                let row = sqlx::query("SELECT id, name FROM organisations WHERE name = $1").bind(name.trim()).fetch_optional(self.pool()).await?;
                row.map(|r| Ok(Organisation { id: r.try_get("id")?, name: r.try_get("name")? })).transpose()
            }

            async fn create_user(&self, user: &NewUser, actor: &Actor, now: DateTime<Utc>) -> Result<User> {
                let id = Uuid::now_v7();
                let mut tx = self.pool().begin().await?;
                sqlx::query(
                    "INSERT INTO users (id, username, display_name, password_hash, role, can_publish, organisation_id, disabled, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(id)
                .bind(user.username.as_str())
                .bind(user.display_name.as_str())
                .bind(user.password_hash.as_str())
                .bind(user.role.as_str())
                .bind(user.can_publish)
                .bind(user.organisation_id)
                .bind(false)
                .bind(to_ms(now))
                .execute(&mut *tx)
                .await
                .map_err(|e| match Error::from(e) {
                    Error::Conflict { .. } => Error::Conflict { field: "username".into(), reason: format!("the username `{}` is taken", user.username) },
                    other => other,
                })?;
                let detail = serde_json::json!({ "id": id, "username": user.username, "role": user.role.as_str(), "can_publish": user.can_publish, "organisation_id": user.organisation_id });
                Self::record_in(&mut tx, actor, "user-create", Some(detail.to_string()), now).await?;
                tx.commit().await?;
                self.user(id).await
            }

            async fn user_by_username(&self, username: &str) -> Result<Option<(User, String)>> {
                let row = sqlx::query(concat!(
                    "SELECT ", user_columns!(), ", u.password_hash FROM users u JOIN organisations o ON o.id = u.organisation_id WHERE u.username = $1"
                ))
                .bind(username)
                .fetch_optional(self.pool())
                .await?;
                row.map(|r| Ok((Self::user_from(&r)?, r.try_get("password_hash")?))).transpose()
            }

            async fn user(&self, id: Uuid) -> Result<User> {
                let row = sqlx::query(concat!("SELECT ", user_columns!(), " FROM users u JOIN organisations o ON o.id = u.organisation_id WHERE u.id = $1"))
                    .bind(id)
                    .fetch_optional(self.pool())
                    .await?
                    .ok_or_else(|| Error::Conflict { field: "user".into(), reason: format!("no user with id {id}") })?;
                Self::user_from(&row)
            }

            async fn users(&self) -> Result<Vec<User>> {
                let rows = sqlx::query(concat!("SELECT ", user_columns!(), " FROM users u JOIN organisations o ON o.id = u.organisation_id ORDER BY u.username"))
                    .fetch_all(self.pool())
                    .await?;
                rows.iter().map(Self::user_from).collect()
            }

            async fn change_user(&self, id: Uuid, change: &UserChange, actor: &Actor, now: DateTime<Utc>) -> Result<User> {
                let before = self.user(id).await?;
                let mut tx = self.pool().begin().await?;
                sqlx::query(
                    "UPDATE users SET display_name = COALESCE($2, display_name), role = COALESCE($3, role), \
                     can_publish = COALESCE($4, can_publish), disabled = COALESCE($5, disabled), \
                     password_hash = COALESCE($6, password_hash) WHERE id = $1",
                )
                .bind(id)
                .bind(change.display_name.as_deref())
                .bind(change.role.map(Role::as_str))
                .bind(change.can_publish)
                .bind(change.disabled)
                .bind(change.password_hash.as_deref())
                .execute(&mut *tx)
                .await?;
                if change.disabled == Some(true) || change.password_hash.is_some() {
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
                }
                if change.disabled == Some(true) {
                    sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                        .bind(id)
                        .bind(to_ms(now))
                        .execute(&mut *tx)
                        .await?;
                }
                let detail = serde_json::json!({
                    "id": id,
                    "username": before.username,
                    "role": change.role.map(Role::as_str),
                    "can_publish": change.can_publish,
                    "disabled": change.disabled,
                    "password_changed": change.password_hash.is_some(),
                });
                Self::record_in(&mut tx, actor, "user-change", Some(detail.to_string()), now).await?;
                tx.commit().await?;
                self.user(id).await
            }

            async fn create_session(&self, s: &SessionRecord) -> Result<()> {
                sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(s.token_hash.as_str())
                    .bind(s.user_id)
                    .bind(s.csrf_token.as_str())
                    .bind(s.created_at)
                    .bind(s.expires_at)
                    .execute(self.pool())
                    .await?;
                Ok(())
            }

            async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<(SessionRecord, User)>> {
                let row = sqlx::query(concat!(
                    "SELECT ", user_columns!(), ", s.token_hash, s.csrf_token, s.created_at AS session_created, s.expires_at \
                     FROM sessions s JOIN users u ON u.id = s.user_id JOIN organisations o ON o.id = u.organisation_id \
                     WHERE s.token_hash = $1 AND s.expires_at > $2"
                ))
                .bind(token_hash)
                .bind(to_ms(now))
                .fetch_optional(self.pool())
                .await?;
                row.map(|r| {
                    let user = Self::user_from(&r)?;
                    Ok((
                        SessionRecord {
                            token_hash: r.try_get("token_hash")?,
                            user_id: user.id,
                            csrf_token: r.try_get("csrf_token")?,
                            created_at: r.try_get("session_created")?,
                            expires_at: r.try_get("expires_at")?,
                        },
                        user,
                    ))
                })
                .transpose()
            }

            async fn delete_session(&self, token_hash: &str) -> Result<()> {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(self.pool()).await?;
                Ok(())
            }

            async fn create_token(&self, t: &TokenRecord, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
                let mut tx = self.pool().begin().await?;
                sqlx::query("INSERT INTO api_tokens (id, user_id, name, token_hash, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(t.id)
                    .bind(t.user_id)
                    .bind(t.name.as_str())
                    .bind(t.token_hash.as_str())
                    .bind(scopes_column(&t.scopes))
                    .bind(t.created_at)
                    .bind(t.expires_at)
                    .execute(&mut *tx)
                    .await?;
                let detail = serde_json::json!({ "token_id": t.id, "user_id": t.user_id, "name": t.name, "scopes": scopes_column(&t.scopes), "expires_at": t.expires_at });
                Self::record_in(&mut tx, actor, "token-create", Some(detail.to_string()), now).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<(TokenRecord, User)>> {
                let row = sqlx::query(concat!(
                    "SELECT ", user_columns!(), ", t.id AS token_id, t.user_id AS token_user, t.name, t.token_hash, t.scopes, \
                     t.created_at AS token_created, t.last_used_at, t.revoked_at, t.expires_at \
                     FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN organisations o ON o.id = u.organisation_id \
                     WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2"
                ))
                .bind(token_hash)
                .bind(to_ms(now))
                .fetch_optional(self.pool())
                .await?;
                row.map(|r| Ok((Self::token_from(&r)?, Self::user_from(&r)?))).transpose()
            }

            async fn touch_token(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
                sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1").bind(id).bind(to_ms(now)).execute(self.pool()).await?;
                Ok(())
            }

            async fn tokens(&self, user_id: Option<Uuid>) -> Result<Vec<TokenRecord>> {
                let sql = "SELECT t.id AS token_id, t.user_id AS token_user, t.name, t.token_hash, t.scopes, t.created_at AS token_created, \
                           t.last_used_at, t.revoked_at, t.expires_at FROM api_tokens t WHERE ($1 IS NULL OR t.user_id = $1) ORDER BY t.created_at";
                let rows = sqlx::query(sql).bind(user_id).fetch_all(self.pool()).await?;
                rows.iter().map(Self::token_from).collect()
            }

            async fn revoke_token(&self, id: Uuid, owner: Option<Uuid>, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
                let mut tx = self.pool().begin().await?;
                let done = sqlx::query("UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND ($2 IS NULL OR user_id = $2) AND revoked_at IS NULL")
                    .bind(id)
                    .bind(owner)
                    .bind(to_ms(now))
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(Error::Conflict { field: "token".into(), reason: format!("no active token {id} to revoke") });
                }
                Self::record_in(&mut tx, actor, "token-revoke", Some(serde_json::json!({ "token_id": id }).to_string()), now).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn remember_device(&self, token_hash: &str, user_id: Uuid, now: DateTime<Utc>) -> Result<()> {
                sqlx::query(
                    "INSERT INTO known_devices (token_hash, user_id, created_at, last_used_at) VALUES ($1, $2, $3, $3) \
                     ON CONFLICT (token_hash) DO UPDATE SET last_used_at = $3",
                )
                .bind(token_hash)
                .bind(user_id)
                .bind(to_ms(now))
                .execute(self.pool())
                .await?;
                Ok(())
            }

            async fn known_device(&self, token_hash: &str) -> Result<Option<Uuid>> {
                Ok(sqlx::query_scalar("SELECT user_id FROM known_devices WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_optional(self.pool())
                    .await?)
            }

            async fn audit_entries(&self, before_id: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>> {
                let rows = sqlx::query(
                    "SELECT id, at, user_id, username, organisation_id, action, kind, feature_id, before_json, after_json \
                     FROM audit_log WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
                )
                .bind(before_id)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?;
                rows.iter()
                    .map(|r| {
                        let at: i64 = r.try_get("at")?;
                        Ok(AuditEntry {
                            id: r.try_get("id")?,
                            at: from_ms(at),
                            user_id: r.try_get("user_id")?,
                            username: r.try_get("username")?,
                            organisation_id: r.try_get("organisation_id")?,
                            action: r.try_get("action")?,
                            kind: r.try_get("kind")?,
                            feature_id: r.try_get("feature_id")?,
                            before: r.try_get("before_json")?,
                            after: r.try_get("after_json")?,
                        })
                    })
                    .collect()
            }

            async fn record(&self, actor: &Actor, action: &str, detail: Option<String>, now: DateTime<Utc>) -> Result<()> {
                let mut conn = self.pool().acquire().await?;
                Self::record_in(&mut conn, actor, action, detail, now).await
            }
        }
    };
}

accounts!(SqliteStore, Sqlite);
accounts!(PostgresStore, Postgres);
