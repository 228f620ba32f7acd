//! SCB RegSO statistical areas (the closest open neighbourhood polygons)
//! read as Trygg areas.

use serde_json::Value;

use crate::attrs::{Area, Attributes};
use crate::{Error, NewFeature, Result, geometry};

pub const SOURCE: &str = "scb-regso";

/// A district's name as people know it: SCB prefixes Malmö's RegSO names
/// with `RegSO-` (`RegSO-Hamnen-Stortorget`), which is dropped.
pub fn district_name(raw: &str) -> &str {
    let t = raw.trim();
    match t.get(..6) {
        Some(p) if p.eq_ignore_ascii_case("regso-") && t.len() > 6 => t[6..].trim_start(),
        _ => t,
    }
}

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
                    name: district_name(&text("regsonamn")?).to_owned(),
                    level: "regso".to_owned(),
                    source: Some(SOURCE.to_owned()),
                }),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malmos_regso_prefix_is_dropped() {
        assert_eq!(
            district_name("RegSO-Hamnen-Stortorget"),
            "Hamnen-Stortorget"
        );
        assert_eq!(district_name("Skäggetorp-Tornby"), "Skäggetorp-Tornby");
        assert_eq!(district_name("RegSO-"), "RegSO-");
    }
}
