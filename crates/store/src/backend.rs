//! The two backends. One body of SQL, instantiated for SQLite and
//! PostgreSQL by `backend!`: sqlx binds `$N` placeholders on both, and the
//! schema uses only types both have, so the only differences are how a
//! write transaction begins and whether a read row is locked.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder, Row, Sqlite};
use trygg_core::access::View;
use trygg_core::attrs::{Attributes, ReportStatus, StatusChange};
use trygg_core::bbox::Bbox;
use trygg_core::feature::Prepared;
use trygg_core::index::IndexRow;
use trygg_core::query::ListQuery;
use trygg_core::time::to_ms;
use trygg_core::{Feature, Kind, NewFeature};
use uuid::Uuid;

use crate::rows::{RawFeature, RawStatus, cell_from_db, cell_to_db, to_feature, to_status};
use crate::{Actor, Backend, Created, Error, ImportSummary, Page, Result, Store};

const FEATURE_COLUMNS: &str =
    "id, kind, geometry, properties, version, created_at, updated_at, organisation_id, created_by";

/// Rows per multi-row INSERT: well under both backends' bind limits.
const CHUNK_ROWS: usize = 500;

/// Whether a stored geometry meets a box exactly (the SQL filter compares
/// bounding boxes only).
fn meets(feature: &Feature, bbox: &Bbox) -> bool {
    use geo::Intersects;
    feature.geometry.intersects(&bbox.to_rect())
}

/// A bigger page cache for the length of an import (SQLite): a million
/// rows touch every page of five indexes, and a small cache spills and
/// rereads them. Set back to the normal size after.
const IMPORT_CACHE: &str = "PRAGMA cache_size = -131072";
const NORMAL_CACHE: &str = "PRAGMA cache_size = -2000";

type PreparedRow<'a> = (&'a NewFeature, Vec<StatusChange>, Prepared);

/// The CPU part of importing a chunk: status history, JSON, H3 cells.
fn prepare_chunk(chunk: &[NewFeature], now: DateTime<Utc>) -> Result<Vec<PreparedRow<'_>>> {
    chunk
        .iter()
        .map(|feature| {
            let history = checked_history(feature, None, now)?;
            let prepared = feature.prepare(&history)?;
            Ok((feature, history, prepared))
        })
        .collect()
}

/// The rules a write obeys against the stored version (`None`: a new
/// record), all decided by the domain, here where every write passes: a
/// measure's status history, and a public report's status, which changes
/// only through [`Store::moderate`]. Returns the status history to store.
fn checked_history(
    feature: &NewFeature,
    previous: Option<&Feature>,
    now: DateTime<Utc>,
) -> Result<Vec<StatusChange>> {
    match &feature.attributes {
        Attributes::Measure(m) => Ok(m.next_history(
            previous.map_or(&[][..], |p| p.status_history.as_slice()),
            now,
        )?),
        Attributes::Report(r) => {
            let before = previous.and_then(|p| match &p.attributes {
                Attributes::Report(b) => Some(b),
                _ => None,
            });
            r.check_write(before)?;
            Ok(Vec::new())
        }
        _ => Ok(Vec::new()),
    }
}

/// `organisation_id` equals the bound parameter, NULL matching NULL (the
/// same text on both backends; `IS NOT DISTINCT FROM` is PostgreSQL's only).
macro_rules! same_organisation {
    ($p:literal) => {
        concat!(
            "(organisation_id = ",
            $p,
            " OR (organisation_id IS NULL AND ",
            $p,
            " IS NULL))"
        )
    };
}

