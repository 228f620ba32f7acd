//! `trygg import` and `trygg export`.

use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use trygg_core::Kind;
use trygg_core::import::{self, Columns, Crs, Format, Options, Reject};
use trygg_core::query::ListQuery;
use trygg_core::service_area::ServiceArea;
use trygg_store::{Actor, Store};

use crate::{Error, Result};

pub struct ImportArgs<'a> {
    pub file: &'a Path,
    pub kind: Kind,
    pub format: Format,
    pub crs: Option<&'a str>,
    pub columns: Option<&'a str>,
    pub source: Option<&'a str>,
    pub skip_invalid: bool,
    pub rejects: Option<&'a Path>,
    pub dry_run: bool,
    pub include_summaries: bool,
}

fn write_rejects(path: &Path, rejects: &[Reject]) -> Result<()> {
    let mut out = String::from("location,field,reason\n");
    for r in rejects {
        let cells = [&r.location, &r.field, &r.reason].map(|c| trygg_core::export::csv_field(c));
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    std::fs::write(path, out)?;
    Ok(())
}

/// Reads, validates and writes a file in one transaction: all or nothing
/// (with `--skip-invalid`, all valid rows or nothing, the rest listed in
/// the rejects file with their line and reason).
pub async fn import(store: &dyn Store, area: &ServiceArea, a: ImportArgs<'_>) -> Result<String> {
    let bytes =
        std::fs::read(a.file).map_err(|e| Error::Usage(format!("{}: {e}", a.file.display())))?;
    let mut opts = Options::new(a.kind, a.format);
    if let Some(crs) = a.crs {
        opts.crs = Crs::parse(crs, "--crs")?;
    }
    if let Some(columns) = a.columns {
        opts.columns = Columns::parse(columns, "--columns")?;
    }
    if let Some(source) = a.source {
        opts.source = source.to_owned();
    }
    opts.include_summaries = a.include_summaries;
    let name = a.file.display().to_string();
    let parsed = import::parse(&bytes, &opts, area, Utc::now());
    if let Some(fatal) = &parsed.fatal {
        return Err(Error::Usage(format!(
            "{name}: {fatal}; nothing was imported"
        )));
    }
    if !parsed.rejects.is_empty() {
        if !a.skip_invalid {
            let more = parsed.rejects.len() - 1;
            let tail = if more > 0 {
                format!(" (and {more} more rows)")
            } else {
                String::new()
            };
            return Err(Error::Usage(format!(
                "{name}: {}{tail}; nothing was imported (--skip-invalid imports the valid rows and lists the others)",
                parsed.rejects[0]
            )));
        }
        let path = a
            .rejects
            .map_or_else(|| a.file.with_extension("rejects.csv"), Path::to_path_buf);
        write_rejects(&path, &parsed.rejects)?;
    }
    let bar = ProgressBar::new(parsed.features.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} writing {pos}/{len} [{bar:30}] {elapsed_precise}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let progress_bar = Arc::new(bar);
    let tick = Arc::clone(&progress_bar);
    let actor = Actor::system(&format!("import:{name}"));
    let summary = store
        .import_with(
            &parsed.features,
            &actor,
            Utc::now(),
            a.dry_run,
            &move |done| tick.set_position(done),
        )
        .await?;
    progress_bar.finish_and_clear();
    Ok(format!(
        "{}{name}: {} inserted, {} updated, {} unchanged, {} skipped, {} rejected{}",
        if a.dry_run {
            "dry run, nothing written — "
        } else {
            ""
        },
        summary.inserted,
        summary.updated,
        summary.unchanged,
        parsed.skipped,
        parsed.rejects.len(),
        if parsed.rejects.is_empty() {
            String::new()
        } else {
            " (see the rejects file)".into()
        },
    ))
}

/// Every feature of a kind matching the query, page by page.
pub async fn collect(
    store: &dyn Store,
    kind: Kind,
    params: &[(String, String)],
) -> Result<Vec<trygg_core::Feature>> {
    let mut q = ListQuery::parse(kind, params)?;
    q.limit = trygg_core::query::MAX_LIMIT;
    let mut all = Vec::new();
    loop {
        // The command line is the operator's, with the database's own
        // rights: every partner's records.
        let page = store
            .list(kind, &q, &trygg_core::access::View::everything())
            .await?;
        all.extend(page.features);
        match page.next_after {
            Some(after) => q.after = Some(after),
            None => return Ok(all),
        }
    }
}

pub async fn export(
    store: &dyn Store,
    kind: Kind,
    csv: bool,
    params: &[(String, String)],
) -> Result<String> {
    let features = collect(store, kind, params).await?;
    Ok(if csv {
        trygg_core::export::csv(kind, &features)
    } else {
        trygg_core::export::geojson(&features)
    })
}
