//! Finding changes between two runs: codes that appeared, changed severity or cleared.
//!
//! A finding is keyed by its code, so two certificates expiring at once are one active code.
//! The codes of a check that was skipped or ended with status `error` are unknown for that
//! run: they keep their previous state instead of being reported as cleared.

use std::collections::BTreeMap;

use crate::check::{CheckStatus, Code, Severity};
use crate::report::Report;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Appeared,
    SeverityChanged { from: Severity },
    Cleared,
}

/// One change of one code between the previous run and this one.
#[derive(Clone, Debug)]
pub struct Transition {
    pub code: Code,
    pub check: &'static str,
    pub severity: Severity,
    /// The summary of the first finding with this code, or empty when it cleared.
    pub summary: String,
    pub change: Change,
}

/// The active codes of the previous run.
#[derive(Debug, Default)]
pub struct FindingTracker {
    active: BTreeMap<Code, Severity>,
}

impl FindingTracker {
    /// Compares `report` with the previous run and remembers it for the next call.
    pub fn update(&mut self, report: &Report) -> Vec<Transition> {
        let mut transitions = Vec::new();
        for result in &report.results {
            if !matches!(result.status, CheckStatus::Passed | CheckStatus::Failed) {
                continue;
            }
            let mut now_active: BTreeMap<Code, (Severity, &str)> = BTreeMap::new();
            for finding in &result.findings {
                let entry = now_active
                    .entry(finding.code)
                    .or_insert((finding.severity, finding.summary.as_str()));
                entry.0 = entry.0.max(finding.severity);
            }

            for (code, (severity, summary)) in &now_active {
                let change = match self.active.insert(*code, *severity) {
                    None => Change::Appeared,
                    Some(previous) if previous != *severity => {
                        Change::SeverityChanged { from: previous }
                    }
                    Some(_) => continue,
                };
                transitions.push(Transition {
                    code: *code,
                    check: result.id,
                    severity: *severity,
                    summary: summary.to_string(),
                    change,
                });
            }

            let cleared: Vec<Code> = self
                .active
                .keys()
                .filter(|code| code.check_id() == result.id && !now_active.contains_key(code))
                .copied()
                .collect();
            for code in cleared {
                let severity = self.active.remove(&code).unwrap_or(code.default_severity());
                transitions.push(Transition {
                    code,
                    check: result.id,
                    severity,
                    summary: String::new(),
                    change: Change::Cleared,
                });
            }
        }
        transitions
    }
}

/// Logs each transition as one structured event, with the fields `event`, `code`, `check`,
/// `severity` and, for an active finding, `summary`.
pub fn log_transitions(transitions: &[Transition]) {
    for transition in transitions {
        let code = transition.code.as_str();
        let check = transition.check;
        let severity = transition.severity.to_string();
        let summary = transition.summary.as_str();
        match &transition.change {
            Change::Appeared => tracing::warn!(
                event = "finding_appeared",
                code,
                check,
                severity,
                summary,
                "finding appeared"
            ),
            Change::SeverityChanged { from } => tracing::warn!(
                event = "finding_severity_changed",
                code,
                check,
                severity,
                previous_severity = %from,
                summary,
                "finding changed severity"
            ),
            Change::Cleared => tracing::info!(
                event = "finding_cleared",
                code,
                check,
                severity,
                "finding cleared"
            ),
        }
    }
}
