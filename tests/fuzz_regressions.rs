//! Inputs that made a fuzz target fail, kept under tests/fixtures/fuzz-regressions/TARGET and fed
//! to the function that target calls, with the same checks. docs/fuzzing.md lists the targets.

use std::path::Path;

use node_doctor::snapshot::redact;

/// Returns the files of tests/fixtures/fuzz-regressions/TARGET, sorted by name.
fn regression_inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz-regressions")
        .join(target);
    let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
        .map(|entry| {
            let path = entry.expect("folder entry").path();
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
            (path.display().to_string(), bytes)
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no inputs in {}", dir.display());
    inputs
}

#[test]
fn every_target_folder_has_a_test() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz-regressions");
    for entry in std::fs::read_dir(&dir).expect("list fuzz-regressions") {
        let name = entry.expect("folder entry").file_name();
        assert!(
            ["redact"].contains(&name.to_str().unwrap_or_default()),
            "tests/fixtures/fuzz-regressions/{name:?} has no test in tests/fuzz_regressions.rs"
        );
    }
}

#[test]
fn redact_regressions() {
    for (path, bytes) in regression_inputs("redact") {
        let redacted = redact::redact(&bytes);
        let text = String::from_utf8_lossy(&redacted.bytes);
        assert!(
            !text.contains("PRIVATE KEY-----"),
            "{path}: a private key marker survived"
        );
        assert!(
            !text.contains("client-key-data"),
            "{path}: client-key-data survived"
        );
    }
}
