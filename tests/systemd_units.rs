//! The systemd unit reader against systemd's rules, and the mount-propagation check on unit
//! layouts that exercise drop-in precedence, masking, bad input and `systemctl show` numbers.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

use node_doctor::host::LiveHost;
use node_doctor::systemd::Unit;
use serde_json::Value;
use support::{node_doctor, write_file};

const VENDOR: &str = "usr/lib/systemd/system";
const ETC: &str = "etc/systemd/system";

fn load(root: &Path, name: &str) -> Unit {
    let host = LiveHost::new(root, None);
    Unit::load(&host, name)
}

/// Writes a snapshot whose rootfs is `root`'s content and returns the JSON report.
fn report_for(root: &Path) -> Value {
    let snapshot = root.parent().unwrap().join("snapshot");
    write_file(
        &snapshot,
        "snapshot.json",
        r#"{"format":"node-doctor-snapshot/v1","node":"node-1","capturedAt":"2026-12-04T10:00:00Z"}"#,
    );
    let status = Command::new("cp")
        .arg("-a")
        .arg(root)
        .arg(snapshot.join("rootfs"))
        .status()
        .unwrap();
    assert!(status.success());
    let output = node_doctor()
        .args([
            "check",
            "-o",
            "json",
            "--only",
            "mount-propagation",
            "--snapshot",
        ])
        .arg(&snapshot)
        .output()
        .unwrap();
    serde_json::from_slice(&output.stdout).unwrap()
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn tempdir_with_root() -> (tempfile::TempDir, std::path::PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("root");
    fs::create_dir_all(&root).unwrap();
    (temp, root)
}

const SLAVE: &str = "[Service]\nMountFlags=slave\n";
const RESET: &str = "[Service]\nMountFlags=\n";
const VENDOR_UNIT: &str = "[Service]\nExecStart=/usr/bin/dockerd\nMountFlags=slave\n";

#[test]
fn etc_drop_in_resets_vendor_slave() {
    let (_temp, root) = tempdir_with_root();
    write_file(&root, &format!("{VENDOR}/docker.service"), VENDOR_UNIT);
    write_file(
        &root,
        &format!("{ETC}/docker.service.d/10-reset.conf"),
        RESET,
    );

    let unit = load(&root, "docker.service");
    assert_eq!(unit.setting("Service", "MountFlags"), None);
    assert_eq!(unit.history("Service", "MountFlags").len(), 2);
    assert_eq!(codes(&report_for(&root)), Vec::<String>::new());
}

#[test]
fn etc_drop_in_slave_over_vendor_reset() {
    let (_temp, root) = tempdir_with_root();
    write_file(
        &root,
        &format!("{VENDOR}/docker.service"),
        "[Service]\nExecStart=/usr/bin/dockerd\n",
    );
    write_file(
        &root,
        &format!("{VENDOR}/docker.service.d/10-reset.conf"),
        RESET,
    );
    write_file(
        &root,
        &format!("{ETC}/docker.service.d/20-slave.conf"),
        SLAVE,
    );

    let unit = load(&root, "docker.service");
    let setting = unit.setting("Service", "MountFlags").unwrap();
    assert_eq!(
        setting.location(),
        "/etc/systemd/system/docker.service.d/20-slave.conf:2"
    );

    let report = report_for(&root);
    assert_eq!(codes(&report), vec!["mount-propagation/unit-mountflags"]);
    let fix = report["findings"][0]["fix"].to_string();
    assert!(fix.contains("sed -i '/^[[:space:]]*MountFlags=/d' /etc/systemd/system/docker.service.d/20-slave.conf"), "{fix}");
}

#[test]
fn later_file_name_wins_across_folders() {
    // 20-b.conf applies after 10-a.conf although it is in the lower-priority vendor folder.
    let (_temp, root) = tempdir_with_root();
    write_file(
        &root,
        &format!("{VENDOR}/docker.service"),
        "[Service]\nExecStart=/usr/bin/dockerd\n",
    );
    write_file(&root, &format!("{ETC}/docker.service.d/10-a.conf"), SLAVE);
    write_file(
        &root,
        &format!("{VENDOR}/docker.service.d/20-b.conf"),
        RESET,
    );
    let unit = load(&root, "docker.service");
    assert_eq!(unit.setting("Service", "MountFlags"), None);
    assert_eq!(
        unit.drop_ins,
        vec![
            "/etc/systemd/system/docker.service.d/10-a.conf",
            "/usr/lib/systemd/system/docker.service.d/20-b.conf"
        ]
    );
    assert_eq!(codes(&report_for(&root)), Vec::<String>::new());
}

#[test]
fn later_file_name_sets_slave() {
    let (_temp, root) = tempdir_with_root();
    write_file(
        &root,
        &format!("{VENDOR}/docker.service"),
        "[Service]\nExecStart=/usr/bin/dockerd\n",
    );
    write_file(&root, &format!("{ETC}/docker.service.d/10-a.conf"), RESET);
    write_file(
        &root,
        &format!("{ETC}/docker.service.d/20-b.conf"),
        "[Service]\nMountFlags=shared\n",
    );
    let unit = load(&root, "docker.service");
    assert_eq!(
        unit.setting("Service", "MountFlags").unwrap().value,
        "shared"
    );
    assert_eq!(
        codes(&report_for(&root)),
        vec!["mount-propagation/unit-mountflags"]
    );
}

#[test]
fn same_name_in_etc_masks_vendor_drop_in() {
    let (_temp, root) = tempdir_with_root();
    write_file(
        &root,
        &format!("{VENDOR}/docker.service"),
        "[Service]\nExecStart=/usr/bin/dockerd\n",
    );
    write_file(
        &root,
        &format!("{VENDOR}/docker.service.d/50-mount.conf"),
        SLAVE,
    );
    write_file(
        &root,
        &format!("{ETC}/docker.service.d/50-mount.conf"),
        "[Service]\n# local copy without MountFlags\n",
    );
    let unit = load(&root, "docker.service");
    assert_eq!(
        unit.drop_ins,
        vec!["/etc/systemd/system/docker.service.d/50-mount.conf"]
    );
    assert!(unit.history("Service", "MountFlags").is_empty());
}

#[test]
fn dev_null_drop_in_masks_vendor_drop_in() {
    let (_temp, root) = tempdir_with_root();
    write_file(
        &root,
        &format!("{VENDOR}/containerd.service"),
        "[Service]\nExecStart=/usr/bin/containerd\n",
    );
    write_file(
        &root,
        &format!("{VENDOR}/containerd.service.d/50-mount.conf"),
        SLAVE,
    );
    fs::create_dir_all(root.join(ETC).join("containerd.service.d")).unwrap();
    std::os::unix::fs::symlink(
        "/dev/null",
        root.join(ETC).join("containerd.service.d/50-mount.conf"),
    )
    .unwrap();
    let unit = load(&root, "containerd.service");
    assert!(unit.drop_ins.is_empty(), "{:?}", unit.drop_ins);
    assert_eq!(unit.setting("Service", "MountFlags"), None);
}

#[test]
fn masked_unit_reads_no_settings() {
    let (_temp, root) = tempdir_with_root();
    write_file(&root, &format!("{VENDOR}/docker.service"), VENDOR_UNIT);
    fs::create_dir_all(root.join(ETC)).unwrap();
    std::os::unix::fs::symlink("/dev/null", root.join(ETC).join("docker.service")).unwrap();
    let unit = load(&root, "docker.service");
    assert!(unit.masked);
    assert_eq!(unit.setting("Service", "MountFlags"), None);
}

#[test]
fn etc_unit_file_replaces_vendor_unit() {
    let (_temp, root) = tempdir_with_root();
    write_file(&root, &format!("{VENDOR}/kubelet.service"), VENDOR_UNIT);
    write_file(
        &root,
        &format!("{ETC}/kubelet.service"),
        "[Service]\nExecStart=/usr/bin/kubelet\n",
    );
    let unit = load(&root, "kubelet.service");
    assert_eq!(
        unit.fragment.as_deref(),
        Some("/etc/systemd/system/kubelet.service")
    );
    assert_eq!(unit.setting("Service", "MountFlags"), None);
}

#[test]
fn type_drop_in_applies_to_every_service() {
    let (_temp, root) = tempdir_with_root();
    write_file(
        &root,
        &format!("{VENDOR}/kubelet.service"),
        "[Service]\nExecStart=/usr/bin/kubelet\n",
    );
    write_file(&root, &format!("{ETC}/service.d/10-all.conf"), SLAVE);
    let unit = load(&root, "kubelet.service");
    assert_eq!(
        unit.setting("Service", "MountFlags").unwrap().location(),
        "/etc/systemd/system/service.d/10-all.conf:2"
    );
}

#[test]
fn drop_in_folder_that_is_a_file() {
    let (_temp, root) = tempdir_with_root();
    write_file(&root, &format!("{VENDOR}/docker.service"), VENDOR_UNIT);
    write_file(&root, &format!("{ETC}/docker.service.d"), RESET);
    let unit = load(&root, "docker.service");
    assert!(unit.drop_ins.is_empty());
    assert!(
        unit.problems
            .iter()
            .any(|p| p.starts_with("/etc/systemd/system/docker.service.d: cannot list")),
        "{:?}",
        unit.problems
    );
    // The vendor unit still counts, as systemd ignores the broken folder.
    assert_eq!(
        codes(&report_for(&root)),
        vec!["mount-propagation/unit-mountflags"]
    );
}

#[test]
fn unit_file_with_invalid_utf8() {
    let (_temp, root) = tempdir_with_root();
    write_file(
        &root,
        &format!("{VENDOR}/docker.service"),
        b"[Unit]\nDescription=Docker \xff\xfe engine\n[Service]\nMountFlags=slave\n".as_slice(),
    );
    let unit = load(&root, "docker.service");
    assert_eq!(unit.setting("Service", "MountFlags").unwrap().line, 4);
    assert!(
        unit.problems
            .iter()
            .any(|p| p.contains("docker.service:2: line is not valid UTF-8")),
        "{:?}",
        unit.problems
    );
    let report = report_for(&root);
    let evidence = report["findings"][0]["evidence"].to_string();
    assert!(
        evidence.contains("/usr/lib/systemd/system/docker.service:4"),
        "{evidence}"
    );
}

#[test]
fn systemctl_show_number_is_named() {
    // The unit files no longer set MountFlags, but the running systemd has not reloaded them.
    let (temp, root) = tempdir_with_root();
    write_file(
        &root,
        &format!("{VENDOR}/docker.service"),
        "[Service]\nExecStart=/usr/bin/dockerd\n",
    );
    write_file(
        temp.path(),
        "snapshot/commands/systemctl-show/docker.service.txt",
        "Id=docker.service\nLoadState=loaded\nMountFlags=524288\n",
    );
    let report = report_for(&root);
    assert_eq!(codes(&report), vec!["mount-propagation/unit-mountflags"]);
    let evidence = report["findings"][0]["evidence"].to_string();
    assert!(
        evidence.contains("commands/systemctl-show/docker.service.txt"),
        "{evidence}"
    );
    assert!(evidence.contains("524288 (slave)"), "{evidence}");
    assert!(evidence.contains("daemon-reload has not run"), "{evidence}");
}

#[test]
fn root_mount_slave_is_reported() {
    let (_temp, root) = tempdir_with_root();
    write_file(
        &root,
        "proc/1/mountinfo",
        "25 1 8:1 / / rw,relatime master:1 - ext4 /dev/sda1 rw\n26 25 0:24 / /run rw shared:5 - tmpfs tmpfs rw\n",
    );
    let report = report_for(&root);
    assert_eq!(codes(&report), vec!["mount-propagation/root-not-shared"]);
    let finding = &report["findings"][0];
    assert_eq!(finding["severity"], "warning");
    assert!(
        finding["evidence"]
            .to_string()
            .contains("/proc/1/mountinfo:1")
    );
    assert!(
        finding["fix"]
            .to_string()
            .contains("mount --make-rshared /")
    );
}

#[test]
fn mountinfo_with_missing_fields_is_an_error() {
    let (_temp, root) = tempdir_with_root();
    write_file(&root, "proc/1/mountinfo", "25 1 8:1 / /\n");
    let report = report_for(&root);
    let check = &report["checks"][0];
    assert_eq!(check["status"], "error", "{check}");
    let reason = check["reason"].as_str().unwrap();
    assert!(reason.contains("line 1:"), "{reason}");
}

/// Returns whether systemd-analyze can run; see tests/systemd.rs for the same rule.
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
        "systemd-analyze is not installed but NODE_DOCTOR_REQUIRE_SYSTEMD_ANALYZE is set"
    );
    eprintln!("skipped: systemd-analyze is not installed (Debian package systemd)");
    false
}

