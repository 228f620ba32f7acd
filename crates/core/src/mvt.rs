//! Hexagon layers as Mapbox Vector Tiles (specification 2.1): the tile
//! maths (z/x/y in Web Mercator ↔ WGS84), which H3 resolution a zoom gets,
//! and the encoder. The protobuf is written by hand: a tile needs only
//! varints, little-endian doubles and length-delimited fields, which is
//! less code than a protobuf dependency with its generated types.
//!
//! Geometry is in tile units (`EXTENT` per side, y down). Every hexagon
//! that touches the tile is written whole, reaching up to `BUFFER` units
//! beyond the edge, so a client can draw and label it without its
//! neighbouring tiles; only hexagons larger than that margin (a coarse
//! resolution asked for on a deep zoom) are clipped to it.

use std::collections::HashMap;
use std::f64::consts::PI;

use crate::bbox::Bbox;
use crate::cells::LayerResolution;
use crate::index::HexCount;
use crate::{Error, Kind, Result};

/// Tile units per side, the specification's default.
pub const EXTENT: u32 = 4096;
/// How far beyond each edge geometry may reach, in tile units. One whole
/// tile: at the resolution a zoom gets by default, hexagons are narrower
/// than a tile up to zoom 18, so they are never cut there.
pub const BUFFER: u32 = EXTENT;
/// Below this, even the coarsest layer's hexagons (res 5) are a few
/// pixels wide; there is nothing a tile could show.
pub const MIN_ZOOM: u8 = 5;
/// Beyond this, the finest hexagons (res 11, 25 m) fill whole tiles.
pub const MAX_ZOOM: u8 = 20;
pub const CONTENT_TYPE: &str = "application/vnd.mapbox-vector-tile";

/// Web Mercator's edge: the latitude where the square world ends.
const MAX_LAT: f64 = 85.051_128_779_806_59;

/// The H3 resolution a zoom level shows by default: hexagons of roughly
/// 20 to 80 pixels across at Swedish latitudes (the planner map's own
/// choice, so tiles and the GeoJSON layer agree at every zoom).
pub fn resolution_for_zoom(z: u8) -> u8 {
    match z {
        0..=8 => 5,
        9..=10 => 6,
        11 => 7,
        12..=13 => 8,
        14 => 9,
        15 => 10,
        _ => 11,
    }
}

/// One tile of the Web Mercator pyramid (the XYZ scheme: y grows south).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    z: u8,
    x: u32,
    y: u32,
}

fn whole(s: &str, field: &str) -> Result<u32> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(
            field,
            format!("`{s}` is not a whole number"),
        ));
    }
    s.parse()
        .map_err(|_| Error::invalid(field, format!("`{s}` is not a whole number")))
}

impl TileId {
    pub fn new(z: u32, x: u32, y: u32) -> Result<Self> {
        if !(u32::from(MIN_ZOOM)..=u32::from(MAX_ZOOM)).contains(&z) {
            return Err(Error::invalid(
                "z",
                format!("zoom {z} is out of range; tiles exist for zoom {MIN_ZOOM} to {MAX_ZOOM}"),
            ));
        }
        let n = 1u32 << z;
        for (field, v) in [("x", x), ("y", y)] {
            if v >= n {
                return Err(Error::invalid(
                    field,
                    format!(
                        "{v} is outside zoom {z}, whose tiles are numbered 0 to {}",
                        n - 1
                    ),
                ));
            }
        }
        Ok(Self { z: z as u8, x, y })
    }

    /// From the three path segments, each named in the error it gives.
    pub fn parse(z: &str, x: &str, y: &str) -> Result<Self> {
        let z = whole(z, "z")?;
        let x = whole(x, "x")?;
        let y = whole(y, "y")?;
        Self::new(z, x, y)
    }

