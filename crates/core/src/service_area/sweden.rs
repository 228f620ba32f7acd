//! Sweden's 290 municipalities and 21 counties: names, codes and outlines.
//!
//! The outlines come from bytes the binary embeds
//! (`fixtures/sweden_municipalities.outlines`, made by
//! `scripts/build-outlines.py` from SCB's RegSO 2025 areas, CC0): the
//! dissolve of each municipality's RegSO areas, at the 5 m precision of the
//! source. [`Sweden::parse`] reads only the index (codes, names, where each
//! outline starts); an outline is decoded when a service area asks for it,
//! so serving one municipality decodes one.
//!
//! The format (varints, signed ones zigzag):
//!
//! ```text
//! b"TRYGGOUTLINES1\n", count,
//! count × { code: 4 ASCII bytes, name length, name, blob length },
//! count × blob
//! blob = polygons, per polygon: rings, per ring: points, then
//!        points × (lon, lat) in 1e-6 degree, the first absolute and the
//!        rest as differences; rings are stored open.
//! ```

use std::ops::Range;

use geo_types::{Coord, LineString, MultiPolygon, Polygon};

use crate::{Error, Result};

const MAGIC: &[u8] = b"TRYGGOUTLINES1\n";

/// The 21 counties (län), by SCB code. A municipality's county is the first
/// two digits of its code.
pub const COUNTIES: [(&str, &str); 21] = [
    ("01", "Stockholms län"),
    ("03", "Uppsala län"),
    ("04", "Södermanlands län"),
    ("05", "Östergötlands län"),
    ("06", "Jönköpings län"),
    ("07", "Kronobergs län"),
    ("08", "Kalmar län"),
    ("09", "Gotlands län"),
    ("10", "Blekinge län"),
    ("12", "Skåne län"),
    ("13", "Hallands län"),
    ("14", "Västra Götalands län"),
    ("17", "Värmlands län"),
    ("18", "Örebro län"),
    ("19", "Västmanlands län"),
    ("20", "Dalarnas län"),
    ("21", "Gävleborgs län"),
    ("22", "Västernorrlands län"),
    ("23", "Jämtlands län"),
    ("24", "Västerbottens län"),
    ("25", "Norrbottens län"),
];

/// The county's name by its two-digit code.
pub fn county_name(code: &str) -> Option<&'static str> {
    COUNTIES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// A municipality of a service area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// SCB code, e.g. `0580`.
    pub code: String,
    pub name: String,
    /// e.g. `05`.
    pub county_code: String,
    /// e.g. `Östergötlands län`.
    pub county_name: String,
}

#[derive(Debug, Clone)]
struct Entry {
    code: String,
    name: String,
    blob: Range<usize>,
}

/// What a selector names: some municipalities, or a whole county.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    Municipalities(Vec<String>),
    County(String),
}

/// The embedded list of municipalities and their outlines.
#[derive(Debug, Clone)]
pub struct Sweden<'a> {
    bytes: &'a [u8],
    entries: Vec<Entry>,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn fail(&self, what: &str) -> Error {
        Error::invalid(
            "outlines",
            format!("{what} at byte {}: the embedded file is damaged", self.at),
        )
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self
                .bytes
                .get(self.at)
                .ok_or_else(|| self.fail("ends early"))?;
            self.at += 1;
            v |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.fail("a number is too long"))
    }

    fn zigzag(&mut self) -> Result<i64> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or_else(|| self.fail("ends early"))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn len(&mut self) -> Result<usize> {
        usize::try_from(self.varint()?).map_err(|_| self.fail("a length is too large"))
    }
}

