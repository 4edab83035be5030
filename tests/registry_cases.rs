//! Snapshot tests of registry-ca built from public bug reports.
//!
//! Each folder under tests/fixtures/cases/02x-* has the report (`case.md`), a snapshot of the
//! node (`snapshot/`, with journal lines and configuration rebuilt from the report) and the
//! expected findings (`expect.json`). Snapshots run no handshake; --offline is passed as well
//! so nothing here can reach a registry.

mod registry;

use std::fs;

use serde_json::Value;

use registry::evidence_text;

fn check_case(name: &str) {
    let case_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cases")
        .join(name);
    let expect: Value =
        serde_json::from_str(&fs::read_to_string(case_dir.join("expect.json")).unwrap()).unwrap();
    let extra: Vec<&str> = expect["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let output = assert_cmd::Command::cargo_bin("node-doctor")
        .unwrap()
        .args([
            "check",
            "--only",
            "registry-ca",
            "--offline",
            "-o",
            "json",
            "--snapshot",
        ])
        .arg(case_dir.join("snapshot"))
        .args(&extra)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{name}: invalid JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    let find = |code: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == code)
            .unwrap_or_else(|| panic!("{name}: {code} not reported; got {codes:?}"))
    };

    assert_eq!(
        output.status.code().unwrap() as i64,
        expect["exit"].as_i64().unwrap(),
        "{name}: exit status; findings {codes:?}"
    );
    for (code, severity) in expect["codes"].as_object().unwrap() {
        assert_eq!(
            &find(code)["severity"],
            severity,
            "{name}: severity of {code}"
        );
    }
    for code in expect["absent"].as_array().unwrap() {
        let code = code.as_str().unwrap();
        assert!(
            !codes.contains(&code),
            "{name}: {code} reported but should not be"
        );
    }
    for (code, needles) in expect["evidence"].as_object().unwrap() {
        let evidence = evidence_text(find(code));
        for needle in needles.as_array().unwrap() {
            let needle = needle.as_str().unwrap();
            assert!(
                evidence.contains(needle),
                "{name}: evidence of {code} lacks {needle:?}:\n{evidence}"
            );
        }
    }
    for (code, needles) in expect["fix"].as_object().unwrap() {
        let fix = serde_json::to_string(&find(code)["fix"])
            .unwrap()
            .replace("\\\"", "\"");
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
fn case_022_docker_insecure_only() {
    check_case("022-containerd-no-ca-configured-docker-insecure-only");
}

#[test]
fn case_023_legacy_tls_config() {
    check_case("023-containerd-1-2-ignores-registry-tls-config");
}

#[test]
fn case_024_crio_no_ca() {
    check_case("024-crio-self-signed-registry-no-ca");
}

#[test]
fn case_025_k3s_configs_under_mirrors() {
    check_case("025-k3s-registries-yaml-configs-nested-under-mirrors");
}

#[test]
fn case_026_docker_ip_port() {
    check_case("026-docker-node-imagepullbackoff-registry-ip-port");
}

#[test]
fn case_027_talos_hosts_missing() {
    check_case("027-talos-registry-hosts-config-missing-on-one-node");
}
