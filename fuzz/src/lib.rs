//! What the fuzz targets run, kept apart from libFuzzer so that
//! `crates/core/tests/fuzz_corpus.rs` replays the committed corpora through
//! exactly this code on stable Rust: an input that once crashed stays a test.
//!
//! Every entry point takes raw bytes and must not panic. The assertions are
//! the promises an accepted value makes to the rest of Trygg (a stored
//! geometry lies in the service area, a window does not end before it
//! starts, a refused import row says where it is).

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use geo_types::{Geometry, MultiPolygon, polygon};
use h3o::CellIndex;
use serde_json::Value;
use trygg_core::analytics::Period;
use trygg_core::analytics::hotspots::CategoryWeights;
use trygg_core::attrs::{Attributes, Derived, IncidentCategory};
use trygg_core::bbox::Bbox;
use trygg_core::cells::{self, LayerResolution};
use trygg_core::import::{self, Columns, Crs, Format, Options, Parsed};
use trygg_core::privacy::{self, PublicPolicy};
use trygg_core::query::{self, HexQuery, ListQuery, PointQuery};
use trygg_core::service_area::{self, ServiceArea};
use trygg_core::time::{self, TimeWindow};
use trygg_core::{Kind, NewFeature, geometry};

const LINKOPING_BOUNDARY: &str = include_str!("../../fixtures/linkoping_kommun_boundary.geojson");

/// The service area the server runs with by default: Linköping's precise
/// outline and the same 100 m border tolerance as `trygg serve`.
static LINKOPING: LazyLock<ServiceArea> = LazyLock::new(|| {
    let shape = service_area::shape_from_geojson(LINKOPING_BOUNDARY.as_bytes())
        .expect("the committed Linköping outline parses");
    ServiceArea::new("0580", "Linköping", shape, 100.0)
        .expect("the committed Linköping outline makes a service area")
});

/// police.uk rows only make features in a British area; a box around
/// Greater London is enough to let them through to validation.
static LONDON: LazyLock<ServiceArea> = LazyLock::new(|| {
    let p = polygon![(x: -0.6, y: 51.2), (x: 0.4, y: 51.2), (x: 0.4, y: 51.8), (x: -0.6, y: 51.8), (x: -0.6, y: 51.2)];
    ServiceArea::new("LDN", "London", MultiPolygon(vec![p]), 0.0)
        .expect("a rectangle makes a service area")
});

/// A fixed clock, so that a corpus file means the same thing on every run
/// ("not in the future" checks would otherwise drift).
fn now() -> DateTime<Utc> {
    // 2026-11-25T12:00:00Z
    DateTime::from_timestamp(1_795_608_000, 0).expect("a constant within chrono's range")
}

/// GeoJSON bodies as the API receives them: the geometry parser and writer
/// on whatever geometry the body holds, then `NewFeature::parse` for every
/// kind, and the H3 coverage of what the service area accepts.
pub fn geojson_feature(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let area = &*LINKOPING;
    let now = now();

    let bare = value
        .get("geometry")
        .filter(|g| !g.is_null())
        .unwrap_or(&value);
    if let Ok(g) = geometry::parse(bare, "geometry") {
        for c in geometry::vertices(&g) {
            assert!(
                (-180.0..=180.0).contains(&c.x) && (-90.0..=90.0).contains(&c.y),
                "geometry::parse accepted [{}, {}]",
                c.x,
                c.y
            );
        }
        // What is stored is what was written; it must read back.
        let written = geometry::to_value(&g);
        if let Err(e) = geometry::parse(&written, "geometry") {
            panic!("a written geometry does not read back: {e}: {written}");
        }
        if area.check(&g, "geometry.coordinates").is_ok()
            && let Ok(cells) = cells::coverage(&g)
        {
            check_cells(&cells);
        }
    }

    for kind in Kind::ALL {
        let Ok(f) = NewFeature::parse(kind, &value, area, now) else {
            continue;
        };
        assert_eq!(f.kind(), kind);
        assert!(geometry::check_rule(&f.geometry, kind.geometry_rule(), "geometry").is_ok());
        check_inside(&f.geometry, area);
        check_derived(&f.attributes.derived(&[]));
        // A client that GETs a feature and PUTs it back unchanged must not be
        // refused for properties the server itself wrote.
        let written = f.attributes.to_value();
        if let Err(e) = Attributes::parse(kind, &written, now) {
            panic!("{kind}: written properties do not validate again: {e}: {written}");
        }
    }
}

