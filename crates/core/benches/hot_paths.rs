//! Benchmarks of the paths a map request and a write take through the core:
//! H3 indexing of positions, building the in-memory layer index, counting
//! hexagons for a window, the point query, and writing hexagon GeoJSON.
//!
//! The data is synthetic but shaped like a city: a seeded generator puts
//! most incidents around a few dozen hot spots near Linköping's centre
//! (58.41 N, 15.62 E) and the rest thinly over the surrounding 20 × 14 km,
//! over 24 months. Run with `cargo bench -p trygg-core`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use geo_types::{Geometry, LineString, Point, polygon};
use h3o::{CellIndex, Resolution};
use trygg_core::Kind;
use trygg_core::attrs::IncidentCategory;
use trygg_core::cells;
use trygg_core::hexagons;
use trygg_core::index::{HexCount, IndexRow, LayerIndex};
use trygg_core::query::{HexQuery, PointQuery};
use uuid::Uuid;

const CENTRE: (f64, f64) = (15.62, 58.41);
const M_PER_DEG_LAT: f64 = 111_320.0;
/// 2026-11-25T00:00:00Z: the end of the generated history.
const NOW_MS: i64 = 1_795_564_800_000;
const DAY_MS: i64 = 86_400_000;
const HISTORY_DAYS: i64 = 730;
const MAX_CELLS: usize = 50_000;

/// xorshift64*: enough randomness for synthetic positions, and the same
/// numbers on every run so that figures stay comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller; one of the pair is enough here).
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(f64::MIN_POSITIVE);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

struct City {
    /// (lon, lat, sigma in metres, weight)
    spots: Vec<(f64, f64, f64, f64)>,
    total_weight: f64,
}

impl City {
    fn new(rng: &mut Rng) -> Self {
        let spots: Vec<_> = (0..40)
            .map(|i| {
                // The first spots sit in the centre, later ones further out.
                let spread_m = 600.0 + 150.0 * f64::from(i);
                let (lon, lat) = offset(CENTRE, rng.normal() * spread_m, rng.normal() * spread_m);
                (
                    lon,
                    lat,
                    150.0 + 600.0 * rng.unit(),
                    1.0 / (1.0 + f64::from(i) / 8.0),
                )
            })
            .collect();
        let total_weight = spots.iter().map(|s| s.3).sum();
        Self {
            spots,
            total_weight,
        }
    }

    /// 85 % around a hot spot, 15 % anywhere in the surrounding area.
    fn position(&self, rng: &mut Rng) -> (f64, f64) {
        if rng.unit() < 0.15 {
            return offset(
                CENTRE,
                (rng.unit() - 0.5) * 20_000.0,
                (rng.unit() - 0.5) * 14_000.0,
            );
        }
        let mut pick = rng.unit() * self.total_weight;
        let spot = self
            .spots
            .iter()
            .find(|s| {
                pick -= s.3;
                pick <= 0.0
            })
            .unwrap_or(&self.spots[0]);
        offset(
            (spot.0, spot.1),
            rng.normal() * spot.2,
            rng.normal() * spot.2,
        )
    }
}

fn offset((lon, lat): (f64, f64), east_m: f64, north_m: f64) -> (f64, f64) {
    (
        lon + east_m / (M_PER_DEG_LAT * lat.to_radians().cos()),
        lat + north_m / M_PER_DEG_LAT,
    )
}

fn positions(n: usize, seed: u64) -> Vec<(f64, f64)> {
    let mut rng = Rng(seed);
    let city = City::new(&mut rng);
    (0..n).map(|_| city.position(&mut rng)).collect()
}

/// Incident rows as the store hands them to the index at start.
fn incident_rows(n: usize, seed: u64) -> Vec<IndexRow> {
    let mut rng = Rng(seed);
    let city = City::new(&mut rng);
    let categories = IncidentCategory::NAMES;
    (0..n)
        .map(|i| {
            let (lon, lat) = city.position(&mut rng);
            let t = NOW_MS - (rng.unit() * (HISTORY_DAYS * DAY_MS) as f64) as i64;
            // A few incidents are known only as a span (a burglary over a
            // weekend) or only roughly (a snap point).
            let t_end = if rng.unit() < 0.1 {
                t + (rng.unit() * 3.0 * DAY_MS as f64) as i64
            } else {
                t
            };
            let precision = if rng.unit() < 0.05 { 250 } else { 25 };
            let category = categories[(rng.next() % categories.len() as u64) as usize];
            IndexRow {
                id: Uuid::from_u64_pair(seed, i as u64),
                t_start: Some(t),
                t_end: Some(t_end),
                tags: Some(format!(",{category},")),
                status: None,
                source: Some("bench".to_owned()),
                bounds: [lon, lat, lon, lat],
                cells: vec![u64::from(
                    cells::point_cell(lon, lat).expect("generated positions are valid"),
                )],
                precision_m: Some(precision),
                organisation_id: None,
                shape: trygg_core::Shape::Point,
            }
        })
        .collect()
}

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn three_months() -> &'static str {
    "2026-08-25T00:00:00Z/2026-11-24T23:59:59Z"
}

