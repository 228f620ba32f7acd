//! Hot spots: Getis-Ord Gi* over H3 cells.
//!
//! The statistic (Getis & Ord 1992; Ord & Getis 1995, the "star" form that
//! counts a cell as its own neighbour), with binary weights wᵢⱼ = 1 for the
//! cells of the study area within grid distance `d` of cell i (itself
//! included) and 0 otherwise:
//!
//! ```text
//!          Σⱼ wᵢⱼ xⱼ − x̄ Σⱼ wᵢⱼ
//! Gᵢ* = ─────────────────────────────────────────
//!        S · √( (n Σⱼ wᵢⱼ² − (Σⱼ wᵢⱼ)²) / (n − 1) )
//!
//! x̄ = Σ xⱼ / n,   S = √( Σ xⱼ² / n − x̄² )
//! ```
//!
//! over all `n` cells of the study area. Gᵢ* is already a z-score; its
//! p-value is two-sided under the normal approximation.
//!
//! **The study area is exactly the cells passed in.** For a service area
//! that is [`study_area`]: the cells whose centres lie inside the area's
//! outline, by the same rule at every resolution. Cells without events
//! must be passed in with 0 ([`fill_area`]): leaving them out shrinks the
//! area to where something happened, raises the mean and hides every hot
//! spot. Neighbours outside the area are not counted, so cells at the edge
//! have fewer neighbours (the formula accounts for that through Σ wᵢⱼ).
//!
//! Bins: ±3 for p ≤ 0.01 (99 % confidence), ±2 for p ≤ 0.05 (95 %), ±1 for
//! p ≤ 0.10 (90 %), the sign of z. `bin_fdr` applies the Benjamini–Hochberg
//! false-discovery-rate correction over all cells: a cell keeps a bin only
//! if its BH-adjusted p is at most `fdr_q` (default 0.05), and the bin is
//! then the confidence level its adjusted p reaches. With the default q,
//! `bin_fdr` is therefore ±2 or ±3 or 0.
//!
//! Where z is undefined (every cell has the same value, or the
//! neighbourhood is the whole area) z is reported as 0 and p as 1: there is
//! no clustering to see.

use std::collections::BTreeMap;

use geo_types::Geometry;
use h3o::{CellIndex, Resolution};
use serde::Serialize;

use super::serialize_cell;
use crate::attrs::IncidentCategory;
use crate::index::HexCount;
use crate::{Error, Result, cells};

pub const DEFAULT_DISTANCE: u32 = 1;
/// A k-ring of 10 at res 9 spans ≈ 3.5 km: past that, "local" has lost its
/// meaning and the work grows with d².
pub const MAX_DISTANCE: u32 = 10;

/// The most neighbour comparisons one request may cost: hexagons of the
/// area × hexagons in each one's neighbourhood × periods. About ten seconds
/// of one core; resolution 10 (≈ 66 m) over a municipality for twelve
/// months fits, over thirty-six does not.
pub const MAX_WORK: u64 = 10_000_000;

/// Refuses a Gi* computation that would cost more than [`MAX_WORK`],
/// naming `field`: the parameter the caller should change.
///
/// # Errors
/// The work over the limit, with what it is made of.
pub fn check_work(cells: usize, distance: u32, periods: usize, field: &str) -> Result<()> {
    let d = u64::from(distance);
    let ring = 3 * d * d + 3 * d + 1;
    let work = (cells as u64)
        .saturating_mul(ring)
        .saturating_mul(periods as u64);
    if work > MAX_WORK {
        return Err(Error::too_large(
            field,
            format!(
                "this would compare {cells} hexagons with {ring} neighbours each over {periods} period(s), {work} comparisons; at most {MAX_WORK}: choose fewer months, a smaller distance or a coarser resolution"
            ),
        ));
    }
    Ok(())
}
pub const DEFAULT_FDR_Q: f64 = 0.05;
/// The fewest cells a standard deviation over the area means anything for.
pub const MIN_CELLS: usize = 3;
/// A municipality at res 10 is ≈ 100 000 cells; more is a mistake.
pub const MAX_CELLS: usize = 250_000;