    /// The tile at zoom `z` that holds a WGS84 position.
    pub fn containing(lon: f64, lat: f64, z: u8) -> Result<Self> {
        if !lon.is_finite() || !lat.is_finite() {
            return Err(Error::invalid("coordinates", "must be finite numbers"));
        }
        let zoom_only = Self::new(u32::from(z), 0, 0)?;
        let n = f64::from(1u32 << zoom_only.z);
        let (wx, wy) = world(lon, lat);
        let last = n - 1.0;
        Self::new(
            u32::from(z),
            (wx * n).floor().clamp(0.0, last) as u32,
            (wy * n).floor().clamp(0.0, last) as u32,
        )
    }

    pub fn z(self) -> u8 {
        self.z
    }

    pub fn x(self) -> u32 {
        self.x
    }

    pub fn y(self) -> u32 {
        self.y
    }

    /// The tile's WGS84 bounds.
    pub fn bounds(self) -> Bbox {
        let n = f64::from(1u32 << self.z);
        let lon = |x: f64| x / n * 360.0 - 180.0;
        let lat = |y: f64| (PI * (1.0 - 2.0 * y / n)).sinh().atan().to_degrees();
        let (x, y) = (f64::from(self.x), f64::from(self.y));
        Bbox {
            min_lon: lon(x),
            min_lat: lat(y + 1.0),
            max_lon: lon(x + 1.0),
            max_lat: lat(y),
        }
    }

    /// The resolution this tile's zoom shows unless a client asks for
    /// another.
    pub fn resolution(self) -> LayerResolution {
        LayerResolution::new(resolution_for_zoom(self.z), "resolution")
            .expect("resolution_for_zoom names only layer resolutions (5 to 11)")
    }

    /// A WGS84 position in this tile's units (y down; outside the tile the
    /// values run past 0 or `EXTENT`).
    fn project(self, lon: f64, lat: f64) -> (f64, f64) {
        let n = f64::from(1u32 << self.z);
        let (wx, wy) = world(lon, lat);
        let e = f64::from(EXTENT);
        (
            (wx * n - f64::from(self.x)) * e,
            (wy * n - f64::from(self.y)) * e,
        )
    }
}

/// Web Mercator with the world as the unit square, y down.
fn world(lon: f64, lat: f64) -> (f64, f64) {
    let phi = lat.clamp(-MAX_LAT, MAX_LAT).to_radians();
    let x = (lon + 180.0) / 360.0;
    let y = (1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / PI) / 2.0;
    (x, y)
}

// ------------------------------------------------------------- protobuf

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const BYTES: u8 = 2;

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(out: &mut Vec<u8>, field: u32, wire: u8) {
    varint(out, u64::from(field << 3 | u32::from(wire)));
}

fn bytes_field(out: &mut Vec<u8>, field: u32, data: &[u8]) {
    key(out, field, BYTES);
    varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

fn packed(out: &mut Vec<u8>, field: u32, values: &[u32]) {
    let mut body = Vec::with_capacity(values.len() * 2);
    for v in values {
        varint(&mut body, u64::from(*v));
    }
    bytes_field(out, field, &body);
}

fn zigzag(n: i32) -> u32 {
    ((n << 1) ^ (n >> 31)) as u32
}

fn command(id: u32, count: usize) -> u32 {
    (id & 0x7) | ((count as u32) << 3)
}

const MOVE_TO: u32 = 1;
const LINE_TO: u32 = 2;
const CLOSE_PATH: u32 = 7;
const POLYGON: u64 = 3;

// ------------------------------------------------------------- geometry

/// Sutherland–Hodgman against one side of the clip square; `inside` and
/// `cross` describe the side.
fn clip_side(
    ring: &[(f64, f64)],
    inside: impl Fn((f64, f64)) -> bool,
    cross: impl Fn((f64, f64), (f64, f64)) -> (f64, f64),
) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(ring.len() + 4);
    for (i, &p) in ring.iter().enumerate() {
        let prev = ring[(i + ring.len() - 1) % ring.len()];
        match (inside(prev), inside(p)) {
            (true, true) => out.push(p),
            (true, false) => out.push(cross(prev, p)),
            (false, true) => {
                out.push(cross(prev, p));
                out.push(p);
            }
            (false, false) => {}
        }
    }
    out
}

