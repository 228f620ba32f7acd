//! The OGC API's flat view of each kind: one fixed list of scalar fields
//! per collection, so that every client and every format (GeoPackage,
//! Shapefile, CSV) can hold them, an empty collection still describes its
//! fields, and QGIS's "Save Features As" never meets an object or a list.
//! Nested properties become fields of their own (`scores_lighting`,
//! `respondent_gender`); lists become comma-separated text (`reasons`,
//! `report_ids`); a measure's status history becomes text, one
//! `status@time` per change, oldest first.

use serde_json::{Map, Value};

use crate::Kind;
use crate::attrs::{
    AgeBand, Gender, IncidentCategory, MeasureKind, MeasureStatus, ReportSource, ReportStatus,
    TimeOfDay, UnitType,
};

/// A field's type as JSON Schema and GeoPackage need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Text,
    /// An RFC 3339 time.
    DateTime,
    Integer,
    Number,
    Boolean,
}

/// One field of a collection.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    /// Where the value sits in the nested properties.
    pub path: &'static [&'static str],
    pub ty: FieldType,
    /// The values a text field takes, when it is a vocabulary.
    pub values: Option<&'static [&'static str]>,
    pub description: &'static str,
}

const fn f(
    name: &'static str,
    path: &'static [&'static str],
    ty: FieldType,
    description: &'static str,
) -> Field {
    Field {
        name,
        path,
        ty,
        values: None,
        description,
    }
}

const fn v(
    name: &'static str,
    path: &'static [&'static str],
    values: &'static [&'static str],
    description: &'static str,
) -> Field {
    Field {
        name,
        path,
        ty: FieldType::Text,
        values: Some(values),
        description,
    }
}

use FieldType::{Boolean, DateTime, Integer, Text};

const SERVER: [Field; 4] = [
    f("version", &["version"], Integer, "bumped on every change"),
    f(
        "organisation_id",
        &["organisation_id"],
        Text,
        "the partner that made the record",
    ),
    f(
        "created_at",
        &["created_at"],
        DateTime,
        "when the record was made",
    ),
    f(
        "updated_at",
        &["updated_at"],
        DateTime,
        "when the record last changed",
    ),
];

const INCIDENT: [Field; 8] = [
    v(
        "category",
        &["category"],
        IncidentCategory::NAMES,
        "incident category",
    ),
    f(
        "occurred_at",
        &["occurred_at"],
        DateTime,
        "when it happened (start); `datetime` filters on this",
    ),
    f(
        "occurred_until",
        &["occurred_until"],
        DateTime,
        "end of the time range, if any",
    ),
    f(
        "precision_m",
        &["precision_m"],
        Integer,
        "how exactly the position is known, in metres",
    ),
    f("source", &["source"], Text, "where the record came from"),
    f("source_id", &["source_id"], Text, "the source's own id"),
    f(
        "source_type",
        &["source_type"],
        Text,
        "the source's own type or heading",
    ),
    f("source_url", &["source_url"], Text, "a link to the source"),
];

