//! The pki check on the kubeadm-real control-plane node and on variants with one problem each,
//! plus files in the other forms Kubernetes accepts (chains, PKCS#8 and EC keys).

mod common;
mod pkigen;

use std::fs;
use std::path::Path;

use rcgen::KeyPair;
use serde_json::Value;

use common::{copy_snapshot, fixture, rootfs_path, run_json_report};
use pkigen::{
    Ca, LeafSpec, PKI, Role, apiserver_spec, check_result, edit, evidence_text, findings_of,
    fix_text, read, write, write_pair,
};

const NOW: &str = "2026-12-04T19:31:40Z";

/// Copies kubeadm-real, lets `change` edit it, and returns the report.
fn report_after(change: impl FnOnce(&Path)) -> Value {
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    change(snapshot.path());
    run_json_report(snapshot.path(), NOW)
}

fn pki_codes(report: &Value) -> Vec<String> {
    findings_of(report, "pki")
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// Returns the only pki finding with `code`.
fn only<'a>(report: &'a Value, code: &str) -> &'a Value {
    let found: Vec<&Value> = findings_of(report, "pki")
        .into_iter()
        .filter(|f| f["code"] == code)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {code}; pki findings: {:?}",
        pki_codes(report)
    );
    found[0]
}

#[test]
fn kubeadm_real_has_no_findings() {
    let report = run_json_report(&fixture("kubeadm-real"), NOW);

    let serious: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .collect();
    assert!(serious.is_empty(), "findings: {serious:#?}");
    assert_eq!(check_result(&report, "pki")["status"], "passed");
    assert_eq!(
        check_result(&report, "control-plane-flags")["status"],
        "passed"
    );
}

#[test]
fn leaf_signed_by_other_ca() {
    let report = report_after(|snapshot| {
        let (cert, key) =
            Ca::load(snapshot, "ca").issue(&LeafSpec::new("front-proxy-client", Role::Client));
        write_pair(snapshot, "front-proxy-client", &cert, &key);
    });

    let finding = only(&report, "pki/issuer-mismatch");
    assert_eq!(finding["severity"], "critical");
    let evidence = evidence_text(finding);
    assert!(
        evidence.contains("/etc/kubernetes/pki/front-proxy-client.crt | issuer | CN=kubernetes"),
        "{evidence}"
    );
    assert!(
        evidence.contains(
            "/etc/kubernetes/pki/front-proxy-ca.crt | subject (expected issuer) | CN=front-proxy-ca"
        ),
        "{evidence}"
    );
    assert!(
        evidence.contains("/etc/kubernetes/pki/ca.crt | signed by | CN=kubernetes"),
        "{evidence}"
    );
    let fix = fix_text(finding);
    assert!(
        fix.contains("kubeadm certs renew front-proxy-client"),
        "{fix}"
    );
    assert!(
        fix.contains("mv /etc/kubernetes/manifests/kube-apiserver.yaml"),
        "{fix}"
    );
}

#[test]
fn stale_leaf_from_same_named_ca() {
    let report = report_after(|snapshot| {
        let previous = Ca::new("kubernetes", &[]);
        let spec = apiserver_spec("node-1", "192.0.2.10", "cp.example.test");
        let (cert, key) = previous.issue(&spec);
        write_pair(snapshot, "apiserver", &cert, &key);
    });

    let finding = only(&report, "pki/issuer-mismatch");
    let details = finding["details"].as_str().unwrap();
    assert!(
        details.contains("a different CA with the same name"),
        "{details}"
    );
}

#[test]
fn key_swapped() {
    let report = report_after(|snapshot| {
        let other = read(snapshot, &format!("{PKI}/apiserver-kubelet-client.key"));
        write(snapshot, &format!("{PKI}/apiserver.key"), &other);
    });

    let finding = only(&report, "pki/key-mismatch");
    assert_eq!(finding["severity"], "critical");
    let evidence = evidence_text(finding);
    assert!(
        evidence.contains("/etc/kubernetes/pki/apiserver.crt | public key fingerprint | sha256:"),
        "{evidence}"
    );
    assert!(
        evidence.contains("/etc/kubernetes/pki/apiserver.key | public key fingerprint | sha256:"),
        "{evidence}"
    );
    assert!(fix_text(finding).contains("kubeadm certs renew apiserver"));
}

