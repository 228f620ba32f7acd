//! OGC API – Features Part 2: the coordinate systems features are served
//! in and boxes are asked in. CRS84 (longitude, latitude) is the storage
//! CRS and the default; EPSG:4326 is the same datum with latitude first;
//! SWEREF 99 TM (EPSG:3006) and the twelve SWEREF 99 local zones
//! (EPSG:3007–3018) are the grids Swedish municipal GIS works in.
//!
//! Axis order follows each CRS's definition, as Part 2 asks and the
//! `Content-Crs` header states: EPSG:4326 is latitude, longitude, and the
//! SWEREF grids are northing, easting (x = northing). The projections are
//! the ones imports read (`crate::import::crs`, proj4rs).

use proj4rs::proj::Proj;
use serde_json::Value;

use crate::bbox::Bbox;
use crate::import::crs::Crs;
use crate::{Error, Result};

const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// Points followed along each edge of a projected box.
const STEPS: u32 = 16;

/// A CRS a feature collection can be served in or a box asked in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OgcCrs {
    Crs84,
    Epsg4326,
    /// SWEREF 99 TM or a local zone, by EPSG code.
    Sweref(u16),
}

impl OgcCrs {
    /// Every CRS offered, the storage CRS first.
    pub fn all() -> Vec<OgcCrs> {
        let mut out = vec![OgcCrs::Crs84, OgcCrs::Epsg4326];
        out.extend((3006..=3018).map(OgcCrs::Sweref));
        out
    }

    /// The OGC URI of the CRS, as collections list it and `Content-Crs`
    /// states it.
    pub fn uri(self) -> String {
        match self {
            OgcCrs::Crs84 => CRS84.to_owned(),
            OgcCrs::Epsg4326 => "http://www.opengis.net/def/crs/EPSG/0/4326".to_owned(),
            OgcCrs::Sweref(code) => format!("http://www.opengis.net/def/crs/EPSG/0/{code}"),
        }
    }

    /// Reads a CRS as clients write it: the OGC URI (http or https), a safe
    /// CURIE `[EPSG:3006]`, `EPSG:3006`, or a URN.
    pub fn parse(text: &str, field: &str) -> Result<Self> {
        let t = text.trim().trim_start_matches('[').trim_end_matches(']');
        let upper = t.to_ascii_uppercase();
        let refused = || {
            Error::invalid(
                field,
                format!(
                    "`{t}` is not offered; use {CRS84}, http://www.opengis.net/def/crs/EPSG/0/4326, or EPSG 3006–3018 (SWEREF 99 TM and its local zones)"
                ),
            )
        };
        if upper.ends_with("/CRS84") || upper == "OGC:CRS84" || upper.ends_with(":CRS84") {
            return Ok(OgcCrs::Crs84);
        }
        let code = if let Some(rest) = upper
            .strip_prefix("HTTP://WWW.OPENGIS.NET/DEF/CRS/EPSG/0/")
            .or_else(|| upper.strip_prefix("HTTPS://WWW.OPENGIS.NET/DEF/CRS/EPSG/0/"))
        {
            rest
        } else if let Some(rest) = upper
            .strip_prefix("EPSG:")
            .or_else(|| upper.strip_prefix("URN:OGC:DEF:CRS:EPSG::"))
        {
            rest
        } else {
            return Err(refused());
        };
        match code.parse::<u16>() {
            Ok(4326) => Ok(OgcCrs::Epsg4326),
            Ok(c) if (3006..=3018).contains(&c) => Ok(OgcCrs::Sweref(c)),
            _ => Err(refused()),
        }
    }

    fn projected(self) -> bool {
        matches!(self, OgcCrs::Sweref(_))
    }
}

/// Converts between WGS84 (longitude, latitude) and one offered CRS, in
/// that CRS's axis order.
pub struct Transform {
    crs: OgcCrs,
    /// WGS84 and the projection, for the SWEREF grids.
    proj: Option<(Proj, Proj)>,
}

