//! The Swedish Police events feed as an import: its JSON, or the same
//! fields as CSV (`id, datetime, type, location_name, lat, lon, url, name`).
//! Only the service area's own events are kept; a user's `--map` of an
//! event type wins over Trygg's own reading of it.

use serde_json::Value;

use super::names::{self, fold};
use super::table::Table;
use super::{Collector, Reject, Row, json_fatal, validate};
use crate::polisen::{Event, Location};
use crate::service_area::ServiceArea;

/// A police event and where it was read from.
type LocatedEvent = (Row, Event);

/// Police feed events from its fields as CSV (`id, datetime, type,
/// location_name, lat, lon, url, name`), each with its line.
fn events_from_csv(
    text: &str,
    delimiter: Option<u8>,
) -> std::result::Result<(Vec<LocatedEvent>, Vec<Reject>), Reject> {
    let mut table = Table::open(text, delimiter)?;
    let col = |name: &str| {
        let folded = fold(name);
        table.headers.iter().position(|h| fold(h) == folded)
    };
    let (Some(id), Some(datetime), Some(kind), Some(place), Some(lat), Some(lon), Some(name)) = (
        col("id"),
        col("datetime"),
        col("type"),
        col("location_name"),
        col("lat"),
        col("lon"),
        col("name"),
    ) else {
        return Err(Reject {
            location: format!("line {}", table.header_line),
            field: "header".into(),
            reason: "not the police feed as CSV: needs id, datetime, type, location_name, lat, lon, name".into(),
        });
    };
    let url = col("url");
    let mut events = Vec::new();
    let mut rejects = Vec::new();
    while let Some(next) = table.next() {
        let (line, r) = match next {
            Ok(x) => x,
            Err(reject) => {
                rejects.push(reject);
                continue;
            }
        };
        let cell = |i: usize| r.get(i).unwrap_or("").to_owned();
        let Ok(event_id) = cell(id).parse::<i64>() else {
            rejects.push(Reject {
                location: format!("line {line}"),
                field: "id".into(),
                reason: format!("`{}` is not a number", cell(id)),
            });
            continue;
        };
        events.push((
            Row::Line(line),
            Event {
                id: event_id,
                datetime: cell(datetime),
                name: cell(name),
                kind: cell(kind),
                url: url.map(cell).unwrap_or_default(),
                location: Location {
                    name: cell(place),
                    gps: format!("{},{}", cell(lat), cell(lon)),
                },
            },
        ));
    }
    Ok((events, rejects))
}

pub(super) fn parse(text: &str, area: &ServiceArea, c: &mut Collector) {
    let opts = c.opts;
    let json = text.trim_start().starts_with(['[', '{']);
    let events = if json {
        match crate::polisen::parse_events(text) {
            Ok(e) => e
                .into_iter()
                .enumerate()
                .map(|(index, e)| (Row::Event { index, id: e.id }, e))
                .collect(),
            Err(e) => {
                c.out.fatal = Some(match serde_json::from_str::<Value>(text) {
                    Err(json) => json_fatal(&json),
                    Ok(_) => Reject::from_error("file".into(), &e),
                });
                return;
            }
        }
    } else {
        let Some((events, rejects)) = c.or_fatal(events_from_csv(text, opts.delimiter)) else {
            return;
        };
        c.out.rejects.extend(rejects);
        events
    };
    for (i, (location, event)) in events.iter().enumerate() {
        let location = *location;
        // Only the service area's own events: the feed places every other
        // municipality's at its own midpoint, which is not ours to map.
        if event.municipality() != area.name {
            c.out.skipped += 1;
            continue;
        }
        let mapped = names::mapped_category(&event.kind, &opts.maps);
        let incident = match mapped {
            Some(category) => event.incident_as(i, category).map(Some),
            None if event.is_summary() && opts.include_summaries => event.to_summary_incident(i),
            None => event.to_incident(i),
        };
        match incident {
            Ok(Some(f)) => match validate(f, Some(area), c.now, "location.gps") {
                Ok(f) => c.accept(location, f),
                Err(e) => c.reject(location, &e),
            },
            Ok(None) => c.out.skipped += 1,
            Err(e) => c.reject(location, &e),
        }
    }
}
