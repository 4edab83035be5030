//! Declarative checks from a checks.d folder made by each test: every rule kind on a snapshot,
//! plugins on a live root (node-problem-detector's protocol, JSON output, a plugin that hangs
//! and one that prints 10 MB), `checks validate` on bad input, and the shipped checks/ folder.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use support::{assert_no_key_material, node_doctor};

fn write(path: &Path, contents: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

fn write_script(path: &Path, body: &str) {
    write(path, &format!("#!/bin/sh\n{body}\n"));
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn run_json(args: &[&str]) -> (i32, Value, String) {
    let output = node_doctor()
        .args(args)
        .args(["-o", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_no_key_material(&stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|error| panic!("invalid JSON ({error}): {stderr}"));
    (output.status.code().unwrap(), report, stderr)
}

fn finding<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("{code} not reported: {}", report["findings"]))
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("check {id} not run"))
}

/// An expired self-signed certificate, PEM.
fn expired_certificate() -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["registry.example.test".into()]).unwrap();
    params.not_before = time::OffsetDateTime::from_unix_timestamp(1_600_000_000).unwrap();
    params.not_after = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    params.self_signed(&key).unwrap().pem()
}

const SITE_CHECKS: &str = r#"apiVersion: node-doctor/v1
checks:
  - id: site-policy
    title: site rules for every node
    rules:
      - kind: file
        path: /etc/kubernetes/kubelet.conf
        mode: "0600"
        finding:
          code: site-policy/kubeconfig-mode
          severity: critical
          summary: "{{path}} has mode {{value}}"
          fix:
            summary: Restrict it
            commands: ["chmod 600 {{path}}"]
      - kind: file
        path: /etc/cron.d/reboot-nightly
        exists: false
        finding:
          code: site-policy/nightly-reboot
          summary: "{{path}} is {{value}}"
      - kind: file
        path: /etc/default/kubelet
        contentsNotMatch: 'KUBELET_EXTRA_ARGS=.*--node-ip=(?P<ip>[0-9.]+)'
        finding:
          code: site-policy/pinned-node-ip
          severity: info
          summary: "node IP pinned to {{ip}} on {{node}}"
      - kind: sysctl
        key: net.ipv4.ip_forward
        equals: "1"
        finding:
          code: site-policy/ip-forward
          summary: "{{key}} is {{value}}, expected {{expected}}"
      - kind: module
        module: br_netfilter
        finding:
          code: site-policy/br-netfilter
          summary: "{{module}} is {{value}}"
      - kind: certificate
        path: /etc/pki/registry-ca.crt
        warnWithin: 30d
        finding:
          code: site-policy/registry-ca-expiry
          severity: critical
          summary: "{{path}} {{value}} at {{not_after}}"
      - kind: systemd
        unit: kubelet.service
        property: Restart
        equals: always
        finding:
          code: site-policy/kubelet-restart
          summary: "kubelet.service Restart={{value}}, expected {{expected}}"
      - kind: log
        journal: kubelet
        pattern: 'Failed to contact API server: (?P<reason>.+)$'
        finding:
          code: site-policy/api-unreachable
          summary: "kubelet cannot reach the API server ({{reason}}), {{seen}}"
      - kind: command
        command: [./plugins/ok.sh]
        finding:
          code: site-policy/plugin
          summary: "{{message}}"
"#;

