//! The report contract: the JSON document's keys and types, exit status 0/1/2 with --fail-on,
//! --only/--skip validation, Prometheus text exposition and colour-free text.

mod support;

use std::time::Duration;

use node_doctor::check::{
    CertificateExpiry, CheckResult, CheckStatus, Code, Evidence, Finding, Fix, Severity,
};
use node_doctor::host::Source;
use node_doctor::report::{self, Report, TextStyle};
use serde_json::Value;
use support::{kubeadm_real, node_doctor, parse_prometheus};

const NOW: &str = "2026-12-04T19:31:40Z";

fn finding(code: Code, severity: Severity) -> Finding {
    Finding::new(code, format!("{} summary", code.as_str()))
        .severity(severity)
        .details("A short paragraph.")
        .evidence(
            "/var/lib/kubelet/pki/kubelet-client-current.pem",
            "notAfter",
            "2026-11-30T08:12:00Z",
        )
        .with_evidence([Evidence::new("/etc/kubernetes/kubelet.conf", "user", "x")])
        .fix(
            Fix::new("Renew the certificate")
                .step("Do the first thing.")
                .command("kubeadm certs renew all"),
        )
        .reference("https://kubernetes.io/docs/")
}

fn result(id: &'static str, status: CheckStatus, findings: Vec<Finding>) -> CheckResult {
    let reason =
        matches!(status, CheckStatus::Skipped | CheckStatus::Error).then(|| format!("{id} reason"));
    CheckResult {
        id,
        status,
        duration: Duration::from_millis(2),
        reason,
        findings,
        codes: Code::of_check(id).collect(),
    }
}

/// Builds a report with one critical and one warning finding, a passed, a skipped and an errored check,
/// and a certificate whose subject needs escaping in Prometheus labels.
fn sample_report() -> Report {
    Report {
        node: "worker-1".to_string(),
        source: Source::Snapshot,
        now: NOW.parse().unwrap(),
        duration: Duration::from_millis(7),
        results: vec![
            result(
                "kubelet-client-cert",
                CheckStatus::Failed,
                vec![finding(Code::KubeletClientCertExpired, Severity::Critical)],
            ),
            result(
                "cert-expiry",
                CheckStatus::Failed,
                vec![finding(
                    Code::find("cert-expiry/expiring-soon").unwrap(),
                    Severity::Warning,
                )],
            ),
            result("node-ip", CheckStatus::Passed, Vec::new()),
            result("pki", CheckStatus::Skipped, Vec::new()),
            result("registry-ca", CheckStatus::Error, Vec::new()),
        ],
        certificates: vec![CertificateExpiry {
            path: "/etc/kubernetes/pki/ca.crt".to_string(),
            subject: "CN=\"odd\\name\"\nO=x".to_string(),
            not_after: "2036-12-02T19:31:38Z".parse().unwrap(),
        }],
    }
}

fn empty_report() -> Report {
    Report {
        results: vec![result("node-ip", CheckStatus::Passed, Vec::new())],
        ..sample_report()
    }
}

fn object_keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

fn sorted<'a>(keys: &[&'a str]) -> Vec<&'a str> {
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    keys
}

