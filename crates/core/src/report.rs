//! The follow-up as people read it: CSV, a printable HTML page (internal
//! and public versions), an image for a social-media post (SVG, map and
//! chart), and an Atom feed of published periods for the municipal and
//! police websites. Pure string building; the server serves the results.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::analytics::followup::{Correction, FollowUp};
use crate::analytics::groups::GroupRow;
use crate::attrs::{IncidentCategory, MeasureKind};
use crate::bbox::Bbox;
use crate::index::HexCount;

/// What surrounds the figures on a page.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    /// The municipality, e.g. `Linköping`.
    pub municipality: String,
    /// RFC 3339, when the figures were published (None: not yet).
    pub published_at: Option<String>,
    pub generated_at: String,
    pub corrections: Vec<Correction>,
}

/// Escapes text for HTML and XML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn category_sv(c: IncidentCategory) -> &'static str {
    use IncidentCategory as C;
    match c {
        C::Theft => "Stöld",
        C::Burglary => "Inbrott",
        C::Vandalism => "Skadegörelse",
        C::Assault => "Våld",
        C::Drugs => "Narkotika",
        C::Fraud => "Bedrägeri",
        C::VehicleTheft => "Fordonsstöld",
        C::Robbery => "Rån",
        C::Disturbance => "Ordningsstörning",
        C::Traffic => "Trafik",
        C::Other => "Övrigt",
    }
}

pub fn measure_sv(k: MeasureKind) -> &'static str {
    match k {
        MeasureKind::Lighting => "Belysning",
        MeasureKind::Vegetation => "Vegetation",
        MeasureKind::Cleaning => "Städning",
        MeasureKind::Graffiti => "Klotter",
        MeasureKind::Camera => "Kamera",
        MeasureKind::Other => "Övrigt",
    }
}

/// The follow-up as the public may see it: no per-place dosage (it shows
/// where patrols go) and no hours per organisation.
pub fn public_value(f: &FollowUp) -> Value {
    let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.remove("places");
        if let Some(p) = o.get_mut("presence").and_then(Value::as_object_mut) {
            p.remove("hours_by_organisation");
        }
    }
    v
}

fn sum<K>(m: &std::collections::BTreeMap<K, u64>) -> u64 {
    m.values().sum()
}

fn group_text(r: &GroupRow) -> String {
    r.reports
        .shown()
        .map_or_else(|| "färre än k".to_owned(), |n| n.to_string())
}

/// One row per figure: `section,key,value,reference`, where the reference
/// is the same period a year earlier for incidents and the target for
/// visits to a place.
#[expect(
    clippy::too_many_lines,
    reason = "a linear list of rows reads best in one place"
)]
pub fn csv(f: &FollowUp, public: bool) -> String {
    let mut out = String::from("section,key,value,reference\n");
    let mut row = |section: &str, key: &str, value: String, before: String| {
        let _ = writeln!(
            out,
            "{section},{},{value},{before}",
            crate::export::csv_field(key)
        );
    };
    row("period", "label", f.period.label(), String::new());
    row(
        "presence",
        "hours",
        format!("{:.1}", f.presence.hours),
        String::new(),
    );
    row(
        "presence",
        "hours_at_places",
        format!("{:.1}", f.presence.hours_at_places),
        String::new(),
    );
    for (unit, h) in &f.presence.hours_by_unit_type {
        row(
            "presence_by_unit_type",
            unit.as_str(),
            format!("{h:.1}"),
            String::new(),
        );
    }
    if !public {
        for (org, h) in &f.presence.hours_by_organisation {
            row(
                "presence_by_organisation",
                org,
                format!("{h:.1}"),
                String::new(),
            );
        }
        for d in f.places.values() {
            row(
                "place_visits",
                &d.name,
                d.visits.to_string(),
                d.target_visits
                    .map(|t| format!("{t:.1}"))
                    .unwrap_or_default(),
            );
        }
    }
    row(
        "incidents",
        "total",
        f.incidents.total.current.to_string(),
        f.incidents.total.year_before.to_string(),
    );
    for (c, y) in &f.incidents.by_category {
        row(
            "incidents_by_category",
            c.as_str(),
            y.current.to_string(),
            y.year_before.to_string(),
        );
    }
    for (name, m) in [
        ("measures_done", &f.measures.done),
        (
            "measures_closed_without_being_done",
            &f.measures.closed_without_being_done,
        ),
        ("measures_rejected", &f.measures.rejected),
        ("measures_open_at_end", &f.measures.open_at_end),
    ] {
        for (k, n) in m {
            row(name, k.as_str(), n.to_string(), String::new());
        }
    }
    row(
        "reports",
        "received",
        f.reports.received.to_string(),
        String::new(),
    );
    row(
        "reports",
        "handled",
        f.reports.handled.to_string(),
        String::new(),
    );
    for (split, rows) in f.groups.iter().flat_map(|g| {
        [
            ("by_gender", &g.by_gender),
            ("by_age_band", &g.by_age_band),
            ("by_lgbtq", &g.by_lgbtq),
        ]
    }) {
        for (g, r) in rows {
            row(
                &format!("groups_{split}"),
                g,
                r.reports
                    .shown()
                    .map_or_else(|| "suppressed".to_owned(), |n| n.to_string()),
                String::new(),
            );
        }
    }
    out
}

