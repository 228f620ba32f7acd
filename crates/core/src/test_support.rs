//! Shared set-up for the property tests: how many cases, and which seed.
//!
//! Every run takes `PROPTEST_RNG_SEED` or draws a fresh seed, and writes it
//! to the test's output, which the test harness shows only when the test
//! fails: a failure seen once can then be replayed exactly with
//! `PROPTEST_RNG_SEED=<seed> cargo test -p trygg-core <test name>`.
//! `PROPTEST_CASES` overrides the case count of every property test, for a
//! long hunt (`PROPTEST_CASES=20000 cargo test -p trygg-core`). Cases that
//! ever failed are kept under `proptest-regressions/` (committed) and are
//! tried first on every run.

use std::hash::{BuildHasher, Hasher};

use proptest::test_runner::{Config, RngSeed};

/// A property test's configuration: `default_cases` unless `PROPTEST_CASES`
/// says otherwise, and a seed that is printed.
pub fn proptest_config(default_cases: u32) -> Config {
    // `Config::default()` has already read the PROPTEST_* variables.
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = default_cases;
    }
    let seed = match config.rng_seed {
        RngSeed::Fixed(seed) => seed,
        // The standard library's per-process random keys: no dependency
        // needed for one random number.
        RngSeed::Random => std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish(),
    };
    config.rng_seed = RngSeed::Fixed(seed);
    eprintln!(
        "proptest: {} cases, seed {seed} (replay: PROPTEST_RNG_SEED={seed})",
        config.cases
    );
    config
}
