//! data.police.uk street-level crime CSV. Positions are anonymised snap
//! points ("On or near …") and times are months, so incidents keep a
//! precision of a few hundred metres and span their whole month.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use geo_types::{Geometry, Point};

use super::table::Table;
use super::{Collector, Reject, Row, ids, names};
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

pub(super) fn parse(text: &str, area: &ServiceArea, c: &mut Collector) {
    let Some(mut table) = c.or_fatal(Table::open(text, c.opts.delimiter)) else {
        return;
    };
    let col = |name: &str| table.headers.iter().position(|h| h == name);
    let (Some(id), Some(month), Some(lon), Some(lat), Some(kind)) = (
        col("Crime ID"),
        col("Month"),
        col("Longitude"),
        col("Latitude"),
        col("Crime type"),
    ) else {
        c.out.fatal = Some(Reject {
            location: format!("line {}", table.header_line),
            field: "header".into(),
            reason: "not a police.uk street file: needs Crime ID, Month, Longitude, Latitude, Crime type".into(),
        });
        return;
    };
    // Rows without a Crime ID (anti-social behaviour) get one from their
    // text and which occurrence of it they are: two identical rows at one
    // snap point are two incidents.
    let mut row_ids = ids::RowIds::default();
    while let Some(next) = table.next() {
        let (line, record) = match next {
            Ok(r) => r,
            Err(reject) => {
                c.out.rejects.push(reject);
                continue;
            }
        };
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        // Rows the police could not place have no position: nothing to map.
        if field(lon).is_empty() || field(lat).is_empty() {
            c.out.skipped += 1;
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
                row_ids.next(ids::content_hash(record.iter()))
            } else {
                field(id).to_owned()
            };
            let feature = NewFeature {
                geometry: Geometry::Point(Point::new(x, y)),
                attributes: Attributes::Incident(Incident {
                    category: names::mapped_category(field(kind), &c.opts.maps)
                        .unwrap_or_else(|| category(field(kind))),
                    occurred_at: start,
                    occurred_until: Some(end.min(c.now)),
                    precision_m: SNAP_PRECISION_M,
                    source: SOURCE.to_owned(),
                    source_id: Some(source_id),
                    source_type: Some(field(kind).to_owned()),
                    source_url: None,
                }),
            };
            let value = serde_json::json!({
                "type": "Feature",
                "geometry": crate::geometry::to_value(&feature.geometry),
                "properties": feature.attributes.to_value(),
            });
            NewFeature::parse(crate::Kind::Incident, &value, area, c.now)
        })();
        match result {
            Ok(f) => c.accept(Row::Line(line), f),
            Err(e) => c.reject(Row::Line(line), &e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Format, Options, parse as parse_file};
    use super::*;
    use crate::Kind;
    use geo_types::{MultiPolygon, polygon};

    fn london() -> ServiceArea {
        let p = polygon![(x: -0.6, y: 51.2), (x: 0.4, y: 51.2), (x: 0.4, y: 51.8), (x: -0.6, y: 51.8), (x: -0.6, y: 51.2)];
        ServiceArea::new("LDN", "London", MultiPolygon(vec![p]), 0.0).unwrap()
    }

    fn parse(csv: &str, now: DateTime<Utc>) -> super::super::Parsed {
        parse_file(
            csv.as_bytes(),
            &Options::new(Kind::Incident, Format::PoliceUk),
            &london(),
            now,
        )
    }

    const HEADER: &str = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\r\n";

    #[test]
    fn a_street_file_reads_with_month_spans_and_stable_ids() {
        let csv = format!(
            "{HEADER}abc,2024-01,Met,Met,-0.1,51.5,On or near X,E1,N,Burglary,Under investigation,\r\n\
             ,2024-01,Met,Met,-0.11,51.5,On or near Y,E1,N,Robbery,,\r\n\
             ,2024-01,Met,Met,,,No location,,,Burglary,,\r\n"
        );
        let now = Utc::now();
        let parsed = parse(&csv, now);
        assert_eq!(
            (parsed.features.len(), parsed.skipped),
            (2, 1),
            "{:?}",
            parsed.rejects
        );
        let again = parse(&csv, now);
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

    #[test]
    fn identical_rows_without_a_crime_id_are_separate_crimes() {
        let row = ",2024-01,Met,Met,-0.11,51.5,On or near Y,E1,N,Anti-social behaviour,,\r\n";
        let csv = format!("{HEADER}{row}{row}{row}");
        let parsed = parse(&csv, Utc::now());
        let ids: std::collections::HashSet<_> = parsed
            .features
            .iter()
            .map(|f| match &f.attributes {
                Attributes::Incident(i) => i.source_id.clone(),
                _ => None,
            })
            .collect();
        assert_eq!((parsed.features.len(), ids.len(), parsed.merged), (3, 3, 0));
    }

    #[test]
    fn a_crime_listed_once_per_outcome_is_one_record_and_a_clash_is_named() {
        let csv = format!(
            "{HEADER}abc,2024-01,Met,Met,-0.1,51.5,On or near X,E1,N,Burglary,Under investigation,\r\n\
             abc,2024-01,Met,Met,-0.1,51.5,On or near X,E1,N,Burglary,Status update unavailable,\r\n\
             abc,2024-01,Met,Met,-0.2,51.5,On or near Z,E1,N,Burglary,,\r\n"
        );
        let parsed = parse(&csv, Utc::now());
        assert_eq!((parsed.features.len(), parsed.merged), (1, 1));
        assert_eq!(parsed.rejects.len(), 1);
        let r = &parsed.rejects[0];
        assert_eq!(r.location, "line 4", "CRLF lines are counted right");
        assert_eq!(r.field, "properties.source_id");
        assert!(r.reason.contains("also the id of line 2"), "{r}");
    }
}
