//! Which CSV header (or district attribute) holds which logical column:
//! named by the user (`x=E,y=N,time=datum`), else found under common names
//! in any case, with or without å, ä, ö.

use std::collections::HashMap;

use super::names::fold;
use crate::{Error, Result};

/// Which header holds each logical column. Unset ones are looked for under
/// common names (`lon`/`longitude`/`x`/`e`, `lat`/`latitude`/`y`/`n`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns(HashMap<String, String>);

/// Logical columns and the headers tried when none is configured.
const DEFAULTS: [(&str, &[&str]); 19] = [
    ("id", &["source_id", "client_id", "id", "nr", "löpnummer"]),
    (
        "x",
        &[
            "x",
            "lon",
            "lng",
            "long",
            "longitude",
            "longitud",
            "e",
            "easting",
            "östlig",
            "ost",
        ],
    ),
    (
        "y",
        &[
            "y", "lat", "latitude", "latitud", "n", "northing", "nordlig", "nord",
        ],
    ),
    // The specific names first: in `Datum;Tid` or `Datum;Starttid` the
    // time is the second column and `datum` its date (`date` below).
    (
        "time",
        &[
            "time",
            "ts",
            "datetime",
            "occurred_at",
            "reported_at",
            "started_at",
            "start",
            "starttid",
            "tidpunkt",
            "tid",
            "klockslag",
            "datum",
            "date",
        ],
    ),
    // The date of times written as a clock alone (`21:30`).
    ("date", &["date", "datum", "dag", "startdatum"]),
    (
        "end",
        &["end", "occurred_until", "ended_at", "slut", "sluttid"],
    ),
    (
        "duration",
        &[
            "duration",
            "minutes",
            "minuter",
            "varaktighet",
            "längd",
            "duration_min",
        ],
    ),
    (
        "category",
        &[
            "category",
            "kategori",
            "type",
            "typ",
            "brottstyp",
            "händelsetyp",
        ],
    ),
    ("precision", &["precision", "precision_m", "noggrannhet"]),
    (
        "reasons",
        &["reasons", "reason", "orsak", "orsaker", "anledning"],
    ),
    ("source", &["source", "källa"]),
    ("source_type", &["source_type"]),
    ("source_url", &["source_url", "url", "länk"]),
    (
        "time_of_day",
        &["time_of_day", "tid_på_dygnet", "tidpunkt_på_dygnet"],
    ),
    ("unit_type", &["unit_type", "enhetstyp", "aktör", "aktor"]),
    ("unit", &["unit", "enhet"]),
    (
        "comment",
        &["comment", "note", "kommentar", "anteckning", "beskrivning"],
    ),
    (
        "name",
        &[
            "name",
            "namn",
            "regsonamn",
            "områdesnamn",
            "område",
            "stadsdel",
            "distrikt",
            "desonamn",
        ],
    ),
    (
        "code",
        &["code", "kod", "regsokod", "områdeskod", "desokod"],
    ),
];

/// The headers (or attributes) tried for a logical column.
pub(super) fn common_names(logical: &str) -> &'static [&'static str] {
    DEFAULTS
        .iter()
        .find(|(l, _)| *l == logical)
        .map_or(&[], |(_, tried)| tried)
}

impl Columns {
    /// Parses `x=E,y=N,time=datum`, naming an unknown logical column.
    pub fn parse(s: &str, field: &str) -> Result<Self> {
        let mut map = HashMap::new();
        for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| Error::invalid(field, format!("`{pair}` is not name=header")))?;
            let k = k.trim();
            if !DEFAULTS.iter().any(|(name, _)| *name == k) {
                let names: Vec<&str> = DEFAULTS.iter().map(|(n, _)| *n).collect();
                return Err(Error::invalid(
                    field,
                    format!("unknown column `{k}`; use {}", names.join(", ")),
                ));
            }
            map.insert(k.to_owned(), v.trim().to_owned());
        }
        Ok(Self(map))
    }

    /// The header the user named for a logical column, if any.
    pub(super) fn named(&self, logical: &str) -> Option<&str> {
        self.0.get(logical).map(String::as_str)
    }

    /// Which of `headers` holds a logical column: the one the user named,
    /// else the first common name found (compared folded: `Östlig`,
    /// `ostlig` and `ÖSTLIG` are one).
    pub(super) fn find<'h>(
        &self,
        logical: &str,
        headers: impl Iterator<Item = &'h str> + Clone,
    ) -> Option<usize> {
        let folded: Vec<String> = headers.map(fold).collect();
        let find = |name: &str| {
            let name = fold(name);
            folded.iter().position(|h| *h == name)
        };
        match self.0.get(logical) {
            Some(header) => find(header),
            None => common_names(logical).iter().find_map(|t| find(t)),
        }
    }

    /// The index of each logical column in this header row, and the
    /// columns the user named that the header lacks.
    pub(super) fn resolve(
        &self,
        headers: &csv::StringRecord,
    ) -> (HashMap<&'static str, usize>, Vec<String>) {
        let found = DEFAULTS
            .iter()
            .filter_map(|(logical, _)| self.find(logical, headers.iter()).map(|i| (*logical, i)))
            .collect();
        let missing = self
            .0
            .iter()
            .filter(|(logical, _)| self.find(logical, headers.iter()).is_none())
            .map(|(logical, header)| format!("{logical}={header}"))
            .collect();
        (found, missing)
    }
}