impl Transform {
    pub fn new(crs: OgcCrs) -> Result<Self> {
        let proj = match crs {
            OgcCrs::Sweref(code) => {
                let def = Crs::Sweref(code)
                    .proj_string()
                    .ok_or_else(|| Error::invalid("crs", "no such SWEREF 99 zone"))?;
                let grid = Proj::from_proj_string(&def).map_err(|e| Error::invalid("crs", e))?;
                let wgs84 =
                    Proj::from_proj_string("+proj=longlat +ellps=WGS84 +datum=WGS84 +no_defs")
                        .map_err(|e| Error::invalid("crs", e))?;
                Some((wgs84, grid))
            }
            _ => None,
        };
        Ok(Self { crs, proj })
    }

    pub fn crs(&self) -> OgcCrs {
        self.crs
    }

    /// A WGS84 position in this CRS's axis order.
    pub fn forward(&self, lon: f64, lat: f64) -> Result<(f64, f64)> {
        match (&self.proj, self.crs) {
            (_, OgcCrs::Crs84) => Ok((lon, lat)),
            (_, OgcCrs::Epsg4326) => Ok((lat, lon)),
            (Some((wgs84, grid)), _) => {
                let mut p = (lon.to_radians(), lat.to_radians(), 0.0);
                proj4rs::transform::transform(wgs84, grid, &mut p)
                    .map_err(|e| Error::invalid("crs", e))?;
                // Northing, easting: the order EPSG defines for SWEREF 99.
                Ok((p.1, p.0))
            }
            (None, OgcCrs::Sweref(_)) => Err(Error::invalid("crs", "no projection")),
        }
    }

    /// A position in this CRS's axis order back to WGS84 (longitude,
    /// latitude).
    pub fn inverse(&self, a: f64, b: f64, field: &str) -> Result<(f64, f64)> {
        if !a.is_finite() || !b.is_finite() {
            return Err(Error::invalid(field, "every value must be a finite number"));
        }
        match (&self.proj, self.crs) {
            (_, OgcCrs::Crs84) => Ok((a, b)),
            (_, OgcCrs::Epsg4326) => Ok((b, a)),
            (Some((wgs84, grid)), _) => {
                let mut p = (b, a, 0.0);
                proj4rs::transform::transform(grid, wgs84, &mut p)
                    .map_err(|e| Error::invalid(field, e))?;
                Ok((p.0.to_degrees(), p.1.to_degrees()))
            }
            (None, OgcCrs::Sweref(_)) => Err(Error::invalid(field, "no projection")),
        }
    }

    /// Rewrites the coordinates of a GeoJSON geometry in place. Metres keep
    /// two decimals (a centimetre), degrees seven.
    pub fn geometry(&self, geometry: &mut Value) -> Result<()> {
        if self.crs == OgcCrs::Crs84 {
            return Ok(());
        }
        let decimals = if self.crs.projected() { 100.0 } else { 1e7 };
        if let Some(coords) = geometry.get_mut("coordinates") {
            self.positions(coords, decimals)?;
        }
        Ok(())
    }

    fn positions(&self, v: &mut Value, decimals: f64) -> Result<()> {
        let Value::Array(items) = v else {
            return Ok(());
        };
        if let [Value::Number(x), Value::Number(y), ..] = items.as_slice() {
            let (lon, lat) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            let (a, b) = self.forward(lon, lat)?;
            items[0] = Value::from((a * decimals).round() / decimals);
            items[1] = Value::from((b * decimals).round() / decimals);
            return Ok(());
        }
        for item in items {
            self.positions(item, decimals)?;
        }
        Ok(())
    }

