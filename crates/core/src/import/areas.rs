//! District files (GeoJSON FeatureCollections of polygons) as areas, from
//! wherever they come: SCB's RegSO (`regsokod`, `regsonamn`), a
//! municipality's own export (`namn`, `NAMN`, `OBJECTID`, `Shape_Area` …),
//! or Trygg's own export. The name and code are found by attribute name or
//! named with `--columns name=…,code=…`; every other attribute is left out
//! and the summary says once which. Coordinates follow the legacy `crs`
//! member or `--crs` (SWEREF 99 TM and its local zones).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::columns::common_names;
use super::geojson::{feature_collection, to_wgs84};
use super::names::fold;
use super::{Collector, Row, ids, validate};
use crate::attrs::{Area, Attributes};
use crate::service_area::ServiceArea;
use crate::{Error, NewFeature, Result, geometry};

/// Attributes Trygg writes on its own exports; not worth a note when read
/// back.
const SERVER_FIELDS: [&str; 6] = [
    "id",
    "created_at",
    "updated_at",
    "version",
    "organisation_id",
    "status_history",
];

pub(super) fn parse(text: &str, area: &ServiceArea, c: &mut Collector) {
    let opts = c.opts;
    let Some((features, crs, transform)) = c.or_fatal(feature_collection(text, opts)) else {
        return;
    };
    let mut ignored = BTreeSet::new();
    let mut row_ids = ids::RowIds::default();
    for (i, mut feature) in features.into_iter().enumerate() {
        let location = Row::Feature(i);
        let hash = ids::content_hash([feature.to_string().as_str()]);
        let result = to_wgs84(&mut feature, crs, &transform)
            .and_then(|()| district(opts, &feature, &mut ignored, || row_ids.next(hash)));
        match result.and_then(|f| validate(f, Some(area), c.now, "geometry.coordinates")) {
            Ok(f) => c.accept(location, f),
            Err(e) => c.reject(location, &e),
        }
    }
    if !ignored.is_empty() {
        let list: Vec<String> = ignored.into_iter().collect();
        c.out
            .notes
            .push(format!("attributes not imported: {}", list.join(", ")));
    }
}

