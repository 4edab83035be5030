//! A worker node: no control-plane certificates, only the kubelet's.

mod common;

use std::fs;
use std::path::Path;

use common::{copy_snapshot, fixture, rootfs_path, run, run_json_report};

const NOW: &str = "2026-12-04T19:31:40Z";

fn make_worker(snapshot: &Path, keep_ca_crt: bool) {
    let pki = rootfs_path(snapshot, "/etc/kubernetes/pki");
    let ca = fs::read(pki.join("ca.crt")).unwrap();
    fs::remove_dir_all(&pki).unwrap();
    if keep_ca_crt {
        // kubeadm join writes the cluster CA certificate, and nothing else, on a worker.
        fs::create_dir(&pki).unwrap();
        fs::write(pki.join("ca.crt"), ca).unwrap();
    }
    for file in ["admin.conf", "controller-manager.conf", "scheduler.conf"] {
        fs::remove_file(rootfs_path(snapshot, &format!("/etc/kubernetes/{file}"))).unwrap();
    }
    fs::remove_dir_all(rootfs_path(snapshot, "/etc/kubernetes/manifests")).unwrap();
}

fn cert_expiry_result(report: &serde_json::Value) -> &serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "cert-expiry")
        .expect("cert-expiry ran")
}

#[test]
fn cert_expiry_skipped_without_pki() {
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    make_worker(snapshot.path(), false);
    let report = run_json_report(snapshot.path(), NOW);

    let result = cert_expiry_result(&report);
    assert_eq!(result["status"], "skipped");
    let reason = result["reason"].as_str().unwrap();
    assert!(reason.contains("not a control-plane node"), "{reason}");
}

#[test]
fn cert_expiry_skipped_with_join_ca() {
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    make_worker(snapshot.path(), true);
    let report = run_json_report(snapshot.path(), NOW);
    assert_eq!(cert_expiry_result(&report)["status"], "skipped");
}

#[test]
fn kubelet_certificate_still_recorded() {
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    make_worker(snapshot.path(), false);
    let output = run(&[
        "--snapshot",
        snapshot.path().to_str().unwrap(),
        "--now",
        NOW,
        "-o",
        "prometheus",
    ]);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("path=\"/var/lib/kubelet/pki/kubelet-client-current.pem\",subject=\"O=system:nodes, CN=system:node:node-1\""),
        "{text}"
    );
}

#[test]
fn certs_prints_only_kubelet_row() {
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    make_worker(snapshot.path(), true);
    let output = run(&[
        "certs",
        "--snapshot",
        snapshot.path().to_str().unwrap(),
        "--now",
        NOW,
    ]);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    // The first column is as wide as the longest name present, kubelet-client, plus padding.
    assert_eq!(
        text,
        "CERTIFICATE      EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED\n\
         kubelet-client   Dec 04, 2027 19:31 UTC   364d            ca                      no      \n"
    );
}

#[test]
fn skipped_on_node_without_kubernetes() {
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    fs::remove_dir_all(rootfs_path(snapshot.path(), "/etc/kubernetes")).unwrap();
    let report = run_json_report(snapshot.path(), NOW);

    let result = cert_expiry_result(&report);
    assert_eq!(result["status"], "skipped");
    assert!(
        result["reason"]
            .as_str()
            .unwrap()
            .contains("not a kubeadm node")
    );
}
