//! The systemd unit and timer pass `systemd-analyze verify`, keep their hardening, and the
//! textfile wrapper they run replaces node_doctor.prom atomically.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{kubeadm_real, parse_prometheus};

const INSTALLED_WRAPPER: &str = "/usr/libexec/node-doctor/node-doctor-textfile";

fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Returns whether systemd-analyze can run. When it cannot, the test is skipped with a printed
/// reason, unless NODE_DOCTOR_REQUIRE_SYSTEMD_ANALYZE is set (as .ci/run does), which fails it.
fn systemd_analyze_available() -> bool {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok()
    {
        return true;
    }
    assert!(
        std::env::var_os("NODE_DOCTOR_REQUIRE_SYSTEMD_ANALYZE").is_none(),
        "systemd-analyze is not installed but NODE_DOCTOR_REQUIRE_SYSTEMD_ANALYZE is set; \
         install Debian's systemd package"
    );
    eprintln!(
        "skipped: systemd-analyze is not installed (Debian package systemd); \
         set NODE_DOCTOR_REQUIRE_SYSTEMD_ANALYZE=1 to fail instead"
    );
    false
}

#[test]
fn units_pass_systemd_analyze_verify() {
    if !systemd_analyze_available() {
        return;
    }
    // verify requires ExecStart's program to exist, so the copy under test runs the wrapper
    // from the repository instead of its installed path. Nothing else is changed.
    let dir = tempfile::tempdir().unwrap();
    let service = fs::read_to_string(repo_file("systemd/node-doctor.service")).unwrap();
    assert!(service.contains(INSTALLED_WRAPPER));
    let wrapper = repo_file("packaging/node-doctor-textfile");
    let service = service.replace(INSTALLED_WRAPPER, &wrapper.to_string_lossy());
    fs::write(dir.path().join("node-doctor.service"), service).unwrap();
    fs::copy(
        repo_file("systemd/node-doctor.timer"),
        dir.path().join("node-doctor.timer"),
    )
    .unwrap();

    let output = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(dir.path().join("node-doctor.service"))
        .arg(dir.path().join("node-doctor.timer"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert!(output.status.success(), "verify failed: {stderr}");
    // Unknown keys and bad values are only warnings, so any output counts as a failure.
    assert!(stderr.trim().is_empty(), "verify warned: {stderr}");
}

#[test]
fn service_keeps_hardening() {
    let service = fs::read_to_string(repo_file("systemd/node-doctor.service")).unwrap();
    let settings: Vec<&str> = service
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with('#'))
        .collect();

    for expected in [
        "Type=oneshot",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "ReadOnlyPaths=/",
        "CapabilityBoundingSet=CAP_DAC_READ_SEARCH",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "RestrictSUIDSGID=yes",
        "SystemCallArchitectures=native",
    ] {
        assert!(settings.contains(&expected), "{expected} is missing");
    }
}

fn run_wrapper(textfile_dir: &Path, args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(repo_file("packaging/node-doctor-textfile"))
        .env("NODE_DOCTOR_TEXTFILE_DIR", textfile_dir)
        .env(
            "NODE_DOCTOR_BIN",
            assert_cmd::cargo::cargo_bin("node-doctor"),
        )
        .args(args)
        .output()
        .unwrap()
}

fn directory_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn wrapper_writes_textfile_atomically() {
    let textfile = tempfile::tempdir().unwrap();
    let snapshot = kubeadm_real();

    let output = run_wrapper(
        textfile.path(),
        &["--snapshot".as_ref(), snapshot.as_os_str()],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert!(output.status.success(), "{stderr}");
    assert_eq!(directory_names(textfile.path()), ["node_doctor.prom"]);
    let written = textfile.path().join("node_doctor.prom");
    let text = fs::read_to_string(&written).unwrap();
    let samples = parse_prometheus(&text);
    assert!(
        samples
            .iter()
            .any(|s| s.name == "node_doctor_last_run_timestamp_seconds")
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(&written).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "node_exporter must be able to read the file");
}

#[test]
fn wrapper_keeps_previous_file_on_failure() {
    let textfile = tempfile::tempdir().unwrap();
    fs::write(textfile.path().join("node_doctor.prom"), "previous\n").unwrap();
    let missing = textfile.path().join("no-such-snapshot");

    let output = run_wrapper(
        textfile.path(),
        &["--snapshot".as_ref(), missing.as_os_str()],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("kept the previous"), "{stderr}");
    assert_eq!(directory_names(textfile.path()), ["node_doctor.prom"]);
    assert_eq!(
        fs::read_to_string(textfile.path().join("node_doctor.prom")).unwrap(),
        "previous\n"
    );
}

#[test]
fn wrapper_rejects_missing_directory() {
    let parent = tempfile::tempdir().unwrap();
    let missing = parent.path().join("absent");

    let output = run_wrapper(&missing, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("NODE_DOCTOR_TEXTFILE_DIR"), "{stderr}");
    assert!(!missing.exists());
}
