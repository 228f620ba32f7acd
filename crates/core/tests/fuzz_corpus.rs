//! Replays every committed fuzz input through the fuzz harness on stable
//! Rust, so that an input that once crashed stays fixed without nightly or
//! libFuzzer in CI. The inputs are `fuzz/corpus/<target>/` (minimised by
//! `cargo fuzz cmin`) and `fuzz/regressions/<target>/` (every crash found,
//! kept whether or not minimisation would keep it). `scripts/fuzz.sh` runs
//! the fuzzers themselves.

#[path = "../../../fuzz/src/lib.rs"]
mod harness;

use std::panic;
use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a readable corpus directory").path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn replay(target: &str, run: fn(&[u8])) {
    let files = inputs(target);
    assert!(!files.is_empty(), "no committed inputs for {target}");
    // Every failing file is named, not only the first.
    let failed: Vec<&PathBuf> = files
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("a readable corpus file");
            panic::catch_unwind(|| run(&data)).is_err()
        })
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} {target} inputs panic: {failed:#?}",
        failed.len(),
        files.len()
    );
}

#[test]
fn geojson_feature_corpus() {
    replay("geojson_feature", harness::geojson_feature);
}

#[test]
fn import_formats_corpus() {
    replay("import_formats", harness::import_formats);
}

#[test]
fn query_params_corpus() {
    replay("query_params", harness::query_params);
}
