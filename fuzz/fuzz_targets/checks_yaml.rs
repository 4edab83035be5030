//! A checks.d YAML file, loaded and validated the way every run loads the checks folders.
//! `rules::load` reads from a path, so each input overwrites one file in a temporary folder that
//! the process creates once. Statics are not dropped, so the folder stays behind after the run.
//! Any input must give checks or a list of errors, never a panic.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use node_doctor::{checks, rules};

/// The temporary folder with the checks file, and the built-in check ids that a run reserves.
struct ChecksFolder {
    _dir: tempfile::TempDir,
    file: PathBuf,
    reserved_ids: Vec<&'static str>,
}

fn checks_folder() -> &'static ChecksFolder {
    static FOLDER: OnceLock<ChecksFolder> = OnceLock::new();
    FOLDER.get_or_init(|| {
        let dir = tempfile::tempdir().expect("create a temporary folder");
        let file = dir.path().join("fuzz.yaml");
        let reserved_ids = checks::builtin().iter().map(|check| check.id()).collect();
        ChecksFolder {
            _dir: dir,
            file,
            reserved_ids,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let folder = checks_folder();
    std::fs::write(&folder.file, data).expect("write the checks file");
    let _ = rules::load(std::slice::from_ref(&folder.file), &folder.reserved_ids);
});