    /// A box given in this CRS (lower corner, upper corner, each in the
    /// CRS's axis order) as the WGS84 box that encloses it: its edges are
    /// followed, since a projected box's edges are curves in degrees.
    pub fn bbox_to_wgs84(&self, values: [f64; 4], field: &str) -> Result<Bbox> {
        let [a0, b0, a1, b1] = values;
        if a0 > a1 || b0 > b1 {
            return Err(Error::invalid(
                field,
                "the lower corner must not exceed the upper corner",
            ));
        }
        let (mut west, mut south) = (f64::MAX, f64::MAX);
        let (mut east, mut north) = (f64::MIN, f64::MIN);
        for i in 0..=STEPS {
            let step = f64::from(i) / f64::from(STEPS);
            let along_a = a0 + (a1 - a0) * step;
            let along_b = b0 + (b1 - b0) * step;
            for (x, y) in [(along_a, b0), (along_a, b1), (a0, along_b), (a1, along_b)] {
                let (lon, lat) = self.inverse(x, y, field)?;
                west = west.min(lon);
                east = east.max(lon);
                south = south.min(lat);
                north = north.max(lat);
            }
        }
        Bbox::new(west, south, east, north, field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // pyproj 3 (PROJ 9) reference positions, as in `import::crs`.
    #[test]
    fn sweref_output_is_northing_then_easting_and_matches_proj() {
        let t = Transform::new(OgcCrs::Sweref(3006)).unwrap();
        let (n, e) = t.forward(15.6214, 58.4108).unwrap();
        assert!((n - 6_474_614.998_755).abs() < 0.01, "{n}");
        assert!((e - 536_308.536_354).abs() < 0.01, "{e}");
        let t = Transform::new(OgcCrs::Sweref(3009)).unwrap();
        let (n, e) = t.forward(15.6214, 58.4108).unwrap();
        assert!((n - 6_477_205.881_108).abs() < 0.01 && (e - 186_323.065_580).abs() < 0.01);
        let (lon, lat) = t.inverse(n, e, "bbox").unwrap();
        assert!((lon - 15.6214).abs() < 1e-8 && (lat - 58.4108).abs() < 1e-8);
    }

    #[test]
    fn epsg_4326_is_latitude_first() {
        let t = Transform::new(OgcCrs::Epsg4326).unwrap();
        assert_eq!(t.forward(15.6, 58.4).unwrap(), (58.4, 15.6));
        let mut g =
            serde_json::json!({"type": "LineString", "coordinates": [[15.6, 58.4], [15.7, 58.5]]});
        t.geometry(&mut g).unwrap();
        assert_eq!(g["coordinates"][1], serde_json::json!([58.5, 15.7]));
    }

    #[test]
    fn a_sweref_box_becomes_the_wgs84_box_around_it() {
        let t = Transform::new(OgcCrs::Sweref(3006)).unwrap();
        let (n0, e0) = t.forward(15.60, 58.40).unwrap();
        let (n1, e1) = t.forward(15.64, 58.42).unwrap();
        let b = t.bbox_to_wgs84([n0, e0, n1, e1], "bbox").unwrap();
        let eps = 1e-9;
        assert!(
            b.min_lon <= 15.60 + eps && b.min_lat <= 58.40 + eps,
            "{b:?}"
        );
        assert!(
            b.max_lon >= 15.64 - eps && b.max_lat >= 58.42 - eps,
            "{b:?}"
        );
        assert!(
            b.max_lon - b.min_lon < 0.05 && b.max_lat - b.min_lat < 0.03,
            "{b:?}"
        );
    }

    #[test]
    fn crs_names_parse_in_every_spelling_and_others_are_refused() {
        for s in [
            "http://www.opengis.net/def/crs/EPSG/0/3006",
            "https://www.opengis.net/def/crs/EPSG/0/3006",
            "[EPSG:3006]",
            "EPSG:3006",
            "urn:ogc:def:crs:EPSG::3006",
        ] {
            assert_eq!(
                OgcCrs::parse(s, "crs").unwrap(),
                OgcCrs::Sweref(3006),
                "{s}"
            );
        }
        assert_eq!(OgcCrs::parse(CRS84, "crs").unwrap(), OgcCrs::Crs84);
        assert_eq!(
            OgcCrs::parse("http://www.opengis.net/def/crs/EPSG/0/4326", "crs").unwrap(),
            OgcCrs::Epsg4326
        );
        assert_eq!(
            OgcCrs::parse("EPSG:3857", "crs").unwrap_err().field(),
            "crs"
        );
        assert_eq!(
            OgcCrs::parse("EPSG:3019", "bbox-crs").unwrap_err().field(),
            "bbox-crs"
        );
        for c in OgcCrs::all() {
            assert_eq!(OgcCrs::parse(&c.uri(), "crs").unwrap(), c);
        }
    }
}
