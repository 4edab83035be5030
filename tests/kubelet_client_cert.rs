//! The kubelet-client-cert check on generated nodes, one problem at a time.

mod casebuild;
mod certgen;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::{Value, json};

use casebuild::{build_case, evidence_text, finding, run_json};

const NOW: &str = "2026-12-04T19:31:40Z";

/// Returns a healthy worker: kubelet.conf names the store's current symlink, which points at a valid
/// certificate for node-1 signed by the cluster CA.
fn healthy() -> Value {
    json!({
        "node": "node-1",
        "role": "worker",
        "now": NOW,
        "certs": {
            "A": {"cn": "system:node:node-1", "o": ["system:nodes"], "notBefore": "2026-11-01T00:00:00Z", "notAfter": "2027-11-01T00:00:00Z"},
            "B": {"cn": "system:node:node-1", "o": ["system:nodes"], "notBefore": "2026-11-01T00:00:00Z", "notAfter": "2027-11-01T00:00:00Z"}
        },
        "kubeletConf": {"user": "default-auth", "credential": "store"},
        "certDir": "/var/lib/kubelet/pki",
        "store": {"kubelet-client-2026-11-01-00-00-00.pem": "A"},
        "current": "kubelet-client-2026-11-01-00-00-00.pem",
        "bootstrap": false
    })
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// Builds the node, lets `adjust` change files in the snapshot, and runs the check.
fn run(spec: Value, adjust: impl FnOnce(&Path)) -> (i32, Value) {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build_case(Path::new("/nonexistent"), &spec, temp.path());
    adjust(&snapshot.join("rootfs"));
    run_json(&snapshot)
}

fn kubelet_check(report: &Value) -> &Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "kubelet-client-cert")
        .unwrap()
}

#[test]
fn healthy_worker_passes() {
    let (status, report) = run(healthy(), |_| {});
    assert_eq!(codes(&report), Vec::<String>::new());
    assert_eq!(kubelet_check(&report)["status"], "passed");
    assert_eq!(status, 0);
}

#[test]
fn key_from_another_pair_is_mismatch() {
    let mut spec = healthy();
    spec["store"] = json!({"kubelet-client-2026-11-01-00-00-00.pem": "A:B"});
    let (_, report) = run(spec, |_| {});
    let found = finding(&report, "kubelet-client-cert/key-mismatch").expect("key-mismatch");
    assert!(evidence_text(found).contains("sha256:"));
    assert!(!evidence_text(found).contains("PRIVATE KEY"));
}

#[test]
fn certificate_from_other_cluster_is_untrusted() {
    let mut spec = healthy();
    spec["certs"]["A"]["issuer"] = json!("foreign");
    let (_, report) = run(spec, |_| {});
    assert!(
        finding(&report, "kubelet-client-cert/untrusted-issuer").is_some(),
        "{:?}",
        codes(&report)
    );
}

#[test]
fn certificate_for_other_node_is_wrong_identity() {
    let mut spec = healthy();
    spec["certs"]["A"]["cn"] = json!("system:node:node-2");
    let (_, report) = run(spec, |_| {});
    let found = finding(&report, "kubelet-client-cert/wrong-identity").expect("wrong-identity");
    assert!(evidence_text(found).contains("CN=system:node:node-1, O=system:nodes"));
}

#[test]
fn missing_organization_is_wrong_identity() {
    let mut spec = healthy();
    spec["certs"]["A"]["o"] = json!([]);
    let (_, report) = run(spec, |_| {});
    assert!(finding(&report, "kubelet-client-cert/wrong-identity").is_some());
}

#[test]
fn current_as_regular_file_is_broken_link() {
    let mut spec = healthy();
    spec["current"] = Value::Null;
    spec["currentFile"] = json!("A");
    let (_, report) = run(spec, |_| {});
    let found = finding(&report, "kubelet-client-cert/current-link-broken").expect("link finding");
    assert!(found["summary"].as_str().unwrap().contains("regular file"));
}

