//! The demo snapshot in examples/broken-node, which the README's quick start runs.
//!
//! It is the kubeadm-real control-plane node with problems planted: kubelet.conf embeds an
//! expired client certificate while the kubelet's rotated one is valid and unused, the front
//! proxy client certificate has expired, and the API server's etcd client certificate is gone.
//! `cargo test --test demo -- --ignored` writes it again.

mod casebuild;
mod certgen;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::json;

use casebuild::{build_case, copy_tree, finding, run_json, write};
use certgen::TestCa;

fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/broken-node")
}

#[test]
#[ignore = "rewrites examples/broken-node; run by hand"]
fn regenerate_demo() {
    let spec = json!({
        "node": "node-1",
        "role": "control-plane",
        "now": "2026-12-04T19:31:40Z",
        "certs": {
            "OLD": {"cn": "system:node:node-1", "o": ["system:nodes"], "notBefore": "2025-11-20T08:00:00Z", "notAfter": "2026-11-20T08:00:00Z"},
            "NEW": {"cn": "system:node:node-1", "o": ["system:nodes"], "notBefore": "2026-10-01T08:00:00Z", "notAfter": "2027-10-01T08:00:00Z"}
        },
        "kubeletConf": {"user": "system:node:node-1", "credential": "embedded:OLD"},
        "certDir": "/var/lib/kubelet/pki",
        "store": {"kubelet-client-2026-10-01-08-00-00.pem": "NEW"},
        "current": "kubelet-client-2026-10-01-08-00-00.pem",
        "bootstrap": false
    });
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build_case(Path::new("/nonexistent"), &spec, temp.path());
    let pki = snapshot.join("rootfs/etc/kubernetes/pki");

    let front_proxy_ca = TestCa::load(&pki, "front-proxy-ca");
    let expired = front_proxy_ca.issue_client(
        "front-proxy-client",
        &[],
        "2025-11-28T10:00:00Z",
        "2026-11-28T10:00:00Z",
    );
    write(&pki.join("front-proxy-client.crt"), &expired.cert_pem);
    write(&pki.join("front-proxy-client.key"), &expired.key_pem);
    fs::remove_file(pki.join("apiserver-etcd-client.crt")).unwrap();
    fs::remove_file(pki.join("apiserver-etcd-client.key")).unwrap();

    let journal = "2026-12-04T19:20:07+0000 node-1 kubelet[2210]: E1204 19:20:07.026281    2210 bootstrap.go:265] part of the existing bootstrap client certificate in /etc/kubernetes/kubelet.conf is expired: 2026-11-20 08:00:00 +0000 UTC\n\
2026-12-04T19:20:07+0000 node-1 kubelet[2210]: E1204 19:20:07.026322    2210 run.go:74] \"command failed\" err=\"failed to run Kubelet: unable to load bootstrap kubeconfig: stat /etc/kubernetes/bootstrap-kubelet.conf: no such file or directory\"\n";
    write(&snapshot.join("commands/journal/kubelet.log"), journal);
    write(
        &snapshot.join("README.md"),
        "# broken-node\n\nA demo snapshot for `node-doctor check --snapshot examples/broken-node`.\n\n\
         The kubeadm-generated control-plane node `node-1` with three planted problems: kubelet.conf\n\
         embeds an expired client certificate while a valid rotated one sits unused in\n\
         /var/lib/kubelet/pki, front-proxy-client.crt has expired, and apiserver-etcd-client.crt is\n\
         missing. All keys are test keys. tests/demo.rs generates it.\n",
    );

    let target = demo_dir();
    let _ = fs::remove_dir_all(&target);
    copy_tree(&snapshot, &target);
}

#[test]
fn demo_shows_planted_problems() {
    let (status, report) = run_json(&demo_dir());
    assert_eq!(status, 1);
    for code in [
        "kubelet-client-cert/expired",
        "kubelet-client-cert/kubeconfig-not-rotating",
        "kubelet-client-cert/no-bootstrap-fallback",
        "cert-expiry/expired",
        "cert-expiry/missing",
    ] {
        assert!(finding(&report, code).is_some(), "demo lacks {code}");
    }
}

#[test]
fn demo_reports_log_lines_once() {
    let (_, report) = run_json(&demo_dir());
    let findings = report["findings"].as_array().unwrap();
    let expired: Vec<_> = findings
        .iter()
        .filter(|f| f["code"] == "kubelet-client-cert/expired")
        .collect();
    assert_eq!(
        expired.len(),
        1,
        "the log line and the file check name one problem"
    );
    assert_eq!(expired[0]["check"], "kubelet-client-cert");
    let evidence = serde_json::to_string(&expired[0]["evidence"]).unwrap();
    assert!(evidence.contains("bootstrap.go:265"), "{evidence}");
}
