//! A single-node kubeadm cluster where every kubeadm certificate expired on 2022-05-17 and the
//! kubelet's rotated client certificate dates from 2021-06-20 (kubeadm alpha era, seen on a
//! CentOS 7 host). The snapshot is rebuilt from the kubeadm-real fixture with its own CA keys.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use common::{
    copy_snapshot, findings_with_code, fixture, make_ca, make_cert, rootfs_path, run_json_report,
    set_kubeconfig_client, timestamp,
};

const NOW: &str = "2022-06-20T08:38:07Z";
const PKI: &str = "/etc/kubernetes/pki";

/// Leaf certificates: file under the PKI directory, signing CA, subject CN and O.
const LEAVES: &[(&str, &str, &str, &[&str])] = &[
    ("apiserver", "ca", "kube-apiserver", &[]),
    (
        "apiserver-kubelet-client",
        "ca",
        "kube-apiserver-kubelet-client",
        &["system:masters"],
    ),
    (
        "front-proxy-client",
        "front-proxy-ca",
        "front-proxy-client",
        &[],
    ),
    (
        "apiserver-etcd-client",
        "etcd/ca",
        "kube-apiserver-etcd-client",
        &[],
    ),
    ("etcd/server", "etcd/ca", "node-1", &[]),
    ("etcd/peer", "etcd/ca", "node-1", &[]),
    (
        "etcd/healthcheck-client",
        "etcd/ca",
        "kube-etcd-healthcheck-client",
        &[],
    ),
];

const KUBECONFIGS: &[(&str, &str, &[&str])] = &[
    ("admin.conf", "kubernetes-admin", &["system:masters"]),
    (
        "controller-manager.conf",
        "system:kube-controller-manager",
        &[],
    ),
    ("scheduler.conf", "system:kube-scheduler", &[]),
];

/// Reissues the CAs with their fixture keys and dates from 2019, then every leaf certificate
/// with the 2022-05-17 expiry.
fn build_snapshot(snapshot: &Path) {
    let ca_not_before = timestamp("2019-12-19T15:47:00Z");
    let ca_not_after = timestamp("2029-12-16T15:47:00Z");
    for (file, cn) in [
        ("ca", "kubernetes"),
        ("front-proxy-ca", "front-proxy-ca"),
        ("etcd/ca", "etcd-ca"),
    ] {
        let key = rootfs_path(snapshot, &format!("{PKI}/{file}.key"));
        let pem = make_ca(&key, cn, ca_not_before, ca_not_after);
        fs::write(rootfs_path(snapshot, &format!("{PKI}/{file}.crt")), pem).unwrap();
    }

    let not_before = timestamp("2021-05-17T12:52:17Z");
    let not_after = timestamp("2022-05-17T12:52:17Z");
    for (file, ca, cn, orgs) in LEAVES {
        let (cert, key) = sign(snapshot, ca, cn, orgs, not_before, not_after);
        fs::write(rootfs_path(snapshot, &format!("{PKI}/{file}.crt")), cert).unwrap();
        fs::write(rootfs_path(snapshot, &format!("{PKI}/{file}.key")), key).unwrap();
    }

    let kubeconfig_not_after = timestamp("2022-05-17T12:53:02Z");
    for (file, cn, orgs) in KUBECONFIGS {
        let (cert, key) = sign(snapshot, "ca", cn, orgs, not_before, kubeconfig_not_after);
        let path = rootfs_path(snapshot, &format!("/etc/kubernetes/{file}"));
        set_kubeconfig_client(&path, &cert, &key);
    }

    write_kubelet_pem(snapshot);
}

fn sign(
    snapshot: &Path,
    ca: &str,
    cn: &str,
    orgs: &[&str],
    not_before: jiff::Timestamp,
    not_after: jiff::Timestamp,
) -> (String, String) {
    make_cert(
        &rootfs_path(snapshot, &format!("{PKI}/{ca}.crt")),
        &rootfs_path(snapshot, &format!("{PKI}/{ca}.key")),
        cn,
        orgs,
        not_before,
        not_after,
    )
}