/// How the neighbourhood and the FDR correction are set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GiConfig {
    /// The k-ring distance of the neighbourhood (1: a cell and its six
    /// neighbours).
    pub distance: u32,
    /// The false-discovery rate for `bin_fdr`.
    pub fdr_q: f64,
}

impl Default for GiConfig {
    fn default() -> Self {
        Self {
            distance: DEFAULT_DISTANCE,
            fdr_q: DEFAULT_FDR_Q,
        }
    }
}

impl GiConfig {
    /// # Errors
    /// A distance of 0 or above [`MAX_DISTANCE`]; a q outside (0, 1).
    pub fn new(distance: u32, fdr_q: f64) -> Result<Self> {
        // d = 0 would compare every cell only with itself: no neighbourhood.
        if !(1..=MAX_DISTANCE).contains(&distance) {
            return Err(Error::invalid(
                "distance",
                format!("must be between 1 and {MAX_DISTANCE}"),
            ));
        }
        if !(fdr_q > 0.0 && fdr_q < 1.0) {
            return Err(Error::invalid("fdr_q", "must lie strictly between 0 and 1"));
        }
        Ok(Self { distance, fdr_q })
    }
}

/// The Gi* result of one cell.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GiStar {
    #[serde(serialize_with = "serialize_cell")]
    pub cell: CellIndex,
    /// The cell's own value xᵢ.
    pub value: f64,
    /// Σⱼ wᵢⱼ: cells of the study area in the neighbourhood, itself included.
    pub neighbours: u32,
    pub z: f64,
    /// Two-sided, normal approximation.
    pub p: f64,
    /// −3..3: the sign of z times the confidence level p reaches.
    pub bin: i8,
    /// Benjamini–Hochberg adjusted p over all cells of the run.
    pub p_fdr: f64,
    /// The bin after the FDR correction (0 unless `p_fdr ≤ fdr_q`).
    pub bin_fdr: i8,
}

/// Gi* for every cell of the study area, sorted by cell.
///
/// `values` is the study area: every cell of it, zeros included (see the
/// module docs), all at one resolution.
///
/// # Errors
/// Fewer than [`MIN_CELLS`] or more than [`MAX_CELLS`] cells, cells of
/// mixed resolutions, or a value that is not finite.
pub fn gi_star(values: &BTreeMap<CellIndex, f64>, config: &GiConfig) -> Result<Vec<GiStar>> {
    let config = GiConfig::new(config.distance, config.fdr_q)?;
    check_area(values)?;
    let grid = super::grid::StudyGrid::new(values.keys().copied(), config.distance)?;
    let values: Vec<f64> = values.values().copied().collect();
    grid.gi_star(&values, config.fdr_q)
}

fn check_area(values: &BTreeMap<CellIndex, f64>) -> Result<()> {
    if values.len() < MIN_CELLS {
        return Err(Error::invalid(
            "cells",
            format!("a hot-spot analysis needs at least {MIN_CELLS} cells, zeros included"),
        ));
    }
    if values.len() > MAX_CELLS {
        return Err(Error::too_large(
            "resolution",
            format!("more than {MAX_CELLS} cells; choose a coarser resolution or a smaller area"),
        ));
    }
    let mut resolutions = values.keys().map(|c| c.resolution());
    let first = resolutions.next();
    if resolutions.any(|r| Some(r) != first) {
        return Err(Error::invalid(
            "cells",
            "all cells must have one resolution",
        ));
    }
    if values.values().any(|v| !v.is_finite()) {
        return Err(Error::invalid(
            "values",
            "every value must be a finite number",
        ));
    }
    Ok(())
}

/// ±3 / ±2 / ±1 for p ≤ 0.01 / 0.05 / 0.10, 0 otherwise.
pub fn confidence_bin(z: f64, p: f64) -> i8 {
    let level = [0.01, 0.05, 0.10]
        .iter()
        .filter(|&&alpha| p <= alpha)
        .count() as i8;
    if z < 0.0 { -level } else { level }
}

