#![allow(
    clippy::unwrap_used,
    clippy::assigning_clones,
    reason = "test cases run inside macro-made async fns, where a panic is the failure report"
)]

//! One test binary for the cross-crate suites.

mod access;
mod analysis;
mod api;
mod followup;
mod instances;
mod interop;
mod ogc;
mod omitted;
mod service_area;
mod store;
mod tiles;
mod transfer;
mod whole_flow;
