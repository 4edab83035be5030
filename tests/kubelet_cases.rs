//! Snapshot tests built from public bug reports about kubelet client certificates.
//!
//! Each folder under tests/fixtures/cases has `case.md` (the report and what should be found),
//! `case.json` (the certificates and kubelet files to build, and the expected findings) and an
//! optional `overlay/` copied over the snapshot (journal excerpts, flags files, /proc entries).
//! The snapshot starts from the kubeadm-real fixture; certificates are generated here, signed by
//! the fixture's CA key.

mod certgen;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use base64::Engine as _;
use serde_json::Value;

use certgen::{Issued, TestCa};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn copy_tree(from: &Path, to: &Path) {
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

fn write(path: &Path, contents: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

fn base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Builds the snapshot a case describes and returns its directory.
fn build_case(case_dir: &Path, spec: &Value, into: &Path) -> PathBuf {
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

    let mut issued: BTreeMap<String, Issued> = BTreeMap::new();
    for (id, cert) in spec["certs"].as_object().unwrap() {
        let organizations: Vec<&str> = cert["o"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_str().unwrap())
            .collect();
        let pair = ca.issue_client(
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
        write(&store.join(file), &issued[id.as_str().unwrap()].combined());
    }
    if let Some(current) = spec["current"].as_str() {
        std::os::unix::fs::symlink(
            format!("{cert_dir}/{current}"),
            store.join("kubelet-client-current.pem"),
        )
        .unwrap();
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
    let manifest = serde_json::json!({
        "format": "node-doctor-snapshot/v1",
        "node": node,
        "capturedAt": spec["now"],
    });
    write(&snapshot.join("snapshot.json"), &manifest.to_string());

    let overlay = case_dir.join("overlay");
    if overlay.is_dir() {
        copy_tree(&overlay, &snapshot);
    }
    snapshot
}

/// Keeps only what a worker has after `kubeadm join`: the cluster CA certificate.
fn make_worker(rootfs: &Path) {
    let kubernetes = rootfs.join("etc/kubernetes");
    for file in ["admin.conf", "controller-manager.conf", "scheduler.conf"] {
        let _ = fs::remove_file(kubernetes.join(file));
    }
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
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: https://cp.example.test:6443\n  name: default-cluster\ncontexts:\n- context:\n    cluster: default-cluster\n    namespace: default\n    user: {user}\n  name: default-context\ncurrent-context: default-context\nkind: Config\npreferences: {{}}\nusers:\n- name: {user}\n  user:\n{credentials}",
        base64(&ca.cert_pem)
    )
}

fn bootstrap_conf(ca: &TestCa) -> String {
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: https://cp.example.test:6443\n  name: kubernetes\ncontexts:\n- context:\n    cluster: kubernetes\n    user: tls-bootstrap-token-user\n  name: tls-bootstrap-token-user@kubernetes\ncurrent-context: tls-bootstrap-token-user@kubernetes\nkind: Config\npreferences: {{}}\nusers:\n- name: tls-bootstrap-token-user\n  user:\n    token: abcdef.0123456789abcdef\n",
        base64(&ca.cert_pem)
    )
}

fn run_json(snapshot: &Path) -> (i32, Value) {
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

fn finding<'a>(report: &'a Value, code: &str) -> Option<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
}

fn evidence_text(finding: &Value) -> String {
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

fn fix_text(finding: &Value) -> String {
    serde_json::to_string(&finding["fix"])
        .unwrap()
        .replace("\\\"", "\"")
}

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
