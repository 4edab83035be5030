use serde::Serialize;

use super::Report;
use crate::check::{CheckStatus, Finding};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonReport<'a> {
    api_version: &'static str,
    kind: &'static str,
    node: &'a str,
    source: &'static str,
    now: String,
    duration_ms: u128,
    summary: JsonSummary,
    checks: Vec<JsonCheck<'a>>,
    findings: Vec<&'a Finding>,
}

#[derive(Serialize)]
struct JsonSummary {
    critical: usize,
    warning: usize,
    info: usize,
    passed: usize,
    skipped: usize,
    error: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonCheck<'a> {
    id: &'a str,
    status: CheckStatus,
    duration_ms: u128,
    reason: Option<&'a str>,
}

/// Renders the `node-doctor/v1` Report document.
pub fn render_json(report: &Report) -> String {
    let summary = report.summary();
    let document = JsonReport {
        api_version: "node-doctor/v1",
        kind: "Report",
        node: &report.node,
        source: report.source.as_str(),
        now: format_rfc3339(report.now),
        duration_ms: report.duration.as_millis(),
        summary: JsonSummary {
            critical: summary.critical,
            warning: summary.warning,
            info: summary.info,
            passed: summary.passed,
            skipped: summary.skipped,
            error: summary.error,
        },
        checks: report
            .results
            .iter()
            .map(|result| JsonCheck {
                id: result.id,
                status: result.status,
                duration_ms: result.duration.as_millis(),
                reason: result.reason.as_deref(),
            })
            .collect(),
        findings: report.findings().collect(),
    };
    let mut text = serde_json::to_string_pretty(&document).expect("report serializes");
    text.push('\n');
    text
}

/// Formats a time as RFC 3339 in UTC with whole seconds, such as `2026-12-04T10:00:00Z`.
pub fn format_rfc3339(time: jiff::Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}
