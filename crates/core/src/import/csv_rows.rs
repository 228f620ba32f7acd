//! CSV rows to features. Columns are found by header name (in any case,
//! with or without å, ä, ö); which header holds what is configurable
//! (`x=E,y=N,time=datum`). Each row becomes a GeoJSON Feature and goes
//! through `NewFeature::parse`, the same validation as an API write.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::names;
use super::table::Table;
use super::{
    Collector, Crs, Options, Reject, Row, ToWgs84, ids, parse_clock, parse_duration, parse_time,
};
use crate::service_area::ServiceArea;
use crate::{Error, Kind, NewFeature, Result};

/// Which column holds each logical column, or why the file cannot be
/// read: a column the user named is missing, there is no x or y, or the
/// kind is not one CSV holds.
fn header_columns(
    opts: &Options,
    table: &Table,
) -> std::result::Result<HashMap<&'static str, usize>, Reject> {
    let (columns, missing) = opts.columns.resolve(&table.headers);
    let header_list = || {
        table
            .headers
            .iter()
            .map(|h| format!("`{h}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let at_header = |field: &str, reason: String| Reject {
        location: format!("line {}", table.header_line),
        field: field.into(),
        reason,
    };
    if !missing.is_empty() {
        return Err(at_header(
            "columns",
            format!(
                "the header has no column {}; it has {}",
                missing.join(", "),
                header_list()
            ),
        ));
    }
    for needed in ["x", "y"] {
        if !columns.contains_key(needed) {
            return Err(at_header(
                needed,
                format!(
                    "no {needed} column; name it with --columns {needed}=HEADER (the header has {})",
                    header_list()
                ),
            ));
        }
    }
    if !matches!(opts.kind, Kind::Incident | Kind::Report | Kind::Presence) {
        return Err(Reject {
            location: "file".into(),
            field: "kind".into(),
            reason: format!(
                "CSV import takes incidents, reports or presence, not {}; use GeoJSON",
                opts.kind.collection()
            ),
        });
    }
    Ok(columns)
}

pub(super) fn parse(text: &str, area: &ServiceArea, c: &mut Collector) {
    let opts = c.opts;
    let Some(mut table) = c.or_fatal(Table::open(text, opts.delimiter)) else {
        return;
    };
    let Some(columns) = c.or_fatal(header_columns(opts, &table)) else {
        return;
    };
    // A vocabulary column the file lacks is `other` in every row: say so.
    let defaulted = match opts.kind {
        Kind::Incident => Some(("category", "every row is `other`")),
        Kind::Report => Some(("reasons", "every row's reason is `other`")),
        Kind::Presence => Some(("unit_type", "every row's unit type is `other`")),
        _ => None,
    };
    if let Some((logical, what)) = defaulted
        && !columns.contains_key(logical)
    {
        c.out.notes.push(format!(
            "no {logical} column: {what} (name one with --columns {logical}=HEADER)"
        ));
    }
    let transform = match ToWgs84::new(opts.crs) {
        Ok(t) => t,
        Err(e) => {
            c.out.fatal = Some(Reject::from_error("file".into(), &e));
            return;
        }
    };
    let mut row_ids = ids::RowIds::default();
    let mut swapped_rows = 0u64;
    while let Some(next) = table.next() {
        let (line, record) = match next {
            Ok(r) => r,
            Err(reject) => {
                c.out.rejects.push(reject);
                continue;
            }
        };
        let get = |name: &str| {
            columns
                .get(name)
                .and_then(|i| record.get(*i))
                .filter(|v| !v.is_empty())
        };
        let mut id = || {
            get("id").map_or_else(
                || row_ids.next(ids::content_hash(record.iter())),
                str::to_owned,
            )
        };
        let location = Row::Line(line);
        match row_feature(opts, &transform, &get, &mut id).and_then(|(f, swapped)| {
            swapped_rows += u64::from(swapped);
            NewFeature::parse(opts.kind, &f, area, c.now)
        }) {
            Ok(f) => c.accept(location, f),
            Err(e) => c.reject(location, &e),
        }
    }
    if swapped_rows > 0 {
        c.out.notes.push(format!(
            "{swapped_rows} rows had the northing in the x column (X is north in Swedish geodesy) and were read the right way round"
        ));
    }
}

/// Numbers as spreadsheets write them: decimal commas, and spaces (also
/// no-break spaces) between thousands.
fn number(v: Option<&str>, field: &str) -> Result<f64> {
    let v = v.ok_or_else(|| Error::invalid(field, "is empty"))?;
    let cleaned: String = v
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    cleaned
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| Error::invalid(field, format!("`{v}` is not a number")))
}