const CRS_NAMES: [&str; 8] = [
    "WGS84",
    "EPSG:3006",
    "EPSG:3009",
    "urn:ogc:def:crs:EPSG::3010",
    "3007",
    "EPSG:3018",
    "EPSG:4326",
    "SWEREF99",
];

/// Column options as a municipality would pass them with `--columns`; one
/// slot past the end means "the first line of the input is the option".
const COLUMN_SETS: [&str; 7] = [
    "",
    "x=E,y=N,time=datum,category=typ,id=nr",
    "x=lon,y=lat",
    "x=östlig,y=nordlig,time=tid,end=slut",
    "y=E,x=N",
    "id=Crime ID,x=Longitude,y=Latitude,time=Month,category=Crime type",
    "reasons=orsak,time=datum,comment=kommentar,unit_type=enhetstyp",
];

/// Import files. Byte 0 picks the format (bits 0–1), the kind (bits 2–4)
/// and whether police summaries are kept (bit 5); byte 1 the coordinate
/// system (bits 0–2) and the column option (bits 3–5); the rest is the file.
pub fn import_formats(data: &[u8]) {
    let [format_byte, option_byte, file @ ..] = data else {
        return;
    };
    let format = [
        Format::Csv,
        Format::GeoJson,
        Format::Polisen,
        Format::PoliceUk,
    ][usize::from(format_byte & 3)];
    let kind = Kind::ALL[usize::from((format_byte >> 2) & 7) % Kind::ALL.len()];
    let Ok(crs) = Crs::parse(CRS_NAMES[usize::from(option_byte & 7)], "crs") else {
        return;
    };
    let (columns, file) = if let Some(set) = COLUMN_SETS.get(usize::from((option_byte >> 3) & 7)) {
        (*set, file)
    } else {
        let end = file.iter().position(|b| *b == b'\n').unwrap_or(file.len());
        let Ok(spec) = std::str::from_utf8(&file[..end]) else {
            return;
        };
        (spec, file.get(end + 1..).unwrap_or_default())
    };
    let Ok(columns) = Columns::parse(columns, "columns") else {
        return;
    };
    let mut opts = Options::new(kind, format);
    opts.crs = crs;
    opts.columns = columns;
    opts.include_summaries = format_byte & 0x20 != 0;
    let area = if format == Format::PoliceUk {
        &*LONDON
    } else {
        &*LINKOPING
    };
    let parsed = import::parse(file, &opts, area, now());
    check_import(&parsed, &opts, area);
}

fn check_import(parsed: &Parsed, opts: &Options, area: &ServiceArea) {
    if let Some(fatal) = &parsed.fatal {
        assert!(
            parsed.features.is_empty() && parsed.rejects.is_empty(),
            "a fatal problem ({fatal}) but rows were read as well"
        );
        assert!(
            fatal.location == "file"
                || numbered(&fatal.location)
                || fatal.location.starts_with("line "),
            "a fatal problem that says not where: {fatal}"
        );
    }
    for r in &parsed.rejects {
        assert!(
            numbered(&r.location),
            "a refused row that names no line, feature or event: {r}"
        );
        assert!(!r.reason.is_empty(), "a refused row without a reason: {r}");
    }
    for f in &parsed.features {
        let expected = match opts.format {
            Format::Csv | Format::GeoJson => opts.kind,
            Format::Polisen | Format::PoliceUk => Kind::Incident,
        };
        assert_eq!(f.kind(), expected, "an imported row of the wrong kind");
        assert!(
            geometry::check_rule(&f.geometry, expected.geometry_rule(), "geometry").is_ok(),
            "an imported {expected} with a geometry it does not take: {:?}",
            f.geometry
        );
        check_inside(&f.geometry, area);
        check_derived(&f.attributes.derived(&[]));
        // An import is "the same validation as an API write": what it
        // yields must pass that validation.
        let written = f.attributes.to_value();
        if let Err(e) = Attributes::parse(f.kind(), &written, now()) {
            panic!("an imported row fails the API's validation: {e}: {written}");
        }
    }
}

/// `line 12`, `feature 3`, `event 7 (id 123)`: counted from 1.
fn numbered(location: &str) -> bool {
    ["line ", "feature ", "event "].iter().any(|prefix| {
        location.strip_prefix(prefix).is_some_and(|rest| {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            rest[..digits].parse::<u64>().is_ok_and(|n| n >= 1)
        })
    })
}