/// A printable page (A4 with the report stylesheet). `public` leaves out
/// what only the partners may see.
#[expect(
    clippy::too_many_lines,
    reason = "a linear page template reads best in one place"
)]
pub fn html(f: &FollowUp, public: bool, meta: &Meta) -> String {
    let mut h = String::new();
    let title = format!(
        "Medborgarlöftet i {} – uppföljning {}",
        esc(&meta.municipality),
        f.period.label()
    );
    let _ = write!(
        h,
        "<!doctype html><html lang=\"sv\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title><link rel=\"stylesheet\" href=\"/css/report.css\"></head><body><main><h1>{title}</h1>"
    );
    let status = match &meta.published_at {
        Some(at) => format!("Publicerad {}. ", esc(at)),
        None => "Ej publicerad – siffrorna kan ändras. ".to_owned(),
    };
    let _ = write!(
        h,
        "<p class=\"meta\">{status}Framtagen {}. {}</p>",
        esc(&meta.generated_at),
        if public {
            "Offentlig version."
        } else {
            "Intern version: visas inte för allmänheten."
        }
    );
    if !meta.corrections.is_empty() {
        h.push_str("<section><h2>Rättelser sedan publiceringen</h2><table><thead><tr><th scope=\"col\">Uppgift</th><th scope=\"col\">Publicerat</th><th scope=\"col\">Nu</th></tr></thead><tbody>");
        for c in &meta.corrections {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.field),
                esc(&c.published.to_string()),
                esc(&c.current.to_string())
            );
        }
        h.push_str("</tbody></table></section>");
    }
    let _ = write!(
        h,
        "<section><h2>Trygghetsskapande närvaro</h2><p>{:.1} timmar närvaro, varav {:.1} timmar vid prioriterade platser.</p>",
        f.presence.hours, f.presence.hours_at_places
    );
    if !public && !f.places.is_empty() {
        h.push_str("<table><caption>Närvaro per prioriterad plats</caption><thead><tr><th scope=\"col\">Plats</th><th scope=\"col\">Besök</th><th scope=\"col\">Mål</th><th scope=\"col\">Minuter</th><th scope=\"col\">Median min/besök</th><th scope=\"col\">Andel 10–15 min</th><th scope=\"col\">Längsta uppehåll (h)</th></tr></thead><tbody>");
        for d in f.places.values() {
            let opt =
                |v: Option<f64>, p: usize| v.map_or_else(|| "–".to_owned(), |x| format!("{x:.p$}"));
            let _ = write!(
                h,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{:.0}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&d.name),
                d.visits,
                opt(d.target_visits, 1),
                d.total_minutes,
                opt(d.median_minutes, 1),
                d.koper_share
                    .map_or_else(|| "–".to_owned(), |s| format!("{:.0} %", s * 100.0)),
                opt(d.longest_gap_h, 1)
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</section><section><h2>Åtgärder i stadsmiljön</h2><table><thead><tr><th scope=\"col\">Slag</th><th scope=\"col\">Genomförda</th><th scope=\"col\">Avslutade utan genomförande</th><th scope=\"col\">Avslagna</th><th scope=\"col\">Pågående vid periodens slut</th></tr></thead><tbody>");
    for k in MeasureKind::ALL {
        let n = |m: &std::collections::BTreeMap<MeasureKind, u64>| m.get(k).copied().unwrap_or(0);
        let _ = write!(
            h,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            measure_sv(*k),
            n(&f.measures.done),
            n(&f.measures.closed_without_being_done),
            n(&f.measures.rejected),
            n(&f.measures.open_at_end)
        );
    }
    let _ = write!(
        h,
        "</tbody></table><p>Totalt {} genomförda och {} avslutade utan att genomföras.</p></section>",
        sum(&f.measures.done),
        sum(&f.measures.closed_without_being_done)
    );
    let _ = write!(
        h,
        "<section><h2>Anmälda händelser</h2><table><thead><tr><th scope=\"col\">Kategori</th><th scope=\"col\">{}</th><th scope=\"col\">Samma period året innan</th><th scope=\"col\">Förändring</th></tr></thead><tbody>",
        f.period.label()
    );
    for (c, y) in &f.incidents.by_category {
        let _ = write!(
            h,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{:+}</td></tr>",
            category_sv(*c),
            y.current,
            y.year_before,
            y.change
        );
    }
    let t = &f.incidents.total;
    let _ = write!(
        h,
        "<tr><th scope=\"row\">Totalt</th><td>{}</td><td>{}</td><td>{:+}</td></tr></tbody></table></section>",
        t.current, t.year_before, t.change
    );
    let _ = write!(
        h,
        "<section><h2>Otrygga platser</h2><p>{} rapporter mottagna, {} medborgarrapporter hanterade ({} godkända, {} avslagna).</p>",
        f.reports.received, f.reports.handled, f.reports.approved, f.reports.rejected
    );
    match &f.groups {
        Some(groups) => {
            h.push_str("<table><caption>Upplevd otrygghet per grupp (godkända rapporter; grupper med färre än k rapporter visas inte)</caption><thead><tr><th scope=\"col\">Grupp</th><th scope=\"col\">Rapporter</th></tr></thead><tbody>");
            for (split, rows) in [
                ("Kön", &groups.by_gender),
                ("Ålder", &groups.by_age_band),
                ("HBTQ", &groups.by_lgbtq),
            ] {
                for (g, r) in rows {
                    let _ = write!(
                        h,
                        "<tr><th scope=\"row\">{split}: {}</th><td>{}</td></tr>",
                        esc(g),
                        group_text(r)
                    );
                }
            }
            h.push_str("</tbody></table>");
        }
        None => h.push_str("<p>Upplevd otrygghet per grupp redovisas för hela perioder av en längd (normalt år) när de har slutat, så att ingen grupp kan räknas fram genom att jämföra perioder.</p>"),
    }
    h.push_str("</section></main></body></html>");
    h
}