/// How much each incident category weighs in a hot-spot count: an assault
/// may count for more than a bicycle theft. Unlisted categories weigh
/// `default`.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryWeights {
    weights: BTreeMap<IncidentCategory, f64>,
    default: f64,
}

impl Default for CategoryWeights {
    /// Every category weighs 1: plain counts.
    fn default() -> Self {
        Self {
            weights: BTreeMap::new(),
            default: 1.0,
        }
    }
}

impl CategoryWeights {
    /// # Errors
    /// A weight that is negative or not finite.
    pub fn new(weights: BTreeMap<IncidentCategory, f64>, default: f64) -> Result<Self> {
        let ok = |w: f64| w.is_finite() && w >= 0.0;
        if !ok(default) {
            return Err(Error::invalid("weights", "the default weight must be ≥ 0"));
        }
        if let Some((c, _)) = weights.iter().find(|(_, w)| !ok(**w)) {
            return Err(Error::invalid(
                format!("weights.{}", c.as_str()),
                "must be a finite number ≥ 0",
            ));
        }
        Ok(Self { weights, default })
    }

    /// Parses `assault=3,robbery=3,theft=0.5` (a configuration value);
    /// unlisted categories weigh 1.
    ///
    /// # Errors
    /// An unknown category, a malformed pair or a bad weight.
    pub fn parse(s: &str) -> Result<Self> {
        let mut weights = BTreeMap::new();
        for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, w) = pair.split_once('=').ok_or_else(|| {
                Error::invalid("weights", format!("`{pair}` is not category=weight"))
            })?;
            let category = IncidentCategory::parse(name.trim(), "weights")?;
            let w: f64 = w.trim().parse().map_err(|_| {
                Error::invalid(format!("weights.{}", category.as_str()), "not a number")
            })?;
            weights.insert(category, w);
        }
        Self::new(weights, 1.0)
    }

    pub fn weight(&self, category: IncidentCategory) -> f64 {
        self.weights.get(&category).copied().unwrap_or(self.default)
    }
}

/// Sums weighted incidents per cell: the values a hot-spot run takes
/// (before [`fill_area`] adds the empty cells).
pub fn weighted_counts(
    incidents: impl IntoIterator<Item = (CellIndex, IncidentCategory)>,
    weights: &CategoryWeights,
) -> BTreeMap<CellIndex, f64> {
    let mut out = BTreeMap::new();
    for (cell, category) in incidents {
        *out.entry(cell).or_insert(0.0) += weights.weight(category);
    }
    out
}

/// Counts of a hexagon layer as Gi* values.
pub fn from_hex_counts(counts: &[HexCount]) -> BTreeMap<CellIndex, f64> {
    let mut out = BTreeMap::new();
    for h in counts {
        *out.entry(h.cell).or_insert(0.0) += h.count as f64;
    }
    out
}

/// The study area with every cell present: the cell's value where `values`
/// has one, 0 elsewhere. Values for cells outside `area` are dropped: they
/// lie outside the study area.
pub fn fill_area(
    area: impl IntoIterator<Item = CellIndex>,
    values: &BTreeMap<CellIndex, f64>,
) -> BTreeMap<CellIndex, f64> {
    area.into_iter()
        .map(|c| (c, values.get(&c).copied().unwrap_or(0.0)))
        .collect()
}

/// The study area of a service area (or any outline) at `resolution`: the
/// cells whose **centres** lie inside it — at every resolution the same
/// rule, so a cell belongs to the area as much as it lies in it, and cells
/// that merely graze the border or belong to the neighbours stay out.
///
/// # Errors
/// An outline that cannot be tiled, or more than [`MAX_CELLS`] cells.
pub fn study_area(
    outline: &geo_types::MultiPolygon<f64>,
    resolution: Resolution,
) -> Result<Vec<CellIndex>> {
    use geo::Contains;
    // The cells that touch the outline hold every cell whose centre lies in
    // it; testing their centres is much faster than tiling a long outline
    // in h3o's centroid mode at a fine resolution (a minute for Linköping
    // at res 9 in a debug build), and gives the same cells (tested).
    let touching = cells_of(&Geometry::MultiPolygon(outline.clone()), resolution)?;
    Ok(touching
        .into_iter()
        .filter(|c| {
            let ll = h3o::LatLng::from(*c);
            outline.contains(&geo_types::Point::new(ll.lng(), ll.lat()))
        })
        .collect())
}