/// Checks a parsed report document against the contract, whatever checks ran.
fn assert_report_shape(document: &Value) {
    assert_eq!(
        object_keys(document),
        sorted(&[
            "apiVersion",
            "kind",
            "node",
            "source",
            "now",
            "durationMs",
            "summary",
            "checks",
            "findings"
        ])
    );
    assert_eq!(document["apiVersion"], "node-doctor/v1");
    assert_eq!(document["kind"], "Report");
    assert!(document["node"].is_string());
    assert!(
        ["live", "snapshot"].contains(&document["source"].as_str().unwrap()),
        "source {}",
        document["source"]
    );
    let now = document["now"].as_str().expect("now is a string");
    now.parse::<jiff::Timestamp>()
        .unwrap_or_else(|error| panic!("now {now:?} is not RFC 3339: {error}"));
    assert!(document["durationMs"].is_u64());

    let summary = &document["summary"];
    assert_eq!(
        object_keys(summary),
        sorted(&["critical", "warning", "info", "passed", "skipped", "error"])
    );
    for key in ["critical", "warning", "info", "passed", "skipped", "error"] {
        assert!(summary[key].is_u64(), "summary.{key} is {}", summary[key]);
    }

    let checks = document["checks"].as_array().expect("checks is an array");
    for check in checks {
        assert_eq!(
            object_keys(check),
            sorted(&["id", "status", "durationMs", "reason"])
        );
        assert!(check["id"].is_string());
        assert!(check["durationMs"].is_u64());
        let status = check["status"].as_str().expect("status is a string");
        assert!(
            ["passed", "failed", "skipped", "error"].contains(&status),
            "status {status}"
        );
        if matches!(status, "skipped" | "error") {
            assert!(check["reason"].is_string(), "{status} needs a reason");
        } else {
            assert!(check["reason"].is_null(), "{check}");
        }
    }

    let findings = document["findings"]
        .as_array()
        .expect("findings is an array");
    for finding in findings {
        assert_eq!(
            object_keys(finding),
            sorted(&[
                "code",
                "check",
                "severity",
                "summary",
                "details",
                "evidence",
                "fix",
                "references"
            ])
        );
        let code = finding["code"].as_str().unwrap();
        let check = finding["check"].as_str().unwrap();
        assert!(code.starts_with(&format!("{check}/")), "{code} vs {check}");
        assert!(
            ["critical", "warning", "info"].contains(&finding["severity"].as_str().unwrap()),
            "{finding}"
        );
        assert!(finding["summary"].is_string());
        assert!(finding["details"].is_string());
        for evidence in finding["evidence"].as_array().unwrap() {
            assert_eq!(object_keys(evidence), sorted(&["source", "field", "value"]));
            for key in ["source", "field", "value"] {
                assert!(evidence[key].is_string());
            }
        }
        let fix = &finding["fix"];
        assert_eq!(object_keys(fix), sorted(&["summary", "steps", "commands"]));
        assert!(fix["summary"].is_string());
        assert!(
            fix["steps"]
                .as_array()
                .unwrap()
                .iter()
                .all(Value::is_string)
        );
        assert!(
            fix["commands"]
                .as_array()
                .unwrap()
                .iter()
                .all(Value::is_string)
        );
        assert!(
            finding["references"]
                .as_array()
                .unwrap()
                .iter()
                .all(Value::is_string)
        );
    }

    // The summary counts what the arrays hold.
    for severity in ["critical", "warning", "info"] {
        let count = findings
            .iter()
            .filter(|f| f["severity"] == severity)
            .count() as u64;
        assert_eq!(
            summary[severity].as_u64(),
            Some(count),
            "summary.{severity}"
        );
    }
    for status in ["passed", "skipped", "error"] {
        let count = checks.iter().filter(|c| c["status"] == status).count() as u64;
        assert_eq!(summary[status].as_u64(), Some(count), "summary.{status}");
    }
}

#[test]
fn json_on_kubeadm_real_has_contract_shape() {
    let output = node_doctor()
        .args(["check", "-o", "json", "--snapshot"])
        .arg(kubeadm_real())
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let document: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|error| panic!("stdout is not JSON ({error}): {stdout}"));

    assert_report_shape(&document);
    assert_eq!(document["node"], "node-1");
    assert_eq!(document["source"], "snapshot");
    assert_eq!(document["now"], NOW, "now defaults to capturedAt");
    assert!(matches!(output.status.code(), Some(0 | 1)));
}

#[test]
fn json_now_option_is_used() {
    let output = node_doctor()
        .args([
            "check",
            "-o",
            "json",
            "--now",
            "2027-01-02T03:04:05Z",
            "--snapshot",
        ])
        .arg(kubeadm_real())
        .output()
        .unwrap();
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();

    assert_eq!(document["now"], "2027-01-02T03:04:05Z");
}