const REPORT: [Field; 18] = [
    f(
        "reasons",
        &["reasons"],
        Text,
        "why the place feels unsafe, comma-separated",
    ),
    v(
        "source",
        &["source"],
        ReportSource::NAMES,
        "safety walk, survey, public report …",
    ),
    f(
        "reported_at",
        &["reported_at"],
        DateTime,
        "when it was reported; `datetime` filters on this",
    ),
    v(
        "time_of_day",
        &["time_of_day"],
        TimeOfDay::NAMES,
        "when the place feels unsafe",
    ),
    v(
        "status",
        &["status"],
        ReportStatus::NAMES,
        "moderation status",
    ),
    v(
        "respondent_gender",
        &["respondent", "gender"],
        Gender::NAMES,
        "respondent group (admins only)",
    ),
    v(
        "respondent_age_band",
        &["respondent", "age_band"],
        AgeBand::NAMES,
        "respondent group (admins only)",
    ),
    f(
        "respondent_lgbtq",
        &["respondent", "lgbtq"],
        Boolean,
        "respondent group (admins only)",
    ),
    f(
        "scores_lighting",
        &["scores", "lighting"],
        Integer,
        "safety-walk score",
    ),
    f(
        "scores_visibility",
        &["scores", "visibility"],
        Integer,
        "safety-walk score",
    ),
    f(
        "scores_openness",
        &["scores", "openness"],
        Integer,
        "safety-walk score",
    ),
    f(
        "scores_people_around",
        &["scores", "people_around"],
        Integer,
        "safety-walk score",
    ),
    f(
        "scores_upkeep",
        &["scores", "upkeep"],
        Integer,
        "safety-walk score",
    ),
    f(
        "scores_walk_path",
        &["scores", "walk_path"],
        Integer,
        "safety-walk score",
    ),
    f(
        "scores_overall",
        &["scores", "overall"],
        Integer,
        "safety-walk score",
    ),
    f(
        "walk_id",
        &["walk_id"],
        Text,
        "the safety walk it was noted on",
    ),
    f("comment", &["comment"], Text, "free text"),
    f(
        "contact",
        &["contact"],
        Text,
        "the reporter's contact (moderators and admins only)",
    ),
];

const PRESENCE: [Field; 5] = [
    v(
        "unit_type",
        &["unit_type"],
        UnitType::NAMES,
        "who was present",
    ),
    f("unit", &["unit"], Text, "the unit's call sign"),
    f(
        "started_at",
        &["started_at"],
        DateTime,
        "start; `datetime` filters on the time from start to end",
    ),
    f(
        "ended_at",
        &["ended_at"],
        DateTime,
        "end (empty while going on)",
    ),
    f("note", &["note"], Text, "free text"),
];

const MEASURE: [Field; 8] = [
    v("kind", &["kind"], MeasureKind::NAMES, "kind of measure"),
    f("title", &["title"], Text, "what is done"),
    v(
        "status",
        &["status"],
        MeasureStatus::NAMES,
        "current status",
    ),
    f("description", &["description"], Text, "free text"),
    f(
        "responsible_org",
        &["responsible_org"],
        Text,
        "who is responsible",
    ),
    f(
        "place_id",
        &["place_id"],
        Text,
        "the priority place it belongs to",
    ),
    f(
        "report_ids",
        &["report_ids"],
        Text,
        "the reports it answers, comma-separated",
    ),
    f(
        "status_history",
        &["status_history"],
        Text,
        "every status with its time, `status@time`, oldest first; `datetime` filters on the span from the first to the last",
    ),
];

const PLACE: [Field; 5] = [
    f("name", &["name"], Text, "name of the place"),
    f("reason", &["reason"], Text, "why it is a priority"),
    f(
        "active_from",
        &["active_from"],
        DateTime,
        "priority from; `datetime` filters on the time it is active",
    ),
    f(
        "active_until",
        &["active_until"],
        DateTime,
        "priority until",
    ),
    f(
        "target_visits_per_week",
        &["target_visits_per_week"],
        Integer,
        "patrol visits aimed at",
    ),
];

const AREA: [Field; 4] = [
    f("code", &["code"], Text, "district code (SCB RegSO)"),
    f("name", &["name"], Text, "district name"),
    f("level", &["level"], Text, "kind of district"),
    f("source", &["source"], Text, "where the outline came from"),
];

/// The fields of a kind's record collections, in order.
pub fn record_fields(kind: Kind) -> Vec<Field> {
    let own: &[Field] = match kind {
        Kind::Incident => &INCIDENT,
        Kind::Report => &REPORT,
        Kind::Presence => &PRESENCE,
        Kind::Measure => &MEASURE,
        Kind::Place => &PLACE,
        Kind::Area => &AREA,
    };
    own.iter().chain(SERVER.iter()).copied().collect()
}

