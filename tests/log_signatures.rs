//! The log-signatures check and `node-doctor diagnose`, on saved output and log lines from the
//! cases under tests/fixtures/cases: kubeadm join logs (070 to 073), preflight output (075,
//! 078), kubelet journals, kube-proxy, API server and etcd logs, and kubectl events.

mod casebuild;
mod certgen;
mod support;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use casebuild::{copy_tree, evidence_text, fix_text, fixtures, write};
use support::{assert_no_key_material, node_doctor, parse_prometheus};

fn case(name: &str) -> PathBuf {
    fixtures().join("cases").join(name)
}

/// Runs `node-doctor diagnose -o json` with extra arguments and returns the exit status and
/// the report.
fn diagnose(args: &[&str], input: &Path) -> (i32, Value) {
    let output = node_doctor()
        .args(["diagnose", "-o", "json"])
        .args(args)
        .arg(input)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_no_key_material(&stdout);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "invalid JSON ({error}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap(), report)
}

fn findings(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn only_finding<'a>(report: &'a Value, code: &str) -> &'a Value {
    let matching: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .collect();
    assert_eq!(matching.len(), 1, "one {code}; got {:?}", findings(report));
    matching[0]
}

/// Diagnoses a saved file without confirming checks and returns the codes, all reported by
/// log-signatures.
fn diagnosed_codes(input: &Path) -> Vec<String> {
    let (_, report) = diagnose(&["--no-confirm"], input);
    findings(&report)
        .into_iter()
        .map(|(check, code)| {
            assert_eq!(check, "log-signatures", "{code} reported by {check}");
            code
        })
        .collect()
}

#[test]
fn case_070_ca_hash_not_pinned() {
    let dir = case("070-join-ca-cert-hashes-only-first-entry-honoured");
    let (status, report) = diagnose(&["--no-confirm"], &dir.join("kubeadm-join.log"));
    assert_eq!(status, 1);
    let finding = only_finding(&report, "log-signatures/ca-hash-not-pinned");
    assert_eq!(finding["check"], "log-signatures");
    assert_eq!(finding["severity"], "critical");
    let hash = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    assert!(finding["summary"].as_str().unwrap().contains(hash));
    assert!(finding["details"].as_str().unwrap().contains("first entry"));
    let evidence = evidence_text(finding);
    assert!(evidence.contains("2021-05-08 12:20:58"), "{evidence}");
    assert!(evidence.contains("are pinned"), "{evidence}");
    let fix = fix_text(finding);
    assert!(
        fix.contains("kubeadm token create --print-join-command"),
        "{fix}"
    );
    assert!(fix.contains("put it first in caCertHashes"), "{fix}");
}

#[test]
fn case_071_hash_then_untrusted_serving_cert() {
    let dir = case("071-join-hash-not-pinned-then-apiserver-cert-not-from-cluster-info-ca");
    assert_eq!(
        diagnosed_codes(&dir.join("kubeadm-join-attempt-1.txt")),
        ["log-signatures/ca-hash-not-pinned"]
    );
    let (status, report) = diagnose(
        &["--no-confirm"],
        &dir.join("kubeadm-join-attempt-2-v-debug.txt"),
    );
    assert_eq!(status, 1);
    let finding = only_finding(&report, "log-signatures/discovery-ca-untrusted");
    assert!(fix_text(finding).contains("cluster-info"));
    assert_eq!(findings(&report).len(), 1, "{:?}", findings(&report));
}

#[test]
fn case_072_expired_bootstrap_token() {
    let dir = case("072-join-silently-stuck-expired-bootstrap-token");
    let (status, report) = diagnose(&["--no-confirm"], &dir.join("kubeadm-join-v3.txt"));
    assert_eq!(status, 1);
    let finding = only_finding(&report, "log-signatures/bootstrap-token-invalid");
    assert!(finding["summary"].as_str().unwrap().contains("abcdef"));
    assert!(fix_text(finding).contains("kubeadm token create --print-join-command"));

    // Without -v3 kubeadm prints nothing about the cause, so there is nothing to match, and
    // the token secret on the command line is not echoed.
    let (status, report) = diagnose(&["--no-confirm"], &dir.join("kubeadm-join.txt"));
    assert_eq!(status, 0);
    assert_eq!(findings(&report), Vec::<(String, String)>::new());
    assert!(!report.to_string().contains("0123456789abcdef"));
}

