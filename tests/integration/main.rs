//! One test binary for the cross-crate suites.

mod api;
mod store;
