//! Reports of a run: JSON, text for people, and Prometheus metrics, plus the exit status.

mod json;
mod merge;
mod npd;
mod prometheus;
mod text;

use std::time::Duration;

use jiff::Timestamp;

use crate::check::{CertificateExpiry, CheckResult, CheckStatus, Finding, Severity};
use crate::host::Source;

pub use json::{format_rfc3339, render_json};
pub use merge::merge_log_signature_duplicates;
pub use npd::render_npd;
pub(crate) use prometheus::write_certificate_metrics;
pub use prometheus::{AgentTotals, render_prometheus, render_prometheus_with_totals};
pub use text::{TextStyle, render_text};

/// Everything one run produced.
#[derive(Clone, Debug)]
pub struct Report {
    pub node: String,
    pub source: Source,
    pub now: Timestamp,
    pub duration: Duration,
    pub results: Vec<CheckResult>,
    pub certificates: Vec<CertificateExpiry>,
}

/// Counts per severity and per check status, as the JSON `summary` gives them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub error: usize,
}

impl Report {
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.results
            .iter()
            .flat_map(|result| result.findings.iter())
    }

    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for finding in self.findings() {
            match finding.severity {
                Severity::Critical => summary.critical += 1,
                Severity::Warning => summary.warning += 1,
                Severity::Info => summary.info += 1,
            }
        }
        for result in &self.results {
            match result.status {
                CheckStatus::Passed => summary.passed += 1,
                CheckStatus::Failed => summary.failed += 1,
                CheckStatus::Skipped => summary.skipped += 1,
                CheckStatus::Error => summary.error += 1,
            }
        }
        summary
    }

    /// Returns whether any finding is at or above `fail_on`.
    pub fn has_failure(&self, fail_on: Severity) -> bool {
        self.findings().any(|finding| finding.severity >= fail_on)
    }
}

/// The process exit status, decided here and nowhere else.
///
/// 0: no finding at or above `--fail-on`. 1: at least one. 2: node-doctor itself could not run
/// (bad usage, an unreadable snapshot, an internal error); `main` returns that one. The codes
/// match node-problem-detector's custom plugin protocol: OK, problem, unknown.
pub fn exit_status(report: &Report, fail_on: Severity) -> u8 {
    if report.has_failure(fail_on) {
        EXIT_PROBLEM
    } else {
        EXIT_OK
    }
}

pub const EXIT_OK: u8 = 0;
pub const EXIT_PROBLEM: u8 = 1;
pub const EXIT_UNKNOWN: u8 = 2;
