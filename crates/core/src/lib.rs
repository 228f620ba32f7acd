//! Trygg's domain: what an incident, report, presence log, measure, place
//! and area are, how they are validated, indexed into H3 and aggregated.
//!
//! Nothing here does I/O: the store persists what this crate validates,
//! and the server renders what this crate computes.

#[macro_use]
mod vocab;

pub mod access;
pub mod analytics;
pub mod attrs;
pub mod bbox;
pub mod cells;
pub mod demo;
pub mod error;
pub mod export;
pub mod feature;
pub mod geometry;
pub mod hexagons;
pub mod import;
pub mod index;
pub mod kind;
pub mod mvt;
pub mod ogc;
pub mod omitted;
pub mod points;
pub mod polisen;
pub mod privacy;
pub mod query;
pub mod regso;
pub mod report;
pub mod second_factor;
pub mod service_area;
pub mod time;

#[cfg(test)]
mod test_support;

pub use error::{Error, Result};
pub use feature::{Feature, NewFeature};
pub use kind::{Kind, Shape};