fn h3_indexing(c: &mut Criterion) {
    let points = positions(100_000, 0x5eed_0001);
    let mut g = c.benchmark_group("h3_indexing");
    g.throughput(Throughput::Elements(points.len() as u64));
    g.bench_function("point_cell/100k", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for &(lon, lat) in &points {
                acc ^= u64::from(cells::point_cell(lon, lat).expect("valid position"));
            }
            black_box(acc)
        });
    });
    g.bench_function("coverage_point/100k", |b| {
        b.iter(|| {
            let mut n = 0;
            for &(lon, lat) in &points {
                n += cells::coverage(&Geometry::Point(Point::new(lon, lat)))
                    .expect("valid position")
                    .len();
            }
            black_box(n)
        });
    });
    g.finish();

    // What a presence track and a priority place cost at write time.
    let mut g = c.benchmark_group("h3_coverage");
    let street = Geometry::LineString(LineString::from(vec![
        (15.605, 58.405),
        (15.615, 58.41),
        (15.627, 58.41),
        (15.632, 58.415),
    ]));
    g.bench_function("line_1.8km", |b| {
        b.iter(|| cells::coverage(black_box(&street)));
    });
    let park = Geometry::Polygon(polygon![
        (x: 15.610, y: 58.405), (x: 15.620, y: 58.405), (x: 15.620, y: 58.410), (x: 15.610, y: 58.410), (x: 15.610, y: 58.405)
    ]);
    g.bench_function("polygon_0.3km2", |b| {
        b.iter(|| cells::coverage(black_box(&park)));
    });
    g.finish();
}

fn aggregation(c: &mut Criterion) {
    let res9 = HexQuery::parse(
        Kind::Incident,
        &params(&[("resolution", "9"), ("datetime", three_months())]),
    )
    .expect("a valid query");
    let res9_filtered = HexQuery::parse(
        Kind::Incident,
        &params(&[
            ("resolution", "9"),
            ("datetime", three_months()),
            ("category", "assault,robbery"),
        ]),
    )
    .expect("a valid query");
    // A 2 × 2 km box over the centre, as a street-level map asks for.
    let (west, south) = offset(CENTRE, -1000.0, -1000.0);
    let (east, north) = offset(CENTRE, 1000.0, 1000.0);
    let bbox = format!("{west},{south},{east},{north}");
    let points_query = PointQuery::parse(
        Kind::Incident,
        &params(&[("bbox", &bbox), ("datetime", three_months())]),
    )
    .expect("a valid query");

    let mut g = c.benchmark_group("layer_index");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    for n in [100_000, 1_000_000] {
        let rows = incident_rows(n, 0x5eed_0002);
        let label = if n == 1_000_000 { "1M" } else { "100k" };
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("build", label), &rows, |b, rows| {
            b.iter(|| LayerIndex::build(Kind::Incident, black_box(rows)));
        });
        let index = LayerIndex::build(Kind::Incident, &rows);
        drop(rows);
        let cells = index
            .hexagons(&res9, NOW_MS, MAX_CELLS)
            .expect("the city fits under the cap")
            .len();
        eprintln!("{label} incidents: {cells} hexagons at res 9 over 3 months");
        g.bench_with_input(
            BenchmarkId::new("hexagons_res9_3months", label),
            &index,
            |b, index| b.iter(|| index.hexagons(black_box(&res9), NOW_MS, MAX_CELLS)),
        );
        g.bench_with_input(
            BenchmarkId::new("hexagons_res9_3months_2categories", label),
            &index,
            |b, index| b.iter(|| index.hexagons(black_box(&res9_filtered), NOW_MS, MAX_CELLS)),
        );
        let hits = index
            .points(&points_query, 100_000)
            .expect("the box fits under the cap")
            .len();
        eprintln!("{label} incidents: {hits} points in 2×2 km over 3 months");
        g.bench_with_input(
            BenchmarkId::new("points_2x2km_3months", label),
            &index,
            |b, index| b.iter(|| index.points(black_box(&points_query), 100_000)),
        );
        // What a layer says it left out: one pass over the window, whatever
        // the box (a stand-in position lies nowhere).
        g.bench_with_input(
            BenchmarkId::new("hexagons_omitted_res9_3months", label),
            &index,
            |b, index| b.iter(|| index.hexagons_omitted(black_box(&res9))),
        );
        g.bench_with_input(
            BenchmarkId::new("points_omitted_2x2km_3months", label),
            &index,
            |b, index| b.iter(|| index.points_omitted(black_box(&points_query))),
        );
    }
    g.finish();
}

fn geojson_writing(c: &mut Criterion) {
    // Every res-9 hexagon within 31 rings of the centre: 2,977 hexagons,
    // about a city's worth at that resolution.
    let centre = cells::point_cell(CENTRE.0, CENTRE.1)
        .expect("valid position")
        .parent(Resolution::Nine)
        .expect("res 11 has a res-9 parent");
    let disk: Vec<CellIndex> = centre.grid_disk(31);
    let mut rng = Rng(0x5eed_0003);
    let hexes: Vec<HexCount> = disk
        .into_iter()
        .map(|cell| HexCount {
            cell,
            count: 1 + rng.next() % 40,
            minutes: rng.unit() * 600.0,
        })
        .collect();
    let mut g = c.benchmark_group("hexagon_geojson");
    g.throughput(Throughput::Elements(hexes.len() as u64));
    for kind in [Kind::Incident, Kind::Presence] {
        g.bench_with_input(
            BenchmarkId::new(kind.collection(), hexes.len()),
            &hexes,
            |b, hexes| {
                b.iter(|| hexagons::to_geojson(kind, black_box(hexes), 9));
            },
        );
    }
    g.finish();
}

criterion_group!(benches, h3_indexing, aggregation, geojson_writing);
criterion_main!(benches);
