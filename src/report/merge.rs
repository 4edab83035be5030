//! Folding log-signature findings into the findings of the checks they point at.
//!
//! A log line such as "part of the existing bootstrap client certificate ... is expired" maps to
//! `kubelet-client-cert/expired`. When kubelet-client-cert found the same problem from the
//! files, printing both would show one problem twice, with two fixes. The file check's fix has
//! more facts (which rotated certificate is still valid), so it is kept and the log lines join its
//! evidence. A signature whose check did not report the code stays a finding of its own.

use crate::check::{CheckResult, CheckStatus, Code};

/// The id of the check whose findings may repeat other checks' codes.
const LOG_SIGNATURES: &str = "log-signatures";

/// Moves each log-signatures finding whose code another check also reported into that
/// check's finding, as extra evidence.
pub fn merge_log_signature_duplicates(results: &mut [CheckResult]) {
    let Some(log_index) = results.iter().position(|r| r.id == LOG_SIGNATURES) else {
        return;
    };
    let log_findings = std::mem::take(&mut results[log_index].findings);

    let mut unmatched = Vec::new();
    for finding in log_findings {
        match primary_finding_index(results, log_index, finding.code) {
            Some((result, index)) => {
                let primary = &mut results[result].findings[index];
                for evidence in finding.evidence {
                    if !primary.evidence.contains(&evidence) {
                        primary.evidence.push(evidence);
                    }
                }
                tracing::debug!(code = %finding.code, "log signature merged into the file check's finding");
            }
            None => unmatched.push(finding),
        }
    }

    let log_result = &mut results[log_index];
    if unmatched.is_empty() && log_result.status == CheckStatus::Failed {
        log_result.status = CheckStatus::Passed;
    }
    log_result.findings = unmatched;
}

fn primary_finding_index(
    results: &[CheckResult],
    skip: usize,
    code: Code,
) -> Option<(usize, usize)> {
    if code.check_id() == LOG_SIGNATURES {
        return None;
    }
    results
        .iter()
        .enumerate()
        .filter(|(index, _)| *index != skip)
        .find_map(|(index, result)| {
            let position = result.findings.iter().position(|f| f.code == code)?;
            Some((index, position))
        })
}
