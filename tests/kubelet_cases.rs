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

use casebuild::{build_case, evidence_text, finding, fix_text, fixtures, run_json};

fn check_case(name: &str) {
    let case_dir = fixtures().join("cases").join(name);
    let spec: Value =
        serde_json::from_str(&fs::read_to_string(case_dir.join("case.json")).unwrap()).unwrap();
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build_case(&case_dir, &spec, temp.path());
    let (status, report) = run_json(&snapshot);
    let expect = &spec["expect"];
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();

    assert_eq!(
        status as i64,
        expect["exit"].as_i64().unwrap(),
        "{name}: exit status; findings {codes:?}"
    );
    for (code, severity) in expect["codes"].as_object().unwrap() {
        let found = finding(&report, code)
            .unwrap_or_else(|| panic!("{name}: {code} not reported; got {codes:?}"));
        assert_eq!(&found["severity"], severity, "{name}: severity of {code}");
    }
    for code in expect["absent"].as_array().unwrap() {
        assert!(
            finding(&report, code.as_str().unwrap()).is_none(),
            "{name}: {code} reported but should not be"
        );
    }
    for (code, needles) in expect["evidence"].as_object().unwrap() {
        let evidence = evidence_text(finding(&report, code).unwrap());
        for needle in needles.as_array().unwrap() {
            let needle = needle.as_str().unwrap();
            assert!(
                evidence.contains(needle),
                "{name}: evidence of {code} lacks {needle:?}:\n{evidence}"
            );
        }
    }
    for (code, needles) in expect["fix"].as_object().unwrap() {
        let fix = fix_text(finding(&report, code).unwrap());
        for needle in needles.as_array().unwrap() {
            let needle = needle.as_str().unwrap();
            assert!(
                fix.contains(needle),
                "{name}: fix of {code} lacks {needle:?}:\n{fix}"
            );
        }
    }
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