#[test]
fn dangling_current_link_is_broken() {
    let mut spec = healthy();
    spec["current"] = Value::Null;
    spec["currentLinkTarget"] =
        json!("/var/lib/kubelet/pki/kubelet-client-2020-01-01-00-00-00.pem");
    let (status, report) = run(spec, |_| {});
    let found = finding(&report, "kubelet-client-cert/current-link-broken").expect("link finding");
    assert!(found["summary"].as_str().unwrap().contains("dangling"));
    assert_eq!(found["severity"], "critical");
    assert_eq!(status, 1);
    let fix = casebuild::fix_text(found);
    let relink = "ln -sfn /var/lib/kubelet/pki/kubelet-client-2026-11-01-00-00-00.pem /var/lib/kubelet/pki/kubelet-client-current.pem";
    assert!(fix.contains(relink), "{fix}");
}

#[test]
fn current_link_loop_is_reported() {
    let mut spec = healthy();
    spec["current"] = Value::Null;
    spec["currentLinkTarget"] = json!("/var/lib/kubelet/pki/kubelet-client-current.pem");
    let (_, report) = run(spec, |_| {});
    let found = finding(&report, "kubelet-client-cert/current-link-broken").expect("link finding");
    assert!(found["summary"].as_str().unwrap().contains("loop"));
}

#[test]
fn rotation_off_in_config_is_reported() {
    let (_, report) = run(healthy(), |rootfs| {
        let config = rootfs.join("var/lib/kubelet/config.yaml");
        let text = fs::read_to_string(&config)
            .unwrap()
            .replace("rotateCertificates: true", "rotateCertificates: false");
        fs::write(config, text).unwrap();
    });
    let found =
        finding(&report, "kubelet-client-cert/rotation-disabled").expect("rotation-disabled");
    assert!(evidence_text(found).contains("/var/lib/kubelet/config.yaml"));
}

#[test]
fn rotation_flag_false_overrides_config() {
    let (_, report) = run(healthy(), |rootfs| {
        let flags = "KUBELET_EXTRA_ARGS=\"--rotate-certificates=false\"\n";
        fs::create_dir_all(rootfs.join("etc/default")).unwrap();
        fs::write(rootfs.join("etc/default/kubelet"), flags).unwrap();
    });
    let found =
        finding(&report, "kubelet-client-cert/rotation-disabled").expect("rotation-disabled");
    assert!(evidence_text(found).contains("/etc/default/kubelet"));
}

#[test]
fn context_user_without_entry_is_reported() {
    let mut spec = healthy();
    spec["kubeletConf"]["contextUser"] = json!("system:node:node-1");
    let (_, report) = run(spec, |_| {});
    let found =
        finding(&report, "kubelet-client-cert/kubeconfig-user-missing").expect("user missing");
    assert!(evidence_text(found).contains("default-auth"));
}

#[test]
fn truncated_kubelet_conf_is_invalid() {
    let (status, report) = run(healthy(), |rootfs| {
        let path = rootfs.join("etc/kubernetes/kubelet.conf");
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, &text[..text.len() / 3]).unwrap();
    });
    let found = codes(&report);
    assert!(
        found
            .iter()
            .any(|c| c == "kubelet-client-cert/kubeconfig-invalid"
                || c == "kubelet-client-cert/cert-unreadable"),
        "{found:?}"
    );
    let text = serde_json::to_string(&report["findings"]).unwrap();
    assert!(text.contains("/etc/kubernetes/kubelet.conf"));
    assert_eq!(status, 1);
}

#[test]
fn garbage_in_current_pem_is_unreadable() {
    let (_, report) = run(healthy(), |rootfs| {
        let path = rootfs.join("var/lib/kubelet/pki/kubelet-client-2026-11-01-00-00-00.pem");
        fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\nnot base64 at all!!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
    });
    let found = finding(&report, "kubelet-client-cert/cert-unreadable").expect("unreadable");
    assert!(
        found["summary"]
            .as_str()
            .unwrap()
            .contains("kubelet-client-current.pem")
    );
    assert!(
        found["summary"]
            .as_str()
            .unwrap()
            .contains("invalid base64")
    );
}

