//! The Swedish Police events feed (`polisen.se/api/events`). Its positions
//! are the fixed midpoints of a municipality or county, so incidents from
//! it keep a coarse precision and never pose as street-level points.

use chrono::{DateTime, Utc};
use geo_types::{Geometry, Point};
use serde::Deserialize;

use crate::attrs::{Attributes, Incident, IncidentCategory};
use crate::{Error, NewFeature, Result};

/// Precision given to a position that is a municipality's midpoint.
pub const MUNICIPALITY_PRECISION_M: u32 = 20_000;
/// Precision given to a position that is a county's midpoint.
pub const COUNTY_PRECISION_M: u32 = 60_000;
pub const SOURCE: &str = "polisen";

#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    pub id: i64,
    pub datetime: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub url: String,
    pub location: Location,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Location {
    pub name: String,
    pub gps: String,
}

/// Parses the feed's JSON array, naming the event that is malformed.
pub fn parse_events(json: &str) -> Result<Vec<Event>> {
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(json)).map_err(|e| {
        let path = e.path().to_string();
        Error::invalid(path, e.into_inner())
    })
}

impl Event {
    /// The municipality the event concerns: the last part of its title
    /// (county-level events name it only there).
    pub fn municipality(&self) -> &str {
        self.name.rsplit(',').next().map_or("", str::trim)
    }

    pub fn is_county_level(&self) -> bool {
        self.location.name.ends_with(" län")
    }

    pub fn is_summary(&self) -> bool {
        self.kind.starts_with("Sammanfattning")
    }

    /// The feed's time, e.g. `2022-10-07 1:03:33 +02:00` (hour not padded),
    /// read by the importers' time parser.
    pub fn published_at(&self, field: &str) -> Result<DateTime<Utc>> {
        crate::import::parse_local_time(&self.datetime, field)
    }

    pub fn position(&self, field: &str) -> Result<(f64, f64)> {
        let (lat, lon) = self
            .location
            .gps
            .split_once(',')
            .ok_or_else(|| Error::invalid(field, "gps must be `lat,lon`"))?;
        let lat: f64 = lat
            .trim()
            .parse()
            .map_err(|_| Error::invalid(field, "latitude is not a number"))?;
        let lon: f64 = lon
            .trim()
            .parse()
            .map_err(|_| Error::invalid(field, "longitude is not a number"))?;
        if !lat.is_finite()
            || !lon.is_finite()
            || !(-90.0..=90.0).contains(&lat)
            || !(-180.0..=180.0).contains(&lon)
        {
            return Err(Error::invalid(field, "position out of range"));
        }
        Ok((lon, lat))
    }

    /// The incident this event stands for, or `None` for types that are not
    /// crime or disorder (fires, missing persons, nightly summaries …).
    pub fn to_incident(&self, index: usize) -> Result<Option<NewFeature>> {
        match category_of(&self.kind) {
            Some(category) => self.incident_as(index, category).map(Some),
            None => Ok(None),
        }
    }

    /// The incident this event stands for, in a category given by the
    /// caller (a user's `--map` of the event type).
    pub fn incident_as(&self, index: usize, category: IncidentCategory) -> Result<NewFeature> {
        let field = format!("[{index}]");
        let (lon, lat) = self.position(&format!("{field}.location.gps"))?;
        let precision_m = if self.is_county_level() {
            COUNTY_PRECISION_M
        } else {
            MUNICIPALITY_PRECISION_M
        };
        let incident = Incident {
            category,
            occurred_at: self.published_at(&format!("{field}.datetime"))?,
            occurred_until: None,
            precision_m,
            source: SOURCE.to_owned(),
            source_id: Some(self.id.to_string()),
            source_type: Some(self.kind.clone()),
            source_url: (!self.url.is_empty()).then(|| {
                if self.url.starts_with("http") {
                    self.url.clone()
                } else {
                    format!("https://polisen.se{}", self.url)
                }
            }),
        };
        Ok(NewFeature {
            geometry: Geometry::Point(Point::new(lon, lat)),
            attributes: Attributes::Incident(incident),
        })
    }

    /// A nightly summary kept as an incident of category `other` (asked for
    /// with `--include-summaries`), without its link.
    pub fn to_summary_incident(&self, index: usize) -> Result<Option<NewFeature>> {
        let mut f = self.incident_as(index, IncidentCategory::Other)?;
        if let Attributes::Incident(i) = &mut f.attributes {
            i.source_url = None;
        }
        Ok(Some(f))
    }
}