/// The ring cut to the buffered tile square. The square is convex, so a
/// convex hexagon stays one convex ring.
fn clip(ring: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let lo = -f64::from(BUFFER);
    let hi = f64::from(EXTENT + BUFFER);
    if ring
        .iter()
        .all(|&(x, y)| (lo..=hi).contains(&x) && (lo..=hi).contains(&y))
    {
        return ring.to_vec();
    }
    let at_x =
        |a: (f64, f64), b: (f64, f64), x: f64| (x, a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0));
    let at_y =
        |a: (f64, f64), b: (f64, f64), y: f64| (a.0 + (b.0 - a.0) * (y - a.1) / (b.1 - a.1), y);
    let r = clip_side(ring, |p| p.0 >= lo, |a, b| at_x(a, b, lo));
    let r = clip_side(&r, |p| p.0 <= hi, |a, b| at_x(a, b, hi));
    let r = clip_side(&r, |p| p.1 >= lo, |a, b| at_y(a, b, lo));
    clip_side(&r, |p| p.1 <= hi, |a, b| at_y(a, b, hi))
}

/// Twice the signed area by the surveyor's formula, in tile units: the
/// specification's test for an exterior ring (positive, which is clockwise
/// on screen with y down).
fn area2(ring: &[(i32, i32)]) -> i64 {
    (0..ring.len())
        .map(|i| {
            let (x1, y1) = ring[i];
            let (x2, y2) = ring[(i + 1) % ring.len()];
            i64::from(x1) * i64::from(y2) - i64::from(x2) * i64::from(y1)
        })
        .sum()
}

/// An exterior ring on the integer grid: clipped, rounded, without
/// repeated points (the closing point is implied by ClosePath), wound as
/// the specification requires. `None` when nothing with an area is left.
fn exterior_ring(points: &[(f64, f64)]) -> Option<Vec<(i32, i32)>> {
    let mut ring: Vec<(i32, i32)> = Vec::with_capacity(points.len());
    for (x, y) in clip(points) {
        let p = (x.round() as i32, y.round() as i32);
        if ring.last() != Some(&p) {
            ring.push(p);
        }
    }
    while ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    if ring.len() < 3 {
        return None;
    }
    match area2(&ring) {
        0 => None,
        a if a < 0 => {
            ring.reverse();
            Some(ring)
        }
        _ => Some(ring),
    }
}

/// The command stream of a one-ring polygon: MoveTo, LineTo for the other
/// vertices, ClosePath; every position a zigzag delta from the last.
fn polygon_commands(ring: &[(i32, i32)]) -> Vec<u32> {
    let mut out = Vec::with_capacity(ring.len() * 2 + 3);
    let mut cursor = (0, 0);
    let mut step = |out: &mut Vec<u32>, p: (i32, i32)| {
        out.push(zigzag(p.0 - cursor.0));
        out.push(zigzag(p.1 - cursor.1));
        cursor = p;
    };
    out.push(command(MOVE_TO, 1));
    step(&mut out, ring[0]);
    out.push(command(LINE_TO, ring.len() - 1));
    for p in &ring[1..] {
        step(&mut out, *p);
    }
    out.push(command(CLOSE_PATH, 1));
    out
}

// ------------------------------------------------------------- layers

/// A feature property value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    Uint(u64),
    Double(f64),
}

/// The identity of a value in a layer's table; doubles by their bits, so
/// equal numbers share one entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ValueKey {
    String(String),
    Uint(u64),
    Double(u64),
}

/// One layer of a tile, features added one at a time.
#[derive(Debug)]
pub struct Layer {
    name: String,
    tile: TileId,
    keys: Vec<String>,
    key_ids: HashMap<String, u32>,
    values: Vec<ValueKey>,
    value_ids: HashMap<ValueKey, u32>,
    /// The encoded `features` fields, in order.
    features: Vec<u8>,
    count: usize,
}