#[test]
fn ca_key_swapped() {
    let report = report_after(|snapshot| {
        let other = read(snapshot, &format!("{PKI}/front-proxy-ca.key"));
        write(snapshot, &format!("{PKI}/ca.key"), &other);
    });

    let finding = only(&report, "pki/key-mismatch");
    assert!(finding["summary"].as_str().unwrap().contains("the ca CA"));
    assert!(fix_text(finding).contains("Do not generate a new ca CA"));
}

#[test]
fn san_missing_advertise_address() {
    let report = report_after(|snapshot| {
        let spec = LeafSpec::new("kube-apiserver", Role::Server)
            .dns(&[
                "cp.example.test",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
                "node-1",
            ])
            .ips(&["10.96.0.1"]);
        let (cert, key) = Ca::load(snapshot, "ca").issue(&spec);
        write_pair(snapshot, "apiserver", &cert, &key);
    });

    let finding = only(&report, "pki/san-missing");
    assert_eq!(finding["severity"], "critical");
    let evidence = evidence_text(finding);
    assert!(
        evidence.contains("/etc/kubernetes/pki/apiserver.crt | subjectAltName (missing) | 192.0.2.10 (expected from --advertise-address in /etc/kubernetes/manifests/kube-apiserver.yaml)"),
        "{evidence}"
    );
    let fix = fix_text(finding);
    assert!(
        fix.contains("mv /etc/kubernetes/pki/apiserver.crt /root/pki-backup/"),
        "{fix}"
    );
    assert!(
        fix.contains("kubeadm init phase certs apiserver --apiserver-advertise-address 192.0.2.10"),
        "{fix}"
    );
    assert!(
        fix.contains("--apiserver-cert-extra-sans node-1,192.0.2.10"),
        "{fix}"
    );
}

#[test]
fn client_auth_leaf_used_as_server() {
    let report = report_after(|snapshot| {
        let mut spec = apiserver_spec("node-1", "192.0.2.10", "cp.example.test");
        spec.role = Role::Client;
        let (cert, key) = Ca::load(snapshot, "ca").issue(&spec);
        write_pair(snapshot, "apiserver", &cert, &key);
    });

    let finding = only(&report, "pki/usage-mismatch");
    assert_eq!(finding["severity"], "critical");
    assert!(
        finding["summary"]
            .as_str()
            .unwrap()
            .contains("lacks serverAuth")
    );
    let evidence = evidence_text(finding);
    assert!(
        evidence.contains("apiserver.crt | extendedKeyUsage | clientAuth"),
        "{evidence}"
    );
    assert!(
        evidence.contains("apiserver.crt | extendedKeyUsage (expected) | serverAuth"),
        "{evidence}"
    );
}

#[test]
fn validity_inverted() {
    let report = report_after(|snapshot| {
        let spec = LeafSpec::new("kube-apiserver-kubelet-client", Role::Client)
            .orgs(&["system:masters"])
            .valid("2027-06-01T00:00:00Z", "2026-06-01T00:00:00Z");
        let (cert, key) = Ca::load(snapshot, "ca").issue(&spec);
        write_pair(snapshot, "apiserver-kubelet-client", &cert, &key);
    });

    let finding = only(&report, "pki/validity-inverted");
    let evidence = evidence_text(finding);
    assert!(
        evidence.contains("apiserver-kubelet-client.crt | notBefore | 2027-06-01T00:00:00Z"),
        "{evidence}"
    );
    assert!(
        evidence.contains("apiserver-kubelet-client.crt | notAfter | 2026-06-01T00:00:00Z"),
        "{evidence}"
    );
}

#[test]
fn sa_pub_from_another_key() {
    let report = report_after(|snapshot| {
        let other = KeyPair::generate().unwrap();
        write(snapshot, &format!("{PKI}/sa.pub"), &other.public_key_pem());
    });

    let findings: Vec<&Value> = findings_of(&report, "pki")
        .into_iter()
        .filter(|f| f["code"] == "pki/sa-key-mismatch")
        .collect();
    assert_eq!(
        findings.len(),
        2,
        "sa.key/sa.pub and controller manager: {findings:#?}"
    );
    let summaries: Vec<&str> = findings
        .iter()
        .map(|f| f["summary"].as_str().unwrap())
        .collect();
    assert!(
        summaries.iter().any(|s| s.contains("are not a key pair")),
        "{summaries:?}"
    );
    assert!(
        summaries
            .iter()
            .any(|s| s.contains("no --service-account-key-file of the API server verifies")),
        "{summaries:?}"
    );
    let evidence = evidence_text(findings[0]);
    assert!(evidence.contains("sha256:"), "{evidence}");
}

