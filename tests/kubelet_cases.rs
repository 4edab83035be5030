//! Snapshot tests built from public bug reports about kubelet client certificates.
//!
//! Each folder under tests/fixtures/cases has `case.md` (the report and what should be found),
//! `case.json` (the certificates and kubelet files to build, and the expected findings) and an
//! optional `overlay/` copied over the snapshot (journal excerpts, flags files, /proc entries).
//! The snapshot starts from the kubeadm-real fixture; certificates are generated here, signed by
//! the fixture's CA key.

mod casebuild;
mod certgen;

use std::fs;

use serde_json::Value;

use casebuild::{assert_expectations, build_case, fixtures, run_json};

fn check_case(name: &str) {
    let case_dir = fixtures().join("cases").join(name);
    let spec: Value =
        serde_json::from_str(&fs::read_to_string(case_dir.join("case.json")).unwrap()).unwrap();
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build_case(&case_dir, &spec, temp.path());
    let (status, report) = run_json(&snapshot);
    assert_expectations(name, status, &report, &spec["expect"], false);
}

#[test]
fn case_002_rotated_cert_unused() {
    check_case("002-kubelet-starts-with-kubeconfig-cert-not-cert-dir");
}

#[test]
fn case_003_short_signing_duration() {
    check_case("003-short-signing-duration-node-deallocated-overnight");
}

#[test]
fn case_004_expired_server_not_responsive() {
    check_case("004-client-cert-expired-server-not-responsive-loop");
}

#[test]
fn case_005_kubelet_conf_user_not_node() {
    check_case("005-kubelet-finalize-user-not-found-in-kubelet-conf");
}

#[test]
fn case_007_very_short_lifetime_in_tmpfs() {
    check_case("007-rotation-csr-unauthorized-very-short-cert-lifetime");
}
