//! The service area a database serves: recorded at first start, read by
//! every command after that, and changed only by `trygg service-area set`,
//! which re-checks every stored record against the new area first.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::Utc;
use trygg_core::Kind;
use trygg_core::service_area::{ServiceArea, Stored};
use trygg_store::{Actor, Store};

use crate::data::{self, AreaChoice};
use crate::{Error, Result};

/// What to pass when nothing is stored and nothing was given.
const WHAT_TO_PASS: &str = "pass --service-area with a municipality (`Linköping` or `0580`), several (`0580,0583,0586`), a county (`05` or `Östergötlands län`) or a boundary file (`area.geojson`), and --timezone if not Europe/Stockholm";

/// The area this database serves. A database that has none yet records
/// the one given (or, with `demo`, Linköping's), unless `dry_run`; one
/// given that differs from the stored one is refused, naming both.
pub async fn resolve(
    store: &dyn Store,
    choice: &AreaChoice,
    demo: bool,
    dry_run: bool,
) -> Result<ServiceArea> {
    let started = std::time::Instant::now();
    let given = choice.build()?;
    let area = if let Some(stored) = store.service_area().await? {
        let area = ServiceArea::from_stored(&stored, data::sweden()?)?;
        refuse_other(&area, &stored, given.as_ref(), choice)?;
        area
    } else {
        {
            let area = match given {
                Some(a) => a,
                None if demo => data::service_area(data::LINKOPING_CODE)?,
                None => {
                    return Err(Error::Usage(format!(
                        "this database does not know its service area yet: {WHAT_TO_PASS} (or --demo for Linköping's demo)"
                    )));
                }
            };
            if !dry_run {
                store
                    .set_service_area(&area.to_stored(), &Actor::system("first start"), Utc::now())
                    .await?;
                tracing::info!(service_area = %area.name, definition = %area.definition.key(), timezone = %area.timezone, "service area recorded in the database");
            }
            area
        }
    };
    tracing::info!(
        service_area = %area.name,
        municipalities = area.members.len(),
        elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
        "service area loaded"
    );
    Ok(area)
}

/// For commands that write no positions (users, tokens, exports): a
/// `--service-area` given must still be the database's own.
pub async fn check_given(store: &dyn Store, choice: &AreaChoice) -> Result<()> {
    if choice.selector.is_none() && choice.timezone.is_none() {
        return Ok(());
    }
    if let Some(stored) = store.service_area().await? {
        let area = ServiceArea::from_stored(&stored, data::sweden()?)?;
        refuse_other(&area, &stored, choice.build()?.as_ref(), choice)?;
    }
    Ok(())
}

fn refuse_other(
    area: &ServiceArea,
    stored: &Stored,
    given: Option<&ServiceArea>,
    choice: &AreaChoice,
) -> Result<()> {
    let differs = match given {
        Some(g) => !g.same_as(stored, choice.name.is_some()),
        None => choice
            .timezone
            .as_deref()
            .is_some_and(|tz| tz.trim() != stored.timezone),
    };
    if !differs {
        return Ok(());
    }
    let asked = given.map_or_else(
        || {
            format!(
                "time zone {}",
                choice.timezone.as_deref().unwrap_or_default()
            )
        },
        |g| describe(&g.to_stored()),
    );
    Err(Error::Usage(format!(
        "this database serves {}; the options ask for {asked}. Leave --service-area out to use the stored one, or change it deliberately with `trygg service-area set {}` (it re-checks every stored record)",
        describe(stored),
        given.map_or_else(|| area.definition.selector(), |g| g.definition.selector()),
    )))
}

fn describe(s: &Stored) -> String {
    format!("{} ({}, time zone {})", s.name, s.definition, s.timezone)
}

/// What to do with stored records that lie outside a new area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outside {
    /// Change nothing and list them (the default).
    Refuse,
    /// Keep them as they are; only new writes must lie inside.
    Keep,
    /// Delete them (each deletion audited).
    Delete,
}

