//! What a service area costs at start-up and per written position: reading
//! the embedded outlines' index, building one municipality, a whole county
//! and all 290, and the inside test for a point inside, near the border and
//! outside. Run with `cargo bench -p trygg-core --bench service_area`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use geo_types::Coord;
use trygg_core::service_area::{DEFAULT_TIMEZONE, Definition, ServiceArea, Sweden};

const OUTLINES: &[u8] = include_bytes!("../../../fixtures/sweden_municipalities.outlines");

fn build(sweden: &Sweden<'_>, definition: Definition) -> ServiceArea {
    ServiceArea::build(definition, None, DEFAULT_TIMEZONE, sweden)
        .expect("the embedded outlines build")
}

fn start_up(c: &mut Criterion) {
    let mut g = c.benchmark_group("service_area_start_up");
    g.measurement_time(Duration::from_secs(3));
    g.sample_size(20);
    g.bench_function("read the index of 290 outlines", |b| {
        b.iter(|| Sweden::parse(black_box(OUTLINES)).expect("parses"));
    });
    let sweden = Sweden::parse(OUTLINES).expect("parses");
    g.bench_function("Linköping (0580)", |b| {
        b.iter(|| build(&sweden, Definition::Municipalities(vec!["0580".into()])));
    });
    g.bench_function("Västra Götalands län (14, 49 municipalities)", |b| {
        b.iter(|| build(&sweden, Definition::County("14".into())));
    });
    let all: Vec<String> = sweden.municipalities().map(|(c, _)| c.to_owned()).collect();
    g.bench_function("all 290 municipalities", |b| {
        b.iter(|| build(&sweden, Definition::Municipalities(all.clone())));
    });
    g.finish();
}

fn per_position(c: &mut Criterion) {
    let sweden = Sweden::parse(OUTLINES).expect("parses");
    let linkoping = build(&sweden, Definition::Municipalities(vec!["0580".into()]));
    let county = build(&sweden, Definition::County("14".into()));
    let mut g = c.benchmark_group("service_area_contains");
    for (name, area, at) in [
        (
            "Linköping, centre",
            &linkoping,
            Coord {
                x: 15.6214,
                y: 58.4108,
            },
        ),
        (
            "Linköping, outside",
            &linkoping,
            Coord {
                x: 15.0,
                y: 58.4108,
            },
        ),
        (
            "Västra Götaland, Göteborg centre",
            &county,
            Coord {
                x: 11.9668,
                y: 57.7089,
            },
        ),
        (
            "Västra Götaland, at sea",
            &county,
            Coord { x: 11.5, y: 57.7 },
        ),
    ] {
        g.bench_function(name, |b| b.iter(|| area.contains(black_box(at))));
    }
    g.finish();
}

criterion_group!(benches, start_up, per_position);
criterion_main!(benches);
