//! The analytics behind the situational picture and the follow-up: pure
//! functions over records the caller has already loaded.
//!
//! - [`period`]: follow-up periods (monthly by default, quarterly, tertial,
//!   yearly) and their labels.
//! - [`hotspots`]: Getis-Ord Gi* over H3 cells with an FDR correction.
//! - [`emerging`]: Mann-Kendall trends of Gi* per cell and the emerging
//!   hot-spot categories.
//! - [`dosage`]: patrol dosage per priority place against the Koper curve,
//!   and a suggested patrol list.
//! - [`evaluation`]: before/after with comparison cells (difference in
//!   differences).
//! - [`followup`]: the numbers of a follow-up report and the corrections
//!   to a published one.
//! - [`groups`]: the respondent-group split and when it may be shown.
//! - [`stats`]: the normal distribution, Benjamini–Hochberg, the median.

#[cfg(test)]
mod disclosure;
pub mod dosage;
pub mod emerging;
pub mod evaluation;
pub mod followup;
pub mod grid;
pub mod groups;
pub mod hotspots;
pub mod municipalities;
pub mod period;
pub mod stats;

pub use period::{Cadence, Period};

/// Cells travel as hex strings, as everywhere else in the API (JSON numbers
/// lose precision past 2^53).
#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's serialize_with hands over a reference"
)]
pub(crate) fn serialize_cell<S: serde::Serializer>(
    cell: &h3o::CellIndex,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_str(cell)
}

pub(crate) fn serialize_cells<S: serde::Serializer>(
    cells: &[h3o::CellIndex],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(cells.iter().map(ToString::to_string))
}