/// A stored record the new area would refuse, and why.
#[derive(Debug, Clone)]
pub struct OutsideRecord {
    pub kind: Kind,
    pub id: uuid::Uuid,
    pub reason: String,
}

/// Every stored record the area's rule refuses (the same rule every write
/// passes: `ServiceArea::check_feature`).
pub async fn records_outside(store: &dyn Store, area: &ServiceArea) -> Result<Vec<OutsideRecord>> {
    let mut out = Vec::new();
    for kind in Kind::ALL {
        let ids: Vec<uuid::Uuid> = store.index_rows(kind).await?.iter().map(|r| r.id).collect();
        for chunk in ids.chunks(500) {
            for f in store
                .get_many(kind, chunk, None, &trygg_core::access::View::everything())
                .await?
            {
                if let Err(e) =
                    area.check_feature(&f.geometry, &f.attributes, "geometry.coordinates")
                {
                    out.push(OutsideRecord {
                        kind,
                        id: f.id,
                        reason: e.reason().to_owned(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// `trygg service-area set`: re-checks every record against the new area
/// and records it, or refuses with counts and examples.
pub async fn set(
    store: &dyn Store,
    choice: &AreaChoice,
    outside: Outside,
    dry_run: bool,
) -> Result<String> {
    let area = choice
        .build()?
        .ok_or_else(|| Error::Usage(format!("service-area set: {WHAT_TO_PASS}")))?;
    let before = store.service_area().await?;
    if before.as_ref().is_some_and(|b| area.same_as(b, true)) {
        return Ok(format!(
            "the database already serves {}",
            describe(&area.to_stored())
        ));
    }
    let records = records_outside(store, &area).await?;
    let mut report = String::new();
    if !records.is_empty() {
        let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &records {
            *by_kind.entry(r.kind.collection()).or_default() += 1;
        }
        let counts = by_kind
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut examples = String::new();
        for r in records.iter().take(5) {
            let _ = write!(examples, "\n  {} {}: {}", r.kind.as_str(), r.id, r.reason);
        }
        if dry_run && outside != Outside::Refuse {
            return Ok(format!(
                "dry run: {} stored records lie outside {} ({counts}) and would be {}; nothing was changed",
                records.len(),
                area.name,
                if outside == Outside::Delete {
                    "deleted"
                } else {
                    "kept"
                }
            ));
        }
        if outside == Outside::Refuse {
            return Err(Error::Usage(format!(
                "{} stored records lie outside {} ({counts}), for example:{examples}\nnothing was changed; pass --outside delete to delete them or --outside keep to keep them as they are",
                records.len(),
                area.name,
            )));
        }
        let _ = write!(
            report,
            "{} records outside the new area ({counts}) ",
            records.len()
        );
        if outside == Outside::Delete {
            let actor = Actor::system("service-area set");
            for r in &records {
                store.delete(r.kind, r.id, &actor, Utc::now()).await?;
            }
            report.push_str("deleted; ");
        } else {
            report.push_str("kept as they are; ");
        }
    }
    if dry_run {
        return Ok(format!(
            "dry run: every stored record lies inside {}; nothing was changed",
            describe(&area.to_stored())
        ));
    }
    store
        .set_service_area(
            &area.to_stored(),
            &Actor::system("service-area set"),
            Utc::now(),
        )
        .await?;
    Ok(format!(
        "{report}the database now serves {}{}; restart `trygg serve` to use it",
        describe(&area.to_stored()),
        before.map_or_else(String::new, |b| format!(" (was {})", describe(&b))),
    ))
}

/// `trygg service-area show`.
pub async fn show(store: &dyn Store) -> Result<String> {
    let Some(stored) = store.service_area().await? else {
        return Ok(format!("no service area recorded yet; {WHAT_TO_PASS}"));
    };
    let area = ServiceArea::from_stored(&stored, data::sweden()?)?;
    let mut out = describe(&stored);
    for m in &area.members {
        let _ = write!(out, "\n  {} {} ({})", m.code, m.name, m.county_name);
    }
    Ok(out)
}
