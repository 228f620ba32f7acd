//! A feature as written (`NewFeature`) and as stored (`Feature`), and the
//! columns a store derives from it.

use chrono::{DateTime, Utc};
use geo_types::Geometry;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::attrs::{Attributes, Derived, StatusChange};
use crate::service_area::ServiceArea;
use crate::{Error, Kind, Result, cells, geometry};

/// A validated feature on its way in.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFeature {
    pub geometry: Geometry<f64>,
    pub attributes: Attributes,
}

impl NewFeature {
    /// Validates a GeoJSON Feature for `kind`: its shape, its geometry type,
    /// every coordinate inside the service area, and its properties.
    pub fn parse(kind: Kind, body: &Value, area: &ServiceArea, now: DateTime<Utc>) -> Result<Self> {
        let obj = body
            .as_object()
            .ok_or_else(|| Error::invalid("", "the body must be a GeoJSON Feature object"))?;
        match obj.get("type").and_then(Value::as_str) {
            Some("Feature") => {}
            Some(other) => {
                return Err(Error::invalid(
                    "type",
                    format!("must be `Feature`, not `{other}`"),
                ));
            }
            None => {
                return Err(Error::invalid(
                    "type",
                    "missing; a GeoJSON Feature has \"type\": \"Feature\"",
                ));
            }
        }
        let geometry_value = obj
            .get("geometry")
            .filter(|g| !g.is_null())
            .ok_or_else(|| Error::invalid("geometry", "missing; every record has a place"))?;
        let geometry = geometry::parse(geometry_value, "geometry")?;
        geometry::check_rule(&geometry, kind.geometry_rule(), "geometry")?;
        let attributes =
            match Attributes::parse(kind, obj.get("properties").unwrap_or(&Value::Null), now) {
                Ok(a) => a,
                Err(e) => {
                    // A position outside the area is named before the properties.
                    area.check(&geometry, "geometry.coordinates")?;
                    return Err(e);
                }
            };
        area.check_feature(&geometry, &attributes, "geometry.coordinates")?;
        Ok(Self {
            geometry,
            attributes,
        })
    }

    pub fn kind(&self) -> Kind {
        self.attributes.kind()
    }

    /// Everything a store writes for this feature, with the measure status
    /// history already decided.
    pub fn prepare(&self, history: &[StatusChange]) -> Result<Prepared> {
        let derived = self.attributes.derived(history);
        let (min_lon, min_lat, max_lon, max_lat) = geometry::bounds(&self.geometry);
        let cells = cells::coverage(&self.geometry)?;
        Ok(Prepared {
            derived,
            bounds: [min_lon, min_lat, max_lon, max_lat],
            cells,
            geometry_json: geometry::to_value(&self.geometry).to_string(),
            properties_json: self.attributes.to_value().to_string(),
        })
    }
}

/// The columns a store writes, all derived by the domain so that both
/// backends store exactly the same thing.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub derived: Derived,
    pub bounds: [f64; 4],
    /// H3 cells (raw u64), see [`cells::coverage`].
    pub cells: Vec<u64>,
    pub geometry_json: String,
    pub properties_json: String,
}

impl Prepared {
    /// Tags joined as `,a,b,` so that one `LIKE '%,a,%'` matches a tag on
    /// both backends.
    pub fn tags_column(&self) -> Option<String> {
        tags_column(&self.derived.tags)
    }
}

pub fn tags_column(tags: &[&str]) -> Option<String> {
    if tags.is_empty() {
        None
    } else {
        Some(format!(",{},", tags.join(",")))
    }
}

/// A stored feature.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub id: Uuid,
    pub geometry: Geometry<f64>,
    pub attributes: Attributes,
    /// Measures only: every status with the time it took effect.
    pub status_history: Vec<StatusChange>,
    /// Bumped on every update; the basis for optimistic concurrency.
    pub version: i64,
    /// The partner whose user made the record (the follow-up counts by it).
    pub organisation_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Feature {
    pub fn kind(&self) -> Kind {
        self.attributes.kind()
    }

    pub fn derived(&self) -> Derived {
        self.attributes.derived(&self.status_history)
    }

    /// The feature as a GeoJSON Feature, server fields included.
    pub fn to_geojson(&self) -> Value {
        let mut props = self.attributes.to_value();
        if let Value::Object(map) = &mut props {
            if !self.status_history.is_empty() {
                map.insert("status_history".into(), json!(self.status_history));
            }
            map.insert("version".into(), json!(self.version));
            if let Some(org) = self.organisation_id {
                map.insert("organisation_id".into(), json!(org));
            }
            map.insert("created_at".into(), json!(self.created_at));
            map.insert("updated_at".into(), json!(self.updated_at));
        }
        json!({
            "type": "Feature",
            "id": self.id.to_string(),
            "geometry": geometry::to_value(&self.geometry),
            "properties": props,
        })
    }
}