/// The feed's Swedish event types, by prefix, in the order they are tried
/// (`Stöld/inbrott` before `Stöld`), with the category each stands for;
/// `None` for types that are not crime or disorder Trygg counts (nightly
/// summaries). Types not listed (fires, missing persons …) are left out.
pub const EVENT_TYPES: &[(&str, Option<&str>)] = &[
    ("Sammanfattning", None),
    ("Motorfordon, stöld", Some("vehicle_theft")),
    ("Motorfordon, anträffat stulet", Some("vehicle_theft")),
    ("Stöld/inbrott", Some("burglary")),
    ("Inbrott", Some("burglary")),
    ("Hemfridsbrott", Some("burglary")),
    ("Olaga intrång", Some("burglary")),
    ("Stöld", Some("theft")),
    ("Snatteri", Some("theft")),
    ("Rån", Some("robbery")),
    ("Skadegörelse", Some("vandalism")),
    ("Misshandel", Some("assault")),
    ("Mord/dråp", Some("assault")),
    ("Våldtäkt", Some("assault")),
    ("Våld/hot", Some("assault")),
    ("Olaga hot", Some("assault")),
    ("Skottlossning", Some("assault")),
    ("Vållande till kroppsskada", Some("assault")),
    ("Olaga frihetsberövande", Some("assault")),
    ("Sexualbrott", Some("assault")),
    ("Narkotikabrott", Some("drugs")),
    ("Bedrägeri", Some("fraud")),
    ("Åldringsbrott", Some("fraud")),
    ("Bråk", Some("disturbance")),
    ("Ofredande", Some("disturbance")),
    ("Ordningslagen", Some("disturbance")),
    ("Fylleri", Some("disturbance")),
    ("Smällar", Some("disturbance")),
    ("Knivlagen", Some("disturbance")),
    ("Trafikolycka", Some("traffic")),
    ("Rattfylleri", Some("traffic")),
    ("Trafikbrott", Some("traffic")),
    ("Övrigt", Some("other")),
    ("Vapenlagen", Some("other")),
    ("Detonation", Some("other")),
    ("Explosion", Some("other")),
    ("Farligt föremål", Some("other")),
    ("Larm Överfall", Some("other")),
    ("Skyddslagen", Some("other")),
];

/// Maps the feed's Swedish event types onto Trygg's categories.
pub fn category_of(kind: &str) -> Option<IncidentCategory> {
    let k = kind.trim();
    EVENT_TYPES
        .iter()
        .find(|(prefix, _)| k.starts_with(prefix))
        .and_then(|(_, category)| *category)
        .and_then(|c| IncidentCategory::parse(c, "type").ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"[
      {"id": 374224, "datetime": "2022-10-07 1:03:33 +02:00", "name": "07 oktober 00:45, Misshandel, Linköping",
       "summary": "x", "url": "/aktuellt/handelser/2022/oktober/7/x/", "type": "Misshandel",
       "location": {"name": "Linköping", "gps": "58.410807,15.621373"}},
      {"id": 2, "datetime": "2024-03-01 22:10:00 +01:00", "name": "01 mars, Sammanfattning natt, Östergötlands län",
       "summary": "", "url": "", "type": "Sammanfattning natt", "location": {"name": "Östergötlands län", "gps": "58.345364,15.519784"}}
    ]"#;

    #[test]
    fn an_unpadded_hour_parses_with_its_offset() {
        let events = parse_events(SAMPLE).unwrap();
        let t = events[0].published_at("datetime").unwrap();
        assert_eq!(t.to_rfc3339(), "2022-10-06T23:03:33+00:00");
    }

    #[test]
    fn a_municipality_event_keeps_its_coarse_precision() {
        let events = parse_events(SAMPLE).unwrap();
        let f = events[0].to_incident(0).unwrap().unwrap();
        let Attributes::Incident(i) = &f.attributes else {
            panic!()
        };
        assert_eq!(i.category, IncidentCategory::Assault);
        assert_eq!(i.precision_m, MUNICIPALITY_PRECISION_M);
        assert_eq!(i.source_id.as_deref(), Some("374224"));
        assert_eq!(events[0].municipality(), "Linköping");
    }

    #[test]
    fn nightly_summaries_are_not_incidents() {
        let events = parse_events(SAMPLE).unwrap();
        assert!(events[1].is_summary());
        assert!(events[1].to_incident(1).unwrap().is_none());
    }

    #[test]
    fn truncated_json_names_where_it_broke() {
        let err = parse_events(&SAMPLE[..200]).unwrap_err();
        assert!(err.reason().contains("EOF"), "{err}");
    }
}