macro_rules! backend {
    ($store:ident, $db:ty, $backend:expr, begin = $begin:literal, lock = $lock:literal, notify = $notify:literal, changes = $changes:path) => {
        pub struct $store {
            pool: sqlx::Pool<$db>,
        }

        type Conn = <$db as sqlx::Database>::Connection;
        type DbRow = <$db as sqlx::Database>::Row;

        impl $store {
            pub fn new(pool: sqlx::Pool<$db>) -> Self {
                Self { pool }
            }

            pub(crate) fn pool(&self) -> &sqlx::Pool<$db> {
                &self.pool
            }

            async fn begin(&self) -> Result<sqlx::Transaction<'static, $db>> {
                Ok(self.pool.begin_with($begin).await?)
            }

            fn raw(row: &DbRow) -> Result<RawFeature> {
                Ok(RawFeature {
                    id: row.try_get("id")?,
                    kind: row.try_get("kind")?,
                    geometry: row.try_get("geometry")?,
                    properties: row.try_get("properties")?,
                    version: row.try_get("version")?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                    organisation_id: row.try_get("organisation_id")?,
                    created_by: row.try_get("created_by")?,
                })
            }

            async fn fetch_raw(conn: &mut Conn, kind: Kind, id: Uuid, lock: bool) -> Result<Option<RawFeature>> {
                let sql = if lock {
                    concat!("SELECT id, kind, geometry, properties, version, created_at, updated_at, organisation_id, created_by FROM features WHERE id = $1 AND kind = $2", $lock)
                } else {
                    "SELECT id, kind, geometry, properties, version, created_at, updated_at, organisation_id, created_by FROM features WHERE id = $1 AND kind = $2"
                };
                let row = sqlx::query(sql).bind(id).bind(kind.as_str()).fetch_optional(&mut *conn).await?;
                row.as_ref().map(Self::raw).transpose()
            }

            async fn fetch_history(conn: &mut Conn, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<StatusChange>>> {
                let mut out: HashMap<Uuid, Vec<StatusChange>> = HashMap::new();
                for chunk in ids.chunks(CHUNK_ROWS) {
                    let mut qb = QueryBuilder::<$db>::new("SELECT feature_id, status, at FROM status_changes WHERE feature_id IN (");
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(*id);
                    }
                    qb.push(") ORDER BY feature_id, seq");
                    for row in qb.build().fetch_all(&mut *conn).await? {
                        let raw = RawStatus {
                            feature_id: row.try_get("feature_id")?,
                            status: row.try_get("status")?,
                            at: row.try_get("at")?,
                        };
                        out.entry(raw.feature_id).or_default().push(to_status(&raw)?);
                    }
                }
                Ok(out)
            }

            async fn load(conn: &mut Conn, raw: RawFeature) -> Result<Feature> {
                let history = if raw.kind == Kind::Measure.as_str() {
                    Self::fetch_history(conn, &[raw.id]).await?.remove(&raw.id).unwrap_or_default()
                } else {
                    Vec::new()
                };
                to_feature(raw, history)
            }

            async fn insert_row(conn: &mut Conn, id: Uuid, kind: Kind, p: &Prepared, actor: &Actor, now_ms: i64) -> Result<()> {
                let d = &p.derived;
                sqlx::query(
                    "INSERT INTO features (id, kind, geometry, properties, min_lon, min_lat, max_lon, max_lat, cell, \
                     t_start, t_end, tags, status, source, source_id, client_id, precision_m, version, created_at, updated_at, \
                     organisation_id, created_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 1, $18, $18, $19, $20)",
                )
                .bind(id)
                .bind(kind.as_str())
                .bind(&p.geometry_json)
                .bind(&p.properties_json)
                .bind(p.bounds[0])
                .bind(p.bounds[1])
                .bind(p.bounds[2])
                .bind(p.bounds[3])
                .bind(single_cell(p))
                .bind(d.t_start)
                .bind(d.t_end)
                .bind(p.tags_column())
                .bind(d.status)
                .bind(d.source.as_deref())
                .bind(d.source_id.as_deref())
                .bind(d.client_id.as_deref())
                .bind(d.precision_m.map(i64::from))
                .bind(now_ms)
                .bind(actor.organisation_id)
                .bind(actor.user_id)
                .execute(&mut *conn)
                .await?;
                Self::insert_cells(conn, id, p).await
            }

            #[expect(clippy::too_many_arguments, reason = "one audit row has this many facts")]
            async fn audit(
                conn: &mut Conn,
                actor: &Actor,
                now_ms: i64,
                action: &str,
                kind: Option<Kind>,
                feature_id: Option<Uuid>,
                before: Option<String>,
                after: Option<String>,
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO audit_log (at, user_id, username, organisation_id, action, kind, feature_id, before_json, after_json) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(now_ms)
                .bind(actor.user_id)
                .bind(actor.username.as_str())
                .bind(actor.organisation_id)
                .bind(action)
                .bind(kind.map(Kind::as_str))
                .bind(feature_id)
                .bind(before)
                .bind(after)
                .execute(&mut *conn)
                .await?;
                Ok(())
            }

            async fn insert_cells(conn: &mut Conn, id: Uuid, p: &Prepared) -> Result<()> {
                if p.cells.len() < 2 {
                    return Ok(());
                }
                for chunk in p.cells.chunks(CHUNK_ROWS) {
                    let mut qb = QueryBuilder::<$db>::new("INSERT INTO feature_cells (feature_id, cell) ");
                    qb.push_values(chunk, |mut b, cell| {
                        b.push_bind(id).push_bind(cell_to_db(*cell));
                    });
                    qb.build().execute(&mut *conn).await?;
                }
                Ok(())
            }

            async fn update_row(conn: &mut Conn, id: Uuid, p: &Prepared, now_ms: i64) -> Result<()> {
                let d = &p.derived;
                sqlx::query(
                    "UPDATE features SET geometry = $2, properties = $3, min_lon = $4, min_lat = $5, max_lon = $6, \
                     max_lat = $7, cell = $8, t_start = $9, t_end = $10, tags = $11, status = $12, source = $13, \
                     source_id = $14, client_id = $15, precision_m = $16, version = version + 1, updated_at = $17 \
                     WHERE id = $1",
                )
                .bind(id)
                .bind(&p.geometry_json)
                .bind(&p.properties_json)
                .bind(p.bounds[0])
                .bind(p.bounds[1])
                .bind(p.bounds[2])
                .bind(p.bounds[3])
                .bind(single_cell(p))
                .bind(d.t_start)
                .bind(d.t_end)
                .bind(p.tags_column())
                .bind(d.status)
                .bind(d.source.as_deref())
                .bind(d.source_id.as_deref())
                .bind(d.client_id.as_deref())
                .bind(d.precision_m.map(i64::from))
                .bind(now_ms)
                .execute(&mut *conn)
                .await?;
                sqlx::query("DELETE FROM feature_cells WHERE feature_id = $1").bind(id).execute(&mut *conn).await?;
                Self::insert_cells(conn, id, p).await
            }

            /// The row to change, locked, and at `expected` version when one is
            /// given (optimistic concurrency: a conflict names `version`).
            async fn locked_at(conn: &mut Conn, kind: Kind, id: Uuid, expected: Option<i64>) -> Result<RawFeature> {
                let raw = Self::fetch_raw(conn, kind, id, true).await?.ok_or(Error::NotFound { kind, id })?;
                if let Some(expected) = expected
                    && expected != raw.version
                {
                    return Err(Error::Conflict {
                        field: "version".into(),
                        reason: format!("the record is at version {}, not {expected}; reload it and apply the change again", raw.version),
                    });
                }
                Ok(raw)
            }

            async fn append_history(conn: &mut Conn, id: Uuid, from: usize, history: &[StatusChange]) -> Result<()> {
                // A published period is frozen: a status change dated in it
                // would change what was published without a trace. Every
                // write of a status (create, update, import) passes here.
                if history.len() > from {
                    let published: Vec<String> = sqlx::query_scalar("SELECT period FROM followups")
                        .fetch_all(&mut *conn)
                        .await?;
                    for change in &history[from..] {
                        let at = to_ms(change.at);
                        if let Some(p) = published
                            .iter()
                            .filter_map(|p| trygg_core::analytics::period::Period::parse(p, "period").ok())
                            .find(|p| p.window().start <= at && at <= p.window().end)
                        {
                            return Err(Error::Conflict {
                                field: "properties.status_date".into(),
                                reason: format!("{} is published, so a status change cannot be dated in it; date it today, and the follow-up of today's period counts it", p.label()),
                            });
                        }
                    }
                }
                for (seq, change) in history.iter().enumerate().skip(from) {
                    sqlx::query("INSERT INTO status_changes (feature_id, seq, status, at) VALUES ($1, $2, $3, $4)")
                        .bind(id)
                        .bind(seq as i64)
                        .bind(change.status.as_str())
                        .bind(to_ms(change.at))
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            }

            /// An imported row that changes a stored feature: the update, its
            /// status history and an audit row with before and after. Returns
            /// the row as now stored.
            async fn import_update(conn: &mut Conn, feature: &NewFeature, found: RawFeature, actor: &Actor, now: DateTime<Utc>) -> Result<RawFeature> {
                let now_ms = to_ms(now);
                let kind = feature.kind();
                let before = Self::load(conn, found).await?;
                let history = checked_history(feature, Some(&before), now)?;
                let prepared = feature.prepare(&history)?;
                Self::update_row(conn, before.id, &prepared, now_ms).await?;
                Self::append_history(conn, before.id, before.status_history.len(), &history).await?;
                // Changed records keep their before/after; new ones are
                // summarised once per import, so a million-row import does
                // not double the database.
                Self::audit(
                    conn,
                    actor,
                    now_ms,
                    "import-update",
                    Some(kind),
                    Some(before.id),
                    Some(before.to_geojson().to_string()),
                    Some(prepared.properties_json.clone()),
                )
                .await?;
                Ok(RawFeature {
                    id: before.id,
                    kind: kind.as_str().to_owned(),
                    geometry: prepared.geometry_json,
                    properties: prepared.properties_json,
                    version: before.version + 1,
                    created_at: to_ms(before.created_at),
                    updated_at: now_ms,
                    organisation_id: before.organisation_id,
                    created_by: before.created_by,
                })
            }

            /// The stored features that a chunk's keys name.
            async fn existing(conn: &mut Conn, keys: &[ImportKey], organisation: Option<Uuid>) -> Result<HashMap<ImportKey, RawFeature>> {
                let mut out = HashMap::new();
                let mut by_source: HashMap<(Kind, &str), Vec<&str>> = HashMap::new();
                let mut by_client: HashMap<Kind, Vec<&str>> = HashMap::new();
                for k in keys {
                    match k {
                        ImportKey::Source(kind, source, id) => by_source.entry((*kind, source.as_str())).or_default().push(id.as_str()),
                        ImportKey::Client(kind, id) => by_client.entry(*kind).or_default().push(id.as_str()),
                    }
                }
                for ((kind, source), ids) in by_source {
                    let mut qb = QueryBuilder::<$db>::new(format!("SELECT {FEATURE_COLUMNS}, source_id FROM features WHERE kind = "));
                    qb.push_bind(kind.as_str()).push(" AND source = ").push_bind(source).push(" AND source_id IN (");
                    let mut sep = qb.separated(", ");
                    for id in &ids {
                        sep.push_bind(*id);
                    }
                    qb.push(")");
                    for row in qb.build().fetch_all(&mut *conn).await? {
                        let id: String = row.try_get("source_id")?;
                        out.insert(ImportKey::Source(kind, source.to_owned(), id), Self::raw(&row)?);
                    }
                }
                for (kind, ids) in by_client {
                    let mut qb = QueryBuilder::<$db>::new(format!("SELECT {FEATURE_COLUMNS}, client_id FROM features WHERE kind = "));
                    qb.push_bind(kind.as_str()).push(" AND (organisation_id = ").push_bind(organisation);
                    qb.push(" OR (organisation_id IS NULL AND ").push_bind(organisation).push(" IS NULL)) AND client_id IN (");
                    let mut sep = qb.separated(", ");
                    for id in &ids {
                        sep.push_bind(*id);
                    }
                    qb.push(")");
                    for row in qb.build().fetch_all(&mut *conn).await? {
                        let id: String = row.try_get("client_id")?;
                        out.insert(ImportKey::Client(kind, id), Self::raw(&row)?);
                    }
                }
                Ok(out)
            }

            /// Inserts many new features with one statement per table.
            async fn import_rows(
                tx: &mut Conn,
                features: &[NewFeature],
                actor: &Actor,
                now: DateTime<Utc>,
                progress: &(dyn Fn(u64) + Send + Sync),
            ) -> Result<ImportSummary> {
                let now_ms = to_ms(now);
                let mut summary = ImportSummary::default();
                let mut done = 0u64;
                let mut chunks = features.chunks(CHUNK_ROWS);
                let mut next = chunks.next().map(|c| prepare_chunk(c, now)).transpose()?;
                let rows_in_first_chunk = next.as_ref().map_or(0, |c| c.len() as u64);
                while let Some(rows) = next.take() {
                    progress(done);
                    done += rows.len() as u64;
                    let keys: Vec<ImportKey> = rows.iter().filter_map(|(f, _, p)| ImportKey::of(f.kind(), p)).collect();
                    let mut existing = Self::existing(&mut *tx, &keys, actor.organisation_id).await?;
                    // Rows of this chunk waiting to be inserted, and where
                    // each key sits among them, so a key twice in one file is
                    // one record.
                    let mut pending: Vec<(Uuid, Kind, Prepared, Vec<StatusChange>)> = Vec::new();
                    let mut pending_keys: HashMap<ImportKey, usize> = HashMap::new();
                    for (feature, history, prepared) in rows {
                        let kind = feature.kind();
                        let key = ImportKey::of(kind, &prepared);
                        if let Some(i) = key.as_ref().and_then(|k| pending_keys.get(k)) {
                            let same = pending[*i].2.geometry_json == prepared.geometry_json && pending[*i].2.properties_json == prepared.properties_json;
                            if same {
                                summary.unchanged += 1;
                            } else {
                                pending[*i].2 = prepared;
                                pending[*i].3 = history;
                                summary.updated += 1;
                            }
                            continue;
                        }
                        match key.as_ref().and_then(|k| existing.remove(k)) {
                            Some(found) if found.geometry == prepared.geometry_json && found.properties == prepared.properties_json => {
                                summary.unchanged += 1;
                                if let Some(k) = key {
                                    existing.insert(k, found);
                                }
                            }
                            Some(found) => {
                                let written = Self::import_update(&mut *tx, feature, found, actor, now).await?;
                                summary.updated += 1;
                                // A later row with the same key compares with
                                // what this one wrote.
                                if let Some(k) = key {
                                    existing.insert(k, written);
                                }
                            }
                            None => {
                                if let Some(k) = key {
                                    pending_keys.insert(k, pending.len());
                                }
                                pending.push((Uuid::now_v7(), kind, prepared, history));
                                summary.inserted += 1;
                            }
                        }
                    }
                    // Prepare the next chunk (JSON, H3) while the database
                    // writes this one: the two run on different threads.
                    let (written, prepared) = futures_util::future::join(
                        Self::insert_many(&mut *tx, &pending, actor, now_ms),
                        async { chunks.next().map(|c| prepare_chunk(c, now)).transpose() },
                    )
                    .await;
                    written?;
                    next = prepared?;
                    if $backend == Backend::Postgres && done == rows_in_first_chunk {
                        // A table never analysed (new, or just loaded) has
                        // no statistics, and PostgreSQL then looks up a
                        // chunk's source ids by scanning every row of the
                        // source: quadratic. The first chunk's rows are
                        // enough for it to see that source ids are unique.
                        sqlx::query("ANALYZE features").execute(&mut *tx).await?;
                    }
                }
                progress(done);
                let kinds: Vec<&str> = {
                    let mut k: Vec<&str> = features.iter().map(|f| f.kind().as_str()).collect();
                    k.sort_unstable();
                    k.dedup();
                    k
                };
                let note = serde_json::json!({
                    "kinds": kinds,
                    "inserted": summary.inserted,
                    "updated": summary.updated,
                    "unchanged": summary.unchanged,
                });
                Self::audit(&mut *tx, actor, now_ms, "import", None, None, None, Some(note.to_string())).await?;
                for k in features.iter().map(NewFeature::kind).collect::<std::collections::BTreeSet<_>>() {
                    Self::notify(&mut *tx, k, None).await?;
                }
                Ok(summary)
            }

            async fn insert_many(conn: &mut Conn, rows: &[(Uuid, Kind, Prepared, Vec<StatusChange>)], actor: &Actor, now_ms: i64) -> Result<()> {
                if rows.is_empty() {
                    return Ok(());
                }
                let mut qb = QueryBuilder::<$db>::new(
                    "INSERT INTO features (id, kind, geometry, properties, min_lon, min_lat, max_lon, max_lat, cell, \
                     t_start, t_end, tags, status, source, source_id, client_id, precision_m, version, created_at, updated_at, \
                     organisation_id, created_by) ",
                );
                qb.push_values(rows, |mut b, (id, kind, p, _)| {
                    let d = &p.derived;
                    b.push_bind(*id)
                        .push_bind(kind.as_str())
                        .push_bind(p.geometry_json.clone())
                        .push_bind(p.properties_json.clone())
                        .push_bind(p.bounds[0])
                        .push_bind(p.bounds[1])
                        .push_bind(p.bounds[2])
                        .push_bind(p.bounds[3])
                        .push_bind(single_cell(p))
                        .push_bind(d.t_start)
                        .push_bind(d.t_end)
                        .push_bind(p.tags_column())
                        .push_bind(d.status)
                        .push_bind(d.source.clone())
                        .push_bind(d.source_id.clone())
                        .push_bind(d.client_id.clone())
                        .push_bind(d.precision_m.map(i64::from))
                        .push_bind(1_i64)
                        .push_bind(now_ms)
                        .push_bind(now_ms)
                        .push_bind(actor.organisation_id)
                        .push_bind(actor.user_id);
                });
                qb.build().execute(&mut *conn).await?;
                let cells: Vec<(Uuid, u64)> = rows
                    .iter()
                    .filter(|(_, _, p, _)| p.cells.len() > 1)
                    .flat_map(|(id, _, p, _)| p.cells.iter().map(move |c| (*id, *c)))
                    .collect();
                for chunk in cells.chunks(CHUNK_ROWS) {
                    let mut qb = QueryBuilder::<$db>::new("INSERT INTO feature_cells (feature_id, cell) ");
                    qb.push_values(chunk, |mut b, (id, cell)| {
                        b.push_bind(*id).push_bind(cell_to_db(*cell));
                    });
                    qb.build().execute(&mut *conn).await?;
                }
                for (id, _, _, history) in rows {
                    Self::append_history(conn, *id, 0, history).await?;
                }
                Ok(())
            }

            /// Tells other instances, on commit, what changed.
            async fn notify(conn: &mut Conn, kind: Kind, id: Option<Uuid>) -> Result<()> {
                if $notify {
                    sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(crate::changes::CHANNEL)
                        .bind(crate::changes::payload(kind, id))
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            }

            /// Writes a checked new version over a stored feature, with its
            /// status history, an audit row (`action`) and the notification.
            async fn rewrite(
                conn: &mut Conn,
                before: Feature,
                feature: &NewFeature,
                history: Vec<StatusChange>,
                actor: &Actor,
                now_ms: i64,
                action: &str,
            ) -> Result<Feature> {
                let (id, kind) = (before.id, before.kind());
                let prepared = feature.prepare(&history)?;
                Self::update_row(conn, id, &prepared, now_ms).await?;
                Self::append_history(conn, id, before.status_history.len(), &history).await?;
                let after = Feature {
                    id,
                    geometry: feature.geometry.clone(),
                    attributes: feature.attributes.clone(),
                    status_history: history,
                    version: before.version + 1,
                    organisation_id: before.organisation_id,
                    created_by: before.created_by,
                    created_at: before.created_at,
                    updated_at: trygg_core::time::from_ms(now_ms),
                };
                Self::audit(
                    conn,
                    actor,
                    now_ms,
                    action,
                    Some(kind),
                    Some(id),
                    Some(before.to_geojson().to_string()),
                    Some(after.to_geojson().to_string()),
                )
                .await?;
                Self::notify(conn, kind, Some(id)).await?;
                Ok(after)
            }

            /// The stored feature a new one repeats: the same source id (shared
            /// by every partner: an import of the police feed is one record),
            /// or the same client id of the same organisation (an idempotency
            /// key is the writer's own; another partner's is never matched).
            async fn find_by_key(conn: &mut Conn, kind: Kind, p: &Prepared, organisation: Option<Uuid>) -> Result<Option<RawFeature>> {
                let d = &p.derived;
                let row = if let (Some(source), Some(source_id)) = (&d.source, &d.source_id) {
                    sqlx::query(concat!(
                        "SELECT id, kind, geometry, properties, version, created_at, updated_at, organisation_id, created_by FROM features ",
                        "WHERE kind = $1 AND source = $2 AND source_id = $3"
                    ))
                    .bind(kind.as_str())
                    .bind(source.as_str())
                    .bind(source_id.as_str())
                    .fetch_optional(&mut *conn)
                    .await?
                } else if let Some(client_id) = &d.client_id {
                    sqlx::query(concat!(
                        "SELECT id, kind, geometry, properties, version, created_at, updated_at, organisation_id, created_by FROM features ",
                        "WHERE kind = $1 AND client_id = $2 AND ", same_organisation!("$3")
                    ))
                    .bind(kind.as_str())
                    .bind(client_id.as_str())
                    .bind(organisation)
                    .fetch_optional(&mut *conn)
                    .await?
                } else {
                    None
                };
                row.as_ref().map(Self::raw).transpose()
            }
        }

        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> Backend {
                $backend
            }

            async fn changes(&self) -> Result<Option<crate::changes::Changes>> {
                $changes(&self.pool).await
            }

            fn pool_state(&self) -> (u32, u32) {
                (self.pool.size(), u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX))
            }

            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn create(&self, feature: &NewFeature, actor: &Actor, now: DateTime<Utc>) -> Result<Created> {
                let kind = feature.kind();
                let now_ms = to_ms(now);
                let mut tx = self.begin().await?;
                let history = checked_history(feature, None, now)?;
                let prepared = feature.prepare(&history)?;
                if let Some(existing) = Self::find_by_key(&mut tx, kind, &prepared, actor.organisation_id).await? {
                    if prepared.derived.source_id.is_some() {
                        return Err(Error::Conflict {
                            field: "properties.source_id".into(),
                            reason: format!("{kind} {} already has this source and source id", existing.id),
                        });
                    }
                    // The same client id again: a retried upload, answered
                    // with what the first one stored.
                    let stored = Self::load(&mut tx, existing).await?;
                    tx.commit().await?;
                    return Ok(Created { feature: stored, created: false });
                }
                let id = Uuid::now_v7();
                Self::insert_row(&mut tx, id, kind, &prepared, actor, now_ms).await?;
                Self::append_history(&mut tx, id, 0, &history).await?;
                let at = trygg_core::time::from_ms(now_ms);
                let stored = Feature {
                    id,
                    geometry: feature.geometry.clone(),
                    attributes: feature.attributes.clone(),
                    status_history: history,
                    version: 1,
                    organisation_id: actor.organisation_id,
                    created_by: actor.user_id,
                    created_at: at,
                    updated_at: at,
                };
                Self::audit(&mut tx, actor, now_ms, "create", Some(kind), Some(id), None, Some(stored.to_geojson().to_string())).await?;
                Self::notify(&mut tx, kind, Some(id)).await?;
                tx.commit().await?;
                Ok(Created { feature: stored, created: true })
            }

            async fn get(&self, kind: Kind, id: Uuid, view: &View) -> Result<Feature> {
                let mut conn = self.pool.acquire().await?;
                let raw = Self::fetch_raw(&mut conn, kind, id, false)
                    .await?
                    .filter(|r| view.sees(kind, r.organisation_id))
                    .ok_or(Error::NotFound { kind, id })?;
                Self::load(&mut conn, raw).await
            }

            async fn update(
                &self,
                kind: Kind,
                id: Uuid,
                feature: &NewFeature,
                expected_version: Option<i64>,
                actor: &Actor,
                now: DateTime<Utc>,
            ) -> Result<Feature> {
                let now_ms = to_ms(now);
                let mut tx = self.begin().await?;
                let raw = Self::locked_at(&mut tx, kind, id, expected_version).await?;
                let before = Self::load(&mut tx, raw).await?;
                let history = checked_history(feature, Some(&before), now)?;
                let after = Self::rewrite(&mut tx, before, feature, history, actor, now_ms, "update").await?;
                tx.commit().await?;
                Ok(after)
            }

            async fn moderate(
                &self,
                id: Uuid,
                decision: ReportStatus,
                note: Option<&str>,
                expected_version: Option<i64>,
                actor: &Actor,
                now: DateTime<Utc>,
            ) -> Result<Feature> {
                let kind = Kind::Report;
                let mut tx = self.begin().await?;
                let raw = Self::locked_at(&mut tx, kind, id, expected_version).await?;
                let before = Self::load(&mut tx, raw).await?;
                let Attributes::Report(report) = &before.attributes else {
                    return Err(Error::NotFound { kind, id });
                };
                let decided = NewFeature {
                    geometry: before.geometry.clone(),
                    attributes: Attributes::Report(report.decided(decision, note)?),
                };
                let after = Self::rewrite(&mut tx, before, &decided, Vec::new(), actor, to_ms(now), "moderate").await?;
                tx.commit().await?;
                Ok(after)
            }

            async fn delete(&self, kind: Kind, id: Uuid, actor: &Actor, now: DateTime<Utc>) -> Result<Feature> {
                let now_ms = to_ms(now);
                let mut tx = self.begin().await?;
                let raw = Self::fetch_raw(&mut tx, kind, id, true).await?.ok_or(Error::NotFound { kind, id })?;
                let before = Self::load(&mut tx, raw).await?;
                sqlx::query("DELETE FROM features WHERE id = $1").bind(id).execute(&mut *tx).await?;
                Self::audit(&mut tx, actor, now_ms, "delete", Some(kind), Some(id), Some(before.to_geojson().to_string()), None).await?;
                Self::notify(&mut tx, kind, Some(id)).await?;
                tx.commit().await?;
                Ok(before)
            }

            async fn get_many(&self, kind: Kind, ids: &[Uuid], bbox: Option<&Bbox>, view: &View) -> Result<Vec<Feature>> {
                let mut conn = self.pool.acquire().await?;
                let mut raws: HashMap<Uuid, RawFeature> = HashMap::with_capacity(ids.len());
                for chunk in ids.chunks(CHUNK_ROWS) {
                    // By id alone: with `kind = ?` as well, SQLite walks the
                    // kind's index (every incident) instead of looking the ids up.
                    let mut qb = QueryBuilder::<$db>::new(format!("SELECT {FEATURE_COLUMNS} FROM features WHERE id IN ("));
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(*id);
                    }
                    qb.push(")");
                    for row in qb.build().fetch_all(&mut *conn).await? {
                        let raw = Self::raw(&row)?;
                        if raw.kind == kind.as_str() && view.sees(kind, raw.organisation_id) {
                            raws.insert(raw.id, raw);
                        }
                    }
                }
                let mut histories = if kind == Kind::Measure {
                    Self::fetch_history(&mut conn, ids).await?
                } else {
                    HashMap::new()
                };
                let mut out = Vec::with_capacity(raws.len());
                for id in ids {
                    if let Some(raw) = raws.remove(id) {
                        let f = to_feature(raw, histories.remove(id).unwrap_or_default())?;
                        if bbox.is_none_or(|b| meets(&f, b)) {
                            out.push(f);
                        }
                    }
                }
                Ok(out)
            }

            async fn list(&self, kind: Kind, q: &ListQuery, view: &View) -> Result<Page> {
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {FEATURE_COLUMNS} FROM features WHERE kind = "));
                qb.push_bind(kind.as_str());
                if let Some(after) = q.after {
                    qb.push(" AND id > ").push_bind(after);
                }
                if let Some(org) = view.organisation_for(kind) {
                    qb.push(" AND organisation_id = ").push_bind(org);
                }
                if let Some(b) = q.bbox {
                    qb.push(" AND max_lon >= ").push_bind(b.min_lon);
                    qb.push(" AND min_lon <= ").push_bind(b.max_lon);
                    qb.push(" AND max_lat >= ").push_bind(b.min_lat);
                    qb.push(" AND min_lat <= ").push_bind(b.max_lat);
                }
                if q.window.end != i64::MAX {
                    qb.push(" AND (t_start IS NULL OR t_start <= ").push_bind(q.window.end).push(")");
                }
                if q.window.start != i64::MIN {
                    qb.push(" AND (t_start IS NULL OR t_end IS NULL OR t_end >= ").push_bind(q.window.start).push(")");
                }
                if !q.filters.tags.is_empty() {
                    qb.push(" AND (");
                    let mut sep = qb.separated(" OR ");
                    for tag in &q.filters.tags {
                        sep.push("tags LIKE ").push_bind_unseparated(format!("%,{tag},%"));
                    }
                    qb.push(")");
                }
                for (column, values) in [("status", &q.filters.statuses), ("source", &q.filters.sources)] {
                    if !values.is_empty() {
                        qb.push(format!(" AND {column} IN ("));
                        let mut sep = qb.separated(", ");
                        for v in values.iter() {
                            sep.push_bind(*v);
                        }
                        qb.push(")");
                    }
                }
                qb.push(" ORDER BY id LIMIT ").push_bind(i64::from(q.limit) + 1);
                let mut conn = self.pool.acquire().await?;
                let rows = qb.build().fetch_all(&mut *conn).await?;
                let has_more = rows.len() > q.limit as usize;
                let raws = rows.iter().take(q.limit as usize).map(Self::raw).collect::<Result<Vec<_>>>()?;
                let next_after = if has_more { raws.last().map(|r| r.id) } else { None };
                let mut histories = if kind == Kind::Measure {
                    let ids: Vec<Uuid> = raws.iter().map(|r| r.id).collect();
                    Self::fetch_history(&mut conn, &ids).await?
                } else {
                    HashMap::new()
                };
                let mut features = Vec::with_capacity(raws.len());
                for raw in raws {
                    let history = histories.remove(&raw.id).unwrap_or_default();
                    let f = to_feature(raw, history)?;
                    if q.bbox.is_none_or(|b| meets(&f, &b)) {
                        features.push(f);
                    }
                }
                Ok(Page { features, next_after })
            }

            async fn count(&self, kind: Kind) -> Result<u64> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM features WHERE kind = $1")
                    .bind(kind.as_str())
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n as u64)
            }

            async fn import_with(
                &self,
                features: &[NewFeature],
                actor: &Actor,
                now: DateTime<Utc>,
                dry_run: bool,
                progress: &(dyn Fn(u64) + Send + Sync),
            ) -> Result<ImportSummary> {
                let mut tx = self.begin().await?;
                if $backend == Backend::Sqlite {
                    sqlx::query(IMPORT_CACHE).execute(&mut *tx).await?;
                }
                let result = Self::import_rows(&mut tx, features, actor, now, progress).await;
                if $backend == Backend::Sqlite {
                    // Back to the normal size before the connection returns
                    // to the pool, whether the import worked or not.
                    let reset = sqlx::query(NORMAL_CACHE).execute(&mut *tx).await;
                    if result.is_ok() {
                        reset?;
                    }
                }
                let summary = result?;
                if dry_run {
                    tx.rollback().await?;
                } else {
                    tx.commit().await?;
                }
                Ok(summary)
            }
            async fn backup_to(&self, path: &std::path::Path) -> Result<()> {
                if $backend == Backend::Postgres {
                    return Err(Error::Config(
                        "back PostgreSQL up with `pg_dump --format=custom` and restore with `pg_restore`; see the README".into(),
                    ));
                }
                if path.exists() {
                    return Err(Error::Config(format!("{} exists; a backup never overwrites a file", path.display())));
                }
                let target = path.to_str().ok_or_else(|| Error::Config("the backup path is not UTF-8".into()))?;
                sqlx::query("VACUUM INTO $1").bind(target).execute(&self.pool).await?;
                Ok(())
            }

            async fn each_index_row(&self, kind: Option<Kind>, each: &mut (dyn FnMut(Kind, IndexRow) + Send)) -> Result<()> {
                use futures_util::TryStreamExt as _;
                macro_rules! index_columns {
                    () => {
                        "SELECT id, kind, t_start, t_end, tags, status, source, min_lon, min_lat, max_lon, max_lat, cell, precision_m, organisation_id, \
                         CASE WHEN geometry LIKE '%\"type\":\"Point\"%' THEN 1 WHEN geometry LIKE '%\"type\":\"LineString\"%' THEN 2 ELSE 3 END FROM features"
                    };
                }
                let mut conn = self.pool.acquire().await?;
                let mut multi: HashMap<Uuid, Vec<u64>> = HashMap::new();
                {
                    let mut cells = match kind {
                        Some(kind) => sqlx::query(
                            "SELECT c.feature_id, c.cell FROM feature_cells c JOIN features f ON f.id = c.feature_id WHERE f.kind = $1",
                        )
                        .bind(kind.as_str())
                        .fetch(&mut *conn),
                        None => sqlx::query("SELECT feature_id, cell FROM feature_cells").fetch(&mut *conn),
                    };
                    while let Some(row) = cells.try_next().await? {
                        let id: Uuid = row.try_get(0)?;
                        let cell: i64 = row.try_get(1)?;
                        multi.entry(id).or_default().push(cell_from_db(cell));
                    }
                }
                let mut rows = match kind {
                    Some(kind) => sqlx::query(concat!(index_columns!(), " WHERE kind = $1")).bind(kind.as_str()).fetch(&mut *conn),
                    None => sqlx::query(index_columns!()).fetch(&mut *conn),
                };
                while let Some(row) = rows.try_next().await? {
                    let id: Uuid = row.try_get(0)?;
                    let kind: Kind = row
                        .try_get::<String, _>(1)?
                        .parse()
                        .map_err(|e: trygg_core::Error| Error::Corrupt(e.to_string()))?;
                    let cell: Option<i64> = row.try_get(11)?;
                    let precision: Option<i64> = row.try_get(12)?;
                    each(kind, IndexRow {
                        id,
                        t_start: row.try_get(2)?,
                        t_end: row.try_get(3)?,
                        tags: row.try_get(4)?,
                        status: row.try_get(5)?,
                        source: row.try_get(6)?,
                        bounds: [row.try_get(7)?, row.try_get(8)?, row.try_get(9)?, row.try_get(10)?],
                        cells: match cell {
                            Some(c) => vec![cell_from_db(c)],
                            None => multi.remove(&id).unwrap_or_default(),
                        },
                        precision_m: precision.map(|p| p as u32),
                        organisation_id: row.try_get(13)?,
                        shape: match row.try_get::<i32, _>(14)? {
                            1 => trygg_core::Shape::Point,
                            2 => trygg_core::Shape::Line,
                            _ => trygg_core::Shape::Polygon,
                        },
                    });
                }
                Ok(())
            }
        }
    };
}