#[test]
fn second_verification_key_file_accepted() {
    let report = report_after(|snapshot| {
        let other = KeyPair::generate().unwrap();
        write(
            snapshot,
            "/etc/kubernetes/pki/sa-next.pub",
            &other.public_key_pem(),
        );
        edit(
            snapshot,
            "/etc/kubernetes/manifests/kube-apiserver.yaml",
            "    - --service-account-key-file=/etc/kubernetes/pki/sa.pub\n",
            "    - --service-account-key-file=/etc/kubernetes/pki/sa-next.pub\n    - --service-account-key-file=/etc/kubernetes/pki/sa.pub\n",
        );
    });
    assert_eq!(pki_codes(&report), Vec::<String>::new());
    assert!(findings_of(&report, "control-plane-flags").is_empty());
}

#[test]
fn kubelet_client_wrong_group() {
    let report = report_after(|snapshot| {
        let spec =
            LeafSpec::new("kube-apiserver-kubelet-client", Role::Client).orgs(&["system:nodes"]);
        let (cert, key) = Ca::load(snapshot, "ca").issue(&spec);
        write_pair(snapshot, "apiserver-kubelet-client", &cert, &key);
    });

    let finding = only(&report, "pki/subject-mismatch");
    assert_eq!(finding["severity"], "critical");
    let evidence = evidence_text(finding);
    assert!(
        evidence.contains("O (expected) | O=system:masters (kubeadm 1.28 and older)"),
        "{evidence}"
    );
    assert!(
        evidence.contains("O (expected) | O=kubeadm:cluster-admins (kubeadm 1.29 and newer)"),
        "{evidence}"
    );
}

#[test]
fn kubeadm_129_organisations_accepted() {
    let report = report_after(|snapshot| {
        let ca = Ca::load(snapshot, "ca");
        let spec = LeafSpec::new("kube-apiserver-kubelet-client", Role::Client)
            .orgs(&["kubeadm:cluster-admins"]);
        let (cert, key) = ca.issue(&spec);
        write_pair(snapshot, "apiserver-kubelet-client", &cert, &key);
        let etcd = Ca::load(snapshot, "etcd/ca");
        let (cert, key) = etcd.issue(&LeafSpec::new("kube-apiserver-etcd-client", Role::Client));
        write_pair(snapshot, "apiserver-etcd-client", &cert, &key);
    });
    assert_eq!(pki_codes(&report), Vec::<String>::new());
}

#[test]
fn ca_file_holding_a_leaf() {
    let report = report_after(|snapshot| {
        let leaf = read(snapshot, &format!("{PKI}/front-proxy-client.crt"));
        write(snapshot, &format!("{PKI}/front-proxy-ca.crt"), &leaf);
    });

    let codes = pki_codes(&report);
    assert!(codes.contains(&"pki/ca-not-a-ca".to_string()), "{codes:?}");
    let finding = only(&report, "pki/ca-not-a-ca");
    let evidence = evidence_text(finding);
    assert!(
        evidence.contains("front-proxy-ca.crt | basicConstraints | CA:FALSE or absent"),
        "{evidence}"
    );
}

#[test]
fn external_ca_is_not_a_problem() {
    let report = report_after(|snapshot| {
        fs::remove_file(rootfs_path(snapshot, &format!("{PKI}/ca.key"))).unwrap();
        edit(
            snapshot,
            "/etc/kubernetes/manifests/kube-controller-manager.yaml",
            "    - --cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt\n    - --cluster-signing-key-file=/etc/kubernetes/pki/ca.key\n",
            "    - --cluster-signing-cert-file=\n    - --cluster-signing-key-file=\n",
        );
    });
    assert_eq!(pki_codes(&report), Vec::<String>::new());
    assert!(
        findings_of(&report, "control-plane-flags").is_empty(),
        "{:#?}",
        report["findings"]
    );
}

