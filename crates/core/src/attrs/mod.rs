//! The attributes (GeoJSON `properties`) of each kind, their validation, and
//! the columns derived from them that filters and indexes use.

mod area;
mod incident;
mod measure;
mod place;
mod presence;
mod report;

pub use area::Area;
pub use incident::{Incident, IncidentCategory};
pub use measure::{Measure, MeasureKind, MeasureStatus, StatusChange};
pub use place::Place;
pub use presence::{Presence, UnitType};
pub use report::{
    AgeBand, Gender, Reason, Report, ReportSource, ReportStatus, Respondent, Scores, TimeOfDay,
};

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::time::{EpochMs, to_ms};
use crate::{Error, Kind, Result};

/// Properties the server writes itself; a client that sends a feature back
/// as it got it (GET, edit, PUT) should not be refused for them.
const READ_ONLY_PROPERTIES: [&str; 6] = [
    "id",
    "created_at",
    "updated_at",
    "version",
    "status_history",
    "organisation_id",
];

#[derive(Debug, Clone, PartialEq)]
pub enum Attributes {
    Incident(Incident),
    Report(Report),
    Presence(Presence),
    Measure(Measure),
    Place(Place),
    Area(Area),
}

/// What filters, idempotency and the time axis need, pulled out of the
/// attributes into plain columns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Derived {
    /// Start of the time extent; `None` for timeless kinds (areas).
    pub t_start: Option<EpochMs>,
    /// End of the time extent; `None` means still going on (or timeless).
    pub t_end: Option<EpochMs>,
    /// The values the kind's main filter matches (category, reasons, unit
    /// type, measure kind).
    pub tags: Vec<&'static str>,
    pub status: Option<&'static str>,
    pub source: Option<String>,
    pub source_id: Option<String>,
    pub client_id: Option<String>,
    /// Incidents: how exactly the position is known, in metres.
    pub precision_m: Option<u32>,
}

impl Attributes {
    /// Parses and validates `properties` for a kind. `now` bounds times that
    /// may not lie in the future.
    pub fn parse(kind: Kind, properties: &Value, now: DateTime<Utc>) -> Result<Self> {
        let mut props = match properties {
            Value::Object(m) => m.clone(),
            Value::Null => serde_json::Map::new(),
            _ => return Err(Error::invalid("properties", "must be an object")),
        };
        for key in READ_ONLY_PROPERTIES {
            props.remove(key);
        }
        let props = Value::Object(props);
        let attrs = match kind {
            Kind::Incident => Attributes::Incident(from_props(props)?),
            Kind::Report => Attributes::Report(from_props(props)?),
            Kind::Presence => Attributes::Presence(from_props(props)?),
            Kind::Measure => Attributes::Measure(from_props(props)?),
            Kind::Place => Attributes::Place(from_props(props)?),
            Kind::Area => Attributes::Area(from_props(props)?),
        };
        attrs.validate(now).map_err(|e| e.within("properties"))?;
        Ok(attrs)
    }

    pub fn kind(&self) -> Kind {
        match self {
            Attributes::Incident(_) => Kind::Incident,
            Attributes::Report(_) => Kind::Report,
            Attributes::Presence(_) => Kind::Presence,
            Attributes::Measure(_) => Kind::Measure,
            Attributes::Place(_) => Kind::Place,
            Attributes::Area(_) => Kind::Area,
        }
    }

    fn validate(&self, now: DateTime<Utc>) -> Result<()> {
        match self {
            Attributes::Incident(a) => a.validate(now),
            Attributes::Report(a) => a.validate(now),
            Attributes::Presence(a) => a.validate(now),
            Attributes::Measure(a) => a.validate(now),
            Attributes::Place(a) => a.validate(),
            Attributes::Area(a) => a.validate(),
        }
    }

    /// The derived columns. Measures take their time extent from their
    /// status history, which the caller passes in.
    pub fn derived(&self, history: &[StatusChange]) -> Derived {
        match self {
            Attributes::Incident(a) => a.derived(),
            Attributes::Report(a) => a.derived(),
            Attributes::Presence(a) => a.derived(),
            Attributes::Measure(a) => a.derived(history),
            Attributes::Place(a) => a.derived(),
            Attributes::Area(a) => a.derived(),
        }
    }

    /// The attributes as the `properties` object (without server fields).
    pub fn to_value(&self) -> Value {
        let v = match self {
            Attributes::Incident(a) => serde_json::to_value(a),
            Attributes::Report(a) => serde_json::to_value(a),
            Attributes::Presence(a) => serde_json::to_value(a),
            Attributes::Measure(a) => serde_json::to_value(a),
            Attributes::Place(a) => serde_json::to_value(a),
            Attributes::Area(a) => serde_json::to_value(a),
        };
        v.unwrap_or(Value::Null)
    }

    /// Reads back what [`Attributes::to_value`] stored. Stored values were
    /// validated on the way in, so only the shape is checked here.
    pub fn from_stored(kind: Kind, value: Value) -> Result<Self> {
        Ok(match kind {
            Kind::Incident => Attributes::Incident(from_props(value)?),
            Kind::Report => Attributes::Report(from_props(value)?),
            Kind::Presence => Attributes::Presence(from_props(value)?),
            Kind::Measure => Attributes::Measure(from_props(value)?),
            Kind::Place => Attributes::Place(from_props(value)?),
            Kind::Area => Attributes::Area(from_props(value)?),
        })
    }
}

/// Deserialises properties, naming the offending field on failure.
fn from_props<T: DeserializeOwned>(value: Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let field = if path == "." {
            // serde names unknown or missing fields only in the message.
            extract_field_name(&inner)
                .map_or_else(|| "properties".to_owned(), |f| format!("properties.{f}"))
        } else {
            format!("properties.{path}")
        };
        Error::invalid(field, inner)
    })
}

fn extract_field_name(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// Text fields: trimmed non-empty when present, bounded length, no control
/// characters (which would break CSV exports and logs).
pub(crate) fn check_text(field: &str, value: &str, max_chars: usize) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if value.chars().count() > max_chars {
        return Err(Error::invalid(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(())
}

pub(crate) fn check_opt_text(field: &str, value: Option<&String>, max_chars: usize) -> Result<()> {
    value.map_or(Ok(()), |v| check_text(field, v, max_chars))
}

/// Client ids and source ids: what a phone or an export generates. Bounded
/// and printable so they can sit in URLs and logs.
pub(crate) fn check_id(field: &str, value: Option<&String>) -> Result<()> {
    let Some(v) = value else { return Ok(()) };
    if v.is_empty() || v.len() > 128 {
        return Err(Error::invalid(field, "must be 1 to 128 characters"));
    }
    if !v.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Error::invalid(
            field,
            "must be printable ASCII without spaces",
        ));
    }
    Ok(())
}

/// Times more than a minute ahead of the server clock are refused where
/// something has to have happened already (clocks on phones drift a little).
pub(crate) fn check_not_future(field: &str, t: DateTime<Utc>, now: DateTime<Utc>) -> Result<()> {
    if t > now + chrono::Duration::minutes(5) {
        return Err(Error::invalid(field, "lies in the future"));
    }
    Ok(())
}

pub(crate) fn check_order(
    field: &str,
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
) -> Result<()> {
    if let Some(end) = end
        && end < start
    {
        return Err(Error::invalid(field, "ends before it starts"));
    }
    Ok(())
}

pub(crate) fn span(
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
) -> (Option<EpochMs>, Option<EpochMs>) {
    (Some(to_ms(start)), end.map(to_ms))
}