fn too_many_cells() -> Error {
    Error::too_large(
        "resolution",
        format!("more than {MAX_CELLS} cells; choose a coarser resolution or a smaller area"),
    )
}

/// The cells at `resolution` that a geometry touches: a study area from a
/// service-area or district polygon, the cells of a priority place, the
/// cell of a measure's point.
///
/// # Errors
/// A geometry that cannot be indexed, or more than [`MAX_CELLS`] cells.
pub fn cells_of(geometry: &Geometry<f64>, resolution: Resolution) -> Result<Vec<CellIndex>> {
    let mut out = Vec::new();
    for c in cells::coverage(geometry)? {
        cells::at_resolution(c, resolution, &mut out);
        if out.len() > MAX_CELLS * 7 {
            break;
        }
    }
    out.sort_unstable();
    out.dedup();
    if out.len() > MAX_CELLS {
        return Err(too_many_cells());
    }
    Ok(out)
}

/// The mean z of the given cells' Gi* results (cells without a result are
/// skipped): one way to give a priority place a hot-spot level.
pub fn mean_z(cells: &[CellIndex], results: &[GiStar]) -> Option<f64> {
    let by_cell: BTreeMap<CellIndex, f64> = results.iter().map(|g| (g.cell, g.z)).collect();
    let zs: Vec<f64> = cells
        .iter()
        .filter_map(|c| by_cell.get(c).copied())
        .collect();
    if zs.is_empty() {
        None
    } else {
        Some(zs.iter().sum::<f64>() / zs.len() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_computation_over_the_work_limit_is_refused_by_the_parameter_to_change() {
        // Resolution 10 over a municipality (≈ 100,000 hexagons).
        assert!(check_work(104_000, 1, 12, "months").is_ok());
        let err = check_work(104_000, 1, 36, "months").unwrap_err();
        assert_eq!(err.field(), "months");
        assert!(err.to_string().contains("104000 hexagons"), "{err}");
        assert_eq!(
            check_work(104_000, 10, 1, "distance").unwrap_err().field(),
            "distance"
        );
    }
    use geo_types::polygon;
    use h3o::LatLng;

    fn centre() -> CellIndex {
        LatLng::new(58.41, 15.62).unwrap().to_cell(Resolution::Nine)
    }

    fn area(k: u32) -> Vec<CellIndex> {
        centre().grid_disk(k)
    }

    #[test]
    fn a_single_count_in_the_middle_of_a_two_ring_area_gives_the_hand_computed_z() {
        // 19 cells, one holding 19: x̄ = 1, S² = 19²/19 − 1 = 18, S = √18.
        // The centre sees all 7 of its ring-1 cells: W = 7,
        // z = (19 − 7) / (√18 · √((19·7 − 49)/18)) = 12 / √84.
        let c = centre();
        let values = fill_area(area(2), &BTreeMap::from([(c, 19.0)]));
        let out = gi_star(&values, &GiConfig::default()).unwrap();
        let g = out.iter().find(|g| g.cell == c).unwrap();
        assert_eq!(g.neighbours, 7);
        assert!((g.z - 12.0 / 84f64.sqrt()).abs() < 1e-12, "{}", g.z);
        // A corner cell of the outer ring: 4 of its 7 neighbours lie in the
        // area, none of them the centre: z = (0 − 4) / (√18 · √((19·4 − 16)/18))
        // = −4/√60.
        let corner = out.iter().find(|g| g.neighbours == 4).unwrap();
        assert_eq!(corner.cell.grid_distance(c).unwrap(), 2);
        assert!((corner.z + 4.0 / 60f64.sqrt()).abs() < 1e-12);
        let ring1 = out
            .iter()
            .find(|g| g.cell.grid_distance(c).unwrap() == 1)
            .unwrap();
        assert_eq!(ring1.neighbours, 7);
        assert!((ring1.z - 12.0 / 84f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn the_values_z_and_bins_of_a_planted_cluster() {
        // Ring-1 of the centre at 10 inside a ring-3 area of zeros (37
        // cells): the centre's neighbourhood holds all the mass.
        let cluster: BTreeMap<CellIndex, f64> = area(1).into_iter().map(|c| (c, 10.0)).collect();
        let values = fill_area(area(3), &cluster);
        let out = gi_star(&values, &GiConfig::default()).unwrap();
        let g = out.iter().find(|g| g.cell == centre()).unwrap();
        // x̄ = 70/37, S² = 700/37 − (70/37)², W = 7.
        let n: f64 = 37.0;
        let mean = 70.0 / n;
        let s = (700.0 / n - mean * mean).sqrt();
        let want = (70.0 - 7.0 * mean) / (s * ((n * 7.0 - 49.0) / (n - 1.0)).sqrt());
        assert!((g.z - want).abs() < 1e-12);
        assert_eq!(g.bin, 3);
        assert_eq!(g.bin_fdr, 3);
        assert!(out.iter().all(|g| g.bin >= 0 || g.value == 0.0));
    }

    #[test]
    fn equal_values_everywhere_show_no_clustering() {
        let values: BTreeMap<CellIndex, f64> = area(2).into_iter().map(|c| (c, 4.0)).collect();
        for g in gi_star(&values, &GiConfig::default()).unwrap() {
            assert_eq!((g.z, g.p, g.bin, g.bin_fdr), (0.0, 1.0, 0, 0));
        }
    }

    #[test]
    fn a_neighbourhood_covering_the_whole_area_shows_no_clustering() {
        let values = fill_area(area(1), &BTreeMap::from([(centre(), 3.0)]));
        let out = gi_star(&values, &GiConfig::new(2, 0.05).unwrap()).unwrap();
        assert!(out.iter().all(|g| g.z == 0.0 && g.neighbours == 7));
    }

    #[test]
    fn results_are_sorted_by_cell_and_independent_of_insertion_order() {
        let values = fill_area(area(2), &BTreeMap::from([(centre(), 5.0)]));
        let out = gi_star(&values, &GiConfig::default()).unwrap();
        assert!(out.windows(2).all(|w| w[0].cell < w[1].cell));
    }

    #[test]
    fn bins_follow_the_90_95_99_percent_thresholds() {
        assert_eq!(confidence_bin(2.7, 0.007), 3);
        assert_eq!(confidence_bin(2.0, 0.0455), 2);
        assert_eq!(confidence_bin(-1.7, 0.089), -1);
        assert_eq!(confidence_bin(-1.0, 0.317), 0);
        assert_eq!(confidence_bin(2.0, 0.01), 3);
    }

    #[test]
    fn a_bin_can_vanish_after_the_fdr_correction() {
        // A background of 0, 1, 2 repeating and one cell at 4: raw p ≈ 0.011,
        // but among 61 cells its BH-adjusted p is ≈ 0.34.
        let mut cells = area(4);
        cells.sort_unstable();
        let mut values: BTreeMap<CellIndex, f64> = cells
            .iter()
            .enumerate()
            .map(|(i, &c)| (c, (i % 3) as f64))
            .collect();
        let hot = centre();
        values.insert(hot, 4.0);
        let out = gi_star(&values, &GiConfig::default()).unwrap();
        let g = out.iter().find(|g| g.cell == hot).unwrap();
        assert!(g.p < 0.05 && g.bin >= 2, "{g:?}");
        assert!(g.p_fdr > g.p);
        assert_eq!(g.bin_fdr, 0, "{g:?}");
    }

    #[test]
    fn too_few_cells_mixed_resolutions_and_bad_settings_are_refused() {
        let two: BTreeMap<CellIndex, f64> = area(1).into_iter().take(2).map(|c| (c, 1.0)).collect();
        assert_eq!(
            gi_star(&two, &GiConfig::default()).unwrap_err().field(),
            "cells"
        );
        let mut mixed: BTreeMap<CellIndex, f64> = area(1).into_iter().map(|c| (c, 1.0)).collect();
        mixed.insert(centre().parent(Resolution::Eight).unwrap(), 1.0);
        assert_eq!(
            gi_star(&mixed, &GiConfig::default()).unwrap_err().field(),
            "cells"
        );
        assert_eq!(GiConfig::new(0, 0.05).unwrap_err().field(), "distance");
        assert_eq!(GiConfig::new(11, 0.05).unwrap_err().field(), "distance");
        assert_eq!(GiConfig::new(1, 0.0).unwrap_err().field(), "fdr_q");
        let mut nan: BTreeMap<CellIndex, f64> = area(1).into_iter().map(|c| (c, 1.0)).collect();
        nan.insert(centre(), f64::NAN);
        assert_eq!(
            gi_star(&nan, &GiConfig::default()).unwrap_err().field(),
            "values"
        );
    }

    #[test]
    fn weighted_counts_sum_category_weights_per_cell() {
        let weights = CategoryWeights::parse("assault=3, theft=0.5").unwrap();
        let c = centre();
        let other = area(1)[1];
        let counts = weighted_counts(
            [
                (c, IncidentCategory::Assault),
                (c, IncidentCategory::Theft),
                (c, IncidentCategory::Vandalism),
                (other, IncidentCategory::Theft),
            ],
            &weights,
        );
        assert!((counts[&c] - 4.5).abs() < 1e-12);
        assert!((counts[&other] - 0.5).abs() < 1e-12);
        assert!((CategoryWeights::default().weight(IncidentCategory::Drugs) - 1.0).abs() < 1e-12);
        assert_eq!(
            CategoryWeights::parse("bogus=1").unwrap_err().field(),
            "weights"
        );
        assert_eq!(
            CategoryWeights::parse("theft=-1").unwrap_err().field(),
            "weights.theft"
        );
        assert!(CategoryWeights::parse("theft").is_err());
    }

    #[test]
    fn filling_an_area_adds_zeros_and_drops_cells_outside() {
        let outside = centre().grid_ring_fast(5).flatten().next().unwrap();
        let values = BTreeMap::from([(centre(), 2.0), (outside, 9.0)]);
        let filled = fill_area(area(1), &values);
        assert_eq!(filled.len(), 7);
        assert!((filled.values().sum::<f64>() - 2.0).abs() < 1e-12);
    }

    #[test]
    fn a_polygon_gives_the_cells_it_touches_at_the_asked_resolution() {
        let c = centre();
        let ll = LatLng::from(c);
        let (lat, lon) = (ll.lat(), ll.lng());
        let square = polygon![
            (x: lon - 0.0005, y: lat - 0.0003), (x: lon + 0.0005, y: lat - 0.0003),
            (x: lon + 0.0005, y: lat + 0.0003), (x: lon - 0.0005, y: lat + 0.0003),
            (x: lon - 0.0005, y: lat - 0.0003)
        ];
        let cells = cells_of(&Geometry::Polygon(square), Resolution::Nine).unwrap();
        assert_eq!(cells, vec![c]);
        let point = Geometry::Point(geo_types::Point::new(lon, lat));
        assert_eq!(cells_of(&point, Resolution::Nine).unwrap(), vec![c]);
    }

    #[test]
    fn mean_z_of_a_place_averages_its_cells() {
        let values = fill_area(area(2), &BTreeMap::from([(centre(), 19.0)]));
        let out = gi_star(&values, &GiConfig::default()).unwrap();
        let m = mean_z(&[centre()], &out).unwrap();
        assert!((m - 12.0 / 84f64.sqrt()).abs() < 1e-12);
        assert_eq!(mean_z(&[], &out), None);
    }
}