/// What makes an imported row the same record as a stored one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ImportKey {
    Source(Kind, String, String),
    Client(Kind, String),
}

impl ImportKey {
    fn of(kind: Kind, p: &Prepared) -> Option<Self> {
        let d = &p.derived;
        match (&d.source, &d.source_id, &d.client_id) {
            (Some(source), Some(id), _) => Some(Self::Source(kind, source.clone(), id.clone())),
            (_, _, Some(client)) => Some(Self::Client(kind, client.clone())),
            _ => None,
        }
    }
}

fn single_cell(p: &Prepared) -> Option<i64> {
    match p.cells.as_slice() {
        [one] => Some(cell_to_db(*one)),
        _ => None,
    }
}

mod sqlite {
    #[allow(
        clippy::wildcard_imports,
        reason = "the macro body is written against the parent module's imports"
    )]
    use super::*;
    // IMMEDIATE takes the write lock at the start, so two writers queue
    // (busy_timeout) instead of failing when a read turns into a write.
    backend!(
        SqliteStore,
        Sqlite,
        Backend::Sqlite,
        begin = "BEGIN IMMEDIATE",
        lock = "",
        notify = false,
        changes = watch_imports
    );

    /// One process serves an SQLite file; what another can write to it
    /// while it serves is an import (the CLI).
    async fn watch_imports(pool: &sqlx::SqlitePool) -> Result<Option<crate::changes::Changes>> {
        crate::changes::watch_imports(pool).await.map(Some)
    }
}

mod postgres {
    #[allow(
        clippy::wildcard_imports,
        reason = "the macro body is written against the parent module's imports"
    )]
    use super::*;
    backend!(
        PostgresStore,
        Postgres,
        Backend::Postgres,
        begin = "BEGIN",
        lock = " FOR UPDATE",
        notify = true,
        changes = listen_changes
    );

    async fn listen_changes(pool: &sqlx::PgPool) -> Result<Option<crate::changes::Changes>> {
        crate::changes::listen(pool).await.map(Some)
    }
}

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