/// A row's time of a logical column (`time`, `end`): a date-time, or a
/// clock alone (`21:30`) on the date of the row's date column (`Datum;Tid`,
/// `Datum;Starttid;Sluttid`, as logs kept in Excel have them).
fn when<'a>(
    get: &dyn Fn(&str) -> Option<&'a str>,
    opts: &Options,
    logical: &str,
) -> Result<DateTime<Utc>> {
    let v = get(logical).ok_or_else(|| Error::invalid(logical, "is empty"))?;
    if parse_clock(v).is_none() {
        return parse_time(v, opts.timezone, logical);
    }
    match get("date").filter(|d| *d != v) {
        Some(date) => parse_time(&format!("{date} {v}"), opts.timezone, logical),
        None => Err(Error::invalid(
            logical,
            format!(
                "`{v}` is a time of day without a date: name the date column with --columns date=HEADER"
            ),
        )),
    }
}

/// The end of a row (`end`), if it has one. An end written as a clock
/// alone that comes before the start is on the next day (a night shift
/// from 21:00 to 01:30).
fn until<'a>(
    get: &dyn Fn(&str) -> Option<&'a str>,
    opts: &Options,
    start: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>> {
    if get("end").is_none() {
        return Ok(None);
    }
    let end = when(get, opts, "end")?;
    let clock_only = get("end").and_then(parse_clock).is_some();
    Ok(Some(if clock_only && end < start {
        end + chrono::Duration::days(1)
    } else {
        end
    }))
}

/// Easting and northing of a row in SWEREF 99. Swedish geodesy calls the
/// northing X and the easting Y, so a file's `X` column often holds
/// northings: in Sweden a northing is over 6,000,000 m and an easting under
/// 1,000,000 m, so the two cannot be confused and are put right (`true`:
/// they were swapped).
fn easting_northing(crs: Crs, x: f64, y: f64) -> (f64, f64, bool) {
    if crs != Crs::Wgs84 && x > 5_000_000.0 && y < 2_000_000.0 {
        (y, x, true)
    } else {
        (x, y, false)
    }
}

/// A vocabulary value as its wire name (Swedish names and `--map`s).
fn named(opts: &Options, field: &str, raw: &str) -> Result<Value> {
    match names::resolve(opts.kind, field, raw, &opts.maps) {
        Some(v) => Ok(json!(v?)),
        None => Ok(json!(raw)),
    }
}