/// The attribute holding a logical column: the one `--columns` names, else
/// the first of `tried` present (compared folded).
fn attribute<'p>(
    props: &'p Map<String, Value>,
    opts: &super::Options,
    logical: &[&str],
    tried: &[&str],
) -> Option<(&'p str, &'p Value)> {
    let named: Vec<&str> = logical
        .iter()
        .filter_map(|l| opts.columns.named(l))
        .collect();
    let wanted: &[&str] = if named.is_empty() { tried } else { &named };
    wanted.iter().find_map(|w| {
        let w = fold(w);
        props
            .iter()
            .find(|(k, v)| fold(k) == w && !v.is_null())
            .map(|(k, v)| (k.as_str(), v))
    })
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn district(
    opts: &super::Options,
    feature: &Value,
    ignored: &mut BTreeSet<String>,
    generated_code: impl FnOnce() -> String,
) -> Result<NewFeature> {
    let empty = Map::new();
    let props = feature
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let geometry = geometry::parse(
        feature
            .get("geometry")
            .filter(|g| !g.is_null())
            .ok_or_else(|| Error::invalid("geometry", "missing; a district is a polygon"))?,
        "geometry",
    )?;
    let name = attribute(props, opts, &["name"], common_names("name"));
    let code = attribute(props, opts, &["code", "id"], common_names("code"));
    let level = attribute(props, opts, &[], &["level", "nivå"]);
    let source = attribute(props, opts, &[], &["source", "källa"]);
    let regso = props.contains_key("regsokod");
    let used: Vec<&str> = [name, code, level, source]
        .iter()
        .flatten()
        .map(|(k, _)| *k)
        .collect();
    for (key, value) in props {
        // Trygg's own `version` is a number; SCB's (`2025_v2`) is data.
        let ours = SERVER_FIELDS.contains(&key.as_str()) && (key != "version" || value.is_number());
        if !used.contains(&key.as_str()) && !ours {
            ignored.insert(key.clone());
        }
    }
    let Some(name) = name.and_then(|(_, v)| text_of(v)) else {
        let have: Vec<&str> = props.keys().map(String::as_str).collect();
        return Err(Error::invalid(
            "properties.name",
            format!(
                "no name; name the attribute with --columns name=ATTRIBUTE (this feature has {})",
                if have.is_empty() {
                    "none".to_owned()
                } else {
                    have.join(", ")
                }
            ),
        ));
    };
    let code = code
        .and_then(|(_, v)| text_of(v))
        .unwrap_or_else(generated_code);
    Ok(NewFeature {
        geometry,
        attributes: Attributes::Area(Area {
            code,
            name: crate::regso::district_name(&name).to_owned(),
            level: level
                .and_then(|(_, v)| text_of(v))
                .unwrap_or_else(|| if regso { "regso" } else { "district" }.to_owned()),
            source: source
                .and_then(|(_, v)| text_of(v))
                .or_else(|| regso.then(|| crate::regso::SOURCE.to_owned())),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Crs, Format, Options, parse as parse_file};
    use super::*;
    use crate::Kind;
    use geo_types::{MultiPolygon, polygon};

    fn malmo() -> ServiceArea {
        let p = polygon![(x: 12.8, y: 55.4), (x: 13.3, y: 55.4), (x: 13.3, y: 55.7), (x: 12.8, y: 55.7), (x: 12.8, y: 55.4)];
        ServiceArea::new("1280", "Malmö", MultiPolygon(vec![p]), 0.0).unwrap()
    }

    const SQUARE_WGS84: &str =
        "[[[13.0,55.6],[13.01,55.6],[13.01,55.61],[13.0,55.61],[13.0,55.6]]]";

    fn read(fc: &str, opts: &Options) -> super::super::Parsed {
        parse_file(fc.as_bytes(), opts, &malmo(), chrono::Utc::now())
    }

    fn area_of(p: &super::super::Parsed, i: usize) -> &Area {
        match &p.features[i].attributes {
            Attributes::Area(a) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn extra_attributes_are_left_out_and_named_once() {
        let feature = |n: u32, name: &str| {
            format!(
                r#"{{"type":"Feature","properties":{{"OBJECTID":{n},"NAMN":"{name}","Shape_Area":12.5,"Shape_Length":3.1}},"geometry":{{"type":"Polygon","coordinates":{SQUARE_WGS84}}}}}"#
            )
        };
        let fc = format!(
            r#"{{"type":"FeatureCollection","features":[{},{}]}}"#,
            feature(1, "Centrum"),
            feature(2, "Rosengård")
        );
        let p = read(&fc, &Options::new(Kind::Area, Format::GeoJson));
        assert_eq!(p.features.len(), 2, "{:?}", p.rejects);
        assert_eq!(area_of(&p, 1).name, "Rosengård");
        assert_eq!(area_of(&p, 0).level, "district");
        assert_eq!(
            p.notes,
            ["attributes not imported: OBJECTID, Shape_Area, Shape_Length"]
        );
        // No code: a stable one from the feature, the same on a re-import.
        assert!(area_of(&p, 0).code.starts_with("row-"));
        let again = read(&fc, &Options::new(Kind::Area, Format::GeoJson));
        assert_eq!(p.features, again.features);
    }

    #[test]
    fn the_name_and_code_can_be_named_and_a_missing_name_says_what_there_is() {
        let fc = format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"DISTRIKT_NR":"M-7","BENAMNING":"Västra hamnen"}},"geometry":{{"type":"Polygon","coordinates":{SQUARE_WGS84}}}}}]}}"#
        );
        let p = read(&fc, &Options::new(Kind::Area, Format::GeoJson));
        assert_eq!(p.rejects[0].field, "properties.name");
        assert!(
            p.rejects[0].reason.contains("BENAMNING, DISTRIKT_NR"),
            "{:?}",
            p.rejects
        );
        let mut o = Options::new(Kind::Area, Format::GeoJson);
        o.set("columns", "name=benamning,code=DISTRIKT_NR", "--columns")
            .unwrap();
        let p = read(&fc, &o);
        assert_eq!(p.features.len(), 1, "{:?}", p.rejects);
        assert_eq!(
            (area_of(&p, 0).name.as_str(), area_of(&p, 0).code.as_str()),
            ("Västra hamnen", "M-7")
        );
        assert!(p.notes.is_empty(), "{:?}", p.notes);
    }

    #[test]
    fn regso_names_lose_their_prefix_and_sweref_districts_are_reprojected() {
        // Malmö's Hamnen-Stortorget corner in SWEREF 99 TM (pyproj).
        let fc = r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3006"}},"features":[
            {"type":"Feature","properties":{"regsokod":"1280R042","regsonamn":"RegSO-Hamnen-Stortorget","kommunkod":"1280","lanskod":"12"},
             "geometry":{"type":"Polygon","coordinates":[[[374000,6164000],[374600,6164000],[374600,6164600],[374000,6164600],[374000,6164000]]]}}]}"#;
        let p = read(fc, &Options::new(Kind::Area, Format::GeoJson));
        assert_eq!(p.features.len(), 1, "{:?} {:?}", p.rejects, p.fatal);
        let a = area_of(&p, 0);
        assert_eq!(
            (a.name.as_str(), a.level.as_str(), a.source.as_deref()),
            ("Hamnen-Stortorget", "regso", Some("scb-regso"))
        );
        assert_eq!(p.notes, ["attributes not imported: kommunkod, lanskod"]);
        let geo_types::Geometry::Polygon(poly) = &p.features[0].geometry else {
            panic!()
        };
        let c = poly.exterior().0[0];
        assert!(
            (c.x - 12.99).abs() < 0.03 && (c.y - 55.6).abs() < 0.03,
            "{c:?}"
        );
        // The same file without its crs member, and --crs.
        let bare = fc.replace(
            r#""crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3006"}},"#,
            "",
        );
        let p = read(&bare, &Options::new(Kind::Area, Format::GeoJson));
        assert!(p.rejects[0].reason.contains("--crs"), "{:?}", p.rejects);
        let mut o = Options::new(Kind::Area, Format::GeoJson);
        o.crs = Crs::Sweref(3006);
        assert_eq!(read(&bare, &o).features.len(), 1);
    }
}
