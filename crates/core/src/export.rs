//! Export of a layer as GeoJSON or CSV. The CSV columns are the ones the CSV
//! import reads back, so an export re-imports unchanged (by source id or
//! client id); measures carry the date of every status.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::attrs::{Attributes, MeasureStatus};
use crate::{Feature, Kind, geometry};

/// A FeatureCollection of features as the API returns them.
pub fn geojson(features: &[Feature]) -> String {
    let items: Vec<Value> = features.iter().map(Feature::to_geojson).collect();
    json!({ "type": "FeatureCollection", "features": items, "numberReturned": items.len() })
        .to_string()
}

/// The characters a spreadsheet reads as the start of a formula when a cell
/// begins with one: `= + - @`, and tab and carriage return, which it skips
/// before reading on.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Quotes a CSV field, and defuses text a spreadsheet would run as a formula
/// (a leading `'`). Every CSV Trygg writes passes here: exports, the
/// follow-up, the audit log, import rejects.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(FORMULA_START) && s.parse::<f64>().is_err() {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn header(kind: Kind) -> &'static str {
    match kind {
        Kind::Incident => {
            "id,source,source_id,source_type,source_url,category,occurred_at,occurred_until,precision_m,lon,lat"
        }
        Kind::Report => "id,client_id,reasons,source,status,reported_at,time_of_day,lon,lat",
        Kind::Presence => "id,client_id,unit_type,unit,started_at,ended_at,lon,lat",
        Kind::Measure => {
            "id,client_id,kind,title,status,proposed_at,planned_at,in_progress_at,done_at,closed_at,rejected_at,responsible_org,lon,lat"
        }
        Kind::Place => "id,name,reason,active_from,active_until,target_visits_per_week,lon,lat",
        Kind::Area => "id,code,name,level,lon,lat",
    }
}

fn t(v: Option<chrono::DateTime<chrono::Utc>>) -> String {
    v.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// A CSV of one kind. Lines and polygons are placed at a point on them
/// (their exact shape is in the GeoJSON export).
pub fn csv(kind: Kind, features: &[Feature]) -> String {
    let mut out = String::from(header(kind));
    out.push('\n');
    for f in features {
        let p = geometry::round_coord(geometry::representative_point(&f.geometry));
        let o = |s: Option<&String>| s.map(|v| csv_field(v)).unwrap_or_default();
        let cells: Vec<String> = match &f.attributes {
            Attributes::Incident(a) => vec![
                f.id.to_string(),
                csv_field(&a.source),
                o(a.source_id.as_ref()),
                o(a.source_type.as_ref()),
                o(a.source_url.as_ref()),
                a.category.as_str().into(),
                t(Some(a.occurred_at)),
                t(a.occurred_until),
                a.precision_m.to_string(),
            ],
            Attributes::Report(a) => vec![
                f.id.to_string(),
                o(a.client_id.as_ref()),
                a.reasons
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(";"),
                a.source.as_str().into(),
                a.status.as_str().into(),
                t(Some(a.reported_at)),
                a.time_of_day
                    .map(|x| x.as_str().to_owned())
                    .unwrap_or_default(),
            ],
            Attributes::Presence(a) => vec![
                f.id.to_string(),
                o(a.client_id.as_ref()),
                a.unit_type.as_str().into(),
                o(a.unit.as_ref()),
                t(Some(a.started_at)),
                t(a.ended_at),
            ],
            Attributes::Measure(a) => {
                let at = |s: MeasureStatus| {
                    t(f.status_history
                        .iter()
                        .rev()
                        .find(|c| c.status == s)
                        .map(|c| c.at))
                };
                vec![
                    f.id.to_string(),
                    o(a.client_id.as_ref()),
                    a.kind.as_str().into(),
                    csv_field(&a.title),
                    a.status.as_str().into(),
                    at(MeasureStatus::Proposed),
                    at(MeasureStatus::Planned),
                    at(MeasureStatus::InProgress),
                    at(MeasureStatus::Done),
                    at(MeasureStatus::Closed),
                    at(MeasureStatus::Rejected),
                    o(a.responsible_org.as_ref()),
                ]
            }
            Attributes::Place(a) => vec![
                f.id.to_string(),
                csv_field(&a.name),
                o(a.reason.as_ref()),
                t(Some(a.active_from)),
                t(a.active_until),
                a.target_visits_per_week
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
            ],
            Attributes::Area(a) => vec![
                f.id.to_string(),
                csv_field(&a.code),
                csv_field(&a.name),
                csv_field(&a.level),
            ],
        };
        let _ = writeln!(out, "{},{},{}", cells.join(","), p.x, p.y);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_and_separators_are_defused() {
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-12.5"), "-12.5");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        // A tab or carriage return before the formula: spreadsheets skip
        // them and run what follows.
        assert_eq!(csv_field("\t=1+1"), "'\t=1+1");
        assert!(csv_field("\r=cmd|' /C calc'!A0").starts_with("\"'\r"));
        assert_eq!(csv_field("+46 70 000 00 00"), "'+46 70 000 00 00");
    }
}