impl Layer {
    pub fn new(name: &str, tile: TileId) -> Self {
        Self {
            name: name.to_owned(),
            tile,
            keys: Vec::new(),
            key_ids: HashMap::new(),
            values: Vec::new(),
            value_ids: HashMap::new(),
            features: Vec::new(),
            count: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn key_id(&mut self, k: &str) -> u32 {
        if let Some(i) = self.key_ids.get(k) {
            return *i;
        }
        let i = self.keys.len() as u32;
        self.keys.push(k.to_owned());
        self.key_ids.insert(k.to_owned(), i);
        i
    }

    fn value_id(&mut self, v: &Value) -> u32 {
        let k = match v {
            Value::String(s) => ValueKey::String(s.clone()),
            Value::Uint(n) => ValueKey::Uint(*n),
            Value::Double(d) => ValueKey::Double(d.to_bits()),
        };
        if let Some(i) = self.value_ids.get(&k) {
            return *i;
        }
        let i = self.values.len() as u32;
        self.values.push(k.clone());
        self.value_ids.insert(k, i);
        i
    }

    /// Adds a polygon given by its exterior ring in WGS84 (`[lon, lat]`,
    /// closed or not). Returns false when nothing of it reaches the
    /// buffered tile (or it is thinner than a tile unit), and nothing is
    /// added.
    pub fn add_polygon(
        &mut self,
        id: Option<u64>,
        ring: &[(f64, f64)],
        properties: &[(&str, Value)],
    ) -> bool {
        let projected: Vec<(f64, f64)> = ring
            .iter()
            .map(|&(lon, lat)| self.tile.project(lon, lat))
            .collect();
        let Some(ring) = exterior_ring(&projected) else {
            return false;
        };
        let mut tags = Vec::with_capacity(properties.len() * 2);
        for (k, v) in properties {
            tags.push(self.key_id(k));
            tags.push(self.value_id(v));
        }
        let mut f = Vec::with_capacity(ring.len() * 4 + 32);
        if let Some(id) = id {
            key(&mut f, 1, VARINT);
            varint(&mut f, id);
        }
        packed(&mut f, 2, &tags);
        key(&mut f, 3, VARINT);
        varint(&mut f, POLYGON);
        packed(&mut f, 4, &polygon_commands(&ring));
        bytes_field(&mut self.features, 2, &f);
        self.count += 1;
        true
    }

    /// The encoded `Layer` message.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.features.len() + 64 * self.values.len() + 64);
        bytes_field(&mut out, 1, self.name.as_bytes());
        out.extend_from_slice(&self.features);
        for k in &self.keys {
            bytes_field(&mut out, 3, k.as_bytes());
        }
        for v in &self.values {
            let mut value = Vec::with_capacity(24);
            match v {
                ValueKey::String(s) => bytes_field(&mut value, 1, s.as_bytes()),
                ValueKey::Double(bits) => {
                    key(&mut value, 3, FIXED64);
                    value.extend_from_slice(&bits.to_le_bytes());
                }
                ValueKey::Uint(n) => {
                    key(&mut value, 5, VARINT);
                    varint(&mut value, *n);
                }
            }
            bytes_field(&mut out, 4, &value);
        }
        key(&mut out, 5, VARINT);
        varint(&mut out, u64::from(EXTENT));
        key(&mut out, 15, VARINT);
        varint(&mut out, 2);
        out
    }
}

/// A tile of the given layers; empty layers are left out.
pub fn encode_tile(layers: &[Layer]) -> Vec<u8> {
    let mut out = Vec::new();
    for layer in layers.iter().filter(|l| !l.is_empty()) {
        bytes_field(&mut out, 3, &layer.encode());
    }
    out
}

/// A hexagon layer as one tile: a layer named after the kind's collection
/// (`incidents`, `presence`, …), one polygon per hexagon with `h3` (the
/// cell as a hex string, as in the GeoJSON layer), `count` and, for
/// presence, `minutes`; the feature id is the cell index. An empty vector
/// when no hexagon has any area in the tile.
pub fn hexagon_tile(kind: Kind, tile: TileId, hexagons: &[HexCount]) -> Vec<u8> {
    let mut layer = Layer::new(kind.collection(), tile);
    let mut ring = Vec::with_capacity(11);
    for h in hexagons {
        ring.clear();
        ring.extend(h.cell.boundary().iter().map(|ll| (ll.lng(), ll.lat())));
        let mut props = vec![
            ("h3", Value::String(h.cell.to_string())),
            ("count", Value::Uint(h.count)),
        ];
        if kind == Kind::Presence {
            // Tenths, written as the GeoJSON layer writes them so both
            // layers give the same number; equal values then share one
            // table entry too.
            let tenths = format!("{:.1}", h.minutes).parse().unwrap_or(h.minutes);
            props.push(("minutes", Value::Double(tenths)));
        }
        layer.add_polygon(Some(u64::from(h.cell)), &ring, &props);
    }
    encode_tile(&[layer])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cells::point_cell;
    use h3o::{CellIndex, LatLng, Resolution};

    /// A decoder as small as the format allows, written from the
    /// specification independently of the encoder above.
    mod decode {
        use std::collections::BTreeMap;

        #[derive(Debug, Clone, PartialEq)]
        pub enum Prop {
            Str(String),
            Num(f64),
        }

        #[derive(Debug)]
        pub struct Feature {
            pub id: Option<u64>,
            pub kind: u64,
            pub props: BTreeMap<String, Prop>,
            pub rings: Vec<Vec<(i64, i64)>>,
        }

        #[derive(Debug)]
        pub struct Layer {
            pub name: String,
            pub version: u64,
            pub extent: u64,
            pub features: Vec<Feature>,
        }

        struct Reader<'a> {
            buf: &'a [u8],
            at: usize,
        }

        impl<'a> Reader<'a> {
            fn new(buf: &'a [u8]) -> Self {
                Self { buf, at: 0 }
            }
            fn done(&self) -> bool {
                self.at >= self.buf.len()
            }
            fn varint(&mut self) -> u64 {
                let mut v = 0u64;
                let mut shift = 0;
                loop {
                    let b = self.buf[self.at];
                    self.at += 1;
                    v |= u64::from(b & 0x7f) << shift;
                    if b < 0x80 {
                        return v;
                    }
                    shift += 7;
                }
            }
            fn bytes(&mut self) -> &'a [u8] {
                let n = self.varint() as usize;
                let s = &self.buf[self.at..self.at + n];
                self.at += n;
                s
            }
            fn fixed64(&mut self) -> u64 {
                let mut b = [0u8; 8];
                b.copy_from_slice(&self.buf[self.at..self.at + 8]);
                self.at += 8;
                u64::from_le_bytes(b)
            }
            /// (field, wire type)
            fn key(&mut self) -> (u64, u64) {
                let k = self.varint();
                (k >> 3, k & 7)
            }
        }