/// Compares the files the reader merges, in order, with the `# FILE` headers that
/// `systemd-analyze --root=DIR cat-config systemd/system/UNIT` prints. cat-config lists the
/// unit file and its `UNIT.d/*.conf` drop-ins after masking and sorting, but not the
/// `service.d` type folder, so those drop-ins are left out of the comparison.
fn assert_same_files_as_systemd(root: &Path, unit_name: &str) {
    let output = Command::new("systemd-analyze")
        .arg(format!("--root={}", root.display()))
        .args(["cat-config", &format!("systemd/system/{unit_name}")])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let prefix = root.to_string_lossy().to_string();
    let systemd_files: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.strip_prefix("# "))
        .filter(|path| path.starts_with(&prefix))
        .map(|path| path[prefix.len()..].to_string())
        .collect();

    let unit = load(root, unit_name);
    let own_dir = format!("/{unit_name}.d/");
    let reader_files: Vec<String> = unit
        .files()
        .into_iter()
        .filter(|file| !file.contains(".d/") || file.contains(&own_dir))
        .collect();
    assert_eq!(reader_files, systemd_files, "{unit_name} under {prefix}");
}

#[test]
fn reader_matches_systemd_analyze_cat_config() {
    if !systemd_analyze_available() {
        return;
    }
    let (_temp, root) = tempdir_with_root();
    write_file(&root, &format!("{VENDOR}/docker.service"), VENDOR_UNIT);
    write_file(
        &root,
        &format!("{VENDOR}/docker.service.d/10-vendor.conf"),
        SLAVE,
    );
    write_file(
        &root,
        &format!("{VENDOR}/docker.service.d/50-masked.conf"),
        SLAVE,
    );
    write_file(
        &root,
        &format!("{ETC}/docker.service.d/50-masked.conf"),
        RESET,
    );
    write_file(
        &root,
        &format!("{ETC}/docker.service.d/90-local.conf"),
        RESET,
    );
    write_file(
        &root,
        "run/systemd/system/docker.service.d/20-runtime.conf",
        SLAVE,
    );
    write_file(
        &root,
        "usr/local/lib/systemd/system/docker.service.d/30-local-lib.conf",
        RESET,
    );
    write_file(
        &root,
        &format!("{ETC}/docker.service.d/notes.txt"),
        "not a drop-in\n",
    );
    write_file(&root, &format!("{ETC}/service.d/10-all.conf"), RESET);
    assert_same_files_as_systemd(&root, "docker.service");

    // A unit in /etc replaces the vendor one of the same name.
    write_file(&root, &format!("{VENDOR}/containerd.service"), VENDOR_UNIT);
    write_file(
        &root,
        &format!("{ETC}/containerd.service"),
        "[Service]\nExecStart=/usr/bin/containerd\n",
    );
    assert_same_files_as_systemd(&root, "containerd.service");

    // A drop-in folder that is a file is skipped by both.
    write_file(&root, &format!("{VENDOR}/kubelet.service"), VENDOR_UNIT);
    write_file(&root, &format!("{ETC}/kubelet.service.d"), RESET);
    write_file(
        &root,
        &format!("{VENDOR}/kubelet.service.d/10-kubeadm.conf"),
        RESET,
    );
    assert_same_files_as_systemd(&root, "kubelet.service");
}
