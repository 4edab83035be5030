//! Snapshot tests for the control-plane PKI cases under tests/fixtures/cases (050 to 061).
//!
//! Each case folder keeps the public report (case.md) and its artifacts. The snapshots are
//! built here from the kubeadm-real node. Certificates are issued with the fixture's CA keys
//! (re-dated where the case's dates matter) or with a CA of the case's own. The manifests and
//! the kubeadm configuration are rewritten with the case's names and addresses.

mod common;
mod pkigen;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use serde_json::Value;

use common::{
    copy_snapshot, findings_with_code, fixture, make_ca, rootfs_path, run_json_report,
    set_kubeconfig_client, timestamp,
};
use pkigen::{
    Ca, LeafSpec, MANIFESTS, PKI, Role, apiserver_spec, check_result, edit, etcd_spec,
    evidence_text, findings_of, fix_text, move_node, read, set_cluster_configuration, write,
    write_pair,
};

/// Checks that the case's artifacts are in the repository.
fn case_dir(name: &str) -> std::path::PathBuf {
    let dir = fixture("cases").join(name);
    assert!(
        dir.join("case.md").is_file(),
        "{} has no case.md",
        dir.display()
    );
    dir
}

/// Validity periods of a rebuilt PKI: CAs, leaf certificates, kubeconfig client certificates.
struct Dates {
    ca: (&'static str, &'static str),
    leaves: (&'static str, &'static str),
    kubeconfigs: (&'static str, &'static str),
}

/// Re-dates the kubeadm-real PKI: CAs keep their keys and names, every leaf and kubeconfig
/// client certificate is issued again as kubeadm issues it for node-1 at 192.0.2.10.
fn rebuild_pki(snapshot: &Path, dates: &Dates, local_etcd: bool) {
    let cas: &[(&str, &str)] = if local_etcd {
        &[
            ("ca", "kubernetes"),
            ("front-proxy-ca", "front-proxy-ca"),
            ("etcd/ca", "etcd-ca"),
        ]
    } else {
        &[("ca", "kubernetes"), ("front-proxy-ca", "front-proxy-ca")]
    };
    for (base, cn) in cas {
        let key = rootfs_path(snapshot, &format!("{PKI}/{base}.key"));
        let pem = make_ca(&key, cn, timestamp(dates.ca.0), timestamp(dates.ca.1));
        write(snapshot, &format!("{PKI}/{base}.crt"), &pem);
    }

    let (from, to) = dates.leaves;
    let ca = Ca::load(snapshot, "ca");
    let issue = |ca: &Ca, base: &str, spec: LeafSpec| {
        let (cert, key) = ca.issue(&spec.valid(from, to));
        write_pair(snapshot, base, &cert, &key);
    };
    issue(
        &ca,
        "apiserver",
        apiserver_spec("node-1", "192.0.2.10", "cp.example.test"),
    );
    issue(
        &ca,
        "apiserver-kubelet-client",
        LeafSpec::new("kube-apiserver-kubelet-client", Role::Client).orgs(&["system:masters"]),
    );
    issue(
        &Ca::load(snapshot, "front-proxy-ca"),
        "front-proxy-client",
        LeafSpec::new("front-proxy-client", Role::Client),
    );
    if local_etcd {
        let etcd = Ca::load(snapshot, "etcd/ca");
        issue(
            &etcd,
            "apiserver-etcd-client",
            LeafSpec::new("kube-apiserver-etcd-client", Role::Client).orgs(&["system:masters"]),
        );
        issue(&etcd, "etcd/server", etcd_spec("node-1", "192.0.2.10"));
        issue(&etcd, "etcd/peer", etcd_spec("node-1", "192.0.2.10"));
        issue(
            &etcd,
            "etcd/healthcheck-client",
            LeafSpec::new("kube-etcd-healthcheck-client", Role::Client).orgs(&["system:masters"]),
        );
    }

    let (from, to) = dates.kubeconfigs;
    for (file, cn, orgs) in [
        ("admin.conf", "kubernetes-admin", &["system:masters"][..]),
        (
            "controller-manager.conf",
            "system:kube-controller-manager",
            &[][..],
        ),
        ("scheduler.conf", "system:kube-scheduler", &[][..]),
    ] {
        let spec = LeafSpec::new(cn, Role::Client).orgs(orgs).valid(from, to);
        let (cert, key) = ca.issue(&spec);
        set_kubeconfig_client(
            &rootfs_path(snapshot, &format!("/etc/kubernetes/{file}")),
            &cert,
            &key,
        );
    }
    write_kubelet_pem(snapshot, &ca, dates.leaves);
}