/// A 1200×630 image for a social-media post: the month's public hexagons
/// on the left, incidents by category against a year earlier on the right.
pub fn svg(f: &FollowUp, hexagons: &[HexCount], service_area: &Bbox, meta: &Meta) -> String {
    const WIDTH: f64 = 1200.0;
    const HEIGHT: f64 = 630.0;
    // Frame the hexagons, not the whole municipality: a town is a small
    // part of it, and the map would be a speck.
    let framed = hexagon_bounds(hexagons).map(|b| b.expanded_m(1_500.0));
    let area = framed.as_ref().unwrap_or(service_area);
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"t\"><title id=\"t\">Medborgarlöftet i {} – {}</title><rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>",
        esc(&meta.municipality),
        f.period.label()
    );
    let _ = write!(
        out,
        "<text x=\"40\" y=\"60\" font-family=\"sans-serif\" font-size=\"34\" font-weight=\"bold\" fill=\"#1d3557\">Medborgarlöftet i {} – {}</text>",
        esc(&meta.municipality),
        f.period.label()
    );
    // Map: equirectangular at the area's mid latitude, fitted to 520×480.
    let (x0, y0, mw, mh) = (40.0, 100.0, 520.0, 480.0);
    let lat_cos = f64::midpoint(area.max_lat, area.min_lat).to_radians().cos();
    let span_x = (area.max_lon - area.min_lon) * lat_cos;
    let span_y = area.max_lat - area.min_lat;
    let scale = (mw / span_x).min(mh / span_y);
    let max = hexagons.iter().map(|h| h.count).max().unwrap_or(1).max(1) as f64;
    let _ = write!(
        out,
        "<rect x=\"{x0}\" y=\"{y0}\" width=\"{mw}\" height=\"{mh}\" fill=\"#f1f3f5\"/>"
    );
    for h in hexagons {
        let shade = 0.25 + 0.75 * (h.count as f64 / max);
        let pts: Vec<String> = h
            .cell
            .boundary()
            .iter()
            .map(|ll| {
                let x = x0 + (ll.lng() - area.min_lon) * lat_cos * scale;
                let y = y0 + (area.max_lat - ll.lat()) * scale;
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let _ = write!(
            out,
            "<polygon points=\"{}\" fill=\"#c1121f\" fill-opacity=\"{shade:.2}\" stroke=\"#ffffff\" stroke-width=\"0.5\"/>",
            pts.join(" ")
        );
    }
    let _ = write!(
        out,
        "<text x=\"{x0}\" y=\"{}\" font-family=\"sans-serif\" font-size=\"15\" fill=\"#333\">Händelser per hexagon (offentligt, minst k per hexagon)</text>",
        y0 + mh + 24.0
    );
    // Chart: horizontal bars, this period against a year earlier.
    let (cx, cy) = (620.0, 110.0);
    let rows: Vec<_> = f
        .incidents
        .by_category
        .iter()
        .filter(|(_, y)| y.current + y.year_before > 0)
        .take(9)
        .collect();
    let top = rows
        .iter()
        .map(|(_, y)| y.current.max(y.year_before))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let _ = write!(
        out,
        "<text x=\"{cx}\" y=\"{cy}\" font-family=\"sans-serif\" font-size=\"20\" font-weight=\"bold\" fill=\"#1d3557\">Anmälda händelser (mörk: {}, ljus: året innan)</text>",
        f.period.label()
    );
    for (i, (c, y)) in rows.iter().enumerate() {
        let ry = cy + 25.0 + i as f64 * 38.0;
        let bar = |v: u64| 360.0 * v as f64 / top;
        let _ = write!(
            out,
            "<text x=\"{cx}\" y=\"{:.1}\" font-family=\"sans-serif\" font-size=\"15\" fill=\"#222\">{}</text><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"14\" fill=\"#1d3557\"/><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"10\" fill=\"#a8dadc\"/><text x=\"{:.1}\" y=\"{:.1}\" font-family=\"sans-serif\" font-size=\"14\" fill=\"#222\">{} ({})</text>",
            ry + 12.0,
            category_sv(**c),
            cx + 150.0,
            ry,
            bar(y.current),
            cx + 150.0,
            ry + 16.0,
            bar(y.year_before),
            cx + 155.0 + bar(y.current.max(y.year_before)),
            ry + 13.0,
            y.current,
            y.year_before
        );
    }
    let _ = write!(
        out,
        "<text x=\"{cx}\" y=\"560\" font-family=\"sans-serif\" font-size=\"20\" fill=\"#222\">{:.0} timmar trygghetsskapande närvaro · {} åtgärder genomförda</text><text x=\"{cx}\" y=\"592\" font-family=\"sans-serif\" font-size=\"14\" fill=\"#555\">Källa: Trygg, {}</text></svg>",
        f.presence.hours,
        sum(&f.measures.done),
        esc(&meta.generated_at)
    );
    out
}

/// The bounding box of the hexagons' outlines.
fn hexagon_bounds(hexagons: &[HexCount]) -> Option<Bbox> {
    let mut b: Option<[f64; 4]> = None;
    for h in hexagons {
        for ll in h.cell.boundary().iter() {
            let (x, y) = (ll.lng(), ll.lat());
            b = Some(b.map_or([x, y, x, y], |[a, c, d, e]| {
                [a.min(x), c.min(y), d.max(x), e.max(y)]
            }));
        }
    }
    b.and_then(|[w, s, e, n]| Bbox::new(w, s, e, n, "bbox").ok())
}

/// One published period in the feed.
#[derive(Debug, Clone)]
pub struct FeedEntry {
    pub period: String,
    pub published_at: String,
    pub summary: String,
}

/// An Atom feed (RFC 4287) of published follow-ups, newest first.
/// `entries` newest first; `updated_when_empty`: when the feed was last
/// updated if nothing is published yet (the service's start), since an
/// Atom feed must say and a made-up date would claim news.
pub fn atom(
    base_url: &str,
    municipality: &str,
    entries: &[FeedEntry],
    updated_when_empty: &str,
) -> String {
    let updated = entries
        .first()
        .map_or(updated_when_empty, |e| e.published_at.as_str());
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Medborgarlöftet i {} – uppföljning</title><id>{}/api/v1/public/followup.atom</id><updated>{}</updated><link rel=\"self\" href=\"{}/api/v1/public/followup.atom\"/><author><name>Trygg</name></author>",
        esc(municipality),
        esc(base_url),
        esc(updated),
        esc(base_url)
    );
    for e in entries {
        let _ = write!(
            s,
            "<entry><title>Uppföljning {p}</title><id>{b}/api/v1/public/followup/{p}</id><updated>{u}</updated><link rel=\"alternate\" type=\"text/html\" href=\"{b}/api/v1/public/followup/{p}?format=html\"/><summary>{sm}</summary></entry>",
            p = esc(&e.period),
            b = esc(base_url),
            u = esc(&e.published_at),
            sm = esc(&e.summary)
        );
    }
    s.push_str("</feed>");
    s
}

/// The one-line summary of a follow-up used in the feed.
pub fn summary(f: &FollowUp) -> String {
    format!(
        "{:.0} timmar närvaro, {} åtgärder genomförda, {} anmälda händelser ({:+} mot året innan), {} rapporter om otrygga platser.",
        f.presence.hours,
        sum(&f.measures.done),
        f.incidents.total.current,
        f.incidents.total.change,
        f.reports.received
    )
}

/// The follow-up as JSON with its meta (published, corrections).
pub fn json_value(f: &FollowUp, public: bool, meta: &Meta) -> Value {
    let figures = if public {
        public_value(f)
    } else {
        serde_json::to_value(f).unwrap_or(Value::Null)
    };
    json!({
        "period": f.period.label(),
        "published_at": meta.published_at,
        "generated_at": meta.generated_at,
        "corrections": meta.corrections,
        "figures": figures,
    })
}
