//! Snapshot tests of the kube-proxy-cloud-init check: failure cases rebuilt from public bug
//! reports, each kube-proxy log wording, and bad or unusual logs built from them.
//!
//! Each case folder has `case.md`, `case.json` (node, time and expected findings) and `overlay/`
//! (the Node, pods and DaemonSets from the API, the kubelet's flags and kube-proxy's logs),
//! which is the whole snapshot.

mod casebuild;
mod certgen;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use casebuild::{
    assert_expectations, build_overlay_case, evidence_text, finding, fix_text, fixtures,
    run_json_with, write,
};

const RACE: &str = "040-kube-proxy-scheduled-before-ccm-initialised-node";
const STATIC_POD: &str = "042-kube-proxy-static-pod-before-node-registration";
const CHECK: &str = "kube-proxy-cloud-init";
const NODE_IP_UNKNOWN: &str = "kube-proxy-cloud-init/node-ip-unknown";
const TAINT_PRESENT: &str = "kube-proxy-cloud-init/uninitialized-taint-present";
const TOLERATES: &str = "kube-proxy-cloud-init/tolerates-uninitialized";

/// The kube-proxy log of case 042, in the CRI format.
const CRI_LOG: &str = "rootfs/var/log/pods/kube-system_kube-proxy-ip-10-30-8-17_9d1e0c3b5a7f4e2d8c6b4a2e0f1d3c5b/kube-proxy/0.log";

fn case_spec(name: &str) -> (PathBuf, Value) {
    let case_dir = fixtures().join("cases").join(name);
    let text = fs::read_to_string(case_dir.join("case.json")).unwrap();
    (case_dir, serde_json::from_str(&text).unwrap())
}

fn build(name: &str, into: &Path) -> PathBuf {
    let (case_dir, spec) = case_spec(name);
    build_overlay_case(&case_dir, &spec, into)
}

fn run_check(snapshot: &Path) -> (i32, Value) {
    run_json_with(snapshot, &["--only", CHECK])
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
    assert_eq!(check["id"], CHECK);
    (
        check["status"].as_str().unwrap().to_string(),
        check["reason"].as_str().unwrap_or_default().to_string(),
    )
}

fn check_case(name: &str) {
    let temp = tempfile::tempdir().unwrap();
    let (_, spec) = case_spec(name);
    let snapshot = build(name, temp.path());
    let (status, report) = run_check(&snapshot);
    assert_expectations(name, status, &report, &spec["expect"], true);
}

/// Replaces case 042's kube-proxy log with `lines` (CRI format) and returns the report.
fn run_with_cri_log(lines: &str) -> Value {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(STATIC_POD, temp.path());
    write(&snapshot.join(CRI_LOG), lines);
    run_check(&snapshot).1
}

fn cri(text: &str) -> String {
    format!("2026-12-04T10:00:00.123456789Z stderr F {text}\n")
}

#[test]
fn case_040_race_needs_restart() {
    check_case(RACE);
}

#[test]
fn case_042_static_pod_before_registration() {
    check_case(STATIC_POD);
}

#[test]
fn case_044_taint_stays_points_at_ccm() {
    check_case("044-hcloud-ccm-cannot-find-provided-node-ip");
}

#[test]
fn case_045_new_node_waits_for_ccm() {
    check_case("045-cni-should-not-tolerate-uninitialized-taint");
}

#[test]
fn case_040_still_tainted_is_not_restart() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(RACE, temp.path());
    let node_path = snapshot.join("api/node.json");
    let mut node: Value = serde_json::from_str(&fs::read_to_string(&node_path).unwrap()).unwrap();
    node["spec"]["taints"] = serde_json::json!([{"key": "node.cloudprovider.kubernetes.io/uninitialized", "value": "true", "effect": "NoSchedule"}]);
    node["status"]["addresses"] = serde_json::json!([{"type": "Hostname", "address": "worker-1"}]);
    fs::write(&node_path, node.to_string()).unwrap();

    let (_, report) = run_check(&snapshot);
    let unknown = finding(&report, NODE_IP_UNKNOWN).expect("node-ip-unknown reported");
    let summary = unknown["summary"].as_str().unwrap();
    assert!(summary.contains("still not initialised"), "{summary}");
    let fix = fix_text(unknown);
    assert!(fix.contains("cloud controller manager"), "{fix}");
    assert!(fix.contains("When the taint"), "{fix}");
    let taint = finding(&report, TAINT_PRESENT).expect("taint reported");
    assert!(taint["summary"].as_str().unwrap().contains("for 30m"));
    assert!(evidence_text(taint).contains("\"status.addresses\" Hostname worker-1"));
    assert!(finding(&report, TOLERATES).is_some());
}