impl<'a> Sweden<'a> {
    /// Reads the index of the embedded outlines.
    ///
    /// # Errors
    /// Bytes that are not the outlines file, or a damaged one.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        if !bytes.starts_with(MAGIC) {
            return Err(Error::invalid(
                "outlines",
                "not a Trygg outlines file (made by scripts/build-outlines.py)",
            ));
        }
        let mut r = Reader {
            bytes,
            at: MAGIC.len(),
        };
        let count = r.len()?;
        let mut index = Vec::with_capacity(count.min(1000));
        for _ in 0..count {
            let code = String::from_utf8_lossy(r.take(4)?).into_owned();
            let n = r.len()?;
            let name = String::from_utf8(r.take(n)?.to_vec())
                .map_err(|_| r.fail("a name is not UTF-8"))?;
            let blob_len = r.len()?;
            index.push((code, name, blob_len));
        }
        let mut at = r.at;
        let mut entries = Vec::with_capacity(index.len());
        for (code, name, len) in index {
            let end = at
                .checked_add(len)
                .filter(|e| *e <= bytes.len())
                .ok_or_else(|| Error::invalid("outlines", "an outline runs past the end"))?;
            entries.push(Entry {
                code,
                name,
                blob: at..end,
            });
            at = end;
        }
        Ok(Self { bytes, entries })
    }

    /// Every municipality as `(code, name)`, in code order.
    pub fn municipalities(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|e| (e.code.as_str(), e.name.as_str()))
    }

    /// The municipality with this code, with its county.
    pub fn member(&self, code: &str) -> Option<Member> {
        let e = self.entries.iter().find(|e| e.code == code)?;
        let county_code = code.get(..2)?.to_owned();
        Some(Member {
            code: e.code.clone(),
            name: e.name.clone(),
            county_name: county_name(&county_code)?.to_owned(),
            county_code,
        })
    }

    /// The codes of a county's municipalities.
    pub fn county_members(&self, county: &str) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.code.starts_with(county))
            .map(|e| e.code.clone())
            .collect()
    }

    /// A municipality's code by its name, as the police feed writes it
    /// (any case; `Malung-Sälen` also as `Malung Sälen`).
    pub fn code_by_name(&self, name: &str) -> Option<&str> {
        let wanted = fold(name);
        self.entries
            .iter()
            .find(|e| fold(&e.name) == wanted)
            .map(|e| e.code.as_str())
    }

    /// Decodes one municipality's outline.
    ///
    /// # Errors
    /// An unknown code or a damaged file.
    pub fn outline(&self, code: &str) -> Result<MultiPolygon<f64>> {
        let e = self
            .entries
            .iter()
            .find(|e| e.code == code)
            .ok_or_else(|| Error::invalid("service_area", format!("no municipality `{code}`")))?;
        let mut r = Reader {
            bytes: &self.bytes[..e.blob.end],
            at: e.blob.start,
        };
        let polygons = r.len()?;
        let mut out = Vec::with_capacity(polygons.min(10_000));
        for _ in 0..polygons {
            let rings = r.len()?;
            let mut decoded: Vec<LineString<f64>> = Vec::with_capacity(rings.min(10_000));
            for _ in 0..rings {
                let points = r.len()?;
                let mut ring = Vec::with_capacity(points.min(1_000_000) + 1);
                let (mut x, mut y) = (0i64, 0i64);
                for _ in 0..points {
                    x += r.zigzag()?;
                    y += r.zigzag()?;
                    ring.push(Coord {
                        x: x as f64 / 1e6,
                        y: y as f64 / 1e6,
                    });
                }
                if let Some(first) = ring.first().copied() {
                    ring.push(first);
                }
                decoded.push(LineString(ring));
            }
            let mut rings = decoded.into_iter();
            if let Some(exterior) = rings.next() {
                out.push(Polygon::new(exterior, rings.collect()));
            }
        }
        Ok(MultiPolygon(out))
    }

    /// Resolves a selector: one or several municipalities by code or name
    /// (`0580`, `Linköping`, `0580,0583,0586`, `Mjölby, Boxholm`), or a
    /// county by code or name (`05`, `Östergötlands län`, `Östergötland`).
    /// A municipality's name wins over a county's short name (`Gotland`,
    /// `Kalmar`, `Uppsala` are municipalities; `Kalmar län` is the county).
    ///
    /// # Errors
    /// A part that names no municipality or county, naming it.
    pub fn select(&self, selector: &str) -> Result<Selection> {
        let parts: Vec<&str> = selector
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            return Err(Error::invalid(
                "service_area",
                "empty; name a municipality (`Linköping`, `0580`), several (`0580,0583`) or a county (`05`, `Östergötlands län`)",
            ));
        }
        let mut codes = Vec::new();
        for part in &parts {
            if let Some(code) = self.municipality_code(part) {
                codes.push(code.to_owned());
            } else if let Some(county) = county_code(part) {
                if parts.len() == 1 {
                    return Ok(Selection::County(county.to_owned()));
                }
                codes.extend(self.county_members(county));
            } else {
                return Err(Error::invalid(
                    "service_area",
                    format!(
                        "no Swedish municipality or county has the name or code `{part}` (e.g. `Linköping`, `0580`, `05` or `Östergötlands län`)"
                    ),
                ));
            }
        }
        codes.sort();
        codes.dedup();
        Ok(Selection::Municipalities(codes))
    }

    fn municipality_code(&self, part: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.code == part)
            .map(|e| e.code.as_str())
            .or_else(|| self.code_by_name(part))
    }
}

fn county_code(part: &str) -> Option<&'static str> {
    let wanted = fold(part);
    COUNTIES
        .iter()
        .find(|(code, name)| {
            *code == part
                || fold(name) == wanted
                || fold(name.trim_end_matches(" län").trim_end_matches('s')) == wanted
                || fold(name.trim_end_matches(" län")) == wanted
        })
        .map(|(c, _)| *c)
}

/// Case and spacing folded, hyphens as spaces: how names are compared.
pub(crate) fn fold(s: &str) -> String {
    s.trim()
        .to_lowercase()
        .replace('-', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_county_code_is_two_digits_and_named_as_a_county() {
        for (code, name) in COUNTIES {
            assert_eq!(code.len(), 2);
            assert!(name.ends_with(" län"), "{name}");
        }
        assert_eq!(county_code("Östergötland"), Some("05"));
        assert_eq!(county_code("östergötlands län"), Some("05"));
        assert_eq!(county_code("Västra Götaland"), Some("14"));
        assert_eq!(county_code("Skåne"), Some("12"));
        assert_eq!(county_code("Uppsala län"), Some("03"));
        assert_eq!(county_code("Linköping"), None);
    }

    #[test]
    fn a_damaged_file_is_named_not_a_panic() {
        assert!(Sweden::parse(b"not outlines").is_err());
        let mut bytes = MAGIC.to_vec();
        bytes.extend([2, b'0', b'5']);
        let err = Sweden::parse(&bytes).unwrap_err();
        assert!(err.reason().contains("damaged"), "{err}");
    }
}