#[test]
fn json_render_has_contract_shape() {
    let text = report::render_json(&sample_report());
    let document: Value = serde_json::from_str(&text).unwrap();

    assert_report_shape(&document);
    assert_eq!(document["summary"]["critical"], 1);
    assert_eq!(document["summary"]["warning"], 1);
    assert_eq!(document["summary"]["passed"], 1);
    assert_eq!(document["summary"]["skipped"], 1);
    assert_eq!(document["summary"]["error"], 1);
    assert_eq!(document["durationMs"], 7);
    assert_eq!(
        document["findings"][0]["code"],
        "kubelet-client-cert/expired"
    );
    assert_eq!(document["checks"][3]["reason"], "pki reason");
    assert!(text.ends_with('\n'));
}

#[test]
fn exit_status_follows_fail_on() {
    let report = sample_report();
    assert_eq!(report::exit_status(&report, Severity::Critical), 1);
    assert_eq!(report::exit_status(&report, Severity::Warning), 1);
    assert_eq!(report::exit_status(&report, Severity::Info), 1);

    let warning_only = Report {
        results: vec![report.results[1].clone()],
        ..sample_report()
    };
    assert_eq!(report::exit_status(&warning_only, Severity::Critical), 0);
    assert_eq!(report::exit_status(&warning_only, Severity::Warning), 1);
    assert_eq!(report::exit_status(&warning_only, Severity::Info), 1);

    // Skipped and errored checks do not fail a run: only findings do.
    let unfinished = Report {
        results: vec![report.results[3].clone(), report.results[4].clone()],
        ..sample_report()
    };
    assert_eq!(report::exit_status(&unfinished, Severity::Info), 0);
    assert_eq!(report::exit_status(&empty_report(), Severity::Info), 0);
}

/// The binary's exit status agrees with the findings its JSON reports, for every --fail-on.
#[test]
fn binary_exit_status_matches_findings() {
    for now in [NOW, "2045-01-01T00:00:00Z"] {
        for (fail_on, counted) in [
            ("critical", &["critical"][..]),
            ("warning", &["critical", "warning"][..]),
            ("info", &["critical", "warning", "info"][..]),
        ] {
            let output = node_doctor()
                .args(["check", "-o", "json", "--fail-on", fail_on, "--now", now])
                .arg("--snapshot")
                .arg(kubeadm_real())
                .output()
                .unwrap();
            let document: Value = serde_json::from_slice(&output.stdout).unwrap();
            let at_or_above: u64 = counted
                .iter()
                .map(|key| document["summary"][*key].as_u64().unwrap())
                .sum();
            let expected = if at_or_above > 0 { 1 } else { 0 };

            assert_eq!(
                output.status.code(),
                Some(expected),
                "--fail-on {fail_on} --now {now}: summary {}",
                document["summary"]
            );
        }
    }
}

#[test]
fn usage_errors_exit_2() {
    let cases: [&[&str]; 5] = [
        &["check", "--fail-on", "sometimes"],
        &["check", "--output", "yaml"],
        &["check", "--now", "yesterday"],
        &["check", "--expiry-warning", "soon"],
        &["no-such-command"],
    ];
    for args in cases {
        let output = node_doctor().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);

        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.is_empty(), "{args:?} explains the error");
    }
}

#[test]
fn root_not_a_directory_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = support::write_file(dir.path(), "file", "x");

    let output = node_doctor().arg("--root").arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a directory"), "{stderr}");
}