#[test]
fn case_040_patched_daemonset_passes() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(RACE, temp.path());
    let pods_path = snapshot.join("api/pods.json");
    let mut pods: Value = serde_json::from_str(&fs::read_to_string(&pods_path).unwrap()).unwrap();
    pods["items"][0]["spec"]["tolerations"] = serde_json::json!([
        {"key": "CriticalAddonsOnly", "operator": "Exists"},
        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
    ]);
    fs::write(&pods_path, pods.to_string()).unwrap();
    let log = fs::read_dir(snapshot.join("rootfs/var/lib/docker/containers"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let id = log.file_name().unwrap().to_str().unwrap().to_string();
    write(
        &log.join(format!("{id}-json.log")),
        "{\"log\":\"I0727 10:00:03.412087       1 server_others.go:140] Using iptables Proxier.\\n\",\"stream\":\"stderr\",\"time\":\"2018-07-27T10:00:03.412327562Z\"}\n",
    );

    let (status, report) = run_check(&snapshot);
    assert_eq!(
        check_status(&report).0,
        "passed",
        "got {:?}",
        codes(&report)
    );
    assert_eq!(status, 0);
}

#[test]
fn daemonset_used_without_pod() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(RACE, temp.path());
    write(
        &snapshot.join("api/pods.json"),
        "{\"kind\":\"List\",\"items\":[]}",
    );

    let (_, report) = run_check(&snapshot);
    let tolerates = finding(&report, TOLERATES).expect("tolerates reported");
    assert!(
        evidence_text(tolerates).contains(
            "\"api/daemonsets.json\" \"spec.template.spec.tolerations\" {operator: Exists}"
        )
    );
    let unknown = finding(&report, NODE_IP_UNKNOWN).expect("log found in /var/log/containers");
    assert!(
        unknown["summary"]
            .as_str()
            .unwrap()
            .contains("kube-proxy-x7k2p")
    );
    assert!(
        evidence_text(unknown)
            .contains("/var/log/containers/kube-proxy-x7k2p_kube-system_kube-proxy-")
    );
}

#[test]
fn each_wording_is_node_ip_unknown() {
    let wordings = [
        "W0727 10:00:03.418962       1 server.go:610] Failed to retrieve node IP: host IP unknown; known addresses: []",
        "W0727 10:00:03.419087       1 proxier.go:340] invalid nodeIP, initializing kube-proxy with 127.0.0.1 as nodeIP",
        "I1204 10:00:00.000000       1 server_others.go:185] Can't determine this node's IP, assuming 127.0.0.1; if this is incorrect, please set the --bind-address flag",
        "I1204 10:00:00.000000       1 server.go:200] \"Can't determine this node's IP, assuming loopback; if this is incorrect, please set the --bind-address flag\"",
        "I1204 10:00:00.000000       1 server.go:200] \"Can't determine this node's IP, assuming loopback; if this is incorrect, please set the --bind-address/--node-ip-override flag\"",
    ];
    for wording in wordings {
        let report = run_with_cri_log(&cri(wording));
        let unknown = finding(&report, NODE_IP_UNKNOWN)
            .unwrap_or_else(|| panic!("{wording}: got {:?}", codes(&report)));
        assert_eq!(unknown["severity"], "critical");
        assert!(
            evidence_text(unknown).contains(wording.split("] ").nth(1).unwrap()),
            "{wording}"
        );
    }
}

#[test]
fn clean_log_gives_nothing() {
    let log = [
        "I1204 10:00:00.000000       1 server_linux.go:66] \"Using iptables proxy\"",
        "E1204 10:00:01.000000       1 server.go:200] \"Failed to retrieve node IPs\" err=\"host IP unknown; known addresses: []\"",
        "I1204 10:00:03.000000       1 server.go:210] \"Successfully retrieved node IP(s)\" IPs=[\"10.0.0.5\"]",
        "I1204 10:00:03.100000       1 config.go:199] \"Starting service config controller\"",
    ]
    .map(cri)
    .concat();
    let report = run_with_cri_log(&log);
    assert_eq!(
        check_status(&report).0,
        "passed",
        "got {:?}",
        codes(&report)
    );
}

