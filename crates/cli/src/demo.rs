//! Fills an empty database with Linköping's demo: the real districts, the
//! real police events named to Linköping (coarse, as published), and the
//! seeded synthetic scenario for what no open source gives at street level.

use chrono::{DateTime, Utc};
use geo_types::{Geometry, MultiPolygon};
use trygg_core::attrs::Attributes;
use trygg_core::demo::{Scale, scenario};
use trygg_core::service_area::ServiceArea;
use trygg_core::{Kind, NewFeature, polisen, regso};
use trygg_store::{Actor, Store};

use crate::data::{LINKOPING_CODE, LINKOPING_REGSO, POLISEN_EVENTS};
use crate::{Error, Result};

pub const SEED: u64 = 20_211_001;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoSummary {
    pub areas: u64,
    pub police_events: u64,
    pub synthetic: u64,
}

/// Whether every table is empty (the demo never mixes into real data).
pub async fn is_empty(store: &dyn Store) -> Result<bool> {
    for kind in Kind::ALL {
        if store.count(kind).await? > 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The police events that concern the service area's municipality, as
/// incidents (crime and disorder types only; summaries skipped).
pub fn police_incidents(area: &ServiceArea) -> Result<Vec<NewFeature>> {
    let events = polisen::parse_events(POLISEN_EVENTS)?;
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let Some(member) = e.served_member(area) else {
            continue;
        };
        if let Some(f) = e.to_incident(i, Some(&area.members[member].code))?
            && area
                .check_feature(&f.geometry, &f.attributes, "geometry")
                .is_ok()
        {
            out.push(f);
        }
    }
    Ok(out)
}

pub async fn load(
    store: &dyn Store,
    area: &ServiceArea,
    now: DateTime<Utc>,
    scale: Scale,
) -> Result<DemoSummary> {
    if area.code != LINKOPING_CODE {
        return Err(Error::Usage(format!(
            "the demo is Linköping's (service area {LINKOPING_CODE}); the service area is {} ({})",
            area.name, area.code
        )));
    }
    let areas = regso::parse_areas(LINKOPING_REGSO)?;
    let districts: Vec<(String, MultiPolygon<f64>)> = areas
        .iter()
        .filter_map(|f| match (&f.attributes, &f.geometry) {
            (Attributes::Area(a), Geometry::Polygon(p)) => {
                Some((a.name.clone(), MultiPolygon(vec![p.clone()])))
            }
            (Attributes::Area(a), Geometry::MultiPolygon(mp)) => Some((a.name.clone(), mp.clone())),
            _ => None,
        })
        .collect();
    let started = std::time::Instant::now();
    let police = police_incidents(area)?;
    let s = scenario(&districts, area, now, SEED, scale);
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis(),
        "demo scenario generated"
    );

    let actor = Actor::system("demo");
    let mut summary = DemoSummary {
        areas: store.import(&areas, &actor, now).await?.inserted,
        police_events: store.import(&police, &actor, now).await?.inserted,
        synthetic: 0,
    };
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis(),
        "areas and police events written"
    );
    for batch in [&s.places, &s.incidents, &s.reports, &s.presence] {
        summary.synthetic += store.import(batch, &actor, now).await?.inserted;
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis(),
            rows = batch.len(),
            "demo batch written"
        );
    }
    for versions in &s.measures {
        let Some((first, rest)) = versions.split_first() else {
            continue;
        };
        let created = store.create(first, &actor, now).await?;
        for v in rest {
            store
                .update(Kind::Measure, created.feature.id, v, None, &actor, now)
                .await?;
        }
        summary.synthetic += 1;
    }
    Ok(summary)
}