#[test]
fn unknown_check_id_exits_2() {
    let known: Vec<&str> = node_doctor::checks::builtin()
        .iter()
        .map(|check| check.id())
        .collect();

    for flag in ["--only", "--skip"] {
        let output = node_doctor()
            .args(["check", flag, "no-such-check", "--snapshot"])
            .arg(kubeadm_real())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);

        assert_eq!(output.status.code(), Some(2), "{flag}: {stderr}");
        assert!(stderr.contains("no-such-check"), "{flag}: {stderr}");
        assert!(stderr.contains("known checks"), "{flag}: {stderr}");
        for id in &known {
            assert!(stderr.contains(id), "{flag}: {id} not named in {stderr}");
        }
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn known_check_ids_are_accepted() {
    for check in node_doctor::checks::builtin() {
        let output = node_doctor()
            .args(["check", "-o", "json", "--only", check.id(), "--snapshot"])
            .arg(kubeadm_real())
            .output()
            .unwrap();
        let document: Value = serde_json::from_slice(&output.stdout).unwrap();
        let ran: Vec<&str> = document["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();

        assert_eq!(ran, [check.id()]);
    }
}

#[test]
fn prometheus_binary_output_parses() {
    let output = node_doctor()
        .args(["check", "-o", "prometheus", "--snapshot"])
        .arg(kubeadm_real())
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let samples = parse_prometheus(&text);

    let names: Vec<&str> = samples.iter().map(|s| s.name.as_str()).collect();
    assert!(
        names.contains(&"node_doctor_run_duration_seconds"),
        "{text}"
    );
    let last_run = samples
        .iter()
        .find(|s| s.name == "node_doctor_last_run_timestamp_seconds")
        .expect("last run timestamp");
    let now: jiff::Timestamp = NOW.parse().unwrap();
    assert_eq!(last_run.value, now.as_second() as f64);
    for sample in &samples {
        assert!(
            sample.name.starts_with("node_doctor_"),
            "{} is outside the node_doctor_ namespace",
            sample.name
        );
    }
}

#[test]
fn prometheus_render_parses() {
    let text = report::render_prometheus(&sample_report());
    let samples = parse_prometheus(&text);

    let finding = |code: &str| {
        samples
            .iter()
            .find(|s| s.name == "node_doctor_finding" && s.labels["code"] == code)
            .unwrap_or_else(|| panic!("no node_doctor_finding for {code}:\n{text}"))
    };
    let expired = finding("kubelet-client-cert/expired");
    assert_eq!(expired.value, 1.0);
    assert_eq!(expired.labels["severity"], "critical");
    assert_eq!(expired.labels["check"], "kubelet-client-cert");
    assert_eq!(finding("kubelet-client-cert/key-mismatch").value, 0.0);
    assert_eq!(finding("cert-expiry/expiring-soon").value, 1.0);
    assert_eq!(
        finding("cert-expiry/expiring-soon").labels["severity"],
        "warning"
    );
    assert_eq!(finding("cert-expiry/expired").value, 0.0);
    assert_eq!(
        finding("cert-expiry/expired").labels["severity"],
        "critical"
    );
    assert!(
        !samples
            .iter()
            .any(|s| s.name == "node_doctor_finding" && s.labels["check"] == "pki"),
        "a skipped check has no finding series"
    );

    let statuses: Vec<_> = samples
        .iter()
        .filter(|s| s.name == "node_doctor_check_status" && s.labels["check"] == "pki")
        .collect();
    assert_eq!(statuses.len(), 4, "one series per status");
    for sample in statuses {
        let expected = if sample.labels["status"] == "skipped" {
            1.0
        } else {
            0.0
        };
        assert_eq!(sample.value, expected, "{sample:?}");
    }

    let errors = samples
        .iter()
        .find(|s| s.name == "node_doctor_check_errors_total" && s.labels["check"] == "registry-ca")
        .unwrap();
    assert_eq!(errors.value, 1.0);

    let certificate = samples
        .iter()
        .find(|s| s.name == "node_doctor_certificate_expiry_timestamp_seconds")
        .unwrap();
    assert_eq!(certificate.labels["subject"], "CN=\"odd\\name\"\nO=x");
    assert_eq!(certificate.labels["path"], "/etc/kubernetes/pki/ca.crt");
    let not_after: jiff::Timestamp = "2036-12-02T19:31:38Z".parse().unwrap();
    assert_eq!(certificate.value, not_after.as_second() as f64);

    let duration = samples
        .iter()
        .find(|s| s.name == "node_doctor_run_duration_seconds")
        .unwrap();
    assert_eq!(duration.value, 0.007);
}

#[test]
fn text_plain_has_no_escapes() {
    let report = sample_report();
    let plain = report::render_text(&report, TextStyle::Plain);
    let colored = report::render_text(&report, TextStyle::Color);

    assert!(!plain.contains('\x1b'), "{plain}");
    assert!(colored.contains('\x1b'), "sanity: colour mode uses escapes");
    assert!(
        plain.contains("CRITICAL kubelet-client-cert/expired"),
        "{plain}"
    );
    assert!(plain.contains("$ kubeadm certs renew all"), "{plain}");
    assert!(plain.contains("skipped pki: pki reason"), "{plain}");
    assert!(
        plain.contains("ERROR registry-ca: registry-ca reason"),
        "{plain}"
    );
    assert_eq!(
        report::render_text(&report, TextStyle::detect(false)),
        plain
    );
}

#[test]
fn text_binary_has_no_escapes() {
    for no_color in [None, Some("1")] {
        let mut command = node_doctor();
        command.args(["check", "--snapshot"]).arg(kubeadm_real());
        if let Some(value) = no_color {
            command.env("NO_COLOR", value);
        }
        let output = command.output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);

        assert!(!stdout.is_empty());
        assert!(
            !stdout.contains('\x1b'),
            "NO_COLOR={no_color:?}: {stdout:?}"
        );
        assert!(stdout.contains("node-1"), "{stdout}");
    }
}

/// Runs the binary on a pseudo-terminal with `script(1)`, when it is installed, so stdout is a
/// terminal and only NO_COLOR keeps colour off.
#[test]
fn text_on_terminal_honours_no_color() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: script(1) from util-linux is not installed");
        return;
    }
    let binary = assert_cmd::cargo::cargo_bin("node-doctor");
    let command_line = format!(
        "{} check --snapshot {}",
        binary.display(),
        kubeadm_real().display()
    );
    let output = std::process::Command::new("script")
        .args([
            "--quiet",
            "--return",
            "--command",
            &command_line,
            "/dev/null",
        ])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);

    assert!(stdout.contains("node-1"), "{stdout}");
    assert!(!stdout.contains('\x1b'), "{stdout:?}");
}

