//! GeoJSON FeatureCollections of any kind but districts (`areas.rs`):
//! the legacy `crs` member or `--crs`, vocabulary values and local times as
//! GIS exports write them, and ids for features without one.

use chrono::DateTime;
use serde_json::Value;

use super::{Collector, Crs, Options, Reject, Row, ToWgs84, ids, json_fatal, names, parse_time};
use crate::service_area::ServiceArea;
use crate::{Error, Kind, NewFeature, Result};

/// A FeatureCollection's features, the coordinate system they are in (the
/// legacy `crs` member, else the option) and its transform.
pub(super) type Collection = (Vec<Value>, Crs, ToWgs84);

/// A file's [`Collection`], or why it cannot be read as one.
pub(super) fn feature_collection(
    text: &str,
    opts: &Options,
) -> std::result::Result<Collection, Reject> {
    let value: Value = serde_json::from_str(text).map_err(|e| json_fatal(&e))?;
    let crs = match value
        .pointer("/crs/properties/name")
        .and_then(Value::as_str)
    {
        Some(name) => Crs::parse(name, "crs").map_err(|e| Reject::from_error("file".into(), &e))?,
        None => opts.crs,
    };
    match value {
        Value::Object(mut m)
            if m.get("type").and_then(Value::as_str) == Some("FeatureCollection") =>
        {
            match m.remove("features") {
                Some(Value::Array(features)) => {
                    let transform =
                        ToWgs84::new(crs).map_err(|e| Reject::from_error("file".into(), &e))?;
                    Ok((features, crs, transform))
                }
                _ => Err(Reject {
                    location: "file".into(),
                    field: "features".into(),
                    reason: "a FeatureCollection needs a `features` array".into(),
                }),
            }
        }
        _ => Err(Reject {
            location: "file".into(),
            field: "type".into(),
            reason: "expected a GeoJSON FeatureCollection".into(),
        }),
    }
}

/// Reprojects a feature's coordinates to WGS84 in place. Coordinates in
/// metres read as WGS84 are named as what they probably are.
pub(super) fn to_wgs84(feature: &mut Value, crs: Crs, transform: &ToWgs84) -> Result<()> {
    let Some(coords) = feature.pointer_mut("/geometry/coordinates") else {
        return Ok(());
    };
    if crs != Crs::Wgs84 {
        return reproject(coords, transform);
    }
    if let Some((x, y)) = first_position(coords)
        && x.abs() > 180.0
        && y.abs() > 90.0
    {
        return Err(Error::invalid(
            "geometry.coordinates",
            format!(
                "[{x}, {y}] is in metres, not degrees: name the coordinate system with --crs (SWEREF 99 TM is EPSG:3006, Linköping's local zone EPSG:3009)"
            ),
        ));
    }
    Ok(())
}

fn first_position(v: &Value) -> Option<(f64, f64)> {
    let items = v.as_array()?;
    match (items.first()?, items.get(1)) {
        (Value::Number(x), Some(Value::Number(y))) => Some((x.as_f64()?, y.as_f64()?)),
        (first, _) => first_position(first),
    }
}

pub(super) fn parse(text: &str, area: &ServiceArea, c: &mut Collector) {
    let opts = c.opts;
    let Some((features, crs, transform)) = c.or_fatal(feature_collection(text, opts)) else {
        return;
    };
    let mut row_ids = ids::RowIds::default();
    for (i, mut feature) in features.into_iter().enumerate() {
        let location = Row::Feature(i);
        // The id comes from the feature as written, before any change.
        let hash = ids::content_hash([feature.to_string().as_str()]);
        let result = to_wgs84(&mut feature, crs, &transform)
            .and_then(|()| prepare_properties(opts, &mut feature, || row_ids.next(hash)))
            .and_then(|()| NewFeature::parse(opts.kind, &feature, area, c.now));
        match result {
            Ok(f) => c.accept(location, f),
            Err(e) => c.reject(location, &e),
        }
    }
}

/// Properties that hold a time, in every kind.
const TIME_PROPERTIES: &[&str] = &[
    "occurred_at",
    "occurred_until",
    "reported_at",
    "started_at",
    "ended_at",
    "status_date",
    "active_from",
    "active_until",
];

/// Vocabulary values to wire names, local times to RFC 3339, and an id for
/// a feature without one.
fn prepare_properties(
    opts: &Options,
    feature: &mut Value,
    id: impl FnOnce() -> String,
) -> Result<()> {
    let Some(Value::Object(props)) = feature.get_mut("properties") else {
        return Ok(());
    };
    names::translate_properties(opts.kind, props, &opts.maps)?;
    // Times as GIS exports write them (`2024/01/05 21:00:00`, local time)
    // become RFC 3339 in the import's zone; the validation reads those.
    for field in TIME_PROPERTIES {
        if let Some(Value::String(t)) = props.get_mut(*field)
            && DateTime::parse_from_rfc3339(t).is_err()
        {
            let parsed = parse_time(t, opts.timezone, &format!("properties.{field}"))?;
            *t = parsed.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        }
    }
    let id_field = match opts.kind {
        Kind::Incident => "source_id",
        Kind::Report | Kind::Presence | Kind::Measure => "client_id",
        Kind::Place | Kind::Area => return Ok(()),
    };
    if props.get(id_field).is_none_or(Value::is_null) {
        props.insert(id_field.to_owned(), Value::String(id()));
    }
    Ok(())
}

/// Rewrites every position of a GeoJSON coordinates array in place.
fn reproject(v: &mut Value, t: &ToWgs84) -> Result<()> {
    let Value::Array(items) = v else {
        return Err(Error::invalid("geometry.coordinates", "must be an array"));
    };
    if items.len() >= 2 && items.iter().all(Value::is_number) {
        let x = items[0].as_f64().unwrap_or(f64::NAN);
        let y = items[1].as_f64().unwrap_or(f64::NAN);
        let (lon, lat) = t.convert(x, y, "geometry.coordinates")?;
        *v = serde_json::json!([lon, lat]);
        return Ok(());
    }
    items.iter_mut().try_for_each(|i| reproject(i, t))
}
