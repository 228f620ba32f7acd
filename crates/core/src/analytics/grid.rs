//! The study area as a grid of indices: its cells sorted, and each cell's
//! neighbours within a k-ring distance as positions in that list. Built
//! once per area, resolution and distance, it turns a Gi* run into sums
//! over a flat array: a municipality at resolution 10 is about 100 000
//! cells, and 36 monthly runs over it (emerging hot spots) took seconds
//! through ordered maps and ring lookups per run; through the grid they take
//! milliseconds each.
//!
//! Invariants (tested against [`super::hotspots::gi_star`] over ordered
//! maps): `cells` is sorted and of one resolution; the neighbours of cell i
//! are `neighbours[offsets[i]..offsets[i + 1]]`, exactly the cells of the
//! area within the distance (i itself included), in the order h3o's
//! `grid_disk` gives them, so a sum over them adds in the same order as a
//! lookup per ring cell would.

use h3o::CellIndex;

use super::hotspots::{GiConfig, GiStar, MAX_CELLS, MIN_CELLS, confidence_bin};
use super::stats::{benjamini_hochberg, two_sided_p};
use crate::{Error, Result};

#[derive(Debug, Clone)]
pub struct StudyGrid {
    cells: Vec<CellIndex>,
    distance: u32,
    offsets: Vec<u32>,
    neighbours: Vec<u32>,
}

impl StudyGrid {
    /// The grid of a study area (every cell of it, one resolution) at a
    /// k-ring distance.
    ///
    /// # Errors
    /// Fewer than [`MIN_CELLS`] or more than [`MAX_CELLS`] cells, cells of
    /// mixed resolutions, or a distance [`GiConfig::new`] refuses.
    pub fn new(cells: impl IntoIterator<Item = CellIndex>, distance: u32) -> Result<Self> {
        GiConfig::new(distance, super::hotspots::DEFAULT_FDR_Q)?;
        let mut cells: Vec<CellIndex> = cells.into_iter().collect();
        cells.sort_unstable();
        cells.dedup();
        if cells.len() < MIN_CELLS {
            return Err(Error::invalid(
                "cells",
                format!("a hot-spot analysis needs at least {MIN_CELLS} cells, zeros included"),
            ));
        }
        if cells.len() > MAX_CELLS {
            return Err(Error::too_large(
                "resolution",
                format!(
                    "more than {MAX_CELLS} cells; choose a coarser resolution or a smaller area"
                ),
            ));
        }
        if cells
            .iter()
            .any(|c| c.resolution() != cells[0].resolution())
        {
            return Err(Error::invalid(
                "cells",
                "all cells must have one resolution",
            ));
        }
        let mut offsets = Vec::with_capacity(cells.len() + 1);
        let ring = 1 + 3 * distance as usize * (distance as usize + 1);
        let mut neighbours = Vec::with_capacity(cells.len() * ring);
        offsets.push(0);
        let mut disk: Vec<CellIndex> = Vec::with_capacity(ring);
        for cell in &cells {
            disk.clear();
            disk.extend(cell.grid_disk::<Vec<_>>(distance));
            neighbours.extend(
                disk.iter()
                    .filter_map(|c| cells.binary_search(c).ok())
                    .map(|i| i as u32),
            );
            offsets.push(neighbours.len() as u32);
        }
        neighbours.shrink_to_fit();
        Ok(Self {
            cells,
            distance,
            offsets,
            neighbours,
        })
    }

    /// The area's cells, sorted: values passed to [`Self::gi_star`] follow
    /// this order.
    pub fn cells(&self) -> &[CellIndex] {
        &self.cells
    }

    pub fn distance(&self) -> u32 {
        self.distance
    }

    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Where a cell sits in [`Self::cells`].
    pub fn position(&self, cell: CellIndex) -> Option<usize> {
        self.cells.binary_search(&cell).ok()
    }