#[test]
fn case_073_certificate_not_yet_valid() {
    let dir = case("073-join-fails-clock-skew-cert-not-yet-valid");
    let (status, report) = diagnose(&["--no-confirm"], &dir.join("kubeadm-join-ansible.txt"));
    assert_eq!(status, 1);
    let finding = only_finding(&report, "log-signatures/server-cert-time-invalid");
    assert!(fix_text(finding).contains("timedatectl set-ntp true"));

    let (_, report) = diagnose(
        &["--no-confirm"],
        &dir.join("related/k8s-42791-kubeadm-join.txt"),
    );
    let finding = only_finding(&report, "log-signatures/server-cert-time-invalid");
    assert!(
        finding["summary"].as_str().unwrap().contains("2 times"),
        "{}",
        finding["summary"]
    );
    let evidence = evidence_text(finding);
    assert!(evidence.contains("matching lines\" 2"), "{evidence}");
}

/// Builds the snapshot of a preflight case: an empty node with the case's overlay.
fn preflight_snapshot(name: &str, into: &Path) -> PathBuf {
    let dir = case(name);
    let spec: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
    let snapshot = into.join("snapshot");
    fs::create_dir_all(snapshot.join("rootfs")).unwrap();
    let manifest = serde_json::json!({
        "format": "node-doctor-snapshot/v1",
        "node": spec["node"],
        "capturedAt": spec["now"],
        "special": spec["special"],
    });
    write(&snapshot.join("snapshot.json"), &manifest.to_string());
    copy_tree(&dir.join("overlay"), &snapshot);
    snapshot
}

#[test]
fn case_078_swap_confirmed_on_snapshot() {
    let name = "078-preflight-swap-on-kubelet-fail-swap-on-flag-not-enough";
    let temp = tempfile::tempdir().unwrap();
    let snapshot = preflight_snapshot(name, temp.path());
    let input = case(name).join("kubeadm-init.txt");
    let snapshot_arg = snapshot.to_str().unwrap();
    let (status, report) = diagnose(&["--snapshot", snapshot_arg], &input);
    assert_eq!(status, 1);
    let found = findings(&report);
    assert!(
        found.contains(&(
            "join-preflight".into(),
            "join-preflight/swap-enabled".into()
        )),
        "the confirming check did not run: {found:?}"
    );
    // The log line confirms the file check's finding, so it joins that finding's evidence
    // instead of being reported a second time.
    assert!(
        !found.contains(&(
            "log-signatures".into(),
            "join-preflight/swap-enabled".into()
        )),
        "{found:?}"
    );
    let swap = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "join-preflight/swap-enabled")
        .unwrap();
    let evidence = serde_json::to_string(&swap["evidence"]).unwrap();
    assert!(evidence.contains("kubeadm-init.txt"), "{evidence}");
    let ids: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["log-signatures", "join-preflight"]);

    // The metrics give one series per code per check, so the same code under two checks
    // stays two series. The log line was merged into join-preflight's finding, so only that
    // series is 1.
    let output = node_doctor()
        .args(["diagnose", "-o", "prometheus", "--snapshot", snapshot_arg])
        .arg(&input)
        .output()
        .unwrap();
    let samples = parse_prometheus(&String::from_utf8_lossy(&output.stdout));
    let swap: Vec<(String, f64)> = samples
        .iter()
        .filter(|s| s.name == "node_doctor_finding")
        .filter(|s| s.labels["code"] == "join-preflight/swap-enabled")
        .map(|s| (s.labels["check"].clone(), s.value))
        .collect();
    assert_eq!(
        swap,
        [
            ("log-signatures".to_string(), 0.0),
            ("join-preflight".to_string(), 1.0)
        ]
    );
    let not_found = samples.iter().find(|s| {
        s.name == "node_doctor_finding" && s.labels["code"] == "log-signatures/node-not-found"
    });
    assert_eq!(not_found.map(|s| s.value), Some(0.0));

    let related = case(name).join("related/website-6806-kubeadm-init.txt");
    assert_eq!(diagnosed_codes(&related), ["join-preflight/swap-enabled"]);
}

#[test]
fn diagnose_reads_standard_input() {
    let log = fs::read(
        case("070-join-ca-cert-hashes-only-first-entry-honoured").join("kubeadm-join.log"),
    )
    .unwrap();
    let output = node_doctor()
        .args(["diagnose", "--no-confirm", "-"])
        .write_stdin(log)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("log-signatures/ca-hash-not-pinned"), "{text}");
    assert!(
        text.contains("kubeadm token create --print-join-command"),
        "{text}"
    );
}

