//! Broken files where certificates should be: each one is reported by name, nothing panics
//! or hangs, and the run completes.

mod common;

use std::fs::{self, File, OpenOptions};
use std::path::Path;

use common::{copy_snapshot, findings_with_code, fixture, rootfs_path, run, run_json_report};

const NOW: &str = "2026-12-04T19:31:40Z";

/// Damages one file of a fresh copy of the fixture and returns the copy.
fn damaged(host_path: &str, damage: impl FnOnce(&Path)) -> tempfile::TempDir {
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    damage(&rootfs_path(snapshot.path(), host_path));
    snapshot
}

/// Asserts that cert-expiry reports `code` for `host_path`, and that every check finished.
fn assert_reported(snapshot: &Path, code: &str, host_path: &str) {
    let report = run_json_report(snapshot, NOW);
    let findings = findings_with_code(&report, code);
    let finding = findings
        .iter()
        .find(|f| f["evidence"][0]["source"] == host_path)
        .unwrap_or_else(|| {
            panic!(
                "no {code} for {host_path}; findings: {:#}",
                report["findings"]
            )
        });
    assert!(finding["summary"].as_str().unwrap().contains(host_path));

    for check in report["checks"].as_array().unwrap() {
        assert_ne!(check["status"], "error", "check did not complete: {check}");
    }
    let others = findings_with_code(&report, "cert-expiry/unreadable").len()
        + findings_with_code(&report, "cert-expiry/missing").len();
    assert_eq!(
        others, 1,
        "only the damaged file is reported: {:#}",
        report["findings"]
    );
}

/// Asserts that `node-doctor certs` still prints the table and names the file.
fn assert_certs_names(snapshot: &Path, name: &str) {
    let output = run(&[
        "certs",
        "--snapshot",
        snapshot.to_str().unwrap(),
        "--now",
        NOW,
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains(name), "{text}");
    assert!(text.contains("\nCERTIFICATE AUTHORITY "), "{text}");
}

#[test]
fn truncated_kubeconfig() {
    let path = "/etc/kubernetes/admin.conf";
    let snapshot = damaged(path, |file| {
        let text = fs::read(file).unwrap();
        fs::write(file, &text[..text.len() / 2]).unwrap();
    });
    assert_reported(snapshot.path(), "cert-expiry/unreadable", path);
    assert_certs_names(snapshot.path(), "!UNREADABLE! admin.conf");
}

#[test]
fn kubeconfig_cut_early_shows_no_yaml_excerpt() {
    let path = "/etc/kubernetes/admin.conf";
    let snapshot = damaged(path, |file| {
        let text = fs::read(file).unwrap();
        fs::write(file, &text[..1000]).unwrap();
    });
    assert_reported(snapshot.path(), "cert-expiry/unreadable", path);
    assert_certs_names(snapshot.path(), "!UNREADABLE! admin.conf");
}

#[test]
fn pem_with_garbage() {
    let path = "/etc/kubernetes/pki/apiserver.crt";
    let snapshot = damaged(path, |file| {
        let text = fs::read_to_string(file).unwrap();
        let (head, tail) = text.split_at(text.len() / 2);
        fs::write(file, format!("{head}\n#!garbage%%\n{tail}")).unwrap();
    });
    assert_reported(snapshot.path(), "cert-expiry/unreadable", path);
    assert_certs_names(snapshot.path(), path);
}

#[test]
fn der_file() {
    let path = "/etc/kubernetes/pki/apiserver.crt";
    let snapshot = damaged(path, |file| {
        use base64::Engine as _;
        let text = fs::read_to_string(file).unwrap();
        let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        fs::write(file, der).unwrap();
    });
    assert_reported(snapshot.path(), "cert-expiry/unreadable", path);
    assert_certs_names(snapshot.path(), "binary DER");
}

#[test]
fn empty_file() {
    let path = "/etc/kubernetes/pki/front-proxy-client.crt";
    let snapshot = damaged(path, |file| fs::write(file, "").unwrap());
    assert_reported(snapshot.path(), "cert-expiry/unreadable", path);
}

#[test]
fn directory_instead_of_crt() {
    let path = "/etc/kubernetes/pki/apiserver-kubelet-client.crt";
    let snapshot = damaged(path, |file| {
        fs::remove_file(file).unwrap();
        fs::create_dir(file).unwrap();
    });
    assert_reported(snapshot.path(), "cert-expiry/unreadable", path);
}

#[test]
fn fifo_instead_of_crt() {
    let path = "/etc/kubernetes/pki/etcd/server.crt";
    let snapshot = damaged(path, |file| {
        fs::remove_file(file).unwrap();
        nix::unistd::mkfifo(file, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    });
    assert_reported(snapshot.path(), "cert-expiry/unreadable", path);
    assert_certs_names(snapshot.path(), "!UNREADABLE! etcd-server");
}

#[test]
fn sparse_one_gigabyte_crt() {
    let path = "/etc/kubernetes/pki/apiserver.crt";
    let snapshot = damaged(path, |file| {
        let handle = OpenOptions::new().write(true).open(file).unwrap();
        handle.set_len(1 << 30).unwrap();
    });
    assert_reported(snapshot.path(), "cert-expiry/unreadable", path);
}

#[test]
fn deleted_crt_is_missing() {
    let path = "/etc/kubernetes/pki/etcd/peer.crt";
    let snapshot = damaged(path, |file| fs::remove_file(file).unwrap());
    assert_reported(snapshot.path(), "cert-expiry/missing", path);
}

#[test]
fn unreadable_kubelet_cert_is_only_a_row() {
    let path = "/var/lib/kubelet/pki/kubelet-client-2026-12-04-19-31-38.pem";
    let snapshot = damaged(path, |file| {
        File::create(file).unwrap();
    });
    let report = run_json_report(snapshot.path(), NOW);
    let cert_expiry: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "cert-expiry")
        .collect();
    assert!(
        cert_expiry.is_empty(),
        "kubelet-client-cert reports it: {cert_expiry:?}"
    );
    assert_certs_names(snapshot.path(), "!UNREADABLE! kubelet-client");
}