        fn packed(b: &[u8]) -> Vec<u64> {
            let mut r = Reader::new(b);
            let mut out = Vec::new();
            while !r.done() {
                out.push(r.varint());
            }
            out
        }

        fn value(b: &[u8]) -> Prop {
            let mut r = Reader::new(b);
            let (field, _) = r.key();
            match field {
                1 => Prop::Str(String::from_utf8(r.bytes().to_vec()).unwrap()),
                3 => Prop::Num(f64::from_bits(r.fixed64())),
                5 => Prop::Num(r.varint() as f64),
                other => panic!("value field {other}"),
            }
        }

        fn geometry(cmds: &[u64]) -> Vec<Vec<(i64, i64)>> {
            let unzig = |v: u64| ((v >> 1) as i64) ^ -((v & 1) as i64);
            let (mut x, mut y) = (0i64, 0i64);
            let mut rings = Vec::new();
            let mut ring = Vec::new();
            let mut i = 0;
            while i < cmds.len() {
                let (id, count) = (cmds[i] & 7, cmds[i] >> 3);
                i += 1;
                match id {
                    1 | 2 => {
                        for _ in 0..count {
                            x += unzig(cmds[i]);
                            y += unzig(cmds[i + 1]);
                            i += 2;
                            ring.push((x, y));
                        }
                    }
                    7 => rings.push(std::mem::take(&mut ring)),
                    other => panic!("command {other}"),
                }
            }
            assert!(ring.is_empty(), "a ring was left open");
            rings
        }

