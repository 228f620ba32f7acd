//! The in-memory layer indexes, one per kind: built from the store at
//! start, kept current by every write that goes through this server. Every
//! read takes the caller's [`View`]: the organisation limit on presence is
//! applied here, for every map, list, analysis and follow-up alike.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use trygg_core::access::View;
use trygg_core::index::{
    FeatureRef, FeatureScan, HexCount, IndexRow, LayerIndex, PointHit, SeriesQuery,
};
use trygg_core::omitted::Omitted;
use trygg_core::query::{HexQuery, ListQuery, PointQuery};
use trygg_core::{Feature, Kind};
use trygg_store::Store;
use uuid::Uuid;

/// One kind's index, streamed from the store.
async fn build(store: &dyn Store, kind: Kind) -> Result<LayerIndex, trygg_store::Error> {
    let mut index = LayerIndex::new(kind);
    store
        .each_index_row(Some(kind), &mut |_, row| index.push(&row))
        .await?;
    index.finish();
    Ok(index)
}

/// Every kind's index, from one pass over the store.
async fn build_all(store: &dyn Store) -> Result<HashMap<Kind, LayerIndex>, trygg_store::Error> {
    let mut indexes: HashMap<Kind, LayerIndex> = Kind::ALL
        .into_iter()
        .map(|k| (k, LayerIndex::new(k)))
        .collect();
    store
        .each_index_row(None, &mut |kind, row| {
            if let Some(index) = indexes.get_mut(&kind) {
                index.push(&row);
            }
        })
        .await?;
    for index in indexes.values_mut() {
        index.finish();
    }
    Ok(indexes)
}

pub struct Layers {
    indexes: HashMap<Kind, RwLock<LayerIndex>>,
    /// Bumped on every change of a kind: caches of derived answers (the
    /// public layers) compare it to know they are stale.
    generations: HashMap<Kind, AtomicU64>,
    build_seconds: f64,
}

