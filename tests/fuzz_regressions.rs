//! Fuzz findings as regression tests.
//!
//! Every file in `fuzz/regressions/<target>/` (a minimised crash input, committed when the
//! fuzzer found it) is replayed through `fuzz/fuzz_targets/harness.rs`, the very code the
//! libFuzzer target `<target>` runs, so a crash found once fails `cargo test` until it is
//! fixed. `README*` and dot files are skipped. The committed seeds (`fuzz/seeds/<target>/`)
//! are replayed too, which keeps the harness and the seed encoding working between fuzzing
//! runs.
//!
//! Replay one file by hand: `IMDSGUARD_FUZZ_FILE=path cargo test --test fuzz_regressions
//! one_file -- --nocapture` (`IMDSGUARD_FUZZ_TARGET` names the target when no folder of the path
//! is named after one). `IMDSGUARD_FUZZ_TRACE=1` prints every C call of `ffi_sequence`.

#[path = "../fuzz/fuzz_targets/harness.rs"]
mod harness;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The input files of `dir`, sorted; a missing folder has none.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !name.starts_with('.') && !name.starts_with("README")
        })
        .collect();
    files.sort();
    files
}

/// Replays every input of `<base>/<target>/` and lists the ones that panic.
fn replay_all(base: &str) -> (usize, Vec<String>) {
    let mut count = 0;
    let mut failures = Vec::new();
    for &(target, run) in harness::TARGETS {
        for file in inputs(&root().join(base).join(target)) {
            let data = std::fs::read(&file).expect("readable input");
            count += 1;
            if let Err(e) = catch_unwind(AssertUnwindSafe(|| run(&data))) {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                failures.push(format!("{target}: {}: {msg}", file.display()));
            }
        }
    }
    (count, failures)
}

#[test]
fn crash_inputs_no_longer_crash() {
    assert!(
        root().join("fuzz/regressions/README.md").is_file(),
        "fuzz/regressions/README.md is missing"
    );
    let (count, failures) = replay_all("fuzz/regressions");
    assert!(
        failures.is_empty(),
        "{} of {count} regression inputs fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn seeds_pass() {
    let (count, failures) = replay_all("fuzz/seeds");
    assert!(count > 0, "no seeds under fuzz/seeds");
    assert!(
        failures.is_empty(),
        "{} of {count} seeds fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_target_has_a_regression_folder() {
    for &(target, _) in harness::TARGETS {
        let dir = root().join("fuzz/regressions").join(target);
        assert!(dir.is_dir(), "{} is missing", dir.display());
    }
}

/// Replays `IMDSGUARD_FUZZ_FILE` (no-op without it), unguarded, so that the panic and its
/// backtrace show.
#[test]
fn one_file() {
    let Some(path) = std::env::var_os("IMDSGUARD_FUZZ_FILE") else {
        return;
    };
    let path = PathBuf::from(path);
    let name = std::env::var("IMDSGUARD_FUZZ_TARGET").unwrap_or_else(|_| {
        let parents: Vec<String> = path
            .ancestors()
            .skip(1)
            .filter_map(|a| a.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        harness::TARGETS
            .iter()
            .map(|t| t.0)
            .find(|t| parents.iter().any(|p| p == t))
            .expect("set IMDSGUARD_FUZZ_TARGET: no folder of the path names a target")
            .to_owned()
    });
    let (_, run) = harness::TARGETS
        .iter()
        .find(|t| t.0 == name)
        .expect("a known target");
    run(&std::fs::read(&path).expect("readable input"));
}