        pub fn tile(buf: &[u8]) -> Vec<Layer> {
            let mut r = Reader::new(buf);
            let mut layers = Vec::new();
            while !r.done() {
                let (field, wire) = r.key();
                assert_eq!((field, wire), (3, 2), "a tile holds only layers");
                layers.push(layer(r.bytes()));
            }
            layers
        }

        fn layer(buf: &[u8]) -> Layer {
            let mut r = Reader::new(buf);
            let (mut name, mut version, mut extent) = (String::new(), 1, 4096);
            let (mut keys, mut values, mut raw) = (Vec::new(), Vec::new(), Vec::new());
            while !r.done() {
                match r.key() {
                    (1, 2) => name = String::from_utf8(r.bytes().to_vec()).unwrap(),
                    (2, 2) => raw.push(r.bytes()),
                    (3, 2) => keys.push(String::from_utf8(r.bytes().to_vec()).unwrap()),
                    (4, 2) => values.push(value(r.bytes())),
                    (5, 0) => extent = r.varint(),
                    (15, 0) => version = r.varint(),
                    other => panic!("layer field {other:?}"),
                }
            }
            let features = raw
                .into_iter()
                .map(|b| {
                    let mut r = Reader::new(b);
                    let mut f = Feature {
                        id: None,
                        kind: 0,
                        props: BTreeMap::new(),
                        rings: Vec::new(),
                    };
                    while !r.done() {
                        match r.key() {
                            (1, 0) => f.id = Some(r.varint()),
                            (2, 2) => {
                                for pair in packed(r.bytes()).chunks(2) {
                                    f.props.insert(
                                        keys[pair[0] as usize].clone(),
                                        values[pair[1] as usize].clone(),
                                    );
                                }
                            }
                            (3, 0) => f.kind = r.varint(),
                            (4, 2) => f.rings = geometry(&packed(r.bytes())),
                            other => panic!("feature field {other:?}"),
                        }
                    }
                    f
                })
                .collect();
            Layer {
                name,
                version,
                extent,
                features,
            }
        }
    }

    fn signed_area2(ring: &[(i64, i64)]) -> i64 {
        (0..ring.len())
            .map(|i| {
                let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
                a.0 * b.1 - b.0 * a.1
            })
            .sum()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn tile_bounds_match_known_values() {
        // The pyramid's own corners, and Linköping's centre at zoom 15
        // (values from an independent computation of the same formulas).
        let world = TileId::new(5, 0, 0).unwrap().bounds();
        assert!(close(world.min_lon, -180.0) && close(world.max_lat, MAX_LAT));
        let b = TileId::new(5, 31, 31).unwrap().bounds();
        assert!(close(b.max_lon, 180.0) && close(b.min_lat, -MAX_LAT));
        let east_of_greenwich = TileId::new(5, 16, 15).unwrap().bounds();
        assert!(close(east_of_greenwich.min_lon, 0.0) && close(east_of_greenwich.min_lat, 0.0));
        let t = TileId::containing(15.6214, 58.4108, 15).unwrap();
        assert_eq!((t.x(), t.y()), (17805, 9798));
        let b = t.bounds();
        assert!(close(b.min_lon, 15.611_572_265_625), "{b:?}");
        assert!(close(b.max_lon, 15.622_558_593_75), "{b:?}");
        assert!(close(b.min_lat, 58.407_467_599_106_866), "{b:?}");
        assert!(close(b.max_lat, 58.413_222_590_568_04), "{b:?}");
        let parent = TileId::containing(15.6214, 58.4108, 14).unwrap();
        assert_eq!((parent.x(), parent.y()), (8902, 4899));
    }

    #[test]
    fn projection_puts_the_corners_on_the_tile_edges() {
        let t = TileId::new(15, 17805, 9798).unwrap();
        let b = t.bounds();
        let (x0, y0) = t.project(b.min_lon, b.max_lat);
        let (x1, y1) = t.project(b.max_lon, b.min_lat);
        assert!(x0.abs() < 1e-6 && y0.abs() < 1e-6, "{x0} {y0}");
        assert!(
            (x1 - 4096.0).abs() < 1e-6 && (y1 - 4096.0).abs() < 1e-6,
            "{x1} {y1}"
        );
    }

    #[test]
    fn bad_coordinates_name_their_field() {
        assert_eq!(TileId::parse("x", "0", "0").unwrap_err().field(), "z");
        assert_eq!(TileId::parse("4", "0", "0").unwrap_err().field(), "z");
        assert_eq!(TileId::parse("21", "0", "0").unwrap_err().field(), "z");
        assert_eq!(TileId::parse("15", "-1", "0").unwrap_err().field(), "x");
        assert_eq!(TileId::parse("15", "32768", "0").unwrap_err().field(), "x");
        assert_eq!(TileId::parse("15", "0", "1.5").unwrap_err().field(), "y");
        assert_eq!(
            TileId::parse("15", "0", "99999999999").unwrap_err().field(),
            "y"
        );
        assert!(TileId::parse("15", "17805", "9798").is_ok());
    }

    #[test]
    fn zooms_get_layer_resolutions_that_grow_finer() {
        let mut last = 0;
        for z in MIN_ZOOM..=MAX_ZOOM {
            let res = resolution_for_zoom(z);
            assert!((5..=11).contains(&res) && res >= last, "z{z}: {res}");
            last = res;
            let t = TileId::containing(15.6214, 58.4108, z).unwrap();
            assert_eq!(u8::from(t.resolution().get()), res);
            // A hexagon is two edges across; a tile is 256 pixels.
            let b = t.bounds();
            let tile_m = (b.max_lon - b.min_lon) * 111_320.0 * 58.41f64.to_radians().cos();
            let px = 2.0 * t.resolution().edge_m() / tile_m * 256.0;
            if z <= 18 {
                assert!((5.0..=200.0).contains(&px), "z{z}: {px} px");
            }
        }
    }

    #[test]
    fn varints_and_zigzag_follow_the_protobuf_rules() {
        let mut out = Vec::new();
        varint(&mut out, 300);
        assert_eq!(out, [0xAC, 0x02]);
        assert_eq!([0, -1, 1, -2, 2].map(zigzag), [0, 1, 2, 3, 4],);
        assert_eq!(zigzag(i32::MIN), u32::MAX);
    }

    #[test]
    fn the_specification_polygon_example_encodes_as_written() {
        // Section 4.3.5.3 of the specification: POLYGON ((3 6, 8 12, 20 34, 3 6)).
        let ring = exterior_ring(&[(3.0, 6.0), (8.0, 12.0), (20.0, 34.0), (3.0, 6.0)]).unwrap();
        assert_eq!(polygon_commands(&ring), [9, 6, 12, 18, 10, 12, 24, 44, 15]);
        // Wound the other way it is turned round, not written as a hole.
        let reversed = exterior_ring(&[(20.0, 34.0), (8.0, 12.0), (3.0, 6.0)]).unwrap();
        assert!(area2(&reversed) > 0);
        // Nothing with an area left: no ring.
        assert!(exterior_ring(&[(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)]).is_none());
        assert!(exterior_ring(&[(1.0, 1.0), (1.2, 1.1), (0.9, 1.0)]).is_none());
    }

    fn hexagons_around(lon: f64, lat: f64, res: Resolution) -> Vec<HexCount> {
        let centre = point_cell(lon, lat).unwrap().parent(res).unwrap();
        centre
            .grid_disk::<Vec<CellIndex>>(1)
            .into_iter()
            .enumerate()
            .map(|(i, cell)| HexCount {
                cell,
                count: i as u64 + 1,
                minutes: 12.34 * i as f64,
            })
            .collect()
    }

    #[test]
    fn a_hexagon_tile_round_trips_through_a_decoder() {
        let tile = TileId::containing(15.6214, 58.4108, 15).unwrap();
        let cells = hexagons_around(15.6214, 58.4108, Resolution::Ten);
        let bytes = hexagon_tile(Kind::Presence, tile, &cells);
        let layers = decode::tile(&bytes);
        assert_eq!(layers.len(), 1);
        let layer = &layers[0];
        assert_eq!(
            (layer.name.as_str(), layer.version, layer.extent),
            ("presence", 2, 4096)
        );
        assert_eq!(layer.features.len(), cells.len());
        for (f, h) in layer.features.iter().zip(&cells) {
            assert_eq!(f.kind, 3, "a polygon");
            assert_eq!(f.id, Some(u64::from(h.cell)));
            assert_eq!(f.props["h3"], decode::Prop::Str(h.cell.to_string()));
            assert_eq!(f.props["count"], decode::Prop::Num(h.count as f64));
            let decode::Prop::Num(m) = f.props["minutes"] else {
                panic!()
            };
            assert!((m - h.minutes).abs() <= 0.05, "{m} {}", h.minutes);
            assert_eq!(f.rings.len(), 1);
            let ring = &f.rings[0];
            assert!(
                signed_area2(ring) > 0,
                "exterior rings are clockwise with y down"
            );
            // Every vertex is the projected H3 vertex, to the nearest unit.
            let boundary = h.cell.boundary();
            assert_eq!(ring.len(), boundary.len());
            for ll in boundary.iter() {
                let (x, y) = tile.project(ll.lng(), ll.lat());
                assert!(
                    ring.iter()
                        .any(|&(rx, ry)| (rx as f64 - x).abs() <= 0.5
                            && (ry as f64 - y).abs() <= 0.5),
                    "vertex {x},{y} not in {ring:?}"
                );
            }
        }
        // Incidents carry no minutes.
        let incidents = decode::tile(&hexagon_tile(Kind::Incident, tile, &cells));
        assert!(!incidents[0].features[0].props.contains_key("minutes"));
        assert!(hexagon_tile(Kind::Incident, tile, &[]).is_empty());
    }

    #[test]
    fn hexagons_over_the_edge_stay_whole_and_huge_ones_are_clipped() {
        let tile = TileId::containing(15.6214, 58.4108, 15).unwrap();
        let b = tile.bounds();
        // A res-10 hexagon on the tile's western edge reaches outside it.
        let edge = LatLng::new(f64::midpoint(b.min_lat, b.max_lat), b.min_lon)
            .unwrap()
            .to_cell(Resolution::Ten);
        let one = [HexCount {
            cell: edge,
            count: 1,
            minutes: 0.0,
        }];
        let f = &decode::tile(&hexagon_tile(Kind::Incident, tile, &one))[0].features[0];
        assert_eq!(f.rings[0].len(), edge.boundary().len(), "not cut");
        assert!(f.rings[0].iter().any(|p| p.0 < 0) && f.rings[0].iter().any(|p| p.0 > 0));
        // A res-5 hexagon (8.5 km edges) around a zoom-18 tile is cut to
        // the buffered square.
        let deep = TileId::containing(15.6214, 58.4108, 18).unwrap();
        let huge = [HexCount {
            cell: LatLng::new(58.4108, 15.6214)
                .unwrap()
                .to_cell(Resolution::Five),
            count: 7,
            minutes: 0.0,
        }];
        let f = &decode::tile(&hexagon_tile(Kind::Incident, deep, &huge))[0].features[0];
        let (lo, hi) = (-i64::from(BUFFER), i64::from(EXTENT + BUFFER));
        assert!(
            f.rings[0]
                .iter()
                .all(|p| (lo..=hi).contains(&p.0) && (lo..=hi).contains(&p.1))
        );
        assert!(signed_area2(&f.rings[0]) > 0);
        assert_eq!(
            signed_area2(&f.rings[0]),
            2 * (hi - lo) * (hi - lo),
            "the whole square"
        );
    }

    #[test]
    fn equal_values_share_one_table_entry() {
        let tile = TileId::containing(15.6214, 58.4108, 15).unwrap();
        let mut cells = hexagons_around(15.6214, 58.4108, Resolution::Ten);
        for c in &mut cells {
            c.count = 4;
        }
        let bytes = hexagon_tile(Kind::Incident, tile, &cells);
        let distinct = hexagon_tile(
            Kind::Incident,
            tile,
            &hexagons_around(15.6214, 58.4108, Resolution::Ten),
        );
        assert!(bytes.len() < distinct.len());
    }
}