/// Writes the kubelet's last rotated pair and points kubelet-client-current.pem at it.
fn write_kubelet_pem(snapshot: &Path) {
    let dir = rootfs_path(snapshot, "/var/lib/kubelet/pki");
    for entry in fs::read_dir(&dir).unwrap() {
        fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let (cert, key) = sign(
        snapshot,
        "ca",
        "system:node:node-1",
        &["system:nodes"],
        timestamp("2021-06-20T09:14:20Z"),
        timestamp("2022-06-20T09:14:20Z"),
    );
    let name = "kubelet-client-2021-06-20-11-14-20.pem";
    fs::write(dir.join(name), format!("{cert}{key}")).unwrap();
    symlink(
        format!("/var/lib/kubelet/pki/{name}"),
        dir.join("kubelet-client-current.pem"),
    )
    .unwrap();
}

#[test]
fn every_kubeadm_certificate_reported_expired() {
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    build_snapshot(snapshot.path());
    let report = run_json_report(snapshot.path(), NOW);

    let expired = findings_with_code(&report, "cert-expiry/expired");
    let mut sources: Vec<&str> = expired
        .iter()
        .map(|f| f["evidence"][0]["source"].as_str().unwrap())
        .collect();
    sources.sort();
    assert_eq!(
        sources,
        [
            "/etc/kubernetes/admin.conf",
            "/etc/kubernetes/controller-manager.conf",
            "/etc/kubernetes/pki/apiserver-etcd-client.crt",
            "/etc/kubernetes/pki/apiserver-kubelet-client.crt",
            "/etc/kubernetes/pki/apiserver.crt",
            "/etc/kubernetes/pki/etcd/healthcheck-client.crt",
            "/etc/kubernetes/pki/etcd/peer.crt",
            "/etc/kubernetes/pki/etcd/server.crt",
            "/etc/kubernetes/pki/front-proxy-client.crt",
            "/etc/kubernetes/scheduler.conf",
        ]
    );
    for finding in &expired {
        assert_eq!(finding["severity"], "critical");
        assert_eq!(finding["evidence"][0]["field"], "notAfter");
    }
    let apiserver = expired
        .iter()
        .find(|f| f["evidence"][0]["source"] == "/etc/kubernetes/pki/apiserver.crt")
        .unwrap();
    assert_eq!(apiserver["evidence"][0]["value"], "2022-05-17T12:52:17Z");
}

#[test]
fn only_expired_findings_for_this_node() {
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    build_snapshot(snapshot.path());
    let report = run_json_report(snapshot.path(), NOW);

    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "cert-expiry")
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.iter().all(|code| *code == "cert-expiry/expired"),
        "unexpected codes: {codes:?}"
    );
}

#[test]
fn expired_findings_share_ordered_remedy() {
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    build_snapshot(snapshot.path());
    let report = run_json_report(snapshot.path(), NOW);
    let expired = findings_with_code(&report, "cert-expiry/expired");
    let commands: Vec<&str> = expired[0]["fix"]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();

    let position = |needle: &str| {
        commands
            .iter()
            .position(|c| c.contains(needle))
            .unwrap_or_else(|| panic!("no command with {needle:?} in {commands:?}"))
    };
    let renew = position("kubeadm certs renew all");
    let restart = position("mv /etc/kubernetes/manifests/kube-apiserver.yaml");
    let etcd_restart = position("mv /etc/kubernetes/manifests/etcd.yaml");
    let refresh = position("cp /etc/kubernetes/admin.conf $HOME/.kube/config");
    let kubelet = position("--client-name system:node:node-1");
    assert!(renew < restart, "renew before restart: {commands:?}");
    assert!(restart < refresh, "restart before refresh: {commands:?}");
    assert!(
        etcd_restart < refresh,
        "etcd restart before refresh: {commands:?}"
    );
    assert!(refresh < kubelet, "admin.conf before kubelet: {commands:?}");
    assert!(commands.contains(
        &"openssl x509 -noout -enddate -in /var/lib/kubelet/pki/kubelet-client-current.pem"
    ));

    for finding in &expired {
        assert_eq!(finding["fix"], expired[0]["fix"], "one remedy for all");
    }
}

#[test]
fn certs_table_shows_invalid_residual_time() {
    let snapshot = copy_snapshot(&fixture("kubeadm-real"));
    build_snapshot(snapshot.path());
    let output = common::run(&[
        "certs",
        "--snapshot",
        snapshot.path().to_str().unwrap(),
        "--now",
        NOW,
    ]);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains(
        "\napiserver                  May 17, 2022 12:52 UTC   <invalid>       ca                      no      \n"
    ), "{text}");
    assert!(text.contains(
        "\nadmin.conf                 May 17, 2022 12:53 UTC   <invalid>                               no      \n"
    ), "{text}");
    assert!(
        text.contains("\nkubelet-client             Jun 20, 2022 09:14 UTC   36m "),
        "{text}"
    );
}
