//! Builds kubelet snapshots from a JSON description, for the case tests and the check's tests.
//!
//! A description names the node, the time, the certificates to generate (signed by the
//! kubeadm-real fixture's CA key), how kubelet.conf refers to them and what the certificate
//! store contains. The snapshot starts from the kubeadm-real fixture.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use base64::Engine as _;
use serde_json::Value;

use crate::certgen::{Issued, TestCa};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let file_type = entry.file_type().unwrap();
        if file_type.is_symlink() {
            let _ = fs::remove_file(&target);
            std::os::unix::fs::symlink(fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else if file_type.is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

pub fn write(path: &Path, contents: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

pub fn base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Builds the snapshot a case describes and returns its directory.
pub fn build_case(case_dir: &Path, spec: &Value, into: &Path) -> PathBuf {
    let snapshot = into.join("snapshot");
    copy_tree(&fixtures().join("kubeadm-real"), &snapshot);
    let _ = fs::remove_dir_all(snapshot.join("expected"));
    let rootfs = snapshot.join("rootfs");
    let pki = rootfs.join("etc/kubernetes/pki");
    let node = spec["node"].as_str().unwrap();

    let mut ca = TestCa::load(&pki, "ca");
    if let Some(validity) = spec.get("ca") {
        ca.reissue(
            "kubernetes",
            validity["notBefore"].as_str().unwrap(),
            validity["notAfter"].as_str().unwrap(),
        );
        write(&pki.join("ca.crt"), &ca.cert_pem);
    }
    if spec["role"] == "worker" {
        make_worker(&rootfs);
    }

    let foreign = crate::certgen::foreign_ca("kubernetes");
    let mut issued: BTreeMap<String, Issued> = BTreeMap::new();
    for (id, cert) in spec["certs"].as_object().unwrap() {
        let signer = if cert["issuer"] == "foreign" {
            &foreign
        } else {
            &ca
        };
        let organizations: Vec<&str> = cert["o"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_str().unwrap())
            .collect();
        let pair = signer.issue_client(
            cert["cn"].as_str().unwrap(),
            &organizations,
            cert["notBefore"].as_str().unwrap(),
            cert["notAfter"].as_str().unwrap(),
        );
        issued.insert(id.clone(), pair);
    }

    let cert_dir = spec["certDir"].as_str().unwrap();
    let store = rootfs.join(cert_dir.trim_start_matches('/'));
    let _ = fs::remove_dir_all(rootfs.join("var/lib/kubelet/pki"));
    fs::create_dir_all(&store).unwrap();
    for (file, id) in spec["store"].as_object().unwrap() {
        write(
            &store.join(file),
            &store_file(&issued, id.as_str().unwrap()),
        );
    }
    let current_path = store.join("kubelet-client-current.pem");
    if let Some(current) = spec["current"].as_str() {
        std::os::unix::fs::symlink(format!("{cert_dir}/{current}"), &current_path).unwrap();
    }
    if let Some(target) = spec["currentLinkTarget"].as_str() {
        std::os::unix::fs::symlink(target, &current_path).unwrap();
    }
    if let Some(id) = spec["currentFile"].as_str() {
        write(&current_path, &store_file(&issued, id));
    }

    let kubelet_conf = kubelet_conf(spec, &ca, &issued, cert_dir);
    write(&rootfs.join("etc/kubernetes/kubelet.conf"), &kubelet_conf);
    if spec["bootstrap"].as_bool().unwrap() {
        write(
            &rootfs.join("etc/kubernetes/bootstrap-kubelet.conf"),
            &bootstrap_conf(&ca),
        );
    }

    write(&rootfs.join("etc/hostname"), &format!("{node}\n"));
    // The base fixture's special files, such as containerd's socket, stay part of the node.
    let base: Value =
        serde_json::from_str(&fs::read_to_string(snapshot.join("snapshot.json")).unwrap()).unwrap();
    let manifest = serde_json::json!({
        "format": "node-doctor-snapshot/v1",
        "node": node,
        "capturedAt": spec["now"],
        "special": base["special"],
    });
    write(&snapshot.join("snapshot.json"), &manifest.to_string());

    let overlay = case_dir.join("overlay");
    if overlay.is_dir() {
        copy_tree(&overlay, &snapshot);
    }
    snapshot
}

/// Returns a store file: `A` is certificate A with its key, `A:B` is certificate A with B's key.
fn store_file(issued: &BTreeMap<String, Issued>, id: &str) -> String {
    match id.split_once(':') {
        Some((cert, key)) => format!("{}{}", issued[cert].cert_pem, issued[key].key_pem),
        None => issued[id].combined(),
    }
}

/// Keeps only what a worker has after `kubeadm join`: the cluster CA certificate, and no
/// control-plane manifests.
fn make_worker(rootfs: &Path) {
    let kubernetes = rootfs.join("etc/kubernetes");
    for file in ["admin.conf", "controller-manager.conf", "scheduler.conf"] {
        let _ = fs::remove_file(kubernetes.join(file));
    }
    let _ = fs::remove_dir_all(kubernetes.join("manifests"));
    let pki = kubernetes.join("pki");
    for entry in fs::read_dir(&pki).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() == "ca.crt" {
            continue;
        }
        if path.is_dir() {
            fs::remove_dir_all(&path).unwrap();
        } else {
            fs::remove_file(&path).unwrap();
        }
    }
}

/// Writes kubelet.conf in the form kubeadm (user system:node:NAME) or the kubelet's TLS
/// bootstrap (user default-auth) leaves it.
fn kubelet_conf(
    spec: &Value,
    ca: &TestCa,
    issued: &BTreeMap<String, Issued>,
    cert_dir: &str,
) -> String {
    let user = spec["kubeletConf"]["user"].as_str().unwrap();
    let context_user = spec["kubeletConf"]["contextUser"].as_str().unwrap_or(user);
    let credential = spec["kubeletConf"]["credential"].as_str().unwrap();
    let credentials = match credential.strip_prefix("embedded:") {
        Some(id) => format!(
            "    client-certificate-data: {}\n    client-key-data: {}\n",
            base64(&issued[id].cert_pem),
            base64(&issued[id].key_pem)
        ),
        None => format!(
            "    client-certificate: {cert_dir}/kubelet-client-current.pem\n    client-key: {cert_dir}/kubelet-client-current.pem\n"
        ),
    };
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: https://cp.example.test:6443\n  name: default-cluster\ncontexts:\n- context:\n    cluster: default-cluster\n    namespace: default\n    user: {context_user}\n  name: default-context\ncurrent-context: default-context\nkind: Config\npreferences: {{}}\nusers:\n- name: {user}\n  user:\n{credentials}",
        base64(&ca.cert_pem)
    )
}

fn bootstrap_conf(ca: &TestCa) -> String {
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: https://cp.example.test:6443\n  name: kubernetes\ncontexts:\n- context:\n    cluster: kubernetes\n    user: tls-bootstrap-token-user\n  name: tls-bootstrap-token-user@kubernetes\ncurrent-context: tls-bootstrap-token-user@kubernetes\nkind: Config\npreferences: {{}}\nusers:\n- name: tls-bootstrap-token-user\n  user:\n    token: abcdef.0123456789abcdef\n",
        base64(&ca.cert_pem)
    )
}

