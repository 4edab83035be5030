//! Snapshot tests of the node-ip check: failure cases rebuilt from public bug reports, then bad
//! and unusual input built from them.
//!
//! Each case folder has `case.md`, `case.json` (node, time and expected findings) and `overlay/`
//! (interfaces, routes, the Node object, metadata responses and kubelet files), which is the whole
//! snapshot: the node-ip check needs no certificates.

mod casebuild;
mod certgen;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use casebuild::{
    assert_expectations, build_overlay_case, evidence_text, finding, fix_text, fixtures,
    run_json_with, write,
};

const DIGITALOCEAN: &str = "010-digitalocean-anchor-ip-picked-as-internalip";
const VAGRANT: &str = "015-vagrant-pods-log-notfound-wrong-kubelet";

fn case_spec(name: &str) -> (PathBuf, Value) {
    let case_dir = fixtures().join("cases").join(name);
    let text = fs::read_to_string(case_dir.join("case.json")).unwrap();
    (case_dir, serde_json::from_str(&text).unwrap())
}

/// Builds a case's snapshot in `into` and returns its directory.
fn build(name: &str, into: &Path) -> PathBuf {
    let (case_dir, spec) = case_spec(name);
    build_overlay_case(&case_dir, &spec, into)
}

fn run_node_ip(snapshot: &Path) -> (i32, Value) {
    run_json_with(snapshot, &["--only", "node-ip"])
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn check_status(report: &Value) -> (String, String) {
    let check = &report["checks"][0];
    assert_eq!(check["id"], "node-ip");
    (
        check["status"].as_str().unwrap().to_string(),
        check["reason"].as_str().unwrap_or_default().to_string(),
    )
}

fn check_case(name: &str) {
    let temp = tempfile::tempdir().unwrap();
    let (_, spec) = case_spec(name);
    let snapshot = build(name, temp.path());
    let (status, report) = run_node_ip(&snapshot);
    assert_expectations(name, status, &report, &spec["expect"], false);
}

#[test]
fn case_010_digitalocean_anchor() {
    check_case(DIGITALOCEAN);
}

#[test]
fn case_011_hetzner_floating_ip() {
    check_case("011-hetzner-floating-ip-first-address-on-eth0");
}

#[test]
fn case_012_dropin_pins_public_ip() {
    check_case("012-hetzner-nodeip-dropin-pins-public-ip");
}

#[test]
fn case_015_vagrant_nat_address() {
    check_case(VAGRANT);
}

#[test]
fn metadata_garbage_gives_likely_anchor() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(DIGITALOCEAN, temp.path());
    let answer = snapshot.join("metadata/metadata/v1/interfaces/public/0/anchor_ipv4/address");
    fs::write(&answer, "<html>\u{1b}[31m500 Internal Server Error</html>").unwrap();

    let (_, report) = run_node_ip(&snapshot);
    let anchor = finding(&report, "node-ip/anchor-ip-selected").expect("anchor still reported");
    let summary = anchor["summary"].as_str().unwrap();
    assert!(summary.contains("probably"), "{summary}");
    let details = anchor["details"].as_str().unwrap();
    assert!(details.contains("likely but not certain"), "{details}");
    assert!(details.contains("is not an IPv4 address"), "{details}");
    assert!(
        !evidence_text(anchor).contains('\u{1b}'),
        "control characters leak"
    );
}

#[test]
fn metadata_missing_gives_likely_anchor() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(DIGITALOCEAN, temp.path());
    fs::remove_dir_all(snapshot.join("metadata")).unwrap();

    let (_, report) = run_node_ip(&snapshot);
    let anchor = finding(&report, "node-ip/anchor-ip-selected").expect("anchor still reported");
    assert!(
        anchor["details"]
            .as_str()
            .unwrap()
            .contains("could not confirm")
    );
}

#[test]
fn metadata_ignored_on_other_vendors() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(DIGITALOCEAN, temp.path());
    write(
        &snapshot.join("rootfs/sys/class/dmi/id/sys_vendor"),
        "QEMU\n",
    );

    let (_, report) = run_node_ip(&snapshot);
    let anchor = finding(&report, "node-ip/anchor-ip-selected").expect("heuristic still applies");
    let evidence = evidence_text(anchor);
    assert!(
        !evidence.contains("anchor_ipv4"),
        "metadata was read:\n{evidence}"
    );
    assert!(anchor["details"].as_str().unwrap().contains("not asked"));
}

