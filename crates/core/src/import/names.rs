//! Values of the closed vocabularies (categories, reasons, unit types,
//! measure kinds and statuses, report sources …) as municipalities write
//! them: Trygg's own names, the Swedish words, the police feed's event
//! types, in any case and with or without å, ä, ö — and whatever else a
//! user maps with `--map category=Misshandel:assault,Rån:robbery`.
//!
//! A Swedish name is accepted only where it is unambiguous: a test checks
//! that no two names of different values fold to the same key.

use std::collections::HashMap;

use crate::attrs::{
    IncidentCategory, MeasureKind, MeasureStatus, Reason, ReportSource, ReportStatus, TimeOfDay,
    UnitType,
};
use crate::{Error, Kind, Result};

/// A vocabulary: its wire names, each with the Swedish names it answers to
/// (the first is the one shown in error messages).
struct Vocabulary {
    /// Which one, for the table of folded names.
    id: &'static str,
    values: &'static [&'static str],
    swedish: &'static [(&'static str, &'static [&'static str])],
    /// Other names matched by prefix (the police feed's event types).
    prefixes: &'static [(&'static str, Option<&'static str>)],
}

static CATEGORY: Vocabulary = Vocabulary {
    id: "category",
    values: IncidentCategory::NAMES,
    swedish: &[
        (
            "theft",
            &[
                "stöld",
                "stölder",
                "tillgrepp",
                "snatteri",
                "fickstöld",
                "cykelstöld",
                "butiksstöld",
            ],
        ),
        ("burglary", &["inbrott", "bostadsinbrott", "stöld/inbrott"]),
        ("vandalism", &["skadegörelse", "åverkan"]),
        (
            "assault",
            &["misshandel", "våld", "våldsbrott", "hot", "olaga hot"],
        ),
        ("drugs", &["narkotika", "narkotikabrott", "droger"]),
        ("fraud", &["bedrägeri", "bedrägerier"]),
        (
            "vehicle_theft",
            &["fordonsstöld", "bilstöld", "stöld av fordon"],
        ),
        ("robbery", &["rån"]),
        (
            "disturbance",
            &["ordningsstörning", "störning", "bråk", "ofredande"],
        ),
        (
            "traffic",
            &["trafik", "trafikolycka", "trafikbrott", "rattfylleri"],
        ),
        ("other", &["övrigt", "annat", "övrig", "annan"]),
    ],
    prefixes: crate::polisen::EVENT_TYPES,
};

static REASON: Vocabulary = Vocabulary {
    id: "reasons",
    values: Reason::NAMES,
    swedish: &[
        (
            "lighting",
            &["belysning", "dålig belysning", "mörker", "mörkt"],
        ),
        (
            "vegetation",
            &["vegetation", "växtlighet", "buskage", "sly"],
        ),
        (
            "litter_graffiti",
            &[
                "nedskräpning",
                "skräp",
                "klotter",
                "skräp och klotter",
                "nedskräpning och klotter",
            ],
        ),
        ("people", &["människor", "personer", "folk", "grupper"]),
        ("traffic", &["trafik"]),
        ("other", &["övrigt", "annat", "annan"]),
    ],
    prefixes: &[],
};

static REPORT_SOURCE: Vocabulary = Vocabulary {
    id: "report_source",
    values: ReportSource::NAMES,
    swedish: &[
        ("safety_walk", &["trygghetsvandring", "trygghetsvandringar"]),
        (
            "survey",
            &["enkät", "trygghetsundersökning", "undersökning"],
        ),
        (
            "public",
            &["allmänheten", "invånare", "medborgare", "allmänhet"],
        ),
        ("staff", &["personal", "anställd", "medarbetare"]),
    ],
    prefixes: &[],
};

static TIME_OF_DAY: Vocabulary = Vocabulary {
    id: "time_of_day",
    values: TimeOfDay::NAMES,
    swedish: &[
        ("morning", &["morgon", "förmiddag"]),
        ("day", &["dag", "dagtid", "eftermiddag"]),
        ("evening", &["kväll", "kvällstid"]),
        ("night", &["natt", "nattetid"]),
    ],
    prefixes: &[],
};

static REPORT_STATUS: Vocabulary = Vocabulary {
    id: "report_status",
    values: ReportStatus::NAMES,
    swedish: &[
        ("pending", &["väntar", "ogranskad", "väntar på granskning"]),
        ("approved", &["godkänd", "godkänt"]),
        ("rejected", &["avvisad", "avvisat", "nekad"]),
    ],
    prefixes: &[],
};