#[test]
fn legacy_encrypted_key_is_reported() {
    let (_, report) = run(healthy(), |rootfs| {
        let path = rootfs.join("var/lib/kubelet/pki/kubelet-client-2026-11-01-00-00-00.pem");
        let text = fs::read_to_string(&path).unwrap();
        let key_start = text
            .find("-----BEGIN PRIVATE KEY-----")
            .expect("a key block");
        // A key in the form `openssl ec -aes128` writes: RFC 1421 headers, then ciphertext.
        let encrypted = "-----BEGIN EC PRIVATE KEY-----\n\
            Proc-Type: 4,ENCRYPTED\n\
            DEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF\n\n\
            q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n\
            -----END EC PRIVATE KEY-----\n";
        fs::write(&path, format!("{}{encrypted}", &text[..key_start])).unwrap();
    });

    let found = finding(&report, "kubelet-client-cert/cert-unreadable").expect("unreadable");
    let summary = found["summary"].as_str().unwrap();
    assert!(summary.contains("encrypted"), "{summary}");
}

#[test]
fn directory_as_current_target_is_unreadable() {
    let (_, report) = run(healthy(), |rootfs| {
        let path = rootfs.join("var/lib/kubelet/pki/kubelet-client-2026-11-01-00-00-00.pem");
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
    });
    let found = finding(&report, "kubelet-client-cert/cert-unreadable").expect("unreadable");
    assert!(found["summary"].as_str().unwrap().contains("directory"));
}

#[test]
fn ninety_five_percent_used_is_overdue() {
    let mut spec = healthy();
    spec["certs"]["A"]["notBefore"] = json!("2025-12-20T00:00:00Z");
    spec["certs"]["A"]["notAfter"] = json!("2026-12-20T00:00:00Z");
    let (status, report) = run(spec, |_| {});
    let found = finding(&report, "kubelet-client-cert/rotation-overdue").expect("overdue");
    assert_eq!(found["severity"], "warning");
    assert_eq!(status, 1);
}

#[test]
fn future_certificate_is_not_yet_valid() {
    let mut spec = healthy();
    spec["certs"]["A"]["notBefore"] = json!("2026-12-05T00:00:00Z");
    let (_, report) = run(spec, |_| {});
    assert!(finding(&report, "kubelet-client-cert/not-yet-valid").is_some());
}

#[test]
fn node_without_kubelet_conf_is_skipped() {
    let (status, report) = run(healthy(), |rootfs| {
        fs::remove_file(rootfs.join("etc/kubernetes/kubelet.conf")).unwrap();
    });
    let check = kubelet_check(&report);
    assert_eq!(check["status"], "skipped");
    assert!(
        check["reason"]
            .as_str()
            .unwrap()
            .contains("/etc/kubernetes/kubelet.conf")
    );
    // kubeadm configured this kubelet (config.yaml and the CA exist) and both kubeconfigs are
    // gone, which join-preflight reports; this check itself adds nothing.
    assert_eq!(
        codes(&report),
        vec!["join-preflight/kubelet-kubeconfig-missing".to_string()]
    );
    assert_eq!(status, 1);
}

#[test]
fn root_option_matches_snapshot() {
    let spec = {
        let mut spec = healthy();
        spec["store"] = json!({"kubelet-client-2026-11-01-00-00-00.pem": "A:B"});
        spec
    };
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build_case(Path::new("/nonexistent"), &spec, temp.path());
    let output = Command::cargo_bin("node-doctor")
        .unwrap()
        .args([
            "check",
            "-o",
            "json",
            "--only",
            "kubelet-client-cert",
            "--now",
            NOW,
            "--root",
        ])
        .arg(snapshot.join("rootfs"))
        .output()
        .unwrap();
    let live: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(live["source"], "live");
    let found =
        finding(&live, "kubelet-client-cert/key-mismatch").expect("key-mismatch under --root");
    let evidence = evidence_text(found);
    assert!(
        evidence.contains("/var/lib/kubelet/pki/kubelet-client-current.pem"),
        "{evidence}"
    );
    assert!(
        !evidence.contains(temp.path().to_str().unwrap()),
        "host paths only: {evidence}"
    );
}

#[test]
fn yaml_error_excerpt_hides_key_data() {
    let spec = {
        let mut spec = healthy();
        spec["kubeletConf"]["credential"] = json!("embedded:A");
        spec
    };
    let (_, report) = run(spec, |rootfs| {
        // Break the YAML right after client-key-data, so a parser excerpt would show the key.
        let path = rootfs.join("etc/kubernetes/kubelet.conf");
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, format!("{text}  - [unclosed\n")).unwrap();
    });
    let text = serde_json::to_string(&report).unwrap();
    assert!(text.contains("kubeconfig-invalid"), "{text}");
    assert!(!text.contains("client-key-data:"), "{text}");
}