#[test]
fn malformed_ip_addr_is_check_error() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(DIGITALOCEAN, temp.path());
    let ip_addr = snapshot.join("commands/ip-addr.json");
    fs::write(
        &ip_addr,
        "2: eth0: <BROADCAST,MULTICAST,UP> mtu 1500\n    inet 203.0.113.24/20",
    )
    .unwrap();

    let (_, report) = run_node_ip(&snapshot);
    let (check, reason) = check_status(&report);
    assert_eq!(check, "error");
    assert!(reason.contains("commands/ip-addr.json"), "{reason}");
}

#[test]
fn bad_address_in_ip_addr_is_check_error() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(DIGITALOCEAN, temp.path());
    let ip_addr = snapshot.join("commands/ip-addr.json");
    let text = fs::read_to_string(&ip_addr)
        .unwrap()
        .replace("10.19.0.57", "10.19.0.570");
    fs::write(&ip_addr, text).unwrap();

    let (_, report) = run_node_ip(&snapshot);
    let (check, reason) = check_status(&report);
    assert_eq!(check, "error");
    assert!(reason.contains("10.19.0.570"), "{reason}");
}

#[test]
fn missing_ip_addr_skips_check() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(DIGITALOCEAN, temp.path());
    fs::remove_file(snapshot.join("commands/ip-addr.json")).unwrap();

    let (_, report) = run_node_ip(&snapshot);
    let (check, reason) = check_status(&report);
    assert_eq!(check, "skipped");
    assert!(reason.contains("commands/ip-addr.json"), "{reason}");
}

#[test]
fn no_default_route_is_reported() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(VAGRANT, temp.path());
    write(
        &snapshot.join("rootfs/etc/default/kubelet"),
        "KUBELET_EXTRA_ARGS=\n",
    );
    fs::remove_file(snapshot.join("api/node.json")).unwrap();
    let routes = json!([{"dst": "192.168.56.0/24", "dev": "eth1", "protocol": "kernel", "scope": "link", "prefsrc": "192.168.56.11", "flags": []}]);
    write(
        &snapshot.join("commands/ip-route.json"),
        &routes.to_string(),
    );

    let (_, report) = run_node_ip(&snapshot);
    let found = finding(&report, "node-ip/no-default-route")
        .unwrap_or_else(|| panic!("got {:?}", codes(&report)));
    assert_eq!(found["severity"], "warning");
    let fix = fix_text(found);
    assert!(fix.contains("--node-ip="), "{fix}");
}

#[test]
fn ipv6_only_node_passes() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(VAGRANT, temp.path());
    write(
        &snapshot.join("rootfs/etc/default/kubelet"),
        "KUBELET_EXTRA_ARGS=\n",
    );
    let node = json!({"kind": "Node", "metadata": {"name": "kube1"}, "status": {"addresses": [{"type": "InternalIP", "address": "2001:db8:10::5"}]}});
    write(&snapshot.join("api/node.json"), &node.to_string());
    let addresses = json!([
        {"ifindex": 1, "ifname": "lo", "flags": ["LOOPBACK", "UP"], "addr_info": [{"family": "inet6", "local": "::1", "prefixlen": 128, "scope": "host"}]},
        {"ifindex": 2, "ifname": "eth0", "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"], "addr_info": [
            {"family": "inet6", "local": "2001:db8:10::5", "prefixlen": 64, "scope": "global"},
            {"family": "inet6", "local": "fe80::5", "prefixlen": 64, "scope": "link"}]}
    ]);
    write(
        &snapshot.join("commands/ip-addr.json"),
        &addresses.to_string(),
    );
    write(&snapshot.join("commands/ip-route.json"), "");
    let routes6 = json!([{"dst": "2001:db8:10::/64", "dev": "eth0", "protocol": "kernel", "metric": 256, "flags": []}, {"dst": "default", "gateway": "2001:db8:10::1", "dev": "eth0", "metric": 1024, "flags": []}]);
    write(
        &snapshot.join("commands/ip-6-route.json"),
        &routes6.to_string(),
    );

    let (status, report) = run_node_ip(&snapshot);
    assert_eq!(
        check_status(&report).0,
        "passed",
        "got {:?}",
        codes(&report)
    );
    assert_eq!(status, 0);
}

