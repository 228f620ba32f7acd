//! `trygg import` and `trygg export`.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use trygg_core::Kind;
use trygg_core::import::{self, Format, Options, Reject, Tz};
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
    /// Where rejected rows go; default: the working directory, named after
    /// the file (`kommun.rejects.csv`).
    pub rejects: Option<&'a Path>,
    pub dry_run: bool,
    pub include_summaries: bool,
    /// `,` `;` `tab`; detected when `None`.
    pub delimiter: Option<&'a str>,
    /// `utf-8`, `windows-1252` …; detected when `None`.
    pub encoding: Option<&'a str>,
    /// `category=Misshandel:assault,Rån:robbery`, each `--map`.
    pub maps: &'a [String],
    /// A CSV of `field,value,new value` rows.
    pub map_file: Option<&'a Path>,
    /// The length of a presence without an end (`15m`).
    pub default_duration: Option<&'a str>,
    /// The zone of times without an offset (the service area's);
    /// Europe/Stockholm when `None`.
    pub timezone: Option<Tz>,
}

impl<'a> ImportArgs<'a> {
    /// A plain import of a file: no options, all or nothing.
    pub fn new(file: &'a Path, kind: Kind, format: Format) -> Self {
        Self {
            file,
            kind,
            format,
            crs: None,
            columns: None,
            source: None,
            skip_invalid: false,
            rejects: None,
            dry_run: false,
            include_summaries: false,
            delimiter: None,
            encoding: None,
            maps: &[],
            map_file: None,
            default_duration: None,
            timezone: None,
        }
    }

    /// The import options, each checked and named by its flag.
    fn options(&self) -> Result<Options> {
        let mut opts = Options::new(self.kind, self.format);
        let given = [
            ("crs", self.crs),
            ("columns", self.columns),
            ("source", self.source),
            ("delimiter", self.delimiter),
            ("encoding", self.encoding),
            ("default-duration", self.default_duration),
        ];
        for (name, value) in given {
            if let Some(v) = value {
                opts.set(name, v, &format!("--{name}"))?;
            }
        }
        for map in self.maps {
            opts.set("map", map, "--map")?;
        }
        if let Some(path) = self.map_file {
            let bytes = std::fs::read(path)
                .map_err(|e| Error::Usage(format!("--map-file {}: {e}", path.display())))?;
            let text = import::decode(&bytes, import::TextEncoding::Detect).map_err(|r| {
                Error::Usage(format!("--map-file {}: {}", path.display(), r.reason))
            })?;
            opts.maps.add_file(
                self.kind,
                &text.text,
                &format!("--map-file {}", path.display()),
            )?;
        }
        opts.include_summaries = self.include_summaries;
        if let Some(tz) = self.timezone {
            opts.timezone = tz;
        }
        Ok(opts)
    }
}

/// Where the rejects of `file` go unless `--rejects` says: the working
/// directory, `kommun.rejects.csv` for `kommun.csv` or `kommun.csv.gz`.
pub fn default_rejects_path(file: &Path) -> std::path::PathBuf {
    let name = file
        .file_name()
        .map_or_else(|| "import".to_owned(), |n| n.to_string_lossy().into_owned());
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    let stem = Path::new(name)
        .file_stem()
        .map_or_else(|| name.to_owned(), |s| s.to_string_lossy().into_owned());
    std::path::PathBuf::from(format!("{stem}.rejects.csv"))
}

/// The rejects file, opened before anything is imported so that a path
/// that cannot be written stops the import instead of following it.
fn open_rejects(path: &Path) -> Result<std::fs::File> {
    std::fs::File::create(path).map_err(|e| {
        Error::Usage(format!(
            "--rejects {}: {e}; nothing was imported",
            path.display()
        ))
    })
}

fn write_rejects(mut file: std::fs::File, path: &Path, rejects: &[Reject]) -> Result<()> {
    use std::io::Write as _;
    let mut out = String::from("location,field,reason\n");
    for r in rejects {
        let cells = [&r.location, &r.field, &r.reason].map(|c| trygg_core::export::csv_field(c));
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    file.write_all(out.as_bytes())
        .map_err(|e| Error::Usage(format!("the rejects file {}: {e}", path.display())))?;
    Ok(())
}

/// Reads, validates and writes a file in one transaction: all or nothing
/// (with `--skip-invalid`, all valid rows or nothing, the rest listed in
/// the rejects file with their line and reason).
pub async fn import(store: &dyn Store, area: &ServiceArea, a: ImportArgs<'_>) -> Result<String> {
    let name = a.file.display().to_string();
    let bytes = std::fs::read(a.file).map_err(|e| Error::Usage(format!("{name}: {e}")))?;
    let opts = a.options()?;
    let parsed = import::parse(&bytes, &opts, area, Utc::now());
    if let Some(fatal) = &parsed.fatal {
        return Err(Error::Usage(format!(
            "{name}: {fatal}; nothing was imported"
        )));
    }
    let mut rejects_path = None;
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
            .map_or_else(|| default_rejects_path(a.file), Path::to_path_buf);
        rejects_path = Some((open_rejects(&path)?, path));
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
        .await;
    progress_bar.finish_and_clear();
    // Filled once the records are written; a failed import leaves no list
    // that speaks as if the other rows were imported.
    let summary = match summary {
        Ok(s) => s,
        Err(e) => {
            if let Some((file, path)) = rejects_path {
                drop(file);
                let _ = std::fs::remove_file(path);
            }
            return Err(e.into());
        }
    };
    let mut rejects_note = String::new();
    if let Some((file, path)) = rejects_path {
        write_rejects(file, &path, &parsed.rejects)?;
        rejects_note = format!(" (listed in {})", path.display());
    }
    let mut out = format!(
        "{}{name}: {} inserted, {} updated, {} unchanged, {} skipped, {} rejected{rejects_note}",
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
    );
    if parsed.merged > 0 {
        let _ = write!(
            out,
            "; {} rows repeated an earlier row (same id, same values) and were merged into it",
            parsed.merged
        );
    }
    for note in &parsed.notes {
        let _ = write!(out, "\nnote: {note}");
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_go_to_the_working_directory_named_after_the_file() {
        for (file, rejects) in [
            ("/data/kommun.csv", "kommun.rejects.csv"),
            ("kommun.csv.gz", "kommun.rejects.csv"),
            ("../in/narvaro 2024.txt", "narvaro 2024.rejects.csv"),
            ("districts.geojson", "districts.rejects.csv"),
        ] {
            assert_eq!(default_rejects_path(Path::new(file)), Path::new(rejects));
        }
    }
}