/// A snapshot on which every rule above but the plugin finds its problem.
fn site_snapshot(into: &Path) -> PathBuf {
    let snapshot = into.join("snapshot");
    write(
        &snapshot.join("snapshot.json"),
        r#"{"format":"node-doctor-snapshot/v1","node":"worker-7","capturedAt":"2026-12-04T10:00:00Z"}"#,
    );
    let rootfs = snapshot.join("rootfs");
    write(
        &rootfs.join("etc/kubernetes/kubelet.conf"),
        "apiVersion: v1\nkind: Config\n",
    );
    fs::set_permissions(
        rootfs.join("etc/kubernetes/kubelet.conf"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    write(
        &rootfs.join("etc/cron.d/reboot-nightly"),
        "0 3 * * * root reboot\n",
    );
    write(
        &rootfs.join("etc/default/kubelet"),
        "KUBELET_EXTRA_ARGS=--v=2 --node-ip=10.0.0.7\n",
    );
    write(&rootfs.join("proc/sys/net/ipv4/ip_forward"), "0\n");
    write(&rootfs.join("proc/sys/kernel/hostname"), "worker-7\n");
    write(
        &rootfs.join("proc/modules"),
        "overlay 151552 0 - Live 0x0\n",
    );
    write(
        &rootfs.join("etc/pki/registry-ca.crt"),
        &expired_certificate(),
    );
    write(
        &snapshot.join("commands/systemctl-show/kubelet.service.txt"),
        "Id=kubelet.service\nRestart=no\n",
    );
    write(
        &snapshot.join("commands/journal/kubelet.log"),
        "2026-12-04T09:00:00+0000 worker-7 kubelet[9]: E1204 09:00:00.000000 9 x.go:1] Failed to contact API server: connection refused\n\
         2026-12-04T09:05:00+0000 worker-7 kubelet[9]: E1204 09:05:00.000000 9 x.go:1] Failed to contact API server: i/o timeout\n",
    );
    snapshot
}

#[test]
fn every_rule_kind_on_snapshot() {
    let temp = tempfile::tempdir().unwrap();
    let checks_dir = temp.path().join("checks.d");
    write(&checks_dir.join("site.yaml"), SITE_CHECKS);
    write_script(&checks_dir.join("plugins/ok.sh"), "echo fine; exit 1");
    let snapshot = site_snapshot(temp.path());
    let (status, report, _) = run_json(&[
        "check",
        "--snapshot",
        snapshot.to_str().unwrap(),
        "--checks-dir",
        checks_dir.to_str().unwrap(),
        "--only",
        "site-policy",
    ]);
    assert_eq!(status, 1);
    assert_eq!(check(&report, "site-policy")["status"], "failed");

    let mode = finding(&report, "site-policy/kubeconfig-mode");
    assert_eq!(mode["check"], "site-policy");
    assert_eq!(mode["severity"], "critical");
    assert_eq!(
        mode["summary"],
        "/etc/kubernetes/kubelet.conf has mode 0644"
    );
    assert_eq!(
        mode["fix"]["commands"][0],
        "chmod 600 /etc/kubernetes/kubelet.conf"
    );
    assert_eq!(
        finding(&report, "site-policy/nightly-reboot")["summary"],
        "/etc/cron.d/reboot-nightly is present"
    );
    assert_eq!(
        finding(&report, "site-policy/pinned-node-ip")["summary"],
        "node IP pinned to 10.0.0.7 on worker-7"
    );
    assert_eq!(
        finding(&report, "site-policy/ip-forward")["summary"],
        "net.ipv4.ip_forward is 0, expected 1"
    );
    assert_eq!(
        finding(&report, "site-policy/br-netfilter")["summary"],
        "br_netfilter is not loaded"
    );
    assert_eq!(
        finding(&report, "site-policy/registry-ca-expiry")["summary"],
        "/etc/pki/registry-ca.crt expired at 2023-11-14T22:13:20Z"
    );
    assert_eq!(
        finding(&report, "site-policy/kubelet-restart")["summary"],
        "kubelet.service Restart=no, expected always"
    );
    assert_eq!(
        finding(&report, "site-policy/api-unreachable")["summary"],
        "kubelet cannot reach the API server (i/o timeout), 2 times between 2026-12-04T09:00:00+0000 and 2026-12-04T09:05:00+0000"
    );
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        !codes.contains(&"site-policy/plugin"),
        "plugin ran on a snapshot: {codes:?}"
    );
}

#[test]
fn declared_codes_in_list_explain_and_metrics() {
    let temp = tempfile::tempdir().unwrap();
    let checks_dir = temp.path().join("checks.d");
    write(&checks_dir.join("site.yaml"), SITE_CHECKS);
    let dir = checks_dir.to_str().unwrap();

    let list = node_doctor()
        .args(["list", "--checks-dir", dir])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.contains("site-policy: site rules for every node"),
        "{list}"
    );
    assert!(list.contains("site-policy/registry-ca-expiry"), "{list}");

    let explain = node_doctor()
        .args(["explain", "site-policy/ip-forward", "--checks-dir", dir])
        .output()
        .unwrap();
    assert_eq!(explain.status.code(), Some(0));
    let explain = String::from_utf8_lossy(&explain.stdout);
    assert!(explain.contains("check: site-policy"), "{explain}");
    assert!(explain.contains("default severity: warning"), "{explain}");

    let snapshot = site_snapshot(temp.path());
    let metrics = node_doctor()
        .args([
            "check",
            "-o",
            "prometheus",
            "--only",
            "site-policy",
            "--checks-dir",
            dir,
            "--snapshot",
        ])
        .arg(&snapshot)
        .output()
        .unwrap();
    let samples = support::parse_prometheus(&String::from_utf8_lossy(&metrics.stdout));
    let series: Vec<(&str, f64)> = samples
        .iter()
        .filter(|s| s.name == "node_doctor_finding" && s.labels["check"] == "site-policy")
        .map(|s| (s.labels["code"].as_str(), s.value))
        .collect();
    assert_eq!(series.len(), 9, "{series:?}");
    assert!(series.contains(&("site-policy/ip-forward", 1.0)));
    assert!(series.contains(&("site-policy/plugin", 0.0)));
}

