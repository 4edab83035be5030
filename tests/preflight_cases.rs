//! Snapshot tests for the mount-propagation and join-preflight checks, built from public bug
//! reports, and a healthy containerd node that must give no findings.
//!
//! Each folder under tests/fixtures/cases has `case.md` (the report and what should be found),
//! `case.json` (the base snapshot, the node, the time, the special files and the expected
//! findings) and `overlay/`, copied over the base: `overlay/rootfs` contains the node's files,
//! `overlay/commands` captured command output. The base is `empty` or the kubeadm-real fixture.

mod casebuild;
mod certgen;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use casebuild::{copy_tree, evidence_text, finding, fix_text, fixtures, run_json, write};

/// Builds the snapshot a case describes in `into` and returns its directory.
fn build(case_dir: &Path, spec: &Value, into: &Path) -> PathBuf {
    let snapshot = into.join("snapshot");
    match spec["base"].as_str().unwrap() {
        "kubeadm-real" => {
            copy_tree(&fixtures().join("kubeadm-real"), &snapshot);
            fs::remove_dir_all(snapshot.join("expected")).unwrap();
        }
        "empty" => fs::create_dir_all(snapshot.join("rootfs")).unwrap(),
        other => panic!("unknown base {other:?}"),
    }
    let manifest = serde_json::json!({
        "format": "node-doctor-snapshot/v1",
        "node": spec["node"],
        "capturedAt": spec["now"],
        "special": spec["special"],
    });
    write(&snapshot.join("snapshot.json"), &manifest.to_string());
    copy_tree(&case_dir.join("overlay"), &snapshot);
    snapshot
}

fn check_case(name: &str) {
    let case_dir = fixtures().join("cases").join(name);
    let spec: Value =
        serde_json::from_str(&fs::read_to_string(case_dir.join("case.json")).unwrap()).unwrap();
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(&case_dir, &spec, temp.path());
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
    if expect["codes"].as_object().unwrap().is_empty() {
        assert_eq!(codes, Vec::<&str>::new(), "{name}: expected no findings");
    }
    for id in expect["passed"].as_array().into_iter().flatten() {
        let check = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| &c["id"] == id)
            .unwrap_or_else(|| panic!("{name}: check {id} did not run"));
        assert_eq!(check["status"], "passed", "{name}: status of {id}: {check}");
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
fn case_030_centos_docker_unit_slave() {
    check_case("030-centos-docker-1-12-mountflags-slave-kubelet-container");
}

#[test]
fn case_031_fedora_docker_unit_slave() {
    check_case("031-openshift-kubelet-event-not-shared-or-slave-mount");
}

#[test]
fn case_032_serviceaccount_files_missing() {
    check_case("032-serviceaccount-files-missing-crashloop-mountflags-slave");
}

#[test]
fn case_035_override_drop_in_slave() {
    check_case("035-docker-18-09-override-mountflags-slave");
}

#[test]
fn case_075_bridge_nf_and_swap() {
    check_case("075-join-preflight-bridge-nf-call-missing-and-swap-in-docker-nodes");
}

#[test]
fn case_078_swap_with_fail_swap_on_false() {
    check_case("078-preflight-swap-on-kubelet-fail-swap-on-flag-not-enough");
}

#[test]
fn healthy_containerd_node_has_no_findings() {
    check_case("healthy-containerd-node");
}