/// The fields of a hexagon collection.
pub fn hexagon_fields(kind: Kind) -> Vec<Field> {
    let mut out = vec![
        f("h3", &["h3"], Text, "the H3 cell, hex"),
        f("resolution", &["resolution"], Integer, "H3 resolution"),
        f(
            "count",
            &["count"],
            Integer,
            "records that touch the hexagon",
        ),
    ];
    if kind == Kind::Presence {
        out.push(f(
            "visits",
            &["visits"],
            Integer,
            "presence logs that touch the hexagon",
        ));
        out.push(f(
            "minutes",
            &["minutes"],
            FieldType::Number,
            "minutes of presence, shared among the hexagons of a track",
        ));
    }
    out
}

/// The fields of the public districts.
pub fn public_area_fields() -> Vec<Field> {
    AREA[..3].to_vec()
}

fn lookup<'a>(props: &'a Map<String, Value>, path: &[&str]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let mut value = props.get(*first)?;
    for key in rest {
        value = value.get(*key)?;
    }
    Some(value)
}

fn scalar(value: &Value) -> Value {
    match value {
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|item| match item {
                    Value::String(s) => s.clone(),
                    // A status change: `status@time`.
                    Value::Object(o) => match (o.get("status"), o.get("at")) {
                        (Some(Value::String(s)), Some(Value::String(at))) => format!("{s}@{at}"),
                        _ => item.to_string(),
                    },
                    other => other.to_string(),
                })
                .collect();
            Value::String(parts.join(","))
        }
        Value::Object(_) => Value::String(value.to_string()),
        other => other.clone(),
    }
}

/// The flat properties of a feature: exactly `fields`, in order, null where
/// the record has no value.
pub fn flatten(props: &Map<String, Value>, fields: &[Field]) -> Map<String, Value> {
    fields
        .iter()
        .map(|field| {
            let value = lookup(props, field.path).map_or(Value::Null, scalar);
            (field.name.to_owned(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_properties_become_scalar_fields() {
        let props = json!({
            "reasons": ["lighting", "people"],
            "source": "safety_walk",
            "reported_at": "2026-10-01T20:00:00Z",
            "status": "approved",
            "scores": { "lighting": 2, "overall": 3 },
            "respondent": { "gender": "woman" },
            "version": 1,
        });
        let flat = flatten(props.as_object().unwrap(), &record_fields(Kind::Report));
        assert_eq!(flat["reasons"], "lighting,people");
        assert_eq!(flat["scores_lighting"], 2);
        assert_eq!(flat["scores_visibility"], Value::Null);
        assert_eq!(flat["respondent_gender"], "woman");
        assert!(flat.values().all(|v| !v.is_object() && !v.is_array()));
        assert_eq!(flat.len(), record_fields(Kind::Report).len());
    }

    #[test]
    fn a_status_history_is_text_oldest_first() {
        let props = json!({
            "kind": "lighting",
            "status_history": [
                { "status": "proposed", "at": "2026-01-02T10:00:00Z" },
                { "status": "done", "at": "2026-02-03T10:00:00Z" },
            ],
            "report_ids": ["a", "b"],
        });
        let flat = flatten(props.as_object().unwrap(), &record_fields(Kind::Measure));
        assert_eq!(
            flat["status_history"],
            "proposed@2026-01-02T10:00:00Z,done@2026-02-03T10:00:00Z"
        );
        assert_eq!(flat["report_ids"], "a,b");
    }

    #[test]
    fn every_kind_names_each_field_once() {
        for kind in Kind::ALL {
            let fields = record_fields(kind);
            for (i, a) in fields.iter().enumerate() {
                assert!(
                    !fields[i + 1..].iter().any(|b| b.name == a.name),
                    "{kind}: {}",
                    a.name
                );
            }
        }
    }
}