/// The GeoJSON Feature a row stands for, and whether its SWEREF 99
/// columns were swapped (see [`easting_northing`]).
fn row_feature<'a>(
    opts: &Options,
    transform: &ToWgs84,
    get: &dyn Fn(&str) -> Option<&'a str>,
    id: &mut dyn FnMut() -> String,
) -> Result<(Value, bool)> {
    let (x, y, swapped) =
        easting_northing(opts.crs, number(get("x"), "x")?, number(get("y"), "y")?);
    let (lon, lat) = transform.convert(x, y, "x, y")?;
    let mut p = Map::new();
    let mut put = |k: &str, v: Value| {
        p.insert(k.to_owned(), v);
    };
    match opts.kind {
        Kind::Incident => {
            let raw = get("category").unwrap_or("other");
            let category = named(opts, "category", raw)?;
            // The file's own label is kept where it was translated.
            let label = get("source_type").or((category != raw).then_some(raw));
            put("category", category);
            let start = when(get, opts, "time")?;
            put("occurred_at", json!(start));
            if let Some(end) = until(get, opts, start)? {
                put("occurred_until", json!(end));
            }
            if let Some(pr) = get("precision") {
                put(
                    "precision_m",
                    json!(number(Some(pr), "precision")?.round() as i64),
                );
            }
            put("source", json!(get("source").unwrap_or(&opts.source)));
            put("source_id", json!(id()));
            if let Some(t) = label {
                put("source_type", json!(t));
            }
            if let Some(u) = get("source_url") {
                put("source_url", json!(u));
            }
        }
        Kind::Report => {
            let reasons = get("reasons")
                .unwrap_or("other")
                .split([';', '|', ','])
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(|r| named(opts, "reasons", r))
                .collect::<Result<Vec<_>>>()?;
            put("reasons", Value::Array(reasons));
            put(
                "source",
                named(opts, "source", get("source").unwrap_or("survey"))?,
            );
            put("reported_at", json!(when(get, opts, "time")?));
            if let Some(t) = get("time_of_day") {
                put("time_of_day", named(opts, "time_of_day", t)?);
            }
            if let Some(c) = get("comment") {
                put("comment", json!(c));
            }
            put("client_id", json!(id()));
        }
        Kind::Presence => {
            put(
                "unit_type",
                named(opts, "unit_type", get("unit_type").unwrap_or("other"))?,
            );
            let started = when(get, opts, "time")?;
            put("started_at", json!(started));
            if let Some(end) = until(get, opts, started)? {
                put("ended_at", json!(end));
            } else if let Some(d) = get("duration") {
                let minutes = number(Some(d), "duration")
                    .map(|m| chrono::Duration::milliseconds((m * 60_000.0).round() as i64))
                    .or_else(|_| parse_duration(d, "duration"))?;
                put("ended_at", json!(started + minutes));
            }
            if let Some(u) = get("unit") {
                put("unit", json!(u));
            }
            if let Some(n) = get("comment") {
                put("note", json!(n));
            }
            put("client_id", json!(id()));
        }
        other => {
            return Err(Error::invalid(
                "kind",
                format!("CSV import does not take {}", other.collection()),
            ));
        }
    }
    Ok((
        json!({ "type": "Feature", "geometry": { "type": "Point", "coordinates": [lon, lat] }, "properties": Value::Object(p) }),
        swapped,
    ))
}

#[cfg(test)]
mod tests {
    use super::super::{Columns, Crs, Format, Options, Parsed, parse as parse_file};
    use super::*;
    use crate::attrs::{Attributes, IncidentCategory};
    use chrono::Utc;
    use geo_types::{MultiPolygon, polygon};

    fn area() -> ServiceArea {
        let p = polygon![(x: 15.3, y: 58.2), (x: 15.9, y: 58.2), (x: 15.9, y: 58.6), (x: 15.3, y: 58.6), (x: 15.3, y: 58.2)];
        ServiceArea::new("0580", "Linköping", MultiPolygon(vec![p]), 0.0).unwrap()
    }

    fn read(bytes: &[u8], opts: &Options) -> Parsed {
        parse_file(bytes, opts, &area(), Utc::now())
    }

    fn incidents() -> Options {
        Options::new(Kind::Incident, Format::Csv)
    }

    fn category(p: &Parsed, i: usize) -> IncidentCategory {
        match &p.features[i].attributes {
            Attributes::Incident(x) => x.category,
            other => panic!("{other:?}"),
        }
    }