    /// Gi* of every cell (see [`super::hotspots`] for the statistic), from
    /// one value per cell in the order of [`Self::cells`].
    ///
    /// # Errors
    /// As many values as cells are needed, all finite; q must lie in (0, 1).
    pub fn gi_star(&self, values: &[f64], fdr_q: f64) -> Result<Vec<GiStar>> {
        let config = GiConfig::new(self.distance, fdr_q)?;
        if values.len() != self.cells.len() {
            return Err(Error::invalid(
                "values",
                format!("{} values for {} cells", values.len(), self.cells.len()),
            ));
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid(
                "values",
                "every value must be a finite number",
            ));
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let sd = (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        let mut out: Vec<GiStar> = self
            .cells
            .iter()
            .enumerate()
            .map(|(i, &cell)| {
                let ring = &self.neighbours[self.offsets[i] as usize..self.offsets[i + 1] as usize];
                let (w, sum) = ring
                    .iter()
                    .fold((0u32, 0.0), |(w, s), &j| (w + 1, s + values[j as usize]));
                let z = z_score(n, mean, sd, w, sum);
                let p = two_sided_p(z);
                GiStar {
                    cell,
                    value: values[i],
                    neighbours: w,
                    z,
                    p,
                    bin: confidence_bin(z, p),
                    p_fdr: 1.0,
                    bin_fdr: 0,
                }
            })
            .collect();
        let p: Vec<f64> = out.iter().map(|g| g.p).collect();
        for (g, adjusted) in out.iter_mut().zip(benjamini_hochberg(&p)) {
            g.p_fdr = adjusted;
            g.bin_fdr = if adjusted <= config.fdr_q {
                confidence_bin(g.z, adjusted)
            } else {
                0
            };
        }
        Ok(out)
    }
}

/// Gi*'s z-score of a cell whose ring of `w` cells (itself included) sums
/// to `sum`, among `n` cells of the given mean and standard deviation; 0
/// where the statistic is undefined (no spread in the values or the ring).
fn z_score(n: f64, mean: f64, sd: f64, w: u32, sum: f64) -> f64 {
    let wf = f64::from(w);
    let spread = (n * wf - wf * wf) / (n - 1.0);
    if sd > 0.0 && spread > 0.0 {
        (sum - mean * wf) / (sd * spread.sqrt())
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    /// Gi* the direct way: for each cell, its ring looked up cell by cell
    /// in an ordered map (what the grid replaces).
    fn by_lookup(values: &BTreeMap<CellIndex, f64>, distance: u32) -> Vec<(CellIndex, u32, f64)> {
        let n = values.len() as f64;
        let mean = values.values().sum::<f64>() / n;
        let sd = (values.values().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        values
            .keys()
            .map(|&cell| {
                let (w, sum) = cell
                    .grid_disk::<Vec<_>>(distance)
                    .into_iter()
                    .filter_map(|c| values.get(&c))
                    .fold((0u32, 0.0), |(w, s), x| (w + 1, s + x));
                (cell, w, z_score(n, mean, sd, w, sum))
            })
            .collect()
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(48))]

        /// The grid gives the same neighbour counts and z-scores as looking
        /// each ring up, bit for bit, on areas with holes and ragged edges.
        #[test]
        fn the_grid_matches_ring_lookups(k in 2u32..7, holes in prop::collection::vec(any::<prop::sample::Index>(), 0..20), counts in prop::collection::vec(0u32..20, 200), distance in 1u32..4, res in 8u8..=10) {
            let centre = h3o::LatLng::new(58.41, 15.62).unwrap().to_cell(h3o::Resolution::try_from(res).unwrap());
            let mut area: Vec<CellIndex> = centre.grid_disk(k);
            for h in &holes {
                if area.len() > 4 {
                    area.swap_remove(h.index(area.len()));
                }
            }
            let values: BTreeMap<CellIndex, f64> = area.iter().enumerate().map(|(i, c)| (*c, f64::from(counts[i % counts.len()]))).collect();
            let grid = StudyGrid::new(area.iter().copied(), distance).unwrap();
            let dense: Vec<f64> = values.values().copied().collect();
            let got = grid.gi_star(&dense, 0.05).unwrap();
            let want = by_lookup(&values, distance);
            prop_assert_eq!(got.len(), want.len());
            for (g, (cell, w, z)) in got.iter().zip(&want) {
                prop_assert_eq!(g.cell, *cell);
                prop_assert_eq!(g.neighbours, *w);
                prop_assert_eq!(g.z.to_bits(), z.to_bits());
            }
        }
    }

    #[test]
    fn values_must_match_the_cells() {
        let centre = h3o::LatLng::new(58.41, 15.62)
            .unwrap()
            .to_cell(h3o::Resolution::Nine);
        let grid = StudyGrid::new(centre.grid_disk::<Vec<_>>(1), 1).unwrap();
        assert_eq!(grid.gi_star(&[1.0; 6], 0.05).unwrap_err().field(), "values");
        assert_eq!(
            grid.gi_star(&[f64::NAN; 7], 0.05).unwrap_err().field(),
            "values"
        );
        assert_eq!(grid.gi_star(&[1.0; 7], 0.05).unwrap().len(), 7);
    }
}