/// Query strings as the list and layer endpoints get them after URL
/// decoding. Byte 0 picks the kind; the rest is `key=value&…`. Each value
/// also goes through the parsers that take a single parameter elsewhere
/// (resolution, public layers, periods, weights, import times).
pub fn query_params(data: &[u8]) {
    let Some((selector, rest)) = data.split_first() else {
        return;
    };
    let kind = Kind::ALL[usize::from(*selector) % Kind::ALL.len()];
    let text = String::from_utf8_lossy(rest);
    let params: Vec<(String, String)> = text
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (p.to_owned(), String::new()),
        })
        .collect();

    if let Ok(q) = ListQuery::parse(kind, &params) {
        check_window(q.window);
        if let Some(b) = q.bbox {
            check_bbox(&b);
        }
        assert!((1..=query::MAX_LIMIT).contains(&q.limit));
        // The `next` link of a page must itself be a valid query.
        let next = q.next_params(&params, q.after.unwrap_or_default());
        if let Err(e) = ListQuery::parse(kind, &next) {
            panic!("the next page's query is refused: {e}: {next:?}");
        }
    }
    if let Ok(q) = HexQuery::parse(kind, &params) {
        check_window(q.window);
        if let Some(b) = q.bbox {
            check_bbox(&b);
        }
        check_resolution(q.resolution);
    }
    if let Ok(q) = PointQuery::parse(kind, &params) {
        check_window(q.window);
        if let Some(b) = q.bbox {
            check_bbox(&b);
        }
    }

    let now = now();
    for (_, value) in &params {
        if let Ok(b) = Bbox::parse(value, "bbox") {
            check_bbox(&b);
        }
        if let Ok(w) = TimeWindow::parse(value, "datetime") {
            check_window(w);
        }
        if let Ok(r) = LayerResolution::parse(value, "resolution") {
            check_resolution(r);
        }
        if let Ok(r) = privacy::public_resolution(Some(value), &PublicPolicy::default()) {
            check_resolution(r);
        }
        if let Ok((name, w)) = privacy::closed_month(Some(value), now, chrono_tz::Europe::Stockholm)
        {
            check_window(w);
            assert!(
                w.end < time::to_ms(now),
                "{name} is published before it has ended"
            );
        }
        if let Ok(p) = Period::parse(value, "period") {
            check_window(p.window());
            let label = p.label();
            assert_eq!(
                Period::parse(&label, "period").ok(),
                Some(p),
                "{label} does not read back"
            );
        }
        if let Ok(w) = CategoryWeights::parse(value) {
            for c in IncidentCategory::ALL {
                let weight = w.weight(*c);
                assert!(weight.is_finite() && weight >= 0.0, "{c:?} weighs {weight}");
            }
        }
        let _ = import::parse_local_time(value, "time");
    }
}

fn check_inside(g: &Geometry<f64>, area: &ServiceArea) {
    for c in geometry::vertices(g) {
        assert!(
            c.x.is_finite() && c.y.is_finite(),
            "a non-finite coordinate was accepted: [{}, {}]",
            c.x,
            c.y
        );
        assert!(
            area.contains(c),
            "[{}, {}] was accepted outside {}",
            c.x,
            c.y,
            area.name
        );
    }
}

fn check_cells(cells: &[u64]) {
    assert!(!cells.is_empty(), "an accepted geometry covers no hexagon");
    for raw in cells {
        let cell = CellIndex::try_from(*raw)
            .unwrap_or_else(|e| panic!("coverage gave an invalid cell {raw:x}: {e}"));
        assert!(cell.resolution() <= cells::INDEX_RESOLUTION);
    }
}

fn check_derived(d: &Derived) {
    if let (Some(start), Some(end)) = (d.t_start, d.t_end) {
        assert!(
            start <= end,
            "a feature ends ({end}) before it starts ({start})"
        );
    }
}

fn check_window(w: TimeWindow) {
    assert!(
        w.start <= w.end,
        "a window ends ({}) before it starts ({})",
        w.end,
        w.start
    );
}

fn check_bbox(b: &Bbox) {
    for v in [b.min_lon, b.min_lat, b.max_lon, b.max_lat] {
        assert!(v.is_finite(), "a bbox with {v}");
    }
    assert!(b.min_lon <= b.max_lon && b.min_lat <= b.max_lat, "{b:?}");
    let grown = b.expanded_m(500.0);
    assert!(
        grown.min_lon <= b.min_lon && grown.max_lat >= b.max_lat,
        "{grown:?}"
    );
}

fn check_resolution(r: LayerResolution) {
    let n = u8::from(r.get());
    assert!(
        (cells::MIN_LAYER_RESOLUTION..=cells::MAX_LAYER_RESOLUTION).contains(&n),
        "resolution {n} accepted"
    );
}
