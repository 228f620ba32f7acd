//! Persistence. SQLite is the embedded default, PostgreSQL the production
//! backend; both implement [`Store`] with the same SQL (sqlx binds `$N` on
//! both), generated once by the `backend!` macro. sqlx never crosses this
//! crate's boundary: callers see domain types only.

mod accounts;
pub mod admin;
mod backend;
pub mod changes;
mod connect;
mod error;
mod followups;
mod frozen;
mod rows;
mod second_factor;
mod service_area;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use trygg_core::access::View;
use trygg_core::attrs::ReportStatus;
use trygg_core::bbox::Bbox;
use trygg_core::index::IndexRow;
use trygg_core::query::ListQuery;
use trygg_core::{Feature, Kind, NewFeature};
use uuid::Uuid;

pub use accounts::{Accounts, AuditEntry, NewUser, SessionRecord, TokenRecord, UserChange};
pub use connect::{Backend, DatabaseUrl, connect};
pub use error::{Error, Result};
pub use followups::{Followups, PublishedRecord};
pub use frozen::{Frozen, FrozenRecord};
pub use second_factor::{SecondFactorRecord, SecondFactors};
pub use service_area::ServiceAreas;

/// Who a write is attributed to in the records and the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Actor {
    pub user_id: Option<Uuid>,
    pub username: String,
    pub organisation_id: Option<Uuid>,
}

impl Actor {
    /// A write made by Trygg itself (the demo loader, a migration).
    pub fn system(label: &str) -> Self {
        Self {
            user_id: None,
            username: label.to_owned(),
            organisation_id: None,
        }
    }

    pub fn user(user: &trygg_core::access::User) -> Self {
        Self {
            user_id: Some(user.id),
            username: user.username.clone(),
            organisation_id: Some(user.organisation_id),
        }
    }
}

/// The result of a create: the stored feature, and whether it is new or an
/// earlier upload of the same client id.
#[derive(Debug, Clone)]
pub struct Created {
    pub feature: Feature,
    pub created: bool,
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page {
    pub features: Vec<Feature>,
    /// Where the next page starts, when there is one.
    pub next_after: Option<Uuid>,
}

/// What an import did, per feature: written anew, changed, or already so.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

#[async_trait]
pub trait Store:
    Accounts + Followups + Frozen + SecondFactors + ServiceAreas + Send + Sync + 'static
{
    fn backend(&self) -> Backend;

    /// Changes written by other server instances (PostgreSQL only; `None`
    /// where there can be no other instance).
    async fn changes(&self) -> Result<Option<changes::Changes>>;

    /// Open and idle connections of the pool.
    fn pool_state(&self) -> (u32, u32);

    /// Whether the database answers.
    async fn ping(&self) -> Result<()>;

    /// Writes a new feature. A feature whose client id the actor's
    /// organisation used before for its kind returns the stored one
    /// (`created: false`); another organisation's record with the same
    /// client id is never matched (the write is a new record). A repeated
    /// source id is a conflict.
    async fn create(
        &self,
        feature: &NewFeature,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Created>;

    /// A feature the view sees; one it does not is `NotFound` (whether it
    /// exists is itself information).
    async fn get(&self, kind: Kind, id: Uuid, view: &View) -> Result<Feature>;

    /// Replaces a feature's geometry and attributes. Measures append to
    /// their status history when the status changes. With
    /// `expected_version`, a feature changed meanwhile is a conflict.
    async fn update(
        &self,
        kind: Kind,
        id: Uuid,
        feature: &NewFeature,
        expected_version: Option<i64>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Feature>;

    /// Decides a pending public report: approved, or rejected with a
    /// reason (`core::attrs::Report::decided`). The only write that changes
    /// a public report's status; `update` refuses to. With
    /// `expected_version`, a report changed meanwhile is a conflict.
    async fn moderate(
        &self,
        id: Uuid,
        decision: ReportStatus,
        note: Option<&str>,
        expected_version: Option<i64>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Feature>;

    /// Deletes a feature, returning what was deleted.
    async fn delete(
        &self,
        kind: Kind,
        id: Uuid,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Feature>;

    /// One page of the features the view sees (`query.organisation` is set
    /// from the view).
    async fn list(&self, kind: Kind, query: &ListQuery, view: &View) -> Result<Page>;

    /// The features with these ids, in the order given; ids not (or no
    /// longer) stored are left out, and so is a feature whose geometry
    /// misses `bbox` (ids chosen by bounding box) and one the view does not
    /// see. What a list answered from the in-memory index reads.
    async fn get_many(
        &self,
        kind: Kind,
        ids: &[Uuid],
        bbox: Option<&Bbox>,
        view: &View,
    ) -> Result<Vec<Feature>>;

    async fn count(&self, kind: Kind) -> Result<u64>;

    /// Writes many features in one transaction: all or nothing. Features
    /// with a source id replace the stored one with the same id (so a
    /// re-import changes nothing); others are inserted.
    async fn import(
        &self,
        features: &[NewFeature],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<ImportSummary> {
        self.import_with(features, actor, now, false, &|_| {}).await
    }

    /// As [`Store::import`]; with `dry_run`, everything is checked and
    /// counted inside the transaction, which is then rolled back.
    /// `progress` hears how many features are done, now and then.
    async fn import_with(
        &self,
        features: &[NewFeature],
        actor: &Actor,
        now: DateTime<Utc>,
        dry_run: bool,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<ImportSummary>;

    /// Writes a consistent copy of the whole database to `path` while the
    /// server keeps running (SQLite `VACUUM INTO`). PostgreSQL is backed up
    /// with `pg_dump`; this answers with how.
    async fn backup_to(&self, path: &std::path::Path) -> Result<()>;

    /// Every feature of a kind in the form the in-memory index needs.
    async fn index_rows(&self, kind: Kind) -> Result<Vec<IndexRow>> {
        let mut rows = Vec::new();
        self.each_index_row(Some(kind), &mut |_, r| rows.push(r))
            .await?;
        Ok(rows)
    }

    /// The same rows, streamed one at a time (a million rows are never
    /// held at once), of one kind or of every kind. Every kind at once is
    /// one pass over the table in storage order, which is what start-up
    /// wants: read through the kind index instead, a million rows are a
    /// million random page reads.
    async fn each_index_row(
        &self,
        kind: Option<Kind>,
        each: &mut (dyn FnMut(Kind, IndexRow) + Send),
    ) -> Result<()>;
}