#[test]
fn dual_stack_node_ip_passes() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(VAGRANT, temp.path());
    write(
        &snapshot.join("rootfs/etc/default/kubelet"),
        "KUBELET_EXTRA_ARGS=\"--node-ip=192.168.56.11,2001:db8:56::11 --v=2\"\n",
    );
    add_ipv6_to_eth1(&snapshot);
    let node = json!({"kind": "Node", "metadata": {"name": "kube1"}, "status": {"addresses": [
        {"type": "InternalIP", "address": "192.168.56.11"}, {"type": "InternalIP", "address": "2001:db8:56::11"}]}});
    write(&snapshot.join("api/node.json"), &node.to_string());

    let (status, report) = run_node_ip(&snapshot);
    assert_eq!(
        check_status(&report).0,
        "passed",
        "got {:?}",
        codes(&report)
    );
    assert_eq!(status, 0);
}

#[test]
fn dual_stack_on_nat_keeps_ipv6_in_fix() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(VAGRANT, temp.path());
    write(
        &snapshot.join("rootfs/etc/default/kubelet"),
        "KUBELET_EXTRA_ARGS=\"--v=2 --node-ip=10.0.2.15,2001:db8:56::11\"\n",
    );
    add_ipv6_to_eth1(&snapshot);

    let (_, report) = run_node_ip(&snapshot);
    let nat = finding(&report, "node-ip/shared-nat-address")
        .unwrap_or_else(|| panic!("got {:?}", codes(&report)));
    let fix = fix_text(nat);
    assert!(
        fix.contains("KUBELET_EXTRA_ARGS=\"--v=2 --node-ip=192.168.56.11,2001:db8:56::11\""),
        "{fix}"
    );
    assert!(evidence_text(nat).contains("10.0.2.15,2001:db8:56::11"));
}

#[test]
fn node_ip_not_on_host_is_critical() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(VAGRANT, temp.path());
    write(
        &snapshot.join("rootfs/etc/default/kubelet"),
        "KUBELET_EXTRA_ARGS=--node-ip=192.168.56.99\n",
    );

    let (_, report) = run_node_ip(&snapshot);
    let missing = finding(&report, "node-ip/node-ip-not-on-host")
        .unwrap_or_else(|| panic!("got {:?}", codes(&report)));
    assert_eq!(missing["severity"], "critical");
    assert!(
        missing["summary"]
            .as_str()
            .unwrap()
            .contains("192.168.56.99")
    );
    let mismatch = finding(&report, "node-ip/internal-ip-mismatch").expect("API differs");
    assert!(evidence_text(mismatch).contains("10.0.2.15"));
    assert!(fix_text(missing).contains("--node-ip=192.168.56.11"));
}

#[test]
fn unjoined_node_fix_names_kubeadm_config() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(DIGITALOCEAN, temp.path());
    fs::remove_file(snapshot.join("rootfs/etc/kubernetes/kubelet.conf")).unwrap();
    fs::remove_file(snapshot.join("api/node.json")).unwrap();
    // The anchor listed first is the one the kubelet's default-route rule takes.
    let ip_addr = snapshot.join("commands/ip-addr.json");
    let mut links: Value = serde_json::from_str(&fs::read_to_string(&ip_addr).unwrap()).unwrap();
    links[1]["addr_info"].as_array_mut().unwrap().reverse();
    fs::write(&ip_addr, links.to_string()).unwrap();

    let (_, report) = run_node_ip(&snapshot);
    let anchor = finding(&report, "node-ip/anchor-ip-selected")
        .unwrap_or_else(|| panic!("got {:?}", codes(&report)));
    assert!(
        anchor["summary"]
            .as_str()
            .unwrap()
            .contains("the kubelet will choose 10.19.0.57")
    );
    let fix = fix_text(anchor);
    assert!(fix.contains("nodeRegistration.kubeletExtraArgs"), "{fix}");
    assert!(fix.contains("value: \"203.0.113.24\""), "{fix}");
}

#[test]
fn offline_snapshot_still_reads_captured_answers() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(DIGITALOCEAN, temp.path());
    let (_, report) = run_json_with(&snapshot, &["--only", "node-ip", "--offline"]);
    let anchor = finding(&report, "node-ip/anchor-ip-selected").expect("reported");
    assert!(evidence_text(anchor).contains("anchor_ipv4/address\" 10.19.0.57"));
}

fn add_ipv6_to_eth1(snapshot: &Path) {
    let ip_addr = snapshot.join("commands/ip-addr.json");
    let mut links: Value = serde_json::from_str(&fs::read_to_string(&ip_addr).unwrap()).unwrap();
    links[2]["addr_info"].as_array_mut().unwrap().push(
        json!({"family": "inet6", "local": "2001:db8:56::11", "prefixlen": 64, "scope": "global"}),
    );
    fs::write(&ip_addr, links.to_string()).unwrap();
}