static UNIT_TYPE: Vocabulary = Vocabulary {
    id: "unit_type",
    values: UnitType::NAMES,
    swedish: &[
        ("police", &["polis", "polisen"]),
        (
            "security_guard",
            &["ordningsvakt", "ordningsvakter", "väktare", "vakt"],
        ),
        ("night_walkers", &["nattvandrare", "nattvandring"]),
        (
            "field_worker",
            &[
                "fältarbetare",
                "fältassistent",
                "fältassistenter",
                "fältare",
            ],
        ),
        (
            "municipal_staff",
            &[
                "kommunen",
                "kommunal personal",
                "kommunanställd",
                "trygghetsvärd",
                "trygghetsvärdar",
            ],
        ),
        ("other", &["övrigt", "annan", "annat"]),
    ],
    prefixes: &[],
};

static MEASURE_KIND: Vocabulary = Vocabulary {
    id: "measure_kind",
    values: MeasureKind::NAMES,
    swedish: &[
        (
            "lighting",
            &["belysning", "gatubelysning", "ny belysning", "ljus"],
        ),
        (
            "vegetation",
            &["vegetation", "röjning", "beskärning", "växtlighet"],
        ),
        ("cleaning", &["städning", "renhållning", "skräpplockning"]),
        ("graffiti", &["klotter", "klottersanering"]),
        (
            "camera",
            &["kamera", "kameraövervakning", "kamerabevakning"],
        ),
        ("other", &["övrigt", "annat", "annan"]),
    ],
    prefixes: &[],
};

static MEASURE_STATUS: Vocabulary = Vocabulary {
    id: "measure_status",
    values: MeasureStatus::NAMES,
    swedish: &[
        ("proposed", &["föreslagen", "förslag"]),
        ("planned", &["planerad", "planerat"]),
        ("in_progress", &["pågående", "pågår", "påbörjad"]),
        ("done", &["klar", "genomförd", "utförd", "färdig"]),
        ("closed", &["stängd", "avslutad utan åtgärd"]),
        ("rejected", &["avslagen", "avvisad", "nekad"]),
    ],
    prefixes: &[],
};

/// Every vocabulary's Swedish names and prefixes, folded once.
struct Folded {
    names: HashMap<&'static str, HashMap<String, &'static str>>,
    prefixes: HashMap<&'static str, Vec<(String, Option<&'static str>)>>,
}

static FOLDED: std::sync::LazyLock<Folded> = std::sync::LazyLock::new(|| {
    let all = [
        &CATEGORY,
        &REASON,
        &REPORT_SOURCE,
        &TIME_OF_DAY,
        &REPORT_STATUS,
        &UNIT_TYPE,
        &MEASURE_KIND,
        &MEASURE_STATUS,
    ];
    let mut names = HashMap::new();
    let mut prefixes = HashMap::new();
    for v in all {
        for (value, list) in v.swedish {
            for name in *list {
                names
                    .entry(v.id)
                    .or_insert_with(HashMap::new)
                    .insert(fold(name), *value);
            }
        }
        prefixes.insert(
            v.id,
            v.prefixes.iter().map(|(p, c)| (fold(p), *c)).collect(),
        );
    }
    Folded { names, prefixes }
});

/// The vocabulary fields of each kind (property names, which are also the
/// CSV's logical column names).
fn vocabulary(kind: Kind, field: &str) -> Option<&'static Vocabulary> {
    Some(match (kind, field) {
        (Kind::Incident, "category") => &CATEGORY,
        (Kind::Report, "reasons") => &REASON,
        (Kind::Report, "source") => &REPORT_SOURCE,
        (Kind::Report, "time_of_day") => &TIME_OF_DAY,
        (Kind::Report, "status") => &REPORT_STATUS,
        (Kind::Presence, "unit_type") => &UNIT_TYPE,
        (Kind::Measure, "kind") => &MEASURE_KIND,
        (Kind::Measure, "status") => &MEASURE_STATUS,
        _ => return None,
    })
}

fn fields_of(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Incident => &["category"],
        Kind::Report => &["reasons", "source", "time_of_day", "status"],
        Kind::Presence => &["unit_type"],
        Kind::Measure => &["kind", "status"],
        Kind::Place | Kind::Area => &[],
    }
}

