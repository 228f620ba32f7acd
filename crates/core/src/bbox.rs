use crate::{Error, Result};

/// A WGS84 bounding box, `min_lon,min_lat,max_lon,max_lat` as in OGC API.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bbox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

impl Bbox {
    pub fn new(
        min_lon: f64,
        min_lat: f64,
        max_lon: f64,
        max_lat: f64,
        field: &str,
    ) -> Result<Self> {
        for v in [min_lon, min_lat, max_lon, max_lat] {
            if !v.is_finite() {
                return Err(Error::invalid(field, "every value must be a finite number"));
            }
        }
        if !(-180.0..=180.0).contains(&min_lon) || !(-180.0..=180.0).contains(&max_lon) {
            return Err(Error::invalid(field, "longitudes must be within -180..180"));
        }
        if !(-90.0..=90.0).contains(&min_lat) || !(-90.0..=90.0).contains(&max_lat) {
            return Err(Error::invalid(field, "latitudes must be within -90..90"));
        }
        if min_lon > max_lon || min_lat > max_lat {
            return Err(Error::invalid(
                field,
                "the minimum must not exceed the maximum (min_lon,min_lat,max_lon,max_lat)",
            ));
        }
        Ok(Self {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
        })
    }

    /// Parses `min_lon,min_lat,max_lon,max_lat`. Six-number (3D) boxes are
    /// accepted as OGC API allows, their heights ignored.
    pub fn parse(s: &str, field: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        let nums = parts
            .iter()
            .map(|p| {
                p.parse::<f64>()
                    .map_err(|_| Error::invalid(field, format!("`{p}` is not a number")))
            })
            .collect::<Result<Vec<_>>>()?;
        match nums.as_slice() {
            [w, s, e, n] | [w, s, _, e, n, _] => Self::new(*w, *s, *e, *n, field),
            _ => Err(Error::invalid(
                field,
                "expected four numbers: min_lon,min_lat,max_lon,max_lat",
            )),
        }
    }

    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        lon >= self.min_lon && lon <= self.max_lon && lat >= self.min_lat && lat <= self.max_lat
    }

    pub fn intersects(&self, other: &Bbox) -> bool {
        self.min_lon <= other.max_lon
            && self.max_lon >= other.min_lon
            && self.min_lat <= other.max_lat
            && self.max_lat >= other.min_lat
    }

    /// The box grown by `m` metres on every side (equirectangular: fine at
    /// city scale, which is the only scale this is used at).
    #[must_use]
    pub fn expanded_m(&self, m: f64) -> Bbox {
        let dlat = m / 111_320.0;
        let mid = f64::midpoint(self.min_lat, self.max_lat).to_radians();
        let dlon = m / (111_320.0 * mid.cos().max(0.01));
        Bbox {
            min_lon: (self.min_lon - dlon).max(-180.0),
            min_lat: (self.min_lat - dlat).max(-90.0),
            max_lon: (self.max_lon + dlon).min(180.0),
            max_lat: (self.max_lat + dlat).min(90.0),
        }
    }

    pub fn to_rect(&self) -> geo_types::Rect<f64> {
        geo_types::Rect::new(
            geo_types::coord! { x: self.min_lon, y: self.min_lat },
            geo_types::coord! { x: self.max_lon, y: self.max_lat },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_numbers_make_a_box() {
        let b = Bbox::parse("15.600,58.400,15.635,58.418", "bbox").unwrap();
        assert!(b.contains(15.62, 58.41));
        assert!(!b.contains(15.64, 58.41));
    }

    #[test]
    fn three_numbers_are_refused_naming_bbox() {
        let err = Bbox::parse("15.6,58.4,15.7", "bbox").unwrap_err();
        assert_eq!(err.field(), "bbox");
    }

    #[test]
    fn inverted_and_non_finite_boxes_are_refused() {
        assert!(Bbox::parse("15.7,58.4,15.6,58.5", "bbox").is_err());
        assert!(Bbox::parse("NaN,58.4,15.6,58.5", "bbox").is_err());
        assert!(Bbox::parse("inf,58.4,15.6,58.5", "bbox").is_err());
        assert!(Bbox::parse("15.6,58.4,15.7,91", "bbox").is_err());
    }
}