impl Layers {
    pub async fn load(store: &dyn Store) -> Result<Self, trygg_store::Error> {
        let started = std::time::Instant::now();
        let indexes = build_all(store)
            .await?
            .into_iter()
            .map(|(kind, index)| (kind, RwLock::new(index)))
            .collect();
        let generations = Kind::ALL
            .into_iter()
            .map(|k| (k, AtomicU64::new(0)))
            .collect();
        Ok(Self {
            indexes,
            generations,
            build_seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Rebuilds one kind from the store (after an import).
    pub async fn reload(&self, store: &dyn Store, kind: Kind) -> Result<(), trygg_store::Error> {
        let fresh = build(store, kind).await?;
        *self.write(kind) = fresh;
        Ok(())
    }

    /// Rebuilds every kind from one pass over the store (after a lost
    /// connection to the other instances' notifications).
    pub async fn reload_all(&self, store: &dyn Store) -> Result<(), trygg_store::Error> {
        for (kind, fresh) in build_all(store).await? {
            *self.write(kind) = fresh;
        }
        Ok(())
    }

    /// How long the start-up build from the store took.
    pub fn build_seconds(&self) -> f64 {
        self.build_seconds
    }

    pub fn generation(&self, kind: Kind) -> u64 {
        self.generations[&kind].load(Ordering::Acquire)
    }

    /// Changes of every kind so far: what an answer over several kinds is
    /// kept by.
    pub fn generation_all(&self) -> u64 {
        self.generations
            .values()
            .map(|g| g.load(Ordering::Acquire))
            .fold(0, u64::wrapping_add)
    }

    fn write(&self, kind: Kind) -> std::sync::RwLockWriteGuard<'_, LayerIndex> {
        self.generations[&kind].fetch_add(1, Ordering::AcqRel);
        self.indexes[&kind]
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn read(&self, kind: Kind) -> std::sync::RwLockReadGuard<'_, LayerIndex> {
        self.indexes[&kind]
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Puts a stored feature into its index.
    pub fn apply(&self, feature: &Feature) {
        match IndexRow::from_feature(feature) {
            Ok(row) => {
                self.write(feature.kind()).upsert(&row);
            }
            // Stored geometries were indexed once already; failing now
            // would be a bug, and the next rebuild repairs the index.
            Err(e) => {
                tracing::error!(id = %feature.id, error = %e, "could not index a stored feature");
            }
        }
    }

    pub fn remove(&self, kind: Kind, id: Uuid) {
        self.write(kind).remove(id);
    }

    // Every read takes the caller's view and sets the query's organisation
    // from it: the one place the organisation limit is applied to the index.

    pub fn hexagons(
        &self,
        kind: Kind,
        q: &HexQuery,
        view: &View,
        now_ms: i64,
        max_cells: usize,
    ) -> trygg_core::Result<Vec<HexCount>> {
        let q = HexQuery {
            organisation: view.organisation_for(kind),
            ..q.clone()
        };
        self.read(kind).hexagons(&q, now_ms, max_cells)
    }

    pub fn points(
        &self,
        kind: Kind,
        q: &PointQuery,
        view: &View,
        max_points: usize,
    ) -> trygg_core::Result<Vec<PointHit>> {
        let q = PointQuery {
            organisation: view.organisation_for(kind),
            ..q.clone()
        };
        self.read(kind).points(&q, max_points)
    }

    /// See [`trygg_core::index::LayerIndex::hexagons_omitted`].
    pub fn hexagons_omitted(&self, kind: Kind, q: &HexQuery, view: &View) -> Omitted {
        let q = HexQuery {
            organisation: view.organisation_for(kind),
            ..q.clone()
        };
        self.read(kind).hexagons_omitted(&q)
    }

    /// See [`trygg_core::index::LayerIndex::points_omitted`].
    pub fn points_omitted(&self, kind: Kind, q: &PointQuery, view: &View) -> Omitted {
        let q = PointQuery {
            organisation: view.organisation_for(kind),
            ..q.clone()
        };
        self.read(kind).points_omitted(&q)
    }

    pub fn page_ids(&self, kind: Kind, q: &ListQuery, view: &View) -> (Vec<Uuid>, bool) {
        let q = ListQuery {
            organisation: view.organisation_for(kind),
            ..q.clone()
        };
        self.read(kind).page_ids(&q)
    }

    /// See [`trygg_core::index::LayerIndex::coarse_ids`].
    pub fn coarse_ids(
        &self,
        kind: Kind,
        window: trygg_core::time::TimeWindow,
        min_precision_m: u32,
        view: &View,
    ) -> Vec<Uuid> {
        self.read(kind)
            .coarse_ids(window, min_precision_m, view.organisation_for(kind))
    }

    /// See [`trygg_core::index::LayerIndex::count`].
    pub fn count(&self, kind: Kind, q: &ListQuery, view: &View) -> (usize, Vec<Uuid>) {
        let q = ListQuery {
            organisation: view.organisation_for(kind),
            ..q.clone()
        };
        self.read(kind).count(&q)
    }

    /// See [`trygg_core::index::LayerIndex::series`].
    pub fn series(
        &self,
        kind: Kind,
        q: &SeriesQuery<'_>,
        view: &View,
        tag_weight: &dyn Fn(&str) -> f64,
    ) -> trygg_core::Result<Vec<Vec<(h3o::CellIndex, f64)>>> {
        let q = SeriesQuery {
            organisation: view.organisation_for(kind),
            ..*q
        };
        self.read(kind).series(&q, tag_weight)
    }

    /// See [`trygg_core::index::LayerIndex::each_feature`]; `each` runs
    /// under the index's read lock, so it must not wait on anything.
    pub fn each_feature(
        &self,
        kind: Kind,
        scan: &FeatureScan<'_>,
        view: &View,
        each: impl FnMut(FeatureRef<'_>),
    ) {
        let scan = FeatureScan {
            organisation: view.organisation_for(kind),
            ..*scan
        };
        self.read(kind).each_feature(&scan, each);
    }

    pub fn len(&self, kind: Kind) -> usize {
        self.read(kind).len()
    }
}

/// Keeps the index current with writes made by other server instances on
/// the same PostgreSQL database.
pub async fn follow(
    store: std::sync::Arc<dyn Store>,
    layers: std::sync::Arc<Layers>,
    mut changes: trygg_store::changes::Changes,
) {
    use trygg_store::changes::Change;
    while let Some(change) = changes.recv().await {
        let result = match change {
            // Trygg's own bookkeeping: the index holds every record.
            Change::Feature(kind, id) => match store.get(kind, id, &View::everything()).await {
                Ok(feature) => {
                    layers.apply(&feature);
                    Ok(())
                }
                Err(trygg_store::Error::NotFound { .. }) => {
                    layers.remove(kind, id);
                    Ok(())
                }
                Err(e) => Err(e),
            },
            Change::Kind(kind) => layers.reload(store.as_ref(), kind).await,
            Change::Everything => layers.reload_all(store.as_ref()).await,
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, ?change, "could not follow a change from another instance");
        }
    }
}