/// Lower case, å/ä → a, ö → o, é → e, ü → u, and runs of spaces, `-` and
/// `_` as one `_`: `Vehicle theft`, `vehicle-theft` and `vehicle_theft`
/// are one key, as are `Skadegörelse` and `skadegorelse`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s.trim().chars().flat_map(char::to_lowercase) {
        let c = match c {
            'å' | 'ä' | 'à' | 'á' | 'â' | 'æ' => 'a',
            'ö' | 'ø' | 'ó' | 'ô' => 'o',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'ü' | 'ú' => 'u',
            ' ' | '-' | '_' | '\u{a0}' => {
                gap = true;
                continue;
            }
            c => c,
        };
        if gap && !out.is_empty() {
            out.push('_');
        }
        gap = false;
        out.push(c);
    }
    out
}

impl Vocabulary {
    fn wire(&self, name: &str) -> Option<&'static str> {
        self.values.iter().copied().find(|v| *v == name)
    }

    /// The wire name `raw` stands for, without the user's maps.
    fn known(&self, raw: &str) -> Option<&'static str> {
        if let Some(v) = self.wire(raw) {
            return Some(v);
        }
        let key = fold(raw);
        if let Some(v) = self.wire(&key) {
            return Some(v);
        }
        let tables = &*FOLDED;
        if let Some(v) = tables.names.get(self.id).and_then(|m| m.get(key.as_str())) {
            return self.wire(v);
        }
        tables
            .prefixes
            .get(self.id)?
            .iter()
            .find(|(prefix, _)| key.starts_with(prefix.as_str()))
            .and_then(|(_, v)| *v)
    }

    fn listing(&self) -> String {
        self.values
            .iter()
            .map(|v| match self.swedish.iter().find(|(w, _)| w == v) {
                Some((_, names)) if !names.is_empty() => format!("{v} ({})", names[0]),
                _ => (*v).to_owned(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What the user mapped: per field, folded source value → wire name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValueMaps(HashMap<String, HashMap<String, &'static str>>);

impl ValueMaps {
    /// Adds `category=Misshandel:assault,Rån:robbery`. A piece without `:`
    /// belongs to the next one, so values with commas (the police feed's
    /// `Motorfordon, stöld`) can be mapped too. The target may be a wire
    /// name or a Swedish name of the field's vocabulary.
    pub fn add(&mut self, kind: Kind, spec: &str, field: &str) -> Result<()> {
        let (name, pairs) = spec.split_once('=').ok_or_else(|| {
            Error::invalid(
                field,
                format!("`{spec}` is not FIELD=VALUE:NEW,…, e.g. category=Misshandel:assault"),
            )
        })?;
        let name = name.trim();
        let mut pending = String::new();
        for piece in pairs.split(',') {
            if !pending.is_empty() {
                pending.push(',');
            }
            pending.push_str(piece);
            if !piece.contains(':') {
                continue;
            }
            let (from, to) = pending.rsplit_once(':').unwrap_or_default();
            self.insert(kind, name, from, to, field)?;
            pending.clear();
        }
        if !pending.trim().is_empty() {
            return Err(Error::invalid(
                field,
                format!("`{}` has no `:NEW` value", pending.trim()),
            ));
        }
        Ok(())
    }

    /// Reads a mapping file: rows `field,value,new` (any delimiter, any
    /// encoding `decode` reads, an optional header row).
    pub fn add_file(&mut self, kind: Kind, text: &str, field: &str) -> Result<()> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .delimiter(super::text::detect_delimiter(text))
            .from_reader(text.as_bytes());
        for (i, record) in reader.records().enumerate() {
            let line = i + 1;
            let record = record.map_err(|e| Error::invalid(field, format!("line {line}: {e}")))?;
            let cells: Vec<&str> = record.iter().collect();
            match cells.as_slice() {
                [] | [""] => {}
                [f, ..] if i == 0 && matches!(fold(f).as_str(), "field" | "falt" | "kolumn") => {}
                [name, from, to] => self
                    .insert(kind, name, from, to, field)
                    .map_err(|e| Error::invalid(field, format!("line {line}: {}", e.reason())))?,
                _ => {
                    return Err(Error::invalid(
                        field,
                        format!("line {line}: expected three columns: field, value, new value"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn insert(&mut self, kind: Kind, name: &str, from: &str, to: &str, field: &str) -> Result<()> {
        let name = if name == "reason" { "reasons" } else { name };
        let vocab = vocabulary(kind, name).ok_or_else(|| {
            Error::invalid(
                field,
                format!(
                    "`{name}` is not a field of {} that takes named values; use {}",
                    kind.collection(),
                    fields_of(kind).join(", ")
                ),
            )
        })?;
        let target = vocab.known(to.trim()).ok_or_else(|| {
            Error::invalid(
                field,
                format!(
                    "{name}: `{}` is not a value Trygg knows; use one of {}",
                    to.trim(),
                    vocab.listing()
                ),
            )
        })?;
        let key = fold(from);
        if key.is_empty() {
            return Err(Error::invalid(
                field,
                format!("{name}: an empty value cannot be mapped"),
            ));
        }
        let map = self.0.entry(name.to_owned()).or_default();
        if let Some(previous) = map.get(&key)
            && *previous != target
        {
            return Err(Error::invalid(
                field,
                format!(
                    "{name}: `{}` is mapped to both {previous} and {target}",
                    from.trim()
                ),
            ));
        }
        map.insert(key, target);
        Ok(())
    }

    fn get(&self, field: &str, raw: &str) -> Option<&'static str> {
        self.0.get(field)?.get(&fold(raw)).copied()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The wire name of a value of a vocabulary field: the user's map first,
/// then Trygg's and the Swedish names. `None` for a field that is not a
/// vocabulary (the value is then left as it is).
///
/// # Errors
/// An unknown value, naming `properties.FIELD`, the value and what is known.
pub fn resolve(
    kind: Kind,
    field: &str,
    raw: &str,
    maps: &ValueMaps,
) -> Option<Result<&'static str>> {
    let vocab = vocabulary(kind, field)?;
    if let Some(v) = vocab.wire(raw) {
        return Some(Ok(v));
    }
    Some(
        maps.get(field, raw)
            .or_else(|| vocab.known(raw))
            .ok_or_else(|| {
                Error::invalid(
                    format!("properties.{field}"),
                    format!(
                        "unknown value \"{}\"; known: {}; or map it with --map {field}={}:VALUE",
                        raw.trim(),
                        vocab.listing(),
                        raw.trim()
                    ),
                )
            }),
    )
}

/// A police.uk crime type or police feed event type, mapped by the user.
pub fn mapped_category(raw: &str, maps: &ValueMaps) -> Option<IncidentCategory> {
    maps.get("category", raw)
        .and_then(|v| IncidentCategory::parse(v, "category").ok())
}

/// Rewrites the vocabulary fields of a GeoJSON `properties` object to wire
/// names (a list field item by item). Values that are not text are left
/// for the validation to refuse.
pub fn translate_properties(
    kind: Kind,
    properties: &mut serde_json::Map<String, serde_json::Value>,
    maps: &ValueMaps,
) -> Result<()> {
    use serde_json::Value;
    for field in fields_of(kind) {
        match properties.get_mut(*field) {
            Some(Value::String(s)) => {
                if let Some(v) = resolve(kind, field, s, maps) {
                    *s = v?.to_owned();
                }
            }
            Some(Value::Array(items)) => {
                for (i, item) in items.iter_mut().enumerate() {
                    if let Value::String(s) = item
                        && let Some(v) = resolve(kind, field, s, maps)
                    {
                        *s = v
                            .map_err(|e| {
                                Error::invalid(format!("properties.{field}[{i}]"), e.reason())
                            })?
                            .to_owned();
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [(Kind, &str); 8] = [
        (Kind::Incident, "category"),
        (Kind::Report, "reasons"),
        (Kind::Report, "source"),
        (Kind::Report, "time_of_day"),
        (Kind::Report, "status"),
        (Kind::Presence, "unit_type"),
        (Kind::Measure, "kind"),
        (Kind::Measure, "status"),
    ];

    fn category(raw: &str) -> Result<&'static str> {
        resolve(Kind::Incident, "category", raw, &ValueMaps::default()).unwrap()
    }

    #[test]
    fn swedish_names_are_accepted_in_any_case_with_or_without_diacritics() {
        for (raw, wire) in [
            ("Misshandel", "assault"),
            ("trafikolycka", "traffic"),
            ("Stöld", "theft"),
            ("STOLD", "theft"),
            ("Skadegörelse", "vandalism"),
            ("skadegorelse", "vandalism"),
            ("Rån", "robbery"),
            ("Vehicle theft", "vehicle_theft"),
            ("theft", "theft"),
            // The police feed's own types, by prefix.
            ("Misshandel, grov", "assault"),
            ("Motorfordon, stöld", "vehicle_theft"),
            ("Stöld/inbrott", "burglary"),
            ("Mord/dråp, försök", "assault"),
        ] {
            assert_eq!(category(raw).unwrap(), wire, "{raw}");
        }
        let unit = |s| resolve(Kind::Presence, "unit_type", s, &ValueMaps::default()).unwrap();
        assert_eq!(unit("Nattvandrare").unwrap(), "night_walkers");
        assert_eq!(unit("Ordningsvakt").unwrap(), "security_guard");
        let measure = |s| resolve(Kind::Measure, "status", s, &ValueMaps::default()).unwrap();
        assert_eq!(measure("Pågående").unwrap(), "in_progress");
        assert_eq!(measure("genomförd").unwrap(), "done");
    }

    #[test]
    fn an_unknown_value_names_the_field_the_value_and_what_is_known() {
        let err = category("Misshandlat").unwrap_err();
        assert_eq!(err.field(), "properties.category");
        assert!(
            err.reason().starts_with(
                "unknown value \"Misshandlat\"; known: theft (stöld), burglary (inbrott)"
            ),
            "{err}"
        );
        assert!(
            err.reason().contains("--map category=Misshandlat:VALUE"),
            "{err}"
        );
        // The feed's nightly summaries are not incidents: not a category.
        assert!(category("Sammanfattning natt").is_err());
    }

    #[test]
    fn no_two_names_of_different_values_fold_alike() {
        for (kind, field) in ALL {
            let vocab = vocabulary(kind, field).unwrap();
            let mut seen: HashMap<String, &str> = HashMap::new();
            for (value, names) in vocab.swedish {
                assert!(vocab.wire(value).is_some(), "{field}: {value} is no value");
                for name in names.iter().copied().chain([*value]) {
                    let key = fold(name);
                    if let Some(other) = seen.insert(key.clone(), value) {
                        assert_eq!(other, *value, "{field}: `{name}` folds to {key}, taken");
                    }
                }
            }
            for value in vocab.values {
                assert_eq!(vocab.known(value), Some(*value));
            }
        }
    }

    #[test]
    fn user_maps_win_and_are_checked_when_given() {
        let mut maps = ValueMaps::default();
        maps.add(
            Kind::Incident,
            "category=Misshandlat:assault,Motorfordon, stöld:other,Klotter:skadegörelse",
            "--map",
        )
        .unwrap();
        let r = |s| {
            resolve(Kind::Incident, "category", s, &maps)
                .unwrap()
                .unwrap()
        };
        assert_eq!(r("misshandlat"), "assault");
        assert_eq!(
            r("Motorfordon, stöld"),
            "other",
            "the map wins over the feed's type"
        );
        assert_eq!(r("KLOTTER"), "vandalism", "a Swedish target name");
        assert_eq!(
            mapped_category("motorfordon, stöld", &maps),
            Some(IncidentCategory::Other)
        );
        for bad in [
            "category=Rån:robery",
            "colour=Röd:red",
            "category",
            "category=Rån",
            "category=Rån:robbery,rån:theft",
        ] {
            let err = maps.add(Kind::Incident, bad, "--map").unwrap_err();
            assert_eq!(err.field(), "--map", "{bad}: {err}");
        }
        assert!(
            ValueMaps::default()
                .add(
                    Kind::Presence,
                    "unit_type=Trygghetsteam:municipal_staff",
                    "--map"
                )
                .is_ok()
        );
    }

    #[test]
    fn a_mapping_file_reads_with_or_without_a_header() {
        let mut maps = ValueMaps::default();
        maps.add_file(
            Kind::Incident,
            "fält;värde;ny\ncategory;Misshandlat;assault\ncategory;\"Motorfordon, stöld\";vehicle_theft\n",
            "--map-file",
        )
        .unwrap();
        assert_eq!(maps.get("category", "misshandlat"), Some("assault"));
        assert_eq!(
            maps.get("category", "Motorfordon, stöld"),
            Some("vehicle_theft")
        );
        let err = maps
            .add_file(Kind::Incident, "category;x;nonsense\n", "--map-file")
            .unwrap_err();
        assert!(err.reason().starts_with("line 1: category:"), "{err}");
    }

    #[test]
    fn geojson_properties_are_translated_item_by_item() {
        let mut p =
            serde_json::json!({"reasons": ["Belysning", "buskage"], "source": "Trygghetsvandring"});
        let map = p.as_object_mut().unwrap();
        translate_properties(Kind::Report, map, &ValueMaps::default()).unwrap();
        assert_eq!(p["reasons"], serde_json::json!(["lighting", "vegetation"]));
        assert_eq!(p["source"], "safety_walk");
        let mut p = serde_json::json!({"reasons": ["lighting", "mörkerseende"]});
        let err = translate_properties(
            Kind::Report,
            p.as_object_mut().unwrap(),
            &ValueMaps::default(),
        )
        .unwrap_err();
        assert_eq!(err.field(), "properties.reasons[1]");
    }
}