/// Runs the checks of `yaml` on a live root with only those checks selected.
fn run_live(temp: &Path, yaml: &str, only: &[&str]) -> (i32, Value, String) {
    let checks_dir = temp.join("checks.d");
    write(&checks_dir.join("plugins.yaml"), yaml);
    let root = temp.join("root");
    fs::create_dir_all(root.join("etc")).unwrap();
    let mut args = vec![
        "check".to_string(),
        "--offline".to_string(),
        "--root".to_string(),
        root.display().to_string(),
        "--checks-dir".to_string(),
        checks_dir.display().to_string(),
        "-v".to_string(),
    ];
    for id in only {
        args.push("--only".to_string());
        args.push(id.to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_json(&args)
}

const PLUGIN_CHECKS: &str = r#"checks:
  - id: disk-plugin
    title: a plugin in node-problem-detector's protocol
    rules:
      - kind: command
        command: [./plugins/disk.sh, "90"]
        timeout: 5s
        finding:
          code: disk-plugin/nearly-full
          severity: critical
          summary: "disk check: {{message}}"
  - id: json-plugin
    title: a plugin that prints findings as JSON
    rules:
      - kind: command
        command: [./plugins/json.sh]
        output: json
        finding:
          code: json-plugin/stale-mount
          summary: declared for the plugin's output
  - id: hang-plugin
    title: a plugin that never exits
    rules:
      - kind: command
        command: [./plugins/hang.sh]
        timeout: 1s
        finding:
          code: hang-plugin/never
          summary: "{{message}}"
  - id: flood-plugin
    title: plugins that print 10 MB
    rules:
      - kind: command
        command: [./plugins/flood.sh]
        finding:
          code: flood-plugin/problem
          summary: "{{message}}"
      - kind: command
        command: [./plugins/flood.sh]
        output: json
  - id: unknown-plugin
    title: a plugin that cannot decide
    rules:
      - kind: command
        command: [./plugins/unknown.sh]
        finding:
          code: unknown-plugin/problem
          summary: "{{message}}"
"#;

fn write_plugins(checks_dir: &Path) {
    let plugins = checks_dir.join("plugins");
    write_script(
        &plugins.join("disk.sh"),
        "read -r nothing && echo \"stdin was not empty\"\n\
         echo \"root $NODE_DOCTOR_ROOT above $1%\"\necho 'second line' \necho 'plugin debug output' >&2\nexit 1",
    );
    write_script(
        &plugins.join("json.sh"),
        r#"echo '{"findings":[{"code":"json-plugin/stale-mount","severity":"info","summary":"stale NFS mount /mnt/data","fix":{"summary":"Unmount it","commands":["umount -l /mnt/data"]}}]}'"#,
    );
    write_script(&plugins.join("hang.sh"), "sleep 60\necho never");
    write_script(
        &plugins.join("flood.sh"),
        "head -c 10485760 /dev/zero | tr '\\0' 'x'\necho\nexit 1",
    );
    write_script(
        &plugins.join("unknown.sh"),
        "echo 'cannot reach the metadata agent'\nexit 2",
    );
}

#[test]
fn npd_and_json_plugins_on_live_root() {
    let temp = tempfile::tempdir().unwrap();
    write_plugins(&temp.path().join("checks.d"));
    let (status, report, stderr) =
        run_live(temp.path(), PLUGIN_CHECKS, &["disk-plugin", "json-plugin"]);
    assert_eq!(status, 1, "{stderr}");
    let disk = finding(&report, "disk-plugin/nearly-full");
    let root = temp.path().join("root");
    assert_eq!(
        disk["summary"],
        format!("disk check: root {} above 90%", root.display())
    );
    assert_eq!(disk["severity"], "critical");
    let json = finding(&report, "json-plugin/stale-mount");
    assert_eq!(json["severity"], "info");
    assert_eq!(json["check"], "json-plugin");
    assert_eq!(json["fix"]["commands"][0], "umount -l /mnt/data");
    assert!(stderr.contains("plugin started"), "{stderr}");
    assert!(stderr.contains("plugin debug output"), "{stderr}");
    assert!(stderr.contains("plugin exited"), "{stderr}");
}

#[test]
fn hanging_plugin_is_killed_at_timeout() {
    let temp = tempfile::tempdir().unwrap();
    write_plugins(&temp.path().join("checks.d"));
    let started = Instant::now();
    let (status, report, stderr) = run_live(temp.path(), PLUGIN_CHECKS, &["hang-plugin"]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(status, 0);
    let hang = check(&report, "hang-plugin");
    assert_eq!(hang["status"], "error");
    assert!(
        hang["reason"]
            .as_str()
            .unwrap()
            .contains("timed out after 1s"),
        "{}",
        hang["reason"]
    );
    assert!(stderr.contains("timed out"), "{stderr}");
}

#[test]
fn flooding_plugin_output_is_capped() {
    let temp = tempfile::tempdir().unwrap();
    write_plugins(&temp.path().join("checks.d"));
    let (_, report, _) = run_live(temp.path(), PLUGIN_CHECKS, &["flood-plugin"]);
    let flood = check(&report, "flood-plugin");
    assert_eq!(flood["status"], "error");
    assert!(
        flood["reason"]
            .as_str()
            .unwrap()
            .contains("over 1048576 bytes"),
        "{}",
        flood["reason"]
    );
    let message = finding(&report, "flood-plugin/problem")["summary"]
        .as_str()
        .unwrap()
        .len();
    assert!(message <= 1024, "message of {message} bytes");
}

#[test]
fn unknown_plugin_result_is_error() {
    let temp = tempfile::tempdir().unwrap();
    write_plugins(&temp.path().join("checks.d"));
    let (_, report, _) = run_live(temp.path(), PLUGIN_CHECKS, &["unknown-plugin"]);
    let unknown = check(&report, "unknown-plugin");
    assert_eq!(unknown["status"], "error");
    assert!(
        unknown["reason"]
            .as_str()
            .unwrap()
            .contains("cannot reach the metadata agent")
    );
}

fn validate(dir: &Path) -> (i32, String) {
    let output = node_doctor()
        .args(["checks", "validate"])
        .arg(dir)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn validate_invalid_yaml_names_line_and_column() {
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("broken.yaml");
    write(&file, "checks:\n  - id: broken\n    title: [unclosed\n");
    let (status, out) = validate(temp.path());
    assert_eq!(status, 1);
    assert!(out.contains(&format!("{}:3:12: ", file.display())), "{out}");
}

#[test]
fn validate_unknown_kind_and_bad_regex() {
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("bad.yaml");
    write(
        &file,
        "checks:\n  - id: bad\n    title: t\n    rules:\n      - kind: registry\n        path: /x\n      - kind: log\n        journal: kubelet\n        pattern: 'foo(('\n        finding: {code: bad/x, summary: s}\n",
    );
    let (status, out) = validate(temp.path());
    assert_eq!(status, 1);
    let shown = file.display();
    assert!(
        out.contains(&format!("{shown}:5:15: unknown rule kind \"registry\"; expected one of file, sysctl, module, certificate, systemd, log, command")),
        "{out}"
    );
    assert!(
        out.contains(&format!("{shown}:9:18: invalid regular expression")),
        "{out}"
    );
    assert!(out.contains("unclosed group"), "{out}");
}

#[test]
fn validate_rejects_taken_ids_and_codes() {
    let temp = tempfile::tempdir().unwrap();
    let rule = "    rules:\n      - kind: module\n        module: overlay\n        finding: {code: CODE, summary: s}\n";
    write(
        &temp.path().join("a.yaml"),
        &format!(
            "checks:\n  - id: kubelet-client-cert\n    title: t\n{}",
            rule.replace("CODE", "kubelet-client-cert/expired")
        ),
    );
    write(
        &temp.path().join("b.yaml"),
        &format!(
            "checks:\n  - id: twice\n    title: t\n{}",
            rule.replace("CODE", "twice/x")
        ),
    );
    write(
        &temp.path().join("c.yaml"),
        &format!(
            "checks:\n  - id: twice\n    title: t\n{}",
            rule.replace("CODE", "twice/x")
        ),
    );
    write(
        &temp.path().join("d.yaml"),
        &format!(
            "checks:\n  - id: Bad_Id\n    title: t\n{}",
            rule.replace("CODE", "other/Problem")
        ),
    );
    let (status, out) = validate(temp.path());
    assert_eq!(status, 1);
    assert!(
        out.contains("a.yaml:2:9: check id \"kubelet-client-cert\" is a built-in check's"),
        "{out}"
    );
    assert!(
        out.contains(
            "a.yaml:7:25: code \"kubelet-client-cert/expired\" is in the built-in catalog"
        ),
        "{out}"
    );
    assert!(
        out.contains("c.yaml:2:9: check id \"twice\" is also defined at"),
        "{out}"
    );
    assert!(
        out.contains("c.yaml:7:25: code \"twice/x\" is also declared at"),
        "{out}"
    );
    assert!(
        out.contains("d.yaml:2:9: invalid check id \"Bad_Id\""),
        "{out}"
    );
}

#[test]
fn invalid_checks_file_stops_run() {
    let temp = tempfile::tempdir().unwrap();
    write(
        &temp.path().join("bad.yaml"),
        "checks:\n  - id: x\n    title: [\n",
    );
    let output = node_doctor()
        .args(["check", "--snapshot"])
        .arg(support::kubeadm_real())
        .arg("--checks-dir")
        .arg(temp.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.yaml:3:"), "{stderr}");
}

#[test]
fn shipped_checks_are_valid_and_run() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("checks");
    let (status, out) = validate(&shipped);
    assert_eq!(status, 0, "{out}");
    let (_, report, stderr) = run_json(&[
        "check",
        "--snapshot",
        support::kubeadm_real().to_str().unwrap(),
        "--checks-dir",
        shipped.to_str().unwrap(),
        "--only",
        "kubelet-files",
    ]);
    let status = check(&report, "kubelet-files")["status"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        status == "passed" || status == "failed",
        "{status}: {stderr}"
    );
}

#[test]
fn later_folder_replaces_same_file_name() {
    let temp = tempfile::tempdir().unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("checks/kubelet-files.yaml");
    let text = fs::read_to_string(&shipped).unwrap();
    for folder in ["first", "second"] {
        write(&temp.path().join(folder).join("kubelet-files.yaml"), &text);
    }
    let first = temp.path().join("first");
    let second = temp.path().join("second");
    let (status, report, stderr) = run_json(&[
        "check",
        "--only",
        "kubelet-files",
        "--checks-dir",
        first.to_str().unwrap(),
        "--checks-dir",
        second.to_str().unwrap(),
        "--root",
        temp.path().to_str().unwrap(),
    ]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(check(&report, "kubelet-files")["status"], "passed");
}