pub fn run_json(snapshot: &Path) -> (i32, Value) {
    let output = Command::cargo_bin("node-doctor")
        .unwrap()
        .args(["check", "-o", "json", "--snapshot"])
        .arg(snapshot)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "invalid JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap(), report)
}

pub fn finding<'a>(report: &'a Value, code: &str) -> Option<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
}

pub fn evidence_text(finding: &Value) -> String {
    finding["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e["source"],
                e["field"],
                e["value"].as_str().unwrap()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn fix_text(finding: &Value) -> String {
    serde_json::to_string(&finding["fix"])
        .unwrap()
        .replace("\\\"", "\"")
}

/// Builds a snapshot from a case's `overlay/` alone, for checks that need no certificates: the
/// manifest names the case's node and time.
pub fn build_overlay_case(case_dir: &Path, spec: &Value, into: &Path) -> PathBuf {
    let snapshot = into.join("snapshot");
    fs::create_dir_all(snapshot.join("rootfs")).unwrap();
    let manifest = serde_json::json!({
        "format": "node-doctor-snapshot/v1",
        "node": spec["node"],
        "capturedAt": spec["now"],
    });
    write(&snapshot.join("snapshot.json"), &manifest.to_string());
    copy_tree(&case_dir.join("overlay"), &snapshot);
    snapshot
}

/// Runs `node-doctor check -o json` on a snapshot with extra arguments.
pub fn run_json_with(snapshot: &Path, args: &[&str]) -> (i32, Value) {
    let output = Command::cargo_bin("node-doctor")
        .unwrap()
        .args(["check", "-o", "json", "--snapshot"])
        .arg(snapshot)
        .args(args)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "invalid JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap(), report)
}

/// Asserts a case's `expect` block against a report: `exit`, then the optional `codes` (with
/// severities), `absent`, and `summary`, `evidence` and `fix` (text each must contain). With
/// `fix_with_details`, the fix needles may also match the finding's details.
pub fn assert_expectations(
    name: &str,
    status: i32,
    report: &Value,
    expect: &Value,
    fix_with_details: bool,
) {
    let found: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        status as i64,
        expect["exit"].as_i64().unwrap(),
        "{name}: exit status; findings {found:?}, checks {}",
        report["checks"]
    );

    if let Some(codes) = expect.get("codes").and_then(Value::as_object) {
        for (code, severity) in codes {
            let reported = finding(report, code)
                .unwrap_or_else(|| panic!("{name}: {code} not reported; got {found:?}"));
            assert_eq!(
                &reported["severity"], severity,
                "{name}: severity of {code}"
            );
        }
    }
    if let Some(absent) = expect.get("absent").and_then(Value::as_array) {
        for code in absent {
            let code = code.as_str().unwrap();
            assert!(
                finding(report, code).is_none(),
                "{name}: {code} reported but should not be"
            );
        }
    }

    for key in ["summary", "evidence", "fix"] {
        let Some(entries) = expect.get(key).and_then(Value::as_object) else {
            continue;
        };
        for (code, needles) in entries {
            let reported = finding(report, code)
                .unwrap_or_else(|| panic!("{name}: {code} not reported; got {found:?}"));
            let text = expected_text(key, reported, fix_with_details);
            for needle in needles.as_array().unwrap() {
                let needle = needle.as_str().unwrap();
                assert!(
                    text.contains(needle),
                    "{name}: {key} of {code} lacks {needle:?}:\n{text}"
                );
            }
        }
    }
}

/// Returns the part of a finding an `expect` key names, as text to search.
fn expected_text(key: &str, finding: &Value, fix_with_details: bool) -> String {
    match key {
        "summary" => finding["summary"].as_str().unwrap().to_string(),
        "evidence" => evidence_text(finding),
        _ if fix_with_details => format!("{}\n{}", fix_text(finding), finding["details"]),
        _ => fix_text(finding),
    }
}
