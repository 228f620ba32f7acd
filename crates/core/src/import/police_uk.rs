//! data.police.uk street-level crime CSV. Positions are anonymised snap
//! points ("On or near …") and times are months, so incidents keep a
//! precision of a few hundred metres and span their whole month.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use geo_types::{Geometry, Point};

use super::{Parsed, Reject};
use crate::attrs::{Attributes, Incident, IncidentCategory};
use crate::service_area::ServiceArea;
use crate::{Error, NewFeature, Result};

pub const SOURCE: &str = "police.uk";
/// How far a snap point may lie from the crime.
const SNAP_PRECISION_M: u32 = 250;

fn category(crime_type: &str) -> IncidentCategory {
    use IncidentCategory as C;
    match crime_type.trim() {
        "Burglary" => C::Burglary,
        "Anti-social behaviour" | "Public order" => C::Disturbance,
        "Bicycle theft" | "Other theft" | "Shoplifting" | "Theft from the person" => C::Theft,
        "Criminal damage and arson" => C::Vandalism,
        "Drugs" => C::Drugs,
        "Robbery" => C::Robbery,
        "Vehicle crime" => C::VehicleTheft,
        "Violence and sexual offences" => C::Assault,
        _ => C::Other,
    }
}

/// A stable id for rows without a Crime ID, so a re-import stays idempotent.
fn row_hash(fields: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for f in fields {
        for b in f.bytes().chain(std::iter::once(0x1f)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("row-{h:016x}")
}

fn month_span(month: &str, field: &str) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .map_err(|_| Error::invalid(field, format!("`{month}` is not YYYY-MM")))?;
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    }
    .unwrap_or(first);
    let start = Utc.from_utc_datetime(&first.and_hms_opt(0, 0, 0).unwrap_or_default());
    let end = Utc.from_utc_datetime(&next.and_hms_opt(0, 0, 0).unwrap_or_default())
        - chrono::Duration::milliseconds(1);
    Ok((start, end))
}

pub(super) fn parse(bytes: &[u8], area: &ServiceArea, now: DateTime<Utc>) -> Parsed {
    let mut out = Parsed::default();
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            out.fatal = Some(Reject {
                location: "line 1".into(),
                field: "header".into(),
                reason: e.to_string(),
            });
            return out;
        }
    };
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(id), Some(month), Some(lon), Some(lat), Some(kind)) = (
        col("Crime ID"),
        col("Month"),
        col("Longitude"),
        col("Latitude"),
        col("Crime type"),
    ) else {
        out.fatal = Some(Reject {
            location: "line 1".into(),
            field: "header".into(),
            reason: "not a police.uk street file: needs Crime ID, Month, Longitude, Latitude, Crime type".into(),
        });
        return out;
    };
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                out.rejects.push(Reject {
                    location: format!("line {line}"),
                    field: String::new(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        // Rows the police could not place have no position: nothing to map.
        if field(lon).is_empty() || field(lat).is_empty() {
            out.skipped += 1;
            continue;
        }
        let result = (|| -> Result<NewFeature> {
            let x: f64 = field(lon)
                .parse()
                .map_err(|_| Error::invalid("Longitude", "not a number"))?;
            let y: f64 = field(lat)
                .parse()
                .map_err(|_| Error::invalid("Latitude", "not a number"))?;
            let (start, end) = month_span(field(month), "Month")?;
            let source_id = if field(id).is_empty() {
                row_hash(&record.iter().collect::<Vec<_>>())
            } else {
                field(id).to_owned()
            };
            let feature = NewFeature {
                geometry: Geometry::Point(Point::new(x, y)),
                attributes: Attributes::Incident(Incident {
                    category: category(field(kind)),
                    occurred_at: start,
                    occurred_until: Some(end.min(now)),
                    precision_m: SNAP_PRECISION_M,
                    source: SOURCE.to_owned(),
                    source_id: Some(source_id),
                    source_type: Some(field(kind).to_owned()),
                    source_url: None,
                    municipality: None,
                }),
            };
            let value = serde_json::json!({
                "type": "Feature",
                "geometry": crate::geometry::to_value(&feature.geometry),
                "properties": feature.attributes.to_value(),
            });
            NewFeature::parse(crate::Kind::Incident, &value, area, now)
        })();
        match result {
            Ok(f) => out.features.push(f),
            Err(e) => out.reject(format!("line {line}"), &e),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{MultiPolygon, polygon};

    #[test]
    fn a_street_file_reads_with_month_spans_and_stable_ids() {
        let p = polygon![(x: -0.6, y: 51.2), (x: 0.4, y: 51.2), (x: 0.4, y: 51.8), (x: -0.6, y: 51.8), (x: -0.6, y: 51.2)];
        let london = ServiceArea::new("LDN", "London", MultiPolygon(vec![p]), 0.0).unwrap();
        let csv = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n\
                   abc,2024-01,Met,Met,-0.1,51.5,On or near X,E1,N,Burglary,Under investigation,\n\
                   ,2024-01,Met,Met,-0.11,51.5,On or near Y,E1,N,Robbery,,\n\
                   ,2024-01,Met,Met,,,No location,,,Burglary,,\n";
        let now = Utc::now();
        let parsed = super::parse(csv.as_bytes(), &london, now);
        assert_eq!(
            (parsed.features.len(), parsed.skipped),
            (2, 1),
            "{:?}",
            parsed.rejects
        );
        let again = super::parse(csv.as_bytes(), &london, now);
        assert_eq!(
            parsed.features, again.features,
            "ids of rows without one are stable"
        );
        let Attributes::Incident(i) = &parsed.features[0].attributes else {
            panic!()
        };
        assert_eq!(i.category, IncidentCategory::Burglary);
        assert_eq!(i.occurred_at.to_rfc3339(), "2024-01-01T00:00:00+00:00");
    }
}
