//! Plain rows as read from either backend, and their conversion to domain
//! types (shared, so the two backends cannot drift apart here).

use trygg_core::attrs::{Attributes, MeasureStatus, StatusChange};
use trygg_core::time::from_ms;
use trygg_core::{Feature, Kind, geometry};
use uuid::Uuid;

use crate::{Error, Result};

pub(crate) struct RawFeature {
    pub id: Uuid,
    pub kind: String,
    pub geometry: String,
    pub properties: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub organisation_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
}

pub(crate) struct RawStatus {
    pub feature_id: Uuid,
    pub status: String,
    pub at: i64,
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "the raw row is consumed as a whole by every caller"
)]
pub(crate) fn to_feature(raw: RawFeature, history: Vec<StatusChange>) -> Result<Feature> {
    let kind: Kind = raw.kind.parse().map_err(|e| corrupt(raw.id, e))?;
    let geometry_value: serde_json::Value =
        serde_json::from_str(&raw.geometry).map_err(|e| corrupt(raw.id, e))?;
    let geometry = geometry::parse(&geometry_value, "geometry").map_err(|e| corrupt(raw.id, e))?;
    let properties: serde_json::Value =
        serde_json::from_str(&raw.properties).map_err(|e| corrupt(raw.id, e))?;
    let attributes = Attributes::from_stored(kind, properties).map_err(|e| corrupt(raw.id, e))?;
    Ok(Feature {
        id: raw.id,
        geometry,
        attributes,
        status_history: history,
        version: raw.version,
        organisation_id: raw.organisation_id,
        created_by: raw.created_by,
        created_at: from_ms(raw.created_at),
        updated_at: from_ms(raw.updated_at),
    })
}

pub(crate) fn to_status(raw: &RawStatus) -> Result<StatusChange> {
    Ok(StatusChange {
        status: MeasureStatus::parse(&raw.status, "status")
            .map_err(|e| corrupt(raw.feature_id, e))?,
        at: from_ms(raw.at),
    })
}

fn corrupt(id: Uuid, e: impl std::fmt::Display) -> Error {
    Error::Corrupt(format!("feature {id}: {e}"))
}

/// H3 indexes fit in 63 bits (the top bit is reserved as zero), so they are
/// stored as signed 64-bit integers, which both backends have.
pub(crate) fn cell_to_db(cell: u64) -> i64 {
    cell as i64
}

pub(crate) fn cell_from_db(cell: i64) -> u64 {
    cell as u64
}