    /// How Swedish Excel saves "CSV (semikolonavgränsad)": Windows-1252,
    /// semicolons, decimal commas, CRLF.
    fn excel(text: &str) -> Vec<u8> {
        let crlf = text.replace('\n', "\r\n");
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&crlf);
        assert!(!unmappable);
        bytes.into_owned()
    }

    #[test]
    fn the_bench_format_reads_with_default_names() {
        let csv = b"id,lon,lat,ts,category\n1,15.6214,58.4108,2024-01-05T20:00:00Z,theft\n2,15.63,58.41,2024-01-06 21:00,robbery\n";
        let p = read(csv, &incidents());
        assert_eq!(p.features.len(), 2, "{:?}", p.rejects);
        assert!(p.rejects.is_empty() && p.fatal.is_none());
    }

    #[test]
    fn a_swedish_excel_file_reads_with_its_columns_named() {
        let csv = excel(
            "Nr;Nordlig;Östlig;Datum;Brottstyp;Plats\n\
             K-1;6474614,998755;536308,536354;2024-01-05 21:00;Misshandel;Ågatan\n\
             K-2;6 474 614,99;536 308,53;2024-01-06 1:05;trafikolycka;Stora Torget\n\
             K-3;6474614,99;536308,53;2024-01-07;Skadegörelse;Trädgårdstorget\n",
        );
        let mut o = incidents();
        o.crs = Crs::Sweref(3006);
        o.set(
            "columns",
            "x=Östlig,y=nordlig,time=datum,category=brottstyp",
            "--columns",
        )
        .unwrap();
        let p = read(&csv, &o);
        assert_eq!(p.features.len(), 3, "{:?} {:?}", p.rejects, p.fatal);
        assert_eq!(p.notes, ["read as Windows-1252 (the file is not UTF-8)"]);
        assert_eq!(
            (category(&p, 0), category(&p, 1), category(&p, 2)),
            (
                IncidentCategory::Assault,
                IncidentCategory::Traffic,
                IncidentCategory::Vandalism
            )
        );
        let geo_types::Geometry::Point(pt) = p.features[0].geometry else {
            panic!()
        };
        assert!((pt.x() - 15.6214).abs() < 1e-6, "{pt:?}");
        let Attributes::Incident(i) = &p.features[0].attributes else {
            panic!()
        };
        assert_eq!(
            i.source_type.as_deref(),
            Some("Misshandel"),
            "the file's label is kept"
        );
        assert_eq!(i.source_id.as_deref(), Some("K-1"));
        // Found by their common names too, without --columns.
        let mut o = incidents();
        o.crs = Crs::Sweref(3006);
        assert_eq!(read(&csv, &o).features.len(), 3);
    }

    #[test]
    fn a_gzipped_file_reads_whatever_its_name() {
        use std::io::Write;
        let csv = excel("id;lon;lat;tid;typ\n1;15,62;58,41;2024-01-05 21:00;Stöld\n");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&csv).unwrap();
        let p = read(&gz.finish().unwrap(), &incidents());
        assert_eq!(p.features.len(), 1, "{:?} {:?}", p.rejects, p.fatal);
        assert_eq!(category(&p, 0), IncidentCategory::Theft);
    }

    #[test]
    fn lines_are_counted_right_with_crlf_and_quoted_line_breaks() {
        let csv = "id;lon;lat;tid;typ;kommentar\r\n\
                   1;15,62;58,41;2024-01-05 21:00;Stöld;\"två\r\nrader\"\r\n\
                   \r\n\
                   ;;;;;\r\n\
                   2;15,62;58,41;2024-01-05 21:00;Misshandlat;\r\n\
                   3;15,62;58,41;igår;Rån;\r\n\
                   4;15,62;58,41\r\n";
        let p = read(csv.as_bytes(), &incidents());
        let described: Vec<String> = p.rejects.iter().map(ToString::to_string).collect();
        assert_eq!(p.features.len(), 1, "{described:?}");
        assert!(
            described[0].starts_with(
                "line 6: properties.category: unknown value \"Misshandlat\"; known: theft (stöld)"
            ),
            "{described:?}"
        );
        assert!(described[1].starts_with("line 7: time:"), "{described:?}");
        assert!(
            described[2].starts_with("line 8: has 3 fields where the header has 6"),
            "{described:?}"
        );
        // The same file with lone LF line ends names the same lines.
        let p = read(csv.replace("\r\n", "\n").as_bytes(), &incidents());
        let lf: Vec<String> = p.rejects.iter().map(ToString::to_string).collect();
        assert_eq!(lf, described);
    }

    #[test]
    fn a_bad_row_is_named_by_its_line_and_column() {
        let csv = b"id,lon,lat,ts,category\n1,15.62,58.41,2024-01-05T20:00:00Z,theft\n2,15.62,58.41,not a time,theft\n3,15.62,,2024-01-05T20:00:00Z,theft\n4,15.62,58.41\n";
        let p = read(csv, &incidents());
        assert_eq!(p.features.len(), 1);
        let described: Vec<String> = p.rejects.iter().map(ToString::to_string).collect();
        assert!(described[0].starts_with("line 3: time:"), "{described:?}");
        assert!(described[1].starts_with("line 4: y:"), "{described:?}");
        assert!(described[2].starts_with("line 5"), "{described:?}");
    }

    #[test]
    fn missing_coordinate_columns_are_fatal_and_name_the_header() {
        let p = read(b"a,b\n1,2\n", &incidents());
        let fatal = p.fatal.unwrap();
        assert_eq!(fatal.field, "x");
        assert!(fatal.reason.contains("`a`, `b`"), "{fatal}");
        assert!(Columns::parse("z=foo", "--columns").is_err());
        let mut o = incidents();
        o.set("columns", "x=E,y=N,time=Datum", "--columns").unwrap();
        let fatal = read(b"E;N;tid\n1;2;3\n", &o).fatal.unwrap();
        assert_eq!(fatal.field, "columns");
        assert!(fatal.reason.contains("time=Datum"), "{fatal}");
    }

    #[test]
    fn rows_without_ids_get_stable_ones_and_identical_rows_stay_apart() {
        let csv = "lon;lat;tid;typ\n15,62;58,41;2024-01-05 21:00;Stöld\n15,62;58,41;2024-01-05 21:00;Stöld\n".as_bytes();
        let p = read(csv, &incidents());
        assert_eq!((p.features.len(), p.merged), (2, 0), "{:?}", p.rejects);
        let id = |p: &Parsed, i: usize| match &p.features[i].attributes {
            Attributes::Incident(x) => x.source_id.clone().unwrap(),
            _ => unreachable!(),
        };
        assert_ne!(id(&p, 0), id(&p, 1));
        let again = read(csv, &incidents());
        assert_eq!((id(&p, 0), id(&p, 1)), (id(&again, 0), id(&again, 1)));
        // The same id twice with the same values is one record; with other
        // values, a reject naming both lines.
        let csv = "id;lon;lat;tid;typ\n7;15,62;58,41;2024-01-05 21:00;Stöld\n7;15,62;58,41;2024-01-05 21:00;Stöld\n7;15,62;58,41;2024-01-05 22:00;Stöld\n".as_bytes();
        let p = read(csv, &incidents());
        assert_eq!((p.features.len(), p.merged), (1, 1));
        assert_eq!(
            p.rejects[0].to_string().split(';').next().unwrap(),
            "line 4: properties.source_id: `7` is also the id of line 2, with other values"
        );
    }

    #[test]
    fn an_imported_presence_needs_an_end_or_a_duration() {
        let mut o = Options::new(Kind::Presence, Format::Csv);
        let csv = "lon;lat;start;enhetstyp;minuter\n15,62;58,41;2024-01-05 21:00;Nattvandrare;\n15,62;58,41;2024-01-05 22:00;Polis;25\n";
        let p = read(csv.as_bytes(), &o);
        assert_eq!(p.features.len(), 1);
        assert_eq!(p.rejects[0].location, "line 2");
        assert_eq!(p.rejects[0].field, "properties.ended_at");
        let ended = |p: &Parsed, i: usize| match &p.features[i].attributes {
            Attributes::Presence(x) => x.ended_at.unwrap().to_rfc3339(),
            _ => unreachable!(),
        };
        assert_eq!(ended(&p, 0), "2024-01-05T21:25:00+00:00");
        o.set("default-duration", "15m", "--default-duration")
            .unwrap();
        let p = read(csv.as_bytes(), &o);
        assert_eq!(p.features.len(), 2, "{:?}", p.rejects);
        assert_eq!(ended(&p, 0), "2024-01-05T20:15:00+00:00");
        assert!(
            o.set("default-duration", "25h", "--default-duration")
                .is_err()
        );
    }

    #[test]
    fn a_date_and_a_clock_in_columns_of_their_own_make_one_time() {
        // A night walkers' log kept in Excel: the end past midnight is on
        // the next day.
        let csv = excel(
            "sep=;\n\
             Datum;Starttid;Sluttid;Enhetstyp;Lat;Long\n\
             2024-03-05;21:00;01:30;Nattvandrare;58,4108;15,6214\n\
             2024-03-06;18.15;19.05;Polis;58,4108;15,6214\n\
             2024-03-07;22:00;;Polis;58,4108;15,6214\n",
        );
        let p = read(&csv, &Options::new(Kind::Presence, Format::Csv));
        let span = |i: usize| match &p.features[i].attributes {
            Attributes::Presence(x) => {
                (x.started_at.to_rfc3339(), x.ended_at.unwrap().to_rfc3339())
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(p.features.len(), 2, "{:?} {:?}", p.rejects, p.fatal);
        assert_eq!(
            span(0),
            (
                "2024-03-05T20:00:00+00:00".to_owned(),
                "2024-03-06T00:30:00+00:00".to_owned()
            )
        );
        assert_eq!(span(1).1, "2024-03-06T18:05:00+00:00");
        assert_eq!(p.rejects[0].location, "line 5", "the sep= line counts");
        assert_eq!(p.rejects[0].field, "properties.ended_at");
        // `Datum;Tid` for incidents; a clock without any date says so.
        let p = read(
            "lat;lon;datum;tid;typ\n58,41;15,62;2024-03-05;21:30;Rån\n".as_bytes(),
            &incidents(),
        );
        let Attributes::Incident(i) = &p.features[0].attributes else {
            panic!("{:?}", p.rejects)
        };
        assert_eq!(i.occurred_at.to_rfc3339(), "2024-03-05T20:30:00+00:00");
        let p = read(
            "lat;lon;tid;typ\n58,41;15,62;21:30;Rån\n".as_bytes(),
            &incidents(),
        );
        assert_eq!(p.rejects[0].field, "time");
        assert!(
            p.rejects[0].reason.contains("--columns date="),
            "{:?}",
            p.rejects
        );
    }

    #[test]
    fn sweref_northings_in_the_x_column_are_read_the_right_way_round() {
        // Swedish geodesy's X is north: a municipal file with X and Y.
        let mut o = incidents();
        o.crs = Crs::Sweref(3006);
        let p = read(
            &excel("X;Y;Datum;Typ\n6474614,998755;536308,536354;2024-01-05;Stöld\n"),
            &o,
        );
        assert_eq!(p.features.len(), 1, "{:?}", p.rejects);
        let geo_types::Geometry::Point(pt) = p.features[0].geometry else {
            panic!()
        };
        assert!(
            (pt.x() - 15.6214).abs() < 1e-6 && (pt.y() - 58.4108).abs() < 1e-6,
            "{pt:?}"
        );
        assert!(
            p.notes
                .iter()
                .any(|n| n.starts_with("1 rows had the northing")),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn times_without_an_offset_are_local_in_the_zone_given() {
        let mut o = incidents();
        o.set("timezone", "Europe/London", "timezone").unwrap();
        let p = read(b"lon,lat,tid,typ\n15.62,58.41,2024-07-01 12:00,theft\n", &o);
        let Attributes::Incident(i) = &p.features[0].attributes else {
            panic!()
        };
        assert_eq!(i.occurred_at.to_rfc3339(), "2024-07-01T11:00:00+00:00");
    }

    #[test]
    fn the_delimiter_and_encoding_can_be_named() {
        let mut o = incidents();
        o.set("delimiter", ";", "--delimiter").unwrap();
        o.set("encoding", "windows-1252", "--encoding").unwrap();
        let p = read(&excel("lon;lat;tid;typ\n15,62;58,41;2024-01-05;Rån\n"), &o);
        assert_eq!(p.features.len(), 1, "{:?} {:?}", p.rejects, p.fatal);
        assert!(p.notes.is_empty(), "named, not guessed: {:?}", p.notes);
    }

    #[test]
    fn the_police_feed_fixture_reads_as_plain_csv_with_its_own_times() {
        let text = include_str!("../../../../fixtures/polisen_events_ostergotland.csv");
        let mut o = incidents();
        o.set(
            "columns",
            "id=id,time=datetime,category=type,x=lon,y=lat",
            "--columns",
        )
        .unwrap();
        o.set(
            "map",
            "category=Sammanfattning natt:other,Sammanfattning kväll och natt:other",
            "--map",
        )
        .unwrap();
        let county = polygon![(x: 14.5, y: 57.7), (x: 16.9, y: 57.7), (x: 16.9, y: 58.9), (x: 14.5, y: 58.9), (x: 14.5, y: 57.7)];
        let ostergotland =
            ServiceArea::new("05", "Östergötland", MultiPolygon(vec![county]), 0.0).unwrap();
        let p = parse_file(text.as_bytes(), &o, &ostergotland, Utc::now());
        assert!(p.fatal.is_none(), "{:?}", p.fatal);
        // Every time parses (the feed's unpadded hours included); what is
        // refused is only event types that are no incident.
        assert!(
            p.rejects.iter().all(|r| r.field == "properties.category"),
            "{:?}",
            &p.rejects[..3.min(p.rejects.len())]
        );
        assert_eq!(p.features.len() + p.rejects.len(), 2_382);
        assert!(p.features.len() > 2_000, "{}", p.features.len());
    }
}
