//! Prometheus text exposition (format 0.0.4) of a run.
//!
//! `node_doctor_finding` has a series for every code of every check that ran: 1 while the
//! problem is present and 0 otherwise, so an alert resolves when the problem goes away instead of
//! keeping a stale 1.

use std::fmt::Write as _;

use super::Report;
use crate::check::{CertificateExpiry, CheckStatus};

/// Renders one run. `node_doctor_check_errors_total` is 1 or 0 per check, for this run only.
pub fn render_prometheus(report: &Report) -> String {
    render_prometheus_with_totals(report, None)
}

/// Counters the long-running agent keeps across runs.
#[derive(Clone, Debug, Default)]
pub struct AgentTotals {
    /// Runs completed since the agent started.
    pub runs: u64,
    /// Runs in which each check ended with status `error`, since the agent started.
    pub check_errors: std::collections::BTreeMap<&'static str, u64>,
}

/// Renders one run with the agent's counters: `node_doctor_check_errors_total` counts errors
/// since the agent started, and `node_doctor_agent_runs_total` is added.
pub fn render_prometheus_with_totals(report: &Report, totals: Option<&AgentTotals>) -> String {
    let mut out = String::new();
    write_findings(&mut out, report);
    write_check_status(&mut out, report);
    write_certificate_metrics(&mut out, &report.certificates);

    header(
        &mut out,
        "node_doctor_run_duration_seconds",
        "gauge",
        "Wall time of the last run of all checks.",
    );
    let _ = writeln!(
        out,
        "node_doctor_run_duration_seconds {}",
        report.duration.as_secs_f64()
    );

    header(
        &mut out,
        "node_doctor_last_run_timestamp_seconds",
        "gauge",
        "Time of the last run, in seconds since the Unix epoch.",
    );
    let _ = writeln!(
        out,
        "node_doctor_last_run_timestamp_seconds {}",
        report.now.as_second()
    );

    header(
        &mut out,
        "node_doctor_check_errors_total",
        "counter",
        "Runs in which a check could not decide (status error).",
    );
    for result in &report.results {
        let this_run = u64::from(result.status == CheckStatus::Error);
        let errors = totals
            .and_then(|totals| totals.check_errors.get(result.id).copied())
            .unwrap_or(this_run);
        let _ = writeln!(
            out,
            "node_doctor_check_errors_total{{check=\"{}\"}} {errors}",
            escape(result.id)
        );
    }

    if let Some(totals) = totals {
        header(
            &mut out,
            "node_doctor_agent_runs_total",
            "counter",
            "Runs of all checks the agent completed since it started.",
        );
        let _ = writeln!(out, "node_doctor_agent_runs_total {}", totals.runs);
    }
    out
}

fn write_findings(out: &mut String, report: &Report) {
    header(
        out,
        "node_doctor_finding",
        "gauge",
        "1 while a finding with this code is present, 0 for the other codes of each check that ran.",
    );
    for result in &report.results {
        if !matches!(result.status, CheckStatus::Passed | CheckStatus::Failed) {
            continue;
        }
        for &code in &result.codes {
            let active = result
                .findings
                .iter()
                .filter(|f| f.code == code)
                .map(|f| f.severity)
                .max();
            let (severity, value) = match active {
                Some(severity) => (severity, 1),
                None => (code.default_severity(), 0),
            };
            let _ = writeln!(
                out,
                "node_doctor_finding{{check=\"{}\",code=\"{}\",severity=\"{}\"}} {value}",
                escape(result.id),
                escape(code.as_str()),
                severity
            );
        }
    }
}

fn write_check_status(out: &mut String, report: &Report) {
    header(
        out,
        "node_doctor_check_status",
        "gauge",
        "1 for the status each check ended with, 0 for the other statuses.",
    );
    for result in &report.results {
        for status in CheckStatus::ALL {
            let value = u8::from(result.status == status);
            let _ = writeln!(
                out,
                "node_doctor_check_status{{check=\"{}\",status=\"{}\"}} {value}",
                escape(result.id),
                status.as_str()
            );
        }
    }
}

/// Writes `node_doctor_certificate_expiry_timestamp_seconds` with its HELP and TYPE lines.
pub(crate) fn write_certificate_metrics(out: &mut String, certificates: &[CertificateExpiry]) {
    header(
        out,
        "node_doctor_certificate_expiry_timestamp_seconds",
        "gauge",
        "NotAfter of each certificate the checks read, in seconds since the Unix epoch.",
    );
    for certificate in certificates {
        let _ = writeln!(
            out,
            "node_doctor_certificate_expiry_timestamp_seconds{{path=\"{}\",subject=\"{}\"}} {}",
            escape(&certificate.path),
            escape(&certificate.subject),
            certificate.not_after.as_second()
        );
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Escapes a label value: backslash, double quote and newline.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
