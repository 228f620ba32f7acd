//! The Swedish Police events feed (`polisen.se/api/events`). Its positions
//! are the fixed midpoints of a municipality or county, so incidents from
//! it keep a coarse precision and never pose as street-level points.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use geo_types::{Geometry, Point};
use serde::Deserialize;

use crate::attrs::{Attributes, Incident, IncidentCategory};
use crate::service_area::ServiceArea;
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

    /// The served municipality this event concerns, by its index in the
    /// area's members: the last part of its title, or its location's name.
    pub fn served_member(&self, area: &ServiceArea) -> Option<usize> {
        area.member_by_name(self.municipality())
            .or_else(|| area.member_by_name(&self.location.name))
    }

    pub fn is_county_level(&self) -> bool {
        self.location.name.ends_with(" län")
    }

    pub fn is_summary(&self) -> bool {
        self.kind.starts_with("Sammanfattning")
    }

    /// The feed's time, e.g. `2022-10-07 1:03:33 +02:00` (hour not padded).
    pub fn published_at(&self, field: &str) -> Result<DateTime<Utc>> {
        parse_feed_time(&self.datetime).ok_or_else(|| {
            Error::invalid(
                field,
                format!("`{}` is not a feed date-time", self.datetime),
            )
        })
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
    /// `municipality` is the SCB code of the municipality it concerns: its
    /// position is only that municipality's or county's midpoint, so it is
    /// counted by this code (see `service_area::NOT_A_POSITION_M`).
    pub fn to_incident(
        &self,
        index: usize,
        municipality: Option<&str>,
    ) -> Result<Option<NewFeature>> {
        let Some(category) = category_of(&self.kind) else {
            return Ok(None);
        };
        let source_url = (!self.url.is_empty()).then(|| {
            if self.url.starts_with("http") {
                self.url.clone()
            } else {
                format!("https://polisen.se{}", self.url)
            }
        });
        self.incident(index, category, source_url, municipality)
            .map(Some)
    }

    /// A nightly summary kept as an incident of category `other` (asked for
    /// with `--include-summaries`).
    pub fn to_summary_incident(
        &self,
        index: usize,
        municipality: Option<&str>,
    ) -> Result<Option<NewFeature>> {
        self.incident(index, IncidentCategory::Other, None, municipality)
            .map(Some)
    }

    /// The precision the position deserves: a county's or a
    /// municipality's midpoint.
    pub fn precision_m(&self) -> u32 {
        if self.is_county_level() {
            COUNTY_PRECISION_M
        } else {
            MUNICIPALITY_PRECISION_M
        }
    }

    fn incident(
        &self,
        index: usize,
        category: IncidentCategory,
        source_url: Option<String>,
        municipality: Option<&str>,
    ) -> Result<NewFeature> {
        let field = format!("[{index}]");
        let (lon, lat) = self.position(&format!("{field}.location.gps"))?;
        let incident = Incident {
            category,
            occurred_at: self.published_at(&format!("{field}.datetime"))?,
            occurred_until: None,
            precision_m: self.precision_m(),
            source: SOURCE.to_owned(),
            source_id: Some(self.id.to_string()),
            source_type: Some(self.kind.clone()),
            source_url,
            municipality: municipality.map(str::to_owned),
        };
        Ok(NewFeature {
            geometry: Geometry::Point(Point::new(lon, lat)),
            attributes: Attributes::Incident(incident),
        })
    }
}

/// Maps the feed's Swedish event types onto Trygg's categories.
pub fn category_of(kind: &str) -> Option<IncidentCategory> {
    use IncidentCategory as C;
    let k = kind.trim();
    let starts = |p: &str| k.starts_with(p);
    Some(if starts("Sammanfattning") {
        return None;
    } else if starts("Motorfordon, stöld") || starts("Motorfordon, anträffat stulet") {
        C::VehicleTheft
    } else if starts("Stöld/inbrott")
        || starts("Inbrott")
        || starts("Hemfridsbrott")
        || starts("Olaga intrång")
    {
        C::Burglary
    } else if starts("Stöld") || starts("Snatteri") {
        C::Theft
    } else if starts("Rån") {
        C::Robbery
    } else if starts("Skadegörelse") {
        C::Vandalism
    } else if starts("Misshandel")
        || starts("Mord/dråp")
        || starts("Våldtäkt")
        || starts("Våld/hot")
        || starts("Olaga hot")
        || starts("Skottlossning")
        || starts("Vållande till kroppsskada")
        || starts("Olaga frihetsberövande")
        || starts("Sexualbrott")
    {
        C::Assault
    } else if starts("Narkotikabrott") {
        C::Drugs
    } else if starts("Bedrägeri") || starts("Åldringsbrott") {
        C::Fraud
    } else if starts("Bråk")
        || starts("Ofredande")
        || starts("Ordningslagen")
        || starts("Fylleri")
        || starts("Smällar")
        || starts("Knivlagen")
    {
        C::Disturbance
    } else if starts("Trafikolycka") || starts("Rattfylleri") || starts("Trafikbrott") {
        C::Traffic
    } else if starts("Övrigt")
        || starts("Vapenlagen")
        || starts("Detonation")
        || starts("Explosion")
        || starts("Farligt föremål")
        || starts("Larm Överfall")
        || starts("Skyddslagen")
    {
        C::Other
    } else {
        return None;
    })
}

fn parse_feed_time(s: &str) -> Option<DateTime<Utc>> {
    let mut parts = s.split_whitespace();
    let date = NaiveDate::parse_from_str(parts.next()?, "%Y-%m-%d").ok()?;
    let mut hms = parts.next()?.split(':').map(|p| p.parse::<u32>().ok());
    let time = NaiveTime::from_hms_opt(hms.next()??, hms.next()??, hms.next()??)?;
    let offset = parts.next()?;
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let (oh, om) = offset.trim_start_matches(['+', '-']).split_once(':')?;
    let secs = sign * (oh.parse::<i32>().ok()? * 3600 + om.parse::<i32>().ok()? * 60);
    let tz = FixedOffset::east_opt(secs)?;
    tz.from_local_datetime(&date.and_time(time))
        .single()
        .map(|t| t.with_timezone(&Utc))
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
        let f = events[0].to_incident(0, Some("0580")).unwrap().unwrap();
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
        assert!(events[1].to_incident(1, None).unwrap().is_none());
    }

    #[test]
    fn truncated_json_names_where_it_broke() {
        let err = parse_events(&SAMPLE[..200]).unwrap_err();
        assert!(err.reason().contains("EOF"), "{err}");
    }
}