/// Replaces the kubelet's certificate store with one pair valid for `dates`.
fn write_kubelet_pem(snapshot: &Path, ca: &Ca, dates: (&str, &str)) {
    let dir = rootfs_path(snapshot, "/var/lib/kubelet/pki");
    for entry in fs::read_dir(&dir).unwrap() {
        fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let spec = LeafSpec::new("system:node:node-1", Role::Client)
        .orgs(&["system:nodes"])
        .valid(dates.0, dates.1);
    let (cert, key) = ca.issue(&spec);
    fs::write(dir.join("kubelet-client-store.pem"), format!("{cert}{key}")).unwrap();
    symlink(
        "/var/lib/kubelet/pki/kubelet-client-store.pem",
        dir.join("kubelet-client-current.pem"),
    )
    .unwrap();
}

fn pki_codes(report: &Value) -> Vec<String> {
    findings_of(report, "pki")
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn pki_findings<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    findings_of(report, "pki")
        .into_iter()
        .filter(|f| f["code"] == code)
        .collect()
}

/// 050: after `kubeadm certs renew all` the control-plane files are valid, but kubelet.conf
/// still embeds the client certificate from `kubeadm init`, which renew does not touch.
#[test]
fn case_050_renewed_pki_kubelet_still_expired() {
    case_dir("050-apiserver-rejects-expired-client-certs-after-renew-all");
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    let root = snapshot.path();
    let dates = Dates {
        ca: ("2022-09-25T12:10:10Z", "2032-09-22T12:10:10Z"),
        leaves: ("2023-09-25T22:30:00Z", "2024-09-24T22:30:00Z"),
        kubeconfigs: ("2023-09-25T22:30:00Z", "2024-09-24T22:30:00Z"),
    };
    rebuild_pki(root, &dates, true);
    let ca = Ca::load(root, "ca");
    let spec = LeafSpec::new("system:node:node-1", Role::Client)
        .orgs(&["system:nodes"])
        .valid("2022-09-25T12:10:15Z", "2023-09-25T12:10:15Z");
    let (cert, key) = ca.issue(&spec);
    let kubelet_conf = read(root, "/etc/kubernetes/admin.conf")
        .replace(
            "kubernetes-admin@kubernetes",
            "system:node:node-1@kubernetes",
        )
        .replace("name: kubernetes-admin", "name: system:node:node-1")
        .replace("user: kubernetes-admin", "user: system:node:node-1");
    write(root, "/etc/kubernetes/kubelet.conf", &kubelet_conf);
    set_kubeconfig_client(
        &rootfs_path(root, "/etc/kubernetes/kubelet.conf"),
        &cert,
        &key,
    );

    let report = run_json_report(root, "2023-09-25T22:45:43Z");

    assert_eq!(pki_codes(&report), Vec::<String>::new());
    assert_eq!(check_result(&report, "pki")["status"], "passed");
    assert!(findings_of(&report, "control-plane-flags").is_empty());
    assert!(findings_with_code(&report, "cert-expiry/expired").is_empty());
    let expired = findings_with_code(&report, "kubelet-client-cert/expired");
    assert_eq!(expired.len(), 1, "{:#?}", report["findings"]);
    assert!(evidence_text(expired[0]).contains("2023-09-25T12:10:15Z"));
}

/// 052: etcd certificates renewed on cp-1 and copied to cp-3.
#[test]
fn case_052_etcd_certs_copied_from_other_member() {
    case_dir("052-etcd-certs-copied-between-members-san-mismatch");
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    let root = snapshot.path();
    move_node(root, "cp-3", "198.51.100.3");
    let ca = Ca::load(root, "ca");
    let (cert, key) = ca.issue(&apiserver_spec("cp-3", "198.51.100.3", "cp.example.test"));
    write_pair(root, "apiserver", &cert, &key);
    let etcd = Ca::load(root, "etcd/ca");
    for base in ["etcd/server", "etcd/peer"] {
        let (cert, key) = etcd.issue(&etcd_spec("cp-1", "198.51.100.1"));
        write_pair(root, base, &cert, &key);
    }

    let report = run_json_report(root, "2026-12-04T19:31:40Z");

    let findings = pki_findings(&report, "pki/san-missing");
    assert_eq!(findings.len(), 2, "{:?}", pki_codes(&report));
    for finding in findings {
        assert_eq!(finding["severity"], "critical");
        let summary = finding["summary"].as_str().unwrap();
        assert!(
            summary.contains("was issued for cp-1 (198.51.100.1), not for this node cp-3"),
            "{summary}"
        );
        let evidence = evidence_text(finding);
        assert!(
            evidence.contains("issued for | cp-1 (198.51.100.1)"),
            "{evidence}"
        );
        assert!(
            evidence.contains("198.51.100.3 (expected from --"),
            "{evidence}"
        );
        let fix = fix_text(finding);
        assert!(fix.contains("name: cp-3"), "{fix}");
        assert!(fix.contains("advertiseAddress: 198.51.100.3"), "{fix}");
        assert!(fix.contains("Copy only the CA files"), "{fix}");
    }
    assert!(pki_findings(&report, "pki/subject-mismatch").is_empty());
}

/// 053: the API server certificate names the VirtualBox NAT address, not the address the
/// workers dial.
#[test]
fn case_053_apiserver_sans_lack_advertise_address() {
    case_dir("053-apiserver-cert-sans-lack-advertised-ip-join-fails");
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    let root = snapshot.path();
    move_node(root, "cp-1", "10.0.7.10");
    set_cluster_configuration(
        root,
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nkubernetesVersion: v1.22.3\nnetworking:\n  dnsDomain: cluster.local\n  serviceSubnet: 10.96.0.0/12\n",
    );
    let ca = Ca::load(root, "ca");
    let spec = LeafSpec::new("kube-apiserver", Role::Server)
        .dns(&[
            "cp-1",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
        ])
        .ips(&["10.96.0.1", "10.0.2.15"]);
    let (cert, key) = ca.issue(&spec);
    write_pair(root, "apiserver", &cert, &key);
    let etcd = Ca::load(root, "etcd/ca");
    for base in ["etcd/server", "etcd/peer"] {
        let (cert, key) = etcd.issue(&etcd_spec("cp-1", "10.0.7.10"));
        write_pair(root, base, &cert, &key);
    }

    let report = run_json_report(root, "2026-12-04T19:31:40Z");

    let findings = pki_findings(&report, "pki/san-missing");
    assert_eq!(findings.len(), 1, "{:?}", pki_codes(&report));
    let finding = findings[0];
    assert_eq!(finding["severity"], "critical");
    assert!(
        finding["summary"]
            .as_str()
            .unwrap()
            .ends_with("does not cover 10.0.7.10")
    );
    let evidence = evidence_text(finding);
    assert!(evidence.contains("IP:10.0.2.15"), "{evidence}");
    assert!(
        evidence.contains("10.0.7.10 (expected from --advertise-address in /etc/kubernetes/manifests/kube-apiserver.yaml)"),
        "{evidence}"
    );
    let fix = fix_text(finding);
    assert!(
        fix.contains("kubeadm init phase certs apiserver --apiserver-advertise-address 10.0.7.10"),
        "{fix}"
    );
    assert!(
        fix.contains("--apiserver-cert-extra-sans cp-1,10.0.7.10"),
        "{fix}"
    );
}

/// 054: a cfssl-made API server certificate for all control-plane nodes, generated with the
/// joining node's variables empty, placed on cp-2.
#[test]
fn case_054_user_signed_apiserver_cert_lacks_node() {
    case_dir("054-user-signed-apiserver-cert-rejected-on-control-plane-join");
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    let root = snapshot.path();
    move_node(root, "cp-2", "172.16.40.12");
    set_cluster_configuration(
        root,
        "apiVersion: kubeadm.k8s.io/v1beta2\nkind: ClusterConfiguration\ncontrolPlaneEndpoint: 172.16.40.20:6444\nnetworking:\n  dnsDomain: cluster.local\n  serviceSubnet: 10.96.0.0/12\n",
    );
    let ca = Ca::load(root, "ca");
    let spec = LeafSpec::new("kube-apiserver", Role::Server)
        .dns(&[
            "cp-1",
            "cp-3",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
        ])
        .ips(&[
            "127.0.0.1",
            "10.96.0.1",
            "172.16.40.11",
            "172.16.40.13",
            "172.16.40.20",
        ]);
    let (cert, key) = ca.issue(&spec);
    write_pair(root, "apiserver", &cert, &key);
    let etcd = Ca::load(root, "etcd/ca");
    for base in ["etcd/server", "etcd/peer"] {
        let (cert, key) = etcd.issue(&etcd_spec("cp-2", "172.16.40.12"));
        write_pair(root, base, &cert, &key);
    }

    let report = run_json_report(root, "2026-12-04T19:31:40Z");

    let findings = pki_findings(&report, "pki/san-missing");
    assert_eq!(findings.len(), 1, "{:?}", pki_codes(&report));
    let finding = findings[0];
    assert_eq!(finding["severity"], "critical");
    let evidence = evidence_text(finding);
    assert!(
        evidence.contains("| cp-2 (expected from node name"),
        "{evidence}"
    );
    assert!(
        evidence.contains("| 172.16.40.12 (expected from --advertise-address"),
        "{evidence}"
    );
    assert!(
        !evidence.contains("172.16.40.20 (expected"),
        "the VIP is covered: {evidence}"
    );
    assert!(finding["summary"].as_str().unwrap().contains("cp-1, cp-3"));
}

/// 056: a Kubespray cluster with its own etcd: no apiserver-etcd-client in the PKI directory,
/// which is not a PKI problem, while every kubeadm certificate has expired.
#[test]
fn case_056_kubespray_external_etcd_expired() {
    case_dir("056-kubespray-missing-apiserver-etcd-client-check-expiration-fails");
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    let root = snapshot.path();
    let dates = Dates {
        ca: ("2020-01-24T10:00:00Z", "2030-01-21T10:00:00Z"),
        leaves: ("2020-01-24T10:05:00Z", "2021-01-23T10:05:00Z"),
        kubeconfigs: ("2020-01-24T10:05:00Z", "2021-01-23T10:05:00Z"),
    };
    rebuild_pki(root, &dates, false);
    fs::remove_dir_all(rootfs_path(root, &format!("{PKI}/etcd"))).unwrap();
    for file in ["apiserver-etcd-client.crt", "apiserver-etcd-client.key"] {
        fs::remove_file(rootfs_path(root, &format!("{PKI}/{file}"))).unwrap();
    }
    fs::remove_file(rootfs_path(root, &format!("{MANIFESTS}/etcd.yaml"))).unwrap();
    for file in ["apiserver.crt", "apiserver.key"] {
        let text = read(root, &format!("{PKI}/{file}"));
        write(root, &format!("{PKI}/{file}.old"), &text);
    }

    // Kubespray's etcd CA and the node's etcd client pair, valid for 100 years.
    let etcd_ca = Ca::new("etcd-ca", &[]);
    let spec = LeafSpec::new("etcd-node-node-1", Role::ServerAndClient)
        .dns(&["node-1", "localhost"])
        .ips(&["192.0.2.10", "127.0.0.1"])
        .valid("2020-01-24T10:00:00Z", "2120-01-01T10:00:00Z");
    let (cert, key) = etcd_ca.issue(&spec);
    write(root, "/etc/ssl/etcd/ssl/ca.pem", &etcd_ca.cert_pem);
    write(root, "/etc/ssl/etcd/ssl/node-node-1.pem", &cert);
    write(root, "/etc/ssl/etcd/ssl/node-node-1-key.pem", &key);
    let manifest = format!("{MANIFESTS}/kube-apiserver.yaml");
    edit(
        root,
        &manifest,
        "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
        "--etcd-cafile=/etc/ssl/etcd/ssl/ca.pem",
    );
    edit(
        root,
        &manifest,
        "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
        "--etcd-certfile=/etc/ssl/etcd/ssl/node-node-1.pem",
    );
    edit(
        root,
        &manifest,
        "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key",
        "--etcd-keyfile=/etc/ssl/etcd/ssl/node-node-1-key.pem",
    );
    edit(
        root,
        &manifest,
        "--etcd-servers=https://127.0.0.1:2379",
        "--etcd-servers=https://192.0.2.10:2379",
    );
    set_cluster_configuration(
        root,
        "apiVersion: kubeadm.k8s.io/v1beta2\nkind: ClusterConfiguration\ncontrolPlaneEndpoint: cp.example.test:6443\netcd:\n  external:\n    endpoints:\n    - https://192.0.2.10:2379\n    caFile: /etc/ssl/etcd/ssl/ca.pem\n    certFile: /etc/ssl/etcd/ssl/node-node-1.pem\n    keyFile: /etc/ssl/etcd/ssl/node-node-1-key.pem\nnetworking:\n  dnsDomain: cluster.local\n  serviceSubnet: 10.96.0.0/12\n",
    );

    let report = run_json_report(root, "2021-02-06T09:00:00Z");

    assert_eq!(pki_codes(&report), Vec::<String>::new());
    assert_eq!(check_result(&report, "pki")["status"], "passed");
    assert!(
        findings_of(&report, "control-plane-flags").is_empty(),
        "{:#?}",
        report["findings"]
    );
    let expired: Vec<&str> = findings_with_code(&report, "cert-expiry/expired")
        .iter()
        .map(|f| f["evidence"][0]["source"].as_str().unwrap())
        .collect();
    assert!(
        expired.contains(&"/etc/kubernetes/pki/apiserver.crt"),
        "{expired:?}"
    );
    assert!(
        expired.contains(&"/etc/kubernetes/admin.conf"),
        "{expired:?}"
    );
    assert!(
        findings_with_code(&report, "cert-expiry/missing").is_empty(),
        "{:#?}",
        report["findings"]
    );
}

/// 057: every kubeadm certificate expired on a single-node cluster. The PKI is otherwise
/// consistent, so pki has nothing to add to cert-expiry.
#[test]
fn case_057_all_expired_but_consistent() {
    case_dir("057-all-kubeadm-certs-expired-kubelet-client-pem-stale");
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    let root = snapshot.path();
    let dates = Dates {
        ca: ("2019-12-19T15:47:00Z", "2029-12-16T15:47:00Z"),
        leaves: ("2021-05-17T12:52:17Z", "2022-05-17T12:52:17Z"),
        kubeconfigs: ("2021-05-17T12:53:02Z", "2022-05-17T12:53:02Z"),
    };
    rebuild_pki(root, &dates, true);

    let report = run_json_report(root, "2022-06-20T08:38:07Z");

    assert_eq!(pki_codes(&report), Vec::<String>::new());
    assert_eq!(check_result(&report, "pki")["status"], "passed");
    assert_eq!(findings_with_code(&report, "cert-expiry/expired").len(), 10);
}

/// 058: external etcd whose own CA is also named CN=kubernetes; the API server's etcd client
/// certificate verifies against it, but kubeadm's `renew all` trips over it.
#[test]
fn case_058_external_etcd_client_from_other_ca() {
    let case = case_dir("058-external-etcd-client-cert-from-other-ca-breaks-renew-all");
    assert!(case.join("etc/kubernetes/kubeadm.conf").is_file());
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    let root = snapshot.path();

    let operator_ca = Ca::new("kubernetes", &["k8s"]);
    let spec = LeafSpec::new("etcd", Role::Client)
        .orgs(&["k8s"])
        .valid("2019-12-27T12:29:54Z", "2119-12-03T12:29:54Z");
    let (cert, key) = operator_ca.issue(&spec);
    fs::remove_dir_all(rootfs_path(root, &format!("{PKI}/etcd"))).unwrap();
    for file in ["apiserver-etcd-client.crt", "apiserver-etcd-client.key"] {
        fs::remove_file(rootfs_path(root, &format!("{PKI}/{file}"))).unwrap();
    }
    write(root, &format!("{PKI}/etcd/ca.crt"), &operator_ca.cert_pem);
    write(
        root,
        &format!("{PKI}/etcd/apiserver-etcd-client.crt"),
        &cert,
    );
    write(root, &format!("{PKI}/etcd/apiserver-etcd-client.key"), &key);
    fs::remove_file(rootfs_path(root, &format!("{MANIFESTS}/etcd.yaml"))).unwrap();
    let manifest = format!("{MANIFESTS}/kube-apiserver.yaml");
    edit(
        root,
        &manifest,
        "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
        "--etcd-certfile=/etc/kubernetes/pki/etcd/apiserver-etcd-client.crt",
    );
    edit(
        root,
        &manifest,
        "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key",
        "--etcd-keyfile=/etc/kubernetes/pki/etcd/apiserver-etcd-client.key",
    );
    edit(
        root,
        &manifest,
        "--etcd-servers=https://127.0.0.1:2379",
        "--etcd-servers=https://172.16.4.211:2379,https://172.16.4.212:2379,https://172.16.4.213:2379",
    );
    // The case's kubeadm.conf with the parts the reporter elided filled in.
    fs::remove_file(root.join("api/kubeadm-config.json")).unwrap();
    write(
        root,
        "/etc/kubernetes/kubeadm.conf",
        "apiServer:\n  timeoutForControlPlane: 4m0s\napiVersion: kubeadm.k8s.io/v1beta2\ncertificatesDir: /etc/kubernetes/pki\nclusterName: kubernetes\ncontrolPlaneEndpoint: cp.example.test:6443\netcd:\n  external:\n    endpoints:\n     - \"https://172.16.4.211:2379\"\n     - \"https://172.16.4.212:2379\"\n     - \"https://172.16.4.213:2379\"\n    caFile: \"/etc/kubernetes/pki/etcd/ca.crt\"\n    certFile: \"/etc/kubernetes/pki/etcd/apiserver-etcd-client.crt\"\n    keyFile: \"/etc/kubernetes/pki/etcd/apiserver-etcd-client.key\"\nkind: ClusterConfiguration\nkubernetesVersion: v1.16.4\nnetworking:\n  dnsDomain: cluster.local\n  serviceSubnet: 10.96.0.0/12\n",
    );

    let report = run_json_report(root, "2026-12-04T19:31:40Z");

    assert_eq!(
        pki_codes(&report),
        ["pki/issuer-mismatch"],
        "{:#?}",
        report["findings"]
    );
    let finding = pki_findings(&report, "pki/issuer-mismatch")[0];
    assert_eq!(finding["severity"], "warning");
    let evidence = evidence_text(finding);
    assert!(
        evidence.contains("/etc/kubernetes/pki/etcd/apiserver-etcd-client.crt | issuer | "),
        "{evidence}"
    );
    assert!(
        evidence.contains("/etc/kubernetes/pki/etcd/ca.crt | subject (verifies)"),
        "{evidence}"
    );
    assert!(
        evidence.contains("/etc/kubernetes/pki/ca.crt | subject (did not sign it) | CN=kubernetes"),
        "{evidence}"
    );
    let fix = fix_text(finding);
    assert!(
        fix.contains("kubeadm does not manage its client certificate"),
        "{fix}"
    );
    assert!(fix.contains("one by one"), "{fix}");
}

/// 061: certificates from a previous install left beside the new cluster's CA, which has the
/// same name. The case is an RKE worker. Here the same mistake is on a kubeadm control-plane
/// node, because kubeadm keeps existing certificate files instead of replacing them.
#[test]
fn case_061_stale_certs_from_previous_install() {
    case_dir("061-stale-rke-certs-from-previous-install-kube-ca-mismatch");
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    let root = snapshot.path();
    let previous = Ca::new("kubernetes", &[]);
    let (cert, key) = previous.issue(&apiserver_spec("node-1", "192.0.2.10", "cp.example.test"));
    write_pair(root, "apiserver", &cert, &key);
    let spec =
        LeafSpec::new("kube-apiserver-kubelet-client", Role::Client).orgs(&["system:masters"]);
    let (cert, key) = previous.issue(&spec);
    write_pair(root, "apiserver-kubelet-client", &cert, &key);

    let report = run_json_report(root, "2026-12-04T19:31:40Z");

    let findings = pki_findings(&report, "pki/issuer-mismatch");
    assert_eq!(findings.len(), 2, "{:?}", pki_codes(&report));
    for finding in findings {
        assert_eq!(finding["severity"], "critical");
        let details = finding["details"].as_str().unwrap();
        assert!(
            details.contains("a different CA with the same name"),
            "{details}"
        );
        assert!(
            details.contains("crypto/rsa: verification error"),
            "{details}"
        );
        assert!(
            evidence_text(finding).contains("/etc/kubernetes/pki/ca.crt | fingerprint | sha256:")
        );
    }
}