#[test]
fn partial_cri_lines_are_joined() {
    let log = "2026-12-04T10:00:00.1Z stderr P W1204 10:00:00.1 1 proxier.go:340] invalid nodeIP, initia\n\
               2026-12-04T10:00:00.1Z stdout F unrelated\n\
               2026-12-04T10:00:00.2Z stderr F lizing kube-proxy with 127.0.0.1 as nodeIP\n";
    let report = run_with_cri_log(log);
    let unknown = finding(&report, NODE_IP_UNKNOWN).expect("joined line matched");
    assert!(
        evidence_text(unknown)
            .contains("invalid nodeIP, initializing kube-proxy with 127.0.0.1 as nodeIP")
    );
}

#[test]
fn torn_last_line_is_ignored() {
    let mut log = cri("I1204 10:00:00.000000       1 server.go:200] \"Using iptables proxy\"");
    log.push_str("2026-12-04T10:00:01.0Z stderr F I1204 10:00:01 1 server.go:200] \"Can't determine this node's IP, assum");
    let report = run_with_cri_log(&log);
    assert_eq!(
        check_status(&report).0,
        "passed",
        "got {:?}",
        codes(&report)
    );

    log.push_str("ing loopback; if this is incorrect, please set the --bind-address flag\"\n");
    let report = run_with_cri_log(&log);
    assert!(
        finding(&report, NODE_IP_UNKNOWN).is_some(),
        "the completed line counts"
    );
}

#[test]
fn newest_log_decides_after_restart() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(STATIC_POD, temp.path());
    let newer = snapshot.join(CRI_LOG.replace("0.log", "1.log"));
    write(
        &newer,
        &cri("I1204 10:00:00.000000       1 server.go:200] \"Using iptables proxy\""),
    );
    let (_, report) = run_check(&snapshot);
    assert_eq!(
        check_status(&report).0,
        "passed",
        "got {:?}",
        codes(&report)
    );

    // A restarted container that has logged nothing yet leaves the previous log to decide.
    write(&newer, "");
    let (_, report) = run_check(&snapshot);
    let unknown = finding(&report, NODE_IP_UNKNOWN).expect("previous log decides");
    assert!(evidence_text(unknown).contains("/kube-proxy/0.log"));
}

#[test]
fn sparse_huge_log_reads_only_tail() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(STATIC_POD, temp.path());
    let path = snapshot.join(CRI_LOG);
    // The newline ends the line that the zeros before it belong to.
    let line = cri(
        "I1204 10:00:00.000000       1 server.go:200] \"Can't determine this node's IP, assuming loopback; if this is incorrect, please set the --bind-address flag\"",
    );
    let tail = format!("\n{line}");
    let file = fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    let size: u64 = 10 * 1024 * 1024 * 1024;
    file.set_len(size - tail.len() as u64).unwrap();
    drop(file);
    let mut file = fs::OpenOptions::new().append(true).open(&path).unwrap();
    std::io::Write::write_all(&mut file, tail.as_bytes()).unwrap();
    drop(file);
    assert_eq!(fs::metadata(&path).unwrap().len(), size);

    let started = Instant::now();
    let (_, report) = run_check(&snapshot);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(
        finding(&report, NODE_IP_UNKNOWN).is_some(),
        "got {:?}",
        codes(&report)
    );
}

#[test]
fn fifo_log_does_not_block() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(STATIC_POD, temp.path());
    let path = snapshot.join(CRI_LOG);
    fs::remove_file(&path).unwrap();
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();

    let started = Instant::now();
    let (_, report) = run_check(&snapshot);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(
        check_status(&report).0,
        "passed",
        "got {:?}",
        codes(&report)
    );
}

#[test]
fn invalid_node_json_is_error() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(RACE, temp.path());
    write(
        &snapshot.join("api/node.json"),
        "{\"kind\": \"Node\", \"spec\": ",
    );
    let (_, report) = run_check(&snapshot);
    let (status, reason) = check_status(&report);
    assert_eq!(status, "error");
    assert!(
        reason.contains("api/node.json: not a Node in JSON"),
        "{reason}"
    );
}

#[test]
fn nothing_to_read_is_skipped() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = build(STATIC_POD, temp.path());
    fs::remove_dir_all(snapshot.join("rootfs/var/log")).unwrap();
    let (_, report) = run_check(&snapshot);
    let (status, reason) = check_status(&report);
    assert_eq!(status, "skipped");
    assert!(reason.contains("api/node.json"), "{reason}");
}