#[test]
fn external_ca_fix_says_kubeadm_cannot_renew() {
    let report = report_after(|snapshot| {
        let spec = LeafSpec::new("kube-apiserver", Role::Server)
            .dns(&["kubernetes"])
            .ips(&["10.96.0.1"]);
        let (cert, key) = Ca::load(snapshot, "ca").issue(&spec);
        write_pair(snapshot, "apiserver", &cert, &key);
        fs::remove_file(rootfs_path(snapshot, &format!("{PKI}/ca.key"))).unwrap();
    });

    let finding = only(&report, "pki/san-missing");
    let fix = fix_text(finding);
    assert!(fix.contains("external ca CA"), "{fix}");
    assert!(
        fix.contains("kubeadm cannot renew or generate apiserver"),
        "{fix}"
    );
}

#[test]
fn certificate_file_with_chain() {
    let report = report_after(|snapshot| {
        let intermediate = Ca::load(snapshot, "ca").intermediate("kubernetes-intermediate");
        let spec = apiserver_spec("node-1", "192.0.2.10", "cp.example.test");
        let (cert, key) = intermediate.issue(&spec);
        let chain = format!("{cert}{}", intermediate.cert_pem);
        write_pair(snapshot, "apiserver", &chain, &key);
    });
    assert_eq!(pki_codes(&report), Vec::<String>::new());
}

#[test]
fn rsa_key_in_pkcs8() {
    let report = report_after(|snapshot| {
        let pkcs1 = read(snapshot, &format!("{PKI}/apiserver.key"));
        assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        write(
            snapshot,
            &format!("{PKI}/apiserver.key"),
            &pkigen::rsa_pkcs1_to_pkcs8(&pkcs1),
        );
    });
    assert_eq!(pki_codes(&report), Vec::<String>::new());
}

#[test]
fn ec_keys_in_sec1_and_pkcs8() {
    let report = report_after(|snapshot| {
        let ca = Ca::load(snapshot, "ca");
        let (cert, key) = ca.issue(&apiserver_spec("node-1", "192.0.2.10", "cp.example.test"));
        write_pair(
            snapshot,
            "apiserver",
            &cert,
            &pkigen::ec_pkcs8_to_sec1(&key),
        );
        let spec =
            LeafSpec::new("kube-apiserver-kubelet-client", Role::Client).orgs(&["system:masters"]);
        let (cert, key) = ca.issue(&spec);
        write_pair(snapshot, "apiserver-kubelet-client", &cert, &key);
    });
    assert_eq!(pki_codes(&report), Vec::<String>::new());
}

#[test]
fn skipped_without_manifests() {
    let report = report_after(|snapshot| {
        fs::remove_dir_all(rootfs_path(snapshot, "/etc/kubernetes/manifests")).unwrap();
    });
    let result = check_result(&report, "pki");
    assert_eq!(result["status"], "skipped");
    assert!(
        result["reason"]
            .as_str()
            .unwrap()
            .contains("/etc/kubernetes/manifests")
    );
    assert_eq!(
        check_result(&report, "control-plane-flags")["status"],
        "skipped"
    );
}

#[test]
fn skipped_without_pki() {
    let report = report_after(|snapshot| {
        fs::remove_dir_all(rootfs_path(snapshot, PKI)).unwrap();
    });
    let result = check_result(&report, "pki");
    assert_eq!(result["status"], "skipped");
    assert!(result["reason"].as_str().unwrap().contains(PKI));
    assert_eq!(
        check_result(&report, "control-plane-flags")["status"],
        "skipped"
    );
}

#[test]
fn ec_key_in_sec1_still_compared() {
    let report = report_after(|snapshot| {
        let ca = Ca::load(snapshot, "ca");
        let (cert, _) = ca.issue(&apiserver_spec("node-1", "192.0.2.10", "cp.example.test"));
        let (_, other_key) = ca.issue(&apiserver_spec("node-1", "192.0.2.10", "cp.example.test"));
        write_pair(
            snapshot,
            "apiserver",
            &cert,
            &pkigen::ec_pkcs8_to_sec1(&other_key),
        );
    });
    let finding = only(&report, "pki/key-mismatch");
    assert!(
        evidence_text(finding)
            .contains("/etc/kubernetes/pki/apiserver.key | public key fingerprint")
    );
}

#[test]
fn rsa_key_in_pkcs8_still_compared() {
    let report = report_after(|snapshot| {
        let other = read(snapshot, &format!("{PKI}/front-proxy-client.key"));
        write(
            snapshot,
            &format!("{PKI}/apiserver.key"),
            &pkigen::rsa_pkcs1_to_pkcs8(&other),
        );
    });
    only(&report, "pki/key-mismatch");
}