#[test]
fn text_escapes_control_characters() {
    let injected = "\x1b]0;retitled\x07\x1b[2J\x1b[8mhidden";
    let finding = Finding::new(
        Code::KubeletClientCertExpired,
        format!("summary {injected}"),
    )
    .details(format!("details {injected}"))
    .evidence(
        format!("/etc/{injected}"),
        "notAfter",
        format!("value {injected}"),
    )
    .fix(
        Fix::new(format!("fix {injected}"))
            .step(format!("step {injected}"))
            .command(format!("command {injected}")),
    )
    .reference(format!("https://example.test/{injected}"));
    let report = Report {
        node: format!("node-{injected}"),
        source: Source::Snapshot,
        now: NOW.parse().unwrap(),
        duration: Duration::from_millis(1),
        results: vec![
            CheckResult {
                id: "kubelet-client-cert",
                status: CheckStatus::Failed,
                duration: Duration::from_millis(1),
                reason: None,
                findings: vec![finding],
                codes: Code::of_check("kubelet-client-cert").collect(),
            },
            CheckResult {
                id: "cert-expiry",
                status: CheckStatus::Error,
                duration: Duration::from_millis(1),
                reason: Some(format!("reason {injected}")),
                findings: Vec::new(),
                codes: Code::of_check("cert-expiry").collect(),
            },
        ],
        certificates: Vec::new(),
    };

    for style in [TextStyle::Plain, TextStyle::Color] {
        let text = report::render_text(&report, style);

        assert!(!text.contains('\x07'), "{style:?}: BEL reached the output");
        assert!(
            !text.contains("\x1b]") && !text.contains("\x1b[2J") && !text.contains("\x1b[8m"),
            "{style:?}: an escape sequence from the report data reached the output: {text:?}"
        );
        assert_eq!(
            text.matches("\\u{1b}]0;retitled\\u{7}").count(),
            10,
            "{style:?}: not every field shows the escaped sequence: {text}"
        );
    }
}
