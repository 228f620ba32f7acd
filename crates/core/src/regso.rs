//! SCB RegSO statistical areas (the closest open neighbourhood polygons)
//! read as Trygg areas.

use serde_json::Value;

use crate::attrs::{Area, Attributes};
use crate::{Error, NewFeature, Result, geometry};

pub const SOURCE: &str = "scb-regso";

/// Reads a RegSO FeatureCollection (properties `regsokod`, `regsonamn`).
pub fn parse_areas(json: &str) -> Result<Vec<NewFeature>> {
    let value: Value = serde_json::from_str(json).map_err(|e| Error::invalid("", e))?;
    let features = value["features"]
        .as_array()
        .ok_or_else(|| Error::invalid("features", "not a FeatureCollection"))?;
    features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let field = format!("features[{i}]");
            let text = |key: &str| {
                f["properties"][key]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| Error::invalid(format!("{field}.properties.{key}"), "missing"))
            };
            let geometry = geometry::parse(&f["geometry"], &format!("{field}.geometry"))?;
            Ok(NewFeature {
                geometry,
                attributes: Attributes::Area(Area {
                    code: text("regsokod")?,
                    name: text("regsonamn")?,
                    level: "regso".to_owned(),
                    source: Some(SOURCE.to_owned()),
                }),
            })
        })
        .collect()
}