#[test]
fn diagnose_missing_file_is_exit_2() {
    let output = node_doctor()
        .args(["diagnose", "/nonexistent/kubeadm-join.log"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot open"));
}

/// Saved lines from the other cases and the code each must give.
#[test]
fn saved_lines_from_cases() {
    let table: [(&str, &str, &[&str]); 12] = [
        (
            "022-containerd-no-ca-configured-docker-insecure-only",
            "kubelet-event.txt",
            &["registry-ca/chain-untrusted"],
        ),
        (
            "024-crio-self-signed-registry-no-ca",
            "kubelet-event.txt",
            &["registry-ca/chain-untrusted"],
        ),
        (
            "026-docker-node-imagepullbackoff-registry-ip-port",
            "kubectl-describe-pod-events.txt",
            &["registry-ca/chain-untrusted"],
        ),
        (
            "027-talos-registry-hosts-config-missing-on-one-node",
            "kubelet-event.txt",
            &["registry-ca/chain-untrusted"],
        ),
        (
            "030-centos-docker-1-12-mountflags-slave-kubelet-container",
            "kubelet-after-mountflags-fix.log",
            &["join-preflight/cgroup-driver-mismatch"],
        ),
        (
            "040-kube-proxy-scheduled-before-ccm-initialised-node",
            "kubectl-logs-kube-proxy.txt",
            &["kube-proxy-cloud-init/node-ip-unknown"],
        ),
        (
            "042-kube-proxy-static-pod-before-node-registration",
            "kube-proxy.log",
            &[
                "kube-proxy-cloud-init/node-ip-unknown",
                "log-signatures/node-not-found",
            ],
        ),
        (
            "050-apiserver-rejects-expired-client-certs-after-renew-all",
            "kubectl-logs-kube-apiserver.txt",
            &["cert-expiry/expired"],
        ),
        (
            "052-etcd-certs-copied-between-members-san-mismatch",
            "etcd.log",
            &["pki/san-missing"],
        ),
        (
            "053-apiserver-cert-sans-lack-advertised-ip-join-fails",
            "kubeadm-join.txt",
            &["pki/san-missing"],
        ),
        (
            "075-join-preflight-bridge-nf-call-missing-and-swap-in-docker-nodes",
            "kubeadm-join-preflight.txt",
            &["join-preflight/swap-enabled"],
        ),
        (
            "061-stale-rke-certs-from-previous-install-kube-ca-mismatch",
            "worker-component.log",
            &[],
        ),
    ];
    for (name, file, expected) in table {
        let codes = diagnosed_codes(&case(name).join(file));
        assert_eq!(codes, expected, "{name}/{file}");
    }
}

#[test]
fn san_mismatch_names_the_address() {
    let (_, report) = diagnose(
        &["--no-confirm"],
        &case("052-etcd-certs-copied-between-members-san-mismatch").join("etcd.log"),
    );
    let finding = only_finding(&report, "pki/san-missing");
    assert!(
        finding["summary"]
            .as_str()
            .unwrap()
            .contains("198.51.100.3"),
        "{}",
        finding["summary"]
    );
    let (_, report) = diagnose(
        &["--no-confirm"],
        &case("053-apiserver-cert-sans-lack-advertised-ip-join-fails").join("kubeadm-join.txt"),
    );
    let finding = only_finding(&report, "pki/san-missing");
    assert!(
        finding["summary"].as_str().unwrap().contains("10.0.7.10"),
        "{}",
        finding["summary"]
    );
}

#[test]
fn api_server_expiry_names_not_after() {
    let input = case("050-apiserver-rejects-expired-client-certs-after-renew-all")
        .join("kubectl-logs-kube-apiserver.txt");
    let (_, report) = diagnose(&["--no-confirm"], &input);
    let finding = only_finding(&report, "cert-expiry/expired");
    let summary = finding["summary"].as_str().unwrap();
    assert!(summary.contains("2023-09-25T12:10:15Z"), "{summary}");
    assert!(
        summary.contains("2 times between 0925 22:45:43.610253 and 0925 22:45:45.104633"),
        "{summary}"
    );
}

/// Builds a snapshot with only the given files, relative to the snapshot directory.
fn snapshot_with(into: &Path, files: &[(&str, String)]) -> PathBuf {
    let snapshot = into.join("snapshot");
    fs::create_dir_all(snapshot.join("rootfs")).unwrap();
    let manifest = r#"{"format":"node-doctor-snapshot/v1","node":"node-1","capturedAt":"2026-12-04T10:00:00Z"}"#;
    write(&snapshot.join("snapshot.json"), manifest);
    for (path, contents) in files {
        write(&snapshot.join(path), contents);
    }
    snapshot
}

fn check_log_signatures(snapshot: &Path) -> Value {
    let output = node_doctor()
        .args([
            "check",
            "-o",
            "json",
            "--only",
            "log-signatures",
            "--snapshot",
        ])
        .arg(snapshot)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_no_key_material(&stdout);
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The kubelet journals of the kubelet cases, as a snapshot captures them.
#[test]
fn snapshot_kubelet_journals() {
    let table: [(&str, &[&str]); 4] = [
        (
            "002-kubelet-starts-with-kubeconfig-cert-not-cert-dir",
            &[
                "kubelet-client-cert/expired",
                "kubelet-client-cert/no-bootstrap-fallback",
            ],
        ),
        (
            "003-short-signing-duration-node-deallocated-overnight",
            &["kubelet-client-cert/expired"],
        ),
        (
            "004-client-cert-expired-server-not-responsive-loop",
            &["kubelet-client-cert/expired"],
        ),
        (
            "007-rotation-csr-unauthorized-very-short-cert-lifetime",
            &[],
        ),
    ];
    for (name, expected) in table {
        let journal =
            fs::read_to_string(case(name).join("overlay/commands/journal/kubelet.log")).unwrap();
        let temp = tempfile::tempdir().unwrap();
        let snapshot = snapshot_with(temp.path(), &[("commands/journal/kubelet.log", journal)]);
        let report = check_log_signatures(&snapshot);
        let codes: Vec<String> = findings(&report)
            .into_iter()
            .map(|(check, code)| {
                assert_eq!(check, "log-signatures", "{name}: {code}");
                code
            })
            .collect();
        assert_eq!(codes, expected, "{name}");
        assert_eq!(
            report["checks"][0]["status"],
            if expected.is_empty() {
                "passed"
            } else {
                "failed"
            }
        );
    }
}

#[test]
fn snapshot_without_logs_is_skipped() {
    let temp = tempfile::tempdir().unwrap();
    let report = check_log_signatures(&snapshot_with(temp.path(), &[]));
    assert_eq!(report["checks"][0]["status"], "skipped");
}

/// Writes lines as a CRI log file: TIMESTAMP STREAM F TEXT.
fn cri_log(lines: &str) -> String {
    lines
        .lines()
        .enumerate()
        .map(|(index, line)| {
            format!(
                "2023-09-25T22:45:{:02}.000000000Z stderr F {line}\n",
                10 + index
            )
        })
        .collect()
}

#[test]
fn snapshot_static_pod_logs() {
    let apiserver = fs::read_to_string(
        case("050-apiserver-rejects-expired-client-certs-after-renew-all")
            .join("kubectl-logs-kube-apiserver.txt"),
    )
    .unwrap();
    let etcd = fs::read_to_string(
        case("052-etcd-certs-copied-between-members-san-mismatch").join("etcd.log"),
    )
    .unwrap();
    let temp = tempfile::tempdir().unwrap();
    let snapshot = snapshot_with(
        temp.path(),
        &[
            (
                "rootfs/var/log/pods/kube-system_kube-apiserver-cp-1_0a1b/kube-apiserver/0.log",
                cri_log(&apiserver),
            ),
            (
                "rootfs/var/log/pods/kube-system_etcd-cp-1_2c3d/etcd/0.log",
                cri_log(&etcd),
            ),
        ],
    );
    let report = check_log_signatures(&snapshot);
    let expired = only_finding(&report, "cert-expiry/expired");
    assert_eq!(expired["check"], "log-signatures");
    let evidence = evidence_text(expired);
    assert!(evidence.contains("kube-apiserver/0.log"), "{evidence}");
    assert!(
        evidence.contains("first seen\" 2023-09-25T22:45:10"),
        "{evidence}"
    );
    let san = only_finding(&report, "pki/san-missing");
    assert!(evidence_text(san).contains("etcd/0.log"));
}

#[test]
fn snapshot_kube_proxy_pod_log() {
    let name = "042-kube-proxy-static-pod-before-node-registration";
    let temp = tempfile::tempdir().unwrap();
    let snapshot = temp.path().join("snapshot");
    write(
        &snapshot.join("snapshot.json"),
        r#"{"format":"node-doctor-snapshot/v1","node":"ip-10-30-8-17","capturedAt":"2018-04-12T13:00:00Z"}"#,
    );
    copy_tree(&case(name).join("overlay"), &snapshot);
    let report = check_log_signatures(&snapshot);
    let codes: Vec<String> = findings(&report)
        .into_iter()
        .map(|(_, code)| code)
        .collect();
    assert!(
        codes.contains(&"kube-proxy-cloud-init/node-ip-unknown".to_string()),
        "{codes:?}"
    );
}

#[test]
fn token_secrets_in_lines_are_redacted() {
    let line = "Jan 01 00:00:00 node-1 kubelet[1]: E0101 00:00:00.000000 1 x.go:1] bootstrap with --token abcdef.0123456789abcdef: token id \"abcdef\" is invalid for this cluster or it has expired\n";
    let temp = tempfile::tempdir().unwrap();
    let snapshot = snapshot_with(
        temp.path(),
        &[("commands/journal/kubelet.log", line.to_string())],
    );
    let report = check_log_signatures(&snapshot);
    only_finding(&report, "log-signatures/bootstrap-token-invalid");
    let text = report.to_string();
    assert!(!text.contains("0123456789abcdef"), "{text}");
    assert!(text.contains("abcdef.<redacted>"), "{text}");
}
