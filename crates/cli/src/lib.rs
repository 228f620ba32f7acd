//! The `trygg` binary's wiring, as a library so that tests can use the same
//! configuration and demo loading the binary uses.

pub mod accounts;
pub mod area;
pub mod data;
pub mod demo;
pub mod serve;
pub mod transfer;

/// Everything the CLI can fail with, each with a message a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Store(#[from] trygg_store::Error),
    #[error("{0}")]
    Domain(#[from] trygg_core::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Usage(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
